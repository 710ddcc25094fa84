/* srv_front.c: test guest for the front-end features (tests/unit/server/test_front.c), routed by
 * URL path:
 *   /hints     103 Early Hints with two Link fields through send_informational_response, then
 *              reads the whole request body (the client sends its end only after it saw the 103),
 *              then a second 103 the JS SDK's way (send_downstream of a 103 response), then 200
 *              "got N bytes" with the statuses of the two calls in x-info-st / x-sd103-st
 *   /hints-go  the Go SDK's way: one response and body handle sent as a 103 with a Link field,
 *              then (Link removed, status 200, "go final" written) sent again as the response
 *   /trailers  a streaming 200 "part1part2" with trailer fields x-checksum and server-timing
 *              appended to the streaming body between and after the writes, announced by the
 *              guest's own `trailer: x-checksum` field
 *   /trailers-buffered  the same trailers on a buffered body (send_downstream non-streaming)
 *   /head      200 declaring content-length: 1234 with an empty body (the answer to a HEAD)
 *   /head-unknown       200 with no length of its own and an empty body
 *   /late-hint a 200, then send_informational_response (x-late-st in the log: must be error 1)
 *   /shield    shield_info("pdx-or-us"): on the shield (running_on) answers 200 "from the shield";
 *              else backend_for_shield(the unencrypted URL), forwards the request there and passes
 *              the answer on with x-edge: 1 and x-shield-backend: the backend's name
 *   /shield-unknown  shield_info("nowhere-xx") status in the body */
#include "fastly_hostcalls.h"
#include "guest_util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char url[4096];
static uint8_t buf[65536];

static void set(fastly_response_handle r, const char *name, const char *value)
{
    fastly_http_resp_header_append(r, (const uint8_t *)name, strlen(name), (const uint8_t *)value,
                                   strlen(value));
}

static void set_num(fastly_response_handle r, const char *name, long v)
{
    char text[32];
    snprintf(text, sizeof text, "%ld", v);
    set(r, name, text);
}

static void respond(uint16_t status, const char *text, fastly_response_handle r)
{
    fastly_body_handle b;
    fastly_http_body_new(&b);
    fastly_http_resp_status_set(r, status);
    gu_write_all(b, text, strlen(text));
    fastly_http_resp_send_downstream(r, b, 0);
}

static fastly_response_handle resp(void)
{
    fastly_response_handle r;
    fastly_http_resp_new(&r);
    return r;
}

static void hints(fastly_body_handle req_body)
{
    fastly_response_handle h = resp();
    set(h, "link", "</style.css>; rel=preload; as=style");
    set(h, "link", "</app.js>; rel=preload; as=script");
    int info_st = fastly_http_resp_send_informational_response(h, 103);
    fastly_http_resp_close(h);
    unsigned long total = 0;
    for (;;) {
        size_t got = 0;
        if (fastly_http_body_read(req_body, buf, sizeof buf, &got) != 0 || got == 0)
            break;
        total += got;
    }
    fastly_response_handle h2 = resp();
    fastly_http_resp_status_set(h2, 103);
    set(h2, "link", "</late.css>; rel=preload");
    fastly_body_handle hb;
    fastly_http_body_new(&hb);
    int sd_st = fastly_http_resp_send_downstream(h2, hb, 0);
    fastly_response_handle r = resp();
    set_num(r, "x-info-st", info_st);
    set_num(r, "x-sd103-st", sd_st);
    char text[64];
    snprintf(text, sizeof text, "got %lu bytes", total);
    respond(200, text, r);
}

static void trailers(int streaming)
{
    fastly_response_handle r = resp();
    fastly_body_handle b;
    fastly_http_body_new(&b);
    if (streaming)
        set(r, "trailer", "x-checksum"); /* its own announcement, kept as it is */
    if (streaming)
        fastly_http_resp_send_downstream(r, b, 1);
    gu_write_all(b, "part1", 5);
    fastly_http_body_trailer_append(b, (const uint8_t *)"x-checksum", 10, (const uint8_t *)"abc",
                                    3);
    gu_write_all(b, "part2", 5);
    fastly_http_body_trailer_append(b, (const uint8_t *)"server-timing", 13,
                                    (const uint8_t *)"total;dur=1", 11);
    if (streaming)
        fastly_http_body_close(b);
    else
        fastly_http_resp_send_downstream(r, b, 0);
}

