/* native_gen.c: the native tier's code generator. It turns a function's internal code (code.h,
 * the interpreter's three-address code over frame slots) into one C function in which every
 * slot is a local variable, so the C compiler allocates registers; constants become literals,
 * branches become gotos, traps return through cx->trap with the same word offsets the
 * interpreter reports. Functions using instructions it does not handle stay interpreted. */
#include "native.h"
#include "opcodes.h"
#include "simd.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void fwe_text_add(fwe_text *t, const char *fmt, ...)
{
    if (t->oom)
        return;
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        size_t room = t->cap - t->len;
        int n = vsnprintf(t->p ? t->p + t->len : NULL, room, fmt, ap);
        va_end(ap);
        if (n < 0) {
            t->oom = true;
            return;
        }
        if ((size_t)n < room) {
            t->len += (size_t)n;
            return;
        }
        size_t cap = t->cap ? t->cap * 2 : 4096;
        while (cap - t->len <= (size_t)n)
            cap *= 2;
        char *p = realloc(t->p, cap);
        if (!p) {
            t->oom = true;
            return;
        }
        t->p = p;
        t->cap = cap;
    }
}

void fwe_text_free(fwe_text *t)
{
    free(t->p);
    memset(t, 0, sizeof *t);
}

/* Helpers with the interpreter's exact semantics (interp.c), as C text. */
static const char prelude_helpers[] =
    "#include <math.h>\n#include <stdint.h>\n#include <string.h>\n"
    /* tcc (the quick first compiler, tier.c) lacks these GCC builtins: plain C with the same
     * results (a volatile read is an acquire load on x86-64; clz/ctz are never called with 0) */
    "#ifdef __TINYC__\n"
    "#define __atomic_load_n(p,o) (*(volatile __typeof__(*(p))*)(p))\n"
    "static inline int fwe_clz64(uint64_t x){int n=0;while(!(x>>63)){x<<=1;n++;}return n;}\n"
    "static inline int fwe_ctz64(uint64_t x){int n=0;while(!(x&1)){x>>=1;n++;}return n;}\n"
    "static inline int fwe_pop64(uint64_t x){int n=0;while(x){x&=x-1;n++;}return n;}\n"
    "#define __builtin_clz(x) (fwe_clz64((uint64_t)(x)<<32))\n"
    "#define __builtin_ctz(x) fwe_ctz64(x)\n#define __builtin_popcount(x) fwe_pop64(x)\n"
    "#define __builtin_clzll(x) fwe_clz64(x)\n#define __builtin_ctzll(x) fwe_ctz64(x)\n"
    "#define __builtin_popcountll(x) fwe_pop64(x)\n"
    "#define __builtin_expect(x,y) (x)\n#define __builtin_unreachable() ((void)0)\n"
    /* tcc neither inlines nor expands memcpy: a call per memory access and float bit cast would
     * make its code slower than the interpreter. Sizes are literals, so tcc folds the choice. */
    "#define memcpy(d,s,n) "
    "((n)==8?(void)(*(uint64_t*)(d)=*(const uint64_t*)(s)):(n)==4?(void)(*(uint32_t*)(d)=*(const "
    "uint32_t*)(s)):(n)==2?(void)(*(uint16_t*)(d)=*(const uint16_t*)(s)):(n)==1?(void)(*(uint8_t*)"
    "(d)=*(const uint8_t*)(s)):(void)memcpy(d,s,n))\n"
    "#define bf32(b) (((union{uint32_t u;float f;}){.u=(uint32_t)(b)}).f)\n"
    "#define bf64(b) (((union{uint64_t u;double f;}){.u=(uint64_t)(b)}).f)\n"
    "#define uf32(x) ((uint64_t)((union{float f;uint32_t u;}){.f=(x)}).u)\n"
    "#define uf64(x) (((union{double f;uint64_t u;}){.f=(x)}).u)\n"
    "#else\n"
    "static inline float bf32(uint64_t b){uint32_t w=(uint32_t)b;float f;memcpy(&f,&w,4);return "
    "f;}\n"
    "static inline double bf64(uint64_t b){double d;memcpy(&d,&b,8);return d;}\n"
    "static inline uint64_t uf32(float f){uint32_t b;memcpy(&b,&f,4);return b;}\n"
    "static inline uint64_t uf64(double d){uint64_t b;memcpy(&b,&d,8);return b;}\n"
    "#endif\n"
    "static inline float f32min(float a,float b){if(a!=a||b!=b)return "
    "a!=a?a+a:b+b;if(a==0&&b==0)return "
    "(uf32(a)>>31)?a:b;return a<b?a:b;}\n"
    "static inline float f32max(float a,float b){if(a!=a||b!=b)return "
    "a!=a?a+a:b+b;if(a==0&&b==0)return "
    "(uf32(a)>>31)?b:a;return a>b?a:b;}\n"
    "static inline double f64min(double a,double b){if(a!=a||b!=b)return "
    "a!=a?a+a:b+b;if(a==0&&b==0)return "
    "(uf64(a)>>63)?a:b;return a<b?a:b;}\n"
    "static inline double f64max(double a,double b){if(a!=a||b!=b)return "
    "a!=a?a+a:b+b;if(a==0&&b==0)return "
    "(uf64(a)>>63)?b:a;return a>b?a:b;}\n"
    "static inline uint32_t rotl32(uint32_t a,uint32_t b){b&=31;return "
    "(a<<b)|(a>>((32-b)&31));}\n"
    "static inline uint32_t rotr32(uint32_t a,uint32_t b){b&=31;return "
    "(a>>b)|(a<<((32-b)&31));}\n"
    "static inline uint64_t rotl64(uint64_t a,uint64_t b){b&=63;return "
    "(a<<b)|(a>>((64-b)&63));}\n"
    "static inline uint64_t rotr64(uint64_t a,uint64_t b){b&=63;return "
    "(a>>b)|(a<<((64-b)&63));}\n"
    "static inline int32_t sati32(double x){if(x!=x)return 0;if(x<=-2147483649.0)return "
    "INT32_MIN;if(x>=2147483648.0)return INT32_MAX;return (int32_t)x;}\n"
    "static inline uint32_t satu32(double x){if(x!=x||x<=-1.0)return 0;if(x>=4294967296.0)return "
    "UINT32_MAX;return (uint32_t)x;}\n"
    "static inline int64_t sati64(double x){if(x!=x)return 0;if(x<-9223372036854775808.0)return "
    "INT64_MIN;if(x>=9223372036854775808.0)return INT64_MAX;return (int64_t)x;}\n"
    "static inline uint64_t satu64(double x){if(x!=x||x<=-1.0)return "
    "0;if(x>=18446744073709551616.0)return UINT64_MAX;return (uint64_t)x;}\n"
    "#ifdef __TINYC__\n" /* tcc folds no float expressions: no barrier needed */
    "static inline double fbar(double d){return d;}\nstatic inline float fbarf(float f){return "
    "f;}\n#else\n"
    "static inline double fbar(double d){__asm__(\"\" : \"+x\"(d));return d;}\n"
    "static inline float fbarf(float f){__asm__(\"\" : \"+x\"(f));return f;}\n"
    "#endif\n"
    "#define FWE_CAT2(a,b) a##b\n#define FWE_CAT(a,b) FWE_CAT2(a,b)\n#define FWE_NB "
    "FWE_CAT(FWE_NF,_b)\n"
    "#if defined(__x86_64__)\n#define SP_() ({const char*s_;__asm__(\"mov "
    "%%rsp,%0\":\"=r\"(s_));s_;})\n"
    "#else\n#define SP_() ((const char*)__builtin_frame_address(0))\n#endif\n"
    /* TRAP(k, w): a trap inside the instruction at word w, reported a word past its start */
    "#define TRAP(k,w) return FWE_R(cx->trap(cx,(k),self->words+(w)+1))\n"
    /* a body's return value: the status alone, or for a function with one result slot the
     * status and the result (rax:rdx), so a self-call reads it from registers, not from fp */
    "typedef struct{uint32_t k;uint64_t v;}fwe_nr;\n"
    "#define CHK(ea,n,w) "
    "do{if(__builtin_expect((int64_t)(ea)>ms-(int64_t)(n),0))TRAP(5,w);}while(0)\n"
    "#define MSA(b) do{if(ms<(int64_t)(b))__builtin_unreachable();}while(0)\n"
    "#define BACK(w) "
    "do{if(__atomic_load_n(intr_,__ATOMIC_RELAXED)&&cx->poll(cx,self,QK_))TRAP(11,w);}while(0)\n"
    /* UP(t), at a backward branch to loop header t: quick code (tcc) whose function got newer code
     * (gcc's, from an optimize job) hands its frame over there, as the interpreter does (every
     * slot to fp, then the new code's OSR entry in the same frame record) */
    "#ifdef __TINYC__\n#define QK_ 1\n#else\n#define QK_ 2\n#endif\n" /* a sample's FWE_SAMPLE_* */
    "#ifdef __TINYC__\n"
    "#define UP(t) do{fwe_nfn n_=__atomic_load_n(&self->fn,0);if(n_!=FWE_NF){FWE_SPILL;"
    "((fwe_ndef*)self)->tier_ups++;*cx->depth=d_-1;uint32_t k_="
    "n_(cx,ni,fp,f_->ret_pc,self,(t)+1);return FWE_RP(k_);}}while(0)\n"
    "#else\n#define UP(t)\n#endif\n";

