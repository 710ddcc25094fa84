/* cfg_flags.c: the serving flags' table, Go-style flag syntax (as Fastlike uses Go's flag
 * package), per-flag validation and loading of the files they name, and the usage text. */
#include "config/cfg_flags.h"

#include "config/cfg_fastly_toml.h"
#include "util/util_str.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

typedef cfg_status (*flag_fn)(cfg_options *o, const char *value, char *err, size_t errlen);

typedef struct flag_def {
    const char *name;
    const char *alias; /* NULL or a second spelling */
    bool is_bool;
    flag_fn fn;
    const char *value_hint; /* for "needs a value" messages */
} flag_def;

/* Grows *arr (of *n elements of size sz) by one zeroed element; returns it or NULL. */
static void *push(void *arr_ptr, size_t *n, size_t sz)
{
    void **arr = arr_ptr;
    char *grown = realloc(*arr, (*n + 1) * sz);
    if (!grown)
        return NULL;
    *arr = grown;
    memset(grown + *n * sz, 0, sz);
    return grown + (*n)++ * sz;
}

static cfg_status nomem(char *err, size_t errlen)
{
    snprintf(err, errlen, "out of memory");
    return CFG_ERR_NOMEM;
}

/* Replaces the string option *field by a copy of v. */
static cfg_status set_string(char **field, const char *v, char *err, size_t errlen)
{
    char *copy = util_strdup(v);
    if (!copy)
        return nomem(err, errlen);
    free(*field);
    *field = copy;
    return CFG_OK;
}

/* Splits "name=rest" at the first '='. Returns false when there is no '=' (then *rest is NULL). */
static bool split_name(const char *v, size_t *namelen, const char **rest)
{
    const char *eq = strchr(v, '=');
    *namelen = eq ? (size_t)(eq - v) : strlen(v);
    *rest = eq ? eq + 1 : NULL;
    return eq != NULL;
}

static bool valid_name(const char *s, size_t n)
{
    if (n == 0)
        return false;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c <= ' ' || c >= 0x7f)
            return false;
    }
    return true;
}

/* Parses "name=file" for the store flags; both parts must be non-empty. */
static cfg_status name_file(const char *v, bool file_optional, char **name, char **file,
                            const char *hint, char *err, size_t errlen)
{
    size_t nlen;
    const char *rest;
    bool has_file = split_name(v, &nlen, &rest);
    if (!valid_name(v, nlen) || (has_file && *rest == '\0') || (!has_file && !file_optional)) {
        snprintf(err, errlen, "'%s': expected %s", v, hint);
        return CFG_ERR_VALUE;
    }
    *name = util_strndup(v, nlen);
    *file = has_file ? util_strdup(rest) : NULL;
    if (!*name || (has_file && !*file)) {
        free(*name);
        free(*file);
        *name = *file = NULL;
        return nomem(err, errlen);
    }
    return CFG_OK;
}

/* ---- flag handlers: each gets the value and writes its problem (without the flag) to err ---- */

static cfg_status f_wasm(cfg_options *o, const char *v, char *err, size_t errlen)
{
    struct stat st;
    int fd = open(v, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        snprintf(err, errlen, "cannot read %s: %s", v, strerror(errno));
        return CFG_ERR_FILE;
    }
    int ok = fstat(fd, &st) == 0 && S_ISREG(st.st_mode);
    close(fd);
    if (!ok) {
        snprintf(err, errlen, "%s is not a regular file", v);
        return CFG_ERR_FILE;
    }
    return set_string(&o->wasm, v, err, errlen);
}

static cfg_status f_bind(cfg_options *o, const char *v, char *err, size_t errlen)
{
    cfg_status st = cfg_host_port_check(v, err, errlen);
    if (st != CFG_OK)
        return st;
    return set_string(&o->bind, v, err, errlen);
}

