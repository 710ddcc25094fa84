/* test_trap.c: trap backtraces (src/engine/trap.c) name the trapping instruction's own wasm
 * offset, for every kind of trap raised inside an instruction and for traps at a call, in the
 * interpreter and in forced native code alike. The module is assembled here byte by byte, so the
 * expected offsets come from where the test put each instruction, not from the engine. */
#include "fwe.h"
#include "harness.h"
#include "tier_test.h"

#include <dirent.h>
#include <stdlib.h>
#include <unistd.h>

/* ---- a tiny wasm assembler ---- */

typedef struct buf {
    uint8_t b[8192];
    size_t n;
} buf;

static void byte(buf *o, uint8_t v)
{
    if (o->n < sizeof o->b)
        o->b[o->n++] = v;
}
static void bytes(buf *o, const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        byte(o, p[i]);
}
static void uleb(buf *o, uint64_t v)
{
    do {
        uint8_t c = v & 0x7f;
        v >>= 7;
        byte(o, (uint8_t)(c | (v ? 0x80 : 0)));
    } while (v);
}
static void name(buf *o, const char *s)
{
    uleb(o, strlen(s));
    bytes(o, (const uint8_t *)s, strlen(s));
}
#define OPS(o, ...)                                                                                \
    do {                                                                                           \
        const uint8_t ops_[] = {__VA_ARGS__};                                                      \
        bytes(o, ops_, sizeof ops_);                                                               \
    } while (0)

/* ---- the module ---- */

enum { T_I_I = 0, T_V_V = 1 };
enum { IMP_HOST_TRAP = 0, IMP_ARM = 1, NIMPORTS = 2 };
/* defined functions in order (function index = NIMPORTS + this); all (i32) -> i32 but F_NOP */
enum {
    F_DIV_U,
    F_DIV_S,
    F_REM64,
    F_TRUNC_NAN,
    F_TRUNC_RANGE,
    F_LOAD,
    F_STORE,
    F_LOADX,
    F_FILL,
    F_COPY,
    F_INIT,
    F_TGET,
    F_TSET,
    F_TFILL,
    F_TINIT,
    F_TCOPY,
    F_INDIRECT,
    F_UNREACH,
    F_SIMD,
    F_HOST,
    F_OUTER,
    F_OUTER_INDIRECT,
    F_RECURSE,
    F_SPIN_BR,
    F_SPIN_BRIF,
    F_NOP, /* () -> (), table entry 0 (the wrong type for call_indirect) */
    NFUNCS
};
static const char *const fnames[NFUNCS] = {
    "div_u",          "div_s",   "rem64",    "trunc_nan", "trunc_range", "load", "store",
    "loadx",          "fill",    "copy",     "init",      "tget",        "tset", "tfill",
    "tinit",          "tcopy",   "indirect", "unreach",   "simd",        "host", "outer",
    "outer_indirect", "recurse", "spin_br",  "spin_brif", NULL};

#define FI(f) ((uint8_t)(NIMPORTS + (f))) /* function index (all below 128: one LEB byte) */

/* absolute wasm offset of each function's marked instruction (the one expected in the frame) */
static uint32_t marks[NFUNCS];

/* The body of function f (locals and code, without the size); *mark gets the offset within
 * the body of the instruction the backtrace must name. */
