/* hc_cache.c: the fastly_cache module (the core cache API) over the shared store: lookup and
 * insert, request-collapsing transactions (lookup, async lookup with busy handles, insert, insert
 * and stream back, update, cancel), the getters, ranged body reads, and the replace family.
 * Statuses follow Viceroy where it implements a call (unknown options are `unsupported`, a
 * service id too; a missing object is `none`; a handle of another kind, or an operation the
 * handle's state does not allow, is `badf`) and Fastly's documentation where it does not
 * (replace*, get_hits, get_stale_while_revalidate_ns). Cache and busy handles are async items. */
#include "hc_cache.h"

#include "backend/be_signal.h"
#include "hc_hostcall.h"
#include "hc_http_cache.h"
#include "hc_pending.h"

#include <stdlib.h>
#include <string.h>

/* cache_lookup_options_mask / cache_write_options_mask / cache_get_body_options_mask bits */
enum {
    LK_RESERVED = 1u << 0,
    LK_REQUEST_HEADERS = 1u << 1,
    LK_SERVICE_ID = 1u << 2,
    LK_ALWAYS_USE_REQUESTED_RANGE = 1u << 3,
    LK_ALL = (1u << 4) - 1,
};
enum {
    RP_RESERVED = 1u << 0,
    RP_REQUEST_HEADERS = 1u << 1,
    RP_REPLACE_STRATEGY = 1u << 2,
    RP_SERVICE_ID = 1u << 3,
    RP_ALWAYS_USE_REQUESTED_RANGE = 1u << 4,
    RP_ALL = (1u << 5) - 1,
};
enum {
    WR_RESERVED = 1u << 0,
    WR_REQUEST_HEADERS = 1u << 1,
    WR_VARY_RULE = 1u << 2,
    WR_INITIAL_AGE_NS = 1u << 3,
    WR_SWR_NS = 1u << 4,
    WR_SURROGATE_KEYS = 1u << 5,
    WR_LENGTH = 1u << 6,
    WR_USER_METADATA = 1u << 7,
    WR_SENSITIVE_DATA = 1u << 8,
    WR_EDGE_MAX_AGE_NS = 1u << 9,
    WR_SERVICE_ID = 1u << 10,
    WR_ALL = (1u << 11) - 1,
};
enum { GB_RESERVED = 1u, GB_FROM = 2u, GB_TO = 4u, GB_ALL = 7u };
enum {
    ST_FOUND = 1u,
    ST_USABLE = 2u,
    ST_STALE = 4u,
    ST_MUST_INSERT_OR_UPDATE = 8u,
    ST_USABLE_IF_ERROR = 16u,
};

/* A cache, busy or replace handle. */
typedef struct cache_h {
    hc_cache *cache;
    uint8_t *key;
    size_t key_len;
    hc_headers req;
    bool pending; /* a transaction still waiting for another caller's obligation */
    hc_cache_obj *found;
    hc_cache_oblig *oblig;
    bool always_range;
    uint32_t last_body; /* the last get_body handle (only one may be open) */
    be_signal *sig;     /* watched while pending */
    hc_ctx *owner;      /* the request: obligations it takes carry it (never waits on itself) */
} cache_h;

typedef struct wbody {
    hc_cache_obj *o;
} wbody;

static void cache_h_free(cache_h *h)
{
    if (!h)
        return;
    if (h->sig) {
        hc_cache_unwatch(h->cache, h->sig);
        be_signal_release(h->sig);
    }
    hc_cache_oblig_abandon(h->oblig);
    hc_cache_obj_release(h->found);
    hc_headers_deinit(&h->req);
    free(h->key);
    free(h);
}

static cache_h *cache_h_new(hc_cache *c, const uint8_t *key, size_t key_len, const hc_headers *req)
{
    cache_h *h = calloc(1, sizeof *h);
    if (!h)
        return NULL;
    hc_headers_init(&h->req);
    h->cache = c;
    h->last_body = HC_NO_HANDLE;
    h->key = malloc(key_len ? key_len : 1);
    if (!h->key || (req && !hc_headers_copy(&h->req, req))) {
        cache_h_free(h);
        return NULL;
    }
    if (key_len)
        memcpy(h->key, key, key_len);
    h->key_len = key_len;
    return h;
}

/* A transaction that would wait for the obligation its own request holds would wait forever (in
 * production too): said once on the log, and the lookup ends with neither object nor obligation. */
static void self_wait(hc_ctx *ctx)
{
    hc_log(ctx, 0,
           "fastly_cache: a transaction waits for the insert this same request must do "
           "(insert or cancel first); it ends empty instead of waiting forever");
}

/* Waits for a pending transaction to settle. */
static void resolve(cache_h *h)
{
    if (!h->pending)
        return;
    if (!hc_cache_txn_lookup_owned(h->cache, h->key, h->key_len, &h->req, true, h->owner, &h->found,
                                   &h->oblig))
        self_wait(h->owner);
    h->pending = false;
}

bool hc_cache_item_kind(uint8_t kind)
{
    return kind >= HC_ITEM_CACHE && kind <= HC_ITEM_HTTP_CACHE;
}

