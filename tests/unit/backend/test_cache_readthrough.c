/* test_cache_readthrough.c: the readthrough cache end to end: a Fastlike server in-process with
 * the be_cache C guest, a test origin counting its requests. Hits with one origin request, Age,
 * what is not cached (private, no-store, Set-Cookie, uncacheable statuses, POST, pass), TTL
 * expiry (waiting for the condition, not sleeping a fixed time), Vary, overrides (TTL, pass,
 * surrogate key), purges (hard: next request misses; soft: stale served while one request
 * revalidates), stale-if-error, async sends, and 50 concurrent misses collapsing into one origin
 * request. */
#include "be_server.h"
#include "harness.h"
#include "origin.h"

#include "be_pattern.h"

#include <pthread.h>

#define GUEST "build/guests/be_cache.wasm"

static origin *org;

static be_srv *start(void)
{
    const char *be[] = {be_fmt("origin=127.0.0.1:%u", origin_port(org)), NULL};
    be_srv *s = be_srv_start(GUEST, be);
    CHECK(s != NULL);
    origin_reset_counts(org);
    return s;
}

/* GET target with extra header lines; returns the status, keeps the response in *r. */
static int get(be_srv *s, const char *target, const char *headers, hc_resp *r)
{
    memset(r, 0, sizeof *r);
    return be_request(s->port, "GET", target, headers, NULL, 0, r, true);
}

static int get_body(be_srv *s, const char *target, const char *headers, char *out, size_t cap)
{
    hc_resp r;
    int st = get(s, target, headers, &r);
    snprintf(out, cap, "%s", r.body ? (const char *)r.body : "");
    hc_resp_free(&r);
    return st;
}

TEST(hit_after_miss)
{
    /* covers: fastly_http_req.send */
    be_srv *s = start();
    if (!s)
        return;
    const char *t = "/status/200?cache=1&h=Cache-Control:max-age%3D60&body=cached-one";
    char body[256];
    CHECK_EQ_INT(get_body(s, t, NULL, body, sizeof body), 200);
    CHECK_STR_EQ(body, "cached-one");
    hc_resp r;
    CHECK_EQ_INT(get(s, t, NULL, &r), 200);
    CHECK_STR_EQ((char *)r.body, "cached-one");
    CHECK(hc_header(&r, "age") != NULL);
    CHECK_STR_EQ(hc_header(&r, "x-cache"), "HIT");
    CHECK_STR_EQ(hc_header(&r, "x-cache-hits"), "1");
    CHECK_STR_EQ(hc_header(&r, "cache-control"), "max-age=60");
    hc_resp_free(&r);
    CHECK_EQ_INT(get_body(s, t, NULL, body, sizeof body), 200);
    CHECK_EQ_U64(origin_requests(org), 1);
    CHECK(be_srv_log_has(s, "cache MISS: GET"));
    CHECK(be_srv_log_has(s, "cache HIT: GET"));
    CHECK(be_srv_log_has(s, "stored for 60 s"));
    /* no cache headers: cacheable status, default TTL */
    CHECK_EQ_INT(get_body(s, "/status/200?cache=1&body=default", NULL, body, sizeof body), 200);
    CHECK_EQ_INT(get_body(s, "/status/200?cache=1&body=default", NULL, body, sizeof body), 200);
    CHECK_EQ_U64(origin_requests(org), 2);
    CHECK(be_srv_log_has(s, "stored for 3600 s"));
    /* Surrogate-Control beats Cache-Control */
    CHECK_EQ_INT(
        get_body(s,
                 "/status/200?cache=1&h=Surrogate-Control:max-age%3D77&h=Cache-Control:max-age%3D5",
                 NULL, body, sizeof body),
        200);
    CHECK(be_srv_log_has(s, "stored for 77 s"));
    CHECK_EQ_INT(get_body(s, "/status/200?cache=1&h=Cache-Control:s-maxage%3D33,max-age%3D5", NULL,
                          body, sizeof body),
                 200);
    CHECK(be_srv_log_has(s, "stored for 33 s"));
    be_srv_stop(s);
}

