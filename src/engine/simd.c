/* simd.c: the fixed-width SIMD (v128) operations of Wasm 2.0: the opcode table (kind, scalar type,
 * lane count, memory width, text name of every 0xFD opcode) and lane-wise semantics in portable C.
 * Every operation computes into a local and copies out, so results may alias inputs. Signed
 * results are stored through the unsigned lanes so that no conversion is implementation-defined. */
#include "simd.h"

#include <math.h>
#include <string.h>

#include "fwe.h"

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "simd.c assumes a little-endian host (lane 0 at the lowest address)"
#endif

/* ---- opcode table ---- */

#define K(kind) FWE_SIMD_##kind
#define LOAD(n, bytes)                                                                             \
    {                                                                                              \
        K(LOAD), 0, 0, bytes, n                                                                    \
    }
#define LANE(kind, n, scalar, lanes, bytes)                                                        \
    {                                                                                              \
        K(kind), scalar, lanes, bytes, n                                                           \
    }
#define OP(kind, n, lanes)                                                                         \
    {                                                                                              \
        K(kind), 0, lanes, 0, n                                                                    \
    }

/* Indexed by opcode; entries without a name are gaps in the opcode space. */
static const fwe_simd_info simd_table[256] = {
    [0x00] = LOAD("v128.load", 16),
    [0x01] = LOAD("v128.load8x8_s", 8),
    [0x02] = LOAD("v128.load8x8_u", 8),
    [0x03] = LOAD("v128.load16x4_s", 8),
    [0x04] = LOAD("v128.load16x4_u", 8),
    [0x05] = LOAD("v128.load32x2_s", 8),
    [0x06] = LOAD("v128.load32x2_u", 8),
    [0x07] = LOAD("v128.load8_splat", 1),
    [0x08] = LOAD("v128.load16_splat", 2),
    [0x09] = LOAD("v128.load32_splat", 4),
    [0x0a] = LOAD("v128.load64_splat", 8),
    [0x0b] = {K(STORE), 0, 0, 16, "v128.store"},
    [0x0c] = OP(CONST, "v128.const", 0),
    /* shuffle lane immediates index the 32 bytes of both operands */
    [0x0d] = OP(SHUFFLE, "i8x16.shuffle", 32),
    [0x0e] = OP(BINARY, "i8x16.swizzle", 16),
    [0x0f] = LANE(SPLAT, "i8x16.splat", FWE_I32, 16, 0),
    [0x10] = LANE(SPLAT, "i16x8.splat", FWE_I32, 8, 0),
    [0x11] = LANE(SPLAT, "i32x4.splat", FWE_I32, 4, 0),
    [0x12] = LANE(SPLAT, "i64x2.splat", FWE_I64, 2, 0),
    [0x13] = LANE(SPLAT, "f32x4.splat", FWE_F32, 4, 0),
    [0x14] = LANE(SPLAT, "f64x2.splat", FWE_F64, 2, 0),
    [0x15] = LANE(EXTRACT_LANE, "i8x16.extract_lane_s", FWE_I32, 16, 0),
    [0x16] = LANE(EXTRACT_LANE, "i8x16.extract_lane_u", FWE_I32, 16, 0),
    [0x17] = LANE(REPLACE_LANE, "i8x16.replace_lane", FWE_I32, 16, 0),
    [0x18] = LANE(EXTRACT_LANE, "i16x8.extract_lane_s", FWE_I32, 8, 0),
    [0x19] = LANE(EXTRACT_LANE, "i16x8.extract_lane_u", FWE_I32, 8, 0),
    [0x1a] = LANE(REPLACE_LANE, "i16x8.replace_lane", FWE_I32, 8, 0),
    [0x1b] = LANE(EXTRACT_LANE, "i32x4.extract_lane", FWE_I32, 4, 0),
    [0x1c] = LANE(REPLACE_LANE, "i32x4.replace_lane", FWE_I32, 4, 0),
    [0x1d] = LANE(EXTRACT_LANE, "i64x2.extract_lane", FWE_I64, 2, 0),
    [0x1e] = LANE(REPLACE_LANE, "i64x2.replace_lane", FWE_I64, 2, 0),
    [0x1f] = LANE(EXTRACT_LANE, "f32x4.extract_lane", FWE_F32, 4, 0),
    [0x20] = LANE(REPLACE_LANE, "f32x4.replace_lane", FWE_F32, 4, 0),
    [0x21] = LANE(EXTRACT_LANE, "f64x2.extract_lane", FWE_F64, 2, 0),
    [0x22] = LANE(REPLACE_LANE, "f64x2.replace_lane", FWE_F64, 2, 0),
    [0x23] = OP(BINARY, "i8x16.eq", 16),
    [0x24] = OP(BINARY, "i8x16.ne", 16),
    [0x25] = OP(BINARY, "i8x16.lt_s", 16),
    [0x26] = OP(BINARY, "i8x16.lt_u", 16),
    [0x27] = OP(BINARY, "i8x16.gt_s", 16),
    [0x28] = OP(BINARY, "i8x16.gt_u", 16),
    [0x29] = OP(BINARY, "i8x16.le_s", 16),
    [0x2a] = OP(BINARY, "i8x16.le_u", 16),
    [0x2b] = OP(BINARY, "i8x16.ge_s", 16),
    [0x2c] = OP(BINARY, "i8x16.ge_u", 16),
    [0x2d] = OP(BINARY, "i16x8.eq", 8),
    [0x2e] = OP(BINARY, "i16x8.ne", 8),
    [0x2f] = OP(BINARY, "i16x8.lt_s", 8),
    [0x30] = OP(BINARY, "i16x8.lt_u", 8),
    [0x31] = OP(BINARY, "i16x8.gt_s", 8),
    [0x32] = OP(BINARY, "i16x8.gt_u", 8),
    [0x33] = OP(BINARY, "i16x8.le_s", 8),
    [0x34] = OP(BINARY, "i16x8.le_u", 8),
    [0x35] = OP(BINARY, "i16x8.ge_s", 8),
    [0x36] = OP(BINARY, "i16x8.ge_u", 8),
    [0x37] = OP(BINARY, "i32x4.eq", 4),
    [0x38] = OP(BINARY, "i32x4.ne", 4),
    [0x39] = OP(BINARY, "i32x4.lt_s", 4),
    [0x3a] = OP(BINARY, "i32x4.lt_u", 4),
    [0x3b] = OP(BINARY, "i32x4.gt_s", 4),
    [0x3c] = OP(BINARY, "i32x4.gt_u", 4),
    [0x3d] = OP(BINARY, "i32x4.le_s", 4),
    [0x3e] = OP(BINARY, "i32x4.le_u", 4),
    [0x3f] = OP(BINARY, "i32x4.ge_s", 4),
    [0x40] = OP(BINARY, "i32x4.ge_u", 4),
    [0x41] = OP(BINARY, "f32x4.eq", 4),
    [0x42] = OP(BINARY, "f32x4.ne", 4),
    [0x43] = OP(BINARY, "f32x4.lt", 4),
    [0x44] = OP(BINARY, "f32x4.gt", 4),
    [0x45] = OP(BINARY, "f32x4.le", 4),
    [0x46] = OP(BINARY, "f32x4.ge", 4),
    [0x47] = OP(BINARY, "f64x2.eq", 2),
    [0x48] = OP(BINARY, "f64x2.ne", 2),
    [0x49] = OP(BINARY, "f64x2.lt", 2),
    [0x4a] = OP(BINARY, "f64x2.gt", 2),
    [0x4b] = OP(BINARY, "f64x2.le", 2),
    [0x4c] = OP(BINARY, "f64x2.ge", 2),
    [0x4d] = OP(UNARY, "v128.not", 0),
    [0x4e] = OP(BINARY, "v128.and", 0),
    [0x4f] = OP(BINARY, "v128.andnot", 0),
    [0x50] = OP(BINARY, "v128.or", 0),
    [0x51] = OP(BINARY, "v128.xor", 0),
    [0x52] = OP(TERNARY, "v128.bitselect", 0),
    [0x53] = OP(TEST, "v128.any_true", 0),
    [0x54] = LANE(LOAD_LANE, "v128.load8_lane", 0, 16, 1),
    [0x55] = LANE(LOAD_LANE, "v128.load16_lane", 0, 8, 2),
    [0x56] = LANE(LOAD_LANE, "v128.load32_lane", 0, 4, 4),
    [0x57] = LANE(LOAD_LANE, "v128.load64_lane", 0, 2, 8),
    [0x58] = LANE(STORE_LANE, "v128.store8_lane", 0, 16, 1),
    [0x59] = LANE(STORE_LANE, "v128.store16_lane", 0, 8, 2),
    [0x5a] = LANE(STORE_LANE, "v128.store32_lane", 0, 4, 4),
    [0x5b] = LANE(STORE_LANE, "v128.store64_lane", 0, 2, 8),
    [0x5c] = LOAD("v128.load32_zero", 4),
    [0x5d] = LOAD("v128.load64_zero", 8),
    [0x5e] = OP(UNARY, "f32x4.demote_f64x2_zero", 4),
    [0x5f] = OP(UNARY, "f64x2.promote_low_f32x4", 2),
    [0x60] = OP(UNARY, "i8x16.abs", 16),
    [0x61] = OP(UNARY, "i8x16.neg", 16),
    [0x62] = OP(UNARY, "i8x16.popcnt", 16),
    [0x63] = OP(TEST, "i8x16.all_true", 16),
    [0x64] = OP(TEST, "i8x16.bitmask", 16),
    [0x65] = OP(BINARY, "i8x16.narrow_i16x8_s", 16),
    [0x66] = OP(BINARY, "i8x16.narrow_i16x8_u", 16),
    [0x67] = OP(UNARY, "f32x4.ceil", 4),
    [0x68] = OP(UNARY, "f32x4.floor", 4),
    [0x69] = OP(UNARY, "f32x4.trunc", 4),
    [0x6a] = OP(UNARY, "f32x4.nearest", 4),
    [0x6b] = OP(SHIFT, "i8x16.shl", 16),
    [0x6c] = OP(SHIFT, "i8x16.shr_s", 16),
    [0x6d] = OP(SHIFT, "i8x16.shr_u", 16),
    [0x6e] = OP(BINARY, "i8x16.add", 16),
    [0x6f] = OP(BINARY, "i8x16.add_sat_s", 16),
    [0x70] = OP(BINARY, "i8x16.add_sat_u", 16),
    [0x71] = OP(BINARY, "i8x16.sub", 16),
    [0x72] = OP(BINARY, "i8x16.sub_sat_s", 16),
    [0x73] = OP(BINARY, "i8x16.sub_sat_u", 16),
    [0x74] = OP(UNARY, "f64x2.ceil", 2),
    [0x75] = OP(UNARY, "f64x2.floor", 2),
    [0x76] = OP(BINARY, "i8x16.min_s", 16),
    [0x77] = OP(BINARY, "i8x16.min_u", 16),
    [0x78] = OP(BINARY, "i8x16.max_s", 16),
    [0x79] = OP(BINARY, "i8x16.max_u", 16),
    [0x7a] = OP(UNARY, "f64x2.trunc", 2),
    [0x7b] = OP(BINARY, "i8x16.avgr_u", 16),
    [0x7c] = OP(UNARY, "i16x8.extadd_pairwise_i8x16_s", 8),
    [0x7d] = OP(UNARY, "i16x8.extadd_pairwise_i8x16_u", 8),
    [0x7e] = OP(UNARY, "i32x4.extadd_pairwise_i16x8_s", 4),
    [0x7f] = OP(UNARY, "i32x4.extadd_pairwise_i16x8_u", 4),
    [0x80] = OP(UNARY, "i16x8.abs", 8),
    [0x81] = OP(UNARY, "i16x8.neg", 8),
    [0x82] = OP(BINARY, "i16x8.q15mulr_sat_s", 8),
    [0x83] = OP(TEST, "i16x8.all_true", 8),
    [0x84] = OP(TEST, "i16x8.bitmask", 8),
    [0x85] = OP(BINARY, "i16x8.narrow_i32x4_s", 8),
    [0x86] = OP(BINARY, "i16x8.narrow_i32x4_u", 8),
    [0x87] = OP(UNARY, "i16x8.extend_low_i8x16_s", 8),
    [0x88] = OP(UNARY, "i16x8.extend_high_i8x16_s", 8),
    [0x89] = OP(UNARY, "i16x8.extend_low_i8x16_u", 8),
    [0x8a] = OP(UNARY, "i16x8.extend_high_i8x16_u", 8),
    [0x8b] = OP(SHIFT, "i16x8.shl", 8),
    [0x8c] = OP(SHIFT, "i16x8.shr_s", 8),
    [0x8d] = OP(SHIFT, "i16x8.shr_u", 8),
    [0x8e] = OP(BINARY, "i16x8.add", 8),
    [0x8f] = OP(BINARY, "i16x8.add_sat_s", 8),
    [0x90] = OP(BINARY, "i16x8.add_sat_u", 8),
    [0x91] = OP(BINARY, "i16x8.sub", 8),
    [0x92] = OP(BINARY, "i16x8.sub_sat_s", 8),
    [0x93] = OP(BINARY, "i16x8.sub_sat_u", 8),
    [0x94] = OP(UNARY, "f64x2.nearest", 2),
    [0x95] = OP(BINARY, "i16x8.mul", 8),
    [0x96] = OP(BINARY, "i16x8.min_s", 8),
    [0x97] = OP(BINARY, "i16x8.min_u", 8),
    [0x98] = OP(BINARY, "i16x8.max_s", 8),
    [0x99] = OP(BINARY, "i16x8.max_u", 8),
    [0x9b] = OP(BINARY, "i16x8.avgr_u", 8),
    [0x9c] = OP(BINARY, "i16x8.extmul_low_i8x16_s", 8),
    [0x9d] = OP(BINARY, "i16x8.extmul_high_i8x16_s", 8),
    [0x9e] = OP(BINARY, "i16x8.extmul_low_i8x16_u", 8),
    [0x9f] = OP(BINARY, "i16x8.extmul_high_i8x16_u", 8),
    [0xa0] = OP(UNARY, "i32x4.abs", 4),
    [0xa1] = OP(UNARY, "i32x4.neg", 4),
    [0xa3] = OP(TEST, "i32x4.all_true", 4),
    [0xa4] = OP(TEST, "i32x4.bitmask", 4),
    [0xa7] = OP(UNARY, "i32x4.extend_low_i16x8_s", 4),
    [0xa8] = OP(UNARY, "i32x4.extend_high_i16x8_s", 4),
    [0xa9] = OP(UNARY, "i32x4.extend_low_i16x8_u", 4),
    [0xaa] = OP(UNARY, "i32x4.extend_high_i16x8_u", 4),
    [0xab] = OP(SHIFT, "i32x4.shl", 4),
    [0xac] = OP(SHIFT, "i32x4.shr_s", 4),
    [0xad] = OP(SHIFT, "i32x4.shr_u", 4),
    [0xae] = OP(BINARY, "i32x4.add", 4),
    [0xb1] = OP(BINARY, "i32x4.sub", 4),
    [0xb5] = OP(BINARY, "i32x4.mul", 4),
    [0xb6] = OP(BINARY, "i32x4.min_s", 4),
    [0xb7] = OP(BINARY, "i32x4.min_u", 4),
    [0xb8] = OP(BINARY, "i32x4.max_s", 4),
    [0xb9] = OP(BINARY, "i32x4.max_u", 4),
    [0xba] = OP(BINARY, "i32x4.dot_i16x8_s", 4),
    [0xbc] = OP(BINARY, "i32x4.extmul_low_i16x8_s", 4),
    [0xbd] = OP(BINARY, "i32x4.extmul_high_i16x8_s", 4),
    [0xbe] = OP(BINARY, "i32x4.extmul_low_i16x8_u", 4),
    [0xbf] = OP(BINARY, "i32x4.extmul_high_i16x8_u", 4),
    [0xc0] = OP(UNARY, "i64x2.abs", 2),
    [0xc1] = OP(UNARY, "i64x2.neg", 2),
    [0xc3] = OP(TEST, "i64x2.all_true", 2),
    [0xc4] = OP(TEST, "i64x2.bitmask", 2),
    [0xc7] = OP(UNARY, "i64x2.extend_low_i32x4_s", 2),
    [0xc8] = OP(UNARY, "i64x2.extend_high_i32x4_s", 2),
    [0xc9] = OP(UNARY, "i64x2.extend_low_i32x4_u", 2),
    [0xca] = OP(UNARY, "i64x2.extend_high_i32x4_u", 2),
    [0xcb] = OP(SHIFT, "i64x2.shl", 2),
    [0xcc] = OP(SHIFT, "i64x2.shr_s", 2),
    [0xcd] = OP(SHIFT, "i64x2.shr_u", 2),
    [0xce] = OP(BINARY, "i64x2.add", 2),
    [0xd1] = OP(BINARY, "i64x2.sub", 2),
    [0xd5] = OP(BINARY, "i64x2.mul", 2),
    [0xd6] = OP(BINARY, "i64x2.eq", 2),
    [0xd7] = OP(BINARY, "i64x2.ne", 2),
    [0xd8] = OP(BINARY, "i64x2.lt_s", 2),
    [0xd9] = OP(BINARY, "i64x2.gt_s", 2),
    [0xda] = OP(BINARY, "i64x2.le_s", 2),
    [0xdb] = OP(BINARY, "i64x2.ge_s", 2),
    [0xdc] = OP(BINARY, "i64x2.extmul_low_i32x4_s", 2),
    [0xdd] = OP(BINARY, "i64x2.extmul_high_i32x4_s", 2),
    [0xde] = OP(BINARY, "i64x2.extmul_low_i32x4_u", 2),
    [0xdf] = OP(BINARY, "i64x2.extmul_high_i32x4_u", 2),
    [0xe0] = OP(UNARY, "f32x4.abs", 4),
    [0xe1] = OP(UNARY, "f32x4.neg", 4),
    [0xe3] = OP(UNARY, "f32x4.sqrt", 4),
    [0xe4] = OP(BINARY, "f32x4.add", 4),
    [0xe5] = OP(BINARY, "f32x4.sub", 4),
    [0xe6] = OP(BINARY, "f32x4.mul", 4),
    [0xe7] = OP(BINARY, "f32x4.div", 4),
    [0xe8] = OP(BINARY, "f32x4.min", 4),
    [0xe9] = OP(BINARY, "f32x4.max", 4),
    [0xea] = OP(BINARY, "f32x4.pmin", 4),
    [0xeb] = OP(BINARY, "f32x4.pmax", 4),
    [0xec] = OP(UNARY, "f64x2.abs", 2),
    [0xed] = OP(UNARY, "f64x2.neg", 2),
    [0xef] = OP(UNARY, "f64x2.sqrt", 2),
    [0xf0] = OP(BINARY, "f64x2.add", 2),
    [0xf1] = OP(BINARY, "f64x2.sub", 2),
    [0xf2] = OP(BINARY, "f64x2.mul", 2),
    [0xf3] = OP(BINARY, "f64x2.div", 2),
    [0xf4] = OP(BINARY, "f64x2.min", 2),
    [0xf5] = OP(BINARY, "f64x2.max", 2),
    [0xf6] = OP(BINARY, "f64x2.pmin", 2),
    [0xf7] = OP(BINARY, "f64x2.pmax", 2),
    [0xf8] = OP(UNARY, "i32x4.trunc_sat_f32x4_s", 4),
    [0xf9] = OP(UNARY, "i32x4.trunc_sat_f32x4_u", 4),
    [0xfa] = OP(UNARY, "f32x4.convert_i32x4_s", 4),
    [0xfb] = OP(UNARY, "f32x4.convert_i32x4_u", 4),
    [0xfc] = OP(UNARY, "i32x4.trunc_sat_f64x2_s_zero", 4),
    [0xfd] = OP(UNARY, "i32x4.trunc_sat_f64x2_u_zero", 4),
    [0xfe] = OP(UNARY, "f64x2.convert_low_i32x4_s", 2),
    [0xff] = OP(UNARY, "f64x2.convert_low_i32x4_u", 2),
};

