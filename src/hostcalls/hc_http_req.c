/* hc_http_req.c: the fastly_http_req module, except the send / pending-request / dynamic-backend
 * family (backends issue): request handles (new, close, method, URI, version, headers), the
 * downstream request and its metadata, stored per-request settings (cache override, framing,
 * auto-decompression) and the NGWAF `inspect` mock as Viceroy answers it. WebSocket/Fanout
 * handoff (upgrade_websocket, redirect_to_*) is hc_fanout.c; on_behalf_of is hc_on_behalf_of.c. */
#include "hc_http_req.h"

#include "hc_hostcall.h"
#include "hc_http_downstream.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---- validation ---- */

/* http::Method::from_bytes: a non-empty token of any length (unlike a header name, which
 * hc_header_name_valid caps at HC_HEADER_NAME_MAX). */
static bool method_valid(const char *m, size_t len)
{
    if (len == 0)
        return false;
    for (size_t i = 0; i < len; i++)
        if (!hc_header_name_valid(m + i, 1))
            return false;
    return true;
}

/* ---- URIs, as http 0.2's Uri::try_from (Viceroy's uri_set) and its Display (uri_get) ---- */

#define URI_MAX_LEN 65534u /* http's MAX_LEN (u16::MAX - 1) */
#define URI_MAX_SCHEME_LEN 64u
#define URI_MAX_COLONS 8u

/* URI_CHARS: unreserved, sub-delims, ':', '@', '/', '?', '#', '[', ']' ('%' is handled apart). */
static bool uri_char(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           (c != 0 && strchr("!#$&'()*+,-./:;=?@[]_~", c) != NULL);
}

static bool scheme_char(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '+' ||
           c == '-' || c == '.' || c == '~';
}

/* Authority::parse: the length of the authority at the start of s (up to '/', '?' or '#'),
 * or -1 when it is invalid. */
static long uri_authority_end(const char *s, size_t len)
{
    unsigned colons = 0;
    bool open = false, close = false, percent = false;
    size_t end = len;
    long at = -1;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '/' || c == '?' || c == '#') {
            end = i;
            break;
        }
        if (c == '%') {
            percent = true; /* only allowed in the userinfo */
            continue;
        }
        if (!uri_char(c))
            return -1;
        if (c == ':') {
            if (colons >= URI_MAX_COLONS)
                return -1;
            colons++;
        } else if (c == '[') {
            if (percent || open)
                return -1;
            open = true;
        } else if (c == ']') {
            if (!open || close)
                return -1;
            close = true;
            colons = 0; /* part of an IPv6 literal */
            percent = false;
        } else if (c == '@') {
            at = (long)i;
            colons = 0; /* part of the userinfo */
            percent = false;
        }
    }
    if (open != close || colons > 1 || percent)
        return -1;
    if (end > 0 && at == (long)end - 1)
        return -1;
    return (long)end;
}

/* PathAndQuery::from_shared: validates a path (and query) and returns its length without the
 * fragment, or -1. Sets *has_query. */
static long uri_path_query(const char *s, size_t len, bool *has_query)
{
    *has_query = false;
    size_t i = 0;
    for (; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '#')
            return (long)i;
        if (c == '?') {
            *has_query = true;
            i++;
            break;
        }
        bool ok = c == 0x21 || (c >= 0x24 && c <= 0x3b) || c == 0x3d || (c >= 0x40 && c <= 0x5f) ||
                  (c >= 0x61 && c <= 0x7a) || c == 0x7c || c == 0x7e || c == '"' || c == '{' ||
                  c == '}';
        if (!ok)
            return -1;
    }
    if (!*has_query)
        return (long)i;
    for (; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '#')
            return (long)i;
        bool ok = c == 0x21 || (c >= 0x24 && c <= 0x3b) || c == 0x3d || (c >= 0x3f && c <= 0x7e);
        if (!ok)
            return -1;
    }
    return (long)len;
}

/* Parses a URI as http 0.2 does and returns its printed form (malloc'd, NUL-terminated), or NULL
 * when it is not a valid URI (or out of memory). */
