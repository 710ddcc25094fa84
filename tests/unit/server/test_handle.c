/* test_handle.c: fastlike_handle, the in-process request path (no sockets), with the srv_app
 * guest: request details, buffered and streamed bodies, 508 on a loop, 500 on a trap, the empty
 * 200, environment overrides, and the pieces it is built from (pipe, loop detection). */
#include "fastlike.h"
#include "harness.h"
#include "server/srv_request.h"

#include <pthread.h>
#include <stdlib.h>

#define GUEST "build/guests/srv_app.wasm"

static void quiet(void *user, const char *line)
{
    (void)user;
    (void)line;
}

static fastlike *make(fastlike_config **cfg)
{
    char err[512] = "";
    *cfg = fastlike_config_new();
    fastlike_config_set_wasm_file(*cfg, GUEST);
    fastlike_config_set_log(*cfg, quiet, NULL);
    fastlike_config_set_env(*cfg, "FASTLY_POP", "LCL");
    fastlike_config_set_env(*cfg, "MY_VAR", "1");
    fastlike_config_set_compliance_region(*cfg, "us-eu", err, sizeof err);
    fastlike_config_add_fake_fastly_key(*cfg, "local-key");
    fastlike *f = NULL;
    if (fastlike_new(*cfg, &f, err, sizeof err) != FASTLIKE_OK)
        fprintf(stderr, "fastlike_new: %s\n", err);
    return f;
}

static const char *header(const fastlike_response *r, const char *name)
{
    for (size_t i = 0; i < r->nheaders; i++)
        if (strcmp(r->headers[i].name, name) == 0)
            return r->headers[i].value;
    return NULL;
}

static fastlike *f;

static uint16_t get(const char *url, const fastlike_header *h, size_t nh, fastlike_response *resp)
{
    char err[256] = "";
    fastlike_request req = {
        .method = "GET", .url = url, .headers = h, .nheaders = nh, .client_ip = "192.0.2.7"};
    if (fastlike_handle(f, &req, resp, err, sizeof err) != FASTLIKE_OK)
        return 0;
    return resp->status;
}

static char *body_str(const fastlike_response *r)
{
    char *s = malloc(r->body_len + 1);
    memcpy(s, r->body ? (const char *)r->body : "", r->body_len);
    s[r->body_len] = '\0';
    return s;
}

TEST(details)
{
    fastlike_response r;
    fastlike_header h[] = {{"X-One", "1"}};
    CHECK_EQ_INT(get("http://example.test/info?a=b", h, 1, &r), 200);
    char *b = body_str(&r);
    CHECK_STR_CONTAINS(b, "url: http://example.test/info?a=b\n");
    CHECK_STR_CONTAINS(b, "client: 192.0.2.7\n");
    CHECK_STR_CONTAINS(b, "header: x-one: 1\n");
    CHECK_STR_EQ(header(&r, "content-type"), "text/plain");
    free(b);
    fastlike_response_free(&r);
    CHECK_EQ_INT(get("/info", NULL, 0, &r), 200); /* a path alone means http://localhost */
    b = body_str(&r);
    CHECK_STR_CONTAINS(b, "url: http://localhost/info\n");
    free(b);
    fastlike_response_free(&r);
}

TEST(bodies)
{
    fastlike_response r;
    CHECK_EQ_INT(get("/gen?n=100000", NULL, 0, &r), 200);
    CHECK_EQ_INT(r.body_len, 100000);
    fastlike_response_free(&r);
    static uint8_t data[300000];
    fastlike_request req = {
        .method = "POST", .url = "/count", .body = data, .body_len = sizeof data};
    char err[256];
    CHECK_EQ_INT(fastlike_handle(f, &req, &r, err, sizeof err), FASTLIKE_OK);
    char *b = body_str(&r);
    CHECK_STR_EQ(b, "300000\n");
    free(b);
    fastlike_response_free(&r);
    req.url = "/echo";
    for (size_t i = 0; i < sizeof data; i++)
        data[i] = (uint8_t)i;
    CHECK_EQ_INT(fastlike_handle(f, &req, &r, err, sizeof err), FASTLIKE_OK);
    CHECK_EQ_INT(r.body_len, sizeof data);
    CHECK(r.body && memcmp(r.body, data, sizeof data) == 0);
    fastlike_response_free(&r);
}

