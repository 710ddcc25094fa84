/* srv_config.c: fastlike_config_* (include/fastlike.h): defaults, copying setters, the guest
 * environment table, and the listening address syntax. Backend specs are parsed with the config
 * layer's cfg_backend_parse so the flag and the API accept exactly the same text. */
#include "server/srv_config.h"
#include "server/srv_log.h"

#include <stdlib.h>
#include <string.h>
#include <stdio.h>

/* What Viceroy gives guests locally (lib/src/linking.rs); FASTLY_TRACE_ID is made per request. */
static const char *const default_env[][2] = {
    {"FASTLY_CACHE_GENERATION", "0"},
    {"FASTLY_CUSTOMER_ID", "0000000000000000000000"},
    {"FASTLY_POP", "XXX"},
    {"FASTLY_REGION", "Somewhere"},
    {"FASTLY_SERVICE_ID", "0000000000000000000000"},
    {"FASTLY_SERVICE_VERSION", "0"},
    {"FASTLY_HOSTNAME", "localhost"},
    {"FASTLY_IS_STAGING", "0"},
};
#define NDEFAULT_ENV (sizeof default_env / sizeof default_env[0])

const char *fastlike_strerror(fastlike_status status)
{
    switch (status) {
    case FASTLIKE_OK:
        return "ok";
    case FASTLIKE_ERR_ARGS:
        return "bad option value";
    case FASTLIKE_ERR_WASM:
        return "cannot load the guest";
    case FASTLIKE_ERR_IO:
        return "file or socket error";
    case FASTLIKE_ERR_NOMEM:
        return "out of memory";
    }
    return "unknown status";
}

static char *dup_str(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d)
        memcpy(d, s, n);
    return d;
}

fastlike_config *fastlike_config_new(void)
{
    fastlike_config *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->bind = dup_str(SRV_DEFAULT_BIND);
    c->timeout_ms = SRV_DEFAULT_TIMEOUT_MS;
    c->log_fn = srv_log_stderr;
    c->env = calloc(NDEFAULT_ENV, sizeof *c->env);
    if (!c->bind || !c->env) {
        fastlike_config_free(c);
        return NULL;
    }
    for (size_t i = 0; i < NDEFAULT_ENV; i++) {
        c->env[i].name = dup_str(default_env[i][0]);
        c->env[i].value = dup_str(default_env[i][1]);
        c->nenv++;
        if (!c->env[i].name || !c->env[i].value) {
            fastlike_config_free(c);
            return NULL;
        }
    }
    return c;
}

void fastlike_config_free(fastlike_config *c)
{
    if (!c)
        return;
    free(c->wasm_path);
    free(c->wasm_bytes);
    free(c->bind);
    for (size_t i = 0; i < c->nbackends; i++)
        cfg_backend_deinit(&c->backends[i]);
    free(c->backends);
    for (size_t i = 0; i < c->nenv; i++) {
        free(c->env[i].name);
        free(c->env[i].value);
    }
    free(c->env);
    free(c);
}

fastlike_status fastlike_config_set_wasm_file(fastlike_config *c, const char *path)
{
    if (!path || !path[0])
        return FASTLIKE_ERR_ARGS;
    char *p = dup_str(path);
    if (!p)
        return FASTLIKE_ERR_NOMEM;
    free(c->wasm_path);
    free(c->wasm_bytes);
    c->wasm_bytes = NULL;
    c->wasm_len = 0;
    c->wasm_path = p;
    return FASTLIKE_OK;
}

fastlike_status fastlike_config_set_wasm_bytes(fastlike_config *c, const uint8_t *bytes, size_t len)
{
    uint8_t *copy = malloc(len ? len : 1);
    if (!copy)
        return FASTLIKE_ERR_NOMEM;
    if (len)
        memcpy(copy, bytes, len);
    free(c->wasm_path);
    free(c->wasm_bytes);
    c->wasm_path = NULL;
    c->wasm_bytes = copy;
    c->wasm_len = len;
    return FASTLIKE_OK;
}

