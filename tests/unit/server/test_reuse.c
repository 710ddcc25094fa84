/* test_reuse.c: reusable instances end to end (fastly_http_downstream.next_request), with the
 * srv_reuse C guest over real sockets and in-process: one instance answers a run of requests (as
 * Viceroy, at most 5 registrations, so 6 requests), a trap in a reused instance is a 500 for
 * that request only, a request handed to an instance that then abandons its promise is served by
 * a fresh one, the wait times out, waiting with async_io.select, a streaming response must end
 * before the next request, shutting down releases a waiting instance at once, and a guest of the
 * official JS SDK that asks for a reusable sandbox (setReusableSandboxOptions) gets one. */
#include "test_server.h"

#include <time.h>

#define GUEST "build/guests/srv_reuse.wasm"
#define JS_GUEST "build/guests/js/srv_reuse_js.wasm"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* POST `path` with `body` on a fresh connection. */
static int post(server *s, const char *path, const char *body, hc_resp *r)
{
    char req[1024];
    snprintf(req, sizeof req,
             "POST %s HTTP/1.1\r\nHost: x\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n%s",
             path, strlen(body), body);
    hc_resp_free(r);
    *r = (hc_resp){0};
    return simple_on(s->port, req, r, false);
}

static const char *body_of(const hc_resp *r)
{
    return r->body ? (const char *)r->body : "";
}

TEST(one_instance_serves_a_run_of_requests)
{
    /* covers: fastly_http_downstream.next_request */
    /* covers: fastly_http_downstream.next_request_wait */
    server *s = server_start_guest(GUEST, 0);
    CHECK(s != NULL);
    if (!s)
        return;
    hc_resp r = {0};
    char want[64], num[8];
    for (int i = 0; i < 6; i++) {
        snprintf(num, sizeof num, "%d", i);
        CHECK_EQ_INT(post(s, "/reuse?timeout=3000", num, &r), 200);
        snprintf(want, sizeof want, "Response #%d body=%d", i + 1, i);
        CHECK_STR_EQ(body_of(&r), want);
        CHECK_STR_EQ(hc_header(&r, "x-first-path"), "/reuse");
    }
    /* five registrations per instance: the seventh request starts a fresh one */
    CHECK_EQ_INT(post(s, "/other", "6", &r), 200);
    CHECK_STR_EQ(body_of(&r), "Response #1 body=6");
    CHECK_STR_EQ(hc_header(&r, "x-first-path"), "/other");
    CHECK(log_wait(&s->log, "POST http://x/reuse?timeout=3000 -> 200"));
    CHECK(log_wait(&s->log, ", reused instance)"));
    hc_resp_free(&r);
    server_stop(s);
}

TEST(trap_in_reused_instance_is_a_500_for_that_request)
{
    server *s = server_start_guest(GUEST, 0);
    CHECK(s != NULL);
    if (!s)
        return;
    hc_resp r = {0};
    CHECK_EQ_INT(post(s, "/reuse", "0", &r), 200);
    CHECK_STR_EQ(body_of(&r), "Response #1 body=0");
    CHECK_EQ_INT(post(s, "/reuse", "1", &r), 200);
    CHECK_STR_EQ(body_of(&r), "Response #2 body=1");
    CHECK_EQ_INT(post(s, "/after-crash", "crash!", &r), 500);
    CHECK(log_wait(&s->log, "POST http://x/after-crash: guest trapped: unreachable"));
    /* the server keeps serving, with a fresh instance */
    CHECK_EQ_INT(post(s, "/fresh", "x", &r), 200);
    CHECK_STR_EQ(body_of(&r), "Response #1 body=x");
    hc_resp_free(&r);
    server_stop(s);
}

TEST(abandoned_promise_gives_the_request_back)
{
    /* covers: fastly_http_downstream.next_request_abandon */
    server *s = server_start_guest(GUEST, 0);
    CHECK(s != NULL);
    if (!s)
        return;
    hc_resp r = {0};
    CHECK_EQ_INT(post(s, "/abandon", "", &r), 200);
    CHECK_STR_EQ(body_of(&r), "abandon");
    /* handed to the instance that sleeps, then abandons: a fresh instance answers it */
    double t0 = now_s();
    CHECK_EQ_INT(post(s, "/given-back", "b", &r), 200);
    CHECK_STR_EQ(body_of(&r), "Response #1 body=b");
    CHECK_STR_EQ(hc_header(&r, "x-first-path"), "/given-back");
    double waited = now_s() - t0;
    printf("abandoned_promise: the handed request was answered after %.0f ms\n", waited * 1e3);
    CHECK(waited > 0.2); /* it did wait in the sleeping instance first */
    hc_resp_free(&r);
    server_stop(s);
}

