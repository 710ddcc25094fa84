/* cfg_toml.c: the TOML 1.0 reader of cfg_toml.h: a recursive-descent parser over the whole
 * buffer (UTF-8 checked first), keys, arrays, inline tables and [headers] into the value tree with
 * the spec's table-definition rules (a table is defined once; dotted keys and [headers] do not
 * reopen each other's tables; inline tables and static arrays are closed), and errors with
 * line:column. Strings are read in cfg_toml_string.c, numbers and date-times in
 * cfg_toml_scalar.c. */
#include "config/cfg_toml_int.h"
#include "util/util_grow.h"
#include "util/util_str.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

enum {
    F_IMPLICIT = 1, /* a table made as the parent of a [header] path; may be defined once later */
    F_EXPLICIT = 2, /* a table defined by its own [header] or [[header]] */
    F_DOTTED = 4,   /* a table made by a dotted key */
    F_FROZEN = 8,   /* an inline table or static array: nothing may be added later */
    F_AOT = 16,     /* an array of tables made by [[header]] */
};

#define MAX_DEPTH 128

/* A key path being read: its parts, each an owned NUL-terminated copy. */
typedef struct key_part {
    char *s;
    size_t len;
    size_t pos; /* where the part starts, for messages */
} key_part;

typedef struct key_path {
    key_part *parts;
    size_t count, cap;
} key_path;

/* ---- positions and errors ---- */

/* Line and column (in characters) of pos. Kept incrementally from the last position asked for,
 * so reading a file costs time in proportion to its size (positions mostly move forward; a step
 * back to a key on the same line only recounts that stretch). */
static void locate(cfg_toml_parser *p, size_t pos, unsigned *line, unsigned *col)
{
    const unsigned char *b = (const unsigned char *)p->buf;
    if (pos > p->len)
        pos = p->len;
    if (pos >= p->loc_pos) {
        for (size_t i = p->loc_pos; i < pos; i++) {
            if (b[i] == '\n') {
                p->loc_line++;
                p->loc_col = 1;
            } else if ((b[i] & 0xC0) != 0x80) {
                p->loc_col++;
            }
        }
    } else {
        bool crossed = false;
        for (size_t i = pos; i < p->loc_pos; i++) {
            if (b[i] == '\n') {
                p->loc_line--;
                crossed = true;
            } else if ((b[i] & 0xC0) != 0x80) {
                p->loc_col--;
            }
        }
        if (crossed) {
            size_t ls = pos;
            while (ls > 0 && b[ls - 1] != '\n')
                ls--;
            p->loc_col = 1;
            for (size_t i = ls; i < pos; i++)
                if ((b[i] & 0xC0) != 0x80)
                    p->loc_col++;
        }
    }
    p->loc_pos = pos;
    *line = p->loc_line;
    *col = p->loc_col;
}

bool cfg_toml_fail(cfg_toml_parser *p, size_t pos, const char *fmt, ...)
{
    if (p->failed)
        return false;
    p->failed = true;
    locate(p, pos, &p->err->line, &p->err->column);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(p->err->msg, sizeof p->err->msg, fmt, ap);
    va_end(ap);
    return false;
}

bool cfg_toml_nomem(cfg_toml_parser *p)
{
    if (!p->failed) {
        p->failed = true;
        p->err->line = p->err->column = 0;
        snprintf(p->err->msg, sizeof p->err->msg, "out of memory");
    }
    return false;
}

/* Describes what is at pos for "expected X, found Y" messages. */
const char *cfg_toml_describe(const cfg_toml_parser *p, size_t pos, char *out, size_t n)
{
    int c = peek_at(p, pos);
    if (c < 0)
        snprintf(out, n, "end of file");
    else if (c == '\n' || (c == '\r' && peek_at(p, pos + 1) == '\n'))
        snprintf(out, n, "end of line");
    else if (c > 0x20 && c < 0x7f)
        snprintf(out, n, "'%c'", c);
    else if (c == ' ')
        snprintf(out, n, "a space");
    else if (c < 0x80)
        snprintf(out, n, "control character U+%04X", (unsigned)c);
    else {
        unsigned cp = 0;
        int extra = c >= 0xF0 ? 3 : c >= 0xE0 ? 2 : 1;
        cp = (unsigned)c & (0x3Fu >> extra);
        for (int i = 1; i <= extra; i++)
            cp = (cp << 6) | ((unsigned)peek_at(p, pos + (size_t)i) & 0x3F);
        snprintf(out, n, "U+%04X", cp);
    }
    return out;
}

