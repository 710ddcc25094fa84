/* srv_fastlike.c: the fastlike object of include/fastlike.h: loading the guest from a config,
 * serving HTTP (fastlike_start/serve/stop, stop being safe from signal handlers through a self
 * pipe), and fastlike_handle, which runs one request in-process with a memory body source and a
 * buffering sink. */
#include "fastlike.h"
#include "backend/be_backend.h"
#include "hostcalls/hc_erl.h"
#include "hostcalls/hc_kv_stores.h"
#include "hostcalls/hc_log.h"
#include "hostcalls/hc_cache_store.h"
#include "profiler/prof_recorder.h"
#include "profiler/prof_viewer.h"
#include "server/srv_fanout.h"
#include "server/srv_config.h"
#include "server/srv_guest.h"
#include "server/srv_http.h"
#include "server/srv_inflight.h"
#include "server/srv_request.h"
#include "server/srv_run.h"
#include "server/srv_fastlike.h"
#include "server/srv_watch.h"
#include "config/cfg_edge_reread.h"
#include "server/srv_live.h"
#include "util/util_clock.h"
#include "util/util_grow.h"
#include "wasi/wasi_run.h"
#include "util/util_str.h"

#include <inttypes.h>
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

struct fastlike {
    srv_live live; /* the guest now serving: module + edge-data snapshot (hot reload swaps it) */
    srv_log log;
    char *bind;
    size_t workers;
    char *names[5];       /* hostname, pop, region, service id, service version (hc_settings) */
    pthread_mutex_t lock; /* guards http */
    srv_http *http;
    int stop_pipe[2];
    be_backends *backends; /* outbound client shared by every request */
    char *compliance_region;
    char **fake_keys; /* NULL-terminated copy */
    /* server-lifetime state: survives reloads */
    hc_kv_stores *kv;                /* live KV stores (hc_settings.kv) */
    hc_log_endpoints *log_endpoints; /* the loggers' writers (hc_settings.log_endpoints) */
    hc_erl *erl;                     /* rate counters and penalty boxes (hc_settings.erl) */
    hc_cache *cache;                 /* the cache shared by every request (hc_settings.cache) */
    prof_recorder *profiler;         /* NULL when not profiling (hc_settings.profiler) */
    srv_fanout *fanout;              /* Pushpin and handoff settings (hc_settings.fanout) */
    prof_viewer *viewer;             /* -profile-ui listener, or NULL */
    /* what a reload needs to build the next guest the way the first was built */
    pthread_mutex_t reload_lock; /* one reload at a time */
    char *wasm_path;             /* NULL when the guest was given as bytes */
    char **env;                  /* "NAME=VALUE" */
    size_t nenv;
    bool unknown_import_error;
    uint64_t timeout_ms, memory_limit;
    uint64_t shutdown_grace_ms; /* fastlike_serve: how long requests in flight may finish */
    srv_inflight *inflight;     /* the instances running now, of every generation */
    int verbosity;
    srv_watch *watch; /* -watch, or NULL */
    bool watch_wanted;
};

/* The profiler and its viewer, when the configuration asks for them. */
static fastlike_status start_profiler(fastlike *f, const fastlike_config *c, char *err,
                                      size_t errlen)
{
    bool mode_asks = c->profile_mode == CFG_PROFILE_NATIVE ||
                     c->profile_mode == CFG_PROFILE_COMBINED || c->profile_mode == CFG_PROFILE_DEEP;
    bool wanted = c->profile_guest_dir || (c->profile_mode != CFG_PROFILE_OFF &&
                                           (c->profile_ui || c->profile_native || mode_asks));
    if (!wanted)
        return FASTLIKE_OK;
    prof_config pc = {.mode = (prof_mode)c->profile_mode,
                      .native = c->profile_native,
                      .max_requests = c->profile_max_requests,
                      .guest_dir = c->profile_guest_dir,
                      .log = c->log_fn,
                      .log_user = c->log_user};
    char msg[512] = "";
    f->profiler = prof_recorder_new(&pc, msg, sizeof msg);
    if (!f->profiler) {
        snprintf(err, errlen, "profiler: %s", msg);
        return FASTLIKE_ERR_IO;
    }
    prof_secrets *sec = prof_recorder_secrets(f->profiler);
    for (size_t i = 0; i < c->edge.nsecret_stores; i++) {
        const cfg_string_map *m = &c->edge.secret_stores[i].items;
        for (size_t k = 0; k < m->count; k++)
            if (!prof_secrets_add(sec, m->entries[k].value, m->entries[k].value_len)) {
                snprintf(err, errlen, "out of memory");
                return FASTLIKE_ERR_NOMEM;
            }
    }
    if (!c->profile_ui)
        return FASTLIKE_OK;
    prof_viewer_config vc = {.bind = c->profile_ui,
                             .allow_remote = c->profile_allow_remote,
                             .token = c->profile_token,
                             .rec = f->profiler};
    f->viewer = prof_viewer_start(&vc, msg, sizeof msg);
    if (!f->viewer) {
        snprintf(err, errlen, "%s", msg);
        return FASTLIKE_ERR_IO;
    }
    const char *tok = prof_viewer_token(f->viewer);
    srv_logf(&f->log, "fastlike: profiler viewer on http://%s/%s%s (port %u, mode %s)",
             c->profile_ui, tok ? "?token=" : "", tok ? tok : "", prof_viewer_port(f->viewer),
             cfg_profile_mode_name(c->profile_mode));
    return FASTLIKE_OK;
}

