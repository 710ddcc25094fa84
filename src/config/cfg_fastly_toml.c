/* cfg_fastly_toml.c: fastly.toml's [local_server] section into a cfg_options, following the
 * .rs files of Viceroy's src/config/: the same keys, defaults, aliases (config_stores =
 * dictionaries; kv_stores and object_store = object_stores) and checks, with Viceroy's wording of
 * each problem, prefixed by the file, the line:column and the key path. JSON files it names are
 * read now with our loaders. */
#include "config/cfg_fastly_toml.h"

#include "config/cfg_json.h"
#include "config/cfg_toml.h"

#include <arpa/inet.h>
#include <errno.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#define WHERE_MAX 512

typedef struct ft {
    const char *path; /* the toml, as given */
    char dir[2048];   /* its directory, for relative file names */
    cfg_options *o;
    char *err;
    size_t errlen;
} ft;

/* ---- messages ---- */

/* One line: "PATH:LINE:COLUMN: WHERE: message" (no position when at is NULL). */
static cfg_status bad(ft *f, cfg_status st, const cfg_toml_value *at, const char *where,
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
    return st;
}

static cfg_status nomem(ft *f)
{
    snprintf(f->err, f->errlen, "%s: out of memory", f->path);
    return CFG_ERR_NOMEM;
}

static const char *a_type(const cfg_toml_value *v)
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
static void sub(char *out, size_t n, const char *parent, const char *key)
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

static char *dup_n(const char *s, size_t n)
{
    char *d = malloc(n + 1);
    if (d) {
        memcpy(d, s, n);
        d[n] = '\0';
    }
    return d;
}

static void resolve(const ft *f, const char *name, char *out, size_t n)
{
    if (name[0] == '/' || strcmp(f->dir, ".") == 0)
        snprintf(out, n, "%s", name);
    else
        snprintf(out, n, "%s/%s", f->dir, name);
}

/* Reads a whole file (any bytes). NULL with errno set on failure. */
static char *read_all(const char *path, size_t *len)
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
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap);
    while (buf) {
        n += fread(buf + n, 1, cap - n - 1, fp);
        if (n < cap - 1)
            break;
        cap *= 2;
        char *nb = realloc(buf, cap);
        if (!nb)
            free(buf);
        buf = nb;
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

static size_t utf8_chars(const char *s, size_t n)
{
    size_t c = 0;
    for (size_t i = 0; i < n; i++)
        if (((unsigned char)s[i] & 0xC0) != 0x80)
            c++;
    return c;
}

static bool is_blank(const char *s)
{
    for (; *s; s++)
        if (*s != ' ' && *s != '\t' && *s != '\n' && *s != '\r')
            return false;
    return true;
}

/* The first key (in byte order, as Viceroy's sorted tables report it) not in allowed[], or NULL. */
static const cfg_toml_pair *unrecognized(const cfg_toml_value *t, const char *const *allowed)
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

/* Converts a TOML value to JSON for geolocation and device-detection data: strings, integers,
 * finite floats, booleans, and (when allow_tables) tables of those. NULL otherwise. */
static json_t *to_json(const cfg_toml_value *v, bool allow_tables)
{
    switch (v->type) {
    case CFG_TOML_STRING:
        return json_stringn_nocheck(v->u.s.ptr, v->u.s.len);
    case CFG_TOML_INTEGER:
        return json_integer((json_int_t)v->u.i);
    case CFG_TOML_FLOAT:
        return json_real(v->u.f); /* NULL for inf and nan, as serde_json has no such numbers */
    case CFG_TOML_BOOL:
        return json_boolean(v->u.b);
    case CFG_TOML_TABLE: {
        if (!allow_tables)
            return NULL;
        json_t *o = json_object();
        for (size_t i = 0; o && i < v->u.table.count; i++) {
            json_t *x = to_json(v->u.table.items[i].value, true);
            if (!x || json_object_setn_new_nocheck(o, v->u.table.items[i].key,
                                                   v->u.table.items[i].key_len, x) != 0) {
                json_decref(o);
                return NULL;
            }
        }
        return o;
    }
    default:
        return NULL;
    }
}

/* ---- backends ---- */

static bool header_value_ok(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if ((c < 0x20 && c != '\t') || c == 0x7f)
            return false;
    }
    return true;
}

/* Appends PEM text to *pem (NUL-terminated, pieces separated by a newline). */
static bool pem_append(char **pem, const char *text, size_t n)
{
    size_t have = *pem ? strlen(*pem) : 0;
    char *np = realloc(*pem, have + n + 2);
    if (!np)
        return false;
    if (have)
        np[have++] = '\n';
    memcpy(np + have, text, n);
    np[have + n] = '\0';
    *pem = np;
    return true;
}

static cfg_status ca_cert(ft *f, const cfg_toml_value *v, const char *where, char **pem, int depth)
{
    static const char inv[] = "'ca_certificate' field was invalid";
    if (v->type == CFG_TOML_STRING) {
        if (is_blank(v->u.s.ptr))
            return bad(f, CFG_ERR_TOML, v, where, "'ca_certificate' field is empty");
        if (!strstr(v->u.s.ptr, "-----BEGIN CERTIFICATE-----"))
            return bad(f, CFG_ERR_TOML, v, where, "%s: no PEM certificate found", inv);
        return pem_append(pem, v->u.s.ptr, v->u.s.len) ? CFG_OK : nomem(f);
    }
    if (v->type == CFG_TOML_ARRAY && depth == 0) {
        for (size_t i = 0; i < v->u.array.count; i++) {
            cfg_status st = ca_cert(f, v->u.array.items[i], where, pem, depth + 1);
            if (st != CFG_OK)
                return st;
        }
        return CFG_OK;
    }
    if (v->type == CFG_TOML_TABLE) {
        const cfg_toml_value *file = cfg_toml_get(v, "file");
        if (!file) {
            const cfg_toml_value *value = cfg_toml_get(v, "value");
            if (!value)
                return bad(f, CFG_ERR_TOML, v, where,
                           "%s: 'ca_certificate' was a dictionary without a 'file' or 'value' "
                           "field",
                           inv);
            if (value->type != CFG_TOML_STRING)
                return bad(f, CFG_ERR_TOML, value, where, "%s: invalid format for 'value' field",
                           inv);
            return ca_cert(f, value, where, pem, depth + 1);
        }
        if (file->type != CFG_TOML_STRING)
            return bad(f, CFG_ERR_TOML, file, where, "%s: invalid format for file reference", inv);
        if (v->u.table.count > 1) {
            const char *const allowed[] = {"file", NULL};
            return bad(f, CFG_ERR_TOML, v, where, "%s: unknown ca_certificate keys: [\"%s\"]", inv,
                       unrecognized(v, allowed)->key);
        }
        char full[4096];
        resolve(f, file->u.s.ptr, full, sizeof full);
        size_t len = 0;
        char *text = read_all(full, &len);
        if (!text)
            return bad(f, CFG_ERR_FILE, file, where, "%s: cannot read %s: %s", inv, full,
                       strerror(errno));
        cfg_status st = CFG_OK;
        if (is_blank(text))
            st = bad(f, CFG_ERR_TOML, file, where, "'ca_certificate' field is empty");
        else if (!strstr(text, "-----BEGIN CERTIFICATE-----"))
            st = bad(f, CFG_ERR_TOML, file, where, "%s: no PEM certificate found in %s", inv, full);
        else if (!pem_append(pem, text, len))
            st = nomem(f);
        free(text);
        return st;
    }
    return bad(f, CFG_ERR_TOML, v, where,
               "%s: unknown format for 'ca_certificates' field; should be a certificate string, a "
               "dictionary with a file reference, or an array of the previous",
               inv);
}

