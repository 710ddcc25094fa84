/* hc_req.c: test guest for fastly_abi, fastly_http_req (all but the backend send family) and
 * fastly_compute_runtime, error paths included. Run by tests/unit/hostcalls/test_hc_req.c with a
 * fake downstream request: POST http://example.com/path?x=1, headers Host, User-Agent, X-Multi: a,
 * x-multi: b, Fastly-Key: secret-key, body "hello downstream body". */
#include "hc_check.h"

#define SC(lit) (lit), (sizeof(lit) - 1)

static char buf[256];
static size_t nw;
static int64_t ending;
static fastly_request_handle req;
static fastly_body_handle body;

static void abi_init(void)
{
    /* covers: fastly_abi.init */
    EXPECT_ST(fastly_abi_init(1), ST_OK);
    EXPECT_ST(fastly_abi_init(2), ST_ERROR);
}

static void downstream_get(void)
{
    /* covers: fastly_http_req.body_downstream_get */
    EXPECT_ST(fastly_http_req_body_downstream_get(&req, &body), ST_OK);
    EXPECT_ST(fastly_http_req_body_downstream_get(BAD_PTR, &body), ST_INVAL);
    EXPECT_ST(fastly_http_req_body_downstream_get(MISALIGNED, &body), ST_BADALIGN);
}

static void method_uri_version(void)
{
    /* covers: fastly_http_req.method_get */
    EXPECT_ST(fastly_http_req_method_get(req, buf, sizeof buf, &nw), ST_OK);
    EXPECT_BYTES(buf, nw, "POST");
    nw = 0;
    EXPECT_ST(fastly_http_req_method_get(req, buf, 2, &nw), ST_BUFLEN);
    EXPECT_INT(nw, 4);
    EXPECT_ST(fastly_http_req_method_get(BAD_HANDLE, buf, sizeof buf, &nw), ST_BADF);
    EXPECT_ST(fastly_http_req_method_get(req, BAD_PTR, 16, &nw), ST_INVAL);
    EXPECT_ST(fastly_http_req_method_get(req, buf, sizeof buf, BAD_PTR), ST_INVAL);
    EXPECT_ST(fastly_http_req_method_get(req, buf, sizeof buf, MISALIGNED), ST_BADALIGN);

    /* covers: fastly_http_req.method_set */
    EXPECT_ST(fastly_http_req_method_set(req, SC("PURGE")), ST_OK);
    EXPECT_ST(fastly_http_req_method_get(req, buf, sizeof buf, &nw), ST_OK);
    EXPECT_BYTES(buf, nw, "PURGE");
    EXPECT_ST(fastly_http_req_method_set(req, SC("BAD METHOD")), ST_ERROR);
    EXPECT_ST(fastly_http_req_method_set(req, SC("")), ST_ERROR);
    EXPECT_ST(fastly_http_req_method_set(req, BAD_PTR, 5), ST_INVAL);
    EXPECT_ST(fastly_http_req_method_set(BAD_HANDLE, SC("GET")), ST_BADF);

    /* covers: fastly_http_req.uri_get */
    EXPECT_ST(fastly_http_req_uri_get(req, buf, sizeof buf, &nw), ST_OK);
    EXPECT_BYTES(buf, nw, "http://example.com/path?x=1");
    EXPECT_ST(fastly_http_req_uri_get(req, buf, 5, &nw), ST_BUFLEN);
    EXPECT_INT(nw, 27);
    EXPECT_ST(fastly_http_req_uri_get(BAD_HANDLE, buf, sizeof buf, &nw), ST_BADF);
    EXPECT_ST(fastly_http_req_uri_get(req, BAD_PTR, 100, &nw), ST_INVAL);

    /* covers: fastly_http_req.uri_set */
    EXPECT_ST(fastly_http_req_uri_set(req, SC("http://other.example")), ST_OK);
    EXPECT_ST(fastly_http_req_uri_get(req, buf, sizeof buf, &nw), ST_OK);
    EXPECT_BYTES(buf, nw, "http://other.example/");
    EXPECT_ST(fastly_http_req_uri_set(req, SC("https://h.example:8443?q=1")), ST_OK);
    EXPECT_ST(fastly_http_req_uri_get(req, buf, sizeof buf, &nw), ST_OK);
    EXPECT_BYTES(buf, nw, "https://h.example:8443/?q=1");
    EXPECT_ST(fastly_http_req_uri_set(req, SC("/relative/path")), ST_OK);
    EXPECT_ST(fastly_http_req_uri_set(req, SC("bad uri")), ST_ERROR);
    EXPECT_ST(fastly_http_req_uri_set(req, SC("")), ST_ERROR);
    EXPECT_ST(fastly_http_req_uri_set(req, BAD_PTR, 4), ST_INVAL);
    EXPECT_ST(fastly_http_req_uri_set(BAD_HANDLE, SC("/")), ST_BADF);
    EXPECT_ST(fastly_http_req_uri_set(req, SC("http://example.com/path?x=1")), ST_OK);

    /* covers: fastly_http_req.version_get, fastly_http_req.version_set */
    fastly_http_version v = 99;
    EXPECT_ST(fastly_http_req_version_get(req, &v), ST_OK);
    EXPECT_INT(v, FASTLY_HTTP_VERSION_HTTP_11);
    EXPECT_ST(fastly_http_req_version_set(req, FASTLY_HTTP_VERSION_H2), ST_OK);
    EXPECT_ST(fastly_http_req_version_get(req, &v), ST_OK);
    EXPECT_INT(v, FASTLY_HTTP_VERSION_H2);
    EXPECT_ST(fastly_http_req_version_set(req, 5), ST_INVAL);
    EXPECT_ST(fastly_http_req_version_set(BAD_HANDLE, 1), ST_BADF);
    EXPECT_ST(fastly_http_req_version_get(BAD_HANDLE, &v), ST_BADF);
    EXPECT_ST(fastly_http_req_version_get(req, BAD_PTR), ST_INVAL);
    /* out of bounds wins over misaligned (wiggle checks the bounds first) */
    EXPECT_ST(fastly_http_req_version_get(req, (void *)0xFFFFFFF1u), ST_INVAL);
    EXPECT_ST(fastly_http_req_body_downstream_get((void *)0xFFFFFFF1u, &body), ST_INVAL);
}