static char *uri_parse(const char *u, size_t len)
{
    if (len == 0 || len > URI_MAX_LEN)
        return NULL;
    const char *scheme = NULL; /* printed form */
    size_t scheme_len = 0, skip = 0;
    bool single = len == 1 && (u[0] == '/' || u[0] == '*');
    if (!single && u[0] != '/') {
        if (len >= 7 && strncasecmp(u, "http://", 7) == 0) {
            scheme = "http";
            scheme_len = 4;
            skip = 7;
        } else if (len >= 8 && strncasecmp(u, "https://", 8) == 0) {
            scheme = "https";
            scheme_len = 5;
            skip = 8;
        } else if (len > 3) {
            for (size_t i = 0; i < len; i++) {
                unsigned char c = (unsigned char)u[i];
                if (c == ':') {
                    if (len < i + 3 || u[i + 1] != '/' || u[i + 2] != '/')
                        break;
                    if (i > URI_MAX_SCHEME_LEN)
                        return NULL;
                    scheme = u;
                    scheme_len = i;
                    skip = i + 3;
                    break;
                }
                if (!scheme_char(c))
                    break;
            }
        }
    }
    const char *pq = u;
    size_t pq_len = len;
    size_t auth_len = 0;
    if (!single && u[0] != '/') {
        const char *rest = u + skip;
        size_t rest_len = len - skip;
        long end = uri_authority_end(rest, rest_len);
        if (end < 0)
            return NULL;
        if (!scheme) { /* authority form: nothing may follow */
            if ((size_t)end != rest_len)
                return NULL;
            char *out = malloc(len + 1);
            if (out) {
                memcpy(out, u, len);
                out[len] = '\0';
            }
            return out;
        }
        if (end == 0)
            return NULL; /* an absolute URI needs an authority */
        auth_len = (size_t)end;
        pq = rest + end;
        pq_len = rest_len - (size_t)end;
    }
    bool has_query = false;
    long kept = single ? (long)len : uri_path_query(pq, pq_len, &has_query);
    if (kept < 0)
        return NULL;
    /* scheme "://" authority, then the path ("/" when empty and absolute) and query */
    size_t path_len = (size_t)kept;
    if (has_query)
        path_len = (size_t)((const char *)memchr(pq, '?', (size_t)kept) - pq);
    bool slash = scheme && path_len == 0;
    size_t total = (scheme ? scheme_len + 3 + auth_len : 0) + (slash ? 1 : 0) + (size_t)kept;
    char *out = malloc(total + 1);
    if (!out)
        return NULL;
    size_t o = 0;
    if (scheme) {
        memcpy(out, scheme, scheme_len);
        memcpy(out + scheme_len, "://", 3);
        memcpy(out + scheme_len + 3, u + skip, auth_len);
        o = scheme_len + 3 + auth_len;
    }
    if (slash)
        out[o++] = '/';
    memcpy(out + o, pq, (size_t)kept);
    o += (size_t)kept;
    out[o] = '\0';
    return out;
}

static bool utf8_valid(const uint8_t *s, size_t len)
{
    size_t i = 0;
    while (i < len) {
        uint8_t c = s[i];
        size_t n = c < 0x80             ? 0
                   : (c & 0xe0) == 0xc0 ? 1
                   : (c & 0xf0) == 0xe0 ? 2
                   : (c & 0xf8) == 0xf0 ? 3
                                        : 99;
        if (n == 99 || (n == 1 && c < 0xc2) || n >= len - i)
            return false;
        for (size_t k = 1; k <= n; k++)
            if ((s[i + k] & 0xc0) != 0x80)
                return false;
        i += n + 1;
    }
    return true;
}

/* ---- request handles ---- */

static fwe_trap_kind req_new(fwe_caller *caller, uint64_t *slots, void *data)
{
    HC_CTX(ctx);
    hc_request *r = hc_request_new();
    if (!r)
        HC_RETURN(HC_ERROR);
    uint32_t h;
    hc_status st = hc_ctx_add_request(ctx, r, &h);
    if (st != HC_OK) {
        hc_request_free(r);
        HC_RETURN(st);
    }
    HC_RETURN(hc_mem_write_u32(caller, HC_ARG(0), h));
}

static fwe_trap_kind req_close(fwe_caller *caller, uint64_t *slots, void *data)
{
    HC_CTX(ctx);
    HC_RETURN(hc_ctx_close_request(ctx, HC_ARG(0)));
}

