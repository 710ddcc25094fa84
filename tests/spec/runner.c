/* runner.c: the official spec testsuite runner. Reads one wast2json JSON script and executes its
 * commands (module, register, action, assert_*) against the engine API of fwe.h, providing the
 * "spectest" host module. Prints "FAIL <file>.wast:<line> <command>: <detail>" per failing command
 * and "<file>: N passed, N failed, N skipped" at the end. See tests/spec/README.md. */

#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fwe.h"
#include "util/util_grow.h"

#define DETAIL_MAX 1024
#define ERR_MAX 1024

/* How an expected scalar (or one v128 lane) is matched. */
typedef enum pattern {
    PAT_EXACT,     /* bits equal */
    PAT_NAN_CANON, /* "nan:canonical": sign free, quiet bit only */
    PAT_NAN_ARITH, /* "nan:arithmetic": sign and payload free, quiet bit set */
    PAT_ANY,       /* no value given: only the type is checked */
    PAT_NONNULL,   /* reference without value: any non-null reference */
} pattern;

/* One expected result (or argument) parsed from JSON. */
typedef struct jvalue {
    fwe_valtype type;
    unsigned nlanes;     /* 1 for scalars */
    unsigned lane_bytes; /* byte width of a lane (v128) */
    bool lane_float;
    pattern pat[16];
    uint64_t bits[16];
} jvalue;

/* A module instance known by the script, by name ("$M") or as the latest one. */
typedef struct named {
    char *name;         /* NULL for anonymous modules */
    fwe_instance *inst; /* NULL when the module command failed */
    int line;           /* line of the module command */
} named;

typedef struct runner {
    char file[256]; /* the script's name without ".wast", e.g. "i32" or "simd_lane" */
    char *dir;      /* directory of the JSON file (where the .wasm files are) */
    bool strict_messages, verbose;

    fwe_engine *engine;
    fwe_linker *linker;
    fwe_memory *st_memory;
    fwe_table *st_table;
    fwe_global *st_globals[4];

    /* Everything loaded stays alive until the end: the linker may refer to any instance. */
    fwe_module **modules;
    size_t nmodules, cap_modules;
    named *names;
    size_t nnames, cap_names;
    size_t current; /* 1 + index in names of the latest module command, 0 before the first */

    int line;        /* of the running command */
    const char *cmd; /* type of the running command */
    long passed, failed, skipped, text, warnings;
} runner;

/* ---- output ---- */

/* Formats into buf and folds newlines so every report stays on one line. */
static void vformat_line(char *buf, size_t len, const char *fmt, va_list ap)
{
    vsnprintf(buf, len, fmt, ap);
    for (char *p = buf; *p; p++)
        if (*p == '\n' || *p == '\r')
            *p = ' ';
}

static void report(runner *r, const char *tag, const char *fmt, va_list ap)
{
    char detail[DETAIL_MAX];
    vformat_line(detail, sizeof detail, fmt, ap);
    printf("%s %s.wast:%d %s: %s\n", tag, r->file, r->line, r->cmd, detail);
}

static void pass(runner *r)
{
    r->passed++;
}

__attribute__((format(printf, 2, 3))) static void fail(runner *r, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    report(r, "FAIL", fmt, ap);
    va_end(ap);
    r->failed++;
}

__attribute__((format(printf, 2, 3))) static void skip(runner *r, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    report(r, "SKIP", fmt, ap);
    va_end(ap);
    r->skipped++;
}

/* The right error class happened; checks the wording. Counts the command as passed, or as failed
 * under --strict-messages when `actual` (or `alt`, a second acceptable message) lacks `expected`.
 */
static void pass_checking_message(runner *r, const char *expected, const char *actual,
                                  const char *alt)
{
    if (expected == NULL || (actual && strstr(actual, expected)) ||
        (alt && strstr(alt, expected))) {
        pass(r);
        return;
    }
    if (r->strict_messages) {
        fail(r, "message mismatch: expected \"%s\", got \"%s\"", expected, actual ? actual : "");
        return;
    }
    char detail[DETAIL_MAX];
    snprintf(detail, sizeof detail, "expected \"%s\", got \"%s\"", expected, actual ? actual : "");
    for (char *p = detail; *p; p++)
        if (*p == '\n' || *p == '\r')
            *p = ' ';
    printf("WARN %s.wast:%d %s: message mismatch: %s\n", r->file, r->line, r->cmd, detail);
    r->warnings++;
    pass(r);
}

/* ---- small helpers ---- */

static void *xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);
    if (q == NULL) {
        fprintf(stderr, "spec-runner: out of memory\n");
        exit(2);
    }
    return q;
}

/* util_grow, or the end of the run when out of memory. */
static void xgrow(void *p, size_t *cap, size_t need, size_t first, size_t size)
{
    if (!util_grow((void **)p, cap, need, first, size)) {
        fprintf(stderr, "spec-runner: out of memory\n");
        exit(2);
    }
}

static char *xstrdup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = xrealloc(NULL, n);
    memcpy(d, s, n);
    return d;
}

static const char *jstr(const json_t *obj, const char *key)
{
    return json_string_value(json_object_get(obj, key));
}

static int jline(const json_t *cmd)
{
    json_t *l = json_object_get(cmd, "line");
    return json_is_integer(l) ? (int)json_integer_value(l) : 0;
}

static const char *type_name(int t)
{
    switch (t) {
    case FWE_I32:
        return "i32";
    case FWE_I64:
        return "i64";
    case FWE_F32:
        return "f32";
    case FWE_F64:
        return "f64";
    case FWE_V128:
        return "v128";
    case FWE_FUNCREF:
        return "funcref";
    case FWE_EXTERNREF:
        return "externref";
    default:
        return "?";
    }
}

