/* hc_registry.c: defines the whole Fastly hostcall ABI on a linker from the generated ABI table
 * and the hostcall modules' implementation tables; unimplemented rows answer `unsupported`.
 * Owns the alias table (legacy env.xqd_* names and newer renames), the import listings used at
 * startup (-unknown-import link-error, -v 1), and the dispatch point every hostcall goes through
 * (the profiler's hook: a span per call when hc_settings.profiler is set). */
#include "hostcalls/hc_registry.h"

#include "hostcalls/hc_ctx_internal.h"
#include "hostcalls/hc_status.h"
#include "profiler/prof_recorder.h"
#include "util/util_clock.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

/* Aliases. The env.xqd_* list is Viceroy's link_legacy_aliases (src/linking.rs at 274febd); the
 * rest are newer SDK names that Fastlike (Go) links to the same functions. */
const hc_alias hc_aliases[] = {
    {"env", "xqd_init", "fastly_abi", "init"},
    {"env", "xqd_body_append", "fastly_http_body", "append"},
    {"env", "xqd_body_new", "fastly_http_body", "new"},
    {"env", "xqd_body_read", "fastly_http_body", "read"},
    {"env", "xqd_body_write", "fastly_http_body", "write"},
    {"env", "xqd_body_close", "fastly_http_body", "close"},
    {"env", "xqd_body_close_downstream", "fastly_http_body", "close"},
    {"env", "xqd_log_endpoint_get", "fastly_log", "endpoint_get"},
    {"env", "xqd_log_write", "fastly_log", "write"},
    {"env", "xqd_req_body_downstream_get", "fastly_http_req", "body_downstream_get"},
    {"env", "xqd_req_cache_override_set", "fastly_http_req", "cache_override_set"},
    {"env", "xqd_req_downstream_client_ip_addr", "fastly_http_req", "downstream_client_ip_addr"},
    {"env", "xqd_req_downstream_client_request_id", "fastly_http_req",
     "downstream_client_request_id"},
    {"env", "xqd_req_downstream_tls_cipher_openssl_name", "fastly_http_req",
     "downstream_tls_cipher_openssl_name"},
    {"env", "xqd_req_downstream_tls_protocol", "fastly_http_req", "downstream_tls_protocol"},
    {"env", "xqd_req_downstream_tls_client_hello", "fastly_http_req",
     "downstream_tls_client_hello"},
    {"env", "xqd_req_new", "fastly_http_req", "new"},
    {"env", "xqd_req_header_names_get", "fastly_http_req", "header_names_get"},
    {"env", "xqd_req_original_header_names_get", "fastly_http_req", "original_header_names_get"},
    {"env", "xqd_req_original_header_count", "fastly_http_req", "original_header_count"},
    {"env", "xqd_req_header_value_get", "fastly_http_req", "header_value_get"},
    {"env", "xqd_req_header_values_get", "fastly_http_req", "header_values_get"},
    {"env", "xqd_req_header_values_set", "fastly_http_req", "header_values_set"},
    {"env", "xqd_req_header_insert", "fastly_http_req", "header_insert"},
    {"env", "xqd_req_header_append", "fastly_http_req", "header_append"},
    {"env", "xqd_req_header_remove", "fastly_http_req", "header_remove"},
    {"env", "xqd_req_method_get", "fastly_http_req", "method_get"},
    {"env", "xqd_req_method_set", "fastly_http_req", "method_set"},
    {"env", "xqd_req_uri_get", "fastly_http_req", "uri_get"},
    {"env", "xqd_req_uri_set", "fastly_http_req", "uri_set"},
    {"env", "xqd_req_version_get", "fastly_http_req", "version_get"},
    {"env", "xqd_req_version_set", "fastly_http_req", "version_set"},
    {"env", "xqd_req_send", "fastly_http_req", "send"},
    {"env", "xqd_req_send_async", "fastly_http_req", "send_async"},
    {"env", "xqd_req_send_async_streaming", "fastly_http_req", "send_async_streaming"},
    {"env", "xqd_pending_req_poll", "fastly_http_req", "pending_req_poll"},
    {"env", "xqd_pending_req_wait", "fastly_http_req", "pending_req_wait"},
    {"env", "xqd_pending_req_select", "fastly_http_req", "pending_req_select"},
    {"env", "xqd_resp_new", "fastly_http_resp", "new"},
    {"env", "xqd_resp_header_names_get", "fastly_http_resp", "header_names_get"},
    {"env", "xqd_resp_header_value_get", "fastly_http_resp", "header_value_get"},
    {"env", "xqd_resp_header_values_get", "fastly_http_resp", "header_values_get"},
    {"env", "xqd_resp_header_values_set", "fastly_http_resp", "header_values_set"},
    {"env", "xqd_resp_header_insert", "fastly_http_resp", "header_insert"},
    {"env", "xqd_resp_header_append", "fastly_http_resp", "header_append"},
    {"env", "xqd_resp_header_remove", "fastly_http_resp", "header_remove"},
    {"env", "xqd_resp_version_get", "fastly_http_resp", "version_get"},
    {"env", "xqd_resp_version_set", "fastly_http_resp", "version_set"},
    {"env", "xqd_resp_status_get", "fastly_http_resp", "status_get"},
    {"env", "xqd_resp_status_set", "fastly_http_resp", "status_set"},
    /* newer names, same signature as their target */
    {"fastly", "init", "fastly_abi", "init"},
    {"fastly_kv_store", "open_v2", "fastly_kv_store", "open"},
    {"fastly_kv_store", "lookup_v2", "fastly_kv_store", "lookup"},
    {NULL, NULL, NULL, NULL},
};

