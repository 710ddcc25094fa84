/* hc_config_store.c: fastly_config_store.open/get, served by the dictionary code (config stores
 * are looked up first, then dictionaries of the same name). */
#include "hc_config_store.h"

#include "hc_dictionary.h"
#include "hc_hostcall.h"

static fwe_trap_kind store_open(fwe_caller *caller, uint64_t *slots, void *data)
{
    HC_CTX(ctx);
    HC_RETURN(hc_dictionary_open(caller, ctx, HC_ARG(0), HC_ARG(1), HC_ARG(2), true));
}

static fwe_trap_kind store_get(fwe_caller *caller, uint64_t *slots, void *data)
{
    HC_CTX(ctx);
    HC_RETURN(hc_dictionary_get(caller, ctx, HC_ARG(0), HC_ARG(1), HC_ARG(2), HC_ARG(3), HC_ARG(4),
                                HC_ARG(5)));
}

const hc_impl hc_config_store_impls[] = {
    {"fastly_config_store", "open", store_open},
    {"fastly_config_store", "get", store_get},
    {NULL, NULL, NULL},
};