void hc_cache_item_free(uint8_t kind, void *obj)
{
    switch (kind) {
    case HC_ITEM_CACHE:
    case HC_ITEM_CACHE_REPLACE:
        cache_h_free(obj);
        break;
    case HC_ITEM_CACHE_WBODY: {
        wbody *w = obj;
        hc_cache_body_finish(w->o, false); /* never closed: as an abandoned body */
        hc_cache_obj_release(w->o);
        free(w);
        break;
    }
    case HC_ITEM_HTTP_CACHE:
        hc_http_cache_handle_free(obj);
        break;
    default:
        break;
    }
}

hc_status hc_cache_item_ready(hc_ctx *ctx, uint32_t handle, bool *ready)
{
    uint8_t kind = hc_table_kind(&ctx->items, handle);
    void *obj = hc_table_get(&ctx->items, handle, kind);
    switch (kind) {
    case HC_ITEM_CACHE: {
        cache_h *h = obj;
        if (h->pending && hc_cache_txn_lookup_owned(h->cache, h->key, h->key_len, &h->req, false,
                                                    h->owner, &h->found, &h->oblig))
            h->pending = false;
        *ready = !h->pending;
        return HC_OK;
    }
    case HC_ITEM_CACHE_WBODY:
    case HC_ITEM_CACHE_REPLACE:
        *ready = true;
        return HC_OK;
    case HC_ITEM_HTTP_CACHE:
        *ready = hc_http_cache_handle_ready(obj);
        return HC_OK;
    default:
        return HC_BADF;
    }
}

/* ---- bodies ---- */

bool hc_cache_is_wbody(hc_ctx *ctx, uint32_t h)
{
    return hc_table_kind(&ctx->items, h) == HC_ITEM_CACHE_WBODY;
}

hc_status hc_cache_wbody_write(hc_ctx *ctx, uint32_t h, const uint8_t *data, size_t len)
{
    wbody *w = hc_table_get(&ctx->items, h, HC_ITEM_CACHE_WBODY);
    if (!w)
        return HC_BADF;
    return hc_cache_body_write(w->o, data, len) ? HC_OK : HC_ERROR;
}

hc_status hc_cache_wbody_append(hc_ctx *ctx, uint32_t h, hc_body *src)
{
    wbody *w = hc_table_get(&ctx->items, h, HC_ITEM_CACHE_WBODY);
    if (!w) {
        hc_body_free(src);
        return HC_BADF;
    }
    uint8_t buf[16384];
    hc_status st = HC_OK;
    for (;;) {
        long n = hc_body_read(src, buf, sizeof buf);
        if (n == 0)
            break;
        if (n < 0 || !hc_cache_body_write(w->o, buf, (size_t)n)) {
            st = HC_ERROR;
            break;
        }
    }
    hc_body_free(src);
    return st;
}

hc_status hc_cache_wbody_close(hc_ctx *ctx, uint32_t h, bool abandon)
{
    wbody *w = hc_table_take(&ctx->items, h, HC_ITEM_CACHE_WBODY);
    if (!w)
        return HC_BADF;
    hc_cache_body_finish(w->o, !abandon);
    hc_cache_obj_release(w->o);
    free(w);
    return HC_OK;
}

hc_status hc_cache_add_wbody(hc_ctx *ctx, hc_cache_obj *o, uint32_t *handle)
{
    wbody *w = malloc(sizeof *w);
    if (!w)
        return HC_ERROR;
    w->o = o;
    *handle = hc_table_add(&ctx->items, HC_ITEM_CACHE_WBODY, w);
    if (*handle == HC_HANDLE_INVALID) {
        free(w);
        return HC_LIMITEXCEEDED;
    }
    return HC_OK;
}

hc_status hc_cache_open_wbody(fwe_caller *caller, hc_ctx *ctx, hc_cache_obj *o, uint32_t body_ptr)
{
    uint32_t body;
    hc_status st = hc_cache_add_wbody(ctx, o, &body);
    if (st != HC_OK) {
        hc_cache_body_finish(o, false);
        hc_cache_obj_release(o);
        return st;
    }
    return hc_mem_write_u32(caller, body_ptr, body);
}

hc_status hc_cache_write_field(fwe_caller *caller, hc_cache_obj *o, hc_cache_field what,
                               uint32_t out_ptr)
{
    hc_cache_info in;
    hc_cache_obj_info(o, &in);
    switch (what) {
    case HC_CACHE_LENGTH:
        if (in.length < 0)
            return HC_NONE; /* no length given and the body is still being written */
        return hc_mem_write_u64(caller, out_ptr, (uint64_t)in.length);
    case HC_CACHE_MAX_AGE:
        return hc_mem_write_u64(caller, out_ptr, in.max_age_ns);
    case HC_CACHE_SWR:
        return hc_mem_write_u64(caller, out_ptr, in.swr_ns);
    case HC_CACHE_SIE:
        return hc_mem_write_u64(caller, out_ptr, in.sie_ns);
    case HC_CACHE_AGE:
        return hc_mem_write_u64(caller, out_ptr, in.age_ns);
    case HC_CACHE_HITS:
        return hc_mem_write_u64(caller, out_ptr, in.hits);
    case HC_CACHE_SENSITIVE:
        return hc_mem_write_u32(caller, out_ptr, in.sensitive ? 1 : 0);
    }
    return HC_ERROR;
}

