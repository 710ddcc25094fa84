/* test_backend.c: backends end to end with the be_proxy C guest: a Fastlike server in-process on
 * 127.0.0.1:0, requests over real sockets, test origins of our own (origin.c). Pass-through of
 * status/headers/bodies, cdn-loop on backend requests, connection reuse, concurrent send_async
 * with pending_req_select and async_io.select, streaming uploads (guest-written and downstream),
 * timeouts, @0/@50/@100, is_healthy, refused connections (502), HTTPS with a CA generated at test
 * time, a 1 GiB response in bounded memory, loop detection across two chained instances, trailers
 * both ways, an empty SNI hostname (no SNI sent, certificate still checked).
 * FASTLIKE_TEST_BIG_MIB sets the big response's size (default 1024 MiB, 64 under ASan). */
#include "be_server.h"
#include "harness.h"
#include "origin.h"

#include "be_pattern.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define GUEST "build/guests/be_proxy.wasm"
#define MIB (1024 * 1024)

#if defined(__SANITIZE_ADDRESS__)
#define BIG_DEFAULT_MIB 64
#else
#define BIG_DEFAULT_MIB 1024
#endif

static origin *org;     /* plain HTTP origin */
static origin *tls_org; /* HTTPS origin, certificate from the generated CA */
static origin_tls_files tls;
static char tls_dir[256];

static const char *origin_spec(const char *name, origin *o, const char *suffix)
{
    return be_fmt("%s=127.0.0.1:%u%s", name, origin_port(o), suffix ? suffix : "");
}

static bool has_header(const hc_resp *r, const char *name)
{
    return hc_header(r, name) != NULL;
}

/* A server for GUEST whose backend "origin" is the plain test origin (a failed check if it cannot
 * start). */
static be_srv *start_with_origin(void)
{
    const char *be[] = {origin_spec("origin", org, NULL), NULL};
    be_srv *s = be_srv_start(GUEST, be);
    CHECK(s != NULL);
    return s;
}

TEST(pass_through_status_headers_body)
{
    /* covers: fastly_http_req.send, fastly_http_resp.send_downstream */
    be_srv *s = start_with_origin();
    if (!s)
        return;
    hc_resp r = {0};
    CHECK_EQ_INT(be_request(s->port, "GET",
                            "/status/203?h=X-A:%20one&h=Set-Cookie:a=1&h=Set-Cookie:b=2&body=hello",
                            NULL, NULL, 0, &r, true),
                 203);
    CHECK_STR_EQ(hc_header(&r, "x-a"), "one");
    CHECK_STR_CONTAINS(r.head, "Set-Cookie: a=1\n");
    CHECK_STR_CONTAINS(r.head, "Set-Cookie: b=2\n");
    CHECK_STR_EQ((char *)r.body, "hello");
    hc_resp_free(&r);

    /* method, path and query, request headers and body reach the origin */
    size_t n = 300001;
    uint8_t *body = malloc(n);
    be_pattern_fill(0, body, n);
    CHECK_EQ_INT(
        be_request(s->port, "POST", "/echo/p?q=1&r=two", "X-Custom: yes\r\n", body, n, &r, true),
        200);
    CHECK_STR_EQ(hc_header(&r, "x-echo-method"), "POST");
    CHECK_STR_EQ(hc_header(&r, "x-echo-url"), "/echo/p?q=1&r=two");
    CHECK_STR_EQ(hc_header(&r, "x-echo-h-x-custom"), "yes");
    CHECK_STR_EQ(hc_header(&r, "x-echo-body-bytes"), "300001");
    CHECK_STR_EQ(hc_header(&r, "x-echo-body-fnv"), be_fmt("%016" PRIx64, be_pattern_fnv(n)));
    /* cdn-loop is appended on backend requests */
    CHECK_STR_CONTAINS(hc_header(&r, "x-echo-h-cdn-loop"), "Fastlike");
    free(body);

    /* a 404 and an empty 204 pass through too */
    CHECK_EQ_INT(be_request(s->port, "GET", "/status/404?body=nope", NULL, NULL, 0, &r, true), 404);
    CHECK_STR_EQ((char *)r.body, "nope");
    CHECK_EQ_INT(be_request(s->port, "GET", "/status/204", NULL, NULL, 0, &r, true), 204);
    CHECK_EQ_U64(r.body_len, 0);
    /* verbose mode logs the backend request */
    CHECK(be_srv_log_has(s, "origin"));
    hc_resp_free(&r);
    be_srv_stop(s);
}

TEST(send_v2_detail_ok_and_copy_loop)
{
    /* covers: fastly_http_req.send_v2 */
    be_srv *s = start_with_origin();
    if (!s)
        return;
    hc_resp r = {.pattern_base = 0};
    CHECK_EQ_INT(
        be_request(s->port, "GET", "/status/200?body=x", "x-mode: send_v2\r\n", NULL, 0, &r, true),
        200);
    CHECK_STR_EQ(hc_header(&r, "x-send-detail"), "1");
    /* the guest copies 8 MiB (chunked from the origin) into a streaming response */
    CHECK_EQ_INT(be_request(s->port, "GET", be_fmt("/big?n=%d&chunked=1", 8 * MIB + 7),
                            "x-mode: copy\r\n", NULL, 0, &r, true),
                 200);
    CHECK_EQ_U64(r.body_len, 8 * MIB + 7);
    CHECK_EQ_U64(be_pattern_mismatches(0, r.body, r.body_len), 0);
    hc_resp_free(&r);
    be_srv_stop(s);
}

TEST(connection_reuse)
{
    be_srv *s = start_with_origin();
    if (!s)
        return;
    origin_reset_counts(org);
    for (int i = 0; i < 20; i++) {
        hc_resp r = {0};
        CHECK_EQ_INT(be_request(s->port, "GET", "/status/200?body=x", NULL, NULL, 0, &r, false),
                     200);
        hc_resp_free(&r);
    }
    CHECK_EQ_U64(origin_requests(org), 20);
    /* sequential requests to one backend share pooled connections */
    CHECK(origin_connections(org) <= 2);
    if (origin_connections(org) > 2)
        fprintf(stderr, "  connections for 20 requests: %" PRIu64 "\n", origin_connections(org));
    be_srv_stop(s);
}

