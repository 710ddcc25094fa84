/* fastlike.h: the embedding API of Fastlike, a local server for Fastly Compute programs.
 * Build a configuration (the same options as the command-line flags), then either serve HTTP on a
 * socket (fastlike_serve) or hand single requests to a guest in-process (fastlike_handle), which
 * tests use without sockets. Errors are fastlike_status values with a message in a caller buffer.
 */
#ifndef FASTLIKE_H
#define FASTLIKE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum fastlike_status {
    FASTLIKE_OK = 0,
    FASTLIKE_ERR_ARGS, /* a bad option value */
    FASTLIKE_ERR_WASM, /* the guest could not be read, decoded, validated or linked */
    FASTLIKE_ERR_IO,   /* a file or socket problem (e.g. port in use) */
    FASTLIKE_ERR_NOMEM,
} fastlike_status;

const char *fastlike_strerror(fastlike_status status);

typedef struct fastlike_config fastlike_config;

fastlike_config *fastlike_config_new(void);
void fastlike_config_free(fastlike_config *config);

/* Each setter copies its arguments; errors name the problem in err[0..errlen). */
fastlike_status fastlike_config_set_wasm_file(fastlike_config *c, const char *path);
fastlike_status fastlike_config_set_wasm_bytes(fastlike_config *c, const uint8_t *bytes,
                                               size_t len);
fastlike_status fastlike_config_set_bind(fastlike_config *c, const char *host_port, char *err,
                                         size_t errlen);
/* "[name=]addr[@N]" exactly as the -backend flag (parsed and validated; used by the backends
 * issue). */
fastlike_status fastlike_config_add_backend(fastlike_config *c, const char *spec, char *err,
                                            size_t errlen);
void fastlike_config_set_verbosity(fastlike_config *c, int level); /* 0, 1, 2 */

/* Per-backend options beyond the -backend syntax. `name` names a backend added before (NULL or
 * "" = the catch-all); FASTLIKE_ERR_ARGS when there is no such backend or a value is bad. */
typedef enum fastlike_tls_version {
    FASTLIKE_TLS_DEFAULT = -1,
    FASTLIKE_TLS_1_0 = 0, /* the ABI's tls_version values */
    FASTLIKE_TLS_1_1 = 1,
    FASTLIKE_TLS_1_2 = 2,
    FASTLIKE_TLS_1_3 = 3,
} fastlike_tls_version;
/* Timeouts in milliseconds, 0 = none (defaults: Fastly's 1000 / 15000 / 10000). */
fastlike_status fastlike_config_set_backend_timeouts(fastlike_config *c, const char *name,
                                                     uint32_t connect_ms, uint32_t first_byte_ms,
                                                     uint32_t between_bytes_ms);
/* TLS on or off regardless of the URL scheme (the port stays as given). */
fastlike_status fastlike_config_set_backend_tls(fastlike_config *c, const char *name, bool enable);
fastlike_status fastlike_config_set_backend_tls_versions(fastlike_config *c, const char *name,
                                                         fastlike_tls_version min,
                                                         fastlike_tls_version max);
/* The name sent as SNI / the name the certificate must match (NULL: the backend's host). */
fastlike_status fastlike_config_set_backend_sni_hostname(fastlike_config *c, const char *name,
                                                         const char *sni);
fastlike_status fastlike_config_set_backend_cert_hostname(fastlike_config *c, const char *name,
                                                          const char *cert_host);
/* Trusted CAs from a PEM file instead of the system store (NULL: the system store). */
fastlike_status fastlike_config_set_backend_ca_file(fastlike_config *c, const char *name,
                                                    const char *pem_path);
/* Mutual TLS: client certificate and key as PEM files (NULL, NULL: none). */
fastlike_status fastlike_config_set_backend_client_cert(fastlike_config *c, const char *name,
                                                        const char *cert_path,
                                                        const char *key_path);
/* The Host header sent to the backend, as -override-host (NULL: the request's own Host). */
fastlike_status fastlike_config_set_backend_override_host(fastlike_config *c, const char *name,
                                                          const char *host);
