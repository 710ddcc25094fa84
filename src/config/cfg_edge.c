/* cfg_edge.c: adding edge data to a cfg_edge (name checks, loading each kind's file with its own
 * loader, appending only once everything succeeded), lookups by name, and freeing it all. */
#include "config/cfg_edge.h"
#include "config/cfg_geo_mmdb.h"
#include "util/util_str.h"
#include "config/cfg_json.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

/* Room for one item of any named kind while it loads. */
typedef union edge_item {
    cfg_dictionary dictionary;
    cfg_kv_store kv_store;
    cfg_acl acl;
    cfg_logger logger;
} edge_item;

/* What differs between the named kinds: their size, whether a file is required, and how an
 * item is filled in (name and path copied, file loaded) and freed. */
typedef struct edge_kind {
    size_t size;
    bool needs_path;
    cfg_status (*load)(edge_item *item, const char *name, const char *path, char *err,
                       size_t errlen);
    void (*deinit)(edge_item *item);
} edge_kind;

static cfg_status nomem(char *err, size_t errlen)
{
    snprintf(err, errlen, "out of memory");
    return CFG_ERR_NOMEM;
}

/* Copies name and (when not NULL) path into *name_out and *path_out. */
static cfg_status copy_name_path(char **name_out, char **path_out, const char *name,
                                 const char *path, char *err, size_t errlen)
{
    *name_out = strdup(name);
    *path_out = path ? strdup(path) : NULL;
    if (!*name_out || (path && !*path_out))
        return nomem(err, errlen);
    return CFG_OK;
}

static cfg_status load_string_store(edge_item *item, const char *name, const char *path, char *err,
                                    size_t errlen)
{
    cfg_dictionary *d = &item->dictionary;
    cfg_status st = copy_name_path(&d->name, &d->path, name, path, err, errlen);
    return st != CFG_OK ? st : cfg_string_map_load(path, &d->items, err, errlen);
}

/* Dictionaries and config stores also keep to Fastly's item limits (secret stores do not). */
static cfg_status load_dictionary(edge_item *item, const char *name, const char *path, char *err,
                                  size_t errlen)
{
    cfg_status st = load_string_store(item, name, path, err, errlen);
    return st != CFG_OK ? st
                        : cfg_string_map_check_limits(&item->dictionary.items, path, err, errlen);
}

/* Secret stores: a JSON syntax error names where it is, but not the text near it (jansson quotes
 * the offending token, which may be part of a secret). */
static cfg_status load_secret_store(edge_item *item, const char *name, const char *path, char *err,
                                    size_t errlen)
{
    cfg_status st = load_string_store(item, name, path, err, errlen);
    char *near = st == CFG_ERR_JSON ? strstr(err, " near ") : NULL;
    if (near)
        *near = '\0';
    return st;
}

static void deinit_string_store(edge_item *item)
{
    cfg_dictionary_deinit(&item->dictionary);
}

static cfg_status load_kv_store(edge_item *item, const char *name, const char *path, char *err,
                                size_t errlen)
{
    cfg_kv_store *kv = &item->kv_store;
    cfg_status st = copy_name_path(&kv->name, &kv->path, name, path, err, errlen);
    return st != CFG_OK || !path ? st : cfg_kv_store_load(path, kv, err, errlen);
}

static void deinit_kv_store(edge_item *item)
{
    cfg_kv_store_deinit(&item->kv_store);
}

static cfg_status load_acl(edge_item *item, const char *name, const char *path, char *err,
                           size_t errlen)
{
    cfg_acl *acl = &item->acl;
    cfg_status st = copy_name_path(&acl->name, &acl->path, name, path, err, errlen);
    return st != CFG_OK ? st : cfg_acl_load(path, acl, err, errlen);
}

static void deinit_acl(edge_item *item)
{
    cfg_acl_deinit(&item->acl);
}

static cfg_status open_logger(edge_item *item, const char *name, const char *path, char *err,
                              size_t errlen)
{
    if (path) {
        /* As Fastlike does: the file is created (appended to) at startup, so a bad path fails
         * now. */
        int fd = path[0] ? open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644) : -1;
        if (fd < 0) {
            snprintf(err, errlen, "cannot open %s for appending: %s", path,
                     path[0] ? strerror(errno) : "empty path");
            return CFG_ERR_FILE;
        }
        close(fd);
    }
    return copy_name_path(&item->logger.name, &item->logger.path, name, path, err, errlen);
}

