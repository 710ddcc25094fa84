/* test_be_transfer.c: the outbound client (src/backend/) against the test origin (origin.h):
 * request rewriting (Host, cdn-loop, path prefix), bodies both ways (known length and chunked,
 * streamed while writing), a large response through the bounded buffer, first-byte and
 * between-bytes timeouts, connection refused, DNS failure, cancel, and the @N draw. */
#include "harness.h"
#include "origin.h"
#include "be_pattern.h"

#include <stdlib.h>
#include <strings.h>

#include "backend/be_backend.h"
#include "backend/be_transfer.h"
#include "util/util_grow.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sys/socket.h>
#include <unistd.h>
#include <zlib.h>

static uint16_t port;
static be_backends *reg;

static be_backend make_backend(const char *host, uint16_t p)
{
    be_backend b;
    be_backend_init(&b);
    be_set_str(&b.name, "origin");
    be_set_str(&b.host, host);
    be_set_str(&b.path_prefix, "");
    b.port = p;
    return b;
}

/* Reads the whole body into a malloc'd NUL-terminated string. */
static char *read_all(be_transfer *t, size_t *len_out)
{
    size_t cap = 0, len = 0;
    char *s = NULL;
    for (;;) {
        if (!util_grow((void **)&s, &cap, len + 512, 1024, 1))
            abort();
        long n = be_transfer_read(t, (uint8_t *)s + len, cap - len - 1);
        if (n <= 0) {
            if (n < 0)
                len = (size_t)-1;
            break;
        }
        len += (size_t)n;
    }
    if (len != (size_t)-1)
        s[len] = '\0';
    if (len_out)
        *len_out = len;
    return s;
}

/* The value of response header `name` (NUL-terminated copy in out), or "" */
static const char *resp_header(be_transfer *t, const char *name, char *out, size_t outlen)
{
    out[0] = '\0';
    for (size_t i = 0; i < be_transfer_nheaders(t); i++) {
        be_header x = be_transfer_header(t, i);
        if (x.name_len == strlen(name) && strncasecmp(x.name, name, x.name_len) == 0) {
            snprintf(out, outlen, "%.*s", (int)x.value_len, x.value);
            break;
        }
    }
    return out;
}

/* ---- a one-shot origin with a canned answer (for responses libmicrohttpd will not produce) ----
 */

typedef struct canned {
    int fd;
    uint16_t port;
    const char *resp;
    size_t resp_len;
    char req[8192]; /* the request head it received */
    pthread_t th;
} canned;

static void *canned_run(void *p)
{
    canned *c = p;
    int s = accept(c->fd, NULL, NULL);
    if (s < 0)
        return NULL;
    size_t n = 0;
    while (n < sizeof c->req - 1 && !strstr(c->req, "\r\n\r\n")) {
        ssize_t r = recv(s, c->req + n, sizeof c->req - 1 - n, 0);
        if (r <= 0)
            break;
        n += (size_t)r;
        c->req[n] = '\0';
    }
    for (size_t off = 0; off < c->resp_len;) {
        ssize_t w = send(s, c->resp + off, c->resp_len - off, MSG_NOSIGNAL);
        if (w <= 0)
            break;
        off += (size_t)w;
    }
    shutdown(s, SHUT_WR);
    char sink[256];
    while (recv(s, sink, sizeof sink, 0) > 0) {
    }
    close(s);
    return NULL;
}

/* Starts a listener on 127.0.0.1 that answers one connection with `len` bytes of `resp`. */
static bool canned_start(canned *c, const char *resp, size_t len)
{
    memset(c, 0, sizeof *c);
    c->resp = resp;
    c->resp_len = len;
    c->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t al = sizeof a;
    if (c->fd < 0 || bind(c->fd, (struct sockaddr *)&a, sizeof a) != 0 || listen(c->fd, 4) != 0 ||
        getsockname(c->fd, (struct sockaddr *)&a, &al) != 0)
        return false;
    c->port = ntohs(a.sin_port);
    return pthread_create(&c->th, NULL, canned_run, c) == 0;
}

static void canned_stop(canned *c)
{
    pthread_join(c->th, NULL);
    close(c->fd);
}

static be_transfer *get(const be_backend *b, const char *method, const char *url,
                        const be_header *h, size_t nh, be_error *err)
{
    be_request req = {.method = method, .url = url, .headers = h, .nheaders = nh};
    return be_transfer_start(be_backends_loop(reg), b, "origin", &req, NULL, err);
}

