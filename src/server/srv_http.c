/* srv_http.c: the HTTP/1.1 front end. Worker threads share one epoll set ("leader/followers"):
 * a worker that gets a readable connection (one-shot) owns it until it is idle again: it parses
 * the head (srv_http_parse.c), reads a small body ahead, runs the guest on its own thread,
 * writes the response straight to the socket, and goes on with a pipelined request or re-arms
 * the connection. No request crosses threads on the way, idle keep-alive connections cost a
 * small struct and no thread, and when every worker is busy (guests waiting on backends) the
 * pool grows, so slow requests do not hold up fast ones. A sweeper closes idle connections. A
 * request may also go to an instance waiting in next_request (srv_request_offer): the
 * connection then belongs to that request until its done() callback. */
#include "server/srv_http.h"
#include "server/srv_config.h"
#include "server/srv_http_parse.h"
#include "server/srv_relay.h"
#include "server/srv_request.h"
#include "util/util_clock.h"
#include "util/util_grow.h"

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define HEAD_MAX (64 * 1024)       /* request line and fields */
#define PREREAD_MAX (64 * 1024)    /* bodies up to this size are read before the guest runs */
#define OUT_CAP (16 * 1024)        /* response bytes gathered before a send */
#define IO_TIMEOUT_MS (120 * 1000) /* a client that neither sends nor reads for this long */
#define IDLE_TIMEOUT_NS (120ull * 1000 * 1000 * 1000)
#define MAX_WORKERS 512
#ifndef WORKERS_PER_CPU
#define WORKERS_PER_CPU 4
#endif
#ifndef MIN_WORKERS
#define MIN_WORKERS 8
#endif
#define TICK_MS 20                       /* how often the housekeeper looks */
#define BLOCKED_NS (50ull * 1000 * 1000) /* a worker busy this long is probably waiting */

typedef struct conn conn;
typedef struct http_req http_req;

/* A worker's state for the growth check: the time it took its current piece of work, or 0. */
typedef struct worker_slot {
    struct srv_http *h;
    _Atomic uint64_t busy_since;
    _Atomic int tid; /* the worker thread's id, for its state in /proc */
} worker_slot;

struct srv_http {
    int listen_fd, epfd, stop_efd, ready_efd;
    srv_live *live; /* the guest now serving (hot reload swaps it) */
    const srv_log *log;
    uint16_t port;
    pthread_mutex_t lock; /* everything below */
    pthread_cond_t changed;
    conn *idle;                    /* connections armed in epoll, for the sweeper */
    conn *ready_head, *ready_tail; /* connections to serve without waiting for input */
    size_t nconns;
    size_t nthreads;
    size_t ncpu;
    pthread_t *threads;
    struct worker_slot *slots; /* one per possible worker: since when it is busy */
    _Atomic bool stopping;     /* also read without the lock, by workers finishing a request */
    bool exiting;
    pthread_t sweeper;
    char markers[3];    /* addresses telling the listener, stop and ready events apart */
    srv_relays *relays; /* connections the guest handed over (Fanout, WebSocket) */
};

struct conn {
    srv_http *srv;
    int fd;
    conn *prev, *next; /* idle list or ready queue */
    bool idle;
    bool swept;
    uint64_t since_ns;
    struct sockaddr_storage peer, local;
    char *in; /* received bytes [in_off, in_len) not consumed yet */
    size_t in_off, in_len, in_cap;
    http_req *req;    /* the request being read or served, or NULL */
    bool close_after; /* no further request on this connection */
    bool run_pending; /* req was given back by a waiting instance: run it */
};

enum body_mode { BODY_NONE, BODY_LENGTH, BODY_CHUNKED };

struct http_req {
    conn *c;
    char *strings; /* method, target, url and the header fields, NUL-terminated each */
    hc_header_view *headers;
    size_t nheaders;
    hc_downstream_request dreq;
    bool keep_alive, expect_continue, continue_sent;
    /* the request body */
    enum body_mode body_mode;
    uint64_t body_left; /* BODY_LENGTH: bytes still on the wire */
    srv_chunked ck;
    bool body_done, body_error;
    uint8_t *pre; /* body bytes read ahead, [pre_off, pre_len) not given to the guest yet */
    size_t pre_off, pre_len, pre_cap;
    /* the response */
    bool is_head, head_sent, no_body, chunked_out, broken, finished;
    bool te_trailers; /* the request's TE lists "trailers": trailer fields may follow the body */
    char *trailer_section; /* formatted trailer fields ("name: value\r\n"...), or NULL */
    size_t trailer_len;
    int64_t resp_cl;
    uint64_t resp_written;
    char *out;
    size_t out_len;
    srv_sink sink;
    srv_handoff handoff;
    hc_handoff *fanout; /* the guest handed the connection over: relay it, do not respond */
    bool read_past_pre; /* the guest read body bytes that were not read ahead */
};

/* ---- socket I/O on a non-blocking socket, waiting with poll ---- */

static int wait_fd(int fd, short events)
{
    struct pollfd p = {.fd = fd, .events = events};
    for (;;) {
        int n = poll(&p, 1, IO_TIMEOUT_MS);
        if (n > 0)
            return 0;
        if (n == 0)
            return -1; /* timed out */
        if (errno != EINTR)
            return -1;
    }
}

static int send_all(int fd, const void *data, size_t len)
{
    const char *p = data;
    while (len > 0) {
        ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
        if (n > 0) {
            p += n;
            len -= (size_t)n;
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) && wait_fd(fd, POLLOUT) == 0)
            continue;
        return -1;
    }
    return 0;
}

/* Reads what is available into the input buffer (compacting it first). Returns bytes read,
 * 0 at the end of the stream, -1 on an error, -2 when nothing is available now. */
