/* hc_kv_store.c: the fastly_kv_store module, with Viceroy's semantics: an unknown store or a bad
 * key is inval at once; each operation runs when called and its handle is ready at once; the
 * _wait calls report the outcome in the kv_error out-parameter with status ok (not_found for a
 * missing key, precondition_failed for add over a key or a generation mismatch). One deliberate
 * difference: a metadata buffer that is too small answers buflen without consuming the lookup, so
 * the guest can retry with the size written to nwritten (Viceroy loses the result). */
#include "hc_kv_store.h"

#include "hc_hostcall.h"
#include "hc_kv_ops.h"
#include "util/util_str.h"

#include <stdlib.h>
#include <string.h>

/* Flags each call understands (the witx's config_options). */
#define LOOKUP_FLAGS 0x1u
#define DELETE_FLAGS 0x1u
#define INSERT_FLAGS 0x3Fu
#define LIST_FLAGS 0xFu
enum {
    INS_BACKGROUND_FETCH = 0x2,
    INS_METADATA = 0x8,
    INS_TTL = 0x10,
    INS_IF_GENERATION_MATCH = 0x20,
};
enum { LIST_CURSOR = 0x2, LIST_LIMIT = 0x4, LIST_PREFIX = 0x8 };

static fwe_trap_kind kv_open(fwe_caller *caller, uint64_t *slots, void *data)
{
    HC_CTX(ctx);
    HC_RETURN(hc_kv_open(caller, ctx, HC_ARG(0), HC_ARG(1), HC_ARG(2)));
}

/* The store and key arguments every keyed call starts with; a bad key is Viceroy's
 * KvStoreError::BadRequest. */
static hc_status store_and_key(fwe_caller *caller, hc_ctx *ctx, uint64_t *slots, int *store,
                               const uint8_t **key)
{
    return hc_kv_store_and_key(caller, ctx, HC_ARG(0), HC_ARG(1), HC_ARG(2), HC_INVAL, store, key);
}

static fwe_trap_kind kv_lookup(fwe_caller *caller, uint64_t *slots, void *data)
{
    HC_CTX(ctx);
    if (HC_ARG(3) & ~LOOKUP_FLAGS)
        HC_RETURN(HC_INVAL);
    int store;
    const uint8_t *key;
    hc_status st = store_and_key(caller, ctx, slots, &store, &key);
    if (st == HC_OK)
        st = hc_kv_check_out(caller, HC_ARG(5), 4);
    if (st != HC_OK)
        HC_RETURN(st);
    HC_RETURN(hc_kv_run_lookup(caller, ctx, store, key, HC_ARG(2), HC_ARG(5)));
}

/* lookup_wait (generation as u32, always 0 as in production) and lookup_wait_v2 (u64). */
static hc_status lookup_wait(fwe_caller *caller, hc_ctx *ctx, uint64_t *slots, bool v2)
{
    uint32_t h = HC_ARG(0), body_out = HC_ARG(1), meta_buf = HC_ARG(2), meta_len = HC_ARG(3),
             nwritten_out = HC_ARG(4), gen_out = HC_ARG(5), err_out = HC_ARG(6);
    hc_kv_op *op = hc_table_get(&ctx->items, h, HC_ITEM_KV_LOOKUP);
    if (!op)
        return HC_BADF;
    hc_status st = hc_kv_check_out(caller, err_out, 4);
    if (st != HC_OK)
        return st;
    if (op->err != HC_KV_OK) {
        st = hc_mem_write_u32(caller, err_out, op->err);
        hc_kv_op_free(hc_table_take(&ctx->items, h, HC_ITEM_KV_LOOKUP));
        return st;
    }
    const hc_kv_value *v = &op->value;
    if ((st = hc_kv_check_out(caller, body_out, 4)) != HC_OK ||
        (st = hc_kv_check_out(caller, nwritten_out, 4)) != HC_OK ||
        (st = hc_kv_check_out(caller, gen_out, v2 ? 8 : 4)) != HC_OK)
        return st;
    if (v->metadata_len > meta_len) {
        hc_mem_write_u32(caller, nwritten_out, (uint32_t)v->metadata_len);
        return HC_BUFLEN; /* the lookup stays: retry with a bigger buffer */
    }
    if (v->metadata_len &&
        (st = hc_mem_write_bytes(caller, meta_buf, v->metadata, v->metadata_len)) != HC_OK)
        return st;
    uint32_t body;
    st = hc_kv_new_body(ctx, v->body, v->body_len, &body);
    if (st != HC_OK)
        return st;
    hc_mem_write_u32(caller, body_out, body);
    hc_mem_write_u32(caller, nwritten_out, (uint32_t)v->metadata_len);
    if (v2)
        hc_mem_write_u64(caller, gen_out, v->generation);
    else
        hc_mem_write_u32(caller, gen_out, 0);
    hc_mem_write_u32(caller, err_out, HC_KV_OK);
    hc_kv_op_free(hc_table_take(&ctx->items, h, HC_ITEM_KV_LOOKUP));
    return HC_OK;
}

