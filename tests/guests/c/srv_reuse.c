/* srv_reuse.c: test guest for reusable instances (fastly_http_downstream.next_request), after
 * Viceroy's reusable-sandboxes fixture. Routed by the first request's path:
 *   /reuse[?timeout=MS]  answers "Response #N body=B" (N counts the requests this instance has
 *                        answered, B is the request body), registering for the next request
 *                        before answering; a body "crash!" traps; ends when no request comes.
 *                        With ?select=1 it waits with async_io.select instead of blocking.
 *   /abandon             registers, answers "abandon", sleeps 500 ms, then abandons the promise.
 *   /stream              answers with a streaming body still open and tries next_request_wait.
 *   /meta                answers its request id, closes its request handle, takes one more
 *                        request and answers "id2=ID id1=ST:ID count1=ST:N count2=N": the second
 *                        request's id, then the first one's id and original header count asked
 *                        through the first (closed) handle, and the second's header count.
 * Headers: x-served (N) and x-first-path (the path of the instance's first request). */
#include "fastly_hostcalls.h"
#include "guest_util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char first_path[256];

static long query_num(const char *url, const char *name, long dflt)
{
    return (long)gu_query_num(url, name, dflt);
}

static size_t read_body(fastly_body_handle b, char *out, size_t cap)
{
    size_t len = 0, n = 0;
    while (len + 1 < cap &&
           fastly_http_body_read(b, (uint8_t *)out + len, cap - 1 - len, &n) == 0 && n > 0)
        len += n;
    out[len] = '\0';
    return len;
}

static void add_header(fastly_response_handle r, const char *name, const char *value)
{
    fastly_http_resp_header_insert(r, (const uint8_t *)name, strlen(name), (const uint8_t *)value,
                                   strlen(value));
}

static void respond(const char *text, int served, uint32_t streaming, fastly_body_handle *out)
{
    fastly_response_handle r;
    fastly_body_handle b;
    fastly_http_resp_new(&r);
    fastly_http_body_new(&b);
    char num[16];
    snprintf(num, sizeof num, "%d", served);
    add_header(r, "x-served", num);
    add_header(r, "x-first-path", first_path);
    size_t n;
    fastly_http_body_write(b, (const uint8_t *)text, strlen(text), FASTLY_BODY_WRITE_END_BACK, &n);
    fastly_http_resp_send_downstream(r, b, streaming);
    if (out)
        *out = b;
}

static int register_next(const char *url, fastly_request_promise_handle *p)
{
    fastly_next_request_options opts = {0};
    uint32_t mask = 0;
    long t = query_num(url, "timeout", -1);
    if (t >= 0) {
        opts.timeout_ms = (uint64_t)t;
        mask = 0x2;
    }
    return fastly_http_downstream_next_request(mask, &opts, p);
}

int main(void)
{
    fastly_request_handle req;
    fastly_body_handle body;
    char url[2048], text[4096], reply[4200];
    size_t nw = 0;
    fastly_http_req_body_downstream_get(&req, &body);
    fastly_http_req_uri_get(req, url, sizeof url - 1, &nw);
    url[nw] = '\0';
    snprintf(first_path, sizeof first_path, "%s", gu_path(url));
    char *q = strchr(first_path, '?');
    if (q)
        *q = '\0';
    fastly_request_promise_handle p;

    if (strcmp(first_path, "/abandon") == 0) {
        if (register_next(url, &p) != 0)
            return 1;
        respond("abandon", 1, 0, NULL);
        usleep(500 * 1000);
        return fastly_http_downstream_next_request_abandon(p) == 0 ? 0 : 1;
    }
    if (strcmp(first_path, "/stream") == 0) {
        if (register_next(url, &p) != 0)
            return 1;
        fastly_body_handle sb;
        respond("streaming;", 1, 1, &sb);
        fastly_request_handle r2;
        fastly_body_handle b2;
        int st = fastly_http_downstream_next_request_wait(p, &r2, &b2);
        snprintf(text, sizeof text, " wait while streaming: %d", st);
        fastly_http_body_write(sb, (const uint8_t *)text, strlen(text), FASTLY_BODY_WRITE_END_BACK,
                               &nw);
        fastly_http_body_close(sb);
        return 0;
    }

    if (strcmp(first_path, "/meta") == 0) {
        char id1[64], id1_again[64], id2[64];
        size_t n1 = 0, n1_again = 0, n2 = 0;
        if (fastly_http_downstream_downstream_client_request_id(req, id1, sizeof id1 - 1, &n1) != 0)
            return 1;
        id1[n1] = '\0';
        if (register_next(url, &p) != 0)
            return 1;
        respond(id1, 1, 0, NULL);
        fastly_request_handle req1 = req;
        fastly_http_req_close(req1);
        if (fastly_http_downstream_next_request_wait(p, &req, &body) != 0)
            return 1;
        fastly_http_downstream_downstream_client_request_id(req, id2, sizeof id2 - 1, &n2);
        id2[n2] = '\0';
        int st1 = fastly_http_downstream_downstream_client_request_id(
            req1, id1_again, sizeof id1_again - 1, &n1_again);
        id1_again[st1 == 0 ? n1_again : 0] = '\0';
        uint32_t count1 = 0, count2 = 0;
        int stc = fastly_http_downstream_downstream_original_header_count(req1, &count1);
        fastly_http_downstream_downstream_original_header_count(req, &count2);
        snprintf(reply, sizeof reply, "id2=%s id1=%d:%s count1=%d:%u count2=%u", id2, st1,
                 id1_again, stc, (unsigned)count1, (unsigned)count2);
        respond(reply, 2, 0, NULL);
        return 0;
    }

    int served = 0;
    int use_select = query_num(url, "select", 0) != 0;
    for (;;) {
        read_body(body, text, sizeof text);
        if (strcmp(text, "crash!") == 0)
            __builtin_trap();
        int st = register_next(url, &p);
        served++;
        snprintf(reply, sizeof reply, "Response #%d body=%s", served, text);
        respond(reply, served, 0, NULL);
        if (st != 0)
            return 1;
        if (use_select) {
            uint32_t ready = 0;
            do {
                uint32_t idx = 0;
                if (fastly_async_io_select(&p, 1, 50, &idx) != 0)
                    return 1;
                if (fastly_async_io_is_ready(p, &ready) != 0)
                    return 1;
            } while (!ready);
        }
        st = fastly_http_downstream_next_request_wait(p, &req, &body);
        if (st == 10 /* none */)
            return 0;
        if (st != 0)
            return 1;
    }
}
