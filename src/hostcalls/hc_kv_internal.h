/* hc_kv_internal.h: what the KV engine's files share (hc_kv_stores.c: rules, memory backend and
 * the public operations; hc_kv_sqlite.c: the SQLite backend): the stores' layout, the write
 * rules and small helpers. Not for the hostcall modules, which use hc_kv_stores.h. */
#ifndef HC_KV_INTERNAL_H
#define HC_KV_INTERNAL_H

#include "hc_kv_stores.h"

#include <pthread.h>
#include <sqlite3.h>

typedef struct hc_kv_entry {
    uint8_t *key;
    size_t key_len;
    uint8_t *body;
    size_t body_len;
    uint8_t *meta; /* NULL: none */
    size_t meta_len;
    uint64_t gen;
    int64_t expires; /* unix ns, 0 = never */
} hc_kv_entry;

typedef struct hc_kv_store {
    char *name;
    pthread_rwlock_t lock; /* memory backend */
    hc_kv_entry *e;        /* sorted by key (bytes, shorter first on a tie) */
    size_t n, cap;
    unsigned writes; /* expired entries are swept out every so many writes */
} hc_kv_store;

struct hc_kv_stores {
    hc_kv_store *stores;
    size_t n;
    pthread_mutex_t gen_lock;
    uint64_t last_gen;
    sqlite3 *db; /* NULL: memory */
    pthread_mutex_t db_lock;
};

/* Collected keys of one list page. */
typedef struct hc_kv_keylist {
    uint8_t **k;
    size_t *len;
    size_t n, cap;
    bool oom;
} hc_kv_keylist;

/* Wall-clock time in ns (expiry times are absolute, so they survive a restart). */
int64_t hc_kv_now_ns(void);
/* A generation unlike any earlier one of these stores. */
uint64_t hc_kv_next_gen(hc_kv_stores *s);
/* A malloc'd copy of p[0..n) (non-NULL for n == 0 too), or NULL. */
uint8_t *hc_kv_dup(const void *p, size_t n);
/* Byte order, a shorter key first on a tie (the order of lists). */
int hc_kv_key_cmp(const uint8_t *a, size_t an, const uint8_t *b, size_t bn);
bool hc_kv_has_prefix(const uint8_t *k, size_t n, const uint8_t *p, size_t pn);
/* Whether a value expiring at `expires` (0: never) is still there at `now`. */
bool hc_kv_live(int64_t expires, int64_t now);
/* The write rules: HC_KV_OK, or why the existing value (or its absence) forbids the write. */
hc_kv_error hc_kv_precheck(const hc_kv_write *w, bool exists, uint64_t old_gen);
/* The expiry time of a write made at `now` (0: none). */
int64_t hc_kv_expiry(const hc_kv_write *w, int64_t now);
/* The new body for w->mode over the existing one (NULL when none), malloc'd; NULL when out of
 * memory. */
uint8_t *hc_kv_combine(hc_kv_mode mode, const uint8_t *old, size_t old_len, const uint8_t *body,
                       size_t body_len, size_t *out_len);
/* Appends a copy of a key (sets l->oom when out of memory). */
void hc_kv_keylist_push(hc_kv_keylist *l, const uint8_t *k, size_t n);

/* The SQLite backend (hc_kv_sqlite.c), each under s->db_lock. */
bool hc_kv_db_open(hc_kv_stores *s, const cfg_edge *edge, const char *dir, char *err,
                   size_t errlen);
hc_kv_error hc_kv_db_lookup(hc_kv_stores *s, hc_kv_store *st, const uint8_t *k, size_t n,
                            hc_kv_value *out);
hc_kv_error hc_kv_db_insert(hc_kv_stores *s, hc_kv_store *st, const uint8_t *k, size_t n,
                            const uint8_t *body, size_t body_len, const hc_kv_write *w);
hc_kv_error hc_kv_db_delete(hc_kv_stores *s, hc_kv_store *st, const uint8_t *k, size_t n);
/* Up to `want` live keys after `after` (NULL: from the start) with `prefix` (NULL: any). */
bool hc_kv_db_list(hc_kv_stores *s, hc_kv_store *st, const uint8_t *after, size_t after_len,
                   const uint8_t *prefix, size_t prefix_len, size_t want, hc_kv_keylist *l);

#endif
