/* hc_http_resp.h: the fastly_http_resp hostcall module (response handles and sending the
 * downstream response). */
#ifndef HC_HTTP_RESP_H
#define HC_HTTP_RESP_H

#include "hostcalls/hc_registry.h"

extern const hc_impl hc_http_resp_impls[];

#endif