TEST(concurrent_send_async_select)
{
    /* covers: fastly_http_req.send_async, fastly_http_req.pending_req_select */
    /* covers: fastly_async_io.select, fastly_async_io.is_ready, fastly_http_req.pending_req_wait */
    be_srv *s = start_with_origin();
    if (!s)
        return;
    const char *modes[] = {"x-mode: select\r\nx-count: 4\r\nx-step-ms: 200\r\n",
                           "x-mode: aio\r\nx-count: 4\r\nx-step-ms: 200\r\n"};
    for (int m = 0; m < 2; m++) {
        hc_resp r = {0};
        uint64_t t0 = be_now_ms();
        CHECK_EQ_INT(be_request(s->port, "GET", "/", modes[m], NULL, 0, &r, true), 200);
        uint64_t took = be_now_ms() - t0;
        /* request i waits (4 - i) * 200 ms: one after the other that is 2 s, together 0.8 s;
         * select hands them back fastest first */
        const char *want = "3 200 4\n2 200 4\n1 200 4\n0 200 4\n";
        if (m == 1)
            want = "timeout-select 0 4294967295\nis_ready 0 0\n3 200 4\n2 200 4\n1 200 4\n0 200 "
                   "4\n";
        CHECK_STR_EQ((char *)r.body, want);
        CHECK(took >= 780);
        CHECK(took < 1900);
        if (took >= 1900)
            fprintf(stderr, "  mode %d took %" PRIu64 " ms\n", m, took);
        hc_resp_free(&r);
    }
    be_srv_stop(s);
}

TEST(streaming_uploads)
{
    /* covers: fastly_http_req.send_async_streaming */
    be_srv *s = start_with_origin();
    if (!s)
        return;
    /* the guest writes 5 MiB into the body of a request already in flight */
    hc_resp r = {0};
    CHECK_EQ_INT(be_request(s->port, "GET", "/", "x-mode: stream_up\r\nx-up-bytes: 5242883\r\n",
                            NULL, 0, &r, true),
                 200);
    CHECK_STR_EQ(hc_header(&r, "x-echo-method"), "POST");
    CHECK_STR_EQ(hc_header(&r, "x-echo-body-bytes"), "5242883");
    CHECK_STR_EQ(hc_header(&r, "x-echo-body-fnv"), be_fmt("%016" PRIx64, be_pattern_fnv(5242883)));

    /* a chunked downstream upload of 24 MiB streams through send to the origin */
    hc_conn c;
    CHECK(hc_connect(&c, s->port) == 0);
    hc_sends(&c, "POST /echo/up HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n");
    size_t total = 24 * MIB + 5, chunk = 100000;
    uint8_t *buf = malloc(chunk);
    for (size_t off = 0; off < total;) {
        size_t k = total - off < chunk ? total - off : chunk;
        be_pattern_fill(off, buf, k);
        char size[32];
        snprintf(size, sizeof size, "%zx\r\n", k);
        if (hc_sends(&c, size) != 0 || hc_send(&c, buf, k) != 0 || hc_sends(&c, "\r\n") != 0)
            break;
        off += k;
    }
    hc_sends(&c, "0\r\n\r\n");
    CHECK(hc_read(&c, &r, false, true, false) == 0);
    CHECK_EQ_INT(r.status, 200);
    CHECK_STR_EQ(hc_header(&r, "x-echo-body-bytes"), be_fmt("%zu", total));
    CHECK_STR_EQ(hc_header(&r, "x-echo-body-fnv"), be_fmt("%016" PRIx64, be_pattern_fnv(total)));
    hc_close(&c);
    free(buf);
    hc_resp_free(&r);
    be_srv_stop(s);
}

TEST(timeouts)
{
    /* covers: fastly_http_req.register_dynamic_backend */
    be_srv *s = be_srv_start(GUEST, NULL);
    CHECK(s != NULL);
    if (!s)
        return;
    hc_resp r = {0};
    /* first byte: the origin waits 3 s, the backend allows 300 ms */
    uint64_t t0 = be_now_ms();
    CHECK_EQ_INT(be_request(s->port, "GET", "/slow?first=3000&n=4",
                            be_fmt("x-mode: dynamic\r\nx-dyn-name: slow\r\nx-dyn-target: "
                                   "127.0.0.1:%u\r\nx-dyn-first-byte-timeout: 300\r\n",
                                   origin_port(org)),
                            NULL, 0, &r, true),
                 503);
    uint64_t took = be_now_ms() - t0;
    CHECK_STR_EQ(hc_header(&r, "x-send-detail"), "16"); /* http_response_timeout */
    CHECK(took >= 250 && took < 2500);
    /* connect: the listener never completes the handshake */
    origin_blackhole bh;
    CHECK(origin_blackhole_open(&bh) == 0);
    t0 = be_now_ms();
    CHECK_EQ_INT(be_request(s->port, "GET", "/",
                            be_fmt("x-mode: dynamic\r\nx-dyn-name: hole\r\nx-dyn-target: "
                                   "127.0.0.1:%u\r\nx-dyn-connect-timeout: 300\r\n",
                                   bh.port),
                            NULL, 0, &r, true),
                 503);
    took = be_now_ms() - t0;
    CHECK_STR_EQ(hc_header(&r, "x-send-detail"), "9"); /* connection_timeout */
    CHECK(took >= 250 && took < 2500);
    origin_blackhole_close(&bh);
    /* between bytes: the head comes at once, then 2 s pauses; the backend allows 300 ms, so the
     * passed-through body ends early (cut, not completed) */
    t0 = be_now_ms();
    int st = be_request(s->port, "GET", "/slow?between=2000&n=8&chunk=2",
                        be_fmt("x-mode: dynamic\r\nx-dyn-name: gappy\r\nx-dyn-target: "
                               "127.0.0.1:%u\r\nx-dyn-between-bytes-timeout: 300\r\n",
                               origin_port(org)),
                        NULL, 0, &r, true);
    took = be_now_ms() - t0;
    CHECK(st == -1 || r.body_len < 8);
    CHECK(took < 2500);
    if (st != -1 && r.body_len >= 8)
        fprintf(stderr, "  between-bytes: status %d, %zu bytes in %" PRIu64 " ms\n", st, r.body_len,
                took);
    hc_resp_free(&r);
    be_srv_stop(s);
}

