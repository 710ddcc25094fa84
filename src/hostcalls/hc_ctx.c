/* hc_ctx.c: the per-request hostcall context: creation from the downstream request, handle
 * tables, request/response records, the request log, and the downstream response (head + body
 * through the server's sink, buffered or streaming). */
#include "hc_ctx_internal.h"
#include "hc_http_downstream.h"
#include "util/util_id.h"
#include "hc_pending.h"
#include "hc_cache.h"
#include "hc_resp_extras.h"
#include "util/util_str.h"

#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define PUMP_CHUNK (64 * 1024)

/* ---- log ---- */

void hc_log(hc_ctx *ctx, int level, const char *fmt, ...)
{
    const hc_settings *s = ctx ? ctx->settings : NULL;
    if (level > 0 && (!s || (level > s->verbosity && !(ctx->verbose && level <= 2))))
        return;
    char line[2048];
    int n = 0;
    if (ctx && ctx->trace_id && ctx->trace_id[0]) /* the request's trace id, as server lines have */
        n = snprintf(line, sizeof line, "[%.8s] ", ctx->trace_id);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line + n, sizeof line - (size_t)n, fmt, ap);
    va_end(ap);
    if (s && s->log)
        s->log(s->log_user, line);
    else
        fprintf(stderr, "%s\n", line);
}

/* ---- records ---- */

bool hc_request_set_method(hc_request *r, const char *m, size_t len)
{
    char *p = util_strndup(m, len);
    if (!p)
        return false;
    free(r->method);
    r->method = p;
    return true;
}

bool hc_request_set_uri(hc_request *r, const char *u, size_t len)
{
    char *p = util_strndup(u, len);
    if (!p)
        return false;
    free(r->uri);
    r->uri = p;
    return true;
}

hc_request *hc_request_new(void)
{
    hc_request *r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    hc_headers_init(&r->headers);
    r->version = 2; /* HTTP/1.1, the http crate's default */
    if (!hc_request_set_method(r, "GET", 3) || !hc_request_set_uri(r, "/", 1)) {
        hc_request_free(r);
        return NULL;
    }
    return r;
}

void hc_request_free(hc_request *r)
{
    if (!r)
        return;
    free(r->method);
    free(r->uri);
    hc_headers_deinit(&r->headers);
    free(r->cache_override.surrogate_key);
    free(r);
}

hc_response *hc_response_new(void)
{
    hc_response *r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    hc_headers_init(&r->headers);
    r->status = 200;
    r->version = 2;
    return r;
}

void hc_response_free(hc_response *r)
{
    if (!r)
        return;
    hc_headers_deinit(&r->headers);
    free(r);
}

/* ---- tables ---- */

hc_ctx *hc_caller_ctx(fwe_caller *caller)
{
    return caller ? fwe_caller_host_data(caller) : NULL;
}

static hc_status add(hc_table *t, uint8_t kind, void *obj, uint32_t *handle)
{
    uint32_t h = hc_table_add(t, kind, obj);
    if (h == HC_HANDLE_INVALID)
        return HC_LIMITEXCEEDED;
    *handle = h;
    return HC_OK;
}

hc_status hc_ctx_add_request(hc_ctx *ctx, hc_request *r, uint32_t *handle)
{
    return add(&ctx->requests, HC_KIND_REQUEST, r, handle);
}

hc_status hc_ctx_add_response(hc_ctx *ctx, hc_response *r, uint32_t *handle)
{
    return add(&ctx->responses, HC_KIND_RESPONSE, r, handle);
}

hc_status hc_ctx_add_body(hc_ctx *ctx, hc_body *b, uint32_t *handle)
{
    return add(&ctx->items, HC_ITEM_BODY, b, handle);
}

hc_request *hc_ctx_request(hc_ctx *ctx, uint32_t handle)
{
    return hc_table_get(&ctx->requests, handle, HC_KIND_REQUEST);
}

hc_response *hc_ctx_response(hc_ctx *ctx, uint32_t handle)
{
    return hc_table_get(&ctx->responses, handle, HC_KIND_RESPONSE);
}

hc_body *hc_ctx_body(hc_ctx *ctx, uint32_t handle)
{
    return hc_table_get(&ctx->items, handle, HC_ITEM_BODY);
}

