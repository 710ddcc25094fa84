/* interp.c: the interpreter. Executes internal code (code.h) with computed-goto dispatch over a
 * table of handler labels. Wasm calls do not recurse in C: a call pushes a fwe_frame on the
 * instance's frame stack and continues in the same loop, so deep recursion becomes the
 * "call stack exhausted" trap and backtraces are a walk over that array. */
#include "native.h"
#include "opcodes.h"
#include "simd.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

static inline float bits_f32(uint32_t b)
{
    float f;
    memcpy(&f, &b, 4);
    return f;
}
static inline double bits_f64(uint64_t b)
{
    double d;
    memcpy(&d, &b, 8);
    return d;
}
static inline uint32_t f32_bits(float f)
{
    uint32_t b;
    memcpy(&b, &f, 4);
    return b;
}
static inline uint64_t f64_bits(double d)
{
    uint64_t b;
    memcpy(&b, &d, 8);
    return b;
}

/* min and max: a NaN operand gives that NaN quietened, the first one when both are (a + b could
 * give either: the C compiler may order the operands of a commutative + both ways, and did
 * differently here and in native code, whose helpers are the same) */
static inline float f32_min(float a, float b)
{
    if (a != a || b != b)
        return a != a ? a + a : b + b;
    if (a == 0 && b == 0)
        return f32_bits(a) >> 31 ? a : b;
    return a < b ? a : b;
}
static inline float f32_max(float a, float b)
{
    if (a != a || b != b)
        return a != a ? a + a : b + b;
    if (a == 0 && b == 0)
        return f32_bits(a) >> 31 ? b : a;
    return a > b ? a : b;
}
static inline double f64_min(double a, double b)
{
    if (a != a || b != b)
        return a != a ? a + a : b + b;
    if (a == 0 && b == 0)
        return f64_bits(a) >> 63 ? a : b;
    return a < b ? a : b;
}
static inline double f64_max(double a, double b)
{
    if (a != a || b != b)
        return a != a ? a + a : b + b;
    if (a == 0 && b == 0)
        return f64_bits(a) >> 63 ? b : a;
    return a > b ? a : b;
}
static inline uint32_t rotl32(uint32_t a, uint32_t b)
{
    b &= 31;
    return (a << b) | (a >> ((32 - b) & 31));
}
static inline uint32_t rotr32(uint32_t a, uint32_t b)
{
    b &= 31;
    return (a >> b) | (a << ((32 - b) & 31));
}
static inline uint64_t rotl64(uint64_t a, uint64_t b)
{
    b &= 63;
    return (a << b) | (a >> ((64 - b) & 63));
}
static inline uint64_t rotr64(uint64_t a, uint64_t b)
{
    b &= 63;
    return (a >> b) | (a << ((64 - b) & 63));
}

/* saturating truncations (0xfc 0..7) */
static inline int32_t sat_i32(double x)
{
    if (x != x)
        return 0;
    if (x <= -2147483649.0)
        return INT32_MIN;
    if (x >= 2147483648.0)
        return INT32_MAX;
    return (int32_t)x;
}
static inline uint32_t sat_u32(double x)
{
    if (x != x || x <= -1.0)
        return 0;
    if (x >= 4294967296.0)
        return UINT32_MAX;
    return (uint32_t)x;
}
static inline int64_t sat_i64(double x)
{
    if (x != x)
        return 0;
    if (x < -9223372036854775808.0)
        return INT64_MIN;
    if (x >= 9223372036854775808.0)
        return INT64_MAX;
    return (int64_t)x;
}
static inline uint64_t sat_u64(double x)
{
    if (x != x || x <= -1.0)
        return 0;
    if (x >= 18446744073709551616.0)
        return UINT64_MAX;
    return (uint64_t)x;
}

/* The dispatch loop keeps its one-line handlers and label layout: clang-format cannot lay out
   labels-as-values code readably. */
