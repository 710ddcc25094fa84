/* hc_object_store.c: the legacy fastly_object_store module, as Viceroy answers it: a key that
 * breaks the rules is `error` (not inval as in fastly_kv_store), a missing key is ok with no body
 * handle written, a failed write is inval, and pending_delete_wait of a missing key is none.
 * Handles are shared with fastly_kv_store (a pending lookup can be waited on by either module). */
#include "hc_object_store.h"

#include "hc_hostcall.h"
#include "hc_kv_ops.h"
#include "util/util_str.h"

#include <stdlib.h>
#include <string.h>

static fwe_trap_kind obj_open(fwe_caller *caller, uint64_t *slots, void *data)
{
    HC_CTX(ctx);
    HC_RETURN(hc_kv_open(caller, ctx, HC_ARG(0), HC_ARG(1), HC_ARG(2)));
}

/* A bad key is Viceroy's ObjectStoreKeyValidationError. */
static hc_status store_and_key(fwe_caller *caller, hc_ctx *ctx, uint64_t *slots, int *store,
                               const uint8_t **key)
{
    return hc_kv_store_and_key(caller, ctx, HC_ARG(0), HC_ARG(1), HC_ARG(2), HC_ERROR, store, key);
}

/* The outcome of a lookup as these calls report it. */
static hc_status lookup_result(fwe_caller *caller, hc_ctx *ctx, const hc_kv_op *op,
                               uint32_t body_out)
{
    if (op->err == HC_KV_NOT_FOUND)
        return HC_OK; /* nothing written: the SDK's invalid handle says "absent" */
    if (op->err != HC_KV_OK)
        return HC_INVAL;
    hc_status st = hc_kv_check_out(caller, body_out, 4);
    if (st != HC_OK)
        return st;
    uint32_t body;
    st = hc_kv_new_body(ctx, op->value.body, op->value.body_len, &body);
    if (st != HC_OK)
        return st;
    return hc_mem_write_u32(caller, body_out, body);
}

static fwe_trap_kind obj_lookup(fwe_caller *caller, uint64_t *slots, void *data)
{
    HC_CTX(ctx);
    int store;
    const uint8_t *key;
    hc_status st = store_and_key(caller, ctx, slots, &store, &key);
    if (st != HC_OK)
        HC_RETURN(st);
    hc_kv_op op = {0};
    op.err = hc_kv_lookup(ctx->settings->kv, store, key, HC_ARG(2), &op.value);
    st = lookup_result(caller, ctx, &op, HC_ARG(3));
    hc_kv_value_deinit(&op.value);
    HC_RETURN(st);
}

static fwe_trap_kind obj_lookup_async(fwe_caller *caller, uint64_t *slots, void *data)
{
    HC_CTX(ctx);
    int store;
    const uint8_t *key;
    hc_status st = store_and_key(caller, ctx, slots, &store, &key);
    if (st == HC_OK)
        st = hc_kv_check_out(caller, HC_ARG(3), 4);
    if (st != HC_OK)
        HC_RETURN(st);
    HC_RETURN(hc_kv_run_lookup(caller, ctx, store, key, HC_ARG(2), HC_ARG(3)));
}

static fwe_trap_kind obj_pending_lookup_wait(fwe_caller *caller, uint64_t *slots, void *data)
{
    HC_CTX(ctx);
    hc_kv_op *op = hc_table_get(&ctx->items, HC_ARG(0), HC_ITEM_KV_LOOKUP);
    if (!op)
        HC_RETURN(HC_BADF);
    if (op->err == HC_KV_OK) {
        hc_status st = hc_kv_check_out(caller, HC_ARG(1), 4);
        if (st != HC_OK)
            HC_RETURN(st); /* the lookup stays for a retry */
    }
    op = hc_table_take(&ctx->items, HC_ARG(0), HC_ITEM_KV_LOOKUP);
    hc_status st = lookup_result(caller, ctx, op, HC_ARG(1));
    hc_kv_op_free(op);
    HC_RETURN(st);
}