TEST(wait_times_out_and_select_waits)
{
    server *s = server_start_guest(GUEST, 0);
    CHECK(s != NULL);
    if (!s)
        return;
    hc_resp r = {0};
    CHECK_EQ_INT(post(s, "/reuse?timeout=100", "a", &r), 200);
    CHECK_STR_EQ(body_of(&r), "Response #1 body=a");
    /* the instance gave up after 100 ms: the next request gets a fresh one */
    CHECK(log_wait(&s->log, "POST http://x/reuse?timeout=100 -> 200"));
    usleep(300 * 1000);
    CHECK_EQ_INT(post(s, "/later?timeout=50", "b", &r), 200);
    CHECK_STR_EQ(body_of(&r), "Response #1 body=b");
    CHECK_STR_EQ(hc_header(&r, "x-first-path"), "/later");
    usleep(300 * 1000);
    /* async_io.select and is_ready on the promise */
    CHECK_EQ_INT(post(s, "/reuse?select=1&timeout=3000", "c", &r), 200);
    CHECK_STR_EQ(body_of(&r), "Response #1 body=c");
    CHECK_EQ_INT(post(s, "/second", "d", &r), 200);
    CHECK_STR_EQ(body_of(&r), "Response #2 body=d");
    CHECK_STR_EQ(hc_header(&r, "x-first-path"), "/reuse");
    hc_resp_free(&r);
    server_stop(s);
}

TEST(streaming_response_must_end_before_the_next_request)
{
    server *s = server_start_guest(GUEST, 0);
    CHECK(s != NULL);
    if (!s)
        return;
    hc_resp r = {0};
    CHECK_EQ_INT(post(s, "/stream", "", &r), 200);
    CHECK_STR_EQ(body_of(&r), "streaming; wait while streaming: 5"); /* unsupported */
    CHECK(log_wait(&s->log, "streaming response of the current request is still open"));
    hc_resp_free(&r);
    server_stop(s);
}

/* As Viceroy (DownstreamMetadata per request handle): every request an instance takes has its
 * own request id, and the metadata of an earlier request stays readable through its handle, even
 * after that handle was closed. */
TEST(each_request_keeps_its_own_metadata)
{
    server *s = server_start_guest(GUEST, 0);
    CHECK(s != NULL);
    if (!s)
        return;
    hc_resp r = {0};
    CHECK_EQ_INT(simple_on(s->port,
                           "POST /meta?timeout=3000 HTTP/1.1\r\nHost: x\r\nX-One: 1\r\n"
                           "Content-Length: 0\r\nConnection: close\r\n\r\n",
                           &r, false),
                 200);
    char id1[64];
    snprintf(id1, sizeof id1, "%s", body_of(&r));
    CHECK_EQ_INT(strlen(id1), 32);
    CHECK_EQ_INT(post(s, "/second", "", &r), 200); /* Host, Content-Length, Connection */
    CHECK_STR_EQ(hc_header(&r, "x-first-path"), "/meta");
    char want[256];
    snprintf(want, sizeof want, " id1=0:%s count1=0:4 count2=3", id1);
    CHECK_STR_CONTAINS(body_of(&r), want);
    const char *id2 = strstr(body_of(&r), "id2=");
    CHECK(id2 != NULL && strcspn(id2 + 4, " ") == 32);
    CHECK(id2 != NULL && strncmp(id2 + 4, id1, 32) != 0); /* a request id of its own */
    hc_resp_free(&r);
    server_stop(s);
}

