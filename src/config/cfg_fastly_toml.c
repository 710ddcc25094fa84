/* cfg_fastly_toml.c: fastly.toml's [local_server] section into a cfg_options, following the
 * .rs files of Viceroy's src/config/: the package fields' checks, the sections (type checks and
 * aliases first: config_stores = dictionaries; kv_stores and object_store = object_stores), ACLs,
 * fake keys and shielding sites, the shared message and path helpers, and merging the result
 * under the command line's flags. The other kinds are in cfg_fastly_toml_{backend,stores,
 * lookups}.c. */
#include "config/cfg_fastly_toml_int.h"
#include "util/util_grow.h"
#include "util/util_str.h"
#include "config/cfg_json.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

/* ---- messages ---- */

/* One line: "PATH:LINE:COLUMN: WHERE: message" (no position when at is NULL). */
cfg_status cfg_ft_bad(cfg_ft *f, cfg_status st, const cfg_toml_value *at, const char *where,
                      const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (at)
        snprintf(f->err, f->errlen, "%s:%u:%u: %s: %s", f->path, at->line, at->column, where, msg);
    else
        snprintf(f->err, f->errlen, "%s: %s: %s", f->path, where, msg);
    cfg_json_one_line(f->err); /* a quoted value or key may hold a newline */
    return st;
}

cfg_status cfg_ft_nomem(cfg_ft *f)
{
    snprintf(f->err, f->errlen, "%s: out of memory", f->path);
    return CFG_ERR_NOMEM;
}

const char *cfg_ft_a_type(const cfg_toml_value *v)
{
    switch (v->type) {
    case CFG_TOML_TABLE:
        return "a table";
    case CFG_TOML_ARRAY:
        return "an array";
    case CFG_TOML_STRING:
        return "a string";
    case CFG_TOML_INTEGER:
        return "an integer";
    case CFG_TOML_FLOAT:
        return "a float";
    case CFG_TOML_BOOL:
        return "a boolean";
    case CFG_TOML_DATETIME:
        return "an offset date-time";
    case CFG_TOML_DATETIME_LOCAL:
        return "a local date-time";
    case CFG_TOML_DATE_LOCAL:
        return "a local date";
    case CFG_TOML_TIME_LOCAL:
        return "a local time";
    }
    return "a value";
}

