/* test_srv_log.c: srv_linebuf (src/server/srv_log.c), which joins guest output arriving in
 * pieces into whole log lines: pieces of one line, several lines in one write, a CR before the
 * newline, a partial line flushed at deinit, and a line over 16 KiB split at 16 KiB. */
#include "harness.h"

#include "server/srv_log.h"

#include <string.h>

#define MAX_LINES 8

typedef struct captured {
    char *lines[MAX_LINES];
    int n;
} captured;

static void capture(void *user, const char *line)
{
    captured *c = user;
    if (c->n < MAX_LINES)
        c->lines[c->n] = strdup(line);
    c->n++;
}

static void captured_free(captured *c)
{
    for (int i = 0; i < c->n && i < MAX_LINES; i++)
        free(c->lines[i]);
    c->n = 0;
}

static void put(srv_linebuf *lb, const char *s)
{
    srv_linebuf_write(lb, (const uint8_t *)s, strlen(s));
}

TEST(pieces_join_into_lines)
{
    captured c = {0};
    srv_log log = {capture, &c, 0};
    srv_linebuf lb;
    srv_linebuf_init(&lb, &log, "0123456789abcdef", "stdout");
    put(&lb, "hel");
    put(&lb, "lo ");
    CHECK_EQ_INT(c.n, 0); /* nothing goes out before the newline */
    put(&lb, "world\r\nsecond line\nthi");
    CHECK_EQ_INT(c.n, 2);
    put(&lb, "rd");
    srv_linebuf_deinit(&lb); /* the partial line goes out too */
    CHECK_EQ_INT(c.n, 3);
    if (c.n == 3) {
        CHECK(strcmp(c.lines[0], "[01234567] stdout | hello world") == 0);
        CHECK(strcmp(c.lines[1], "[01234567] stdout | second line") == 0);
        CHECK(strcmp(c.lines[2], "[01234567] stdout | third") == 0);
    }
    captured_free(&c);
}

TEST(a_long_line_is_split_at_16_kib)
{
    captured c = {0};
    srv_log log = {capture, &c, 0};
    srv_linebuf lb;
    srv_linebuf_init(&lb, &log, "trace", "stderr");
    const size_t total = 16 * 1024 + 100;
    char *piece = malloc(1000);
    memset(piece, 'x', 1000);
    size_t sent = 0;
    while (sent < total) { /* in pieces, so the buffer grows several times */
        size_t n = total - sent < 1000 ? total - sent : 1000;
        srv_linebuf_write(&lb, (const uint8_t *)piece, n);
        sent += n;
    }
    put(&lb, "\n");
    srv_linebuf_deinit(&lb);
    free(piece);
    const size_t prefix = strlen("[trace] stderr | ");
    CHECK_EQ_INT(c.n, 2);
    if (c.n == 2) {
        CHECK_EQ_INT(strlen(c.lines[0]), prefix + 16 * 1024);
        CHECK_EQ_INT(strlen(c.lines[1]), prefix + 100);
        CHECK(strspn(c.lines[0] + prefix, "x") == 16 * 1024);
    }
    captured_free(&c);
}

HARNESS_MAIN(RUN(pieces_join_into_lines); RUN(a_long_line_is_split_at_16_kib);)
