/* cfg_json.c: loads flag-named JSON files with jansson and formats their errors on one line
 * (file name, then line and column for syntax errors). */
#include "config/cfg_json.h"
#include "util/util_str.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

cfg_status cfg_json_load(const char *path, json_t **out, char *err, size_t errlen)
{
    *out = NULL;
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "%s: cannot read: %s", path, strerror(errno));
        return CFG_ERR_FILE;
    }
    struct stat st;
    if (fstat(fileno(f), &st) == 0 && S_ISDIR(st.st_mode)) {
        fclose(f);
        snprintf(err, errlen, "%s: cannot read: is a directory", path);
        return CFG_ERR_FILE;
    }
    json_error_t je;
    json_t *root = json_loadf(f, JSON_REJECT_DUPLICATES, &je);
    int read_error = ferror(f);
    fclose(f);
    if (read_error) {
        json_decref(root);
        snprintf(err, errlen, "%s: cannot read: I/O error", path);
        return CFG_ERR_FILE;
    }
    if (!root) {
        if (je.line > 0)
            snprintf(err, errlen, "%s:%d:%d: invalid JSON: %s", path, je.line, je.column, je.text);
        else
            snprintf(err, errlen, "%s: invalid JSON: %s", path, je.text);
        cfg_json_one_line(err); /* jansson quotes the text near the error, newlines included */
        return CFG_ERR_JSON;
    }
    *out = root;
    return CFG_OK;
}

cfg_status cfg_json_load_object(const char *path, const cfg_json_walk *w, char *err, size_t errlen)
{
    json_t *root;
    cfg_status st = cfg_json_load(path, &root, err, errlen);
    if (st != CFG_OK)
        return st;
    if (!json_is_object(root)) {
        snprintf(err, errlen, "%s: expected %s, found %s", path, w->shape,
                 cfg_json_type_name(root));
        st = CFG_ERR_JSON;
        goto done;
    }
    if (w->begin && (st = w->begin(w->user, json_object_size(root), path, err, errlen)) != CFG_OK)
        goto done;
    size_t i = 0;
    const char *key;
    size_t key_len;
    json_t *value;
    json_object_keylen_foreach(root, key, key_len, value)
    {
        if ((st = w->entry(w->user, i++, key, key_len, value, path, err, errlen)) != CFG_OK)
            break;
    }
done:
    json_decref(root);
    return st;
}

cfg_status cfg_json_calloc(void **out, size_t n, size_t size, const char *path, char *err,
                           size_t errlen)
{
    if (!(*out = calloc(n ? n : 1, size))) {
        snprintf(err, errlen, "%s: out of memory", path);
        return CFG_ERR_NOMEM;
    }
    return CFG_OK;
}

const char *cfg_json_type_name(const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT:
        return "an object";
    case JSON_ARRAY:
        return "an array";
    case JSON_STRING:
        return "a string";
    case JSON_INTEGER:
    case JSON_REAL:
        return "a number";
    case JSON_TRUE:
    case JSON_FALSE:
        return "a boolean";
    case JSON_NULL:
        return "null";
    }
    return "a value";
}

char *cfg_json_strdup(const json_t *str, size_t *len)
{
    size_t n = json_string_length(str);
    char *d = util_strndup(json_string_value(str), n);
    if (d && len)
        *len = n;
    return d;
}

void cfg_json_one_line(char *msg)
{
    for (; *msg; msg++)
        if ((unsigned char)*msg < 0x20 || *msg == 0x7f)
            *msg = '?';
}
