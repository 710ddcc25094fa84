/* hc_cache_store.c: the shared cache (hc_cache_store.h): a hash table of cache keys, each with its
 * vary rules (newest first) and variants (a stored object and/or an outstanding obligation), a
 * least-recently-used list of stored objects for the memory cap, and bodies shared between an
 * object and its refreshed successors. One mutex guards everything; one condition variable (plus
 * the registered select signals) wakes collapsed transactions and body readers. */
#include "hc_cache_store.h"

#include "backend/be_signal.h"
#include "util/util_clock.h"
#include "util/util_grow.h"
#include "util/util_str.h"

#include <limits.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

typedef struct cbody {
    uint8_t *data;
    size_t len, cap;
    bool complete, failed;
    unsigned refs;     /* objects using it */
    unsigned lru_refs; /* of those, objects in the LRU list (their bytes are charged once) */
} cbody;

typedef struct cvariant cvariant;
typedef struct ckey ckey;

struct hc_cache_obj {
    hc_cache *cache;
    unsigned refs; /* the store's (while in a slot) + handles' */
    ckey *key;     /* NULL once evicted or purged */
    cvariant *slot;
    uint64_t inserted_ns, initial_age_ns, max_age_ns, swr_ns, sie_ns, hits;
    char *vary; /* canonical rule: sorted lower-case names separated by spaces */
    size_t vary_len;
    uint8_t *meta;
    size_t meta_len;
    char *skeys; /* canonical: keys separated by single spaces */
    size_t skeys_len;
    int64_t length_hint;
    bool sensitive, not_cacheable, soft_purged;
    uint16_t status;
    hc_headers resp_headers;
    cbody *body;
    hc_cache_obj *lru_prev, *lru_next;
    bool in_lru;
    size_t meta_charge;
};

struct cvariant {
    uint8_t *sig;
    size_t sig_len;
    hc_cache_obj *present;
    bool obligated;
    uint64_t stale_epoch; /* bumped by choose_stale: waiters take the stale object */
    const void *owner;    /* who holds the obligation (hc_cache_txn_lookup_owned), or NULL */
    cvariant *next;
};

struct ckey {
    uint8_t *key;
    size_t key_len;
    uint64_t hash;
    char **rules; /* canonical vary rules, newest first */
    size_t nrules;
    cvariant *variants;
    unsigned pins; /* obligations pointing here */
    ckey *next;
};

struct hc_cache_oblig {
    hc_cache *cache;
    ckey *key;
    cvariant *slot;
    hc_headers req;
    hc_cache_obj *present; /* referenced */
};

typedef struct watcher {
    be_signal *sig;
    unsigned count;
} watcher;

struct hc_cache {
    pthread_mutex_t mu;
    pthread_cond_t cond;
    ckey **buckets;
    size_t nbuckets, nkeys;
    hc_cache_obj *lru_head, *lru_tail; /* head = most recently used */
    size_t nobjs;
    uint64_t used, cap;
    uint64_t (*now)(void *);
    void *now_user;
    watcher *watchers;
    size_t nwatchers;
    unsigned bg; /* background jobs running (hc_cache_bg_begin) */
};

/* ---- small helpers ---- */

static uint64_t hash_bytes(const uint8_t *p, size_t n)
{
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++) {
        h ^= p[i];
        h *= 1099511628211ull;
    }
    return h;
}

static uint64_t real_now(void *user)
{
    (void)user;
    return util_now_ns();
}

static uint64_t add_sat(uint64_t a, uint64_t b)
{
    return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

static void notify(hc_cache *c)
{
    pthread_cond_broadcast(&c->cond);
    for (size_t i = 0; i < c->nwatchers; i++)
        be_signal_notify(c->watchers[i].sig);
}

/* ---- vary rules and variants ---- */

typedef struct name_ref {
    const char *p;
    size_t n;
} name_ref;

static int name_cmp(const void *a, const void *b)
{
    const name_ref *x = a, *y = b;
    size_t n = x->n < y->n ? x->n : y->n;
    int r = strncasecmp(x->p, y->p, n);
    if (r)
        return r;
    return x->n < y->n ? -1 : x->n > y->n;
}

/* Splits on spaces; false for a name that is not a header name or too many names. */
static bool split_names(const char *s, size_t len, name_ref *out, size_t max, size_t *n)
{
    *n = 0;
    size_t i = 0;
    while (i < len) {
        while (i < len && s[i] == ' ')
            i++;
        size_t start = i;
        while (i < len && s[i] != ' ')
            i++;
        if (i == start)
            break;
        if (*n == max)
            return false;
        out[(*n)++] = (name_ref){s + start, i - start};
    }
    return true;
}

#define MAX_VARY 64

/* The canonical form of a vary rule (sorted, lower-case, deduplicated); NULL when invalid or out
 * of memory (*bad tells which). */
static char *canon_vary(const char *s, size_t len, size_t *out_len, bool *bad)
{
    name_ref names[MAX_VARY];
    size_t n;
    *bad = false;
    if (!split_names(s ? s : "", s ? len : 0, names, MAX_VARY, &n)) {
        *bad = true;
        return NULL;
    }
    for (size_t i = 0; i < n; i++) {
        if (!hc_header_name_valid(names[i].p, names[i].n)) {
            *bad = true;
            return NULL;
        }
    }
    qsort(names, n, sizeof names[0], name_cmp);
    char *out = malloc(len + 1);
    if (!out)
        return NULL;
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        if (i > 0 && name_cmp(&names[i], &names[i - 1]) == 0)
            continue;
        if (o)
            out[o++] = ' ';
        for (size_t k = 0; k < names[i].n; k++) {
            char ch = names[i].p[k];
            out[o++] = (ch >= 'A' && ch <= 'Z') ? (char)(ch + 32) : ch;
        }
    }
    out[o] = '\0';
    *out_len = o;
    return out;
}

