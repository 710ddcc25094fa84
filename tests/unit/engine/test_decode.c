/* test_decode.c: unit tests for the binary decoder (decode.c) and the LEB128 readers (leb.c).
 * Modules are built by hand from byte strings; valid ones are checked field by field, broken ones
 * for the spec's wording, the section name and the byte offset in the message. */
#include "harness.h"
#include "module.h"

#include <stdlib.h>

/* ---- building modules ---- */

typedef struct mb {
    uint8_t b[8192];
    size_t n;
} mb;

#define S(lit) (const uint8_t *)(lit), sizeof(lit) - 1

static void mb_init(mb *m)
{
    memcpy(m->b, "\0asm\1\0\0\0", 8);
    m->n = 8;
}

static void mb_raw(mb *m, const uint8_t *bytes, size_t len)
{
    memcpy(m->b + m->n, bytes, len);
    m->n += len;
}

static void mb_uleb(mb *m, uint32_t v)
{
    do {
        uint8_t b = v & 0x7f;
        v >>= 7;
        m->b[m->n++] = b | (v ? 0x80 : 0);
    } while (v);
}

/* A section with a correct size. */
static void mb_sec(mb *m, uint8_t id, const uint8_t *content, size_t len)
{
    m->b[m->n++] = id;
    mb_uleb(m, (uint32_t)len);
    mb_raw(m, content, len);
}

/* ---- decoding ---- */

typedef struct dec_result {
    fwe_engine *engine;
    fwe_module m;
    fwe_status st;
    char err[256];
} dec_result;

static fwe_status run(dec_result *r, const uint8_t *bytes, size_t len)
{
    memset(r, 0, sizeof *r);
    r->engine = fwe_engine_new();
    r->m.engine = r->engine;
    r->m.bytes = malloc(len ? len : 1);
    memcpy(r->m.bytes, bytes, len);
    r->m.len = len;
    r->st = fwe_decode(&r->m, r->err, sizeof r->err);
    return r->st;
}

static void done(dec_result *r)
{
    fwe_decode_free(&r->m);
    fwe_decode_free(&r->m); /* must be harmless */
    free(r->m.bytes);
    fwe_engine_free(r->engine);
}

/* Decodes and expects `st` with a message starting with `prefix` and containing `where`. */
static void expect_error(const uint8_t *bytes, size_t len, fwe_status st, const char *prefix,
                         const char *where, int line)
{
    dec_result r;
    run(&r, bytes, len);
    if (r.st != st || strncmp(r.err, prefix, strlen(prefix)) != 0 ||
        (where && !strstr(r.err, where))) {
        harness_fail_head(__FILE__, line);
        fprintf(stderr, "expected status %d \"%s...\" (%s), got %d \"%s\"\n", st, prefix,
                where ? where : "", r.st, r.err);
    }
    done(&r);
}
#define MALFORMED(m, prefix, where)                                                                \
    expect_error((m)->b, (m)->n, FWE_ERR_MALFORMED, prefix, where, __LINE__)
#define INVALID(m, prefix, where)                                                                  \
    expect_error((m)->b, (m)->n, FWE_ERR_INVALID, prefix, where, __LINE__)
#define RAW_MALFORMED(lit, prefix, where)                                                          \
    expect_error((const uint8_t *)(lit), sizeof(lit) - 1, FWE_ERR_MALFORMED, prefix, where,        \
                 __LINE__)

/* ---- LEB128 ---- */

TEST(leb_u32)
{
    uint32_t v = 0;
    const uint8_t a[] = {0x02}, b[] = {0x82, 0x80, 0x80, 0x80, 0x00},
                  c[] = {0xff, 0xff, 0xff, 0xff, 0x0f};
    CHECK_EQ_INT(fwe_read_u32(a, a + 1, &v), 1);
    CHECK_EQ_INT(v, 2);
    CHECK_EQ_INT(fwe_read_u32(b, b + 5, &v), 5);
    CHECK_EQ_INT(v, 2);
    CHECK_EQ_INT(fwe_read_u32(c, c + 5, &v), 5);
    CHECK_EQ_U64(v, UINT32_MAX);
    const uint8_t too_long[] = {0x82, 0x80, 0x80, 0x80, 0x80, 0x00};
    const uint8_t too_big[] = {0x82, 0x80, 0x80, 0x80, 0x10};
    CHECK_EQ_INT(fwe_read_u32(too_long, too_long + 6, &v), 0);
    CHECK_EQ_INT(fwe_read_u32(too_big, too_big + 5, &v), 0);
    CHECK_EQ_INT(fwe_read_u32(b, b + 3, &v), 0); /* truncated */
    CHECK_EQ_INT(fwe_read_u32(a, a, &v), 0);     /* empty */
}

