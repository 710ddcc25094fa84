/* test_http.c: end-to-end tests of the HTTP server over real sockets, with the srv_app C guest:
 * request details, keep-alive, chunked both ways, 100-continue, HEAD, 100 MiB bodies up, down and
 * echoed, 200 concurrent requests, 508 on a CDN loop, 500 on a trap (and still serving), 200 with
 * an empty body when the guest sends nothing, deadlines, guest output in the log, startup errors.
 */
#include "fastlike.h"
#include "harness.h"
#include "http_client.h"
#include "test_server.h"

#include <pthread.h>
#include <time.h>
#include <unistd.h>

#define GUEST "build/guests/srv_app.wasm"
#define MIB (1024 * 1024)

static server *server_start(uint64_t timeout_ms)
{
    return server_start_guest(GUEST, timeout_ms);
}

static server *srv; /* the shared server of most tests */

/* One request on a fresh connection to the shared server; the status, or -1. */
static int simple(const char *request, hc_resp *r, bool head)
{
    return simple_on(srv->port, request, r, head);
}

/* ---- tests ---- */

TEST(request_details)
{
    hc_resp r = {0};
    CHECK_EQ_INT(
        simple("GET /info?q=1 HTTP/1.1\r\nHost: example.test\r\nX-Test: yes\r\n\r\n", &r, false),
        200);
    CHECK_STR_CONTAINS((char *)r.body, "method: GET\n");
    CHECK_STR_CONTAINS((char *)r.body, "url: http://example.test/info?q=1\n");
    CHECK_STR_CONTAINS((char *)r.body, "client: 127.0.0.1\n");
    CHECK_STR_CONTAINS((char *)r.body, "header: x-test: yes\n");
    CHECK_STR_CONTAINS(hc_header(&r, "content-type"), "text/plain");
    hc_resp_free(&r);
}

TEST(keep_alive)
{
    hc_conn c;
    CHECK_EQ_INT(hc_connect(&c, srv->port), 0);
    hc_resp r = {0};
    static const int codes[] = {200, 201, 203, 404, 599};
    for (int i = 0; i < 5; i++) {
        char req[128];
        snprintf(req, sizeof req, "GET /status?code=%d HTTP/1.1\r\nHost: x\r\n\r\n", codes[i]);
        CHECK_EQ_INT(hc_sends(&c, req), 0);
        CHECK_EQ_INT(hc_read(&c, &r, false, true, false), 0);
        CHECK_EQ_INT(r.status, codes[i]);
        CHECK_STR_EQ((char *)r.body, "status page\n");
        CHECK_STR_EQ(hc_header(&r, "x-guest"), "srv_app");
    }
    /* pipelined: two requests in one write */
    CHECK_EQ_INT(hc_sends(&c, "GET /status?code=201 HTTP/1.1\r\nHost: x\r\n\r\n"
                              "GET /status?code=202 HTTP/1.1\r\nHost: x\r\n\r\n"),
                 0);
    CHECK_EQ_INT(hc_read(&c, &r, false, true, false), 0);
    CHECK_EQ_INT(r.status, 201);
    CHECK_EQ_INT(hc_read(&c, &r, false, true, false), 0);
    CHECK_EQ_INT(r.status, 202);
    hc_resp_free(&r);
    hc_close(&c);
}

