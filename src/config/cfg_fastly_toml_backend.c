/* cfg_fastly_toml_backend.c: [local_server.backends.NAME] as Viceroy reads it: url,
 * override_host, cert_host, use_sni, grpc, client_certificate (inline PEM or files),
 * ca_certificate (PEM text, {file}, {value}, or an array of those), the timeouts and health, with
 * any other key an error; the result is a cfg_backend with its TLS options as PEM text. */
#include "config/cfg_fastly_toml_int.h"
#include "util/util_str.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

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

static cfg_status ca_cert(cfg_ft *f, const cfg_toml_value *v, const char *where, char **pem,
                          int depth)
{
    static const char inv[] = "'ca_certificate' field was invalid";
    if (v->type == CFG_TOML_STRING) {
        if (cfg_ft_is_blank(v->u.s.ptr))
            return cfg_ft_bad(f, CFG_ERR_TOML, v, where, "'ca_certificate' field is empty");
        if (!strstr(v->u.s.ptr, "-----BEGIN CERTIFICATE-----"))
            return cfg_ft_bad(f, CFG_ERR_TOML, v, where, "%s: no PEM certificate found", inv);
        return pem_append(pem, v->u.s.ptr, v->u.s.len) ? CFG_OK : cfg_ft_nomem(f);
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
                return cfg_ft_bad(
                    f, CFG_ERR_TOML, v, where,
                    "%s: 'ca_certificate' was a dictionary without a 'file' or 'value' "
                    "field",
                    inv);
            if (value->type != CFG_TOML_STRING)
                return cfg_ft_bad(f, CFG_ERR_TOML, value, where,
                                  "%s: invalid format for 'value' field", inv);
            return ca_cert(f, value, where, pem, depth + 1);
        }
        if (file->type != CFG_TOML_STRING)
            return cfg_ft_bad(f, CFG_ERR_TOML, file, where, "%s: invalid format for file reference",
                              inv);
        if (v->u.table.count > 1) {
            const char *const allowed[] = {"file", NULL};
            return cfg_ft_bad(f, CFG_ERR_TOML, v, where,
                              "%s: unknown ca_certificate keys: [\"%s\"]", inv,
                              cfg_ft_unrecognized(v, allowed)->key);
        }
        char full[4096];
        cfg_ft_resolve(f, file->u.s.ptr, full, sizeof full);
        size_t len = 0;
        char *text = cfg_ft_read_all(full, &len);
        if (!text)
            return cfg_ft_bad(f, CFG_ERR_FILE, file, where, "%s: cannot read %s: %s", inv, full,
                              strerror(errno));
        cfg_status st = CFG_OK;
        if (cfg_ft_is_blank(text))
            st = cfg_ft_bad(f, CFG_ERR_TOML, file, where, "'ca_certificate' field is empty");
        else if (!strstr(text, "-----BEGIN CERTIFICATE-----"))
            st = cfg_ft_bad(f, CFG_ERR_TOML, file, where, "%s: no PEM certificate found in %s", inv,
                            full);
        else if (!pem_append(pem, text, len))
            st = cfg_ft_nomem(f);
        free(text);
        return st;
    }
    return cfg_ft_bad(
        f, CFG_ERR_TOML, v, where,
        "%s: unknown format for 'ca_certificates' field; should be a certificate string, a "
        "dictionary with a file reference, or an array of the previous",
        inv);
}

/* One of certificate / certificate_file (or key / key_file) into *out. */
static cfg_status cert_part(cfg_ft *f, const cfg_toml_value *t, const char *inline_key,
                            const char *file_key, const char *where, char **out)
{
    const cfg_toml_value *v = cfg_toml_get(t, inline_key);
    if (v) {
        if (v->type != CFG_TOML_STRING)
            return cfg_ft_bad(f, CFG_ERR_TOML, v, where,
                              "Expected a string value for key %s, got something else", inline_key);
        free(*out);
        if (!(*out = util_strndup(v->u.s.ptr, v->u.s.len)))
            return cfg_ft_nomem(f);
    }
    v = cfg_toml_get(t, file_key);
    if (v) {
        if (v->type != CFG_TOML_STRING)
            return cfg_ft_bad(f, CFG_ERR_TOML, v, where,
                              "Expected a string value for key %s, got something else", file_key);
        char full[4096];
        cfg_ft_resolve(f, v->u.s.ptr, full, sizeof full);
        size_t len;
        char *text = cfg_ft_read_all(full, &len);
        if (!text)
            return cfg_ft_bad(f, CFG_ERR_FILE, v, where, "Certificate/key read error: %s: %s", full,
                              strerror(errno));
        free(*out);
        *out = text;
    }
    return CFG_OK;
}