static fwe_trap_kind kv_lookup_wait(fwe_caller *caller, uint64_t *slots, void *data)
{
    HC_CTX(ctx);
    HC_RETURN(lookup_wait(caller, ctx, slots, false));
}

static fwe_trap_kind kv_lookup_wait_v2(fwe_caller *caller, uint64_t *slots, void *data)
{
    HC_CTX(ctx);
    HC_RETURN(lookup_wait(caller, ctx, slots, true));
}

static fwe_trap_kind kv_insert(fwe_caller *caller, uint64_t *slots, void *data)
{
    HC_CTX(ctx);
    uint32_t mask = HC_ARG(4), cfg_ptr = HC_ARG(5), out = HC_ARG(6);
    if (mask & ~INSERT_FLAGS)
        HC_RETURN(HC_INVAL);
    int store;
    const uint8_t *key;
    hc_status st = store_and_key(caller, ctx, slots, &store, &key);
    if (st != HC_OK)
        HC_RETURN(st);
    /* kv_insert_config: mode, unused, metadata ptr, metadata_len, ttl, (pad), generation u64 */
    uint8_t *cfg;
    if ((st = hc_mem_record(caller, cfg_ptr, 32, 8, &cfg)) != HC_OK)
        HC_RETURN(st);
    hc_kv_write w = {.mode = (hc_kv_mode)hc_rec_u32(cfg, 0)};
    if (hc_rec_u32(cfg, 0) > HC_KV_PREPEND)
        HC_RETURN(HC_INVAL);
    uint8_t *meta = NULL;
    if (mask & INS_METADATA) {
        uint32_t mp = hc_rec_u32(cfg, 8), ml = hc_rec_u32(cfg, 12);
        const uint8_t *m = hc_mem_slice(caller, mp, ml);
        if (ml == 0 || !m)
            HC_RETURN(HC_INVAL); /* as Viceroy: the flag with no metadata is invalid */
        if (!(meta = util_memdup(m, ml)))
            HC_RETURN(HC_ERROR);
        w.has_metadata = true;
        w.metadata = meta;
        w.metadata_len = ml;
    }
    if (mask & INS_TTL) {
        w.has_ttl = true;
        w.ttl_sec = hc_rec_u32(cfg, 16);
    }
    if (mask & INS_IF_GENERATION_MATCH) {
        w.has_generation = true;
        w.generation = hc_rec_u64(cfg, 24);
    }
    /* background_fetch and the reserved flags change nothing locally */
    /* copy the key: reading the body could not move guest memory, but keep it simple and safe */
    uint32_t key_len = HC_ARG(2);
    uint8_t *k = util_memdup(key, key_len);
    if (!k) {
        free(meta);
        HC_RETURN(HC_ERROR);
    }
    uint8_t *body = NULL;
    size_t body_len = 0;
    bool too_large = false;
    if (!hc_ctx_body(ctx, HC_ARG(3)))
        st = HC_BADF;
    else if ((st = hc_kv_check_out(caller, out, 4)) == HC_OK)
        st = hc_kv_take_body(ctx, HC_ARG(3), &body, &body_len, &too_large);
    if (st == HC_OK) {
        hc_kv_op *op = hc_kv_op_new(HC_KV_PAYLOAD_TOO_LARGE);
        if (op && !too_large)
            op->err = hc_kv_insert(ctx->settings->kv, store, k, key_len, body, body_len, &w);
        st = hc_kv_add_op(caller, ctx, HC_ITEM_KV_INSERT, op, out);
    }
    free(body);
    free(k);
    free(meta);
    HC_RETURN(st);
}

/* The _wait calls that only report a kv_error. */
static hc_status wait_error(fwe_caller *caller, hc_ctx *ctx, uint32_t h, uint8_t kind,
                            uint32_t err_out)
{
    hc_kv_op *op = hc_table_get(&ctx->items, h, kind);
    if (!op)
        return HC_BADF;
    hc_status st = hc_kv_check_out(caller, err_out, 4);
    if (st != HC_OK)
        return st;
    hc_kv_error e = op->err;
    if (kind == HC_ITEM_KV_DELETE && e == HC_KV_NOT_FOUND)
        e = HC_KV_OK; /* deleting a missing key succeeds (as Viceroy) */
    st = hc_mem_write_u32(caller, err_out, e);
    hc_kv_op_free(hc_table_take(&ctx->items, h, kind));
    return st;
}

static fwe_trap_kind kv_insert_wait(fwe_caller *caller, uint64_t *slots, void *data)
{
    HC_CTX(ctx);
    HC_RETURN(wait_error(caller, ctx, HC_ARG(0), HC_ITEM_KV_INSERT, HC_ARG(1)));
}

static fwe_trap_kind kv_delete(fwe_caller *caller, uint64_t *slots, void *data)
{
    HC_CTX(ctx);
    if (HC_ARG(3) & ~DELETE_FLAGS)
        HC_RETURN(HC_INVAL);
    int store;
    const uint8_t *key;
    hc_status st = store_and_key(caller, ctx, slots, &store, &key);
    if (st == HC_OK)
        st = hc_kv_check_out(caller, HC_ARG(5), 4);
    if (st != HC_OK)
        HC_RETURN(st);
    HC_RETURN(hc_kv_run_delete(caller, ctx, store, key, HC_ARG(2), HC_ARG(5)));
}