void fwe_native_prelude(fwe_text *out)
{
    fwe_text_add(out, "/* generated by the fastlike engine's native tier (ABI %d) */\n",
                 FWE_NABI_VERSION);
    fwe_text_add(out, "%s", prelude_helpers);
    fwe_text_add(out, "%s\n", FWE_NABI_STR(FWE_NABI_DEFS));
}

/* ---------- the generator ---------- */

typedef struct gen {
    const fwe_module *m;
    const fwe_code *code;
    const fwe_word *w;
    fwe_text *out;
    uint8_t *is_target;  /* per word: a branch lands here */
    uint8_t *is_backtgt; /* per word: a backward branch lands here (loop header, OSR entry) */
    bool uses_mem;
    bool may_grow; /* memory.grow or a call to another function: memory 0 may change size */
    /* the body returns its one result slot with the status (fwe_nr) instead of in fp[0]: only
     * for functions that call themselves, since the entry can then no longer tail-call the body */
    bool regret;
    uint32_t def;
    uint64_t min_bytes; /* memory 0's declared minimum: its size never drops below */
} gen;

/* Whether slot s is a constant slot read as a literal. The return sequence moves results into
 * slots 0.., which may overlap the constant area when a function has no params or locals: those
 * slots are variables initialised with their constant. */
static bool is_literal(const fwe_code *c, uint32_t s)
{
    return s >= c->const_base && s < c->const_base + c->nconst_slots && s >= c->result_slots;
}

/* Operand text of slot s: a literal for constant slots, the variable otherwise. */
static const char *R(gen *g, uint32_t s, char *buf, size_t n)
{
    const fwe_code *c = g->code;
    if (is_literal(c, s))
        snprintf(buf, n, "UINT64_C(0x%" PRIx64 ")", c->consts[s - c->const_base]);
    else
        snprintf(buf, n, "v%u", s);
    return buf;
}
#define RA(k) R(g, p[k], ra, sizeof ra)
#define RB(k) R(g, p[k], rb, sizeof rb)
#define RC(k) R(g, p[k], rc, sizeof rc)
#define OUT(...) fwe_text_add(g->out, __VA_ARGS__)

/* Word length of the instruction at p; 0 when the generator does not handle it. */
static uint32_t insn_len(const fwe_word *p)
{
    uint32_t op = p[0];
    if (op >= OP_I32_LOAD && op <= OP_I64_STORE32)
        return 4;
    if (op >= OP_I32_EQZ && op <= OP_I64_EXTEND32_S) {
        bool unary =
            op == OP_I32_EQZ || op == OP_I64_EQZ || (op >= OP_I32_CLZ && op <= OP_I32_POPCNT) ||
            (op >= OP_I64_CLZ && op <= OP_I64_POPCNT) || (op >= OP_F32_ABS && op <= OP_F32_SQRT) ||
            (op >= OP_F64_ABS && op <= OP_F64_SQRT) || op >= OP_I32_WRAP_I64;
        return unary ? 3 : 4;
    }
    if (op >= IOP_TRUNC_SAT_BASE && op < IOP_TRUNC_SAT_BASE + 8)
        return 3;
    if (op >= IOP_BRT_BASE && op < IOP_LOADX_BASE) {
        uint32_t k = (op - IOP_BRT_BASE) % 22;
        return k == 0 || k == 11 ? 3 : 4;
    }
    if (op >= IOP_LOADX_BASE && op < IOP_COUNT)
        return 5;
    switch (op) {
    case IOP_UNREACHABLE:
    case IOP_NOP:
    case IOP_RETURN:
        return 1;
    case IOP_MOV:
    case IOP_MOV2:
        return 3;
    case IOP_CONST:
        return 4;
    case IOP_CONST128:
        return 6;
    case IOP_BR:
        return 2;
    case IOP_BR_IF:
    case IOP_BR_UNLESS:
        return 3;
    case IOP_BR_TABLE:
        return 3 + p[2] + 1;
    case IOP_CALL:
    case IOP_CALL_IMPORT:
        return 3;
    case IOP_CALL_INDIRECT:
        return 5;
    case IOP_SELECT:
    case IOP_SELECT2:
        return 5;
    case IOP_GLOBAL_GET:
    case IOP_GLOBAL_GET2:
    case IOP_GLOBAL_SET:
    case IOP_GLOBAL_SET2:
        return 3;
    case IOP_MEMORY_SIZE:
        return 2;
    case IOP_MEMORY_GROW:
        return 3;
    case IOP_MEMORY_COPY:
    case IOP_MEMORY_FILL:
        return 4;
    case IOP_REF_FUNC:
    case IOP_REF_IS_NULL:
        return 3;
    /* table and segment instructions (run-time helper cx->bulk) */
    case IOP_DATA_DROP:
    case IOP_ELEM_DROP:
        return 2;
    case IOP_TABLE_SIZE:
        return 3;
    case IOP_TABLE_GET:
    case IOP_TABLE_SET:
        return 4;
    case IOP_MEMORY_INIT:
    case IOP_TABLE_GROW:
    case IOP_TABLE_FILL:
        return 5;
    case IOP_TABLE_INIT:
    case IOP_TABLE_COPY:
        return 6;
    default:
        return fwe_native_simd_len(p); /* 0 for anything else: stays interpreted */
    }
}

/* Functions with at most this many parameter slots take them as C arguments in self-calls. */
#define REGARGS 8

static void mark_target(gen *g, uint32_t from, uint32_t to)
{
    g->is_target[to] = 1;
    if (to <= from)
        g->is_backtgt[to] = 1;
}

/* First pass: every instruction is known; branch targets marked. */
static bool scan(gen *g)
{
    const fwe_code *c = g->code;
    for (uint32_t at = 0; at < c->nwords;) {
        const fwe_word *p = c->words + at;
        uint32_t len = insn_len(p);
        if (!len || at + len > c->nwords)
            return false;
        uint32_t op = p[0];
        if (op >= OP_I32_LOAD && op <= OP_I64_STORE32)
            g->uses_mem = true;
        if (op >= IOP_LOADX_BASE && op < IOP_COUNT)
            g->uses_mem = true;
        switch (op) {
        case IOP_BR:
            if (p[1] >= c->nwords)
                return false;
            mark_target(g, at, p[1]);
            break;
        case IOP_BR_IF:
        case IOP_BR_UNLESS:
            if (p[2] >= c->nwords)
                return false;
            mark_target(g, at, p[2]);
            break;
        case IOP_BR_TABLE:
            for (uint32_t i = 0; i <= p[2]; i++) {
                if (p[3 + i] >= c->nwords)
                    return false;
                mark_target(g, at, p[3 + i]);
            }
            break;
        case IOP_MEMORY_SIZE:
        case IOP_MEMORY_GROW:
        case IOP_MEMORY_COPY:
        case IOP_MEMORY_FILL:
        case IOP_CALL:
        case IOP_CALL_IMPORT:
        case IOP_CALL_INDIRECT:
            g->uses_mem = true;
            break;
        default:
            break;
        }
        /* memory 0 changes size only by memory.grow, here or in a callee other than itself */
        if (op == IOP_MEMORY_GROW || op == IOP_CALL_IMPORT || op == IOP_CALL_INDIRECT ||
            (op == IOP_CALL && p[1] != g->def))
            g->may_grow = true;
        if (op == IOP_CALL && p[1] == g->def && c->result_slots == 1)
            g->regret = true;
        switch (op) {
        default:
            if (op >= IOP_BRT_BASE && op < IOP_LOADX_BASE) {
                uint32_t t = len == 3 ? p[2] : p[3];
                if (t >= c->nwords)
                    return false;
                mark_target(g, at, t);
            }
        }
        at += len;
    }
    return true;
}

