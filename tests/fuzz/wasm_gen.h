/* wasm_gen.h: the generator of valid modules the differential targets share (fuzz_diff.c against
 * wabt, fuzz_tier.c interpreter against native code): the fuzz input drives random expression
 * trees over the numeric instructions, locals, globals, memory and one call per function. The
 * `rich` variant (fuzz_tier) adds parameters, float globals, blocks with br_if/br_table, return,
 * unreachable, float stores and reinterpretations, bulk memory, table and SIMD instructions,
 * multi-value functions (i32, i64, f64) and blocks with parameters (block, if, loop), passive data
 * and element segments (memory.init, data.drop, table.init, elem.drop), and recursion: calls to
 * the function itself or a later one, bounded by a depth global, or rarely unbounded (they end
 * at the call stack limit); it exports the memory and globals. Header-only. */
#ifndef WASM_GEN_H
#define WASM_GEN_H

#include "fuzz_util.h"
#include "wasm_buf.h"

#include <stdbool.h>
#include <stdint.h>

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

/* ---- the generator ---- */
enum { T_I32, T_I64, T_F32, T_F64, T_V128 };
#define MAX_FUNCS 16
#define RICH_MAX_FUNCS 32
#define NPARAMS 3 /* rich: every function takes (i32, i64, f64) */
#define RICH_HEADER 128
#define RICH_CHUNK 256
/* rich: type indexes beyond 0 (-> i32) and 1 (-> i64), and the recursion depth global */
#define TY_BLOCK_I32_PAIR 2 /* block [i32] -> [i32 i64] */
#define FT_MULTI 3          /* function (i32, i64, f64) -> (i32, i64, f64) */
#define TY_PAIR 4           /* block [i32 i64] -> [i32 i64] */
#define TY_LOOP_I32 5       /* loop [i32] -> [i32] */
#define G_DEPTH 5           /* mutable i32, exported as "depth": recursive calls on the stack */
#define PASSIVE_DATA_LEN 24 /* data segment 1 (passive; segment 2 has 4 bytes) */
#define PASSIVE_EXPRS 4     /* element segment 2 (passive, expressions) */

typedef struct gen {
    src *s;
    wbuf *b;
    bool rich;
    int budget; /* nodes left in this function */
    int nfuncs; /* functions defined before the current one (callable) */
    int ntotal; /* functions in the module (the table has 2 null slots after them) */
    int ftype[RICH_MAX_FUNCS];
    int counter; /* local index of the loop counter (i32) */
    bool in_loop;
    bool long_loop; /* in a loop of thousands of turns: no bulk memory statements */
    bool called;    /* one call per function at most, so the work stays linear in the calls */
    bool plain;     /* rich: no SIMD or table instructions here (what the native tier compiles) */
} gen;

/* locals of each type (two choices each).
 * base: 0,1 i32; 2,3 i64; 4 f32; 5 f64; 6 the loop counter (i32)
 * rich: params 0 i32, 1 i64, 2 f64; locals 3 i32, 4 i64, 5 f32, 6 f64, 7 the counter, 8 v128 */
static const int base_local_of[4][2] = {{0, 1}, {2, 3}, {4, 4}, {5, 5}};
static const int rich_local_of[5][2] = {{0, 3}, {1, 4}, {5, 5}, {2, 6}, {8, 8}};

static int local_of(const gen *g, int t, int which)
{
    return g->rich ? rich_local_of[t][which & 1] : base_local_of[t][which & 1];
}

static void op_local(gen *g, uint8_t op, int local)
{
    wb_byte(g->b, op);
    wb_uleb(g->b, (uint64_t)local);
}
static void i32_const(gen *g, int32_t v)
{
    wb_byte(g->b, 0x41);
    wb_sleb(g->b, v);
}
static void prefixed_op(gen *g, uint32_t sub)
{
    wb_byte(g->b, 0xfc);
    wb_uleb(g->b, sub);
}

/* The end of a counted loop's turn: counter += 1; counter < n (the condition on the stack). */
static void count_turn(gen *g, uint32_t n)
{
    op_local(g, 0x20, g->counter);
    i32_const(g, 1);
    wb_byte(g->b, 0x6a);
    op_local(g, 0x22, g->counter);
    i32_const(g, (int32_t)n);
    wb_byte(g->b, 0x49); /* i32.lt_u */
}

/* With (i32, i64) on the stack, keeps the value of type t (i32 or i64); the i64 goes to a local. */
static void keep_of_pair(gen *g, int t)
{
    op_local(g, 0x21, local_of(g, T_I64, 1));
    if (t == T_I64) {
        wb_byte(g->b, 0x1a); /* drop the i32 */
        op_local(g, 0x20, local_of(g, T_I64, 1));
    }
}

/* After a call of a function of type ft in a place of type t (i32 or i64): a multi-value
 * callee's f64 goes to a local, then the pair keeps t. */
static void call_result(gen *g, int ft, int t)
{
    if (ft != FT_MULTI)
        return;
    op_local(g, 0x21, local_of(g, T_F64, 1));
    keep_of_pair(g, t);
}

/* The block type of a result of type t (0x7f i32 ... 0x7b v128). */
static uint8_t blocktype(int t)
{
    return (uint8_t)(0x7f - t);
}

static void expr(gen *g, int t, int depth);

static void simd_op(gen *g, uint32_t op)
{
    wb_byte(g->b, 0xfd);
    wb_uleb(g->b, op);
}

static void memarg(gen *g, int natural_align)
{
    wb_uleb(g->b, (uint64_t)(rd8(g->s) % (natural_align + 1)));
    uint8_t k = rd8(g->s);
    wb_uleb(g->b, k < 200 ? k % 40 : k < 250 ? 65536u - (k % 16) : rd32(g->s));
}

