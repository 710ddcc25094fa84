/* hc_http_req_send.c: the send family of fastly_http_req: send (v1/v2/v3), send_async (plain, v2,
 * streaming), pending_req_poll/wait/select (v1/v2), and register_dynamic_backend with every option
 * of the witx dynamic_backend_config. A configured backend that cannot be reached answers with
 * the synthetic 502 of the `@N` simulation (as Fastlike does); a dynamic backend's failure is an
 * error status; the v2 calls also fill send_error_detail with the cause (hc_pending.h). A dynamic
 * backend's health check is validated here and run by hc_backend_register (be_health.h). Cache
 * overrides pass through: the cache issue honours them. */
#include "hc_http_req_send.h"
#include "backend/be_ciphers.h"

#include "hc_hostcall.h"
#include "hc_pending.h"
#include "hc_readthrough.h"

#include <stdlib.h>
#include <string.h>

#define MAX_SELECT 4096

static hc_status out_pair(fwe_caller *caller, uint32_t resp_ptr, uint32_t body_ptr, uint32_t resp,
                          uint32_t body)
{
    hc_status st = hc_mem_write_u32(caller, resp_ptr, resp);
    return st == HC_OK ? hc_mem_write_u32(caller, body_ptr, body) : st;
}

/* Backend name argument: inval when outside memory. */
static hc_status backend_arg(fwe_caller *caller, uint32_t ptr, uint32_t len, const char **name)
{
    *name = (const char *)hc_mem_slice(caller, ptr, len);
    return *name || len == 0 ? HC_OK : HC_INVAL;
}

/* send, send_v2, send_v3: detail_ptr 0 for v1; `cached` goes through the readthrough cache
 * (send_v3 does not, as the witx says). */
static hc_status do_send(fwe_caller *caller, uint64_t *slots, bool v2, uint32_t detail_ptr,
                         uint32_t resp_ptr, uint32_t body_ptr, bool cached)
{
    hc_ctx *ctx = hc_caller_ctx(caller);
    if (!ctx)
        return HC_ERROR;
    const char *name;
    hc_status st = backend_arg(caller, HC_ARG(2), HC_ARG(3), &name);
    if (st != HC_OK)
        return st;
    /* check the out-pointers before anything is consumed */
    if (!hc_mem_slice(caller, resp_ptr, 4) || !hc_mem_slice(caller, body_ptr, 4))
        return HC_INVAL;
    hc_pending *p;
    be_error detail;
    st = hc_readthrough_send_start(ctx, HC_ARG(0), HC_ARG(1), name ? name : "", HC_ARG(3), false,
                                   cached, &p, &detail);
    uint32_t resp = HC_NO_HANDLE, body = HC_NO_HANDLE;
    if (st == HC_OK)
        st = hc_pending_finish(ctx, p, &resp, &body, &detail);
    if (v2)
        hc_write_send_error_detail(caller, detail_ptr, detail);
    if (st != HC_OK)
        return st;
    return out_pair(caller, resp_ptr, body_ptr, resp, body);
}

static fwe_trap_kind send_v1(fwe_caller *caller, uint64_t *slots, void *data)
{
    HC_RETURN(do_send(caller, slots, false, 0, HC_ARG(4), HC_ARG(5), true));
}

static fwe_trap_kind send_v2(fwe_caller *caller, uint64_t *slots, void *data)
{
    HC_RETURN(do_send(caller, slots, true, HC_ARG(4), HC_ARG(5), HC_ARG(6), true));
}

static fwe_trap_kind send_v3(fwe_caller *caller, uint64_t *slots, void *data)
{
    HC_RETURN(do_send(caller, slots, true, HC_ARG(4), HC_ARG(5), HC_ARG(6), false));
}

