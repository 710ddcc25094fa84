/* hc_ctx_internal.h: the per-request context as the hostcall modules see it: its handle tables
 * (requests, responses, async items such as bodies), the request/response records behind the
 * handles, the downstream metadata, and the downstream response state machine. Hostcall modules
 * include this; the server uses only hc_ctx.h. */
#ifndef HC_CTX_INTERNAL_H
#define HC_CTX_INTERNAL_H

#include "hc_body.h"
#include "hc_ctx.h"
#include "hc_headers.h"
#include "hc_status.h"
#include "hc_table.h"

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

/* Kinds in ctx->items (the ABI's async_item_handle space: bodies, promises, pending requests). */
enum {
    HC_ITEM_BODY = 1,            /* hc_body */
    HC_ITEM_STREAMING_BODY = 2,  /* hc_body, now the write end of the downstream response */
    HC_ITEM_REQUEST_PROMISE = 3, /* hc_promise: a next_request promise (hc_http_downstream.c) */
    HC_ITEM_FIRST_FREE = 16,     /* other modules (backends, caches) number their kinds from here */
};
enum { HC_KIND_REQUEST = 1 };  /* ctx->requests */
enum { HC_KIND_RESPONSE = 1 }; /* ctx->responses */

/* Cache override as stored by cache_override_set / cache_override_v2_set (for the backends and
 * cache issues to honour). */
typedef struct hc_cache_override {
    bool set;
    uint32_t tag; /* cache_override_tag flags */
    uint32_t ttl, stale_while_revalidate;
    char *surrogate_key; /* owned, NULL when none */
    size_t surrogate_key_len;
} hc_cache_override;

typedef struct hc_request {
    char *method;     /* owned, NUL-terminated (validated token) */
    char *uri;        /* owned, NUL-terminated */
    uint32_t version; /* fastly_http_version */
    hc_headers headers;
    uint32_t framing_mode;    /* framing_headers_mode */
    uint32_t auto_decompress; /* content_encodings */
    hc_cache_override cache_override;
} hc_request;

typedef struct hc_response {
    uint16_t status;
    uint32_t version;
    hc_headers headers;
    uint32_t framing_mode;   /* framing_headers_mode */
    uint32_t keepalive_mode; /* http_keepalive_mode */
} hc_response;

/* The metadata of one downstream request (Viceroy's DownstreamMetadata), kept for every
 * downstream request the instance takes, so the downstream_* getters answer for an earlier
 * request's handle too, closed or not. */
typedef struct hc_ds_meta {
    uint32_t req_handle;
    const hc_downstream_request *req; /* NULL for a context made without a request */
    hc_headers original;              /* its headers as they arrived */
    char request_id[33];              /* 32 hex digits: the trace id for the first request */
} hc_ds_meta;

typedef enum hc_resp_state {
    HC_RESP_UNSENT = 0,
    HC_RESP_STREAMING, /* head sent, body handle streaming */
    HC_RESP_DONE,      /* complete */
    HC_RESP_ABORTED,   /* streaming body abandoned, or the client went away */
} hc_resp_state;

struct hc_ctx {
    const hc_settings *settings;
    const hc_downstream_sink *sink;
    char *trace_id;

    hc_table requests;  /* hc_request */
    hc_table responses; /* hc_response */
    hc_table items;     /* HC_ITEM_* */

    uint32_t ds_req, ds_body; /* the downstream request and its body */
    hc_ds_meta *ds_meta;      /* one per downstream request taken, the current one last */
    size_t n_ds_meta;

    hc_resp_state resp_state;
    uint32_t streaming_body;        /* items handle while HC_RESP_STREAMING */
    bool promise_pending;           /* a next_request promise is outstanding */
    const hc_next_source *next_src; /* further downstream requests, or NULL */
    unsigned next_registered;       /* next_request registrations so far (bounded) */

    struct timespec cpu_start; /* thread CPU time at hc_ctx_new */
    bool verbose; /* the current downstream request asked for -v 2 (fastlike-verbose) */

    struct hc_backend_state *backend; /* dynamic backends and the async wake-up (hc_pending.c);
                                         NULL until the first backend hostcall needs it */
    struct hc_edge_handles *edge;     /* dictionary, secret, ACL, log handles (hc_edge_handles.c) */
    uint32_t handed_off;              /* ds_req + 1 of the request handed off (hc_fanout.c), or 0 */
};

