/* test_hostile.c: end-to-end robustness against hostile guests (tests/guests/c/srv_hostile.c):
 * memory growth to the per-instance cap, endless recursion, endless loops before and after the
 * head, junk pointers, lengths and handles, a full handle table, floods of output, proc_exit with
 * odd codes, calls to missing imports. Each request must end cleanly with a reason in the log, the
 * server must keep serving, and its memory must come back afterwards. */
#include "fastlike.h"
#include "harness.h"
#include "http_client.h"
#include "test_server.h"

#include <pthread.h>
#include <time.h>
#include <unistd.h>

#define GUEST "build/guests/srv_hostile.wasm"
#define MIB (1024 * 1024)
#define DEADLINE_MS 2000

static server *srv; /* the shared server: CPU deadline DEADLINE_MS, default memory cap */

static int get(server *s, const char *path, hc_resp *r)
{
    char req[512];
    snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: x\r\n\r\n", path);
    return simple_on(s->port, req, r, false);
}

/* The server still answers an ordinary request. */
static bool still_serving(server *s)
{
    hc_resp r = {0};
    bool ok = get(s, "/ok", &r) == 200 && r.body && strcmp((char *)r.body, "ok\n") == 0;
    hc_resp_free(&r);
    return ok;
}

/* AddressSanitizer: gcc says so with __SANITIZE_ADDRESS__, clang 14 only through __has_feature */
#if defined(__SANITIZE_ADDRESS__)
#define TEST_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define TEST_ASAN 1
#endif
#endif

#if defined(TEST_ASAN) && defined(__x86_64__)
/* AddressSanitizer's shadow on x86-64 Linux (its default mapping, shadow offset 0x7fff8000):
 * one shadow byte per 8 bytes of application memory, in [0x7fff8000, 0x10007fff8000). */
#define ASAN_SHADOW_BEGIN 0x7fff8000ull
#define ASAN_SHADOW_END 0x10007fff8000ull

/* Resident set of this process without AddressSanitizer's shadow, in bytes (the sum of the Rss
 * lines of /proc/self/smaps outside the shadow range). Every instrumented load and store reads
 * the shadow of its address, so the interpreter's accesses to guest memory fault in shadow
 * pages. On kernels with the shared zero page such read faults cost no memory; on kernels
 * without it (this project's CI VMs boot with pvm_no_zero_page=1) each one takes a real page.
 * ASan never returns shadow pages when the engine releases guest pages (MADV_DONTNEED on the
 * pooled memories), so about an eighth of the guest memory ever touched stays resident as
 * shadow: ASan's bookkeeping, not the engine's memory, and not what the bound is about. */
static uint64_t rss_bytes(void)
{
    FILE *f = fopen("/proc/self/smaps", "r");
    char line[512];
    bool shadow = false;
    uint64_t total = 0;
    while (f && fgets(line, sizeof line, f)) {
        unsigned long long from, to, kib;
        if (sscanf(line, "%llx-%llx ", &from, &to) == 2)
            shadow = from >= ASAN_SHADOW_BEGIN && to <= ASAN_SHADOW_END;
        else if (!shadow && sscanf(line, "Rss: %llu kB", &kib) == 1)
            total += (uint64_t)kib * 1024;
    }
    if (f)
        fclose(f);
    return total;
}
#else
/* Resident set of this process (the server runs in it), in bytes. */
static uint64_t rss_bytes(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    unsigned long long size = 0, resident = 0;
    if (f) {
        if (fscanf(f, "%llu %llu", &size, &resident) != 2)
            resident = 0;
        fclose(f);
    }
    return (uint64_t)resident * (uint64_t)sysconf(_SC_PAGESIZE);
}
#endif

static fastlike_status memory_hook(fastlike_config *c, void *user, char *err, size_t errlen)
{
    (void)err, (void)errlen;
    fastlike_config_set_request_timeout_ms(c, DEADLINE_MS);
    fastlike_config_set_memory_limit(c, *(const uint64_t *)user);
    return FASTLIKE_OK;
}

/* ---- memory ---- */

TEST(grow_stops_at_default_cap)
{
    hc_resp r = {0};
    CHECK_EQ_INT(get(srv, "/grow", &r), 200);
    /* 512 MiB = 8192 pages; memory.grow keeps failing past it, malloc returns NULL */
    CHECK_STR_EQ((char *)r.body, "pages=8192 failures=100 one_fails=1 malloc=null\n");
    hc_resp_free(&r);
    CHECK(still_serving(srv));
}