/* Insert (overwrite, no options) of body handle `body_h`; *err is the engine's outcome. */
static hc_status do_insert(hc_ctx *ctx, int store, const uint8_t *key, uint32_t key_len,
                           uint32_t body_h, hc_kv_error *err)
{
    uint8_t *k = util_memdup(key, key_len);
    if (!k)
        return HC_ERROR;
    uint8_t *body;
    size_t body_len;
    bool too_large;
    hc_status st = hc_kv_take_body(ctx, body_h, &body, &body_len, &too_large);
    if (st == HC_OK) {
        hc_kv_write w = {.mode = HC_KV_OVERWRITE};
        *err = too_large ? HC_KV_PAYLOAD_TOO_LARGE
                         : hc_kv_insert(ctx->settings->kv, store, k, key_len, body, body_len, &w);
    }
    free(body);
    free(k);
    return st;
}

static fwe_trap_kind obj_insert(fwe_caller *caller, uint64_t *slots, void *data)
{
    HC_CTX(ctx);
    int store;
    const uint8_t *key;
    hc_status st = store_and_key(caller, ctx, slots, &store, &key);
    if (st != HC_OK)
        HC_RETURN(st);
    hc_kv_error err = HC_KV_OK;
    st = do_insert(ctx, store, key, HC_ARG(2), HC_ARG(3), &err);
    if (st == HC_OK && err != HC_KV_OK)
        st = HC_INVAL; /* KvStoreError as a status */
    HC_RETURN(st);
}

static fwe_trap_kind obj_insert_async(fwe_caller *caller, uint64_t *slots, void *data)
{
    HC_CTX(ctx);
    int store;
    const uint8_t *key;
    hc_status st = store_and_key(caller, ctx, slots, &store, &key);
    if (st == HC_OK && !hc_ctx_body(ctx, HC_ARG(3)))
        st = HC_BADF;
    if (st == HC_OK)
        st = hc_kv_check_out(caller, HC_ARG(4), 4);
    if (st != HC_OK)
        HC_RETURN(st);
    hc_kv_op *op = hc_kv_op_new(HC_KV_OK);
    if (!op)
        HC_RETURN(HC_ERROR);
    st = do_insert(ctx, store, key, HC_ARG(2), HC_ARG(3), &op->err);
    if (st != HC_OK) {
        hc_kv_op_free(op);
        HC_RETURN(st);
    }
    HC_RETURN(hc_kv_add_op(caller, ctx, HC_ITEM_KV_INSERT, op, HC_ARG(4)));
}

static fwe_trap_kind obj_pending_insert_wait(fwe_caller *caller, uint64_t *slots, void *data)
{
    HC_CTX(ctx);
    hc_kv_op *op = hc_table_take(&ctx->items, HC_ARG(0), HC_ITEM_KV_INSERT);
    if (!op)
        HC_RETURN(HC_BADF);
    hc_status st = op->err == HC_KV_OK ? HC_OK : HC_INVAL;
    hc_kv_op_free(op);
    HC_RETURN(st);
}

static fwe_trap_kind obj_delete_async(fwe_caller *caller, uint64_t *slots, void *data)
{
    HC_CTX(ctx);
    int store;
    const uint8_t *key;
    hc_status st = store_and_key(caller, ctx, slots, &store, &key);
    if (st == HC_OK)
        st = hc_kv_check_out(caller, HC_ARG(3), 4);
    if (st != HC_OK)
        HC_RETURN(st);
    HC_RETURN(hc_kv_run_delete(caller, ctx, store, key, HC_ARG(2), HC_ARG(3)));
}

static fwe_trap_kind obj_pending_delete_wait(fwe_caller *caller, uint64_t *slots, void *data)
{
    HC_CTX(ctx);
    hc_kv_op *op = hc_table_take(&ctx->items, HC_ARG(0), HC_ITEM_KV_DELETE);
    if (!op)
        HC_RETURN(HC_BADF);
    hc_status st = op->err == HC_KV_OK ? HC_OK : op->err == HC_KV_NOT_FOUND ? HC_NONE : HC_INVAL;
    hc_kv_op_free(op);
    HC_RETURN(st);
}

#define M "fastly_object_store"
const hc_impl hc_object_store_impls[] = {
    {M, "open", obj_open},
    {M, "lookup", obj_lookup},
    {M, "lookup_async", obj_lookup_async},
    {M, "pending_lookup_wait", obj_pending_lookup_wait},
    {M, "insert", obj_insert},
    {M, "insert_async", obj_insert_async},
    {M, "pending_insert_wait", obj_pending_insert_wait},
    {M, "delete_async", obj_delete_async},
    {M, "pending_delete_wait", obj_pending_delete_wait},
    {NULL, NULL, NULL},
};
#undef M
