/* be_cache.c: C test guest for the readthrough cache (tests/unit/backend/test_cache_readthrough.c).
 * Sends the downstream request to backend "origin" and passes the answer through; headers choose:
 *   x-async: 1        send_async + pending_req_wait instead of send
 *   x-pass: 1, x-ttl: N, x-swr: N, x-pci: 1, x-sk: KEY
 *                     a cache override (cache_override_v2_set) on the request
 *   x-purge: KEY      no send: purge_surrogate_key(KEY) (soft with x-soft: 1), answer 200 "purged"
 */
#include "fastly_hostcalls.h"
#include "guest_util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static fastly_request_handle req;

static size_t hdr(const char *name, char *out, size_t max)
{
    size_t n = 0;
    if (fastly_http_req_header_value_get(req, (const uint8_t *)name, strlen(name), out, max - 1,
                                         &n) != 0)
        n = 0;
    out[n] = '\0';
    return n;
}

int main(void)
{
    fastly_body_handle body;
    char v[256];
    fastly_http_req_body_downstream_get(&req, &body);
    if (hdr("x-purge", v, sizeof v)) {
        char soft[8];
        fastly_purge_options po;
        memset(&po, 0, sizeof po);
        int st = fastly_purge_purge_surrogate_key(
            v, strlen(v),
            hdr("x-soft", soft, sizeof soft) ? FASTLY_PURGE_OPTIONS_MASK_SOFT_PURGE : 0, &po);
        gu_respond(st == 0 ? 200 : 500, "purged");
        return 0;
    }
    uint32_t tag = 0, ttl = 0, swr = 0;
    char sk[256] = "";
    size_t skl = hdr("x-sk", sk, sizeof sk);
    if (hdr("x-pass", v, sizeof v))
        tag |= FASTLY_CACHE_OVERRIDE_TAG_PASS;
    if (hdr("x-ttl", v, sizeof v)) {
        tag |= FASTLY_CACHE_OVERRIDE_TAG_TTL;
        ttl = (uint32_t)strtoul(v, NULL, 10);
    }
    if (hdr("x-swr", v, sizeof v)) {
        tag |= FASTLY_CACHE_OVERRIDE_TAG_STALE_WHILE_REVALIDATE;
        swr = (uint32_t)strtoul(v, NULL, 10);
    }
    if (hdr("x-pci", v, sizeof v))
        tag |= FASTLY_CACHE_OVERRIDE_TAG_PCI;
    if (tag || skl)
        fastly_http_req_cache_override_v2_set(req, tag, ttl, swr, (const uint8_t *)sk, skl);
    fastly_response_handle resp;
    fastly_body_handle rbody;
    int st;
    if (hdr("x-async", v, sizeof v)) {
        fastly_pending_request_handle p;
        st = fastly_http_req_send_async(req, body, "origin", 6, &p);
        if (st == 0)
            st = fastly_http_req_pending_req_wait(p, &resp, &rbody);
    } else {
        st = fastly_http_req_send(req, body, "origin", 6, &resp, &rbody);
    }
    if (st != 0) {
        snprintf(v, sizeof v, "send failed: %d", st);
        gu_respond(503, v);
        return 0;
    }
    fastly_http_resp_send_downstream(resp, rbody, 0);
    return 0;
}