static bool parse_type(const char *s, fwe_valtype *out)
{
    static const struct {
        const char *name;
        fwe_valtype type;
    } types[] = {{"i32", FWE_I32},
                 {"i64", FWE_I64},
                 {"f32", FWE_F32},
                 {"f64", FWE_F64},
                 {"v128", FWE_V128},
                 {"funcref", FWE_FUNCREF},
                 {"externref", FWE_EXTERNREF}};
    for (size_t i = 0; s && i < sizeof types / sizeof types[0]; i++) {
        if (strcmp(s, types[i].name) == 0) {
            *out = types[i].type;
            return true;
        }
    }
    return false;
}

/* Decimal (as wast2json writes: unsigned; a leading '-' is accepted and wrapped) into `bits` bits.
 */
static bool parse_int(const char *s, unsigned bits, uint64_t *out)
{
    bool neg = false;
    if (s == NULL || *s == '\0')
        return false;
    if (*s == '-') {
        neg = true;
        s++;
    }
    if (*s < '0' || *s > '9')
        return false;
    errno = 0;
    char *end = NULL;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0')
        return false;
    uint64_t mask = bits >= 64 ? UINT64_MAX : ((UINT64_C(1) << bits) - 1);
    if (neg) {
        if (bits < 64 && v > (UINT64_C(1) << (bits - 1)))
            return false;
        v = (0 - (uint64_t)v) & mask;
    } else if (v > mask) {
        return false;
    }
    *out = v;
    return true;
}

/* One scalar or lane: a number, or a NaN pattern for floats. */
static bool parse_lane(const char *s, unsigned bits, bool is_float, pattern *pat, uint64_t *out)
{
    *out = 0;
    if (is_float && s && strcmp(s, "nan:canonical") == 0) {
        *pat = PAT_NAN_CANON;
        return true;
    }
    if (is_float && s && strcmp(s, "nan:arithmetic") == 0) {
        *pat = PAT_NAN_ARITH;
        return true;
    }
    *pat = PAT_EXACT;
    return parse_int(s, bits, out);
}

/* Parses {"type": ..., "value": ...}. Returns false with a reason in `why` when unsupported. */
static bool parse_value(const json_t *v, jvalue *out, char *why, size_t whylen)
{
    memset(out, 0, sizeof *out);
    const char *ts = jstr(v, "type");
    if (!parse_type(ts, &out->type)) {
        snprintf(why, whylen, "unsupported value type \"%s\"", ts ? ts : "(none)");
        return false;
    }
    json_t *value = json_object_get(v, "value");
    out->nlanes = 1;
    if (value == NULL) {
        bool ref = out->type == FWE_FUNCREF || out->type == FWE_EXTERNREF;
        out->pat[0] = ref ? PAT_NONNULL : PAT_ANY;
        return true;
    }
    const char *s = json_string_value(value);
    switch (out->type) {
    case FWE_I32:
    case FWE_F32:
    case FWE_I64:
    case FWE_F64: {
        unsigned bits = (out->type == FWE_I32 || out->type == FWE_F32) ? 32 : 64;
        bool is_float = out->type == FWE_F32 || out->type == FWE_F64;
        out->lane_bytes = bits / 8;
        out->lane_float = is_float;
        if (!parse_lane(s, bits, is_float, &out->pat[0], &out->bits[0])) {
            snprintf(why, whylen, "bad %s value \"%s\"", ts, s ? s : "(not a string)");
            return false;
        }
        return true;
    }
    case FWE_FUNCREF:
    case FWE_EXTERNREF:
        if (s && strcmp(s, "null") == 0) {
            out->pat[0] = PAT_EXACT;
            out->bits[0] = 0;
            return true;
        }
        if (out->type == FWE_FUNCREF) {
            /* A numbered funcref cannot be named through the API; matched as "not null". */
            out->pat[0] = PAT_NONNULL;
            return true;
        }
        /* Host externref N is carried as N+1 so that 0 stays the null reference. */
        if (!parse_int(s, 64, &out->bits[0]) || out->bits[0] == UINT64_MAX) {
            snprintf(why, whylen, "bad externref value \"%s\"", s ? s : "(not a string)");
            return false;
        }
        out->bits[0]++;
        out->pat[0] = PAT_EXACT;
        return true;
    case FWE_V128: {
        const char *lt = jstr(v, "lane_type");
        static const struct {
            const char *name;
            unsigned bytes;
            bool is_float;
        } lanes[] = {{"i8", 1, false},  {"i16", 2, false}, {"i32", 4, false},
                     {"i64", 8, false}, {"f32", 4, true},  {"f64", 8, true}};
        size_t k = 0;
        while (k < sizeof lanes / sizeof lanes[0] && !(lt && strcmp(lt, lanes[k].name) == 0))
            k++;
        if (k == sizeof lanes / sizeof lanes[0] || !json_is_array(value)) {
            snprintf(why, whylen, "bad v128 value (lane_type \"%s\")", lt ? lt : "(none)");
            return false;
        }
        out->lane_bytes = lanes[k].bytes;
        out->lane_float = lanes[k].is_float;
        out->nlanes = 16 / out->lane_bytes;
        if (json_array_size(value) != out->nlanes) {
            snprintf(why, whylen, "v128 %s value with %zu lanes", lt, json_array_size(value));
            return false;
        }
        for (unsigned i = 0; i < out->nlanes; i++) {
            const char *ls = json_string_value(json_array_get(value, i));
            if (!parse_lane(ls, out->lane_bytes * 8, out->lane_float, &out->pat[i],
                            &out->bits[i])) {
                snprintf(why, whylen, "bad v128 lane \"%s\"", ls ? ls : "(not a string)");
                return false;
            }
        }
        return true;
    }
    }
    snprintf(why, whylen, "unsupported value");
    return false;
}

