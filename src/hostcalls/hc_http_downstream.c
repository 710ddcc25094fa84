/* hc_http_downstream.c: the fastly_http_downstream module: metadata of the downstream request
 * (addresses, request id, original headers, bot headers), TLS and proxy-detection getters that
 * answer `none` on plain HTTP, local defaults for visit counts, and next_request as Viceroy
 * answers it when no further request will come (one request per instance). */
#include "hc_http_downstream.h"

#include "hc_hostcall.h"

#include <string.h>
#include <strings.h>

/* ---- shared getters ---- */

hc_status hc_ds_check(hc_ctx *ctx, uint32_t req)
{
    if (req == ctx->ds_req)
        return HC_OK;
    return hc_ctx_request(ctx, req) ? HC_ERROR : HC_BADF;
}

hc_status hc_ds_ip_addr(fwe_caller *caller, hc_ctx *ctx, uint32_t req, bool server,
                        uint32_t out, uint32_t nwritten_ptr)
{
    hc_status st = hc_ds_check(ctx, req);
    if (st != HC_OK)
        return st;
    uint8_t octets[16];
    size_t n = 0;
    if (ctx->req)
        n = hc_sockaddr_octets(server ? &ctx->req->server_addr : &ctx->req->client_addr, octets);
    if (n == 0)
        return HC_NONE;
    st = hc_mem_write_bytes(caller, out, octets, n);
    if (st != HC_OK)
        return st;
    return hc_mem_write_u32(caller, nwritten_ptr, (uint32_t)n);
}

hc_status hc_ds_request_id(fwe_caller *caller, hc_ctx *ctx, uint32_t req, uint32_t buf,
                           uint32_t buf_len, uint32_t nwritten_ptr)
{
    hc_status st = hc_ds_check(ctx, req);
    if (st != HC_OK)
        return st;
    /* the request's trace id: the same 32 hex digits FASTLY_TRACE_ID shows */
    return hc_call_copy_str(caller, ctx->trace_id, buf, buf_len, nwritten_ptr);
}

hc_status hc_ds_compliance_region(fwe_caller *caller, hc_ctx *ctx, uint32_t req, uint32_t buf,
                                  uint32_t buf_len, uint32_t nwritten_ptr)
{
    hc_status st = hc_ds_check(ctx, req);
    if (st != HC_OK)
        return st;
    const char *region = ctx->settings && ctx->settings->compliance_region
                             ? ctx->settings->compliance_region
                             : "none";
    return hc_call_copy_str(caller, region, buf, buf_len, nwritten_ptr);
}

hc_status hc_ds_ddos_detected(fwe_caller *caller, hc_ctx *ctx, uint32_t req, uint32_t out)
{
    hc_status st = hc_ds_check(ctx, req);
    if (st != HC_OK)
        return st;
    return hc_mem_write_u32(caller, out, 0);
}

hc_status hc_ds_fastly_key_is_valid(fwe_caller *caller, hc_ctx *ctx, uint32_t req, uint32_t out)
{
    hc_request *r = hc_ctx_request(ctx, req);
    if (!r)
        return HC_BADF;
    uint32_t valid = 0;
    const hc_header *key = hc_headers_get(&r->headers, "fastly-key", 10);
    const char *const *keys = ctx->settings ? ctx->settings->fake_fastly_keys : NULL;
    for (size_t i = 0; key && keys && keys[i]; i++)
        if (strlen(keys[i]) == key->value_len && memcmp(keys[i], key->value, key->value_len) == 0)
            valid = 1;
    return hc_mem_write_u32(caller, out, valid);
}

hc_status hc_ds_original_header_names(fwe_caller *caller, hc_ctx *ctx, uint32_t req,
                                      uint32_t buf, uint32_t buf_len, uint32_t cursor,
                                      uint32_t ending_ptr, uint32_t nwritten_ptr)
{
    hc_status st = hc_ds_check(ctx, req);
    if (st != HC_OK)
        return st;
    return hc_call_write_seq(caller, hc_headers_seq_original_names, &ctx->original_headers, buf,
                             buf_len, cursor, ending_ptr, nwritten_ptr);
}

