/* test_shutdown.c: the graceful shutdown of the fastlike binary (issue 15 item 5), through the real
 * process: SIGTERM lets a slow request finish and closes idle keep-alive connections; a guest
 * looping forever (no -request-timeout) is interrupted when -shutdown-grace runs out and its client
 * gets a 503; exit statuses (0 after one signal, 128+N after a second one); a bad -shutdown-grace
 * is one line and status 2. Guest: tests/guests/c/srv_shutdown.c. Timing is never asserted: each
 * wait is for a condition, with a generous deadline. */
#include "config/tmp_files.h"
#include "harness.h"
#include "fastlike_proc.h"
#include "test_server.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>

static char fastlike_bin[1024] = "build/rel/fastlike";
static const char guest[] = "build/guests/srv_shutdown.wasm";

typedef struct proc {
    pid_t pid;
    char err[700]; /* its stderr (the server log), as a file */
    uint16_t port;
} proc;

/* Starts the binary with the flags (NULL-terminated; the guest and an ephemeral port are added);
 * with want_port, waits (up to 60 s) for its "(port N)" line. */
static bool start(proc *p, const char *tag, const char *const *flags, bool want_port)
{
    memset(p, 0, sizeof *p);
    snprintf(p->err, sizeof p->err, "%s", tmp_path(tag));
    unlink(p->err); /* no earlier process's port line */
    const char *argv[32] = {fastlike_bin, "-wasm", guest, "-bind", "127.0.0.1:0"};
    size_t n = 5;
    for (size_t i = 0; flags[i] && n < 31; i++)
        argv[n++] = flags[i];
    argv[n] = NULL;
    p->pid = fork();
    if (p->pid < 0)
        return false;
    if (p->pid == 0) {
        int err = open(p->err, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        int devnull = open("/dev/null", O_RDWR);
        if (err < 0 || devnull < 0)
            _exit(127);
        dup2(devnull, STDIN_FILENO);
        dup2(devnull, STDOUT_FILENO);
        dup2(err, STDERR_FILENO);
        execv(fastlike_bin, (char *const *)argv);
        _exit(127);
    }
    if (!want_port)
        return true;
    for (int i = 0; i < 6000; i++) {
        char *e = fl_slurp(p->err);
        const char *at = e ? strstr(e, "(port ") : NULL;
        unsigned port = 0;
        if (at && sscanf(at, "(port %u)", &port) == 1)
            p->port = (uint16_t)port;
        free(e);
        if (p->port)
            return true;
        if (waitpid(p->pid, NULL, WNOHANG) == p->pid) {
            p->pid = 0;
            return false;
        }
        usleep(10000);
    }
    return false;
}

/* Waits (up to 60 s) until the server log holds `needle` `count` times. */
static bool wait_log(const proc *p, const char *needle, size_t count)
{
    for (int i = 0; i < 6000; i++) {
        char *e = fl_slurp(p->err);
        size_t seen = 0;
        for (const char *at = e; at && (at = strstr(at, needle)) != NULL; at += strlen(needle))
            seen++;
        free(e);
        if (seen >= count)
            return true;
        usleep(10000);
    }
    return false;
}

/* Waits (up to 60 s) for the process to end: its exit status, 128+N when signal N ended it, or
 * -1 when it did not end (it is killed then). */
static int wait_exit(proc *p)
{
    for (int i = 0; i < 6000; i++) {
        int st;
        if (waitpid(p->pid, &st, WNOHANG) == p->pid)
            return WIFSIGNALED(st) ? 128 + WTERMSIG(st) : WEXITSTATUS(st);
        usleep(10000);
    }
    kill(p->pid, SIGKILL);
    waitpid(p->pid, NULL, 0);
    return -1;
}

static bool log_contains(const proc *p, const char *needle)
{
    char *e = fl_slurp(p->err);
    bool found = e && strstr(e, needle);
    free(e);
    return found;
}

static int send_get(hc_conn *c, uint16_t port, const char *target)
{
    char req[512];
    snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: shutdown.test\r\n\r\n", target);
    if (hc_connect(c, port) != 0)
        return -1;
    return hc_sends(c, req);
}

/* A request still running when SIGTERM comes is answered (200), an idle keep-alive connection is
 * closed, and the process exits 0. */
TEST(slow_request_finishes_and_idle_connection_closes)
{
    proc p;
    const char *flags[] = {NULL};
    if (!start(&p, "slow.err", flags, true)) {
        CHECK(!"fastlike started");
        return;
    }
    hc_conn idle, slow;
    hc_resp r = {0};
    CHECK_EQ_INT(send_get(&idle, p.port, "/"), 0);
    CHECK_EQ_INT(hc_read(&idle, &r, false, true, false), 0);
    CHECK_EQ_INT(r.status, 200); /* keep-alive: the connection stays open, idle */
    CHECK_EQ_INT(send_get(&slow, p.port, "/sleep?ms=500"), 0);
    CHECK(wait_log(&p, "sleeping", 1));
    kill(p.pid, SIGTERM);
    char byte;
    CHECK_EQ_INT((int)recv(idle.fd, &byte, 1, 0), 0); /* closed by the server, no response */
    CHECK_EQ_INT(hc_read(&slow, &r, false, true, false), 0);
    CHECK_EQ_INT(r.status, 200);
    CHECK_STR_EQ(r.body ? (const char *)r.body : "", "slept");
    CHECK_STR_CONTAINS(r.head, "Connection: close");
    CHECK_EQ_INT(wait_exit(&p), 0);
    CHECK(!log_contains(&p, "interrupting"));
    hc_resp_free(&r);
    hc_close(&idle);
    hc_close(&slow);
}

/* A guest in an endless loop, with no CPU deadline: interrupted once the grace period is over,
 * its client gets a 503, and the process exits 0. */
TEST(endless_guest_gets_503_after_the_grace_period)
{
    proc p;
    const char *flags[] = {"-request-timeout", "0", "-shutdown-grace", "1s", NULL};
    if (!start(&p, "spin.err", flags, true)) {
        CHECK(!"fastlike started");
        return;
    }
    hc_conn spin;
    hc_resp r = {0};
    CHECK_EQ_INT(send_get(&spin, p.port, "/spin"), 0);
    CHECK(wait_log(&p, "spinning", 1));
    kill(p.pid, SIGTERM);
    CHECK_EQ_INT(hc_read(&spin, &r, false, true, false), 0);
    CHECK_EQ_INT(r.status, 503);
    CHECK_STR_CONTAINS(r.body ? (const char *)r.body : "", "shutting down");
    CHECK_EQ_INT(wait_exit(&p), 0);
    CHECK(log_contains(&p, "shutdown grace period (1000 ms) over: interrupting 1 guest"));
    CHECK(log_contains(&p, "GET http://shutdown.test/spin: guest stopped: the server is shutting"));
    hc_resp_free(&r);
    hc_close(&spin);
}

/* A second signal while the first one's grace period runs ends the process at once: 128+N. */
TEST(second_signal_exits_at_once)
{
    proc p;
    const char *flags[] = {"-request-timeout", "0", "-shutdown-grace", "10m", NULL};
    if (!start(&p, "twice.err", flags, true)) {
        CHECK(!"fastlike started");
        return;
    }
    hc_conn spin;
    CHECK_EQ_INT(send_get(&spin, p.port, "/spin"), 0);
    CHECK(wait_log(&p, "spinning", 1));
    kill(p.pid, SIGTERM);
    CHECK(wait_log(&p, "fastlike: stopping:", 1)); /* the first signal was taken */
    kill(p.pid, SIGINT);
    CHECK_EQ_INT(wait_exit(&p), 128 + SIGINT);
    CHECK(log_contains(&p, "second signal"));
    hc_close(&spin);
}

/* No request in flight: SIGTERM and SIGINT both end the process with status 0. */
TEST(idle_server_exits_0)
{
    int sigs[] = {SIGTERM, SIGINT};
    for (size_t i = 0; i < 2; i++) {
        proc p;
        const char *flags[] = {NULL};
        if (!start(&p, "idle.err", flags, true)) {
            CHECK(!"fastlike started");
            return;
        }
        kill(p.pid, sigs[i]);
        CHECK_EQ_INT(wait_exit(&p), 0);
    }
}

/* A -shutdown-grace that is not a duration: one line naming the flag, status 2. */
TEST(bad_grace_is_a_usage_error)
{
    const char *bad[] = {"5x", "-1", "ms", "25h", "1.5s"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        proc p;
        const char *flags[] = {"-shutdown-grace", bad[i], NULL};
        CHECK(start(&p, "bad.err", flags, false));
        CHECK_EQ_INT(wait_exit(&p), 2);
        char *e = fl_slurp(p.err);
        CHECK_STR_CONTAINS(e ? e : "", "-shutdown-grace");
        CHECK_STR_CONTAINS(e ? e : "", bad[i]);
        CHECK(e && strchr(e, '\n') == strrchr(e, '\n')); /* one line */
        free(e);
    }
    const char *good[] = {"0", "250ms", "2m", "30"};
    for (size_t i = 0; i < sizeof good / sizeof *good; i++) {
        proc p;
        const char *flags[] = {"-shutdown-grace", good[i], NULL};
        CHECK(start(&p, "good.err", flags, true));
        kill(p.pid, SIGTERM);
        CHECK_EQ_INT(wait_exit(&p), 0);
    }
}

/* build/<variant>/tests/server/test_shutdown -> build/<variant>/fastlike */
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
    signal(SIGPIPE, SIG_IGN);
    if (!tmp_dir_create("fastlike-shutdown"))
        return 1;
    RUN(slow_request_finishes_and_idle_connection_closes);
    RUN(endless_guest_gets_503_after_the_grace_period);
    RUN(second_signal_exits_at_once);
    RUN(idle_server_exits_0);
    RUN(bad_grace_is_a_usage_error);
    tmp_dir_remove();
    return harness_finish(argv[0]);
}
