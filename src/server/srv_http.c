/* srv_http.c: libmicrohttpd glue. Per request an http_req shared (refcounted) by the connection's
 * MHD thread and the worker running the guest: the MHD thread feeds the upload into `body` and,
 * once the upload is complete and the guest has sent its head, queues a callback response that
 * drains `resp`. Thread-per-connection mode lets both callbacks block. A guest that answers while
 * the upload is still arriving (e.g. streams the request body back) makes `body` spill to a
 * temporary file, since MHD only starts a response after the whole request was read. A request
 * may also go to an instance waiting in next_request (srv_request_offer) instead of the pool. */
#include "server/srv_http.h"
#include "server/srv_config.h"
#include "server/srv_pipe.h"
#include "server/srv_pool.h"
#include "server/srv_request.h"

#include <errno.h>
#include <microhttpd.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#define PIPE_CAP (1024 * 1024)
#define RESPONSE_BLOCK (64 * 1024)

struct srv_http {
    struct MHD_Daemon *daemon;
    srv_pool *pool;
    srv_live *live;
    const srv_log *log;
    uint16_t port;
};

typedef struct resp_header {
    char *name, *value;
} resp_header;

typedef struct http_req {
    srv_http *srv;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    int refs;
    bool started;
    bool answered; /* an error response was queued before the guest ran: never wait for one */
    char *target; /* raw request-target, query included */
    /* the request as the guest sees it (all copies: MHD reuses its memory for the next request) */
    char *method, *url, *strings;
    hc_header_view *headers;
    size_t nheaders;
    hc_downstream_request dreq;
    srv_pipe *body; /* NULL without a body */
    bool is_head;
    /* the response */
    srv_pipe *resp;
    bool head_ready;
    uint16_t status;
    resp_header *rh;
    size_t nrh;
    int64_t content_length;
    srv_sink sink;
    srv_handoff handoff; /* when an instance waiting in next_request takes the request */
} http_req;

static void req_release(http_req *r)
{
    pthread_mutex_lock(&r->lock);
    int left = --r->refs;
    pthread_mutex_unlock(&r->lock);
    if (left > 0)
        return;
    srv_pipe_free(r->body);
    srv_pipe_free(r->resp);
    for (size_t i = 0; i < r->nrh; i++) {
        free(r->rh[i].name);
        free(r->rh[i].value);
    }
    free(r->rh);
    free(r->target);
    free(r->method);
    free(r->url);
    free(r->strings);
    free(r->headers);
    pthread_cond_destroy(&r->cond);
    pthread_mutex_destroy(&r->lock);
    free(r);
}

/* ---- the sink the guest writes the response into (runs on the worker) ---- */

static bool is_framing_header(const char *name, size_t len)
{
    static const char *const names[] = {"content-length",   "transfer-encoding",
                                        "connection",       "keep-alive",
                                        "proxy-connection", "te",
                                        "trailer",          "upgrade"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strlen(names[i]) == len && strncasecmp(names[i], name, len) == 0)
            return true;
    return false;
}

/* True when a Connection header value lists the `close` token: the guest (or
 * http_keepalive_mode no_keepalive) asks for the connection to end after this response, which
 * hyper honours in Viceroy. MHD does the same when the response carries `Connection: close`. */
static bool lists_close(const char *v, size_t len)
{
    for (size_t i = 0; i < len;) {
        while (i < len && (v[i] == ' ' || v[i] == '\t' || v[i] == ','))
            i++;
        size_t start = i;
        while (i < len && v[i] != ',' && v[i] != ' ' && v[i] != '\t')
            i++;
        if (i - start == 5 && strncasecmp(v + start, "close", 5) == 0)
            return true;
    }
    return false;
}

static char *dup_bytes(const char *s, size_t n)
{
    char *d = malloc(n + 1);
    if (d) {
        memcpy(d, s, n);
        d[n] = '\0';
    }
    return d;
}

