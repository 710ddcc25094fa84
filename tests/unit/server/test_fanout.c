/* test_fanout.c: Fanout and WebSocket handoffs end to end: a JS SDK guest (tests/guests/js/
 * fanout_js.js) hands requests to a real Pushpin that Fastlike starts itself, in front of a GRIP
 * origin of this test answering Grip-Hold: stream (a message published to Pushpin reaches the
 * held client; request bodies, one larger than what is read ahead, are replayed to it whole),
 * and to a WebSocket echo origin of this test, driven by a WebSocket client of this test and by
 * node's WebSocket. Error paths: Fanout not configured, an unknown backend, a Pushpin binary that
 * does not exist. Skips (with a message) only when pushpin is not installed.
 */
#include "harness.h"
#include "test_server.h"

#include "server/srv_fanout.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/sha.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>

#define GUEST "build/guests/js/fanout_js.wasm"
#define DEADLINE_MS 20000 /* generous: Pushpin and the machine may be slow */

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static bool have_pushpin(void)
{
    const char *path = getenv("PATH");
    char buf[4096];
    while (path && *path) {
        size_t n = strcspn(path, ":");
        snprintf(buf, sizeof buf, "%.*s/pushpin", (int)n, path);
        if (access(buf, X_OK) == 0)
            return true;
        path += n + (path[n] == ':');
    }
    return false;
}

/* A port free on 127.0.0.1 now (for Pushpin, which needs fixed ports). */
static uint16_t free_port(void)
{
    int s = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    uint16_t port = 0;
    if (s >= 0 && bind(s, (struct sockaddr *)&a, sizeof a) == 0 &&
        getsockname(s, (struct sockaddr *)&a, &len) == 0)
        port = ntohs(a.sin_port);
    if (s >= 0)
        close(s);
    return port;
}

/* Nothing listens on 127.0.0.1:port (connections in TIME_WAIT do not count). */
static bool port_is_free(uint16_t port)
{
    int s = socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bool ok = s >= 0 && bind(s, (struct sockaddr *)&a, sizeof a) == 0;
    if (s >= 0)
        close(s);
    return ok;
}

static int dial(uint16_t port)
{
    int s = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (s >= 0 && connect(s, (struct sockaddr *)&a, sizeof a) != 0) {
        close(s);
        return -1;
    }
    return s;
}

static bool send_str(int fd, const void *p, size_t n)
{
    const char *c = p;
    while (n > 0) {
        ssize_t w = send(fd, c, n, MSG_NOSIGNAL);
        if (w <= 0)
            return false;
        c += w;
        n -= (size_t)w;
    }
    return true;
}

/* Appends what arrives on fd to buf until `needle` is in it, the peer closes or the deadline
 * passes. Returns true when found. */
static bool read_until(int fd, char *buf, size_t cap, size_t *len, const char *needle)
{
    uint64_t end = now_ms() + DEADLINE_MS;
    while (!memmem(buf, *len, needle, strlen(needle))) {
        uint64_t t = now_ms();
        if (t >= end || *len + 1 >= cap)
            return false;
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (poll(&p, 1, (int)(end - t)) <= 0)
            return false;
        ssize_t n = recv(fd, buf + *len, cap - 1 - *len, 0);
        if (n <= 0)
            return false;
        *len += (size_t)n;
        buf[*len] = '\0';
    }
    return true;
}

/* Dials port, sends the request `req` and reads until `until` arrives: "held\n" is the body the
 * GRIP origin sends on a stream Pushpin holds open, "\r\n\r\n" the end of a response head (a
 * WebSocket's 101). Returns the connection (the caller closes it), or -1 with the connection
 * closed when that did not arrive within the deadline; buf (cap bytes) holds what was read, *len
 * its length. */
static int dial_read(uint16_t port, const char *req, const char *until, char *buf, size_t cap,
                     size_t *len)
{
    *len = 0;
    buf[0] = '\0';
    int fd = dial(port);
    if (fd >= 0 && send_str(fd, req, strlen(req)) && read_until(fd, buf, cap, len, until))
        return fd;
    if (fd >= 0)
        close(fd);
    return -1;
}

/* Asks on a fresh connection, again and again until the deadline, until the answer to `req` is a
 * 200 whose stream is held (Pushpin reads a rewritten routes file when it notices it, not at
 * once). True when it was. */
static bool held_once_routed(uint16_t port, const char *req)
{
    uint64_t end = now_ms() + DEADLINE_MS;
    while (now_ms() < end) {
        char buf[4096];
        size_t len;
        int fd = dial_read(port, req, "\r\n\r\n", buf, sizeof buf, &len);
        bool held = fd >= 0 && strncmp(buf, "HTTP/1.1 200", 12) == 0 &&
                    read_until(fd, buf, sizeof buf, &len, "held\n");
        if (fd >= 0)
            close(fd);
        if (held)
            return true;
        usleep(100 * 1000);
    }
    return false;
}

/* ---- the origins: a GRIP one and a WebSocket echo one ---- */

typedef struct origin {
    int fd;
    uint16_t port;
    pthread_t thread;
    pthread_mutex_t lock;
    char heads[32768]; /* every request head (and a body's start) received, in order */
    size_t heads_len;
    bool websocket;
    SSL_CTX *tls; /* a TLS origin, or NULL */
} origin;

/* The origin's side of one connection: plain or TLS. */
typedef struct oconn {
    int fd;
    SSL *ssl;
} oconn;

static ssize_t o_read(oconn *c, void *p, size_t n)
{
    return c->ssl ? SSL_read(c->ssl, p, (int)n) : recv(c->fd, p, n, 0);
}

