/* hc_http_downstream.h: the fastly_http_downstream module (downstream request metadata by
 * request handle, next_request for instances that serve several requests). The getters are shared
 * with the handle-less fastly_http_req.downstream_* functions, which pass the downstream request.
 */
#ifndef HC_HTTP_DOWNSTREAM_H
#define HC_HTTP_DOWNSTREAM_H

#include "hc_ctx_internal.h"
#include "hostcalls/hc_registry.h"

extern const hc_impl hc_http_downstream_impls[];

/* A next_request promise (the object of an HC_ITEM_REQUEST_PROMISE item). */
typedef struct hc_promise hc_promise;
/* Ready once a request was handed over, none can come, or its deadline passed. */
bool hc_promise_ready(hc_ctx *ctx, hc_promise *p);
/* Its deadline (CLOCK_MONOTONIC ns), for select to wake up by. */
uint64_t hc_promise_deadline(const hc_promise *p);
/* Ends the wait (a request handed over meanwhile is given back) and frees the promise. */
void hc_promise_free(hc_ctx *ctx, hc_promise *p);

/* ok when `req` is a downstream request, the current one or one an instance took earlier (its
 * metadata outlives close, as in Viceroy), error when it is another live request (no downstream
 * metadata), badf otherwise. */
hc_status hc_ds_check(hc_ctx *ctx, uint32_t req);

/* Shared getters (argument order as the witx after the request handle). */
hc_status hc_ds_ip_addr(fwe_caller *caller, hc_ctx *ctx, uint32_t req, bool server, uint32_t out,
                        uint32_t nwritten_ptr);
hc_status hc_ds_request_id(fwe_caller *caller, hc_ctx *ctx, uint32_t req, uint32_t buf,
                           uint32_t buf_len, uint32_t nwritten_ptr);
hc_status hc_ds_compliance_region(fwe_caller *caller, hc_ctx *ctx, uint32_t req, uint32_t buf,
                                  uint32_t buf_len, uint32_t nwritten_ptr);
hc_status hc_ds_ddos_detected(fwe_caller *caller, hc_ctx *ctx, uint32_t req, uint32_t out);
hc_status hc_ds_fastly_key_is_valid(fwe_caller *caller, hc_ctx *ctx, uint32_t req, uint32_t out);
hc_status hc_ds_original_header_names(fwe_caller *caller, hc_ctx *ctx, uint32_t req, uint32_t buf,
                                      uint32_t buf_len, uint32_t cursor, uint32_t ending_ptr,
                                      uint32_t nwritten_ptr);
hc_status hc_ds_original_header_count(fwe_caller *caller, hc_ctx *ctx, uint32_t req, uint32_t out);

#endif
