/* hc_guest_run.h: in-process runner for the hostcall test guests (tests/guests/c/hc_*.c): engine +
 * WASI + hc_define_all + an hc_ctx over a fake downstream request (body served in small chunks)
 * and a sink that captures the response. Header-only, included by the test_hc_*.c files. */
#ifndef HC_GUEST_RUN_H
#define HC_GUEST_RUN_H

#include "fake_downstream.h"
#include "fwe.h"
#include "hostcalls/hc_ctx.h"
#include "wasi/wasi.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- fake downstream body ---- */
typedef struct fake_src {
    const uint8_t *data;
    size_t len, pos, chunk;
    int fail; /* report an error instead of the end */
} fake_src;

static long fake_read(void *p, uint8_t *buf, size_t len)
{
    fake_src *s = p;
    if (s->pos == s->len)
        return s->fail ? -1 : 0;
    size_t n = s->len - s->pos;
    if (n > len)
        n = len;
    if (s->chunk && n > s->chunk)
        n = s->chunk;
    memcpy(buf, s->data + s->pos, n);
    s->pos += n;
    return (long)n;
}

/* ---- capturing sink ---- */
typedef struct capture_sink {
    int heads, finishes, writes;
    uint16_t status;
    char headers[4096]; /* "name: value\n" lines */
    size_t headers_len;
    int64_t content_length;
    char body[1 << 16];
    size_t body_len;
    int fail_writes;
} capture_sink;

static int cap_send_head(void *p, uint16_t status, const hc_header_view *h, size_t n, int64_t cl)
{
    capture_sink *c = p;
    c->heads++;
    c->status = status;
    c->content_length = cl;
    for (size_t i = 0; i < n; i++) {
        int w = snprintf(c->headers + c->headers_len, sizeof c->headers - c->headers_len,
                         "%.*s: %.*s\n", (int)h[i].name_len, h[i].name, (int)h[i].value_len,
                         h[i].value);
        if (w > 0 && (size_t)w < sizeof c->headers - c->headers_len)
            c->headers_len += (size_t)w;
    }
    return 0;
}

static int cap_write(void *p, const uint8_t *data, size_t len)
{
    capture_sink *c = p;
    c->writes++;
    if (c->fail_writes)
        return -1;
    if (len > sizeof c->body - c->body_len)
        len = sizeof c->body - c->body_len;
    memcpy(c->body + c->body_len, data, len);
    c->body_len += len;
    return 0;
}

static int cap_finish(void *p)
{
    capture_sink *c = p;
    c->finishes++;
    return 0;
}

/* ---- log capture ---- */
typedef struct log_capture {
    char text[8192];
    size_t len;
} log_capture;

static void log_line(void *user, const char *line)
{
    log_capture *l = user;
    int w = snprintf(l->text + l->len, sizeof l->text - l->len, "%s\n", line);
    if (w > 0 && (size_t)w < sizeof l->text - l->len)
        l->len += (size_t)w;
}

/* ---- a complete fake request environment ---- */
typedef struct hc_env {
    hc_settings settings;
    hc_downstream_request req;
    hc_downstream_sink sink;
    capture_sink cap;
    fake_src src;
    log_capture log;
    hc_ctx *ctx;
} hc_env;

static const hc_header_view hc_env_headers[] = {
    {"Host", 4, "example.com", 11},
    {"User-Agent", 10, "test-agent/1.0", 14},
    {"X-Multi", 7, "a", 1},
    {"x-multi", 7, "b", 1},
    {"Fastly-Key", 10, "secret-key", 10},
};
static const char *const hc_env_keys[] = {"secret-key", NULL};
static const char hc_env_body[] = "hello downstream body";

/* Fills `e` with the default request (see tests/guests/c/hc_req.c) and makes its ctx. */
static hc_env *hc_env_new(void)
{
    hc_env *e = calloc(1, sizeof *e);
    if (!e)
        return NULL;
    e->settings.verbosity = 2;
    e->settings.log = log_line;
    e->settings.log_user = &e->log;
    e->settings.hostname = "testhost";
    e->settings.service_version = "7";
    e->settings.fake_fastly_keys = hc_env_keys;
    e->src.data = (const uint8_t *)hc_env_body;
    e->src.len = sizeof hc_env_body - 1;
    e->src.chunk = 5;
    fake_downstream_init(&e->req, hc_env_headers, sizeof hc_env_headers / sizeof hc_env_headers[0],
                         "::1");
    e->req.body_read = fake_read;
    e->req.body_src = &e->src;
    e->req.body_length = (int64_t)e->src.len;
    e->sink.send_head = cap_send_head;
    e->sink.write = cap_write;
    e->sink.finish = cap_finish;
    e->sink.sink = &e->cap;
    e->cap.content_length = -2;
    return e;
}