/* One of certificate / certificate_file (or key / key_file) into *out. */
static cfg_status cert_part(ft *f, const cfg_toml_value *t, const char *inline_key,
                            const char *file_key, const char *where, char **out)
{
    const cfg_toml_value *v = cfg_toml_get(t, inline_key);
    if (v) {
        if (v->type != CFG_TOML_STRING)
            return bad(f, CFG_ERR_TOML, v, where,
                       "Expected a string value for key %s, got something else", inline_key);
        free(*out);
        if (!(*out = dup_n(v->u.s.ptr, v->u.s.len)))
            return nomem(f);
    }
    v = cfg_toml_get(t, file_key);
    if (v) {
        if (v->type != CFG_TOML_STRING)
            return bad(f, CFG_ERR_TOML, v, where,
                       "Expected a string value for key %s, got something else", file_key);
        char full[4096];
        resolve(f, v->u.s.ptr, full, sizeof full);
        size_t len;
        char *text = read_all(full, &len);
        if (!text)
            return bad(f, CFG_ERR_FILE, v, where, "Certificate/key read error: %s: %s", full,
                       strerror(errno));
        free(*out);
        *out = text;
    }
    return CFG_OK;
}

static cfg_status client_cert(ft *f, const cfg_toml_value *v, const char *where, cfg_backend *b)
{
    if (v->type != CFG_TOML_TABLE)
        return bad(f, CFG_ERR_TOML, v, where, "Expected a TOML table, found something else");
    cfg_status st = cert_part(f, v, "certificate", "certificate_file", where, &b->client_cert_pem);
    if (st == CFG_OK)
        st = cert_part(f, v, "key", "key_file", where, &b->client_key_pem);
    if (st != CFG_OK)
        return st;
    if (!b->client_cert_pem || !strstr(b->client_cert_pem, "-----BEGIN CERTIFICATE-----"))
        return bad(f, CFG_ERR_TOML, v, where, "No certificates found in client cert definition");
    if (!b->client_key_pem || !strstr(b->client_key_pem, "-----BEGIN ") ||
        !strstr(b->client_key_pem, "PRIVATE KEY-----"))
        return bad(f, CFG_ERR_TOML, v, where, "No keys found for client certificate");
    return CFG_OK;
}

static cfg_status host_field(ft *f, const cfg_toml_value *def, const char *key, const char *where,
                             char **out)
{
    const cfg_toml_value *v = cfg_toml_get(def, key);
    char w[WHERE_MAX];
    sub(w, sizeof w, where, key);
    if (!v)
        return CFG_OK;
    if (v->type != CFG_TOML_STRING)
        return bad(f, CFG_ERR_TOML, v, w, "'%s' field was not a string", key);
    if (is_blank(v->u.s.ptr))
        return bad(f, CFG_ERR_TOML, v, w, "'%s' field is empty", key);
    if (!header_value_ok(v->u.s.ptr, v->u.s.len))
        return bad(f, CFG_ERR_TOML, v, w, "invalid %s: failed to parse header value", key);
    return (*out = dup_n(v->u.s.ptr, v->u.s.len)) ? CFG_OK : nomem(f);
}

static cfg_status timeout_field(ft *f, const cfg_toml_value *def, const char *key,
                                const char *where, bool *has, uint32_t *ms)
{
    const cfg_toml_value *v = cfg_toml_get(def, key);
    if (!v)
        return CFG_OK;
    char w[WHERE_MAX];
    sub(w, sizeof w, where, key);
    if (v->type != CFG_TOML_INTEGER || v->u.i < 0)
        return bad(f, CFG_ERR_TOML, v, w, "Illegal timeout value (must be an integer >= 0)");
    *has = true;
    *ms = v->u.i > (int64_t)UINT32_MAX ? UINT32_MAX : (uint32_t)v->u.i;
    return CFG_OK;
}

static cfg_status bool_field(ft *f, const cfg_toml_value *def, const char *key, const char *where,
                             bool *out)
{
    const cfg_toml_value *v = cfg_toml_get(def, key);
    if (!v)
        return CFG_OK;
    if (v->type != CFG_TOML_BOOL) {
        char w[WHERE_MAX];
        sub(w, sizeof w, where, key);
        return bad(f, CFG_ERR_TOML, v, w, "'%s' field was not a boolean", key);
    }
    *out = v->u.b;
    return CFG_OK;
}

