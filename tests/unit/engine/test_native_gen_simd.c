/* test_native_gen_simd.c: SIMD in the native tier (src/engine/native_gen_simd.c) against the
 * interpreter. A module built here has one function per SIMD opcode (per lane for the lane
 * operations, several shuffles, v128 through calls and select); both tiers run every function on
 * the same inputs (edge values and pseudo-random vectors) and must leave identical memory, and
 * the memory operations must trap identically (kind, message, function, wasm offset). Also: a
 * v128 loop handed over to native code mid-frame, and FWE_TIER_STRICT's count (tier.c). */
#include "fwe.h"
#include "harness.h"
#include "simd.h"
#include "util/util_grow.h"

#include <stdlib.h>
#include <unistd.h>

/* ---- a tiny wasm writer ---- */

typedef struct buf {
    uint8_t *p;
    size_t len, cap;
} buf;

static void put(buf *b, uint8_t x)
{
    if (!util_grow((void **)&b->p, &b->cap, b->len + 1, 256, 1))
        abort();
    b->p[b->len++] = x;
}
static void put_u32(buf *b, uint32_t v)
{
    do {
        uint8_t x = v & 0x7f;
        v >>= 7;
        put(b, v ? x | 0x80 : x);
    } while (v);
}
static void put_bytes(buf *b, const void *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        put(b, ((const uint8_t *)p)[i]);
}
/* Appends section `id` holding the bytes of `body` to `m`, and empties `body`. */
static void section(buf *m, uint8_t id, buf *body)
{
    put(m, id);
    put_u32(m, (uint32_t)body->len);
    put_bytes(m, body->p, body->len);
    body->len = 0;
}
static void i32_const(buf *b, uint32_t v) /* non-negative values below 2^31 */
{
    put(b, 0x41);
    do { /* signed LEB128 */
        uint8_t x = v & 0x7f;
        v >>= 7;
        bool more = v != 0 || (x & 0x40);
        put(b, more ? x | 0x80 : x);
    } while (v || (b->p[b->len - 1] & 0x80));
}
static void simd(buf *b, uint32_t op)
{
    put(b, 0xfd);
    put_u32(b, op);
}
static void memarg(buf *b, uint32_t offset)
{
    put(b, 0);
    put_u32(b, offset);
}
static void load_v(buf *b, uint32_t addr)
{
    i32_const(b, 0);
    simd(b, 0x00);
    memarg(b, addr);
}
static void store_v(buf *b)
{
    simd(b, 0x0b);
    memarg(b, 0);
}

/* Memory layout: inputs A at 0, B at 16 (also the scalar / shift count), C at 32; results at 64. */
enum { RES = 64, MEMOP_ADDR_PARAM = 1 };

typedef struct fn {
    uint32_t kind, sop, lane;
    bool memop; /* takes an address parameter */
} fn;

#define MAX_FNS 600
static fn fns[MAX_FNS];
static uint32_t nfns;

static const uint8_t shuffles[4][16] = {
    {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15},
    {31, 30, 29, 28, 27, 26, 25, 24, 23, 22, 21, 20, 19, 18, 17, 16},
    {0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23},
    {5, 5, 31, 0, 12, 19, 19, 7, 30, 2, 15, 16, 8, 9, 27, 1},
};

static const uint8_t scalar_load[] = {
    [FWE_I32] = 0x28, [FWE_I64] = 0x29, [FWE_F32] = 0x2a, [FWE_F64] = 0x2b};
static const uint8_t scalar_store[] = {
    [FWE_I32] = 0x36, [FWE_I64] = 0x37, [FWE_F32] = 0x38, [FWE_F64] = 0x39};

/* The body (without locals/end) of function f, in the same steps for every kind: where the
 * result goes (RES, or the address parameter for a store), the address operand of a load, the
 * v128 operands A, B, C, a scalar operand read from B's place, the instruction with its
 * immediates (memarg, lane), and the store of the result. */
