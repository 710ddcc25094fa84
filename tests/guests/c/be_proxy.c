/* be_proxy.c: C test guest for the backend tests (tests/unit/backend/test_backend.c). The
 * downstream request's headers choose what it does:
 *   x-backend: NAME   the backend (default "origin")
 *   x-mode: send      (default) send the downstream request and body with send (v1) and pass the
 *                     response through with send_downstream (non-streaming), adding
 *                     x-be-version (the response's fastly_http_version); an error answers 503
 *                     with x-send-status
 *   x-mode: send_v2   the same with send_v2; x-send-detail carries the error detail tag (also on
 *                     success, where it must be OK = 1)
 *   x-mode: copy      send, then copy the body in a loop into a streaming downstream response
 *   x-mode: select    x-count (default 4) send_async requests to /slow?first=(count-i)*x-step-ms,
 *                     collected with pending_req_select; body "i status\n" in completion order
 *   x-mode: aio       the same with fastly_async_io.select (timeout 10 s) + pending_req_wait, plus
 *                     is_ready checks and a 50 ms select that must time out first
 *   x-mode: stream_up send_async_streaming of x-up-bytes pattern bytes to /echo, written while the
 *                     request is in flight, then pass the origin's answer through
 *   x-mode: dynamic   register_dynamic_backend(x-dyn-name, x-dyn-target) with the options in
 * x-dyn-* headers (tls, host-override, sni, cert-hostname, connect/first-byte/between- bytes
 * timeouts, the CA as the request body), then like send_v2 to that name with the fastly_backend
 * getters in x-be-* response headers x-mode: info      no send: the fastly_backend getters for
 * x-backend in x-be-* headers
 *   x-mode: pending   send_async, queue header edits for the pending response (x-edit-any: any,
 * x-edit-resp: only an origin response, x-edit-err: only the synthetic 5XX, x-echo-url removed
 * from an origin response, x-edit-twice appended then replaced), then send_downstream_pending;
 * an invalid edit or handle ends the guest without a response (the server answers 500)
 *   x-mode: trailers  send (to e.g. /trailers?t=...), then the response body's trailers:
 *                     x-tr-before the status of trailer_names_get before the body was read
 *                     (again), x-tr-bytes the body length, x-tr-names the names (comma-separated,
 *                     or "(none)"), x-tr-value-<name> and x-tr-values-<name> (comma-separated) for
 *                     each name, x-tr-missing the status of trailer_value_get for an absent name
 *   x-mode: trailers_up
 *                     POST "hello" to /echo/trailers-up with trailer_append(x-up-a: 1, x-up-b: 2)
 *                     on the body and pass the origin's answer through; x-streaming: 1 does it
 *                     with send_async_streaming, appending the trailers to the streaming body
 * x-dyn-no-sni: 1 (with x-mode: dynamic) sets the SNI hostname option with an empty name.
 *   x-mode: select_fail
 *                     register the dynamic backend "dead" at x-dyn-target (where nothing listens),
 *                     send_async to it and to x-backend's /slow?first=300, then pending_req_select
 *                     (v1, or v2 with x-v2: 1) twice; each round is a line "st idx resp body
 *                     detail" (resp/body "ok" or "invalid", detail the tag, 0 for v1)
 */
#include "be_pattern.h"
#include "fastly_hostcalls.h"
#include "guest_util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static fastly_request_handle req;
static fastly_body_handle req_body;
static uint8_t buf[65536];

static size_t hdr(const char *name, char *out, size_t max)
{
    size_t n = 0;
    if (fastly_http_req_header_value_get(req, (const uint8_t *)name, strlen(name), out, max - 1,
                                         &n) != 0)
        n = 0;
    out[n] = '\0';
    return n;
}

static long hdr_num(const char *name, long dflt)
{
    char v[64];
    return hdr(name, v, sizeof v) ? strtol(v, NULL, 10) : dflt;
}

