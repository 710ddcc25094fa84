/* origin.c: the scriptable test origin of origin.h on libmicrohttpd (thread per connection), with
 * request/connection counters, the last request's method, headers and TLS server name (GnuTLS, as
 * libmicrohttpd uses it), and test-time TLS files made with the openssl command. */
#include "origin.h"

#include "be_pattern.h"

#include <arpa/inet.h>
#include <errno.h>
#include <gnutls/gnutls.h>
#include <inttypes.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

struct origin {
    struct MHD_Daemon *d;
    uint16_t port;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    bool stopping;
    uint64_t requests, connections;
    char *last_headers; /* "name\0value\0...\0" of the last request, under lock */
    size_t last_len;
    char last_method[32];
    bool tls, last_sni_present; /* the server name of the last request's TLS session */
    char last_sni[256];
    uint64_t hc_requests; /* requests to /hc since the start (or the last reset) */
    char *cert_pem, *key_pem;
};

typedef struct req_ctx {
    origin *o;
    char *uri; /* as sent, with the query */
    bool started;
    uint64_t body_bytes, body_fnv;
} req_ctx;

typedef struct gen_ctx {
    origin *o;
    uint64_t total;
    uint64_t between_ms;
    size_t piece; /* at most this much per call (MHD may offer more than the block size) */
} gen_ctx;

/* ---- small growable text buffer ---- */

typedef struct sbuf {
    char *p;
    size_t len, cap;
} sbuf;

static void sb_add(sbuf *b, const char *s, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 1024;
        while (cap < b->len + n + 1)
            cap *= 2;
        char *grown = realloc(b->p, cap);
        if (!grown)
            abort();
        b->p = grown;
        b->cap = cap;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

static void sb_str(sbuf *b, const char *s)
{
    sb_add(b, s, strlen(s));
}

static void sb_json(sbuf *b, const char *s)
{
    sb_add(b, "\"", 1);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') {
            char e[2] = {'\\', (char)c};
            sb_add(b, e, 2);
        } else if (c < 0x20) {
            char e[8];
            snprintf(e, sizeof e, "\\u%04x", c);
            sb_str(b, e);
        } else {
            sb_add(b, (const char *)&c, 1);
        }
    }
    sb_add(b, "\"", 1);
}

/* ---- helpers ---- */

/* Sleeps ms unless the origin stops first. */
static void nap(origin *o, uint64_t ms)
{
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += (time_t)(ms / 1000);
    until.tv_nsec += (long)(ms % 1000) * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&o->lock);
    while (!o->stopping && pthread_cond_timedwait(&o->wake, &o->lock, &until) != ETIMEDOUT) {
    }
    pthread_mutex_unlock(&o->lock);
}

static uint64_t arg_u64(struct MHD_Connection *c, const char *name, uint64_t dflt)
{
    const char *v = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, name);
    if (!v || !*v)
        return dflt;
    return strtoull(v, NULL, 10);
}

static bool path_is(const char *url, const char *want)
{
    size_t n = strlen(want);
    return strncmp(url, want, n) == 0 && (url[n] == '\0' || url[n] == '/' || url[n] == '?');
}

static enum MHD_Result queue(struct MHD_Connection *c, unsigned status, struct MHD_Response *r)
{
    if (!r)
        return MHD_NO;
    /* Fastlike caches GET responses as Fastly does: answers are uncacheable unless the request
     * asks with ?cache=1 (the cache tests), so the transport tests see every request */
    if (!MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "cache"))
        MHD_add_response_header(r, "Cache-Control", "no-store");
    enum MHD_Result rc = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return rc;
}

/* ---- callbacks ---- */

static void *on_uri(void *cls, const char *uri, struct MHD_Connection *c)
{
    req_ctx *rc = calloc(1, sizeof *rc);
    if (!rc)
        abort();
    rc->o = cls;
    rc->uri = strdup(uri);
    rc->body_fnv = BE_FNV_INIT;
    return rc;
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    req_ctx *rc = *con_cls;
    if (rc) {
        free(rc->uri);
        free(rc);
        *con_cls = NULL;
    }
}

static void on_connection(void *cls, struct MHD_Connection *c, void **socket_context,
                          enum MHD_ConnectionNotificationCode toe)
{
    origin *o = cls;
    if (toe != MHD_CONNECTION_NOTIFY_STARTED)
        return;
    pthread_mutex_lock(&o->lock);
    o->connections++;
    pthread_mutex_unlock(&o->lock);
}

