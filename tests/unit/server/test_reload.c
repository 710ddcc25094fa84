/* test_reload.c: hot reload (fastlike_reload, -watch) and the fastlike-verbose request header.
 * The guest file lives in a scratch directory and is replaced the way compilers do it (a new
 * file renamed over the old one); srv_version.wasm answers "version=a", srv_version_b.wasm
 * "version=b", so every response names the module that served it. Covers: the swap, requests
 * running across a reload finishing on the old module, instances waiting in next_request being
 * released, a bad file keeping the old module (one log line), 16 clients with no failed request
 * across several reloads, store files read again (a bad one keeping its data), reload with a new
 * config, -watch with an editor-style rename, and per-request verbosity; and the command line:
 * SIGHUP with -reload, -watch. */
#include "config/cfg_edge.h"
#include "config/tmp_files.h"
#include "server/srv_fastlike.h"
#include "fastlike_proc.h"
#include "test_server.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/stat.h>
#include <sys/wait.h>

#define GUEST_A "build/guests/srv_version.wasm"
#define GUEST_B "build/guests/srv_version_b.wasm"
#define GUEST_REUSE "build/guests/srv_reuse.wasm"

/* Copies src over dst as compilers do: a temporary file in the same directory, then rename. */
static bool install(const char *src, const char *dst)
{
    char tmp[800];
    snprintf(tmp, sizeof tmp, "%s.tmp-%d", dst, (int)getpid());
    FILE *in = fopen(src, "rb"), *out = fopen(tmp, "wb");
    bool ok = in && out;
    char buf[65536];
    size_t n;
    while (ok && (n = fread(buf, 1, sizeof buf, in)) > 0)
        ok = fwrite(buf, 1, n, out) == n;
    if (in)
        fclose(in);
    if (out && fclose(out) != 0)
        ok = false;
    if (ok && rename(tmp, dst) != 0)
        ok = false;
    if (!ok)
        fprintf(stderr, "install %s -> %s failed\n", src, dst);
    return ok;
}

/* The body of GET path ("" when the request failed); status in *status. */
static void get(uint16_t port, const char *path, char *out, size_t cap, int *status)
{
    char req[512];
    snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", path);
    hc_resp r = {0};
    int st = simple_on(port, req, &r, false);
    if (status)
        *status = st;
    snprintf(out, cap, "%s", st == 200 && r.body ? (const char *)r.body : "");
    hc_resp_free(&r);
}

static bool version_is(uint16_t port, const char *want)
{
    char body[256];
    int st;
    get(port, "/", body, sizeof body, &st);
    if (st != 200 || strcmp(body, want) != 0) {
        fprintf(stderr, "  GET / -> %d '%s', wanted '%s'\n", st, body, want);
        return false;
    }
    return true;
}

static fastlike_status watch_hook(fastlike_config *c, void *user, char *err, size_t errlen)
{
    (void)user, (void)err, (void)errlen;
    fastlike_config_set_watch(c, true);
    return FASTLIKE_OK;
}

static fastlike_status quiet_hook(fastlike_config *c, void *user, char *err, size_t errlen)
{
    (void)user, (void)err, (void)errlen;
    fastlike_config_set_verbosity(c, 0);
    return FASTLIKE_OK;
}

static char guest_path[700];

/* A server for a copy of `src` at guest_path. */
static server *start_copy(const char *src, server_hook hook, void *user)
{
    snprintf(guest_path, sizeof guest_path, "%s", tmp_path("guest.wasm"));
    if (!install(src, guest_path))
        return NULL;
    return server_start_with(guest_path, hook, user);
}

