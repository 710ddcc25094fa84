/* srv_request.h: the life of one downstream request in the guest, shared by the HTTP front end and
 * fastlike_handle: loop check, a fresh instance from the shared module, the FASTLY_* environment
 * with a fresh trace id, guest output into the log, the deadline, and the fallbacks (500 after a
 * trap, 200 with an empty body when the guest sends nothing, 508 on a CDN loop). Also reusable
 * instances: a request can be handed to an instance waiting in next_request instead. */
#ifndef SRV_REQUEST_H
#define SRV_REQUEST_H

#include "hostcalls/hc_ctx.h"
#include "server/srv_guest.h"

/* Where the response goes: the hostcall sink, plus `abort` for a guest that fails after the head
 * went out (the front end then ends the response as broken, e.g. without the last chunk). */
typedef struct srv_sink {
    hc_downstream_sink hc;
    void (*abort)(void *sink);
} srv_sink;

typedef enum srv_outcome {
    SRV_OUTCOME_RESPONDED, /* the guest sent a response */
    SRV_OUTCOME_EMPTY,     /* the guest ended without one: 200, empty body */
    SRV_OUTCOME_FAILED,    /* trap, deadline, proc_exit(n != 0) or host error: 500 or aborted */
    SRV_OUTCOME_LOOP,      /* cdn-loop names Fastlike too often: 508, guest not run */
} srv_outcome;

/* Loop detection. Every backend request Fastlike sends appends "Fastlike" to cdn-loop, so a
 * request that arrives listing it N times has passed through Fastlike N times before. A service
 * may call itself (a handler fetching another path of its own service), so a bounded number of
 * passes is allowed: a request listing Fastlike SRV_LOOP_MAX_PASSES times or more (the pass after
 * the 5th) is a loop and gets 508 without running the guest. */
#define SRV_LOOP_MAX_PASSES 5
/* How many cdn-loop tokens of `req` (all its cdn-loop headers) are "Fastlike" (case-insensitive).
 */
size_t srv_request_loop_passes(const hc_downstream_request *req);
/* srv_request_loop_passes(req) >= SRV_LOOP_MAX_PASSES. */
bool srv_request_is_loop(const hc_downstream_request *req);

/* A downstream request offered to an instance that waits for another one (next_request). */
typedef struct srv_handoff srv_handoff;
struct srv_handoff {
    const hc_downstream_request *req; /* both valid until done() */
    const srv_sink *sink;
    /* Called once, from the instance's thread: ran (the response went through sink; outcome
     * says how) or given back unrun (the offerer then serves it with srv_request_run). */
    void (*done)(srv_handoff *h, bool ran);
    void *user;
    srv_outcome outcome;
};

/* Hands `h` to the most recent instance waiting in next_request, if any: true when taken (done
 * follows later). Never hands over a request that must not reach a guest (a CDN loop). */
bool srv_request_offer(srv_guest *g, srv_handoff *h);

/* Runs the guest for `req` on the calling thread; every path sends exactly one head through
 * `sink` and then finishes or aborts it. `req` must stay valid until it returns. With `reusable`
 * the guest may take further requests with next_request (each handed over through
 * srv_request_offer and released by its done()); without, its next_request resolves to "no
 * request" at once. */
srv_outcome srv_request_run(srv_guest *g, const hc_downstream_request *req, const srv_sink *sink,
                            bool reusable);

#endif
