/* prof_viewer.h: the profiler's read-only HTTP listener (-profile-ui ADDR): the single-page
 * viewer built into the binary and its JSON API over the recorder (request list, one request's
 * timeline, aggregates, Chrome trace, speedscope and Firefox Profiler exports). It binds loopback
 * addresses only, unless remote access is allowed; then every page and API call needs the token. */
#ifndef PROF_VIEWER_H
#define PROF_VIEWER_H

#include "profiler/prof_recorder.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct prof_viewer_config {
    const char *bind;   /* "host:port", "[v6]:port" or ":port" (empty host: 127.0.0.1) */
    bool allow_remote;  /* -profile-ui-allow-remote */
    const char *token;  /* required token when allow_remote; NULL: generate one */
    prof_recorder *rec; /* must outlive the viewer */
} prof_viewer_config;

typedef struct prof_viewer prof_viewer;

/* Starts listening. NULL with one line in err: a bad address, a non-loopback address without
 * allow_remote, or the port in use. */
prof_viewer *prof_viewer_start(const prof_viewer_config *cfg, char *err, size_t errlen);
void prof_viewer_stop(prof_viewer *v); /* accepts NULL */
uint16_t prof_viewer_port(const prof_viewer *v);
/* The token the viewer requires, or NULL when it requires none (loopback only). */
const char *prof_viewer_token(const prof_viewer *v);

#endif