static void set(fastly_response_handle r, const char *name, const char *value)
{
    fastly_http_resp_header_insert(r, (const uint8_t *)name, strlen(name), (const uint8_t *)value,
                                   strlen(value));
}

static void set_num(fastly_response_handle r, const char *name, long long v)
{
    char text[32];
    snprintf(text, sizeof text, "%lld", v);
    set(r, name, text);
}

static void write_all(fastly_body_handle b, const void *data, size_t len)
{
    gu_write_all(b, data, len);
}

static void answer(uint16_t status, const char *text, fastly_response_handle r)
{
    fastly_body_handle b;
    if (r == FASTLY_INVALID_HANDLE)
        fastly_http_resp_new(&r);
    fastly_http_resp_status_set(r, status);
    fastly_http_body_new(&b);
    write_all(b, text, strlen(text));
    fastly_http_resp_send_downstream(r, b, 0);
}

static void getters(fastly_response_handle r, const char *be)
{
    size_t n = strlen(be), w = 0;
    uint32_t u = 0;
    uint16_t port = 0;
    char text[256];
    set_num(r, "x-be-exists-st", fastly_backend_exists(be, n, &u));
    set_num(r, "x-be-exists", u);
    u = 99;
    set_num(r, "x-be-healthy-st", fastly_backend_is_healthy(be, n, &u));
    set_num(r, "x-be-healthy", u);
    u = 99;
    set_num(r, "x-be-dynamic-st", fastly_backend_is_dynamic(be, n, &u));
    set_num(r, "x-be-dynamic", u);
    int st = fastly_backend_get_host(be, n, text, sizeof text - 1, &w);
    set_num(r, "x-be-host-st", st);
    text[st == 0 ? w : 0] = '\0';
    set(r, "x-be-host", text);
    w = 0;
    st = fastly_backend_get_override_host(be, n, text, sizeof text - 1, &w);
    set_num(r, "x-be-override-host-st", st);
    text[st == 0 ? w : 0] = '\0';
    set(r, "x-be-override-host", text);
    set_num(r, "x-be-port-st", fastly_backend_get_port(be, n, &port));
    set_num(r, "x-be-port", port);
    u = 99;
    set_num(r, "x-be-ssl-st", fastly_backend_is_ssl(be, n, &u));
    set_num(r, "x-be-ssl", u);
    u = 0;
    set_num(r, "x-be-connect-timeout-st", fastly_backend_get_connect_timeout_ms(be, n, &u));
    set_num(r, "x-be-connect-timeout", u);
    u = 0;
    set_num(r, "x-be-first-byte-timeout-st", fastly_backend_get_first_byte_timeout_ms(be, n, &u));
    set_num(r, "x-be-first-byte-timeout", u);
    u = 0;
    set_num(r, "x-be-between-bytes-timeout-st",
            fastly_backend_get_between_bytes_timeout_ms(be, n, &u));
    set_num(r, "x-be-between-bytes-timeout", u);
}

static void send_v2_to(const char *be, int with_getters)
{
    fastly_send_error_detail d = {.tag = FASTLY_SEND_ERROR_DETAIL_TAG_UNINITIALIZED};
    fastly_response_handle r = FASTLY_INVALID_HANDLE;
    fastly_body_handle b = FASTLY_INVALID_HANDLE;
    int st = fastly_http_req_send_v2(req, req_body, be, strlen(be), &d, &r, &b);
    if (st != 0) {
        char text[96];
        snprintf(text, sizeof text, "send_v2 failed: status %d detail %u\n", st, d.tag);
        fastly_response_handle e;
        fastly_http_resp_new(&e);
        set_num(e, "x-send-status", st);
        set_num(e, "x-send-detail", d.tag);
        if (with_getters)
            getters(e, be);
        answer(503, text, e);
        return;
    }
    set_num(r, "x-send-detail", d.tag);
    if (with_getters)
        getters(r, be);
    fastly_http_resp_send_downstream(r, b, 0);
}

