/* cfg_acl.c: loading ACL JSON files (cfg_acl.h) and longest-prefix lookup in them. */
#include "config/cfg_acl.h"

#include "config/cfg_json.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

void cfg_acl_deinit(cfg_acl *acl)
{
    if (!acl)
        return;
    free(acl->name);
    free(acl->path);
    free(acl->entries);
    memset(acl, 0, sizeof *acl);
}

static cfg_status load_entry(const char *path, size_t i, json_t *item, cfg_acl_entry *e, char *err,
                             size_t errlen)
{
    if (!json_is_object(item)) {
        snprintf(err, errlen, "%s: entries[%zu]: expected an object, found %s", path, i,
                 cfg_json_type_name(item));
        return CFG_ERR_JSON;
    }
    json_t *prefix = json_object_get(item, "prefix");
    json_t *action = json_object_get(item, "action");
    if (!json_is_string(prefix)) {
        snprintf(err, errlen, "%s: entries[%zu]: \"prefix\" must be a string like \"10.0.0.0/8\"",
                 path, i);
        return CFG_ERR_JSON;
    }
    if (!cfg_ip_prefix_parse(json_string_value(prefix), false, &e->prefix)) {
        snprintf(err, errlen,
                 "%s: entries[%zu]: invalid prefix \"%s\" (want IP/MASK, mask 1..32 or 1..128)",
                 path, i, json_string_value(prefix));
        return CFG_ERR_JSON;
    }
    const char *a = json_is_string(action) ? json_string_value(action) : NULL;
    if (a && strcasecmp(a, "ALLOW") == 0) {
        e->action = CFG_ACL_ALLOW;
    } else if (a && strcasecmp(a, "BLOCK") == 0) {
        e->action = CFG_ACL_BLOCK;
    } else {
        snprintf(err, errlen, "%s: entries[%zu]: \"action\" must be \"ALLOW\" or \"BLOCK\"", path,
                 i);
        return CFG_ERR_JSON;
    }
    return CFG_OK;
}

cfg_status cfg_acl_load(const char *path, cfg_acl *out, char *err, size_t errlen)
{
    out->entries = NULL;
    out->count = 0;
    json_t *root;
    cfg_status st = cfg_json_load(path, &root, err, errlen);
    if (st != CFG_OK)
        return st;
    json_t *entries = json_is_object(root) ? json_object_get(root, "entries") : NULL;
    if (!json_is_array(entries)) {
        snprintf(err, errlen, "%s: expected {\"entries\": [{\"prefix\": ..., \"action\": ...}]}",
                 path);
        st = CFG_ERR_JSON;
        goto done;
    }
    size_t n = json_array_size(entries);
    if ((st = cfg_json_calloc((void **)&out->entries, n, sizeof *out->entries, path, err,
                              errlen)) != CFG_OK)
        goto done;
    for (size_t i = 0; i < n; i++) {
        st = load_entry(path, i, json_array_get(entries, i), &out->entries[i], err, errlen);
        if (st != CFG_OK)
            goto done;
    }
    out->count = n;
done:
    json_decref(root);
    if (st != CFG_OK) {
        free(out->entries);
        out->entries = NULL;
    }
    return st;
}

const cfg_acl_entry *cfg_acl_lookup(const cfg_acl *acl, uint8_t family, const uint8_t *addr)
{
    const cfg_acl_entry *best = NULL;
    for (size_t i = 0; i < acl->count; i++) {
        const cfg_acl_entry *e = &acl->entries[i];
        /* the longest prefix wins; between equal ones the last entry (as Viceroy) */
        if (cfg_ip_prefix_contains(&e->prefix, family, addr) &&
            (!best || e->prefix.len >= best->prefix.len))
            best = e;
    }
    return best;
}
