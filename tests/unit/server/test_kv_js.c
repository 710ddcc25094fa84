/* test_kv_js.c: KV stores from a JS SDK guest (tests/guests/js/kv_sdk.js, KVStore of
 * "fastly:kv-store") end to end: the fastlike binary started with -kv and -kv-dir flags and spoken
 * to over HTTP (get/put/delete/list with metadata, insert modes, cursor paging, TTL, unknown
 * store), then restarted on the same directory to find its writes; and two fastlike objects of the
 * embedding API in turn on one -kv-dir (fastlike_config_set_kv_dir), plus a bad directory. */
#include "fastlike.h"
#include "harness.h"
#include "fastlike_proc.h"
#include "http_client.h"
#include "tmp_files.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>

#define GUEST "build/guests/js/kv_sdk.wasm"

static char fastlike_bin[1024] = "bin/fastlike";
static uint16_t port;

/* One request; returns the status and keeps the body in r (NUL-terminated). */
static int req(const char *method, const char *target, const char *body, hc_resp *r)
{
    char request[2048];
    size_t blen = body ? strlen(body) : 0;
    snprintf(
        request, sizeof request,
        "%s %s HTTP/1.1\r\nHost: kv.test\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n%s",
        method, target, blen, body ? body : "");
    hc_resp_free(r);
    memset(r, 0, sizeof *r);
    hc_conn c;
    if (hc_connect(&c, port) != 0)
        return -1;
    int rc = hc_sends(&c, request) == 0 && hc_read(&c, r, false, true, false) == 0 ? r->status : -1;
    hc_close(&c);
    return rc;
}

static const char *text(const hc_resp *r)
{
    return r->body ? (const char *)r->body : "";
}

static fl_proc bin_proc;

/* Starts the binary with the KV flags on an ephemeral port (fastlike_proc.h: it waits for the
 * port line). Returns its pid, or -1. */
static pid_t start_bin(const char *seed, const char *dir)
{
    char kv[800], out[700], err[700];
    snprintf(kv, sizeof kv, "app=%s", seed);
    snprintf(out, sizeof out, "%s", tmp_path("bin.out"));
    snprintf(err, sizeof err, "%s", tmp_path("bin.err"));
    const char *argv[] = {fastlike_bin, "-wasm", GUEST,   "-bind",   "127.0.0.1:0", "-kv",
                          kv,           "-kv",   "other", "-kv-dir", dir,           NULL};
    if (!fl_proc_start(&bin_proc, argv, out, err)) {
        fl_proc_stop(&bin_proc);
        return -1;
    }
    port = bin_proc.port;
    return bin_proc.pid;
}

static void stop_bin(pid_t pid)
{
    if (pid <= 0)
        return;
    CHECK(fl_proc_stop(&bin_proc) != -1); /* exited normally */
}

static const char *seed_file(void)
{
    return write_file(
        "seed.json",
        "{\"seed\": \"from-file\", \"meta\": {\"body\": \"mv\", \"metadata\": \"md\"}}");
}