static cfg_status f_backend(cfg_options *o, const char *v, char *err, size_t errlen)
{
    cfg_backend b;
    cfg_status st = cfg_backend_parse(v, &b, err, errlen);
    if (st != CFG_OK)
        return st;
    for (size_t i = 0; i < o->nbackends; i++) {
        const char *other = o->backends[i].name;
        if ((!other && !b.name) || (other && b.name && strcmp(other, b.name) == 0)) {
            if (b.name)
                snprintf(err, errlen, "backend '%s' is given twice", b.name);
            else
                snprintf(err, errlen, "the catch-all backend (no name) is given twice");
            cfg_backend_deinit(&b);
            return CFG_ERR_VALUE;
        }
    }
    cfg_backend *slot = push(&o->backends, &o->nbackends, sizeof *o->backends);
    if (!slot) {
        cfg_backend_deinit(&b);
        return nomem(err, errlen);
    }
    *slot = b;
    return CFG_OK;
}

static cfg_status f_override_host(cfg_options *o, const char *v, char *err, size_t errlen)
{
    size_t nlen;
    const char *host = v;
    char *name = NULL;
    if (split_name(v, &nlen, &host) && nlen > 0) {
        if (!valid_name(v, nlen)) {
            snprintf(err, errlen, "'%s': invalid backend name", v);
            return CFG_ERR_VALUE;
        }
        if (!(name = util_strndup(v, nlen)))
            return nomem(err, errlen);
    } else if (!host) {
        host = v;
    }
    /* A plain authority: host[:port], nothing a Host header cannot carry. */
    char sub[256];
    int bad = host[0] == '\0' || strpbrk(host, "/?#@ \t") != NULL;
    if (!bad && strchr(host, ':') && host[0] != '[')
        bad = cfg_host_port_check(host, sub, sizeof sub) != CFG_OK;
    if (bad) {
        snprintf(err, errlen, "'%s' is not a host[:port] authority", host);
        free(name);
        return CFG_ERR_VALUE;
    }
    cfg_override_host *slot = push(&o->override_hosts, &o->noverride_hosts, sizeof *slot);
    char *h = util_strdup(host);
    if (!slot || !h) {
        free(name);
        free(h);
        if (slot)
            o->noverride_hosts--;
        return nomem(err, errlen);
    }
    slot->backend = name;
    slot->host = h;
    return CFG_OK;
}

static cfg_status f_verbosity(cfg_options *o, const char *v, char *err, size_t errlen)
{
    char *end = NULL;
    errno = 0;
    long n = strtol(v, &end, 10);
    /* strtol skips leading white space; Go's strconv (and the docs) do not accept it */
    bool starts_ok = (v[0] >= '0' && v[0] <= '9') || v[0] == '+' || v[0] == '-';
    if (!starts_ok || errno != 0 || *end != '\0' || n < 0 || n > 2) {
        snprintf(err, errlen, "'%s': verbosity must be 0, 1 or 2", v);
        return CFG_ERR_VALUE;
    }
    o->verbosity = (int)n;
    return CFG_OK;
}

static cfg_status f_reload(cfg_options *o, const char *v, char *err, size_t errlen)
{
    o->reload = v != NULL;
    return CFG_OK;
}

static cfg_status f_watch(cfg_options *o, const char *v, char *err, size_t errlen)
{
    o->watch = v != NULL;
    return CFG_OK;
}

static cfg_status f_profile_native(cfg_options *o, const char *v, char *err, size_t errlen)
{
    o->profile_native = v != NULL;
    return CFG_OK;
}

/* The edge data flags: NAME=FILE (or NAME[=FILE] when the file is optional) split here, the
 * name checks and the loading in cfg_edge, whose messages the flag name prefixes. */
typedef cfg_status (*edge_add_fn)(cfg_edge *e, const char *name, const char *path, char *err,
                                  size_t errlen);

static cfg_status add_edge(cfg_options *o, const char *v, bool file_optional, const char *hint,
                           edge_add_fn add, char *err, size_t errlen)
{
    char *name, *file;
    cfg_status st = name_file(v, file_optional, &name, &file, hint, err, errlen);
    if (st != CFG_OK)
        return st;
    st = add(&o->edge, name, file, err, errlen);
    free(name);
    free(file);
    return st;
}