typedef struct cache_reader {
    hc_cache_obj *o;
    uint64_t off;
    int64_t end;
} cache_reader;

static long reader_read(void *p, uint8_t *buf, size_t len)
{
    cache_reader *r = p;
    if (r->end >= 0) {
        if (r->off >= (uint64_t)r->end)
            return 0;
        if ((uint64_t)len > (uint64_t)r->end - r->off)
            len = (size_t)((uint64_t)r->end - r->off);
    }
    long n = hc_cache_body_read(r->o, r->off, buf, len);
    if (n > 0)
        r->off += (uint64_t)n;
    return n;
}

static void reader_free(void *p)
{
    cache_reader *r = p;
    hc_cache_obj_release(r->o);
    free(r);
}

hc_body *hc_cache_reader_body(hc_cache_obj *o, uint64_t start, int64_t end)
{
    hc_body *b = hc_body_new();
    cache_reader *r = malloc(sizeof *r);
    if (!b || !r) {
        hc_body_free(b);
        free(r);
        return NULL;
    }
    hc_cache_obj_retain(o);
    r->o = o;
    r->off = start;
    r->end = end;
    hc_cache_info in;
    hc_cache_obj_info(o, &in);
    int64_t total = end >= 0 ? end : in.length;
    int64_t length = total >= 0 && (uint64_t)total >= start ? total - (int64_t)start : -1;
    hc_body_set_owned_source(b, reader_read, r, length, reader_free);
    return b;
}

uint32_t hc_cache_state_flags(hc_cache_obj *found, bool obliged)
{
    uint32_t st = 0;
    if (found) {
        hc_cache_info in;
        hc_cache_obj_info(found, &in);
        /* as Viceroy and production: FOUND only for a usable object (old SDKs check FOUND) */
        if (in.usable && !in.not_cacheable) {
            st |= ST_FOUND | ST_USABLE;
            if (!in.fresh)
                st |= ST_STALE;
        } else if (in.usable_if_error) {
            st |= ST_STALE | ST_USABLE_IF_ERROR;
        }
    }
    if (obliged)
        st |= ST_MUST_INSERT_OR_UPDATE;
    return st;
}

/* ---- options ---- */

static hc_cache *the_cache(hc_ctx *ctx)
{
    return ctx->settings ? ctx->settings->cache : NULL;
}

static hc_status cache_key(fwe_caller *caller, uint32_t ptr, uint32_t len, const uint8_t **key)
{
    *key = hc_mem_slice(caller, ptr, len);
    if (!*key && len)
        return HC_INVAL;
    if (!*key)
        *key = (const uint8_t *)"";
    return len > HC_CACHE_KEY_MAX ? HC_INVAL : HC_OK;
}

/* The headers of request handle `h` (badf when it is not one). */
static hc_status req_headers(hc_ctx *ctx, uint32_t h, const hc_headers **out)
{
    hc_request *r = hc_ctx_request(ctx, h);
    if (!r)
        return HC_BADF;
    *out = &r->headers;
    return HC_OK;
}

/* cache_lookup_options (12 bytes): request_headers, service_id, service_id_len. */
static hc_status lookup_options(fwe_caller *caller, hc_ctx *ctx, uint32_t mask, uint32_t ptr,
                                const hc_headers **req, bool *always_range)
{
    *req = NULL;
    *always_range = false;
    if (mask & ~(uint32_t)LK_ALL)
        return HC_INVAL;
    uint8_t *o;
    hc_status st = hc_mem_record(caller, ptr, 12, 4, &o);
    if (st != HC_OK)
        return st;
    if ((mask & LK_REQUEST_HEADERS) && (st = req_headers(ctx, hc_rec_u32(o, 0), req)) != HC_OK)
        return st;
    if (mask & (LK_SERVICE_ID | LK_RESERVED))
        return HC_UNSUPPORTED; /* as Viceroy: acting for another service is not supported */
    *always_range = (mask & LK_ALWAYS_USE_REQUESTED_RANGE) != 0;
    return HC_OK;
}

/* cache_write_options (80 bytes, 8-aligned) into *w (pointers into guest memory, copied by the
 * store before the guest runs again). */
