/* hc_abi_init.c: fastly_abi.init: accepts ABI version 1 and answers `error` for any other, as
 * Viceroy. Needs no request context. (The registry aliases the older fastly.init to it.) */
#include "hc_abi_init.h"

#include "hc_hostcall.h"

static fwe_trap_kind abi_init(fwe_caller *caller, uint64_t *slots, void *data)
{
    HC_RETURN(HC_ARG64(0) == HC_ABI_VERSION ? HC_OK : HC_ERROR);
}

const hc_impl hc_abi_init_impls[] = {
    {"fastly_abi", "init", abi_init},
    {NULL, NULL, NULL},
};
