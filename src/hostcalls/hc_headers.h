/* hc_headers.h: an HTTP header list as the hostcalls see it: names compare case-insensitively,
 * each entry keeps the case it was added with and the list keeps insertion order; a name may
 * repeat (multi-values). Also the ABI's cursor paging (NUL-terminated values into a guest buffer)
 * and header name/value validation as Viceroy's `http` crate does it. */
#ifndef HC_HEADERS_H
#define HC_HEADERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hc_status.h"

/* Longest header name accepted (as hyper, and Viceroy's MAX_HEADER_NAME_LEN). */
#define HC_HEADER_NAME_MAX 65535u

typedef struct hc_header {
    char *name;  /* owned, as added (original case), not NUL-terminated */
    char *lname; /* owned, the same lower-cased */
    size_t name_len;
    char *value; /* owned, not NUL-terminated */
    size_t value_len;
} hc_header;

typedef struct hc_headers {
    hc_header *items;
    size_t n, cap;
} hc_headers;

void hc_headers_init(hc_headers *h);
void hc_headers_deinit(hc_headers *h); /* frees every entry; accepts NULL */

/* Deep copy (dst must be initialised and is cleared first). Returns false when out of memory. */
bool hc_headers_copy(hc_headers *dst, const hc_headers *src);

/* Header name: 1..65535 token characters (RFC 9110). Value: no CR, LF, NUL or other controls
 * except horizontal tab (as http::HeaderValue::from_bytes). */
bool hc_header_name_valid(const char *name, size_t len);
bool hc_header_value_valid(const char *value, size_t len);
bool hc_header_name_eq(const char *a, size_t alen, const char *b, size_t blen);

/* Adds an entry at the end (copies both). Returns false when out of memory. */
bool hc_headers_append(hc_headers *h, const char *name, size_t name_len, const char *value,
                       size_t value_len);
/* Replaces every value of `name` by `value`: the first entry keeps its position, the others
 * go; appends when the name is absent. Returns false when out of memory. */
bool hc_headers_insert(hc_headers *h, const char *name, size_t name_len, const char *value,
                       size_t value_len);
/* Removes every entry of `name`; returns how many went. */
size_t hc_headers_remove(hc_headers *h, const char *name, size_t name_len);

/* First value of `name`, or NULL. */
const hc_header *hc_headers_get(const hc_headers *h, const char *name, size_t name_len);
size_t hc_headers_count_values(const hc_headers *h, const char *name, size_t name_len);

/* Iteration for the cursor writer: item i of a sequence, or false past the end. */
typedef bool (*hc_seq_fn)(const void *seq, size_t i, const char **data, size_t *len);

/* The ABI's multi-value writer (Viceroy's MultiValueWriter): skips `cursor` items, then writes
 * as many whole items as fit into out[0..out_len), each followed by `terminator`. Sets *nwritten
 * to the bytes written and *ending to -1 when every item was written, else to the cursor of the
 * first item not written. When not even the first item fits, returns HC_BUFLEN with *nwritten
 * set to the size that item needs. */
hc_status hc_seq_write(hc_seq_fn fn, const void *seq, uint32_t cursor, uint8_t terminator,
                       uint8_t *out, size_t out_len, size_t *nwritten, int64_t *ending);

/* Sequences over a header list: distinct names (lower-cased, in order of first appearance; as
 * the guest-visible `http::HeaderMap` reports them), distinct names in their original case, and
 * the values of one name. */
bool hc_headers_seq_names(const void *headers, size_t i, const char **data, size_t *len);
bool hc_headers_seq_original_names(const void *headers, size_t i, const char **data, size_t *len);

typedef struct hc_headers_values_seq {
    const hc_headers *h;
    const char *name;
    size_t name_len;
} hc_headers_values_seq;
bool hc_headers_seq_values(const void *values_seq, size_t i, const char **data, size_t *len);

#endif
