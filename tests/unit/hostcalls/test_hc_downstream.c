/* test_hc_downstream.c: runs tests/guests/c/hc_downstream.c in-process (fastly_http_downstream)
 * on the default fake request and on one carrying Fastly's bot-detection headers. */
#include "harness.h"
#include "hc_guest_run.h"

static guest_result res;

static void run_mode(hc_env *e, const char *mode)
{
    if (!e || !hc_env_ctx(e)) {
        CHECK(0);
        return;
    }
    CHECK(run_guest("hc_downstream", mode, e->ctx, &res));
    if (res.fails != 0)
        fprintf(stderr, "%s: %s", mode, res.out);
    CHECK(guest_exited(&res, 0));
    CHECK(res.checks > 0);
    CHECK_EQ_INT(res.fails, 0);
}

TEST(plain_request)
{
    hc_env *e = hc_env_new();
    run_mode(e, "plain");
    CHECK(res.checks > 90);
    /* next_request's test answered the request with an empty 200 */
    CHECK(e && e->ctx && hc_ctx_response_finished(e->ctx));
    hc_env_free(e);
}

TEST(bot_headers)
{
    static const hc_header_view h[] = {
        {"x-fastly-bot-analyzed", 21, "true", 4},
        {"X-Fastly-Bot-Detected", 21, "true", 4},
        {"x-fastly-bot-name", 17, "Googlebot", 9},
        {"x-fastly-bot-category", 21, "Search-Engine-Crawler", 21},
        {"x-fastly-bot-verified", 21, "false", 5},
    };
    hc_env *e = hc_env_new();
    if (e) {
        e->req.headers = h;
        e->req.nheaders = sizeof h / sizeof h[0];
    }
    run_mode(e, "bot");
    hc_env_free(e);
}

HARNESS_MAIN(RUN(plain_request); RUN(bot_headers);)
