/* fake_downstream.h: the downstream request that in-process hostcall runs pretend to serve, shared
 * by the hostcall test runner (hc_guest_run.h) and the hostcall fuzz targets
 * (tests/fuzz/fuzz_hc.h): "POST http://example.com/path?x=1" over HTTP/2 from client 192.0.2.1.
 * Header-only. */
#ifndef FAKE_DOWNSTREAM_H
#define FAKE_DOWNSTREAM_H

#include "hostcalls/hc_ctx.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

/* Fills the request line, `headers` (not copied) and the addresses of `req`: the client
 * 192.0.2.1, the server `server_ip` (IPv4 or IPv6 text). The body is left to the caller. */
static inline void fake_downstream_init(hc_downstream_request *req, const hc_header_view *headers,
                                        size_t nheaders, const char *server_ip)
{
    req->method = "POST";
    req->url = "http://example.com/path?x=1";
    req->http_version = 2;
    req->headers = headers;
    req->nheaders = nheaders;
    struct sockaddr_in *cin = (struct sockaddr_in *)&req->client_addr;
    cin->sin_family = AF_INET;
    inet_pton(AF_INET, "192.0.2.1", &cin->sin_addr);
    if (strchr(server_ip, ':')) {
        struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&req->server_addr;
        sin6->sin6_family = AF_INET6;
        inet_pton(AF_INET6, server_ip, &sin6->sin6_addr);
    } else {
        struct sockaddr_in *sin = (struct sockaddr_in *)&req->server_addr;
        sin->sin_family = AF_INET;
        inet_pton(AF_INET, server_ip, &sin->sin_addr);
    }
}

#endif
