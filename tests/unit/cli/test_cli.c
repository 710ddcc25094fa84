/* test_cli.c: the fastlike binary's command line (cmd/fastlike/main.c) run as a process: the
 * one-line usage, a positional that is not a .wasm file, `viceroy --version`, `viceroy run` /
 * `fastlike run` exit codes, and `viceroy` serving as the Fastly CLI drives it: Viceroy's
 * Listening line, death by SIGINT/SIGTERM after in-flight requests, exit 1 on a startup failure,
 * and the port reusable at once after SIGKILL. Called as viceroy through a symlink in a
 * temporary directory. Waits have generous deadlines (nothing is timed). */
#include "harness.h"
#include "server/http_client.h"

#include <fcntl.h>
#include <pthread.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define GUEST_DIR "build/guests/"
#define CAP 65536
#define DEADLINE_MS 30000 /* for the server's startup line: generous on a loaded machine */

static char fastlike_bin[1024] = "bin/fastlike";
static char viceroy_bin[1024]; /* a symlink named viceroy to fastlike_bin */
static char tmpdir[512];

typedef struct capture {
    char out[CAP], err[CAP];
    size_t out_len, err_len;
} capture;

static size_t read_all(int fd, char *buf, size_t cap)
{
    lseek(fd, 0, SEEK_SET);
    size_t used = 0;
    ssize_t n;
    while (used < cap - 1 && (n = read(fd, buf + used, cap - 1 - used)) > 0)
        used += (size_t)n;
    buf[used] = '\0';
    return used;
}

/* Runs bin with args (NULL-terminated, args[0] is the name the program sees); returns the exit
 * status, 128 + signal when killed, with stdout and stderr captured. */
static int run_bin(const char *bin, const char *const *args, capture *cap)
{
    char opath[] = "/tmp/fastlike-cli-out-XXXXXX", epath[] = "/tmp/fastlike-cli-err-XXXXXX";
    int ofd = mkstemp(opath), efd = mkstemp(epath);
    if (ofd < 0 || efd < 0)
        return -1;
    unlink(opath);
    unlink(epath);
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        int in = open("/dev/null", O_RDONLY);
        dup2(in, 0);
        dup2(ofd, 1);
        dup2(efd, 2);
        execv(bin, (char *const *)args);
        _exit(127);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    cap->out_len = read_all(ofd, cap->out, CAP);
    cap->err_len = read_all(efd, cap->err, CAP);
    close(ofd);
    close(efd);
    return WIFSIGNALED(status) ? 128 + WTERMSIG(status) : WEXITSTATUS(status);
}

static capture cap;

/* ---- usage and file problems ---- */

TEST(no_arguments_one_line)
{
    const char *none[] = {"fastlike", NULL};
    CHECK_EQ_INT(run_bin(fastlike_bin, none, &cap), 2);
    CHECK_STR_CONTAINS(cap.err, "usage: fastlike");
    CHECK_STR_CONTAINS(cap.err, "fastlike -h");
    CHECK(strchr(cap.err, '\n') == cap.err + cap.err_len - 1); /* exactly one line */
    CHECK_EQ_INT(cap.out_len, 0);
    const char *vnone[] = {"viceroy", NULL};
    CHECK_EQ_INT(run_bin(viceroy_bin, vnone, &cap), 2);
    CHECK_STR_CONTAINS(cap.err, "usage: viceroy");
    CHECK(strchr(cap.err, '\n') == cap.err + cap.err_len - 1);
}

TEST(positional_not_wasm)
{
    const char *missing[] = {"fastlike", "frobnicate", NULL};
    CHECK_EQ_INT(run_bin(fastlike_bin, missing, &cap), 2);
    CHECK_STR_CONTAINS(cap.err, "fastlike: frobnicate: no such .wasm file");
    CHECK(strstr(cap.err, "unknown command") == NULL);
    CHECK(strchr(cap.err, '\n') == cap.err + cap.err_len - 1);
    /* an existing file of another name is taken as the program, and checked as one */
    const char *other[] = {"fastlike", "Makefile", NULL};
    CHECK_EQ_INT(run_bin(fastlike_bin, other, &cap), 2);
    CHECK_STR_CONTAINS(cap.err, "Makefile: invalid wasm module");
}

