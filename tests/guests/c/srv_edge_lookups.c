/* srv_edge_lookups.c: C guest for tests/unit/server/test_edge_lookups.c: /limited?who=N rate-limits
 * with fastly_erl.check_rate (60 per call over a 60 s window, limit 5: blocked from the 6th call,
 * 429), /geo answers the geolocation record of the client's address, /device the device data of
 * the request's User-Agent (404 when there is none). */
#include "fastly_hostcalls.h"
#include "guest_util.h"

#include <stdio.h>
#include <string.h>

static char url[4096];
static char out[4096];

static void respond(uint16_t status, const char *body, size_t len)
{
    fastly_response_handle r;
    fastly_body_handle b;
    fastly_http_resp_new(&r);
    fastly_http_resp_status_set(r, status);
    fastly_http_body_new(&b);
    gu_write_all(b, body, len);
    fastly_http_resp_send_downstream(r, b, 0);
}

int main(void)
{
    fastly_request_handle req;
    fastly_body_handle req_body;
    fastly_http_req_body_downstream_get(&req, &req_body);
    gu_url(req, url, sizeof url);
    if (gu_path_is(url, "/limited")) {
        int len = snprintf(out, sizeof out, "client-%lld", gu_query_num(url, "who", 0));
        uint32_t blocked = 2;
        int st = fastly_erl_check_rate("c-requests", 10, out, (size_t)len, 60, 60, 5, "c-blocked",
                                       9, 60, &blocked);
        if (st != 0) {
            len = snprintf(out, sizeof out, "check_rate: status %d\n", st);
            respond(500, out, (size_t)len);
        } else if (blocked) {
            respond(429, "blocked\n", 8);
        } else {
            respond(200, "ok\n", 3);
        }
        return 0;
    }
    if (gu_path_is(url, "/geo")) {
        char ip[16];
        size_t iplen = 0;
        int st = fastly_http_req_downstream_client_ip_addr(ip, &iplen);
        size_t nw = 0;
        if (st == 0)
            st = fastly_geo_lookup(ip, iplen, out, sizeof out, &nw);
        if (st != 0)
            nw = (size_t)snprintf(out, sizeof out, "geo: status %d\n", st);
        respond(st == 0 ? 200 : 500, out, nw);
        return 0;
    }
    if (gu_path_is(url, "/device")) {
        char ua[1024];
        size_t ualen = 0, nw = 0;
        fastly_http_req_header_value_get(req, (const uint8_t *)"user-agent", 10, ua, sizeof ua,
                                         &ualen);
        int st = fastly_device_detection_lookup(ua, ualen, out, sizeof out, &nw);
        if (st == FASTLY_FASTLY_STATUS_NONE)
            respond(404, "none\n", 5);
        else
            respond(st == 0 ? 200 : 500, out, nw);
        return 0;
    }
    respond(404, "not found\n", 10);
    return 0;
}