static void deinit_logger(edge_item *item)
{
    free(item->logger.name);
    free(item->logger.path);
}

static const edge_kind string_store_kind = {sizeof(cfg_dictionary), true, load_string_store,
                                            deinit_string_store};
static const edge_kind dictionary_kind = {sizeof(cfg_dictionary), true, load_dictionary,
                                          deinit_string_store};
static const edge_kind secret_store_kind = {sizeof(cfg_dictionary), true, load_secret_store,
                                            deinit_string_store};
static const edge_kind kv_store_kind = {sizeof(cfg_kv_store), false, load_kv_store,
                                        deinit_kv_store};
static const edge_kind acl_kind = {sizeof(cfg_acl), true, load_acl, deinit_acl};
static const edge_kind logger_kind = {sizeof(cfg_logger), false, open_logger, deinit_logger};

/* Every named kind begins with `char *name`, so one search serves them all: a pointer to a struct
 * converts to a pointer to its first member. */
static const void *find_named(const void *arr, size_t n, size_t size, const char *name,
                              size_t name_len)
{
    for (size_t i = 0; i < n; i++) {
        const void *item = (const char *)arr + i * size;
        const char *have = *(char *const *)item;
        if (have && strlen(have) == name_len && memcmp(have, name, name_len) == 0)
            return item;
    }
    return NULL;
}

static bool valid_name(const char *name)
{
    if (!name || !name[0])
        return false;
    for (const char *p = name; *p; p++) {
        unsigned char c = (unsigned char)*p;
        if (c <= ' ' || c >= 0x7f || c == '=')
            return false;
    }
    return true;
}

/* Checks that `name` is valid and not yet used in arr (of n items of `size` bytes). */
static cfg_status check_new_name(const void *arr, size_t n, size_t size, const char *name,
                                 char *err, size_t errlen)
{
    if (!valid_name(name)) {
        snprintf(err, errlen, "name '%s' is invalid (non-empty printable ASCII, no spaces or '=')",
                 name ? name : "");
        return CFG_ERR_VALUE;
    }
    if (find_named(arr, n, size, name, strlen(name))) {
        snprintf(err, errlen, "'%s' is given twice", name);
        return CFG_ERR_VALUE;
    }
    return CFG_OK;
}

/* Appends a copy of the item (size bytes) to *arr; false when out of memory. */
static bool append_item(void *arr_ptr, size_t *n, size_t size, const void *item)
{
    void **arr = arr_ptr;
    char *grown = realloc(*arr, (*n + 1) * size);
    if (!grown)
        return false;
    memcpy(grown + *n * size, item, size);
    *arr = grown;
    (*n)++;
    return true;
}

/* Checks the name and the path, loads the item, then appends it to *arr (of *n items). */
static cfg_status add_named(void *arr_ptr, size_t *n, const edge_kind *kind, const char *name,
                            const char *path, char *err, size_t errlen)
{
    void **arr = arr_ptr;
    cfg_status st = check_new_name(*arr, *n, kind->size, name, err, errlen);
    if (st != CFG_OK)
        return st;
    if (kind->needs_path && (!path || !path[0])) {
        snprintf(err, errlen, "'%s' needs a JSON file", name);
        return CFG_ERR_VALUE;
    }
    edge_item item;
    memset(&item, 0, sizeof item);
    st = kind->load(&item, name, path, err, errlen);
    if (st != CFG_OK)
        cfg_json_one_line(err); /* messages quote keys, which may hold newlines */
    if (st != CFG_OK || !append_item(arr_ptr, n, kind->size, &item)) {
        kind->deinit(&item);
        return st != CFG_OK ? st : nomem(err, errlen);
    }
    return CFG_OK;
}

void cfg_edge_init(cfg_edge *e)
{
    memset(e, 0, sizeof *e);
}

static void free_named(void *arr, size_t n, const edge_kind *kind)
{
    for (size_t i = 0; i < n; i++) {
        edge_item item;
        memcpy(&item, (char *)arr + i * kind->size, kind->size);
        kind->deinit(&item);
    }
    free(arr);
}

