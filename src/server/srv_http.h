/* srv_http.h: the HTTP/1.1 front end on libmicrohttpd. Each connection has its own MHD thread
 * (keep-alive, 100-continue, chunked decoding and encoding, HEAD are MHD's); each request's guest
 * runs on the worker pool, reading the upload and writing the response through bounded pipes. */
#ifndef SRV_HTTP_H
#define SRV_HTTP_H

#include "fastlike.h"
#include "server/srv_live.h"

#include <stddef.h>
#include <stdint.h>

typedef struct srv_http srv_http;

typedef struct srv_http_config {
    const char *bind; /* "host:port" (":0" picks a free port) */
    srv_live *live;   /* the guest now serving (hot reload); not owned; must outlive the server */
    size_t workers;   /* 0 = sized to the machine */
    const srv_log *log;
} srv_http_config;

/* Binds the address and starts serving in background threads. Errors: FASTLIKE_ERR_IO with
 * "cannot listen on ADDR: reason" (port in use, bad host), FASTLIKE_ERR_NOMEM. */
fastlike_status srv_http_start(const srv_http_config *cfg, srv_http **out, char *err,
                               size_t errlen);
uint16_t srv_http_port(const srv_http *h);
/* Stops accepting, waits for running requests, frees everything. Accepts NULL. */
void srv_http_stop(srv_http *h);

#endif
