/* test_front.c: end-to-end tests of the front end's interim responses, trailers and HEAD framing,
 * and of shielding between two servers, over real sockets with the srv_front C guest (and a JS
 * SDK guest for sendEarlyHints and the Shield class): 103 Early Hints arrive before the final
 * response (the client sends the rest of its body only once it has read the 103), trailers follow
 * the last chunk when the client sent `TE: trailers` (and are left out otherwise or for
 * HTTP/1.0), a HEAD answer keeps the guest's declared Content-Length, and an edge server forwards
 * through backend_for_shield to a second server that plays the shield POP. */
#include "fastlike.h"
#include "harness.h"
#include "http_client.h"
#include "test_server.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>

#define GUEST "build/guests/srv_front.wasm"
#define JS_GUEST "build/guests/js/front_js.wasm"

static server *srv; /* the srv_front guest, no shields */
static char fastlike_bin[1024] = "bin/fastlike";

/* Reads everything until the server closes the connection (requests say Connection: close), up
 * to `max` bytes; NUL-terminated. Returns the byte count. */
static size_t read_all(hc_conn *c, char *out, size_t max)
{
    size_t n = 0;
    for (;;) {
        long k = hc_fill(c);
        if (k <= 0)
            break;
        size_t take = (size_t)k;
        if (take > max - 1 - n)
            take = max - 1 - n;
        memcpy(out + n, c->buf + c->off, take);
        n += take;
        c->off += (size_t)k;
        if (n == max - 1)
            break;
    }
    out[n] = '\0';
    return n;
}

/* ---- 103 Early Hints ---- */

TEST(early_hints_before_the_final_response)
{
    /* covers: fastly_http_resp.send_informational_response, fastly_http_resp.send_downstream */
    hc_conn c;
    CHECK_EQ_INT(hc_connect(&c, srv->port), 0);
    /* more than the server reads ahead, so the guest runs while the body is still unsent */
    enum { FIRST = 100 * 1024, REST = 10 };
    char head[256];
    snprintf(head, sizeof head,
             "POST /hints HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\nConnection: close\r\n\r\n",
             FIRST + REST);
    CHECK_EQ_INT(hc_sends(&c, head), 0);
    char *body = malloc(FIRST);
    memset(body, 'b', FIRST);
    CHECK_EQ_INT(hc_send(&c, body, FIRST), 0);
    free(body);
    /* the 103 must come while the request is incomplete: the guest waits for the rest */
    hc_resp r = {0};
    CHECK_EQ_INT(hc_read(&c, &r, false, false, true), 0);
    CHECK_EQ_INT(r.status, 103);
    CHECK_STR_CONTAINS(r.head, "HTTP/1.1 103 Early Hints\n");
    CHECK_STR_CONTAINS(r.head, "link: </style.css>; rel=preload; as=style\n");
    CHECK_STR_CONTAINS(r.head, "link: </app.js>; rel=preload; as=script\n");
    CHECK(!strstr(r.head, "ontent-length"));
    CHECK_EQ_INT(hc_sends(&c, "0123456789"), 0);
    /* then the JS SDK's way: send_downstream of a 103, and the final response */
    CHECK_EQ_INT(hc_read(&c, &r, false, false, true), 0);
    CHECK_EQ_INT(r.status, 103);
    CHECK_STR_CONTAINS(r.head, "link: </late.css>; rel=preload\n");
    CHECK_EQ_INT(hc_read(&c, &r, false, true, false), 0);
    CHECK_EQ_INT(r.status, 200);
    CHECK_STR_EQ((char *)r.body, "got 102410 bytes");
    CHECK_STR_EQ(hc_header(&r, "x-info-st"), "0");
    CHECK_STR_EQ(hc_header(&r, "x-sd103-st"), "0");
    hc_resp_free(&r);
    hc_close(&c);
}

TEST(early_hints_go_sdk_style)
{
    /* the same handles sent as 103 and then as the response */
    hc_conn c;
    CHECK_EQ_INT(hc_connect(&c, srv->port), 0);
    CHECK_EQ_INT(hc_sends(&c, "GET /hints-go HTTP/1.1\r\nHost: x\r\n\r\n"), 0);
    hc_resp r = {0};
    CHECK_EQ_INT(hc_read(&c, &r, false, false, true), 0);
    CHECK_EQ_INT(r.status, 103);
    CHECK_STR_CONTAINS(r.head, "link: </go.css>; rel=preload\n");
    CHECK_EQ_INT(hc_read(&c, &r, false, true, false), 0);
    CHECK_EQ_INT(r.status, 200);
    CHECK_STR_EQ((char *)r.body, "go final");
    CHECK_STR_EQ(hc_header(&r, "x-hint-st"), "0");
    CHECK(!hc_header(&r, "link"));
    hc_resp_free(&r);
    hc_close(&c);
}

