/* decode.c: the binary decoder. Parses a module's bytes into struct fwe_module (module.h) with
 * the spec testsuite's error wording, and performs the module-level validation (index spaces,
 * limits, constant expressions, element/data segments, exports, start). Function bodies are only
 * split out (the validator checks them). Names and data bytes point into m->bytes. */
#include "module.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_LOCALS 50000u /* implementation limit on declared locals per function */
#define MSG_MAX 256

/* Section ids and their required order (datacount sits between element and code). */
enum {
    SEC_CUSTOM = 0,
    SEC_TYPE,
    SEC_IMPORT,
    SEC_FUNC,
    SEC_TABLE,
    SEC_MEMORY,
    SEC_GLOBAL,
    SEC_EXPORT,
    SEC_START,
    SEC_ELEM,
    SEC_CODE,
    SEC_DATA,
    SEC_DATACOUNT
};
static const uint8_t section_rank[13] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 11, 12, 10};
static const char *const section_name[13] = {"custom", "type",   "import",   "function", "table",
                                             "memory", "global", "export",   "start",    "element",
                                             "code",   "data",   "datacount"};
#define RANK_END 100 /* after the last section */

/* A growable array used for the per-entry arrays of one section (param/result types, locals,
 * element items): one allocation per section instead of one per entry. */
typedef struct pool {
    uint8_t *data;
    size_t used, cap; /* in elements */
    size_t elem;      /* element size */
} pool;

typedef struct dec {
    fwe_module *m;
    const uint8_t *base, *end, *p;
    const char *section; /* for messages; NULL outside sections */
    bool in_func;
    uint32_t func; /* function index for messages when in_func */
    char *err;
    size_t errlen;
    fwe_status status; /* first malformed/out-of-memory error: decoding stops */
    bool has_invalid;  /* first validation error: decoding continues so that malformed input */
    char inv[MSG_MAX]; /* found later still wins (the spec decodes before it validates) */
    unsigned last_rank;
    uint32_t nimp[4];  /* imports per fwe_extern_kind */
    bool built[4];     /* index space arrays allocated, per kind */
    uint32_t ndefined; /* entries of the function section */
    uint32_t ncode;    /* entries of the code section */
    bool has_name;
    size_t name_start, name_end; /* content of the first "name" custom section */
    pool tmp;                    /* the current section's pool, freed on error */
} dec;

/* ---- messages ---- */

static void compose(const dec *d, char *buf, size_t len, size_t off, const char *fmt, va_list ap)
{
    if (!buf || len == 0)
        return;
    int n = vsnprintf(buf, len, fmt, ap);
    size_t k = n < 0 ? 0 : (size_t)n;
    if (k >= len)
        return;
    if (d->section && d->in_func)
        snprintf(buf + k, len - k, " (section %s, function %u, offset 0x%zx)", d->section, d->func,
                 off);
    else if (d->section)
        snprintf(buf + k, len - k, " (section %s, offset 0x%zx)", d->section, off);
    else
        snprintf(buf + k, len - k, " (offset 0x%zx)", off);
}

static size_t offset_of(const dec *d, const uint8_t *p)
{
    return (size_t)(p - d->base);
}

/* Malformed input: records the message and returns false; decoding stops. */
__attribute__((format(printf, 3, 4))) static bool malformed(dec *d, size_t off, const char *fmt,
                                                            ...)
{
    if (d->status == FWE_OK) {
        va_list ap;
        va_start(ap, fmt);
        compose(d, d->err, d->errlen, off, fmt, ap);
        va_end(ap);
        d->status = FWE_ERR_MALFORMED;
    }
    return false;
}

/* A validation error: remembered (first one wins) while decoding goes on. */
__attribute__((format(printf, 3, 4))) static void invalid(dec *d, size_t off, const char *fmt, ...)
{
    if (d->has_invalid)
        return;
    va_list ap;
    va_start(ap, fmt);
    compose(d, d->inv, sizeof d->inv, off, fmt, ap);
    va_end(ap);
    d->has_invalid = true;
}

/* A validation error after which decoding cannot continue (the rest of a constant expression
 * cannot be skipped without decoding arbitrary instructions). */
__attribute__((format(printf, 3, 4))) static bool invalid_stop(dec *d, size_t off, const char *fmt,
                                                               ...)
{
    if (d->status == FWE_OK) {
        va_list ap;
        va_start(ap, fmt);
        compose(d, d->err, d->errlen, off, fmt, ap);
        va_end(ap);
        d->status = FWE_ERR_INVALID;
        if (d->has_invalid && d->err && d->errlen) /* an earlier validation error wins */
            snprintf(d->err, d->errlen, "%s", d->inv);
    }
    return false;
}

static bool nomem(dec *d)
{
    if (d->status == FWE_OK) {
        if (d->err && d->errlen)
            snprintf(d->err, d->errlen, "out of memory while decoding");
        d->status = FWE_ERR_NOMEM;
    }
    return false;
}

static bool unexpected_end(dec *d)
{
    return malformed(d, offset_of(d, d->end), "unexpected end of section or function");
}

/* ---- allocation ---- */

static void *zalloc(dec *d, size_t n, size_t size)
{
    if (n == 0)
        return NULL;
    void *p = calloc(n, size);
    if (!p)
        nomem(d);
    return p;
}
#define ZALLOC(ptr, n) (((ptr) = zalloc(d, (n), sizeof *(ptr))) != NULL || (n) == 0)

static void pool_init(pool *pl, size_t elem)
{
    pl->data = NULL;
    pl->used = pl->cap = 0;
    pl->elem = elem;
}

