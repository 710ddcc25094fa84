/* srv_fastlike.c: the fastlike object of include/fastlike.h: loading the guest from a config,
 * serving HTTP (fastlike_start/serve/stop, stop being safe from signal handlers through a self
 * pipe), and fastlike_handle, which runs one request in-process with a memory body source and a
 * buffering sink. */
#include "fastlike.h"
#include "backend/be_backend.h"
#include "profiler/prof_recorder.h"
#include "profiler/prof_viewer.h"
#include "server/srv_config.h"
#include "server/srv_guest.h"
#include "server/srv_http.h"
#include "server/srv_request.h"
#include "wasi/wasi_run.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct fastlike {
    srv_guest *guest;
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
    cfg_edge edge;    /* the configuration's edge data, copied (hc_settings.edge) */
    prof_recorder *profiler; /* NULL when not profiling (hc_settings.profiler) */
    prof_viewer *viewer;     /* -profile-ui listener, or NULL */
};

/* The profiler and its viewer, when the configuration asks for them. */
static fastlike_status start_profiler(fastlike *f, const fastlike_config *c, char *err,
                                      size_t errlen)
{
    bool mode_asks = c->profile_mode == CFG_PROFILE_NATIVE ||
                     c->profile_mode == CFG_PROFILE_COMBINED || c->profile_mode == CFG_PROFILE_DEEP;
    bool wanted = c->profile_guest_dir ||
                  (c->profile_mode != CFG_PROFILE_OFF &&
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
    for (size_t i = 0; i < f->edge.nsecret_stores; i++) {
        const cfg_string_map *m = &f->edge.secret_stores[i].items;
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
    if (!s)
        s = "";
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d)
        memcpy(d, s, n);
    return d;
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
    f->log = (srv_log){c->log_fn, c->log_user, c->verbosity};
    f->workers = c->workers;
    fastlike_status st = FASTLIKE_ERR_NOMEM;
    uint8_t *bytes = NULL;
    size_t len = 0;
    char **env = calloc(c->nenv + 1, sizeof *env);
    f->bind = dup_or_empty(c->bind);
    static const char *const keys[5] = {"FASTLY_HOSTNAME", "FASTLY_POP", "FASTLY_REGION",
                                        "FASTLY_SERVICE_ID", "FASTLY_SERVICE_VERSION"};
    for (int i = 0; i < 5; i++)
        f->names[i] = dup_or_empty(srv_config_env(c, keys[i]));
    f->compliance_region = dup_or_empty(c->compliance_region ? c->compliance_region : "none");
    f->fake_keys = calloc(c->nfake_keys + 1, sizeof *f->fake_keys);
    bool keys_ok = f->fake_keys != NULL;
    for (size_t i = 0; keys_ok && i < c->nfake_keys; i++)
        keys_ok = (f->fake_keys[i] = dup_or_empty(c->fake_keys[i])) != NULL;
    if (!env || !f->bind || !f->names[0] || !f->names[1] || !f->names[2] || !f->names[3] ||
        !f->names[4] || !f->compliance_region || !keys_ok ||
        pipe2(f->stop_pipe, O_CLOEXEC | O_NONBLOCK) != 0) {
        snprintf(err, errlen, "out of memory");
        goto done;
    }
    for (size_t i = 0; i < c->nenv; i++) {
        size_t n = strlen(c->env[i].name) + 1 + strlen(c->env[i].value) + 1;
        env[i] = malloc(n);
        if (!env[i]) {
            snprintf(err, errlen, "out of memory");
            goto done;
        }
        snprintf(env[i], n, "%s=%s", c->env[i].name, c->env[i].value);
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
    if (cfg_edge_clone(&f->edge, &c->edge, emsg, sizeof emsg) != CFG_OK) {
        snprintf(err, errlen, "%s", emsg);
        goto done;
    }
    f->backends = be_backends_new(&bc, err, errlen);
    if (!f->backends) {
        st = FASTLIKE_ERR_IO;
        goto done;
    }
    st = start_profiler(f, c, err, errlen);
    if (st != FASTLIKE_OK)
        goto done;
    st = FASTLIKE_ERR_NOMEM;
    srv_guest_config gc = {
        .wasm = c->wasm_path ? bytes : c->wasm_bytes,
        .wasm_len = c->wasm_path ? len : c->wasm_len,
        .unknown_import_error = c->unknown_import_error,
        .timeout_ms = c->timeout_ms,
        .memory_limit = c->memory_limit,
        .log = f->log,
        .hc = {.verbosity = c->verbosity,
               .log = c->log_fn,
               .log_user = c->log_user,
               .hostname = f->names[0],
               .pop = f->names[1],
               .region = f->names[2],
               .service_id = f->names[3],
               .service_version = f->names[4],
               .backends = f->backends,
               .compliance_region = f->compliance_region,
               .fake_fastly_keys = (const char *const *)f->fake_keys,
               .edge = &f->edge,
               .profiler = f->profiler},
        .env = (const char *const *)env,
        .nenv = c->nenv,
    };
    char msg[1024] = "";
    st = srv_guest_new(&gc, &f->guest, msg, sizeof msg);
    if (st != FASTLIKE_OK) {
        if (c->wasm_path)
            snprintf(err, errlen, "%s: %s", c->wasm_path, msg);
        else
            snprintf(err, errlen, "%s", msg);
    }
done:
    free(bytes);
    if (env)
        for (size_t i = 0; i < c->nenv; i++)
            free(env[i]);
    free(env);
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
    srv_http_stop(f->http);
    prof_viewer_stop(f->viewer);
    srv_guest_free(f->guest);
    prof_recorder_free(f->profiler);
    be_backends_free(f->backends);
    cfg_edge_deinit(&f->edge);
    for (int i = 0; i < 5; i++)
        free(f->names[i]);
    free(f->compliance_region);
    for (size_t i = 0; f->fake_keys && f->fake_keys[i]; i++)
        free(f->fake_keys[i]);
    free(f->fake_keys);
    free(f->bind);
    if (f->stop_pipe[0] >= 0)
        close(f->stop_pipe[0]);
    if (f->stop_pipe[1] >= 0)
        close(f->stop_pipe[1]);
    pthread_mutex_destroy(&f->lock);
    free(f);
}

fastlike_status fastlike_start(fastlike *f, char *err, size_t errlen)
{
    pthread_mutex_lock(&f->lock);
    fastlike_status st = FASTLIKE_OK;
    if (!f->http) {
        srv_http_config hc = {
            .bind = f->bind, .guest = f->guest, .workers = f->workers, .log = &f->log};
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
    if (r->body_len + len > s->cap) {
        size_t cap = s->cap ? s->cap : 4096;
        while (cap < r->body_len + len)
            cap *= 2;
        uint8_t *grown = realloc(r->body, cap);
        if (!grown)
            return -1;
        r->body = grown;
        s->cap = cap;
    }
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
    srv_sink sink = {{buf_head, buf_write, buf_finish, &bs}, buf_abort};
    /* in-process: a fresh instance that does not wait for further requests, since the call
     * returns only when the instance ends */
    srv_request_run(f->guest, &d, &sink, false);
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