static cfg_status f_dictionary(cfg_options *o, const char *v, char *err, size_t errlen)
{
    return add_edge(o, v, false, "NAME=FILE.json", cfg_edge_add_dictionary, err, errlen);
}

static cfg_status f_config_store(cfg_options *o, const char *v, char *err, size_t errlen)
{
    return add_edge(o, v, false, "NAME=FILE.json", cfg_edge_add_config_store, err, errlen);
}

static cfg_status f_secret_store(cfg_options *o, const char *v, char *err, size_t errlen)
{
    return add_edge(o, v, false, "NAME=FILE.json", cfg_edge_add_secret_store, err, errlen);
}

static cfg_status f_kv(cfg_options *o, const char *v, char *err, size_t errlen)
{
    return add_edge(o, v, true, "NAME or NAME=FILE.json", cfg_edge_add_kv_store, err, errlen);
}

static cfg_status f_kv_dir(cfg_options *o, const char *v, char *err, size_t errlen)
{
    if (!v[0]) {
        snprintf(err, errlen, "expected a directory for the KV database");
        return CFG_ERR_VALUE;
    }
    return set_string(&o->kv_dir, v, err, errlen);
}

static cfg_status f_acl(cfg_options *o, const char *v, char *err, size_t errlen)
{
    return add_edge(o, v, false, "NAME=FILE.json", cfg_edge_add_acl, err, errlen);
}

/* A repeated -geo replaces the earlier one, as Go's string flags do. */
static cfg_status f_geo(cfg_options *o, const char *v, char *err, size_t errlen)
{
    return cfg_edge_set_geo(&o->edge, v, err, errlen);
}

/* -device-detection FILE.json: a repeated flag replaces the earlier one, as -geo. */
static cfg_status f_device_detection(cfg_options *o, const char *v, char *err, size_t errlen)
{
    return cfg_edge_set_device(&o->edge, v, err, errlen);
}

static cfg_status f_logger(cfg_options *o, const char *v, char *err, size_t errlen)
{
    return add_edge(o, v, true, "NAME or NAME=FILE", cfg_edge_add_logger, err, errlen);
}

/* -shield NAME=local|ADDR: a shield POP (cfg_shield.h); repeatable, a name once. */
static cfg_status f_shield(cfg_options *o, const char *v, char *err, size_t errlen)
{
    return cfg_shields_add_spec(&o->edge.shields, v, err, errlen);
}

static cfg_status f_compliance_region(cfg_options *o, const char *v, char *err, size_t errlen)
{
    if (strcmp(v, "none") != 0 && strcmp(v, "us-eu") != 0 && strcmp(v, "us") != 0) {
        snprintf(err, errlen, "'%s': must be none, us-eu or us", v);
        return CFG_ERR_VALUE;
    }
    return set_string(&o->compliance_region, v, err, errlen);
}

static cfg_status f_fake_fastly_key(cfg_options *o, const char *v, char *err, size_t errlen)
{
    if (v[0] == '\0') /* as Fastlike: an empty key could never match; drop it */
        return CFG_OK;
    char *copy = util_strdup(v);
    char **slot = copy ? push(&o->fake_fastly_keys, &o->nfake_fastly_keys, sizeof *slot) : NULL;
    if (!slot) {
        free(copy);
        return nomem(err, errlen);
    }
    *slot = copy;
    return CFG_OK;
}

static cfg_status f_profile_ui(cfg_options *o, const char *v, char *err, size_t errlen)
{
    cfg_status st = cfg_host_port_check(v, err, errlen);
    if (st != CFG_OK)
        return st;
    return set_string(&o->profile_ui, v, err, errlen);
}

/* -C FILE: read once all flags are in (cfg_parse_flags), so flags win whatever their order. */
static cfg_status f_config(cfg_options *o, const char *v, char *err, size_t errlen)
{
    if (o->config_file) {
        snprintf(err, errlen, "given twice (%s and %s): one fastly.toml only", o->config_file, v);
        return CFG_ERR_USAGE;
    }
    if (!v[0]) {
        snprintf(err, errlen, "empty file name");
        return CFG_ERR_VALUE;
    }
    return set_string(&o->config_file, v, err, errlen);
}

