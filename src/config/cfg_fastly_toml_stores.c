/* cfg_fastly_toml_stores.c: fastly.toml's dictionaries / config stores (inline-toml contents or
 * a JSON file, Fastly's size limits), KV (object) stores and secret stores (arrays of {key, data |
 * file | ...} or a {file, format = "json"}), with Viceroy's checks and messages, added to the
 * cfg_edge as in-memory stores. */
#include "config/cfg_fastly_toml_int.h"

#include "config/cfg_json.h"
#include "util/util_grow.h"
#include "util/util_str.h"

#include <errno.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static size_t utf8_chars(const char *s, size_t n)
{
    size_t c = 0;
    for (size_t i = 0; i < n; i++)
        if (((unsigned char)s[i] & 0xC0) != 0x80)
            c++;
    return c;
}

/* ---- dictionaries and config stores ---- */

/* Fastly's dictionary limits. `at` is the inline contents table (the offending item is then named
 * and pointed at) or the "file" value. */
static cfg_status check_dict_limits(cfg_ft *f, const cfg_string_map *m, const cfg_toml_value *at,
                                    const char *where)
{
    for (size_t i = 0; i < m->count; i++) {
        const cfg_string_entry *e = &m->entries[i];
        bool key_long = utf8_chars(e->key, e->key_len) > 256;
        if (!key_long && utf8_chars(e->value, e->value_len) <= 8000)
            continue;
        const cfg_toml_value *pos = at;
        char w[CFG_FT_WHERE_MAX];
        snprintf(w, sizeof w, "%s", where);
        if (at->type == CFG_TOML_TABLE && cfg_toml_get(at, e->key)) {
            pos = cfg_toml_get(at, e->key);
            cfg_ft_sub(w, sizeof w, where, e->key);
        }
        if (key_long)
            return cfg_ft_bad(f, CFG_ERR_TOML, pos, w,
                              "Item key named '%s' is too long, max size is 256", e->key);
        return cfg_ft_bad(f, CFG_ERR_TOML, pos, w,
                          "Item value named '%s' is too long, max size is 8000", e->key);
    }
    return CFG_OK;
}

cfg_status cfg_ft_dictionary(cfg_ft *f, const char *name, const cfg_toml_value *def,
                             const char *where, bool config_store)
{
    if (def->type != CFG_TOML_TABLE)
        return cfg_ft_bad(f, CFG_ERR_TOML, def, where,
                          "definition was not provided as a TOML table");
    int fmt;
    cfg_status st = cfg_ft_format_field(f, def, where, "dictionary", false, &fmt);
    if (st != CFG_OK)
        return st;
    cfg_string_map m = {0};
    char full[4096] = "";
    const cfg_toml_value *at = def;
    char w[CFG_FT_WHERE_MAX];
    if (fmt == 0) {
        const cfg_toml_value *c = cfg_toml_get(def, "contents");
        if (!c)
            return cfg_ft_bad(f, CFG_ERR_TOML, def, where, "missing 'contents' field");
        cfg_ft_sub(w, sizeof w, where, "contents");
        if (c->type != CFG_TOML_TABLE)
            return cfg_ft_bad(f, CFG_ERR_TOML, c, w, "'contents' was not provided as a TOML table");
        m.entries = calloc(c->u.table.count ? c->u.table.count : 1, sizeof *m.entries);
        if (!m.entries)
            return cfg_ft_nomem(f);
        for (size_t i = 0; i < c->u.table.count; i++) {
            const cfg_toml_pair *pr = &c->u.table.items[i];
            if (pr->value->type != CFG_TOML_STRING) {
                char kw[CFG_FT_WHERE_MAX];
                cfg_ft_sub(kw, sizeof kw, w, pr->key);
                cfg_string_map_deinit(&m);
                return cfg_ft_bad(f, CFG_ERR_TOML, pr->value, kw,
                                  "inline dictionary value was not a string");
            }
            cfg_string_entry *e = &m.entries[m.count++];
            e->key = util_strndup(pr->key, pr->key_len);
            e->key_len = pr->key_len;
            e->value = util_strndup(pr->value->u.s.ptr, pr->value->u.s.len);
            e->value_len = pr->value->u.s.len;
            if (!e->key || !e->value) {
                cfg_string_map_deinit(&m);
                return cfg_ft_nomem(f);
            }
        }
        at = c;
    } else {
        if ((st = cfg_ft_file_field(f, def, where, full, sizeof full, &at)) != CFG_OK)
            return st;
        char msg[1024];
        cfg_ft_sub(w, sizeof w, where, "file");
        st = cfg_string_map_load(full, &m, msg, sizeof msg);
        if (st != CFG_OK)
            return cfg_ft_bad(f, st, at, w, "%s", msg);
    }
    const char *const allowed[] = {"format", fmt == 0 ? "contents" : "file", NULL};
    const cfg_toml_pair *extra = cfg_ft_unrecognized(def, allowed);
    if (extra) {
        cfg_ft_sub(w, sizeof w, where, extra->key);
        st = cfg_ft_bad(f, CFG_ERR_TOML, extra->value, w, "unrecognized key '%s'", extra->key);
    }
    if (st == CFG_OK) {
        cfg_ft_sub(w, sizeof w, where, fmt == 0 ? "contents" : "file");
        st = check_dict_limits(f, &m, at, w);
    }
    if (st == CFG_OK) {
        char msg[512];
        st = (config_store ? cfg_edge_add_config_store_map : cfg_edge_add_dictionary_map)(
            &f->o->edge, name, fmt == 1 ? full : NULL, &m, msg, sizeof msg);
        if (st != CFG_OK)
            st = cfg_ft_bad(f, st, def, where, "%s", msg);
    }
    cfg_string_map_deinit(&m);
    return st;
}