static void body(buf *b, const fn *f)
{
    fwe_simd_info in;
    fwe_simd_lookup(f->sop, &in);
    uint32_t k = f->kind;
    bool store = k == FWE_SIMD_STORE || k == FWE_SIMD_STORE_LANE;
    bool load = k == FWE_SIMD_LOAD || k == FWE_SIMD_LOAD_LANE;
    bool lane = k == FWE_SIMD_REPLACE_LANE || k == FWE_SIMD_EXTRACT_LANE ||
                k == FWE_SIMD_LOAD_LANE || k == FWE_SIMD_STORE_LANE;
    uint32_t nv = 1; /* v128 operands */
    if (k == FWE_SIMD_BINARY || k == FWE_SIMD_SHUFFLE)
        nv = 2;
    else if (k == FWE_SIMD_TERNARY)
        nv = 3;
    else if (k == FWE_SIMD_SPLAT || k == FWE_SIMD_CONST || k == FWE_SIMD_LOAD)
        nv = 0;
    if (store) {
        put(b, 0x20); /* local.get 0 */
        put(b, 0);
    } else {
        i32_const(b, RES);
    }
    if (load) {
        put(b, 0x20);
        put(b, 0);
    }
    for (uint32_t i = 0; i < nv; i++)
        load_v(b, 16 * i);
    if (k == FWE_SIMD_SHIFT || k == FWE_SIMD_SPLAT || k == FWE_SIMD_REPLACE_LANE) {
        i32_const(b, 16);
        put(b, k == FWE_SIMD_SHIFT ? 0x28 : scalar_load[in.scalar]);
        memarg(b, 0);
    }
    if (k == FWE_SIMD_SHUFFLE || k == FWE_SIMD_CONST) {
        simd(b, k == FWE_SIMD_SHUFFLE ? 0x0d : 0x0c);
        put_bytes(b, shuffles[k == FWE_SIMD_SHUFFLE ? f->lane : 3], 16);
    } else {
        simd(b, f->sop);
    }
    if (load || store)
        memarg(b, load ? 3 : 5);
    if (lane)
        put(b, (uint8_t)f->lane);
    if (k == FWE_SIMD_TEST || k == FWE_SIMD_EXTRACT_LANE) {
        put(b, k == FWE_SIMD_TEST ? 0x36 : scalar_store[in.scalar]);
        memarg(b, 0);
    } else if (!store) {
        store_v(b);
    }
}

enum { K_MIX = 100, K_HELPER = 101 }; /* v128 through a call and a typed select */

static void add_fn(uint32_t kind, uint32_t sop, uint32_t lane, bool memop)
{
    if (nfns < MAX_FNS)
        fns[nfns++] = (fn){kind, sop, lane, memop};
}

