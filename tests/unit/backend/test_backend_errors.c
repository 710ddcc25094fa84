/* test_backend_errors.c: backend failures seen by a JS SDK guest (tests/guests/js/be_errors.js)
 * as production shows them: a refused connection, a first-byte timeout, a TLS certificate failure,
 * a name that does not resolve and a connection closed without an answer each make the guest's
 * fetch reject (its own catch runs and answers 599 with the error), the log naming the
 * send_error_detail; the @N simulation still answers its synthetic 502 (fetch resolves). Loop
 * detection: a service calling itself through Fastlike answers 200, a request that keeps calling
 * itself ends in 508 once the bound is passed. Backend properties nobody set read as null, and
 * every cipher list Fastly supports is accepted by a dynamic backend. */
#include "be_server.h"
#include "harness.h"
#include "origin.h"

#include <sys/stat.h>

#define GUEST "build/guests/js/be_errors.wasm"

static origin *org, *tls_org;
static be_srv *srv;
static origin_tls_files tls;

static int get(const char *target, const char *headers, hc_resp *r)
{
    return be_request(srv->port, "GET", target, headers, NULL, 0, r, true);
}

TEST(refused_rejects_fetch)
{
    hc_resp r = {0};
    CHECK_EQ_INT(get("/fetch", "x-backend: refused\r\nx-url: http://origin.test/\r\n", &r), 599);
    CHECK_STR_CONTAINS((char *)r.body, "rejected: ");
    CHECK_STR_CONTAINS((char *)r.body, "onnection refused");
    CHECK(be_srv_log_has(srv, "failed: connection_refused"));
    hc_resp_free(&r);
}

TEST(first_byte_timeout_rejects_fetch)
{
    hc_resp r = {0};
    CHECK_EQ_INT(
        get("/fetch", "x-backend: slow\r\nx-url: http://origin.test/slow?first=3000\r\n", &r), 599);
    CHECK_STR_CONTAINS((char *)r.body, "rejected: ");
    CHECK(be_srv_log_has(srv, "failed: http_response_timeout"));
    hc_resp_free(&r);
}

TEST(tls_failure_rejects_fetch)
{
    hc_resp r = {0};
    /* a configured backend whose certificate no trusted CA signed */
    CHECK_EQ_INT(get("/fetch", "x-backend: untrusted\r\nx-url: https://localhost/\r\n", &r), 599);
    CHECK_STR_CONTAINS((char *)r.body, "rejected: ");
    CHECK_STR_CONTAINS((char *)r.body, "TLS certificate error");
    CHECK(be_srv_log_has(srv, "failed: tls_certificate_error"));
    hc_resp_free(&r);
    /* the same through a dynamic backend */
    CHECK_EQ_INT(get("/dyn",
                     be_fmt("x-dyn-target: localhost:%u\r\nx-tls: 1\r\nx-url: "
                            "https://localhost/\r\n",
                            origin_port(tls_org)),
                     &r),
                 599);
    CHECK_STR_CONTAINS((char *)r.body, "TLS certificate error");
    hc_resp_free(&r);
}

TEST(reset_rejects_fetch)
{
    /* the origin closes the connection without answering */
    hc_resp r = {0};
    CHECK_EQ_INT(get("/fetch", "x-backend: origin\r\nx-url: http://origin.test/drop\r\n", &r), 599);
    CHECK_STR_CONTAINS((char *)r.body, "rejected: ");
    CHECK(be_srv_log_has(srv, "failed: connection_terminated"));
    hc_resp_free(&r);
}

TEST(dns_failure_rejects_fetch)
{
    /* .invalid never resolves (RFC 6761) */
    hc_resp r = {0};
    CHECK_EQ_INT(get("/fetch", "x-backend: nodns\r\nx-url: http://no-such-host.invalid/\r\n", &r),
                 599);
    CHECK_STR_CONTAINS((char *)r.body, "rejected: ");
    CHECK_STR_CONTAINS((char *)r.body, "DNS error");
    CHECK(be_srv_log_has(srv, "failed: dns_error"));
    hc_resp_free(&r);
}

