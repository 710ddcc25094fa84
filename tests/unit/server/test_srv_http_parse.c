/* test_srv_http_parse.c: the strict request-head parser and the chunked decoder. */
#include "harness.h"
#include "server/srv_http_parse.h"

#include <string.h>

static long parse(const char *text, srv_http_head *h, int *status)
{
    const char *why = "";
    *status = 0;
    return srv_http_parse_head(text, strlen(text), h, status, &why);
}

TEST(complete_head_and_fields)
{
    srv_http_head h;
    int st;
    const char *req = "GET /a?b HTTP/1.1\r\nHost: x\r\nX-Multi:  a b \r\n\r\nrest";
    long n = parse(req, &h, &st);
    CHECK_EQ_INT(n, (long)(strlen(req) - 4));
    CHECK_EQ_INT(h.method_len, 3);
    CHECK(memcmp(h.target, "/a?b", 4) == 0);
    CHECK_EQ_INT(h.minor, 1);
    CHECK_EQ_INT(h.nfields, 2);
    CHECK_EQ_INT(h.fields[1].value_len, 3); /* "a b": outer white space trimmed */
    CHECK(memcmp(h.fields[1].value, "a b", 3) == 0);
    CHECK(h.keep_alive);
    CHECK_EQ_INT(h.content_length, -1);
}

TEST(incomplete_heads_ask_for_more)
{
    srv_http_head h;
    int st;
    CHECK_EQ_INT(parse("GET / HTTP/1.1\r\nHost: x\r\n", &h, &st), 0);
    CHECK_EQ_INT(parse("GET / HTT", &h, &st), 0);
    CHECK_EQ_INT(parse("", &h, &st), 0);
}

TEST(framing_errors_have_their_status)
{
    static const struct {
        const char *req;
        int status;
    } cases[] = {
        {"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n",
         400},
        {"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", 400},
        {"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1, 1\r\n\r\n", 400},
        {"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: +1\r\n\r\n", 400},
        {"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999999999999\r\n\r\n", 413},
        {"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", 501},
        {"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, gzip\r\n\r\n", 501},
        {"POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", 400},
        {"GET / HTTP/1.1\r\nHost: x\r\nA : b\r\n\r\n", 400},
        {"GET / HTTP/1.1\r\nHost: x\r\n\tfolded\r\n\r\n", 400},
        {"GET / HTTP/1.1\r\nHost: x\r\n: empty name\r\n\r\n", 400},
        {"GET / HTTP/1.1\r\nHost: x\r\nNoColon\r\n\r\n", 400},
        {"GET / HTTP/1.1\r\nHost: x\r\nA: \x7f\r\n\r\n", 400},
        {"GET  / HTTP/1.1\r\nHost: x\r\n\r\n", 400},
        {"GET / HTTP/1.1 \r\nHost: x\r\n\r\n", 400},
        {"GET / HTTP/3.0\r\nHost: x\r\n\r\n", 505},
        {"GET / HTTP/1.2\r\nHost: x\r\n\r\n", 505},
        {"GET / FTP/1.1\r\nHost: x\r\n\r\n", 400},
        {"G(T / HTTP/1.1\r\nHost: x\r\n\r\n", 400},
        {"GET / HTTP/1.1\r\nHost: x\r\nExpect: later\r\n\r\n", 417},
        {"GET / HTTP/1.1\r\nHost: a\r\nhost: b\r\n\r\n", 400},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        srv_http_head h;
        int st;
        long n = parse(cases[i].req, &h, &st);
        if (n != -1 || st != cases[i].status)
            fprintf(stderr, "  case %zu: %ld / %d, expected -1 / %d\n", i, n, st, cases[i].status);
        CHECK_EQ_INT(n, -1);
        CHECK_EQ_INT(st, cases[i].status);
    }
}

TEST(a_bad_method_is_refused_before_the_line_ends)
{
    /* a TLS hello (or any non-HTTP bytes) is answered at once, not after a timeout */
    srv_http_head h;
    int st;
    const char hello[] = "\x16\x03\x01\x00\xa5\x01\x00";
    const char *why = "";
    CHECK_EQ_INT(srv_http_parse_head(hello, sizeof hello - 1, &h, &st, &why), -1);
    CHECK_EQ_INT(st, 400);
}