/* clang-format off */
static fwe_trap_kind run(fwe_instance *entry, fwe_func *func, uint64_t *args, const fwe_word *entry_ret_pc) {
#define L(op) [op] = &&L_##op
#define LT(k) [IOP_TRUNC_SAT_BASE + k] = &&L_TRUNC_SAT_##k
#pragma GCC diagnostic push
#ifdef __clang__
#pragma GCC diagnostic ignored "-Winitializer-overrides"
#else
#pragma GCC diagnostic ignored "-Woverride-init"
#endif
    static const void *const labels[IOP_COUNT] = {
        [0 ... IOP_COUNT - 1] = &&L_illegal,
        [IOP_UNREACHABLE] = &&L_unreachable, [IOP_NOP] = &&L_nop,
        [IOP_MOV] = &&L_mov, [IOP_MOV2] = &&L_mov2, [IOP_CONST] = &&L_const, [IOP_CONST128] = &&L_const128,
        [IOP_BR] = &&L_br, [IOP_BR_IF] = &&L_br_if, [IOP_BR_UNLESS] = &&L_br_unless,
        [IOP_BR_TABLE] = &&L_br_table, [IOP_RETURN] = &&L_return,
        [IOP_CALL] = &&L_call, [IOP_CALL_IMPORT] = &&L_call_import, [IOP_CALL_INDIRECT] = &&L_call_indirect,
        [IOP_SELECT] = &&L_select, [IOP_SELECT2] = &&L_select2,
        [IOP_GLOBAL_GET] = &&L_global_get, [IOP_GLOBAL_GET2] = &&L_global_get2,
        [IOP_GLOBAL_SET] = &&L_global_set, [IOP_GLOBAL_SET2] = &&L_global_set2,
        [IOP_MEMORY_SIZE] = &&L_memory_size, [IOP_MEMORY_GROW] = &&L_memory_grow,
        [IOP_MEMORY_INIT] = &&L_memory_init, [IOP_DATA_DROP] = &&L_data_drop,
        [IOP_MEMORY_COPY] = &&L_memory_copy, [IOP_MEMORY_FILL] = &&L_memory_fill,
        [IOP_TABLE_GET] = &&L_table_get, [IOP_TABLE_SET] = &&L_table_set, [IOP_TABLE_INIT] = &&L_table_init,
        [IOP_ELEM_DROP] = &&L_elem_drop, [IOP_TABLE_COPY] = &&L_table_copy, [IOP_TABLE_GROW] = &&L_table_grow,
        [IOP_TABLE_SIZE] = &&L_table_size, [IOP_TABLE_FILL] = &&L_table_fill,
        [IOP_REF_FUNC] = &&L_ref_func, [IOP_REF_IS_NULL] = &&L_ref_is_null,
        [IOP_SIMD_LOAD] = &&L_simd_load, [IOP_SIMD_STORE] = &&L_simd_store,
        [IOP_SIMD_LOAD_LANE] = &&L_simd_load_lane, [IOP_SIMD_STORE_LANE] = &&L_simd_store_lane,
        [IOP_SIMD_SHUFFLE] = &&L_simd_shuffle, [IOP_SIMD_EXTRACT] = &&L_simd_extract,
        [IOP_SIMD_REPLACE] = &&L_simd_replace, [IOP_SIMD_SPLAT] = &&L_simd_splat,
        [IOP_SIMD_UNARY] = &&L_simd_unary, [IOP_SIMD_BINARY] = &&L_simd_binary,
        [IOP_SIMD_TERNARY] = &&L_simd_ternary, [IOP_SIMD_TEST] = &&L_simd_test,
        [IOP_SIMD_SHIFT] = &&L_simd_shift,
        L(OP_I32_LOAD), L(OP_I64_LOAD), L(OP_F32_LOAD), L(OP_F64_LOAD), L(OP_I32_LOAD8_S), L(OP_I32_LOAD8_U), L(OP_I32_LOAD16_S), L(OP_I32_LOAD16_U), L(OP_I64_LOAD8_S), L(OP_I64_LOAD8_U), L(OP_I64_LOAD16_S),
        L(OP_I64_LOAD16_U), L(OP_I64_LOAD32_S), L(OP_I64_LOAD32_U), L(OP_I32_STORE), L(OP_I64_STORE), L(OP_F32_STORE), L(OP_F64_STORE), L(OP_I32_STORE8), L(OP_I32_STORE16), L(OP_I64_STORE8), L(OP_I64_STORE16),
        L(OP_I64_STORE32),
        L(OP_I32_EQZ), L(OP_I32_EQ), L(OP_I32_NE), L(OP_I32_LT_S), L(OP_I32_LT_U), L(OP_I32_GT_S), L(OP_I32_GT_U), L(OP_I32_LE_S), L(OP_I32_LE_U), L(OP_I32_GE_S), L(OP_I32_GE_U),
        L(OP_I64_EQZ), L(OP_I64_EQ), L(OP_I64_NE), L(OP_I64_LT_S), L(OP_I64_LT_U), L(OP_I64_GT_S), L(OP_I64_GT_U), L(OP_I64_LE_S), L(OP_I64_LE_U), L(OP_I64_GE_S), L(OP_I64_GE_U),
        L(OP_F32_EQ), L(OP_F32_NE), L(OP_F32_LT), L(OP_F32_GT), L(OP_F32_LE), L(OP_F32_GE), L(OP_F64_EQ), L(OP_F64_NE), L(OP_F64_LT), L(OP_F64_GT), L(OP_F64_LE),
        L(OP_F64_GE), L(OP_I32_CLZ), L(OP_I32_CTZ), L(OP_I32_POPCNT), L(OP_I32_ADD), L(OP_I32_SUB), L(OP_I32_MUL), L(OP_I32_DIV_S), L(OP_I32_DIV_U), L(OP_I32_REM_S), L(OP_I32_REM_U),
        L(OP_I32_AND), L(OP_I32_OR), L(OP_I32_XOR), L(OP_I32_SHL), L(OP_I32_SHR_S), L(OP_I32_SHR_U), L(OP_I32_ROTL), L(OP_I32_ROTR), L(OP_I64_CLZ), L(OP_I64_CTZ), L(OP_I64_POPCNT),
        L(OP_I64_ADD), L(OP_I64_SUB), L(OP_I64_MUL), L(OP_I64_DIV_S), L(OP_I64_DIV_U), L(OP_I64_REM_S), L(OP_I64_REM_U), L(OP_I64_AND), L(OP_I64_OR), L(OP_I64_XOR), L(OP_I64_SHL),
        L(OP_I64_SHR_S), L(OP_I64_SHR_U), L(OP_I64_ROTL), L(OP_I64_ROTR), L(OP_F32_ABS), L(OP_F32_NEG), L(OP_F32_CEIL), L(OP_F32_FLOOR), L(OP_F32_TRUNC), L(OP_F32_NEAREST), L(OP_F32_SQRT),
        L(OP_F32_ADD), L(OP_F32_SUB), L(OP_F32_MUL), L(OP_F32_DIV), L(OP_F32_MIN), L(OP_F32_MAX), L(OP_F32_COPYSIGN), L(OP_F64_ABS), L(OP_F64_NEG), L(OP_F64_CEIL), L(OP_F64_FLOOR),
        L(OP_F64_TRUNC), L(OP_F64_NEAREST), L(OP_F64_SQRT), L(OP_F64_ADD), L(OP_F64_SUB), L(OP_F64_MUL), L(OP_F64_DIV), L(OP_F64_MIN), L(OP_F64_MAX), L(OP_F64_COPYSIGN), L(OP_I32_WRAP_I64),
        L(OP_I32_TRUNC_F32_S), L(OP_I32_TRUNC_F32_U), L(OP_I32_TRUNC_F64_S), L(OP_I32_TRUNC_F64_U), L(OP_I64_EXTEND_I32_S), L(OP_I64_EXTEND_I32_U), L(OP_I64_TRUNC_F32_S), L(OP_I64_TRUNC_F32_U), L(OP_I64_TRUNC_F64_S), L(OP_I64_TRUNC_F64_U), L(OP_F32_CONVERT_I32_S),
        L(OP_F32_CONVERT_I32_U), L(OP_F32_CONVERT_I64_S), L(OP_F32_CONVERT_I64_U), L(OP_F32_DEMOTE_F64), L(OP_F64_CONVERT_I32_S), L(OP_F64_CONVERT_I32_U), L(OP_F64_CONVERT_I64_S), L(OP_F64_CONVERT_I64_U), L(OP_F64_PROMOTE_F32), L(OP_I32_REINTERPRET_F32), L(OP_I64_REINTERPRET_F64),
        L(OP_F32_REINTERPRET_I32), L(OP_F64_REINTERPRET_I64), L(OP_I32_EXTEND8_S), L(OP_I32_EXTEND16_S), L(OP_I64_EXTEND8_S), L(OP_I64_EXTEND16_S), L(OP_I64_EXTEND32_S),
        LT(0), LT(1), LT(2), LT(3), LT(4), LT(5), LT(6), LT(7),
#define LB(k) [IOP_BRT_BASE + k] = &&L_brt_##k, [IOP_BRF_BASE + k] = &&L_brf_##k
        LB(0), LB(1), LB(2), LB(3), LB(4), LB(5), LB(6), LB(7), LB(8), LB(9), LB(10),
        LB(11), LB(12), LB(13), LB(14), LB(15), LB(16), LB(17), LB(18), LB(19), LB(20), LB(21),
#undef LB
#define LX(k) [IOP_LOADX_BASE + k] = &&L_loadx_##k
        LX(0), LX(1), LX(2), LX(3), LX(4), LX(5), LX(6), LX(7), LX(8), LX(9), LX(10), LX(11), LX(12), LX(13),
#undef LX
    };
#pragma GCC diagnostic pop
#undef L
#undef LT

    fwe_instance *inst = func->inst;
    fwe_trap *trap = entry->act_trap;
    fwe_frame *frames = entry->frames;
    const uint32_t max_frames = entry->max_frames;
    uint64_t *const stack_end = entry->stack_end;
    _Atomic uint32_t *const interrupt = &entry->interrupt;
    const uint32_t base_depth = entry->depth;
    uint32_t depth = base_depth;
    uint64_t *fp = base_depth ? frames[base_depth].fp + frames[base_depth].code->frame_slots : entry->stack;
    const fwe_word *pc = entry_ret_pc; /* the caller's resume point, for traps at the entry */
    fwe_trap_kind kind = FWE_TRAP_NONE;
    const char *trap_msg = NULL;
    uint32_t trap_index = 0; /* the table index, for "uninitialized element N" */
    uint8_t *mbase = NULL;
    uint64_t msize = 0;
    fwe_memory *mem0 = NULL;
    const fwe_code *code = fwe_module_code(inst->module, func->def_index);
    fwe_func *callee = NULL;
    uint64_t *nfp = NULL;
    uint32_t nargs_slots = func->type->param_slots;
    const fwe_word *ret_to = NULL;
    uint32_t backedges = 0; /* every 256th taken backward branch: hotness and loop entry to native */
    fwe_nctx cx;
    fwe_native_ctx_init(&cx, entry);

#define RELOAD_MEM()                                         \
    do {                                                     \
        mem0 = inst->memories ? inst->memories[0] : NULL;    \
        mbase = mem0 ? mem0->base : NULL;                    \
        msize = mem0 ? mem0->size : 0;                       \
    } while (0)
#define NEXT() goto *labels[*pc]
    /* TRAP: a trap inside the instruction at pc (its first word); TRAP_PAST: at a call whose
     * return address pc already is. The backtrace names the instruction either way. */
#define TRAP(k) do { kind = (k); goto trapped; } while (0)
#define TRAP_MSG(k, m) do { kind = (k); trap_msg = (m); goto trapped; } while (0)
#define TRAP_PAST(k) do { kind = (k); goto trapped_past; } while (0)
#define TRAP_MSG_PAST(k, m) do { kind = (k); trap_msg = (m); goto trapped_past; } while (0)
#define S(k) fp[pc[k]]
#define I32(k) ((uint32_t)fp[pc[k]])
#define I64(k) (fp[pc[k]])
#define F32(k) bits_f32((uint32_t)fp[pc[k]])
#define F64(k) bits_f64(fp[pc[k]])
/* the interrupt word is set: a real interruption (true), or a sample for the innermost frame */
#define POLL() fwe_interrupt_poll(entry, inst->module, frames[depth].func_index, FWE_SAMPLE_INTERP)
#define MEMCHECK(ea, n) do { if ((ea) + (n) > msize) TRAP(FWE_TRAP_MEMORY_OOB); } while (0)

    if (!code) TRAP_MSG_PAST(FWE_TRAP_HOST, "function failed to translate");
    if (fp + code->frame_slots + nargs_slots > stack_end || depth + 1 >= max_frames)
        TRAP_PAST(FWE_TRAP_STACK_EXHAUSTED);
    memcpy(fp, args, sizeof(uint64_t) * nargs_slots);
    fwe_tier_count(inst->module, func->def_index, 1);
    {
        fwe_nfn nfn = fwe_native_fn(inst->module, func->def_index);
        if (nfn) {
            kind = nfn(&cx, fwe_native_inst(inst), fp, entry_ret_pc, &inst->module->ndefs[func->def_index], 0);
            if (kind != FWE_TRAP_NONE) goto trapped_reported;
            memcpy(args, fp, sizeof(uint64_t) * code->result_slots);
            entry->depth = base_depth;
            return FWE_TRAP_NONE;
        }
    }
    depth++;
    frames[depth] = (fwe_frame){entry_ret_pc, fp, inst, code, func->func_index};
    entry->depth = depth;
    memset(fp + code->param_slots, 0, sizeof(uint64_t) * code->local_slots);
    memcpy(fp + code->const_base, code->consts, sizeof(uint64_t) * code->nconst_slots);
    pc = code->words;
    RELOAD_MEM();
    NEXT();

L_illegal:
    TRAP_MSG(FWE_TRAP_HOST, "illegal internal opcode");
L_unreachable:
    TRAP(FWE_TRAP_UNREACHABLE);
L_nop:
    pc += 1;
    NEXT();
L_mov:
    S(1) = S(2);
    pc += 3;
    NEXT();
L_mov2:
    fp[pc[1]] = fp[pc[2]];
    fp[pc[1] + 1] = fp[pc[2] + 1];
    pc += 3;
    NEXT();
L_const:
    S(1) = (uint64_t)pc[2] | ((uint64_t)pc[3] << 32);
    pc += 4;
    NEXT();
L_const128:
    fp[pc[1]] = (uint64_t)pc[2] | ((uint64_t)pc[3] << 32);
    fp[pc[1] + 1] = (uint64_t)pc[4] | ((uint64_t)pc[5] << 32);
    pc += 6;
    NEXT();
    /* Branches: a backward jump (to a loop header) is where a runaway guest gets interrupted. */
#define JUMP(target)                                                                       \
    do {                                                                                   \
        const fwe_word *to_ = code->words + (target);                                      \
        if (to_ <= pc) {                                                                   \
            if (atomic_load_explicit(interrupt, memory_order_relaxed) && POLL())           \
                TRAP(FWE_TRAP_INTERRUPTED);                                                \
            if (!(++backedges & 0xff)) {                                                   \
                pc = to_;                                                                  \
                goto loop_hot;                                                             \
            }                                                                              \
        }                                                                                  \
        pc = to_;                                                                          \
        NEXT();                                                                            \
    } while (0)
L_br:
    JUMP(pc[1]);
L_br_if:
    if (I32(1)) JUMP(pc[2]);
    pc += 3;
    NEXT();
L_br_unless:
    if (!I32(1)) JUMP(pc[2]);
    pc += 3;
    NEXT();
L_br_table: {
    uint32_t i = I32(1), n = pc[2];
    if (i > n) i = n;
    JUMP(pc[3 + i]);
}
#define BRCMP(k, T, expr)                                                                  \
    L_brt_##k : {                                                                          \
        T a = (T)fp[pc[1]], b = (T)fp[pc[2]];                                              \
        (void)b;                                                                           \
        if (expr) JUMP(pc[3]);                                                             \
        pc += 4;                                                                           \
        NEXT();                                                                            \
    }                                                                                      \
    L_brf_##k : {                                                                          \
        T a = (T)fp[pc[1]], b = (T)fp[pc[2]];                                              \
        (void)b;                                                                           \
        if (!(expr)) JUMP(pc[3]);                                                          \
        pc += 4;                                                                           \
        NEXT();                                                                            \
    }
