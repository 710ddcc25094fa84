/* cfg_store.c: loading and looking up the JSON-backed stores of cfg_store.h (dictionaries,
 * config stores, secret stores, KV stores). Formats follow Fastlike's README; KV objects also
 * accept Viceroy's "data" spelling for the body. */
#include "config/cfg_store.h"

#include "config/cfg_json.h"
#include "util/util_str.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int key_cmp(const char *a, size_t alen, const char *b, size_t blen)
{
    int c = memcmp(a, b, alen < blen ? alen : blen);
    if (c != 0)
        return c;
    return alen < blen ? -1 : alen > blen;
}

static int string_entry_cmp(const void *a, const void *b)
{
    const cfg_string_entry *x = a, *y = b;
    return key_cmp(x->key, x->key_len, y->key, y->key_len);
}

static int kv_entry_cmp(const void *a, const void *b)
{
    const cfg_kv_entry *x = a, *y = b;
    return key_cmp(x->key, x->key_len, y->key, y->key_len);
}

void cfg_string_map_deinit(cfg_string_map *m)
{
    if (!m)
        return;
    for (size_t i = 0; i < m->count; i++) {
        free(m->entries[i].key);
        free(m->entries[i].value);
    }
    free(m->entries);
    m->entries = NULL;
    m->count = 0;
}

#define STORE_SHAPE "a JSON object of \"key\": value pairs"

static cfg_status string_map_begin(void *user, size_t n, const char *path, char *err, size_t errlen)
{
    cfg_string_map *m = user;
    return cfg_json_calloc((void **)&m->entries, n, sizeof *m->entries, path, err, errlen);
}

static cfg_status string_map_entry(void *user, size_t i, const char *key, size_t key_len,
                                   json_t *value, const char *path, char *err, size_t errlen)
{
    cfg_string_map *m = user;
    if (!json_is_string(value)) {
        snprintf(err, errlen, "%s: key \"%s\": value must be a string, found %s", path, key,
                 cfg_json_type_name(value));
        return CFG_ERR_JSON;
    }
    cfg_string_entry *e = &m->entries[m->count++];
    e->key = util_strndup(key, key_len);
    e->value = cfg_json_strdup(value, &e->value_len);
    if (!e->key || !e->value) {
        snprintf(err, errlen, "%s: out of memory", path);
        return CFG_ERR_NOMEM;
    }
    e->key_len = key_len;
    return CFG_OK;
}

cfg_status cfg_string_map_load(const char *path, cfg_string_map *out, char *err, size_t errlen)
{
    out->entries = NULL;
    out->count = 0;
    cfg_json_walk w = {STORE_SHAPE, string_map_begin, string_map_entry, out};
    cfg_status st = cfg_json_load_object(path, &w, err, errlen);
    if (st != CFG_OK) {
        cfg_string_map_deinit(out);
        return st;
    }
    qsort(out->entries, out->count, sizeof *out->entries, string_entry_cmp);
    return CFG_OK;
}

/* UTF-8 characters in s[0..len) (bytes that do not continue a sequence). */
static size_t utf8_chars(const char *s, size_t len)
{
    size_t n = 0;
    for (size_t i = 0; i < len; i++)
        n += ((unsigned char)s[i] & 0xC0) != 0x80;
    return n;
}

cfg_status cfg_string_map_check_limits(const cfg_string_map *m, const char *path, char *err,
                                       size_t errlen)
{
    for (size_t i = 0; i < m->count; i++) {
        const cfg_string_entry *e = &m->entries[i];
        if (utf8_chars(e->key, e->key_len) > CFG_DICT_KEY_MAX_CHARS) {
            snprintf(err, errlen, "%s: key \"%.40s...\" is longer than %d characters", path, e->key,
                     CFG_DICT_KEY_MAX_CHARS);
            return CFG_ERR_VALUE;
        }
        if (utf8_chars(e->value, e->value_len) > CFG_DICT_VALUE_MAX_CHARS) {
            snprintf(err, errlen, "%s: key \"%s\": value is longer than %d characters", path,
                     e->key, CFG_DICT_VALUE_MAX_CHARS);
            return CFG_ERR_VALUE;
        }
    }
    return CFG_OK;
}

const cfg_string_entry *cfg_string_map_get(const cfg_string_map *m, const char *key, size_t key_len)
{
    cfg_string_entry probe = {.key = (char *)key, .key_len = key_len};
    return m->count ? bsearch(&probe, m->entries, m->count, sizeof *m->entries, string_entry_cmp)
                    : NULL;
}

void cfg_dictionary_deinit(cfg_dictionary *d)
{
    if (!d)
        return;
    free(d->name);
    free(d->path);
    cfg_string_map_deinit(&d->items);
    d->name = d->path = NULL;
}

void cfg_kv_store_deinit(cfg_kv_store *kv)
{
    if (!kv)
        return;
    for (size_t i = 0; i < kv->count; i++) {
        free(kv->entries[i].key);
        free(kv->entries[i].body);
        free(kv->entries[i].metadata);
    }
    free(kv->entries);
    free(kv->name);
    free(kv->path);
    memset(kv, 0, sizeof *kv);
}