/* Connection reuse (pool, default true) and how long idle pooled connections live (0: default). */
fastlike_status fastlike_config_set_backend_keepalive(fastlike_config *c, const char *name,
                                                      bool pool, uint32_t idle_ms);
/* Simulated unreliability as the -backend "@N" suffix: `percent` (0..100) of the requests reach
 * the origin, the rest get a synthetic 502; -1 turns it off. Also drives is_healthy (none:
 * unknown, 0: unhealthy, > 0: healthy). The default form is for the catch-all backend. */
fastlike_status fastlike_config_set_unreliable_backend(fastlike_config *c, const char *name,
                                                       int percent);
fastlike_status fastlike_config_set_unreliable_default_backend(fastlike_config *c, int percent);
/* Seed of the draws that decide which requests an unreliable backend fails (0, the default:
 * FASTLIKE_UNRELIABLE_SEED from the environment when set, else random). */
void fastlike_config_set_unreliable_seed(fastlike_config *c, uint64_t seed);
/* Per-request guest CPU deadline in milliseconds (0 = none). */
void fastlike_config_set_request_timeout_ms(fastlike_config *c, uint64_t ms);
/* How long fastlike_serve, once stopped, lets the requests in flight finish (default
 * FASTLIKE_DEFAULT_SHUTDOWN_GRACE_MS). Guests still running then are interrupted, and their
 * clients get a 503 when no response head went out yet. */
#define FASTLIKE_DEFAULT_SHUTDOWN_GRACE_MS 10000
void fastlike_config_set_shutdown_grace_ms(fastlike_config *c, uint64_t ms);
/* Most linear memory one guest instance may have, in bytes, rounded down to whole 64 KiB wasm
 * pages, at least one (default FASTLIKE_DEFAULT_MEMORY_LIMIT; 0: the wasm32 maximum, 4 GiB). Past
 * it memory.grow fails (-1) as at the module's own maximum; a module whose initial memory is larger
 * fails every request with 500. */
#define FASTLIKE_DEFAULT_MEMORY_LIMIT (512ull << 20)
void fastlike_config_set_memory_limit(fastlike_config *c, uint64_t bytes);
/* Memory for the cache (bodies and metadata) shared by every request, in bytes (default
 * FASTLIKE_DEFAULT_CACHE_SIZE); least recently used objects go first. 0: nothing is kept. */
#define FASTLIKE_DEFAULT_CACHE_SIZE (256ull << 20)
void fastlike_config_set_cache_size(fastlike_config *c, uint64_t bytes);
/* Fanout (docs/fanout.md): with `start`, Fastlike runs a Pushpin of its own (binary `path`, NULL:
 * pushpin from PATH) on 127.0.0.1 proxy_port / publish_port (0: 7677 / 5561) with a route per
 * backend; without, proxy_port is a Pushpin already listening on 127.0.0.1 (0: Fanout off, the
 * default: redirect_to_grip_proxy answers unsupported). */
fastlike_status fastlike_config_set_pushpin(fastlike_config *c, bool start, uint16_t proxy_port,
                                            uint16_t publish_port, const char *path);
/* WebSocket passthrough (redirect_to_websocket_proxy, upgrade_websocket): on by default; off makes
 * those hostcalls answer unsupported. */
void fastlike_config_set_websocket_passthrough(fastlike_config *c, bool enable);
/* Unknown imports: false (default) links a trapping stub; true fails at startup naming them all. */
void fastlike_config_set_unknown_import_error(fastlike_config *c, bool error);
/* Environment values guests see (FASTLY_HOSTNAME, FASTLY_POP, ...); NULL restores the default. */
fastlike_status fastlike_config_set_env(fastlike_config *c, const char *name, const char *value);
/* Guest worker threads (0, the default: sized to the machine, 4 per CPU and at least 8). */
void fastlike_config_set_workers(fastlike_config *c, size_t n);
/* What fastly_http_downstream.downstream_compliance_region answers: "none" (default), "us-eu"
 * or "us". FASTLIKE_ERR_ARGS with a message for anything else. */
fastlike_status fastlike_config_set_compliance_region(fastlike_config *c, const char *region,
                                                      char *err, size_t errlen);