#define BRCMP1(k, T)                                                                       \
    L_brt_##k : {                                                                          \
        if ((T)fp[pc[1]] == 0) JUMP(pc[2]);                                                \
        pc += 3;                                                                           \
        NEXT();                                                                            \
    }                                                                                      \
    L_brf_##k : {                                                                          \
        if ((T)fp[pc[1]] != 0) JUMP(pc[2]);                                                \
        pc += 3;                                                                           \
        NEXT();                                                                            \
    }
    BRCMP1(0, uint32_t)
    BRCMP(1, uint32_t, a == b) BRCMP(2, uint32_t, a != b) BRCMP(3, uint32_t, (int32_t)a < (int32_t)b)
    BRCMP(4, uint32_t, a < b) BRCMP(5, uint32_t, (int32_t)a > (int32_t)b) BRCMP(6, uint32_t, a > b)
    BRCMP(7, uint32_t, (int32_t)a <= (int32_t)b) BRCMP(8, uint32_t, a <= b)
    BRCMP(9, uint32_t, (int32_t)a >= (int32_t)b) BRCMP(10, uint32_t, a >= b)
    BRCMP1(11, uint64_t)
    BRCMP(12, uint64_t, a == b) BRCMP(13, uint64_t, a != b) BRCMP(14, uint64_t, (int64_t)a < (int64_t)b)
    BRCMP(15, uint64_t, a < b) BRCMP(16, uint64_t, (int64_t)a > (int64_t)b) BRCMP(17, uint64_t, a > b)
    BRCMP(18, uint64_t, (int64_t)a <= (int64_t)b) BRCMP(19, uint64_t, a <= b)
    BRCMP(20, uint64_t, (int64_t)a >= (int64_t)b) BRCMP(21, uint64_t, a >= b)
#undef BRCMP
#undef BRCMP1