#define HC_REGISTRY_MAX_ROWS 1024

struct hc_stub_log {
    atomic_flag logged[HC_REGISTRY_MAX_ROWS];
};

hc_stub_log *hc_stub_log_new(void)
{
    hc_stub_log *l = malloc(sizeof *l);
    if (l)
        for (size_t i = 0; i < HC_REGISTRY_MAX_ROWS; i++)
            atomic_flag_clear(&l->logged[i]);
    return l;
}

void hc_stub_log_free(hc_stub_log *l)
{
    free(l);
}

static bool streq(const char *a, const char *b)
{
    return strcmp(a, b) == 0;
}

static const hc_abi_fn *abi_row(const char *module, const char *name)
{
    return hc_abi_find(module, strlen(module), name, strlen(name));
}

static const hc_alias *alias_of(const char *module, size_t module_len, const char *name,
                                size_t name_len)
{
    for (const hc_alias *a = hc_aliases; a->module; a++)
        if (strlen(a->module) == module_len && memcmp(a->module, module, module_len) == 0 &&
            strlen(a->name) == name_len && memcmp(a->name, name, name_len) == 0)
            return a;
    return NULL;
}

static fwe_host_fn find_direct(const hc_impl *const *tables, const char *module, const char *name)
{
    for (size_t t = 0; tables && tables[t]; t++)
        for (const hc_impl *e = tables[t]; e->module; e++)
            if (streq(e->module, module) && streq(e->name, name))
                return e->fn;
    return NULL;
}

fwe_host_fn hc_registry_lookup(const hc_impl *const *tables, const char *module, const char *name)
{
    fwe_host_fn fn = find_direct(tables, module, name);
    if (fn)
        return fn;
    const hc_alias *a = alias_of(module, strlen(module), name, strlen(name));
    return a ? find_direct(tables, a->to_module, a->to_name) : NULL;
}

fwe_status hc_registry_check(const hc_impl *const *tables, char *err, size_t errlen)
{
    if (err && errlen)
        err[0] = '\0';
    if (hc_abi_count > HC_REGISTRY_MAX_ROWS) {
        if (err && errlen)
            snprintf(err, errlen, "hostcall ABI table has %zu rows; the registry holds %d",
                     hc_abi_count, HC_REGISTRY_MAX_ROWS);
        return FWE_ERR_ARGS;
    }
    for (size_t t = 0; tables && tables[t]; t++) {
        for (const hc_impl *e = tables[t]; e->module; e++) {
            const char *why = NULL;
            if (!e->name || !e->fn)
                why = "has no name or no function";
            else if (!abi_row(e->module, e->name))
                why = "is not a function of the Fastly hostcall ABI (hc_abi_table.c)";
            else {
                size_t seen = 0;
                for (size_t u = 0; tables[u]; u++)
                    for (const hc_impl *f = tables[u]; f->module; f++)
                        seen += streq(f->module, e->module) && f->name && streq(f->name, e->name);
                if (seen > 1)
                    why = "is implemented twice";
            }
            if (why) {
                if (err && errlen)
                    snprintf(err, errlen, "hostcall implementation %s.%s %s", e->module,
                             e->name ? e->name : "(null)", why);
                return FWE_ERR_ARGS;
            }
        }
    }
    return FWE_OK;
}

bool hc_registry_first_call(hc_stub_log *l, const hc_abi_fn *row)
{
    size_t i = (size_t)(row - hc_abi_table);
    if (i >= hc_abi_count || i >= HC_REGISTRY_MAX_ROWS)
        return false;
    return !l || !atomic_flag_test_and_set(&l->logged[i]);
}

