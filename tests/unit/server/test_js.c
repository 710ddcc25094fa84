/* test_js.c: a guest built by the official JS SDK (@fastly/js-compute, tests/guests/js/srv_js.js)
 * served over real HTTP: request inspection, status and headers, body types (string, bytes,
 * ReadableStream, the request's own body), 204, repeated headers, an uncaught exception. */
#include "fastlike.h"
#include "harness.h"
#include "http_client.h"
#include "test_server.h"

#define GUEST "build/guests/js/srv_js.wasm"

static uint16_t port;

static void quiet(void *user, const char *line)
{
    (void)user;
    (void)line;
}

static int req(const char *request, hc_resp *r)
{
    return simple_on(port, request, r, false);
}

TEST(inspect)
{
    hc_resp r = {0};
    CHECK_EQ_INT(req("POST /inspect?x=1 HTTP/1.1\r\nHost: js.test\r\nX-Hello: World\r\n"
                     "Content-Length: 5\r\n\r\nhello",
                     &r),
                 200);
    const char *b = (const char *)r.body;
    CHECK_STR_CONTAINS(b, "\"method\":\"POST\"");
    CHECK_STR_CONTAINS(b, "\"url\":\"http://js.test/inspect?x=1\"");
    CHECK_STR_CONTAINS(b, "\"ip\":\"127.0.0.1\"");
    CHECK_STR_CONTAINS(b, "\"x-hello\":\"World\"");
    CHECK_STR_CONTAINS(b, "\"body\":\"hello\"");
    CHECK_STR_EQ(hc_header(&r, "content-type"), "application/json");
    hc_resp_free(&r);
}

TEST(status_headers_body_types)
{
    hc_resp r = {0};
    CHECK_EQ_INT(req("GET /status HTTP/1.1\r\nHost: x\r\n\r\n", &r), 418);
    CHECK_STR_EQ((char *)r.body, "I'm a teapot\n");
    CHECK_STR_EQ(hc_header(&r, "x-custom"), "yes");
    CHECK_EQ_INT(req("GET /bytes HTTP/1.1\r\nHost: x\r\n\r\n", &r), 200);
    CHECK_STR_EQ((char *)r.body, "hi\n");
    CHECK_EQ_INT(req("GET /empty HTTP/1.1\r\nHost: x\r\n\r\n", &r), 204);
    CHECK_EQ_INT(r.body_len, 0);
    CHECK_EQ_INT(req("GET /cookies HTTP/1.1\r\nHost: x\r\n\r\n", &r), 200);
    CHECK_STR_CONTAINS(r.head, "set-cookie: a=1\n");
    CHECK_STR_CONTAINS(r.head, "set-cookie: b=2\n");
    CHECK_EQ_INT(req("GET /nope HTTP/1.1\r\nHost: x\r\n\r\n", &r), 404);
    hc_resp_free(&r);
}

TEST(streaming)
{
    hc_resp r = {0};
    CHECK_EQ_INT(req("GET /stream?n=3 HTTP/1.1\r\nHost: x\r\n\r\n", &r), 200);
    CHECK(r.chunked);
    CHECK_STR_EQ((char *)r.body, "chunk 0\nchunk 1\nchunk 2\n");
    CHECK_EQ_INT(req("POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                     "4\r\nabcd\r\n3\r\nefg\r\n0\r\n\r\n",
                     &r),
                 200);
    CHECK_STR_EQ((char *)r.body, "abcdefg");
    CHECK_STR_EQ(hc_header(&r, "x-echo"), "1");
    hc_resp_free(&r);
}

TEST(uncaught_exception)
{
    hc_resp r = {0};
    int status = req("GET /throw HTTP/1.1\r\nHost: x\r\n\r\n", &r);
    CHECK(status == 500);
    CHECK_EQ_INT(req("GET /bytes HTTP/1.1\r\nHost: x\r\n\r\n", &r), 200); /* still serving */
    hc_resp_free(&r);
}

int main(int argc, char **argv)
{
    (void)argc;
    char err[512] = "";
    fastlike_config *c = fastlike_config_new();
    fastlike_config_set_wasm_file(c, GUEST);
    fastlike_config_set_bind(c, "127.0.0.1:0", err, sizeof err);
    fastlike_config_set_log(c, quiet, NULL);
    fastlike *f = NULL;
    if (fastlike_new(c, &f, err, sizeof err) != FASTLIKE_OK ||
        fastlike_start(f, err, sizeof err) != FASTLIKE_OK) {
        fprintf(stderr, "%s\n", err);
        printf("%s: 0 passed, 1 failed\n", argv[0]);
        return 1;
    }
    port = fastlike_port(f);
    RUN(inspect);
    RUN(status_headers_body_types);
    RUN(streaming);
    RUN(uncaught_exception);
    fastlike_free(f);
    fastlike_config_free(c);
    return harness_finish(argv[0]);
}
