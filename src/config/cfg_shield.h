/* cfg_shield.h: the shield POPs a server knows (fastly.toml's [local_server.shielding_sites], as
 * Viceroy reads it, and `-shield NAME=local|ADDR`): per name, either "local" (this server plays
 * that shield POP) or the URLs through which the shield is reached, unencrypted and encrypted.
 * fastly_shielding.shield_info and backend_for_shield answer from them. */
#ifndef CFG_SHIELD_H
#define CFG_SHIELD_H

#include "config/cfg_status.h"

#include <stdbool.h>
#include <stddef.h>

typedef struct cfg_shield {
    char *name;
    bool local;        /* this server runs "on" the shield */
    char *unencrypted; /* remote shields: the URLs, e.g. "http://127.0.0.1:7676/"; NULL if local */
    char *encrypted;
} cfg_shield;

typedef struct cfg_shields {
    cfg_shield *items;
    size_t n;
} cfg_shields;

/* Frees every entry and leaves *s empty (zeroed). Accepts NULL. */
void cfg_shields_deinit(cfg_shields *s);

/* Adds a shield (strings copied). local: both URLs must be NULL; remote: both must be absolute
 * http:// or https:// URLs with a host. Errors (one line, no prefix): CFG_ERR_VALUE for an empty
 * name, a name given twice or a bad URL; CFG_ERR_NOMEM. */
cfg_status cfg_shields_add(cfg_shields *s, const char *name, bool local, const char *unencrypted,
                           const char *encrypted, char *err, size_t errlen);

/* The -shield flag: "NAME=local" (any case) or "NAME=ADDR", ADDR being HOST:PORT (taken as
 * http://HOST:PORT/) or an http(s) URL, used for both the unencrypted and the encrypted route.
 * Errors as cfg_shields_add, CFG_ERR_VALUE for a missing '=' or an empty part. */
cfg_status cfg_shields_add_spec(cfg_shields *s, const char *spec, char *err, size_t errlen);

/* Deep copy into *dst (emptied first); false when out of memory (then *dst is empty). */
bool cfg_shields_clone(cfg_shields *dst, const cfg_shields *src);

/* Moves the entries of *src whose name *dst lacks into *dst (the ones given first win); *src is
 * left empty. False when out of memory. */
bool cfg_shields_merge(cfg_shields *dst, cfg_shields *src);

/* The shield named exactly name[0..len), or NULL. */
const cfg_shield *cfg_shields_find(const cfg_shields *s, const char *name, size_t len);

/* True for an absolute http:// or https:// URL with a non-empty host and no white space. */
bool cfg_shield_url_ok(const char *url);

#endif