TEST(unreliable_and_health)
{
    /* covers: fastly_backend.is_healthy, fastly_backend.exists, fastly_backend.is_dynamic */
    /* covers: fastly_backend.get_host, fastly_backend.get_port, fastly_backend.is_ssl */
    /* covers: fastly_backend.get_override_host, fastly_backend.get_connect_timeout_ms */
    /* covers: fastly_backend.get_first_byte_timeout_ms */
    /* covers: fastly_backend.get_between_bytes_timeout_ms */
    const char *be[] = {origin_spec("plain", org, NULL), origin_spec("down", org, "@0"),
                        origin_spec("half", org, "@50"), origin_spec("up", org, "@100"), NULL};
    be_srv *s = be_srv_start(GUEST, be);
    CHECK(s != NULL);
    if (!s)
        return;
    hc_resp r = {0};
    const char *names[] = {"plain", "down", "half", "up"};
    const char *health[] = {"0", "2", "1", "1"}; /* unknown, unhealthy, healthy, healthy */
    for (int i = 0; i < 4; i++) {
        CHECK_EQ_INT(be_request(s->port, "GET", "/",
                                be_fmt("x-mode: info\r\nx-backend: %s\r\n", names[i]), NULL, 0, &r,
                                true),
                     200);
        CHECK_STR_EQ(hc_header(&r, "x-be-healthy-st"), "0");
        CHECK_STR_EQ(hc_header(&r, "x-be-healthy"), health[i]);
        CHECK_STR_EQ(hc_header(&r, "x-be-exists"), "1");
        CHECK_STR_EQ(hc_header(&r, "x-be-dynamic"), "0");
        CHECK_STR_EQ(hc_header(&r, "x-be-host"), "127.0.0.1");
        CHECK_STR_EQ(hc_header(&r, "x-be-port"), be_fmt("%u", origin_port(org)));
        CHECK_STR_EQ(hc_header(&r, "x-be-ssl"), "0");
        /* timeouts nobody set: "not set" (unsupported, as Viceroy), as the override host (none) */
        CHECK_STR_EQ(hc_header(&r, "x-be-connect-timeout-st"), "5");
        CHECK_STR_EQ(hc_header(&r, "x-be-first-byte-timeout-st"), "5");
        CHECK_STR_EQ(hc_header(&r, "x-be-between-bytes-timeout-st"), "5");
        CHECK_STR_EQ(hc_header(&r, "x-be-override-host-st"), "10");
    }
    /* an unknown backend without a catch-all does not exist */
    CHECK_EQ_INT(
        be_request(s->port, "GET", "/", "x-mode: info\r\nx-backend: nope\r\n", NULL, 0, &r, true),
        200);
    CHECK_STR_EQ(hc_header(&r, "x-be-exists"), "0");
    CHECK(strcmp(hc_header(&r, "x-be-healthy-st"), "0") != 0);

    /* @0 never reaches the origin, @100 always does */
    origin_reset_counts(org);
    for (int i = 0; i < 20; i++) {
        CHECK_EQ_INT(be_request(s->port, "GET", "/status/200?body=ok", "x-backend: down\r\n", NULL,
                                0, &r, true),
                     502);
        CHECK_EQ_INT(be_request(s->port, "GET", "/status/200?body=ok", "x-backend: up\r\n", NULL, 0,
                                &r, true),
                     200);
    }
    CHECK_EQ_U64(origin_requests(org), 20);
    /* @50: a statistical bound over 400 requests (mean 200, sd 10: 140..260 is +-6 sd) */
    origin_reset_counts(org);
    int ok = 0, bad = 0, other = 0;
    for (int i = 0; i < 400; i++) {
        int st = be_request(s->port, "GET", "/status/200?body=ok", "x-backend: half\r\n", NULL, 0,
                            &r, false);
        ok += st == 200;
        bad += st == 502;
        other += st != 200 && st != 502;
    }
    CHECK_EQ_INT(other, 0);
    CHECK_EQ_INT(ok + bad, 400);
    CHECK(ok >= 140 && ok <= 260);
    if (ok < 140 || ok > 260)
        fprintf(stderr, "  @50: %d of 400 reached the origin\n", ok);
    CHECK_EQ_U64(origin_requests(org), (uint64_t)ok);
    hc_resp_free(&r);
    be_srv_stop(s);
}

TEST(refused_is_an_error_unreliable_is_502)
{
    /* a backend that cannot be reached is the send's error status with its detail, as
     * production (an SDK's fetch rejects); only the @N simulation answers a synthetic 502 */
    uint16_t closed = origin_closed_port();
    const char *be[] = {be_fmt("refused=127.0.0.1:%u", closed), origin_spec("down", org, "@0"),
                        NULL};
    be_srv *s = be_srv_start(GUEST, be);
    CHECK(s != NULL);
    if (!s)
        return;
    hc_resp refused = {0}, down = {0};
    CHECK_EQ_INT(
        be_request(s->port, "GET", "/x", "x-backend: refused\r\n", NULL, 0, &refused, true), 503);
    CHECK_STR_EQ(hc_header(&refused, "x-send-status"), "1"); /* error */
    CHECK_EQ_INT(be_request(s->port, "GET", "/x", "x-backend: down\r\n", NULL, 0, &down, true),
                 502);
    CHECK_STR_EQ((char *)down.body, "502 Bad Gateway: the backend request failed\n");
    /* send_v2 names the cause */
    hc_resp r = {0};
    CHECK_EQ_INT(be_request(s->port, "GET", "/x", "x-backend: refused\r\nx-mode: send_v2\r\n", NULL,
                            0, &r, true),
                 503);
    CHECK_STR_EQ(hc_header(&r, "x-send-status"), "1");
    CHECK_STR_EQ(hc_header(&r, "x-send-detail"), "7"); /* connection_refused */
    /* the simulated failure is a response (status ok), its detail informational */
    CHECK_EQ_INT(be_request(s->port, "GET", "/x", "x-backend: down\r\nx-mode: send_v2\r\n", NULL, 0,
                            &r, true),
                 502);
    CHECK_STR_EQ(hc_header(&r, "x-send-detail"), "5"); /* destination_unavailable */
    /* an unknown backend (no catch-all) is an error for send, not a response */
    CHECK_EQ_INT(be_request(s->port, "GET", "/x", "x-backend: nope\r\nx-mode: send_v2\r\n", NULL, 0,
                            &r, true),
                 503);
    CHECK(has_header(&r, "x-send-status"));
    CHECK(strcmp(hc_header(&r, "x-send-status"), "0") != 0);
    hc_resp_free(&r);
    hc_resp_free(&refused);
    hc_resp_free(&down);
    be_srv_stop(s);
}

