/* hc_readthrough.h: the readthrough cache in front of backend sends (send, send_async*): GET
 * requests are looked up in the shared cache (keyed by URL as the HTTP cache API suggests,
 * varied by the stored response's Vary) with request collapsing across requests; a hit answers
 * without the origin; a miss goes to the origin and the response is stored when hc_cache_policy
 * says it may be. */
#ifndef HC_READTHROUGH_H
#define HC_READTHROUGH_H

#include "hc_pending.h"

typedef struct hc_rt hc_rt;

/* In place of hc_send_start (same arguments, results and handle consumption); with `cached`
 * false (send_v3, send_async_v2) exactly hc_send_start. A cache hit
 * returns a pending request that resolves to the cached response without contacting the origin;
 * otherwise the request starts as with hc_send_start, carrying the cache's obligation to store its
 * response (p->rt). */
hc_status hc_readthrough_send_start(hc_ctx *ctx, uint32_t req_h, uint32_t body_h, const char *name,
                                    size_t name_len, bool streaming, bool cached, hc_pending **out,
                                    be_error *detail);

/* Called by hc_pending_finish for a pending request with p->rt set (consumes p as it does). */
hc_status hc_readthrough_finish(hc_ctx *ctx, hc_pending *p, uint32_t *resp, uint32_t *body,
                                be_error *detail);

/* Releases the state (an unfulfilled obligation goes to the next waiter); accepts NULL. */
void hc_readthrough_free(hc_rt *rt);

#endif