/* Returns room for n more elements (the pool may move), or NULL when out of memory. */
static void *pool_take(dec *d, pool *pl, size_t n)
{
    if (pl->cap - pl->used < n || !pl->data) {
        size_t cap = pl->cap ? pl->cap * 2 : 64;
        if (cap < pl->used + n)
            cap = pl->used + n;
        if (cap > SIZE_MAX / pl->elem) {
            nomem(d);
            return NULL;
        }
        uint8_t *data = realloc(pl->data, cap * pl->elem);
        if (!data) {
            nomem(d);
            return NULL;
        }
        pl->data = data;
        pl->cap = cap;
    }
    void *out = pl->data + pl->used * pl->elem;
    pl->used += n;
    return out;
}

/* Hands the pool's memory over (the caller points the section's entries into it). */
static uint8_t *pool_release(pool *pl)
{
    uint8_t *data = pl->data;
    pl->data = NULL;
    pl->used = pl->cap = 0;
    return data;
}

/* ---- primitive readers (bounded by the end of the module, as in the reference interpreter:
 * an entry that runs past its section is reported when the section's size is checked) ---- */

static bool rd_byte(dec *d, uint8_t *out)
{
    if (d->p >= d->end) {
        *out = 0; /* keeps compilers' flow analysis quiet in callers */
        return unexpected_end(d);
    }
    *out = *d->p++;
    return true;
}

/* Finds why an LEB128 of `bits` bits at `at` did not decode, with the reference's rules. */
static bool leb_fail(dec *d, const uint8_t *at, int bits, bool is_signed)
{
    for (int n = bits;; n -= 7) {
        if (n <= 0)
            return malformed(d, offset_of(d, at), "integer representation too long");
        if (at >= d->end)
            return unexpected_end(d);
        uint8_t b = *at++;
        if (n < 7) {
            if (is_signed) {
                uint8_t mask = (uint8_t)((0xffu << (n - 1)) & 0x7f);
                if ((b & mask) != 0 && (b & mask) != mask)
                    return malformed(d, offset_of(d, at - 1), "integer too large");
            } else if ((b & 0x7f) >= (1u << n)) {
                return malformed(d, offset_of(d, at - 1), "integer too large");
            }
        }
        if (!(b & 0x80))
            return malformed(d, offset_of(d, at - 1), "malformed integer");
    }
}

static bool rd_u32(dec *d, uint32_t *out)
{
    size_t n = fwe_read_u32(d->p, d->end, out);
    if (!n) {
        *out = 0;
        return leb_fail(d, d->p, 32, false);
    }
    d->p += n;
    return true;
}

static bool rd_s32(dec *d, int32_t *out)
{
    size_t n = fwe_read_s32(d->p, d->end, out);
    if (!n)
        return leb_fail(d, d->p, 32, true);
    d->p += n;
    return true;
}

static bool rd_s64(dec *d, int64_t *out)
{
    size_t n = fwe_read_s64(d->p, d->end, out);
    if (!n)
        return leb_fail(d, d->p, 64, true);
    d->p += n;
    return true;
}

/* A vector length or byte count: may not exceed the bytes left, counted from the length itself. */
static bool rd_len(dec *d, uint32_t *out)
{
    const uint8_t *at = d->p;
    if (!rd_u32(d, out))
        return false;
    if (*out > (size_t)(d->end - at))
        return malformed(d, offset_of(d, at), "length out of bounds");
    return true;
}

static bool rd_bytes(dec *d, uint32_t n, const uint8_t **out)
{
    if (n > (size_t)(d->end - d->p))
        return unexpected_end(d);
    *out = d->p;
    d->p += n;
    return true;
}

static bool utf8_valid(const uint8_t *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        uint8_t c = s[i];
        if (c < 0x80) {
            i++;
            continue;
        }
        size_t len;
        uint32_t cp, min;
        if ((c & 0xe0) == 0xc0) {
            len = 2, cp = c & 0x1f, min = 0x80;
        } else if ((c & 0xf0) == 0xe0) {
            len = 3, cp = c & 0x0f, min = 0x800;
        } else if ((c & 0xf8) == 0xf0) {
            len = 4, cp = c & 0x07, min = 0x10000;
        } else {
            return false;
        }
        if (n - i < len)
            return false;
        for (size_t k = 1; k < len; k++) {
            uint8_t b = s[i + k];
            if ((b & 0xc0) != 0x80)
                return false;
            cp = (cp << 6) | (b & 0x3f);
        }
        if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
            return false;
        i += len;
    }
    return true;
}

static bool rd_name(dec *d, const char **str, uint32_t *len)
{
    const uint8_t *at = d->p, *bytes = NULL;
    if (!rd_len(d, len) || !rd_bytes(d, *len, &bytes))
        return false;
    if (!utf8_valid(bytes, *len))
        return malformed(d, offset_of(d, at), "malformed UTF-8 encoding");
    *str = (const char *)bytes;
    return true;
}

/* ---- types ---- */

/* Type codes are 1-byte signed LEB128s: a continuation bit makes the encoding too long. */
static bool type_byte_fail(dec *d, const uint8_t *at, uint8_t b, const char *what)
{
    if (b & 0x80)
        return malformed(d, offset_of(d, at + 1), "integer representation too long");
    return malformed(d, offset_of(d, at), "%s", what);
}

static bool rd_valtype(dec *d, uint8_t *out)
{
    const uint8_t *at = d->p;
    if (!rd_byte(d, out))
        return false;
    if (fwe_is_valtype(*out))
        return true;
    return type_byte_fail(d, at, *out,
                          *out >= 0x71 ? "malformed value type" : "malformed reference type");
}

static bool rd_reftype(dec *d, uint8_t *out)
{
    const uint8_t *at = d->p;
    if (!rd_byte(d, out))
        return false;
    if (fwe_is_reftype(*out))
        return true;
    return type_byte_fail(d, at, *out, "malformed reference type");
}