static bool o_write(oconn *c, const void *p, size_t n)
{
    if (!c->ssl)
        return send_str(c->fd, p, n);
    return SSL_write(c->ssl, p, (int)n) == (int)n;
}

static void record(origin *o, const char *head, size_t n)
{
    pthread_mutex_lock(&o->lock);
    if (n < sizeof o->heads - o->heads_len - 1) {
        memcpy(o->heads + o->heads_len, head, n);
        o->heads_len += n;
        o->heads[o->heads_len] = '\0';
    }
    pthread_mutex_unlock(&o->lock);
}

static bool origin_saw(origin *o, const char *needle)
{
    pthread_mutex_lock(&o->lock);
    bool found = strstr(o->heads, needle) != NULL;
    pthread_mutex_unlock(&o->lock);
    return found;
}

/* Sec-WebSocket-Accept for a key (RFC 6455 4.2.2). */
static void ws_accept(const char *key, size_t key_len, char out[64])
{
    static const char guid[] = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
    char joined[256];
    int n = snprintf(joined, sizeof joined, "%.*s%s", (int)key_len, key, guid);
    unsigned char digest[SHA_DIGEST_LENGTH];
    SHA1((const unsigned char *)joined, (size_t)n, digest);
    EVP_EncodeBlock((unsigned char *)out, digest, SHA_DIGEST_LENGTH);
}

static bool recv_all(oconn *c, uint8_t *p, size_t n)
{
    while (n > 0) {
        ssize_t r = o_read(c, p, n);
        if (r <= 0)
            return false;
        p += r;
        n -= (size_t)r;
    }
    return true;
}

/* Reads one frame (unmasking it); returns the opcode, -1 at the end. */
static int ws_read_frame(oconn *fd, uint8_t *payload, size_t cap, size_t *len)
{
    uint8_t h[2];
    if (!recv_all(fd, h, 2))
        return -1;
    uint64_t n = h[1] & 0x7f;
    if (n == 126) {
        uint8_t x[2];
        if (!recv_all(fd, x, 2))
            return -1;
        n = (uint64_t)x[0] << 8 | x[1];
    } else if (n == 127) {
        return -1; /* not used here */
    }
    uint8_t mask[4] = {0};
    if ((h[1] & 0x80) && !recv_all(fd, mask, 4))
        return -1;
    if (n > cap || !recv_all(fd, payload, (size_t)n))
        return -1;
    for (uint64_t i = 0; i < n; i++)
        payload[i] ^= mask[i % 4];
    *len = (size_t)n;
    return h[0] & 0x0f;
}

/* Sends one final frame, masked (client) or not (server). */
static bool ws_send_frame(oconn *fd, int opcode, const uint8_t *p, size_t n, bool masked)
{
    uint8_t frame[512];
    if (n > 400)
        return false;
    size_t o = 0;
    frame[o++] = (uint8_t)(0x80 | opcode);
    frame[o++] = (uint8_t)((masked ? 0x80 : 0) | (n < 126 ? n : 126));
    if (n >= 126) {
        frame[o++] = (uint8_t)(n >> 8);
        frame[o++] = (uint8_t)n;
    }
    static const uint8_t mask[4] = {0x12, 0x34, 0x56, 0x78};
    if (masked) {
        memcpy(frame + o, mask, 4);
        o += 4;
    }
    for (size_t i = 0; i < n; i++)
        frame[o + i] = masked ? p[i] ^ mask[i % 4] : p[i];
    return o_write(fd, frame, o + n);
}

static void serve_websocket(origin *o, oconn *c, const char *head)
{
    const char *k = strcasestr(head, "\r\nsec-websocket-key:");
    if (!k) {
        static const char bad[] = "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n";
        o_write(c, bad, sizeof bad - 1);
        return;
    }
    k += 20;
    while (*k == ' ')
        k++;
    char accept[64], resp[256];
    ws_accept(k, strcspn(k, "\r"), accept);
    int n = snprintf(resp, sizeof resp,
                     "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: "
                     "Upgrade\r\nSec-WebSocket-Accept: %s\r\n\r\n",
                     accept);
    if (!o_write(c, resp, (size_t)n))
        return;
    (void)o;
    uint8_t payload[512];
    size_t len;
    for (;;) {
        int op = ws_read_frame(c, payload, sizeof payload, &len);
        if (op < 0)
            return;
        if (op == 8) { /* close: answer it and end */
            ws_send_frame(c, 8, payload, len, false);
            return;
        }
        char echoed[600];
        int m = snprintf(echoed, sizeof echoed, "echo: %.*s", (int)len, payload);
        ws_send_frame(c, op, (const uint8_t *)echoed, (size_t)m, false);
    }
}

/* FNV-1a, 32 bits, continued from h: the check of a replayed body too large to record. */
static uint32_t fnv1a(uint32_t h, const void *p, size_t n)
{
    const uint8_t *b = p;
    for (size_t i = 0; i < n; i++)
        h = (h ^ b[i]) * 16777619u;
    return h;
}
#define FNV1A_INIT 2166136261u

/* Reads a request head and its Content-Length body: head (cap bytes) keeps the head and what of
 * the body fits; *body_len and *body_fnv cover the whole body as it arrived. Returns what head
 * holds (0: no head). */