static hc_status write_options(fwe_caller *caller, hc_ctx *ctx, uint32_t mask, uint32_t ptr,
                               bool allow_req, hc_cache_write *w, const hc_headers **req)
{
    memset(w, 0, sizeof *w);
    w->length = -1;
    *req = NULL;
    if (mask & ~(uint32_t)WR_ALL)
        return HC_INVAL;
    uint8_t *o;
    hc_status st = hc_mem_record(caller, ptr, 80, 8, &o);
    if (st != HC_OK)
        return st;
    if (mask & WR_REQUEST_HEADERS) {
        if (!allow_req)
            return HC_INVAL; /* a transaction's headers come from its lookup */
        if ((st = req_headers(ctx, hc_rec_u32(o, 8), req)) != HC_OK)
            return st;
    }
    w->max_age_ns = hc_rec_u64(o, 0);
    if (mask & WR_INITIAL_AGE_NS)
        w->initial_age_ns = hc_rec_u64(o, 24);
    if (mask & WR_SWR_NS)
        w->swr_ns = hc_rec_u64(o, 32);
    if (mask & WR_VARY_RULE) {
        uint32_t len = hc_rec_u32(o, 16);
        const char *v = (const char *)hc_mem_slice(caller, hc_rec_u32(o, 12), len);
        if (!v && len)
            return HC_INVAL;
        hc_cache_write probe = {.vary = v, .vary_len = len};
        if (hc_cache_check_write(&probe) != HC_OK)
            return HC_ERROR; /* not header names (as Viceroy's InvalidHeaderName) */
        w->vary = v;
        w->vary_len = len;
    }
    if (mask & WR_USER_METADATA) {
        uint32_t len = hc_rec_u32(o, 60);
        w->user_metadata = hc_mem_slice(caller, hc_rec_u32(o, 56), len);
        if (!w->user_metadata && len)
            return HC_INVAL;
        w->user_metadata_len = len;
    }
    if (mask & WR_LENGTH)
        w->length = hc_rec_u64(o, 48) > INT64_MAX ? INT64_MAX : (int64_t)hc_rec_u64(o, 48);
    w->sensitive = (mask & WR_SENSITIVE_DATA) != 0;
    if (mask & WR_SERVICE_ID)
        return HC_UNSUPPORTED;
    if ((mask & WR_EDGE_MAX_AGE_NS) && hc_rec_u64(o, 64) > w->max_age_ns)
        return HC_INVAL; /* the edge max age may not exceed the TTL */
    if (mask & WR_SURROGATE_KEYS) {
        uint32_t len = hc_rec_u32(o, 44);
        const char *k = (const char *)hc_mem_slice(caller, hc_rec_u32(o, 40), len);
        if (!k && len)
            return HC_INVAL;
        hc_cache_write probe = {.surrogate_keys = k, .surrogate_keys_len = len};
        if (hc_cache_check_write(&probe) != HC_OK)
            return HC_INVAL;
        w->surrogate_keys = k;
        w->surrogate_keys_len = len;
    }
    if (mask & WR_RESERVED)
        return HC_UNSUPPORTED;
    return HC_OK;
}

/* ---- handles ---- */

static cache_h *get_h(hc_ctx *ctx, uint32_t handle, uint8_t kind)
{
    return hc_table_get(&ctx->items, handle, kind);
}

static hc_status add_h(hc_ctx *ctx, cache_h *h, uint8_t kind, uint32_t *handle)
{
    *handle = hc_table_add(&ctx->items, kind, h);
    if (*handle == HC_HANDLE_INVALID) {
        cache_h_free(h);
        return HC_LIMITEXCEEDED;
    }
    return HC_OK;
}

static const char *state_word(const cache_h *h)
{
    if (h->found && h->oblig)
        return "stale, revalidating";
    if (h->found)
        return "hit";
    if (h->oblig)
        return "miss, must insert";
    return h->pending ? "busy" : "miss";
}

static void log_lookup(hc_ctx *ctx, const char *what, const cache_h *h)
{
    hc_log(ctx, 2, "cache %s (%zu-byte key): %s", what, h->key_len, state_word(h));
}

/* lookup / transaction_lookup / transaction_lookup_async */
static hc_status do_lookup(fwe_caller *caller, uint64_t *slots, int mode)
{
    hc_ctx *ctx = hc_caller_ctx(caller);
    if (!ctx)
        return HC_ERROR;
    hc_cache *c = the_cache(ctx);
    const hc_headers *req;
    bool always_range;
    hc_status st = lookup_options(caller, ctx, HC_ARG(2), HC_ARG(3), &req, &always_range);
    const uint8_t *key;
    if (st == HC_OK)
        st = cache_key(caller, HC_ARG(0), HC_ARG(1), &key);
    if (st != HC_OK)
        return st;
    if (!hc_mem_slice(caller, HC_ARG(4), 4))
        return HC_INVAL;
    if ((HC_ARG(4) & 3u) != 0)
        return HC_BADALIGN;
    if (!c)
        return HC_UNSUPPORTED;
    cache_h *h = cache_h_new(c, key, HC_ARG(1), req);
    if (!h)
        return HC_ERROR;
    h->always_range = always_range;
    h->owner = ctx;
    if (mode == 0) {
        h->found = hc_cache_lookup(c, key, HC_ARG(1), req);
        log_lookup(ctx, "lookup", h);
    } else {
        bool got =
            hc_cache_txn_lookup_owned(c, key, HC_ARG(1), req, mode == 1, ctx, &h->found, &h->oblig);
        if (!got && mode == 1)
            self_wait(ctx);
        else if (!got) {
            h->pending = true;
            h->sig = hc_backend_signal(ctx);
            if (h->sig) {
                be_signal_retain(h->sig);
                hc_cache_watch(c, h->sig);
            }
        }
        log_lookup(ctx, mode == 1 ? "transaction_lookup" : "transaction_lookup_async", h);
    }
    uint32_t out;
    if ((st = add_h(ctx, h, HC_ITEM_CACHE, &out)) != HC_OK)
        return st;
    return hc_mem_write_u32(caller, HC_ARG(4), out);
}