static char *dup_or_empty(const char *s)
{
    return util_strdup(s ? s : "");
}

/* The settings every request of a guest shares; `edge` is set by srv_guest_new from the guest's
 * own snapshot. Server-lifetime state (backends, KV stores, log endpoints, rate counters, the
 * cache) is the fastlike's and survives reloads. */
static hc_settings base_settings(const fastlike *f)
{
    return (hc_settings){.verbosity = f->verbosity,
                         .log = f->log.fn,
                         .log_user = f->log.user,
                         .hostname = f->names[0],
                         .pop = f->names[1],
                         .region = f->names[2],
                         .service_id = f->names[3],
                         .service_version = f->names[4],
                         .backends = f->backends,
                         .compliance_region = f->compliance_region,
                         .fake_fastly_keys = (const char *const *)f->fake_keys,
                         .kv = f->kv,
                         .log_endpoints = f->log_endpoints,
                         .erl = f->erl,
                         .cache = f->cache,
                         .fanout = srv_fanout_settings(f->fanout),
                         .profiler = f->profiler};
}

/* Compiles `wasm` (read from `path`, NULL for bytes: names it in errors) into a guest that owns
 * `edge` on success (left to the caller on failure). */
static fastlike_status make_guest(fastlike *f, const char *path, const uint8_t *wasm, size_t len,
                                  cfg_edge *edge, const srv_guest *previous, srv_guest **out,
                                  char *err, size_t errlen)
{
    srv_guest_config gc = {
        .wasm = wasm,
        .wasm_len = len,
        .unknown_import_error = f->unknown_import_error,
        .timeout_ms = f->timeout_ms,
        .memory_limit = f->memory_limit,
        .inflight = f->inflight,
        .log = f->log,
        .hc = base_settings(f),
        .env = (const char *const *)f->env,
        .nenv = f->nenv,
        .edge = edge,
        .previous = previous,
    };
    char msg[1024] = "";
    fastlike_status st = srv_guest_new(&gc, out, msg, sizeof msg);
    if (st != FASTLIKE_OK) {
        if (path)
            snprintf(err, errlen, "%s: %s", path, msg);
        else
            snprintf(err, errlen, "%s", msg);
    }
    return st;
}

/* -watch: the wasm file changed and settled (runs on the watch thread). */
static void on_watch(void *user)
{
    char err[1024];
    fastlike_reload(user, NULL, err, sizeof err); /* logs its outcome */
}