static void address(gen *g, int depth)
{
    uint8_t k = rd8(g->s);
    if (k < 160 || depth <= 0) {
        wb_byte(g->b, 0x41);
        wb_sleb(g->b, k < 140 ? (int32_t)(rd8(g->s) % 64) : (int32_t)(65536 - rd8(g->s) % 24));
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
        wb_byte(g->b, 0x41);
        wb_sleb(g->b, k < 128 ? (int32_t)small[k % 16] : (int32_t)rd32(g->s));
        break;
    case T_I64:
        wb_byte(g->b, 0x42);
        wb_sleb(g->b, k < 128 ? small[k % 16]
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
        wb_byte(g->b, 0x43);
        wb_put(g->b, &bits, 4);
        break;
    }
    case T_F64: {
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
        wb_byte(g->b, 0x44);
        wb_put(g->b, &bits, 8);
        break;
    }
    default: { /* v128.const: 16 input bytes, or a splatted small pattern */
        uint8_t lanes[16];
        for (int i = 0; i < 16; i++)
            lanes[i] = k < 100 ? (uint8_t)(k * 37 + i * (k & 7)) : rd8(g->s);
        simd_op(g, 0x0c);
        wb_put(g->b, lanes, 16);
        break;
    }
    }
}

/* The arguments of a call in the rich variant: (i32, i64, f64). */
static void call_args(gen *g, int depth)
{
    if (!g->rich)
        return;
    expr(g, T_I32, depth - 1);
    expr(g, T_I64, depth - 1);
    expr(g, T_F64, depth - 1);
}

/* depth global += 1 (op i32.add) or -= 1 (i32.sub). */
static void depth_step(gen *g, uint8_t op)
{
    wb_byte(g->b, 0x23);
    wb_uleb(g->b, G_DEPTH);
    i32_const(g, 1);
    wb_byte(g->b, op);
    wb_byte(g->b, 0x24);
    wb_uleb(g->b, G_DEPTH);
}

/* A call that may recurse (rich): of the function itself or a later one, of type t or
 * multi-value, guarded by the depth global, if (depth < L) { depth += 1; call; depth -= 1 } else
 * { v }, the call direct or through the table (whose slot may have changed since). The functions
 * make one call each (the chain of calls is as long as the recursion), and the depth global
 * bounds the recursive calls on the stack, so the chain stays short. One in 6 is unguarded and
 * calls the function itself: once it is reached, only the call stack limit ends the recursion
 * ("call stack exhausted", the same in every tier). False when no function fits. */
static bool recursive_call(gen *g, int t, int depth)
{
    uint8_t k = rd8(g->s), how = rd8(g->s);
    int self = g->nfuncs, later = g->ntotal - g->nfuncs, f = -1;
    for (int j = 0; j < later && f < 0; j++) {
        int cand = self + (k + j) % later;
        if (g->ftype[cand] == t || g->ftype[cand] == FT_MULTI)
            f = cand;
    }
    if (f < 0)
        return false;
    g->called = true;
    if (how < 40 && (g->ftype[self] == t || g->ftype[self] == FT_MULTI)) {
        call_args(g, depth);
        wb_byte(g->b, 0x10);
        wb_uleb(g->b, (uint64_t)self);
        call_result(g, g->ftype[self], t);
        return true;
    }
    wb_byte(g->b, 0x23);
    wb_uleb(g->b, G_DEPTH);
    i32_const(g, 1 + how % 6);
    wb_byte(g->b, 0x49); /* i32.lt_u */
    wb_byte(g->b, 0x04);
    wb_byte(g->b, blocktype(t));
    depth_step(g, 0x6a);
    call_args(g, depth);
    if (how & 0x80) {
        i32_const(g, f);
        wb_byte(g->b, 0x11);
        wb_uleb(g->b, (uint64_t)g->ftype[f]);
        wb_byte(g->b, 0x00);
    } else {
        wb_byte(g->b, 0x10);
        wb_uleb(g->b, (uint64_t)f);
    }
    call_result(g, g->ftype[f], t);
    depth_step(g, 0x6b);
    wb_byte(g->b, 0x05);
    expr(g, t, depth - 1);
    wb_byte(g->b, 0x0b);
    return true;
}

/* A reference for the table: ref.null func or ref.func of some function. */
static void table_ref(gen *g)
{
    uint8_t k = rd8(g->s);
    if (k < 80) {
        wb_byte(g->b, 0xd0);
        wb_byte(g->b, 0x70);
    } else {
        wb_byte(g->b, 0xd2);
        wb_uleb(g->b, (uint64_t)(k % g->ntotal));
    }
}

/* A table index: mostly inside the table, sometimes just past it or far away. */
static void table_index(gen *g, int depth)
{
    uint8_t k = rd8(g->s);
    if (k < 200 || depth <= 0) {
        wb_byte(g->b, 0x41);
        wb_sleb(g->b, k % (g->ntotal + 6));
    } else {
        expr(g, T_I32, depth - 1);
    }
}

/* A small length for bulk operations: 0..63, or near a page, or an expression. */
static void bulk_len(gen *g, int depth)
{
    uint8_t k = rd8(g->s);
    if (k < 200 || depth <= 0) {
        wb_byte(g->b, 0x41);
        wb_sleb(g->b, k < 180 ? k % 64 : 65536 - k % 32);
    } else {
        expr(g, T_I32, depth - 1);
    }
}

static void statement(gen *g, int depth);

/* The values the current function returns: one of its result type, or (i32, i64, f64). */
static void fn_results(gen *g, int depth)
{
    int ft = g->ftype[g->nfuncs];
    if (ft != FT_MULTI) {
        expr(g, ft, depth);
        return;
    }
    expr(g, T_I32, depth);
    expr(g, T_I64, depth);
    expr(g, T_F64, depth);
}

/* An offset or a length into a passive segment: mostly 0..max-1, sometimes an expression. */
static void seg_operand(gen *g, int max, int depth)
{
    uint8_t k = rd8(g->s);
    if (k < 230 || depth <= 0)
        i32_const(g, k % max);
    else
        expr(g, T_I32, depth - 1);
}

/* Rich statements: float and v128 stores, bulk memory, table writes, an early return, passive
 * segments. */