static void mode_select(const char *be, int use_aio)
{
    enum { MAX = 16 };
    long count = hdr_num("x-count", 4), step = hdr_num("x-step-ms", 150);
    if (count < 1 || count > MAX)
        count = 4;
    fastly_pending_request_handle p[MAX];
    char line[128], out[2048] = "";
    size_t used = 0;
    for (long i = 0; i < count; i++) {
        fastly_request_handle r;
        fastly_body_handle b;
        fastly_http_req_new(&r);
        fastly_http_body_new(&b);
        char u[160];
        snprintf(u, sizeof u, "http://origin.test/slow?first=%ld&n=4&chunk=4", (count - i) * step);
        fastly_http_req_uri_set(r, u, strlen(u));
        int st = fastly_http_req_send_async(r, b, be, strlen(be), &p[i]);
        if (st != 0) {
            snprintf(line, sizeof line, "send_async %ld failed: %d\n", i, st);
            answer(503, line, FASTLY_INVALID_HANDLE);
            return;
        }
    }
    if (use_aio) {
        uint32_t ready = 0, done = 7;
        /* nothing can be ready within 50 ms: the fastest answer takes one step */
        int st = fastly_async_io_select(p, (size_t)count, 50, &ready);
        used += (size_t)snprintf(out + used, sizeof out - used, "timeout-select %d %u\n", st,
                                 (unsigned)ready);
        st = fastly_async_io_is_ready(p[0], &done);
        used += (size_t)snprintf(out + used, sizeof out - used, "is_ready %d %u\n", st, done);
    }
    int live[MAX];
    for (long i = 0; i < count; i++)
        live[i] = 1;
    fastly_pending_request_handle left[MAX];
    long idx[MAX];
    for (long round = 0; round < count; round++) {
        size_t n = 0;
        for (long i = 0; i < count; i++)
            if (live[i]) {
                left[n] = p[i];
                idx[n++] = i;
            }
        uint32_t which = 0;
        fastly_response_handle r = FASTLY_INVALID_HANDLE;
        fastly_body_handle b = FASTLY_INVALID_HANDLE;
        int st;
        if (use_aio) {
            st = fastly_async_io_select(left, n, 10000, &which);
            if (st == 0 && which < n) {
                uint32_t done = 0;
                fastly_async_io_is_ready(left[which], &done);
                if (!done)
                    used += (size_t)snprintf(out + used, sizeof out - used, "not-ready?\n");
                st = fastly_http_req_pending_req_wait(left[which], &r, &b);
            }
        } else {
            st = fastly_http_req_pending_req_select(left, n, &which, &r, &b);
        }
        if (st != 0 || which >= n) {
            used += (size_t)snprintf(out + used, sizeof out - used, "select failed %d %u\n", st,
                                     (unsigned)which);
            break;
        }
        uint16_t status = 0;
        fastly_http_resp_status_get(r, &status);
        size_t got = 0, total = 0;
        while (fastly_http_body_read(b, buf, sizeof buf, &got) == 0 && got > 0)
            total += got;
        live[idx[which]] = 0;
        used += (size_t)snprintf(out + used, sizeof out - used, "%ld %u %zu\n", idx[which],
                                 (unsigned)status, total);
    }
    answer(200, out, FASTLY_INVALID_HANDLE);
}

static void mode_stream_up(const char *be)
{
    long total = hdr_num("x-up-bytes", 1 << 20);
    fastly_request_handle r;
    fastly_body_handle b;
    fastly_http_req_new(&r);
    fastly_http_body_new(&b);
    const char *u = "http://origin.test/echo/stream-up";
    fastly_http_req_uri_set(r, u, strlen(u));
    fastly_http_req_method_set(r, "POST", 4);
    fastly_pending_request_handle p;
    int st = fastly_http_req_send_async_streaming(r, b, be, strlen(be), &p);
    if (st != 0) {
        answer(503, "send_async_streaming failed\n", FASTLY_INVALID_HANDLE);
        return;
    }
    /* the request is in flight while the guest produces its body */
    for (long off = 0; off < total;) {
        size_t k = total - off < (long)sizeof buf ? (size_t)(total - off) : sizeof buf;
        be_pattern_fill((uint64_t)off, buf, k);
        write_all(b, buf, k);
        off += (long)k;
    }
    fastly_http_body_close(b);
    fastly_response_handle resp;
    fastly_body_handle rb;
    st = fastly_http_req_pending_req_wait(p, &resp, &rb);
    if (st != 0) {
        answer(503, "pending_req_wait failed\n", FASTLY_INVALID_HANDLE);
        return;
    }
    fastly_http_resp_send_downstream(resp, rb, 0);
}

