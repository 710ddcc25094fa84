/* hc_kv_stores.c: the KV store engine behind fastly_kv_store and fastly_object_store: key rules,
 * generations, TTL expiry (lazy: an expired value reads as absent and is dropped by later writes),
 * insert modes, listing with cursor paging and its JSON body, the in-memory backend (sorted arrays
 * under a per-store rwlock) and the public operations, which hand over to hc_kv_sqlite.c when the
 * stores live in a database. */
#include "hc_kv_internal.h"
#include "util/util_grow.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define SWEEP_EVERY 256u /* writes to a store between sweeps of its expired entries */

/* ---- small helpers ---- */

int64_t hc_kv_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* A generation that differs from every earlier one: the wall clock in ns, forced upward (as
 * Viceroy's, and still increasing after a restart with -kv-dir). */
uint64_t hc_kv_next_gen(hc_kv_stores *s)
{
    pthread_mutex_lock(&s->gen_lock);
    uint64_t g = (uint64_t)hc_kv_now_ns();
    if (g <= s->last_gen)
        g = s->last_gen + 1;
    s->last_gen = g;
    pthread_mutex_unlock(&s->gen_lock);
    return g;
}

uint8_t *hc_kv_dup(const void *p, size_t n)
{
    uint8_t *d = malloc(n ? n : 1);
    if (d && n)
        memcpy(d, p, n);
    return d;
}

int hc_kv_key_cmp(const uint8_t *a, size_t an, const uint8_t *b, size_t bn)
{
    int c = memcmp(a, b, an < bn ? an : bn);
    if (c)
        return c;
    return an < bn ? -1 : an > bn;
}

bool hc_kv_live(int64_t expires, int64_t now)
{
    return expires == 0 || now < expires;
}

void hc_kv_value_deinit(hc_kv_value *v)
{
    if (!v)
        return;
    free(v->body);
    free(v->metadata);
    memset(v, 0, sizeof *v);
}

bool hc_kv_utf8_valid(const uint8_t *s, size_t len)
{
    size_t i = 0;
    while (i < len) {
        uint8_t c = s[i];
        size_t n;
        uint32_t cp;
        if (c < 0x80) {
            i++;
            continue;
        } else if ((c & 0xE0) == 0xC0) {
            n = 1;
            cp = c & 0x1F;
        } else if ((c & 0xF0) == 0xE0) {
            n = 2;
            cp = c & 0x0F;
        } else if ((c & 0xF8) == 0xF0) {
            n = 3;
            cp = c & 0x07;
        } else {
            return false;
        }
        if (len - i <= n)
            return false;
        for (size_t k = 1; k <= n; k++) {
            if ((s[i + k] & 0xC0) != 0x80)
                return false;
            cp = (cp << 6) | (s[i + k] & 0x3F);
        }
        static const uint32_t min_cp[4] = {0, 0x80, 0x800, 0x10000};
        if (cp < min_cp[n] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
            return false;
        i += n + 1;
    }
    return true;
}

static bool contains(const uint8_t *s, size_t n, const char *needle)
{
    size_t m = strlen(needle);
    for (size_t i = 0; i + m <= n; i++)
        if (memcmp(s + i, needle, m) == 0)
            return true;
    return false;
}

static bool equals(const uint8_t *s, size_t n, const char *lit)
{
    return n == strlen(lit) && memcmp(s, lit, n) == 0;
}

static bool ends_with(const uint8_t *s, size_t n, const char *lit)
{
    size_t m = strlen(lit);
    return n >= m && memcmp(s + n - m, lit, m) == 0;
}

bool hc_kv_key_valid(const uint8_t *k, size_t n)
{
    static const char prefix[] = ".well-known/acme-challenge";
    if (n < 1 || n > HC_KV_KEY_MAX || !hc_kv_utf8_valid(k, n))
        return false;
    if (n >= sizeof prefix - 1 && memcmp(k, prefix, sizeof prefix - 1) == 0)
        return false;
    if (equals(k, n, "..") || contains(k, n, "../") || ends_with(k, n, "/..") ||
        equals(k, n, ".") || contains(k, n, "./") || ends_with(k, n, "/."))
        return false;
    for (size_t i = 0; i < n; i++)
        if (memchr("\r\n#;?^|", k[i], 7))
            return false;
    if (n == 1 && k[0] <= 0x20)
        return false;
    if (n == 3 && k[0] == 0xEF && k[1] == 0xBF && (k[2] == 0xBE || k[2] == 0xBF))
        return false;
    return true;
}

/* ---- base64 (the list cursor) ---- */

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* Appends base64 of in[0..n) to out (room for 4*((n+2)/3)). Returns the length written. */
static size_t b64_encode(const uint8_t *in, size_t n, char *out)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16;
        if (i + 1 < n)
            v |= (uint32_t)in[i + 1] << 8;
        if (i + 2 < n)
            v |= in[i + 2];
        out[o++] = b64[(v >> 18) & 63];
        out[o++] = b64[(v >> 12) & 63];
        out[o++] = i + 1 < n ? b64[(v >> 6) & 63] : '=';
        out[o++] = i + 2 < n ? b64[v & 63] : '=';
    }
    return o;
}