static fwe_trap_kind c_lookup(fwe_caller *caller, uint64_t *slots, void *data)
{
    HC_RETURN(do_lookup(caller, slots, 0));
}

static fwe_trap_kind c_transaction_lookup(fwe_caller *caller, uint64_t *slots, void *data)
{
    HC_RETURN(do_lookup(caller, slots, 1));
}

static fwe_trap_kind c_transaction_lookup_async(fwe_caller *caller, uint64_t *slots, void *data)
{
    HC_RETURN(do_lookup(caller, slots, 2));
}

static fwe_trap_kind c_busy_wait(fwe_caller *caller, uint64_t *slots, void *data)
{
    HC_CTX(ctx);
    cache_h *busy = get_h(ctx, HC_ARG(0), HC_ITEM_CACHE);
    if (!busy)
        HC_RETURN(HC_BADF);
    if (!hc_mem_slice(caller, HC_ARG(1), 4))
        HC_RETURN(HC_INVAL);
    cache_h *h = cache_h_new(busy->cache, busy->key, busy->key_len, &busy->req);
    if (!h)
        HC_RETURN(HC_ERROR);
    /* the transaction moves to the new handle; the busy one stays as an empty stub (as Viceroy),
     * so close_busy on it still succeeds */
    h->pending = busy->pending;
    h->found = busy->found;
    h->oblig = busy->oblig;
    h->always_range = busy->always_range;
    h->sig = busy->sig;
    h->owner = busy->owner;
    busy->pending = false;
    busy->found = NULL;
    busy->oblig = NULL;
    busy->sig = NULL;
    resolve(h);
    log_lookup(ctx, "busy_handle_wait", h);
    uint32_t out;
    hc_status st = add_h(ctx, h, HC_ITEM_CACHE, &out);
    if (st == HC_OK)
        st = hc_mem_write_u32(caller, HC_ARG(1), out);
    HC_RETURN(st);
}

static fwe_trap_kind c_insert(fwe_caller *caller, uint64_t *slots, void *data)
{
    HC_CTX(ctx);
    const uint8_t *key;
    hc_status st = cache_key(caller, HC_ARG(0), HC_ARG(1), &key);
    hc_cache_write w;
    const hc_headers *req;
    if (st == HC_OK)
        st = write_options(caller, ctx, HC_ARG(2), HC_ARG(3), true, &w, &req);
    if (st != HC_OK)
        HC_RETURN(st);
    if (!hc_mem_slice(caller, HC_ARG(4), 4))
        HC_RETURN(HC_INVAL);
    hc_cache *c = the_cache(ctx);
    if (!c)
        HC_RETURN(HC_UNSUPPORTED);
    hc_cache_obj *o = hc_cache_insert(c, key, HC_ARG(1), req, &w);
    if (!o)
        HC_RETURN(HC_ERROR);
    hc_log(ctx, 2, "cache insert (%u-byte key)", HC_ARG(1));
    HC_RETURN(hc_cache_open_wbody(caller, ctx, o, HC_ARG(4)));
}

/* transaction_insert and _and_stream_back (stream_ptr 0: no stream-back handle). */
static hc_status txn_insert(fwe_caller *caller, uint64_t *slots, uint32_t body_ptr,
                            uint32_t stream_ptr)
{
    hc_ctx *ctx = hc_caller_ctx(caller);
    if (!ctx)
        return HC_ERROR;
    hc_cache_write w;
    const hc_headers *req;
    hc_status st = write_options(caller, ctx, HC_ARG(1), HC_ARG(2), false, &w, &req);
    if (st != HC_OK)
        return st;
    cache_h *h = get_h(ctx, HC_ARG(0), HC_ITEM_CACHE);
    if (!h)
        return HC_BADF;
    if (!hc_mem_slice(caller, body_ptr, 4) || (stream_ptr && !hc_mem_slice(caller, stream_ptr, 4)))
        return HC_INVAL;
    resolve(h);
    if (!h->oblig)
        return HC_BADF; /* no obligation to insert (as Viceroy's NotRevalidatable) */
    hc_cache_obj *o = hc_cache_oblig_insert(h->oblig, &w);
    h->oblig = NULL;
    if (!o)
        return HC_ERROR;
    hc_log(ctx, 2, "cache transaction_insert (%zu-byte key)", h->key_len);
    uint32_t back = HC_NO_HANDLE;
    if (stream_ptr) {
        cache_h *b = cache_h_new(h->cache, h->key, h->key_len, &h->req);
        if (!b) {
            hc_cache_body_finish(o, false);
            hc_cache_obj_release(o);
            return HC_ERROR;
        }
        hc_cache_obj_retain(o);
        b->found = o;
        b->always_range = h->always_range;
        if ((st = add_h(ctx, b, HC_ITEM_CACHE, &back)) != HC_OK) {
            hc_cache_body_finish(o, false);
            hc_cache_obj_release(o);
            return st;
        }
    }
    st = hc_cache_open_wbody(caller, ctx, o, body_ptr);
    if (st == HC_OK && stream_ptr)
        st = hc_mem_write_u32(caller, stream_ptr, back);
    return st;
}