/* ---- KV (object) stores ---- */

typedef struct kv_list {
    cfg_kv_entry *items;
    size_t count, cap;
} kv_list;

static void kv_list_free(kv_list *l)
{
    for (size_t i = 0; i < l->count; i++) {
        free(l->items[i].key);
        free(l->items[i].body);
        free(l->items[i].metadata);
    }
    free(l->items);
    memset(l, 0, sizeof *l);
}

/* Viceroy's ObjectKey rules; NULL when the key is fine, else the message's tail. */
static const char *kv_key_problem(const char *k, size_t n, char *buf, size_t bn)
{
    if (n == 0)
        return "Keys for objects cannot be empty";
    if (n > 1024)
        return "Keys for objects cannot be over 1024 bytes in size";
    if (n >= 26 && memcmp(k, ".well-known/acme-challenge", 26) == 0)
        return "Keys for objects cannot start with `.well-known/acme-challenge`";
    if ((n == 2 && memcmp(k, "..", 2) == 0) || memmem(k, n, "../", 3) ||
        (n >= 3 && memcmp(k + n - 3, "/..", 3) == 0))
        return "Keys for objects cannot be named `..`";
    if ((n == 1 && k[0] == '.') || memmem(k, n, "./", 2) ||
        (n >= 2 && memcmp(k + n - 2, "/.", 2) == 0))
        return "Keys for objects cannot be named `.`";
    static const char bad_chars[] = "\r\n#;?^|";
    for (const char *c = bad_chars; *c; c++)
        if (memchr(k, *c, n)) {
            /* CR and LF written as escapes, so the message stays one line */
            snprintf(buf, bn, "Keys for objects cannot contain a `%s%c`",
                     *c == '\r'   ? "\\r"
                     : *c == '\n' ? "\\n"
                                  : "",
                     *c == '\r' || *c == '\n' ? '\0' : *c);
            return buf;
        }
    if (n == 1 && (unsigned char)k[0] <= 0x20) {
        snprintf(buf, bn, "Keys for objects cannot contain a `\\u{%x}`", (unsigned char)k[0]);
        return buf;
    }
    if (n == 3 && (unsigned char)k[0] == 0xEF && (unsigned char)k[1] == 0xBF &&
        ((unsigned char)k[2] == 0xBE || (unsigned char)k[2] == 0xBF)) {
        snprintf(buf, bn, "Keys for objects cannot contain a `\\u{%s}`",
                 (unsigned char)k[2] == 0xBE ? "fffe" : "ffff");
        return buf;
    }
    return NULL;
}

