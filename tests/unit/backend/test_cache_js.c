/* test_cache_js.c: the cache from the JavaScript SDK (tests/guests/js/be_cache_js.js, built with
 * the pinned @fastly/js-compute): SimpleCache.getOrSet, CoreCache insert/lookup/transactionLookup
 * across requests (each its own instance: only the shared cache connects them), fetch with a
 * CacheOverride against the counting test origin, and fetch through the HTTP cache API with
 * afterSend hooks (tests/guests/js-http-cache/cache_hooks.js, built with --enable-http-cache). */
#include "be_server.h"
#include "harness.h"
#include "origin.h"

#define GUEST "build/guests/js/be_cache_js.wasm"

#define GUEST_HOOKS "build/guests/js-http-cache/cache_hooks.wasm"

static origin *org;
static be_srv *srv;
static be_srv *hooks; /* the guest built with --enable-http-cache */

static int get_from(be_srv *s, const char *target, const char *headers, char *body, size_t cap,
                    hc_resp *keep)
{
    hc_resp r;
    memset(&r, 0, sizeof r);
    int st = be_request(s->port, "GET", target, headers, NULL, 0, &r, true);
    snprintf(body, cap, "%s", r.body ? (const char *)r.body : "");
    if (keep)
        *keep = r;
    else
        hc_resp_free(&r);
    return st;
}

static int get(const char *target, const char *headers, char *body, size_t cap, hc_resp *keep)
{
    return get_from(srv, target, headers, body, cap, keep);
}

TEST(simple_cache_get_or_set)
{
    char body[256];
    CHECK_EQ_INT(get("/simple?key=a", "x-value: first\r\n", body, sizeof body, NULL), 200);
    CHECK_STR_EQ(body, "first");
    /* another request (a fresh instance): the stored value, not the new one */
    CHECK_EQ_INT(get("/simple?key=a", "x-value: second\r\n", body, sizeof body, NULL), 200);
    CHECK_STR_EQ(body, "first");
    CHECK_EQ_INT(get("/simple?key=b", "x-value: second\r\n", body, sizeof body, NULL), 200);
    CHECK_STR_EQ(body, "second");
    /* covers: fastly_purge.purge_surrogate_key */
    CHECK_EQ_INT(get("/simple-purge?key=a", NULL, body, sizeof body, NULL), 200);
    CHECK_STR_EQ(body, "purged");
    CHECK_EQ_INT(get("/simple?key=a", "x-value: third\r\n", body, sizeof body, NULL), 200);
    CHECK_STR_EQ(body, "third");
    CHECK_EQ_INT(get("/simple?key=b", "x-value: fourth\r\n", body, sizeof body, NULL), 200);
    CHECK_STR_EQ(body, "second"); /* untouched */
    CHECK_EQ_INT(get("/simple-purge?key=b&scope=pop", NULL, body, sizeof body, NULL), 200);
    CHECK_EQ_INT(get("/simple?key=b", "x-value: fifth\r\n", body, sizeof body, NULL), 200);
    CHECK_STR_EQ(body, "fifth");
}

TEST(core_cache)
{
    /* covers: fastly_cache.insert, fastly_cache.lookup, fastly_cache.transaction_lookup */
    char body[256];
    CHECK_EQ_INT(get("/core-lookup?key=c1", NULL, body, sizeof body, NULL), 200);
    CHECK_STR_EQ(body, "miss");
    CHECK_EQ_INT(get("/core-insert?key=c1", "x-value: v1\r\n", body, sizeof body, NULL), 200);
    CHECK_EQ_INT(get("/core-lookup?key=c1", NULL, body, sizeof body, NULL), 200);
    CHECK_STR_EQ(body, "hit:v1");
    CHECK_EQ_INT(get("/core-txn?key=t1", "x-value: tv\r\n", body, sizeof body, NULL), 200);
    CHECK_STR_EQ(body, "inserted");
    CHECK_EQ_INT(get("/core-txn?key=t1", "x-value: other\r\n", body, sizeof body, NULL), 200);
    CHECK_STR_EQ(body, "found:tv");
}