static void test_reload_swaps_module(void)
{
    server *s = start_copy(GUEST_A, NULL, NULL);
    CHECK(s != NULL);
    if (!s)
        return;
    CHECK(version_is(s->port, "version=a"));
    CHECK_EQ_U64(fastlike_generation(s->f), 1);
    CHECK(install(GUEST_B, guest_path));
    char err[1024] = "x";
    CHECK_EQ_INT(fastlike_reload(s->f, NULL, err, sizeof err), FASTLIKE_OK);
    CHECK_STR_EQ(err, "");
    CHECK_EQ_U64(fastlike_generation(s->f), 2);
    CHECK(version_is(s->port, "version=b"));
    CHECK(log_has(&s->log, "fastlike: reloaded "));
    CHECK(log_has(&s->log, "(generation 2, "));
    /* and back, through fastlike_handle as well */
    CHECK(install(GUEST_A, guest_path));
    CHECK_EQ_INT(fastlike_reload(s->f, NULL, err, sizeof err), FASTLIKE_OK);
    fastlike_request rq = {.method = "GET", .url = "/"};
    fastlike_response rs;
    CHECK_EQ_INT(fastlike_handle(s->f, &rq, &rs, err, sizeof err), FASTLIKE_OK);
    CHECK_EQ_INT(rs.status, 200);
    CHECK(rs.body_len == 9 && memcmp(rs.body, "version=a", 9) == 0);
    fastlike_response_free(&rs);
    server_stop(s);
}

static void test_unchanged_module_is_shared(void)
{
    /* a reload with the same bytes (a store-file edit, a touch) keeps the compiled module */
    server *s = start_copy(GUEST_A, NULL, NULL);
    CHECK(s != NULL);
    if (!s)
        return;
    char err[1024];
    CHECK_EQ_INT(fastlike_reload(s->f, NULL, err, sizeof err), FASTLIKE_OK);
    CHECK(log_has(&s->log, "(generation 2, "));
    CHECK_EQ_INT(log_count(&s->log, ", module unchanged)"), 1);
    CHECK(version_is(s->port, "version=a"));
    /* the generation that compiled it is gone now; its successor still runs it */
    CHECK_EQ_INT(fastlike_reload(s->f, NULL, err, sizeof err), FASTLIKE_OK);
    CHECK(version_is(s->port, "version=a"));
    CHECK_EQ_INT(log_count(&s->log, ", module unchanged)"), 2);
    /* new bytes are compiled */
    CHECK(install(GUEST_B, guest_path));
    CHECK_EQ_INT(fastlike_reload(s->f, NULL, err, sizeof err), FASTLIKE_OK);
    CHECK_EQ_INT(log_count(&s->log, ", module unchanged)"), 2);
    CHECK(version_is(s->port, "version=b"));
    CHECK_EQ_U64(fastlike_generation(s->f), 4);
    server_stop(s);
}

typedef struct slow_req {
    uint16_t port;
    char body[256];
    int status;
    atomic_bool done;
} slow_req;

static void *slow_get(void *arg)
{
    slow_req *r = arg;
    get(r->port, "/sleep?ms=1500", r->body, sizeof r->body, &r->status);
    atomic_store(&r->done, true);
    return NULL;
}

static void test_running_request_finishes_on_old_module(void)
{
    server *s = start_copy(GUEST_A, NULL, NULL);
    CHECK(s != NULL);
    if (!s)
        return;
    slow_req r = {.port = s->port};
    atomic_init(&r.done, false);
    pthread_t t;
    CHECK_EQ_INT(pthread_create(&t, NULL, slow_get, &r), 0);
    /* the old module's instance is running (and sleeping) once it printed */
    CHECK(log_wait(&s->log, "sleeping in version a"));
    CHECK(install(GUEST_B, guest_path));
    char err[1024];
    CHECK_EQ_INT(fastlike_reload(s->f, NULL, err, sizeof err), FASTLIKE_OK);
    CHECK(version_is(s->port, "version=b"));
    pthread_join(t, NULL);
    CHECK_EQ_INT(r.status, 200);
    CHECK_STR_EQ(r.body, "version=a"); /* it started before the swap */
    CHECK(atomic_load(&r.done));
    server_stop(s);
}

static void test_waiting_instance_released(void)
{
    /* srv_reuse waits in next_request after answering; after the reload the next request must
     * reach the new module, not the instance still waiting on the old one */
    server *s = start_copy(GUEST_REUSE, NULL, NULL);
    CHECK(s != NULL);
    if (!s)
        return;
    char body[256];
    int st;
    get(s->port, "/reuse?timeout=20000", body, sizeof body, &st);
    CHECK_EQ_INT(st, 200);
    CHECK_STR_CONTAINS(body, "Response #1");
    CHECK(install(GUEST_B, guest_path));
    char err[1024];
    CHECK_EQ_INT(fastlike_reload(s->f, NULL, err, sizeof err), FASTLIKE_OK);
    CHECK(version_is(s->port, "version=b"));
    CHECK(version_is(s->port, "version=b"));
    server_stop(s);
}