int srv_split_bind(const char *s, char **host, const char **port, char *err, size_t errlen)
{
    *host = NULL;
    *port = NULL;
    const char *colon;
    const char *h = s;
    size_t hlen;
    if (s[0] == '[') {
        const char *close = strchr(s, ']');
        if (!close || close[1] != ':') {
            snprintf(err, errlen, "'%s': expected [IPv6]:PORT", s);
            return -1;
        }
        h = s + 1;
        hlen = (size_t)(close - h);
        colon = close + 1;
    } else {
        colon = strrchr(s, ':');
        if (!colon) {
            snprintf(err, errlen, "'%s': expected HOST:PORT (e.g. localhost:5000)", s);
            return -1;
        }
        hlen = (size_t)(colon - s);
    }
    const char *p = colon + 1;
    char *end = NULL;
    long v = strtol(p, &end, 10);
    if (!p[0] || *end || v < 0 || v > 65535) {
        snprintf(err, errlen, "'%s': bad port '%s' (0..65535)", s, p);
        return -1;
    }
    char *hc = malloc(hlen + 1);
    if (!hc) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    memcpy(hc, h, hlen);
    hc[hlen] = '\0';
    *host = hc;
    *port = p;
    return 0;
}

fastlike_status fastlike_config_set_bind(fastlike_config *c, const char *host_port, char *err,
                                         size_t errlen)
{
    char *host;
    const char *port;
    if (!host_port || srv_split_bind(host_port, &host, &port, err, errlen) != 0)
        return FASTLIKE_ERR_ARGS;
    free(host);
    char *b = dup_str(host_port);
    if (!b)
        return FASTLIKE_ERR_NOMEM;
    free(c->bind);
    c->bind = b;
    return FASTLIKE_OK;
}

fastlike_status fastlike_config_add_backend(fastlike_config *c, const char *spec, char *err,
                                            size_t errlen)
{
    cfg_backend b;
    cfg_status st = cfg_backend_parse(spec, &b, err, errlen);
    if (st != CFG_OK)
        return st == CFG_ERR_NOMEM ? FASTLIKE_ERR_NOMEM : FASTLIKE_ERR_ARGS;
    cfg_backend *grown = realloc(c->backends, (c->nbackends + 1) * sizeof *grown);
    if (!grown) {
        cfg_backend_deinit(&b);
        return FASTLIKE_ERR_NOMEM;
    }
    c->backends = grown;
    c->backends[c->nbackends++] = b;
    return FASTLIKE_OK;
}

void fastlike_config_set_verbosity(fastlike_config *c, int level)
{
    c->verbosity = level < 0 ? 0 : level > 2 ? 2 : level;
}

void fastlike_config_set_request_timeout_ms(fastlike_config *c, uint64_t ms)
{
    c->timeout_ms = ms;
}

void fastlike_config_set_unknown_import_error(fastlike_config *c, bool error)
{
    c->unknown_import_error = error;
}

void fastlike_config_set_workers(fastlike_config *c, size_t n)
{
    c->workers = n;
}

static const char *default_value(const char *name)
{
    for (size_t i = 0; i < NDEFAULT_ENV; i++)
        if (strcmp(default_env[i][0], name) == 0)
            return default_env[i][1];
    return NULL;
}

fastlike_status fastlike_config_set_env(fastlike_config *c, const char *name, const char *value)
{
    if (!name || !name[0] || strchr(name, '='))
        return FASTLIKE_ERR_ARGS;
    size_t i = 0;
    while (i < c->nenv && strcmp(c->env[i].name, name) != 0)
        i++;
    if (!value)
        value = default_value(name);
    if (!value) { /* remove a non-default variable */
        if (i < c->nenv) {
            free(c->env[i].name);
            free(c->env[i].value);
            c->env[i] = c->env[--c->nenv];
        }
        return FASTLIKE_OK;
    }
    char *v = dup_str(value);
    if (!v)
        return FASTLIKE_ERR_NOMEM;
    if (i < c->nenv) {
        free(c->env[i].value);
        c->env[i].value = v;
        return FASTLIKE_OK;
    }
    char *n = dup_str(name);
    srv_env_var *grown = n ? realloc(c->env, (c->nenv + 1) * sizeof *grown) : NULL;
    if (!grown) {
        free(n);
        free(v);
        return FASTLIKE_ERR_NOMEM;
    }
    c->env = grown;
    c->env[c->nenv].name = n;
    c->env[c->nenv].value = v;
    c->nenv++;
    return FASTLIKE_OK;
}

const char *srv_config_env(const fastlike_config *c, const char *name)
{
    for (size_t i = 0; i < c->nenv; i++)
        if (strcmp(c->env[i].name, name) == 0)
            return c->env[i].value;
    return NULL;
}

void fastlike_config_set_log(fastlike_config *c, fastlike_log_fn fn, void *user)
{
    c->log_fn = fn ? fn : srv_log_stderr;
    c->log_user = fn ? user : NULL;
}
