/* test_simd.c: unit tests for src/engine/simd.c: opcode table completeness and fields, and the
 * edge cases of the lane semantics (saturation, NaN, signed zero, shift counts, narrowing,
 * q15mulr, dot, bitmask, trunc_sat, rounding), loads and lane memory ops, aliasing. */
#include <math.h>
#include <string.h>

#include "fwe.h"
#include "harness.h"
#include "simd.h"

/* Opcodes used below (numbers from the binary format). */
enum {
    OP_LOAD = 0x00,
    OP_LOAD8X8_S = 0x01,
    OP_LOAD16X4_U = 0x04,
    OP_LOAD32X2_S = 0x05,
    OP_LOAD8_SPLAT = 0x07,
    OP_LOAD16_SPLAT = 0x08,
    OP_LOAD64_SPLAT = 0x0a,
    OP_STORE = 0x0b,
    OP_SHUFFLE = 0x0d,
    OP_SWIZZLE = 0x0e,
    OP_I8_SPLAT = 0x0f,
    OP_I16_SPLAT = 0x10,
    OP_I64_SPLAT = 0x12,
    OP_F32_SPLAT = 0x13,
    OP_I8_EXTRACT_S = 0x15,
    OP_I8_EXTRACT_U = 0x16,
    OP_I8_REPLACE = 0x17,
    OP_I16_EXTRACT_S = 0x18,
    OP_I64_EXTRACT = 0x1d,
    OP_F64_REPLACE = 0x22,
    OP_I8_LT_S = 0x25,
    OP_I8_LT_U = 0x26,
    OP_F32_EQ = 0x41,
    OP_F32_NE = 0x42,
    OP_F64_LT = 0x49,
    OP_NOT = 0x4d,
    OP_ANDNOT = 0x4f,
    OP_BITSELECT = 0x52,
    OP_ANY_TRUE = 0x53,
    OP_LOAD8_LANE = 0x54,
    OP_LOAD64_LANE = 0x57,
    OP_STORE16_LANE = 0x59,
    OP_STORE64_LANE = 0x5b,
    OP_LOAD32_ZERO = 0x5c,
    OP_LOAD64_ZERO = 0x5d,
    OP_DEMOTE = 0x5e,
    OP_PROMOTE = 0x5f,
    OP_I8_ABS = 0x60,
    OP_I8_NEG = 0x61,
    OP_I8_POPCNT = 0x62,
    OP_I8_ALL_TRUE = 0x63,
    OP_I8_BITMASK = 0x64,
    OP_I8_NARROW_S = 0x65,
    OP_I8_NARROW_U = 0x66,
    OP_F32_CEIL = 0x67,
    OP_F32_NEAREST = 0x6a,
    OP_I8_SHL = 0x6b,
    OP_I8_SHR_S = 0x6c,
    OP_I8_SHR_U = 0x6d,
    OP_I8_ADD_SAT_S = 0x6f,
    OP_I8_ADD_SAT_U = 0x70,
    OP_I8_SUB_SAT_S = 0x72,
    OP_I8_SUB_SAT_U = 0x73,
    OP_I8_AVGR_U = 0x7b,
    OP_I16_EXTADD_S = 0x7c,
    OP_I32_EXTADD_U = 0x7f,
    OP_I16_Q15MULR = 0x82,
    OP_I16_ALL_TRUE = 0x83,
    OP_I16_BITMASK = 0x84,
    OP_I16_NARROW_S = 0x85,
    OP_I16_NARROW_U = 0x86,
    OP_I16_EXTEND_HIGH_S = 0x88,
    OP_I16_SHR_S = 0x8c,
    OP_I16_ADD_SAT_S = 0x8f,
    OP_I16_SUB_SAT_U = 0x93,
    OP_F64_NEAREST = 0x94,
    OP_I16_MUL = 0x95,
    OP_I16_MAX_U = 0x99,
    OP_I16_EXTMUL_LOW_U = 0x9e,
    OP_I32_ABS = 0xa0,
    OP_I32_BITMASK = 0xa4,
    OP_I32_SHL = 0xab,
    OP_I32_SHR_U = 0xad,
    OP_I32_MIN_S = 0xb6,
    OP_I32_DOT = 0xba,
    OP_I64_ABS = 0xc0,
    OP_I64_ALL_TRUE = 0xc3,
    OP_I64_BITMASK = 0xc4,
    OP_I64_SHR_S = 0xcc,
    OP_I64_MUL = 0xd5,
    OP_I64_LT_S = 0xd8,
    OP_I64_EXTMUL_HIGH_S = 0xdd,
    OP_F32_ABS = 0xe0,
    OP_F32_NEG = 0xe1,
    OP_F32_DIV = 0xe7,
    OP_F32_MIN = 0xe8,
    OP_F32_MAX = 0xe9,
    OP_F32_PMIN = 0xea,
    OP_F32_PMAX = 0xeb,
    OP_F64_MIN = 0xf4,
    OP_F64_MAX = 0xf5,
    OP_F64_PMIN = 0xf6,
    OP_TRUNC_SAT_F32_S = 0xf8,
    OP_TRUNC_SAT_F32_U = 0xf9,
    OP_CONVERT_I32_U = 0xfb,
    OP_TRUNC_SAT_F64_S_ZERO = 0xfc,
    OP_TRUNC_SAT_F64_U_ZERO = 0xfd,
    OP_CONVERT_LOW_U = 0xff,
};

#define F32_QNAN UINT32_C(0x7fc00000)
#define F32_NEG_ZERO UINT32_C(0x80000000)
#define F64_NEG_ZERO UINT64_C(0x8000000000000000)

static bool f32_bits_is_nan(uint32_t b)
{
    return (b & 0x7f800000u) == 0x7f800000u && (b & 0x007fffffu);
}
static bool f32_bits_is_quiet_nan(uint32_t b)
{
    return f32_bits_is_nan(b) && (b & 0x00400000u);
}
static bool f64_bits_is_quiet_nan(uint64_t b)
{
    return (b & UINT64_C(0x7ff0000000000000)) == UINT64_C(0x7ff0000000000000) &&
           (b & UINT64_C(0x0008000000000000));
}

