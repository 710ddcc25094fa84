/* srv_guest.h: the loaded guest: the module compiled once at startup, and a pool of linker slots
 * (a linker with WASI and every Fastly hostcall, and the wasi_ctx bound to it) that requests
 * borrow one at a time, so no linker is built per request. Also the deadline watchdog, the board
 * of instances waiting for another request, and the settings every request shares. A guest is
 * reference-counted: hot reload (srv_live.h) swaps in a new one while requests that hold the old
 * one finish on it; the last reference frees it with its edge-data snapshot. */
#ifndef SRV_GUEST_H
#define SRV_GUEST_H

#include "fastlike.h"
#include "fwe.h"
#include "hostcalls/hc_ctx.h"
#include "server/srv_inflight.h"
#include "server/srv_log.h"
#include "server/srv_reuse.h"
#include "server/srv_timer.h"
#include "wasi/wasi.h"

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Most elements one table of an instance may hold: wasmtime's table_elements store limit as
 * Viceroy sets it (src/linking.rs). Tables live outside linear memory, so the memory cap does not
 * bound them: without this a guest could grow one to 64M elements (512 MiB). */
#define SRV_TABLE_ELEMENTS_MAX 98765

typedef struct srv_slot {
    struct srv_slot *next; /* free list */
    fwe_linker *linker;
    wasi_ctx *wasi;
} srv_slot;

typedef struct srv_guest srv_guest;

/* The compiled module (and the engine it belongs to), shared by the guests of successive reloads
 * while the wasm bytes stay the same; freed with the last guest using it. */
typedef struct srv_code srv_code;

typedef struct srv_guest_config {
    const uint8_t *wasm;
    size_t wasm_len;
    /* When set and its module was compiled from the same bytes, the new guest shares it instead
     * of compiling again (a reload that only changed store files). */
    const srv_guest *previous;
    bool unknown_import_error; /* fail when the guest imports names Fastlike does not know */
    uint64_t timeout_ms;       /* per-request deadline, 0 = none */
    uint64_t memory_limit;     /* linear memory per instance in bytes, 0 = the wasm32 maximum */
    srv_inflight *inflight;    /* the server's running instances (shutdown); not owned; or NULL */
    srv_log log;
    hc_settings hc;         /* strings must outlive the guest */
    const char *const *env; /* "NAME=VALUE" (copied), without FASTLY_TRACE_ID */
    size_t nenv;
    /* The edge data this guest's requests see (hc.edge is pointed at it): taken over by
     * srv_guest_new on success (freed with the guest), left to the caller on failure. NULL keeps
     * hc.edge as given. */
    struct cfg_edge *edge;
} srv_guest_config;

struct srv_guest {
    srv_code *code;     /* owns engine and module (one reference) */
    fwe_engine *engine; /* code's */
    fwe_module *module; /* code's */
    bool module_reused; /* shared with srv_guest_config.previous (same bytes) */
    srv_timer *timer;
    srv_inflight *inflight; /* srv_guest_config.inflight */
    uint64_t timeout_ms;
    uint64_t max_memory_pages; /* for fwe_instance_config */
    srv_log log;
    hc_settings hc;
    char **env;
    size_t nenv;
    pthread_mutex_t lock; /* guards the slot free list */
    srv_slot *free_slots;
    srv_reuse reuse;       /* instances waiting in next_request for another request */
    struct cfg_edge *edge; /* owned snapshot (srv_guest_config.edge), or NULL */
    unsigned refs;         /* srv_guest_hold / srv_guest_drop (under lock) */
};

/* Compiles the module and checks that it can be served (exports `_start`; with
 * unknown_import_error, imports only known names). Errors: FASTLIKE_ERR_WASM with the engine's
 * message, FASTLIKE_ERR_NOMEM. */
fastlike_status srv_guest_new(const srv_guest_config *cfg, srv_guest **out, char *err,
                              size_t errlen);
/* Drops the reference srv_guest_new gave (as srv_guest_drop). Accepts NULL. */
void srv_guest_free(srv_guest *g);
/* One more reference (returns g); each is given back with srv_guest_drop, and the last one frees
 * the guest, which no instance may be using any more. */
srv_guest *srv_guest_hold(srv_guest *g);
void srv_guest_drop(srv_guest *g); /* accepts NULL */

/* Borrows a linker slot (made on demand); NULL when out of memory. */
srv_slot *srv_guest_acquire(srv_guest *g);
void srv_guest_release(srv_guest *g, srv_slot *slot);

#endif