static cfg_status do_backend(ft *f, const char *name, const cfg_toml_value *def, const char *where)
{
    static const char *const allowed[] = {"url",
                                          "override_host",
                                          "cert_host",
                                          "use_sni",
                                          "client_certificate",
                                          "ca_certificate",
                                          "grpc",
                                          "first_byte_timeout_ms",
                                          "between_bytes_timeout_ms",
                                          "health",
                                          NULL};
    char w[WHERE_MAX];
    if (def->type != CFG_TOML_TABLE)
        return bad(f, CFG_ERR_TOML, def, where, "definition was not provided as a TOML table");
    const cfg_toml_value *url = cfg_toml_get(def, "url");
    if (!url)
        return bad(f, CFG_ERR_TOML, def, where, "missing 'url' field");
    sub(w, sizeof w, where, "url");
    if (url->type != CFG_TOML_STRING)
        return bad(f, CFG_ERR_TOML, url, w, "'url' field was not a string");
    if (!name[0] || strpbrk(name, "=:/@ \t"))
        return bad(f, CFG_ERR_TOML, def, where,
                   "backend name '%s' cannot be used (Fastlike's backend names have no '=', ':', "
                   "'/', '@' or spaces)",
                   name);
    size_t speclen = strlen(name) + 1 + url->u.s.len + 1;
    char *spec = malloc(speclen);
    if (!spec)
        return nomem(f);
    snprintf(spec, speclen, "%s=%s", name, url->u.s.ptr);
    cfg_backend b;
    char msg[512];
    cfg_status st = cfg_backend_parse(spec, &b, msg, sizeof msg);
    free(spec);
    if (st == CFG_ERR_NOMEM)
        return nomem(f);
    if (st != CFG_OK)
        return bad(f, CFG_ERR_TOML, url, w, "invalid url: %s", msg);
    bool use_sni = true;
    st = host_field(f, def, "override_host", where, &b.override_host);
    if (st == CFG_OK)
        st = host_field(f, def, "cert_host", where, &b.cert_host);
    if (st == CFG_OK)
        st = bool_field(f, def, "use_sni", where, &use_sni);
    b.no_sni = !use_sni;
    const cfg_toml_value *v = cfg_toml_get(def, "client_certificate");
    if (st == CFG_OK && v) {
        sub(w, sizeof w, where, "client_certificate");
        st = client_cert(f, v, w, &b);
    }
    v = cfg_toml_get(def, "ca_certificate");
    if (st == CFG_OK && v) {
        sub(w, sizeof w, where, "ca_certificate");
        st = ca_cert(f, v, w, &b.ca_pem, 0);
    }
    if (st == CFG_OK)
        st = bool_field(f, def, "grpc", where, &b.grpc);
    if (st == CFG_OK)
        st = timeout_field(f, def, "first_byte_timeout_ms", where, &b.has_first_byte_timeout,
                           &b.first_byte_timeout_ms);
    if (st == CFG_OK)
        st = timeout_field(f, def, "between_bytes_timeout_ms", where,
                           &b.has_between_bytes_timeout, &b.between_bytes_timeout_ms);
    v = cfg_toml_get(def, "health");
    if (st == CFG_OK && v) {
        sub(w, sizeof w, where, "health");
        const char *h = v->type == CFG_TOML_STRING ? v->u.s.ptr : NULL;
        if (h && strcasecmp(h, "unknown") == 0)
            b.health = CFG_HEALTH_UNKNOWN;
        else if (h && strcasecmp(h, "healthy") == 0)
            b.health = CFG_HEALTH_HEALTHY;
        else if (h && strcasecmp(h, "unhealthy") == 0)
            b.health = CFG_HEALTH_UNHEALTHY;
        else
            st = bad(f, CFG_ERR_TOML, v, w,
                     "'health' field has invalid value '%s' (expected 'unknown', 'healthy', or "
                     "'unhealthy')",
                     h ? h : "not a string");
    }
    const cfg_toml_pair *extra = st == CFG_OK ? unrecognized(def, allowed) : NULL;
    if (extra) {
        sub(w, sizeof w, where, extra->key);
        st = bad(f, CFG_ERR_TOML, extra->value, w, "unrecognized key '%s'", extra->key);
    }
    cfg_backend *grown =
        st == CFG_OK ? realloc(f->o->backends, (f->o->nbackends + 1) * sizeof *grown) : NULL;
    if (st == CFG_OK && !grown)
        st = nomem(f);
    if (st != CFG_OK) {
        cfg_backend_deinit(&b);
        return st;
    }
    f->o->backends = grown;
    f->o->backends[f->o->nbackends++] = b;
    return CFG_OK;
}

/* ---- dictionaries and config stores ---- */

/* Fastly's dictionary limits. `at` is the inline contents table (the offending item is then named
 * and pointed at) or the "file" value. */
static cfg_status check_dict_limits(ft *f, const cfg_string_map *m, const cfg_toml_value *at,
                                    const char *where)
{
    for (size_t i = 0; i < m->count; i++) {
        const cfg_string_entry *e = &m->entries[i];
        bool key_long = utf8_chars(e->key, e->key_len) > 256;
        if (!key_long && utf8_chars(e->value, e->value_len) <= 8000)
            continue;
        const cfg_toml_value *pos = at;
        char w[WHERE_MAX];
        snprintf(w, sizeof w, "%s", where);
        if (at->type == CFG_TOML_TABLE && cfg_toml_get(at, e->key)) {
            pos = cfg_toml_get(at, e->key);
            sub(w, sizeof w, where, e->key);
        }
        if (key_long)
            return bad(f, CFG_ERR_TOML, pos, w, "Item key named '%s' is too long, max size is 256",
                       e->key);
        return bad(f, CFG_ERR_TOML, pos, w,
                   "Item value named '%s' is too long, max size is 8000", e->key);
    }
    return CFG_OK;
}

/* A format / file pair's "file": checked, resolved into full. */
static cfg_status file_field(ft *f, const cfg_toml_value *t, const char *where, char *full,
                             size_t n, const cfg_toml_value **at)
{
    const cfg_toml_value *file = cfg_toml_get(t, "file");
    if (!file)
        return bad(f, CFG_ERR_TOML, t, where, "missing 'file' field");
    char w[WHERE_MAX];
    sub(w, sizeof w, where, "file");
    if (file->type != CFG_TOML_STRING)
        return bad(f, CFG_ERR_TOML, file, w, "'file' field was not a string");
    if (file->u.s.len == 0)
        return bad(f, CFG_ERR_TOML, file, w, "'file' field is empty");
    resolve(f, file->u.s.ptr, full, n);
    *at = file;
    return CFG_OK;
}