/* Turns a parsed argument into an engine value; patterns are not allowed here. */
static bool to_arg(const jvalue *jv, fwe_val *out, char *why, size_t whylen)
{
    memset(out, 0, sizeof *out);
    out->type = jv->type;
    for (unsigned i = 0; i < jv->nlanes; i++) {
        if (jv->pat[i] != PAT_EXACT) {
            snprintf(why, whylen, "argument of type %s has no concrete value", type_name(jv->type));
            return false;
        }
    }
    switch (jv->type) {
    case FWE_I32:
        out->of.i32 = (uint32_t)jv->bits[0];
        break;
    case FWE_F32:
        out->of.f32_bits = (uint32_t)jv->bits[0];
        break;
    case FWE_I64:
        out->of.i64 = jv->bits[0];
        break;
    case FWE_F64:
        out->of.f64_bits = jv->bits[0];
        break;
    case FWE_EXTERNREF:
        out->of.externref = jv->bits[0];
        break;
    case FWE_FUNCREF:
        out->of.funcref = NULL;
        break;
    case FWE_V128:
        for (unsigned i = 0; i < jv->nlanes; i++)
            for (unsigned b = 0; b < jv->lane_bytes; b++)
                out->of.v128[i * jv->lane_bytes + b] = (uint8_t)(jv->bits[i] >> (8 * b));
        break;
    }
    return true;
}

static bool lane_matches(pattern pat, uint64_t want, uint64_t got, unsigned bytes, bool is_float)
{
    switch (pat) {
    case PAT_EXACT:
        return want == got;
    case PAT_ANY:
        return true;
    case PAT_NONNULL:
        return got != 0;
    case PAT_NAN_CANON:
        if (!is_float)
            return false;
        return bytes == 4 ? (got & 0x7fffffffu) == 0x7fc00000u
                          : (got & UINT64_C(0x7fffffffffffffff)) == UINT64_C(0x7ff8000000000000);
    case PAT_NAN_ARITH:
        if (!is_float)
            return false;
        return bytes == 4 ? (got & 0x7fc00000u) == 0x7fc00000u
                          : (got & UINT64_C(0x7ff8000000000000)) == UINT64_C(0x7ff8000000000000);
    }
    return false;
}

static bool value_matches(const jvalue *want, const fwe_val *got)
{
    if (want->type != got->type)
        return false;
    switch (want->type) {
    case FWE_I32:
        return lane_matches(want->pat[0], want->bits[0], got->of.i32, 4, false);
    case FWE_I64:
        return lane_matches(want->pat[0], want->bits[0], got->of.i64, 8, false);
    case FWE_F32:
        return lane_matches(want->pat[0], want->bits[0], got->of.f32_bits, 4, true);
    case FWE_F64:
        return lane_matches(want->pat[0], want->bits[0], got->of.f64_bits, 8, true);
    case FWE_EXTERNREF:
        return lane_matches(want->pat[0], want->bits[0], got->of.externref, 8, false);
    case FWE_FUNCREF:
        return lane_matches(want->pat[0], want->bits[0], got->of.funcref != NULL, 8, false);
    case FWE_V128:
        if (want->pat[0] == PAT_ANY)
            return true;
        for (unsigned i = 0; i < want->nlanes; i++) {
            uint64_t lane = 0;
            for (unsigned b = 0; b < want->lane_bytes; b++)
                lane |= (uint64_t)got->of.v128[i * want->lane_bytes + b] << (8 * b);
            if (!lane_matches(want->pat[i], want->bits[i], lane, want->lane_bytes,
                              want->lane_float))
                return false;
        }
        return true;
    }
    return false;
}

/* Appends to buf at *pos, never past len. */
__attribute__((format(printf, 4, 5))) static void append(char *buf, size_t len, size_t *pos,
                                                         const char *fmt, ...)
{
    if (*pos >= len)
        return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf + *pos, len - *pos, fmt, ap);
    va_end(ap);
    if (n > 0)
        *pos += (size_t)n;
}

static void format_val(const fwe_val *v, char *buf, size_t len)
{
    size_t pos = 0;
    switch (v->type) {
    case FWE_I32:
        append(buf, len, &pos, "i32:%" PRIu32, v->of.i32);
        break;
    case FWE_I64:
        append(buf, len, &pos, "i64:%" PRIu64, v->of.i64);
        break;
    case FWE_F32:
        append(buf, len, &pos, "f32:0x%08" PRIx32, v->of.f32_bits);
        break;
    case FWE_F64:
        append(buf, len, &pos, "f64:0x%016" PRIx64, v->of.f64_bits);
        break;
    case FWE_FUNCREF:
        append(buf, len, &pos, "%s", v->of.funcref ? "funcref:non-null" : "funcref:null");
        break;
    case FWE_EXTERNREF:
        if (v->of.externref == 0)
            append(buf, len, &pos, "externref:null");
        else
            append(buf, len, &pos, "externref:%" PRIu64, v->of.externref - 1);
        break;
    case FWE_V128:
        append(buf, len, &pos, "v128:");
        for (int i = 0; i < 16; i++)
            append(buf, len, &pos, "%s%02x", i && i % 4 == 0 ? "_" : "", v->of.v128[i]);
        break;
    default:
        append(buf, len, &pos, "type-0x%02x", (unsigned)v->type);
        break;
    }
}

/* Formats a v128 result in the lane shape of the expected value: "v128:i32[1 2 3 4]". */
static void format_lanes(const jvalue *want, const fwe_val *got, char *buf, size_t len)
{
    static const char *const names[2][9] = {
        {NULL, "i8", "i16", NULL, "i32", NULL, NULL, NULL, "i64"},
        {NULL, NULL, NULL, NULL, "f32", NULL, NULL, NULL, "f64"},
    };
    size_t pos = 0;
    const char *lt = names[want->lane_float][want->lane_bytes];
    append(buf, len, &pos, "v128:%s[", lt ? lt : "?");
    for (unsigned i = 0; i < want->nlanes; i++) {
        uint64_t lane = 0;
        for (unsigned b = 0; b < want->lane_bytes; b++)
            lane |= (uint64_t)got->of.v128[i * want->lane_bytes + b] << (8 * b);
        append(buf, len, &pos, "%s%" PRIu64, i ? " " : "", lane);
    }
    append(buf, len, &pos, "]");
}

