/* test_hc_cache_policy.c: cacheability and TTL of backend responses (hc_cache_policy.c): the
 * precedence Surrogate-Control > s-maxage > max-age > Expires > default, what makes a response
 * uncacheable, SWR/SIE, Age, Vary, Surrogate-Key and the guest's overrides. */
#include "harness.h"
#include "hostcalls/hc_cache_policy.h"

#include <string.h>

#define S 1000000000ull

static hc_headers hs;

static void hdrs(const char *const *kv)
{
    hc_headers_deinit(&hs);
    hc_headers_init(&hs);
    for (size_t i = 0; kv && kv[i]; i += 2)
        hc_headers_append(&hs, kv[i], strlen(kv[i]), kv[i + 1], strlen(kv[i + 1]));
}

static hc_cache_policy decide(uint16_t status, const char *const *kv, const hc_cache_override *ov)
{
    hdrs(kv);
    hc_cache_policy p;
    hc_cache_policy_decide(status, &hs, ov, 1700000000, &p);
    return p;
}

TEST(ttl_precedence)
{
    hc_cache_policy p = decide(200, NULL, NULL);
    CHECK(p.cacheable);
    CHECK_EQ_U64(p.ttl_ns, 3600 * S);
    p = decide(200, (const char *[]){"Cache-Control", "public, max-age=60", NULL}, NULL);
    CHECK_EQ_U64(p.ttl_ns, 60 * S);
    p = decide(200, (const char *[]){"Cache-Control", "max-age=60, s-maxage=30", NULL}, NULL);
    CHECK_EQ_U64(p.ttl_ns, 30 * S);
    p = decide(200,
               (const char *[]){"Cache-Control", "s-maxage=30", "Surrogate-Control",
                                "max-age=\"90\", stale-while-revalidate=5", NULL},
               NULL);
    CHECK_EQ_U64(p.ttl_ns, 90 * S);
    CHECK_EQ_U64(p.swr_ns, 5 * S);
    p = decide(200,
               (const char *[]){"Date", "Tue, 14 Nov 2023 22:13:20 GMT", "Expires",
                                "Tue, 14 Nov 2023 22:15:20 GMT", NULL},
               NULL);
    CHECK(p.cacheable);
    CHECK_EQ_U64(p.ttl_ns, 120 * S);
    p = decide(200, (const char *[]){"Expires", "0", NULL}, NULL);
    CHECK(!p.cacheable); /* an invalid Expires is already expired */
    p = decide(
        200, (const char *[]){"Cache-Control", "max-age=10, stale-if-error=300", "Age", "4", NULL},
        NULL);
    CHECK(p.cacheable);
    CHECK_EQ_U64(p.initial_age_ns, 4 * S);
    CHECK_EQ_U64(p.sie_ns, 300 * S);
    p = decide(200, (const char *[]){"Cache-Control", "max-age=10", "Age", "20", NULL}, NULL);
    CHECK(!p.cacheable); /* older than its lifetime, no stale windows */
}

TEST(uncacheable)
{
    hc_cache_policy p = decide(200, (const char *[]){"Cache-Control", "private", NULL}, NULL);
    CHECK(!p.cacheable && p.hit_for_pass);
    p = decide(200, (const char *[]){"cache-control", "max-age=5, NO-STORE", NULL}, NULL);
    CHECK(!p.cacheable && p.hit_for_pass);
    p = decide(200, (const char *[]){"Set-Cookie", "a=1", NULL}, NULL);
    CHECK(!p.cacheable && p.hit_for_pass);
    p = decide(200, (const char *[]){"Vary", "*", NULL}, NULL);
    CHECK(!p.cacheable);
    for (uint16_t st = 100; st < 600; st++) {
        p = decide(st, NULL, NULL);
        bool want =
            st == 200 || st == 203 || st == 300 || st == 301 || st == 302 || st == 404 || st == 410;
        CHECK(p.cacheable == want);
        hc_cache_policy_deinit(&p);
    }
}

TEST(vary_keys_overrides)
{
    hc_cache_policy p = decide(200,
                               (const char *[]){"Vary", "Accept-Encoding,X-Lang", "Surrogate-Key",
                                                "a b", "surrogate-key", "c", NULL},
                               NULL);
    CHECK(strstr(p.vary, "Accept-Encoding") && strstr(p.vary, "X-Lang"));
    CHECK(p.surrogate_keys && strcmp(p.surrogate_keys, "a b c") == 0);
    hc_cache_policy_deinit(&p);
    hc_cache_override ov = {.set = true,
                            .tag = 2 | 4 | 8,
                            .ttl = 7,
                            .stale_while_revalidate = 9,
                            .surrogate_key = "ov",
                            .surrogate_key_len = 2};
    p = decide(500, (const char *[]){"Cache-Control", "max-age=100", NULL}, &ov);
    CHECK(p.cacheable); /* a TTL override makes any status cacheable */
    CHECK_EQ_U64(p.ttl_ns, 7 * S);
    CHECK_EQ_U64(p.swr_ns, 9 * S);
    CHECK(p.sensitive);
    CHECK(p.surrogate_keys && strcmp(p.surrogate_keys, "ov") == 0);
    hc_cache_policy_deinit(&p);
    p = decide(200, (const char *[]){"Cache-Control", "private", NULL}, &ov);
    CHECK(!p.cacheable); /* but not a private answer */
    hc_cache_policy_deinit(&p);
}

HARNESS_MAIN(RUN(ttl_precedence); RUN(uncacheable); RUN(vary_keys_overrides);
             hc_headers_deinit(&hs);)
