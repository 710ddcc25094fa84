/* cfg_toml_string.c: TOML strings: basic and literal, single- and multi-line, with the escapes
 * of TOML 1.0 (\b \t \n \f \r \" \\ \uXXXX \UXXXXXXXX, Unicode scalar values only), line-ending
 * backslashes, and control characters rejected; into a growing buffer. */
#include "config/cfg_toml_int.h"
#include "util/util_grow.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- string buffers ---- */

bool cfg_toml_sb_put(cfg_toml_parser *p, cfg_toml_sbuf *b, const char *s, size_t n)
{
    if (!util_grow((void **)&b->p, &b->cap, b->len + n + 1, 32, 1))
        return cfg_toml_nomem(p);
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
    return true;
}

static bool sb_utf8(cfg_toml_parser *p, cfg_toml_sbuf *b, uint32_t cp)
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
    return cfg_toml_sb_put(p, b, u, n);
}

/* At a backslash in a basic string: appends the escaped character. */
static bool escape(cfg_toml_parser *p, cfg_toml_sbuf *b)
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
                return cfg_toml_fail(p, start, "\\%c needs %d hexadecimal digits", e, digits);
            cp = cp * 16 + (uint32_t)h;
        }
        if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
            return cfg_toml_fail(p, start, "\\%c%0*X is not a Unicode scalar value", e, digits, cp);
        p->pos += (size_t)digits + 1;
        return sb_utf8(p, b, cp);
    }
    default: {
        FOUND_DECL;
        return cfg_toml_fail(p, start, "invalid escape sequence: '\\' followed by %s", FOUND(p));
    }
    }
    p->pos++;
    return cfg_toml_sb_put(p, b, &c, 1);
}

/* At the opening quote(s): reads one of the four string forms into b. */
bool cfg_toml_read_string(cfg_toml_parser *p, cfg_toml_sbuf *b, bool allow_multiline)
{
    size_t start = p->pos;
    char q = p->buf[p->pos];
    bool literal = q == '\'';
    bool multi = peek_at(p, p->pos + 1) == q && peek_at(p, p->pos + 2) == q;
    if (!cfg_toml_sb_put(p, b, "", 0))
        return false;
    if (multi && !allow_multiline)
        return cfg_toml_fail(p, start, "a key cannot be a multi-line string");
    if (!multi) {
        p->pos++;
        for (;;) {
            int c = peek(p);
            if (c < 0 || at_newline(p))
                return cfg_toml_fail(
                    p, p->pos, "unterminated string: expected %c before the end of the line", q);
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
                return cfg_toml_fail(
                    p, p->pos, "control character U+%04X must be escaped in a string", (unsigned)c);
            if (!cfg_toml_sb_put(p, b, p->buf + p->pos, 1))
                return false;
            p->pos++;
        }
    }
    p->pos += 3;
    eat_newline(p); /* a newline right after the opening delimiter is trimmed */
    for (;;) {
        int c = peek(p);
        if (c < 0)
            return cfg_toml_fail(p, start, "unterminated multi-line string: expected %c%c%c", q, q,
                                 q);
        if (c == q) {
            size_t n = 0;
            while (peek_at(p, p->pos + n) == q)
                n++;
            if (n < 3) {
                if (!cfg_toml_sb_put(p, b, p->buf + p->pos, n))
                    return false;
                p->pos += n;
                continue;
            }
            if (n > 5)
                return cfg_toml_fail(p, p->pos + 5,
                                     "too many quotes: at most two may end a multi-line string");
            if (!cfg_toml_sb_put(p, b, p->buf + p->pos, n - 3))
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
            if (!cfg_toml_sb_put(p, b, p->buf + p->pos, n))
                return false;
            p->pos += n;
            continue;
        }
        if (is_control(c))
            return cfg_toml_fail(p, p->pos, "control character U+%04X must be escaped in a string",
                                 (unsigned)c);
        if (!cfg_toml_sb_put(p, b, p->buf + p->pos, 1))
            return false;
        p->pos++;
    }
}
