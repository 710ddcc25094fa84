/* be_transfer.h: one request to a backend and its response, running on the shared event loop.
 * The request body is written by the caller into a bounded buffer the loop drains (so a guest can
 * keep writing after send_async_streaming); the response head can be awaited, and the response
 * body is read from a bounded buffer the loop fills (the loop pauses the connection while it is
 * full), so bodies of any size pass in bounded memory. Reference counted: the last user reference
 * going away cancels a transfer that is still running. */
#ifndef BE_TRANSFER_H
#define BE_TRANSFER_H

#include "backend/be_backend.h"
#include "backend/be_error.h"
#include "backend/be_signal.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct be_header {
    const char *name;
    size_t name_len;
    const char *value;
    size_t value_len;
} be_header;

typedef struct be_transfer be_transfer;

/* Called once when a transfer ends: `ok` when the whole response arrived, `status` its status (0
 * without a head). Runs on the loop thread, or (ok false) on the thread dropping the last
 * reference to a transfer that never ran. */
typedef void (*be_done_fn)(void *user, be_transfer *t, bool ok, uint16_t status);

typedef struct be_request {
    const char *method;       /* NUL-terminated token */
    const char *url;          /* as the guest set it: absolute ("http://h/p?q") or "/p?q" */
    const be_header *headers; /* guest headers; Host, framing and hop-by-hop ones are redone */
    size_t nheaders;
    bool has_body;        /* the caller writes a body (be_transfer_write/close_body) */
    int64_t body_length;  /* when has_body: its length, or -1 (chunked) */
    bool decompress_gzip; /* auto_decompress_response_set(gzip) */
    uint32_t timeout_ms;  /* limit for the whole exchange; 0 = none (health-check probes) */
    bool discard_body;    /* the response body is dropped as it arrives (nobody reads it) */
    bool verbose;         /* log this transfer's level-2 lines whatever the loop's level
                             (a request with fastlike-verbose) */
    size_t loop_passes;   /* times the downstream request passed through Fastlike (cdn-loop):
                             the request carries at least loop_passes + 1 "Fastlike" tokens */
    be_done_fn on_done;   /* optional */
    void *done_user;
} be_request;

/* Starts `req` to backend `b` (copied what it needs; `name` labels log lines). `sig` (optional)
 * is notified on every state change. Returns the transfer with one user reference, or NULL with
 * *err set (e.g. BE_ERR_HTTP_REQUEST_URI_INVALID, BE_ERR_INTERNAL_ERROR). */
be_transfer *be_transfer_start(be_loop *loop, const be_backend *b, const char *name,
                               const be_request *req, be_signal *sig, be_error *err);
void be_transfer_retain(be_transfer *t);
void be_transfer_release(be_transfer *t); /* accepts NULL */

/* Request body: appends all of data (blocking while the buffer is full). Returns 0, or -1 once
 * the transfer has ended (failed, or the origin answered without reading the rest). */
int be_transfer_write(be_transfer *t, const uint8_t *data, size_t len);
/* Like be_transfer_write, but never blocks: the bytes are buffered beyond the bound (for bodies
 * that are in memory already). */
int be_transfer_give(be_transfer *t, const uint8_t *data, size_t len);
/* Trailers to send after the request body (copied; before be_transfer_close_body). They go out
 * with a chunked body (body_length -1) over HTTP/1.1; libcurl has no way to send them with a
 * Content-Length body or over HTTP/2. Returns false when out of memory. */
bool be_transfer_set_trailers(be_transfer *t, const be_header *h, size_t n);
/* End of the request body (abort: cut it short, the request fails). */
void be_transfer_close_body(be_transfer *t, bool abort);
/* True when a write would not block. */
bool be_transfer_writable(be_transfer *t);

/* Blocks until the response head arrived or the transfer failed: BE_OK or why it failed. */
be_error be_transfer_wait_head(be_transfer *t);
/* True when be_transfer_wait_head would not block. */
bool be_transfer_head_ready(be_transfer *t);

/* The response head (valid once wait_head returned BE_OK). version is the ABI's http_version. */
uint16_t be_transfer_status(const be_transfer *t);
uint32_t be_transfer_version(const be_transfer *t);
size_t be_transfer_nheaders(const be_transfer *t);
be_header be_transfer_header(const be_transfer *t, size_t i);
/* Response body length when known (Content-Length, or 0 for HEAD/204/304), else -1. */
int64_t be_transfer_body_length(const be_transfer *t);
/* Milliseconds from the start to the response head. */
double be_transfer_head_ms(const be_transfer *t);

/* Reads response body bytes (an hc_read_fn): blocks until data, the end (0) or an error (-1). */
long be_transfer_read(void *t, uint8_t *buf, size_t len);
/* True when a read would not block. */
bool be_transfer_readable(be_transfer *t);
/* Trailers received after the body (valid once a read returned 0). */
size_t be_transfer_ntrailers(const be_transfer *t);
be_header be_transfer_trailer(const be_transfer *t, size_t i);

#endif