TEST(early_hints_not_for_http10)
{
    hc_conn c;
    CHECK_EQ_INT(hc_connect(&c, srv->port), 0);
    CHECK_EQ_INT(hc_sends(&c, "POST /hints HTTP/1.0\r\nContent-Length: 3\r\n\r\nabc"), 0);
    char raw[8192];
    read_all(&c, raw, sizeof raw);
    CHECK(strncmp(raw, "HTTP/1.0 200 OK\r\n", 17) == 0); /* no 1xx in front of it */
    CHECK(!strstr(raw, " 103 "));
    CHECK_STR_CONTAINS(raw, "x-info-st: 0\r\n"); /* the guest is not told */
    CHECK_STR_CONTAINS(raw, "got 3 bytes");
    hc_close(&c);
}

TEST(early_hints_after_the_response_is_error)
{
    hc_resp r = {0};
    CHECK_EQ_INT(simple_on(srv->port, "GET /late-hint HTTP/1.1\r\nHost: x\r\n\r\n", &r, false),
                 200);
    CHECK_STR_EQ((char *)r.body, "final");
    CHECK(log_wait(&srv->log, "x-late-st=1")); /* fastly_status error */
    hc_resp_free(&r);
}

/* ---- trailers ---- */

static void check_trailers(const char *path, bool te, bool expect_trailers)
{
    hc_conn c;
    CHECK_EQ_INT(hc_connect(&c, srv->port), 0);
    char req[256];
    snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: x\r\n%sConnection: close\r\n\r\n", path,
             te ? "TE: trailers\r\n" : "");
    CHECK_EQ_INT(hc_sends(&c, req), 0);
    char raw[8192];
    read_all(&c, raw, sizeof raw);
    CHECK_STR_CONTAINS(raw, "Transfer-Encoding: chunked\r\n");
    const char *body = strstr(raw, "\r\n\r\n");
    CHECK(body != NULL);
    if (!body)
        return;
    body += 4;
    if (expect_trailers) {
        /* the last chunk, then the fields, then the empty line that ends the message */
        const char *last = strstr(body, "\r\n0\r\n");
        CHECK(last != NULL);
        CHECK_STR_CONTAINS(body, "\r\n0\r\nx-checksum: abc\r\nserver-timing: total;dur=1\r\n\r\n");
        CHECK(last && strlen(last) == strlen("\r\n0\r\nx-checksum: abc\r\nserver-timing: "
                                             "total;dur=1\r\n\r\n"));
    } else {
        CHECK(!strstr(raw, "x-checksum"));
        size_t n = strlen(body);
        CHECK(n >= 5 && strcmp(body + n - 5, "0\r\n\r\n") == 0);
    }
    /* the data itself is whole either way */
    CHECK_STR_CONTAINS(body, "part1");
    CHECK_STR_CONTAINS(body, "part2");
    hc_close(&c);
}

TEST(trailers_after_the_last_chunk)
{
    /* covers: fastly_http_body.trailer_append */
    check_trailers("/trailers", true, true);
    check_trailers("/trailers-buffered", true, true);
}

TEST(trailers_left_out_without_te_trailers)
{
    check_trailers("/trailers", false, false);
    check_trailers("/trailers-buffered", false, false);
}

/* The head of the answer to GET `path` (with or without `TE: trailers`), NUL-terminated after
 * its last field line. */
static void trailers_head(const char *path, bool te, char *head, size_t cap)
{
    hc_conn c;
    head[0] = '\0';
    CHECK_EQ_INT(hc_connect(&c, srv->port), 0);
    char req[256];
    snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: x\r\n%sConnection: close\r\n\r\n", path,
             te ? "TE: trailers\r\n" : "");
    CHECK_EQ_INT(hc_sends(&c, req), 0);
    read_all(&c, head, cap);
    char *end = strstr(head, "\r\n\r\n");
    CHECK(end != NULL);
    if (end)
        end[2] = '\0';
    hc_close(&c);
}

