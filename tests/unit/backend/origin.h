/* origin.h: a scriptable HTTP/1.1 origin for the backend tests (libmicrohttpd, a thread per
 * connection) on 127.0.0.1 with an ephemeral port, plain or TLS. Behaviour is chosen by the path:
 *   /echo...          200, JSON {"method","url","headers":[[n,v]..],"body_bytes","body_fnv"}; the
 *                     same as response headers x-echo-method, x-echo-url, x-echo-body-bytes,
 *                     x-echo-body-fnv (16 hex digits) and x-echo-h-<lowercased name> per header
 *   /status/NNN       status NNN; ?h=Name:Value (repeatable) adds headers, ?body=TEXT the body,
 *                     ?etag=V an ETag V (and 304 when the request has If-None-Match V)
 *   /big?n=N          N pattern bytes (be_pattern.h) generated on the fly; &chunked=1 without a
 *                     Content-Length
 *   /slow?first=MS&between=MS&n=N&chunk=K
 *                     waits MS before the response head, then sends N pattern bytes in K-byte
 *                     pieces with a pause between them
 *   /trailers?n=N&t=Name:Value
 *                     N pattern bytes, chunked, followed by the trailers given as t (repeatable)
 *   /hc?ok=K          health-check target: the first K requests to /hc (since the start or the
 *                     last reset) answer 200 "up", the rest 500 "down"
 *   /drop             closes the connection without answering
 *   /stats            JSON {"requests":N,"connections":M}
 *   anything else     like /echo
 * Every answer carries Cache-Control: no-store (Fastlike's readthrough cache then passes it)
 * unless the query has a `cache` argument (e.g. ?cache=1, for the cache tests).
 * Every request body is consumed first and counted and hashed (FNV-1a, be_pattern.h); /echo
 * also answers the request's trailers as x-echo-t-<name> and their count as x-echo-trailers. */
#ifndef BE_TEST_ORIGIN_H
#define BE_TEST_ORIGIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct origin origin;

/* Starts an origin; with cert_file/key_file (PEM paths) it speaks TLS. NULL on failure (message
 * on stderr). */
origin *origin_start(const char *cert_file, const char *key_file);
uint16_t origin_port(const origin *o);
/* Stops the origin (in-flight slow responses are cut short) and frees it; NULL is fine. */
void origin_stop(origin *o);

/* Requests started and TCP connections accepted since the start (or the last reset). */
uint64_t origin_requests(origin *o);
uint64_t origin_connections(origin *o);
void origin_reset_counts(origin *o);
/* The value of the header `name` in the most recent request (copied into out), or false. */
bool origin_last_header(origin *o, const char *name, char *out, size_t outlen);
/* The method of the most recent request (copied into out), or false before any. */
bool origin_last_method(origin *o, char *out, size_t outlen);
/* TLS origins: the server name (SNI) the most recent request's client sent, copied into out;
 * false (and "") when it sent none. */
bool origin_last_sni(origin *o, char *out, size_t outlen);
/* Requests to /hc since the start (or the last origin_reset_counts). */
uint64_t origin_hc_requests(origin *o);

/* A test CA and a server certificate for localhost/127.0.0.1 signed by it, generated with the
 * openssl command into dir (created). Paths are written into the caller's buffers. Returns 0, or
 * -1 when openssl failed. */
typedef struct origin_tls_files {
    char ca[512], cert[512], key[512];
} origin_tls_files;
int origin_make_tls(const char *dir, origin_tls_files *out);

/* A port on 127.0.0.1 where nothing listens (bound, then closed). */
uint16_t origin_closed_port(void);

/* A listener on 127.0.0.1 whose accept queue is full, so new connections hang in the handshake
 * (for connect timeouts). Returns the port; origin_blackhole_close releases it. */
typedef struct origin_blackhole {
    int listen_fd;
    int fillers[8];
    uint16_t port;
} origin_blackhole;
int origin_blackhole_open(origin_blackhole *b);
void origin_blackhole_close(origin_blackhole *b);

#endif
