/* hc_http_req_send.h: the send / pending-request / dynamic-backend part of fastly_http_req. */
#ifndef HC_HTTP_REQ_SEND_H
#define HC_HTTP_REQ_SEND_H

#include "hostcalls/hc_registry.h"

extern const hc_impl hc_http_req_send_impls[];

#endif