/* A key for messages: control bytes shown as '?', long keys shortened. */
static const char *show_key(const char *k, size_t len, char *out, size_t n)
{
    size_t j = 0;
    for (size_t i = 0; i < len && j + 4 < n; i++) {
        unsigned char c = (unsigned char)k[i];
        out[j++] = (c < 0x20 || c == 0x7f) ? '?' : (char)c;
    }
    if (j + 4 >= n && len > j) {
        out[j++] = '.';
        out[j++] = '.';
        out[j++] = '.';
    }
    out[j] = '\0';
    return out;
}

/* ---- values ---- */

cfg_toml_value *cfg_toml_new_value(cfg_toml_parser *p, cfg_toml_type type, size_t pos)
{
    cfg_toml_value *v = calloc(1, sizeof *v);
    if (!v) {
        cfg_toml_nomem(p);
        return NULL;
    }
    v->type = type;
    locate(p, pos, &v->line, &v->column);
    return v;
}

void cfg_toml_free(cfg_toml_value *v)
{
    if (!v)
        return;
    switch (v->type) {
    case CFG_TOML_TABLE:
        for (size_t i = 0; i < v->u.table.count; i++) {
            free(v->u.table.items[i].key);
            cfg_toml_free(v->u.table.items[i].value);
        }
        free(v->u.table.items);
        free(v->u.table.index);
        break;
    case CFG_TOML_ARRAY:
        for (size_t i = 0; i < v->u.array.count; i++)
            cfg_toml_free(v->u.array.items[i]);
        free(v->u.array.items);
        break;
    case CFG_TOML_STRING:
        free(v->u.s.ptr);
        break;
    default:
        break;
    }
    free(v);
}

#define INDEX_FROM 16 /* tables with this many keys get a hash index */

static uint32_t key_hash(const char *key, size_t len)
{
    uint32_t h = 2166136261u; /* FNV-1a */
    for (size_t i = 0; i < len; i++)
        h = (h ^ (unsigned char)key[i]) * 16777619u;
    return h;
}

static void index_insert(uint32_t *index, size_t cap, const cfg_toml_pair *pr, uint32_t item)
{
    size_t i = key_hash(pr->key, pr->key_len) & (cap - 1);
    while (index[i])
        i = (i + 1) & (cap - 1);
    index[i] = item + 1;
}

/* (Re)builds the index when the table has outgrown it; false when out of memory. */
static bool index_grow(cfg_toml_value *t)
{
    size_t n = t->u.table.count;
    if (n < INDEX_FROM || n * 2 <= t->u.table.index_cap)
        return true;
    size_t cap = 64;
    while (cap < n * 4)
        cap *= 2;
    uint32_t *index = calloc(cap, sizeof *index);
    if (!index)
        return false;
    for (size_t i = 0; i < n; i++)
        index_insert(index, cap, &t->u.table.items[i], (uint32_t)i);
    free(t->u.table.index);
    t->u.table.index = index;
    t->u.table.index_cap = cap;
    return true;
}

static cfg_toml_value *table_find(const cfg_toml_value *t, const char *key, size_t len)
{
    const cfg_toml_pair *items = t->u.table.items;
    if (t->u.table.index) {
        size_t cap = t->u.table.index_cap;
        for (size_t i = key_hash(key, len) & (cap - 1); t->u.table.index[i];
             i = (i + 1) & (cap - 1)) {
            const cfg_toml_pair *pr = &items[t->u.table.index[i] - 1];
            if (pr->key_len == len && memcmp(pr->key, key, len) == 0)
                return pr->value;
        }
        return NULL;
    }
    for (size_t i = 0; i < t->u.table.count; i++)
        if (items[i].key_len == len && memcmp(items[i].key, key, len) == 0)
            return items[i].value;
    return NULL;
}

