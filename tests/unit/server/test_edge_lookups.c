/* test_edge_lookups.c: geolocation, device detection and edge rate limiting end to end over HTTP:
 * the C guest tests/guests/c/srv_edge_lookups.c and the JS SDK guest
 * tests/guests/js/sdk_edge_lookups.js (event.client.geo, getGeolocationForIpAddress, Device,
 * EdgeRateLimiter, RateCounter, PenaltyBox) on servers configured as -geo (a JSON table, a MaxMind
 * database) and -device-detection do. Rate limits are exceeded by counts, never by timing: each
 * call adds 60 in a 60 s window with a limit of 5 per second, so the 6th call within a minute is
 * blocked however slow the machine. */
#include "config/cfg_geo.h"
#include "fastlike.h"
#include "harness.h"
#include "http_client.h"
#include "test_server.h"

#include "../config/tmp_files.h"
#include "../config/geo_mmdb.h"

#define C_GUEST "build/guests/srv_edge_lookups.wasm"
#define JS_GUEST "build/guests/js/sdk_edge_lookups.wasm"
#define UA_PHONE "Mozilla/5.0 (Linux; Android 14; Pixel 8) Mobile"

typedef struct edge_files {
    const char *geo;    /* -geo FILE, or NULL */
    const char *device; /* -device-detection FILE, or NULL */
} edge_files;

static fastlike_status edge_hook(fastlike_config *c, void *user, char *err, size_t errlen)
{
    const edge_files *f = user;
    fastlike_status st = FASTLIKE_OK;
    if (f->geo)
        st = fastlike_config_set_geo(c, f->geo, err, errlen);
    if (st == FASTLIKE_OK && f->device)
        st = fastlike_config_set_device_detection(c, f->device, err, errlen);
    return st;
}

static server *start(const char *guest, const char *geo, const char *device)
{
    edge_files f = {geo, device};
    return server_start_with(guest, edge_hook, &f);
}

/* GET target with an optional User-Agent; the body stays in r->body. */
static int get(server *s, const char *target, const char *ua, hc_resp *r)
{
    char request[1024];
    snprintf(request, sizeof request, "GET %s HTTP/1.1\r\nHost: edge.test\r\n%s%s%s\r\n", target,
             ua ? "User-Agent: " : "", ua ? ua : "", ua ? "\r\n" : "");
    memset(r, 0, sizeof *r);
    return simple_on(s->port, request, r, false);
}

/* The body of GET target, or "" (status in *status). */
static char *body_of(server *s, const char *target, const char *ua, int *status)
{
    static char text[4096];
    hc_resp r;
    *status = get(s, target, ua, &r);
    snprintf(text, sizeof text, "%s", r.body ? (const char *)r.body : "");
    hc_resp_free(&r);
    return text;
}

static const char *geo_table(void)
{
    return write_file("geo.json",
                      "{\"192.0.2.0/24\": {\"city\": \"Doc Town\", \"country_code\": \"ZZ\", "
                      "\"latitude\": 1.5, \"as_number\": 64496},\n"
                      " \"127.0.0.0/8\": {\"city\": \"Loopback\"}}\n");
}

static const char *device_file(void)
{
    return write_file("devices.json",
                      "{\"" UA_PHONE "\": {\"device\": {\"name\": \"Pixel 8\", \"brand\": "
                      "\"Google\", \"is_mobile\": true, \"is_tablet\": false}}}\n");
}

/* Sends /limited?who=who ten times: the first five pass, the rest get 429. */
static void expect_limited(server *s, const char *who)
{
    char target[128];
    snprintf(target, sizeof target, "/limited?who=%s", who);
    for (int i = 1; i <= 10; i++) {
        int status = 0;
        const char *body = body_of(s, target, NULL, &status);
        if (i <= 5) {
            CHECK_EQ_INT(status, 200);
            CHECK_STR_EQ(body, "ok\n");
        } else {
            CHECK_EQ_INT(status, 429);
            CHECK_STR_EQ(body, "blocked\n");
        }
    }
}