static cfg_status client_cert(cfg_ft *f, const cfg_toml_value *v, const char *where, cfg_backend *b)
{
    if (v->type != CFG_TOML_TABLE)
        return cfg_ft_bad(f, CFG_ERR_TOML, v, where, "Expected a TOML table, found something else");
    cfg_status st = cert_part(f, v, "certificate", "certificate_file", where, &b->client_cert_pem);
    if (st == CFG_OK)
        st = cert_part(f, v, "key", "key_file", where, &b->client_key_pem);
    if (st != CFG_OK)
        return st;
    if (!b->client_cert_pem || !strstr(b->client_cert_pem, "-----BEGIN CERTIFICATE-----"))
        return cfg_ft_bad(f, CFG_ERR_TOML, v, where,
                          "No certificates found in client cert definition");
    if (!b->client_key_pem || !strstr(b->client_key_pem, "-----BEGIN ") ||
        !strstr(b->client_key_pem, "PRIVATE KEY-----"))
        return cfg_ft_bad(f, CFG_ERR_TOML, v, where, "No keys found for client certificate");
    return CFG_OK;
}

static cfg_status host_field(cfg_ft *f, const cfg_toml_value *def, const char *key,
                             const char *where, char **out)
{
    const cfg_toml_value *v = cfg_toml_get(def, key);
    char w[CFG_FT_WHERE_MAX];
    cfg_ft_sub(w, sizeof w, where, key);
    if (!v)
        return CFG_OK;
    if (v->type != CFG_TOML_STRING)
        return cfg_ft_bad(f, CFG_ERR_TOML, v, w, "'%s' field was not a string", key);
    if (cfg_ft_is_blank(v->u.s.ptr))
        return cfg_ft_bad(f, CFG_ERR_TOML, v, w, "'%s' field is empty", key);
    if (!header_value_ok(v->u.s.ptr, v->u.s.len))
        return cfg_ft_bad(f, CFG_ERR_TOML, v, w, "invalid %s: failed to parse header value", key);
    return (*out = util_strndup(v->u.s.ptr, v->u.s.len)) ? CFG_OK : cfg_ft_nomem(f);
}

static cfg_status timeout_field(cfg_ft *f, const cfg_toml_value *def, const char *key,
                                const char *where, bool *has, uint32_t *ms)
{
    const cfg_toml_value *v = cfg_toml_get(def, key);
    if (!v)
        return CFG_OK;
    char w[CFG_FT_WHERE_MAX];
    cfg_ft_sub(w, sizeof w, where, key);
    if (v->type != CFG_TOML_INTEGER || v->u.i < 0)
        return cfg_ft_bad(f, CFG_ERR_TOML, v, w, "Illegal timeout value (must be an integer >= 0)");
    *has = true;
    *ms = v->u.i > (int64_t)UINT32_MAX ? UINT32_MAX : (uint32_t)v->u.i;
    return CFG_OK;
}

static cfg_status bool_field(cfg_ft *f, const cfg_toml_value *def, const char *key,
                             const char *where, bool *out)
{
    const cfg_toml_value *v = cfg_toml_get(def, key);
    if (!v)
        return CFG_OK;
    if (v->type != CFG_TOML_BOOL) {
        char w[CFG_FT_WHERE_MAX];
        cfg_ft_sub(w, sizeof w, where, key);
        return cfg_ft_bad(f, CFG_ERR_TOML, v, w, "'%s' field was not a boolean", key);
    }
    *out = v->u.b;
    return CFG_OK;
}