/* The module: types () -> (), (i32) -> (), (v128 v128) -> v128; memory of one page. */
static buf build_module(void)
{
    nfns = 0;
    for (uint32_t op = 0; op < 256; op++) {
        fwe_simd_info in;
        if (!fwe_simd_lookup(op, &in))
            continue;
        /* one function per lane for the lane operations, four shuffle patterns */
        bool lanes = in.kind == FWE_SIMD_EXTRACT_LANE || in.kind == FWE_SIMD_REPLACE_LANE ||
                     in.kind == FWE_SIMD_LOAD_LANE || in.kind == FWE_SIMD_STORE_LANE;
        bool memop = in.kind == FWE_SIMD_LOAD_LANE || in.kind == FWE_SIMD_STORE_LANE ||
                     in.kind == FWE_SIMD_LOAD || in.kind == FWE_SIMD_STORE;
        uint32_t copies = lanes ? in.lanes : in.kind == FWE_SIMD_SHUFFLE ? 4 : 1;
        for (uint32_t l = 0; l < copies; l++)
            add_fn(in.kind, op, l, memop);
    }
    add_fn(K_MIX, 0, 0, true); /* the address parameter is the select condition */
    add_fn(K_HELPER, 0x70, 0, false);
    buf m = {0};
    put_bytes(&m, "\0asm\1\0\0\0", 8);
    /* types */
    buf s = {0};
    put_u32(&s, 3);
    put_bytes(&s, "\x60\x00\x00", 3);
    put_bytes(&s, "\x60\x01\x7f\x00", 4);
    put_bytes(&s, "\x60\x02\x7b\x7b\x01\x7b", 6);
    section(&m, 1, &s);
    /* functions */
    put_u32(&s, nfns);
    for (uint32_t i = 0; i < nfns; i++)
        put_u32(&s, fns[i].kind == K_HELPER ? 2 : fns[i].memop ? 1 : 0);
    section(&m, 3, &s);
    /* memory: 1 page */
    put_bytes(&m, "\x05\x03\x01\x00\x01", 5);
    /* exports f0.. */
    put_u32(&s, nfns);
    for (uint32_t i = 0; i < nfns; i++) {
        char name[16];
        int n = snprintf(name, sizeof name, "f%u", i);
        put_u32(&s, (uint32_t)n);
        put_bytes(&s, name, (size_t)n);
        put(&s, 0);
        put_u32(&s, i);
    }
    section(&m, 7, &s);
    /* code */
    put_u32(&s, nfns);
    buf f = {0};
    for (uint32_t i = 0; i < nfns; i++) {
        f.len = 0;
        put(&f, 0); /* no locals */
        if (fns[i].kind == K_HELPER) {
            put_bytes(&f, "\x20\x00\x20\x01", 4);
            simd(&f, fns[i].sop);
        } else if (fns[i].kind == K_MIX) {
            /* res = param ? helper(A, B) : B */
            i32_const(&f, RES);
            load_v(&f, 0);
            load_v(&f, 16);
            put(&f, 0x10);
            put_u32(&f, nfns - 1);
            load_v(&f, 16);
            put_bytes(&f, "\x20\x00\x1c\x01\x7b", 5);
            store_v(&f);
        } else {
            body(&f, &fns[i]);
        }
        put(&f, 0x0b);
        put_u32(&s, (uint32_t)f.len);
        put_bytes(&s, f.p, f.len);
    }
    section(&m, 10, &s);
    free(s.p);
    free(f.p);
    return m;
}

/* ---- running ---- */

typedef struct run {
    fwe_engine *engine;
    fwe_module *module;
    fwe_linker *linker;
    fwe_instance *inst;
    uint8_t *mem;
} run;

static bool start(run *r, fwe_tier_mode mode, const buf *wasm)
{
    memset(r, 0, sizeof *r);
    fwe_tier_set(mode);
    r->engine = fwe_engine_new();
    char err[256] = "";
    fwe_status st = fwe_module_load(r->engine, wasm->p, wasm->len, &r->module, err, sizeof err);
    CHECK_EQ_INT(st, FWE_OK);
    if (st != FWE_OK) {
        fprintf(stderr, "  load: %s\n", err);
        return false;
    }
    r->linker = fwe_linker_new(r->engine);
    fwe_trap trap;
    st = fwe_instantiate(r->linker, r->module, NULL, &r->inst, &trap);
    CHECK_EQ_INT(st, FWE_OK);
    if (st != FWE_OK)
        return false;
    r->mem = fwe_memory_data(fwe_instance_memory(r->inst, 0));
    return r->mem != NULL;
}

static void stop(run *r)
{
    fwe_instance_free(r->inst);
    fwe_linker_free(r->linker);
    fwe_module_free(r->module);
    fwe_engine_free(r->engine);
}

static fwe_status call(run *r, uint32_t i, const fwe_val *arg, fwe_trap *trap)
{
    char name[16];
    snprintf(name, sizeof name, "f%u", i);
    fwe_extern ext;
    if (!fwe_instance_export(r->inst, name, strlen(name), &ext) || ext.kind != FWE_EXTERN_FUNC)
        return FWE_ERR_ARGS;
    memset(trap, 0, sizeof *trap);
    return fwe_call(ext.of.func, arg, arg ? 1 : 0, NULL, 0, trap);
}

