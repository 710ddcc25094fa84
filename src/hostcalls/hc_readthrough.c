/* hc_readthrough.c: the readthrough cache of backend responses (hc_readthrough.h). A GET without
 * a `pass` override is looked up by URL (the HTTP cache API's key); concurrent misses collapse (the
 * others wait for the first one's response head, then stream its body from the cache); a fresh hit,
 * or a stale one that another request is revalidating, answers from the cache with an Age header; a
 * miss or a revalidation goes to the origin and stores the answer when it is cacheable
 * (hc_cache_policy), remembers an uncacheable one as hit-for-pass, and falls back to a stale object
 * within stale-if-error when the origin fails or answers 5XX. */
#include "hc_readthrough.h"
#include "profiler/prof_record.h"
#include "profiler/prof_recorder.h"

#include "hc_cache.h"
#include "hc_cache_policy.h"
#include "hc_http_cache.h"
#include "util/util_str.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct hc_rt {
    hc_cache *cache;
    hc_cache_obj *hit;     /* answer with this */
    hc_cache_oblig *oblig; /* store the origin's answer */
    hc_cache_obj *stale;   /* what the obligation found (for stale-if-error) */
    hc_cache_override ov;  /* the request's override (surrogate key copied) */
    char *url;             /* for log lines (the request itself is consumed by the send) */
};

void hc_readthrough_free(hc_rt *rt)
{
    if (!rt)
        return;
    hc_cache_obj_release(rt->hit);
    hc_cache_obj_release(rt->stale);
    hc_cache_oblig_abandon(rt->oblig);
    free(rt->ov.surrogate_key);
    free(rt->url);
    free(rt);
}

/* The cache key: the HTTP cache API's suggested key (SHA-256 of the URL, which includes the
 * host), so both APIs see the same objects. */
static uint8_t *make_key(const char *url, size_t *len)
{
    uint8_t *k = malloc(HC_HTTP_CACHE_KEY_LEN);
    if (k)
        hc_http_cache_suggested_key(url, k);
    *len = HC_HTTP_CACHE_KEY_LEN;
    return k;
}

