/* be_transfer_gzip.c: gzip decoding of response bodies when the guest asked for it (zlib; libcurl's
 * own decoder would also undo deflate, br and zstd and add an Accept-Encoding, where Viceroy
 * decodes gzip only and adds nothing). */
#include "backend/be_transfer_internal.h"
#include "util/util_str.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* With gzip decoding on and a gzip (or x-gzip) Content-Encoding, as Viceroy: the guest sees the
 * decoded body, without the encoding and length headers. Any other encoding is left alone. */
bool be_transfer_gunzip_start(be_transfer *t)
{
    bool gz = false;
    for (size_t i = 0; i < t->headers.n; i++) {
        be_hdr *h = &t->headers.items[i];
        if (util_str_eq_ci(h->name, h->name_len, "content-encoding") &&
            ((h->value_len == 4 && strncasecmp(h->value, "gzip", 4) == 0) ||
             (h->value_len == 6 && strncasecmp(h->value, "x-gzip", 6) == 0)))
            gz = true;
    }
    if (!gz)
        return true;
    t->gz = calloc(1, sizeof *t->gz);
    if (!t->gz)
        return false;
    if (inflateInit2(t->gz, 16 + MAX_WBITS) != Z_OK) { /* 16: gzip framing only */
        free(t->gz);
        t->gz = NULL;
        return false;
    }
    size_t o = 0;
    for (size_t i = 0; i < t->headers.n; i++) {
        be_hdr *h = &t->headers.items[i];
        if (util_str_eq_ci(h->name, h->name_len, "content-encoding") ||
            util_str_eq_ci(h->name, h->name_len, "content-length")) {
            free(h->name);
            free(h->value);
            continue;
        }
        t->headers.items[o++] = *h;
    }
    t->headers.n = o;
    return true;
}

/* Decodes n bytes of a gzip body into the response buffer. False on corrupt data, data after the
 * end of the stream (one gzip member, as Viceroy's decoder) or no memory. */
bool be_transfer_gunzip_push(be_transfer *t, const uint8_t *in, size_t n)
{
    z_stream *z = t->gz;
    uint8_t out[16384];
    z->next_in = (Bytef *)(uintptr_t)in;
    z->avail_in = (uInt)n;
    while (z->avail_in > 0) {
        if (t->gz_end)
            return false;
        z->next_out = out;
        z->avail_out = sizeof out;
        int rc = inflate(z, Z_NO_FLUSH);
        size_t got = sizeof out - z->avail_out;
        if (got && !be_bytes_push(&t->resp, out, got))
            return false;
        if (rc == Z_STREAM_END)
            t->gz_end = true;
        else if (rc != Z_OK && !(rc == Z_BUF_ERROR && got > 0))
            return false;
    }
    /* output still held back by zlib once the input is used up */
    while (!t->gz_end) {
        z->next_out = out;
        z->avail_out = sizeof out;
        int rc = inflate(z, Z_NO_FLUSH);
        size_t got = sizeof out - z->avail_out;
        if (got && !be_bytes_push(&t->resp, out, got))
            return false;
        if (rc == Z_STREAM_END)
            t->gz_end = true;
        else if (rc != Z_OK || got < sizeof out)
            break;
    }
    return true;
}