fastlike_status fastlike_new(const fastlike_config *c, fastlike **out, char *err, size_t errlen)
{
    *out = NULL;
    if (errlen)
        err[0] = '\0';
    if (!c->wasm_path && !c->wasm_bytes) {
        snprintf(err, errlen, "no wasm program given (-wasm FILE)");
        return FASTLIKE_ERR_ARGS;
    }
    fastlike *f = calloc(1, sizeof *f);
    if (!f) {
        snprintf(err, errlen, "out of memory");
        return FASTLIKE_ERR_NOMEM;
    }
    f->stop_pipe[0] = f->stop_pipe[1] = -1;
    pthread_mutex_init(&f->lock, NULL);
    pthread_mutex_init(&f->reload_lock, NULL);
    f->log = (srv_log){c->log_fn, c->log_user, c->verbosity};
    f->workers = c->workers;
    f->unknown_import_error = c->unknown_import_error;
    f->timeout_ms = c->timeout_ms;
    f->memory_limit = c->memory_limit;
    f->shutdown_grace_ms = c->shutdown_grace_ms;
    f->verbosity = c->verbosity;
    f->watch_wanted = c->watch;
    fastlike_status st = FASTLIKE_ERR_NOMEM;
    uint8_t *bytes = NULL;
    size_t len = 0;
    cfg_edge *edge = calloc(1, sizeof *edge);
    f->env = calloc(c->nenv + 1, sizeof *f->env);
    f->bind = dup_or_empty(c->bind);
    f->inflight = srv_inflight_new();
    static const char *const keys[5] = {"FASTLY_HOSTNAME", "FASTLY_POP", "FASTLY_REGION",
                                        "FASTLY_SERVICE_ID", "FASTLY_SERVICE_VERSION"};
    for (int i = 0; i < 5; i++)
        f->names[i] = dup_or_empty(srv_config_env(c, keys[i]));
    f->compliance_region = dup_or_empty(c->compliance_region ? c->compliance_region : "none");
    f->fake_keys = calloc(c->nfake_keys + 1, sizeof *f->fake_keys);
    bool keys_ok = f->fake_keys != NULL;
    for (size_t i = 0; keys_ok && i < c->nfake_keys; i++)
        keys_ok = (f->fake_keys[i] = dup_or_empty(c->fake_keys[i])) != NULL;
    if (c->wasm_path)
        f->wasm_path = dup_or_empty(c->wasm_path);
    if (!edge || !f->env || !f->bind || !f->inflight || !f->names[0] || !f->names[1] ||
        !f->names[2] || !f->names[3] || !f->names[4] || !f->compliance_region || !keys_ok ||
        (c->wasm_path && !f->wasm_path) || pipe2(f->stop_pipe, O_CLOEXEC | O_NONBLOCK) != 0) {
        snprintf(err, errlen, "out of memory");
        goto done;
    }
    for (size_t i = 0; i < c->nenv; i++) {
        size_t n = strlen(c->env[i].name) + 1 + strlen(c->env[i].value) + 1;
        f->env[i] = malloc(n);
        if (!f->env[i]) {
            snprintf(err, errlen, "out of memory");
            goto done;
        }
        snprintf(f->env[i], n, "%s=%s", c->env[i].name, c->env[i].value);
        f->nenv++;
    }
    if (c->wasm_path) {
        wasi_run_status rs = wasi_read_file(c->wasm_path, &bytes, &len, err, errlen);
        if (rs != WASI_RUN_OK) {
            st = rs == WASI_RUN_ERR_NOMEM ? FASTLIKE_ERR_NOMEM : FASTLIKE_ERR_WASM;
            goto done;
        }
    }
    be_backends_config bc = {.backends = c->be,
                             .nbackends = c->nbackends,
                             .seed = c->unreliable_seed,
                             .verbosity = c->verbosity,
                             .log = c->log_fn,
                             .log_user = c->log_user};
    char emsg[256];
    if (cfg_edge_clone(edge, &c->edge, emsg, sizeof emsg) != CFG_OK) {
        snprintf(err, errlen, "%s", emsg);
        goto done;
    }
    f->kv = hc_kv_stores_new(edge, c->kv_dir, emsg, sizeof emsg);
    if (!f->kv) {
        snprintf(err, errlen, "%s%s", c->kv_dir ? "-kv-dir: " : "", emsg);
        st = c->kv_dir ? FASTLIKE_ERR_IO : FASTLIKE_ERR_NOMEM;
        goto done;
    }
    f->log_endpoints = hc_log_endpoints_new(edge, STDOUT_FILENO, err, errlen);
    if (!f->log_endpoints) {
        st = FASTLIKE_ERR_IO;
        goto done;
    }
    if (!(f->erl = hc_erl_new(NULL, NULL))) {
        snprintf(err, errlen, "out of memory");
        goto done;
    }
    f->backends = be_backends_new(&bc, err, errlen);
    if (!f->backends) {
        st = FASTLIKE_ERR_IO;
        goto done;
    }
    if (!(f->fanout = srv_fanout_new(&c->pushpin, c->be, c->nbackends, &f->log))) {
        snprintf(err, errlen, "out of memory");
        st = FASTLIKE_ERR_NOMEM;
        goto done;
    }
    f->cache = hc_cache_new(c->cache_size ? c->cache_size : 1); /* 1 byte: nothing stays */
    if (!f->cache) {
        snprintf(err, errlen, "out of memory");
        st = FASTLIKE_ERR_NOMEM;
        goto done;
    }
    st = start_profiler(f, c, err, errlen);
    if (st != FASTLIKE_OK)
        goto done;
    st = FASTLIKE_ERR_NOMEM;
    srv_guest *g = NULL;
    st = make_guest(f, c->wasm_path, c->wasm_path ? bytes : c->wasm_bytes,
                    c->wasm_path ? len : c->wasm_len, edge, NULL, &g, err, errlen);
    if (st == FASTLIKE_OK) {
        edge = NULL; /* the guest owns it */
        srv_live_init(&f->live, g);
        if (f->watch_wanted) {
            if (!f->wasm_path) {
                st = FASTLIKE_ERR_ARGS;
                snprintf(err, errlen, "-watch needs a wasm file, not bytes");
            } else if (!(f->watch = srv_watch_start(f->wasm_path, FASTLIKE_WATCH_DEBOUNCE_MS,
                                                    on_watch, f, err, errlen))) {
                st = FASTLIKE_ERR_IO;
            }
        }
    }
done:
    free(bytes);
    if (edge) {
        cfg_edge_deinit(edge);
        free(edge);
    }
    if (st != FASTLIKE_OK) {
        fastlike_free(f);
        return st;
    }
    *out = f;
    return FASTLIKE_OK;
}

