/* be_loop.h: the one outbound event loop shared by all guest workers: a thread driving a libcurl
 * multi handle (connection pool and DNS cache shared by every backend request), fed through a
 * command queue (add, unpause, cancel) that workers append to and wake the loop for. It also
 * enforces the first-byte and between-bytes timeouts libcurl has no option for, and runs
 * periodic timers (health-check probes). */
#ifndef BE_LOOP_H
#define BE_LOOP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef void (*be_log_fn)(void *user, const char *line);

typedef struct be_loop_config {
    int verbosity; /* 2: one line per finished transfer */
    be_log_fn log; /* NULL: no logging */
    void *log_user;
} be_loop_config;

typedef struct be_loop be_loop;
struct be_transfer;

/* Initialises libcurl and starts the loop thread. NULL with a message in err on failure. */
be_loop *be_loop_new(const be_loop_config *cfg, char *err, size_t errlen);
/* Cancels what still runs, joins the thread, frees; accepts NULL. */
void be_loop_free(be_loop *l);

/* For be_transfer.c: queue a command for the loop thread (each takes its own reference on the
 * transfer). Return false when out of memory or the loop is stopping. */
bool be_loop_add(be_loop *l, struct be_transfer *t);
bool be_loop_unpause(be_loop *l, struct be_transfer *t);
bool be_loop_cancel(be_loop *l, struct be_transfer *t);

/* A periodic timer: fn(user) runs on the loop thread every period_ns, the first time one period
 * after the start. NULL when out of memory or the loop is stopping. */
typedef struct be_timer be_timer;
typedef void (*be_timer_fn)(void *user);
be_timer *be_loop_timer_start(be_loop *l, uint64_t period_ns, be_timer_fn fn, void *user);
/* Stops and frees the timer: once it returns, fn is not running and never runs again (so not to
 * be called from fn itself). Accepts NULL. */
void be_loop_timer_stop(be_loop *l, be_timer *t);

/* Writes a log line at `level` through the configured function. */
void be_loop_log(be_loop *l, int level, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif
