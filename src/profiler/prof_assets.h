/* prof_assets.h: the viewer's static files, built into the binary from src/profiler/web/ (the
 * Makefile turns each file into a C array with `xxd -i`), so the viewer needs nothing from
 * outside. */
#ifndef PROF_ASSETS_H
#define PROF_ASSETS_H

#include <stdbool.h>
#include <stddef.h>

typedef struct prof_asset {
    const char *path; /* URL path, e.g. "/" */
    const char *content_type;
    const unsigned char *data;
    size_t len;
} prof_asset;

/* Fills *out with the asset served at `path`; false when there is none. */
bool prof_asset_find(const char *path, prof_asset *out);

#endif