TEST(get_rewrites_host_and_cdn_loop)
{
    be_backend b = make_backend("127.0.0.1", port);
    be_header h[] = {{"x-test", 6, "hello", 5}, {"cdn-loop", 8, "other", 5}};
    be_error err;
    be_transfer *t = get(&b, "GET", "http://example.com/echo?x=1", h, 2, &err);
    CHECK(t != NULL);
    CHECK_EQ_INT(be_transfer_wait_head(t), BE_OK);
    CHECK_EQ_INT(be_transfer_status(t), 200);
    CHECK_EQ_INT(be_transfer_version(t), 2);
    char v[256];
    char *body = read_all(t, NULL);
    CHECK_STR_EQ(resp_header(t, "x-echo-method", v, sizeof v), "GET");
    CHECK_STR_EQ(resp_header(t, "x-echo-url", v, sizeof v), "/echo?x=1");
    CHECK_STR_EQ(resp_header(t, "x-echo-h-host", v, sizeof v), "example.com");
    CHECK_STR_EQ(resp_header(t, "x-echo-h-cdn-loop", v, sizeof v), "other, Fastlike");
    CHECK_STR_EQ(resp_header(t, "x-echo-h-x-test", v, sizeof v), "hello");
    CHECK_STR_EQ(resp_header(t, "x-echo-h-accept", v, sizeof v), "");
    CHECK(body[0] == '{');
    free(body);
    be_transfer_release(t);
    be_backend_deinit(&b);
}

TEST(override_host_and_prefix)
{
    be_backend b = make_backend("127.0.0.1", port);
    be_set_str(&b.override_host, "override.test");
    be_set_str(&b.path_prefix, "/");
    be_error err;
    be_transfer *t = get(&b, "GET", "/echo", NULL, 0, &err);
    CHECK(t && be_transfer_wait_head(t) == BE_OK);
    char v[256];
    CHECK_STR_EQ(resp_header(t, "x-echo-h-host", v, sizeof v), "override.test");
    CHECK_STR_EQ(resp_header(t, "x-echo-h-cdn-loop", v, sizeof v), "Fastlike");
    be_transfer_release(t);
    /* a path prefix on the backend goes in front of the request path */
    be_set_str(&b.path_prefix, "/echo/pre");
    t = get(&b, "GET", "http://h/x?q", NULL, 0, &err);
    CHECK(t && be_transfer_wait_head(t) == BE_OK);
    CHECK_STR_EQ(resp_header(t, "x-echo-url", v, sizeof v), "/echo/pre/x?q");
    be_transfer_release(t);
    be_backend_deinit(&b);
}

TEST(post_body_known_and_chunked)
{
    be_backend b = make_backend("127.0.0.1", port);
    for (int chunked = 0; chunked < 2; chunked++) {
        be_request req = {
            .method = "POST", .url = "/echo", .has_body = true, .body_length = chunked ? -1 : 10};
        be_error err;
        be_transfer *t = be_transfer_start(be_backends_loop(reg), &b, "o", &req, NULL, &err);
        CHECK(t != NULL);
        CHECK_EQ_INT(be_transfer_write(t, (const uint8_t *)"01234", 5), 0);
        CHECK_EQ_INT(be_transfer_write(t, (const uint8_t *)"56789", 5), 0);
        be_transfer_close_body(t, false);
        CHECK_EQ_INT(be_transfer_wait_head(t), BE_OK);
        char v[256];
        CHECK_STR_EQ(resp_header(t, "x-echo-body-bytes", v, sizeof v), "10");
        CHECK_STR_EQ(resp_header(t, "x-echo-h-transfer-encoding", v, sizeof v),
                     chunked ? "chunked" : "");
        CHECK_STR_EQ(resp_header(t, "x-echo-h-content-length", v, sizeof v), chunked ? "" : "10");
        be_transfer_release(t);
    }
    be_backend_deinit(&b);
}

typedef struct writer_arg {
    be_transfer *t;
    size_t total;
} writer_arg;

static void *writer(void *p)
{
    writer_arg *a = p;
    static uint8_t chunk[65536];
    memset(chunk, 'z', sizeof chunk);
    size_t left = a->total;
    while (left) {
        size_t n = left < sizeof chunk ? left : sizeof chunk;
        if (be_transfer_write(a->t, chunk, n) != 0)
            break;
        left -= n;
    }
    be_transfer_close_body(a->t, false);
    return NULL;
}