static void rich_statement(gen *g, int depth)
{
    uint8_t k = rd8(g->s);
    int form = k % 12;
    if (g->plain && (form == 1 || form == 4 || form == 5 || form == 7))
        form = form & 1 ? 3 : 0;
    if (g->plain && form >= 10) /* table.init, elem.drop: memory.init, data.drop instead */
        form -= 2;
    switch (form) {
    case 0: /* f32.store / f64.store (float bits become observable in memory) */
        address(g, depth);
        if (k & 8) {
            expr(g, T_F32, depth - 1);
            wb_byte(g->b, 0x38);
            memarg(g, 2);
        } else {
            expr(g, T_F64, depth - 1);
            wb_byte(g->b, 0x39);
            memarg(g, 3);
        }
        return;
    case 1: /* v128.store */
        address(g, depth);
        expr(g, T_V128, depth - 1);
        simd_op(g, 0x0b);
        memarg(g, 4);
        return;
    case 2: /* memory.fill dst val len */
        address(g, depth);
        expr(g, T_I32, depth - 1);
        bulk_len(g, depth);
        wb_byte(g->b, 0xfc);
        wb_uleb(g->b, 11);
        wb_byte(g->b, 0x00);
        return;
    case 3: /* memory.copy dst src len */
        address(g, depth);
        address(g, depth);
        bulk_len(g, depth);
        wb_byte(g->b, 0xfc);
        wb_uleb(g->b, 10);
        wb_byte(g->b, 0x00);
        wb_byte(g->b, 0x00);
        return;
    case 4: /* table.set */
        table_index(g, depth);
        table_ref(g);
        wb_byte(g->b, 0x26);
        wb_byte(g->b, 0x00);
        return;
    case 5: /* table.fill idx ref len */
        table_index(g, depth);
        table_ref(g);
        wb_byte(g->b, 0x41);
        wb_sleb(g->b, rd8(g->s) % 5);
        wb_byte(g->b, 0xfc);
        wb_uleb(g->b, 17);
        wb_byte(g->b, 0x00);
        return;
    case 6: /* if (cond) { value of the function's type; return } */
        if (!g->in_loop) {
            expr(g, T_I32, depth - 1);
            wb_byte(g->b, 0x04);
            wb_byte(g->b, 0x40);
            fn_results(g, depth - 1);
            wb_byte(g->b, 0x0f);
            wb_byte(g->b, 0x0b);
            return;
        }
        statement(g, depth - 1);
        return;
    case 7: /* local.set of a v128 */
        expr(g, T_V128, depth - 1);
        wb_byte(g->b, 0x21);
        wb_uleb(g->b, (uint64_t)local_of(g, T_V128, 0));
        return;
    case 8: /* memory.init seg dst src len (segment 0 is active: dropped once instantiated) */
        address(g, depth);
        seg_operand(g, PASSIVE_DATA_LEN + 4, depth);
        seg_operand(g, PASSIVE_DATA_LEN + 4, depth);
        prefixed_op(g, 8);
        wb_uleb(g->b, (uint64_t)(k >> 4) % 3);
        wb_byte(g->b, 0x00);
        return;
    case 9: /* data.drop */
        prefixed_op(g, 9);
        wb_uleb(g->b, (uint64_t)(k >> 4) % 3);
        return;
    case 10: /* table.init seg table dst src len */
        table_index(g, depth);
        seg_operand(g, g->ntotal + 2, depth);
        seg_operand(g, 6, depth);
        prefixed_op(g, 12);
        wb_uleb(g->b, (uint64_t)(k >> 4) % 3);
        wb_byte(g->b, 0x00);
        return;
    default: /* elem.drop */
        prefixed_op(g, 13);
        wb_uleb(g->b, (uint64_t)(k >> 4) % 3);
        return;
    }
}

/* A statement (leaves the stack as it was): a store, a local.set or a bounded loop. */
static void statement(gen *g, int depth)
{
    uint8_t k = rd8(g->s);
    if (g->rich && k >= 200 && k < 220 && !g->long_loop) {
        rich_statement(g, depth);
    } else if (k < 140) { /* integer store */
        static const struct {
            uint8_t op, t, align;
        } st[] = {{0x36, T_I32, 2}, {0x37, T_I64, 3}, {0x3a, T_I32, 0}, {0x3b, T_I32, 1},
                  {0x3c, T_I64, 0}, {0x3d, T_I64, 1}, {0x3e, T_I64, 2}};
        int i = k % 7;
        address(g, depth);
        expr(g, st[i].t, depth - 1);
        wb_byte(g->b, st[i].op);
        memarg(g, st[i].align);
    } else if (k < 220 || g->in_loop) { /* local.set or global.set */
        int t = rd8(g->s) % 4;
        expr(g, t, depth - 1);
        if ((t <= T_I64 || g->rich) && (k & 1)) {
            wb_byte(g->b, 0x24);
            wb_uleb(g->b, (uint64_t)t);
        } else {
            wb_byte(g->b, 0x21);
            wb_uleb(g->b, (uint64_t)local_of(g, t, rd8(g->s)));
        }
    } else { /* counter = 0; loop { stmt; counter += 1; br_if counter < N } */
        uint8_t nb = rd8(g->s);
        uint32_t n = 1 + nb % 16;
        if (g->rich && nb >= 240) /* long enough for on-stack replacement (every 256 turns) */
            n = nb < 250 || g->called ? 200u + (nb - 240u) * 10u : 4096u * (nb - 249u);
        /* a function with a loop of thousands of turns makes no call: such a function ends a
         * chain of calls, so it runs once per chain, however deep recursion makes the chain */
        if (n > 1000)
            g->called = true;
        /* rich, odd k: block { loop { ...; br_table [1] 0 (counter < N) } } */
        bool table = g->rich && (k & 1);
        wb_byte(g->b, 0x41);
        wb_sleb(g->b, 0);
        wb_byte(g->b, 0x21);
        wb_uleb(g->b, (uint64_t)g->counter);
        if (table) {
            wb_byte(g->b, 0x02);
            wb_byte(g->b, 0x40);
        }
        wb_byte(g->b, 0x03);
        wb_byte(g->b, 0x40);
        g->in_loop = true;
        g->long_loop = n > 1000;
        statement(g, depth - 1);
        g->in_loop = false;
        g->long_loop = false;
        count_turn(g, n);
        if (table) {
            wb_byte(g->b, 0x0e); /* br_table [1] 0: 0 leaves, anything else loops */
            wb_uleb(g->b, 1);
            wb_uleb(g->b, 1);
            wb_uleb(g->b, 0);
            wb_byte(g->b, 0x0b);
        } else {
            wb_byte(g->b, 0x0d);
            wb_uleb(g->b, 0);
        }
        wb_byte(g->b, 0x0b);
    }
}