static bool rd_limits(dec *d, fwe_limits *l)
{
    /* the flag is a 1-bit unsigned LEB128 */
    const uint8_t *at = d->p;
    uint8_t flag = 0;
    if (!rd_byte(d, &flag))
        return false;
    if ((flag & 0x7f) > 1)
        return malformed(d, offset_of(d, at), "integer too large");
    if (flag & 0x80)
        return malformed(d, offset_of(d, at + 1), "integer representation too long");
    uint32_t max = 0;
    if (!rd_u32(d, &l->min) || (flag && !rd_u32(d, &max)))
        return false;
    l->max = flag ? max : FWE_NO_MAX;
    return true;
}

static void check_limits(dec *d, const fwe_limits *l, uint64_t range, const char *msg,
                         const uint8_t *at)
{
    if (l->min > range || (l->max != FWE_NO_MAX && l->max > range))
        invalid(d, offset_of(d, at), "%s", msg);
    else if (l->max != FWE_NO_MAX && l->min > l->max)
        invalid(d, offset_of(d, at), "size minimum must not be greater than maximum");
}

static bool rd_tabletype(dec *d, fwe_tabletype *t)
{
    const uint8_t *at = d->p;
    if (!rd_reftype(d, &t->elem) || !rd_limits(d, &t->limits))
        return false;
    check_limits(d, &t->limits, UINT32_MAX, "table size must be at most 2^32-1", at);
    return true;
}

static bool rd_memtype(dec *d, fwe_limits *l)
{
    const uint8_t *at = d->p;
    if (!rd_limits(d, l))
        return false;
    check_limits(d, l, FWE_MAX_PAGES, "memory size must be at most 65536 pages (4GiB)", at);
    return true;
}

static bool rd_globaltype(dec *d, fwe_globaltype *g)
{
    uint8_t mut = 0;
    if (!rd_valtype(d, &g->type) || !rd_byte(d, &mut))
        return false;
    if (mut > 1)
        return malformed(d, offset_of(d, d->p - 1), "malformed mutability");
    g->mut = mut == 1;
    return true;
}

/* ---- constant expressions ---- */

/* Single-byte opcodes of Wasm 2.0 (prefixes 0xfc/0xfd included). */
static bool opcode_exists(uint8_t op)
{
    if (op <= 0x05 || (op >= 0x0b && op <= 0x11) || (op >= 0x1a && op <= 0x1c))
        return true;
    if ((op >= 0x20 && op <= 0x26) || (op >= 0x28 && op <= 0xc4))
        return true;
    return (op >= 0xd0 && op <= 0xd2) || op == 0xfc || op == 0xfd;
}

/* 0xfd-prefixed opcodes of fixed-width SIMD. */
static bool simd_opcode_exists(uint32_t op)
{
    static const uint8_t reserved[] = {0x9a, 0xa2, 0xa5, 0xa6, 0xaf, 0xb0, 0xb2, 0xb3, 0xb4, 0xbb,
                                       0xc2, 0xc5, 0xc6, 0xcf, 0xd0, 0xd2, 0xd3, 0xd4, 0xe2, 0xee};
    if (op > 0xff)
        return false;
    for (size_t i = 0; i < sizeof reserved; i++)
        if (reserved[i] == op)
            return false;
    return true;
}

static uint64_t load_le(const uint8_t *p, unsigned n)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < n; i++)
        v |= (uint64_t)p[i] << (8 * i);
    return v;
}

/* Decodes a constant expression into `ce` (its first instruction). `*type` receives its result
 * type, or 0 when it is not exactly one instruction (the caller reports "type mismatch").
 * In Wasm 2.0, global.get in a constant expression may only name an imported global. */
static bool rd_constexpr(dec *d, fwe_constexpr *ce, uint8_t *type)
{
    fwe_module *m = d->m;
    uint32_t nglobals = m->nglobal_imports;
    uint32_t count = 0;
    uint8_t first_type = 0;
    memset(ce, 0, sizeof *ce);
    ce->offset = (uint32_t)offset_of(d, d->p);
    for (;;) {
        const uint8_t *at = d->p;
        uint8_t op = 0, t = 0;
        fwe_constexpr c;
        memset(&c, 0, sizeof c);
        c.offset = (uint32_t)offset_of(d, at);
        if (!rd_byte(d, &op))
            return false;
        if (op == 0x0b)
            break;
        switch (op) {
        case 0x41: {
            int32_t v;
            if (!rd_s32(d, &v))
                return false;
            c.op = FWE_CONST_I32, c.value.i64 = (uint64_t)(int64_t)v, t = FWE_I32;
            break;
        }
        case 0x42: {
            int64_t v;
            if (!rd_s64(d, &v))
                return false;
            c.op = FWE_CONST_I64, c.value.i64 = (uint64_t)v, t = FWE_I64;
            break;
        }
        case 0x43:
        case 0x44: {
            unsigned n = op == 0x43 ? 4 : 8;
            const uint8_t *bytes = NULL;
            if (!rd_bytes(d, n, &bytes))
                return false;
            c.op = op == 0x43 ? FWE_CONST_F32 : FWE_CONST_F64;
            c.value.i64 = load_le(bytes, n);
            t = op == 0x43 ? FWE_F32 : FWE_F64;
            break;
        }
        case 0xd0: {
            uint8_t rt;
            if (!rd_reftype(d, &rt))
                return false;
            c.op = FWE_CONST_REF_NULL, c.index = rt, t = rt;
            break;
        }
        case 0xd2:
            if (!rd_u32(d, &c.index))
                return false;
            c.op = FWE_CONST_REF_FUNC, t = FWE_FUNCREF;
            if (c.index >= m->nfuncs)
                invalid(d, c.offset, "unknown function %u", c.index);
            break;
        case 0x23:
            if (!rd_u32(d, &c.index))
                return false;
            c.op = FWE_CONST_GLOBAL_GET;
            if (c.index >= nglobals) {
                invalid(d, c.offset, "unknown global %u", c.index);
            } else {
                if (m->global_types[c.index].mut)
                    invalid(d, c.offset, "constant expression required");
                t = m->global_types[c.index].type;
            }
            break;
        case 0xfd: {
            uint32_t sub;
            const uint8_t *bytes = NULL;
            if (!rd_u32(d, &sub))
                return false;
            if (sub != 12) {
                if (simd_opcode_exists(sub))
                    return invalid_stop(d, c.offset, "constant expression required");
                return malformed(d, c.offset, "illegal opcode %02x %02x", op, sub);
            }
            if (!rd_bytes(d, 16, &bytes))
                return false;
            c.op = FWE_CONST_V128, t = FWE_V128;
            memcpy(c.value.v128, bytes, 16);
            break;
        }
        case 0xfc: {
            uint32_t sub;
            if (!rd_u32(d, &sub))
                return false;
            if (sub <= 17)
                return invalid_stop(d, c.offset, "constant expression required");
            return malformed(d, c.offset, "illegal opcode %02x %02x", op, sub);
        }
        case 0x05:
            return malformed(d, c.offset, "END opcode expected");
        default:
            if (opcode_exists(op))
                return invalid_stop(d, c.offset, "constant expression required");
            return malformed(d, c.offset, "illegal opcode %02x", op);
        }
        if (++count == 1) {
            *ce = c;
            first_type = t;
        }
    }
    *type = count == 1 ? first_type : 0;
    return true;
}