/* The stub of every unimplemented ABI row; `data` is its hc_abi_fn row. */
static fwe_trap_kind unsupported_stub(fwe_caller *caller, uint64_t *slots, void *data)
{
    const hc_abi_fn *row = data;
    hc_ctx *ctx = fwe_caller_host_data(caller);
    if (ctx && hc_registry_first_call(hc_ctx_settings(ctx)->stub_log, row))
        hc_log(ctx, 0, "hostcall %s.%s is not implemented by Fastlike: returning unsupported (5)",
               row->module, row->name);
    slots[0] = HC_UNSUPPORTED;
    return FWE_TRAP_NONE;
}

/* ---- the dispatch point: every hostcall goes through dispatch(), which calls the
 * implementation directly unless the server profiles (one load and branch), and otherwise times
 * the call and records its span. ---- */

typedef struct hc_dispatch {
    const hc_abi_fn *row; /* for the span's name */
    fwe_host_fn fn;
    void *data;
    /* from the signature, worked out once: the arguments a span keeps and their types */
    uint8_t nargs;
    bool has_status; /* the result is a fastly_status */
    char sig[PROF_ARGS_MAX + 1];
} hc_dispatch;

/* Dispatch records are interned for the process: each linker slot of each server defines the
 * same (row, fn, data) triples, so the table is bounded by the ABI's size and read-only once
 * filled; entries must outlive every linker, hence not per linker. */
#define HC_DISPATCH_MAX (2 * HC_REGISTRY_MAX_ROWS)
static hc_dispatch dispatch_table[HC_DISPATCH_MAX];
static size_t dispatch_count;
static pthread_mutex_t dispatch_mu = PTHREAD_MUTEX_INITIALIZER;

static const hc_dispatch *dispatch_of(const hc_abi_fn *row, fwe_host_fn fn, void *data)
{
    const hc_dispatch *found = NULL;
    pthread_mutex_lock(&dispatch_mu);
    for (size_t i = 0; i < dispatch_count && !found; i++)
        if (dispatch_table[i].row == row && dispatch_table[i].fn == fn &&
            dispatch_table[i].data == data)
            found = &dispatch_table[i];
    if (!found && dispatch_count < HC_DISPATCH_MAX) {
        hc_dispatch *d = &dispatch_table[dispatch_count++];
        *d = (hc_dispatch){.row = row, .fn = fn, .data = data};
        const char *c = row->signature;
        for (; *c && *c != ':' && d->nargs < PROF_ARGS_MAX; c++)
            d->sig[d->nargs++] = *c;
        const char *res = strchr(row->signature, ':');
        d->has_status = res && res[1] == 'i';
        found = d;
    }
    pthread_mutex_unlock(&dispatch_mu);
    return found;
}

static fwe_trap_kind dispatch_profiled(fwe_caller *caller, uint64_t *slots, const hc_dispatch *d,
                                       prof_req *r, bool deep)
{
    prof_span sp;
    sp.module = d->row->module;
    sp.name = d->row->name;
    sp.nargs = d->nargs;
    memcpy(sp.sig, d->sig, sizeof sp.sig);
    for (uint8_t i = 0; i < d->nargs; i++)
        sp.args[i] = d->sig[i] == 'i' ? (uint32_t)slots[i] : slots[i];
    sp.mem_bytes = 0;
    sp.start_ns = util_now_ns();
    prof_set_current_call(sp.module, sp.name);
    fwe_trap_kind k = d->fn(caller, slots, d->data);
    prof_set_current_call(NULL, NULL);
    sp.dur_ns = util_now_ns() - sp.start_ns;
    sp.status = k != FWE_TRAP_NONE ? -1 : d->has_status ? (int32_t)(uint32_t)slots[0] : 0;
    if (deep) {
        fwe_memory *mem = fwe_caller_memory(caller);
        sp.mem_bytes = mem ? fwe_memory_size(mem) : 0;
    }
    prof_req_hostcall(r, &sp);
    return k;
}

static fwe_trap_kind dispatch(fwe_caller *caller, uint64_t *slots, void *data)
{
    const hc_dispatch *d = data;
    hc_ctx *ctx = fwe_caller_host_data(caller);
    struct prof_recorder *p = ctx ? ctx->settings->profiler : NULL;
    if (__builtin_expect(p == NULL, 1))
        return d->fn(caller, slots, d->data);
    prof_req *r = prof_current();
    if (!r)
        return d->fn(caller, slots, d->data);
    return dispatch_profiled(caller, slots, d, r, prof_recorder_deep(p));
}