static void unop(gen *g, int t, uint8_t op, int depth)
{
    expr(g, t, depth - 1);
    wb_byte(g->b, op);
}
static void binop(gen *g, int t, uint8_t op, int depth)
{
    expr(g, t, depth - 1);
    expr(g, t, depth - 1);
    wb_byte(g->b, op);
}
static void prefixed(gen *g, int from, uint32_t sub, int depth)
{
    expr(g, from, depth - 1);
    wb_byte(g->b, 0xfc);
    wb_uleb(g->b, sub);
}

/* Changes a value of type t so that the paths through a block differ in the result. */
static void mark_path(gen *g, int t)
{
    switch (t) {
    case T_I32:
        wb_byte(g->b, 0x41);
        wb_sleb(g->b, 0x55);
        wb_byte(g->b, 0x73);
        return;
    case T_I64:
        wb_byte(g->b, 0x42);
        wb_sleb(g->b, 0x55);
        wb_byte(g->b, 0x85);
        return;
    case T_F32:
        wb_byte(g->b, 0x8c);
        return;
    case T_F64:
        wb_byte(g->b, 0x9a);
        return;
    default:
        simd_op(g, 0x4d); /* v128.not */
        return;
    }
}

/* Rich forms valid for every type: blocks left by br_table or br_if, a rare unreachable; for i32
 * and i64 also blocks, ifs and loops with parameters. */
static bool rich_shared(gen *g, int t, uint8_t c, int depth)
{
    switch (c % 6) {
    case 0: { /* block { block { v; sel; br_table ... } mark } */
        uint8_t n = rd8(g->s) % 5;
        wb_byte(g->b, 0x02);
        wb_byte(g->b, blocktype(t));
        wb_byte(g->b, 0x02);
        wb_byte(g->b, blocktype(t));
        expr(g, t, depth - 1);
        expr(g, T_I32, depth - 1);
        wb_byte(g->b, 0x0e);
        wb_uleb(g->b, n);
        uint8_t bits = rd8(g->s);
        for (int i = 0; i <= n; i++) /* n labels and the default */
            wb_uleb(g->b, (uint64_t)((bits >> i) & 1));
        wb_byte(g->b, 0x0b);
        mark_path(g, t);
        wb_byte(g->b, 0x0b);
        return true;
    }
    case 1: /* block { v; cond; br_if 0; mark } */
        wb_byte(g->b, 0x02);
        wb_byte(g->b, blocktype(t));
        expr(g, t, depth - 1);
        expr(g, T_I32, depth - 1);
        wb_byte(g->b, 0x0d);
        wb_uleb(g->b, 0);
        mark_path(g, t);
        wb_byte(g->b, 0x0b);
        return true;
    case 2: /* a multi-value block: i32; block [i32] -> [i32 i64] { i64; cond; br_if 0; mark }
               then keep the i32 or the i64 (the other goes to a local, or is dropped) */
        if (t > T_I64)
            return false;
        expr(g, T_I32, depth - 1);
        wb_byte(g->b, 0x02);
        wb_sleb(g->b, TY_BLOCK_I32_PAIR);
        expr(g, T_I64, depth - 1);
        expr(g, T_I32, depth - 1);
        wb_byte(g->b, 0x0d);
        wb_uleb(g->b, 0);
        mark_path(g, T_I64);
        wb_byte(g->b, 0x0b);
        keep_of_pair(g, t);
        return true;
    case 4: { /* two block parameters: i32; i64; block [i32 i64] -> [i32 i64] { cond; br_if 0;
                 change both } or the same as an if with an else that changes the i64 only */
        if (t > T_I64)
            return false;
        bool as_if = rd8(g->s) & 1;
        expr(g, T_I32, depth - 1);
        expr(g, T_I64, depth - 1);
        if (as_if)
            expr(g, T_I32, depth - 1);
        wb_byte(g->b, as_if ? 0x04 : 0x02);
        wb_sleb(g->b, TY_PAIR);
        if (!as_if) {
            expr(g, T_I32, depth - 1);
            wb_byte(g->b, 0x0d); /* br_if 0 with both values */
            wb_uleb(g->b, 0);
        }
        mark_path(g, T_I64);
        op_local(g, 0x21, local_of(g, T_I64, 1));
        mark_path(g, T_I32);
        op_local(g, 0x20, local_of(g, T_I64, 1));
        if (as_if) {
            wb_byte(g->b, 0x05);
            mark_path(g, T_I64);
        }
        wb_byte(g->b, 0x0b);
        keep_of_pair(g, t);
        return true;
    }
    case 5: { /* a loop with a parameter: acc; counter = 0; loop [i32] -> [i32] { acc op v;
                 counter += 1; br_if 0 (counter < N) } (the branch carries the new acc) */
        if (t > T_I64 || g->in_loop)
            return false;
        static const uint8_t ops[] = {0x6a, 0x73, 0x6c, 0x77}; /* add xor mul rotl */
        uint8_t k = rd8(g->s);
        uint32_t n = 1 + k % 16;
        expr(g, T_I32, depth - 1);
        i32_const(g, 0);
        op_local(g, 0x21, g->counter);
        wb_byte(g->b, 0x03);
        wb_sleb(g->b, TY_LOOP_I32);
        g->in_loop = true;
        expr(g, T_I32, depth - 1);
        g->in_loop = false;
        wb_byte(g->b, ops[(k >> 4) % 4]);
        count_turn(g, n);
        wb_byte(g->b, 0x0d);
        wb_uleb(g->b, 0);
        wb_byte(g->b, 0x0b);
        if (t == T_I64)
            wb_byte(g->b, 0xad); /* i64.extend_i32_u */
        return true;
    }
    default: /* if (cond == 0) unreachable else v (rarely: traps end the rest of the export) */
        if (rd8(g->s) >= 48)
            return false;
        expr(g, T_I32, depth - 1);
        wb_byte(g->b, 0x45);
        wb_byte(g->b, 0x04);
        wb_byte(g->b, blocktype(t));
        wb_byte(g->b, 0x00);
        wb_byte(g->b, 0x05);
        expr(g, t, depth - 1);
        wb_byte(g->b, 0x0b);
        return true;
    }
}