L_call:
    callee = NULL;
    {
        const fwe_func_def *d = &inst->module->funcs[pc[1]];
        const fwe_code *ncode = atomic_load_explicit(&((fwe_func_def *)d)->code, memory_order_acquire);
        if (!ncode) ncode = fwe_module_code(inst->module, pc[1]);
        if (!ncode) TRAP_MSG(FWE_TRAP_HOST, "function failed to translate");
        nfp = fp + pc[2];
        /* these two trap at the call site as call_func and native code do: pc past the call */
        if (nfp + ncode->frame_slots > stack_end || depth + 1 >= max_frames) { pc += 3; TRAP_PAST(FWE_TRAP_STACK_EXHAUSTED); }
        if (atomic_load_explicit(interrupt, memory_order_relaxed) && POLL()) { pc += 3; TRAP_PAST(FWE_TRAP_INTERRUPTED); }
        fwe_tier_count(inst->module, pc[1], 1);
        fwe_nfn nfn = fwe_native_fn(inst->module, pc[1]);
        if (nfn) {
            fwe_trap_kind nk = nfn(&cx, fwe_native_inst(inst), nfp, pc + 3, &inst->module->ndefs[pc[1]], 0);
            if (nk != FWE_TRAP_NONE) { kind = nk; goto trapped_reported; }
            pc += 3;
            if (mem0) msize = mem0->size;
            NEXT();
        }
        depth++;
        frames[depth] = (fwe_frame){pc + 3, nfp, inst, ncode, inst->module->nfunc_imports + pc[1]};
        entry->depth = depth; /* kept current for fwe_thread_stack (sampling profilers) */
        code = ncode;
        fp = nfp;
        memset(fp + code->param_slots, 0, sizeof(uint64_t) * code->local_slots);
        memcpy(fp + code->const_base, code->consts, sizeof(uint64_t) * code->nconst_slots);
        pc = code->words;
        NEXT();
    }
L_call_import:
    callee = inst->funcs[pc[1]];
    nfp = fp + pc[2];
    pc += 3;
    goto call_func;
L_call_indirect: {
    fwe_table *t = inst->tables[pc[2]];
    uint32_t i = I32(3);
    if (i >= t->size) TRAP_MSG(FWE_TRAP_TABLE_OOB, "undefined element");
    callee = (fwe_func *)(uintptr_t)fwe_table_entry(t, i);
    if (!callee) {
        trap_index = i;
        TRAP(FWE_TRAP_UNINITIALIZED_ELEMENT);
    }
    if (callee->type_id != pc[1]) TRAP(FWE_TRAP_INDIRECT_TYPE_MISMATCH);
    nfp = fp + pc[4];
    pc += 5;
    goto call_func;
}
call_func:
    /* pc already points after the call instruction */
    if (atomic_load_explicit(interrupt, memory_order_relaxed) && POLL()) TRAP_PAST(FWE_TRAP_INTERRUPTED);
    if (callee->host) {
        fwe_caller caller = {inst, callee, trap, 0};
        frames[depth + 1 < max_frames ? depth + 1 : depth].ret_pc = pc; /* for backtraces */
        entry->depth = depth;
        fwe_trap_kind hk = callee->host(&caller, nfp, callee->host_data);
        if (hk != FWE_TRAP_NONE) {
            kind = hk;
            if (hk == FWE_TRAP_EXIT) trap->exit_code = caller.exit_code;
            trap_msg = NULL;
            goto trapped_host;
        }
        RELOAD_MEM();
        NEXT();
    } else {
        fwe_instance *ninst = callee->inst;
        const fwe_code *ncode = fwe_module_code(ninst->module, callee->def_index);
        if (!ncode) TRAP_MSG_PAST(FWE_TRAP_HOST, "function failed to translate");
        if (nfp + ncode->frame_slots > stack_end || depth + 1 >= max_frames) TRAP_PAST(FWE_TRAP_STACK_EXHAUSTED);
        fwe_tier_count(ninst->module, callee->def_index, 1);
        fwe_nfn nfn = fwe_native_fn(ninst->module, callee->def_index);
        if (nfn) {
            fwe_trap_kind nk = nfn(&cx, fwe_native_inst(ninst), nfp, pc, &ninst->module->ndefs[callee->def_index], 0);
            if (nk != FWE_TRAP_NONE) { kind = nk; goto trapped_reported; }
            if (mem0) msize = mem0->size;
            NEXT();
        }
        depth++;
        frames[depth] = (fwe_frame){pc, nfp, ninst, ncode, callee->func_index};
        entry->depth = depth; /* kept current for fwe_thread_stack (sampling profilers) */
        inst = ninst;
        code = ncode;
        fp = nfp;
        memset(fp + code->param_slots, 0, sizeof(uint64_t) * code->local_slots);
        memcpy(fp + code->const_base, code->consts, sizeof(uint64_t) * code->nconst_slots);
        pc = code->words;
        RELOAD_MEM();
        NEXT();
    }
L_return: {
    ret_to = frames[depth].ret_pc;
    depth--;
    entry->depth = depth;
return_to_caller:
    if (depth == base_depth) {
        memcpy(args, fp, sizeof(uint64_t) * code->result_slots);
        entry->depth = base_depth;
        return FWE_TRAP_NONE;
    }
    fwe_instance *prev = inst;
    fp = frames[depth].fp;
    inst = frames[depth].inst;
    code = frames[depth].code;
    pc = ret_to;
    if (inst != prev) {
        RELOAD_MEM();
    } else if (mem0) {
        msize = mem0->size;
    }
    NEXT();
}

L_select:
    S(1) = I32(4) ? S(2) : S(3);
    pc += 5;
    NEXT();
L_select2: {
    uint32_t src = I32(4) ? pc[2] : pc[3];
    uint64_t lo = fp[src], hi = fp[src + 1];
    fp[pc[1]] = lo;
    fp[pc[1] + 1] = hi;
    pc += 5;
    NEXT();
}
L_global_get:
    S(1) = inst->globals[pc[2]]->value[0];
    pc += 3;
    NEXT();
L_global_get2:
    fp[pc[1]] = inst->globals[pc[2]]->value[0];
    fp[pc[1] + 1] = inst->globals[pc[2]]->value[1];
    pc += 3;
    NEXT();
L_global_set:
    inst->globals[pc[1]]->value[0] = S(2);
    pc += 3;
    NEXT();
L_global_set2:
    inst->globals[pc[1]]->value[0] = fp[pc[2]];
    inst->globals[pc[1]]->value[1] = fp[pc[2] + 1];
    pc += 3;
    NEXT();
L_memory_size:
    S(1) = msize / FWE_PAGE_SIZE;
    pc += 2;
    NEXT();
L_memory_grow: {
    int64_t r = fwe_memory_grow_internal(mem0, I32(2), inst->max_memory_pages);
    S(1) = (uint32_t)(int32_t)r;
    msize = mem0->size;
    if (r >= 0 && inst->on_memory_grow) inst->on_memory_grow(inst->host_data, msize);
    pc += 3;
    NEXT();
}
L_memory_init: {
    const fwe_data_segment *seg = &inst->module->datas[pc[1]];
    uint64_t seglen = inst->dropped_datas[pc[1]] ? 0 : seg->len;
    uint64_t d = I32(2), s = I32(3), n = I32(4);
    if (s + n > seglen || d + n > msize) TRAP(FWE_TRAP_MEMORY_OOB);
    if (n) memcpy(mbase + d, seg->bytes + s, n);
    pc += 5;
    NEXT();
}
L_data_drop:
    inst->dropped_datas[pc[1]] = 1;
    pc += 2;
    NEXT();