static cfg_status f_profile_max_requests(cfg_options *o, const char *v, char *err, size_t errlen)
{
    char *end = NULL;
    errno = 0;
    unsigned long long n = strtoull(v, &end, 10);
    if (v[0] < '1' || v[0] > '9' || errno != 0 || *end != '\0' || n > 1000000) {
        snprintf(err, errlen, "'%s': expected a number of requests from 1 to 1000000", v);
        return CFG_ERR_VALUE;
    }
    o->profile_max_requests = (size_t)n;
    return CFG_OK;
}

static cfg_status f_profile_allow_remote(cfg_options *o, const char *v, char *err, size_t errlen)
{
    o->profile_ui_allow_remote = v != NULL;
    return CFG_OK;
}

static cfg_status f_profile_token(cfg_options *o, const char *v, char *err, size_t errlen)
{
    size_t n = strlen(v);
    bool ok = n >= 8;
    for (size_t i = 0; ok && i < n; i++)
        ok = v[i] > ' ' && v[i] < 0x7f;
    if (!ok) {
        snprintf(err, errlen, "expected at least 8 printable characters without spaces");
        return CFG_ERR_VALUE;
    }
    return set_string(&o->profile_ui_token, v, err, errlen);
}

static cfg_status f_profile_guest_dir(cfg_options *o, const char *v, char *err, size_t errlen)
{
    if (!v[0]) {
        snprintf(err, errlen, "empty directory name");
        return CFG_ERR_VALUE;
    }
    return set_string(&o->profile_guest_dir, v, err, errlen);
}

static const char *const profile_modes[] = {"off", "trace", "native", "combined", "deep"};

const char *cfg_profile_mode_name(cfg_profile_mode mode)
{
    return (unsigned)mode < sizeof profile_modes / sizeof *profile_modes ? profile_modes[mode]
                                                                         : "?";
}

static cfg_status f_profile_mode(cfg_options *o, const char *v, char *err, size_t errlen)
{
    for (size_t i = 0; i < sizeof profile_modes / sizeof *profile_modes; i++)
        if (strcmp(v, profile_modes[i]) == 0) {
            o->profile_mode = (cfg_profile_mode)i;
            return CFG_OK;
        }
    snprintf(err, errlen, "'%s': must be off, trace, native, combined or deep", v);
    return CFG_ERR_VALUE;
}

static cfg_status f_unknown_import(cfg_options *o, const char *v, char *err, size_t errlen)
{
    if (strcmp(v, "trap") == 0) {
        o->unknown_import_link_error = false;
    } else if (strcmp(v, "link-error") == 0) {
        o->unknown_import_link_error = true;
    } else {
        snprintf(err, errlen, "'%s': must be trap or link-error", v);
        return CFG_ERR_VALUE;
    }
    return CFG_OK;
}

static cfg_status f_request_timeout(cfg_options *o, const char *v, char *err, size_t errlen)
{
    char *end = NULL;
    errno = 0;
    unsigned long long n = strtoull(v, &end, 10);
    if (v[0] < '0' || v[0] > '9' || errno != 0 || *end != '\0') {
        snprintf(err, errlen, "'%s': expected milliseconds (0 = no deadline)", v);
        return CFG_ERR_VALUE;
    }
    o->request_timeout_ms = (uint64_t)n;
    o->request_timeout_set = true;
    return CFG_OK;
}

/* -shutdown-grace: a duration with a unit (ms, s or m); a bare number is seconds. */
static cfg_status f_shutdown_grace(cfg_options *o, const char *v, char *err, size_t errlen)
{
    char *end = NULL;
    errno = 0;
    unsigned long long n = strtoull(v, &end, 10);
    uint64_t scale = 1000;
    if (end && strcmp(end, "ms") == 0) {
        scale = 1;
        end += 2;
    } else if (end && strcmp(end, "s") == 0) {
        end += 1;
    } else if (end && strcmp(end, "m") == 0) {
        scale = 60000;
        end += 1;
    }
    /* at most a day: a longer grace period is a typo */
    if (v[0] < '0' || v[0] > '9' || errno != 0 || *end != '\0' || n > 86400000ull / scale) {
        snprintf(err, errlen, "'%s': expected a duration such as 10s, 500ms or 2m (at most 24h)",
                 v);
        return CFG_ERR_VALUE;
    }
    o->shutdown_grace_ms = (uint64_t)n * scale;
    o->shutdown_grace_set = true;
    return CFG_OK;
}

