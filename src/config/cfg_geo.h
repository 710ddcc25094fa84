/* cfg_geo.h: geolocation data: the `-geo file.json` table in Fastlike's format (an object mapping
 * an IP address or CIDR prefix to a location object: as_name, city, country_code, latitude, ...;
 * each location kept as compact JSON text), fastly.toml's geolocation entries, a MaxMind `.mmdb`
 * database (`-geo FILE.mmdb`), and the record the geo lookup returns for an address. */
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
    struct cfg_geo_mmdb *mmdb; /* that database, open (cfg_geo_mmdb.h; shared by copies) */
} cfg_geo;

/* Viceroy's default location (San Francisco, AS54113 "Fastly, Inc"), as compact JSON with every
 * field of Fastly's geolocation record, keys sorted (as Viceroy's serde_json prints it). */
extern const char cfg_geo_default_json[];

/* Loads the table (path is left to the caller). Known fields must have their documented types
 * (strings; numbers for as_number, area_code, latitude, longitude, metro_code, utc_offset);
 * other fields pass through. Errors: CFG_ERR_FILE, CFG_ERR_JSON, CFG_ERR_NOMEM, text in err. */
cfg_status cfg_geo_load(const char *path, cfg_geo *out, char *err, size_t errlen);
void cfg_geo_deinit(cfg_geo *geo);

/* Adds one entry (for fastly.toml's inline addresses): `addr` an IP address or CIDR prefix,
 * `json` the text of a JSON object (its known fields type-checked as in cfg_geo_load). Set
 * use_default_loopback yourself (Viceroy's default is true). Errors: CFG_ERR_VALUE for a bad
 * address, CFG_ERR_JSON for a bad object, CFG_ERR_NOMEM; one line in err naming `addr`. */
cfg_status cfg_geo_add(cfg_geo *geo, const char *addr, const char *json, char *err, size_t errlen);

/* Opens the MaxMind database at path and makes it the data of *geo, which must be empty (as
 * after cfg_geo_deinit; path is copied to mmdb_path). Errors as cfg_geo_mmdb_open. */
cfg_status cfg_geo_load_mmdb(const char *path, cfg_geo *geo, char *err, size_t errlen);

/* The most specific entry containing the address (4 or 16 bytes per family), or NULL. */
const cfg_geo_entry *cfg_geo_lookup(const cfg_geo *geo, uint8_t family, const uint8_t *addr);

/* The JSON text fastly_geo.lookup returns for the address (geo may be NULL: no data configured).
 * Sources in order: the most specific table entry, then the MaxMind database; with neither
 * matching, the default location (cfg_geo_default_json) unless geo->use_default_loopback is false,
 * and then no record. A record always has every field of Fastly's geolocation JSON: the 18 known
 * fields (as_name, as_number, area_code, city, conn_speed, conn_type, continent, country_code,
 * country_code3, country_name, latitude, longitude, metro_code, postal_code, proxy_description,
 * proxy_type, region, utc_offset; absent ones "" or 0), plus any other fields an entry has, keys
 * sorted, compact. Returns CFG_OK with *out a malloc'd string, or NULL for no record;
 * CFG_ERR_NOMEM; CFG_ERR_JSON when a table entry is not a JSON object. */
cfg_status cfg_geo_record(const cfg_geo *geo, uint8_t family, const uint8_t *addr, char **out);

#endif