const cfg_toml_value *cfg_toml_get(const cfg_toml_value *t, const char *key)
{
    if (!t || t->type != CFG_TOML_TABLE)
        return NULL;
    return table_find(t, key, strlen(key));
}

/* Appends key -> v to table t (the key is copied); frees v when out of memory. */
static bool table_put(cfg_toml_parser *p, cfg_toml_value *t, const char *key, size_t len,
                      cfg_toml_value *v)
{
    if (!util_grow((void **)&t->u.table.items, &t->u.table.cap, t->u.table.count + 1, 4,
                   sizeof *t->u.table.items)) {
        cfg_toml_free(v);
        return cfg_toml_nomem(p);
    }
    char *k = util_strndup(key, len);
    if (!k) {
        cfg_toml_free(v);
        return cfg_toml_nomem(p);
    }
    t->u.table.items[t->u.table.count++] = (cfg_toml_pair){k, len, v};
    if (t->u.table.index && t->u.table.count * 2 <= t->u.table.index_cap)
        index_insert(t->u.table.index, t->u.table.index_cap,
                     &t->u.table.items[t->u.table.count - 1], (uint32_t)(t->u.table.count - 1));
    else if (!index_grow(t))
        return cfg_toml_nomem(p); /* the pair is in the table, so freeing the tree frees it */
    return true;
}

static bool array_push(cfg_toml_parser *p, cfg_toml_value *a, cfg_toml_value *v)
{
    if (!util_grow((void **)&a->u.array.items, &a->u.array.cap, a->u.array.count + 1, 4,
                   sizeof *a->u.array.items)) {
        cfg_toml_free(v);
        return cfg_toml_nomem(p);
    }
    a->u.array.items[a->u.array.count++] = v;
    return true;
}

const char *cfg_toml_type_name(cfg_toml_type type)
{
    switch (type) {
    case CFG_TOML_TABLE:
        return "table";
    case CFG_TOML_ARRAY:
        return "array";
    case CFG_TOML_STRING:
        return "string";
    case CFG_TOML_INTEGER:
        return "integer";
    case CFG_TOML_FLOAT:
        return "float";
    case CFG_TOML_BOOL:
        return "boolean";
    case CFG_TOML_DATETIME:
        return "offset date-time";
    case CFG_TOML_DATETIME_LOCAL:
        return "local date-time";
    case CFG_TOML_DATE_LOCAL:
        return "local date";
    case CFG_TOML_TIME_LOCAL:
        return "local time";
    }
    return "value";
}

/* ---- lexical pieces ---- */

static bool check_utf8(cfg_toml_parser *p)
{
    const unsigned char *s = (const unsigned char *)p->buf;
    size_t i = 0, n = p->len;
    while (i < n) {
        unsigned c = s[i];
        if (c < 0x80) {
            i++;
            continue;
        }
        size_t extra;
        uint32_t cp, min;
        if (c >= 0xC2 && c <= 0xDF) {
            extra = 1;
            cp = c & 0x1F;
            min = 0x80;
        } else if (c >= 0xE0 && c <= 0xEF) {
            extra = 2;
            cp = c & 0x0F;
            min = 0x800;
        } else if (c >= 0xF0 && c <= 0xF4) {
            extra = 3;
            cp = c & 0x07;
            min = 0x10000;
        } else {
            return cfg_toml_fail(p, i, "invalid UTF-8 (byte 0x%02X)", c);
        }
        for (size_t k = 1; k <= extra; k++) {
            if (i + k >= n || (s[i + k] & 0xC0) != 0x80)
                return cfg_toml_fail(p, i, "invalid UTF-8 (byte 0x%02X)", c);
            cp = (cp << 6) | (s[i + k] & 0x3F);
        }
        if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
            return cfg_toml_fail(p, i,
                                 "invalid UTF-8 (overlong, surrogate or out-of-range sequence)");
        i += extra + 1;
    }
    return true;
}

/* At '#': skips the comment up to (not including) the end of the line. */
static bool skip_comment(cfg_toml_parser *p)
{
    p->pos++;
    for (;;) {
        int c = peek(p);
        if (c < 0 || at_newline(p))
            return true;
        if (is_control(c))
            return cfg_toml_fail(p, p->pos, "control character U+%04X is not allowed in a comment",
                                 (unsigned)c);
        p->pos++;
    }
}

