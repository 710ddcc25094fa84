/* hc_secret_store.c: fastly_secret_store.open/get/plaintext/from_bytes over the server's secret
 * stores (hc_settings.edge), with Viceroy's statuses: an unknown store or secret is `none`, a bad
 * store or secret handle `badf`, a too-small plaintext buffer `buflen` with the needed size. Only
 * names are ever logged, never a value. */
#include "hc_secret_store.h"

#include "config/cfg_edge.h"
#include "hc_edge_handles.h"
#include "hc_hostcall.h"

#include <stdlib.h>
#include <string.h>

static hc_status add_secret(fwe_caller *caller, hc_ctx *ctx, const uint8_t *bytes, size_t len,
                            bool copy, uint32_t handle_out)
{
    hc_secret *s = calloc(1, sizeof *s);
    if (!s)
        return HC_ERROR;
    s->len = len;
    if (copy) {
        s->owned = malloc(len ? len : 1);
        if (!s->owned) {
            free(s);
            return HC_ERROR;
        }
        if (len)
            memcpy(s->owned, bytes, len);
        s->bytes = s->owned;
    } else {
        s->bytes = bytes;
    }
    uint32_t h;
    hc_status st = hc_edge_add(ctx, HC_EDGE_SECRET, s, &h);
    if (st != HC_OK) {
        hc_secret_free(s);
        return st;
    }
    return hc_mem_write_u32(caller, handle_out, h);
}

static const void *find_store(const cfg_edge *e, const char *name, size_t len)
{
    return cfg_edge_secret_store(e, name, len);
}

static fwe_trap_kind store_open(fwe_caller *caller, uint64_t *slots, void *data)
{
    HC_CTX(ctx);
    HC_RETURN(hc_edge_open(caller, ctx, HC_ARG(0), HC_ARG(1), HC_ARG(2), HC_EDGE_SECRET_STORE,
                           find_store, "fastly_secret_store.open", "secret store", HC_NONE));
}

static fwe_trap_kind store_get(fwe_caller *caller, uint64_t *slots, void *data)
{
    HC_CTX(ctx);
    const cfg_secret_store *s = hc_edge_get(ctx, HC_ARG(0), HC_EDGE_SECRET_STORE);
    if (!s)
        HC_RETURN(HC_BADF);
    const char *key;
    uint32_t key_len = HC_ARG(2);
    hc_status st = hc_edge_guest_str(caller, HC_ARG(1), key_len, &key);
    if (st != HC_OK)
        HC_RETURN(st);
    const cfg_string_entry *item = cfg_string_map_get(&s->items, key, key_len);
    if (!item) {
        char shown[72];
        hc_log(ctx, 2, "fastly_secret_store.get: no secret named '%s' in '%s'",
               hc_edge_log_name(key, key_len, shown), s->name);
        HC_RETURN(HC_NONE);
    }
    /* the store outlives the request: the secret refers to its value */
    HC_RETURN(
        add_secret(caller, ctx, (const uint8_t *)item->value, item->value_len, false, HC_ARG(3)));
}

static fwe_trap_kind plaintext(fwe_caller *caller, uint64_t *slots, void *data)
{
    HC_CTX(ctx);
    const hc_secret *s = hc_edge_get(ctx, HC_ARG(0), HC_EDGE_SECRET);
    if (!s)
        HC_RETURN(HC_BADF);
    HC_RETURN(hc_mem_copy_out(caller, HC_ARG(1), HC_ARG(2), HC_ARG(3), s->bytes, s->len));
}

static fwe_trap_kind from_bytes(fwe_caller *caller, uint64_t *slots, void *data)
{
    HC_CTX(ctx);
    const uint8_t *bytes = hc_mem_slice(caller, HC_ARG(0), HC_ARG(1));
    if (!bytes)
        HC_RETURN(HC_INVAL);
    HC_RETURN(add_secret(caller, ctx, bytes, HC_ARG(1), true, HC_ARG(2)));
}

const hc_impl hc_secret_store_impls[] = {
    {"fastly_secret_store", "open", store_open},
    {"fastly_secret_store", "get", store_get},
    {"fastly_secret_store", "plaintext", plaintext},
    {"fastly_secret_store", "from_bytes", from_bytes},
    {NULL, NULL, NULL},
};
