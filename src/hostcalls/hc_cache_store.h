/* hc_cache_store.h: the cache every instance and thread of a server shares (hc_settings.cache):
 * objects keyed by cache key and, through vary rules, by request headers (variants); each with
 * its metadata (max age, stale-while-revalidate, stale-if-error, age, hits, user metadata,
 * surrogate keys, HTTP response head) and a body that readers stream while its writer is still
 * writing. Transactions collapse requests: one caller holds the obligation to insert or update, the
 * others wait for it. Memory is capped with least-recently-used eviction; an evicted or purged
 * object lives on for the handles that hold it. The clock is injectable for tests. */
#ifndef HC_CACHE_STORE_H
#define HC_CACHE_STORE_H

#include "hc_headers.h"
#include "hc_status.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct hc_cache hc_cache;
typedef struct hc_cache_obj hc_cache_obj;     /* a stored object (reference counted) */
typedef struct hc_cache_oblig hc_cache_oblig; /* an obligation to insert or update */
struct be_signal;

#define HC_CACHE_KEY_MAX 4096u             /* longest cache key (as Viceroy and production) */
#define HC_CACHE_DEFAULT_SIZE (256u << 20) /* default memory cap */
#define HC_CACHE_SURROGATE_KEY_MAX 1024u
#define HC_CACHE_SURROGATE_KEYS_MAX (16u * 1024u)

/* What a write stores (every pointer is copied; NULL/0 = absent). */
typedef struct hc_cache_write {
    uint64_t max_age_ns, initial_age_ns, swr_ns, sie_ns;
    const char *vary; /* header names separated by spaces */
    size_t vary_len;
    const char *surrogate_keys; /* keys separated by spaces */
    size_t surrogate_keys_len;
    const uint8_t *user_metadata;
    size_t user_metadata_len;
    int64_t length; /* expected body length, -1 unknown */
    bool sensitive;
    bool not_cacheable; /* a hit-for-pass marker (HTTP cache) */
    uint16_t status;    /* HTTP response head (HTTP cache, readthrough); 0 none */
    const hc_headers *resp_headers;
} hc_cache_write;

/* A snapshot of an object's metadata at one moment. */
typedef struct hc_cache_info {
    uint64_t age_ns, max_age_ns, swr_ns, sie_ns, hits;
    bool fresh;           /* age < max age and not soft-purged */
    bool usable;          /* fresh, or within stale-while-revalidate */
    bool usable_if_error; /* within stale-if-error */
    bool sensitive, not_cacheable;
    int64_t length; /* the final length once the body is complete, else the expected one, -1 */
    bool complete;
} hc_cache_info;

/* A new empty cache holding at most `max_bytes` of bodies and metadata (0: the default). */
hc_cache *hc_cache_new(uint64_t max_bytes);
/* Frees the cache; objects still referenced by handles stay valid until released. */
void hc_cache_free(hc_cache *c);
/* Replaces the clock (monotonic nanoseconds); for tests. NULL restores the real one. */
void hc_cache_set_clock(hc_cache *c, uint64_t (*now)(void *user), void *user);
uint64_t hc_cache_now(hc_cache *c);
/* The memory cap in bytes. */
uint64_t hc_cache_capacity(hc_cache *c);
/* Bytes charged now, and the number of stored objects. */
void hc_cache_usage(hc_cache *c, uint64_t *bytes, size_t *objects);

/* Validation of write options: inval for a malformed vary rule or surrogate key list. */
hc_status hc_cache_check_write(const hc_cache_write *w);

/* Non-transactional lookup: the newest object matching the request headers (NULL headers: none),
 * fresh or not, with a reference the caller releases; NULL when none. Counts a hit. */
hc_cache_obj *hc_cache_lookup(hc_cache *c, const uint8_t *key, size_t key_len,
                              const hc_headers *req);

/* Transactional lookup. Sets *found (referenced, usable or stale-with-obligation) and/or *oblig.
 * With `wait`, blocks while another caller holds the obligation for a matching variant and always
 * returns true. Without it, returns false (both NULL) instead of waiting. */
bool hc_cache_txn_lookup(hc_cache *c, const uint8_t *key, size_t key_len, const hc_headers *req,
                         bool wait, hc_cache_obj **found, hc_cache_oblig **oblig);