static hc_status do_send_async(fwe_caller *caller, uint64_t *slots, bool streaming,
                               uint32_t out_ptr, bool cached)
{
    hc_ctx *ctx = hc_caller_ctx(caller);
    if (!ctx)
        return HC_ERROR;
    const char *name;
    hc_status st = backend_arg(caller, HC_ARG(2), HC_ARG(3), &name);
    if (st != HC_OK)
        return st;
    if (!hc_mem_slice(caller, out_ptr, 4))
        return HC_INVAL;
    hc_pending *p;
    be_error detail;
    st = hc_readthrough_send_start(ctx, HC_ARG(0), HC_ARG(1), name ? name : "", HC_ARG(3),
                                   streaming, cached, &p, &detail);
    if (st != HC_OK)
        return st;
    uint32_t h = hc_table_add(&ctx->items, HC_ITEM_PENDING_REQ, p);
    if (h == HC_HANDLE_INVALID) {
        hc_pending_free(p);
        return HC_LIMITEXCEEDED;
    }
    return hc_mem_write_u32(caller, out_ptr, h);
}

static fwe_trap_kind send_async(fwe_caller *caller, uint64_t *slots, void *data)
{
    HC_RETURN(do_send_async(caller, slots, false, HC_ARG(4), true));
}

static fwe_trap_kind send_async_streaming(fwe_caller *caller, uint64_t *slots, void *data)
{
    HC_RETURN(do_send_async(caller, slots, true, HC_ARG(4), true));
}

static fwe_trap_kind send_async_v2(fwe_caller *caller, uint64_t *slots, void *data)
{
    HC_RETURN(do_send_async(caller, slots, HC_ARG(4) == 1, HC_ARG(5), false));
}

/* ---- pending requests ---- */

static hc_status finish_into(fwe_caller *caller, hc_ctx *ctx, hc_pending *p, bool v2,
                             uint32_t detail_ptr, uint32_t resp_ptr, uint32_t body_ptr)
{
    uint32_t resp = HC_NO_HANDLE, body = HC_NO_HANDLE;
    be_error detail;
    hc_status st = hc_pending_finish(ctx, p, &resp, &body, &detail);
    if (v2)
        hc_write_send_error_detail(caller, detail_ptr, detail);
    if (st != HC_OK)
        return st;
    return out_pair(caller, resp_ptr, body_ptr, resp, body);
}

static hc_status do_poll(fwe_caller *caller, uint64_t *slots, bool v2, uint32_t detail_ptr,
                         uint32_t done_ptr, uint32_t resp_ptr, uint32_t body_ptr)
{
    hc_ctx *ctx = hc_caller_ctx(caller);
    if (!ctx)
        return HC_ERROR;
    hc_pending *p = hc_table_get(&ctx->items, HC_ARG(0), HC_ITEM_PENDING_REQ);
    if (!p)
        return HC_BADF;
    if (!hc_mem_slice(caller, done_ptr, 4) || !hc_mem_slice(caller, resp_ptr, 4) ||
        !hc_mem_slice(caller, body_ptr, 4))
        return HC_INVAL;
    if (!hc_pending_ready(p)) {
        if (v2)
            hc_write_send_error_detail(caller, detail_ptr, BE_OK);
        hc_status st = hc_mem_write_u32(caller, done_ptr, 0);
        return st == HC_OK ? out_pair(caller, resp_ptr, body_ptr, HC_NO_HANDLE, HC_NO_HANDLE) : st;
    }
    hc_table_take(&ctx->items, HC_ARG(0), HC_ITEM_PENDING_REQ);
    hc_status st = finish_into(caller, ctx, p, v2, detail_ptr, resp_ptr, body_ptr);
    if (st == HC_OK)
        st = hc_mem_write_u32(caller, done_ptr, 1);
    return st;
}

static fwe_trap_kind pending_req_poll(fwe_caller *caller, uint64_t *slots, void *data)
{
    HC_RETURN(do_poll(caller, slots, false, 0, HC_ARG(1), HC_ARG(2), HC_ARG(3)));
}

static fwe_trap_kind pending_req_poll_v2(fwe_caller *caller, uint64_t *slots, void *data)
{
    HC_RETURN(do_poll(caller, slots, true, HC_ARG(1), HC_ARG(2), HC_ARG(3), HC_ARG(4)));
}