/* uri_set parses as http 0.2's Uri::try_from (Viceroy) and uri_get prints its Display. */
static char long_uri[65536];

static void uri_parsing(void)
{
    static const struct {
        const char *in, *out; /* out NULL: rejected with `error` */
    } cases[] = {
        /* the fragment is dropped */
        {"http://a.example/b#frag", "http://a.example/b"},
        {"/p?q=1#f", "/p?q=1"},
        {"http://a.example#f", "http://a.example/"},
        /* http and https schemes print in lower case; others as given */
        {"HTTP://Example.com/x", "http://Example.com/x"},
        {"HtTpS://h.example", "https://h.example/"},
        {"FOO+x://bar/y", "FOO+x://bar/y"},
        /* path bytes: '"', '{', '}', '\\', '^' and '|' are allowed, '`' and '<' are not */
        {"/a\"b{c}d", "/a\"b{c}d"},
        {"/a\\b^c|d", "/a\\b^c|d"},
        {"/a`b", NULL},
        {"/a<b", NULL},
        /* query bytes: '`', '{' and '\\' are allowed, '"' is not */
        {"/p?x=`{\\}", "/p?x=`{\\}"},
        {"/p?x=\"", NULL},
        /* authorities */
        {"http://ex{ample/", NULL},
        {"http://a.example:1:2/", NULL},
        {"http:///path", NULL},
        {"http://[::1/", NULL},
        {"http://[::1]:8080/x", "http://[::1]:8080/x"},
        {"http://user@/", NULL},
        {"http://ho%41st/", NULL},
        {"http://u%41@host/", "http://u%41@host/"},
        {"example.com:8080", "example.com:8080"},
        {"host#frag", NULL},
        {"*", "*"},
        {"#", NULL},
        {"?", NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int want = cases[i].out ? ST_OK : ST_ERROR;
        int st = fastly_http_req_uri_set(req, cases[i].in, strlen(cases[i].in));
        hc_checks++;
        if (st != want) {
            hc_fails++;
            printf("FAIL uri_set(\"%s\") = %d, want %d\n", cases[i].in, st, want);
            continue;
        }
        if (!cases[i].out)
            continue;
        nw = 0;
        st = fastly_http_req_uri_get(req, buf, sizeof buf, &nw);
        hc_checks++;
        if (st != ST_OK || nw != strlen(cases[i].out) || memcmp(buf, cases[i].out, nw) != 0) {
            hc_fails++;
            printf("FAIL uri_get after uri_set(\"%s\") = %d \"%.*s\", want \"%s\"\n", cases[i].in,
                   st, (int)nw, buf, cases[i].out);
        }
    }
    /* at most 65534 bytes (http's MAX_LEN) */
    memset(long_uri, 'a', sizeof long_uri);
    long_uri[0] = '/';
    EXPECT_ST(fastly_http_req_uri_set(req, long_uri, 65535), ST_ERROR);
    EXPECT_ST(fastly_http_req_uri_set(req, long_uri, 65534), ST_OK);
    EXPECT_ST(fastly_http_req_uri_get(req, buf, sizeof buf, &nw), ST_BUFLEN);
    EXPECT_INT(nw, 65534);
    EXPECT_ST(fastly_http_req_uri_set(req, SC("http://example.com/path?x=1")), ST_OK);

    /* a method has no length limit (http::Method allocates long extension methods) */
    memset(long_uri, 'A', sizeof long_uri);
    EXPECT_ST(fastly_http_req_method_set(req, long_uri, sizeof long_uri), ST_OK);
    EXPECT_ST(fastly_http_req_method_get(req, buf, sizeof buf, &nw), ST_BUFLEN);
    EXPECT_INT(nw, sizeof long_uri);
    EXPECT_ST(fastly_http_req_method_set(req, SC("POST")), ST_OK);
}

static void headers(void)
{
    /* covers: fastly_http_req.header_names_get */
    EXPECT_ST(fastly_http_req_header_names_get(req, buf, sizeof buf, 0, &ending, &nw), ST_OK);
    EXPECT_BYTES(buf, nw, "host\0user-agent\0x-multi\0fastly-key\0");
    EXPECT_INT(ending, -1);
    /* paging: 12 bytes hold "host\0" only, then "user-agent\0" */
    EXPECT_ST(fastly_http_req_header_names_get(req, buf, 12, 0, &ending, &nw), ST_OK);
    EXPECT_BYTES(buf, nw, "host\0");
    EXPECT_INT(ending, 1);
    EXPECT_ST(fastly_http_req_header_names_get(req, buf, 12, 1, &ending, &nw), ST_OK);
    EXPECT_BYTES(buf, nw, "user-agent\0");
    EXPECT_INT(ending, 2);
    EXPECT_ST(fastly_http_req_header_names_get(req, buf, 12, 3, &ending, &nw), ST_OK);
    EXPECT_BYTES(buf, nw, "fastly-key\0");
    EXPECT_INT(ending, -1);
    EXPECT_ST(fastly_http_req_header_names_get(req, buf, 12, 9, &ending, &nw), ST_OK);
    EXPECT_INT(nw, 0);
    EXPECT_INT(ending, -1);
    ending = 7;
    EXPECT_ST(fastly_http_req_header_names_get(req, buf, 3, 0, &ending, &nw), ST_BUFLEN);
    EXPECT_INT(nw, 5);
    EXPECT_INT(ending, -1);
    EXPECT_ST(fastly_http_req_header_names_get(req, BAD_PTR, 64, 0, &ending, &nw), ST_INVAL);
    EXPECT_ST(fastly_http_req_header_names_get(req, buf, sizeof buf, 0, BAD_PTR, &nw), ST_INVAL);
    EXPECT_ST(fastly_http_req_header_names_get(req, buf, sizeof buf, 0, MISALIGNED, &nw),
              ST_BADALIGN);
    EXPECT_ST(fastly_http_req_header_names_get(req, buf, sizeof buf, 0, &ending, BAD_PTR),
              ST_INVAL);
    EXPECT_ST(fastly_http_req_header_names_get(BAD_HANDLE, buf, sizeof buf, 0, &ending, &nw),
              ST_BADF);

    /* covers: fastly_http_req.header_value_get */
    EXPECT_ST(fastly_http_req_header_value_get(req, S("X-MULTI"), buf, sizeof buf, &nw), ST_OK);
    EXPECT_BYTES(buf, nw, "a");
    EXPECT_ST(fastly_http_req_header_value_get(req, S("user-agent"), buf, 3, &nw), ST_BUFLEN);
    EXPECT_INT(nw, 14);
    EXPECT_ST(fastly_http_req_header_value_get(req, S("absent"), buf, sizeof buf, &nw), ST_INVAL);
    EXPECT_ST(fastly_http_req_header_value_get(req, S("bad name"), buf, sizeof buf, &nw), ST_ERROR);
    EXPECT_ST(fastly_http_req_header_value_get(req, BAD_PTR, 4, buf, sizeof buf, &nw), ST_INVAL);
    EXPECT_ST(fastly_http_req_header_value_get(req, BAD_PTR, 70000, buf, sizeof buf, &nw),
              ST_INVAL);
    EXPECT_ST(fastly_http_req_header_value_get(req, S("host"), BAD_PTR, 64, &nw), ST_INVAL);
    EXPECT_ST(fastly_http_req_header_value_get(BAD_HANDLE, S("host"), buf, sizeof buf, &nw),
              ST_BADF);

    /* covers: fastly_http_req.header_values_get */
    EXPECT_ST(
        fastly_http_req_header_values_get(req, S("x-multi"), buf, sizeof buf, 0, &ending, &nw),
        ST_OK);
    EXPECT_BYTES(buf, nw, "a\0b\0");
    EXPECT_INT(ending, -1);
    EXPECT_ST(fastly_http_req_header_values_get(req, S("x-multi"), buf, 3, 0, &ending, &nw), ST_OK);
    EXPECT_BYTES(buf, nw, "a\0");
    EXPECT_INT(ending, 1);
    EXPECT_ST(fastly_http_req_header_values_get(req, S("x-multi"), buf, 3, 1, &ending, &nw), ST_OK);
    EXPECT_BYTES(buf, nw, "b\0");
    EXPECT_INT(ending, -1);
    EXPECT_ST(fastly_http_req_header_values_get(req, S("absent"), buf, 3, 0, &ending, &nw), ST_OK);
    EXPECT_INT(nw, 0);
    EXPECT_ST(fastly_http_req_header_values_get(req, S("user-agent"), buf, 4, 0, &ending, &nw),
              ST_BUFLEN);
    EXPECT_INT(nw, 15);
    EXPECT_INT(ending, -1);
    EXPECT_ST(fastly_http_req_header_values_get(req, S("a b"), buf, 4, 0, &ending, &nw), ST_ERROR);
    EXPECT_ST(fastly_http_req_header_values_get(req, S("host"), BAD_PTR, 4, 0, &ending, &nw),
              ST_INVAL);
    EXPECT_ST(fastly_http_req_header_values_get(BAD_HANDLE, S("host"), buf, 4, 0, &ending, &nw),
              ST_BADF);

    /* covers: fastly_http_req.header_values_set */
    EXPECT_ST(fastly_http_req_header_values_set(req, S("x-multi"), SC("c\0d\0e\0")), ST_OK);
    EXPECT_ST(
        fastly_http_req_header_values_get(req, S("x-multi"), buf, sizeof buf, 0, &ending, &nw),
        ST_OK);
    EXPECT_BYTES(buf, nw, "c\0d\0e\0");
    /* the piece after the last NUL is dropped, as Viceroy */
    EXPECT_ST(fastly_http_req_header_values_set(req, S("x-set"), SC("one\0two")), ST_OK);
    EXPECT_ST(fastly_http_req_header_values_get(req, S("x-set"), buf, sizeof buf, 0, &ending, &nw),
              ST_OK);
    EXPECT_BYTES(buf, nw, "one\0");
    EXPECT_ST(fastly_http_req_header_values_set(req, S("x-set"), SC("bad\nvalue\0")), ST_ERROR);
    EXPECT_ST(fastly_http_req_header_values_set(req, S("x-set"), BAD_PTR, 4), ST_INVAL);
    EXPECT_ST(fastly_http_req_header_values_set(BAD_HANDLE, S("x-set"), SC("a\0")), ST_BADF);

    /* covers: fastly_http_req.header_insert, fastly_http_req.header_append */
    EXPECT_ST(fastly_http_req_header_insert(req, S("X-New"), S("1")), ST_OK);
    EXPECT_ST(fastly_http_req_header_append(req, S("x-new"), S("2")), ST_OK);
    EXPECT_ST(fastly_http_req_header_values_get(req, S("x-new"), buf, sizeof buf, 0, &ending, &nw),
              ST_OK);
    EXPECT_BYTES(buf, nw, "1\0002\0");
    EXPECT_ST(fastly_http_req_header_insert(req, S("X-NEW"), S("3")), ST_OK);
    EXPECT_ST(fastly_http_req_header_values_get(req, S("x-new"), buf, sizeof buf, 0, &ending, &nw),
              ST_OK);
    EXPECT_BYTES(buf, nw, "3\0");
    EXPECT_ST(fastly_http_req_header_insert(req, S("x-new"), S("a\r\nb")), ST_ERROR);
    EXPECT_ST(fastly_http_req_header_append(req, S("bad:name"), S("v")), ST_ERROR);
    EXPECT_ST(fastly_http_req_header_append(req, S("x-new"), BAD_PTR, 3), ST_INVAL);
    EXPECT_ST(fastly_http_req_header_insert(BAD_HANDLE, S("x-new"), S("v")), ST_BADF);
    EXPECT_ST(fastly_http_req_header_append(BAD_HANDLE, S("x-new"), S("v")), ST_BADF);

    /* covers: fastly_http_req.header_remove */
    EXPECT_ST(fastly_http_req_header_remove(req, S("X-New")), ST_OK);
    EXPECT_ST(fastly_http_req_header_remove(req, S("x-new")), ST_INVAL);
    EXPECT_ST(fastly_http_req_header_remove(req, BAD_PTR, 3), ST_INVAL);
    EXPECT_ST(fastly_http_req_header_remove(BAD_HANDLE, S("x-new")), ST_BADF);

    /* covers: fastly_http_req.original_header_names_get, fastly_http_req.original_header_count */
    EXPECT_ST(fastly_http_req_original_header_names_get(buf, sizeof buf, 0, &ending, &nw), ST_OK);
    EXPECT_BYTES(buf, nw, "Host\0User-Agent\0X-Multi\0Fastly-Key\0");
    EXPECT_INT(ending, -1);
    EXPECT_ST(fastly_http_req_original_header_names_get(buf, 2, 0, &ending, &nw), ST_BUFLEN);
    EXPECT_INT(nw, 5);
    EXPECT_ST(fastly_http_req_original_header_names_get(BAD_PTR, 8, 0, &ending, &nw), ST_INVAL);
    uint32_t count = 0;
    EXPECT_ST(fastly_http_req_original_header_count(&count), ST_OK);
    EXPECT_INT(count, 5);
    EXPECT_ST(fastly_http_req_original_header_count(BAD_PTR), ST_INVAL);
}

static void new_and_close(void)
{
    fastly_request_handle r2;
    /* covers: fastly_http_req.new */
    EXPECT_ST(fastly_http_req_new(&r2), ST_OK);
    EXPECT(r2 != req);
    EXPECT_ST(fastly_http_req_method_get(r2, buf, sizeof buf, &nw), ST_OK);
    EXPECT_BYTES(buf, nw, "GET");
    EXPECT_ST(fastly_http_req_uri_get(r2, buf, sizeof buf, &nw), ST_OK);
    EXPECT_BYTES(buf, nw, "/");
    EXPECT_ST(fastly_http_req_header_names_get(r2, buf, sizeof buf, 0, &ending, &nw), ST_OK);
    EXPECT_INT(nw, 0);
    EXPECT_INT(ending, -1);
    EXPECT_ST(fastly_http_req_new(BAD_PTR), ST_INVAL);
    /* covers: fastly_http_req.close */
    EXPECT_ST(fastly_http_req_close(r2), ST_OK);
    EXPECT_ST(fastly_http_req_close(r2), ST_BADF);
    EXPECT_ST(fastly_http_req_method_get(r2, buf, sizeof buf, &nw), ST_BADF);
    EXPECT_ST(fastly_http_req_close(BAD_HANDLE), ST_BADF);
}

static void settings(void)
{
    /* covers: fastly_http_req.cache_override_set */
    EXPECT_ST(fastly_http_req_cache_override_set(req, FASTLY_CACHE_OVERRIDE_TAG_PASS, 0, 0), ST_OK);
    EXPECT_ST(fastly_http_req_cache_override_set(req, 0x10, 0, 0), ST_INVAL);
    EXPECT_ST(fastly_http_req_cache_override_set(BAD_HANDLE, 0, 0, 0), ST_BADF);
    /* covers: fastly_http_req.cache_override_v2_set */
    EXPECT_ST(fastly_http_req_cache_override_v2_set(req, FASTLY_CACHE_OVERRIDE_TAG_TTL, 60, 10,
                                                    S("key1 key2")),
              ST_OK);
    EXPECT_ST(fastly_http_req_cache_override_v2_set(req, 0, 0, 0, S("bad\nkey")), ST_INVAL);
    EXPECT_ST(fastly_http_req_cache_override_v2_set(req, 0, 0, 0, BAD_PTR, 5), ST_INVAL);
    EXPECT_ST(fastly_http_req_cache_override_v2_set(BAD_HANDLE, 0, 0, 0, S("")), ST_BADF);
    /* covers: fastly_http_req.framing_headers_mode_set */
    EXPECT_ST(fastly_http_req_framing_headers_mode_set(req, 1), ST_OK);
    EXPECT_ST(fastly_http_req_framing_headers_mode_set(req, 2), ST_INVAL);
    EXPECT_ST(fastly_http_req_framing_headers_mode_set(BAD_HANDLE, 0), ST_BADF);
    /* covers: fastly_http_req.auto_decompress_response_set */
    EXPECT_ST(fastly_http_req_auto_decompress_response_set(req, FASTLY_CONTENT_ENCODINGS_GZIP),
              ST_OK);
    EXPECT_ST(fastly_http_req_auto_decompress_response_set(req, 2), ST_INVAL);
    EXPECT_ST(fastly_http_req_auto_decompress_response_set(BAD_HANDLE, 0), ST_BADF);
}

static void metadata(void)
{
    /* covers: fastly_http_req.downstream_client_ip_addr */
    EXPECT_ST(fastly_http_req_downstream_client_ip_addr(buf, &nw), ST_OK);
    EXPECT_BYTES(buf, nw, "\xc0\x00\x02\x01");
    EXPECT_ST(fastly_http_req_downstream_client_ip_addr(BAD_PTR, &nw), ST_INVAL);
    EXPECT_ST(fastly_http_req_downstream_client_ip_addr(buf, BAD_PTR), ST_INVAL);
    /* covers: fastly_http_req.downstream_server_ip_addr */
    EXPECT_ST(fastly_http_req_downstream_server_ip_addr(buf, &nw), ST_OK);
    EXPECT_BYTES(buf, nw, "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\x01");
    /* covers: fastly_http_req.downstream_client_request_id */
    EXPECT_ST(fastly_http_req_downstream_client_request_id(buf, sizeof buf, &nw), ST_OK);
    EXPECT_BYTES(buf, nw, "0123456789abcdef0123456789abcdef");
    EXPECT_ST(fastly_http_req_downstream_client_request_id(buf, 8, &nw), ST_BUFLEN);
    EXPECT_INT(nw, 32);
    /* covers: fastly_http_req.downstream_compliance_region */
    EXPECT_ST(fastly_http_req_downstream_compliance_region(buf, sizeof buf, &nw), ST_OK);
    EXPECT_BYTES(buf, nw, "none");
    EXPECT_ST(fastly_http_req_downstream_compliance_region(buf, 1, &nw), ST_BUFLEN);
    EXPECT_INT(nw, 4);
    /* covers: fastly_http_req.downstream_client_ddos_detected */
    uint32_t flag = 9;
    EXPECT_ST(fastly_http_req_downstream_client_ddos_detected(&flag), ST_OK);
    EXPECT_INT(flag, 0);
    EXPECT_ST(fastly_http_req_downstream_client_ddos_detected(BAD_PTR), ST_INVAL);
    /* covers: fastly_http_req.fastly_key_is_valid */
    EXPECT_ST(fastly_http_req_fastly_key_is_valid(&flag), ST_OK);
    EXPECT_INT(flag, 1);
    EXPECT_ST(fastly_http_req_header_insert(req, S("fastly-key"), S("wrong")), ST_OK);
    EXPECT_ST(fastly_http_req_fastly_key_is_valid(&flag), ST_OK);
    EXPECT_INT(flag, 0);
    EXPECT_ST(fastly_http_req_fastly_key_is_valid(BAD_PTR), ST_INVAL);

    /* TLS and fingerprints on plain HTTP: none */
    /* covers: fastly_http_req.downstream_client_h2_fingerprint */
    EXPECT_ST(fastly_http_req_downstream_client_h2_fingerprint(buf, sizeof buf, &nw), ST_NONE);
    /* covers: fastly_http_req.downstream_client_oh_fingerprint */
    EXPECT_ST(fastly_http_req_downstream_client_oh_fingerprint(buf, sizeof buf, &nw), ST_NONE);
    /* covers: fastly_http_req.downstream_tls_cipher_openssl_name */
    EXPECT_ST(fastly_http_req_downstream_tls_cipher_openssl_name(buf, sizeof buf, &nw), ST_NONE);
    /* covers: fastly_http_req.downstream_tls_protocol */
    EXPECT_ST(fastly_http_req_downstream_tls_protocol(buf, sizeof buf, &nw), ST_NONE);
    /* covers: fastly_http_req.downstream_tls_client_hello */
    EXPECT_ST(fastly_http_req_downstream_tls_client_hello(buf, sizeof buf, &nw), ST_NONE);
    /* covers: fastly_http_req.downstream_tls_raw_client_certificate */
    EXPECT_ST(fastly_http_req_downstream_tls_raw_client_certificate(buf, sizeof buf, &nw), ST_NONE);
    /* covers: fastly_http_req.downstream_tls_client_cert_verify_result */
    EXPECT_ST(fastly_http_req_downstream_tls_client_cert_verify_result(&flag), ST_NONE);
    /* covers: fastly_http_req.downstream_tls_ja3_md5 */
    EXPECT_ST(fastly_http_req_downstream_tls_ja3_md5(buf, &nw), ST_NONE);
    /* covers: fastly_http_req.downstream_tls_ja4 */
    EXPECT_ST(fastly_http_req_downstream_tls_ja4(buf, sizeof buf, &nw), ST_NONE);
    /* covers: fastly_http_req.downstream_tls_client_servername */
    EXPECT_ST(
        fastly_http_req_downstream_tls_client_servername((uint32_t)buf, sizeof buf, (uint32_t)&nw),
        ST_NONE);
}

static void inspect(void)
{
    static const char corp[] = "corp", ws[] = "workspace";
    static const uint8_t ip[4] = {10, 0, 0, 1};
    fastly_inspect_info info = {0};
    info.corp = (char *)corp;
    info.corp_len = 4;
    info.workspace = (char *)ws;
    info.workspace_len = 9;
    info.override_client_ip_ptr = (uint8_t *)ip;
    info.override_client_ip_len = 4;
    uint32_t mask = FASTLY_INSPECT_INFO_MASK_CORP | FASTLY_INSPECT_INFO_MASK_WORKSPACE |
                    FASTLY_INSPECT_INFO_MASK_OVERRIDE_CLIENT_IP;
    /* covers: fastly_http_req.inspect */
    EXPECT_ST(fastly_http_req_inspect(req, body, mask, &info, buf, sizeof buf, &nw), ST_OK);
    EXPECT_BYTES(buf, nw,
                 "{\"waf_response\":200,\"redirect_url\":\"\",\"tags\":[],"
                 "\"verdict\":\"allow\",\"decision_ms\":0}");
    EXPECT_ST(fastly_http_req_inspect(req, body, mask, &info, buf, 10, &nw), ST_BUFLEN);
    EXPECT_ST(fastly_http_req_inspect(req, body, FASTLY_INSPECT_INFO_MASK_WORKSPACE, &info, buf,
                                      sizeof buf, &nw),
              ST_INVAL);
    info.override_client_ip_len = 5;
    EXPECT_ST(fastly_http_req_inspect(req, body, mask, &info, buf, sizeof buf, &nw), ST_INVAL);
    EXPECT_ST(fastly_http_req_inspect(req, body, mask, BAD_PTR, buf, sizeof buf, &nw), ST_INVAL);
    EXPECT_ST(fastly_http_req_inspect(BAD_HANDLE, body, mask, &info, buf, sizeof buf, &nw),
              ST_BADF);
    EXPECT_ST(fastly_http_req_inspect(req, BAD_HANDLE, mask, &info, buf, sizeof buf, &nw), ST_BADF);
}

static void runtime(void)
{
    uint64_t ms = 12345;
    /* covers: fastly_compute_runtime.get_vcpu_ms */
    EXPECT_ST(fastly_compute_runtime_get_vcpu_ms(&ms), ST_OK);
    EXPECT(ms < 60000);
    EXPECT_ST(fastly_compute_runtime_get_vcpu_ms(BAD_PTR), ST_INVAL);
    EXPECT_ST(fastly_compute_runtime_get_vcpu_ms(MISALIGNED), ST_BADALIGN);
    EXPECT_ST(fastly_compute_runtime_get_vcpu_ms((void *)0xFFFFFFF4u), ST_INVAL);
    uint32_t mib = 0;
    /* covers: fastly_compute_runtime.get_heap_mib */
    EXPECT_ST(fastly_compute_runtime_get_heap_mib(&mib), ST_OK);
    EXPECT(mib >= 1 && mib < 64);
    EXPECT_ST(fastly_compute_runtime_get_heap_mib(BAD_PTR), ST_INVAL);
    /* covers: fastly_compute_runtime.get_hostname */
    EXPECT_ST(fastly_compute_runtime_get_hostname((uint32_t)buf, sizeof buf, (uint32_t)&nw), ST_OK);
    EXPECT_BYTES(buf, nw, "testhost");
    EXPECT_ST(fastly_compute_runtime_get_hostname((uint32_t)buf, 2, (uint32_t)&nw), ST_BUFLEN);
    EXPECT_INT(nw, 8);
    /* covers: fastly_compute_runtime.get_service_version */
    EXPECT_ST(fastly_compute_runtime_get_service_version((uint32_t)buf, sizeof buf, (uint32_t)&nw),
              ST_OK);
    EXPECT_BYTES(buf, nw, "7");
    /* covers: fastly_compute_runtime.get_trace_id, fastly_compute_runtime.get_sandbox_id */
    EXPECT_ST(fastly_compute_runtime_get_trace_id((uint32_t)buf, sizeof buf, (uint32_t)&nw), ST_OK);
    EXPECT_BYTES(buf, nw, "0123456789abcdef0123456789abcdef");
    EXPECT_ST(fastly_compute_runtime_get_sandbox_id((uint32_t)buf, sizeof buf, (uint32_t)&nw),
              ST_OK);
    EXPECT_INT(nw, 32);
    EXPECT_ST(fastly_compute_runtime_get_trace_id(0xFFFFFFF0u, 64, (uint32_t)&nw), ST_INVAL);
}

static void downstream_body(void)
{
    /* the downstream body streams from the server; read it in small pieces */
    char all[64];
    size_t total = 0, n = 0;
    uint64_t len = 0;
    EXPECT_ST(fastly_http_body_known_length(body, &len), ST_OK);
    EXPECT_INT(len, 21);
    for (int i = 0; i < 100; i++) {
        EXPECT_ST(fastly_http_body_read(body, (uint8_t *)all + total, 4, &n), ST_OK);
        if (n == 0)
            break;
        total += n;
    }
    EXPECT_BYTES(all, total, "hello downstream body");
}

int main(void)
{
    abi_init();
    downstream_get();
    method_uri_version();
    uri_parsing();
    headers();
    new_and_close();
    settings();
    metadata();
    inspect();
    runtime();
    downstream_body();
    return hc_done();
}
