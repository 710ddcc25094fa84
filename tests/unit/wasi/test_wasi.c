/* test_wasi.c: tests for src/wasi (wasi.c, wasi_run.c) and the `fastlike run` command.
 * Runs the C guests of tests/guests/c (built into build/guests by `make guests`) through the
 * library with captured output, and through the fastlike binary next to this test's build dir. */
#include "harness.h"

#include "fwe.h"
#include "wasi/wasi.h"
#include "wasi/wasi_run.h"

#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#define GUEST_DIR "build/guests/"
#define CAP 65536

static char fastlike_bin[1024] = "bin/fastlike";

/* ---- helpers ---- */

typedef struct capture {
    char out[CAP], err[CAP];
    size_t out_len, err_len;
    int fail_with; /* nonzero: the hook reports this errno instead of accepting bytes */
} capture;

static int capture_write(void *user, int fd, const uint8_t *data, size_t len)
{
    capture *c = user;
    if (c->fail_with)
        return c->fail_with;
    char *buf = fd == 1 ? c->out : c->err;
    size_t *used = fd == 1 ? &c->out_len : &c->err_len;
    size_t n = len < CAP - 1 - *used ? len : CAP - 1 - *used;
    memcpy(buf + *used, data, n);
    *used += n;
    buf[*used] = '\0';
    return 0;
}