TEST(binary_with_flags)
{
    char dir[800];
    snprintf(dir, sizeof dir, "%s", tmp_path("bin-db"));
    pid_t pid = start_bin(seed_file(), dir);
    CHECK(pid > 0);
    if (pid <= 0)
        return;
    hc_resp r = {0};
    /* seeded values, with and without metadata */
    CHECK_EQ_INT(req("GET", "/get?key=seed", NULL, &r), 200);
    CHECK_STR_EQ(text(&r), "from-file");
    CHECK_STR_EQ(hc_header(&r, "x-has-metadata"), "no");
    CHECK_EQ_INT(req("GET", "/get?key=meta", NULL, &r), 200);
    CHECK_STR_EQ(text(&r), "mv");
    CHECK_STR_EQ(hc_header(&r, "x-metadata"), "md");
    CHECK_EQ_INT(req("GET", "/get?key=missing", NULL, &r), 404);
    /* put with metadata, then the insert modes */
    CHECK_EQ_INT(req("POST", "/put?key=a1&meta=hello", "v-a1", &r), 200);
    CHECK_EQ_INT(req("GET", "/get?key=a1", NULL, &r), 200);
    CHECK_STR_EQ(text(&r), "v-a1");
    CHECK_STR_EQ(hc_header(&r, "x-metadata"), "hello");
    CHECK_EQ_INT(req("POST", "/put?key=a1&mode=append", "+x", &r), 200);
    CHECK_EQ_INT(req("POST", "/put?key=a1&mode=prepend", "p-", &r), 200);
    CHECK_EQ_INT(req("GET", "/get?key=a1", NULL, &r), 200);
    CHECK_STR_EQ(text(&r), "p-v-a1+x");
    CHECK_EQ_INT(req("POST", "/put?key=a1&mode=add", "no", &r), 500); /* the key exists */
    CHECK_EQ_INT(req("GET", "/get?key=a1", NULL, &r), 200);
    CHECK_STR_EQ(text(&r), "p-v-a1+x");
    /* delete */
    CHECK_EQ_INT(req("POST", "/delete?key=a1", NULL, &r), 200);
    CHECK_EQ_INT(req("GET", "/get?key=a1", NULL, &r), 404);
    /* list and paging */
    for (int i = 5; i >= 1; i--) {
        char t[64];
        snprintf(t, sizeof t, "/put?key=l/%d", i);
        CHECK_EQ_INT(req("POST", t, "v", &r), 200);
    }
    CHECK_EQ_INT(req("GET", "/list?prefix=l/&limit=2", NULL, &r), 200);
    CHECK_STR_EQ(text(&r), "{\"list\":[\"l/1\",\"l/2\"],\"cursor\":\"bC8y\"}");
    CHECK_EQ_INT(req("GET", "/list?prefix=l/&limit=2&cursor=bC8y", NULL, &r), 200);
    CHECK_STR_EQ(text(&r), "{\"list\":[\"l/3\",\"l/4\"],\"cursor\":\"bC80\"}");
    CHECK_EQ_INT(req("GET", "/walk?prefix=l/&limit=2", NULL, &r), 200);
    CHECK_STR_EQ(text(&r), "{\"keys\":[\"l/1\",\"l/2\",\"l/3\",\"l/4\",\"l/5\"],\"pages\":3}");
    CHECK_EQ_INT(req("GET", "/list?store=other", NULL, &r), 200);
    CHECK_STR_EQ(text(&r), "{\"list\":[],\"cursor\":null}");
    /* an unknown store and a bad key throw in the guest */
    CHECK_EQ_INT(req("GET", "/open-unknown", NULL, &r), 500);
    CHECK_STR_CONTAINS(text(&r), "threw");
    CHECK_EQ_INT(req("GET", "/get?key=a%23b", NULL, &r), 500);
    CHECK_STR_CONTAINS(text(&r), "TypeError");
    /* TTL: gone after a second (polled, generous deadline) */
    CHECK_EQ_INT(req("POST", "/put?key=t1&ttl=1", "short", &r), 200);
    int st = 200;
    for (int i = 0; i < 600 && st == 200; i++) {
        st = req("GET", "/get?key=t1", NULL, &r);
        if (st == 200)
            usleep(100 * 1000);
    }
    CHECK_EQ_INT(st, 404);
    /* what survives a restart on the same -kv-dir */
    CHECK_EQ_INT(req("POST", "/put?key=seed", "rewritten", &r), 200);
    stop_bin(pid);
    pid = start_bin(seed_file(), dir);
    CHECK(pid > 0);
    if (pid > 0) {
        CHECK_EQ_INT(req("GET", "/get?key=seed", NULL, &r), 200);
        CHECK_STR_EQ(text(&r), "rewritten");
        CHECK_EQ_INT(req("GET", "/walk?prefix=l/&limit=10", NULL, &r), 200);
        CHECK_STR_EQ(text(&r), "{\"keys\":[\"l/1\",\"l/2\",\"l/3\",\"l/4\",\"l/5\"],\"pages\":1}");
        CHECK_EQ_INT(req("GET", "/get?key=a1", NULL, &r), 404);
        stop_bin(pid);
    }
    hc_resp_free(&r);
}

