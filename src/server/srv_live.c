/* srv_live.c: the current guest behind a mutex; acquire takes a reference, swap replaces the
 * guest and lets the old one go once its last request ends. */
#include "server/srv_live.h"

void srv_live_init(srv_live *l, srv_guest *g)
{
    pthread_mutex_init(&l->lock, NULL);
    l->current = g;
    l->generation = 1;
}

void srv_live_deinit(srv_live *l)
{
    srv_guest_drop(l->current);
    l->current = NULL;
    pthread_mutex_destroy(&l->lock);
}

srv_guest *srv_live_acquire(srv_live *l)
{
    pthread_mutex_lock(&l->lock);
    srv_guest *g = l->current ? srv_guest_hold(l->current) : NULL;
    pthread_mutex_unlock(&l->lock);
    return g;
}

uint64_t srv_live_swap(srv_live *l, srv_guest *g)
{
    pthread_mutex_lock(&l->lock);
    srv_guest *old = l->current;
    l->current = g;
    uint64_t gen = ++l->generation;
    pthread_mutex_unlock(&l->lock);
    if (old) {
        /* waiting instances of the old module end now: later requests must reach the new one */
        srv_reuse_close(&old->reuse);
        srv_guest_drop(old);
    }
    return gen;
}

uint64_t srv_live_generation(srv_live *l)
{
    pthread_mutex_lock(&l->lock);
    uint64_t gen = l->generation;
    pthread_mutex_unlock(&l->lock);
    return gen;
}
