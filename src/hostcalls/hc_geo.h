/* hc_geo.h: the fastly_geo hostcall module (geolocation of an IP address). */
#ifndef HC_GEO_H
#define HC_GEO_H

#include "hostcalls/hc_registry.h"

extern const hc_impl hc_geo_impls[];

#endif
