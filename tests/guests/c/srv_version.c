/* srv_version.c: test guest for hot reload: answers "version=V" (V is the GUEST_VERSION macro,
 * "a" by default; the Makefile builds srv_version_b.wasm with "b") with header x-version: V.
 * /sleep?ms=N prints "sleeping in version V" and waits N ms (blocked, not computing) before
 * answering, so a request can still be running on the old module while a reload swaps in the new
 * one. */
#include "fastly_hostcalls.h"
#include "guest_util.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#ifndef GUEST_VERSION
#define GUEST_VERSION "a"
#endif

static char url[4096];

int main(void)
{
    fastly_request_handle req;
    fastly_body_handle req_body;
    fastly_http_req_body_downstream_get(&req, &req_body);
    gu_url(req, url, sizeof url);
    if (gu_path_is(url, "/sleep")) {
        printf("sleeping in version " GUEST_VERSION "\n"); /* tests wait for this log line */
        fflush(stdout);
        usleep((useconds_t)gu_query_num(url, "ms", 0) * 1000);
    }
    fastly_response_handle r;
    fastly_body_handle b;
    fastly_http_resp_new(&r);
    fastly_http_body_new(&b);
    static const char name[] = "x-version", value[] = GUEST_VERSION;
    fastly_http_resp_header_insert(r, (const uint8_t *)name, sizeof name - 1,
                                   (const uint8_t *)value, sizeof value - 1);
    gu_write_all(b, "version=" GUEST_VERSION, strlen("version=" GUEST_VERSION));
    fastly_http_resp_send_downstream(r, b, 0);
    return 0;
}
