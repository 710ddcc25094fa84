/* test_js_sdk.c: commonly used JS SDK (@fastly/js-compute) APIs end to end over HTTP with the
 * sdk_basic guest (tests/guests/js/sdk_basic.js): Headers, JSON, redirects, bodies as ArrayBuffer
 * and streams both ways (large ones included), URL, TextEncoder/Decoder, crypto, timers, client
 * and server info, fastly:env and waitUntil (the stores and the logger have their own tests:
 * test_edge_stores.c, test_kv_js.c). */
#include "config/cfg_geo.h"
#include "fastlike.h"
#include "harness.h"
#include "http_client.h"
#include "test_server.h"

#include <openssl/sha.h>
#include <pthread.h>

#define GUEST "build/guests/js/sdk_basic.wasm"

static server *srv;

static int get(const char *target, hc_resp *r)
{
    char request[1024];
    snprintf(request, sizeof request, "GET %s HTTP/1.1\r\nHost: sdk.test\r\n\r\n", target);
    return simple_on(srv->port, request, r, false);
}

typedef struct upload {
    hc_conn *c;
    const uint8_t *body;
    size_t len;
    bool chunked;
    int rc;
} upload;

static void *send_body(void *p)
{
    upload *u = p;
    u->rc = hc_send(u->c, u->body, u->len);
    if (u->rc == 0 && u->chunked)
        u->rc = hc_sends(u->c, "\r\n0\r\n\r\n");
    return NULL;
}

/* POST `body` (Content-Length framing, or chunked as one chunk) from a thread while reading the
 * answer, so a response streamed before the upload ends cannot deadlock; keep: keep the body in
 * r->body. Returns the status, or -1. */
static int post(const char *target, const void *body, size_t len, bool chunked, hc_resp *r,
                bool keep)
{
    hc_conn c;
    if (hc_connect(&c, srv->port) != 0)
        return -1;
    char head[512];
    if (chunked)
        snprintf(head, sizeof head,
                 "POST %s HTTP/1.1\r\nHost: sdk.test\r\nTransfer-Encoding: chunked\r\n\r\n%zx\r\n",
                 target, len);
    else
        snprintf(head, sizeof head,
                 "POST %s HTTP/1.1\r\nHost: sdk.test\r\nContent-Length: %zu\r\n\r\n", target, len);
    int rc = -1;
    if (hc_sends(&c, head) == 0) {
        upload u = {&c, body, len, chunked, 0};
        pthread_t t;
        pthread_create(&t, NULL, send_body, &u);
        int read_rc = hc_read(&c, r, false, keep, false);
        pthread_join(t, NULL);
        if (read_rc == 0 && u.rc == 0)
            rc = r->status;
    }
    hc_close(&c);
    return rc;
}

static void sha256_hex(const uint8_t *p, size_t n, char out[65])
{
    uint8_t d[SHA256_DIGEST_LENGTH];
    SHA256(p, n, d);
    for (int i = 0; i < SHA256_DIGEST_LENGTH; i++)
        snprintf(out + 2 * i, 3, "%02x", d[i]);
}

static uint8_t *random_bytes(size_t n, uint32_t seed)
{
    uint8_t *b = malloc(n);
    for (size_t i = 0; b && i < n; i++) {
        seed = seed * 1664525u + 1013904223u;
        b[i] = (uint8_t)(seed >> 24);
    }
    return b;
}