TEST(send_downstream_pending_with_header_edits)
{
    /* covers: fastly_http_resp.send_downstream_pending */
    /* covers: fastly_http_req.pending_req_header_insert */
    /* covers: fastly_http_req.pending_req_header_append */
    /* covers: fastly_http_req.pending_req_header_remove */
    uint16_t closed = origin_closed_port();
    const char *be[] = {origin_spec("origin", org, NULL), be_fmt("refused=127.0.0.1:%u", closed),
                        NULL};
    be_srv *s = be_srv_start(GUEST, be);
    CHECK(s != NULL);
    if (!s)
        return;
    hc_resp r = {0};
    CHECK_EQ_INT(be_request(s->port, "GET", "/echo", "x-mode: pending\r\n", NULL, 0, &r, true),
                 200);
    CHECK_STR_EQ(hc_header(&r, "x-edit-any"), "yes");
    CHECK_STR_EQ(hc_header(&r, "x-edit-resp"), "origin");
    CHECK(!has_header(&r, "x-edit-err"));
    CHECK(!has_header(&r, "x-echo-url"));   /* removed from the origin's response */
    CHECK(has_header(&r, "x-echo-method")); /* the rest of it came through */
    CHECK_STR_EQ(hc_header(&r, "x-edit-twice"), "second");
    hc_resp_free(&r);
    /* no response materialises: the synthetic 5XX goes down with the error edits */
    CHECK_EQ_INT(be_request(s->port, "GET", "/echo", "x-mode: pending\r\nx-backend: refused\r\n",
                            NULL, 0, &r, true),
                 502);
    CHECK_STR_EQ(hc_header(&r, "x-edit-any"), "yes");
    CHECK_STR_EQ(hc_header(&r, "x-edit-err"), "synthetic");
    CHECK(!has_header(&r, "x-edit-resp"));
    hc_resp_free(&r);
    be_srv_stop(s);
}

/* The generated test CA (PEM) into buf; its length, checked non-zero. */
static size_t read_test_ca(char *buf, size_t cap)
{
    FILE *f = fopen(tls.ca, "rb");
    size_t n = f ? fread(buf, 1, cap, f) : 0;
    if (f)
        fclose(f);
    CHECK(n > 0);
    return n;
}

TEST(https_dynamic_with_generated_ca)
{
    be_srv *s = be_srv_start(GUEST, NULL);
    CHECK(s != NULL && tls_org != NULL);
    if (!s || !tls_org) {
        be_srv_stop(s);
        return;
    }
    char ca[8192];
    size_t ca_len = read_test_ca(ca, sizeof ca);
    hc_resp r = {0};
    /* generous connect timeouts (the default 1 s includes the TLS handshake, which a loaded
     * machine running the sanitizer build can exceed) */
    const char *hdrs =
        be_fmt("x-mode: dynamic\r\nx-dyn-name: secure\r\nx-dyn-target: "
               "localhost:%u\r\nx-dyn-tls: 1\r\nx-dyn-cert-hostname: localhost\r\n"
               "x-dyn-host-override: secure.test\r\nx-dyn-connect-timeout: 30000\r\n",
               origin_port(tls_org));
    CHECK_EQ_INT(be_request(s->port, "POST", "/echo/tls", hdrs, ca, ca_len, &r, true), 200);
    CHECK_STR_EQ(hc_header(&r, "x-send-detail"), "1");
    CHECK_STR_EQ(hc_header(&r, "x-echo-h-host"), "secure.test");
    CHECK_STR_EQ(hc_header(&r, "x-be-ssl"), "1");
    CHECK_STR_EQ(hc_header(&r, "x-be-dynamic"), "1");
    CHECK_STR_EQ(hc_header(&r, "x-be-exists"), "1");
    CHECK_STR_EQ(hc_header(&r, "x-be-host"), "localhost");
    CHECK_STR_EQ(hc_header(&r, "x-be-override-host"), "secure.test");
    CHECK_STR_EQ(hc_header(&r, "x-be-port"), be_fmt("%u", origin_port(tls_org)));
    /* without the CA the certificate is not trusted */
    hdrs = be_fmt("x-mode: dynamic\r\nx-dyn-name: untrusted\r\nx-dyn-target: localhost:%u\r\n"
                  "x-dyn-tls: 1\r\nx-dyn-connect-timeout: 30000\r\n",
                  origin_port(tls_org));
    CHECK_EQ_INT(be_request(s->port, "GET", "/echo/tls", hdrs, NULL, 0, &r, true), 503);
    CHECK_STR_EQ(hc_header(&r, "x-send-detail"), "11"); /* tls_certificate_error */
    hc_resp_free(&r);
    be_srv_stop(s);
}

TEST(response_trailers_reach_the_guest)
{
    /* covers: fastly_http_body.trailer_names_get, fastly_http_body.trailer_value_get */
    /* covers: fastly_http_body.trailer_values_get */
    be_srv *s = start_with_origin();
    if (!s)
        return;
    hc_resp r = {0};
    CHECK_EQ_INT(be_request(s->port, "GET",
                            "/trailers?n=200000&t=X-Checksum:abc123&t=X-Multi:one&t=X-Multi:two",
                            "x-mode: trailers\r\n", NULL, 0, &r, true),
                 200);
    CHECK_STR_EQ(hc_header(&r, "x-tr-before"), "14"); /* again: the body was not read yet */
    CHECK_STR_EQ(hc_header(&r, "x-tr-bytes"), "200000");
    CHECK_STR_EQ(hc_header(&r, "x-tr-names-st"), "0");
    const char *names = hc_header(&r, "x-tr-names");
    CHECK(names != NULL);
    if (names) {
        CHECK_STR_CONTAINS(names, "x-checksum");
        CHECK_STR_CONTAINS(names, "x-multi");
    }
    CHECK_STR_EQ(hc_header(&r, "x-tr-value-x-checksum"), "abc123");
    CHECK_STR_EQ(hc_header(&r, "x-tr-value-x-multi"), "one");
    CHECK_STR_EQ(hc_header(&r, "x-tr-values-x-multi"), "one,two");
    CHECK_STR_EQ(hc_header(&r, "x-tr-missing"), "2"); /* inval, as for headers (Viceroy) */
    /* a response without trailers: the list is empty once the body was read */
    CHECK_EQ_INT(be_request(s->port, "GET", "/status/200?body=plain", "x-mode: trailers\r\n", NULL,
                            0, &r, true),
                 200);
    CHECK_STR_EQ(hc_header(&r, "x-tr-before"), "14");
    CHECK_STR_EQ(hc_header(&r, "x-tr-bytes"), "5");
    CHECK_STR_EQ(hc_header(&r, "x-tr-names-st"), "0");
    CHECK_STR_EQ(hc_header(&r, "x-tr-names"), "(none)");
    hc_resp_free(&r);
    be_srv_stop(s);
}