static hc_status do_wait(fwe_caller *caller, uint64_t *slots, bool v2, uint32_t detail_ptr,
                         uint32_t resp_ptr, uint32_t body_ptr)
{
    hc_ctx *ctx = hc_caller_ctx(caller);
    if (!ctx)
        return HC_ERROR;
    if (!hc_table_get(&ctx->items, HC_ARG(0), HC_ITEM_PENDING_REQ))
        return HC_BADF;
    if (!hc_mem_slice(caller, resp_ptr, 4) || !hc_mem_slice(caller, body_ptr, 4))
        return HC_INVAL;
    hc_pending *p = hc_table_take(&ctx->items, HC_ARG(0), HC_ITEM_PENDING_REQ);
    return finish_into(caller, ctx, p, v2, detail_ptr, resp_ptr, body_ptr);
}

static fwe_trap_kind pending_req_wait(fwe_caller *caller, uint64_t *slots, void *data)
{
    HC_RETURN(do_wait(caller, slots, false, 0, HC_ARG(1), HC_ARG(2)));
}

static fwe_trap_kind pending_req_wait_v2(fwe_caller *caller, uint64_t *slots, void *data)
{
    HC_RETURN(do_wait(caller, slots, true, HC_ARG(1), HC_ARG(2), HC_ARG(3)));
}

static hc_status do_select(fwe_caller *caller, uint64_t *slots, bool v2, uint32_t detail_ptr,
                           uint32_t idx_ptr, uint32_t resp_ptr, uint32_t body_ptr)
{
    hc_ctx *ctx = hc_caller_ctx(caller);
    if (!ctx)
        return HC_ERROR;
    uint32_t n = HC_ARG(1);
    if (n == 0 || n > MAX_SELECT)
        return HC_INVAL;
    if (HC_ARG(0) & 3u)
        return HC_BADALIGN;
    const uint8_t *hs = hc_mem_slice(caller, HC_ARG(0), n * 4);
    if (!hs || !hc_mem_slice(caller, idx_ptr, 4) || !hc_mem_slice(caller, resp_ptr, 4) ||
        !hc_mem_slice(caller, body_ptr, 4))
        return HC_INVAL;
    uint32_t *handles = malloc(n * sizeof *handles);
    if (!handles)
        return HC_ERROR;
    for (uint32_t i = 0; i < n; i++) {
        memcpy(&handles[i], hs + 4 * i, 4);
        if (!hc_table_get(&ctx->items, handles[i], HC_ITEM_PENDING_REQ)) {
            free(handles);
            return HC_BADF;
        }
    }
    be_signal *sig = hc_backend_signal(ctx);
    uint32_t done = 0;
    for (;;) {
        uint64_t gen = sig ? be_signal_generation(sig) : 0;
        bool found = false;
        for (uint32_t i = 0; i < n && !found; i++) {
            if (hc_pending_ready(hc_table_get(&ctx->items, handles[i], HC_ITEM_PENDING_REQ))) {
                done = i;
                found = true;
            }
        }
        if (found || !sig)
            break;
        be_signal_wait(sig, gen, 0);
    }
    hc_pending *p = hc_table_take(&ctx->items, handles[done], HC_ITEM_PENDING_REQ);
    free(handles);
    hc_status st = finish_into(caller, ctx, p, v2, detail_ptr, resp_ptr, body_ptr);
    if (st != HC_OK) {
        /* the failed request is gone: say which one it was, with no response (as Viceroy, for
         * v1 as for v2; the SDKs treat an error status from select as a host bug) */
        st = out_pair(caller, resp_ptr, body_ptr, HC_NO_HANDLE, HC_NO_HANDLE);
    }
    if (st == HC_OK)
        st = hc_mem_write_u32(caller, idx_ptr, done);
    return st;
}

static fwe_trap_kind pending_req_select(fwe_caller *caller, uint64_t *slots, void *data)
{
    HC_RETURN(do_select(caller, slots, false, 0, HC_ARG(2), HC_ARG(3), HC_ARG(4)));
}

static fwe_trap_kind pending_req_select_v2(fwe_caller *caller, uint64_t *slots, void *data)
{
    HC_RETURN(do_select(caller, slots, true, HC_ARG(2), HC_ARG(3), HC_ARG(4), HC_ARG(5)));
}