TEST(trailer_field_announces_the_trailers)
{
    /* issue 14: the Trailer field used to be dropped from every head */
    char head[8192];
    /* a streaming guest's own announcement goes out as it set it */
    trailers_head("/trailers", true, head, sizeof head);
    CHECK_STR_CONTAINS(head, "\r\ntrailer: x-checksum\r\n");
    /* a buffered body's trailer names are known when the head goes out: announced by name */
    trailers_head("/trailers-buffered", true, head, sizeof head);
    CHECK(strcasestr(head, "\r\ntrailer: x-checksum, server-timing\r\n") != NULL);
    /* without `TE: trailers` no trailers follow, so none are announced */
    trailers_head("/trailers", false, head, sizeof head);
    CHECK(strcasestr(head, "\r\ntrailer:") == NULL);
    trailers_head("/trailers-buffered", false, head, sizeof head);
    CHECK(strcasestr(head, "\r\ntrailer:") == NULL);
    CHECK_STR_CONTAINS(head, "Transfer-Encoding: chunked\r\n");
}

TEST(trailers_and_keep_alive)
{
    /* a response with trailers, then another on the same connection: framing stays right */
    hc_conn c;
    CHECK_EQ_INT(hc_connect(&c, srv->port), 0);
    hc_resp r = {0};
    CHECK_EQ_INT(hc_sends(&c, "GET /trailers HTTP/1.1\r\nHost: x\r\nTE: trailers\r\n\r\n"), 0);
    CHECK_EQ_INT(hc_read(&c, &r, false, true, false), 0);
    CHECK_EQ_INT(r.status, 200);
    CHECK_STR_EQ((char *)r.body, "part1part2");
    CHECK_EQ_INT(hc_sends(&c, "GET /head HTTP/1.1\r\nHost: x\r\n\r\n"), 0);
    CHECK_EQ_INT(hc_read(&c, &r, false, true, false), 0);
    CHECK_EQ_INT(r.status, 200);
    CHECK_STR_EQ(hc_header(&r, "x-kind"), "declared");
    hc_resp_free(&r);
    hc_close(&c);
}

/* ---- HEAD ---- */

TEST(head_keeps_the_declared_length)
{
    hc_conn c;
    CHECK_EQ_INT(hc_connect(&c, srv->port), 0);
    hc_resp r = {0};
    CHECK_EQ_INT(hc_sends(&c, "HEAD /head HTTP/1.1\r\nHost: x\r\n\r\n"), 0);
    CHECK_EQ_INT(hc_read(&c, &r, true, true, false), 0);
    CHECK_EQ_INT(r.status, 200);
    CHECK(r.has_length);
    CHECK_EQ_INT(r.length, 1234);
    CHECK(!hc_header(&r, "transfer-encoding"));
    /* unknown length: no Content-Length at all (not 0), and no chunked framing */
    CHECK_EQ_INT(hc_sends(&c, "HEAD /head-unknown HTTP/1.1\r\nHost: x\r\n\r\n"), 0);
    CHECK_EQ_INT(hc_read(&c, &r, true, true, false), 0);
    CHECK_EQ_INT(r.status, 200);
    CHECK_STR_EQ(hc_header(&r, "x-kind"), "unknown");
    CHECK(!r.has_length);
    CHECK(!hc_header(&r, "transfer-encoding"));
    /* no body bytes followed either: the next exchange parses */
    CHECK_EQ_INT(hc_sends(&c, "GET /head-unknown HTTP/1.1\r\nHost: x\r\n\r\n"), 0);
    CHECK_EQ_INT(hc_read(&c, &r, false, true, false), 0);
    CHECK_EQ_INT(r.status, 200);
    CHECK_EQ_INT(r.length, 0);
    hc_resp_free(&r);
    hc_close(&c);
}

/* ---- shielding: an edge server and a shield server ---- */

typedef struct shield_spec {
    const char *spec; /* -shield's NAME=... */
} shield_spec;

static fastlike_status shield_hook(fastlike_config *c, void *user, char *err, size_t errlen)
{
    return fastlike_config_add_shield(c, ((shield_spec *)user)->spec, err, errlen);
}

