/* cfg_pushpin.h: the Fanout and WebSocket handoff settings: whether Fastlike runs a Pushpin of its
 * own or uses one already listening, its ports and binary, and whether WebSocket passthrough is
 * on. Read from flags (-pushpin, -pushpin-port, ...), from fastly.toml's [local_server.pushpin]
 * (the Fastly CLI's keys) and from Viceroy's --local-pushpin-proxy-port. */
#ifndef CFG_PUSHPIN_H
#define CFG_PUSHPIN_H

#include "config/cfg_status.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CFG_PUSHPIN_DEFAULT_PROXY_PORT 7677 /* the Fastly CLI's defaults */
#define CFG_PUSHPIN_DEFAULT_PUBLISH_PORT 5561

typedef struct cfg_pushpin {
    int start;                 /* 1: run our own Pushpin, -1: do not, 0: not said (no) */
    uint16_t proxy_port;       /* 0: not said (own: the default; else Fanout is off) */
    uint16_t publish_port;     /* 0: not said */
    char *path;                /* the pushpin binary, NULL: search PATH */
    int websocket_passthrough; /* 1: on, -1: off, 0: not said (on) */
} cfg_pushpin;

/* Nothing said: all zero (a zeroed struct is initialised too). */
void cfg_pushpin_init(cfg_pushpin *p);
/* Frees the path; accepts NULL. Leaves *p initialised. */
void cfg_pushpin_deinit(cfg_pushpin *p);
/* Deep copy into dst (which is deinitialised first). False when out of memory. */
bool cfg_pushpin_copy(cfg_pushpin *dst, const cfg_pushpin *src);
/* Fills what `o` leaves unsaid from `from` (flags win over fastly.toml); takes from's path. */
void cfg_pushpin_merge(cfg_pushpin *o, cfg_pushpin *from);

/* Fanout is on: our own Pushpin, or a proxy port of a running one. */
bool cfg_pushpin_fanout_on(const cfg_pushpin *p);
/* The proxy / publish port in effect (the defaults for our own Pushpin when not said). */
uint16_t cfg_pushpin_proxy_port(const cfg_pushpin *p);
uint16_t cfg_pushpin_publish_port(const cfg_pushpin *p);

/* "1".."65535" into *port; false (and a message "'V' is not a port number (1-65535)" in err)
 * otherwise. */
bool cfg_pushpin_parse_port(const char *v, uint16_t *port, char *err, size_t errlen);

/* The flags' handlers (rows of cfg_flags.c's table; err gets the problem without the flag). */
struct cfg_options;
cfg_status cfg_flag_pushpin(struct cfg_options *o, const char *v, char *err, size_t errlen);
cfg_status cfg_flag_pushpin_port(struct cfg_options *o, const char *v, char *err, size_t errlen);
cfg_status cfg_flag_pushpin_publish_port(struct cfg_options *o, const char *v, char *err,
                                         size_t errlen);
cfg_status cfg_flag_pushpin_path(struct cfg_options *o, const char *v, char *err, size_t errlen);
cfg_status cfg_flag_websocket_passthrough(struct cfg_options *o, const char *v, char *err,
                                          size_t errlen);

#endif
