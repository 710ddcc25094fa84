/* cfg_fastly_toml.h: a Compute project's fastly.toml (-C FILE), read as Viceroy reads it: the
 * [local_server] section's backends, dictionaries, config stores, KV (object) stores, secret
 * stores, geolocation, device detection, ACLs and fake Fastly keys, checked with Viceroy's rules
 * and loaded into a cfg_options. The package fields (name, language, [scripts], ...) are checked
 * for type where Viceroy does and otherwise ignored. */
#ifndef CFG_FASTLY_TOML_H
#define CFG_FASTLY_TOML_H

#include "config/cfg_flags.h"
#include "config/cfg_status.h"

#include <stddef.h>

/* Reads `path` into *out, which must be freshly initialised (cfg_options_init): named backends
 * (with the TLS, SNI, gRPC, timeout and health options in cfg_backend), out->edge (inline data as
 * in-memory stores, JSON files loaded now) and out->fake_fastly_keys. Relative file names in the
 * toml resolve against the toml's directory. On error returns CFG_ERR_FILE (the toml or a file it
 * names cannot be read), CFG_ERR_TOML (syntax, or a key with the wrong type or value), CFG_ERR_JSON
 * (a named JSON file), CFG_ERR_VALUE (a bad store name) or CFG_ERR_NOMEM, with one line in err:
 * "PATH:LINE:COLUMN: local_server.KEY...: problem" (Viceroy's wording of the problem), or
 * "PATH: problem" when there is no position. *out then still needs cfg_options_deinit. */
cfg_status cfg_fastly_toml_load(const char *path, cfg_options *out, char *err, size_t errlen);

/* Moves what `toml` holds into `o` where `o` has nothing of that kind and name already: command
 * line flags win over the toml (a backend, store or ACL of the same name, -geo over the toml's
 * geolocation); fake keys are added. `toml` is left empty. CFG_ERR_NOMEM only. */
cfg_status cfg_fastly_toml_merge(cfg_options *o, cfg_options *toml, char *err, size_t errlen);

#endif
