/* prof_json.c: the growable output buffer and its JSON writers (see prof_json.h). */
#include "profiler/prof_json.h"
#include "util/util_grow.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void prof_buf_init(prof_buf *b)
{
    memset(b, 0, sizeof *b);
}

void prof_buf_deinit(prof_buf *b)
{
    free(b->data);
    memset(b, 0, sizeof *b);
}

char *prof_buf_take(prof_buf *b, size_t *len)
{
    if (b->failed || !b->data) {
        bool failed = b->failed;
        prof_buf_deinit(b);
        if (failed)
            return NULL;
        char *empty = calloc(1, 1);
        if (len)
            *len = 0;
        return empty;
    }
    char *d = b->data;
    if (len)
        *len = b->len;
    memset(b, 0, sizeof *b);
    return d;
}

static bool reserve(prof_buf *b, size_t more)
{
    if (b->failed)
        return false;
    if (b->len + more + 1 <= b->cap)
        return true;
    if (more > SIZE_MAX / 2 - b->len ||
        !util_grow((void **)&b->data, &b->cap, b->len + more + 1, 256, 1)) {
        b->failed = true;
        return false;
    }
    return true;
}

void prof_buf_put(prof_buf *b, const char *s, size_t n)
{
    if (n == 0 && b->data)
        return;
    if (!reserve(b, n))
        return;
    memcpy(b->data + b->len, s, n);
    b->len += n;
    b->data[b->len] = '\0';
}

void prof_buf_puts(prof_buf *b, const char *s)
{
    prof_buf_put(b, s, strlen(s));
}

void prof_buf_printf(prof_buf *b, const char *fmt, ...)
{
    char small[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < 0) {
        b->failed = true;
        return;
    }
    if ((size_t)n < sizeof small) {
        prof_buf_put(b, small, (size_t)n);
        return;
    }
    if (!reserve(b, (size_t)n))
        return;
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

/* Length of a valid UTF-8 sequence at s (n bytes left), or 0 when invalid. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
    unsigned c = s[0];
    size_t len = c >= 0xf0 && c <= 0xf4 ? 4 : c >= 0xe0 ? 3 : c >= 0xc2 && c < 0xe0 ? 2 : 0;
    if (c >= 0xf5 || len == 0 || len > n)
        return 0;
    for (size_t i = 1; i < len; i++)
        if ((s[i] & 0xc0) != 0x80)
            return 0;
    return len;
}

void prof_json_str(prof_buf *b, const char *s, size_t n)
{
    prof_buf_put(b, "\"", 1);
    const unsigned char *u = (const unsigned char *)s;
    size_t run = 0; /* bytes copied as they are, flushed before each escape */
    for (size_t i = 0; i < n;) {
        unsigned c = u[i];
        const char *esc = NULL;
        char hex[8];
        size_t step = 1;
        if (c == '"')
            esc = "\\\"";
        else if (c == '\\')
            esc = "\\\\";
        else if (c == '\n')
            esc = "\\n";
        else if (c == '\r')
            esc = "\\r";
        else if (c == '\t')
            esc = "\\t";
        else if (c < 0x20 || c == 0x7f || c == '<') { /* '<': safe inside HTML too */
            snprintf(hex, sizeof hex, "\\u%04x", c);
            esc = hex;
        } else if (c >= 0x80) {
            step = utf8_len(u + i, n - i);
            if (step == 0) {
                esc = "\\ufffd";
                step = 1;
            }
        }
        if (esc) {
            prof_buf_put(b, s + i - run, run);
            run = 0;
            prof_buf_puts(b, esc);
        } else {
            run += step;
        }
        i += step;
    }
    prof_buf_put(b, s + n - run, run);
    prof_buf_put(b, "\"", 1);
}

void prof_json_cstr(prof_buf *b, const char *s)
{
    if (s)
        prof_json_str(b, s, strlen(s));
    else
        prof_buf_puts(b, "null");
}

void prof_json_key(prof_buf *b, bool *first, const char *key)
{
    if (!*first)
        prof_buf_put(b, ",", 1);
    *first = false;
    prof_json_cstr(b, key);
    prof_buf_put(b, ":", 1);
}

void prof_json_us(prof_buf *b, uint64_t ns)
{
    prof_buf_printf(b, "%" PRIu64 ".%03u", ns / 1000, (unsigned)(ns % 1000));
}