static int b64_value(uint8_t c)
{
    const char *p = c ? strchr(b64, c) : NULL;
    return p ? (int)(p - b64) : -1;
}

/* Strict, padded standard base64 into out (room for 3*n/4). Returns the length, or -1. */
static long b64_decode(const uint8_t *in, size_t n, uint8_t *out)
{
    if (n % 4)
        return -1;
    size_t o = 0;
    for (size_t i = 0; i < n; i += 4) {
        int v[4];
        int pad = 0;
        for (int k = 0; k < 4; k++) {
            if (in[i + k] == '=' && i + 4 == n && k >= 2) {
                v[k] = 0;
                pad++;
            } else if (pad || (v[k] = b64_value(in[i + k])) < 0) {
                return -1;
            }
        }
        uint32_t x =
            (uint32_t)v[0] << 18 | (uint32_t)v[1] << 12 | (uint32_t)v[2] << 6 | (uint32_t)v[3];
        /* canonical: bits below the last full byte must be zero */
        if ((pad == 1 && (x & 0xFF)) || (pad == 2 && (x & 0xFFFF)))
            return -1;
        out[o++] = (uint8_t)(x >> 16);
        if (pad < 2)
            out[o++] = (uint8_t)(x >> 8);
        if (pad < 1)
            out[o++] = (uint8_t)x;
    }
    return (long)o;
}

/* ---- the JSON body of a list ---- */

typedef struct jbuf {
    char *p;
    size_t len, cap;
    bool oom;
} jbuf;

static void jput(jbuf *j, const void *s, size_t n)
{
    if (j->oom)
        return;
    if (!util_grow((void **)&j->p, &j->cap, j->len + n + 1, 256, 1)) {
        j->oom = true;
        return;
    }
    memcpy(j->p + j->len, s, n);
    j->len += n;
    j->p[j->len] = '\0';
}

static void jlit(jbuf *j, const char *s)
{
    jput(j, s, strlen(s));
}

/* A JSON string, escaped as serde_json does (", \, control characters). */
static void jstr(jbuf *j, const uint8_t *s, size_t n)
{
    jput(j, "\"", 1);
    for (size_t i = 0; i < n; i++) {
        uint8_t c = s[i];
        char esc[8];
        const char *e = NULL;
        switch (c) {
        case '"':
            e = "\\\"";
            break;
        case '\\':
            e = "\\\\";
            break;
        case '\n':
            e = "\\n";
            break;
        case '\r':
            e = "\\r";
            break;
        case '\t':
            e = "\\t";
            break;
        case '\b':
            e = "\\b";
            break;
        case '\f':
            e = "\\f";
            break;
        default:
            if (c < 0x20) {
                snprintf(esc, sizeof esc, "\\u%04x", c);
                e = esc;
            }
        }
        if (e)
            jlit(j, e);
        else
            jput(j, &c, 1);
    }
    jput(j, "\"", 1);
}

