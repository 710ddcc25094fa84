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

static void answer(const char *text)
{
    fastly_response_handle r;
    fastly_body_handle b;
    fastly_http_resp_new(&r);
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
    if (gu_path_is(url, "/spin")) {
        fprintf(stderr, "spinning\n");
        volatile unsigned long i = 0;
        for (;;)
            i++;
    }
    if (gu_path_is(url, "/sleep")) {
        fprintf(stderr, "sleeping\n");
        usleep((useconds_t)gu_query_num(url, "ms", 0) * 1000);
        answer("slept");
        return 0;
    }
    answer("ok");
    return 0;
}
