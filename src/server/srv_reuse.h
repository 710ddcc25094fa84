/* srv_reuse.h: the board of reusable instances. A guest that calls
 * fastly_http_downstream.next_request waits here (at most SRV_REUSE_MAX_WAITING instances at once,
 * as Viceroy), and a new downstream request is handed to the most recent waiter instead of a fresh
 * instance. The board only moves opaque items; what an item is belongs to srv_request.c. Closing
 * the board (server shutdown) releases every waiter without a request. */
#ifndef SRV_REUSE_H
#define SRV_REUSE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SRV_REUSE_MAX_WAITING 5

typedef struct srv_waiter srv_waiter;

typedef struct srv_reuse {
    pthread_mutex_t lock;
    srv_waiter *waiting;     /* most recent first */
    _Atomic size_t nwaiting; /* read without the lock by an offer that finds nobody */
    bool closed;
} srv_reuse;

void srv_reuse_init(srv_reuse *b);
void srv_reuse_deinit(srv_reuse *b); /* no waiter may be left */

/* Registers a waiter until the CLOCK_MONOTONIC time deadline_ns (no item is handed to it after
 * that); wake(wake_arg) is called (under the board's lock, from the offering thread) when an item
 * is handed to it or the board closes. NULL when the board is full or closed, or out of memory. */
srv_waiter *srv_reuse_wait_begin(srv_reuse *b, uint64_t deadline_ns, void (*wake)(void *),
                                 void *wake_arg);
/* True once an item was handed to the waiter or the board closed. */
bool srv_reuse_arrived(srv_reuse *b, srv_waiter *w);
/* Unregisters and frees the waiter; returns the item handed to it (now the caller's) or NULL. */
void *srv_reuse_wait_end(srv_reuse *b, srv_waiter *w);

/* Hands `item` to the most recent waiter whose deadline has not passed (expired ones leave the
 * board): true when taken (the waiter owns it now). */
bool srv_reuse_offer(srv_reuse *b, void *item);
/* Refuses further waiters and offers, and wakes every waiter. */
void srv_reuse_close(srv_reuse *b);

#endif
