/* hc_kv_stores.c: the KV store engine behind fastly_kv_store and fastly_object_store: key rules,
 * generations, TTL expiry (lazy: an expired value reads as absent and is dropped by the next
 * write), insert modes, listing with cursor paging and its JSON body, and two backends: sorted
 * arrays in memory under a per-store rwlock, or one SQLite database in WAL mode under one mutex. */
#include "hc_kv_stores.h"

#include <errno.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

typedef struct mem_entry {
    uint8_t *key;
    size_t key_len;
    uint8_t *body;
    size_t body_len;
    uint8_t *meta; /* NULL: none */
    size_t meta_len;
    uint64_t gen;
    int64_t expires; /* unix ns, 0 = never */
} mem_entry;

typedef struct kv_store {
    char *name;
    pthread_rwlock_t lock; /* memory backend */
    mem_entry *e;          /* sorted by key (bytes, shorter first on a tie) */
    size_t n, cap;
    unsigned writes; /* every SWEEP_EVERY writes, expired entries are dropped */
} kv_store;

#define SWEEP_EVERY 256u

struct hc_kv_stores {
    kv_store *stores;
    size_t n;
    pthread_mutex_t gen_lock;
    uint64_t last_gen;
    sqlite3 *db; /* NULL: memory */
    pthread_mutex_t db_lock;
};

/* ---- small helpers ---- */

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* A generation that differs from every earlier one: the wall clock in ns, forced upward (as
 * Viceroy's, and still increasing after a restart with -kv-dir). */
static uint64_t next_gen(hc_kv_stores *s)
{
    pthread_mutex_lock(&s->gen_lock);
    uint64_t g = (uint64_t)now_ns();
    if (g <= s->last_gen)
        g = s->last_gen + 1;
    s->last_gen = g;
    pthread_mutex_unlock(&s->gen_lock);
    return g;
}

static uint8_t *dup_bytes(const void *p, size_t n)
{
    uint8_t *d = malloc(n ? n : 1);
    if (d && n)
        memcpy(d, p, n);
    return d;
}

static int key_cmp(const uint8_t *a, size_t an, const uint8_t *b, size_t bn)
{
    int c = memcmp(a, b, an < bn ? an : bn);
    if (c)
        return c;
    return an < bn ? -1 : an > bn;
}

static bool live(int64_t expires, int64_t now)
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
        uint32_t x = (uint32_t)v[0] << 18 | (uint32_t)v[1] << 12 | (uint32_t)v[2] << 6 | (uint32_t)v[3];
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
    if (j->len + n + 1 > j->cap) {
        size_t cap = j->cap ? j->cap : 256;
        while (cap < j->len + n + 1)
            cap *= 2;
        char *g = realloc(j->p, cap);
        if (!g) {
            j->oom = true;
            return;
        }
        j->p = g;
        j->cap = cap;
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
        case '"': e = "\\\""; break;
        case '\\': e = "\\\\"; break;
        case '\n': e = "\\n"; break;
        case '\r': e = "\\r"; break;
        case '\t': e = "\\t"; break;
        case '\b': e = "\\b"; break;
        case '\f': e = "\\f"; break;
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

/* Collected keys of one list page. */
typedef struct keylist {
    uint8_t **k;
    size_t *len;
    size_t n, cap;
    bool oom;
} keylist;

static void keylist_push(keylist *l, const uint8_t *k, size_t n)
{
    if (l->oom)
        return;
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 16;
        uint8_t **gk = realloc(l->k, cap * sizeof *gk);
        if (gk)
            l->k = gk;
        size_t *gl = gk ? realloc(l->len, cap * sizeof *gl) : NULL;
        if (!gk || !gl) {
            l->oom = true;
            return;
        }
        l->len = gl;
        l->cap = cap;
    }
    uint8_t *d = dup_bytes(k, n);
    if (!d) {
        l->oom = true;
        return;
    }
    l->k[l->n] = d;
    l->len[l->n++] = n;
}

static void keylist_free(keylist *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->k[i]);
    free(l->k);
    free(l->len);
}

