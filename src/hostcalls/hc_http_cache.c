/* hc_http_cache.c: the fastly_http_cache module over the shared store (Viceroy implements none of
 * it; this follows the witx and Fastly's documentation). A handle remembers the looked-up request
 * (for the suggested backend request and conditional revalidation), what was found and the
 * obligation of a transaction; stored objects carry the response's status and headers next to the
 * body. Suggested options come from hc_cache_policy, as for the readthrough cache, which uses the
 * same keys (SHA-256 of the URL) so both see the same objects. */
#include "hc_http_cache.h"

#include "hc_cache.h"
#include "hc_cache_policy.h"
#include "hc_hostcall.h"
#include "hc_pending.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum { LO_RESERVED = 1u, LO_OVERRIDE_KEY = 2u, LO_BACKEND_NAME = 4u, LO_ALL = 7u };
enum {
    HW_RESERVED = 1u << 0,
    HW_VARY_RULE = 1u << 1,
    HW_INITIAL_AGE_NS = 1u << 2,
    HW_SWR_NS = 1u << 3,
    HW_SURROGATE_KEYS = 1u << 4,
    HW_LENGTH = 1u << 5,
    HW_SENSITIVE_DATA = 1u << 6,
    HW_SIE_NS = 1u << 7,
    HW_ALL = (1u << 8) - 1,
};
enum { ACT_INSERT = 0, ACT_UPDATE = 1, ACT_DO_NOT_STORE = 2, ACT_RECORD_UNCACHEABLE = 3 };
#define WO_SIZE 56 /* http_cache_write_options */

typedef struct http_h {
    hc_cache *cache;
    uint8_t *key;
    size_t key_len;
    hc_request *req; /* a copy of the looked-up request */
    hc_cache_obj *found;
    hc_cache_oblig *oblig;
} http_h;

void hc_http_cache_suggested_key(const char *url, uint8_t out[HC_HTTP_CACHE_KEY_LEN])
{
    unsigned int n = 0;
    if (!EVP_Digest(url, strlen(url), out, &n, EVP_sha256(), NULL))
        memset(out, 0, HC_HTTP_CACHE_KEY_LEN);
}

void hc_http_cache_handle_free(void *obj)
{
    http_h *h = obj;
    if (!h)
        return;
    hc_cache_oblig_abandon(h->oblig);
    hc_cache_obj_release(h->found);
    hc_request_free(h->req);
    free(h->key);
    free(h);
}

bool hc_http_cache_handle_ready(void *obj)
{
    (void)obj;
    return true; /* lookups settle before the handle exists */
}

static hc_request *copy_request(const hc_request *r)
{
    hc_request *c = hc_request_new();
    if (!c)
        return NULL;
    if (!hc_request_set_method(c, r->method, strlen(r->method)) ||
        !hc_request_set_uri(c, r->uri, strlen(r->uri)) ||
        !hc_headers_copy(&c->headers, &r->headers)) {
        hc_request_free(c);
        return NULL;
    }
    c->version = r->version;
    return c;
}

static http_h *get_h(hc_ctx *ctx, uint32_t handle)
{
    return hc_table_get(&ctx->items, handle, HC_ITEM_HTTP_CACHE);
}

static hc_status add_h(hc_ctx *ctx, http_h *h, uint32_t *out)
{
    *out = hc_table_add(&ctx->items, HC_ITEM_HTTP_CACHE, h);
    if (*out == HC_HANDLE_INVALID) {
        hc_http_cache_handle_free(h);
        return HC_LIMITEXCEEDED;
    }
    return HC_OK;
}

