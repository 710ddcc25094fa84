/* prof_viewer.c: the viewer's HTTP listener on libmicrohttpd (one internal thread; every answer
 * is built in memory from the recorder): routing, the loopback and token gates, and the
 * response headers that keep the pages from being framed or sniffed (see prof_viewer.h). */
#include "profiler/prof_viewer.h"

#include "profiler/prof_api.h"
#include "profiler/prof_assets.h"
#include "profiler/prof_export.h"
#include "profiler/prof_firefox.h"
#include "util/util_id.h"

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <microhttpd.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

struct prof_viewer {
    struct MHD_Daemon *daemon;
    prof_recorder *rec;
    uint16_t port;
    bool remote;
    char token[65]; /* "" when none is required */
};

/* Splits "host:port" / "[v6]:port" / ":port"; host[0] == 0 for none. */
static bool split_addr(const char *s, char *host, size_t hostlen, char *port, size_t portlen)
{
    const char *colon;
    const char *h = s;
    size_t hl;
    if (s[0] == '[') {
        const char *close = strchr(s, ']');
        if (!close || close[1] != ':')
            return false;
        h = s + 1;
        hl = (size_t)(close - h);
        colon = close + 1;
    } else {
        colon = strrchr(s, ':');
        if (!colon)
            return false;
        hl = (size_t)(colon - s);
    }
    size_t pl = strlen(colon + 1);
    if (hl >= hostlen || pl == 0 || pl >= portlen)
        return false;
    memcpy(host, h, hl);
    host[hl] = '\0';
    memcpy(port, colon + 1, pl + 1);
    for (size_t i = 0; i < pl; i++)
        if (port[i] < '0' || port[i] > '9')
            return false;
    return true;
}

static bool is_loopback(const struct sockaddr *sa)
{
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *v4 = (const struct sockaddr_in *)sa;
        return (ntohl(v4->sin_addr.s_addr) >> 24) == 127;
    }
    if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *v6 = (const struct sockaddr_in6 *)sa;
        if (IN6_IS_ADDR_LOOPBACK(&v6->sin6_addr))
            return true;
        if (IN6_IS_ADDR_V4MAPPED(&v6->sin6_addr))
            return v6->sin6_addr.s6_addr[12] == 127;
    }
    return false;
}

/* The listening socket, after the loopback gate. -1 with err set. */
static int open_listener(const prof_viewer_config *cfg, char *err, size_t errlen)
{
    char host[256], port[16];
    if (!cfg->bind || !split_addr(cfg->bind, host, sizeof host, port, sizeof port)) {
        snprintf(err, errlen, "-profile-ui '%s': expected HOST:PORT", cfg->bind ? cfg->bind : "");
        return -1;
    }
    if (!host[0])
        snprintf(host, sizeof host, "%s", cfg->allow_remote ? "0.0.0.0" : "127.0.0.1");
    struct addrinfo hints, *res = NULL;
    memset(&hints, 0, sizeof hints);
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE;
    int rc = getaddrinfo(host, port, &hints, &res);
    if (rc != 0 || !res) {
        snprintf(err, errlen, "-profile-ui %s: cannot resolve %s: %s", cfg->bind, host,
                 gai_strerror(rc));
        return -1;
    }
    int fd = -1;
    for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
        if (!cfg->allow_remote && !is_loopback(ai->ai_addr)) {
            snprintf(err, errlen,
                     "-profile-ui %s: not a loopback address; the viewer listens beyond this "
                     "machine only with -profile-ui-allow-remote (which then requires a token)",
                     cfg->bind);
            break;
        }
        fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
        if (fd < 0)
            continue;
        int one = 1;
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        if (bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 && listen(fd, 64) == 0)
            break;
        snprintf(err, errlen, "-profile-ui %s: %s", cfg->bind, strerror(errno));
        close(fd);
        fd = -1;
    }
    freeaddrinfo(res);
    return fd;
}

static enum MHD_Result send_buf(struct MHD_Connection *c, unsigned status, const char *ctype,
                                char *body, size_t len, bool must_free, const char *disposition)
{
    struct MHD_Response *r = MHD_create_response_from_buffer(
        len, body, must_free ? MHD_RESPMEM_MUST_FREE : MHD_RESPMEM_PERSISTENT);
    if (!r) {
        if (must_free)
            free(body);
        return MHD_NO;
    }
    MHD_add_response_header(r, "Content-Type", ctype);
    MHD_add_response_header(r, "Cache-Control", "no-store");
    MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(r, "X-Frame-Options", "DENY");
    MHD_add_response_header(r, "Referrer-Policy", "no-referrer");
    MHD_add_response_header(r, "Content-Security-Policy",
                            "default-src 'none'; script-src 'unsafe-inline'; style-src "
                            "'unsafe-inline'; img-src data:; connect-src 'self'; "
                            "frame-ancestors 'none'");
    if (disposition)
        MHD_add_response_header(r, "Content-Disposition", disposition);
    enum MHD_Result ret = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return ret;
}

