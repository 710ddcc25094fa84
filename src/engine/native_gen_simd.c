/* native_gen_simd.c: the native tier's code generation for SIMD (the IOP_SIMD_* instructions of
 * code.h). A v128 lives in two consecutive frame slots, i.e. two uint64_t locals of the generated
 * function; each operation is a call of a small helper of the prelude written here, lane by lane
 * with the interpreter's semantics (simd.c), or a few inline statements when the lane is an
 * immediate. Memory operations keep the interpreter's bounds checks and trap offsets. */
#include "native.h"
#include "simd.h"

#include <inttypes.h>
#include <stdio.h>

/* ---------- the prelude: lane helpers as C text ---------- */

/* Types and scalar helpers (copies of simd.c's, same names with a `v` prefix). */
static const char prelude_simd_base[] =
    "typedef union{uint8_t u8[16];int8_t i8[16];uint16_t u16[8];int16_t i16[8];uint32_t "
    "u32[4];int32_t i32[4];uint64_t u64[2];int64_t i64[2];float f32[4];double f64[2];}VU;\n"
    "typedef struct{uint64_t l,h;}V2;\n"
    "static inline VU vmk(uint64_t l,uint64_t h){VU u;u.u64[0]=l;u.u64[1]=h;return u;}\n"
    "static inline V2 vpk(VU u){V2 v={u.u64[0],u.u64[1]};return v;}\n"
    "static inline int32_t vasr32(int32_t x,unsigned n){return x<0?~(~x>>n):x>>n;}\n"
    "static inline int64_t vasr64(int64_t x,unsigned n){return x<0?~(~x>>n):x>>n;}\n"
    "static inline uint8_t vsats8(int32_t v){return (uint8_t)(v<-128?-128:v>127?127:v);}\n"
    "static inline uint8_t vsatu8(int32_t v){return (uint8_t)(v<0?0:v>255?255:v);}\n"
    "static inline uint16_t vsats16(int32_t v){return "
    "(uint16_t)(v<-32768?-32768:v>32767?32767:v);}\n"
    "static inline uint16_t vsatu16(int32_t v){return (uint16_t)(v<0?0:v>65535?65535:v);}\n"
    "static inline uint32_t vf32min(float x,float y,uint32_t xb,uint32_t yb){if(x!=x||y!=y)"
    "return 0x7fc00000u;return x<y?xb:y<x?yb:(xb|yb);}\n"
    "static inline uint32_t vf32max(float x,float y,uint32_t xb,uint32_t yb){if(x!=x||y!=y)"
    "return 0x7fc00000u;return x>y?xb:y>x?yb:(xb&yb);}\n"
    "static inline uint64_t vf64min(double x,double y,uint64_t xb,uint64_t yb){if(x!=x||y!=y)"
    "return UINT64_C(0x7ff8000000000000);return x<y?xb:y<x?yb:(xb|yb);}\n"
    "static inline uint64_t vf64max(double x,double y,uint64_t xb,uint64_t yb){if(x!=x||y!=y)"
    "return UINT64_C(0x7ff8000000000000);return x>y?xb:y>x?yb:(xb&yb);}\n"
    "static inline uint32_t vtss32(double x){if(x!=x)return 0;if(x<=-2147483648.0)return "
    "0x80000000u;if(x>=2147483648.0)return 0x7fffffffu;return (uint32_t)(int32_t)x;}\n"
    "static inline uint32_t vtsu32(double x){if(!(x>-1.0))return 0;if(x>=4294967296.0)return "
    "0xffffffffu;return (uint32_t)x;}\n"
    "static inline uint32_t vrb32(float x,float r){uint32_t b;memcpy(&b,&r,4);return "
    "x!=x?b|0x00400000u:b;}\n"
    "static inline uint64_t vrb64(double x,double r){uint64_t b;memcpy(&b,&r,8);return "
    "x!=x?b|UINT64_C(0x0008000000000000):b;}\n"
    "static inline uint8_t vpop8(uint8_t v){v=(uint8_t)(v-((v>>1)&0x55));v=(uint8_t)((v&0x33)+"
    "((v>>2)&0x33));return (uint8_t)((v+(v>>4))&0x0f);}\n"
    "#define VMIN(x,y) ((x)<(y)?(x):(y))\n"
    "#define VMAX(x,y) ((x)>(y)?(x):(y))\n"
    /* one helper per operation: N result lanes of field D from expression E (lane index i) */
    "#define VUN(n,N,D,E) static inline V2 n(uint64_t a0,uint64_t a1){VU "
    "A=vmk(a0,a1),t;memset(&t,0,16);for(unsigned i=0;i<(N);i++)t.D[i]=(E);return vpk(t);}\n"
    "#define VBIN(n,N,D,E) static inline V2 n(uint64_t a0,uint64_t a1,uint64_t b0,uint64_t "
    "b1){VU A=vmk(a0,a1),B=vmk(b0,b1),t;memset(&t,0,16);for(unsigned "
    "i=0;i<(N);i++)t.D[i]=(E);return vpk(t);}\n"
    "#define VSH(n,N,D,E) static inline V2 n(uint64_t a0,uint64_t a1,uint32_t c){VU "
    "A=vmk(a0,a1),t;memset(&t,0,16);for(unsigned i=0;i<(N);i++)t.D[i]=(E);return vpk(t);}\n"
    "#define VLD(n,K,D,E) static inline V2 n(const uint8_t*p){VU "
    "S,t;memset(&t,0,16);memcpy(&S,p,K);for(unsigned i=0;i<16/sizeof t.D[0];i++)t.D[i]=(E);"
    "return vpk(t);}\n"
    "static inline V2 vshuf(uint64_t a0,uint64_t a1,uint64_t b0,uint64_t b1,uint64_t "
    "l0,uint64_t l1){uint8_t both[32];VU L=vmk(l0,l1),t;memcpy(both,&a0,8);memcpy(both+8,&a1,8);"
    "memcpy(both+16,&b0,8);memcpy(both+24,&b1,8);for(unsigned i=0;i<16;i++)t.u8[i]=both[L.u8[i]"
    "&31];return vpk(t);}\n"
    "static inline uint32_t vtest(uint32_t op,uint64_t a0,uint64_t a1){VU "
    "A=vmk(a0,a1);uint32_t m=0;unsigned i;switch(op){\n"
    "case 0x53:return (a0|a1)!=0;\n"
    "case 0x63:for(i=0;i<16;i++)if(!A.u8[i])return 0;return 1;\n"
    "case 0x83:for(i=0;i<8;i++)if(!A.u16[i])return 0;return 1;\n"
    "case 0xa3:for(i=0;i<4;i++)if(!A.u32[i])return 0;return 1;\n"
    "case 0xc3:return a0!=0&&a1!=0;\n"
    "case 0x64:for(i=0;i<16;i++)m|=(uint32_t)(A.u8[i]>>7)<<i;return m;\n"
    "case 0x84:for(i=0;i<8;i++)m|=(uint32_t)(A.u16[i]>>15)<<i;return m;\n"
    "case 0xa4:for(i=0;i<4;i++)m|=(A.u32[i]>>31)<<i;return m;\n"
    "case 0xc4:return (uint32_t)(a0>>63)|(uint32_t)(a1>>63)<<1;}\n"
    "return 0;}\n";

