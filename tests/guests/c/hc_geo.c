/* hc_geo.c: test guest for fastly_geo.lookup. Run by tests/unit/hostcalls/test_hc_geo.c with
 * argv[1] naming the server's geolocation data: "table" (the JSON table that test writes), "none"
 * (no data: the default record for every address) or "noloop" (a table with use_default_loopback
 * false: no record for addresses it lacks). */
#include "hc_check.h"

/* Viceroy's default record, as the lookup must return it byte for byte. */
#define DEFAULT_JSON                                                                               \
    "{\"area_code\":415,\"as_name\":\"Fastly, Inc\",\"as_number\":54113,\"city\":\"San "           \
    "Francisco\",\"conn_speed\":\"broadband\",\"conn_type\":\"wired\",\"continent\":\"NA\","       \
    "\"country_code\":\"US\",\"country_code3\":\"USA\",\"country_name\":\"United States of "       \
    "America\",\"latitude\":37.77869,\"longitude\":-122.39557,\"metro_code\":0,\"postal_code\":"   \
    "\"94107\",\"proxy_description\":\"?\",\"proxy_type\":\"?\",\"region\":\"CA\",\"utc_offset\":" \
    "-700}"

/* The table's 10.0.0.0/8 entry with every absent field filled in, keys sorted. */
#define TEN_JSON                                                                                   \
    "{\"area_code\":0,\"as_name\":\"Example AS\",\"as_number\":64500,\"city\":\"Ten\","            \
    "\"conn_speed\":\"\",\"conn_type\":\"\",\"continent\":\"\",\"country_code\":\"XX\","           \
    "\"country_code3\":\"\",\"country_name\":\"\",\"latitude\":1.5,\"longitude\":-0.25,"           \
    "\"metro_code\":0,\"postal_code\":\"\",\"proxy_description\":\"\",\"proxy_type\":\"\","        \
    "\"region\":\"\",\"utc_offset\":0}"

/* 10.1.2.0/24: more specific than /8; extra fields pass through, in key order. */
#define NARROW_JSON                                                                                \
    "{\"area_code\":0,\"as_name\":\"\",\"as_number\":0,\"city\":\"Narrow\",\"conn_speed\":\"\","   \
    "\"conn_type\":\"\",\"continent\":\"\",\"country_code\":\"\",\"country_code3\":\"\","          \
    "\"country_name\":\"\",\"gmt_offset\":\"+0100\",\"latitude\":51.0,\"longitude\":0,"            \
    "\"metro_code\":0,\"postal_code\":\"\",\"proxy_description\":\"\",\"proxy_type\":\"\","        \
    "\"region\":\"\",\"utc_offset\":100}"

#define SIX_JSON                                                                                   \
    "{\"area_code\":0,\"as_name\":\"\",\"as_number\":0,\"city\":\"Six\",\"conn_speed\":\"\","      \
    "\"conn_type\":\"\",\"continent\":\"EU\",\"country_code\":\"\",\"country_code3\":\"\","        \
    "\"country_name\":\"\",\"latitude\":0,\"longitude\":0,\"metro_code\":0,\"postal_code\":\"\","  \
    "\"proxy_description\":\"\",\"proxy_type\":\"\",\"region\":\"\",\"utc_offset\":0}"

static char buf[2048];
static size_t nw;

static const uint8_t ten[4] = {10, 9, 8, 7}, narrow[4] = {10, 1, 2, 200};
static const uint8_t google[4] = {8, 8, 8, 8}, loop4[4] = {127, 0, 0, 1};
static const uint8_t six[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 5};
static const uint8_t loop6[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};

static int lookup(const uint8_t *addr, size_t len)
{
    nw = 0xdead;
    return fastly_geo_lookup((const char *)addr, len, buf, sizeof buf, &nw);
}

#define EXPECT_RECORD(addr, len, want)                                                             \
    do {                                                                                           \
        EXPECT_ST(lookup((addr), (len)), ST_OK);                                                   \
        EXPECT_BYTES(buf, nw, want);                                                               \
    } while (0)

int main(int argc, char **argv)
{
    const char *mode = argc > 1 ? argv[1] : "";
    /* covers: fastly_geo.lookup */
    if (strcmp(mode, "table") == 0) {
        EXPECT_RECORD(ten, 4, TEN_JSON);
        EXPECT_RECORD(narrow, 4, NARROW_JSON);
        EXPECT_RECORD(six, 16, SIX_JSON);
        /* neither in the table: the default record, loopback or not */
        EXPECT_RECORD(google, 4, DEFAULT_JSON);
        EXPECT_RECORD(loop4, 4, DEFAULT_JSON);
        EXPECT_RECORD(loop6, 16, DEFAULT_JSON);
    } else if (strcmp(mode, "none") == 0) {
        EXPECT_RECORD(ten, 4, DEFAULT_JSON);
        EXPECT_RECORD(loop4, 4, DEFAULT_JSON);
        EXPECT_RECORD(six, 16, DEFAULT_JSON);
    } else if (strcmp(mode, "noloop") == 0) {
        EXPECT_RECORD(ten, 4, TEN_JSON);
        /* no record: ok with nothing written, as Viceroy (the JS SDK reads it as null) */
        EXPECT_RECORD(loop4, 4, "");
        EXPECT_RECORD(google, 4, "");
    } else {
        printf("FAIL unknown mode '%s'\n", mode);
        hc_fails++;
    }

    /* a buffer too small: buflen with the needed size, nothing else written */
    const uint8_t *addr = strcmp(mode, "noloop") == 0 ? ten : google;
    size_t need = strcmp(mode, "noloop") == 0 ? sizeof TEN_JSON - 1 : sizeof DEFAULT_JSON - 1;
    if (strcmp(mode, "table") == 0)
        need = sizeof DEFAULT_JSON - 1;
    memset(buf, 'z', sizeof buf);
    nw = 0;
    EXPECT_ST(fastly_geo_lookup((const char *)addr, 4, buf, 10, &nw), ST_BUFLEN);
    EXPECT_INT(nw, need);
    EXPECT(buf[0] == 'z');
    /* exactly the size fits */
    EXPECT_ST(fastly_geo_lookup((const char *)addr, 4, buf, need, &nw), ST_OK);
    EXPECT_INT(nw, need);

    /* addresses of other lengths are inval: 0, 3, 5, 15, 17 */
    static const size_t bad_lens[] = {0, 3, 5, 15, 17};
    for (size_t i = 0; i < sizeof bad_lens / sizeof *bad_lens; i++)
        EXPECT_ST(fastly_geo_lookup((const char *)six, bad_lens[i], buf, sizeof buf, &nw),
                  ST_INVAL);
    /* bad pointers: the address, the buffer, the out-parameter */
    EXPECT_ST(fastly_geo_lookup(BAD_PTR, 4, buf, sizeof buf, &nw), ST_INVAL);
    EXPECT_ST(fastly_geo_lookup((const char *)ten, 4, BAD_PTR, sizeof buf, &nw), ST_INVAL);
    EXPECT_ST(fastly_geo_lookup((const char *)ten, 4, buf, sizeof buf, BAD_PTR), ST_INVAL);
    EXPECT_ST(fastly_geo_lookup((const char *)ten, 4, buf, sizeof buf, MISALIGNED), ST_BADALIGN);
    /* the address may share memory with the output */
    memcpy(buf, ten, 4);
    EXPECT_ST(fastly_geo_lookup(buf, 4, buf, sizeof buf, &nw), ST_OK);
    EXPECT(nw > 4 && buf[0] == '{');
    return hc_done();
}
