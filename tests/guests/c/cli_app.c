/* cli_app.c: test guest for the command-line tests (tests/unit/cli/test_cli.c and the Fastly
 * CLI test tests/cli/fastly_cli.sh): "/" answers "cli_app VERSION" (VERSION set at build time, so
 * a rebuilt guest is told apart), "/status?code=N" answers N, "/slow" writes "slow request
 * started" to stderr (which the server logs at once) and answers after 1.5 s without using CPU. */
#include "fastly_hostcalls.h"
#include "guest_util.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#ifndef CLI_APP_VERSION
#define CLI_APP_VERSION "1"
#endif

static char url[4096];

static void respond(uint16_t status, const char *text)
{
    fastly_response_handle r;
    fastly_body_handle b;
    fastly_http_resp_new(&r);
    fastly_http_resp_status_set(r, status);
    fastly_http_body_new(&b);
    gu_write_all(b, text, strlen(text));
    fastly_http_resp_send_downstream(r, b, 0);
}

int main(void)
{
    fastly_request_handle req;
    fastly_body_handle req_body;
    fastly_http_req_body_downstream_get(&req, &req_body);
    size_t n = 0;
    fastly_http_req_uri_get(req, url, sizeof url - 1, &n);
    url[n] = '\0';
    if (gu_path_is(url, "/status")) {
        respond((uint16_t)gu_query_num(url, "code", 200), "status\n");
    } else if (gu_path_is(url, "/slow")) {
        fprintf(stderr, "slow request started\n");
        usleep(1500 * 1000);
        respond(200, "slow done\n");
    } else {
        respond(200, "cli_app " CLI_APP_VERSION "\n");
    }
    return 0;
}