TEST(grow_stops_at_configured_cap)
{
    uint64_t limit = 64 * MIB;
    server *s = server_start_with(GUEST, memory_hook, &limit);
    CHECK(s != NULL);
    if (!s)
        return;
    hc_resp r = {0};
    CHECK_EQ_INT(get(s, "/grow?touch=1", &r), 200);
    CHECK_STR_EQ((char *)r.body, "pages=1024 failures=100 one_fails=1 malloc=null\n");
    hc_resp_free(&r);
    server_stop(s);

    /* 0: the wasm32 maximum (reserved only; nothing is touched) */
    limit = 0;
    s = server_start_with(GUEST, memory_hook, &limit);
    CHECK(s != NULL);
    if (!s)
        return;
    CHECK_EQ_INT(get(s, "/grow", &r), 200);
    CHECK_STR_EQ((char *)r.body, "pages=65536 failures=100 one_fails=1 malloc=null\n");
    hc_resp_free(&r);
    server_stop(s);
}

typedef struct grow_job {
    server *s;
    int status;
    char body[128];
} grow_job;

static void *grow_thread(void *arg)
{
    grow_job *j = arg;
    hc_resp r = {0};
    j->status = get(j->s, "/grow?touch=1", &r);
    snprintf(j->body, sizeof j->body, "%s", r.body ? (char *)r.body : "");
    hc_resp_free(&r);
    return NULL;
}

TEST(memory_returns_after_growth)
{
    uint64_t limit = 256 * MIB;
    server *s = server_start_with(GUEST, memory_hook, &limit);
    CHECK(s != NULL);
    if (!s)
        return;
    CHECK(still_serving(s));
    uint64_t base = rss_bytes();
    /* each request dirties 256 MiB; four at a time, three rounds */
    for (int round = 0; round < 3; round++) {
        grow_job jobs[4];
        pthread_t t[4];
        for (int i = 0; i < 4; i++) {
            jobs[i] = (grow_job){.s = s};
            CHECK_EQ_INT(pthread_create(&t[i], NULL, grow_thread, &jobs[i]), 0);
        }
        for (int i = 0; i < 4; i++) {
            pthread_join(t[i], NULL);
            CHECK_EQ_INT(jobs[i].status, 200);
            CHECK_STR_EQ(jobs[i].body, "pages=4096 failures=100 one_fails=1 malloc=null\n");
        }
    }
    CHECK(still_serving(s));
    /* 1 GiB was dirtied per round; far less than one instance's worth may stay. A client has its
     * response before the instance that sent it is torn down, so wait for the teardown. */
    uint64_t after = rss_bytes();
    for (int i = 0; i < 200 && after >= base + 128 * MIB; i++) {
        struct timespec ts = {0, 50 * 1000 * 1000};
        nanosleep(&ts, NULL);
        after = rss_bytes();
    }
    if (after > base + 128 * MIB)
        fprintf(stderr, "  rss: %llu MiB before, %llu MiB after\n",
                (unsigned long long)(base / MIB), (unsigned long long)(after / MIB));
    /* under AddressSanitizer too: rss_bytes leaves its shadow out (see there) */
    CHECK(after < base + 128 * MIB);
    server_stop(s);
}

TEST(initial_memory_over_the_cap_is_a_startup_error)
{
    /* issue 15: a module that needs more memory than the cap can never serve a request, so it
     * is refused when loaded, naming both sizes (it used to answer 500 to every request) */
    fastlike_config *c = fastlike_config_new();
    CHECK_EQ_INT(fastlike_config_set_wasm_file(c, GUEST), FASTLIKE_OK);
    fastlike_config_set_memory_limit(c, 64 * 1024); /* one page: the guest starts with more */
    fastlike *f = NULL;
    char err[512] = "";
    CHECK_EQ_INT(fastlike_new(c, &f, err, sizeof err), FASTLIKE_ERR_WASM);
    CHECK(f == NULL);
    CHECK_STR_CONTAINS(err, "initial memory of");
    CHECK_STR_CONTAINS(err, "exceeds the memory limit of 1 pages");
    fastlike_free(f);
    fastlike_config_free(c);
}

/* ---- CPU and stack ---- */

TEST(endless_recursion)
{
    hc_resp r = {0};
    CHECK_EQ_INT(get(srv, "/recurse", &r), 500);
    CHECK(log_wait(&srv->log, "GET http://x/recurse: guest trapped: call stack exhausted"));
    hc_resp_free(&r);
    CHECK(still_serving(srv));
}

TEST(endless_loop_before_head)
{
    hc_resp r = {0};
    CHECK_EQ_INT(get(srv, "/spin-before", &r), 500);
    CHECK(log_wait(&srv->log, "GET http://x/spin-before: guest stopped: CPU deadline of 2000 ms"));
    CHECK(log_wait(&srv->log, "GET http://x/spin-before -> 500"));
    hc_resp_free(&r);
    CHECK(still_serving(srv));
}

