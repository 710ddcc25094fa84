/* prof_json.h: the profiler's output buffer: a growable byte string with JSON writers (escaped
 * strings, numbers, commas between members). Every JSON document the profiler serves or exports
 * is built with it. An allocation failure sets `failed` and later writes are ignored. */
#ifndef PROF_JSON_H
#define PROF_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct prof_buf {
    char *data; /* NUL-terminated while not failed */
    size_t len, cap;
    bool failed;
} prof_buf;

void prof_buf_init(prof_buf *b);
void prof_buf_deinit(prof_buf *b);
/* Takes the text out of the buffer (the caller frees it); NULL when a write failed. */
char *prof_buf_take(prof_buf *b, size_t *len);

void prof_buf_put(prof_buf *b, const char *s, size_t n);
void prof_buf_puts(prof_buf *b, const char *s);
void prof_buf_printf(prof_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* A JSON string literal of s[0..n) (quotes added; control bytes and invalid UTF-8 escaped). */
void prof_json_str(prof_buf *b, const char *s, size_t n);
void prof_json_cstr(prof_buf *b, const char *s); /* NULL writes null */
/* `"key":` preceded by a comma unless *first (which it clears). */
void prof_json_key(prof_buf *b, bool *first, const char *key);
/* Microseconds with three decimals from nanoseconds (trace formats count in microseconds). */
void prof_json_us(prof_buf *b, uint64_t ns);

#endif