/* Whitespace, comments and newlines (inside arrays). */
static bool skip_blank(cfg_toml_parser *p)
{
    for (;;) {
        skip_ws(p);
        if (peek(p) == '#') {
            if (!skip_comment(p))
                return false;
        } else if (!eat_newline(p)) {
            return true;
        }
    }
}

/* After a key/value pair or a header: spaces, an optional comment, then a newline or the end. */
static bool end_of_line(cfg_toml_parser *p, const char *after)
{
    FOUND_DECL;
    skip_ws(p);
    if (peek(p) == '#' && !skip_comment(p))
        return false;
    if (peek(p) < 0 || eat_newline(p))
        return true;
    return cfg_toml_fail(p, p->pos, "expected the end of the line after %s, found %s", after,
                         FOUND(p));
}

/* ---- keys ---- */

static void key_path_free(key_path *k)
{
    for (size_t i = 0; i < k->count; i++)
        free(k->parts[i].s);
    free(k->parts);
    k->parts = NULL;
    k->count = k->cap = 0;
}

static bool read_key(cfg_toml_parser *p, key_path *k)
{
    FOUND_DECL;
    for (;;) {
        skip_ws(p);
        int c = peek(p);
        size_t start = p->pos;
        cfg_toml_sbuf b = {0};
        if (c == '"' || c == '\'') {
            if (!cfg_toml_read_string(p, &b, false)) {
                free(b.p);
                return false;
            }
        } else if (is_bare(c)) {
            while (is_bare(peek(p)))
                p->pos++;
            if (!cfg_toml_sb_put(p, &b, p->buf + start, p->pos - start))
                return false;
        } else {
            return cfg_toml_fail(p, p->pos, "expected a key, found %s", FOUND(p));
        }
        if (!util_grow((void **)&k->parts, &k->cap, k->count + 1, 4, sizeof *k->parts)) {
            free(b.p);
            return cfg_toml_nomem(p);
        }
        k->parts[k->count++] = (key_part){b.p, b.len, start};
        skip_ws(p);
        if (peek(p) != '.')
            return true;
        p->pos++;
    }
}

/* ---- values, tables, key/value pairs ---- */

static bool parse_value(cfg_toml_parser *p, cfg_toml_value **out);
static bool parse_keyval(cfg_toml_parser *p, cfg_toml_value *table);

static bool parse_array(cfg_toml_parser *p, cfg_toml_value **out)
{
    FOUND_DECL;
    cfg_toml_value *a = cfg_toml_new_value(p, CFG_TOML_ARRAY, p->pos);
    if (!a)
        return false;
    a->flags = F_FROZEN;
    p->pos++;
    for (;;) {
        if (!skip_blank(p))
            goto fail;
        if (peek(p) == ']')
            break;
        cfg_toml_value *v = NULL;
        if (!parse_value(p, &v) || !array_push(p, a, v))
            goto fail;
        if (!skip_blank(p))
            goto fail;
        if (peek(p) == ',') {
            p->pos++;
            continue;
        }
        if (peek(p) == ']')
            break;
        cfg_toml_fail(p, p->pos, "expected ',' or ']' in an array, found %s", FOUND(p));
        goto fail;
    }
    p->pos++;
    *out = a;
    return true;
fail:
    cfg_toml_free(a);
    return false;
}

static void freeze(cfg_toml_value *t)
{
    t->flags |= F_FROZEN;
    for (size_t i = 0; i < t->u.table.count; i++)
        if (t->u.table.items[i].value->type == CFG_TOML_TABLE)
            freeze(t->u.table.items[i].value);
}

