/* fuzz_tier.c: differential libFuzzer target between the engine's two tiers: the input drives the
 * rich variant of wasm_gen.h (up to 32 functions of (i32, i64, f64) over all value types, memory,
 * globals, blocks, br_table, calls, call_indirect, traps, bulk memory, table and SIMD
 * instructions, multi-value functions and blocks, passive segments, bounded and unbounded
 * recursion); the module runs once interpreted (FWE_TIER_INTERP) and once with every function
 * forced native (FWE_TIER_NATIVE compiles the whole module with `cc` on its first call), then
 * once more in auto mode with every function hot at once (background compiles, from the cache
 * mostly, land while the calls run: mixed tiers, on-stack replacement in long loops). Every
 * export is called with three argument sets in the same order in each; the results, the traps
 * (kind, message, backtrace with wasm offsets), the memory and the globals after each call must be
 * identical, bit for bit (both tiers run the same helpers, so even NaN bits must agree). A
 * function the generator accepts but the compiler then refuses is a failure too. Compiling is
 * slow, so compiled code is kept in a code cache beside the binary (build/fuzzlib/fuzz/tier-code,
 * or $FWE_CODE_CACHE) for the whole run and the next ones: mutated inputs keep most of their
 * functions, and only the changed ones are compiled again. FUZZ_TIER_SHOW=1 prints the first two
 * runs. */
#include "fuzz_util.h"
#include "fwe.h"
#include "gen_run.h"
#include "native.h" /* internal: which functions the code generator accepts */
#include "runtime.h"
#include "util/util_grow.h"
#include "wasm_gen.h"

#include <inttypes.h>
#include <libgen.h>
#include <limits.h>
#include <stdarg.h>

/* ---- a growing text of everything a run observes ---- */
typedef struct obs {
    char *p;
    size_t len, cap;
} obs;

static void say(obs *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void say(obs *o, const char *fmt, ...)
{
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int w = vsnprintf(o->p ? o->p + o->len : NULL, o->p ? o->cap - o->len : 0, fmt, ap);
        va_end(ap);
        CHECK(w >= 0);
        if (o->p && o->len + (size_t)w < o->cap) {
            o->len += (size_t)w;
            return;
        }
        CHECK(util_grow((void **)&o->p, &o->cap, o->len + (size_t)w + 1, 8192, 1));
    }
}

static uint64_t fnv64(const uint8_t *p, size_t n)
{
    uint64_t h = UINT64_C(0xcbf29ce484222325);
    for (size_t i = 0; i < n; i++) {
        h ^= p[i];
        h *= UINT64_C(0x100000001b3);
    }
    return h;
}

static fwe_engine *engine;
static uint64_t stat_inputs, stat_funcs, stat_native, stat_calls, stat_traps, stat_exhausted;

/* The call depth limit of the instances: unbounded recursion traps there, in every tier alike. */
#define MAX_CALL_DEPTH 400

/* NaN_RESULTS: the f64 result of a multi-value function is compared as "a NaN" when it is one,
 * not bit for bit. add and mul with a NaN in both operands may give either NaN (the spec allows
 * both; the C compiler orders the operands of a commutative operation, and folds arithmetic on
 * constant NaNs its own way), and the tiers do differ there (docs/reliability.md). Every float
 * that reaches a raw f64 result would make that a false alarm; through memory and
 * reinterpretations, float bits are still compared exactly. */
#define F64_SIGN UINT64_C(0x8000000000000000)
#define F64_INF UINT64_C(0x7ff0000000000000)

/* What the instance looks like after a call: memory size and hash, the four mutable globals. */
static void state(obs *o, fwe_instance *inst)
{
    fwe_memory *mem = fwe_instance_memory(inst, 0);
    CHECK(mem != NULL);
    uint64_t size = fwe_memory_size(mem);
    say(o, "  mem %" PRIu64 " %016" PRIx64, size, fnv64(fwe_memory_data(mem), (size_t)size));
    for (int i = 0; i < 4; i++) {
        char name[3] = {'g', (char)('0' + i), 0};
        fwe_extern ext;
        CHECK(fwe_instance_export(inst, name, 2, &ext) && ext.kind == FWE_EXTERN_GLOBAL);
        fwe_val v = fwe_global_get(ext.of.global);
        say(o, " g%d=%" PRIx64, i,
            v.type == FWE_I32 || v.type == FWE_F32 ? (uint64_t)v.of.i32 : v.of.i64);
    }
    say(o, "\n");
}