static int sink_send_head(void *p, uint16_t status, const hc_header_view *h, size_t n, int64_t cl)
{
    http_req *r = p;
    r->rh = calloc(n ? n : 1, sizeof *r->rh);
    if (!r->rh)
        return -1;
    for (size_t i = 0; i < n; i++) {
        /* MHD frames the body itself; hop-by-hop headers are not the guest's to set, except a
         * request to close the connection afterwards */
        bool close = h[i].name_len == 10 && strncasecmp(h[i].name, "connection", 10) == 0 &&
                     lists_close(h[i].value, h[i].value_len);
        if (!close && is_framing_header(h[i].name, h[i].name_len))
            continue;
        char *name = dup_bytes(close ? "Connection" : h[i].name, close ? 10 : h[i].name_len);
        char *value = dup_bytes(close ? "close" : h[i].value, close ? 5 : h[i].value_len);
        if (!name || !value) {
            free(name);
            free(value);
            return -1;
        }
        r->rh[r->nrh].name = name;
        r->rh[r->nrh].value = value;
        r->nrh++;
    }
    if (r->body) /* full duplex: the upload must not wait for the guest to read it */
        srv_pipe_set_spill(r->body, true);
    pthread_mutex_lock(&r->lock);
    r->status = status;
    r->content_length = cl;
    r->head_ready = true;
    pthread_cond_broadcast(&r->cond);
    pthread_mutex_unlock(&r->lock);
    return 0;
}

static int sink_write(void *p, const uint8_t *data, size_t len)
{
    http_req *r = p;
    if (r->is_head || r->content_length == 0)
        return 0; /* no body goes out; the guest need not know */
    return srv_pipe_write(r->resp, data, len);
}

static int sink_finish(void *p)
{
    http_req *r = p;
    srv_pipe_close(r->resp);
    return 0;
}

static void sink_abort(void *p)
{
    http_req *r = p;
    srv_pipe_abort(r->resp);
}

static long body_read(void *src, uint8_t *buf, size_t len)
{
    return srv_pipe_read(src, buf, len);
}

static void guest_finished(http_req *r)
{
    if (r->body)
        srv_pipe_reader_gone(r->body); /* the rest of the upload is read and dropped */
    req_release(r);
}

/* Runs the request in a fresh instance of the guest current now (hot reload may have swapped it
 * since the request arrived). */
static void run_current(http_req *r)
{
    srv_guest *g = srv_live_acquire(r->srv->live);
    srv_request_run(g, &r->dreq, &r->sink, true);
    srv_guest_drop(g);
}

static void run_guest(void *arg)
{
    http_req *r = arg;
    run_current(r);
    guest_finished(r);
}

/* A reused instance is done with the request, or gave it back unrun: then a fresh one runs it. */
static void handoff_done(srv_handoff *h, bool ran)
{
    http_req *r = h->user;
    if (!ran && srv_pool_submit(r->srv->pool, run_guest, r) == 0)
        return;
    if (!ran)
        run_current(r); /* the pool is stopping */
    guest_finished(r);
}

/* ---- MHD callbacks (run on the connection's thread) ---- */

static void *on_uri(void *cls, const char *uri, struct MHD_Connection *conn)
{
    (void)conn;
    http_req *r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    r->srv = cls;
    r->refs = 1;
    pthread_mutex_init(&r->lock, NULL);
    pthread_cond_init(&r->cond, NULL);
    r->target = dup_bytes(uri, strlen(uri));
    return r;
}

typedef struct header_walk {
    http_req *r;
    size_t count, bytes, pos;
} header_walk;

static enum MHD_Result count_header(void *cls, enum MHD_ValueKind kind, const char *key,
                                    const char *value)
{
    header_walk *w = cls;
    w->count++;
    w->bytes += strlen(key) + 1 + (value ? strlen(value) : 0) + 1;
    return MHD_YES;
}

static enum MHD_Result copy_header(void *cls, enum MHD_ValueKind kind, const char *key,
                                   const char *value)
{
    header_walk *w = cls;
    http_req *r = w->r;
    if (r->nheaders == w->count)
        return MHD_NO;
    size_t kl = strlen(key), vl = value ? strlen(value) : 0;
    char *k = r->strings + w->pos;
    memcpy(k, key, kl + 1);
    char *v = k + kl + 1;
    if (vl)
        memcpy(v, value, vl);
    v[vl] = '\0';
    w->pos += kl + 1 + vl + 1;
    r->headers[r->nheaders++] = (hc_header_view){k, kl, v, vl};
    return MHD_YES;
}

