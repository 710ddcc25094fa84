/* cfg_backend.h: the `-backend [name=]addr[@N]` syntax (also fastlike_config_add_backend).
 * Parses one spec into a cfg_backend: optional name (none = the catch-all backend), a normalised
 * http/https URL split into its parts, and the optional reliability share N (0..100). */
#ifndef CFG_BACKEND_H
#define CFG_BACKEND_H

#include "config/cfg_status.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CFG_UPTIME_NONE (-1) /* no @N suffix: always reachable, health "unknown" */

typedef struct cfg_backend {
    char *spec;     /* the text as given, for fastlike_config_add_backend */
    char *name;     /* NULL for the catch-all backend (no name, or an empty name) */
    char *url;      /* normalised "scheme://[userinfo@]host:port[/path]", explicit port */
    bool tls;       /* https:// */
    char *userinfo; /* "user:pass" from http://user:pass@host, or NULL */
    char *host;     /* host name or address; IPv6 without brackets */
    uint16_t port;  /* explicit port, or 80 / 443 by scheme */
    char *path;     /* path (and query) prefix after the authority, "" when none */
    int uptime;     /* 0..100, or CFG_UPTIME_NONE */
    /* Options only fastly.toml's [local_server.backends.NAME] sets (zero/NULL from -backend): */
    char *override_host;   /* Host header sent, or NULL */
    char *cert_host;       /* name the certificate must match, or NULL (the host) */
    bool no_sni;           /* use_sni = false */
    bool grpc;             /* HTTP/2 only */
    char *client_cert_pem; /* mutual TLS: certificate chain and key as PEM text, or NULL */
    char *client_key_pem;
    char *ca_pem;                /* trusted CAs as PEM text instead of the system store, or NULL */
    bool has_first_byte_timeout; /* first_byte_timeout_ms given */
    bool has_between_bytes_timeout;
    uint32_t first_byte_timeout_ms, between_bytes_timeout_ms;
    int health; /* CFG_HEALTH_*: what is_healthy reports */
} cfg_backend;

enum { CFG_HEALTH_UNKNOWN = 0, CFG_HEALTH_HEALTHY = 1, CFG_HEALTH_UNHEALTHY = 2 };

/* Parses `spec`. On success fills *out (free with cfg_backend_deinit) and returns CFG_OK; on
 * error writes one line (without the flag name) to err and returns CFG_ERR_VALUE or
 * CFG_ERR_NOMEM, leaving *out empty. Rules: a name is the text before the first '=' when that text
 * contains no ':' or '/' (so a URL with '=' in its query is an address); a trailing "@digits" is
 * the reliability share and must be 0..100; any other '@' (userinfo) belongs to the address; an
 * address without http:// or https:// is taken as http:// (as Fastlike does). */
cfg_status cfg_backend_parse(const char *spec, cfg_backend *out, char *err, size_t errlen);
void cfg_backend_deinit(cfg_backend *b);

/* Checks a "host:port" listening address ("[::1]:5000", ":5000" for all interfaces). */
cfg_status cfg_host_port_check(const char *s, char *err, size_t errlen);

#endif
