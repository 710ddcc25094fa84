/* hc_edge_handles.h: the per-request handles of the edge-data modules: dictionaries and config
 * stores (one kind: Viceroy serves both from one table, so their handles are interchangeable),
 * secret stores, secrets, ACLs and log endpoints. One hc_table per request, made on first use;
 * the objects are either server-wide data (not owned) or small per-request records (owned). */
#ifndef HC_EDGE_HANDLES_H
#define HC_EDGE_HANDLES_H

#include "hc_ctx_internal.h"

#include <stddef.h>
#include <stdint.h>

typedef enum hc_edge_kind {
    HC_EDGE_DICT = 1,         /* const cfg_dictionary * (dictionary or config store) */
    HC_EDGE_SECRET_STORE = 2, /* const cfg_secret_store * */
    HC_EDGE_SECRET = 3,       /* hc_secret * (owned) */
    HC_EDGE_ACL = 4,          /* const cfg_acl * */
    HC_EDGE_LOG = 5,          /* hc_log_ref * (owned, hc_log.h) */
} hc_edge_kind;

/* A secret's plaintext: a store's value (not owned) or bytes from from_bytes (owned, wiped when
 * freed). */
typedef struct hc_secret {
    const uint8_t *bytes;
    size_t len;
    uint8_t *owned; /* == bytes when owned, else NULL */
} hc_secret;

/* Frees a secret, wiping owned plaintext first. Accepts NULL. */
void hc_secret_free(hc_secret *s);

/* The per-request table (struct hc_ctx.edge). */
typedef struct hc_edge_handles hc_edge_handles;

/* Registers `obj` under a new handle of `kind`: HC_OK, or HC_LIMITEXCEEDED when the table is full
 * (the object is then not taken: an owned one stays the caller's). */
hc_status hc_edge_add(hc_ctx *ctx, hc_edge_kind kind, void *obj, uint32_t *handle);
/* The object of a live handle of `kind`, or NULL (the caller answers badf). */
void *hc_edge_get(hc_ctx *ctx, uint32_t handle, hc_edge_kind kind);
/* The table itself, for a module that searches its own handles (NULL before the first add). */
const hc_table *hc_edge_table(const hc_ctx *ctx);

/* Frees the table and the owned objects in it (from hc_ctx_free). Accepts NULL. */
void hc_edge_handles_free(hc_edge_handles *h);

/* Reads a witx `string` argument: inval when (ptr, len) leaves guest memory or is not UTF-8 (as
 * wiggle's as_str). On HC_OK *s points into guest memory, valid until it grows. */
hc_status hc_edge_guest_str(fwe_caller *caller, uint32_t ptr, uint32_t len, const char **s);

/* Finds the edge object named (name, len) in the server's edge data; NULL when there is none. */
struct cfg_edge;
typedef const void *(*hc_edge_find_fn)(const struct cfg_edge *e, const char *name, size_t len);

/* The `open` hostcalls of the named edge objects: reads the name at (name_ptr, name_len) as
 * hc_edge_guest_str does, finds it with `find`, adds a handle of `kind` for it and writes that to
 * handle_out. No such object: a -v 2 log line "FN: no WHAT named 'NAME'" and `missing` (each
 * module's status as Viceroy answers it). */
hc_status hc_edge_open(fwe_caller *caller, hc_ctx *ctx, uint32_t name_ptr, uint32_t name_len,
                       uint32_t handle_out, hc_edge_kind kind, hc_edge_find_fn find, const char *fn,
                       const char *what, hc_status missing);

/* A guest-given name for a log line: s[0..len) with bytes outside printable ASCII as '?', cut
 * to 64 characters ("..." added), NUL-terminated in out. Returns out. */
const char *hc_edge_log_name(const void *s, size_t len, char out[72]);

/* True when s[0..len) is well-formed UTF-8. */
bool hc_utf8_valid(const char *s, size_t len);

#endif