static long fill_nowait(conn *c)
{
    if (c->in_off > 0 && c->in_off == c->in_len)
        c->in_off = c->in_len = 0;
    if (c->in_len == c->in_cap && c->in_off > 0) {
        memmove(c->in, c->in + c->in_off, c->in_len - c->in_off);
        c->in_len -= c->in_off;
        c->in_off = 0;
    }
    if (c->in_len == c->in_cap) {
        size_t cap = c->in_cap ? c->in_cap * 2 : 4096;
        if (cap > HEAD_MAX + 4096)
            cap = HEAD_MAX + 4096;
        if (cap == c->in_cap)
            return -1; /* full: the caller decides */
        char *grown = realloc(c->in, cap);
        if (!grown)
            return -1;
        c->in = grown;
        c->in_cap = cap;
    }
    for (;;) {
        ssize_t n = recv(c->fd, c->in + c->in_len, c->in_cap - c->in_len, 0);
        if (n > 0) {
            c->in_len += (size_t)n;
            return n;
        }
        if (n == 0)
            return 0;
        if (errno == EINTR)
            continue;
        return errno == EAGAIN || errno == EWOULDBLOCK ? -2 : -1;
    }
}

/* Blocks (up to the I/O timeout) until some input is buffered. Returns 0, or -1 at the end of
 * the stream, on an error or a timeout. */
static int fill_wait(conn *c)
{
    for (;;) {
        long n = fill_nowait(c);
        if (n > 0)
            return 0;
        if (n != -2 || wait_fd(c->fd, POLLIN) != 0)
            return -1;
    }
}

/* ---- the response, written straight to the socket ---- */

static const char *reason_phrase(unsigned status)
{
    static const struct {
        unsigned code;
        const char *text;
    } phrases[] = {
        {100, "Continue"},
        {101, "Switching Protocols"},
        {103, "Early Hints"},
        {200, "OK"},
        {201, "Created"},
        {202, "Accepted"},
        {203, "Non-Authoritative Information"},
        {204, "No Content"},
        {205, "Reset Content"},
        {206, "Partial Content"},
        {300, "Multiple Choices"},
        {301, "Moved Permanently"},
        {302, "Found"},
        {303, "See Other"},
        {304, "Not Modified"},
        {307, "Temporary Redirect"},
        {308, "Permanent Redirect"},
        {400, "Bad Request"},
        {401, "Unauthorized"},
        {402, "Payment Required"},
        {403, "Forbidden"},
        {404, "Not Found"},
        {405, "Method Not Allowed"},
        {406, "Not Acceptable"},
        {407, "Proxy Authentication Required"},
        {408, "Request Timeout"},
        {409, "Conflict"},
        {410, "Gone"},
        {411, "Length Required"},
        {412, "Precondition Failed"},
        {413, "Content Too Large"},
        {414, "URI Too Long"},
        {415, "Unsupported Media Type"},
        {416, "Range Not Satisfiable"},
        {417, "Expectation Failed"},
        {418, "I'm a teapot"},
        {421, "Misdirected Request"},
        {422, "Unprocessable Content"},
        {425, "Too Early"},
        {426, "Upgrade Required"},
        {428, "Precondition Required"},
        {429, "Too Many Requests"},
        {431, "Request Header Fields Too Large"},
        {451, "Unavailable For Legal Reasons"},
        {500, "Internal Server Error"},
        {501, "Not Implemented"},
        {502, "Bad Gateway"},
        {503, "Service Unavailable"},
        {504, "Gateway Timeout"},
        {505, "HTTP Version Not Supported"},
        {507, "Insufficient Storage"},
        {508, "Loop Detected"},
        {511, "Network Authentication Required"},
    };
    for (size_t i = 0; i < sizeof phrases / sizeof phrases[0]; i++)
        if (phrases[i].code == status)
            return phrases[i].text;
    return "Unknown";
}

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
 * hyper honours in Viceroy. */
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

/* Appends to the response buffer, sending what it holds first when the bytes do not fit. */
static int out_append(http_req *r, const void *data, size_t len)
{
    if (r->broken)
        return -1;
    if (r->out_len + len > OUT_CAP && r->out_len > 0) {
        if (send_all(r->c->fd, r->out, r->out_len) != 0) {
            r->broken = true;
            return -1;
        }
        r->out_len = 0;
    }
    if (len > OUT_CAP) {
        if (send_all(r->c->fd, data, len) != 0) {
            r->broken = true;
            return -1;
        }
        return 0;
    }
    memcpy(r->out + r->out_len, data, len);
    r->out_len += len;
    return 0;
}

static int out_flush(http_req *r)
{
    if (r->broken)
        return -1;
    if (r->out_len > 0 && send_all(r->c->fd, r->out, r->out_len) != 0) {
        r->broken = true;
        return -1;
    }
    r->out_len = 0;
    return 0;
}

/* The Date field's value for now. Formatted once a second per thread (a cache, not shared
 * state: each worker keeps its own copy). */
static void http_date(char *buf, size_t len)
{
    static _Thread_local time_t formatted_at = (time_t)-1;
    static _Thread_local char formatted[64];
    time_t now = time(NULL);
    if (now != formatted_at) {
        struct tm tm;
        gmtime_r(&now, &tm);
        strftime(formatted, sizeof formatted, "%a, %d %b %Y %H:%M:%S GMT", &tm);
        formatted_at = now;
    }
    size_t n = strlen(formatted);
    if (n >= len)
        n = len - 1;
    memcpy(buf, formatted, n);
    buf[n] = '\0';
}