static void test_bad_file_keeps_old_module(void)
{
    server *s = start_copy(GUEST_A, NULL, NULL);
    CHECK(s != NULL);
    if (!s)
        return;
    char err[1024];
    /* not wasm at all */
    write_file("guest.wasm", "this is not a wasm module");
    CHECK_EQ_INT(fastlike_reload(s->f, NULL, err, sizeof err), FASTLIKE_ERR_WASM);
    CHECK_STR_CONTAINS(err, "guest.wasm: invalid wasm module");
    CHECK(version_is(s->port, "version=a"));
    CHECK_EQ_U64(fastlike_generation(s->f), 1);
    CHECK_EQ_INT(log_count(&s->log, "fastlike: reload failed, still serving the previous module: "),
                 1);
    /* valid wasm, but no _start: cannot serve */
    FILE *fp = fopen(guest_path, "wb");
    CHECK(fp != NULL);
    if (fp) {
        fwrite("\0asm\1\0\0\0", 1, 8, fp);
        fclose(fp);
    }
    CHECK_EQ_INT(fastlike_reload(s->f, NULL, err, sizeof err), FASTLIKE_ERR_WASM);
    CHECK_STR_CONTAINS(err, "_start");
    /* gone */
    unlink(guest_path);
    CHECK_EQ_INT(fastlike_reload(s->f, NULL, err, sizeof err), FASTLIKE_ERR_WASM);
    CHECK_STR_CONTAINS(err, "guest.wasm");
    CHECK(version_is(s->port, "version=a"));
    CHECK_EQ_INT(log_count(&s->log, "fastlike: reload failed, still serving the previous module: "),
                 3);
    CHECK(!log_has(&s->log, "fastlike: reloaded "));
    /* a good file again */
    CHECK(install(GUEST_B, guest_path));
    CHECK_EQ_INT(fastlike_reload(s->f, NULL, err, sizeof err), FASTLIKE_OK);
    CHECK(version_is(s->port, "version=b"));
    server_stop(s);
}

/* ---- under load ---- */

#define CLIENTS 16

typedef struct load {
    uint16_t port;
    atomic_bool stop;
    atomic_int ok, failed, saw_a, saw_b;
} load;

static void *client(void *arg)
{
    load *l = arg;
    while (!atomic_load(&l->stop)) {
        char body[256];
        int st;
        get(l->port, "/", body, sizeof body, &st);
        if (st == 200 && strcmp(body, "version=a") == 0) {
            atomic_fetch_add(&l->saw_a, 1);
            atomic_fetch_add(&l->ok, 1);
        } else if (st == 200 && strcmp(body, "version=b") == 0) {
            atomic_fetch_add(&l->saw_b, 1);
            atomic_fetch_add(&l->ok, 1);
        } else {
            fprintf(stderr, "  client: status %d body '%s'\n", st, body);
            atomic_fetch_add(&l->failed, 1);
        }
    }
    return NULL;
}

static void test_reload_under_load(void)
{
    server *s = start_copy(GUEST_A, quiet_hook, NULL);
    CHECK(s != NULL);
    if (!s)
        return;
    load l = {.port = s->port};
    atomic_init(&l.stop, false);
    atomic_init(&l.ok, 0);
    atomic_init(&l.failed, 0);
    atomic_init(&l.saw_a, 0);
    atomic_init(&l.saw_b, 0);
    pthread_t t[CLIENTS];
    int started = 0;
    for (int i = 0; i < CLIENTS; i++)
        if (pthread_create(&t[i], NULL, client, &l) == 0)
            started++;
    CHECK_EQ_INT(started, CLIENTS);
    for (int round = 0; round < 6; round++) {
        /* some traffic on this module first */
        int before = atomic_load(&l.ok);
        for (int i = 0; i < 3000 && atomic_load(&l.ok) < before + CLIENTS; i++)
            usleep(5000);
        const char *src = round % 2 == 0 ? GUEST_B : GUEST_A;
        CHECK(install(src, guest_path));
        char err[1024];
        CHECK_EQ_INT(fastlike_reload(s->f, NULL, err, sizeof err), FASTLIKE_OK);
        CHECK(version_is(s->port, round % 2 == 0 ? "version=b" : "version=a"));
    }
    atomic_store(&l.stop, true);
    for (int i = 0; i < started; i++)
        pthread_join(t[i], NULL);
    CHECK_EQ_INT(atomic_load(&l.failed), 0);
    CHECK(atomic_load(&l.ok) >= 6 * CLIENTS);
    CHECK(atomic_load(&l.saw_a) > 0);
    CHECK(atomic_load(&l.saw_b) > 0);
    CHECK_EQ_U64(fastlike_generation(s->f), 7);
    server_stop(s);
}

