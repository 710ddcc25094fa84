/* be_signal.c: a generation counter under a mutex with a monotonic-clock condition variable. */
#include "backend/be_signal.h"

#include "util/util_clock.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>

struct be_signal {
    pthread_mutex_t mu;
    pthread_cond_t cond;
    uint64_t gen;
    atomic_int refs;
};

uint64_t be_now_ns(void)
{
    return util_now_ns();
}

be_signal *be_signal_new(void)
{
    be_signal *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&s->cond, &ca);
    pthread_condattr_destroy(&ca);
    pthread_mutex_init(&s->mu, NULL);
    atomic_init(&s->refs, 1);
    return s;
}

void be_signal_retain(be_signal *s)
{
    atomic_fetch_add(&s->refs, 1);
}

void be_signal_release(be_signal *s)
{
    if (!s || atomic_fetch_sub(&s->refs, 1) != 1)
        return;
    pthread_cond_destroy(&s->cond);
    pthread_mutex_destroy(&s->mu);
    free(s);
}

void be_signal_notify(be_signal *s)
{
    pthread_mutex_lock(&s->mu);
    s->gen++;
    pthread_cond_broadcast(&s->cond);
    pthread_mutex_unlock(&s->mu);
}

uint64_t be_signal_generation(be_signal *s)
{
    pthread_mutex_lock(&s->mu);
    uint64_t g = s->gen;
    pthread_mutex_unlock(&s->mu);
    return g;
}

bool be_signal_wait(be_signal *s, uint64_t gen, uint64_t deadline_ns)
{
    struct timespec ts = {(time_t)(deadline_ns / 1000000000u), (long)(deadline_ns % 1000000000u)};
    bool changed = true;
    pthread_mutex_lock(&s->mu);
    while (s->gen == gen) {
        if (!deadline_ns) {
            pthread_cond_wait(&s->cond, &s->mu);
        } else if (pthread_cond_timedwait(&s->cond, &s->mu, &ts) == ETIMEDOUT) {
            changed = s->gen != gen;
            break;
        }
    }
    pthread_mutex_unlock(&s->mu);
    return changed;
}