/* Each target asked twice must reach the origin twice. */
static void not_cached(be_srv *s, const char *target, const char *headers, const char *method)
{
    uint64_t before = origin_requests(org);
    hc_resp r;
    for (int i = 0; i < 2; i++) {
        memset(&r, 0, sizeof r);
        be_request(s->port, method, target, headers, NULL, 0, &r, true);
        hc_resp_free(&r);
    }
    CHECK_EQ_U64(origin_requests(org) - before, 2);
}

TEST(not_cached_responses)
{
    be_srv *s = start();
    if (!s)
        return;
    not_cached(s, "/status/200?cache=1&h=Cache-Control:private,max-age%3D60", NULL, "GET");
    not_cached(s, "/status/200?cache=1&h=Cache-Control:no-store", NULL, "GET");
    not_cached(s, "/status/200?cache=1&h=Set-Cookie:a%3D1&h=Cache-Control:max-age%3D60", NULL,
               "GET");
    not_cached(s, "/status/500?cache=1&h=Cache-Control:max-age%3D60", NULL, "GET");
    not_cached(s, "/status/200?cache=1&h=Cache-Control:max-age%3D0", NULL, "GET");
    not_cached(s, "/status/200?cache=1&h=Vary:*", NULL, "GET");
    not_cached(s, "/echo/post?cache=1", NULL, "POST");
    not_cached(s, "/status/200?body=no-store-by-default", NULL, "GET");
    not_cached(s, "/status/200?cache=1&body=passed", "x-pass: 1\r\n", "GET");
    CHECK(be_srv_log_has(s, "not stored (Cache-Control: private): hit-for-pass"));
    CHECK(be_srv_log_has(s, "not stored (Set-Cookie)"));
    /* the override's TTL makes an uncacheable status cacheable */
    char body[64];
    get_body(s, "/status/503?cache=1&body=x", "x-ttl: 30\r\n", body, sizeof body);
    uint64_t before = origin_requests(org);
    get_body(s, "/status/503?cache=1&body=x", "x-ttl: 30\r\n", body, sizeof body);
    CHECK_EQ_U64(origin_requests(org), before);
    CHECK(be_srv_log_has(s, "stored for 30 s"));
    be_srv_stop(s);
}

TEST(ttl_expiry)
{
    be_srv *s = start();
    if (!s)
        return;
    /* one second of freshness left (max-age 2, Age 1): poll until a request misses again */
    const char *t = "/status/200?cache=1&h=Cache-Control:max-age%3D2&h=Age:1&body=short";
    char body[64];
    CHECK_EQ_INT(get_body(s, t, NULL, body, sizeof body), 200);
    CHECK_EQ_U64(origin_requests(org), 1);
    uint64_t deadline = be_now_ms() + 20000;
    while (origin_requests(org) < 2 && be_now_ms() < deadline) {
        CHECK_EQ_INT(get_body(s, t, NULL, body, sizeof body), 200);
        CHECK_STR_EQ(body, "short");
        usleep(20000);
    }
    CHECK_EQ_U64(origin_requests(org), 2);
    be_srv_stop(s);
}

TEST(vary)
{
    be_srv *s = start();
    if (!s)
        return;
    const char *t = "/status/200?cache=1&h=Vary:X-Lang&h=Cache-Control:max-age%3D60&body=v";
    char body[64];
    get_body(s, t, "X-Lang: en\r\n", body, sizeof body);
    get_body(s, t, "X-Lang: en\r\n", body, sizeof body);
    CHECK_EQ_U64(origin_requests(org), 1);
    get_body(s, t, "X-Lang: fr\r\n", body, sizeof body);
    CHECK_EQ_U64(origin_requests(org), 2);
    get_body(s, t, "X-Lang: fr\r\n", body, sizeof body);
    get_body(s, t, "X-Lang: en\r\n", body, sizeof body);
    CHECK_EQ_U64(origin_requests(org), 2);
    get_body(s, t, NULL, body, sizeof body);
    CHECK_EQ_U64(origin_requests(org), 3);
    be_srv_stop(s);
}