/* Fills e's body and metadata from a KV value (string, or object with body/data and metadata). */
static cfg_status kv_value(const char *path, const char *key, json_t *value, cfg_kv_entry *e,
                           char *err, size_t errlen)
{
    json_t *body = value;
    json_t *meta = NULL;
    if (json_is_object(value)) {
        const char *field;
        json_t *v;
        body = NULL;
        json_object_foreach(value, field, v)
        {
            if (strcmp(field, "body") == 0 || strcmp(field, "data") == 0) {
                if (body) {
                    snprintf(err, errlen, "%s: key \"%s\": give \"body\" or \"data\", not both",
                             path, key);
                    return CFG_ERR_JSON;
                }
                body = v;
            } else if (strcmp(field, "metadata") == 0) {
                meta = v;
            } else {
                snprintf(err, errlen,
                         "%s: key \"%s\": unknown field \"%s\" (expected body and metadata)", path,
                         key, field);
                return CFG_ERR_JSON;
            }
        }
        if (!body) {
            snprintf(err, errlen, "%s: key \"%s\": object needs a \"body\" string", path, key);
            return CFG_ERR_JSON;
        }
        if (!json_is_string(body)) {
            snprintf(err, errlen, "%s: key \"%s\": \"body\" must be a string, found %s", path, key,
                     cfg_json_type_name(body));
            return CFG_ERR_JSON;
        }
        if (meta && !json_is_string(meta)) {
            snprintf(err, errlen, "%s: key \"%s\": \"metadata\" must be a string, found %s", path,
                     key, cfg_json_type_name(meta));
            return CFG_ERR_JSON;
        }
    } else if (!json_is_string(value)) {
        snprintf(err, errlen,
                 "%s: key \"%s\": value must be a string or an object with body/metadata, "
                 "found %s",
                 path, key, cfg_json_type_name(value));
        return CFG_ERR_JSON;
    }
    e->body = cfg_json_strdup(body, &e->body_len);
    if (meta)
        e->metadata = cfg_json_strdup(meta, &e->metadata_len);
    if (!e->body || (meta && !e->metadata)) {
        snprintf(err, errlen, "%s: out of memory", path);
        return CFG_ERR_NOMEM;
    }
    return CFG_OK;
}

static cfg_status kv_begin(void *user, size_t n, const char *path, char *err, size_t errlen)
{
    cfg_kv_store *kv = user;
    return cfg_json_calloc((void **)&kv->entries, n, sizeof *kv->entries, path, err, errlen);
}

static cfg_status kv_entry(void *user, size_t i, const char *key, size_t key_len, json_t *value,
                           const char *path, char *err, size_t errlen)
{
    cfg_kv_store *kv = user;
    cfg_kv_entry *e = &kv->entries[kv->count++];
    cfg_status st = kv_value(path, key, value, e, err, errlen);
    if (st != CFG_OK)
        return st;
    if (!(e->key = util_strndup(key, key_len))) {
        snprintf(err, errlen, "%s: out of memory", path);
        return CFG_ERR_NOMEM;
    }
    e->key_len = key_len;
    return CFG_OK;
}

cfg_status cfg_kv_store_load(const char *path, cfg_kv_store *out, char *err, size_t errlen)
{
    out->entries = NULL;
    out->count = 0;
    cfg_json_walk w = {STORE_SHAPE, kv_begin, kv_entry, out};
    cfg_status st = cfg_json_load_object(path, &w, err, errlen);
    if (st != CFG_OK) {
        for (size_t i = 0; i < out->count; i++) {
            free(out->entries[i].key);
            free(out->entries[i].body);
            free(out->entries[i].metadata);
        }
        free(out->entries);
        out->entries = NULL;
        out->count = 0;
        return st;
    }
    qsort(out->entries, out->count, sizeof *out->entries, kv_entry_cmp);
    return CFG_OK;
}

const cfg_kv_entry *cfg_kv_store_get(const cfg_kv_store *kv, const char *key, size_t key_len)
{
    cfg_kv_entry probe = {.key = (char *)key, .key_len = key_len};
    return kv->count ? bsearch(&probe, kv->entries, kv->count, sizeof *kv->entries, kv_entry_cmp)
                     : NULL;
}

void cfg_string_map_sort(cfg_string_map *m)
{
    if (m->count > 1)
        qsort(m->entries, m->count, sizeof *m->entries, string_entry_cmp);
}

/* Orders entry pointers by key, then by position, so the last of equal keys sorts last. */
static int kv_ptr_cmp(const void *a, const void *b)
{
    const cfg_kv_entry *x = *(const cfg_kv_entry *const *)a, *y = *(const cfg_kv_entry *const *)b;
    int c = key_cmp(x->key, x->key_len, y->key, y->key_len);
    return c ? c : (x > y) - (x < y);
}

size_t cfg_kv_entries_sort(cfg_kv_entry *entries, size_t count)
{
    if (count < 2)
        return count;
    cfg_kv_entry **order = malloc(count * sizeof *order);
    cfg_kv_entry *sorted = malloc(count * sizeof *sorted);
    if (!order || !sorted) {
        /* No room to keep the order: sort in place (a repeated key then keeps an arbitrary one). */
        free(order);
        free(sorted);
        qsort(entries, count, sizeof *entries, kv_entry_cmp);
        return count;
    }
    for (size_t i = 0; i < count; i++)
        order[i] = &entries[i];
    qsort(order, count, sizeof *order, kv_ptr_cmp);
    size_t n = 0;
    for (size_t i = 0; i < count; i++) {
        cfg_kv_entry *e = order[i];
        if (i + 1 < count &&
            key_cmp(e->key, e->key_len, order[i + 1]->key, order[i + 1]->key_len) == 0) {
            free(e->key);
            free(e->body);
            free(e->metadata);
            continue;
        }
        sorted[n++] = *e;
    }
    memcpy(entries, sorted, n * sizeof *entries);
    free(order);
    free(sorted);
    return n;
}
