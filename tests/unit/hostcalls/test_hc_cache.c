/* test_hc_cache.c: fastly_cache and fastly_purge through the guest tests/guests/c/hc_cache.c, run
 * in-process against a fresh shared cache; then the cache's state as the store sees it. */
#include "harness.h"
#include "hc_guest_run.h"
#include "hostcalls/hc_cache_store.h"

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
    CHECK(run_guest("hc_cache", "", e->ctx, &res));
    if (res.fails != 0)
        fprintf(stderr, "%s", res.out);
    CHECK(guest_exited(&res, 0));
    CHECK(res.checks > 150);
    printf("guest: %d checks\n", res.checks);
    CHECK_EQ_INT(res.fails, 0);
    hc_env_free(e);
    /* what the guest left behind is in the store, readable by another request */
    hc_cache_obj *o = hc_cache_lookup(c, (const uint8_t *)"txn2", 4, NULL);
    CHECK(o != NULL);
    if (o) {
        uint8_t buf[8];
        CHECK_EQ_INT(hc_cache_body_read(o, 0, buf, sizeof buf), 3);
        CHECK(memcmp(buf, "two", 3) == 0);
    }
    hc_cache_obj_release(o);
    /* the abandoned and failed inserts are not */
    CHECK(hc_cache_lookup(c, (const uint8_t *)"abandoned", 9, NULL) == NULL);
    hc_cache_free(c);
}

HARNESS_MAIN(RUN(guest);)