static enum MHD_Result collect_raw(void *cls, enum MHD_ValueKind kind, const char *key,
                                   const char *value)
{
    sbuf *b = cls;
    sb_add(b, key, strlen(key) + 1);
    sb_add(b, value ? value : "", strlen(value ? value : "") + 1);
    return MHD_YES;
}

typedef struct echo_state {
    sbuf json;
    struct MHD_Response *resp;
    bool first;
    const char *prefix; /* of the response header names; NULL: "x-echo-h-" */
} echo_state;

static enum MHD_Result collect_echo(void *cls, enum MHD_ValueKind kind, const char *key,
                                    const char *value)
{
    echo_state *e = cls;
    if (!value)
        value = "";
    sb_str(&e->json, e->first ? "[" : ",[");
    e->first = false;
    sb_json(&e->json, key);
    sb_str(&e->json, ",");
    sb_json(&e->json, value);
    sb_str(&e->json, "]");
    if (e->resp) {
        char name[256];
        size_t n = (size_t)snprintf(name, sizeof name, "%s", e->prefix ? e->prefix : "x-echo-h-");
        for (const char *k = key; *k && n + 1 < sizeof name; k++)
            name[n++] = (char)((*k >= 'A' && *k <= 'Z') ? *k + 32 : *k);
        name[n] = '\0';
        MHD_add_response_header(e->resp, name, value);
    }
    return MHD_YES;
}

static enum MHD_Result add_scripted_header(void *cls, enum MHD_ValueKind kind, const char *key,
                                           const char *value)
{
    struct MHD_Response *r = cls;
    if (strcmp(key, "h") != 0 || !value)
        return MHD_YES;
    const char *colon = strchr(value, ':');
    if (!colon)
        return MHD_YES;
    char name[256];
    size_t n = (size_t)(colon - value);
    if (n >= sizeof name)
        return MHD_YES;
    memcpy(name, value, n);
    name[n] = '\0';
    const char *v = colon + 1;
    while (*v == ' ')
        v++;
    MHD_add_response_header(r, name, v);
    return MHD_YES;
}

static enum MHD_Result add_scripted_footer(void *cls, enum MHD_ValueKind kind, const char *key,
                                           const char *value)
{
    struct MHD_Response *r = cls;
    if (strcmp(key, "t") != 0 || !value)
        return MHD_YES;
    const char *colon = strchr(value, ':');
    if (!colon)
        return MHD_YES;
    char name[256];
    size_t n = (size_t)(colon - value);
    if (n >= sizeof name)
        return MHD_YES;
    memcpy(name, value, n);
    name[n] = '\0';
    const char *v = colon + 1;
    while (*v == ' ')
        v++;
    MHD_add_response_footer(r, name, v);
    return MHD_YES;
}

static ssize_t gen_read(void *cls, uint64_t pos, char *buf, size_t max)
{
    gen_ctx *g = cls;
    if (pos >= g->total)
        return MHD_CONTENT_READER_END_OF_STREAM;
    if (g->between_ms && pos > 0) {
        nap(g->o, g->between_ms);
        pthread_mutex_lock(&g->o->lock);
        bool stop = g->o->stopping;
        pthread_mutex_unlock(&g->o->lock);
        if (stop)
            return MHD_CONTENT_READER_END_WITH_ERROR;
    }
    size_t n = g->total - pos < max ? (size_t)(g->total - pos) : max;
    if (n > g->piece)
        n = g->piece;
    be_pattern_fill(pos, (uint8_t *)buf, n);
    return (ssize_t)n;
}

static void gen_free(void *cls)
{
    free(cls);
}

static struct MHD_Response *gen_response(origin *o, uint64_t n, bool chunked, size_t block,
                                         uint64_t between_ms)
{
    gen_ctx *g = calloc(1, sizeof *g);
    if (!g)
        abort();
    g->o = o;
    g->total = n;
    g->between_ms = between_ms;
    g->piece = between_ms ? block : SIZE_MAX;
    return MHD_create_response_from_callback(chunked ? MHD_SIZE_UNKNOWN : n, block, gen_read, g,
                                             gen_free);
}