/* Builds the body from up to limit+1 keys (the extra one says there is a next page). */
static hc_kv_error list_json(keylist *l, uint32_t limit, const uint8_t *prefix, size_t prefix_len,
                             char **json, size_t *json_len)
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

static void entry_free(mem_entry *e)
{
    free(e->key);
    free(e->body);
    free(e->meta);
}

/* Index of key, or where it would go (*found false). */
static size_t mem_find(const kv_store *st, const uint8_t *k, size_t n, bool *found)
{
    size_t lo = 0, hi = st->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = key_cmp(st->e[mid].key, st->e[mid].key_len, k, n);
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

static void mem_remove(kv_store *st, size_t i)
{
    entry_free(&st->e[i]);
    memmove(&st->e[i], &st->e[i + 1], (st->n - i - 1) * sizeof *st->e);
    st->n--;
}

/* Puts a new entry (fields owned) at its place, replacing an old one. false when out of memory. */
static bool mem_put(kv_store *st, mem_entry *ne)
{
    bool found;
    size_t i = mem_find(st, ne->key, ne->key_len, &found);
    if (found) {
        entry_free(&st->e[i]);
        st->e[i] = *ne;
        return true;
    }
    if (st->n == st->cap) {
        size_t cap = st->cap ? st->cap * 2 : 16;
        mem_entry *g = realloc(st->e, cap * sizeof *g);
        if (!g)
            return false;
        st->e = g;
        st->cap = cap;
    }
    memmove(&st->e[i + 1], &st->e[i], (st->n - i) * sizeof *st->e);
    st->e[i] = *ne;
    st->n++;
    return true;
}

static hc_kv_error mem_lookup(kv_store *st, const uint8_t *k, size_t n, hc_kv_value *out)
{
    hc_kv_error r = HC_KV_NOT_FOUND;
    pthread_rwlock_rdlock(&st->lock);
    bool found;
    size_t i = mem_find(st, k, n, &found);
    if (found && live(st->e[i].expires, now_ns())) {
        const mem_entry *e = &st->e[i];
        out->body = dup_bytes(e->body, e->body_len);
        out->body_len = e->body_len;
        out->metadata = e->meta ? dup_bytes(e->meta, e->meta_len) : NULL;
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
static uint8_t *combine(hc_kv_mode mode, const uint8_t *old, size_t old_len, const uint8_t *body,
                        size_t body_len, size_t *out_len)
{
    if (!old || mode == HC_KV_OVERWRITE || mode == HC_KV_ADD) {
        *out_len = body_len;
        return dup_bytes(body, body_len);
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
static hc_kv_error precheck(const hc_kv_write *w, bool exists, uint64_t old_gen)
{
    if (w->has_generation && exists && old_gen != w->generation)
        return HC_KV_PRECONDITION_FAILED;
    if (w->mode == HC_KV_ADD && exists)
        return HC_KV_PRECONDITION_FAILED;
    return HC_KV_OK;
}

static int64_t expiry(const hc_kv_write *w, int64_t now)
{
    if (!w->has_ttl)
        return 0;
    int64_t e = now + (int64_t)w->ttl_sec * 1000000000;
    return e ? e : 1;
}

/* Drops the expired entries (under the write lock), so values with a TTL do not pile up. */
static void mem_sweep(kv_store *st, int64_t now)
{
    size_t o = 0;
    for (size_t i = 0; i < st->n; i++) {
        if (live(st->e[i].expires, now))
            st->e[o++] = st->e[i];
        else
            entry_free(&st->e[i]);
    }
    st->n = o;
}

static hc_kv_error mem_insert(hc_kv_stores *s, kv_store *st, const uint8_t *k, size_t n,
                              const uint8_t *body, size_t body_len, const hc_kv_write *w)
{
    pthread_rwlock_wrlock(&st->lock);
    int64_t now = now_ns();
    if (++st->writes % SWEEP_EVERY == 0)
        mem_sweep(st, now);
    bool found;
    size_t i = mem_find(st, k, n, &found);
    if (found && !live(st->e[i].expires, now)) {
        mem_remove(st, i);
        found = false;
    }
    const mem_entry *old = found ? &st->e[i] : NULL;
    hc_kv_error r = precheck(w, found, old ? old->gen : 0);
    size_t new_len = 0;
    if (r == HC_KV_OK && old && (w->mode == HC_KV_APPEND || w->mode == HC_KV_PREPEND) &&
        old->body_len + body_len > HC_KV_VALUE_MAX)
        r = HC_KV_PAYLOAD_TOO_LARGE;
    if (r != HC_KV_OK)
        goto out;
    mem_entry ne = {0};
    ne.key = dup_bytes(k, n);
    ne.key_len = n;
    ne.body = combine(w->mode, old ? old->body : NULL, old ? old->body_len : 0, body, body_len,
                      &new_len);
    ne.body_len = new_len;
    if (w->has_metadata) {
        ne.meta = dup_bytes(w->metadata, w->metadata_len);
        ne.meta_len = w->metadata_len;
    }
    ne.gen = next_gen(s);
    ne.expires = expiry(w, now);
    if (!ne.key || !ne.body || (w->has_metadata && !ne.meta) || !mem_put(st, &ne)) {
        entry_free(&ne);
        r = HC_KV_INTERNAL_ERROR;
    }
out:
    pthread_rwlock_unlock(&st->lock);
    return r;
}

static hc_kv_error mem_delete(kv_store *st, const uint8_t *k, size_t n)
{
    pthread_rwlock_wrlock(&st->lock);
    bool found;
    size_t i = mem_find(st, k, n, &found);
    hc_kv_error r = HC_KV_NOT_FOUND;
    if (found) {
        if (live(st->e[i].expires, now_ns()))
            r = HC_KV_OK;
        mem_remove(st, i);
    }
    pthread_rwlock_unlock(&st->lock);
    return r;
}

static bool has_prefix(const uint8_t *k, size_t n, const uint8_t *p, size_t pn)
{
    return n >= pn && memcmp(k, p, pn) == 0;
}

static void mem_list(kv_store *st, const uint8_t *after, size_t after_len, const uint8_t *prefix,
                     size_t prefix_len, size_t want, keylist *l)
{
    pthread_rwlock_rdlock(&st->lock);
    int64_t now = now_ns();
    size_t i = 0;
    bool found;
    if (after) {
        i = mem_find(st, after, after_len, &found);
        if (found)
            i++;
    }
    if (prefix && (!after || key_cmp(prefix, prefix_len, after, after_len) > 0))
        i = mem_find(st, prefix, prefix_len, &found);
    for (; i < st->n && l->n < want && !l->oom; i++) {
        const mem_entry *e = &st->e[i];
        if (prefix && !has_prefix(e->key, e->key_len, prefix, prefix_len)) {
            if (key_cmp(e->key, e->key_len, prefix, prefix_len) > 0)
                break; /* past every key with the prefix */
            continue;
        }
        if (live(e->expires, now))
            keylist_push(l, e->key, e->key_len);
    }
    pthread_rwlock_unlock(&st->lock);
}

/* ---- SQLite backend ---- */

static const char schema[] =
    "CREATE TABLE IF NOT EXISTS kv_stores(name TEXT PRIMARY KEY);"
    "CREATE TABLE IF NOT EXISTS kv_entries(store TEXT NOT NULL, key BLOB NOT NULL,"
    " body BLOB NOT NULL, metadata BLOB, generation INTEGER NOT NULL, expires INTEGER NOT NULL,"
    " PRIMARY KEY(store, key)) WITHOUT ROWID;";

static bool exec(sqlite3 *db, const char *sql)
{
    return sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK;
}

static sqlite3_stmt *prep(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *q = NULL;
    if (sqlite3_prepare_v2(db, sql, -1, &q, NULL) != SQLITE_OK)
        return NULL;
    return q;
}

static void bind_blob(sqlite3_stmt *q, int i, const void *p, size_t n)
{
    sqlite3_bind_blob64(q, i, n ? p : "", n, SQLITE_TRANSIENT);
}

/* Reads the row of store/key into out (body and metadata copied): 1 when live, 0 when absent,
 * 2 when expired, -1 on errors. */
static int db_get(sqlite3 *db, const char *store, const uint8_t *k, size_t n, int64_t now,
                  hc_kv_value *out, int64_t *expires)
{
    sqlite3_stmt *q = prep(db, "SELECT body, metadata, generation, expires FROM kv_entries "
                               "WHERE store = ?1 AND key = ?2");
    if (!q)
        return -1;
    sqlite3_bind_text(q, 1, store, -1, SQLITE_STATIC);
    bind_blob(q, 2, k, n);
    int rc = sqlite3_step(q), r = 0;
    if (rc == SQLITE_ROW) {
        int64_t exp = sqlite3_column_int64(q, 3);
        if (expires)
            *expires = exp;
        if (live(exp, now)) {
            size_t bl = (size_t)sqlite3_column_bytes(q, 0);
            out->body = dup_bytes(sqlite3_column_blob(q, 0), bl);
            out->body_len = bl;
            if (sqlite3_column_type(q, 1) != SQLITE_NULL) {
                size_t ml = (size_t)sqlite3_column_bytes(q, 1);
                out->metadata = dup_bytes(sqlite3_column_blob(q, 1), ml);
                out->metadata_len = ml;
                if (!out->metadata)
                    r = -1;
            }
            out->generation = (uint64_t)sqlite3_column_int64(q, 2);
            r = out->body && r == 0 ? 1 : -1;
        } else {
            r = 2; /* present but expired */
        }
    } else if (rc != SQLITE_DONE) {
        r = -1;
    }
    sqlite3_finalize(q);
    if (r < 0)
        hc_kv_value_deinit(out);
    return r;
}

static bool db_del(sqlite3 *db, const char *store, const uint8_t *k, size_t n)
{
    sqlite3_stmt *q = prep(db, "DELETE FROM kv_entries WHERE store = ?1 AND key = ?2");
    if (!q)
        return false;
    sqlite3_bind_text(q, 1, store, -1, SQLITE_STATIC);
    bind_blob(q, 2, k, n);
    bool ok = sqlite3_step(q) == SQLITE_DONE;
    sqlite3_finalize(q);
    return ok;
}

static bool db_put(sqlite3 *db, const char *store, const uint8_t *k, size_t n, const uint8_t *body,
                   size_t body_len, const uint8_t *meta, size_t meta_len, bool has_meta,
                   uint64_t gen, int64_t expires)
{
    sqlite3_stmt *q = prep(db, "INSERT OR REPLACE INTO kv_entries(store, key, body, metadata, "
                               "generation, expires) VALUES(?1, ?2, ?3, ?4, ?5, ?6)");
    if (!q)
        return false;
    sqlite3_bind_text(q, 1, store, -1, SQLITE_STATIC);
    bind_blob(q, 2, k, n);
    bind_blob(q, 3, body, body_len);
    if (has_meta)
        bind_blob(q, 4, meta, meta_len);
    else
        sqlite3_bind_null(q, 4);
    sqlite3_bind_int64(q, 5, (int64_t)gen);
    sqlite3_bind_int64(q, 6, expires);
    bool ok = sqlite3_step(q) == SQLITE_DONE;
    sqlite3_finalize(q);
    return ok;
}

static hc_kv_error db_lookup(hc_kv_stores *s, kv_store *st, const uint8_t *k, size_t n,
                             hc_kv_value *out)
{
    pthread_mutex_lock(&s->db_lock);
    int r = db_get(s->db, st->name, k, n, now_ns(), out, NULL);
    pthread_mutex_unlock(&s->db_lock);
    return r == 1 ? HC_KV_OK : r < 0 ? HC_KV_INTERNAL_ERROR : HC_KV_NOT_FOUND;
}

static hc_kv_error db_insert(hc_kv_stores *s, kv_store *st, const uint8_t *k, size_t n,
                             const uint8_t *body, size_t body_len, const hc_kv_write *w)
{
    pthread_mutex_lock(&s->db_lock);
    hc_kv_value old = {0};
    hc_kv_error r = HC_KV_INTERNAL_ERROR;
    uint8_t *nb = NULL;
    if (!exec(s->db, "BEGIN IMMEDIATE"))
        goto out;
    int64_t now = now_ns();
    int g = db_get(s->db, st->name, k, n, now, &old, NULL);
    if (g < 0)
        goto rollback;
    bool exists = g == 1;
    r = precheck(w, exists, old.generation);
    if (r == HC_KV_OK && exists && (w->mode == HC_KV_APPEND || w->mode == HC_KV_PREPEND) &&
        old.body_len + body_len > HC_KV_VALUE_MAX)
        r = HC_KV_PAYLOAD_TOO_LARGE;
    if (r != HC_KV_OK)
        goto rollback;
    size_t nl = 0;
    nb = combine(w->mode, exists ? old.body : NULL, old.body_len, body, body_len, &nl);
    if (!nb || !db_put(s->db, st->name, k, n, nb, nl, w->metadata, w->metadata_len,
                       w->has_metadata, next_gen(s), expiry(w, now))) {
        r = HC_KV_INTERNAL_ERROR;
        goto rollback;
    }
    if (exec(s->db, "COMMIT"))
        goto out;
    r = HC_KV_INTERNAL_ERROR;
rollback:
    exec(s->db, "ROLLBACK");
out:
    free(nb);
    hc_kv_value_deinit(&old);
    pthread_mutex_unlock(&s->db_lock);
    return r;
}

static hc_kv_error db_delete(hc_kv_stores *s, kv_store *st, const uint8_t *k, size_t n)
{
    pthread_mutex_lock(&s->db_lock);
    hc_kv_value old = {0};
    hc_kv_error r = HC_KV_INTERNAL_ERROR;
    if (!exec(s->db, "BEGIN IMMEDIATE"))
        goto out;
    int g = db_get(s->db, st->name, k, n, now_ns(), &old, NULL);
    if (g >= 0 && (g == 0 || db_del(s->db, st->name, k, n)) && exec(s->db, "COMMIT")) {
        r = g == 1 ? HC_KV_OK : HC_KV_NOT_FOUND;
        goto out;
    }
    exec(s->db, "ROLLBACK");
out:
    hc_kv_value_deinit(&old);
    pthread_mutex_unlock(&s->db_lock);
    return r;
}

static bool db_list(hc_kv_stores *s, kv_store *st, const uint8_t *after, size_t after_len,
                    const uint8_t *prefix, size_t prefix_len, size_t want, keylist *l)
{
    pthread_mutex_lock(&s->db_lock);
    sqlite3_stmt *q = prep(s->db, "SELECT key FROM kv_entries WHERE store = ?1 AND key >= ?2 "
                                  "AND (expires = 0 OR expires > ?3) ORDER BY key");
    bool ok = q != NULL;
    if (q) {
        sqlite3_bind_text(q, 1, st->name, -1, SQLITE_STATIC);
        /* start at the larger of the cursor and the prefix */
        const uint8_t *lo = (const uint8_t *)"";
        size_t lo_len = 0;
        if (after)
            lo = after, lo_len = after_len;
        if (prefix && key_cmp(prefix, prefix_len, lo, lo_len) > 0)
            lo = prefix, lo_len = prefix_len;
        bind_blob(q, 2, lo, lo_len);
        sqlite3_bind_int64(q, 3, now_ns());
        int rc = SQLITE_DONE;
        while (l->n < want && !l->oom && (rc = sqlite3_step(q)) == SQLITE_ROW) {
            const uint8_t *k = sqlite3_column_blob(q, 0);
            size_t n = (size_t)sqlite3_column_bytes(q, 0);
            if (!k)
                k = (const uint8_t *)"";
            if (after && key_cmp(k, n, after, after_len) <= 0)
                continue;
            if (prefix && !has_prefix(k, n, prefix, prefix_len))
                break;
            keylist_push(l, k, n);
        }
        if (l->n < want && !l->oom && rc != SQLITE_DONE && rc != SQLITE_ROW)
            ok = false;
        sqlite3_finalize(q);
    }
    pthread_mutex_unlock(&s->db_lock);
    return ok;
}

/* Opens dir/kv.sqlite3 and seeds the stores it has not seen. */
static bool db_open(hc_kv_stores *s, const cfg_edge *edge, const char *dir, char *err,
                    size_t errlen)
{
    if (mkdir(dir, 0777) != 0 && errno != EEXIST) {
        snprintf(err, errlen, "cannot create directory %s: %s", dir, strerror(errno));
        return false;
    }
    size_t plen = strlen(dir) + sizeof "/kv.sqlite3";
    char *path = malloc(plen);
    if (!path) {
        snprintf(err, errlen, "out of memory");
        return false;
    }
    snprintf(path, plen, "%s/kv.sqlite3", dir);
    int rc = sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
                                               SQLITE_OPEN_FULLMUTEX, NULL);
    bool ok = false;
    if (rc != SQLITE_OK) {
        snprintf(err, errlen, "cannot open %s: %s", path,
                 s->db ? sqlite3_errmsg(s->db) : sqlite3_errstr(rc));
        goto out;
    }
    sqlite3_busy_timeout(s->db, 10000);
    if (!exec(s->db, "PRAGMA journal_mode=WAL") || !exec(s->db, "PRAGMA synchronous=NORMAL") ||
        !exec(s->db, schema) || !exec(s->db, "BEGIN IMMEDIATE")) {
        snprintf(err, errlen, "%s: %s", path, sqlite3_errmsg(s->db));
        goto out;
    }
    for (size_t i = 0; i < edge->nkv_stores; i++) {
        const cfg_kv_store *cs = &edge->kv_stores[i];
        sqlite3_stmt *q = prep(s->db, "INSERT OR IGNORE INTO kv_stores(name) VALUES(?1)");
        bool fresh = false;
        if (q) {
            sqlite3_bind_text(q, 1, cs->name, -1, SQLITE_STATIC);
            fresh = sqlite3_step(q) == SQLITE_DONE && sqlite3_changes(s->db) == 1;
            sqlite3_finalize(q);
        }
        for (size_t k = 0; fresh && k < cs->count; k++) {
            const cfg_kv_entry *e = &cs->entries[k];
            if (!db_put(s->db, cs->name, (const uint8_t *)e->key, e->key_len,
                        (const uint8_t *)e->body, e->body_len, (const uint8_t *)e->metadata,
                        e->metadata_len, e->metadata != NULL, next_gen(s), 0)) {
                snprintf(err, errlen, "%s: seeding store '%s': %s", path, cs->name,
                         sqlite3_errmsg(s->db));
                exec(s->db, "ROLLBACK");
                goto out;
            }
        }
    }
    if (!exec(s->db, "COMMIT")) {
        snprintf(err, errlen, "%s: %s", path, sqlite3_errmsg(s->db));
        goto out;
    }
    /* values that expired while the server was down go now */
    sqlite3_stmt *d = prep(s->db, "DELETE FROM kv_entries WHERE expires != 0 AND expires <= ?1");
    if (d) {
        sqlite3_bind_int64(d, 1, now_ns());
        sqlite3_step(d);
        sqlite3_finalize(d);
    }
    /* generations keep increasing across restarts even if the clock went back */
    sqlite3_stmt *q = prep(s->db, "SELECT MAX(generation) FROM kv_entries");
    if (q && sqlite3_step(q) == SQLITE_ROW && (uint64_t)sqlite3_column_int64(q, 0) > s->last_gen)
        s->last_gen = (uint64_t)sqlite3_column_int64(q, 0);
    sqlite3_finalize(q);
    ok = true;
out:
    free(path);
    return ok;
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
        kv_store *st = &s->stores[i];
        st->name = (char *)dup_bytes(edge->kv_stores[i].name, strlen(edge->kv_stores[i].name) + 1);
        pthread_rwlock_init(&st->lock, NULL);
        s->n++;
        if (!st->name)
            goto nomem;
    }
    if (dir) {
        if (!db_open(s, edge, dir, err, errlen)) {
            hc_kv_stores_free(s);
            return NULL;
        }
        return s;
    }
    for (size_t i = 0; i < n; i++) {
        const cfg_kv_store *cs = &edge->kv_stores[i];
        for (size_t k = 0; k < cs->count; k++) {
            const cfg_kv_entry *e = &cs->entries[k];
            mem_entry ne = {0};
            ne.key = dup_bytes(e->key, e->key_len);
            ne.key_len = e->key_len;
            ne.body = dup_bytes(e->body, e->body_len);
            ne.body_len = e->body_len;
            if (e->metadata) {
                ne.meta = dup_bytes(e->metadata, e->metadata_len);
                ne.meta_len = e->metadata_len;
            }
            ne.gen = next_gen(s);
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
        kv_store *st = &s->stores[i];
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

static kv_store *store_at(hc_kv_stores *s, int i)
{
    return s && i >= 0 && (size_t)i < s->n ? &s->stores[i] : NULL;
}

hc_kv_error hc_kv_lookup(hc_kv_stores *s, int store, const uint8_t *key, size_t key_len,
                         hc_kv_value *out)
{
    memset(out, 0, sizeof *out);
    kv_store *st = store_at(s, store);
    if (!st)
        return HC_KV_INTERNAL_ERROR;
    return s->db ? db_lookup(s, st, key, key_len, out) : mem_lookup(st, key, key_len, out);
}

hc_kv_error hc_kv_insert(hc_kv_stores *s, int store, const uint8_t *key, size_t key_len,
                         const uint8_t *body, size_t body_len, const hc_kv_write *w)
{
    kv_store *st = store_at(s, store);
    if (!st)
        return HC_KV_INTERNAL_ERROR;
    if (body_len > HC_KV_VALUE_MAX || (w->has_metadata && w->metadata_len > HC_KV_METADATA_MAX))
        return HC_KV_PAYLOAD_TOO_LARGE;
    if (s->db)
        return db_insert(s, st, key, key_len, body, body_len, w);
    return mem_insert(s, st, key, key_len, body, body_len, w);
}

hc_kv_error hc_kv_delete(hc_kv_stores *s, int store, const uint8_t *key, size_t key_len)
{
    kv_store *st = store_at(s, store);
    if (!st)
        return HC_KV_INTERNAL_ERROR;
    return s->db ? db_delete(s, st, key, key_len) : mem_delete(st, key, key_len);
}

hc_kv_error hc_kv_list(hc_kv_stores *s, int store, const uint8_t *cursor, size_t cursor_len,
                       const uint8_t *prefix, size_t prefix_len, uint32_t limit, char **json,
                       size_t *json_len)
{
    *json = NULL;
    *json_len = 0;
    kv_store *st = store_at(s, store);
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
    keylist l = {0};
    bool ok = true;
    if (s->db)
        ok = db_list(s, st, after, (size_t)after_len, prefix, prefix_len, (size_t)limit + 1, &l);
    else
        mem_list(st, after, (size_t)after_len, prefix, prefix_len, (size_t)limit + 1, &l);
    hc_kv_error r = HC_KV_INTERNAL_ERROR;
    if (ok && !l.oom)
        r = list_json(&l, limit, prefix, prefix_len, json, json_len);
    keylist_free(&l);
    free(after);
    return r;
}