/* Formats the JSON form of an expected value: "f32:nan:canonical", "v128:i32[1 2 3 4]". */
static void format_json_val(const json_t *v, char *buf, size_t len)
{
    size_t pos = 0;
    const char *t = jstr(v, "type");
    json_t *value = json_object_get(v, "value");
    append(buf, len, &pos, "%s", t ? t : "?");
    if (json_is_array(value)) {
        const char *lt = jstr(v, "lane_type");
        append(buf, len, &pos, ":%s[", lt ? lt : "?");
        for (size_t i = 0; i < json_array_size(value); i++) {
            const char *s = json_string_value(json_array_get(value, i));
            append(buf, len, &pos, "%s%s", i ? " " : "", s ? s : "?");
        }
        append(buf, len, &pos, "]");
    } else if (json_is_string(value)) {
        append(buf, len, &pos, ":%s", json_string_value(value));
    } else {
        append(buf, len, &pos, ":*");
    }
}

/* ---- spectest host module ---- */

static fwe_trap_kind host_print(fwe_caller *caller, uint64_t *slots, void *data)
{
    (void)caller;
    (void)slots;
    (void)data;
    return FWE_TRAP_NONE;
}

static const fwe_host_def spectest_funcs[] = {
    {"spectest", "print", ":", host_print},
    {"spectest", "print_i32", "i:", host_print},
    {"spectest", "print_i64", "I:", host_print},
    {"spectest", "print_f32", "f:", host_print},
    {"spectest", "print_f64", "F:", host_print},
    {"spectest", "print_i32_f32", "if:", host_print},
    {"spectest", "print_f64_f64", "FF:", host_print},
    {NULL, NULL, NULL, NULL},
};

/* Returns NULL on success, or what failed. */
static const char *define_spectest(runner *r)
{
    if (fwe_linker_define_hosts(r->linker, spectest_funcs, NULL) != FWE_OK)
        return "defining spectest functions";

    fwe_val g[4];
    memset(g, 0, sizeof g);
    g[0].type = FWE_I32;
    g[0].of.i32 = 666;
    g[1].type = FWE_I64;
    g[1].of.i64 = 666;
    g[2].type = FWE_F32;
    g[2].of.f32_bits = 0x4426a666u; /* 666.6f */
    g[3].type = FWE_F64;
    g[3].of.f64_bits = UINT64_C(0x4084d4cccccccccd); /* 666.6 */
    static const char *const gnames[4] = {"global_i32", "global_i64", "global_f32", "global_f64"};
    for (int i = 0; i < 4; i++) {
        r->st_globals[i] = fwe_global_new(r->engine, g[i], false);
        if (r->st_globals[i] == NULL)
            return "fwe_global_new";
        fwe_extern ext = {.kind = FWE_EXTERN_GLOBAL, .of.global = r->st_globals[i]};
        if (fwe_linker_define(r->linker, "spectest", gnames[i], ext) != FWE_OK)
            return "defining a spectest global";
    }

    r->st_table = fwe_table_new(r->engine, FWE_FUNCREF, 10, 20);
    if (r->st_table == NULL)
        return "fwe_table_new";
    fwe_extern text = {.kind = FWE_EXTERN_TABLE, .of.table = r->st_table};
    if (fwe_linker_define(r->linker, "spectest", "table", text) != FWE_OK)
        return "defining spectest.table";

    r->st_memory = fwe_memory_new(r->engine, 1, 2);
    if (r->st_memory == NULL)
        return "fwe_memory_new";
    fwe_extern mext = {.kind = FWE_EXTERN_MEMORY, .of.memory = r->st_memory};
    if (fwe_linker_define(r->linker, "spectest", "memory", mext) != FWE_OK)
        return "defining spectest.memory";
    return NULL;
}

/* ---- modules ---- */

/* Reads <dir>/<filename> into a malloc'd buffer. */
static uint8_t *read_wasm(const runner *r, const char *filename, size_t *len, char *why,
                          size_t whylen)
{
    if (filename == NULL) {
        snprintf(why, whylen, "command has no filename");
        return NULL;
    }
    size_t plen = strlen(r->dir) + strlen(filename) + 2;
    char *path = xrealloc(NULL, plen);
    snprintf(path, plen, "%s/%s", r->dir, filename);
    FILE *f = fopen(path, "rb");
    uint8_t *buf = NULL;
    size_t cap = 0, n = 0;
    if (f == NULL) {
        snprintf(why, whylen, "cannot open %s: %s", filename, strerror(errno));
        goto out;
    }
    for (;;) {
        xgrow(&buf, &cap, n + 1, 65536, 1);
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (got == 0)
            break;
    }
    if (ferror(f)) {
        snprintf(why, whylen, "cannot read %s", filename);
        free(buf);
        buf = NULL;
    } else if (buf == NULL) {
        buf = xrealloc(NULL, 1);
    }
    fclose(f);
    *len = n;
out:
    free(path);
    return buf;
}

static void keep_module(runner *r, fwe_module *m)
{
    xgrow(&r->modules, &r->cap_modules, r->nmodules + 1, 16, sizeof *r->modules);
    r->modules[r->nmodules++] = m;
}

/* Returns the new entry's index; entries move when the array grows, so keep indices. */
static size_t add_named(runner *r, const char *name, fwe_instance *inst, int line)
{
    xgrow(&r->names, &r->cap_names, r->nnames + 1, 16, sizeof *r->names);
    named *n = &r->names[r->nnames++];
    n->name = name ? xstrdup(name) : NULL;
    n->inst = inst;
    n->line = line;
    return r->nnames - 1;
}

/* The latest module with that name (NULL name: the latest module of all), or NULL. */
static const named *find_named(const runner *r, const char *name)
{
    if (name == NULL)
        return r->current ? &r->names[r->current - 1] : NULL;
    for (size_t i = r->nnames; i-- > 0;)
        if (r->names[i].name && strcmp(r->names[i].name, name) == 0)
            return &r->names[i];
    return NULL;
}

