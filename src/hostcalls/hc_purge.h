/* hc_purge.h: the fastly_purge hostcall module (purging the shared cache by surrogate key). */
#ifndef HC_PURGE_H
#define HC_PURGE_H

#include "hostcalls/hc_registry.h"

extern const hc_impl hc_purge_impls[];

#endif
