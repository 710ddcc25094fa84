/* hc_kv_ops.h: KV store work as the hostcalls of fastly_kv_store and the legacy
 * fastly_object_store hold it: store handles and pending operations (lookup, insert, delete,
 * list) as async items of the request, each carrying its outcome (the engine answers at once, so
 * they are always ready for fastly_async_io), and the argument checks both modules share. */
#ifndef HC_KV_OPS_H
#define HC_KV_OPS_H

#include "hc_ctx_internal.h"
#include "hc_kv_stores.h"

/* Kinds in ctx->items, numbered well away from the backends' (hc_pending.h) and other modules'. */
enum {
    HC_ITEM_KV_STORE = HC_ITEM_FIRST_FREE + 16,  /* a store handle: the object is index + 1 */
    HC_ITEM_KV_LOOKUP = HC_ITEM_FIRST_FREE + 17, /* hc_kv_op */
    HC_ITEM_KV_INSERT = HC_ITEM_FIRST_FREE + 18, /* hc_kv_op */
    HC_ITEM_KV_DELETE = HC_ITEM_FIRST_FREE + 19, /* hc_kv_op */
    HC_ITEM_KV_LIST = HC_ITEM_FIRST_FREE + 20,   /* hc_kv_op */
};

/* The outcome of one operation. */
typedef struct hc_kv_op {
    hc_kv_error err;
    hc_kv_value value; /* lookup, when err == HC_KV_OK */
    char *json;        /* list, when err == HC_KV_OK */
    size_t json_len;
} hc_kv_op;

/* True for the kinds above (store handles are not async items: false). */
bool hc_kv_is_op_kind(uint8_t kind);
/* Frees an item of one of the kinds above (hc_item_free dispatches here). */
void hc_kv_item_free(uint8_t kind, void *obj);

/* Opens store name (guest ptr, len) and writes its handle to out_ptr: inval for a name outside
 * memory or a store that is not configured (as Viceroy), the write's status otherwise. */
hc_status hc_kv_open(fwe_caller *caller, hc_ctx *ctx, uint32_t name, uint32_t name_len,
                     uint32_t out_ptr);
/* The store index behind handle h, or -1 (badf). */
int hc_kv_store_of(hc_ctx *ctx, uint32_t h);
/* The store handle and key arguments keyed calls of both modules start with: *store from the
 * handle (HC_BADF when it is none), *key from guest memory (HC_INVAL for a bad pointer), and
 * `bad_key` when the key breaks the naming rules (the two modules report that differently). */
hc_status hc_kv_store_and_key(fwe_caller *caller, hc_ctx *ctx, uint32_t store_h, uint32_t key_ptr,
                              uint32_t key_len, hc_status bad_key, int *store, const uint8_t **key);
/* Reads a key from guest memory: inval outside memory, *valid false when the key breaks
 * production's rules (hc_kv_key_valid). */
hc_status hc_kv_read_key(fwe_caller *caller, uint32_t ptr, uint32_t len, const uint8_t **key,
                         bool *valid);
/* Takes body handle h (badf when it is not a plain body) and reads it whole into *out (malloc'd;
 * *too_large when it is over HC_KV_VALUE_MAX: then the rest is drained and dropped). HC_ERROR when
 * its source fails. */
hc_status hc_kv_take_body(hc_ctx *ctx, uint32_t h, uint8_t **out, size_t *len, bool *too_large);

/* Registers op (owned; freed on failure) as an item of `kind` and writes its handle to out_ptr.
 * A failed write removes the item again. */
hc_status hc_kv_add_op(fwe_caller *caller, hc_ctx *ctx, uint8_t kind, hc_kv_op *op,
                       uint32_t out_ptr);
/* Runs a lookup (or a delete) of key in `store` now and registers its outcome as an item of kind
 * HC_ITEM_KV_LOOKUP (HC_ITEM_KV_DELETE) whose handle goes to out_ptr, as hc_kv_add_op. */
hc_status hc_kv_run_lookup(fwe_caller *caller, hc_ctx *ctx, int store, const uint8_t *key,
                           uint32_t key_len, uint32_t out_ptr);
hc_status hc_kv_run_delete(fwe_caller *caller, hc_ctx *ctx, int store, const uint8_t *key,
                           uint32_t key_len, uint32_t out_ptr);
/* A new op with err set (NULL when out of memory). */
hc_kv_op *hc_kv_op_new(hc_kv_error err);
void hc_kv_op_free(hc_kv_op *op);

/* A new body handle holding data[0..len) (copied). */
hc_status hc_kv_new_body(hc_ctx *ctx, const void *data, size_t len, uint32_t *handle);

/* Checks that an out-pointer of `size` bytes can be written: inval outside memory, badalign. */
hc_status hc_kv_check_out(fwe_caller *caller, uint32_t ptr, uint32_t size);

#endif