/* http_cache_write_options into *w; the response head is set by the caller. */
static hc_status write_options(fwe_caller *caller, uint32_t mask, uint32_t ptr, hc_cache_write *w)
{
    memset(w, 0, sizeof *w);
    w->length = -1;
    if (mask & ~(uint32_t)HW_ALL)
        return HC_INVAL;
    uint8_t *o;
    hc_status st = hc_mem_record(caller, ptr, WO_SIZE, 8, &o);
    if (st != HC_OK)
        return st;
    if (mask & HW_RESERVED)
        return HC_UNSUPPORTED;
    w->max_age_ns = hc_rec_u64(o, 0);
    if (mask & HW_VARY_RULE) {
        uint32_t len = hc_rec_u32(o, 12);
        w->vary = (const char *)hc_mem_slice(caller, hc_rec_u32(o, 8), len);
        if (!w->vary && len)
            return HC_INVAL;
        w->vary_len = len;
    }
    if (mask & HW_INITIAL_AGE_NS)
        w->initial_age_ns = hc_rec_u64(o, 16);
    if (mask & HW_SWR_NS)
        w->swr_ns = hc_rec_u64(o, 24);
    if (mask & HW_SURROGATE_KEYS) {
        uint32_t len = hc_rec_u32(o, 36);
        w->surrogate_keys = (const char *)hc_mem_slice(caller, hc_rec_u32(o, 32), len);
        if (!w->surrogate_keys && len)
            return HC_INVAL;
        w->surrogate_keys_len = len;
    }
    if (mask & HW_LENGTH)
        w->length = hc_rec_u64(o, 40) > INT64_MAX ? INT64_MAX : (int64_t)hc_rec_u64(o, 40);
    w->sensitive = (mask & HW_SENSITIVE_DATA) != 0;
    if (mask & HW_SIE_NS)
        w->sie_ns = hc_rec_u64(o, 48);
    return hc_cache_check_write(w);
}

/* ---- lookups ---- */

static hc_status do_lookup(fwe_caller *caller, uint64_t *slots, bool txn)
{
    hc_ctx *ctx = hc_caller_ctx(caller);
    if (!ctx)
        return HC_ERROR;
    hc_request *r = hc_ctx_request(ctx, HC_ARG(0));
    if (!r)
        return HC_BADF;
    uint32_t mask = HC_ARG(1);
    if (mask & ~(uint32_t)LO_ALL)
        return HC_INVAL;
    uint8_t *o;
    hc_status st = hc_mem_record(caller, HC_ARG(2), 16, 4, &o);
    if (st != HC_OK)
        return st;
    if (mask & LO_RESERVED)
        return HC_UNSUPPORTED;
    uint8_t suggested[HC_HTTP_CACHE_KEY_LEN];
    const uint8_t *key = suggested;
    size_t key_len = sizeof suggested;
    hc_http_cache_suggested_key(r->uri, suggested);
    if (mask & LO_OVERRIDE_KEY) {
        key_len = hc_rec_u32(o, 4);
        key = hc_mem_slice(caller, hc_rec_u32(o, 0), (uint32_t)key_len);
        if ((!key && key_len) || key_len > HC_CACHE_KEY_MAX)
            return HC_INVAL;
        if (!key)
            key = (const uint8_t *)"";
    }
    if (mask & LO_BACKEND_NAME) {
        uint32_t bl = hc_rec_u32(o, 12);
        if (!hc_mem_slice(caller, hc_rec_u32(o, 8), bl) && bl)
            return HC_INVAL;
    }
    if (!hc_mem_slice(caller, HC_ARG(3), 4))
        return HC_INVAL;
    hc_cache *c = ctx->settings->cache;
    if (!c)
        return HC_UNSUPPORTED;
    http_h *h = calloc(1, sizeof *h);
    if (!h)
        return HC_ERROR;
    h->cache = c;
    h->key = malloc(key_len ? key_len : 1);
    h->req = copy_request(r);
    if (!h->key || !h->req) {
        hc_http_cache_handle_free(h);
        return HC_ERROR;
    }
    memcpy(h->key, key, key_len);
    h->key_len = key_len;
    if (txn && !hc_cache_txn_lookup_owned(c, h->key, key_len, &r->headers, true, ctx, &h->found,
                                          &h->oblig))
        /* as fastly_cache: waiting for this request's own obligation would never end */
        hc_log(ctx, 0,
               "http cache: a transaction waits for the insert this same request must do "
               "(insert or abandon first); it ends empty instead of waiting forever");
    else if (!txn)
        h->found = hc_cache_lookup(c, h->key, key_len, &r->headers);
    /* -v 1: hit or miss of the transactions SDKs make for fetch; -v 2: every lookup */
    hc_cache_info in = {0};
    if (h->found)
        hc_cache_obj_info(h->found, &in);
    hc_log(ctx, txn ? 1 : 2, "http cache %s: %s %s%s",
           !h->found || in.not_cacheable ? (h->oblig ? "MISS" : "PASS (hit-for-pass)")
           : h->oblig                    ? "STALE, must revalidate"
                                         : "HIT",
           r->method, r->uri, txn ? "" : " (lookup without collapsing)");
    uint32_t out;
    if ((st = add_h(ctx, h, &out)) != HC_OK)
        return st;
    return hc_mem_write_u32(caller, HC_ARG(3), out);
}