typedef struct sbuf {
    uint8_t *p;
    size_t n, cap;
    bool oom;
} sbuf;

static void sb_put(sbuf *b, const void *d, size_t n)
{
    if (b->oom)
        return;
    if (n > SIZE_MAX - b->n || !util_grow((void **)&b->p, &b->cap, b->n + n, 64, 1)) {
        b->oom = true;
        return;
    }
    memcpy(b->p + b->n, d, n);
    b->n += n;
}

static void sb_len(sbuf *b, uint64_t v)
{
    uint8_t x[8];
    for (int i = 0; i < 8; i++)
        x[i] = (uint8_t)(v >> (8 * i));
    sb_put(b, x, 8);
}

/* The variant signature of request headers under a canonical rule: each named header's values
 * in order, length-prefixed (so no value can imitate another). */
static bool variant_sig(const char *rule, const hc_headers *req, uint8_t **sig, size_t *len)
{
    sbuf b = {0};
    name_ref names[MAX_VARY];
    size_t n = 0;
    split_names(rule, strlen(rule), names, MAX_VARY, &n);
    sb_len(&b, n);
    for (size_t i = 0; i < n; i++) {
        sb_len(&b, names[i].n);
        sb_put(&b, names[i].p, names[i].n);
        size_t count = req ? hc_headers_count_values(req, names[i].p, names[i].n) : 0;
        sb_len(&b, count);
        for (size_t k = 0; req && k < req->n; k++) {
            const hc_header *h = &req->items[k];
            if (hc_header_name_eq(h->name, h->name_len, names[i].p, names[i].n)) {
                sb_len(&b, h->value_len);
                sb_put(&b, h->value, h->value_len);
            }
        }
    }
    if (b.oom || !b.p) {
        free(b.p);
        return false;
    }
    *sig = b.p;
    *len = b.n;
    return true;
}

static bool surrogate_key_ok(const char *k, size_t n)
{
    if (n == 0 || n > HC_CACHE_SURROGATE_KEY_MAX)
        return false;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)k[i] <= ' ' || (unsigned char)k[i] >= 0x7f)
            return false;
    return true;
}

/* Canonical surrogate keys: single spaces, duplicates dropped. NULL when invalid / no memory. */
static char *canon_skeys(const char *s, size_t len, size_t *out_len, bool *bad)
{
    *bad = false;
    if (len > HC_CACHE_SURROGATE_KEYS_MAX) {
        *bad = true;
        return NULL;
    }
    char *out = malloc(len + 1);
    if (!out)
        return NULL;
    size_t o = 0, i = 0;
    while (i < len) {
        while (i < len && s[i] == ' ')
            i++;
        size_t start = i;
        while (i < len && s[i] != ' ')
            i++;
        if (i == start)
            break;
        if (!surrogate_key_ok(s + start, i - start)) {
            free(out);
            *bad = true;
            return NULL;
        }
        /* skip duplicates */
        bool dup = false;
        for (size_t p = 0; p < o && !dup;) {
            size_t q = p;
            while (q < o && out[q] != ' ')
                q++;
            dup = q - p == i - start && memcmp(out + p, s + start, q - p) == 0;
            p = q + 1;
        }
        if (dup)
            continue;
        if (o)
            out[o++] = ' ';
        memcpy(out + o, s + start, i - start);
        o += i - start;
    }
    out[o] = '\0';
    *out_len = o;
    return out;
}

static bool has_skey(const hc_cache_obj *o, const char *k, size_t n)
{
    size_t p = 0;
    while (p < o->skeys_len) {
        size_t q = p;
        while (q < o->skeys_len && o->skeys[q] != ' ')
            q++;
        if (q - p == n && memcmp(o->skeys + p, k, n) == 0)
            return true;
        p = q + 1;
    }
    return false;
}

