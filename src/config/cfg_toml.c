/* cfg_toml.c: the TOML 1.0 reader of cfg_toml.h: a recursive-descent parser over the whole
 * buffer (UTF-8 checked first), the value tree with the spec's table-definition rules (a table is
 * defined once; dotted keys and [headers] do not reopen each other's tables; inline tables and
 * static arrays are closed), strict numbers and date-times, and errors with line:column. */
#include "config/cfg_toml.h"

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

typedef struct parser {
    const char *buf;
    size_t len, pos;
    cfg_toml_error *err;
    bool failed;
    int depth;
    size_t loc_pos; /* locate()'s last position and its line and column */
    unsigned loc_line, loc_col;
} parser;

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

typedef struct sbuf {
    char *p;
    size_t len, cap;
} sbuf;

/* ---- positions and errors ---- */

/* Line and column (in characters) of pos. Kept incrementally from the last position asked for,
 * so reading a file costs time in proportion to its size (positions mostly move forward; a step
 * back to a key on the same line only recounts that stretch). */
static void locate(parser *p, size_t pos, unsigned *line, unsigned *col)
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

static bool fail(parser *p, size_t pos, const char *fmt, ...)
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

static bool nomem(parser *p)
{
    if (!p->failed) {
        p->failed = true;
        p->err->line = p->err->column = 0;
        snprintf(p->err->msg, sizeof p->err->msg, "out of memory");
    }
    return false;
}

static int peek_at(const parser *p, size_t pos)
{
    return pos < p->len ? (unsigned char)p->buf[pos] : -1;
}

static int peek(const parser *p)
{
    return peek_at(p, p->pos);
}

/* Describes what is at pos for "expected X, found Y" messages. */
static const char *describe(const parser *p, size_t pos, char *out, size_t n)
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

#define FOUND(p) describe((p), (p)->pos, found_buf_, sizeof found_buf_)
#define FOUND_DECL char found_buf_[40]

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

