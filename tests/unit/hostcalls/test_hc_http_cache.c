/* test_hc_http_cache.c: fastly_http_cache through the guest tests/guests/c/hc_http_cache.c, run
 * in-process against a fresh shared cache; then what it stored, as the readthrough cache would
 * find it (same key: the SHA-256 of the URL). */
#include "harness.h"
#include "hc_guest_run.h"
#include "hostcalls/hc_cache_store.h"
#include "hostcalls/hc_http_cache.h"

static guest_result res;

TEST(guest)
{
    hc_env *e = hc_env_new();
    if (!e)
        return;
    hc_cache *c = hc_cache_new(0);
    e->settings.cache = c;
    if (!hc_env_ctx(e)) {
        hc_cache_free(c);
        free(e);
        return;
    }
    CHECK(run_guest("hc_http_cache", "", e->ctx, &res));
    if (res.fails != 0)
        fprintf(stderr, "%s", res.out);
    CHECK(guest_exited(&res, 0));
    CHECK(res.checks > 100);
    CHECK_EQ_INT(res.fails, 0);
    printf("guest: %d checks\n", res.checks);
    hc_env_free(e);
    uint8_t key[HC_HTTP_CACHE_KEY_LEN];
    hc_http_cache_suggested_key("http://example.com/page", key);
    hc_cache_obj *o = hc_cache_lookup(c, key, sizeof key, NULL);
    CHECK(o != NULL);
    if (o) {
        CHECK_EQ_INT(hc_cache_obj_status(o), 200);
        CHECK(hc_headers_get(hc_cache_obj_resp_headers(o), "etag", 4) != NULL);
    }
    hc_cache_obj_release(o);
    hc_cache_free(c);
}

HARNESS_MAIN(RUN(guest);)
