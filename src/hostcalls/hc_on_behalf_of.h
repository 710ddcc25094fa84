/* hc_on_behalf_of.h: fastly_http_req.on_behalf_of, the privileged call that puts a request in
 * another service's cache space. */
#ifndef HC_ON_BEHALF_OF_H
#define HC_ON_BEHALF_OF_H

#include "hostcalls/hc_registry.h"

extern const hc_impl hc_on_behalf_of_impls[];

#endif
