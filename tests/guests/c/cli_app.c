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

int main(void)
{
    fastly_request_handle req;
    fastly_body_handle req_body;
    fastly_http_req_body_downstream_get(&req, &req_body);
    gu_url(req, url, sizeof url);
    if (gu_path_is(url, "/status")) {
        gu_respond((uint16_t)gu_query_num(url, "code", 200), "status\n");
    } else if (gu_path_is(url, "/slow")) {
        fprintf(stderr, "slow request started\n");
        usleep(1500 * 1000);
        gu_respond(200, "slow done\n");
    } else {
        gu_respond(200, "cli_app " CLI_APP_VERSION "\n");
    }
    return 0;
}
