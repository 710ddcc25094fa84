/* fuzz_wasm.c: libFuzzer target over the engine's front door: fwe_module_load on arbitrary bytes,
 * then, for modules that load, instantiation against an empty linker (missing imports become
 * trapping stubs) and free. Built by tests/fuzz/run.sh with clang
 * -fsanitize=fuzzer,address,undefined. A start section is cut out before instantiating, so a
 * mutated start function that loops forever cannot turn into a libFuzzer timeout; the unmodified
 * bytes are still what gets loaded first. */
#include "fwe.h"
#include "runtime.h" /* internal: translate every body, not only the ones that get called */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Reads an unsigned LEB128 u32 at *p (< end); returns false when malformed or truncated. */
static bool read_u32(const uint8_t **p, const uint8_t *end, uint32_t *out)
{
    uint32_t v = 0;
    for (unsigned shift = 0; shift < 35; shift += 7) {
        if (*p >= end)
            return false;
        uint8_t b = *(*p)++;
        v |= (uint32_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) {
            *out = v;
            return true;
        }
    }
    return false;
}

/* Finds the start section (id 8) of a module that already loaded; sets [*off, *off + *len) to the
 * whole section including its header. Returns false when there is none. */
static bool find_start_section(const uint8_t *data, size_t size, size_t *off, size_t *len)
{
    const uint8_t *p = data + 8, *end = data + size;
    while (p < end) {
        const uint8_t *sec = p;
        uint8_t id = *p++;
        uint32_t n;
        if (!read_u32(&p, end, &n) || (size_t)(end - p) < n)
            return false;
        p += n;
        if (id == 8) {
            *off = (size_t)(sec - data);
            *len = (size_t)(p - sec);
            return true;
        }
    }
    return false;
}

static void try_instantiate(fwe_engine *engine, const fwe_module *module)
{
    fwe_linker *linker = fwe_linker_new(engine);
    if (!linker)
        return;
    fwe_linker_allow_missing_imports(linker, true);
    /* Caps keep a mutated module from spending the fuzzer's memory budget. */
    fwe_instance_config cfg = {
        .max_memory_pages = 1024, .stack_slots = 1u << 16, .max_call_depth = 1000};
    fwe_instance *inst = NULL;
    fwe_trap trap;
    memset(&trap, 0, sizeof trap);
    if (fwe_instantiate(linker, module, &cfg, &inst, &trap) == FWE_OK) {
        fwe_memory *mem = fwe_instance_memory(inst, 0);
        if (mem) /* touch the accessor's edges */
            (void)fwe_memory_slice(mem, fwe_memory_size(mem), 1);
        /* Run every exported function with zero arguments. The instance is interrupted up front,
         * so each call runs straight-line code only: it stops at its first call or backward
         * branch, which keeps every input finite. */
        fwe_instance_interrupt(inst);
        for (uint32_t i = 0; i < fwe_module_export_count(module); i++) {
            fwe_export_info info;
            fwe_module_export(module, i, &info);
            fwe_extern ext;
            if (info.kind != FWE_EXTERN_FUNC ||
                !fwe_instance_export(inst, info.name, info.name_len, &ext))
                continue;
            fwe_functype_info ft;
            fwe_func_type(ext.of.func, &ft);
            fwe_val args[16], results[16];
            if (ft.nparams > 16 || ft.nresults > 16)
                continue;
            for (uint32_t k = 0; k < ft.nparams; k++) {
                memset(&args[k], 0, sizeof args[k]);
                args[k].type = (fwe_valtype)ft.params[k];
            }
            (void)fwe_call(ext.of.func, args, ft.nparams, results, ft.nresults, &trap);
        }
        fwe_instance_free(inst);
    }
    fwe_linker_free(linker);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static fwe_engine *engine; /* one per process, as a server would hold it */
    char err[256];
    fwe_module *module = NULL;

    if (!engine)
        engine = fwe_engine_new();
    if (!engine)
        return 0;
    if (fwe_module_load(engine, data, size, &module, err, sizeof err) != FWE_OK)
        return 0;
    /* translation normally happens lazily on first call; do it for every body here */
    for (uint32_t i = 0; i < module->nfuncs - module->nfunc_imports; i++)
        (void)fwe_module_code(module, i);

    size_t off, len;
    if (!find_start_section(data, size, &off, &len)) {
        try_instantiate(engine, module);
        fwe_module_free(module);
        return 0;
    }
    fwe_module_free(module);
    uint8_t *copy = malloc(size - len + 1);
    if (!copy)
        return 0;
    memcpy(copy, data, off);
    memcpy(copy + off, data + off + len, size - off - len);
    module = NULL;
    if (fwe_module_load(engine, copy, size - len, &module, err, sizeof err) == FWE_OK) {
        try_instantiate(engine, module);
        fwe_module_free(module);
    }
    free(copy);
    return 0;
}