TEST(leb_signed)
{
    int32_t v32 = 0;
    int64_t v64 = 0;
    const uint8_t m1[] = {0x7f}, m1_long[] = {0xff, 0xff, 0xff, 0xff, 0x7f};
    const uint8_t min32[] = {0x80, 0x80, 0x80, 0x80, 0x78};
    const uint8_t bad32[] = {0xff, 0xff, 0xff, 0xff, 0x4f},
                  bad32b[] = {0x80, 0x80, 0x80, 0x80, 0x70};
    CHECK_EQ_INT(fwe_read_s32(m1, m1 + 1, &v32), 1);
    CHECK_EQ_INT(v32, -1);
    CHECK_EQ_INT(fwe_read_s32(m1_long, m1_long + 5, &v32), 5);
    CHECK_EQ_INT(v32, -1);
    CHECK_EQ_INT(fwe_read_s32(min32, min32 + 5, &v32), 5);
    CHECK_EQ_INT(v32, INT32_MIN);
    CHECK_EQ_INT(fwe_read_s32(bad32, bad32 + 5, &v32), 0);
    CHECK_EQ_INT(fwe_read_s32(bad32b, bad32b + 5, &v32), 0);

    const uint8_t s33[] = {0xff, 0xff, 0xff, 0xff, 0x0f}; /* 2^32-1 as a type index */
    CHECK_EQ_INT(fwe_read_s33(s33, s33 + 5, &v64), 5);
    CHECK_EQ_U64(v64, UINT32_MAX);
    const uint8_t blocktype[] = {0x40};
    CHECK_EQ_INT(fwe_read_s33(blocktype, blocktype + 1, &v64), 1);
    CHECK_EQ_INT(v64, -64);

    const uint8_t min64[] = {0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x7f};
    const uint8_t bad64[] = {0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x02};
    CHECK_EQ_INT(fwe_read_s64(min64, min64 + 10, &v64), 10);
    CHECK_EQ_U64(v64, UINT64_C(0x8000000000000000));
    CHECK_EQ_INT(fwe_read_s64(bad64, bad64 + 10, &v64), 0);
}

/* ---- valid modules ---- */

TEST(empty_module)
{
    dec_result r;
    CHECK_EQ_INT(run(&r, (const uint8_t *)"\0asm\1\0\0\0", 8), FWE_OK);
    CHECK_EQ_INT(r.m.ntypes, 0);
    CHECK_EQ_INT(r.m.nfuncs, 0);
    CHECK(r.m.func_names == NULL);
    CHECK(!r.m.has_start && !r.m.has_data_count);
    done(&r);
}

/* A module touching every section. */
static void build_full(mb *m)
{
    mb_init(m);
    mb_sec(m, 0,
           S("\x04"
             "note"
             "anything")); /* custom sections may come first */
    /* types: 0 = [i32 i32] -> [i32], 1 = [] -> [], 2 = [v128 i64] -> [v128], 3 = [] -> [] */
    mb_sec(m, 1,
           S("\x04"
             "\x60\x02\x7f\x7f\x01\x7f"
             "\x60\x00\x00"
             "\x60\x02\x7b\x7e\x01\x7b"
             "\x60\x00\x00"));
    /* imports: env.f (func type 0), env.g (global i32 const), env.mem (memory 1..2) */
    mb_sec(m, 2,
           S("\x03"
             "\x03"
             "env"
             "\x01"
             "f"
             "\x00\x00"
             "\x03"
             "env"
             "\x01"
             "g"
             "\x03\x7f\x00"
             "\x03"
             "env"
             "\x03"
             "mem"
             "\x02\x01\x01\x02"));
    mb_sec(m, 3, S("\x02\x01\x02"));         /* funcs 1 (type 1), 2 (type 2) */
    mb_sec(m, 4, S("\x01\x70\x01\x01\x05")); /* table funcref 1..5 */
    /* globals: 1 = mut i32 (global.get 0), 2 = funcref (ref.func 1) */
    mb_sec(m, 6,
           S("\x02"
             "\x7f\x01\x23\x00\x0b"
             "\x70\x00\xd2\x01\x0b"));
    mb_sec(m, 7,
           S("\x02"
             "\x03"
             "run"
             "\x00\x02"
             "\x03"
             "mem"
             "\x02\x00"));
    mb_sec(m, 8, S("\x01"));                             /* start: func 1 */
    mb_sec(m, 9, S("\x01\x00\x41\x00\x0b\x02\x00\x02")); /* active table 0 at 0: funcs 0, 2 */
    mb_sec(m, 12, S("\x02"));
    /* code: func 1 has no locals; func 2 has 2 x i32 + 1 x f64 */
    mb_sec(m, 10,
           S("\x02"
             "\x02\x00\x0b"
             "\x07\x02\x02\x7f\x01\x7c\x01\x0b"));
    mb_sec(m, 11,
           S("\x02"
             "\x00\x41\x10\x0b\x03"
             "abc"
             "\x01\x02"
             "xy"));
    /* name section: module "m", functions 0 "imp" and 2 "two" */
    mb_sec(m, 0,
           S("\x04"
             "name"
             "\x00\x02\x01"
             "m"
             "\x01\x0b\x02\x00\x03"
             "imp"
             "\x02\x03"
             "two"));
}