static fwe_trap_kind body_downstream_get(fwe_caller *caller, uint64_t *slots, void *data)
{
    HC_CTX(ctx);
    hc_status st = hc_mem_write_u32(caller, HC_ARG(0), ctx->ds_req);
    if (st == HC_OK)
        st = hc_mem_write_u32(caller, HC_ARG(1), ctx->ds_body);
    HC_RETURN(st);
}

#define REQ(r, i)                                                                                  \
    HC_CTX(ctx);                                                                                   \
    hc_request *r = hc_ctx_request(ctx, HC_ARG(i));                                                \
    if (!r)                                                                                        \
    HC_RETURN(HC_BADF)

static fwe_trap_kind method_get(fwe_caller *caller, uint64_t *slots, void *data)
{
    REQ(r, 0);
    HC_RETURN(hc_call_copy_str(caller, r->method, HC_ARG(1), HC_ARG(2), HC_ARG(3)));
}

static fwe_trap_kind method_set(fwe_caller *caller, uint64_t *slots, void *data)
{
    REQ(r, 0);
    const char *m = (const char *)hc_mem_slice(caller, HC_ARG(1), HC_ARG(2));
    if (!m)
        HC_RETURN(HC_INVAL);
    if (!method_valid(m, HC_ARG(2)))
        HC_RETURN(HC_ERROR); /* InvalidMethod maps to `error` in Viceroy */
    HC_RETURN(hc_request_set_method(r, m, HC_ARG(2)) ? HC_OK : HC_ERROR);
}

static fwe_trap_kind uri_get(fwe_caller *caller, uint64_t *slots, void *data)
{
    REQ(r, 0);
    HC_RETURN(hc_call_copy_str(caller, r->uri, HC_ARG(1), HC_ARG(2), HC_ARG(3)));
}

static fwe_trap_kind uri_set(fwe_caller *caller, uint64_t *slots, void *data)
{
    REQ(r, 0);
    const char *u = (const char *)hc_mem_slice(caller, HC_ARG(1), HC_ARG(2));
    if (!u)
        HC_RETURN(HC_INVAL);
    char *norm = uri_parse(u, HC_ARG(2));
    if (!norm)
        HC_RETURN(HC_ERROR); /* InvalidUri maps to `error` */
    free(r->uri);
    r->uri = norm;
    HC_RETURN(HC_OK);
}

static fwe_trap_kind version_get(fwe_caller *caller, uint64_t *slots, void *data)
{
    REQ(r, 0);
    HC_RETURN(hc_mem_write_u32(caller, HC_ARG(1), r->version));
}

static fwe_trap_kind version_set(fwe_caller *caller, uint64_t *slots, void *data)
{
    if (HC_ARG(1) > 4)
        HC_RETURN(HC_INVAL); /* not an http_version */
    REQ(r, 0);
    r->version = HC_ARG(1);
    HC_RETURN(HC_OK);
}

/* ---- headers ---- */

static hc_headers *request_headers(hc_ctx *ctx, uint32_t handle)
{
    hc_request *r = hc_ctx_request(ctx, handle);
    return r ? &r->headers : NULL;
}

HC_HEADER_HOSTCALLS(request_headers)

static fwe_trap_kind original_header_names_get(fwe_caller *caller, uint64_t *slots, void *data)
{
    HC_CTX(ctx);
    HC_RETURN(hc_ds_original_header_names(caller, ctx, ctx->ds_req, HC_ARG(0), HC_ARG(1), HC_ARG(2),
                                          HC_ARG(3), HC_ARG(4)));
}

static fwe_trap_kind original_header_count(fwe_caller *caller, uint64_t *slots, void *data)
{
    HC_CTX(ctx);
    HC_RETURN(hc_ds_original_header_count(caller, ctx, ctx->ds_req, HC_ARG(0)));
}

/* ---- stored per-request settings ---- */

