/* test_registry.c: the hostcall registry links the whole generated ABI (every witx function, the
 * names beyond it, the legacy env.xqd_* aliases) with the right signatures; unimplemented calls
 * answer `unsupported`; bad implementation tables are refused; docs/abi-coverage.md is current.
 * Run with --list-implemented to print the implemented ABI rows (input of tools/abi-coverage). */
#include "harness.h"

#include "fwe.h"
#include "hostcalls/hc_abi.h"
#include "hostcalls/hc_ctx.h"
#include "hostcalls/hc_registry.h"
#include "util/util_grow.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MARK_METHOD_GET 1001
#define MARK_REQ_NEW 1002
#define MARK_ABI_INIT 1003

/* Log lines captured from the contexts these tests make. */
static char log_lines[4096];
static size_t log_used;

/* ---- a local implementation table for the tests ---- */
static fwe_trap_kind impl_method_get(fwe_caller *c, uint64_t *slots, void *data)
{
    (void)c, (void)data;
    slots[0] = MARK_METHOD_GET;
    return FWE_TRAP_NONE;
}
static fwe_trap_kind impl_req_new(fwe_caller *c, uint64_t *slots, void *data)
{
    (void)c, (void)data;
    slots[0] = MARK_REQ_NEW;
    return FWE_TRAP_NONE;
}
static fwe_trap_kind impl_abi_init(fwe_caller *c, uint64_t *slots, void *data)
{
    (void)c, (void)data;
    slots[0] = MARK_ABI_INIT;
    return FWE_TRAP_NONE;
}

static const hc_impl test_req_impls[] = {
    {"fastly_http_req", "method_get", impl_method_get},
    {"fastly_http_req", "new", impl_req_new},
    {NULL, NULL, NULL},
};
static const hc_impl test_abi_impls[] = {
    {"fastly_abi", "init", impl_abi_init},
    {NULL, NULL, NULL},
};
static const hc_impl *const test_tables[] = {test_req_impls, test_abi_impls, NULL};

/* ---- a tiny wasm binary writer ---- */
typedef struct wbuf {
    uint8_t *p;
    size_t len, cap;
} wbuf;

static void wb_byte(wbuf *b, uint8_t v)
{
    if (!util_grow((void **)&b->p, &b->cap, b->len + 1, 256, 1))
        abort();
    b->p[b->len++] = v;
}
static void wb_bytes(wbuf *b, const void *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        wb_byte(b, ((const uint8_t *)p)[i]);
}
static void wb_u32(wbuf *b, uint32_t v)
{
    do {
        uint8_t byte = v & 0x7f;
        v >>= 7;
        wb_byte(b, byte | (v ? 0x80 : 0));
    } while (v);
}
static void wb_name(wbuf *b, const char *s)
{
    wb_u32(b, (uint32_t)strlen(s));
    wb_bytes(b, s, strlen(s));
}
static void wb_section(wbuf *out, uint8_t id, wbuf *body)
{
    wb_byte(out, id);
    wb_u32(out, (uint32_t)body->len);
    wb_bytes(out, body->p, body->len);
    free(body->p);
    *body = (wbuf){0};
}

typedef struct imp {
    const char *module, *name, *signature;
} imp;

/* A module importing each of `imps` (type from its signature) and exporting, per import i, a
 * function "c<i>" () -> i32 that calls it with zero arguments. */