static void mode_dynamic(void)
{
    static char name[128], target[256], host_override[256], sni[256], certhost[256];
    static char ca[65536];
    hdr("x-dyn-name", name, sizeof name);
    hdr("x-dyn-target", target, sizeof target);
    fastly_dynamic_backend_config cfg;
    memset(&cfg, 0, sizeof cfg);
    uint32_t mask = 0;
    if (hdr("x-dyn-host-override", host_override, sizeof host_override)) {
        mask |= FASTLY_BACKEND_CONFIG_OPTIONS_HOST_OVERRIDE;
        cfg.host_override = host_override;
        cfg.host_override_len = (uint32_t)strlen(host_override);
    }
    long v;
    if ((v = hdr_num("x-dyn-connect-timeout", -1)) >= 0) {
        mask |= FASTLY_BACKEND_CONFIG_OPTIONS_CONNECT_TIMEOUT;
        cfg.connect_timeout_ms = (uint32_t)v;
    }
    if ((v = hdr_num("x-dyn-first-byte-timeout", -1)) >= 0) {
        mask |= FASTLY_BACKEND_CONFIG_OPTIONS_FIRST_BYTE_TIMEOUT;
        cfg.first_byte_timeout_ms = (uint32_t)v;
    }
    if ((v = hdr_num("x-dyn-between-bytes-timeout", -1)) >= 0) {
        mask |= FASTLY_BACKEND_CONFIG_OPTIONS_BETWEEN_BYTES_TIMEOUT;
        cfg.between_bytes_timeout_ms = (uint32_t)v;
    }
    if (hdr_num("x-dyn-tls", 0)) {
        mask |= FASTLY_BACKEND_CONFIG_OPTIONS_USE_SSL;
        size_t n = 0, got = 0;
        while (n < sizeof ca - 1 &&
               fastly_http_body_read(req_body, (uint8_t *)ca + n, sizeof ca - 1 - n, &got) == 0 &&
               got > 0)
            n += got;
        if (n > 0) {
            mask |= FASTLY_BACKEND_CONFIG_OPTIONS_CA_CERT;
            cfg.ca_cert = ca;
            cfg.ca_cert_len = (uint32_t)n;
        }
        fastly_http_body_close(req_body);
        fastly_http_body_new(&req_body);
    }
    if (hdr_num("x-dyn-no-sni", 0)) {
        mask |= FASTLY_BACKEND_CONFIG_OPTIONS_SNI_HOSTNAME;
        cfg.sni_hostname = sni;
        cfg.sni_hostname_len = 0;
    } else if (hdr("x-dyn-sni", sni, sizeof sni)) {
        mask |= FASTLY_BACKEND_CONFIG_OPTIONS_SNI_HOSTNAME;
        cfg.sni_hostname = sni;
        cfg.sni_hostname_len = (uint32_t)strlen(sni);
    }
    if (hdr("x-dyn-cert-hostname", certhost, sizeof certhost)) {
        mask |= FASTLY_BACKEND_CONFIG_OPTIONS_CERT_HOSTNAME;
        cfg.cert_hostname = certhost;
        cfg.cert_hostname_len = (uint32_t)strlen(certhost);
    }
    int st = fastly_http_req_register_dynamic_backend(name, strlen(name), target, strlen(target),
                                                      mask, &cfg);
    if (st != 0) {
        fastly_response_handle e;
        fastly_http_resp_new(&e);
        set_num(e, "x-register-status", st);
        answer(500, "register_dynamic_backend failed\n", e);
        return;
    }
    send_v2_to(name, 1);
}