#undef K
#undef LOAD
#undef LANE
#undef OP

bool fwe_simd_lookup(uint32_t op, fwe_simd_info *out)
{
    if (op >= 256 || simd_table[op].name == NULL)
        return false;
    if (out)
        *out = simd_table[op];
    return true;
}

/* ---- scalar helpers ---- */

/* Arithmetic right shift without relying on implementation-defined `>>` of negatives. */
static inline int32_t asr32(int32_t x, unsigned n)
{
    return x < 0 ? ~(~x >> n) : x >> n;
}
static inline int64_t asr64(int64_t x, unsigned n)
{
    return x < 0 ? ~(~x >> n) : x >> n;
}

static inline uint8_t sat_s8(int32_t v)
{
    return (uint8_t)(v < INT8_MIN ? INT8_MIN : v > INT8_MAX ? INT8_MAX : v);
}
static inline uint8_t sat_u8(int32_t v)
{
    return (uint8_t)(v < 0 ? 0 : v > UINT8_MAX ? UINT8_MAX : v);
}
static inline uint16_t sat_s16(int32_t v)
{
    return (uint16_t)(v < INT16_MIN ? INT16_MIN : v > INT16_MAX ? INT16_MAX : v);
}
static inline uint16_t sat_u16(int32_t v)
{
    return (uint16_t)(v < 0 ? 0 : v > UINT16_MAX ? UINT16_MAX : v);
}