L_memory_copy: {
    uint64_t d = I32(1), s = I32(2), n = I32(3);
    if (s + n > msize || d + n > msize) TRAP(FWE_TRAP_MEMORY_OOB);
    if (n) memmove(mbase + d, mbase + s, n);
    pc += 4;
    NEXT();
}
L_memory_fill: {
    uint64_t d = I32(1), n = I32(3);
    if (d + n > msize) TRAP(FWE_TRAP_MEMORY_OOB);
    if (n) memset(mbase + d, (int)(uint8_t)I32(2), n);
    pc += 4;
    NEXT();
}
L_table_get: {
    fwe_table *t = inst->tables[pc[2]];
    uint32_t i = I32(3);
    if (i >= t->size) TRAP(FWE_TRAP_TABLE_OOB);
    S(1) = fwe_table_entry(t, i);
    pc += 4;
    NEXT();
}
L_table_set: {
    fwe_table *t = inst->tables[pc[1]];
    uint32_t i = I32(2);
    if (i >= t->size) TRAP(FWE_TRAP_TABLE_OOB);
    t->elems[i] = S(3);
    pc += 4;
    NEXT();
}
L_table_init: {
    fwe_table *t = inst->tables[pc[1]];
    const fwe_elem_segment *seg = &inst->module->elems[pc[2]];
    uint64_t seglen = inst->dropped_elems[pc[2]] ? 0 : seg->count;
    uint64_t d = I32(3), s = I32(4), n = I32(5);
    if (s + n > seglen || d + n > t->size) TRAP(FWE_TRAP_TABLE_OOB);
    for (uint64_t k = 0; k < n; k++) t->elems[d + k] = fwe_elem_item(inst, &seg->items[s + k]);
    pc += 6;
    NEXT();
}
L_elem_drop:
    inst->dropped_elems[pc[1]] = 1;
    pc += 2;
    NEXT();
L_table_copy: {
    fwe_table *td = inst->tables[pc[1]], *ts = inst->tables[pc[2]];
    uint64_t d = I32(3), s = I32(4), n = I32(5);
    if (s + n > ts->size || d + n > td->size) TRAP(FWE_TRAP_TABLE_OOB);
    if (n && ts->owner != td->owner)
        for (uint64_t k = 0; k < n; k++) fwe_table_entry(ts, (uint32_t)(s + k)); /* lazy entries are per owner */
    if (n) memmove(td->elems + d, ts->elems + s, n * sizeof(uint64_t));
    pc += 6;
    NEXT();
}
L_table_grow: {
    fwe_table *t = inst->tables[pc[2]];
    int64_t r = fwe_table_grow_internal(t, I32(4), S(3));
    S(1) = (uint32_t)(int32_t)r;
    pc += 5;
    NEXT();
}
L_table_size:
    S(1) = inst->tables[pc[2]]->size;
    pc += 3;
    NEXT();
L_table_fill: {
    fwe_table *t = inst->tables[pc[1]];
    uint64_t i = I32(2), n = I32(4), v = S(3);
    if (i + n > t->size) TRAP(FWE_TRAP_TABLE_OOB);
    for (uint64_t k = 0; k < n; k++) t->elems[i + k] = v;
    pc += 5;
    NEXT();
}
L_ref_func:
    S(1) = (uint64_t)(uintptr_t)fwe_instance_func(inst, pc[2]);
    pc += 3;
    NEXT();
L_ref_is_null:
    S(1) = S(2) == 0;
    pc += 3;
    NEXT();

    /* ---- SIMD: [iop sop dst ...] ---- */
#define V(k) ((fwe_v128 *)&fp[pc[k]])
L_simd_load: {
    fwe_simd_info info;
    fwe_simd_lookup(pc[1], &info);
    uint64_t ea = (uint64_t)I32(3) + pc[4];
    MEMCHECK(ea, info.mem_bytes);
    fwe_v128 r;
    fwe_simd_load(pc[1], &r, mbase + ea);
    memcpy(V(2), &r, 16);
    pc += 5;
    NEXT();
}
L_simd_store: {
    uint64_t ea = (uint64_t)I32(1) + pc[3];
    MEMCHECK(ea, 16);
    memcpy(mbase + ea, V(2), 16);
    pc += 4;
    NEXT();
}
L_simd_load_lane: {
    fwe_simd_info info;
    fwe_simd_lookup(pc[1], &info);
    uint64_t ea = (uint64_t)I32(3) + pc[5];
    MEMCHECK(ea, info.mem_bytes);
    fwe_simd_load_lane(pc[1], V(2), V(4), pc[6], mbase + ea);
    pc += 7;
    NEXT();
}
L_simd_store_lane: {
    fwe_simd_info info;
    fwe_simd_lookup(pc[1], &info);
    uint64_t ea = (uint64_t)I32(2) + pc[4];
    MEMCHECK(ea, info.mem_bytes);
    fwe_simd_store_lane(pc[1], mbase + ea, V(3), pc[5]);
    pc += 6;
    NEXT();
}
L_simd_shuffle: {
    uint8_t lanes[16];
    memcpy(lanes, &pc[4], 16);
    fwe_simd_shuffle(V(1), V(2), V(3), lanes);
    pc += 8;
    NEXT();
}
L_simd_extract:
    S(2) = fwe_simd_extract_lane(pc[1], V(3), pc[4]);
    pc += 5;
    NEXT();
L_simd_replace:
    fwe_simd_replace_lane(pc[1], V(2), V(3), pc[5], S(4));
    pc += 6;
    NEXT();
L_simd_splat:
    fwe_simd_splat(pc[1], V(2), S(3));
    pc += 4;
    NEXT();
L_simd_unary:
    fwe_simd_unary(pc[1], V(2), V(3));
    pc += 4;
    NEXT();
L_simd_binary:
    fwe_simd_binary(pc[1], V(2), V(3), V(4));
    pc += 5;
    NEXT();
L_simd_ternary:
    fwe_simd_ternary(pc[1], V(2), V(3), V(4), V(5));
    pc += 6;
    NEXT();
L_simd_test:
    S(2) = fwe_simd_test(pc[1], V(3));
    pc += 4;
    NEXT();
L_simd_shift:
    fwe_simd_shift(pc[1], V(2), V(3), I32(4));
    pc += 5;
    NEXT();
#undef V

    /* ---- loads [dst addr offset] and stores [val addr offset] ---- */
#define LOAD(op, T, N, CONV)                              \
    L_##op : {                                            \
        uint64_t ea = (uint64_t)I32(2) + pc[3];           \
        MEMCHECK(ea, N);                                  \
        T v_;                                             \
        memcpy(&v_, mbase + ea, N);                       \
        S(1) = CONV;                                      \
        pc += 4;                                          \
        NEXT();                                           \
    }