TEST(verbose_request_logs_its_transfers)
{
    /* the server runs at -v 1: a transfer's final line (level 2) only for the request that asks */
    hc_resp r = {0};
    CHECK_EQ_INT(get("/fetch", "x-backend: origin\r\nx-url: http://origin.test/echo/quiet\r\n", &r),
                 200);
    hc_resp_free(&r);
    CHECK_EQ_INT(get("/fetch",
                     "x-backend: origin\r\nx-url: http://origin.test/echo/loud\r\n"
                     "fastlike-verbose: 1\r\n",
                     &r),
                 200);
    hc_resp_free(&r);
    CHECK(be_srv_log_has(srv, "/echo/loud -> 200 done ("));
    CHECK(!log_has(&srv->log, "/echo/quiet -> 200 done ("));
}

TEST(simulated_failure_is_still_502)
{
    hc_resp r = {0};
    CHECK_EQ_INT(get("/fetch", "x-backend: down\r\nx-url: http://origin.test/\r\n", &r), 200);
    CHECK_STR_EQ((char *)r.body, "ok 502\n");
    /* and a working backend still works */
    CHECK_EQ_INT(get("/fetch", "x-backend: origin\r\nx-url: http://origin.test/echo\r\n", &r), 200);
    CHECK_STR_EQ((char *)r.body, "ok 200\n");
    hc_resp_free(&r);
}

TEST(self_call_allowed_loop_is_508)
{
    hc_resp r = {0};
    const char *self = be_fmt("x-self: 127.0.0.1:%u\r\n", srv->port);
    CHECK_EQ_INT(get("/self", self, &r), 200);
    CHECK_STR_EQ((char *)r.body, "self 200 leaf");
    hc_resp_free(&r);
    /* every pass calls itself again: the pass after the fifth is refused, and the 508 travels
     * back through the callers */
    CHECK_EQ_INT(get("/loop", self, &r), 508);
    CHECK_STR_CONTAINS((char *)r.body, "Loop detected");
    CHECK_STR_CONTAINS((char *)r.body, "5 times");
    hc_resp_free(&r);
}

TEST(unset_properties_are_null)
{
    /* covers: fastly_backend.get_connect_timeout_ms */
    /* covers: fastly_backend.get_ssl_min_version */
    hc_resp r = {0};
    CHECK_EQ_INT(get("/props", "x-backend: origin\r\n", &r), 200);
    CHECK_STR_EQ((char *)r.body, "{\"connectTimeout\":null,\"firstByteTimeout\":null,"
                                 "\"betweenBytesTimeout\":null,\"tlsMinVersion\":null,"
                                 "\"tlsMaxVersion\":null,\"isSSL\":false}");
    hc_resp_free(&r);
    /* set through the embedding API: the values */
    CHECK_EQ_INT(get("/props", "x-backend: slow\r\n", &r), 200);
    CHECK_STR_CONTAINS((char *)r.body, "\"connectTimeout\":1000,\"firstByteTimeout\":300,"
                                       "\"betweenBytesTimeout\":10000");
    hc_resp_free(&r);
}

/* The test CA as base64 (the guest decodes it with atob). */
static char *ca_b64(void)
{
    FILE *f = fopen(tls.ca, "rb");
    if (!f)
        return NULL;
    static unsigned char pem[16384];
    size_t n = fread(pem, 1, sizeof pem, f);
    fclose(f);
    static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    char *out = malloc(n / 3 * 4 + 8);
    if (!out)
        return NULL;
    size_t o = 0;
    for (size_t i = 0; i < n; i += 3) {
        unsigned v = (unsigned)pem[i] << 16 | (i + 1 < n ? (unsigned)pem[i + 1] << 8 : 0) |
                     (i + 2 < n ? pem[i + 2] : 0);
        out[o++] = tab[v >> 18 & 63];
        out[o++] = tab[v >> 12 & 63];
        out[o++] = i + 1 < n ? tab[v >> 6 & 63] : '=';
        out[o++] = i + 2 < n ? tab[v & 63] : '=';
    }
    out[o] = '\0';
    return out;
}

