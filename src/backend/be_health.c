/* be_health.c: a backend's health checker: a loop timer sends a probe every interval (one at a
 * time), each finished probe shifts its result into a bit window, and the verdict follows the
 * window's count of passes. Reference counted: the owner holds one reference and every probe in
 * flight another, so a probe finishing after the owner stopped the checker is harmless. */
#include "backend/be_health.h"

#include "backend/be_backend.h"
#include "backend/be_transfer.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

struct be_health {
    atomic_int refs; /* the owner and each probe in flight */
    pthread_mutex_t mu;
    be_loop *loop;
    be_backend target; /* the copy probes go to: no Host override, no health check of its own */
    be_timer *timer;
    be_transfer *probe; /* in flight (under mu) */
    uint32_t results;   /* bit 0 = the newest result (1 = passed); `window` bits */
    uint32_t mask;
    bool healthy, stopped;
};

/* ---- configuration ---- */

void be_health_config_deinit(be_health_config *c)
{
    if (!c)
        return;
    free(c->host);
    free(c->method);
    free(c->path);
    memset(c, 0, sizeof *c);
}

static bool copy_str(char **dst, const char *src)
{
    *dst = NULL;
    if (!src)
        return true;
    size_t n = strlen(src) + 1;
    *dst = malloc(n);
    if (*dst)
        memcpy(*dst, src, n);
    return *dst != NULL;
}

bool be_health_config_copy(be_health_config *dst, const be_health_config *src)
{
    *dst = *src;
    dst->host = dst->method = dst->path = NULL;
    bool ok = copy_str(&dst->host, src->host) && copy_str(&dst->method, src->method) &&
              copy_str(&dst->path, src->path);
    if (!ok)
        be_health_config_deinit(dst);
    return ok;
}

bool be_health_config_valid(const be_health_config *c)
{
    return c->window >= 1 && c->window <= BE_HEALTH_WINDOW_MAX && c->threshold <= c->window &&
           c->initial <= c->window && c->interval_ms >= BE_HEALTH_INTERVAL_MIN_MS &&
           c->interval_ms < BE_HEALTH_INTERVAL_MAX_MS &&
           c->timeout_ms >= BE_HEALTH_TIMEOUT_MIN_MS && c->timeout_ms < BE_HEALTH_TIMEOUT_MAX_MS &&
           c->expected_status >= 100 && c->expected_status <= 999;
}

/* ---- the checker ---- */

static void unref(be_health *h)
{
    if (atomic_fetch_sub(&h->refs, 1) != 1)
        return;
    be_backend_deinit(&h->target);
    pthread_mutex_destroy(&h->mu);
    free(h);
}

static unsigned passes(const be_health *h)
{
    return (unsigned)__builtin_popcount(h->results & h->mask);
}

/* One probe result (under mu). */
static void record(be_health *h, bool passed, uint16_t status)
{
    h->results = ((h->results << 1) | (passed ? 1u : 0u)) & h->mask;
    bool was = h->healthy;
    const be_health_config *c = &h->target.healthcheck;
    h->healthy = passes(h) >= c->threshold;
    be_loop_log(h->loop, 2, "backend '%s': health probe %s %s -> %u (%s)", h->target.name,
                c->method, c->path, status, passed ? "passed" : "failed");
    if (was != h->healthy)
        be_loop_log(h->loop, 1,
                    "backend '%s': health check: now %s (%u of the last %u probes passed, "
                    "threshold %u)",
                    h->target.name, h->healthy ? "healthy" : "unhealthy", passes(h), c->window,
                    c->threshold);
}

/* A probe ended (loop thread; be_done_fn). */
static void probe_done(void *user, be_transfer *t, bool ok, uint16_t status)
{
    be_health *h = user;
    pthread_mutex_lock(&h->mu);
    bool mine = h->probe == t; /* else the owner stopped the checker and released it already */
    if (mine) {
        h->probe = NULL;
        if (!h->stopped)
            record(h, ok && status == h->target.healthcheck.expected_status, status);
    }
    pthread_mutex_unlock(&h->mu);
    if (mine)
        be_transfer_release(t);
    unref(h);
}

/* The timer (loop thread): the next probe, unless the last one still runs. */
static void tick(void *user)
{
    be_health *h = user;
    pthread_mutex_lock(&h->mu);
    if (h->stopped || h->probe) {
        pthread_mutex_unlock(&h->mu);
        return;
    }
    const be_health_config *c = &h->target.healthcheck;
    be_header host = {"Host", 4, c->host, strlen(c->host)};
    be_request req = {
        .method = c->method,
        .url = c->path,
        .headers = &host,
        .nheaders = 1,
        .timeout_ms = (uint32_t)c->timeout_ms,
        .discard_body = true,
        .on_done = probe_done,
        .done_user = h,
    };
    atomic_fetch_add(&h->refs, 1); /* the probe's, dropped by probe_done */
    be_error err;
    h->probe = be_transfer_start(h->loop, &h->target, h->target.name, &req, NULL, &err);
    if (!h->probe) {
        atomic_fetch_sub(&h->refs, 1); /* not the last: the owner's is held while we run */
        record(h, false, 0);
    }
    pthread_mutex_unlock(&h->mu);
}

be_health *be_health_start(be_loop *loop, const be_backend *b)
{
    be_health *h = calloc(1, sizeof *h);
    if (!h)
        return NULL;
    if (!be_backend_copy(&h->target, b)) {
        free(h);
        return NULL;
    }
    /* the probes carry the health check's Host */
    free(h->target.override_host);
    h->target.override_host = NULL;
    atomic_init(&h->refs, 1);
    pthread_mutex_init(&h->mu, NULL);
    h->loop = loop;
    const be_health_config *c = &h->target.healthcheck;
    h->mask = (1u << c->window) - 1u;
    /* `initial` passes are already in the window, as the newest results */
    h->results = ((1u << c->initial) - 1u) & h->mask;
    h->healthy = passes(h) >= c->threshold;
    h->timer = be_loop_timer_start(loop, c->interval_ms * 1000000u, tick, h);
    if (!h->timer) {
        unref(h);
        return NULL;
    }
    return h;
}

void be_health_stop(be_health *h)
{
    if (!h)
        return;
    be_loop_timer_stop(h->loop, h->timer);
    pthread_mutex_lock(&h->mu);
    h->stopped = true;
    be_transfer *t = h->probe;
    h->probe = NULL;
    pthread_mutex_unlock(&h->mu);
    be_transfer_release(t); /* cancels it when still running */
    unref(h);
}

bool be_health_healthy(be_health *h)
{
    pthread_mutex_lock(&h->mu);
    bool v = h->healthy;
    pthread_mutex_unlock(&h->mu);
    return v;
}