/* A Fastly-Key value that fastly_http_downstream.fastly_key_is_valid accepts (repeatable). */
fastlike_status fastlike_config_add_fake_fastly_key(fastlike_config *c, const char *key);
/* Stores and edge data, as the -dictionary, -config-store, -secret-store, -kv, -acl and -geo
 * flags (file formats in docs/cli.md). Each setter reads and checks its JSON file at once, with
 * the same loader as the flag, and keeps the contents in the configuration (dictionaries, config
 * stores, secret stores and ACLs are served to guests; see docs/cli.md for the rest). `name` is
 * non-empty printable ASCII without spaces or '=' (what NAME=FILE can spell). Errors, with a
 * message in err: FASTLIKE_ERR_ARGS for a bad or repeated name (per kind) and for a file that is
 * not valid JSON of the expected shape (the message names the file and the line:column or the
 * offending key or entry), FASTLIKE_ERR_IO for a file that cannot be read. On error the
 * configuration is unchanged. */
fastlike_status fastlike_config_add_dictionary(fastlike_config *c, const char *name,
                                               const char *json_path, char *err, size_t errlen);
fastlike_status fastlike_config_add_config_store(fastlike_config *c, const char *name,
                                                 const char *json_path, char *err, size_t errlen);
fastlike_status fastlike_config_add_secret_store(fastlike_config *c, const char *name,
                                                 const char *json_path, char *err, size_t errlen);
/* A KV store; json_path NULL makes it empty (as -kv NAME). In effect: guests read and write it
 * through fastly_kv_store / fastly_object_store for the life of the fastlike object
 * (docs/stores.md). */
fastlike_status fastlike_config_add_kv_store(fastlike_config *c, const char *name,
                                             const char *json_path, char *err, size_t errlen);
/* As -kv-dir: keep the KV stores in DIR/kv.sqlite3 (SQLite, WAL; the directory is created when
 * missing, and fastlike_new fails with FASTLIKE_ERR_IO when the database cannot be opened), so
 * writes survive a restart; a store's configured entries seed it only when the database has never
 * had that store. NULL (the default) keeps them in memory for the life of the fastlike object. */
fastlike_status fastlike_config_set_kv_dir(fastlike_config *c, const char *dir, char *err,
                                           size_t errlen);
fastlike_status fastlike_config_add_acl(fastlike_config *c, const char *name, const char *json_path,
                                        char *err, size_t errlen);
/* The geolocation data, a JSON table or a MaxMind database whose name ends in .mmdb (as -geo); a
 * second call replaces the first (as a repeated -geo), NULL restores the
 * built-in default location. */
fastlike_status fastlike_config_set_geo(fastlike_config *c, const char *json_path, char *err,
                                        size_t errlen);
/* Device-detection data, as -device-detection FILE.json ({"user agent": {...}, ...}); a second
 * call replaces the first, NULL removes it (every lookup then answers none). */
fastlike_status fastlike_config_set_device_detection(fastlike_config *c, const char *json_path,
                                                     char *err, size_t errlen);
/* A log endpoint, as -logger NAME[=FILE]: lines are appended to `path`, which is created (or
 * opened for appending) now so a bad path fails here with FASTLIKE_ERR_IO; NULL writes to stdout.
 * A repeated name is FASTLIKE_ERR_ARGS. Guests' fastly_log entries for it are written as
 * "NAME :: MESSAGE" lines; names nobody declared go to stdout (docs/cli.md). */
fastlike_status fastlike_config_add_logger(fastlike_config *c, const char *name, const char *path,
                                           char *err, size_t errlen);
/* A shield POP, as -shield NAME=local|HOST:PORT|URL (docs/shielding.md): "NAME=local" makes this
 * server play it, otherwise the guest's backend_for_shield reaches it at that address. A bad spec
 * or a repeated name is FASTLIKE_ERR_ARGS with the reason in err. */
fastlike_status fastlike_config_add_shield(fastlike_config *c, const char *spec, char *err,
                                           size_t errlen);