static void mark_declared(dec *d, const fwe_constexpr *ce)
{
    if (ce->op == FWE_CONST_REF_FUNC && ce->index < d->m->nfuncs)
        d->m->func_declared[ce->index] = 1;
}

/* ---- index spaces (imports first) ---- */

static bool build_funcs(dec *d, uint32_t ndef)
{
    fwe_module *m = d->m;
    uint64_t total = (uint64_t)d->nimp[FWE_EXTERN_FUNC] + ndef;
    if (total > UINT32_MAX)
        return malformed(d, offset_of(d, d->p), "too many functions");
    m->nfunc_imports = d->nimp[FWE_EXTERN_FUNC];
    m->nfuncs = (uint32_t)total;
    if (!ZALLOC(m->func_types, total) || !ZALLOC(m->funcs, ndef) ||
        !ZALLOC(m->func_declared, total))
        return false;
    uint32_t k = 0;
    for (uint32_t i = 0; i < m->nimports; i++)
        if (m->imports[i].kind == FWE_EXTERN_FUNC)
            m->func_types[k++] = m->imports[i].desc.type_index;
    d->built[FWE_EXTERN_FUNC] = true;
    return true;
}

static bool build_tables(dec *d, uint32_t ndef)
{
    fwe_module *m = d->m;
    uint64_t total = (uint64_t)d->nimp[FWE_EXTERN_TABLE] + ndef;
    if (total > UINT32_MAX)
        return malformed(d, offset_of(d, d->p), "too many tables");
    m->ntable_imports = d->nimp[FWE_EXTERN_TABLE];
    m->ntables = (uint32_t)total;
    if (!ZALLOC(m->tables, total))
        return false;
    uint32_t k = 0;
    for (uint32_t i = 0; i < m->nimports; i++)
        if (m->imports[i].kind == FWE_EXTERN_TABLE)
            m->tables[k++] = m->imports[i].desc.table;
    d->built[FWE_EXTERN_TABLE] = true;
    return true;
}

static bool build_memories(dec *d, uint32_t ndef)
{
    fwe_module *m = d->m;
    uint64_t total = (uint64_t)d->nimp[FWE_EXTERN_MEMORY] + ndef;
    if (total > UINT32_MAX)
        return malformed(d, offset_of(d, d->p), "too many memories");
    m->nmemory_imports = d->nimp[FWE_EXTERN_MEMORY];
    m->nmemories = (uint32_t)total;
    if (!ZALLOC(m->memories, total))
        return false;
    uint32_t k = 0;
    for (uint32_t i = 0; i < m->nimports; i++)
        if (m->imports[i].kind == FWE_EXTERN_MEMORY)
            m->memories[k++] = m->imports[i].desc.memory;
    d->built[FWE_EXTERN_MEMORY] = true;
    return true;
}

static bool build_globals(dec *d, uint32_t ndef)
{
    fwe_module *m = d->m;
    uint64_t total = (uint64_t)d->nimp[FWE_EXTERN_GLOBAL] + ndef;
    if (total > UINT32_MAX)
        return malformed(d, offset_of(d, d->p), "too many globals");
    m->nglobal_imports = d->nimp[FWE_EXTERN_GLOBAL];
    m->nglobals = (uint32_t)total;
    if (!ZALLOC(m->global_types, total) || !ZALLOC(m->globals, ndef))
        return false;
    uint32_t k = 0;
    for (uint32_t i = 0; i < m->nimports; i++)
        if (m->imports[i].kind == FWE_EXTERN_GLOBAL)
            m->global_types[k++] = m->imports[i].desc.global;
    d->built[FWE_EXTERN_GLOBAL] = true;
    return true;
}

/* Builds the index spaces whose defining section lies before `rank` and was absent. */
static bool build_missing_spaces(dec *d, unsigned rank)
{
    if (rank > section_rank[SEC_FUNC] && !d->built[FWE_EXTERN_FUNC] && !build_funcs(d, 0))
        return false;
    if (rank > section_rank[SEC_TABLE] && !d->built[FWE_EXTERN_TABLE] && !build_tables(d, 0))
        return false;
    if (rank > section_rank[SEC_MEMORY] && !d->built[FWE_EXTERN_MEMORY] && !build_memories(d, 0))
        return false;
    if (rank > section_rank[SEC_GLOBAL] && !d->built[FWE_EXTERN_GLOBAL] && !build_globals(d, 0))
        return false;
    return true;
}

/* ---- sections ---- */

