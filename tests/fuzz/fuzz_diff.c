/* fuzz_diff.c: differential libFuzzer target: the input drives a generator of valid modules
 * (1-16 functions without parameters returning i32 or i64, built from random expression trees
 * over the integer and float instructions, locals, two mutable globals, loads and stores,
 * memory.size/grow, select, if/else, bounded loops and one call (direct, or call_indirect
 * through a table that also has null slots) to an earlier function, with a data segment and an
 * element segment), which run in
 * Fastlike's engine and in wabt's `wasm-interp --run-all-exports`. Every exported function must
 * give the same value, or trap for the same reason, in both. Float results are only observed
 * through comparisons and conversions to integers, never through their bits (NaN signs and
 * payloads may differ between correct engines), so copysign and float stores are left out. */
#include "fuzz_util.h"
#include "fwe.h"

#include <errno.h>
#include <inttypes.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/wait.h>

extern char **environ;

/* ---- byte source ---- */
typedef struct src {
    const uint8_t *p, *end;
} src;

static uint8_t rd8(src *s)
{
    return s->p < s->end ? *s->p++ : 0;
}
static uint32_t rd32(src *s)
{
    uint32_t v = 0;
    for (int i = 0; i < 4; i++)
        v |= (uint32_t)rd8(s) << (8 * i);
    return v;
}
static bool exhausted(const src *s)
{
    return s->p >= s->end;
}

/* ---- output buffer ---- */
typedef struct buf {
    uint8_t *p;
    size_t len, cap;
} buf;

static void put(buf *b, const void *d, size_t n)
{
    if (b->len + n > b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 1024;
        while (cap < b->len + n)
            cap *= 2;
        b->p = realloc(b->p, cap);
        CHECK(b->p != NULL);
        b->cap = cap;
    }
    memcpy(b->p + b->len, d, n);
    b->len += n;
}
static void byte(buf *b, uint8_t v)
{
    put(b, &v, 1);
}
static void uleb(buf *b, uint64_t v)
{
    do {
        uint8_t c = v & 0x7f;
        v >>= 7;
        byte(b, (uint8_t)(c | (v ? 0x80 : 0)));
    } while (v);
}
static void sleb(buf *b, int64_t v)
{
    for (;;) {
        uint8_t c = v & 0x7f;
        v >>= 7; /* arithmetic shift */
        bool done = (v == 0 && !(c & 0x40)) || (v == -1 && (c & 0x40));
        byte(b, (uint8_t)(c | (done ? 0 : 0x80)));
        if (done)
            break;
    }
}

/* ---- the generator ---- */
enum { T_I32, T_I64, T_F32, T_F64 };
#define MAX_FUNCS 16
#define LOOP_COUNTER 6 /* local index of the loop counter (i32) */

typedef struct gen {
    src *s;
    buf *b;
    int budget; /* nodes left in this function */
    int nfuncs; /* functions defined before the current one (callable) */
    int ntotal; /* functions in the module (the table has 2 null slots after them) */
    int ftype[MAX_FUNCS];
    bool in_loop;
    bool called; /* one call per function at most, so the work stays linear in the calls */
} gen;

/* locals: 0,1 i32; 2,3 i64; 4 f32; 5 f64; 6 the loop counter (i32) */
static const int local_of[4][2] = {{0, 1}, {2, 3}, {4, 4}, {5, 5}};

static void expr(gen *g, int t, int depth);

static void memarg(gen *g, int natural_align)
{
    uleb(g->b, (uint64_t)(rd8(g->s) % (natural_align + 1)));
    uint8_t k = rd8(g->s);
    uleb(g->b, k < 200 ? k % 40 : k < 250 ? 65536u - (k % 16) : rd32(g->s));
}

static void address(gen *g, int depth)
{
    uint8_t k = rd8(g->s);
    if (k < 160 || depth <= 0) {
        byte(g->b, 0x41);
        sleb(g->b, k < 140 ? (int32_t)(rd8(g->s) % 64) : (int32_t)(65536 - rd8(g->s) % 24));
    } else {
        expr(g, T_I32, depth - 1);
    }
}

