/* test_geo.c: the geolocation data (config/cfg_geo.c, cfg_geo_mmdb.c): the record the lookup
 * returns (every field, sorted keys, shortest numbers, the default), entries added one by one (as
 * fastly.toml's), a MaxMind database built at test time (geo_mmdb.h), utc_offset from zoneinfo,
 * and the ISO alpha-3 table against Debian's iso-codes when installed. */
#include "config/cfg_edge.h"
#include "config/cfg_geo.h"
#include "config/cfg_geo_mmdb.h"
#include "geo_mmdb.h"
#include "harness.h"
#include "tmp_files.h"

#include <arpa/inet.h>
#include <jansson.h>
#include <stdlib.h>

static char *record(const cfg_geo *geo, const char *ip)
{
    uint8_t a[16];
    uint8_t fam = strchr(ip, ':') ? 6 : 4;
    char *out = NULL;
    if (inet_pton(fam == 4 ? AF_INET : AF_INET6, ip, a) == 1 &&
        cfg_geo_record(geo, fam, a, &out) == CFG_OK && out)
        return out;
    free(out);
    return NULL;
}

/* The default record parses as JSON with exactly the 18 fields, and numbers print shortest. */
TEST(record_format)
{
    json_error_t je;
    json_t *d = json_loads(cfg_geo_default_json, 0, &je);
    CHECK(json_is_object(d));
    CHECK_EQ_INT(json_object_size(d), 18);
    CHECK_STR_EQ(json_string_value(json_object_get(d, "city")), "San Francisco");
    CHECK_EQ_INT(json_integer_value(json_object_get(d, "utc_offset")), -700);
    json_decref(d);
    char *r = record(NULL, "127.0.0.1");
    CHECK_STR_EQ(r, cfg_geo_default_json);
    free(r);

    cfg_edge edge;
    cfg_edge_init(&edge);
    char err[512] = "";
    const char *p = write_file("geo_num.json", "{\"192.0.2.0/24\": {\"latitude\": 37.77869, "
                                               "\"longitude\": -122.39557, \"metro_code\": 807, "
                                               "\"nested\": {\"b\": 1, \"a\": [true, null]}}}");
    CHECK_EQ_INT(cfg_edge_set_geo(&edge, p, err, sizeof err), CFG_OK);
    r = record(edge.geo, "192.0.2.77");
    CHECK_STR_CONTAINS(r, "\"latitude\":37.77869,\"longitude\":-122.39557,\"metro_code\":807,"
                          "\"nested\":{\"a\":[true,null],\"b\":1},\"postal_code\":\"\"");
    free(r);
    cfg_edge_deinit(&edge);
}

/* -geo FILE.mmdb: City/ASN/connection fields mapped to Fastly's names; unknown addresses get the
 * default; the database is shared by copies of the configuration (cfg_edge_clone). */
TEST(mmdb)
{
    const char *path = tmp_path("test.mmdb");
    if (!geo_mmdb_make(path)) {
        CHECK(!"the test database could not be built");
        return;
    }
    cfg_edge edge, copy;
    cfg_edge_init(&edge);
    char err[512] = "";
    CHECK_EQ_INT(cfg_edge_set_geo(&edge, path, err, sizeof err), CFG_OK);
    CHECK(edge.geo && edge.geo->mmdb && edge.geo->count == 0);
    CHECK_STR_EQ(edge.geo ? edge.geo->mmdb_path : NULL, path);
    CHECK_EQ_INT(cfg_edge_clone(&copy, &edge, err, sizeof err), CFG_OK);
    cfg_edge_deinit(&edge); /* the copy keeps the database open */
    char *r = record(copy.geo, "81.2.69.160");
    CHECK_STR_EQ(r, GEO_MMDB_LONDON);
    free(r);
    r = record(copy.geo, "216.160.83.58");
    CHECK_STR_EQ(r, GEO_MMDB_MILTON);
    free(r);
    r = record(copy.geo, "2a02:ff40::1");
    CHECK_STR_EQ(r, GEO_MMDB_MUMBAI);
    free(r);
    r = record(copy.geo, "8.8.8.8");
    CHECK_STR_EQ(r, cfg_geo_default_json);
    free(r);
    r = record(copy.geo, "::1");
    CHECK_STR_EQ(r, cfg_geo_default_json);
    free(r);
    cfg_edge_deinit(&copy);

    /* not a database; a missing file */
    const char *bad = write_file("bad.mmdb", "{\"not\": \"mmdb\"}");
    cfg_edge_init(&edge);
    CHECK_EQ_INT(cfg_edge_set_geo(&edge, bad, err, sizeof err), CFG_ERR_JSON);
    CHECK_STR_CONTAINS(err, "bad.mmdb: not a valid MaxMind database (.mmdb)");
    CHECK(edge.geo == NULL);
    CHECK_EQ_INT(cfg_edge_set_geo(&edge, tmp_path("missing.MMDB"), err, sizeof err), CFG_ERR_FILE);
    CHECK_STR_CONTAINS(err, "missing.MMDB: cannot read the file: No such file or directory");
    cfg_edge_deinit(&edge);
}

