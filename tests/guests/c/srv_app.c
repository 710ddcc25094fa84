/* srv_app.c: test guest for the HTTP server end-to-end tests, routed by URL path:
 * /echo streams the request body back, /count answers the body's byte count, /gen?n=N streams N
 * bytes (unknown length), /fixed?n=N sends N bytes with a known length, /info lists method, URL,
 * client IP and headers, /env the FASTLY_* variables, /status?code=N, /nothing sends no response,
 * /edge reports the compliance region and whether the Fastly-Key is valid, /trap traps,
 * /trap-after-head traps mid-stream, /abandon-stream abandons its streaming body mid-way, /spin
 * never ends, /sleep waits 600 ms without using CPU, /print writes to stdout/stderr,
 * /close?how=keepalive|header asks for the connection to close after the response
 * (http_keepalive_mode no_keepalive, or its own `Connection: close`). */
#include "fastly_hostcalls.h"
#include "guest_util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

extern char **environ;

static char url[4096];
static uint8_t buf[65536];

static long query_num(const char *name, long dflt)
{
    return (long)gu_query_num(url, name, dflt);
}

static int path_is(const char *want)
{
    return gu_path_is(url, want);
}

static void add_header(fastly_response_handle r, const char *name, const char *value)
{
    fastly_http_resp_header_insert(r, (const uint8_t *)name, strlen(name), (const uint8_t *)value,
                                   strlen(value));
}

static void write_all(fastly_body_handle b, const void *data, size_t len)
{
    gu_write_all(b, data, len);
}

static void write_str(fastly_body_handle b, const char *s)
{
    write_all(b, s, strlen(s));
}

/* Starts a response: streaming ones go out now, buffered ones at send(). */
static fastly_response_handle resp_new(uint16_t status, fastly_body_handle *body)
{
    fastly_response_handle r;
    fastly_http_resp_new(&r);
    fastly_http_resp_status_set(r, status);
    fastly_http_body_new(body);
    return r;
}

__attribute__((noinline)) static void guest_crash_here(int x)
{
    if (x >= 0)
        __builtin_trap();
}

__attribute__((noinline)) static void guest_call_crash(int x)
{
    guest_crash_here(x);
}

