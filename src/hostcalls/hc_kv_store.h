/* hc_kv_store.h: the fastly_kv_store hostcall module (open, lookup, insert, delete, list and their
 * _wait calls, plus the newer SDKs' open_v2 and lookup_v2) over the server's hc_kv_stores. */
#ifndef HC_KV_STORE_H
#define HC_KV_STORE_H

#include "hostcalls/hc_registry.h"

extern const hc_impl hc_kv_store_impls[];

#endif
