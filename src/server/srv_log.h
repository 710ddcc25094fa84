/* srv_log.h: the server's log: one callback receiving whole lines (default: stderr), a verbosity,
 * and printf-style helpers. Guest stdout/stderr arrive in arbitrary pieces; srv_linebuf joins them
 * into lines before they reach the log. */
#ifndef SRV_LOG_H
#define SRV_LOG_H

#include <stddef.h>
#include <stdint.h>

typedef void (*srv_log_fn)(void *user, const char *line);

typedef struct srv_log {
    srv_log_fn fn; /* called from any thread; must be thread-safe */
    void *user;
    int verbosity; /* 0 errors and guest output, 1 one line per request, 2 details */
} srv_log;

/* The default sink: the line and a newline to stderr, in one write. */
void srv_log_stderr(void *user, const char *line);

/* Formats one line and hands it to the log (long lines are allocated, not truncated). */
void srv_logf(const srv_log *log, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Accumulates guest output for one stream and logs it line by line as "<prefix><line>". */
typedef struct srv_linebuf {
    const srv_log *log;
    const char *trace, *label; /* lines go out as "[<first 8 of trace>] <label> | <line>" */
    char *buf;
    size_t len, cap;
} srv_linebuf;

/* `trace` and `label` must outlive the buffer (they are formatted only when a line goes out). */
void srv_linebuf_init(srv_linebuf *lb, const srv_log *log, const char *trace, const char *label);
/* Appends bytes; complete lines are logged at once. Lines longer than 16 KiB are split. */
void srv_linebuf_write(srv_linebuf *lb, const uint8_t *data, size_t len);
/* Logs a pending partial line and frees the buffer. */
void srv_linebuf_deinit(srv_linebuf *lb);

#endif
