/* hc_http_req.h: the fastly_http_req hostcall module (request handles, the downstream request,
 * per-request settings). Sending requests to backends lives with the backends. */
#ifndef HC_HTTP_REQ_H
#define HC_HTTP_REQ_H

#include "hostcalls/hc_registry.h"

extern const hc_impl hc_http_req_impls[];

#endif