typedef struct simd_op {
    uint8_t op, lanes;
    const char *field, *expr;
} simd_op;

/* Unary operations: result lanes (field) = expr over A. Conversions between f32 and f64 go
 * through fbar/fbarf so that gcc cannot fold a demote of a promote (which would keep a
 * signalling NaN signalling, as for the scalar conversions). */
static const simd_op unary_ops[] = {
    {0x4d, 2, "u64", "~A.u64[i]"},
    {0x5e, 2, "f32", "(float)fbar(A.f64[i])"},
    {0x5f, 2, "f64", "(double)fbarf(A.f32[i])"},
    {0x60, 16, "u8", "(uint8_t)(A.i8[i]<0?0u-A.u8[i]:A.u8[i])"},
    {0x61, 16, "u8", "(uint8_t)(0u-A.u8[i])"},
    {0x62, 16, "u8", "vpop8(A.u8[i])"},
    {0x67, 4, "u32", "vrb32(A.f32[i],ceilf(A.f32[i]))"},
    {0x68, 4, "u32", "vrb32(A.f32[i],floorf(A.f32[i]))"},
    {0x69, 4, "u32", "vrb32(A.f32[i],truncf(A.f32[i]))"},
    {0x6a, 4, "u32", "vrb32(A.f32[i],nearbyintf(A.f32[i]))"},
    {0x74, 2, "u64", "vrb64(A.f64[i],ceil(A.f64[i]))"},
    {0x75, 2, "u64", "vrb64(A.f64[i],floor(A.f64[i]))"},
    {0x7a, 2, "u64", "vrb64(A.f64[i],trunc(A.f64[i]))"},
    {0x94, 2, "u64", "vrb64(A.f64[i],nearbyint(A.f64[i]))"},
    {0x7c, 8, "u16", "(uint16_t)(A.i8[2*i]+A.i8[2*i+1])"},
    {0x7d, 8, "u16", "(uint16_t)(A.u8[2*i]+A.u8[2*i+1])"},
    {0x7e, 4, "u32", "(uint32_t)((int32_t)A.i16[2*i]+A.i16[2*i+1])"},
    {0x7f, 4, "u32", "(uint32_t)A.u16[2*i]+A.u16[2*i+1]"},
    {0x80, 8, "u16", "(uint16_t)(A.i16[i]<0?0u-A.u16[i]:A.u16[i])"},
    {0x81, 8, "u16", "(uint16_t)(0u-A.u16[i])"},
    {0x87, 8, "u16", "(uint16_t)A.i8[i]"},
    {0x88, 8, "u16", "(uint16_t)A.i8[i+8]"},
    {0x89, 8, "u16", "A.u8[i]"},
    {0x8a, 8, "u16", "A.u8[i+8]"},
    {0xa0, 4, "u32", "A.i32[i]<0?0u-A.u32[i]:A.u32[i]"},
    {0xa1, 4, "u32", "0u-A.u32[i]"},
    {0xa7, 4, "u32", "(uint32_t)A.i16[i]"},
    {0xa8, 4, "u32", "(uint32_t)A.i16[i+4]"},
    {0xa9, 4, "u32", "A.u16[i]"},
    {0xaa, 4, "u32", "A.u16[i+4]"},
    {0xc0, 2, "u64", "A.i64[i]<0?0u-A.u64[i]:A.u64[i]"},
    {0xc1, 2, "u64", "0u-A.u64[i]"},
    {0xc7, 2, "u64", "(uint64_t)A.i32[i]"},
    {0xc8, 2, "u64", "(uint64_t)A.i32[i+2]"},
    {0xc9, 2, "u64", "A.u32[i]"},
    {0xca, 2, "u64", "A.u32[i+2]"},
    {0xe0, 4, "u32", "A.u32[i]&0x7fffffffu"},
    {0xe1, 4, "u32", "A.u32[i]^0x80000000u"},
    {0xe3, 4, "f32", "sqrtf(A.f32[i])"},
    {0xec, 2, "u64", "A.u64[i]&UINT64_C(0x7fffffffffffffff)"},
    {0xed, 2, "u64", "A.u64[i]^UINT64_C(0x8000000000000000)"},
    {0xef, 2, "f64", "sqrt(A.f64[i])"},
    {0xf8, 4, "u32", "vtss32(A.f32[i])"},
    {0xf9, 4, "u32", "vtsu32(A.f32[i])"},
    {0xfa, 4, "f32", "(float)A.i32[i]"},
    {0xfb, 4, "f32", "(float)A.u32[i]"},
    {0xfc, 2, "u32", "vtss32(A.f64[i])"},
    {0xfd, 2, "u32", "vtsu32(A.f64[i])"},
    {0xfe, 2, "f64", "(double)A.i32[i]"},
    {0xff, 2, "f64", "(double)A.u32[i]"},
};

