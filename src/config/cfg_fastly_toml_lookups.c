/* cfg_fastly_toml_lookups.c: fastly.toml's geolocation (use_default_loopback, inline addresses
 * or a JSON file) and device detection (inline user_agents or a JSON file) into the cfg_edge's
 * cfg_geo and cfg_device, each entry kept as compact JSON text. */
#include "config/cfg_fastly_toml_int.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Converts a TOML value to JSON for geolocation and device-detection data: strings, integers,
 * finite floats, booleans, and (when allow_tables) tables of those. NULL otherwise. */
static json_t *to_json(const cfg_toml_value *v, bool allow_tables)
{
    switch (v->type) {
    case CFG_TOML_STRING:
        return json_stringn_nocheck(v->u.s.ptr, v->u.s.len);
    case CFG_TOML_INTEGER:
        return json_integer((json_int_t)v->u.i);
    case CFG_TOML_FLOAT:
        return json_real(v->u.f); /* NULL for inf and nan, as serde_json has no such numbers */
    case CFG_TOML_BOOL:
        return json_boolean(v->u.b);
    case CFG_TOML_TABLE: {
        if (!allow_tables)
            return NULL;
        json_t *o = json_object();
        for (size_t i = 0; o && i < v->u.table.count; i++) {
            json_t *x = to_json(v->u.table.items[i].value, true);
            if (!x || json_object_setn_new_nocheck(o, v->u.table.items[i].key,
                                                   v->u.table.items[i].key_len, x) != 0) {
                json_decref(o);
                return NULL;
            }
        }
        return o;
    }
    default:
        return NULL;
    }
}

/* ---- geolocation and device detection ---- */

cfg_status cfg_ft_geolocation(cfg_ft *f, const cfg_toml_value *t, const char *where)
{
    char w[CFG_FT_WHERE_MAX];
    bool loopback = true;
    const cfg_toml_value *v = cfg_toml_get(t, "use_default_loopback");
    if (v) {
        if (v->type != CFG_TOML_BOOL) {
            cfg_ft_sub(w, sizeof w, where, "use_default_loopback");
            return cfg_ft_bad(f, CFG_ERR_TOML, v, w, "definition was not provided as a TOML table");
        }
        loopback = v->u.b;
    }
    int fmt;
    cfg_status st = cfg_ft_format_field(f, t, where, "geolocation mapping", true, &fmt);
    if (st != CFG_OK)
        return st;
    cfg_geo *geo = calloc(1, sizeof *geo);
    if (!geo)
        return cfg_ft_nomem(f);
    geo->use_default_loopback = loopback;
    if (fmt == 0) {
        const cfg_toml_value *a = cfg_toml_get(t, "addresses");
        cfg_ft_sub(w, sizeof w, where, "addresses");
        if (!a)
            st = cfg_ft_bad(f, CFG_ERR_TOML, t, where, "missing 'addresses' field");
        else if (a->type != CFG_TOML_TABLE)
            st = cfg_ft_bad(f, CFG_ERR_TOML, a, w, "'addresses' was not provided as a TOML table");
        else if (!(geo->entries = calloc(a->u.table.count + 1, sizeof *geo->entries)))
            st = cfg_ft_nomem(f);
        for (size_t i = 0; st == CFG_OK && i < a->u.table.count; i++) {
            const cfg_toml_pair *pr = &a->u.table.items[i];
            char kw[CFG_FT_WHERE_MAX];
            cfg_ft_sub(kw, sizeof kw, w, pr->key);
            cfg_geo_entry *e = &geo->entries[geo->count];
            if (strchr(pr->key, '/') || strlen(pr->key) != pr->key_len ||
                !cfg_ip_prefix_parse(pr->key, true, &e->prefix)) {
                st = cfg_ft_bad(f, CFG_ERR_TOML, pr->value, kw,
                                "IP address not valid: 'invalid IP address syntax'");
                break;
            }
            json_t *obj = pr->value->type == CFG_TOML_TABLE ? json_object() : NULL;
            const cfg_toml_value *tv = pr->value;
            for (size_t j = 0; obj && j < tv->u.table.count; j++) {
                json_t *x = to_json(tv->u.table.items[j].value, false);
                if (!x || json_object_setn_new_nocheck(obj, tv->u.table.items[j].key,
                                                       tv->u.table.items[j].key_len, x) != 0) {
                    json_decref(obj);
                    obj = NULL;
                }
            }
            if (!obj) {
                st = cfg_ft_bad(f, CFG_ERR_TOML, pr->value, kw,
                                "inline geolocation value was not a string");
                break;
            }
            e->json = json_dumps(obj, JSON_COMPACT | JSON_PRESERVE_ORDER);
            json_decref(obj);
            if (!e->json) {
                st = cfg_ft_nomem(f);
                break;
            }
            geo->count++;
        }
    } else if (fmt == 1) {
        char full[4096];
        const cfg_toml_value *at;
        st = cfg_ft_file_field(f, t, where, full, sizeof full, &at);
        if (st == CFG_OK) {
            char msg[1024];
            cfg_ft_sub(w, sizeof w, where, "file");
            st = cfg_geo_load(full, geo, msg, sizeof msg);
            if (st != CFG_OK)
                st = cfg_ft_bad(f, st, at, w, "%s", msg);
            else if (!(geo->path = strdup(full)))
                st = cfg_ft_nomem(f);
        }
        geo->use_default_loopback = loopback;
    }
    if (st != CFG_OK) {
        cfg_geo_deinit(geo);
        free(geo);
        return st;
    }
    cfg_edge_put_geo(&f->o->edge, geo);
    return CFG_OK;
}