static void body(int f, buf *o, size_t *mark)
{
    if (f == F_NOP) {
        uleb(o, 0);
        byte(o, 0x0b);
        return;
    }
    OPS(o, 1, 1, 0x7f); /* one extra i32 local (1) */
    /* code before the instruction under test, so that "the instruction before" exists and
     * differs: local.get 0; i32.clz; local.set 1 */
    if (f != F_SPIN_BR && f != F_SPIN_BRIF)
        OPS(o, 0x20, 0, 0x67, 0x21, 1);
#define MARK() (*mark = o->n)
    switch (f) {
    case F_DIV_U: /* local.get 0; local.get 0; i32.div_u */
        OPS(o, 0x20, 0, 0x20, 0);
        MARK();
        OPS(o, 0x6e);
        break;
    case F_DIV_S: /* local.get 0; i32.const -1; i32.div_s */
        OPS(o, 0x20, 0, 0x41, 0x7f);
        MARK();
        OPS(o, 0x6d);
        break;
    case F_REM64: /* i64.rem_u of the argument by itself, wrapped */
        OPS(o, 0x20, 0, 0xad, 0x20, 0, 0xad);
        MARK();
        OPS(o, 0x82, 0xa7);
        break;
    case F_TRUNC_NAN: /* local.get 0; f32.reinterpret_i32; i32.trunc_f32_s */
        OPS(o, 0x20, 0, 0xbe);
        MARK();
        OPS(o, 0xa8);
        break;
    case F_TRUNC_RANGE: /* local.get 0; f64.convert_i32_s; i64.trunc_f64_u; i32.wrap_i64 */
        OPS(o, 0x20, 0, 0xb7);
        MARK();
        OPS(o, 0xb1, 0xa7);
        break;
    case F_LOAD: /* local.get 0; i32.load */
        OPS(o, 0x20, 0);
        MARK();
        OPS(o, 0x28, 2, 0);
        break;
    case F_STORE: /* local.get 0; i64.const 1; i64.store; i32.const 0 */
        OPS(o, 0x20, 0, 0x42, 1);
        MARK();
        OPS(o, 0x37, 3, 0, 0x41, 0);
        break;
    case F_LOADX: /* local.get 0; i32.const 4; i32.add; i32.load8_u (the add folds into it) */
        OPS(o, 0x20, 0, 0x41, 4, 0x6a);
        MARK();
        OPS(o, 0x2d, 0, 0);
        break;
    case F_FILL: /* memory.fill(arg, 0, 16); i32.const 0 */
        OPS(o, 0x20, 0, 0x41, 0, 0x41, 16);
        MARK();
        OPS(o, 0xfc, 11, 0, 0x41, 0);
        break;
    case F_COPY: /* memory.copy(0, arg, 16); i32.const 0 */
        OPS(o, 0x41, 0, 0x20, 0, 0x41, 16);
        MARK();
        OPS(o, 0xfc, 10, 0, 0, 0x41, 0);
        break;
    case F_INIT: /* memory.init 0 (0, arg, 4); i32.const 0 */
        OPS(o, 0x41, 0, 0x20, 0, 0x41, 4);
        MARK();
        OPS(o, 0xfc, 8, 0, 0, 0x41, 0);
        break;
    case F_TGET: /* table.get 0 (arg); ref.is_null */
        OPS(o, 0x20, 0);
        MARK();
        OPS(o, 0x25, 0, 0xd1);
        break;
    case F_TSET: /* table.set 0 (arg, ref.null func); i32.const 0 */
        OPS(o, 0x20, 0, 0xd0, 0x70);
        MARK();
        OPS(o, 0x26, 0, 0x41, 0);
        break;
    case F_TFILL: /* table.fill 0 (arg, ref.null func, 2); i32.const 0 */
        OPS(o, 0x20, 0, 0xd0, 0x70, 0x41, 2);
        MARK();
        OPS(o, 0xfc, 17, 0, 0x41, 0);
        break;
    case F_TINIT: /* table.init 0 from passive segment 2 (0, arg, 2); i32.const 0 */
        OPS(o, 0x41, 0, 0x20, 0, 0x41, 2);
        MARK();
        OPS(o, 0xfc, 12, 2, 0, 0x41, 0);
        break;
    case F_TCOPY: /* table.copy 0 0 (0, arg, 2); i32.const 0 */
        OPS(o, 0x41, 0, 0x20, 0, 0x41, 2);
        MARK();
        OPS(o, 0xfc, 14, 0, 0, 0x41, 0);
        break;
    case F_INDIRECT: /* call_indirect (i32) -> i32 of table entry arg, with arg */
        OPS(o, 0x20, 0, 0x20, 0);
        MARK();
        OPS(o, 0x11, T_I_I, 0);
        break;
    case F_UNREACH:
        MARK();
        OPS(o, 0x00);
        break;
    case F_SIMD: /* local.get 0; v128.load; i32x4.extract_lane 0 */
        OPS(o, 0x20, 0);
        MARK();
        OPS(o, 0xfd, 0, 4, 0, 0xfd, 27, 0);
        break;
    case F_HOST: /* call the import that traps */
        OPS(o, 0x20, 0);
        MARK();
        OPS(o, 0x10, IMP_HOST_TRAP);
        break;
    case F_OUTER: /* call div_u(arg) */
        OPS(o, 0x20, 0);
        MARK();
        OPS(o, 0x10, FI(F_DIV_U));
        break;
    case F_OUTER_INDIRECT: /* call_indirect table entry 2 (div_u) with 0 */
        OPS(o, 0x41, 0, 0x41, 2);
        MARK();
        OPS(o, 0x11, T_I_I, 0);
        break;
    case F_RECURSE: /* call itself */
        OPS(o, 0x20, 0);
        MARK();
        OPS(o, 0x10, FI(F_RECURSE));
        break;
    case F_SPIN_BR: /* loop: call arm; br 0; end; i32.const 0 */
        OPS(o, 0x03, 0x40, 0x10, IMP_ARM);
        MARK();
        OPS(o, 0x0c, 0, 0x0b, 0x41, 0);
        break;
    case F_SPIN_BRIF: /* loop: call arm; br_if 0 (arg < 5, fused with the compare); end; 0 */
        OPS(o, 0x03, 0x40, 0x10, IMP_ARM, 0x20, 0, 0x41, 5, 0x49);
        MARK();
        OPS(o, 0x0d, 0, 0x0b, 0x41, 0);
        break;
    }
#undef MARK
    byte(o, 0x0b);
}

