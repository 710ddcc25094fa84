/* srv_request.c: one request through the guest. The hostcalls see a wrapper sink that records
 * the status and whether the head went out, so the fallbacks (500 / 200 empty) and the request
 * log line do not depend on the hostcall layer's bookkeeping. */
#include "server/srv_request.h"

#include "backend/be_cdn_loop.h"
#include "hostcalls/hc_fanout.h"
#include "profiler/prof_recorder.h"
#include "util/util_clock.h"
#include "util/util_id.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

typedef struct wrap_sink {
    const srv_sink *real;
    hc_downstream_sink hc;
    uint16_t status;
    bool head_sent, ended;
    uint64_t bytes;
    /* the access line, written once when the response ends (-v 1) */
    const srv_guest *g;
    const char *trace;
    const hc_downstream_request *req;
    uint64_t t0;
    bool reused, logged;
    srv_log log;     /* the server's, at the request's own level (fastlike-verbose) */
    prof_req *prof;  /* deep profiling: the record that counts the body bytes, else NULL */
    uint64_t end_ns; /* when the response ended (finished or cut short), for the profiler */
} wrap_sink;

/* "[trace] METHOD URL -> STATUS (ms, body bytes)", timed to the end of the response. */
static void log_access(wrap_sink *w)
{
    if (w->logged)
        return;
    w->logged = true;
    if (w->log.verbosity >= 1)
        srv_logf(&w->log, "[%.8s] %s %s -> %u (%.1f ms, %" PRIu64 " body bytes%s)", w->trace,
                 w->req->method, w->req->url, w->status, (double)(util_now_ns() - w->t0) / 1e6,
                 w->bytes, w->reused ? ", reused instance" : "");
}

static int w_send_head(void *p, uint16_t status, const hc_header_view *h, size_t n, int64_t cl)
{
    wrap_sink *w = p;
    if (w->head_sent)
        return -1;
    w->head_sent = true;
    w->status = status;
    return w->real->hc.send_head(w->real->hc.sink, status, h, n, cl);
}

static int w_write(void *p, const uint8_t *data, size_t len)
{
    wrap_sink *w = p;
    if (!w->head_sent || w->ended)
        return -1;
    w->bytes += len;
    if (w->prof)
        prof_req_resp_body(w->prof, data, len);
    return w->real->hc.write(w->real->hc.sink, data, len);
}

static int w_finish(void *p)
{
    wrap_sink *w = p;
    if (!w->head_sent || w->ended)
        return w->ended ? 0 : -1;
    w->ended = true;
    w->end_ns = util_now_ns();
    int rc = w->real->hc.finish(w->real->hc.sink);
    log_access(w);
    return rc;
}

/* Interim responses and trailers pass straight through (the real sink may lack them). */
static int w_send_info(void *p, uint16_t status, const hc_header_view *h, size_t n)
{
    wrap_sink *w = p;
    if (w->head_sent || w->ended)
        return -1;
    return w->real->hc.send_info ? w->real->hc.send_info(w->real->hc.sink, status, h, n) : 0;
}

static int w_trailers(void *p, const hc_header_view *h, size_t n)
{
    wrap_sink *w = p;
    if (!w->head_sent || w->ended)
        return -1;
    return w->real->hc.trailers ? w->real->hc.trailers(w->real->hc.sink, h, n) : 0;
}

static void w_abort(wrap_sink *w)
{
    if (w->ended)
        return;
    w->ended = true;
    w->end_ns = util_now_ns();
    w->real->abort(w->real->hc.sink);
    log_access(w);
}

static void wrap_init(wrap_sink *w, const srv_sink *real, const srv_guest *g, const char *trace,
                      const hc_downstream_request *req, bool reused)
{
    *w = (wrap_sink){.real = real, .g = g, .trace = trace, .req = req, .reused = reused};
    w->log = g->log;
    w->log.verbosity = hc_request_verbosity(&g->hc, req);
    if (w->log.verbosity < g->log.verbosity)
        w->log.verbosity = g->log.verbosity;
    w->hc = (hc_downstream_sink){w_send_head, w_write, w_finish, w, NULL, NULL};
    w->hc.send_info = w_send_info;
    w->hc.trailers = w_trailers;
    w->t0 = util_now_ns();
}