TEST(purge_and_soft_purge)
{
    /* covers: fastly_purge.purge_surrogate_key, fastly_http_req.cache_override_v2_set */
    be_srv *s = start();
    if (!s)
        return;
    const char *a =
        "/status/200?cache=1&h=Surrogate-Key:page%20all&h=Cache-Control:max-age%3D60&body=a";
    const char *b =
        "/status/200?cache=1&h=Cache-Control:max-age%3D60,stale-while-revalidate%3D60&body=b";
    char body[64];
    get_body(s, a, NULL, body, sizeof body);
    get_body(s, a, NULL, body, sizeof body);
    get_body(s, b, "x-sk: other\r\n", body, sizeof body);
    get_body(s, b, NULL, body, sizeof body);
    CHECK_EQ_U64(origin_requests(org), 2);
    CHECK_EQ_INT(get_body(s, "/purge", "x-purge: page\r\n", body, sizeof body), 200);
    CHECK(be_srv_log_has(s, "purge surrogate key 'page': 1 object"));
    get_body(s, a, NULL, body, sizeof body);
    CHECK_EQ_U64(origin_requests(org), 3); /* purged: a miss */
    get_body(s, b, NULL, body, sizeof body);
    CHECK_EQ_U64(origin_requests(org), 3); /* untouched */
    /* soft purge: the next request revalidates (one origin request), the object stays usable */
    CHECK_EQ_INT(get_body(s, "/purge", "x-purge: other\r\nx-soft: 1\r\n", body, sizeof body), 200);
    CHECK(be_srv_log_has(s, "purge (soft) surrogate key 'other': 1 object"));
    CHECK_EQ_INT(get_body(s, b, NULL, body, sizeof body), 200);
    CHECK_STR_EQ(body, "b");
    CHECK(be_srv_log_has(s, "revalidating in the background"));
    CHECK(log_wait_count(&s->log, "stored for 60 s", 4)); /* the background revalidation */
    CHECK_EQ_U64(origin_requests(org), 4);
    get_body(s, b, NULL, body, sizeof body);
    CHECK_EQ_U64(origin_requests(org), 4); /* fresh again */
    be_srv_stop(s);
}

TEST(stale_while_revalidate)
{
    be_srv *s = start();
    if (!s)
        return;
    /* stale on arrival (Age 5 > max-age 1) but within stale-while-revalidate */
    const char *t =
        "/status/"
        "200?cache=1&h=Cache-Control:max-age%3D1,stale-while-revalidate%3D60&h=Age:5&body=swr";
    char body[64];
    CHECK_EQ_INT(get_body(s, t, NULL, body, sizeof body), 200);
    CHECK_EQ_U64(origin_requests(org), 1);
    /* served the stale copy at once; the revalidation (with a TTL override, so its answer is
     * fresh) runs in the background */
    hc_resp r;
    CHECK_EQ_INT(get(s, t, "x-ttl: 100\r\n", &r), 200);
    CHECK_STR_EQ(r.body ? (char *)r.body : "", "swr");
    CHECK_STR_EQ(hc_header(&r, "x-cache"), "HIT");
    hc_resp_free(&r);
    CHECK(be_srv_log_has(s, "revalidating in the background"));
    CHECK(be_srv_log_has(s, "stored for 100 s"));
    CHECK_EQ_U64(origin_requests(org), 2);
    for (int i = 0; i < 3; i++) {
        CHECK_EQ_INT(get_body(s, t, NULL, body, sizeof body), 200);
        CHECK_STR_EQ(body, "swr");
    }
    CHECK_EQ_U64(origin_requests(org), 2); /* fresh again: hits */
    be_srv_stop(s);
}

