/* srv_config.h: the fastlike_config behind include/fastlike.h: every option the embedding API and
 * the command line can set, copied and validated by the setters, read by fastlike_new. Also the
 * guest environment (FASTLY_* names with Viceroy's local defaults) and lookups of the loaded
 * stores, ACLs, geolocation table and log endpoints for the hostcalls that will serve them. */
#ifndef SRV_CONFIG_H
#define SRV_CONFIG_H

#include "backend/be_backend.h"
#include "config/cfg_acl.h"
#include "config/cfg_backend.h"
#include "config/cfg_flags.h" /* cfg_logger, cfg_profile_mode */
#include "config/cfg_geo.h"
#include "config/cfg_store.h"
#include "fastlike.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SRV_DEFAULT_BIND "localhost:5000"
#define SRV_DEFAULT_TIMEOUT_MS 60000

typedef struct srv_env_var {
    char *name, *value;
} srv_env_var;

struct fastlike_config {
    char *wasm_path;     /* read by fastlike_new, or */
    uint8_t *wasm_bytes; /* given directly */
    size_t wasm_len;
    char *bind; /* "host:port" */
    cfg_backend *backends;
    be_backend *be; /* the same backends as the outbound client uses them, with the options */
    size_t nbackends;
    uint64_t unreliable_seed;
    int verbosity;
    uint64_t timeout_ms;
    bool unknown_import_error;
    size_t workers;   /* 0 = sized to the machine */
    srv_env_var *env; /* FASTLY_* defaults first, then additions */
    size_t nenv;
    fastlike_log_fn log_fn;
    void *log_user;
    char *compliance_region; /* NULL = "none" */
    char **fake_keys;        /* NULL-terminated, or NULL */
    size_t nfake_keys;
    /* Loaded by the store setters, in the order added; names unique per kind. Not in effect yet:
     * the stores, ACL, geolocation and logging hostcalls will read them (lookups below). Callers
     * free the config right after fastlike_new (cmd/fastlike does), so fastlike_new must copy
     * or take over whatever it keeps. */
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
    cfg_geo *geo;        /* NULL: the built-in default location */
    cfg_logger *loggers; /* path NULL: stdout */
    size_t nloggers;
    bool reload;                   /* -reload (hot reload not implemented yet) */
    char *profile_ui;              /* NULL: no profiler viewer */
    cfg_profile_mode profile_mode; /* CFG_PROFILE_TRACE by default */
    bool profile_native;
};

/* The value of an environment variable guests see, or NULL. */
const char *srv_config_env(const fastlike_config *c, const char *name);

/* The store, ACL or log endpoint called name[0..name_len) (a guest's name is a slice), or NULL. */
const cfg_dictionary *srv_config_dictionary(const fastlike_config *c, const char *name,
                                            size_t name_len);
const cfg_config_store *srv_config_config_store(const fastlike_config *c, const char *name,
                                                size_t name_len);
const cfg_secret_store *srv_config_secret_store(const fastlike_config *c, const char *name,
                                                size_t name_len);
const cfg_kv_store *srv_config_kv_store(const fastlike_config *c, const char *name,
                                        size_t name_len);
const cfg_acl *srv_config_acl(const fastlike_config *c, const char *name, size_t name_len);
const cfg_logger *srv_config_logger(const fastlike_config *c, const char *name, size_t name_len);
/* The geolocation table, or NULL for the built-in default location. */
const cfg_geo *srv_config_geo(const fastlike_config *c);

/* Splits "host:port" / "[v6]:port" / ":port" into a malloc'd host ("" = any) and a port string
 * (pointer into `s`). Returns 0, or -1 with a message in err. */
int srv_split_bind(const char *s, char **host, const char **port, char *err, size_t errlen);

#endif