static void mode_select_fail(const char *be)
{
    static char target[256];
    hdr("x-dyn-target", target, sizeof target);
    fastly_dynamic_backend_config cfg;
    memset(&cfg, 0, sizeof cfg);
    char out[512] = "";
    size_t used = 0;
    int st = fastly_http_req_register_dynamic_backend("dead", 4, target, strlen(target), 0, &cfg);
    if (st != 0) {
        answer(500, "register_dynamic_backend failed\n", FASTLY_INVALID_HANDLE);
        return;
    }
    fastly_pending_request_handle p[2];
    const char *names[2] = {"dead", be};
    for (int i = 0; i < 2; i++) {
        fastly_request_handle r;
        fastly_body_handle b;
        fastly_http_req_new(&r);
        fastly_http_body_new(&b);
        const char *u = "http://origin.test/slow?first=300&n=4&chunk=4";
        fastly_http_req_uri_set(r, u, strlen(u));
        if (fastly_http_req_send_async(r, b, names[i], strlen(names[i]), &p[i]) != 0) {
            answer(503, "send_async failed\n", FASTLY_INVALID_HANDLE);
            return;
        }
    }
    int v2 = hdr_num("x-v2", 0) != 0;
    size_t n = 2;
    for (int round = 0; round < 2; round++) {
        fastly_send_error_detail d = {.tag = FASTLY_SEND_ERROR_DETAIL_TAG_UNINITIALIZED};
        uint32_t which = 99;
        fastly_response_handle r = 7;
        fastly_body_handle b = 7;
        st = v2 ? fastly_http_req_pending_req_select_v2(p, n, &d, &which, &r, &b)
                : fastly_http_req_pending_req_select(p, n, &which, &r, &b);
        used += (size_t)snprintf(out + used, sizeof out - used, "%d %u %s %s %u\n", st,
                                 (unsigned)which, r == FASTLY_INVALID_HANDLE ? "invalid" : "ok",
                                 b == FASTLY_INVALID_HANDLE ? "invalid" : "ok", (unsigned)d.tag);
        if (st != 0 || which >= n)
            break;
        if (which == 0)
            p[0] = p[1];
        n--;
    }
    answer(200, out, FASTLY_INVALID_HANDLE);
}

/* Splits a NUL-separated list (as the multi-value getters write it) into "a,b,c". */
static void join_list(char *list, size_t n)
{
    for (size_t i = 0; i + 1 < n; i++)
        if (list[i] == '\0')
            list[i] = ',';
    list[n ? n - 1 : 0] = '\0';
}

static void mode_trailers(const char *be)
{
    fastly_response_handle r = FASTLY_INVALID_HANDLE;
    fastly_body_handle b = FASTLY_INVALID_HANDLE;
    int st = fastly_http_req_send(req, req_body, be, strlen(be), &r, &b);
    if (st != 0) {
        answer(503, "send failed\n", FASTLY_INVALID_HANDLE);
        return;
    }
    fastly_response_handle out;
    fastly_http_resp_new(&out);
    static char names[4096], value[1024], tmp[300];
    size_t nw = 0;
    int64_t ending = 0;
    set_num(out, "x-tr-before",
            fastly_http_body_trailer_names_get(b, names, sizeof names, 0, &ending, &nw));
    size_t got = 0, total = 0;
    while (fastly_http_body_read(b, buf, sizeof buf, &got) == 0 && got > 0)
        total += got;
    set_num(out, "x-tr-bytes", (long long)total);
    nw = 0;
    st = fastly_http_body_trailer_names_get(b, names, sizeof names, 0, &ending, &nw);
    set_num(out, "x-tr-names-st", st);
    if (st == 0) {
        /* each name: its first value and all its values */
        for (size_t off = 0; off < nw;) {
            const char *name = names + off;
            size_t len = strlen(name);
            size_t vn = 0;
            if (fastly_http_body_trailer_value_get(b, (const uint8_t *)name, len, value,
                                                   sizeof value - 1, &vn) == 0) {
                value[vn] = '\0';
                snprintf(tmp, sizeof tmp, "x-tr-value-%s", name);
                set(out, tmp, value);
            }
            vn = 0;
            if (fastly_http_body_trailer_values_get(b, (const uint8_t *)name, len, value,
                                                    sizeof value, 0, &ending, &vn) == 0) {
                join_list(value, vn);
                snprintf(tmp, sizeof tmp, "x-tr-values-%s", name);
                set(out, tmp, value);
            }
            off += len + 1;
        }
        join_list(names, nw);
        set(out, "x-tr-names", nw ? names : "(none)");
    }
    size_t vn = 0;
    set_num(out, "x-tr-missing",
            fastly_http_body_trailer_value_get(b, (const uint8_t *)"x-nope", 6, value, sizeof value,
                                               &vn));
    answer(200, "trailers\n", out);
}

