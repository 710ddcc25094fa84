/* cfg_geo.c: loading the -geo JSON table or MaxMind database (cfg_geo.h), checking field types,
 * lookups, and the geolocation record with every Fastly field. */
#include "config/cfg_geo.h"

#include "config/cfg_geo_mmdb.h"
#include "config/cfg_json.h"
#include "util/util_grow.h"
#include "util/util_str.h"

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
    cfg_geo_mmdb_unref(geo->mmdb);
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

static cfg_status geo_begin(void *user, size_t n, const char *path, char *err, size_t errlen)
{
    cfg_geo *geo = user;
    return cfg_json_calloc((void **)&geo->entries, n, sizeof *geo->entries, path, err, errlen);
}

static cfg_status geo_entry(void *user, size_t i, const char *key, size_t key_len, json_t *loc,
                            const char *path, char *err, size_t errlen)
{
    cfg_geo *geo = user;
    cfg_geo_entry *e = &geo->entries[geo->count];
    if (!cfg_ip_prefix_parse(key, true, &e->prefix)) {
        snprintf(err, errlen, "%s: \"%s\" is not an IP address or CIDR prefix", path, key);
        return CFG_ERR_JSON;
    }
    if (!json_is_object(loc)) {
        snprintf(err, errlen, "%s: \"%s\": expected a location object, found %s", path, key,
                 cfg_json_type_name(loc));
        return CFG_ERR_JSON;
    }
    cfg_status st = check_fields(path, key, loc, err, errlen);
    if (st != CFG_OK)
        return st;
    if (!(e->json = json_dumps(loc, JSON_COMPACT | JSON_PRESERVE_ORDER))) {
        snprintf(err, errlen, "%s: out of memory", path);
        return CFG_ERR_NOMEM;
    }
    geo->count++;
    return CFG_OK;
}

cfg_status cfg_geo_load(const char *path, cfg_geo *out, char *err, size_t errlen)
{
    out->entries = NULL;
    out->count = 0;
    cfg_json_walk w = {"an object mapping IP or CIDR to a location", geo_begin, geo_entry, out};
    cfg_status st = cfg_json_load_object(path, &w, err, errlen);
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

cfg_status cfg_geo_add(cfg_geo *geo, const char *addr, const char *json, char *err, size_t errlen)
{
    cfg_ip_prefix prefix;
    if (!cfg_ip_prefix_parse(addr, true, &prefix)) {
        snprintf(err, errlen, "\"%s\" is not an IP address or CIDR prefix", addr);
        return CFG_ERR_VALUE;
    }
    json_error_t je;
    json_t *loc = json_loads(json, JSON_REJECT_DUPLICATES, &je);
    if (!json_is_object(loc)) {
        snprintf(err, errlen, "\"%s\": expected a location object", addr);
        json_decref(loc);
        return CFG_ERR_JSON;
    }
    cfg_status st = check_fields("geolocation", addr, loc, err, errlen);
    char *text = st == CFG_OK ? json_dumps(loc, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    json_decref(loc);
    if (st != CFG_OK)
        return st;
    cfg_geo_entry *grown = text ? realloc(geo->entries, (geo->count + 1) * sizeof *grown) : NULL;
    if (!grown) {
        free(text);
        snprintf(err, errlen, "out of memory");
        return CFG_ERR_NOMEM;
    }
    geo->entries = grown;
    geo->entries[geo->count++] = (cfg_geo_entry){prefix, text};
    return CFG_OK;
}

cfg_status cfg_geo_load_mmdb(const char *path, cfg_geo *geo, char *err, size_t errlen)
{
    if (!(geo->mmdb_path = strdup(path))) {
        snprintf(err, errlen, "%s: out of memory", path);
        return CFG_ERR_NOMEM;
    }
    cfg_status st = cfg_geo_mmdb_open(path, &geo->mmdb, err, errlen);
    if (st != CFG_OK) {
        free(geo->mmdb_path);
        geo->mmdb_path = NULL;
    }
    return st;
}

/* Viceroy's GeolocationData::default(), serialised as serde_json does (keys sorted). */
const char cfg_geo_default_json[] =
    "{\"area_code\":415,\"as_name\":\"Fastly, Inc\",\"as_number\":54113,\"city\":\"San "
    "Francisco\",\"conn_speed\":\"broadband\",\"conn_type\":\"wired\",\"continent\":\"NA\","
    "\"country_code\":\"US\",\"country_code3\":\"USA\",\"country_name\":\"United States of "
    "America\",\"latitude\":37.77869,\"longitude\":-122.39557,\"metro_code\":0,\"postal_code\":"
    "\"94107\",\"proxy_description\":\"?\",\"proxy_type\":\"?\",\"region\":\"CA\",\"utc_offset\":-"
    "700}";

/* A growing output string. */
typedef struct out_buf {
    char *s;
    size_t len, cap;
    bool failed;
} out_buf;

static void put(out_buf *b, const char *s, size_t n)
{
    if (b->failed)
        return;
    if (!util_grow((void **)&b->s, &b->cap, b->len + n + 1, 512, 1)) {
        b->failed = true;
        return;
    }
    memcpy(b->s + b->len, s, n);
    b->len += n;
    b->s[b->len] = '\0';
}

static void put_json(out_buf *b, const json_t *v)
{
    char *text = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT | JSON_SORT_KEYS);
    if (!text) {
        b->failed = true;
        return;
    }
    put(b, text, strlen(text));
    free(text);
}

/* The shortest decimal that reads back as the same double (as serde_json prints floats), with
 * ".0" on integral values. */
static void put_real(out_buf *b, double d)
{
    char num[40];
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(num, sizeof num, "%.*g", prec, d);
        if (strtod(num, NULL) == d)
            break;
    }
    put(b, num, strlen(num));
    if (!strpbrk(num, ".eEni"))
        put(b, ".0", 2);
}