hc_status hc_ds_original_header_count(fwe_caller *caller, hc_ctx *ctx, uint32_t req,
                                      uint32_t out)
{
    hc_status st = hc_ds_check(ctx, req);
    if (st != HC_OK)
        return st;
    /* as http::HeaderMap::len(): every value counts */
    return hc_mem_write_u32(caller, out, (uint32_t)ctx->original_headers.n);
}

/* ---- next_request (single-request model) ---- */

static fwe_trap_kind next_request(fwe_caller *caller, uint64_t *slots, void *data)
{
    HC_CTX(ctx);
    uint32_t mask = HC_ARG(0), options = HC_ARG(1), out = HC_ARG(2);
    if (mask & ~0x3u)
        HC_RETURN(HC_INVAL);
    uint64_t timeout_ms;
    hc_status st = hc_mem_read_u64(caller, options, &timeout_ms);
    if (st != HC_OK)
        HC_RETURN(st);
    if (ctx->promise_pending)
        HC_RETURN(HC_LIMITEXCEEDED);
    uint32_t h = hc_table_add(&ctx->items, HC_ITEM_REQUEST_PROMISE, ctx);
    if (h == HC_HANDLE_INVALID)
        HC_RETURN(HC_LIMITEXCEEDED);
    ctx->promise_pending = true;
    HC_RETURN(hc_mem_write_u32(caller, out, h));
}

static fwe_trap_kind next_request_wait(fwe_caller *caller, uint64_t *slots, void *data)
{
    HC_CTX(ctx);
    if (ctx->resp_state == HC_RESP_UNSENT)
        HC_RETURN(HC_UNSUPPORTED); /* Viceroy: answer the outstanding request first */
    if (!hc_table_take(&ctx->items, HC_ARG(0), HC_ITEM_REQUEST_PROMISE))
        HC_RETURN(HC_BADF);
    ctx->promise_pending = false;
    /* no further request comes to this instance: the promise resolves to nothing */
    HC_RETURN(HC_NONE);
}

static fwe_trap_kind next_request_abandon(fwe_caller *caller, uint64_t *slots, void *data)
{
    HC_CTX(ctx);
    if (!hc_table_take(&ctx->items, HC_ARG(0), HC_ITEM_REQUEST_PROMISE))
        HC_RETURN(HC_BADF);
    ctx->promise_pending = false;
    HC_RETURN(HC_OK);
}

/* ---- by-handle wrappers ---- */

static fwe_trap_kind original_header_names(fwe_caller *caller, uint64_t *slots, void *data)
{
    HC_CTX(ctx);
    HC_RETURN(hc_ds_original_header_names(caller, ctx, HC_ARG(0), HC_ARG(1), HC_ARG(2), HC_ARG(3),
                                          HC_ARG(4), HC_ARG(5)));
}

static fwe_trap_kind original_header_count(fwe_caller *caller, uint64_t *slots, void *data)
{
    HC_CTX(ctx);
    HC_RETURN(hc_ds_original_header_count(caller, ctx, HC_ARG(0), HC_ARG(1)));
}

static fwe_trap_kind client_ip_addr(fwe_caller *caller, uint64_t *slots, void *data)
{
    HC_CTX(ctx);
    HC_RETURN(hc_ds_ip_addr(caller, ctx, HC_ARG(0), false, HC_ARG(1), HC_ARG(2)));
}

static fwe_trap_kind server_ip_addr(fwe_caller *caller, uint64_t *slots, void *data)
{
    HC_CTX(ctx);
    HC_RETURN(hc_ds_ip_addr(caller, ctx, HC_ARG(0), true, HC_ARG(1), HC_ARG(2)));
}