TEST(conditional_revalidation)
{
    be_srv *s = start();
    if (!s)
        return;
    const char *t = "/status/"
                    "200?cache=1&etag=v1&h=Cache-Control:max-age%3D1,stale-while-revalidate%3D60&h="
                    "Age:5&body=etagged";
    char body[64];
    CHECK_EQ_INT(get_body(s, t, NULL, body, sizeof body), 200);
    /* stale: served at once; the background revalidation asks with If-None-Match and the
     * origin's 304 refreshes the stored response */
    CHECK_EQ_INT(get_body(s, t, "x-ttl: 100\r\n", body, sizeof body), 200);
    CHECK_STR_EQ(body, "etagged");
    CHECK(be_srv_log_has(s, "revalidated (304), fresh for 100 s"));
    char inm[64] = "";
    CHECK(origin_last_header(org, "If-None-Match", inm, sizeof inm));
    CHECK_STR_EQ(inm, "v1");
    CHECK_EQ_U64(origin_requests(org), 2);
    hc_resp r;
    CHECK_EQ_INT(get(s, t, NULL, &r), 200);
    CHECK_STR_EQ(r.body ? (char *)r.body : "", "etagged");
    CHECK_STR_EQ(hc_header(&r, "etag"), "v1");
    hc_resp_free(&r);
    CHECK_EQ_U64(origin_requests(org), 2);
    be_srv_stop(s);
}

TEST(async_send_and_overrides)
{
    be_srv *s = start();
    if (!s)
        return;
    char body[64];
    const char *t = "/status/200?cache=1&body=async";
    CHECK_EQ_INT(get_body(s, t, "x-async: 1\r\nx-ttl: 100\r\n", body, sizeof body), 200);
    CHECK_EQ_INT(get_body(s, t, "x-async: 1\r\n", body, sizeof body), 200);
    CHECK_STR_EQ(body, "async");
    CHECK_EQ_U64(origin_requests(org), 1);
    CHECK(be_srv_log_has(s, "stored for 100 s"));
    be_srv_stop(s);
}

TEST(stale_if_error)
{
    /* an origin of its own, stopped half-way */
    origin *o2 = origin_start(NULL, NULL);
    CHECK(o2 != NULL);
    if (!o2)
        return;
    const char *be[] = {be_fmt("origin=127.0.0.1:%u", origin_port(o2)), NULL};
    be_srv *s = be_srv_start(GUEST, be);
    CHECK(s != NULL);
    if (!s) {
        origin_stop(o2);
        return;
    }
    /* stale at once (Age 10 > max-age 1), usable only if the origin fails, for 60 s */
    const char *t =
        "/status/200?cache=1&h=Cache-Control:max-age%3D1,stale-if-error%3D60&h=Age:10&body=old";
    char body[64];
    CHECK_EQ_INT(get_body(s, t, NULL, body, sizeof body), 200);
    CHECK_EQ_U64(origin_requests(o2), 1);
    origin_stop(o2);
    hc_resp r;
    CHECK_EQ_INT(get(s, t, NULL, &r), 200);
    CHECK_STR_EQ(r.body ? (char *)r.body : "", "old");
    hc_resp_free(&r);
    CHECK(be_srv_log_has(s, "serving stale (stale-if-error)"));
    /* a URL never cached has nothing to fall back on: the send fails, as for any unreachable
     * backend (the proxy guest answers that with 503) */
    CHECK_EQ_INT(get_body(s, "/status/200?cache=1&body=new", NULL, body, sizeof body), 503);
    be_srv_stop(s);
}

static void no_cache_hook(fastlike_config *c, void *user)
{
    (void)user;
    fastlike_config_set_cache_size(c, 0);
}