hc_status hc_cache_check_write(const hc_cache_write *w)
{
    size_t n;
    bool bad;
    char *v = canon_vary(w->vary, w->vary_len, &n, &bad);
    if (!v)
        return bad ? HC_INVAL : HC_ERROR;
    free(v);
    if (w->surrogate_keys_len) {
        char *k = canon_skeys(w->surrogate_keys, w->surrogate_keys_len, &n, &bad);
        if (!k)
            return bad ? HC_INVAL : HC_ERROR;
        free(k);
    }
    return HC_OK;
}

/* ---- cache ---- */

hc_cache *hc_cache_new(uint64_t max_bytes)
{
    hc_cache *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->nbuckets = 256;
    c->buckets = calloc(c->nbuckets, sizeof *c->buckets);
    if (!c->buckets) {
        free(c);
        return NULL;
    }
    pthread_mutex_init(&c->mu, NULL);
    pthread_cond_init(&c->cond, NULL);
    c->cap = max_bytes ? max_bytes : HC_CACHE_DEFAULT_SIZE;
    c->now = real_now;
    return c;
}

void hc_cache_set_clock(hc_cache *c, uint64_t (*now)(void *user), void *user)
{
    pthread_mutex_lock(&c->mu);
    c->now = now ? now : real_now;
    c->now_user = now ? user : NULL;
    pthread_mutex_unlock(&c->mu);
}

uint64_t hc_cache_now(hc_cache *c)
{
    return c->now(c->now_user);
}

uint64_t hc_cache_capacity(hc_cache *c)
{
    return c->cap;
}

void hc_cache_usage(hc_cache *c, uint64_t *bytes, size_t *objects)
{
    pthread_mutex_lock(&c->mu);
    *bytes = c->used;
    *objects = c->nobjs;
    pthread_mutex_unlock(&c->mu);
}

static void body_unref(cbody *b)
{
    if (b && --b->refs == 0) {
        free(b->data);
        free(b);
    }
}

static void obj_free(hc_cache_obj *o)
{
    body_unref(o->body);
    free(o->vary);
    free(o->meta);
    free(o->skeys);
    hc_headers_deinit(&o->resp_headers);
    free(o);
}

/* Under the lock. */
static void obj_unref(hc_cache_obj *o)
{
    if (o && --o->refs == 0)
        obj_free(o);
}

static void lru_unlink(hc_cache *c, hc_cache_obj *o)
{
    if (!o->in_lru)
        return;
    if (o->lru_prev)
        o->lru_prev->lru_next = o->lru_next;
    else
        c->lru_head = o->lru_next;
    if (o->lru_next)
        o->lru_next->lru_prev = o->lru_prev;
    else
        c->lru_tail = o->lru_prev;
    o->lru_prev = o->lru_next = NULL;
    o->in_lru = false;
    c->nobjs--;
    c->used -= o->meta_charge;
    if (--o->body->lru_refs == 0)
        c->used -= o->body->len;
}

static void lru_push(hc_cache *c, hc_cache_obj *o)
{
    o->lru_prev = NULL;
    o->lru_next = c->lru_head;
    if (c->lru_head)
        c->lru_head->lru_prev = o;
    else
        c->lru_tail = o;
    c->lru_head = o;
    o->in_lru = true;
    c->nobjs++;
    c->used += o->meta_charge;
    if (o->body->lru_refs++ == 0)
        c->used += o->body->len;
}

static void lru_touch(hc_cache *c, hc_cache_obj *o)
{
    if (o->in_lru && c->lru_head != o) {
        lru_unlink(c, o);
        lru_push(c, o);
    }
}

static void key_unlink_if_empty(hc_cache *c, ckey *k)
{
    if (k->variants || k->pins)
        return;
    ckey **pp = &c->buckets[k->hash % c->nbuckets];
    while (*pp && *pp != k)
        pp = &(*pp)->next;
    if (*pp)
        *pp = k->next;
    c->nkeys--;
    for (size_t i = 0; i < k->nrules; i++)
        free(k->rules[i]);
    free(k->rules);
    free(k->key);
    free(k);
}

static void variant_unlink_if_empty(hc_cache *c, ckey *k, cvariant *v)
{
    if (v->present || v->obligated)
        return;
    cvariant **pp = &k->variants;
    while (*pp && *pp != v)
        pp = &(*pp)->next;
    if (*pp)
        *pp = v->next;
    free(v->sig);
    free(v);
    key_unlink_if_empty(c, k);
}

/* Takes the object out of the store (evicted, purged or replaced); the store's reference goes.
 * Its variant keeps pointing at it: the caller clears or reuses it. */
static void obj_detach(hc_cache *c, hc_cache_obj *o)
{
    lru_unlink(c, o);
    o->key = NULL;
    o->slot = NULL;
    obj_unref(o);
}

/* obj_detach, and drops the variant (and key) when nothing else holds them. */
static void obj_remove(hc_cache *c, hc_cache_obj *o)
{
    ckey *k = o->key;
    cvariant *v = o->slot;
    bool mine = v && v->present == o;
    obj_detach(c, o);
    if (mine) {
        v->present = NULL;
        variant_unlink_if_empty(c, k, v);
    }
}