void hc_kv_keylist_push(hc_kv_keylist *l, const uint8_t *k, size_t n)
{
    if (l->oom)
        return;
    if (l->n == l->cap) {
        size_t k_cap = l->cap, len_cap = l->cap; /* two arrays, one capacity */
        if (!util_grow((void **)&l->k, &k_cap, l->n + 1, 16, sizeof *l->k) ||
            !util_grow((void **)&l->len, &len_cap, l->n + 1, 16, sizeof *l->len)) {
            l->oom = true;
            return;
        }
        l->cap = k_cap;
    }
    uint8_t *d = hc_kv_dup(k, n);
    if (!d) {
        l->oom = true;
        return;
    }
    l->k[l->n] = d;
    l->len[l->n++] = n;
}

static void keylist_free(hc_kv_keylist *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->k[i]);
    free(l->k);
    free(l->len);
}

/* Builds the body from up to limit+1 keys (the extra one says there is a next page). */
static hc_kv_error list_json(hc_kv_keylist *l, uint32_t limit, const uint8_t *prefix,
                             size_t prefix_len, char **json, size_t *json_len)
{
    jbuf j = {0};
    bool more = l->n > limit;
    size_t shown = more ? limit : l->n;
    jlit(&j, "{\"data\":[");
    for (size_t i = 0; i < shown; i++) {
        if (i)
            jlit(&j, ",");
        jstr(&j, l->k[i], l->len[i]);
    }
    char num[32];
    snprintf(num, sizeof num, "%u", limit);
    jlit(&j, "],\"meta\":{\"limit\":");
    jlit(&j, num);
    if (prefix) {
        jlit(&j, ",\"prefix\":");
        jstr(&j, prefix, prefix_len);
    }
    if (more && shown > 0) {
        size_t kl = l->len[shown - 1];
        char *c = malloc(4 * ((kl + 2) / 3) + 1);
        if (!c) {
            j.oom = true;
        } else {
            size_t cl = b64_encode(l->k[shown - 1], kl, c);
            jlit(&j, ",\"next_cursor\":");
            jstr(&j, (const uint8_t *)c, cl);
            free(c);
        }
    }
    jlit(&j, "}}");
    if (j.oom) {
        free(j.p);
        return HC_KV_INTERNAL_ERROR;
    }
    *json = j.p;
    *json_len = j.len;
    return HC_KV_OK;
}

/* ---- memory backend ---- */

static void entry_free(hc_kv_entry *e)
{
    free(e->key);
    free(e->body);
    free(e->meta);
}

/* Index of key, or where it would go (*found false). */
static size_t mem_find(const hc_kv_store *st, const uint8_t *k, size_t n, bool *found)
{
    size_t lo = 0, hi = st->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = hc_kv_key_cmp(st->e[mid].key, st->e[mid].key_len, k, n);
        if (c == 0) {
            *found = true;
            return mid;
        }
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    *found = false;
    return lo;
}

static void mem_remove(hc_kv_store *st, size_t i)
{
    entry_free(&st->e[i]);
    memmove(&st->e[i], &st->e[i + 1], (st->n - i - 1) * sizeof *st->e);
    st->n--;
}

/* Puts a new entry (fields owned) at its place, replacing an old one. false when out of memory. */
static bool mem_put(hc_kv_store *st, hc_kv_entry *ne)
{
    bool found;
    size_t i = mem_find(st, ne->key, ne->key_len, &found);
    if (found) {
        entry_free(&st->e[i]);
        st->e[i] = *ne;
        return true;
    }
    if (!util_grow((void **)&st->e, &st->cap, st->n + 1, 16, sizeof *st->e))
        return false;
    memmove(&st->e[i + 1], &st->e[i], (st->n - i) * sizeof *st->e);
    st->e[i] = *ne;
    st->n++;
    return true;
}

static hc_kv_error mem_lookup(hc_kv_store *st, const uint8_t *k, size_t n, hc_kv_value *out)
{
    hc_kv_error r = HC_KV_NOT_FOUND;
    pthread_rwlock_rdlock(&st->lock);
    bool found;
    size_t i = mem_find(st, k, n, &found);
    if (found && hc_kv_live(st->e[i].expires, hc_kv_now_ns())) {
        const hc_kv_entry *e = &st->e[i];
        out->body = hc_kv_dup(e->body, e->body_len);
        out->body_len = e->body_len;
        out->metadata = e->meta ? hc_kv_dup(e->meta, e->meta_len) : NULL;
        out->metadata_len = e->meta ? e->meta_len : 0;
        out->generation = e->gen;
        r = HC_KV_OK;
        if (!out->body || (e->meta && !out->metadata)) {
            hc_kv_value_deinit(out);
            r = HC_KV_INTERNAL_ERROR;
        }
    }
    pthread_rwlock_unlock(&st->lock);
    return r;
}

