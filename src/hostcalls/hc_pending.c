/* hc_pending.c: starting backend sends from request/body handles, pending requests and their
 * outcomes (response + streaming body handles, the synthetic 502, or an error with its detail),
 * streaming request bodies, dynamic backends of the request, and async item readiness. */
#include "hc_pending.h"

#include "hc_kv_ops.h"
#include "hc_cache.h"
#include "hc_readthrough.h"

#include "hc_mem.h"
#include "backend/be_cdn_loop.h"
#include "util/util_grow.h"
#include "util/util_str.h"

#include <strings.h>
#include <stdlib.h>
#include <string.h>

#define CHUNK (64 * 1024)
#define MAX_DYNAMIC 1024

/* The body of the synthetic 502: for an `@N` failure, and for send_downstream_pending when no
 * response materialises (the cause goes to the log). */
static const char synthetic_body[] = "502 Bad Gateway: the backend request failed\n";

typedef struct hc_backend_state {
    be_backend *dyn;
    size_t ndyn, cap;
    be_signal *sig;
} hc_backend_state;

static hc_backend_state *state(hc_ctx *ctx)
{
    if (!ctx->backend)
        ctx->backend = calloc(1, sizeof *ctx->backend);
    return ctx->backend;
}

be_signal *hc_backend_signal(hc_ctx *ctx)
{
    hc_backend_state *s = state(ctx);
    if (!s)
        return NULL;
    if (!s->sig)
        s->sig = be_signal_new();
    return s->sig;
}

void hc_backend_state_free(hc_backend_state *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->ndyn; i++)
        be_backend_deinit(&s->dyn[i]);
    free(s->dyn);
    be_signal_release(s->sig);
    free(s);
}

const be_backend *hc_backend_lookup(hc_ctx *ctx, const char *name, size_t len, bool *dynamic)
{
    *dynamic = false;
    hc_backend_state *s = ctx->backend;
    for (size_t i = 0; s && i < s->ndyn; i++) {
        const char *n = s->dyn[i].name;
        if (strlen(n) == len && memcmp(n, name, len) == 0) {
            *dynamic = true;
            return &s->dyn[i];
        }
    }
    return be_backends_route(ctx->settings->backends, name, len);
}

hc_status hc_backend_register(hc_ctx *ctx, be_backend *b)
{
    bool dyn;
    size_t len = strlen(b->name);
    if (hc_backend_lookup(ctx, b->name, len, &dyn) &&
        (dyn || be_backends_named(ctx->settings->backends, b->name, len)))
        return HC_ERROR; /* the name is taken (Viceroy's BackendNameRegistryError) */
    hc_backend_state *s = state(ctx);
    if (!s)
        return HC_ERROR;
    if (s->ndyn >= MAX_DYNAMIC)
        return HC_LIMITEXCEEDED;
    if (!util_grow((void **)&s->dyn, &s->cap, s->ndyn + 1, 4, sizeof *s->dyn))
        return HC_ERROR;
    if (b->healthcheck.enabled && !b->health) {
        /* probes run while the backend lives, i.e. until the request's context goes */
        be_loop *loop = be_backends_loop(ctx->settings->backends);
        b->health = loop ? be_health_start(loop, b) : NULL;
        if (!b->health)
            return HC_ERROR;
    }
    b->dynamic = true;
    s->dyn[s->ndyn++] = *b; /* ownership moves */
    be_backend_init(b);
    return HC_OK;
}

/* ---- pending requests ---- */

typedef struct hc_header_edit {
    int op;
    uint32_t target;
    char *name, *value;
    size_t name_len, value_len;
} hc_header_edit;

static void edits_free(hc_pending *p)
{
    for (size_t i = 0; i < p->nedits; i++) {
        free(p->edits[i].name);
        free(p->edits[i].value);
    }
    free(p->edits);
    p->edits = NULL;
    p->nedits = 0;
}

