/* test_server.h: a Fastlike server for end-to-end tests: started on 127.0.0.1 with an ephemeral
 * port, its log captured in memory (log_has, log_wait), and a one-request client (simple). */
#ifndef TEST_SERVER_H
#define TEST_SERVER_H

#include "fastlike.h"
#include "harness.h"
#include "http_client.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- a server with a captured log ---- */

typedef struct logbuf {
    pthread_mutex_t lock;
    char *text;
    size_t len;
} logbuf;

static inline void capture(void *user, const char *line)
{
    logbuf *l = user;
    pthread_mutex_lock(&l->lock);
    size_t n = strlen(line);
    char *grown = realloc(l->text, l->len + n + 2);
    if (grown) {
        l->text = grown;
        memcpy(l->text + l->len, line, n);
        l->text[l->len + n] = '\n';
        l->text[l->len + n + 1] = '\0';
        l->len += n + 1;
    }
    pthread_mutex_unlock(&l->lock);
    if (getenv("TEST_LOG")) /* TEST_LOG=1: echo the server log while a test runs */
        fprintf(stderr, "log: %s\n", line);
}

static inline bool log_has(logbuf *l, const char *needle)
{
    pthread_mutex_lock(&l->lock);
    bool found = l->text && strstr(l->text, needle);
    pthread_mutex_unlock(&l->lock);
    return found;
}

/* Lines such as the access log are written after the response has gone out, so
 * a client can see the response first: wait up to 5 s for the line to appear. */
static inline bool log_wait(logbuf *l, const char *needle)
{
    for (int i = 0; i < 500; i++) {
        if (log_has(l, needle))
            return true;
        usleep(10000);
    }
    return false;
}

/* How many times `needle` occurs in the log. */
static inline size_t log_count(logbuf *l, const char *needle)
{
    size_t n = 0;
    pthread_mutex_lock(&l->lock);
    for (const char *p = l->text; p && (p = strstr(p, needle)) != NULL; p += strlen(needle))
        n++;
    pthread_mutex_unlock(&l->lock);
    return n;
}

/* Waits up to 5 s until `needle` occurs at least `n` times. */
static inline bool log_wait_count(logbuf *l, const char *needle, size_t n)
{
    for (int i = 0; i < 500; i++) {
        if (log_count(l, needle) >= n)
            return true;
        usleep(10000);
    }
    return false;
}

typedef struct server {
    fastlike_config *cfg;
    fastlike *f;
    uint16_t port;
    logbuf log;
} server;

static inline void server_stop(server *s);

/* A server for `guest` on 127.0.0.1 (ephemeral port), verbosity 1, log captured; `hook` (may be
 * NULL) sets more options before the server is made. NULL, with the reason on stderr, on failure.
 */
typedef fastlike_status (*server_hook)(fastlike_config *c, void *user, char *err, size_t errlen);

static inline server *server_start_with(const char *guest, server_hook hook, void *user)
{
    server *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    pthread_mutex_init(&s->log.lock, NULL);
    char err[512] = "";
    s->cfg = fastlike_config_new();
    fastlike_status st = fastlike_config_set_wasm_file(s->cfg, guest);
    if (st == FASTLIKE_OK)
        st = fastlike_config_set_bind(s->cfg, "127.0.0.1:0", err, sizeof err);
    fastlike_config_set_verbosity(s->cfg, 1);
    fastlike_config_set_log(s->cfg, capture, &s->log);
    if (st == FASTLIKE_OK && hook)
        st = hook(s->cfg, user, err, sizeof err);
    if (st == FASTLIKE_OK)
        st = fastlike_new(s->cfg, &s->f, err, sizeof err);
    if (st == FASTLIKE_OK)
        st = fastlike_start(s->f, err, sizeof err);
    if (st != FASTLIKE_OK) {
        fprintf(stderr, "server_start(%s): %s: %s\n", guest, fastlike_strerror(st), err);
        server_stop(s);
        return NULL;
    }
    s->port = fastlike_port(s->f);
    return s;
}

static inline fastlike_status set_timeout_hook(fastlike_config *c, void *user, char *err,
                                               size_t errlen)
{
    (void)err, (void)errlen;
    fastlike_config_set_request_timeout_ms(c, *(const uint64_t *)user);
    return FASTLIKE_OK;
}

/* A server for `guest`, with a per-request CPU deadline when timeout_ms > 0. */
static inline server *server_start_guest(const char *guest, uint64_t timeout_ms)
{
    return server_start_with(guest, timeout_ms ? set_timeout_hook : NULL, &timeout_ms);
}

static inline void server_stop(server *s)
{
    if (!s)
        return;
    fastlike_free(s->f);
    fastlike_config_free(s->cfg);
    free(s->log.text);
    pthread_mutex_destroy(&s->log.lock);
    free(s);
}

/* One request on a fresh connection; returns the status (-1 on a client error). */
static inline int simple_on(uint16_t port, const char *request, hc_resp *r, bool head)
{
    hc_conn c;
    if (hc_connect(&c, port) != 0)
        return -1;
    int rc = hc_sends(&c, request) == 0 && hc_read(&c, r, head, true, false) == 0 ? r->status : -1;
    hc_close(&c);
    return rc;
}

#endif