void cfg_edge_deinit(cfg_edge *e)
{
    if (!e)
        return;
    free_named(e->dictionaries, e->ndictionaries, &string_store_kind);
    free_named(e->config_stores, e->nconfig_stores, &string_store_kind);
    free_named(e->secret_stores, e->nsecret_stores, &string_store_kind);
    free_named(e->kv_stores, e->nkv_stores, &kv_store_kind);
    free_named(e->acls, e->nacls, &acl_kind);
    free_named(e->loggers, e->nloggers, &logger_kind);
    cfg_geo_deinit(e->geo);
    free(e->geo);
    cfg_device_deinit(e->device);
    free(e->device);
    cfg_shields_deinit(&e->shields);
    cfg_edge_init(e);
}

cfg_status cfg_edge_add_dictionary(cfg_edge *e, const char *name, const char *json_path, char *err,
                                   size_t errlen)
{
    return add_named(&e->dictionaries, &e->ndictionaries, &dictionary_kind, name, json_path, err,
                     errlen);
}

cfg_status cfg_edge_add_config_store(cfg_edge *e, const char *name, const char *json_path,
                                     char *err, size_t errlen)
{
    return add_named(&e->config_stores, &e->nconfig_stores, &dictionary_kind, name, json_path, err,
                     errlen);
}

cfg_status cfg_edge_add_secret_store(cfg_edge *e, const char *name, const char *json_path,
                                     char *err, size_t errlen)
{
    return add_named(&e->secret_stores, &e->nsecret_stores, &secret_store_kind, name, json_path,
                     err, errlen);
}

cfg_status cfg_edge_add_kv_store(cfg_edge *e, const char *name, const char *json_path, char *err,
                                 size_t errlen)
{
    return add_named(&e->kv_stores, &e->nkv_stores, &kv_store_kind, name, json_path, err, errlen);
}

cfg_status cfg_edge_add_acl(cfg_edge *e, const char *name, const char *json_path, char *err,
                            size_t errlen)
{
    return add_named(&e->acls, &e->nacls, &acl_kind, name, json_path, err, errlen);
}

cfg_status cfg_edge_add_logger(cfg_edge *e, const char *name, const char *path, char *err,
                               size_t errlen)
{
    return add_named(&e->loggers, &e->nloggers, &logger_kind, name, path, err, errlen);
}

cfg_status cfg_edge_set_geo(cfg_edge *e, const char *json_path, char *err, size_t errlen)
{
    cfg_geo *geo = NULL;
    if (json_path) {
        geo = calloc(1, sizeof *geo);
        if (!geo || !(geo->path = strdup(json_path))) {
            free(geo);
            return nomem(err, errlen);
        }
        geo->use_default_loopback = true; /* as Viceroy's default */
        size_t n = strlen(json_path);
        cfg_status st = n > 5 && strcasecmp(json_path + n - 5, ".mmdb") == 0
                            ? cfg_geo_load_mmdb(json_path, geo, err, errlen)
                            : cfg_geo_load(json_path, geo, err, errlen);
        if (st != CFG_OK) {
            cfg_json_one_line(err);
            cfg_geo_deinit(geo);
            free(geo);
            return st;
        }
    }
    cfg_geo_deinit(e->geo);
    free(e->geo);
    e->geo = geo;
    return CFG_OK;
}

cfg_status cfg_edge_set_device(cfg_edge *e, const char *json_path, char *err, size_t errlen)
{
    cfg_device *dev = NULL;
    if (json_path) {
        dev = calloc(1, sizeof *dev);
        if (!dev || !(dev->path = strdup(json_path))) {
            free(dev);
            return nomem(err, errlen);
        }
        cfg_status st = cfg_device_load(json_path, dev, err, errlen);
        if (st != CFG_OK) {
            cfg_json_one_line(err);
            cfg_device_deinit(dev);
            free(dev);
            return st;
        }
    }
    cfg_device_deinit(e->device);
    free(e->device);
    e->device = dev;
    return CFG_OK;
}

/* ---- in-memory adders and merging ---- */