static bool sec_type(dec *d, size_t size)
{
    fwe_module *m = d->m;
    uint32_t n;
    if (!rd_len(d, &n) || !ZALLOC(m->types, n))
        return false;
    m->ntypes = n;
    /* every param/result type takes one byte in the section, so its size bounds the pool */
    pool_init(&d->tmp, 1);
    if (size && !pool_take(d, &d->tmp, size))
        return false;
    d->tmp.used = 0;
    for (uint32_t i = 0; i < n; i++) {
        fwe_functype *ft = &m->types[i];
        const uint8_t *at = d->p;
        uint8_t tag = 0;
        if (!rd_byte(d, &tag))
            return false;
        if (tag != 0x60)
            return type_byte_fail(d, at, tag, "malformed function type");
        for (int part = 0; part < 2; part++) {
            uint32_t k;
            if (!rd_len(d, &k))
                return false;
            uint8_t *dst = pool_take(d, &d->tmp, k);
            if (k && !dst)
                return false;
            for (uint32_t j = 0; j < k; j++) {
                if (!rd_valtype(d, &dst[j]))
                    return false;
                if (part == 0)
                    ft->param_slots += fwe_valtype_slots(dst[j]);
                else
                    ft->result_slots += fwe_valtype_slots(dst[j]);
            }
            if (part == 0)
                ft->nparams = k;
            else
                ft->nresults = k;
        }
    }
    uint8_t *base = pool_release(&d->tmp);
    if (n == 0)
        free(base); /* the reservation made for an empty vector */
    size_t at = 0;
    for (uint32_t i = 0; i < n; i++) {
        fwe_functype *ft = &m->types[i];
        ft->types = base ? base + at : NULL;
        at += (size_t)ft->nparams + ft->nresults;
        ft->id = fwe_engine_intern_type(m->engine, ft->types, ft->nparams, ft->nresults);
    }
    return true;
}

static bool sec_import(dec *d)
{
    fwe_module *m = d->m;
    uint32_t n;
    if (!rd_len(d, &n) || !ZALLOC(m->imports, n))
        return false;
    m->nimports = n;
    for (uint32_t i = 0; i < n; i++) {
        fwe_import *im = &m->imports[i];
        if (!rd_name(d, &im->module, &im->module_len) || !rd_name(d, &im->name, &im->name_len))
            return false;
        const uint8_t *at = d->p;
        if (!rd_byte(d, &im->kind))
            return false;
        switch (im->kind) {
        case FWE_EXTERN_FUNC:
            at = d->p;
            if (!rd_u32(d, &im->desc.type_index))
                return false;
            if (im->desc.type_index >= m->ntypes)
                invalid(d, offset_of(d, at), "unknown type %u", im->desc.type_index);
            break;
        case FWE_EXTERN_TABLE:
            if (!rd_tabletype(d, &im->desc.table))
                return false;
            break;
        case FWE_EXTERN_MEMORY:
            if (!rd_memtype(d, &im->desc.memory))
                return false;
            break;
        case FWE_EXTERN_GLOBAL:
            if (!rd_globaltype(d, &im->desc.global))
                return false;
            break;
        default:
            return malformed(d, offset_of(d, at), "malformed import kind");
        }
        if (d->nimp[im->kind] == UINT32_MAX)
            return malformed(d, offset_of(d, at), "too many imports");
        d->nimp[im->kind]++;
    }
    return true;
}

static bool sec_func(dec *d)
{
    fwe_module *m = d->m;
    uint32_t n;
    if (!rd_len(d, &n) || !build_funcs(d, n))
        return false;
    d->ndefined = n;
    for (uint32_t i = 0; i < n; i++) {
        const uint8_t *at = d->p;
        uint32_t t;
        if (!rd_u32(d, &t))
            return false;
        if (t >= m->ntypes)
            invalid(d, offset_of(d, at), "unknown type %u", t);
        m->func_types[m->nfunc_imports + i] = t;
        m->funcs[i].type_index = t;
    }
    return true;
}

static bool sec_table(dec *d)
{
    fwe_module *m = d->m;
    uint32_t n;
    if (!rd_len(d, &n) || !build_tables(d, n))
        return false;
    for (uint32_t i = 0; i < n; i++)
        if (!rd_tabletype(d, &m->tables[m->ntable_imports + i]))
            return false;
    return true;
}

static bool sec_memory(dec *d)
{
    fwe_module *m = d->m;
    uint32_t n;
    if (!rd_len(d, &n) || !build_memories(d, n))
        return false;
    for (uint32_t i = 0; i < n; i++)
        if (!rd_memtype(d, &m->memories[m->nmemory_imports + i]))
            return false;
    return true;
}

static bool sec_global(dec *d)
{
    fwe_module *m = d->m;
    uint32_t n;
    if (!rd_len(d, &n) || !build_globals(d, n))
        return false;
    for (uint32_t i = 0; i < n; i++) {
        fwe_global_def *g = &m->globals[i];
        uint8_t t;
        if (!rd_globaltype(d, &g->type))
            return false;
        if (!rd_constexpr(d, &g->init, &t))
            return false;
        if (t != g->type.type)
            invalid(d, g->init.offset, "type mismatch");
        mark_declared(d, &g->init);
        m->global_types[m->nglobal_imports + i] = g->type;
    }
    return true;
}

static uint32_t hash_name(const char *s, uint32_t len)
{
    uint32_t h = 2166136261u;
    for (uint32_t i = 0; i < len; i++)
        h = (h ^ (uint8_t)s[i]) * 16777619u;
    return h;
}