/* -cache-size: bytes, or with a K, M or G suffix (powers of 1024). */
static cfg_status f_cache_size(cfg_options *o, const char *v, char *err, size_t errlen)
{
    char *end = NULL;
    errno = 0;
    unsigned long long n = strtoull(v, &end, 10);
    unsigned shift = 0;
    if (end && (*end == 'K' || *end == 'k'))
        shift = 10;
    else if (end && (*end == 'M' || *end == 'm'))
        shift = 20;
    else if (end && (*end == 'G' || *end == 'g'))
        shift = 30;
    if (shift)
        end++;
    if (v[0] < '0' || v[0] > '9' || errno != 0 || *end != '\0' || n > (UINT64_MAX >> shift)) {
        snprintf(err, errlen, "'%s': expected a size in bytes, e.g. 268435456, 256M or 1G", v);
        return CFG_ERR_VALUE;
    }
    o->cache_size = (uint64_t)n << shift;
    o->cache_size_set = true;
    return CFG_OK;
}

/* -tier: which engine tier runs guest code (the engine's fwe_tier_set; docs/engine.md). */
static cfg_status f_tier(cfg_options *o, const char *v, char *err, size_t errlen)
{
    static const char *const tiers[] = {"interp", "auto", "native"};
    for (size_t i = 0; i < sizeof tiers / sizeof *tiers; i++)
        if (!strcmp(v, tiers[i])) {
            o->tier = tiers[i];
            return CFG_OK;
        }
    snprintf(err, errlen, "'%s': must be interp, auto or native", v);
    return CFG_ERR_VALUE;
}

static const flag_def flag_table[] = {
    {"wasm", NULL, false, f_wasm, "FILE.wasm"},
    {"bind", NULL, false, f_bind, "HOST:PORT"},
    {"backend", "b", false, f_backend, "[NAME=]ADDR[@N]"},
    {"override-host", NULL, false, f_override_host, "[NAME=]HOST"},
    {"v", NULL, false, f_verbosity, "0|1|2"},
    {"reload", NULL, true, f_reload, NULL},
    {"watch", NULL, true, f_watch, NULL},
    {"dictionary", "d", false, f_dictionary, "NAME=FILE.json"},
    {"config-store", NULL, false, f_config_store, "NAME=FILE.json"},
    {"kv", NULL, false, f_kv, "NAME[=FILE.json]"},
    {"kv-dir", NULL, false, f_kv_dir, "DIR"},
    {"secret-store", NULL, false, f_secret_store, "NAME=FILE.json"},
    {"acl", NULL, false, f_acl, "NAME=FILE.json"},
    {"geo", NULL, false, f_geo, "FILE.json|FILE.mmdb"},
    {"device-detection", NULL, false, f_device_detection, "FILE.json"},
    {"logger", NULL, false, f_logger, "NAME[=FILE]"},
    {"shield", NULL, false, f_shield, "NAME=local|HOST:PORT|URL"},
    {"compliance-region", NULL, false, f_compliance_region, "none|us-eu|us"},
    {"fake-fastly-key", NULL, false, f_fake_fastly_key, "KEY"},
    {"profile-ui", NULL, false, f_profile_ui, "HOST:PORT"},
    {"profile-mode", "profile", false, f_profile_mode, "off|trace|native|combined|deep"},
    {"profile-native", NULL, true, f_profile_native, NULL},
    {"profile-max-requests", NULL, false, f_profile_max_requests, "N"},
    {"profile-ui-allow-remote", NULL, true, f_profile_allow_remote, NULL},
    {"profile-ui-token", NULL, false, f_profile_token, "TOKEN"},
    {"profile-guest-dir", NULL, false, f_profile_guest_dir, "DIR"},
    {"unknown-import", NULL, false, f_unknown_import, "trap|link-error"},
    {"request-timeout", NULL, false, f_request_timeout, "MILLISECONDS"},
    {"config", "C", false, f_config, "FILE (a fastly.toml)"},
    {"cache-size", NULL, false, f_cache_size, "BYTES[K|M|G]"},
    {"pushpin", NULL, true, cfg_flag_pushpin, NULL},
    {"pushpin-port", NULL, false, cfg_flag_pushpin_port, "PORT"},
    {"pushpin-publish-port", NULL, false, cfg_flag_pushpin_publish_port, "PORT"},
    {"pushpin-path", NULL, false, cfg_flag_pushpin_path, "FILE"},
    {"websocket-passthrough", NULL, true, cfg_flag_websocket_passthrough, NULL},
    {"tier", NULL, false, f_tier, "interp|auto|native"},
    {"shutdown-grace", NULL, false, f_shutdown_grace, "DURATION"},
};

