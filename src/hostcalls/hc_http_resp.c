/* hc_http_resp.c: the fastly_http_resp module: response handles (status, version, headers,
 * framing and keep-alive modes, close) and send_downstream, buffered or streaming, through the
 * context's sink. send_downstream_pending belongs with pending requests (backends issue). */
#include "hc_http_resp.h"

#include "hc_hostcall.h"
#include "hc_resp_extras.h"

#define RESP(r, i)                                                                                 \
    HC_CTX(ctx);                                                                                   \
    hc_response *r = hc_ctx_response(ctx, HC_ARG(i));                                              \
    if (!r)                                                                                        \
    HC_RETURN(HC_BADF)

static fwe_trap_kind resp_new(fwe_caller *caller, uint64_t *slots, void *data)
{
    HC_CTX(ctx);
    hc_response *r = hc_response_new();
    if (!r)
        HC_RETURN(HC_ERROR);
    uint32_t h;
    hc_status st = hc_ctx_add_response(ctx, r, &h);
    if (st != HC_OK) {
        hc_response_free(r);
        HC_RETURN(st);
    }
    HC_RETURN(hc_mem_write_u32(caller, HC_ARG(0), h));
}

static fwe_trap_kind resp_close(fwe_caller *caller, uint64_t *slots, void *data)
{
    HC_CTX(ctx);
    HC_RETURN(hc_ctx_close_response(ctx, HC_ARG(0)));
}

static hc_headers *response_headers(hc_ctx *ctx, uint32_t handle)
{
    hc_response *r = hc_ctx_response(ctx, handle);
    return r ? &r->headers : NULL;
}

HC_HEADER_HOSTCALLS(response_headers)

static fwe_trap_kind version_get(fwe_caller *caller, uint64_t *slots, void *data)
{
    RESP(r, 0);
    HC_RETURN(hc_mem_write_u32(caller, HC_ARG(1), r->version));
}

static fwe_trap_kind version_set(fwe_caller *caller, uint64_t *slots, void *data)
{
    if (HC_ARG(1) > 4)
        HC_RETURN(HC_INVAL);
    RESP(r, 0);
    r->version = HC_ARG(1);
    HC_RETURN(HC_OK);
}

static fwe_trap_kind status_get(fwe_caller *caller, uint64_t *slots, void *data)
{
    RESP(r, 0);
    HC_RETURN(hc_mem_write_u16(caller, HC_ARG(1), r->status));
}

static fwe_trap_kind status_set(fwe_caller *caller, uint64_t *slots, void *data)
{
    if (HC_ARG(1) > 0xffff)
        HC_RETURN(HC_INVAL); /* not an http_status (u16) */
    RESP(r, 0);
    if (HC_ARG(1) < 100 || HC_ARG(1) > 999)
        HC_RETURN(HC_INVAL); /* http::StatusCode::from_u16 */
    r->status = (uint16_t)HC_ARG(1);
    HC_RETURN(HC_OK);
}

static fwe_trap_kind framing_headers_mode_set(fwe_caller *caller, uint64_t *slots, void *data)
{
    if (HC_ARG(1) > 1)
        HC_RETURN(HC_INVAL);
    RESP(r, 0);
    r->framing_mode = HC_ARG(1);
    HC_RETURN(HC_OK);
}

/* no_keepalive: the response goes out with `Connection: close` (Viceroy: unsupported). */
static fwe_trap_kind http_keepalive_mode_set(fwe_caller *caller, uint64_t *slots, void *data)
{
    if (HC_ARG(1) > 1)
        HC_RETURN(HC_INVAL);
    RESP(r, 0);
    r->keepalive_mode = HC_ARG(1);
    HC_RETURN(HC_OK);
}

static fwe_trap_kind send_downstream(fwe_caller *caller, uint64_t *slots, void *data)
{
    HC_CTX(ctx);
    HC_RETURN(hc_ctx_send_downstream(ctx, HC_ARG(0), HC_ARG(1), HC_ARG(2) == 1));
}

/* send_informational_response(resp, status): an interim response (e.g. 103 Early Hints) with
 * the response's headers, ahead of the final response. The handle stays the guest's. Any 1xx
 * but 101 (inval otherwise); error once the final response went out. */
static fwe_trap_kind send_informational_response(fwe_caller *caller, uint64_t *slots, void *data)
{
    RESP(r, 0);
    if (!hc_interim_status_ok(HC_ARG(1)))
        HC_RETURN(HC_INVAL);
    HC_RETURN(hc_send_interim(ctx, r, (uint16_t)HC_ARG(1)));
}

/* The backend address of a response: only for direct-pass responses in production, so `none`
 * here (as Viceroy for non-direct-pass responses). */
static fwe_trap_kind get_addr_dest(fwe_caller *caller, uint64_t *slots, void *data)
{
    RESP(r, 0);
    (void)r;
    HC_RETURN(HC_NONE);
}

#define M "fastly_http_resp"
const hc_impl hc_http_resp_impls[] = {
    {M, "new", resp_new},
    {M, "header_names_get", header_names_get},
    {M, "header_value_get", header_value_get},
    {M, "header_values_get", header_values_get},
    {M, "header_values_set", header_values_set},
    {M, "header_insert", header_insert},
    {M, "header_append", header_append},
    {M, "header_remove", header_remove},
    {M, "version_get", version_get},
    {M, "version_set", version_set},
    {M, "send_downstream", send_downstream},
    {M, "send_informational_response", send_informational_response},
    {M, "status_get", status_get},
    {M, "status_set", status_set},
    {M, "close", resp_close},
    {M, "framing_headers_mode_set", framing_headers_mode_set},
    {M, "http_keepalive_mode_set", http_keepalive_mode_set},
    {M, "get_addr_dest_ip", get_addr_dest},
    {M, "get_addr_dest_port", get_addr_dest},
    {NULL, NULL, NULL},
};
#undef M
