/* cfg_edge_reread.c: re-reading a cfg_edge's files: clone, then swap freshly loaded data into
 * each file-backed entry of the clone, keeping the cloned (previous) data when a load fails. */
#include "config/cfg_edge_reread.h"

#include <stdbool.h>
#include <stdio.h>

typedef struct reread {
    cfg_reread_report report;
    void *user;
    size_t failed;
    bool nomem;
} reread;

/* Counts and reports a failed load; false when out of memory (the reload then fails as a whole). */
static void failed(reread *r, cfg_status st, const char *flag, const char *name, const char *err)
{
    if (st == CFG_ERR_NOMEM) {
        r->nomem = true;
        return;
    }
    r->failed++;
    if (!r->report)
        return;
    char line[1536];
    snprintf(line, sizeof line, "%s%s%s: %s (keeping the previous data)", flag, name ? " " : "",
             name ? name : "", err);
    r->report(r->user, line);
}

static void string_stores(reread *r, cfg_dictionary *d, size_t n, const char *flag)
{
    for (size_t i = 0; i < n && !r->nomem; i++) {
        if (!d[i].path)
            continue;
        char err[1024] = "";
        cfg_string_map fresh = {0};
        cfg_status st = cfg_string_map_load(d[i].path, &fresh, err, sizeof err);
        if (st != CFG_OK) {
            cfg_string_map_deinit(&fresh);
            failed(r, st, flag, d[i].name, err);
            continue;
        }
        cfg_string_map_deinit(&d[i].items);
        d[i].items = fresh;
    }
}

static void acls(reread *r, cfg_acl *a, size_t n)
{
    for (size_t i = 0; i < n && !r->nomem; i++) {
        if (!a[i].path)
            continue;
        char err[1024] = "";
        cfg_acl fresh = {0};
        cfg_status st = cfg_acl_load(a[i].path, &fresh, err, sizeof err);
        if (st == CFG_OK) {
            /* swap the entries; fresh then holds the old ones and is freed */
            cfg_acl_entry *e = a[i].entries;
            size_t count = a[i].count;
            a[i].entries = fresh.entries;
            a[i].count = fresh.count;
            fresh.entries = e;
            fresh.count = count;
        }
        cfg_acl_deinit(&fresh);
        if (st != CFG_OK)
            failed(r, st, "-acl", a[i].name, err);
    }
}

static void geo(reread *r, cfg_geo *g)
{
    if (!g || !g->path || r->nomem)
        return;
    char err[1024] = "";
    cfg_geo fresh = {0};
    cfg_status st = cfg_geo_load(g->path, &fresh, err, sizeof err);
    if (st == CFG_OK) {
        cfg_geo_entry *e = g->entries;
        size_t count = g->count;
        g->entries = fresh.entries;
        g->count = fresh.count;
        fresh.entries = e;
        fresh.count = count;
    }
    cfg_geo_deinit(&fresh);
    if (st != CFG_OK)
        failed(r, st, "-geo", NULL, err);
}

static void device(reread *r, cfg_device *d)
{
    if (!d || !d->path || r->nomem)
        return;
    char err[1024] = "";
    cfg_device fresh = {0};
    cfg_status st = cfg_device_load(d->path, &fresh, err, sizeof err);
    if (st == CFG_OK) {
        cfg_device_entry *e = d->entries;
        size_t count = d->count;
        d->entries = fresh.entries;
        d->count = fresh.count;
        fresh.entries = e;
        fresh.count = count;
    }
    cfg_device_deinit(&fresh);
    if (st != CFG_OK)
        failed(r, st, "device detection", NULL, err);
}

cfg_status cfg_edge_reread(cfg_edge *dst, const cfg_edge *src, cfg_reread_report report, void *user,
                           size_t *nfailed)
{
    *nfailed = 0;
    char err[256];
    cfg_status st = cfg_edge_clone(dst, src, err, sizeof err);
    if (st != CFG_OK)
        return st;
    reread r = {.report = report, .user = user};
    string_stores(&r, dst->dictionaries, dst->ndictionaries, "-dictionary");
    string_stores(&r, dst->config_stores, dst->nconfig_stores, "-config-store");
    string_stores(&r, dst->secret_stores, dst->nsecret_stores, "-secret-store");
    acls(&r, dst->acls, dst->nacls);
    geo(&r, dst->geo);
    device(&r, dst->device);
    if (r.nomem) {
        cfg_edge_deinit(dst);
        return CFG_ERR_NOMEM;
    }
    *nfailed = r.failed;
    return CFG_OK;
}
