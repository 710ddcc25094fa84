/* be_transfer_request.c: the outgoing request on a transfer's libcurl easy handle: the URL (the
 * backend's scheme, host, port and path prefix before the guest's path), the header list (Host
 * as Viceroy, cdn-loop appended, hop-by-hop and framing headers left to libcurl), the method and
 * body framing, timeouts, HTTP version and connection pooling options. */
#include "backend/be_transfer_internal.h"
#include "backend/be_cdn_loop.h"
#include "backend/be_loop.h"
#include "util/util_str.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Splits the guest URL into authority (may be empty) and path+query (at least "/"). */
static void split_url(const char *url, const char **auth, size_t *auth_len, const char **path)
{
    *auth = url;
    *auth_len = 0;
    *path = url;
    const char *sep = strstr(url, "://");
    const char *q = strpbrk(url, "/?");
    if (sep && (!q || q > sep)) {
        const char *a = sep + 3;
        size_t n = strcspn(a, "/?#");
        *auth = a;
        *auth_len = n;
        *path = a + n;
    }
}

bool be_transfer_slist_add(struct curl_slist **l, const char *line)
{
    struct curl_slist *n = curl_slist_append(*l, line);
    if (!n)
        return false;
    *l = n;
    return true;
}

/* Adds "name: value" (or "name;" for an empty value, libcurl's syntax for that). */
static bool slist_header(struct curl_slist **l, const char *name, size_t nl, const char *value,
                         size_t vl)
{
    char small[512];
    size_t need = nl + vl + 3;
    char *line = need <= sizeof small ? small : malloc(need);
    if (!line)
        return false;
    memcpy(line, name, nl);
    if (vl == 0) {
        line[nl] = ';';
        line[nl + 1] = '\0';
    } else {
        line[nl] = ':';
        line[nl + 1] = ' ';
        memcpy(line + nl + 2, value, vl);
        line[nl + 2 + vl] = '\0';
    }
    bool ok = be_transfer_slist_add(l, line);
    if (line != small)
        free(line);
    return ok;
}