static const char *find_header(const http_req *r, const char *name)
{
    for (size_t i = 0; i < r->nheaders; i++)
        if (strcasecmp(r->headers[i].name, name) == 0)
            return r->headers[i].value;
    return NULL;
}

static int setup_request(http_req *r, struct MHD_Connection *conn, const char *method,
                         const char *version)
{
    header_walk w = {.r = r};
    MHD_get_connection_values(conn, MHD_HEADER_KIND, count_header, &w);
    r->headers = calloc(w.count ? w.count : 1, sizeof *r->headers);
    r->strings = malloc(w.bytes ? w.bytes : 1);
    r->method = dup_bytes(method, strlen(method));
    if (!r->headers || !r->strings || !r->method || !r->target)
        return -1;
    MHD_get_connection_values(conn, MHD_HEADER_KIND, copy_header, &w);
    r->is_head = strcmp(method, "HEAD") == 0;

    hc_downstream_request *d = &r->dreq;
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    if (ci && ci->client_addr) {
        size_t len = ci->client_addr->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6)
                                                            : sizeof(struct sockaddr_in);
        memcpy(&d->client_addr, ci->client_addr, len);
    }
    ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
    socklen_t slen = sizeof d->server_addr;
    if (ci)
        getsockname(ci->connect_fd, (struct sockaddr *)&d->server_addr, &slen);

    /* the absolute URL edge guests see: scheme://host + the raw request-target */
    const char *t = r->target;
    if (strncasecmp(t, "http://", 7) == 0 || strncasecmp(t, "https://", 8) == 0) {
        r->url = dup_bytes(t, strlen(t));
    } else {
        const char *host = find_header(r, "host");
        char fallback[64];
        if (!host || !host[0]) {
            snprintf(fallback, sizeof fallback, "localhost:%u", r->srv->port);
            host = fallback;
        }
        size_t n = 7 + strlen(host) + 1 + strlen(t) + 1;
        r->url = malloc(n);
        if (r->url)
            snprintf(r->url, n, "http://%s%s%s", host, t[0] == '/' ? "" : "/",
                     strcmp(t, "*") == 0 ? "" : t);
    }
    if (!r->url)
        return -1;
    d->method = r->method;
    d->url = r->url;
    d->http_version = strcmp(version, "HTTP/1.0") == 0 ? 1 : 2;
    d->headers = r->headers;
    d->nheaders = r->nheaders;

    const char *cl = find_header(r, "content-length");
    const char *te = find_header(r, "transfer-encoding");
    d->body_length = -1;
    if (cl && !te) {
        char *end;
        long long v = strtoll(cl, &end, 10);
        d->body_length = (*end || v < 0) ? -1 : v;
    }
    if (te || d->body_length > 0) {
        r->body = srv_pipe_new(PIPE_CAP);
        if (!r->body)
            return -1;
        d->body_read = body_read;
        d->body_src = r->body;
    } else {
        d->body_length = 0;
    }
    r->resp = srv_pipe_new(PIPE_CAP);
    if (!r->resp)
        return -1;
    r->sink = (srv_sink){{sink_send_head, sink_write, sink_finish, r}, sink_abort};
    return 0;
}

static enum MHD_Result queue_text(struct MHD_Connection *conn, unsigned status, const char *text)
{
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(strlen(text), (void *)text, MHD_RESPMEM_PERSISTENT);
    if (!resp)
        return MHD_NO;
    MHD_add_response_header(resp, "content-type", "text/plain; charset=utf-8");
    enum MHD_Result ret = MHD_queue_response(conn, status, resp);
    MHD_destroy_response(resp);
    return ret;
}

static ssize_t read_response(void *cls, uint64_t pos, char *buf, size_t max)
{
    http_req *r = cls;
    if (r->content_length >= 0 && max > (uint64_t)r->content_length - pos)
        max = (size_t)((uint64_t)r->content_length - pos);
    long n = srv_pipe_read(r->resp, (uint8_t *)buf, max);
    if (n > 0)
        return n;
    if (n == 0 && r->content_length < 0)
        return MHD_CONTENT_READER_END_OF_STREAM;
    return MHD_CONTENT_READER_END_WITH_ERROR; /* aborted, or shorter than its Content-Length */
}