TEST(headers)
{
    hc_resp r = {0};
    CHECK_EQ_INT(simple_on(srv->port,
                           "GET /headers HTTP/1.1\r\nHost: sdk.test\r\nAccept: text/x\r\n\r\n", &r,
                           false),
                 200);
    CHECK_STR_CONTAINS(r.head, "set-cookie: a=1; Path=/\n");
    CHECK_STR_CONTAINS(r.head, "set-cookie: b=2; HttpOnly\n");
    CHECK_STR_CONTAINS(r.head, "set-cookie: c=3\n");
    CHECK_STR_EQ(hc_header(&r, "x-cookie-count"), "3");
    CHECK_STR_EQ(hc_header(&r, "x-one"), "1");
    CHECK_STR_EQ(hc_header(&r, "x-two"), "2, two");
    CHECK_STR_EQ(hc_header(&r, "x-get-two"), "2, two");
    CHECK(hc_header(&r, "x-gone") == NULL);
    CHECK_STR_EQ(hc_header(&r, "x-has-gone"), "false");
    CHECK_STR_EQ(hc_header(&r, "x-names"), "set-cookie,set-cookie,set-cookie,x-one,x-two");
    CHECK_STR_EQ(hc_header(&r, "x-req-accept"), "text/x");
    CHECK_STR_EQ(hc_header(&r, "x-req-missing"), "null");
    hc_resp_free(&r);
    /* repeated request headers combine; HEAD runs the guest and gets no body */
    CHECK_EQ_INT(simple_on(srv->port,
                           "GET /reqheaders HTTP/1.1\r\nHost: sdk.test\r\nX-Multi: a\r\n"
                           "X-Multi: b\r\nX-Other: c\r\n\r\n",
                           &r, false),
                 200);
    CHECK_STR_CONTAINS((char *)r.body, "\"multi\":\"a, b\"");
    CHECK_STR_CONTAINS((char *)r.body, "\"host\":\"sdk.test\"");
    CHECK_STR_CONTAINS((char *)r.body, "\"names\":[\"x-multi\",\"x-other\"]");
    hc_resp_free(&r);
    CHECK_EQ_INT(
        simple_on(srv->port, "HEAD /reqheaders HTTP/1.1\r\nHost: sdk.test\r\n\r\n", &r, true), 200);
    CHECK_STR_EQ(hc_header(&r, "x-method"), "HEAD");
    CHECK_EQ_U64(r.body_len, 0);
    hc_resp_free(&r);
}

TEST(json_and_redirect)
{
    hc_resp r = {0};
    const char *json = "{\"values\":[1,2,3],\"s\":\"\\u00e9\"}";
    CHECK_EQ_INT(post("/json", json, strlen(json), false, &r, true), 201);
    CHECK_STR_EQ((char *)r.body, "{\"got\":{\"values\":[1,2,3],\"s\":\"\xc3\xa9\"},\"sum\":6}");
    CHECK_STR_EQ(hc_header(&r, "content-type"), "application/json");
    CHECK_STR_EQ(hc_header(&r, "x-json"), "1");
    hc_resp_free(&r);
    CHECK_EQ_INT(get("/redirect", &r), 307);
    CHECK_STR_EQ(hc_header(&r, "location"), "https://example.com/elsewhere?x=1");
    CHECK_EQ_U64(r.body_len, 0);
    hc_resp_free(&r);
}

TEST(request_bodies)
{
    hc_resp r = {0};
    size_t n = 3 * 1024 * 1024 + 7;
    uint8_t *body = random_bytes(n, 7);
    char hex[65], want[160];
    sha256_hex(body, n, hex);
    snprintf(want, sizeof want, "%zu %u %u %s\n", n, body[0], body[n - 1], hex);
    for (int chunked = 0; chunked < 2; chunked++) {
        CHECK_EQ_INT(post("/arraybuffer", body, n, chunked, &r, true), 200);
        CHECK_STR_EQ((char *)r.body, want);
        hc_resp_free(&r);
        CHECK_EQ_INT(post("/stream-in", body, n, chunked, &r, true), 200);
        snprintf(want + 100, 60, "%zu true\n", n);
        CHECK_STR_EQ((char *)r.body, want + 100);
        hc_resp_free(&r);
    }
    /* streamed back through a TransformStream while still arriving */
    CHECK_EQ_INT(post("/echo-stream", body, n, true, &r, true), 200);
    CHECK_EQ_U64(r.body_len, n);
    CHECK(r.body && memcmp(r.body, body, n) == 0);
    hc_resp_free(&r);
    /* Request.clone: both copies read the body */
    CHECK_EQ_INT(post("/clone", "hello", 5, false, &r, true), 200);
    CHECK_STR_EQ((char *)r.body, "twice:hello|hello");
    hc_resp_free(&r);
    free(body);
}