/* Adds one entry: data (ptr, len) or the contents of file (a name relative to the toml). */
static cfg_status kv_add(cfg_ft *f, kv_list *l, const cfg_toml_value *at, const char *where,
                         const char *key, size_t key_len, const char *data, size_t data_len,
                         const char *file, const char *meta, size_t meta_len)
{
    char *body = NULL;
    size_t body_len = 0;
    if (file) {
        char full[4096];
        cfg_ft_resolve(f, file, full, sizeof full);
        if (!(body = cfg_ft_read_all(full, &body_len)))
            return cfg_ft_bad(f, CFG_ERR_FILE, at, where, "cannot read %s: %s", full,
                              strerror(errno));
    } else {
        body = util_strndup(data, data_len);
        body_len = data_len;
    }
    char kb[128];
    const char *problem = kv_key_problem(key, key_len, kb, sizeof kb);
    if (problem) {
        free(body);
        return cfg_ft_bad(f, CFG_ERR_TOML, at, where, "Invalid `key` value used: %s.", problem);
    }
    if (!util_grow((void **)&l->items, &l->cap, l->count + 1, 8, sizeof *l->items)) {
        free(body);
        return cfg_ft_nomem(f);
    }
    cfg_kv_entry *e = &l->items[l->count];
    memset(e, 0, sizeof *e);
    e->key = util_strndup(key, key_len);
    e->key_len = key_len;
    e->body = body;
    e->body_len = body_len;
    if (meta) {
        e->metadata = util_strndup(meta, meta_len);
        e->metadata_len = meta_len;
    }
    l->count++;
    if (!e->key || !e->body || (meta && !e->metadata))
        return cfg_ft_nomem(f);
    return CFG_OK;
}

/* A {file, format = "json"} store: the JSON object's values are strings or {data|file,
 * metadata}. */
static cfg_status kv_json(cfg_ft *f, kv_list *l, const cfg_toml_value *at, const char *where,
                          const char *full)
{
    json_t *root;
    char msg[1024];
    cfg_status st = cfg_json_load(full, &root, msg, sizeof msg);
    if (st != CFG_OK)
        return cfg_ft_bad(f, st, at, where, "%s", msg);
    if (!json_is_object(root)) {
        json_decref(root);
        return cfg_ft_bad(
            f, CFG_ERR_JSON, at, where,
            "%s: The file is of the wrong format. The file is expected to contain a single "
            "JSON Object.",
            full);
    }
    const char *key;
    size_t key_len;
    json_t *v;
    json_object_keylen_foreach(root, key, key_len, v)
    {
        const char *data = NULL, *file = NULL, *meta = NULL;
        size_t data_len = 0, meta_len = 0;
        bool shape_ok = true;
        if (json_is_string(v)) {
            data = json_string_value(v);
            data_len = json_string_length(v);
        } else if (json_is_object(v)) {
            json_t *d = json_object_get(v, "data"), *fl = json_object_get(v, "file"),
                   *m = json_object_get(v, "metadata");
            shape_ok = (!d || json_is_string(d)) && (!fl || json_is_string(fl)) &&
                       (!m || json_is_string(m));
            if (shape_ok && d && fl) {
                st = cfg_ft_bad(
                    f, CFG_ERR_JSON, at, where,
                    "%s: Item value under key named '%s' is of the wrong format. 'data' and "
                    "'file' are mutually exclusive.",
                    full, key);
                break;
            }
            if (shape_ok && !d && !fl) {
                st =
                    cfg_ft_bad(f, CFG_ERR_JSON, at, where,
                               "%s: Item value under key named '%s' is of the wrong format. One of "
                               "'data' or 'file' must be present.",
                               full, key);
                break;
            }
            if (shape_ok) {
                data = d ? json_string_value(d) : NULL;
                data_len = d ? json_string_length(d) : 0;
                file = fl ? json_string_value(fl) : NULL;
                meta = m ? json_string_value(m) : NULL;
                meta_len = m ? json_string_length(m) : 0;
            }
        } else {
            shape_ok = false;
        }
        if (!shape_ok) {
            st = cfg_ft_bad(
                f, CFG_ERR_JSON, at, where,
                "%s: Item value under key named '%s' is of the wrong format. The value is "
                "expected to be a JSON String.",
                full, key);
            break;
        }
        st = kv_add(f, l, at, where, key, key_len, data, data_len, file, meta, meta_len);
        if (st != CFG_OK)
            break;
    }
    json_decref(root);
    return st;
}