static void shield(fastly_request_handle req, fastly_body_handle req_body)
{
    char info[1024];
    size_t n = 0;
    int st = fastly_shielding_shield_info("pdx-or-us", 9, info, sizeof info, &n);
    if (st != 0 || n < 3) {
        char text[64];
        snprintf(text, sizeof text, "shield_info: %d", st);
        respond(500, text, resp());
        return;
    }
    if (info[0]) {
        fastly_response_handle r = resp();
        set(r, "x-served-by", "shield");
        respond(200, "from the shield", r);
        return;
    }
    const char *plain = info + 1;
    fastly_shield_backend_config cfg = {0};
    cfg.first_byte_timeout_ms = 20000;
    char name[512];
    size_t nl = 0;
    st = fastly_shielding_backend_for_shield(plain, strlen(plain), 4 /* first_byte_timeout */, &cfg,
                                             name, sizeof name - 1, &nl);
    if (st != 0) {
        char text[64];
        snprintf(text, sizeof text, "backend_for_shield: %d", st);
        respond(500, text, resp());
        return;
    }
    name[nl] = '\0';
    fastly_response_handle br;
    fastly_body_handle bb;
    st = fastly_http_req_send(req, req_body, name, nl, &br, &bb);
    if (st != 0) {
        char text[64];
        snprintf(text, sizeof text, "send: %d", st);
        respond(502, text, resp());
        return;
    }
    set(br, "x-edge", "1");
    set(br, "x-shield-backend", name);
    set(br, "x-shield-url", plain);
    fastly_http_resp_send_downstream(br, bb, 0);
}

int main(void)
{
    fastly_request_handle req;
    fastly_body_handle req_body;
    fastly_http_req_body_downstream_get(&req, &req_body);
    size_t n = 0;
    fastly_http_req_uri_get(req, url, sizeof url - 1, &n);
    url[n] = '\0';

    if (gu_path_is(url, "/hints")) {
        hints(req_body);
    } else if (gu_path_is(url, "/hints-go")) {
        fastly_response_handle r = resp();
        fastly_body_handle b;
        fastly_http_body_new(&b);
        fastly_http_resp_status_set(r, 103);
        set(r, "link", "</go.css>; rel=preload");
        int st = fastly_http_resp_send_downstream(r, b, 0);
        fastly_http_resp_header_remove(r, (const uint8_t *)"link", 4);
        fastly_http_resp_status_set(r, 200);
        set_num(r, "x-hint-st", st);
        gu_write_all(b, "go final", 8);
        fastly_http_resp_send_downstream(r, b, 0);
    } else if (gu_path_is(url, "/trailers")) {
        trailers(1);
    } else if (gu_path_is(url, "/trailers-buffered")) {
        trailers(0);
    } else if (gu_path_is(url, "/head")) {
        fastly_response_handle r = resp();
        set(r, "content-length", "1234");
        set(r, "x-kind", "declared");
        respond(200, "", r);
    } else if (gu_path_is(url, "/head-unknown")) {
        fastly_response_handle r = resp();
        set(r, "x-kind", "unknown");
        respond(200, "", r);
    } else if (gu_path_is(url, "/late-hint")) {
        respond(200, "final", resp());
        fastly_response_handle h = resp();
        fprintf(stderr, "x-late-st=%d\n", fastly_http_resp_send_informational_response(h, 103));
    } else if (gu_path_is(url, "/shield")) {
        shield(req, req_body);
    } else if (gu_path_is(url, "/shield-unknown")) {
        char info[64];
        size_t k = 0;
        char text[64];
        snprintf(text, sizeof text, "st=%d",
                 fastly_shielding_shield_info("nowhere-xx", 10, info, sizeof info, &k));
        respond(200, text, resp());
    } else {
        respond(404, "no such path", resp());
    }
    return 0;
}
