/* hc_compute_runtime.h: the fastly_compute_runtime hostcall module (vCPU time, heap size, and the
 * newer identity getters beyond the witx). */
#ifndef HC_COMPUTE_RUNTIME_H
#define HC_COMPUTE_RUNTIME_H

#include "hostcalls/hc_registry.h"

extern const hc_impl hc_compute_runtime_impls[];

#endif
