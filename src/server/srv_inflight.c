/* srv_inflight.c: the board of running instances: a doubly linked list of caller-owned entries
 * under one mutex, and a closed flag set by the shutdown. Adding and removing is O(1); only the
 * shutdown walks the list. */
#include "server/srv_inflight.h"

#include <pthread.h>
#include <stdlib.h>

struct srv_inflight {
    pthread_mutex_t lock;
    srv_inflight_entry *head;
    bool closed;
};

srv_inflight *srv_inflight_new(void)
{
    srv_inflight *b = calloc(1, sizeof *b);
    if (b)
        pthread_mutex_init(&b->lock, NULL);
    return b;
}

void srv_inflight_free(srv_inflight *b)
{
    if (!b)
        return;
    pthread_mutex_destroy(&b->lock);
    free(b);
}

void srv_inflight_add(srv_inflight *b, srv_inflight_entry *e, fwe_instance *instance)
{
    e->instance = instance;
    e->prev = NULL;
    pthread_mutex_lock(&b->lock);
    e->interrupted = b->closed;
    if (b->closed)
        fwe_instance_interrupt(instance);
    e->next = b->head;
    if (b->head)
        b->head->prev = e;
    b->head = e;
    pthread_mutex_unlock(&b->lock);
}

bool srv_inflight_remove(srv_inflight *b, srv_inflight_entry *e)
{
    pthread_mutex_lock(&b->lock);
    if (e->prev)
        e->prev->next = e->next;
    else
        b->head = e->next;
    if (e->next)
        e->next->prev = e->prev;
    bool interrupted = e->interrupted;
    pthread_mutex_unlock(&b->lock);
    return interrupted;
}

size_t srv_inflight_interrupt_all(srv_inflight *b)
{
    size_t n = 0;
    pthread_mutex_lock(&b->lock);
    b->closed = true;
    /* under the lock, so remove cannot return while we touch the instance */
    for (srv_inflight_entry *e = b->head; e; e = e->next) {
        fwe_instance_interrupt(e->instance);
        e->interrupted = true;
        n++;
    }
    pthread_mutex_unlock(&b->lock);
    return n;
}
