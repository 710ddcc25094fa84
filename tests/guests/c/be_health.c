/* be_health.c: C test guest for health checks of dynamic backends (tests/unit/backend/
 * test_be_health.c). The downstream request's headers choose what it does:
 *   x-mode: watch     register_dynamic_backend("hc", x-target) with a health check (interval and
 *                     timeout 1000 ms, host "probe.test", method x-hc-method (GET), path
 *                     x-hc-path (/hc), expected 200, window/threshold/initial from x-window,
 *                     x-threshold, x-initial), then read fastly_backend.is_healthy every 20 ms
 *                     for up to x-watch-ms (3500) or until x-changes changes were seen; the body
 *                     lists "MS HEALTH" for the first reading and each change
 *   x-mode: invalid   register_dynamic_backend with one nonsense health check per case; the
 *                     status of each as x-bad-<case>, a sensible one as x-good, and is_healthy of
 *                     a dynamic backend without health check as x-unknown
 */
#include "fastly_hostcalls.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static fastly_request_handle req;
static fastly_body_handle req_body;

static size_t hdr(const char *name, char *out, size_t max)
{
    size_t n = 0;
    if (fastly_http_req_header_value_get(req, (const uint8_t *)name, strlen(name), out, max - 1,
                                         &n) != 0)
        n = 0;
    out[n] = '\0';
    return n;
}

static long hdr_num(const char *name, long dflt)
{
    char v[64];
    return hdr(name, v, sizeof v) ? strtol(v, NULL, 10) : dflt;
}

static void set_num(fastly_response_handle r, const char *name, long long v)
{
    char text[32];
    snprintf(text, sizeof text, "%lld", v);
    fastly_http_resp_header_insert(r, (const uint8_t *)name, strlen(name), (const uint8_t *)text,
                                   strlen(text));
}

static void answer(fastly_response_handle r, const char *text)
{
    fastly_body_handle b;
    fastly_http_body_new(&b);
    size_t n = 0;
    fastly_http_body_write(b, (const uint8_t *)text, strlen(text), FASTLY_BODY_WRITE_END_BACK, &n);
    fastly_http_resp_send_downstream(r, b, 0);
}

static long long now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (long long)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

static char target[256], method[32] = "GET", path[256] = "/hc";

static fastly_healthcheck_config sensible(void)
{
    fastly_healthcheck_config hc = {
        .interval_ms = 1000,
        .timeout_ms = 1000,
        .host = "probe.test",
        .host_len = 10,
        .method = method,
        .method_len = (uint32_t)strlen(method),
        .path = path,
        .path_len = (uint32_t)strlen(path),
        .expected_status = 200,
        .window = 1,
        .threshold = 1,
        .initial = 0,
    };
    return hc;
}

static int reg(const char *name, fastly_healthcheck_config *hc)
{
    fastly_dynamic_backend_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.healthcheck = hc;
    uint32_t mask = hc ? FASTLY_BACKEND_CONFIG_OPTIONS_HEALTHCHECK : 0;
    return fastly_http_req_register_dynamic_backend(name, strlen(name), target, strlen(target),
                                                    mask, &cfg);
}

static uint32_t health(const char *name)
{
    uint32_t h = 99;
    if (fastly_backend_is_healthy(name, strlen(name), &h) != 0)
        return 98;
    return h;
}

static void mode_watch(void)
{
    fastly_healthcheck_config hc = sensible();
    hc.window = (uint32_t)hdr_num("x-window", 1);
    hc.threshold = (uint32_t)hdr_num("x-threshold", 1);
    hc.initial = (uint32_t)hdr_num("x-initial", 0);
    fastly_response_handle r;
    fastly_http_resp_new(&r);
    int st = reg("hc", &hc);
    set_num(r, "x-register", st);
    static char out[4096];
    size_t used = 0;
    if (st == 0) {
        long long start = now_ms(), watch = hdr_num("x-watch-ms", 3500);
        long changes = hdr_num("x-changes", 99), seen = -1;
        uint32_t last = 1000;
        while (now_ms() - start < watch && seen < changes) {
            uint32_t h = health("hc");
            if (h != last) {
                used += (size_t)snprintf(out + used, sizeof out - used, "%lld %u\n",
                                         now_ms() - start, (unsigned)h);
                last = h;
                seen++;
            }
            usleep(20000);
        }
    }
    answer(r, out);
}

static void mode_invalid(void)
{
    fastly_response_handle r;
    fastly_http_resp_new(&r);
    struct {
        const char *name;
        fastly_healthcheck_config hc;
    } cases[16];
    size_t n = 0;
#define CASE(label, field, value)                                                                  \
    do {                                                                                           \
        cases[n].name = label;                                                                     \
        cases[n].hc = sensible();                                                                  \
        cases[n].hc.field = value;                                                                 \
        n++;                                                                                       \
    } while (0)
    CASE("threshold-over-window", threshold, 2);
    CASE("initial-over-window", initial, 2);
    CASE("window-0", window, 0);
    CASE("interval-short", interval_ms, 10);
    CASE("interval-long", interval_ms, 3600000);
    CASE("timeout-short", timeout_ms, 999);
    CASE("status-0", expected_status, 0);
    CASE("status-1000", expected_status, 1000);
    CASE("host-empty", host_len, 0);
    CASE("method-empty", method_len, 0);
    CASE("path-empty", path_len, 0);
    CASE("path-relative", path, "hc");
    cases[n - 1].hc.path_len = 2;
    CASE("method-space", method, "G T");
    cases[n - 1].hc.method_len = 3;
    CASE("window-16", window, 16);
#undef CASE
    char label[96], name[64];
    for (size_t i = 0; i < n; i++) {
        snprintf(name, sizeof name, "bad%zu", i);
        snprintf(label, sizeof label, "x-bad-%s", cases[i].name);
        set_num(r, label, reg(name, &cases[i].hc));
    }
    fastly_healthcheck_config ok = sensible();
    ok.window = 15;
    ok.threshold = 15;
    ok.initial = 15;
    set_num(r, "x-good", reg("good", &ok));
    set_num(r, "x-good-health", health("good"));
    set_num(r, "x-unknown-register", reg("plain", NULL));
    set_num(r, "x-unknown", health("plain"));
    answer(r, "invalid\n");
}

int main(void)
{
    fastly_http_req_body_downstream_get(&req, &req_body);
    char mode[32];
    hdr("x-mode", mode, sizeof mode);
    hdr("x-target", target, sizeof target);
    if (!hdr("x-hc-method", method, sizeof method))
        memcpy(method, "GET", 4);
    if (!hdr("x-hc-path", path, sizeof path))
        memcpy(path, "/hc", 4);
    if (strcmp(mode, "invalid") == 0)
        mode_invalid();
    else
        mode_watch();
    return 0;
}