/* The guest handed the connection over (Fanout, WebSocket): no response of ours goes out. */
static void w_handed_off(wrap_sink *w)
{
    if (w->ended)
        return;
    w->head_sent = w->ended = true;
    w->end_ns = util_now_ns();
    if (w->log.verbosity >= 1)
        srv_logf(&w->log, "[%.8s] %s %s -> handed off (%.1f ms)", w->trace, w->req->method,
                 w->req->url, (double)(util_now_ns() - w->t0) / 1e6);
    w->logged = true;
}

/* A complete response of our own (loop, failure, empty). */
static void send_simple(wrap_sink *w, uint16_t status, const char *body)
{
    static const char ctype[] = "text/plain; charset=utf-8";
    hc_header_view h = {"content-type", 12, ctype, sizeof ctype - 1};
    size_t len = strlen(body);
    if (w_send_head(w, status, len ? &h : NULL, len ? 1 : 0, (int64_t)len) == 0 && len)
        w_write(w, (const uint8_t *)body, len);
    w_finish(w);
}

size_t srv_request_loop_passes(const hc_downstream_request *req)
{
    size_t passes = 0;
    for (size_t i = 0; i < req->nheaders; i++) {
        const hc_header_view *h = &req->headers[i];
        if (h->name_len == 8 && strncasecmp(h->name, "cdn-loop", 8) == 0)
            passes += be_cdn_loop_count(h->value, h->value_len);
    }
    return passes;
}

bool srv_request_is_loop(const hc_downstream_request *req)
{
    return srv_request_loop_passes(req) >= SRV_LOOP_MAX_PASSES;
}

typedef struct guest_output {
    srv_linebuf out, err;
    prof_recorder *prof; /* guest output goes into the request's profile too */
} guest_output;

static int on_output(void *user, int fd, const uint8_t *data, size_t len)
{
    guest_output *o = user;
    if (o->prof)
        prof_recorder_output(o->prof, fd == 2 ? 2 : 1, data, len);
    srv_linebuf_write(fd == 2 ? &o->err : &o->out, data, len);
    return 0;
}

static bool is_start_type(fwe_func *f)
{
    fwe_functype_info ti;
    fwe_func_type(f, &ti);
    return ti.nparams == 0 && ti.nresults == 0;
}

/* The trap and its backtrace on one line: "msg (at #0 f (func 3) <- #1 g (func 1))". */
static void log_trap(const srv_guest *g, const hc_downstream_request *req, const char *trace,
                     const fwe_trap *trap)
{
    char text[4096];
    size_t n = fwe_trap_format(trap, text, sizeof text);
    if (n >= sizeof text)
        n = sizeof text - 1;
    text[n] = '\0';
    while (n > 0 && text[n - 1] == '\n')
        text[--n] = '\0';
    /* fold "\n  at" into " <- at" so the whole report stays one log line */
    char flat[4096];
    size_t o = 0;
    for (size_t i = 0; i < n && o + 8 < sizeof flat; i++) {
        if (text[i] == '\n') {
            flat[o++] = ' ';
            flat[o++] = '|';
            while (i + 1 < n && text[i + 1] == ' ')
                i++;
            flat[o++] = ' ';
            continue;
        }
        flat[o++] = text[i];
    }
    flat[o] = '\0';
    srv_logf(&g->log, "[%.8s] %s %s: guest trapped: %s", trace, req->method, req->url, flat);
}

/* ---- reusable instances ---- */

/* A request handed to this instance and accepted by the guest. */
typedef struct served {
    struct served *next;
    srv_handoff *h;
    wrap_sink w;
} served;

/* The requests one instance serves: the first, then any it takes with next_request. */
typedef struct run_state {
    srv_guest *g;
    const char *trace;
    hc_ctx *hc;
    hc_next_source src;
    wrap_sink *current; /* the request the guest works on now */
    const hc_downstream_request *current_req;
    served *accepted; /* most recent first */
    prof_req *prof;   /* the profiler's record of the current request, or NULL */
} run_state;