TEST(response_bodies)
{
    hc_resp r = {0};
    size_t n = 5 * 1024 * 1024 + 11;
    char target[64];
    snprintf(target, sizeof target, "/big?n=%zu", n);
    CHECK_EQ_INT(get(target, &r), 200);
    CHECK_EQ_U64((uint64_t)r.length, n);
    CHECK_EQ_U64(r.body_len, n);
    size_t bad = 0;
    for (size_t i = 0; r.body && i < r.body_len; i++)
        bad += r.body[i] != 'a' + i % 26;
    CHECK_EQ_U64(bad, 0);
    hc_resp_free(&r);
    /* a pulled ReadableStream goes out chunked; 65536-byte chunks of a..z */
    snprintf(target, sizeof target, "/bigstream?n=%zu", n);
    hc_resp big = {.pattern_base = 'a'};
    char request[128];
    snprintf(request, sizeof request, "GET %s HTTP/1.1\r\nHost: sdk.test\r\n\r\n", target);
    CHECK_EQ_INT(simple_on(srv->port, request, &big, false), 200);
    CHECK(big.chunked);
    CHECK_EQ_U64(big.body_len, n);
    CHECK(big.pattern_ok);
    hc_resp_free(&big);
}

TEST(url_text_crypto)
{
    hc_resp r = {0};
    CHECK_EQ_INT(get("/url?k=1&k=2&drop=x&b=2", &r), 200);
    const char *b = (const char *)r.body;
    CHECK_STR_CONTAINS(b, "\"href\":\"http://sdk.test/a/c?x=1&y=two%20words#frag\"");
    CHECK_STR_CONTAINS(b, "\"host\":\"sdk.test\"");
    CHECK_STR_CONTAINS(b, "\"pathname\":\"/a/c\"");
    CHECK_STR_CONTAINS(b, "\"y\":\"two words\"");
    CHECK_STR_CONTAINS(b, "\"params\":\"added=a%26b%3Dc&b=2&k=1&k=2\"");
    CHECK_STR_CONTAINS(b, "\"all\":[\"1\",\"2\"]");
    hc_resp_free(&r);
    CHECK_EQ_INT(post("/text", "h\xc3\xa9llo", 6, false, &r, true), 200);
    CHECK_STR_EQ((char *)r.body, "15 h\xc3\xa9llo \xe2\x98\x83 \xf0\x9f\x8e\x89 5\n");
    hc_resp_free(&r);
    CHECK_EQ_INT(post("/crypto", "abc", 3, false, &r, true), 200);
    CHECK_STR_EQ((char *)r.body,
                 "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad\n");
    char first[80] = "";
    const char *rnd = hc_header(&r, "x-random");
    CHECK(rnd && strlen(rnd) == 64);
    snprintf(first, sizeof first, "%s", rnd ? rnd : "");
    const char *uuid = hc_header(&r, "x-uuid");
    CHECK(uuid && strlen(uuid) == 36 && uuid[14] == '4');
    hc_resp_free(&r);
    CHECK_EQ_INT(post("/crypto", "abc", 3, false, &r, true), 200);
    rnd = hc_header(&r, "x-random");
    CHECK(rnd && strcmp(rnd, first) != 0); /* fresh random bytes per request */
    hc_resp_free(&r);
}

TEST(timers_and_wait_until)
{
    hc_resp r = {0};
    CHECK_EQ_INT(get("/timers", &r), 200);
    CHECK_STR_EQ((char *)r.body, "fast,slow,zero,20\n");
    hc_resp_free(&r);
    CHECK_EQ_INT(get("/waituntil", &r), 200);
    CHECK_STR_EQ((char *)r.body, "responded\n");
    CHECK(log_wait(&srv->log, "stdout | waitUntil work done"));
    hc_resp_free(&r);
}