static void section(buf *mod, uint8_t id, const buf *s)
{
    byte(mod, id);
    uleb(mod, s->n);
    bytes(mod, s->b, s->n);
}

/* Assembles the module into mod and fills marks[]. */
static void assemble(buf *mod)
{
    static buf s;
    mod->n = 0;
    OPS(mod, 0x00, 0x61, 0x73, 0x6d, 1, 0, 0, 0);
    s.n = 0; /* types: (i32) -> i32, () -> () */
    OPS(&s, 2, 0x60, 1, 0x7f, 1, 0x7f, 0x60, 0, 0);
    section(mod, 1, &s);
    s.n = 0; /* imports */
    uleb(&s, 2);
    name(&s, "env");
    name(&s, "host_trap");
    OPS(&s, 0x00, T_I_I);
    name(&s, "env");
    name(&s, "arm");
    OPS(&s, 0x00, T_V_V);
    section(mod, 2, &s);
    s.n = 0; /* functions */
    uleb(&s, NFUNCS);
    for (int f = 0; f < NFUNCS; f++)
        byte(&s, f == F_NOP ? T_V_V : T_I_I);
    section(mod, 3, &s);
    s.n = 0; /* table: funcref, 4 entries */
    OPS(&s, 1, 0x70, 0x00, 4);
    section(mod, 4, &s);
    s.n = 0; /* memory: one page */
    OPS(&s, 1, 0x00, 1);
    section(mod, 5, &s);
    s.n = 0; /* exports */
    uleb(&s, NFUNCS - 1);
    for (int f = 0; f < NFUNCS; f++) {
        if (!fnames[f])
            continue;
        name(&s, fnames[f]);
        OPS(&s, 0x00, FI(f));
    }
    section(mod, 7, &s);
    s.n = 0; /* elements: [0] = nop, [2] = div_u (1 and 3 null); passive segment 2: nop, nop */
    OPS(&s, 3, 0x00, 0x41, 0, 0x0b, 1, FI(F_NOP), 0x00, 0x41, 2, 0x0b, 1, FI(F_DIV_U), 0x01, 0x00,
        2, FI(F_NOP), FI(F_NOP));
    section(mod, 9, &s);
    s.n = 0; /* data count */
    OPS(&s, 1);
    section(mod, 12, &s);
    /* code: the section content starts after its id and size, which depend on its length */
    static buf c, fb;
    size_t at[NFUNCS], mk[NFUNCS];
    c.n = 0;
    uleb(&c, NFUNCS);
    for (int f = 0; f < NFUNCS; f++) {
        fb.n = 0;
        mk[f] = 0;
        body(f, &fb, &mk[f]);
        uleb(&c, fb.n);
        at[f] = c.n;
        bytes(&c, fb.b, fb.n);
    }
    byte(mod, 10);
    uleb(mod, c.n);
    size_t code_start = mod->n;
    bytes(mod, c.b, c.n);
    for (int f = 0; f < NFUNCS; f++)
        marks[f] = (uint32_t)(code_start + at[f] + mk[f]);
    s.n = 0; /* data: passive segment 0, 4 bytes */
    OPS(&s, 1, 0x01, 4, 1, 2, 3, 4);
    section(mod, 11, &s);
}

