/* hc_resp_extras.h: what the downstream response carries besides its head and body: interim 1xx
 * responses (103 Early Hints) sent ahead of it, trailer fields after a chunked body, and the
 * Content-Length a HEAD response declares. The server's sink decides what reaches the wire
 * (HTTP/1.0 clients get no 1xx; trailers, and the Trailer field announcing them, need a chunked
 * body and `TE: trailers`). */
#ifndef HC_RESP_EXTRAS_H
#define HC_RESP_EXTRAS_H

#include "hc_ctx_internal.h"

/* True for the 1xx statuses a guest may send as interim responses: 100..199 except 101 (a
 * protocol switch is not an interim response a guest can produce). */
bool hc_interim_status_ok(uint32_t status);

/* Sends `r`'s headers as an interim response with `status` (checked by the caller) before the
 * final response. Errors: error when the final response went out already, or the client is gone.
 * A sink without interim support accepts and drops it (logged at -v 1). */
hc_status hc_send_interim(hc_ctx *ctx, const hc_response *r, uint16_t status);

/* Hands `trailers` (if any) to the sink, to follow the body; framing fields are left out.
 * HC_ERROR only when out of memory or the client is gone. */
hc_status hc_send_trailers(hc_ctx *ctx, const hc_headers *trailers);

/* The value of a Trailer field announcing `trailers`: their names (framing fields left out, each
 * name once, compared without case) joined by ", " in a fresh string; NULL when there is none to
 * announce or out of memory. The caller frees it. */
char *hc_trailer_names(const hc_headers *trailers);

/* True when the current downstream request is a HEAD request. */
bool hc_downstream_is_head(const hc_ctx *ctx);

/* The Content-Length a response to a HEAD request declares: the guest's own valid
 * Content-Length header, else the body's known length when it is not 0, else -1 (none: the
 * length is unknown, e.g. a HEAD answer that never carried one). */
int64_t hc_head_content_length(const hc_response *r, bool have_len, uint64_t known);

#endif