/* The new body for `mode` over the existing one (NULL when none). */
uint8_t *hc_kv_combine(hc_kv_mode mode, const uint8_t *old, size_t old_len, const uint8_t *body,
                       size_t body_len, size_t *out_len)
{
    if (!old || mode == HC_KV_OVERWRITE || mode == HC_KV_ADD) {
        *out_len = body_len;
        return hc_kv_dup(body, body_len);
    }
    *out_len = old_len + body_len;
    uint8_t *d = malloc(*out_len ? *out_len : 1);
    if (!d)
        return NULL;
    if (mode == HC_KV_APPEND) {
        memcpy(d, old, old_len);
        memcpy(d + old_len, body, body_len);
    } else {
        memcpy(d, body, body_len);
        memcpy(d + body_len, old, old_len);
    }
    return d;
}

/* The write rules shared by both backends: whether the existing value (or none) allows the
 * write. */
hc_kv_error hc_kv_precheck(const hc_kv_write *w, bool exists, uint64_t old_gen)
{
    if (w->has_generation && exists && old_gen != w->generation)
        return HC_KV_PRECONDITION_FAILED;
    if (w->mode == HC_KV_ADD && exists)
        return HC_KV_PRECONDITION_FAILED;
    return HC_KV_OK;
}

int64_t hc_kv_expiry(const hc_kv_write *w, int64_t now)
{
    if (!w->has_ttl)
        return 0;
    int64_t e = now + (int64_t)w->ttl_sec * 1000000000;
    return e ? e : 1;
}

/* Drops the expired entries (under the write lock), so values with a TTL do not pile up. */
static void mem_sweep(hc_kv_store *st, int64_t now)
{
    size_t o = 0;
    for (size_t i = 0; i < st->n; i++) {
        if (hc_kv_live(st->e[i].expires, now))
            st->e[o++] = st->e[i];
        else
            entry_free(&st->e[i]);
    }
    st->n = o;
}

static hc_kv_error mem_insert(hc_kv_stores *s, hc_kv_store *st, const uint8_t *k, size_t n,
                              const uint8_t *body, size_t body_len, const hc_kv_write *w)
{
    pthread_rwlock_wrlock(&st->lock);
    int64_t now = hc_kv_now_ns();
    if (++st->writes % SWEEP_EVERY == 0)
        mem_sweep(st, now);
    bool found;
    size_t i = mem_find(st, k, n, &found);
    if (found && !hc_kv_live(st->e[i].expires, now)) {
        mem_remove(st, i);
        found = false;
    }
    const hc_kv_entry *old = found ? &st->e[i] : NULL;
    hc_kv_error r = hc_kv_precheck(w, found, old ? old->gen : 0);
    size_t new_len = 0;
    if (r == HC_KV_OK && old && (w->mode == HC_KV_APPEND || w->mode == HC_KV_PREPEND) &&
        old->body_len + body_len > HC_KV_VALUE_MAX)
        r = HC_KV_PAYLOAD_TOO_LARGE;
    if (r != HC_KV_OK)
        goto out;
    hc_kv_entry ne = {0};
    ne.key = hc_kv_dup(k, n);
    ne.key_len = n;
    ne.body = hc_kv_combine(w->mode, old ? old->body : NULL, old ? old->body_len : 0, body,
                            body_len, &new_len);
    ne.body_len = new_len;
    if (w->has_metadata) {
        ne.meta = hc_kv_dup(w->metadata, w->metadata_len);
        ne.meta_len = w->metadata_len;
    }
    ne.gen = hc_kv_next_gen(s);
    ne.expires = hc_kv_expiry(w, now);
    if (!ne.key || !ne.body || (w->has_metadata && !ne.meta) || !mem_put(st, &ne)) {
        entry_free(&ne);
        r = HC_KV_INTERNAL_ERROR;
    }
out:
    pthread_rwlock_unlock(&st->lock);
    return r;
}