TEST(request_trailers_reach_the_origin)
{
    /* covers: fastly_http_body.trailer_append */
    be_srv *s = start_with_origin();
    if (!s)
        return;
    hc_resp r = {0};
    const char *modes[] = {"x-mode: trailers_up\r\n", "x-mode: trailers_up\r\nx-streaming: 1\r\n"};
    for (int m = 0; m < 2; m++) {
        CHECK_EQ_INT(be_request(s->port, "GET", "/", modes[m], NULL, 0, &r, true), 200);
        CHECK_STR_EQ(hc_header(&r, "x-echo-url"), "/echo/trailers-up");
        CHECK_STR_EQ(hc_header(&r, "x-echo-body-bytes"), "5");
        /* a body with trailers goes chunked, the trailers after it */
        CHECK_STR_EQ(hc_header(&r, "x-echo-h-transfer-encoding"), "chunked");
        CHECK_STR_EQ(hc_header(&r, "x-echo-trailers"), "2");
        CHECK_STR_EQ(hc_header(&r, "x-echo-t-x-up-a"), "1");
        CHECK_STR_EQ(hc_header(&r, "x-echo-t-x-up-b"), "2");
    }
    hc_resp_free(&r);
    be_srv_stop(s);
}

/* An HTTPS dynamic backend to the TLS origin (CA as the body) with extra x-dyn-* lines. */
static int sni_request(be_srv *s, const char *name, const char *extra, const char *ca,
                       size_t ca_len, hc_resp *r)
{
    return be_request(s->port, "POST", "/echo/sni",
                      be_fmt("x-mode: dynamic\r\nx-dyn-name: %s\r\nx-dyn-target: localhost:%u\r\n"
                             "x-dyn-tls: 1\r\nx-dyn-connect-timeout: 30000\r\n%s",
                             name, origin_port(tls_org), extra),
                      ca, ca_len, r, true);
}

TEST(empty_sni_hostname_sends_no_sni)
{
    be_srv *s = be_srv_start(GUEST, NULL);
    CHECK(s != NULL && tls_org != NULL);
    if (!s || !tls_org) {
        be_srv_stop(s);
        return;
    }
    char ca[8192];
    size_t ca_len = read_test_ca(ca, sizeof ca);
    hc_resp r = {0};
    char sni[256];
    /* by default the SNI is the target's host name */
    CHECK_EQ_INT(sni_request(s, "plain", "", ca, ca_len, &r), 200);
    CHECK(origin_last_sni(tls_org, sni, sizeof sni));
    CHECK_STR_EQ(sni, "localhost");
    /* an empty SNI hostname: no server name at all, the certificate is still checked against the
     * target's host (then the certificate hostname) and the Host header is unchanged */
    CHECK_EQ_INT(sni_request(s, "nosni", "x-dyn-no-sni: 1\r\n", ca, ca_len, &r), 200);
    CHECK_STR_EQ(hc_header(&r, "x-send-detail"), "1");
    CHECK(!origin_last_sni(tls_org, sni, sizeof sni));
    CHECK_STR_EQ(sni, "");
    CHECK_STR_EQ(hc_header(&r, "x-echo-h-host"), "fastlike.test");
    CHECK_EQ_INT(sni_request(s, "nosni2", "x-dyn-no-sni: 1\r\nx-dyn-cert-hostname: localhost\r\n",
                             ca, ca_len, &r),
                 200);
    CHECK(!origin_last_sni(tls_org, sni, sizeof sni));
    /* ... so a certificate hostname the certificate does not name fails, */
    CHECK_EQ_INT(sni_request(s, "nosni3",
                             "x-dyn-no-sni: 1\r\nx-dyn-cert-hostname: wrong.example\r\n", ca,
                             ca_len, &r),
                 503);
    CHECK_STR_EQ(hc_header(&r, "x-send-detail"), "11"); /* tls_certificate_error */
    /* and so does an untrusted certificate */
    CHECK_EQ_INT(sni_request(s, "nosni4", "x-dyn-no-sni: 1\r\n", NULL, 0, &r), 503);
    CHECK_STR_EQ(hc_header(&r, "x-send-detail"), "11");
    /* the IP address as target: no SNI either way, the certificate names 127.0.0.1 */
    CHECK_EQ_INT(be_request(s->port, "POST", "/echo/sni",
                            be_fmt("x-mode: dynamic\r\nx-dyn-name: byip\r\nx-dyn-target: "
                                   "127.0.0.1:%u\r\nx-dyn-tls: 1\r\nx-dyn-no-sni: 1\r\n"
                                   "x-dyn-connect-timeout: 30000\r\n",
                                   origin_port(tls_org)),
                            ca, ca_len, &r, true),
                 200);
    CHECK(!origin_last_sni(tls_org, sni, sizeof sni));
    /* an explicit SNI hostname is sent as given */
    CHECK_EQ_INT(sni_request(s, "named", "x-dyn-sni: localhost\r\n", ca, ca_len, &r), 200);
    CHECK(origin_last_sni(tls_org, sni, sizeof sni));
    CHECK_STR_EQ(sni, "localhost");
    hc_resp_free(&r);
    be_srv_stop(s);
}

/* An SNI hostname and a different certificate hostname: the SNI carries the one, the certificate
 * is checked against the other (docs/backends.md; production keeps them apart, Viceroy refuses the
 * combination as rustls cannot). */
TEST(sni_and_cert_hostname_apart)
{
    be_srv *s = be_srv_start(GUEST, NULL);
    CHECK(s != NULL && tls_org != NULL);
    if (!s || !tls_org) {
        be_srv_stop(s);
        return;
    }
    char ca[8192];
    size_t ca_len = read_test_ca(ca, sizeof ca);
    hc_resp r = {0};
    char sni[256];
    CHECK_EQ_INT(sni_request(s, "split",
                             "x-dyn-sni: sni.example\r\nx-dyn-cert-hostname: localhost\r\n", ca,
                             ca_len, &r),
                 200);
    CHECK_STR_EQ(hc_header(&r, "x-send-detail"), "1");
    CHECK(origin_last_sni(tls_org, sni, sizeof sni));
    CHECK_STR_EQ(sni, "sni.example");
    CHECK_STR_EQ(hc_header(&r, "x-echo-h-host"), "fastlike.test");
    /* the certificate must carry the certificate hostname, whatever the SNI */
    CHECK_EQ_INT(sni_request(s, "split2",
                             "x-dyn-sni: localhost\r\nx-dyn-cert-hostname: wrong.example\r\n", ca,
                             ca_len, &r),
                 503);
    CHECK_STR_EQ(hc_header(&r, "x-send-detail"), "11"); /* tls_certificate_error */
    /* the same name twice is the ordinary case */
    CHECK_EQ_INT(sni_request(s, "same",
                             "x-dyn-sni: localhost\r\nx-dyn-cert-hostname: localhost\r\n", ca,
                             ca_len, &r),
                 200);
    CHECK(origin_last_sni(tls_org, sni, sizeof sni));
    CHECK_STR_EQ(sni, "localhost");
    hc_resp_free(&r);
    be_srv_stop(s);
}