/* Looks up the instance an action or register refers to; reports a failure and returns NULL
 * when there is none (unknown name, or the module command failed). */
static fwe_instance *instance_for(runner *r, const char *name)
{
    const named *n = find_named(r, name);
    if (n == NULL) {
        fail(r, "no module %s defined", name ? name : "(current)");
        return NULL;
    }
    if (n->inst == NULL) {
        fail(r, "module %s at line %d failed to load", name ? name : "(current)", n->line);
        return NULL;
    }
    return n->inst;
}

typedef enum load_outcome {
    LOAD_OK,
    LOAD_READ_ERROR, /* the .wasm file could not be read: a runner problem */
    LOAD_FAILED,     /* fwe_module_load failed: status and err are set */
} load_outcome;

static load_outcome load_module(runner *r, const json_t *cmd, fwe_module **out, fwe_status *status,
                                char *err, size_t errlen)
{
    size_t len = 0;
    err[0] = '\0';
    *out = NULL;
    uint8_t *bytes = read_wasm(r, jstr(cmd, "filename"), &len, err, errlen);
    if (bytes == NULL)
        return LOAD_READ_ERROR;
    *status = fwe_module_load(r->engine, bytes, len, out, err, errlen);
    free(bytes);
    if (*status != FWE_OK) {
        *out = NULL;
        return LOAD_FAILED;
    }
    keep_module(r, *out);
    return LOAD_OK;
}

static fwe_status instantiate(runner *r, const fwe_module *m, fwe_instance **out, fwe_trap *trap)
{
    fwe_instance_config cfg;
    memset(&cfg, 0, sizeof cfg); /* stack_slots and max_call_depth 0: the engine's defaults */
    memset(trap, 0, sizeof *trap);
    *out = NULL;
    fwe_status st = fwe_instantiate(r->linker, m, &cfg, out, trap);
    if (st != FWE_OK)
        *out = NULL;
    return st;
}

static const char *trap_text(const fwe_trap *trap)
{
    if (trap->message[0])
        return trap->message;
    const char *k = fwe_trap_kind_message(trap->kind);
    return k ? k : "";
}

static void cmd_module(runner *r, const json_t *cmd)
{
    const char *name = jstr(cmd, "name");
    size_t idx = add_named(r, name, NULL, r->line);
    r->current = idx + 1;
    char err[ERR_MAX];
    fwe_module *m = NULL;
    fwe_status st = FWE_OK;
    switch (load_module(r, cmd, &m, &st, err, sizeof err)) {
    case LOAD_READ_ERROR:
        fail(r, "%s", err);
        return;
    case LOAD_FAILED:
        fail(r, "load: %s: %s", fwe_strerror(st), err);
        return;
    case LOAD_OK:
        break;
    }
    fwe_trap trap;
    fwe_instance *inst = NULL;
    st = instantiate(r, m, &inst, &trap);
    if (st != FWE_OK) {
        fail(r, "instantiate: %s: %s", fwe_strerror(st), trap_text(&trap));
        return;
    }
    r->names[idx].inst = inst;
    pass(r);
}

static void cmd_register(runner *r, const json_t *cmd)
{
    const char *as = jstr(cmd, "as");
    const char *name = jstr(cmd, "name");
    if (as == NULL) {
        fail(r, "register without \"as\"");
        return;
    }
    fwe_instance *inst = instance_for(r, name);
    if (inst == NULL)
        return;
    fwe_status st = fwe_linker_define_instance(r->linker, as, inst);
    if (st != FWE_OK)
        fail(r, "fwe_linker_define_instance(\"%s\"): %s", as, fwe_strerror(st));
    /* A successful register is bookkeeping, not a test: it is not counted (as in wabt). */
}

/* ---- actions ---- */

typedef enum act_outcome {
    ACT_OK,    /* results are set */
    ACT_TRAP,  /* trap is set */
    ACT_ERROR, /* reported as failure already (no instance, no export, bad arguments...) */
    ACT_SKIP,  /* reported as skipped already */
} act_outcome;

typedef struct act_result {
    fwe_trap trap;
    fwe_val *results;
    size_t nresults;
} act_result;

static act_outcome run_action(runner *r, const json_t *action, act_result *res)
{
    memset(res, 0, sizeof *res);
    const char *type = jstr(action, "type");
    const char *module = jstr(action, "module");
    json_t *field = json_object_get(action, "field");
    if (type == NULL || !json_is_string(field)) {
        fail(r, "malformed action");
        return ACT_ERROR;
    }
    const char *fname = json_string_value(field);
    size_t flen = json_string_length(field);
    fwe_instance *inst = instance_for(r, module);
    if (inst == NULL)
        return ACT_ERROR;
    fwe_extern ext;
    memset(&ext, 0, sizeof ext);
    if (!fwe_instance_export(inst, fname, flen, &ext)) {
        fail(r, "no export \"%s\"", fname);
        return ACT_ERROR;
    }

    if (strcmp(type, "get") == 0) {
        if (ext.kind != FWE_EXTERN_GLOBAL || ext.of.global == NULL) {
            fail(r, "export \"%s\" is not a global", fname);
            return ACT_ERROR;
        }
        res->results = xrealloc(NULL, sizeof *res->results);
        res->results[0] = fwe_global_get(ext.of.global);
        res->nresults = 1;
        return ACT_OK;
    }
    if (strcmp(type, "invoke") != 0) {
        skip(r, "unsupported action type \"%s\"", type);
        return ACT_SKIP;
    }
    if (ext.kind != FWE_EXTERN_FUNC || ext.of.func == NULL) {
        fail(r, "export \"%s\" is not a function", fname);
        return ACT_ERROR;
    }

    fwe_functype_info ft;
    memset(&ft, 0, sizeof ft);
    fwe_func_type(ext.of.func, &ft);
    json_t *args = json_object_get(action, "args");
    size_t nargs = json_array_size(args);
    if (nargs != ft.nparams) {
        fail(r, "\"%s\" takes %" PRIu32 " parameters, the script passes %zu", fname, ft.nparams,
             nargs);
        return ACT_ERROR;
    }
    fwe_val *argv = xrealloc(NULL, (nargs ? nargs : 1) * sizeof *argv);
    char why[256];
    for (size_t i = 0; i < nargs; i++) {
        jvalue jv;
        if (!parse_value(json_array_get(args, i), &jv, why, sizeof why) ||
            !to_arg(&jv, &argv[i], why, sizeof why)) {
            free(argv);
            skip(r, "argument %zu: %s", i, why);
            return ACT_SKIP;
        }
        if (ft.params && argv[i].type != ft.params[i]) {
            fail(r, "argument %zu of \"%s\" is %s, the script passes %s", i, fname,
                 type_name(ft.params[i]), type_name(argv[i].type));
            free(argv);
            return ACT_ERROR;
        }
    }
    res->nresults = ft.nresults;
    res->results = xrealloc(NULL, (ft.nresults ? ft.nresults : 1) * sizeof *res->results);
    memset(res->results, 0, (ft.nresults ? ft.nresults : 1) * sizeof *res->results);
    fwe_status st = fwe_call(ext.of.func, argv, nargs, res->results, ft.nresults, &res->trap);
    free(argv);
    if (st == FWE_ERR_TRAP)
        return ACT_TRAP;
    if (st != FWE_OK) {
        fail(r, "fwe_call(\"%s\"): %s", fname, fwe_strerror(st));
        return ACT_ERROR;
    }
    return ACT_OK;
}

