/* srv_http.h: the HTTP/1.1 front end: an epoll set shared by a growing pool of worker threads.
 * A worker that receives a request runs its guest itself, reading the upload from and writing the
 * response to the socket; idle keep-alive connections hold no thread. The strict request parser
 * (srv_http_parse.h) answers malformed or ambiguous requests with 400/413/417/431/501/505. */
#ifndef SRV_HTTP_H
#define SRV_HTTP_H

#include "fastlike.h"
#include "server/srv_live.h"

#include <stdbool.h>
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
/* Graceful stop, first half: stops accepting connections, closes idle ones and waits up to
 * timeout_ms for the requests in flight to be answered (their responses fully sent). Returns true
 * when every connection ended in time. srv_http_stop must follow. */
bool srv_http_drain(srv_http *h, uint64_t timeout_ms);
/* Stops accepting, waits for running requests, frees everything. Accepts NULL. */
void srv_http_stop(srv_http *h);

#endif
