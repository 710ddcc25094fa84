/* srv_hostile.c: a hostile guest for the server's robustness tests
 * (tests/unit/server/test_hostile.c), routed by URL path. Each route misbehaves in one way; the
 * server must end that request cleanly and keep serving: /grow?touch=1     grows memory until
 * memory.grow fails, keeps trying, then answers "pages=N" (touch=1 writes every 4 KiB page first,
 * so the memory is really used) /recurse          recurses forever (a wasm call per level)
 * /spin-before      loops forever before sending a response
 * /spin-after       sends a streaming head and some bytes, then loops forever
 * /junk             calls hostcalls and WASI with out-of-range pointers, lengths that run past the
 *                   end of memory or wrap when added to the pointer, and made-up handles; answers
 *                   "as expected N/N" when every call returned an error (or, for a huge length on a
 *                   buffer big enough, wrote only what it reported), else names the ones that did
 * not /handles          creates bodies until the handle table is full, keeps trying, answers
 *                   "bodies=N status=S" (S: the status of the first failure)
 * /flood?mib=N      streams N MiB without reading the request body and ignores write errors
 *                   (N=0: forever)
 * /exit?code=N      proc_exit(N) before any response; /exit-after?code=N after a streamed head
 * /missing          calls an import Fastlike does not define
 * anything else     "ok" */
#include "fastly_hostcalls.h"
#include "guest_util.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wasi/api.h>

__attribute__((import_module("fastly_hostile"), import_name("no_such_hostcall"))) int
no_such_hostcall(int x);

static char url[4096];
static uint8_t buf[65536];

static long long query_num(const char *name, long long dflt)
{
    return gu_query_num(url, name, dflt);
}

static int path_is(const char *want)
{
    return gu_path_is(url, want);
}

static void write_all(fastly_body_handle b, const void *data, size_t len)
{
    gu_write_all(b, data, len);
}

static void respond(const char *text)
{
    fastly_response_handle r;
    fastly_body_handle b;
    fastly_http_resp_new(&r);
    fastly_http_resp_status_set(r, 200);
    fastly_http_body_new(&b);
    write_all(b, text, strlen(text));
    fastly_http_resp_send_downstream(r, b, 0);
}

/* A streaming response whose head is out; returns its body. */
static fastly_body_handle stream_start(void)
{
    fastly_response_handle r;
    fastly_body_handle b;
    fastly_http_resp_new(&r);
    fastly_http_resp_status_set(r, 200);
    fastly_http_body_new(&b);
    fastly_http_resp_send_downstream(r, b, 1);
    return b;
}

static void spin(void)
{
    volatile unsigned long i = 0;
    for (;;)
        i++;
}

/* Called through a volatile pointer so that every level is a real wasm call (no loop, no tail
 * call, and no frame on the C shadow stack). */
static int recurse(int n);
static int (*volatile recurse_ptr)(int) = recurse;
static int recurse(int n)
{
    return recurse_ptr(n + 1) ^ n;
}

static void grow(void)
{
    int touch = (int)query_num("touch", 0);
    /* 1 MiB at a time, then page by page, until memory.grow fails; then keep asking */
    while (__builtin_wasm_memory_grow(0, 16) != (size_t)-1) {
    }
    while (__builtin_wasm_memory_grow(0, 1) != (size_t)-1) {
    }
    unsigned long failures = 0;
    for (int tries = 0; tries < 100; tries++)
        failures += __builtin_wasm_memory_grow(0, 16) == (size_t)-1;
    int one = __builtin_wasm_memory_grow(0, 1) == (size_t)-1;
    /* malloc says no instead of trapping */
    /* (the allocator takes the memory grown above as its heap: use it all up first) */
    void *volatile big = NULL; /* volatile: clang may not elide the allocations */
    for (int i = 0; i < 5000 && (big = malloc(1u << 20)) != NULL; i++) {
    }
    size_t pages = __builtin_wasm_memory_size(0);
    if (touch) {
        for (uint64_t off = 4096; off < (uint64_t)pages * 65536; off += 4096) {
            volatile uint8_t *p = (volatile uint8_t *)(uintptr_t)off;
            *p = *p; /* keeps the data, dirties the page */
        }
    }
    char text[128];
    snprintf(text, sizeof text, "pages=%zu failures=%lu one_fails=%d malloc=%s\n", pages, failures,
             one, big ? "ok" : "null");
    respond(text);
}

