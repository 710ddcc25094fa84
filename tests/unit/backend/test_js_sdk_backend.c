/* test_js_sdk_backend.c: typical JS SDK (@fastly/js-compute) fetch programs end to end with the
 * sdk_backend guest against the test origin: fetch with a URL string and init (string,
 * ReadableStream and ArrayBuffer bodies), responses read as JSON, ArrayBuffer and through a
 * stream reader, repeated Set-Cookie from the origin, parallel fetches, CacheOverride (the cache is
 * pass-through), a dynamic Backend, an unknown backend, a response modified in place, redirects
 * not followed, implicit and duplicate dynamic backends, HEAD, Backend.exists, the downstream body
 * uploaded, a TransformStream, waitUntil, Promise.race with a timer and a first-byte timeout. */
#include "be_server.h"
#include "harness.h"
#include "origin.h"

#include "be_pattern.h"

#include <inttypes.h>

#define GUEST "build/guests/js/sdk_backend.wasm"

static origin *org;
static be_srv *srv;

static int get(const char *target, const char *headers, hc_resp *r)
{
    return be_request(srv->port, "GET", target, headers, NULL, 0, r, true);
}

TEST(fetch_url_string_with_init)
{
    hc_resp r = {0};
    CHECK_EQ_INT(get("/text", NULL, &r), 200);
    const char *b = (const char *)r.body;
    CHECK_STR_CONTAINS(b, "\"status\":200");
    CHECK_STR_CONTAINS(b, "\"method\":\"PUT\"");
    CHECK_STR_CONTAINS(b, "\"url\":\"/echo/text?q=1\"");
    CHECK_STR_CONTAINS(b, "\"body_bytes\":13");
    CHECK_STR_CONTAINS(b, "\"sent\":\"yes\"");
    CHECK_STR_CONTAINS(b, "\"host\":\"origin.test\"");
    hc_resp_free(&r);
}

TEST(upload_bodies)
{
    hc_resp r = {0};
    CHECK_EQ_INT(get("/upload-stream?n=250003", NULL, &r), 200);
    CHECK_STR_EQ((char *)r.body, "250003\n");
    CHECK_EQ_INT(get("/upload-buffer?n=70001", NULL, &r), 200);
    CHECK_STR_EQ((char *)r.body, "70001 70001\n");
    hc_resp_free(&r);
}

TEST(read_responses)
{
    hc_resp r = {0};
    CHECK_EQ_INT(get("/big?n=3000001", NULL, &r), 200);
    uint8_t first, last;
    be_pattern_fill(0, &first, 1);
    be_pattern_fill(3000000, &last, 1);
    CHECK_STR_EQ((char *)r.body, be_fmt("200 3000001 %u %u\n", first, last));
    CHECK_EQ_INT(get("/fnv?n=20001", NULL, &r), 200);
    CHECK_STR_EQ((char *)r.body, be_fmt("20001 %016" PRIx64 "\n", be_pattern_fnv(20001)));
    hc_resp_free(&r);
}

TEST(repeated_headers_from_the_origin)
{
    hc_resp r = {0};
    CHECK_EQ_INT(get("/cookies", NULL, &r), 200);
    CHECK_STR_CONTAINS(r.head, "set-cookie: a=1\n");
    CHECK_STR_CONTAINS(r.head, "set-cookie: b=2\n");
    CHECK_STR_EQ(hc_header(&r, "x-cookie-count"), "2");
    CHECK_STR_EQ(hc_header(&r, "x-multi-get"), "m1, m2");
    CHECK_STR_EQ((char *)r.body, "c");
    hc_resp_free(&r);
}

TEST(parallel_fetches)
{
    hc_resp r = {0};
    CHECK_EQ_INT(get("/parallel", NULL, &r), 200);
    CHECK_STR_EQ((char *)r.body, "201:r1,202:r2,203:r3\n");
    hc_resp_free(&r);
}

TEST(cache_override_passes_through)
{
    hc_resp r = {0};
    const char *modes[] = {"none", "pass", "override"};
    for (size_t i = 0; i < 3; i++) {
        CHECK_EQ_INT(get(be_fmt("/cache?mode=%s", modes[i]), NULL, &r), 200);
        CHECK_STR_EQ((char *)r.body, "200 GET\n");
    }
    hc_resp_free(&r);
}

TEST(dynamic_backend)
{
    hc_resp r = {0};
    CHECK_EQ_INT(get("/dynamic",
                     be_fmt("x-dyn-name: a\r\nx-dyn-target: 127.0.0.1:%u\r\n", origin_port(org)),
                     &r),
                 200);
    CHECK_STR_EQ(hc_header(&r, "x-url"), "/echo/dyn");
    CHECK_STR_EQ(hc_header(&r, "x-host"), "origin.test");
    CHECK_STR_CONTAINS((char *)r.body, "\"method\":\"GET\"");
    hc_resp_free(&r);
}