hc_status hc_pending_edit(hc_pending *p, int op, const char *name, size_t name_len,
                          const char *value, size_t value_len, uint32_t target)
{
    if (op != HC_EDIT_APPEND) /* later inserts/removes supersede queued edits of the name */
        for (size_t i = 0; i < p->nedits;) {
            hc_header_edit *e = &p->edits[i];
            if (e->target == target && hc_header_name_eq(e->name, e->name_len, name, name_len)) {
                free(e->name);
                free(e->value);
                memmove(&p->edits[i], &p->edits[i + 1], (p->nedits - i - 1) * sizeof *e);
                p->nedits--;
            } else {
                i++;
            }
        }
    hc_header_edit *n = realloc(p->edits, (p->nedits + 1) * sizeof *n);
    if (!n)
        return HC_ERROR;
    p->edits = n;
    hc_header_edit e = {op,       target,   malloc(name_len + 1), malloc(value_len + 1),
                        name_len, value_len};
    if (!e.name || !e.value) {
        free(e.name);
        free(e.value);
        return HC_ERROR;
    }
    memcpy(e.name, name, name_len);
    e.name[name_len] = '\0';
    if (value_len)
        memcpy(e.value, value, value_len);
    e.value[value_len] = '\0';
    p->edits[p->nedits++] = e;
    return HC_OK;
}

/* Applies the queued edits meant for this kind of response to response handle `resp_h`. */
static hc_status apply_edits(hc_ctx *ctx, const hc_pending *p, uint32_t resp_h, bool synthetic)
{
    hc_response *r = p->nedits ? hc_table_get(&ctx->responses, resp_h, HC_KIND_RESPONSE) : NULL;
    for (size_t i = 0; r && i < p->nedits; i++) {
        const hc_header_edit *e = &p->edits[i];
        if (e->target != HC_PENDING_ANY &&
            e->target != (synthetic ? HC_PENDING_ERROR : HC_PENDING_RESPONSE))
            continue;
        bool ok = true;
        if (e->op == HC_EDIT_INSERT)
            ok = hc_headers_insert(&r->headers, e->name, e->name_len, e->value, e->value_len);
        else if (e->op == HC_EDIT_APPEND)
            ok = hc_headers_append(&r->headers, e->name, e->name_len, e->value, e->value_len);
        else
            hc_headers_remove(&r->headers, e->name, e->name_len);
        if (!ok)
            return HC_ERROR;
    }
    return HC_OK;
}

void hc_pending_free(hc_pending *p)
{
    if (!p)
        return;
    edits_free(p);
    hc_readthrough_free(p->rt);
    be_transfer_release(p->t);
    free(p->backend);
    free(p->method);
    free(p->url);
    free(p);
}

static void release_transfer(void *t)
{
    be_transfer_release(t);
}

/* The trailers of a backend response (an hc_src_trailers_fn): ready once its body ended. */
static bool transfer_trailers(void *src, hc_headers *into)
{
    be_transfer *t = src;
    for (size_t i = 0; i < be_transfer_ntrailers(t); i++) {
        be_header h = be_transfer_trailer(t, i);
        if (!hc_headers_append(into, h.name, h.name_len, h.value, h.value_len))
            return false;
    }
    return true;
}

/* Hands trailers to the transfer, to go out after its (chunked) request body. */
static bool send_trailers(be_transfer *t, const hc_headers *h)
{
    if (h->n == 0)
        return true;
    be_header *views = calloc(h->n, sizeof *views);
    if (!views)
        return false;
    for (size_t i = 0; i < h->n; i++)
        views[i] = (be_header){h->items[i].name, h->items[i].name_len, h->items[i].value,
                               h->items[i].value_len};
    bool ok = be_transfer_set_trailers(t, views, h->n);
    free(views);
    return ok;
}

