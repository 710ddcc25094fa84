/* hc_object_store.h: the legacy fastly_object_store hostcall module that older guests import
 * (open, lookup, insert, delete and their async forms), over the same stores as fastly_kv_store. */
#ifndef HC_OBJECT_STORE_H
#define HC_OBJECT_STORE_H

#include "hostcalls/hc_registry.h"

extern const hc_impl hc_object_store_impls[];

#endif