TEST(fallbacks)
{
    fastlike_response r;
    CHECK_EQ_INT(get("/nothing", NULL, 0, &r), 200);
    CHECK_EQ_INT(r.body_len, 0);
    fastlike_response_free(&r);
    CHECK_EQ_INT(get("/trap", NULL, 0, &r), 500);
    fastlike_response_free(&r);
    fastlike_header loop[] = {{"CDN-Loop", "Fastlike, Fastlike, Fastlike, Fastlike, Fastlike"}};
    CHECK_EQ_INT(get("/info", loop, 1, &r), 508);
    fastlike_response_free(&r);
    fastlike_header once[] = {{"CDN-Loop", "Fastlike"}}; /* a self-call: allowed */
    CHECK_EQ_INT(get("/info", once, 1, &r), 200);
    fastlike_response_free(&r);
    CHECK_EQ_INT(get("/status?code=418", NULL, 0, &r), 418); /* still serving */
    fastlike_response_free(&r);
}

TEST(env_overrides)
{
    fastlike_response r;
    CHECK_EQ_INT(get("/env", NULL, 0, &r), 200);
    char *b = body_str(&r);
    CHECK_STR_CONTAINS(b, "FASTLY_POP=LCL\n");
    CHECK_STR_CONTAINS(b, "MY_VAR=1\n");
    CHECK_STR_CONTAINS(b, "FASTLY_REGION=Somewhere\n");
    free(b);
    fastlike_response_free(&r);
}

TEST(compliance_region_and_fake_keys)
{
    /* covers: fastly_http_downstream.downstream_compliance_region */
    /* covers: fastly_http_downstream.fastly_key_is_valid */
    fastlike_response r;
    const fastlike_header good = {"fastly-key", "local-key"}, bad = {"fastly-key", "other"};
    CHECK_EQ_INT(get("/edge", &good, 1, &r), 200);
    char *b = body_str(&r);
    CHECK_STR_EQ(b, "region=us-eu key_valid=1\n");
    free(b);
    fastlike_response_free(&r);
    CHECK_EQ_INT(get("/edge", &bad, 1, &r), 200);
    b = body_str(&r);
    CHECK_STR_EQ(b, "region=us-eu key_valid=0\n");
    free(b);
    fastlike_response_free(&r);
    /* a region the edge does not know is refused with a message */
    fastlike_config *c = fastlike_config_new();
    char err[256] = "";
    CHECK_EQ_INT(fastlike_config_set_compliance_region(c, "mars", err, sizeof err),
                 FASTLIKE_ERR_ARGS);
    CHECK_STR_CONTAINS(err, "mars");
    fastlike_config_free(c);
}

TEST(loop_detection)
{
    /* five passes (tokens in two header lines, with parameters) are a loop; fewer are not */
    hc_header_view h[2] = {{"cdn-loop", 8, "a, Fastlike, b;x=1, fastlike", 28},
                           {"Cdn-Loop", 8, " FASTLIKE ; v=2,Fastlike,Fastlike", 33}};
    hc_downstream_request req = {.method = "GET", .url = "http://x/", .headers = h, .nheaders = 1};
    CHECK_EQ_INT(srv_request_loop_passes(&req), 2);
    CHECK(!srv_request_is_loop(&req));
    req.nheaders = 2;
    CHECK_EQ_INT(srv_request_loop_passes(&req), 5);
    CHECK(srv_request_is_loop(&req));
    hc_header_view other = {"cdn-loop", 8, "fastlikes", 9};
    req.headers = &other;
    req.nheaders = 1;
    CHECK(!srv_request_is_loop(&req));
}

int main(int argc, char **argv)
{
    (void)argc;
    fastlike_config *cfg = NULL;
    f = make(&cfg);
    if (!f) {
        printf("%s: 0 passed, 1 failed\n", argv[0]);
        return 1;
    }
    RUN(details);
    RUN(bodies);
    RUN(fallbacks);
    RUN(env_overrides);
    RUN(compliance_region_and_fake_keys);
    RUN(loop_detection);
    fastlike_free(f);
    fastlike_config_free(cfg);
    return harness_finish(argv[0]);
}
