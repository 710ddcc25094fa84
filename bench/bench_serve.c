/* bench_serve.c: what a request costs end to end, through the embedding API (include/fastlike.h)
 * over real HTTP on one keep-alive connection: a JS SDK guest with a fresh instance per request
 * (the default, and the baseline), the same handler in a reusable sandbox (next_request), and a C
 * guest. Prints the median latency of each and the ratios against the baseline of the same run:
 *   bench-serve: js-fresh=X ms js-reused=Y ms c=Z ms reused/fresh=R c/fresh=Q
 * then the profiler's recording overhead (-profile-ui, trace mode) on the fresh JS guest and the C
 * guest, each the best of three alternating off/on rounds:
 *   bench-serve: profiler trace on/off: js-fresh=A c=B
 * and, less exposed to a busy machine, the CPU time of the calling thread per in-process request
 * (fastlike_handle) with and without recording:
 *   bench-serve: profiler trace cpu per request: js-fresh off=U us on=V us (W) c off=... (R)
 * usage: bench-serve JS_FRESH.wasm JS_REUSED.wasm C.wasm [-n REQUESTS] */
#include "fastlike.h"
#include "server/http_client.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static void quiet(void *user, const char *line)
{
    (void)user;
    (void)line;
}

/* Median milliseconds per request for `wasm` answering `target` (with the profiler recording
 * when `profile`); -1 on any failure. */
static double measure_with(const char *wasm, const char *target, int n, bool profile)
{
    char err[512] = "";
    fastlike_config *cfg = fastlike_config_new();
    fastlike *f = NULL;
    double result = -1;
    double *t = calloc((size_t)n, sizeof *t);
    if (!cfg || !t || fastlike_config_set_wasm_file(cfg, wasm) != FASTLIKE_OK ||
        fastlike_config_set_bind(cfg, "127.0.0.1:0", err, sizeof err) != FASTLIKE_OK)
        goto out;
    fastlike_config_set_log(cfg, quiet, NULL);
    if (profile &&
        fastlike_config_set_profile_ui(cfg, "127.0.0.1:0", err, sizeof err) != FASTLIKE_OK)
        goto out;
    if (fastlike_new(cfg, &f, err, sizeof err) != FASTLIKE_OK ||
        fastlike_start(f, err, sizeof err) != FASTLIKE_OK) {
        fprintf(stderr, "bench-serve: %s: %s\n", wasm, err);
        goto out;
    }
    hc_conn c;
    if (hc_connect(&c, fastlike_port(f)) != 0)
        goto out;
    char req[256];
    snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: bench\r\nUser-Agent: bench\r\n\r\n",
             target);
    hc_resp r = {0};
    bool ok = true;
    for (int i = -3; i < n && ok; i++) { /* three warm-up requests (code translation) */
        double t0 = now_ms();
        ok = hc_sends(&c, req) == 0 && hc_read(&c, &r, false, false, false) == 0 && r.status == 200;
        if (i >= 0)
            t[i] = now_ms() - t0;
    }
    hc_resp_free(&r);
    hc_close(&c);
    if (!ok) {
        fprintf(stderr, "bench-serve: %s: a request failed\n", wasm);
        goto out;
    }
    qsort(t, (size_t)n, sizeof *t, cmp_double);
    result = t[n / 2];
out:
    fastlike_free(f);
    fastlike_config_free(cfg);
    free(t);
    return result;
}

static double measure(const char *wasm, const char *target, int n)
{
    return measure_with(wasm, target, n, false);
}

/* The profiler's overhead on one guest: median with recording over median without, each the
 * lowest of three alternating rounds (the machine's noise only ever adds time). */
static double overhead(const char *wasm, const char *target, int n)
{
    double off = -1, on = -1;
    for (int round = 0; round < 3; round++) {
        double a = measure_with(wasm, target, n, false);
        double b = measure_with(wasm, target, n, true);
        if (a <= 0 || b <= 0)
            return -1;
        off = off < 0 || a < off ? a : off;
        on = on < 0 || b < on ? b : on;
    }
    return on / off;
}