static enum MHD_Result answer(req_ctx *rc, struct MHD_Connection *c, const char *url,
                              const char *method)
{
    origin *o = rc->o;
    if (path_is(url, "/drop"))
        return MHD_NO;
    if (path_is(url, "/status")) {
        unsigned status = (unsigned)strtoul(url + 8, NULL, 10);
        if (status < 100 || status > 999)
            status = 200;
        const char *body = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "body");
        if (!body)
            body = "";
        /* ?etag=V: answers with ETag V, and 304 to a request with If-None-Match V */
        const char *etag = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "etag");
        const char *inm = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "If-None-Match");
        if (etag && inm && strcmp(etag, inm) == 0) {
            status = 304;
            body = "";
        }
        struct MHD_Response *r =
            MHD_create_response_from_buffer(strlen(body), (void *)body, MHD_RESPMEM_MUST_COPY);
        MHD_get_connection_values(c, MHD_GET_ARGUMENT_KIND, add_scripted_header, r);
        if (r && etag)
            MHD_add_response_header(r, "ETag", etag);
        return queue(c, status, r);
    }
    if (path_is(url, "/big")) {
        uint64_t n = arg_u64(c, "n", 1000);
        return queue(c, 200, gen_response(o, n, arg_u64(c, "chunked", 0) != 0, 65536, 0));
    }
    if (path_is(url, "/trailers")) {
        struct MHD_Response *r = gen_response(o, arg_u64(c, "n", 1000), true, 65536, 0);
        MHD_get_connection_values(c, MHD_GET_ARGUMENT_KIND, add_scripted_footer, r);
        return queue(c, 200, r);
    }
    if (path_is(url, "/hc")) {
        pthread_mutex_lock(&o->lock);
        uint64_t seen = ++o->hc_requests;
        pthread_mutex_unlock(&o->lock);
        unsigned status = seen <= arg_u64(c, "ok", 0) ? 200 : 500;
        const char *text = status == 200 ? "up\n" : "down\n";
        return queue(
            c, status,
            MHD_create_response_from_buffer(strlen(text), (void *)text, MHD_RESPMEM_PERSISTENT));
    }
    if (path_is(url, "/slow")) {
        uint64_t first = arg_u64(c, "first", 0), between = arg_u64(c, "between", 0);
        uint64_t n = arg_u64(c, "n", 16), chunk = arg_u64(c, "chunk", 4);
        if (chunk == 0)
            chunk = 1;
        if (first)
            nap(o, first);
        struct MHD_Response *r = gen_response(o, n, true, (size_t)chunk, between);
        return queue(c, 200, r);
    }
    if (path_is(url, "/stats")) {
        char text[128];
        pthread_mutex_lock(&o->lock);
        int len =
            snprintf(text, sizeof text, "{\"requests\":%" PRIu64 ",\"connections\":%" PRIu64 "}",
                     o->requests, o->connections);
        pthread_mutex_unlock(&o->lock);
        struct MHD_Response *r =
            MHD_create_response_from_buffer((size_t)len, text, MHD_RESPMEM_MUST_COPY);
        MHD_add_response_header(r, "content-type", "application/json");
        return queue(c, 200, r);
    }
    /* /echo and everything else */
    struct MHD_Response *r = MHD_create_response_from_buffer(0, "", MHD_RESPMEM_PERSISTENT);
    echo_state e = {.resp = r, .first = true};
    char fnv[32], bytes[32];
    snprintf(fnv, sizeof fnv, "%016" PRIx64, rc->body_fnv);
    snprintf(bytes, sizeof bytes, "%" PRIu64, rc->body_bytes);
    sb_str(&e.json, "{\"method\":");
    sb_json(&e.json, method);
    sb_str(&e.json, ",\"url\":");
    sb_json(&e.json, rc->uri ? rc->uri : url);
    sb_str(&e.json, ",\"headers\":[");
    MHD_get_connection_values(c, MHD_HEADER_KIND, collect_echo, &e);
    sb_str(&e.json, "],\"body_bytes\":");
    sb_str(&e.json, bytes);
    sb_str(&e.json, ",\"body_fnv\":\"");
    sb_str(&e.json, fnv);
    sb_str(&e.json, "\"}\n");
    MHD_destroy_response(r);
    /* the body is only known now: build the real response and add the headers again */
    r = MHD_create_response_from_buffer(e.json.len, e.json.p, MHD_RESPMEM_MUST_COPY);
    free(e.json.p);
    e = (echo_state){.resp = r, .first = true};
    MHD_get_connection_values(c, MHD_HEADER_KIND, collect_echo, &e);
    free(e.json.p);
    MHD_add_response_header(r, "content-type", "application/json");
    MHD_add_response_header(r, "x-echo-method", method);
    MHD_add_response_header(r, "x-echo-url", rc->uri ? rc->uri : url);
    MHD_add_response_header(r, "x-echo-body-bytes", bytes);
    MHD_add_response_header(r, "x-echo-body-fnv", fnv);
    /* the request's trailers (chunked uploads): x-echo-t-<name> each, x-echo-trailers the count */
    echo_state t = {.resp = r, .first = true, .prefix = "x-echo-t-"};
    int ntrailers = MHD_get_connection_values(c, MHD_FOOTER_KIND, collect_echo, &t);
    free(t.json.p);
    snprintf(bytes, sizeof bytes, "%d", ntrailers);
    MHD_add_response_header(r, "x-echo-trailers", bytes);
    return queue(c, 200, r);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **con_cls)
{
    req_ctx *rc = *con_cls;
    if (!rc->started) {
        rc->started = true;
        sbuf raw = {0};
        MHD_get_connection_values(c, MHD_HEADER_KIND, collect_raw, &raw);
        char sni[256] = "";
        bool sni_present = false;
        if (rc->o->tls) {
            const union MHD_ConnectionInfo *ci =
                MHD_get_connection_info(c, MHD_CONNECTION_INFO_GNUTLS_SESSION);
            size_t len = sizeof sni - 1;
            unsigned type = 0;
            if (ci && ci->tls_session &&
                gnutls_server_name_get((gnutls_session_t)ci->tls_session, sni, &len, &type, 0) ==
                    GNUTLS_E_SUCCESS &&
                type == GNUTLS_NAME_DNS) {
                sni[len < sizeof sni ? len : sizeof sni - 1] = '\0';
                sni_present = true;
            } else {
                sni[0] = '\0';
            }
        }
        pthread_mutex_lock(&rc->o->lock);
        rc->o->requests++;
        free(rc->o->last_headers);
        rc->o->last_headers = raw.p;
        rc->o->last_len = raw.len;
        snprintf(rc->o->last_method, sizeof rc->o->last_method, "%s", method);
        memcpy(rc->o->last_sni, sni, sizeof sni);
        rc->o->last_sni_present = sni_present;
        pthread_mutex_unlock(&rc->o->lock);
        return MHD_YES;
    }
    if (*upload_data_size > 0) {
        rc->body_bytes += *upload_data_size;
        rc->body_fnv = be_fnv(rc->body_fnv, (const uint8_t *)upload_data, *upload_data_size);
        *upload_data_size = 0;
        return MHD_YES;
    }
    return answer(rc, c, url, method);
}

