/* hc_kv_ops.c: store handles, pending KV operations as async items, and the shared argument
 * checks of the fastly_kv_store and fastly_object_store hostcalls. */
#include "hc_kv_ops.h"
#include "profiler/prof_recorder.h"
#include "util/util_grow.h"

#include "hc_mem.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

bool hc_kv_is_op_kind(uint8_t kind)
{
    return kind >= HC_ITEM_KV_LOOKUP && kind <= HC_ITEM_KV_LIST;
}

hc_kv_op *hc_kv_op_new(hc_kv_error err)
{
    hc_kv_op *op = calloc(1, sizeof *op);
    if (op)
        op->err = err;
    return op;
}

void hc_kv_op_free(hc_kv_op *op)
{
    if (!op)
        return;
    hc_kv_value_deinit(&op->value);
    free(op->json);
    free(op);
}

void hc_kv_item_free(uint8_t kind, void *obj)
{
    if (hc_kv_is_op_kind(kind))
        hc_kv_op_free(obj);
    /* store handles own nothing */
}

hc_status hc_kv_check_out(fwe_caller *caller, uint32_t ptr, uint32_t size)
{
    if (!hc_mem_slice(caller, ptr, size))
        return HC_INVAL;
    return ptr % size ? HC_BADALIGN : HC_OK;
}

hc_status hc_kv_open(fwe_caller *caller, hc_ctx *ctx, uint32_t name, uint32_t name_len,
                     uint32_t out_ptr)
{
    const char *n = (const char *)hc_mem_slice(caller, name, name_len);
    if (!n && name_len)
        return HC_INVAL;
    int idx = hc_kv_stores_find(ctx->settings->kv, n ? n : "", name_len);
    if (idx >= 0)
        prof_store_access(n, name_len);
    if (idx < 0)
        return HC_INVAL; /* Viceroy's UnknownObjectStore */
    hc_status st = hc_kv_check_out(caller, out_ptr, 4);
    if (st != HC_OK)
        return st;
    uint32_t h = hc_table_add(&ctx->items, HC_ITEM_KV_STORE, (void *)((uintptr_t)idx + 1));
    if (h == HC_HANDLE_INVALID)
        return HC_LIMITEXCEEDED;
    return hc_mem_write_u32(caller, out_ptr, h);
}

int hc_kv_store_of(hc_ctx *ctx, uint32_t h)
{
    void *p = hc_table_get(&ctx->items, h, HC_ITEM_KV_STORE);
    int idx = p ? (int)((uintptr_t)p - 1) : -1;
    const char *name = idx >= 0 ? hc_kv_stores_name(ctx->settings->kv, idx) : NULL;
    if (name)
        prof_store_access(name, strlen(name));
    return idx;
}

hc_status hc_kv_store_and_key(fwe_caller *caller, hc_ctx *ctx, uint32_t store_h, uint32_t key_ptr,
                              uint32_t key_len, hc_status bad_key, int *store, const uint8_t **key)
{
    *store = hc_kv_store_of(ctx, store_h);
    if (*store < 0)
        return HC_BADF;
    bool valid;
    hc_status st = hc_kv_read_key(caller, key_ptr, key_len, key, &valid);
    if (st != HC_OK)
        return st;
    return valid ? HC_OK : bad_key;
}

hc_status hc_kv_read_key(fwe_caller *caller, uint32_t ptr, uint32_t len, const uint8_t **key,
                         bool *valid)
{
    const uint8_t *k = hc_mem_slice(caller, ptr, len);
    if (!k && len)
        return HC_INVAL;
    *key = k ? k : (const uint8_t *)"";
    *valid = hc_kv_key_valid(*key, len);
    return HC_OK;
}

hc_status hc_kv_take_body(hc_ctx *ctx, uint32_t h, uint8_t **out, size_t *len, bool *too_large)
{
    *out = NULL;
    *len = 0;
    *too_large = false;
    hc_body *b = hc_table_take(&ctx->items, h, HC_ITEM_BODY);
    if (!b)
        return HC_BADF;
    size_t cap = 0;
    uint8_t *buf = NULL;
    hc_status st = HC_OK;
    uint8_t chunk[16384];
    for (;;) {
        long n = hc_body_read(b, chunk, sizeof chunk);
        if (n < 0) {
            st = HC_ERROR;
            break;
        }
        if (n == 0)
            break;
        if (*too_large)
            continue; /* drain what is left */
        if (*len + (size_t)n > HC_KV_VALUE_MAX) {
            *too_large = true;
            continue;
        }
        if (!util_grow((void **)&buf, &cap, *len + (size_t)n, 16384, 1)) {
            st = HC_ERROR;
            break;
        }
        memcpy(buf + *len, chunk, (size_t)n);
        *len += (size_t)n;
    }
    hc_body_free(b);
    if (st != HC_OK || *too_large) {
        free(buf);
        buf = NULL;
        *len = 0;
    }
    *out = buf;
    return st;
}

hc_status hc_kv_add_op(fwe_caller *caller, hc_ctx *ctx, uint8_t kind, hc_kv_op *op,
                       uint32_t out_ptr)
{
    if (!op)
        return HC_ERROR;
    uint32_t h = hc_table_add(&ctx->items, kind, op);
    if (h == HC_HANDLE_INVALID) {
        hc_kv_op_free(op);
        return HC_LIMITEXCEEDED;
    }
    hc_status st = hc_mem_write_u32(caller, out_ptr, h);
    if (st != HC_OK)
        hc_kv_op_free(hc_table_take(&ctx->items, h, kind));
    return st;
}

hc_status hc_kv_run_lookup(fwe_caller *caller, hc_ctx *ctx, int store, const uint8_t *key,
                           uint32_t key_len, uint32_t out_ptr)
{
    hc_kv_op *op = hc_kv_op_new(HC_KV_OK);
    if (op)
        op->err = hc_kv_lookup(ctx->settings->kv, store, key, key_len, &op->value);
    return hc_kv_add_op(caller, ctx, HC_ITEM_KV_LOOKUP, op, out_ptr);
}

hc_status hc_kv_run_delete(fwe_caller *caller, hc_ctx *ctx, int store, const uint8_t *key,
                           uint32_t key_len, uint32_t out_ptr)
{
    hc_kv_op *op = hc_kv_op_new(HC_KV_OK);
    if (op)
        op->err = hc_kv_delete(ctx->settings->kv, store, key, key_len);
    return hc_kv_add_op(caller, ctx, HC_ITEM_KV_DELETE, op, out_ptr);
}

hc_status hc_kv_new_body(hc_ctx *ctx, const void *data, size_t len, uint32_t *handle)
{
    hc_body *b = hc_body_new();
    if (!b || !hc_body_push_back(b, data, len)) {
        hc_body_free(b);
        return HC_ERROR;
    }
    hc_status st = hc_ctx_add_body(ctx, b, handle);
    if (st != HC_OK)
        hc_body_free(b);
    return st;
}