/* ---- dynamic backends ---- */

/* dynamic_backend_config field offsets (typenames.witx, 4-byte fields, 108 bytes). */
enum {
    DB_HOST_OVERRIDE = 0,
    DB_CONNECT_TIMEOUT = 8,
    DB_FIRST_BYTE_TIMEOUT = 12,
    DB_BETWEEN_BYTES_TIMEOUT = 16,
    DB_SSL_MIN = 20,
    DB_SSL_MAX = 24,
    DB_CERT_HOSTNAME = 28,
    DB_CA_CERT = 36,
    DB_CIPHERS = 44,
    DB_SNI_HOSTNAME = 52,
    DB_CLIENT_CERT = 60,
    DB_CLIENT_KEY = 68,
    DB_HTTP_KEEPALIVE = 72,
    DB_TCP_KEEPALIVE_ENABLE = 76,
    DB_TCP_KEEPALIVE_INTERVAL = 80,
    DB_TCP_KEEPALIVE_PROBES = 84,
    DB_TCP_KEEPALIVE_TIME = 88,
    DB_MAX_CONNECTIONS = 92,
    DB_MAX_USE = 96,
    DB_MAX_LIFETIME = 100,
    DB_HEALTHCHECK = 104,
    DB_SIZE = 108,
};

/* backend_config_options bits */
enum {
    OPT_RESERVED = 1u << 0,
    OPT_HOST_OVERRIDE = 1u << 1,
    OPT_CONNECT_TIMEOUT = 1u << 2,
    OPT_FIRST_BYTE_TIMEOUT = 1u << 3,
    OPT_BETWEEN_BYTES_TIMEOUT = 1u << 4,
    OPT_USE_SSL = 1u << 5,
    OPT_SSL_MIN = 1u << 6,
    OPT_SSL_MAX = 1u << 7,
    OPT_CERT_HOSTNAME = 1u << 8,
    OPT_CA_CERT = 1u << 9,
    OPT_CIPHERS = 1u << 10,
    OPT_SNI_HOSTNAME = 1u << 11,
    OPT_DONT_POOL = 1u << 12,
    OPT_CLIENT_CERT = 1u << 13,
    OPT_GRPC = 1u << 14,
    OPT_KEEPALIVE = 1u << 15,
    OPT_POOLING_LIMITS = 1u << 16,
    OPT_PREFER_IPV4 = 1u << 17,
    OPT_HEALTHCHECK = 1u << 18,
    OPT_ALL = (1u << 19) - 1,
};

static uint32_t rd32(const uint8_t *cfg, size_t off)
{
    uint32_t v;
    memcpy(&v, cfg + off, 4);
    return v;
}

static bool utf8_ok(const uint8_t *s, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (s[i] == 0)
            return false;
    return true;
}

/* A (ptr, len) string field of the config: inval when empty (if required), too long, outside
 * memory or not text. */
static hc_status str_field(fwe_caller *caller, const uint8_t *cfg, size_t off, size_t max,
                           bool allow_empty, const char **s, size_t *len)
{
    uint32_t ptr = rd32(cfg, off), n = rd32(cfg, off + 4);
    *s = NULL;
    *len = n;
    if (n == 0)
        return allow_empty ? HC_OK : HC_INVAL;
    if (n > max)
        return HC_INVAL;
    const uint8_t *p = hc_mem_slice(caller, ptr, n);
    if (!p || !utf8_ok(p, n))
        return HC_INVAL;
    *s = (const char *)p;
    return HC_OK;
}