/* ---- running it ---- */

static fwe_trap_kind host_trap(fwe_caller *caller, uint64_t *slots, void *data)
{
    (void)slots;
    (void)data;
    return fwe_caller_trap(caller, FWE_TRAP_HOST, "host says no");
}

/* Sets the interrupt flag of the instance: the next backward branch is interrupted. */
static fwe_trap_kind host_arm(fwe_caller *caller, uint64_t *slots, void *data)
{
    (void)slots;
    (void)data;
    fwe_instance_interrupt(fwe_caller_instance(caller));
    return FWE_TRAP_NONE;
}

/* Loads and instantiates `mod` under `mode` (with `cfg`, may be NULL). */
static bool start_module(run *r, fwe_tier_mode mode, const buf *mod, const fwe_instance_config *cfg)
{
    memset(r, 0, sizeof *r);
    CHECK(mod->n < sizeof mod->b);
    fwe_tier_set(mode);
    r->engine = fwe_engine_new();
    char err[256] = "";
    fwe_status st = fwe_module_load(r->engine, mod->b, mod->n, &r->module, err, sizeof err);
    CHECK_EQ_INT(st, FWE_OK);
    if (st != FWE_OK) {
        fprintf(stderr, "  module: %s\n", err);
        fwe_engine_free(r->engine);
        return false;
    }
    r->linker = fwe_linker_new(r->engine);
    CHECK_EQ_INT(fwe_linker_define_host(r->linker, "env", "host_trap", "i:i", host_trap, NULL),
                 FWE_OK);
    CHECK_EQ_INT(fwe_linker_define_host(r->linker, "env", "arm", "", host_arm, NULL), FWE_OK);
    fwe_trap trap;
    st = fwe_instantiate(r->linker, r->module, cfg, &r->inst, &trap);
    CHECK_EQ_INT(st, FWE_OK);
    if (st != FWE_OK) {
        fwe_linker_free(r->linker);
        fwe_module_free(r->module);
        fwe_engine_free(r->engine);
        return false;
    }
    return true;
}

static bool start(run *r, fwe_tier_mode mode)
{
    static buf mod;
    assemble(&mod);
    return start_module(r, mode, &mod, NULL);
}

static void stop(run *r)
{
    fwe_instance_free(r->inst);
    fwe_linker_free(r->linker);
    fwe_module_free(r->module);
    fwe_engine_free(r->engine);
}

/* Calls export `fname` with `arg`; returns whether it trapped, the trap in *trap. */
static bool call_named(run *r, const char *fname, uint32_t arg, fwe_trap *trap)
{
    fwe_extern ext;
    memset(trap, 0, sizeof *trap);
    if (!fwe_instance_export(r->inst, fname, strlen(fname), &ext) || ext.kind != FWE_EXTERN_FUNC) {
        CHECK(!"export missing");
        return false;
    }
    fwe_val a = {.type = FWE_I32}, res;
    a.of.i32 = arg;
    fwe_status st = fwe_call(ext.of.func, &a, 1, &res, 1, trap);
    fwe_instance_clear_interrupt(r->inst);
    CHECK_EQ_INT(st, FWE_ERR_TRAP);
    return st == FWE_ERR_TRAP;
}

static bool call_trap(run *r, int f, uint32_t arg, fwe_trap *trap)
{
    return call_named(r, fnames[f], arg, trap);
}

typedef struct tcase {
    int func; /* export called and innermost frame */
    uint32_t arg;
    fwe_trap_kind kind;
    const char *message;
    int callee; /* >= 0: the trap happens in this function, called from `func` at its mark */
} tcase;