/* ---- lifecycle ---- */

/* MHD's own log, minus the line every /drop causes. */
static void on_log(void *cls, const char *fmt, va_list ap)
{
    char line[1024];
    vsnprintf(line, sizeof line, fmt, ap);
    /* expected when a test's client gives up: dropped connections, timeouts, TLS refusals */
    if (strstr(line, "Application reported internal error") ||
        strstr(line, "socket is no longer available") || strstr(line, "forcibly closed") ||
        strstr(line, "application error generating response") ||
        strstr(line, "handshake message out of context") || strstr(line, "Error: A TLS"))
        return;
    fputs(line, stderr);
}

static char *read_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    sbuf b = {0};
    char chunk[4096];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        sb_add(&b, chunk, n);
    fclose(f);
    return b.p;
}

origin *origin_start(const char *cert_file, const char *key_file)
{
    origin *o = calloc(1, sizeof *o);
    if (!o)
        return NULL;
    pthread_mutex_init(&o->lock, NULL);
    pthread_cond_init(&o->wake, NULL);
    struct sockaddr_in a = {.sin_family = AF_INET};
    inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
    unsigned flags =
        MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION | MHD_USE_ERROR_LOG;
    if (cert_file) {
        o->tls = true;
        o->cert_pem = read_file(cert_file);
        o->key_pem = read_file(key_file);
        if (!o->cert_pem || !o->key_pem) {
            fprintf(stderr, "origin_start: cannot read %s or %s\n", cert_file, key_file);
            origin_stop(o);
            return NULL;
        }
        o->d = MHD_start_daemon(
            flags | MHD_USE_TLS, 0, NULL, NULL, on_request, o, MHD_OPTION_EXTERNAL_LOGGER, on_log,
            o, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&a, MHD_OPTION_URI_LOG_CALLBACK, on_uri, o,
            MHD_OPTION_NOTIFY_COMPLETED, on_completed, o, MHD_OPTION_NOTIFY_CONNECTION,
            on_connection, o, MHD_OPTION_HTTPS_MEM_KEY, o->key_pem, MHD_OPTION_HTTPS_MEM_CERT,
            o->cert_pem, MHD_OPTION_END);
    } else {
        o->d = MHD_start_daemon(flags, 0, NULL, NULL, on_request, o, MHD_OPTION_EXTERNAL_LOGGER,
                                on_log, o, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&a,
                                MHD_OPTION_URI_LOG_CALLBACK, on_uri, o, MHD_OPTION_NOTIFY_COMPLETED,
                                on_completed, o, MHD_OPTION_NOTIFY_CONNECTION, on_connection, o,
                                MHD_OPTION_END);
    }
    if (!o->d) {
        fprintf(stderr, "origin_start: MHD_start_daemon failed\n");
        origin_stop(o);
        return NULL;
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(o->d, MHD_DAEMON_INFO_BIND_PORT);
    o->port = info ? info->port : 0;
    return o;
}

uint16_t origin_port(const origin *o)
{
    return o ? o->port : 0;
}

void origin_stop(origin *o)
{
    if (!o)
        return;
    pthread_mutex_lock(&o->lock);
    o->stopping = true;
    pthread_cond_broadcast(&o->wake);
    pthread_mutex_unlock(&o->lock);
    if (o->d)
        MHD_stop_daemon(o->d);
    free(o->last_headers);
    free(o->cert_pem);
    free(o->key_pem);
    pthread_cond_destroy(&o->wake);
    pthread_mutex_destroy(&o->lock);
    free(o);
}

uint64_t origin_requests(origin *o)
{
    pthread_mutex_lock(&o->lock);
    uint64_t n = o->requests;
    pthread_mutex_unlock(&o->lock);
    return n;
}

uint64_t origin_connections(origin *o)
{
    pthread_mutex_lock(&o->lock);
    uint64_t n = o->connections;
    pthread_mutex_unlock(&o->lock);
    return n;
}

void origin_reset_counts(origin *o)
{
    pthread_mutex_lock(&o->lock);
    o->requests = o->connections = o->hc_requests = 0;
    pthread_mutex_unlock(&o->lock);
}

uint64_t origin_hc_requests(origin *o)
{
    pthread_mutex_lock(&o->lock);
    uint64_t n = o->hc_requests;
    pthread_mutex_unlock(&o->lock);
    return n;
}

bool origin_last_method(origin *o, char *out, size_t outlen)
{
    pthread_mutex_lock(&o->lock);
    snprintf(out, outlen, "%s", o->last_method);
    bool any = o->last_method[0] != '\0';
    pthread_mutex_unlock(&o->lock);
    return any;
}

bool origin_last_sni(origin *o, char *out, size_t outlen)
{
    pthread_mutex_lock(&o->lock);
    snprintf(out, outlen, "%s", o->last_sni);
    bool present = o->last_sni_present;
    pthread_mutex_unlock(&o->lock);
    return present;
}

bool origin_last_header(origin *o, const char *name, char *out, size_t outlen)
{
    bool found = false;
    pthread_mutex_lock(&o->lock);
    for (size_t i = 0; o->last_headers && i < o->last_len;) {
        const char *k = o->last_headers + i;
        const char *v = k + strlen(k) + 1;
        if (!found && strcasecmp(k, name) == 0) {
            snprintf(out, outlen, "%s", v);
            found = true;
        }
        i = (size_t)(v - o->last_headers) + strlen(v) + 1;
    }
    pthread_mutex_unlock(&o->lock);
    return found;
}

/* ---- TLS files and ports ---- */

static int mkdirs(const char *dir)
{
    char path[512];
    if (snprintf(path, sizeof path, "%s", dir) >= (int)sizeof path)
        return -1;
    for (char *p = path + 1; *p; p++)
        if (*p == '/') {
            *p = '\0';
            if (mkdir(path, 0755) != 0 && errno != EEXIST)
                return -1;
            *p = '/';
        }
    return mkdir(path, 0755) != 0 && errno != EEXIST ? -1 : 0;
}

static int run(const char *cmd)
{
    int rc = system(cmd);
    if (rc != 0)
        fprintf(stderr, "origin_make_tls: failed (%d): %s\n", rc, cmd);
    return rc == 0 ? 0 : -1;
}

int origin_make_tls(const char *dir, origin_tls_files *out)
{
    if (mkdirs(dir) != 0)
        return -1;
    char cakey[512], csr[512], ext[512], cmd[4096];
    snprintf(out->ca, sizeof out->ca, "%s/ca.pem", dir);
    snprintf(out->cert, sizeof out->cert, "%s/server.pem", dir);
    snprintf(out->key, sizeof out->key, "%s/server.key", dir);
    snprintf(cakey, sizeof cakey, "%s/ca.key", dir);
    snprintf(csr, sizeof csr, "%s/server.csr", dir);
    snprintf(ext, sizeof ext, "%s/server.ext", dir);
    FILE *f = fopen(ext, "w");
    if (!f)
        return -1;
    fputs("subjectAltName=DNS:localhost,IP:127.0.0.1\n"
          "basicConstraints=CA:FALSE\n"
          "keyUsage=digitalSignature,keyEncipherment\n"
          "extendedKeyUsage=serverAuth\n",
          f);
    fclose(f);
    snprintf(
        cmd, sizeof cmd,
        "openssl req -x509 -newkey rsa:2048 -nodes -sha256 -days 2 -subj '/CN=Fastlike Test CA'"
        " -keyout '%s' -out '%s' >/dev/null 2>&1",
        cakey, out->ca);
    if (run(cmd) != 0)
        return -1;
    snprintf(cmd, sizeof cmd,
             "openssl req -newkey rsa:2048 -nodes -sha256 -subj '/CN=localhost' -keyout '%s'"
             " -out '%s' >/dev/null 2>&1",
             out->key, csr);
    if (run(cmd) != 0)
        return -1;
    snprintf(cmd, sizeof cmd,
             "openssl x509 -req -sha256 -days 2 -in '%s' -CA '%s' -CAkey '%s' -CAcreateserial"
             " -extfile '%s' -out '%s' >/dev/null 2>&1",
             csr, out->ca, cakey, ext, out->cert);
    return run(cmd);
}

uint16_t origin_closed_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return 0;
    struct sockaddr_in a = {.sin_family = AF_INET};
    inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
    socklen_t len = sizeof a;
    uint16_t port = 0;
    if (bind(fd, (struct sockaddr *)&a, sizeof a) == 0 &&
        getsockname(fd, (struct sockaddr *)&a, &len) == 0)
        port = ntohs(a.sin_port);
    close(fd);
    return port;
}