TEST(full_module)
{
    mb m;
    build_full(&m);
    dec_result r;
    CHECK_EQ_INT(run(&r, m.b, m.n), FWE_OK);
    if (r.st != FWE_OK) {
        fprintf(stderr, "  %s\n", r.err);
        done(&r);
        return;
    }
    fwe_module *mod = &r.m;
    CHECK_EQ_INT(mod->ntypes, 4);
    CHECK_EQ_INT(mod->types[0].nparams, 2);
    CHECK_EQ_INT(mod->types[0].nresults, 1);
    CHECK_EQ_INT(mod->types[0].types[2], FWE_I32);
    CHECK_EQ_INT(mod->types[2].param_slots, 3);
    CHECK_EQ_INT(mod->types[2].result_slots, 2);
    CHECK_EQ_INT(mod->types[2].types[0], FWE_V128);
    CHECK_EQ_INT(mod->types[1].id, mod->types[3].id);
    CHECK(mod->types[0].id != mod->types[1].id);

    CHECK_EQ_INT(mod->nimports, 3);
    CHECK_EQ_INT(mod->imports[1].kind, FWE_EXTERN_GLOBAL);
    CHECK_EQ_INT(mod->imports[2].name_len, 3);
    CHECK(memcmp(mod->imports[2].name, "mem", 3) == 0);
    CHECK((const uint8_t *)mod->imports[0].module > mod->bytes); /* points into the copy */
    CHECK_EQ_INT(mod->imports[2].desc.memory.max, 2);

    CHECK_EQ_INT(mod->nfuncs, 3);
    CHECK_EQ_INT(mod->nfunc_imports, 1);
    CHECK_EQ_INT(mod->func_types[0], 0);
    CHECK_EQ_INT(mod->func_types[2], 2);
    CHECK_EQ_INT(mod->funcs[1].type_index, 2);
    CHECK_EQ_INT(mod->funcs[0].nlocals, 0);
    CHECK_EQ_INT(mod->funcs[0].body_len, 1);
    CHECK_EQ_INT(mod->funcs[1].nlocals, 3);
    CHECK_EQ_INT(mod->funcs[1].local_types[0], FWE_I32);
    CHECK_EQ_INT(mod->funcs[1].local_types[1], FWE_I32);
    CHECK_EQ_INT(mod->funcs[1].local_types[2], FWE_F64);
    CHECK_EQ_INT(mod->funcs[1].body_len, 2);
    CHECK_EQ_INT(mod->funcs[1].body[1], 0x0b);
    CHECK(mod->funcs[1].body == mod->bytes + mod->funcs[1].body_offset);

    CHECK_EQ_INT(mod->ntables, 1);
    CHECK_EQ_INT(mod->tables[0].elem, FWE_FUNCREF);
    CHECK_EQ_INT(mod->tables[0].limits.min, 1);
    CHECK_EQ_U64(mod->tables[0].limits.max, 5);
    CHECK_EQ_INT(mod->nmemories, 1);
    CHECK_EQ_INT(mod->nmemory_imports, 1);
    CHECK_EQ_INT(mod->memories[0].min, 1);

    CHECK_EQ_INT(mod->nglobals, 3);
    CHECK_EQ_INT(mod->nglobal_imports, 1);
    CHECK(!mod->global_types[0].mut);
    CHECK(mod->global_types[1].mut);
    CHECK_EQ_INT(mod->global_types[2].type, FWE_FUNCREF);
    CHECK_EQ_INT(mod->globals[0].init.op, FWE_CONST_GLOBAL_GET);
    CHECK_EQ_INT(mod->globals[0].init.index, 0);
    CHECK_EQ_INT(mod->globals[1].init.op, FWE_CONST_REF_FUNC);

    CHECK_EQ_INT(mod->nexports, 2);
    CHECK_EQ_INT(mod->exports[0].index, 2);
    CHECK_EQ_INT(mod->exports[1].kind, FWE_EXTERN_MEMORY);
    CHECK(mod->has_start);
    CHECK_EQ_INT(mod->start, 1);

    CHECK_EQ_INT(mod->nelems, 1);
    CHECK_EQ_INT(mod->elems[0].mode, FWE_SEG_ACTIVE);
    CHECK_EQ_INT(mod->elems[0].count, 2);
    CHECK_EQ_INT(mod->elems[0].offset.op, FWE_CONST_I32);
    CHECK_EQ_INT(mod->elems[0].items[1].op, FWE_CONST_REF_FUNC);
    CHECK_EQ_INT(mod->elems[0].items[1].index, 2);

    /* declared: 0 and 2 (element), 2 (export), 1 (global initialiser) */
    CHECK(mod->func_declared[0] && mod->func_declared[1] && mod->func_declared[2]);

    CHECK(mod->has_data_count);
    CHECK_EQ_INT(mod->data_count, 2);
    CHECK_EQ_INT(mod->ndatas, 2);
    CHECK_EQ_INT(mod->datas[0].mode, FWE_SEG_ACTIVE);
    CHECK_EQ_INT(mod->datas[0].offset.value.i64, 16);
    CHECK_EQ_INT(mod->datas[0].len, 3);
    CHECK(memcmp(mod->datas[0].bytes, "abc", 3) == 0);
    CHECK(mod->datas[0].bytes > mod->bytes && mod->datas[0].bytes < mod->bytes + mod->len);
    CHECK_EQ_INT(mod->datas[1].mode, FWE_SEG_PASSIVE);
    CHECK_EQ_INT(mod->datas[1].len, 2);

    CHECK_EQ_INT(mod->module_name.len, 1);
    CHECK(mod->func_names != NULL);
    if (mod->func_names) {
        CHECK_EQ_INT(mod->func_names[0].len, 3);
        CHECK(memcmp(mod->func_names[2].str, "two", 3) == 0);
        CHECK(mod->func_names[1].str == NULL);
    }
    done(&r);
}