static wbuf build_module(const imp *imps, size_t n)
{
    wbuf out = {0}, sec = {0};
    wb_bytes(&out, "\0asm\1\0\0\0", 8);
    /* types: 0 = () -> i32, then one per import */
    wb_u32(&sec, (uint32_t)n + 1);
    wb_bytes(&sec, "\x60\x00\x01\x7f", 4);
    for (size_t i = 0; i < n; i++) {
        const char *sig = imps[i].signature, *colon = strchr(sig, ':');
        wb_byte(&sec, 0x60);
        wb_u32(&sec, (uint32_t)(colon - sig));
        for (const char *c = sig; c < colon; c++)
            wb_byte(&sec, *c == 'I' ? 0x7e : 0x7f);
        wb_u32(&sec, (uint32_t)strlen(colon + 1));
        for (const char *c = colon + 1; *c; c++)
            wb_byte(&sec, *c == 'I' ? 0x7e : 0x7f);
    }
    wb_section(&out, 1, &sec);
    wb_u32(&sec, (uint32_t)n);
    for (size_t i = 0; i < n; i++) {
        wb_name(&sec, imps[i].module);
        wb_name(&sec, imps[i].name);
        wb_byte(&sec, 0x00);
        wb_u32(&sec, (uint32_t)i + 1);
    }
    wb_section(&out, 2, &sec);
    wb_u32(&sec, (uint32_t)n);
    for (size_t i = 0; i < n; i++)
        wb_u32(&sec, 0);
    wb_section(&out, 3, &sec);
    wb_u32(&sec, (uint32_t)n);
    for (size_t i = 0; i < n; i++) {
        char name[32];
        snprintf(name, sizeof name, "c%zu", i);
        wb_name(&sec, name);
        wb_byte(&sec, 0x00);
        wb_u32(&sec, (uint32_t)(n + i));
    }
    wb_section(&out, 7, &sec);
    wb_u32(&sec, (uint32_t)n);
    for (size_t i = 0; i < n; i++) {
        wbuf body = {0};
        wb_u32(&body, 0); /* no locals */
        const char *sig = imps[i].signature;
        for (const char *c = sig; *c != ':'; c++)
            wb_bytes(&body, *c == 'I' ? "\x42\x00" : "\x41\x00", 2); /* i64/i32.const 0 */
        wb_byte(&body, 0x10);                                        /* call */
        wb_u32(&body, (uint32_t)i);
        wb_byte(&body, 0x0b);
        wb_u32(&sec, (uint32_t)body.len);
        wb_bytes(&sec, body.p, body.len);
        free(body.p);
    }
    wb_section(&out, 10, &sec);
    return out;
}

/* Every ABI row, then every alias that is not itself an ABI row. */
static imp *all_imports(size_t *n)
{
    size_t cap = hc_abi_count, k = 0;
    for (const hc_alias *a = hc_aliases; a->module; a++)
        cap++;
    imp *v = calloc(cap, sizeof *v);
    if (!v)
        abort();
    for (size_t i = 0; i < hc_abi_count; i++)
        v[k++] = (imp){hc_abi_table[i].module, hc_abi_table[i].name, hc_abi_table[i].signature};
    for (const hc_alias *a = hc_aliases; a->module; a++) {
        if (hc_abi_find(a->module, strlen(a->module), a->name, strlen(a->name)))
            continue;
        const hc_abi_fn *t =
            hc_abi_find(a->to_module, strlen(a->to_module), a->to_name, strlen(a->to_name));
        v[k++] = (imp){a->module, a->name, t ? t->signature : ":i"};
    }
    *n = k;
    return v;
}

typedef struct fixture {
    fwe_engine *engine;
    fwe_linker *linker;
    fwe_module *module;
    fwe_instance *instance;
    fwe_status define_st, inst_st;
    fwe_trap trap;
} fixture;

static void fixture_up(fixture *f, const imp *imps, size_t n, const hc_impl *const *tables)
{
    memset(f, 0, sizeof *f);
    f->engine = fwe_engine_new();
    f->linker = fwe_linker_new(f->engine);
    f->define_st = hc_registry_define(f->linker, tables);
    wbuf w = build_module(imps, n);
    char err[256];
    fwe_status st = fwe_module_load(f->engine, w.p, w.len, &f->module, err, sizeof err);
    free(w.p);
    if (st != FWE_OK) {
        fprintf(stderr, "module load: %s\n", err);
        f->inst_st = st;
        return;
    }
    fwe_instance_config cfg = {0};
    f->inst_st = fwe_instantiate(f->linker, f->module, &cfg, &f->instance, &f->trap);
}

static void fixture_down(fixture *f)
{
    fwe_instance_free(f->instance);
    fwe_module_free(f->module);
    fwe_linker_free(f->linker);
    fwe_engine_free(f->engine);
}

static int64_t call_export(fixture *f, size_t i)
{
    char name[32];
    snprintf(name, sizeof name, "c%zu", i);
    fwe_extern ext;
    if (!fwe_instance_export(f->instance, name, strlen(name), &ext))
        return -1;
    fwe_val res;
    fwe_trap trap;
    if (fwe_call(ext.of.func, NULL, 0, &res, 1, &trap) != FWE_OK)
        return -2;
    return (int64_t)res.of.i32;
}

