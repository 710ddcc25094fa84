/* cfg_device.h: device-detection data (fastly_device_detection.lookup): user-agent strings mapped
 * to the JSON object the lookup returns ({"device": {...}, ...}), from fastly.toml's
 * [local_server.device_detection] (inline user_agents, or a JSON file) or a JSON file. */
#ifndef CFG_DEVICE_H
#define CFG_DEVICE_H

#include "config/cfg_status.h"

#include <stddef.h>

typedef struct cfg_device_entry {
    char *user_agent; /* NUL-terminated */
    char *json;       /* compact JSON text of the entry's object */
} cfg_device_entry;

typedef struct cfg_device {
    char *path; /* the JSON file, or NULL for inline data */
    cfg_device_entry *entries;
    size_t count;
} cfg_device;

/* Loads a JSON file whose top level is an object mapping user-agent strings to objects (Viceroy's
 * device_detection file format) into out->entries (path is left to the caller). Errors name the
 * file and the line:column or offending key: CFG_ERR_FILE, CFG_ERR_JSON, CFG_ERR_NOMEM. */
cfg_status cfg_device_load(const char *path, cfg_device *out, char *err, size_t errlen);
/* Adds (or replaces) one entry: copies user_agent and json (which must be a JSON object's text;
 * CFG_ERR_JSON otherwise). */
cfg_status cfg_device_add(cfg_device *d, const char *user_agent, const char *json, char *err,
                          size_t errlen);
void cfg_device_deinit(cfg_device *d);
/* The entry for exactly this user agent, or NULL. */
const cfg_device_entry *cfg_device_lookup(const cfg_device *d, const char *ua, size_t ua_len);

#endif
