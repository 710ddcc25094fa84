/* hc_abi_init.h: the fastly_abi hostcall module (ABI version handshake). */
#ifndef HC_ABI_INIT_H
#define HC_ABI_INIT_H

#include "hostcalls/hc_registry.h"

/* The only ABI version there is (Viceroy's ABI_VERSION). */
#define HC_ABI_VERSION 1

extern const hc_impl hc_abi_init_impls[];

#endif
