/* hc_http_body.c: the fastly_http_body module. A body handle is either a plain body (readable,
 * writable at both ends) or, after send_downstream(streaming), the write end of the downstream
 * response: back writes and appends go straight to the client, reads and front writes are badf,
 * close finishes the response and abandon cuts it short. */
#include "hc_http_body.h"

#include "hc_cache.h"
#include "hc_hostcall.h"
#include "hc_pending.h"

static fwe_trap_kind body_new(fwe_caller *caller, uint64_t *slots, void *data)
{
    HC_CTX(ctx);
    hc_body *b = hc_body_new();
    if (!b)
        HC_RETURN(HC_ERROR);
    uint32_t h;
    hc_status st = hc_ctx_add_body(ctx, b, &h);
    if (st != HC_OK) {
        hc_body_free(b);
        HC_RETURN(st);
    }
    HC_RETURN(hc_mem_write_u32(caller, HC_ARG(0), h));
}

static fwe_trap_kind body_append(fwe_caller *caller, uint64_t *slots, void *data)
{
    HC_CTX(ctx);
    uint32_t dest = HC_ARG(0), src_h = HC_ARG(1);
    /* as Viceroy: the source is taken first (and gone even when the destination is bad) */
    hc_body *src = hc_table_take(&ctx->items, src_h, HC_ITEM_BODY);
    if (!src)
        HC_RETURN(HC_BADF);
    if (hc_ctx_is_streaming_body(ctx, dest)) {
        hc_status st = hc_ctx_stream_body(ctx, src);
        /* its trailers (complete once it was read to the end) follow the response body */
        hc_body *sb = hc_table_get(&ctx->items, dest, HC_ITEM_STREAMING_BODY);
        for (size_t i = 0; st == HC_OK && sb && i < src->trailers.n; i++) {
            const hc_header *t = &src->trailers.items[i];
            if (!hc_headers_append(&sb->trailers, t->name, t->name_len, t->value, t->value_len))
                st = HC_ERROR;
        }
        hc_body_free(src);
        HC_RETURN(st);
    }
    if (hc_table_kind(&ctx->items, dest) == HC_ITEM_STREAMING_REQ_BODY)
        HC_RETURN(hc_stream_req_append(ctx, dest, src)); /* a backend request body */
    if (hc_cache_is_wbody(ctx, dest))
        HC_RETURN(hc_cache_wbody_append(ctx, dest, src)); /* a body going into the cache */
    hc_body *d = hc_ctx_body(ctx, dest);
    if (!d) {
        hc_body_free(src);
        HC_RETURN(HC_BADF);
    }
    hc_body_append(d, src);
    HC_RETURN(HC_OK);
}

static fwe_trap_kind body_read(fwe_caller *caller, uint64_t *slots, void *data)
{
    HC_CTX(ctx);
    hc_body *b = hc_ctx_body(ctx, HC_ARG(0));
    if (!b)
        HC_RETURN(HC_BADF);
    uint8_t *buf = hc_mem_slice(caller, HC_ARG(1), HC_ARG(2));
    if (!buf)
        HC_RETURN(HC_INVAL);
    long n = hc_body_read(b, buf, HC_ARG(2));
    if (n < 0)
        HC_RETURN(HC_ERROR);
    HC_RETURN(hc_mem_write_u32(caller, HC_ARG(3), (uint32_t)n));
}

static fwe_trap_kind body_write(fwe_caller *caller, uint64_t *slots, void *data)
{
    HC_CTX(ctx);
    uint32_t h = HC_ARG(0), len = HC_ARG(2), end = HC_ARG(3);
    if (end > 1)
        HC_RETURN(HC_INVAL); /* not a body_write_end */
    const uint8_t *buf = hc_mem_slice(caller, HC_ARG(1), len);
    if (!buf)
        HC_RETURN(HC_INVAL);
    hc_status st;
    if (end == 0 && hc_ctx_is_streaming_body(ctx, h)) {
        st = hc_ctx_stream_write(ctx, buf, len);
    } else if (end == 0 && hc_table_kind(&ctx->items, h) == HC_ITEM_STREAMING_REQ_BODY) {
        st = hc_stream_req_write(ctx, h, buf, len);
    } else if (end == 0 && hc_cache_is_wbody(ctx, h)) {
        st = hc_cache_wbody_write(ctx, h, buf, len);
    } else {
        hc_body *b = hc_ctx_body(ctx, h);
        if (!b)
            HC_RETURN(HC_BADF);
        bool ok = end == 1 ? hc_body_push_front(b, buf, len) : hc_body_push_back(b, buf, len);
        st = ok ? HC_OK : HC_ERROR;
    }
    if (st != HC_OK)
        HC_RETURN(st);
    /* the whole buffer, always (as Viceroy) */
    HC_RETURN(hc_mem_write_u32(caller, HC_ARG(4), len));
}

