/* srv_inflight.h: the guest instances running right now, server-wide (every guest generation of
 * one fastlike), so that a shutdown can interrupt those still running when its grace period ends.
 * Once interrupted, the board stays closed: an instance added later is interrupted at once. */
#ifndef SRV_INFLIGHT_H
#define SRV_INFLIGHT_H

#include "fwe.h"

#include <stdbool.h>
#include <stddef.h>

typedef struct srv_inflight srv_inflight;

/* One running instance; storage belongs to the caller (usually on its stack). */
typedef struct srv_inflight_entry {
    struct srv_inflight_entry *prev, *next;
    fwe_instance *instance;
    bool interrupted; /* by srv_inflight_interrupt_all */
} srv_inflight_entry;

srv_inflight *srv_inflight_new(void);    /* NULL when out of memory */
void srv_inflight_free(srv_inflight *b); /* accepts NULL; no entry may be added */

/* Registers `instance` while it runs; interrupts it at once when the board is closed. */
void srv_inflight_add(srv_inflight *b, srv_inflight_entry *e, fwe_instance *instance);
/* After this returns the board no longer touches the instance. Returns true when the shutdown
 * interrupted it. */
bool srv_inflight_remove(srv_inflight *b, srv_inflight_entry *e);
/* Closes the board and interrupts every registered instance (fwe_instance_interrupt: it traps
 * with FWE_TRAP_INTERRUPTED at its next loop back-edge or call). Returns how many there were. */
size_t srv_inflight_interrupt_all(srv_inflight *b);

#endif