/* Feeds the whole of `b` into the transfer's request body, then its trailers. A body that is all
 * in memory is handed over at once (it is in memory already); one with a source (e.g. the
 * downstream client's body) is streamed through the bounded buffer. Returns false when the
 * transfer ended early or the source failed. */
static bool feed(be_transfer *t, hc_body *b)
{
    bool blocking = hc_body_has_source(b);
    uint8_t *chunk = malloc(CHUNK);
    if (!chunk)
        return false;
    bool ok = true;
    for (;;) {
        long n = hc_body_read(b, chunk, CHUNK);
        if (n < 0) {
            ok = false;
            break;
        }
        if (n == 0)
            break;
        int rc = blocking ? be_transfer_write(t, chunk, (size_t)n)
                          : be_transfer_give(t, chunk, (size_t)n);
        if (rc != 0) {
            ok = false;
            break;
        }
    }
    free(chunk);
    return ok && send_trailers(t, &b->trailers);
}

/* How many times the current downstream request passed through Fastlike (its cdn-loop), carried
 * into every backend request it makes even when the guest builds fresh headers. */
size_t hc_downstream_passes(const hc_ctx *ctx)
{
    const hc_downstream_request *d = ctx->n_ds_meta ? ctx->ds_meta[ctx->n_ds_meta - 1].req : NULL;
    size_t n = 0;
    for (size_t i = 0; d && i < d->nheaders; i++)
        if (d->headers[i].name_len == 8 && strncasecmp(d->headers[i].name, "cdn-loop", 8) == 0)
            n += be_cdn_loop_count(d->headers[i].value, d->headers[i].value_len);
    return n;
}