static int cmp_keys(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* obj as compact JSON with sorted keys; top-level reals printed shortest. */
static char *dump_record(json_t *obj)
{
    size_t n = json_object_size(obj);
    const char **keys = calloc(n ? n : 1, sizeof *keys);
    if (!keys)
        return NULL;
    size_t k = 0;
    const char *key;
    json_t *v;
    json_object_foreach(obj, key, v) keys[k++] = key;
    qsort(keys, n, sizeof *keys, cmp_keys);
    out_buf b = {0};
    put(&b, "{", 1);
    for (size_t i = 0; i < n; i++) {
        if (i)
            put(&b, ",", 1);
        json_t *ks = json_string(keys[i]);
        if (!ks)
            b.failed = true;
        else
            put_json(&b, ks);
        json_decref(ks);
        put(&b, ":", 1);
        json_t *val = json_object_get(obj, keys[i]);
        if (json_is_real(val))
            put_real(&b, json_real_value(val));
        else
            put_json(&b, val);
    }
    put(&b, "}", 1);
    free(keys);
    if (b.failed) {
        free(b.s);
        return NULL;
    }
    return b.s;
}

/* Every field of Fastly's record, absent ones as "" or 0, then the data's own fields over them. */
static char *full_record(json_t *data)
{
    json_t *obj = json_object();
    if (!obj)
        return NULL;
    for (size_t i = 0; i < sizeof string_fields / sizeof *string_fields; i++)
        json_object_set_new(obj, string_fields[i], json_string(""));
    for (size_t i = 0; i < sizeof number_fields / sizeof *number_fields; i++)
        json_object_set_new(obj, number_fields[i], json_integer(0));
    char *text = json_object_update(obj, data) == 0 ? dump_record(obj) : NULL;
    json_decref(obj);
    return text;
}

cfg_status cfg_geo_record(const cfg_geo *geo, uint8_t family, const uint8_t *addr, char **out)
{
    *out = NULL;
    const cfg_geo_entry *e = geo ? cfg_geo_lookup(geo, family, addr) : NULL;
    if (e) {
        json_error_t je;
        json_t *data = json_loads(e->json, 0, &je);
        if (!data || !json_is_object(data)) {
            json_decref(data);
            return CFG_ERR_JSON;
        }
        *out = full_record(data);
        json_decref(data);
        return *out ? CFG_OK : CFG_ERR_NOMEM;
    }
    if (geo && geo->mmdb) {
        json_t *data = json_object();
        if (!data)
            return CFG_ERR_NOMEM;
        /* unknown to MaxMind's data, as Fastly spells it */
        json_object_set_new(data, "proxy_description", json_string("?"));
        json_object_set_new(data, "proxy_type", json_string("?"));
        if (cfg_geo_mmdb_lookup(geo->mmdb, family, addr, data)) {
            *out = full_record(data);
            json_decref(data);
            return *out ? CFG_OK : CFG_ERR_NOMEM;
        }
        json_decref(data);
    }
    if (geo && !geo->use_default_loopback)
        return CFG_OK;
    *out = util_strdup(cfg_geo_default_json);
    return *out ? CFG_OK : CFG_ERR_NOMEM;
}
