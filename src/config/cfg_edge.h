/* cfg_edge.h: the edge data a server is configured with: dictionaries, config stores, secret
 * stores, KV stores, ACLs, the geolocation table and log endpoints, each loaded and checked when
 * added. The serving flags (cfg_flags) and the embedding API (fastlike_config) both keep one. */
#ifndef CFG_EDGE_H
#define CFG_EDGE_H

#include "config/cfg_acl.h"
#include "config/cfg_device.h"
#include "config/cfg_geo.h"
#include "config/cfg_shield.h"
#include "config/cfg_status.h"
#include "config/cfg_store.h"

#include <stddef.h>

/* A log endpoint (-logger name[=file]): path NULL logs to stdout. */
typedef struct cfg_logger {
    char *name;
    char *path;
} cfg_logger;

/* Everything in the order added; names are unique per kind (a dictionary and a config store may
 * share one). */
typedef struct cfg_edge {
    cfg_dictionary *dictionaries;
    size_t ndictionaries;
    cfg_config_store *config_stores;
    size_t nconfig_stores;
    cfg_secret_store *secret_stores;
    size_t nsecret_stores;
    cfg_kv_store *kv_stores; /* path NULL for an empty store */
    size_t nkv_stores;
    cfg_acl *acls;
    size_t nacls;
    cfg_geo *geo;       /* NULL: the built-in default location */
    cfg_device *device; /* NULL: no device-detection data (every lookup is none) */
    cfg_logger *loggers;
    size_t nloggers;
    cfg_shields shields; /* shield POPs (-shield, [local_server.shielding_sites]) */
} cfg_edge;

void cfg_edge_init(cfg_edge *e);
/* Frees everything and leaves *e as cfg_edge_init does. Accepts NULL. */
void cfg_edge_deinit(cfg_edge *e);

/* Makes *dst a deep copy of *src (every kind, including data loaded from files). On
 * CFG_ERR_NOMEM *dst is left empty (as cfg_edge_init). Kinds added to cfg_edge must be copied here.
 */
cfg_status cfg_edge_clone(cfg_edge *dst, const cfg_edge *src, char *err, size_t errlen);

/* The adders copy name and path and read the file now. A name is non-empty printable ASCII
 * without spaces or '=' (what the flags' NAME=FILE can spell). On error *e is unchanged and err
 * holds one line that does not name the kind, so each caller prefixes its own label (the flag,
 * or "dictionary", ...): CFG_ERR_VALUE for a bad or repeated name ("'x' is given twice") or a
 * missing file path; the loader's CFG_ERR_FILE, CFG_ERR_JSON or CFG_ERR_NOMEM with the file name
 * and the offending line:column, key or entry. */
cfg_status cfg_edge_add_dictionary(cfg_edge *e, const char *name, const char *json_path, char *err,
                                   size_t errlen);
cfg_status cfg_edge_add_config_store(cfg_edge *e, const char *name, const char *json_path,
                                     char *err, size_t errlen);
cfg_status cfg_edge_add_secret_store(cfg_edge *e, const char *name, const char *json_path,
                                     char *err, size_t errlen);
/* json_path NULL: an empty store. */
cfg_status cfg_edge_add_kv_store(cfg_edge *e, const char *name, const char *json_path, char *err,
                                 size_t errlen);
cfg_status cfg_edge_add_acl(cfg_edge *e, const char *name, const char *json_path, char *err,
                            size_t errlen);
/* Replaces the geolocation data by the file's (NULL: back to the built-in default): a MaxMind
 * database when the name ends in ".mmdb" (any case), else Fastlike's JSON table. Either way
 * use_default_loopback is true (addresses neither source knows get the default location). */
cfg_status cfg_edge_set_geo(cfg_edge *e, const char *json_path, char *err, size_t errlen);
/* Replaces the device-detection data by the JSON file's ({"user agent": {...}, ...}; NULL: no
 * data, every lookup is none). */
cfg_status cfg_edge_set_device(cfg_edge *e, const char *json_path, char *err, size_t errlen);
/* path NULL logs to stdout; otherwise the file is created (or opened for appending) now, so a bad
 * path is CFG_ERR_FILE here rather than when the first line is logged. */
cfg_status cfg_edge_add_logger(cfg_edge *e, const char *name, const char *path, char *err,
                               size_t errlen);

/* In-memory adders, for data that comes inline (fastly.toml) or was loaded by another reader:
 * the same name rules and errors as the file adders. `path` is the file the data came from, or
 * NULL for inline data. On success the entries are taken over (*items is left empty; entries[]
 * belongs to the store and is sorted by key, a repeated KV key keeping the last one given); on
 * error they stay the caller's. */
cfg_status cfg_edge_add_dictionary_map(cfg_edge *e, const char *name, const char *path,
                                       cfg_string_map *items, char *err, size_t errlen);
cfg_status cfg_edge_add_config_store_map(cfg_edge *e, const char *name, const char *path,
                                         cfg_string_map *items, char *err, size_t errlen);
cfg_status cfg_edge_add_secret_store_map(cfg_edge *e, const char *name, const char *path,
                                         cfg_string_map *items, char *err, size_t errlen);
cfg_status cfg_edge_add_kv_store_entries(cfg_edge *e, const char *name, const char *path,
                                         cfg_kv_entry *entries, size_t count, char *err,
                                         size_t errlen);
/* Replace the geolocation table / device-detection data by *geo / *device (heap-allocated, taken
 * over; NULL restores the default). */
void cfg_edge_put_geo(cfg_edge *e, cfg_geo *geo);
void cfg_edge_put_device(cfg_edge *e, cfg_device *device);

/* Moves into dst every item of src whose kind and name dst does not have yet, and src's geo and
 * device data when dst has none (so what dst already holds wins); src is left empty. Fails only
 * with CFG_ERR_NOMEM (then both stay valid, the items not yet moved still in src). */
cfg_status cfg_edge_merge(cfg_edge *dst, cfg_edge *src, char *err, size_t errlen);

/* The entry of that kind called name[0..name_len) (a guest's name is a slice), or NULL. */
const cfg_dictionary *cfg_edge_dictionary(const cfg_edge *e, const char *name, size_t name_len);
const cfg_config_store *cfg_edge_config_store(const cfg_edge *e, const char *name, size_t name_len);
const cfg_secret_store *cfg_edge_secret_store(const cfg_edge *e, const char *name, size_t name_len);
const cfg_kv_store *cfg_edge_kv_store(const cfg_edge *e, const char *name, size_t name_len);
const cfg_acl *cfg_edge_acl(const cfg_edge *e, const char *name, size_t name_len);
const cfg_logger *cfg_edge_logger(const cfg_edge *e, const char *name, size_t name_len);

#endif