cfg_status cfg_ft_backend(cfg_ft *f, const char *name, const cfg_toml_value *def, const char *where)
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
    char w[CFG_FT_WHERE_MAX];
    if (def->type != CFG_TOML_TABLE)
        return cfg_ft_bad(f, CFG_ERR_TOML, def, where,
                          "definition was not provided as a TOML table");
    const cfg_toml_value *url = cfg_toml_get(def, "url");
    if (!url)
        return cfg_ft_bad(f, CFG_ERR_TOML, def, where, "missing 'url' field");
    cfg_ft_sub(w, sizeof w, where, "url");
    if (url->type != CFG_TOML_STRING)
        return cfg_ft_bad(f, CFG_ERR_TOML, url, w, "'url' field was not a string");
    if (!name[0] || strpbrk(name, "=:/@ \t"))
        return cfg_ft_bad(
            f, CFG_ERR_TOML, def, where,
            "backend name '%s' cannot be used (Fastlike's backend names have no '=', ':', "
            "'/', '@' or spaces)",
            name);
    size_t speclen = strlen(name) + 1 + url->u.s.len + 1;
    char *spec = malloc(speclen);
    if (!spec)
        return cfg_ft_nomem(f);
    snprintf(spec, speclen, "%s=%s", name, url->u.s.ptr);
    cfg_backend b;
    char msg[512];
    cfg_status st = cfg_backend_parse(spec, &b, msg, sizeof msg);
    free(spec);
    if (st == CFG_ERR_NOMEM)
        return cfg_ft_nomem(f);
    if (st != CFG_OK)
        return cfg_ft_bad(f, CFG_ERR_TOML, url, w, "invalid url: %s", msg);
    bool use_sni = true;
    st = host_field(f, def, "override_host", where, &b.override_host);
    if (st == CFG_OK)
        st = host_field(f, def, "cert_host", where, &b.cert_host);
    if (st == CFG_OK)
        st = bool_field(f, def, "use_sni", where, &use_sni);
    b.no_sni = !use_sni;
    const cfg_toml_value *v = cfg_toml_get(def, "client_certificate");
    if (st == CFG_OK && v) {
        cfg_ft_sub(w, sizeof w, where, "client_certificate");
        st = client_cert(f, v, w, &b);
    }
    v = cfg_toml_get(def, "ca_certificate");
    if (st == CFG_OK && v) {
        cfg_ft_sub(w, sizeof w, where, "ca_certificate");
        st = ca_cert(f, v, w, &b.ca_pem, 0);
    }
    if (st == CFG_OK)
        st = bool_field(f, def, "grpc", where, &b.grpc);
    if (st == CFG_OK)
        st = timeout_field(f, def, "first_byte_timeout_ms", where, &b.has_first_byte_timeout,
                           &b.first_byte_timeout_ms);
    if (st == CFG_OK)
        st = timeout_field(f, def, "between_bytes_timeout_ms", where, &b.has_between_bytes_timeout,
                           &b.between_bytes_timeout_ms);
    v = cfg_toml_get(def, "health");
    if (st == CFG_OK && v) {
        cfg_ft_sub(w, sizeof w, where, "health");
        const char *h = v->type == CFG_TOML_STRING ? v->u.s.ptr : NULL;
        if (h && strcasecmp(h, "unknown") == 0)
            b.health = CFG_HEALTH_UNKNOWN;
        else if (h && strcasecmp(h, "healthy") == 0)
            b.health = CFG_HEALTH_HEALTHY;
        else if (h && strcasecmp(h, "unhealthy") == 0)
            b.health = CFG_HEALTH_UNHEALTHY;
        else
            st = cfg_ft_bad(
                f, CFG_ERR_TOML, v, w,
                "'health' field has invalid value '%s' (expected 'unknown', 'healthy', or "
                "'unhealthy')",
                h ? h : "not a string");
    }
    const cfg_toml_pair *extra = st == CFG_OK ? cfg_ft_unrecognized(def, allowed) : NULL;
    if (extra) {
        cfg_ft_sub(w, sizeof w, where, extra->key);
        st = cfg_ft_bad(f, CFG_ERR_TOML, extra->value, w, "unrecognized key '%s'", extra->key);
    }
    cfg_backend *grown =
        st == CFG_OK ? realloc(f->o->backends, (f->o->nbackends + 1) * sizeof *grown) : NULL;
    if (st == CFG_OK && !grown)
        st = cfg_ft_nomem(f);
    if (st != CFG_OK) {
        cfg_backend_deinit(&b);
        return st;
    }
    f->o->backends = grown;
    f->o->backends[f->o->nbackends++] = b;
    return CFG_OK;
}