TEST(endless_start_function)
{
    /* a module whose start function never returns: the CPU deadline covers it too (it runs
     * after instantiation, with the deadline armed), and the worker comes back */
    server *s = server_start_guest("build/wat/start_spin.wasm", 300);
    CHECK(s != NULL);
    if (!s)
        return;
    hc_resp r = {0};
    for (int i = 0; i < 2; i++)
        CHECK_EQ_INT(get(s, "/", &r), 500);
    CHECK(log_wait_count(&s->log, "GET http://x/: guest stopped: CPU deadline of 300 ms", 2));
    hc_resp_free(&r);
    server_stop(s);
}

TEST(endless_loop_after_head)
{
    hc_conn c;
    CHECK_EQ_INT(hc_connect(&c, srv->port), 0);
    CHECK_EQ_INT(hc_sends(&c, "GET /spin-after HTTP/1.1\r\nHost: x\r\n\r\n"), 0);
    hc_resp r = {0};
    /* the head went out as 200; the body is cut short: no last chunk */
    CHECK_EQ_INT(hc_read(&c, &r, false, true, false), -1);
    CHECK_EQ_INT(r.status, 200);
    CHECK(r.body_len == 8 && memcmp(r.body, "started\n", 8) == 0);
    hc_close(&c);
    hc_resp_free(&r);
    CHECK(log_wait(&srv->log, "GET http://x/spin-after: guest stopped: CPU deadline of 2000 ms"));
    CHECK(still_serving(srv));
}

/* ---- bad arguments ---- */

TEST(junk_pointers_lengths_handles)
{
    hc_resp r = {0};
    CHECK_EQ_INT(get(srv, "/junk", &r), 200);
    CHECK_STR_EQ((char *)r.body, "as expected 31/31\n");
    hc_resp_free(&r);
    CHECK(still_serving(srv));
}

TEST(handle_table_full)
{
    hc_resp r = {0};
    CHECK_EQ_INT(get(srv, "/handles", &r), 200);
    /* limitexceeded (13) at the table's limit, and again every time after */
    CHECK_STR_CONTAINS((char *)r.body, " status=13 again=1000\n");
    long bodies = r.body ? strtol((char *)r.body + strlen("bodies="), NULL, 10) : 0;
    CHECK(bodies > 60000 && bodies <= 65536);
    hc_resp_free(&r);
    CHECK(still_serving(srv));
}

/* ---- output floods ---- */

typedef struct upload {
    hc_conn *c;
    size_t bytes;
} upload;

static void *upload_thread(void *arg)
{
    upload *u = arg;
    static uint8_t chunk[65536];
    memset(chunk, 'u', sizeof chunk);
    for (size_t sent = 0; sent < u->bytes; sent += sizeof chunk)
        if (hc_send(u->c, chunk, sizeof chunk) != 0)
            break; /* the server may close once it answered */
    return NULL;
}

TEST(flood_without_reading_the_request)
{
    hc_conn c;
    CHECK_EQ_INT(hc_connect(&c, srv->port), 0);
    char req[256];
    snprintf(req, sizeof req,
             "POST /flood?mib=64 HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n", 16 * MIB);
    CHECK_EQ_INT(hc_sends(&c, req), 0);
    upload u = {&c, 16 * MIB};
    pthread_t t;
    CHECK_EQ_INT(pthread_create(&t, NULL, upload_thread, &u), 0);
    hc_resp r = {0};
    CHECK_EQ_INT(hc_read(&c, &r, false, false, false), 0);
    CHECK_EQ_INT(r.status, 200);
    CHECK_EQ_U64(r.body_len, 64 * MIB);
    shutdown(c.fd, SHUT_RDWR); /* ends the upload if the server stopped reading it */
    pthread_join(t, NULL);
    hc_close(&c);
    hc_resp_free(&r);
    CHECK(log_wait(&srv->log, "POST http://x/flood?mib=64 -> 200"));
    CHECK(still_serving(srv));
}

TEST(endless_flood_to_a_client_that_left)
{
    hc_conn c;
    CHECK_EQ_INT(hc_connect(&c, srv->port), 0);
    CHECK_EQ_INT(hc_sends(&c, "GET /flood?mib=0 HTTP/1.1\r\nHost: x\r\n\r\n"), 0);
    char line[256];
    CHECK(hc_line(&c, line, sizeof line) > 0);
    CHECK_STR_CONTAINS(line, " 200");
    hc_close(&c); /* the guest keeps writing and ignores every error */
    /* the guest ends (by its CPU deadline at the latest) and its access line is written */
    bool ended = false;
    for (int i = 0; i < 60 && !ended; i++) /* up to 30 s */
        ended = log_wait(&srv->log, "GET http://x/flood?mib=0 -> 200");
    CHECK(ended);
    CHECK(still_serving(srv));
}