static void constant(gen *g, int t)
{
    uint8_t k = rd8(g->s);
    static const int64_t small[] = {0,         1,    -1,     2,         7,         31,
                                    32,        63,   64,     INT32_MIN, INT32_MAX, INT64_MIN,
                                    INT64_MAX, 0xff, 0xffff, 0x80000000};
    switch (t) {
    case T_I32:
        byte(g->b, 0x41);
        sleb(g->b, k < 128 ? (int32_t)small[k % 16] : (int32_t)rd32(g->s));
        break;
    case T_I64:
        byte(g->b, 0x42);
        sleb(g->b, k < 128 ? small[k % 16]
                           : (int64_t)((uint64_t)rd32(g->s) << 32 | (uint64_t)rd32(g->s)));
        break;
    case T_F32: {
        static const float fs[] = {0.0f,  -0.0f,   1.0f, -1.5f, 2147483648.0f, 4294967296.0f,
                                   1e30f, -1e-30f, 0.5f, -0.5f, 2.5f,          3.5f};
        uint32_t bits;
        if (k < 160) {
            float f = fs[k % 12];
            memcpy(&bits, &f, 4);
        } else {
            bits = rd32(g->s);
        }
        byte(g->b, 0x43);
        put(g->b, &bits, 4);
        break;
    }
    default: {
        static const double ds[] = {
            0.0,   -0.0,    1.0, -1.5, 9223372036854775808.0, 18446744073709551616.0,
            1e300, -1e-300, 0.5, -0.5, 2147483647.5,          -2147483648.5};
        uint64_t bits;
        if (k < 160) {
            double d = ds[k % 12];
            memcpy(&bits, &d, 8);
        } else {
            bits = (uint64_t)rd32(g->s) << 32 | rd32(g->s);
        }
        byte(g->b, 0x44);
        put(g->b, &bits, 8);
        break;
    }
    }
}

/* A statement (leaves the stack as it was): a store, a local.set or a bounded loop. */
static void statement(gen *g, int depth)
{
    uint8_t k = rd8(g->s);
    if (k < 140) { /* integer store */
        static const struct {
            uint8_t op, t, align;
        } st[] = {{0x36, T_I32, 2}, {0x37, T_I64, 3}, {0x3a, T_I32, 0}, {0x3b, T_I32, 1},
                  {0x3c, T_I64, 0}, {0x3d, T_I64, 1}, {0x3e, T_I64, 2}};
        int i = k % 7;
        address(g, depth);
        expr(g, st[i].t, depth - 1);
        byte(g->b, st[i].op);
        memarg(g, st[i].align);
    } else if (k < 220 || g->in_loop) { /* local.set or global.set */
        int t = rd8(g->s) % 4;
        expr(g, t, depth - 1);
        if (t <= T_I64 && (k & 1)) {
            byte(g->b, 0x24);
            uleb(g->b, (uint64_t)t);
        } else {
            byte(g->b, 0x21);
            uleb(g->b, (uint64_t)local_of[t][rd8(g->s) & 1]);
        }
    } else { /* counter = 0; loop { stmt; counter += 1; br_if counter < N } */
        uint32_t n = 1 + rd8(g->s) % 16;
        byte(g->b, 0x41);
        sleb(g->b, 0);
        byte(g->b, 0x21);
        uleb(g->b, LOOP_COUNTER);
        byte(g->b, 0x03);
        byte(g->b, 0x40);
        g->in_loop = true;
        statement(g, depth - 1);
        g->in_loop = false;
        byte(g->b, 0x20);
        uleb(g->b, LOOP_COUNTER);
        byte(g->b, 0x41);
        sleb(g->b, 1);
        byte(g->b, 0x6a);
        byte(g->b, 0x22);
        uleb(g->b, LOOP_COUNTER);
        byte(g->b, 0x41);
        sleb(g->b, (int32_t)n);
        byte(g->b, 0x49); /* i32.lt_u */
        byte(g->b, 0x0d);
        uleb(g->b, 0);
        byte(g->b, 0x0b);
    }
}

static void unop(gen *g, int t, uint8_t op, int depth)
{
    expr(g, t, depth - 1);
    byte(g->b, op);
}
static void binop(gen *g, int t, uint8_t op, int depth)
{
    expr(g, t, depth - 1);
    expr(g, t, depth - 1);
    byte(g->b, op);
}
static void prefixed(gen *g, int from, uint32_t sub, int depth)
{
    expr(g, from, depth - 1);
    byte(g->b, 0xfc);
    uleb(g->b, sub);
}