static bool parse_inline_table(cfg_toml_parser *p, cfg_toml_value **out)
{
    FOUND_DECL;
    cfg_toml_value *t = cfg_toml_new_value(p, CFG_TOML_TABLE, p->pos);
    if (!t)
        return false;
    t->flags = F_EXPLICIT;
    p->pos++;
    skip_ws(p);
    if (peek(p) != '}') {
        for (;;) {
            if (at_newline(p)) {
                cfg_toml_fail(p, p->pos,
                              "expected a key, found end of line (an inline table must be on "
                              "one line)");
                goto fail;
            }
            if (!parse_keyval(p, t))
                goto fail;
            skip_ws(p);
            if (peek(p) == ',') {
                p->pos++;
                skip_ws(p);
                if (peek(p) == '}') {
                    cfg_toml_fail(p, p->pos,
                                  "expected a key after ',', found '}' (no trailing comma in "
                                  "an inline table)");
                    goto fail;
                }
                continue;
            }
            if (peek(p) == '}')
                break;
            cfg_toml_fail(p, p->pos, "expected ',' or '}' in an inline table, found %s", FOUND(p));
            goto fail;
        }
    }
    p->pos++;
    freeze(t);
    *out = t;
    return true;
fail:
    cfg_toml_free(t);
    return false;
}

static bool parse_value(cfg_toml_parser *p, cfg_toml_value **out)
{
    FOUND_DECL;
    int c = peek(p);
    size_t start = p->pos;
    if (c == '"' || c == '\'') {
        cfg_toml_sbuf b = {0};
        if (!cfg_toml_read_string(p, &b, true)) {
            free(b.p);
            return false;
        }
        cfg_toml_value *v = cfg_toml_new_value(p, CFG_TOML_STRING, start);
        if (!v) {
            free(b.p);
            return false;
        }
        v->u.s.ptr = b.p;
        v->u.s.len = b.len;
        *out = v;
        return true;
    }
    if (c == '[' || c == '{') {
        if (p->depth >= MAX_DEPTH)
            return cfg_toml_fail(p, start, "arrays and inline tables nested deeper than %d",
                                 MAX_DEPTH);
        p->depth++;
        bool ok = c == '[' ? parse_array(p, out) : parse_inline_table(p, out);
        p->depth--;
        return ok;
    }
    if (!is_token(c))
        return cfg_toml_fail(
            p, start,
            "expected a value (string, number, boolean, date-time, array or inline "
            "table), found %s",
            FOUND(p));
    while (is_token(peek(p)))
        p->pos++;
    size_t end = p->pos;
    size_t n = end - start;
    const char *s = p->buf + start;
    if ((n == 4 && memcmp(s, "true", 4) == 0) || (n == 5 && memcmp(s, "false", 5) == 0)) {
        cfg_toml_value *v = cfg_toml_new_value(p, CFG_TOML_BOOL, start);
        if (!v)
            return false;
        v->u.b = n == 4;
        *out = v;
        return true;
    }
    if ((n >= 5 && all_digits(s, 4) && s[4] == '-') || (n >= 3 && all_digits(s, 2) && s[2] == ':'))
        return cfg_toml_parse_datetime(p, start, end, out);
    return cfg_toml_parse_number(p, start, end, out);
}

/* Reads "key = value" and stores it in `table`, following and creating dotted-key tables. */
static bool parse_keyval(cfg_toml_parser *p, cfg_toml_value *table)
{
    FOUND_DECL;
    char kb[80];
    key_path k = {0};
    cfg_toml_value *v = NULL;
    if (!read_key(p, &k))
        goto fail;
    skip_ws(p);
    if (peek(p) != '=') {
        cfg_toml_fail(p, p->pos, "expected '=' after the key, found %s", FOUND(p));
        goto fail;
    }
    p->pos++;
    skip_ws(p);
    if (!parse_value(p, &v))
        goto fail;
    cfg_toml_value *t = table;
    for (size_t i = 0; i + 1 < k.count; i++) {
        key_part *kp = &k.parts[i];
        cfg_toml_value *child = table_find(t, kp->s, kp->len);
        if (!child) {
            child = cfg_toml_new_value(p, CFG_TOML_TABLE, kp->pos);
            if (!child || !table_put(p, t, kp->s, kp->len, child))
                goto fail;
            child->flags = F_DOTTED;
        } else if (child->type != CFG_TOML_TABLE) {
            cfg_toml_fail(p, kp->pos, "key '%s' is already defined as %s %s (line %u)",
                          show_key(kp->s, kp->len, kb, sizeof kb),
                          child->type == CFG_TOML_ARRAY || child->type == CFG_TOML_INTEGER ? "an"
                                                                                           : "a",
                          cfg_toml_type_name(child->type), child->line);
            goto fail;
        } else if (child->flags & F_FROZEN) {
            cfg_toml_fail(p, kp->pos, "'%s' is an inline table (line %u), which cannot be extended",
                          show_key(kp->s, kp->len, kb, sizeof kb), child->line);
            goto fail;
        } else if (child->flags & F_EXPLICIT) {
            cfg_toml_fail(
                p, kp->pos,
                "table '%s' was defined by a [header] (line %u) and cannot be extended with "
                "dotted keys",
                show_key(kp->s, kp->len, kb, sizeof kb), child->line);
            goto fail;
        } else {
            child->flags = F_DOTTED;
        }
        t = child;
    }
    key_part *last = &k.parts[k.count - 1];
    cfg_toml_value *dup = table_find(t, last->s, last->len);
    if (dup) {
        cfg_toml_fail(p, last->pos, "duplicate key '%s' (first defined at line %u, column %u)",
                      show_key(last->s, last->len, kb, sizeof kb), dup->line, dup->column);
        goto fail;
    }
    if (!table_put(p, t, last->s, last->len, v)) {
        v = NULL;
        goto fail;
    }
    key_path_free(&k);
    return true;
fail:
    cfg_toml_free(v);
    key_path_free(&k);
    return false;
}