#define STORE(op, T, N)                                   \
    L_##op : {                                            \
        uint64_t ea = (uint64_t)I32(2) + pc[3];           \
        MEMCHECK(ea, N);                                  \
        T v_ = (T)S(1);                                   \
        memcpy(mbase + ea, &v_, N);                       \
        pc += 4;                                          \
        NEXT();                                           \
    }
    LOAD(OP_I32_LOAD, uint32_t, 4, (uint64_t)v_)
    LOAD(OP_I64_LOAD, uint64_t, 8, v_)
    LOAD(OP_F32_LOAD, uint32_t, 4, (uint64_t)v_)
    LOAD(OP_F64_LOAD, uint64_t, 8, v_)
    LOAD(OP_I32_LOAD8_S, int8_t, 1, (uint32_t)(int32_t)v_)
    LOAD(OP_I32_LOAD8_U, uint8_t, 1, (uint64_t)v_)
    LOAD(OP_I32_LOAD16_S, int16_t, 2, (uint32_t)(int32_t)v_)
    LOAD(OP_I32_LOAD16_U, uint16_t, 2, (uint64_t)v_)
    LOAD(OP_I64_LOAD8_S, int8_t, 1, (uint64_t)(int64_t)v_)
    LOAD(OP_I64_LOAD8_U, uint8_t, 1, (uint64_t)v_)
    LOAD(OP_I64_LOAD16_S, int16_t, 2, (uint64_t)(int64_t)v_)
    LOAD(OP_I64_LOAD16_U, uint16_t, 2, (uint64_t)v_)
    LOAD(OP_I64_LOAD32_S, int32_t, 4, (uint64_t)(int64_t)v_)
    LOAD(OP_I64_LOAD32_U, uint32_t, 4, (uint64_t)v_)
    STORE(OP_I32_STORE, uint32_t, 4)
    STORE(OP_I64_STORE, uint64_t, 8)
    STORE(OP_F32_STORE, uint32_t, 4)
    STORE(OP_F64_STORE, uint64_t, 8)
    STORE(OP_I32_STORE8, uint8_t, 1)
    STORE(OP_I32_STORE16, uint16_t, 2)
    STORE(OP_I64_STORE8, uint8_t, 1)
    STORE(OP_I64_STORE16, uint16_t, 2)
    STORE(OP_I64_STORE32, uint32_t, 4)
#define LOADX(k, T, N, CONV)                                    \
    L_loadx_##k : {                                             \
        uint64_t ea = (uint64_t)(uint32_t)(I32(2) + I32(3)) + pc[4]; \
        MEMCHECK(ea, N);                                        \
        T v_;                                                   \
        memcpy(&v_, mbase + ea, N);                             \
        S(1) = CONV;                                            \
        pc += 5;                                                \
        NEXT();                                                 \
    }
    LOADX(0, uint32_t, 4, (uint64_t)v_)
    LOADX(1, uint64_t, 8, v_)
    LOADX(2, uint32_t, 4, (uint64_t)v_)
    LOADX(3, uint64_t, 8, v_)
    LOADX(4, int8_t, 1, (uint32_t)(int32_t)v_)
    LOADX(5, uint8_t, 1, (uint64_t)v_)
    LOADX(6, int16_t, 2, (uint32_t)(int32_t)v_)
    LOADX(7, uint16_t, 2, (uint64_t)v_)
    LOADX(8, int8_t, 1, (uint64_t)(int64_t)v_)
    LOADX(9, uint8_t, 1, (uint64_t)v_)
    LOADX(10, int16_t, 2, (uint64_t)(int64_t)v_)
    LOADX(11, uint16_t, 2, (uint64_t)v_)
    LOADX(12, int32_t, 4, (uint64_t)(int64_t)v_)
    LOADX(13, uint32_t, 4, (uint64_t)v_)
#undef LOADX
#undef LOAD
#undef STORE

    /* ---- numeric [dst a (b)] ---- */