/* v128 expressions (rich only). */
static void expr_v128(gen *g, uint8_t c, int depth)
{
    static const uint8_t bin[] = {
        0x6e, 0x6f, 0x70, 0x71,             /* i8x16 add add_sat_s add_sat_u sub */
        0x8e, 0x82, 0x95,                   /* i16x8 add q15mulr_sat_s mul */
        0xae, 0xb1, 0xb5, 0xb6, 0xb9, 0xba, /* i32x4 add sub mul min_s max_u dot_i16x8_s */
        0xce, 0xd1, 0xd5,                   /* i64x2 add sub mul */
        0x4e, 0x4f, 0x50, 0x51,             /* v128 and andnot or xor */
        0x23, 0x26, 0x37, 0x3c, 0x41, 0x47, /* eq lt_u eq gt_u ... comparisons */
        /* f32x4 sub div min pmax, f64x2 sub div max; not the commutative float add and mul: with a
         * NaN in both operands of a lane either NaN may come out (the spec allows both, and the C
         * compiler orders the operands), so the tiers may rightly differ in the NaN's bits */
        0xe5, 0xe7, 0xe8, 0xeb, 0xf1, 0xf3, 0xf5, /* (the float operations above) */
        0x0e, 0x65, 0x86,                         /* swizzle, narrow_i16x8_s, narrow_i32x4_u */
    };
    static const uint8_t un[] = {
        0x4d, 0x60, 0x62, 0x80, 0xa0, 0xa1, 0xc0, /* not, abs, popcnt, abs, abs, neg, abs */
        0xe0, 0xe1, 0xe3, 0xec, 0xef,             /* f32x4 abs neg sqrt, f64x2 abs sqrt */
        0x67, 0x6a, 0x74, 0x75, 0x7a,             /* f32x4 ceil nearest, f64x2 ceil floor trunc */
        0xf8, 0xf9, 0xfa, 0xfc, 0xfe,             /* trunc_sat, convert */
        0x5e, 0x5f, 0x87, 0xa7, 0xc7,             /* demote, promote, extend_low */
    };
    switch (c % 9) {
    case 0:
        expr(g, T_V128, depth - 1);
        expr(g, T_V128, depth - 1);
        simd_op(g, bin[rd8(g->s) % sizeof bin]);
        return;
    case 1:
        expr(g, T_V128, depth - 1);
        simd_op(g, un[rd8(g->s) % sizeof un]);
        return;
    case 2: { /* splats */
        uint8_t k = rd8(g->s) % 4;
        static const int from[] = {T_I32, T_I64, T_F32, T_F64};
        static const uint8_t op[] = {0x11, 0x12, 0x13, 0x14};
        expr(g, from[k], depth - 1);
        simd_op(g, op[k]);
        return;
    }
    case 3: /* v128.load, or a narrower load that extends or splats */
        address(g, depth - 1);
        {
            static const uint8_t op[] = {0x00, 0x01, 0x04, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x5c};
            static const uint8_t al[] = {4, 3, 3, 3, 0, 1, 2, 3, 2};
            int i = rd8(g->s) % 9;
            simd_op(g, op[i]);
            memarg(g, al[i]);
        }
        return;
    case 4: { /* shifts by an i32 */
        static const uint8_t op[] = {0x6b, 0x6c, 0x8b, 0x8d, 0xab, 0xac, 0xcb, 0xcc, 0xcd};
        expr(g, T_V128, depth - 1);
        expr(g, T_I32, depth - 1);
        simd_op(g, op[rd8(g->s) % 9]);
        return;
    }
    case 5: { /* i8x16.shuffle */
        expr(g, T_V128, depth - 1);
        expr(g, T_V128, depth - 1);
        simd_op(g, 0x0d);
        for (int i = 0; i < 16; i++)
            wb_byte(g->b, rd8(g->s) % 32);
        return;
    }
    case 6: { /* replace_lane */
        uint8_t k = rd8(g->s) % 4;
        static const int from[] = {T_I32, T_I64, T_F32, T_I32};
        static const uint8_t op[] = {0x1c, 0x1e, 0x20, 0x17};
        static const uint8_t lanes[] = {4, 2, 4, 16};
        expr(g, T_V128, depth - 1);
        expr(g, from[k], depth - 1);
        simd_op(g, op[k]);
        wb_byte(g->b, (uint8_t)(rd8(g->s) % lanes[k]));
        return;
    }
    case 7: /* bitselect */
        expr(g, T_V128, depth - 1);
        expr(g, T_V128, depth - 1);
        expr(g, T_V128, depth - 1);
        simd_op(g, 0x52);
        return;
    default: { /* load lane: v128.load32_lane / load8_lane */
        bool wide = rd8(g->s) & 1;
        address(g, depth - 1);
        expr(g, T_V128, depth - 1);
        simd_op(g, wide ? 0x56 : 0x54);
        memarg(g, wide ? 2 : 0);
        wb_byte(g->b, (uint8_t)(rd8(g->s) % (wide ? 4 : 16)));
        return;
    }
    }
}