static hc_ctx *hc_env_ctx(hc_env *e)
{
    if (!e->ctx)
        e->ctx = hc_ctx_new(&e->settings, &e->req, &e->sink, "0123456789abcdef0123456789abcdef");
    return e->ctx;
}

static void hc_env_free(hc_env *e)
{
    if (!e)
        return;
    hc_ctx_free(e->ctx);
    free(e);
}

/* ---- running a guest ---- */
typedef struct guest_result {
    fwe_status status;
    fwe_trap trap;
    char out[1 << 15]; /* guest stdout + stderr */
    size_t out_len;
    int checks, fails; /* from the guest's "checks=N fails=M" line (-1 when absent) */
} guest_result;

static int guest_output(void *user, int fd, const uint8_t *data, size_t len)
{
    guest_result *r = user;
    (void)fd;
    if (len > sizeof r->out - 1 - r->out_len)
        len = sizeof r->out - 1 - r->out_len;
    memcpy(r->out + r->out_len, data, len);
    r->out_len += len;
    r->out[r->out_len] = '\0';
    return 0;
}

/* Runs build/guests/<name>.wasm with argv {name, arg} against `ctx`; ends the request with
 * hc_ctx_finish. Returns false (with a message on stderr) when the guest could not run. */
static bool run_guest(const char *name, const char *arg, hc_ctx *ctx, guest_result *r)
{
    memset(r, 0, sizeof *r);
    r->checks = r->fails = -1;
    char path[256];
    snprintf(path, sizeof path, "build/guests/%s.wasm", name);
    size_t len = 0;
    uint8_t *bytes = harness_read_file(path, &len);
    if (!bytes) {
        fprintf(stderr, "cannot read %s\n", path);
        return false;
    }
    bool ok = false;
    char err[256] = "";
    const char *argv[] = {name, arg ? arg : ""};
    fwe_engine *engine = fwe_engine_new();
    fwe_linker *linker = fwe_linker_new(engine);
    wasi_ctx *wasi = wasi_ctx_new(2, argv, 0, NULL, -1, -1, -1);
    fwe_module *module = NULL;
    fwe_instance *inst = NULL;
    wasi_ctx_set_output(wasi, guest_output, r);
    if (wasi_define(linker, wasi) != FWE_OK || hc_define_all(linker) != FWE_OK) {
        fprintf(stderr, "linker setup failed\n");
        goto out;
    }
    if (fwe_module_load(engine, bytes, len, &module, err, sizeof err) != FWE_OK) {
        fprintf(stderr, "%s: %s\n", path, err);
        goto out;
    }
    fwe_instance_config cfg = {.host_data = ctx};
    if (fwe_instantiate(linker, module, &cfg, &inst, &r->trap) != FWE_OK) {
        fprintf(stderr, "%s: instantiate: %s\n", path, r->trap.message);
        goto out;
    }
    fwe_extern start;
    if (!fwe_instance_export(inst, "_start", 6, &start) || start.kind != FWE_EXTERN_FUNC) {
        fprintf(stderr, "%s: no _start\n", path);
        goto out;
    }
    r->status = fwe_call(start.of.func, NULL, 0, NULL, 0, &r->trap);
    hc_ctx_finish(ctx);
    const char *line = strstr(r->out, "checks=");
    if (line)
        sscanf(line, "checks=%d fails=%d", &r->checks, &r->fails);
    ok = true;
out:
    fwe_instance_free(inst);
    fwe_module_free(module);
    wasi_ctx_free(wasi);
    fwe_linker_free(linker);
    fwe_engine_free(engine);
    free(bytes);
    return ok;
}

/* True when the guest ran to its end (returned, or proc_exit with status `code`). */
static bool guest_exited(const guest_result *r, int code)
{
    if (r->status == FWE_OK)
        return code == 0;
    return r->status == FWE_ERR_TRAP && r->trap.kind == FWE_TRAP_EXIT && r->trap.exit_code == code;
}

/* Runs test guest `name` with `arg` over `edge` (NULL: no edge data) in a fresh environment and
 * checks it ran to its end with at least `min_checks` checks and no failed one (printing its
 * output when one failed); the result stays in *r. For the edge-data guests (ACL, dictionary,
 * geo, device detection). Needs harness.h. */
HARNESS_UNUSED static void run_guest_checked(const char *name, const char *arg,
                                             const struct cfg_edge *edge, int min_checks,
                                             guest_result *r)
{
    hc_env *e = hc_env_new();
    if (!e)
        return;
    e->settings.edge = edge;
    if (hc_env_ctx(e)) {
        CHECK(run_guest(name, arg, e->ctx, r));
        if (r->fails != 0)
            fprintf(stderr, "%s", r->out);
        CHECK(guest_exited(r, 0));
        CHECK(r->checks >= min_checks);
        CHECK_EQ_INT(r->fails, 0);
    }
    hc_env_free(e);
}

#endif