TEST(element_encodings)
{
    mb m;
    mb_init(&m);
    mb_sec(&m, 1, S("\x01\x60\x00\x00"));
    mb_sec(&m, 3, S("\x01\x00"));
    mb_sec(&m, 4, S("\x02\x70\x00\x01\x6f\x00\x01")); /* table 0 funcref, table 1 externref */
    mb_sec(&m, 9,
           S("\x08"
             "\x00\x41\x00\x0b\x01\x00"                 /* 0: active t0, func idx */
             "\x01\x00\x01\x00"                         /* 1: passive, elemkind, idx */
             "\x02\x00\x41\x00\x0b\x00\x01\x00"         /* 2: active t0 explicit */
             "\x03\x00\x01\x00"                         /* 3: declarative */
             "\x04\x41\x00\x0b\x01\xd2\x00\x0b"         /* 4: active t0, exprs */
             "\x05\x6f\x02\xd0\x6f\x0b\xd0\x6f\x0b"     /* 5: passive externref exprs */
             "\x06\x01\x41\x00\x0b\x6f\x01\xd0\x6f\x0b" /* 6: active t1 externref */
             "\x07\x70\x01\xd2\x00\x0b"));              /* 7: declarative exprs */
    mb_sec(&m, 10, S("\x01\x02\x00\x0b"));
    dec_result r;
    CHECK_EQ_INT(run(&r, m.b, m.n), FWE_OK);
    if (r.st == FWE_OK) {
        const fwe_elem_segment *e = r.m.elems;
        static const uint8_t modes[8] = {FWE_SEG_ACTIVE,      FWE_SEG_PASSIVE,    FWE_SEG_ACTIVE,
                                         FWE_SEG_DECLARATIVE, FWE_SEG_ACTIVE,     FWE_SEG_PASSIVE,
                                         FWE_SEG_ACTIVE,      FWE_SEG_DECLARATIVE};
        CHECK_EQ_INT(r.m.nelems, 8);
        for (int i = 0; i < 8; i++)
            CHECK_EQ_INT(e[i].mode, modes[i]);
        CHECK_EQ_INT(e[5].elemtype, FWE_EXTERNREF);
        CHECK_EQ_INT(e[5].count, 2);
        CHECK_EQ_INT(e[5].items[1].op, FWE_CONST_REF_NULL);
        CHECK_EQ_INT(e[5].items[1].index, FWE_EXTERNREF);
        CHECK_EQ_INT(e[6].table, 1);
        CHECK_EQ_INT(e[3].items[0].op, FWE_CONST_REF_FUNC);
        CHECK_EQ_INT(e[7].items[0].op, FWE_CONST_REF_FUNC);
        CHECK(r.m.func_declared[0]);
    } else {
        fprintf(stderr, "  %s\n", r.err);
    }
    done(&r);

    mb_init(&m);
    mb_sec(&m, 9, S("\x01\x08"));
    MALFORMED(&m, "malformed elements segment kind", "section element, offset 0xb");
    mb_init(&m);
    mb_sec(&m, 9, S("\x01\x01\x01\x00"));
    MALFORMED(&m, "malformed element kind", "section element");
    /* an unknown opcode inside an element expression */
    mb_init(&m);
    mb_sec(&m, 9, S("\x01\x05\x70\x01\xf3\x00\x0b"));
    MALFORMED(&m, "illegal opcode", "section element");
    mb_init(&m);
    mb_sec(&m, 9, S("\x01\x05\x7f\x01\xd2\x00\x0b"));
    MALFORMED(&m, "malformed reference type", "section element");
    /* active segment without a table; externref items into a funcref table */
    mb_init(&m);
    mb_sec(&m, 9, S("\x01\x04\x41\x00\x0b\x00"));
    INVALID(&m, "unknown table 0", "section element");
    mb_init(&m);
    mb_sec(&m, 4, S("\x01\x70\x00\x01"));
    mb_sec(&m, 9, S("\x01\x06\x00\x41\x00\x0b\x6f\x00"));
    INVALID(&m, "type mismatch", "section element");
    mb_init(&m);
    mb_sec(&m, 9, S("\x01\x01\x00\x01\x05"));
    INVALID(&m, "unknown function 5", "section element");
}

