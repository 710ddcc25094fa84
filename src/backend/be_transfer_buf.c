/* be_transfer_buf.c: the two small containers a transfer keeps its data in: header lists (owned
 * name/value copies, for the response head, its trailers and the request trailers) and byte
 * queues (the bounded request and response body buffers). */
#include "backend/be_transfer_internal.h"
#include "util/util_grow.h"
#include "util/util_str.h"

#include <stdlib.h>
#include <string.h>

bool be_hdr_add(be_hdr_list *l, const char *name, size_t nl, const char *value, size_t vl)
{
    if (!util_grow((void **)&l->items, &l->cap, l->n + 1, 16, sizeof *l->items))
        return false;
    be_hdr *h = &l->items[l->n];
    h->name = util_strndup(name, nl);
    h->value = util_strndup(value, vl);
    if (!h->name || !h->value) {
        free(h->name);
        free(h->value);
        return false;
    }
    h->name_len = nl;
    h->value_len = vl;
    l->n++;
    return true;
}

void be_hdr_clear(be_hdr_list *l)
{
    for (size_t i = 0; i < l->n; i++) {
        free(l->items[i].name);
        free(l->items[i].value);
    }
    l->n = 0;
}

void be_hdr_free(be_hdr_list *l)
{
    be_hdr_clear(l);
    free(l->items);
    l->items = NULL;
    l->cap = 0;
}

bool be_bytes_push(be_bytes *b, const uint8_t *data, size_t n)
{
    if (b->cap - b->start - b->len < n) {
        if (b->start) {
            memmove(b->buf, b->buf + b->start, b->len);
            b->start = 0;
        }
        if (n > SIZE_MAX - b->len ||
            !util_grow((void **)&b->buf, &b->cap, b->len + n, 64 * 1024, 1))
            return false;
    }
    memcpy(b->buf + b->start + b->len, data, n);
    b->len += n;
    return true;
}

size_t be_bytes_take(be_bytes *b, uint8_t *out, size_t n)
{
    if (n > b->len)
        n = b->len;
    memcpy(out, b->buf + b->start, n);
    b->start += n;
    b->len -= n;
    if (b->len == 0)
        b->start = 0;
    return n;
}