static void evict(hc_cache *c)
{
    while (c->used > c->cap && c->lru_tail)
        obj_remove(c, c->lru_tail);
}

void hc_cache_bg_begin(hc_cache *c)
{
    pthread_mutex_lock(&c->mu);
    c->bg++;
    pthread_mutex_unlock(&c->mu);
}

void hc_cache_bg_end(hc_cache *c)
{
    pthread_mutex_lock(&c->mu);
    c->bg--;
    pthread_cond_broadcast(&c->cond);
    pthread_mutex_unlock(&c->mu);
}

void hc_cache_bg_wait(hc_cache *c)
{
    if (!c)
        return;
    pthread_mutex_lock(&c->mu);
    while (c->bg > 0)
        pthread_cond_wait(&c->cond, &c->mu);
    pthread_mutex_unlock(&c->mu);
}

void hc_cache_free(hc_cache *c)
{
    if (!c)
        return;
    hc_cache_bg_wait(c);
    while (c->lru_tail)
        obj_remove(c, c->lru_tail);
    for (size_t i = 0; i < c->nbuckets; i++) {
        ckey *k = c->buckets[i];
        while (k) {
            ckey *next = k->next;
            cvariant *v = k->variants;
            while (v) {
                cvariant *vn = v->next;
                free(v->sig);
                free(v);
                v = vn;
            }
            for (size_t r = 0; r < k->nrules; r++)
                free(k->rules[r]);
            free(k->rules);
            free(k->key);
            free(k);
            k = next;
        }
    }
    for (size_t i = 0; i < c->nwatchers; i++)
        be_signal_release(c->watchers[i].sig);
    free(c->watchers);
    free(c->buckets);
    pthread_cond_destroy(&c->cond);
    pthread_mutex_destroy(&c->mu);
    free(c);
}

static void rehash(hc_cache *c)
{
    size_t n = c->nbuckets * 2;
    ckey **b = calloc(n, sizeof *b);
    if (!b)
        return;
    for (size_t i = 0; i < c->nbuckets; i++) {
        ckey *k = c->buckets[i];
        while (k) {
            ckey *next = k->next;
            k->next = b[k->hash % n];
            b[k->hash % n] = k;
            k = next;
        }
    }
    free(c->buckets);
    c->buckets = b;
    c->nbuckets = n;
}

static ckey *key_find(hc_cache *c, const uint8_t *key, size_t len, bool create)
{
    uint64_t h = hash_bytes(key, len);
    for (ckey *k = c->buckets[h % c->nbuckets]; k; k = k->next)
        if (k->hash == h && k->key_len == len && memcmp(k->key, key, len) == 0)
            return k;
    if (!create)
        return NULL;
    if (c->nkeys >= c->nbuckets)
        rehash(c);
    ckey *k = calloc(1, sizeof *k);
    if (!k || !(k->key = util_memdup(key, len))) {
        free(k);
        return NULL;
    }
    k->key_len = len;
    k->hash = h;
    k->next = c->buckets[h % c->nbuckets];
    c->buckets[h % c->nbuckets] = k;
    c->nkeys++;
    return k;
}

/* Puts `rule` first in the key's rules (added when new). */
static bool rule_front(ckey *k, const char *rule)
{
    size_t i = 0;
    while (i < k->nrules && strcmp(k->rules[i], rule) != 0)
        i++;
    char *r;
    if (i < k->nrules) {
        r = k->rules[i];
    } else {
        r = util_memdup(rule, strlen(rule) + 1);
        char **rs = realloc(k->rules, (k->nrules + 1) * sizeof *rs);
        if (!r || !rs) {
            free(r);
            if (rs)
                k->rules = rs;
            return false;
        }
        k->rules = rs;
        i = k->nrules++;
    }
    memmove(k->rules + 1, k->rules, i * sizeof *k->rules);
    k->rules[0] = r;
    return true;
}

static cvariant *variant_find(ckey *k, const uint8_t *sig, size_t len)
{
    for (cvariant *v = k->variants; v; v = v->next)
        if (v->sig_len == len && memcmp(v->sig, sig, len) == 0)
            return v;
    return NULL;
}

static cvariant *variant_get(ckey *k, uint8_t *sig, size_t len)
{
    cvariant *v = variant_find(k, sig, len);
    if (v) {
        free(sig);
        return v;
    }
    v = calloc(1, sizeof *v);
    if (!v) {
        free(sig);
        return NULL;
    }
    v->sig = sig;
    v->sig_len = len;
    v->next = k->variants;
    k->variants = v;
    return v;
}

