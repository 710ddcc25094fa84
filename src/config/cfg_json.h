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

/* "string", "number", "object", ... for messages about values of the wrong type. */
const char *cfg_json_type_name(const json_t *v);

/* Copies a JSON string value (length kept: JSON strings may hold any byte but NUL here). */
char *cfg_json_strdup(const json_t *str, size_t *len);

/* Replaces every control byte of an error message (a key or text quoted from a file may hold a
 * newline) by '?', so the message stays one line. */
void cfg_json_one_line(char *msg);

#endif