static bool check_export_names(dec *d)
{
    fwe_module *m = d->m;
    if (m->nexports < 2)
        return true;
    size_t cap = 4;
    while (cap < (size_t)m->nexports * 2)
        cap *= 2;
    uint32_t *slots;
    if (!ZALLOC(slots, cap))
        return false;
    for (uint32_t i = 0; i < m->nexports; i++) {
        const fwe_export *e = &m->exports[i];
        size_t h = hash_name(e->name, e->name_len) & (cap - 1);
        for (; slots[h]; h = (h + 1) & (cap - 1)) {
            const fwe_export *o = &m->exports[slots[h] - 1];
            if (o->name_len == e->name_len && memcmp(o->name, e->name, e->name_len) == 0) {
                invalid(d, offset_of(d, (const uint8_t *)e->name), "duplicate export name");
                break;
            }
        }
        if (!slots[h])
            slots[h] = i + 1;
    }
    free(slots);
    return true;
}

static bool sec_export(dec *d)
{
    fwe_module *m = d->m;
    uint32_t n;
    if (!rd_len(d, &n) || !ZALLOC(m->exports, n))
        return false;
    m->nexports = n;
    for (uint32_t i = 0; i < n; i++) {
        fwe_export *e = &m->exports[i];
        if (!rd_name(d, &e->name, &e->name_len))
            return false;
        const uint8_t *at = d->p;
        if (!rd_byte(d, &e->kind))
            return false;
        if (e->kind > FWE_EXTERN_GLOBAL)
            return malformed(d, offset_of(d, at), "malformed export kind");
        at = d->p;
        if (!rd_u32(d, &e->index))
            return false;
        static const char *const what[4] = {"function", "table", "memory", "global"};
        const uint32_t limit[4] = {m->nfuncs, m->ntables, m->nmemories, m->nglobals};
        if (e->index >= limit[e->kind])
            invalid(d, offset_of(d, at), "unknown %s %u", what[e->kind], e->index);
        else if (e->kind == FWE_EXTERN_FUNC)
            m->func_declared[e->index] = 1;
    }
    return check_export_names(d);
}

static bool sec_start(dec *d)
{
    fwe_module *m = d->m;
    const uint8_t *at = d->p;
    if (!rd_u32(d, &m->start))
        return false;
    m->has_start = true;
    if (m->start >= m->nfuncs) {
        invalid(d, offset_of(d, at), "unknown function %u", m->start);
    } else {
        uint32_t t = m->func_types[m->start];
        if (t < m->ntypes && (m->types[t].nparams || m->types[t].nresults))
            invalid(d, offset_of(d, at), "start function");
    }
    return true;
}

static bool sec_elem(dec *d)
{
    fwe_module *m = d->m;
    uint32_t n;
    if (!rd_len(d, &n) || !ZALLOC(m->elems, n))
        return false;
    m->nelems = n;
    pool_init(&d->tmp, sizeof(fwe_constexpr));
    for (uint32_t i = 0; i < n; i++) {
        fwe_elem_segment *seg = &m->elems[i];
        const uint8_t *at = d->p;
        uint32_t flags;
        if (!rd_u32(d, &flags))
            return false;
        if (flags > 7)
            return malformed(d, offset_of(d, at), "malformed elements segment kind");
        bool exprs = flags & 4;
        seg->mode = !(flags & 1)  ? FWE_SEG_ACTIVE
                    : (flags & 2) ? FWE_SEG_DECLARATIVE
                                  : FWE_SEG_PASSIVE;
        seg->elemtype = FWE_FUNCREF;
        const uint8_t *table_at = d->p;
        if (seg->mode == FWE_SEG_ACTIVE) {
            uint8_t t;
            if ((flags & 2) && !rd_u32(d, &seg->table))
                return false;
            if (!rd_constexpr(d, &seg->offset, &t))
                return false;
            if (t != FWE_I32)
                invalid(d, seg->offset.offset, "type mismatch");
        }
        if (flags & 3) {
            at = d->p;
            if (exprs) {
                if (!rd_reftype(d, &seg->elemtype))
                    return false;
            } else {
                uint8_t kind = 0;
                if (!rd_byte(d, &kind))
                    return false;
                if (kind != 0)
                    return malformed(d, offset_of(d, at), "malformed element kind");
            }
        }
        if (!rd_len(d, &seg->count))
            return false;
        for (uint32_t j = 0; j < seg->count; j++) {
            fwe_constexpr *item = pool_take(d, &d->tmp, 1);
            if (!item)
                return false;
            if (exprs) {
                uint8_t t;
                if (!rd_constexpr(d, item, &t))
                    return false;
                if (t != seg->elemtype)
                    invalid(d, item->offset, "type mismatch");
            } else {
                memset(item, 0, sizeof *item);
                item->offset = (uint32_t)offset_of(d, d->p);
                item->op = FWE_CONST_REF_FUNC;
                if (!rd_u32(d, &item->index))
                    return false;
                if (item->index >= m->nfuncs)
                    invalid(d, item->offset, "unknown function %u", item->index);
            }
            mark_declared(d, item);
        }
        if (seg->mode == FWE_SEG_ACTIVE) {
            if (seg->table >= m->ntables)
                invalid(d, offset_of(d, table_at), "unknown table %u", seg->table);
            else if (m->tables[seg->table].elem != seg->elemtype)
                invalid(d, offset_of(d, table_at), "type mismatch");
        }
    }
    fwe_constexpr *base = (fwe_constexpr *)pool_release(&d->tmp);
    size_t at = 0;
    for (uint32_t i = 0; i < n; i++) {
        m->elems[i].items = base ? base + at : NULL;
        at += m->elems[i].count;
    }
    return true;
}

static bool sec_datacount(dec *d)
{
    if (!rd_u32(d, &d->m->data_count))
        return false;
    d->m->has_data_count = true;
    return true;
}

/* After the locals of a body that does not end in `end`: what the reference interpreter, which
 * decodes instructions past the declared size, would report. */
static bool body_end_fail(dec *d, size_t entry_end)
{
    size_t len = (size_t)(d->end - d->base);
    if (entry_end >= len)
        return unexpected_end(d);
    if (d->base[entry_end] == 0x0b)
        return malformed(d, entry_end, "section size mismatch");
    return malformed(d, entry_end, "END opcode expected");
}