TEST(large_upload_streams)
{
    be_backend b = make_backend("127.0.0.1", port);
    be_request req = {.method = "PUT", .url = "/echo", .has_body = true, .body_length = -1};
    be_error err;
    be_transfer *t = be_transfer_start(be_backends_loop(reg), &b, "o", &req, NULL, &err);
    writer_arg a = {t, 8u << 20};
    pthread_t th;
    pthread_create(&th, NULL, writer, &a);
    CHECK_EQ_INT(be_transfer_wait_head(t), BE_OK);
    char v[256];
    CHECK_STR_EQ(resp_header(t, "x-echo-body-bytes", v, sizeof v), "8388608");
    pthread_join(th, NULL);
    be_transfer_release(t);
    be_backend_deinit(&b);
}

TEST(large_download_bounded)
{
    be_backend b = make_backend("127.0.0.1", port);
    be_error err;
    be_transfer *t = get(&b, "GET", "/big?n=67108864", NULL, 0, &err);
    CHECK_EQ_INT(be_transfer_wait_head(t), BE_OK);
    CHECK_EQ_INT(be_transfer_body_length(t), 64 << 20);
    static uint8_t buf[100000];
    uint64_t total = 0;
    bool pattern_ok = true;
    for (;;) {
        long n = be_transfer_read(t, buf, sizeof buf);
        if (n <= 0) {
            CHECK_EQ_INT(n, 0);
            break;
        }
        if (be_pattern_mismatches(total, buf, (size_t)n) != 0)
            pattern_ok = false;
        total += (uint64_t)n;
    }
    CHECK_EQ_U64(total, 64u << 20);
    CHECK(pattern_ok);
    be_transfer_release(t);
    be_backend_deinit(&b);
}

TEST(head_request_has_no_body)
{
    be_backend b = make_backend("127.0.0.1", port);
    be_error err;
    be_transfer *t = get(&b, "HEAD", "/big?n=1000", NULL, 0, &err);
    CHECK_EQ_INT(be_transfer_wait_head(t), BE_OK);
    CHECK_EQ_INT(be_transfer_body_length(t), 0);
    uint8_t buf[16];
    CHECK_EQ_INT(be_transfer_read(t, buf, sizeof buf), 0);
    be_transfer_release(t);
    be_backend_deinit(&b);
}

TEST(first_byte_timeout)
{
    be_backend b = make_backend("127.0.0.1", port);
    b.first_byte_timeout_ms = 100;
    be_error err;
    be_transfer *t = get(&b, "GET", "/slow?first=600&n=10", NULL, 0, &err);
    CHECK_EQ_INT(be_transfer_wait_head(t), BE_ERR_HTTP_RESPONSE_TIMEOUT);
    be_transfer_release(t);
    be_backend_deinit(&b);
}

TEST(between_bytes_timeout)
{
    be_backend b = make_backend("127.0.0.1", port);
    b.between_bytes_timeout_ms = 200;
    be_error err;
    be_transfer *t = get(&b, "GET", "/slow?between=700&n=4096&chunk=1024", NULL, 0, &err);
    CHECK_EQ_INT(be_transfer_wait_head(t), BE_OK);
    size_t len = 0;
    char *body = read_all(t, &len);
    CHECK(len == (size_t)-1); /* the body read fails */
    free(body);
    be_transfer_release(t);
    be_backend_deinit(&b);
}

TEST(connection_refused_and_dns)
{
    be_backend b = make_backend("127.0.0.1", origin_closed_port());
    be_error err;
    be_transfer *t = get(&b, "GET", "/", NULL, 0, &err);
    CHECK_EQ_INT(be_transfer_wait_head(t), BE_ERR_CONNECTION_REFUSED);
    be_transfer_release(t);
    be_backend_deinit(&b);
    b = make_backend("no-such-host.invalid", 80);
    t = get(&b, "GET", "/", NULL, 0, &err);
    CHECK_EQ_INT(be_transfer_wait_head(t), BE_ERR_DNS_ERROR);
    be_transfer_release(t);
    be_backend_deinit(&b);
}

/* What the on_done callbacks of cancelled transfers reported (the loop thread writes it). */
typedef struct cancel_log {
    pthread_mutex_t mu;
    int calls, ok, with_head;
} cancel_log;

