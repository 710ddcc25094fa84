/* wasm_buf.h: the growing byte buffer the fuzz targets write wasm modules into (wasm_gen.h for
 * fuzz_diff and fuzz_tier, fuzz_hc.h for fuzz_hostcalls and fuzz_uri): raw bytes, LEB128
 * numbers, names and sections. Header-only. */
#ifndef WASM_BUF_H
#define WASM_BUF_H

#include "fuzz_util.h"

#include <stdbool.h>
#include <stdint.h>

typedef struct wbuf {
    uint8_t *p;
    size_t len, cap;
} wbuf;

__attribute__((unused)) static void wb_put(wbuf *b, const void *d, size_t n)
{
    if (b->len + n > b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 1024;
        while (cap < b->len + n)
            cap *= 2;
        uint8_t *np = realloc(b->p, cap);
        CHECK(np != NULL);
        b->p = np;
        b->cap = cap;
    }
    if (n)
        memcpy(b->p + b->len, d, n);
    b->len += n;
}

__attribute__((unused)) static void wb_byte(wbuf *b, uint8_t v)
{
    wb_put(b, &v, 1);
}

__attribute__((unused)) static void wb_uleb(wbuf *b, uint64_t v)
{
    do {
        uint8_t c = v & 0x7f;
        v >>= 7;
        wb_byte(b, (uint8_t)(c | (v ? 0x80 : 0)));
    } while (v);
}

__attribute__((unused)) static void wb_sleb(wbuf *b, int64_t v)
{
    for (;;) {
        uint8_t c = v & 0x7f;
        v >>= 7; /* arithmetic shift */
        bool done = (v == 0 && !(c & 0x40)) || (v == -1 && (c & 0x40));
        wb_byte(b, (uint8_t)(c | (done ? 0 : 0x80)));
        if (done)
            break;
    }
}

/* A name: its length, then its bytes. */
__attribute__((unused)) static void wb_name(wbuf *b, const char *s)
{
    wb_uleb(b, strlen(s));
    wb_put(b, s, strlen(s));
}

/* Appends section `id` with the bytes of `body` to `m` and empties `body` for the next one. */
__attribute__((unused)) static void wb_section(wbuf *m, uint8_t id, wbuf *body)
{
    wb_byte(m, id);
    wb_uleb(m, body->len);
    wb_put(m, body->p, body->len);
    body->len = 0;
}

#endif