/* Loads, instantiates and runs every export of `gm` under `mode`; writes what it saw into `o`.
 * Returns the number of defined functions that ran native code; *memory gets a copy of the final
 * memory (malloc'd) for a byte-wise report. */
static uint32_t run(const gen_module *gm, fwe_tier_mode mode, obs *o, uint8_t **memory,
                    size_t *memlen, uint32_t *accepted)
{
    fwe_tier_set(mode);
    char err[256];
    gen_run gr;
    if (!gen_run_start(&gr, engine, gm->wasm, gm->len, MAX_CALL_DEPTH, err, sizeof err)) {
        fprintf(stderr, "fuzz_tier: the generator made an invalid module: %s\n", err);
        const char *path = fuzz_write("invalid.wasm", gm->wasm, gm->len);
        fprintf(stderr, "fuzz_tier: module kept as %s\n", path ? path : "(not written)");
        abort();
    }
    *accepted = 0;
    if (mode == FWE_TIER_NATIVE) /* the functions the code generator takes */
        for (int i = 0; i < gm->nfuncs; i++) {
            fwe_text t = {0};
            const fwe_code *code = fwe_module_code(gr.mod, (uint32_t)i);
            if (code && fwe_native_gen(gr.mod, (uint32_t)i, code, &t) && !t.oom)
                ++*accepted;
            fwe_text_free(&t);
        }
    fwe_instance *inst = gr.inst;
    fwe_trap trap;
    *memory = NULL;
    *memlen = 0;
    if (!inst) {
        say(o, "instantiate error: %s\n", gr.trap.message);
    } else {
        fwe_extern depth;
        CHECK(fwe_instance_export(inst, "depth", 5, &depth) && depth.kind == FWE_EXTERN_GLOBAL);
        for (int i = 0; i < gm->nfuncs; i++) {
            char name[8];
            fwe_functype_info ft;
            fwe_func *fn = gen_run_func(&gr, i, name, &ft);
            for (int a = 0; a < GEN_ARGSETS; a++) {
                fwe_val args[NPARAMS] = {{.type = FWE_I32}, {.type = FWE_I64}, {.type = FWE_F64}};
                args[0].of.i32 = gm->args[a].i32;
                args[1].of.i64 = gm->args[a].i64;
                args[2].of.f64_bits = gm->args[a].f64_bits;
                fwe_val res[3], zero = {.type = FWE_I32};
                memset(res, 0, sizeof res);
                memset(&trap, 0, sizeof trap);
                /* the recursion depth starts at 0 (a trap leaves it where it was) */
                CHECK(fwe_global_set(depth.of.global, zero) == FWE_OK);
                CHECK(ft.nresults >= 1 && ft.nresults <= 3);
                fwe_status st = fwe_call(fn, args, NPARAMS, res, ft.nresults, &trap);
                stat_calls += mode == FWE_TIER_NATIVE;
                say(o, "%s/%d => ", name, a);
                if (st == FWE_ERR_TRAP) {
                    stat_traps += mode == FWE_TIER_NATIVE;
                    stat_exhausted +=
                        mode == FWE_TIER_NATIVE && trap.kind == FWE_TRAP_STACK_EXHAUSTED;
                    say(o, "trap %d \"%s\" at", (int)trap.kind, trap.message);
                    for (uint32_t f = 0; f < trap.nframes; f++)
                        say(o, " %" PRIu32 "@%" PRIu32, trap.frames[f].func_index,
                            trap.frames[f].code_offset);
                    say(o, "\n");
                } else if (st != FWE_OK) {
                    say(o, "status %d\n", (int)st);
                } else {
                    for (uint32_t r = 0; r < ft.nresults; r++)
                        if (ft.results[r] == FWE_I32)
                            say(o, " i32:%" PRIu32, res[r].of.i32);
                        else if (ft.results[r] == FWE_I64)
                            say(o, " i64:%" PRIu64, res[r].of.i64);
                        else if ((res[r].of.f64_bits & ~F64_SIGN) > F64_INF)
                            say(o, " f64:nan"); /* which NaN: see NaN_RESULTS */
                        else
                            say(o, " f64:%016" PRIx64, res[r].of.f64_bits);
                    say(o, "\n");
                }
                state(o, inst);
            }
        }
        fwe_memory *mem = fwe_instance_memory(inst, 0);
        *memlen = (size_t)fwe_memory_size(mem);
        *memory = malloc(*memlen ? *memlen : 1);
        CHECK(*memory != NULL);
        memcpy(*memory, fwe_memory_data(mem), *memlen);
        fwe_instance_free(inst); /* before the count, as the calls are over */
        gr.inst = NULL;
    }
    uint32_t native = fwe_module_native_count(gr.mod);
    gen_run_end(&gr);
    return native;
}

