/* srv_relay.c: the relay threads of handed-over connections. Each connects to its target
 * (blocking, with a deadline), sends the replayed request, and then moves bytes between the two
 * non-blocking sockets with one poll loop and a buffer per direction. The target's end of stream
 * ends the relay (its response is complete, or the WebSocket closed); the client's end is passed
 * on as a half-close. A target that cannot be reached gets the client a 500, as in Viceroy. */
#include "server/srv_relay.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define CONNECT_TIMEOUT_MS 10000
#define SEND_TIMEOUT_MS 30000 /* the replayed request going out */
#define BUF_SIZE (32 * 1024)

typedef struct relay {
    struct relay *next;
    srv_relays *set;
    pthread_t thread;
    bool done; /* the thread finished: join it */
    int client, target;
    hc_handoff *h;
    uint8_t *out; /* the request to send first */
    size_t out_len;
} relay;

struct srv_relays {
    pthread_mutex_t lock;
    relay *list;
    bool closing;
    const srv_log *log;
};

srv_relays *srv_relays_new(const srv_log *log)
{
    srv_relays *r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    pthread_mutex_init(&r->lock, NULL);
    r->log = log;
    return r;
}

static void relay_free(relay *x)
{
    if (x->client >= 0)
        close(x->client);
    if (x->target >= 0)
        close(x->target);
    hc_handoff_free(x->h);
    free(x->out);
    free(x);
}

/* Joins and frees the relays that finished (lock held). */
static void reap(srv_relays *r)
{
    for (relay **p = &r->list; *p;) {
        relay *x = *p;
        if (!x->done) {
            p = &x->next;
            continue;
        }
        *p = x->next;
        pthread_join(x->thread, NULL);
        relay_free(x);
    }
}

void srv_relays_free(srv_relays *r)
{
    if (!r)
        return;
    pthread_mutex_lock(&r->lock);
    r->closing = true;
    for (relay *x = r->list; x; x = x->next) {
        shutdown(x->client, SHUT_RDWR);
        if (x->target >= 0)
            shutdown(x->target, SHUT_RDWR);
    }
    relay *list = r->list;
    r->list = NULL;
    pthread_mutex_unlock(&r->lock);
    while (list) {
        relay *x = list;
        list = x->next;
        pthread_join(x->thread, NULL);
        relay_free(x);
    }
    pthread_mutex_destroy(&r->lock);
    free(r);
}

size_t srv_relays_active(srv_relays *r)
{
    size_t n = 0;
    pthread_mutex_lock(&r->lock);
    for (relay *x = r->list; x; x = x->next)
        n += !x->done;
    pthread_mutex_unlock(&r->lock);
    return n;
}

/* ---- one relay ---- */

static int wait_fd(int fd, short events, int timeout_ms)
{
    struct pollfd p = {.fd = fd, .events = events};
    for (;;) {
        int n = poll(&p, 1, timeout_ms);
        if (n > 0)
            return 0;
        if (n == 0 || errno != EINTR)
            return -1;
    }
}

static int send_all(int fd, const uint8_t *p, size_t len, int timeout_ms)
{
    while (len > 0) {
        ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
        if (n > 0) {
            p += n;
            len -= (size_t)n;
        } else if (n < 0 && errno == EINTR) {
            continue;
        } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) &&
                   wait_fd(fd, POLLOUT, timeout_ms) == 0) {
            continue;
        } else {
            return -1;
        }
    }
    return 0;
}

