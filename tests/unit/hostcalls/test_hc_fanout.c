/* test_hc_fanout.c: the handoff hostcalls (hc_fanout.c) in-process with the guest
 * tests/guests/c/hc_fanout.c: status codes in each set-up, and the request head handed to the
 * front end (method, path, Host, pushpin-route, headers kept and replaced). */
#include "backend/be_backend.h"
#include "harness.h"
#include "hc_guest_run.h"
#include "hostcalls/hc_fanout.h"

static guest_result res;

typedef struct handed {
    int calls;
    char head[4096];
    char host[64];
    unsigned port;
    bool to_pushpin, upgrade;
} handed;

static int take(void *src, struct hc_handoff *h)
{
    handed *d = src;
    d->calls++;
    snprintf(d->head, sizeof d->head, "%.*s", (int)h->head_len, h->head);
    snprintf(d->host, sizeof d->host, "%s", h->host);
    d->port = h->port;
    d->to_pushpin = h->to_pushpin;
    d->upgrade = h->upgrade;
    hc_handoff_free(h);
    return 0;
}

/* Runs the guest in `mode`; returns the env for more checks (caller frees). */
static hc_env *run(const char *mode, const hc_fanout *fo, handed *d, be_backends *bes)
{
    hc_env *e = hc_env_new();
    if (!e)
        return NULL;
    e->settings.fanout = fo;
    e->settings.backends = bes;
    if (d) {
        e->req.handoff = take;
        e->req.handoff_src = d;
    }
    if (!hc_env_ctx(e)) {
        hc_env_free(e);
        return NULL;
    }
    CHECK(run_guest("hc_fanout", mode, e->ctx, &res));
    if (res.fails != 0)
        fprintf(stderr, "%s: %s", mode, res.out);
    CHECK(guest_exited(&res, 0));
    CHECK(res.checks > 5);
    CHECK_EQ_INT(res.fails, 0);
    return e;
}

TEST(fanout_off)
{
    hc_env *e = run("off", NULL, NULL, NULL);
    if (!e)
        return;
    CHECK_EQ_INT(e->cap.heads, 1); /* the guest's own response */
    CHECK(strstr(e->log.text, "Fanout is not enabled") != NULL);
    hc_env_free(e);
}

TEST(grip_v2_head)
{
    hc_fanout fo = {.pushpin_port = 7999, .websocket_passthrough = true};
    handed d = {0};
    hc_env *e = run("on", &fo, &d, NULL);
    if (!e)
        return;
    CHECK_EQ_INT(d.calls, 1);
    CHECK(d.to_pushpin);
    CHECK_STR_EQ(d.host, "127.0.0.1");
    CHECK_EQ_INT(d.port, 7999);
    /* the new request's method and path, Host of the proxy, its headers, the route */
    CHECK(strncmp(d.head, "PUT /new/path?q=1 HTTP/1.1\r\nHost: 127.0.0.1:7999\r\n", 50) == 0);
    CHECK_STR_CONTAINS(d.head, "x-added: yes\r\n");
    CHECK_STR_CONTAINS(d.head, "pushpin-route: grip-be\r\n");
    CHECK_STR_CONTAINS(d.head, "Connection: close\r\n");
    CHECK(strstr(d.head, "ignored.example") == NULL); /* Host is always the target's */
    CHECK(!d.upgrade);
    CHECK_EQ_INT(e->cap.heads, 0); /* no response of ours */
    CHECK(hc_ctx_handed_off(e->ctx));
    hc_env_free(e);
}

TEST(already_sent)
{
    hc_fanout fo = {.pushpin_port = 7999, .websocket_passthrough = true};
    handed d = {0};
    hc_env *e = run("sent", &fo, &d, NULL);
    if (!e)
        return;
    CHECK_EQ_INT(d.calls, 0);
    CHECK(!hc_ctx_handed_off(e->ctx));
    hc_env_free(e);
}

static be_backends *echo_backends(void)
{
    be_backend b;
    be_backend_init(&b);
    be_set_str(&b.name, "echo");
    be_set_str(&b.host, "127.0.0.1");
    be_set_str(&b.path_prefix, "/pre/");
    b.port = 9;
    be_backends_config bc = {.backends = &b, .nbackends = 1, .seed = 1};
    char err[256];
    be_backends *r = be_backends_new(&bc, err, sizeof err);
    be_backend_deinit(&b);
    return r;
}

TEST(websocket_heads)
{
    be_backends *bes = echo_backends();
    CHECK(bes != NULL);
    if (!bes)
        return;
    hc_fanout fo = {.pushpin_port = 0, .websocket_passthrough = true};
    handed d = {0};
    hc_env *e = run("ws", &fo, &d, bes);
    if (e) {
        CHECK_EQ_INT(d.calls, 1);
        CHECK(!d.to_pushpin);
        CHECK_EQ_INT(d.port, 9);
        /* the request's path after the backend's prefix; Host of the backend */
        CHECK(strncmp(d.head, "GET /pre/chat?room=1 HTTP/1.1\r\nHost: 127.0.0.1:9\r\n", 50) == 0);
        CHECK(strstr(d.head, "pushpin-route") == NULL);
        hc_env_free(e);
    }
    /* upgrade_websocket: the downstream request itself (POST /path?x=1, its headers) */
    memset(&d, 0, sizeof d);
    e = run("ws_v1", &fo, &d, bes);
    if (e) {
        CHECK_EQ_INT(d.calls, 1);
        CHECK(strncmp(d.head, "POST /pre/path?x=1 HTTP/1.1\r\n", 29) == 0);
        CHECK_STR_CONTAINS(d.head, "User-Agent: test-agent/1.0\r\n");
        CHECK_STR_CONTAINS(d.head, "X-Multi: a\r\nx-multi: b\r\n");
        CHECK(strstr(d.head, "example.com") == NULL);
        hc_env_free(e);
    }
    /* an unknown backend: the client gets a 500 naming it */
    memset(&d, 0, sizeof d);
    e = run("ws_unknown", &fo, &d, bes);
    if (e) {
        CHECK_EQ_INT(d.calls, 0);
        CHECK_EQ_INT(e->cap.heads, 1);
        CHECK_EQ_INT(e->cap.status, 500);
        CHECK_STR_CONTAINS(e->cap.body, "unknown backend 'nosuch'");
        hc_env_free(e);
    }
    be_backends_free(bes);
}

TEST(websocket_off)
{
    hc_fanout fo = {.pushpin_port = 7999, .websocket_passthrough = false};
    handed d = {0};
    hc_env *e = run("ws_off", &fo, &d, NULL);
    if (!e)
        return;
    CHECK_EQ_INT(d.calls, 1); /* only the Fanout one */
    CHECK(d.to_pushpin);
    CHECK(strstr(e->log.text, "WebSocket passthrough is off") != NULL);
    hc_env_free(e);
}

HARNESS_MAIN(RUN(fanout_off); RUN(grip_v2_head); RUN(already_sent); RUN(websocket_heads);
             RUN(websocket_off);)
