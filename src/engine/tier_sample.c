/* tier_sample.c: time-based hotness for the native tier. A sampler thread sets a sample bit in the
 * interrupt word of every instance running in auto mode; the code takes it at its next interrupt
 * check and counts a sample, in the interpreter as a quarter of the hotness threshold for the
 * innermost function (docs/engine.md, "Time-based hotness"). */
#include "native.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define SAMPLE_US_DEFAULT 1000u
#define SAMPLE_US_MIN 50u
#define BACKOFF_MAX_US 100000u
#define IDLE_US 200000u /* nothing registered for this long: the sampler waits */

static pthread_mutex_t s_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t s_wake = PTHREAD_COND_INITIALIZER;
static fwe_instance *s_head; /* registered instances (under s_lock) */
static bool s_started;       /* the sampler thread runs (under s_lock) */
static bool s_blocked;       /* it waits for a registration (under s_lock) */
static uint32_t s_interval_us = SAMPLE_US_DEFAULT;
/* samples taken, by where they landed (FWE_SAMPLE_INTERP, _QUICK, _CC) */
static uint64_t s_samples[3];

uint32_t fwe_tier_sample_interval_us(void)
{
    const char *env = getenv("FWE_TIER_SAMPLE_US");
    if (!env || !*env)
        return SAMPLE_US_DEFAULT;
    char *end;
    long v = strtol(env, &end, 10);
    if (*end || v < 0) {
        fprintf(stderr,
                "fastlike: tier: FWE_TIER_SAMPLE_US=%s is not a number of microseconds; using "
                "%u\n",
                env, SAMPLE_US_DEFAULT);
        return SAMPLE_US_DEFAULT;
    }
    if (v == 0)
        return 0;
    return v < (long)SAMPLE_US_MIN ? SAMPLE_US_MIN : v > 1000000 ? 1000000u : (uint32_t)v;
}

static void sleep_us(uint32_t us)
{
    struct timespec ts = {.tv_sec = us / 1000000u, .tv_nsec = (long)(us % 1000000u) * 1000};
    while (clock_nanosleep(CLOCK_MONOTONIC, 0, &ts, &ts) != 0) {
    }
}

static void *sampler(void *arg)
{
    (void)arg;
    uint64_t last_log = fwe_tier_now_ns(), at_log[3] = {0, 0, 0};
    uint32_t us = 0; /* the current period: the base, longer while the interpreter gets none */
    uint32_t idle = 0;
    pthread_mutex_lock(&s_lock);
    for (;;) {
        /* between requests the thread keeps ticking for IDLE_US, so that registering (once per
         * guest call) need not wake it; an idle server does not tick */
        idle = s_head ? 0 : idle + 1;
        if ((uint64_t)idle * (us ? us : s_interval_us) > IDLE_US) {
            s_blocked = true;
            while (!s_head)
                pthread_cond_wait(&s_wake, &s_lock);
            s_blocked = false;
            idle = 0;
        }
        for (fwe_instance *e = s_head; e; e = e->sample_next)
            atomic_fetch_or_explicit(&e->interrupt, FWE_INTERRUPT_SAMPLE, memory_order_relaxed);
        uint32_t base = s_interval_us;
        if (us < base)
            us = base;
        pthread_mutex_unlock(&s_lock);
        uint64_t now = fwe_tier_now_ns();
        if (now - last_log >= 1000000000u) {
            uint64_t d[3];
            for (int i = 0; i < 3; i++) {
                uint64_t v = __atomic_load_n(&s_samples[i], __ATOMIC_RELAXED);
                d[i] = v - at_log[i];
                at_log[i] = v;
            }
            fwe_tier_log_samples(d);
            last_log = now;
            /* a second without a sample in the interpreter: nothing left to find, sample half as
             * often (down to every BACKOFF_MAX_US); one there: back to the full rate */
            if (d[FWE_SAMPLE_INTERP])
                us = base;
            else if (us < BACKOFF_MAX_US)
                us *= 2;
        }
        sleep_us(us);
        pthread_mutex_lock(&s_lock);
    }
    return NULL;
}

void fwe_tier_sample_enter(fwe_instance *e)
{
    if (e->sample_refs++)
        return;
    pthread_mutex_lock(&s_lock);
    if (!s_started) {
        s_interval_us = fwe_tier_sample_interval_us();
        pthread_t t;
        pthread_attr_t attr;
        pthread_attr_init(&attr);
        pthread_attr_setstacksize(&attr, 64 * 1024);
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        s_started = pthread_create(&t, &attr, sampler, NULL) == 0;
        pthread_attr_destroy(&attr);
        if (!s_started) {
            /* no sampling then: hotness by counts alone */
            pthread_mutex_unlock(&s_lock);
            return;
        }
    }
    e->sample_prev = NULL;
    e->sample_next = s_head;
    if (s_head)
        s_head->sample_prev = e;
    else if (s_blocked)
        pthread_cond_signal(&s_wake);
    s_head = e;
    e->sample_linked = true;
    pthread_mutex_unlock(&s_lock);
}

void fwe_tier_sample_leave(fwe_instance *e)
{
    if (--e->sample_refs)
        return;
    pthread_mutex_lock(&s_lock);
    if (e->sample_linked) {
        if (e->sample_prev)
            e->sample_prev->sample_next = e->sample_next;
        else
            s_head = e->sample_next;
        if (e->sample_next)
            e->sample_next->sample_prev = e->sample_prev;
        e->sample_linked = false;
    }
    pthread_mutex_unlock(&s_lock);
    /* a bit set after the last check would otherwise count a sample in the instance's next call */
    atomic_fetch_and_explicit(&e->interrupt, ~FWE_INTERRUPT_SAMPLE, memory_order_relaxed);
}

bool fwe_interrupt_poll(fwe_instance *e, const fwe_module *m, uint32_t func_index, int where)
{
    uint32_t v =
        atomic_fetch_and_explicit(&e->interrupt, ~FWE_INTERRUPT_SAMPLE, memory_order_relaxed);
    if (v & ~FWE_INTERRUPT_SAMPLE)
        return true; /* fwe_instance_interrupt: a real one */
    if (!(v & FWE_INTERRUPT_SAMPLE))
        return false;
    __atomic_fetch_add(&s_samples[where], 1, __ATOMIC_RELAXED);
    if (where == FWE_SAMPLE_QUICK && m && m->qsamples && func_index >= m->nfunc_imports &&
        func_index < m->nfuncs)
        __atomic_fetch_add(&m->qsamples[func_index - m->nfunc_imports], 1, __ATOMIC_RELAXED);
    if (where == FWE_SAMPLE_INTERP && m && m->hot && func_index >= m->nfunc_imports) {
        uint32_t w = m->hot_threshold / 4;
        fwe_tier_count(m, func_index - m->nfunc_imports, w ? w : 1);
    }
    return false;
}

void fwe_tier_samples_get(uint64_t out[3])
{
    for (int i = 0; i < 3; i++)
        out[i] = __atomic_load_n(&s_samples[i], __ATOMIC_RELAXED);
}