/* Appends the decimal digits of v. */
static int out_uint(http_req *r, uint64_t v)
{
    char digits[24];
    size_t i = sizeof digits;
    do {
        digits[--i] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    return out_append(r, digits + i, sizeof digits - i);
}

/* Appends a status line: "HTTP/1.x CODE PHRASE\r\n". */
static void out_status_line(http_req *r, bool minor0, uint16_t status)
{
    const char *phrase = reason_phrase(status);
    out_append(r, minor0 ? "HTTP/1.0 " : "HTTP/1.1 ", 9);
    out_uint(r, status);
    out_append(r, " ", 1);
    out_append(r, phrase, strlen(phrase));
    out_append(r, "\r\n", 2);
}

static int sink_send_head(void *p, uint16_t status, const hc_header_view *h, size_t n, int64_t cl)
{
    http_req *r = p;
    if (r->head_sent || r->fanout)
        return -1;
    r->head_sent = true;
    bool minor0 = r->dreq.http_version == 1;
    r->no_body = r->is_head || status == 204 || status == 304 || (status >= 100 && status < 200);
    out_status_line(r, minor0, status);
    bool has_date = false;
    for (size_t i = 0; i < n; i++) {
        if (h[i].name_len == 4 && strncasecmp(h[i].name, "date", 4) == 0)
            has_date = true;
        if (h[i].name_len == 10 && strncasecmp(h[i].name, "connection", 10) == 0 &&
            lists_close(h[i].value, h[i].value_len))
            r->c->close_after = true;
        if (is_framing_header(h[i].name, h[i].name_len))
            continue;
        out_append(r, h[i].name, h[i].name_len);
        out_append(r, ": ", 2);
        out_append(r, h[i].value, h[i].value_len);
        out_append(r, "\r\n", 2);
    }
    if (!has_date) {
        char date[64];
        http_date(date, sizeof date);
        out_append(r, "Date: ", 6);
        out_append(r, date, strlen(date));
        out_append(r, "\r\n", 2);
    }
    r->resp_cl = cl;
    if (status == 204 || (status >= 100 && status < 200)) {
        /* no framing fields at all */
    } else if (cl >= 0) {
        if (status != 304) {
            out_append(r, "Content-Length: ", 16);
            out_uint(r, (uint64_t)cl);
            out_append(r, "\r\n", 2);
        }
    } else if (!r->no_body) {
        if (minor0)
            r->c->close_after = true; /* the end of the body is the end of the connection */
        else
            r->chunked_out = true;
        if (r->chunked_out)
            out_append(r, "Transfer-Encoding: chunked\r\n", 28);
    }
    if (r->chunked_out && r->te_trailers) {
        /* trailers will follow: the Trailer field (a framing field, left out above) announces
         * them; without them going out it would announce fields that never come */
        for (size_t i = 0; i < n; i++)
            if (h[i].name_len == 7 && strncasecmp(h[i].name, "trailer", 7) == 0) {
                out_append(r, h[i].name, h[i].name_len);
                out_append(r, ": ", 2);
                out_append(r, h[i].value, h[i].value_len);
                out_append(r, "\r\n", 2);
            }
    }
    if (r->c->srv->stopping)
        r->c->close_after = true;
    if (r->c->close_after || !r->keep_alive)
        out_append(r, "Connection: close\r\n", 19);
    else if (minor0)
        out_append(r, "Connection: keep-alive\r\n", 24);
    return out_append(r, "\r\n", 2);
}

static int sink_write(void *p, const uint8_t *data, size_t len)
{
    http_req *r = p;
    if (r->no_body || len == 0)
        return r->broken ? -1 : 0; /* no body goes out; the guest need not know */
    if (r->resp_cl >= 0 && r->resp_written + len > (uint64_t)r->resp_cl) {
        r->broken = true; /* more than the Content-Length promised: the response is broken */
        return -1;
    }
    r->resp_written += len;
    if (r->chunked_out) {
        char size[24];
        int n = snprintf(size, sizeof size, "%zx\r\n", len);
        if (out_append(r, size, (size_t)n) != 0 || out_append(r, data, len) != 0)
            return -1;
        return out_append(r, "\r\n", 2);
    }
    return out_append(r, data, len);
}

/* ---- interim responses and trailers (hc_downstream_sink.send_info / .trailers) ---- */

/* A 1xx response goes out at once, ahead of the head; an HTTP/1.0 client gets none (RFC 9110
 * 15.2), which the guest does not see. */
static int sink_send_info(void *p, uint16_t status, const hc_header_view *h, size_t n)
{
    http_req *r = p;
    if (r->head_sent || r->broken)
        return -1;
    if (r->dreq.http_version == 1)
        return 0;
    out_status_line(r, false, status);
    for (size_t i = 0; i < n; i++) {
        if (is_framing_header(h[i].name, h[i].name_len))
            continue;
        out_append(r, h[i].name, h[i].name_len);
        out_append(r, ": ", 2);
        out_append(r, h[i].value, h[i].value_len);
        out_append(r, "\r\n", 2);
    }
    out_append(r, "\r\n", 2);
    return out_flush(r);
}

/* Keeps the trailer fields for the end of a chunked body. Dropped (the guest is not told) when
 * the body is not chunked or the client did not ask for trailers with `TE: trailers`, as RFC 9110
 * 6.5.1 has servers do for fields a client might otherwise discard unseen. */
static int sink_trailers(void *p, const hc_header_view *h, size_t n)
{
    http_req *r = p;
    if (r->broken)
        return -1;
    if (!r->chunked_out || !r->te_trailers || r->no_body)
        return 0;
    size_t len = r->trailer_len;
    for (size_t i = 0; i < n; i++)
        len += h[i].name_len + 2 + h[i].value_len + 2;
    char *grown = realloc(r->trailer_section, len ? len : 1);
    if (!grown)
        return -1;
    r->trailer_section = grown;
    for (size_t i = 0; i < n; i++) {
        if (is_framing_header(h[i].name, h[i].name_len))
            continue;
        char *d = grown + r->trailer_len;
        memcpy(d, h[i].name, h[i].name_len);
        memcpy(d + h[i].name_len, ": ", 2);
        memcpy(d + h[i].name_len + 2, h[i].value, h[i].value_len);
        memcpy(d + h[i].name_len + 2 + h[i].value_len, "\r\n", 2);
        r->trailer_len += h[i].name_len + 2 + h[i].value_len + 2;
    }
    return 0;
}

/* True when the request's TE fields list the "trailers" token. */
static bool accepts_trailers(const srv_http_head *hd)
{
    for (size_t i = 0; i < hd->nfields; i++) {
        const srv_http_field *f = &hd->fields[i];
        if (f->name_len != 2 || strncasecmp(f->name, "te", 2) != 0)
            continue;
        for (size_t j = 0; j < f->value_len;) {
            while (j < f->value_len &&
                   (f->value[j] == ' ' || f->value[j] == '\t' || f->value[j] == ','))
                j++;
            size_t start = j;
            while (j < f->value_len && f->value[j] != ',' && f->value[j] != ';' &&
                   f->value[j] != ' ' && f->value[j] != '\t')
                j++;
            if (j - start == 8 && strncasecmp(f->value + start, "trailers", 8) == 0)
                return true;
            while (j < f->value_len && f->value[j] != ',')
                j++; /* parameters */
        }
    }
    return false;
}

static int sink_finish(void *p)
{
    http_req *r = p;
    if (r->finished)
        return 0;
    r->finished = true;
    if (r->chunked_out && r->trailer_len) {
        out_append(r, "0\r\n", 3);
        out_append(r, r->trailer_section, r->trailer_len);
        out_append(r, "\r\n", 2);
    } else if (r->chunked_out) {
        out_append(r, "0\r\n\r\n", 5);
    }
    if (r->resp_cl >= 0 && !r->no_body && r->resp_written < (uint64_t)r->resp_cl)
        r->broken = true; /* shorter than its Content-Length: the client must see it end */
    return out_flush(r);
}

static void sink_abort(void *p)
{
    http_req *r = p;
    out_flush(r); /* what the guest sent so far, then the connection ends without the end */
    r->broken = true;
    r->finished = true;
}

/* ---- the request body, read by the guest ---- */

static int send_continue(http_req *r)
{
    if (!r->expect_continue || r->continue_sent || r->head_sent)
        return 0;
    r->continue_sent = true;
    static const char line[] = "HTTP/1.1 100 Continue\r\n\r\n";
    return send_all(r->c->fd, line, sizeof line - 1);
}

/* Decodes buffered input into buf; returns bytes produced, 0 when the input is used up (or the
 * body ended: body_done), -1 on a framing error. */
static long decode_buffered(http_req *r, uint8_t *buf, size_t len)
{
    conn *c = r->c;
    size_t avail = c->in_len - c->in_off;
    if (r->body_mode == BODY_LENGTH) {
        size_t n = avail < len ? avail : len;
        if (n > r->body_left)
            n = (size_t)r->body_left;
        memcpy(buf, c->in + c->in_off, n);
        c->in_off += n;
        r->body_left -= n;
        if (r->body_left == 0)
            r->body_done = true;
        return (long)n;
    }
    size_t used = 0, made = 0;
    srv_chunked_result res = srv_chunked_decode(&r->ck, (const uint8_t *)c->in + c->in_off, avail,
                                                &used, buf, len, &made);
    c->in_off += used;
    if (res == SRV_CHUNKED_ERROR)
        return -1;
    if (res == SRV_CHUNKED_DONE)
        r->body_done = true;
    return (long)made;
}

static long body_read(void *src, uint8_t *buf, size_t len)
{
    http_req *r = src;
    if (r->pre_off < r->pre_len) {
        size_t n = r->pre_len - r->pre_off;
        if (n > len)
            n = len;
        memcpy(buf, r->pre + r->pre_off, n);
        r->pre_off += n;
        return (long)n;
    }
    if (len == 0)
        return 0;
    for (;;) {
        if (r->body_error)
            return -1;
        if (r->body_done)
            return 0;
        if (r->c->in_off < r->c->in_len) {
            long n = decode_buffered(r, buf, len);
            if (n < 0) {
                r->body_error = true;
                return -1;
            }
            if (n > 0) {
                r->read_past_pre = true;
                return n;
            }
            continue;
        }
        if (send_continue(r) != 0 || fill_wait(r->c) != 0) {
            r->body_error = true; /* the client went away or stalled mid-upload */
            return -1;
        }
    }
}

/* Reads ahead what the connection already holds of the body, up to PREREAD_MAX. Returns 1 when
 * the whole body is in, 0 when more is needed, -1 on a framing error. */
static int preread_body(http_req *r)
{
    while (!r->body_done) {
        if (r->pre_len == PREREAD_MAX)
            return 0;
        if (r->c->in_off == r->c->in_len)
            return 0;
        if (!r->pre) {
            r->pre_cap = PREREAD_MAX;
            if (r->body_mode == BODY_LENGTH && r->body_left < PREREAD_MAX)
                r->pre_cap = (size_t)r->body_left;
            r->pre = malloc(r->pre_cap ? r->pre_cap : 1);
            if (!r->pre)
                return -1;
        }
        if (r->pre_len == r->pre_cap) {
            uint8_t *grown = realloc(r->pre, PREREAD_MAX);
            if (!grown)
                return -1;
            r->pre = grown;
            r->pre_cap = PREREAD_MAX;
        }
        long n = decode_buffered(r, r->pre + r->pre_len, r->pre_cap - r->pre_len);
        if (n < 0)
            return -1;
        r->pre_len += (size_t)n;
    }
    return 1;
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

/* ---- connections ---- */

static void req_free(http_req *r)
{
    if (!r)
        return;
    free(r->headers); /* the strings share its allocation, the response buffer r's */
    free(r->pre);
    free(r->trailer_section);
    hc_handoff_free(r->fanout);
    free(r);
}

static void idle_unlink(srv_http *h, conn *c)
{
    if (!c->idle)
        return;
    if (c->prev)
        c->prev->next = c->next;
    else
        h->idle = c->next;
    if (c->next)
        c->next->prev = c->prev;
    c->prev = c->next = NULL;
    c->idle = false;
}

static void conn_free(conn *c)
{
    srv_http *h = c->srv;
    pthread_mutex_lock(&h->lock);
    idle_unlink(h, c);
    h->nconns--;
    pthread_cond_broadcast(&h->changed);
    pthread_mutex_unlock(&h->lock);
    close(c->fd);
    req_free(c->req);
    free(c->in);
    free(c);
}

/* Ends the connection after the response went out: half-close, then read and drop what the
 * client still sends (briefly), so an unread pipelined request does not turn the close into a
 * reset that could destroy the response before the client read it. */
static void conn_close(conn *c, bool graceful)
{
    if (graceful && shutdown(c->fd, SHUT_WR) == 0) {
        char scratch[4096];
        uint64_t deadline = util_now_ns() + 1000ull * 1000 * 1000;
        for (;;) {
            ssize_t n = recv(c->fd, scratch, sizeof scratch, 0);
            if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR))
                break;
            uint64_t now = util_now_ns();
            if (now >= deadline)
                break;
            if (n < 0) {
                struct pollfd p = {.fd = c->fd, .events = POLLIN};
                if (poll(&p, 1, (int)((deadline - now) / 1000000) + 1) <= 0)
                    break;
            }
        }
    }
    conn_free(c);
}

