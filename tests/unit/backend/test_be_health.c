/* test_be_health.c: health checks of dynamic backends end to end (src/backend/be_health.c,
 * register_dynamic_backend's healthcheck option, fastly_backend.is_healthy) with the be_health C
 * guest against the test origin's /hc path (200 for the first K probes, then 500): the verdict
 * flips with the probes, `initial` passes count as the newest results, probes carry the
 * configured method and Host, they stop with the request, and nonsense configs are inval. */
#include "be_server.h"
#include "harness.h"
#include "origin.h"

#include <inttypes.h>
#include <unistd.h>

#define GUEST "build/guests/be_health.wasm"

static origin *org;

/* Parses the guest's "MS HEALTH" lines into up to 8 pairs; returns how many. */
static int readings(const hc_resp *r, long ms[8], int health[8])
{
    int n = 0;
    const char *p = r->body ? (const char *)r->body : "";
    while (n < 8 && *p) {
        char *end;
        ms[n] = strtol(p, &end, 10);
        if (end == p)
            break;
        health[n] = (int)strtol(end, &end, 10);
        n++;
        p = strchr(end, '\n');
        if (!p)
            break;
        p++;
    }
    return n;
}

TEST(probes_flip_health)
{
    /* covers: fastly_backend.is_healthy, fastly_http_req.register_dynamic_backend */
    be_srv *s = be_srv_start(GUEST, NULL);
    CHECK(s != NULL);
    if (!s)
        return;
    origin_reset_counts(org);
    /* window 1, threshold 1, initial 0: unhealthy until the first probe (at 1 s) passes; the
     * origin passes one probe, so the second (at 2 s) makes it unhealthy again */
    hc_resp r = {0};
    CHECK_EQ_INT(be_request(s->port, "GET", "/",
                            be_fmt("x-mode: watch\r\nx-target: 127.0.0.1:%u\r\n"
                                   "x-hc-path: /hc?ok=1\r\nx-changes: 2\r\nx-watch-ms: 4000\r\n",
                                   origin_port(org)),
                            NULL, 0, &r, true),
                 200);
    CHECK_STR_EQ(hc_header(&r, "x-register"), "0");
    long ms[8];
    int h[8];
    int n = readings(&r, ms, h);
    CHECK_EQ_INT(n, 3);
    if (n == 3) {
        CHECK_EQ_INT(h[0], 2); /* unhealthy */
        CHECK_EQ_INT(h[1], 1); /* healthy after the first probe */
        CHECK_EQ_INT(h[2], 2); /* unhealthy after the second */
        /* never early; how late a probe may come on a loaded machine is left to the 4 s watch
         * (probes 2 s apart would put the second one past it: n would be 2) */
        CHECK(ms[1] >= 900 && ms[1] < ms[2]);
        CHECK(ms[2] >= 1900);
    } else {
        fprintf(stderr, "  readings: %s\n", r.body ? (char *)r.body : "(none)");
    }
    /* the probes went to the health check's path with its Host and method */
    char v[128];
    CHECK(origin_last_header(org, "host", v, sizeof v));
    CHECK_STR_EQ(v, "probe.test");
    CHECK(origin_last_method(org, v, sizeof v));
    CHECK_STR_EQ(v, "GET");
    /* the backend went with the request: no more probes */
    uint64_t probes = origin_hc_requests(org);
    CHECK(probes >= 2 && probes <= 3);
    usleep(1600 * 1000);
    CHECK_EQ_U64(origin_hc_requests(org), probes);
    hc_resp_free(&r);
    be_srv_stop(s);
}

TEST(initial_passes_are_the_newest_results)
{
    be_srv *s = be_srv_start(GUEST, NULL);
    CHECK(s != NULL);
    if (!s)
        return;
    origin_reset_counts(org);
    /* window 3, threshold 2, initial 2, every probe fails: healthy at first (2 of 3), still after
     * one failed probe (the two initial passes remain), unhealthy after the second */
    hc_resp r = {0};
    CHECK_EQ_INT(
        be_request(s->port, "GET", "/",
                   be_fmt("x-mode: watch\r\nx-target: 127.0.0.1:%u\r\nx-hc-method: HEAD\r\n"
                          "x-hc-path: /hc?ok=0\r\nx-window: 3\r\nx-threshold: 2\r\n"
                          "x-initial: 2\r\nx-changes: 1\r\nx-watch-ms: 3500\r\n",
                          origin_port(org)),
                   NULL, 0, &r, true),
        200);
    CHECK_STR_EQ(hc_header(&r, "x-register"), "0");
    long ms[8];
    int h[8];
    int n = readings(&r, ms, h);
    CHECK_EQ_INT(n, 2);
    if (n == 2) {
        CHECK_EQ_INT(h[0], 1);
        CHECK_EQ_INT(h[1], 2);
        CHECK(ms[1] >= 1900); /* not early; the 3.5 s watch bounds how late (as above) */
    } else {
        fprintf(stderr, "  readings: %s\n", r.body ? (char *)r.body : "(none)");
    }
    char v[32];
    CHECK(origin_last_method(org, v, sizeof v));
    CHECK_STR_EQ(v, "HEAD");
    hc_resp_free(&r);
    be_srv_stop(s);
}

TEST(nonsense_configs_are_inval)
{
    be_srv *s = be_srv_start(GUEST, NULL);
    CHECK(s != NULL);
    if (!s)
        return;
    hc_resp r = {0};
    CHECK_EQ_INT(
        be_request(s->port, "GET", "/",
                   be_fmt("x-mode: invalid\r\nx-target: 127.0.0.1:%u\r\n", origin_port(org)), NULL,
                   0, &r, true),
        200);
    const char *bad[] = {"threshold-over-window",
                         "initial-over-window",
                         "window-0",
                         "interval-short",
                         "interval-long",
                         "timeout-short",
                         "status-0",
                         "status-1000",
                         "host-empty",
                         "method-empty",
                         "path-empty",
                         "path-relative",
                         "method-space",
                         "window-16"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        const char *v = hc_header(&r, be_fmt("x-bad-%s", bad[i]));
        CHECK_STR_EQ(v, "2"); /* inval */
        if (!v || strcmp(v, "2") != 0)
            fprintf(stderr, "  case %s\n", bad[i]);
    }
    CHECK_STR_EQ(hc_header(&r, "x-good"), "0");
    CHECK_STR_EQ(hc_header(&r, "x-good-health"), "1"); /* 15 initial passes of 15 */
    CHECK_STR_EQ(hc_header(&r, "x-unknown-register"), "0");
    CHECK_STR_EQ(hc_header(&r, "x-unknown"), "0"); /* no health check: unknown */
    hc_resp_free(&r);
    be_srv_stop(s);
}

int main(int argc, char **argv)
{
    (void)argc;
    org = origin_start(NULL, NULL);
    if (!org) {
        printf("%s: 0 passed, 1 failed\n", argv[0]);
        return 1;
    }
    RUN(probes_flip_health);
    RUN(initial_passes_are_the_newest_results);
    RUN(nonsense_configs_are_inval);
    origin_stop(org);
    return harness_finish(argv[0]);
}