static const fwe_functype *type_by_id(const fwe_module *m, uint32_t id)
{
    for (uint32_t i = 0; i < m->ntypes; i++)
        if (m->types[i].id == id)
            return &m->types[i];
    return NULL;
}

static void emit_jump(gen *g, uint32_t at, uint32_t to)
{
    if (to <= at)
        OUT("{BACK(%u);UP(%u);goto L%u;}", at, to, to);
    else
        OUT("goto L%u;", to);
}

/* Spill args, call, reload results: `callexpr` returns the trap kind. */
/* After a call: a trap goes up; the results come from the callee's frame, or for a self-call
 * of a function that returns its result in registers (regret) from the returned pair q_. Memory 0's
 * size is reloaded unless the call was to the function itself and it cannot grow memory. */
static void emit_call_tail(gen *g, uint32_t argbase, const fwe_functype *t, bool self_call)
{
    bool inreg = self_call && g->regret;
    if (inreg)
        OUT("uint32_t r_=q_.k;");
    OUT("if(r_)return FWE_R(r_);");
    if (inreg)
        OUT("v%u=q_.v;", argbase);
    for (uint32_t i = 0; !inreg && i < t->result_slots; i++)
        OUT("v%u=fp[%u];", argbase + i, argbase + i);
    if (g->m->nmemories && !(self_call && !g->may_grow))
        OUT("ms=(int64_t)ni->mem0->size;MSA(%" PRIu64 "u);", g->min_bytes);
    OUT("}\n");
}
/* Return: the results to fp[0..], or the single result slot in the returned pair (FWE_RV, when
 * regret: the entry FWE_NF then stores it to fp[0] for callers other than the function itself). */
static void emit_return(gen *g)
{
    char ra[48];
    uint32_t rs = g->code->result_slots;
    if (g->regret) {
        OUT("*cx->depth=d_-1;return FWE_RV(%s);\n", R(g, 0, ra, sizeof ra));
        return;
    }
    for (uint32_t i = 0; i < rs; i++)
        OUT("fp[%u]=%s;", i, R(g, i, ra, sizeof ra));
    OUT("*cx->depth=d_-1;return FWE_R(0);\n");
}
static void emit_spill(gen *g, uint32_t argbase, const fwe_functype *t)
{
    char ra[48];
    for (uint32_t i = 0; i < t->param_slots; i++)
        OUT("fp[%u]=%s;", argbase + i, R(g, argbase + i, ra, sizeof ra));
}

static const char *const load_conv[14] = {"(uint64_t)(uint32_t)t_",          "(uint64_t)t_",
                                          "(uint64_t)(uint32_t)t_",          "(uint64_t)t_",
                                          "(uint64_t)(uint32_t)(int32_t)t_", "(uint64_t)t_",
                                          "(uint64_t)(uint32_t)(int32_t)t_", "(uint64_t)t_",
                                          "(uint64_t)(int64_t)t_",           "(uint64_t)t_",
                                          "(uint64_t)(int64_t)t_",           "(uint64_t)t_",
                                          "(uint64_t)(int64_t)t_",           "(uint64_t)t_"};
static const char *const load_type[14] = {"uint32_t", "uint64_t", "uint32_t", "uint64_t", "int8_t",
                                          "uint8_t",  "int16_t",  "uint16_t", "int8_t",   "uint8_t",
                                          "int16_t",  "uint16_t", "int32_t",  "uint32_t"};
static const uint8_t load_size[14] = {4, 8, 4, 8, 1, 1, 2, 2, 1, 1, 2, 2, 4, 4};
static const char *const store_type[9] = {"uint32_t", "uint64_t", "uint32_t", "uint64_t", "uint8_t",
                                          "uint16_t", "uint8_t",  "uint16_t", "uint32_t"};
static const uint8_t store_size[9] = {4, 8, 4, 8, 1, 2, 1, 2, 4};