/* ---- store files ---- */

static const char *dict_path;

static fastlike_status dict_hook(fastlike_config *c, void *user, char *err, size_t errlen)
{
    (void)user;
    return fastlike_config_add_dictionary(c, "d", dict_path, err, errlen);
}

/* The value of `key` in dictionary "d" of the snapshot now serving ("" when absent). */
static void dict_value(fastlike *f, const char *key, char *out, size_t cap)
{
    srv_guest *g = srv_live_acquire(srv_fastlike_live(f));
    const cfg_dictionary *d = g && g->edge ? cfg_edge_dictionary(g->edge, "d", 1) : NULL;
    const cfg_string_entry *e = d ? cfg_string_map_get(&d->items, key, strlen(key)) : NULL;
    snprintf(out, cap, "%s", e ? e->value : "");
    srv_guest_drop(g);
}

static void test_store_files_reread(void)
{
    static char path[700];
    snprintf(path, sizeof path, "%s", write_file("dict.json", "{\"greeting\": \"hello\"}"));
    dict_path = path;
    server *s = start_copy(GUEST_A, dict_hook, NULL);
    CHECK(s != NULL);
    if (!s)
        return;
    char v[64], err[1024];
    dict_value(s->f, "greeting", v, sizeof v);
    CHECK_STR_EQ(v, "hello");
    /* a request holding the old snapshot keeps it valid across the reload */
    srv_guest *held = srv_live_acquire(srv_fastlike_live(s->f));
    write_file("dict.json", "{\"greeting\": \"bonjour\", \"new\": \"1\"}");
    CHECK_EQ_INT(fastlike_reload(s->f, NULL, err, sizeof err), FASTLIKE_OK);
    dict_value(s->f, "greeting", v, sizeof v);
    CHECK_STR_EQ(v, "bonjour");
    dict_value(s->f, "new", v, sizeof v);
    CHECK_STR_EQ(v, "1");
    const cfg_dictionary *old = cfg_edge_dictionary(held->edge, "d", 1);
    CHECK(old != NULL && old->items.count == 1);
    srv_guest_drop(held);
    /* a malformed file: the module is still swapped in, the dictionary keeps its data */
    write_file("dict.json", "{\"greeting\": ");
    CHECK(install(GUEST_B, guest_path));
    CHECK_EQ_INT(fastlike_reload(s->f, NULL, err, sizeof err), FASTLIKE_ERR_ARGS);
    CHECK_STR_CONTAINS(err, "-dictionary d: ");
    CHECK_STR_CONTAINS(err, "dict.json");
    CHECK(log_has(&s->log, "fastlike: reload: -dictionary d: "));
    CHECK(log_has(&s->log, "(keeping the previous data)"));
    CHECK(version_is(s->port, "version=b"));
    CHECK_EQ_U64(fastlike_generation(s->f), 3);
    dict_value(s->f, "greeting", v, sizeof v);
    CHECK_STR_EQ(v, "bonjour");
    /* the file deleted: same */
    unlink(path);
    CHECK_EQ_INT(fastlike_reload(s->f, NULL, err, sizeof err), FASTLIKE_ERR_ARGS);
    dict_value(s->f, "new", v, sizeof v);
    CHECK_STR_EQ(v, "1");
    server_stop(s);
}

static void test_reload_with_config(void)
{
    server *s = start_copy(GUEST_A, NULL, NULL);
    CHECK(s != NULL);
    if (!s)
        return;
    fastlike_config *c = fastlike_config_new();
    char err[1024];
    CHECK_EQ_INT(fastlike_config_set_wasm_file(c, GUEST_B), FASTLIKE_OK);
    CHECK_EQ_INT(fastlike_reload(s->f, c, err, sizeof err), FASTLIKE_OK);
    fastlike_config_free(c);
    CHECK(version_is(s->port, "version=b"));
    /* a config without a guest is refused, nothing changes */
    c = fastlike_config_new();
    CHECK_EQ_INT(fastlike_reload(s->f, c, err, sizeof err), FASTLIKE_ERR_ARGS);
    fastlike_config_free(c);
    CHECK(version_is(s->port, "version=b"));
    server_stop(s);
}