static bool is_hop_or_framing(const char *n, size_t len)
{
    static const char *const names[] = {
        "host",       "content-length",   "transfer-encoding", "connection",
        "keep-alive", "proxy-connection", "upgrade",           "te",
        "cdn-loop"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (util_str_eq_ci(n, len, names[i]))
            return true;
    return false;
}

static bool has_header(const be_request *req, const char *name)
{
    for (size_t i = 0; i < req->nheaders; i++)
        if (util_str_eq_ci(req->headers[i].name, req->headers[i].name_len, name))
            return true;
    return false;
}

/* Builds the header list: the guest's headers minus the ones we redo, Host, cdn-loop, and
 * blanks that stop libcurl adding its own defaults. */
static bool build_headers(be_transfer *t, const be_backend *b, const be_request *req,
                          const char *auth, size_t auth_len)
{
    struct curl_slist **l = &t->req_headers;
    /* Host: the override, else the guest's Host header, else the URL's authority, else the
     * backend's host (Viceroy's canonical_host_header) */
    const char *host = NULL;
    size_t host_len = 0;
    char host_buf[300];
    if (b->override_host) {
        host = b->override_host;
        host_len = strlen(host);
    } else {
        for (size_t i = 0; i < req->nheaders && !host; i++) {
            if (util_str_eq_ci(req->headers[i].name, req->headers[i].name_len, "host")) {
                host = req->headers[i].value;
                host_len = req->headers[i].value_len;
            }
        }
        if (!host && auth_len) {
            host = auth;
            host_len = auth_len;
        }
        if (!host) {
            bool v6 = strchr(b->host, ':') != NULL;
            bool default_port = b->port == (b->tls ? 443 : 80);
            int w = default_port ? snprintf(host_buf, sizeof host_buf, v6 ? "[%s]" : "%s", b->host)
                                 : snprintf(host_buf, sizeof host_buf, v6 ? "[%s]:%u" : "%s:%u",
                                            b->host, b->port);
            if (w < 0 || (size_t)w >= sizeof host_buf)
                return false;
            host = host_buf;
            host_len = (size_t)w;
        }
    }
    if (!slist_header(l, "Host", 4, host, host_len))
        return false;
    /* cdn-loop: the guest's values, then ours: once, or as often as needed to count every pass
     * of the downstream request plus this one when the guest did not copy its cdn-loop */
    size_t loop_len = 0, have = 0;
    for (size_t i = 0; i < req->nheaders; i++)
        if (util_str_eq_ci(req->headers[i].name, req->headers[i].name_len, "cdn-loop")) {
            loop_len += req->headers[i].value_len + 2;
            have += be_cdn_loop_count(req->headers[i].value, req->headers[i].value_len);
        }
    size_t ours = have < req->loop_passes + 1 ? req->loop_passes + 1 - have : 1;
    if (ours > 64)
        ours = 64; /* far past the server's bound; keeps the header small */
    char *loop_value = malloc(loop_len + ours * 10);
    if (!loop_value)
        return false;
    size_t o = 0;
    for (size_t i = 0; i < req->nheaders; i++) {
        const be_header *h = &req->headers[i];
        if (!util_str_eq_ci(h->name, h->name_len, "cdn-loop") || h->value_len == 0)
            continue;
        memcpy(loop_value + o, h->value, h->value_len);
        o += h->value_len;
        loop_value[o++] = ',';
        loop_value[o++] = ' ';
    }
    for (size_t k = 0; k < ours; k++) {
        if (k) {
            loop_value[o++] = ',';
            loop_value[o++] = ' ';
        }
        memcpy(loop_value + o, BE_CDN_LOOP_TOKEN, 8);
        o += 8;
    }
    bool ok = slist_header(l, "cdn-loop", 8, loop_value, o);
    free(loop_value);
    if (!ok)
        return false;
    for (size_t i = 0; i < req->nheaders; i++) {
        const be_header *h = &req->headers[i];
        if (is_hop_or_framing(h->name, h->name_len))
            continue;
        if (!slist_header(l, h->name, h->name_len, h->value, h->value_len))
            return false;
    }
    /* libcurl's own defaults that a guest request would not carry */
    if (!has_header(req, "accept") && !be_transfer_slist_add(l, "Accept:"))
        return false;
    if (!has_header(req, "expect") && !be_transfer_slist_add(l, "Expect:"))
        return false;
    return true;
}

static bool no_payload_method(const char *m)
{
    return strcmp(m, "GET") == 0 || strcmp(m, "HEAD") == 0 || strcmp(m, "DELETE") == 0 ||
           strcmp(m, "CONNECT") == 0 || strcmp(m, "TRACE") == 0;
}

bool be_transfer_setup(be_transfer *t, const be_backend *b, const be_request *req)
{
    CURL *e = t->easy;
    const char *auth, *path;
    size_t auth_len;
    split_url(req->url, &auth, &auth_len, &path);
    if (!build_headers(t, b, req, auth, auth_len))
        return false;
    /* the URL names the host TLS verifies (be_transfer_tls.c); CONNECT_TO sends the connection to
     * the backend's address when that differs */
    char url_host_buf[300];
    const char *url_host = be_transfer_tls_url_host(t, b, url_host_buf, sizeof url_host_buf);
    if (!url_host)
        return false;
    bool v6 = strchr(url_host, ':') != NULL;
    const char *prefix = b->path_prefix ? b->path_prefix : "";
    size_t plen = strlen(prefix);
    while (plen > 0 && prefix[plen - 1] == '/')
        plen--;
    size_t need = strlen(url_host) + plen + strlen(path) + 32;
    char *url = malloc(need);
    if (!url)
        return false;
    snprintf(url, need, "%s://%s%s%s:%u%.*s%s%s", b->tls ? "https" : "http", v6 ? "[" : "",
             url_host, v6 ? "]" : "", b->port, (int)plen, prefix, path[0] == '/' ? "" : "/", path);
    be_loop_log(t->loop, t->verbose ? 0 : 2, "backend request URL %s", url);
    CURLcode rc = curl_easy_setopt(e, CURLOPT_URL, url);
    free(url);
    if (rc != CURLE_OK)
        return false;
    if (strcmp(url_host, b->host) != 0) {
        bool bv6 = strchr(b->host, ':') != NULL;
        char line[600];
        int w = snprintf(line, sizeof line, "%s%s%s:%u:%s%s%s:%u", v6 ? "[" : "", url_host,
                         v6 ? "]" : "", b->port, bv6 ? "[" : "", b->host, bv6 ? "]" : "", b->port);
        if (w < 0 || (size_t)w >= sizeof line || !be_transfer_slist_add(&t->connect_to, line))
            return false;
        BE_SET(CURLOPT_CONNECT_TO, t->connect_to);
    }
    BE_SET(CURLOPT_PRIVATE, t);
    BE_SET(CURLOPT_ERRORBUFFER, t->errbuf);
    BE_SET(CURLOPT_NOSIGNAL, 1L);
    BE_SET(CURLOPT_PATH_AS_IS, 1L);
    BE_SET(CURLOPT_HTTPHEADER, t->req_headers);
    BE_SET(CURLOPT_HEADERFUNCTION, be_transfer_on_header);
    BE_SET(CURLOPT_HEADERDATA, t);
    BE_SET(CURLOPT_WRITEFUNCTION, be_transfer_on_write);
    BE_SET(CURLOPT_WRITEDATA, t);
    BE_SET(CURLOPT_BUFFERSIZE, BE_CURL_BUF);
    BE_SET(CURLOPT_UPLOAD_BUFFERSIZE, BE_CURL_BUF);
    BE_SET(CURLOPT_SUPPRESS_CONNECT_HEADERS, 1L);
    if (strcmp(req->method, "HEAD") == 0) {
        t->is_head = true;
        BE_SET(CURLOPT_NOBODY, 1L);
    } else {
        BE_SET(CURLOPT_CUSTOMREQUEST, req->method);
    }
    bool send_body = req->has_body && (req->body_length != 0 || !no_payload_method(req->method));
    if (send_body) {
        BE_SET(CURLOPT_UPLOAD, 1L);
        BE_SET(CURLOPT_READFUNCTION, be_transfer_on_read);
        BE_SET(CURLOPT_READDATA, t);
        BE_SET(CURLOPT_INFILESIZE_LARGE, (curl_off_t)req->body_length);
        if (req->body_length < 0) {
            BE_SET(CURLOPT_TRAILERFUNCTION, be_transfer_on_trailers);
            BE_SET(CURLOPT_TRAILERDATA, t);
        }
        if (strcmp(req->method, "HEAD") == 0)
            BE_SET(CURLOPT_CUSTOMREQUEST, "HEAD");
    }
    t->has_body = send_body;
    if (b->connect_timeout_ms)
        BE_SET(CURLOPT_CONNECTTIMEOUT_MS, (long)b->connect_timeout_ms);
    if (req->timeout_ms)
        BE_SET(CURLOPT_TIMEOUT_MS, (long)req->timeout_ms);
    t->discard = req->discard_body;
    t->fbt_ms = b->first_byte_timeout_ms;
    t->bbt_ms = b->between_bytes_timeout_ms;
    if (b->grpc)
        BE_SET(CURLOPT_HTTP_VERSION,
               b->tls ? (long)CURL_HTTP_VERSION_2_0 : (long)CURL_HTTP_VERSION_2_PRIOR_KNOWLEDGE);
    else
        BE_SET(CURLOPT_HTTP_VERSION,
               b->tls ? (long)CURL_HTTP_VERSION_2TLS : (long)CURL_HTTP_VERSION_1_1);
    if (b->tls && !be_transfer_tls_options(t, b))
        goto fail;
    if (b->dont_pool) {
        BE_SET(CURLOPT_FORBID_REUSE, 1L);
        BE_SET(CURLOPT_FRESH_CONNECT, 1L);
    }
    if (b->http_keepalive_ms)
        BE_SET(CURLOPT_MAXAGE_CONN, (long)((b->http_keepalive_ms + 999) / 1000));
    if (b->max_lifetime_ms)
        BE_SET(CURLOPT_MAXLIFETIME_CONN, (long)((b->max_lifetime_ms + 999) / 1000));
    if (b->tcp_keepalive) {
        BE_SET(CURLOPT_TCP_KEEPALIVE, 1L);
        if (b->tcp_keepalive_time_s)
            BE_SET(CURLOPT_TCP_KEEPIDLE, (long)b->tcp_keepalive_time_s);
        if (b->tcp_keepalive_interval_s)
            BE_SET(CURLOPT_TCP_KEEPINTVL, (long)b->tcp_keepalive_interval_s);
    }
    /* decoded here (be_transfer_on_write), not by libcurl: its decoder would undo every encoding it
     * knows and add an Accept-Encoding, where Viceroy decodes gzip only and adds nothing */
    t->decompress = req->decompress_gzip;
    return true;
fail:
    return false;
}