static void *rs_wait_begin(void *user, uint64_t deadline_ns, void (*wake)(void *), void *wake_arg)
{
    run_state *rs = user;
    return srv_reuse_wait_begin(&rs->g->reuse, deadline_ns, wake, wake_arg);
}

static bool rs_arrived(void *user, void *waiter)
{
    run_state *rs = user;
    return srv_reuse_arrived(&rs->g->reuse, waiter);
}

static bool rs_wait_end(void *user, void *waiter, bool accept, const hc_downstream_request **req,
                        const hc_downstream_sink **sink)
{
    run_state *rs = user;
    srv_handoff *h = srv_reuse_wait_end(&rs->g->reuse, waiter);
    if (!h)
        return false;
    served *s = accept ? calloc(1, sizeof *s) : NULL;
    if (!s) {
        h->done(h, false); /* served by a fresh instance instead */
        return false;
    }
    /* the guest is done with the current request (its response went out, or was cut short) */
    if (hc_ctx_handed_off(rs->hc))
        w_handed_off(rs->current);
    if (!hc_ctx_response_finished(rs->hc))
        w_abort(rs->current);
    if (rs->prof) { /* the previous request's profile ends with its response */
        prof_recorder_end_at(rs->g->hc.profiler, rs->prof, rs->current->status,
                             rs->current->end_ns);
        rs->prof = NULL;
    }
    s->h = h;
    wrap_init(&s->w, h->sink, rs->g, rs->trace, h->req, true);
    s->next = rs->accepted;
    rs->accepted = s;
    rs->current = &s->w;
    rs->current_req = h->req;
    prof_recorder *prof = rs->g->hc.profiler;
    if (prof && !rs->prof) { /* a profile of its own for each request the instance takes */
        rs->prof = prof_recorder_begin(prof, h->req->method, h->req->url, rs->trace);
        if (prof_recorder_deep(prof) && rs->prof) {
            s->w.prof = rs->prof;
            prof_req_retain(rs->prof); /* released with s */
        }
    }
    *req = h->req;
    *sink = &s->w.hc;
    return true;
}

bool srv_request_offer(srv_guest *g, srv_handoff *h)
{
    if (srv_request_is_loop(h->req))
        return false;
    return srv_reuse_offer(&g->reuse, h);
}

/* ---- deep profiling: memory.grow, and the downstream request body counted as the guest reads
 * it ---- */

static void prof_on_memory_grow(void *host_data, uint64_t new_size)
{
    (void)host_data;
    prof_req *r = prof_current(); /* the request the instance works on now */
    if (r)
        prof_req_memory(r, new_size);
}

typedef struct prof_counted_body {
    hc_read_fn read;
    void *src;
    prof_req *pr;
} prof_counted_body;

static long counted_read(void *src, uint8_t *buf, size_t len)
{
    prof_counted_body *c = src;
    long n = c->read(c->src, buf, len);
    if (n > 0) {
        pthread_mutex_lock(&c->pr->mu);
        c->pr->req_body_bytes += (uint64_t)n;
        pthread_mutex_unlock(&c->pr->mu);
    }
    return n;
}

/* ---- one instance ---- */