static const tcase cases[] = {
    {F_DIV_U, 0, FWE_TRAP_INT_DIV_ZERO, "integer divide by zero", -1},
    {F_DIV_S, 0x80000000u, FWE_TRAP_INT_OVERFLOW, "integer overflow", -1},
    {F_REM64, 0, FWE_TRAP_INT_DIV_ZERO, "integer divide by zero", -1},
    {F_TRUNC_NAN, 0x7fc00000u, FWE_TRAP_INVALID_CONVERSION, "invalid conversion to integer", -1},
    {F_TRUNC_RANGE, 0xffffffffu, FWE_TRAP_INT_OVERFLOW, "integer overflow", -1},
    {F_LOAD, 65536, FWE_TRAP_MEMORY_OOB, "out of bounds memory access", -1},
    {F_STORE, 65532, FWE_TRAP_MEMORY_OOB, "out of bounds memory access", -1},
    {F_LOADX, 65534, FWE_TRAP_MEMORY_OOB, "out of bounds memory access", -1},
    {F_FILL, 65530, FWE_TRAP_MEMORY_OOB, "out of bounds memory access", -1},
    {F_COPY, 65530, FWE_TRAP_MEMORY_OOB, "out of bounds memory access", -1},
    {F_INIT, 1, FWE_TRAP_MEMORY_OOB, "out of bounds memory access", -1},
    {F_TGET, 10, FWE_TRAP_TABLE_OOB, "out of bounds table access", -1},
    {F_TSET, 10, FWE_TRAP_TABLE_OOB, "out of bounds table access", -1},
    {F_TFILL, 3, FWE_TRAP_TABLE_OOB, "out of bounds table access", -1},
    {F_TINIT, 1, FWE_TRAP_TABLE_OOB, "out of bounds table access", -1},
    {F_TCOPY, 3, FWE_TRAP_TABLE_OOB, "out of bounds table access", -1},
    {F_INDIRECT, 10, FWE_TRAP_TABLE_OOB, "undefined element", -1},
    {F_INDIRECT, 1, FWE_TRAP_UNINITIALIZED_ELEMENT, "uninitialized element 1", -1},
    {F_INDIRECT, 0, FWE_TRAP_INDIRECT_TYPE_MISMATCH, "indirect call type mismatch", -1},
    {F_UNREACH, 0, FWE_TRAP_UNREACHABLE, "unreachable", -1},
    {F_SIMD, 65530, FWE_TRAP_MEMORY_OOB, "out of bounds memory access", -1},
    {F_HOST, 0, FWE_TRAP_HOST, "host says no", -1},
    {F_SPIN_BR, 0, FWE_TRAP_INTERRUPTED, "interrupted", -1},
    {F_SPIN_BRIF, 0, FWE_TRAP_INTERRUPTED, "interrupted", -1},
    {F_OUTER, 0, FWE_TRAP_INT_DIV_ZERO, "integer divide by zero", F_DIV_U},
    {F_OUTER_INDIRECT, 0, FWE_TRAP_INT_DIV_ZERO, "integer divide by zero", F_DIV_U},
};

/* Every case traps with its kind and message, and the innermost frame names the marked
 * instruction (the callee's for a two-frame case, whose caller frame names the call). */
static void check_cases(run *r, const char *tier)
{
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const tcase *c = &cases[i];
        fwe_trap t;
        if (!call_trap(r, c->func, c->arg, &t))
            continue;
        int fails = harness_cur_failed;
        CHECK_EQ_INT(t.kind, c->kind);
        CHECK_STR_EQ(t.message, c->message);
        int inner = c->callee >= 0 ? c->callee : c->func;
        CHECK_EQ_INT(t.nframes, c->callee >= 0 ? 2 : 1);
        if (t.nframes >= 1) {
            CHECK_EQ_INT(t.frames[0].func_index, FI(inner));
            CHECK_EQ_INT(t.frames[0].code_offset, marks[inner]);
        }
        if (c->callee >= 0 && t.nframes >= 2) {
            CHECK_EQ_INT(t.frames[1].func_index, FI(c->func));
            CHECK_EQ_INT(t.frames[1].code_offset, marks[c->func]);
        }
        if (harness_cur_failed != fails) {
            char text[1024];
            fwe_trap_format(&t, text, sizeof text);
            fprintf(stderr, "  (%s, %s(%u), expected offset 0x%x):\n  %s\n", tier, fnames[c->func],
                    c->arg, marks[inner], text);
        }
    }
    /* stack exhaustion at a self-call: every frame stands at the call */
    fwe_trap t;
    if (call_trap(r, F_RECURSE, 0, &t)) {
        CHECK_EQ_INT(t.kind, FWE_TRAP_STACK_EXHAUSTED);
        CHECK_EQ_INT(t.nframes, FWE_BACKTRACE_MAX);
        for (uint32_t k = 0; k < t.nframes; k++) {
            CHECK_EQ_INT(t.frames[k].func_index, FI(F_RECURSE));
            CHECK_EQ_INT(t.frames[k].code_offset, marks[F_RECURSE]);
        }
    }
}

