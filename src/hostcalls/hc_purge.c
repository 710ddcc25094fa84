/* hc_purge.c: fastly_purge.purge_surrogate_key on the shared cache: a hard purge removes every
 * object carrying the key, a soft purge marks them stale (served within their stale-while-
 * revalidate window while one caller revalidates). With ret_buf the guest gets the JSON answer of
 * Fastly's purge API ({"status":"ok","id":"..."}), buflen when it does not fit. */
#include "hc_purge.h"

#include "hc_cache_store.h"
#include "hc_hostcall.h"
#include "util/util_id.h"

#include <stdio.h>
#include <string.h>

enum { PURGE_SOFT = 1u, PURGE_RET_BUF = 2u, PURGE_ALL = 3u };

static fwe_trap_kind purge_surrogate_key(fwe_caller *caller, uint64_t *slots, void *data)
{
    HC_CTX(ctx);
    uint32_t len = HC_ARG(1), mask = HC_ARG(2);
    const char *key = (const char *)hc_mem_slice(caller, HC_ARG(0), len);
    if (!key && len)
        HC_RETURN(HC_INVAL);
    if (mask & ~(uint32_t)PURGE_ALL)
        HC_RETURN(HC_INVAL);
    /* a surrogate key: 1..1024 visible ASCII characters (as Viceroy's SurrogateKey) */
    if (len == 0 || len > HC_CACHE_SURROGATE_KEY_MAX)
        HC_RETURN(HC_INVAL);
    for (uint32_t i = 0; i < len; i++)
        if ((unsigned char)key[i] <= ' ' || (unsigned char)key[i] >= 0x7f)
            HC_RETURN(HC_INVAL);
    uint32_t ret_ptr = 0, ret_len = 0, nwritten_ptr = 0;
    if (mask & PURGE_RET_BUF) {
        const uint8_t *o = hc_mem_slice(caller, HC_ARG(3), 12);
        if (!o)
            HC_RETURN(HC_INVAL);
        if (HC_ARG(3) & 3u)
            HC_RETURN(HC_BADALIGN);
        memcpy(&ret_ptr, o, 4);
        memcpy(&ret_len, o + 4, 4);
        memcpy(&nwritten_ptr, o + 8, 4);
    }
    const hc_settings *s = hc_ctx_settings(ctx);
    size_t n = s->cache ? hc_cache_purge(s->cache, key, len, (mask & PURGE_SOFT) != 0) : 0;
    hc_log(ctx, 1, "purge%s surrogate key '%.*s': %zu object%s",
           (mask & PURGE_SOFT) ? " (soft)" : "", (int)len, key, n, n == 1 ? "" : "s");
    if (!(mask & PURGE_RET_BUF))
        HC_RETURN(HC_OK);
    char id[33], json[96];
    util_random_hex_id(id);
    int jl = snprintf(json, sizeof json, "{\"status\":\"ok\",\"id\":\"%.16s\"}", id);
    HC_RETURN(hc_mem_copy_out(caller, ret_ptr, ret_len, nwritten_ptr, json, (size_t)jl));
}

const hc_impl hc_purge_impls[] = {
    {"fastly_purge", "purge_surrogate_key", purge_surrogate_key},
    {NULL, NULL, NULL},
};
