/* hc_image_optimizer.h: the fastly_image_optimizer hostcall module
 * (transform_image_optimizer_request): the origin image is fetched through the named backend and
 * transformed locally with libvips (hc_imgopt_vips.h) by the SDK's Image Optimizer parameters. */
#ifndef HC_IMAGE_OPTIMIZER_H
#define HC_IMAGE_OPTIMIZER_H

#include "hostcalls/hc_registry.h"

extern const hc_impl hc_image_optimizer_impls[];

#endif