/* parent.key, with the key quoted when it is not a bare TOML key. */
void cfg_ft_sub(char *out, size_t n, const char *parent, const char *key)
{
    bool bare = key[0] != '\0';
    for (const char *p = key; *p; p++)
        if (!((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
              *p == '_' || *p == '-'))
            bare = false;
    char q[160];
    size_t j = 0;
    for (const char *p = key; *p && j + 6 < sizeof q; p++) {
        unsigned char c = (unsigned char)*p;
        if (c == '"' || c == '\\')
            q[j++] = '\\';
        q[j++] = c < 0x20 || c == 0x7f ? '?' : (char)c;
    }
    q[j] = '\0';
    snprintf(out, n, bare ? "%s.%s" : "%s.\"%s\"", parent, q);
}

/* ---- small helpers ---- */

void cfg_ft_resolve(const cfg_ft *f, const char *name, char *out, size_t n)
{
    if (name[0] == '/' || strcmp(f->dir, ".") == 0)
        snprintf(out, n, "%s", name);
    else
        snprintf(out, n, "%s/%s", f->dir, name);
}

/* Reads a whole file (any bytes). NULL with errno set on failure. */
char *cfg_ft_read_all(const char *path, size_t *len)
{
    FILE *fp = fopen(path, "rb");
    if (!fp)
        return NULL;
    struct stat st;
    if (fstat(fileno(fp), &st) == 0 && S_ISDIR(st.st_mode)) {
        fclose(fp);
        errno = EISDIR;
        return NULL;
    }
    size_t cap = 0, n = 0;
    char *buf = NULL;
    for (;;) { /* room for one more byte and the NUL; 4 KiB first, then twice the room */
        if (!util_grow((void **)&buf, &cap, n + 2, 4096, 1)) {
            free(buf);
            buf = NULL;
            break;
        }
        n += fread(buf + n, 1, cap - n - 1, fp);
        if (n < cap - 1)
            break;
    }
    int bad_read = ferror(fp);
    fclose(fp);
    if (!buf) {
        errno = ENOMEM;
        return NULL;
    }
    if (bad_read) {
        free(buf);
        errno = EIO;
        return NULL;
    }
    buf[n] = '\0';
    *len = n;
    return buf;
}

bool cfg_ft_is_blank(const char *s)
{
    for (; *s; s++)
        if (*s != ' ' && *s != '\t' && *s != '\n' && *s != '\r')
            return false;
    return true;
}

/* The first key (in byte order, as Viceroy's sorted tables report it) not in allowed[], or NULL. */
const cfg_toml_pair *cfg_ft_unrecognized(const cfg_toml_value *t, const char *const *allowed)
{
    const cfg_toml_pair *first = NULL;
    for (size_t i = 0; i < t->u.table.count; i++) {
        const cfg_toml_pair *pr = &t->u.table.items[i];
        bool ok = false;
        for (const char *const *a = allowed; *a && !ok; a++)
            ok = strcmp(pr->key, *a) == 0;
        if (!ok && (!first || strcmp(pr->key, first->key) < 0))
            first = pr;
    }
    return first;
}

/* A format / file pair's "file": checked, resolved into full. */
cfg_status cfg_ft_file_field(cfg_ft *f, const cfg_toml_value *t, const char *where, char *full,
                             size_t n, const cfg_toml_value **at)
{
    const cfg_toml_value *file = cfg_toml_get(t, "file");
    if (!file)
        return cfg_ft_bad(f, CFG_ERR_TOML, t, where, "missing 'file' field");
    char w[CFG_FT_WHERE_MAX];
    cfg_ft_sub(w, sizeof w, where, "file");
    if (file->type != CFG_TOML_STRING)
        return cfg_ft_bad(f, CFG_ERR_TOML, file, w, "'file' field was not a string");
    if (file->u.s.len == 0)
        return cfg_ft_bad(f, CFG_ERR_TOML, file, w, "'file' field is empty");
    cfg_ft_resolve(f, file->u.s.ptr, full, n);
    *at = file;
    return CFG_OK;
}

/* The "format" field: 0 inline-toml, 1 json, -1 absent (when optional), or an error. */
cfg_status cfg_ft_format_field(cfg_ft *f, const cfg_toml_value *t, const char *where,
                               const char *what, bool optional, int *fmt)
{
    const cfg_toml_value *v = cfg_toml_get(t, "format");
    char w[CFG_FT_WHERE_MAX];
    cfg_ft_sub(w, sizeof w, where, "format");
    *fmt = -1;
    if (!v)
        return optional ? CFG_OK : cfg_ft_bad(f, CFG_ERR_TOML, t, where, "missing 'format' field");
    if (v->type != CFG_TOML_STRING)
        return cfg_ft_bad(f, CFG_ERR_TOML, v, w, "'format' field was not a string");
    if (strcmp(v->u.s.ptr, "inline-toml") == 0)
        *fmt = 0;
    else if (strcmp(v->u.s.ptr, "json") == 0)
        *fmt = 1;
    else if (v->u.s.len == 0)
        return cfg_ft_bad(f, CFG_ERR_TOML, v, w, "'format' field is empty");
    else
        return cfg_ft_bad(f, CFG_ERR_TOML, v, w,
                          "'%s' is not a valid format for the %s. Supported format(s) are: "
                          "'inline-toml', 'json'.",
                          v->u.s.ptr, what);
    return CFG_OK;
}

/* ---- ACLs, fake keys, shielding sites ---- */

static cfg_status do_acl(cfg_ft *f, const char *name, const cfg_toml_value *v, const char *where)
{
    const cfg_toml_value *file = v;
    if (v->type == CFG_TOML_TABLE) {
        file = cfg_toml_get(v, "file");
        if (!file || file->type != CFG_TOML_STRING)
            return cfg_ft_bad(f, CFG_ERR_TOML, file ? file : v, where, "missing 'file' field");
    } else if (v->type != CFG_TOML_STRING) {
        return cfg_ft_bad(f, CFG_ERR_TOML, v, where, "acl must be a TOML table or string");
    }
    char full[4096], msg[1024];
    cfg_ft_resolve(f, file->u.s.ptr, full, sizeof full);
    cfg_status st = cfg_edge_add_acl(&f->o->edge, name, full, msg, sizeof msg);
    return st == CFG_OK ? CFG_OK : cfg_ft_bad(f, st, file, where, "%s", msg);
}

static cfg_status do_fake_keys(cfg_ft *f, const cfg_toml_value *v, const char *where)
{
    if (v->type != CFG_TOML_ARRAY)
        return cfg_ft_bad(f, CFG_ERR_TOML, v, where, "expected an array of strings, found %s",
                          cfg_ft_a_type(v));
    for (size_t i = 0; i < v->u.array.count; i++) {
        const cfg_toml_value *k = v->u.array.items[i];
        if (k->type != CFG_TOML_STRING)
            return cfg_ft_bad(f, CFG_ERR_TOML, k, where,
                              "expected an array of strings, found %s in it", cfg_ft_a_type(k));
        char *copy = util_strndup(k->u.s.ptr, k->u.s.len);
        char **grown =
            copy ? realloc(f->o->fake_fastly_keys, (f->o->nfake_fastly_keys + 1) * sizeof *grown)
                 : NULL;
        if (!grown) {
            free(copy);
            return cfg_ft_nomem(f);
        }
        f->o->fake_fastly_keys = grown;
        grown[f->o->nfake_fastly_keys++] = copy;
    }
    return CFG_OK;
}

static cfg_status do_shielding_site(cfg_ft *f, const char *name, const cfg_toml_value *v,
                                    const char *where)
{
    char msg[512];
    if (v->type == CFG_TOML_STRING) {
        if (strcasecmp(v->u.s.ptr, "local") != 0)
            return cfg_ft_bad(f, CFG_ERR_TOML, v, where,
                              "Illegal TOML string for shielding site; must be 'local'");
        cfg_status st =
            cfg_shields_add(&f->o->edge.shields, name, true, NULL, NULL, msg, sizeof msg);
        return st == CFG_OK ? CFG_OK : cfg_ft_bad(f, st, v, where, "%s", msg);
    }
    if (v->type == CFG_TOML_TABLE) {
        const cfg_toml_value *e = cfg_toml_get(v, "encrypted"), *u = cfg_toml_get(v, "unencrypted");
        if (v->u.table.count != 2 || !e || !u || e->type != CFG_TOML_STRING ||
            u->type != CFG_TOML_STRING)
            return cfg_ft_bad(f, CFG_ERR_TOML, v, where,
                              "Illegal table for shielding site; must have exactly one key named "
                              "'encrypted', and one named 'unencrypted'");
        const cfg_toml_value *bad = !cfg_shield_url_ok(e->u.s.ptr)   ? e
                                    : !cfg_shield_url_ok(u->u.s.ptr) ? u
                                                                     : NULL;
        if (bad)
            return cfg_ft_bad(f, CFG_ERR_TOML, bad, where,
                              "Illegal URL ('%s'): expected an http:// or https:// URL",
                              bad->u.s.ptr);
        cfg_status st = cfg_shields_add(&f->o->edge.shields, name, false, u->u.s.ptr, e->u.s.ptr,
                                        msg, sizeof msg);
        return st == CFG_OK ? CFG_OK : cfg_ft_bad(f, st, v, where, "%s", msg);
    }
    return cfg_ft_bad(
        f, CFG_ERR_TOML, v, where,
        "Illegal TOML value for shielding site; must be either the string 'local' or a "
        "table containing an encrypted and unencrypted URL.");
}

/* ---- the file ---- */

typedef cfg_status (*entry_fn)(cfg_ft *f, const char *name, const cfg_toml_value *v,
                               const char *where);

static cfg_status each_entry(cfg_ft *f, const cfg_toml_value *t, const char *where, entry_fn fn)
{
    for (size_t i = 0; t && i < t->u.table.count; i++) {
        char w[CFG_FT_WHERE_MAX];
        cfg_ft_sub(w, sizeof w, where, t->u.table.items[i].key);
        cfg_status st = fn(f, t->u.table.items[i].key, t->u.table.items[i].value, w);
        if (st != CFG_OK)
            return st;
    }
    return CFG_OK;
}

static cfg_status dictionary_entry(cfg_ft *f, const char *n, const cfg_toml_value *v, const char *w)
{
    return cfg_ft_dictionary(f, n, v, w, false);
}

static cfg_status config_store_entry(cfg_ft *f, const char *n, const cfg_toml_value *v,
                                     const char *w)
{
    return cfg_ft_dictionary(f, n, v, w, true);
}

static cfg_status shielding_entry(cfg_ft *f, const char *n, const cfg_toml_value *v, const char *w)
{
    return do_shielding_site(f, n, v, w);
}

/* The section under one of its names (aliases count as the same field, given once). */
static cfg_status section(cfg_ft *f, const cfg_toml_value *ls, const char *const *names,
                          const cfg_toml_value **out, const char **used)
{
    *out = NULL;
    for (const char *const *n = names; *n; n++) {
        const cfg_toml_value *v = cfg_toml_get(ls, *n);
        if (!v)
            continue;
        char w[CFG_FT_WHERE_MAX];
        cfg_ft_sub(w, sizeof w, "local_server", *n);
        if (*out) {
            /* report whichever of the two comes later in the file */
            bool later =
                v->line > (*out)->line || (v->line == (*out)->line && v->column > (*out)->column);
            const cfg_toml_value *dup = later ? v : *out;
            const char *dup_name = later ? *n : *used, *first = later ? *used : *n;
            cfg_ft_sub(w, sizeof w, "local_server", dup_name);
            return cfg_ft_bad(f, CFG_ERR_TOML, dup, w,
                              "duplicate field `%s`: `%s` is another name for `%s`, given already",
                              names[0], dup_name, first);
        }
        if (v->type != CFG_TOML_TABLE)
            return cfg_ft_bad(f, CFG_ERR_TOML, v, w, "expected a table, found %s",
                              cfg_ft_a_type(v));
        *out = v;
        *used = *n;
    }
    return CFG_OK;
}

static cfg_status package_fields(cfg_ft *f, const cfg_toml_value *root)
{
    static const char *const strings[] = {"name", "description", "language", NULL};
    for (const char *const *k = strings; *k; k++) {
        const cfg_toml_value *v = cfg_toml_get(root, *k);
        if (v && v->type != CFG_TOML_STRING)
            return cfg_ft_bad(f, CFG_ERR_TOML, v, *k, "expected a string, found %s",
                              cfg_ft_a_type(v));
    }
    const cfg_toml_value *v = cfg_toml_get(root, "authors");
    if (v) {
        bool ok = v->type == CFG_TOML_ARRAY;
        for (size_t i = 0; ok && i < v->u.array.count; i++)
            ok = v->u.array.items[i]->type == CFG_TOML_STRING;
        if (!ok)
            return cfg_ft_bad(f, CFG_ERR_TOML, v, "authors", "expected an array of strings");
    }
    v = cfg_toml_get(root, "manifest_version");
    if (v) {
        if (v->type != CFG_TOML_INTEGER || v->u.i < 0 || v->u.i > (int64_t)UINT32_MAX)
            return cfg_ft_bad(f, CFG_ERR_TOML, v, "manifest_version",
                              "expected a non-negative integer, found %s", cfg_ft_a_type(v));
        if (v->u.i > 3)
            return cfg_ft_bad(f, CFG_ERR_TOML, v, "manifest_version",
                              "unsupported manifest version %lld; max supported version is 3",
                              (long long)v->u.i);
    }
    return CFG_OK;
}

static cfg_status load_local_server(cfg_ft *f, const cfg_toml_value *ls)
{
    static const char *const acls_n[] = {"acls", NULL}, *const backends_n[] = {"backends", NULL},
                             *const device_n[] = {"device_detection", NULL},
                             *const geo_n[] = {"geolocation", NULL},
                             *const dict_n[] = {"dictionaries", "config_stores", NULL},
                             *const kv_n[] = {"object_stores", "object_store", "kv_stores", NULL},
                             *const secret_n[] = {"secret_stores", NULL},
                             *const shield_n[] = {"shielding_sites", NULL};
    const cfg_toml_value *acls, *backends, *device, *geo, *dicts, *kv, *secrets, *shield;
    const char *dict_name = "dictionaries", *kv_name = "object_stores", *used = NULL;
    cfg_status st;
    /* Type checks first, as serde does them before any section is interpreted. */
    if ((st = section(f, ls, acls_n, &acls, &used)) != CFG_OK ||
        (st = section(f, ls, backends_n, &backends, &used)) != CFG_OK ||
        (st = section(f, ls, device_n, &device, &used)) != CFG_OK ||
        (st = section(f, ls, geo_n, &geo, &used)) != CFG_OK ||
        (st = section(f, ls, dict_n, &dicts, &dict_name)) != CFG_OK ||
        (st = section(f, ls, kv_n, &kv, &kv_name)) != CFG_OK ||
        (st = section(f, ls, secret_n, &secrets, &used)) != CFG_OK ||
        (st = section(f, ls, shield_n, &shield, &used)) != CFG_OK)
        return st;
    const cfg_toml_value *keys = cfg_toml_get(ls, "fake_valid_fastly_keys");
    char w[CFG_FT_WHERE_MAX];
    if (keys && (st = do_fake_keys(f, keys, "local_server.fake_valid_fastly_keys")) != CFG_OK)
        return st;
    if ((st = each_entry(f, acls, "local_server.acls", do_acl)) != CFG_OK ||
        (st = each_entry(f, backends, "local_server.backends", cfg_ft_backend)) != CFG_OK)
        return st;
    if (device &&
        (st = cfg_ft_device_detection(f, device, "local_server.device_detection")) != CFG_OK)
        return st;
    if (geo && (st = cfg_ft_geolocation(f, geo, "local_server.geolocation")) != CFG_OK)
        return st;
    if ((st = cfg_ft_pushpin(f, cfg_toml_get(ls, "pushpin"), "local_server.pushpin")) != CFG_OK)
        return st;
    cfg_ft_sub(w, sizeof w, "local_server", dict_name);
    bool config_stores = strcmp(dict_name, "config_stores") == 0;
    if ((st = each_entry(f, dicts, w, config_stores ? config_store_entry : dictionary_entry)) !=
        CFG_OK)
        return st;
    cfg_ft_sub(w, sizeof w, "local_server", kv_name);
    if ((st = each_entry(f, kv, w, cfg_ft_kv_store)) != CFG_OK)
        return st;
    if ((st = each_entry(f, secrets, "local_server.secret_stores", cfg_ft_secret_store)) != CFG_OK)
        return st;
    return each_entry(f, shield, "local_server.shielding_sites", shielding_entry);
}

cfg_status cfg_fastly_toml_load(const char *path, cfg_options *out, char *err, size_t errlen)
{
    cfg_ft f = {.path = path, .o = out, .err = err, .errlen = errlen};
    const char *slash = strrchr(path, '/');
    if (!slash)
        snprintf(f.dir, sizeof f.dir, ".");
    else if (slash == path)
        snprintf(f.dir, sizeof f.dir, "/");
    else
        snprintf(f.dir, sizeof f.dir, "%.*s", (int)(slash - path), path);
    cfg_toml_value *root;
    cfg_status st = cfg_toml_load(path, &root, err, errlen);
    if (st != CFG_OK)
        return st;
    st = package_fields(&f, root);
    const cfg_toml_value *ls = cfg_toml_get(root, "local_server");
    if (st == CFG_OK && ls && ls->type != CFG_TOML_TABLE)
        st = cfg_ft_bad(&f, CFG_ERR_TOML, ls, "local_server", "expected a table, found %s",
                        cfg_ft_a_type(ls));
    else if (st == CFG_OK && ls)
        st = load_local_server(&f, ls);
    cfg_toml_free(root);
    return st;
}

static bool same_backend_name(const char *a, const char *b)
{
    return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

cfg_status cfg_fastly_toml_merge(cfg_options *o, cfg_options *toml, char *err, size_t errlen)
{
    for (size_t i = 0; i < toml->nbackends; i++) {
        bool taken = false;
        for (size_t j = 0; j < o->nbackends && !taken; j++)
            taken = same_backend_name(o->backends[j].name, toml->backends[i].name);
        if (taken)
            continue;
        cfg_backend *grown = realloc(o->backends, (o->nbackends + 1) * sizeof *grown);
        if (!grown) {
            snprintf(err, errlen, "out of memory");
            return CFG_ERR_NOMEM;
        }
        o->backends = grown;
        o->backends[o->nbackends++] = toml->backends[i];
        memset(&toml->backends[i], 0, sizeof toml->backends[i]);
    }
    for (size_t i = 0; i < toml->nfake_fastly_keys; i++) {
        bool have = false;
        for (size_t j = 0; j < o->nfake_fastly_keys && !have; j++)
            have = strcmp(o->fake_fastly_keys[j], toml->fake_fastly_keys[i]) == 0;
        if (have)
            continue;
        char **grown = realloc(o->fake_fastly_keys, (o->nfake_fastly_keys + 1) * sizeof *grown);
        if (!grown) {
            snprintf(err, errlen, "out of memory");
            return CFG_ERR_NOMEM;
        }
        o->fake_fastly_keys = grown;
        grown[o->nfake_fastly_keys++] = toml->fake_fastly_keys[i];
        toml->fake_fastly_keys[i] = NULL;
    }
    cfg_pushpin_merge(&o->pushpin, &toml->pushpin);
    cfg_status st = cfg_edge_merge(&o->edge, &toml->edge, err, errlen);
    if (st == CFG_OK)
        cfg_options_deinit(toml);
    return st;
}