static fwe_trap_kind h_lookup(fwe_caller *caller, uint64_t *slots, void *data)
{
    HC_RETURN(do_lookup(caller, slots, false));
}

static fwe_trap_kind h_transaction_lookup(fwe_caller *caller, uint64_t *slots, void *data)
{
    HC_RETURN(do_lookup(caller, slots, true));
}

static fwe_trap_kind h_is_request_cacheable(fwe_caller *caller, uint64_t *slots, void *data)
{
    HC_CTX(ctx);
    hc_request *r = hc_ctx_request(ctx, HC_ARG(0));
    if (!r)
        HC_RETURN(HC_BADF);
    bool ok = strcmp(r->method, "GET") == 0 || strcmp(r->method, "HEAD") == 0;
    HC_RETURN(hc_mem_write_u32(caller, HC_ARG(1), ok ? 1 : 0));
}

static fwe_trap_kind h_get_suggested_cache_key(fwe_caller *caller, uint64_t *slots, void *data)
{
    HC_CTX(ctx);
    hc_request *r = hc_ctx_request(ctx, HC_ARG(0));
    if (!r)
        HC_RETURN(HC_BADF);
    uint8_t key[HC_HTTP_CACHE_KEY_LEN];
    hc_http_cache_suggested_key(r->uri, key);
    HC_RETURN(hc_mem_copy_out(caller, HC_ARG(1), HC_ARG(2), HC_ARG(3), key, sizeof key));
}

/* ---- writes ---- */

/* The object a new response head + options make: consumes the response handle. */
static hc_status take_response(hc_ctx *ctx, uint32_t resp_h, hc_response **out)
{
    *out = hc_table_take(&ctx->responses, resp_h, HC_KIND_RESPONSE);
    return *out ? HC_OK : HC_BADF;
}

/* insert / insert_and_stream_back / update / update_and_return_fresh */
enum { W_INSERT, W_INSERT_BACK, W_UPDATE, W_UPDATE_FRESH };

static hc_status do_write(fwe_caller *caller, uint64_t *slots, int kind)
{
    hc_ctx *ctx = hc_caller_ctx(caller);
    if (!ctx)
        return HC_ERROR;
    http_h *h = get_h(ctx, HC_ARG(0));
    if (!h)
        return HC_BADF;
    if (!hc_ctx_response(ctx, HC_ARG(1)))
        return HC_BADF;
    hc_cache_write w;
    hc_status st = write_options(caller, HC_ARG(2), HC_ARG(3), &w);
    if (st != HC_OK)
        return st;
    uint32_t out1 = HC_ARG(4), out2 = kind == W_INSERT_BACK ? HC_ARG(5) : 0;
    if ((kind != W_UPDATE && !hc_mem_slice(caller, out1, 4)) ||
        (out2 && !hc_mem_slice(caller, out2, 4)))
        return HC_INVAL;
    if (!h->oblig)
        return HC_BADF; /* nothing to insert or update */
    if ((kind == W_UPDATE || kind == W_UPDATE_FRESH) && !hc_cache_oblig_found(h->oblig))
        return HC_BADF; /* an update needs a stored response */
    hc_response *r;
    if ((st = take_response(ctx, HC_ARG(1), &r)) != HC_OK)
        return st;
    w.status = r->status;
    w.resp_headers = &r->headers;
    hc_cache_obj *o = NULL;
    if (kind == W_INSERT || kind == W_INSERT_BACK) {
        o = hc_cache_oblig_insert(h->oblig, &w);
        h->oblig = NULL;
        st = o ? HC_OK : HC_ERROR;
    } else {
        st = hc_cache_oblig_update(h->oblig, &w, &o);
        if (st == HC_OK)
            h->oblig = NULL;
    }
    hc_response_free(r);
    hc_log(ctx, 2, "http cache %s %s: %s", kind <= W_INSERT_BACK ? "insert" : "update", h->req->uri,
           hc_status_name(st));
    if (st != HC_OK)
        return st;
    uint32_t fresh = HC_NO_HANDLE;
    if (kind == W_INSERT_BACK || kind == W_UPDATE_FRESH) {
        http_h *n = calloc(1, sizeof *n);
        if (n) {
            n->cache = h->cache;
            n->key = malloc(h->key_len ? h->key_len : 1);
            n->req = copy_request(h->req);
        }
        if (!n || !n->key || !n->req) {
            hc_http_cache_handle_free(n);
            if (kind == W_INSERT_BACK)
                hc_cache_body_finish(o, false);
            hc_cache_obj_release(o);
            return HC_ERROR;
        }
        memcpy(n->key, h->key, h->key_len);
        n->key_len = h->key_len;
        hc_cache_obj_retain(o);
        n->found = o;
        if ((st = add_h(ctx, n, &fresh)) != HC_OK) {
            hc_cache_obj_release(o);
            return st;
        }
    }
    if (kind == W_UPDATE || kind == W_UPDATE_FRESH) {
        hc_cache_obj_release(o);
        return kind == W_UPDATE_FRESH ? hc_mem_write_u32(caller, out1, fresh) : HC_OK;
    }
    st = hc_cache_open_wbody(caller, ctx, o, out1);
    if (st == HC_OK && out2)
        st = hc_mem_write_u32(caller, out2, fresh);
    return st;
}

