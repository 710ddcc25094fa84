/* hc_log.h: log endpoints (fastly_log): the server-wide writers behind the endpoint names, and the
 * fastly_log module. `-logger NAME=FILE` appends NAME's lines to FILE; `-logger NAME` and every
 * name nobody declared (Viceroy accepts any name) write to the server's stdout. Each entry is one
 * line "NAME :: MESSAGE\n" written with a single write under the writers' lock, so entries from
 * concurrent requests never interleave. */
#ifndef HC_LOG_H
#define HC_LOG_H

#include "hostcalls/hc_registry.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct cfg_edge;

extern const hc_impl hc_log_impls[];

typedef struct hc_log_endpoints hc_log_endpoints;

/* Opens the configured loggers' files (edge->loggers; edge may be NULL) for appending, creating
 * them; lines for the others go to out_fd (not owned, e.g. STDOUT_FILENO). NULL with one line in
 * err naming the file when one cannot be opened, or when out of memory. */
hc_log_endpoints *hc_log_endpoints_new(const struct cfg_edge *edge, int out_fd, char *err,
                                       size_t errlen);
void hc_log_endpoints_free(hc_log_endpoints *l); /* accepts NULL */

/* Writes one entry for endpoint name[0..name_len) in Viceroy's form: one trailing newline of msg
 * is dropped, other newlines become the two characters \n, and an empty message writes nothing.
 * l NULL writes to the process's stdout. Returns 0, or -1 when the write failed. Thread-safe. */
int hc_log_endpoints_write(hc_log_endpoints *l, const uint8_t *name, size_t name_len,
                           const uint8_t *msg, size_t msg_len);

/* True the first time it is called for l (then false): failed writes are reported once per
 * server, not once per entry. */
bool hc_log_endpoints_first_failure(hc_log_endpoints *l);

/* True for names no program may log to: stdout, stderr and fst_managed_* (any case). */
bool hc_log_reserved_name(const uint8_t *name, size_t len);

/* A log endpoint handle's record (owned by the request's handle table). */
typedef struct hc_log_ref hc_log_ref;
void hc_log_ref_free(hc_log_ref *r); /* accepts NULL */

#endif