TEST(unknown_backend_rejects)
{
    hc_resp r = {0};
    CHECK_EQ_INT(get("/unknown", NULL, &r), 599);
    CHECK_STR_CONTAINS((char *)r.body, "error: ");
    hc_resp_free(&r);
}

TEST(modify_fetched_response)
{
    hc_resp r = {0};
    CHECK_EQ_INT(get("/modify", NULL, &r), 203);
    CHECK(hc_header(&r, "x-drop") == NULL);
    CHECK_STR_EQ(hc_header(&r, "x-keep"), "2");
    CHECK_STR_EQ(hc_header(&r, "x-added"), "3");
    CHECK_STR_EQ((char *)r.body, "modified");
    hc_resp_free(&r);
}

TEST(more_fetch_patterns)
{
    hc_resp r = {0};
    const char *target = be_fmt("x-dyn-target: 127.0.0.1:%u\r\n", origin_port(org));
    /* redirects are not followed */
    CHECK_EQ_INT(get("/no-follow", NULL, &r), 200);
    CHECK_STR_EQ((char *)r.body, "302 /echo/elsewhere moved\n");
    /* fetch without a backend, dynamic backends allowed: one is made from the URL */
    CHECK_EQ_INT(get("/implicit", target, &r), 200);
    CHECK_STR_EQ((char *)r.body, "200 /echo/implicit\n");
    /* a dynamic backend name already taken (dynamic or static) is an error, as Viceroy */
    CHECK_EQ_INT(get("/same-name-twice", target, &r), 409);
    CHECK_STR_CONTAINS((char *)r.body, "second: Error: ");
    CHECK_EQ_INT(get("/static-name", target, &r), 409);
    CHECK_STR_CONTAINS((char *)r.body, "static: Error: ");
    CHECK_EQ_INT(get("/head", NULL, &r), 200);
    CHECK_STR_EQ((char *)r.body, "200 0 1000\n");
    CHECK_EQ_INT(get("/exists", NULL, &r), 200);
    CHECK_STR_EQ((char *)r.body, "true false origin\n");
    hc_resp_free(&r);
}

TEST(streams_timers_and_wait_until)
{
    hc_resp r = {0};
    /* the downstream body passed on as a fetch body */
    size_t n = 2000003;
    uint8_t *body = malloc(n);
    be_pattern_fill(0, body, n);
    CHECK_EQ_INT(be_request(srv->port, "POST", "/upload-downstream", NULL, body, n, &r, true), 200);
    CHECK_STR_EQ((char *)r.body, be_fmt("%zu %016" PRIx64 "\n", n, be_pattern_fnv(n)));
    free(body);
    /* the origin's body through a TransformStream */
    CHECK_EQ_INT(get("/transform?n=5000001", NULL, &r), 200);
    CHECK_STR_EQ(hc_header(&r, "x-transformed"), "1");
    CHECK_EQ_U64(r.body_len, 5000001);
    CHECK_EQ_U64(be_pattern_mismatches(0, r.body, r.body_len), 0);
    CHECK(be_srv_log_has(srv, "stdout | transform saw 5000001"));
    /* a fetch in waitUntil runs after the response went out */
    CHECK_EQ_INT(get("/after", NULL, &r), 200);
    CHECK_STR_EQ((char *)r.body, "sent first\n");
    CHECK(be_srv_log_has(srv, "stdout | waitUntil fetch: 200 /echo/after-response"));
    /* Promise.race of a fetch and a timer: either can win */
    CHECK_EQ_INT(get("/race?n=20000", NULL, &r), 200);
    CHECK_STR_EQ((char *)r.body, "timer\n");
    CHECK_EQ_INT(get("/race-fast", NULL, &r), 200);
    CHECK_STR_EQ((char *)r.body, "fetch quick\n");
    /* a first-byte timeout rejects the fetch */
    CHECK_EQ_INT(
        get("/first-byte-timeout", be_fmt("x-dyn-target: 127.0.0.1:%u\r\n", origin_port(org)), &r),
        599);
    CHECK_STR_CONTAINS((char *)r.body, "error: ");
    CHECK(be_srv_log_has(srv, "http_response_timeout"));
    hc_resp_free(&r);
}

int main(int argc, char **argv)
{
    (void)argc;
    org = origin_start(NULL, NULL);
    const char *be[] = {org ? be_fmt("origin=127.0.0.1:%u", origin_port(org)) : NULL, NULL};
    srv = org ? be_srv_start(GUEST, be) : NULL;
    if (!srv) {
        printf("%s: 0 passed, 1 failed\n", argv[0]);
        return 1;
    }
    RUN(fetch_url_string_with_init);
    RUN(upload_bodies);
    RUN(read_responses);
    RUN(repeated_headers_from_the_origin);
    RUN(parallel_fetches);
    RUN(cache_override_passes_through);
    RUN(dynamic_backend);
    RUN(unknown_backend_rejects);
    RUN(modify_fetched_response);
    RUN(more_fetch_patterns);
    RUN(streams_timers_and_wait_until);
    be_srv_stop(srv);
    origin_stop(org);
    return harness_finish(argv[0]);
}