static void set_ca(fastlike_config *c, void *user)
{
    CHECK_EQ_INT(fastlike_config_set_backend_ca_file(c, "secure", user), FASTLIKE_OK);
    /* Fastly's 1 s connect timeout covers the TLS handshake, which a loaded machine running the
     * sanitizer build can exceed: the certificate checks must not turn into connect timeouts */
    CHECK_EQ_INT(fastlike_config_set_backend_timeouts(c, "secure", 30000, 30000, 30000),
                 FASTLIKE_OK);
    CHECK_EQ_INT(fastlike_config_set_backend_timeouts(c, "slow", 1000, 300, 1000), FASTLIKE_OK);
}

/* set_ca, plus the same generous connect timeout for the backend without the CA */
static void set_ca_untrusted(fastlike_config *c, void *user)
{
    set_ca(c, user);
    CHECK_EQ_INT(fastlike_config_set_backend_timeouts(c, "untrusted", 30000, 30000, 30000),
                 FASTLIKE_OK);
}

TEST(https_static_with_ca_file_and_static_timeouts)
{
    uint16_t tp = origin_port(tls_org);
    const char *be[] = {be_fmt("secure=https://localhost:%u", tp),
                        be_fmt("untrusted=https://localhost:%u", tp),
                        origin_spec("slow", org, NULL), NULL};
    be_srv *s = be_srv_start_with(GUEST, be, set_ca_untrusted, tls.ca);
    CHECK(s != NULL);
    if (!s)
        return;
    hc_resp r = {0};
    CHECK_EQ_INT(
        be_request(s->port, "GET", "/echo/static-tls", "x-backend: secure\r\n", NULL, 0, &r, true),
        200);
    CHECK_STR_EQ(hc_header(&r, "x-echo-url"), "/echo/static-tls");
    CHECK_STR_CONTAINS(hc_header(&r, "x-echo-h-cdn-loop"), "Fastlike");
    CHECK_EQ_INT(
        be_request(s->port, "GET", "/", "x-mode: info\r\nx-backend: secure\r\n", NULL, 0, &r, true),
        200);
    CHECK_STR_EQ(hc_header(&r, "x-be-ssl"), "1");
    CHECK_STR_EQ(hc_header(&r, "x-be-port"), be_fmt("%u", tp));
    /* the system store does not know the test CA: the send fails (error status) and send_v2's
     * detail names the cause */
    CHECK_EQ_INT(be_request(s->port, "GET", "/echo", "x-backend: untrusted\r\nx-mode: send_v2\r\n",
                            NULL, 0, &r, true),
                 503);
    CHECK_STR_EQ(hc_header(&r, "x-send-detail"), "11"); /* tls_certificate_error */
    /* a static first-byte timeout from the embedding API */
    CHECK_EQ_INT(
        be_request(s->port, "GET", "/", "x-mode: info\r\nx-backend: slow\r\n", NULL, 0, &r, true),
        200);
    CHECK_STR_EQ(hc_header(&r, "x-be-first-byte-timeout-st"), "0");
    CHECK_STR_EQ(hc_header(&r, "x-be-first-byte-timeout"), "300");
    uint64_t t0 = be_now_ms();
    CHECK_EQ_INT(be_request(s->port, "GET", "/slow?first=3000",
                            "x-backend: slow\r\nx-mode: send_v2\r\n", NULL, 0, &r, true),
                 503);
    CHECK_STR_EQ(hc_header(&r, "x-send-detail"), "16"); /* http_response_timeout */
    CHECK(be_now_ms() - t0 < 2500);
    hc_resp_free(&r);
    be_srv_stop(s);
}

static void seed42(fastlike_config *c, void *user)
{
    fastlike_config_set_unreliable_seed(c, 42);
}

TEST(unreliable_seed_is_deterministic)
{
    const char *be[] = {origin_spec("half", org, "@50"), NULL};
    char runs[2][64];
    for (int run = 0; run < 2; run++) {
        be_srv *s = be_srv_start_with(GUEST, be, seed42, NULL);
        CHECK(s != NULL);
        if (!s)
            return;
        for (int i = 0; i < 48; i++) {
            hc_resp r = {0};
            int st = be_request(s->port, "GET", "/status/200", "x-backend: half\r\n", NULL, 0, &r,
                                false);
            runs[run][i] = st == 200 ? '1' : st == 502 ? '0' : '?';
            hc_resp_free(&r);
        }
        runs[run][48] = '\0';
        be_srv_stop(s);
    }
    CHECK_STR_EQ(runs[0], runs[1]);
    CHECK(strchr(runs[0], '0') && strchr(runs[0], '1') && !strchr(runs[0], '?'));
}

/* Reads exactly `want` body bytes, checking them against the pattern at offset *got. */
static bool consume(hc_conn *c, uint64_t want, uint64_t *got, uint64_t *bad)
{
    while (want > 0) {
        long avail = hc_fill(c);
        if (avail <= 0)
            return false;
        size_t take = (uint64_t)avail < want ? (size_t)avail : (size_t)want;
        *bad += be_pattern_mismatches(*got, (const uint8_t *)c->buf + c->off, take);
        c->off += take;
        *got += take;
        want -= take;
    }
    return true;
}