bool hc_ctx_is_streaming_body(hc_ctx *ctx, uint32_t handle)
{
    return hc_table_kind(&ctx->items, handle) == HC_ITEM_STREAMING_BODY;
}

hc_status hc_ctx_close_request(hc_ctx *ctx, uint32_t handle)
{
    hc_request *r = hc_table_take(&ctx->requests, handle, HC_KIND_REQUEST);
    if (!r)
        return HC_BADF;
    hc_request_free(r);
    return HC_OK;
}

hc_status hc_ctx_close_response(hc_ctx *ctx, uint32_t handle)
{
    hc_response *r = hc_table_take(&ctx->responses, handle, HC_KIND_RESPONSE);
    if (!r)
        return HC_BADF;
    hc_response_free(r);
    return HC_OK;
}

static hc_status finish_stream(hc_ctx *ctx)
{
    if (ctx->resp_state != HC_RESP_STREAMING)
        return HC_OK;
    int rc = ctx->sink->finish(ctx->sink->sink);
    ctx->resp_state = rc == 0 ? HC_RESP_DONE : HC_RESP_ABORTED;
    return rc == 0 ? HC_OK : HC_ERROR;
}

hc_status hc_ctx_close_body(hc_ctx *ctx, uint32_t handle, bool abandon)
{
    if (hc_ctx_is_streaming_body(ctx, handle)) {
        hc_body *sb = hc_table_take(&ctx->items, handle, HC_ITEM_STREAMING_BODY);
        hc_status tst = abandon ? HC_OK : hc_send_trailers(ctx, &sb->trailers);
        hc_body_free(sb);
        if (tst != HC_OK && ctx->resp_state == HC_RESP_STREAMING)
            ctx->resp_state = HC_RESP_ABORTED;
        if (abandon) {
            if (ctx->resp_state == HC_RESP_STREAMING)
                ctx->resp_state = HC_RESP_ABORTED;
            return HC_OK;
        }
        return finish_stream(ctx);
    }
    if (hc_table_kind(&ctx->items, handle) == HC_ITEM_STREAMING_REQ_BODY)
        return hc_stream_req_close(ctx, handle, abandon);
    if (hc_cache_is_wbody(ctx, handle))
        return hc_cache_wbody_close(ctx, handle, abandon); /* a body going into the cache */
    hc_body *b = hc_table_take(&ctx->items, handle, HC_ITEM_BODY);
    if (!b)
        return HC_BADF;
    hc_body_free(b);
    return HC_OK;
}

/* ---- context ---- */

const hc_ds_meta *hc_ctx_ds_meta(const hc_ctx *ctx, uint32_t req)
{
    for (size_t i = ctx->n_ds_meta; i-- > 0;)
        if (ctx->ds_meta[i].req_handle == req)
            return &ctx->ds_meta[i];
    return NULL;
}

hc_status hc_ctx_begin_request(hc_ctx *ctx, const hc_downstream_request *req,
                               const hc_downstream_sink *sink)
{
    hc_headers original;
    hc_headers_init(&original);
    hc_request *r = hc_request_new();
    hc_body *b = hc_body_new();
    uint32_t req_handle = HC_HANDLE_INVALID, body_handle = HC_HANDLE_INVALID;
    hc_ds_meta *meta = realloc(ctx->ds_meta, (ctx->n_ds_meta + 1) * sizeof *meta);
    if (meta)
        ctx->ds_meta = meta;
    if (!r || !b || !meta)
        goto fail;
    if (req) {
        const char *m = req->method ? req->method : "GET";
        const char *u = req->url ? req->url : "/";
        if (!hc_request_set_method(r, m, strlen(m)) || !hc_request_set_uri(r, u, strlen(u)))
            goto fail;
        r->version = req->http_version;
        for (size_t i = 0; i < req->nheaders; i++) {
            const hc_header_view *h = &req->headers[i];
            if (!hc_headers_append(&r->headers, h->name, h->name_len, h->value, h->value_len) ||
                !hc_headers_append(&original, h->name, h->name_len, h->value, h->value_len))
                goto fail;
        }
        if (req->body_read)
            hc_body_set_source(b, req->body_read, req->body_src, req->body_length);
    }
    if (hc_ctx_add_request(ctx, r, &req_handle) != HC_OK)
        goto fail;
    r = NULL;
    if (hc_ctx_add_body(ctx, b, &body_handle) != HC_OK)
        goto fail;
    hc_ds_meta *m = &ctx->ds_meta[ctx->n_ds_meta];
    *m = (hc_ds_meta){.req_handle = req_handle, .req = req, .original = original};
    if (ctx->n_ds_meta == 0 && ctx->trace_id && strlen(ctx->trace_id) == 32)
        memcpy(m->request_id, ctx->trace_id, 33);
    else
        util_random_hex_id(m->request_id);
    ctx->n_ds_meta++;
    ctx->sink = sink;
    ctx->ds_req = req_handle;
    ctx->ds_body = body_handle;
    ctx->resp_state = HC_RESP_UNSENT;
    ctx->streaming_body = HC_HANDLE_INVALID;
    ctx->verbose = hc_request_verbosity(NULL, req) >= 2;
    return HC_OK;
fail:
    if (req_handle != HC_HANDLE_INVALID)
        hc_request_free(hc_table_take(&ctx->requests, req_handle, HC_KIND_REQUEST));
    hc_request_free(r);
    hc_body_free(b);
    hc_headers_deinit(&original);
    return HC_LIMITEXCEEDED;
}

