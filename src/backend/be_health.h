/* be_health.h: health checks of a backend (the witx healthcheck_config of dynamic backends):
 * probes sent on the shared event loop every interval, and the healthy/unhealthy verdict over the
 * last `window` results, as Fastly defines it (healthy when at least `threshold` of them passed;
 * `initial` passes count as already in the window at the start). */
#ifndef BE_HEALTH_H
#define BE_HEALTH_H

#include "backend/be_loop.h"

#include <stdbool.h>
#include <stdint.h>

/* Limits, as Viceroy's (and the SDKs') health-check builders check them. */
#define BE_HEALTH_WINDOW_MAX 15u
#define BE_HEALTH_INTERVAL_MIN_MS 1000u
#define BE_HEALTH_INTERVAL_MAX_MS 3600000u /* exclusive */
#define BE_HEALTH_TIMEOUT_MIN_MS 1000u
#define BE_HEALTH_TIMEOUT_MAX_MS 3600000u /* exclusive */

typedef struct be_health_config {
    bool enabled;
    uint64_t interval_ms, timeout_ms;
    char *host;   /* Host header of the probes */
    char *method; /* e.g. "GET" */
    char *path;   /* path and query, starting with '/' */
    uint16_t expected_status;
    uint32_t window, threshold, initial;
} be_health_config;

/* Deep copy (dst initialised here); false when out of memory (dst is then empty). */
bool be_health_config_copy(be_health_config *dst, const be_health_config *src);
/* Frees the strings and clears the config; accepts NULL. */
void be_health_config_deinit(be_health_config *c);

/* Whether the numbers of a config make sense: 1 <= window <= BE_HEALTH_WINDOW_MAX, threshold and
 * initial at most window, interval and timeout within the limits, status 100..999. The strings
 * are checked by the caller. */
bool be_health_config_valid(const be_health_config *c);

struct be_backend;
typedef struct be_health be_health;

/* Starts probing backend `b` (copied, with its health-check config) on `loop`: every interval_ms
 * a request (method, path, Host) with timeout_ms for the whole exchange; a probe passes when the
 * whole response arrived with expected_status. A probe still running when the next is due makes
 * that one wait. NULL when out of memory or the loop is stopping. */
be_health *be_health_start(be_loop *loop, const struct be_backend *b);
/* Stops the probes (a running one is cancelled) and drops the checker; accepts NULL. Not from
 * the loop thread. */
void be_health_stop(be_health *h);
/* The current verdict. */
bool be_health_healthy(be_health *h);

#endif