static void shield_pair(const char *guest, const char *path, bool c_guest)
{
    shield_spec local = {"pdx-or-us=local"};
    server *shield = server_start_with(guest, shield_hook, &local);
    CHECK(shield != NULL);
    if (!shield)
        return;
    char spec[64];
    snprintf(spec, sizeof spec, "pdx-or-us=127.0.0.1:%u", shield->port);
    shield_spec remote = {spec};
    server *edge = server_start_with(guest, shield_hook, &remote);
    CHECK(edge != NULL);
    if (edge) {
        hc_resp r = {0};
        char req[128];
        snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: x\r\n\r\n", path);
        CHECK_EQ_INT(simple_on(edge->port, req, &r, false), 200);
        CHECK_STR_EQ((char *)r.body, "from the shield");
        CHECK_STR_EQ(hc_header(&r, "x-served-by"), "shield"); /* the shield's answer ... */
        CHECK_STR_EQ(hc_header(&r, "x-edge"), "1");           /* ... passed on by the edge */
        char want[96];
        snprintf(want, sizeof want, "http://127.0.0.1:%u/", shield->port);
        if (c_guest) /* the info block's URL (the JS SDK keeps it to itself) */
            CHECK_STR_EQ(hc_header(&r, "x-shield-url"), want);
        snprintf(want, sizeof want, "******http://127.0.0.1:%u/*****", shield->port);
        CHECK_STR_EQ(hc_header(&r, "x-shield-backend"), want);
        /* asked directly, the shield answers itself */
        CHECK_EQ_INT(simple_on(shield->port, req, &r, false), 200);
        CHECK_STR_EQ((char *)r.body, "from the shield");
        CHECK(!hc_header(&r, "x-edge"));
        hc_resp_free(&r);
    }
    server_stop(edge);
    server_stop(shield);
}

TEST(shield_two_servers)
{
    /* covers: fastly_shielding.shield_info, fastly_shielding.backend_for_shield */
    shield_pair(GUEST, "/shield", true);
}

TEST(shield_config_api_errors)
{
    fastlike_config *c = fastlike_config_new();
    char err[256] = "";
    CHECK_EQ_INT(fastlike_config_add_shield(c, "a=local", err, sizeof err), FASTLIKE_OK);
    CHECK_EQ_INT(fastlike_config_add_shield(c, "a=127.0.0.1:1", err, sizeof err),
                 FASTLIKE_ERR_ARGS);
    CHECK_STR_EQ(err, "shield 'a' is given twice");
    CHECK_EQ_INT(fastlike_config_add_shield(c, "b", err, sizeof err), FASTLIKE_ERR_ARGS);
    CHECK_STR_CONTAINS(err, "expected NAME=local");
    CHECK_EQ_INT(fastlike_config_add_shield(c, NULL, err, sizeof err), FASTLIKE_ERR_ARGS);
    fastlike_config_free(c);
}

TEST(shield_unknown_name)
{
    hc_resp r = {0};
    CHECK_EQ_INT(simple_on(srv->port, "GET /shield-unknown HTTP/1.1\r\nHost: x\r\n\r\n", &r, false),
                 200);
    CHECK_STR_EQ((char *)r.body, "st=2"); /* inval */
    /* with no shields at all, shield_info of the configured name is inval too */
    CHECK_EQ_INT(simple_on(srv->port, "GET /shield HTTP/1.1\r\nHost: x\r\n\r\n", &r, false), 500);
    CHECK_STR_EQ((char *)r.body, "shield_info: 2");
    hc_resp_free(&r);
}

/* ---- two fastlike processes, edge and shield, configured by -shield ---- */

static uint16_t free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof sa;
    uint16_t p = 0;
    if (fd >= 0 && bind(fd, (struct sockaddr *)&sa, sizeof sa) == 0 &&
        getsockname(fd, (struct sockaddr *)&sa, &len) == 0)
        p = ntohs(sa.sin_port);
    if (fd >= 0)
        close(fd);
    return p;
}

/* Starts `fastlike -wasm GUEST -bind 127.0.0.1:PORT -shield SPEC` and waits (up to 60 s) until
 * it answers. Returns its pid, or -1. */