/* The "format" field: 0 inline-toml, 1 json, -1 absent (when optional), or an error. */
static cfg_status format_field(ft *f, const cfg_toml_value *t, const char *where, const char *what,
                               bool optional, int *fmt)
{
    const cfg_toml_value *v = cfg_toml_get(t, "format");
    char w[WHERE_MAX];
    sub(w, sizeof w, where, "format");
    *fmt = -1;
    if (!v)
        return optional ? CFG_OK : bad(f, CFG_ERR_TOML, t, where, "missing 'format' field");
    if (v->type != CFG_TOML_STRING)
        return bad(f, CFG_ERR_TOML, v, w, "'format' field was not a string");
    if (strcmp(v->u.s.ptr, "inline-toml") == 0)
        *fmt = 0;
    else if (strcmp(v->u.s.ptr, "json") == 0)
        *fmt = 1;
    else if (v->u.s.len == 0)
        return bad(f, CFG_ERR_TOML, v, w, "'format' field is empty");
    else
        return bad(f, CFG_ERR_TOML, v, w,
                   "'%s' is not a valid format for the %s. Supported format(s) are: "
                   "'inline-toml', 'json'.",
                   v->u.s.ptr, what);
    return CFG_OK;
}

/* Loader errors already name the JSON file and position; put the toml's position in front. */
static cfg_status loader_failed(ft *f, cfg_status st, const cfg_toml_value *at, const char *where,
                                const char *msg)
{
    return bad(f, st, at, where, "%s", msg);
}