/* A non-blocking socket connected to host:port, or -1 with the reason in why. */
static int connect_target(const char *host, uint16_t port, char *why, size_t whylen)
{
    char service[8];
    snprintf(service, sizeof service, "%u", (unsigned)port);
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
    struct addrinfo *res = NULL;
    int gai = getaddrinfo(host, service, &hints, &res);
    if (gai != 0) {
        snprintf(why, whylen, "%s: %s", host, gai_strerror(gai));
        return -1;
    }
    int fd = -1, err = 0;
    for (struct addrinfo *ai = res; ai && fd < 0; ai = ai->ai_next) {
        int s =
            socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, ai->ai_protocol);
        if (s < 0) {
            err = errno;
            continue;
        }
        if (connect(s, ai->ai_addr, ai->ai_addrlen) != 0 && errno != EINPROGRESS) {
            err = errno;
            close(s);
            continue;
        }
        socklen_t len = sizeof err;
        if (wait_fd(s, POLLOUT, CONNECT_TIMEOUT_MS) != 0) {
            err = ETIMEDOUT;
            close(s);
            continue;
        }
        if (getsockopt(s, SOL_SOCKET, SO_ERROR, &err, &len) != 0 || err != 0) {
            close(s);
            continue;
        }
        fd = s;
    }
    freeaddrinfo(res);
    if (fd < 0)
        snprintf(why, whylen, "%s:%u: %s", host, (unsigned)port, strerror(err ? err : EIO));
    else {
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    }
    return fd;
}

static void answer_error(relay *x, const char *text)
{
    char msg[1024];
    int body = snprintf(msg, sizeof msg, "Error: %s\n", text);
    if (body < 0)
        return;
    if ((size_t)body >= sizeof msg)
        body = (int)sizeof msg - 1;
    char head[256];
    int n = snprintf(head, sizeof head,
                     "HTTP/1.1 500 Internal Server Error\r\nContent-Type: text/plain; "
                     "charset=utf-8\r\nContent-Length: %d\r\nConnection: close\r\n\r\n",
                     body);
    if (send_all(x->client, (const uint8_t *)head, (size_t)n, SEND_TIMEOUT_MS) == 0)
        send_all(x->client, (const uint8_t *)msg, (size_t)body, SEND_TIMEOUT_MS);
    shutdown(x->client, SHUT_WR);
}

typedef struct direction {
    int from, to;
    uint8_t buf[BUF_SIZE];
    size_t off, len;
    bool eof;    /* `from` ended */
    bool closed; /* passed on to `to` */
    uint64_t bytes;
} direction;

/* One step of a direction: read when empty and readable, write what is pending. -1 on a socket
 * error. */
static int step(direction *d, short from_events, short to_events)
{
    if (d->len == 0 && !d->eof && (from_events & (POLLIN | POLLHUP | POLLERR))) {
        ssize_t n = recv(d->from, d->buf, sizeof d->buf, 0);
        if (n > 0) {
            d->off = 0;
            d->len = (size_t)n;
        } else if (n == 0) {
            d->eof = true;
        } else if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
            return -1;
        }
    }
    if (d->len > 0 && (to_events & POLLOUT || to_events == 0)) {
        ssize_t n = send(d->to, d->buf + d->off, d->len, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n > 0) {
            d->off += (size_t)n;
            d->len -= (size_t)n;
            d->bytes += (uint64_t)n;
        } else if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
            return -1;
        }
    }
    if (d->eof && d->len == 0 && !d->closed) {
        shutdown(d->to, SHUT_WR);
        d->closed = true;
    }
    return 0;
}

