/* cfg_toml.h: a strict TOML 1.0 reader (fastly.toml). Parses a whole buffer or file into a tree
 * of values (tables keep their keys in document order), rejecting everything the 1.0 spec rejects;
 * an error is one line with the line:column and what was expected there. */
#ifndef CFG_TOML_H
#define CFG_TOML_H

#include "config/cfg_status.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum cfg_toml_type {
    CFG_TOML_TABLE,
    CFG_TOML_ARRAY,
    CFG_TOML_STRING,
    CFG_TOML_INTEGER,
    CFG_TOML_FLOAT,
    CFG_TOML_BOOL,
    CFG_TOML_DATETIME,       /* offset date-time: 1979-05-27T07:32:00Z */
    CFG_TOML_DATETIME_LOCAL, /* 1979-05-27T07:32:00 */
    CFG_TOML_DATE_LOCAL,     /* 1979-05-27 */
    CFG_TOML_TIME_LOCAL,     /* 07:32:00 */
} cfg_toml_type;

typedef struct cfg_toml_datetime {
    int year, month, day;     /* unused for TIME_LOCAL */
    int hour, minute, second; /* unused for DATE_LOCAL */
    uint32_t nanosecond;      /* fraction of the second (extra digits beyond 9 are dropped) */
    int frac_digits;          /* how many fraction digits were written (0..9) */
    int offset_minutes;       /* DATETIME only: Z is 0 */
} cfg_toml_datetime;

typedef struct cfg_toml_value cfg_toml_value;

typedef struct cfg_toml_pair {
    char *key; /* NUL-terminated; key_len counts bytes (a quoted key may hold "\u0000") */
    size_t key_len;
    cfg_toml_value *value;
} cfg_toml_pair;

struct cfg_toml_value {
    cfg_toml_type type;
    unsigned line, column; /* 1-based start of the value (a table: of its header or key) */
    unsigned flags;        /* reader-internal: how a table or array was made */
    union {
        struct {
            char *ptr; /* NUL-terminated; len counts bytes (may hold NUL) */
            size_t len;
        } s;
        int64_t i;
        double f;
        bool b;
        cfg_toml_datetime dt;
        struct {
            cfg_toml_pair *items;
            size_t count, cap;
            uint32_t *index; /* reader-internal hash index of big tables (item + 1, 0 = free) */
            size_t index_cap;
        } table;
        struct {
            cfg_toml_value **items;
            size_t count, cap;
        } array;
    } u;
};

/* Where and why parsing stopped. */
typedef struct cfg_toml_error {
    unsigned line, column; /* 0 when not about a position (out of memory, unreadable file) */
    char msg[256];
} cfg_toml_error;

/* Parses buf[0..len) (UTF-8, an optional BOM first). Returns the root table (free with
 * cfg_toml_free) or NULL with *err filled. */
cfg_toml_value *cfg_toml_parse(const char *buf, size_t len, cfg_toml_error *err);

/* Reads and parses the file. Errors: CFG_ERR_FILE ("PATH: reason"), CFG_ERR_TOML
 * ("PATH:LINE:COLUMN: reason"), CFG_ERR_NOMEM; the message goes to err. */
cfg_status cfg_toml_load(const char *path, cfg_toml_value **out, char *err, size_t errlen);

void cfg_toml_free(cfg_toml_value *v);

/* The value of key (NUL-terminated) in a table, or NULL (also when t is not a table). */
const cfg_toml_value *cfg_toml_get(const cfg_toml_value *t, const char *key);

/* "table", "array", "string", "integer", "float", "boolean", "offset date-time", ... */
const char *cfg_toml_type_name(cfg_toml_type type);

/* Writes a date/time value as RFC 3339 ("1979-05-27T07:32:00.5-07:00", "07:32:00", ...), the
 * fraction with the digits written. Returns the length snprintf would (0 for other types). */
int cfg_toml_datetime_format(const cfg_toml_value *v, char *buf, size_t n);

#endif