#define F32_CANON_NAN UINT32_C(0x7fc00000)
#define F64_CANON_NAN UINT64_C(0x7ff8000000000000)

/* IEEE 754-2019 minimum/maximum as Wasm defines them: NaN if either is NaN, and -0 < +0.
 * Operands equal as floats differ at most in the sign of zero, so OR/AND of the bits decides. */
static inline uint32_t f32_min(float x, float y, uint32_t xb, uint32_t yb)
{
    if (x != x || y != y)
        return F32_CANON_NAN;
    return x < y ? xb : y < x ? yb : (xb | yb);
}
static inline uint32_t f32_max(float x, float y, uint32_t xb, uint32_t yb)
{
    if (x != x || y != y)
        return F32_CANON_NAN;
    return x > y ? xb : y > x ? yb : (xb & yb);
}
static inline uint64_t f64_min(double x, double y, uint64_t xb, uint64_t yb)
{
    if (x != x || y != y)
        return F64_CANON_NAN;
    return x < y ? xb : y < x ? yb : (xb | yb);
}
static inline uint64_t f64_max(double x, double y, uint64_t xb, uint64_t yb)
{
    if (x != x || y != y)
        return F64_CANON_NAN;
    return x > y ? xb : y > x ? yb : (xb & yb);
}

/* Saturating truncations; NaN gives 0. The bounds are exact powers of two, so the comparisons are
 * exact and the remaining casts are in range (no undefined behaviour). */
