/* srv_relay.h: downstream connections handed over by the guest (Fanout / WebSocket handoff): each
 * gets a small thread of its own that connects to the target, sends the replayed request and then
 * copies bytes both ways until either side ends, so no guest worker is held for the
 * connection's lifetime. */
#ifndef SRV_RELAY_H
#define SRV_RELAY_H

#include "hostcalls/hc_fanout.h"
#include "server/srv_log.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct srv_relays srv_relays;

/* NULL when out of memory. `log` must outlive the set. */
srv_relays *srv_relays_new(const srv_log *log);
/* Ends every relay still running (both sockets shut down) and waits for their threads; accepts
 * NULL. */
void srv_relays_free(srv_relays *r);

/* Relays client socket `fd` (taken: closed when the relay ends) per `h` (taken). The request
 * sent is h->head, then Content-Length: body_len when has_body, then the body; `rest` holds
 * client bytes that arrived after the request (sent on after it). Copies what it needs; on
 * failure to start, fd is closed and h freed. */
void srv_relay_start(srv_relays *r, int fd, hc_handoff *h, const uint8_t *body, size_t body_len,
                     bool has_body, const uint8_t *rest, size_t rest_len);

/* How many relays are running now (for tests and the log). */
size_t srv_relays_active(srv_relays *r);

#endif
