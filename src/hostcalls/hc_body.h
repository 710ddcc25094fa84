/* hc_body.h: an HTTP body as the hostcalls see it: a growable byte buffer, optionally followed by
 * a streaming source (e.g. the downstream request body, pulled on demand), optionally followed by
 * further bodies appended to it; plus trailers. Reads take from the front. A body does not know
 * about the downstream sink: the context routes writes to a streaming response body itself. */
#ifndef HC_BODY_H
#define HC_BODY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hc_ctx.h" /* hc_read_fn */
#include "hc_headers.h"

/* Appends the trailers a source received after its data (e.g. a backend response's) to `into`;
 * false when out of memory. */
typedef bool (*hc_src_trailers_fn)(void *src, hc_headers *into);

typedef struct hc_body {
    uint8_t *buf; /* bytes buf[start .. start+len) come first */
    size_t start, len, cap;
    hc_read_fn src_read; /* then this source, until it reports the end (NULL: none) */
    void *src;
    int64_t src_remaining;           /* bytes the source still has, -1 when unknown */
    void (*src_free)(void *src);     /* releases an owned source (NULL: not owned) */
    hc_src_trailers_fn src_trailers; /* adds the source's trailers once it reported its end */
    struct hc_body *next;            /* then this body (owned) */
    hc_headers trailers;
    bool trailers_ready; /* set once a read reached the end (as Viceroy) */
} hc_body;

/* A new empty body, or NULL when out of memory. */
hc_body *hc_body_new(void);
void hc_body_free(hc_body *b); /* frees the bodies appended to it too; accepts NULL */

/* Makes `read(src, ...)` the source that follows the buffered bytes; `length` is what it will
 * deliver (-1 unknown). The source is not owned. */
void hc_body_set_source(hc_body *b, hc_read_fn read, void *src, int64_t length);

/* Like hc_body_set_source, but the body owns `src`: `free_fn(src)` runs once the source reported
 * its end, or when the body is freed (e.g. a backend response body). */
void hc_body_set_owned_source(hc_body *b, hc_read_fn read, void *src, int64_t length,
                              void (*free_fn)(void *src));

/* Sets the function that collects the current source's trailers when it reports its end (before an
 * owned source is freed); they join the body's trailers. */
void hc_body_set_source_trailers(hc_body *b, hc_src_trailers_fn fn);

/* True when some part of the body still reads from a source (reads may block). */
bool hc_body_has_source(const hc_body *b);

/* Adds bytes at the end / at the front. Return false when out of memory. */
bool hc_body_push_back(hc_body *b, const uint8_t *data, size_t len);
bool hc_body_push_front(hc_body *b, const uint8_t *data, size_t len);

/* Reads up to `len` bytes from the front: blocks on the source until at least one byte, the end
 * (returns 0; trailers become ready) or an error (returns -1). */
long hc_body_read(hc_body *b, uint8_t *out, size_t len);

/* Moves all of `src` (bytes, source, trailers) to the end of `dest`; `src` is consumed. */
void hc_body_append(hc_body *dest, hc_body *src);

/* The total length when every part's length is known. */
bool hc_body_known_length(const hc_body *b, uint64_t *out);

#endif