/* A response and body handle answering from `o`, with its current Age. */
static hc_status serve(hc_ctx *ctx, hc_cache_obj *o, uint32_t *resp_h, uint32_t *body_h)
{
    hc_response *r = hc_response_new();
    hc_body *b = hc_cache_reader_body(o, 0, -1);
    if (!r || !b || !hc_headers_copy(&r->headers, hc_cache_obj_resp_headers(o))) {
        hc_response_free(r);
        hc_body_free(b);
        return HC_ERROR;
    }
    r->status = hc_cache_obj_status(o);
    hc_cache_info in;
    hc_cache_obj_info(o, &in);
    char age[24];
    int n = snprintf(age, sizeof age, "%llu", (unsigned long long)(in.age_ns / 1000000000ull));
    hc_headers_insert(&r->headers, "Age", 3, age, (size_t)n);
    /* as production's cached sends: X-Cache and the hit count */
    hc_headers_insert(&r->headers, "X-Cache", 7, "HIT", 3);
    n = snprintf(age, sizeof age, "%llu", (unsigned long long)in.hits);
    hc_headers_insert(&r->headers, "X-Cache-Hits", 12, age, (size_t)n);
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

static void revalidate_in_background(hc_ctx *ctx, hc_rt *rt, hc_pending *p);

/* The lookup's outcome in the profiler's record of the request, when it is being profiled. */
static void profile_lookup(const char *result, const char *url)
{
    prof_req *pr = prof_current();
    if (pr)
        prof_req_cache(pr, result, url, strlen(url));
}

hc_status hc_readthrough_send_start(hc_ctx *ctx, uint32_t req_h, uint32_t body_h, const char *name,
                                    size_t name_len, bool streaming, bool cached, hc_pending **out,
                                    be_error *detail)
{
    hc_cache *c = ctx->settings ? ctx->settings->cache : NULL;
    hc_request *r = hc_ctx_request(ctx, req_h);
    bool dyn;
    if (!cached || !c || !r || streaming || !hc_ctx_body(ctx, body_h) ||
        strcmp(r->method, "GET") != 0 || (r->cache_override.set && (r->cache_override.tag & 1u)) ||
        !hc_backend_lookup(ctx, name, name_len, &dyn))
        return hc_send_start(ctx, req_h, body_h, name, name_len, streaming, out, detail);
    size_t key_len;
    uint8_t *key = make_key(r->uri, &key_len);
    hc_rt *rt = calloc(1, sizeof *rt);
    if (!key || !rt) {
        free(key);
        free(rt);
        return hc_send_start(ctx, req_h, body_h, name, name_len, streaming, out, detail);
    }
    rt->cache = c;
    rt->ov = r->cache_override;
    rt->ov.surrogate_key = NULL;
    if (r->cache_override.surrogate_key) {
        rt->ov.surrogate_key = malloc(r->cache_override.surrogate_key_len + 1);
        if (rt->ov.surrogate_key)
            memcpy(rt->ov.surrogate_key, r->cache_override.surrogate_key,
                   r->cache_override.surrogate_key_len);
        else
            rt->ov.surrogate_key_len = 0;
    }
    hc_cache_obj *found = NULL;
    hc_cache_oblig *oblig = NULL;
    /* A request that already passed through Fastlike (a service calling itself, or a loop) does
     * not wait for another request's fetch of the same object: that request may be the one
     * waiting for this one. It takes a fresh object if there is one, else goes to the origin. */
    bool may_wait = hc_downstream_passes(ctx) == 0;
    bool got =
        hc_cache_txn_lookup_owned(c, key, key_len, &r->headers, may_wait, ctx, &found, &oblig);
    hc_log(ctx, 2, "cache lookup GET %s (key %02x%02x%02x%02x..., %zu request headers): %s%s",
           r->uri, key[0], key[1], key[2], key[3], r->headers.n,
           !got    ? "busy in this request"
           : found ? "found"
                   : "not found",
           oblig ? ", obliged to fetch" : "");
    free(key);
    rt->url = util_strdup(r->uri);
    const char *url = rt->url ? rt->url : "";
    if (!got || (found && !oblig && hc_cache_state_flags(found, false) == 0)) {
        /* this request holds the obligation itself (async), or hit-for-pass: straight through */
        hc_log(ctx, 2, "cache lookup GET %s (backend '%.*s'): %s", url, (int)name_len, name,
               got ? "hit-for-pass, passing" : "busy in this request, passing");
        profile_lookup("PASS", url);
        hc_cache_obj_release(found);
        hc_readthrough_free(rt);
        return hc_send_start(ctx, req_h, body_h, name, name_len, streaming, out, detail);
    }
    bool swr = found && oblig && (hc_cache_state_flags(found, false) & 2u /* usable */);
    if (swr) {
        /* stale within stale-while-revalidate: this request gets the stale object at once and
         * its revalidation runs in the background (others meanwhile get the stale object too) */
        hc_log(ctx, 1, "cache STALE: GET %s (backend '%.*s'), revalidating in the background", url,
               (int)name_len, name);
        profile_lookup("STALE", url);
        hc_pending *bp;
        be_error d2;
        rt->oblig = oblig;
        /* a conditional request when the stored response allows one (a 304 refreshes it) */
        const hc_headers *sh = hc_cache_obj_resp_headers(found);
        const hc_header *etag = hc_headers_get(sh, "etag", 4);
        const hc_header *lm = hc_headers_get(sh, "last-modified", 13);
        if (etag && !hc_headers_get(&r->headers, "if-none-match", 13))
            hc_headers_insert(&r->headers, "If-None-Match", 13, etag->value, etag->value_len);
        if (lm && !hc_headers_get(&r->headers, "if-modified-since", 17))
            hc_headers_insert(&r->headers, "If-Modified-Since", 17, lm->value, lm->value_len);
        hc_status st = hc_send_start(ctx, req_h, body_h, name, name_len, false, &bp, &d2);
        if (st == HC_OK) {
            revalidate_in_background(ctx, rt, bp);
            hc_pending_free(bp);
        } else {
            /* the request could not go out (e.g. an unknown backend): report that, as a send */
            hc_cache_obj_release(found);
            hc_readthrough_free(rt);
            *detail = d2;
            return st;
        }
        hc_cache_oblig_abandon(rt->oblig); /* not handed to the background: give it up */
        rt->oblig = NULL;
        oblig = NULL;
    }
    if (found && !oblig) {
        hc_cache_info in;
        hc_cache_obj_info(found, &in);
        if (!swr) {
            hc_log(ctx, 1, "cache HIT: GET %s (backend '%.*s', age %llu s%s, hit %llu)", url,
                   (int)name_len, name, (unsigned long long)(in.age_ns / 1000000000ull),
                   in.fresh ? "" : ", stale while another request revalidates",
                   (unsigned long long)in.hits);
            profile_lookup("HIT", url);
        }
        hc_pending *p = calloc(1, sizeof *p);
        if (p) {
            p->fail = BE_OK;
            p->backend = util_strndup(name, name_len);
            p->method = util_strdup("GET");
            p->url = util_strdup(url);
        }
        if (!p || !p->backend || !p->method || !p->url) {
            hc_pending_free(p);
            hc_cache_obj_release(found);
            hc_readthrough_free(rt);
            return HC_ERROR;
        }
        /* the request and its body are consumed, as by a send (already, when revalidating) */
        hc_request_free(hc_table_take(&ctx->requests, req_h, HC_KIND_REQUEST));
        hc_body_free(hc_table_take(&ctx->items, body_h, HC_ITEM_BODY));
        rt->hit = found;
        p->rt = rt;
        *detail = BE_OK;
        *out = p;
        return HC_OK;
    }
    hc_log(ctx, 1, "cache %s: GET %s (backend '%.*s')",
           found ? "STALE, revalidating (stale-if-error kept)" : "MISS", url, (int)name_len, name);
    profile_lookup("MISS", url);
    rt->oblig = oblig;
    rt->stale = found;
    hc_status st = hc_send_start(ctx, req_h, body_h, name, name_len, streaming, out, detail);
    if (st != HC_OK) {
        hc_readthrough_free(rt);
        return st;
    }
    (*out)->rt = rt;
    return HC_OK;
}

typedef long (*rt_read_fn)(void *src, uint8_t *buf, size_t len);

/* Where lines go: the request's log, or (background revalidation, after the request) the
 * server's log directly. */
typedef struct rt_log {
    hc_ctx *ctx;
    void (*log)(void *user, const char *line); /* without ctx: the server's log (copied, as the */
    void *log_user;                            /* settings may go before a background job ends) */
    int verbosity;
} rt_log;

static void rt_logf(const rt_log *l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void rt_logf(const rt_log *l, const char *fmt, ...)
{
    char line[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (l->ctx)
        hc_log(l->ctx, 1, "%s", line);
    else if (l->log && l->verbosity >= 1)
        l->log(l->log_user, line);
}

/* Copies the origin's body into the new object, at most `limit` bytes: a body of unknown length
 * that turns out bigger is not cached (the object is dropped; *pumped tells how much of the body
 * the object holds, for the caller to pass on). Returns false when the object was dropped (the
 * body failed, or was too big). */
static bool pump(rt_read_fn rd, void *src, hc_cache_obj *o, uint64_t limit, uint64_t *pumped)
{
    uint8_t buf[16384];
    *pumped = 0;
    for (;;) {
        long n = *pumped < limit ? rd(src, buf, sizeof buf) : -2;
        if (n == 0) {
            hc_cache_body_finish(o, true);
            return true;
        }
        if (n < 0 || !hc_cache_body_write(o, buf, (size_t)n)) {
            hc_cache_body_finish(o, false);
            return false;
        }
        *pumped += (uint64_t)n;
    }
}

/* A body copied into the cache by a thread of its own, so the guest (reading the cached copy)
 * streams it as it arrives. */
typedef struct pump_job {
    hc_cache *cache;
    hc_cache_obj *o;
    be_transfer *t;
} pump_job;

static void *pump_main(void *arg)
{
    pump_job *j = arg;
    uint64_t pumped;
    pump(be_transfer_read, j->t, j->o, UINT64_MAX, &pumped);
    hc_cache_obj_release(j->o);
    be_transfer_release(j->t);
    hc_cache *c = j->cache;
    free(j);
    hc_cache_bg_end(c);
    return NULL;
}

/* Starts pump_main for `o` from transfer `t`; false when no thread could start. */
static bool pump_in_background(hc_cache *cache, hc_cache_obj *o, be_transfer *t)
{
    pump_job *j = malloc(sizeof *j);
    if (!j)
        return false;
    *j = (pump_job){cache, o, t};
    hc_cache_obj_retain(o);
    be_transfer_retain(t);
    hc_cache_bg_begin(cache);
    pthread_t th;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    bool ok = pthread_create(&th, &attr, pump_main, j) == 0;
    pthread_attr_destroy(&attr);
    if (!ok) {
        hc_cache_obj_release(o);
        be_transfer_release(t);
        free(j);
        hc_cache_bg_end(cache);
    }
    return ok;
}

/* Decides about the origin's answer (status, headers; body length `known` or -1) and fulfils
 * *oblig accordingly: a cacheable answer is stored with its body pumped from rd(src) and the
 * object returned (referenced); an uncacheable one leaves a hit-for-pass marker; otherwise the
 * obligation stays for the caller to give up. With `t` (a transfer whose whole body is still
 * to come, of known length) the body is copied by a thread of its own instead. */
static hc_cache_obj *store_and_pump(const rt_log *lg, hc_cache *cache, hc_cache_oblig **oblig,
                                    const hc_cache_override *ov, uint16_t status,
                                    const hc_headers *hdrs, int64_t known, rt_read_fn rd, void *src,
                                    be_transfer *t, bool *dropped, uint64_t *pumped)
{
    *dropped = false;
    *pumped = 0;
    hc_cache_policy pol;
    hc_cache_policy_decide(status, hdrs, ov, (int64_t)time(NULL), &pol);
    if (pol.cacheable && known >= 0 && (uint64_t)known > hc_cache_capacity(cache) / 2) {
        pol.cacheable = false;
        pol.reason = "too big for the cache";
    }
    if (!pol.cacheable) {
        if (pol.hit_for_pass) {
            hc_cache_write w = {.max_age_ns = HC_CACHE_HIT_FOR_PASS_S * 1000000000ull,
                                .length = -1,
                                .not_cacheable = true,
                                .status = status};
            hc_cache_obj *o = hc_cache_oblig_insert(*oblig, &w);
            *oblig = NULL;
            if (o)
                hc_cache_body_finish(o, true);
            hc_cache_obj_release(o);
        }
        rt_logf(lg, "cache: response %u not stored (%s)%s", status, pol.reason,
                pol.hit_for_pass ? ": hit-for-pass" : "");
        hc_cache_policy_deinit(&pol);
        return NULL;
    }
    hc_cache_write w = {
        .max_age_ns = pol.ttl_ns,
        .initial_age_ns = pol.initial_age_ns,
        .swr_ns = pol.swr_ns,
        .sie_ns = pol.sie_ns,
        .vary = pol.vary,
        .vary_len = pol.vary_len,
        .surrogate_keys = pol.surrogate_keys,
        .surrogate_keys_len = pol.surrogate_keys_len,
        .length = known,
        .sensitive = pol.sensitive,
        .status = status,
        .resp_headers = hdrs,
    };
    hc_cache_write probe = {.vary = w.vary, .vary_len = w.vary_len};
    if (hc_cache_check_write(&probe) != HC_OK) {
        w.vary = NULL; /* not header names: vary on nothing */
        w.vary_len = 0;
    }
    hc_cache_write probe2 = {.surrogate_keys = w.surrogate_keys,
                             .surrogate_keys_len = w.surrogate_keys_len};
    if (hc_cache_check_write(&probe2) != HC_OK) {
        rt_logf(lg, "cache: invalid Surrogate-Key ignored");
        w.surrogate_keys = NULL;
        w.surrogate_keys_len = 0;
    }
    hc_cache_obj *o = hc_cache_oblig_insert(*oblig, &w);
    *oblig = NULL;
    if (o)
        rt_logf(lg, "cache: response %u stored for %llu s (swr %llu s, sie %llu s%s%s)", status,
                (unsigned long long)(pol.ttl_ns / 1000000000ull),
                (unsigned long long)(pol.swr_ns / 1000000000ull),
                (unsigned long long)(pol.sie_ns / 1000000000ull), pol.vary_len ? ", vary " : "",
                pol.vary_len ? pol.vary : "");
    hc_cache_policy_deinit(&pol);
    if (o && t && pump_in_background(cache, o, t))
        return o;
    if (o && !pump(rd, src, o, hc_cache_capacity(cache) / 2, pumped)) {
        *dropped = true;
        rt_logf(lg, "cache: response body failed or too big for the cache; not stored");
    }
    return o;
}

static long body_read(void *b, uint8_t *buf, size_t len)
{
    return hc_body_read(b, buf, len);
}

/* Stores the origin's response (handles resp_h, body_h) per the policy; when stored, the body
 * handle is replaced by one reading the stored copy. */
static void store_response(hc_ctx *ctx, hc_rt *rt, uint32_t resp_h, uint32_t *body_h)
{
    hc_response *r = hc_ctx_response(ctx, resp_h);
    hc_body *b = hc_ctx_body(ctx, *body_h);
    if (!r || !b)
        return;
    uint64_t known = 0;
    bool have_len = hc_body_known_length(b, &known);
    rt_log lg = {.ctx = ctx};
    bool dropped;
    uint64_t pumped;
    /* a whole origin body of known length streams to the guest through the cache */
    be_transfer *t =
        have_len && b->src_read == be_transfer_read && b->len == 0 && !b->next ? b->src : NULL;
    hc_cache_obj *o =
        store_and_pump(&lg, rt->cache, &rt->oblig, &rt->ov, r->status, &r->headers,
                       have_len ? (int64_t)known : -1, body_read, b, t, &dropped, &pumped);
    if (!o)
        return; /* an obligation left goes to the next waiter when rt is freed */
    hc_body *nb;
    if (dropped) {
        /* not cached after all: the guest gets what was read so far, then the rest of the
         * origin's body (or its error) */
        nb = hc_body_new();
        uint8_t buf[16384];
        for (uint64_t off = 0; nb && off < pumped;) {
            long n = hc_cache_body_read(o, off, buf, sizeof buf);
            if (n <= 0 || !hc_body_push_back(nb, buf, (size_t)n))
                break;
            off += (uint64_t)n;
        }
        hc_body *rest = hc_table_take(&ctx->items, *body_h, HC_ITEM_BODY);
        if (nb && rest)
            hc_body_append(nb, rest);
        else
            hc_body_free(rest);
    } else {
        hc_ctx_close_body(ctx, *body_h, false);
        nb = hc_cache_reader_body(o, 0, -1);
    }
    hc_cache_obj_release(o);
    uint32_t nh;
    if (!nb || hc_ctx_add_body(ctx, nb, &nh) != HC_OK) {
        hc_body_free(nb);
        nb = hc_body_new(); /* out of memory: an empty body rather than a dangling handle */
        if (nb && hc_ctx_add_body(ctx, nb, &nh) != HC_OK) {
            hc_body_free(nb);
            return;
        }
    }
    *body_h = nh;
}

/* ---- background revalidation (stale-while-revalidate) ---- */

typedef struct rt_bg {
    hc_cache *cache;
    be_transfer *t;
    hc_cache_oblig *oblig;
    hc_cache_obj *stale;  /* what is being revalidated (referenced) */
    hc_cache_override ov; /* surrogate key owned */
    rt_log lg;
} rt_bg;

static void *bg_main(void *arg)
{
    rt_bg *b = arg;
    if (be_transfer_wait_head(b->t) == BE_OK && be_transfer_status(b->t) < 500) {
        hc_headers h;
        hc_headers_init(&h);
        bool ok = true;
        for (size_t i = 0; ok && i < be_transfer_nheaders(b->t); i++) {
            be_header e = be_transfer_header(b->t, i);
            ok = hc_headers_append(&h, e.name, e.name_len, e.value, e.value_len);
        }
        if (ok && be_transfer_status(b->t) == 304 && b->stale) {
            /* not modified: the stored response with the new headers, its body kept */
            hc_headers merged;
            hc_headers_init(&merged);
            hc_headers_copy(&merged, hc_cache_obj_resp_headers(b->stale));
            for (size_t i = 0; i < h.n; i++)
                if (!hc_header_name_eq(h.items[i].name, h.items[i].name_len, "content-length", 14))
                    hc_headers_insert(&merged, h.items[i].name, h.items[i].name_len,
                                      h.items[i].value, h.items[i].value_len);
            uint16_t status = hc_cache_obj_status(b->stale);
            hc_cache_policy pol;
            hc_cache_policy_decide(status, &merged, &b->ov, (int64_t)time(NULL), &pol);
            if (pol.cacheable) {
                hc_cache_write w = {.max_age_ns = pol.ttl_ns,
                                    .initial_age_ns = pol.initial_age_ns,
                                    .swr_ns = pol.swr_ns,
                                    .sie_ns = pol.sie_ns,
                                    .vary = pol.vary,
                                    .vary_len = pol.vary_len,
                                    .surrogate_keys = pol.surrogate_keys,
                                    .surrogate_keys_len = pol.surrogate_keys_len,
                                    .length = -1,
                                    .sensitive = pol.sensitive,
                                    .status = status,
                                    .resp_headers = &merged};
                if (hc_cache_check_write(&w) != HC_OK) {
                    w.vary = NULL;
                    w.vary_len = 0;
                    w.surrogate_keys = NULL;
                    w.surrogate_keys_len = 0;
                }
                if (hc_cache_oblig_update(b->oblig, &w, NULL) == HC_OK) {
                    b->oblig = NULL;
                    rt_logf(&b->lg, "cache: revalidated (304), fresh for %llu s",
                            (unsigned long long)(pol.ttl_ns / 1000000000ull));
                }
            }
            hc_cache_policy_deinit(&pol);
            hc_headers_deinit(&merged);
        } else if (ok) {
            bool dropped;
            uint64_t pumped;
            hc_cache_obj *o = store_and_pump(
                &b->lg, b->cache, &b->oblig, &b->ov, be_transfer_status(b->t), &h,
                be_transfer_body_length(b->t), be_transfer_read, b->t, NULL, &dropped, &pumped);
            hc_cache_obj_release(o);
        }
        hc_headers_deinit(&h);
    } else {
        rt_logf(&b->lg, "cache: background revalidation failed; the stale object stays");
    }
    hc_cache_oblig_abandon(b->oblig);
    hc_cache_obj_release(b->stale);
    be_transfer_release(b->t);
    free(b->ov.surrogate_key);
    hc_cache *c = b->cache;
    free(b);
    hc_cache_bg_end(c);
    return NULL;
}

/* Starts the revalidation of a stale object in the background: the request goes to the origin
 * now and the answer is stored by a thread of its own, after the guest got the stale object. */
static void revalidate_in_background(hc_ctx *ctx, hc_rt *rt, hc_pending *p)
{
    rt_bg *b = calloc(1, sizeof *b);
    pthread_t th;
    pthread_attr_t attr;
    if (!b || !p->t) {
        free(b);
        return; /* no transfer (a simulated failure): the obligation goes when rt is freed */
    }
    b->cache = rt->cache;
    b->t = p->t;
    be_transfer_retain(p->t);
    b->oblig = rt->oblig;
    hc_cache_oblig_disown(b->oblig); /* the request's context goes before the job ends */
    b->stale = hc_cache_oblig_found(b->oblig);
    if (b->stale)
        hc_cache_obj_retain(b->stale);
    b->ov = rt->ov;
    b->lg.log = ctx->settings->log;
    b->lg.log_user = ctx->settings->log_user;
    b->lg.verbosity = ctx->settings->verbosity;
    rt->oblig = NULL;
    rt->ov.surrogate_key = NULL;
    hc_cache_bg_begin(b->cache);
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    if (pthread_create(&th, &attr, bg_main, b) != 0) {
        rt->oblig = b->oblig;
        hc_cache_obj_release(b->stale);
        be_transfer_release(b->t);
        free(b->ov.surrogate_key);
        free(b);
        hc_cache_bg_end(rt->cache);
    }
    pthread_attr_destroy(&attr);
}

hc_status hc_readthrough_finish(hc_ctx *ctx, hc_pending *p, uint32_t *resp, uint32_t *body,
                                be_error *detail)
{
    hc_rt *rt = p->rt;
    p->rt = NULL;
    if (rt->hit) {
        hc_pending_free(p);
        *detail = BE_OK;
        hc_status st = serve(ctx, rt->hit, resp, body);
        hc_readthrough_free(rt);
        return st;
    }
    hc_status st = hc_pending_finish(ctx, p, resp, body, detail);
    hc_response *r = st == HC_OK ? hc_ctx_response(ctx, *resp) : NULL;
    bool failed = st != HC_OK || *detail != BE_OK || (r && r->status >= 500);
    if (failed && rt->stale && rt->oblig) {
        hc_cache_info in;
        hc_cache_obj_info(rt->stale, &in);
        if (in.usable_if_error) {
            if (st == HC_OK) {
                hc_ctx_close_response(ctx, *resp);
                hc_ctx_close_body(ctx, *body, false);
            }
            hc_cache_oblig_choose_stale(rt->oblig);
            rt->oblig = NULL;
            hc_log(ctx, 1, "cache: origin failed, serving stale (stale-if-error)");
            *detail = BE_OK;
            st = serve(ctx, rt->stale, resp, body);
            hc_readthrough_free(rt);
            return st;
        }
    }
    if (st == HC_OK && *detail == BE_OK && rt->oblig)
        store_response(ctx, rt, *resp, body);
    r = st == HC_OK ? hc_ctx_response(ctx, *resp) : NULL;
    if (r) {
        hc_headers_insert(&r->headers, "X-Cache", 7, "MISS", 4);
        hc_headers_insert(&r->headers, "X-Cache-Hits", 12, "0", 1);
    }
    hc_readthrough_free(rt);
    return st;
}