static inline uint32_t trunc_sat_s32(double x)
{
    if (x != x)
        return 0;
    if (x <= -2147483648.0)
        return UINT32_C(0x80000000);
    if (x >= 2147483648.0)
        return UINT32_C(0x7fffffff);
    return (uint32_t)(int32_t)x;
}
static inline uint32_t trunc_sat_u32(double x)
{
    if (!(x > -1.0)) /* also NaN */
        return 0;
    if (x >= 4294967296.0)
        return UINT32_MAX;
    return (uint32_t)x;
}

/* Rounding results: libm (or gcc's inline expansion) may hand a signalling NaN back unchanged,
 * but Wasm wants a NaN result to be quiet (an arithmetic NaN). */
static inline uint32_t f32_round_bits(float x, float rounded)
{
    fwe_v128 v;
    v.f32[0] = rounded;
    return x != x ? v.u32[0] | UINT32_C(0x00400000) : v.u32[0];
}
static inline uint64_t f64_round_bits(double x, double rounded)
{
    fwe_v128 v;
    v.f64[0] = rounded;
    return x != x ? v.u64[0] | UINT64_C(0x0008000000000000) : v.u64[0];
}

static inline uint8_t popcnt8(uint8_t v)
{
    v = (uint8_t)(v - ((v >> 1) & 0x55));
    v = (uint8_t)((v & 0x33) + ((v >> 2) & 0x33));
    return (uint8_t)((v + (v >> 4)) & 0x0f);
}

/* Lane loop filling result lanes t.dst[0..N) from `expr` (which sees the lane index `i`); it also
 * ends the switch case with `break`. */
#define EACH(N, dst, expr)                                                                         \
    for (unsigned i = 0; i < (N); i++)                                                             \
        t.dst[i] = (expr);                                                                         \
    break

/* ---- unary ---- */

void fwe_simd_unary(uint32_t op, fwe_v128 *r, const fwe_v128 *a)
{
    const fwe_v128 A = *a;
    fwe_v128 t;
    memset(&t, 0, sizeof t);
    switch (op) {
    case 0x4d: /* v128.not */
        EACH(2, u64, ~A.u64[i]);
    case 0x5e: /* f32x4.demote_f64x2_zero: upper lanes stay zero */
        EACH(2, f32, (float)A.f64[i]);
    case 0x5f: /* f64x2.promote_low_f32x4 */
        EACH(2, f64, (double)A.f32[i]);
    case 0x60: /* i8x16.abs */
        EACH(16, u8, (uint8_t)(A.i8[i] < 0 ? 0u - A.u8[i] : A.u8[i]));
    case 0x61: /* i8x16.neg */
        EACH(16, u8, (uint8_t)(0u - A.u8[i]));
    case 0x62: /* i8x16.popcnt */
        EACH(16, u8, popcnt8(A.u8[i]));
    case 0x67: /* f32x4.ceil */
        EACH(4, u32, f32_round_bits(A.f32[i], ceilf(A.f32[i])));
    case 0x68: /* f32x4.floor */
        EACH(4, u32, f32_round_bits(A.f32[i], floorf(A.f32[i])));
    case 0x69: /* f32x4.trunc */
        EACH(4, u32, f32_round_bits(A.f32[i], truncf(A.f32[i])));
    case 0x6a: /* f32x4.nearest */
        EACH(4, u32,
             f32_round_bits(A.f32[i],
                            nearbyintf(A.f32[i]))); /* round half to even in the default mode */
    case 0x74:                                      /* f64x2.ceil */
        EACH(2, u64, f64_round_bits(A.f64[i], ceil(A.f64[i])));
    case 0x75: /* f64x2.floor */
        EACH(2, u64, f64_round_bits(A.f64[i], floor(A.f64[i])));
    case 0x7a: /* f64x2.trunc */
        EACH(2, u64, f64_round_bits(A.f64[i], trunc(A.f64[i])));
    case 0x94: /* f64x2.nearest */
        EACH(2, u64, f64_round_bits(A.f64[i], nearbyint(A.f64[i])));
    case 0x7c: /* i16x8.extadd_pairwise_i8x16_s */
        EACH(8, u16, (uint16_t)(A.i8[2 * i] + A.i8[2 * i + 1]));
    case 0x7d: /* i16x8.extadd_pairwise_i8x16_u */
        EACH(8, u16, (uint16_t)(A.u8[2 * i] + A.u8[2 * i + 1]));
    case 0x7e: /* i32x4.extadd_pairwise_i16x8_s */
        EACH(4, u32, (uint32_t)((int32_t)A.i16[2 * i] + A.i16[2 * i + 1]));
    case 0x7f: /* i32x4.extadd_pairwise_i16x8_u */
        EACH(4, u32, (uint32_t)A.u16[2 * i] + A.u16[2 * i + 1]);
    case 0x80: /* i16x8.abs */
        EACH(8, u16, (uint16_t)(A.i16[i] < 0 ? 0u - A.u16[i] : A.u16[i]));
    case 0x81: /* i16x8.neg */
        EACH(8, u16, (uint16_t)(0u - A.u16[i]));
    case 0x87: /* i16x8.extend_low_i8x16_s */
        EACH(8, u16, (uint16_t)A.i8[i]);
    case 0x88: /* i16x8.extend_high_i8x16_s */
        EACH(8, u16, (uint16_t)A.i8[i + 8]);
    case 0x89: /* i16x8.extend_low_i8x16_u */
        EACH(8, u16, A.u8[i]);
    case 0x8a: /* i16x8.extend_high_i8x16_u */
        EACH(8, u16, A.u8[i + 8]);
    case 0xa0: /* i32x4.abs */
        EACH(4, u32, A.i32[i] < 0 ? 0u - A.u32[i] : A.u32[i]);
    case 0xa1: /* i32x4.neg */
        EACH(4, u32, 0u - A.u32[i]);
    case 0xa7: /* i32x4.extend_low_i16x8_s */
        EACH(4, u32, (uint32_t)A.i16[i]);
    case 0xa8: /* i32x4.extend_high_i16x8_s */
        EACH(4, u32, (uint32_t)A.i16[i + 4]);
    case 0xa9: /* i32x4.extend_low_i16x8_u */
        EACH(4, u32, A.u16[i]);
    case 0xaa: /* i32x4.extend_high_i16x8_u */
        EACH(4, u32, A.u16[i + 4]);
    case 0xc0: /* i64x2.abs */
        EACH(2, u64, A.i64[i] < 0 ? 0u - A.u64[i] : A.u64[i]);
    case 0xc1: /* i64x2.neg */
        EACH(2, u64, 0u - A.u64[i]);
    case 0xc7: /* i64x2.extend_low_i32x4_s */
        EACH(2, u64, (uint64_t)A.i32[i]);
    case 0xc8: /* i64x2.extend_high_i32x4_s */
        EACH(2, u64, (uint64_t)A.i32[i + 2]);
    case 0xc9: /* i64x2.extend_low_i32x4_u */
        EACH(2, u64, A.u32[i]);
    case 0xca: /* i64x2.extend_high_i32x4_u */
        EACH(2, u64, A.u32[i + 2]);
    /* abs and neg only touch the sign bit, NaN payloads included */
    case 0xe0: /* f32x4.abs */
        EACH(4, u32, A.u32[i] & UINT32_C(0x7fffffff));
    case 0xe1: /* f32x4.neg */
        EACH(4, u32, A.u32[i] ^ UINT32_C(0x80000000));
    case 0xe3: /* f32x4.sqrt */
        EACH(4, f32, sqrtf(A.f32[i]));
    case 0xec: /* f64x2.abs */
        EACH(2, u64, A.u64[i] & UINT64_C(0x7fffffffffffffff));
    case 0xed: /* f64x2.neg */
        EACH(2, u64, A.u64[i] ^ UINT64_C(0x8000000000000000));
    case 0xef: /* f64x2.sqrt */
        EACH(2, f64, sqrt(A.f64[i]));
    case 0xf8: /* i32x4.trunc_sat_f32x4_s */
        EACH(4, u32, trunc_sat_s32(A.f32[i]));
    case 0xf9: /* i32x4.trunc_sat_f32x4_u */
        EACH(4, u32, trunc_sat_u32(A.f32[i]));
    case 0xfa: /* f32x4.convert_i32x4_s */
        EACH(4, f32, (float)A.i32[i]);
    case 0xfb: /* f32x4.convert_i32x4_u */
        EACH(4, f32, (float)A.u32[i]);
    case 0xfc: /* i32x4.trunc_sat_f64x2_s_zero */
        EACH(2, u32, trunc_sat_s32(A.f64[i]));
    case 0xfd: /* i32x4.trunc_sat_f64x2_u_zero */
        EACH(2, u32, trunc_sat_u32(A.f64[i]));
    case 0xfe: /* f64x2.convert_low_i32x4_s */
        EACH(2, f64, (double)A.i32[i]);
    case 0xff: /* f64x2.convert_low_i32x4_u */
        EACH(2, f64, (double)A.u32[i]);
    default:
        break;
    }
    *r = t;
}

