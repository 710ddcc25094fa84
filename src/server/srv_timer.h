/* srv_timer.h: per-request guest CPU deadlines. One watchdog thread keeps the armed entries and
 * interrupts an instance (fwe_instance_interrupt) once the thread running it has used its CPU
 * budget; the guest then traps with FWE_TRAP_INTERRUPTED at its next backward branch or call.
 * Time a guest spends blocked in a hostcall (waiting for a client or a backend) does not count. */
#ifndef SRV_TIMER_H
#define SRV_TIMER_H

#include "fwe.h"

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

typedef struct srv_timer srv_timer;

/* One armed deadline; storage belongs to the caller (usually on its stack). */
typedef struct srv_timer_entry {
    struct srv_timer_entry *prev, *next;
    fwe_instance *instance;
    clockid_t cpu_clock;  /* CPU-time clock of the thread running the guest */
    uint64_t deadline_ns; /* on cpu_clock */
    bool fired;
} srv_timer_entry;

/* Starts the watchdog thread; NULL when it cannot. */
srv_timer *srv_timer_new(void);
void srv_timer_free(srv_timer *t); /* accepts NULL; no entry may be armed */

/* Interrupts `instance` once the calling thread (which runs the guest) has used `ms` more
 * milliseconds of CPU time than `cpu_now_ns` (its CPU clock, read by the caller a moment ago; 0:
 * read it now), unless disarmed first. */
void srv_timer_arm(srv_timer *t, srv_timer_entry *e, fwe_instance *instance, uint64_t ms,
                   uint64_t cpu_now_ns);
/* After this returns the watchdog no longer touches the instance. Returns true if it fired. */
bool srv_timer_disarm(srv_timer *t, srv_timer_entry *e);

#endif
