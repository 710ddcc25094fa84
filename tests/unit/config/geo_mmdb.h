/* geo_mmdb.h: builds the geolocation tests' MaxMind database at test time with
 * tests/unit/config/geo_test_mmdb.pl (libmaxmind-db-writer-perl, installed by scripts/deps.sh),
 * and the records Fastlike must return for its addresses. Header-only. */
#ifndef GEO_MMDB_H
#define GEO_MMDB_H

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Writes the database to path; false (with the reason on stderr) when perl or the writer module is
 * missing or the script failed. */
static inline bool geo_mmdb_make(const char *path)
{
    if (strchr(path, '\'')) {
        fprintf(stderr, "geo_mmdb_make: unusable path %s\n", path);
        return false;
    }
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "perl tests/unit/config/geo_test_mmdb.pl '%s'", path);
    int rc = system(cmd);
    if (rc != 0)
        fprintf(stderr,
                "geo_mmdb_make: '%s' failed (%d): is libmaxmind-db-writer-perl installed "
                "(scripts/deps.sh)?\n",
                cmd, rc);
    return rc == 0;
}

/* 81.2.69.160: City, ASN and connection-type fields; country_code3 from the ISO table. */
#define GEO_MMDB_LONDON                                                                            \
    "{\"area_code\":0,\"as_name\":\"Andrews & Arnold Ltd\",\"as_number\":20712,\"city\":"          \
    "\"London\",\"conn_speed\":\"broadband\",\"conn_type\":\"wired\",\"continent\":\"EU\","        \
    "\"country_code\":\"GB\",\"country_code3\":\"GBR\",\"country_name\":\"United Kingdom\","       \
    "\"latitude\":51.5142,\"longitude\":-0.0931,\"metro_code\":0,\"postal_code\":\"EC2V\","        \
    "\"proxy_description\":\"?\",\"proxy_type\":\"?\",\"region\":\"ENG\",\"utc_offset\":0}"

/* 216.160.83.58: metro_code, an anonymous proxy, a time zone without daylight saving time. */
#define GEO_MMDB_MILTON                                                                            \
    "{\"area_code\":0,\"as_name\":\"\",\"as_number\":0,\"city\":\"Milton\",\"conn_speed\":\"\","   \
    "\"conn_type\":\"\",\"continent\":\"NA\",\"country_code\":\"US\",\"country_code3\":\"USA\","   \
    "\"country_name\":\"United States\",\"latitude\":47.2513,\"longitude\":-122.3149,"             \
    "\"metro_code\":819,\"postal_code\":\"98354\",\"proxy_description\":\"anonymous_proxy\","      \
    "\"proxy_type\":\"anonymous\",\"region\":\"WA\",\"utc_offset\":-700}"

/* 2a02:ff40::1: an IPv6 network; a half-hour UTC offset. */
#define GEO_MMDB_MUMBAI                                                                            \
    "{\"area_code\":0,\"as_name\":\"\",\"as_number\":0,\"city\":\"Mumbai\",\"conn_speed\":\"\","   \
    "\"conn_type\":\"\",\"continent\":\"AS\",\"country_code\":\"IN\",\"country_code3\":\"IND\","   \
    "\"country_name\":\"India\",\"latitude\":19.076,\"longitude\":72.8777,\"metro_code\":0,"       \
    "\"postal_code\":\"\",\"proxy_description\":\"?\",\"proxy_type\":\"?\",\"region\":\"MH\","     \
    "\"utc_offset\":530}"

#endif
