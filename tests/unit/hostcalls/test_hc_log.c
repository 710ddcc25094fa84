/* test_hc_log.c: fastly_log and the log endpoint writers: the guest in tests/guests/c/hc_log.c
 * with a logger to a file and the default output captured, Viceroy's line format byte for byte,
 * whole lines in order when many threads log at once, and startup errors for a bad file. */
#include "config/cfg_edge.h"
#include "config/tmp_files.h"
#include "harness.h"
#include "hc_guest_run.h"
#include "hostcalls/hc_log.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <pthread.h>

static guest_result res;

/* The whole file as a NUL-terminated string (free it), or NULL. */
static char *slurp(const char *path, size_t *len)
{
    size_t n = 0;
    uint8_t *b = harness_read_file(path, &n);
    char *s = malloc(n + 1);
    if (s) {
        if (b)
            memcpy(s, b, n);
        s[n] = '\0';
    }
    free(b);
    if (len)
        *len = n;
    return s;
}

TEST(guest)
{
    cfg_edge edge;
    cfg_edge_init(&edge);
    char err[512] = "";
    char access[700], out[700];
    snprintf(access, sizeof access, "%s", tmp_path("access.log"));
    snprintf(out, sizeof out, "%s", tmp_path("stdout.log"));
    CHECK_EQ_INT(cfg_edge_add_logger(&edge, "access", access, err, sizeof err), CFG_OK);
    CHECK_EQ_INT(cfg_edge_add_logger(&edge, "console", NULL, err, sizeof err), CFG_OK);
    int out_fd = open(out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    CHECK(out_fd >= 0);
    hc_log_endpoints *l = hc_log_endpoints_new(&edge, out_fd, err, sizeof err);
    CHECK(l != NULL);
    hc_env *e = hc_env_new();
    if (l && e) {
        e->settings.edge = &edge;
        e->settings.log_endpoints = l;
        if (hc_env_ctx(e)) {
            CHECK(run_guest("hc_log", "", e->ctx, &res));
            if (res.fails != 0)
                fprintf(stderr, "%s", res.out);
            CHECK(guest_exited(&res, 0));
            CHECK(res.checks >= 30);
            CHECK_EQ_INT(res.fails, 0);
        }
    }
    hc_env_free(e);
    hc_log_endpoints_free(l);
    close(out_fd);
    char *a = slurp(access, NULL);
    size_t olen = 0;
    char *o = slurp(out, &olen);
    CHECK(a && o);
    if (a && o) {
        CHECK_STR_EQ(a, "access :: hello\n"
                        "access :: two\\nlines\n"
                        "access :: ends\\n\n"
                        "access :: last\n");
        static const char want[] = "console :: to the default output\n"
                                   "undeclared :: also there\n"
                                   "bin\xff :: raw \x01 bytes\n";
        CHECK_EQ_U64(olen, sizeof want - 1);
        CHECK(memcmp(o, want, sizeof want - 1) == 0);
    }
    free(a);
    free(o);
    cfg_edge_deinit(&edge);
}

/* Writes that fail (here: a read-only default output) do not fail the guest, as Viceroy; the
 * first one is reported in the request log, the others are not. */
TEST(write_failure_reported_once)
{
    cfg_edge edge;
    cfg_edge_init(&edge);
    char err[512] = "";
    CHECK_EQ_INT(cfg_edge_add_logger(&edge, "access", tmp_path("access2.log"), err, sizeof err),
                 CFG_OK);
    int ro = open("/dev/null", O_RDONLY | O_CLOEXEC);
    hc_log_endpoints *l = hc_log_endpoints_new(&edge, ro, err, sizeof err);
    hc_env *e = hc_env_new();
    if (l && e) {
        e->settings.log_endpoints = l;
        if (hc_env_ctx(e)) {
            CHECK(run_guest("hc_log", "", e->ctx, &res));
            CHECK(guest_exited(&res, 0));
            CHECK_EQ_INT(res.fails, 0);
            const char *first = strstr(e->log.text, "fastly_log.write: endpoint 'console': ");
            CHECK(first != NULL);
            CHECK(first && strstr(first + 1, "fastly_log.write:") == NULL);
            CHECK_STR_CONTAINS(e->log.text, "(further failures not reported)");
        }
    }
    hc_env_free(e);
    hc_log_endpoints_free(l);
    close(ro);
    cfg_edge_deinit(&edge);
}

/* ---- many threads, one file ---- */

#define THREADS 8
#define PER_THREAD 300

typedef struct writer {
    hc_log_endpoints *l;
    int id;
} writer;

/* Message `seq` of thread `id`: "<id> <seq> " then a payload whose length varies up to 20 KB
 * (longer than a pipe's atomic write) made of one letter, with newlines inside. */
static size_t message(int id, int seq, char *buf, size_t cap)
{
    size_t n = (size_t)snprintf(buf, cap, "%d %d ", id, seq);
    size_t len = (size_t)((seq * 7919 + id * 104729) % 20000);
    for (size_t i = 0; i < len && n < cap - 1; i++)
        buf[n++] = (i % 1000 == 999) ? '\n' : (char)('a' + id);
    return n;
}

static void *write_many(void *p)
{
    writer *w = p;
    char *buf = malloc(21000);
    for (int seq = 0; buf && seq < PER_THREAD; seq++) {
        size_t n = message(w->id, seq, buf, 21000);
        hc_log_endpoints_write(w->l, (const uint8_t *)"bulk", 4, (const uint8_t *)buf, n);
    }
    free(buf);
    return NULL;
}

TEST(concurrent_lines_whole_and_ordered)
{
    cfg_edge edge;
    cfg_edge_init(&edge);
    char err[512] = "";
    char path[700];
    snprintf(path, sizeof path, "%s", tmp_path("bulk.log"));
    CHECK_EQ_INT(cfg_edge_add_logger(&edge, "bulk", path, err, sizeof err), CFG_OK);
    hc_log_endpoints *l = hc_log_endpoints_new(&edge, -1, err, sizeof err);
    CHECK(l != NULL);
    if (!l)
        return;
    pthread_t t[THREADS];
    writer w[THREADS];
    for (int i = 0; i < THREADS; i++) {
        w[i] = (writer){l, i};
        pthread_create(&t[i], NULL, write_many, &w[i]);
    }
    for (int i = 0; i < THREADS; i++)
        pthread_join(t[i], NULL);
    hc_log_endpoints_free(l);
    char *text = slurp(path, NULL);
    int next[THREADS] = {0};
    int lines = 0, bad = 0;
    char *want = malloc(42000), *msg = malloc(21000);
    for (char *line = text; text && want && msg && *line;) {
        char *end = strchr(line, '\n');
        if (!end)
            break;
        *end = '\0';
        int id = -1, seq = -1;
        if (sscanf(line, "bulk :: %d %d ", &id, &seq) != 2 || id < 0 || id >= THREADS ||
            seq != next[id]) {
            bad++;
        } else {
            /* the expected line: newlines escaped as \n */
            size_t n = message(id, seq, msg, 21000), o = 0;
            if (n > 0 && msg[n - 1] == '\n')
                n--; /* one trailing newline is dropped */
            o += (size_t)snprintf(want, 42000, "bulk :: ");
            for (size_t i = 0; i < n; i++) {
                if (msg[i] == '\n') {
                    want[o++] = '\\';
                    want[o++] = 'n';
                } else {
                    want[o++] = msg[i];
                }
            }
            want[o] = '\0';
            bad += strcmp(line, want) != 0;
            next[id]++;
        }
        lines++;
        line = end + 1;
    }
    CHECK_EQ_INT(lines, THREADS * PER_THREAD);
    CHECK_EQ_INT(bad, 0);
    free(want);
    free(msg);
    free(text);
    cfg_edge_deinit(&edge);
}

TEST(format)
{
    char path[700];
    snprintf(path, sizeof path, "%s", tmp_path("format.log"));
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    char err[256] = "";
    hc_log_endpoints *l = hc_log_endpoints_new(NULL, fd, err, sizeof err);
    CHECK(l != NULL);
#define W(name, msg)                                                                               \
    hc_log_endpoints_write(l, (const uint8_t *)(name), strlen(name), (const uint8_t *)(msg),       \
                           sizeof(msg) - 1)
    CHECK_EQ_INT(W("n", "plain"), 0);
    CHECK_EQ_INT(W("n", "crlf\r\n"), 0);  /* only the \n goes */
    CHECK_EQ_INT(W("n", "\nleading"), 0); /* an inner newline is escaped */
    CHECK_EQ_INT(W("n", ""), 0);          /* nothing */
    CHECK_EQ_INT(W("", "empty name"), 0);
    CHECK_EQ_INT(W("n", "nul\0inside"), 0);
#undef W
    hc_log_endpoints_free(l);
    close(fd);
    size_t len = 0;
    char *s = slurp(path, &len);
    static const char want[] = "n :: plain\nn :: crlf\r\nn :: \\nleading\n :: empty name\n"
                               "n :: nul\0inside\n";
    CHECK_EQ_U64(len, sizeof want - 1);
    CHECK(s && memcmp(s, want, sizeof want - 1) == 0);
    free(s);
}

TEST(reserved_names)
{
    CHECK(hc_log_reserved_name((const uint8_t *)"stdout", 6));
    CHECK(hc_log_reserved_name((const uint8_t *)"StdErr", 6));
    CHECK(hc_log_reserved_name((const uint8_t *)"FST_MANAGED_logs", 16));
    CHECK(!hc_log_reserved_name((const uint8_t *)"stdou", 5));
    CHECK(!hc_log_reserved_name((const uint8_t *)"fst_managed", 11));
    CHECK(!hc_log_reserved_name((const uint8_t *)"", 0));
}

TEST(bad_file)
{
    cfg_edge edge;
    cfg_edge_init(&edge);
    char err[512] = "";
    char dir[700];
    snprintf(dir, sizeof dir, "%s", tmp_path("sub"));
    CHECK_EQ_INT(mkdir(dir, 0755), 0);
    char file[760];
    snprintf(file, sizeof file, "%s/x.log", dir);
    CHECK_EQ_INT(cfg_edge_add_logger(&edge, "x", file, err, sizeof err), CFG_OK);
    /* the file went away between the configuration and the server */
    unlink(file);
    rmdir(dir);
    hc_log_endpoints *l = hc_log_endpoints_new(&edge, 1, err, sizeof err);
    CHECK(l == NULL);
    CHECK_STR_CONTAINS(err, "logger x: cannot open ");
    CHECK_STR_CONTAINS(err, "x.log for appending: No such file or directory");
    cfg_edge_deinit(&edge);
}

int main(int argc, char **argv)
{
    (void)argc;
    if (!tmp_dir_create("fastlike-hc-log"))
        return 1;
    RUN(guest);
    RUN(write_failure_reported_once);
    RUN(concurrent_lines_whole_and_ordered);
    RUN(format);
    RUN(reserved_names);
    RUN(bad_file);
    tmp_dir_remove();
    return harness_finish(argv[0]);
}
