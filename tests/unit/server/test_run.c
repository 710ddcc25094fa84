/* test_run.c: tests for src/server/srv_run.c through fastlike_run_main: a Compute program run
 * once (as `viceroy run`) sees GET http://example.com/, its arguments and the FASTLY_*
 * environment; its exit code, a trap with its backtrace, and a module without _start come back
 * as the API says. Guest output goes to temporary files standing in for stdout and stderr. */
#include "fastlike.h"
#include "harness.h"

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define GUEST "build/guests/run_main.wasm"
#define CAP 8192

typedef struct outcome {
    fastlike_status st;
    fastlike_run_result r;
    char out[CAP], err[CAP];
    char msg[4096];
} outcome;

static size_t read_back(int fd, char *buf, size_t cap)
{
    lseek(fd, 0, SEEK_SET);
    ssize_t n = read(fd, buf, cap - 1);
    buf[n > 0 ? n : 0] = '\0';
    return n > 0 ? (size_t)n : 0;
}

static fastlike *load(const char *path)
{
    char err[1024] = "";
    fastlike_config *c = fastlike_config_new();
    fastlike *f = NULL;
    if (fastlike_config_set_wasm_file(c, path) != FASTLIKE_OK ||
        fastlike_new(c, &f, err, sizeof err) != FASTLIKE_OK)
        fprintf(stderr, "load %s: %s\n", path, err);
    fastlike_config_free(c);
    return f;
}

/* Runs f with argv (NULL-terminated) and env (NULL-terminated or NULL). */
static void run(fastlike *f, const char *const *argv, const char *const *env, outcome *o)
{
    memset(o, 0, sizeof *o);
    char opath[] = "/tmp/fastlike-run-out-XXXXXX", epath[] = "/tmp/fastlike-run-err-XXXXXX";
    int ofd = mkstemp(opath), efd = mkstemp(epath);
    if (ofd < 0 || efd < 0) {
        o->st = FASTLIKE_ERR_IO;
        return;
    }
    unlink(opath);
    unlink(epath);
    size_t argc = 0, nenv = 0;
    while (argv[argc])
        argc++;
    while (env && env[nenv])
        nenv++;
    fastlike_run_config rc = {.argv = argv,
                              .argc = argc,
                              .env = env,
                              .nenv = nenv,
                              .stdin_fd = -1,
                              .stdout_fd = ofd,
                              .stderr_fd = efd};
    o->st = fastlike_run_main(f, &rc, &o->r, o->msg, sizeof o->msg);
    read_back(ofd, o->out, CAP);
    read_back(efd, o->err, CAP);
    close(ofd);
    close(efd);
}

static outcome o;

TEST(request_and_arguments)
{
    fastlike *f = load(GUEST);
    CHECK(f != NULL);
    if (!f)
        return;
    const char *argv[] = {"run_main", "plain", "--flag", NULL};
    run(f, argv, NULL, &o);
    CHECK_EQ_INT(o.st, FASTLIKE_OK);
    CHECK(!o.r.trapped);
    CHECK_EQ_INT(o.r.exit_code, 0);
    CHECK_STR_EQ(o.out, "request GET http://example.com/\nargv[0]=run_main\nargv[1]=plain\n"
                        "argv[2]=--flag\n");
    CHECK_STR_EQ(o.err, "done\n");
    /* a second run on the same loaded module is a fresh instance */
    run(f, argv, NULL, &o);
    CHECK_EQ_INT(o.st, FASTLIKE_OK);
    CHECK_STR_CONTAINS(o.out, "request GET http://example.com/\n");
    fastlike_free(f);
}

TEST(exit_codes)
{
    fastlike *f = load(GUEST);
    if (!f) {
        CHECK(f != NULL);
        return;
    }
    const char *ex[] = {"run_main", "exit", "42", NULL};
    run(f, ex, NULL, &o);
    CHECK_EQ_INT(o.st, FASTLIKE_OK);
    CHECK_EQ_INT(o.r.exit_code, 42);
    CHECK(!o.r.trapped);
    CHECK_STR_EQ(o.err, ""); /* exit() skips the "done" line */
    const char *ret[] = {"run_main", "return", "3", NULL};
    run(f, ret, NULL, &o);
    CHECK_EQ_INT(o.r.exit_code, 3);
    const char *zero[] = {"run_main", "exit", "0", NULL};
    run(f, zero, NULL, &o);
    CHECK_EQ_INT(o.st, FASTLIKE_OK);
    CHECK_EQ_INT(o.r.exit_code, 0);
    fastlike_free(f);
}

TEST(trap_with_backtrace)
{
    fastlike *f = load(GUEST);
    if (!f) {
        CHECK(f != NULL);
        return;
    }
    const char *argv[] = {"run_main", "trap", NULL};
    run(f, argv, NULL, &o);
    CHECK_EQ_INT(o.st, FASTLIKE_OK);
    CHECK(o.r.trapped);
    CHECK_STR_CONTAINS(o.msg, "unreachable");
    CHECK_STR_CONTAINS(o.msg, "run_main_trap_here");
    CHECK_STR_CONTAINS(o.msg, "_start");
    fastlike_free(f);
}

TEST(environment_and_response)
{
    fastlike *f = load(GUEST);
    if (!f) {
        CHECK(f != NULL);
        return;
    }
    const char *argv[] = {"run_main", "env", "FASTLY_HOSTNAME", NULL};
    run(f, argv, NULL, &o);
    CHECK_STR_CONTAINS(o.out, "FASTLY_HOSTNAME=localhost\n");
    const char *trace[] = {"run_main", "env", "FASTLY_TRACE_ID", NULL};
    run(f, trace, NULL, &o);
    CHECK_STR_CONTAINS(o.out, "FASTLY_TRACE_ID=");
    CHECK(!strstr(o.out, "FASTLY_TRACE_ID=(unset)"));
    /* a given variable overrides the default of the same name */
    const char *env[] = {"FASTLY_HOSTNAME=test-host", "EXTRA=1", NULL};
    run(f, argv, env, &o);
    CHECK_STR_CONTAINS(o.out, "FASTLY_HOSTNAME=test-host\n");
    const char *extra[] = {"run_main", "env", "EXTRA", NULL};
    run(f, extra, env, &o);
    CHECK_STR_CONTAINS(o.out, "EXTRA=1\n");
    /* the response goes nowhere, but sending it succeeds */
    const char *respond[] = {"run_main", "respond", NULL};
    run(f, respond, NULL, &o);
    CHECK_EQ_INT(o.st, FASTLIKE_OK);
    CHECK_EQ_INT(o.r.exit_code, 0);
    CHECK_STR_CONTAINS(o.out, "send_downstream=0\n");
    fastlike_free(f);
}

/* A module without `_start` is refused when it is loaded (as for serving). */
TEST(no_start)
{
    static const unsigned char empty[] = {0, 'a', 's', 'm', 1, 0, 0, 0};
    fastlike_config *c = fastlike_config_new();
    fastlike *f = NULL;
    char err[512] = "";
    CHECK_EQ_INT(fastlike_config_set_wasm_bytes(c, empty, sizeof empty), FASTLIKE_OK);
    CHECK_EQ_INT(fastlike_new(c, &f, err, sizeof err), FASTLIKE_ERR_WASM);
    CHECK_STR_CONTAINS(err, "_start");
    fastlike_config_free(c);
    fastlike_free(f);
}

HARNESS_MAIN(RUN(request_and_arguments); RUN(exit_codes); RUN(trap_with_backtrace);
             RUN(environment_and_response); RUN(no_start);)
