/* hc_fanout.c: the handoff hostcalls of fastly_http_req, as Viceroy implements them:
 * redirect_to_grip_proxy(_v2) sends the request to the local Pushpin with `pushpin-route: NAME`
 * (Pushpin's routes pick the backend), redirect_to_websocket_proxy(_v2) and upgrade_websocket
 * send it straight to the named backend. The request replayed is the downstream one (v1) or the
 * given handle's method, URI and headers, with the protected headers (WebSocket control, framing)
 * kept from the downstream request (v2). Order of checks: handles, a response already sent
 * (error), the feature off (unsupported), a front end that cannot hand over (unsupported). */
#include "hc_fanout.h"

#include "backend/be_backend.h"
#include "hc_hostcall.h"
#include "hc_pending.h"
#include "util/util_grow.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Headers a v2 handoff keeps from the downstream request (Viceroy's PROTECTED_REQ_HEADERS). */
static const char *const protected_headers[] = {
    "host",    "connection",    "sec-websocket-version", "sec-websocket-key",
    "upgrade", "pushpin-route", "content-length",        "content-range",
    "expect",  "fastly-ff",     "proxy-authenticate",    "proxy-authorization",
    "te",      "trailer",       "transfer-encoding",     "cdn-loop",
};

static bool name_in(const char *name, size_t len, const char *const *list, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (strlen(list[i]) == len && strncasecmp(list[i], name, len) == 0)
            return true;
    return false;
}

static bool is_protected(const char *name, size_t len)
{
    return name_in(name, len, protected_headers,
                   sizeof protected_headers / sizeof *protected_headers);
}

void hc_handoff_free(hc_handoff *h)
{
    if (!h)
        return;
    free(h->name);
    free(h->host);
    free(h->head);
    free(h->sni);
    free(h->verify_host);
    free(h->ca_file);
    free(h->ca_pem);
    free(h->client_cert_file);
    free(h->client_key_file);
    free(h);
}

bool hc_ctx_handed_off(const hc_ctx *ctx)
{
    return ctx && ctx->handed_off != 0 && ctx->handed_off == ctx->ds_req + 1;
}

/* ---- building the request head ---- */

typedef struct head_buf {
    char *p;
    size_t len, cap;
    bool failed;
} head_buf;

