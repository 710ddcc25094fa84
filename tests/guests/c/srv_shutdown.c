/* srv_shutdown.c: test guest for the graceful shutdown (tests/unit/server/test_shutdown.c).
 * /spin prints "spinning" and loops forever before any response; /sleep?ms=N prints "sleeping",
 * waits N ms (blocked, not computing) and answers "slept"; anything else answers "ok". The lines
 * go to stderr, which the server logs at once, so a test knows when the guest runs. */
#include "fastly_hostcalls.h"
#include "guest_util.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

static char url[4096];

int main(void)
{
    fastly_request_handle req;
    fastly_body_handle req_body;
    fastly_http_req_body_downstream_get(&req, &req_body);
    gu_url(req, url, sizeof url);
    if (gu_path_is(url, "/spin")) {
        fprintf(stderr, "spinning\n");
        volatile unsigned long i = 0;
        for (;;)
            i++;
    }
    if (gu_path_is(url, "/sleep")) {
        fprintf(stderr, "sleeping\n");
        usleep((useconds_t)gu_query_num(url, "ms", 0) * 1000);
        gu_respond(200, "slept");
        return 0;
    }
    gu_respond(200, "ok");
    return 0;
}