static void cancel_done(void *user, be_transfer *t, bool ok, uint16_t status)
{
    (void)t;
    cancel_log *l = user;
    pthread_mutex_lock(&l->mu);
    l->calls++;
    l->ok += ok;
    l->with_head += status == 200;
    pthread_mutex_unlock(&l->mu);
}

/* Releasing the last reference to a running 16 MiB download cancels it: every transfer ends
 * (its callback hears of it once, as a failure, also when the head had arrived) and the loop
 * goes on serving new transfers. */
TEST(cancel_running)
{
    be_backend b = make_backend("127.0.0.1", port);
    cancel_log l = {.calls = 0};
    pthread_mutex_init(&l.mu, NULL);
    for (int i = 0; i < 20; i++) {
        be_request req = {
            .method = "GET", .url = "/big?n=16777216", .on_done = cancel_done, .done_user = &l};
        be_error err;
        be_transfer *t = be_transfer_start(be_backends_loop(reg), &b, "origin", &req, NULL, &err);
        CHECK(t != NULL);
        if (!t)
            continue;
        if (i % 2)
            CHECK_EQ_INT(be_transfer_wait_head(t), BE_OK);
        be_transfer_release(t);
    }
    int calls = 0;
    for (int waited = 0; waited < 30000; waited += 10) { /* 30 s: generous on a loaded machine */
        pthread_mutex_lock(&l.mu);
        calls = l.calls;
        pthread_mutex_unlock(&l.mu);
        if (calls >= 20)
            break;
        usleep(10000);
    }
    pthread_mutex_lock(&l.mu);
    CHECK_EQ_INT(l.calls, 20);
    CHECK_EQ_INT(l.ok, 0);
    CHECK(l.with_head >= 10); /* the ten that waited for the head saw status 200 */
    pthread_mutex_unlock(&l.mu);
    /* the loop still serves */
    be_error err;
    be_transfer *t = get(&b, "GET", "/big?n=1000", NULL, 0, &err);
    CHECK(t != NULL);
    if (t) {
        CHECK_EQ_INT(be_transfer_wait_head(t), BE_OK);
        CHECK_EQ_INT(be_transfer_status(t), 200);
        size_t len = 0;
        free(read_all(t, &len));
        CHECK_EQ_U64(len, 1000);
        be_transfer_release(t);
    }
    pthread_mutex_destroy(&l.mu);
    be_backend_deinit(&b);
}

TEST(draws)
{
    be_backend b = make_backend("127.0.0.1", port);
    b.uptime = 50;
    int ok = 0;
    for (int i = 0; i < 1000; i++)
        ok += be_backends_draw(reg, &b);
    CHECK(ok > 400 && ok < 600);
    b.uptime = 0;
    CHECK(!be_backends_draw(reg, &b));
    b.uptime = 100;
    CHECK(be_backends_draw(reg, &b));
    CHECK_EQ_INT(be_backend_health(&b), 1);
    b.uptime = 0;
    CHECK_EQ_INT(be_backend_health(&b), 2);
    b.uptime = BE_UPTIME_NONE;
    CHECK_EQ_INT(be_backend_health(&b), 0);
    be_backend_deinit(&b);
    /* a fixed seed gives a fixed sequence */
    be_backend c;
    be_backend_init(&c);
    c.uptime = 30;
    char seq[2][65];
    for (int k = 0; k < 2; k++) {
        be_backends_config cfg = {.seed = 42};
        char e[128];
        be_backends *r = be_backends_new(&cfg, e, sizeof e);
        for (int i = 0; i < 64; i++)
            seq[k][i] = be_backends_draw(r, &c) ? '1' : '0';
        seq[k][64] = '\0';
        be_backends_free(r);
    }
    CHECK(strcmp(seq[0], seq[1]) == 0);
}

/* gzip: hello gzip world\n */
static const unsigned char gz_hello[] = {0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x03,
                                         0xcb, 0x48, 0xcd, 0xc9, 0xc9, 0x57, 0x48, 0xaf, 0xca, 0x2c,
                                         0x50, 0x28, 0xcf, 0x2f, 0xca, 0x49, 0xe1, 0x02, 0x00, 0x3e,
                                         0x56, 0x00, 0xe8, 0x11, 0x00, 0x00, 0x00};