TEST(custom_and_name_sections)
{
    mb m;
    /* a malformed name section is ignored */
    mb_init(&m);
    mb_sec(&m, 1, S("\x01\x60\x00\x00"));
    mb_sec(&m, 3, S("\x01\x00"));
    mb_sec(&m, 10, S("\x01\x02\x00\x0b"));
    mb_sec(&m, 0,
           S("\x04"
             "name"
             "\x01\x06\x01\x07\x03"
             "abc")); /* function index out of range */
    dec_result r;
    CHECK_EQ_INT(run(&r, m.b, m.n), FWE_OK);
    CHECK(r.m.func_names == NULL);
    done(&r);

    mb_init(&m);
    mb_sec(&m, 0,
           S("\x04"
             "name"
             "\x01\xff"));
    CHECK_EQ_INT(run(&r, m.b, m.n), FWE_OK);
    done(&r);

    /* a custom section name must be UTF-8 */
    mb_init(&m);
    mb_sec(&m, 0, S("\x02\xc0\x80"));
    MALFORMED(&m, "malformed UTF-8 encoding", "section custom, offset 0xa");
    /* custom section whose name runs past its end */
    RAW_MALFORMED("\0asm\1\0\0\0\x00\x00\x05\x01\x00\x07\x00\x00", "unexpected end", NULL);
    /* custom section size beyond the module */
    RAW_MALFORMED("\0asm\1\0\0\0\x00\x26\x10"
                  "a custom section",
                  "length out of bounds", "offset 0x9");
}

/* ---- malformed modules ---- */

TEST(header)
{
    RAW_MALFORMED("", "unexpected end", NULL);
    RAW_MALFORMED("\0as", "unexpected end", NULL);
    RAW_MALFORMED("\0asm", "unexpected end", NULL);
    RAW_MALFORMED("asm\1\0\0\0\0", "magic header not detected", "offset 0x0");
    RAW_MALFORMED("\0asm\2\0\0\0", "unknown binary version", "offset 0x4");
    RAW_MALFORMED("\0asm\1\0\0\0\x0d\x00", "malformed section id", "offset 0x8");
    RAW_MALFORMED("\0asm\1\0\0\0\x80\x00\x01\x00", "malformed section id", NULL);
}

TEST(section_structure)
{
    /* size says 7, one type decodes in 4 */
    RAW_MALFORMED("\0asm\1\0\0\0\x01\x07\x01\x60\x00\x00\x60\x00\x00", "section size mismatch",
                  "section type, offset 0xa");
    RAW_MALFORMED("\0asm\1\0\0\0\x01\x07\x02\x60\x00\x00", "length out of bounds", "section type");
    /* out of order / duplicate sections */
    RAW_MALFORMED("\0asm\1\0\0\0\x03\x01\x00\x01\x01\x00", "unexpected content after last section",
                  "offset 0xb");
    RAW_MALFORMED("\0asm\1\0\0\0\x08\x01\x00\x08\x01\x00", "unexpected content after last section",
                  NULL);
    /* datacount sits between element and code */
    RAW_MALFORMED("\0asm\1\0\0\0\x0a\x01\x00\x0c\x01\x00", "unexpected content after last section",
                  NULL);
    /* truncated inside a section */
    RAW_MALFORMED("\0asm\1\0\0\0\x04\x01\x01", "unexpected end of section or function",
                  "section table");
    RAW_MALFORMED("\0asm\1\0\0\0\x05\x01\x01", "unexpected end", NULL);
}