/* Binary operations other than the compares (generated below from cmp_groups). */
static const simd_op binary_ops[] = {
    {0x0e, 16, "u8", "B.u8[i]<16?A.u8[B.u8[i]]:0"},
    {0x4e, 2, "u64", "A.u64[i]&B.u64[i]"},
    {0x4f, 2, "u64", "A.u64[i]&~B.u64[i]"},
    {0x50, 2, "u64", "A.u64[i]|B.u64[i]"},
    {0x51, 2, "u64", "A.u64[i]^B.u64[i]"},
    {0x65, 16, "u8", "vsats8(i<8?A.i16[i]:B.i16[i-8])"},
    {0x66, 16, "u8", "vsatu8(i<8?A.i16[i]:B.i16[i-8])"},
    {0x6e, 16, "u8", "(uint8_t)(A.u8[i]+B.u8[i])"},
    {0x6f, 16, "u8", "vsats8(A.i8[i]+B.i8[i])"},
    {0x70, 16, "u8", "vsatu8(A.u8[i]+B.u8[i])"},
    {0x71, 16, "u8", "(uint8_t)(A.u8[i]-B.u8[i])"},
    {0x72, 16, "u8", "vsats8(A.i8[i]-B.i8[i])"},
    {0x73, 16, "u8", "vsatu8(A.u8[i]-B.u8[i])"},
    {0x76, 16, "u8", "(uint8_t)VMIN(A.i8[i],B.i8[i])"},
    {0x77, 16, "u8", "VMIN(A.u8[i],B.u8[i])"},
    {0x78, 16, "u8", "(uint8_t)VMAX(A.i8[i],B.i8[i])"},
    {0x79, 16, "u8", "VMAX(A.u8[i],B.u8[i])"},
    {0x7b, 16, "u8", "(uint8_t)((A.u8[i]+B.u8[i]+1)>>1)"},
    {0x82, 8, "u16", "vsats16(vasr32((int32_t)A.i16[i]*B.i16[i]+0x4000,15))"},
    {0x85, 8, "u16", "vsats16(i<4?A.i32[i]:B.i32[i-4])"},
    {0x86, 8, "u16", "vsatu16(i<4?A.i32[i]:B.i32[i-4])"},
    {0x8e, 8, "u16", "(uint16_t)(A.u16[i]+B.u16[i])"},
    {0x8f, 8, "u16", "vsats16(A.i16[i]+B.i16[i])"},
    {0x90, 8, "u16", "vsatu16(A.u16[i]+B.u16[i])"},
    {0x91, 8, "u16", "(uint16_t)(A.u16[i]-B.u16[i])"},
    {0x92, 8, "u16", "vsats16(A.i16[i]-B.i16[i])"},
    {0x93, 8, "u16", "vsatu16(A.u16[i]-B.u16[i])"},
    {0x95, 8, "u16", "(uint16_t)((uint32_t)A.u16[i]*B.u16[i])"},
    {0x96, 8, "u16", "(uint16_t)VMIN(A.i16[i],B.i16[i])"},
    {0x97, 8, "u16", "VMIN(A.u16[i],B.u16[i])"},
    {0x98, 8, "u16", "(uint16_t)VMAX(A.i16[i],B.i16[i])"},
    {0x99, 8, "u16", "VMAX(A.u16[i],B.u16[i])"},
    {0x9b, 8, "u16", "(uint16_t)(((uint32_t)A.u16[i]+B.u16[i]+1)>>1)"},
    {0x9c, 8, "u16", "(uint16_t)(A.i8[i]*B.i8[i])"},
    {0x9d, 8, "u16", "(uint16_t)(A.i8[i+8]*B.i8[i+8])"},
    {0x9e, 8, "u16", "(uint16_t)(A.u8[i]*B.u8[i])"},
    {0x9f, 8, "u16", "(uint16_t)(A.u8[i+8]*B.u8[i+8])"},
    {0xae, 4, "u32", "A.u32[i]+B.u32[i]"},
    {0xb1, 4, "u32", "A.u32[i]-B.u32[i]"},
    {0xb5, 4, "u32", "A.u32[i]*B.u32[i]"},
    {0xb6, 4, "u32", "(uint32_t)VMIN(A.i32[i],B.i32[i])"},
    {0xb7, 4, "u32", "VMIN(A.u32[i],B.u32[i])"},
    {0xb8, 4, "u32", "(uint32_t)VMAX(A.i32[i],B.i32[i])"},
    {0xb9, 4, "u32", "VMAX(A.u32[i],B.u32[i])"},
    {0xba, 4, "u32",
     "(uint32_t)((int64_t)A.i16[2*i]*B.i16[2*i]+(int64_t)A.i16[2*i+1]*B.i16[2*i+1])"},
    {0xbc, 4, "u32", "(uint32_t)((int32_t)A.i16[i]*B.i16[i])"},
    {0xbd, 4, "u32", "(uint32_t)((int32_t)A.i16[i+4]*B.i16[i+4])"},
    {0xbe, 4, "u32", "(uint32_t)A.u16[i]*B.u16[i]"},
    {0xbf, 4, "u32", "(uint32_t)A.u16[i+4]*B.u16[i+4]"},
    {0xce, 2, "u64", "A.u64[i]+B.u64[i]"},
    {0xd1, 2, "u64", "A.u64[i]-B.u64[i]"},
    {0xd5, 2, "u64", "A.u64[i]*B.u64[i]"},
    {0xdc, 2, "u64", "(uint64_t)((int64_t)A.i32[i]*B.i32[i])"},
    {0xdd, 2, "u64", "(uint64_t)((int64_t)A.i32[i+2]*B.i32[i+2])"},
    {0xde, 2, "u64", "(uint64_t)A.u32[i]*B.u32[i]"},
    {0xdf, 2, "u64", "(uint64_t)A.u32[i+2]*B.u32[i+2]"},
    {0xe4, 4, "f32", "A.f32[i]+B.f32[i]"},
    {0xe5, 4, "f32", "A.f32[i]-B.f32[i]"},
    {0xe6, 4, "f32", "A.f32[i]*B.f32[i]"},
    {0xe7, 4, "f32", "A.f32[i]/B.f32[i]"},
    {0xe8, 4, "u32", "vf32min(A.f32[i],B.f32[i],A.u32[i],B.u32[i])"},
    {0xe9, 4, "u32", "vf32max(A.f32[i],B.f32[i],A.u32[i],B.u32[i])"},
    {0xea, 4, "u32", "B.f32[i]<A.f32[i]?B.u32[i]:A.u32[i]"},
    {0xeb, 4, "u32", "A.f32[i]<B.f32[i]?B.u32[i]:A.u32[i]"},
    {0xf0, 2, "f64", "A.f64[i]+B.f64[i]"},
    {0xf1, 2, "f64", "A.f64[i]-B.f64[i]"},
    {0xf2, 2, "f64", "A.f64[i]*B.f64[i]"},
    {0xf3, 2, "f64", "A.f64[i]/B.f64[i]"},
    {0xf4, 2, "u64", "vf64min(A.f64[i],B.f64[i],A.u64[i],B.u64[i])"},
    {0xf5, 2, "u64", "vf64max(A.f64[i],B.f64[i],A.u64[i],B.u64[i])"},
    {0xf6, 2, "u64", "B.f64[i]<A.f64[i]?B.u64[i]:A.u64[i]"},
    {0xf7, 2, "u64", "A.f64[i]<B.f64[i]?B.u64[i]:A.u64[i]"},
};

