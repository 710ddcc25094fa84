/* simd.h: fixed-width SIMD (v128) for the engine: a table describing every 0xFD-prefixed opcode
 * (what the validator needs) and the semantics of each operation on 16-byte values (what the
 * interpreter calls). Memory bounds are checked by the caller; these functions never trap. */
#ifndef FWE_SIMD_H
#define FWE_SIMD_H

#include <stdbool.h>
#include <stdint.h>

typedef union fwe_v128 {
    uint8_t u8[16];
    int8_t i8[16];
    uint16_t u16[8];
    int16_t i16[8];
    uint32_t u32[4];
    int32_t i32[4];
    uint64_t u64[2];
    int64_t i64[2];
    float f32[4];
    double f64[2];
} fwe_v128;

typedef enum fwe_simd_kind {
    FWE_SIMD_LOAD,  /* memarg; [i32] -> [v128]; reads mem_bytes bytes (v128.load, loadNxM, splat,
                       zero) */
    FWE_SIMD_STORE, /* memarg; [i32 v128] -> [] (v128.store, 16 bytes) */
    FWE_SIMD_LOAD_LANE,    /* memarg lane; [i32 v128] -> [v128] */
    FWE_SIMD_STORE_LANE,   /* memarg lane; [i32 v128] -> [] */
    FWE_SIMD_CONST,        /* 16-byte immediate; [] -> [v128] */
    FWE_SIMD_SHUFFLE,      /* 16 lane-index immediates (< 32); [v128 v128] -> [v128] */
    FWE_SIMD_EXTRACT_LANE, /* lane immediate; [v128] -> [scalar] */
    FWE_SIMD_REPLACE_LANE, /* lane immediate; [v128 scalar] -> [v128] */
    FWE_SIMD_SPLAT,        /* [scalar] -> [v128] */
    FWE_SIMD_UNARY,        /* [v128] -> [v128] */
    FWE_SIMD_BINARY,       /* [v128 v128] -> [v128] */
    FWE_SIMD_TERNARY,      /* [v128 v128 v128] -> [v128] (bitselect) */
    FWE_SIMD_TEST,         /* [v128] -> [i32] (any_true, all_true, bitmask) */
    FWE_SIMD_SHIFT,        /* [v128 i32] -> [v128] */
} fwe_simd_kind;

typedef struct fwe_simd_info {
    uint8_t kind;   /* fwe_simd_kind */
    uint8_t scalar; /* fwe_valtype of the scalar operand/result (SPLAT, EXTRACT/REPLACE_LANE) */
    uint8_t lanes;  /* lane count, lane immediates must be < lanes (lane ops) */
    uint8_t
        mem_bytes;    /* bytes accessed in memory (loads/stores); max alignment = log2(mem_bytes) */
    const char *name; /* text format name, e.g. "i32x4.add" */
} fwe_simd_info;

/* Describes SIMD opcode `op` (the LEB128 u32 after 0xFD). Returns false for unknown opcodes. */
bool fwe_simd_lookup(uint32_t op, fwe_simd_info *out);

/* Semantics. `op` is the SIMD opcode; the kind must match (checked by validation, not here).
 * Results may alias inputs. Scalars are passed as uint64_t raw bits (i32/f32 in the low 32 bits).
 */
void fwe_simd_unary(uint32_t op, fwe_v128 *r, const fwe_v128 *a);
void fwe_simd_binary(uint32_t op, fwe_v128 *r, const fwe_v128 *a, const fwe_v128 *b);
void fwe_simd_ternary(uint32_t op, fwe_v128 *r, const fwe_v128 *a, const fwe_v128 *b,
                      const fwe_v128 *c);
uint32_t fwe_simd_test(uint32_t op, const fwe_v128 *a);
void fwe_simd_shift(uint32_t op, fwe_v128 *r, const fwe_v128 *a, uint32_t count);
void fwe_simd_splat(uint32_t op, fwe_v128 *r, uint64_t scalar);
uint64_t fwe_simd_extract_lane(uint32_t op, const fwe_v128 *a, uint32_t lane);
void fwe_simd_replace_lane(uint32_t op, fwe_v128 *r, const fwe_v128 *a, uint32_t lane,
                           uint64_t scalar);
void fwe_simd_shuffle(fwe_v128 *r, const fwe_v128 *a, const fwe_v128 *b, const uint8_t lanes[16]);
/* FWE_SIMD_LOAD: builds the result from mem (mem_bytes readable bytes, unaligned). */
void fwe_simd_load(uint32_t op, fwe_v128 *r, const uint8_t *mem);
/* FWE_SIMD_LOAD_LANE / STORE_LANE: mem has mem_bytes readable/writable bytes. */
void fwe_simd_load_lane(uint32_t op, fwe_v128 *r, const fwe_v128 *a, uint32_t lane,
                        const uint8_t *mem);
void fwe_simd_store_lane(uint32_t op, uint8_t *mem, const fwe_v128 *a, uint32_t lane);

#endif
