/* hc_http_downstream.c: the fastly_http_downstream module: metadata of the downstream request
 * (addresses, request id, original headers, bot headers), TLS and proxy-detection getters that
 * answer `none` on plain HTTP, local defaults for visit counts, and next_request: an instance
 * that has answered its request can take further ones from the server (as Viceroy: at most 5
 * registrations per instance, a wait of at most 10 s). */
#include "hc_http_downstream.h"

#include "hc_hostcall.h"

#include "backend/be_signal.h"
#include "hc_pending.h"
#include "util/util_clock.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---- shared getters ---- */

hc_status hc_ds_check(hc_ctx *ctx, uint32_t req)
{
    if (hc_ctx_ds_meta(ctx, req))
        return HC_OK;
    return hc_ctx_request(ctx, req) ? HC_ERROR : HC_BADF;
}

hc_status hc_ds_ip_addr(fwe_caller *caller, hc_ctx *ctx, uint32_t req, bool server, uint32_t out,
                        uint32_t nwritten_ptr)
{
    hc_status st = hc_ds_check(ctx, req);
    if (st != HC_OK)
        return st;
    const hc_downstream_request *d = hc_ctx_ds_meta(ctx, req)->req;
    uint8_t octets[16];
    size_t n = 0;
    if (d)
        n = hc_sockaddr_octets(server ? &d->server_addr : &d->client_addr, octets);
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
    /* 32 hex digits: for an instance's first request the FASTLY_TRACE_ID it shows, for each
     * request a reused instance takes later one of its own (as Viceroy's per-request ids) */
    return hc_call_copy_str(caller, hc_ctx_ds_meta(ctx, req)->request_id, buf, buf_len,
                            nwritten_ptr);
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

hc_status hc_ds_original_header_names(fwe_caller *caller, hc_ctx *ctx, uint32_t req, uint32_t buf,
                                      uint32_t buf_len, uint32_t cursor, uint32_t ending_ptr,
                                      uint32_t nwritten_ptr)
{
    hc_status st = hc_ds_check(ctx, req);
    if (st != HC_OK)
        return st;
    return hc_call_write_seq(caller, hc_headers_seq_original_names,
                             &hc_ctx_ds_meta(ctx, req)->original, buf, buf_len, cursor, ending_ptr,
                             nwritten_ptr);
}

hc_status hc_ds_original_header_count(fwe_caller *caller, hc_ctx *ctx, uint32_t req, uint32_t out)
{
    hc_status st = hc_ds_check(ctx, req);
    if (st != HC_OK)
        return st;
    /* as http::HeaderMap::len(): every value counts */
    return hc_mem_write_u32(caller, out, (uint32_t)hc_ctx_ds_meta(ctx, req)->original.n);
}

/* ---- next_request: reusable instances ---- */

#define NEXT_REQ_ACCEPT_MAX 5      /* registrations per instance, as Viceroy */
#define NEXT_REQ_TIMEOUT_MS 10000u /* the longest wait, as Viceroy */

struct hc_promise {
    void *waiter; /* NULL: no request will come (limit reached, or no source) */
    uint64_t deadline_ns;
};

static void wake_signal(void *sig)
{
    be_signal_notify(sig);
}

bool hc_promise_ready(hc_ctx *ctx, hc_promise *p)
{
    return !p->waiter || util_now_ns() >= p->deadline_ns ||
           ctx->next_src->arrived(ctx->next_src->user, p->waiter);
}

uint64_t hc_promise_deadline(const hc_promise *p)
{
    return p->waiter ? p->deadline_ns : 0;
}

void hc_promise_free(hc_ctx *ctx, hc_promise *p)
{
    if (!p)
        return;
    if (p->waiter)
        ctx->next_src->wait_end(ctx->next_src->user, p->waiter, false, NULL, NULL);
    free(p);
}

static fwe_trap_kind next_request(fwe_caller *caller, uint64_t *slots, void *data)
{
    HC_CTX(ctx);
    uint32_t mask = HC_ARG(0), options = HC_ARG(1), out = HC_ARG(2);
    if (mask & ~0x3u)
        HC_RETURN(HC_INVAL);
    uint64_t timeout_ms = 0;
    hc_status st = hc_mem_read_u64(caller, options, &timeout_ms);
    if (st != HC_OK)
        HC_RETURN(st);
    if (!(mask & 0x2u) || timeout_ms > NEXT_REQ_TIMEOUT_MS) /* bit 1: timeout */
        timeout_ms = NEXT_REQ_TIMEOUT_MS;
    if (ctx->promise_pending)
        HC_RETURN(HC_LIMITEXCEEDED);
    hc_promise *p = calloc(1, sizeof *p);
    be_signal *sig = hc_backend_signal(ctx);
    if (!p || !sig) {
        free(p);
        HC_RETURN(HC_ERROR);
    }
    p->deadline_ns = util_now_ns() + timeout_ms * 1000000u;
    if (ctx->next_src && ctx->next_registered < NEXT_REQ_ACCEPT_MAX)
        p->waiter =
            ctx->next_src->wait_begin(ctx->next_src->user, p->deadline_ns, wake_signal, sig);
    ctx->next_registered = p->waiter ? ctx->next_registered + 1 : NEXT_REQ_ACCEPT_MAX;
    hc_log(ctx, 2, "next_request: %s",
           p->waiter ? "registered for another request" : "no further request will come");
    uint32_t h = hc_table_add(&ctx->items, HC_ITEM_REQUEST_PROMISE, p);
    if (h == HC_HANDLE_INVALID) {
        hc_promise_free(ctx, p);
        HC_RETURN(HC_LIMITEXCEEDED);
    }
    ctx->promise_pending = true;
    HC_RETURN(hc_mem_write_u32(caller, out, h));
}

static fwe_trap_kind next_request_wait(fwe_caller *caller, uint64_t *slots, void *data)
{
    HC_CTX(ctx);
    uint32_t req_out = HC_ARG(1), body_out = HC_ARG(2);
    if (ctx->resp_state == HC_RESP_UNSENT)
        HC_RETURN(HC_UNSUPPORTED); /* Viceroy: answer the outstanding request first */
    if (hc_table_kind(&ctx->items, HC_ARG(0)) != HC_ITEM_REQUEST_PROMISE)
        HC_RETURN(HC_BADF);
    if (ctx->resp_state == HC_RESP_STREAMING) {
        /* the response body streams through the current request's sink: it has to end first */
        hc_log(ctx, 0,
               "next_request_wait: the streaming response of the current request is "
               "still open; close its body before taking the next request");
        HC_RETURN(HC_UNSUPPORTED);
    }
    if (!hc_mem_slice(caller, req_out, 4) || !hc_mem_slice(caller, body_out, 4))
        HC_RETURN(HC_INVAL);
    hc_promise *p = hc_table_take(&ctx->items, HC_ARG(0), HC_ITEM_REQUEST_PROMISE);
    ctx->promise_pending = false;
    void *waiter = p->waiter;
    uint64_t deadline = p->deadline_ns;
    free(p);
    if (!waiter)
        HC_RETURN(HC_NONE);
    be_signal *sig = hc_backend_signal(ctx);
    const hc_next_source *src = ctx->next_src;
    for (;;) {
        uint64_t gen = be_signal_generation(sig);
        if (src->arrived(src->user, waiter) || util_now_ns() >= deadline)
            break;
        be_signal_wait(sig, gen, deadline);
    }
    const hc_downstream_request *req;
    const hc_downstream_sink *sink;
    if (!src->wait_end(src->user, waiter, true, &req, &sink))
        HC_RETURN(HC_NONE);
    hc_status st = hc_ctx_begin_request(ctx, req, sink);
    if (st != HC_OK) {
        /* the request was accepted: the server answers it after the instance ends */
        hc_log(ctx, 0, "next_request_wait: out of handles for the next request");
        HC_RETURN(st);
    }
    hc_log(ctx, 2, "next_request_wait: this instance now serves %s %s (request id %s)", req->method,
           req->url, hc_ctx_ds_meta(ctx, ctx->ds_req)->request_id);
    st = hc_mem_write_u32(caller, req_out, ctx->ds_req);
    if (st == HC_OK)
        st = hc_mem_write_u32(caller, body_out, ctx->ds_body);
    HC_RETURN(st);
}

static fwe_trap_kind next_request_abandon(fwe_caller *caller, uint64_t *slots, void *data)
{
    HC_CTX(ctx);
    hc_promise *p = hc_table_take(&ctx->items, HC_ARG(0), HC_ITEM_REQUEST_PROMISE);
    if (!p)
        HC_RETURN(HC_BADF);
    ctx->promise_pending = false;
    hc_promise_free(ctx, p);
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

static const hc_header *bot_header(hc_ctx *ctx, uint32_t req, const char *name)
{
    return hc_headers_get(&hc_ctx_ds_meta(ctx, req)->original, name, strlen(name));
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
    const hc_header *h = bot_header(ctx, HC_ARG(0), name);
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
    const hc_header *h = bot_header(ctx, HC_ARG(0), name);
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
        "none",
        "suspected",
        "accessibility",
        "ai-crawler",
        "ai-fetcher",
        "content-fetcher",
        "monitoring-site-tools",
        "online-marketing",
        "page-preview",
        "platform-integration",
        "research",
        "search-engine-crawler",
        "search-engine-optimization",
        "security-tools",
        "headless",
    };
    HC_CTX(ctx);
    hc_status st = hc_ds_check(ctx, HC_ARG(0));
    if (st != HC_OK)
        HC_RETURN(st);
    const hc_header *h = bot_header(ctx, HC_ARG(0), "x-fastly-bot-category");
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