int hc_request_verbosity(const hc_settings *settings, const hc_downstream_request *req)
{
    int level = settings ? settings->verbosity : 0;
    static const size_t n = sizeof HC_VERBOSE_HEADER - 1;
    for (size_t i = 0; req && i < req->nheaders; i++) {
        const hc_header_view *h = &req->headers[i];
        if (h->name_len == n && strncasecmp(h->name, HC_VERBOSE_HEADER, n) == 0 &&
            h->value_len > 0 && !(h->value_len == 1 && h->value[0] == '0'))
            return 2;
    }
    return level;
}

hc_ctx *hc_ctx_new(const hc_settings *settings, const hc_downstream_request *req,
                   const hc_downstream_sink *sink, const char *trace_id)
{
    hc_ctx *ctx = calloc(1, sizeof *ctx);
    if (!ctx)
        return NULL;
    ctx->settings = settings;
    hc_table_init(&ctx->requests);
    hc_table_init(&ctx->responses);
    hc_table_init(&ctx->items);
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ctx->cpu_start);
    ctx->trace_id = util_strndup(trace_id ? trace_id : "", trace_id ? strlen(trace_id) : 0);
    if (!ctx->trace_id || hc_ctx_begin_request(ctx, req, sink) != HC_OK) {
        hc_ctx_free(ctx);
        return NULL;
    }
    return ctx;
}

uint64_t hc_ctx_cpu_start_ns(const hc_ctx *ctx)
{
    return (uint64_t)ctx->cpu_start.tv_sec * 1000000000u + (uint64_t)ctx->cpu_start.tv_nsec;
}

const hc_settings *hc_ctx_settings(const hc_ctx *ctx)
{
    static const hc_settings none = {0};
    return ctx && ctx->settings ? ctx->settings : &none;
}

void hc_ctx_set_next_source(hc_ctx *ctx, const hc_next_source *src)
{
    if (ctx)
        ctx->next_src = src;
}

void hc_ctx_free(hc_ctx *ctx)
{
    if (!ctx)
        return;
    for (uint32_t i = 0; i < ctx->requests.n; i++)
        if (ctx->requests.kinds[i] == HC_KIND_REQUEST)
            hc_request_free(ctx->requests.objs[i]);
    for (uint32_t i = 0; i < ctx->responses.n; i++)
        if (ctx->responses.kinds[i] == HC_KIND_RESPONSE)
            hc_response_free(ctx->responses.objs[i]);
    for (uint32_t i = 0; i < ctx->items.n; i++) {
        uint8_t k = ctx->items.kinds[i];
        if (k == HC_ITEM_BODY || k == HC_ITEM_STREAMING_BODY)
            hc_body_free(ctx->items.objs[i]);
        else if (k == HC_ITEM_REQUEST_PROMISE)
            hc_promise_free(ctx, ctx->items.objs[i]);
        else if (k >= HC_ITEM_FIRST_FREE)
            hc_item_free(k, ctx->items.objs[i]);
    }
    hc_backend_state_free(ctx->backend);
    hc_edge_handles_free(ctx->edge);
    hc_table_deinit(&ctx->requests);
    hc_table_deinit(&ctx->responses);
    hc_table_deinit(&ctx->items);
    for (size_t i = 0; i < ctx->n_ds_meta; i++)
        hc_headers_deinit(&ctx->ds_meta[i].original);
    free(ctx->ds_meta);
    free(ctx->trace_id);
    free(ctx);
}