static void expr(gen *g, int t, int depth)
{
    g->budget--;
    uint8_t k = rd8(g->s);
    if (depth <= 0 || g->budget <= 0 || exhausted(g->s) || k < 40) {
        if (k & 1) {
            byte(g->b, 0x20);
            uleb(g->b, (uint64_t)local_of[t][(k >> 1) & 1]);
        } else {
            constant(g, t);
        }
        return;
    }
    uint8_t c = rd8(g->s);
    if (k < 64) { /* shared forms: statement first, local.tee, select, if/else, global, calls */
        switch (c % 7) {
        case 0:
            statement(g, depth - 1);
            expr(g, t, depth - 1);
            return;
        case 1:
            expr(g, t, depth - 1);
            byte(g->b, 0x22);
            uleb(g->b, (uint64_t)local_of[t][c & 1]);
            return;
        case 2:
            expr(g, t, depth - 1);
            expr(g, t, depth - 1);
            expr(g, T_I32, depth - 1);
            byte(g->b, 0x1b);
            return;
        case 3:
            expr(g, T_I32, depth - 1);
            byte(g->b, 0x04);
            byte(g->b, (uint8_t)(0x7f - t));
            expr(g, t, depth - 1);
            byte(g->b, 0x05);
            expr(g, t, depth - 1);
            byte(g->b, 0x0b);
            return;
        case 4:
            if (t <= T_I64) {
                byte(g->b, 0x23); /* global.get */
                uleb(g->b, (uint64_t)t);
            } else {
                constant(g, t);
            }
            return;
        case 5: /* call_indirect: an earlier function (maybe of the other type), or a null or
                   out-of-range slot; never the function itself or a later one */
            if (t <= T_I64 && !g->in_loop && !g->called) {
                uint8_t how = rd8(g->s);
                g->called = true;
                if (how < 200 && g->nfuncs > 0) {
                    expr(g, T_I32, depth - 1);
                    byte(g->b, 0x41);
                    sleb(g->b, g->nfuncs);
                    byte(g->b, 0x70); /* i32.rem_u */
                } else {
                    byte(g->b, 0x41);
                    sleb(g->b, g->ntotal + how % 3);
                }
                byte(g->b, 0x11);
                uleb(g->b, (uint64_t)t);
                byte(g->b, 0x00);
                return;
            }
            constant(g, t);
            return;
        default:
            if (t <= T_I64 && !g->in_loop && !g->called)
                for (int j = 0; j < g->nfuncs; j++) {
                    int f = (c / 7 + j) % g->nfuncs;
                    if (g->ftype[f] == t) {
                        g->called = true;
                        byte(g->b, 0x10);
                        uleb(g->b, (uint64_t)f);
                        return;
                    }
                }
            constant(g, t);
            return;
        }
    }
    switch (t) {
    case T_I32:
        switch (c % 14) {
        case 0:
            binop(g, T_I32, (uint8_t)(0x6a + rd8(g->s) % 15), depth);
            return;
        case 1:
            unop(g, T_I32, (uint8_t)(0x67 + rd8(g->s) % 3), depth);
            return;
        case 2:
            unop(g, T_I32, 0x45, depth);
            return;
        case 3:
            binop(g, T_I32, (uint8_t)(0x46 + rd8(g->s) % 10), depth);
            return;
        case 4:
            binop(g, T_I64, (uint8_t)(0x51 + rd8(g->s) % 10), depth);
            return;
        case 5:
            binop(g, T_F32, (uint8_t)(0x5b + rd8(g->s) % 6), depth);
            return;
        case 6:
            binop(g, T_F64, (uint8_t)(0x61 + rd8(g->s) % 6), depth);
            return;
        case 7:
            unop(g, T_I64, rd8(g->s) & 1 ? 0xa7 : 0x50, depth);
            return;
        case 8: { /* i32.trunc_f32_s/u, trunc_f64_s/u */
            uint8_t o = rd8(g->s) % 4;
            unop(g, o < 2 ? T_F32 : T_F64, (uint8_t)(0xa8 + o), depth);
            return;
        }
        case 9:
            unop(g, T_I32, (uint8_t)(0xc0 + rd8(g->s) % 2), depth);
            return;
        case 10: {
            uint8_t o = rd8(g->s) % 4;
            prefixed(g, o < 2 ? T_F32 : T_F64, o, depth);
            return;
        }
        case 11: { /* loads */
            static const uint8_t ops[] = {0x28, 0x2c, 0x2d, 0x2e, 0x2f};
            static const uint8_t al[] = {2, 0, 0, 1, 1};
            int i = rd8(g->s) % 5;
            address(g, depth - 1);
            byte(g->b, ops[i]);
            memarg(g, al[i]);
            return;
        }
        case 12:
            byte(g->b, 0x3f);
            byte(g->b, 0x00);
            return;
        default:
            expr(g, T_I32, depth - 1);
            byte(g->b, 0x40);
            byte(g->b, 0x00);
            return;
        }
    case T_I64:
        switch (c % 8) {
        case 0:
            binop(g, T_I64, (uint8_t)(0x7c + rd8(g->s) % 15), depth);
            return;
        case 1:
            unop(g, T_I64, (uint8_t)(0x79 + rd8(g->s) % 3), depth);
            return;
        case 2:
            unop(g, T_I32, (uint8_t)(0xac + rd8(g->s) % 2), depth);
            return;
        case 3: {
            uint8_t o = rd8(g->s) % 4;
            unop(g, o < 2 ? T_F32 : T_F64, (uint8_t)(0xae + o), depth);
            return;
        }
        case 4:
            unop(g, T_I64, (uint8_t)(0xc2 + rd8(g->s) % 3), depth);
            return;
        case 5: {
            uint8_t o = rd8(g->s) % 4;
            prefixed(g, o < 2 ? T_F32 : T_F64, 4u + o, depth);
            return;
        }
        default: {
            static const uint8_t ops[] = {0x29, 0x30, 0x31, 0x32, 0x33, 0x34, 0x35};
            static const uint8_t al[] = {3, 0, 0, 1, 1, 2, 2};
            int i = rd8(g->s) % 7;
            address(g, depth - 1);
            byte(g->b, ops[i]);
            memarg(g, al[i]);
            return;
        }
        }
    case T_F32:
        switch (c % 5) {
        case 0: { /* add sub mul div min max (no copysign) */
            binop(g, T_F32, (uint8_t)(0x92 + rd8(g->s) % 6), depth);
            return;
        }
        case 1:
            unop(g, T_F32, (uint8_t)(0x8b + rd8(g->s) % 7), depth);
            return;
        case 2: {
            uint8_t o = rd8(g->s) % 4;
            unop(g, o < 2 ? T_I32 : T_I64, (uint8_t)(0xb2 + o), depth);
            return;
        }
        case 3:
            unop(g, T_F64, 0xb6, depth);
            return;
        default:
            address(g, depth - 1);
            byte(g->b, 0x2a);
            memarg(g, 2);
            return;
        }
    default:
        switch (c % 5) {
        case 0:
            binop(g, T_F64, (uint8_t)(0xa0 + rd8(g->s) % 6), depth);
            return;
        case 1:
            unop(g, T_F64, (uint8_t)(0x99 + rd8(g->s) % 7), depth);
            return;
        case 2: {
            uint8_t o = rd8(g->s) % 4;
            unop(g, o < 2 ? T_I32 : T_I64, (uint8_t)(0xb7 + o), depth);
            return;
        }
        case 3:
            unop(g, T_F32, 0xbb, depth);
            return;
        default:
            address(g, depth - 1);
            byte(g->b, 0x2b);
            memarg(g, 3);
            return;
        }
    }
}

