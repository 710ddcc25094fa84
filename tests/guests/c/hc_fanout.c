/* hc_fanout.c: test guest for the handoff hostcalls of fastly_http_req (Fanout, WebSocket), run by
 * tests/unit/hostcalls/test_hc_fanout.c with argv[1] naming the set-up: "off" (no Fanout, no
 * front end able to hand over), "on" (Fanout on port 7999, a front end that records the handoff),
 * "ws" (WebSocket passthrough to backend "echo"), "ws_off" (passthrough disabled),
 * "ws_unknown" (no such backend). */
#include "hc_check.h"

#define SC(lit) (lit), (sizeof(lit) - 1)

static void argument_checks(void)
{
    /* bad handles and pointers come before anything else */
    EXPECT_ST(fastly_http_req_redirect_to_grip_proxy_v2(BAD_HANDLE, SC("be")), ST_BADF);
    EXPECT_ST(fastly_http_req_redirect_to_websocket_proxy_v2(BAD_HANDLE, SC("be")), ST_BADF);
    EXPECT_ST(fastly_http_req_redirect_to_grip_proxy(BAD_PTR, 10), ST_INVAL);
    EXPECT_ST(fastly_http_req_redirect_to_websocket_proxy(BAD_PTR, 10), ST_INVAL);
    EXPECT_ST(fastly_http_req_upgrade_websocket(BAD_PTR, 10), ST_INVAL);
    fastly_request_handle req;
    EXPECT_ST(fastly_http_req_new(&req), ST_OK);
    EXPECT_ST(fastly_http_req_redirect_to_grip_proxy_v2(req, BAD_PTR, 10), ST_INVAL);
}

static void send_something(int want)
{
    fastly_response_handle resp;
    fastly_body_handle body;
    EXPECT_ST(fastly_http_resp_new(&resp), ST_OK);
    EXPECT_ST(fastly_http_body_new(&body), ST_OK);
    EXPECT_ST(fastly_http_resp_send_downstream(resp, body, 0), want);
}

int main(int argc, char **argv)
{
    const char *mode = argc > 1 ? argv[1] : "";
    argument_checks();
    if (strcmp(mode, "off") == 0) {
        /* covers: fastly_http_req.redirect_to_grip_proxy */
        EXPECT_ST(fastly_http_req_redirect_to_grip_proxy(SC("be")), ST_UNSUPPORTED);
        /* WebSocket passthrough is on, but this front end cannot hand a connection over */
        /* covers: fastly_http_req.redirect_to_websocket_proxy */
        EXPECT_ST(fastly_http_req_redirect_to_websocket_proxy(SC("be")), ST_UNSUPPORTED);
        /* covers: fastly_http_req.upgrade_websocket */
        EXPECT_ST(fastly_http_req_upgrade_websocket(SC("be")), ST_UNSUPPORTED);
        send_something(ST_OK); /* nothing was handed over: a response still goes out */
    } else if (strcmp(mode, "on") == 0) {
        fastly_request_handle req;
        EXPECT_ST(fastly_http_req_new(&req), ST_OK);
        EXPECT_ST(fastly_http_req_method_set(req, SC("PUT")), ST_OK);
        EXPECT_ST(fastly_http_req_uri_set(req, SC("http://other.example/new/path?q=1")), ST_OK);
        EXPECT_ST(fastly_http_req_header_insert(req, (const uint8_t *)"x-added", 7,
                                                (const uint8_t *)"yes", 3),
                  ST_OK);
        EXPECT_ST(fastly_http_req_header_insert(req, (const uint8_t *)"host", 4,
                                                (const uint8_t *)"ignored.example", 15),
                  ST_OK);
        /* covers: fastly_http_req.redirect_to_grip_proxy_v2 */
        EXPECT_ST(fastly_http_req_redirect_to_grip_proxy_v2(req, SC("grip-be")), ST_OK);
        /* handed over: no second handoff, no response */
        EXPECT_ST(fastly_http_req_redirect_to_grip_proxy(SC("grip-be")), ST_ERROR);
        EXPECT_ST(fastly_http_req_redirect_to_websocket_proxy(SC("grip-be")), ST_ERROR);
        send_something(ST_ERROR);
    } else if (strcmp(mode, "sent") == 0) {
        send_something(ST_OK);
        /* a response went out already: error, as Viceroy */
        EXPECT_ST(fastly_http_req_redirect_to_grip_proxy(SC("be")), ST_ERROR);
    } else if (strcmp(mode, "ws") == 0) {
        /* covers: fastly_http_req.redirect_to_websocket_proxy_v2 */
        fastly_request_handle req;
        EXPECT_ST(fastly_http_req_new(&req), ST_OK);
        EXPECT_ST(fastly_http_req_uri_set(req, SC("/chat?room=1")), ST_OK);
        EXPECT_ST(fastly_http_req_redirect_to_websocket_proxy_v2(req, SC("echo")), ST_OK);
        send_something(ST_ERROR);
    } else if (strcmp(mode, "ws_v1") == 0) {
        EXPECT_ST(fastly_http_req_upgrade_websocket(SC("echo")), ST_OK);
    } else if (strcmp(mode, "ws_off") == 0) {
        EXPECT_ST(fastly_http_req_redirect_to_websocket_proxy(SC("echo")), ST_UNSUPPORTED);
        EXPECT_ST(fastly_http_req_upgrade_websocket(SC("echo")), ST_UNSUPPORTED);
        EXPECT_ST(fastly_http_req_redirect_to_grip_proxy(SC("grip-be")), ST_OK);
    } else if (strcmp(mode, "ws_unknown") == 0) {
        /* as Viceroy: the call succeeds and the client gets a 500 naming the backend */
        EXPECT_ST(fastly_http_req_redirect_to_websocket_proxy(SC("nosuch")), ST_OK);
        send_something(ST_ERROR);
    } else {
        printf("FAIL unknown mode '%s'\n", mode);
        hc_fails++;
    }
    return hc_done();
}
