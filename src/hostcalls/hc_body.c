/* hc_body.c: bodies as a chain of (buffer, optional source) parts; reads consume from the front
 * and splice the next part in once a part is exhausted. */
#include "hc_body.h"
#include "util/util_grow.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

hc_body *hc_body_new(void)
{
    hc_body *b = calloc(1, sizeof *b);
    if (!b)
        return NULL;
    b->src_remaining = -1;
    hc_headers_init(&b->trailers);
    return b;
}

void hc_body_free(hc_body *b)
{
    while (b) {
        hc_body *next = b->next;
        if (b->src_free && b->src)
            b->src_free(b->src);
        free(b->buf);
        hc_headers_deinit(&b->trailers);
        free(b);
        b = next;
    }
}

void hc_body_set_source(hc_body *b, hc_read_fn read, void *src, int64_t length)
{
    b->src_read = read;
    b->src = src;
    b->src_remaining = read ? length : -1;
    b->src_free = NULL;
    b->src_trailers = NULL;
}

void hc_body_set_source_trailers(hc_body *b, hc_src_trailers_fn fn)
{
    b->src_trailers = fn;
}

void hc_body_set_owned_source(hc_body *b, hc_read_fn read, void *src, int64_t length,
                              void (*free_fn)(void *src))
{
    hc_body_set_source(b, read, src, length);
    b->src_free = free_fn;
}

bool hc_body_has_source(const hc_body *b)
{
    for (; b; b = b->next)
        if (b->src_read)
            return true;
    return false;
}

/* The source is done (end or error): release it when owned. */
static void drop_source(hc_body *b)
{
    if (b->src_free && b->src)
        b->src_free(b->src);
    b->src_read = NULL;
    b->src = NULL;
    b->src_free = NULL;
    b->src_trailers = NULL;
    b->src_remaining = -1;
}

/* Ensures room for `extra` bytes after the data (moving the data to the start if needed). */
static bool reserve_back(hc_body *b, size_t extra)
{
    if (b->cap - b->start - b->len >= extra)
        return true;
    if (b->start > 0) {
        memmove(b->buf, b->buf + b->start, b->len);
        b->start = 0;
        if (b->cap - b->len >= extra)
            return true;
    }
    if (extra > SIZE_MAX / 2 - b->len)
        return false;
    return util_grow((void **)&b->buf, &b->cap, b->len + extra, 256, 1);
}

/* The last part, where back writes go: a part with a source cannot take bytes after it. */
static hc_body *tail_for_write(hc_body *b)
{
    while (b->next)
        b = b->next;
    if (b->src_read) {
        hc_body *n = hc_body_new();
        if (!n)
            return NULL;
        b->next = n;
        b = n;
    }
    return b;
}

bool hc_body_push_back(hc_body *b, const uint8_t *data, size_t len)
{
    if (len == 0)
        return true;
    hc_body *t = tail_for_write(b);
    if (!t || !reserve_back(t, len))
        return false;
    memcpy(t->buf + t->start + t->len, data, len);
    t->len += len;
    return true;
}

bool hc_body_push_front(hc_body *b, const uint8_t *data, size_t len)
{
    if (len == 0)
        return true;
    if (b->start >= len) {
        b->start -= len;
        memcpy(b->buf + b->start, data, len);
        b->len += len;
        return true;
    }
    if (!reserve_back(b, len))
        return false;
    memmove(b->buf + b->start + len, b->buf + b->start, b->len);
    memcpy(b->buf + b->start, data, len);
    b->len += len;
    return true;
}

/* Replaces the exhausted head part by the next one (trailers stay with the head). */
static void splice_next(hc_body *b)
{
    hc_body *n = b->next;
    free(b->buf);
    b->buf = n->buf;
    b->start = n->start;
    b->len = n->len;
    b->cap = n->cap;
    b->src_read = n->src_read;
    b->src = n->src;
    b->src_remaining = n->src_remaining;
    b->src_free = n->src_free;
    b->src_trailers = n->src_trailers;
    b->next = n->next;
    for (size_t i = 0; i < n->trailers.n; i++) {
        const hc_header *t = &n->trailers.items[i];
        hc_headers_append(&b->trailers, t->name, t->name_len, t->value, t->value_len);
    }
    hc_headers_deinit(&n->trailers);
    free(n);
}

long hc_body_read(hc_body *b, uint8_t *out, size_t len)
{
    if (len == 0)
        return 0;
    if (len > (size_t)LONG_MAX)
        len = (size_t)LONG_MAX;
    for (;;) {
        if (b->len > 0) {
            size_t n = b->len < len ? b->len : len;
            memcpy(out, b->buf + b->start, n);
            b->start += n;
            b->len -= n;
            if (b->len == 0)
                b->start = 0;
            return (long)n;
        }
        if (b->src_read) {
            long n = b->src_read(b->src, out, len);
            if (n < 0)
                return -1; /* the source stays: it keeps reporting the failure */
            if (n > 0) {
                if (b->src_remaining >= 0)
                    b->src_remaining = b->src_remaining > n ? b->src_remaining - n : 0;
                return n;
            }
            /* the source's trailers join the body's (dropped only when out of memory) */
            if (b->src_trailers)
                b->src_trailers(b->src, &b->trailers);
            drop_source(b);
        }
        if (!b->next) {
            b->trailers_ready = true;
            return 0;
        }
        splice_next(b);
    }
}

void hc_body_append(hc_body *dest, hc_body *src)
{
    hc_body *t = dest;
    while (t->next)
        t = t->next;
    t->next = src;
    for (size_t i = 0; i < src->trailers.n; i++) {
        const hc_header *h = &src->trailers.items[i];
        hc_headers_append(&dest->trailers, h->name, h->name_len, h->value, h->value_len);
    }
    hc_headers_deinit(&src->trailers);
    src->trailers_ready = false;
}

bool hc_body_known_length(const hc_body *b, uint64_t *out)
{
    uint64_t total = 0;
    for (; b; b = b->next) {
        total += b->len;
        if (b->src_read) {
            if (b->src_remaining < 0)
                return false;
            total += (uint64_t)b->src_remaining;
        }
    }
    *out = total;
    return true;
}