/* "host", "host:port", "[v6]" or "[v6]:port" into b->host / b->port (default by TLS). */
static bool parse_target(be_backend *b, const char *t, size_t len)
{
    const char *host = t;
    size_t hlen = len;
    const char *port = NULL;
    size_t plen = 0;
    if (len > 0 && t[0] == '[') {
        const char *close = memchr(t, ']', len);
        if (!close)
            return false;
        host = t + 1;
        hlen = (size_t)(close - host);
        size_t rest = len - (size_t)(close + 1 - t);
        if (rest > 0) {
            if (close[1] != ':')
                return false;
            port = close + 2;
            plen = rest - 1;
        }
    } else {
        const char *colon = memchr(t, ':', len);
        if (colon) {
            if (memchr(colon + 1, ':', len - (size_t)(colon + 1 - t)))
                return false; /* a bare IPv6 address needs brackets */
            hlen = (size_t)(colon - t);
            port = colon + 1;
            plen = len - hlen - 1;
        }
    }
    if (hlen == 0 || hlen > 255)
        return false;
    for (size_t i = 0; i < hlen; i++) {
        unsigned char c = (unsigned char)host[i];
        if (c <= ' ' || c >= 0x7f || c == '/' || c == '@' || c == '?' || c == '#')
            return false;
    }
    uint32_t pv = b->tls ? 443 : 80;
    if (port) {
        if (plen == 0 || plen > 5)
            return false;
        pv = 0;
        for (size_t i = 0; i < plen; i++) {
            if (port[i] < '0' || port[i] > '9')
                return false;
            pv = pv * 10 + (uint32_t)(port[i] - '0');
        }
        if (pv == 0 || pv > 65535)
            return false;
    }
    char *h = malloc(hlen + 1);
    if (!h)
        return false;
    memcpy(h, host, hlen);
    h[hlen] = '\0';
    free(b->host);
    b->host = h;
    b->port = (uint16_t)pv;
    return true;
}

/* healthcheck_config field offsets (typenames.witx: two u64, then 4-byte fields; 56 bytes). */
enum {
    HCK_INTERVAL = 0,
    HCK_TIMEOUT = 8,
    HCK_HOST = 16,
    HCK_METHOD = 24,
    HCK_PATH = 32,
    HCK_EXPECTED_STATUS = 40,
    HCK_WINDOW = 44,
    HCK_THRESHOLD = 48,
    HCK_INITIAL = 52,
    HCK_SIZE = 56,
};

/* Viceroy's (and the SDKs') limit on health-check host + path and on the method. */
#define HCK_TEXT_MAX 8192

static uint64_t rd64(const uint8_t *cfg, size_t off)
{
    uint64_t v;
    memcpy(&v, cfg + off, 8);
    return v;
}

/* The health check of a dynamic backend: inval for an empty or malformed host, method or path
 * (the path must start with '/'), or numbers that make no sense (be_health_config_valid). */
static hc_status healthcheck(fwe_caller *caller, const uint8_t *hc, be_health_config *out)
{
    const char *host, *method, *path;
    size_t host_len, method_len, path_len;
    hc_status st;
    if ((st = str_field(caller, hc, HCK_HOST, HCK_TEXT_MAX, false, &host, &host_len)) != HC_OK ||
        (st = str_field(caller, hc, HCK_METHOD, HCK_TEXT_MAX, false, &method, &method_len)) !=
            HC_OK ||
        (st = str_field(caller, hc, HCK_PATH, HCK_TEXT_MAX, false, &path, &path_len)) != HC_OK)
        return st;
    if (host_len + path_len > HCK_TEXT_MAX || !hc_header_value_valid(host, host_len) ||
        !hc_header_name_valid(method, method_len) || path[0] != '/')
        return HC_INVAL;
    for (size_t i = 0; i < path_len; i++)
        if ((unsigned char)path[i] <= ' ' || (unsigned char)path[i] >= 0x7f)
            return HC_INVAL;
    uint32_t status = rd32(hc, HCK_EXPECTED_STATUS);
    be_health_config c = {
        .enabled = true,
        .interval_ms = rd64(hc, HCK_INTERVAL),
        .timeout_ms = rd64(hc, HCK_TIMEOUT),
        .expected_status = status > 999 ? 0 : (uint16_t)status,
        .window = rd32(hc, HCK_WINDOW),
        .threshold = rd32(hc, HCK_THRESHOLD),
        .initial = rd32(hc, HCK_INITIAL),
    };
    if (!be_health_config_valid(&c))
        return HC_INVAL;
    size_t ignored;
    if (!be_set_bytes(&c.host, &ignored, host, host_len) ||
        !be_set_bytes(&c.method, &ignored, method, method_len) ||
        !be_set_bytes(&c.path, &ignored, path, path_len)) {
        be_health_config_deinit(&c);
        return HC_ERROR;
    }
    be_health_config_deinit(out);
    *out = c;
    return HC_OK;
}

