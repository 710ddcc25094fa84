/* srv_timer.c: the deadline watchdog: a doubly linked list of armed entries under one mutex and a
 * thread sleeping on a CLOCK_MONOTONIC condition variable. CPU time never runs faster than wall
 * time, so the watchdog sleeps until the earliest moment any guest could reach its CPU budget,
 * then reads the threads' CPU clocks. Arming wakes the watchdog only when the new deadline could
 * come before its next wake-up (not once per request). At most one entry per running guest: a
 * linear scan. */
#include "server/srv_timer.h"

#include "util/util_clock.h"

#include <pthread.h>
#include <stdlib.h>
#include <time.h>

struct srv_timer {
    pthread_mutex_t lock;
    pthread_cond_t wake;
    srv_timer_entry *head;
    uint64_t wake_ns; /* when the watchdog wakes next (util_now_ns), UINT64_MAX: when signalled */
    bool stopping;
    pthread_t thread;
};

static uint64_t clock_ns(clockid_t clock)
{
    struct timespec ts;
    if (clock_gettime(clock, &ts) != 0)
        return 0;
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void *watchdog(void *arg)
{
    srv_timer *t = arg;
    pthread_mutex_lock(&t->lock);
    while (!t->stopping) {
        uint64_t now = util_now_ns(), next = UINT64_MAX;
        for (srv_timer_entry *e = t->head; e; e = e->next) {
            if (e->fired)
                continue;
            uint64_t used = clock_ns(e->cpu_clock);
            if (e->deadline_ns <= used) {
                /* under the lock, so disarm cannot return while we touch the instance */
                fwe_instance_interrupt(e->instance);
                e->fired = true;
            } else if (now + (e->deadline_ns - used) < next) {
                next = now + (e->deadline_ns - used);
            }
        }
        t->wake_ns = next;
        if (next == UINT64_MAX) {
            pthread_cond_wait(&t->wake, &t->lock);
        } else {
            struct timespec ts = {.tv_sec = (time_t)(next / 1000000000u),
                                  .tv_nsec = (long)(next % 1000000000u)};
            pthread_cond_timedwait(&t->wake, &t->lock, &ts);
        }
    }
    pthread_mutex_unlock(&t->lock);
    return NULL;
}

srv_timer *srv_timer_new(void)
{
    srv_timer *t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&t->wake, &ca);
    pthread_condattr_destroy(&ca);
    pthread_mutex_init(&t->lock, NULL);
    t->wake_ns = UINT64_MAX;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, 256 * 1024);
    int rc = pthread_create(&t->thread, &attr, watchdog, t);
    pthread_attr_destroy(&attr);
    if (rc != 0) {
        pthread_cond_destroy(&t->wake);
        pthread_mutex_destroy(&t->lock);
        free(t);
        return NULL;
    }
    return t;
}

void srv_timer_free(srv_timer *t)
{
    if (!t)
        return;
    pthread_mutex_lock(&t->lock);
    t->stopping = true;
    pthread_cond_signal(&t->wake);
    pthread_mutex_unlock(&t->lock);
    pthread_join(t->thread, NULL);
    pthread_cond_destroy(&t->wake);
    pthread_mutex_destroy(&t->lock);
    free(t);
}

void srv_timer_arm(srv_timer *t, srv_timer_entry *e, fwe_instance *instance, uint64_t ms,
                   uint64_t cpu_now_ns)
{
    e->instance = instance;
    if (pthread_getcpuclockid(pthread_self(), &e->cpu_clock) != 0) {
        e->cpu_clock = CLOCK_MONOTONIC; /* no per-thread clock: fall back to wall time */
        cpu_now_ns = 0;
    }
    e->deadline_ns = (cpu_now_ns ? cpu_now_ns : clock_ns(e->cpu_clock)) + ms * 1000000u;
    e->fired = false;
    e->prev = NULL;
    uint64_t earliest = util_now_ns() + ms * 1000000u; /* CPU time runs no faster than this */
    pthread_mutex_lock(&t->lock);
    e->next = t->head;
    if (t->head)
        t->head->prev = e;
    t->head = e;
    if (earliest < t->wake_ns) {
        t->wake_ns = earliest; /* the watchdog sets it again when it looks */
        pthread_cond_signal(&t->wake);
    }
    pthread_mutex_unlock(&t->lock);
}

bool srv_timer_disarm(srv_timer *t, srv_timer_entry *e)
{
    pthread_mutex_lock(&t->lock);
    if (e->prev)
        e->prev->next = e->next;
    else
        t->head = e->next;
    if (e->next)
        e->next->prev = e->prev;
    bool fired = e->fired;
    pthread_mutex_unlock(&t->lock);
    return fired;
}