TEST(client_server_env)
{
    hc_resp r = {0};
    CHECK_EQ_INT(get("/client", &r), 200);
    const char *b = (const char *)r.body;
    CHECK_STR_CONTAINS(b, "\"address\":\"127.0.0.1\"");
    CHECK_STR_CONTAINS(b, "\"server\":\"127.0.0.1\"");
    CHECK_STR_CONTAINS(b, "\"ja3\":null,\"ja4\":null,\"h2\":null,\"oh\":null,\"cipher\":null,"
                          "\"protocol\":null,\"cert\":null,\"hello\":null,\"sni\":null");
    /* the request id is the trace id that prefixes the request's log lines */
    const char *id = strstr(b, "\"requestId\":\"");
    CHECK(id != NULL);
    if (id) {
        char want[64];
        snprintf(want, sizeof want, "[%.8s] GET http://sdk.test/client -> 200", id + 13);
        CHECK(log_wait(&srv->log, want));
    }
    hc_resp_free(&r);
    CHECK_EQ_INT(get("/env", &r), 200);
    b = (const char *)r.body;
    CHECK_STR_CONTAINS(b, "\"hostname\":\"localhost\"");
    CHECK_STR_CONTAINS(b, "\"service\":\"0000000000000000000000\"");
    CHECK_STR_CONTAINS(b, "\"version\":\"0\"");
    CHECK_STR_CONTAINS(b, "\"pop\":\"XXX\"");
    CHECK_STR_CONTAINS(b, "\"region\":\"Somewhere\"");
    CHECK_STR_CONTAINS(b, "\"cache_generation\":\"0\"");
    CHECK_STR_CONTAINS(b, "\"global_hostname\":\"localhost\"");
    const char *trace = strstr(b, "\"trace\":\"");
    CHECK(trace != NULL);
    if (trace) {
        char want[64];
        snprintf(want, sizeof want, "[%.8s] GET http://sdk.test/env -> 200", trace + 9);
        CHECK(log_wait(&srv->log, want));
        CHECK_EQ_INT(strspn(trace + 9, "0123456789abcdef"), 32);
    }
    hc_resp_free(&r);
    /* client.geo of a loopback client without geo data: Viceroy's default record, not null */
    CHECK_EQ_INT(get("/geo", &r), 200);
    char want_geo[1024];
    snprintf(want_geo, sizeof want_geo, "no error: %s\n", cfg_geo_default_json);
    CHECK_STR_EQ((char *)r.body, want_geo);
    hc_resp_free(&r);
    /* the 103 goes out first (test_front.c reads it), then the response follows */
    CHECK_EQ_INT(get("/hints", &r), 200);
    CHECK_STR_EQ((char *)r.body, "after hints\n");
    CHECK(r.status == 200 && !strstr(r.head, "103"));
    hc_resp_free(&r);
}

TEST(unconfigured_store_fails_in_the_guest)
{
    /* KV stores are implemented: a store that is not configured throws from the constructor */
    hc_resp r = {0};
    CHECK_EQ_INT(get("/kv-store", &r), 500);
    CHECK_STR_EQ(hc_header(&r, "x-threw"), "yes");
    CHECK_STR_CONTAINS((char *)r.body, "No KVStore named 'store' exists");
    hc_resp_free(&r);
    CHECK_EQ_INT(get("/timers", &r), 200); /* still serving */
    hc_resp_free(&r);
}

int main(int argc, char **argv)
{
    (void)argc;
    srv = server_start_guest(GUEST, 0);
    if (!srv) {
        printf("%s: 0 passed, 1 failed\n", argv[0]);
        return 1;
    }
    RUN(headers);
    RUN(json_and_redirect);
    RUN(request_bodies);
    RUN(response_bodies);
    RUN(url_text_crypto);
    RUN(timers_and_wait_until);
    RUN(client_server_env);
    RUN(unconfigured_store_fails_in_the_guest);
    server_stop(srv);
    return harness_finish(argv[0]);
}
