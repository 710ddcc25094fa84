/* bench_reload.c: hot reload of a JS SDK guest through the command line, as a developer uses it:
 * `fastlike -wasm DIR/guest.wasm -reload` runs as a child process; each round renames the other
 * module over the guest file, sends SIGHUP and polls GET / on fresh connections until the answer
 * comes from the new module. The time from the signal to that first new answer is the number:
 *   bench-reload: ... signal to first response of the new module: median X ms, min, max (N
 *   reloads); of which reading, loading and swapping the module: median Z ms, C ms of CPU (the
 *   reload thread's own CPU time, which does not grow when other processes share the CPUs)
 * usage: bench-reload FASTLIKE_BINARY A.wasm B.wasm [-n ROUNDS] */
#include "server/http_client.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Copies src to dst through a temporary file and a rename, as compilers write their output. */
static int install(const char *src, const char *dst)
{
    char tmp[600];
    snprintf(tmp, sizeof tmp, "%s.tmp", dst);
    FILE *in = fopen(src, "rb"), *out = fopen(tmp, "wb");
    int rc = in && out ? 0 : -1;
    char buf[65536];
    size_t n;
    while (rc == 0 && (n = fread(buf, 1, sizeof buf, in)) > 0)
        if (fwrite(buf, 1, n, out) != n)
            rc = -1;
    if (in)
        fclose(in);
    if (out && fclose(out) != 0)
        rc = -1;
    return rc == 0 ? rename(tmp, dst) : -1;
}

/* The body of GET / on a fresh connection ("" on failure). */
static void get_body(uint16_t port, char *out, size_t cap)
{
    out[0] = '\0';
    hc_conn c;
    if (hc_connect(&c, port) != 0)
        return;
    hc_resp r = {0};
    if (hc_sends(&c, "GET / HTTP/1.1\r\nHost: bench\r\nConnection: close\r\n\r\n") == 0 &&
        hc_read(&c, &r, false, true, false) == 0 && r.status == 200 && r.body)
        snprintf(out, cap, "%s", (const char *)r.body);
    hc_resp_free(&r);
    hc_close(&c);
}

/* Reads the child's stderr until "(port N)" appears (up to 60 s); 0 on failure. */
static uint16_t wait_port(int fd)
{
    char text[8192];
    size_t len = 0;
    double deadline = now_ms() + 60000;
    while (now_ms() < deadline && len + 1 < sizeof text) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (poll(&p, 1, 200) <= 0)
            continue;
        ssize_t n = read(fd, text + len, sizeof text - 1 - len);
        if (n <= 0)
            return 0;
        len += (size_t)n;
        text[len] = '\0';
        const char *at = strstr(text, "(port ");
        if (at)
            return (uint16_t)strtoul(at + 6, NULL, 10);
    }
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: bench-reload FASTLIKE_BINARY A.wasm B.wasm [-n ROUNDS]\n");
        return 2;
    }
    int rounds = 10;
    if (argc >= 6 && strcmp(argv[4], "-n") == 0)
        rounds = (int)strtol(argv[5], NULL, 10);
    if (rounds < 1)
        rounds = 1;
    const char *base = getenv("TMPDIR");
    char dir[512], guest[600];
    snprintf(dir, sizeof dir, "%s/fastlike-bench-reload-XXXXXX", base && *base ? base : "/tmp");
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    snprintf(guest, sizeof guest, "%s/guest.wasm", dir);
    if (install(argv[2], guest) != 0) {
        fprintf(stderr, "bench-reload: cannot copy %s\n", argv[2]);
        return 1;
    }
    int errpipe[2];
    if (pipe(errpipe) != 0)
        return 1;
    pid_t pid = fork();
    if (pid == 0) {
        dup2(errpipe[1], 2);
        close(errpipe[0]);
        close(errpipe[1]);
        execl(argv[1], argv[1], "-wasm", guest, "-reload", "-bind", "127.0.0.1:0", (char *)NULL);
        _exit(127);
    }
    close(errpipe[1]);
    int status = 1;
    double *t = calloc((size_t)rounds, sizeof *t);
    double *load = calloc((size_t)rounds, sizeof *load);
    double *cpu = calloc((size_t)rounds, sizeof *cpu);
    uint16_t port = pid > 0 ? wait_port(errpipe[0]) : 0;
    if (!port || !t || !load || !cpu) {
        fprintf(stderr, "bench-reload: %s did not start\n", argv[1]);
        goto out;
    }
    /* drain the child's log in the background so it never blocks on a full pipe */
    fcntl(errpipe[0], F_SETFL, O_NONBLOCK);
    char body[256];
    get_body(port, body, sizeof body); /* first request: the module is translated and warm */
    if (strcmp(body, "version=a") != 0) {
        fprintf(stderr, "bench-reload: unexpected first answer '%s'\n", body);
        goto out;
    }
    for (int i = 0; i < rounds; i++) {
        const char *next = i % 2 == 0 ? argv[3] : argv[2];
        const char *want = i % 2 == 0 ? "version=b" : "version=a";
        if (install(next, guest) != 0)
            goto out;
        double t0 = now_ms();
        kill(pid, SIGHUP);
        for (;;) {
            get_body(port, body, sizeof body);
            if (strcmp(body, want) == 0)
                break;
            if (now_ms() - t0 > 30000) {
                fprintf(stderr, "bench-reload: no answer from the new module after 30 s\n");
                goto out;
            }
        }
        t[i] = now_ms() - t0;
        /* the child's own account of the reload: "reloaded FILE (generation N, X ms)" */
        char log[4096];
        size_t len = 0;
        double deadline = now_ms() + 5000;
        const char *at = NULL;
        while (!at && now_ms() < deadline && len + 1 < sizeof log) {
            ssize_t n = read(errpipe[0], log + len, sizeof log - 1 - len);
            if (n > 0) {
                len += (size_t)n;
                log[len] = '\0';
                at = strstr(log, "(generation ");
                at = at && strstr(at, " ms CPU") ? strstr(at, ", ") : NULL;
            } else {
                usleep(1000);
            }
        }
        load[i] = at ? strtod(at + 2, NULL) : -1;
        const char *cpu_at = at ? strstr(at, " ms, ") : NULL;
        cpu[i] = cpu_at ? strtod(cpu_at + 5, NULL) : -1;
    }
    qsort(t, (size_t)rounds, sizeof *t, cmp_double);
    qsort(load, (size_t)rounds, sizeof *load, cmp_double);
    qsort(cpu, (size_t)rounds, sizeof *cpu, cmp_double);
    double la[3] = {0};
    FILE *lf = fopen("/proc/loadavg", "r");
    if (lf) {
        if (fscanf(lf, "%lf %lf %lf", &la[0], &la[1], &la[2]) != 3)
            la[0] = -1;
        fclose(lf);
    }
    printf("bench-reload: JS guest (%s), signal to first response of the new module: median "
           "%.0f ms, min %.0f ms, max %.0f ms (%d reloads); of which reading, loading and "
           "swapping the module (the server's log): median %.0f ms, %.0f ms of CPU; load "
           "average %.1f\n",
           argv[3], t[rounds / 2], t[0], t[rounds - 1], rounds, load[rounds / 2], cpu[rounds / 2],
           la[0]);
    status = 0;
out:
    if (pid > 0) {
        kill(pid, SIGTERM);
        waitpid(pid, NULL, 0);
    }
    free(t);
    free(load);
    free(cpu);
    unlink(guest);
    rmdir(dir);
    return status;
}
