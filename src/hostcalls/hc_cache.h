/* hc_cache.h: the fastly_cache hostcall module (the core cache API over the shared store,
 * hc_cache_store.h) and what other modules need of it: the async item kinds of cache handles and
 * of the bodies that write into the cache, their readiness and release, and readers that stream a
 * cached body into an ordinary body handle. */
#ifndef HC_CACHE_H
#define HC_CACHE_H

#include "hc_cache_store.h"
#include "hc_ctx_internal.h"
#include "hostcalls/hc_registry.h"

extern const hc_impl hc_cache_impls[];

enum {
    HC_ITEM_CACHE = HC_ITEM_FIRST_FREE + 40,         /* cache (and busy) handles */
    HC_ITEM_CACHE_WBODY = HC_ITEM_FIRST_FREE + 41,   /* a body writing into the cache */
    HC_ITEM_CACHE_REPLACE = HC_ITEM_FIRST_FREE + 42, /* replace handles */
    HC_ITEM_HTTP_CACHE = HC_ITEM_FIRST_FREE + 43,    /* fastly_http_cache handles */
};

/* True for the kinds above (hc_pending.c dispatches to the two functions below). */
bool hc_cache_item_kind(uint8_t kind);
void hc_cache_item_free(uint8_t kind, void *obj);
hc_status hc_cache_item_ready(hc_ctx *ctx, uint32_t h, bool *ready);

/* Body hostcalls on a handle of kind HC_ITEM_CACHE_WBODY: bytes go to the cached object (readers
 * see them at once); close completes it, abandon (or a handle left open) fails it. */
bool hc_cache_is_wbody(hc_ctx *ctx, uint32_t h);
hc_status hc_cache_wbody_write(hc_ctx *ctx, uint32_t h, const uint8_t *data, size_t len);
hc_status hc_cache_wbody_append(hc_ctx *ctx, uint32_t h, hc_body *src); /* src consumed */
hc_status hc_cache_wbody_close(hc_ctx *ctx, uint32_t h, bool abandon);

/* Registers a body writing into `o` (referenced by the handle) and returns its handle. */
hc_status hc_cache_add_wbody(hc_ctx *ctx, hc_cache_obj *o, uint32_t *handle);
/* hc_cache_add_wbody, then the handle written to guest body_ptr. Takes over the caller's
 * reference on o; when no handle can be made the body is finished as abandoned and the reference
 * dropped. */
hc_status hc_cache_open_wbody(fwe_caller *caller, hc_ctx *ctx, hc_cache_obj *o, uint32_t body_ptr);

/* The numeric getters both cache APIs share (get_length, get_max_age_ns, ...). */
typedef enum hc_cache_field {
    HC_CACHE_LENGTH,    /* u64; `none` while unknown */
    HC_CACHE_MAX_AGE,   /* u64 ns */
    HC_CACHE_SWR,       /* u64 ns */
    HC_CACHE_SIE,       /* u64 ns */
    HC_CACHE_AGE,       /* u64 ns */
    HC_CACHE_HITS,      /* u64 */
    HC_CACHE_SENSITIVE, /* u32 0/1 */
} hc_cache_field;
/* Writes field `what` of o to guest out_ptr. */
hc_status hc_cache_write_field(fwe_caller *caller, hc_cache_obj *o, hc_cache_field what,
                               uint32_t out_ptr);

/* A new body that reads `o`'s bytes [start, end) (end -1: to the end) as they arrive; holds a
 * reference. NULL when out of memory. */
hc_body *hc_cache_reader_body(hc_cache_obj *o, uint64_t start, int64_t end);

/* The state flags (cache_lookup_state) of a lookup that found `found` (may be NULL) and holds an
 * obligation or not. */
uint32_t hc_cache_state_flags(hc_cache_obj *found, bool obliged);

#endif