static bool sec_code(dec *d)
{
    fwe_module *m = d->m;
    uint32_t n;
    if (!rd_len(d, &n))
        return false;
    d->ncode = n;
    pool_init(&d->tmp, 1);
    for (uint32_t i = 0; i < n; i++) {
        uint32_t size, ngroups;
        d->in_func = true;
        d->func = m->nfunc_imports + i;
        if (!rd_len(d, &size))
            return false;
        size_t entry_start = offset_of(d, d->p), entry_end = entry_start + size;
        const uint8_t *groups = d->p;
        if (!rd_len(d, &ngroups))
            return false;
        const uint8_t *first_group = d->p;
        uint64_t total = 0;
        for (uint32_t g = 0; g < ngroups; g++) {
            uint32_t count;
            uint8_t t;
            if (!rd_u32(d, &count) || !rd_valtype(d, &t))
                return false;
            total += count;
        }
        if (total > MAX_LOCALS)
            return malformed(d, offset_of(d, groups), "too many locals");
        const uint8_t *body = d->p;
        size_t body_start = offset_of(d, body);
        if (entry_end > (size_t)(d->end - d->base))
            return unexpected_end(d);
        if (body_start > entry_end)
            return malformed(d, entry_start, "section size mismatch");
        if (body_start == entry_end || d->base[entry_end - 1] != 0x0b)
            return body_end_fail(d, entry_end);
        uint8_t *dst = pool_take(d, &d->tmp, (size_t)total);
        if (total && !dst)
            return false;
        /* second pass over the (now known good) local declarations */
        const uint8_t *q = first_group;
        for (uint32_t g = 0; g < ngroups; g++) {
            uint32_t count;
            q += fwe_read_u32(q, body, &count);
            if (count) {
                memset(dst, *q, count);
                dst += count;
            }
            q++;
        }
        if (i < d->ndefined) {
            fwe_func_def *f = &m->funcs[i];
            f->nlocals = (uint32_t)total;
            f->body = body;
            f->body_len = (uint32_t)(entry_end - body_start);
            f->body_offset = (uint32_t)body_start;
        }
        d->p = d->base + entry_end;
    }
    d->in_func = false;
    uint8_t *base = pool_release(&d->tmp);
    size_t at = 0;
    for (uint32_t i = 0; i < d->ndefined && i < n; i++) {
        m->funcs[i].local_types = base ? base + at : NULL;
        at += m->funcs[i].nlocals;
    }
    if (base && (d->ndefined == 0 || n == 0))
        free(base); /* only when the function/code counts disagree (reported later) */
    return true;
}

static bool sec_data(dec *d)
{
    fwe_module *m = d->m;
    uint32_t n;
    if (!rd_len(d, &n) || !ZALLOC(m->datas, n))
        return false;
    m->ndatas = n;
    for (uint32_t i = 0; i < n; i++) {
        fwe_data_segment *seg = &m->datas[i];
        const uint8_t *at = d->p;
        uint32_t flags;
        if (!rd_u32(d, &flags))
            return false;
        if (flags > 2)
            return malformed(d, offset_of(d, at), "malformed data segment kind");
        seg->mode = flags == 1 ? FWE_SEG_PASSIVE : FWE_SEG_ACTIVE;
        if (seg->mode == FWE_SEG_ACTIVE) {
            const uint8_t *mem_at = d->p;
            uint8_t t;
            if (flags == 2 && !rd_u32(d, &seg->memory))
                return false;
            if (!rd_constexpr(d, &seg->offset, &t))
                return false;
            if (seg->memory >= m->nmemories)
                invalid(d, offset_of(d, mem_at), "unknown memory %u", seg->memory);
            if (t != FWE_I32)
                invalid(d, seg->offset.offset, "type mismatch");
        }
        if (!rd_len(d, &seg->len) || !rd_bytes(d, seg->len, &seg->bytes))
            return false;
    }
    return true;
}

static bool sec_custom(dec *d, size_t sec_end)
{
    const char *name;
    uint32_t name_len;
    if (!rd_name(d, &name, &name_len))
        return false;
    if (offset_of(d, d->p) > sec_end || sec_end > (size_t)(d->end - d->base))
        return unexpected_end(d);
    if (!d->has_name && name_len == 4 && memcmp(name, "name", 4) == 0) {
        d->has_name = true;
        d->name_start = offset_of(d, d->p);
        d->name_end = sec_end;
    }
    d->p = d->base + sec_end;
    return true;
}

/* ---- the name section: best effort, a malformed one is ignored ---- */

static bool name_read(const uint8_t **pp, const uint8_t *end, fwe_name *out)
{
    uint32_t len;
    size_t k = fwe_read_u32(*pp, end, &len);
    if (!k || len > (size_t)(end - *pp - k) || !utf8_valid(*pp + k, len))
        return false;
    out->str = (const char *)(*pp + k);
    out->len = len;
    *pp += k + len;
    return true;
}

static void parse_names(dec *d)
{
    fwe_module *m = d->m;
    const uint8_t *p = d->base + d->name_start, *end = d->base + d->name_end;
    fwe_name module_name = {NULL, 0};
    fwe_name *names = NULL;
    while (p < end) {
        uint8_t id = *p++;
        uint32_t size, count;
        size_t k = fwe_read_u32(p, end, &size);
        if (!k || size > (size_t)(end - p - k))
            goto bad;
        p += k;
        const uint8_t *sub_end = p + size;
        if (id == 0) {
            if (!name_read(&p, sub_end, &module_name) || p != sub_end)
                goto bad;
        } else if (id == 1) {
            if (names || !(k = fwe_read_u32(p, sub_end, &count)))
                goto bad;
            p += k;
            if (m->nfuncs && !(names = calloc(m->nfuncs, sizeof *names)))
                goto bad;
            for (uint32_t i = 0; i < count; i++) {
                uint32_t idx;
                fwe_name nm;
                if (!(k = fwe_read_u32(p, sub_end, &idx)))
                    goto bad;
                p += k;
                if (idx >= m->nfuncs || !name_read(&p, sub_end, &nm))
                    goto bad;
                names[idx] = nm;
            }
            if (p != sub_end)
                goto bad;
        }
        p = sub_end;
    }
    m->module_name = module_name;
    m->func_names = names;
    return;
bad:
    free(names);
}