static fwe_v128 i8s(const int8_t v[16])
{
    fwe_v128 r;
    memcpy(r.i8, v, 16);
    return r;
}
static fwe_v128 i16s(int16_t a, int16_t b, int16_t c, int16_t d, int16_t e, int16_t f, int16_t g,
                     int16_t h)
{
    fwe_v128 r;
    r.i16[0] = a, r.i16[1] = b, r.i16[2] = c, r.i16[3] = d;
    r.i16[4] = e, r.i16[5] = f, r.i16[6] = g, r.i16[7] = h;
    return r;
}
static fwe_v128 i32s(int32_t a, int32_t b, int32_t c, int32_t d)
{
    fwe_v128 r;
    r.i32[0] = a, r.i32[1] = b, r.i32[2] = c, r.i32[3] = d;
    return r;
}
static fwe_v128 u32s(uint32_t a, uint32_t b, uint32_t c, uint32_t d)
{
    fwe_v128 r;
    r.u32[0] = a, r.u32[1] = b, r.u32[2] = c, r.u32[3] = d;
    return r;
}
static fwe_v128 f32s(float a, float b, float c, float d)
{
    fwe_v128 r;
    r.f32[0] = a, r.f32[1] = b, r.f32[2] = c, r.f32[3] = d;
    return r;
}
static fwe_v128 f64s(double a, double b)
{
    fwe_v128 r;
    r.f64[0] = a, r.f64[1] = b;
    return r;
}
static fwe_v128 u64s(uint64_t a, uint64_t b)
{
    fwe_v128 r;
    r.u64[0] = a, r.u64[1] = b;
    return r;
}

TEST(lookup_table_complete)
{
    /* Wasm 2.0 defines 236 fixed-width SIMD opcodes in 0x00..0xff. */
    static const uint32_t gaps[] = {0x9a, 0xa2, 0xa5, 0xa6, 0xaf, 0xb0, 0xb2, 0xb3, 0xb4, 0xbb,
                                    0xc2, 0xc5, 0xc6, 0xcf, 0xd0, 0xd2, 0xd3, 0xd4, 0xe2, 0xee};
    const char *names[256];
    int count = 0;
    for (uint32_t op = 0; op < 256; op++) {
        fwe_simd_info in;
        if (!fwe_simd_lookup(op, &in))
            continue;
        CHECK(in.name != NULL && strchr(in.name, '.') != NULL);
        CHECK(in.kind <= FWE_SIMD_SHIFT);
        names[count++] = in.name;
    }
    CHECK_EQ_INT(count, 236);
    for (int i = 0; i < count; i++)
        for (int j = i + 1; j < count; j++)
            CHECK(strcmp(names[i], names[j]) != 0);
    for (size_t i = 0; i < sizeof gaps / sizeof gaps[0]; i++)
        CHECK(!fwe_simd_lookup(gaps[i], NULL));
    /* relaxed SIMD (0x100..) is not Wasm 2.0; nor is anything bigger */
    fwe_simd_info in;
    CHECK(!fwe_simd_lookup(0x100, &in));
    CHECK(!fwe_simd_lookup(0x113, &in));
    CHECK(!fwe_simd_lookup(UINT32_MAX, &in));
}

static void check_info(uint32_t op, fwe_simd_kind kind, uint8_t scalar, uint8_t lanes, uint8_t mem,
                       const char *name)
{
    fwe_simd_info in;
    memset(&in, 0xee, sizeof in);
    CHECK(fwe_simd_lookup(op, &in));
    CHECK_EQ_INT(in.kind, kind);
    if (kind == FWE_SIMD_SPLAT || kind == FWE_SIMD_EXTRACT_LANE || kind == FWE_SIMD_REPLACE_LANE)
        CHECK_EQ_INT(in.scalar, scalar);
    if (lanes)
        CHECK_EQ_INT(in.lanes, lanes);
    CHECK_EQ_INT(in.mem_bytes, mem);
    CHECK_STR_EQ(in.name, name);
}

TEST(lookup_fields)
{
    check_info(0x00, FWE_SIMD_LOAD, 0, 0, 16, "v128.load");
    check_info(0x01, FWE_SIMD_LOAD, 0, 0, 8, "v128.load8x8_s");
    check_info(0x06, FWE_SIMD_LOAD, 0, 0, 8, "v128.load32x2_u");
    check_info(0x07, FWE_SIMD_LOAD, 0, 0, 1, "v128.load8_splat");
    check_info(0x08, FWE_SIMD_LOAD, 0, 0, 2, "v128.load16_splat");
    check_info(0x09, FWE_SIMD_LOAD, 0, 0, 4, "v128.load32_splat");
    check_info(0x0a, FWE_SIMD_LOAD, 0, 0, 8, "v128.load64_splat");
    check_info(0x0b, FWE_SIMD_STORE, 0, 0, 16, "v128.store");
    check_info(0x0c, FWE_SIMD_CONST, 0, 0, 0, "v128.const");
    check_info(0x0d, FWE_SIMD_SHUFFLE, 0, 32, 0, "i8x16.shuffle");
    check_info(0x0e, FWE_SIMD_BINARY, 0, 0, 0, "i8x16.swizzle");
    check_info(0x0f, FWE_SIMD_SPLAT, FWE_I32, 16, 0, "i8x16.splat");
    check_info(0x12, FWE_SIMD_SPLAT, FWE_I64, 2, 0, "i64x2.splat");
    check_info(0x13, FWE_SIMD_SPLAT, FWE_F32, 4, 0, "f32x4.splat");
    check_info(0x14, FWE_SIMD_SPLAT, FWE_F64, 2, 0, "f64x2.splat");
    check_info(0x15, FWE_SIMD_EXTRACT_LANE, FWE_I32, 16, 0, "i8x16.extract_lane_s");
    check_info(0x1a, FWE_SIMD_REPLACE_LANE, FWE_I32, 8, 0, "i16x8.replace_lane");
    check_info(0x1d, FWE_SIMD_EXTRACT_LANE, FWE_I64, 2, 0, "i64x2.extract_lane");
    check_info(0x20, FWE_SIMD_REPLACE_LANE, FWE_F32, 4, 0, "f32x4.replace_lane");
    check_info(0x21, FWE_SIMD_EXTRACT_LANE, FWE_F64, 2, 0, "f64x2.extract_lane");
    check_info(0x4c, FWE_SIMD_BINARY, 0, 0, 0, "f64x2.ge");
    check_info(0x4d, FWE_SIMD_UNARY, 0, 0, 0, "v128.not");
    check_info(0x52, FWE_SIMD_TERNARY, 0, 0, 0, "v128.bitselect");
    check_info(0x53, FWE_SIMD_TEST, 0, 0, 0, "v128.any_true");
    check_info(0x54, FWE_SIMD_LOAD_LANE, 0, 16, 1, "v128.load8_lane");
    check_info(0x57, FWE_SIMD_LOAD_LANE, 0, 2, 8, "v128.load64_lane");
    check_info(0x59, FWE_SIMD_STORE_LANE, 0, 8, 2, "v128.store16_lane");
    check_info(0x5a, FWE_SIMD_STORE_LANE, 0, 4, 4, "v128.store32_lane");
    check_info(0x5c, FWE_SIMD_LOAD, 0, 0, 4, "v128.load32_zero");
    check_info(0x5d, FWE_SIMD_LOAD, 0, 0, 8, "v128.load64_zero");
    check_info(0x5e, FWE_SIMD_UNARY, 0, 0, 0, "f32x4.demote_f64x2_zero");
    check_info(0x64, FWE_SIMD_TEST, 0, 0, 0, "i8x16.bitmask");
    check_info(0x6a, FWE_SIMD_UNARY, 0, 0, 0, "f32x4.nearest");
    check_info(0x6b, FWE_SIMD_SHIFT, 0, 0, 0, "i8x16.shl");
    check_info(0x82, FWE_SIMD_BINARY, 0, 0, 0, "i16x8.q15mulr_sat_s");
    check_info(0x94, FWE_SIMD_UNARY, 0, 0, 0, "f64x2.nearest");
    check_info(0xba, FWE_SIMD_BINARY, 0, 0, 0, "i32x4.dot_i16x8_s");
    check_info(0xc3, FWE_SIMD_TEST, 0, 0, 0, "i64x2.all_true");
    check_info(0xcd, FWE_SIMD_SHIFT, 0, 0, 0, "i64x2.shr_u");
    check_info(0xdf, FWE_SIMD_BINARY, 0, 0, 0, "i64x2.extmul_high_i32x4_u");
    check_info(0xeb, FWE_SIMD_BINARY, 0, 0, 0, "f32x4.pmax");
    check_info(0xfc, FWE_SIMD_UNARY, 0, 0, 0, "i32x4.trunc_sat_f64x2_s_zero");
    check_info(0xff, FWE_SIMD_UNARY, 0, 0, 0, "f64x2.convert_low_i32x4_u");
    /* every lane memory op covers exactly the vector */
    for (uint32_t op = 0x54; op <= 0x5b; op++) {
        fwe_simd_info in;
        CHECK(fwe_simd_lookup(op, &in));
        CHECK_EQ_INT(in.lanes * in.mem_bytes, 16);
    }
}

