/* test_hc_resp.c: runs tests/guests/c/hc_resp.c in-process (fastly_http_resp, fastly_http_body)
 * and checks what reached the capturing sink: status, headers, framing, body, finish. */
#include "harness.h"
#include "hc_guest_run.h"

static guest_result res;

/* Runs one scenario on a fresh request; the guest's own checks must all pass. */
static hc_env *run_mode(const char *mode, int fail_writes)
{
    hc_env *e = hc_env_new();
    if (!e || !hc_env_ctx(e)) {
        CHECK(0);
        hc_env_free(e);
        return NULL;
    }
    e->cap.fail_writes = fail_writes;
    CHECK(run_guest("hc_resp", mode, e->ctx, &res));
    if (!fail_writes) {
        if (res.fails != 0)
            fprintf(stderr, "%s: %s", mode, res.out);
        CHECK(guest_exited(&res, 0));
        CHECK(res.checks > 0);
        CHECK_EQ_INT(res.fails, 0);
    }
    return e;
}

static bool body_is(const hc_env *e, const char *s)
{
    return e->cap.body_len == strlen(s) && memcmp(e->cap.body, s, e->cap.body_len) == 0;
}

TEST(handles)
{
    hc_env *e = run_mode("handles", 0);
    if (!e)
        return;
    CHECK(res.checks > 140);
    CHECK_EQ_INT(e->cap.heads, 0);
    CHECK(!hc_ctx_response_started(e->ctx));
    hc_env_free(e);
}

TEST(buffered_response)
{
    hc_env *e = run_mode("buffered", 0);
    if (!e)
        return;
    CHECK_EQ_INT(e->cap.heads, 1);
    CHECK_EQ_INT(e->cap.status, 201);
    CHECK_EQ_INT(e->cap.content_length, 11);
    CHECK_STR_EQ(e->cap.headers, "Content-Type: text/plain\nX-Multi: 1\nX-Multi: 2\n");
    CHECK(body_is(e, "hello world"));
    CHECK_EQ_INT(e->cap.finishes, 1);
    CHECK(hc_ctx_response_started(e->ctx));
    CHECK(hc_ctx_response_finished(e->ctx));
    hc_env_free(e);
}

TEST(streaming_response)
{
    hc_env *e = run_mode("streaming", 0);
    if (!e)
        return;
    CHECK_EQ_INT(e->cap.heads, 1);
    CHECK_EQ_INT(e->cap.content_length, -1);
    CHECK(body_is(e, "first;second;third;"));
    CHECK_EQ_INT(e->cap.finishes, 1);
    CHECK(hc_ctx_response_finished(e->ctx));
    hc_env_free(e);
}

TEST(streaming_abandoned_is_cut_short)
{
    hc_env *e = run_mode("abandon", 0);
    if (!e)
        return;
    CHECK(body_is(e, "first;second;"));
    CHECK_EQ_INT(e->cap.finishes, 0);
    CHECK(hc_ctx_response_started(e->ctx));
    CHECK(!hc_ctx_response_finished(e->ctx));
    hc_env_free(e);
}

TEST(streaming_left_open_is_finished_by_ctx_finish)
{
    hc_env *e = run_mode("leftopen", 0);
    if (!e)
        return;
    CHECK(body_is(e, "first;second;"));
    CHECK_EQ_INT(e->cap.finishes, 1); /* run_guest calls hc_ctx_finish */
    CHECK(hc_ctx_response_finished(e->ctx));
    hc_ctx_finish(e->ctx); /* idempotent */
    CHECK_EQ_INT(e->cap.finishes, 1);
    hc_env_free(e);
}

TEST(echo_downstream_body)
{
    hc_env *e = run_mode("echo", 0);
    if (!e)
        return;
    CHECK_EQ_INT(e->cap.content_length, 23);
    CHECK(body_is(e, ">hello downstream body<"));
    CHECK_EQ_INT(e->cap.finishes, 1);
    hc_env_free(e);
}

TEST(manual_framing_and_no_keepalive)
{
    hc_env *e = run_mode("manual", 0);
    if (!e)
        return;
    CHECK_EQ_INT(e->cap.content_length, 5);
    CHECK_STR_EQ(e->cap.headers, "connection: close\n");
    CHECK(body_is(e, "12345"));
    hc_env_free(e);
}

TEST(informational_statuses)
{
    hc_env *e = run_mode("early", 0);
    if (!e)
        return;
    CHECK_EQ_INT(e->cap.heads, 1);
    CHECK_EQ_INT(e->cap.status, 204);
    CHECK_STR_CONTAINS(e->log.text, "103");
    hc_env_free(e);
}

/* The client went away: writes fail, the guest sees `error`, nothing crashes. */
TEST(client_gone_while_streaming)
{
    hc_env *e = run_mode("streaming", 1);
    if (!e)
        return;
    CHECK(guest_exited(&res, 1));
    CHECK(res.fails > 0);
    CHECK(hc_ctx_response_started(e->ctx));
    CHECK(!hc_ctx_response_finished(e->ctx));
    hc_env_free(e);
}

/* Without a guest: creation with no request/sink and freeing with live handles. */
TEST(ctx_lifecycle)
{
    hc_settings s = {0};
    hc_ctx *ctx = hc_ctx_new(&s, NULL, NULL, NULL);
    CHECK(ctx != NULL);
    CHECK(!hc_ctx_response_started(ctx));
    hc_ctx_finish(ctx);
    hc_ctx_free(ctx);
    hc_ctx_free(NULL);
    CHECK(!hc_ctx_response_started(NULL));
}

TEST(log_levels)
{
    hc_env *e = hc_env_new();
    if (!e || !hc_env_ctx(e))
        return;
    e->settings.verbosity = 0;
    hc_log(e->ctx, 1, "hidden %d", 1);
    hc_log(e->ctx, 0, "shown %d", 2);
    /* prefixed with the request's trace id, as the server's own lines are */
    CHECK_STR_EQ(e->log.text, "[01234567] shown 2\n");
    hc_env_free(e);
}

HARNESS_MAIN(RUN(handles); RUN(buffered_response); RUN(streaming_response);
             RUN(streaming_abandoned_is_cut_short);
             RUN(streaming_left_open_is_finished_by_ctx_finish); RUN(echo_downstream_body);
             RUN(manual_framing_and_no_keepalive); RUN(informational_statuses);
             RUN(client_gone_while_streaming); RUN(ctx_lifecycle); RUN(log_levels);)