/* ---- binary ---- */

#define CMP(N, dst, src, rel, ones) EACH(N, dst, A.src[i] rel B.src[i] ? (ones) : 0)
#define ONES8 UINT8_MAX
#define ONES16 UINT16_MAX
#define ONES32 UINT32_MAX
#define ONES64 UINT64_MAX
#define MIN(x, y) ((x) < (y) ? (x) : (y))
#define MAX(x, y) ((x) > (y) ? (x) : (y))

void fwe_simd_binary(uint32_t op, fwe_v128 *r, const fwe_v128 *a, const fwe_v128 *b)
{
    const fwe_v128 A = *a, B = *b;
    fwe_v128 t;
    memset(&t, 0, sizeof t);
    switch (op) {
    case 0x0e: /* i8x16.swizzle */
        EACH(16, u8, B.u8[i] < 16 ? A.u8[B.u8[i]] : 0);
    case 0x23: /* i8x16.eq */
        CMP(16, u8, u8, ==, ONES8);
    case 0x24: /* i8x16.ne */
        CMP(16, u8, u8, !=, ONES8);
    case 0x25: /* i8x16.lt_s */
        CMP(16, u8, i8, <, ONES8);
    case 0x26: /* i8x16.lt_u */
        CMP(16, u8, u8, <, ONES8);
    case 0x27: /* i8x16.gt_s */
        CMP(16, u8, i8, >, ONES8);
    case 0x28: /* i8x16.gt_u */
        CMP(16, u8, u8, >, ONES8);
    case 0x29: /* i8x16.le_s */
        CMP(16, u8, i8, <=, ONES8);
    case 0x2a: /* i8x16.le_u */
        CMP(16, u8, u8, <=, ONES8);
    case 0x2b: /* i8x16.ge_s */
        CMP(16, u8, i8, >=, ONES8);
    case 0x2c: /* i8x16.ge_u */
        CMP(16, u8, u8, >=, ONES8);
    case 0x2d: /* i16x8.eq */
        CMP(8, u16, u16, ==, ONES16);
    case 0x2e: /* i16x8.ne */
        CMP(8, u16, u16, !=, ONES16);
    case 0x2f: /* i16x8.lt_s */
        CMP(8, u16, i16, <, ONES16);
    case 0x30: /* i16x8.lt_u */
        CMP(8, u16, u16, <, ONES16);
    case 0x31: /* i16x8.gt_s */
        CMP(8, u16, i16, >, ONES16);
    case 0x32: /* i16x8.gt_u */
        CMP(8, u16, u16, >, ONES16);
    case 0x33: /* i16x8.le_s */
        CMP(8, u16, i16, <=, ONES16);
    case 0x34: /* i16x8.le_u */
        CMP(8, u16, u16, <=, ONES16);
    case 0x35: /* i16x8.ge_s */
        CMP(8, u16, i16, >=, ONES16);
    case 0x36: /* i16x8.ge_u */
        CMP(8, u16, u16, >=, ONES16);
    case 0x37: /* i32x4.eq */
        CMP(4, u32, u32, ==, ONES32);
    case 0x38: /* i32x4.ne */
        CMP(4, u32, u32, !=, ONES32);
    case 0x39: /* i32x4.lt_s */
        CMP(4, u32, i32, <, ONES32);
    case 0x3a: /* i32x4.lt_u */
        CMP(4, u32, u32, <, ONES32);
    case 0x3b: /* i32x4.gt_s */
        CMP(4, u32, i32, >, ONES32);
    case 0x3c: /* i32x4.gt_u */
        CMP(4, u32, u32, >, ONES32);
    case 0x3d: /* i32x4.le_s */
        CMP(4, u32, i32, <=, ONES32);
    case 0x3e: /* i32x4.le_u */
        CMP(4, u32, u32, <=, ONES32);
    case 0x3f: /* i32x4.ge_s */
        CMP(4, u32, i32, >=, ONES32);
    case 0x40: /* i32x4.ge_u */
        CMP(4, u32, u32, >=, ONES32);
    case 0x41: /* f32x4.eq */
        CMP(4, u32, f32, ==, ONES32);
    case 0x42: /* f32x4.ne */
        CMP(4, u32, f32, !=, ONES32);
    case 0x43: /* f32x4.lt */
        CMP(4, u32, f32, <, ONES32);
    case 0x44: /* f32x4.gt */
        CMP(4, u32, f32, >, ONES32);
    case 0x45: /* f32x4.le */
        CMP(4, u32, f32, <=, ONES32);
    case 0x46: /* f32x4.ge */
        CMP(4, u32, f32, >=, ONES32);
    case 0x47: /* f64x2.eq */
        CMP(2, u64, f64, ==, ONES64);
    case 0x48: /* f64x2.ne */
        CMP(2, u64, f64, !=, ONES64);
    case 0x49: /* f64x2.lt */
        CMP(2, u64, f64, <, ONES64);
    case 0x4a: /* f64x2.gt */
        CMP(2, u64, f64, >, ONES64);
    case 0x4b: /* f64x2.le */
        CMP(2, u64, f64, <=, ONES64);
    case 0x4c: /* f64x2.ge */
        CMP(2, u64, f64, >=, ONES64);
    case 0x4e: /* v128.and */
        EACH(2, u64, A.u64[i] & B.u64[i]);
    case 0x4f: /* v128.andnot */
        EACH(2, u64, A.u64[i] & ~B.u64[i]);
    case 0x50: /* v128.or */
        EACH(2, u64, A.u64[i] | B.u64[i]);
    case 0x51: /* v128.xor */
        EACH(2, u64, A.u64[i] ^ B.u64[i]);
    case 0x65: /* i8x16.narrow_i16x8_s */
        EACH(16, u8, sat_s8(i < 8 ? A.i16[i] : B.i16[i - 8]));
    case 0x66: /* i8x16.narrow_i16x8_u */
        EACH(16, u8, sat_u8(i < 8 ? A.i16[i] : B.i16[i - 8]));
    case 0x6e: /* i8x16.add */
        EACH(16, u8, (uint8_t)(A.u8[i] + B.u8[i]));
    case 0x6f: /* i8x16.add_sat_s */
        EACH(16, u8, sat_s8(A.i8[i] + B.i8[i]));
    case 0x70: /* i8x16.add_sat_u */
        EACH(16, u8, sat_u8(A.u8[i] + B.u8[i]));
    case 0x71: /* i8x16.sub */
        EACH(16, u8, (uint8_t)(A.u8[i] - B.u8[i]));
    case 0x72: /* i8x16.sub_sat_s */
        EACH(16, u8, sat_s8(A.i8[i] - B.i8[i]));
    case 0x73: /* i8x16.sub_sat_u */
        EACH(16, u8, sat_u8(A.u8[i] - B.u8[i]));
    case 0x76: /* i8x16.min_s */
        EACH(16, u8, (uint8_t)MIN(A.i8[i], B.i8[i]));
    case 0x77: /* i8x16.min_u */
        EACH(16, u8, MIN(A.u8[i], B.u8[i]));
    case 0x78: /* i8x16.max_s */
        EACH(16, u8, (uint8_t)MAX(A.i8[i], B.i8[i]));
    case 0x79: /* i8x16.max_u */
        EACH(16, u8, MAX(A.u8[i], B.u8[i]));
    case 0x7b: /* i8x16.avgr_u */
        EACH(16, u8, (uint8_t)((A.u8[i] + B.u8[i] + 1) >> 1));
    /* (a*b + 2^14) >> 15; only -32768 * -32768 overflows, and saturates to 32767 */
    case 0x82: /* i16x8.q15mulr_sat_s */
        EACH(8, u16, sat_s16(asr32((int32_t)A.i16[i] * B.i16[i] + 0x4000, 15)));
    case 0x85: /* i16x8.narrow_i32x4_s */
        EACH(8, u16, sat_s16(i < 4 ? A.i32[i] : B.i32[i - 4]));
    case 0x86: /* i16x8.narrow_i32x4_u */
        EACH(8, u16, sat_u16(i < 4 ? A.i32[i] : B.i32[i - 4]));
    case 0x8e: /* i16x8.add */
        EACH(8, u16, (uint16_t)(A.u16[i] + B.u16[i]));
    case 0x8f: /* i16x8.add_sat_s */
        EACH(8, u16, sat_s16(A.i16[i] + B.i16[i]));
    case 0x90: /* i16x8.add_sat_u */
        EACH(8, u16, sat_u16(A.u16[i] + B.u16[i]));
    case 0x91: /* i16x8.sub */
        EACH(8, u16, (uint16_t)(A.u16[i] - B.u16[i]));
    case 0x92: /* i16x8.sub_sat_s */
        EACH(8, u16, sat_s16(A.i16[i] - B.i16[i]));
    case 0x93: /* i16x8.sub_sat_u */
        EACH(8, u16, sat_u16(A.u16[i] - B.u16[i]));
    case 0x95: /* i16x8.mul */
        EACH(8, u16, (uint16_t)((uint32_t)A.u16[i] * B.u16[i]));
    case 0x96: /* i16x8.min_s */
        EACH(8, u16, (uint16_t)MIN(A.i16[i], B.i16[i]));
    case 0x97: /* i16x8.min_u */
        EACH(8, u16, MIN(A.u16[i], B.u16[i]));
    case 0x98: /* i16x8.max_s */
        EACH(8, u16, (uint16_t)MAX(A.i16[i], B.i16[i]));
    case 0x99: /* i16x8.max_u */
        EACH(8, u16, MAX(A.u16[i], B.u16[i]));
    case 0x9b: /* i16x8.avgr_u */
        EACH(8, u16, (uint16_t)(((uint32_t)A.u16[i] + B.u16[i] + 1) >> 1));
    case 0x9c: /* i16x8.extmul_low_i8x16_s */
        EACH(8, u16, (uint16_t)(A.i8[i] * B.i8[i]));
    case 0x9d: /* i16x8.extmul_high_i8x16_s */
        EACH(8, u16, (uint16_t)(A.i8[i + 8] * B.i8[i + 8]));
    case 0x9e: /* i16x8.extmul_low_i8x16_u */
        EACH(8, u16, (uint16_t)(A.u8[i] * B.u8[i]));
    case 0x9f: /* i16x8.extmul_high_i8x16_u */
        EACH(8, u16, (uint16_t)(A.u8[i + 8] * B.u8[i + 8]));
    case 0xae: /* i32x4.add */
        EACH(4, u32, A.u32[i] + B.u32[i]);
    case 0xb1: /* i32x4.sub */
        EACH(4, u32, A.u32[i] - B.u32[i]);
    case 0xb5: /* i32x4.mul */
        EACH(4, u32, A.u32[i] * B.u32[i]);
    case 0xb6: /* i32x4.min_s */
        EACH(4, u32, (uint32_t)MIN(A.i32[i], B.i32[i]));
    case 0xb7: /* i32x4.min_u */
        EACH(4, u32, MIN(A.u32[i], B.u32[i]));
    case 0xb8: /* i32x4.max_s */
        EACH(4, u32, (uint32_t)MAX(A.i32[i], B.i32[i]));
    case 0xb9: /* i32x4.max_u */
        EACH(4, u32, MAX(A.u32[i], B.u32[i]));
    case 0xba: /* i32x4.dot_i16x8_s: the sum can be 2^31 (both pairs -32768 * -32768); it wraps */
        EACH(4, u32,
             (uint32_t)((int64_t)A.i16[2 * i] * B.i16[2 * i] +
                        (int64_t)A.i16[2 * i + 1] * B.i16[2 * i + 1]));
    case 0xbc: /* i32x4.extmul_low_i16x8_s */
        EACH(4, u32, (uint32_t)((int32_t)A.i16[i] * B.i16[i]));
    case 0xbd: /* i32x4.extmul_high_i16x8_s */
        EACH(4, u32, (uint32_t)((int32_t)A.i16[i + 4] * B.i16[i + 4]));
    case 0xbe: /* i32x4.extmul_low_i16x8_u */
        EACH(4, u32, (uint32_t)A.u16[i] * B.u16[i]);
    case 0xbf: /* i32x4.extmul_high_i16x8_u */
        EACH(4, u32, (uint32_t)A.u16[i + 4] * B.u16[i + 4]);
    case 0xce: /* i64x2.add */
        EACH(2, u64, A.u64[i] + B.u64[i]);
    case 0xd1: /* i64x2.sub */
        EACH(2, u64, A.u64[i] - B.u64[i]);
    case 0xd5: /* i64x2.mul */
        EACH(2, u64, A.u64[i] * B.u64[i]);
    case 0xd6: /* i64x2.eq */
        CMP(2, u64, u64, ==, ONES64);
    case 0xd7: /* i64x2.ne */
        CMP(2, u64, u64, !=, ONES64);
    case 0xd8: /* i64x2.lt_s */
        CMP(2, u64, i64, <, ONES64);
    case 0xd9: /* i64x2.gt_s */
        CMP(2, u64, i64, >, ONES64);
    case 0xda: /* i64x2.le_s */
        CMP(2, u64, i64, <=, ONES64);
    case 0xdb: /* i64x2.ge_s */
        CMP(2, u64, i64, >=, ONES64);
    case 0xdc: /* i64x2.extmul_low_i32x4_s */
        EACH(2, u64, (uint64_t)((int64_t)A.i32[i] * B.i32[i]));
    case 0xdd: /* i64x2.extmul_high_i32x4_s */
        EACH(2, u64, (uint64_t)((int64_t)A.i32[i + 2] * B.i32[i + 2]));
    case 0xde: /* i64x2.extmul_low_i32x4_u */
        EACH(2, u64, (uint64_t)A.u32[i] * B.u32[i]);
    case 0xdf: /* i64x2.extmul_high_i32x4_u */
        EACH(2, u64, (uint64_t)A.u32[i + 2] * B.u32[i + 2]);
    case 0xe4: /* f32x4.add */
        EACH(4, f32, A.f32[i] + B.f32[i]);
    case 0xe5: /* f32x4.sub */
        EACH(4, f32, A.f32[i] - B.f32[i]);
    case 0xe6: /* f32x4.mul */
        EACH(4, f32, A.f32[i] * B.f32[i]);
    case 0xe7: /* f32x4.div */
        EACH(4, f32, A.f32[i] / B.f32[i]);
    case 0xe8: /* f32x4.min */
        EACH(4, u32, f32_min(A.f32[i], B.f32[i], A.u32[i], B.u32[i]));
    case 0xe9: /* f32x4.max */
        EACH(4, u32, f32_max(A.f32[i], B.f32[i], A.u32[i], B.u32[i]));
    /* pmin/pmax select whole lanes by bits, so NaN operands pass through unchanged */
    case 0xea: /* f32x4.pmin */
        EACH(4, u32, B.f32[i] < A.f32[i] ? B.u32[i] : A.u32[i]);
    case 0xeb: /* f32x4.pmax */
        EACH(4, u32, A.f32[i] < B.f32[i] ? B.u32[i] : A.u32[i]);
    case 0xf0: /* f64x2.add */
        EACH(2, f64, A.f64[i] + B.f64[i]);
    case 0xf1: /* f64x2.sub */
        EACH(2, f64, A.f64[i] - B.f64[i]);
    case 0xf2: /* f64x2.mul */
        EACH(2, f64, A.f64[i] * B.f64[i]);
    case 0xf3: /* f64x2.div */
        EACH(2, f64, A.f64[i] / B.f64[i]);
    case 0xf4: /* f64x2.min */
        EACH(2, u64, f64_min(A.f64[i], B.f64[i], A.u64[i], B.u64[i]));
    case 0xf5: /* f64x2.max */
        EACH(2, u64, f64_max(A.f64[i], B.f64[i], A.u64[i], B.u64[i]));
    case 0xf6: /* f64x2.pmin */
        EACH(2, u64, B.f64[i] < A.f64[i] ? B.u64[i] : A.u64[i]);
    case 0xf7: /* f64x2.pmax */
        EACH(2, u64, A.f64[i] < B.f64[i] ? B.u64[i] : A.u64[i]);
    default:
        break;
    }
    *r = t;
}

