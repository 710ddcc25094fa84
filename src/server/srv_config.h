/* srv_config.h: the fastlike_config behind include/fastlike.h: every option the embedding API and
 * the command line can set, copied and validated by the setters, read by fastlike_new. Also the
 * guest environment (FASTLY_* names with Viceroy's local defaults). The stores, ACLs, geolocation
 * table and log endpoints are a cfg_edge (config/cfg_edge.h, with the lookups by name). */
#ifndef SRV_CONFIG_H
#define SRV_CONFIG_H

#include "backend/be_backend.h"
#include "config/cfg_backend.h"
#include "config/cfg_edge.h"
#include "config/cfg_pushpin.h"
#include "config/cfg_flags.h" /* cfg_profile_mode */
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
    uint64_t shutdown_grace_ms; /* fastlike_serve: how long requests in flight may finish */
    uint64_t memory_limit;      /* bytes per instance, 0 = the wasm32 maximum */
    uint64_t cache_size;        /* bytes for the shared cache, 0 = keep nothing */
    bool unknown_import_error;
    size_t workers;   /* 0 = sized to the machine */
    srv_env_var *env; /* FASTLY_* defaults first, then additions */
    size_t nenv;
    fastlike_log_fn log_fn;
    void *log_user;
    char *compliance_region; /* NULL = "none" */
    char **fake_keys;        /* NULL-terminated, or NULL */
    size_t nfake_keys;
    /* Loaded by the store, ACL, geo and logger setters. Not in effect yet: the stores, ACL,
     * geolocation and logging hostcalls will read it (cfg_edge_dictionary, ...). Callers free the
     * config right after fastlike_new (cmd/fastlike does), so fastlike_new must copy or take over
     * whatever it keeps. */
    cfg_edge edge;
    char *kv_dir;                  /* -kv-dir: KV stores persisted there (NULL: memory) */
    bool reload;                   /* -reload: the command line reloads on SIGHUP */
    bool watch;                    /* -watch: reload when the wasm file changes */
    char *profile_ui;              /* NULL: no profiler viewer */
    cfg_profile_mode profile_mode; /* CFG_PROFILE_TRACE by default */
    bool profile_native;
    /* profiler details (profiler/prof_recorder.h, prof_viewer.h) */
    size_t profile_max_requests; /* 0: the default (1000) */
    bool profile_allow_remote;   /* -profile-ui-allow-remote */
    char *profile_token;         /* -profile-ui-token; NULL: generated when remote */
    char *profile_guest_dir;     /* Viceroy's --profile=guest,DIR; NULL: none */
    cfg_pushpin pushpin;         /* Fanout / WebSocket handoffs (srv_fanout.c's setters) */
};

/* For the command line, which parses flags and -C fastly.toml into a cfg_options first: adds one
 * backend with every option cfg_backend carries (fastly.toml's override_host, cert_host, use_sni,
 * grpc, PEM client certificate and CAs, timeouts, health), replacing one of the same name. */
fastlike_status srv_config_add_cfg_backend(fastlike_config *c, const cfg_backend *b, char *err,
                                           size_t errlen);
/* Replaces the configuration's edge data by a deep copy of *e (inline data included). */
fastlike_status srv_config_set_edge(fastlike_config *c, const cfg_edge *e, char *err,
                                    size_t errlen);

/* The value of an environment variable guests see, or NULL. */
const char *srv_config_env(const fastlike_config *c, const char *name);

/* Splits "host:port" / "[v6]:port" / ":port" into a malloc'd host ("" = any) and a port string
 * (pointer into `s`). Returns 0, or -1 with a message in err. */
int srv_split_bind(const char *s, char **host, const char **port, char *err, size_t errlen);

#endif