static fwe_trap_kind client_request_id(fwe_caller *caller, uint64_t *slots, void *data)
{
    HC_CTX(ctx);
    HC_RETURN(hc_ds_request_id(caller, ctx, HC_ARG(0), HC_ARG(1), HC_ARG(2), HC_ARG(3)));
}

static fwe_trap_kind compliance_region(fwe_caller *caller, uint64_t *slots, void *data)
{
    HC_CTX(ctx);
    HC_RETURN(hc_ds_compliance_region(caller, ctx, HC_ARG(0), HC_ARG(1), HC_ARG(2), HC_ARG(3)));
}

static fwe_trap_kind ddos_detected(fwe_caller *caller, uint64_t *slots, void *data)
{
    HC_CTX(ctx);
    HC_RETURN(hc_ds_ddos_detected(caller, ctx, HC_ARG(0), HC_ARG(1)));
}

static fwe_trap_kind fastly_key_is_valid(fwe_caller *caller, uint64_t *slots, void *data)
{
    HC_CTX(ctx);
    HC_RETURN(hc_ds_fastly_key_is_valid(caller, ctx, HC_ARG(0), HC_ARG(1)));
}

/* TLS, fingerprints, proxy detection: metadata a plain-HTTP local server does not have. The
 * handle is checked as usual, then the answer is `none` (Viceroy's absent_metadata_value). */
static fwe_trap_kind absent(fwe_caller *caller, uint64_t *slots, void *data)
{
    HC_CTX(ctx);
    hc_status st = hc_ds_check(ctx, HC_ARG(0));
    HC_RETURN(st != HC_OK ? st : HC_NONE);
}

/* ---- bot detection from the x-fastly-bot-* request headers (as Viceroy) ---- */

static const hc_header *bot_header(hc_ctx *ctx, const char *name)
{
    return hc_headers_get(&ctx->original_headers, name, strlen(name));
}

static bool value_is(const hc_header *h, const char *s)
{
    return h && h->value_len == strlen(s) && memcmp(h->value, s, h->value_len) == 0;
}

static fwe_trap_kind bot_flag(fwe_caller *caller, uint64_t *slots, const char *name,
                              bool absent_is_none)
{
    HC_CTX(ctx);
    hc_status st = hc_ds_check(ctx, HC_ARG(0));
    if (st != HC_OK)
        HC_RETURN(st);
    const hc_header *h = bot_header(ctx, name);
    if (!h && absent_is_none)
        HC_RETURN(HC_NONE);
    HC_RETURN(hc_mem_write_u32(caller, HC_ARG(1), value_is(h, "true") ? 1 : 0));
}

static fwe_trap_kind bot_analyzed(fwe_caller *caller, uint64_t *slots, void *data)
{
    return bot_flag(caller, slots, "x-fastly-bot-analyzed", false);
}

static fwe_trap_kind bot_detected(fwe_caller *caller, uint64_t *slots, void *data)
{
    return bot_flag(caller, slots, "x-fastly-bot-detected", false);
}

static fwe_trap_kind bot_verified(fwe_caller *caller, uint64_t *slots, void *data)
{
    return bot_flag(caller, slots, "x-fastly-bot-verified", true);
}

static fwe_trap_kind bot_string(fwe_caller *caller, uint64_t *slots, const char *name)
{
    HC_CTX(ctx);
    hc_status st = hc_ds_check(ctx, HC_ARG(0));
    if (st != HC_OK)
        HC_RETURN(st);
    const hc_header *h = bot_header(ctx, name);
    if (!h)
        HC_RETURN(HC_NONE);
    HC_RETURN(hc_mem_copy_out(caller, HC_ARG(1), HC_ARG(2), HC_ARG(3), h->value, h->value_len));
}

static fwe_trap_kind bot_name(fwe_caller *caller, uint64_t *slots, void *data)
{
    return bot_string(caller, slots, "x-fastly-bot-name");
}