/* Expression of numeric op `op` with operands a (and b) as C text. */
static bool numeric_expr(uint32_t op, const char *a, const char *b, char *e, size_t n)
{
#define E(...) snprintf(e, n, __VA_ARGS__)
    switch (op) {
    case OP_I32_EQZ:
        E("(uint64_t)((uint32_t)%s==0)", a);
        break;
    case OP_I32_EQ:
        E("(uint64_t)((uint32_t)%s==(uint32_t)%s)", a, b);
        break;
    case OP_I32_NE:
        E("(uint64_t)((uint32_t)%s!=(uint32_t)%s)", a, b);
        break;
    case OP_I32_LT_S:
        E("(uint64_t)((int32_t)%s<(int32_t)%s)", a, b);
        break;
    case OP_I32_LT_U:
        E("(uint64_t)((uint32_t)%s<(uint32_t)%s)", a, b);
        break;
    case OP_I32_GT_S:
        E("(uint64_t)((int32_t)%s>(int32_t)%s)", a, b);
        break;
    case OP_I32_GT_U:
        E("(uint64_t)((uint32_t)%s>(uint32_t)%s)", a, b);
        break;
    case OP_I32_LE_S:
        E("(uint64_t)((int32_t)%s<=(int32_t)%s)", a, b);
        break;
    case OP_I32_LE_U:
        E("(uint64_t)((uint32_t)%s<=(uint32_t)%s)", a, b);
        break;
    case OP_I32_GE_S:
        E("(uint64_t)((int32_t)%s>=(int32_t)%s)", a, b);
        break;
    case OP_I32_GE_U:
        E("(uint64_t)((uint32_t)%s>=(uint32_t)%s)", a, b);
        break;
    case OP_I64_EQZ:
        E("(uint64_t)(%s==0)", a);
        break;
    case OP_I64_EQ:
        E("(uint64_t)(%s==%s)", a, b);
        break;
    case OP_I64_NE:
        E("(uint64_t)(%s!=%s)", a, b);
        break;
    case OP_I64_LT_S:
        E("(uint64_t)((int64_t)%s<(int64_t)%s)", a, b);
        break;
    case OP_I64_LT_U:
        E("(uint64_t)(%s<%s)", a, b);
        break;
    case OP_I64_GT_S:
        E("(uint64_t)((int64_t)%s>(int64_t)%s)", a, b);
        break;
    case OP_I64_GT_U:
        E("(uint64_t)(%s>%s)", a, b);
        break;
    case OP_I64_LE_S:
        E("(uint64_t)((int64_t)%s<=(int64_t)%s)", a, b);
        break;
    case OP_I64_LE_U:
        E("(uint64_t)(%s<=%s)", a, b);
        break;
    case OP_I64_GE_S:
        E("(uint64_t)((int64_t)%s>=(int64_t)%s)", a, b);
        break;
    case OP_I64_GE_U:
        E("(uint64_t)(%s>=%s)", a, b);
        break;
    case OP_F32_EQ:
        E("(uint64_t)(bf32(%s)==bf32(%s))", a, b);
        break;
    case OP_F32_NE:
        E("(uint64_t)(bf32(%s)!=bf32(%s))", a, b);
        break;
    case OP_F32_LT:
        E("(uint64_t)(bf32(%s)<bf32(%s))", a, b);
        break;
    case OP_F32_GT:
        E("(uint64_t)(bf32(%s)>bf32(%s))", a, b);
        break;
    case OP_F32_LE:
        E("(uint64_t)(bf32(%s)<=bf32(%s))", a, b);
        break;
    case OP_F32_GE:
        E("(uint64_t)(bf32(%s)>=bf32(%s))", a, b);
        break;
    case OP_F64_EQ:
        E("(uint64_t)(bf64(%s)==bf64(%s))", a, b);
        break;
    case OP_F64_NE:
        E("(uint64_t)(bf64(%s)!=bf64(%s))", a, b);
        break;
    case OP_F64_LT:
        E("(uint64_t)(bf64(%s)<bf64(%s))", a, b);
        break;
    case OP_F64_GT:
        E("(uint64_t)(bf64(%s)>bf64(%s))", a, b);
        break;
    case OP_F64_LE:
        E("(uint64_t)(bf64(%s)<=bf64(%s))", a, b);
        break;
    case OP_F64_GE:
        E("(uint64_t)(bf64(%s)>=bf64(%s))", a, b);
        break;
    case OP_I32_CLZ:
        E("(uint64_t)((uint32_t)%s?(uint32_t)__builtin_clz((uint32_t)%s):32u)", a, a);
        break;
    case OP_I32_CTZ:
        E("(uint64_t)((uint32_t)%s?(uint32_t)__builtin_ctz((uint32_t)%s):32u)", a, a);
        break;
    case OP_I32_POPCNT:
        E("(uint64_t)(uint32_t)__builtin_popcount((uint32_t)%s)", a);
        break;
    case OP_I32_ADD:
        E("(uint64_t)(uint32_t)((uint32_t)%s+(uint32_t)%s)", a, b);
        break;
    case OP_I32_SUB:
        E("(uint64_t)(uint32_t)((uint32_t)%s-(uint32_t)%s)", a, b);
        break;
    case OP_I32_MUL:
        E("(uint64_t)(uint32_t)((uint32_t)%s*(uint32_t)%s)", a, b);
        break;
    case OP_I32_AND:
        E("(uint64_t)((uint32_t)%s&(uint32_t)%s)", a, b);
        break;
    case OP_I32_OR:
        E("(uint64_t)((uint32_t)%s|(uint32_t)%s)", a, b);
        break;
    case OP_I32_XOR:
        E("(uint64_t)((uint32_t)%s^(uint32_t)%s)", a, b);
        break;
    case OP_I32_SHL:
        E("(uint64_t)(uint32_t)((uint32_t)%s<<((uint32_t)%s&31))", a, b);
        break;
    case OP_I32_SHR_S:
        E("(uint64_t)(uint32_t)((int32_t)%s>>((uint32_t)%s&31))", a, b);
        break;
    case OP_I32_SHR_U:
        E("(uint64_t)((uint32_t)%s>>((uint32_t)%s&31))", a, b);
        break;
    case OP_I32_ROTL:
        E("(uint64_t)rotl32((uint32_t)%s,(uint32_t)%s)", a, b);
        break;
    case OP_I32_ROTR:
        E("(uint64_t)rotr32((uint32_t)%s,(uint32_t)%s)", a, b);
        break;
    case OP_I64_CLZ:
        E("(uint64_t)(%s?(uint64_t)__builtin_clzll(%s):64u)", a, a);
        break;
    case OP_I64_CTZ:
        E("(uint64_t)(%s?(uint64_t)__builtin_ctzll(%s):64u)", a, a);
        break;
    case OP_I64_POPCNT:
        E("(uint64_t)__builtin_popcountll(%s)", a);
        break;
    case OP_I64_ADD:
        E("(uint64_t)(%s+%s)", a, b);
        break;
    case OP_I64_SUB:
        E("(uint64_t)(%s-%s)", a, b);
        break;
    case OP_I64_MUL:
        E("(uint64_t)(%s*%s)", a, b);
        break;
    case OP_I64_AND:
        E("(uint64_t)(%s&%s)", a, b);
        break;
    case OP_I64_OR:
        E("(uint64_t)(%s|%s)", a, b);
        break;
    case OP_I64_XOR:
        E("(uint64_t)(%s^%s)", a, b);
        break;
    case OP_I64_SHL:
        E("(uint64_t)(%s<<(%s&63))", a, b);
        break;
    case OP_I64_SHR_S:
        E("(uint64_t)((int64_t)%s>>(%s&63))", a, b);
        break;
    case OP_I64_SHR_U:
        E("(uint64_t)(%s>>(%s&63))", a, b);
        break;
    case OP_I64_ROTL:
        E("rotl64(%s,%s)", a, b);
        break;
    case OP_I64_ROTR:
        E("rotr64(%s,%s)", a, b);
        break;
    case OP_F32_ABS:
        E("(uint64_t)((uint32_t)%s&0x7fffffffu)", a);
        break;
    case OP_F32_NEG:
        E("(uint64_t)((uint32_t)%s^0x80000000u)", a);
        break;
    case OP_F32_CEIL:
        E("uf32(bf32(%s)!=bf32(%s)?bf32(%s)+bf32(%s):ceilf(bf32(%s)))", a, a, a, a, a);
        break;
    case OP_F32_FLOOR:
        E("uf32(bf32(%s)!=bf32(%s)?bf32(%s)+bf32(%s):floorf(bf32(%s)))", a, a, a, a, a);
        break;
    case OP_F32_TRUNC:
        E("uf32(bf32(%s)!=bf32(%s)?bf32(%s)+bf32(%s):truncf(bf32(%s)))", a, a, a, a, a);
        break;
    case OP_F32_NEAREST:
        E("uf32(bf32(%s)!=bf32(%s)?bf32(%s)+bf32(%s):nearbyintf(bf32(%s)))", a, a, a, a, a);
        break;
    case OP_F32_SQRT:
        E("uf32(sqrtf(bf32(%s)))", a);
        break;
    case OP_F32_ADD:
        E("uf32(bf32(%s)+bf32(%s))", a, b);
        break;
    case OP_F32_SUB:
        E("uf32(bf32(%s)-bf32(%s))", a, b);
        break;
    case OP_F32_MUL:
        E("uf32(bf32(%s)*bf32(%s))", a, b);
        break;
    case OP_F32_DIV:
        E("uf32(bf32(%s)/bf32(%s))", a, b);
        break;
    case OP_F32_MIN:
        E("uf32(f32min(bf32(%s),bf32(%s)))", a, b);
        break;
    case OP_F32_MAX:
        E("uf32(f32max(bf32(%s),bf32(%s)))", a, b);
        break;
    case OP_F32_COPYSIGN:
        E("(uint64_t)(((uint32_t)%s&0x7fffffffu)|((uint32_t)%s&0x80000000u))", a, b);
        break;
    case OP_F64_ABS:
        E("(%s&UINT64_C(0x7fffffffffffffff))", a);
        break;
    case OP_F64_NEG:
        E("(%s^UINT64_C(0x8000000000000000))", a);
        break;
    case OP_F64_CEIL:
        E("uf64(bf64(%s)!=bf64(%s)?bf64(%s)+bf64(%s):ceil(bf64(%s)))", a, a, a, a, a);
        break;
    case OP_F64_FLOOR:
        E("uf64(bf64(%s)!=bf64(%s)?bf64(%s)+bf64(%s):floor(bf64(%s)))", a, a, a, a, a);
        break;
    case OP_F64_TRUNC:
        E("uf64(bf64(%s)!=bf64(%s)?bf64(%s)+bf64(%s):trunc(bf64(%s)))", a, a, a, a, a);
        break;
    case OP_F64_NEAREST:
        E("uf64(bf64(%s)!=bf64(%s)?bf64(%s)+bf64(%s):nearbyint(bf64(%s)))", a, a, a, a, a);
        break;
    case OP_F64_SQRT:
        E("uf64(sqrt(bf64(%s)))", a);
        break;
    case OP_F64_ADD:
        E("uf64(bf64(%s)+bf64(%s))", a, b);
        break;
    case OP_F64_SUB:
        E("uf64(bf64(%s)-bf64(%s))", a, b);
        break;
    case OP_F64_MUL:
        E("uf64(bf64(%s)*bf64(%s))", a, b);
        break;
    case OP_F64_DIV:
        E("uf64(bf64(%s)/bf64(%s))", a, b);
        break;
    case OP_F64_MIN:
        E("uf64(f64min(bf64(%s),bf64(%s)))", a, b);
        break;
    case OP_F64_MAX:
        E("uf64(f64max(bf64(%s),bf64(%s)))", a, b);
        break;
    case OP_F64_COPYSIGN:
        E("((%s&UINT64_C(0x7fffffffffffffff))|(%s&UINT64_C(0x8000000000000000)))", a, b);
        break;
    case OP_I32_WRAP_I64:
        E("(uint64_t)(uint32_t)%s", a);
        break;
    case OP_I64_EXTEND_I32_S:
        E("(uint64_t)(int64_t)(int32_t)(uint32_t)%s", a);
        break;
    case OP_I64_EXTEND_I32_U:
        E("(uint64_t)(uint32_t)%s", a);
        break;
    case OP_F32_CONVERT_I32_S:
        E("uf32((float)(int32_t)(uint32_t)%s)", a);
        break;
    case OP_F32_CONVERT_I32_U:
        E("uf32((float)(uint32_t)%s)", a);
        break;
    case OP_F32_CONVERT_I64_S:
        E("uf32((float)(int64_t)%s)", a);
        break;
    case OP_F32_CONVERT_I64_U:
        E("uf32((float)%s)", a);
        break;
    case OP_F32_DEMOTE_F64:
        E("uf32(fbarf((float)fbar(bf64(%s))))", a);
        break;
    case OP_F64_CONVERT_I32_S:
        E("uf64((double)(int32_t)(uint32_t)%s)", a);
        break;
    case OP_F64_CONVERT_I32_U:
        E("uf64((double)(uint32_t)%s)", a);
        break;
    case OP_F64_CONVERT_I64_S:
        E("uf64((double)(int64_t)%s)", a);
        break;
    case OP_F64_CONVERT_I64_U:
        E("uf64((double)%s)", a);
        break;
    case OP_F64_PROMOTE_F32:
        E("uf64(fbar((double)fbarf(bf32(%s))))", a);
        break;
    case OP_I32_REINTERPRET_F32:
        E("(uint64_t)(uint32_t)%s", a);
        break;
    case OP_I64_REINTERPRET_F64:
        E("%s", a);
        break;
    case OP_F32_REINTERPRET_I32:
        E("(uint64_t)(uint32_t)%s", a);
        break;
    case OP_F64_REINTERPRET_I64:
        E("%s", a);
        break;
    case OP_I32_EXTEND8_S:
        E("(uint64_t)(uint32_t)(int32_t)(int8_t)(uint32_t)%s", a);
        break;
    case OP_I32_EXTEND16_S:
        E("(uint64_t)(uint32_t)(int32_t)(int16_t)(uint32_t)%s", a);
        break;
    case OP_I64_EXTEND8_S:
        E("(uint64_t)(int64_t)(int8_t)%s", a);
        break;
    case OP_I64_EXTEND16_S:
        E("(uint64_t)(int64_t)(int16_t)%s", a);
        break;
    case OP_I64_EXTEND32_S:
        E("(uint64_t)(int64_t)(int32_t)%s", a);
        break;
    case IOP_TRUNC_SAT_BASE + 0:
        E("(uint64_t)(uint32_t)sati32(bf32(%s))", a);
        break;
    case IOP_TRUNC_SAT_BASE + 1:
        E("(uint64_t)satu32(bf32(%s))", a);
        break;
    case IOP_TRUNC_SAT_BASE + 2:
        E("(uint64_t)(uint32_t)sati32(bf64(%s))", a);
        break;
    case IOP_TRUNC_SAT_BASE + 3:
        E("(uint64_t)satu32(bf64(%s))", a);
        break;
    case IOP_TRUNC_SAT_BASE + 4:
        E("(uint64_t)sati64(bf32(%s))", a);
        break;
    case IOP_TRUNC_SAT_BASE + 5:
        E("satu64(bf32(%s))", a);
        break;
    case IOP_TRUNC_SAT_BASE + 6:
        E("(uint64_t)sati64(bf64(%s))", a);
        break;
    case IOP_TRUNC_SAT_BASE + 7:
        E("satu64(bf64(%s))", a);
        break;
    default:
        return false;
    }
#undef E
    return true;
}

