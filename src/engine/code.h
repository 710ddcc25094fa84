/* code.h: the engine's internal code, produced by compile.c from validated wasm and executed by
 * interp.c. A function's code is an array of 32-bit words: an opcode word followed by operand
 * words. Operands are frame slot indices (one slot = 8 bytes; v128 uses two), immediates, or
 * code offsets. Numeric and load/store opcodes keep their wasm numbers; the rest are listed here.
 */
#ifndef FWE_CODE_H
#define FWE_CODE_H

#include <stdint.h>

typedef uint32_t fwe_word;

/* Internal opcodes. 0x28..0x3e (load/store: [val, addr, offset]) and 0x45..0xc4 (numeric:
 * [dst, a] or [dst, a, b]) are the wasm opcodes themselves. */
enum fwe_iop {
    IOP_UNREACHABLE = 0x00,
    IOP_NOP = 0x01,
    IOP_TRUNC_SAT_BASE = 0xe0, /* + 0..7: 0xfc 0..7, [dst, a] */
    IOP_FIRST_EXTRA = 0x100,
    IOP_MOV = IOP_FIRST_EXTRA, /* dst src */
    IOP_MOV2,                  /* dst src (v128: two slots) */
    IOP_CONST,                 /* dst lo hi */
    IOP_CONST128,              /* dst w0 w1 w2 w3 */
    IOP_BR,                    /* target */
    IOP_BR_IF,                 /* cond target */
    IOP_BR_UNLESS,             /* cond target */
    IOP_BR_TABLE,              /* idx n target0 .. target_n (last is default); targets are code
                                  offsets of small move+br stubs or direct labels */
    IOP_RETURN,                /* (results already in slots 0..) */
    IOP_CALL,                  /* def_index arg_base : call a function defined in this module */
    IOP_CALL_IMPORT,           /* func_index arg_base */
    IOP_CALL_INDIRECT,         /* type_id table idx_slot arg_base */
    IOP_SELECT,                /* dst a b cond */
    IOP_SELECT2,               /* dst a b cond (v128) */
    IOP_GLOBAL_GET,            /* dst global */
    IOP_GLOBAL_GET2,
    IOP_GLOBAL_SET, /* global src */
    IOP_GLOBAL_SET2,
    IOP_MEMORY_SIZE,     /* dst */
    IOP_MEMORY_GROW,     /* dst delta */
    IOP_MEMORY_INIT,     /* seg dst_slot src_slot len_slot */
    IOP_DATA_DROP,       /* seg */
    IOP_MEMORY_COPY,     /* d s n */
    IOP_MEMORY_FILL,     /* d val n */
    IOP_TABLE_GET,       /* dst table idx */
    IOP_TABLE_SET,       /* table idx val */
    IOP_TABLE_INIT,      /* table seg d s n */
    IOP_ELEM_DROP,       /* seg */
    IOP_TABLE_COPY,      /* dst_table src_table d s n */
    IOP_TABLE_GROW,      /* dst table init n */
    IOP_TABLE_SIZE,      /* dst table */
    IOP_TABLE_FILL,      /* table i val n */
    IOP_REF_FUNC,        /* dst func_index */
    IOP_REF_IS_NULL,     /* dst a */
    IOP_SIMD_LOAD,       /* op dst addr offset */
    IOP_SIMD_STORE,      /* addr val offset */
    IOP_SIMD_LOAD_LANE,  /* op dst addr vec offset lane */
    IOP_SIMD_STORE_LANE, /* op addr vec offset lane */
    IOP_SIMD_SHUFFLE,    /* dst a b lanes[4 words] */
    IOP_SIMD_EXTRACT,    /* op dst a lane */
    IOP_SIMD_REPLACE,    /* op dst a scalar lane */
    IOP_SIMD_SPLAT,      /* op dst scalar */
    IOP_SIMD_UNARY,      /* op dst a */
    IOP_SIMD_BINARY,     /* op dst a b */
    IOP_SIMD_TERNARY,    /* op dst a b c */
    IOP_SIMD_TEST,       /* op dst a */
    IOP_SIMD_SHIFT,      /* op dst a count */
    /* compare fused with a conditional branch, for wasm compares 0x45..0x5a (k = op - 0x45):
     * [a b target] ([a target] for eqz); BRT branches when the compare is true, BRF when false */
    IOP_BRT_BASE,
    IOP_BRF_BASE = IOP_BRT_BASE + 22,
    /* loads 0x28..0x35 whose address is an i32.add of two slots: [dst a b offset],
     * address = (uint32_t)(a + b) + offset */
    IOP_LOADX_BASE = IOP_BRF_BASE + 22,
    IOP_COUNT = IOP_LOADX_BASE + 14
};

/* Translated code of one defined function; owned by the module, shared by every instance. */
typedef struct fwe_code {
    fwe_word *words;
    uint32_t nwords;
    uint32_t param_slots;
    uint32_t local_slots; /* declared locals (zeroed on entry) */
    uint32_t const_base;  /* first slot of the constant area */
    uint32_t nconst_slots;
    uint64_t *consts;     /* copied into [const_base, const_base + nconst_slots) on entry */
    uint32_t frame_slots; /* params + locals + consts + max operand stack */
    uint32_t result_slots;
    /* pc map for backtraces: pairs (word offset, wasm byte offset), sorted by word offset */
    uint32_t npcmap;
    uint32_t *pcmap;
} fwe_code;

#endif
