/* test_hc_req.c: runs tests/guests/c/hc_req.c in-process (fastly_abi, fastly_http_req,
 * fastly_compute_runtime) against a fake downstream request; every guest check must pass. */
#include "harness.h"
#include "hc_guest_run.h"

static guest_result res;

TEST(guest_checks_pass)
{
    hc_env *e = hc_env_new();
    CHECK(e && hc_env_ctx(e));
    if (!e || !e->ctx)
        return;
    CHECK(run_guest("hc_req", "", e->ctx, &res));
    if (res.fails != 0)
        fprintf(stderr, "%s", res.out);
    CHECK(guest_exited(&res, 0));
    CHECK(res.checks > 200);
    CHECK_EQ_INT(res.fails, 0);
    /* the guest sent no response */
    CHECK(!hc_ctx_response_started(e->ctx));
    CHECK_EQ_INT(e->cap.heads, 0);
    hc_env_free(e);
}

/* A guest run without a request context gets `error` from every call that needs one. */
TEST(no_ctx_is_an_error_not_a_crash)
{
    CHECK(run_guest("hc_req", "", NULL, &res));
    CHECK(res.fails > 0);
    CHECK_STR_CONTAINS(res.out, "checks=");
}

HARNESS_MAIN(RUN(guest_checks_pass); RUN(no_ctx_is_an_error_not_a_crash);)