/* At '[': a [table] or [[array of tables]] header; sets *cur to the table that follows. */
static bool parse_header(cfg_toml_parser *p, cfg_toml_value *root, cfg_toml_value **cur)
{
    FOUND_DECL;
    char kb[80];
    size_t start = p->pos;
    bool aot = peek_at(p, p->pos + 1) == '[';
    p->pos += aot ? 2 : 1;
    key_path k = {0};
    if (!read_key(p, &k))
        goto fail;
    skip_ws(p);
    if (peek(p) != ']' || (aot && peek_at(p, p->pos + 1) != ']')) {
        cfg_toml_fail(p, p->pos, "expected '%s' to close the %s header, found %s", aot ? "]]" : "]",
                      aot ? "[[array of tables]]" : "[table]", FOUND(p));
        goto fail;
    }
    p->pos += aot ? 2 : 1;
    cfg_toml_value *t = root;
    for (size_t i = 0; i + 1 < k.count; i++) {
        key_part *kp = &k.parts[i];
        cfg_toml_value *child = table_find(t, kp->s, kp->len);
        if (!child) {
            child = cfg_toml_new_value(p, CFG_TOML_TABLE, start);
            if (!child || !table_put(p, t, kp->s, kp->len, child))
                goto fail;
            child->flags = F_IMPLICIT;
        } else if (child->type == CFG_TOML_ARRAY && (child->flags & F_AOT)) {
            child = child->u.array.items[child->u.array.count - 1];
        } else if (child->type != CFG_TOML_TABLE) {
            cfg_toml_fail(p, kp->pos, "key '%s' is already defined as a %s (line %u), not a table",
                          show_key(kp->s, kp->len, kb, sizeof kb), cfg_toml_type_name(child->type),
                          child->line);
            goto fail;
        } else if (child->flags & F_FROZEN) {
            cfg_toml_fail(p, kp->pos, "'%s' is an inline table (line %u), which cannot be extended",
                          show_key(kp->s, kp->len, kb, sizeof kb), child->line);
            goto fail;
        }
        t = child;
    }
    key_part *last = &k.parts[k.count - 1];
    cfg_toml_value *have = table_find(t, last->s, last->len);
    const char *name = show_key(last->s, last->len, kb, sizeof kb);
    if (aot) {
        if (!have) {
            have = cfg_toml_new_value(p, CFG_TOML_ARRAY, start);
            if (!have || !table_put(p, t, last->s, last->len, have))
                goto fail;
            have->flags = F_AOT;
        } else if (have->type != CFG_TOML_ARRAY || !(have->flags & F_AOT)) {
            cfg_toml_fail(
                p, last->pos, "'%s' is already defined as %s %s (line %u), not an array of tables",
                name, have->type == CFG_TOML_INTEGER ? "an" : "a",
                have->type == CFG_TOML_ARRAY ? "static array" : cfg_toml_type_name(have->type),
                have->line);
            goto fail;
        }
        cfg_toml_value *elem = cfg_toml_new_value(p, CFG_TOML_TABLE, start);
        if (!elem || !array_push(p, have, elem))
            goto fail;
        elem->flags = F_EXPLICIT;
        *cur = elem;
    } else {
        if (!have) {
            have = cfg_toml_new_value(p, CFG_TOML_TABLE, start);
            if (!have || !table_put(p, t, last->s, last->len, have))
                goto fail;
        } else if (have->type != CFG_TOML_TABLE || have->flags != F_IMPLICIT) {
            if (have->type == CFG_TOML_TABLE)
                cfg_toml_fail(p, start, "table '%s' is defined twice (first at line %u)", name,
                              have->line);
            else
                cfg_toml_fail(p, last->pos,
                              "key '%s' is already defined as %s %s (line %u), not a table", name,
                              have->type == CFG_TOML_ARRAY || have->type == CFG_TOML_INTEGER ? "an"
                                                                                             : "a",
                              cfg_toml_type_name(have->type), have->line);
            goto fail;
        } else {
            locate(p, start, &have->line, &have->column);
        }
        have->flags = F_EXPLICIT;
        *cur = have;
    }
    key_path_free(&k);
    return true;
fail:
    key_path_free(&k);
    return false;
}