static size_t read_request(oconn *c, char *head, size_t cap, size_t *body_len, uint32_t *body_fnv)
{
    size_t len = 0;
    head[0] = '\0';
    *body_len = 0;
    *body_fnv = FNV1A_INIT;
    uint64_t end = now_ms() + DEADLINE_MS;
    while (!strstr(head, "\r\n\r\n") && len + 1 < cap && now_ms() < end) {
        ssize_t n = o_read(c, head + len, cap - 1 - len);
        if (n <= 0)
            return 0;
        len += (size_t)n;
        head[len] = '\0';
    }
    const char *cl = strcasestr(head, "\r\ncontent-length:");
    char *hend = strstr(head, "\r\n\r\n");
    if (!hend)
        return 0;
    size_t at = (size_t)(hend + 4 - head), want = cl && cl < hend ? strtoul(cl + 17, NULL, 10) : 0;
    size_t got = len - at < want ? len - at : want;
    *body_fnv = fnv1a(*body_fnv, head + at, got);
    while (got < want) {
        char chunk[16384], *into = len + 1 < cap ? head + len : chunk;
        size_t room = len + 1 < cap ? cap - 1 - len : sizeof chunk;
        ssize_t n = o_read(c, into, room < want - got ? room : want - got);
        if (n <= 0)
            break;
        *body_fnv = fnv1a(*body_fnv, into, (size_t)n);
        got += (size_t)n;
        if (into != chunk) {
            len += (size_t)n;
            head[len] = '\0';
        }
    }
    *body_len = got;
    return len;
}

static void *origin_main(void *arg)
{
    origin *o = arg;
    for (;;) {
        int fd = accept(o->fd, NULL, NULL);
        if (fd < 0) {
            if (errno == EINTR)
                continue;
            return NULL; /* shut down */
        }
        oconn c = {.fd = fd};
        if (o->tls) {
            c.ssl = SSL_new(o->tls);
            SSL_set_fd(c.ssl, fd);
            if (SSL_accept(c.ssl) != 1) { /* e.g. a client that does not trust us */
                SSL_free(c.ssl);
                close(fd);
                continue;
            }
        }
        char head[8192];
        size_t body_len;
        uint32_t body_fnv;
        size_t len = read_request(&c, head, sizeof head, &body_len, &body_fnv);
        if (len > 0) {
            const char *hend = strstr(head, "\r\n\r\n");   /* read_request found it */
            size_t keep = (size_t)(hend + 4 - head) + 256; /* the head, a body's start */
            record(o, head, len < keep ? len : keep);
            char summary[64];
            int m = snprintf(summary, sizeof summary, "\n[body %zu bytes, fnv1a %08x]\n", body_len,
                             (unsigned)body_fnv);
            record(o, summary, (size_t)m);
            if (o->websocket) {
                serve_websocket(o, &c, head);
            } else {
                static const char held[] = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
                                           "Grip-Hold: stream\r\nGrip-Channel: test\r\n"
                                           "Content-Length: 5\r\n\r\nheld\n";
                o_write(&c, held, sizeof held - 1);
            }
        }
        if (c.ssl) {
            SSL_shutdown(c.ssl);
            SSL_free(c.ssl);
        }
        close(fd);
    }
}

static bool origin_start_with(origin *o, bool websocket, SSL_CTX *tls)
{
    memset(o, 0, sizeof *o);
    pthread_mutex_init(&o->lock, NULL);
    o->websocket = websocket;
    o->tls = tls;
    o->fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    if (o->fd < 0 || bind(o->fd, (struct sockaddr *)&a, sizeof a) != 0 || listen(o->fd, 16) != 0 ||
        getsockname(o->fd, (struct sockaddr *)&a, &len) != 0)
        return false;
    o->port = ntohs(a.sin_port);
    return pthread_create(&o->thread, NULL, origin_main, o) == 0;
}

static bool origin_start(origin *o, bool websocket)
{
    return origin_start_with(o, websocket, NULL);
}

/* A WebSocket origin speaking TLS with the certificate and key files given. */
static bool origin_start_tls(origin *o, const char *cert, const char *key)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    if (!ctx || SSL_CTX_use_certificate_chain_file(ctx, cert) != 1 ||
        SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1) {
        SSL_CTX_free(ctx);
        return false;
    }
    return origin_start_with(o, true, ctx);
}

static void origin_stop(origin *o)
{
    shutdown(o->fd, SHUT_RDWR);
    pthread_join(o->thread, NULL);
    close(o->fd);
    SSL_CTX_free(o->tls);
    pthread_mutex_destroy(&o->lock);
}

/* ---- the server under test ---- */

typedef struct setup {
    bool pushpin;
    const char *pushpin_path;
    uint16_t proxy, publish;
    uint16_t grip, echo, echotls;
    const char *ca; /* the TLS origin's certificate, trusted for backend "echotls" */
    bool websocket_off;
} setup;

static fastlike_status hook(fastlike_config *c, void *user, char *err, size_t errlen)
{
    setup *s = user;
    char spec[64];
    fastlike_status st = FASTLIKE_OK;
    if (s->grip) {
        snprintf(spec, sizeof spec, "grip=127.0.0.1:%u", (unsigned)s->grip);
        st = fastlike_config_add_backend(c, spec, err, errlen);
    }
    if (st == FASTLIKE_OK && s->echo) {
        snprintf(spec, sizeof spec, "echo=127.0.0.1:%u", (unsigned)s->echo);
        st = fastlike_config_add_backend(c, spec, err, errlen);
    }
    if (st == FASTLIKE_OK && s->echotls) {
        snprintf(spec, sizeof spec, "echotls=https://127.0.0.1:%u", (unsigned)s->echotls);
        st = fastlike_config_add_backend(c, spec, err, errlen);
        if (st == FASTLIKE_OK)
            st = fastlike_config_set_backend_ca_file(c, "echotls", s->ca);
        snprintf(spec, sizeof spec, "echobad=https://127.0.0.1:%u", (unsigned)s->echotls);
        if (st == FASTLIKE_OK)
            st = fastlike_config_add_backend(c, spec, err, errlen);
    }
    if (st == FASTLIKE_OK && s->pushpin)
        st = fastlike_config_set_pushpin(c, true, s->proxy, s->publish, s->pushpin_path);
    if (s->websocket_off)
        fastlike_config_set_websocket_passthrough(c, false);
    return st;
}