#define JUNK_PTR 0xFFFFFFF0u

static int junk_total, junk_rejected; /* calls made, calls that behaved */
static char junk_report[2048];

static void expect_error(const char *what, int status)
{
    junk_total++;
    if (status != 0) {
        junk_rejected++;
        return;
    }
    size_t n = strlen(junk_report);
    snprintf(junk_report + n, sizeof junk_report - n, " %s", what);
}

static void expect_ok(const char *what, int ok)
{
    expect_error(what, ok);
}

static void junk(fastly_request_handle req, fastly_body_handle req_body)
{
    void *jp = (void *)(uintptr_t)JUNK_PTR;
    /* the last 4 bytes of memory */
    void *end = (void *)(uintptr_t)(__builtin_wasm_memory_size(0) * 65536 - 4);
    size_t n = 0;
    /* out-buffers out of range, running past the end, and wrapping around 2^32 */
    expect_error("uri_get ptr", fastly_http_req_uri_get(req, jp, 100, &n));
    /* a huge length on a buffer the URL fits in is fine: only the URL is written */
    n = 0;
    expect_ok("uri_get len",
              fastly_http_req_uri_get(req, (char *)buf, 0xFFFFFFFFu, &n) == 0 && n == strlen(url));
    /* 8 bytes before the end of memory, with a length that wraps past 2^32: too short */
    expect_error("uri_get wrap", fastly_http_req_uri_get(req, (char *)end - 4, 0xFFFFFFF0u, &n));
    expect_error("uri_get nwritten", fastly_http_req_uri_get(req, (char *)buf, sizeof buf, jp));
    expect_error("uri_get nwritten end", fastly_http_req_uri_get(req, (char *)buf, sizeof buf,
                                                                 (size_t *)((char *)end + 2)));
    expect_error("method_get", fastly_http_req_method_get(req, (char *)end + 2, 0x7FFFFFFF, &n));
    expect_error("body_downstream_get", fastly_http_req_body_downstream_get(jp, jp));
    expect_error("header_names_get",
                 fastly_http_req_header_names_get(req, jp, 0x20, 0, (int64_t *)buf, &n));
    expect_error("header_value_get name",
                 fastly_http_req_header_value_get(req, jp, 0x20, (char *)buf, 16, &n));
    /* in-buffers likewise */
    fastly_response_handle r;
    fastly_body_handle b;
    fastly_http_resp_new(&r);
    fastly_http_body_new(&b);
    expect_error("header_insert name", fastly_http_resp_header_insert(r, jp, 0x20, buf, 1));
    expect_error("header_insert value",
                 fastly_http_resp_header_insert(r, (const uint8_t *)"x", 1, buf, 0xFFFFFFF0u));
    expect_error("body_write len", fastly_http_body_write(b, buf, 0xFFFFFFFFu, 0, &n));
    expect_error("body_write wrap",
                 fastly_http_body_write(b, (const uint8_t *)(uintptr_t)0x10, 0xFFFFFFF8u, 0, &n));
    expect_error("body_write ptr", fastly_http_body_write(b, jp, 0x100, 0, &n));
    expect_error("body_read len", fastly_http_body_read(req_body, buf, 0xFFFFFFFFu, &n));
    expect_error("body_read ptr", fastly_http_body_read(req_body, jp, 0x100, &n));
    expect_error("uap_parse", fastly_uap_parse(jp, 0xFFFFFFFFu, (char *)buf, 16, &n, (char *)buf,
                                               16, &n, (char *)buf, 16, &n, (char *)buf, 16, &n));
    /* made-up handles */
    expect_error("body_write handle", fastly_http_body_write(0xDEADBEEFu, buf, 1, 0, &n));
    expect_error("body_close handle", fastly_http_body_close(0xFFFFFFFFu));
    expect_error("body_close invalid", fastly_http_body_close(FASTLY_INVALID_HANDLE));
    expect_error("resp_send handles", fastly_http_resp_send_downstream(12345, 67890, 0));
    fastly_response_handle r2; /* taken even though the body handle is bad, as in Viceroy */
    fastly_http_resp_new(&r2);
    expect_error("resp_send body handle", fastly_http_resp_send_downstream(r2, 0x7FFFFFFFu, 0));
    expect_error("header_insert handle",
                 fastly_http_req_header_insert(0xFFFFFFFEu, (const uint8_t *)"x", 1, buf, 1));
    /* WASI: iovecs out of range, entries pointing out of range, an iovec count that wraps */
    __wasi_ciovec_t iov = {(const uint8_t *)jp, 0x100};
    __wasi_size_t written = 0;
    expect_error("fd_write iov", __wasi_fd_write(1, &iov, 1, &written));
    expect_error("fd_write iovs", __wasi_fd_write(1, jp, 1, &written));
    expect_error("fd_write count",
                 __wasi_fd_write(1, (const __wasi_ciovec_t *)buf, 0x20000000u, &written));
    iov = (__wasi_ciovec_t){buf, 0xFFFFFFFFu};
    expect_error("fd_write len", __wasi_fd_write(2, &iov, 1, &written));
    expect_error("fd_write nwritten", __wasi_fd_write(1, &iov, 0, jp));
    expect_error("random_get", __wasi_random_get(jp, 0x100));
    expect_error("environ_get", __wasi_environ_get(jp, jp));
    expect_error("clock_time_get", __wasi_clock_time_get(0, 1, jp));

    char text[2300];
    if (junk_rejected == junk_total)
        snprintf(text, sizeof text, "as expected %d/%d\n", junk_rejected, junk_total);
    else
        snprintf(text, sizeof text, "unexpected:%s\n", junk_report);
    fprintf(stderr, "junk: %s", text);
    fastly_http_resp_status_set(r, 200);
    write_all(b, text, strlen(text));
    fastly_http_resp_send_downstream(r, b, 0);
}

