/* module.h: the in-memory form of a decoded module (fwe_module) shared by the decoder, the
 * validator/translator, instantiation and the interpreter. Produced by decode.c, function bodies
 * checked by compile.c, never mutated after fwe_module_load returns (except the lazily published
 * translated code of each function, fwe_func_def.code, see fwe_module_code in runtime.h). */
#ifndef FWE_MODULE_H
#define FWE_MODULE_H

#include "fwe.h"
#include "native_abi.h"

#include <stdatomic.h>

#define FWE_PAGE_SIZE 65536u
#define FWE_MAX_PAGES 65536u
#define FWE_NO_MAX UINT64_C(0x100000000) /* limits without a maximum */

typedef struct fwe_functype {
    uint32_t nparams, nresults;
    uint8_t *types; /* nparams param types then nresults result types (fwe_valtype codes) */
    uint32_t id;    /* engine-wide canonical id: equal ids <=> structurally equal types */
    uint32_t param_slots, result_slots; /* 8-byte slots (v128 counts 2) */
} fwe_functype;

typedef struct fwe_limits {
    uint32_t min;
    uint64_t max; /* FWE_NO_MAX when absent */
} fwe_limits;

typedef struct fwe_tabletype {
    uint8_t elem; /* FWE_FUNCREF or FWE_EXTERNREF */
    fwe_limits limits;
} fwe_tabletype;

typedef struct fwe_globaltype {
    uint8_t type;
    bool mut;
} fwe_globaltype;

/* A constant expression, decoded to its single producing instruction.
 * (Wasm 2.0 constant expressions are exactly one of these followed by `end`.) */
typedef enum fwe_const_op {
    FWE_CONST_I32, /* value.i64 holds the sign-extended i32 */
    FWE_CONST_I64,
    FWE_CONST_F32, /* value bits in value.i64 low 32 */
    FWE_CONST_F64,
    FWE_CONST_V128,
    FWE_CONST_REF_NULL,   /* index = ref type code */
    FWE_CONST_REF_FUNC,   /* index = function index */
    FWE_CONST_GLOBAL_GET, /* index = global index */
} fwe_const_op;

typedef struct fwe_constexpr {
    uint8_t op; /* fwe_const_op */
    uint32_t index;
    union {
        uint64_t i64;
        uint8_t v128[16];
    } value;
    uint32_t offset; /* byte offset in the binary, for messages */
} fwe_constexpr;

typedef struct fwe_import {
    const char *module; /* points into fwe_module.bytes */
    uint32_t module_len;
    const char *name;
    uint32_t name_len;
    uint8_t kind; /* fwe_extern_kind */
    union {
        uint32_t type_index; /* FUNC */
        fwe_tabletype table;
        fwe_limits memory;
        fwe_globaltype global;
    } desc;
} fwe_import;

typedef struct fwe_export {
    const char *name; /* points into fwe_module.bytes */
    uint32_t name_len;
    uint8_t kind;
    uint32_t index;
} fwe_export;

typedef struct fwe_global_def {
    fwe_globaltype type;
    fwe_constexpr init;
} fwe_global_def;

typedef enum fwe_seg_mode { FWE_SEG_ACTIVE, FWE_SEG_PASSIVE, FWE_SEG_DECLARATIVE } fwe_seg_mode;

typedef struct fwe_elem_segment {
    uint8_t mode;     /* fwe_seg_mode */
    uint8_t elemtype; /* FWE_FUNCREF / FWE_EXTERNREF */
    uint32_t table;
    fwe_constexpr offset; /* active only */
    uint32_t count;
    fwe_constexpr *items; /* every item as a constant expression (func indices become REF_FUNC) */
} fwe_elem_segment;

typedef struct fwe_data_segment {
    uint8_t mode; /* ACTIVE or PASSIVE */
    uint32_t memory;
    fwe_constexpr offset;
    const uint8_t *bytes; /* points into fwe_module.bytes */
    uint32_t len;
} fwe_data_segment;

struct fwe_code; /* translated code of one function, code.h */

/* A function defined in the module (not an import). */
typedef struct fwe_func_def {
    uint32_t type_index;
    uint32_t nlocals;     /* declared locals, excluding params */
    uint8_t *local_types; /* nlocals entries */
    const uint8_t
        *body; /* from just after the locals declaration up to and including the final `end` */
    uint32_t body_len;
    uint32_t body_offset;  /* byte offset of `body` in the binary */
    uint32_t max_stack;    /* filled by validation: maximum operand stack height in slots */
    uint32_t nconst_slots; /* filled by validation: slots of the constant area */
    _Atomic(struct fwe_code *) code; /* NULL until first call (lazy translation) */
} fwe_func_def;