/* Input vectors: edge values of every lane shape, then pseudo-random ones. */
static uint64_t rng = 0x9e3779b97f4a7c15u;
static uint64_t next_rand(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static void vec_of(uint32_t k, uint8_t out[16])
{
    static const uint32_t f32s[] = {0x7fc00000u, 0x7fa00001u, 0xffc00000u, 0x80000000u,
                                    0x00000000u, 0x7f800000u, 0xff800000u, 0x3fc00000u,
                                    0xc0200000u, 0x3f000000u, 0x4f000000u, 0xcf000000u,
                                    0x4f800000u, 0x3f800001u, 0x00000001u, 0xbf000000u};
    static const uint64_t f64s[] = {0x7ff8000000000000u, 0x7ff4000000000001u, 0x8000000000000000u,
                                    0x7ff0000000000000u, 0xfff0000000000000u, 0x3ff8000000000000u,
                                    0x41e0000000000000u, 0xc1e0000000200000u, 0x41efffffffe00000u,
                                    0x4004000000000000u, 0x0000000000000001u, 0xbfe0000000000000u};
    uint32_t w[4];
    static const uint8_t fills[] = {0, 0xff, 0x80, 0x7f};
    if (k < 4) {
        memset(out, fills[k], 16);
        return;
    }
    switch (k) {
    case 4: /* i16 extremes */
        for (int i = 0; i < 8; i++) {
            uint16_t v = (uint16_t)(i & 1 ? 0x8000 : 0x7fff) ^ (uint16_t)(i & 2 ? 0xffff : 0);
            memcpy(out + 2 * i, &v, 2);
        }
        return;
    case 5: /* i32 extremes */
        w[0] = 0x80000000u, w[1] = 0x7fffffffu, w[2] = 1, w[3] = 0xffff8000u;
        memcpy(out, w, 16);
        return;
    }
    if (k < 10) { /* f32 specials, four at a time */
        for (int i = 0; i < 4; i++)
            w[i] = f32s[((k - 6) * 4 + (uint32_t)i) % 16];
        memcpy(out, w, 16);
        return;
    }
    if (k < 16) {
        uint64_t d[2] = {f64s[((k - 10) * 2) % 12], f64s[((k - 10) * 2 + 1) % 12]};
        memcpy(out, d, 16);
        return;
    }
    uint64_t d[2] = {next_rand(), next_rand()};
    if (k % 3 == 0) /* small lanes: shift counts, lane indexes for swizzle */
        d[0] &= 0x1f1f1f1f1f1f1f1fu, d[1] &= 0x0f1f0f1f0f1f0f1fu;
    memcpy(out, d, 16);
}

enum { NVEC = 40 };

/* f32x4/f64x2 add and mul with a NaN in both operands: the spec lets the result carry either
 * operand's payload (quietened), and the C compiler picks the operand order of a commutative
 * operation, so the two tiers may differ there. Such lanes count as equal when both are quiet
 * NaNs; everything else must be bit for bit the same. */
static bool same_modulo_nan_choice(uint32_t sop, const uint8_t *x, const uint8_t *y)
{
    bool f32 = sop == 0xe4 || sop == 0xe6, f64 = sop == 0xf0 || sop == 0xf2;
    if (!f32 && !f64)
        return false;
    for (int i = 0; i < 16; i += f32 ? 4 : 8) {
        uint64_t a = 0, b = 0;
        memcpy(&a, x + i, f32 ? 4 : 8);
        memcpy(&b, y + i, f32 ? 4 : 8);
        uint64_t quiet_nan = f32 ? 0x7fc00000u : 0x7ff8000000000000u;
        uint64_t sign = f32 ? 0x80000000u : 0x8000000000000000u;
        if (a != b &&
            ((a & ~sign & quiet_nan) != quiet_nan || (b & ~sign & quiet_nan) != quiet_nan))
            return false;
    }
    return true;
}

static void print_v128(const uint8_t *v)
{
    for (int i = 0; i < 16; i++)
        fprintf(stderr, "%02x", v[i]);
}

static void same_trap(const fwe_trap *ti, const fwe_trap *tn, uint32_t f)
{
    CHECK_EQ_INT(ti->kind, tn->kind);
    CHECK_STR_EQ(ti->message, tn->message);
    CHECK_EQ_INT(ti->nframes, tn->nframes);
    for (uint32_t i = 0; i < ti->nframes && i < tn->nframes; i++) {
        CHECK_EQ_INT(ti->frames[i].func_index, tn->frames[i].func_index);
        CHECK_EQ_INT(ti->frames[i].code_offset, tn->frames[i].code_offset);
    }
    if (ti->kind != tn->kind)
        fprintf(stderr, "  function %u (kind %u, op 0x%x)\n", f, fns[f].kind, fns[f].sop);
}

/* Starts the module with every function native and calls function 0 once, which compiles the
 * whole module (FWE_TIER_NATIVE). False when it did not start; otherwise the caller stops rn. */
static bool start_compiled(run *rn, buf *wasm)
{
    if (!start(rn, FWE_TIER_NATIVE, wasm))
        return false;
    fwe_trap trap;
    fwe_val arg = {.type = FWE_I32};
    arg.of.i32 = 100; /* function 0 is a memory operation: an address in bounds */
    CHECK(fns[0].memop);
    CHECK_EQ_INT(call(rn, 0, &arg, &trap), FWE_OK);
    return true;
}

TEST(every_simd_function_is_native)
{
    buf wasm = build_module();
    run rn;
    if (start_compiled(&rn, &wasm)) {
        CHECK_EQ_INT(fwe_module_native_count(rn.module), nfns);
        for (uint32_t i = 0; i < nfns; i++)
            if (!fwe_module_func_is_native(rn.module, i)) {
                fprintf(stderr, "  function %u (op 0x%x) is not native\n", i, fns[i].sop);
                CHECK(false);
            }
        stop(&rn);
    }
    free(wasm.p);
}

TEST(same_results_and_traps_interp_vs_native)
{
    buf wasm = build_module();
    run ri, rn;
    if (!start(&ri, FWE_TIER_INTERP, &wasm)) {
        free(wasm.p);
        return;
    }
    if (!start(&rn, FWE_TIER_NATIVE, &wasm)) {
        stop(&ri);
        free(wasm.p);
        return;
    }
    static const uint32_t addrs[] = {100,       65536 - 16, 65536 - 21, 65536 - 11,
                                     65536 - 6, 65533,      0xfffffff0u};
    uint32_t mismatches = 0, traps = 0, calls = 0, nan_choices = 0;
    for (uint32_t v = 0; v < NVEC; v++) {
        uint8_t in[48];
        vec_of(v, in);
        vec_of((v * 7 + 3) % NVEC, in + 16);
        vec_of((v * 13 + 5) % NVEC, in + 32);
        for (uint32_t f = 0; f < nfns; f++) {
            uint32_t naddr = fns[f].memop ? (uint32_t)(sizeof addrs / sizeof addrs[0]) : 1;
            for (uint32_t a = 0; a < naddr; a++) {
                /* the same memory before every call in both instances (only the low and
                 * the high 256 bytes are ever touched) */
                for (int side = 0; side < 2; side++) {
                    uint8_t *m = side ? rn.mem : ri.mem;
                    memset(m, 0x5a, 256);
                    memset(m + 65536 - 256, 0xa5, 256);
                    memcpy(m, in, 48);
                    memcpy(m + 65536 - 48, in, 48);
                }
                fwe_val arg = {.type = FWE_I32};
                /* K_MIX takes the select condition: 0 and 1 */
                arg.of.i32 = fns[f].kind == K_MIX ? a & 1 : addrs[a];
                fwe_trap ti, tn;
                fwe_status si = call(&ri, f, fns[f].memop ? &arg : NULL, &ti);
                fwe_status sn = call(&rn, f, fns[f].memop ? &arg : NULL, &tn);
                calls++;
                CHECK_EQ_INT(si, sn);
                if (si == FWE_ERR_TRAP && sn == FWE_ERR_TRAP) {
                    traps++;
                    same_trap(&ti, &tn, f);
                }
                bool differ = memcmp(ri.mem, rn.mem, RES) != 0 ||
                              memcmp(ri.mem + RES + 16, rn.mem + RES + 16, 256 - RES - 16) != 0 ||
                              memcmp(ri.mem + 65536 - 256, rn.mem + 65536 - 256, 256) != 0;
                if (memcmp(ri.mem + RES, rn.mem + RES, 16) != 0) {
                    if (same_modulo_nan_choice(fns[f].sop, ri.mem + RES, rn.mem + RES) &&
                        fns[f].kind == FWE_SIMD_BINARY)
                        nan_choices++;
                    else
                        differ = true;
                }
                if (differ && mismatches++ < 10) {
                    fprintf(stderr,
                            "  function %u (kind %u, op 0x%x, lane %u) input %u addr %u: ", f,
                            fns[f].kind, fns[f].sop, fns[f].lane, v, arg.of.i32);
                    print_v128(ri.mem + RES);
                    fprintf(stderr, " interp vs native ");
                    print_v128(rn.mem + RES);
                    fprintf(stderr, "\n");
                }
            }
        }
    }
    CHECK_EQ_INT(mismatches, 0);
    CHECK(nan_choices < 20); /* a handful of NaN+NaN lanes, not a broken operation */
    CHECK(traps > 100);      /* the out-of-bounds addresses were reached */
    CHECK(calls > 10000);
    CHECK_EQ_INT(fwe_module_native_count(rn.module), nfns);
    stop(&ri);
    stop(&rn);
    free(wasm.p);
}

/* ---- a v128 loop switching tier while its frame runs (wat/tier_simd.wat) ---- */

#define LOOP_WASM "build/wat/tier_simd.wasm"

typedef struct tick_state {
    const fwe_module *module;
    uint32_t wait_at, calls;
    bool native_at_wait;
} tick_state;

static fwe_trap_kind host_tick(fwe_caller *caller, uint64_t *slots, void *data)
{
    (void)caller;
    tick_state *ts = data;
    uint32_t i = (uint32_t)slots[0];
    ts->calls++;
    if (ts->wait_at && i == ts->wait_at) {
        fwe_tier_wait_idle();
        ts->native_at_wait = fwe_module_func_is_native(ts->module, 1);
    }
    slots[0] = i & 1;
    return FWE_TRAP_NONE;
}

/* vloop(n) under `mode`; *native says whether vloop ran native code by the end. */
static uint64_t run_vloop(fwe_tier_mode mode, tick_state *ts, uint32_t n, bool *native)
{
    size_t len;
    uint8_t *bytes = harness_read_file(LOOP_WASM, &len);
    CHECK(bytes != NULL);
    if (!bytes)
        return 0;
    fwe_tier_set(mode);
    fwe_engine *engine = fwe_engine_new();
    fwe_module *module = NULL;
    char err[256];
    fwe_status st = fwe_module_load(engine, bytes, len, &module, err, sizeof err);
    free(bytes);
    CHECK_EQ_INT(st, FWE_OK);
    uint64_t out = 0;
    if (st == FWE_OK) {
        ts->module = module;
        fwe_linker *linker = fwe_linker_new(engine);
        fwe_linker_define_host(linker, "env", "tick", "i:i", host_tick, ts);
        fwe_instance *inst = NULL;
        fwe_trap trap;
        CHECK_EQ_INT(fwe_instantiate(linker, module, NULL, &inst, &trap), FWE_OK);
        fwe_extern ext;
        CHECK(inst && fwe_instance_export(inst, "vloop", 5, &ext));
        if (inst) {
            fwe_val a = {.type = FWE_I32}, res;
            a.of.i32 = n;
            CHECK_EQ_INT(fwe_call(ext.of.func, &a, 1, &res, 1, &trap), FWE_OK);
            out = res.of.i64;
            fwe_tier_wait_idle();
            *native = fwe_module_func_is_native(module, 1);
        }
        fwe_instance_free(inst);
        fwe_linker_free(linker);
        fwe_module_free(module);
    }
    fwe_engine_free(engine);
    return out;
}

TEST(v128_loop_switches_tier_mid_frame)
{
    /* auto mode with a low threshold: vloop is hot after 512 iterations (each 256 count 16),
     * the host waits for the compiler at i == 600, and at i == 768 the interpreted frame goes on
     * in native code at the loop header with both v128 locals read from its slots. Each i
     * reaches the host exactly once, so no iteration was lost or repeated. */
    uint32_t n = 3000;
    bool native = false;
    tick_state ti = {0}, tn = {0}, ta = {.wait_at = 600};
    uint64_t want = run_vloop(FWE_TIER_INTERP, &ti, n, &native);
    CHECK(!native);
    CHECK_EQ_INT(ti.calls, n);
    uint64_t forced = run_vloop(FWE_TIER_NATIVE, &tn, n, &native);
    CHECK(native);
    CHECK_EQ_U64(forced, want);
    CHECK_EQ_INT(tn.calls, n);
    setenv("FWE_TIER_HOT", "20", 1);
    uint64_t switched = run_vloop(FWE_TIER_AUTO, &ta, n, &native);
    unsetenv("FWE_TIER_HOT");
    CHECK(ta.native_at_wait);
    CHECK(native);
    CHECK_EQ_U64(switched, want);
    CHECK_EQ_INT(ta.calls, n);
}

TEST(strict_mode_counts_functions_left_interpreted)
{
    /* FWE_TIER_STRICT=1: the SIMD module leaves nothing interpreted; a size limit of one word
     * leaves vloop interpreted, which is reported (the count is process-wide: compare deltas) */
    setenv("FWE_TIER_STRICT", "1", 1);
    char first[200];
    uint32_t before = fwe_tier_strict_violations(first, sizeof first);
    buf wasm = build_module();
    run rn;
    if (start_compiled(&rn, &wasm))
        stop(&rn);
    free(wasm.p);
    CHECK_EQ_INT(fwe_tier_strict_violations(NULL, 0), before);
    setenv("FWE_TIER_MAX_WORDS", "1", 1);
    tick_state ts = {0};
    bool native = true;
    run_vloop(FWE_TIER_NATIVE, &ts, 10, &native);
    unsetenv("FWE_TIER_MAX_WORDS");
    unsetenv("FWE_TIER_STRICT");
    CHECK(!native);
    CHECK_EQ_INT(fwe_tier_strict_violations(first, sizeof first), before + 1);
    if (before == 0)
        CHECK_STR_EQ(first, "function 1 stays interpreted: larger than FWE_TIER_MAX_WORDS");
}

int main(int argc, char **argv)
{
    (void)argc;
    char dir[64];
    snprintf(dir, sizeof dir, "/tmp/fwe-simd-test-XXXXXX");
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    setenv("FWE_CODE_CACHE", dir, 1);
    if (getenv("DUMP")) {
        buf w = build_module();
        FILE *f = fopen(getenv("DUMP"), "wb");
        fwrite(w.p, 1, w.len, f);
        fclose(f);
        return 0;
    }
    RUN(every_simd_function_is_native);
    RUN(same_results_and_traps_interp_vs_native);
    RUN(v128_loop_switches_tier_mid_frame);
    RUN(strict_mode_counts_functions_left_interpreted);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
    return harness_finish(argv[0]);
}
