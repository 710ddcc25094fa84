/* hc_dictionary.c: fastly_dictionary.open/get over the server's dictionaries and config stores
 * (hc_settings.edge, read-only and shared): a handle names one loaded string map for the rest of
 * the request. */
#include "hc_dictionary.h"

#include "config/cfg_edge.h"
#include "hc_edge_handles.h"
#include "hc_hostcall.h"

/* Dictionaries and config stores are the same thing to Viceroy: each module also finds the other
 * kind's data when none of its own kind has the name. */
static const void *find_dictionary(const cfg_edge *e, const char *name, size_t len)
{
    const cfg_dictionary *d = cfg_edge_dictionary(e, name, len);
    return d ? d : cfg_edge_config_store(e, name, len);
}

static const void *find_config_store(const cfg_edge *e, const char *name, size_t len)
{
    const cfg_dictionary *d = cfg_edge_config_store(e, name, len);
    return d ? d : cfg_edge_dictionary(e, name, len);
}

hc_status hc_dictionary_open(fwe_caller *caller, hc_ctx *ctx, uint32_t name, uint32_t name_len,
                             uint32_t handle_out, bool prefer_config_store)
{
    /* badf: Viceroy's UnknownDictionary */
    if (prefer_config_store)
        return hc_edge_open(caller, ctx, name, name_len, handle_out, HC_EDGE_DICT,
                            find_config_store, "fastly_config_store.open", "config store", HC_BADF);
    return hc_edge_open(caller, ctx, name, name_len, handle_out, HC_EDGE_DICT, find_dictionary,
                        "fastly_dictionary.open", "dictionary", HC_BADF);
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