static fwe_trap_kind c_transaction_insert(fwe_caller *caller, uint64_t *slots, void *data)
{
    HC_RETURN(txn_insert(caller, slots, HC_ARG(3), 0));
}

static fwe_trap_kind c_transaction_insert_and_stream_back(fwe_caller *caller, uint64_t *slots,
                                                          void *data)
{
    HC_RETURN(txn_insert(caller, slots, HC_ARG(3), HC_ARG(4)));
}

static fwe_trap_kind c_transaction_update(fwe_caller *caller, uint64_t *slots, void *data)
{
    HC_CTX(ctx);
    hc_cache_write w;
    const hc_headers *req;
    hc_status st = write_options(caller, ctx, HC_ARG(1), HC_ARG(2), false, &w, &req);
    if (st != HC_OK)
        HC_RETURN(st);
    cache_h *h = get_h(ctx, HC_ARG(0), HC_ITEM_CACHE);
    if (!h)
        HC_RETURN(HC_BADF);
    resolve(h);
    if (!h->oblig)
        HC_RETURN(HC_BADF);
    st = hc_cache_oblig_update(h->oblig, &w, NULL);
    if (st == HC_OK)
        h->oblig = NULL; /* fulfilled; on failure the obligation stays (as Viceroy) */
    hc_log(ctx, 2, "cache transaction_update (%zu-byte key): %s", h->key_len, hc_status_name(st));
    HC_RETURN(st);
}

static fwe_trap_kind c_transaction_cancel(fwe_caller *caller, uint64_t *slots, void *data)
{
    HC_CTX(ctx);
    cache_h *h = get_h(ctx, HC_ARG(0), HC_ITEM_CACHE);
    if (!h)
        HC_RETURN(HC_BADF);
    resolve(h);
    if (!h->oblig)
        HC_RETURN(HC_BADF);
    hc_cache_oblig_abandon(h->oblig);
    h->oblig = NULL;
    HC_RETURN(HC_OK);
}

static fwe_trap_kind c_close(fwe_caller *caller, uint64_t *slots, void *data)
{
    HC_CTX(ctx);
    cache_h *h = hc_table_take(&ctx->items, HC_ARG(0), HC_ITEM_CACHE);
    if (!h)
        HC_RETURN(HC_BADF);
    cache_h_free(h); /* an obligation not fulfilled goes to the next waiter */
    HC_RETURN(HC_OK);
}

/* ---- getters (cache and replace handles) ---- */

/* The found object of a cache (kind HC_ITEM_CACHE) or replace handle, waiting for a pending
 * transaction; HC_BADF / HC_NONE. */
static hc_status found_of(hc_ctx *ctx, uint32_t handle, uint8_t kind, cache_h **hp,
                          hc_cache_obj **o)
{
    cache_h *h = get_h(ctx, handle, kind);
    if (!h)
        return HC_BADF;
    resolve(h);
    if (hp)
        *hp = h;
    *o = h->found;
    return *o ? HC_OK : HC_NONE;
}

static hc_status get_state(fwe_caller *caller, uint64_t *slots, uint8_t kind)
{
    hc_ctx *ctx = hc_caller_ctx(caller);
    if (!ctx)
        return HC_ERROR;
    cache_h *h = get_h(ctx, HC_ARG(0), kind);
    if (!h)
        return HC_BADF;
    resolve(h);
    return hc_mem_write_u32(caller, HC_ARG(1), hc_cache_state_flags(h->found, h->oblig != NULL));
}

static hc_status get_user_metadata(fwe_caller *caller, uint64_t *slots, uint8_t kind)
{
    hc_ctx *ctx = hc_caller_ctx(caller);
    if (!ctx)
        return HC_ERROR;
    hc_cache_obj *o;
    hc_status st = found_of(ctx, HC_ARG(0), kind, NULL, &o);
    if (st != HC_OK)
        return st;
    size_t len;
    const uint8_t *m = hc_cache_obj_user_metadata(o, &len);
    return hc_mem_copy_out(caller, HC_ARG(1), HC_ARG(2), HC_ARG(3), m, len);
}

/* get_body: the found object's bytes, or the range [from, to] (inclusive; `to` alone counts from
 * the end) as Viceroy: with an unknown length the range is ignored unless the lookup asked for
 * always_use_requested_range; an invalid range gives the whole body. */
