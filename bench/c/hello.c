/* hello.c: the C guest of `make bench-http`: answers with its request's method and body size,
 * about the least a Compute program can do, so the benchmark measures the server's per-request
 * cost (front end, instance, hostcalls) rather than guest code. */
#include "fastly_hostcalls.h"

#include <stdio.h>

int main(void)
{
    fastly_request_handle req;
    fastly_body_handle body;
    fastly_http_req_body_downstream_get(&req, &body);
    char method[32];
    size_t n = 0;
    if (fastly_http_req_method_get(req, method, sizeof method - 1, &n) != 0)
        n = 0;
    method[n] = '\0';
    size_t total = 0;
    uint8_t buf[4096];
    for (;;) {
        size_t got = 0;
        if (fastly_http_body_read(body, buf, sizeof buf, &got) != 0 || got == 0)
            break;
        total += got;
    }
    char text[96];
    int len = snprintf(text, sizeof text, "%s %zu\n", method, total);
    fastly_response_handle resp;
    fastly_body_handle out;
    fastly_http_resp_new(&resp);
    fastly_http_resp_status_set(resp, 200);
    fastly_http_body_new(&out);
    size_t written = 0;
    fastly_http_body_write(out, (const uint8_t *)text, (size_t)len, FASTLY_BODY_WRITE_END_BACK,
                           &written);
    fastly_http_resp_send_downstream(resp, out, 0);
    return 0;
}