/* Gives the connection back to epoll until the client sends more. */
static void conn_arm(conn *c)
{
    srv_http *h = c->srv;
    if (c->in_off == c->in_len) { /* idle connections keep no buffer */
        free(c->in);
        c->in = NULL;
        c->in_off = c->in_len = c->in_cap = 0;
    }
    pthread_mutex_lock(&h->lock);
    if (h->stopping) {
        pthread_mutex_unlock(&h->lock);
        conn_close(c, true);
        return;
    }
    c->idle = true;
    c->swept = false;
    c->since_ns = util_now_ns();
    c->prev = NULL;
    c->next = h->idle;
    if (h->idle)
        h->idle->prev = c;
    h->idle = c;
    /* armed under the lock: the worker that gets the event takes the lock before it touches the
     * connection, which orders everything done here before it (ThreadSanitizer does not see the
     * ordering that EPOLL_CTL_MOD itself gives) */
    struct epoll_event ev = {.events = EPOLLIN | EPOLLRDHUP | EPOLLONESHOT, .data.ptr = c};
    if (epoll_ctl(h->epfd, EPOLL_CTL_MOD, c->fd, &ev) != 0 &&
        epoll_ctl(h->epfd, EPOLL_CTL_ADD, c->fd, &ev) != 0) {
        idle_unlink(h, c);
        pthread_mutex_unlock(&h->lock);
        conn_close(c, false);
        return;
    }
    pthread_mutex_unlock(&h->lock);
}