/* Compares: consecutive opcodes from `first`, each result lane all ones or zero. Integer
 * groups of 8, 16 and 32 bits have signed/unsigned pairs (eq ne lt_s lt_u gt_s gt_u le_s le_u
 * ge_s ge_u); i64 has only the signed ones and floats compare as floats (eq ne lt gt le ge). */
typedef struct cmp_group {
    uint8_t first, lanes;
    const char *ufield, *sfield; /* lanes as unsigned, and as signed (or float) */
    bool pairs, is_float;
} cmp_group;
static const cmp_group cmp_groups[] = {
    {0x23, 16, "u8", "i8", true, false},  {0x2d, 8, "u16", "i16", true, false},
    {0x37, 4, "u32", "i32", true, false}, {0x41, 4, "u32", "f32", false, true},
    {0x47, 2, "u64", "f64", false, true}, {0xd6, 2, "u64", "i64", false, false},
};
static const char *const cmp_rels[6] = {"==", "!=", "<", ">", "<=", ">="};

static uint32_t cmp_count(const cmp_group *c)
{
    return c->pairs ? 10 : 6;
}

/* Shifts: the count is taken modulo the lane width. */
static const simd_op shift_ops[] = {
    {0x6b, 16, "u8", "(uint8_t)(A.u8[i]<<(c&7))"},
    {0x6c, 16, "u8", "(uint8_t)vasr32(A.i8[i],c&7)"},
    {0x6d, 16, "u8", "(uint8_t)(A.u8[i]>>(c&7))"},
    {0x8b, 8, "u16", "(uint16_t)((uint32_t)A.u16[i]<<(c&15))"},
    {0x8c, 8, "u16", "(uint16_t)vasr32(A.i16[i],c&15)"},
    {0x8d, 8, "u16", "(uint16_t)(A.u16[i]>>(c&15))"},
    {0xab, 4, "u32", "A.u32[i]<<(c&31)"},
    {0xac, 4, "u32", "(uint32_t)vasr32(A.i32[i],c&31)"},
    {0xad, 4, "u32", "A.u32[i]>>(c&31)"},
    {0xcb, 2, "u64", "A.u64[i]<<(c&63)"},
    {0xcc, 2, "u64", "(uint64_t)vasr64(A.i64[i],c&63)"},
    {0xcd, 2, "u64", "A.u64[i]>>(c&63)"},
};