/* The trapping numeric instructions (division, remainder, float-to-int). */
static bool emit_trapping(gen *g, uint32_t at, const fwe_word *p)
{
    char ra[48], rb[48];
    uint32_t op = p[0];
    switch (op) {
    case OP_I32_DIV_S:
    case OP_I32_DIV_U:
    case OP_I32_REM_S:
    case OP_I32_REM_U:
        OUT("{uint32_t a_=(uint32_t)%s,b_=(uint32_t)%s;if(b_==0)TRAP(2,%u);", RA(2), RB(3), at);
        if (op == OP_I32_DIV_S)
            OUT("if(a_==0x80000000u&&b_==0xffffffffu)TRAP(3,%u);v%u=(uint32_t)((int32_t)a_/"
                "(int32_t)b_);}\n",
                at, p[1]);
        else if (op == OP_I32_DIV_U)
            OUT("v%u=a_/b_;}\n", p[1]);
        else if (op == OP_I32_REM_S)
            OUT("v%u=(b_==0xffffffffu)?0:(uint32_t)((int32_t)a_%%(int32_t)b_);}\n", p[1]);
        else
            OUT("v%u=a_%%b_;}\n", p[1]);
        return true;
    case OP_I64_DIV_S:
    case OP_I64_DIV_U:
    case OP_I64_REM_S:
    case OP_I64_REM_U:
        OUT("{uint64_t a_=%s,b_=%s;if(b_==0)TRAP(2,%u);", RA(2), RB(3), at);
        if (op == OP_I64_DIV_S)
            OUT("if(a_==UINT64_C(0x8000000000000000)&&b_==UINT64_MAX)TRAP(3,%u);v%u=(uint64_t)(("
                "int64_t)"
                "a_/(int64_t)b_);}\n",
                at, p[1]);
        else if (op == OP_I64_DIV_U)
            OUT("v%u=a_/b_;}\n", p[1]);
        else if (op == OP_I64_REM_S)
            OUT("v%u=(b_==UINT64_MAX)?0:(uint64_t)((int64_t)a_%%(int64_t)b_);}\n", p[1]);
        else
            OUT("v%u=a_%%b_;}\n", p[1]);
        return true;
    case OP_I32_TRUNC_F32_S:
    case OP_I32_TRUNC_F32_U:
    case OP_I32_TRUNC_F64_S:
    case OP_I32_TRUNC_F64_U:
    case OP_I64_TRUNC_F32_S:
    case OP_I64_TRUNC_F32_U:
    case OP_I64_TRUNC_F64_S:
    case OP_I64_TRUNC_F64_U: {
        bool from32 = op == OP_I32_TRUNC_F32_S || op == OP_I32_TRUNC_F32_U ||
                      op == OP_I64_TRUNC_F32_S || op == OP_I64_TRUNC_F32_U;
        OUT("{double x_=%s(%s);if(x_!=x_)TRAP(4,%u);", from32 ? "bf32" : "bf64", RA(2), at);
        switch (op) {
        case OP_I32_TRUNC_F32_S:
        case OP_I32_TRUNC_F64_S:
            OUT("if(!(x_>-2147483649.0&&x_<2147483648.0))TRAP(3,%u);v%u=(uint32_t)(int32_t)x_;}\n",
                at, p[1]);
            break;
        case OP_I32_TRUNC_F32_U:
        case OP_I32_TRUNC_F64_U:
            OUT("if(!(x_>-1.0&&x_<4294967296.0))TRAP(3,%u);v%u=(uint32_t)x_;}\n", at, p[1]);
            break;
        case OP_I64_TRUNC_F32_S:
        case OP_I64_TRUNC_F64_S:
            OUT("if(!(x_>=-9223372036854775808.0&&x_<9223372036854775808.0))TRAP(3,%u);v%u=("
                "uint64_t)(int64_t)x_;}\n",
                at, p[1]);
            break;
        default:
            OUT("if(!(x_>-1.0&&x_<18446744073709551616.0))TRAP(3,%u);v%u=(uint64_t)x_;}\n", at,
                p[1]);
        }
        return true;
    }
    }
    return false;
}

/* Table and segment instructions: the helper cx->bulk with the slot operands in order. */
static bool emit_bulk(gen *g, uint32_t at, const fwe_word *p)
{
    char ops[3][48] = {"0", "0", "0"};
    uint32_t first = 0, nops = 0, dst = UINT32_MAX;
    switch (p[0]) {
    case IOP_TABLE_GET:
        dst = p[1], first = 3, nops = 1;
        break;
    case IOP_TABLE_SET:
        first = 2, nops = 2;
        break;
    case IOP_TABLE_INIT:
    case IOP_TABLE_COPY:
        first = 3, nops = 3;
        break;
    case IOP_TABLE_GROW:
        dst = p[1], first = 3, nops = 2;
        break;
    case IOP_TABLE_SIZE:
        dst = p[1];
        break;
    case IOP_TABLE_FILL:
    case IOP_MEMORY_INIT:
        first = 2, nops = 3;
        break;
    }
    for (uint32_t k = 0; k < nops; k++)
        R(g, p[first + k], ops[k], sizeof ops[k]);
    OUT("{uint64_t o_=0;uint32_t r_=cx->bulk(cx,ni,self->words+%u,%s,%s,%s,&o_);if(r_)return "
        "FWE_R(r_);(void)o_;",
        at, ops[0], ops[1], ops[2]);
    if (dst != UINT32_MAX)
        OUT("v%u=o_;", dst);
    OUT("}\n");
    return true;
}