static void section(buf *m, uint8_t id, buf *body)
{
    byte(m, id);
    uleb(m, body->len);
    put(m, body->p, body->len);
    body->len = 0;
}

/* Builds a module from the input; returns its bytes (malloc'd). */
static uint8_t *generate(const uint8_t *data, size_t size, size_t *len, int *nfuncs)
{
    src s = {data, data + size};
    buf m = {0}, sec = {0}, body = {0}, code = {0};
    int n = 1 + rd8(&s) % MAX_FUNCS, ftype[MAX_FUNCS];
    for (int i = 0; i < n; i++)
        ftype[i] = rd8(&s) & 1;
    /* the bodies first (they read most of the input), the sections in their order after */
    uleb(&code, (uint64_t)n);
    gen g = {.s = &s, .b = &body, .ntotal = n};
    for (int i = 0; i < n; i++) {
        g.nfuncs = i;
        g.ftype[i] = ftype[i];
        g.budget = 120;
        g.in_loop = false;
        g.called = false;
        /* locals: 2 i32, 2 i64, 1 f32, 1 f64, 1 i32 (loop counter) */
        put(&body, "\x05\x02\x7f\x02\x7e\x01\x7d\x01\x7c\x01\x7f", 11);
        expr(&g, ftype[i], 6);
        byte(&body, 0x0b);
        uleb(&code, body.len);
        put(&code, body.p, body.len);
        body.len = 0;
    }
    put(&m, "\0asm\1\0\0\0", 8);
    put(&sec, "\x02\x60\x00\x01\x7f\x60\x00\x01\x7e", 9); /* () -> i32, () -> i64 */
    section(&m, 1, &sec);
    uleb(&sec, (uint64_t)n);
    for (int i = 0; i < n; i++)
        uleb(&sec, (uint64_t)ftype[i]);
    section(&m, 3, &sec);
    put(&sec, "\x01\x70\x00", 3); /* a funcref table: every function, then 2 null slots */
    uleb(&sec, (uint64_t)n + 2);
    section(&m, 4, &sec);
    put(&sec, "\x01\x01\x01\x02", 4); /* memory: min 1, max 2 pages */
    section(&m, 5, &sec);
    put(&sec, "\x02\x7f\x01\x41", 4); /* globals: mutable i32 and i64 */
    sleb(&sec, (int32_t)rd32(&s));
    put(&sec, "\x0b\x7e\x01\x42", 4);
    uint64_t hi = rd32(&s);
    sleb(&sec, (int64_t)(hi << 32 | rd32(&s)));
    byte(&sec, 0x0b);
    section(&m, 6, &sec);
    uleb(&sec, (uint64_t)n);
    for (int i = 0; i < n; i++) {
        char name[8];
        snprintf(name, sizeof name, "f%d", i);
        uleb(&sec, strlen(name));
        put(&sec, name, strlen(name));
        byte(&sec, 0x00);
        uleb(&sec, (uint64_t)i);
    }
    section(&m, 7, &sec);
    put(&sec, "\x01\x00\x41\x00\x0b", 5); /* elements: table[0..n) = functions 0..n-1 */
    uleb(&sec, (uint64_t)n);
    for (int i = 0; i < n; i++)
        uleb(&sec, (uint64_t)i);
    section(&m, 9, &sec);
    section(&m, 10, &code);
    /* one data segment at 0 with 16 input bytes */
    uint8_t init[16];
    for (int i = 0; i < 16; i++)
        init[i] = rd8(&s);
    put(&sec, "\x01\x00\x41\x00\x0b\x10", 6);
    put(&sec, init, 16);
    section(&m, 11, &sec);
    free(sec.p);
    free(body.p);
    free(code.p);
    *len = m.len;
    *nfuncs = n;
    return m.p;
}

