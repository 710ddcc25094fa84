/* srv_log.c: formatting log lines and splitting guest output into lines. The formatted line is
 * built on the stack when short and on the heap otherwise, so backtraces are never cut. */
#include "server/srv_log.h"
#include "util/util_grow.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define LINE_MAX_BYTES (16 * 1024)

void srv_log_stderr(void *user, const char *line)
{
    (void)user;
    size_t n = strlen(line);
    char small[1024];
    char *buf = n + 2 <= sizeof small ? small : malloc(n + 2);
    if (!buf) {
        fprintf(stderr, "%s\n", line);
        return;
    }
    memcpy(buf, line, n);
    buf[n] = '\n';
    /* one write(2) per line so lines from concurrent requests do not interleave */
    size_t off = 0;
    while (off < n + 1) {
        ssize_t w = write(STDERR_FILENO, buf + off, n + 1 - off);
        if (w <= 0)
            break;
        off += (size_t)w;
    }
    if (buf != small)
        free(buf);
}

void srv_logf(const srv_log *log, const char *fmt, ...)
{
    if (!log || !log->fn)
        return;
    char small[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if ((size_t)n < sizeof small) {
        log->fn(log->user, small);
        return;
    }
    char *big = malloc((size_t)n + 1);
    if (!big) {
        log->fn(log->user, small); /* truncated is better than nothing */
        return;
    }
    va_start(ap, fmt);
    vsnprintf(big, (size_t)n + 1, fmt, ap);
    va_end(ap);
    log->fn(log->user, big);
    free(big);
}

void srv_linebuf_init(srv_linebuf *lb, const srv_log *log, const char *trace, const char *label)
{
    memset(lb, 0, sizeof *lb);
    lb->log = log;
    lb->trace = trace;
    lb->label = label;
}

static void emit(srv_linebuf *lb, const char *s, size_t n)
{
    if (n > 0 && s[n - 1] == '\r')
        n--;
    srv_logf(lb->log, "[%.8s] %s | %.*s", lb->trace, lb->label, (int)n, s);
}

void srv_linebuf_write(srv_linebuf *lb, const uint8_t *data, size_t len)
{
    const char *p = (const char *)data;
    while (len > 0) {
        const char *nl = memchr(p, '\n', len);
        size_t take = nl ? (size_t)(nl - p) : len;
        if (lb->len + take > LINE_MAX_BYTES)
            take = LINE_MAX_BYTES - lb->len, nl = NULL;
        if (nl && lb->len == 0) {
            emit(lb, p, take); /* the common case: a whole line in one write */
        } else {
            if (!util_grow((void **)&lb->buf, &lb->cap, lb->len + take, 256, 1))
                return;
            memcpy(lb->buf + lb->len, p, take);
            lb->len += take;
            if (nl || lb->len >= LINE_MAX_BYTES) {
                emit(lb, lb->buf, lb->len);
                lb->len = 0;
            }
        }
        size_t used = take + (nl ? 1 : 0);
        p += used;
        len -= used;
    }
}

void srv_linebuf_deinit(srv_linebuf *lb)
{
    if (lb->len > 0)
        emit(lb, lb->buf, lb->len);
    free(lb->buf);
    lb->buf = NULL;
    lb->len = lb->cap = 0;
}