hc_status hc_send_start(hc_ctx *ctx, uint32_t req_h, uint32_t body_h, const char *name,
                        size_t name_len, bool streaming, hc_pending **out, be_error *detail)
{
    *out = NULL;
    *detail = BE_ERR_INTERNAL_ERROR;
    if (!hc_ctx_request(ctx, req_h) || !hc_ctx_body(ctx, body_h))
        return HC_BADF;
    /* as Viceroy: the request and (unless streaming) the body are consumed from here on */
    hc_request *r = hc_table_take(&ctx->requests, req_h, HC_KIND_REQUEST);
    hc_body *body =
        streaming ? hc_ctx_body(ctx, body_h) : hc_table_take(&ctx->items, body_h, HC_ITEM_BODY);
    hc_status st = HC_ERROR;
    hc_pending *p = calloc(1, sizeof *p);
    hc_stream_req *sr = NULL;
    be_header *views = NULL;
    if (!p)
        goto out;
    p->fail = BE_ERR_INTERNAL_ERROR;
    p->backend = util_strndup(name, name_len);
    p->method = util_strndup(r->method, strlen(r->method));
    p->url = util_strndup(r->uri, strlen(r->uri));
    if (streaming) {
        sr = calloc(1, sizeof *sr);
        if (sr)
            hc_headers_init(&sr->trailers);
    }
    if (!p->backend || !p->method || !p->url || (streaming && !sr))
        goto out;
    bool dyn;
    const be_backend *b = hc_backend_lookup(ctx, name, name_len, &dyn);
    if (!b) {
        hc_log(ctx, 1, "backend '%s': no such backend (and no catch-all backend)", p->backend);
        *detail = BE_ERR_DESTINATION_NOT_FOUND;
        st = HC_INVAL; /* Viceroy's UnknownBackend */
        goto out;
    }
    if (!dyn && !be_backends_draw(ctx->settings->backends, b)) {
        /* the simulated failure of an @N backend: a synthetic 502, the origin never sees it */
        hc_log(ctx, 1, "backend '%s': %s %s -> 502 (simulated failure, uptime %d%%)", p->backend,
               p->method, p->url, b->uptime);
        p->fail = BE_OK;
        st = HC_OK;
        goto started;
    }
    views = calloc(r->headers.n + 1, sizeof *views);
    be_signal *sig = hc_backend_signal(ctx);
    be_loop *loop = be_backends_loop(ctx->settings->backends);
    if (!views || !sig || !loop)
        goto out;
    for (size_t i = 0; i < r->headers.n; i++) {
        const hc_header *h = &r->headers.items[i];
        views[i] = (be_header){h->name, h->name_len, h->value, h->value_len};
    }
    uint64_t known = 0;
    /* trailers need a chunked body */
    bool have_len = !streaming && body->trailers.n == 0 && hc_body_known_length(body, &known);
    be_request breq = {
        .method = r->method,
        .url = r->uri,
        .headers = views,
        .nheaders = r->headers.n,
        .has_body = true, /* be_transfer leaves out an empty body where the method has none */
        .body_length = have_len ? (int64_t)known : -1,
        .decompress_gzip = (r->auto_decompress & 1u) != 0,
        .loop_passes = hc_downstream_passes(ctx),
        .verbose = ctx->verbose,
    };
    be_error err;
    p->t = be_transfer_start(loop, b, p->backend, &breq, sig, &err);
    if (!p->t) {
        *detail = err;
        hc_log(ctx, 1, "backend '%s': %s %s: cannot start: %s", p->backend, p->method, p->url,
               be_strerror(err));
        st = (hc_status)be_error_status(err);
        goto out;
    }
    if (streaming) {
        /* what the body holds already goes first; the guest writes the rest */
        if (!feed(p->t, body))
            hc_log(ctx, 1, "backend '%s': request body cut short", p->backend);
    } else {
        bool ok = feed(p->t, body);
        be_transfer_close_body(p->t, !ok);
    }
    st = HC_OK;
started:
    if (streaming) {
        sr->t = p->t;
        if (sr->t)
            be_transfer_retain(sr->t);
        /* the handle now names the write end of the request body */
        hc_body_free(body);
        ctx->items.objs[body_h] = sr;
        hc_table_set_kind(&ctx->items, body_h, HC_ITEM_STREAMING_REQ_BODY);
        sr = NULL;
    }
    *out = p;
    p = NULL;
    *detail = BE_OK;
out:
    free(views);
    free(sr);
    hc_pending_free(p);
    hc_request_free(r);
    if (!streaming)
        hc_body_free(body);
    else if (st != HC_OK)
        hc_body_free(hc_table_take(&ctx->items, body_h, HC_ITEM_BODY));
    return st;
}

static hc_status synthetic_502(hc_ctx *ctx, uint32_t *resp_h, uint32_t *body_h)
{
    hc_response *r = hc_response_new();
    hc_body *b = hc_body_new();
    static const char ct[] = "text/plain; charset=utf-8";
    if (!r || !b || !hc_headers_append(&r->headers, "content-type", 12, ct, sizeof ct - 1) ||
        !hc_body_push_back(b, (const uint8_t *)synthetic_body, sizeof synthetic_body - 1)) {
        hc_response_free(r);
        hc_body_free(b);
        return HC_ERROR;
    }
    r->status = 502;
    hc_status st = hc_ctx_add_response(ctx, r, resp_h);
    if (st != HC_OK) {
        hc_response_free(r);
        hc_body_free(b);
        return st;
    }
    st = hc_ctx_add_body(ctx, b, body_h);
    if (st != HC_OK) {
        hc_ctx_close_response(ctx, *resp_h);
        hc_body_free(b);
    }
    return st;
}

