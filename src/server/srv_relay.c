/* srv_relay.c: the relay threads of handed-over connections. Each connects to its target
 * (blocking, with a deadline), sends the replayed request, and then moves bytes between the two
 * non-blocking sockets with one poll loop and a buffer per direction. The target's end of stream
 * ends the relay (its response is complete, or the WebSocket closed); the client's end is passed
 * on as a half-close. A target that cannot be reached gets the client a 500, as in Viceroy.
 * An https:// backend is spoken to over TLS (OpenSSL), verified as the backend client would. */
#include "server/srv_relay.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
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
    SSL_CTX *tls_ctx; /* TLS to the target, or NULL */
    SSL *tls;
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
    SSL_free(x->tls);
    SSL_CTX_free(x->tls_ctx);
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

/* recv / send on either socket; the target's go through TLS when it has it. Like recv/send:
 * -1 with errno EAGAIN when it would block. */
static ssize_t io_recv(relay *x, int fd, void *buf, size_t n)
{
    if (fd != x->target || !x->tls)
        return recv(fd, buf, n, 0);
    ERR_clear_error();
    int r = SSL_read(x->tls, buf, n > 1 << 30 ? 1 << 30 : (int)n);
    if (r > 0)
        return r;
    int e = SSL_get_error(x->tls, r);
    if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
        errno = EAGAIN;
        return -1;
    }
    if (e == SSL_ERROR_ZERO_RETURN)
        return 0;
    errno = EIO;
    return -1;
}

static ssize_t io_send(relay *x, int fd, const void *buf, size_t n)
{
    if (fd != x->target || !x->tls)
        return send(fd, buf, n, MSG_NOSIGNAL | MSG_DONTWAIT);
    ERR_clear_error();
    int r = SSL_write(x->tls, buf, n > 1 << 30 ? 1 << 30 : (int)n);
    if (r > 0)
        return r;
    int e = SSL_get_error(x->tls, r);
    errno = (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) ? EAGAIN : EIO;
    return -1;
}

static void io_shut_wr(relay *x, int fd)
{
    if (fd == x->target && x->tls)
        SSL_shutdown(x->tls); /* close_notify */
    shutdown(fd, SHUT_WR);
}

static int io_send_all(relay *x, int fd, const uint8_t *p, size_t len)
{
    while (len > 0) {
        ssize_t n = io_send(x, fd, p, len);
        if (n > 0) {
            p += n;
            len -= (size_t)n;
        } else if (n < 0 && errno == EINTR) {
            continue;
        } else if (n < 0 && errno == EAGAIN &&
                   wait_fd(fd, x->tls && fd == x->target ? POLLIN | POLLOUT : POLLOUT,
                           SEND_TIMEOUT_MS) == 0) {
            continue;
        } else {
            return -1;
        }
    }
    return 0;
}

/* TLS on the connected target socket: the backend's CAs (or the system store), its certificate
 * name, SNI and client certificate; HTTP/1.1 by ALPN. False with the reason in why. */