/* Queues the connection for the next free worker (input already buffered, or a request to run). */
static void conn_ready(conn *c)
{
    srv_http *h = c->srv;
    pthread_mutex_lock(&h->lock);
    c->next = NULL;
    if (h->ready_tail)
        h->ready_tail->next = c;
    else
        h->ready_head = c;
    h->ready_tail = c;
    pthread_mutex_unlock(&h->lock);
    uint64_t one = 1;
    if (write(h->ready_efd, &one, sizeof one) < 0) {
        /* the counter cannot overflow in practice; nothing else to do */
    }
}

/* Answers an error before or instead of the guest and closes the connection. */
static void reject(conn *c, int status, const char *why)
{
    srv_http *h = c->srv;
    if (h->log->verbosity >= 1)
        srv_logf(h->log, "http: %d %s: %s", status, reason_phrase((unsigned)status), why);
    char date[64], buf[512];
    http_date(date, sizeof date);
    int body_len = (int)strlen(why) + 1;
    int n = snprintf(buf, sizeof buf,
                     "HTTP/1.1 %d %s\r\nContent-Type: text/plain; charset=utf-8\r\n"
                     "Content-Length: %d\r\nConnection: close\r\nDate: %s\r\n\r\n%s\n",
                     status, reason_phrase((unsigned)status), body_len, date, why);
    if (n > 0 && (size_t)n < sizeof buf)
        send_all(c->fd, buf, (size_t)n);
    conn_close(c, true);
}

static const srv_http_field *head_field(const srv_http_head *h, const char *name)
{
    for (size_t i = 0; i < h->nfields; i++)
        if (strlen(name) == h->fields[i].name_len &&
            strncasecmp(h->fields[i].name, name, h->fields[i].name_len) == 0)
            return &h->fields[i];
    return NULL;
}

/* hc_downstream_request.handoff: the guest hands the connection over (Fanout, WebSocket); the
 * relay starts once the guest is done with the request (finish_request). */
static int take_handoff(void *src, hc_handoff *h)
{
    http_req *r = src;
    if (r->fanout || r->head_sent) {
        hc_handoff_free(h);
        return -1;
    }
    r->fanout = h;
    return 0;
}

/* Copies what the guest needs of the head (the buffer is reused for the next request). */
static http_req *req_new(conn *c, const srv_http_head *hd)
{
    http_req *r = malloc(sizeof *r + OUT_CAP); /* the response buffer follows */
    if (!r)
        return NULL;
    memset(r, 0, sizeof *r);
    r->out = (char *)(r + 1);
    r->c = c;
    const char *t = hd->target;
    size_t tl = hd->target_len;
    bool absolute = (tl >= 7 && strncasecmp(t, "http://", 7) == 0) ||
                    (tl >= 8 && strncasecmp(t, "https://", 8) == 0);
    const srv_http_field *host = head_field(hd, "host");
    char fallback[64];
    const char *hv = host ? host->value : NULL;
    size_t hl = host ? host->value_len : 0;
    if (!hl) {
        snprintf(fallback, sizeof fallback, "localhost:%u", c->srv->port);
        hv = fallback;
        hl = strlen(fallback);
    }
    bool star = tl == 1 && t[0] == '*';
    size_t url_len = absolute ? tl : 7 + hl + 1 + tl;
    size_t bytes = hd->method_len + 1 + url_len + 1;
    for (size_t i = 0; i < hd->nfields; i++)
        bytes += hd->fields[i].name_len + 1 + hd->fields[i].value_len + 1;
    /* the header views, then the strings they point to: one allocation */
    size_t views = (hd->nfields ? hd->nfields : 1) * sizeof *r->headers;
    r->headers = malloc(views + bytes);
    if (!r->headers) {
        req_free(r);
        return NULL;
    }
    r->strings = (char *)r->headers + views;
    char *p = r->strings;
    char *method = p;
    memcpy(p, hd->method, hd->method_len);
    p += hd->method_len;
    *p++ = '\0';
    char *url = p;
    if (absolute) {
        memcpy(p, t, tl);
        p += tl;
    } else {
        memcpy(p, "http://", 7);
        p += 7;
        memcpy(p, hv, hl);
        p += hl;
        if (t[0] != '/')
            *p++ = '/';
        if (!star) {
            memcpy(p, t, tl);
            p += tl;
        }
    }
    *p++ = '\0';
    for (size_t i = 0; i < hd->nfields; i++) {
        const srv_http_field *f = &hd->fields[i];
        hc_header_view *v = &r->headers[r->nheaders++];
        v->name = p;
        v->name_len = f->name_len;
        memcpy(p, f->name, f->name_len);
        p += f->name_len;
        *p++ = '\0';
        v->value = p;
        v->value_len = f->value_len;
        memcpy(p, f->value, f->value_len);
        p += f->value_len;
        *p++ = '\0';
    }
    hc_downstream_request *d = &r->dreq;
    d->method = method;
    d->url = url;
    d->http_version = hd->minor == 0 ? 1 : 2;
    d->headers = r->headers;
    d->nheaders = r->nheaders;
    d->client_addr = c->peer;
    d->server_addr = c->local;
    if (hd->chunked) {
        r->body_mode = BODY_CHUNKED;
        d->body_length = -1;
    } else if (hd->content_length > 0) {
        r->body_mode = BODY_LENGTH;
        r->body_left = (uint64_t)hd->content_length;
        d->body_length = hd->content_length;
    } else {
        r->body_done = true;
        d->body_length = 0;
    }
    if (r->body_mode != BODY_NONE) {
        d->body_read = body_read;
        d->body_src = r;
    }
    r->keep_alive = hd->keep_alive;
    r->expect_continue = hd->expect_continue && r->body_mode != BODY_NONE;
    r->is_head = hd->method_len == 4 && memcmp(hd->method, "HEAD", 4) == 0;
    r->resp_cl = -1;
    r->sink = (srv_sink){{sink_send_head, sink_write, sink_finish, r, NULL, NULL}, sink_abort};
    r->sink.hc.send_info = sink_send_info;
    r->sink.hc.trailers = sink_trailers;
    r->te_trailers = accepts_trailers(hd);
    d->handoff = take_handoff;
    d->handoff_src = r;
    return r;
}