TEST(versions)
{
    const char *v[] = {"viceroy", "--version", NULL};
    CHECK_EQ_INT(run_bin(viceroy_bin, v, &cap), 0);
    CHECK_STR_EQ(cap.out, "viceroy 0.20.1\n"); /* the Fastly CLI reads the second word */
    const char *V[] = {"viceroy", "-V", NULL};
    CHECK_EQ_INT(run_bin(viceroy_bin, V, &cap), 0);
    CHECK_STR_EQ(cap.out, "viceroy 0.20.1\n");
    const char *fv[] = {"fastlike", "--version", NULL};
    CHECK_EQ_INT(run_bin(fastlike_bin, fv, &cap), 0);
    CHECK(strncmp(cap.out, "fastlike ", 9) == 0);
    const char *help[] = {"viceroy", "serve", "--help", NULL};
    CHECK_EQ_INT(run_bin(viceroy_bin, help, &cap), 0);
    CHECK_STR_CONTAINS(cap.out, "--addr IP:PORT");
}

/* The Fastly CLI's command line under the name fastlike (its --viceroy-path): Viceroy's rules,
 * e.g. exit 1 for a startup failure, where Fastlike's own flags would say "-v: '-C': ...". */
TEST(viceroy_command_line_under_fastlike_name)
{
    const char *cli[] = {"fastlike", "-v",          "-C",        "Makefile",
                         "--addr",   "127.0.0.1:0", "nope.wasm", NULL};
    CHECK_EQ_INT(run_bin(fastlike_bin, cli, &cap), 1);
    CHECK_STR_CONTAINS(cap.err, "-wasm: cannot read nope.wasm");
    CHECK(strstr(cap.err, "verbosity") == NULL);
    /* Fastlike's own -v N stays Fastlike's */
    const char *own[] = {"fastlike", "-v", "1", "-wasm", "nope.wasm", NULL};
    CHECK_EQ_INT(run_bin(fastlike_bin, own, &cap), 2);
}

/* ---- run ---- */

TEST(viceroy_run_exit_codes)
{
    const char *ok[] = {"viceroy", "run", GUEST_DIR "run_main.wasm", "a", NULL};
    CHECK_EQ_INT(run_bin(viceroy_bin, ok, &cap), 0);
    CHECK_STR_EQ(cap.out, "request GET http://example.com/\nargv[0]=run_main\nargv[1]=a\n");
    CHECK_STR_EQ(cap.err, "done\n");
    const char *ex[] = {"viceroy", "run", "-v", GUEST_DIR "run_main.wasm", "exit", "42", NULL};
    CHECK_EQ_INT(run_bin(viceroy_bin, ex, &cap), 42);
    const char *ret[] = {"viceroy", "run", GUEST_DIR "run_main.wasm", "--", "return", "5", NULL};
    CHECK_EQ_INT(run_bin(viceroy_bin, ret, &cap), 5);
    const char *trap[] = {"viceroy", "run", GUEST_DIR "run_main.wasm", "trap", NULL};
    CHECK_EQ_INT(run_bin(viceroy_bin, trap, &cap), 134);
    CHECK_STR_CONTAINS(cap.err, "wasm trap: unreachable");
    CHECK_STR_CONTAINS(cap.err, "run_main_trap_here"); /* the backtrace */
    /* an unknown option is a warning; the run goes on */
    const char *unk[] = {"viceroy", "run", "--frob", GUEST_DIR "run_main.wasm", NULL};
    CHECK_EQ_INT(run_bin(viceroy_bin, unk, &cap), 0);
    CHECK_STR_CONTAINS(cap.err, "warning: unknown option '--frob' ignored");
    CHECK_STR_CONTAINS(cap.out, "request GET http://example.com/");
    /* usage errors: 2; a module that cannot run: 1 */
    const char *nofile[] = {"viceroy", "run", NULL};
    CHECK_EQ_INT(run_bin(viceroy_bin, nofile, &cap), 2);
    CHECK_STR_CONTAINS(cap.err, "missing FILE.wasm");
    const char *missing[] = {"viceroy", "run", GUEST_DIR "nope.wasm", NULL};
    CHECK_EQ_INT(run_bin(viceroy_bin, missing, &cap), 2);
    CHECK_STR_CONTAINS(cap.err, "nope.wasm: No such file or directory");
    const char *bad[] = {"viceroy", "run", "Makefile", NULL};
    CHECK_EQ_INT(run_bin(viceroy_bin, bad, &cap), 1);
    CHECK_STR_CONTAINS(cap.err, "invalid wasm module");
    /* -C reaches the configuration (checked readable) */
    const char *badc[] = {
        "viceroy", "run", "-C", "/nonexistent/fastly.toml", GUEST_DIR "run_main.wasm", NULL};
    CHECK_EQ_INT(run_bin(viceroy_bin, badc, &cap), 2);
    CHECK_STR_CONTAINS(cap.err, "/nonexistent/fastly.toml: cannot read");
}