/* The variants of `k` matching the request, in rule order (at most MAX_RULES). */
#define MAX_RULES 32
static size_t matching(ckey *k, const hc_headers *req, cvariant **out)
{
    size_t n = 0;
    for (size_t i = 0; i < k->nrules && n < MAX_RULES; i++) {
        uint8_t *sig;
        size_t len;
        if (!variant_sig(k->rules[i], req, &sig, &len))
            continue;
        cvariant *v = variant_find(k, sig, len);
        free(sig);
        if (v)
            out[n++] = v;
    }
    return n;
}

/* ---- metadata ---- */

static uint64_t obj_age(hc_cache *c, const hc_cache_obj *o)
{
    uint64_t now = c->now(c->now_user);
    return add_sat(now > o->inserted_ns ? now - o->inserted_ns : 0, o->initial_age_ns);
}

static bool obj_fresh(hc_cache *c, const hc_cache_obj *o)
{
    return !o->soft_purged && obj_age(c, o) < o->max_age_ns;
}

static bool obj_usable(hc_cache *c, const hc_cache_obj *o)
{
    return obj_age(c, o) < add_sat(o->max_age_ns, o->swr_ns);
}

static bool obj_usable_if_error(hc_cache *c, const hc_cache_obj *o)
{
    return o->sie_ns && obj_age(c, o) < add_sat(o->max_age_ns, o->sie_ns);
}

void hc_cache_obj_info(hc_cache_obj *o, hc_cache_info *out)
{
    hc_cache *c = o->cache;
    pthread_mutex_lock(&c->mu);
    out->age_ns = obj_age(c, o);
    out->max_age_ns = o->max_age_ns;
    out->swr_ns = o->swr_ns;
    out->sie_ns = o->sie_ns;
    out->hits = o->hits;
    out->fresh = obj_fresh(c, o);
    out->usable = obj_usable(c, o);
    out->usable_if_error = obj_usable_if_error(c, o);
    out->sensitive = o->sensitive;
    out->not_cacheable = o->not_cacheable;
    out->complete = o->body->complete;
    out->length = o->body->complete ? (int64_t)o->body->len : o->length_hint;
    pthread_mutex_unlock(&c->mu);
}

const uint8_t *hc_cache_obj_user_metadata(hc_cache_obj *o, size_t *len)
{
    *len = o->meta_len;
    return o->meta;
}

const char *hc_cache_obj_surrogate_keys(hc_cache_obj *o, size_t *len)
{
    *len = o->skeys_len;
    return o->skeys;
}

const char *hc_cache_obj_vary_rule(hc_cache_obj *o, size_t *len)
{
    *len = o->vary_len;
    return o->vary;
}

uint16_t hc_cache_obj_status(hc_cache_obj *o)
{
    return o->status;
}

const hc_headers *hc_cache_obj_resp_headers(hc_cache_obj *o)
{
    return &o->resp_headers;
}

void hc_cache_obj_retain(hc_cache_obj *o)
{
    pthread_mutex_lock(&o->cache->mu);
    o->refs++;
    pthread_mutex_unlock(&o->cache->mu);
}

void hc_cache_obj_release(hc_cache_obj *o)
{
    if (!o)
        return;
    hc_cache *c = o->cache;
    pthread_mutex_lock(&c->mu);
    obj_unref(o);
    pthread_mutex_unlock(&c->mu);
}

/* A new object from write options (not yet stored), or NULL. `body` NULL: a fresh body. */
static hc_cache_obj *obj_new(hc_cache *c, const hc_cache_write *w, cbody *body)
{
    hc_cache_obj *o = calloc(1, sizeof *o);
    if (!o)
        return NULL;
    o->cache = c;
    o->refs = 1;
    hc_headers_init(&o->resp_headers);
    bool bad;
    o->vary = canon_vary(w->vary, w->vary_len, &o->vary_len, &bad);
    o->skeys = canon_skeys(w->surrogate_keys ? w->surrogate_keys : "", w->surrogate_keys_len,
                           &o->skeys_len, &bad);
    o->meta = util_memdup(w->user_metadata, w->user_metadata_len);
    o->meta_len = w->user_metadata_len;
    if (body) {
        o->body = body;
        body->refs++;
    } else {
        o->body = calloc(1, sizeof *o->body);
        if (o->body)
            o->body->refs = 1;
    }
    if (!o->vary || !o->skeys || !o->meta || !o->body ||
        (w->resp_headers && !hc_headers_copy(&o->resp_headers, w->resp_headers))) {
        obj_free(o);
        return NULL;
    }
    o->inserted_ns = c->now(c->now_user);
    o->initial_age_ns = w->initial_age_ns;
    o->max_age_ns = w->max_age_ns;
    o->swr_ns = w->swr_ns;
    o->sie_ns = w->sie_ns;
    o->length_hint = w->length;
    o->sensitive = w->sensitive;
    o->not_cacheable = w->not_cacheable;
    o->status = w->status;
    o->meta_charge = sizeof *o + o->vary_len + o->skeys_len + o->meta_len;
    for (size_t i = 0; i < o->resp_headers.n; i++)
        o->meta_charge +=
            o->resp_headers.items[i].name_len * 2 + o->resp_headers.items[i].value_len;
    return o;
}

