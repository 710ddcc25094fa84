/* be_server.h: helpers shared by the backend end-to-end tests (header-only): a Fastlike server
 * started in-process on 127.0.0.1:0 with a guest, backends given as -backend specs and a captured
 * log; one-shot requests over a raw socket (server/http_client.h) with extra headers and a body;
 * clocks and the process's memory high-water mark. */
#ifndef BE_TEST_SERVER_H
#define BE_TEST_SERVER_H

#include "fastlike.h"
#include "server/http_client.h"
#include "server/test_server.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

typedef server be_srv;

/* Waits up to 5 s for the line: some lines are logged after the response went out. */
static inline bool be_srv_log_has(be_srv *s, const char *needle)
{
    return log_wait(&s->log, needle);
}

static inline void be_srv_stop(be_srv *s)
{
    server_stop(s);
}

/* A server for `wasm` with the given -backend specs (NULL-terminated list, may be NULL). An
 * optional hook can set more options on the configuration before the server is created. */
typedef void (*be_srv_hook)(fastlike_config *c, void *user);

typedef struct be_srv_setup {
    const char *const *backends;
    be_srv_hook hook;
    void *user;
} be_srv_setup;

static inline fastlike_status be_srv_configure(fastlike_config *c, void *user, char *err,
                                               size_t errlen)
{
    const be_srv_setup *b = user;
    fastlike_status st = FASTLIKE_OK;
    for (size_t i = 0; st == FASTLIKE_OK && b->backends && b->backends[i]; i++)
        st = fastlike_config_add_backend(c, b->backends[i], err, errlen);
    if (st == FASTLIKE_OK && b->hook)
        b->hook(c, b->user);
    return st;
}

static inline be_srv *be_srv_start_with(const char *wasm, const char *const *backends,
                                        be_srv_hook hook, void *user)
{
    be_srv_setup b = {backends, hook, user};
    return server_start_with(wasm, be_srv_configure, &b);
}

static inline be_srv *be_srv_start(const char *wasm, const char *const *backends)
{
    return be_srv_start_with(wasm, backends, NULL, NULL);
}

/* One request on a fresh connection: "METHOD target" plus extra header lines ("Name: value\r\n"
 * each, may be NULL) and an optional body with a Content-Length. keep: keep the body in r->body.
 * Returns the status, or -1 when the exchange failed. */
static inline int be_request(uint16_t port, const char *method, const char *target,
                             const char *headers, const void *body, size_t body_len, hc_resp *r,
                             bool keep)
{
    hc_conn c;
    if (hc_connect(&c, port) != 0)
        return -1;
    char head[8192];
    int n = snprintf(head, sizeof head, "%s %s HTTP/1.1\r\nHost: fastlike.test\r\n%s", method,
                     target, headers ? headers : "");
    if (body || strcmp(method, "POST") == 0 || strcmp(method, "PUT") == 0)
        n += snprintf(head + n, sizeof head - (size_t)n, "Content-Length: %zu\r\n", body_len);
    snprintf(head + n, sizeof head - (size_t)n, "\r\n");
    int rc = -1;
    if (hc_sends(&c, head) == 0 && (body_len == 0 || hc_send(&c, body, body_len) == 0) &&
        hc_read(&c, r, strcmp(method, "HEAD") == 0, keep, false) == 0)
        rc = r->status;
    hc_close(&c);
    return rc;
}

static inline uint64_t be_now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000 + (uint64_t)t.tv_nsec / 1000000;
}

/* A /proc/self/status field in KiB (VmHWM, VmRSS), or -1. */
static inline long be_proc_kib(const char *field)
{
    FILE *f = fopen("/proc/self/status", "r");
    if (!f)
        return -1;
    char line[256];
    long v = -1;
    size_t n = strlen(field);
    while (fgets(line, sizeof line, f))
        if (strncmp(line, field, n) == 0 && line[n] == ':') {
            v = strtol(line + n + 1, NULL, 10);
            break;
        }
    fclose(f);
    return v;
}

/* Resets VmHWM to the current RSS (Linux >= 4.0: "5" into clear_refs); false if not possible. */
static inline bool be_reset_hwm(void)
{
    FILE *f = fopen("/proc/self/clear_refs", "w");
    if (!f)
        return false;
    bool ok = fputs("5", f) >= 0;
    return fclose(f) == 0 && ok;
}

/* printf into a static per-call-site-free rotating buffer (tests build many small strings). */
static inline const char *be_fmt(const char *fmt, ...)
{
    static __thread char bufs[8][2048];
    static __thread unsigned next;
    char *b = bufs[next++ % 8];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(b, sizeof bufs[0], fmt, ap);
    va_end(ap);
    return b;
}

#endif