cfg_toml_value *cfg_toml_parse(const char *buf, size_t len, cfg_toml_error *err)
{
    cfg_toml_parser p = {.buf = buf, .len = len, .err = err, .loc_line = 1, .loc_col = 1};
    memset(err, 0, sizeof *err);
    if (!check_utf8(&p))
        return NULL;
    cfg_toml_value *root = cfg_toml_new_value(&p, CFG_TOML_TABLE, 0);
    if (!root)
        return NULL;
    root->flags = F_EXPLICIT;
    cfg_toml_value *cur = root;
    if (len >= 3 && memcmp(buf, "\xEF\xBB\xBF", 3) == 0)
        p.pos = 3;
    while (p.pos < p.len) {
        skip_ws(&p);
        int c = peek(&p);
        if (c < 0)
            break;
        if (eat_newline(&p))
            continue;
        const char *after = "the comment";
        if (c == '[') {
            if (!parse_header(&p, root, &cur))
                goto fail;
            after = "the table header";
        } else if (c != '#') {
            if (!parse_keyval(&p, cur))
                goto fail;
            after = "the value";
        }
        if (!end_of_line(&p, after))
            goto fail;
    }
    return root;
fail:
    cfg_toml_free(root);
    return NULL;
}

cfg_status cfg_toml_load(const char *path, cfg_toml_value **out, char *err, size_t errlen)
{
    *out = NULL;
    FILE *f = fopen(path, "rb");
    struct stat st;
    if (!f || fstat(fileno(f), &st) != 0 || S_ISDIR(st.st_mode)) {
        snprintf(err, errlen, "%s: cannot read: %s", path, f ? "is a directory" : strerror(errno));
        if (f)
            fclose(f);
        return CFG_ERR_FILE;
    }
    size_t first = st.st_size > 0 ? (size_t)st.st_size + 1 : 4096, cap = 0, len = 0;
    char *buf = NULL;
    for (;;) { /* the file's size plus one first, then twice the room while it fills up */
        if (!util_grow((void **)&buf, &cap, len + 1, first, 1)) {
            free(buf);
            fclose(f);
            snprintf(err, errlen, "%s: out of memory", path);
            return CFG_ERR_NOMEM;
        }
        len += fread(buf + len, 1, cap - len, f);
        if (len < cap)
            break;
    }
    bool read_err = ferror(f) != 0;
    fclose(f);
    if (read_err) {
        free(buf);
        snprintf(err, errlen, "%s: cannot read: I/O error", path);
        return CFG_ERR_FILE;
    }
    cfg_toml_error te;
    *out = cfg_toml_parse(buf, len, &te);
    free(buf);
    if (*out)
        return CFG_OK;
    if (te.line == 0) {
        snprintf(err, errlen, "%s: %s", path, te.msg);
        return CFG_ERR_NOMEM;
    }
    snprintf(err, errlen, "%s:%u:%u: %s", path, te.line, te.column, te.msg);
    return CFG_ERR_TOML;
}