static fwe_trap_kind h_transaction_insert(fwe_caller *caller, uint64_t *slots, void *data)
{
    HC_RETURN(do_write(caller, slots, W_INSERT));
}

static fwe_trap_kind h_transaction_insert_and_stream_back(fwe_caller *caller, uint64_t *slots,
                                                          void *data)
{
    HC_RETURN(do_write(caller, slots, W_INSERT_BACK));
}

static fwe_trap_kind h_transaction_update(fwe_caller *caller, uint64_t *slots, void *data)
{
    HC_RETURN(do_write(caller, slots, W_UPDATE));
}

static fwe_trap_kind h_transaction_update_and_return_fresh(fwe_caller *caller, uint64_t *slots,
                                                           void *data)
{
    HC_RETURN(do_write(caller, slots, W_UPDATE_FRESH));
}

static fwe_trap_kind h_transaction_choose_stale(fwe_caller *caller, uint64_t *slots, void *data)
{
    HC_CTX(ctx);
    http_h *h = get_h(ctx, HC_ARG(0));
    if (!h)
        HC_RETURN(HC_BADF);
    if (!h->oblig || !h->found)
        HC_RETURN(HC_BADF); /* no obligation, or nothing stale to choose */
    hc_cache_oblig_choose_stale(h->oblig);
    h->oblig = NULL;
    HC_RETURN(HC_OK);
}

static fwe_trap_kind h_transaction_record_not_cacheable(fwe_caller *caller, uint64_t *slots,
                                                        void *data)
{
    HC_CTX(ctx);
    http_h *h = get_h(ctx, HC_ARG(0));
    if (!h)
        HC_RETURN(HC_BADF);
    hc_cache_write w;
    hc_status st = write_options(caller, HC_ARG(1), HC_ARG(2), &w);
    if (st != HC_OK)
        HC_RETURN(st);
    if (!h->oblig)
        HC_RETURN(HC_BADF);
    /* only the max age and the vary rule count (as the witx says) */
    hc_cache_write hfp = {.max_age_ns = w.max_age_ns,
                          .vary = w.vary,
                          .vary_len = w.vary_len,
                          .length = -1,
                          .not_cacheable = true};
    hc_cache_obj *o = hc_cache_oblig_insert(h->oblig, &hfp);
    h->oblig = NULL;
    if (!o)
        HC_RETURN(HC_ERROR);
    hc_cache_body_finish(o, true);
    hc_cache_obj_release(o);
    HC_RETURN(HC_OK);
}

