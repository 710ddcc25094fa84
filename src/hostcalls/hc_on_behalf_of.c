/* hc_on_behalf_of.c: fastly_http_req.on_behalf_of(req, service). Production lets only services
 * Fastly has granted the privilege (Fastly-internal ones) cache on behalf of another service; an
 * ordinary service is refused, and Viceroy refuses every service with `unsupported`. Fastlike
 * answers as Viceroy does, after the argument checks every hostcall makes: a request handle that
 * is not open is badf, a service name outside guest memory or not UTF-8 is inval, anything else
 * is `unsupported` (the request is left unchanged). */
#include "hc_on_behalf_of.h"

#include "hc_edge_handles.h"
#include "hc_hostcall.h"

static fwe_trap_kind on_behalf_of(fwe_caller *caller, uint64_t *slots, void *data)
{
    HC_CTX(ctx);
    if (!hc_ctx_request(ctx, HC_ARG(0)))
        HC_RETURN(HC_BADF);
    const char *service = (const char *)hc_mem_slice(caller, HC_ARG(1), HC_ARG(2));
    if (!service || !hc_utf8_valid(service, HC_ARG(2)))
        HC_RETURN(HC_INVAL);
    hc_log(ctx, 1, "on_behalf_of('%.*s'): refused (a privileged call, as for ordinary services)",
           (int)(HC_ARG(2) > 64 ? 64 : HC_ARG(2)), service);
    HC_RETURN(HC_UNSUPPORTED);
}

const hc_impl hc_on_behalf_of_impls[] = {
    {"fastly_http_req", "on_behalf_of", on_behalf_of},
    {NULL, NULL, NULL},
};