TEST(int_saturation)
{
    fwe_v128 r;
    const int8_t a8[16] = {127, -128, 100, -100, 1, -1, 0, 0, 127, -128, 0, 0, 0, 0, 0, 0};
    const int8_t b8[16] = {1, -1, 100, -100, 1, -1, 0, 0, -128, 127, 0, 0, 0, 0, 0, 0};
    fwe_v128 a = i8s(a8), b = i8s(b8);
    fwe_simd_binary(OP_I8_ADD_SAT_S, &r, &a, &b);
    CHECK_EQ_INT(r.i8[0], 127);
    CHECK_EQ_INT(r.i8[1], -128);
    CHECK_EQ_INT(r.i8[2], 127);
    CHECK_EQ_INT(r.i8[3], -128);
    CHECK_EQ_INT(r.i8[4], 2);
    CHECK_EQ_INT(r.i8[8], -1);
    fwe_simd_binary(OP_I8_SUB_SAT_S, &r, &a, &b);
    CHECK_EQ_INT(r.i8[0], 126);
    CHECK_EQ_INT(r.i8[8], 127);
    CHECK_EQ_INT(r.i8[9], -128);
    fwe_simd_binary(OP_I8_ADD_SAT_U, &r, &a, &b); /* 0x7f + 0x01, 0x80 + 0xff */
    CHECK_EQ_INT(r.u8[0], 128);
    CHECK_EQ_INT(r.u8[1], 255);
    fwe_simd_binary(OP_I8_SUB_SAT_U, &r, &b, &a); /* 0x01 - 0x7f, 0xff - 0x80 */
    CHECK_EQ_INT(r.u8[0], 0);
    CHECK_EQ_INT(r.u8[1], 127);

    fwe_v128 x = i16s(32767, -32768, 1000, 0, 0, 0, 0, 0), y = i16s(1, -1, -2000, 0, 0, 0, 0, 0);
    fwe_simd_binary(OP_I16_ADD_SAT_S, &r, &x, &y);
    CHECK_EQ_INT(r.i16[0], 32767);
    CHECK_EQ_INT(r.i16[1], -32768);
    CHECK_EQ_INT(r.i16[2], -1000);
    fwe_simd_binary(OP_I16_SUB_SAT_U, &r, &y, &x); /* 1 - 32767 -> 0; 0xffff - 0x8000 */
    CHECK_EQ_INT(r.u16[0], 0);
    CHECK_EQ_INT(r.u16[1], 0x7fff);
}