static size_t index_of(const imp *v, size_t n, const char *module, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(v[i].module, module) == 0 && strcmp(v[i].name, name) == 0)
            return i;
    return (size_t)-1;
}

/* ---- tests ---- */

TEST(abi_table_counts)
{
    size_t witx = 0, modules = 0;
    for (size_t i = 0; i < hc_abi_count; i++) {
        const hc_abi_fn *r = &hc_abi_table[i];
        if (r->source != HC_ABI_WITX)
            continue;
        witx++;
        bool first = true;
        for (size_t j = 0; j < i; j++)
            if (hc_abi_table[j].source == HC_ABI_WITX &&
                strcmp(hc_abi_table[j].module, r->module) == 0)
                first = false;
        modules += first;
        CHECK(hc_abi_find(r->module, strlen(r->module), r->name, strlen(r->name)) == r);
    }
    CHECK_EQ_INT(witx, 251); /* third_party/abi/INVENTORY.md */
    CHECK_EQ_INT(modules, 24);
    const hc_abi_fn *r = hc_abi_find("fastly_http_req", 15, "header_names_get", 16);
    CHECK(r && strcmp(r->signature, "iiiiii:i") == 0);
    r = hc_abi_find("fastly_abi", 10, "init", 4);
    CHECK(r && strcmp(r->signature, "I:i") == 0);
    CHECK(hc_abi_find("fastly_abi", 10, "init\0x", 6) == NULL);
    CHECK_STR_EQ(hc_abi_source_name(HC_ABI_WITX), "witx");
}

TEST(every_function_is_defined)
{
    size_t n;
    imp *v = all_imports(&n);
    fixture f;
    fixture_up(&f, v, n, test_tables);
    CHECK_EQ_INT(f.define_st, FWE_OK);
    CHECK_EQ_INT(f.inst_st, FWE_OK);
    if (f.inst_st != FWE_OK)
        fprintf(stderr, "  instantiate: %s\n", f.trap.message);
    fixture_down(&f);
    /* the same with the real implementation tables */
    fixture_up(&f, v, n, hc_all_impls);
    CHECK_EQ_INT(f.define_st, FWE_OK);
    CHECK_EQ_INT(f.inst_st, FWE_OK);
    fixture_down(&f);
    free(v);
}

TEST(unimplemented_returns_unsupported)
{
    size_t n;
    imp *v = all_imports(&n);
    fixture f;
    fixture_up(&f, v, n, test_tables);
    CHECK_EQ_INT(f.inst_st, FWE_OK);
    if (f.inst_st == FWE_OK) {
        size_t stubs = 0;
        for (size_t i = 0; i < n; i++) {
            if (hc_registry_lookup(test_tables, v[i].module, v[i].name))
                continue;
            int64_t r = call_export(&f, i);
            if (r != 5)
                fprintf(stderr, "  %s.%s returned %lld\n", v[i].module, v[i].name, (long long)r);
            CHECK_EQ_INT(r, 5);
            stubs++;
        }
        CHECK(stubs > 250);
        CHECK_EQ_INT(call_export(&f, index_of(v, n, "fastly_http_req", "method_get")),
                     MARK_METHOD_GET);
    }
    fixture_down(&f);
    free(v);
}

TEST(legacy_and_renamed_names_resolve)
{
    size_t n;
    imp *v = all_imports(&n);
    fixture f;
    fixture_up(&f, v, n, test_tables);
    CHECK_EQ_INT(f.inst_st, FWE_OK);
    if (f.inst_st == FWE_OK) {
        CHECK_EQ_INT(call_export(&f, index_of(v, n, "env", "xqd_req_new")), MARK_REQ_NEW);
        CHECK_EQ_INT(call_export(&f, index_of(v, n, "env", "xqd_init")), MARK_ABI_INIT);
        CHECK_EQ_INT(call_export(&f, index_of(v, n, "fastly", "init")), MARK_ABI_INIT);
        CHECK_EQ_INT(call_export(&f, index_of(v, n, "env", "xqd_req_method_get")), MARK_METHOD_GET);
        CHECK_EQ_INT(call_export(&f, index_of(v, n, "env", "xqd_resp_new")), 5);
    }
    fixture_down(&f);
    size_t nenv = 0;
    for (const hc_alias *a = hc_aliases; a->module; a++) {
        const hc_abi_fn *t =
            hc_abi_find(a->to_module, strlen(a->to_module), a->to_name, strlen(a->to_name));
        if (!t)
            fprintf(stderr, "  alias %s.%s -> missing %s.%s\n", a->module, a->name, a->to_module,
                    a->to_name);
        CHECK(t != NULL);
        nenv += strcmp(a->module, "env") == 0;
    }
    CHECK_EQ_INT(nenv, 50); /* Viceroy's link_legacy_aliases */
    CHECK(hc_registry_lookup(test_tables, "env", "xqd_req_new") == impl_req_new);
    free(v);
}