static cfg_toml_value *new_value(parser *p, cfg_toml_type type, size_t pos)
{
    cfg_toml_value *v = calloc(1, sizeof *v);
    if (!v) {
        nomem(p);
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
static bool table_put(parser *p, cfg_toml_value *t, const char *key, size_t len, cfg_toml_value *v)
{
    if (t->u.table.count == t->u.table.cap) {
        size_t cap = t->u.table.cap ? t->u.table.cap * 2 : 4;
        cfg_toml_pair *items = realloc(t->u.table.items, cap * sizeof *items);
        if (!items) {
            cfg_toml_free(v);
            return nomem(p);
        }
        t->u.table.items = items;
        t->u.table.cap = cap;
    }
    char *k = malloc(len + 1);
    if (!k) {
        cfg_toml_free(v);
        return nomem(p);
    }
    memcpy(k, key, len);
    k[len] = '\0';
    t->u.table.items[t->u.table.count++] = (cfg_toml_pair){k, len, v};
    if (t->u.table.index && t->u.table.count * 2 <= t->u.table.index_cap)
        index_insert(t->u.table.index, t->u.table.index_cap,
                     &t->u.table.items[t->u.table.count - 1], (uint32_t)(t->u.table.count - 1));
    else if (!index_grow(t))
        return nomem(p); /* the pair is in the table, so freeing the tree frees it */
    return true;
}

static bool array_push(parser *p, cfg_toml_value *a, cfg_toml_value *v)
{
    if (a->u.array.count == a->u.array.cap) {
        size_t cap = a->u.array.cap ? a->u.array.cap * 2 : 4;
        cfg_toml_value **items = realloc(a->u.array.items, cap * sizeof *items);
        if (!items) {
            cfg_toml_free(v);
            return nomem(p);
        }
        a->u.array.items = items;
        a->u.array.cap = cap;
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

/* ---- string buffers ---- */

static bool sb_put(parser *p, sbuf *b, const char *s, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 32;
        while (cap < b->len + n + 1)
            cap *= 2;
        char *np = realloc(b->p, cap);
        if (!np)
            return nomem(p);
        b->p = np;
        b->cap = cap;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
    return true;
}

static bool sb_utf8(parser *p, sbuf *b, uint32_t cp)
{
    char u[4];
    size_t n;
    if (cp < 0x80) {
        u[0] = (char)cp;
        n = 1;
    } else if (cp < 0x800) {
        u[0] = (char)(0xC0 | (cp >> 6));
        u[1] = (char)(0x80 | (cp & 0x3F));
        n = 2;
    } else if (cp < 0x10000) {
        u[0] = (char)(0xE0 | (cp >> 12));
        u[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        u[2] = (char)(0x80 | (cp & 0x3F));
        n = 3;
    } else {
        u[0] = (char)(0xF0 | (cp >> 18));
        u[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
        u[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
        u[3] = (char)(0x80 | (cp & 0x3F));
        n = 4;
    }
    return sb_put(p, b, u, n);
}

/* ---- lexical pieces ---- */

static bool check_utf8(parser *p)
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
            return fail(p, i, "invalid UTF-8 (byte 0x%02X)", c);
        }
        for (size_t k = 1; k <= extra; k++) {
            if (i + k >= n || (s[i + k] & 0xC0) != 0x80)
                return fail(p, i, "invalid UTF-8 (byte 0x%02X)", c);
            cp = (cp << 6) | (s[i + k] & 0x3F);
        }
        if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
            return fail(p, i, "invalid UTF-8 (overlong, surrogate or out-of-range sequence)");
        i += extra + 1;
    }
    return true;
}

static void skip_ws(parser *p)
{
    while (p->pos < p->len && (p->buf[p->pos] == ' ' || p->buf[p->pos] == '\t'))
        p->pos++;
}

static bool at_newline(const parser *p)
{
    int c = peek(p);
    return c == '\n' || (c == '\r' && peek_at(p, p->pos + 1) == '\n');
}

static bool eat_newline(parser *p)
{
    if (peek(p) == '\n') {
        p->pos++;
        return true;
    }
    if (peek(p) == '\r' && peek_at(p, p->pos + 1) == '\n') {
        p->pos += 2;
        return true;
    }
    return false;
}

static bool is_control(int c)
{
    return (c >= 0 && c < 0x20 && c != '\t') || c == 0x7f;
}

/* At '#': skips the comment up to (not including) the end of the line. */
static bool skip_comment(parser *p)
{
    p->pos++;
    for (;;) {
        int c = peek(p);
        if (c < 0 || at_newline(p))
            return true;
        if (is_control(c))
            return fail(p, p->pos, "control character U+%04X is not allowed in a comment",
                        (unsigned)c);
        p->pos++;
    }
}

/* Whitespace, comments and newlines (inside arrays). */
static bool skip_blank(parser *p)
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
static bool end_of_line(parser *p, const char *after)
{
    FOUND_DECL;
    skip_ws(p);
    if (peek(p) == '#' && !skip_comment(p))
        return false;
    if (peek(p) < 0 || eat_newline(p))
        return true;
    return fail(p, p->pos, "expected the end of the line after %s, found %s", after, FOUND(p));
}

static int hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* At a backslash in a basic string: appends the escaped character. */
static bool escape(parser *p, sbuf *b)
{
    size_t start = p->pos;
    p->pos++;
    int e = peek(p);
    char c;
    switch (e) {
    case 'b':
        c = '\b';
        break;
    case 't':
        c = '\t';
        break;
    case 'n':
        c = '\n';
        break;
    case 'f':
        c = '\f';
        break;
    case 'r':
        c = '\r';
        break;
    case '"':
        c = '"';
        break;
    case '\\':
        c = '\\';
        break;
    case 'u':
    case 'U': {
        int digits = e == 'u' ? 4 : 8;
        uint32_t cp = 0;
        for (int i = 1; i <= digits; i++) {
            int h = hexval(peek_at(p, p->pos + (size_t)i));
            if (h < 0)
                return fail(p, start, "\\%c needs %d hexadecimal digits", e, digits);
            cp = cp * 16 + (uint32_t)h;
        }
        if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
            return fail(p, start, "\\%c%0*X is not a Unicode scalar value", e, digits, cp);
        p->pos += (size_t)digits + 1;
        return sb_utf8(p, b, cp);
    }
    default: {
        FOUND_DECL;
        return fail(p, start, "invalid escape sequence: '\\' followed by %s", FOUND(p));
    }
    }
    p->pos++;
    return sb_put(p, b, &c, 1);
}

/* At the opening quote(s): reads one of the four string forms into b. */
static bool read_string(parser *p, sbuf *b, bool allow_multiline)
{
    size_t start = p->pos;
    char q = p->buf[p->pos];
    bool literal = q == '\'';
    bool multi = peek_at(p, p->pos + 1) == q && peek_at(p, p->pos + 2) == q;
    if (!sb_put(p, b, "", 0))
        return false;
    if (multi && !allow_multiline)
        return fail(p, start, "a key cannot be a multi-line string");
    if (!multi) {
        p->pos++;
        for (;;) {
            int c = peek(p);
            if (c < 0 || at_newline(p))
                return fail(p, p->pos,
                            "unterminated string: expected %c before the end of the line", q);
            if (c == q) {
                p->pos++;
                return true;
            }
            if (c == '\\' && !literal) {
                if (!escape(p, b))
                    return false;
                continue;
            }
            if (is_control(c))
                return fail(p, p->pos, "control character U+%04X must be escaped in a string",
                            (unsigned)c);
            if (!sb_put(p, b, p->buf + p->pos, 1))
                return false;
            p->pos++;
        }
    }
    p->pos += 3;
    eat_newline(p); /* a newline right after the opening delimiter is trimmed */
    for (;;) {
        int c = peek(p);
        if (c < 0)
            return fail(p, start, "unterminated multi-line string: expected %c%c%c", q, q, q);
        if (c == q) {
            size_t n = 0;
            while (peek_at(p, p->pos + n) == q)
                n++;
            if (n < 3) {
                if (!sb_put(p, b, p->buf + p->pos, n))
                    return false;
                p->pos += n;
                continue;
            }
            if (n > 5)
                return fail(p, p->pos + 5,
                            "too many quotes: at most two may end a multi-line string");
            if (!sb_put(p, b, p->buf + p->pos, n - 3))
                return false;
            p->pos += n;
            return true;
        }
        if (c == '\\' && !literal) {
            /* A backslash at the end of a line trims it and the whitespace that follows. */
            size_t q2 = p->pos + 1;
            while (peek_at(p, q2) == ' ' || peek_at(p, q2) == '\t')
                q2++;
            size_t save = p->pos;
            p->pos = q2;
            if (at_newline(p)) {
                for (;;) {
                    skip_ws(p);
                    if (!eat_newline(p))
                        break;
                }
                continue;
            }
            p->pos = save;
            if (!escape(p, b))
                return false;
            continue;
        }
        if (c == '\n' || (c == '\r' && peek_at(p, p->pos + 1) == '\n')) {
            size_t n = c == '\n' ? 1 : 2;
            if (!sb_put(p, b, p->buf + p->pos, n))
                return false;
            p->pos += n;
            continue;
        }
        if (is_control(c))
            return fail(p, p->pos, "control character U+%04X must be escaped in a string",
                        (unsigned)c);
        if (!sb_put(p, b, p->buf + p->pos, 1))
            return false;
        p->pos++;
    }
}

/* ---- keys ---- */

static bool is_bare(int c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-';
}

static void key_path_free(key_path *k)
{
    for (size_t i = 0; i < k->count; i++)
        free(k->parts[i].s);
    free(k->parts);
    k->parts = NULL;
    k->count = k->cap = 0;
}

static bool read_key(parser *p, key_path *k)
{
    FOUND_DECL;
    for (;;) {
        skip_ws(p);
        int c = peek(p);
        size_t start = p->pos;
        sbuf b = {0};
        if (c == '"' || c == '\'') {
            if (!read_string(p, &b, false)) {
                free(b.p);
                return false;
            }
        } else if (is_bare(c)) {
            while (is_bare(peek(p)))
                p->pos++;
            if (!sb_put(p, &b, p->buf + start, p->pos - start))
                return false;
        } else {
            return fail(p, p->pos, "expected a key, found %s", FOUND(p));
        }
        if (k->count == k->cap) {
            size_t cap = k->cap ? k->cap * 2 : 4;
            key_part *np = realloc(k->parts, cap * sizeof *np);
            if (!np) {
                free(b.p);
                return nomem(p);
            }
            k->parts = np;
            k->cap = cap;
        }
        k->parts[k->count++] = (key_part){b.p, b.len, start};
        skip_ws(p);
        if (peek(p) != '.')
            return true;
        p->pos++;
    }
}

/* ---- numbers and date-times ---- */

static bool is_digit(int c)
{
    return c >= '0' && c <= '9';
}

static bool is_token(int c)
{
    return is_bare(c) || c == '+' || c == '.' || c == ':';
}

/* Reads digits (of the base) with single underscores between them from s[*i..n); copies the
 * digits to out (when not NULL). Returns the number of digits, or -1 for a misplaced '_'. */
static int digits(const char *s, size_t n, size_t *i, int base, char *out, size_t *outlen)
{
    int count = 0;
    bool prev_digit = false;
    while (*i < n) {
        int c = (unsigned char)s[*i];
        int v = hexval(c);
        if (c == '_') {
            if (!prev_digit || *i + 1 >= n || hexval((unsigned char)s[*i + 1]) < 0 ||
                hexval((unsigned char)s[*i + 1]) >= base)
                return -1;
            prev_digit = false;
            (*i)++;
            continue;
        }
        if (v < 0 || v >= base)
            break;
        if (out)
            out[(*outlen)++] = (char)c;
        count++;
        prev_digit = true;
        (*i)++;
    }
    return count;
}

static bool parse_number(parser *p, size_t start, size_t end, cfg_toml_value **out)
{
    const char *s = p->buf + start;
    size_t n = end - start;
    size_t i = 0;
    bool neg = false, sign = false;
    if (s[0] == '+' || s[0] == '-') {
        sign = true;
        neg = s[0] == '-';
        i = 1;
    }
    if (n - i == 3 && (memcmp(s + i, "inf", 3) == 0 || memcmp(s + i, "nan", 3) == 0)) {
        cfg_toml_value *v = new_value(p, CFG_TOML_FLOAT, start);
        if (!v)
            return false;
        if (s[i] == 'i')
            v->u.f = neg ? -__builtin_inf() : __builtin_inf();
        else
            v->u.f = neg ? -__builtin_nan("") : __builtin_nan("");
        *out = v;
        return true;
    }
    if (n - i > 2 && s[i] == '0' && (s[i + 1] == 'x' || s[i + 1] == 'o' || s[i + 1] == 'b')) {
        int base = s[i + 1] == 'x' ? 16 : s[i + 1] == 'o' ? 8 : 2;
        if (sign)
            return fail(p, start, "a hexadecimal, octal or binary integer cannot have a sign");
        size_t j = i + 2;
        size_t dstart = j;
        int nd = digits(s, n, &j, base, NULL, NULL);
        if (nd <= 0 || j != n || s[dstart] == '_')
            return fail(p, start, "invalid %s integer '%.*s'",
                        base == 16  ? "hexadecimal"
                        : base == 8 ? "octal"
                                    : "binary",
                        (int)n, s);
        uint64_t acc = 0;
        for (size_t k = dstart; k < n; k++) {
            if (s[k] == '_')
                continue;
            uint64_t d = (uint64_t)hexval((unsigned char)s[k]);
            if (acc > (UINT64_C(0x7FFFFFFFFFFFFFFF) - d) / (uint64_t)base)
                return fail(p, start, "integer '%.*s' does not fit in 64 bits (signed)", (int)n, s);
            acc = acc * (uint64_t)base + d;
        }
        cfg_toml_value *v = new_value(p, CFG_TOML_INTEGER, start);
        if (!v)
            return false;
        v->u.i = (int64_t)acc;
        *out = v;
        return true;
    }
    char *clean = malloc(n + 2);
    if (!clean)
        return nomem(p);
    size_t cl = 0;
    if (neg)
        clean[cl++] = '-';
    bool is_float = false, ok = true;
    size_t int_start = i;
    int nd = digits(s, n, &i, 10, clean, &cl);
    if (nd <= 0)
        ok = false;
    else if (s[int_start] == '0' && nd > 1)
        ok = false; /* leading zero */
    if (ok && i < n && s[i] == '.') {
        is_float = true;
        clean[cl++] = '.';
        i++;
        if (i >= n || !is_digit((unsigned char)s[i]) || digits(s, n, &i, 10, clean, &cl) <= 0)
            ok = false;
    }
    if (ok && i < n && (s[i] == 'e' || s[i] == 'E')) {
        is_float = true;
        clean[cl++] = 'e';
        i++;
        if (i < n && (s[i] == '+' || s[i] == '-'))
            clean[cl++] = s[i++];
        if (i >= n || !is_digit((unsigned char)s[i]) || digits(s, n, &i, 10, clean, &cl) <= 0)
            ok = false;
    }
    if (!ok || i != n) {
        free(clean);
        if (nd > 1 && s[int_start] == '0')
            return fail(p, start, "leading zeros are not allowed in '%.*s'", (int)n, s);
        return fail(p, start,
                    "invalid value '%.*s': expected a number, date-time, boolean, "
                    "string, array or inline table",
                    (int)n, s);
    }
    clean[cl] = '\0';
    cfg_toml_value *v = new_value(p, is_float ? CFG_TOML_FLOAT : CFG_TOML_INTEGER, start);
    if (!v) {
        free(clean);
        return false;
    }
    errno = 0;
    if (is_float) {
        v->u.f = strtod(clean, NULL);
    } else {
        long long x = strtoll(clean, NULL, 10);
        if (errno == ERANGE) {
            free(clean);
            cfg_toml_free(v);
            return fail(p, start, "integer '%.*s' does not fit in 64 bits (signed)", (int)n, s);
        }
        v->u.i = (int64_t)x;
    }
    free(clean);
    *out = v;
    return true;
}

static int num2(const char *s)
{
    return (s[0] - '0') * 10 + (s[1] - '0');
}

static bool all_digits(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!is_digit((unsigned char)s[i]))
            return false;
    return true;
}

static int days_in_month(int y, int m)
{
    static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return m == 2 && leap ? 29 : days[m - 1];
}

/* Parses "HH:MM:SS[.frac]" then, when allow_offset, an optional offset; must use all of s[0..n).
 * Returns 1 with an offset, 0 without, -1 when invalid. */
static int parse_time(const char *s, size_t n, bool allow_offset, cfg_toml_datetime *dt)
{
    if (n < 8 || !all_digits(s, 2) || s[2] != ':' || !all_digits(s + 3, 2) || s[5] != ':' ||
        !all_digits(s + 6, 2))
        return -1;
    dt->hour = num2(s);
    dt->minute = num2(s + 3);
    dt->second = num2(s + 6);
    if (dt->hour > 23 || dt->minute > 59 || dt->second > 59)
        return -1;
    size_t i = 8;
    if (i < n && s[i] == '.') {
        i++;
        size_t fs = i;
        uint32_t ns = 0;
        int nd = 0;
        while (i < n && is_digit((unsigned char)s[i])) {
            if (nd < 9) {
                ns = ns * 10 + (uint32_t)(s[i] - '0');
                nd++;
            }
            i++;
        }
        if (i == fs)
            return -1;
        dt->frac_digits = nd;
        for (int k = nd; k < 9; k++)
            ns *= 10;
        dt->nanosecond = ns;
    }
    if (i == n)
        return 0;
    if (!allow_offset)
        return -1;
    if ((s[i] == 'Z' || s[i] == 'z') && i + 1 == n) {
        dt->offset_minutes = 0;
        return 1;
    }
    if ((s[i] == '+' || s[i] == '-') && n - i == 6 && all_digits(s + i + 1, 2) && s[i + 3] == ':' &&
        all_digits(s + i + 4, 2)) {
        int oh = num2(s + i + 1), om = num2(s + i + 4);
        if (oh > 23 || om > 59)
            return -1;
        dt->offset_minutes = (s[i] == '-' ? -1 : 1) * (oh * 60 + om);
        return 1;
    }
    return -1;
}

/* A bare token that starts like a date (YYYY-MM-DD) or a time (HH:MM). */
static bool parse_datetime(parser *p, size_t start, size_t end, cfg_toml_value **out)
{
    const char *s = p->buf + start;
    size_t n = end - start;
    cfg_toml_datetime dt;
    memset(&dt, 0, sizeof dt);
    cfg_toml_type type;
    if (n >= 3 && s[2] == ':') {
        if (parse_time(s, n, false, &dt) != 0)
            return fail(p, start, "invalid local time '%.*s': expected HH:MM:SS[.fraction]", (int)n,
                        s);
        type = CFG_TOML_TIME_LOCAL;
    } else {
        if (n < 10 || !all_digits(s, 4) || s[4] != '-' || !all_digits(s + 5, 2) || s[7] != '-' ||
            !all_digits(s + 8, 2))
            return fail(p, start, "invalid date '%.*s': expected YYYY-MM-DD", (int)n, s);
        dt.year = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + num2(s + 2);
        dt.month = num2(s + 5);
        dt.day = num2(s + 8);
        if (dt.month < 1 || dt.month > 12 || dt.day < 1 ||
            dt.day > days_in_month(dt.year, dt.month))
            return fail(p, start, "invalid date '%.*s': no such day", 10, s);
        const char *t = NULL;
        size_t tn = 0;
        size_t tstart = start;
        if (n == 10) {
            /* "1979-05-27 07:32:00": a space may separate the date and the time */
            size_t q = end;
            if (peek_at(p, q) == ' ' && is_digit(peek_at(p, q + 1)) &&
                is_digit(peek_at(p, q + 2)) && peek_at(p, q + 3) == ':') {
                size_t e = q + 1;
                while (is_token(peek_at(p, e)))
                    e++;
                t = p->buf + q + 1;
                tn = e - (q + 1);
                tstart = q + 1;
                p->pos = e;
            }
        } else if (s[10] == 'T' || s[10] == 't') {
            t = s + 11;
            tn = n - 11;
            tstart = start + 11;
        } else {
            return fail(p, start, "invalid date-time '%.*s'", (int)n, s);
        }
        if (!t) {
            type = CFG_TOML_DATE_LOCAL;
        } else {
            int r = parse_time(t, tn, true, &dt);
            if (r < 0)
                return fail(p, tstart,
                            "invalid time '%.*s': expected HH:MM:SS[.fraction][Z|+HH:MM|-HH:MM]",
                            (int)tn, t);
            type = r ? CFG_TOML_DATETIME : CFG_TOML_DATETIME_LOCAL;
        }
    }
    cfg_toml_value *v = new_value(p, type, start);
    if (!v)
        return false;
    v->u.dt = dt;
    *out = v;
    return true;
}

int cfg_toml_datetime_format(const cfg_toml_value *v, char *buf, size_t n)
{
    const cfg_toml_datetime *d = &v->u.dt;
    char date[32] = "", time[48] = "", off[16] = "";
    bool has_date = v->type != CFG_TOML_TIME_LOCAL;
    bool has_time = v->type != CFG_TOML_DATE_LOCAL;
    if (v->type < CFG_TOML_DATETIME)
        return 0;
    if (has_date)
        snprintf(date, sizeof date, "%04d-%02d-%02d", d->year, d->month, d->day);
    if (has_time) {
        int k = snprintf(time, sizeof time, "%s%02d:%02d:%02d", has_date ? "T" : "", d->hour,
                         d->minute, d->second);
        if (d->frac_digits > 0) {
            char frac[16];
            snprintf(frac, sizeof frac, "%09u", (unsigned)d->nanosecond);
            frac[d->frac_digits] = '\0';
            snprintf(time + k, sizeof time - (size_t)k, ".%s", frac);
        }
    }
    if (v->type == CFG_TOML_DATETIME) {
        int m = d->offset_minutes;
        if (m == 0)
            snprintf(off, sizeof off, "Z");
        else
            snprintf(off, sizeof off, "%c%02d:%02d", m < 0 ? '-' : '+', abs(m) / 60, abs(m) % 60);
    }
    return snprintf(buf, n, "%s%s%s", date, time, off);
}

/* ---- values, tables, key/value pairs ---- */

static bool parse_value(parser *p, cfg_toml_value **out);
static bool parse_keyval(parser *p, cfg_toml_value *table);

static bool parse_array(parser *p, cfg_toml_value **out)
{
    FOUND_DECL;
    cfg_toml_value *a = new_value(p, CFG_TOML_ARRAY, p->pos);
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
        fail(p, p->pos, "expected ',' or ']' in an array, found %s", FOUND(p));
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

static bool parse_inline_table(parser *p, cfg_toml_value **out)
{
    FOUND_DECL;
    cfg_toml_value *t = new_value(p, CFG_TOML_TABLE, p->pos);
    if (!t)
        return false;
    t->flags = F_EXPLICIT;
    p->pos++;
    skip_ws(p);
    if (peek(p) != '}') {
        for (;;) {
            if (at_newline(p)) {
                fail(p, p->pos,
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
                    fail(p, p->pos,
                         "expected a key after ',', found '}' (no trailing comma in "
                         "an inline table)");
                    goto fail;
                }
                continue;
            }
            if (peek(p) == '}')
                break;
            fail(p, p->pos, "expected ',' or '}' in an inline table, found %s", FOUND(p));
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

static bool parse_value(parser *p, cfg_toml_value **out)
{
    FOUND_DECL;
    int c = peek(p);
    size_t start = p->pos;
    if (c == '"' || c == '\'') {
        sbuf b = {0};
        if (!read_string(p, &b, true)) {
            free(b.p);
            return false;
        }
        cfg_toml_value *v = new_value(p, CFG_TOML_STRING, start);
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
            return fail(p, start, "arrays and inline tables nested deeper than %d", MAX_DEPTH);
        p->depth++;
        bool ok = c == '[' ? parse_array(p, out) : parse_inline_table(p, out);
        p->depth--;
        return ok;
    }
    if (!is_token(c))
        return fail(p, start,
                    "expected a value (string, number, boolean, date-time, array or inline "
                    "table), found %s",
                    FOUND(p));
    while (is_token(peek(p)))
        p->pos++;
    size_t end = p->pos;
    size_t n = end - start;
    const char *s = p->buf + start;
    if ((n == 4 && memcmp(s, "true", 4) == 0) || (n == 5 && memcmp(s, "false", 5) == 0)) {
        cfg_toml_value *v = new_value(p, CFG_TOML_BOOL, start);
        if (!v)
            return false;
        v->u.b = n == 4;
        *out = v;
        return true;
    }
    if ((n >= 5 && all_digits(s, 4) && s[4] == '-') || (n >= 3 && all_digits(s, 2) && s[2] == ':'))
        return parse_datetime(p, start, end, out);
    return parse_number(p, start, end, out);
}

/* Reads "key = value" and stores it in `table`, following and creating dotted-key tables. */
static bool parse_keyval(parser *p, cfg_toml_value *table)
{
    FOUND_DECL;
    char kb[80];
    key_path k = {0};
    cfg_toml_value *v = NULL;
    if (!read_key(p, &k))
        goto fail;
    skip_ws(p);
    if (peek(p) != '=') {
        fail(p, p->pos, "expected '=' after the key, found %s", FOUND(p));
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
            child = new_value(p, CFG_TOML_TABLE, kp->pos);
            if (!child || !table_put(p, t, kp->s, kp->len, child))
                goto fail;
            child->flags = F_DOTTED;
        } else if (child->type != CFG_TOML_TABLE) {
            fail(p, kp->pos, "key '%s' is already defined as %s %s (line %u)",
                 show_key(kp->s, kp->len, kb, sizeof kb),
                 child->type == CFG_TOML_ARRAY || child->type == CFG_TOML_INTEGER ? "an" : "a",
                 cfg_toml_type_name(child->type), child->line);
            goto fail;
        } else if (child->flags & F_FROZEN) {
            fail(p, kp->pos, "'%s' is an inline table (line %u), which cannot be extended",
                 show_key(kp->s, kp->len, kb, sizeof kb), child->line);
            goto fail;
        } else if (child->flags & F_EXPLICIT) {
            fail(p, kp->pos,
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
        fail(p, last->pos, "duplicate key '%s' (first defined at line %u, column %u)",
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
static bool parse_header(parser *p, cfg_toml_value *root, cfg_toml_value **cur)
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
        fail(p, p->pos, "expected '%s' to close the %s header, found %s", aot ? "]]" : "]",
             aot ? "[[array of tables]]" : "[table]", FOUND(p));
        goto fail;
    }
    p->pos += aot ? 2 : 1;
    cfg_toml_value *t = root;
    for (size_t i = 0; i + 1 < k.count; i++) {
        key_part *kp = &k.parts[i];
        cfg_toml_value *child = table_find(t, kp->s, kp->len);
        if (!child) {
            child = new_value(p, CFG_TOML_TABLE, start);
            if (!child || !table_put(p, t, kp->s, kp->len, child))
                goto fail;
            child->flags = F_IMPLICIT;
        } else if (child->type == CFG_TOML_ARRAY && (child->flags & F_AOT)) {
            child = child->u.array.items[child->u.array.count - 1];
        } else if (child->type != CFG_TOML_TABLE) {
            fail(p, kp->pos, "key '%s' is already defined as a %s (line %u), not a table",
                 show_key(kp->s, kp->len, kb, sizeof kb), cfg_toml_type_name(child->type),
                 child->line);
            goto fail;
        } else if (child->flags & F_FROZEN) {
            fail(p, kp->pos, "'%s' is an inline table (line %u), which cannot be extended",
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
            have = new_value(p, CFG_TOML_ARRAY, start);
            if (!have || !table_put(p, t, last->s, last->len, have))
                goto fail;
            have->flags = F_AOT;
        } else if (have->type != CFG_TOML_ARRAY || !(have->flags & F_AOT)) {
            fail(p, last->pos, "'%s' is already defined as %s %s (line %u), not an array of tables",
                 name, have->type == CFG_TOML_INTEGER ? "an" : "a",
                 have->type == CFG_TOML_ARRAY ? "static array" : cfg_toml_type_name(have->type),
                 have->line);
            goto fail;
        }
        cfg_toml_value *elem = new_value(p, CFG_TOML_TABLE, start);
        if (!elem || !array_push(p, have, elem))
            goto fail;
        elem->flags = F_EXPLICIT;
        *cur = elem;
    } else {
        if (!have) {
            have = new_value(p, CFG_TOML_TABLE, start);
            if (!have || !table_put(p, t, last->s, last->len, have))
                goto fail;
        } else if (have->type != CFG_TOML_TABLE || have->flags != F_IMPLICIT) {
            if (have->type == CFG_TOML_TABLE)
                fail(p, start, "table '%s' is defined twice (first at line %u)", name, have->line);
            else
                fail(p, last->pos, "key '%s' is already defined as %s %s (line %u), not a table",
                     name,
                     have->type == CFG_TOML_ARRAY || have->type == CFG_TOML_INTEGER ? "an" : "a",
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
    parser p = {.buf = buf, .len = len, .err = err, .loc_line = 1, .loc_col = 1};
    memset(err, 0, sizeof *err);
    if (!check_utf8(&p))
        return NULL;
    cfg_toml_value *root = new_value(&p, CFG_TOML_TABLE, 0);
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
    size_t cap = st.st_size > 0 ? (size_t)st.st_size + 1 : 4096, len = 0;
    char *buf = malloc(cap);
    for (;;) {
        if (!buf) {
            fclose(f);
            snprintf(err, errlen, "%s: out of memory", path);
            return CFG_ERR_NOMEM;
        }
        len += fread(buf + len, 1, cap - len, f);
        if (len < cap)
            break;
        cap *= 2;
        char *nb = realloc(buf, cap);
        if (!nb)
            free(buf);
        buf = nb;
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