typedef struct fwe_name {
    const char *str; /* points into fwe_module.bytes; NULL when absent */
    uint32_t len;
} fwe_name;

struct fwe_module {
    fwe_engine *engine;
    uint8_t *bytes; /* owned copy of the binary; every pointer above points into it */
    size_t len;

    uint32_t ntypes;
    fwe_functype *types;

    uint32_t nimports;
    fwe_import *imports;

    /* index spaces: imports come first */
    uint32_t nfuncs, nfunc_imports; /* total / imported */
    uint32_t *func_types;           /* type index for every function (imports first) */
    fwe_func_def *funcs;            /* nfuncs - nfunc_imports defined functions */
    uint32_t ntables, ntable_imports;
    fwe_tabletype *tables; /* every table incl. imported */
    uint32_t nmemories, nmemory_imports;
    fwe_limits *memories; /* every memory incl. imported */
    uint32_t nglobals, nglobal_imports;
    fwe_globaltype *global_types; /* every global incl. imported */
    fwe_global_def *globals;      /* nglobals - nglobal_imports defined globals */

    uint32_t nexports;
    fwe_export *exports;

    bool has_start;
    uint32_t start;

    uint32_t nelems;
    fwe_elem_segment *elems;

    bool has_data_count;
    uint32_t data_count;
    uint32_t ndatas;
    fwe_data_segment *datas;

    /* functions that may be referenced by ref.func inside code (declared in elems, exports or
     * global initialisers), one flag per function index */
    uint8_t *func_declared;

    fwe_name module_name;
    fwe_name *func_names; /* nfuncs entries, or NULL when there is no name section */

    /* instantiation templates, built on first instantiation (template.c) */
    _Atomic(struct fwe_templates *) templates;

    /* native tier (tier.c); all NULL when tiering is off */
    fwe_ndef *ndefs;        /* per defined function: published native code */
    uint32_t *hot;          /* per defined function: hotness counter */
    uint32_t hot_threshold; /* counter value that requests compilation */
    bool tier_sample;       /* auto mode with sampling on: instances register (tier_sample.c) */
    uint32_t *qsamples;     /* per defined function: samples in its quick code (optimize order) */
    struct fwe_tier_mod *tier;
    uint64_t uid; /* unique among the modules loaded in the process (linker.c's memo) */
};

/* decode.c: parses the binary into `m` (which the caller zeroed and gave bytes/len/engine).
 * Performs every check the spec classifies as "malformed" and the module-level structural checks;
 * function bodies are only split out here, and are validated by compile.c.
 * Returns FWE_OK or FWE_ERR_MALFORMED / FWE_ERR_INVALID with a message in err. */
fwe_status fwe_decode(fwe_module *m, char *err, size_t errlen);
/* Frees everything fwe_decode allocated (not m itself, not m->bytes). */
void fwe_decode_free(fwe_module *m);

/* Reads an unsigned/signed LEB128; returns bytes consumed or 0 on malformed/overlong input. */
size_t fwe_read_u32(const uint8_t *p, const uint8_t *end, uint32_t *out);
size_t fwe_read_s32(const uint8_t *p, const uint8_t *end, int32_t *out);
size_t fwe_read_s33(const uint8_t *p, const uint8_t *end, int64_t *out);
size_t fwe_read_s64(const uint8_t *p, const uint8_t *end, int64_t *out);

static inline uint32_t fwe_valtype_slots(uint8_t t)
{
    return t == FWE_V128 ? 2u : 1u;
}
static inline bool fwe_is_valtype(uint8_t t)
{
    return t == FWE_I32 || t == FWE_I64 || t == FWE_F32 || t == FWE_F64 || t == FWE_V128 ||
           t == FWE_FUNCREF || t == FWE_EXTERNREF;
}
static inline bool fwe_is_reftype(uint8_t t)
{
    return t == FWE_FUNCREF || t == FWE_EXTERNREF;
}

/* engine.c: interns a function type; returns its canonical id. Thread-safe. */
uint32_t fwe_engine_intern_type(fwe_engine *engine, const uint8_t *types, uint32_t nparams,
                                uint32_t nresults);

#endif