void fastlike_free(fastlike *f)
{
    if (!f)
        return;
    srv_watch_stop(f->watch); /* no reload may start any more */
    srv_http_stop(f->http);
    srv_fanout_free(f->fanout); /* after the relays to it ended */
    prof_viewer_stop(f->viewer);
    if (f->live.current)
        srv_live_deinit(&f->live);
    hc_cache_bg_wait(f->cache); /* background revalidations use the backends */
    be_backends_free(f->backends);
    hc_cache_free(f->cache);
    hc_log_endpoints_free(f->log_endpoints);
    hc_kv_stores_free(f->kv);
    hc_erl_free(f->erl);
    prof_recorder_free(f->profiler);
    srv_inflight_free(f->inflight); /* after the guests: no instance runs any more */
    for (int i = 0; i < 5; i++)
        free(f->names[i]);
    free(f->compliance_region);
    for (size_t i = 0; f->fake_keys && f->fake_keys[i]; i++)
        free(f->fake_keys[i]);
    free(f->fake_keys);
    for (size_t i = 0; i < f->nenv; i++)
        free(f->env[i]);
    free(f->env);
    free(f->wasm_path);
    free(f->bind);
    if (f->stop_pipe[0] >= 0)
        close(f->stop_pipe[0]);
    if (f->stop_pipe[1] >= 0)
        close(f->stop_pipe[1]);
    pthread_mutex_destroy(&f->lock);
    pthread_mutex_destroy(&f->reload_lock);
    free(f);
}

/* ---- hot reload ---- */

typedef struct reload_report {
    const srv_log *log;
    char *first; /* the first problem, for the caller's err */
    size_t firstlen;
} reload_report;

static void report_file(void *user, const char *line)
{
    reload_report *r = user;
    srv_logf(r->log, "fastlike: reload: %s", line);
    if (r->first && r->first[0] == '\0')
        snprintf(r->first, r->firstlen, "%s", line);
}

/* CPU time of the calling thread: what a reload costs whatever else the machine is doing. */
static uint64_t thread_cpu_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