/* ---- running ---- */
/* wabt's words for each trap, as --run-all-exports prints them after "error: " */
static const char *trap_words(fwe_trap_kind k)
{
    switch (k) {
    case FWE_TRAP_UNREACHABLE:
        return "unreachable executed";
    case FWE_TRAP_INT_DIV_ZERO:
        return "integer divide by zero";
    case FWE_TRAP_INT_OVERFLOW:
        return "integer overflow";
    case FWE_TRAP_INVALID_CONVERSION:
        return "invalid conversion to integer";
    case FWE_TRAP_MEMORY_OOB:
        return "out of bounds memory access";
    case FWE_TRAP_STACK_EXHAUSTED:
        return "call stack exhausted";
    case FWE_TRAP_TABLE_OOB:
        return "undefined table index";
    case FWE_TRAP_UNINITIALIZED_ELEMENT:
        return "uninitialized table element";
    case FWE_TRAP_INDIRECT_TYPE_MISMATCH:
        return "indirect call signature mismatch";
    default:
        return "other trap";
    }
}

/* Our engine's results in wasm-interp's format: "fN() => i32:V" or "fN() => error: WORDS". */
static bool run_ours(const uint8_t *wasm, size_t len, int n, char *out, size_t cap)
{
    static fwe_engine *engine;
    if (!engine)
        engine = fwe_engine_new();
    CHECK(engine != NULL);
    char err[256];
    fwe_module *mod = NULL;
    if (fwe_module_load(engine, wasm, len, &mod, err, sizeof err) != FWE_OK) {
        snprintf(out, cap, "load error: %s\n", err);
        return false;
    }
    fwe_linker *linker = fwe_linker_new(engine);
    fwe_instance *inst = NULL;
    fwe_trap trap;
    fwe_instance_config cfg = {.max_call_depth = 1000};
    size_t used = 0;
    out[0] = '\0';
    if (fwe_instantiate(linker, mod, &cfg, &inst, &trap) != FWE_OK) {
        snprintf(out, cap, "instantiate error: %s\n", trap.message);
    } else {
        for (int i = 0; i < n && used < cap; i++) {
            char name[8];
            snprintf(name, sizeof name, "f%d", i);
            fwe_extern ext;
            CHECK(fwe_instance_export(inst, name, strlen(name), &ext));
            fwe_functype_info ft;
            fwe_func_type(ext.of.func, &ft);
            fwe_val res;
            memset(&res, 0, sizeof res);
            memset(&trap, 0, sizeof trap);
            fwe_status st = fwe_call(ext.of.func, NULL, 0, &res, 1, &trap);
            int w;
            if (st == FWE_ERR_TRAP)
                w = snprintf(out + used, cap - used, "%s() => error: %s\n", name,
                             trap_words(trap.kind));
            else if (st != FWE_OK)
                w = snprintf(out + used, cap - used, "%s() => status %d\n", name, (int)st);
            else if (ft.results[0] == FWE_I32)
                w = snprintf(out + used, cap - used, "%s() => i32:%" PRIu32 "\n", name, res.of.i32);
            else
                w = snprintf(out + used, cap - used, "%s() => i64:%" PRIu64 "\n", name, res.of.i64);
            if (w > 0)
                used += (size_t)w;
        }
        fwe_instance_free(inst);
    }
    fwe_linker_free(linker);
    fwe_module_free(mod);
    return true;
}

