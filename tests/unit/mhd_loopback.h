/* mhd_loopback.h: a libmicrohttpd daemon on 127.0.0.1 and an ephemeral port (thread per
 * connection), for tests that need a small origin with their own request handler. */
#ifndef MHD_LOOPBACK_H
#define MHD_LOOPBACK_H

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdint.h>

/* Starts `handler` on 127.0.0.1; returns the daemon and its port in *port, or NULL. */
static inline struct MHD_Daemon *mhd_loopback_start(MHD_AccessHandlerCallback handler,
                                                    uint16_t *port)
{
    struct sockaddr_in a = {.sin_family = AF_INET};
    inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
    struct MHD_Daemon *d = MHD_start_daemon(
        MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION, 0, NULL, NULL, handler,
        NULL, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&a, MHD_OPTION_END);
    const union MHD_DaemonInfo *info = d ? MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT) : NULL;
    *port = info ? info->port : 0;
    if (d && !*port) {
        MHD_stop_daemon(d);
        d = NULL;
    }
    return d;
}

#endif
