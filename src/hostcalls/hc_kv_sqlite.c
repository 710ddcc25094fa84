/* hc_kv_sqlite.c: the KV stores kept in SQLite (-kv-dir): one database DIR/kv.sqlite3 in WAL
 * mode with a table of store names (a store is seeded from its -kv file only when first seen) and
 * one of entries keyed by (store, key) with body, metadata, generation and expiry. Each operation
 * runs under one mutex, and the read-modify-write ones in a transaction, so they are atomic for
 * this process and for others sharing the file. */
#include "hc_kv_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

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
        if (hc_kv_live(exp, now)) {
            size_t bl = (size_t)sqlite3_column_bytes(q, 0);
            out->body = hc_kv_dup(sqlite3_column_blob(q, 0), bl);
            out->body_len = bl;
            if (sqlite3_column_type(q, 1) != SQLITE_NULL) {
                size_t ml = (size_t)sqlite3_column_bytes(q, 1);
                out->metadata = hc_kv_dup(sqlite3_column_blob(q, 1), ml);
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

hc_kv_error hc_kv_db_lookup(hc_kv_stores *s, hc_kv_store *st, const uint8_t *k, size_t n,
                            hc_kv_value *out)
{
    pthread_mutex_lock(&s->db_lock);
    int r = db_get(s->db, st->name, k, n, hc_kv_now_ns(), out, NULL);
    pthread_mutex_unlock(&s->db_lock);
    return r == 1 ? HC_KV_OK : r < 0 ? HC_KV_INTERNAL_ERROR : HC_KV_NOT_FOUND;
}

hc_kv_error hc_kv_db_insert(hc_kv_stores *s, hc_kv_store *st, const uint8_t *k, size_t n,
                            const uint8_t *body, size_t body_len, const hc_kv_write *w)
{
    pthread_mutex_lock(&s->db_lock);
    hc_kv_value old = {0};
    hc_kv_error r = HC_KV_INTERNAL_ERROR;
    uint8_t *nb = NULL;
    if (!exec(s->db, "BEGIN IMMEDIATE"))
        goto out;
    int64_t now = hc_kv_now_ns();
    int g = db_get(s->db, st->name, k, n, now, &old, NULL);
    if (g < 0)
        goto rollback;
    bool exists = g == 1;
    r = hc_kv_precheck(w, exists, old.generation);
    if (r == HC_KV_OK && exists && (w->mode == HC_KV_APPEND || w->mode == HC_KV_PREPEND) &&
        old.body_len + body_len > HC_KV_VALUE_MAX)
        r = HC_KV_PAYLOAD_TOO_LARGE;
    if (r != HC_KV_OK)
        goto rollback;
    size_t nl = 0;
    nb = hc_kv_combine(w->mode, exists ? old.body : NULL, old.body_len, body, body_len, &nl);
    if (!nb || !db_put(s->db, st->name, k, n, nb, nl, w->metadata, w->metadata_len, w->has_metadata,
                       hc_kv_next_gen(s), hc_kv_expiry(w, now))) {
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

hc_kv_error hc_kv_db_delete(hc_kv_stores *s, hc_kv_store *st, const uint8_t *k, size_t n)
{
    pthread_mutex_lock(&s->db_lock);
    hc_kv_value old = {0};
    hc_kv_error r = HC_KV_INTERNAL_ERROR;
    if (!exec(s->db, "BEGIN IMMEDIATE"))
        goto out;
    int g = db_get(s->db, st->name, k, n, hc_kv_now_ns(), &old, NULL);
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

bool hc_kv_db_list(hc_kv_stores *s, hc_kv_store *st, const uint8_t *after, size_t after_len,
                   const uint8_t *prefix, size_t prefix_len, size_t want, hc_kv_keylist *l)
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
        if (prefix && hc_kv_key_cmp(prefix, prefix_len, lo, lo_len) > 0)
            lo = prefix, lo_len = prefix_len;
        bind_blob(q, 2, lo, lo_len);
        sqlite3_bind_int64(q, 3, hc_kv_now_ns());
        int rc = SQLITE_DONE;
        while (l->n < want && !l->oom && (rc = sqlite3_step(q)) == SQLITE_ROW) {
            const uint8_t *k = sqlite3_column_blob(q, 0);
            size_t n = (size_t)sqlite3_column_bytes(q, 0);
            if (!k)
                k = (const uint8_t *)"";
            if (after && hc_kv_key_cmp(k, n, after, after_len) <= 0)
                continue;
            if (prefix && !hc_kv_has_prefix(k, n, prefix, prefix_len))
                break;
            hc_kv_keylist_push(l, k, n);
        }
        if (l->n < want && !l->oom && rc != SQLITE_DONE && rc != SQLITE_ROW)
            ok = false;
        sqlite3_finalize(q);
    }
    pthread_mutex_unlock(&s->db_lock);
    return ok;
}

/* Opens dir/kv.sqlite3 and seeds the stores it has not seen. */
bool hc_kv_db_open(hc_kv_stores *s, const cfg_edge *edge, const char *dir, char *err, size_t errlen)
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
    int rc = sqlite3_open_v2(
        path, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX, NULL);
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
                        e->metadata_len, e->metadata != NULL, hc_kv_next_gen(s), 0)) {
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
        sqlite3_bind_int64(d, 1, hc_kv_now_ns());
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