static hc_status set_cache_override(fwe_caller *caller, uint64_t *slots, bool v2)
{
    hc_ctx *ctx = hc_caller_ctx(caller);
    if (!ctx)
        return HC_ERROR;
    uint32_t tag = HC_ARG(1);
    if (tag & ~0xfu)
        return HC_INVAL; /* not a cache_override_tag */
    const char *sk = NULL;
    size_t sk_len = v2 ? HC_ARG(5) : 0;
    if (sk_len > 0) {
        sk = (const char *)hc_mem_slice(caller, HC_ARG(4), HC_ARG(5));
        if (!sk)
            return HC_INVAL;
        if (!hc_header_value_valid(sk, sk_len))
            return HC_INVAL;
    }
    hc_request *r = hc_ctx_request(ctx, HC_ARG(0));
    if (!r)
        return HC_BADF;
    char *copy = NULL;
    if (sk) {
        copy = malloc(sk_len);
        if (!copy)
            return HC_ERROR;
        memcpy(copy, sk, sk_len);
    }
    hc_cache_override *o = &r->cache_override;
    free(o->surrogate_key);
    o->set = true;
    o->tag = tag;
    o->ttl = HC_ARG(2);
    o->stale_while_revalidate = HC_ARG(3);
    o->surrogate_key = copy;
    o->surrogate_key_len = copy ? sk_len : 0;
    return HC_OK;
}

static fwe_trap_kind cache_override_set(fwe_caller *caller, uint64_t *slots, void *data)
{
    HC_RETURN(set_cache_override(caller, slots, false));
}

static fwe_trap_kind cache_override_v2_set(fwe_caller *caller, uint64_t *slots, void *data)
{
    HC_RETURN(set_cache_override(caller, slots, true));
}

static fwe_trap_kind framing_headers_mode_set(fwe_caller *caller, uint64_t *slots, void *data)
{
    if (HC_ARG(1) > 1)
        HC_RETURN(HC_INVAL);
    REQ(r, 0);
    r->framing_mode = HC_ARG(1);
    HC_RETURN(HC_OK);
}

static fwe_trap_kind auto_decompress_response_set(fwe_caller *caller, uint64_t *slots, void *data)
{
    if (HC_ARG(1) & ~0x1u)
        HC_RETURN(HC_INVAL); /* only gzip is a content_encodings flag */
    REQ(r, 0);
    r->auto_decompress = HC_ARG(1);
    HC_RETURN(HC_OK);
}

/* ---- downstream metadata of the current downstream request ---- */

static fwe_trap_kind client_ip_addr(fwe_caller *caller, uint64_t *slots, void *data)
{
    HC_CTX(ctx);
    HC_RETURN(hc_ds_ip_addr(caller, ctx, ctx->ds_req, false, HC_ARG(0), HC_ARG(1)));
}

static fwe_trap_kind server_ip_addr(fwe_caller *caller, uint64_t *slots, void *data)
{
    HC_CTX(ctx);
    HC_RETURN(hc_ds_ip_addr(caller, ctx, ctx->ds_req, true, HC_ARG(0), HC_ARG(1)));
}

static fwe_trap_kind client_request_id(fwe_caller *caller, uint64_t *slots, void *data)
{
    HC_CTX(ctx);
    HC_RETURN(hc_ds_request_id(caller, ctx, ctx->ds_req, HC_ARG(0), HC_ARG(1), HC_ARG(2)));
}

static fwe_trap_kind compliance_region(fwe_caller *caller, uint64_t *slots, void *data)
{
    HC_CTX(ctx);
    HC_RETURN(hc_ds_compliance_region(caller, ctx, ctx->ds_req, HC_ARG(0), HC_ARG(1), HC_ARG(2)));
}

static fwe_trap_kind ddos_detected(fwe_caller *caller, uint64_t *slots, void *data)
{
    HC_CTX(ctx);
    HC_RETURN(hc_ds_ddos_detected(caller, ctx, ctx->ds_req, HC_ARG(0)));
}

static fwe_trap_kind fastly_key_is_valid(fwe_caller *caller, uint64_t *slots, void *data)
{
    HC_CTX(ctx);
    HC_RETURN(hc_ds_fastly_key_is_valid(caller, ctx, ctx->ds_req, HC_ARG(0)));
}

/* TLS and fingerprints: none on plain HTTP. */
static fwe_trap_kind absent(fwe_caller *caller, uint64_t *slots, void *data)
{
    HC_CTX(ctx);
    (void)ctx;
    HC_RETURN(HC_NONE);
}