TEST(connection_and_expect)
{
    srv_http_head h;
    int st;
    CHECK(parse("GET / HTTP/1.1\r\nHost: x\r\nConnection: keep-alive, close\r\n\r\n", &h, &st) > 0);
    CHECK(!h.keep_alive);
    CHECK(parse("GET / HTTP/1.0\r\n\r\n", &h, &st) > 0);
    CHECK(!h.keep_alive);
    CHECK(parse("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n", &h, &st) > 0);
    CHECK(h.keep_alive);
    CHECK(parse("PUT / HTTP/1.1\r\nHost: x\r\nExpect: 100-Continue\r\nContent-Length: 5\r\n\r\n",
                &h, &st) > 0);
    CHECK(h.expect_continue);
    CHECK_EQ_INT(h.content_length, 5);
    CHECK(parse("PUT / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: Chunked\r\n\r\n", &h, &st) > 0);
    CHECK(h.chunked);
}

static srv_chunked_result decode_all(const char *in, size_t inlen, size_t step, char *out,
                                     size_t *outlen, size_t *used_total)
{
    srv_chunked c = {0};
    size_t pos = 0, o = 0;
    srv_chunked_result res = SRV_CHUNKED_MORE;
    while (pos < inlen && res == SRV_CHUNKED_MORE) {
        size_t n = inlen - pos < step ? inlen - pos : step;
        size_t used = 0, made = 0;
        res = srv_chunked_decode(&c, (const uint8_t *)in + pos, n, &used, (uint8_t *)out + o, 64,
                                 &made);
        pos += used;
        o += made;
    }
    *outlen = o;
    *used_total = pos;
    return res;
}

TEST(chunked_decoding_in_any_pieces)
{
    const char body[] = "3;x=y\r\nabc\r\nA\r\n0123456789\r\n0\r\nT: v\r\n\r\nGET";
    for (size_t step = 1; step <= sizeof body; step++) {
        char out[64];
        size_t olen = 0, used = 0;
        srv_chunked_result res = decode_all(body, sizeof body - 1, step, out, &olen, &used);
        CHECK_EQ_INT(res, SRV_CHUNKED_DONE);
        CHECK_EQ_INT(olen, 13);
        CHECK(memcmp(out, "abc0123456789", 13) == 0);
        CHECK_EQ_INT(used, sizeof body - 4); /* "GET" of the next request is left */
    }
}

TEST(chunked_errors)
{
    static const char *const bad[] = {
        "FFFFFFFFFFFFFFFF\r\n",
        "10000000000000000\r\n",
        "x\r\n",
        "3\r\nabcX\r\n",
        "\r\n",
        "3\r\nabc\r\n0\r\nBad\x01\r\n\r\n",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char out[64];
        size_t olen, used;
        srv_chunked_result res = decode_all(bad[i], strlen(bad[i]), 64, out, &olen, &used);
        if (res != SRV_CHUNKED_ERROR)
            fprintf(stderr, "  case %zu: %d\n", i, (int)res);
        CHECK_EQ_INT(res, SRV_CHUNKED_ERROR);
    }
}

/* Found by fuzz_http_head: a bare CR in a chunk extension or trailer line was accepted when it
 * happened to be the last byte of one read (the next read did not know a CR came before). Any
 * split must refuse it, as reading the body in one piece does. */
TEST(bare_cr_refused_however_the_body_is_split)
{
    static const char *const bad[] = {
        "3;dient\rExpect: \r\n\r\nabc\r\n0\r\n\r\n",
        "3;x\rabc\r\n0\r\n\r\n",
        "3\r\nabc\r\n0\r\nT: a\rb\r\n\r\n",
        "3\r\nabc\r\n0\r\n\rX\r\n\r\n",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        for (size_t step = 1; step <= strlen(bad[i]); step++) {
            char out[64];
            size_t olen, used;
            srv_chunked_result res = decode_all(bad[i], strlen(bad[i]), step, out, &olen, &used);
            if (res != SRV_CHUNKED_ERROR)
                fprintf(stderr, "  case %zu, pieces of %zu: %d\n", i, step, (int)res);
            CHECK_EQ_INT(res, SRV_CHUNKED_ERROR);
        }
}

HARNESS_MAIN(RUN(complete_head_and_fields); RUN(incomplete_heads_ask_for_more);
             RUN(framing_errors_have_their_status);
             RUN(a_bad_method_is_refused_before_the_line_ends); RUN(connection_and_expect);
             RUN(chunked_decoding_in_any_pieces); RUN(chunked_errors);
             RUN(bare_cr_refused_however_the_body_is_split);)
