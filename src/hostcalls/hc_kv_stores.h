/* hc_kv_stores.h: the live KV stores of a server, shared by every instance and thread: values with
 * a body, optional metadata, a generation that changes on every write and an optional expiry.
 * Kept in memory, or in one SQLite database (WAL) in a directory so writes survive a restart. The
 * set of stores is fixed when created (the configured -kv stores); their contents change. */
#ifndef HC_KV_STORES_H
#define HC_KV_STORES_H

#include "config/cfg_edge.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Outcomes, numbered as the ABI's kv_error (typenames.witx). */
typedef enum hc_kv_error {
    HC_KV_UNINITIALIZED = 0,
    HC_KV_OK = 1,
    HC_KV_BAD_REQUEST = 2,
    HC_KV_NOT_FOUND = 3,
    HC_KV_PRECONDITION_FAILED = 4,
    HC_KV_PAYLOAD_TOO_LARGE = 5,
    HC_KV_INTERNAL_ERROR = 6,
    HC_KV_TOO_MANY_REQUESTS = 7,
} hc_kv_error;

/* The ABI's kv_insert_mode. */
typedef enum hc_kv_mode {
    HC_KV_OVERWRITE = 0,
    HC_KV_ADD = 1,
    HC_KV_APPEND = 2,
    HC_KV_PREPEND = 3,
} hc_kv_mode;

/* Production's limits (the JS SDK documents them): keys up to 1024 bytes, metadata up to 1000
 * bytes, values up to 30 MiB; a list answers at most 1000 keys by default. */
#define HC_KV_KEY_MAX 1024u
#define HC_KV_METADATA_MAX 1000u
#define HC_KV_VALUE_MAX (30u * 1024u * 1024u)
#define HC_KV_LIST_DEFAULT_LIMIT 1000u

typedef struct hc_kv_stores hc_kv_stores;

/* A value as read: body and metadata (NULL when none) are owned (hc_kv_value_deinit). */
typedef struct hc_kv_value {
    uint8_t *body;
    size_t body_len;
    uint8_t *metadata;
    size_t metadata_len;
    uint64_t generation;
} hc_kv_value;
void hc_kv_value_deinit(hc_kv_value *v);

/* How a write goes (insert options). */
typedef struct hc_kv_write {
    hc_kv_mode mode;
    bool has_metadata;
    const uint8_t *metadata;
    size_t metadata_len;
    bool has_ttl;
    uint32_t ttl_sec;
    bool has_generation; /* if_generation_match */
    uint64_t generation;
} hc_kv_write;

/* Makes the stores of edge->kv_stores, filled with their configured entries. With dir (may be
 * NULL) they live in dir/kv.sqlite3 (the directory is created when missing): a store the database
 * has never seen is seeded from the configuration once; afterwards the database's contents win.
 * NULL with one line in err when the database cannot be opened or out of memory. */
hc_kv_stores *hc_kv_stores_new(const cfg_edge *edge, const char *dir, char *err, size_t errlen);
void hc_kv_stores_free(hc_kv_stores *s); /* accepts NULL */

/* The index of store name[0..len), or -1 when there is none (s may be NULL). */
int hc_kv_stores_find(const hc_kv_stores *s, const char *name, size_t len);
/* The name of store `idx` (from hc_kv_stores_find), or NULL. */
const char *hc_kv_stores_name(const hc_kv_stores *s, int idx);

/* A key production accepts: 1..1024 bytes of UTF-8, not ".", "..", nor with "./" or "../"
 * segments, not starting with ".well-known/acme-challenge", without CR, LF, '#', ';', '?', '^',
 * '|', and not a single control/space character or U+FFFE/U+FFFF (Viceroy's rules). */
bool hc_kv_key_valid(const uint8_t *key, size_t len);
bool hc_kv_utf8_valid(const uint8_t *s, size_t len);

/* The operations. Each is atomic: a reader never sees half a write. */
hc_kv_error hc_kv_lookup(hc_kv_stores *s, int store, const uint8_t *key, size_t key_len,
                         hc_kv_value *out); /* HC_KV_OK (out filled), NOT_FOUND or INTERNAL */
/* PRECONDITION_FAILED: add over an existing key, or a generation mismatch; PAYLOAD_TOO_LARGE:
 * the value or metadata is over the limit. */
hc_kv_error hc_kv_insert(hc_kv_stores *s, int store, const uint8_t *key, size_t key_len,
                         const uint8_t *body, size_t body_len, const hc_kv_write *w);
/* HC_KV_OK when a live value was deleted, NOT_FOUND when there was none. */
hc_kv_error hc_kv_delete(hc_kv_stores *s, int store, const uint8_t *key, size_t key_len);
/* Lists keys in byte order after the (base64) cursor, starting with prefix (NULL: any), at most
 * limit (0: the default), as production's JSON body
 * {"data":[keys],"meta":{"limit":N,"prefix":P,"next_cursor":C}} (prefix and next_cursor only
 * when set) in *json (malloc'd). BAD_REQUEST for a cursor that is not base64 of UTF-8. */
hc_kv_error hc_kv_list(hc_kv_stores *s, int store, const uint8_t *cursor, size_t cursor_len,
                       const uint8_t *prefix, size_t prefix_len, uint32_t limit, char **json,
                       size_t *json_len);

#endif
