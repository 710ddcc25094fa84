/* cfg_toml_int.h: what the files of the TOML reader share (internal to cfg_toml*.c): the parser
 * state, a string buffer, the small character tests, and the pieces each file provides. */
#ifndef CFG_TOML_INT_H
#define CFG_TOML_INT_H

#include "config/cfg_toml.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct cfg_toml_parser {
    const char *buf;
    size_t len, pos;
    cfg_toml_error *err;
    bool failed;
    int depth;
    size_t loc_pos; /* locate()'s last position and its line and column */
    unsigned loc_line, loc_col;
} cfg_toml_parser;

typedef struct cfg_toml_sbuf {
    char *p;
    size_t len, cap;
} cfg_toml_sbuf;

#define FOUND(p) cfg_toml_describe((p), (p)->pos, found_buf_, sizeof found_buf_)
#define FOUND_DECL char found_buf_[40]

static inline int peek_at(const cfg_toml_parser *p, size_t pos)
{
    return pos < p->len ? (unsigned char)p->buf[pos] : -1;
}

static inline int peek(const cfg_toml_parser *p)
{
    return peek_at(p, p->pos);
}

static inline void skip_ws(cfg_toml_parser *p)
{
    while (p->pos < p->len && (p->buf[p->pos] == ' ' || p->buf[p->pos] == '\t'))
        p->pos++;
}

static inline bool at_newline(const cfg_toml_parser *p)
{
    int c = peek(p);
    return c == '\n' || (c == '\r' && peek_at(p, p->pos + 1) == '\n');
}

static inline bool eat_newline(cfg_toml_parser *p)
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

static inline bool is_control(int c)
{
    return (c >= 0 && c < 0x20 && c != '\t') || c == 0x7f;
}

static inline int hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

static inline bool is_bare(int c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-';
}

static inline bool is_digit(int c)
{
    return c >= '0' && c <= '9';
}

static inline bool is_token(int c)
{
    return is_bare(c) || c == '+' || c == '.' || c == ':';
}

static inline bool all_digits(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!is_digit((unsigned char)s[i]))
            return false;
    return true;
}

/* cfg_toml.c: the first error wins; it records the line:column of pos and returns false. */
bool cfg_toml_fail(cfg_toml_parser *p, size_t pos, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
bool cfg_toml_nomem(cfg_toml_parser *p);
/* What is at pos, for "expected X, found Y": "end of line", "'c'", "U+00E9", ... */
const char *cfg_toml_describe(const cfg_toml_parser *p, size_t pos, char *out, size_t n);
/* A new value of that type positioned at pos (NULL after cfg_toml_nomem). */
cfg_toml_value *cfg_toml_new_value(cfg_toml_parser *p, cfg_toml_type type, size_t pos);

/* cfg_toml_string.c: appends to a buffer (always NUL-terminated); reads one of the four string
 * forms at the opening quote (multi-line forms only when allow_multiline, i.e. not for keys). */
bool cfg_toml_sb_put(cfg_toml_parser *p, cfg_toml_sbuf *b, const char *s, size_t n);
bool cfg_toml_read_string(cfg_toml_parser *p, cfg_toml_sbuf *b, bool allow_multiline);

/* cfg_toml_scalar.c: the bare token buf[start..end) as a number (integer, float, inf, nan) or as a
 * date, time or date-time (which may extend past end over "DATE TIME"). */
bool cfg_toml_parse_number(cfg_toml_parser *p, size_t start, size_t end, cfg_toml_value **out);
bool cfg_toml_parse_datetime(cfg_toml_parser *p, size_t start, size_t end, cfg_toml_value **out);

#endif
