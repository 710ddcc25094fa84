/* cfg_flags.h: the serving flags of `fastlike` (as documented for Fastlike: -wasm, -bind,
 * -backend, -v, -dictionary, -kv, ...), parsed with Go's flag syntax into a cfg_options. Every
 * file a flag names is read and validated while parsing, so a bad file is a startup error. */
#ifndef CFG_FLAGS_H
#define CFG_FLAGS_H

#include "config/cfg_backend.h"
#include "config/cfg_edge.h"
#include "config/cfg_pushpin.h"
#include "config/cfg_status.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CFG_DEFAULT_BIND "localhost:5000"

typedef enum cfg_profile_mode {
    CFG_PROFILE_OFF,
    CFG_PROFILE_TRACE, /* the default */
    CFG_PROFILE_NATIVE,
    CFG_PROFILE_COMBINED,
    CFG_PROFILE_DEEP,
} cfg_profile_mode;

/* -override-host [name=]host: backend NULL targets the catch-all backend. */
typedef struct cfg_override_host {
    char *backend;
    char *host;
} cfg_override_host;

typedef struct cfg_options {
    bool help; /* -h / -help: print cfg_usage_text() and exit 0; nothing else is checked */
    char *wasm;
    char *bind; /* NULL: CFG_DEFAULT_BIND (see cfg_options_bind) */
    cfg_backend *backends;
    size_t nbackends;
    cfg_override_host *override_hosts;
    size_t noverride_hosts;
    int verbosity; /* 0, 1, 2 */
    bool reload;
    bool watch;    /* -watch: reload when the wasm file changes (inotify) */
    cfg_edge edge; /* -dictionary, -config-store, -secret-store, -kv, -acl, -geo, -logger */
    char *compliance_region; /* NULL, "none", "us-eu" or "us" */
    char *kv_dir;            /* -kv-dir: NULL keeps the KV stores in memory */
    char **fake_fastly_keys;
    size_t nfake_fastly_keys;
    char *profile_ui; /* NULL: no profiler UI listener */
    cfg_profile_mode profile_mode;
    bool profile_native;
    size_t profile_max_requests; /* -profile-max-requests; 0: the default (1000) */
    bool profile_ui_allow_remote;
    char *profile_ui_token;         /* NULL: generated when remote access is allowed */
    char *profile_guest_dir;        /* -profile-guest-dir: one Firefox Profiler JSON per request */
    bool unknown_import_link_error; /* -unknown-import link-error */
    bool request_timeout_set;
    uint64_t request_timeout_ms;
    char *config_file;   /* -C / -config fastly.toml: its [local_server] is merged in after the
                            flags, which win over it (cfg_fastly_toml.h) */
    bool cache_size_set; /* -cache-size */
    uint64_t cache_size;
    cfg_pushpin pushpin;     /* -pushpin*, -websocket-passthrough, [local_server.pushpin] */
    const char *tier;        /* -tier interp|auto|native (a static string), NULL: not given */
    bool shutdown_grace_set; /* -shutdown-grace */
    uint64_t shutdown_grace_ms;
} cfg_options;

void cfg_options_init(cfg_options *o);
void cfg_options_deinit(cfg_options *o);

/* Parses argv[0..argc) (flags only: no program name, no "run" command) into *o, which must be
 * freshly initialised. Flags take one or two dashes; values follow as "-flag value" or
 * "-flag=value"; booleans take "-flag" or "-flag=true|false"; one positional FILE.wasm may stand
 * in for -wasm; "--" ends the flags. On error returns CFG_ERR_USAGE, CFG_ERR_VALUE, CFG_ERR_FILE,
 * CFG_ERR_JSON or CFG_ERR_NOMEM with one line naming the flag and the problem in err (no
 * "fastlike:" prefix, no newline); *o then still needs cfg_options_deinit. */
cfg_status cfg_parse_flags(cfg_options *o, int argc, char *const *argv, char *err, size_t errlen);

/* (With -C FILE the toml's backends, stores, ACLs, geolocation, device detection and fake keys
 * are added where no flag gave the same kind and name; its errors are CFG_ERR_TOML, CFG_ERR_FILE,
 * CFG_ERR_JSON or CFG_ERR_VALUE, the line naming the toml, the line:column and the key.) */

/* The listening address: -bind, or CFG_DEFAULT_BIND. */
const char *cfg_options_bind(const cfg_options *o);
const char *cfg_profile_mode_name(cfg_profile_mode mode);

/* The usage text of the serving flags (static, ends with a newline). */
const char *cfg_usage_text(void);

#endif