/* ---- ternary, tests, shifts ---- */

void fwe_simd_ternary(uint32_t op, fwe_v128 *r, const fwe_v128 *a, const fwe_v128 *b,
                      const fwe_v128 *c)
{
    fwe_v128 t;
    (void)op; /* v128.bitselect is the only ternary operation */
    for (unsigned i = 0; i < 2; i++)
        t.u64[i] = (a->u64[i] & c->u64[i]) | (b->u64[i] & ~c->u64[i]);
    *r = t;
}

uint32_t fwe_simd_test(uint32_t op, const fwe_v128 *a)
{
    uint32_t m = 0;
    switch (op) {
    case 0x53: /* v128.any_true */
        return (a->u64[0] | a->u64[1]) != 0;
    case 0x63: /* i8x16.all_true */
        for (unsigned i = 0; i < 16; i++)
            if (a->u8[i] == 0)
                return 0;
        return 1;
    case 0x83: /* i16x8.all_true */
        for (unsigned i = 0; i < 8; i++)
            if (a->u16[i] == 0)
                return 0;
        return 1;
    case 0xa3: /* i32x4.all_true */
        for (unsigned i = 0; i < 4; i++)
            if (a->u32[i] == 0)
                return 0;
        return 1;
    case 0xc3: /* i64x2.all_true */
        return a->u64[0] != 0 && a->u64[1] != 0;
    case 0x64: /* i8x16.bitmask */
        for (unsigned i = 0; i < 16; i++)
            m |= (uint32_t)(a->u8[i] >> 7) << i;
        return m;
    case 0x84: /* i16x8.bitmask */
        for (unsigned i = 0; i < 8; i++)
            m |= (uint32_t)(a->u16[i] >> 15) << i;
        return m;
    case 0xa4: /* i32x4.bitmask */
        for (unsigned i = 0; i < 4; i++)
            m |= (a->u32[i] >> 31) << i;
        return m;
    case 0xc4: /* i64x2.bitmask */
        return (uint32_t)(a->u64[0] >> 63) | (uint32_t)(a->u64[1] >> 63) << 1;
    default:
        return 0;
    }
}

