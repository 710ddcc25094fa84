/* gen_run.h: what the differential targets over wasm_gen.h's modules (fuzz_diff, fuzz_tier) share
 * to run one in the engine: load it, instantiate it without imports under a call depth limit, and
 * find its exported functions f0, f1, ... by index. Header-only. */
#ifndef GEN_RUN_H
#define GEN_RUN_H

#include "fuzz_util.h"
#include "fwe.h"

#include <stdbool.h>
#include <stdint.h>

typedef struct gen_run {
    fwe_module *mod;
    fwe_linker *linker;
    fwe_instance *inst; /* NULL when instantiation failed: trap.message says why */
    fwe_trap trap;
} gen_run;

/* Loads the len bytes at wasm with `engine` and instantiates them with max_call_depth. False, with
 * the reason in err and nothing to free, when the module does not load; otherwise gen_run_end
 * frees what there is (r->inst may be NULL). */
__attribute__((unused)) static bool gen_run_start(gen_run *r, fwe_engine *engine,
                                                  const uint8_t *wasm, size_t len,
                                                  uint32_t max_call_depth, char *err, size_t cap)
{
    memset(r, 0, sizeof *r);
    if (fwe_module_load(engine, wasm, len, &r->mod, err, cap) != FWE_OK)
        return false;
    r->linker = fwe_linker_new(engine);
    CHECK(r->linker != NULL);
    fwe_instance_config cfg = {.max_call_depth = max_call_depth};
    if (fwe_instantiate(r->linker, r->mod, &cfg, &r->inst, &r->trap) != FWE_OK)
        r->inst = NULL;
    return true;
}

/* The instance's export "f<i>", which must be a function (a failed CHECK otherwise); its name is
 * written to name, its type to *ft. */
__attribute__((unused)) static fwe_func *gen_run_func(gen_run *r, int i, char name[8],
                                                      fwe_functype_info *ft)
{
    snprintf(name, 8, "f%d", i);
    fwe_extern ext;
    CHECK(fwe_instance_export(r->inst, name, strlen(name), &ext) && ext.kind == FWE_EXTERN_FUNC);
    fwe_func_type(ext.of.func, ft);
    return ext.of.func;
}

__attribute__((unused)) static void gen_run_end(gen_run *r)
{
    fwe_instance_free(r->inst);
    fwe_linker_free(r->linker);
    fwe_module_free(r->mod);
    memset(r, 0, sizeof *r);
}

#endif
