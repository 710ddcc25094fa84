/* fuzz_http_head.c: libFuzzer target over the front end's request parser
 * (src/server/srv_http_parse.c): srv_http_parse_head on arbitrary bytes as the server reads them,
 * then, for a chunked request, srv_chunked_decode on the bytes after the head. Beyond "no crash",
 * it checks what the server relies on: a head that parses is found at the same length however it
 * is split across reads, the parsed fields lie inside the buffer, an error carries one of the
 * documented statuses, and the chunked decoder gives the same body and end fed in pieces. */
#include "server/srv_http_parse.h"

#include "fuzz_util.h"

#include <stdint.h>

static bool inside(const char *buf, size_t len, const char *p, size_t n)
{
    return n == 0 || (p >= buf && p + n <= buf + len);
}

static void check_head(const char *buf, size_t len, long n, const srv_http_head *h)
{
    CHECK((size_t)n <= len);
    CHECK(inside(buf, (size_t)n, h->method, h->method_len) && h->method_len > 0);
    CHECK(inside(buf, (size_t)n, h->target, h->target_len) && h->target_len > 0);
    CHECK(h->minor == 0 || h->minor == 1);
    CHECK(h->nfields <= SRV_HTTP_MAX_FIELDS);
    for (size_t i = 0; i < h->nfields; i++) {
        CHECK(inside(buf, (size_t)n, h->fields[i].name, h->fields[i].name_len));
        CHECK(h->fields[i].name_len > 0);
        CHECK(inside(buf, (size_t)n, h->fields[i].value, h->fields[i].value_len));
        for (size_t k = 0; k < h->fields[i].value_len; k++) {
            unsigned char c = (unsigned char)h->fields[i].value[k];
            CHECK(c != 0 && c != '\r' && c != '\n'); /* nothing that ends or hides a line */
        }
    }
    CHECK(h->content_length >= -1);
    CHECK(!(h->chunked && h->content_length >= 0)); /* never both framings */
}

/* Decodes the body in pieces whose sizes come from `seed`, into out (at most outcap bytes). */
static srv_chunked_result decode_split(const uint8_t *in, size_t inlen, uint32_t seed,
                                       size_t piece_out, uint8_t *out, size_t outcap,
                                       size_t *consumed, size_t *produced)
{
    srv_chunked c;
    memset(&c, 0, sizeof c);
    size_t pos = 0, made = 0;
    srv_chunked_result res = SRV_CHUNKED_MORE;
    for (int rounds = 0; rounds < 100000; rounds++) {
        seed = seed * 1103515245u + 12345u;
        size_t piece = 1 + (seed >> 16) % 7;
        if (piece > inlen - pos)
            piece = inlen - pos;
        size_t room = outcap - made < piece_out ? outcap - made : piece_out;
        /* each piece is its own allocation, so a read past it is caught */
        uint8_t *chunk = malloc(piece ? piece : 1);
        if (!chunk)
            break;
        memcpy(chunk, in + pos, piece);
        size_t used = 0, got = 0;
        res = srv_chunked_decode(&c, chunk, piece, &used, out + made, room, &got);
        free(chunk);
        CHECK(used <= piece && got <= room);
        pos += used;
        made += got;
        if (res != SRV_CHUNKED_MORE || (pos == inlen && used == 0 && got == 0) || made == outcap)
            break;
    }
    *consumed = pos;
    *produced = made;
    return res;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* An exact-size copy, so ASan sees any read past the end. */
    char *buf = malloc(size ? size : 1);
    if (!buf)
        return 0;
    memcpy(buf, data, size);
    static srv_http_head h; /* 128 fields: too big for the fuzzer's stack */
    int status = 0;
    const char *why = NULL;
    long n = srv_http_parse_head(buf, size, &h, &status, &why);
    if (n < 0) {
        CHECK(why != NULL);
        CHECK(status == 400 || status == 413 || status == 417 || status == 431 || status == 501 ||
              status == 505);
        free(buf);
        return 0;
    }
    if (n == 0) {
        free(buf);
        return 0;
    }
    check_head(buf, size, n, &h);
    bool chunked = h.chunked;

    /* The server parses again as bytes arrive: every shorter prefix must ask for more (or, when
     * the prefix ends at a line the full head explains differently, at most fail), and never end
     * the head elsewhere. */
    for (size_t k = 0; k < (size_t)n; k += 1 + (size_t)n / 64) {
        char *pre = malloc(k ? k : 1);
        if (!pre)
            break;
        memcpy(pre, data, k);
        long m = srv_http_parse_head(pre, k, &h, &status, &why);
        free(pre);
        CHECK(m <= 0);
    }
    /* The head at its exact length parses to the same length. */
    long again = srv_http_parse_head(buf, (size_t)n, &h, &status, &why);
    CHECK(again == n);

    if (chunked) {
        const uint8_t *body = (const uint8_t *)data + n;
        size_t blen = size - (size_t)n;
        static uint8_t one[8192], split[8192];
        size_t used1 = 0, made1 = 0, used2 = 0, made2 = 0;
        srv_chunked c;
        memset(&c, 0, sizeof c);
        srv_chunked_result r1 = srv_chunked_decode(&c, body, blen, &used1, one, sizeof one, &made1);
        CHECK(used1 <= blen && made1 <= sizeof one);
        if (made1 < sizeof one) { /* the whole body fit: pieces must agree */
            uint32_t seed = size ? data[size - 1] : 0;
            srv_chunked_result r2 =
                decode_split(body, blen, seed, 3, split, sizeof split, &used2, &made2);
            if (r1 == SRV_CHUNKED_DONE) {
                CHECK(r2 == SRV_CHUNKED_DONE);
                CHECK(used2 == used1);
            }
            if (r1 != SRV_CHUNKED_ERROR && r2 != SRV_CHUNKED_ERROR) {
                size_t common = made1 < made2 ? made1 : made2;
                CHECK(memcmp(one, split, common) == 0);
            }
            if (r2 == SRV_CHUNKED_DONE)
                CHECK(r1 == SRV_CHUNKED_DONE && made1 == made2);
            if (r1 == SRV_CHUNKED_ERROR)
                CHECK(r2 == SRV_CHUNKED_ERROR);
        }
    }
    free(buf);
    return 0;
}