#define U32(op, expr) L_##op : { uint32_t a = I32(2); S(1) = (uint32_t)(expr); pc += 3; NEXT(); }
#define B32(op, expr) L_##op : { uint32_t a = I32(2), b = I32(3); S(1) = (uint32_t)(expr); pc += 4; NEXT(); }
#define U64(op, expr) L_##op : { uint64_t a = I64(2); S(1) = (uint64_t)(expr); pc += 3; NEXT(); }
#define B64(op, expr) L_##op : { uint64_t a = I64(2), b = I64(3); S(1) = (uint64_t)(expr); pc += 4; NEXT(); }
#define C64(op, expr) L_##op : { uint64_t a = I64(2), b = I64(3); S(1) = (uint32_t)(expr); pc += 4; NEXT(); }
#define CF32(op, expr) L_##op : { float a = F32(2), b = F32(3); S(1) = (uint32_t)(expr); pc += 4; NEXT(); }
#define CF64(op, expr) L_##op : { double a = F64(2), b = F64(3); S(1) = (uint32_t)(expr); pc += 4; NEXT(); }
#define UF32(op, expr) L_##op : { float a = F32(2); S(1) = f32_bits(expr); pc += 3; NEXT(); }
#define BF32(op, expr) L_##op : { float a = F32(2), b = F32(3); S(1) = f32_bits(expr); pc += 4; NEXT(); }
#define UF64(op, expr) L_##op : { double a = F64(2); S(1) = f64_bits(expr); pc += 3; NEXT(); }
#define BF64(op, expr) L_##op : { double a = F64(2), b = F64(3); S(1) = f64_bits(expr); pc += 4; NEXT(); }
#define BITS32(op, expr) L_##op : { uint32_t a = I32(2), b = I32(3); S(1) = (uint32_t)(expr); pc += 4; NEXT(); }
    U32(OP_I32_EQZ, a == 0)
    B32(OP_I32_EQ, a == b) B32(OP_I32_NE, a != b) B32(OP_I32_LT_S, (int32_t)a < (int32_t)b) B32(OP_I32_LT_U, a < b)
    B32(OP_I32_GT_S, (int32_t)a > (int32_t)b) B32(OP_I32_GT_U, a > b) B32(OP_I32_LE_S, (int32_t)a <= (int32_t)b)
    B32(OP_I32_LE_U, a <= b) B32(OP_I32_GE_S, (int32_t)a >= (int32_t)b) B32(OP_I32_GE_U, a >= b)
    L_OP_I64_EQZ : { S(1) = I64(2) == 0; pc += 3; NEXT(); }
    C64(OP_I64_EQ, a == b) C64(OP_I64_NE, a != b) C64(OP_I64_LT_S, (int64_t)a < (int64_t)b) C64(OP_I64_LT_U, a < b)
    C64(OP_I64_GT_S, (int64_t)a > (int64_t)b) C64(OP_I64_GT_U, a > b) C64(OP_I64_LE_S, (int64_t)a <= (int64_t)b)
    C64(OP_I64_LE_U, a <= b) C64(OP_I64_GE_S, (int64_t)a >= (int64_t)b) C64(OP_I64_GE_U, a >= b)
    CF32(OP_F32_EQ, a == b) CF32(OP_F32_NE, a != b) CF32(OP_F32_LT, a < b) CF32(OP_F32_GT, a > b) CF32(OP_F32_LE, a <= b)
    CF32(OP_F32_GE, a >= b)
    CF64(OP_F64_EQ, a == b) CF64(OP_F64_NE, a != b) CF64(OP_F64_LT, a < b) CF64(OP_F64_GT, a > b) CF64(OP_F64_LE, a <= b)
    CF64(OP_F64_GE, a >= b)
    U32(OP_I32_CLZ, a ? __builtin_clz(a) : 32) U32(OP_I32_CTZ, a ? __builtin_ctz(a) : 32) U32(OP_I32_POPCNT, __builtin_popcount(a))
    B32(OP_I32_ADD, a + b) B32(OP_I32_SUB, a - b) B32(OP_I32_MUL, a * b)
    L_OP_I32_DIV_S : {
        uint32_t a = I32(2), b = I32(3);
        if (b == 0) TRAP(FWE_TRAP_INT_DIV_ZERO);
        if (a == 0x80000000u && b == 0xffffffffu) TRAP(FWE_TRAP_INT_OVERFLOW);
        S(1) = (uint32_t)((int32_t)a / (int32_t)b);
        pc += 4;
        NEXT();
    }
    L_OP_I32_DIV_U : {
        uint32_t a = I32(2), b = I32(3);
        if (b == 0) TRAP(FWE_TRAP_INT_DIV_ZERO);
        S(1) = a / b;
        pc += 4;
        NEXT();
    }
    L_OP_I32_REM_S : {
        uint32_t a = I32(2), b = I32(3);
        if (b == 0) TRAP(FWE_TRAP_INT_DIV_ZERO);
        S(1) = (b == 0xffffffffu) ? 0 : (uint32_t)((int32_t)a % (int32_t)b);
        pc += 4;
        NEXT();
    }
    L_OP_I32_REM_U : {
        uint32_t a = I32(2), b = I32(3);
        if (b == 0) TRAP(FWE_TRAP_INT_DIV_ZERO);
        S(1) = a % b;
        pc += 4;
        NEXT();
    }
    B32(OP_I32_AND, a & b) B32(OP_I32_OR, a | b) B32(OP_I32_XOR, a ^ b) B32(OP_I32_SHL, a << (b & 31))
    B32(OP_I32_SHR_S, (uint32_t)((int32_t)a >> (b & 31))) B32(OP_I32_SHR_U, a >> (b & 31)) B32(OP_I32_ROTL, rotl32(a, b))
    B32(OP_I32_ROTR, rotr32(a, b))
    U64(OP_I64_CLZ, a ? __builtin_clzll(a) : 64) U64(OP_I64_CTZ, a ? __builtin_ctzll(a) : 64) U64(OP_I64_POPCNT, __builtin_popcountll(a))
    B64(OP_I64_ADD, a + b) B64(OP_I64_SUB, a - b) B64(OP_I64_MUL, a * b)
    L_OP_I64_DIV_S : {
        uint64_t a = I64(2), b = I64(3);
        if (b == 0) TRAP(FWE_TRAP_INT_DIV_ZERO);
        if (a == UINT64_C(0x8000000000000000) && b == UINT64_MAX) TRAP(FWE_TRAP_INT_OVERFLOW);
        S(1) = (uint64_t)((int64_t)a / (int64_t)b);
        pc += 4;
        NEXT();
    }
    L_OP_I64_DIV_U : {
        uint64_t a = I64(2), b = I64(3);
        if (b == 0) TRAP(FWE_TRAP_INT_DIV_ZERO);
        S(1) = a / b;
        pc += 4;
        NEXT();
    }
    L_OP_I64_REM_S : {
        uint64_t a = I64(2), b = I64(3);
        if (b == 0) TRAP(FWE_TRAP_INT_DIV_ZERO);
        S(1) = (b == UINT64_MAX) ? 0 : (uint64_t)((int64_t)a % (int64_t)b);
        pc += 4;
        NEXT();
    }
    L_OP_I64_REM_U : {
        uint64_t a = I64(2), b = I64(3);
        if (b == 0) TRAP(FWE_TRAP_INT_DIV_ZERO);
        S(1) = a % b;
        pc += 4;
        NEXT();
    }
    B64(OP_I64_AND, a & b) B64(OP_I64_OR, a | b) B64(OP_I64_XOR, a ^ b) B64(OP_I64_SHL, a << (b & 63))
    B64(OP_I64_SHR_S, (uint64_t)((int64_t)a >> (b & 63))) B64(OP_I64_SHR_U, a >> (b & 63)) B64(OP_I64_ROTL, rotl64(a, b))
    B64(OP_I64_ROTR, rotr64(a, b))
    L_OP_F32_ABS : { S(1) = I32(2) & 0x7fffffffu; pc += 3; NEXT(); }
    L_OP_F32_NEG : { S(1) = I32(2) ^ 0x80000000u; pc += 3; NEXT(); }
    UF32(OP_F32_CEIL, a != a ? a + a : ceilf(a)) UF32(OP_F32_FLOOR, a != a ? a + a : floorf(a))
    UF32(OP_F32_TRUNC, a != a ? a + a : truncf(a)) UF32(OP_F32_NEAREST, a != a ? a + a : nearbyintf(a))
    UF32(OP_F32_SQRT, sqrtf(a))
    BF32(OP_F32_ADD, a + b) BF32(OP_F32_SUB, a - b) BF32(OP_F32_MUL, a * b) BF32(OP_F32_DIV, a / b) BF32(OP_F32_MIN, f32_min(a, b))
    BF32(OP_F32_MAX, f32_max(a, b))
    BITS32(OP_F32_COPYSIGN, (a & 0x7fffffffu) | (b & 0x80000000u))
    L_OP_F64_ABS : { S(1) = I64(2) & UINT64_C(0x7fffffffffffffff); pc += 3; NEXT(); }
    L_OP_F64_NEG : { S(1) = I64(2) ^ UINT64_C(0x8000000000000000); pc += 3; NEXT(); }
    UF64(OP_F64_CEIL, a != a ? a + a : ceil(a)) UF64(OP_F64_FLOOR, a != a ? a + a : floor(a))
    UF64(OP_F64_TRUNC, a != a ? a + a : trunc(a)) UF64(OP_F64_NEAREST, a != a ? a + a : nearbyint(a)) UF64(OP_F64_SQRT, sqrt(a))
    BF64(OP_F64_ADD, a + b) BF64(OP_F64_SUB, a - b) BF64(OP_F64_MUL, a * b) BF64(OP_F64_DIV, a / b) BF64(OP_F64_MIN, f64_min(a, b))
    BF64(OP_F64_MAX, f64_max(a, b))
    L_OP_F64_COPYSIGN : {
        uint64_t a = I64(2), b = I64(3);
        S(1) = (a & UINT64_C(0x7fffffffffffffff)) | (b & UINT64_C(0x8000000000000000));
        pc += 4;
        NEXT();
    }
    L_OP_I32_WRAP_I64 : { S(1) = (uint32_t)I64(2); pc += 3; NEXT(); }
    L_OP_I32_TRUNC_F32_S : {
        double x = F32(2);
        if (x != x) TRAP(FWE_TRAP_INVALID_CONVERSION);
        if (!(x > -2147483649.0 && x < 2147483648.0)) TRAP(FWE_TRAP_INT_OVERFLOW);
        S(1) = (uint32_t)(int32_t)x;
        pc += 3;
        NEXT();
    }
    L_OP_I32_TRUNC_F32_U : {
        double x = F32(2);
        if (x != x) TRAP(FWE_TRAP_INVALID_CONVERSION);
        if (!(x > -1.0 && x < 4294967296.0)) TRAP(FWE_TRAP_INT_OVERFLOW);
        S(1) = (uint32_t)x;
        pc += 3;
        NEXT();
    }
    L_OP_I32_TRUNC_F64_S : {
        double x = F64(2);
        if (x != x) TRAP(FWE_TRAP_INVALID_CONVERSION);
        if (!(x > -2147483649.0 && x < 2147483648.0)) TRAP(FWE_TRAP_INT_OVERFLOW);
        S(1) = (uint32_t)(int32_t)x;
        pc += 3;
        NEXT();
    }
    L_OP_I32_TRUNC_F64_U : {
        double x = F64(2);
        if (x != x) TRAP(FWE_TRAP_INVALID_CONVERSION);
        if (!(x > -1.0 && x < 4294967296.0)) TRAP(FWE_TRAP_INT_OVERFLOW);
        S(1) = (uint32_t)x;
        pc += 3;
        NEXT();
    }
    L_OP_I64_EXTEND_I32_S : { S(1) = (uint64_t)(int64_t)(int32_t)I32(2); pc += 3; NEXT(); }
    L_OP_I64_EXTEND_I32_U : { S(1) = (uint64_t)I32(2); pc += 3; NEXT(); }