TEST(integers)
{
    RAW_MALFORMED("\0asm\1\0\0\0\x05\x08\x01\x00\x82\x80\x80\x80\x80\x00",
                  "integer representation too long", "section memory");
    RAW_MALFORMED("\0asm\1\0\0\0\x05\x07\x01\x00\x82\x80\x80\x80\x70", "integer too large",
                  "section memory, offset 0x10");
    RAW_MALFORMED("\0asm\1\0\0\0\x06\x0b\x01\x7f\x00\x41\x80\x80\x80\x80\x80\x00\x0b",
                  "integer representation too long", "section global");
    RAW_MALFORMED("\0asm\1\0\0\0\x06\x0a\x01\x7f\x00\x41\xff\xff\xff\xff\x4f\x0b",
                  "integer too large", "section global");
    /* function type tag with a continuation bit */
    RAW_MALFORMED("\0asm\1\0\0\0\x01\x05\x01\xe0\x7f\x00\x00", "integer representation too long",
                  NULL);
    /* limits flag */
    RAW_MALFORMED("\0asm\1\0\0\0\x05\x03\x01\x02\x00", "integer too large", "section memory");
}

TEST(imports_and_types)
{
    RAW_MALFORMED("\0asm\1\0\0\0\x02\x04\x01\x00\x00\x04", "malformed import kind",
                  "section import, offset 0xd");
    RAW_MALFORMED("\0asm\1\0\0\0\x02\x05\x01\x01\xff\x00\x00", "malformed UTF-8 encoding",
                  "section import, offset 0xb");
    RAW_MALFORMED("\0asm\1\0\0\0\x02\x07\x01\x00\x00\x03\x7f\x02", "malformed mutability",
                  "section import");
    RAW_MALFORMED("\0asm\1\0\0\0\x06\x06\x01\x7f\x02\x41\x00\x0b", "malformed mutability",
                  "section global");
    RAW_MALFORMED("\0asm\1\0\0\0\x04\x04\x01\x7f\x00\x00", "malformed reference type",
                  "section table");
    RAW_MALFORMED("\0asm\1\0\0\0\x01\x04\x01\x61\x00\x00", "malformed function type", NULL);
    RAW_MALFORMED("\0asm\1\0\0\0\x07\x05\x01\x01"
                  "a"
                  "\x04\x00",
                  "malformed export kind", "section export");
}

TEST(code_section)
{
    /* function section with two entries, no code section */
    RAW_MALFORMED("\0asm\1\0\0\0\x01\x04\x01\x60\x00\x00\x03\x03\x02\x00\x00",
                  "function and code section have inconsistent lengths", NULL);
    /* code without functions */
    RAW_MALFORMED("\0asm\1\0\0\0\x0a\x04\x01\x02\x00\x0b",
                  "function and code section have inconsistent lengths", NULL);
    /* 0xffffffff + 2 locals */
    RAW_MALFORMED("\0asm\1\0\0\0\x01\x04\x01\x60\x00\x00\x03\x02\x01\x00"
                  "\x0a\x0c\x01\x0a\x02\xff\xff\xff\xff\x0f\x7f\x02\x7e\x0b",
                  "too many locals", "section code, function 0");
    /* missing end at the end of the module */
    RAW_MALFORMED("\0asm\1\0\0\0\x01\x04\x01\x60\x00\x00\x03\x02\x01\x00"
                  "\x0a\x06\x01\x04\x00\x41\x01\x1a",
                  "unexpected end of section or function", "function 0");
    /* missing end followed by another section */
    RAW_MALFORMED("\0asm\1\0\0\0\x01\x04\x01\x60\x00\x00\x03\x02\x01\x00"
                  "\x0a\x06\x01\x04\x00\x41\x01\x1a\x0b\x03\x01\x01\x00",
                  "section size mismatch", NULL);
    /* missing end between two functions */
    RAW_MALFORMED("\0asm\1\0\0\0\x01\x04\x01\x60\x00\x00\x03\x03\x02\x00\x00"
                  "\x0a\x0c\x02\x04\x00\x41\x01\x1a\x05\x00\x41\x01\x1a\x0b",
                  "END opcode expected", "function 0");
    /* an import shifts the function index in messages */
    RAW_MALFORMED("\0asm\1\0\0\0\x01\x04\x01\x60\x00\x00\x02\x05\x01\x00\x00\x00\x00"
                  "\x03\x02\x01\x00\x0a\x06\x01\x04\x01\x01\x40\x0b",
                  "malformed", "section code, function 1");
}

TEST(data_section)
{
    RAW_MALFORMED("\0asm\1\0\0\0\x0c\x01\x03\x0b\x05\x02\x01\x00\x01\x00",
                  "data count and data section have inconsistent lengths", NULL);
    RAW_MALFORMED("\0asm\1\0\0\0\x05\x03\x01\x00\x01\x0b\x07\x02\x00\x41\x00\x0b\x01\x61",
                  "unexpected end", "section data");
    RAW_MALFORMED("\0asm\1\0\0\0\x0b\x03\x01\x03\x00", "malformed data segment kind",
                  "section data");
    /* data count without a data section */
    RAW_MALFORMED("\0asm\1\0\0\0\x0c\x01\x01", "data count and data section have inconsistent",
                  NULL);
    /* active data without a memory */
    mb m;
    mb_init(&m);
    mb_sec(&m, 11, S("\x01\x00\x41\x00\x0b\x00"));
    INVALID(&m, "unknown memory 0", "section data");
    mb_init(&m);
    mb_sec(&m, 5, S("\x01\x00\x01"));
    mb_sec(&m, 11, S("\x01\x00\x42\x00\x0b\x00"));
    INVALID(&m, "type mismatch", "section data");
}