TEST(c_rate_limit)
{
    /* covers: fastly_erl.check_rate */
    server *s = start(C_GUEST, NULL, NULL);
    CHECK(s != NULL);
    if (!s)
        return;
    expect_limited(s, "1");
    /* at -v 1 the server log says why, for each call over the limit */
    CHECK(log_wait(&s->log, "rate limit: 'client-1' is over 5 per second in rate counter "
                            "'c-requests' (window 60 s): in penalty box 'c-blocked' for 1 min"));
    CHECK_EQ_INT(log_count(&s->log, "rate limit: 'client-1'"), 5); /* calls 6 to 10 */
    /* another client is counted on its own */
    int status = 0;
    CHECK_STR_EQ(body_of(s, "/limited?who=2", NULL, &status), "ok\n");
    CHECK_EQ_INT(status, 200);
    /* and a new server starts from nothing */
    server_stop(s);
    s = start(C_GUEST, NULL, NULL);
    CHECK(s != NULL);
    if (s)
        CHECK_STR_EQ(body_of(s, "/limited?who=1", NULL, &status), "ok\n");
    server_stop(s);
}

TEST(c_geo_and_device)
{
    /* covers: fastly_geo.lookup fastly_device_detection.lookup */
    int status = 0;
    server *s = start(C_GUEST, NULL, NULL);
    CHECK(s != NULL);
    if (s) {
        /* no data: the client (127.0.0.1) gets Viceroy's default record */
        CHECK_STR_EQ(body_of(s, "/geo", NULL, &status), cfg_geo_default_json);
        CHECK_EQ_INT(status, 200);
        CHECK_STR_EQ(body_of(s, "/device", UA_PHONE, &status), "none\n");
        CHECK_EQ_INT(status, 404);
    }
    server_stop(s);
    s = start(C_GUEST, geo_table(), device_file());
    CHECK(s != NULL);
    if (!s)
        return;
    const char *geo = body_of(s, "/geo", NULL, &status);
    CHECK_EQ_INT(status, 200);
    CHECK_STR_CONTAINS(geo, "\"city\":\"Loopback\"");
    CHECK_STR_CONTAINS(geo, "\"utc_offset\":0}");
    CHECK_STR_EQ(body_of(s, "/device", UA_PHONE, &status),
                 "{\"device\":{\"name\":\"Pixel 8\",\"brand\":\"Google\",\"is_mobile\":true,"
                 "\"is_tablet\":false}}");
    CHECK_EQ_INT(status, 200);
    CHECK_STR_EQ(body_of(s, "/device", "curl/8.4.0", &status), "none\n");
    CHECK_EQ_INT(status, 404);
    server_stop(s);
}