fastlike_status fastlike_reload(fastlike *f, const fastlike_config *c, char *err, size_t errlen)
{
    if (errlen)
        err[0] = '\0';
    uint64_t t0 = util_now_ns(), cpu0 = thread_cpu_ns();
    if (c && !c->wasm_path && !c->wasm_bytes) {
        snprintf(err, errlen, "no wasm program given (-wasm FILE)");
        return FASTLIKE_ERR_ARGS;
    }
    if (!c && !f->wasm_path) {
        snprintf(err, errlen, "nothing to reload from: the guest was given as bytes, not a file");
        return FASTLIKE_ERR_ARGS;
    }
    pthread_mutex_lock(&f->reload_lock);
    const char *path = c ? c->wasm_path : f->wasm_path;
    fastlike_status st = FASTLIKE_ERR_NOMEM;
    uint8_t *bytes = NULL;
    size_t len = 0;
    size_t nbad = 0;
    bool swapped = false;
    srv_guest *cur = NULL; /* the generation serving now (its module may be shared) */
    char *new_path = NULL;
    cfg_edge *edge = calloc(1, sizeof *edge);
    if (!edge || (c && c->wasm_path && !(new_path = dup_or_empty(c->wasm_path)))) {
        snprintf(err, errlen, "out of memory");
        goto done;
    }
    if (path) {
        wasi_run_status rs = wasi_read_file(path, &bytes, &len, err, errlen);
        if (rs != WASI_RUN_OK) {
            st = rs == WASI_RUN_ERR_NOMEM ? FASTLIKE_ERR_NOMEM : FASTLIKE_ERR_WASM;
            goto done;
        }
    }
    cur = srv_live_acquire(&f->live);
    if (c) {
        char emsg[256];
        if (cfg_edge_clone(edge, &c->edge, emsg, sizeof emsg) != CFG_OK) {
            snprintf(err, errlen, "%s", emsg);
            goto done;
        }
    } else {
        /* the files behind the current snapshot, read again (a bad one keeps its data) */
        cfg_edge empty;
        cfg_edge_init(&empty);
        reload_report rep = {&f->log, err, errlen};
        cfg_status cs =
            cfg_edge_reread(edge, cur->edge ? cur->edge : &empty, report_file, &rep, &nbad);
        if (cs != CFG_OK) {
            snprintf(err, errlen, "out of memory");
            goto done;
        }
    }
    char msg[1024] = "";
    srv_guest *g = NULL;
    /* unchanged bytes share the current compiled module (srv_guest_config.previous) */
    st = make_guest(f, path, path ? bytes : c->wasm_bytes, path ? len : c->wasm_len, edge, cur, &g,
                    msg, sizeof msg);
    if (st != FASTLIKE_OK) {
        snprintf(err, errlen, "%s", msg);
        goto done;
    }
    edge = NULL; /* the guest owns it */
    if (c && !be_backends_replace(f->backends, c->be, c->nbackends)) {
        srv_guest_free(g);
        st = FASTLIKE_ERR_NOMEM;
        snprintf(err, errlen, "out of memory");
        goto done;
    }
    if (c) /* our Pushpin's routes follow the backends (a Pushpin of our own only) */
        srv_fanout_reload_routes(f->fanout, c->be, c->nbackends);
    if (c) {
        /* later reloads without a config read this one's file */
        free(f->wasm_path);
        f->wasm_path = new_path;
        new_path = NULL;
    }
    bool same = g->module_reused;
    uint64_t gen = srv_live_swap(&f->live, g);
    swapped = true;
    srv_logf(&f->log, "fastlike: reloaded %s (generation %" PRIu64 ", %.1f ms, %.1f ms CPU%s)%s",
             path ? path : "the guest", gen, (double)(util_now_ns() - t0) / 1e6,
             (double)(thread_cpu_ns() - cpu0) / 1e6, same ? ", module unchanged" : "",
             nbad ? "; some store files kept their previous data (see above)" : "");
    if (nbad)
        st = FASTLIKE_ERR_ARGS; /* err holds the first file problem */
done:
    if (!swapped)
        srv_logf(&f->log, "fastlike: reload failed, still serving the previous module: %s",
                 err[0] ? err : fastlike_strerror(st));
    srv_guest_drop(cur);
    free(bytes);
    free(new_path);
    if (edge) {
        cfg_edge_deinit(edge);
        free(edge);
    }
    pthread_mutex_unlock(&f->reload_lock);
    return st;
}

srv_live *srv_fastlike_live(fastlike *f)
{
    return &f->live;
}

uint64_t fastlike_generation(fastlike *f)
{
    return srv_live_generation(&f->live);
}