/* A file holding `text` and opened for reading, for a guest's stdin; -1 on failure. */
static int text_fd(const char *text)
{
    char path[] = "/tmp/fastlike-wasi-XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0)
        return -1;
    unlink(path);
    size_t len = strlen(text);
    if (write(fd, text, len) != (ssize_t)len || lseek(fd, 0, SEEK_SET) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

static wasi_run_status run_lib(const char *guest, const char *const *argv, size_t argc,
                               const char *const *env, size_t envc, const char *stdin_text,
                               capture *cap, wasi_run_result *r)
{
    char path[256];
    snprintf(path, sizeof path, GUEST_DIR "%s.wasm", guest);
    int in = stdin_text ? text_fd(stdin_text) : -1;
    wasi_run_config cfg = {
        .argc = argc,
        .argv = argv,
        .envc = envc,
        .env = env,
        .stdin_fd = in,
        .stdout_fd = -1,
        .stderr_fd = -1,
        .out_fn = capture_write,
        .out_user = cap,
    };
    wasi_run_status st = wasi_run_file(path, &cfg, r);
    if (in >= 0)
        close(in);
    return st;
}

static size_t read_all(int fd, char *buf, size_t cap)
{
    size_t used = 0;
    lseek(fd, 0, SEEK_SET);
    for (;;) {
        ssize_t n = read(fd, buf + used, cap - 1 - used);
        if (n <= 0)
            break;
        used += (size_t)n;
    }
    buf[used] = '\0';
    return used;
}

/* Runs fastlike with args (args[0] is ignored and replaced by the binary); returns the exit
 * status (128 + signal when killed) and the captured stdout/stderr. */
static int run_cli(const char *const *args, const char *stdin_text, capture *cap)
{
    const char *argv[32];
    size_t n = 0;
    argv[n++] = fastlike_bin;
    for (size_t i = 1; args[i] && n < 31; i++)
        argv[n++] = args[i];
    argv[n] = NULL;
    char opath[] = "/tmp/fastlike-out-XXXXXX", epath[] = "/tmp/fastlike-err-XXXXXX";
    int ofd = mkstemp(opath), efd = mkstemp(epath);
    int ifd = text_fd(stdin_text ? stdin_text : "");
    if (ofd < 0 || efd < 0 || ifd < 0)
        return -1;
    unlink(opath);
    unlink(epath);
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        dup2(ifd, 0);
        dup2(ofd, 1);
        dup2(efd, 2);
        execv(fastlike_bin, (char *const *)argv);
        _exit(127);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    cap->out_len = read_all(ofd, cap->out, CAP);
    cap->err_len = read_all(efd, cap->err, CAP);
    close(ofd);
    close(efd);
    close(ifd);
    if (WIFSIGNALED(status))
        return 128 + WTERMSIG(status);
    return WEXITSTATUS(status);
}

/* ---- context and linker ---- */

TEST(ctx_new_free)
{
    const char *argv[] = {"prog", "a", ""};
    const char *env[] = {"A=1"};
    wasi_ctx *ctx = wasi_ctx_new(3, argv, 1, env, 0, 1, 2);
    CHECK(ctx != NULL);
    wasi_ctx_set_output(ctx, capture_write, NULL);
    wasi_ctx_free(ctx);
    wasi_ctx_free(NULL);
    ctx = wasi_ctx_new(0, NULL, 0, NULL, -1, -1, -1);
    CHECK(ctx != NULL);
    wasi_ctx_free(ctx);
}

TEST(errno_names)
{
    CHECK_STR_EQ(wasi_errno_name(0), "success");
    CHECK_STR_EQ(wasi_errno_name(WASI_EBADF), "badf");
    CHECK_STR_EQ(wasi_errno_name(WASI_EFAULT), "fault");
    CHECK_STR_EQ(wasi_errno_name(WASI_EINVAL), "inval");
    CHECK_STR_EQ(wasi_errno_name(WASI_ENOSYS), "nosys");
    CHECK_STR_EQ(wasi_errno_name(WASI_ESPIPE), "spipe");
    CHECK_STR_EQ(wasi_errno_name(WASI_ENOTCAPABLE), "notcapable");
    CHECK_STR_EQ(wasi_errno_name(77), "unknown");
    CHECK_STR_EQ(wasi_errno_name(-1), "unknown");
}

TEST(define_twice)
{
    fwe_engine *engine = fwe_engine_new();
    fwe_linker *linker = engine ? fwe_linker_new(engine) : NULL;
    wasi_ctx *ctx = wasi_ctx_new(0, NULL, 0, NULL, -1, -1, -1);
    CHECK(linker && ctx);
    if (linker && ctx) {
        CHECK_EQ_INT(wasi_define(linker, ctx), FWE_OK);
        CHECK_EQ_INT(wasi_define(linker, ctx), FWE_ERR_EXISTS);
    }
    fwe_linker_free(linker);
    wasi_ctx_free(ctx);
    fwe_engine_free(engine);
}

/* ---- wasi_run on guests ---- */

TEST(hello_args_env)
{
    static capture cap;
    memset(&cap, 0, sizeof cap);
    wasi_run_result r;
    const char *argv[] = {"hello.wasm", "one", "two words", ""};
    const char *env[] = {"FOO=bar", "EMPTY="};
    CHECK_EQ_INT(run_lib("wasi_hello", argv, 4, env, 2, NULL, &cap, &r), WASI_RUN_OK);
    CHECK_EQ_INT(r.exit_code, 0);
    CHECK_STR_EQ(cap.out, "hello from wasi\nargc=4\nargv[0]=hello.wasm\nargv[1]=one\n"
                          "argv[2]=two words\nargv[3]=\nenv FOO=bar\nenv EMPTY=\n");
    CHECK_STR_EQ(cap.err, "to stderr\n");
}

TEST(hello_no_env)
{
    static capture cap;
    memset(&cap, 0, sizeof cap);
    wasi_run_result r;
    const char *argv[] = {"x"};
    CHECK_EQ_INT(run_lib("wasi_hello", argv, 1, NULL, 0, NULL, &cap, &r), WASI_RUN_OK);
    CHECK_STR_EQ(cap.out, "hello from wasi\nargc=1\nargv[0]=x\n");
}

TEST(exit_codes)
{
    static capture cap;
    wasi_run_result r;
    const char *a1[] = {"exit.wasm", "exit", "7"};
    memset(&cap, 0, sizeof cap);
    CHECK_EQ_INT(run_lib("wasi_exit", a1, 3, NULL, 0, NULL, &cap, &r), WASI_RUN_OK);
    CHECK_EQ_INT(r.exit_code, 7);
    CHECK_STR_EQ(cap.out, "before exit\n");
    const char *a2[] = {"exit.wasm", "return", "3"};
    memset(&cap, 0, sizeof cap);
    CHECK_EQ_INT(run_lib("wasi_exit", a2, 3, NULL, 0, NULL, &cap, &r), WASI_RUN_OK);
    CHECK_EQ_INT(r.exit_code, 3);
    const char *a3[] = {"exit.wasm", "ok"};
    memset(&cap, 0, sizeof cap);
    CHECK_EQ_INT(run_lib("wasi_exit", a3, 2, NULL, 0, NULL, &cap, &r), WASI_RUN_OK);
    CHECK_EQ_INT(r.exit_code, 0);
    const char *a4[] = {"exit.wasm", "exit", "0"};
    memset(&cap, 0, sizeof cap);
    CHECK_EQ_INT(run_lib("wasi_exit", a4, 3, NULL, 0, NULL, &cap, &r), WASI_RUN_OK);
    CHECK_EQ_INT(r.exit_code, 0);
}

TEST(trap_backtrace)
{
    static capture cap;
    memset(&cap, 0, sizeof cap);
    static wasi_run_result r;
    const char *argv[] = {"trap.wasm"};
    CHECK_EQ_INT(run_lib("wasi_trap", argv, 1, NULL, 0, NULL, &cap, &r), WASI_RUN_TRAP);
    CHECK_EQ_INT(r.trap.kind, FWE_TRAP_UNREACHABLE);
    CHECK_STR_EQ(cap.out, "about to trap\n");
    CHECK(r.trap.nframes >= 2);
    char buf[8192];
    fwe_trap_format(&r.trap, buf, sizeof buf);
    CHECK_STR_CONTAINS(buf, "unreachable");
    CHECK_STR_CONTAINS(buf, "guest_crash_here");
    CHECK_STR_CONTAINS(r.message, "unreachable");
}

TEST(clock_random_sleep)
{
    static capture cap;
    memset(&cap, 0, sizeof cap);
    wasi_run_result r;
    const char *argv[] = {"clock.wasm"};
    CHECK_EQ_INT(run_lib("wasi_clock_random", argv, 1, NULL, 0, NULL, &cap, &r), WASI_RUN_OK);
    CHECK_EQ_INT(r.exit_code, 0);
    CHECK_STR_CONTAINS(cap.out, "failures=0\n");
    if (r.exit_code != 0)
        fprintf(stderr, "%s", cap.out);
}

TEST(stdin_read)
{
    static capture cap;
    memset(&cap, 0, sizeof cap);
    wasi_run_result r;
    const char *argv[] = {"stdin.wasm"};
    CHECK_EQ_INT(run_lib("wasi_stdin", argv, 1, NULL, 0, "hello, stdin\nline 2\n", &cap, &r),
                 WASI_RUN_OK);
    CHECK_STR_EQ(cap.out, "HELLO, STDIN\nLINE 2\n");
    CHECK_STR_EQ(cap.err, "read 20 bytes\n");
    /* no stdin at all: end of file at once */
    memset(&cap, 0, sizeof cap);
    CHECK_EQ_INT(run_lib("wasi_stdin", argv, 1, NULL, 0, NULL, &cap, &r), WASI_RUN_OK);
    CHECK_STR_EQ(cap.out, "");
    CHECK_STR_EQ(cap.err, "read 0 bytes\n");
}

/* Expected errno (or value) for each line wasi_errors prints. */
static const struct {
    const char *name;
    int value;
} errors_expected[] = {
    {"prestat_get_3", WASI_EBADF},
    {"write_badfd", WASI_EBADF},
    {"write_stdin", WASI_EBADF},
    {"write_bad_iovs", WASI_EFAULT},
    {"write_bad_buf", WASI_EFAULT},
    {"write_bad_nwritten", WASI_EFAULT},
    {"read_stdout", WASI_EBADF},
    {"random_bad", WASI_EFAULT},
    {"clock_bad_ptr", WASI_EFAULT},
    {"args_sizes_bad", WASI_EFAULT},
    {"seek_stdout", WASI_ESPIPE},
    {"tell_stdout", WASI_ESPIPE},
    {"pread_stdin", WASI_ESPIPE},
    {"fdstat_stdout", 0},
    {"fdstat_filetype", 2},
    {"setflags_sync", WASI_EINVAL},
    {"setflags_dsync", WASI_EINVAL},
    {"setflags_unknown", WASI_EINVAL},
    {"setflags_rejected_kept", 0},
    {"setflags_append", 0},
    {"setflags_append_kept", 1},
    {"setflags_clear", 0},
    {"fdstat_bad_ptr", WASI_EFAULT},
    {"isatty_stdout", 1},
    {"filestat_stderr", 0},
    {"filestat_filetype", 2},
    {"path_open_badfd", WASI_EBADF},
    {"path_open_stdio", WASI_ENOTDIR},
    {"readdir_stdout", WASI_ENOTDIR},
    {"sock_accept_stdout", WASI_ENOTSOCK},
    {"sock_accept_badfd", WASI_EBADF},
    {"renumber_badfd", WASI_EBADF},
    {"res_bad_clock", WASI_EINVAL},
    {"poll_zero", WASI_EINVAL},
    {"fopen_fails", 1},
    {"poll_stdout", 0},
    {"poll_nevents", 1},
    {"poll_userdata", 2},
    {"poll_type", 2},
    {"poll_stdin", 0},
    {"poll_stdin_nevents", 1},
    {"poll_stdin_userdata", 3},
    {"poll_stdin_type", 1},
    {"poll_badfd", 0},
    {"poll_badfd_error", WASI_EBADF},
    {"poll_cputime", WASI_EINVAL},
    {"poll_cputime_nevents", 0},
    {"poll_threadtime", WASI_EINVAL},
    {"poll_bad_clock", WASI_EINVAL},
    {"close_stderr", 0},
    {"write_closed", WASI_EBADF},
    {"close_again", WASI_EBADF},
};

static void check_errors_output(const char *out)
{
    /* a leading newline lets every expected line be searched as "\nname=value\n" */
    static char hay[CAP + 2];
    hay[0] = '\n';
    snprintf(hay + 1, sizeof hay - 1, "%s", out);
    for (size_t i = 0; i < sizeof errors_expected / sizeof errors_expected[0]; i++) {
        char line[128];
        snprintf(line, sizeof line, "\n%s=%d\n", errors_expected[i].name, errors_expected[i].value);
        CHECK_STR_CONTAINS(hay, line);
    }
}

TEST(errors_never_trap)
{
    static capture cap;
    memset(&cap, 0, sizeof cap);
    wasi_run_result r;
    const char *argv[] = {"errors.wasm"};
    CHECK_EQ_INT(run_lib("wasi_errors", argv, 1, NULL, 0, NULL, &cap, &r), WASI_RUN_OK);
    CHECK_EQ_INT(r.exit_code, 0);
    if (r.status != WASI_RUN_OK)
        fprintf(stderr, "  run: %s\n", r.message);
    check_errors_output(cap.out);
}

TEST(output_hook_error)
{
    static capture cap;
    memset(&cap, 0, sizeof cap);
    cap.fail_with = WASI_EIO;
    wasi_run_result r;
    const char *argv[] = {"exit.wasm", "ok"};
    /* The guest ignores printf's failure; the run still ends normally. */
    CHECK_EQ_INT(run_lib("wasi_exit", argv, 2, NULL, 0, NULL, &cap, &r), WASI_RUN_OK);
    CHECK_EQ_INT(cap.out_len, 0);
}

/* ---- wasi_run errors ---- */

static wasi_run_status run_bytes(const uint8_t *bytes, size_t len, wasi_run_result *r)
{
    fwe_engine *engine = fwe_engine_new();
    const char *argv[] = {"x"};
    wasi_run_config cfg = {
        .argc = 1, .argv = argv, .stdin_fd = -1, .stdout_fd = -1, .stderr_fd = -1};
    wasi_run_status st = engine ? wasi_run_bytes(engine, bytes, len, &cfg, r) : WASI_RUN_ERR_NOMEM;
    fwe_engine_free(engine);
    return st;
}

TEST(run_missing_file)
{
    wasi_run_result r;
    const char *argv[] = {"x"};
    wasi_run_config cfg = {
        .argc = 1, .argv = argv, .stdin_fd = -1, .stdout_fd = -1, .stderr_fd = -1};
    CHECK_EQ_INT(wasi_run_file(GUEST_DIR "does-not-exist.wasm", &cfg, &r), WASI_RUN_ERR_IO);
    CHECK_STR_CONTAINS(r.message, "does-not-exist.wasm");
    CHECK_STR_CONTAINS(r.message, "No such file");
}

TEST(run_bad_modules)
{
    wasi_run_result r;
    static const uint8_t garbage[] = "not a wasm module";
    CHECK_EQ_INT(run_bytes(garbage, sizeof garbage - 1, &r), WASI_RUN_ERR_LOAD);
    CHECK(r.message[0] != '\0');

    /* an empty module: valid, but no _start */
    static const uint8_t empty[] = {0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00};
    CHECK_EQ_INT(run_bytes(empty, sizeof empty, &r), WASI_RUN_ERR_NO_START);
    CHECK_STR_CONTAINS(r.message, "_start");

    /* imports wasi_snapshot_preview1.fd_write with the wrong type (i32) -> i32 */
    static const uint8_t wrong_sig[] = {
        0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x06, 0x01, 0x60, 0x01,
        0x7f, 0x01, 0x7f, /* type 0: (i32) -> i32 */
        0x02, 0x23, 0x01, 0x16, 'w',  'a',  's',  'i',  '_',  's',  'n',  'a',  'p',
        's',  'h',  'o',  't',  '_',  'p',  'r',  'e',  'v',  'i',  'e',  'w',  '1',
        0x08, 'f',  'd',  '_',  'w',  'r',  'i',  't',  'e',  0x00, 0x00,
    };
    CHECK_EQ_INT(run_bytes(wrong_sig, sizeof wrong_sig, &r), WASI_RUN_ERR_LINK);
    CHECK(r.message[0] != '\0');

    /* imports a function preview1 does not have */
    static const uint8_t unknown[] = {
        0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x06, 0x01, 0x60, 0x01,
        0x7f, 0x01, 0x7f, 0x02, 0x1f, 0x01, 0x16, 'w',  'a',  's',  'i',  '_',  's',
        'n',  'a',  'p',  's',  'h',  'o',  't',  '_',  'p',  'r',  'e',  'v',  'i',
        'e',  'w',  '1',  0x04, 'n',  'o',  'p',  'e',  0x00, 0x00,
    };
    CHECK_EQ_INT(run_bytes(unknown, sizeof unknown, &r), WASI_RUN_ERR_LINK);
}

/* ---- the fastlike command ---- */

TEST(cli_help_version)
{
    static capture cap;
    const char *help[] = {"", "--help", NULL};
    CHECK_EQ_INT(run_cli(help, NULL, &cap), 0);
    CHECK_STR_CONTAINS(cap.out, "usage: fastlike");
    CHECK_STR_CONTAINS(cap.out, "fastlike run [OPTIONS] FILE.wasm [ARGS...]");
    const char *h[] = {"", "-h", NULL};
    CHECK_EQ_INT(run_cli(h, NULL, &cap), 0);
    CHECK_STR_CONTAINS(cap.out, "usage:");
    const char *version[] = {"", "--version", NULL};
    CHECK_EQ_INT(run_cli(version, NULL, &cap), 0);
    CHECK_STR_CONTAINS(cap.out, "fastlike ");
    const char *none[] = {"", NULL};
    CHECK_EQ_INT(run_cli(none, NULL, &cap), 2);
    const char *bogus[] = {"", "frobnicate", NULL};
    CHECK_EQ_INT(run_cli(bogus, NULL, &cap), 2);
    CHECK_STR_CONTAINS(cap.err, "frobnicate: no such .wasm file"); /* a file problem */
}

/* Serving mode is tested in tests/unit/config/test_flags.c; here only that it is reached. */
TEST(cli_serve_startup_error)
{
    static capture cap;
    const char *args[] = {"", "-wasm", "x.wasm", "-backend", "localhost:8000", NULL};
    CHECK_EQ_INT(run_cli(args, NULL, &cap), 2);
    CHECK_STR_CONTAINS(cap.err, "-wasm: cannot read x.wasm");
}

TEST(cli_run_errors)
{
    static capture cap;
    const char *nofile[] = {"", "run", NULL};
    CHECK_EQ_INT(run_cli(nofile, NULL, &cap), 2);
    CHECK_STR_CONTAINS(cap.err, "missing FILE.wasm");
    const char *missing[] = {"", "run", GUEST_DIR "nope.wasm", NULL};
    CHECK_EQ_INT(run_cli(missing, NULL, &cap), 2);
    CHECK_STR_CONTAINS(cap.err, "nope.wasm: No such file or directory");
    CHECK(strchr(cap.err, '\n') == cap.err + cap.err_len - 1); /* one line */
    const char *invalid[] = {"", "run", "Makefile", NULL};
    CHECK_EQ_INT(run_cli(invalid, NULL, &cap), 2);
    CHECK_STR_CONTAINS(cap.err, "Makefile: invalid module");
    /* run takes Viceroy's options: an unknown one is a warning, as for `viceroy run` */
    const char *badopt[] = {"", "run", "--frob", GUEST_DIR "wasi_hello.wasm", NULL};
    CHECK_EQ_INT(run_cli(badopt, NULL, &cap), 0);
    CHECK_STR_CONTAINS(cap.err, "warning: unknown option '--frob' ignored");
    CHECK_STR_CONTAINS(cap.out, "hello from wasi\n");
}

TEST(cli_run_hello)
{
    static capture cap;
    setenv("FASTLIKE_WASI_TEST", "passed through", 1);
    const char *args[] = {"",
                          "run",
                          "--env",
                          "A=1",
                          "--env=B=two",
                          "--env",
                          "FASTLIKE_WASI_TEST",
                          GUEST_DIR "wasi_hello.wasm",
                          "x",
                          "--env",
                          NULL};
    CHECK_EQ_INT(run_cli(args, NULL, &cap), 0);
    CHECK_STR_EQ(cap.out, "hello from wasi\nargc=3\nargv[0]=" GUEST_DIR "wasi_hello.wasm\n"
                          "argv[1]=x\nargv[2]=--env\nenv A=1\nenv B=two\n"
                          "env FASTLIKE_WASI_TEST=passed through\n");
    CHECK_STR_EQ(cap.err, "to stderr\n");
}

TEST(cli_run_exit_trap_stdin)
{
    static capture cap;
    const char *ex[] = {"", "run", GUEST_DIR "wasi_exit.wasm", "exit", "42", NULL};
    CHECK_EQ_INT(run_cli(ex, NULL, &cap), 42);
    CHECK_STR_EQ(cap.out, "before exit\n");
    const char *ret[] = {"", "run", GUEST_DIR "wasi_exit.wasm", "return", "5", NULL};
    CHECK_EQ_INT(run_cli(ret, NULL, &cap), 5);
    const char *ok[] = {"", "run", GUEST_DIR "wasi_exit.wasm", NULL};
    CHECK_EQ_INT(run_cli(ok, NULL, &cap), 0);
    const char *trap[] = {"", "run", GUEST_DIR "wasi_trap.wasm", NULL};
    CHECK_EQ_INT(run_cli(trap, NULL, &cap), 134);
    CHECK_STR_EQ(cap.out, "about to trap\n");
    CHECK_STR_CONTAINS(cap.err, "unreachable");
    CHECK_STR_CONTAINS(cap.err, "guest_crash_here");
    const char *in[] = {"", "run", GUEST_DIR "wasi_stdin.wasm", NULL};
    CHECK_EQ_INT(run_cli(in, "abc\n", &cap), 0);
    CHECK_STR_EQ(cap.out, "ABC\n");
    CHECK_STR_EQ(cap.err, "read 4 bytes\n");
    const char *errs[] = {"", "run", GUEST_DIR "wasi_errors.wasm", NULL};
    CHECK_EQ_INT(run_cli(errs, NULL, &cap), 0);
    check_errors_output(cap.out);
}

/* A guest writing to a pipe nobody reads gets errno `pipe`, as under wasmtime, instead of
 * fastlike dying of SIGPIPE (status 141). */
TEST(cli_run_broken_pipe)
{
    static capture cap;
    int pfd[2];
    char epath[] = "/tmp/fastlike-err-XXXXXX";
    int efd = mkstemp(epath);
    CHECK(efd >= 0 && pipe(pfd) == 0);
    if (efd < 0)
        return;
    unlink(epath);
    close(pfd[0]); /* the reader is gone before the guest writes */
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        signal(SIGPIPE, SIG_DFL); /* as a shell starts it, whatever this test inherited */
        dup2(pfd[1], 1);
        dup2(efd, 2);
        execl(fastlike_bin, fastlike_bin, "run", GUEST_DIR "wasi_epipe.wasm", (char *)NULL);
        _exit(127);
    }
    close(pfd[1]);
    int status = 0;
    waitpid(pid, &status, 0);
    cap.err_len = read_all(efd, cap.err, CAP);
    close(efd);
    CHECK(WIFEXITED(status));
    CHECK_EQ_INT(WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status), 3);
    CHECK_STR_EQ(cap.err, "write: errno 64\n"); /* WASI errno `pipe` */
}

/* build/<variant>/tests/wasi/test_wasi -> build/<variant>/fastlike */
static void find_fastlike(const char *argv0)
{
    const char *t = argv0 ? strstr(argv0, "/tests/") : NULL;
    if (!t)
        return;
    snprintf(fastlike_bin, sizeof fastlike_bin, "%.*s/fastlike", (int)(t - argv0), argv0);
}

int main(int argc, char **argv)
{
    (void)argc;
    find_fastlike(argv[0]);
    RUN(ctx_new_free);
    RUN(errno_names);
    RUN(define_twice);
    RUN(hello_args_env);
    RUN(hello_no_env);
    RUN(exit_codes);
    RUN(trap_backtrace);
    RUN(clock_random_sleep);
    RUN(stdin_read);
    RUN(errors_never_trap);
    RUN(output_hook_error);
    RUN(run_missing_file);
    RUN(run_bad_modules);
    RUN(cli_help_version);
    RUN(cli_serve_startup_error);
    RUN(cli_run_errors);
    RUN(cli_run_hello);
    RUN(cli_run_exit_trap_stdin);
    RUN(cli_run_broken_pipe);
    return harness_finish(argv[0]);
}