static fwe_trap_kind h_transaction_abandon(fwe_caller *caller, uint64_t *slots, void *data)
{
    HC_CTX(ctx);
    http_h *h = get_h(ctx, HC_ARG(0));
    if (!h)
        HC_RETURN(HC_BADF);
    if (!h->oblig)
        HC_RETURN(HC_BADF);
    hc_cache_oblig_abandon(h->oblig);
    h->oblig = NULL;
    HC_RETURN(HC_OK);
}

static fwe_trap_kind h_close(fwe_caller *caller, uint64_t *slots, void *data)
{
    HC_CTX(ctx);
    http_h *h = hc_table_take(&ctx->items, HC_ARG(0), HC_ITEM_HTTP_CACHE);
    if (!h)
        HC_RETURN(HC_BADF);
    hc_http_cache_handle_free(h);
    HC_RETURN(HC_OK);
}

/* ---- suggestions ---- */

static fwe_trap_kind h_get_suggested_backend_request(fwe_caller *caller, uint64_t *slots,
                                                     void *data)
{
    HC_CTX(ctx);
    http_h *h = get_h(ctx, HC_ARG(0));
    if (!h)
        HC_RETURN(HC_BADF);
    if (!hc_mem_slice(caller, HC_ARG(1), 4))
        HC_RETURN(HC_INVAL);
    hc_request *r = copy_request(h->req);
    if (!r)
        HC_RETURN(HC_ERROR);
    /* unranged, to cache the whole response; conditional when revalidating a stored one */
    hc_headers_remove(&r->headers, "range", 5);
    hc_cache_obj *stale = h->oblig ? hc_cache_oblig_found(h->oblig) : NULL;
    if (stale) {
        const hc_headers *sh = hc_cache_obj_resp_headers(stale);
        const hc_header *etag = hc_headers_get(sh, "etag", 4);
        const hc_header *lm = hc_headers_get(sh, "last-modified", 13);
        if (etag)
            hc_headers_insert(&r->headers, "If-None-Match", 13, etag->value, etag->value_len);
        if (lm)
            hc_headers_insert(&r->headers, "If-Modified-Since", 17, lm->value, lm->value_len);
    }
    uint32_t out;
    hc_status st = hc_ctx_add_request(ctx, r, &out);
    if (st != HC_OK) {
        hc_request_free(r);
        HC_RETURN(st);
    }
    HC_RETURN(hc_mem_write_u32(caller, HC_ARG(1), out));
}

/* Copies a pointer/length option into the guest's buffer described in `in` at (ptr_off,
 * len_off); the out record gets the same pointer and the length written (or needed). */
static hc_status put_string(fwe_caller *caller, const uint8_t *in, uint8_t *out, size_t ptr_off,
                            size_t len_off, const char *s, size_t len)
{
    uint32_t ptr = hc_rec_u32(in, ptr_off), cap = hc_rec_u32(in, len_off);
    hc_rec_set_u32(out, ptr_off, ptr);
    hc_rec_set_u32(out, len_off, (uint32_t)len);
    if (len > cap)
        return HC_BUFLEN;
    return hc_mem_write_bytes(caller, ptr, s, len);
}