static hc_status get_body(fwe_caller *caller, uint64_t *slots, uint8_t kind)
{
    hc_ctx *ctx = hc_caller_ctx(caller);
    if (!ctx)
        return HC_ERROR;
    uint32_t mask = HC_ARG(1);
    if (mask & ~(uint32_t)GB_ALL)
        return HC_INVAL;
    uint8_t *opts;
    hc_status st = hc_mem_record(caller, HC_ARG(2), 16, 8, &opts);
    if (st != HC_OK)
        return st;
    if (mask & GB_RESERVED)
        return HC_UNSUPPORTED;
    bool has_from = (mask & GB_FROM) != 0, has_to = (mask & GB_TO) != 0;
    uint64_t from = hc_rec_u64(opts, 0), to = hc_rec_u64(opts, 8);
    cache_h *h;
    hc_cache_obj *o;
    if ((st = found_of(ctx, HC_ARG(0), kind, &h, &o)) != HC_OK)
        return st;
    if (!hc_mem_slice(caller, HC_ARG(3), 4))
        return HC_INVAL;
    if (h->last_body != HC_NO_HANDLE && hc_table_kind(&ctx->items, h->last_body) != 0)
        return HC_BADF; /* the previous body of this handle is still open */
    hc_cache_info in;
    hc_cache_obj_info(o, &in);
    int64_t length = in.length;
    uint64_t start = 0;
    int64_t end = -1;
    bool whole = (!h->always_range && length < 0) || (!has_from && !has_to);
    if (!whole && length >= 0) {
        uint64_t L = (uint64_t)length;
        if (!has_from && has_to && (to < 1 || to > L))
            whole = true;
        else if (has_from && from >= L)
            whole = true;
        else if (has_from && has_to && (to < from || to >= L))
            whole = true;
    }
    if (!whole) {
        if (!has_from) {
            uint64_t L = length >= 0 ? (uint64_t)length : 0;
            if (length < 0 && !hc_cache_body_wait_length(o, &L))
                return HC_ERROR;
            if (to <= L)
                start = L - to;
        } else {
            start = from;
            if (has_to)
                end = to >= INT64_MAX ? INT64_MAX : (int64_t)to + 1;
        }
    }
    hc_body *b = hc_cache_reader_body(o, start, end);
    if (!b)
        return HC_ERROR;
    uint32_t bh;
    if ((st = hc_ctx_add_body(ctx, b, &bh)) != HC_OK) {
        hc_body_free(b);
        return st;
    }
    h->last_body = bh;
    return hc_mem_write_u32(caller, HC_ARG(3), bh);
}

/* A numeric getter of either cache API: `what` of the object found through the handle. */
static hc_status get_u64(fwe_caller *caller, uint64_t *slots, uint8_t kind, hc_cache_field what)
{
    hc_ctx *ctx = hc_caller_ctx(caller);
    if (!ctx)
        return HC_ERROR;
    hc_cache_obj *o;
    hc_status st = found_of(ctx, HC_ARG(0), kind, NULL, &o);
    if (st != HC_OK)
        return st;
    return hc_cache_write_field(caller, o, what, HC_ARG(1));
}

#define GETTERS(prefix, kind)                                                                      \
    static fwe_trap_kind prefix##get_state(fwe_caller *caller, uint64_t *slots, void *data)        \
    {                                                                                              \
        HC_RETURN(get_state(caller, slots, kind));                                                 \
    }                                                                                              \
    static fwe_trap_kind prefix##get_user_metadata(fwe_caller *caller, uint64_t *slots,            \
                                                   void *data)                                     \
    {                                                                                              \
        HC_RETURN(get_user_metadata(caller, slots, kind));                                         \
    }                                                                                              \
    static fwe_trap_kind prefix##get_body(fwe_caller *caller, uint64_t *slots, void *data)         \
    {                                                                                              \
        HC_RETURN(get_body(caller, slots, kind));                                                  \
    }                                                                                              \
    static fwe_trap_kind prefix##get_length(fwe_caller *caller, uint64_t *slots, void *data)       \
    {                                                                                              \
        HC_RETURN(get_u64(caller, slots, kind, HC_CACHE_LENGTH));                                  \
    }                                                                                              \
    static fwe_trap_kind prefix##get_max_age_ns(fwe_caller *caller, uint64_t *slots, void *data)   \
    {                                                                                              \
        HC_RETURN(get_u64(caller, slots, kind, HC_CACHE_MAX_AGE));                                 \
    }                                                                                              \
    static fwe_trap_kind prefix##get_swr_ns(fwe_caller *caller, uint64_t *slots, void *data)       \
    {                                                                                              \
        HC_RETURN(get_u64(caller, slots, kind, HC_CACHE_SWR));                                     \
    }                                                                                              \
    static fwe_trap_kind prefix##get_age_ns(fwe_caller *caller, uint64_t *slots, void *data)       \
    {                                                                                              \
        HC_RETURN(get_u64(caller, slots, kind, HC_CACHE_AGE));                                     \
    }                                                                                              \
    static fwe_trap_kind prefix##get_hits(fwe_caller *caller, uint64_t *slots, void *data)         \
    {                                                                                              \
        HC_RETURN(get_u64(caller, slots, kind, HC_CACHE_HITS));                                    \
    }

GETTERS(c_, HC_ITEM_CACHE)
GETTERS(r_, HC_ITEM_CACHE_REPLACE)

static fwe_trap_kind c_close_busy(fwe_caller *caller, uint64_t *slots, void *data)
{
    HC_CTX(ctx);
    cache_h *h = hc_table_take(&ctx->items, HC_ARG(0), HC_ITEM_CACHE);
    if (!h)
        HC_RETURN(HC_BADF);
    cache_h_free(h); /* a waiting transaction is dropped without waiting */
    HC_RETURN(HC_OK);
}

/* ---- replace ---- */