/* Rich i32 forms: v128 reductions and table reads (a reinterpretation in plain functions). */
static void rich_i32(gen *g, uint8_t c, int depth)
{
    uint8_t k = rd8(g->s);
    switch (g->plain ? 6 : c % 8) {
    case 0:
        expr(g, T_V128, depth - 1);
        simd_op(g, 0x1b); /* i32x4.extract_lane */
        wb_byte(g->b, k % 4);
        return;
    case 1: {
        static const uint8_t op[] = {0x53, 0x63, 0x64, 0x83, 0x84, 0xa3, 0xa4, 0xc3, 0xc4};
        expr(g, T_V128, depth - 1); /* any_true, all_true, bitmask */
        simd_op(g, op[k % 9]);
        return;
    }
    case 2:
        expr(g, T_V128, depth - 1);
        simd_op(g, k & 1 ? 0x15 : 0x19); /* i8x16.extract_lane_s, i16x8.extract_lane_u */
        wb_byte(g->b, k & 1 ? (k >> 1) % 16 : (k >> 1) % 8);
        return;
    case 3: /* table.size */
        wb_byte(g->b, 0xfc);
        wb_uleb(g->b, 16);
        wb_byte(g->b, 0x00);
        return;
    case 4: /* table.grow ref n */
        table_ref(g);
        wb_byte(g->b, 0x41);
        wb_sleb(g->b, k % 4);
        wb_byte(g->b, 0xfc);
        wb_uleb(g->b, 15);
        wb_byte(g->b, 0x00);
        return;
    case 5: /* ref.is_null (table.get i) */
        table_index(g, depth);
        wb_byte(g->b, 0x25);
        wb_byte(g->b, 0x00);
        wb_byte(g->b, 0xd1);
        return;
    case 6: /* i32.reinterpret_f32 */
        unop(g, T_F32, 0xbc, depth);
        return;
    default: /* f32.extract_lane, truncated */
        expr(g, T_V128, depth - 1);
        simd_op(g, 0x1f);
        wb_byte(g->b, k % 4);
        wb_byte(g->b, 0xfc);
        wb_uleb(g->b, 0);
        return;
    }
}

static void expr(gen *g, int t, int depth)
{
    g->budget--;
    uint8_t k = rd8(g->s);
    if (depth <= 0 || g->budget <= 0 || exhausted(g->s) || k < 40) {
        if (k & 1) {
            wb_byte(g->b, 0x20);
            wb_uleb(g->b, (uint64_t)local_of(g, t, k >> 1));
        } else {
            constant(g, t);
        }
        return;
    }
    uint8_t c = rd8(g->s);
    if (k < 64) { /* shared forms: statement first, local.tee, select, if/else, global, calls */
        switch (c % (g->rich ? 8 : 7)) {
        case 0:
            statement(g, depth - 1);
            expr(g, t, depth - 1);
            return;
        case 1:
            expr(g, t, depth - 1);
            wb_byte(g->b, 0x22);
            wb_uleb(g->b, (uint64_t)local_of(g, t, c));
            return;
        case 2:
            expr(g, t, depth - 1);
            expr(g, t, depth - 1);
            expr(g, T_I32, depth - 1);
            wb_byte(g->b, 0x1b);
            return;
        case 3:
            expr(g, T_I32, depth - 1);
            wb_byte(g->b, 0x04);
            wb_byte(g->b, blocktype(t));
            expr(g, t, depth - 1);
            wb_byte(g->b, 0x05);
            expr(g, t, depth - 1);
            wb_byte(g->b, 0x0b);
            return;
        case 4:
            if (t <= T_I64 || (g->rich && t <= T_F64)) {
                wb_byte(g->b, 0x23); /* global.get */
                wb_uleb(g->b, (uint64_t)(g->rich && (c & 0x80) && t == T_I32 ? 4 : t));
            } else {
                constant(g, t);
            }
            return;
        case 5: /* call_indirect: an earlier function (maybe of the other type), or a null or
                   out-of-range slot; never the function itself or a later one */
            if (t <= T_I64 && !g->in_loop && !g->called) {
                uint8_t how = rd8(g->s);
                int ty = g->rich && rd8(g->s) < 64 ? FT_MULTI : t;
                g->called = true;
                call_args(g, depth);
                if (how < 200 && g->nfuncs > 0) {
                    expr(g, T_I32, depth - 1);
                    wb_byte(g->b, 0x41);
                    wb_sleb(g->b, g->nfuncs);
                    wb_byte(g->b, 0x70); /* i32.rem_u */
                } else {
                    wb_byte(g->b, 0x41);
                    wb_sleb(g->b, g->ntotal + how % 3);
                }
                wb_byte(g->b, 0x11);
                wb_uleb(g->b, (uint64_t)ty);
                wb_byte(g->b, 0x00);
                call_result(g, ty, t);
                return;
            }
            constant(g, t);
            return;
        case 6: /* a call of an earlier function (rich: maybe multi-value), or rich: one that may
                   recurse */
            if (t <= T_I64 && !g->in_loop && !g->called) {
                if (g->rich && rd8(g->s) < 96 && recursive_call(g, t, depth))
                    return;
                for (int j = 0; j < g->nfuncs; j++) {
                    int f = (c / 7 + j) % g->nfuncs;
                    if (g->ftype[f] == t || (g->rich && g->ftype[f] == FT_MULTI)) {
                        g->called = true;
                        call_args(g, depth);
                        wb_byte(g->b, 0x10);
                        wb_uleb(g->b, (uint64_t)f);
                        call_result(g, g->ftype[f], t);
                        return;
                    }
                }
            }
            constant(g, t);
            return;
        default:
            if (!rich_shared(g, t, (uint8_t)(c / 8), depth))
                constant(g, t);
            return;
        }
    }
    if (t == T_I32 && g->rich && !g->plain && k < 100) { /* SIMD and tables more often */
        rich_i32(g, c, depth);
        return;
    }
    switch (t) {
    case T_I32:
        switch (c % (g->rich ? 15 : 14)) {
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
            wb_byte(g->b, ops[i]);
            memarg(g, al[i]);
            return;
        }
        case 12:
            wb_byte(g->b, 0x3f);
            wb_byte(g->b, 0x00);
            return;
        case 13:
            expr(g, T_I32, depth - 1);
            wb_byte(g->b, 0x40);
            wb_byte(g->b, 0x00);
            return;
        default:
            rich_i32(g, (uint8_t)(c / 15), depth);
            return;
        }
    case T_I64:
        switch (c % (g->rich ? 9 : 8)) {
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
        case 8: /* i64x2.extract_lane, or i64.reinterpret_f64 */
            if (rd8(g->s) & 1 && !g->plain) {
                expr(g, T_V128, depth - 1);
                simd_op(g, 0x1d);
                wb_byte(g->b, rd8(g->s) & 1);
            } else {
                unop(g, T_F64, 0xbd, depth);
            }
            return;
        default: {
            static const uint8_t ops[] = {0x29, 0x30, 0x31, 0x32, 0x33, 0x34, 0x35};
            static const uint8_t al[] = {3, 0, 0, 1, 1, 2, 2};
            int i = rd8(g->s) % 7;
            address(g, depth - 1);
            wb_byte(g->b, ops[i]);
            memarg(g, al[i]);
            return;
        }
        }
    case T_F32:
        switch (c % (g->rich ? 6 : 5)) {
        case 0: { /* add sub mul div min max (no copysign in the base variant) */
            binop(g, T_F32, (uint8_t)(0x92 + rd8(g->s) % (g->rich ? 7 : 6)), depth);
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
        case 5: /* f32.reinterpret_i32 */
            unop(g, T_I32, 0xbe, depth);
            return;
        default:
            address(g, depth - 1);
            wb_byte(g->b, 0x2a);
            memarg(g, 2);
            return;
        }
    case T_F64:
        switch (c % (g->rich ? 6 : 5)) {
        case 0:
            binop(g, T_F64, (uint8_t)(0xa0 + rd8(g->s) % (g->rich ? 7 : 6)), depth);
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
        case 5: /* f64.reinterpret_i64, or f64x2.extract_lane */
            if (rd8(g->s) & 1 || g->plain) {
                unop(g, T_I64, 0xbf, depth);
            } else {
                expr(g, T_V128, depth - 1);
                simd_op(g, 0x21);
                wb_byte(g->b, rd8(g->s) & 1);
            }
            return;
        default:
            address(g, depth - 1);
            wb_byte(g->b, 0x2b);
            memarg(g, 3);
            return;
        }
    default:
        expr_v128(g, c, depth);
        return;
    }
}