static void put(head_buf *b, const char *s, size_t n)
{
    if (b->failed)
        return;
    if (!util_grow((void **)&b->p, &b->cap, b->len + n + 1, 1024, 1)) {
        b->failed = true;
        return;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

static void puts0(head_buf *b, const char *s)
{
    put(b, s, strlen(s));
}

static void put_field(head_buf *b, const char *name, size_t nlen, const char *value, size_t vlen)
{
    put(b, name, nlen);
    put(b, ": ", 2);
    put(b, value, vlen);
    put(b, "\r\n", 2);
}

/* The path and query of a request URI: what follows the authority of an absolute URI, or the URI
 * itself; the caller puts a "/" in front when it does not start with one. */
static void uri_path(const char *uri, const char **path, size_t *len)
{
    const char *p = uri;
    const char *scheme_end = strstr(uri, "://");
    if (uri[0] != '/' && scheme_end) {
        p = scheme_end + 3;
        p += strcspn(p, "/?#");
    }
    *path = p;
    *len = strcspn(p, "#");
}

/* Fields we never copy: the front end frames the replayed body itself, Expect was answered by
 * it already, and Host / Connection / pushpin-route are set here. */
static bool skipped(const char *name, size_t len)
{
    static const char *const names[] = {"content-length", "transfer-encoding", "expect", "host",
                                        "pushpin-route"};
    return name_in(name, len, names, sizeof names / sizeof *names);
}

typedef struct handoff_src {
    const char *method;
    const char *uri;
    const hc_headers *headers;  /* the request's (v2) or the downstream one's (v1) */
    const hc_headers *original; /* the downstream request's */
    bool v2;
} handoff_src;

static bool has_upgrade(const hc_headers *h)
{
    return hc_headers_get(h, "upgrade", 7) != NULL;
}

static void put_headers(head_buf *b, const handoff_src *src, bool upgrade)
{
    /* v2: the protected fields from the downstream request first, then the request's others */
    if (src->v2) {
        for (size_t i = 0; i < src->original->n; i++) {
            const hc_header *h = &src->original->items[i];
            if (!is_protected(h->name, h->name_len) || skipped(h->name, h->name_len))
                continue;
            if (!upgrade && h->name_len == 10 && strncasecmp(h->name, "connection", 10) == 0)
                continue;
            put_field(b, h->name, h->name_len, h->value, h->value_len);
        }
    }
    for (size_t i = 0; i < src->headers->n; i++) {
        const hc_header *h = &src->headers->items[i];
        if (skipped(h->name, h->name_len) || (src->v2 && is_protected(h->name, h->name_len)))
            continue;
        if (!upgrade && h->name_len == 10 && strncasecmp(h->name, "connection", 10) == 0)
            continue;
        put_field(b, h->name, h->name_len, h->value, h->value_len);
    }
}

/* Builds the handoff of `src` to host:port with the given Host header, path prefix and pushpin
 * route (NULL: none). NULL when out of memory. */
static hc_handoff *build(const handoff_src *src, bool to_pushpin, const char *name, size_t name_len,
                         const char *host, uint16_t port, const char *host_header,
                         const char *prefix)
{
    hc_handoff *h = calloc(1, sizeof *h);
    head_buf b = {0};
    if (!h)
        return NULL;
    h->to_pushpin = to_pushpin;
    h->port = port;
    h->name = malloc(name_len + 1);
    h->host = strdup(host);
    if (!h->name || !h->host) {
        hc_handoff_free(h);
        return NULL;
    }
    memcpy(h->name, name, name_len);
    h->name[name_len] = '\0';
    h->upgrade = has_upgrade(src->original) || (src->v2 && has_upgrade(src->headers));
    const char *path;
    size_t path_len;
    uri_path(src->uri, &path, &path_len);
    puts0(&b, src->method);
    put(&b, " ", 1);
    size_t plen = prefix ? strlen(prefix) : 0;
    while (plen > 0 && prefix[plen - 1] == '/')
        plen--;
    put(&b, prefix ? prefix : "", plen);
    if (path[0] != '/')
        put(&b, "/", 1);
    put(&b, path, path_len);
    puts0(&b, " HTTP/1.1\r\n");
    put_field(&b, "Host", 4, host_header, strlen(host_header));
    put_headers(&b, src, h->upgrade);
    if (to_pushpin)
        put_field(&b, "pushpin-route", 13, name, name_len);
    if (!h->upgrade)
        puts0(&b, "Connection: close\r\n");
    if (b.failed) {
        free(b.p);
        hc_handoff_free(h);
        return NULL;
    }
    h->head = b.p;
    h->head_len = b.len;
    return h;
}

/* ---- the hostcalls ---- */

/* Answers the downstream request with a plain-text error of ours (as Viceroy does when a handoff
 * cannot happen once signalled), so the guest's call still succeeds. */
static void send_error(hc_ctx *ctx, uint16_t status, const char *text)
{
    static const char ctype[] = "text/plain; charset=utf-8";
    hc_header_view hv = {"content-type", 12, ctype, sizeof ctype - 1};
    size_t len = strlen(text);
    ctx->resp_state = HC_RESP_DONE;
    if (!ctx->sink || ctx->sink->send_head(ctx->sink->sink, status, &hv, 1, (int64_t)len) != 0)
        return;
    ctx->sink->write(ctx->sink->sink, (const uint8_t *)text, len);
    ctx->sink->finish(ctx->sink->sink);
}

static const char *host_and_port(const be_backend *b, char *buf, size_t n)
{
    if (strchr(b->host, ':'))
        snprintf(buf, n, "[%s]:%u", b->host, (unsigned)b->port);
    else
        snprintf(buf, n, "%s:%u", b->host, (unsigned)b->port);
    return buf;
}

static bool dup_to(char **dst, const char *src)
{
    return !src || (*dst = strdup(src)) != NULL;
}

/* The TLS settings of an https:// backend, as the backend client uses them: SNI (an empty
 * sni_hostname: none), the certificate name, CAs, client certificate files. */
static bool set_tls(hc_handoff *h, const be_backend *b)
{
    h->tls = true;
    const char *verify = b->cert_hostname ? b->cert_hostname : b->host;
    const char *sni = b->sni_hostname ? b->sni_hostname : verify;
    if (!dup_to(&h->verify_host, verify) || !dup_to(&h->sni, sni[0] ? sni : NULL) ||
        !dup_to(&h->ca_file, b->ca_file) || !dup_to(&h->client_cert_file, b->client_cert_file) ||
        !dup_to(&h->client_key_file, b->client_key_file))
        return false;
    if (b->ca_pem && b->ca_pem_len) {
        if (!(h->ca_pem = malloc(b->ca_pem_len)))
            return false;
        memcpy(h->ca_pem, b->ca_pem, b->ca_pem_len);
        h->ca_pem_len = b->ca_pem_len;
    }
    return true;
}

enum { TO_PUSHPIN = 1, TO_BACKEND = 2 };

static hc_status do_handoff(hc_ctx *ctx, fwe_caller *caller, int where, bool v2,
                            uint32_t req_handle, uint32_t name_ptr, uint32_t name_len,
                            const char *fn)
{
    const char *name = (const char *)hc_mem_slice(caller, name_ptr, name_len);
    if (!name && name_len)
        return HC_INVAL;
    if (!name)
        name = "";
    const hc_request *req = NULL;
    if (v2 && !(req = hc_ctx_request(ctx, req_handle)))
        return HC_BADF;
    if (ctx->resp_state != HC_RESP_UNSENT)
        return HC_ERROR; /* a response (or another handoff) went out already */
    const hc_fanout *fo = hc_ctx_settings(ctx)->fanout;
    if (where == TO_PUSHPIN && (!fo || !fo->pushpin_port)) {
        hc_log(ctx, 0,
               "%s: Fanout is not enabled (start Fastlike with -pushpin, or -pushpin-port PORT "
               "of a running Pushpin): unsupported",
               fn);
        return HC_UNSUPPORTED;
    }
    if (where == TO_BACKEND && fo && !fo->websocket_passthrough) {
        hc_log(ctx, 0,
               "%s: WebSocket passthrough is off (-websocket-passthrough=false): "
               "unsupported",
               fn);
        return HC_UNSUPPORTED;
    }
    const hc_ds_meta *cur = ctx->n_ds_meta ? &ctx->ds_meta[ctx->n_ds_meta - 1] : NULL;
    if (!cur || !cur->req || !cur->req->handoff) {
        hc_log(ctx, 0, "%s: this request has no connection to hand over: unsupported", fn);
        return HC_UNSUPPORTED;
    }
    handoff_src src = {.method = cur->req->method ? cur->req->method : "GET",
                       .uri = cur->req->url ? cur->req->url : "/",
                       .headers = &cur->original,
                       .original = &cur->original};
    if (v2) {
        src.method = req->method;
        src.uri = req->uri;
        src.headers = &req->headers;
        src.v2 = true;
    }
    hc_handoff *h;
    if (where == TO_PUSHPIN) {
        char host_header[32];
        snprintf(host_header, sizeof host_header, "127.0.0.1:%u", (unsigned)fo->pushpin_port);
        h = build(&src, true, name, name_len, "127.0.0.1", fo->pushpin_port, host_header, NULL);
    } else {
        bool dyn;
        const be_backend *b = hc_backend_lookup(ctx, name, name_len, &dyn);
        char text[512];
        if (!b) {
            snprintf(text, sizeof text, "Backend handoff signaled to unknown backend '%.*s'.\n",
                     (int)(name_len > 200 ? 200 : name_len), name);
            hc_log(ctx, 0, "%s: %.*s", fn, (int)strcspn(text, "\n"), text);
            send_error(ctx, 500, text);
            return HC_OK;
        }
        char hp[300];
        const char *host_header =
            b->override_host ? b->override_host : host_and_port(b, hp, sizeof hp);
        h = build(&src, false, name, name_len, b->host, b->port, host_header, b->path_prefix);
        if (h && b->tls && !set_tls(h, b)) {
            hc_handoff_free(h);
            h = NULL;
        }
    }
    if (!h)
        return HC_ERROR;
    bool upgrade = h->upgrade;
    if (cur->req->handoff(cur->req->handoff_src, h) != 0)
        return HC_ERROR; /* the front end took ownership and freed it */
    ctx->resp_state = HC_RESP_DONE;
    ctx->handed_off = ctx->ds_req + 1;
    hc_log(ctx, 1, "%s: handing the connection to %s '%.*s'%s", fn,
           where == TO_PUSHPIN ? "Pushpin, route" : "backend", (int)name_len, name,
           upgrade ? " (upgrade)" : "");
    return HC_OK;
}

/* The five handoff hostcalls: (name, name_len) for v1, (req, name, name_len) for v2. */
static fwe_trap_kind handoff_call(fwe_caller *caller, uint64_t *slots, int where, bool v2,
                                  const char *fn)
{
    HC_CTX(ctx);
    uint32_t req = v2 ? HC_ARG(0) : 0, at = v2 ? 1 : 0;
    HC_RETURN(do_handoff(ctx, caller, where, v2, req, HC_ARG(at), HC_ARG(at + 1), fn));
}

static fwe_trap_kind grip(fwe_caller *caller, uint64_t *slots, void *data)
{
    return handoff_call(caller, slots, TO_PUSHPIN, false, "redirect_to_grip_proxy");
}

static fwe_trap_kind grip_v2(fwe_caller *caller, uint64_t *slots, void *data)
{
    return handoff_call(caller, slots, TO_PUSHPIN, true, "redirect_to_grip_proxy_v2");
}

static fwe_trap_kind websocket(fwe_caller *caller, uint64_t *slots, void *data)
{
    return handoff_call(caller, slots, TO_BACKEND, false, "redirect_to_websocket_proxy");
}

static fwe_trap_kind websocket_v2(fwe_caller *caller, uint64_t *slots, void *data)
{
    return handoff_call(caller, slots, TO_BACKEND, true, "redirect_to_websocket_proxy_v2");
}

/* upgrade_websocket(backend): the older spelling of the WebSocket passthrough of the downstream
 * request (Viceroy leaves it unavailable; Fastlike treats it as redirect_to_websocket_proxy). */
static fwe_trap_kind upgrade_websocket(fwe_caller *caller, uint64_t *slots, void *data)
{
    return handoff_call(caller, slots, TO_BACKEND, false, "upgrade_websocket");
}

#define M "fastly_http_req"
const hc_impl hc_fanout_impls[] = {
    {M, "redirect_to_grip_proxy", grip},
    {M, "redirect_to_grip_proxy_v2", grip_v2},
    {M, "redirect_to_websocket_proxy", websocket},
    {M, "redirect_to_websocket_proxy_v2", websocket_v2},
    {M, "upgrade_websocket", upgrade_websocket},
    {NULL, NULL, NULL},
};
#undef M