static fwe_trap_kind kv_delete_wait(fwe_caller *caller, uint64_t *slots, void *data)
{
    HC_CTX(ctx);
    HC_RETURN(wait_error(caller, ctx, HC_ARG(0), HC_ITEM_KV_DELETE, HC_ARG(1)));
}

/* An optional string of the list config: absent without its flag; inval when flagged but empty,
 * outside memory or not UTF-8 (as Viceroy). */
static hc_status list_string(fwe_caller *caller, bool flagged, uint32_t ptr, uint32_t len,
                             const uint8_t **out)
{
    *out = NULL;
    if (!flagged)
        return HC_OK;
    const uint8_t *s = hc_mem_slice(caller, ptr, len);
    if (len == 0 || !s || !hc_kv_utf8_valid(s, len))
        return HC_INVAL;
    *out = s;
    return HC_OK;
}

static fwe_trap_kind kv_list(fwe_caller *caller, uint64_t *slots, void *data)
{
    HC_CTX(ctx);
    uint32_t mask = HC_ARG(1), cfg_ptr = HC_ARG(2), out = HC_ARG(3);
    if (mask & ~LIST_FLAGS)
        HC_RETURN(HC_INVAL);
    int store = hc_kv_store_of(ctx, HC_ARG(0));
    if (store < 0)
        HC_RETURN(HC_BADF);
    /* kv_list_config: mode, cursor ptr, cursor_len, limit, prefix ptr, prefix_len */
    uint8_t *cfg;
    hc_status st = hc_mem_record(caller, cfg_ptr, 24, 4, &cfg);
    if (st != HC_OK)
        HC_RETURN(st);
    if (hc_rec_u32(cfg, 0) > 1) /* strong or eventual: both read the one local copy */
        HC_RETURN(HC_INVAL);
    const uint8_t *cursor, *prefix;
    uint32_t cursor_len = hc_rec_u32(cfg, 8), prefix_len = hc_rec_u32(cfg, 20);
    st = list_string(caller, mask & LIST_CURSOR, hc_rec_u32(cfg, 4), cursor_len, &cursor);
    if (st == HC_OK)
        st = list_string(caller, mask & LIST_PREFIX, hc_rec_u32(cfg, 16), prefix_len, &prefix);
    if (st == HC_OK)
        st = hc_kv_check_out(caller, out, 4);
    if (st != HC_OK)
        HC_RETURN(st);
    uint32_t limit = (mask & LIST_LIMIT) ? hc_rec_u32(cfg, 12) : 0;
    hc_kv_op *op = hc_kv_op_new(HC_KV_OK);
    if (op)
        op->err = hc_kv_list(ctx->settings->kv, store, cursor, cursor_len, prefix, prefix_len,
                             limit, &op->json, &op->json_len);
    HC_RETURN(hc_kv_add_op(caller, ctx, HC_ITEM_KV_LIST, op, out));
}

static fwe_trap_kind kv_list_wait(fwe_caller *caller, uint64_t *slots, void *data)
{
    HC_CTX(ctx);
    uint32_t h = HC_ARG(0), body_out = HC_ARG(1), err_out = HC_ARG(2);
    hc_kv_op *op = hc_table_get(&ctx->items, h, HC_ITEM_KV_LIST);
    if (!op)
        HC_RETURN(HC_BADF);
    hc_status st = hc_kv_check_out(caller, err_out, 4);
    if (st == HC_OK && op->err == HC_KV_OK)
        st = hc_kv_check_out(caller, body_out, 4);
    if (st != HC_OK)
        HC_RETURN(st);
    if (op->err == HC_KV_OK) {
        uint32_t body;
        st = hc_kv_new_body(ctx, op->json, op->json_len, &body);
        if (st != HC_OK)
            HC_RETURN(st);
        hc_mem_write_u32(caller, body_out, body);
    }
    st = hc_mem_write_u32(caller, err_out, op->err);
    hc_kv_op_free(hc_table_take(&ctx->items, h, HC_ITEM_KV_LIST));
    HC_RETURN(st);
}

#define M "fastly_kv_store"
const hc_impl hc_kv_store_impls[] = {
    {M, "open", kv_open},
    {M, "open_v2", kv_open}, /* same signature and meaning in the SDKs that import it */
    {M, "lookup", kv_lookup},
    {M, "lookup_v2", kv_lookup},
    {M, "lookup_wait", kv_lookup_wait},
    {M, "lookup_wait_v2", kv_lookup_wait_v2},
    {M, "insert", kv_insert},
    {M, "insert_wait", kv_insert_wait},
    {M, "delete", kv_delete},
    {M, "delete_wait", kv_delete_wait},
    {M, "list", kv_list},
    {M, "list_wait", kv_list_wait},
    {NULL, NULL, NULL},
};
#undef M
