/* cfg_geo_mmdb.h: a MaxMind database (.mmdb: GeoIP2/GeoLite2 City or Country, ASN, ISP,
 * Connection-Type, or a file merging them) as a geolocation source: opened once, shared by every
 * copy of the configuration (reference counted, lookups are thread-safe), and its fields mapped
 * onto the names of Fastly's geolocation JSON. */
#ifndef CFG_GEO_MMDB_H
#define CFG_GEO_MMDB_H

#include "config/cfg_status.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct cfg_geo_mmdb cfg_geo_mmdb;

/* Opens and checks the file. Errors: CFG_ERR_FILE (cannot read it), CFG_ERR_JSON (not a MaxMind
 * database), CFG_ERR_NOMEM; one line naming the file in err. */
cfg_status cfg_geo_mmdb_open(const char *path, cfg_geo_mmdb **out, char *err, size_t errlen);
/* Another reference to m (NULL stays NULL). */
cfg_geo_mmdb *cfg_geo_mmdb_ref(cfg_geo_mmdb *m);
/* Drops a reference; the database is closed with the last one. Accepts NULL. */
void cfg_geo_mmdb_unref(cfg_geo_mmdb *m);

/* Looks the address up (family 4 or 6; IPv4 also in IPv6 databases). On a hit returns true and
 * sets the Fastly fields the database knows into obj (as_name, as_number, city, conn_speed,
 * conn_type, continent, country_code, country_code3, country_name, latitude, longitude,
 * metro_code, postal_code, proxy_description, proxy_type, region, and utc_offset from
 * location.time_zone at the current time); false when the database has no record for it. */
bool cfg_geo_mmdb_lookup(const cfg_geo_mmdb *m, uint8_t family, const uint8_t *addr, json_t *obj);

/* The UTC offset of IANA time zone `zone` ("Europe/London") at time `now`, as Fastly writes it:
 * hours and minutes as one decimal number (-700 for UTC-07:00, 530 for UTC+05:30), read from the
 * system's zoneinfo files ($TZDIR, default /usr/share/zoneinfo). False for a name that is not a
 * plain zone name or a zone without a readable file. */
bool cfg_geo_utc_offset(const char *zone, long long now, int *out);

/* The ISO 3166-1 alpha-3 code of an alpha-2 code ("US" -> "USA") into out; false when unknown. */
bool cfg_geo_country_code3(const char *alpha2, char out[4]);

#endif
