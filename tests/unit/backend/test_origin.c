/* test_origin.c: the backend tests' origin (origin.c) on its own, over raw sockets: echo as JSON
 * and headers, scripted status/headers/body, generated bodies (length and chunked), slow first
 * byte, upload counting and hashing, counters, dropped connections, and TLS with the generated
 * CA (checked with the openssl s_client command). */
#include "harness.h"
#include "origin.h"
#include "server/http_client.h"

#include "be_pattern.h"

#include <inttypes.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static origin *o;

static uint64_t now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000 + (uint64_t)t.tv_nsec / 1000000;
}

static int get(const char *request, hc_resp *r, bool keep)
{
    hc_conn c;
    if (hc_connect(&c, origin_port(o)) != 0)
        return -1;
    int rc = hc_sends(&c, request) == 0 && hc_read(&c, r, false, keep, false) == 0 ? r->status : -1;
    hc_close(&c);
    return rc;
}

TEST(echo)
{
    hc_resp r = {0};
    CHECK_EQ_INT(get("GET /echo/x?a=1&b=2 HTTP/1.1\r\nHost: h\r\nX-Thing: one\r\n\r\n", &r, true),
                 200);
    CHECK_STR_EQ(hc_header(&r, "x-echo-method"), "GET");
    CHECK_STR_EQ(hc_header(&r, "x-echo-url"), "/echo/x?a=1&b=2");
    CHECK_STR_EQ(hc_header(&r, "x-echo-h-x-thing"), "one");
    CHECK_STR_EQ(hc_header(&r, "x-echo-body-bytes"), "0");
    CHECK_STR_CONTAINS((char *)r.body, "[\"X-Thing\",\"one\"]");
    CHECK_STR_CONTAINS((char *)r.body, "\"url\":\"/echo/x?a=1&b=2\"");
    char v[64];
    CHECK(origin_last_header(o, "x-thing", v, sizeof v));
    CHECK_STR_EQ(v, "one");
    hc_resp_free(&r);
}

TEST(scripted_status)
{
    hc_resp r = {0};
    CHECK_EQ_INT(
        get("GET /status/418?h=X-A:%20b&h=X-C:d&body=teapot HTTP/1.1\r\nHost: h\r\n\r\n", &r, true),
        418);
    CHECK_STR_EQ(hc_header(&r, "x-a"), "b");
    CHECK_STR_EQ(hc_header(&r, "x-c"), "d");
    CHECK_STR_EQ((char *)r.body, "teapot");
    hc_resp_free(&r);
}

TEST(big_length_and_chunked)
{
    const char *reqs[] = {"GET /big?n=3000001 HTTP/1.1\r\nHost: h\r\n\r\n",
                          "GET /big?n=3000001&chunked=1 HTTP/1.1\r\nHost: h\r\n\r\n"};
    for (int i = 0; i < 2; i++) {
        hc_resp r = {0};
        CHECK_EQ_INT(get(reqs[i], &r, true), 200);
        CHECK_EQ_INT(r.chunked, i == 1);
        CHECK_EQ_U64(r.body_len, 3000001);
        CHECK_EQ_U64(be_pattern_mismatches(0, r.body, r.body_len), 0);
        hc_resp_free(&r);
    }
}

TEST(slow_first_byte)
{
    hc_resp r = {0};
    uint64_t t0 = now_ms();
    CHECK_EQ_INT(
        get("GET /slow?first=300&between=50&n=8&chunk=2 HTTP/1.1\r\nHost: h\r\n\r\n", &r, true),
        200);
    uint64_t took = now_ms() - t0;
    CHECK(took >= 450);
    CHECK(took < 5000);
    CHECK_EQ_U64(r.body_len, 8);
    CHECK_EQ_U64(be_pattern_mismatches(0, r.body, r.body_len), 0);
    hc_resp_free(&r);
}

