/* cfg_geo.h: the `-geo file.json` geolocation table, in Fastlike's format: an object mapping an
 * IP address or CIDR prefix to a location object (as_name, city, country_code, latitude, ...).
 * Each location is kept as compact JSON text, ready for the geo lookup hostcall to return. */
#ifndef CFG_GEO_H
#define CFG_GEO_H

#include "config/cfg_ip_prefix.h"
#include "config/cfg_status.h"

#include <stdbool.h>
#include <stddef.h>

typedef struct cfg_geo_entry {
    cfg_ip_prefix prefix; /* a plain address is a /32 or /128 */
    char *json;           /* the location object, compact JSON */
} cfg_geo_entry;

typedef struct cfg_geo {
    char *path;
    cfg_geo_entry *entries;
    size_t count;
    bool use_default_loopback; /* fastly.toml geolocation.use_default_loopback (Viceroy: true) */
    char *mmdb_path;           /* a MaxMind .mmdb database to consult, or NULL */
} cfg_geo;

/* Loads the table (path is left to the caller). Known fields must have their documented types
 * (strings; numbers for as_number, area_code, latitude, longitude, metro_code, utc_offset);
 * other fields pass through. Errors: CFG_ERR_FILE, CFG_ERR_JSON, CFG_ERR_NOMEM, text in err. */
cfg_status cfg_geo_load(const char *path, cfg_geo *out, char *err, size_t errlen);
void cfg_geo_deinit(cfg_geo *geo);

/* The most specific entry containing the address (4 or 16 bytes per family), or NULL. */
const cfg_geo_entry *cfg_geo_lookup(const cfg_geo *geo, uint8_t family, const uint8_t *addr);

#endif