/* inspect: validates its arguments as Viceroy does, then answers Viceroy's mock NGWAF verdict. */
static fwe_trap_kind inspect(fwe_caller *caller, uint64_t *slots, void *data)
{
    static const char verdict[] =
        "{\"waf_response\":200,\"redirect_url\":\"\",\"tags\":[],\"verdict\":\"allow\","
        "\"decision_ms\":0}";
    uint32_t mask = HC_ARG(2), info = HC_ARG(3);
    if (mask & ~0xfu)
        HC_RETURN(HC_INVAL);
    REQ(r, 0);
    (void)r;
    if (!hc_ctx_body(ctx, HC_ARG(1)))
        HC_RETURN(HC_BADF);
    uint32_t f[6];
    for (int i = 0; i < 6; i++) {
        hc_status st = hc_mem_read_u32(caller, info + 4 * (uint32_t)i, &f[i]);
        if (st != HC_OK)
            HC_RETURN(st);
    }
    /* corp (0x2) and workspace (0x4) are required, non-empty UTF-8 */
    for (int k = 0; k < 2; k++) {
        uint32_t flag = k == 0 ? 0x2 : 0x4;
        uint32_t ptr = f[2 * k], len = f[2 * k + 1];
        if (!(mask & flag) || len == 0)
            HC_RETURN(HC_INVAL);
        const uint8_t *s = hc_mem_slice(caller, ptr, len);
        if (!s || !utf8_valid(s, len))
            HC_RETURN(HC_INVAL);
    }
    if (mask & 0x8) {
        uint32_t ip_len = f[5];
        if (ip_len != 0 && ip_len != 4 && ip_len != 16)
            HC_RETURN(HC_INVAL);
        if (!hc_mem_slice(caller, f[4], ip_len))
            HC_RETURN(HC_INVAL);
    }
    size_t len = sizeof verdict - 1;
    if (len > HC_ARG(5))
        HC_RETURN(HC_BUFLEN);
    hc_status st = hc_mem_write_bytes(caller, HC_ARG(4), verdict, len);
    if (st == HC_OK)
        st = hc_mem_write_u32(caller, HC_ARG(6), (uint32_t)len);
    HC_RETURN(st);
}

#define M "fastly_http_req"
const hc_impl hc_http_req_impls[] = {
    {M, "body_downstream_get", body_downstream_get},
    {M, "cache_override_set", cache_override_set},
    {M, "cache_override_v2_set", cache_override_v2_set},
    {M, "downstream_client_ip_addr", client_ip_addr},
    {M, "downstream_server_ip_addr", server_ip_addr},
    {M, "downstream_client_h2_fingerprint", absent},
    {M, "downstream_client_request_id", client_request_id},
    {M, "downstream_client_oh_fingerprint", absent},
    {M, "downstream_client_ddos_detected", ddos_detected},
    {M, "downstream_tls_cipher_openssl_name", absent},
    {M, "downstream_tls_protocol", absent},
    {M, "downstream_tls_client_hello", absent},
    {M, "downstream_tls_raw_client_certificate", absent},
    {M, "downstream_tls_client_cert_verify_result", absent},
    {M, "downstream_tls_ja3_md5", absent},
    {M, "downstream_tls_ja4", absent},
    {M, "downstream_tls_client_servername", absent},
    {M, "downstream_compliance_region", compliance_region},
    {M, "new", req_new},
    {M, "header_names_get", header_names_get},
    {M, "original_header_names_get", original_header_names_get},
    {M, "original_header_count", original_header_count},
    {M, "header_value_get", header_value_get},
    {M, "header_values_get", header_values_get},
    {M, "header_values_set", header_values_set},
    {M, "header_insert", header_insert},
    {M, "header_append", header_append},
    {M, "header_remove", header_remove},
    {M, "method_get", method_get},
    {M, "method_set", method_set},
    {M, "uri_get", uri_get},
    {M, "uri_set", uri_set},
    {M, "version_get", version_get},
    {M, "version_set", version_set},
    {M, "fastly_key_is_valid", fastly_key_is_valid},
    {M, "close", req_close},
    {M, "auto_decompress_response_set", auto_decompress_response_set},
    {M, "framing_headers_mode_set", framing_headers_mode_set},
    {M, "inspect", inspect},
    {NULL, NULL, NULL},
};
#undef M
