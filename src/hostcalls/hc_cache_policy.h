/* hc_cache_policy.h: whether and for how long a backend response may be cached, as Fastly
 * documents it: Surrogate-Control max-age over Cache-Control s-maxage over max-age over Expires,
 * a default TTL (one hour) for the cacheable statuses (200, 203, 300, 301, 302, 404, 410);
 * Cache-Control private / no-store / no-cache, Set-Cookie and Vary: * make it uncacheable;
 * stale-while-revalidate / stale-if-error directives; Age as the initial age; Vary and
 * Surrogate-Key; and the guest's cache override (pass, TTL, SWR, PCI, surrogate key). */
#ifndef HC_CACHE_POLICY_H
#define HC_CACHE_POLICY_H

#include "hc_ctx_internal.h"

#include <stdbool.h>
#include <stdint.h>

#define HC_CACHE_DEFAULT_TTL_S 3600u
#define HC_CACHE_HIT_FOR_PASS_S 120u /* how long an uncacheable answer disables collapsing */

typedef struct hc_cache_policy {
    bool cacheable;     /* store it */
    bool hit_for_pass;  /* uncacheable by its headers: remember that, so requests do not queue */
    const char *reason; /* why not cacheable (for logs) */
    uint64_t ttl_ns, swr_ns, sie_ns, initial_age_ns;
    char vary[512]; /* header names separated by spaces */
    size_t vary_len;
    char *surrogate_keys; /* owned (free with hc_cache_policy_deinit); spaces between keys */
    size_t surrogate_keys_len;
    bool sensitive;
} hc_cache_policy;

/* Decides for a response (status, headers) under the request's override (may be NULL or
 * unset). `now_s` is the Unix time for Expires without a Date header. */
void hc_cache_policy_decide(uint16_t status, const hc_headers *resp, const hc_cache_override *ov,
                            int64_t now_s, hc_cache_policy *out);
void hc_cache_policy_deinit(hc_cache_policy *p);

#endif