#define TRUNC64(op, GET, SIGNED)                                                          \
    L_##op : {                                                                            \
        double x = GET(2);                                                                \
        if (x != x) TRAP(FWE_TRAP_INVALID_CONVERSION);                                    \
        if (SIGNED) {                                                                     \
            if (!(x >= -9223372036854775808.0 && x < 9223372036854775808.0))             \
                TRAP(FWE_TRAP_INT_OVERFLOW);                                              \
            S(1) = (uint64_t)(int64_t)x;                                                  \
        } else {                                                                          \
            if (!(x > -1.0 && x < 18446744073709551616.0)) TRAP(FWE_TRAP_INT_OVERFLOW);   \
            S(1) = (uint64_t)x;                                                           \
        }                                                                                 \
        pc += 3;                                                                          \
        NEXT();                                                                           \
    }
    TRUNC64(OP_I64_TRUNC_F32_S, F32, 1) TRUNC64(OP_I64_TRUNC_F32_U, F32, 0) TRUNC64(OP_I64_TRUNC_F64_S, F64, 1) TRUNC64(OP_I64_TRUNC_F64_U, F64, 0)
    L_OP_F32_CONVERT_I32_S : { S(1) = f32_bits((float)(int32_t)I32(2)); pc += 3; NEXT(); }
    L_OP_F32_CONVERT_I32_U : { S(1) = f32_bits((float)I32(2)); pc += 3; NEXT(); }
    L_OP_F32_CONVERT_I64_S : { S(1) = f32_bits((float)(int64_t)I64(2)); pc += 3; NEXT(); }
    L_OP_F32_CONVERT_I64_U : { S(1) = f32_bits((float)I64(2)); pc += 3; NEXT(); }
    L_OP_F32_DEMOTE_F64 : { S(1) = f32_bits((float)F64(2)); pc += 3; NEXT(); }
    L_OP_F64_CONVERT_I32_S : { S(1) = f64_bits((double)(int32_t)I32(2)); pc += 3; NEXT(); }
    L_OP_F64_CONVERT_I32_U : { S(1) = f64_bits((double)I32(2)); pc += 3; NEXT(); }
    L_OP_F64_CONVERT_I64_S : { S(1) = f64_bits((double)(int64_t)I64(2)); pc += 3; NEXT(); }
    L_OP_F64_CONVERT_I64_U : { S(1) = f64_bits((double)I64(2)); pc += 3; NEXT(); }
    L_OP_F64_PROMOTE_F32 : { S(1) = f64_bits((double)F32(2)); pc += 3; NEXT(); }
    L_OP_I32_REINTERPRET_F32 : { S(1) = I32(2); pc += 3; NEXT(); }
    L_OP_I64_REINTERPRET_F64 : { S(1) = I64(2); pc += 3; NEXT(); }
    L_OP_F32_REINTERPRET_I32 : { S(1) = I32(2); pc += 3; NEXT(); }
    L_OP_F64_REINTERPRET_I64 : { S(1) = I64(2); pc += 3; NEXT(); }
    L_OP_I32_EXTEND8_S : { S(1) = (uint32_t)(int32_t)(int8_t)I32(2); pc += 3; NEXT(); }
    L_OP_I32_EXTEND16_S : { S(1) = (uint32_t)(int32_t)(int16_t)I32(2); pc += 3; NEXT(); }
    L_OP_I64_EXTEND8_S : { S(1) = (uint64_t)(int64_t)(int8_t)I64(2); pc += 3; NEXT(); }
    L_OP_I64_EXTEND16_S : { S(1) = (uint64_t)(int64_t)(int16_t)I64(2); pc += 3; NEXT(); }
    L_OP_I64_EXTEND32_S : { S(1) = (uint64_t)(int64_t)(int32_t)I64(2); pc += 3; NEXT(); }
    L_TRUNC_SAT_0 : { S(1) = (uint32_t)sat_i32(F32(2)); pc += 3; NEXT(); }
    L_TRUNC_SAT_1 : { S(1) = sat_u32(F32(2)); pc += 3; NEXT(); }
    L_TRUNC_SAT_2 : { S(1) = (uint32_t)sat_i32(F64(2)); pc += 3; NEXT(); }
    L_TRUNC_SAT_3 : { S(1) = sat_u32(F64(2)); pc += 3; NEXT(); }
    L_TRUNC_SAT_4 : { S(1) = (uint64_t)sat_i64(F32(2)); pc += 3; NEXT(); }
    L_TRUNC_SAT_5 : { S(1) = sat_u64(F32(2)); pc += 3; NEXT(); }
    L_TRUNC_SAT_6 : { S(1) = (uint64_t)sat_i64(F64(2)); pc += 3; NEXT(); }
    L_TRUNC_SAT_7 : { S(1) = sat_u64(F64(2)); pc += 3; NEXT(); }

trapped:
    pc++; /* a word past the trapping instruction's start, as a return address is past a call */
trapped_past:
    fwe_trap_set(trap, kind, trap_msg);
    if (trap && kind == FWE_TRAP_UNINITIALIZED_ELEMENT)
        snprintf(trap->message, sizeof trap->message, "uninitialized element %u", trap_index);
trapped_host:
    if (trap) {
        trap->kind = kind;
        trap->nframes = fwe_backtrace_collect(entry, frames + entry->act_base + 1, depth - entry->act_base, pc,
                                              trap->frames, FWE_BACKTRACE_MAX);
    }
trapped_reported: /* native code reported the trap (message and backtrace) already */
    entry->depth = base_depth;
    return kind;

loop_hot: {
    /* 256 more iterations of a loop in the innermost frame: count them, and continue the frame in
     * native code at this loop header once its function has some */
    const fwe_frame *fr = &frames[depth];
    const fwe_module *fm = inst->module;
    uint32_t def = fr->func_index - fm->nfunc_imports;
    fwe_tier_count(fm, def, 16);
    fwe_nfn nfn = fwe_native_fn(fm, def);
    if (!nfn) NEXT();
    ret_to = fr->ret_pc;
    depth--;
    entry->depth = depth;
    kind = nfn(&cx, fwe_native_inst(inst), fp, ret_to, &fm->ndefs[def], (uint32_t)(pc - code->words) + 1);
    if (kind != FWE_TRAP_NONE) goto trapped_reported;
    goto return_to_caller;
}
}

fwe_trap_kind fwe_interp_call(fwe_instance *entry, fwe_func *func, uint64_t *args, fwe_trap *trap) {
    fwe_trap *prev_trap = entry->act_trap;
    uint32_t prev_base = entry->act_base;
    entry->act_trap = trap;
    entry->act_base = entry->depth;
    fwe_trap_kind k = run(entry, func, args, NULL);
    entry->act_trap = prev_trap;
    entry->act_base = prev_base;
    return k;
}

fwe_trap_kind fwe_interp_inner(fwe_instance *entry, fwe_func *func, uint64_t *args, const fwe_word *ret_pc) {
    return run(entry, func, args, ret_pc);
}
/* clang-format on */