static enum MHD_Result queue_guest_response(http_req *r, struct MHD_Connection *conn)
{
    struct MHD_Response *resp;
    /* MHD would send a last chunk in reply to HEAD, so a HEAD answer of unknown length goes out
     * as an empty one (Content-Length: 0) */
    if (r->content_length == 0 || (r->is_head && r->content_length < 0))
        resp = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
    else
        resp = MHD_create_response_from_callback(
            r->content_length < 0 ? MHD_SIZE_UNKNOWN : (uint64_t)r->content_length, RESPONSE_BLOCK,
            read_response, r, NULL);
    if (!resp)
        return MHD_NO;
    for (size_t i = 0; i < r->nrh; i++)
        if (MHD_add_response_header(resp, r->rh[i].name, r->rh[i].value) != MHD_YES &&
            r->srv->log->verbosity >= 1)
            srv_logf(r->srv->log, "response header '%s' refused by the HTTP layer", r->rh[i].name);
    enum MHD_Result ret = MHD_queue_response(conn, r->status, resp);
    MHD_destroy_response(resp);
    return ret;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **req_cls)
{
    (void)url;
    srv_http *srv = cls;
    http_req *r = *req_cls;
    if (!r)
        return MHD_NO; /* out of memory in on_uri: drop the connection */
    if (r->answered) { /* an error answer was queued at the start: drop the rest of the upload */
        *upload_data_size = 0;
        return MHD_YES;
    }
    if (!r->started) {
        r->started = true;
        if (setup_request(r, conn, method, version) != 0) {
            r->answered = true;
            return queue_text(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory\n");
        }
        pthread_mutex_lock(&r->lock);
        r->refs++;
        pthread_mutex_unlock(&r->lock);
        r->handoff = (srv_handoff){.req = &r->dreq, .sink = &r->sink, .done = handoff_done,
                                   .user = r};
        srv_guest *g = srv_live_acquire(srv->live);
        bool offered = srv_request_offer(g, &r->handoff);
        srv_guest_drop(g); /* a waiting instance holds its own reference */
        if (offered)
            return MHD_YES; /* an instance waiting in next_request has it */
        if (srv_pool_submit(srv->pool, run_guest, r) != 0) {
            pthread_mutex_lock(&r->lock);
            r->refs--;
            pthread_mutex_unlock(&r->lock);
            r->answered = true;
            return queue_text(conn, MHD_HTTP_SERVICE_UNAVAILABLE, "server shutting down\n");
        }
        return MHD_YES; /* MHD answers Expect: 100-continue now */
    }
    if (*upload_data_size > 0) {
        if (r->body) /* -1 once the guest is done: the rest is dropped */
            srv_pipe_write(r->body, (const uint8_t *)upload_data, *upload_data_size);
        *upload_data_size = 0;
        return MHD_YES;
    }
    if (r->body)
        srv_pipe_close(r->body);
    pthread_mutex_lock(&r->lock);
    while (!r->head_ready)
        pthread_cond_wait(&r->cond, &r->lock);
    pthread_mutex_unlock(&r->lock);
    return queue_guest_response(r, conn);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **req_cls,
                         enum MHD_RequestTerminationCode toe)
{
    (void)cls;
    (void)conn;
    (void)toe;
    http_req *r = *req_cls;
    if (!r)
        return;
    *req_cls = NULL;
    if (r->body && !srv_pipe_is_ended(r->body))
        srv_pipe_abort(r->body); /* the client went away mid-upload */
    if (r->resp)
        srv_pipe_reader_gone(r->resp); /* further guest writes fail */
    req_release(r);
}

static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
    const srv_log *log = cls;
    char line[512];
    vsnprintf(line, sizeof line, fmt, ap);
    size_t n = strlen(line);
    while (n > 0 && line[n - 1] == '\n')
        line[--n] = '\0';
    if (log->verbosity >= 1)
        srv_logf(log, "http: %s", line);
}