/* The big response: pattern-checked while it streams, memory watched on the side. */
TEST(big_response_bounded_memory)
{
    long mib = BIG_DEFAULT_MIB;
    const char *env = getenv("FASTLIKE_TEST_BIG_MIB");
    if (env && *env)
        mib = strtol(env, NULL, 10);
    if (mib <= 0)
        return;
    be_srv *s = start_with_origin();
    if (!s)
        return;
    bool reset = be_reset_hwm();
    long before = be_proc_kib(reset ? "VmHWM" : "VmRSS");
    uint64_t n = (uint64_t)mib * MIB;
    hc_conn c;
    CHECK(hc_connect(&c, s->port) == 0);
    hc_sends(&c, be_fmt("GET /big?n=%" PRIu64 " HTTP/1.1\r\nHost: t\r\n\r\n", n));
    /* read the head, then check the body as it arrives without keeping it */
    hc_resp r = {0};
    uint64_t t0 = be_now_ms();
    char line[4096];
    int status = 0;
    CHECK(hc_line(&c, line, sizeof line) > 0 && sscanf(line, "HTTP/1.%*d %d", &status) == 1);
    CHECK_EQ_INT(status, 200);
    bool chunked = false;
    long long length = -1;
    while (hc_line(&c, line, sizeof line) > 0) {
        if (strncasecmp(line, "transfer-encoding: chunked", 26) == 0)
            chunked = true;
        if (strncasecmp(line, "content-length:", 15) == 0)
            length = strtoll(line + 15, NULL, 10);
    }
    uint64_t got = 0, bad = 0;
    if (chunked) {
        for (;;) {
            if (hc_line(&c, line, sizeof line) < 0)
                break;
            uint64_t size = strtoull(line, NULL, 16);
            if (size == 0 || !consume(&c, size, &got, &bad) || hc_line(&c, line, sizeof line) != 0)
                break;
        }
    } else {
        CHECK(length >= 0);
        if (length >= 0)
            consume(&c, (uint64_t)length, &got, &bad);
    }
    hc_close(&c);
    uint64_t took = be_now_ms() - t0;
    long after = be_proc_kib("VmHWM");
    CHECK_EQ_U64(got, n);
    CHECK_EQ_U64(bad, 0);
    long grew_mib = (after - before) / 1024;
    fprintf(stderr, "  big response: %ld MiB in %" PRIu64 " ms, peak RSS +%ld MiB%s\n", mib, took,
            grew_mib, reset ? "" : " (VmHWM not resettable: vs RSS before)");
#if defined(__SANITIZE_ADDRESS__)
    CHECK(grew_mib < 400); /* ASan's quarantine keeps freed buffers */
#else
    CHECK(grew_mib < 100);
#endif
    hc_resp_free(&r);
    be_srv_stop(s);
}

static void bind_to(fastlike_config *c, void *user)
{
    char err[256];
    fastlike_config_set_bind(c, user, err, sizeof err);
}

TEST(loop_across_two_instances_508)
{
    /* A's catch-all backend is B and B's is A; each pass appends its cdn-loop entry, so once the
     * request has passed through Fastlike five times the next pass answers 508, which every guest
     * on the way passes back. B listens on a port picked before A starts. */
    be_srv *a = NULL, *b = NULL;
    for (int attempt = 0; attempt < 5 && !b; attempt++) {
        be_srv_stop(a);
        uint16_t b_port = origin_closed_port();
        const char *be_a[] = {be_fmt("127.0.0.1:%u", b_port), NULL};
        a = be_srv_start(GUEST, be_a);
        if (!a)
            break;
        const char *be_b[] = {be_fmt("127.0.0.1:%u", a->port), NULL};
        char bind[64];
        snprintf(bind, sizeof bind, "127.0.0.1:%u", b_port);
        b = be_srv_start_with(GUEST, be_b, bind_to, bind);
    }
    CHECK(a != NULL && b != NULL);
    if (a && b) {
        hc_resp r = {0};
        uint64_t t0 = be_now_ms();
        CHECK_EQ_INT(be_request(a->port, "GET", "/echo/loop", NULL, NULL, 0, &r, true), 508);
        CHECK_STR_CONTAINS((char *)r.body, "Loop detected");
        CHECK_EQ_INT(be_request(b->port, "GET", "/echo/loop", NULL, NULL, 0, &r, true), 508);
        CHECK(be_now_ms() - t0 < 5000);
        hc_resp_free(&r);
    }
    be_srv_stop(b);
    be_srv_stop(a);
}

/* An HTTP/2 origin: nghttpd (Debian nghttp2-server) serving a directory over TLS. Returns its
 * pid (port in *port), or -1. */
static pid_t start_nghttpd(const char *docroot, uint16_t *port)
{
    /* a port that was free a moment ago */
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof sa;
    if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof sa) != 0 ||
        getsockname(fd, (struct sockaddr *)&sa, &len) != 0) {
        if (fd >= 0)
            close(fd);
        return -1;
    }
    *port = ntohs(sa.sin_port);
    close(fd);
    char portstr[16], htdocs[512];
    snprintf(portstr, sizeof portstr, "%u", *port);
    snprintf(htdocs, sizeof htdocs, "--htdocs=%s", docroot);
    pid_t pid = fork();
    if (pid == 0) {
        /* nghttpd lives in sbin, which a non-root PATH may lack */
        const char *path = getenv("PATH");
        char newpath[4096];
        snprintf(newpath, sizeof newpath, "%s:/usr/sbin:/sbin", path ? path : "/usr/bin:/bin");
        setenv("PATH", newpath, 1);
        int devnull = open("/dev/null", O_WRONLY);
        if (devnull >= 0) {
            dup2(devnull, 1);
            dup2(devnull, 2);
        }
        execlp("nghttpd", "nghttpd", "--address=127.0.0.1", htdocs, portstr, tls.key, tls.cert,
               (char *)NULL);
        _exit(127);
    }
    /* wait until it accepts connections */
    for (int i = 0; pid > 0 && i < 100; i++) {
        hc_conn c;
        if (hc_connect(&c, *port) == 0) {
            hc_close(&c);
            return pid;
        }
        int status;
        if (waitpid(pid, &status, WNOHANG) == pid)
            return -1; /* it exited: not installed, or the port was taken */
        usleep(50 * 1000);
    }
    return pid;
}

