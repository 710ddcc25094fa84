/* bench_serve.c: what a request costs end to end, through the embedding API (include/fastlike.h)
 * over real HTTP on one keep-alive connection: a JS SDK guest with a fresh instance per request
 * (the default, and the baseline), the same handler in a reusable sandbox (next_request), and a C
 * guest. Prints the median latency of each and the ratios against the baseline of the same run:
 *   bench-serve: js-fresh=X ms js-reused=Y ms c=Z ms reused/fresh=R c/fresh=Q
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

/* Median milliseconds per request for `wasm` answering `target`; -1 on any failure. */
static double measure(const char *wasm, const char *target, int n)
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
    if (fastlike_new(cfg, &f, err, sizeof err) != FASTLIKE_OK ||
        fastlike_start(f, err, sizeof err) != FASTLIKE_OK) {
        fprintf(stderr, "bench-serve: %s: %s\n", wasm, err);
        goto out;
    }
    hc_conn c;
    if (hc_connect(&c, fastlike_port(f)) != 0)
        goto out;
    char req[256];
    snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: bench\r\nUser-Agent: bench\r\n\r\n", target);
    hc_resp r = {0};
    bool ok = true;
    for (int i = -3; i < n && ok; i++) { /* three warm-up requests (code translation) */
        double t0 = now_ms();
        ok = hc_sends(&c, req) == 0 && hc_read(&c, &r, false, false, false) == 0 &&
             r.status == 200;
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
    return 0;
}