/* A handed-over request: the whole body is replayed to the target (what was read ahead, then
 * the rest from the client), the bytes after it go on as they are, and the socket goes to a
 * relay thread. Returns false (the connection is no longer ours). */
#define HANDOFF_BODY_MAX (16u << 20)
static bool hand_over(conn *c)
{
    http_req *r = c->req;
    hc_handoff *h = r->fanout;
    r->fanout = NULL;
    uint8_t *body = r->pre;
    size_t len = r->pre_len, cap = r->pre_cap;
    r->pre = NULL;
    r->pre_off = r->pre_len = 0; /* body_read now reads what is still on the wire */
    const char *why = NULL;
    int status = 500;
    if (r->read_past_pre)
        why = "the guest read the request body past the first 64 KiB";
    while (!why && !r->body_done) {
        if (len == cap && (cap > HANDOFF_BODY_MAX / 2 || /* twice the room would pass the max */
                           !util_grow((void **)&body, &cap, len + 1, 16384, 1))) {
            why = "the request body is too large to replay (16 MiB at most)";
            status = 413;
            break;
        }
        long n = body_read(r, body + len, cap - len);
        if (n < 0)
            why = "the request body did not arrive";
        else
            len += (size_t)n;
    }
    if (why) {
        srv_logf(c->srv->log, "handoff to '%s': %s", h->name, why);
        char text[160];
        snprintf(text, sizeof text, "Handoff failed: %s", why);
        hc_handoff_free(h);
        free(body);
        reject(c, status, text); /* and closes */
        return false;
    }
    int fd = c->fd;
    c->fd = -1;
    epoll_ctl(c->srv->epfd, EPOLL_CTL_DEL, fd, NULL); /* the relay owns it now */
    srv_relay_start(c->srv->relays, fd, h, body, len, r->body_mode != BODY_NONE,
                    (const uint8_t *)c->in + c->in_off, c->in_len - c->in_off);
    free(body);
    conn_free(c);
    return false;
}

/* After the guest: ends the request. Returns true when the connection can take another one,
 * false when it was closed. */
static bool finish_request(conn *c)
{
    http_req *r = c->req;
    if (r->fanout)
        return hand_over(c);
    if (!r->finished && !r->broken)
        sink_finish(r);
    bool reuse = !r->broken && !c->close_after && r->keep_alive && !c->srv->stopping;
    /* an unread rest of the body is read and dropped when it is already here or small */
    uint8_t scratch[16 * 1024];
    size_t dropped = 0;
    while (reuse && !r->body_done && !r->body_error && dropped < (1u << 20)) {
        long n = body_read(r, scratch, sizeof scratch);
        if (n <= 0)
            break;
        dropped += (size_t)n;
    }
    if (!r->body_done || r->body_error)
        reuse = false;
    bool broken = r->broken;
    c->req = NULL;
    req_free(r);
    if (!reuse) {
        conn_close(c, !broken);
        return false;
    }
    return true;
}

/* A reused instance is done with the request, or gave it back unrun: then a worker runs it. */
static void handoff_done(srv_handoff *ho, bool ran)
{
    http_req *r = ho->user;
    conn *c = r->c;
    if (!ran) {
        c->run_pending = true;
        conn_ready(c);
        return;
    }
    if (finish_request(c)) {
        if (c->in_off < c->in_len)
            conn_ready(c);
        else
            conn_arm(c);
    }
}

/* The owner of the connection serves it until it has to wait for the client. */
static void serve(conn *c)
{
    srv_http *h = c->srv;
    bool served = false; /* a response went out since the last read found the socket drained */
    for (;;) {
        if (!c->req) {
            srv_http_head hd;
            int status = 0;
            const char *why = "";
            long hl = 0;
            if (c->in_off < c->in_len)
                hl = srv_http_parse_head(c->in + c->in_off, c->in_len - c->in_off, &hd, &status,
                                         &why);
            if (hl < 0) {
                reject(c, status, why);
                return;
            }
            if (hl == 0) {
                if (c->in_len - c->in_off >= HEAD_MAX) {
                    reject(c, 431, "request head too large");
                    return;
                }
                if (served && c->in_off == c->in_len) {
                    /* a client rarely sends its next request before reading the response: skip
                     * the read that would find nothing; re-arming reports input already there */
                    conn_arm(c);
                    return;
                }
                long n = fill_nowait(c);
                if (n > 0)
                    continue;
                if (n == -2)
                    conn_arm(c);
                else
                    conn_close(c, false); /* the client is gone (a partial head is dropped) */
                return;
            }
            c->req = req_new(c, &hd);
            c->in_off += (size_t)hl;
            if (!c->req) {
                reject(c, 503, "out of memory");
                return;
            }
        }
        http_req *r = c->req;
        if (!c->run_pending) {
            int st = preread_body(r);
            if (st < 0) {
                reject(c, 400, "malformed chunked body");
                return;
            }
            if (st == 0 && r->pre_len < PREREAD_MAX) {
                if (send_continue(r) != 0) {
                    conn_close(c, false);
                    return;
                }
                long n = fill_nowait(c);
                if (n > 0)
                    continue;
                if (n == -2)
                    conn_arm(c);
                else
                    conn_close(c, false);
                return;
            }
            r->handoff =
                (srv_handoff){.req = &r->dreq, .sink = &r->sink, .done = handoff_done, .user = r};
            srv_guest *g = srv_live_acquire(h->live);
            if (srv_request_offer(g, &r->handoff)) {
                srv_guest_drop(g); /* a waiting instance holds its own reference */
                return; /* an instance waiting in next_request has it (and the connection) */
            }
            srv_request_run(g, &r->dreq, &r->sink, true); /* a fresh instance */
            srv_guest_drop(g);
            if (!finish_request(c))
                return;
            served = true;
            continue;
        }
        c->run_pending = false;
        /* given back unrun: a fresh instance of the guest current now (a reload may have swapped
         * it since the request arrived) */
        srv_guest *g = srv_live_acquire(h->live);
        srv_request_run(g, &r->dreq, &r->sink, true);
        srv_guest_drop(g);
        if (!finish_request(c))
            return;
        served = true;
    }
}

