/* cfg_device.c: loading and looking up device-detection data (user agent -> JSON object text). */
#include "config/cfg_device.h"

#include "config/cfg_json.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static cfg_status nomem(char *err, size_t errlen)
{
    snprintf(err, errlen, "out of memory");
    return CFG_ERR_NOMEM;
}

void cfg_device_deinit(cfg_device *d)
{
    if (!d)
        return;
    for (size_t i = 0; i < d->count; i++) {
        free(d->entries[i].user_agent);
        free(d->entries[i].json);
    }
    free(d->entries);
    free(d->path);
    memset(d, 0, sizeof *d);
}

/* Adds or replaces the entry; takes ownership of json_text. */
static cfg_status put(cfg_device *d, const char *ua, char *json_text, char *err, size_t errlen)
{
    for (size_t i = 0; i < d->count; i++) {
        if (strcmp(d->entries[i].user_agent, ua) == 0) {
            free(d->entries[i].json);
            d->entries[i].json = json_text;
            return CFG_OK;
        }
    }
    char *ua_copy = strdup(ua);
    cfg_device_entry *grown = ua_copy ? realloc(d->entries, (d->count + 1) * sizeof *grown) : NULL;
    if (!grown) {
        free(ua_copy);
        free(json_text);
        return nomem(err, errlen);
    }
    d->entries = grown;
    d->entries[d->count++] = (cfg_device_entry){ua_copy, json_text};
    return CFG_OK;
}

cfg_status cfg_device_add(cfg_device *d, const char *user_agent, const char *json, char *err,
                          size_t errlen)
{
    json_error_t je;
    json_t *v = json_loads(json, JSON_REJECT_DUPLICATES, &je);
    if (!v || !json_is_object(v)) {
        snprintf(err, errlen, "device detection data for '%s' is not a JSON object", user_agent);
        json_decref(v);
        return CFG_ERR_JSON;
    }
    char *text = json_dumps(v, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(v);
    if (!text)
        return nomem(err, errlen);
    return put(d, user_agent, text, err, errlen);
}

static cfg_status device_entry(void *user, size_t i, const char *ua, size_t ua_len, json_t *v,
                               const char *path, char *err, size_t errlen)
{
    if (!json_is_object(v)) {
        snprintf(err, errlen, "%s: user agent '%s': expected an object", path, ua);
        return CFG_ERR_JSON;
    }
    char *text = json_dumps(v, JSON_COMPACT | JSON_PRESERVE_ORDER);
    return text ? put(user, ua, text, err, errlen) : nomem(err, errlen);
}

cfg_status cfg_device_load(const char *path, cfg_device *out, char *err, size_t errlen)
{
    cfg_json_walk w = {"a JSON object mapping user agents to objects", NULL, device_entry, out};
    return cfg_json_load_object(path, &w, err, errlen);
}

const cfg_device_entry *cfg_device_lookup(const cfg_device *d, const char *ua, size_t ua_len)
{
    if (!d)
        return NULL;
    for (size_t i = 0; i < d->count; i++) {
        const char *have = d->entries[i].user_agent;
        if (strlen(have) == ua_len && memcmp(have, ua, ua_len) == 0)
            return &d->entries[i];
    }
    return NULL;
}
