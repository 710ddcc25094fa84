/* test_viewer_browser.c: the viewer page in headless Chromium (Debian `chromium`, installed by
 * scripts/deps.sh): after two recorded requests, the page must load with no console messages at
 * all (errors included), show the selected request's timeline with its hostcall rows and the
 * guest flame graph, and render the aggregate view; a screenshot is saved to
 * build/test-artifacts/profiler-viewer.png. */
#include "harness.h"
#include "test_server.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define GUEST "build/guests/prof_app.wasm"

static fastlike_status configure(fastlike_config *c, void *user, char *err, size_t errlen)
{
    (void)user;
    fastlike_config_set_profile_native(c, true);
    return fastlike_config_set_profile_ui(c, "127.0.0.1:0", err, errlen);
}

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *text = malloc(n > 0 ? (size_t)n + 1 : 1);
    size_t got = text && n > 0 ? fread(text, 1, (size_t)n, f) : 0;
    if (text)
        text[got] = '\0';
    fclose(f);
    return text;
}

/* Runs headless Chromium on url with `action` ("--dump-dom" or "--screenshot=FILE"); its stdout
 * and stderr go to out/err. Returns the exit status. */
static int chromium(const char *url, const char *action, const char *out, const char *err)
{
    char profile[] = "/tmp/fastlike-chromium-XXXXXX";
    if (!mkdtemp(profile))
        return -1;
    char cmd[2048];
    snprintf(cmd, sizeof cmd,
             "timeout 180 chromium --headless --no-sandbox --disable-gpu --disable-quic "
             "--no-first-run --disable-background-networking --disable-component-update "
             "--disable-sync --user-data-dir=%s --enable-logging=stderr --v=0 "
             "--window-size=1280,900 --virtual-time-budget=10000 %s '%s' >%s 2>%s",
             profile, action, url, out, err);
    int rc = system(cmd);
    char rm[600];
    snprintf(rm, sizeof rm, "rm -rf %s", profile);
    if (system(rm) != 0)
        fprintf(stderr, "could not remove %s\n", profile);
    return rc;
}

/* The console lines Chromium logged (its "CONSOLE" log records), or NULL when none. */
static char *console_lines(const char *err_text)
{
    const char *p = err_text ? strstr(err_text, ":CONSOLE") : NULL;
    if (!p)
        return NULL;
    const char *end = strchr(p, '\n');
    size_t n = end ? (size_t)(end - p) : strlen(p);
    char *line = malloc(n + 1);
    if (line) {
        memcpy(line, p, n);
        line[n] = '\0';
    }
    return line;
}

/* After a failed check: what Chromium saw and said, for the test log. */
static void explain(const char *dom, const char *log)
{
    if (!harness_cur_failed)
        return;
    const char *body = dom ? strstr(dom, "<body") : NULL;
    fprintf(stderr, "DOM: %.1500s\n", body ? body : dom ? dom : "(none)");
    fprintf(stderr, "chromium log: %.3000s\n", log ? log : "(none)");
}