TEST(cache_size_zero_keeps_nothing)
{
    const char *be[] = {be_fmt("origin=127.0.0.1:%u", origin_port(org)), NULL};
    be_srv *s = be_srv_start_with(GUEST, be, no_cache_hook, NULL);
    CHECK(s != NULL);
    if (!s)
        return;
    origin_reset_counts(org);
    char body[64];
    const char *t = "/status/200?cache=1&h=Cache-Control:max-age%3D60&body=z";
    CHECK_EQ_INT(get_body(s, t, NULL, body, sizeof body), 200);
    CHECK_EQ_INT(get_body(s, t, NULL, body, sizeof body), 200);
    CHECK_STR_EQ(body, "z");
    CHECK_EQ_U64(origin_requests(org), 2);
    be_srv_stop(s);
}

static void small_cache_hook(fastlike_config *c, void *user)
{
    (void)user;
    fastlike_config_set_cache_size(c, 64 * 1024);
}

TEST(too_big_for_the_cache)
{
    const char *be[] = {be_fmt("origin=127.0.0.1:%u", origin_port(org)), NULL};
    be_srv *s = be_srv_start_with(GUEST, be, small_cache_hook, NULL);
    CHECK(s != NULL);
    if (!s)
        return;
    origin_reset_counts(org);
    /* known length over half the cache: passed through; unknown (chunked): found out while
     * caching, then passed on whole */
    const char *targets[] = {"/big?cache=1&n=200000", "/big?cache=1&n=200000&chunked=1"};
    for (int i = 0; i < 2; i++) {
        for (int k = 0; k < 2; k++) {
            hc_resp r;
            memset(&r, 0, sizeof r);
            CHECK_EQ_INT(be_request(s->port, "GET", targets[i], NULL, NULL, 0, &r, true), 200);
            CHECK_EQ_INT(r.body_len, 200000);
            CHECK_EQ_INT(be_pattern_mismatches(0, r.body, r.body_len), 0);
            hc_resp_free(&r);
        }
    }
    CHECK_EQ_U64(origin_requests(org), 4);
    CHECK(be_srv_log_has(s, "too big for the cache"));
    be_srv_stop(s);
}

typedef struct herd {
    be_srv *s;
    int ok;
    pthread_mutex_t mu;
} herd;

static void *herd_client(void *arg)
{
    herd *h = arg;
    char body[64];
    int st =
        get_body(h->s, "/slow?cache=1&first=400&n=100&chunk=10&between=1", NULL, body, sizeof body);
    pthread_mutex_lock(&h->mu);
    h->ok += st == 200;
    pthread_mutex_unlock(&h->mu);
    return NULL;
}

TEST(collapsing)
{
    be_srv *s = start();
    if (!s)
        return;
    enum { N = 50 };
    herd h = {.s = s};
    pthread_mutex_init(&h.mu, NULL);
    pthread_t t[N];
    for (int i = 0; i < N; i++)
        pthread_create(&t[i], NULL, herd_client, &h);
    for (int i = 0; i < N; i++)
        pthread_join(t[i], NULL);
    CHECK_EQ_INT(h.ok, N);
    CHECK_EQ_U64(origin_requests(org), 1);
    CHECK_EQ_INT(log_count(&s->log, "cache MISS"), 1);
    pthread_mutex_destroy(&h.mu);
    be_srv_stop(s);
}

int main(int argc, char **argv)
{
    (void)argc;
    org = origin_start(NULL, NULL);
    if (!org) {
        fprintf(stderr, "cannot start the origin\n");
        return 1;
    }
    RUN(hit_after_miss);
    RUN(not_cached_responses);
    RUN(ttl_expiry);
    RUN(vary);
    RUN(purge_and_soft_purge);
    RUN(stale_while_revalidate);
    RUN(conditional_revalidation);
    RUN(async_send_and_overrides);
    RUN(stale_if_error);
    RUN(collapsing);
    RUN(cache_size_zero_keeps_nothing);
    RUN(too_big_for_the_cache);
    origin_stop(org);
    return harness_finish(argv[0]);
}
