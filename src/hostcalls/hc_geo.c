/* hc_geo.c: fastly_geo.lookup: the address's geolocation record from the server's edge data
 * (hc_settings.edge->geo: the -geo JSON table or MaxMind database, or fastly.toml's entries), with
 * Viceroy's default location for addresses no source knows (config/cfg_geo.h has the rules). */
#include "hc_geo.h"

#include "config/cfg_edge.h"
#include "hc_hostcall.h"

#include <stdlib.h>
#include <string.h>

/* lookup(addr_octets, addr_len, buf, buf_len, nwritten_out): addr_len 4 (IPv4) or 16 (IPv6),
 * anything else is inval, as in Viceroy. */
static fwe_trap_kind geo_lookup(fwe_caller *caller, uint64_t *slots, void *data)
{
    uint32_t addr_len = HC_ARG(1);
    const uint8_t *octets = hc_mem_slice(caller, HC_ARG(0), addr_len);
    if (!octets || (addr_len != 4 && addr_len != 16))
        HC_RETURN(HC_INVAL);
    uint8_t addr[16];
    memcpy(addr, octets, addr_len); /* the output may overlap it in guest memory */
    hc_ctx *ctx = hc_caller_ctx(caller);
    const hc_settings *s = ctx ? hc_ctx_settings(ctx) : NULL;
    const cfg_geo *geo = s && s->edge ? s->edge->geo : NULL;
    char *json = NULL;
    cfg_status cst = cfg_geo_record(geo, addr_len == 4 ? 4 : 6, addr, &json);
    if (cst != CFG_OK) {
        hc_log(ctx, 1, "fastly_geo.lookup: %s",
               cst == CFG_ERR_NOMEM ? "out of memory" : "bad geolocation entry");
        HC_RETURN(HC_ERROR);
    }
    /* no record (use_default_loopback = false and no data): an empty result, as Viceroy */
    hc_status st = hc_mem_copy_out(caller, HC_ARG(2), HC_ARG(3), HC_ARG(4), json ? json : "",
                                   json ? strlen(json) : 0);
    free(json);
    HC_RETURN(st);
}

const hc_impl hc_geo_impls[] = {
    {"fastly_geo", "lookup", geo_lookup},
    {NULL, NULL, NULL},
};