static cfg_status add_map(cfg_dictionary **arr, size_t *n, const char *name, const char *path,
                          cfg_string_map *items, char *err, size_t errlen)
{
    cfg_status st = check_new_name(*arr, *n, sizeof **arr, name, err, errlen);
    if (st != CFG_OK)
        return st;
    cfg_dictionary d;
    memset(&d, 0, sizeof d);
    if (copy_name_path(&d.name, &d.path, name, path, err, errlen) != CFG_OK ||
        !append_item(arr, n, sizeof d, &d)) {
        free(d.name);
        free(d.path);
        return nomem(err, errlen);
    }
    cfg_dictionary *added = &(*arr)[*n - 1];
    added->items = *items;
    cfg_string_map_sort(&added->items);
    items->entries = NULL;
    items->count = 0;
    return CFG_OK;
}

cfg_status cfg_edge_add_dictionary_map(cfg_edge *e, const char *name, const char *path,
                                       cfg_string_map *items, char *err, size_t errlen)
{
    return add_map(&e->dictionaries, &e->ndictionaries, name, path, items, err, errlen);
}

cfg_status cfg_edge_add_config_store_map(cfg_edge *e, const char *name, const char *path,
                                         cfg_string_map *items, char *err, size_t errlen)
{
    return add_map(&e->config_stores, &e->nconfig_stores, name, path, items, err, errlen);
}

cfg_status cfg_edge_add_secret_store_map(cfg_edge *e, const char *name, const char *path,
                                         cfg_string_map *items, char *err, size_t errlen)
{
    return add_map(&e->secret_stores, &e->nsecret_stores, name, path, items, err, errlen);
}

cfg_status cfg_edge_add_kv_store_entries(cfg_edge *e, const char *name, const char *path,
                                         cfg_kv_entry *entries, size_t count, char *err,
                                         size_t errlen)
{
    cfg_status st =
        check_new_name(e->kv_stores, e->nkv_stores, sizeof *e->kv_stores, name, err, errlen);
    if (st != CFG_OK)
        return st;
    cfg_kv_store kv;
    memset(&kv, 0, sizeof kv);
    if (copy_name_path(&kv.name, &kv.path, name, path, err, errlen) != CFG_OK ||
        !append_item(&e->kv_stores, &e->nkv_stores, sizeof kv, &kv)) {
        free(kv.name);
        free(kv.path);
        return nomem(err, errlen);
    }
    cfg_kv_store *added = &e->kv_stores[e->nkv_stores - 1];
    added->entries = count ? entries : NULL;
    added->count = cfg_kv_entries_sort(entries, count);
    if (!count)
        free(entries);
    return CFG_OK;
}

void cfg_edge_put_geo(cfg_edge *e, cfg_geo *geo)
{
    cfg_geo_deinit(e->geo);
    free(e->geo);
    e->geo = geo;
}

void cfg_edge_put_device(cfg_edge *e, cfg_device *device)
{
    cfg_device_deinit(e->device);
    free(e->device);
    e->device = device;
}

/* Moves the items of *src (n of them) that dst lacks into dst, frees the others. */
static bool merge_named(void *dst_ptr, size_t *dn, void *src_ptr, size_t *sn, const edge_kind *kind)
{
    void **src = src_ptr;
    while (*sn > 0) {
        edge_item item;
        memcpy(&item, *src, kind->size);
        const char *name = *(char *const *)(const void *)&item;
        if (find_named(*(void **)dst_ptr, *dn, kind->size, name, strlen(name)))
            kind->deinit(&item);
        else if (!append_item(dst_ptr, dn, kind->size, &item))
            return false;
        (*sn)--;
        memmove(*src, (char *)*src + kind->size, *sn * kind->size);
    }
    free(*src);
    *src = NULL;
    return true;
}

cfg_status cfg_edge_merge(cfg_edge *dst, cfg_edge *src, char *err, size_t errlen)
{
    if (!merge_named(&dst->dictionaries, &dst->ndictionaries, &src->dictionaries,
                     &src->ndictionaries, &string_store_kind) ||
        !merge_named(&dst->config_stores, &dst->nconfig_stores, &src->config_stores,
                     &src->nconfig_stores, &string_store_kind) ||
        !merge_named(&dst->secret_stores, &dst->nsecret_stores, &src->secret_stores,
                     &src->nsecret_stores, &string_store_kind) ||
        !merge_named(&dst->kv_stores, &dst->nkv_stores, &src->kv_stores, &src->nkv_stores,
                     &kv_store_kind) ||
        !merge_named(&dst->acls, &dst->nacls, &src->acls, &src->nacls, &acl_kind) ||
        !merge_named(&dst->loggers, &dst->nloggers, &src->loggers, &src->nloggers, &logger_kind))
        return nomem(err, errlen);
    if (!dst->geo) {
        dst->geo = src->geo;
        src->geo = NULL;
    }
    if (!dst->device) {
        dst->device = src->device;
        src->device = NULL;
    }
    if (!cfg_shields_merge(&dst->shields, &src->shields))
        return nomem(err, errlen);
    cfg_edge_deinit(src);
    return CFG_OK;
}