/* The array of {key, data | file | path, metadata} tables. */
static cfg_status kv_items(cfg_ft *f, kv_list *l, const cfg_toml_value *items, const char *where)
{
    for (size_t i = 0; i < items->u.array.count; i++) {
        const cfg_toml_value *it = items->u.array.items[i];
        char w[CFG_FT_WHERE_MAX];
        snprintf(w, sizeof w, "%s[%zu]", where, i);
        if (it->type != CFG_TOML_TABLE)
            return cfg_ft_bad(f, CFG_ERR_TOML, it, w,
                              "There is an object in the given store that is not a table of keys.");
        const cfg_toml_value *key = cfg_toml_get(it, "key");
        if (!key)
            return cfg_ft_bad(f, CFG_ERR_TOML, it, w,
                              "The `key` key for an object is not set. It must be used.");
        if (key->type != CFG_TOML_STRING)
            return cfg_ft_bad(f, CFG_ERR_TOML, key, w,
                              "The `key` value for an object is not a string.");
        const cfg_toml_value *file = cfg_toml_get(it, "file");
        if (!file)
            file = cfg_toml_get(it, "path"); /* the old name of "file" */
        const cfg_toml_value *data = cfg_toml_get(it, "data");
        const char *k = key->u.s.ptr;
        if (!file && !data)
            return cfg_ft_bad(
                f, CFG_ERR_TOML, it, w,
                "The `file` or `data` key for the object `%s` is not set. One must be used.", k);
        if (file && data)
            return cfg_ft_bad(
                f, CFG_ERR_TOML, it, w,
                "The `file` and `data` keys for the object `%s` are set. Only one can be "
                "used.",
                k);
        if (file && file->type != CFG_TOML_STRING)
            return cfg_ft_bad(f, CFG_ERR_TOML, file, w,
                              "The `file` value for the object `%s` is not a string.", k);
        if (data && data->type != CFG_TOML_STRING)
            return cfg_ft_bad(f, CFG_ERR_TOML, data, w,
                              "The `data` value for the object `%s` is not a string.", k);
        const cfg_toml_value *meta = cfg_toml_get(it, "metadata");
        if (meta && meta->type != CFG_TOML_STRING)
            return cfg_ft_bad(f, CFG_ERR_TOML, meta, w,
                              "The `metadata` value for the object `%s` is not a string.", k);
        cfg_status st =
            kv_add(f, l, file ? file : it, w, k, key->u.s.len, data ? data->u.s.ptr : NULL,
                   data ? data->u.s.len : 0, file ? file->u.s.ptr : NULL,
                   meta ? meta->u.s.ptr : NULL, meta ? meta->u.s.len : 0);
        if (st != CFG_OK)
            return st;
    }
    return CFG_OK;
}

/* Tells a store's two shapes apart as Viceroy does: a table with string "file" and "format", or
 * an array. Returns 1 for the file form, 0 for the array, or an error status via *st. */
static int store_shape(cfg_ft *f, const cfg_toml_value *items, const char *where, const char *what,
                       const char **file, cfg_status *st)
{
    const cfg_toml_value *fl = cfg_toml_get(items, "file");
    const cfg_toml_value *fm = cfg_toml_get(items, "format");
    bool has_file = fl && fl->type == CFG_TOML_STRING;
    bool has_fmt = fm && fm->type == CFG_TOML_STRING;
    *st = CFG_OK;
    if (has_file && has_fmt) {
        if (strcmp(fm->u.s.ptr, "json") != 0) {
            char w[CFG_FT_WHERE_MAX];
            cfg_ft_sub(w, sizeof w, where, "format");
            *st = cfg_ft_bad(
                f, CFG_ERR_TOML, fm, w,
                "'%s' is not a valid format for the %s. Supported format(s) are: 'json'.",
                fm->u.s.ptr, what);
            return -1;
        }
        *file = fl->u.s.ptr;
        return 1;
    }
    if (has_file || has_fmt) {
        *st = cfg_ft_bad(
            f, CFG_ERR_TOML, items, where,
            "When using a top-level 'file' to load data, both 'file' and 'format' must be "
            "set.");
        return -1;
    }
    if (items->type != CFG_TOML_ARRAY) {
        *st = cfg_ft_bad(f, CFG_ERR_TOML, items, where,
                         "There is no array of objects for the given store.");
        return -1;
    }
    return 0;
}

