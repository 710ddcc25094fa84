/* be_backend.h: a backend as the outbound HTTP client sees it (where to connect, TLS, timeouts,
 * Host override, pooling, simulated reliability) and the server-wide registry of them: the named
 * backends from -backend / the embedding API, the catch-all, the shared event loop, and the
 * seedable generator that decides which requests an `@N` backend fails. Dynamic backends are
 * be_backend values too, owned by the request that registered them. */
#ifndef BE_BACKEND_H
#define BE_BACKEND_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "backend/be_health.h"
#include "backend/be_loop.h"

/* The ABI's tls_version values; BE_TLS_UNSET = not configured. */
enum { BE_TLS_1_0 = 0, BE_TLS_1_1 = 1, BE_TLS_1_2 = 2, BE_TLS_1_3 = 3, BE_TLS_UNSET = -1 };

/* be_backend.timeouts_set bits. */
enum { BE_SET_CONNECT = 1, BE_SET_FIRST_BYTE = 2, BE_SET_BETWEEN_BYTES = 4 };

/* Fastly's defaults for backends without explicit timeouts (ms). */
#define BE_DEFAULT_CONNECT_TIMEOUT_MS 1000u
#define BE_DEFAULT_FIRST_BYTE_TIMEOUT_MS 15000u
#define BE_DEFAULT_BETWEEN_BYTES_TIMEOUT_MS 10000u

#define BE_UPTIME_NONE (-1) /* no simulated failures; health "unknown" */

typedef struct be_backend {
    char *name;   /* NULL for the catch-all */
    bool dynamic; /* registered by the guest (register_dynamic_backend) */
    bool tls;     /* https */
    char *host;   /* host name or address to connect to (IPv6 without brackets) */
    uint16_t port;
    char *path_prefix;   /* prepended to request paths; "" when none */
    char *userinfo;      /* "user:pass" from the URL, or NULL (sent as basic auth) */
    char *override_host; /* Host header override, or NULL */
    uint32_t connect_timeout_ms, first_byte_timeout_ms, between_bytes_timeout_ms; /* 0 = none */
    unsigned timeouts_set; /* BE_SET_*: timeouts given explicitly (the getters report the others
                              as not set, as Viceroy) */
    int ssl_min, ssl_max;  /* BE_TLS_* */
    char *cert_hostname;   /* name the certificate must match; NULL = host */
    char *sni_hostname;    /* SNI; NULL = cert_hostname or host; "" = no SNI */
    char *ca_file;         /* PEM file of trusted CAs; NULL = system store */
    char *ca_pem;          /* PEM text of trusted CAs (dynamic backends) */
    size_t ca_pem_len;
    char *client_cert_file, *client_key_file; /* mutual TLS (PEM files), or NULL */
    char *client_cert_pem, *client_key_pem;   /* mutual TLS (PEM text), or NULL */
    size_t client_cert_pem_len, client_key_pem_len;
    char *ciphers;              /* OpenSSL cipher list, or NULL */
    bool dont_pool;             /* a fresh connection per request */
    bool grpc;                  /* HTTP/2 only */
    uint32_t http_keepalive_ms; /* idle pooled connections live this long; 0 default */
    bool tcp_keepalive;
    uint32_t tcp_keepalive_time_s, tcp_keepalive_interval_s, tcp_keepalive_probes;
    uint32_t max_connections, max_use, max_lifetime_ms;
    bool prefer_ipv4;
    int uptime; /* 0..100 share of requests that reach the origin, or BE_UPTIME_NONE */
    be_health_config healthcheck; /* probes to run (dynamic backends), when enabled */
    struct be_health *health;     /* the running checker: not copied, stopped by deinit */
} be_backend;

/* A zeroed backend with Fastly's default timeouts, no TLS versions and uptime NONE. */
void be_backend_init(be_backend *b);
/* Stops the health checker and frees the strings of `b` (not `b` itself); accepts NULL. */
void be_backend_deinit(be_backend *b);
/* Deep copy into `dst` (initialised here), without the running health checker. Returns false
 * when out of memory (dst is then empty). */
bool be_backend_copy(be_backend *dst, const be_backend *src);

/* The ABI's backend_health: with a running health check its verdict (1 healthy, 2 unhealthy);
 * else from `@N`: 0 unknown (no @N), 1 healthy (N > 0), 2 unhealthy (@0). */
uint32_t be_backend_health(const be_backend *b);

/* Replaces a string field (copied; NULL clears). Returns false when out of memory. */
bool be_set_str(char **field, const char *s);
bool be_set_bytes(char **field, size_t *field_len, const char *s, size_t len);

typedef struct be_backends be_backends;

typedef struct be_backends_config {
    const be_backend *backends; /* copied; at most one with name NULL (the catch-all) */
    size_t nbackends;
    uint64_t seed; /* for the @N draws; 0 = FASTLIKE_UNRELIABLE_SEED from the environment, or
                      random when unset */
    int verbosity; /* the loop logs each finished transfer at 2 */
    be_log_fn log;
    void *log_user;
} be_backends_config;

/* Copies the backends and starts the shared event-loop thread. NULL when out of memory or when
 * the thread or libcurl cannot start (message in err). */
be_backends *be_backends_new(const be_backends_config *cfg, char *err, size_t errlen);
/* Stops the loop (cancelling transfers still running) and frees everything; accepts NULL. No
 * request may use the registry any more. */
void be_backends_free(be_backends *r);
/* Hot reload: copies `backends` (at most one catch-all) and makes them the ones lookups find from
 * now on; thread-safe against lookups. Backends found before stay valid until be_backends_free
 * (each replaced list is kept until then: a few hundred bytes per backend and reload). False,
 * with nothing changed, when out of memory. */
bool be_backends_replace(be_backends *r, const be_backend *backends, size_t nbackends);

/* The backend named `name` exactly, or NULL. */
const be_backend *be_backends_named(const be_backends *r, const char *name, size_t len);
/* The catch-all, or NULL. */
const be_backend *be_backends_catch_all(const be_backends *r);
/* The backend requests to `name` go to: the named one, else the catch-all, else NULL. */
const be_backend *be_backends_route(const be_backends *r, const char *name, size_t len);

/* Draws whether one request to `b` reaches the origin (true) or gets the synthetic 502 (false).
 * Always true when b->uptime is NONE or 100; thread-safe and deterministic for a fixed seed. */
bool be_backends_draw(be_backends *r, const be_backend *b);

struct be_loop *be_backends_loop(const be_backends *r);

#endif