/* replace: the object currently stored (fresh or stale, as the docs say replace may return stale
 * objects) for reading, and the right to write its successor with replace_insert (the last
 * writer wins, as a non-transactional insert). cache_replace_options: request_headers (0),
 * replace_strategy (4), service_id (8), service_id_len (12). */
static fwe_trap_kind r_replace(fwe_caller *caller, uint64_t *slots, void *data)
{
    HC_CTX(ctx);
    uint32_t mask = HC_ARG(2);
    if (mask & ~(uint32_t)RP_ALL)
        HC_RETURN(HC_INVAL);
    uint8_t *o;
    hc_status st = hc_mem_record(caller, HC_ARG(3), 16, 4, &o);
    if (st != HC_OK)
        HC_RETURN(st);
    const hc_headers *req = NULL;
    if ((mask & RP_REQUEST_HEADERS) && (st = req_headers(ctx, hc_rec_u32(o, 0), &req)) != HC_OK)
        HC_RETURN(st);
    if ((mask & RP_REPLACE_STRATEGY) && hc_rec_u32(o, 4) > 2)
        HC_RETURN(HC_INVAL); /* immediate, immediate_force_miss, wait_for_revalidation */
    if (mask & (RP_SERVICE_ID | RP_RESERVED))
        HC_RETURN(HC_UNSUPPORTED);
    const uint8_t *key;
    if ((st = cache_key(caller, HC_ARG(0), HC_ARG(1), &key)) != HC_OK)
        HC_RETURN(st);
    if (!hc_mem_slice(caller, HC_ARG(4), 4))
        HC_RETURN(HC_INVAL);
    hc_cache *c = the_cache(ctx);
    if (!c)
        HC_RETURN(HC_UNSUPPORTED);
    cache_h *h = cache_h_new(c, key, HC_ARG(1), req);
    if (!h)
        HC_RETURN(HC_ERROR);
    h->always_range = (mask & RP_ALWAYS_USE_REQUESTED_RANGE) != 0;
    bool force_miss = (mask & RP_REPLACE_STRATEGY) && hc_rec_u32(o, 4) == 1;
    if (!force_miss)
        h->found = hc_cache_lookup(c, key, HC_ARG(1), req);
    log_lookup(ctx, "replace", h);
    uint32_t out;
    if ((st = add_h(ctx, h, HC_ITEM_CACHE_REPLACE, &out)) != HC_OK)
        HC_RETURN(st);
    HC_RETURN(hc_mem_write_u32(caller, HC_ARG(4), out));
}

static fwe_trap_kind r_replace_insert(fwe_caller *caller, uint64_t *slots, void *data)
{
    HC_CTX(ctx);
    hc_cache_write w;
    const hc_headers *req;
    hc_status st = write_options(caller, ctx, HC_ARG(1), HC_ARG(2), false, &w, &req);
    if (st != HC_OK)
        HC_RETURN(st);
    cache_h *h = get_h(ctx, HC_ARG(0), HC_ITEM_CACHE_REPLACE);
    if (!h)
        HC_RETURN(HC_BADF);
    if (!hc_mem_slice(caller, HC_ARG(3), 4))
        HC_RETURN(HC_INVAL);
    hc_cache_obj *o = hc_cache_insert(h->cache, h->key, h->key_len, &h->req, &w);
    if (!o)
        HC_RETURN(HC_ERROR);
    HC_RETURN(hc_cache_open_wbody(caller, ctx, o, HC_ARG(3)));
}

#define M "fastly_cache"
const hc_impl hc_cache_impls[] = {
    {M, "lookup", c_lookup},
    {M, "insert", c_insert},
    {M, "transaction_lookup", c_transaction_lookup},
    {M, "transaction_lookup_async", c_transaction_lookup_async},
    {M, "cache_busy_handle_wait", c_busy_wait},
    {M, "transaction_insert", c_transaction_insert},
    {M, "transaction_insert_and_stream_back", c_transaction_insert_and_stream_back},
    {M, "transaction_update", c_transaction_update},
    {M, "transaction_cancel", c_transaction_cancel},
    {M, "close_busy", c_close_busy},
    {M, "close", c_close},
    {M, "get_state", c_get_state},
    {M, "get_user_metadata", c_get_user_metadata},
    {M, "get_body", c_get_body},
    {M, "get_length", c_get_length},
    {M, "get_max_age_ns", c_get_max_age_ns},
    {M, "get_stale_while_revalidate_ns", c_get_swr_ns},
    {M, "get_age_ns", c_get_age_ns},
    {M, "get_hits", c_get_hits},
    {M, "replace", r_replace},
    {M, "replace_insert", r_replace_insert},
    {M, "replace_get_age_ns", r_get_age_ns},
    {M, "replace_get_body", r_get_body},
    {M, "replace_get_hits", r_get_hits},
    {M, "replace_get_length", r_get_length},
    {M, "replace_get_max_age_ns", r_get_max_age_ns},
    {M, "replace_get_stale_while_revalidate_ns", r_get_swr_ns},
    {M, "replace_get_state", r_get_state},
    {M, "replace_get_user_metadata", r_get_user_metadata},
    {NULL, NULL, NULL},
};
#undef M