TEST(fastlike_run_compute_and_wasi)
{
    /* a module importing the Fastly ABI runs as `viceroy run` does ... */
    const char *c[] = {"fastlike", "run", "--env", "X=1", GUEST_DIR "run_main.wasm",
                       "env",      "X",   NULL};
    CHECK_EQ_INT(run_bin(fastlike_bin, c, &cap), 0);
    CHECK_STR_CONTAINS(cap.out, "request GET http://example.com/\nargv[0]=run_main\n");
    CHECK_STR_CONTAINS(cap.out, "X=1\n");
    /* ... and a plain WASI command as before: its path as argv[0], no FASTLY_* variables */
    const char *w[] = {"fastlike", "run", GUEST_DIR "wasi_hello.wasm", "x", NULL};
    CHECK_EQ_INT(run_bin(fastlike_bin, w, &cap), 0);
    CHECK_STR_CONTAINS(cap.out, "argv[0]=" GUEST_DIR "wasi_hello.wasm\n");
    CHECK(strstr(cap.out, "FASTLY_") == NULL);
    const char *t[] = {"fastlike", "run", GUEST_DIR "wasi_trap.wasm", NULL};
    CHECK_EQ_INT(run_bin(fastlike_bin, t, &cap), 134);
}

/* A JS SDK guest under `viceroy run`: its fetch handler gets the synthetic request; a handler
 * that throws is the SDK's own error path (it reports it and answers 500), so the run still
 * ends normally, as under Viceroy. */
TEST(viceroy_run_js_guest)
{
    const char *ok[] = {"viceroy", "run", GUEST_DIR "js/run_js.wasm", NULL};
    CHECK_EQ_INT(run_bin(viceroy_bin, ok, &cap), 0);
    CHECK_STR_EQ(cap.out, "run_js GET http://example.com/\n");
    const char *thr[] = {"viceroy", "run", "--env", "RUN_JS_MODE=throw", GUEST_DIR "js/run_js.wasm",
                         NULL};
    CHECK_EQ_INT(run_bin(viceroy_bin, thr, &cap), 0);
    CHECK_STR_EQ(cap.out, "run_js GET http://example.com/\n");
    CHECK_STR_CONTAINS(cap.err, "Error while running request handler");
}

/* ---- viceroy serving ---- */

typedef struct proc {
    pid_t pid;
    int out; /* read end of its stdout */
    char errpath[64];
    char line[512]; /* the Listening line */
    uint16_t port;
} proc;

