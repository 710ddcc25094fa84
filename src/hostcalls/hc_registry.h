/* hc_registry.h: links the Fastly hostcall ABI onto an engine linker. Every row of the generated
 * ABI table (hc_abi.h) gets a definition: the implementation a hostcall module provides, or a stub
 * answering `unsupported`; legacy `env.xqd_*` names and newer aliases map onto the same functions.
 * Also lists a guest's imports that Fastlike does not know or does not implement. */
#ifndef HC_REGISTRY_H
#define HC_REGISTRY_H

#include "fwe.h"
#include "hostcalls/hc_abi.h"

#include <stdbool.h>
#include <stddef.h>

/* One implemented hostcall. Its wasm signature is the ABI table's, never restated here. Tables are
 * per ABI module (e.g. hc_http_req_impls in hc_http_req.c), terminated by an entry with
 * module == NULL. The function's `data` argument is NULL. */
typedef struct hc_impl {
    const char *module, *name;
    fwe_host_fn fn;
} hc_impl;

/* Every implementation table of the hostcall layer, NULL-terminated (defined in hc_impls.c). */
extern const hc_impl *const hc_all_impls[];

/* A legacy or alternative import name that resolves to another ABI function. */
typedef struct hc_alias {
    const char *module, *name;       /* what the guest imports, e.g. env.xqd_req_new */
    const char *to_module, *to_name; /* the ABI row it stands for, e.g. fastly_http_req.new */
} hc_alias;

/* The alias table (early SDKs' env.xqd_* names from Viceroy's linker, plus newer renames), ending
 * with module == NULL. */
extern const hc_alias hc_aliases[];

/* Checks implementation tables against the ABI: every entry must name an ABI row (or an alias
 * source) and appear once. Returns FWE_OK, or FWE_ERR_ARGS with a message naming the entry in
 * err[0..errlen) (err may be NULL). */
fwe_status hc_registry_check(const hc_impl *const *tables, char *err, size_t errlen);

/* Defines every ABI row and every alias on `linker` (after hc_registry_check; returns its
 * FWE_ERR_ARGS on a bad table, FWE_ERR_EXISTS if a name is defined already). Unimplemented rows
 * get a stub that returns fastly_status `unsupported` (5) and logs one line through hc_log the
 * first time a request of the server (its hc_settings.stub_log) calls it. */
fwe_status hc_registry_define(fwe_linker *linker, const hc_impl *const *tables);

/* The implementation of module.name in `tables` (aliases followed), or NULL. */
fwe_host_fn hc_registry_lookup(const hc_impl *const *tables, const char *module, const char *name);

/* Writes "module.name" of every function import of `m` that is neither an ABI row, nor an alias,
 * nor in wasi_snapshot_preview1, separated by ", ", into out[0..outlen) (always NUL-terminated
 * when outlen > 0, truncated with "..." when full). Returns how many such imports there are. */
size_t hc_registry_unknown_imports(const fwe_module *m, char *out, size_t outlen);

/* Same for imports that are ABI rows or aliases but have no implementation in `tables` (they link
 * to the `unsupported` stub): for the `-v 1` startup listing. */
size_t hc_registry_unimplemented_imports(const fwe_module *m, const hc_impl *const *tables,
                                         char *out, size_t outlen);

/* Which `unsupported` stubs have logged their line: one flag per ABI row, shared by the requests
 * of one server (hc_settings.stub_log), so each unimplemented hostcall is reported once. */
typedef struct hc_stub_log hc_stub_log;
hc_stub_log *hc_stub_log_new(void); /* NULL when out of memory */
void hc_stub_log_free(hc_stub_log *l);
/* True exactly once per ABI row for `l` (and every time when l is NULL). */
bool hc_registry_first_call(hc_stub_log *l, const hc_abi_fn *row);

#endif
