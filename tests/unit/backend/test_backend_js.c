/* test_backend_js.c: backends end to end with the be_js JS SDK guest (@fastly/js-compute): fetch
 * with {backend: "origin"} passing status, headers and bodies through (and a streamed 32 MiB
 * body re-wrapped in a new Response), dynamic backends (new Backend({...}), plain and HTTPS with
 * the generated CA), Backend health in three states (@0 answering the synthetic 502), and a refused
 * connection (the same synthetic 502). */
#include "be_server.h"
#include "harness.h"
#include "origin.h"

#include "be_pattern.h"

#include <inttypes.h>
#include <unistd.h>

#define GUEST "build/guests/js/be_js.wasm"
#define MIB (1024 * 1024)
/* the re-wrapped stream runs through the JS runtime, slow under ASan */
#if defined(__SANITIZE_ADDRESS__)
#define COPY_MIB 4
#else
#define COPY_MIB 32
#endif

static origin *org, *tls_org;
static origin_tls_files tls;
static char tls_dir[256];

TEST(fetch_pass_through)
{
    const char *be[] = {be_fmt("origin=127.0.0.1:%u", origin_port(org)), NULL};
    be_srv *s = be_srv_start(GUEST, be);
    CHECK(s != NULL);
    if (!s)
        return;
    hc_resp r = {0};
    CHECK_EQ_INT(be_request(s->port, "GET", "/fetch/status/201?h=X-A:%20one&body=created", NULL,
                            NULL, 0, &r, true),
                 201);
    CHECK_STR_EQ(hc_header(&r, "x-a"), "one");
    CHECK_STR_EQ((char *)r.body, "created");
    size_t n = 1000003;
    uint8_t *body = malloc(n);
    be_pattern_fill(0, body, n);
    CHECK_EQ_INT(
        be_request(s->port, "POST", "/fetch/echo?x=1", "X-Custom: js\r\n", body, n, &r, true), 200);
    CHECK_STR_EQ(hc_header(&r, "x-echo-method"), "POST");
    CHECK_STR_EQ(hc_header(&r, "x-echo-url"), "/echo?x=1");
    CHECK_STR_EQ(hc_header(&r, "x-echo-h-x-custom"), "js");
    CHECK_STR_EQ(hc_header(&r, "x-echo-body-bytes"), "1000003");
    CHECK_STR_EQ(hc_header(&r, "x-echo-body-fnv"), be_fmt("%016" PRIx64, be_pattern_fnv(n)));
    CHECK_STR_CONTAINS(hc_header(&r, "x-echo-h-cdn-loop"), "Fastlike");
    free(body);
    /* 32 MiB (4 under ASan) streamed through a new Response(resp.body) */
    CHECK_EQ_INT(be_request(s->port, "GET", be_fmt("/copy/big?n=%d", COPY_MIB * MIB + 3), NULL,
                            NULL, 0, &r, true),
                 200);
    CHECK_STR_EQ(hc_header(&r, "x-copied"), "yes");
    CHECK_EQ_U64(r.body_len, COPY_MIB * MIB + 3);
    CHECK_EQ_U64(be_pattern_mismatches(0, r.body, r.body_len), 0);
    hc_resp_free(&r);
    be_srv_stop(s);
}

