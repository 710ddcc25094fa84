/* be_signal.h: a wake-up shared by a request's transfers: the event loop bumps it whenever one of
 * them changes state (head arrived, body bytes, room for upload, done), so a guest waiting on
 * several pending requests or bodies at once (select) sleeps on one condition. Reference counted,
 * because transfers may outlive the request that started them by a moment. */
#ifndef BE_SIGNAL_H
#define BE_SIGNAL_H

#include <stdbool.h>
#include <stdint.h>

typedef struct be_signal be_signal;

/* A new signal with one reference, or NULL when out of memory. */
be_signal *be_signal_new(void);
void be_signal_retain(be_signal *s);
void be_signal_release(be_signal *s); /* accepts NULL */

/* Wakes every waiter. */
void be_signal_notify(be_signal *s);
/* The number of notifications so far: read it, check your conditions, then wait for a change. */
uint64_t be_signal_generation(be_signal *s);
/* Sleeps until the generation differs from `gen` or until the CLOCK_MONOTONIC time `deadline_ns`
 * (0 = no deadline). Returns false on timeout. */
bool be_signal_wait(be_signal *s, uint64_t gen, uint64_t deadline_ns);

/* CLOCK_MONOTONIC in nanoseconds. */
uint64_t be_now_ns(void);

#endif