/* Stores `o` (its creation reference becomes the store's) for the request headers under the
 * key; clears `clear`'s obligation in the same step. Returns `o` with a reference for the caller,
 * or NULL (o freed) when out of memory. */
static hc_cache_obj *store(hc_cache *c, ckey *k, const hc_headers *req, hc_cache_obj *o,
                           cvariant *clear)
{
    if (clear)
        clear->obligated = false;
    uint8_t *sig;
    size_t len;
    cvariant *v = NULL;
    if (rule_front(k, o->vary) && variant_sig(o->vary, req, &sig, &len))
        v = variant_get(k, sig, len);
    if (!v) {
        if (clear)
            variant_unlink_if_empty(c, k, clear);
        else
            key_unlink_if_empty(c, k);
        obj_free(o);
        notify(c);
        return NULL;
    }
    hc_cache_obj *old = v->present;
    v->present = o;
    if (old)
        obj_detach(c, old);
    o->key = k;
    o->slot = v;
    lru_push(c, o);
    o->refs++; /* the caller's */
    if (clear && clear != v)
        variant_unlink_if_empty(c, k, clear);
    evict(c);
    notify(c);
    return o;
}

/* ---- lookups ---- */

hc_cache_obj *hc_cache_lookup(hc_cache *c, const uint8_t *key, size_t key_len,
                              const hc_headers *req)
{
    pthread_mutex_lock(&c->mu);
    hc_cache_obj *found = NULL;
    ckey *k = key_find(c, key, key_len, false);
    if (k) {
        cvariant *vs[MAX_RULES];
        size_t n = matching(k, req, vs);
        for (size_t i = 0; i < n && !found; i++)
            found = vs[i]->present;
    }
    if (found) {
        found->refs++;
        found->hits++;
        lru_touch(c, found);
    }
    pthread_mutex_unlock(&c->mu);
    return found;
}

static hc_cache_oblig *oblig_new(hc_cache *c, ckey *k, cvariant *v, const hc_headers *req,
                                 hc_cache_obj *present, const void *owner)
{
    hc_cache_oblig *o = calloc(1, sizeof *o);
    if (!o)
        return NULL;
    hc_headers_init(&o->req);
    if (req && !hc_headers_copy(&o->req, req)) {
        free(o);
        return NULL;
    }
    o->cache = c;
    o->key = k;
    o->slot = v;
    o->present = present;
    if (present)
        present->refs++;
    v->obligated = true;
    v->owner = owner;
    k->pins++;
    return o;
}

bool hc_cache_txn_lookup(hc_cache *c, const uint8_t *key, size_t key_len, const hc_headers *req,
                         bool wait, hc_cache_obj **found, hc_cache_oblig **oblig)
{
    return hc_cache_txn_lookup_owned(c, key, key_len, req, wait, NULL, found, oblig);
}

bool hc_cache_txn_lookup_owned(hc_cache *c, const uint8_t *key, size_t key_len,
                               const hc_headers *req, bool wait, const void *owner,
                               hc_cache_obj **found, hc_cache_oblig **oblig)
{
    *found = NULL;
    *oblig = NULL;
    pthread_mutex_lock(&c->mu);
    uint64_t epochs[MAX_RULES];
    size_t nepochs = 0;
    bool got = false;
    for (;;) {
        ckey *k = key_find(c, key, key_len, true);
        if (!k)
            break; /* out of memory: neither found nor obliged */
        cvariant *vs[MAX_RULES];
        size_t n = matching(k, req, vs);
        bool awaitable = false, mine = false;
        for (size_t i = 0; i < n && !*found; i++) {
            hc_cache_obj *p = vs[i]->present;
            if (p && !p->not_cacheable &&
                (obj_fresh(c, p) || (obj_usable(c, p) && vs[i]->obligated)))
                *found = p;
            /* a waiter woken by choose_stale takes the stale object */
            if (p && i < nepochs && vs[i]->stale_epoch != epochs[i])
                *found = p;
            awaitable = awaitable || vs[i]->obligated;
            mine = mine || (owner && vs[i]->obligated && vs[i]->owner == owner);
        }
        if (!*found) {
            /* stale but revalidatable: the first caller gets it and the obligation */
            for (size_t i = 0; i < n && !*found; i++) {
                hc_cache_obj *p = vs[i]->present;
                if (p && !p->not_cacheable && obj_usable(c, p)) {
                    *found = p;
                    if (!vs[i]->obligated)
                        *oblig = oblig_new(c, k, vs[i], req, p, owner);
                }
            }
        }
        if (*found || *oblig) {
            got = true;
            break;
        }
        if (awaitable) {
            if (!wait || mine) {
                wait = false; /* never wait for an obligation the caller holds itself */
                break;
            }
            nepochs = n;
            for (size_t i = 0; i < n; i++)
                epochs[i] = vs[i]->stale_epoch;
            pthread_cond_wait(&c->cond, &c->mu);
            continue;
        }
        /* nothing usable: obliged to insert, on the newest rule's variant (a default rule when the
         * key has none); a stale object within stale-if-error comes with it */
        if (k->nrules == 0 && !rule_front(k, "")) {
            key_unlink_if_empty(c, k);
            break;
        }
        hc_cache_obj *sie = NULL;
        for (size_t i = 0; i < n && !sie; i++)
            if (vs[i]->present && obj_usable_if_error(c, vs[i]->present))
                sie = vs[i]->present;
        /* a hit-for-pass marker: every caller fetches for itself, no collapsing */
        hc_cache_obj *hfp = NULL;
        for (size_t i = 0; i < n && !hfp; i++)
            if (vs[i]->present && vs[i]->present->not_cacheable && obj_usable(c, vs[i]->present))
                hfp = vs[i]->present;
        uint8_t *sig;
        size_t len;
        cvariant *v = NULL;
        if (variant_sig(k->rules[0], req, &sig, &len))
            v = variant_get(k, sig, len);
        if (v && hfp) {
            *found = hfp;
            got = true;
            break;
        }
        if (v)
            *oblig = oblig_new(c, k, v, req, sie, owner);
        if (!*oblig) {
            if (v)
                variant_unlink_if_empty(c, k, v);
            else
                key_unlink_if_empty(c, k);
            break;
        }
        *found = sie;
        got = true;
        break;
    }
    if (*found) {
        (*found)->refs++;
        (*found)->hits++;
        lru_touch(c, *found);
    }
    pthread_mutex_unlock(&c->mu);
    return got || wait;
}