/* ---- workers ---- */

static void *worker(void *arg);

/* True when the thread is waiting (its /proc state is S or D), not running or runnable. */
static bool thread_waiting(int tid)
{
    char path[64], buf[256];
    snprintf(path, sizeof path, "/proc/self/task/%d/stat", tid);
    FILE *f = fopen(path, "r");
    if (!f)
        return false;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    const char *p = strrchr(buf, ')'); /* after the command name, which may hold spaces */
    return p && p[1] == ' ' && (p[2] == 'S' || p[2] == 'D');
}

/* Starts one more worker (lock held). */
static void grow(srv_http *h)
{
    if (h->nthreads >= MAX_WORKERS || h->exiting)
        return;
    worker_slot *slot = &h->slots[h->nthreads];
    slot->h = h;
    atomic_store(&slot->busy_since, 0);
    atomic_store(&slot->tid, 0);
    if (pthread_create(&h->threads[h->nthreads], NULL, worker, slot) == 0)
        h->nthreads++;
}

static void accept_one(srv_http *h)
{
    struct sockaddr_storage peer;
    socklen_t plen = sizeof peer;
    int fd = accept4(h->listen_fd, (struct sockaddr *)&peer, &plen, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
        if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
            srv_logf(h->log, "http: cannot accept a connection: %s", strerror(errno));
            struct timespec ts = {0, 10 * 1000 * 1000}; /* let connections close */
            nanosleep(&ts, NULL);
        }
        return;
    }
    conn *c = calloc(1, sizeof *c);
    if (!c) {
        close(fd);
        return;
    }
    c->srv = h;
    c->fd = fd;
    c->peer = peer;
    socklen_t llen = sizeof c->local;
    getsockname(fd, (struct sockaddr *)&c->local, &llen);
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    pthread_mutex_lock(&h->lock);
    h->nconns++;
    pthread_mutex_unlock(&h->lock);
    serve(c);
}

static void take_ready(srv_http *h)
{
    uint64_t v;
    if (read(h->ready_efd, &v, sizeof v) != (ssize_t)sizeof v)
        return; /* another worker took it */
    pthread_mutex_lock(&h->lock);
    conn *c = h->ready_head;
    if (c) {
        h->ready_head = c->next;
        if (!h->ready_head)
            h->ready_tail = NULL;
        c->next = NULL;
    }
    pthread_mutex_unlock(&h->lock);
    if (c)
        serve(c);
}

static void *worker(void *arg)
{
    worker_slot *slot = arg;
    srv_http *h = slot->h;
    atomic_store(&slot->tid, (int)gettid());
    for (;;) {
        struct epoll_event ev;
        int n = epoll_wait(h->epfd, &ev, 1, -1);
        if (n <= 0)
            continue;
        void *p = ev.data.ptr;
        if (p == &h->markers[1])
            break;
        atomic_store(&slot->busy_since, util_now_ns());
        if (p == &h->markers[0]) {
            accept_one(h);
        } else if (p == &h->markers[2]) {
            take_ready(h);
        } else {
            pthread_mutex_lock(&h->lock);
            idle_unlink(h, (conn *)p);
            pthread_mutex_unlock(&h->lock);
            serve((conn *)p);
        }
        atomic_store(&slot->busy_since, 0);
    }
    return NULL;
}

/* A worker busy for a while whose thread sleeps is waiting (on a backend, a slow client, a
 * timer). When no worker is free and fewer than one per CPU could run, start more, so that
 * waiting guests do not delay requests that are ready to run; guests that merely compute (even
 * slowly, on a loaded machine) do not make the pool grow. Lock held. */
static void grow_if_blocked(srv_http *h, uint64_t now)
{
    for (size_t i = 0; i < h->nthreads; i++) {
        uint64_t since = atomic_load(&h->slots[i].busy_since);
        if (!since || now - since < BLOCKED_NS)
            return; /* a worker is free, or just started its work */
    }
    size_t running = 0;
    for (size_t i = 0; i < h->nthreads; i++) {
        int tid = atomic_load(&h->slots[i].tid);
        if (!tid || !thread_waiting(tid))
            running++;
    }
    if (running >= h->ncpu)
        return;
    for (size_t more = h->ncpu - running + 1; more > 0; more--)
        grow(h);
}

/* Closes connections idle for longer than IDLE_TIMEOUT_NS (by shutting them down: the worker
 * that gets the event closes them). */
static void *sweeper(void *arg)
{
    srv_http *h = arg;
    uint64_t last_sweep = util_now_ns();
    pthread_mutex_lock(&h->lock);
    while (!h->exiting) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += TICK_MS * 1000000L;
        if (ts.tv_nsec >= 1000000000L) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&h->changed, &h->lock, &ts);
        uint64_t now = util_now_ns();
        if (!h->stopping)
            grow_if_blocked(h, now);
        if (now - last_sweep < 1000ull * 1000 * 1000)
            continue;
        last_sweep = now;
        for (conn *c = h->idle; c; c = c->next) {
            if (!c->swept && now - c->since_ns > IDLE_TIMEOUT_NS) {
                shutdown(c->fd, SHUT_RDWR);
                c->swept = true;
            }
        }
    }
    pthread_mutex_unlock(&h->lock);
    return NULL;
}