static fastlike_status running_hook(fastlike_config *c, void *user, char *err, size_t errlen)
{
    setup *s = user;
    fastlike_status st = hook(c, user, err, errlen);
    return st == FASTLIKE_OK ? fastlike_config_set_pushpin(c, false, s->proxy, 0, NULL) : st;
}

/* Publishes `text` on channel "test" through Pushpin's publish port; true on 200. */
static bool publish(uint16_t port, const char *text)
{
    char body[256], req[512], resp[1024];
    int n = snprintf(body, sizeof body,
                     "{\"items\":[{\"channel\":\"test\",\"formats\":{\"http-stream\":"
                     "{\"content\":\"%s\\n\"}}}]}",
                     text);
    int m = snprintf(req, sizeof req,
                     "POST /publish/ HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: "
                     "application/json\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s",
                     n, body);
    int fd = dial(port);
    if (fd < 0)
        return false;
    size_t len = 0;
    resp[0] = '\0';
    bool ok = send_str(fd, req, (size_t)m) && read_until(fd, resp, sizeof resp, &len, "\r\n") &&
              strncmp(resp, "HTTP/1.1 200", 12) == 0;
    close(fd);
    return ok;
}

TEST(fanout_stream_and_websocket)
{
    if (!have_pushpin()) {
        printf("fanout_stream_and_websocket: SKIPPED: pushpin is not installed (Debian package "
               "pushpin; scripts/deps.sh installs it)\n");
        return;
    }
    origin grip, echo, echotls;
    CHECK(origin_start(&grip, false));
    CHECK(origin_start(&echo, true));
    /* a self-signed certificate for 127.0.0.1, made now */
    char dir[] = "/tmp/fastlike-fanout-tls-XXXXXX", cert[128], key[128], cmd0[600];
    CHECK(mkdtemp(dir) != NULL);
    snprintf(cert, sizeof cert, "%s/cert.pem", dir);
    snprintf(key, sizeof key, "%s/key.pem", dir);
    snprintf(cmd0, sizeof cmd0,
             "openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=127.0.0.1 "
             "-addext subjectAltName=IP:127.0.0.1 -keyout %s -out %s >/dev/null 2>&1",
             key, cert);
    CHECK_EQ_INT(system(cmd0), 0);
    CHECK(origin_start_tls(&echotls, cert, key));
    setup su = {.pushpin = true,
                .proxy = free_port(),
                .publish = free_port(),
                .grip = grip.port,
                .echo = echo.port,
                .echotls = echotls.port,
                .ca = cert};
    server *s = server_start_with(GUEST, hook, &su);
    CHECK(s != NULL);
    if (!s) {
        origin_stop(&grip);
        origin_stop(&echo);
        origin_stop(&echotls);
        return;
    }
    CHECK(log_has(&s->log, "Pushpin started for Fanout"));

    /* Fanout: the client is held on a stream; a published message reaches it */
    char buf[8192];
    size_t len = 0;
    int fd = dial_read(s->port, "GET /stream/a HTTP/1.1\r\nHost: localhost\r\n\r\n", "held\n", buf,
                       sizeof buf, &len);
    CHECK(fd >= 0);
    CHECK(strncmp(buf, "HTTP/1.1 200", 12) == 0);
    CHECK(strcasestr(buf, "grip-hold") == NULL); /* Pushpin consumed the GRIP instructions */
    bool got = false;
    uint64_t end = now_ms() + DEADLINE_MS;
    while (!got && now_ms() < end) { /* until Pushpin has the subscription */
        CHECK(publish(su.publish, "pushed"));
        size_t before = len;
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (poll(&p, 1, 500) > 0) {
            ssize_t n = recv(fd, buf + len, sizeof buf - 1 - len, 0);
            if (n > 0) {
                len += (size_t)n;
                buf[len] = '\0';
            }
        }
        got = len > before && strstr(buf, "pushed\n") != NULL;
    }
    CHECK(got);
    close(fd);
    /* the origin got the request through Pushpin (signed), with the guest's path */
    CHECK(origin_saw(&grip, "GET /stream/a HTTP/1.1"));
    CHECK(origin_saw(&grip, "Grip-Sig:"));
    CHECK(log_wait(&s->log, "GET http://localhost/stream/a -> handed off"));

    /* Fanout of a request the guest built: its path and its header reach the origin */
    fd = dial_read(s->port, "GET /rewritten HTTP/1.1\r\nHost: localhost\r\n\r\n", "held\n", buf,
                   sizeof buf, &len);
    CHECK(fd >= 0);
    if (fd >= 0)
        close(fd);
    CHECK(origin_saw(&grip, "GET /stream/rewritten?x=1 HTTP/1.1"));
    CHECK(origin_saw(&grip, "x-added: by-guest") || origin_saw(&grip, "X-Added: by-guest"));

    /* the downstream request's body is replayed to the target */
    fd = dial_read(s->port,
                   "POST /stream/post HTTP/1.1\r\nHost: localhost\r\n"
                   "Content-Length: 14\r\n\r\nbody-to-replay",
                   "held\n", buf, sizeof buf, &len);
    CHECK(fd >= 0);
    if (fd >= 0)
        close(fd);
    CHECK(origin_saw(&grip, "POST /stream/post HTTP/1.1"));
    CHECK(origin_saw(&grip, "body-to-replay"));

    /* a body larger than what is read ahead (64 KiB): the rest is read at the handoff, and the
     * target gets all of it, in order (90,000 bytes: under what Pushpin buffers for a retry) */
    {
        size_t n = 90000;
        char head[128];
        int hl = snprintf(head, sizeof head,
                          "POST /stream/big HTTP/1.1\r\nHost: localhost\r\n"
                          "Content-Length: %zu\r\n\r\n",
                          n);
        char *req = malloc((size_t)hl + n + 1);
        CHECK(req != NULL);
        if (req) {
            memcpy(req, head, (size_t)hl);
            for (size_t i = 0; i < n; i++)
                req[hl + i] = (char)('a' + (i * 7 + i / 251) % 26);
            req[hl + n] = '\0';
            char want[64];
            snprintf(want, sizeof want, "[body %zu bytes, fnv1a %08x]", n,
                     (unsigned)fnv1a(FNV1A_INIT, req + hl, n));
            fd = dial_read(s->port, req, "held\n", buf, sizeof buf, &len);
            CHECK(fd >= 0);
            if (fd >= 0)
                close(fd);
            CHECK(origin_saw(&grip, "POST /stream/big HTTP/1.1"));
            CHECK(origin_saw(&grip, want));
            free(req);
        }
    }

    /* WebSocket passthrough with our own client: 101, then frames both ways */
    static const char upgrade[] = "GET /ws/chat HTTP/1.1\r\nHost: localhost\r\n"
                                  "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                                  "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                                  "Sec-WebSocket-Version: 13\r\n\r\n";
    fd = dial_read(s->port, upgrade, "\r\n\r\n", buf, sizeof buf, &len);
    CHECK(fd >= 0);
    CHECK(strncmp(buf, "HTTP/1.1 101", 12) == 0);
    CHECK_STR_CONTAINS(buf, "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
    oconn cc = {.fd = fd};
    for (int i = 0; i < 3; i++) {
        char msg[32], want[48];
        snprintf(msg, sizeof msg, "hello %d", i);
        snprintf(want, sizeof want, "echo: %s", msg);
        CHECK(ws_send_frame(&cc, 1, (const uint8_t *)msg, strlen(msg), true));
        uint8_t payload[512];
        size_t plen = 0;
        CHECK_EQ_INT(ws_read_frame(&cc, payload, sizeof payload, &plen), 1);
        CHECK(plen == strlen(want) && memcmp(payload, want, plen) == 0);
    }
    CHECK(ws_send_frame(&cc, 8, (const uint8_t *)"\x03\xe8", 2, true));
    uint8_t payload[64];
    size_t plen = 0;
    CHECK_EQ_INT(ws_read_frame(&cc, payload, sizeof payload, &plen), 8);
    close(fd);
    CHECK(origin_saw(&echo, "GET /ws/chat HTTP/1.1"));
    char host[64];
    snprintf(host, sizeof host, "Host: 127.0.0.1:%u", (unsigned)echo.port);
    CHECK(origin_saw(&echo, host));

    /* WebSocket passthrough to a TLS backend (its CA configured): the relay speaks TLS to it */
    fd = dial_read(s->port,
                   "GET /wss/chat HTTP/1.1\r\nHost: localhost\r\n"
                   "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                   "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                   "Sec-WebSocket-Version: 13\r\n\r\n",
                   "\r\n\r\n", buf, sizeof buf, &len);
    CHECK(fd >= 0);
    CHECK(strncmp(buf, "HTTP/1.1 101", 12) == 0);
    cc.fd = fd;
    CHECK(ws_send_frame(&cc, 1, (const uint8_t *)"over tls", 8, true));
    plen = 0;
    uint8_t tls_payload[128];
    CHECK_EQ_INT(ws_read_frame(&cc, tls_payload, sizeof tls_payload, &plen), 1);
    CHECK(plen == 14 && memcmp(tls_payload, "echo: over tls", 14) == 0);
    close(fd);
    CHECK(origin_saw(&echotls, "GET /wss/chat HTTP/1.1"));
    /* a TLS backend whose certificate is not trusted: a 500 saying so, nothing reaches it */
    hc_resp rt = {0};
    CHECK_EQ_INT(simple_on(s->port,
                           "GET /wss-untrusted/x HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n"
                           "Connection: Upgrade\r\nSec-WebSocket-Key: "
                           "dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
                           &rt, false),
                 500);
    CHECK_STR_CONTAINS((const char *)rt.body, "TLS handshake failed: certificate:");
    hc_resp_free(&rt);
    CHECK(!origin_saw(&echotls, "/wss-untrusted/"));

    /* node's WebSocket client (a browser-grade implementation) through the same path */
    char cmd[1024];
    snprintf(cmd, sizeof cmd,
             "node --experimental-websocket -e '"
             "const ws = new WebSocket(\"ws://127.0.0.1:%u/ws/node\");"
             "ws.onopen = () => ws.send(\"from node\");"
             "ws.onmessage = (e) => { console.log(\"got:\" + e.data); ws.close(); };"
             "ws.onclose = (e) => { console.log(\"closed:\" + e.code); process.exit(0); };"
             "ws.onerror = () => { console.log(\"error\"); process.exit(1); };"
             "setTimeout(() => { console.log(\"timeout\"); process.exit(1); }, %d).unref();"
             "' 2>/dev/null",
             (unsigned)s->port, DEADLINE_MS);
    FILE *p = popen(cmd, "r");
    CHECK(p != NULL);
    if (p) {
        char out[256] = "";
        size_t n = fread(out, 1, sizeof out - 1, p);
        out[n] = '\0';
        CHECK_EQ_INT(pclose(p), 0);
        CHECK_STR_CONTAINS(out, "got:echo: from node");
        CHECK_STR_CONTAINS(out, "closed:1005"); /* the echo origin answered node's close */
    }

    /* a WebSocket handoff to a backend that does not exist: 500 naming it (as Viceroy) */
    hc_resp r = {0};
    CHECK_EQ_INT(simple_on(s->port, "GET /ws-unknown HTTP/1.1\r\nHost: x\r\n\r\n", &r, false), 500);
    CHECK_STR_CONTAINS((const char *)r.body, "unknown backend 'nosuchbackend'");
    hc_resp_free(&r);
    /* a Fanout route matching no backend (and no catch-all): Pushpin's own 502 */
    memset(&r, 0, sizeof r);
    CHECK_EQ_INT(simple_on(s->port, "GET /fanout-unknown HTTP/1.1\r\nHost: x\r\n\r\n", &r, false),
                 502);
    CHECK_STR_CONTAINS((const char *)r.body, "No route");
    hc_resp_free(&r);
    /* the ordinary path still answers, on the same server */
    memset(&r, 0, sizeof r);
    CHECK_EQ_INT(simple_on(s->port, "GET /plain HTTP/1.1\r\nHost: x\r\n\r\n", &r, false), 200);
    hc_resp_free(&r);

    /* a WebSocket still open when the server stops is ended, not left hanging */
    int open_ws = dial_read(s->port, upgrade, "\r\n\r\n", buf, sizeof buf, &len);
    CHECK(open_ws >= 0);
    CHECK(strncmp(buf, "HTTP/1.1 101", 12) == 0);
    server_stop(s); /* stops Pushpin too: its proxy port is free again */
    struct pollfd pe = {.fd = open_ws, .events = POLLIN};
    CHECK(poll(&pe, 1, DEADLINE_MS) == 1);
    char tail[16];
    CHECK(recv(open_ws, tail, sizeof tail, 0) <= 0);
    close(open_ws);
    CHECK(port_is_free(su.proxy));
    origin_stop(&grip);
    origin_stop(&echo);
    origin_stop(&echotls);
    unlink(cert);
    unlink(key);
    rmdir(dir);
}

/* No Pushpin configured: the Fanout hostcall answers unsupported, the SDK's handoff fails, the
 * client gets the guest's failure (500), and the log says how to turn Fanout on. WebSocket
 * passthrough switched off likewise. */
TEST(fanout_not_enabled)
{
    origin echo;
    CHECK(origin_start(&echo, true));
    setup su = {.echo = echo.port, .websocket_off = true};
    server *s = server_start_with(GUEST, hook, &su);
    CHECK(s != NULL);
    if (s) {
        hc_resp r = {0};
        CHECK_EQ_INT(simple_on(s->port, "GET /stream/a HTTP/1.1\r\nHost: x\r\n\r\n", &r, false),
                     500);
        hc_resp_free(&r);
        CHECK(log_wait(&s->log, "Fanout is not enabled (start Fastlike with -pushpin"));
        memset(&r, 0, sizeof r);
        CHECK_EQ_INT(simple_on(s->port,
                               "GET /ws/a HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n"
                               "Connection: Upgrade\r\nSec-WebSocket-Key: "
                               "dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
                               &r, false),
                     500);
        hc_resp_free(&r);
        CHECK(log_wait(&s->log, "WebSocket passthrough is off"));
        CHECK(!origin_saw(&echo, "GET")); /* nothing reached the backend */
        server_stop(s);
    }
    origin_stop(&echo);
}

/* A Pushpin that cannot start (no such binary): one line, the server runs, Fanout is off. */
TEST(pushpin_missing)
{
    setup su = {.pushpin = true,
                .pushpin_path = "/nonexistent/pushpin",
                .proxy = free_port(),
                .publish = free_port()};
    server *s = server_start_with(GUEST, hook, &su);
    CHECK(s != NULL);
    if (!s)
        return;
    CHECK(log_has(&s->log, "fastlike: Fanout is off: pushpin binary '/nonexistent/pushpin' not "
                           "found or not executable"));
    hc_resp r = {0};
    CHECK_EQ_INT(simple_on(s->port, "GET /stream/a HTTP/1.1\r\nHost: x\r\n\r\n", &r, false), 500);
    hc_resp_free(&r);
    memset(&r, 0, sizeof r);
    CHECK_EQ_INT(simple_on(s->port, "GET /plain HTTP/1.1\r\nHost: x\r\n\r\n", &r, false), 200);
    hc_resp_free(&r);
    server_stop(s);
}

/* A Pushpin already running (here: one srv_fanout started, as the Fastly CLI would): the server
 * only gets its port (-pushpin-port alone, Viceroy's --local-pushpin-proxy-port) and uses it. */
TEST(running_pushpin)
{
    if (!have_pushpin()) {
        printf("running_pushpin: SKIPPED: pushpin is not installed\n");
        return;
    }
    origin grip;
    CHECK(origin_start(&grip, false));
    be_backend b;
    be_backend_init(&b);
    be_set_str(&b.name, "grip");
    be_set_str(&b.host, "127.0.0.1");
    be_set_str(&b.path_prefix, "");
    b.port = grip.port;
    cfg_pushpin pc = {.start = 1, .proxy_port = free_port(), .publish_port = free_port()};
    logbuf plog = {.lock = PTHREAD_MUTEX_INITIALIZER};
    srv_log log = {capture, &plog, 1};
    srv_fanout *running = srv_fanout_new(&pc, &b, 1, &log);
    be_backend_deinit(&b);
    CHECK(running != NULL && srv_fanout_settings(running)->pushpin_port == pc.proxy_port);
    setup su = {.grip = grip.port, .proxy = pc.proxy_port};
    server *s = server_start_with(GUEST, running_hook, &su);
    CHECK(s != NULL);
    if (s) {
        char want[96];
        snprintf(want, sizeof want, "Fanout through the Pushpin on 127.0.0.1:%u",
                 (unsigned)pc.proxy_port);
        CHECK(log_has(&s->log, want));
        CHECK(!log_has(&s->log, "Pushpin started")); /* no second one */
        char buf[4096];
        size_t len = 0;
        int fd = dial_read(s->port, "GET /stream/running HTTP/1.1\r\nHost: localhost\r\n\r\n",
                           "held\n", buf, sizeof buf, &len);
        CHECK(fd >= 0);
        if (fd >= 0)
            close(fd);
        CHECK(origin_saw(&grip, "GET /stream/running HTTP/1.1"));
        server_stop(s);
    }
    CHECK(!port_is_free(pc.proxy_port)); /* the server did not stop a Pushpin it did not start */
    srv_fanout_free(running);
    CHECK(port_is_free(pc.proxy_port));
    free(plog.text);
    origin_stop(&grip);
}

/* A reload with a config takes its backends (issue 14): a WebSocket handoff to a backend the
 * first config did not have reaches it afterwards. No Pushpin needed. */
TEST(reload_replaces_the_backends)
{
    origin echo;
    CHECK(origin_start(&echo, true));
    setup su = {.echo = echo.port};
    server *s = server_start_with(GUEST, hook, &su);
    CHECK(s != NULL);
    if (!s) {
        origin_stop(&echo);
        return;
    }
    static const char upgrade[] = "GET /ws-unknown HTTP/1.1\r\nHost: localhost\r\n"
                                  "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                                  "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                                  "Sec-WebSocket-Version: 13\r\n\r\n";
    hc_resp r = {0};
    CHECK_EQ_INT(simple_on(s->port, upgrade, &r, false), 500);
    CHECK_STR_CONTAINS((const char *)r.body, "unknown backend 'nosuchbackend'");
    hc_resp_free(&r);
    char spec[64], err[512] = "";
    snprintf(spec, sizeof spec, "nosuchbackend=127.0.0.1:%u", (unsigned)echo.port);
    CHECK_EQ_INT(fastlike_config_add_backend(s->cfg, spec, err, sizeof err), FASTLIKE_OK);
    CHECK_EQ_INT(fastlike_reload(s->f, s->cfg, err, sizeof err), FASTLIKE_OK);
    char buf[4096];
    size_t len;
    int fd = dial_read(s->port, upgrade, "\r\n\r\n", buf, sizeof buf, &len);
    CHECK(fd >= 0);
    CHECK(strncmp(buf, "HTTP/1.1 101", 12) == 0);
    if (fd >= 0)
        close(fd);
    CHECK(origin_saw(&echo, "GET /ws-unknown HTTP/1.1"));
    server_stop(s);
    origin_stop(&echo);
}

/* A reload that adds a backend rewrites our Pushpin's routes (issue 14): a Fanout handoff to a
 * route Pushpin did not know (its own 502 "No route") reaches that backend through Pushpin once
 * it has read the new routes file. */
TEST(pushpin_routes_follow_a_reload)
{
    if (!have_pushpin()) {
        printf("pushpin_routes_follow_a_reload: SKIPPED: pushpin is not installed\n");
        return;
    }
    origin grip;
    CHECK(origin_start(&grip, false));
    setup su = {.pushpin = true, .proxy = free_port(), .publish = free_port(), .grip = grip.port};
    server *s = server_start_with(GUEST, hook, &su);
    CHECK(s != NULL);
    if (!s) {
        origin_stop(&grip);
        return;
    }
    CHECK(log_has(&s->log, "Pushpin started for Fanout"));
    static const char get[] = "GET /fanout-unknown HTTP/1.1\r\nHost: localhost\r\n\r\n";
    hc_resp r = {0};
    CHECK_EQ_INT(simple_on(s->port, get, &r, false), 502);
    CHECK_STR_CONTAINS((const char *)r.body, "No route");
    hc_resp_free(&r);
    /* a reload with the same backends leaves the routes file alone */
    char err[512] = "";
    CHECK_EQ_INT(fastlike_reload(s->f, s->cfg, err, sizeof err), FASTLIKE_OK);
    CHECK(!log_has(&s->log, "Pushpin routes rewritten"));
    char spec[64];
    snprintf(spec, sizeof spec, "nosuchroute=127.0.0.1:%u", (unsigned)grip.port);
    CHECK_EQ_INT(fastlike_config_add_backend(s->cfg, spec, err, sizeof err), FASTLIKE_OK);
    CHECK_EQ_INT(fastlike_reload(s->f, s->cfg, err, sizeof err), FASTLIKE_OK);
    CHECK(log_has(&s->log, "fastlike: reload: Pushpin routes rewritten for the new backends"));
    /* Pushpin notices the file by itself: ask until it routes the request (or the deadline) */
    CHECK(held_once_routed(s->port, get));
    CHECK(origin_saw(&grip, "GET /fanout-unknown HTTP/1.1"));
    server_stop(s);
    origin_stop(&grip);
}

static char fastlike_bin[1024];

static bool file_has(const char *path, const char *needle)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return false;
    char buf[16384];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    return strstr(buf, needle) != NULL;
}

