/* hc_shielding.h: the fastly_shielding hostcall module (shield_info, backend_for_shield), answered
 * from the shield POPs the server is configured with (config/cfg_shield.h). */
#ifndef HC_SHIELDING_H
#define HC_SHIELDING_H

#include "hostcalls/hc_registry.h"

extern const hc_impl hc_shielding_impls[];

#endif
