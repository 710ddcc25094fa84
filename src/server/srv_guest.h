/* srv_guest.h: the loaded guest: the module compiled once at startup, and a pool of linker slots
 * (a linker with WASI and every Fastly hostcall, and the wasi_ctx bound to it) that requests
 * borrow one at a time, so no linker is built per request. Also the deadline watchdog, the board
 * of instances waiting for another request, and the settings every request shares. */
#ifndef SRV_GUEST_H
#define SRV_GUEST_H

#include "fastlike.h"
#include "fwe.h"
#include "hostcalls/hc_ctx.h"
#include "server/srv_log.h"
#include "server/srv_reuse.h"
#include "server/srv_timer.h"
#include "wasi/wasi.h"

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct srv_slot {
    struct srv_slot *next; /* free list */
    fwe_linker *linker;
    wasi_ctx *wasi;
} srv_slot;

typedef struct srv_guest_config {
    const uint8_t *wasm;
    size_t wasm_len;
    bool unknown_import_error; /* fail when the guest imports names Fastlike does not know */
    uint64_t timeout_ms;       /* per-request deadline, 0 = none */
    uint64_t memory_limit;     /* linear memory per instance in bytes, 0 = the wasm32 maximum */
    srv_log log;
    hc_settings hc;         /* strings must outlive the guest */
    const char *const *env; /* "NAME=VALUE" (copied), without FASTLY_TRACE_ID */
    size_t nenv;
} srv_guest_config;

typedef struct srv_guest {
    fwe_engine *engine;
    fwe_module *module;
    srv_timer *timer;
    uint64_t timeout_ms;
    uint64_t max_memory_pages; /* for fwe_instance_config */
    srv_log log;
    hc_settings hc;
    char **env;
    size_t nenv;
    pthread_mutex_t lock; /* guards the slot free list */
    srv_slot *free_slots;
    srv_reuse reuse; /* instances waiting in next_request for another request */
} srv_guest;

/* Compiles the module and checks that it can be served (exports `_start`; with
 * unknown_import_error, imports only known names). Errors: FASTLIKE_ERR_WASM with the engine's
 * message, FASTLIKE_ERR_NOMEM. */
fastlike_status srv_guest_new(const srv_guest_config *cfg, srv_guest **out, char *err,
                              size_t errlen);
void srv_guest_free(srv_guest *g); /* accepts NULL; no request may be running */

/* Borrows a linker slot (made on demand); NULL when out of memory. */
srv_slot *srv_guest_acquire(srv_guest *g);
void srv_guest_release(srv_guest *g, srv_slot *slot);

#endif
