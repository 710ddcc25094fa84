/* prof_app.c: test guest for the profiler tests (tests/unit/profiler/), routed by URL path:
 *   /calls   three header inserts on a fresh response, then the answer: a known hostcall sequence
 *   /backend sends a request to backend "origin" at /slow?first=MS (MS from ?ms=, default 150),
 *            reads the 10-byte body, then answers with the origin's status
 *   /grow    allocates 1 MiB, then 2 MiB (memory.grow twice, no hostcall between), answers
 *   /stores  opens dictionary "dict" twice and config store "conf" once (statuses ignored)
 *   /print   writes a line with the secret given in ?s= to stdout (the profiler must scrub it)
 *   /busy    burns CPU for ?ms= milliseconds (default 300) in prof_busy_outer -> prof_busy_inner,
 *            named functions kept out of line, so native samples name them */
#include "fastly_hostcalls.h"
#include "guest_util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static char url[4096];

static void answer(fastly_response_handle r, uint16_t status, const char *text)
{
    fastly_body_handle b;
    if (r == FASTLY_INVALID_HANDLE)
        fastly_http_resp_new(&r);
    fastly_http_resp_status_set(r, status);
    fastly_http_body_new(&b);
    gu_write_all(b, text, strlen(text));
    fastly_http_resp_send_downstream(r, b, 0);
}

static volatile uint64_t sink;

__attribute__((noinline)) static uint64_t prof_busy_inner(uint64_t x)
{
    for (int i = 0; i < 100000; i++)
        x = x * 6364136223846793005ull + 1442695040888963407ull;
    return x;
}

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

__attribute__((noinline)) static void prof_busy_outer(long ms)
{
    double end = now_ms() + (double)ms;
    uint64_t x = 1;
    while (now_ms() < end)
        x = prof_busy_inner(x);
    sink = x;
}

int main(void)
{
    fastly_request_handle req;
    fastly_body_handle body;
    size_t n = 0;
    if (fastly_http_req_body_downstream_get(&req, &body) != 0 ||
        fastly_http_req_uri_get(req, url, sizeof url - 1, &n) != 0)
        return 1;
    url[n] = '\0';
    if (gu_path_is(url, "/calls")) {
        fastly_response_handle r;
        fastly_http_resp_new(&r);
        for (int i = 0; i < 3; i++)
            fastly_http_resp_header_insert(r, (const uint8_t *)"x-a", 3, (const uint8_t *)"1", 1);
        answer(r, 200, "calls\n");
    } else if (gu_path_is(url, "/backend")) {
        char path[128];
        snprintf(path, sizeof path, "http://127.0.0.1/slow?first=%lld&n=10&chunk=10%s",
                 gu_query_num(url, "ms", 150),
                 gu_query_num(url, "cache", 0) ? "&cache=1" : ""); /* cacheable at the origin */
        fastly_request_handle breq;
        fastly_body_handle bbody;
        fastly_http_req_new(&breq);
        fastly_http_req_uri_set(breq, path, strlen(path));
        fastly_http_body_new(&bbody);
        fastly_response_handle resp;
        fastly_body_handle rbody;
        if (fastly_http_req_send(breq, bbody, "origin", 6, &resp, &rbody) != 0) {
            answer(FASTLY_INVALID_HANDLE, 502, "send failed\n");
            return 0;
        }
        uint16_t st = 0;
        fastly_http_resp_status_get(resp, &st);
        uint8_t chunk[256]; /* read the whole body, so the transfer completes */
        size_t got = 0;
        while (fastly_http_body_read(rbody, chunk, sizeof chunk, &got) == 0 && got > 0) {
        }
        char text[32];
        snprintf(text, sizeof text, "origin %u\n", st);
        answer(FASTLY_INVALID_HANDLE, 200, text);
    } else if (gu_path_is(url, "/grow")) {
        /* two memory.grow calls with no hostcall between them */
        volatile char *a = malloc(1 << 20), *b = malloc(2 << 20);
        a[0] = 1;
        b[0] = 2;
        answer(FASTLY_INVALID_HANDLE, 200, "grown\n");
    } else if (gu_path_is(url, "/stores")) {
        fastly_dictionary_handle d;
        fastly_config_store_handle c;
        fastly_dictionary_open("dict", 4, &d);
        fastly_dictionary_open("dict", 4, &d);
        fastly_config_store_open("conf", 4, &c);
        answer(FASTLY_INVALID_HANDLE, 200, "stores\n");
    } else if (gu_path_is(url, "/print")) {
        const char *q = strstr(url, "s=");
        printf("the secret is %s, do not show it\n", q ? q + 2 : "");
        fflush(stdout);
        answer(FASTLY_INVALID_HANDLE, 200, "printed\n");
    } else if (gu_path_is(url, "/busy")) {
        prof_busy_outer((long)gu_query_num(url, "ms", 300));
        answer(FASTLY_INVALID_HANDLE, 200, "busy\n");
    } else {
        answer(FASTLY_INVALID_HANDLE, 404, "unknown\n");
    }
    return 0;
}
