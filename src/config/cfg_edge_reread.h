/* cfg_edge_reread.h: loading the files behind a cfg_edge again, for hot reload. Each entry that
 * came from a file (dictionaries, config and secret stores, ACLs, the geolocation table, device
 * data) is read again; one whose file is now missing or malformed keeps its previous data. */
#ifndef CFG_EDGE_REREAD_H
#define CFG_EDGE_REREAD_H

#include "config/cfg_edge.h"

#include <stddef.h>

/* Called once per file that could not be loaded again, with one line naming the entry and the
 * loader's message ("-dictionary cfg: file.json:3:5: ..."). */
typedef void (*cfg_reread_report)(void *user, const char *line);

/* Makes *dst a deep copy of *src with every file-backed entry loaded again from its path. KV
 * stores keep src's initial data (the live KV stores are the server's and survive reloads) and log
 * endpoints are copied as they are. Returns CFG_OK (with *nfailed files that kept their old data,
 * each reported) or CFG_ERR_NOMEM (dst left empty, as cfg_edge_init). */
cfg_status cfg_edge_reread(cfg_edge *dst, const cfg_edge *src, cfg_reread_report report, void *user,
                           size_t *nfailed);

#endif