TEST(trap_offsets_name_the_instruction_interpreted)
{
    run r;
    if (!start(&r, FWE_TIER_INTERP))
        return;
    check_cases(&r, "interpreter");
    CHECK_EQ_INT(fwe_module_native_count(r.module), 0);
    stop(&r);
}

TEST(trap_offsets_name_the_instruction_in_native_code)
{
    CHECK(fwe_tier_compiler_available());
    run r;
    if (!start(&r, FWE_TIER_NATIVE))
        return;
    check_cases(&r, "native");
    /* every function ran native code (none fell back to the interpreter) */
    for (int f = 0; f < NFUNCS; f++)
        if (fnames[f] && !fwe_module_func_is_native(r.module, FI(f))) {
            CHECK(!"function not native");
            fprintf(stderr, "  %s is not native\n", fnames[f]);
        }
    stop(&r);
}

/* The formatted backtrace (what the server logs) carries the same offsets. */
TEST(formatted_backtrace_names_call_and_instruction)
{
    for (int tier = 0; tier < 2; tier++) {
        run r;
        if (!start(&r, tier ? FWE_TIER_NATIVE : FWE_TIER_INTERP))
            return;
        fwe_trap t;
        if (call_trap(&r, F_OUTER, 0, &t)) {
            char got[512], want[512];
            fwe_trap_format(&t, got, sizeof got);
            snprintf(want, sizeof want,
                     "integer divide by zero\n  #0 func %u at 0x%x\n  #1 func %u at 0x%x",
                     FI(F_DIV_U), marks[F_DIV_U], FI(F_OUTER), marks[F_OUTER]);
            CHECK_STR_EQ(got, want);
        }
        stop(&r);
    }
}

/* ---- mixed tiers: native code and the interpreter calling each other ---- */

/* Two functions (i32) -> i32, exported as "a" (function 0) and "b" (1): each divides its argument
 * by itself when it is 0, else calls the other with the argument - 1. b is padded with adds so
 * that it is longer than FWE_TIER_MAX_WORDS=100 and stays interpreted while a runs native.
 * mmarks[f][0] is f's division, mmarks[f][1] its call. */
static uint32_t mmarks[2][2];

static void assemble_mixed(buf *mod)
{
    static buf s, c, fb;
    mod->n = 0;
    OPS(mod, 0x00, 0x61, 0x73, 0x6d, 1, 0, 0, 0);
    s.n = 0;
    OPS(&s, 1, 0x60, 1, 0x7f, 1, 0x7f);
    section(mod, 1, &s);
    s.n = 0;
    OPS(&s, 2, 0, 0);
    section(mod, 3, &s);
    s.n = 0;
    uleb(&s, 2);
    name(&s, "a");
    OPS(&s, 0x00, 0);
    name(&s, "b");
    OPS(&s, 0x00, 1);
    section(mod, 7, &s);
    size_t at[2], mk[2][2];
    c.n = 0;
    uleb(&c, 2);
    for (int f = 0; f < 2; f++) {
        fb.n = 0;
        OPS(&fb, 1, 1, 0x7f);
        for (int k = 0; f == 1 && k < 40; k++) /* local.set 1 (local.get 1 + 1) */
            OPS(&fb, 0x20, 1, 0x41, 1, 0x6a, 0x21, 1);
        /* if (arg == 0) arg / arg else other(arg - 1) */
        OPS(&fb, 0x20, 0, 0x45, 0x04, 0x7f, 0x20, 0, 0x20, 0);
        mk[f][0] = fb.n;
        OPS(&fb, 0x6e, 0x05, 0x20, 0, 0x41, 1, 0x6b);
        mk[f][1] = fb.n;
        OPS(&fb, 0x10, (uint8_t)(1 - f), 0x0b, 0x0b);
        uleb(&c, fb.n);
        at[f] = c.n;
        bytes(&c, fb.b, fb.n);
    }
    byte(mod, 10);
    uleb(mod, c.n);
    size_t code_start = mod->n;
    bytes(mod, c.b, c.n);
    for (int f = 0; f < 2; f++)
        for (int k = 0; k < 2; k++)
            mmarks[f][k] = (uint32_t)(code_start + at[f] + mk[f][k]);
}