static void quiet(void *user, const char *line)
{
    (void)user, (void)line;
}

static fastlike *make(const char *dir, char *err, size_t errlen, fastlike_status *st)
{
    fastlike_config *c = fastlike_config_new();
    fastlike_config_set_wasm_file(c, GUEST);
    fastlike_config_set_log(c, quiet, NULL);
    *st = fastlike_config_add_kv_store(c, "app", seed_file(), err, errlen);
    if (*st == FASTLIKE_OK)
        *st = fastlike_config_set_kv_dir(c, dir, err, errlen);
    fastlike *f = NULL;
    if (*st == FASTLIKE_OK)
        *st = fastlike_new(c, &f, err, errlen);
    fastlike_config_free(c);
    return f;
}

static int handle(fastlike *f, const char *method, const char *url, const char *body, char *out,
                  size_t outlen)
{
    char err[256];
    fastlike_request rq = {.method = method,
                           .url = url,
                           .body = (const uint8_t *)body,
                           .body_len = body ? strlen(body) : 0,
                           .client_ip = "192.0.2.9"};
    fastlike_response resp;
    if (fastlike_handle(f, &rq, &resp, err, sizeof err) != FASTLIKE_OK)
        return -1;
    snprintf(out, outlen, "%.*s", (int)resp.body_len, resp.body ? (const char *)resp.body : "");
    int status = resp.status;
    fastlike_response_free(&resp);
    return status;
}

TEST(two_objects_one_dir)
{
    char dir[800], err[512] = "", out[512];
    snprintf(dir, sizeof dir, "%s", tmp_path("api-db"));
    fastlike_status st;
    fastlike *f = make(dir, err, sizeof err, &st);
    CHECK(f != NULL);
    if (!f) {
        fprintf(stderr, "%s\n", err);
        return;
    }
    CHECK_EQ_INT(
        handle(f, "POST", "http://kv.test/put?key=api&meta=m", "from-first", out, sizeof out), 200);
    CHECK_EQ_INT(handle(f, "GET", "http://kv.test/get?key=api", NULL, out, sizeof out), 200);
    CHECK_STR_EQ(out, "from-first");
    fastlike_free(f);
    f = make(dir, err, sizeof err, &st);
    CHECK(f != NULL);
    if (!f)
        return;
    CHECK_EQ_INT(handle(f, "GET", "http://kv.test/get?key=api", NULL, out, sizeof out), 200);
    CHECK_STR_EQ(out, "from-first");
    CHECK_EQ_INT(handle(f, "GET", "http://kv.test/get?key=seed", NULL, out, sizeof out), 200);
    CHECK_STR_EQ(out, "from-file");
    fastlike_free(f);
    /* a directory that cannot be made: fastlike_new fails naming it */
    const char *file = write_file("plain-file", "x");
    char bad[900];
    snprintf(bad, sizeof bad, "%s/db", file);
    f = make(bad, err, sizeof err, &st);
    CHECK(f == NULL);
    CHECK_EQ_INT(st, FASTLIKE_ERR_IO);
    CHECK_STR_CONTAINS(err, "-kv-dir");
    CHECK_STR_CONTAINS(err, "plain-file");
    fastlike_free(f);
}