static hc_status build_dynamic(fwe_caller *caller, hc_ctx *ctx, be_backend *b, uint32_t mask,
                               const uint8_t *cfg)
{
    const char *s;
    size_t len;
    hc_status st;
    b->tls = (mask & OPT_USE_SSL) != 0;
    if (mask & OPT_HOST_OVERRIDE) {
        if ((st = str_field(caller, cfg, DB_HOST_OVERRIDE, 1024, false, &s, &len)) != HC_OK)
            return st;
        if (!hc_header_value_valid(s, len) || !be_set_bytes(&b->override_host, &len, s, len))
            return HC_INVAL;
    }
    if (mask & OPT_CONNECT_TIMEOUT) {
        b->connect_timeout_ms = rd32(cfg, DB_CONNECT_TIMEOUT);
        b->timeouts_set |= BE_SET_CONNECT;
    }
    if (mask & OPT_FIRST_BYTE_TIMEOUT) {
        b->first_byte_timeout_ms = rd32(cfg, DB_FIRST_BYTE_TIMEOUT);
        b->timeouts_set |= BE_SET_FIRST_BYTE;
    }
    if (mask & OPT_BETWEEN_BYTES_TIMEOUT) {
        b->between_bytes_timeout_ms = rd32(cfg, DB_BETWEEN_BYTES_TIMEOUT);
        b->timeouts_set |= BE_SET_BETWEEN_BYTES;
    }
    if (mask & OPT_SSL_MIN) {
        uint32_t v = rd32(cfg, DB_SSL_MIN);
        if (v > 3)
            return HC_INVAL;
        b->ssl_min = (int)v;
    }
    if (mask & OPT_SSL_MAX) {
        uint32_t v = rd32(cfg, DB_SSL_MAX);
        if (v > 3)
            return HC_INVAL;
        b->ssl_max = (int)v;
    }
    if (b->ssl_min != BE_TLS_UNSET && b->ssl_max != BE_TLS_UNSET && b->ssl_min > b->ssl_max)
        return HC_INVAL;
    if (mask & OPT_CERT_HOSTNAME) {
        if ((st = str_field(caller, cfg, DB_CERT_HOSTNAME, 1024, false, &s, &len)) != HC_OK)
            return st;
        if (!be_set_bytes(&b->cert_hostname, &len, s, len))
            return HC_ERROR;
    }
    if (mask & OPT_CA_CERT) {
        if ((st = str_field(caller, cfg, DB_CA_CERT, 64 * 1024, false, &s, &len)) != HC_OK)
            return st;
        if (b->tls && !be_set_bytes(&b->ca_pem, &b->ca_pem_len, s, len))
            return HC_ERROR;
    }
    if (mask & OPT_CIPHERS) {
        if ((st = str_field(caller, cfg, DB_CIPHERS, 1024, false, &s, &len)) != HC_OK)
            return st;
        /* every list Fastly supports is accepted; one with no cipher this OpenSSL can use (3DES
         * is gone from OpenSSL 3, TLS 1.3 suites are not set through a cipher list) keeps
         * OpenSSL's defaults rather than failing every request */
        if (!be_set_bytes(&b->ciphers, &len, s, len))
            return HC_ERROR;
        if (!be_ciphers_usable(b->ciphers)) {
            hc_log(ctx, 1,
                   "dynamic backend: cipher list '%s' has no cipher this build of OpenSSL "
                   "can use; using its default ciphers",
                   b->ciphers);
            be_set_str(&b->ciphers, NULL);
        }
    }
    if (mask & OPT_SNI_HOSTNAME) {
        if ((st = str_field(caller, cfg, DB_SNI_HOSTNAME, 1024, true, &s, &len)) != HC_OK)
            return st;
        /* an empty SNI hostname turns SNI off (stored as ""); the certificate is still checked
         * against the certificate hostname, else the target's host (as Viceroy) */
        if (!be_set_bytes(&b->sni_hostname, &len, s ? s : "", len))
            return HC_ERROR;
    }
    if (mask & OPT_CLIENT_CERT) {
        if ((st = str_field(caller, cfg, DB_CLIENT_CERT, 64 * 1024, false, &s, &len)) != HC_OK)
            return st;
        /* the key is a secret handle; there are no secret stores yet, so no handle is valid */
        (void)rd32(cfg, DB_CLIENT_KEY);
        return HC_BADF;
    }
    b->dont_pool = (mask & OPT_DONT_POOL) != 0;
    b->grpc = (mask & OPT_GRPC) != 0;
    if (mask & OPT_KEEPALIVE) {
        b->http_keepalive_ms = rd32(cfg, DB_HTTP_KEEPALIVE);
        b->tcp_keepalive = rd32(cfg, DB_TCP_KEEPALIVE_ENABLE) != 0;
        b->tcp_keepalive_interval_s = rd32(cfg, DB_TCP_KEEPALIVE_INTERVAL);
        b->tcp_keepalive_probes = rd32(cfg, DB_TCP_KEEPALIVE_PROBES);
        b->tcp_keepalive_time_s = rd32(cfg, DB_TCP_KEEPALIVE_TIME);
    }
    if (mask & OPT_POOLING_LIMITS) {
        b->max_connections = rd32(cfg, DB_MAX_CONNECTIONS);
        b->max_use = rd32(cfg, DB_MAX_USE);
        b->max_lifetime_ms = rd32(cfg, DB_MAX_LIFETIME);
    }
    b->prefer_ipv4 = (mask & OPT_PREFER_IPV4) != 0;
    if (mask & OPT_HEALTHCHECK) {
        const uint8_t *hc = hc_mem_slice(caller, rd32(cfg, DB_HEALTHCHECK), HCK_SIZE);
        if (!hc)
            return HC_INVAL;
        if ((st = healthcheck(caller, hc, &b->healthcheck)) != HC_OK)
            return st;
    }
    (void)ctx;
    return HC_OK;
}