static enum MHD_Result send_text(struct MHD_Connection *c, unsigned status, const char *text)
{
    return send_buf(c, status, "text/plain; charset=utf-8", (char *)text, strlen(text), false,
                    NULL);
}

static enum MHD_Result send_json(struct MHD_Connection *c, prof_buf *b, const char *disposition)
{
    size_t len = 0;
    char *text = prof_buf_take(b, &len);
    if (!text)
        return send_text(c, 500, "out of memory\n");
    return send_buf(c, 200, "application/json", text, len, true, disposition);
}

/* Constant-time comparison of the given token with the required one. */
static bool token_ok(const prof_viewer *v, const char *given)
{
    if (!v->token[0])
        return true;
    if (!given)
        return false;
    size_t a = strlen(given), b = strlen(v->token);
    unsigned diff = (unsigned)(a ^ b);
    for (size_t i = 0; i < b; i++)
        diff |=
            (unsigned)(unsigned char)v->token[i] ^ (unsigned)(unsigned char)(i < a ? given[i] : 0);
    return diff == 0;
}

static const char *bearer(struct MHD_Connection *c)
{
    const char *h = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization");
    if (h && strncasecmp(h, "Bearer ", 7) == 0)
        return h + 7;
    return MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "token");
}

/* Without remote access the Host header must name a loopback host, so that a web page on
 * another origin cannot reach the viewer through DNS rebinding. */
static bool host_ok(struct MHD_Connection *c)
{
    const char *h = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Host");
    if (!h)
        return true; /* HTTP/1.0 clients */
    size_t n = strlen(h);
    const char *colon = h[0] == '[' ? strchr(h, ']') : strrchr(h, ':');
    if (colon && h[0] == '[')
        n = (size_t)(colon - h) + 1;
    else if (colon)
        n = (size_t)(colon - h);
    static const char *const ok[] = {"localhost", "[::1]"};
    for (size_t i = 0; i < 2; i++)
        if (strlen(ok[i]) == n && strncasecmp(h, ok[i], n) == 0)
            return true;
    return n > 4 && strncmp(h, "127.", 4) == 0;
}

static bool parse_id(const char *s, uint64_t *id)
{
    if (!s || !*s)
        return false;
    uint64_t v = 0;
    for (; *s; s++) {
        if (*s < '0' || *s > '9' || v > UINT64_MAX / 10)
            return false;
        v = v * 10 + (uint64_t)(*s - '0');
    }
    *id = v;
    return true;
}

static enum MHD_Result export(struct MHD_Connection *c, prof_viewer *v, bool chrome) {
    const char *ids = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "id");
    prof_req **list = NULL; size_t n = 0; uint64_t id = 0;
    if (ids){if (!parse_id(ids, &id)) return send_text(c, 400, "id: expected a request number\n");
             prof_req *r = prof_recorder_find(v->rec, id);
             if (!r) return send_text(c, 404, "no such request (it may have left the ring)\n");
             list = malloc(sizeof *list);
             if (!list){prof_req_release(r); return send_text(c, 500, "out of memory\n");}
list[0] = r;
n = 1;
}
else
{
    n = prof_recorder_list(v->rec, &list);
}
prof_buf b;
prof_buf_init(&b);
if (chrome)
    prof_export_chrome(&b, prof_recorder_secrets(v->rec), list, n);
else
    prof_export_speedscope(&b, prof_recorder_secrets(v->rec), list, n);
for (size_t i = 0; i < n; i++)
    prof_req_release(list[i]);
free(list);
char disp[128];
snprintf(disp, sizeof disp, "attachment; filename=\"fastlike-%s%s%s.json\"", ids ? ids : "all",
         chrome ? ".trace" : "", chrome ? "" : ".speedscope");