/* Loads that build a whole vector: bytes read, result field, expression over S (the bytes read,
 * at the start of a vector). v128.load, load32_zero and load64_zero are plain copies. */
static const struct {
    uint8_t op, bytes;
    const char *field, *expr;
} load_ops[] = {
    {0x01, 8, "u16", "(uint16_t)S.i8[i]"},
    {0x02, 8, "u16", "S.u8[i]"},
    {0x03, 8, "u32", "(uint32_t)S.i16[i]"},
    {0x04, 8, "u32", "S.u16[i]"},
    {0x05, 8, "u64", "(uint64_t)S.i32[i]"},
    {0x06, 8, "u64", "S.u32[i]"},
    {0x07, 1, "u8", "S.u8[0]"},
    {0x08, 2, "u16", "S.u16[0]"},
    {0x09, 4, "u32", "S.u32[0]"},
    {0x0a, 8, "u64", "S.u64[0]"},
};

#define N_OF(a) (sizeof(a) / sizeof((a)[0]))

void fwe_native_simd_prelude(fwe_text *out)
{
    fwe_text_add(out, "%s", prelude_simd_base);
    for (size_t i = 0; i < N_OF(unary_ops); i++)
        fwe_text_add(out, "VUN(vu%02x,%u,%s,%s)\n", unary_ops[i].op, unary_ops[i].lanes,
                     unary_ops[i].field, unary_ops[i].expr);
    for (size_t i = 0; i < N_OF(binary_ops); i++)
        fwe_text_add(out, "VBIN(vb%02x,%u,%s,%s)\n", binary_ops[i].op, binary_ops[i].lanes,
                     binary_ops[i].field, binary_ops[i].expr);
    for (size_t g = 0; g < N_OF(cmp_groups); g++) {
        const cmp_group *c = &cmp_groups[g];
        const char *ones = c->lanes == 16  ? "0xffu"
                           : c->lanes == 8 ? "0xffffu"
                           : c->lanes == 4 ? "0xffffffffu"
                                           : "UINT64_MAX";
        for (uint32_t k = 0; k < cmp_count(c); k++) {
            /* with pairs: eq, ne, then (signed, unsigned) per relation */
            uint32_t rel = c->pairs && k >= 2 ? 2 + (k - 2) / 2 : k;
            bool is_signed = c->is_float || (k >= 2 && (!c->pairs || k % 2 == 0));
            const char *f = is_signed ? c->sfield : c->ufield;
            fwe_text_add(out, "VBIN(vb%02x,%u,%s,A.%s[i]%sB.%s[i]?%s:0)\n", c->first + k, c->lanes,
                         c->ufield, f, cmp_rels[rel], f, ones);
        }
    }
    for (size_t i = 0; i < N_OF(shift_ops); i++)
        fwe_text_add(out, "VSH(vs%02x,%u,%s,%s)\n", shift_ops[i].op, shift_ops[i].lanes,
                     shift_ops[i].field, shift_ops[i].expr);
    for (size_t i = 0; i < N_OF(load_ops); i++)
        fwe_text_add(out, "VLD(vl%02x,%u,%s,%s)\n", load_ops[i].op, load_ops[i].bytes,
                     load_ops[i].field, load_ops[i].expr);
}