static fwe_trap_kind h_get_suggested_cache_options(fwe_caller *caller, uint64_t *slots, void *data)
{
    HC_CTX(ctx);
    http_h *h = get_h(ctx, HC_ARG(0));
    if (!h)
        HC_RETURN(HC_BADF);
    hc_response *r = hc_ctx_response(ctx, HC_ARG(1));
    if (!r)
        HC_RETURN(HC_BADF);
    uint32_t mask = HC_ARG(2);
    if (mask & ~(uint32_t)HW_ALL)
        HC_RETURN(HC_INVAL);
    uint8_t *in, *out;
    hc_status st = hc_mem_record(caller, HC_ARG(3), WO_SIZE, 8, &in);
    if (st == HC_OK)
        st = hc_mem_record(caller, HC_ARG(5), WO_SIZE, 8, &out);
    if (st != HC_OK)
        HC_RETURN(st);
    if (!hc_mem_slice(caller, HC_ARG(4), 4))
        HC_RETURN(HC_INVAL);
    if (HC_ARG(4) & 3u)
        HC_RETURN(HC_BADALIGN);
    uint8_t inc[WO_SIZE], res[WO_SIZE];
    memcpy(inc, in, WO_SIZE); /* the in and out records may be the same memory */
    memset(res, 0, sizeof res);
    hc_cache_policy pol;
    hc_cache_policy_decide(r->status, &r->headers, &h->req->cache_override, (int64_t)time(NULL),
                           &pol);
    uint32_t mout = 0;
    st = HC_OK;
    hc_rec_set_u64(res, 0, pol.cacheable ? pol.ttl_ns : 0);
    if (mask & HW_INITIAL_AGE_NS) {
        hc_rec_set_u64(res, 16, pol.initial_age_ns);
        mout |= HW_INITIAL_AGE_NS;
    }
    if (mask & HW_SWR_NS) {
        hc_rec_set_u64(res, 24, pol.swr_ns);
        mout |= HW_SWR_NS;
    }
    if (mask & HW_SIE_NS) {
        hc_rec_set_u64(res, 48, pol.sie_ns);
        mout |= HW_SIE_NS;
    }
    uint64_t len;
    const hc_header *cl = hc_headers_get(&r->headers, "content-length", 14);
    if ((mask & HW_LENGTH) && cl && cl->value_len > 0 && cl->value_len < 20) {
        char tmp[24];
        memcpy(tmp, cl->value, cl->value_len);
        tmp[cl->value_len] = '\0';
        char *end;
        len = strtoull(tmp, &end, 10);
        if (*end == '\0') {
            hc_rec_set_u64(res, 40, len);
            mout |= HW_LENGTH;
        }
    }
    if ((mask & HW_SENSITIVE_DATA) && pol.sensitive)
        mout |= HW_SENSITIVE_DATA;
    /* the vary rule without trailing space */
    size_t vl = pol.vary_len;
    while (vl > 0 && pol.vary[vl - 1] == ' ')
        vl--;
    if (mask & HW_VARY_RULE) {
        hc_status s2 = put_string(caller, inc, res, 8, 12, pol.vary, vl);
        if (s2 != HC_OK && s2 != HC_BUFLEN)
            st = s2;
        else if (s2 == HC_BUFLEN)
            st = HC_BUFLEN;
        mout |= HW_VARY_RULE;
    }
    if (mask & HW_SURROGATE_KEYS) {
        hc_status s2 =
            put_string(caller, inc, res, 32, 36, pol.surrogate_keys ? pol.surrogate_keys : "",
                       pol.surrogate_keys_len);
        if (s2 != HC_OK && s2 != HC_BUFLEN)
            st = s2;
        else if (s2 == HC_BUFLEN && st == HC_OK)
            st = HC_BUFLEN;
        if (pol.surrogate_keys_len)
            mout |= HW_SURROGATE_KEYS;
    }
    hc_cache_policy_deinit(&pol);
    if (st != HC_OK && st != HC_BUFLEN)
        HC_RETURN(st);
    memcpy(out, res, WO_SIZE);
    hc_status ws = hc_mem_write_u32(caller, HC_ARG(4), mout);
    HC_RETURN(ws != HC_OK ? ws : st);
}

/* prepare_response_for_storage: a 304 for a stored response becomes that response with the new
 * headers (update); otherwise insert, record-uncacheable or do-not-store as the policy says. The
 * response handle is consumed and a new one returned. */