/* A Compute project's fastly.toml, as -C FILE: its [local_server] backends (with their TLS, SNI,
 * gRPC, timeout and health options), dictionaries, config stores, KV (object) stores, secret
 * stores, geolocation, device detection, ACLs and fake Fastly keys, read with Viceroy's rules
 * (docs/cli.md). Relative file names resolve against the toml's directory; inline data is kept in
 * the configuration. What the configuration already has wins: a backend, store or ACL of a name
 * already added, and a geolocation table already set, are kept, so call the other setters before
 * or after this one to override the toml. Errors, one line in err naming the file, the
 * line:column and the key: FASTLIKE_ERR_IO (the toml or a file it names cannot be read),
 * FASTLIKE_ERR_ARGS (TOML syntax, a wrong type or value, a bad JSON file it names). On an error in
 * the file nothing is added. */
fastlike_status fastlike_config_load_fastly_toml(fastlike_config *c, const char *path, char *err,
                                                 size_t errlen);
/* -reload: the command line reloads (fastlike_reload) on SIGHUP; the library itself installs no
 * signal handler, so embedders call fastlike_reload themselves. */
void fastlike_config_set_reload(fastlike_config *c, bool reload);
/* -watch: watch the wasm file (inotify on its directory, so a file written elsewhere and renamed
 * over it counts) and reload once it has been unchanged for FASTLIKE_WATCH_DEBOUNCE_MS. Needs a
 * wasm file (fastlike_config_set_wasm_file); fastlike_new fails with FASTLIKE_ERR_IO when the
 * directory cannot be watched. */
#define FASTLIKE_WATCH_DEBOUNCE_MS 100
void fastlike_config_set_watch(fastlike_config *c, bool watch);
/* The profiler, as -profile-ui, -profile-mode and -profile-native (docs/profiling.md): the
 * viewer's listening address as -bind spells it (NULL: no viewer, the default); the mode "off",
 * "trace" (default), "native", "combined" or "deep"; native CPU sampling (default off).
 * FASTLIKE_ERR_ARGS with a message for a bad address or mode. */
fastlike_status fastlike_config_set_profile_ui(fastlike_config *c, const char *host_port, char *err,
                                               size_t errlen);
fastlike_status fastlike_config_set_profile_mode(fastlike_config *c, const char *mode, char *err,
                                                 size_t errlen);
void fastlike_config_set_profile_native(fastlike_config *c, bool native);
/* -profile-max-requests: how many finished requests the profiler keeps (0: 1000). */
void fastlike_config_set_profile_max_requests(fastlike_config *c, size_t n);
/* -profile-ui-allow-remote: let the viewer listen beyond loopback; it then requires a token. */
void fastlike_config_set_profile_allow_remote(fastlike_config *c, bool allow);
/* -profile-ui-token: the viewer's access token (NULL: one is generated and logged when remote
 * access is allowed). FASTLIKE_ERR_ARGS unless 8+ printable characters without spaces. */
fastlike_status fastlike_config_set_profile_token(fastlike_config *c, const char *token, char *err,
                                                  size_t errlen);
/* Viceroy's --profile=guest[,DIR]: writes one Firefox Profiler JSON per request into DIR (made
 * when missing; NULL: off). Implies native sampling of the guest's stack. */
fastlike_status fastlike_config_set_profile_guest_dir(fastlike_config *c, const char *dir,
                                                      char *err, size_t errlen);
/* Where log lines go (default: stderr). The function is called from several threads. */
typedef void (*fastlike_log_fn)(void *user, const char *line);
void fastlike_config_set_log(fastlike_config *c, fastlike_log_fn fn, void *user);

/* A loaded, ready-to-serve guest (module compiled once, instantiated per request). */
typedef struct fastlike fastlike;

fastlike_status fastlike_new(const fastlike_config *config, fastlike **out, char *err,
                             size_t errlen);
void fastlike_free(fastlike *f);