/* ---------- instructions ---------- */

uint32_t fwe_native_simd_len(const fwe_word *p)
{
    switch (p[0]) {
    case IOP_SIMD_LOAD:
        return 5;
    case IOP_SIMD_STORE:
        return 4;
    case IOP_SIMD_LOAD_LANE:
        return 7;
    case IOP_SIMD_STORE_LANE:
        return 6;
    case IOP_SIMD_SHUFFLE:
        return 8;
    case IOP_SIMD_EXTRACT:
        return 5;
    case IOP_SIMD_REPLACE:
        return 6;
    case IOP_SIMD_SPLAT:
    case IOP_SIMD_UNARY:
    case IOP_SIMD_TEST:
        return 4;
    case IOP_SIMD_BINARY:
    case IOP_SIMD_SHIFT:
        return 5;
    case IOP_SIMD_TERNARY:
        return 6;
    default:
        return 0;
    }
}

/* Operand text of slot s, as native_gen.c's R(): constant slots (outside the result area) are
 * literals, every other slot is its local. */
static const char *slot(const fwe_code *c, uint32_t s, char *buf, size_t n)
{
    if (s >= c->const_base && s < c->const_base + c->nconst_slots && s >= c->result_slots)
        snprintf(buf, n, "UINT64_C(0x%" PRIx64 ")", c->consts[s - c->const_base]);
    else
        snprintf(buf, n, "v%u", s);
    return buf;
}

static bool in_table(const simd_op *t, size_t n, uint32_t op)
{
    for (size_t i = 0; i < n; i++)
        if (t[i].op == op)
            return true;
    return false;
}

static bool is_compare(uint32_t op)
{
    for (size_t g = 0; g < N_OF(cmp_groups); g++)
        if (op >= cmp_groups[g].first && op < cmp_groups[g].first + cmp_count(&cmp_groups[g]))
            return true;
    return false;
}

