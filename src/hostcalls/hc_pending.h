/* hc_pending.h: backend requests as the hostcalls hold them: pending requests (items of kind
 * HC_ITEM_PENDING_REQ, from send_async*), request bodies still being written after
 * send_async_streaming (HC_ITEM_STREAMING_REQ_BODY), the per-request backend state (dynamic
 * backends, the wake-up for select), backend lookup by name, starting a send and turning its
 * outcome into response/body handles (or the synthetic 502), and item readiness for select. */
#ifndef HC_PENDING_H
#define HC_PENDING_H

#include "backend/be_backend.h"
#include "backend/be_transfer.h"
#include "hc_ctx_internal.h"

enum {
    HC_ITEM_PENDING_REQ = HC_ITEM_FIRST_FREE,            /* hc_pending */
    HC_ITEM_STREAMING_REQ_BODY = HC_ITEM_FIRST_FREE + 1, /* hc_stream_req */
};

/* The SDKs' "no handle" value, written to handle out-parameters that carry nothing. */
#define HC_NO_HANDLE 0xFFFFFFFEu

typedef struct hc_pending {
    be_transfer *t;               /* NULL when the outcome is known already */
    be_error fail;                /* with t NULL: BE_OK = the synthetic 502 (@N), else this error */
    bool synthetic_on_error;      /* send_downstream_pending: a failure becomes the synthetic 5XX */
    char *backend;                /* backend name, for logs */
    char *method, *url;           /* for logs */
    uint32_t stream_body;         /* items handle of its streaming request body, 0 when none */
    struct hc_header_edit *edits; /* pending_req_header_*: applied, in order, to the response */
    size_t nedits;
    struct hc_rt *rt; /* the readthrough cache's part (hc_readthrough.h), or NULL */
} hc_pending;

/* pending_response_kind: which response a queued header edit applies to. */
enum { HC_PENDING_ANY = 0, HC_PENDING_RESPONSE = 1, HC_PENDING_ERROR = 2 };
enum { HC_EDIT_INSERT, HC_EDIT_APPEND, HC_EDIT_REMOVE };

/* Queues a header edit (copied) for the response `p` resolves to: an origin response for
 * HC_PENDING_RESPONSE, the synthetic 5XX for HC_PENDING_ERROR, either for HC_PENDING_ANY.
 * An insert or remove drops earlier queued edits of the same name and target. */
hc_status hc_pending_edit(hc_pending *p, int op, const char *name, size_t name_len,
                          const char *value, size_t value_len, uint32_t target);

typedef struct hc_stream_req {
    be_transfer *t;
    uint32_t pending;    /* items handle of the pending request */
    hc_headers trailers; /* trailer_append: sent after the body when it is closed */
} hc_stream_req;

/* The backend `name` resolves to for this request: a dynamic backend, a named one, else the
 * catch-all; NULL when none. *dynamic tells which. */
const be_backend *hc_backend_lookup(hc_ctx *ctx, const char *name, size_t len, bool *dynamic);
/* Registers a dynamic backend (moved: `b` is left empty) and starts its health check when it has
 * one (stopped when the request's context frees its backends). HC_ERROR when the name is taken
 * or the checker cannot start. */
hc_status hc_backend_register(hc_ctx *ctx, be_backend *b);

/* Starts sending request `req_h` with body `body_h` to backend `name`: consumes both handles and
 * returns the pending request (not in the table yet). With `streaming` the body handle stays,
 * turned into a streaming request body the guest keeps writing. On errors before anything was
 * sent (bad handles: badf; unknown backend: inval with *detail = destination_not_found) no handle
 * is consumed. */
/* How many times the current downstream request passed through Fastlike (its cdn-loop entries). */
size_t hc_downstream_passes(const hc_ctx *ctx);

hc_status hc_send_start(hc_ctx *ctx, uint32_t req_h, uint32_t body_h, const char *name,
                        size_t name_len, bool streaming, hc_pending **out, be_error *detail);

/* Waits for the outcome of `p` (consumed) and makes response and body handles. *detail is the
 * send_error_detail to report: BE_OK for a response from the origin. A backend (configured or
 * dynamic) that could not be reached is the error status with *detail naming the cause, as
 * production (so an SDK's fetch rejects); only the `@N` simulation answers with the synthetic 502
 * (status ok, *detail destination_unavailable). */
hc_status hc_pending_finish(hc_ctx *ctx, hc_pending *p, uint32_t *resp, uint32_t *body,
                            be_error *detail);
/* For send_downstream_pending: like hc_pending_finish, but every failure (also a dynamic
 * backend's) becomes the synthetic 5XX, as production does when no response materialises. */
hc_status hc_pending_finish_always(hc_ctx *ctx, hc_pending *p, uint32_t *resp, uint32_t *body);
/* True when hc_pending_finish would not block. */
bool hc_pending_ready(hc_pending *p);
void hc_pending_free(hc_pending *p);

/* Streaming request bodies (send_async_streaming): writes, appends (src consumed), close or
 * abandon. HC_BADF when `h` is not one. */
hc_status hc_stream_req_write(hc_ctx *ctx, uint32_t h, const uint8_t *data, size_t len);
hc_status hc_stream_req_append(hc_ctx *ctx, uint32_t h, hc_body *src);
hc_status hc_stream_req_close(hc_ctx *ctx, uint32_t h, bool abandon);
/* The trailers a streaming request body sends when it is closed (not abandoned), for
 * trailer_append; NULL when `h` is not one. */
hc_headers *hc_stream_req_trailers(hc_ctx *ctx, uint32_t h);

/* Readiness of any async item (fastly_async_io): *ready set, HC_BADF for a handle that is not an
 * async item. Bodies are ready when a read would not block (bodies fed by the downstream client
 * count as ready). KV lookups and cache handles get their case here when they arrive. */
hc_status hc_item_ready(hc_ctx *ctx, uint32_t h, bool *ready);

/* The request's wake-up signal (created on first use; NULL when out of memory). */
be_signal *hc_backend_signal(hc_ctx *ctx);

/* Writes a send_error_detail at guest `ptr` for `e` (mask: what the guest understands and we
 * fill: nothing beyond the tag for now). */
hc_status hc_write_send_error_detail(fwe_caller *caller, uint32_t ptr, be_error e);

#endif