TEST(http2_by_alpn)
{
    /* covers: fastly_http_resp.version_get */
    char docroot[300];
    snprintf(docroot, sizeof docroot, "%s/h2-docroot", tls_dir);
    mkdir(docroot, 0755);
    char file[400];
    snprintf(file, sizeof file, "%s/hello.txt", docroot);
    FILE *f = fopen(file, "w");
    CHECK(f != NULL);
    if (!f)
        return;
    fputs("hello over h2\n", f);
    fclose(f);
    uint16_t port = 0;
    pid_t pid = start_nghttpd(docroot, &port);
    CHECK(pid > 0); /* nghttpd comes with nghttp2-server (scripts/deps.sh) */
    if (pid <= 0)
        return;
    const char *be[] = {be_fmt("secure=https://localhost:%u", port),
                        be_fmt("plain=127.0.0.1:%u", origin_port(org)),
                        origin_spec("slow", org, NULL), NULL};
    be_srv *s = be_srv_start_with(GUEST, be, set_ca, tls.ca);
    CHECK(s != NULL);
    if (s) {
        hc_resp r = {0};
        CHECK_EQ_INT(
            be_request(s->port, "GET", "/hello.txt", "x-backend: secure\r\n", NULL, 0, &r, true),
            200);
        CHECK_STR_EQ((char *)r.body, "hello over h2\n");
        CHECK_STR_EQ(hc_header(&r, "x-be-version"), "3"); /* HTTP/2, negotiated by ALPN */
        /* the HTTP/1.1-only origin stays on HTTP/1.1 */
        CHECK_EQ_INT(
            be_request(s->port, "GET", "/echo/v", "x-backend: plain\r\n", NULL, 0, &r, true), 200);
        CHECK_STR_EQ(hc_header(&r, "x-be-version"), "2");
        hc_resp_free(&r);
        be_srv_stop(s);
    }
    kill(pid, SIGTERM);
    waitpid(pid, NULL, 0);
}

/* A pending request to a dynamic backend that fails, picked by pending_req_select: as Viceroy
 * (req_impl.rs) and as the SDKs expect, the call succeeds with the index of the failed request
 * and invalid response/body handles (the Rust SDK panics on an error status from select), for
 * v1 as for v2 (which also names the cause); the other request is still there to select. */
TEST(select_failed_dynamic_request)
{
    be_srv *s = start_with_origin();
    if (!s)
        return;
    uint16_t closed = origin_closed_port();
    for (int v2 = 0; v2 < 2; v2++) {
        hc_resp r = {0};
        const char *hdrs =
            be_fmt("x-mode: select_fail\r\nx-dyn-target: 127.0.0.1:%u\r\nx-v2: %d\r\n", closed, v2);
        CHECK_EQ_INT(be_request(s->port, "GET", "/", hdrs, NULL, 0, &r, true), 200);
        CHECK_STR_EQ(r.body ? (char *)r.body : "", v2 ? "0 0 invalid invalid 7\n0 0 ok ok 1\n"
                                                      : "0 0 invalid invalid 0\n0 0 ok ok 0\n");
        hc_resp_free(&r);
    }
    be_srv_stop(s);
}

typedef struct slow_job {
    uint16_t port;
    int index;
    int status;
    atomic_bool done;
} slow_job;

static void *slow_request(void *arg)
{
    slow_job *j = arg;
    hc_resp r = {0};
    /* each its own URL: requests for one URL would rightly collapse into one origin request */
    j->status = be_request(j->port, "GET", be_fmt("/slow?first=120000&n=1&i=%d", j->index), NULL,
                           NULL, 0, &r, false);
    hc_resp_free(&r);
    atomic_store(&j->done, true);
    return NULL;
}

TEST(waiting_guests_do_not_delay_ready_requests)
{
    /* issue 15: guests waiting on a slow backend must not hold up requests that can run. 32
     * requests wait at an origin that answers only when stopped; meanwhile others complete. */
    origin *slow = origin_start(NULL, NULL);
    CHECK(slow != NULL);
    if (!slow)
        return;
    const char *be[] = {origin_spec("origin", slow, NULL), NULL};
    be_srv *s = be_srv_start(GUEST, be);
    CHECK(s != NULL);
    if (!s) {
        origin_stop(slow);
        return;
    }
    enum { N = 32 };
    slow_job jobs[N];
    pthread_t t[N];
    for (int i = 0; i < N; i++) {
        jobs[i] = (slow_job){.port = s->port, .index = i};
        atomic_init(&jobs[i].done, false);
        CHECK_EQ_INT(pthread_create(&t[i], NULL, slow_request, &jobs[i]), 0);
    }
    for (int i = 0; i < 6000 && origin_requests(slow) < N; i++) {
        struct timespec ts = {0, 10 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    CHECK_EQ_U64(origin_requests(slow), N); /* every guest is now waiting on the origin */
    for (int i = 0; i < 8; i++) {
        hc_resp r = {0};
        CHECK_EQ_INT(be_request(s->port, "GET", "/status/204", NULL, NULL, 0, &r, false), 204);
        hc_resp_free(&r);
    }
    int done = 0;
    for (int i = 0; i < N; i++)
        done += atomic_load(&jobs[i].done);
    CHECK_EQ_INT(done, 0); /* the quick ones did not wait for the slow ones */
    origin_stop(slow);     /* cuts the slow responses short */
    for (int i = 0; i < N; i++)
        pthread_join(t[i], NULL);
    be_srv_stop(s);
}

int main(int argc, char **argv)
{
    (void)argc;
    org = origin_start(NULL, NULL);
    snprintf(tls_dir, sizeof tls_dir, "build/test-tls/backend-%ld", (long)getpid());
    if (origin_make_tls(tls_dir, &tls) == 0)
        tls_org = origin_start(tls.cert, tls.key);
    if (!org) {
        printf("%s: 0 passed, 1 failed\n", argv[0]);
        return 1;
    }
    RUN(big_response_bounded_memory); /* first: the memory high-water mark is per process */
    RUN(pass_through_status_headers_body);
    RUN(send_v2_detail_ok_and_copy_loop);
    RUN(connection_reuse);
    RUN(concurrent_send_async_select);
    RUN(streaming_uploads);
    RUN(timeouts);
    RUN(unreliable_and_health);
    RUN(refused_is_an_error_unreliable_is_502);
    RUN(send_downstream_pending_with_header_edits);
    RUN(https_dynamic_with_generated_ca);
    RUN(response_trailers_reach_the_guest);
    RUN(http2_by_alpn);
    RUN(request_trailers_reach_the_origin);
    RUN(empty_sni_hostname_sends_no_sni);
    RUN(sni_and_cert_hostname_apart);
    RUN(https_static_with_ca_file_and_static_timeouts);
    RUN(unreliable_seed_is_deterministic);
    RUN(loop_across_two_instances_508);
    RUN(select_failed_dynamic_request);
    RUN(waiting_guests_do_not_delay_ready_requests);
    origin_stop(tls_org);
    origin_stop(org);
    char cmd[512];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tls_dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", tls_dir);
    return harness_finish(argv[0]);
}