bool hc_ctx_response_started(const hc_ctx *ctx)
{
    return ctx && ctx->resp_state != HC_RESP_UNSENT;
}

bool hc_ctx_response_finished(const hc_ctx *ctx)
{
    return ctx && ctx->resp_state == HC_RESP_DONE;
}

void hc_ctx_finish(hc_ctx *ctx)
{
    if (!ctx || ctx->resp_state != HC_RESP_STREAMING)
        return;
    /* the guest left its streaming body open: close it as production does at the end */
    hc_body *sb = hc_table_take(&ctx->items, ctx->streaming_body, HC_ITEM_STREAMING_BODY);
    if (sb && hc_send_trailers(ctx, &sb->trailers) != HC_OK)
        ctx->resp_state = HC_RESP_ABORTED;
    hc_body_free(sb);
    finish_stream(ctx);
}

size_t hc_sockaddr_octets(const struct sockaddr_storage *sa, uint8_t out[16])
{
    if (sa->ss_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
        memcpy(out, &in->sin_addr, 4);
        return 4;
    }
    if (sa->ss_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
        const uint8_t *a = in6->sin6_addr.s6_addr;
        static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
        if (memcmp(a, mapped, 12) == 0) {
            memcpy(out, a + 12, 4);
            return 4;
        }
        memcpy(out, a, 16);
        return 16;
    }
    return 0;
}

/* ---- downstream response ---- */

static bool is_framing_header(const hc_header *h)
{
    return hc_header_name_eq(h->name, h->name_len, "content-length", 14) ||
           hc_header_name_eq(h->name, h->name_len, "transfer-encoding", 17);
}

/* Content-Length from the guest's own headers (manual framing), or -1. */
static int64_t manual_content_length(const hc_response *r)
{
    const hc_header *h = hc_headers_get(&r->headers, "content-length", 14);
    if (!h || h->value_len == 0 || h->value_len > 18 ||
        hc_headers_get(&r->headers, "transfer-encoding", 17))
        return -1;
    int64_t v = 0;
    for (size_t i = 0; i < h->value_len; i++) {
        if (h->value[i] < '0' || h->value[i] > '9')
            return -1;
        v = v * 10 + (h->value[i] - '0');
    }
    return v;
}

/* Sends `r`'s head. `trailers`, when not NULL, are all the trailer fields that will follow the
 * body: a head without a Trailer field of the guest's announces their names (the sink sends it
 * only when the trailers go out too). */
static hc_status send_head(hc_ctx *ctx, const hc_response *r, int64_t content_length,
                           const hc_headers *trailers)
{
    hc_header_view *views = calloc(r->headers.n + 2, sizeof *views);
    if (!views)
        return HC_ERROR;
    size_t n = 0;
    for (size_t i = 0; i < r->headers.n; i++) {
        const hc_header *h = &r->headers.items[i];
        if (is_framing_header(h))
            continue; /* the sink frames the body from content_length */
        views[n++] = (hc_header_view){h->name, h->name_len, h->value, h->value_len};
    }
    if (r->keepalive_mode == 1 && !hc_headers_get(&r->headers, "connection", 10))
        views[n++] = (hc_header_view){"connection", 10, "close", 5};
    char *names = NULL;
    if (trailers && trailers->n > 0 && !hc_headers_get(&r->headers, "trailer", 7))
        names = hc_trailer_names(trailers);
    if (names)
        views[n++] = (hc_header_view){"trailer", 7, names, strlen(names)};
    int rc = ctx->sink->send_head(ctx->sink->sink, r->status, views, n, content_length);
    free(names);
    free(views);
    return rc == 0 ? HC_OK : HC_ERROR;
}

/* Reads `b` to its end and writes everything to the sink. */
static hc_status pump(hc_ctx *ctx, hc_body *b)
{
    uint8_t *chunk = malloc(PUMP_CHUNK);
    if (!chunk)
        return HC_ERROR;
    hc_status st = HC_OK;
    for (;;) {
        long n = hc_body_read(b, chunk, PUMP_CHUNK);
        if (n < 0) {
            st = HC_ERROR;
            break;
        }
        if (n == 0)
            break;
        if (ctx->sink->write(ctx->sink->sink, chunk, (size_t)n) != 0) {
            st = HC_ERROR;
            break;
        }
    }
    free(chunk);
    return st;
}