/* ---- module-level validation ---- */

TEST(constant_expressions)
{
    mb m;
    /* i32.add is an instruction, but not a constant one */
    mb_init(&m);
    mb_sec(&m, 6, S("\x01\x7f\x00\x41\x00\x41\x00\x6a\x0b"));
    INVALID(&m, "constant expression required", "section global");
    /* two constants */
    mb_init(&m);
    mb_sec(&m, 6, S("\x01\x7f\x00\x41\x00\x41\x00\x0b"));
    INVALID(&m, "type mismatch", "section global");
    /* no instruction */
    mb_init(&m);
    mb_sec(&m, 6, S("\x01\x7f\x00\x0b"));
    INVALID(&m, "type mismatch", NULL);
    /* wrong type */
    mb_init(&m);
    mb_sec(&m, 6, S("\x01\x7e\x00\x41\x00\x0b"));
    INVALID(&m, "type mismatch", NULL);
    /* global.get of a global defined in the module */
    mb_init(&m);
    mb_sec(&m, 6, S("\x02\x7f\x00\x41\x00\x0b\x7f\x00\x23\x00\x0b"));
    INVALID(&m, "unknown global 0", "section global");
    /* global.get of a mutable import */
    mb_init(&m);
    mb_sec(&m, 2,
           S("\x01\x01"
             "a"
             "\x01"
             "b"
             "\x03\x7f\x01"));
    mb_sec(&m, 6, S("\x01\x7f\x00\x23\x00\x0b"));
    INVALID(&m, "constant expression required", NULL);
    /* an unknown opcode is malformed, not invalid */
    mb_init(&m);
    mb_sec(&m, 6, S("\x01\x7f\x00\x06\x0b"));
    MALFORMED(&m, "illegal opcode", "section global");
    /* missing end */
    mb_init(&m);
    mb_sec(&m, 6, S("\x01\x7f\x00\x41\x00"));
    MALFORMED(&m, "unexpected end", NULL);
    /* v128, f32, f64, i64 and ref.null constants */
    mb_init(&m);
    mb_sec(&m, 6,
           S("\x05"
             "\x7b\x00\xfd\x0c\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d\x0e\x0f\x10\x0b"
             "\x7d\x00\x43\x00\x00\x80\x3f\x0b"
             "\x7c\x00\x44\x00\x00\x00\x00\x00\x00\xf0\x3f\x0b"
             "\x7e\x00\x42\x7f\x0b"
             "\x6f\x00\xd0\x6f\x0b"));
    dec_result r;
    CHECK_EQ_INT(run(&r, m.b, m.n), FWE_OK);
    if (r.st == FWE_OK) {
        CHECK_EQ_INT(r.m.globals[0].init.op, FWE_CONST_V128);
        CHECK_EQ_INT(r.m.globals[0].init.value.v128[15], 0x10);
        CHECK_EQ_U64(r.m.globals[1].init.value.i64, 0x3f800000);
        CHECK_EQ_U64(r.m.globals[2].init.value.i64, UINT64_C(0x3ff0000000000000));
        CHECK_EQ_U64(r.m.globals[3].init.value.i64, UINT64_MAX);
        CHECK_EQ_INT(r.m.globals[4].init.op, FWE_CONST_REF_NULL);
    } else {
        fprintf(stderr, "  %s\n", r.err);
    }
    done(&r);
}

