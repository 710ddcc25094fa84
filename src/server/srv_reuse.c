/* srv_reuse.c: the board of instances waiting for another downstream request: a short stack of
 * waiters under one lock; an offer pops the most recent one and hands it the item. */
#include "server/srv_reuse.h"

#include "util/util_clock.h"

#include <stdlib.h>

struct srv_waiter {
    srv_waiter *next;
    bool listed; /* still on the board, waiting */
    void *item;  /* handed over, or NULL */
    uint64_t deadline_ns;
    void (*wake)(void *);
    void *wake_arg;
};

void srv_reuse_init(srv_reuse *b)
{
    pthread_mutex_init(&b->lock, NULL);
    b->waiting = NULL;
    b->nwaiting = 0;
    b->closed = false;
}

void srv_reuse_deinit(srv_reuse *b)
{
    pthread_mutex_destroy(&b->lock);
}

srv_waiter *srv_reuse_wait_begin(srv_reuse *b, uint64_t deadline_ns, void (*wake)(void *),
                                 void *wake_arg)
{
    srv_waiter *w = calloc(1, sizeof *w);
    if (!w)
        return NULL;
    w->deadline_ns = deadline_ns;
    w->wake = wake;
    w->wake_arg = wake_arg;
    pthread_mutex_lock(&b->lock);
    if (b->closed || b->nwaiting >= SRV_REUSE_MAX_WAITING) {
        pthread_mutex_unlock(&b->lock);
        free(w);
        return NULL;
    }
    w->listed = true;
    w->next = b->waiting;
    b->waiting = w;
    b->nwaiting++;
    pthread_mutex_unlock(&b->lock);
    return w;
}

bool srv_reuse_arrived(srv_reuse *b, srv_waiter *w)
{
    pthread_mutex_lock(&b->lock);
    bool arrived = w->item != NULL || b->closed;
    pthread_mutex_unlock(&b->lock);
    return arrived;
}

/* Takes `w` off the board; the caller holds the lock. */
static void unlist(srv_reuse *b, srv_waiter *w)
{
    if (!w->listed)
        return;
    for (srv_waiter **p = &b->waiting; *p; p = &(*p)->next) {
        if (*p == w) {
            *p = w->next;
            break;
        }
    }
    w->listed = false;
    b->nwaiting--;
}

void *srv_reuse_wait_end(srv_reuse *b, srv_waiter *w)
{
    pthread_mutex_lock(&b->lock);
    unlist(b, w);
    void *item = w->item;
    pthread_mutex_unlock(&b->lock);
    free(w);
    return item;
}

bool srv_reuse_offer(srv_reuse *b, void *item)
{
    /* nobody waiting (the common case): no lock; a waiter that registers at this very moment
     * misses this request as if it had come a moment earlier */
    if (atomic_load_explicit(&b->nwaiting, memory_order_acquire) == 0)
        return false;
    pthread_mutex_lock(&b->lock);
    srv_waiter *w = NULL;
    if (!b->closed && b->waiting) {
        uint64_t now = util_now_ns();
        while ((w = b->waiting) && now >= w->deadline_ns)
            unlist(b, w); /* its wait is over: it ends by itself with no request */
    }
    if (w) {
        unlist(b, w);
        w->item = item;
        w->wake(w->wake_arg);
    }
    pthread_mutex_unlock(&b->lock);
    return w != NULL;
}

void srv_reuse_close(srv_reuse *b)
{
    pthread_mutex_lock(&b->lock);
    b->closed = true;
    while (b->waiting) {
        srv_waiter *w = b->waiting;
        unlist(b, w);
        w->wake(w->wake_arg);
    }
    pthread_mutex_unlock(&b->lock);
}