static void mode_trailers_up(const char *be)
{
    fastly_request_handle r;
    fastly_body_handle b;
    fastly_http_req_new(&r);
    fastly_http_body_new(&b);
    const char *u = "http://origin.test/echo/trailers-up";
    fastly_http_req_uri_set(r, u, strlen(u));
    fastly_http_req_method_set(r, "POST", 4);
    fastly_response_handle resp = FASTLY_INVALID_HANDLE;
    fastly_body_handle rb = FASTLY_INVALID_HANDLE;
    int st;
    if (hdr_num("x-streaming", 0)) {
        fastly_pending_request_handle p;
        st = fastly_http_req_send_async_streaming(r, b, be, strlen(be), &p);
        if (st == 0) {
            write_all(b, "hello", 5);
            st = fastly_http_body_trailer_append(b, (const uint8_t *)"x-up-a", 6,
                                                 (const uint8_t *)"1", 1);
            st |= fastly_http_body_trailer_append(b, (const uint8_t *)"x-up-b", 6,
                                                  (const uint8_t *)"2", 1);
            /* reading trailers of a body being written is not a thing */
            size_t nw = 0;
            int64_t ending = 0;
            static char names[64];
            if (fastly_http_body_trailer_names_get(b, names, sizeof names, 0, &ending, &nw) !=
                FASTLY_FASTLY_STATUS_INVAL)
                st = 99;
            fastly_http_body_close(b);
            if (st == 0)
                st = fastly_http_req_pending_req_wait(p, &resp, &rb);
        }
    } else {
        write_all(b, "hello", 5);
        st = fastly_http_body_trailer_append(b, (const uint8_t *)"x-up-a", 6, (const uint8_t *)"1",
                                             1);
        st |= fastly_http_body_trailer_append(b, (const uint8_t *)"x-up-b", 6, (const uint8_t *)"2",
                                              1);
        if (st == 0)
            st = fastly_http_req_send(r, b, be, strlen(be), &resp, &rb);
    }
    if (st != 0) {
        fastly_response_handle e;
        fastly_http_resp_new(&e);
        set_num(e, "x-send-status", st);
        answer(503, "trailers_up failed\n", e);
        return;
    }
    fastly_http_resp_send_downstream(resp, rb, 0);
}

#define EDIT(fn, p, name, value, target)                                                           \
    fn(p, (const uint8_t *)(name), strlen(name), (const uint8_t *)(value), strlen(value), target)

