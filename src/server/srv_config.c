/* srv_config.c: fastlike_config_* (include/fastlike.h): defaults, copying setters, the guest
 * environment table, and the listening address syntax. Backend specs and profiler addresses go
 * through the config layer's own parsers, and store files, ACLs, geo tables and log endpoints
 * into the same cfg_edge as the flags', so both accept exactly the same input. */
#include "server/srv_config.h"
#include "config/cfg_fastly_toml.h"
#include "server/srv_log.h"
#include "util/util_str.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

fastlike_config *fastlike_config_new(void)
{
    fastlike_config *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->bind = util_strdup(SRV_DEFAULT_BIND);
    c->timeout_ms = SRV_DEFAULT_TIMEOUT_MS;
    c->shutdown_grace_ms = FASTLIKE_DEFAULT_SHUTDOWN_GRACE_MS;
    c->memory_limit = FASTLIKE_DEFAULT_MEMORY_LIMIT;
    c->cache_size = FASTLIKE_DEFAULT_CACHE_SIZE;
    c->log_fn = srv_log_stderr;
    c->profile_mode = CFG_PROFILE_TRACE;
    c->env = calloc(NDEFAULT_ENV, sizeof *c->env);
    if (!c->bind || !c->env) {
        fastlike_config_free(c);
        return NULL;
    }
    for (size_t i = 0; i < NDEFAULT_ENV; i++) {
        c->env[i].name = util_strdup(default_env[i][0]);
        c->env[i].value = util_strdup(default_env[i][1]);
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
    for (size_t i = 0; i < c->nbackends; i++) {
        cfg_backend_deinit(&c->backends[i]);
        be_backend_deinit(&c->be[i]);
    }
    free(c->backends);
    free(c->be);
    for (size_t i = 0; i < c->nenv; i++) {
        free(c->env[i].name);
        free(c->env[i].value);
    }
    free(c->env);
    free(c->compliance_region);
    for (size_t i = 0; i < c->nfake_keys; i++)
        free(c->fake_keys[i]);
    free(c->fake_keys);
    cfg_edge_deinit(&c->edge);
    cfg_pushpin_deinit(&c->pushpin);
    free(c->kv_dir);
    free(c->profile_ui);
    free(c->profile_token);
    free(c->profile_guest_dir);
    free(c);
}

fastlike_status fastlike_config_set_compliance_region(fastlike_config *c, const char *region,
                                                      char *err, size_t errlen)
{
    if (!region || (strcmp(region, "none") != 0 && strcmp(region, "us-eu") != 0 &&
                    strcmp(region, "us") != 0)) {
        snprintf(err, errlen, "compliance region '%s' unknown, must be none, us-eu or us",
                 region ? region : "");
        return FASTLIKE_ERR_ARGS;
    }
    char *r = util_strdup(region);
    if (!r)
        return FASTLIKE_ERR_NOMEM;
    free(c->compliance_region);
    c->compliance_region = r;
    return FASTLIKE_OK;
}

fastlike_status fastlike_config_add_fake_fastly_key(fastlike_config *c, const char *key)
{
    if (!key || !key[0])
        return FASTLIKE_ERR_ARGS;
    char **keys = realloc(c->fake_keys, (c->nfake_keys + 2) * sizeof *keys);
    if (!keys)
        return FASTLIKE_ERR_NOMEM;
    c->fake_keys = keys;
    keys[c->nfake_keys] = util_strdup(key);
    if (!keys[c->nfake_keys])
        return FASTLIKE_ERR_NOMEM;
    keys[++c->nfake_keys] = NULL;
    return FASTLIKE_OK;
}

fastlike_status fastlike_config_set_wasm_file(fastlike_config *c, const char *path)
{
    if (!path || !path[0])
        return FASTLIKE_ERR_ARGS;
    char *p = util_strdup(path);
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
    char *hc = util_strndup(h, hlen);
    if (!hc) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
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
    char *b = util_strdup(host_port);
    if (!b)
        return FASTLIKE_ERR_NOMEM;
    free(c->bind);
    c->bind = b;
    return FASTLIKE_OK;
}

/* The outbound client's view of a parsed -backend spec. */
static bool to_be(const cfg_backend *src, be_backend *b)
{
    be_backend_init(b);
    b->tls = src->tls;
    b->port = src->port;
    b->uptime = src->uptime == CFG_UPTIME_NONE ? BE_UPTIME_NONE : src->uptime;
    if (!be_set_str(&b->name, src->name) || !be_set_str(&b->host, src->host) ||
        !be_set_str(&b->path_prefix, src->path ? src->path : "") ||
        !be_set_str(&b->userinfo, src->userinfo)) {
        be_backend_deinit(b);
        return false;
    }
    return true;
}

static bool same_name(const char *a, const char *b)
{
    if (!a || !a[0] || !b || !b[0])
        return (!a || !a[0]) && (!b || !b[0]);
    return strcmp(a, b) == 0;
}

fastlike_status fastlike_config_add_backend(fastlike_config *c, const char *spec, char *err,
                                            size_t errlen)
{
    cfg_backend b;
    cfg_status st = cfg_backend_parse(spec, &b, err, errlen);
    if (st != CFG_OK)
        return st == CFG_ERR_NOMEM ? FASTLIKE_ERR_NOMEM : FASTLIKE_ERR_ARGS;
    be_backend be;
    if (!to_be(&b, &be)) {
        cfg_backend_deinit(&b);
        return FASTLIKE_ERR_NOMEM;
    }
    /* the same name again replaces the earlier backend */
    for (size_t i = 0; i < c->nbackends; i++) {
        if (same_name(c->backends[i].name, b.name)) {
            cfg_backend_deinit(&c->backends[i]);
            be_backend_deinit(&c->be[i]);
            c->backends[i] = b;
            c->be[i] = be;
            return FASTLIKE_OK;
        }
    }
    cfg_backend *grown = realloc(c->backends, (c->nbackends + 1) * sizeof *grown);
    if (grown)
        c->backends = grown;
    be_backend *grown_be = grown ? realloc(c->be, (c->nbackends + 1) * sizeof *grown_be) : NULL;
    if (!grown_be) {
        cfg_backend_deinit(&b);
        be_backend_deinit(&be);
        return FASTLIKE_ERR_NOMEM;
    }
    c->be = grown_be;
    c->backends[c->nbackends] = b;
    c->be[c->nbackends] = be;
    c->nbackends++;
    return FASTLIKE_OK;
}

static be_backend *find_be(fastlike_config *c, const char *name)
{
    for (size_t i = 0; i < c->nbackends; i++)
        if (same_name(c->be[i].name, name))
            return &c->be[i];
    return NULL;
}

#define BACKEND_OR_FAIL(b)                                                                         \
    be_backend *b = find_be(c, name);                                                              \
    if (!b)                                                                                        \
    return FASTLIKE_ERR_ARGS

fastlike_status fastlike_config_set_backend_timeouts(fastlike_config *c, const char *name,
                                                     uint32_t connect_ms, uint32_t first_byte_ms,
                                                     uint32_t between_bytes_ms)
{
    BACKEND_OR_FAIL(b);
    b->connect_timeout_ms = connect_ms;
    b->first_byte_timeout_ms = first_byte_ms;
    b->between_bytes_timeout_ms = between_bytes_ms;
    b->timeouts_set = BE_SET_CONNECT | BE_SET_FIRST_BYTE | BE_SET_BETWEEN_BYTES;
    return FASTLIKE_OK;
}

fastlike_status fastlike_config_set_backend_tls(fastlike_config *c, const char *name, bool enable)
{
    BACKEND_OR_FAIL(b);
    b->tls = enable;
    return FASTLIKE_OK;
}

fastlike_status fastlike_config_set_backend_tls_versions(fastlike_config *c, const char *name,
                                                         fastlike_tls_version min,
                                                         fastlike_tls_version max)
{
    BACKEND_OR_FAIL(b);
    if (min < FASTLIKE_TLS_DEFAULT || min > FASTLIKE_TLS_1_3 || max < FASTLIKE_TLS_DEFAULT ||
        max > FASTLIKE_TLS_1_3 || (min >= 0 && max >= 0 && min > max))
        return FASTLIKE_ERR_ARGS;
    b->ssl_min = (int)min;
    b->ssl_max = (int)max;
    return FASTLIKE_OK;
}

static fastlike_status set_field(fastlike_config *c, const char *name, size_t offset,
                                 const char *value)
{
    BACKEND_OR_FAIL(b);
    char **field = (char **)((char *)b + offset);
    return be_set_str(field, value && value[0] ? value : NULL) ? FASTLIKE_OK : FASTLIKE_ERR_NOMEM;
}

fastlike_status fastlike_config_set_backend_sni_hostname(fastlike_config *c, const char *name,
                                                         const char *sni)
{
    return set_field(c, name, offsetof(be_backend, sni_hostname), sni);
}

fastlike_status fastlike_config_set_backend_cert_hostname(fastlike_config *c, const char *name,
                                                          const char *cert_host)
{
    return set_field(c, name, offsetof(be_backend, cert_hostname), cert_host);
}

fastlike_status fastlike_config_set_backend_ca_file(fastlike_config *c, const char *name,
                                                    const char *pem_path)
{
    return set_field(c, name, offsetof(be_backend, ca_file), pem_path);
}

fastlike_status fastlike_config_set_backend_client_cert(fastlike_config *c, const char *name,
                                                        const char *cert_path, const char *key_path)
{
    if ((cert_path == NULL) != (key_path == NULL))
        return FASTLIKE_ERR_ARGS;
    fastlike_status st = set_field(c, name, offsetof(be_backend, client_cert_file), cert_path);
    if (st == FASTLIKE_OK)
        st = set_field(c, name, offsetof(be_backend, client_key_file), key_path);
    return st;
}

fastlike_status fastlike_config_set_backend_override_host(fastlike_config *c, const char *name,
                                                          const char *host)
{
    return set_field(c, name, offsetof(be_backend, override_host), host);
}

fastlike_status fastlike_config_set_backend_keepalive(fastlike_config *c, const char *name,
                                                      bool pool, uint32_t idle_ms)
{
    BACKEND_OR_FAIL(b);
    b->dont_pool = !pool;
    b->http_keepalive_ms = idle_ms;
    return FASTLIKE_OK;
}

fastlike_status fastlike_config_set_unreliable_backend(fastlike_config *c, const char *name,
                                                       int percent)
{
    BACKEND_OR_FAIL(b);
    if (percent < -1 || percent > 100)
        return FASTLIKE_ERR_ARGS;
    b->uptime = percent < 0 ? BE_UPTIME_NONE : percent;
    return FASTLIKE_OK;
}

fastlike_status fastlike_config_set_unreliable_default_backend(fastlike_config *c, int percent)
{
    return fastlike_config_set_unreliable_backend(c, NULL, percent);
}

void fastlike_config_set_unreliable_seed(fastlike_config *c, uint64_t seed)
{
    c->unreliable_seed = seed;
}

void fastlike_config_set_verbosity(fastlike_config *c, int level)
{
    c->verbosity = level < 0 ? 0 : level > 2 ? 2 : level;
}

void fastlike_config_set_request_timeout_ms(fastlike_config *c, uint64_t ms)
{
    c->timeout_ms = ms;
}

void fastlike_config_set_cache_size(fastlike_config *c, uint64_t bytes)
{
    c->cache_size = bytes;
}

void fastlike_config_set_shutdown_grace_ms(fastlike_config *c, uint64_t ms)
{
    c->shutdown_grace_ms = ms;
}

void fastlike_config_set_memory_limit(fastlike_config *c, uint64_t bytes)
{
    c->memory_limit = bytes;
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
    char *v = util_strdup(value);
    if (!v)
        return FASTLIKE_ERR_NOMEM;
    if (i < c->nenv) {
        free(c->env[i].value);
        c->env[i].value = v;
        return FASTLIKE_OK;
    }
    char *n = util_strdup(name);
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

/* ---- stores, ACLs, geolocation, log endpoints, reload, profiler (the flags' equivalents) ---- */

/* Copies a message into the caller's buffer, which may be NULL or empty. */
static void put_err(char *err, size_t errlen, const char *msg)
{
    if (err && errlen)
        snprintf(err, errlen, "%s", msg);
}

static fastlike_status from_cfg(cfg_status st)
{
    switch (st) {
    case CFG_OK:
        return FASTLIKE_OK;
    case CFG_ERR_FILE:
        return FASTLIKE_ERR_IO;
    case CFG_ERR_NOMEM:
        return FASTLIKE_ERR_NOMEM;
    case CFG_ERR_USAGE:
    case CFG_ERR_VALUE:
    case CFG_ERR_JSON:
    case CFG_ERR_TOML:
        break;
    }
    return FASTLIKE_ERR_ARGS;
}

static fastlike_status nomem(char *err, size_t errlen)
{
    put_err(err, errlen, "out of memory");
    return FASTLIKE_ERR_NOMEM;
}

/* Runs a cfg_edge adder and gives its result as a setter's. cfg_edge leaves the kind out of its
 * name messages (CFG_ERR_VALUE); the setter names it ("dictionary 'x' is given twice"). */
static fastlike_status add_edge(fastlike_config *c,
                                cfg_status (*add)(cfg_edge *e, const char *name, const char *path,
                                                  char *err, size_t errlen),
                                const char *kind, const char *name, const char *path, char *err,
                                size_t errlen)
{
    char msg[1024] = "";
    cfg_status st = add(&c->edge, name, path, msg, sizeof msg);
    if (st == CFG_ERR_VALUE && err && errlen)
        snprintf(err, errlen, "%s %s", kind, msg);
    else if (st != CFG_OK)
        put_err(err, errlen, msg);
    return from_cfg(st);
}

fastlike_status fastlike_config_add_dictionary(fastlike_config *c, const char *name,
                                               const char *json_path, char *err, size_t errlen)
{
    return add_edge(c, cfg_edge_add_dictionary, "dictionary", name, json_path, err, errlen);
}

fastlike_status fastlike_config_add_config_store(fastlike_config *c, const char *name,
                                                 const char *json_path, char *err, size_t errlen)
{
    return add_edge(c, cfg_edge_add_config_store, "config store", name, json_path, err, errlen);
}

fastlike_status fastlike_config_add_secret_store(fastlike_config *c, const char *name,
                                                 const char *json_path, char *err, size_t errlen)
{
    return add_edge(c, cfg_edge_add_secret_store, "secret store", name, json_path, err, errlen);
}

fastlike_status fastlike_config_add_kv_store(fastlike_config *c, const char *name,
                                             const char *json_path, char *err, size_t errlen)
{
    return add_edge(c, cfg_edge_add_kv_store, "KV store", name, json_path, err, errlen);
}

fastlike_status fastlike_config_set_kv_dir(fastlike_config *c, const char *dir, char *err,
                                           size_t errlen)
{
    if (dir && !dir[0]) {
        snprintf(err, errlen, "the KV directory must not be empty");
        return FASTLIKE_ERR_ARGS;
    }
    char *d = NULL;
    if (dir && !(d = util_strdup(dir)))
        return FASTLIKE_ERR_NOMEM;
    free(c->kv_dir);
    c->kv_dir = d;
    return FASTLIKE_OK;
}

fastlike_status fastlike_config_add_acl(fastlike_config *c, const char *name, const char *json_path,
                                        char *err, size_t errlen)
{
    return add_edge(c, cfg_edge_add_acl, "ACL", name, json_path, err, errlen);
}

fastlike_status fastlike_config_add_logger(fastlike_config *c, const char *name, const char *path,
                                           char *err, size_t errlen)
{
    return add_edge(c, cfg_edge_add_logger, "logger", name, path, err, errlen);
}

fastlike_status fastlike_config_add_shield(fastlike_config *c, const char *spec, char *err,
                                           size_t errlen)
{
    char msg[512] = "";
    cfg_status st =
        spec ? cfg_shields_add_spec(&c->edge.shields, spec, msg, sizeof msg) : CFG_ERR_VALUE;
    if (st != CFG_OK)
        put_err(err, errlen, spec ? msg : "no shield given");
    return from_cfg(st);
}

fastlike_status fastlike_config_set_geo(fastlike_config *c, const char *json_path, char *err,
                                        size_t errlen)
{
    char msg[1024] = "";
    cfg_status st = cfg_edge_set_geo(&c->edge, json_path, msg, sizeof msg);
    if (st != CFG_OK)
        put_err(err, errlen, msg);
    return from_cfg(st);
}

fastlike_status fastlike_config_set_device_detection(fastlike_config *c, const char *json_path,
                                                     char *err, size_t errlen)
{
    char msg[1024] = "";
    cfg_status st = cfg_edge_set_device(&c->edge, json_path, msg, sizeof msg);
    if (st != CFG_OK)
        put_err(err, errlen, msg);
    return from_cfg(st);
}

void fastlike_config_set_reload(fastlike_config *c, bool reload)
{
    c->reload = reload;
}

void fastlike_config_set_watch(fastlike_config *c, bool watch)
{
    c->watch = watch;
}

fastlike_status fastlike_config_set_profile_ui(fastlike_config *c, const char *host_port, char *err,
                                               size_t errlen)
{
    char *copy = NULL;
    if (host_port) {
        char msg[512] = "";
        cfg_status cst = cfg_host_port_check(host_port, msg, sizeof msg);
        if (cst != CFG_OK) {
            put_err(err, errlen, msg);
            return from_cfg(cst);
        }
        if (!(copy = util_strdup(host_port)))
            return nomem(err, errlen);
    }
    free(c->profile_ui);
    c->profile_ui = copy;
    return FASTLIKE_OK;
}

fastlike_status fastlike_config_set_profile_mode(fastlike_config *c, const char *mode, char *err,
                                                 size_t errlen)
{
    for (int m = CFG_PROFILE_OFF; mode && m <= CFG_PROFILE_DEEP; m++)
        if (strcmp(mode, cfg_profile_mode_name((cfg_profile_mode)m)) == 0) {
            c->profile_mode = (cfg_profile_mode)m;
            return FASTLIKE_OK;
        }
    char msg[512];
    snprintf(msg, sizeof msg, "profile mode '%s': must be off, trace, native, combined or deep",
             mode ? mode : "");
    put_err(err, errlen, msg);
    return FASTLIKE_ERR_ARGS;
}

void fastlike_config_set_profile_native(fastlike_config *c, bool native)
{
    c->profile_native = native;
}

/* ---- fastly.toml and the command line's parsed options ---- */

fastlike_status srv_config_add_cfg_backend(fastlike_config *c, const cfg_backend *b, char *err,
                                           size_t errlen)
{
    fastlike_status st = fastlike_config_add_backend(c, b->spec, err, errlen);
    if (st != FASTLIKE_OK)
        return st;
    be_backend *be = find_be(c, b->name);
    if (!be)
        return FASTLIKE_ERR_ARGS;
    bool ok = true;
    if (b->override_host)
        ok = ok && be_set_str(&be->override_host, b->override_host);
    if (b->cert_host)
        ok = ok && be_set_str(&be->cert_hostname, b->cert_host);
    if (b->no_sni)
        ok = ok && be_set_str(&be->sni_hostname, ""); /* "" = send no SNI */
    if (b->client_cert_pem && b->client_key_pem) {
        ok = ok && be_set_bytes(&be->client_cert_pem, &be->client_cert_pem_len, b->client_cert_pem,
                                strlen(b->client_cert_pem));
        ok = ok && be_set_bytes(&be->client_key_pem, &be->client_key_pem_len, b->client_key_pem,
                                strlen(b->client_key_pem));
    }
    if (b->ca_pem)
        ok = ok && be_set_bytes(&be->ca_pem, &be->ca_pem_len, b->ca_pem, strlen(b->ca_pem));
    if (!ok)
        return nomem(err, errlen);
    be->grpc = be->grpc || b->grpc;
    if (b->has_first_byte_timeout)
        be->first_byte_timeout_ms = b->first_byte_timeout_ms;
    if (b->has_between_bytes_timeout)
        be->between_bytes_timeout_ms = b->between_bytes_timeout_ms;
    /* Fastlike's health comes from the @N share: healthy is @100; unhealthy is @0, which also
     * answers the backend's requests with the synthetic 502. */
    if (b->health == CFG_HEALTH_HEALTHY && be->uptime == BE_UPTIME_NONE)
        be->uptime = 100;
    else if (b->health == CFG_HEALTH_UNHEALTHY && be->uptime == BE_UPTIME_NONE)
        be->uptime = 0;
    return FASTLIKE_OK;
}

fastlike_status srv_config_set_edge(fastlike_config *c, const cfg_edge *e, char *err, size_t errlen)
{
    cfg_edge copy;
    char msg[256] = "";
    cfg_status st = cfg_edge_clone(&copy, e, msg, sizeof msg);
    if (st != CFG_OK) {
        put_err(err, errlen, msg);
        return from_cfg(st);
    }
    cfg_edge_deinit(&c->edge);
    c->edge = copy;
    return FASTLIKE_OK;
}

fastlike_status fastlike_config_load_fastly_toml(fastlike_config *c, const char *path, char *err,
                                                 size_t errlen)
{
    if (!path || !path[0]) {
        put_err(err, errlen, "no fastly.toml path given");
        return FASTLIKE_ERR_ARGS;
    }
    cfg_options t;
    cfg_options_init(&t);
    char msg[2048] = "";
    cfg_status cst = cfg_fastly_toml_load(path, &t, msg, sizeof msg);
    fastlike_status st = from_cfg(cst);
    if (cst != CFG_OK)
        put_err(err, errlen, msg);
    for (size_t i = 0; st == FASTLIKE_OK && i < t.nbackends; i++)
        if (!find_be(c, t.backends[i].name))
            st = srv_config_add_cfg_backend(c, &t.backends[i], err, errlen);
    for (size_t i = 0; st == FASTLIKE_OK && i < t.nfake_fastly_keys; i++) {
        bool have = false;
        for (size_t j = 0; j < c->nfake_keys && !have; j++)
            have = strcmp(c->fake_keys[j], t.fake_fastly_keys[i]) == 0;
        if (!have)
            st = fastlike_config_add_fake_fastly_key(c, t.fake_fastly_keys[i]);
    }
    if (st == FASTLIKE_OK) {
        cst = cfg_edge_merge(&c->edge, &t.edge, msg, sizeof msg);
        if (cst != CFG_OK) {
            put_err(err, errlen, msg);
            st = from_cfg(cst);
        }
    }
    cfg_options_deinit(&t);
    return st;
}

void fastlike_config_set_profile_max_requests(fastlike_config *c, size_t n)
{
    c->profile_max_requests = n;
}

void fastlike_config_set_profile_allow_remote(fastlike_config *c, bool allow)
{
    c->profile_allow_remote = allow;
}

fastlike_status fastlike_config_set_profile_token(fastlike_config *c, const char *token, char *err,
                                                  size_t errlen)
{
    char *copy = NULL;
    if (token) {
        size_t n = strlen(token);
        bool ok = n >= 8;
        for (size_t i = 0; ok && i < n; i++)
            ok = token[i] > ' ' && token[i] < 0x7f;
        if (!ok) {
            put_err(err, errlen,
                    "profiler token: must be at least 8 printable characters "
                    "without spaces");
            return FASTLIKE_ERR_ARGS;
        }
        if (!(copy = util_strdup(token)))
            return nomem(err, errlen);
    }
    free(c->profile_token);
    c->profile_token = copy;
    return FASTLIKE_OK;
}

fastlike_status fastlike_config_set_profile_guest_dir(fastlike_config *c, const char *dir,
                                                      char *err, size_t errlen)
{
    char *copy = NULL;
    if (dir) {
        if (!dir[0]) {
            put_err(err, errlen, "guest profile directory: empty path");
            return FASTLIKE_ERR_ARGS;
        }
        if (!(copy = util_strdup(dir)))
            return nomem(err, errlen);
    }
    free(c->profile_guest_dir);
    c->profile_guest_dir = copy;
    return FASTLIKE_OK;
}