static fwe_trap_kind h_prepare_response_for_storage(fwe_caller *caller, uint64_t *slots, void *data)
{
    HC_CTX(ctx);
    http_h *h = get_h(ctx, HC_ARG(0));
    if (!h)
        HC_RETURN(HC_BADF);
    if (!hc_ctx_response(ctx, HC_ARG(1)))
        HC_RETURN(HC_BADF);
    if (!hc_mem_slice(caller, HC_ARG(2), 4) || !hc_mem_slice(caller, HC_ARG(3), 4))
        HC_RETURN(HC_INVAL);
    hc_response *r = hc_table_take(&ctx->responses, HC_ARG(1), HC_KIND_RESPONSE);
    uint32_t action;
    hc_cache_obj *stored = h->found ? h->found : (h->oblig ? hc_cache_oblig_found(h->oblig) : NULL);
    if (r->status == 304 && stored && hc_cache_obj_status(stored)) {
        /* the stored head, refreshed by the 304's headers */
        hc_headers merged;
        hc_headers_init(&merged);
        hc_headers_copy(&merged, hc_cache_obj_resp_headers(stored));
        for (size_t i = 0; i < r->headers.n; i++) {
            const hc_header *e = &r->headers.items[i];
            if (hc_header_name_eq(e->name, e->name_len, "content-length", 14))
                continue;
            hc_headers_insert(&merged, e->name, e->name_len, e->value, e->value_len);
        }
        hc_headers_deinit(&r->headers);
        r->headers = merged;
        r->status = hc_cache_obj_status(stored);
        action = ACT_UPDATE;
    } else {
        hc_cache_policy pol;
        hc_cache_policy_decide(r->status, &r->headers, &h->req->cache_override, (int64_t)time(NULL),
                               &pol);
        action = pol.cacheable      ? ACT_INSERT
                 : pol.hit_for_pass ? ACT_RECORD_UNCACHEABLE
                                    : ACT_DO_NOT_STORE;
        hc_cache_policy_deinit(&pol);
    }
    uint32_t out;
    hc_status st = hc_ctx_add_response(ctx, r, &out);
    if (st != HC_OK) {
        hc_response_free(r);
        HC_RETURN(st);
    }
    st = hc_mem_write_u32(caller, HC_ARG(2), action);
    if (st == HC_OK)
        st = hc_mem_write_u32(caller, HC_ARG(3), out);
    HC_RETURN(st);
}

/* ---- found response and getters ---- */

/* The usable found object (HC_NONE when nothing, or only a hit-for-pass marker). */
static hc_status found_of(hc_ctx *ctx, uint32_t handle, http_h **hp, hc_cache_obj **o)
{
    http_h *h = get_h(ctx, handle);
    if (!h)
        return HC_BADF;
    if (hp)
        *hp = h;
    *o = h->found;
    if (!*o)
        return HC_NONE;
    hc_cache_info in;
    hc_cache_obj_info(*o, &in);
    return in.not_cacheable ? HC_NONE : HC_OK;
}

static fwe_trap_kind h_get_found_response(fwe_caller *caller, uint64_t *slots, void *data)
{
    HC_CTX(ctx);
    hc_cache_obj *o;
    hc_status st = found_of(ctx, HC_ARG(0), NULL, &o);
    if (st != HC_OK)
        HC_RETURN(st);
    if (!hc_mem_slice(caller, HC_ARG(2), 4) || !hc_mem_slice(caller, HC_ARG(3), 4))
        HC_RETURN(HC_INVAL);
    hc_response *r = hc_response_new();
    hc_body *b = hc_cache_reader_body(o, 0, -1);
    if (!r || !b || !hc_headers_copy(&r->headers, hc_cache_obj_resp_headers(o))) {
        hc_response_free(r);
        hc_body_free(b);
        HC_RETURN(HC_ERROR);
    }
    r->status = hc_cache_obj_status(o) ? hc_cache_obj_status(o) : 200;
    if (HC_ARG(1)) {
        /* for the client: the current Age */
        hc_cache_info in;
        hc_cache_obj_info(o, &in);
        char age[24];
        int n = snprintf(age, sizeof age, "%llu", (unsigned long long)(in.age_ns / 1000000000ull));
        hc_headers_insert(&r->headers, "Age", 3, age, (size_t)n);
    }
    uint32_t rh, bh;
    if ((st = hc_ctx_add_response(ctx, r, &rh)) != HC_OK) {
        hc_response_free(r);
        hc_body_free(b);
        HC_RETURN(st);
    }
    if ((st = hc_ctx_add_body(ctx, b, &bh)) != HC_OK) {
        hc_body_free(b);
        HC_RETURN(st);
    }
    st = hc_mem_write_u32(caller, HC_ARG(2), rh);
    if (st == HC_OK)
        st = hc_mem_write_u32(caller, HC_ARG(3), bh);
    HC_RETURN(st);
}

static fwe_trap_kind h_get_state(fwe_caller *caller, uint64_t *slots, void *data)
{
    HC_CTX(ctx);
    http_h *h = get_h(ctx, HC_ARG(0));
    if (!h)
        HC_RETURN(HC_BADF);
    HC_RETURN(
        hc_mem_write_u32(caller, HC_ARG(1), hc_cache_state_flags(h->found, h->oblig != NULL)));
}