TEST(fastly_cipher_lists_accepted)
{
    /* covers: fastly_http_req.register_dynamic_backend */
    char *ca = ca_b64();
    CHECK(ca != NULL);
    if (!ca)
        return;
    /* Fastly's supported ciphers (as the JS SDK lists them), including 3DES, which OpenSSL 3
     * no longer offers: such a list falls back to OpenSSL's defaults instead of failing */
    const char *lists[] = {
        "DES-CBC3-SHA", "ECDHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-AES256-GCM-SHA384",
        "ECDHE-RSA-CHACHA20-POLY1305", "AES128-SHA:AES256-SHA:AES128-GCM-SHA256:DES-CBC3-SHA",
        "ECDHE-RSA-AES128-SHA:ECDHE-RSA-AES256-SHA:ECDHE-RSA-AES128-SHA256:"
        "ECDHE-RSA-AES256-SHA384"};
    for (size_t i = 0; i < sizeof lists / sizeof lists[0]; i++) {
        hc_resp r = {0};
        char *hdr = malloc(strlen(ca) + 256);
        if (!hdr)
            break;
        snprintf(hdr, strlen(ca) + 256,
                 "x-dyn-target: localhost:%u\r\nx-ciphers: %s\r\nx-ca: %s\r\n",
                 origin_port(tls_org), lists[i], ca);
        int st = get("/cipher", hdr, &r);
        CHECK_EQ_INT(st, 200);
        if (st != 200)
            fprintf(stderr, "  ciphers '%s': %d %s\n", lists[i], st, r.body ? (char *)r.body : "");
        else
            CHECK_STR_EQ((char *)r.body, "ok 200\n");
        free(hdr);
        hc_resp_free(&r);
    }
    CHECK(be_srv_log_has(srv, "cipher list 'DES-CBC3-SHA' has no cipher"));
    free(ca);
}

static void configure(fastlike_config *c, void *user)
{
    (void)user;
    fastlike_config_set_backend_timeouts(c, "slow", 1000, 300, 10000);
}

int main(int argc, char **argv)
{
    (void)argc;
    char dir[256];
    snprintf(dir, sizeof dir, "%s/fastlike-be-errors-%d",
             getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp", (int)getpid());
    org = origin_start(NULL, NULL);
    tls_org = origin_make_tls(dir, &tls) == 0 ? origin_start(tls.cert, tls.key) : NULL;
    uint16_t closed = origin_closed_port();
    const char *be[] = {org ? be_fmt("origin=127.0.0.1:%u", origin_port(org)) : NULL,
                        be_fmt("refused=127.0.0.1:%u", closed),
                        org ? be_fmt("slow=127.0.0.1:%u", origin_port(org)) : NULL,
                        org ? be_fmt("down=127.0.0.1:%u@0", origin_port(org)) : NULL,
                        tls_org ? be_fmt("untrusted=https://localhost:%u", origin_port(tls_org))
                                : NULL,
                        "nodns=http://no-such-host.invalid",
                        NULL};
    srv = org && tls_org ? be_srv_start_with(GUEST, be, configure, NULL) : NULL;
    if (!srv) {
        printf("%s: 0 passed, 1 failed\n", argv[0]);
        return 1;
    }
    RUN(refused_rejects_fetch);
    RUN(first_byte_timeout_rejects_fetch);
    RUN(tls_failure_rejects_fetch);
    RUN(reset_rejects_fetch);
    RUN(dns_failure_rejects_fetch);
    RUN(verbose_request_logs_its_transfers);
    RUN(simulated_failure_is_still_502);
    RUN(self_call_allowed_loop_is_508);
    RUN(unset_properties_are_null);
    RUN(fastly_cipher_lists_accepted);
    be_srv_stop(srv);
    origin_stop(org);
    origin_stop(tls_org);
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
    return harness_finish(argv[0]);
}