static fwe_status define_one(fwe_linker *linker, const char *module, const char *name,
                             const hc_abi_fn *row, fwe_host_fn fn)
{
    void *fn_data = fn ? NULL : (void *)row;
    if (!fn)
        fn = unsupported_stub;
    const hc_dispatch *d = dispatch_of(row, fn, fn_data);
    if (!d) /* not reached with the ABI's size; the call then goes unrecorded */
        return fwe_linker_define_host(linker, module, name, row->signature, fn, fn_data);
    return fwe_linker_define_host(linker, module, name, row->signature, dispatch, (void *)d);
}

fwe_status hc_registry_define(fwe_linker *linker, const hc_impl *const *tables)
{
    fwe_status st = hc_registry_check(tables, NULL, 0);
    if (st != FWE_OK)
        return st;
    for (size_t i = 0; i < hc_abi_count; i++) {
        const hc_abi_fn *row = &hc_abi_table[i];
        fwe_host_fn fn = find_direct(tables, row->module, row->name);
        const hc_abi_fn *stub_row = row;
        const hc_alias *a =
            alias_of(row->module, strlen(row->module), row->name, strlen(row->name));
        if (!fn && a) {
            const hc_abi_fn *target = abi_row(a->to_module, a->to_name);
            if (target && streq(target->signature, row->signature)) {
                fn = find_direct(tables, a->to_module, a->to_name);
                stub_row = target;
            }
        }
        st = define_one(linker, row->module, row->name, stub_row, fn);
        if (st != FWE_OK)
            return st;
    }
    for (const hc_alias *a = hc_aliases; a->module; a++) {
        if (abi_row(a->module, a->name))
            continue; /* an ABI row itself: defined above */
        const hc_abi_fn *target = abi_row(a->to_module, a->to_name);
        if (!target)
            return FWE_ERR_ARGS;
        st = define_one(linker, a->module, a->name, target,
                        find_direct(tables, a->to_module, a->to_name));
        if (st != FWE_OK)
            return st;
    }
    return FWE_OK;
}

fwe_status hc_define_all(fwe_linker *linker)
{
    return hc_registry_define(linker, hc_all_impls);
}

/* Appends "module.name" to out, ", "-separated; once full, ends the text with "...". */
static void append_name(char *out, size_t outlen, size_t *used, bool *full,
                        const fwe_import_info *imp)
{
    if (!out || outlen == 0 || *full)
        return;
    int n = snprintf(out + *used, outlen - *used, "%s%.*s.%.*s", *used ? ", " : "",
                     (int)imp->module_len, imp->module, (int)imp->name_len, imp->name);
    if (n < 0 || (size_t)n >= outlen - *used) {
        *full = true;
        const char *more = *used ? ", ..." : "...";
        size_t mlen = strlen(more) + 1;
        if (*used + mlen <= outlen)
            memcpy(out + *used, more, mlen);
        else if (outlen >= 4)
            memcpy(out + outlen - 4, "...", 4);
        else
            out[outlen - 1] = '\0';
        return;
    }
    *used += (size_t)n;
}

static bool is_wasi(const fwe_import_info *imp)
{
    static const char wasi[] = "wasi_snapshot_preview1";
    return imp->module_len == sizeof wasi - 1 && memcmp(imp->module, wasi, sizeof wasi - 1) == 0;
}

/* Lists function imports: unknown ones, or else known ones without an implementation. */
static size_t list_imports(const fwe_module *m, const hc_impl *const *tables, bool unknown,
                           char *out, size_t outlen)
{
    size_t count = 0, used = 0;
    bool full = false;
    if (out && outlen)
        out[0] = '\0';
    for (uint32_t i = 0; i < fwe_module_import_count(m); i++) {
        fwe_import_info imp;
        fwe_module_import(m, i, &imp);
        if (imp.kind != FWE_EXTERN_FUNC || is_wasi(&imp))
            continue;
        const hc_abi_fn *row = hc_abi_find(imp.module, imp.module_len, imp.name, imp.name_len);
        const hc_alias *a = alias_of(imp.module, imp.module_len, imp.name, imp.name_len);
        bool known = row || a;
        bool pick;
        if (unknown) {
            pick = !known;
        } else {
            const char *mod = row ? row->module : a ? a->module : NULL;
            const char *name = row ? row->name : a ? a->name : NULL;
            pick = known && !hc_registry_lookup(tables, mod, name);
        }
        if (pick) {
            count++;
            append_name(out, outlen, &used, &full, &imp);
        }
    }
    return count;
}

size_t hc_registry_unknown_imports(const fwe_module *m, char *out, size_t outlen)
{
    return list_imports(m, NULL, true, out, outlen);
}

size_t hc_registry_unimplemented_imports(const fwe_module *m, const hc_impl *const *tables,
                                         char *out, size_t outlen)
{
    return list_imports(m, tables, false, out, outlen);
}
