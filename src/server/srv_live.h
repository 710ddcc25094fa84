/* srv_live.h: the guest now serving, for hot reload. Every request takes a reference to the
 * current guest (module + edge-data snapshot) when it starts and keeps it to the end; a reload
 * swaps in a new guest atomically, so requests already running finish on the old one and new
 * ones get the new one. Instances of the old guest waiting in next_request are released (they
 * end with no further request) so that no new request reaches the old module. */
#ifndef SRV_LIVE_H
#define SRV_LIVE_H

#include "server/srv_guest.h"

#include <pthread.h>
#include <stdint.h>

typedef struct srv_live {
    pthread_mutex_t lock;
    srv_guest *current;  /* one reference held here */
    uint64_t generation; /* 1 for the guest loaded at startup, +1 per swap */
} srv_live;

/* Takes over the caller's reference to `g`. */
void srv_live_init(srv_live *l, srv_guest *g);
/* Drops the reference to the current guest. No swap may run concurrently. */
void srv_live_deinit(srv_live *l);

/* The current guest with one more reference (give it back with srv_guest_drop). */
srv_guest *srv_live_acquire(srv_live *l);
/* Makes `g` current (taking over the caller's reference) and returns the new generation. The
 * previous guest's reuse board is closed and its reference dropped: it is freed once the last
 * request running on it ends. */
uint64_t srv_live_swap(srv_live *l, srv_guest *g);
uint64_t srv_live_generation(srv_live *l);

#endif