/* Makes `req` the current downstream request (at creation, and when a reusable instance takes
 * the next request): fresh request and body handles in ds_req/ds_body, its metadata (original
 * headers, a request id of its own), and an unsent response through `sink`. Handles of an
 * earlier request, and its metadata, stay valid. */
hc_status hc_ctx_begin_request(hc_ctx *ctx, const hc_downstream_request *req,
                               const hc_downstream_sink *sink);

/* Frees an item of a kind numbered from HC_ITEM_FIRST_FREE (pending requests, streaming request
 * bodies; defined in hc_pending.c, which dispatches to the module owning the kind). */
void hc_item_free(uint8_t kind, void *obj);
/* Frees ctx->backend (hc_pending.c); after the items. */
void hc_backend_state_free(struct hc_backend_state *s);
/* Frees ctx->edge (hc_edge_handles.c). */
void hc_edge_handles_free(struct hc_edge_handles *h);

/* The context of the instance calling a hostcall (NULL when it has none). */
hc_ctx *hc_caller_ctx(fwe_caller *caller);

/* Request/response records: fresh defaults (GET "/" HTTP/1.1; 200 HTTP/1.1). NULL when out of
 * memory. The free functions accept NULL. */
hc_request *hc_request_new(void);
void hc_request_free(hc_request *r);
hc_response *hc_response_new(void);
void hc_response_free(hc_response *r);

/* Replace a request's method/URI (copied; validity is the caller's check). */
bool hc_request_set_method(hc_request *r, const char *m, size_t len);
bool hc_request_set_uri(hc_request *r, const char *u, size_t len);

/* The metadata of downstream request handle `req` (open or closed), or NULL when it is not one. */
const hc_ds_meta *hc_ctx_ds_meta(const hc_ctx *ctx, uint32_t req);

/* Registers an object; HC_LIMITEXCEEDED when the table is full. */
hc_status hc_ctx_add_request(hc_ctx *ctx, hc_request *r, uint32_t *handle);
hc_status hc_ctx_add_response(hc_ctx *ctx, hc_response *r, uint32_t *handle);
hc_status hc_ctx_add_body(hc_ctx *ctx, hc_body *b, uint32_t *handle);

hc_request *hc_ctx_request(hc_ctx *ctx, uint32_t handle);
hc_response *hc_ctx_response(hc_ctx *ctx, uint32_t handle);
/* A readable/writable (non-streaming) body. */
hc_body *hc_ctx_body(hc_ctx *ctx, uint32_t handle);
bool hc_ctx_is_streaming_body(hc_ctx *ctx, uint32_t handle);

/* Closes a request/response/body handle (the object is freed). HC_BADF when not live. A
 * streaming body is finished (close) or cut short (abandon). */
hc_status hc_ctx_close_request(hc_ctx *ctx, uint32_t handle);
hc_status hc_ctx_close_response(hc_ctx *ctx, uint32_t handle);
hc_status hc_ctx_close_body(hc_ctx *ctx, uint32_t handle, bool abandon);

/* fastly_http_resp.send_downstream: consumes both handles (the response one even when the body
 * handle is bad, as Viceroy); sends the head and, unless streaming, the whole body, through the
 * sink. A 103 response instead goes out as an interim response and both handles stay the
 * guest's (hc_resp_extras.h). Errors: badf, inval (1xx other than 103), error (a response was
 * sent already, or the client went away). */
hc_status hc_ctx_send_downstream(hc_ctx *ctx, uint32_t resp_handle, uint32_t body_handle,
                                 bool streaming);
/* Writes bytes to / moves a whole body into the streaming response body. */
hc_status hc_ctx_stream_write(hc_ctx *ctx, const uint8_t *data, size_t len);
hc_status hc_ctx_stream_body(hc_ctx *ctx, hc_body *src);

/* Converts a socket address to IP octets (4 or 16; v4-mapped v6 becomes 4). 0 if not IP. */
size_t hc_sockaddr_octets(const struct sockaddr_storage *sa, uint8_t out[16]);

#endif