static bool parse_listening(const char *line, uint16_t *port)
{
    /* 2026-12-06T17:01:42.646476Z  INFO Listening on http://127.0.0.1:17676 */
    const char *fmt = "dddd-dd-ddTdd:dd:dd.ddddddZ  INFO Listening on http://";
    for (size_t i = 0; fmt[i]; i++) {
        if (fmt[i] == 'd' ? (line[i] < '0' || line[i] > '9') : line[i] != fmt[i])
            return false;
    }
    const char *addr = line + strlen(fmt);
    const char *colon = strrchr(addr, ':');
    if (strncmp(addr, "127.0.0.1:", 10) != 0 || !colon)
        return false;
    long p = strtol(colon + 1, NULL, 10);
    *port = (uint16_t)p;
    return p > 0 && p < 65536;
}

/* Starts `viceroy -v --addr ADDR srv_app.wasm` and waits for its Listening line. */
static bool start_viceroy(proc *p, const char *addr)
{
    memset(p, 0, sizeof *p);
    int pfd[2];
    snprintf(p->errpath, sizeof p->errpath, "/tmp/fastlike-cli-srv-XXXXXX");
    int efd = mkstemp(p->errpath);
    if (efd < 0 || pipe(pfd) != 0)
        return false;
    fflush(NULL);
    p->pid = fork();
    if (p->pid == 0) {
        dup2(pfd[1], 1);
        dup2(efd, 2);
        close(pfd[0]);
        execl(viceroy_bin, "viceroy", "-v", "--addr", addr, GUEST_DIR "cli_app.wasm", (char *)NULL);
        _exit(127);
    }
    close(pfd[1]);
    close(efd);
    p->out = pfd[0];
    size_t used = 0;
    for (int waited = 0; waited < DEADLINE_MS && used < sizeof p->line - 1;) {
        struct pollfd pl = {.fd = p->out, .events = POLLIN};
        int r = poll(&pl, 1, 100);
        if (r == 0) {
            waited += 100;
            continue;
        }
        ssize_t n = read(p->out, p->line + used, 1);
        if (n <= 0)
            break;
        if (p->line[used] == '\n') {
            p->line[used] = '\0';
            return parse_listening(p->line, &p->port);
        }
        used++;
    }
    p->line[used] = '\0';
    return false;
}

/* Waits for the process to end; returns 128 + signal or the exit status, or -1 when it had to
 * be killed after the deadline (a server that ignores its stop signal). */
static int wait_bounded(pid_t pid, int *status)
{
    pid_t done = 0;
    for (int waited = 0; waited < 2 * DEADLINE_MS && done == 0; waited += 20) {
        done = waitpid(pid, status, WNOHANG);
        if (done == 0)
            usleep(20 * 1000);
    }
    if (done != 0)
        return 0;
    kill(pid, SIGKILL);
    waitpid(pid, status, 0);
    return -1;
}

static int finish(proc *p)
{
    int status = 0;
    if (p->pid <= 0)
        return -1;
    if (wait_bounded(p->pid, &status) != 0) {
        close(p->out);
        unlink(p->errpath);
        return -1;
    }
    close(p->out);
    unlink(p->errpath);
    return WIFSIGNALED(status) ? 128 + WTERMSIG(status) : WEXITSTATUS(status);
}

static int get_status(uint16_t port, const char *path)
{
    hc_conn c;
    hc_resp r = {0};
    if (hc_connect(&c, port) != 0)
        return -1;
    char req[512];
    snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
             path);
    int status = -1;
    if (hc_sends(&c, req) == 0 && hc_read(&c, &r, false, true, false) == 0)
        status = r.status;
    hc_resp_free(&r);
    hc_close(&c);
    return status;
}