TEST(upload_counted_and_hashed)
{
    size_t n = 1000003;
    uint8_t *body = malloc(n);
    be_pattern_fill(0, body, n);
    hc_conn c;
    CHECK(hc_connect(&c, origin_port(o)) == 0);
    char head[256];
    snprintf(head, sizeof head, "POST /echo HTTP/1.1\r\nHost: h\r\nContent-Length: %zu\r\n\r\n", n);
    hc_sends(&c, head);
    hc_send(&c, body, n);
    hc_resp r = {0};
    CHECK(hc_read(&c, &r, false, true, false) == 0);
    /* and a chunked one on the same connection */
    hc_sends(&c, "POST /echo HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
                 "3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n");
    hc_resp r2 = {0};
    CHECK(hc_read(&c, &r2, false, true, false) == 0);
    hc_close(&c);
    char want[32];
    snprintf(want, sizeof want, "%016" PRIx64, be_pattern_fnv(n));
    CHECK_STR_EQ(hc_header(&r, "x-echo-body-bytes"), "1000003");
    CHECK_STR_EQ(hc_header(&r, "x-echo-body-fnv"), want);
    snprintf(want, sizeof want, "%016" PRIx64, be_fnv(BE_FNV_INIT, (const uint8_t *)"abcde", 5));
    CHECK_STR_EQ(hc_header(&r2, "x-echo-body-bytes"), "5");
    CHECK_STR_EQ(hc_header(&r2, "x-echo-body-fnv"), want);
    hc_resp_free(&r);
    hc_resp_free(&r2);
    free(body);
}

TEST(counters)
{
    origin_reset_counts(o);
    hc_conn c;
    CHECK(hc_connect(&c, origin_port(o)) == 0);
    for (int i = 0; i < 3; i++) {
        hc_resp r = {0};
        hc_sends(&c, "GET /echo HTTP/1.1\r\nHost: h\r\n\r\n");
        CHECK(hc_read(&c, &r, false, false, false) == 0);
        hc_resp_free(&r);
    }
    hc_close(&c);
    CHECK_EQ_U64(origin_requests(o), 3);
    CHECK_EQ_U64(origin_connections(o), 1);
    hc_resp r = {0};
    CHECK_EQ_INT(get("GET /stats HTTP/1.1\r\nHost: h\r\n\r\n", &r, true), 200);
    CHECK_STR_CONTAINS((char *)r.body, "\"connections\":2");
    hc_resp_free(&r);
}

TEST(drop)
{
    hc_resp r = {0};
    CHECK_EQ_INT(get("GET /drop HTTP/1.1\r\nHost: h\r\n\r\n", &r, true), -1);
    hc_resp_free(&r);
}

TEST(tls_with_generated_ca)
{
    char dir[256];
    snprintf(dir, sizeof dir, "build/test-tls/origin-%ld", (long)getpid());
    origin_tls_files tls;
    CHECK(origin_make_tls(dir, &tls) == 0);
    origin *t = origin_start(tls.cert, tls.key);
    CHECK(t != NULL);
    if (!t)
        return;
    char cmd[2048];
    snprintf(
        cmd, sizeof cmd,
        "printf 'GET /status/201?body=tls HTTP/1.1\\r\\nHost: localhost\\r\\nConnection: "
        "close\\r\\n\\r\\n' | openssl s_client -quiet -verify_return_error -CAfile '%s' "
        "-verify_hostname localhost -connect 127.0.0.1:%u 2>/dev/null | grep -q '^HTTP/1.1 201'",
        tls.ca, origin_port(t));
    CHECK_EQ_INT(system(cmd), 0);
    origin_stop(t);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    CHECK_EQ_INT(system(cmd), 0);
}

TEST(closed_port)
{
    uint16_t p = origin_closed_port();
    CHECK(p != 0);
    hc_conn c;
    CHECK(hc_connect(&c, p) != 0);
}

TEST(blackhole_connect_hangs)
{
    origin_blackhole b;
    CHECK(origin_blackhole_open(&b) == 0);
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct timeval tv = {.tv_usec = 300000};
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(b.port)};
    inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
    uint64_t t0 = now_ms();
    int rc = connect(fd, (struct sockaddr *)&a, sizeof a);
    CHECK(rc != 0);
    CHECK(now_ms() - t0 >= 250);
    close(fd);
    origin_blackhole_close(&b);
}

int main(int argc, char **argv)
{
    (void)argc;
    o = origin_start(NULL, NULL);
    if (!o) {
        printf("%s: 0 passed, 1 failed\n", argv[0]);
        return 1;
    }
    RUN(echo);
    RUN(scripted_status);
    RUN(big_length_and_chunked);
    RUN(slow_first_byte);
    RUN(upload_counted_and_hashed);
    RUN(counters);
    RUN(drop);
    RUN(tls_with_generated_ca);
    RUN(closed_port);
    RUN(blackhole_connect_hangs);
    origin_stop(o);
    return harness_finish(argv[0]);
}