/* Binds and listens, IPv4 addresses first. Returns the socket or -1 with a message in err. */
static int open_listener(const char *bind_addr, char *err, size_t errlen)
{
    char *host;
    const char *port;
    if (srv_split_bind(bind_addr, &host, &port, err, errlen) != 0)
        return -1;
    struct addrinfo hints = {
        .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE};
    struct addrinfo *res = NULL;
    int gai = getaddrinfo(host[0] ? host : NULL, port, &hints, &res);
    free(host);
    if (gai != 0) {
        snprintf(err, errlen, "cannot listen on %s: %s", bind_addr, gai_strerror(gai));
        return -1;
    }
    int fd = -1, last_errno = 0;
    for (int pass = 0; pass < 2 && fd < 0; pass++) {
        for (struct addrinfo *ai = res; ai && fd < 0; ai = ai->ai_next) {
            if ((pass == 0) != (ai->ai_family == AF_INET))
                continue;
            int s = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
            if (s < 0) {
                last_errno = errno;
                continue;
            }
            int one = 1;
            setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
            if (bind(s, ai->ai_addr, ai->ai_addrlen) != 0 || listen(s, 1024) != 0) {
                last_errno = errno;
                close(s);
                continue;
            }
            fd = s;
        }
    }
    freeaddrinfo(res);
    if (fd < 0)
        snprintf(err, errlen, "cannot listen on %s: %s", bind_addr,
                 last_errno ? strerror(last_errno) : "no usable address");
    return fd;
}

static uint16_t socket_port(int fd)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    if (getsockname(fd, (struct sockaddr *)&ss, &len) != 0)
        return 0;
    if (ss.ss_family == AF_INET)
        return ntohs(((struct sockaddr_in *)&ss)->sin_port);
    if (ss.ss_family == AF_INET6)
        return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
    return 0;
}

fastlike_status srv_http_start(const srv_http_config *cfg, srv_http **out, char *err, size_t errlen)
{
    *out = NULL;
    srv_http *h = calloc(1, sizeof *h);
    if (!h) {
        snprintf(err, errlen, "out of memory");
        return FASTLIKE_ERR_NOMEM;
    }
    h->live = cfg->live;
    h->log = cfg->log;
    int fd = open_listener(cfg->bind, err, errlen);
    if (fd < 0) {
        free(h);
        return FASTLIKE_ERR_IO;
    }
    h->port = socket_port(fd);
    h->pool = srv_pool_new(cfg->workers);
    if (!h->pool) {
        close(fd);
        free(h);
        snprintf(err, errlen, "cannot start worker threads");
        return FASTLIKE_ERR_NOMEM;
    }
    h->daemon = MHD_start_daemon(
        MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL |
            MHD_USE_ERROR_LOG,
        0, NULL, NULL, on_request, h, MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, (void *)cfg->log,
        MHD_OPTION_LISTEN_SOCKET, fd, MHD_OPTION_URI_LOG_CALLBACK, on_uri, h,
        MHD_OPTION_NOTIFY_COMPLETED, on_completed, h, MHD_OPTION_CONNECTION_TIMEOUT,
        (unsigned int)120, MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(256 * 1024),
        MHD_OPTION_THREAD_STACK_SIZE, (size_t)(512 * 1024), MHD_OPTION_END);
    if (!h->daemon) {
        close(fd);
        srv_pool_free(h->pool);
        free(h);
        snprintf(err, errlen, "cannot start the HTTP server on %s", cfg->bind);
        return FASTLIKE_ERR_IO;
    }
    *out = h;
    return FASTLIKE_OK;
}

uint16_t srv_http_port(const srv_http *h)
{
    return h ? h->port : 0;
}

void srv_http_stop(srv_http *h)
{
    if (!h)
        return;
    srv_guest *g = srv_live_acquire(h->live);
    if (g)
        srv_reuse_close(&g->reuse); /* instances waiting for a next request end now */
    srv_guest_drop(g);
    MHD_stop_daemon(h->daemon);         /* joins connection threads; they wait for their guests */
    srv_pool_free(h->pool);
    free(h);
}