TEST(serve_listening_line_and_sigint)
{
    proc p;
    bool up = start_viceroy(&p, "127.0.0.1:0");
    CHECK(up);
    if (!up) {
        fprintf(stderr, "  no Listening line, got '%s'\n", p.line);
        if (p.pid > 0)
            kill(p.pid, SIGKILL);
        finish(&p);
        return;
    }
    CHECK_EQ_INT(get_status(p.port, "/status?code=201"), 201);
    kill(p.pid, SIGINT);
    CHECK_EQ_INT(finish(&p), 128 + SIGINT); /* died by it: the Fastly CLI sees "interrupt" */
}

struct slow_req {
    uint16_t port;
    int status;
};

static void *slow_request(void *arg)
{
    struct slow_req *s = arg;
    s->status = get_status(s->port, "/slow");
    return NULL;
}

/* Waits until the file contains `needle` (the server's log). */
static bool file_wait(const char *path, const char *needle)
{
    static char buf[CAP];
    for (int waited = 0; waited < DEADLINE_MS; waited += 20) {
        int fd = open(path, O_RDONLY);
        if (fd >= 0) {
            read_all(fd, buf, sizeof buf);
            close(fd);
            if (strstr(buf, needle))
                return true;
        }
        usleep(20 * 1000);
    }
    return false;
}

/* SIGTERM while a request is in flight (the guest has logged that it started and sleeps): the
 * request is answered, then the process dies by the signal. */
TEST(serve_sigterm_finishes_in_flight)
{
    proc p;
    bool up = start_viceroy(&p, "127.0.0.1:0");
    CHECK(up);
    if (!up) {
        if (p.pid > 0)
            kill(p.pid, SIGKILL);
        finish(&p);
        return;
    }
    struct slow_req s = {p.port, -1};
    pthread_t t;
    pthread_create(&t, NULL, slow_request, &s);
    CHECK(file_wait(p.errpath, "slow request started"));
    kill(p.pid, SIGTERM);
    pthread_join(t, NULL);
    CHECK_EQ_INT(s.status, 200);
    CHECK_EQ_INT(finish(&p), 128 + SIGTERM);
}

TEST(serve_startup_failures_exit_1)
{
    const char *bad[] = {"viceroy", "--addr", "127.0.0.1:0", "Makefile", NULL};
    CHECK_EQ_INT(run_bin(viceroy_bin, bad, &cap), 1);
    CHECK_STR_CONTAINS(cap.err, "invalid wasm module");
    const char *missing[] = {"viceroy", "nope.wasm", NULL};
    CHECK_EQ_INT(run_bin(viceroy_bin, missing, &cap), 1);
    CHECK_STR_CONTAINS(cap.err, "cannot read nope.wasm");
    const char *usage[] = {"viceroy", "--profile=nope", GUEST_DIR "cli_app.wasm", NULL};
    CHECK_EQ_INT(run_bin(viceroy_bin, usage, &cap), 2);
    /* the address in use */
    proc p;
    bool up = start_viceroy(&p, "127.0.0.1:0");
    CHECK(up);
    if (up) {
        char addr[64];
        snprintf(addr, sizeof addr, "127.0.0.1:%u", p.port);
        const char *busy[] = {"viceroy", "--addr", addr, GUEST_DIR "cli_app.wasm", NULL};
        CHECK_EQ_INT(run_bin(viceroy_bin, busy, &cap), 1);
        CHECK_STR_CONTAINS(cap.err, "cannot listen on");
    }
    if (p.pid > 0)
        kill(p.pid, SIGKILL);
    finish(&p);
}