/* hc_cache_txn_lookup for an `owner` (e.g. a request context): obligations it creates carry the
 * owner, and it never waits for one the same owner holds (returns false instead, even with
 * `wait`), so a request cannot deadlock on itself. */
bool hc_cache_txn_lookup_owned(hc_cache *c, const uint8_t *key, size_t key_len,
                               const hc_headers *req, bool wait, const void *owner,
                               hc_cache_obj **found, hc_cache_oblig **oblig);

/* Stores a new object (non-transactional; the last writer wins) whose body the caller then
 * writes (hc_cache_body_write / _finish). Returns it referenced, NULL when out of memory. */
hc_cache_obj *hc_cache_insert(hc_cache *c, const uint8_t *key, size_t key_len,
                              const hc_headers *req, const hc_cache_write *w);

/* Fulfils an obligation (consumed) with a new object, as hc_cache_insert. */
hc_cache_obj *hc_cache_oblig_insert(hc_cache_oblig *o, const hc_cache_write *w);
/* Fulfils an obligation by refreshing the stale object it found: a new object with the new
 * metadata and the old body. HC_BADF (the obligation stays) when it found none. With `out`, the
 * new object is returned referenced. */
hc_status hc_cache_oblig_update(hc_cache_oblig *o, const hc_cache_write *w, hc_cache_obj **out);
/* Gives up an obligation (consumed): the next waiter gets it. Accepts NULL. */
void hc_cache_oblig_abandon(hc_cache_oblig *o);
/* Clears the obligation's owner (it outlives the request that took it). */
void hc_cache_oblig_disown(hc_cache_oblig *o);
/* The object the obligation found (stale), not referenced; NULL when none. */
hc_cache_obj *hc_cache_oblig_found(hc_cache_oblig *o);
/* Ends a collapse without changing what is stored: the waiters get `obj` (stale-if-error). */
void hc_cache_oblig_choose_stale(hc_cache_oblig *o);

/* Body writing: append bytes; finish (ok) or fail (the object is dropped from the cache and its
 * readers see an error). */
bool hc_cache_body_write(hc_cache_obj *o, const uint8_t *data, size_t len);
void hc_cache_body_finish(hc_cache_obj *o, bool ok);

/* Reads body bytes at `off` (at most len), blocking until some are there, the body ends (returns
 * 0) or fails (-1). */
long hc_cache_body_read(hc_cache_obj *o, uint64_t off, uint8_t *buf, size_t len);
/* True when a read at `off` would not block. */
bool hc_cache_body_ready(hc_cache_obj *o, uint64_t off);
/* Blocks until the final length is known (true) or the body failed (false). */
bool hc_cache_body_wait_length(hc_cache_obj *o, uint64_t *len);

/* Metadata. */
void hc_cache_obj_info(hc_cache_obj *o, hc_cache_info *out);
/* User metadata / surrogate keys (space separated) / vary rule: pointer valid while referenced. */
const uint8_t *hc_cache_obj_user_metadata(hc_cache_obj *o, size_t *len);
const char *hc_cache_obj_surrogate_keys(hc_cache_obj *o, size_t *len);
const char *hc_cache_obj_vary_rule(hc_cache_obj *o, size_t *len);
/* HTTP response head stored with the object (status 0 when none). */
uint16_t hc_cache_obj_status(hc_cache_obj *o);
const hc_headers *hc_cache_obj_resp_headers(hc_cache_obj *o);

void hc_cache_obj_retain(hc_cache_obj *o);
void hc_cache_obj_release(hc_cache_obj *o); /* accepts NULL */

/* Purges every object carrying surrogate key `skey`: removed (hard) or marked stale (soft).
 * Returns how many objects matched. */
size_t hc_cache_purge(hc_cache *c, const char *skey, size_t len, bool soft);

/* Background work holding cache objects (revalidations that outlive their request):
 * hc_cache_free waits until every begin has had its end. */
void hc_cache_bg_begin(hc_cache *c);
void hc_cache_bg_end(hc_cache *c);
/* Waits until no background job runs (before the backends they use are freed). Accepts NULL. */
void hc_cache_bg_wait(hc_cache *c);

/* Registers a wake-up signal that is notified whenever a transaction ends or body bytes arrive
 * (so fastly_async_io.select on cache handles wakes); counted, unregister as often. */
void hc_cache_watch(hc_cache *c, struct be_signal *s);
void hc_cache_unwatch(hc_cache *c, struct be_signal *s);

#endif