static int add_marker(srv_http *h, int fd, uint32_t events, void *marker)
{
    struct epoll_event ev = {.events = events, .data.ptr = marker};
    return epoll_ctl(h->epfd, EPOLL_CTL_ADD, fd, &ev);
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
    h->epfd = h->stop_efd = h->ready_efd = -1;
    pthread_mutex_init(&h->lock, NULL);
    pthread_cond_init(&h->changed, NULL);
    h->listen_fd = open_listener(cfg->bind, err, errlen);
    if (h->listen_fd < 0) {
        pthread_cond_destroy(&h->changed);
        pthread_mutex_destroy(&h->lock);
        free(h);
        return FASTLIKE_ERR_IO;
    }
    h->port = socket_port(h->listen_fd);
    long online = sysconf(_SC_NPROCESSORS_ONLN);
    h->ncpu = online > 0 ? (size_t)online : 1;
    size_t n = cfg->workers;
    if (n == 0) {
        long ncpu = online;
        n = ncpu > 0 ? (size_t)ncpu * WORKERS_PER_CPU : 8;
        if (n < MIN_WORKERS)
            n = MIN_WORKERS;
    }
    if (n > MAX_WORKERS)
        n = MAX_WORKERS;
    int fl = 1;
    h->epfd = epoll_create1(EPOLL_CLOEXEC);
    h->stop_efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    h->ready_efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK | EFD_SEMAPHORE);
    h->threads = calloc(MAX_WORKERS, sizeof *h->threads);
    h->slots = calloc(MAX_WORKERS, sizeof *h->slots);
    h->relays = srv_relays_new(h->log);
    if (h->epfd < 0 || h->stop_efd < 0 || h->ready_efd < 0 || !h->threads || !h->slots ||
        !h->relays || ioctl(h->listen_fd, FIONBIO, &fl) != 0 ||
        add_marker(h, h->listen_fd, EPOLLIN | EPOLLEXCLUSIVE, &h->markers[0]) != 0 ||
        add_marker(h, h->stop_efd, EPOLLIN, &h->markers[1]) != 0 ||
        add_marker(h, h->ready_efd, EPOLLIN | EPOLLEXCLUSIVE, &h->markers[2]) != 0) {
        snprintf(err, errlen, "cannot start the HTTP server on %s: %s", cfg->bind, strerror(errno));
        goto fail;
    }
    pthread_mutex_lock(&h->lock);
    for (size_t i = 0; i < n; i++)
        grow(h);
    bool started = h->nthreads == n;
    pthread_mutex_unlock(&h->lock);
    if (!started || pthread_create(&h->sweeper, NULL, sweeper, h) != 0) {
        snprintf(err, errlen, "cannot start worker threads");
        h->exiting = true;
        uint64_t one = 1;
        if (write(h->stop_efd, &one, sizeof one) < 0) {
            /* nothing else to do */
        }
        for (size_t i = 0; i < h->nthreads; i++)
            pthread_join(h->threads[i], NULL);
        goto fail;
    }
    *out = h;
    return FASTLIKE_OK;
fail:
    if (h->epfd >= 0)
        close(h->epfd);
    if (h->stop_efd >= 0)
        close(h->stop_efd);
    if (h->ready_efd >= 0)
        close(h->ready_efd);
    close(h->listen_fd);
    free(h->threads);
    free(h->slots);
    srv_relays_free(h->relays);
    pthread_cond_destroy(&h->changed);
    pthread_mutex_destroy(&h->lock);
    free(h);
    return FASTLIKE_ERR_IO;
}

uint16_t srv_http_port(const srv_http *h)
{
    return h ? h->port : 0;
}

/* Stops accepting and ends idle connections; busy ones end after their response. Lock held. */
static void begin_stopping(srv_http *h)
{
    if (h->stopping)
        return;
    h->stopping = true;
    epoll_ctl(h->epfd, EPOLL_CTL_DEL, h->listen_fd, NULL);
    shutdown(h->listen_fd, SHUT_RDWR);
    for (conn *c = h->idle; c; c = c->next)
        shutdown(c->fd, SHUT_RDWR);
}

bool srv_http_drain(srv_http *h, uint64_t timeout_ms)
{
    if (!h)
        return true;
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += (time_t)(timeout_ms / 1000);
    until.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&h->lock);
    begin_stopping(h);
    int rc = 0;
    while (h->nconns > 0 && rc != ETIMEDOUT)
        rc = pthread_cond_timedwait(&h->changed, &h->lock, &until);
    bool drained = h->nconns == 0;
    pthread_mutex_unlock(&h->lock);
    return drained;
}

void srv_http_stop(srv_http *h)
{
    if (!h)
        return;
    srv_guest *g = srv_live_acquire(h->live);
    if (g)
        srv_reuse_close(&g->reuse); /* instances waiting for a next request end now */
    srv_guest_drop(g);
    pthread_mutex_lock(&h->lock);
    begin_stopping(h);
    while (h->nconns > 0)
        pthread_cond_wait(&h->changed, &h->lock);
    h->exiting = true;
    pthread_cond_broadcast(&h->changed);
    size_t nthreads = h->nthreads;
    pthread_mutex_unlock(&h->lock);
    uint64_t one = 1;
    if (write(h->stop_efd, &one, sizeof one) < 0) {
        /* cannot happen with a fresh eventfd */
    }
    for (size_t i = 0; i < nthreads; i++)
        pthread_join(h->threads[i], NULL);
    pthread_join(h->sweeper, NULL);
    srv_relays_free(h->relays); /* handed-over connections end with the server */
    close(h->epfd);
    close(h->stop_efd);
    close(h->ready_efd);
    close(h->listen_fd);
    free(h->threads);
    free(h->slots);
    pthread_cond_destroy(&h->changed);
    pthread_mutex_destroy(&h->lock);
    free(h);
}
