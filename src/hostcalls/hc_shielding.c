/* hc_shielding.c: fastly_shielding, as Viceroy answers it from its shielding sites.
 * shield_info(name) gives the info block the SDKs parse: one byte "running on it" (1 for a shield
 * declared `local`), then the unencrypted and the encrypted URL, each NUL-terminated (empty for a
 * local shield); an unknown name is inval. backend_for_shield(target) takes one of those URLs and
 * registers a dynamic backend to it for this request, named "******URL*****" as in Viceroy, with
 * the first-byte / between-bytes timeouts the options give. Unlike Viceroy, asking twice for the
 * same target gives the same backend again (Viceroy fails the second call with `error`, which no
 * production guest expects). */
#include "hc_shielding.h"

#include "backend/be_backend.h"
#include "config/cfg_backend.h"
#include "config/cfg_edge.h"
#include "hc_edge_handles.h"
#include "hc_hostcall.h"
#include "hc_pending.h"

#include <stdlib.h>
#include <string.h>

/* shield_backend_options bits */
enum { OPT_RESERVED = 1, OPT_USE_CACHE_KEY = 2, OPT_FIRST_BYTE = 4, OPT_BETWEEN_BYTES = 8 };
#define CONFIG_SIZE 16 /* shield_backend_config: cache_key ptr, len, two timeouts (u32 each) */

static uint32_t rd32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* Writes `len` bytes to (buf, max) with the count to nwritten_ptr; buflen with the needed size
 * there when they do not fit. */
static hc_status copy_out(fwe_caller *caller, const void *data, size_t len, uint32_t buf,
                          uint32_t max, uint32_t nwritten_ptr)
{
    if (len > max) {
        hc_mem_write_u32(caller, nwritten_ptr, (uint32_t)len);
        return HC_BUFLEN;
    }
    hc_status st = hc_mem_write_bytes(caller, buf, data, len);
    return st != HC_OK ? st : hc_mem_write_u32(caller, nwritten_ptr, (uint32_t)len);
}

static fwe_trap_kind shield_info(fwe_caller *caller, uint64_t *slots, void *data)
{
    HC_CTX(ctx);
    uint32_t name_len = HC_ARG(1);
    const char *name = (const char *)hc_mem_slice(caller, HC_ARG(0), name_len);
    if (!name || !hc_utf8_valid(name, name_len))
        HC_RETURN(HC_INVAL);
    const cfg_edge *edge = ctx->settings->edge;
    const cfg_shield *s = edge ? cfg_shields_find(&edge->shields, name, name_len) : NULL;
    if (!s) {
        hc_log(ctx, 1, "shield_info: no shield named '%.*s' (-shield NAME=...)",
               (int)(name_len > 64 ? 64 : name_len), name);
        HC_RETURN(HC_INVAL); /* as Viceroy: neither the local shield nor a known remote one */
    }
    const char *u = s->unencrypted ? s->unencrypted : "", *e = s->encrypted ? s->encrypted : "";
    size_t ul = strlen(u), el = strlen(e), len = 1 + ul + 1 + el + 1;
    uint8_t *block = malloc(len);
    if (!block)
        HC_RETURN(HC_ERROR);
    block[0] = s->local ? 1 : 0;
    memcpy(block + 1, u, ul + 1);
    memcpy(block + 2 + ul, e, el + 1);
    hc_status st = copy_out(caller, block, len, HC_ARG(2), HC_ARG(3), HC_ARG(4));
    free(block);
    HC_RETURN(st);
}

/* The dynamic backend for a shield URL; false when it is not a URL a backend can use. */
static bool shield_backend(const char *url, be_backend *b)
{
    cfg_backend c;
    char err[256];
    be_backend_init(b);
    if (!cfg_shield_url_ok(url) || cfg_backend_parse(url, &c, err, sizeof err) != CFG_OK)
        return false;
    bool ok = !c.name && c.uptime == CFG_UPTIME_NONE; /* a plain address, nothing else */
    b->tls = c.tls;
    b->port = c.port;
    ok = ok && be_set_str(&b->host, c.host) && be_set_str(&b->path_prefix, c.path ? c.path : "") &&
         be_set_str(&b->userinfo, c.userinfo);
    cfg_backend_deinit(&c);
    return ok;
}

static fwe_trap_kind backend_for_shield(fwe_caller *caller, uint64_t *slots, void *data)
{
    HC_CTX(ctx);
    uint32_t target_len = HC_ARG(1), mask = HC_ARG(2);
    const char *target = (const char *)hc_mem_slice(caller, HC_ARG(0), target_len);
    if (!target || !hc_utf8_valid(target, target_len) || (mask & OPT_RESERVED) ||
        (mask & ~(uint32_t)(OPT_RESERVED | OPT_USE_CACHE_KEY | OPT_FIRST_BYTE | OPT_BETWEEN_BYTES)))
        HC_RETURN(HC_INVAL);
    const uint8_t *cfg = hc_mem_slice(caller, HC_ARG(3), CONFIG_SIZE); /* read always (Viceroy) */
    if (!cfg)
        HC_RETURN(HC_INVAL);
    if (mask & OPT_USE_CACHE_KEY) {
        const char *key = (const char *)hc_mem_slice(caller, rd32(cfg), rd32(cfg + 4));
        if (!key || !hc_utf8_valid(key, rd32(cfg + 4)))
            HC_RETURN(HC_INVAL);
    }
    char *url = malloc((size_t)target_len + 1);
    char *name = malloc((size_t)target_len + 12);
    be_backend b;
    be_backend_init(&b);
    hc_status st = HC_ERROR;
    if (!url || !name)
        goto done;
    memcpy(url, target, target_len);
    url[target_len] = '\0';
    size_t nlen = (size_t)target_len + 11;
    memcpy(name, "******", 6);
    memcpy(name + 6, target, target_len);
    memcpy(name + 6 + target_len, "*****", 6);
    bool dyn = false;
    const be_backend *have = hc_backend_lookup(ctx, name, nlen, &dyn);
    if (have && dyn) { /* this shield's backend was made already: the same one */
        st = copy_out(caller, name, nlen, HC_ARG(4), HC_ARG(5), HC_ARG(6));
        goto done;
    }
    if (!shield_backend(url, &b)) {
        st = HC_INVAL;
        goto done;
    }
    if (mask & OPT_FIRST_BYTE) {
        b.first_byte_timeout_ms = rd32(cfg + 8);
        b.timeouts_set |= BE_SET_FIRST_BYTE;
    }
    if (mask & OPT_BETWEEN_BYTES) {
        b.between_bytes_timeout_ms = rd32(cfg + 12);
        b.timeouts_set |= BE_SET_BETWEEN_BYTES;
    }
    if (nlen > HC_ARG(5)) { /* before registering, so a retry with a larger buffer works */
        st = copy_out(caller, name, nlen, HC_ARG(4), HC_ARG(5), HC_ARG(6));
        goto done;
    }
    if (!be_set_str(&b.name, name))
        goto done;
    st = hc_backend_register(ctx, &b);
    if (st == HC_OK) {
        hc_log(ctx, 1, "backend_for_shield: backend '%s' -> %s", name, url);
        st = copy_out(caller, name, nlen, HC_ARG(4), HC_ARG(5), HC_ARG(6));
    }
done:
    be_backend_deinit(&b);
    free(url);
    free(name);
    HC_RETURN(st);
}

#define M "fastly_shielding"
const hc_impl hc_shielding_impls[] = {
    {M, "shield_info", shield_info},
    {M, "backend_for_shield", backend_for_shield},
    {NULL, NULL, NULL},
};
#undef M