TEST(int_arith_wrapping)
{
    fwe_v128 r;
    const int8_t a8[16] = {-128, 127, -1, 0, 5, -5, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
    fwe_v128 a = i8s(a8);
    fwe_simd_unary(OP_I8_ABS, &r, &a);
    CHECK_EQ_INT(r.i8[0], -128); /* abs(-128) wraps */
    CHECK_EQ_INT(r.i8[2], 1);
    CHECK_EQ_INT(r.i8[5], 5);
    fwe_simd_unary(OP_I8_NEG, &r, &a);
    CHECK_EQ_INT(r.i8[0], -128);
    CHECK_EQ_INT(r.i8[1], -127);
    fwe_simd_unary(OP_I8_POPCNT, &r, &a);
    CHECK_EQ_INT(r.u8[0], 1);
    CHECK_EQ_INT(r.u8[1], 7);
    CHECK_EQ_INT(r.u8[2], 8);
    CHECK_EQ_INT(r.u8[3], 0);

    fwe_v128 m = i32s(INT32_MIN, -7, 7, 0);
    fwe_simd_unary(OP_I32_ABS, &r, &m);
    CHECK_EQ_U64(r.u32[0], 0x80000000u);
    CHECK_EQ_INT(r.i32[1], 7);
    fwe_v128 m64 = u64s(UINT64_C(0x8000000000000000), (uint64_t)-3);
    fwe_simd_unary(OP_I64_ABS, &r, &m64);
    CHECK_EQ_U64(r.u64[0], UINT64_C(0x8000000000000000));
    CHECK_EQ_U64(r.u64[1], 3);

    fwe_v128 h = i16s(-1, 300, 2, 0, 0, 0, 0, 0);
    fwe_simd_binary(OP_I16_MUL, &r, &h, &h);
    CHECK_EQ_INT(r.i16[0], 1);
    CHECK_EQ_U64(r.u16[1], (300 * 300) & 0xffff);
    fwe_v128 big = u64s(UINT64_MAX, UINT64_C(0x100000001));
    fwe_simd_binary(OP_I64_MUL, &r, &big, &big);
    CHECK_EQ_U64(r.u64[0], 1);
    CHECK_EQ_U64(r.u64[1], UINT64_C(0x200000001));

    const int8_t s8[16] = {(int8_t)0xff, (int8_t)0xff, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
    fwe_v128 s = i8s(s8);
    fwe_simd_binary(OP_I8_AVGR_U, &r, &s,
                    &a); /* (255+128+1)/2, (255+127+1)/2, (0+255+1)/2, (1+0+1)/2 */
    CHECK_EQ_INT(r.u8[0], 192);
    CHECK_EQ_INT(r.u8[1], 191);
    CHECK_EQ_INT(r.u8[2], 128);
    CHECK_EQ_INT(r.u8[3], 1);
    fwe_simd_binary(OP_I8_AVGR_U, &r, &s, &s);
    CHECK_EQ_INT(r.u8[0], 255);

    fwe_v128 lo = i32s(-1, 5, INT32_MIN, 0), hi = i32s(1, 5, INT32_MAX, -1);
    fwe_simd_binary(OP_I32_MIN_S, &r, &lo, &hi);
    CHECK_EQ_INT(r.i32[0], -1);
    CHECK_EQ_INT(r.i32[2], INT32_MIN);
    CHECK_EQ_INT(r.i32[3], -1);
    fwe_v128 u = i16s(-1, 1, 0, 0, 0, 0, 0, 0), v = i16s(1, -1, 0, 0, 0, 0, 0, 0);
    fwe_simd_binary(OP_I16_MAX_U, &r, &u, &v);
    CHECK_EQ_U64(r.u16[0], 0xffff);
    CHECK_EQ_U64(r.u16[1], 0xffff);
}

TEST(narrow)
{
    fwe_v128 r;
    fwe_v128 a = i16s(300, -300, 127, -128, 128, -129, 0, -1);
    fwe_v128 b = i16s(255, 256, 1, 2, 3, 4, 5, 6);
    fwe_simd_binary(OP_I8_NARROW_S, &r, &a, &b);
    static const int8_t want_s[16] = {127, -128, 127, -128, 127, -128, 0, -1,
                                      127, 127,  1,   2,    3,   4,    5, 6};
    for (int i = 0; i < 16; i++)
        CHECK_EQ_INT(r.i8[i], want_s[i]);
    fwe_simd_binary(OP_I8_NARROW_U, &r, &a, &b);
    static const uint8_t want_u[16] = {255, 0, 127, 0, 128, 0, 0, 0, 255, 255, 1, 2, 3, 4, 5, 6};
    for (int i = 0; i < 16; i++)
        CHECK_EQ_INT(r.u8[i], want_u[i]);
    fwe_v128 c = i32s(70000, -70000, 32768, -1), d = i32s(65535, 65536, -32769, 7);
    fwe_simd_binary(OP_I16_NARROW_S, &r, &c, &d);
    CHECK_EQ_INT(r.i16[0], 32767);
    CHECK_EQ_INT(r.i16[1], -32768);
    CHECK_EQ_INT(r.i16[2], 32767);
    CHECK_EQ_INT(r.i16[3], -1);
    CHECK_EQ_INT(r.i16[6], -32768);
    CHECK_EQ_INT(r.i16[7], 7);
    fwe_simd_binary(OP_I16_NARROW_U, &r, &c, &d);
    CHECK_EQ_INT(r.u16[0], 65535);
    CHECK_EQ_INT(r.u16[1], 0);
    CHECK_EQ_INT(r.u16[2], 32768);
    CHECK_EQ_INT(r.u16[3], 0);
    CHECK_EQ_INT(r.u16[4], 65535);
    CHECK_EQ_INT(r.u16[5], 65535);
    CHECK_EQ_INT(r.u16[6], 0);
}

TEST(q15mulr_and_dot)
{
    fwe_v128 r;
    fwe_v128 a = i16s(-32768, 16384, -1, 1, 32767, -32768, 3, -16384);
    fwe_v128 b = i16s(-32768, 16384, 1, 16384, 32767, 32767, -16383, 1);
    fwe_simd_binary(OP_I16_Q15MULR, &r, &a, &b);
    CHECK_EQ_INT(r.i16[0], 32767); /* the one overflowing product saturates */
    CHECK_EQ_INT(r.i16[1], 8192);
    CHECK_EQ_INT(r.i16[2], 0); /* (-1 + 0x4000) >> 15 */
    CHECK_EQ_INT(r.i16[3], 1); /* (16384 + 16384) >> 15: rounds up */
    CHECK_EQ_INT(r.i16[4], 32766);
    CHECK_EQ_INT(r.i16[5], -32767);
    CHECK_EQ_INT(r.i16[6], -1); /* (-49149 + 16384) >> 15 = floor(-0.99...) */
    CHECK_EQ_INT(r.i16[7], 0);  /* (-16384 + 16384) >> 15 */

    fwe_v128 x = i16s(1, 3, -32768, -32768, 32767, 32767, -5, 2);
    fwe_v128 y = i16s(2, 4, -32768, -32768, 32767, 32767, 7, 1);
    fwe_simd_binary(OP_I32_DOT, &r, &x, &y);
    CHECK_EQ_INT(r.i32[0], 14);
    CHECK_EQ_U64(r.u32[1], 0x80000000u); /* 2^31 wraps */
    CHECK_EQ_INT(r.i32[2], 2 * 32767 * 32767);
    CHECK_EQ_INT(r.i32[3], -33);
}

TEST(extend_extadd_extmul)
{
    fwe_v128 r;
    const int8_t a8[16] = {1, 2, 3, 4, 5, 6, 7, 8, -1, -128, 127, 0, 0, 0, 0, -2};
    fwe_v128 a = i8s(a8);
    fwe_simd_unary(OP_I16_EXTEND_HIGH_S, &r, &a);
    CHECK_EQ_INT(r.i16[0], -1);
    CHECK_EQ_INT(r.i16[1], -128);
    CHECK_EQ_INT(r.i16[2], 127);
    CHECK_EQ_INT(r.i16[7], -2);
    fwe_simd_unary(OP_I16_EXTADD_S, &r, &a);
    CHECK_EQ_INT(r.i16[0], 3);
    CHECK_EQ_INT(r.i16[4], -129);
    CHECK_EQ_INT(r.i16[7], -2);
    fwe_v128 w = i16s(-1, -1, 1, 2, 0, 0, 0, 0);
    fwe_simd_unary(OP_I32_EXTADD_U, &r, &w);
    CHECK_EQ_U64(r.u32[0], 0x1fffe);
    CHECK_EQ_U64(r.u32[1], 3);
    fwe_simd_binary(OP_I16_EXTMUL_LOW_U, &r, &w, &w); /* bytes 0xff * 0xff */
    CHECK_EQ_U64(r.u16[0], 0xfe01);
    fwe_v128 p = i32s(0, 0, -1, INT32_MIN), q = i32s(0, 0, INT32_MIN, INT32_MIN);
    fwe_simd_binary(OP_I64_EXTMUL_HIGH_S, &r, &p, &q);
    CHECK_EQ_U64(r.u64[0], UINT64_C(0x80000000));
    CHECK_EQ_U64(r.u64[1], UINT64_C(0x4000000000000000));
}

TEST(shifts_modulo_width)
{
    fwe_v128 r;
    const int8_t a8[16] = {-128, 64, -1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
    fwe_v128 a = i8s(a8);
    fwe_simd_shift(OP_I8_SHL, &r, &a, 9); /* 9 mod 8 = 1 */
    CHECK_EQ_INT(r.u8[0], 0);
    CHECK_EQ_INT(r.u8[1], 128);
    CHECK_EQ_INT(r.u8[2], 0xfe);
    fwe_simd_shift(OP_I8_SHR_S, &r, &a, 8); /* 8 mod 8 = 0 */
    CHECK_EQ_INT(r.i8[0], -128);
    fwe_simd_shift(OP_I8_SHR_S, &r, &a, 7);
    CHECK_EQ_INT(r.i8[0], -1);
    CHECK_EQ_INT(r.i8[1], 0);
    CHECK_EQ_INT(r.i8[2], -1);
    fwe_simd_shift(OP_I8_SHR_U, &r, &a, 15);
    CHECK_EQ_INT(r.u8[0], 1);
    CHECK_EQ_INT(r.u8[2], 1);
    fwe_v128 h = i16s(-32768, 0, 0, 0, 0, 0, 0, 0);
    fwe_simd_shift(OP_I16_SHR_S, &r, &h, 17);
    CHECK_EQ_INT(r.i16[0], -16384);
    fwe_v128 w = u32s(0x80000001u, 1, 0, 0);
    fwe_simd_shift(OP_I32_SHR_U, &r, &w, 32);
    CHECK_EQ_U64(r.u32[0], 0x80000001u);
    fwe_simd_shift(OP_I32_SHL, &r, &w, 0xffffffffu); /* 31 */
    CHECK_EQ_U64(r.u32[0], 0x80000000u);
    CHECK_EQ_U64(r.u32[1], 0x80000000u);
    fwe_v128 d = u64s(UINT64_C(0x8000000000000000), 4);
    fwe_simd_shift(OP_I64_SHR_S, &r, &d, 65);
    CHECK_EQ_U64(r.u64[0], UINT64_C(0xc000000000000000));
    CHECK_EQ_U64(r.u64[1], 2);
    fwe_simd_shift(OP_I64_SHR_S, &r, &d, 64);
    CHECK_EQ_U64(r.u64[0], UINT64_C(0x8000000000000000));
}

TEST(tests_bitmask_all_any)
{
    fwe_v128 z, a;
    memset(&z, 0, sizeof z);
    CHECK_EQ_INT(fwe_simd_test(OP_ANY_TRUE, &z), 0);
    z.u8[15] = 1;
    CHECK_EQ_INT(fwe_simd_test(OP_ANY_TRUE, &z), 1);
    CHECK_EQ_INT(fwe_simd_test(OP_I8_ALL_TRUE, &z), 0);
    memset(&a, 1, sizeof a);
    CHECK_EQ_INT(fwe_simd_test(OP_I8_ALL_TRUE, &a), 1);
    a = i16s(1, 1, 1, 1, 1, 1, 1, 0x100);
    CHECK_EQ_INT(fwe_simd_test(OP_I16_ALL_TRUE, &a), 1);
    a = i16s(1, 1, 1, 0, 1, 1, 1, 1);
    CHECK_EQ_INT(fwe_simd_test(OP_I16_ALL_TRUE, &a), 0);
    a = u64s(UINT64_C(1) << 63, 0);
    CHECK_EQ_INT(fwe_simd_test(OP_I64_ALL_TRUE, &a), 0);
    a = u64s(UINT64_C(1) << 63, 1);
    CHECK_EQ_INT(fwe_simd_test(OP_I64_ALL_TRUE, &a), 1);

    const int8_t b8[16] = {-1, 0, -128, 127, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, -1};
    a = i8s(b8);
    CHECK_EQ_U64(fwe_simd_test(OP_I8_BITMASK, &a), 0x8005);
    a = i16s(-1, 0, 0, 0, 0, 0, 0, -32768);
    CHECK_EQ_U64(fwe_simd_test(OP_I16_BITMASK, &a), 0x81);
    a = i32s(0, INT32_MIN, -1, 1);
    CHECK_EQ_U64(fwe_simd_test(OP_I32_BITMASK, &a), 0x6);
    a = u64s(1, UINT64_MAX);
    CHECK_EQ_U64(fwe_simd_test(OP_I64_BITMASK, &a), 0x2);
}

TEST(float_min_max_nan_zero)
{
    fwe_v128 r;
    fwe_v128 a = f32s(-0.0f, 0.0f, NAN, 1.0f), b = f32s(0.0f, -0.0f, 1.0f, NAN);
    fwe_simd_binary(OP_F32_MIN, &r, &a, &b);
    CHECK_EQ_U64(r.u32[0], F32_NEG_ZERO);
    CHECK_EQ_U64(r.u32[1], F32_NEG_ZERO);
    CHECK(f32_bits_is_quiet_nan(r.u32[2]));
    CHECK(f32_bits_is_quiet_nan(r.u32[3]));
    fwe_simd_binary(OP_F32_MAX, &r, &a, &b);
    CHECK_EQ_U64(r.u32[0], 0);
    CHECK_EQ_U64(r.u32[1], 0);
    CHECK(f32_bits_is_quiet_nan(r.u32[2]));
    CHECK(f32_bits_is_quiet_nan(r.u32[3]));
    /* a signalling NaN operand still gives a quiet NaN */
    fwe_v128 s = u32s(0x7fa00000u, 0, 0, 0), one = f32s(1.0f, 2.0f, -3.0f, 4.0f);
    fwe_simd_binary(OP_F32_MIN, &r, &s, &one);
    CHECK(f32_bits_is_quiet_nan(r.u32[0]));
    CHECK(r.f32[2] == -3.0f);

    /* pmin = b < a ? b : a, pmax = a < b ? b : a: bitwise, NaN goes through as it was */
    fwe_simd_binary(OP_F32_PMIN, &r, &a, &b);
    CHECK_EQ_U64(r.u32[0], F32_NEG_ZERO); /* equal: a */
    CHECK_EQ_U64(r.u32[1], 0);
    CHECK_EQ_U64(r.u32[2], F32_QNAN); /* NaN a */
    CHECK(r.f32[3] == 1.0f);          /* NaN b: a */
    fwe_simd_binary(OP_F32_PMAX, &r, &a, &b);
    CHECK_EQ_U64(r.u32[0], F32_NEG_ZERO);
    CHECK_EQ_U64(r.u32[2], F32_QNAN);
    CHECK(r.f32[3] == 1.0f);
    fwe_v128 c = f32s(1.0f, 5.0f, 0, 0), d = f32s(2.0f, 3.0f, 0, 0);
    fwe_simd_binary(OP_F32_PMAX, &r, &c, &d);
    CHECK(r.f32[0] == 2.0f && r.f32[1] == 5.0f);
    fwe_simd_binary(OP_F32_PMIN, &r, &s, &one); /* sNaN bits pass unchanged */
    CHECK_EQ_U64(r.u32[0], 0x7fa00000u);

    fwe_v128 e = f64s(-0.0, NAN), f = f64s(0.0, -1.0);
    fwe_simd_binary(OP_F64_MIN, &r, &e, &f);
    CHECK_EQ_U64(r.u64[0], F64_NEG_ZERO);
    CHECK(f64_bits_is_quiet_nan(r.u64[1]));
    fwe_simd_binary(OP_F64_MAX, &r, &f, &e);
    CHECK_EQ_U64(r.u64[0], 0);
    CHECK(f64_bits_is_quiet_nan(r.u64[1]));
    fwe_simd_binary(OP_F64_PMIN, &r, &f, &e); /* b < a false for +0/-0 and NaN: a */
    CHECK_EQ_U64(r.u64[0], 0);
    CHECK(r.f64[1] == -1.0);
}

TEST(float_misc)
{
    fwe_v128 r;
    fwe_v128 n = u32s(0x7fa00001u, 0xffc00000u, F32_NEG_ZERO, 0x3f800000u);
    fwe_simd_unary(OP_F32_ABS, &r, &n); /* sign bit only, payloads kept */
    CHECK_EQ_U64(r.u32[0], 0x7fa00001u);
    CHECK_EQ_U64(r.u32[1], 0x7fc00000u);
    CHECK_EQ_U64(r.u32[2], 0);
    fwe_simd_unary(OP_F32_NEG, &r, &n);
    CHECK_EQ_U64(r.u32[0], 0xffa00001u);
    CHECK_EQ_U64(r.u32[2], 0);
    CHECK_EQ_U64(r.u32[3], 0xbf800000u);

    fwe_v128 a = f32s(1.0f, 0.0f, -1.0f, 0.0f), b = f32s(0.0f, 0.0f, 0.0f, -0.0f);
    fwe_simd_binary(OP_F32_DIV, &r, &a, &b);
    CHECK(r.f32[0] == INFINITY);
    CHECK(f32_bits_is_nan(r.u32[1]));
    CHECK(r.f32[2] == -INFINITY);

    fwe_v128 c = f32s(NAN, NAN, 1.0f, -0.0f), d = f32s(NAN, 1.0f, 1.0f, 0.0f);
    fwe_simd_binary(OP_F32_EQ, &r, &c, &d);
    CHECK_EQ_U64(r.u32[0], 0);
    CHECK_EQ_U64(r.u32[1], 0);
    CHECK_EQ_U64(r.u32[2], UINT32_MAX);
    CHECK_EQ_U64(r.u32[3], UINT32_MAX); /* -0 == +0 */
    fwe_simd_binary(OP_F32_NE, &r, &c, &d);
    CHECK_EQ_U64(r.u32[0], UINT32_MAX);
    CHECK_EQ_U64(r.u32[1], UINT32_MAX);
    CHECK_EQ_U64(r.u32[2], 0);
    fwe_v128 e = f64s(NAN, -1.0), f = f64s(1.0, 1.0);
    fwe_simd_binary(OP_F64_LT, &r, &e, &f);
    CHECK_EQ_U64(r.u64[0], 0);
    CHECK_EQ_U64(r.u64[1], UINT64_MAX);
}

TEST(rounding)
{
    fwe_v128 r;
    fwe_v128 a = f32s(2.5f, -0.5f, 3.5f, -2.5f);
    fwe_simd_unary(OP_F32_NEAREST, &r, &a);
    CHECK(r.f32[0] == 2.0f);
    CHECK_EQ_U64(r.u32[1], F32_NEG_ZERO);
    CHECK(r.f32[2] == 4.0f);
    CHECK(r.f32[3] == -2.0f);
    fwe_v128 b = f64s(2.5, -0.5);
    fwe_simd_unary(OP_F64_NEAREST, &r, &b);
    CHECK(r.f64[0] == 2.0);
    CHECK_EQ_U64(r.u64[1], F64_NEG_ZERO);
    b = f64s(4503599627370497.0, -1.5); /* 2^52 + 1 is already integral */
    fwe_simd_unary(OP_F64_NEAREST, &r, &b);
    CHECK(r.f64[0] == 4503599627370497.0);
    CHECK(r.f64[1] == -2.0);
    fwe_v128 c = f32s(-0.5f, 1.25f, INFINITY, 0.0f);
    fwe_simd_unary(OP_F32_CEIL, &r, &c);
    CHECK_EQ_U64(r.u32[0], F32_NEG_ZERO);
    CHECK(r.f32[1] == 2.0f);
    CHECK(r.f32[2] == INFINITY);
    /* a signalling NaN comes back quiet */
    fwe_v128 s = u32s(0x7fa00000u, 0xffa00000u, 0x7fc00000u, 0);
    fwe_simd_unary(OP_F32_CEIL, &r, &s);
    CHECK(f32_bits_is_quiet_nan(r.u32[0]));
    CHECK(f32_bits_is_quiet_nan(r.u32[1]));
    CHECK_EQ_U64(r.u32[2], 0x7fc00000u);
    fwe_simd_unary(OP_F32_NEAREST, &r, &s);
    CHECK(f32_bits_is_quiet_nan(r.u32[0]));
}

TEST(trunc_sat_and_convert)
{
    fwe_v128 r;
    fwe_v128 a = f32s(NAN, INFINITY, -INFINITY, 2147483648.0f);
    fwe_simd_unary(OP_TRUNC_SAT_F32_S, &r, &a);
    CHECK_EQ_INT(r.i32[0], 0);
    CHECK_EQ_INT(r.i32[1], INT32_MAX);
    CHECK_EQ_INT(r.i32[2], INT32_MIN);
    CHECK_EQ_INT(r.i32[3], INT32_MAX);
    a = f32s(-2147483904.0f, -2147483648.0f, -1.9f, 2147483520.0f);
    fwe_simd_unary(OP_TRUNC_SAT_F32_S, &r, &a);
    CHECK_EQ_INT(r.i32[0], INT32_MIN);
    CHECK_EQ_INT(r.i32[1], INT32_MIN);
    CHECK_EQ_INT(r.i32[2], -1);
    CHECK_EQ_INT(r.i32[3], 2147483520);
    a = f32s(-0.9f, -1.0f, 4294967296.0f, 4294967040.0f);
    fwe_simd_unary(OP_TRUNC_SAT_F32_U, &r, &a);
    CHECK_EQ_U64(r.u32[0], 0);
    CHECK_EQ_U64(r.u32[1], 0);
    CHECK_EQ_U64(r.u32[2], UINT32_MAX);
    CHECK_EQ_U64(r.u32[3], 4294967040u);
    a = f32s(NAN, -INFINITY, INFINITY, 1.9f);
    fwe_simd_unary(OP_TRUNC_SAT_F32_U, &r, &a);
    CHECK_EQ_U64(r.u32[0], 0);
    CHECK_EQ_U64(r.u32[1], 0);
    CHECK_EQ_U64(r.u32[2], UINT32_MAX);
    CHECK_EQ_U64(r.u32[3], 1);

    fwe_v128 d = f64s(2147483647.9, -2147483648.9);
    fwe_simd_unary(OP_TRUNC_SAT_F64_S_ZERO, &r, &d);
    CHECK_EQ_INT(r.i32[0], INT32_MAX);
    CHECK_EQ_INT(r.i32[1], INT32_MIN);
    CHECK_EQ_U64(r.u64[1], 0);
    d = f64s(NAN, 4294967295.5);
    fwe_simd_unary(OP_TRUNC_SAT_F64_U_ZERO, &r, &d);
    CHECK_EQ_U64(r.u32[0], 0);
    CHECK_EQ_U64(r.u32[1], UINT32_MAX);
    CHECK_EQ_U64(r.u64[1], 0);
    d = f64s(-0.99, 1e300);
    fwe_simd_unary(OP_TRUNC_SAT_F64_U_ZERO, &r, &d);
    CHECK_EQ_U64(r.u32[0], 0);
    CHECK_EQ_U64(r.u32[1], UINT32_MAX);

    fwe_v128 u = u32s(UINT32_MAX, 0x80000000u, 16777217u, 1);
    fwe_simd_unary(OP_CONVERT_I32_U, &r, &u);
    CHECK(r.f32[0] == 4294967296.0f);
    CHECK(r.f32[1] == 2147483648.0f);
    CHECK(r.f32[2] == 16777216.0f); /* ties to even */
    CHECK(r.f32[3] == 1.0f);
    fwe_simd_unary(OP_CONVERT_LOW_U, &r, &u);
    CHECK(r.f64[0] == 4294967295.0);
    CHECK(r.f64[1] == 2147483648.0);

    fwe_v128 p = f64s(1e300, 0.1);
    fwe_simd_unary(OP_DEMOTE, &r, &p);
    CHECK(r.f32[0] == INFINITY);
    CHECK(r.f32[1] == 0.1f);
    CHECK_EQ_U64(r.u64[1], 0);
    fwe_v128 q = f32s(0.1f, -0.0f, 7.0f, 8.0f);
    fwe_simd_unary(OP_PROMOTE, &r, &q);
    CHECK(r.f64[0] == (double)0.1f);
    CHECK_EQ_U64(r.u64[1], F64_NEG_ZERO);
}

TEST(swizzle_shuffle_bitwise)
{
    fwe_v128 a, r, idx;
    for (int i = 0; i < 16; i++)
        a.u8[i] = (uint8_t)(0xa0 + i);
    const int8_t ix[16] = {15, 0, 16, -1, 31, 5, 5, (int8_t)0x80, 1, 2, 3, 4, 17, 6, 7, 8};
    idx = i8s(ix);
    fwe_simd_binary(OP_SWIZZLE, &r, &a, &idx);
    CHECK_EQ_INT(r.u8[0], 0xaf);
    CHECK_EQ_INT(r.u8[1], 0xa0);
    CHECK_EQ_INT(r.u8[2], 0);
    CHECK_EQ_INT(r.u8[3], 0);
    CHECK_EQ_INT(r.u8[4], 0);
    CHECK_EQ_INT(r.u8[5], 0xa5);
    CHECK_EQ_INT(r.u8[7], 0);
    CHECK_EQ_INT(r.u8[12], 0);
    /* result aliasing the table operand */
    fwe_v128 t = a;
    fwe_simd_binary(OP_SWIZZLE, &t, &t, &idx);
    CHECK(memcmp(&t, &r, 16) == 0);

    fwe_v128 b;
    for (int i = 0; i < 16; i++)
        b.u8[i] = (uint8_t)(0xb0 + i);
    const uint8_t lanes[16] = {0, 16, 31, 15, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22};
    fwe_simd_shuffle(&r, &a, &b, lanes);
    CHECK_EQ_INT(r.u8[0], 0xa0);
    CHECK_EQ_INT(r.u8[1], 0xb0);
    CHECK_EQ_INT(r.u8[2], 0xbf);
    CHECK_EQ_INT(r.u8[3], 0xaf);
    CHECK_EQ_INT(r.u8[15], 0xb6);
    t = a;
    fwe_simd_shuffle(&t, &t, &b, lanes);
    CHECK(memcmp(&t, &r, 16) == 0);

    fwe_v128 x = u64s(UINT64_C(0xff00ff00ff00ff00), 0),
             y = u64s(UINT64_C(0x0f0f0f0f0f0f0f0f), UINT64_MAX);
    fwe_v128 m = u64s(UINT64_C(0xffffffff00000000), UINT64_C(0x00000000ffffffff));
    fwe_simd_ternary(OP_BITSELECT, &r, &x, &y, &m);
    CHECK_EQ_U64(r.u64[0], UINT64_C(0xff00ff000f0f0f0f));
    CHECK_EQ_U64(r.u64[1], UINT64_C(0xffffffff00000000));
    fwe_simd_ternary(OP_BITSELECT, &m, &x, &y, &m); /* aliasing the mask */
    CHECK(memcmp(&m, &r, 16) == 0);
    fwe_simd_binary(OP_ANDNOT, &r, &x, &y);
    CHECK_EQ_U64(r.u64[0], UINT64_C(0xf000f000f000f000));
    CHECK_EQ_U64(r.u64[1], 0);
    fwe_simd_unary(OP_NOT, &r, &y);
    CHECK_EQ_U64(r.u64[0], UINT64_C(0xf0f0f0f0f0f0f0f0));
    CHECK_EQ_U64(r.u64[1], 0);
}

TEST(compare_int)
{
    fwe_v128 r;
    const int8_t a8[16] = {-1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
    const int8_t b8[16] = {1, -1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
    fwe_v128 a = i8s(a8), b = i8s(b8);
    fwe_simd_binary(OP_I8_LT_S, &r, &a, &b);
    CHECK_EQ_INT(r.u8[0], 0xff);
    CHECK_EQ_INT(r.u8[1], 0);
    CHECK_EQ_INT(r.u8[2], 0);
    fwe_simd_binary(OP_I8_LT_U, &r, &a, &b);
    CHECK_EQ_INT(r.u8[0], 0);
    CHECK_EQ_INT(r.u8[1], 0xff);
    fwe_v128 c = u64s(UINT64_MAX, 1), d = u64s(0, UINT64_MAX);
    fwe_simd_binary(OP_I64_LT_S, &r, &c, &d);
    CHECK_EQ_U64(r.u64[0], UINT64_MAX);
    CHECK_EQ_U64(r.u64[1], 0);
}

TEST(splat_extract_replace)
{
    fwe_v128 r;
    fwe_simd_splat(OP_I8_SPLAT, &r, 0x1234);
    for (int i = 0; i < 16; i++)
        CHECK_EQ_INT(r.u8[i], 0x34);
    fwe_simd_splat(OP_I16_SPLAT, &r, 0xfffe8001u);
    CHECK_EQ_U64(r.u16[7], 0x8001);
    fwe_simd_splat(OP_I64_SPLAT, &r, UINT64_C(0x0123456789abcdef));
    CHECK_EQ_U64(r.u64[0], UINT64_C(0x0123456789abcdef));
    CHECK_EQ_U64(r.u64[1], UINT64_C(0x0123456789abcdef));
    fwe_simd_splat(OP_F32_SPLAT, &r, 0x7fa00001u); /* raw bits, NaN payload kept */
    CHECK_EQ_U64(r.u32[3], 0x7fa00001u);

    fwe_v128 a;
    for (int i = 0; i < 16; i++)
        a.u8[i] = (uint8_t)(0x70 + 8 * i);
    /* lane 2 = 0x80; i32 results come back zero-extended in the u64 */
    CHECK_EQ_U64(fwe_simd_extract_lane(OP_I8_EXTRACT_S, &a, 2), 0xffffff80u);
    CHECK_EQ_U64(fwe_simd_extract_lane(OP_I8_EXTRACT_U, &a, 2), 0x80);
    CHECK_EQ_U64(fwe_simd_extract_lane(OP_I8_EXTRACT_S, &a, 1), 0x78);
    CHECK_EQ_U64(fwe_simd_extract_lane(OP_I16_EXTRACT_S, &a, 1), 0xffff8880u);
    CHECK_EQ_U64(fwe_simd_extract_lane(OP_I64_EXTRACT, &a, 1), UINT64_C(0xe8e0d8d0c8c0b8b0));

    fwe_simd_replace_lane(OP_I8_REPLACE, &r, &a, 15, 0x1ff);
    CHECK_EQ_INT(r.u8[15], 0xff);
    CHECK_EQ_INT(r.u8[14], a.u8[14]);
    fwe_v128 t = a;
    fwe_simd_replace_lane(OP_F64_REPLACE, &t, &t, 0, UINT64_C(0x7ff4000000000000));
    CHECK_EQ_U64(t.u64[0], UINT64_C(0x7ff4000000000000));
    CHECK_EQ_U64(t.u64[1], a.u64[1]);
}

TEST(loads)
{
    uint8_t mem[24];
    for (int i = 0; i < 24; i++)
        mem[i] = (uint8_t)(0x80 + i * 9);
    fwe_v128 r;
    const uint8_t *m = mem + 1; /* unaligned */
    fwe_simd_load(OP_LOAD, &r, m);
    CHECK(memcmp(r.u8, m, 16) == 0);
    fwe_simd_load(OP_LOAD8X8_S, &r, m); /* 0x89 -> -119, 0x92 -> -110 ... */
    for (int i = 0; i < 8; i++)
        CHECK_EQ_INT(r.i16[i], (int8_t)m[i]);
    fwe_simd_load(OP_LOAD16X4_U, &r, m);
    for (int i = 0; i < 4; i++)
        CHECK_EQ_U64(r.u32[i], (uint32_t)(m[2 * i] | m[2 * i + 1] << 8));
    fwe_simd_load(OP_LOAD32X2_S, &r, m);
    uint32_t w0 =
        (uint32_t)m[0] | (uint32_t)m[1] << 8 | (uint32_t)m[2] << 16 | (uint32_t)m[3] << 24;
    CHECK_EQ_U64(r.u64[0], (uint64_t)(int64_t)(int32_t)w0);
    fwe_simd_load(OP_LOAD8_SPLAT, &r, m);
    for (int i = 0; i < 16; i++)
        CHECK_EQ_INT(r.u8[i], m[0]);
    fwe_simd_load(OP_LOAD16_SPLAT, &r, m);
    for (int i = 0; i < 8; i++)
        CHECK_EQ_U64(r.u16[i], (uint16_t)(m[0] | m[1] << 8));
    fwe_simd_load(OP_LOAD64_SPLAT, &r, m);
    CHECK(memcmp(r.u8, m, 8) == 0 && memcmp(r.u8 + 8, m, 8) == 0);
    fwe_simd_load(OP_LOAD32_ZERO, &r, m);
    CHECK_EQ_U64(r.u32[0], w0);
    CHECK_EQ_U64(r.u32[1], 0);
    CHECK_EQ_U64(r.u64[1], 0);
    fwe_simd_load(OP_LOAD64_ZERO, &r, m);
    CHECK(memcmp(r.u8, m, 8) == 0);
    CHECK_EQ_U64(r.u64[1], 0);
}

TEST(lane_memory)
{
    uint8_t mem[16];
    for (int i = 0; i < 16; i++)
        mem[i] = (uint8_t)(0x10 + i);
    fwe_v128 a, r;
    memset(&a, 0xcc, sizeof a);
    fwe_simd_load_lane(OP_LOAD8_LANE, &r, &a, 15, mem + 3);
    CHECK_EQ_INT(r.u8[15], 0x13);
    CHECK_EQ_INT(r.u8[14], 0xcc);
    fwe_simd_load_lane(OP_LOAD64_LANE, &a, &a, 1, mem + 1); /* aliasing */
    CHECK(memcmp(a.u8 + 8, mem + 1, 8) == 0);
    CHECK_EQ_U64(a.u64[0], UINT64_C(0xcccccccccccccccc));

    uint8_t out[10];
    memset(out, 0, sizeof out);
    fwe_v128 v;
    for (int i = 0; i < 16; i++)
        v.u8[i] = (uint8_t)i;
    fwe_simd_store_lane(OP_STORE16_LANE, out + 1, &v, 7);
    CHECK_EQ_INT(out[0], 0);
    CHECK_EQ_INT(out[1], 14);
    CHECK_EQ_INT(out[2], 15);
    CHECK_EQ_INT(out[3], 0);
    fwe_simd_store_lane(OP_STORE64_LANE, out + 1, &v, 0);
    for (int i = 0; i < 8; i++)
        CHECK_EQ_INT(out[1 + i], i);
    CHECK_EQ_INT(out[9], 0);
}

HARNESS_MAIN(RUN(lookup_table_complete); RUN(lookup_fields); RUN(int_saturation);
             RUN(int_arith_wrapping); RUN(narrow); RUN(q15mulr_and_dot); RUN(extend_extadd_extmul);
             RUN(shifts_modulo_width); RUN(tests_bitmask_all_any); RUN(float_min_max_nan_zero);
             RUN(float_misc); RUN(rounding); RUN(trunc_sat_and_convert);
             RUN(swizzle_shuffle_bitwise); RUN(compare_int); RUN(splat_extract_replace); RUN(loads);
             RUN(lane_memory);)