hc_cache_obj *hc_cache_insert(hc_cache *c, const uint8_t *key, size_t key_len,
                              const hc_headers *req, const hc_cache_write *w)
{
    pthread_mutex_lock(&c->mu);
    hc_cache_obj *o = obj_new(c, w, NULL), *r = NULL;
    ckey *k = o ? key_find(c, key, key_len, true) : NULL;
    if (k)
        r = store(c, k, req, o, NULL);
    else if (o)
        obj_free(o);
    pthread_mutex_unlock(&c->mu);
    return r;
}

static void oblig_free(hc_cache_oblig *o)
{
    obj_unref(o->present);
    hc_headers_deinit(&o->req);
    free(o);
}

hc_cache_obj *hc_cache_oblig_insert(hc_cache_oblig *ob, const hc_cache_write *w)
{
    hc_cache *c = ob->cache;
    pthread_mutex_lock(&c->mu);
    hc_cache_obj *o = obj_new(c, w, NULL), *r = NULL;
    ob->key->pins--;
    if (o) {
        r = store(c, ob->key, &ob->req, o, ob->slot);
    } else {
        ob->slot->obligated = false;
        variant_unlink_if_empty(c, ob->key, ob->slot);
        notify(c);
    }
    oblig_free(ob);
    pthread_mutex_unlock(&c->mu);
    return r;
}

hc_status hc_cache_oblig_update(hc_cache_oblig *ob, const hc_cache_write *w, hc_cache_obj **out)
{
    if (out)
        *out = NULL;
    hc_cache *c = ob->cache;
    pthread_mutex_lock(&c->mu);
    if (!ob->present) {
        pthread_mutex_unlock(&c->mu);
        return HC_BADF;
    }
    hc_cache_obj *o = obj_new(c, w, ob->present->body);
    if (!o) {
        pthread_mutex_unlock(&c->mu);
        return HC_ERROR;
    }
    if (!w->resp_headers && ob->present->status) {
        o->status = ob->present->status;
        hc_headers_copy(&o->resp_headers, &ob->present->resp_headers);
    }
    o->hits = ob->present->hits;
    ob->key->pins--;
    hc_cache_obj *r = store(c, ob->key, &ob->req, o, ob->slot);
    oblig_free(ob);
    if (out)
        *out = r;
    else
        obj_unref(r);
    pthread_mutex_unlock(&c->mu);
    return r ? HC_OK : HC_ERROR;
}

void hc_cache_oblig_abandon(hc_cache_oblig *ob)
{
    if (!ob)
        return;
    hc_cache *c = ob->cache;
    pthread_mutex_lock(&c->mu);
    ob->slot->obligated = false;
    ob->key->pins--;
    variant_unlink_if_empty(c, ob->key, ob->slot);
    notify(c);
    oblig_free(ob);
    pthread_mutex_unlock(&c->mu);
}

void hc_cache_oblig_choose_stale(hc_cache_oblig *ob)
{
    hc_cache *c = ob->cache;
    pthread_mutex_lock(&c->mu);
    ob->slot->stale_epoch++;
    pthread_mutex_unlock(&c->mu);
    hc_cache_oblig_abandon(ob);
}