void fwe_simd_shift(uint32_t op, fwe_v128 *r, const fwe_v128 *a, uint32_t count)
{
    const fwe_v128 A = *a;
    fwe_v128 t;
    memset(&t, 0, sizeof t);
    /* the count is taken modulo the lane width */
    unsigned s8 = count & 7, s16 = count & 15, s32 = count & 31, s64 = count & 63;
    switch (op) {
    case 0x6b: /* i8x16.shl */
        EACH(16, u8, (uint8_t)(A.u8[i] << s8));
    case 0x6c: /* i8x16.shr_s */
        EACH(16, u8, (uint8_t)asr32(A.i8[i], s8));
    case 0x6d: /* i8x16.shr_u */
        EACH(16, u8, (uint8_t)(A.u8[i] >> s8));
    case 0x8b: /* i16x8.shl */
        EACH(8, u16, (uint16_t)((uint32_t)A.u16[i] << s16));
    case 0x8c: /* i16x8.shr_s */
        EACH(8, u16, (uint16_t)asr32(A.i16[i], s16));
    case 0x8d: /* i16x8.shr_u */
        EACH(8, u16, (uint16_t)(A.u16[i] >> s16));
    case 0xab: /* i32x4.shl */
        EACH(4, u32, A.u32[i] << s32);
    case 0xac: /* i32x4.shr_s */
        EACH(4, u32, (uint32_t)asr32(A.i32[i], s32));
    case 0xad: /* i32x4.shr_u */
        EACH(4, u32, A.u32[i] >> s32);
    case 0xcb: /* i64x2.shl */
        EACH(2, u64, A.u64[i] << s64);
    case 0xcc: /* i64x2.shr_s */
        EACH(2, u64, (uint64_t)asr64(A.i64[i], s64));
    case 0xcd: /* i64x2.shr_u */
        EACH(2, u64, A.u64[i] >> s64);
    default:
        break;
    }
    *r = t;
}