static const flag_def *find_flag(const char *name, size_t n)
{
    for (size_t i = 0; i < sizeof flag_table / sizeof *flag_table; i++) {
        const flag_def *f = &flag_table[i];
        if ((strlen(f->name) == n && memcmp(f->name, name, n) == 0) ||
            (f->alias && strlen(f->alias) == n && memcmp(f->alias, name, n) == 0))
            return f;
    }
    return NULL;
}

/* Go's strconv.ParseBool spellings. Returns 1, 0, or -1 when not a boolean. */
static int parse_bool(const char *v)
{
    static const char *const yes[] = {"1", "t", "T", "TRUE", "true", "True"};
    static const char *const no[] = {"0", "f", "F", "FALSE", "false", "False"};
    for (size_t i = 0; i < 6; i++) {
        if (strcmp(v, yes[i]) == 0)
            return 1;
        if (strcmp(v, no[i]) == 0)
            return 0;
    }
    return -1;
}

void cfg_options_init(cfg_options *o)
{
    memset(o, 0, sizeof *o);
    o->profile_mode = CFG_PROFILE_TRACE;
}

void cfg_options_deinit(cfg_options *o)
{
    if (!o)
        return;
    free(o->wasm);
    free(o->bind);
    for (size_t i = 0; i < o->nbackends; i++)
        cfg_backend_deinit(&o->backends[i]);
    free(o->backends);
    for (size_t i = 0; i < o->noverride_hosts; i++) {
        free(o->override_hosts[i].backend);
        free(o->override_hosts[i].host);
    }
    free(o->override_hosts);
    cfg_edge_deinit(&o->edge);
    free(o->compliance_region);
    free(o->kv_dir);
    for (size_t i = 0; i < o->nfake_fastly_keys; i++)
        free(o->fake_fastly_keys[i]);
    free(o->fake_fastly_keys);
    free(o->profile_ui);
    free(o->config_file);
    free(o->profile_ui_token);
    free(o->profile_guest_dir);
    cfg_pushpin_deinit(&o->pushpin);
    cfg_options_init(o);
}

const char *cfg_options_bind(const cfg_options *o)
{
    return o->bind ? o->bind : CFG_DEFAULT_BIND;
}

/* Checks that need every flag: -override-host must name a configured backend. */
static cfg_status check_cross(const cfg_options *o, char *err, size_t errlen)
{
    for (size_t i = 0; i < o->noverride_hosts; i++) {
        const char *want = o->override_hosts[i].backend;
        bool found = false;
        for (size_t j = 0; j < o->nbackends && !found; j++) {
            const char *have = o->backends[j].name;
            found = want ? (have && strcmp(have, want) == 0) : !have;
        }
        if (found)
            continue;
        if (want)
            snprintf(err, errlen,
                     "-override-host: names backend '%s', which no -backend configures", want);
        else
            snprintf(err, errlen,
                     "-override-host: targets the catch-all backend, but no catch-all "
                     "-backend is configured");
        return CFG_ERR_VALUE;
    }
    return CFG_OK;
}