TEST(index_and_limit_checks)
{
    mb m;
    mb_init(&m);
    mb_sec(&m, 3, S("\x01\x00"));
    mb_sec(&m, 10, S("\x01\x02\x00\x0b"));
    INVALID(&m, "unknown type 0", "section function");

    mb_init(&m);
    mb_sec(&m, 2,
           S("\x01\x01"
             "a"
             "\x01"
             "b"
             "\x00\x03"));
    INVALID(&m, "unknown type 3", "section import");

    mb_init(&m);
    mb_sec(&m, 7,
           S("\x01\x01"
             "f"
             "\x00\x00"));
    INVALID(&m, "unknown function 0", "section export");
    mb_init(&m);
    mb_sec(&m, 7,
           S("\x01\x01"
             "g"
             "\x03\x02"));
    INVALID(&m, "unknown global 2", "section export");

    mb_init(&m);
    mb_sec(&m, 5, S("\x01\x00\x01"));
    mb_sec(&m, 7,
           S("\x02\x01"
             "m"
             "\x02\x00\x01"
             "m"
             "\x02\x00"));
    INVALID(&m, "duplicate export name", "section export");

    mb_init(&m);
    mb_sec(&m, 1, S("\x01\x60\x01\x7f\x00"));
    mb_sec(&m, 3, S("\x01\x00"));
    mb_sec(&m, 8, S("\x00"));
    mb_sec(&m, 10, S("\x01\x02\x00\x0b"));
    INVALID(&m, "start function", "section start");
    mb_init(&m);
    mb_sec(&m, 8, S("\x00"));
    INVALID(&m, "unknown function 0", "section start");

    mb_init(&m);
    mb_sec(&m, 5, S("\x02\x00\x01\x00\x01"));
    INVALID(&m, "multiple memories", NULL);
    mb_init(&m);
    mb_sec(&m, 2,
           S("\x01\x01"
             "a"
             "\x01"
             "b"
             "\x02\x00\x01"));
    mb_sec(&m, 5, S("\x01\x00\x01"));
    INVALID(&m, "multiple memories", NULL);
    mb_init(&m);
    mb_sec(&m, 5, S("\x01\x00\x81\x80\x04"));
    INVALID(&m, "memory size must be at most 65536 pages (4GiB)", "section memory");
    mb_init(&m);
    mb_sec(&m, 5, S("\x01\x01\x02\x01"));
    INVALID(&m, "size minimum must not be greater than maximum", "section memory");
    mb_init(&m);
    mb_sec(&m, 4, S("\x01\x70\x01\x05\x04"));
    INVALID(&m, "size minimum must not be greater than maximum", "section table");

    /* the largest memory and a table up to 2^32-1 are fine; several tables too */
    mb_init(&m);
    mb_sec(&m, 4, S("\x02\x70\x01\x00\xff\xff\xff\xff\x0f\x6f\x00\x00"));
    mb_sec(&m, 5, S("\x01\x01\x80\x80\x04\x80\x80\x04"));
    dec_result r;
    CHECK_EQ_INT(run(&r, m.b, m.n), FWE_OK);
    CHECK_EQ_U64(r.m.memories[0].max, 65536);
    CHECK_EQ_U64(r.m.tables[0].limits.max, UINT32_MAX);
    CHECK_EQ_U64(r.m.tables[1].limits.max, FWE_NO_MAX);
    done(&r);
}

TEST(malformed_beats_invalid)
{
    /* an export of an unknown function, then a broken data section: the spec decodes first */
    RAW_MALFORMED("\0asm\1\0\0\0\x07\x05\x01\x01"
                  "f"
                  "\x00\x07\x0b\x03\x01\x05\x00",
                  "malformed data segment kind", NULL);
}

/* Many functions: the locals of every function share one allocation, all reachable. */
TEST(many_functions)
{
    enum { N = 300 };
    static mb m;
    mb_init(&m);
    mb_sec(&m, 1, S("\x01\x60\x00\x00"));
    uint8_t funcs[2 + N];
    size_t nf = 0;
    funcs[nf++] = (uint8_t)(0x80 | (N & 0x7f));
    funcs[nf++] = (uint8_t)(N >> 7);
    for (int i = 0; i < N; i++)
        funcs[nf++] = 0;
    mb_sec(&m, 3, funcs, nf);
    /* each body: one group of (i % 5) i64 locals, then end */
    uint8_t code[2 + N * 5];
    size_t nc = 0;
    code[nc++] = (uint8_t)(0x80 | (N & 0x7f));
    code[nc++] = (uint8_t)(N >> 7);
    for (int i = 0; i < N; i++) {
        code[nc++] = 4;
        code[nc++] = 1;
        code[nc++] = (uint8_t)(i % 5);
        code[nc++] = 0x7e;
        code[nc++] = 0x0b;
    }
    mb_sec(&m, 10, code, nc);
    dec_result r;
    CHECK_EQ_INT(run(&r, m.b, m.n), FWE_OK);
    if (r.st == FWE_OK) {
        uint32_t total = 0;
        for (int i = 0; i < N; i++) {
            CHECK_EQ_INT(r.m.funcs[i].nlocals, i % 5);
            for (uint32_t k = 0; k < r.m.funcs[i].nlocals; k++)
                total += r.m.funcs[i].local_types[k] == FWE_I64;
            CHECK_EQ_INT(r.m.funcs[i].body_len, 1);
        }
        CHECK_EQ_INT(total, (N / 5) * (0 + 1 + 2 + 3 + 4));
    }
    done(&r);
}

HARNESS_MAIN(RUN(leb_u32); RUN(leb_signed); RUN(empty_module); RUN(full_module);
             RUN(element_encodings); RUN(custom_and_name_sections); RUN(header);
             RUN(section_structure); RUN(integers); RUN(imports_and_types); RUN(code_section);
             RUN(data_section); RUN(constant_expressions); RUN(index_and_limit_checks);
             RUN(malformed_beats_invalid); RUN(many_functions);)