/* utc_offset from the zoneinfo files, with and without daylight saving time. */
TEST(utc_offset)
{
    const long long july = 1782907200, january = 1768478400; /* 2026-07-01, 2026-01-15 12:00 UTC */
    int off = 12345;
    CHECK(cfg_geo_utc_offset("Europe/London", july, &off));
    CHECK_EQ_INT(off, 100);
    CHECK(cfg_geo_utc_offset("Europe/London", january, &off));
    CHECK_EQ_INT(off, 0);
    CHECK(cfg_geo_utc_offset("America/Los_Angeles", july, &off));
    CHECK_EQ_INT(off, -700);
    CHECK(cfg_geo_utc_offset("America/Los_Angeles", january, &off));
    CHECK_EQ_INT(off, -800);
    CHECK(cfg_geo_utc_offset("Asia/Kolkata", july, &off));
    CHECK_EQ_INT(off, 530);
    CHECK(cfg_geo_utc_offset("America/St_Johns", january, &off));
    CHECK_EQ_INT(off, -330);
    CHECK(cfg_geo_utc_offset("Asia/Tokyo", 2382480000LL, &off)); /* 2045: past 32-bit times */
    CHECK_EQ_INT(off, 900);
    off = 12345;
    CHECK(!cfg_geo_utc_offset("No/Such_Zone", july, &off));
    CHECK(!cfg_geo_utc_offset("../../etc/passwd", july, &off));
    CHECK(!cfg_geo_utc_offset("/etc/localtime", july, &off));
    CHECK(!cfg_geo_utc_offset("", july, &off));
    CHECK_EQ_INT(off, 12345);
}

/* Every alpha-2 code of ISO 3166-1 (Debian's iso-codes) maps to its alpha-3 code. */
TEST(country_code3_table)
{
    char cc3[4];
    CHECK(cfg_geo_country_code3("US", cc3));
    CHECK_STR_EQ(cc3, "USA");
    CHECK(cfg_geo_country_code3("XK", cc3));
    CHECK_STR_EQ(cc3, "XKX");
    CHECK(!cfg_geo_country_code3("ZZ", cc3));
    CHECK(!cfg_geo_country_code3("USA", cc3));
    json_error_t je;
    json_t *iso = json_load_file("/usr/share/iso-codes/json/iso_3166-1.json", 0, &je);
    if (!iso) {
        printf("country_code3_table: iso-codes not installed, table not cross-checked\n");
        return;
    }
    json_t *list = json_object_get(iso, "3166-1");
    size_t i, agree = 0;
    json_t *c;
    json_array_foreach(list, i, c)
    {
        const char *a2 = json_string_value(json_object_get(c, "alpha_2"));
        const char *a3 = json_string_value(json_object_get(c, "alpha_3"));
        if (a2 && a3 && cfg_geo_country_code3(a2, cc3) && strcmp(cc3, a3) == 0)
            agree++;
        else
            CHECK_STR_EQ(a2, "(has a wrong or missing alpha-3)");
    }
    CHECK(agree >= 249);
    CHECK_EQ_INT(agree, json_array_size(list));
    json_decref(iso);
}

/* cfg_geo_add: what fastly.toml's inline addresses use. */
TEST(add_entries)
{
    cfg_geo geo = {.use_default_loopback = true};
    char err[512] = "";
    CHECK_EQ_INT(
        cfg_geo_add(&geo, "127.0.0.1", "{\"city\": \"Home\", \"as_number\": 1}", err, sizeof err),
        CFG_OK);
    CHECK_EQ_INT(cfg_geo_add(&geo, "2001:db8::/32", "{\"city\": \"Six\"}", err, sizeof err),
                 CFG_OK);
    CHECK_EQ_INT(cfg_geo_add(&geo, "10.0.0.300", "{}", err, sizeof err), CFG_ERR_VALUE);
    CHECK_STR_CONTAINS(err, "\"10.0.0.300\" is not an IP address or CIDR prefix");
    CHECK_EQ_INT(cfg_geo_add(&geo, "10.0.0.1", "[1]", err, sizeof err), CFG_ERR_JSON);
    CHECK_STR_CONTAINS(err, "\"10.0.0.1\": expected a location object");
    CHECK_EQ_INT(cfg_geo_add(&geo, "10.0.0.1", "{\"latitude\": \"1\"}", err, sizeof err),
                 CFG_ERR_JSON);
    CHECK_STR_CONTAINS(err, "\"latitude\" must be a number");
    CHECK_EQ_INT(geo.count, 2);
    char *r = record(&geo, "127.0.0.1");
    CHECK_STR_CONTAINS(r, "\"as_number\":1,\"city\":\"Home\",");
    free(r);
    r = record(&geo, "127.0.0.2"); /* loopback, unknown: the default */
    CHECK_STR_EQ(r, cfg_geo_default_json);
    free(r);
    geo.use_default_loopback = false;
    char *none = (char *)"x";
    const uint8_t a[4] = {127, 0, 0, 2};
    CHECK_EQ_INT(cfg_geo_record(&geo, 4, a, &none), CFG_OK);
    CHECK(none == NULL);
    cfg_geo_deinit(&geo);
}

int main(int argc, char **argv)
{
    (void)argc;
    if (!tmp_dir_create("fastlike-geo"))
        return 1;
    RUN(record_format);
    RUN(add_entries);
    RUN(mmdb);
    RUN(utc_offset);
    RUN(country_code3_table);
    tmp_dir_remove();
    return harness_finish(argv[0]);
}