/* A GET with gzip auto-decompression to a canned answer: the transfer (head waited for). */
static be_transfer *get_decompressing(canned *c, const char *resp, size_t len)
{
    CHECK(canned_start(c, resp, len));
    be_backend b = make_backend("127.0.0.1", c->port);
    be_request req = {.method = "GET", .url = "/x", .decompress_gzip = true};
    be_error err;
    be_transfer *t = be_transfer_start(be_backends_loop(reg), &b, "o", &req, NULL, &err);
    be_backend_deinit(&b);
    CHECK(t != NULL);
    if (t)
        CHECK_EQ_INT(be_transfer_wait_head(t), BE_OK);
    return t;
}

/* As Viceroy (upstream.rs): only a gzip (or x-gzip) Content-Encoding is decoded, and then the
 * encoding and length go; no Accept-Encoding is added to the request. Other encodings reach the
 * guest as the origin sent them. */
TEST(decompress_gzip_decodes_only_gzip)
{
    char head[256], v[256];
    int hl = snprintf(head, sizeof head,
                      "HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: %zu\r\n"
                      "Connection: close\r\n\r\n",
                      sizeof gz_hello);
    static char resp[512];
    memcpy(resp, head, (size_t)hl);
    memcpy(resp + hl, gz_hello, sizeof gz_hello);
    canned c;
    be_transfer *t = get_decompressing(&c, resp, (size_t)hl + sizeof gz_hello);
    if (t) {
        size_t len = 0;
        char *body = read_all(t, &len);
        CHECK_STR_EQ(body, "hello gzip world\n");
        CHECK_STR_EQ(resp_header(t, "content-encoding", v, sizeof v), "");
        CHECK_STR_EQ(resp_header(t, "content-length", v, sizeof v), "");
        free(body);
        be_transfer_release(t);
    }
    canned_stop(&c);
    CHECK(strcasestr(c.req, "accept-encoding") == NULL);

    /* deflate (here not even valid deflate data) passes through untouched */
    static const char deflate[] = "HTTP/1.1 200 OK\r\nContent-Encoding: deflate\r\n"
                                  "Content-Length: 10\r\nConnection: close\r\n\r\nnot-zipped";
    t = get_decompressing(&c, deflate, sizeof deflate - 1);
    if (t) {
        size_t len = 0;
        char *body = read_all(t, &len);
        CHECK_EQ_U64(len, 10);
        if (len == 10)
            CHECK_STR_EQ(body, "not-zipped");
        CHECK_STR_EQ(resp_header(t, "content-encoding", v, sizeof v), "deflate");
        CHECK_STR_EQ(resp_header(t, "content-length", v, sizeof v), "10");
        free(body);
        be_transfer_release(t);
    }
    canned_stop(&c);
}

/* A big gzip body (highly compressible, so one network read decodes into many buffers) comes out
 * whole; corrupt or cut gzip data makes the body read fail, as Viceroy's decoder does. */
TEST(decompress_gzip_big_and_corrupt)
{
    enum { BIG = 8 << 20 };
    uint8_t *plain = malloc(BIG);
    for (size_t i = 0; i < BIG; i++)
        plain[i] = (uint8_t)("abcdefgh"[i % 8] + (i >> 20));
    z_stream z = {0};
    CHECK_EQ_INT(deflateInit2(&z, 9, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY), Z_OK);
    size_t cap = deflateBound(&z, BIG) + 256;
    char *resp = malloc(cap);
    int hl = snprintf(resp, 256,
                      "HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\n"
                      "Connection: close\r\n\r\n");
    z.next_in = plain;
    z.avail_in = BIG;
    z.next_out = (Bytef *)resp + hl;
    z.avail_out = (uInt)(cap - (size_t)hl);
    CHECK_EQ_INT(deflate(&z, Z_FINISH), Z_STREAM_END);
    size_t total = (size_t)hl + z.total_out;
    deflateEnd(&z);
    canned c;
    be_transfer *t = get_decompressing(&c, resp, total);
    if (t) {
        size_t len = 0;
        char *body = read_all(t, &len);
        CHECK_EQ_U64(len, BIG);
        CHECK(len == BIG && memcmp(body, plain, BIG) == 0);
        free(body);
        be_transfer_release(t);
    }
    canned_stop(&c);
    /* cut short: the last 100 bytes missing */
    t = get_decompressing(&c, resp, total - 100);
    if (t) {
        size_t len = 0;
        free(read_all(t, &len));
        CHECK(len == (size_t)-1);
        be_transfer_release(t);
    }
    canned_stop(&c);
    /* corrupt: a gzip header followed by garbage */
    memset(resp + hl + 10, 0xff, 64);
    t = get_decompressing(&c, resp, (size_t)hl + 74);
    if (t) {
        size_t len = 0;
        free(read_all(t, &len));
        CHECK(len == (size_t)-1);
        be_transfer_release(t);
    }
    canned_stop(&c);
    free(resp);
    free(plain);
}