TEST(signature_mismatch_is_unlinkable)
{
    const imp wrong[] = {{"fastly_abi", "init", "i:i"}}; /* the ABI says (i64) -> i32 */
    fixture f;
    fixture_up(&f, wrong, 1, test_tables);
    CHECK_EQ_INT(f.inst_st, FWE_ERR_UNLINKABLE);
    CHECK_STR_CONTAINS(f.trap.message, "init");
    fixture_down(&f);
    const imp wrong2[] = {{"fastly_http_req", "header_names_get", "iiiii:i"}};
    fixture_up(&f, wrong2, 1, test_tables);
    CHECK_EQ_INT(f.inst_st, FWE_ERR_UNLINKABLE);
    fixture_down(&f);
}

TEST(bad_implementation_tables_are_refused)
{
    static const hc_impl unknown[] = {{"fastly_http_req", "method_gett", impl_method_get},
                                      {NULL, NULL, NULL}};
    static const hc_impl legacy[] = {{"env", "xqd_req_new", impl_req_new}, {NULL, NULL, NULL}};
    static const hc_impl twice[] = {{"fastly_http_req", "new", impl_req_new}, {NULL, NULL, NULL}};
    const hc_impl *const t1[] = {test_req_impls, unknown, NULL};
    const hc_impl *const t2[] = {legacy, NULL};
    const hc_impl *const t3[] = {test_req_impls, twice, NULL};
    char err[256];
    CHECK_EQ_INT(hc_registry_check(t1, err, sizeof err), FWE_ERR_ARGS);
    CHECK_STR_CONTAINS(err, "fastly_http_req.method_gett");
    CHECK_EQ_INT(hc_registry_check(t2, err, sizeof err), FWE_ERR_ARGS);
    CHECK_STR_CONTAINS(err, "env.xqd_req_new");
    CHECK_EQ_INT(hc_registry_check(t3, err, sizeof err), FWE_ERR_ARGS);
    CHECK_STR_CONTAINS(err, "twice");
    CHECK_EQ_INT(hc_registry_check(test_tables, err, sizeof err), FWE_OK);
    fwe_engine *e = fwe_engine_new();
    fwe_linker *l = fwe_linker_new(e);
    CHECK_EQ_INT(hc_registry_define(l, t1), FWE_ERR_ARGS);
    fwe_linker_free(l);
    fwe_engine_free(e);
    /* the real tables must pass too */
    CHECK_EQ_INT(hc_registry_check(hc_all_impls, err, sizeof err), FWE_OK);
    if (err[0])
        fprintf(stderr, "  %s\n", err);
}

TEST(import_listings)
{
    const imp imps[] = {
        {"fastly_http_req", "new", "i:i"},
        {"fastly_http_req", "method_get", "iiii:i"},
        {"env", "xqd_resp_new", "i:i"},
        {"wasi_snapshot_preview1", "fd_write", "iiii:i"},
        {"foo", "bar", ":i"},
        {"fastly_http_req", "nope", ":i"},
        {"fastly_http_resp", "new", "i:i"},
    };
    wbuf w = build_module(imps, sizeof imps / sizeof imps[0]);
    fwe_engine *e = fwe_engine_new();
    fwe_module *m = NULL;
    char err[256];
    CHECK_EQ_INT(fwe_module_load(e, w.p, w.len, &m, err, sizeof err), FWE_OK);
    free(w.p);
    if (m) {
        char out[256];
        CHECK_EQ_INT(hc_registry_unknown_imports(m, out, sizeof out), 2);
        CHECK_STR_EQ(out, "foo.bar, fastly_http_req.nope");
        CHECK_EQ_INT(hc_registry_unimplemented_imports(m, test_tables, out, sizeof out), 2);
        CHECK_STR_EQ(out, "env.xqd_resp_new, fastly_http_resp.new");
        char tiny[13];
        CHECK_EQ_INT(hc_registry_unknown_imports(m, tiny, sizeof tiny), 2);
        CHECK_STR_EQ(tiny, "foo.bar, ..."); /* truncated, still terminated */
        fwe_module_free(m);
    }
    fwe_engine_free(e);
}