const cfg_dictionary *cfg_edge_dictionary(const cfg_edge *e, const char *name, size_t name_len)
{
    return find_named(e->dictionaries, e->ndictionaries, sizeof *e->dictionaries, name, name_len);
}

const cfg_config_store *cfg_edge_config_store(const cfg_edge *e, const char *name, size_t name_len)
{
    return find_named(e->config_stores, e->nconfig_stores, sizeof *e->config_stores, name,
                      name_len);
}

const cfg_secret_store *cfg_edge_secret_store(const cfg_edge *e, const char *name, size_t name_len)
{
    return find_named(e->secret_stores, e->nsecret_stores, sizeof *e->secret_stores, name,
                      name_len);
}

const cfg_kv_store *cfg_edge_kv_store(const cfg_edge *e, const char *name, size_t name_len)
{
    return find_named(e->kv_stores, e->nkv_stores, sizeof *e->kv_stores, name, name_len);
}

const cfg_acl *cfg_edge_acl(const cfg_edge *e, const char *name, size_t name_len)
{
    return find_named(e->acls, e->nacls, sizeof *e->acls, name, name_len);
}

const cfg_logger *cfg_edge_logger(const cfg_edge *e, const char *name, size_t name_len)
{
    return find_named(e->loggers, e->nloggers, sizeof *e->loggers, name, name_len);
}

/* ---- deep copies (a server keeps its own copy of the configuration's edge data) ---- */

/* NULL stays NULL (an absent value); anything else is copied with a NUL after it. */
static char *dup_bytes(const char *s, size_t n)
{
    return s ? util_strndup(s, n) : NULL;
}

/* True when a copy failed: src was set but dst is NULL. */
static bool lost(const void *src, const void *dst)
{
    return src && !dst;
}

static bool clone_string_store(cfg_dictionary *d, const cfg_dictionary *s)
{
    d->name = util_strdup(s->name);
    d->path = util_strdup(s->path);
    d->items.entries = s->items.count ? calloc(s->items.count, sizeof *d->items.entries) : NULL;
    if (lost(s->name, d->name) || lost(s->path, d->path) || (s->items.count && !d->items.entries))
        return false;
    d->items.count = s->items.count;
    for (size_t i = 0; i < s->items.count; i++) {
        const cfg_string_entry *se = &s->items.entries[i];
        cfg_string_entry *de = &d->items.entries[i];
        de->key = dup_bytes(se->key, se->key_len);
        de->value = dup_bytes(se->value, se->value_len);
        de->key_len = se->key_len;
        de->value_len = se->value_len;
        if (lost(se->key, de->key) || lost(se->value, de->value))
            return false;
    }
    return true;
}

static bool clone_kv_store(cfg_kv_store *d, const cfg_kv_store *s)
{
    d->name = util_strdup(s->name);
    d->path = util_strdup(s->path);
    d->entries = s->count ? calloc(s->count, sizeof *d->entries) : NULL;
    if (lost(s->name, d->name) || lost(s->path, d->path) || (s->count && !d->entries))
        return false;
    d->count = s->count;
    for (size_t i = 0; i < s->count; i++) {
        const cfg_kv_entry *se = &s->entries[i];
        cfg_kv_entry *de = &d->entries[i];
        *de = *se;
        de->key = dup_bytes(se->key, se->key_len);
        de->body = dup_bytes(se->body, se->body_len);
        de->metadata = dup_bytes(se->metadata, se->metadata_len);
        if (lost(se->key, de->key) || lost(se->body, de->body) || lost(se->metadata, de->metadata))
            return false;
    }
    return true;
}