TEST(shutdown_releases_a_waiting_instance)
{
    server *s = server_start_guest(GUEST, 0);
    CHECK(s != NULL);
    if (!s)
        return;
    hc_resp r = {0};
    CHECK_EQ_INT(post(s, "/reuse", "0", &r), 200); /* now waits up to 10 s */
    hc_resp_free(&r);
    double t0 = now_s();
    server_stop(s);
    double took = now_s() - t0;
    printf("shutdown_releases_a_waiting_instance: stopped in %.0f ms\n", took * 1e3);
    CHECK(took < 5.0);
}

static fastlike_status verbose2(fastlike_config *c, void *user, char *err, size_t errlen)
{
    (void)user, (void)err, (void)errlen;
    fastlike_config_set_verbosity(c, 2);
    return FASTLIKE_OK;
}

TEST(js_sdk_reusable_sandbox)
{
    /* -v 2 logs each next_request registration: the test waits for it before the next request,
     * because the SDK registers after answering (a request sent earlier gets a fresh instance) */
    server *s = server_start_with(JS_GUEST, verbose2, NULL);
    CHECK(s != NULL);
    if (!s)
        return;
    hc_resp r = {0};
    char want[64], path[32];
    for (int i = 1; i <= 3; i++) {
        if (i > 1)
            CHECK(log_wait_count(&s->log, "next_request: registered", (size_t)(i - 1)));
        snprintf(path, sizeof path, "/js%d", i);
        CHECK_EQ_INT(post(s, path, "", &r), 200);
        snprintf(want, sizeof want, "served=%d path=%s", i, path);
        CHECK_STR_EQ(body_of(&r), want);
    }
    CHECK(log_wait(&s->log, "POST http://x/js3 -> 200"));
    CHECK(log_has(&s->log, "reused instance"));
    hc_resp_free(&r);
    server_stop(s);
}

static bool handle_post(fastlike *f, const char *url, const char *body, const char *want)
{
    char err[256] = "";
    fastlike_request req = {
        .method = "POST", .url = url, .body = (const uint8_t *)body, .body_len = strlen(body)};
    fastlike_response resp = {0};
    bool ok = fastlike_handle(f, &req, &resp, err, sizeof err) == FASTLIKE_OK &&
              resp.status == 200 && resp.body_len == strlen(want) &&
              memcmp(resp.body, want, resp.body_len) == 0;
    if (!ok)
        fprintf(stderr, "  fastlike_handle %s: status %u, %.*s %s\n", url, resp.status,
                (int)resp.body_len, resp.body ? (const char *)resp.body : "", err);
    fastlike_response_free(&resp);
    return ok;
}

TEST(in_process_requests_get_an_instance_that_does_not_wait)
{
    /* fastlike_handle returns when the instance ends, so an instance it starts is not kept
     * waiting (the guest's next_request resolves to none at once, instead of a 10 s wait), and
     * in-process requests are not handed to instances waiting from HTTP */
    server *s = server_start_guest(GUEST, 0);
    CHECK(s != NULL);
    if (!s)
        return;
    hc_resp r = {0};
    CHECK_EQ_INT(post(s, "/reuse?timeout=3000", "p", &r), 200); /* this instance now waits */
    CHECK_STR_EQ(body_of(&r), "Response #1 body=p");
    hc_resp_free(&r);
    double t0 = now_s();
    CHECK(handle_post(s->f, "/reuse", "x", "Response #1 body=x"));
    CHECK(handle_post(s->f, "/reuse", "y", "Response #1 body=y"));
    double took = now_s() - t0;
    printf("in_process: two reusing-guest requests in-process took %.0f ms\n", took * 1e3);
    CHECK(took < 2.5);
    /* the waiting HTTP instance still takes the next HTTP request */
    CHECK_EQ_INT(post(s, "/reuse", "q", &r), 200);
    CHECK_STR_EQ(body_of(&r), "Response #2 body=q");
    hc_resp_free(&r);
    server_stop(s);
}

HARNESS_MAIN(RUN(one_instance_serves_a_run_of_requests);
             RUN(trap_in_reused_instance_is_a_500_for_that_request);
             RUN(abandoned_promise_gives_the_request_back); RUN(wait_times_out_and_select_waits);
             RUN(streaming_response_must_end_before_the_next_request);
             RUN(each_request_keeps_its_own_metadata); RUN(shutdown_releases_a_waiting_instance);
             RUN(in_process_requests_get_an_instance_that_does_not_wait);
             RUN(js_sdk_reusable_sandbox);)