TEST(dynamic_backends)
{
    be_srv *s = be_srv_start(GUEST, NULL);
    CHECK(s != NULL);
    if (!s)
        return;
    hc_resp r = {0};
    CHECK_EQ_INT(be_request(s->port, "GET", "/dynamic/echo",
                            be_fmt("x-dyn-name: dyn1\r\nx-dyn-target: 127.0.0.1:%u\r\n"
                                   "x-dyn-host-override: dyn.test\r\n",
                                   origin_port(org)),
                            NULL, 0, &r, true),
                 200);
    CHECK_STR_EQ(hc_header(&r, "x-echo-h-x-from"), "js-dynamic");
    CHECK_STR_EQ(hc_header(&r, "x-echo-h-host"), "dyn.test");
    CHECK_STR_EQ(hc_header(&r, "x-be-name"), "dyn1");
    CHECK_STR_EQ(hc_header(&r, "x-be-dynamic"), "true");
    CHECK_STR_EQ(hc_header(&r, "x-be-ssl"), "false");
    if (tls_org) {
        FILE *f = fopen(tls.ca, "rb");
        char ca[8192];
        size_t ca_len = f ? fread(ca, 1, sizeof ca, f) : 0;
        if (f)
            fclose(f);
        CHECK_EQ_INT(be_request(s->port, "POST", "/dynamic/echo/tls",
                                be_fmt("x-dyn-name: dyn2\r\nx-dyn-target: localhost:%u\r\n"
                                       "x-dyn-tls: 1\r\nx-dyn-cert-hostname: localhost\r\n",
                                       origin_port(tls_org)),
                                ca, ca_len, &r, true),
                     200);
        CHECK_STR_EQ(hc_header(&r, "x-be-ssl"), "true");
        CHECK_STR_EQ(hc_header(&r, "x-echo-url"), "/echo/tls");
    }
    hc_resp_free(&r);
    be_srv_stop(s);
}

TEST(health_three_states)
{
    uint16_t p = origin_port(org);
    const char *be[] = {be_fmt("plain=127.0.0.1:%u", p), be_fmt("down=127.0.0.1:%u@0", p),
                        be_fmt("up=127.0.0.1:%u@100", p), NULL};
    be_srv *s = be_srv_start(GUEST, be);
    CHECK(s != NULL);
    if (!s)
        return;
    hc_resp r = {0};
    const char *names[] = {"plain", "down", "up"};
    const char *want[] = {"unknown\n", "unhealthy\n", "healthy\n"};
    for (int i = 0; i < 3; i++) {
        CHECK_EQ_INT(
            be_request(s->port, "GET", be_fmt("/health/%s", names[i]), NULL, NULL, 0, &r, true),
            200);
        CHECK_STR_EQ((char *)r.body, want[i]);
    }
    /* @0 answers the synthetic 502 */
    CHECK_EQ_INT(
        be_request(s->port, "GET", "/fetch/echo", "x-backend: down\r\n", NULL, 0, &r, true), 502);
    hc_resp_free(&r);
    be_srv_stop(s);
}

TEST(refused)
{
    /* a configured backend that cannot be reached fails the send with connection_refused, as
     * production: the guest's fetch rejects (its catch answers 599 with the error) */
    const char *be[] = {be_fmt("refused=127.0.0.1:%u", origin_closed_port()), NULL};
    be_srv *s = be_srv_start(GUEST, be);
    CHECK(s != NULL);
    if (!s)
        return;
    hc_resp r = {0};
    CHECK_EQ_INT(
        be_request(s->port, "GET", "/fetch/echo", "x-backend: refused\r\n", NULL, 0, &r, true),
        599);
    CHECK_STR_CONTAINS((char *)r.body, "Connection refused");
    CHECK(be_srv_log_has(s, "connection_refused"));
    hc_resp_free(&r);
    be_srv_stop(s);
}

int main(int argc, char **argv)
{
    (void)argc;
    org = origin_start(NULL, NULL);
    snprintf(tls_dir, sizeof tls_dir, "build/test-tls/backend-js-%ld", (long)getpid());
    if (origin_make_tls(tls_dir, &tls) == 0)
        tls_org = origin_start(tls.cert, tls.key);
    if (!org) {
        printf("%s: 0 passed, 1 failed\n", argv[0]);
        return 1;
    }
    RUN(fetch_pass_through);
    RUN(dynamic_backends);
    RUN(health_three_states);
    RUN(refused);
    origin_stop(tls_org);
    origin_stop(org);
    char cmd[512];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tls_dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", tls_dir);
    return harness_finish(argv[0]);
}