/* A response header section over the limits (one huge line, which libcurl refuses itself, or many
 * lines) fails with http_response_header_section_too_large (httpinvalid for the guest), not as a
 * connection or internal error. */
TEST(oversized_response_head)
{
    enum { BIG = 200 * 1024 };
    char *resp = malloc(BIG + 256);
    for (int many = 0; many < 2; many++) {
        size_t n = (size_t)snprintf(resp, 256, "HTTP/1.1 200 OK\r\n");
        if (!many) {
            n += (size_t)snprintf(resp + n, 256, "x-big: ");
            memset(resp + n, 'v', BIG);
            n += BIG;
            n += (size_t)snprintf(resp + n, 256, "\r\nContent-Length: 0\r\n\r\n");
        } else {
            /* 1.2 MiB in 30-byte lines */
            free(resp);
            resp = malloc(1300 * 1024);
            n = (size_t)snprintf(resp, 256, "HTTP/1.1 200 OK\r\n");
            for (int i = 0; i < 42000; i++)
                n += (size_t)snprintf(resp + n, 64, "x-h%05d: 0123456789abcdefg\r\n", i);
            n += (size_t)snprintf(resp + n, 256, "Content-Length: 0\r\n\r\n");
        }
        canned c;
        CHECK(canned_start(&c, resp, n));
        be_backend b = make_backend("127.0.0.1", c.port);
        be_error err;
        be_transfer *t = get(&b, "GET", "/x", NULL, 0, &err);
        CHECK(t != NULL);
        if (t) {
            be_error e = be_transfer_wait_head(t);
            CHECK_EQ_INT(e, BE_ERR_HTTP_RESPONSE_HEADER_SECTION_TOO_LARGE);
            CHECK_EQ_INT(be_error_status(e), 7); /* httpinvalid */
            be_transfer_release(t);
        }
        canned_stop(&c);
        be_backend_deinit(&b);
    }
    /* a long value within the limits comes through whole */
    resp = realloc(resp, 100 * 1024);
    size_t n = (size_t)snprintf(resp, 256, "HTTP/1.1 200 OK\r\nx-long: ");
    memset(resp + n, 'w', 90 * 1024);
    n += 90 * 1024;
    n += (size_t)snprintf(resp + n, 256, "\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
    canned c;
    CHECK(canned_start(&c, resp, n));
    be_backend b = make_backend("127.0.0.1", c.port);
    be_error err;
    be_transfer *t = get(&b, "GET", "/x", NULL, 0, &err);
    if (t) {
        CHECK_EQ_INT(be_transfer_wait_head(t), BE_OK);
        size_t len = 0;
        for (size_t i = 0; i < be_transfer_nheaders(t); i++) {
            be_header x = be_transfer_header(t, i);
            if (x.name_len == 6 && memcmp(x.name, "x-long", 6) == 0)
                len = x.value_len;
        }
        CHECK_EQ_U64(len, 90 * 1024);
        be_transfer_release(t);
    }
    canned_stop(&c);
    be_backend_deinit(&b);
    free(resp);
}

int main(int argc, char **argv)
{
    (void)argc;
    origin *o = origin_start(NULL, NULL);
    if (!o) {
        fprintf(stderr, "cannot start the test origin\n");
        return 1;
    }
    port = origin_port(o);
    be_backends_config cfg = {.seed = 1};
    char err[256];
    reg = be_backends_new(&cfg, err, sizeof err);
    if (!reg) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    RUN(get_rewrites_host_and_cdn_loop);
    RUN(override_host_and_prefix);
    RUN(post_body_known_and_chunked);
    RUN(large_upload_streams);
    RUN(large_download_bounded);
    RUN(head_request_has_no_body);
    RUN(first_byte_timeout);
    RUN(between_bytes_timeout);
    RUN(connection_refused_and_dns);
    RUN(cancel_running);
    RUN(draws);
    RUN(decompress_gzip_decodes_only_gzip);
    RUN(decompress_gzip_big_and_corrupt);
    RUN(oversized_response_head);
    be_backends_free(reg);
    origin_stop(o);
    return harness_finish(argv[0]);
}
