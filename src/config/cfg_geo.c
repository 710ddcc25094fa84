/* cfg_geo.c: loading the -geo JSON table (cfg_geo.h), checking field types, and lookups. */
#include "config/cfg_geo.h"

#include "config/cfg_json.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Fields of Fastlike's Geo struct that must be numbers; its other known fields are strings. */
static const char *const number_fields[] = {"as_number", "area_code",  "latitude",
                                            "longitude", "metro_code", "utc_offset"};
static const char *const string_fields[] = {"as_name",           "city",         "conn_speed",
                                            "conn_type",         "continent",    "country_code",
                                            "country_code3",     "country_name", "postal_code",
                                            "proxy_description", "proxy_type",   "region"};

void cfg_geo_deinit(cfg_geo *geo)
{
    if (!geo)
        return;
    for (size_t i = 0; i < geo->count; i++)
        free(geo->entries[i].json);
    free(geo->entries);
    free(geo->path);
    free(geo->mmdb_path);
    memset(geo, 0, sizeof *geo);
}

static cfg_status check_fields(const char *path, const char *key, json_t *loc, char *err,
                               size_t errlen)
{
    for (size_t i = 0; i < sizeof number_fields / sizeof *number_fields; i++) {
        json_t *v = json_object_get(loc, number_fields[i]);
        if (v && !json_is_number(v)) {
            snprintf(err, errlen, "%s: \"%s\": \"%s\" must be a number, found %s", path, key,
                     number_fields[i], cfg_json_type_name(v));
            return CFG_ERR_JSON;
        }
    }
    for (size_t i = 0; i < sizeof string_fields / sizeof *string_fields; i++) {
        json_t *v = json_object_get(loc, string_fields[i]);
        if (v && !json_is_string(v)) {
            snprintf(err, errlen, "%s: \"%s\": \"%s\" must be a string, found %s", path, key,
                     string_fields[i], cfg_json_type_name(v));
            return CFG_ERR_JSON;
        }
    }
    return CFG_OK;
}

cfg_status cfg_geo_load(const char *path, cfg_geo *out, char *err, size_t errlen)
{
    out->entries = NULL;
    out->count = 0;
    json_t *root;
    cfg_status st = cfg_json_load(path, &root, err, errlen);
    if (st != CFG_OK)
        return st;
    if (!json_is_object(root)) {
        snprintf(err, errlen, "%s: expected an object mapping IP or CIDR to a location, found %s",
                 path, cfg_json_type_name(root));
        st = CFG_ERR_JSON;
        goto done;
    }
    size_t n = json_object_size(root);
    out->entries = calloc(n ? n : 1, sizeof *out->entries);
    if (!out->entries) {
        snprintf(err, errlen, "%s: out of memory", path);
        st = CFG_ERR_NOMEM;
        goto done;
    }
    const char *key;
    json_t *loc;
    json_object_foreach(root, key, loc)
    {
        cfg_geo_entry *e = &out->entries[out->count];
        if (!cfg_ip_prefix_parse(key, true, &e->prefix)) {
            snprintf(err, errlen, "%s: \"%s\" is not an IP address or CIDR prefix", path, key);
            st = CFG_ERR_JSON;
            goto done;
        }
        if (!json_is_object(loc)) {
            snprintf(err, errlen, "%s: \"%s\": expected a location object, found %s", path, key,
                     cfg_json_type_name(loc));
            st = CFG_ERR_JSON;
            goto done;
        }
        if ((st = check_fields(path, key, loc, err, errlen)) != CFG_OK)
            goto done;
        if (!(e->json = json_dumps(loc, JSON_COMPACT | JSON_PRESERVE_ORDER))) {
            snprintf(err, errlen, "%s: out of memory", path);
            st = CFG_ERR_NOMEM;
            goto done;
        }
        out->count++;
    }
done:
    json_decref(root);
    if (st != CFG_OK) {
        for (size_t i = 0; i < out->count; i++)
            free(out->entries[i].json);
        free(out->entries);
        out->entries = NULL;
        out->count = 0;
    }
    return st;
}

const cfg_geo_entry *cfg_geo_lookup(const cfg_geo *geo, uint8_t family, const uint8_t *addr)
{
    const cfg_geo_entry *best = NULL;
    for (size_t i = 0; i < geo->count; i++) {
        const cfg_geo_entry *e = &geo->entries[i];
        if (cfg_ip_prefix_contains(&e->prefix, family, addr) &&
            (!best || e->prefix.len > best->prefix.len))
            best = e;
    }
    return best;
}