bool fwe_native_simd_emit(const fwe_code *c, uint32_t at, const fwe_word *p, fwe_text *out)
{
    char a0[48], a1[48], b0[48], b1[48], x0[48], x1[48];
    uint32_t sop = p[1];
    fwe_simd_info info;
#define OUT(...) fwe_text_add(out, __VA_ARGS__)
#define SL(buf, s) slot(c, (s), buf, sizeof buf)
    out->needs_simd = true;
    switch (p[0]) {
    case IOP_SIMD_LOAD: { /* op dst addr offset */
        if (!fwe_simd_lookup(sop, &info) || info.kind != FWE_SIMD_LOAD)
            return false;
        uint32_t d = p[2];
        OUT("{uint64_t ea_=(uint64_t)(uint32_t)%s+%uu;CHK(ea_,%u,%u);", SL(a0, p[3]), p[4],
            info.mem_bytes, at);
        if (sop == 0x00 || sop == 0x5c || sop == 0x5d) /* copies, zero-extended */
            OUT("uint64_t l_=0,h_=0;memcpy(&l_,mb+ea_,%u);%sv%u=l_;v%u=h_;}\n", sop == 0x5c ? 4 : 8,
                sop == 0x00 ? "memcpy(&h_,mb+ea_+8,8);" : "", d, d + 1);
        else
            OUT("V2 r_=vl%02x(mb+ea_);v%u=r_.l;v%u=r_.h;}\n", sop, d, d + 1);
        return true;
    }
    case IOP_SIMD_STORE: /* addr val offset */
        OUT("{uint64_t ea_=(uint64_t)(uint32_t)%s+%uu;CHK(ea_,16,%u);uint64_t "
            "l_=%s,h_=%s;memcpy(mb+ea_,&l_,8);memcpy(mb+ea_+8,&h_,8);}\n",
            SL(a0, p[1]), p[3], at, SL(b0, p[2]), SL(b1, p[2] + 1));
        return true;
    case IOP_SIMD_LOAD_LANE:    /* op dst addr vec offset lane */
    case IOP_SIMD_STORE_LANE: { /* op addr vec offset lane */
        if (sop < 0x54 || sop > 0x5b)
            return false;
        bool load = p[0] == IOP_SIMD_LOAD_LANE;
        const fwe_word *q = load ? p + 3 : p + 2; /* addr vec offset lane */
        uint32_t n = 1u << ((sop - 0x54) & 3);
        uint32_t byte = (q[3] * n) & (16 - n);
        OUT("{uint64_t ea_=(uint64_t)(uint32_t)%s+%uu;CHK(ea_,%u,%u);VU u_=vmk(%s,%s);",
            SL(a0, q[0]), q[2], n, at, SL(b0, q[1]), SL(b1, q[1] + 1));
        if (load)
            OUT("memcpy(&u_.u8[%u],mb+ea_,%u);v%u=u_.u64[0];v%u=u_.u64[1];}\n", byte, n, p[2],
                p[2] + 1);
        else
            OUT("memcpy(mb+ea_,&u_.u8[%u],%u);}\n", byte, n);
        return true;
    }
    case IOP_SIMD_SHUFFLE: { /* dst a b lanes[4 words] */
        uint64_t l0 = (uint64_t)p[4] | (uint64_t)p[5] << 32,
                 l1 = (uint64_t)p[6] | (uint64_t)p[7] << 32;
        OUT("{V2 r_=vshuf(%s,%s,%s,%s,UINT64_C(0x%" PRIx64 "),UINT64_C(0x%" PRIx64
            "));v%u=r_.l;v%u=r_.h;}\n",
            SL(a0, p[2]), SL(a1, p[2] + 1), SL(b0, p[3]), SL(b1, p[3] + 1), l0, l1, p[1], p[1] + 1);
        return true;
    }
    case IOP_SIMD_EXTRACT: { /* op dst a lane */
        uint32_t lane = p[4], d = p[2];
        SL(a0, p[3]);
        SL(a1, p[3] + 1);
        switch (sop) {
        case 0x15: /* i8x16.extract_lane_s/_u */
        case 0x16:
            OUT("v%u=(uint64_t)(uint32_t)(%s)(%s>>%u);\n", d,
                sop == 0x15 ? "int32_t)(int8_t" : "uint8_t", lane < 8 ? a0 : a1, (lane & 7) * 8);
            return true;
        case 0x18: /* i16x8.extract_lane_s/_u */
        case 0x19:
            OUT("v%u=(uint64_t)(uint32_t)(%s)(%s>>%u);\n", d,
                sop == 0x18 ? "int32_t)(int16_t" : "uint16_t", lane < 4 ? a0 : a1, (lane & 3) * 16);
            return true;
        case 0x1b: /* i32x4 / f32x4 */
        case 0x1f:
            OUT("v%u=(uint32_t)(%s>>%u);\n", d, lane < 2 ? a0 : a1, (lane & 1) * 32);
            return true;
        case 0x1d: /* i64x2 / f64x2 */
        case 0x21:
            OUT("v%u=%s;\n", d, lane & 1 ? a1 : a0);
            return true;
        }
        return false;
    }
    case IOP_SIMD_REPLACE: { /* op dst a scalar lane */
        uint32_t lane = p[5], bits;
        switch (sop) {
        case 0x17:
            bits = 8;
            break;
        case 0x1a:
            bits = 16;
            break;
        case 0x1c:
        case 0x20:
            bits = 32;
            break;
        case 0x1e:
        case 0x22:
            bits = 64;
            break;
        default:
            return false;
        }
        uint32_t per = 64 / bits, word = lane / per % 2, shift = (lane % per) * bits;
        OUT("{uint64_t w_[2]={%s,%s},s_=%s;", SL(a0, p[3]), SL(a1, p[3] + 1), SL(x0, p[4]));
        if (bits == 64)
            OUT("w_[%u]=s_;", word);
        else
            OUT("w_[%u]=(w_[%u]&~(UINT64_C(0x%" PRIx64 ")<<%u))|((s_&UINT64_C(0x%" PRIx64
                "))<<%u);",
                word, word, (UINT64_C(1) << bits) - 1, shift, (UINT64_C(1) << bits) - 1, shift);
        OUT("v%u=w_[0];v%u=w_[1];}\n", p[2], p[2] + 1);
        return true;
    }
    case IOP_SIMD_SPLAT: { /* op dst scalar */
        const char *mul;
        switch (sop) {
        case 0x0f:
            mul = "UINT64_C(0x0101010101010101)*(uint8_t)";
            break;
        case 0x10:
            mul = "UINT64_C(0x0001000100010001)*(uint16_t)";
            break;
        case 0x11:
        case 0x13:
            mul = "UINT64_C(0x0000000100000001)*(uint32_t)";
            break;
        case 0x12:
        case 0x14:
            mul = "";
            break;
        default:
            return false;
        }
        OUT("{uint64_t t_=%s%s;v%u=t_;v%u=t_;}\n", mul, SL(a0, p[3]), p[2], p[2] + 1);
        return true;
    }
    case IOP_SIMD_UNARY: /* op dst a */
        if (!in_table(unary_ops, N_OF(unary_ops), sop))
            return false;
        OUT("{V2 r_=vu%02x(%s,%s);v%u=r_.l;v%u=r_.h;}\n", sop, SL(a0, p[3]), SL(a1, p[3] + 1), p[2],
            p[2] + 1);
        return true;
    case IOP_SIMD_BINARY: /* op dst a b */
        if (!in_table(binary_ops, N_OF(binary_ops), sop) && !is_compare(sop))
            return false;
        OUT("{V2 r_=vb%02x(%s,%s,%s,%s);v%u=r_.l;v%u=r_.h;}\n", sop, SL(a0, p[3]), SL(a1, p[3] + 1),
            SL(b0, p[4]), SL(b1, p[4] + 1), p[2], p[2] + 1);
        return true;
    case IOP_SIMD_SHIFT: /* op dst a count */
        if (!in_table(shift_ops, N_OF(shift_ops), sop))
            return false;
        OUT("{V2 r_=vs%02x(%s,%s,(uint32_t)%s);v%u=r_.l;v%u=r_.h;}\n", sop, SL(a0, p[3]),
            SL(a1, p[3] + 1), SL(b0, p[4]), p[2], p[2] + 1);
        return true;
    case IOP_SIMD_TERNARY: /* op dst a b c: v128.bitselect */
        if (sop != 0x52)
            return false;
        OUT("{uint64_t c0_=%s,c1_=%s,l_=(%s&c0_)|(%s&~c0_),h_=(%s&c1_)|(%s&~c1_);v%u=l_;v%u=h_;}"
            "\n",
            SL(x0, p[5]), SL(x1, p[5] + 1), SL(a0, p[3]), SL(b0, p[4]), SL(a1, p[3] + 1),
            SL(b1, p[4] + 1), p[2], p[2] + 1);
        return true;
    case IOP_SIMD_TEST: /* op dst a */
        if (!fwe_simd_lookup(sop, &info) || info.kind != FWE_SIMD_TEST)
            return false;
        OUT("v%u=vtest(0x%xu,%s,%s);\n", p[2], sop, SL(a0, p[3]), SL(a1, p[3] + 1));
        return true;
    }
#undef OUT
#undef SL
    return false;
}