static void handles(void)
{
    /* the response goes out through handles made before the table fills */
    fastly_response_handle r;
    fastly_body_handle b;
    fastly_http_resp_new(&r);
    fastly_http_resp_status_set(r, 200);
    fastly_http_body_new(&b);
    unsigned long count = 0;
    int first = 0;
    for (unsigned long i = 0; i < 10000000; i++) {
        fastly_body_handle h;
        int st = fastly_http_body_new(&h);
        if (st != 0) {
            first = st;
            break;
        }
        count++;
    }
    int again = 0;
    for (int i = 0; i < 1000; i++) {
        fastly_body_handle h;
        again += fastly_http_body_new(&h) != 0;
    }
    char text[128];
    snprintf(text, sizeof text, "bodies=%lu status=%d again=%d\n", count, first, again);
    write_all(b, text, strlen(text));
    fastly_http_resp_send_downstream(r, b, 0);
}

static void flood(void)
{
    long long mib = query_num("mib", 64);
    memset(buf, 'f', sizeof buf);
    fastly_body_handle b = stream_start();
    for (long long i = 0; mib == 0 || i < mib * 16; i++) {
        size_t n = 0;
        fastly_http_body_write(b, buf, sizeof buf, FASTLY_BODY_WRITE_END_BACK, &n); /* ignored */
    }
    fastly_http_body_close(b);
}

int main(void)
{
    fastly_request_handle req;
    fastly_body_handle req_body;
    fastly_http_req_body_downstream_get(&req, &req_body);
    size_t n = 0;
    fastly_http_req_uri_get(req, url, sizeof url - 1, &n);
    url[n] = '\0';

    if (path_is("/grow"))
        grow();
    else if (path_is("/recurse"))
        respond(recurse(0) ? "impossible\n" : "impossible too\n");
    else if (path_is("/spin-before"))
        spin();
    else if (path_is("/spin-after")) {
        fastly_body_handle b = stream_start();
        write_all(b, "started\n", 8);
        spin();
    } else if (path_is("/junk"))
        junk(req, req_body);
    else if (path_is("/handles"))
        handles();
    else if (path_is("/flood"))
        flood();
    else if (path_is("/exit"))
        __wasi_proc_exit((__wasi_exitcode_t)query_num("code", 1));
    else if (path_is("/exit-after")) {
        fastly_body_handle b = stream_start();
        write_all(b, "started\n", 8);
        __wasi_proc_exit((__wasi_exitcode_t)query_num("code", 1));
    } else if (path_is("/missing"))
        respond(no_such_hostcall(1) ? "impossible\n" : "impossible too\n");
    else
        respond("ok\n");
    return 0;
}