TEST(js_geo)
{
    /* covers: fastly_geo.lookup */
    int status = 0;
    char want[2048];
    server *s = start(JS_GUEST, NULL, NULL);
    CHECK(s != NULL);
    if (s) {
        /* event.client.geo is the default record, never null */
        snprintf(want, sizeof want, "%s\n", cfg_geo_default_json);
        CHECK_STR_EQ(body_of(s, "/client-geo", NULL, &status), want);
        CHECK_STR_EQ(body_of(s, "/geo?ip=203.0.113.9", NULL, &status), want);
        CHECK_STR_EQ(body_of(s, "/geo?ip=::1", NULL, &status), want);
        CHECK_STR_CONTAINS(body_of(s, "/geo?ip=not-an-ip", NULL, &status), "Invalid address");
        CHECK_EQ_INT(status, 500);
    }
    server_stop(s);

    s = start(JS_GUEST, geo_table(), NULL);
    CHECK(s != NULL);
    if (s) {
        CHECK_STR_EQ(body_of(s, "/geo?ip=192.0.2.200", NULL, &status),
                     "{\"area_code\":0,\"as_name\":\"\",\"as_number\":64496,\"city\":\"Doc Town\","
                     "\"conn_speed\":\"\",\"conn_type\":\"\",\"continent\":\"\",\"country_code\":"
                     "\"ZZ\",\"country_code3\":\"\",\"country_name\":\"\",\"latitude\":1.5,"
                     "\"longitude\":0,\"metro_code\":0,\"postal_code\":\"\",\"proxy_description\":"
                     "\"\",\"proxy_type\":\"\",\"region\":\"\",\"utc_offset\":0}\n");
        CHECK_EQ_INT(status, 200);
        CHECK_STR_CONTAINS(body_of(s, "/client-geo", NULL, &status), "\"city\":\"Loopback\"");
    }
    server_stop(s);

    const char *mmdb = tmp_path("edge.mmdb");
    if (!geo_mmdb_make(mmdb)) {
        CHECK(!"the test database could not be built");
        return;
    }
    s = start(JS_GUEST, mmdb, NULL);
    CHECK(s != NULL);
    if (s) {
        snprintf(want, sizeof want, "%s\n", GEO_MMDB_LONDON);
        CHECK_STR_EQ(body_of(s, "/geo?ip=81.2.69.160", NULL, &status), want);
        snprintf(want, sizeof want, "%s\n", GEO_MMDB_MUMBAI);
        CHECK_STR_EQ(body_of(s, "/geo?ip=2a02:ff40::1", NULL, &status), want);
        snprintf(want, sizeof want, "%s\n", cfg_geo_default_json);
        CHECK_STR_EQ(body_of(s, "/client-geo", NULL, &status), want);
    }
    server_stop(s);
}

TEST(js_device)
{
    /* covers: fastly_device_detection.lookup */
    int status = 0;
    server *s = start(JS_GUEST, NULL, device_file());
    CHECK(s != NULL);
    if (!s)
        return;
    CHECK_STR_EQ(body_of(s, "/device", UA_PHONE, &status),
                 "{\"name\":\"Pixel 8\",\"brand\":\"Google\",\"mobile\":true,\"tablet\":false}\n");
    CHECK_EQ_INT(status, 200);
    CHECK_STR_EQ(body_of(s, "/device", "curl/8.4.0", &status), "no device\n");
    CHECK_EQ_INT(status, 404);
    server_stop(s);
}

TEST(js_rate_limit)
{
    /* covers: fastly_erl.check_rate fastly_erl.ratecounter_increment */
    /* covers: fastly_erl.ratecounter_lookup_count fastly_erl.ratecounter_lookup_rate */
    /* covers: fastly_erl.penaltybox_add fastly_erl.penaltybox_has */
    int status = 0;
    server *s = start(JS_GUEST, NULL, NULL);
    CHECK(s != NULL);
    if (!s)
        return;
    expect_limited(s, "a");
    CHECK_STR_EQ(body_of(s, "/limited?who=b", NULL, &status), "ok\n");
    /* each call adds 3; counts over 10 and 60 s see both calls */
    body_of(s, "/counter?who=c", NULL, &status);
    CHECK_EQ_INT(status, 200);
    const char *body = body_of(s, "/counter?who=c", NULL, &status);
    CHECK_STR_CONTAINS(body, "\"count60\":6,");
    CHECK_STR_CONTAINS(body, "\"rate60\":0,"); /* 6 in 60 s: 0.1 per second, rounded down */
    CHECK_STR_CONTAINS(body, "\"other\":0}");
    CHECK_STR_EQ(body_of(s, "/penalty?who=p", NULL, &status),
                 "{\"before\":false,\"after\":true,\"other\":false}\n");
    CHECK_STR_EQ(body_of(s, "/penalty?who=p", NULL, &status),
                 "{\"before\":true,\"after\":true,\"other\":false}\n");
    server_stop(s);
}

int main(int argc, char **argv)
{
    (void)argc;
    if (!tmp_dir_create("fastlike-edge-lookups"))
        return 1;
    RUN(c_rate_limit);
    RUN(c_geo_and_device);
    RUN(js_geo);
    RUN(js_device);
    RUN(js_rate_limit);
    tmp_dir_remove();
    return harness_finish(argv[0]);
}