static void pump(relay *x, uint64_t *up, uint64_t *down)
{
    direction *c2t = calloc(1, sizeof *c2t), *t2c = calloc(1, sizeof *t2c);
    if (!c2t || !t2c)
        goto out;
    *c2t = (direction){.from = x->client, .to = x->target};
    *t2c = (direction){.from = x->target, .to = x->client};
    fcntl(x->client, F_SETFL, fcntl(x->client, F_GETFL) | O_NONBLOCK);
    /* the target's end of stream (all passed on) ends the relay */
    while (!t2c->closed) {
        struct pollfd p[2] = {{.fd = x->client}, {.fd = x->target}};
        if (c2t->len == 0 && !c2t->eof)
            p[0].events |= POLLIN;
        if (t2c->len > 0)
            p[0].events |= POLLOUT;
        if (t2c->len == 0 && !t2c->eof)
            p[1].events |= POLLIN;
        if (c2t->len > 0)
            p[1].events |= POLLOUT;
        if (poll(p, 2, -1) < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        if ((p[0].revents & POLLNVAL) || (p[1].revents & POLLNVAL))
            break;
        if (step(c2t, p[0].revents, p[1].revents) != 0 ||
            step(t2c, p[1].revents, p[0].revents) != 0)
            break;
        /* the client is gone for good: nothing more can reach it */
        if ((p[0].revents & (POLLERR | POLLHUP)) && c2t->eof && !(p[0].revents & POLLIN))
            break;
    }
    *up = c2t->bytes;
    *down = t2c->bytes;
out:
    free(c2t);
    free(t2c);
}

static void *relay_main(void *arg)
{
    relay *x = arg;
    srv_relays *set = x->set;
    char name[300];
    snprintf(name, sizeof name, "%s '%s'", x->h->to_pushpin ? "Pushpin, route" : "backend",
             x->h->name);
    char why[512];
    int target = connect_target(x->h->host, x->h->port, why, sizeof why);
    pthread_mutex_lock(&set->lock);
    x->target = target;
    if (set->closing && target >= 0)
        shutdown(target, SHUT_RDWR); /* the server stops: srv_relays_free missed this socket */
    pthread_mutex_unlock(&set->lock);
    if (x->target < 0) {
        srv_logf(set->log, "handoff to %s: could not connect to handoff target: %s", name, why);
        char text[700];
        snprintf(text, sizeof text, "Could not connect to handoff target: %s.", why);
        answer_error(x, text);
    } else if (send_all(x->target, x->out, x->out_len, SEND_TIMEOUT_MS) != 0) {
        srv_logf(set->log, "handoff to %s: sending the request failed", name);
        answer_error(x, "Handoff request failed: the target closed the connection.");
    } else {
        free(x->out); /* sent */
        x->out = NULL;
        uint64_t up = 0, down = 0;
        pump(x, &up, &down);
        if (set->log->verbosity >= 2)
            srv_logf(set->log,
                     "handoff to %s ended: %llu bytes client->target, %llu bytes target->client",
                     name, (unsigned long long)up, (unsigned long long)down);
    }
    shutdown(x->client, SHUT_RDWR);
    pthread_mutex_lock(&set->lock);
    x->done = true;
    pthread_mutex_unlock(&set->lock);
    return NULL;
}

void srv_relay_start(srv_relays *r, int fd, hc_handoff *h, const uint8_t *body, size_t body_len,
                     bool has_body, const uint8_t *rest, size_t rest_len)
{
    relay *x = calloc(1, sizeof *x);
    char framing[48] = "";
    if (has_body)
        snprintf(framing, sizeof framing, "Content-Length: %zu\r\n", body_len);
    size_t flen = strlen(framing);
    size_t total = h->head_len + flen + 2 + body_len + rest_len;
    uint8_t *out = x ? malloc(total) : NULL;
    if (!x || !out) {
        free(x);
        free(out);
        close(fd);
        hc_handoff_free(h);
        return;
    }
    uint8_t *p = out;
    memcpy(p, h->head, h->head_len);
    p += h->head_len;
    memcpy(p, framing, flen);
    p += flen;
    memcpy(p, "\r\n", 2);
    p += 2;
    if (body_len)
        memcpy(p, body, body_len);
    p += body_len;
    if (rest_len)
        memcpy(p, rest, rest_len);
    *x = (relay){.set = r, .client = fd, .target = -1, .h = h, .out = out, .out_len = total};
    pthread_mutex_lock(&r->lock);
    reap(r);
    bool ok = !r->closing && pthread_create(&x->thread, NULL, relay_main, x) == 0;
    if (ok) {
        x->next = r->list;
        r->list = x;
    }
    pthread_mutex_unlock(&r->lock);
    if (!ok) {
        srv_logf(r->log, "handoff to '%s': cannot start a relay thread", h->name);
        relay_free(x);
    }
}