/* Sets up `res->trap` before run_action's call so a trap message is always NUL-terminated. */
static act_outcome do_action(runner *r, const json_t *cmd, act_result *res)
{
    json_t *action = json_object_get(cmd, "action");
    if (!json_is_object(action)) {
        fail(r, "command has no action");
        memset(res, 0, sizeof *res);
        return ACT_ERROR;
    }
    act_outcome o = run_action(r, action, res);
    res->trap.message[FWE_TRAP_MESSAGE_MAX - 1] = '\0';
    return o;
}

static void cmd_assert_return(runner *r, const json_t *cmd)
{
    json_t *expected = json_object_get(cmd, "expected");
    size_t nexp = json_array_size(expected);
    jvalue *want = xrealloc(NULL, (nexp ? nexp : 1) * sizeof *want);
    char why[256];
    for (size_t i = 0; i < nexp; i++) {
        if (!parse_value(json_array_get(expected, i), &want[i], why, sizeof why)) {
            skip(r, "expected value %zu: %s", i, why);
            free(want);
            return;
        }
    }
    act_result res;
    act_outcome o = do_action(r, cmd, &res);
    if (o == ACT_TRAP) {
        fail(r, "trapped: %s", trap_text(&res.trap));
    } else if (o == ACT_OK) {
        if (res.nresults != nexp) {
            fail(r, "%zu results, expected %zu", res.nresults, nexp);
        } else {
            size_t bad = nexp;
            for (size_t i = 0; i < nexp && bad == nexp; i++)
                if (!value_matches(&want[i], &res.results[i]))
                    bad = i;
            if (bad == nexp) {
                pass(r);
            } else {
                char got[512], exp[512];
                if (want[bad].type == FWE_V128 && res.results[bad].type == FWE_V128 &&
                    want[bad].lane_bytes > 0)
                    format_lanes(&want[bad], &res.results[bad], got, sizeof got);
                else
                    format_val(&res.results[bad], got, sizeof got);
                format_json_val(json_array_get(expected, bad), exp, sizeof exp);
                fail(r, "result %zu: got %s, expected %s", bad, got, exp);
            }
        }
    }
    free(res.results);
    free(want);
}

/* The trap kind a spec message stands for, or FWE_TRAP_NONE when the text is not known. */
static fwe_trap_kind expected_trap_kind(const char *text)
{
    static const struct {
        const char *prefix;
        fwe_trap_kind kind;
    } map[] = {
        {"unreachable", FWE_TRAP_UNREACHABLE},
        {"integer divide by zero", FWE_TRAP_INT_DIV_ZERO},
        {"integer overflow", FWE_TRAP_INT_OVERFLOW},
        {"invalid conversion to integer", FWE_TRAP_INVALID_CONVERSION},
        {"out of bounds memory access", FWE_TRAP_MEMORY_OOB},
        {"out of bounds table access", FWE_TRAP_TABLE_OOB},
        /* older spelling: call_indirect with an index past the end of the table */
        {"undefined element", FWE_TRAP_TABLE_OOB},
        {"indirect call type mismatch", FWE_TRAP_INDIRECT_TYPE_MISMATCH},
        {"uninitialized element", FWE_TRAP_UNINITIALIZED_ELEMENT},
        {"null reference", FWE_TRAP_NULL_REFERENCE},
        {"call stack exhausted", FWE_TRAP_STACK_EXHAUSTED},
    };
    for (size_t i = 0; text && i < sizeof map / sizeof map[0]; i++)
        if (strncmp(text, map[i].prefix, strlen(map[i].prefix)) == 0)
            return map[i].kind;
    return FWE_TRAP_NONE;
}

/* A trap happened where one was expected: the kind must match when the expected text names one;
 * the wording is then only a warning (or a failure with --strict-messages). */
static void check_trap(runner *r, const fwe_trap *trap, const char *text)
{
    fwe_trap_kind want = expected_trap_kind(text);
    if (want != FWE_TRAP_NONE && trap->kind != want) {
        fail(r, "trapped with kind %d \"%s\", expected \"%s\"", (int)trap->kind, trap_text(trap),
             text ? text : "");
        return;
    }
    pass_checking_message(r, text, trap->message, fwe_trap_kind_message(trap->kind));
}