fastlike_status fastlike_start(fastlike *f, char *err, size_t errlen)
{
    pthread_mutex_lock(&f->lock);
    fastlike_status st = FASTLIKE_OK;
    if (!f->http) {
        srv_http_config hc = {
            .bind = f->bind, .live = &f->live, .workers = f->workers, .log = &f->log};
        st = srv_http_start(&hc, &f->http, err, errlen);
        if (st == FASTLIKE_OK)
            srv_logf(&f->log, "fastlike: listening on http://%s (port %u)", f->bind,
                     srv_http_port(f->http));
    }
    pthread_mutex_unlock(&f->lock);
    return st;
}

uint16_t fastlike_profile_ui_port(const fastlike *f)
{
    return f->viewer ? prof_viewer_port(f->viewer) : 0;
}

const char *fastlike_profile_ui_token(const fastlike *f)
{
    return f->viewer ? prof_viewer_token(f->viewer) : NULL;
}

uint16_t fastlike_port(const fastlike *f)
{
    return srv_http_port(f->http);
}

fastlike_status fastlike_serve(fastlike *f, char *err, size_t errlen)
{
    fastlike_status st = fastlike_start(f, err, errlen);
    if (st != FASTLIKE_OK)
        return st;
    for (;;) {
        struct pollfd p = {.fd = f->stop_pipe[0], .events = POLLIN};
        int n = poll(&p, 1, -1);
        if (n < 0 && errno == EINTR)
            continue;
        break;
    }
    char drain[64];
    while (read(f->stop_pipe[0], drain, sizeof drain) > 0) {
    }
    pthread_mutex_lock(&f->lock);
    srv_http *h = f->http;
    f->http = NULL;
    pthread_mutex_unlock(&f->lock);
    /* requests in flight are answered first, within the grace period; guests still running
     * after it are interrupted (503 when their head has not gone out) */
    srv_logf(&f->log,
             "fastlike: stopping: no new connections, requests in flight have %" PRIu64
             " ms to finish",
             f->shutdown_grace_ms);
    if (!srv_http_drain(h, f->shutdown_grace_ms)) {
        size_t n = srv_inflight_interrupt_all(f->inflight);
        srv_logf(&f->log,
                 "fastlike: shutdown grace period (%" PRIu64 " ms) over: interrupting %zu "
                 "guest%s still running",
                 f->shutdown_grace_ms, n, n == 1 ? "" : "s");
    }
    srv_http_stop(h);
    return FASTLIKE_OK;
}

void fastlike_stop(fastlike *f)
{
    /* async-signal-safe: one write to the self pipe */
    int saved = errno;
    ssize_t n = write(f->stop_pipe[1], "x", 1);
    (void)n;
    errno = saved;
}

/* ---- in-process requests ---- */

typedef struct mem_body {
    const uint8_t *data;
    size_t len, off;
} mem_body;

static long mem_read(void *src, uint8_t *buf, size_t len)
{
    mem_body *b = src;
    size_t n = b->len - b->off < len ? b->len - b->off : len;
    memcpy(buf, b->data + b->off, n);
    b->off += n;
    return (long)n;
}

typedef struct buf_sink {
    fastlike_response *resp;
    size_t cap;
    bool failed;
} buf_sink;

static int buf_head(void *p, uint16_t status, const hc_header_view *h, size_t n, int64_t cl)
{
    buf_sink *s = p;
    fastlike_response *r = s->resp;
    r->status = status;
    r->headers = calloc(n ? n : 1, sizeof *r->headers);
    if (!r->headers)
        return -1;
    for (size_t i = 0; i < n; i++) {
        char *name = malloc(h[i].name_len + 1);
        char *value = malloc(h[i].value_len + 1);
        if (!name || !value) {
            free(name);
            free(value);
            return -1;
        }
        memcpy(name, h[i].name, h[i].name_len);
        name[h[i].name_len] = '\0';
        memcpy(value, h[i].value, h[i].value_len);
        value[h[i].value_len] = '\0';
        r->headers[r->nheaders].name = name;
        r->headers[r->nheaders].value = value;
        r->nheaders++;
    }
    return 0;
}

static int buf_write(void *p, const uint8_t *data, size_t len)
{
    buf_sink *s = p;
    fastlike_response *r = s->resp;
    if (!util_grow((void **)&r->body, &s->cap, r->body_len + len, 4096, 1))
        return -1;
    memcpy(r->body + r->body_len, data, len);
    r->body_len += len;
    return 0;
}

