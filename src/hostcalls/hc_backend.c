/* hc_backend.c: the fastly_backend module: every getter of the witx (and the newer pooling ones)
 * over the request's dynamic backends, the configured ones and the catch-all (which answers for
 * any name it would route). An unknown name is inval, as Viceroy; exists answers 0 for it.
 * Health comes from the `@N` share: none = unknown, @0 = unhealthy, N > 0 = healthy. Properties
 * nobody set are reported as Viceroy does: timeouts `unsupported`, TLS versions and the override
 * host `none` (the JS SDK shows null for both). */
#include "hc_backend.h"

#include "hc_hostcall.h"
#include "hc_pending.h"

#include <string.h>

/* Looks up the backend named by args (0, 1); declares `b` and `dyn` or returns inval. */
#define BACKEND(b)                                                                                 \
    HC_CTX(ctx);                                                                                   \
    const char *name_ = (const char *)hc_mem_slice(caller, HC_ARG(0), HC_ARG(1));                  \
    if (!name_ && HC_ARG(1))                                                                       \
        HC_RETURN(HC_INVAL);                                                                       \
    bool dyn;                                                                                      \
    const be_backend *b = hc_backend_lookup(ctx, name_ ? name_ : "", HC_ARG(1), &dyn);             \
    if (!b)                                                                                        \
    HC_RETURN(HC_INVAL)

static fwe_trap_kind exists(fwe_caller *caller, uint64_t *slots, void *data)
{
    HC_CTX(ctx);
    const char *name = (const char *)hc_mem_slice(caller, HC_ARG(0), HC_ARG(1));
    if (!name && HC_ARG(1))
        HC_RETURN(HC_INVAL);
    bool dyn;
    const be_backend *b = hc_backend_lookup(ctx, name ? name : "", HC_ARG(1), &dyn);
    HC_RETURN(hc_mem_write_u32(caller, HC_ARG(2), b ? 1 : 0));
}

static fwe_trap_kind is_healthy(fwe_caller *caller, uint64_t *slots, void *data)
{
    BACKEND(b);
    HC_RETURN(hc_mem_write_u32(caller, HC_ARG(2), be_backend_health(b)));
}

static fwe_trap_kind is_dynamic(fwe_caller *caller, uint64_t *slots, void *data)
{
    BACKEND(b);
    (void)b;
    HC_RETURN(hc_mem_write_u32(caller, HC_ARG(2), dyn ? 1 : 0));
}

static fwe_trap_kind get_host(fwe_caller *caller, uint64_t *slots, void *data)
{
    BACKEND(b);
    HC_RETURN(hc_mem_copy_out(caller, HC_ARG(2), HC_ARG(3), HC_ARG(4), b->host, strlen(b->host)));
}

static fwe_trap_kind get_override_host(fwe_caller *caller, uint64_t *slots, void *data)
{
    BACKEND(b);
    if (!b->override_host)
        HC_RETURN(HC_NONE);
    HC_RETURN(hc_mem_copy_out(caller, HC_ARG(2), HC_ARG(3), HC_ARG(4), b->override_host,
                              strlen(b->override_host)));
}

static fwe_trap_kind get_port(fwe_caller *caller, uint64_t *slots, void *data)
{
    BACKEND(b);
    HC_RETURN(hc_mem_write_u16(caller, HC_ARG(2), b->port));
}

/* The u32 getters. */
#define U32_GETTER(fn, expr)                                                                       \
    static fwe_trap_kind fn(fwe_caller *caller, uint64_t *slots, void *data)                       \
    {                                                                                              \
        BACKEND(b);                                                                                \
        HC_RETURN(hc_mem_write_u32(caller, HC_ARG(2), (uint32_t)(expr)));                          \
    }

/* Timeouts nobody set answer `unsupported`, as Viceroy (which the SDKs read as "not set": the JS
 * SDK's connectTimeout is then null); explicit ones (embedding API, dynamic backend options) answer
 * their value. */