static hc_status from_transfer(hc_ctx *ctx, be_transfer *t, uint32_t *resp_h, uint32_t *body_h)
{
    hc_response *r = hc_response_new();
    hc_body *b = hc_body_new();
    if (!r || !b)
        goto fail;
    r->status = be_transfer_status(t);
    r->version = be_transfer_version(t);
    for (size_t i = 0; i < be_transfer_nheaders(t); i++) {
        be_header h = be_transfer_header(t, i);
        if (!hc_headers_append(&r->headers, h.name, h.name_len, h.value, h.value_len))
            goto fail;
    }
    be_transfer_retain(t);
    hc_body_set_owned_source(b, be_transfer_read, t, be_transfer_body_length(t), release_transfer);
    hc_body_set_source_trailers(b, transfer_trailers);
    hc_status st = hc_ctx_add_response(ctx, r, resp_h);
    if (st != HC_OK) {
        hc_response_free(r);
        hc_body_free(b);
        return st;
    }
    st = hc_ctx_add_body(ctx, b, body_h);
    if (st != HC_OK) {
        hc_ctx_close_response(ctx, *resp_h);
        hc_body_free(b);
    }
    return st;
fail:
    hc_response_free(r);
    hc_body_free(b);
    return HC_ERROR;
}

hc_status hc_pending_finish(hc_ctx *ctx, hc_pending *p, uint32_t *resp, uint32_t *body,
                            be_error *detail)
{
    if (p->rt) /* a cached answer, or one to store (hc_readthrough.c) */
        return hc_readthrough_finish(ctx, p, resp, body, detail);
    bool synthetic_on_error = p->synthetic_on_error;
    *detail = BE_OK;
    be_error e = p->t ? be_transfer_wait_head(p->t) : p->fail;
    hc_status st;
    if (p->t && e == BE_OK) {
        hc_log(ctx, 1, "backend '%s': %s %s -> %u (%.1f ms to the response head)", p->backend,
               p->method, p->url, be_transfer_status(p->t), be_transfer_head_ms(p->t));
        st = from_transfer(ctx, p->t, resp, body);
    } else if (!p->t && e == BE_OK) {
        *detail = BE_ERR_DESTINATION_UNAVAILABLE; /* informational: the status is ok */
        st = synthetic_502(ctx, resp, body);
    } else {
        hc_log(ctx, 1, "backend '%s': %s %s failed: %s%s", p->backend, p->method, p->url,
               be_strerror(e), synthetic_on_error ? " (answered with a synthetic 502)" : "");
        *detail = e; /* with the synthetic 502 only informational: the status is ok */
        st = synthetic_on_error ? synthetic_502(ctx, resp, body) : (hc_status)be_error_status(e);
    }
    if (st == HC_OK)
        st = apply_edits(ctx, p, *resp, !(p->t && e == BE_OK));
    hc_pending_free(p);
    return st;
}

hc_status hc_pending_finish_always(hc_ctx *ctx, hc_pending *p, uint32_t *resp, uint32_t *body)
{
    be_error detail;
    p->synthetic_on_error = true; /* no response materialised: the synthetic 5XX goes out */
    return hc_pending_finish(ctx, p, resp, body, &detail);
}

bool hc_pending_ready(hc_pending *p)
{
    return !p->t || be_transfer_head_ready(p->t);
}

/* ---- streaming request bodies ---- */

static hc_stream_req *stream_req(hc_ctx *ctx, uint32_t h)
{
    return hc_table_get(&ctx->items, h, HC_ITEM_STREAMING_REQ_BODY);
}

hc_status hc_stream_req_write(hc_ctx *ctx, uint32_t h, const uint8_t *data, size_t len)
{
    hc_stream_req *s = stream_req(ctx, h);
    if (!s)
        return HC_BADF;
    if (!s->t || len == 0)
        return HC_OK; /* a simulated failure: nobody reads it */
    return be_transfer_write(s->t, data, len) == 0 ? HC_OK : HC_ERROR;
}

hc_status hc_stream_req_append(hc_ctx *ctx, uint32_t h, hc_body *src)
{
    hc_stream_req *s = stream_req(ctx, h);
    if (!s) {
        hc_body_free(src);
        return HC_BADF;
    }
    bool ok = !s->t || feed(s->t, src);
    hc_body_free(src);
    return ok ? HC_OK : HC_ERROR;
}