void hc_cache_oblig_disown(hc_cache_oblig *ob)
{
    pthread_mutex_lock(&ob->cache->mu);
    ob->slot->owner = NULL;
    pthread_mutex_unlock(&ob->cache->mu);
}

hc_cache_obj *hc_cache_oblig_found(hc_cache_oblig *ob)
{
    return ob->present;
}

/* ---- bodies ---- */

bool hc_cache_body_write(hc_cache_obj *o, const uint8_t *data, size_t len)
{
    hc_cache *c = o->cache;
    pthread_mutex_lock(&c->mu);
    cbody *b = o->body;
    bool ok = !b->complete && !b->failed;
    if (ok && (len > SIZE_MAX / 2 - b->len ||
               !util_grow((void **)&b->data, &b->cap, b->len + len, 1024, 1)))
        ok = false;
    if (ok && len) {
        memcpy(b->data + b->len, data, len);
        b->len += len;
        if (b->lru_refs)
            c->used += len;
        evict(c);
        notify(c);
    }
    pthread_mutex_unlock(&c->mu);
    return ok;
}

void hc_cache_body_finish(hc_cache_obj *o, bool ok)
{
    hc_cache *c = o->cache;
    pthread_mutex_lock(&c->mu);
    cbody *b = o->body;
    if (!b->complete && !b->failed) {
        /* a body shorter or longer than its declared length is a failed write */
        if (ok && o->length_hint >= 0 && (uint64_t)o->length_hint != b->len)
            ok = false;
        if (ok)
            b->complete = true;
        else
            b->failed = true;
        if (!ok && o->key)
            obj_remove(c, o);
        notify(c);
    }
    pthread_mutex_unlock(&c->mu);
}

long hc_cache_body_read(hc_cache_obj *o, uint64_t off, uint8_t *buf, size_t len)
{
    hc_cache *c = o->cache;
    pthread_mutex_lock(&c->mu);
    cbody *b = o->body;
    while (off >= b->len && !b->complete && !b->failed)
        pthread_cond_wait(&c->cond, &c->mu);
    long n;
    if (off < b->len) {
        size_t avail = b->len - (size_t)off;
        if (avail > len)
            avail = len;
        if (avail > (size_t)LONG_MAX)
            avail = (size_t)LONG_MAX;
        memcpy(buf, b->data + off, avail);
        n = (long)avail;
    } else {
        n = b->failed ? -1 : 0;
    }
    pthread_mutex_unlock(&c->mu);
    return n;
}

bool hc_cache_body_ready(hc_cache_obj *o, uint64_t off)
{
    hc_cache *c = o->cache;
    pthread_mutex_lock(&c->mu);
    bool r = off < o->body->len || o->body->complete || o->body->failed;
    pthread_mutex_unlock(&c->mu);
    return r;
}

bool hc_cache_body_wait_length(hc_cache_obj *o, uint64_t *len)
{
    hc_cache *c = o->cache;
    pthread_mutex_lock(&c->mu);
    while (!o->body->complete && !o->body->failed)
        pthread_cond_wait(&c->cond, &c->mu);
    bool ok = o->body->complete;
    *len = o->body->len;
    pthread_mutex_unlock(&c->mu);
    return ok;
}

/* ---- purge and watchers ---- */

size_t hc_cache_purge(hc_cache *c, const char *skey, size_t len, bool soft)
{
    size_t n = 0;
    pthread_mutex_lock(&c->mu);
    hc_cache_obj *o = c->lru_head;
    while (o) {
        hc_cache_obj *next = o->lru_next;
        if (has_skey(o, skey, len)) {
            n++;
            if (soft)
                o->soft_purged = true;
            else
                obj_remove(c, o);
        }
        o = next;
    }
    pthread_mutex_unlock(&c->mu);
    return n;
}

void hc_cache_watch(hc_cache *c, be_signal *s)
{
    if (!s)
        return;
    pthread_mutex_lock(&c->mu);
    for (size_t i = 0; i < c->nwatchers; i++) {
        if (c->watchers[i].sig == s) {
            c->watchers[i].count++;
            pthread_mutex_unlock(&c->mu);
            return;
        }
    }
    watcher *w = realloc(c->watchers, (c->nwatchers + 1) * sizeof *w);
    if (w) {
        c->watchers = w;
        be_signal_retain(s);
        w[c->nwatchers++] = (watcher){s, 1};
    }
    pthread_mutex_unlock(&c->mu);
}

void hc_cache_unwatch(hc_cache *c, be_signal *s)
{
    if (!s)
        return;
    pthread_mutex_lock(&c->mu);
    for (size_t i = 0; i < c->nwatchers; i++) {
        if (c->watchers[i].sig == s) {
            if (--c->watchers[i].count == 0) {
                be_signal_release(s);
                c->watchers[i] = c->watchers[--c->nwatchers];
            }
            break;
        }
    }
    pthread_mutex_unlock(&c->mu);
}