static bool clone_acl(cfg_acl *d, const cfg_acl *s)
{
    d->name = util_strdup(s->name);
    d->path = util_strdup(s->path);
    d->entries = s->count ? malloc(s->count * sizeof *d->entries) : NULL;
    if (lost(s->name, d->name) || lost(s->path, d->path) || (s->count && !d->entries))
        return false;
    if (s->count)
        memcpy(d->entries, s->entries, s->count * sizeof *d->entries);
    d->count = s->count;
    return true;
}

static bool clone_logger(cfg_logger *d, const cfg_logger *s)
{
    d->name = util_strdup(s->name);
    d->path = util_strdup(s->path);
    return !lost(s->name, d->name) && !lost(s->path, d->path);
}

static bool clone_geo(cfg_geo **dp, const cfg_geo *s)
{
    if (!s)
        return true;
    cfg_geo *d = calloc(1, sizeof *d);
    *dp = d;
    if (!d)
        return false;
    d->path = util_strdup(s->path);
    d->mmdb_path = util_strdup(s->mmdb_path);
    d->use_default_loopback = s->use_default_loopback;
    d->mmdb = cfg_geo_mmdb_ref(s->mmdb);
    d->entries = s->count ? calloc(s->count, sizeof *d->entries) : NULL;
    if (lost(s->path, d->path) || lost(s->mmdb_path, d->mmdb_path) || (s->count && !d->entries))
        return false;
    d->count = s->count;
    for (size_t i = 0; i < s->count; i++) {
        d->entries[i].prefix = s->entries[i].prefix;
        d->entries[i].json = util_strdup(s->entries[i].json);
        if (lost(s->entries[i].json, d->entries[i].json))
            return false;
    }
    return true;
}

static bool clone_device(cfg_device **dp, const cfg_device *s)
{
    if (!s)
        return true;
    cfg_device *d = calloc(1, sizeof *d);
    *dp = d;
    if (!d)
        return false;
    d->path = util_strdup(s->path);
    d->entries = s->count ? calloc(s->count, sizeof *d->entries) : NULL;
    if (lost(s->path, d->path) || (s->count && !d->entries))
        return false;
    d->count = s->count;
    for (size_t i = 0; i < s->count; i++) {
        d->entries[i].user_agent = util_strdup(s->entries[i].user_agent);
        d->entries[i].json = util_strdup(s->entries[i].json);
        if (!d->entries[i].user_agent || !d->entries[i].json)
            return false;
    }
    return true;
}

/* Copies n items of src into a new array *dst with clone(); *dn counts the items copied so far,
 * so a failure leaves a freeable array. */
#define CLONE_ARRAY(dst, dn, src, sn, clone)                                                       \
    do {                                                                                           \
        if ((sn) > 0) {                                                                            \
            (dst) = calloc((sn), sizeof *(dst));                                                   \
            if (!(dst))                                                                            \
                goto fail;                                                                         \
            for (size_t i_ = 0; i_ < (sn); i_++) {                                                 \
                (dn) = i_ + 1;                                                                     \
                if (!clone(&(dst)[i_], &(src)[i_]))                                                \
                    goto fail;                                                                     \
            }                                                                                      \
        }                                                                                          \
    } while (0)

cfg_status cfg_edge_clone(cfg_edge *dst, const cfg_edge *src, char *err, size_t errlen)
{
    cfg_edge_init(dst);
    CLONE_ARRAY(dst->dictionaries, dst->ndictionaries, src->dictionaries, src->ndictionaries,
                clone_string_store);
    CLONE_ARRAY(dst->config_stores, dst->nconfig_stores, src->config_stores, src->nconfig_stores,
                clone_string_store);
    CLONE_ARRAY(dst->secret_stores, dst->nsecret_stores, src->secret_stores, src->nsecret_stores,
                clone_string_store);
    CLONE_ARRAY(dst->kv_stores, dst->nkv_stores, src->kv_stores, src->nkv_stores, clone_kv_store);
    CLONE_ARRAY(dst->acls, dst->nacls, src->acls, src->nacls, clone_acl);
    CLONE_ARRAY(dst->loggers, dst->nloggers, src->loggers, src->nloggers, clone_logger);
    if (!clone_geo(&dst->geo, src->geo) || !clone_device(&dst->device, src->device))
        goto fail;
    if (!cfg_shields_clone(&dst->shields, &src->shields))
        goto fail;
    return CFG_OK;
fail:
    cfg_edge_deinit(dst);
    return nomem(err, errlen);
}
