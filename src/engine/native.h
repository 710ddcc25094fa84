/* native.h: the engine-internal side of the native tier: the C code generator (native_gen.c),
 * the run-time helpers native code calls (native_rt.c) and the tier manager that counts, compiles
 * in the background, caches on disk and publishes native code (tier.c). */
#ifndef FWE_NATIVE_H
#define FWE_NATIVE_H

#include "native_abi.h"
#include "runtime.h"

#include <stddef.h>

/* A growable text buffer for generated C. */
typedef struct fwe_text {
    char *p;
    size_t len, cap;
    bool oom;
    bool needs_simd; /* generated code calls the SIMD helpers (fwe_native_simd_prelude) */
} fwe_text;
void fwe_text_add(fwe_text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void fwe_text_free(fwe_text *t);

/* native_gen.c: the text every generated file starts with (ABI structs and helpers). */
void fwe_native_prelude(fwe_text *out);
/* Appends the C definition of defined function `def` as `uint32_t NAME(...)` (NAME is the macro
 * FWE_NF, defined by the caller). Returns false, writing nothing, when the function uses
 * something the generator does not handle (it then stays interpreted). */
bool fwe_native_gen(const fwe_module *m, uint32_t def, const fwe_code *code, fwe_text *out);

/* Why fwe_native_gen refuses a function: copies the name of the first instruction it does not
 * handle (e.g. "table.get") into op; false when it would handle every instruction. */
bool fwe_native_refusal(const fwe_module *m, uint32_t def, const fwe_code *code, char *op,
                        size_t n);

/* native_gen_simd.c: SIMD (IOP_SIMD_*) for the generator. The lane helpers, to add after the
 * prelude when a function of the file set needs_simd; the word length of the instruction at p (0
 * when it is not SIMD); its C text, false when not handled. */
void fwe_native_simd_prelude(fwe_text *out);
uint32_t fwe_native_simd_len(const fwe_word *p);
bool fwe_native_simd_emit(const fwe_code *code, uint32_t at, const fwe_word *p, fwe_text *out);

/* native_rt.c: the context native code runs in, built by every interpreter activation. */
void fwe_native_ctx_init(fwe_nctx *cx, fwe_instance *entry);
/* The instance's view for native code (filled on first use). */
static inline fwe_ninst *fwe_native_inst(fwe_instance *inst)
{
    if (!inst->nat.inst) {
        inst->nat.mem0 = inst->memories ? (fwe_nmem *)(void *)inst->memories[0] : NULL;
        inst->nat.globals = (uint64_t **)(void *)inst->globals;
        inst->nat.defs = inst->module->ndefs;
        inst->nat.tables = (fwe_ntable **)(void *)inst->tables;
        inst->nat.inst = inst;
    }
    return &inst->nat;
}
/* The published native function of defined function `def`, or NULL. */
static inline fwe_nfn fwe_native_fn(const fwe_module *m, uint32_t def)
{
    return m->ndefs ? __atomic_load_n(&m->ndefs[def].fn, __ATOMIC_ACQUIRE) : NULL;
}

/* interp.c: runs `func` on entry's stacks as part of the current activation (called from native
 * code): traps are reported into entry->act_trap with the whole backtrace. */
fwe_trap_kind fwe_interp_inner(fwe_instance *entry, fwe_func *func, uint64_t *args,
                               const fwe_word *ret_pc);

/* tier.c */
#define FWE_TIER_HOT 2000u /* calls (each 256 loop iterations count 16) before compiling */
void fwe_tier_module_init(fwe_module *m);
void fwe_tier_module_free(fwe_module *m);
/* Called when a function's counter reaches FWE_TIER_HOT (or on its first call in native mode). */
void fwe_tier_hot(const fwe_module *m, uint32_t def);
/* The batch policy: picks indexes into words[n] (code sizes of queued functions, in the order
 * they became hot): the first always, then in order each that still fits in `budget` words in all,
 * at most `max`; writes them to out[] in that order and returns how many. */
uint32_t fwe_tier_pick_batch(const uint32_t *words, uint32_t n, uint32_t budget, uint32_t max,
                             uint32_t *out);
/* tier_sample.c: time-based hotness. The interrupt word's bit the sampler sets (a real
 * interruption is any other bit); where a sample landed (the statistics' index). */
#define FWE_INTERRUPT_SAMPLE 2u
enum { FWE_SAMPLE_INTERP = 0, FWE_SAMPLE_QUICK = 1, FWE_SAMPLE_CC = 2 };
/* FWE_TIER_SAMPLE_US: the sampling period, 0 = off (default 1000). */
uint32_t fwe_tier_sample_interval_us(void);
/* Around each fwe_call of an instance whose module tiers in auto mode (nests). */
void fwe_tier_sample_enter(fwe_instance *e);
void fwe_tier_sample_leave(fwe_instance *e);
/* Called when e's interrupt word is not 0 at an interrupt check, with the innermost frame's
 * module and function index and where it runs (FWE_SAMPLE_*): returns true for a real
 * interruption (trap); else takes a sample bit, counting it (and, in the interpreter, a quarter
 * of the hotness threshold for the function), and returns false (go on). */
bool fwe_interrupt_poll(fwe_instance *e, const fwe_module *m, uint32_t func_index, int where);
/* Samples taken so far, by FWE_SAMPLE_* (process-wide). */
void fwe_tier_samples_get(uint64_t out[3]);
/* tier.c: CLOCK_MONOTONIC in nanoseconds (the tier's log clock and the sampler's). */
uint64_t fwe_tier_now_ns(void);
/* tier.c: with FWE_TIER_LOG, one line of the last second's samples by where they landed. */
void fwe_tier_log_samples(const uint64_t d[3]);

/* The optimize-job policy: the index of the highest score (the first of equals); n >= 1. */
uint32_t fwe_tier_pick_optimize(const uint64_t *score, uint32_t n);
/* Bumps the hotness of `def` by `n`; requests compilation when it crosses the threshold. */
static inline void fwe_tier_count(const fwe_module *m, uint32_t def, uint32_t n)
{
    if (!m->hot)
        return;
    uint32_t h = __atomic_load_n(&m->hot[def], __ATOMIC_RELAXED);
    if (h >= m->hot_threshold)
        return;
    uint32_t nh = h + n < h ? UINT32_MAX : h + n; /* a sample adds up to a quarter of 2^32 */
    __atomic_store_n(&m->hot[def], nh, __ATOMIC_RELAXED);
    if (nh >= m->hot_threshold)
        fwe_tier_hot(m, def);
}

#endif