/* ---- the module ---- */

static bool decode_sections(dec *d)
{
    fwe_module *m = d->m;
    size_t len = m->len;
    if (len < 4)
        return malformed(d, len, "unexpected end");
    if (memcmp(m->bytes, "\0asm", 4) != 0)
        return malformed(d, 0, "magic header not detected");
    if (len < 8)
        return malformed(d, len, "unexpected end");
    if (memcmp(m->bytes + 4, "\1\0\0\0", 4) != 0)
        return malformed(d, 4, "unknown binary version");
    if (len > UINT32_MAX)
        return malformed(d, 0, "module too large");
    d->p = d->base + 8;
    while (d->p < d->end) {
        const uint8_t *at = d->p;
        uint8_t id = *d->p;
        if (id > SEC_DATACOUNT)
            return malformed(d, offset_of(d, at), "malformed section id");
        unsigned rank = section_rank[id];
        if (id != SEC_CUSTOM && rank <= d->last_rank)
            return malformed(d, offset_of(d, at), "unexpected content after last section");
        d->p++;
        d->section = section_name[id];
        uint32_t size;
        if (!rd_len(d, &size))
            return false;
        size_t start = offset_of(d, d->p), sec_end = start + size;
        bool ok;
        if (id == SEC_CUSTOM) {
            if (!sec_custom(d, sec_end))
                return false;
            d->section = NULL;
            continue;
        }
        if (!build_missing_spaces(d, rank))
            return false;
        /* clang-format off */
        switch (id) {
        case SEC_TYPE: ok = sec_type(d, size); break;
        case SEC_IMPORT: ok = sec_import(d); break;
        case SEC_FUNC: ok = sec_func(d); break;
        case SEC_TABLE: ok = sec_table(d); break;
        case SEC_MEMORY: ok = sec_memory(d); break;
        case SEC_GLOBAL: ok = sec_global(d); break;
        case SEC_EXPORT: ok = sec_export(d); break;
        case SEC_START: ok = sec_start(d); break;
        case SEC_ELEM: ok = sec_elem(d); break;
        case SEC_DATACOUNT: ok = sec_datacount(d); break;
        case SEC_CODE: ok = sec_code(d); break;
        default: ok = sec_data(d); break;
        }
        /* clang-format on */
        if (!ok)
            return false;
        if (offset_of(d, d->p) != sec_end)
            return malformed(d, start, "section size mismatch");
        d->last_rank = rank;
        d->section = NULL;
    }
    if (!build_missing_spaces(d, RANK_END))
        return false;
    if (d->ndefined != d->ncode) {
        d->section = section_name[d->ncode ? SEC_CODE : SEC_FUNC];
        return malformed(d, len, "function and code section have inconsistent lengths");
    }
    if (m->has_data_count && m->data_count != m->ndatas) {
        d->section = section_name[SEC_DATA];
        return malformed(d, len, "data count and data section have inconsistent lengths");
    }
    if (m->nmemories > 1)
        invalid(d, len, "multiple memories");
    if (d->has_name)
        parse_names(d);
    return true;
}

fwe_status fwe_decode(fwe_module *m, char *err, size_t errlen)
{
    dec d;
    memset(&d, 0, sizeof d);
    d.m = m;
    d.base = m->bytes;
    d.end = m->len ? m->bytes + m->len : m->bytes;
    d.p = d.base;
    d.err = err;
    d.errlen = errlen;
    if (err && errlen)
        err[0] = '\0';
    pool_init(&d.tmp, 1);
    decode_sections(&d);
    free(d.tmp.data);
    if (d.status == FWE_OK && d.has_invalid) {
        if (err && errlen)
            snprintf(err, errlen, "%s", d.inv);
        d.status = FWE_ERR_INVALID;
    }
    if (d.status != FWE_OK)
        fwe_decode_free(m);
    return d.status;
}

void fwe_decode_free(fwe_module *m)
{
    if (!m)
        return;
    if (m->types && m->ntypes)
        free(m->types[0].types); /* the pool of every type's param/result codes */
    free(m->types);
    m->types = NULL;
    m->ntypes = 0;
    free(m->imports);
    m->imports = NULL;
    m->nimports = 0;
    if (m->funcs && m->nfuncs > m->nfunc_imports)
        free(m->funcs[0].local_types); /* the pool of every function's locals */
    free(m->funcs);
    free(m->func_types);
    free(m->func_declared);
    free(m->func_names);
    m->funcs = NULL;
    m->func_types = NULL;
    m->func_declared = NULL;
    m->func_names = NULL;
    m->nfuncs = m->nfunc_imports = 0;
    free(m->tables);
    m->tables = NULL;
    m->ntables = m->ntable_imports = 0;
    free(m->memories);
    m->memories = NULL;
    m->nmemories = m->nmemory_imports = 0;
    free(m->global_types);
    free(m->globals);
    m->global_types = NULL;
    m->globals = NULL;
    m->nglobals = m->nglobal_imports = 0;
    free(m->exports);
    m->exports = NULL;
    m->nexports = 0;
    if (m->elems && m->nelems)
        free(m->elems[0].items); /* the pool of every segment's items */
    free(m->elems);
    m->elems = NULL;
    m->nelems = 0;
    free(m->datas);
    m->datas = NULL;
    m->ndatas = 0;
    m->has_start = m->has_data_count = false;
    m->module_name.str = NULL;
    m->module_name.len = 0;
}
