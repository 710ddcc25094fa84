/* cfg_fastly_toml_int.h: what the files of the fastly.toml reader share (internal to
 * cfg_fastly_toml*.c): the reading context, messages in Viceroy's words behind the file,
 * line:column and key path, path resolution, and one entry point per [local_server] section kind.
 */
#ifndef CFG_FASTLY_TOML_INT_H
#define CFG_FASTLY_TOML_INT_H

#include "config/cfg_fastly_toml.h"
#include "config/cfg_toml.h"

#include <stdbool.h>
#include <stddef.h>

#define CFG_FT_WHERE_MAX 512 /* room for a key path such as local_server.kv_stores.NAME[3] */

/* One fastly.toml being read into a cfg_options. */
typedef struct cfg_ft {
    const char *path; /* the toml, as given */
    char dir[2048];   /* its directory, for relative file names */
    cfg_options *o;
    char *err;
    size_t errlen;
} cfg_ft;

/* Writes "PATH:LINE:COLUMN: WHERE: message" (without the position when at is NULL) to f->err and
 * returns st. */
cfg_status cfg_ft_bad(cfg_ft *f, cfg_status st, const cfg_toml_value *at, const char *where,
                      const char *fmt, ...) __attribute__((format(printf, 5, 6)));
cfg_status cfg_ft_nomem(cfg_ft *f);
/* "a string", "an integer", ... */
const char *cfg_ft_a_type(const cfg_toml_value *v);
/* out = parent.key, the key quoted when it is not a bare TOML key. */
void cfg_ft_sub(char *out, size_t n, const char *parent, const char *key);
/* A file name from the toml, relative to the toml's directory. */
void cfg_ft_resolve(const cfg_ft *f, const char *name, char *out, size_t n);
/* A whole file (any bytes, NUL-terminated); NULL with errno set on failure. */
char *cfg_ft_read_all(const char *path, size_t *len);
bool cfg_ft_is_blank(const char *s);
/* The first key of t (in byte order, as Viceroy's sorted tables report it) not in the
 * NULL-terminated allowed[], or NULL. */
const cfg_toml_pair *cfg_ft_unrecognized(const cfg_toml_value *t, const char *const *allowed);
/* A section's "file" (required, non-empty string), resolved into full; *at is its value. */
cfg_status cfg_ft_file_field(cfg_ft *f, const cfg_toml_value *t, const char *where, char *full,
                             size_t n, const cfg_toml_value **at);
/* A section's "format": *fmt 0 for inline-toml, 1 for json, -1 when absent and optional. */
cfg_status cfg_ft_format_field(cfg_ft *f, const cfg_toml_value *t, const char *where,
                               const char *what, bool optional, int *fmt);

/* The sections: each checks one entry (name, its value, its key path) and adds it to f->o. */
cfg_status cfg_ft_backend(cfg_ft *f, const char *name, const cfg_toml_value *def,
                          const char *where); /* cfg_fastly_toml_backend.c */
cfg_status cfg_ft_dictionary(cfg_ft *f, const char *name, const cfg_toml_value *def,
                             const char *where, bool config_store); /* cfg_fastly_toml_stores.c */
cfg_status cfg_ft_kv_store(cfg_ft *f, const char *name, const cfg_toml_value *items,
                           const char *where);
cfg_status cfg_ft_secret_store(cfg_ft *f, const char *name, const cfg_toml_value *items,
                               const char *where);
cfg_status cfg_ft_geolocation(cfg_ft *f, const cfg_toml_value *t,
                              const char *where); /* cfg_fastly_toml_lookups.c */
cfg_status cfg_ft_device_detection(cfg_ft *f, const cfg_toml_value *t, const char *where);
cfg_status cfg_ft_pushpin(cfg_ft *f, const cfg_toml_value *t,
                          const char *where); /* cfg_pushpin.c: [local_server.pushpin] */

#endif