TEST(viewer_in_chromium)
{
    CHECK(system("command -v chromium >/dev/null 2>&1") == 0);
    server *s = server_start_with(GUEST, configure, NULL);
    CHECK(s != NULL);
    if (!s)
        return;
    hc_resp r;
    memset(&r, 0, sizeof r);
    CHECK_EQ_INT(simple_on(s->port, "GET /calls HTTP/1.1\r\nHost: x\r\n\r\n", &r, false), 200);
    free(r.body);
    memset(&r, 0, sizeof r);
    CHECK_EQ_INT(simple_on(s->port, "GET /busy?ms=200 HTTP/1.1\r\nHost: x\r\n\r\n", &r, false),
                 200);
    free(r.body);
    uint16_t port = fastlike_profile_ui_port(s->f);
    /* both requests are recorded once their guests have ended */
    char url[256];
    snprintf(url, sizeof url, "http://127.0.0.1:%u/api/requests/2", port);
    for (int i = 0; i < 2000; i++) {
        hc_resp a;
        memset(&a, 0, sizeof a);
        char req[128];
        snprintf(req, sizeof req, "GET /api/requests/2 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
        int st = simple_on(port, req, &a, false);
        free(a.body);
        if (st == 200)
            break;
        usleep(10000);
    }
    mkdir("build/test-artifacts", 0755);
    const char *out = "build/test-artifacts/profiler-viewer.dom.html";
    const char *err = "build/test-artifacts/profiler-viewer.chromium.log";

    /* the timeline of request 1 (/calls) */
    snprintf(url, sizeof url, "http://127.0.0.1:%u/#req=1", port);
    CHECK_EQ_INT(chromium(url, "--dump-dom", out, err), 0);
    char *dom = slurp(out), *log = slurp(err);
    CHECK(dom != NULL);
    if (dom) {
        CHECK_STR_CONTAINS(dom, "data-ready=\"request\"");
        CHECK_STR_CONTAINS(dom, "id=\"timeline\"");
        CHECK_STR_CONTAINS(dom, "data-name=\"fastly_http_resp.header_insert\"");
        CHECK_STR_CONTAINS(dom, "fastly_http_resp.header_insert ×3");
        CHECK_STR_CONTAINS(dom, "data-name=\"fastly_http_resp.send_downstream\"");
        CHECK_STR_CONTAINS(dom, "id=\"req-title\">GET http://x/calls<");
        CHECK(!strstr(dom, "id=\"error\""));
        CHECK(strstr(dom, "class=\"req sel\" data-id=\"1\"") != NULL);
    }
    char *console = console_lines(log);
    if (console)
        fprintf(stderr, "console: %s\n", console);
    CHECK(console == NULL);
    free(console);
    explain(dom, log);
    free(dom);
    free(log);

    /* request 2 (/busy): its flame graph names the guest's functions */
    snprintf(url, sizeof url, "http://127.0.0.1:%u/#req=2", port);
    CHECK_EQ_INT(chromium(url, "--dump-dom", out, err), 0);
    dom = slurp(out);
    log = slurp(err);
    CHECK(dom && strstr(dom, "id=\"flame\""));
    CHECK(dom && strstr(dom, "data-name=\"prof_busy_inner\""));
    console = console_lines(log);
    CHECK(console == NULL);
    free(console);
    explain(dom, log);
    free(dom);
    free(log);

    /* the aggregate view */
    snprintf(url, sizeof url, "http://127.0.0.1:%u/#aggregate", port);
    CHECK_EQ_INT(chromium(url, "--dump-dom", out, err), 0);
    dom = slurp(out);
    log = slurp(err);
    CHECK(dom && strstr(dom, "data-ready=\"aggregate\""));
    CHECK(dom && strstr(dom, "id=\"agg-hostcalls\""));
    CHECK(dom && strstr(dom, "fastly_http_resp.header_insert"));
    console = console_lines(log);
    CHECK(console == NULL);
    free(console);
    explain(dom, log);
    free(dom);
    free(log);

    /* a screenshot of request 2 for people (and docs/profiling.md) */
    const char *png = "build/test-artifacts/profiler-viewer.png";
    unlink(png);
    char action[256];
    snprintf(action, sizeof action, "--screenshot=%s", png);
    snprintf(url, sizeof url, "http://127.0.0.1:%u/#req=2", port);
    CHECK_EQ_INT(chromium(url, action, out, err), 0);
    struct stat st;
    CHECK(stat(png, &st) == 0 && st.st_size > 1000);
    server_stop(s);
}

static fastlike_status configure_deep(fastlike_config *c, void *user, char *err, size_t errlen)
{
    (void)user;
    fastlike_status st = fastlike_config_set_profile_ui(c, "127.0.0.1:0", err, errlen);
    return st == FASTLIKE_OK ? fastlike_config_set_profile_mode(c, "deep", err, errlen) : st;
}

/* Deep mode's parts of the page: counters, header table, store operations, memory chart. */
TEST(deep_mode_in_chromium)
{
    server *s = server_start_with(GUEST, configure_deep, NULL);
    CHECK(s != NULL);
    if (!s)
        return;
    hc_resp r;
    memset(&r, 0, sizeof r);
    CHECK_EQ_INT(simple_on(s->port,
                           "GET /stores HTTP/1.1\r\nHost: x\r\nCookie: c=zzsecretzz\r\n\r\n", &r,
                           false),
                 200);
    free(r.body);
    uint16_t port = fastlike_profile_ui_port(s->f);
    for (int i = 0; i < 2000; i++) {
        hc_resp a;
        memset(&a, 0, sizeof a);
        int st =
            simple_on(port, "GET /api/requests/1 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", &a, false);
        free(a.body);
        if (st == 200)
            break;
        usleep(10000);
    }
    mkdir("build/test-artifacts", 0755);
    const char *out = "build/test-artifacts/profiler-viewer-deep.dom.html";
    const char *err = "build/test-artifacts/profiler-viewer-deep.chromium.log";
    char url[128];
    snprintf(url, sizeof url, "http://127.0.0.1:%u/#req=1", port);
    CHECK_EQ_INT(chromium(url, "--dump-dom", out, err), 0);
    char *dom = slurp(out), *log = slurp(err);
    CHECK(dom && strstr(dom, "data-ready=\"request\""));
    CHECK(dom && strstr(dom, "id=\"store-ops\""));
    CHECK(dom && strstr(dom, "fastly_dictionary.open"));
    CHECK(dom && strstr(dom, "class=\"mem\""));
    CHECK(dom && strstr(dom, "[redacted]"));
    CHECK(dom && !strstr(dom, "zzsecretzz"));
    char *console = console_lines(log);
    if (console)
        fprintf(stderr, "console: %s\n", console);
    CHECK(console == NULL);
    free(console);
    explain(dom, log);
    free(dom);
    free(log);
    server_stop(s);
}

HARNESS_MAIN(RUN(viewer_in_chromium); RUN(deep_mode_in_chromium);)