static fwe_trap_kind register_dynamic_backend(fwe_caller *caller, uint64_t *slots, void *data)
{
    HC_CTX(ctx);
    uint32_t name_len = HC_ARG(1), target_len = HC_ARG(3), mask = HC_ARG(4);
    const char *name = (const char *)hc_mem_slice(caller, HC_ARG(0), name_len);
    const char *target = (const char *)hc_mem_slice(caller, HC_ARG(2), target_len);
    const uint8_t *cfg = hc_mem_slice(caller, HC_ARG(5), DB_SIZE);
    if (!name || !target || !cfg)
        HC_RETURN(HC_INVAL);
    if ((mask & OPT_RESERVED) || (mask & ~(uint32_t)OPT_ALL))
        HC_RETURN(HC_INVAL);
    if (name_len == 0 || name_len > 255 || !utf8_ok((const uint8_t *)name, name_len))
        HC_RETURN(HC_INVAL);
    be_backend b;
    be_backend_init(&b);
    hc_status st = HC_ERROR;
    if (!be_set_bytes(&b.name, &(size_t){0}, name, name_len) || !be_set_str(&b.path_prefix, ""))
        goto done;
    st = build_dynamic(caller, ctx, &b, mask, cfg);
    if (st != HC_OK)
        goto done;
    if (!parse_target(&b, target, target_len)) {
        st = HC_INVAL;
        goto done;
    }
    st = hc_backend_register(ctx, &b);
    if (st == HC_OK)
        hc_log(ctx, 1, "dynamic backend '%.*s' -> %s://%.*s", (int)name_len, name,
               (mask & OPT_USE_SSL) ? "https" : "http", (int)target_len, target);
done:
    be_backend_deinit(&b);
    HC_RETURN(st);
}

#define M "fastly_http_req"
/* pending_req_header_insert/append/remove: queue a header change for the response a pending
 * request resolves to (hc_pending_edit). */