static void cmd_assert_trap_action(runner *r, const json_t *cmd)
{
    const char *text = jstr(cmd, "text");
    act_result res;
    act_outcome o = do_action(r, cmd, &res);
    if (o == ACT_OK) {
        char got[128] = "no results";
        if (res.nresults > 0)
            format_val(&res.results[0], got, sizeof got);
        fail(r, "returned (%s), expected trap \"%s\"", got, text ? text : "");
    } else if (o == ACT_TRAP) {
        check_trap(r, &res.trap, text);
    }
    free(res.results);
}

static void cmd_action(runner *r, const json_t *cmd)
{
    act_result res;
    act_outcome o = do_action(r, cmd, &res);
    if (o == ACT_TRAP)
        fail(r, "trapped: %s", trap_text(&res.trap));
    else if (o == ACT_OK)
        pass(r);
    free(res.results);
}

/* ---- module assertions ---- */

typedef enum expect_class {
    EXPECT_MALFORMED,
    EXPECT_INVALID,
    EXPECT_UNLINKABLE,
    EXPECT_UNINSTANTIABLE,
} expect_class;

static void cmd_assert_module(runner *r, const json_t *cmd, expect_class want)
{
    const char *text = jstr(cmd, "text");
    const char *mtype = jstr(cmd, "module_type");
    if (mtype && strcmp(mtype, "binary") != 0) {
        /* Text-format modules test the .wast parser; the engine only reads binaries. */
        r->text++;
        return;
    }
    char err[ERR_MAX];
    fwe_module *m = NULL;
    fwe_status st = FWE_OK;
    load_outcome lo = load_module(r, cmd, &m, &st, err, sizeof err);
    if (lo == LOAD_READ_ERROR) {
        fail(r, "%s", err);
        return;
    }
    if (want == EXPECT_MALFORMED || want == EXPECT_INVALID) {
        fwe_status wst = want == EXPECT_MALFORMED ? FWE_ERR_MALFORMED : FWE_ERR_INVALID;
        if (lo == LOAD_OK)
            fail(r, "module loaded, expected %s \"%s\"", fwe_strerror(wst), text ? text : "");
        else if (st != wst)
            fail(r, "load: %s: %s; expected %s \"%s\"", fwe_strerror(st), err, fwe_strerror(wst),
                 text ? text : "");
        else
            pass_checking_message(r, text, err, NULL);
        return;
    }
    if (lo != LOAD_OK) {
        fail(r, "load: %s: %s", fwe_strerror(st), err);
        return;
    }
    fwe_trap trap;
    fwe_instance *inst = NULL;
    st = instantiate(r, m, &inst, &trap);
    trap.message[FWE_TRAP_MESSAGE_MAX - 1] = '\0';
    fwe_status wst = want == EXPECT_UNLINKABLE ? FWE_ERR_UNLINKABLE : FWE_ERR_TRAP;
    if (st == FWE_OK) {
        /* Keep it: a start function may have written into shared tables or memories. */
        add_named(r, NULL, inst, r->line);
        fail(r, "module instantiated, expected %s \"%s\"", fwe_strerror(wst), text ? text : "");
    } else if (st != wst) {
        fail(r, "instantiate: %s: %s; expected %s \"%s\"", fwe_strerror(st), trap_text(&trap),
             fwe_strerror(wst), text ? text : "");
    } else if (want == EXPECT_UNINSTANTIABLE) {
        check_trap(r, &trap, text);
    } else {
        pass_checking_message(r, text, trap.message, NULL);
    }
}

static void cmd_assert_exhaustion(runner *r, const json_t *cmd)
{
    const char *text = jstr(cmd, "text");
    act_result res;
    act_outcome o = do_action(r, cmd, &res);
    if (o == ACT_OK) {
        fail(r, "returned, expected \"%s\"", text ? text : "");
    } else if (o == ACT_TRAP) {
        if (res.trap.kind != FWE_TRAP_STACK_EXHAUSTED)
            fail(r, "trapped with kind %d \"%s\", expected stack exhaustion", (int)res.trap.kind,
                 trap_text(&res.trap));
        else
            pass_checking_message(r, text, res.trap.message, fwe_trap_kind_message(res.trap.kind));
    }
    free(res.results);
}

/* ---- driver ---- */

static bool is_text_module_assert(const json_t *cmd)
{
    const char *mtype = jstr(cmd, "module_type");
    return mtype && strcmp(mtype, "binary") != 0 && json_object_get(cmd, "action") == NULL;
}

/* Commands a run reports: all but register (bookkeeping) and text-format module assertions. */
static long countable_commands(const json_t *commands)
{
    long n = 0;
    for (size_t i = 0; i < json_array_size(commands); i++) {
        const json_t *cmd = json_array_get(commands, i);
        const char *type = jstr(cmd, "type");
        if (type && strcmp(type, "register") == 0)
            continue;
        if (is_text_module_assert(cmd))
            continue;
        n++;
    }
    return n;
}

static void run_command(runner *r, const json_t *cmd)
{
    const char *type = r->cmd;
    if (strcmp(type, "module") == 0)
        cmd_module(r, cmd);
    else if (strcmp(type, "register") == 0)
        cmd_register(r, cmd);
    else if (strcmp(type, "action") == 0)
        cmd_action(r, cmd);
    else if (strcmp(type, "assert_return") == 0)
        cmd_assert_return(r, cmd);
    else if (strcmp(type, "assert_trap") == 0 && json_object_get(cmd, "action") == NULL)
        cmd_assert_module(r, cmd, EXPECT_UNINSTANTIABLE); /* a trap while instantiating */
    else if (strcmp(type, "assert_trap") == 0)
        cmd_assert_trap_action(r, cmd);
    else if (strcmp(type, "assert_exhaustion") == 0)
        cmd_assert_exhaustion(r, cmd);
    else if (strcmp(type, "assert_malformed") == 0)
        cmd_assert_module(r, cmd, EXPECT_MALFORMED);
    else if (strcmp(type, "assert_invalid") == 0)
        cmd_assert_module(r, cmd, EXPECT_INVALID);
    else if (strcmp(type, "assert_unlinkable") == 0)
        cmd_assert_module(r, cmd, EXPECT_UNLINKABLE);
    else if (strcmp(type, "assert_uninstantiable") == 0)
        cmd_assert_module(r, cmd, EXPECT_UNINSTANTIABLE);
    else
        skip(r, "unknown command type");
}