hc_status hc_ctx_send_downstream(hc_ctx *ctx, uint32_t resp_handle, uint32_t body_handle,
                                 bool streaming)
{
    /* 103 Early Hints go out ahead of the final response, and both handles stay the guest's:
     * the Go SDK sends its final response with the same handles after a 103 (Viceroy takes
     * them, which breaks that; production does not) */
    hc_response *hint = hc_ctx_response(ctx, resp_handle);
    if (hint && hint->status == 103 && hc_ctx_body(ctx, body_handle))
        return hc_send_interim(ctx, hint, 103);
    /* as Viceroy: the response is taken first, and gone even when the body handle is bad */
    hc_response *r = hc_table_take(&ctx->responses, resp_handle, HC_KIND_RESPONSE);
    if (!r)
        return HC_BADF;
    if (!hc_ctx_body(ctx, body_handle)) {
        hc_response_free(r);
        return HC_BADF;
    }
    hc_status st = HC_OK;
    if (ctx->resp_state != HC_RESP_UNSENT || !ctx->sink) {
        st = HC_ERROR;
        goto out_body;
    }
    if (r->status >= 100 && r->status < 200) {
        st = HC_INVAL; /* as Viceroy: a 1xx other than 103 (handled above) */
        goto out_body;
    }
    hc_body *b = hc_ctx_body(ctx, body_handle);
    uint64_t known = 0;
    bool have_len = hc_body_known_length(b, &known);
    int64_t cl = (!streaming && have_len) ? (int64_t)known : -1;
    if (r->framing_mode == 1) {
        int64_t manual = manual_content_length(r);
        if (manual >= 0 && (!have_len || streaming || (uint64_t)manual == known))
            cl = manual;
        else if (manual >= 0)
            hc_log(ctx, 1,
                   "send_downstream: content-length %lld does not match the body "
                   "(%llu bytes); framing automatically",
                   (long long)manual, (unsigned long long)known);
    }
    if (hc_downstream_is_head(ctx))
        cl = hc_head_content_length(r, have_len, known); /* no body follows: keep the declared */
    else if (b->trailers.n > 0 && r->framing_mode != 1)
        cl = -1; /* trailers need a chunked body */
    st = send_head(ctx, r, cl, streaming ? NULL : &b->trailers);
    if (st != HC_OK) {
        ctx->resp_state = HC_RESP_ABORTED;
        goto out_body;
    }
    if (streaming) {
        ctx->resp_state = HC_RESP_STREAMING;
        ctx->streaming_body = body_handle;
        hc_table_set_kind(&ctx->items, body_handle, HC_ITEM_STREAMING_BODY);
        /* what the body holds already goes out first */
        st = pump(ctx, b);
        if (st != HC_OK)
            ctx->resp_state = HC_RESP_ABORTED;
        hc_response_free(r);
        return st;
    }
    st = pump(ctx, b);
    if (st == HC_OK)
        st = hc_send_trailers(ctx, &b->trailers);
    if (st == HC_OK)
        st = ctx->sink->finish(ctx->sink->sink) == 0 ? HC_OK : HC_ERROR;
    ctx->resp_state = st == HC_OK ? HC_RESP_DONE : HC_RESP_ABORTED;
out_body:
    hc_body_free(hc_table_take(&ctx->items, body_handle, HC_ITEM_BODY));
    hc_response_free(r);
    return st;
}

hc_status hc_ctx_stream_write(hc_ctx *ctx, const uint8_t *data, size_t len)
{
    if (ctx->resp_state != HC_RESP_STREAMING)
        return HC_ERROR;
    if (len == 0)
        return HC_OK;
    if (ctx->sink->write(ctx->sink->sink, data, len) != 0) {
        ctx->resp_state = HC_RESP_ABORTED;
        return HC_ERROR;
    }
    return HC_OK;
}

hc_status hc_ctx_stream_body(hc_ctx *ctx, hc_body *src)
{
    if (ctx->resp_state != HC_RESP_STREAMING)
        return HC_ERROR;
    hc_status st = pump(ctx, src);
    if (st != HC_OK)
        ctx->resp_state = HC_RESP_ABORTED;
    return st;
}