static hc_status get_num(fwe_caller *caller, uint64_t *slots, hc_cache_field what)
{
    hc_ctx *ctx = hc_caller_ctx(caller);
    if (!ctx)
        return HC_ERROR;
    hc_cache_obj *o;
    hc_status st = found_of(ctx, HC_ARG(0), NULL, &o);
    if (st != HC_OK)
        return st;
    return hc_cache_write_field(caller, o, what, HC_ARG(1));
}

#define NUM_GETTER(fn, what)                                                                       \
    static fwe_trap_kind fn(fwe_caller *caller, uint64_t *slots, void *data)                       \
    {                                                                                              \
        HC_RETURN(get_num(caller, slots, what));                                                   \
    }
NUM_GETTER(h_get_length, HC_CACHE_LENGTH)
NUM_GETTER(h_get_max_age_ns, HC_CACHE_MAX_AGE)
NUM_GETTER(h_get_swr_ns, HC_CACHE_SWR)
NUM_GETTER(h_get_sie_ns, HC_CACHE_SIE)
NUM_GETTER(h_get_age_ns, HC_CACHE_AGE)
NUM_GETTER(h_get_hits, HC_CACHE_HITS)
NUM_GETTER(h_get_sensitive_data, HC_CACHE_SENSITIVE)

static hc_status get_text(fwe_caller *caller, uint64_t *slots, bool keys)
{
    hc_ctx *ctx = hc_caller_ctx(caller);
    if (!ctx)
        return HC_ERROR;
    hc_cache_obj *o;
    hc_status st = found_of(ctx, HC_ARG(0), NULL, &o);
    if (st != HC_OK)
        return st;
    size_t len;
    const char *s = keys ? hc_cache_obj_surrogate_keys(o, &len) : hc_cache_obj_vary_rule(o, &len);
    return hc_mem_copy_out(caller, HC_ARG(1), HC_ARG(2), HC_ARG(3), s, len);
}

static fwe_trap_kind h_get_surrogate_keys(fwe_caller *caller, uint64_t *slots, void *data)
{
    HC_RETURN(get_text(caller, slots, true));
}

static fwe_trap_kind h_get_vary_rule(fwe_caller *caller, uint64_t *slots, void *data)
{
    HC_RETURN(get_text(caller, slots, false));
}

#define M "fastly_http_cache"
const hc_impl hc_http_cache_impls[] = {
    {M, "is_request_cacheable", h_is_request_cacheable},
    {M, "get_suggested_cache_key", h_get_suggested_cache_key},
    {M, "lookup", h_lookup},
    {M, "transaction_lookup", h_transaction_lookup},
    {M, "transaction_insert", h_transaction_insert},
    {M, "transaction_insert_and_stream_back", h_transaction_insert_and_stream_back},
    {M, "transaction_update", h_transaction_update},
    {M, "transaction_update_and_return_fresh", h_transaction_update_and_return_fresh},
    {M, "transaction_choose_stale", h_transaction_choose_stale},
    {M, "transaction_record_not_cacheable", h_transaction_record_not_cacheable},
    {M, "transaction_abandon", h_transaction_abandon},
    {M, "close", h_close},
    {M, "get_suggested_backend_request", h_get_suggested_backend_request},
    {M, "get_suggested_cache_options", h_get_suggested_cache_options},
    {M, "prepare_response_for_storage", h_prepare_response_for_storage},
    {M, "get_found_response", h_get_found_response},
    {M, "get_state", h_get_state},
    {M, "get_length", h_get_length},
    {M, "get_max_age_ns", h_get_max_age_ns},
    {M, "get_stale_while_revalidate_ns", h_get_swr_ns},
    {M, "get_stale_if_error_ns", h_get_sie_ns},
    {M, "get_age_ns", h_get_age_ns},
    {M, "get_hits", h_get_hits},
    {M, "get_sensitive_data", h_get_sensitive_data},
    {M, "get_surrogate_keys", h_get_surrogate_keys},
    {M, "get_vary_rule", h_get_vary_rule},
    {NULL, NULL, NULL},
};
#undef M
