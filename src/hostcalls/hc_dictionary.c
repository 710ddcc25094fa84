/* hc_dictionary.c: fastly_dictionary.open/get over the server's dictionaries and config stores
 * (hc_settings.edge, read-only and shared): a handle names one loaded string map for the rest of
 * the request. */
#include "hc_dictionary.h"

#include "config/cfg_edge.h"
#include "hc_edge_handles.h"
#include "hc_hostcall.h"

hc_status hc_dictionary_open(fwe_caller *caller, hc_ctx *ctx, uint32_t name, uint32_t name_len,
                             uint32_t handle_out, bool prefer_config_store)
{
    const char *n;
    hc_status st = hc_edge_guest_str(caller, name, name_len, &n);
    if (st != HC_OK)
        return st;
    const cfg_edge *e = hc_ctx_settings(ctx)->edge;
    const cfg_dictionary *d = NULL;
    if (e) {
        const cfg_dictionary *dict = cfg_edge_dictionary(e, n, name_len);
        const cfg_dictionary *store = cfg_edge_config_store(e, n, name_len);
        d = prefer_config_store ? (store ? store : dict) : (dict ? dict : store);
    }
    if (!d) {
        char shown[72];
        hc_log(ctx, 2, "%s.open: no %s named '%s'",
               prefer_config_store ? "fastly_config_store" : "fastly_dictionary",
               prefer_config_store ? "config store" : "dictionary",
               hc_edge_log_name(n, name_len, shown));
        return HC_BADF; /* Viceroy's UnknownDictionary */
    }
    uint32_t h;
    st = hc_edge_add(ctx, HC_EDGE_DICT, (void *)d, &h);
    if (st != HC_OK)
        return st;
    return hc_mem_write_u32(caller, handle_out, h);
}

hc_status hc_dictionary_get(fwe_caller *caller, hc_ctx *ctx, uint32_t handle, uint32_t key,
                            uint32_t key_len, uint32_t buf, uint32_t buf_len, uint32_t nwritten_out)
{
    const cfg_dictionary *d = hc_edge_get(ctx, handle, HC_EDGE_DICT);
    if (!d)
        return HC_BADF;
    const char *k;
    hc_status st = hc_edge_guest_str(caller, key, key_len, &k);
    if (st != HC_OK)
        return st;
    const cfg_string_entry *item = cfg_string_map_get(&d->items, k, key_len);
    if (!item)
        return HC_NONE;
    return hc_mem_copy_out(caller, buf, buf_len, nwritten_out, item->value, item->value_len);
}

static fwe_trap_kind dict_open(fwe_caller *caller, uint64_t *slots, void *data)
{
    HC_CTX(ctx);
    HC_RETURN(hc_dictionary_open(caller, ctx, HC_ARG(0), HC_ARG(1), HC_ARG(2), false));
}

static fwe_trap_kind dict_get(fwe_caller *caller, uint64_t *slots, void *data)
{
    HC_CTX(ctx);
    HC_RETURN(hc_dictionary_get(caller, ctx, HC_ARG(0), HC_ARG(1), HC_ARG(2), HC_ARG(3), HC_ARG(4),
                                HC_ARG(5)));
}

const hc_impl hc_dictionary_impls[] = {
    {"fastly_dictionary", "open", dict_open},
    {"fastly_dictionary", "get", dict_get},
    {NULL, NULL, NULL},
};