static const char *const brcmp[22] = {"(uint32_t)A==0",
                                      "(uint32_t)A==(uint32_t)B",
                                      "(uint32_t)A!=(uint32_t)B",
                                      "(int32_t)A<(int32_t)B",
                                      "(uint32_t)A<(uint32_t)B",
                                      "(int32_t)A>(int32_t)B",
                                      "(uint32_t)A>(uint32_t)B",
                                      "(int32_t)A<=(int32_t)B",
                                      "(uint32_t)A<=(uint32_t)B",
                                      "(int32_t)A>=(int32_t)B",
                                      "(uint32_t)A>=(uint32_t)B",
                                      "A==0",
                                      "A==B",
                                      "A!=B",
                                      "(int64_t)A<(int64_t)B",
                                      "A<B",
                                      "(int64_t)A>(int64_t)B",
                                      "A>B",
                                      "(int64_t)A<=(int64_t)B",
                                      "A<=B",
                                      "(int64_t)A>=(int64_t)B",
                                      "A>=B"};

/* Writes the compare text with A and B replaced by the operand texts. */
static void emit_cmp(gen *g, uint32_t k, const char *a, const char *b)
{
    for (const char *s = brcmp[k]; *s; s++) {
        if (*s == 'A')
            OUT("%s", a);
        else if (*s == 'B')
            OUT("%s", b);
        else
            OUT("%c", *s);
    }
}

static bool emit_insn(gen *g, uint32_t at, const fwe_word *p)
{
    const fwe_module *m = g->m;
    char ra[48], rb[48], rc[48], e[512];
    uint32_t op = p[0];
    uint32_t len = insn_len(p);
    if (op >= OP_I32_LOAD && op <= OP_I64_LOAD32_U) {
        uint32_t k = op - OP_I32_LOAD;
        OUT("{uint64_t ea_=(uint64_t)(uint32_t)%s;CHK(ea_,%" PRIu64 ",%u);%s "
            "t_;memcpy(&t_,mb+ea_+%uu,%u);v%u=%s;}\n",
            RA(2), (uint64_t)p[3] + load_size[k], at, load_type[k], p[3], load_size[k], p[1],
            load_conv[k]);
        return true;
    }
    if (op >= IOP_LOADX_BASE && op < IOP_COUNT) {
        uint32_t k = op - IOP_LOADX_BASE;
        OUT("{uint64_t ea_=(uint64_t)(uint32_t)((uint32_t)%s+(uint32_t)%s);CHK(ea_,%" PRIu64
            ",%u);%s t_;memcpy(&t_,mb+ea_+%uu,%u);v%u=%s;}\n",
            RA(2), RB(3), (uint64_t)p[4] + load_size[k], at, load_type[k], p[4], load_size[k], p[1],
            load_conv[k]);
        return true;
    }
    if (op >= OP_I32_STORE && op <= OP_I64_STORE32) {
        uint32_t k = op - OP_I32_STORE;
        OUT("{uint64_t ea_=(uint64_t)(uint32_t)%s;CHK(ea_,%" PRIu64 ",%u);%s "
            "t_=(%s)%s;memcpy(mb+ea_+%uu,&t_,%u);}\n",
            RB(2), (uint64_t)p[3] + store_size[k], at, store_type[k], store_type[k], RA(1), p[3],
            store_size[k]);
        return true;
    }
    if (op >= IOP_BRT_BASE && op < IOP_LOADX_BASE) {
        bool when_true = op < IOP_BRF_BASE;
        uint32_t k = (op - IOP_BRT_BASE) % 22;
        uint32_t target = len == 3 ? p[2] : p[3];
        OUT("if(%s(", when_true ? "" : "!");
        emit_cmp(g, k, RA(1), len == 3 ? "" : RB(2));
        OUT("))");
        emit_jump(g, at, target);
        OUT("\n");
        return true;
    }
    if ((op >= OP_I32_EQZ && op <= OP_I64_EXTEND32_S) ||
        (op >= IOP_TRUNC_SAT_BASE && op < IOP_TRUNC_SAT_BASE + 8)) {
        if (emit_trapping(g, at, p))
            return true;
        if (!numeric_expr(op, RA(2), len == 4 ? RB(3) : "", e, sizeof e))
            return false;
        OUT("v%u=%s;\n", p[1], e);
        return true;
    }
    switch (op) {
    case IOP_UNREACHABLE:
        OUT("TRAP(1,%u);\n", at);
        return true;
    case IOP_NOP:
        return true;
    case IOP_MOV:
        OUT("v%u=%s;\n", p[1], RA(2));
        return true;
    case IOP_MOV2:
        OUT("v%u=%s;", p[1], RA(2));
        OUT("v%u=%s;\n", p[1] + 1, R(g, p[2] + 1, rb, sizeof rb));
        return true;
    case IOP_CONST:
        OUT("v%u=UINT64_C(0x%" PRIx64 ");\n", p[1], (uint64_t)p[2] | ((uint64_t)p[3] << 32));
        return true;
    case IOP_CONST128:
        OUT("v%u=UINT64_C(0x%" PRIx64 ");v%u=UINT64_C(0x%" PRIx64 ");\n", p[1],
            (uint64_t)p[2] | ((uint64_t)p[3] << 32), p[1] + 1,
            (uint64_t)p[4] | ((uint64_t)p[5] << 32));
        return true;
    case IOP_BR:
        emit_jump(g, at, p[1]);
        OUT("\n");
        return true;
    case IOP_BR_IF:
        OUT("if((uint32_t)%s)", RA(1));
        emit_jump(g, at, p[2]);
        OUT("\n");
        return true;
    case IOP_BR_UNLESS:
        OUT("if(!(uint32_t)%s)", RA(1));
        emit_jump(g, at, p[2]);
        OUT("\n");
        return true;
    case IOP_BR_TABLE: {
        uint32_t n = p[2];
        bool back = false;
        for (uint32_t i = 0; i <= n; i++)
            back |= p[3 + i] <= at;
        if (back)
            OUT("BACK(%u);", at);
        OUT("switch((uint32_t)%s){", RA(1));
        for (uint32_t i = 0; i < n; i++)
            OUT("case %u:goto L%u;", i, p[3 + i]);
        OUT("default:goto L%u;}\n", p[3 + n]);
        return true;
    }
    case IOP_RETURN:
        emit_return(g);
        return true;
    case IOP_CALL: {
        uint32_t def = p[1], ab = p[2];
        const fwe_functype *t = &m->types[m->funcs[def].type_index];
        OUT("{");
        if (def == g->def) {
            /* self-recursion: the body directly, arguments in registers */
            bool regargs = t->param_slots <= REGARGS;
            if (!regargs)
                emit_spill(g, ab, t);
            OUT("cx->frames[d_+1].ret_pc=self->words+%u;%s=FWE_NB(cx,ni,fp+%u,self,d_+1", at + len,
                g->regret ? "fwe_nr q_" : "uint32_t r_", ab);
            for (uint32_t i = 0; regargs && i < t->param_slots; i++)
                OUT(",%s", R(g, ab + i, ra, sizeof ra));
            OUT(");");
            emit_call_tail(g, ab, t, true);
            return true;
        } else {
            emit_spill(g, ab, t);
            OUT("const fwe_ndef*t_=&ni->defs[%u];fwe_nfn "
                "f_=__atomic_load_n(&t_->fn,__ATOMIC_ACQUIRE);uint32_t "
                "r_=f_?f_(cx,ni,fp+%u,self->words+%u,t_,0):cx->call(cx,ni,%uu,fp+%u,self->words+%u,"
                "self->words+%u);",
                def, ab, at + len, m->nfunc_imports + def, ab, at, at + len);
        }
        emit_call_tail(g, ab, t, false);
        return true;
    }
    case IOP_CALL_IMPORT: {
        uint32_t fi = p[1], ab = p[2];
        const fwe_functype *t = &m->types[m->func_types[fi]];
        OUT("{");
        emit_spill(g, ab, t);
        OUT("uint32_t r_=cx->call(cx,ni,%uu,fp+%u,self->words+%u,self->words+%u);", fi, ab, at,
            at + len);
        emit_call_tail(g, ab, t, false);
        return true;
    }
    case IOP_CALL_INDIRECT: {
        const fwe_functype *t = type_by_id(m, p[1]);
        if (!t)
            return false;
        uint32_t ab = p[4];
        OUT("{uint32_t i_=(uint32_t)%s;", RA(3));
        emit_spill(g, ab, t);
        /* fast path: a materialised entry of the right type whose function is native code of this
         * instance is called directly; anything else (bounds, null, lazy entries, type mismatch,
         * host and other instances' functions, interpreted callees) goes through the helper */
        OUT("const fwe_ntable*tb_=ni->tables[%u];const fwe_ndef*t_=0;fwe_nfn f_=0;if(i_<tb_->size){"
            "uint64_t e_=tb_->elems[i_];const fwe_nfunc*c_=(const "
            "fwe_nfunc*)(uintptr_t)e_;if(e_&&!(e_&"
            "1)&&c_->type_id==%uu&&c_->inst==ni->inst){t_=&ni->defs[c_->def_index];f_=__atomic_"
            "load_"
            "n(&t_->fn,__ATOMIC_ACQUIRE);}}",
            p[2], p[1]);
        OUT("uint32_t "
            "r_=f_?f_(cx,ni,fp+%u,self->words+%u,t_,0):cx->call_indirect(cx,ni,%uu,%uu,i_,fp+"
            "%u,self->words+%u,self->words+%u);",
            ab, at + len, p[1], p[2], ab, at, at + len);
        emit_call_tail(g, ab, t, false);
        return true;
    }
    case IOP_SELECT:
        OUT("v%u=(uint32_t)%s?%s:%s;\n", p[1], RC(4), RA(2), RB(3));
        return true;
    case IOP_SELECT2: {
        char a1[48], b1[48];
        OUT("if((uint32_t)%s){uint64_t l_=%s,h_=%s;v%u=l_;v%u=h_;}else{uint64_t l_=%s,h_=%s;v%u=l_;"
            "v%u=h_;}\n",
            RC(4), RA(2), R(g, p[2] + 1, a1, sizeof a1), p[1], p[1] + 1, RB(3),
            R(g, p[3] + 1, b1, sizeof b1), p[1], p[1] + 1);
        return true;
    }
    case IOP_GLOBAL_GET:
        OUT("v%u=ni->globals[%u][0];\n", p[1], p[2]);
        return true;
    case IOP_GLOBAL_GET2:
        OUT("v%u=ni->globals[%u][0];v%u=ni->globals[%u][1];\n", p[1], p[2], p[1] + 1, p[2]);
        return true;
    case IOP_GLOBAL_SET:
        OUT("ni->globals[%u][0]=%s;\n", p[1], RA(2));
        return true;
    case IOP_GLOBAL_SET2:
        OUT("ni->globals[%u][0]=%s;", p[1], RA(2));
        OUT("ni->globals[%u][1]=%s;\n", p[1], R(g, p[2] + 1, rb, sizeof rb));
        return true;
    case IOP_MEMORY_SIZE:
        OUT("v%u=(uint64_t)ms/65536u;\n", p[1]);
        return true;
    case IOP_MEMORY_GROW:
        OUT("{int64_t "
            "r_=cx->memory_grow(cx,ni,(uint32_t)%s);v%u=(uint32_t)(int32_t)r_;ms=(int64_t)ni->"
            "mem0->size;MSA(%" PRIu64 "u);}\n",
            RA(2), p[1], g->min_bytes);
        return true;
    case IOP_MEMORY_COPY:
        OUT("{uint64_t "
            "d_=(uint32_t)%s,s_=(uint32_t)%s,n_=(uint32_t)%s;if(s_+n_>(uint64_t)ms||d_+n_>(uint64_"
            "t)ms)TRAP(5,%"
            "u);if(n_)memmove(mb+d_,mb+s_,n_);}\n",
            RA(1), RB(2), RC(3), at);
        return true;
    case IOP_MEMORY_FILL:
        OUT("{uint64_t "
            "d_=(uint32_t)%s,n_=(uint32_t)%s;if(d_+n_>(uint64_t)ms)TRAP(5,%u);if(n_)memset(mb+d_,("
            "int)"
            "(uint8_t)%s,n_);}\n",
            RA(1), RC(3), at, RB(2));
        return true;
    case IOP_REF_FUNC:
        OUT("v%u=cx->ref_func(ni,%uu);\n", p[1], p[2]);
        return true;
    case IOP_TABLE_GET:   /* dst table idx */
    case IOP_TABLE_SET:   /* table idx val */
    case IOP_TABLE_INIT:  /* table seg d s n */
    case IOP_ELEM_DROP:   /* seg */
    case IOP_TABLE_COPY:  /* dst_table src_table d s n */
    case IOP_TABLE_GROW:  /* dst table init n */
    case IOP_TABLE_SIZE:  /* dst table */
    case IOP_TABLE_FILL:  /* table i val n */
    case IOP_MEMORY_INIT: /* seg d s n */
    case IOP_DATA_DROP:   /* seg */
        return emit_bulk(g, at, p);
    case IOP_REF_IS_NULL:
        OUT("v%u=(uint64_t)(%s==0);\n", p[1], RA(2));
        return true;
    }
    if (fwe_native_simd_len(p))
        return fwe_native_simd_emit(g->code, at, p, g->out);
    return false;
}