TEST(chunked_upload_and_download)
{
    hc_conn c;
    CHECK_EQ_INT(hc_connect(&c, srv->port), 0);
    CHECK_EQ_INT(hc_sends(&c,
                          "POST /count HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                          "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n"),
                 0);
    hc_resp r = {0};
    CHECK_EQ_INT(hc_read(&c, &r, false, true, false), 0);
    CHECK_EQ_INT(r.status, 200);
    CHECK_STR_EQ((char *)r.body, "11\n");
    /* a streaming response of unknown length goes out chunked */
    r.pattern_base = 'a';
    CHECK_EQ_INT(hc_sends(&c, "GET /gen?n=200000 HTTP/1.1\r\nHost: x\r\n\r\n"), 0);
    CHECK_EQ_INT(hc_read(&c, &r, false, false, false), 0);
    CHECK(r.chunked);
    CHECK(!r.has_length);
    CHECK_EQ_INT(r.body_len, 200000);
    CHECK(r.pattern_ok);
    /* a buffered response has a Content-Length */
    r.pattern_base = 'A';
    CHECK_EQ_INT(hc_sends(&c, "GET /fixed?n=300000 HTTP/1.1\r\nHost: x\r\n\r\n"), 0);
    CHECK_EQ_INT(hc_read(&c, &r, false, false, false), 0);
    CHECK(!r.chunked);
    CHECK_EQ_INT(r.length, 300000);
    CHECK_EQ_INT(r.body_len, 300000);
    CHECK(r.pattern_ok);
    /* echo, chunked in and out, on the same connection */
    r.pattern_base = 0;
    CHECK_EQ_INT(hc_sends(&c, "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                              "3\r\nabc\r\n0\r\n\r\n"),
                 0);
    CHECK_EQ_INT(hc_read(&c, &r, false, true, false), 0);
    CHECK_STR_EQ((char *)r.body, "abc");
    hc_resp_free(&r);
    hc_close(&c);
}

TEST(expect_100_continue)
{
    hc_conn c;
    CHECK_EQ_INT(hc_connect(&c, srv->port), 0);
    CHECK_EQ_INT(hc_sends(&c, "POST /count HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n"
                              "Expect: 100-continue\r\n\r\n"),
                 0);
    hc_resp r = {0};
    CHECK_EQ_INT(hc_read(&c, &r, false, true, true), 0);
    CHECK_EQ_INT(r.status, 100);
    CHECK_EQ_INT(hc_sends(&c, "abcd"), 0);
    CHECK_EQ_INT(hc_read(&c, &r, false, true, false), 0);
    CHECK_EQ_INT(r.status, 200);
    CHECK_STR_EQ((char *)r.body, "4\n");
    hc_resp_free(&r);
    hc_close(&c);
}

TEST(head)
{
    hc_conn c;
    CHECK_EQ_INT(hc_connect(&c, srv->port), 0);
    hc_resp r = {0};
    CHECK_EQ_INT(hc_sends(&c, "HEAD /fixed?n=5000 HTTP/1.1\r\nHost: x\r\n\r\n"), 0);
    CHECK_EQ_INT(hc_read(&c, &r, true, true, false), 0);
    CHECK_EQ_INT(r.status, 200);
    CHECK_EQ_INT(r.length, 5000);
    CHECK_EQ_INT(hc_sends(&c, "HEAD /gen?n=5000 HTTP/1.1\r\nHost: x\r\n\r\n"), 0);
    CHECK_EQ_INT(hc_read(&c, &r, true, true, false), 0);
    CHECK_EQ_INT(r.status, 200);
    /* no body bytes were sent: the next response on the connection parses */
    CHECK_EQ_INT(hc_sends(&c, "GET /info HTTP/1.1\r\nHost: x\r\n\r\n"), 0);
    CHECK_EQ_INT(hc_read(&c, &r, false, true, false), 0);
    CHECK_EQ_INT(r.status, 200);
    CHECK_STR_CONTAINS((char *)r.body, "method: GET");
    hc_resp_free(&r);
    hc_close(&c);
}

/* Sends `total` bytes of body from a generator thread while the response is read. */
typedef struct uploader {
    hc_conn *c;
    long long total;
    bool chunked;
    int rc;
} uploader;

static void *upload(void *arg)
{
    uploader *u = arg;
    static uint8_t block[65536];
    for (size_t i = 0; i < sizeof block; i++)
        block[i] = (uint8_t)('a' + i % 26);
    for (long long left = u->total; left > 0 && u->rc == 0;) {
        size_t k = left < (long long)sizeof block ? (size_t)left : sizeof block;
        if (u->chunked) {
            char h[32];
            snprintf(h, sizeof h, "%zx\r\n", k);
            u->rc = hc_sends(u->c, h);
        }
        if (u->rc == 0)
            u->rc = hc_send(u->c, block, k);
        if (u->rc == 0 && u->chunked)
            u->rc = hc_sends(u->c, "\r\n");
        left -= (long long)k;
    }
    if (u->rc == 0 && u->chunked)
        u->rc = hc_sends(u->c, "0\r\n\r\n");
    return NULL;
}

static void big_request(const char *path, long long total, bool chunked, hc_resp *r)
{
    hc_conn c;
    CHECK_EQ_INT(hc_connect(&c, srv->port), 0);
    char head[256];
    if (chunked)
        snprintf(head, sizeof head,
                 "POST %s HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n", path);
    else
        snprintf(head, sizeof head, "POST %s HTTP/1.1\r\nHost: x\r\nContent-Length: %lld\r\n\r\n",
                 path, total);
    CHECK_EQ_INT(hc_sends(&c, head), 0);
    uploader u = {&c, total, chunked, 0};
    pthread_t t;
    pthread_create(&t, NULL, upload, &u);
    CHECK_EQ_INT(hc_read(&c, r, false, r->pattern_base == 0, false), 0);
    pthread_join(t, NULL);
    CHECK_EQ_INT(u.rc, 0);
    hc_close(&c);
}

TEST(body_100mib_up_down_echo)
{
    hc_resp r = {0};
    big_request("/count", 100LL * MIB, false, &r);
    CHECK_EQ_INT(r.status, 200);
    CHECK_STR_EQ((char *)r.body, "104857600\n");
    big_request("/count", 100LL * MIB, true, &r);
    CHECK_STR_EQ((char *)r.body, "104857600\n");

    hc_conn c;
    CHECK_EQ_INT(hc_connect(&c, srv->port), 0);
    r.pattern_base = 'a';
    CHECK_EQ_INT(hc_sends(&c, "GET /gen?n=104857600 HTTP/1.1\r\nHost: x\r\n\r\n"), 0);
    CHECK_EQ_INT(hc_read(&c, &r, false, false, false), 0);
    CHECK_EQ_INT(r.body_len, 100LL * MIB);
    CHECK(r.pattern_ok);
    hc_close(&c);

    /* full duplex: the guest streams the body back while it is still arriving */
    r.pattern_base = 'a';
    big_request("/echo", 100LL * MIB, false, &r);
    CHECK_EQ_INT(r.status, 200);
    CHECK_EQ_INT(r.body_len, 100LL * MIB);
    CHECK(r.pattern_ok);
    hc_resp_free(&r);
}

typedef struct worker_arg {
    pthread_barrier_t *start;
    int status;
    bool body_ok;
} worker_arg;

static void *concurrent_worker(void *p)
{
    worker_arg *a = p;
    hc_conn c;
    hc_resp r = {0};
    if (hc_connect(&c, srv->port) != 0) {
        pthread_barrier_wait(a->start);
        return NULL;
    }
    pthread_barrier_wait(a->start);
    if (hc_sends(&c, "GET /info HTTP/1.1\r\nHost: x\r\n\r\n") == 0 &&
        hc_read(&c, &r, false, true, false) == 0) {
        a->status = r.status;
        a->body_ok = r.body && strstr((char *)r.body, "method: GET") != NULL;
    }
    hc_resp_free(&r);
    hc_close(&c);
    return NULL;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

TEST(concurrent_200)
{
    enum { N = 200 };
    static pthread_t threads[N];
    static worker_arg args[N];
    pthread_barrier_t start;
    pthread_barrier_init(&start, NULL, N + 1);
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, 256 * 1024);
    for (int i = 0; i < N; i++) {
        args[i] = (worker_arg){.start = &start};
        pthread_create(&threads[i], &attr, concurrent_worker, &args[i]);
    }
    pthread_barrier_wait(&start);
    double t0 = now_s();
    int ok = 0;
    for (int i = 0; i < N; i++) {
        pthread_join(threads[i], NULL);
        ok += args[i].status == 200 && args[i].body_ok;
    }
    double dt = now_s() - t0;
    pthread_attr_destroy(&attr);
    pthread_barrier_destroy(&start);
    CHECK_EQ_INT(ok, N);
    printf("concurrent_200: %d requests on %d connections in %.3f s (%.0f req/s)\n", N, N, dt,
           N / dt);
}

TEST(keep_alive_throughput)
{
    hc_conn c;
    CHECK_EQ_INT(hc_connect(&c, srv->port), 0);
    hc_resp r = {0};
    int n = 2000, ok = 0;
    double t0 = now_s();
    for (int i = 0; i < n; i++)
        if (hc_sends(&c, "GET /status HTTP/1.1\r\nHost: x\r\n\r\n") == 0 &&
            hc_read(&c, &r, false, false, false) == 0 && r.status == 200)
            ok++;
    double dt = now_s() - t0;
    CHECK_EQ_INT(ok, n);
    printf("keep_alive_throughput: %d sequential requests on one connection: %.0f req/s "
           "(%.1f us each)\n",
           n, n / dt, dt / n * 1e6);
    hc_resp_free(&r);
    hc_close(&c);
}

/* A response that asks to close the connection (http_keepalive_mode no_keepalive, or the guest's
 * own `Connection: close`, which hyper honours in Viceroy) says so and the server closes. */
TEST(connection_close_from_the_guest)
{
    static const char *const how[] = {"keepalive", "header"};
    for (int i = 0; i < 2; i++) {
        hc_conn c;
        CHECK_EQ_INT(hc_connect(&c, srv->port), 0);
        struct timeval tv = {.tv_sec = 5};
        setsockopt(c.fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        char req[128];
        snprintf(req, sizeof req, "GET /close?how=%s HTTP/1.1\r\nHost: x\r\n\r\n", how[i]);
        CHECK_EQ_INT(hc_sends(&c, req), 0);
        hc_resp r = {0};
        CHECK_EQ_INT(hc_read(&c, &r, false, true, false), 0);
        CHECK_EQ_INT(r.status, 200);
        CHECK_STR_EQ((char *)r.body, "closing\n");
        const char *conn = hc_header(&r, "connection");
        CHECK(conn != NULL && strcasecmp(conn, "close") == 0);
        CHECK_EQ_INT(hc_fill(&c), 0); /* the server closed the connection */
        hc_resp_free(&r);
        hc_close(&c);
    }
}

TEST(loop_detected_508)
{
    hc_resp r = {0};
    /* five passes through Fastlike already (two header lines, parameters, other CDNs) */
    CHECK_EQ_INT(simple("GET /print?loop HTTP/1.1\r\nHost: x\r\ncdn-loop: other, Fastlike; v=1, "
                        "fastlike\r\ncdn-loop: Fastlike,Fastlike, FASTLIKE\r\n\r\n",
                        &r, false),
                 508);
    CHECK_STR_CONTAINS((char *)r.body, "5 times");
    hc_resp_free(&r);
    CHECK(!log_has(&srv->log, "stdout | hello")); /* the guest did not run */
    CHECK(log_wait(&srv->log, "GET http://x/print?loop -> 508"));
    /* fewer passes are allowed: a service may call itself */
    CHECK_EQ_INT(simple("GET /status HTTP/1.1\r\nHost: x\r\ncdn-loop: Fastlike, Fastlike, "
                        "other, Fastlike, Fastlike\r\n\r\n",
                        &r, false),
                 200);
    hc_resp_free(&r);
    /* another CDN's name alone is no loop */
    CHECK_EQ_INT(simple("GET /status HTTP/1.1\r\nHost: x\r\ncdn-loop: fastlike-ish, other\r\n\r\n",
                        &r, false),
                 200);
    hc_resp_free(&r);
}

TEST(trap_500_and_still_serving)
{
    hc_resp r = {0};
    CHECK_EQ_INT(simple("GET /trap HTTP/1.1\r\nHost: x\r\n\r\n", &r, false), 500);
    CHECK(log_wait(&srv->log, "GET http://x/trap: guest trapped: unreachable"));
    CHECK(log_wait(&srv->log, "guest_crash_here"));
    CHECK(log_wait(&srv->log, "guest_call_crash"));
    CHECK_EQ_INT(simple("GET /info HTTP/1.1\r\nHost: x\r\n\r\n", &r, false), 200);
    /* after the head: the chunked body is cut (no last chunk), the connection closes */
    hc_conn c;
    CHECK_EQ_INT(hc_connect(&c, srv->port), 0);
    CHECK_EQ_INT(hc_sends(&c, "GET /trap-after-head?n=100000 HTTP/1.1\r\nHost: x\r\n\r\n"), 0);
    CHECK_EQ_INT(hc_read(&c, &r, false, false, false), -1);
    CHECK_EQ_INT(r.status, 200);
    hc_close(&c);
    /* a streaming body the guest abandons is cut short the same way (not ended cleanly) */
    /* covers: fastly_http_body.abandon */
    CHECK_EQ_INT(hc_connect(&c, srv->port), 0);
    CHECK_EQ_INT(hc_sends(&c, "GET /abandon-stream?n=100000 HTTP/1.1\r\nHost: x\r\n\r\n"), 0);
    CHECK_EQ_INT(hc_read(&c, &r, false, false, false), -1);
    CHECK_EQ_INT(r.status, 200);
    hc_close(&c);
    CHECK_EQ_INT(simple("GET /status HTTP/1.1\r\nHost: x\r\n\r\n", &r, false), 200);
    hc_resp_free(&r);
}

TEST(no_response_is_200_empty)
{
    hc_resp r = {0};
    CHECK_EQ_INT(simple("GET /nothing HTTP/1.1\r\nHost: x\r\n\r\n", &r, false), 200);
    CHECK(r.has_length);
    CHECK_EQ_INT(r.length, 0);
    CHECK_EQ_INT(r.body_len, 0);
    hc_resp_free(&r);
}

TEST(guest_output_in_log)
{
    hc_resp r = {0};
    CHECK_EQ_INT(simple("GET /print HTTP/1.1\r\nHost: x\r\n\r\n", &r, false), 200);
    CHECK(log_wait(&srv->log, "stdout | hello from the guest's stdout"));
    CHECK(log_wait(&srv->log, "stderr | and from its stderr"));
    hc_resp_free(&r);
}

TEST(environment)
{
    hc_resp a = {0}, b = {0};
    CHECK_EQ_INT(simple("GET /env HTTP/1.1\r\nHost: x\r\n\r\n", &a, false), 200);
    CHECK_EQ_INT(simple("GET /env HTTP/1.1\r\nHost: x\r\n\r\n", &b, false), 200);
    static const char *const want[] = {"FASTLY_CACHE_GENERATION=0\n",
                                       "FASTLY_CUSTOMER_ID=0000000000000000000000\n",
                                       "FASTLY_POP=XXX\n",
                                       "FASTLY_REGION=Somewhere\n",
                                       "FASTLY_SERVICE_ID=0000000000000000000000\n",
                                       "FASTLY_SERVICE_VERSION=0\n",
                                       "FASTLY_HOSTNAME=localhost\n",
                                       "FASTLY_IS_STAGING=0\n"};
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
        CHECK_STR_CONTAINS((char *)a.body, want[i]);
    const char *ta = a.body ? strstr((char *)a.body, "FASTLY_TRACE_ID=") : NULL;
    const char *tb = b.body ? strstr((char *)b.body, "FASTLY_TRACE_ID=") : NULL;
    CHECK(ta && tb);
    if (ta && tb) {
        CHECK_EQ_INT(strcspn(ta + 16, "\n"), 32);
        CHECK(strncmp(ta, tb, 48) != 0); /* fresh per request */
    }
    hc_resp_free(&a);
    hc_resp_free(&b);
}

TEST(deadline)
{
    server *s = server_start(300);
    CHECK(s != NULL);
    if (!s)
        return;
    server *saved = srv;
    srv = s;
    hc_resp r = {0};
    double t0 = now_s();
    CHECK_EQ_INT(simple("GET /spin HTTP/1.1\r\nHost: x\r\n\r\n", &r, false), 500);
    CHECK(now_s() - t0 < 5.0);
    CHECK(log_wait(&s->log, "CPU deadline of 300 ms exceeded"));
    CHECK_EQ_INT(simple("GET /status HTTP/1.1\r\nHost: x\r\n\r\n", &r, false), 200);
    /* the deadline counts CPU time: a guest blocked for longer than it is not stopped */
    t0 = now_s();
    CHECK_EQ_INT(simple("GET /sleep HTTP/1.1\r\nHost: x\r\n\r\n", &r, false), 200);
    CHECK(now_s() - t0 >= 0.6);
    hc_resp_free(&r);
    srv = saved;
    server_stop(s);
}

TEST(bad_request_400)
{
    hc_resp r = {0};
    CHECK_EQ_INT(simple("GET / HTTP/1.1\r\nbad header line\r\n\r\n", &r, false), 400);
    CHECK_EQ_INT(
        simple("POST /count HTTP/1.1\r\nHost: x\r\nContent-Length: nope\r\n\r\n", &r, false), 400);
    hc_resp_free(&r);
}

TEST(startup_errors)
{
    char err[512] = "";
    fastlike_config *c = fastlike_config_new();
    fastlike *f = NULL;
    /* port in use */
    char bind[64];
    snprintf(bind, sizeof bind, "127.0.0.1:%u", srv->port);
    CHECK_EQ_INT(fastlike_config_set_bind(c, bind, err, sizeof err), FASTLIKE_OK);
    fastlike_config_set_wasm_file(c, GUEST);
    fastlike_config_set_log(c, capture, &srv->log);
    CHECK_EQ_INT(fastlike_new(c, &f, err, sizeof err), FASTLIKE_OK);
    CHECK_EQ_INT(fastlike_start(f, err, sizeof err), FASTLIKE_ERR_IO);
    CHECK_STR_CONTAINS(err, "cannot listen on 127.0.0.1:");
    CHECK_STR_CONTAINS(err, "in use");
    fastlike_free(f);
    /* missing and invalid wasm */
    fastlike_config_set_wasm_file(c, "build/guests/no-such-guest.wasm");
    CHECK_EQ_INT(fastlike_new(c, &f, err, sizeof err), FASTLIKE_ERR_WASM);
    CHECK_STR_CONTAINS(err, "no-such-guest.wasm");
    static const uint8_t junk[] = {0, 'a', 's', 'm', 1, 0, 0, 0, 0xff};
    fastlike_config_set_wasm_bytes(c, junk, sizeof junk);
    CHECK_EQ_INT(fastlike_new(c, &f, err, sizeof err), FASTLIKE_ERR_WASM);
    CHECK_STR_CONTAINS(err, "invalid wasm module");
    /* bad bind syntax */
    CHECK_EQ_INT(fastlike_config_set_bind(c, "localhost", err, sizeof err), FASTLIKE_ERR_ARGS);
    CHECK_EQ_INT(fastlike_config_set_bind(c, "localhost:99999", err, sizeof err),
                 FASTLIKE_ERR_ARGS);
    fastlike_config_free(c);
}

int main(int argc, char **argv)
{
    (void)argc;
    srv = server_start(0);
    if (!srv) {
        printf("%s: 0 passed, 1 failed\n", argv[0]);
        return 1;
    }
    RUN(request_details);
    RUN(keep_alive);
    RUN(chunked_upload_and_download);
    RUN(expect_100_continue);
    RUN(head);
    RUN(body_100mib_up_down_echo);
    RUN(concurrent_200);
    RUN(keep_alive_throughput);
    RUN(connection_close_from_the_guest);
    RUN(loop_detected_508);
    RUN(trap_500_and_still_serving);
    RUN(no_response_is_200_empty);
    RUN(guest_output_in_log);
    RUN(environment);
    RUN(deadline);
    RUN(bad_request_400);
    RUN(startup_errors);
    server_stop(srv);
    return harness_finish(argv[0]);
}