return send_json(c, &b, disp);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **con_cls)
{
    prof_viewer *v = cls;
    (void)version, (void)upload_data;
    if (*upload_data_size) { /* a read-only server: bodies are ignored */
        *upload_data_size = 0;
        return MHD_YES;
    }
    (void)con_cls;
    if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
        return send_text(c, 405, "the profiler viewer is read-only (GET only)\n");
    if (!v->remote && !host_ok(c))
        return send_text(c, 403, "forbidden: the viewer answers loopback host names only\n");
    if (!token_ok(v, bearer(c)))
        return send_text(c, 401,
                         "unauthorized: open the viewer with ?token=TOKEN (printed at start) or "
                         "send Authorization: Bearer TOKEN\n");
    if (strcmp(url, "/favicon.ico") == 0) /* browsers ask; a 404 would be a console error */
        return send_buf(c, 204, "image/x-icon", (char *)"", 0, false, NULL);
    prof_asset a;
    if (prof_asset_find(url, &a))
        return send_buf(c, 200, a.content_type, (char *)a.data, a.len, false, NULL);
    prof_buf b;
    prof_buf_init(&b);
    if (strcmp(url, "/api/requests") == 0) {
        const char *sort = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "sort");
        const char *lim = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "limit");
        uint64_t limit = 0;
        if (lim && !parse_id(lim, &limit))
            return send_text(c, 400, "limit: expected a number\n");
        prof_filter f = {
            .path = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "path"),
            .status = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "status"),
            .slowest = sort && strcmp(sort, "slowest") == 0,
            .limit = (size_t)limit,
        };
        prof_api_list(&b, v->rec, &f);
        return send_json(c, &b, NULL);
    }
    if (strncmp(url, "/api/requests/", 14) == 0) {
        uint64_t id;
        if (!parse_id(url + 14, &id))
            return send_text(c, 400, "expected /api/requests/NUMBER\n");
        prof_req *r = prof_recorder_find(v->rec, id);
        if (!r)
            return send_text(c, 404, "no such request (it may have left the ring)\n");
        prof_api_request(&b, v->rec, r);
        prof_req_release(r);
        return send_json(c, &b, NULL);
    }
    if (strcmp(url, "/api/aggregate") == 0) {
        prof_api_aggregate(&b, v->rec);
        return send_json(c, &b, NULL);
    }
    if (strcmp(url, "/api/export/chrome") == 0)
        return export(c, v, true);
    if (strcmp(url, "/api/export/speedscope") == 0)
        return export(c, v, false);
    if (strcmp(url, "/api/export/firefox") == 0) { /* one request: a profile is per request */
        const char *ids = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "id");
        uint64_t id;
        if (!parse_id(ids, &id))
            return send_text(c, 400, "id: expected a request number\n");
        prof_req *r = prof_recorder_find(v->rec, id);
        if (!r)
            return send_text(c, 404, "no such request (it may have left the ring)\n");
        prof_firefox_profile(&b, r);
        prof_req_release(r);
        char disp[96];
        snprintf(disp, sizeof disp, "attachment; filename=\"fastlike-%s.firefox.json\"", ids);
        return send_json(c, &b, disp);
    }
    return send_text(c, 404, "not found\n");
}

static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
    (void)cls, (void)fmt, (void)ap; /* client errors are not worth a line in the server log */
}

prof_viewer *prof_viewer_start(const prof_viewer_config *cfg, char *err, size_t errlen)
{
    prof_viewer *v = calloc(1, sizeof *v);
    if (!v) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    v->rec = cfg->rec;
    v->remote = cfg->allow_remote;
    if (cfg->allow_remote) {
        if (cfg->token && cfg->token[0]) {
            snprintf(v->token, sizeof v->token, "%s", cfg->token);
        } else {
            char id[33];
            util_random_hex_id(id);
            snprintf(v->token, sizeof v->token, "%s", id);
        }
    }
    int fd = open_listener(cfg, err, errlen);
    if (fd < 0) {
        free(v);
        return NULL;
    }
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    if (getsockname(fd, (struct sockaddr *)&ss, &sl) == 0)
        v->port = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
                                                 : ((struct sockaddr_in *)&ss)->sin_port);
    v->daemon = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL | MHD_USE_ERROR_LOG,
                                 0, NULL, NULL, on_request, v, MHD_OPTION_EXTERNAL_LOGGER,
                                 on_mhd_log, NULL, MHD_OPTION_LISTEN_SOCKET, fd,
                                 MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)60,
                                 MHD_OPTION_CONNECTION_LIMIT, (unsigned int)64, MHD_OPTION_END);
    if (!v->daemon) {
        close(fd);
        free(v);
        snprintf(err, errlen, "-profile-ui %s: cannot start the viewer's listener", cfg->bind);
        return NULL;
    }
    return v;
}

void prof_viewer_stop(prof_viewer *v)
{
    if (!v)
        return;
    MHD_stop_daemon(v->daemon);
    free(v);
}

uint16_t prof_viewer_port(const prof_viewer *v)
{
    return v->port;
}

const char *prof_viewer_token(const prof_viewer *v)
{
    return v->token[0] ? v->token : NULL;
}