/* The command line: fastly.toml's [local_server.pushpin] enable = true starts Pushpin (the flags
 * and toml reach the library), a SIGHUP (-reload) after the toml gained a backend gives Pushpin
 * its route, and SIGTERM stops Pushpin with the server. */
TEST(binary_with_fastly_toml)
{
    if (!have_pushpin()) {
        printf("binary_with_fastly_toml: SKIPPED: pushpin is not installed\n");
        return;
    }
    origin grip;
    CHECK(origin_start(&grip, false));
    uint16_t proxy = free_port(), publish = free_port(), http = free_port();
    char dir[] = "/tmp/fastlike-fanout-bin-XXXXXX", toml[128], log[128], bind[64], text[512];
    CHECK(mkdtemp(dir) != NULL);
    snprintf(toml, sizeof toml, "%s/fastly.toml", dir);
    snprintf(log, sizeof log, "%s/stderr.log", dir);
    snprintf(bind, sizeof bind, "127.0.0.1:%u", (unsigned)http);
    snprintf(text, sizeof text,
             "manifest_version = 3\n"
             "[local_server.backends.grip]\nurl = \"http://127.0.0.1:%u\"\n"
             "[local_server.pushpin]\nenable = true\nproxy_port = %u\npublish_port = %u\n",
             (unsigned)grip.port, (unsigned)proxy, (unsigned)publish);
    FILE *f = fopen(toml, "w");
    CHECK(f != NULL);
    if (f) {
        fputs(text, f);
        fclose(f);
    }
    pid_t pid = fork();
    if (pid == 0) {
        int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        dup2(fd, 2);
        dup2(fd, 1);
        execl(fastlike_bin, fastlike_bin, "-wasm", GUEST, "-C", toml, "-bind", bind, "-v", "1",
              "-reload", (char *)NULL);
        _exit(127);
    }
    CHECK(pid > 0);
    uint64_t end = now_ms() + DEADLINE_MS;
    while (!file_has(log, "listening on") && now_ms() < end)
        usleep(20000);
    snprintf(text, sizeof text, "fastlike: Pushpin started for Fanout: proxy 127.0.0.1:%u",
             (unsigned)proxy);
    CHECK(file_has(log, text));
    if (!file_has(log, text)) {
        char cat[300];
        snprintf(cat, sizeof cat, "cat %s >&2", log);
        if (system(cat) != 0)
            fprintf(stderr, "(no log)\n");
    }
    char buf[4096];
    size_t len = 0;
    int fd = dial_read(http, "GET /stream/bin HTTP/1.1\r\nHost: localhost\r\n\r\n", "held\n", buf,
                       sizeof buf, &len);
    CHECK(fd >= 0);
    if (fd >= 0)
        close(fd);
    CHECK(origin_saw(&grip, "GET /stream/bin HTTP/1.1"));
    /* SIGHUP after fastly.toml gained a backend: Pushpin routes to it (issue 14) */
    snprintf(text, sizeof text,
             "manifest_version = 3\n"
             "[local_server.backends.grip]\nurl = \"http://127.0.0.1:%u\"\n"
             "[local_server.backends.nosuchroute]\nurl = \"http://127.0.0.1:%u\"\n"
             "[local_server.pushpin]\nenable = true\nproxy_port = %u\npublish_port = %u\n",
             (unsigned)grip.port, (unsigned)grip.port, (unsigned)proxy, (unsigned)publish);
    f = fopen(toml, "w");
    CHECK(f != NULL);
    if (f) {
        fputs(text, f);
        fclose(f);
    }
    if (pid > 0)
        kill(pid, SIGHUP);
    end = now_ms() + DEADLINE_MS;
    while (!file_has(log, "Pushpin routes rewritten") && now_ms() < end)
        usleep(20000);
    CHECK(file_has(log, "fastlike: reload: Pushpin routes rewritten for the new backends"));
    CHECK(held_once_routed(http, "GET /fanout-unknown HTTP/1.1\r\nHost: localhost\r\n\r\n"));
    CHECK(origin_saw(&grip, "GET /fanout-unknown HTTP/1.1"));
    if (pid > 0) {
        kill(pid, SIGTERM);
        int status = 0;
        CHECK_EQ_INT(waitpid(pid, &status, 0), pid);
        CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    }
    CHECK(port_is_free(proxy)); /* Pushpin went with it */
    CHECK(port_is_free(publish));
    unlink(toml);
    unlink(log);
    rmdir(dir);
    origin_stop(&grip);
}

int main(int argc, char **argv)
{
    (void)argc;
    /* the fastlike binary of the same build: build/VARIANT/fastlike (this is
     * build/VARIANT/tests/server/test_fanout) */
    snprintf(fastlike_bin, sizeof fastlike_bin, "%s", argv[0]);
    char *slash = strrchr(fastlike_bin, '/');
    for (int i = 0; i < 3 && slash; i++) {
        *slash = '\0';
        slash = strrchr(fastlike_bin, '/');
    }
    size_t n = strlen(fastlike_bin);
    snprintf(fastlike_bin + n, sizeof fastlike_bin - n, "/fastlike");
    RUN(fanout_stream_and_websocket);
    RUN(fanout_not_enabled);
    RUN(pushpin_missing);
    RUN(running_pushpin);
    RUN(binary_with_fastly_toml);
    RUN(reload_replaces_the_backends);
    RUN(pushpin_routes_follow_a_reload);
    return harness_finish(argv[0]);
}