/* The highest N of the variables `vN` the text names (0 when none). */
static uint32_t max_var(const char *t, size_t len)
{
    uint32_t max = 0;
    for (size_t i = 0; i + 1 < len; i++) {
        if (t[i] != 'v' || t[i + 1] < '0' || t[i + 1] > '9')
            continue;
        char c = i ? t[i - 1] : ' ';
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_')
            continue;
        uint32_t n = 0;
        for (i++; i < len && t[i] >= '0' && t[i] <= '9'; i++)
            n = n * 10 + (uint32_t)(t[i] - '0');
        if (n > max)
            max = n;
    }
    return max;
}

bool fwe_native_gen(const fwe_module *m, uint32_t def, const fwe_code *code, fwe_text *out)
{
    gen g = {.m = m, .code = code, .out = out, .def = def};
    /* memory 0 never shrinks below its declared minimum (an imported one is at least as large
     * as the import declares): telling the C compiler lets it drop checks it can prove */
    if (m->nmemories)
        g.min_bytes = (uint64_t)m->memories[0].min * 65536u;
    g.is_target = calloc((size_t)code->nwords + 1, 1);
    g.is_backtgt = calloc((size_t)code->nwords + 1, 1);
    size_t start = out->len;
    bool ok = g.is_target && g.is_backtgt && scan(&g);
    if (!ok)
        goto done;
    /* the instructions first (into their own text), to know which slots they name */
    fwe_text body = {0};
    g.out = &body;
    /* Code after an unconditional transfer up to the next label never runs; the translator may
     * give it operand slots beyond the frame (a polymorphic stack), so it is not emitted. */
    bool dead = false;
    for (uint32_t at = 0; at < code->nwords && ok;) {
        const fwe_word *p = code->words + at;
        if (g.is_target[at]) {
            fwe_text_add(&body, "L%u:;\n", at);
            dead = false;
        }
        if (!dead)
            ok = emit_insn(&g, at, p);
        dead |=
            p[0] == IOP_UNREACHABLE || p[0] == IOP_BR || p[0] == IOP_RETURN || p[0] == IOP_BR_TABLE;
        at += insn_len(p);
    }
    if (ok) {
        /* falling off the end (not emitted by the translator, kept for safety) */
        emit_return(&g);
        fwe_text_add(&body, "}\n");
    }
    g.out = out;
    if (!ok || body.oom) {
        ok = false;
        fwe_text_free(&body);
        goto done;
    }
    uint32_t fs = code->frame_slots;
    /* Two C functions: FWE_NF, the ABI entry, which stores the return pc in the frame record,
     * reads the caller's depth and the arguments from the frame; and the static body FWE_NB,
     * which takes the frame depth (and OSR entry in the upper half) and up to REGARGS argument
     * slots as C parameters, so a self-recursive call passes them in registers and skips the
     * entry. The body writes the rest of the frame record as the interpreter does. */
    bool regargs = code->param_slots <= REGARGS;
    bool one = g.regret;
    /* the body's return: FWE_R(status); FWE_RV(result), a normal return with one result slot;
     * FWE_RP(status) after other code ran the frame, which left any result in fp[0] */
    if (one)
        fwe_text_add(out, "#define FWE_RT fwe_nr\n#define FWE_R(k) ((fwe_nr){(k),0})\n"
                          "#define FWE_RV(v) ((fwe_nr){0,(v)})\n"
                          "#define FWE_RP(k) ((fwe_nr){(k),fp[0]})\n");
    else
        fwe_text_add(out, "#define FWE_RT uint32_t\n#define FWE_R(k) (k)\n#define FWE_RP(k) (k)\n");
    for (int pass = 0; pass < 2; pass++) {
        fwe_text_add(out, "static FWE_RT FWE_NB(fwe_nctx*cx,fwe_ninst*ni,uint64_t*fp,const "
                          "fwe_ndef*self,uint64_t dq");
        for (uint32_t s = 0; regargs && s < code->param_slots; s++)
            fwe_text_add(out, ",uint64_t a%u", s);
        if (pass == 1)
            break;
        fwe_text_add(out,
                     ");\nuint32_t FWE_NF(fwe_nctx*cx,fwe_ninst*ni,uint64_t*fp,const "
                     "uint32_t*ret_pc,const fwe_ndef*self,uint32_t osr){uint32_t "
                     "d_=*cx->depth+1;cx->frames[d_].ret_pc=ret_pc;%s"
                     "FWE_NB(cx,ni,fp,self,d_|(uint64_t)osr<<32",
                     one ? "fwe_nr r_=" : "return ");
        for (uint32_t s = 0; regargs && s < code->param_slots; s++)
            fwe_text_add(out, ",fp[%u]", s);
        fwe_text_add(out, one ? ");fp[0]=r_.v;return r_.k;}\n" : ");}\n");
    }
    fwe_text_add(out, "){\n");
    fwe_text_add(out,
                 "uint32_t d_=(uint32_t)dq,osr=(uint32_t)(dq>>32);fwe_nframe*f_=&cx->frames[d_];\n"
                 "if(d_>=cx->max_frames||fp+%u>cx->stack_end||SP_()<cx->climit)return "
                 "FWE_R(cx->trap(cx,10,f_->ret_pc));\n"
                 "const uint32_t*intr_=cx->interrupt;\n"
                 "if(!osr&&__atomic_load_n(intr_,__ATOMIC_RELAXED)&&cx->poll(cx,self,QK_))return "
                 "FWE_R(cx->trap(cx,11,f_->ret_pc));\n"
                 "f_->fp=fp;f_->inst=ni->inst;f_->code=self->code;f_->func_index=self->func_index;"
                 "*cx->depth=d_;\n",
                 fs);
    if (m->nmemories)
        fwe_text_add(out,
                     "uint8_t*const mb=ni->mem0->base;int64_t "
                     "ms=(int64_t)ni->mem0->size;MSA(%" PRIu64 "u);(void)mb;(void)ms;\n",
                     g.min_bytes);
    /* a variable per slot; also for slots beyond the frame that unreachable code names (a body
     * ending in `unreachable` before its results were pushed still has the return sequence) */
    uint32_t nvars = fs > code->result_slots ? fs : code->result_slots;
    uint32_t named = max_var(body.p, body.len);
    if (named >= nvars)
        nvars = named + 1;
    for (uint32_t s = 0; s < nvars; s++) {
        if (is_literal(code, s))
            continue;
        if (s >= code->const_base && s < code->const_base + code->nconst_slots)
            fwe_text_add(out, "uint64_t v%u=UINT64_C(0x%" PRIx64 ");\n", s,
                         code->consts[s - code->const_base]);
        else
            fwe_text_add(out, "uint64_t v%u=0;\n", s);
    }
    /* OSR: continue an interpreted frame at a loop header */
    bool any_osr = false;
    for (uint32_t w = 0; w < code->nwords; w++)
        any_osr |= g.is_backtgt[w] != 0;
    fwe_text_add(out, "if(osr){");
    if (any_osr) {
        for (uint32_t s = 0; s < fs; s++)
            if (!is_literal(code, s))
                fwe_text_add(out, "v%u=fp[%u];", s, s);
        fwe_text_add(out, "\nswitch(osr){");
        for (uint32_t w = 0; w < code->nwords; w++)
            if (g.is_backtgt[w])
                fwe_text_add(out, "case %u:goto L%u;", w + 1, w);
        fwe_text_add(out, "}");
    }
    fwe_text_add(out, "return FWE_R(cx->trap(cx,12,f_->ret_pc));}\n");
    for (uint32_t s = 0; s < code->param_slots; s++)
        fwe_text_add(out, regargs ? "v%u=a%u;" : "v%u=fp[%u];", s, s);
    fwe_text_add(out, "\n#define FWE_SPILL ");
    for (uint32_t s = 0; any_osr && s < fs; s++)
        if (!is_literal(code, s))
            fwe_text_add(out, "fp[%u]=v%u;", s, s);
    fwe_text_add(out, "\n");
    fwe_text_add(out, "%s", body.p);
    fwe_text_add(out, "\n#undef FWE_SPILL\n#undef FWE_RT\n#undef FWE_R\n#undef FWE_RP\n%s",
                 one ? "#undef FWE_RV\n" : "");
    out->needs_simd |= body.needs_simd; /* the SIMD hook marks the text it writes to */
    fwe_text_free(&body);
done:
    if (!ok)
        out->len = start;
    free(g.is_target);
    free(g.is_backtgt);
    return ok && !out->oom;
}