static double thread_cpu_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static fastlike *make_inprocess(const char *wasm, bool profile)
{
    char err[512] = "";
    fastlike_config *cfg = fastlike_config_new();
    fastlike *f = NULL;
    if (!cfg || fastlike_config_set_wasm_file(cfg, wasm) != FASTLIKE_OK)
        goto out;
    fastlike_config_set_log(cfg, quiet, NULL);
    if (profile &&
        fastlike_config_set_profile_ui(cfg, "127.0.0.1:0", err, sizeof err) != FASTLIKE_OK)
        goto out;
    if (fastlike_new(cfg, &f, err, sizeof err) != FASTLIKE_OK)
        fprintf(stderr, "bench-serve: %s: %s\n", wasm, err);
out:
    fastlike_config_free(cfg);
    return f;
}

/* One in-process request; its thread CPU microseconds, or -1. */
static double cpu_one(fastlike *f, const char *url)
{
    char err[256];
    fastlike_request req = {.method = "GET", .url = url};
    fastlike_response resp;
    double t0 = thread_cpu_us();
    fastlike_status st = fastlike_handle(f, &req, &resp, err, sizeof err);
    double dt = thread_cpu_us() - t0;
    bool ok = st == FASTLIKE_OK && resp.status == 200;
    fastlike_response_free(&resp);
    return ok ? dt : -1;
}

/* Median thread CPU microseconds of in-process requests without (*off) and with (*on) the
 * profiler recording, alternating request by request so that both see the same machine load.
 * False on failure. */
static bool cpu_pair(const char *wasm, const char *url, int n, double *off, double *on)
{
    fastlike *a = make_inprocess(wasm, false), *b = make_inprocess(wasm, true);
    double *ta = calloc((size_t)n, sizeof *ta), *tb = calloc((size_t)n, sizeof *tb);
    bool ok = a && b && ta && tb;
    for (int i = -3; ok && i < n; i++) {
        double x = cpu_one(a, url), y = cpu_one(b, url);
        ok = x >= 0 && y >= 0;
        if (ok && i >= 0) {
            ta[i] = x;
            tb[i] = y;
        }
    }
    if (ok) {
        qsort(ta, (size_t)n, sizeof *ta, cmp_double);
        qsort(tb, (size_t)n, sizeof *tb, cmp_double);
        *off = ta[n / 2];
        *on = tb[n / 2];
    }
    fastlike_free(a);
    fastlike_free(b);
    free(ta);
    free(tb);
    return ok;
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: %s JS_FRESH.wasm JS_REUSED.wasm C.wasm [-n REQUESTS]\n", argv[0]);
        return 2;
    }
    int n = 100;
    if (argc >= 6 && strcmp(argv[4], "-n") == 0)
        n = atoi(argv[5]);
    if (n < 1)
        n = 1;
    double fresh = measure(argv[1], "/bench", n);
    double reused = measure(argv[2], "/bench", n);
    double c = measure(argv[3], "/status?code=200", n);
    if (fresh <= 0 || reused <= 0 || c <= 0)
        return 1;
    printf("bench-serve: js-fresh=%.2f ms js-reused=%.2f ms c=%.3f ms reused/fresh=%.3f "
           "c/fresh=%.4f (medians of %d sequential requests on one connection)\n",
           fresh, reused, c, reused / fresh, c / fresh, n);
    double js_prof = overhead(argv[1], "/bench", n);
    double c_prof = overhead(argv[3], "/status?code=200", n);
    if (js_prof <= 0 || c_prof <= 0)
        return 1;
    printf("bench-serve: profiler trace on/off: js-fresh=%.3f c=%.3f (best of 3 alternating "
           "rounds of %d requests each)\n",
           js_prof, c_prof, n);
    double js_off, js_on, c_off, c_on;
    if (!cpu_pair(argv[1], "http://bench/bench", n, &js_off, &js_on) ||
        !cpu_pair(argv[3], "http://bench/status?code=200", n * 10, &c_off, &c_on))
        return 1;
    printf("bench-serve: profiler trace cpu per request: js-fresh off=%.0f us on=%.0f us (%.3f) "
           "c off=%.1f us on=%.1f us (%.3f) (medians, in-process, alternating)\n",
           js_off, js_on, js_on / js_off, c_off, c_on, c_on / c_off);
    return 0;
}