cfg_status cfg_ft_kv_store(cfg_ft *f, const char *name, const cfg_toml_value *items,
                           const char *where)
{
    kv_list l = {0};
    const char *file = NULL;
    cfg_status st;
    /* Viceroy's message says "config store" here (its text is shared with config stores). */
    int shape = store_shape(f, items, where, "config store", &file, &st);
    if (shape < 0)
        return st;
    char full[4096] = "";
    if (shape == 1) {
        cfg_ft_resolve(f, file, full, sizeof full);
        char w[CFG_FT_WHERE_MAX];
        cfg_ft_sub(w, sizeof w, where, "file");
        st = kv_json(f, &l, cfg_toml_get(items, "file"), w, full);
    } else {
        st = kv_items(f, &l, items, where);
    }
    if (st == CFG_OK) {
        char msg[512];
        st = cfg_edge_add_kv_store_entries(&f->o->edge, name, shape == 1 ? full : NULL, l.items,
                                           l.count, msg, sizeof msg);
        if (st == CFG_OK)
            return CFG_OK; /* the entries belong to the store now */
        st = cfg_ft_bad(f, st, items, where, "%s", msg);
    }
    kv_list_free(&l);
    return st;
}

/* ---- secret stores ---- */

static bool valid_secret_name(const char *s, size_t n)
{
    if (n == 0 || n > 255)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-' || c == '.'))
            return false;
    }
    return true;
}

/* Adds or replaces key -> value (taken over) in m; false when out of memory. */
static bool map_put(cfg_string_map *m, size_t *cap, char *key, size_t key_len, char *value,
                    size_t value_len)
{
    for (size_t i = 0; i < m->count; i++)
        if (m->entries[i].key_len == key_len && memcmp(m->entries[i].key, key, key_len) == 0) {
            free(key);
            free(m->entries[i].value);
            m->entries[i].value = value;
            m->entries[i].value_len = value_len;
            return true;
        }
    if (!util_grow((void **)&m->entries, cap, m->count + 1, 8, sizeof *m->entries)) {
        free(key);
        free(value);
        return false;
    }
    m->entries[m->count++] = (cfg_string_entry){key, key_len, value, value_len};
    return true;
}

static cfg_status secret_add(cfg_ft *f, cfg_string_map *m, size_t *cap, const cfg_toml_value *at,
                             const char *where, const char *key, size_t key_len, const char *value,
                             size_t value_len)
{
    if (!valid_secret_name(key, key_len))
        return cfg_ft_bad(f, CFG_ERR_TOML, at, where, "Invalid secret name: %s", key);
    char *k = util_strndup(key, key_len), *v = util_strndup(value, value_len);
    if (!k || !v) {
        free(k);
        free(v);
        return cfg_ft_nomem(f);
    }
    return map_put(m, cap, k, key_len, v, value_len) ? CFG_OK : cfg_ft_nomem(f);
}

