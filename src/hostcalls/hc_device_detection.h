/* hc_device_detection.h: the fastly_device_detection hostcall module (device data by user agent).
 */
#ifndef HC_DEVICE_DETECTION_H
#define HC_DEVICE_DETECTION_H

#include "hostcalls/hc_registry.h"

extern const hc_impl hc_device_detection_impls[];

#endif
