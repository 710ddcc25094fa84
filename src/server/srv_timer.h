/* srv_timer.h: per-request guest deadlines. One watchdog thread keeps the armed entries and
 * interrupts an instance (fwe_instance_interrupt) when its deadline passes; the guest then traps
 * with FWE_TRAP_INTERRUPTED at its next loop back-edge or call. */
#ifndef SRV_TIMER_H
#define SRV_TIMER_H

#include "fwe.h"

#include <stdbool.h>
#include <stdint.h>

typedef struct srv_timer srv_timer;

/* One armed deadline; storage belongs to the caller (usually on its stack). */
typedef struct srv_timer_entry {
    struct srv_timer_entry *prev, *next;
    fwe_instance *instance;
    uint64_t deadline_ns; /* CLOCK_MONOTONIC */
    bool fired;
} srv_timer_entry;

/* Starts the watchdog thread; NULL when it cannot. */
srv_timer *srv_timer_new(void);
void srv_timer_free(srv_timer *t); /* accepts NULL; no entry may be armed */

/* Interrupts `instance` after `ms` milliseconds unless disarmed first. */
void srv_timer_arm(srv_timer *t, srv_timer_entry *e, fwe_instance *instance, uint64_t ms);
/* After this returns the watchdog no longer touches the instance. Returns true if it fired. */
bool srv_timer_disarm(srv_timer *t, srv_timer_entry *e);

#endif