static cfg_status secret_items(cfg_ft *f, cfg_string_map *m, size_t *cap,
                               const cfg_toml_value *items, const char *where)
{
    for (size_t i = 0; i < items->u.array.count; i++) {
        const cfg_toml_value *it = items->u.array.items[i];
        char w[CFG_FT_WHERE_MAX];
        snprintf(w, sizeof w, "%s[%zu]", where, i);
        if (it->type != CFG_TOML_TABLE)
            return cfg_ft_bad(f, CFG_ERR_TOML, it, w,
                              "There is an object in the given store that is not a table of keys.");
        const cfg_toml_value *key = cfg_toml_get(it, "key");
        if (!key)
            return cfg_ft_bad(f, CFG_ERR_TOML, it, w,
                              "The `key` key for an object is not set. It must be used.");
        if (key->type != CFG_TOML_STRING)
            return cfg_ft_bad(f, CFG_ERR_TOML, key, w,
                              "The `key` value for an object is not a string.");
        const char *k = key->u.s.ptr;
        if (!valid_secret_name(k, key->u.s.len))
            return cfg_ft_bad(f, CFG_ERR_TOML, key, w, "Invalid secret name: %s", k);
        const cfg_toml_value *file = cfg_toml_get(it, "file"), *data = cfg_toml_get(it, "data"),
                             *env = cfg_toml_get(it, "env");
        int n = (file != NULL) + (data != NULL) + (env != NULL);
        if (n == 0)
            return cfg_ft_bad(
                f, CFG_ERR_TOML, it, w,
                "None of `file`, `data`, or `env` keys for the object `%s` is set. One "
                "must be used.",
                k);
        if (n > 1)
            return cfg_ft_bad(
                f, CFG_ERR_TOML, it, w,
                "More than one of `file`, `data`, or `env` keys for the object `%s` are "
                "set. Only one can be used.",
                k);
        const cfg_toml_value *src = file ? file : data ? data : env;
        if (src->type != CFG_TOML_STRING)
            return cfg_ft_bad(f, CFG_ERR_TOML, src, w,
                              "The `%s` value for the object `%s` is not a string.",
                              file   ? "file"
                              : data ? "data"
                                     : "env",
                              k);
        cfg_status st;
        if (file) {
            char full[4096];
            cfg_ft_resolve(f, src->u.s.ptr, full, sizeof full);
            size_t len = 0;
            char *text = cfg_ft_read_all(full, &len);
            if (!text)
                return cfg_ft_bad(f, CFG_ERR_FILE, src, w, "cannot read %s: %s", full,
                                  strerror(errno));
            st = secret_add(f, m, cap, key, w, k, key->u.s.len, text, len);
            free(text);
        } else if (data) {
            st = secret_add(f, m, cap, key, w, k, key->u.s.len, src->u.s.ptr, src->u.s.len);
        } else {
            const char *val = getenv(src->u.s.ptr); /* unset: an empty secret, as Viceroy */
            st = secret_add(f, m, cap, key, w, k, key->u.s.len, val ? val : "",
                            val ? strlen(val) : 0);
        }
        if (st != CFG_OK)
            return st;
    }
    return CFG_OK;
}

static cfg_status secret_json(cfg_ft *f, cfg_string_map *m, size_t *cap, const cfg_toml_value *at,
                              const char *where, const char *full)
{
    json_t *root;
    char msg[1024];
    cfg_status st = cfg_json_load(full, &root, msg, sizeof msg);
    if (st != CFG_OK)
        return cfg_ft_bad(f, st, at, where, "%s", msg);
    const char *key;
    size_t key_len;
    json_t *v;
    bool shape_ok = json_is_object(root);
    json_object_keylen_foreach(root, key, key_len, v)
    {
        if (!json_is_string(v))
            shape_ok = false;
    }
    if (!shape_ok) {
        json_decref(root);
        return cfg_ft_bad(
            f, CFG_ERR_JSON, at, where,
            "%s: The file is of the wrong format. The file is expected to contain a single "
            "JSON object.",
            full);
    }
    json_object_keylen_foreach(root, key, key_len, v)
    {
        st = secret_add(f, m, cap, at, where, key, key_len, json_string_value(v),
                        json_string_length(v));
        if (st != CFG_OK)
            break;
    }
    json_decref(root);
    return st;
}

cfg_status cfg_ft_secret_store(cfg_ft *f, const char *name, const cfg_toml_value *items,
                               const char *where)
{
    if (!valid_secret_name(name, strlen(name)))
        return cfg_ft_bad(f, CFG_ERR_TOML, items, where, "Invalid secret store name: %s", name);
    const char *file = NULL;
    cfg_status st;
    int shape = store_shape(f, items, where, "secret store", &file, &st);
    if (shape < 0)
        return st;
    cfg_string_map m = {0};
    size_t cap = 0;
    char full[4096] = "";
    if (shape == 1) {
        cfg_ft_resolve(f, file, full, sizeof full);
        char w[CFG_FT_WHERE_MAX];
        cfg_ft_sub(w, sizeof w, where, "file");
        st = secret_json(f, &m, &cap, cfg_toml_get(items, "file"), w, full);
    } else {
        st = secret_items(f, &m, &cap, items, where);
    }
    if (st == CFG_OK) {
        char msg[512];
        st = cfg_edge_add_secret_store_map(&f->o->edge, name, shape == 1 ? full : NULL, &m, msg,
                                           sizeof msg);
        if (st != CFG_OK)
            st = cfg_ft_bad(f, st, items, where, "%s", msg);
    }
    cfg_string_map_deinit(&m);
    return st;
}
