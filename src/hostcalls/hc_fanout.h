/* hc_fanout.h: Fanout and WebSocket handoffs (fastly_http_req.redirect_to_grip_proxy(_v2),
 * redirect_to_websocket_proxy(_v2), upgrade_websocket). The hostcall decides where the downstream
 * connection goes and builds the request to send there; the front end (through
 * hc_downstream_request.handoff) then gives the connection to a relay once the guest is done. */
#ifndef HC_FANOUT_H
#define HC_FANOUT_H

#include "hc_ctx.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* hc_settings.fanout: what the server set up (owned by the server, read-only). */
typedef struct hc_fanout {
    uint16_t pushpin_port;      /* 127.0.0.1:port of the Pushpin proxy; 0: Fanout is off */
    bool websocket_passthrough; /* redirect_to_websocket_proxy hands connections to backends */
} hc_fanout;

/* One downstream connection to hand over: connect to host:port, send `head` (request line and
 * header fields, each ending in CRLF, without Content-Length / Transfer-Encoding and without the
 * blank line: the front end adds the framing of the body it replays), then relay bytes both ways
 * until either side closes. */
typedef struct hc_handoff {
    bool to_pushpin;
    char *name; /* the backend name, NUL-terminated (for logs) */
    char *host; /* where to connect (NUL-terminated; IPv6 without brackets) */
    uint16_t port;
    char *head;
    size_t head_len;
    bool upgrade; /* the request asks for a protocol switch (WebSocket): its Connection header
                     stays; otherwise the head says Connection: close */
    /* TLS to the target (an https:// backend's WebSocket passthrough); strings owned or NULL */
    bool tls;
    char *sni;         /* server name sent, NULL: none */
    char *verify_host; /* the name the certificate must match */
    char *ca_file;     /* trusted CAs (PEM file), NULL with ca_pem NULL: the system store */
    char *ca_pem;      /* trusted CAs as PEM text */
    size_t ca_pem_len;
    char *client_cert_file; /* mutual TLS, or NULL */
    char *client_key_file;
} hc_handoff;

void hc_handoff_free(hc_handoff *h); /* accepts NULL */

/* True when the current downstream request of `ctx` was handed off (no response of the guest's
 * will go out for it; the front end relays the connection instead). */
bool hc_ctx_handed_off(const hc_ctx *ctx);

/* The fastly_http_req handoff functions. */
#include "hc_registry.h"
extern const hc_impl hc_fanout_impls[];

#endif