static pid_t start_bin(uint16_t port, const char *spec)
{
    char bind[64];
    snprintf(bind, sizeof bind, "127.0.0.1:%u", port);
    pid_t pid = fork();
    if (pid == 0) {
        int devnull = open("/dev/null", O_WRONLY);
        if (devnull >= 0) {
            dup2(devnull, 1);
            dup2(devnull, 2);
        }
        char *argv[] = {fastlike_bin, "-wasm", GUEST, "-bind", bind, "-shield", (char *)spec, NULL};
        execv(fastlike_bin, argv);
        _exit(127);
    }
    for (int i = 0; pid > 0 && i < 1200; i++) {
        hc_conn c;
        if (hc_connect(&c, port) == 0) {
            hc_close(&c);
            return pid;
        }
        int status;
        if (waitpid(pid, &status, WNOHANG) == pid)
            return -1;
        usleep(50 * 1000);
    }
    return -1;
}

static void stop_bin(pid_t pid)
{
    if (pid <= 0)
        return;
    kill(pid, SIGTERM);
    int status = 0;
    waitpid(pid, &status, 0);
    CHECK(WIFEXITED(status));
}

TEST(shield_two_processes)
{
    uint16_t shield_port = free_port();
    pid_t shield = start_bin(shield_port, "pdx-or-us=local");
    uint16_t edge_port = free_port(); /* once the shield holds its port */
    char spec[64];
    snprintf(spec, sizeof spec, "pdx-or-us=127.0.0.1:%u", shield_port);
    pid_t edge = shield > 0 ? start_bin(edge_port, spec) : -1;
    CHECK(shield > 0 && edge > 0);
    if (edge > 0) {
        hc_resp r = {0};
        CHECK_EQ_INT(simple_on(edge_port, "GET /shield HTTP/1.1\r\nHost: x\r\n\r\n", &r, false),
                     200);
        CHECK_STR_EQ((char *)r.body, "from the shield");
        CHECK_STR_EQ(hc_header(&r, "x-served-by"), "shield");
        CHECK_STR_EQ(hc_header(&r, "x-edge"), "1");
        hc_resp_free(&r);
    }
    stop_bin(edge);
    stop_bin(shield);
}

/* ---- the JS SDK: sendEarlyHints and the Shield class ---- */

TEST(js_sdk_early_hints)
{
    server *js = server_start_guest(JS_GUEST, 0);
    CHECK(js != NULL);
    if (!js)
        return;
    hc_conn c;
    CHECK_EQ_INT(hc_connect(&c, js->port), 0);
    CHECK_EQ_INT(hc_sends(&c, "GET /hints HTTP/1.1\r\nHost: x\r\n\r\n"), 0);
    hc_resp r = {0};
    CHECK_EQ_INT(hc_read(&c, &r, false, false, true), 0);
    CHECK_EQ_INT(r.status, 103);
    CHECK_STR_CONTAINS(r.head, "link: </style.css>; rel=preload; as=style\n");
    CHECK_EQ_INT(hc_read(&c, &r, false, true, false), 0);
    CHECK_EQ_INT(r.status, 200);
    CHECK_STR_EQ((char *)r.body, "hinted");
    hc_resp_free(&r);
    hc_close(&c);
    server_stop(js);
}

TEST(js_sdk_shield)
{
    shield_pair(JS_GUEST, "/shield", false);
}

int main(int argc, char **argv)
{
    (void)argc;
    const char *t = strstr(argv[0], "/tests/server/");
    if (t) /* the binary of the same build variant: build/VARIANT/fastlike */
        snprintf(fastlike_bin, sizeof fastlike_bin, "%.*s/fastlike", (int)(t - argv[0]), argv[0]);
    srv = server_start_guest(GUEST, 0);
    if (!srv) {
        printf("%s: 0 passed, 1 failed\n", argv[0]);
        return 1;
    }
    RUN(early_hints_before_the_final_response);
    RUN(early_hints_go_sdk_style);
    RUN(early_hints_not_for_http10);
    RUN(early_hints_after_the_response_is_error);
    RUN(trailers_after_the_last_chunk);
    RUN(trailers_left_out_without_te_trailers);
    RUN(trailers_and_keep_alive);
    RUN(trailer_field_announces_the_trailers);
    RUN(head_keeps_the_declared_length);
    RUN(shield_two_servers);
    RUN(shield_config_api_errors);
    RUN(shield_unknown_name);
    RUN(shield_two_processes);
    RUN(js_sdk_early_hints);
    RUN(js_sdk_shield);
    server_stop(srv);
    return harness_finish(argv[0]);
}