static bool wait_generation(fastlike *f, uint64_t gen)
{
    for (int i = 0; i < 2000; i++) { /* up to 20 s on a loaded machine */
        if (fastlike_generation(f) >= gen)
            return true;
        usleep(10000);
    }
    return false;
}

static void test_watch_editor_rename(void)
{
    server *s = start_copy(GUEST_A, watch_hook, NULL);
    CHECK(s != NULL);
    if (!s)
        return;
    /* unrelated files in the directory do not trigger a reload */
    write_file("other.txt", "x");
    /* an editor-style save: a temporary file renamed over the guest */
    CHECK(install(GUEST_B, guest_path));
    CHECK(wait_generation(s->f, 2));
    CHECK(version_is(s->port, "version=b"));
    /* an in-place rewrite (truncate + write) is seen too */
    FILE *in = fopen(GUEST_A, "rb"), *out = fopen(guest_path, "wb");
    CHECK(in && out);
    if (in && out) {
        char buf[65536];
        size_t n;
        while ((n = fread(buf, 1, sizeof buf, in)) > 0)
            fwrite(buf, 1, n, out);
    }
    if (in)
        fclose(in);
    if (out)
        fclose(out);
    CHECK(wait_generation(s->f, 3));
    CHECK(version_is(s->port, "version=a"));
    CHECK(!log_has(&s->log, "reload failed"));
    server_stop(s);
}

static void test_watch_needs_directory(void)
{
    fastlike_config *c = fastlike_config_new();
    CHECK_EQ_INT(fastlike_config_set_wasm_bytes(c, (const uint8_t *)"\0asm\1\0\0\0", 8),
                 FASTLIKE_OK);
    fastlike_config_set_watch(c, true);
    fastlike *f = NULL;
    char err[512];
    CHECK(fastlike_new(c, &f, err, sizeof err) != FASTLIKE_OK);
    fastlike_free(f);
    fastlike_config_free(c);
}

/* ---- fastlike-verbose ---- */

static void test_fastlike_verbose_header(void)
{
    server *s = start_copy(GUEST_A, quiet_hook, NULL);
    CHECK(s != NULL);
    if (!s)
        return;
    hc_resp r = {0};
    CHECK_EQ_INT(simple_on(s->port, "GET /quiet HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
                           &r, false),
                 200);
    hc_resp_free(&r);
    CHECK_EQ_INT(simple_on(s->port,
                           "GET /loud HTTP/1.1\r\nHost: x\r\nfastlike-verbose: 1\r\n"
                           "Connection: close\r\n\r\n",
                           &r, false),
                 200);
    hc_resp_free(&r);
    /* the access line (-v 1) for the request that asked, none for the other */
    CHECK(log_wait(&s->log, "GET http://x/loud -> 200"));
    CHECK(!log_has(&s->log, "/quiet"));
    /* "0" does not ask */
    CHECK_EQ_INT(simple_on(s->port,
                           "GET /zero HTTP/1.1\r\nHost: x\r\nfastlike-verbose: 0\r\n"
                           "Connection: close\r\n\r\n",
                           &r, false),
                 200);
    hc_resp_free(&r);
    CHECK_EQ_INT(simple_on(s->port,
                           "GET /after HTTP/1.1\r\nHost: x\r\nfastlike-verbose: 1\r\n"
                           "Connection: close\r\n\r\n",
                           &r, false),
                 200);
    hc_resp_free(&r);
    CHECK(log_wait(&s->log, "GET http://x/after -> 200"));
    CHECK(!log_has(&s->log, "/zero"));
    server_stop(s);
    /* hostcall lines at level 2 too: srv_reuse's next_request logs one */
    s = start_copy(GUEST_REUSE, quiet_hook, NULL);
    CHECK(s != NULL);
    if (!s)
        return;
    CHECK_EQ_INT(simple_on(s->port, "GET /reuse HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
                           &r, false),
                 200);
    hc_resp_free(&r);
    CHECK(!log_has(&s->log, "next_request: "));
    CHECK_EQ_INT(simple_on(s->port,
                           "GET /reuse HTTP/1.1\r\nHost: x\r\nfastlike-verbose: 1\r\n"
                           "Connection: close\r\n\r\n",
                           &r, false),
                 200);
    hc_resp_free(&r);
    CHECK(log_wait(&s->log, "next_request: "));
    server_stop(s);
}