static cfg_status do_dictionary(ft *f, const char *name, const cfg_toml_value *def,
                                const char *where, bool config_store)
{
    if (def->type != CFG_TOML_TABLE)
        return bad(f, CFG_ERR_TOML, def, where, "definition was not provided as a TOML table");
    int fmt;
    cfg_status st = format_field(f, def, where, "dictionary", false, &fmt);
    if (st != CFG_OK)
        return st;
    cfg_string_map m = {0};
    char full[4096] = "";
    const cfg_toml_value *at = def;
    char w[WHERE_MAX];
    if (fmt == 0) {
        const cfg_toml_value *c = cfg_toml_get(def, "contents");
        if (!c)
            return bad(f, CFG_ERR_TOML, def, where, "missing 'contents' field");
        sub(w, sizeof w, where, "contents");
        if (c->type != CFG_TOML_TABLE)
            return bad(f, CFG_ERR_TOML, c, w, "'contents' was not provided as a TOML table");
        m.entries = calloc(c->u.table.count ? c->u.table.count : 1, sizeof *m.entries);
        if (!m.entries)
            return nomem(f);
        for (size_t i = 0; i < c->u.table.count; i++) {
            const cfg_toml_pair *pr = &c->u.table.items[i];
            if (pr->value->type != CFG_TOML_STRING) {
                char kw[WHERE_MAX];
                sub(kw, sizeof kw, w, pr->key);
                cfg_string_map_deinit(&m);
                return bad(f, CFG_ERR_TOML, pr->value, kw,
                           "inline dictionary value was not a string");
            }
            cfg_string_entry *e = &m.entries[m.count++];
            e->key = dup_n(pr->key, pr->key_len);
            e->key_len = pr->key_len;
            e->value = dup_n(pr->value->u.s.ptr, pr->value->u.s.len);
            e->value_len = pr->value->u.s.len;
            if (!e->key || !e->value) {
                cfg_string_map_deinit(&m);
                return nomem(f);
            }
        }
        at = c;
    } else {
        if ((st = file_field(f, def, where, full, sizeof full, &at)) != CFG_OK)
            return st;
        char msg[1024];
        sub(w, sizeof w, where, "file");
        st = cfg_string_map_load(full, &m, msg, sizeof msg);
        if (st != CFG_OK)
            return loader_failed(f, st, at, w, msg);
    }
    const char *const allowed[] = {"format", fmt == 0 ? "contents" : "file", NULL};
    const cfg_toml_pair *extra = unrecognized(def, allowed);
    if (extra) {
        sub(w, sizeof w, where, extra->key);
        st = bad(f, CFG_ERR_TOML, extra->value, w, "unrecognized key '%s'", extra->key);
    }
    if (st == CFG_OK) {
        sub(w, sizeof w, where, fmt == 0 ? "contents" : "file");
        st = check_dict_limits(f, &m, at, w);
    }
    if (st == CFG_OK) {
        char msg[512];
        st = (config_store ? cfg_edge_add_config_store_map : cfg_edge_add_dictionary_map)(
            &f->o->edge, name, fmt == 1 ? full : NULL, &m, msg, sizeof msg);
        if (st != CFG_OK)
            st = bad(f, st, def, where, "%s", msg);
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
                     *c == '\r' ? "\\r" : *c == '\n' ? "\\n" : "",
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
static cfg_status kv_add(ft *f, kv_list *l, const cfg_toml_value *at, const char *where,
                         const char *key, size_t key_len, const char *data, size_t data_len,
                         const char *file, const char *meta, size_t meta_len)
{
    char *body = NULL;
    size_t body_len = 0;
    if (file) {
        char full[4096];
        resolve(f, file, full, sizeof full);
        if (!(body = read_all(full, &body_len)))
            return bad(f, CFG_ERR_FILE, at, where, "cannot read %s: %s", full, strerror(errno));
    } else {
        body = dup_n(data, data_len);
        body_len = data_len;
    }
    char kb[128];
    const char *problem = kv_key_problem(key, key_len, kb, sizeof kb);
    if (problem) {
        free(body);
        return bad(f, CFG_ERR_TOML, at, where, "Invalid `key` value used: %s.", problem);
    }
    if (l->count == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 8;
        cfg_kv_entry *np = realloc(l->items, cap * sizeof *np);
        if (!np) {
            free(body);
            return nomem(f);
        }
        l->items = np;
        l->cap = cap;
    }
    cfg_kv_entry *e = &l->items[l->count];
    memset(e, 0, sizeof *e);
    e->key = dup_n(key, key_len);
    e->key_len = key_len;
    e->body = body;
    e->body_len = body_len;
    if (meta) {
        e->metadata = dup_n(meta, meta_len);
        e->metadata_len = meta_len;
    }
    l->count++;
    if (!e->key || !e->body || (meta && !e->metadata))
        return nomem(f);
    return CFG_OK;
}

/* A {file, format = "json"} store: the JSON object's values are strings or {data|file,
 * metadata}. */
static cfg_status kv_json(ft *f, kv_list *l, const cfg_toml_value *at, const char *where,
                          const char *full)
{
    json_t *root;
    char msg[1024];
    cfg_status st = cfg_json_load(full, &root, msg, sizeof msg);
    if (st != CFG_OK)
        return loader_failed(f, st, at, where, msg);
    if (!json_is_object(root)) {
        json_decref(root);
        return bad(f, CFG_ERR_JSON, at, where,
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
                st = bad(f, CFG_ERR_JSON, at, where,
                         "%s: Item value under key named '%s' is of the wrong format. 'data' and "
                         "'file' are mutually exclusive.",
                         full, key);
                break;
            }
            if (shape_ok && !d && !fl) {
                st = bad(f, CFG_ERR_JSON, at, where,
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
            st = bad(f, CFG_ERR_JSON, at, where,
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
static cfg_status kv_items(ft *f, kv_list *l, const cfg_toml_value *items, const char *where)
{
    for (size_t i = 0; i < items->u.array.count; i++) {
        const cfg_toml_value *it = items->u.array.items[i];
        char w[WHERE_MAX];
        snprintf(w, sizeof w, "%s[%zu]", where, i);
        if (it->type != CFG_TOML_TABLE)
            return bad(f, CFG_ERR_TOML, it, w,
                       "There is an object in the given store that is not a table of keys.");
        const cfg_toml_value *key = cfg_toml_get(it, "key");
        if (!key)
            return bad(f, CFG_ERR_TOML, it, w,
                       "The `key` key for an object is not set. It must be used.");
        if (key->type != CFG_TOML_STRING)
            return bad(f, CFG_ERR_TOML, key, w, "The `key` value for an object is not a string.");
        const cfg_toml_value *file = cfg_toml_get(it, "file");
        if (!file)
            file = cfg_toml_get(it, "path"); /* the old name of "file" */
        const cfg_toml_value *data = cfg_toml_get(it, "data");
        const char *k = key->u.s.ptr;
        if (!file && !data)
            return bad(f, CFG_ERR_TOML, it, w,
                       "The `file` or `data` key for the object `%s` is not set. One must be used.",
                       k);
        if (file && data)
            return bad(f, CFG_ERR_TOML, it, w,
                       "The `file` and `data` keys for the object `%s` are set. Only one can be "
                       "used.",
                       k);
        if (file && file->type != CFG_TOML_STRING)
            return bad(f, CFG_ERR_TOML, file, w,
                       "The `file` value for the object `%s` is not a string.", k);
        if (data && data->type != CFG_TOML_STRING)
            return bad(f, CFG_ERR_TOML, data, w,
                       "The `data` value for the object `%s` is not a string.", k);
        const cfg_toml_value *meta = cfg_toml_get(it, "metadata");
        if (meta && meta->type != CFG_TOML_STRING)
            return bad(f, CFG_ERR_TOML, meta, w,
                       "The `metadata` value for the object `%s` is not a string.", k);
        cfg_status st = kv_add(f, l, file ? file : it, w, k, key->u.s.len,
                               data ? data->u.s.ptr : NULL, data ? data->u.s.len : 0,
                               file ? file->u.s.ptr : NULL, meta ? meta->u.s.ptr : NULL,
                               meta ? meta->u.s.len : 0);
        if (st != CFG_OK)
            return st;
    }
    return CFG_OK;
}

/* Tells a store's two shapes apart as Viceroy does: a table with string "file" and "format", or
 * an array. Returns 1 for the file form, 0 for the array, or an error status via *st. */
static int store_shape(ft *f, const cfg_toml_value *items, const char *where, const char *what,
                       const char **file, cfg_status *st)
{
    const cfg_toml_value *fl = cfg_toml_get(items, "file");
    const cfg_toml_value *fm = cfg_toml_get(items, "format");
    bool has_file = fl && fl->type == CFG_TOML_STRING;
    bool has_fmt = fm && fm->type == CFG_TOML_STRING;
    *st = CFG_OK;
    if (has_file && has_fmt) {
        if (strcmp(fm->u.s.ptr, "json") != 0) {
            char w[WHERE_MAX];
            sub(w, sizeof w, where, "format");
            *st = bad(f, CFG_ERR_TOML, fm, w,
                      "'%s' is not a valid format for the %s. Supported format(s) are: 'json'.",
                      fm->u.s.ptr, what);
            return -1;
        }
        *file = fl->u.s.ptr;
        return 1;
    }
    if (has_file || has_fmt) {
        *st = bad(f, CFG_ERR_TOML, items, where,
                  "When using a top-level 'file' to load data, both 'file' and 'format' must be "
                  "set.");
        return -1;
    }
    if (items->type != CFG_TOML_ARRAY) {
        *st = bad(f, CFG_ERR_TOML, items, where,
                  "There is no array of objects for the given store.");
        return -1;
    }
    return 0;
}

static cfg_status do_kv_store(ft *f, const char *name, const cfg_toml_value *items,
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
        resolve(f, file, full, sizeof full);
        char w[WHERE_MAX];
        sub(w, sizeof w, where, "file");
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
        st = bad(f, st, items, where, "%s", msg);
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
    if (m->count == *cap) {
        size_t nc = *cap ? *cap * 2 : 8;
        cfg_string_entry *np = realloc(m->entries, nc * sizeof *np);
        if (!np) {
            free(key);
            free(value);
            return false;
        }
        m->entries = np;
        *cap = nc;
    }
    m->entries[m->count++] = (cfg_string_entry){key, key_len, value, value_len};
    return true;
}

static cfg_status secret_add(ft *f, cfg_string_map *m, size_t *cap, const cfg_toml_value *at,
                             const char *where, const char *key, size_t key_len,
                             const char *value, size_t value_len)
{
    if (!valid_secret_name(key, key_len))
        return bad(f, CFG_ERR_TOML, at, where, "Invalid secret name: %s", key);
    char *k = dup_n(key, key_len), *v = dup_n(value, value_len);
    if (!k || !v) {
        free(k);
        free(v);
        return nomem(f);
    }
    return map_put(m, cap, k, key_len, v, value_len) ? CFG_OK : nomem(f);
}

static cfg_status secret_items(ft *f, cfg_string_map *m, size_t *cap,
                               const cfg_toml_value *items, const char *where)
{
    for (size_t i = 0; i < items->u.array.count; i++) {
        const cfg_toml_value *it = items->u.array.items[i];
        char w[WHERE_MAX];
        snprintf(w, sizeof w, "%s[%zu]", where, i);
        if (it->type != CFG_TOML_TABLE)
            return bad(f, CFG_ERR_TOML, it, w,
                       "There is an object in the given store that is not a table of keys.");
        const cfg_toml_value *key = cfg_toml_get(it, "key");
        if (!key)
            return bad(f, CFG_ERR_TOML, it, w,
                       "The `key` key for an object is not set. It must be used.");
        if (key->type != CFG_TOML_STRING)
            return bad(f, CFG_ERR_TOML, key, w, "The `key` value for an object is not a string.");
        const char *k = key->u.s.ptr;
        if (!valid_secret_name(k, key->u.s.len))
            return bad(f, CFG_ERR_TOML, key, w, "Invalid secret name: %s", k);
        const cfg_toml_value *file = cfg_toml_get(it, "file"), *data = cfg_toml_get(it, "data"),
                             *env = cfg_toml_get(it, "env");
        int n = (file != NULL) + (data != NULL) + (env != NULL);
        if (n == 0)
            return bad(f, CFG_ERR_TOML, it, w,
                       "None of `file`, `data`, or `env` keys for the object `%s` is set. One "
                       "must be used.",
                       k);
        if (n > 1)
            return bad(f, CFG_ERR_TOML, it, w,
                       "More than one of `file`, `data`, or `env` keys for the object `%s` are "
                       "set. Only one can be used.",
                       k);
        const cfg_toml_value *src = file ? file : data ? data : env;
        if (src->type != CFG_TOML_STRING)
            return bad(f, CFG_ERR_TOML, src, w, "The `%s` value for the object `%s` is not a string.",
                       file ? "file" : data ? "data" : "env", k);
        cfg_status st;
        if (file) {
            char full[4096];
            resolve(f, src->u.s.ptr, full, sizeof full);
            size_t len = 0;
            char *text = read_all(full, &len);
            if (!text)
                return bad(f, CFG_ERR_FILE, src, w, "cannot read %s: %s", full, strerror(errno));
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

static cfg_status secret_json(ft *f, cfg_string_map *m, size_t *cap, const cfg_toml_value *at,
                              const char *where, const char *full)
{
    json_t *root;
    char msg[1024];
    cfg_status st = cfg_json_load(full, &root, msg, sizeof msg);
    if (st != CFG_OK)
        return loader_failed(f, st, at, where, msg);
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
        return bad(f, CFG_ERR_JSON, at, where,
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

static cfg_status do_secret_store(ft *f, const char *name, const cfg_toml_value *items,
                                  const char *where)
{
    if (!valid_secret_name(name, strlen(name)))
        return bad(f, CFG_ERR_TOML, items, where, "Invalid secret store name: %s", name);
    const char *file = NULL;
    cfg_status st;
    int shape = store_shape(f, items, where, "secret store", &file, &st);
    if (shape < 0)
        return st;
    cfg_string_map m = {0};
    size_t cap = 0;
    char full[4096] = "";
    if (shape == 1) {
        resolve(f, file, full, sizeof full);
        char w[WHERE_MAX];
        sub(w, sizeof w, where, "file");
        st = secret_json(f, &m, &cap, cfg_toml_get(items, "file"), w, full);
    } else {
        st = secret_items(f, &m, &cap, items, where);
    }
    if (st == CFG_OK) {
        char msg[512];
        st = cfg_edge_add_secret_store_map(&f->o->edge, name, shape == 1 ? full : NULL, &m, msg,
                                           sizeof msg);
        if (st != CFG_OK)
            st = bad(f, st, items, where, "%s", msg);
    }
    cfg_string_map_deinit(&m);
    return st;
}

/* ---- geolocation and device detection ---- */

static cfg_status do_geolocation(ft *f, const cfg_toml_value *t, const char *where)
{
    char w[WHERE_MAX];
    bool loopback = true;
    const cfg_toml_value *v = cfg_toml_get(t, "use_default_loopback");
    if (v) {
        if (v->type != CFG_TOML_BOOL) {
            sub(w, sizeof w, where, "use_default_loopback");
            return bad(f, CFG_ERR_TOML, v, w, "definition was not provided as a TOML table");
        }
        loopback = v->u.b;
    }
    int fmt;
    cfg_status st = format_field(f, t, where, "geolocation mapping", true, &fmt);
    if (st != CFG_OK)
        return st;
    cfg_geo *geo = calloc(1, sizeof *geo);
    if (!geo)
        return nomem(f);
    geo->use_default_loopback = loopback;
    if (fmt == 0) {
        const cfg_toml_value *a = cfg_toml_get(t, "addresses");
        sub(w, sizeof w, where, "addresses");
        if (!a)
            st = bad(f, CFG_ERR_TOML, t, where, "missing 'addresses' field");
        else if (a->type != CFG_TOML_TABLE)
            st = bad(f, CFG_ERR_TOML, a, w, "'addresses' was not provided as a TOML table");
        else if (!(geo->entries = calloc(a->u.table.count + 1, sizeof *geo->entries)))
            st = nomem(f);
        for (size_t i = 0; st == CFG_OK && i < a->u.table.count; i++) {
            const cfg_toml_pair *pr = &a->u.table.items[i];
            char kw[WHERE_MAX];
            sub(kw, sizeof kw, w, pr->key);
            cfg_geo_entry *e = &geo->entries[geo->count];
            if (strchr(pr->key, '/') || strlen(pr->key) != pr->key_len ||
                !cfg_ip_prefix_parse(pr->key, true, &e->prefix)) {
                st = bad(f, CFG_ERR_TOML, pr->value, kw,
                         "IP address not valid: 'invalid IP address syntax'");
                break;
            }
            json_t *obj = pr->value->type == CFG_TOML_TABLE ? json_object() : NULL;
            const cfg_toml_value *tv = pr->value;
            for (size_t j = 0; obj && j < tv->u.table.count; j++) {
                json_t *x = to_json(tv->u.table.items[j].value, false);
                if (!x || json_object_setn_new_nocheck(obj, tv->u.table.items[j].key,
                                                       tv->u.table.items[j].key_len, x) != 0) {
                    json_decref(obj);
                    obj = NULL;
                }
            }
            if (!obj) {
                st = bad(f, CFG_ERR_TOML, pr->value, kw,
                         "inline geolocation value was not a string");
                break;
            }
            e->json = json_dumps(obj, JSON_COMPACT | JSON_PRESERVE_ORDER);
            json_decref(obj);
            if (!e->json) {
                st = nomem(f);
                break;
            }
            geo->count++;
        }
    } else if (fmt == 1) {
        char full[4096];
        const cfg_toml_value *at;
        st = file_field(f, t, where, full, sizeof full, &at);
        if (st == CFG_OK) {
            char msg[1024];
            sub(w, sizeof w, where, "file");
            st = cfg_geo_load(full, geo, msg, sizeof msg);
            if (st != CFG_OK)
                st = loader_failed(f, st, at, w, msg);
            else if (!(geo->path = strdup(full)))
                st = nomem(f);
        }
        geo->use_default_loopback = loopback;
    }
    if (st != CFG_OK) {
        cfg_geo_deinit(geo);
        free(geo);
        return st;
    }
    cfg_edge_put_geo(&f->o->edge, geo);
    return CFG_OK;
}

static cfg_status do_device_detection(ft *f, const cfg_toml_value *t, const char *where)
{
    char w[WHERE_MAX];
    int fmt;
    cfg_status st = format_field(f, t, where, "device detection mapping", true, &fmt);
    if (st != CFG_OK || fmt < 0)
        return st; /* no format: no data, every lookup finds nothing */
    cfg_device *d = calloc(1, sizeof *d);
    if (!d)
        return nomem(f);
    if (fmt == 0) {
        const cfg_toml_value *ua = cfg_toml_get(t, "user_agents");
        sub(w, sizeof w, where, "user_agents");
        if (!ua)
            st = bad(f, CFG_ERR_TOML, t, where, "missing 'user_agents' field");
        else if (ua->type != CFG_TOML_TABLE)
            st = bad(f, CFG_ERR_TOML, ua, w, "'user_agents' was not provided as a TOML table");
        for (size_t i = 0; st == CFG_OK && i < ua->u.table.count; i++) {
            const cfg_toml_pair *pr = &ua->u.table.items[i];
            char kw[WHERE_MAX];
            sub(kw, sizeof kw, w, pr->key);
            json_t *obj = pr->value->type == CFG_TOML_TABLE ? to_json(pr->value, true) : NULL;
            char *text = obj ? json_dumps(obj, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
            json_decref(obj);
            if (!text) {
                st = bad(f, CFG_ERR_TOML, pr->value, kw,
                         "inline device detection value was not a string");
                break;
            }
            char msg[512];
            st = cfg_device_add(d, pr->key, text, msg, sizeof msg);
            free(text);
            if (st != CFG_OK)
                st = bad(f, st, pr->value, kw, "%s", msg);
        }
    } else {
        char full[4096];
        const cfg_toml_value *at;
        st = file_field(f, t, where, full, sizeof full, &at);
        if (st == CFG_OK) {
            char msg[1024];
            sub(w, sizeof w, where, "file");
            st = cfg_device_load(full, d, msg, sizeof msg);
            if (st != CFG_OK)
                st = loader_failed(f, st, at, w, msg);
            else if (!(d->path = strdup(full)))
                st = nomem(f);
        }
    }
    if (st != CFG_OK) {
        cfg_device_deinit(d);
        free(d);
        return st;
    }
    cfg_edge_put_device(&f->o->edge, d);
    return CFG_OK;
}

/* ---- ACLs, fake keys, shielding sites ---- */

static cfg_status do_acl(ft *f, const char *name, const cfg_toml_value *v, const char *where)
{
    const cfg_toml_value *file = v;
    if (v->type == CFG_TOML_TABLE) {
        file = cfg_toml_get(v, "file");
        if (!file || file->type != CFG_TOML_STRING)
            return bad(f, CFG_ERR_TOML, file ? file : v, where, "missing 'file' field");
    } else if (v->type != CFG_TOML_STRING) {
        return bad(f, CFG_ERR_TOML, v, where, "acl must be a TOML table or string");
    }
    char full[4096], msg[1024];
    resolve(f, file->u.s.ptr, full, sizeof full);
    cfg_status st = cfg_edge_add_acl(&f->o->edge, name, full, msg, sizeof msg);
    return st == CFG_OK ? CFG_OK : bad(f, st, file, where, "%s", msg);
}

static cfg_status do_fake_keys(ft *f, const cfg_toml_value *v, const char *where)
{
    if (v->type != CFG_TOML_ARRAY)
        return bad(f, CFG_ERR_TOML, v, where, "expected an array of strings, found %s", a_type(v));
    for (size_t i = 0; i < v->u.array.count; i++) {
        const cfg_toml_value *k = v->u.array.items[i];
        if (k->type != CFG_TOML_STRING)
            return bad(f, CFG_ERR_TOML, k, where, "expected an array of strings, found %s in it",
                       a_type(k));
        char *copy = dup_n(k->u.s.ptr, k->u.s.len);
        char **grown = copy ? realloc(f->o->fake_fastly_keys,
                                      (f->o->nfake_fastly_keys + 1) * sizeof *grown)
                            : NULL;
        if (!grown) {
            free(copy);
            return nomem(f);
        }
        f->o->fake_fastly_keys = grown;
        grown[f->o->nfake_fastly_keys++] = copy;
    }
    return CFG_OK;
}

static cfg_status do_shielding_site(ft *f, const cfg_toml_value *v, const char *where)
{
    if (v->type == CFG_TOML_STRING) {
        if (strcasecmp(v->u.s.ptr, "local") != 0)
            return bad(f, CFG_ERR_TOML, v, where,
                       "Illegal TOML string for shielding site; must be 'local'");
        return CFG_OK;
    }
    if (v->type == CFG_TOML_TABLE) {
        const cfg_toml_value *e = cfg_toml_get(v, "encrypted"), *u = cfg_toml_get(v, "unencrypted");
        if (v->u.table.count != 2 || !e || !u || e->type != CFG_TOML_STRING ||
            u->type != CFG_TOML_STRING)
            return bad(f, CFG_ERR_TOML, v, where,
                       "Illegal table for shielding site; must have exactly one key named "
                       "'encrypted', and one named 'unencrypted'");
        return CFG_OK;
    }
    return bad(f, CFG_ERR_TOML, v, where,
               "Illegal TOML value for shielding site; must be either the string 'local' or a "
               "table containing an encrypted and unencrypted URL.");
}

/* ---- the file ---- */

typedef cfg_status (*entry_fn)(ft *f, const char *name, const cfg_toml_value *v, const char *where);

static cfg_status each_entry(ft *f, const cfg_toml_value *t, const char *where, entry_fn fn)
{
    for (size_t i = 0; t && i < t->u.table.count; i++) {
        char w[WHERE_MAX];
        sub(w, sizeof w, where, t->u.table.items[i].key);
        cfg_status st = fn(f, t->u.table.items[i].key, t->u.table.items[i].value, w);
        if (st != CFG_OK)
            return st;
    }
    return CFG_OK;
}

static cfg_status dictionary_entry(ft *f, const char *n, const cfg_toml_value *v, const char *w)
{
    return do_dictionary(f, n, v, w, false);
}

static cfg_status config_store_entry(ft *f, const char *n, const cfg_toml_value *v, const char *w)
{
    return do_dictionary(f, n, v, w, true);
}

static cfg_status shielding_entry(ft *f, const char *n, const cfg_toml_value *v, const char *w)
{
    return do_shielding_site(f, v, w);
}

/* The section under one of its names (aliases count as the same field, given once). */
static cfg_status section(ft *f, const cfg_toml_value *ls, const char *const *names,
                          const cfg_toml_value **out, const char **used)
{
    *out = NULL;
    for (const char *const *n = names; *n; n++) {
        const cfg_toml_value *v = cfg_toml_get(ls, *n);
        if (!v)
            continue;
        char w[WHERE_MAX];
        sub(w, sizeof w, "local_server", *n);
        if (*out) {
            /* report whichever of the two comes later in the file */
            bool later = v->line > (*out)->line ||
                         (v->line == (*out)->line && v->column > (*out)->column);
            const cfg_toml_value *dup = later ? v : *out;
            const char *dup_name = later ? *n : *used, *first = later ? *used : *n;
            sub(w, sizeof w, "local_server", dup_name);
            return bad(f, CFG_ERR_TOML, dup, w,
                       "duplicate field `%s`: `%s` is another name for `%s`, given already",
                       names[0], dup_name, first);
        }
        if (v->type != CFG_TOML_TABLE)
            return bad(f, CFG_ERR_TOML, v, w, "expected a table, found %s", a_type(v));
        *out = v;
        *used = *n;
    }
    return CFG_OK;
}

static cfg_status package_fields(ft *f, const cfg_toml_value *root)
{
    static const char *const strings[] = {"name", "description", "language", NULL};
    for (const char *const *k = strings; *k; k++) {
        const cfg_toml_value *v = cfg_toml_get(root, *k);
        if (v && v->type != CFG_TOML_STRING)
            return bad(f, CFG_ERR_TOML, v, *k, "expected a string, found %s", a_type(v));
    }
    const cfg_toml_value *v = cfg_toml_get(root, "authors");
    if (v) {
        bool ok = v->type == CFG_TOML_ARRAY;
        for (size_t i = 0; ok && i < v->u.array.count; i++)
            ok = v->u.array.items[i]->type == CFG_TOML_STRING;
        if (!ok)
            return bad(f, CFG_ERR_TOML, v, "authors", "expected an array of strings");
    }
    v = cfg_toml_get(root, "manifest_version");
    if (v) {
        if (v->type != CFG_TOML_INTEGER || v->u.i < 0 || v->u.i > (int64_t)UINT32_MAX)
            return bad(f, CFG_ERR_TOML, v, "manifest_version",
                       "expected a non-negative integer, found %s", a_type(v));
        if (v->u.i > 3)
            return bad(f, CFG_ERR_TOML, v, "manifest_version",
                       "unsupported manifest version %lld; max supported version is 3",
                       (long long)v->u.i);
    }
    return CFG_OK;
}

static cfg_status load_local_server(ft *f, const cfg_toml_value *ls)
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
    char w[WHERE_MAX];
    if (keys && (st = do_fake_keys(f, keys, "local_server.fake_valid_fastly_keys")) != CFG_OK)
        return st;
    if ((st = each_entry(f, acls, "local_server.acls", do_acl)) != CFG_OK ||
        (st = each_entry(f, backends, "local_server.backends", do_backend)) != CFG_OK)
        return st;
    if (device && (st = do_device_detection(f, device, "local_server.device_detection")) != CFG_OK)
        return st;
    if (geo && (st = do_geolocation(f, geo, "local_server.geolocation")) != CFG_OK)
        return st;
    sub(w, sizeof w, "local_server", dict_name);
    bool config_stores = strcmp(dict_name, "config_stores") == 0;
    if ((st = each_entry(f, dicts, w, config_stores ? config_store_entry : dictionary_entry)) !=
        CFG_OK)
        return st;
    sub(w, sizeof w, "local_server", kv_name);
    if ((st = each_entry(f, kv, w, do_kv_store)) != CFG_OK)
        return st;
    if ((st = each_entry(f, secrets, "local_server.secret_stores", do_secret_store)) != CFG_OK)
        return st;
    return each_entry(f, shield, "local_server.shielding_sites", shielding_entry);
}

cfg_status cfg_fastly_toml_load(const char *path, cfg_options *out, char *err, size_t errlen)
{
    ft f = {.path = path, .o = out, .err = err, .errlen = errlen};
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
        st = bad(&f, CFG_ERR_TOML, ls, "local_server", "expected a table, found %s", a_type(ls));
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
    cfg_status st = cfg_edge_merge(&o->edge, &toml->edge, err, errlen);
    if (st == CFG_OK)
        cfg_options_deinit(toml);
    return st;
}
