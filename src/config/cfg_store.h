/* cfg_store.h: the named stores loaded from JSON files at startup: dictionaries, config stores
 * and secret stores (a JSON object of string values) and KV stores (string values, or objects
 * {"body"|"data": string, "metadata": string}). Read-only after loading; lookups by exact key. */
#ifndef CFG_STORE_H
#define CFG_STORE_H

#include "config/cfg_status.h"

#include <stddef.h>

typedef struct cfg_string_entry {
    char *key; /* NUL-terminated (JSON keys here never hold NUL) */
    size_t key_len;
    char *value; /* NUL-terminated copy; value_len is its length */
    size_t value_len;
} cfg_string_entry;

/* A name -> string map, entries sorted by key. */
typedef struct cfg_string_map {
    cfg_string_entry *entries;
    size_t count;
} cfg_string_map;

/* -dictionary, -config-store and -secret-store: a name, the file it came from, its entries. */
typedef struct cfg_dictionary {
    char *name;
    char *path;
    cfg_string_map items;
} cfg_dictionary;
typedef cfg_dictionary cfg_config_store;
typedef cfg_dictionary cfg_secret_store;

typedef struct cfg_kv_entry {
    char *key;
    size_t key_len;
    char *body;
    size_t body_len;
    char *metadata; /* NULL when the file gives none */
    size_t metadata_len;
} cfg_kv_entry;

/* -kv name[=file.json]: entries sorted by key; path NULL for an empty store. */
typedef struct cfg_kv_store {
    char *name;
    char *path;
    cfg_kv_entry *entries;
    size_t count;
} cfg_kv_store;

/* Loads a JSON object whose values are all strings into *out (free with cfg_string_map_deinit).
 * Errors name the file and the offending key in err: CFG_ERR_FILE, CFG_ERR_JSON, CFG_ERR_NOMEM. */
cfg_status cfg_string_map_load(const char *path, cfg_string_map *out, char *err, size_t errlen);
void cfg_string_map_deinit(cfg_string_map *m);
/* Fastly's limits on dictionary and config-store items (as Viceroy, counted in characters). */
#define CFG_DICT_KEY_MAX_CHARS 256
#define CFG_DICT_VALUE_MAX_CHARS 8000
/* CFG_ERR_VALUE, with err naming `path` and the key, when a key or value of m is longer than
 * those limits. */
cfg_status cfg_string_map_check_limits(const cfg_string_map *m, const char *path, char *err,
                                       size_t errlen);
/* The entry for key[0..key_len), or NULL. */
const cfg_string_entry *cfg_string_map_get(const cfg_string_map *m, const char *key,
                                           size_t key_len);

/* Loads a KV store file into out->entries/count (name and path are left to the caller). */
cfg_status cfg_kv_store_load(const char *path, cfg_kv_store *out, char *err, size_t errlen);
void cfg_kv_store_deinit(cfg_kv_store *kv);
const cfg_kv_entry *cfg_kv_store_get(const cfg_kv_store *kv, const char *key, size_t key_len);

void cfg_dictionary_deinit(cfg_dictionary *d);

/* For maps and KV entries built in memory (fastly.toml's inline data): sorts m's entries by key
 * as the lookups need (keys must be unique). */
void cfg_string_map_sort(cfg_string_map *m);
/* Sorts entries[0..count) by key; of entries with the same key only the last one given is kept
 * (the others are freed), as a later insert overwrites. Returns the new count. */
size_t cfg_kv_entries_sort(cfg_kv_entry *entries, size_t count);

#endif
