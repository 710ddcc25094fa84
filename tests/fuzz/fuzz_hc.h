/* fuzz_hc.h: an in-process hostcall environment for the fuzz targets (fuzz_hostcalls, fuzz_uri):
 * a wasm module generated here that imports the chosen rows of the ABI table (hc_abi.h) and
 * exports, for row i, a function "fI" with the same signature that only forwards its arguments
 * to the import, plus one page of memory as "memory". Calling "fI" from the host is then exactly
 * a guest calling the hostcall with those arguments. Each input gets a fresh instance and hc_ctx
 * over a fake downstream request, with edge data, KV stores, rate counters, a cache and log
 * endpoints as the server has them (no backends). Header-only. */
#ifndef FUZZ_HC_H
#define FUZZ_HC_H

#include "../unit/hostcalls/fake_downstream.h"
#include "config/cfg_edge.h"
#include "fuzz_util.h"
#include "wasm_buf.h"
#include "fwe.h"
#include "hostcalls/hc_abi.h"
#include "hostcalls/hc_cache_store.h"
#include "hostcalls/hc_ctx.h"
#include "hostcalls/hc_erl.h"
#include "hostcalls/hc_kv_stores.h"
#include "hostcalls/hc_log.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdint.h>

#define FHC_PAGE 65536u

/* ---- the generated module ---- */
static uint8_t fhc_valtype(char c)
{
    return c == 'I' ? 0x7e : c == 'f' ? 0x7d : c == 'F' ? 0x7c : 0x7f;
}

/* Counts the parameter letters of a signature ("iiI:i"). */
static uint32_t fhc_nparams(const char *sig)
{
    const char *colon = strchr(sig, ':');
    return colon ? (uint32_t)(colon - sig) : (uint32_t)strlen(sig);
}

/* Builds the module for rows[0..n); returns its bytes (malloc'd) and length. */
static uint8_t *fhc_module_bytes(const hc_abi_fn *const *rows, uint32_t n, size_t *len)
{
    wbuf m = {0}, s = {0};
    wb_put(&m, "\0asm\1\0\0\0", 8);
    wb_uleb(&s, n); /* types: one per row */
    for (uint32_t i = 0; i < n; i++) {
        const char *sig = rows[i]->signature, *colon = strchr(sig, ':');
        uint32_t np = fhc_nparams(sig);
        wb_byte(&s, 0x60);
        wb_uleb(&s, np);
        for (uint32_t k = 0; k < np; k++)
            wb_byte(&s, fhc_valtype(sig[k]));
        uint32_t nr = colon ? (uint32_t)strlen(colon + 1) : 0;
        wb_uleb(&s, nr);
        for (uint32_t k = 0; k < nr; k++)
            wb_byte(&s, fhc_valtype(colon[1 + k]));
    }
    wb_section(&m, 1, &s);
    wb_uleb(&s, n); /* imports */
    for (uint32_t i = 0; i < n; i++) {
        wb_name(&s, rows[i]->module);
        wb_name(&s, rows[i]->name);
        wb_byte(&s, 0x00);
        wb_uleb(&s, i);
    }
    wb_section(&m, 2, &s);
    wb_uleb(&s, n); /* functions */
    for (uint32_t i = 0; i < n; i++)
        wb_uleb(&s, i);
    wb_section(&m, 3, &s);
    wb_put(&s, "\1\1\1\1", 4); /* one memory, min 1 max 1 page */
    wb_section(&m, 5, &s);
    wb_uleb(&s, n + 1); /* exports */
    wb_name(&s, "memory");
    wb_byte(&s, 0x02);
    wb_uleb(&s, 0);
    for (uint32_t i = 0; i < n; i++) {
        char name[16];
        snprintf(name, sizeof name, "f%u", i);
        wb_name(&s, name);
        wb_byte(&s, 0x00);
        wb_uleb(&s, n + i);
    }
    wb_section(&m, 7, &s);
    wb_uleb(&s, n); /* code: local.get each parameter, call the import */
    wbuf body = {0};
    for (uint32_t i = 0; i < n; i++) {
        uint32_t np = fhc_nparams(rows[i]->signature);
        wb_byte(&body, 0); /* no locals */
        for (uint32_t k = 0; k < np; k++) {
            wb_byte(&body, 0x20);
            wb_uleb(&body, k);
        }
        wb_byte(&body, 0x10);
        wb_uleb(&body, i);
        wb_byte(&body, 0x0b);
        wb_uleb(&s, (uint32_t)body.len);
        wb_put(&s, body.p, body.len);
        body.len = 0;
    }
    wb_section(&m, 10, &s);
    free(body.p);
    free(s.p);
    *len = m.len;
    return m.p;
}