/* Hot reload: loads the guest again and swaps it in atomically. Requests already running finish on
 * the module they started with; requests that start afterwards get the new one; instances waiting
 * in next_request on the old module end without another request. With `config` NULL the wasm
 * file given at creation (or at the last reload with a config) is read again, and so is every
 * store file (-dictionary, -config-store, -secret-store, -acl, -geo, device data): a file that is
 * now missing or malformed keeps its previous data, with one log line naming it. With a config,
 * its wasm, its edge data and its backends are used as given (its other options are ignored; the
 * routes of a Pushpin Fastlike started follow the backends). Server-lifetime state is not
 * reloaded: the backends' connection pool, and the live KV stores (what guests wrote survives).
 * Each outcome is one log line ("fastlike: reloaded ..." or "fastlike: reload failed, still serving
 * the previous module: ..."). Errors: FASTLIKE_ERR_WASM (unreadable, invalid or unlinkable wasm:
 * nothing changed), FASTLIKE_ERR_ARGS (nothing to reload from; or the new module was swapped in
 * but a store file kept its previous data: err names the first), FASTLIKE_ERR_NOMEM. Safe from
 * any thread while serving (reloads run one at a time); not from a signal handler. */
fastlike_status fastlike_reload(fastlike *f, const fastlike_config *config, char *err,
                                size_t errlen);
/* 1 for the guest loaded by fastlike_new, one more per successful reload. */
uint64_t fastlike_generation(fastlike *f);

/* Serves HTTP on the configured address until fastlike_stop() is called (from any thread or a
 * signal handler). Then it stops accepting, closes idle connections, lets the requests in flight
 * finish within the shutdown grace period (fastlike_config_set_shutdown_grace_ms), interrupts the
 * guests still running after it (503 to their clients when no head went out) and returns. */
fastlike_status fastlike_serve(fastlike *f, char *err, size_t errlen);
void fastlike_stop(fastlike *f);
/* Starts serving in background threads and returns at once (fastlike_serve = start + wait). The
 * server runs until fastlike_stop or fastlike_free. Errors: FASTLIKE_ERR_IO (e.g. port in use). */
fastlike_status fastlike_start(fastlike *f, char *err, size_t errlen);
/* The TCP port actually bound once started (useful with a ":0" bind address), else 0. */
uint16_t fastlike_port(const fastlike *f);
/* The profiler viewer's port (-profile-ui, e.g. when it was given port 0), or 0 without one; and
 * the token it requires, or NULL (loopback only, no token). */
uint16_t fastlike_profile_ui_port(const fastlike *f);
const char *fastlike_profile_ui_token(const fastlike *f);

/* In-process request/response, for tests and embedding: no sockets. */
typedef struct fastlike_header {
    const char *name;
    const char *value;
} fastlike_header;

typedef struct fastlike_request {
    const char *method; /* "GET" */
    const char *url;    /* "http://localhost/path?q" */
    const fastlike_header *headers;
    size_t nheaders;
    const uint8_t *body;
    size_t body_len;
    const char *client_ip; /* default "127.0.0.1" */
} fastlike_request;

typedef struct fastlike_response {
    uint16_t status;
    fastlike_header *headers; /* owned; freed by fastlike_response_free */
    size_t nheaders;
    uint8_t *body;
    size_t body_len;
} fastlike_response;

/* Runs the guest's `_start` once to completion, as `viceroy run` (for test runners): WASI
 * arguments argv[0..argc) (argv[0] the program name), env entries "NAME=VALUE" (overriding the
 * FASTLY_* variables), guest fds 0..2 on the given host fds (-1: none), every hostcall, and a
 * synthetic downstream request GET http://example.com/ whose response is discarded. FASTLIKE_OK:
 * the guest ended (result->exit_code: 0 after returning from _start, else proc_exit's code) or
 * trapped (result->trapped; err holds the trap and its backtrace, several lines).
 * FASTLIKE_ERR_WASM: it could not run (err says why, one line). */
typedef struct fastlike_run_config {
    const char *const *argv;
    size_t argc;
    const char *const *env;
    size_t nenv;
    int stdin_fd, stdout_fd, stderr_fd;
} fastlike_run_config;
typedef struct fastlike_run_result {
    int exit_code;
    bool trapped;
} fastlike_run_result;
fastlike_status fastlike_run_main(fastlike *f, const fastlike_run_config *config,
                                  fastlike_run_result *result, char *err, size_t errlen);

fastlike_status fastlike_handle(fastlike *f, const fastlike_request *req, fastlike_response *resp,
                                char *err, size_t errlen);
void fastlike_response_free(fastlike_response *resp);

#ifdef __cplusplus
}
#endif
#endif
