/* hc_http_body.h: the fastly_http_body hostcall module (body handles: read, write, append,
 * trailers, known length, close/abandon). */
#ifndef HC_HTTP_BODY_H
#define HC_HTTP_BODY_H

#include "hostcalls/hc_registry.h"

extern const hc_impl hc_http_body_impls[];

#endif