int origin_blackhole_open(origin_blackhole *b)
{
    memset(b, 0, sizeof *b);
    for (size_t i = 0; i < sizeof b->fillers / sizeof b->fillers[0]; i++)
        b->fillers[i] = -1;
    b->listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (b->listen_fd < 0)
        return -1;
    struct sockaddr_in a = {.sin_family = AF_INET};
    inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
    socklen_t len = sizeof a;
    if (bind(b->listen_fd, (struct sockaddr *)&a, sizeof a) != 0 || listen(b->listen_fd, 0) != 0 ||
        getsockname(b->listen_fd, (struct sockaddr *)&a, &len) != 0) {
        origin_blackhole_close(b);
        return -1;
    }
    b->port = ntohs(a.sin_port);
    /* a backlog of 0 still admits one connection; the rest of the fillers wait in SYN_SENT */
    for (size_t i = 0; i < sizeof b->fillers / sizeof b->fillers[0]; i++) {
        b->fillers[i] = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (b->fillers[i] >= 0)
            connect(b->fillers[i], (struct sockaddr *)&a, sizeof a);
    }
    usleep(50000);
    return 0;
}

void origin_blackhole_close(origin_blackhole *b)
{
    for (size_t i = 0; i < sizeof b->fillers / sizeof b->fillers[0]; i++)
        if (b->fillers[i] >= 0)
            close(b->fillers[i]);
    if (b->listen_fd >= 0)
        close(b->listen_fd);
    b->listen_fd = -1;
}