/* ---- process-wide state: engine, linker, module, edge data ---- */
typedef struct fhc_world {
    fwe_engine *engine;
    fwe_linker *linker;
    fwe_module *module;
    const hc_abi_fn *const *rows;
    uint32_t nrows;
    cfg_edge edge;
    int devnull;
} fhc_world;

static const char *const fhc_side_files[][2] = {
    {"dict.json", "{\"k\": \"v\", \"k2\": \"a longer value\"}"},
    {"kv.json", "{\"a\": \"1\", \"b\": {\"body\": \"2\", \"metadata\": \"m\"}}"},
    {"acl.json", "{\"entries\": [{\"prefix\": \"192.0.2.0/24\", \"action\": \"BLOCK\"}]}"},
    {"secrets.json", "{\"s\": \"hunter2\"}"},
};

/* Makes the world for rows[0..n) (once per process). */
static fhc_world *fhc_world_get(const hc_abi_fn *const *rows, uint32_t n)
{
    static fhc_world w;
    if (w.module)
        return &w;
    char err[512];
    const char *paths[4];
    static char keep[4][1024];
    for (int i = 0; i < 4; i++) {
        const char *p =
            fuzz_write(fhc_side_files[i][0], fhc_side_files[i][1], strlen(fhc_side_files[i][1]));
        CHECK(p != NULL);
        snprintf(keep[i], sizeof keep[i], "%s", p);
        paths[i] = keep[i];
    }
    cfg_edge_init(&w.edge);
    CHECK(cfg_edge_add_dictionary(&w.edge, "dict", paths[0], err, sizeof err) == CFG_OK);
    CHECK(cfg_edge_add_config_store(&w.edge, "cfg", paths[0], err, sizeof err) == CFG_OK);
    CHECK(cfg_edge_add_kv_store(&w.edge, "kv", paths[1], err, sizeof err) == CFG_OK);
    CHECK(cfg_edge_add_acl(&w.edge, "acl", paths[2], err, sizeof err) == CFG_OK);
    CHECK(cfg_edge_add_secret_store(&w.edge, "secret", paths[3], err, sizeof err) == CFG_OK);
    CHECK(cfg_edge_add_logger(&w.edge, "log", NULL, err, sizeof err) == CFG_OK);
    w.devnull = open("/dev/null", O_WRONLY | O_CLOEXEC);
    CHECK(w.devnull >= 0);
    w.engine = fwe_engine_new();
    w.linker = fwe_linker_new(w.engine);
    CHECK(w.engine && w.linker);
    CHECK(hc_define_all(w.linker) == FWE_OK);
    size_t len = 0;
    uint8_t *bytes = fhc_module_bytes(rows, n, &len);
    if (fwe_module_load(w.engine, bytes, len, &w.module, err, sizeof err) != FWE_OK) {
        fprintf(stderr, "fuzz_hc: the generated module does not load: %s\n", err);
        abort();
    }
    free(bytes);
    w.rows = rows;
    w.nrows = n;
    return &w;
}

/* ---- one request ---- */
static long fhc_body_read(void *src, uint8_t *buf, size_t len)
{
    size_t *left = src;
    static const char text[] = "downstream body";
    size_t n = *left < len ? *left : len;
    if (n > sizeof text - 1)
        n = sizeof text - 1;
    memcpy(buf, text, n);
    *left -= n;
    return (long)n;
}
static int fhc_send_head(void *s, uint16_t st, const hc_header_view *h, size_t n, int64_t cl)
{
    return 0;
}
static int fhc_write(void *s, const uint8_t *d, size_t n)
{
    return 0;
}
static int fhc_finish(void *s)
{
    return 0;
}
static void fhc_log_line(void *user, const char *line)
{
    (void)line; /* formatted (so format bugs surface) and dropped */
}

static const hc_header_view fhc_headers[] = {
    {"Host", 4, "example.com", 11},
    {"User-Agent", 10, "Mozilla/5.0 (iPhone)", 20},
    {"X-Multi", 7, "a", 1},
    {"x-multi", 7, "b", 1},
};
static const char *const fhc_keys[] = {"fake-key", NULL};

