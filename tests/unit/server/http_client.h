/* http_client.h: a small raw-socket HTTP/1.1 client for the server tests (header-only), so the
 * tests see the exact framing on the wire: status line, headers, Content-Length or chunked bodies,
 * interim 100 responses, and whether the connection stays usable. Bodies can be kept or only
 * counted and checked against the test guest's generated pattern. */
#ifndef SRV_TEST_HTTP_CLIENT_H
#define SRV_TEST_HTTP_CLIENT_H

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

typedef struct hc_conn {
    int fd;
    char buf[65536];
    size_t len, off;
} hc_conn;

typedef struct hc_resp {
    int status;
    char head[16384]; /* status line and headers, NUL-terminated */
    bool chunked, has_length, complete;
    long long length;  /* Content-Length value */
    uint8_t *body;     /* kept when asked (NUL-terminated) */
    size_t body_len;   /* bytes received */
    char pattern_base; /* 0: no check; else body must be base + i % 26 */
    bool pattern_ok;
} hc_resp;

static inline int hc_connect(hc_conn *c, uint16_t port)
{
    memset(c, 0, sizeof *c);
    c->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (c->fd < 0)
        return -1;
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
    inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
    if (connect(c->fd, (struct sockaddr *)&a, sizeof a) != 0) {
        close(c->fd);
        c->fd = -1;
        return -1;
    }
    int one = 1;
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    struct timeval tv = {.tv_sec = 60};
    setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    return 0;
}

static inline void hc_close(hc_conn *c)
{
    if (c->fd >= 0)
        close(c->fd);
    c->fd = -1;
}

static inline int hc_send(hc_conn *c, const void *data, size_t len)
{
    const char *p = data;
    while (len > 0) {
        ssize_t n = send(c->fd, p, len, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

static inline int hc_sends(hc_conn *c, const char *s)
{
    return hc_send(c, s, strlen(s));
}

/* Refills the buffer when empty; returns bytes available, 0 at EOF, -1 on error. */
static inline long hc_fill(hc_conn *c)
{
    if (c->off < c->len)
        return (long)(c->len - c->off);
    c->off = c->len = 0;
    ssize_t n;
    do
        n = recv(c->fd, c->buf, sizeof c->buf, 0);
    while (n < 0 && errno == EINTR);
    if (n <= 0)
        return n == 0 ? 0 : -1;
    c->len = (size_t)n;
    return n;
}

static inline int hc_getc(hc_conn *c)
{
    if (hc_fill(c) <= 0)
        return -1;
    return (unsigned char)c->buf[c->off++];
}

/* Reads one CRLF-terminated line without the CRLF. */
static inline int hc_line(hc_conn *c, char *out, size_t max)
{
    size_t n = 0;
    for (;;) {
        int ch = hc_getc(c);
        if (ch < 0)
            return -1;
        if (ch == '\n')
            break;
        if (n + 1 < max)
            out[n++] = (char)ch;
    }
    if (n > 0 && out[n - 1] == '\r')
        n--;
    out[n] = '\0';
    return (int)n;
}

static inline void hc_body_bytes(hc_resp *r, const uint8_t *p, size_t n, bool keep)
{
    if (keep) {
        uint8_t *grown = realloc(r->body, r->body_len + n + 1);
        if (!grown)
            return;
        r->body = grown;
        memcpy(r->body + r->body_len, p, n);
        r->body[r->body_len + n] = 0;
    }
    if (r->pattern_base)
        for (size_t i = 0; i < n; i++)
            if (p[i] != (uint8_t)(r->pattern_base + (r->body_len + i) % 65536 % 26))
                r->pattern_ok = false;
    r->body_len += n;
}

/* Reads exactly n body bytes (n < 0: until EOF). Returns 0, or -1 when the stream ended early. */
static inline int hc_body_n(hc_conn *c, hc_resp *r, long long n, bool keep)
{
    while (n != 0) {
        long avail = hc_fill(c);
        if (avail <= 0)
            return n < 0 ? 0 : -1;
        size_t take = (size_t)avail;
        if (n > 0 && (long long)take > n)
            take = (size_t)n;
        hc_body_bytes(r, (const uint8_t *)c->buf + c->off, take, keep);
        c->off += take;
        if (n > 0)
            n -= (long long)take;
    }
    return 0;
}

/* The value of a response header (first one), copied into a per-thread buffer; NULL if absent. */
static inline const char *hc_header(const hc_resp *r, const char *name)
{
    static __thread char value[1024];
    size_t n = strlen(name);
    for (const char *p = strchr(r->head, '\n'); p; p = strchr(p + 1, '\n'))
        if (strncasecmp(p + 1, name, n) == 0 && p[1 + n] == ':') {
            const char *v = p + 2 + n;
            while (*v == ' ')
                v++;
            size_t len = strcspn(v, "\n");
            if (len >= sizeof value)
                len = sizeof value - 1;
            memcpy(value, v, len);
            value[len] = '\0';
            return value;
        }
    return NULL;
}

/* Reads one final response (skipping 1xx unless stop_at_interim). head_request: no body follows. */
static inline int hc_read(hc_conn *c, hc_resp *r, bool head_request, bool keep,
                          bool stop_at_interim)
{
    char pattern = r->pattern_base;
    free(r->body);
    memset(r, 0, sizeof *r);
    r->pattern_base = pattern;
    r->pattern_ok = true;
    for (;;) {
        size_t used = 0;
        char line[8192];
        int n = hc_line(c, line, sizeof line);
        if (n < 0 || sscanf(line, "HTTP/1.%*d %d", &r->status) != 1)
            return -1;
        used = (size_t)snprintf(r->head, sizeof r->head, "%s\n", line);
        while ((n = hc_line(c, line, sizeof line)) > 0)
            if (used < sizeof r->head)
                used += (size_t)snprintf(r->head + used, sizeof r->head - used, "%s\n", line);
        if (n < 0)
            return -1;
        if (r->status >= 200 || stop_at_interim)
            break;
    }
    if (r->status < 200)
        return 0;
    const char *te = hc_header(r, "transfer-encoding");
    const char *cl = hc_header(r, "content-length");
    r->chunked = te && strncasecmp(te, "chunked", 7) == 0;
    if (cl) {
        r->has_length = true;
        r->length = strtoll(cl, NULL, 10);
    }
    if (head_request || r->status == 204 || r->status == 304) {
        r->complete = true;
        return 0;
    }
    if (r->chunked) {
        for (;;) {
            char line[256];
            if (hc_line(c, line, sizeof line) < 0)
                return -1;
            long long size = strtoll(line, NULL, 16);
            if (size == 0) {
                while (hc_line(c, line, sizeof line) > 0) {
                } /* trailers */
                break;
            }
            if (hc_body_n(c, r, size, keep) != 0 || hc_line(c, line, sizeof line) != 0)
                return -1;
        }
        r->complete = true;
        return 0;
    }
    if (r->has_length) {
        if (hc_body_n(c, r, r->length, keep) != 0)
            return -1;
        r->complete = true;
        return 0;
    }
    hc_body_n(c, r, -1, keep);
    r->complete = true;
    return 0;
}

static inline void hc_resp_free(hc_resp *r)
{
    free(r->body);
    r->body = NULL;
}

#endif