static bool tls_connect(relay *x, char *why, size_t whylen)
{
    const hc_handoff *h = x->h;
    SSL_CTX *ctx = x->tls_ctx = SSL_CTX_new(TLS_client_method());
    if (!ctx) {
        snprintf(why, whylen, "TLS: out of memory");
        return false;
    }
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
    SSL_CTX_set_options(ctx, SSL_OP_IGNORE_UNEXPECTED_EOF);
    SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    bool ok = true;
    if (h->ca_file) {
        ok = SSL_CTX_load_verify_locations(ctx, h->ca_file, NULL) == 1;
    } else if (h->ca_pem) {
        BIO *bio = BIO_new_mem_buf(h->ca_pem, (int)h->ca_pem_len);
        X509_STORE *store = SSL_CTX_get_cert_store(ctx);
        X509 *cert;
        int added = 0;
        while (bio && (cert = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL) {
            added += X509_STORE_add_cert(store, cert) == 1;
            X509_free(cert);
        }
        BIO_free(bio);
        ok = added > 0;
    } else {
        ok = SSL_CTX_set_default_verify_paths(ctx) == 1;
    }
    if (ok && h->client_cert_file)
        ok = SSL_CTX_use_certificate_chain_file(ctx, h->client_cert_file) == 1 &&
             SSL_CTX_use_PrivateKey_file(
                 ctx, h->client_key_file ? h->client_key_file : h->client_cert_file,
                 SSL_FILETYPE_PEM) == 1;
    SSL *ssl = ok ? (x->tls = SSL_new(ctx)) : NULL;
    if (!ssl) {
        snprintf(why, whylen, "TLS set-up failed (CA or client certificate files)");
        return false;
    }
    SSL_set_fd(ssl, x->target);
    static const unsigned char alpn[] = "\x08http/1.1";
    SSL_set_alpn_protos(ssl, alpn, sizeof alpn - 1);
    if (h->sni)
        SSL_set_tlsext_host_name(ssl, h->sni);
    struct in6_addr ip;
    const char *name = h->verify_host ? h->verify_host : h->host;
    if (inet_pton(AF_INET, name, &ip) == 1 || inet_pton(AF_INET6, name, &ip) == 1)
        X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), name);
    else
        SSL_set1_host(ssl, name);
    for (;;) {
        ERR_clear_error();
        int r = SSL_connect(ssl);
        if (r == 1)
            return true;
        int e = SSL_get_error(ssl, r);
        if ((e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) &&
            wait_fd(x->target, e == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT, CONNECT_TIMEOUT_MS) ==
                0)
            continue;
        long v = SSL_get_verify_result(ssl);
        if (v != X509_V_OK)
            snprintf(why, whylen, "TLS handshake failed: certificate: %s",
                     X509_verify_cert_error_string(v));
        else
            snprintf(why, whylen, "TLS handshake failed: %s",
                     ERR_peek_error() ? ERR_reason_error_string(ERR_peek_error()) : "closed");
        return false;
    }
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
    relay *x;
    int from, to;
    uint8_t buf[BUF_SIZE];
    size_t off, len;
    bool eof;    /* `from` ended */
    bool closed; /* passed on to `to` */
    uint64_t bytes;
} direction;

/* One step of a direction: read when empty and readable, write what is pending. -1 on a socket
 * error. */
static int step(direction *d, short from_events)
{
    if (d->len == 0 && !d->eof && (from_events & (POLLIN | POLLHUP | POLLERR))) {
        ssize_t n = io_recv(d->x, d->from, d->buf, sizeof d->buf);
        if (n > 0) {
            d->off = 0;
            d->len = (size_t)n;
        } else if (n == 0) {
            d->eof = true;
        } else if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
            return -1;
        }
    }
    if (d->len > 0) {
        ssize_t n = io_send(d->x, d->to, d->buf + d->off, d->len);
        if (n > 0) {
            d->off += (size_t)n;
            d->len -= (size_t)n;
            d->bytes += (uint64_t)n;
        } else if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
            return -1;
        }
    }
    if (d->eof && d->len == 0 && !d->closed) {
        io_shut_wr(d->x, d->to);
        d->closed = true;
    }
    return 0;
}

static void pump(relay *x, uint64_t *up, uint64_t *down)
{
    direction *c2t = calloc(1, sizeof *c2t), *t2c = calloc(1, sizeof *t2c);
    if (!c2t || !t2c)
        goto out;
    *c2t = (direction){.x = x, .from = x->client, .to = x->target};
    *t2c = (direction){.x = x, .from = x->target, .to = x->client};
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
        /* TLS may hold decrypted bytes the socket no longer signals */
        bool pending = x->tls && t2c->len == 0 && !t2c->eof && SSL_pending(x->tls) > 0;
        if (poll(p, 2, pending ? 0 : -1) < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        if (pending)
            p[1].revents |= POLLIN;
        if ((p[0].revents & POLLNVAL) || (p[1].revents & POLLNVAL))
            break;
        if (step(c2t, p[0].revents) != 0 || step(t2c, p[1].revents) != 0)
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
    } else if (x->h->tls && !tls_connect(x, why, sizeof why)) {
        srv_logf(set->log, "handoff to %s: %s", name, why);
        char text[700];
        snprintf(text, sizeof text, "Could not connect to upstream service: %s.", why);
        answer_error(x, text);
    } else if (io_send_all(x, x->target, x->out, x->out_len) != 0) {
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