srv_outcome srv_request_run(srv_guest *g, const hc_downstream_request *req, const srv_sink *sink,
                            bool reusable)
{
    char trace[33];
    util_trace_hex_id(trace);
    wrap_sink w;
    wrap_init(&w, sink, g, trace, req, false);
    run_state rs = {.g = g, .trace = trace, .current = &w, .current_req = req};
    rs.src = (hc_next_source){rs_wait_begin, rs_arrived, rs_wait_end, &rs};
    srv_outcome outcome;
    if (srv_request_is_loop(req)) {
        char text[160];
        snprintf(text, sizeof text,
                 "Loop detected: this request already passed through Fastlike %zu times "
                 "(cdn-loop header; at most %d passes are allowed)\n",
                 srv_request_loop_passes(req), SRV_LOOP_MAX_PASSES);
        send_simple(&w, 508, text);
        return SRV_OUTCOME_LOOP;
    }

    prof_recorder *prof = g->hc.profiler;
    prof_req *pr = prof ? prof_recorder_begin(prof, req->method, req->url, trace) : NULL;
    rs.prof = pr;
    prof_counted_body pcb;
    hc_downstream_request deep_req;
    if (pr && prof_recorder_deep(prof)) {
        for (size_t i = 0; i < req->nheaders; i++)
            prof_req_header(pr, req->headers[i].name, req->headers[i].name_len,
                            req->headers[i].value, req->headers[i].value_len);
        w.prof = pr;
        prof_req_retain(pr);  /* for w, until the end of the run */
        if (req->body_read) { /* count the request body as the guest reads it */
            pcb = (prof_counted_body){req->body_read, req->body_src, pr}; /* w's reference */
            deep_req = *req;
            deep_req.body_read = counted_read;
            deep_req.body_src = &pcb;
            req = &deep_req;
            w.req = req;
            rs.current_req = req;
        }
    }
    srv_slot *slot = srv_guest_acquire(g);
    hc_ctx *hc = NULL;
    fwe_instance *inst = NULL;
    fwe_trap *trap = calloc(1, sizeof *trap);
    guest_output out = {.prof = prof};
    srv_linebuf_init(&out.out, &g->log, trace, "stdout");
    srv_linebuf_init(&out.err, &g->log, trace, "stderr");
    bool failed = true;
    bool shutting_down = false; /* interrupted at the end of the shutdown grace period */

    char trace_env[64];
    snprintf(trace_env, sizeof trace_env, "FASTLY_TRACE_ID=%s", trace);
    const char *env_small[32];
    const char **env = g->nenv + 1 <= 32 ? env_small : malloc((g->nenv + 1) * sizeof *env);
    if (!slot || !trap || !env) {
        srv_logf(&g->log, "[%.8s] %s %s: out of memory", trace, req->method, req->url);
        goto done;
    }
    for (size_t i = 0; i < g->nenv; i++)
        env[i] = g->env[i];
    env[g->nenv] = trace_env;
    if (wasi_ctx_reset(slot->wasi, g->nenv + 1, env) != WASI_ESUCCESS) {
        srv_logf(&g->log, "[%.8s] %s %s: out of memory", trace, req->method, req->url);
        goto done;
    }
    wasi_ctx_set_output(slot->wasi, on_output, &out);
    hc = hc_ctx_new(&g->hc, req, &w.hc, trace);
    if (!hc) {
        srv_logf(&g->log, "[%.8s] %s %s: out of memory", trace, req->method, req->url);
        goto done;
    }
    rs.hc = hc;
    if (reusable)
        hc_ctx_set_next_source(hc, &rs.src);
    /* the module's start function runs below, under the CPU deadline like `_start` */
    fwe_instance_config ic = {
        .host_data = hc, .max_memory_pages = g->max_memory_pages, .defer_start = true};
    ic.max_table_elements = SRV_TABLE_ELEMENTS_MAX;
    if (pr && prof_recorder_deep(prof))
        ic.on_memory_grow = prof_on_memory_grow; /* deep mode's memory curve */
    fwe_status st = fwe_instantiate(slot->linker, g->module, &ic, &inst, trap);
    if (st == FWE_ERR_TRAP) {
        log_trap(g, req, trace, trap);
        goto done;
    }
    if (st != FWE_OK) {
        srv_logf(&g->log, "[%.8s] %s %s: cannot instantiate the guest: %s", trace, req->method,
                 req->url, trap->message[0] ? trap->message : fwe_strerror(st));
        goto done;
    }
    fwe_extern start;
    if (!fwe_instance_export(inst, "_start", 6, &start) || start.kind != FWE_EXTERN_FUNC ||
        !is_start_type(start.of.func)) {
        srv_logf(&g->log, "[%.8s] guest has no `_start` of type [] -> []", trace);
        goto done;
    }
    srv_timer_entry te;
    srv_inflight_entry ie;
    if (g->timeout_ms)
        srv_timer_arm(g->timer, &te, inst, g->timeout_ms, hc_ctx_cpu_start_ns(hc));
    if (g->inflight)
        srv_inflight_add(g->inflight, &ie, inst);
    st = fwe_instance_run_start(inst, trap);
    if (st == FWE_OK)
        st = fwe_call(start.of.func, NULL, 0, NULL, 0, trap);
    bool fired = g->timeout_ms ? srv_timer_disarm(g->timer, &te) : false;
    bool shut = g->inflight ? srv_inflight_remove(g->inflight, &ie) : false;
    /* failures are reported against the request the guest was working on */
    const hc_downstream_request *cur = rs.current_req;
    if (st == FWE_OK ||
        (st == FWE_ERR_TRAP && trap->kind == FWE_TRAP_EXIT && trap->exit_code == 0)) {
        failed = false;
    } else if (st == FWE_ERR_TRAP && trap->kind == FWE_TRAP_EXIT) {
        srv_logf(&g->log, "[%.8s] %s %s: guest exited with code %d", trace, cur->method, cur->url,
                 trap->exit_code);
    } else if (st == FWE_ERR_TRAP && trap->kind == FWE_TRAP_INTERRUPTED && fired) {
        srv_logf(&g->log, "[%.8s] %s %s: guest stopped: CPU deadline of %" PRIu64 " ms exceeded",
                 trace, cur->method, cur->url, g->timeout_ms);
    } else if (st == FWE_ERR_TRAP && trap->kind == FWE_TRAP_INTERRUPTED && shut) {
        srv_logf(&g->log, "[%.8s] %s %s: guest stopped: the server is shutting down", trace,
                 cur->method, cur->url);
        shutting_down = true;
    } else if (st == FWE_ERR_TRAP) {
        log_trap(g, cur, trace, trap);
    } else {
        srv_logf(&g->log, "[%.8s] %s %s: calling _start failed: %s", trace, cur->method, cur->url,
                 fwe_strerror(st));
    }
done:;
    wrap_sink *cw = rs.current;
    if (hc && hc_ctx_handed_off(hc))
        w_handed_off(cw); /* even when the guest failed after handing over */
    if (failed) {
        if (!cw->head_sent && shutting_down)
            send_simple(cw, 503, "503 Service Unavailable: the server is shutting down\n");
        else if (!cw->head_sent)
            send_simple(cw, 500,
                        "500 Internal Server Error: the guest failed (see the server log)\n");
        else
            w_abort(cw);
        outcome = SRV_OUTCOME_FAILED;
    } else {
        outcome = cw->head_sent ? SRV_OUTCOME_RESPONDED : SRV_OUTCOME_EMPTY;
    }
    if (hc)
        hc_ctx_finish(hc); /* a streaming body the guest left open ends here */
    if (!cw->head_sent)
        send_simple(cw, 200, "");
    else if (hc && !hc_ctx_response_finished(hc))
        w_abort(cw); /* the guest abandoned its streaming body: the client sees it cut short */
    else
        w_finish(cw);
    log_access(cw);  /* when the guest left it neither finished nor aborted */
    hc_ctx_free(hc); /* a request handed over but never taken goes back to its offerer */
    fwe_instance_free(inst);
    if (slot)
        wasi_ctx_set_output(slot->wasi, NULL, NULL);
    srv_guest_release(g, slot);
    srv_linebuf_deinit(&out.out);
    srv_linebuf_deinit(&out.err);
    if (env && env != env_small)
        free(env);
    free(trap);
    /* the request the guest was on: to the end of the run, or for a request taken with
     * next_request, to the end of its response (the instance may idle after it) */
    prof_recorder_end_at(prof, rs.prof, cw->status, rs.accepted ? cw->end_ns : 0);
    prof_req_release(w.prof);
    /* the requests taken with next_request: their connections wait for this */
    srv_outcome first = outcome;
    while (rs.accepted) {
        served *s = rs.accepted;
        rs.accepted = s->next;
        s->h->outcome = &s->w == cw ? outcome : SRV_OUTCOME_RESPONDED;
        s->h->done(s->h, true);
        prof_req_release(s->w.prof);
        free(s);
        first = SRV_OUTCOME_RESPONDED;
    }
    return first;
}