/* ---- exits and missing imports ---- */

TEST(proc_exit_codes)
{
    static const struct {
        const char *path, *log;
        int status;
    } cases[] = {
        {"/exit?code=1", "GET http://x/exit?code=1: guest exited with code 1", 500},
        {"/exit?code=255", "GET http://x/exit?code=255: guest exited with code 255", 500},
        {"/exit?code=-1", "GET http://x/exit?code=-1: guest exited with code -1", 500},
        {"/exit?code=2147483648",
         "GET http://x/exit?code=2147483648: guest exited with code -2147483648", 500},
        {"/exit?code=0", "GET http://x/exit?code=0 -> 200", 200}, /* success, no response */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        hc_resp r = {0};
        CHECK_EQ_INT(get(srv, cases[i].path, &r), cases[i].status);
        CHECK(log_wait(&srv->log, cases[i].log));
        hc_resp_free(&r);
    }
    /* after a streamed head: the response is cut short */
    hc_conn c;
    CHECK_EQ_INT(hc_connect(&c, srv->port), 0);
    CHECK_EQ_INT(hc_sends(&c, "GET /exit-after?code=7 HTTP/1.1\r\nHost: x\r\n\r\n"), 0);
    hc_resp r = {0};
    CHECK_EQ_INT(hc_read(&c, &r, false, true, false), -1);
    CHECK_EQ_INT(r.status, 200);
    hc_close(&c);
    hc_resp_free(&r);
    CHECK(log_wait(&srv->log, "GET http://x/exit-after?code=7: guest exited with code 7"));
    CHECK(still_serving(srv));
}

TEST(missing_import)
{
    hc_resp r = {0};
    CHECK_EQ_INT(get(srv, "/missing", &r), 500);
    CHECK(log_wait(&srv->log, "call to unimplemented import fastly_hostile.no_such_hostcall"));
    hc_resp_free(&r);
    CHECK(still_serving(srv));
}

/* ---- all at once ---- */

typedef struct mixed_job {
    const char *path;
    int want, got;
} mixed_job;

static void *mixed_thread(void *arg)
{
    mixed_job *j = arg;
    hc_resp r = {0};
    j->got = get(srv, j->path, &r);
    hc_resp_free(&r);
    return NULL;
}

TEST(hostile_and_ordinary_requests_together)
{
    mixed_job jobs[] = {
        {"/recurse", 500, 0}, {"/ok", 200, 0},          {"/spin-before", 500, 0},
        {"/grow", 200, 0},    {"/ok", 200, 0},          {"/handles", 200, 0},
        {"/junk", 200, 0},    {"/exit?code=3", 500, 0}, {"/missing", 500, 0},
        {"/ok", 200, 0},      {"/grow", 200, 0},        {"/ok", 200, 0},
    };
    enum { N = sizeof jobs / sizeof jobs[0] };
    pthread_t t[N];
    for (int i = 0; i < N; i++)
        CHECK_EQ_INT(pthread_create(&t[i], NULL, mixed_thread, &jobs[i]), 0);
    for (int i = 0; i < N; i++) {
        pthread_join(t[i], NULL);
        if (jobs[i].got != jobs[i].want)
            fprintf(stderr, "  %s: %d\n", jobs[i].path, jobs[i].got);
        CHECK_EQ_INT(jobs[i].got, jobs[i].want);
    }
    CHECK(still_serving(srv));
}

int main(int argc, char **argv)
{
    (void)argc;
    srv = server_start_guest(GUEST, DEADLINE_MS);
    if (!srv) {
        fprintf(stderr, "test_hostile: cannot start the server\n");
        return 1;
    }
    RUN(grow_stops_at_default_cap);
    RUN(grow_stops_at_configured_cap);
    RUN(memory_returns_after_growth);
    RUN(initial_memory_over_the_cap_is_a_startup_error);
    RUN(endless_recursion);
    RUN(endless_loop_before_head);
    RUN(endless_loop_after_head);
    RUN(endless_start_function);
    RUN(junk_pointers_lengths_handles);
    RUN(handle_table_full);
    RUN(flood_without_reading_the_request);
    RUN(endless_flood_to_a_client_that_left);
    RUN(proc_exit_codes);
    RUN(missing_import);
    RUN(hostile_and_ordinary_requests_together);
    server_stop(srv);
    return harness_finish(argv[0]);
}