static void capture_log(void *user, const char *line)
{
    (void)user;
    size_t n = strlen(line);
    if (log_used + n + 2 < sizeof log_lines) {
        memcpy(log_lines + log_used, line, n);
        log_used += n;
        log_lines[log_used++] = '\n';
        log_lines[log_used] = '\0';
    }
}

TEST(stub_logs_once)
{
    const hc_abi_fn *row = hc_abi_find("fastly_purge", 12, "purge_surrogate_key", 19);
    CHECK(row != NULL);
    hc_stub_log *l = hc_stub_log_new();
    CHECK(l != NULL);
    CHECK(hc_registry_first_call(l, row));
    CHECK(!hc_registry_first_call(l, row));
    CHECK(!hc_registry_first_call(l, row));
    CHECK(hc_registry_first_call(NULL, row)); /* no log state: every call is reported */
    CHECK(hc_registry_first_call(NULL, row));
    hc_stub_log_free(l);

    /* through a real context: a stub called twice logs one line per server (stub log) */
    const imp imps[] = {{"fastly_geo", "lookup", "iiiii:i"}};
    for (int server = 0; server < 2; server++) {
        hc_settings settings = {.log = capture_log, .stub_log = hc_stub_log_new()};
        hc_ctx *ctx = hc_ctx_new(&settings, NULL, NULL, "trace");
        CHECK(ctx != NULL);
        fixture f;
        fixture_up(&f, imps, 1, test_tables);
        CHECK_EQ_INT(f.inst_st, FWE_OK);
        if (f.inst_st == FWE_OK && ctx) {
            fwe_instance_set_host_data(f.instance, ctx);
            log_used = 0;
            log_lines[0] = '\0';
            CHECK_EQ_INT(call_export(&f, 0), 5);
            CHECK_EQ_INT(call_export(&f, 0), 5);
            CHECK_STR_CONTAINS(log_lines, "hostcall fastly_geo.lookup is not implemented by "
                                          "Fastlike: returning unsupported (5)");
            CHECK(strchr(log_lines, '\n') == log_lines + log_used - 1); /* one line */
        }
        fixture_down(&f);
        hc_ctx_free(ctx);
        hc_stub_log_free(settings.stub_log);
    }
}

/* Writes the implemented rows ("module.name" lines) of the real tables to `fp`. */
static void list_implemented(FILE *fp)
{
    for (size_t i = 0; i < hc_abi_count; i++)
        if (hc_registry_lookup(hc_all_impls, hc_abi_table[i].module, hc_abi_table[i].name))
            fprintf(fp, "%s.%s\n", hc_abi_table[i].module, hc_abi_table[i].name);
}

TEST(generated_files_are_current)
{
    if (access("tools/witx2c", R_OK) != 0) {
        harness_fail_head(__FILE__, __LINE__);
        fprintf(stderr, "run from the repository root (tools/witx2c not found)\n");
        return;
    }
    CHECK_EQ_INT(system("python3 tools/witx2c --check >/dev/null"), 0);
    char path[] = "/tmp/fastlike-abi-implemented-XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    if (fd < 0)
        return;
    FILE *fp = fdopen(fd, "w");
    list_implemented(fp);
    fclose(fp);
    char cmd[256];
    snprintf(cmd, sizeof cmd, "python3 tools/abi-coverage --check --implemented %s", path);
    int rc = system(cmd);
    if (rc != 0)
        fprintf(stderr, "  docs/abi-coverage.md is stale: run `make abi-coverage`\n");
    CHECK_EQ_INT(rc, 0);
    unlink(path);
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "--list-implemented") == 0) {
        list_implemented(stdout);
        return 0;
    }
    RUN(abi_table_counts);
    RUN(every_function_is_defined);
    RUN(unimplemented_returns_unsupported);
    RUN(legacy_and_renamed_names_resolve);
    RUN(signature_mismatch_is_unlinkable);
    RUN(bad_implementation_tables_are_refused);
    RUN(import_listings);
    RUN(stub_logs_once);
    RUN(generated_files_are_current);
    return harness_finish(argv[0]);
}