hc_headers *hc_stream_req_trailers(hc_ctx *ctx, uint32_t h)
{
    hc_stream_req *s = stream_req(ctx, h);
    return s ? &s->trailers : NULL;
}

static void stream_req_free(hc_stream_req *s, bool abandon)
{
    if (!s)
        return;
    if (s->t) {
        bool ok = abandon || send_trailers(s->t, &s->trailers);
        be_transfer_close_body(s->t, abandon || !ok);
        be_transfer_release(s->t);
    }
    hc_headers_deinit(&s->trailers);
    free(s);
}

hc_status hc_stream_req_close(hc_ctx *ctx, uint32_t h, bool abandon)
{
    hc_stream_req *s = hc_table_take(&ctx->items, h, HC_ITEM_STREAMING_REQ_BODY);
    if (!s)
        return HC_BADF;
    stream_req_free(s, abandon);
    return HC_OK;
}

void hc_item_free(uint8_t kind, void *obj)
{
    switch (kind) {
    case HC_ITEM_PENDING_REQ:
        hc_pending_free(obj);
        break;
    case HC_ITEM_STREAMING_REQ_BODY:
        /* the guest ended without closing it: the body ends here, as production does */
        stream_req_free(obj, false);
        break;
    case HC_ITEM_KV_STORE:
    case HC_ITEM_KV_LOOKUP:
    case HC_ITEM_KV_INSERT:
    case HC_ITEM_KV_DELETE:
    case HC_ITEM_KV_LIST:
        hc_kv_item_free(kind, obj);
        break;
    default:
        if (hc_cache_item_kind(kind)) /* cache handles and bodies (hc_cache.c) */
            hc_cache_item_free(kind, obj);
        break;
    }
}

/* ---- readiness ---- */

static bool body_ready(const hc_body *b)
{
    for (; b; b = b->next) {
        if (b->len > 0)
            return true;
        if (b->src_read == be_transfer_read)
            return be_transfer_readable(b->src);
        if (b->src_read)
            return true; /* a source we cannot ask (the downstream client): reads may block */
    }
    return true; /* at the end: a read answers 0 at once */
}

hc_status hc_item_ready(hc_ctx *ctx, uint32_t h, bool *ready)
{
    switch (hc_table_kind(&ctx->items, h)) {
    case HC_ITEM_BODY:
        *ready = body_ready(hc_ctx_body(ctx, h));
        return HC_OK;
    case HC_ITEM_STREAMING_BODY:
    case HC_ITEM_REQUEST_PROMISE:
        *ready = true;
        return HC_OK;
    case HC_ITEM_PENDING_REQ:
        *ready = hc_pending_ready(hc_table_get(&ctx->items, h, HC_ITEM_PENDING_REQ));
        return HC_OK;
    case HC_ITEM_STREAMING_REQ_BODY: {
        hc_stream_req *s = stream_req(ctx, h);
        *ready = !s->t || be_transfer_writable(s->t);
        return HC_OK;
    }
    case HC_ITEM_KV_LOOKUP: /* KV operations are answered when made */
    case HC_ITEM_KV_INSERT:
    case HC_ITEM_KV_DELETE:
    case HC_ITEM_KV_LIST:
        *ready = true;
        return HC_OK;
    default:
        if (hc_cache_item_kind(hc_table_kind(&ctx->items, h))) /* hc_cache.c */
            return hc_cache_item_ready(ctx, h, ready);
        /* KV lookups add their kinds here */
        return HC_BADF;
    }
}

hc_status hc_write_send_error_detail(fwe_caller *caller, uint32_t ptr, be_error e)
{
    hc_status st = hc_mem_write_u32(caller, ptr, (uint32_t)e);
    if (st == HC_OK)
        st = hc_mem_write_u32(caller, ptr + 4, 0); /* no optional field is filled */
    return st;
}