TEST(fetch_with_cache_override)
{
    /* covers: fastly_http_req.cache_override_v2_set */
    char body[256];
    origin_reset_counts(org);
    const char *t = "/fetch?path=/status/200%3Fcache%3D1%26body%3Djs&mode=override";
    hc_resp r;
    CHECK_EQ_INT(get(t, NULL, body, sizeof body, &r), 200);
    CHECK_STR_EQ(body, "js");
    CHECK_STR_EQ(hc_header(&r, "x-got-cache"), "MISS");
    hc_resp_free(&r);
    CHECK_EQ_INT(get(t, NULL, body, sizeof body, &r), 200);
    CHECK_STR_EQ(body, "js");
    CHECK_STR_EQ(hc_header(&r, "x-got-cache"), "HIT");
    hc_resp_free(&r);
    CHECK_EQ_U64(origin_requests(org), 1);
    CHECK(be_srv_log_has(srv, "stored for 60 s"));
    /* pass: every request reaches the origin */
    const char *p = "/fetch?path=/status/200%3Fcache%3D1%26body%3Dpass&mode=pass";
    CHECK_EQ_INT(get(p, NULL, body, sizeof body, NULL), 200);
    CHECK_EQ_INT(get(p, NULL, body, sizeof body, NULL), 200);
    CHECK_STR_EQ(body, "pass");
    CHECK_EQ_U64(origin_requests(org), 3);
}

TEST(fetch_through_the_http_cache_api)
{
    /* covers: fastly_http_cache.transaction_lookup */
    /* covers: fastly_http_cache.transaction_insert_and_stream_back */
    CHECK(hooks != NULL);
    if (!hooks)
        return;
    char body[256];
    hc_resp r;
    origin_reset_counts(org);
    const char *plain = "/fetch?mode=plain&path=/status/"
                        "200%3Fcache%3D1%26h%3DCache-Control:max-age%253D60%26body%3Dh1";
    CHECK_EQ_INT(get_from(hooks, plain, NULL, body, sizeof body, NULL), 200);
    CHECK_STR_EQ(body, "h1");
    CHECK_EQ_INT(get_from(hooks, plain, NULL, body, sizeof body, &r), 200);
    CHECK_STR_EQ(body, "h1");
    CHECK_STR_EQ(hc_header(&r, "x-cached"), "true");
    hc_resp_free(&r);
    CHECK_EQ_U64(origin_requests(org), 1);
    /* afterSend edits the stored response and its TTL */
    const char *h = "/fetch?mode=hooks&path=/status/200%3Fcache%3D1%26body%3Dh2";
    CHECK_EQ_INT(get_from(hooks, h, NULL, body, sizeof body, NULL), 200);
    CHECK_EQ_INT(get_from(hooks, h, NULL, body, sizeof body, &r), 200);
    CHECK_STR_EQ(body, "h2");
    CHECK_STR_EQ(hc_header(&r, "x-after"), "yes");
    /* the TTL left: 120 s less the (small) age */
    const char *ttl = hc_header(&r, "x-ttl");
    double left = ttl ? strtod(ttl, NULL) : 0;
    CHECK(left > 100 && left <= 120);
    CHECK(
        be_srv_log_has(hooks, "http cache HIT: GET http://origin.test/status/200?cache=1&body=h2"));
    hc_resp_free(&r);
    CHECK_EQ_U64(origin_requests(org), 2);
    /* afterSend says uncacheable: every request reaches the origin */
    const char *u = "/fetch?mode=uncacheable&path=/status/"
                    "200%3Fcache%3D1%26h%3DCache-Control:max-age%253D60%26body%3Du";
    CHECK_EQ_INT(get_from(hooks, u, NULL, body, sizeof body, NULL), 200);
    CHECK_EQ_INT(get_from(hooks, u, NULL, body, sizeof body, NULL), 200);
    CHECK_STR_EQ(body, "u");
    CHECK_EQ_U64(origin_requests(org), 4);
}

int main(int argc, char **argv)
{
    (void)argc;
    org = origin_start(NULL, NULL);
    if (!org)
        return 1;
    const char *be[] = {be_fmt("origin=127.0.0.1:%u", origin_port(org)), NULL};
    srv = be_srv_start(GUEST, be);
    if (!srv) {
        origin_stop(org);
        return 1;
    }
    hooks = be_srv_start(GUEST_HOOKS, be);
    RUN(simple_cache_get_or_set);
    RUN(core_cache);
    RUN(fetch_with_cache_override);
    RUN(fetch_through_the_http_cache_api);
    be_srv_stop(hooks);
    be_srv_stop(srv);
    origin_stop(org);
    return harness_finish(argv[0]);
}