/* ---- lanes, splat, shuffle ---- */

void fwe_simd_splat(uint32_t op, fwe_v128 *r, uint64_t scalar)
{
    fwe_v128 t;
    switch (op) {
    case 0x0f: /* i8x16.splat */
        memset(t.u8, (uint8_t)scalar, sizeof t.u8);
        break;
    case 0x10: /* i16x8.splat */
        EACH(8, u16, (uint16_t)scalar);
    case 0x11: /* i32x4.splat; i32 and f32 raw bits alike */
    case 0x13: /* f32x4.splat */
        EACH(4, u32, (uint32_t)scalar);
    case 0x12: /* i64x2.splat */
    case 0x14: /* f64x2.splat */
        EACH(2, u64, scalar);
    default:
        memset(&t, 0, sizeof t);
        break;
    }
    *r = t;
}

uint64_t fwe_simd_extract_lane(uint32_t op, const fwe_v128 *a, uint32_t lane)
{
    /* i32 results are returned zero-extended to 64 bits */
    switch (op) {
    case 0x15: /* i8x16.extract_lane_s */
        return (uint32_t)(int32_t)a->i8[lane & 15];
    case 0x16: /* i8x16.extract_lane_u */
        return a->u8[lane & 15];
    case 0x18: /* i16x8.extract_lane_s */
        return (uint32_t)(int32_t)a->i16[lane & 7];
    case 0x19: /* i16x8.extract_lane_u */
        return a->u16[lane & 7];
    case 0x1b: /* i32x4.extract_lane */
    case 0x1f: /* f32x4.extract_lane */
        return a->u32[lane & 3];
    case 0x1d: /* i64x2.extract_lane */
    case 0x21: /* f64x2.extract_lane */
        return a->u64[lane & 1];
    default:
        return 0;
    }
}

void fwe_simd_replace_lane(uint32_t op, fwe_v128 *r, const fwe_v128 *a, uint32_t lane,
                           uint64_t scalar)
{
    fwe_v128 t = *a;
    /* lanes are validated; masking only keeps a bad caller inside the value */
    switch (op) {
    case 0x17: /* i8x16.replace_lane */
        t.u8[lane & 15] = (uint8_t)scalar;
        break;
    case 0x1a: /* i16x8.replace_lane */
        t.u16[lane & 7] = (uint16_t)scalar;
        break;
    case 0x1c: /* i32x4.replace_lane */
    case 0x20: /* f32x4.replace_lane */
        t.u32[lane & 3] = (uint32_t)scalar;
        break;
    case 0x1e: /* i64x2.replace_lane */
    case 0x22: /* f64x2.replace_lane */
        t.u64[lane & 1] = scalar;
        break;
    default:
        break;
    }
    *r = t;
}

void fwe_simd_shuffle(fwe_v128 *r, const fwe_v128 *a, const fwe_v128 *b, const uint8_t lanes[16])
{
    uint8_t both[32];
    fwe_v128 t;
    memcpy(both, a->u8, 16);
    memcpy(both + 16, b->u8, 16);
    for (unsigned i = 0; i < 16; i++)
        t.u8[i] = both[lanes[i] & 31];
    *r = t;
}

/* ---- memory ---- */

void fwe_simd_load(uint32_t op, fwe_v128 *r, const uint8_t *mem)
{
    fwe_v128 s, t;
    memset(&t, 0, sizeof t);
    switch (op) {
    case 0x00: /* v128.load */
        memcpy(t.u8, mem, 16);
        break;
    case 0x01: /* v128.load8x8_s */
        memcpy(s.u8, mem, 8);
        EACH(8, u16, (uint16_t)s.i8[i]);
    case 0x02: /* v128.load8x8_u */
        memcpy(s.u8, mem, 8);
        EACH(8, u16, s.u8[i]);
    case 0x03: /* v128.load16x4_s */
        memcpy(s.u8, mem, 8);
        EACH(4, u32, (uint32_t)s.i16[i]);
    case 0x04: /* v128.load16x4_u */
        memcpy(s.u8, mem, 8);
        EACH(4, u32, s.u16[i]);
    case 0x05: /* v128.load32x2_s */
        memcpy(s.u8, mem, 8);
        EACH(2, u64, (uint64_t)s.i32[i]);
    case 0x06: /* v128.load32x2_u */
        memcpy(s.u8, mem, 8);
        EACH(2, u64, s.u32[i]);
    case 0x07: /* v128.load8_splat */
        memset(t.u8, mem[0], 16);
        break;
    case 0x08: /* v128.load16_splat */
        memcpy(s.u8, mem, 2);
        EACH(8, u16, s.u16[0]);
    case 0x09: /* v128.load32_splat */
        memcpy(s.u8, mem, 4);
        EACH(4, u32, s.u32[0]);
    case 0x0a: /* v128.load64_splat */
        memcpy(s.u8, mem, 8);
        EACH(2, u64, s.u64[0]);
    case 0x5c: /* v128.load32_zero */
        memcpy(t.u8, mem, 4);
        break;
    case 0x5d: /* v128.load64_zero */
        memcpy(t.u8, mem, 8);
        break;
    default:
        break;
    }
    *r = t;
}

/* Bytes moved by the lane memory ops 0x54..0x5b: 1, 2, 4, 8, then the same for the stores. */
static inline unsigned lane_bytes(uint32_t op)
{
    return 1u << ((op - 0x54) & 3);
}

void fwe_simd_load_lane(uint32_t op, fwe_v128 *r, const fwe_v128 *a, uint32_t lane,
                        const uint8_t *mem)
{
    fwe_v128 t = *a;
    unsigned n = lane_bytes(op);
    memcpy(&t.u8[(lane * n) & (16 - n)], mem, n);
    *r = t;
}

void fwe_simd_store_lane(uint32_t op, uint8_t *mem, const fwe_v128 *a, uint32_t lane)
{
    unsigned n = lane_bytes(op);
    memcpy(mem, &a->u8[(lane * n) & (16 - n)], n);
}