/* Checks a trap of the mixed module against the expected frames (function, mark) innermost
 * first. */
static void check_mixed(const fwe_trap *t, fwe_trap_kind kind, const int (*want)[2], uint32_t n)
{
    CHECK_EQ_INT(t->kind, kind);
    CHECK_EQ_INT(t->nframes, n);
    for (uint32_t i = 0; i < n && i < t->nframes; i++) {
        CHECK_EQ_INT(t->frames[i].func_index, want[i][0]);
        CHECK_EQ_INT(t->frames[i].code_offset, mmarks[want[i][0]][want[i][1]]);
    }
}

/* a native and b interpreted (and both interpreted): in-instruction traps in either, called
 * from the other, and stack exhaustion found at either one's entry, with every frame at its
 * instruction (the interpreter's entry check used to give its native caller's frame offset 0). */
TEST(trap_offsets_across_tiers)
{
    static buf mod;
    assemble_mixed(&mod);
    setenv("FWE_TIER_MAX_WORDS", "100", 1);
    for (int mixed = 0; mixed < 2; mixed++) {
        int inner_seen[2] = {0, 0};
        for (uint32_t depth = 100; depth <= 101; depth++) {
            fwe_instance_config cfg = {.max_call_depth = depth};
            run r;
            if (!start_module(&r, mixed ? FWE_TIER_NATIVE : FWE_TIER_INTERP, &mod, &cfg))
                break;
            fwe_trap t;
            static const int w0[][2] = {{0, 0}};
            static const int w1[][2] = {{1, 0}, {0, 1}};
            static const int w2[][2] = {{0, 0}, {1, 1}, {0, 1}};
            if (call_named(&r, "a", 0, &t))
                check_mixed(&t, FWE_TRAP_INT_DIV_ZERO, w0, 1);
            if (call_named(&r, "a", 1, &t))
                check_mixed(&t, FWE_TRAP_INT_DIV_ZERO, w1, 2);
            if (call_named(&r, "a", 2, &t))
                check_mixed(&t, FWE_TRAP_INT_DIV_ZERO, w2, 3);
            if (call_named(&r, "a", 1000000, &t)) {
                CHECK_EQ_INT(t.kind, FWE_TRAP_STACK_EXHAUSTED);
                CHECK_EQ_INT(t.nframes, FWE_BACKTRACE_MAX);
                for (uint32_t i = 0; i < t.nframes; i++) {
                    uint32_t f = t.frames[i].func_index;
                    CHECK(f < 2);
                    if (f < 2)
                        CHECK_EQ_INT(t.frames[i].code_offset, mmarks[f][1]);
                    if (i > 0)
                        CHECK(f != t.frames[i - 1].func_index);
                }
                if (t.nframes > 0 && t.frames[0].func_index < 2)
                    inner_seen[t.frames[0].func_index] = 1;
            }
            if (mixed) {
                CHECK(fwe_module_func_is_native(r.module, 0));
                CHECK(!fwe_module_func_is_native(r.module, 1));
            }
            stop(&r);
        }
        /* one depth ran out at a's entry, the other at b's */
        CHECK(inner_seen[0] && inner_seen[1]);
    }
    unsetenv("FWE_TIER_MAX_WORDS");
}

static char cache_dir[64];

static void remove_tree(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *de;
    while ((de = readdir(d))) {
        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
            continue;
        char path[512];
        snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
        if (unlink(path) != 0)
            remove_tree(path);
    }
    closedir(d);
    rmdir(dir);
}

int main(int argc, char **argv)
{
    (void)argc;
    snprintf(cache_dir, sizeof cache_dir, "/tmp/fwe-trap-test-XXXXXX");
    if (!mkdtemp(cache_dir)) {
        perror("mkdtemp");
        return 1;
    }
    setenv("FWE_CODE_CACHE", cache_dir, 1);
    RUN(trap_offsets_name_the_instruction_interpreted);
    RUN(trap_offsets_name_the_instruction_in_native_code);
    RUN(formatted_backtrace_names_call_and_instruction);
    RUN(trap_offsets_across_tiers);
    remove_tree(cache_dir);
    return harness_finish(argv[0]);
}