int main(void)
{
    fastly_request_handle req;
    fastly_body_handle req_body;
    fastly_http_req_body_downstream_get(&req, &req_body);
    gu_url(req, url, sizeof url);

    if (path_is("/nothing"))
        return 0;
    if (path_is("/trap"))
        guest_call_crash(1);
    if (path_is("/spin")) {
        volatile unsigned long i = 0;
        for (;;)
            i++;
    }
    if (path_is("/sleep")) {
        fprintf(stderr, "sleeping\n"); /* tests wait for this line to know the guest runs */
        usleep(600 * 1000);            /* WASI poll_oneoff: blocked, not computing */
    }
    if (path_is("/print")) {
        printf("hello from the guest's stdout\n");
        fprintf(stderr, "and from its stderr\n");
        return 0;
    }
    fastly_body_handle body;
    if (path_is("/echo")) {
        fastly_response_handle r = resp_new(200, &body);
        add_header(r, "content-type", "application/octet-stream");
        fastly_http_resp_send_downstream(r, body, 1);
        for (;;) {
            size_t got = 0;
            if (fastly_http_body_read(req_body, buf, sizeof buf, &got) != 0 || got == 0)
                break;
            write_all(body, buf, got);
        }
        fastly_http_body_close(body);
        return 0;
    }
    if (path_is("/count")) {
        unsigned long long total = 0;
        for (;;) {
            size_t got = 0;
            if (fastly_http_body_read(req_body, buf, sizeof buf, &got) != 0 || got == 0)
                break;
            total += got;
        }
        fastly_response_handle r = resp_new(200, &body);
        char text[64];
        snprintf(text, sizeof text, "%llu\n", total);
        write_str(body, text);
        fastly_http_resp_send_downstream(r, body, 0);
        return 0;
    }
    if (path_is("/gen") || path_is("/trap-after-head") || path_is("/abandon-stream")) {
        long total = query_num("n", 1000);
        fastly_response_handle r = resp_new(200, &body);
        fastly_http_resp_send_downstream(r, body, 1);
        for (size_t i = 0; i < sizeof buf; i++)
            buf[i] = (uint8_t)('a' + i % 26);
        for (long left = total; left > 0;) {
            size_t k = left < (long)sizeof buf ? (size_t)left : sizeof buf;
            write_all(body, buf, k);
            left -= (long)k;
        }
        if (path_is("/trap-after-head"))
            guest_call_crash(2);
        if (path_is("/abandon-stream")) {
            fastly_http_body_abandon(body); /* the client must see a cut-short response */
            return 0;
        }
        fastly_http_body_close(body);
        return 0;
    }
    if (path_is("/fixed")) {
        long total = query_num("n", 1000);
        fastly_response_handle r = resp_new(200, &body);
        for (size_t i = 0; i < sizeof buf; i++)
            buf[i] = (uint8_t)('A' + i % 26);
        for (long left = total; left > 0;) {
            size_t k = left < (long)sizeof buf ? (size_t)left : sizeof buf;
            write_all(body, buf, k);
            left -= (long)k;
        }
        fastly_http_resp_send_downstream(r, body, 0);
        return 0;
    }
    if (path_is("/close")) {
        fastly_response_handle r = resp_new(200, &body);
        if (strstr(url, "how=header"))
            add_header(r, "connection", "close");
        else
            fastly_http_resp_http_keepalive_mode_set(r, FASTLY_HTTP_KEEPALIVE_MODE_NO_KEEPALIVE);
        write_str(body, "closing\n");
        fastly_http_resp_send_downstream(r, body, 0);
        return 0;
    }
    if (path_is("/status")) {
        fastly_response_handle r = resp_new((uint16_t)query_num("code", 200), &body);
        add_header(r, "x-guest", "srv_app");
        write_str(body, "status page\n");
        fastly_http_resp_send_downstream(r, body, 0);
        return 0;
    }
    if (path_is("/env")) {
        fastly_response_handle r = resp_new(200, &body);
        for (char **e = environ; *e; e++) {
            write_str(body, *e);
            write_str(body, "\n");
        }
        fastly_http_resp_send_downstream(r, body, 0);
        return 0;
    }
    if (path_is("/edge")) {
        /* settings that come from the embedding configuration */
        char region[64];
        size_t rn = 0;
        uint32_t valid = 2;
        fastly_http_downstream_downstream_compliance_region(req, region, sizeof region - 1, &rn);
        region[rn] = '\0';
        fastly_http_downstream_fastly_key_is_valid(req, &valid);
        char line[128];
        snprintf(line, sizeof line, "region=%s key_valid=%u\n", region, (unsigned)valid);
        fastly_response_handle r = resp_new(200, &body);
        write_str(body, line);
        fastly_http_resp_send_downstream(r, body, 0);
        return 0;
    }
    /* /info and anything else: the request as the guest sees it */
    fastly_response_handle r = resp_new(200, &body);
    add_header(r, "content-type", "text/plain");
    char line[8192];
    char method[32];
    size_t n = 0;
    fastly_http_req_method_get(req, method, sizeof method - 1, &n);
    method[n] = '\0';
    snprintf(line, sizeof line, "method: %s\nurl: %s\n", method, url);
    write_str(body, line);
    char ipc[16];
    size_t iplen = 0;
    if (fastly_http_req_downstream_client_ip_addr(ipc, &iplen) == 0 && iplen == 4) {
        const uint8_t *ip = (const uint8_t *)ipc;
        snprintf(line, sizeof line, "client: %u.%u.%u.%u\n", ip[0], ip[1], ip[2], ip[3]);
        write_str(body, line);
    }
    static char names[8192];
    int64_t next = 0;
    while (next >= 0) {
        size_t len = 0;
        if (fastly_http_req_header_names_get(req, names, sizeof names, (uint32_t)next, &next,
                                             &len) != 0)
            break;
        for (size_t off = 0; off < len;) {
            const char *name = names + off;
            size_t nl = strlen(name);
            char value[4096];
            size_t vl = 0;
            if (fastly_http_req_header_value_get(req, (const uint8_t *)name, nl, value,
                                                 sizeof value - 1, &vl) == 0) {
                value[vl] = '\0';
                snprintf(line, sizeof line, "header: %s: %s\n", name, value);
                write_str(body, line);
            }
            off += nl + 1;
        }
    }
    fastly_http_resp_send_downstream(r, body, 0);
    return 0;
}