/* "dir/i32.wast" -> "i32" into out. */
static void base_name(const char *path, const char *ext, char *out, size_t len)
{
    const char *slash = strrchr(path, '/');
    const char *b = slash ? slash + 1 : path;
    size_t n = strlen(b), el = strlen(ext);
    if (n > el && strcmp(b + n - el, ext) == 0)
        n -= el;
    if (n >= len)
        n = len - 1;
    memcpy(out, b, n);
    out[n] = '\0';
}

static void usage(FILE *to)
{
    fprintf(to,
            "usage: spec-runner [--strict-messages] [--verbose] [--count] FILE.json\n"
            "  Runs a wast2json script against the engine; prints FAIL/WARN/SKIP lines and\n"
            "  \"<file>: N passed, N failed, N skipped\". Exit 0, or 2 if the JSON is unusable.\n"
            "  --strict-messages  an error of the right class with other wording fails\n"
            "  --verbose          trace each command to stderr before running it\n"
            "  --count            only print how many commands a run would report\n");
}

static void runner_free(runner *r)
{
    /* Instances before modules, standalone objects after the instances that imported them. */
    for (size_t i = 0; i < r->nnames; i++) {
        fwe_instance_free(r->names[i].inst);
        free(r->names[i].name);
    }
    free(r->names);
    for (size_t i = 0; i < r->nmodules; i++)
        fwe_module_free(r->modules[i]);
    free(r->modules);
    fwe_linker_free(r->linker);
    fwe_memory_free(r->st_memory);
    fwe_table_free(r->st_table);
    for (int i = 0; i < 4; i++)
        fwe_global_free(r->st_globals[i]);
    fwe_engine_free(r->engine);
    free(r->dir);
}

int main(int argc, char **argv)
{
    runner r;
    memset(&r, 0, sizeof r);
    bool count_only = false;
    const char *path = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--strict-messages") == 0) {
            r.strict_messages = true;
        } else if (strcmp(argv[i], "--verbose") == 0 || strcmp(argv[i], "-v") == 0) {
            r.verbose = true;
        } else if (strcmp(argv[i], "--count") == 0) {
            count_only = true;
        } else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage(stdout);
            return 0;
        } else if (argv[i][0] == '-' || path != NULL) {
            usage(stderr);
            return 2;
        } else {
            path = argv[i];
        }
    }
    if (path == NULL) {
        usage(stderr);
        return 2;
    }
    /* Line-buffered so the FAIL lines printed before an engine crash survive it. */
    setvbuf(stdout, NULL, _IOLBF, 0);

    json_error_t jerr;
    json_t *root = json_load_file(path, JSON_ALLOW_NUL, &jerr);
    if (root == NULL) {
        fprintf(stderr, "spec-runner: %s:%d:%d: %s\n", path, jerr.line, jerr.column, jerr.text);
        return 2;
    }
    json_t *commands = json_object_get(root, "commands");
    if (!json_is_array(commands)) {
        fprintf(stderr, "spec-runner: %s: no \"commands\" array\n", path);
        json_decref(root);
        return 2;
    }
    if (count_only) {
        printf("%ld\n", countable_commands(commands));
        json_decref(root);
        return 0;
    }

    const char *src = jstr(root, "source_filename");
    if (src)
        base_name(src, ".wast", r.file, sizeof r.file);
    else
        base_name(path, ".json", r.file, sizeof r.file);
    const char *slash = strrchr(path, '/');
    if (slash) {
        size_t n = (size_t)(slash - path);
        r.dir = xrealloc(NULL, n + 1);
        memcpy(r.dir, path, n);
        r.dir[n] = '\0';
    } else {
        r.dir = xstrdup(".");
    }

    const char *setup_err = NULL;
    r.engine = fwe_engine_new();
    if (r.engine == NULL)
        setup_err = "fwe_engine_new";
    if (setup_err == NULL) {
        r.linker = fwe_linker_new(r.engine);
        if (r.linker == NULL)
            setup_err = "fwe_linker_new";
    }
    if (setup_err == NULL)
        setup_err = define_spectest(&r);
    if (setup_err != NULL) {
        /* Nothing can run: every command fails. */
        r.cmd = "setup";
        printf("FAIL %s.wast:0 setup: %s failed\n", r.file, setup_err);
        r.failed = countable_commands(commands);
    } else {
        for (size_t i = 0; i < json_array_size(commands); i++) {
            const json_t *cmd = json_array_get(commands, i);
            r.line = jline(cmd);
            r.cmd = jstr(cmd, "type");
            if (r.cmd == NULL)
                r.cmd = "(no type)";
            if (r.verbose) {
                fprintf(stderr, "# %s.wast:%d %s\n", r.file, r.line, r.cmd);
                fflush(stderr);
            }
            run_command(&r, cmd);
        }
    }
    char refused[200];
    uint32_t interpreted = fwe_tier_strict_violations(refused, sizeof refused);
    if (interpreted > 0) {
        /* FWE_TIER_STRICT: a function stayed interpreted for a reason it does not allow */
        printf("FAIL %s.wast:0 native-tier: %u functions stay interpreted, first: %s\n", r.file,
               interpreted, refused);
        r.failed += interpreted;
    }
    if (r.text > 0)
        printf("%s: %ld text-format module assertions not applicable (binary-only engine)\n",
               r.file, r.text);
    if (r.warnings > 0)
        printf("%s: %ld message wording warnings\n", r.file, r.warnings);
    printf("%s: %ld passed, %ld failed, %ld skipped\n", r.file, r.passed, r.failed, r.skipped);
    fflush(stdout);
    runner_free(&r);
    json_decref(root);
    return 0;
}