static int mode_pending(const char *be)
{
    fastly_pending_request_handle p;
    int st = fastly_http_req_send_async(req, req_body, be, strlen(be), &p);
    if (st != 0) {
        fastly_response_handle e;
        fastly_http_resp_new(&e);
        set_num(e, "x-send-status", st);
        answer(503, "send_async failed\n", e);
        return 0;
    }
    EDIT(fastly_http_req_pending_req_header_insert, p, "x-edit-any", "yes",
         FASTLY_PENDING_RESPONSE_KIND_ANY);
    EDIT(fastly_http_req_pending_req_header_append, p, "x-edit-resp", "origin",
         FASTLY_PENDING_RESPONSE_KIND_RESPONSE);
    EDIT(fastly_http_req_pending_req_header_append, p, "x-edit-err", "synthetic",
         FASTLY_PENDING_RESPONSE_KIND_ERROR);
    fastly_http_req_pending_req_header_remove(p, (const uint8_t *)"x-echo-url", 10,
                                              FASTLY_PENDING_RESPONSE_KIND_RESPONSE);
    EDIT(fastly_http_req_pending_req_header_append, p, "x-edit-twice", "first",
         FASTLY_PENDING_RESPONSE_KIND_ANY);
    EDIT(fastly_http_req_pending_req_header_insert, p, "x-edit-twice", "second",
         FASTLY_PENDING_RESPONSE_KIND_ANY);
    /* a bad target and a bad header name are inval */
    if (EDIT(fastly_http_req_pending_req_header_insert, p, "x-ok", "v", 7) !=
            FASTLY_FASTLY_STATUS_INVAL ||
        EDIT(fastly_http_req_pending_req_header_insert, p, "bad name", "v", 0) !=
            FASTLY_FASTLY_STATUS_INVAL)
        return 3;
    /* an unknown handle is badf (checked before anything goes downstream) */
    if (fastly_http_resp_send_downstream_pending(p + 1000) != FASTLY_FASTLY_STATUS_BADF)
        return 5;
    return fastly_http_resp_send_downstream_pending(p) == 0 ? 0 : 4;
}

int main(void)
{
    fastly_http_req_body_downstream_get(&req, &req_body);
    char mode[32], be[128];
    hdr("x-mode", mode, sizeof mode);
    if (!hdr("x-backend", be, sizeof be))
        memcpy(be, "origin", 7);
    if (strcmp(mode, "send_v2") == 0) {
        send_v2_to(be, 0);
    } else if (strcmp(mode, "select_fail") == 0) {
        mode_select_fail(be);
    } else if (strcmp(mode, "select") == 0) {
        mode_select(be, 0);
    } else if (strcmp(mode, "aio") == 0) {
        mode_select(be, 1);
    } else if (strcmp(mode, "stream_up") == 0) {
        mode_stream_up(be);
    } else if (strcmp(mode, "dynamic") == 0) {
        mode_dynamic();
    } else if (strcmp(mode, "pending") == 0) {
        return mode_pending(be);
    } else if (strcmp(mode, "trailers") == 0) {
        mode_trailers(be);
    } else if (strcmp(mode, "trailers_up") == 0) {
        mode_trailers_up(be);
    } else if (strcmp(mode, "info") == 0) {
        fastly_response_handle r;
        fastly_http_resp_new(&r);
        getters(r, be);
        answer(200, "info\n", r);
    } else {
        fastly_response_handle r = FASTLY_INVALID_HANDLE;
        fastly_body_handle b = FASTLY_INVALID_HANDLE;
        int st = fastly_http_req_send(req, req_body, be, strlen(be), &r, &b);
        if (st != 0) {
            fastly_response_handle e;
            fastly_http_resp_new(&e);
            set_num(e, "x-send-status", st);
            answer(503, "send failed\n", e);
            return 0;
        }
        fastly_http_version v = 0;
        if (fastly_http_resp_version_get(r, &v) == 0)
            set_num(r, "x-be-version", (int)v); /* 2 = HTTP/1.1, 3 = HTTP/2 */
        if (strcmp(mode, "copy") != 0) {
            fastly_http_resp_send_downstream(r, b, 0);
            return 0;
        }
        fastly_body_handle out;
        fastly_http_body_new(&out);
        fastly_http_resp_send_downstream(r, out, 1);
        size_t got = 0;
        while (fastly_http_body_read(b, buf, sizeof buf, &got) == 0 && got > 0)
            write_all(out, buf, got);
        fastly_http_body_close(out);
    }
    return 0;
}