/* ---- the command line: SIGHUP with -reload, -watch ---- */

static char fastlike_bin[1024] = "bin/fastlike";

/* Starts the binary with args, its output in tmp files named after `tag` (fastlike_proc.h). */
static bool child_start(fl_proc *c, const char *tag, const char *const *args)
{
    char out[700], err[700];
    snprintf(out, sizeof out, "%s.out", tmp_path(tag));
    snprintf(err, sizeof err, "%s.err", tmp_path(tag));
    return fl_proc_start(c, args, out, err);
}

static bool wait_version(uint16_t port, const char *want)
{
    for (int i = 0; i < 2000; i++) {
        char body[256];
        int st;
        get(port, "/", body, sizeof body, &st);
        if (st == 200 && strcmp(body, want) == 0)
            return true;
        usleep(10000);
    }
    return false;
}

static void test_cli_sighup_reload(void)
{
    char path[700];
    snprintf(path, sizeof path, "%s", tmp_path("cli.wasm"));
    CHECK(install(GUEST_A, path));
    const char *args[] = {fastlike_bin, "-wasm", path, "-reload", "-bind", "127.0.0.1:0", NULL};
    fl_proc c;
    CHECK(child_start(&c, "cli", args));
    if (c.port) {
        CHECK(version_is(c.port, "version=a"));
        CHECK(!fl_proc_err_has(&c, "not in effect")); /* -reload is no longer a pending flag */
        CHECK(install(GUEST_B, path));
        kill(c.pid, SIGHUP);
        CHECK(fl_proc_wait_err(&c, "fastlike: reloaded "));
        CHECK(wait_version(c.port, "version=b"));
        /* a broken file: one line, the old module keeps serving */
        write_file("cli.wasm", "garbage");
        kill(c.pid, SIGHUP);
        CHECK(fl_proc_wait_err(&c, "fastlike: reload failed, still serving the previous module: "));
        CHECK(fl_proc_err_has(&c, "cli.wasm: invalid wasm module"));
        CHECK(version_is(c.port, "version=b"));
    }
    CHECK_EQ_INT(fl_proc_stop(&c), 0);
}

static void test_cli_watch(void)
{
    char path[700];
    snprintf(path, sizeof path, "%s", tmp_path("watched.wasm"));
    CHECK(install(GUEST_A, path));
    const char *args[] = {fastlike_bin, "-wasm", path, "-watch", "-bind", "127.0.0.1:0", NULL};
    fl_proc c;
    CHECK(child_start(&c, "watch", args));
    if (c.port) {
        CHECK(version_is(c.port, "version=a"));
        CHECK(install(GUEST_B, path));
        CHECK(fl_proc_wait_err(&c, "fastlike: reloaded "));
        CHECK(wait_version(c.port, "version=b"));
    }
    CHECK_EQ_INT(fl_proc_stop(&c), 0);
}

/* build/<variant>/tests/server/test_reload -> build/<variant>/fastlike */
static void find_fastlike(const char *argv0)
{
    const char *t = argv0 ? strstr(argv0, "/tests/") : NULL;
    if (t)
        snprintf(fastlike_bin, sizeof fastlike_bin, "%.*s/fastlike", (int)(t - argv0), argv0);
}

int main(int argc, char **argv)
{
    (void)argc;
    find_fastlike(argv[0]);
    if (!tmp_dir_create("fastlike-reload"))
        return 1;
    RUN(reload_swaps_module);
    RUN(unchanged_module_is_shared);
    RUN(running_request_finishes_on_old_module);
    RUN(waiting_instance_released);
    RUN(bad_file_keeps_old_module);
    RUN(reload_under_load);
    RUN(store_files_reread);
    RUN(reload_with_config);
    RUN(watch_editor_rename);
    RUN(watch_needs_directory);
    RUN(fastlike_verbose_header);
    RUN(cli_sighup_reload);
    RUN(cli_watch);
    tmp_dir_remove();
    return harness_finish(argv[0]);
}
