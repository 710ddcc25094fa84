/* hc_backend.h: the fastly_backend module (backend introspection by name). */
#ifndef HC_BACKEND_H
#define HC_BACKEND_H

#include "hostcalls/hc_registry.h"

extern const hc_impl hc_backend_impls[];

#endif