cfg_status cfg_ft_device_detection(cfg_ft *f, const cfg_toml_value *t, const char *where)
{
    char w[CFG_FT_WHERE_MAX];
    int fmt;
    cfg_status st = cfg_ft_format_field(f, t, where, "device detection mapping", true, &fmt);
    if (st != CFG_OK || fmt < 0)
        return st; /* no format: no data, every lookup finds nothing */
    cfg_device *d = calloc(1, sizeof *d);
    if (!d)
        return cfg_ft_nomem(f);
    if (fmt == 0) {
        const cfg_toml_value *ua = cfg_toml_get(t, "user_agents");
        cfg_ft_sub(w, sizeof w, where, "user_agents");
        if (!ua)
            st = cfg_ft_bad(f, CFG_ERR_TOML, t, where, "missing 'user_agents' field");
        else if (ua->type != CFG_TOML_TABLE)
            st = cfg_ft_bad(f, CFG_ERR_TOML, ua, w,
                            "'user_agents' was not provided as a TOML table");
        for (size_t i = 0; st == CFG_OK && i < ua->u.table.count; i++) {
            const cfg_toml_pair *pr = &ua->u.table.items[i];
            char kw[CFG_FT_WHERE_MAX];
            cfg_ft_sub(kw, sizeof kw, w, pr->key);
            json_t *obj = pr->value->type == CFG_TOML_TABLE ? to_json(pr->value, true) : NULL;
            char *text = obj ? json_dumps(obj, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
            json_decref(obj);
            if (!text) {
                st = cfg_ft_bad(f, CFG_ERR_TOML, pr->value, kw,
                                "inline device detection value was not a string");
                break;
            }
            char msg[512];
            st = cfg_device_add(d, pr->key, text, msg, sizeof msg);
            free(text);
            if (st != CFG_OK)
                st = cfg_ft_bad(f, st, pr->value, kw, "%s", msg);
        }
    } else {
        char full[4096];
        const cfg_toml_value *at;
        st = cfg_ft_file_field(f, t, where, full, sizeof full, &at);
        if (st == CFG_OK) {
            char msg[1024];
            cfg_ft_sub(w, sizeof w, where, "file");
            st = cfg_device_load(full, d, msg, sizeof msg);
            if (st != CFG_OK)
                st = cfg_ft_bad(f, st, at, w, "%s", msg);
            else if (!(d->path = strdup(full)))
                st = cfg_ft_nomem(f);
        }
    }
    if (st != CFG_OK) {
        cfg_device_deinit(d);
        free(d);
        return st;
    }
    cfg_edge_put_device(&f->o->edge, d);
    return CFG_OK;
}
