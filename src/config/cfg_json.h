/* cfg_json.h: reading the JSON files named by flags (-dictionary, -kv, -acl, -geo, ...) with
 * jansson, turning every failure into one line: "FILE: reason" or "FILE:LINE:COLUMN: reason". */
#ifndef CFG_JSON_H
#define CFG_JSON_H

#include "config/cfg_status.h"

#include <jansson.h>
#include <stddef.h>

/* Parses the file at `path` (duplicate keys rejected). On success *out is a new reference the
 * caller must json_decref. Errors: CFG_ERR_FILE (cannot open/read, a directory) or CFG_ERR_JSON
 * (syntax, with line and column), message in err. */
cfg_status cfg_json_load(const char *path, json_t **out, char *err, size_t errlen);

/* What cfg_json_load_object does with a file whose top level is an object of entries. */
typedef struct cfg_json_walk {
    /* What the top level must be, for "PATH: expected SHAPE, found TYPE" (e.g. "a JSON object of
     * \"key\": value pairs"). */
    const char *shape;
    /* Optional: called once with the number of entries before the first one (to allocate). */
    cfg_status (*begin)(void *user, size_t n, const char *path, char *err, size_t errlen);
    /* Called for entry i (file order) with its key (NUL-terminated; key_len counts bytes before
     * the NUL, which JSON keys may hold). Returns CFG_OK, or an error with "PATH: ..." in err,
     * which stops the walk. */
    cfg_status (*entry)(void *user, size_t i, const char *key, size_t key_len, json_t *value,
                        const char *path, char *err, size_t errlen);
    void *user;
} cfg_json_walk;

/* The skeleton of every JSON edge-data loader: loads `path` (cfg_json_load: duplicate keys
 * rejected, one-line "FILE:LINE:COLUMN: reason" errors), checks that its top level is an object,
 * and walks its entries through `w`. Returns the first error (CFG_ERR_FILE, CFG_ERR_JSON, or the
 * callbacks'); what the callbacks built before an error is theirs to free. */
cfg_status cfg_json_load_object(const char *path, const cfg_json_walk *w, char *err, size_t errlen);

/* For a walk's begin callback: *out = room for n zeroed entries of `size` bytes (at least one),
 * or CFG_ERR_NOMEM with "PATH: out of memory" in err. */
cfg_status cfg_json_calloc(void **out, size_t n, size_t size, const char *path, char *err,
                           size_t errlen);

/* "string", "number", "object", ... for messages about values of the wrong type. */
const char *cfg_json_type_name(const json_t *v);

/* Copies a JSON string value (length kept: JSON strings may hold any byte but NUL here). */
char *cfg_json_strdup(const json_t *str, size_t *len);

/* Replaces every control byte of an error message (a key or text quoted from a file may hold a
 * newline) by '?', so the message stays one line. */
void cfg_json_one_line(char *msg);

#endif