static fwe_trap_kind bot_category(fwe_caller *caller, uint64_t *slots, void *data)
{
    return bot_string(caller, slots, "x-fastly-bot-category");
}

static fwe_trap_kind bot_category_kind(fwe_caller *caller, uint64_t *slots, void *data)
{
    static const char *const kinds[] = {
        "none",          "suspected",         "accessibility",      "ai-crawler",
        "ai-fetcher",    "content-fetcher",   "monitoring-site-tools", "online-marketing",
        "page-preview",  "platform-integration", "research",        "search-engine-crawler",
        "search-engine-optimization", "security-tools", "headless",
    };
    HC_CTX(ctx);
    hc_status st = hc_ds_check(ctx, HC_ARG(0));
    if (st != HC_OK)
        HC_RETURN(st);
    const hc_header *h = bot_header(ctx, "x-fastly-bot-category");
    if (!h)
        HC_RETURN(HC_NONE);
    for (uint32_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
        if (strlen(kinds[i]) == h->value_len && strncasecmp(kinds[i], h->value, h->value_len) == 0)
            HC_RETURN(hc_mem_write_u32(caller, HC_ARG(1), i));
    /* else a number */
    if (h->value_len == 0 || h->value_len > 9)
        HC_RETURN(HC_NONE);
    uint32_t v = 0;
    for (size_t i = 0; i < h->value_len; i++) {
        if (h->value[i] < '0' || h->value[i] > '9')
            HC_RETURN(HC_NONE);
        v = v * 10 + (uint32_t)(h->value[i] - '0');
    }
    HC_RETURN(hc_mem_write_u32(caller, HC_ARG(1), v));
}

/* downstream_visits_*: local default, this is the request's first visit. */
static fwe_trap_kind visits(fwe_caller *caller, uint64_t *slots, void *data)
{
    HC_CTX(ctx);
    (void)ctx;
    HC_RETURN(hc_mem_write_u32(caller, HC_ARG(0), 1));
}

#define M "fastly_http_downstream"
const hc_impl hc_http_downstream_impls[] = {
    {M, "next_request", next_request},
    {M, "next_request_wait", next_request_wait},
    {M, "next_request_abandon", next_request_abandon},
    {M, "downstream_original_header_names", original_header_names},
    {M, "downstream_original_header_count", original_header_count},
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
    {M, "downstream_tls_client_servername", absent},
    {M, "downstream_tls_ja3_md5", absent},
    {M, "downstream_tls_ja4", absent},
    {M, "downstream_compliance_region", compliance_region},
    {M, "fastly_key_is_valid", fastly_key_is_valid},
    {M, "downstream_bot_analyzed", bot_analyzed},
    {M, "downstream_bot_detected", bot_detected},
    {M, "downstream_bot_name", bot_name},
    {M, "downstream_bot_category", bot_category},
    {M, "downstream_bot_category_kind", bot_category_kind},
    {M, "downstream_bot_verified", bot_verified},
    {M, "downstream_resvpnproxy_is_anonymous", absent},
    {M, "downstream_resvpnproxy_is_anonymous_vpn", absent},
    {M, "downstream_resvpnproxy_is_hosting_provider", absent},
    {M, "downstream_resvpnproxy_is_proxy_over_vpn", absent},
    {M, "downstream_resvpnproxy_is_public_proxy", absent},
    {M, "downstream_resvpnproxy_is_relay_proxy", absent},
    {M, "downstream_resvpnproxy_is_residential_proxy", absent},
    {M, "downstream_resvpnproxy_is_smart_dns_proxy", absent},
    {M, "downstream_resvpnproxy_is_tor_exit_node", absent},
    {M, "downstream_resvpnproxy_is_vpn_datacenter", absent},
    {M, "downstream_resvpnproxy_vpn_service_name", absent},
    {M, "downstream_visits_this_service", visits},
    {M, "downstream_visits_this_pop", visits},
    {NULL, NULL, NULL},
};
#undef M