static fwe_trap_kind body_close(fwe_caller *caller, uint64_t *slots, void *data)
{
    HC_CTX(ctx);
    HC_RETURN(hc_ctx_close_body(ctx, HC_ARG(0), false));
}

static fwe_trap_kind body_abandon(fwe_caller *caller, uint64_t *slots, void *data)
{
    HC_CTX(ctx);
    HC_RETURN(hc_ctx_close_body(ctx, HC_ARG(0), true));
}

static fwe_trap_kind trailer_append(fwe_caller *caller, uint64_t *slots, void *data)
{
    HC_CTX(ctx);
    uint32_t h = HC_ARG(0);
    if (hc_ctx_is_streaming_body(ctx, h)) {
        /* the downstream response: sent after its last chunk when the body is closed */
        hc_body *sb = hc_table_get(&ctx->items, h, HC_ITEM_STREAMING_BODY);
        HC_RETURN(hc_call_header_add(caller, &sb->trailers, HC_ARG(1), HC_ARG(2), HC_ARG(3),
                                     HC_ARG(4), false));
    }
    hc_headers *req_trailers = hc_stream_req_trailers(ctx, h);
    if (req_trailers) /* a backend request body still being written: sent when it is closed */
        HC_RETURN(hc_call_header_add(caller, req_trailers, HC_ARG(1), HC_ARG(2), HC_ARG(3),
                                     HC_ARG(4), false));
    hc_body *b = hc_ctx_body(ctx, h);
    if (!b)
        HC_RETURN(HC_BADF);
    HC_RETURN(hc_call_header_add(caller, &b->trailers, HC_ARG(1), HC_ARG(2), HC_ARG(3), HC_ARG(4),
                                 false));
}

/* Trailer reads: not on streaming bodies (inval; also a backend request body being written),
 * and only once the body was read to its end (again), as Viceroy. A backend response's trailers
 * are there once its body was read to the end. */
#define TRAILERS(b)                                                                                \
    HC_CTX(ctx);                                                                                   \
    if (hc_ctx_is_streaming_body(ctx, HC_ARG(0)) ||                                                \
        hc_table_kind(&ctx->items, HC_ARG(0)) == HC_ITEM_STREAMING_REQ_BODY)                       \
        HC_RETURN(HC_INVAL);                                                                       \
    hc_body *b = hc_ctx_body(ctx, HC_ARG(0));                                                      \
    if (!b)                                                                                        \
        HC_RETURN(HC_BADF);                                                                        \
    if (!b->trailers_ready)                                                                        \
    HC_RETURN(HC_AGAIN)

static fwe_trap_kind trailer_names_get(fwe_caller *caller, uint64_t *slots, void *data)
{
    TRAILERS(b);
    HC_RETURN(hc_call_header_names_get(caller, &b->trailers, HC_ARG(1), HC_ARG(2), HC_ARG(3),
                                       HC_ARG(4), HC_ARG(5)));
}

static fwe_trap_kind trailer_value_get(fwe_caller *caller, uint64_t *slots, void *data)
{
    TRAILERS(b);
    HC_RETURN(hc_call_header_value_get(caller, &b->trailers, HC_ARG(1), HC_ARG(2), HC_ARG(3),
                                       HC_ARG(4), HC_ARG(5)));
}

static fwe_trap_kind trailer_values_get(fwe_caller *caller, uint64_t *slots, void *data)
{
    TRAILERS(b);
    HC_RETURN(hc_call_header_values_get(caller, &b->trailers, HC_ARG(1), HC_ARG(2), HC_ARG(3),
                                        HC_ARG(4), HC_ARG(5), HC_ARG(6), HC_ARG(7)));
}

static fwe_trap_kind known_length(fwe_caller *caller, uint64_t *slots, void *data)
{
    HC_CTX(ctx);
    if (hc_ctx_is_streaming_body(ctx, HC_ARG(0)))
        HC_RETURN(HC_NONE);
    hc_body *b = hc_ctx_body(ctx, HC_ARG(0));
    if (!b)
        HC_RETURN(HC_BADF);
    uint64_t len;
    if (!hc_body_known_length(b, &len))
        HC_RETURN(HC_NONE);
    HC_RETURN(hc_mem_write_u64(caller, HC_ARG(1), len));
}

#define M "fastly_http_body"
const hc_impl hc_http_body_impls[] = {
    {M, "append", body_append},
    {M, "new", body_new},
    {M, "read", body_read},
    {M, "write", body_write},
    {M, "close", body_close},
    {M, "abandon", body_abandon},
    {M, "trailer_append", trailer_append},
    {M, "trailer_names_get", trailer_names_get},
    {M, "trailer_value_get", trailer_value_get},
    {M, "trailer_values_get", trailer_values_get},
    {M, "known_length", known_length},
    {NULL, NULL, NULL},
};
#undef M