/* Arguments the rich variant calls every export with (besides zeros), read from the input. */
#define GEN_ARGSETS 3
typedef struct gen_args {
    uint32_t i32;
    uint64_t i64;
    uint64_t f64_bits;
} gen_args;

typedef struct gen_module {
    uint8_t *wasm; /* malloc'd */
    size_t len;
    int nfuncs; /* exported as f0..f(n-1); rich: memory "mem", globals g0..g3 */
    gen_args args[GEN_ARGSETS];
} gen_module;

/* Builds a module from the input. */
static void generate(const uint8_t *data, size_t size, bool rich, gen_module *out)
{
    /* base: one stream; rich: a header of RICH_HEADER bytes (function count and types, globals,
     * data, arguments) and a slice of RICH_CHUNK bytes per function, so that a mutation of the
     * input changes one function only and the others are found in the code cache */
    src all = {data, data + size};
    src hdr = {data, data + (size < RICH_HEADER ? size : RICH_HEADER)};
    src *hs = rich ? &hdr : &all;
    wbuf m = {0}, sec = {0}, body = {0}, code = {0};
    int n = 1 + rd8(hs) % (rich ? RICH_MAX_FUNCS : MAX_FUNCS), ftype[RICH_MAX_FUNCS];
    for (int i = 0; i < n; i++) { /* rich: a quarter return (i32, i64, f64) */
        uint8_t k = rd8(hs);
        ftype[i] = rich && (k & 6) == 6 ? FT_MULTI : k & 1;
    }
    /* the bodies first (they read most of the input), the sections in their order after */
    wb_uleb(&code, (uint64_t)n);
    gen g = {.s = &all, .b = &body, .rich = rich, .ntotal = n, .counter = rich ? 7 : 6};
    memcpy(g.ftype, ftype, sizeof ftype);
    for (int i = 0; i < n; i++) {
        g.nfuncs = i;
        src chunk = {data + size, data + size};
        size_t at = RICH_HEADER + (size_t)i * RICH_CHUNK;
        if (rich && at < size)
            chunk = (src){data + at, data + (size - at < RICH_CHUNK ? size : at + RICH_CHUNK)};
        if (rich)
            g.s = &chunk;
        g.budget = 120;
        g.in_loop = false;
        g.called = false;
        g.plain = rich && rd8(g.s) < 160;
        if (rich) /* locals: i32, i64, f32, f64, i32 (loop counter), v128 */
            wb_put(&body, "\x06\x01\x7f\x01\x7e\x01\x7d\x01\x7c\x01\x7f\x01\x7b", 13);
        else /* locals: 2 i32, 2 i64, 1 f32, 1 f64, 1 i32 (loop counter) */
            wb_put(&body, "\x05\x02\x7f\x02\x7e\x01\x7d\x01\x7c\x01\x7f", 11);
        fn_results(&g, 6);
        wb_byte(&body, 0x0b);
        wb_uleb(&code, body.len);
        wb_put(&code, body.p, body.len);
        body.len = 0;
    }
    wb_put(&m, "\0asm\1\0\0\0", 8);
    /* rich: (i32, i64, f64) -> i32, -> i64, block type i32 -> (i32, i64), (i32, i64, f64) ->
     * (i32, i64, f64), block type (i32, i64) -> (i32, i64), loop type i32 -> i32 */
    static const char rich_types[] =
        "\x06\x60\x03\x7f\x7e\x7c\x01\x7f\x60\x03\x7f\x7e\x7c\x01\x7e\x60\x01\x7f\x02\x7f\x7e"
        "\x60\x03\x7f\x7e\x7c\x03\x7f\x7e\x7c\x60\x02\x7f\x7e\x02\x7f\x7e\x60\x01\x7f\x01\x7f";
    if (rich)
        wb_put(&sec, rich_types, sizeof rich_types - 1);
    else /* () -> i32, () -> i64 */
        wb_put(&sec, "\x02\x60\x00\x01\x7f\x60\x00\x01\x7e", 9);
    wb_section(&m, 1, &sec);
    wb_uleb(&sec, (uint64_t)n);
    for (int i = 0; i < n; i++)
        wb_uleb(&sec, (uint64_t)ftype[i]);
    wb_section(&m, 3, &sec);
    if (rich) { /* a funcref table: every function, 2 null slots, growable by 6 */
        wb_put(&sec, "\x01\x70\x01", 3);
        wb_uleb(&sec, (uint64_t)n + 2);
        wb_uleb(&sec, (uint64_t)n + 8);
    } else { /* a funcref table: every function, then 2 null slots */
        wb_put(&sec, "\x01\x70\x00", 3);
        wb_uleb(&sec, (uint64_t)n + 2);
    }
    wb_section(&m, 4, &sec);
    wb_put(&sec, "\x01\x01\x01\x02", 4); /* memory: min 1, max 2 pages */
    wb_section(&m, 5, &sec);
    /* globals: mutable i32 and i64; rich: mutable f32 and f64, an immutable i32, the depth */
    wb_put(&sec, rich ? "\x06\x7f\x01\x41" : "\x02\x7f\x01\x41", 4);
    wb_sleb(&sec, (int32_t)rd32(hs));
    wb_put(&sec, "\x0b\x7e\x01\x42", 4);
    uint64_t hi = rd32(hs);
    wb_sleb(&sec, (int64_t)(hi << 32 | rd32(hs)));
    wb_byte(&sec, 0x0b);
    if (rich) {
        uint32_t f = rd32(hs);
        uint64_t d = (uint64_t)rd32(hs) << 32 | rd32(hs);
        wb_put(&sec, "\x7d\x01\x43", 3);
        wb_put(&sec, &f, 4);
        wb_put(&sec, "\x0b\x7c\x01\x44", 4);
        wb_put(&sec, &d, 8);
        wb_put(&sec, "\x0b\x7f\x00\x41", 4);
        wb_sleb(&sec, (int32_t)rd32(hs));
        wb_put(&sec, "\x0b\x7f\x01\x41\x00\x0b", 6); /* G_DEPTH = 0 */
    }
    wb_section(&m, 6, &sec);
    wb_uleb(&sec, (uint64_t)n + (rich ? 6 : 0));
    for (int i = 0; i < n; i++) {
        char name[8];
        snprintf(name, sizeof name, "f%d", i);
        wb_name(&sec, name);
        wb_byte(&sec, 0x00);
        wb_uleb(&sec, (uint64_t)i);
    }
    if (rich) {
        wb_put(&sec, "\x03mem\x02\x00", 6);
        for (int i = 0; i < 4; i++) {
            char name[3] = {'g', (char)('0' + i), 0};
            wb_put(&sec, "\x02", 1);
            wb_put(&sec, name, 2);
            wb_byte(&sec, 0x03);
            wb_uleb(&sec, (uint64_t)i);
        }
        wb_name(&sec, "depth");
        wb_byte(&sec, 0x03);
        wb_uleb(&sec, G_DEPTH);
    }
    wb_section(&m, 7, &sec);
    /* elements: table[0..n) = functions 0..n-1; rich: passive segment 1, the functions from the
     * last to the first, and passive segment 2, expressions: ref.func and ref.null */
    wb_put(&sec, rich ? "\x03\x00\x41\x00\x0b" : "\x01\x00\x41\x00\x0b", 5);
    wb_uleb(&sec, (uint64_t)n);
    for (int i = 0; i < n; i++)
        wb_uleb(&sec, (uint64_t)i);
    if (rich) {
        wb_put(&sec, "\x01\x00", 2);
        wb_uleb(&sec, (uint64_t)n);
        for (int i = n - 1; i >= 0; i--)
            wb_uleb(&sec, (uint64_t)i);
        wb_put(&sec, "\x05\x70", 2);
        wb_uleb(&sec, PASSIVE_EXPRS);
        for (int i = 0; i < PASSIVE_EXPRS; i++) {
            if (i & 1) {
                wb_put(&sec, "\xd0\x70", 2);
            } else {
                wb_byte(&sec, 0xd2);
                wb_uleb(&sec, (uint64_t)(i ? 0 : n - 1));
            }
            wb_byte(&sec, 0x0b);
        }
    }
    wb_section(&m, 9, &sec);
    if (rich) { /* data count: memory.init and data.drop need it */
        wb_uleb(&sec, 3);
        wb_section(&m, 12, &sec);
    }
    wb_section(&m, 10, &code);
    /* one data segment at 0 with 16 input bytes; rich: passive segment 1, those bytes reversed
     * and 8 more, and passive segment 2, 4 bytes */
    uint8_t init[16];
    for (int i = 0; i < 16; i++)
        init[i] = rd8(hs);
    wb_put(&sec, rich ? "\x03\x00\x41\x00\x0b\x10" : "\x01\x00\x41\x00\x0b\x10", 6);
    wb_put(&sec, init, 16);
    if (rich) {
        wb_byte(&sec, 0x01);
        wb_uleb(&sec, PASSIVE_DATA_LEN);
        for (int i = 15; i >= 0; i--)
            wb_byte(&sec, init[i]);
        wb_put(&sec, "passive!", PASSIVE_DATA_LEN - 16);
        wb_put(&sec, "\x01\x04\xde\xad\xbe\xef", 6);
    }
    wb_section(&m, 11, &sec);
    memset(out->args, 0, sizeof out->args);
    if (rich) /* argument sets 1 and 2 from the input (set 0 stays zero) */
        for (int i = 1; i < GEN_ARGSETS; i++) {
            out->args[i].i32 = rd32(hs);
            out->args[i].i64 = (uint64_t)rd32(hs) << 32 | rd32(hs);
            out->args[i].f64_bits = (uint64_t)rd32(hs) << 32 | rd32(hs);
        }
    free(sec.p);
    free(body.p);
    free(code.p);
    out->wasm = m.p;
    out->len = m.len;
    out->nfuncs = n;
}

#endif