static hc_kv_error mem_delete(hc_kv_store *st, const uint8_t *k, size_t n)
{
    pthread_rwlock_wrlock(&st->lock);
    bool found;
    size_t i = mem_find(st, k, n, &found);
    hc_kv_error r = HC_KV_NOT_FOUND;
    if (found) {
        if (hc_kv_live(st->e[i].expires, hc_kv_now_ns()))
            r = HC_KV_OK;
        mem_remove(st, i);
    }
    pthread_rwlock_unlock(&st->lock);
    return r;
}

bool hc_kv_has_prefix(const uint8_t *k, size_t n, const uint8_t *p, size_t pn)
{
    return n >= pn && memcmp(k, p, pn) == 0;
}

static void mem_list(hc_kv_store *st, const uint8_t *after, size_t after_len, const uint8_t *prefix,
                     size_t prefix_len, size_t want, hc_kv_keylist *l)
{
    pthread_rwlock_rdlock(&st->lock);
    int64_t now = hc_kv_now_ns();
    size_t i = 0;
    bool found;
    if (after) {
        i = mem_find(st, after, after_len, &found);
        if (found)
            i++;
    }
    if (prefix && (!after || hc_kv_key_cmp(prefix, prefix_len, after, after_len) > 0))
        i = mem_find(st, prefix, prefix_len, &found);
    for (; i < st->n && l->n < want && !l->oom; i++) {
        const hc_kv_entry *e = &st->e[i];
        if (prefix && !hc_kv_has_prefix(e->key, e->key_len, prefix, prefix_len)) {
            if (hc_kv_key_cmp(e->key, e->key_len, prefix, prefix_len) > 0)
                break; /* past every key with the prefix */
            continue;
        }
        if (hc_kv_live(e->expires, now))
            hc_kv_keylist_push(l, e->key, e->key_len);
    }
    pthread_rwlock_unlock(&st->lock);
}

/* ---- the public operations ---- */

hc_kv_stores *hc_kv_stores_new(const cfg_edge *edge, const char *dir, char *err, size_t errlen)
{
    hc_kv_stores *s = calloc(1, sizeof *s);
    size_t n = edge ? edge->nkv_stores : 0;
    if (s)
        s->stores = calloc(n ? n : 1, sizeof *s->stores);
    if (!s || !s->stores) {
        free(s);
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    pthread_mutex_init(&s->gen_lock, NULL);
    pthread_mutex_init(&s->db_lock, NULL);
    for (size_t i = 0; i < n; i++) {
        hc_kv_store *st = &s->stores[i];
        st->name = (char *)hc_kv_dup(edge->kv_stores[i].name, strlen(edge->kv_stores[i].name) + 1);
        pthread_rwlock_init(&st->lock, NULL);
        s->n++;
        if (!st->name)
            goto nomem;
    }
    if (dir) {
        if (!hc_kv_db_open(s, edge, dir, err, errlen)) {
            hc_kv_stores_free(s);
            return NULL;
        }
        return s;
    }
    for (size_t i = 0; i < n; i++) {
        const cfg_kv_store *cs = &edge->kv_stores[i];
        for (size_t k = 0; k < cs->count; k++) {
            const cfg_kv_entry *e = &cs->entries[k];
            hc_kv_entry ne = {0};
            ne.key = hc_kv_dup(e->key, e->key_len);
            ne.key_len = e->key_len;
            ne.body = hc_kv_dup(e->body, e->body_len);
            ne.body_len = e->body_len;
            if (e->metadata) {
                ne.meta = hc_kv_dup(e->metadata, e->metadata_len);
                ne.meta_len = e->metadata_len;
            }
            ne.gen = hc_kv_next_gen(s);
            if (!ne.key || !ne.body || (e->metadata && !ne.meta) || !mem_put(&s->stores[i], &ne)) {
                entry_free(&ne);
                goto nomem;
            }
        }
    }
    return s;
nomem:
    snprintf(err, errlen, "out of memory");
    hc_kv_stores_free(s);
    return NULL;
}

void hc_kv_stores_free(hc_kv_stores *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->n; i++) {
        hc_kv_store *st = &s->stores[i];
        for (size_t k = 0; k < st->n; k++)
            entry_free(&st->e[k]);
        free(st->e);
        free(st->name);
        pthread_rwlock_destroy(&st->lock);
    }
    free(s->stores);
    if (s->db)
        sqlite3_close(s->db);
    pthread_mutex_destroy(&s->gen_lock);
    pthread_mutex_destroy(&s->db_lock);
    free(s);
}

