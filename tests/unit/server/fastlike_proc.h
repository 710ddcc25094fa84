/* fastlike_proc.h: the server tests' one way to run the fastlike binary as a child process:
 * started with stdin from /dev/null and stdout/stderr into files, its port taken from the
 * "(port N)" line it prints (run it with -bind 127.0.0.1:0, so no port is guessed), its stderr
 * polled for expected lines, stopped with SIGTERM and its exit status collected. Every wait polls
 * with a generous deadline (60 s) for a loaded machine. Header-only; include it once per test. */
#ifndef FASTLIKE_TEST_PROC_H
#define FASTLIKE_TEST_PROC_H

#include "harness.h"

#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#define FL_PROC_WAIT_MS 60000

typedef struct fl_proc {
    pid_t pid;
    char out[700], err[700]; /* the files holding its stdout and stderr */
    uint16_t port;
} fl_proc;

/* A whole file as a malloc'd NUL-terminated string (NULL when it cannot be read). */
HARNESS_UNUSED static char *fl_slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 4096, n = 0, got;
    char *s = malloc(cap);
    while (s && (got = fread(s + n, 1, cap - n - 1, f)) > 0) {
        n += got;
        if (cap - n - 1 == 0) {
            char *g = realloc(s, cap * 2);
            if (!g) {
                free(s);
                s = NULL;
                break;
            }
            s = g;
            cap *= 2;
        }
    }
    fclose(f);
    if (s)
        s[n] = '\0';
    return s;
}

/* True when the child's stderr holds `needle` (anywhere, earlier lines included). */
HARNESS_UNUSED static bool fl_proc_err_has(const fl_proc *p, const char *needle)
{
    char *e = fl_slurp(p->err);
    bool has = e && strstr(e, needle);
    free(e);
    return has;
}

/* Waits until the child's stderr holds `needle`; false (with its stderr printed) after the
 * deadline or when the child exited without writing it (then p->pid is 0: it was reaped). */
HARNESS_UNUSED static bool fl_proc_wait_err(fl_proc *p, const char *needle)
{
    for (int waited = 0; waited < FL_PROC_WAIT_MS; waited += 10) {
        if (fl_proc_err_has(p, needle))
            return true;
        if (p->pid <= 0)
            break;
        if (waitpid(p->pid, NULL, WNOHANG) == p->pid) {
            p->pid = 0;
            break;
        }
        usleep(10000);
    }
    if (fl_proc_err_has(p, needle))
        return true;
    char *e = fl_slurp(p->err);
    fprintf(stderr, "  no '%s' in the server's stderr:\n%s\n", needle, e ? e : "");
    free(e);
    return false;
}

/* Starts argv (argv[0] the binary; NULL-terminated) with its stdout and stderr in out_path and
 * err_path, and waits for its "(port N)" line. False when it exits first or never says it. */
HARNESS_UNUSED static bool fl_proc_start(fl_proc *p, const char *const *argv, const char *out_path,
                                         const char *err_path)
{
    memset(p, 0, sizeof *p);
    snprintf(p->out, sizeof p->out, "%s", out_path);
    snprintf(p->err, sizeof p->err, "%s", err_path);
    /* opened (and emptied) here, before the child runs: a wait must not read an earlier run's
     * lines from a reused file */
    int out = open(p->out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    int err = open(p->err, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    int devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (out >= 0 && err >= 0 && devnull >= 0)
        p->pid = fork();
    else
        p->pid = -1;
    if (p->pid == 0) {
        dup2(devnull, STDIN_FILENO);
        dup2(out, STDOUT_FILENO);
        dup2(err, STDERR_FILENO);
        execv(argv[0], (char *const *)argv);
        _exit(127);
    }
    if (out >= 0)
        close(out);
    if (err >= 0)
        close(err);
    if (devnull >= 0)
        close(devnull);
    if (p->pid < 0) {
        p->pid = 0;
        return false;
    }
    if (!fl_proc_wait_err(p, "(port "))
        return false; /* still running (fl_proc_stop ends it) or reaped already */
    char *e = fl_slurp(p->err);
    const char *at = e ? strstr(e, "(port ") : NULL;
    unsigned port = 0;
    if (at && sscanf(at, "(port %u)", &port) == 1)
        p->port = (uint16_t)port;
    free(e);
    return p->port != 0;
}

/* SIGTERM, then its exit status; -1 when it did not exit normally within the deadline (it is
 * killed then) or was not running. */
HARNESS_UNUSED static int fl_proc_stop(fl_proc *p)
{
    if (p->pid <= 0)
        return -1;
    kill(p->pid, SIGTERM);
    for (int waited = 0; waited < FL_PROC_WAIT_MS; waited += 10) {
        int st;
        if (waitpid(p->pid, &st, WNOHANG) == p->pid) {
            p->pid = 0;
            return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
        }
        usleep(10000);
    }
    kill(p->pid, SIGKILL);
    waitpid(p->pid, NULL, 0);
    p->pid = 0;
    return -1;
}

#endif