/* `fastly compute serve --watch` kills with SIGKILL and starts the next server at once. */
TEST(port_reusable_after_sigkill)
{
    proc p;
    bool up = start_viceroy(&p, "127.0.0.1:0");
    CHECK(up);
    if (!up) {
        if (p.pid > 0)
            kill(p.pid, SIGKILL);
        finish(&p);
        return;
    }
    uint16_t port = p.port;
    /* connections the server closed first leave TIME_WAIT entries on its port */
    for (int i = 0; i < 3; i++)
        CHECK_EQ_INT(get_status(port, "/status?code=200"), 200);
    kill(p.pid, SIGKILL);
    CHECK_EQ_INT(finish(&p), 128 + SIGKILL);
    char addr[64];
    snprintf(addr, sizeof addr, "127.0.0.1:%u", port);
    up = start_viceroy(&p, addr);
    CHECK(up);
    CHECK_EQ_INT(p.port, port);
    if (up)
        CHECK_EQ_INT(get_status(port, "/status?code=202"), 202);
    if (p.pid > 0)
        kill(p.pid, SIGTERM);
    if (p.pid > 0)
        CHECK_EQ_INT(finish(&p), 128 + SIGTERM);
}

/* Fastlike's own mode keeps its documented exit status 0 after SIGINT. */
TEST(fastlike_mode_exits_0)
{
    int pfd[2];
    CHECK(pipe(pfd) == 0);
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        int null = open("/dev/null", O_WRONLY);
        dup2(null, 1);
        dup2(pfd[1], 2);
        execl(fastlike_bin, "fastlike", "-wasm", GUEST_DIR "cli_app.wasm", "-bind", "127.0.0.1:0",
              (char *)NULL);
        _exit(127);
    }
    close(pfd[1]);
    /* its own startup line on stderr says it is bound */
    char buf[4096];
    size_t used = 0;
    for (int waited = 0; waited < DEADLINE_MS && used < sizeof buf - 1;) {
        struct pollfd pl = {.fd = pfd[0], .events = POLLIN};
        if (poll(&pl, 1, 100) == 0) {
            waited += 100;
            continue;
        }
        ssize_t n = read(pfd[0], buf + used, sizeof buf - 1 - used);
        if (n <= 0)
            break;
        used += (size_t)n;
        buf[used] = '\0';
        if (strstr(buf, "listening on"))
            break;
    }
    buf[used] = '\0';
    CHECK_STR_CONTAINS(buf, "listening on");
    kill(pid, SIGINT);
    int status = 0;
    CHECK_EQ_INT(wait_bounded(pid, &status), 0);
    close(pfd[0]);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

static void setup(const char *argv0)
{
    const char *t = argv0 ? strstr(argv0, "/tests/") : NULL;
    if (t)
        snprintf(fastlike_bin, sizeof fastlike_bin, "%.*s/fastlike", (int)(t - argv0), argv0);
    char *abs = realpath(fastlike_bin, NULL); /* the symlink must not depend on the cwd */
    if (abs && strlen(abs) < sizeof fastlike_bin)
        memcpy(fastlike_bin, abs, strlen(abs) + 1);
    free(abs);
    const char *base = getenv("TMPDIR");
    snprintf(tmpdir, sizeof tmpdir, "%s/fastlike-cli-XXXXXX", base && *base ? base : "/tmp");
    if (mkdtemp(tmpdir)) {
        snprintf(viceroy_bin, sizeof viceroy_bin, "%s/viceroy", tmpdir);
        if (symlink(fastlike_bin, viceroy_bin) != 0)
            perror("symlink");
    }
}

int main(int argc, char **argv)
{
    (void)argc;
    signal(SIGPIPE, SIG_IGN);
    setup(argv[0]);
    RUN(no_arguments_one_line);
    RUN(positional_not_wasm);
    RUN(versions);
    RUN(viceroy_command_line_under_fastlike_name);
    RUN(viceroy_run_exit_codes);
    RUN(fastlike_run_compute_and_wasi);
    RUN(viceroy_run_js_guest);
    RUN(serve_listening_line_and_sigint);
    RUN(serve_sigterm_finishes_in_flight);
    RUN(serve_startup_failures_exit_1);
    RUN(port_reusable_after_sigkill);
    RUN(fastlike_mode_exits_0);
    unlink(viceroy_bin);
    rmdir(tmpdir);
    return harness_finish(argv[0]);
}