static hc_status pending_edit(fwe_caller *caller, uint64_t *slots, int op)
{
    hc_ctx *ctx = hc_caller_ctx(caller);
    if (!ctx)
        return HC_ERROR;
    hc_pending *p = hc_table_get(&ctx->items, HC_ARG(0), HC_ITEM_PENDING_REQ);
    if (!p)
        return HC_BADF;
    uint32_t name_len = HC_ARG(2), value_len = op == HC_EDIT_REMOVE ? 0 : HC_ARG(4);
    uint32_t target = op == HC_EDIT_REMOVE ? HC_ARG(3) : HC_ARG(5);
    const char *name = (const char *)hc_mem_slice(caller, HC_ARG(1), name_len);
    const char *value =
        op == HC_EDIT_REMOVE ? "" : (const char *)hc_mem_slice(caller, HC_ARG(3), value_len);
    if (!name || !value || target > HC_PENDING_ERROR || !hc_header_name_valid(name, name_len) ||
        !hc_header_value_valid(value, value_len))
        return HC_INVAL;
    return hc_pending_edit(p, op, name, name_len, value, value_len, target);
}

static fwe_trap_kind pending_req_header_insert(fwe_caller *caller, uint64_t *slots, void *data)
{
    HC_RETURN(pending_edit(caller, slots, HC_EDIT_INSERT));
}

static fwe_trap_kind pending_req_header_append(fwe_caller *caller, uint64_t *slots, void *data)
{
    HC_RETURN(pending_edit(caller, slots, HC_EDIT_APPEND));
}

static fwe_trap_kind pending_req_header_remove(fwe_caller *caller, uint64_t *slots, void *data)
{
    HC_RETURN(pending_edit(caller, slots, HC_EDIT_REMOVE));
}

/* fastly_http_resp.send_downstream_pending: the pending request's response (or, when none
 * materialises, the synthetic 5XX) goes downstream. Production forwards it in the background;
 * here the call forwards it before returning, which a guest cannot tell apart except by time. */
static fwe_trap_kind send_downstream_pending(fwe_caller *caller, uint64_t *slots, void *data)
{
    hc_ctx *ctx = hc_caller_ctx(caller);
    if (!ctx)
        HC_RETURN(HC_ERROR);
    if (!hc_table_get(&ctx->items, HC_ARG(0), HC_ITEM_PENDING_REQ))
        HC_RETURN(HC_BADF);
    if (hc_ctx_response_started(ctx))
        HC_RETURN(HC_ERROR); /* a response went downstream already */
    hc_pending *p = hc_table_take(&ctx->items, HC_ARG(0), HC_ITEM_PENDING_REQ);
    uint32_t resp = 0, body = 0;
    hc_status st = hc_pending_finish_always(ctx, p, &resp, &body);
    if (st == HC_OK)
        st = hc_ctx_send_downstream(ctx, resp, body, false);
    HC_RETURN(st);
}

const hc_impl hc_http_req_send_impls[] = {
    {"fastly_http_req", "pending_req_header_insert", pending_req_header_insert},
    {"fastly_http_req", "pending_req_header_append", pending_req_header_append},
    {"fastly_http_req", "pending_req_header_remove", pending_req_header_remove},
    {"fastly_http_resp", "send_downstream_pending", send_downstream_pending},
    {M, "send", send_v1},
    {M, "send_v2", send_v2},
    {M, "send_v3", send_v3},
    {M, "send_async", send_async},
    {M, "send_async_v2", send_async_v2},
    {M, "send_async_streaming", send_async_streaming},
    {M, "pending_req_poll", pending_req_poll},
    {M, "pending_req_poll_v2", pending_req_poll_v2},
    {M, "pending_req_wait", pending_req_wait},
    {M, "pending_req_wait_v2", pending_req_wait_v2},
    {M, "pending_req_select", pending_req_select},
    {M, "pending_req_select_v2", pending_req_select_v2},
    {M, "register_dynamic_backend", register_dynamic_backend},
    {NULL, NULL, NULL},
};
#undef M