static int buf_finish(void *p)
{
    (void)p;
    return 0;
}

static void buf_abort(void *p)
{
    buf_sink *s = p;
    s->failed = true;
}

static void fill_addr(struct sockaddr_storage *ss, const char *ip)
{
    memset(ss, 0, sizeof *ss);
    struct sockaddr_in *v4 = (struct sockaddr_in *)ss;
    struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)ss;
    if (inet_pton(AF_INET, ip, &v4->sin_addr) == 1) {
        v4->sin_family = AF_INET;
    } else if (inet_pton(AF_INET6, ip, &v6->sin6_addr) == 1) {
        v6->sin6_family = AF_INET6;
    } else {
        v4->sin_family = AF_INET;
        inet_pton(AF_INET, "127.0.0.1", &v4->sin_addr);
    }
}

fastlike_status fastlike_handle(fastlike *f, const fastlike_request *req, fastlike_response *resp,
                                char *err, size_t errlen)
{
    memset(resp, 0, sizeof *resp);
    if (!req->method || !req->url) {
        snprintf(err, errlen, "request needs a method and a URL");
        return FASTLIKE_ERR_ARGS;
    }
    hc_header_view *hv = calloc(req->nheaders ? req->nheaders : 1, sizeof *hv);
    char *url = NULL;
    if (req->url[0] == '/') {
        size_t n = strlen(req->url) + 17;
        url = malloc(n);
        if (url)
            snprintf(url, n, "http://localhost%s", req->url);
    }
    if (!hv || (req->url[0] == '/' && !url)) {
        free(hv);
        free(url);
        snprintf(err, errlen, "out of memory");
        return FASTLIKE_ERR_NOMEM;
    }
    for (size_t i = 0; i < req->nheaders; i++)
        hv[i] = (hc_header_view){req->headers[i].name, strlen(req->headers[i].name),
                                 req->headers[i].value, strlen(req->headers[i].value)};
    mem_body body = {req->body, req->body_len, 0};
    hc_downstream_request d = {
        .method = req->method,
        .url = url ? url : req->url,
        .http_version = 2,
        .headers = hv,
        .nheaders = req->nheaders,
        .body_read = req->body_len ? mem_read : NULL,
        .body_src = &body,
        .body_length = (int64_t)req->body_len,
    };
    fill_addr(&d.client_addr, req->client_ip ? req->client_ip : "127.0.0.1");
    fill_addr(&d.server_addr, "127.0.0.1");
    buf_sink bs = {.resp = resp};
    srv_sink sink = {{buf_head, buf_write, buf_finish, &bs, NULL, NULL}, buf_abort};
    /* in-process: a fresh instance that does not wait for further requests, since the call
     * returns only when the instance ends */
    srv_guest *g = srv_live_acquire(&f->live);
    srv_request_run(g, &d, &sink, false);
    srv_guest_drop(g);
    free(hv);
    free(url);
    if (bs.failed)
        snprintf(err, errlen, "the guest failed after sending its response head (body is cut)");
    return FASTLIKE_OK;
}

void fastlike_response_free(fastlike_response *resp)
{
    if (!resp)
        return;
    for (size_t i = 0; i < resp->nheaders; i++) {
        free((void *)resp->headers[i].name);
        free((void *)resp->headers[i].value);
    }
    free(resp->headers);
    free(resp->body);
    memset(resp, 0, sizeof *resp);
}

/* ---- run once (viceroy run): src/server/srv_run.c ---- */
fastlike_status fastlike_run_main(fastlike *f, const fastlike_run_config *rc,
                                  fastlike_run_result *result, char *err, size_t errlen)
{
    srv_run_config sc = {.argv = rc->argv,
                         .argc = rc->argc,
                         .env = rc->env,
                         .nenv = rc->nenv,
                         .stdin_fd = rc->stdin_fd,
                         .stdout_fd = rc->stdout_fd,
                         .stderr_fd = rc->stderr_fd};
    *result = (fastlike_run_result){0};
    srv_guest *g = srv_live_acquire(&f->live);
    srv_run_status st = srv_run_main(g, &sc, &result->exit_code, err, errlen);
    srv_guest_drop(g);
    result->trapped = st == SRV_RUN_TRAPPED;
    return st == SRV_RUN_ERROR ? FASTLIKE_ERR_WASM : FASTLIKE_OK;
}
