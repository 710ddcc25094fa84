/* hc_config_store.h: the fastly_config_store module: dictionaries under their newer name (the
 * handles are interchangeable with fastly_dictionary's, as in Viceroy). */
#ifndef HC_CONFIG_STORE_H
#define HC_CONFIG_STORE_H

#include "hostcalls/hc_registry.h"

extern const hc_impl hc_config_store_impls[];

#endif
