/* srv_fanout.h: the server's side of Fanout and WebSocket handoffs: the settings the hostcalls
 * read (hc_fanout), and a Pushpin of Fastlike's own when asked for (-pushpin, fastly.toml's
 * [local_server.pushpin] enable = true): its config and routes (one per backend) in a temporary
 * directory, started before serving and stopped, with the directory removed, at shutdown; the
 * routes are rewritten when a reload changes the backends. */
#ifndef SRV_FANOUT_H
#define SRV_FANOUT_H

#include "backend/be_backend.h"
#include "config/cfg_pushpin.h"
#include "hostcalls/hc_fanout.h"
#include "server/srv_log.h"

typedef struct srv_fanout srv_fanout;

/* Sets up handoffs as `cfg` says. Starting Pushpin may fail (not installed, port taken, exited
 * early): that is one line in the log and Fanout stays off (the hostcalls answer unsupported),
 * not an error. Waits until a started Pushpin accepts requests. NULL only when out of memory. */
srv_fanout *srv_fanout_new(const cfg_pushpin *cfg, const be_backend *backends, size_t nbackends,
                           const srv_log *log);
/* What hc_settings.fanout points to; valid until srv_fanout_free. */
const hc_fanout *srv_fanout_settings(const srv_fanout *f);
/* Hot reload with new backends: rewrites our Pushpin's routes file for them when it changed
 * (replaced in one rename; Pushpin watches the file and reloads its routes by itself) and logs
 * that it did. Nothing to do without a Pushpin of our own: a running one's routes are its
 * owner's. False (with a log line) only when the file cannot be written; accepts NULL. */
bool srv_fanout_reload_routes(srv_fanout *f, const be_backend *backends, size_t nbackends);
/* Stops our Pushpin (its whole process group) and removes its directory; accepts NULL. */
void srv_fanout_free(srv_fanout *f);

/* The pushpin routes file for `backends` (one "id=NAME ..." line each; the catch-all as "*"),
 * as the Fastly CLI writes it. Caller frees; NULL when out of memory. */
char *srv_fanout_routes(const be_backend *backends, size_t nbackends);

#endif
