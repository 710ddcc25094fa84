/* hc_headers.c: header lists (case-insensitive names, original case and order kept, repeated
 * names), header validation, and the ABI's multi-value cursor writer. */
#include "hc_headers.h"
#include "util/util_grow.h"

#include <stdlib.h>
#include <string.h>

static char lower(char c)
{
    return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
}

bool hc_header_name_eq(const char *a, size_t alen, const char *b, size_t blen)
{
    if (alen != blen)
        return false;
    for (size_t i = 0; i < alen; i++)
        if (lower(a[i]) != lower(b[i]))
            return false;
    return true;
}

bool hc_header_name_valid(const char *name, size_t len)
{
    if (len == 0 || len > HC_HEADER_NAME_MAX)
        return false;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)name[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  (c != 0 && strchr("!#$%&'*+-.^_`|~", c) != NULL);
        if (!ok)
            return false;
    }
    return true;
}

bool hc_header_value_valid(const char *value, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)value[i];
        if ((c < 0x20 && c != '\t') || c == 0x7f)
            return false;
    }
    return true;
}

void hc_headers_init(hc_headers *h)
{
    h->items = NULL;
    h->n = h->cap = 0;
}

/* An entry's name, lower-cased name and value share one allocation, starting at e->name. */
static void entry_free(hc_header *e)
{
    free(e->name);
}

void hc_headers_deinit(hc_headers *h)
{
    if (!h)
        return;
    for (size_t i = 0; i < h->n; i++)
        entry_free(&h->items[i]);
    free(h->items);
    hc_headers_init(h);
}

/* Fills `e` with copies of name, its lower-cased form and value, in one allocation (one byte
 * more, so that even an empty value points into it). */
static bool entry_set(hc_header *e, const char *name, size_t name_len, const char *value,
                      size_t value_len)
{
    char *p = malloc(2 * name_len + value_len + 1);
    if (!p)
        return false;
    e->name = p;
    e->lname = p + name_len;
    e->value = p + 2 * name_len;
    memcpy(e->name, name, name_len);
    for (size_t i = 0; i < name_len; i++)
        e->lname[i] = lower(name[i]);
    if (value_len)
        memcpy(e->value, value, value_len);
    e->name_len = name_len;
    e->value_len = value_len;
    return true;
}

bool hc_headers_append(hc_headers *h, const char *name, size_t name_len, const char *value,
                       size_t value_len)
{
    if (!util_grow((void **)&h->items, &h->cap, h->n + 1, 8, sizeof *h->items))
        return false;
    if (!entry_set(&h->items[h->n], name, name_len, value, value_len))
        return false;
    h->n++;
    return true;
}

bool hc_headers_copy(hc_headers *dst, const hc_headers *src)
{
    hc_headers_deinit(dst);
    for (size_t i = 0; i < src->n; i++) {
        const hc_header *e = &src->items[i];
        if (!hc_headers_append(dst, e->name, e->name_len, e->value, e->value_len)) {
            hc_headers_deinit(dst);
            return false;
        }
    }
    return true;
}

static void remove_at(hc_headers *h, size_t i)
{
    entry_free(&h->items[i]);
    memmove(&h->items[i], &h->items[i + 1], (h->n - i - 1) * sizeof h->items[0]);
    h->n--;
}

bool hc_headers_insert(hc_headers *h, const char *name, size_t name_len, const char *value,
                       size_t value_len)
{
    size_t first = h->n;
    for (size_t i = 0; i < h->n; i++) {
        if (hc_header_name_eq(h->items[i].name, h->items[i].name_len, name, name_len)) {
            first = i;
            break;
        }
    }
    if (first == h->n)
        return hc_headers_append(h, name, name_len, value, value_len);
    hc_header *e = &h->items[first], fresh;
    if (!entry_set(&fresh, e->name, e->name_len, value, value_len))
        return false;
    entry_free(e);
    *e = fresh;
    for (size_t i = h->n; i-- > first + 1;)
        if (hc_header_name_eq(h->items[i].name, h->items[i].name_len, name, name_len))
            remove_at(h, i);
    return true;
}

size_t hc_headers_remove(hc_headers *h, const char *name, size_t name_len)
{
    size_t removed = 0;
    for (size_t i = h->n; i-- > 0;) {
        if (hc_header_name_eq(h->items[i].name, h->items[i].name_len, name, name_len)) {
            remove_at(h, i);
            removed++;
        }
    }
    return removed;
}

const hc_header *hc_headers_get(const hc_headers *h, const char *name, size_t name_len)
{
    for (size_t i = 0; i < h->n; i++)
        if (hc_header_name_eq(h->items[i].name, h->items[i].name_len, name, name_len))
            return &h->items[i];
    return NULL;
}

size_t hc_headers_count_values(const hc_headers *h, const char *name, size_t name_len)
{
    size_t n = 0;
    for (size_t i = 0; i < h->n; i++)
        if (hc_header_name_eq(h->items[i].name, h->items[i].name_len, name, name_len))
            n++;
    return n;
}

/* True when entry i is the first entry with its name. */
static bool first_of_name(const hc_headers *h, size_t i)
{
    for (size_t j = 0; j < i; j++)
        if (hc_header_name_eq(h->items[j].name, h->items[j].name_len, h->items[i].name,
                              h->items[i].name_len))
            return false;
    return true;
}

size_t hc_headers_count_names(const hc_headers *h)
{
    size_t n = 0;
    for (size_t i = 0; i < h->n; i++)
        if (first_of_name(h, i))
            n++;
    return n;
}

static const hc_header *nth_name(const hc_headers *h, size_t nth)
{
    for (size_t i = 0; i < h->n; i++) {
        if (first_of_name(h, i)) {
            if (nth == 0)
                return &h->items[i];
            nth--;
        }
    }
    return NULL;
}

bool hc_headers_seq_names(const void *headers, size_t i, const char **data, size_t *len)
{
    const hc_header *e = nth_name(headers, i);
    if (!e)
        return false;
    *data = e->lname;
    *len = e->name_len;
    return true;
}

bool hc_headers_seq_original_names(const void *headers, size_t i, const char **data, size_t *len)
{
    const hc_header *e = nth_name(headers, i);
    if (!e)
        return false;
    *data = e->name;
    *len = e->name_len;
    return true;
}

bool hc_headers_seq_values(const void *values_seq, size_t i, const char **data, size_t *len)
{
    const hc_headers_values_seq *s = values_seq;
    for (size_t j = 0; j < s->h->n; j++) {
        const hc_header *e = &s->h->items[j];
        if (!hc_header_name_eq(e->name, e->name_len, s->name, s->name_len))
            continue;
        if (i == 0) {
            *data = e->value;
            *len = e->value_len;
            return true;
        }
        i--;
    }
    return false;
}

hc_status hc_seq_write(hc_seq_fn fn, const void *seq, uint32_t cursor, uint8_t terminator,
                       uint8_t *out, size_t out_len, size_t *nwritten, int64_t *ending)
{
    size_t off = 0;
    size_t i = cursor;
    const char *data;
    size_t len;
    *ending = -1;
    while (fn(seq, i, &data, &len)) {
        if (len + 1 > out_len - off) {
            if (off == 0) {
                *nwritten = len + 1;
                return HC_BUFLEN;
            }
            *ending = (int64_t)i;
            break;
        }
        memcpy(out + off, data, len);
        out[off + len] = terminator;
        off += len + 1;
        i++;
    }
    *nwritten = off;
    return HC_OK;
}