cfg_status cfg_parse_flags(cfg_options *o, int argc, char *const *argv, char *err, size_t errlen)
{
    const char *positional = NULL;
    char detail[1024];
    bool flags_done = false;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        if (!flags_done && strcmp(a, "--") == 0) {
            flags_done = true;
            continue;
        }
        if (flags_done || a[0] != '-' || a[1] == '\0') {
            if (positional) {
                snprintf(err, errlen, "unexpected argument '%s' (only one FILE.wasm)", a);
                return CFG_ERR_USAGE;
            }
            positional = a;
            continue;
        }
        const char *name = a + 1 + (a[1] == '-');
        const char *eq = strchr(name, '=');
        size_t nlen = eq ? (size_t)(eq - name) : strlen(name);
        if (nlen == 0 || name[0] == '-') {
            snprintf(err, errlen, "bad flag syntax: '%s'", a);
            return CFG_ERR_USAGE;
        }
        if ((nlen == 1 && name[0] == 'h') || (nlen == 4 && memcmp(name, "help", 4) == 0)) {
            o->help = true;
            return CFG_OK;
        }
        const flag_def *f = find_flag(name, nlen);
        if (!f) {
            snprintf(err, errlen, "unknown flag '-%.*s' (see fastlike -h)", (int)nlen, name);
            return CFG_ERR_USAGE;
        }
        const char *value = eq ? eq + 1 : NULL;
        if (f->is_bool) {
            int b = value ? parse_bool(value) : 1;
            if (b < 0) {
                snprintf(err, errlen, "-%s: '%s' is not a boolean (true or false)", f->name, value);
                return CFG_ERR_VALUE;
            }
            value = b ? "true" : NULL;
        } else if (!value) {
            if (i + 1 >= argc) {
                snprintf(err, errlen, "-%s needs a value: -%s %s", f->name, f->name, f->value_hint);
                return CFG_ERR_USAGE;
            }
            value = argv[++i];
        }
        detail[0] = '\0';
        cfg_status st = f->fn(o, value, detail, sizeof detail);
        if (st != CFG_OK) {
            snprintf(err, errlen, "-%s: %s", f->name, detail);
            return st;
        }
    }
    if (o->config_file) {
        cfg_options toml;
        cfg_options_init(&toml);
        cfg_status st = cfg_fastly_toml_load(o->config_file, &toml, err, errlen);
        if (st == CFG_OK)
            st = cfg_fastly_toml_merge(o, &toml, err, errlen);
        cfg_options_deinit(&toml);
        if (st != CFG_OK)
            return st;
    }
    if (positional) {
        if (o->wasm && strcmp(o->wasm, positional) != 0) {
            snprintf(err, errlen, "both -wasm %s and FILE.wasm %s given; use one", o->wasm,
                     positional);
            return CFG_ERR_USAGE;
        }
        detail[0] = '\0';
        cfg_status st = f_wasm(o, positional, detail, sizeof detail);
        if (st != CFG_OK) {
            snprintf(err, errlen, "-wasm: %s", detail);
            return st;
        }
    }
    if (!o->wasm) {
        snprintf(err, errlen, "missing -wasm FILE.wasm (the Compute program to serve)");
        return CFG_ERR_USAGE;
    }
    return check_cross(o, err, errlen);
}