static void report(void)
{
    if (stat_inputs)
        fprintf(stderr,
                "fuzz_tier: %" PRIu64 " modules, %" PRIu64 " functions, %" PRIu64
                " of them native, %" PRIu64 " calls compared (%" PRIu64 " trapped, %" PRIu64
                " of them at the call depth limit)\n",
                stat_inputs, stat_funcs, stat_native, stat_calls, stat_traps, stat_exhausted);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    /* the code cache: beside the binary unless FWE_CODE_CACHE names one */
    const char *cache = getenv("FWE_CODE_CACHE");
    if (!cache || !*cache) {
        char self[PATH_MAX], dir[PATH_MAX + 16];
        if (realpath((*argv)[0], self)) {
            snprintf(dir, sizeof dir, "%s/tier-code", dirname(self));
            setenv("FWE_CODE_CACHE", dir, 1);
        }
    }
    setenv("FWE_TIER_HOT", "1", 1); /* auto mode: every function is hot on its first call */
    engine = fwe_engine_new();
    CHECK(engine != NULL);
    if (!fwe_tier_compiler_available()) {
        fprintf(stderr, "fuzz_tier: no C compiler: the native tier cannot be tested\n");
        exit(1);
    }
    atexit(report);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    gen_module gm;
    generate(data, size, true, &gm);
    obs oi = {0}, on = {0};
    uint8_t *mi, *mn;
    size_t li, ln;
    uint32_t accepted_i, accepted;
    run(&gm, FWE_TIER_INTERP, &oi, &mi, &li, &accepted_i);
    uint32_t native = run(&gm, FWE_TIER_NATIVE, &on, &mn, &ln, &accepted);
    /* auto mode, every function hot on its first call: compiled (from the cache, mostly) in the
     * background while the calls go on, so interpreted and native frames mix, and frames in long
     * loops move to native code at a loop header; when that happens depends on timing */
    obs oa = {0};
    uint8_t *ma;
    size_t la;
    uint32_t accepted_a;
    run(&gm, FWE_TIER_AUTO, &oa, &ma, &la, &accepted_a);
    stat_inputs++;
    stat_funcs += (uint64_t)gm.nfuncs;
    stat_native += native;
    if (stat_inputs % 200 == 0)
        report();
    if (getenv("FUZZ_TIER_SHOW")) /* FUZZ_TIER_SHOW=1: print both runs of every input */
        fprintf(stderr, "--- native (%u of %d functions)\n%s--- interpreter\n%s", native, gm.nfuncs,
                on.p ? on.p : "", oi.p ? oi.p : "");
    bool same = oi.len == on.len && (!oi.len || !memcmp(oi.p, on.p, oi.len));
    bool same_auto = oi.len == oa.len && (!oi.len || !memcmp(oi.p, oa.p, oi.len));
    /* every function the code generator accepts must compile (the first call compiles them
     * all; instantiation never fails here, so there always is a first call) */
    bool compiled = native == accepted;
    if (!same || !compiled || !same_auto) {
        const char *path = fuzz_write("tier.wasm", gm.wasm, gm.len);
        if (!compiled)
            fprintf(stderr,
                    "fuzz_tier: %u functions accepted by the code generator but only %u run "
                    "native (a compile failure: see the message above)\n",
                    accepted, native);
        if (!same) {
            fprintf(stderr, "fuzz_tier: the tiers differ\n--- native\n%s--- interpreter\n%s",
                    on.p ? on.p : "", oi.p ? oi.p : "");
            for (size_t i = 0; i < li && i < ln; i++)
                if (mi[i] != mn[i]) {
                    fprintf(stderr,
                            "fuzz_tier: memory differs first at %zu: %02x native, %02x "
                            "interpreted\n",
                            i, mn[i], mi[i]);
                    break;
                }
        }
        if (same && !same_auto)
            fprintf(stderr,
                    "fuzz_tier: the auto-mode run (tiers switching while it runs, timing "
                    "dependent) differs\n--- auto\n%s--- interpreter\n%s",
                    oa.p ? oa.p : "", oi.p ? oi.p : "");
        fprintf(stderr, "fuzz_tier: module kept as %s\n", path ? path : "(not written)");
        abort();
    }
    free(oa.p);
    free(ma);
    free(oi.p);
    free(on.p);
    free(mi);
    free(mn);
    free(gm.wasm);
    return 0;
}