#define TIMEOUT_GETTER(fn, field, bit)                                                             \
    static fwe_trap_kind fn(fwe_caller *caller, uint64_t *slots, void *data)                       \
    {                                                                                              \
        BACKEND(b);                                                                                \
        if (!(b->timeouts_set & (bit)))                                                            \
            HC_RETURN(HC_UNSUPPORTED);                                                             \
        HC_RETURN(hc_mem_write_u32(caller, HC_ARG(2), b->field));                                  \
    }

TIMEOUT_GETTER(get_connect_timeout_ms, connect_timeout_ms, BE_SET_CONNECT)
TIMEOUT_GETTER(get_first_byte_timeout_ms, first_byte_timeout_ms, BE_SET_FIRST_BYTE)
TIMEOUT_GETTER(get_between_bytes_timeout_ms, between_bytes_timeout_ms, BE_SET_BETWEEN_BYTES)
U32_GETTER(get_http_keepalive_time, b->http_keepalive_ms)
U32_GETTER(get_tcp_keepalive_enable, b->tcp_keepalive ? 1 : 0)
U32_GETTER(get_tcp_keepalive_interval, b->tcp_keepalive_interval_s)
U32_GETTER(get_tcp_keepalive_probes, b->tcp_keepalive_probes)
U32_GETTER(get_tcp_keepalive_time, b->tcp_keepalive_time_s)
U32_GETTER(is_ssl, b->tls ? 1 : 0)
U32_GETTER(get_max_connections, b->max_connections)
U32_GETTER(get_max_use, b->max_use)
U32_GETTER(get_max_lifetime_ms, b->max_lifetime_ms)
U32_GETTER(is_ipv6_preferred, b->prefer_ipv4 ? 0 : 1)

/* TLS versions: `none` when not configured (or not a TLS backend). */
static fwe_trap_kind ssl_version(fwe_caller *caller, uint64_t *slots, bool max)
{
    BACKEND(b);
    int v = max ? b->ssl_max : b->ssl_min;
    if (!b->tls || v == BE_TLS_UNSET)
        HC_RETURN(HC_NONE);
    HC_RETURN(hc_mem_write_u32(caller, HC_ARG(2), (uint32_t)v));
}

static fwe_trap_kind get_ssl_min_version(fwe_caller *caller, uint64_t *slots, void *data)
{
    return ssl_version(caller, slots, false);
}

static fwe_trap_kind get_ssl_max_version(fwe_caller *caller, uint64_t *slots, void *data)
{
    return ssl_version(caller, slots, true);
}

#define M "fastly_backend"
const hc_impl hc_backend_impls[] = {
    {M, "exists", exists},
    {M, "is_healthy", is_healthy},
    {M, "is_dynamic", is_dynamic},
    {M, "get_host", get_host},
    {M, "get_override_host", get_override_host},
    {M, "get_port", get_port},
    {M, "get_connect_timeout_ms", get_connect_timeout_ms},
    {M, "get_first_byte_timeout_ms", get_first_byte_timeout_ms},
    {M, "get_between_bytes_timeout_ms", get_between_bytes_timeout_ms},
    {M, "get_http_keepalive_time", get_http_keepalive_time},
    {M, "get_tcp_keepalive_enable", get_tcp_keepalive_enable},
    {M, "get_tcp_keepalive_interval", get_tcp_keepalive_interval},
    {M, "get_tcp_keepalive_probes", get_tcp_keepalive_probes},
    {M, "get_tcp_keepalive_time", get_tcp_keepalive_time},
    {M, "is_ssl", is_ssl},
    {M, "get_ssl_min_version", get_ssl_min_version},
    {M, "get_ssl_max_version", get_ssl_max_version},
    {M, "get_max_connections", get_max_connections},
    {M, "get_max_use", get_max_use},
    {M, "get_max_lifetime_ms", get_max_lifetime_ms},
    {M, "is_ipv6_preferred", is_ipv6_preferred},
    {NULL, NULL, NULL},
};
#undef M
