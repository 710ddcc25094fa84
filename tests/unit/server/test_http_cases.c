/* test_http_cases.c: the request-framing cases of tests/http/ (one file per case: what is
 * expected, then the raw request bytes in C escapes) against the real server, plus the
 * front end's connection handling: many idle keep-alive connections while requests are served,
 * slow uploads beside fast requests, and shutdown with requests in flight.
 * Case format: "# comment" lines, "expect: STATUS..." (one status per response, in order),
 * "close: yes|no" (whether the server closes the connection afterwards), a "---" line, then the
 * request; newlines in the request part are ignored, \r \n \t \0 \xHH \\ are escapes. */
#include "harness.h"
#include "http_client.h"
#include "test_server.h"

#include <dirent.h>
#include <poll.h>
#include <pthread.h>
#include <sys/resource.h>

#define GUEST "build/guests/srv_app.wasm"
#define CASES "tests/http"

static server *srv;

typedef struct http_case {
    int expect[8];
    int nexpect;
    bool close;
    char raw[8192];
    size_t raw_len;
} http_case;

static int hexdigit(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

static bool load_case(const char *path, http_case *hc)
{
    memset(hc, 0, sizeof *hc);
    FILE *f = fopen(path, "r");
    if (!f)
        return false;
    char line[4096];
    bool body = false, have_close = false;
    while (fgets(line, sizeof line, f)) {
        if (!body) {
            if (line[0] == '#')
                continue;
            if (strncmp(line, "---", 3) == 0) {
                body = true;
            } else if (strncmp(line, "expect:", 7) == 0) {
                char *p = line + 7, *end;
                for (long v; hc->nexpect < 8 && (v = strtol(p, &end, 10), end != p); p = end)
                    hc->expect[hc->nexpect++] = (int)v;
            } else if (strncmp(line, "close:", 6) == 0) {
                have_close = true;
                hc->close = strstr(line, "yes") != NULL;
            }
            continue;
        }
        for (char *p = line; *p && *p != '\n'; p++) {
            char c = *p;
            if (c == '\\' && p[1]) {
                p++;
                if (*p == 'r')
                    c = '\r';
                else if (*p == 'n')
                    c = '\n';
                else if (*p == 't')
                    c = '\t';
                else if (*p == '0')
                    c = '\0';
                else if (*p == 'x' && hexdigit(p[1]) >= 0 && hexdigit(p[2]) >= 0) {
                    c = (char)(hexdigit(p[1]) * 16 + hexdigit(p[2]));
                    p += 2;
                } else
                    c = *p;
            }
            if (hc->raw_len < sizeof hc->raw)
                hc->raw[hc->raw_len++] = c;
        }
    }
    fclose(f);
    return body && hc->nexpect > 0 && have_close;
}

/* True when the server has closed the connection (EOF within a generous wait). */
static bool closed_by_server(hc_conn *c)
{
    if (c->off < c->len)
        return false; /* more bytes came */
    struct pollfd p = {.fd = c->fd, .events = POLLIN};
    if (poll(&p, 1, 10000) <= 0)
        return false;
    char b;
    return recv(c->fd, &b, 1, 0) <= 0;
}

static void run_case(const char *name, const http_case *hc)
{
    hc_conn c;
    if (hc_connect(&c, srv->port) != 0) {
        CHECK(!"connect");
        return;
    }
    CHECK_EQ_INT(hc_send(&c, hc->raw, hc->raw_len), 0);
    for (int i = 0; i < hc->nexpect; i++) {
        hc_resp r = {0};
        int rc = hc_read(&c, &r, false, true, false);
        if (rc != 0 || r.status != hc->expect[i])
            fprintf(stderr, "  case %s: response %d: got %d (rc %d), expected %d\n", name, i + 1,
                    r.status, rc, hc->expect[i]);
        CHECK_EQ_INT(r.status, hc->expect[i]);
        hc_resp_free(&r);
    }
    if (hc->close) {
        bool closed = closed_by_server(&c);
        if (!closed)
            fprintf(stderr, "  case %s: the connection stayed open\n", name);
        CHECK(closed);
    } else {
        /* still usable: one more request on it */
        hc_resp r = {0};
        CHECK_EQ_INT(hc_sends(&c, "GET /again HTTP/1.1\r\nHost: x\r\n\r\n"), 0);
        int rc = hc_read(&c, &r, false, true, false);
        if (rc != 0 || r.status != 200)
            fprintf(stderr, "  case %s: the connection is not usable afterwards\n", name);
        CHECK_EQ_INT(r.status, 200);
        hc_resp_free(&r);
    }
    hc_close(&c);
}

static int name_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

TEST(framing_cases)
{
    DIR *d = opendir(CASES);
    CHECK(d != NULL);
    if (!d)
        return;
    char *names[256];
    size_t n = 0;
    struct dirent *e;
    while ((e = readdir(d)) && n < 256) {
        size_t len = strlen(e->d_name);
        if (len > 5 && strcmp(e->d_name + len - 5, ".case") == 0)
            names[n++] = strdup(e->d_name);
    }
    closedir(d);
    qsort(names, n, sizeof names[0], name_cmp);
    CHECK(n >= 20);
    for (size_t i = 0; i < n; i++) {
        char path[512];
        snprintf(path, sizeof path, "%s/%s", CASES, names[i]);
        http_case hc;
        bool ok = load_case(path, &hc);
        if (!ok)
            fprintf(stderr, "  case %s: cannot read it\n", names[i]);
        CHECK(ok);
        if (ok)
            run_case(names[i], &hc);
        free(names[i]);
    }
    fprintf(stderr, "  %zu framing cases\n", n);
}

/* Idle keep-alive connections cost no thread: with many open, a request is still answered. */
TEST(many_idle_connections)
{
    struct rlimit rl;
    getrlimit(RLIMIT_NOFILE, &rl);
    size_t want = 2000;
    if (rl.rlim_cur < want * 2 + 100 && rl.rlim_max >= want * 2 + 100) {
        rl.rlim_cur = want * 2 + 100;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    getrlimit(RLIMIT_NOFILE, &rl);
    if (rl.rlim_cur < want * 2 + 100)
        want = (rl.rlim_cur - 100) / 2;
    hc_conn *conns = calloc(want, sizeof *conns);
    size_t open = 0;
    for (; open < want; open++) {
        if (hc_connect(&conns[open], srv->port) != 0)
            break;
        /* half the connections have served a request and sit idle in keep-alive */
        if (open % 2 == 0) {
            hc_resp r = {0};
            if (hc_sends(&conns[open], "GET /warm HTTP/1.1\r\nHost: x\r\n\r\n") != 0 ||
                hc_read(&conns[open], &r, false, true, false) != 0 || r.status != 200) {
                hc_resp_free(&r);
                break;
            }
            hc_resp_free(&r);
        }
    }
    CHECK_EQ_INT(open, want);
    hc_resp r = {0};
    CHECK_EQ_INT(simple_on(srv->port, "GET /fresh HTTP/1.1\r\nHost: x\r\n\r\n", &r, false), 200);
    hc_resp_free(&r);
    /* every kept-alive connection still works */
    size_t ok = 0;
    for (size_t i = 0; i < open; i += 2) {
        hc_resp q = {0};
        if (hc_sends(&conns[i], "GET /again HTTP/1.1\r\nHost: x\r\n\r\n") == 0 &&
            hc_read(&conns[i], &q, false, true, false) == 0 && q.status == 200)
            ok++;
        hc_resp_free(&q);
    }
    CHECK_EQ_INT(ok, (open + 1) / 2);
    for (size_t i = 0; i < open; i++)
        hc_close(&conns[i]);
    free(conns);
}

/* A client that sends its head and then stalls in the body holds nobody up. */
TEST(slow_upload_beside_fast_requests)
{
    hc_conn slow[16];
    for (int i = 0; i < 16; i++) {
        CHECK_EQ_INT(hc_connect(&slow[i], srv->port), 0);
        CHECK_EQ_INT(hc_sends(&slow[i], "POST /slow HTTP/1.1\r\nHost: x\r\n"
                                        "Content-Length: 100\r\n\r\nonly part"),
                     0);
    }
    for (int i = 0; i < 32; i++) {
        hc_resp r = {0};
        CHECK_EQ_INT(simple_on(srv->port, "GET /fast HTTP/1.1\r\nHost: x\r\n\r\n", &r, false), 200);
        hc_resp_free(&r);
    }
    /* the slow ones complete once they send the rest */
    for (int i = 0; i < 16; i++) {
        char rest[92];
        memset(rest, 'x', sizeof rest - 1);
        rest[sizeof rest - 1] = '\0';
        CHECK_EQ_INT(hc_sends(&slow[i], rest), 0);
        hc_resp r = {0};
        CHECK_EQ_INT(hc_read(&slow[i], &r, false, true, false), 0);
        CHECK_EQ_INT(r.status, 200);
        hc_resp_free(&r);
        hc_close(&slow[i]);
    }
}

typedef struct inflight {
    uint16_t port;
    int status;
} inflight;

static void *inflight_request(void *arg)
{
    inflight *j = arg;
    hc_resp r = {0};
    j->status = simple_on(j->port, "GET /sleep HTTP/1.1\r\nHost: x\r\n\r\n", &r, false);
    hc_resp_free(&r);
    return NULL;
}

/* Stopping the server lets requests in flight finish with their answer. */
TEST(shutdown_with_requests_in_flight)
{
    server *s = server_start_guest(GUEST, 0);
    CHECK(s != NULL);
    if (!s)
        return;
    inflight jobs[4];
    pthread_t t[4];
    for (int i = 0; i < 4; i++) {
        jobs[i] = (inflight){.port = s->port};
        pthread_create(&t[i], NULL, inflight_request, &jobs[i]);
    }
    CHECK(log_wait_count(&s->log, "sleeping", 4));
    fastlike_stop(s->f);
    server_stop(s);
    for (int i = 0; i < 4; i++) {
        pthread_join(t[i], NULL);
        CHECK_EQ_INT(jobs[i].status, 200);
    }
}

int main(int argc, char **argv)
{
    (void)argc;
    srv = server_start_guest(GUEST, 0);
    if (!srv)
        return 1;
    RUN(framing_cases);
    RUN(many_idle_connections);
    RUN(slow_upload_beside_fast_requests);
    RUN(shutdown_with_requests_in_flight);
    server_stop(srv);
    return harness_finish(argv[0]);
}