/* ---------- why a function stays interpreted (FWE_TIER_STRICT) ---------- */

static const char *refused_name(const fwe_word *p, char *buf, size_t n)
{
    static const char *const names[] = {
        [IOP_MEMORY_INIT - IOP_MEMORY_INIT] = "memory.init",
        [IOP_DATA_DROP - IOP_MEMORY_INIT] = "data.drop",
        [IOP_TABLE_GET - IOP_MEMORY_INIT] = "table.get",
        [IOP_TABLE_SET - IOP_MEMORY_INIT] = "table.set",
        [IOP_TABLE_INIT - IOP_MEMORY_INIT] = "table.init",
        [IOP_ELEM_DROP - IOP_MEMORY_INIT] = "elem.drop",
        [IOP_TABLE_COPY - IOP_MEMORY_INIT] = "table.copy",
        [IOP_TABLE_GROW - IOP_MEMORY_INIT] = "table.grow",
        [IOP_TABLE_SIZE - IOP_MEMORY_INIT] = "table.size",
        [IOP_TABLE_FILL - IOP_MEMORY_INIT] = "table.fill",
    };
    fwe_simd_info info;
    if (p[0] >= IOP_MEMORY_INIT && p[0] <= IOP_TABLE_FILL && names[p[0] - IOP_MEMORY_INIT])
        snprintf(buf, n, "%s", names[p[0] - IOP_MEMORY_INIT]);
    else if (p[0] == IOP_SIMD_STORE)
        snprintf(buf, n, "v128.store");
    else if (p[0] >= IOP_SIMD_LOAD && p[0] <= IOP_SIMD_SHIFT && fwe_simd_lookup(p[1], &info))
        snprintf(buf, n, "%s", info.name);
    else
        snprintf(buf, n, "internal-op-0x%x", p[0]);
    return buf;
}

bool fwe_native_refusal(const fwe_module *m, uint32_t def, const fwe_code *code, char *op, size_t n)
{
    fwe_text scratch = {0};
    gen g = {.m = m, .code = code, .out = &scratch, .def = def};
    bool found = false;
    for (uint32_t at = 0; at < code->nwords && !found;) {
        const fwe_word *p = code->words + at;
        uint32_t len = insn_len(p);
        if (!len || at + len > code->nwords || !emit_insn(&g, at, p)) {
            refused_name(p, op, n);
            found = true;
        }
        scratch.len = 0;
        at += len ? len : code->nwords;
    }
    fwe_text_free(&scratch);
    return found;
}