typedef struct fhc_req {
    fhc_world *w;
    hc_settings settings;
    hc_downstream_request req;
    hc_downstream_sink sink;
    size_t body_left;
    hc_ctx *ctx;
    fwe_instance *inst;
    uint8_t *mem; /* the instance's memory (one page) */
} fhc_req;

/* Starts a request: a fresh context and instance. False when the instance cannot be made. */
static bool fhc_req_begin(fhc_req *r, fhc_world *w)
{
    memset(r, 0, sizeof *r);
    r->w = w;
    char err[256];
    r->settings.verbosity = 2;
    r->settings.log = fhc_log_line;
    r->settings.hostname = "fuzzhost";
    r->settings.service_version = "1";
    r->settings.fake_fastly_keys = fhc_keys;
    r->settings.edge = &w->edge;
    r->settings.kv = hc_kv_stores_new(&w->edge, NULL, err, sizeof err);
    r->settings.log_endpoints = hc_log_endpoints_new(&w->edge, w->devnull, err, sizeof err);
    r->settings.erl = hc_erl_new(NULL, NULL);
    r->settings.cache = hc_cache_new(1u << 20);
    fake_downstream_init(&r->req, fhc_headers, sizeof fhc_headers / sizeof fhc_headers[0],
                         "127.0.0.1");
    r->body_left = 15;
    r->req.body_read = fhc_body_read;
    r->req.body_src = &r->body_left;
    r->req.body_length = 15;
    r->sink.send_head = fhc_send_head;
    r->sink.write = fhc_write;
    r->sink.finish = fhc_finish;
    r->ctx = hc_ctx_new(&r->settings, &r->req, &r->sink, "00112233445566778899aabbccddeeff");
    if (!r->ctx)
        return false;
    fwe_instance_config cfg = {.host_data = r->ctx, .max_memory_pages = 1};
    fwe_trap trap;
    if (fwe_instantiate(w->linker, w->module, &cfg, &r->inst, &trap) != FWE_OK)
        return false;
    fwe_memory *mem = fwe_instance_memory(r->inst, 0);
    CHECK(mem != NULL && fwe_memory_size(mem) == FHC_PAGE);
    r->mem = fwe_memory_slice(mem, 0, FHC_PAGE);
    CHECK(r->mem != NULL);
    return true;
}

/* Calls row i with args (one per parameter letter); returns the fastly_status. Every call must
 * return a status: a trap or an unknown status aborts. */
static uint32_t fhc_call(fhc_req *r, uint32_t i, const uint64_t *args)
{
    char name[16];
    snprintf(name, sizeof name, "f%u", i);
    fwe_extern ext;
    CHECK(fwe_instance_export(r->inst, name, strlen(name), &ext) && ext.kind == FWE_EXTERN_FUNC);
    const char *sig = r->w->rows[i]->signature;
    uint32_t np = fhc_nparams(sig);
    fwe_val av[16], res[1];
    CHECK(np <= 16);
    for (uint32_t k = 0; k < np; k++) {
        memset(&av[k], 0, sizeof av[k]);
        av[k].type = (fwe_valtype)fhc_valtype(sig[k]);
        if (sig[k] == 'I')
            av[k].of.i64 = args[k];
        else
            av[k].of.i32 = (uint32_t)args[k];
    }
    fwe_trap trap;
    memset(&trap, 0, sizeof trap);
    memset(res, 0, sizeof res);
    fwe_status st = fwe_call(ext.of.func, av, np, res, 1, &trap);
    if (st != FWE_OK) {
        fprintf(stderr, "fuzz_hc: %s.%s trapped: %s\n", r->w->rows[i]->module, r->w->rows[i]->name,
                trap.message);
        abort();
    }
    if (res[0].of.i32 > HC_AGAIN) {
        fprintf(stderr, "fuzz_hc: %s.%s returned %u, not a fastly_status\n", r->w->rows[i]->module,
                r->w->rows[i]->name, res[0].of.i32);
        abort();
    }
    return res[0].of.i32;
}

static void fhc_req_end(fhc_req *r)
{
    if (r->ctx)
        hc_ctx_finish(r->ctx);
    fwe_instance_free(r->inst);
    hc_ctx_free(r->ctx);
    hc_cache_free(r->settings.cache);
    hc_erl_free(r->settings.erl);
    hc_log_endpoints_free(r->settings.log_endpoints);
    hc_kv_stores_free(r->settings.kv);
}

#endif