int hc_kv_stores_find(const hc_kv_stores *s, const char *name, size_t len)
{
    for (size_t i = 0; s && i < s->n; i++)
        if (strlen(s->stores[i].name) == len && memcmp(s->stores[i].name, name, len) == 0)
            return (int)i;
    return -1;
}

static hc_kv_store *store_at(hc_kv_stores *s, int i)
{
    return s && i >= 0 && (size_t)i < s->n ? &s->stores[i] : NULL;
}

hc_kv_error hc_kv_lookup(hc_kv_stores *s, int store, const uint8_t *key, size_t key_len,
                         hc_kv_value *out)
{
    memset(out, 0, sizeof *out);
    hc_kv_store *st = store_at(s, store);
    if (!st)
        return HC_KV_INTERNAL_ERROR;
    return s->db ? hc_kv_db_lookup(s, st, key, key_len, out) : mem_lookup(st, key, key_len, out);
}

hc_kv_error hc_kv_insert(hc_kv_stores *s, int store, const uint8_t *key, size_t key_len,
                         const uint8_t *body, size_t body_len, const hc_kv_write *w)
{
    hc_kv_store *st = store_at(s, store);
    if (!st)
        return HC_KV_INTERNAL_ERROR;
    if (body_len > HC_KV_VALUE_MAX || (w->has_metadata && w->metadata_len > HC_KV_METADATA_MAX))
        return HC_KV_PAYLOAD_TOO_LARGE;
    if (s->db)
        return hc_kv_db_insert(s, st, key, key_len, body, body_len, w);
    return mem_insert(s, st, key, key_len, body, body_len, w);
}

hc_kv_error hc_kv_delete(hc_kv_stores *s, int store, const uint8_t *key, size_t key_len)
{
    hc_kv_store *st = store_at(s, store);
    if (!st)
        return HC_KV_INTERNAL_ERROR;
    return s->db ? hc_kv_db_delete(s, st, key, key_len) : mem_delete(st, key, key_len);
}

hc_kv_error hc_kv_list(hc_kv_stores *s, int store, const uint8_t *cursor, size_t cursor_len,
                       const uint8_t *prefix, size_t prefix_len, uint32_t limit, char **json,
                       size_t *json_len)
{
    *json = NULL;
    *json_len = 0;
    hc_kv_store *st = store_at(s, store);
    if (!st)
        return HC_KV_INTERNAL_ERROR;
    if (limit == 0)
        limit = HC_KV_LIST_DEFAULT_LIMIT;
    uint8_t *after = NULL;
    long after_len = 0;
    if (cursor) {
        after = malloc(cursor_len / 4 * 3 + 1);
        if (!after)
            return HC_KV_INTERNAL_ERROR;
        after_len = b64_decode(cursor, cursor_len, after);
        if (after_len < 0 || !hc_kv_utf8_valid(after, (size_t)after_len)) {
            free(after);
            return HC_KV_BAD_REQUEST;
        }
    }
    hc_kv_keylist l = {0};
    bool ok = true;
    if (s->db)
        ok = hc_kv_db_list(s, st, after, (size_t)after_len, prefix, prefix_len, (size_t)limit + 1,
                           &l);
    else
        mem_list(st, after, (size_t)after_len, prefix, prefix_len, (size_t)limit + 1, &l);
    hc_kv_error r = HC_KV_INTERNAL_ERROR;
    if (ok && !l.oom)
        r = list_json(&l, limit, prefix, prefix_len, json, json_len);
    keylist_free(&l);
    free(after);
    return r;
}

const char *hc_kv_stores_name(const hc_kv_stores *s, int idx)
{
    return s && idx >= 0 && (size_t)idx < s->n ? s->stores[idx].name : NULL;
}