TEST(writes_survive_a_reload)
{
    /* issue 8/9: KV stores belong to the server, not the module: a hot reload keeps them */
    fastlike_config *c = fastlike_config_new();
    char err[512] = "", out[512];
    fastlike_config_set_wasm_file(c, GUEST);
    fastlike_config_set_log(c, quiet, NULL);
    CHECK_EQ_INT(fastlike_config_add_kv_store(c, "app", seed_file(), err, sizeof err), FASTLIKE_OK);
    fastlike *f = NULL;
    CHECK_EQ_INT(fastlike_new(c, &f, err, sizeof err), FASTLIKE_OK);
    fastlike_config_free(c);
    if (!f)
        return;
    CHECK_EQ_INT(
        handle(f, "POST", "http://kv.test/put?key=kept", "written-before", out, sizeof out), 200);
    uint64_t gen = fastlike_generation(f);
    CHECK_EQ_INT(fastlike_reload(f, NULL, err, sizeof err), FASTLIKE_OK);
    CHECK(fastlike_generation(f) > gen);
    CHECK_EQ_INT(handle(f, "GET", "http://kv.test/get?key=kept", NULL, out, sizeof out), 200);
    CHECK_STR_EQ(out, "written-before");
    CHECK_EQ_INT(handle(f, "GET", "http://kv.test/get?key=seed", NULL, out, sizeof out), 200);
    CHECK_STR_EQ(out, "from-file");
    fastlike_free(f);
}

TEST(stores_from_fastly_toml)
{
    /* a project's fastly.toml defines the KV stores: inline entries, one from a file (relative
     * to the toml) and metadata */
    write_file("logo.txt", "file-body");
    const char *toml =
        write_file("fastly.toml", "manifest_version = 3\n"
                                  "[local_server.kv_stores]\n"
                                  "app = [\n"
                                  "  { key = \"seed\", data = \"from-toml\" },\n"
                                  "  { key = \"meta\", data = \"mv\", metadata = \"md\" },\n"
                                  "  { key = \"logo\", file = \"logo.txt\" },\n"
                                  "]\n");
    fastlike_config *c = fastlike_config_new();
    char err[512] = "", out[512];
    fastlike_config_set_wasm_file(c, GUEST);
    fastlike_config_set_log(c, quiet, NULL);
    CHECK_EQ_INT(fastlike_config_load_fastly_toml(c, toml, err, sizeof err), FASTLIKE_OK);
    fastlike *f = NULL;
    CHECK_EQ_INT(fastlike_new(c, &f, err, sizeof err), FASTLIKE_OK);
    fastlike_config_free(c);
    if (!f) {
        fprintf(stderr, "%s\n", err);
        return;
    }
    CHECK_EQ_INT(handle(f, "GET", "http://kv.test/get?key=seed", NULL, out, sizeof out), 200);
    CHECK_STR_EQ(out, "from-toml");
    CHECK_EQ_INT(handle(f, "GET", "http://kv.test/get?key=meta", NULL, out, sizeof out), 200);
    CHECK_STR_EQ(out, "mv");
    CHECK_EQ_INT(handle(f, "GET", "http://kv.test/get?key=logo", NULL, out, sizeof out), 200);
    CHECK_STR_EQ(out, "file-body");
    CHECK_EQ_INT(handle(f, "GET", "http://kv.test/list?limit=10", NULL, out, sizeof out), 200);
    CHECK_STR_EQ(out, "{\"list\":[\"logo\",\"meta\",\"seed\"],\"cursor\":null}");
    fastlike_free(f);
}

/* build/<variant>/tests/server/test_kv_js -> build/<variant>/fastlike */
static void find_fastlike(const char *argv0)
{
    const char *t = argv0 ? strstr(argv0, "/tests/") : NULL;
    if (t)
        snprintf(fastlike_bin, sizeof fastlike_bin, "%.*s/fastlike", (int)(t - argv0), argv0);
}

int main(int argc, char **argv)
{
    (void)argc;
    signal(SIGPIPE, SIG_IGN);
    find_fastlike(argv[0]);
    if (!tmp_dir_create("fastlike-kv-js"))
        return 1;
    RUN(binary_with_flags);
    RUN(two_objects_one_dir);
    RUN(writes_survive_a_reload);
    RUN(stores_from_fastly_toml);
    tmp_dir_remove();
    return harness_finish(argv[0]);
}