const char *cfg_usage_text(void)
{
    return "serving flags (one or two dashes; -flag VALUE or -flag=VALUE):\n"
           "  -wasm FILE.wasm          the Compute program to serve (or give FILE.wasm alone)\n"
           "  -bind HOST:PORT          address to listen on (default " CFG_DEFAULT_BIND ")\n"
           "  -backend, -b [NAME=]ADDR[@N]\n"
           "                           a backend (repeatable); ADDR is HOST:PORT, "
           "http://HOST:PORT\n"
           "                           or https://HOST[:PORT]; no NAME: the catch-all backend;\n"
           "                           @N (0..100): share of requests reaching it, rest get 502\n"
           "  -override-host [NAME=]HOST  Host header sent to that backend\n"
           "  -v 0|1|2                 verbosity (default 0)\n"
           "  -unknown-import trap|link-error\n"
           "                           an import Fastlike lacks traps when called (default) or\n"
           "                           fails startup naming every such import\n"
           "  -request-timeout MS      per-request guest CPU deadline (0 = none)\n"
           "  -shutdown-grace DURATION on SIGINT/SIGTERM, how long requests in flight may\n"
           "                           finish (default 10s; e.g. 500ms, 30s, 2m); guests still\n"
           "                           running then are stopped, their clients get 503\n"
           "  -config, -C FILE         fastly.toml ([local_server]: backends, stores, ...)\n"
           "  -cache-size SIZE         memory for the cache, e.g. 64M (default 256M; 0 = none)\n"
           "  -pushpin                 run a Pushpin for Fanout (redirect_to_grip_proxy)\n"
           "  -pushpin-port PORT       its proxy port (default 7677); without -pushpin: the port\n"
           "                           of a Pushpin already running on 127.0.0.1\n"
           "  -pushpin-publish-port PORT  its publish port (default 5561)\n"
           "  -pushpin-path FILE       the pushpin binary (default: pushpin from PATH)\n"
           "  -websocket-passthrough=false  WebSocket handoffs answer unsupported\n"
           "  -reload                  reload the wasm file (and store files) on SIGHUP\n"
           "  -watch                   reload when the wasm file changes\n"
           "  -dictionary, -d NAME=FILE.json   a dictionary (JSON object of strings)\n"
           "  -config-store NAME=FILE.json     a config store (JSON object of strings)\n"
           "  -secret-store NAME=FILE.json     a secret store (JSON object of strings)\n"
           "  -kv NAME[=FILE.json]     a KV store, empty or loaded ({\"key\": \"value\"} or\n"
           "                           {\"key\": {\"body\": \"...\", \"metadata\": \"...\"}})\n"
           "  -kv-dir DIR              keep the KV stores in DIR/kv.sqlite3 (default: memory)\n"
           "  -acl NAME=FILE.json      an ACL ({\"entries\": [{\"prefix\": \"10.0.0.0/8\",\n"
           "                           \"action\": \"ALLOW\"|\"BLOCK\"}]})\n"
           "  -geo FILE.json|FILE.mmdb geolocation data: {\"IP or CIDR\": {\"city\": ..., ...}}\n"
           "                           or a MaxMind database (GeoIP2/GeoLite2 City, ASN, ...)\n"
           "  -device-detection FILE.json  device data by user agent: {\"UA\": {\"device\": ...}}\n"
           "  -logger NAME[=FILE]      a log endpoint, to FILE or stdout (repeatable)\n"
           "  -shield NAME=local|HOST:PORT|URL  a shield POP: this server plays it (local), or\n"
           "                           it is reached at that address (repeatable)\n"
           "  -C, -config FILE         a fastly.toml: its [local_server] backends, stores, ACLs,\n"
           "                           geolocation and device detection (flags win over it)\n"
           "  -compliance-region none|us-eu|us\n"
           "  -fake-fastly-key KEY     a Fastly-Key value treated as valid (repeatable)\n"
           "  -profile-ui HOST:PORT    serve the profiler viewer there\n"
           "  -profile-mode, -profile off|trace|native|combined|deep   (default trace)\n"
           "  -profile-native          record native CPU samples as well\n"
           "  -profile-max-requests N  requests the profiler keeps (default 1000)\n"
           "  -profile-ui-allow-remote let the viewer listen beyond loopback (needs a token)\n"
           "  -profile-ui-token TOKEN  the viewer's token (default: generated and printed)\n"
           "  -profile-guest-dir DIR   write one Firefox Profiler JSON per request into DIR\n"
           "  -tier interp|auto|native run guest code interpreted, compile hot functions to\n"
           "                           native code in the background (default), or all of it\n"
           "  -h, -help                this text\n"
           "Flags not yet in effect are accepted and checked; docs/cli.md gives each one's "
           "status.\n";
}