/* wasm-interp's output, each error shortened to its first words (the part before ": "). Returns
 * its exit status, or -1 when it could not run. */
static int run_wabt(const char *path, char *out, size_t cap)
{
    int fds[2];
    if (pipe(fds) != 0)
        return -1;
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, fds[1], 1);
    posix_spawn_file_actions_adddup2(&fa, fds[1], 2);
    posix_spawn_file_actions_addclose(&fa, fds[0]);
    char *argv[] = {"wasm-interp", "--run-all-exports", (char *)path, NULL};
    pid_t pid;
    int rc = posix_spawnp(&pid, "wasm-interp", &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    close(fds[1]);
    if (rc != 0) {
        close(fds[0]);
        return -1;
    }
    size_t used = 0;
    ssize_t r;
    char tmp[4096];
    while ((r = read(fds[0], tmp, sizeof tmp)) != 0) {
        if (r < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        size_t n = (size_t)r;
        if (n > cap - 1 - used)
            n = cap - 1 - used;
        memcpy(out + used, tmp, n);
        used += n;
    }
    out[used] = '\0';
    close(fds[0]);
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    /* "error: out of bounds memory access: access at ..." -> "error: out of bounds memory access"
     */
    char *line = out;
    while ((line = strstr(line, "error: ")) != NULL) {
        line += 7;
        char *eol = strchr(line, '\n');
        char *detail = strstr(line, ": ");
        if (detail && (!eol || detail < eol)) {
            size_t rest = strlen(eol ? eol : detail + strlen(detail));
            memmove(detail, eol ? eol : detail + strlen(detail), rest + 1);
        }
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static char ours[16384], theirs[16384];
    size_t len;
    int n;
    uint8_t *wasm = generate(data, size, &len, &n);
    const char *path = fuzz_write("diff.wasm", wasm, len);
    CHECK(path != NULL);
    int rc = run_wabt(path, theirs, sizeof theirs);
    if (rc < 0) {
        static bool warned;
        if (!warned)
            fprintf(stderr, "fuzz_diff: cannot run wasm-interp (Debian package wabt): nothing "
                            "to compare with\n");
        warned = true;
        free(wasm);
        return 0;
    }
    bool loaded = run_ours(wasm, len, n, ours, sizeof ours);
    if (rc != 0 && !loaded) { /* both refuse: a generator bug, not an engine one */
        fprintf(stderr, "fuzz_diff: the generator made an invalid module: %s", ours);
        abort();
    }
    if (getenv("FUZZ_DIFF_SHOW")) /* FUZZ_DIFF_SHOW=1: print both results of every input */
        fprintf(stderr, "--- fastlike\n%s--- wasm-interp\n%s", ours, theirs);
    if (strcmp(ours, theirs) != 0) {
        fprintf(stderr,
                "fuzz_diff: results differ (module kept as %s)\n--- fastlike\n%s--- "
                "wasm-interp\n%s",
                path, ours, theirs);
        abort();
    }
    free(wasm);
    return 0;
}
