/* hc_acl.c: fastly_acl.open/lookup over the server's ACLs (hc_settings.edge). A match is a new
 * body holding the entry as JSON and acl_error `ok`; no match is acl_error `no_content` and no
 * body. Unknown names are `none`, bad handles `badf`, an address that is not 4 or 16 bytes
 * `inval` (as Viceroy). */
#include "hc_acl.h"

#include "config/cfg_edge.h"
#include "hc_edge_handles.h"
#include "hc_hostcall.h"

#include <stdio.h>
#include <string.h>

/* typenames.witx acl_error */
enum { ACL_ERROR_OK = 1, ACL_ERROR_NO_CONTENT = 2 };

/* Rust's Display for Ipv6Addr: v4-mapped as ::ffff:a.b.c.d, else the longest run (first of equal
 * ones) of two or more zero groups as "::", groups in lowercase hex without leading zeros. */
static size_t ipv6_text(const uint8_t a[16], char *out, size_t cap)
{
    static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (memcmp(a, mapped, 12) == 0) {
        int n = snprintf(out, cap, "::ffff:%u.%u.%u.%u", a[12], a[13], a[14], a[15]);
        return n > 0 ? (size_t)n : 0;
    }
    unsigned g[8];
    for (int i = 0; i < 8; i++)
        g[i] = (unsigned)a[2 * i] << 8 | a[2 * i + 1];
    int best = -1, best_len = 0;
    for (int i = 0; i < 8;) {
        if (g[i] != 0) {
            i++;
            continue;
        }
        int j = i;
        while (j < 8 && g[j] == 0)
            j++;
        if (j - i > best_len) {
            best = i;
            best_len = j - i;
        }
        i = j;
    }
    if (best_len < 2)
        best = -1;
    size_t o = 0;
    for (int i = 0; i < 8 && o < cap; i++) {
        if (i == best) {
            o += (size_t)snprintf(out + o, cap - o, "::");
            i += best_len - 1;
            continue;
        }
        bool sep = i > 0 && i != best + best_len;
        int n = snprintf(out + o, cap - o, "%s%x", sep ? ":" : "", g[i]);
        if (n > 0)
            o += (size_t)n;
    }
    return o < cap ? o : cap - 1;
}

size_t hc_acl_entry_json(const cfg_acl_entry *e, char *out, size_t cap)
{
    char ip[64];
    const uint8_t *a = e->prefix.addr;
    if (e->prefix.family == 4)
        snprintf(ip, sizeof ip, "%u.%u.%u.%u", a[0], a[1], a[2], a[3]);
    else
        ipv6_text(a, ip, sizeof ip);
    int n = snprintf(out, cap, "{\n  \"prefix\": \"%s/%u\",\n  \"action\": \"%s\"\n}", ip,
                     e->prefix.len, e->action == CFG_ACL_ALLOW ? "ALLOW" : "BLOCK");
    if (n < 0)
        return 0;
    return (size_t)n < cap ? (size_t)n : cap - 1;
}

static const void *find_acl(const cfg_edge *e, const char *name, size_t len)
{
    return cfg_edge_acl(e, name, len);
}

static fwe_trap_kind acl_open(fwe_caller *caller, uint64_t *slots, void *data)
{
    HC_CTX(ctx);
    /* none: Viceroy's ValueAbsent */
    HC_RETURN(hc_edge_open(caller, ctx, HC_ARG(0), HC_ARG(1), HC_ARG(2), HC_EDGE_ACL, find_acl,
                           "fastly_acl.open", "ACL", HC_NONE));
}

static fwe_trap_kind acl_lookup(fwe_caller *caller, uint64_t *slots, void *data)
{
    HC_CTX(ctx);
    const cfg_acl *acl = hc_edge_get(ctx, HC_ARG(0), HC_EDGE_ACL);
    if (!acl)
        HC_RETURN(HC_BADF);
    uint32_t ip_len = HC_ARG(2);
    const uint8_t *ip = hc_mem_slice(caller, HC_ARG(1), ip_len);
    if (!ip || (ip_len != 4 && ip_len != 16))
        HC_RETURN(HC_INVAL);
    const cfg_acl_entry *m = cfg_acl_lookup(acl, ip_len == 4 ? 4 : 6, ip);
    if (!m)
        HC_RETURN(hc_mem_write_u32(caller, HC_ARG(4), ACL_ERROR_NO_CONTENT));
    char json[160];
    size_t n = hc_acl_entry_json(m, json, sizeof json);
    hc_body *b = hc_body_new();
    if (!b || !hc_body_push_back(b, (const uint8_t *)json, n)) {
        hc_body_free(b);
        HC_RETURN(HC_ERROR);
    }
    uint32_t h;
    hc_status st = hc_ctx_add_body(ctx, b, &h);
    if (st != HC_OK) {
        hc_body_free(b);
        HC_RETURN(st);
    }
    st = hc_mem_write_u32(caller, HC_ARG(3), h);
    if (st != HC_OK)
        HC_RETURN(st);
    HC_RETURN(hc_mem_write_u32(caller, HC_ARG(4), ACL_ERROR_OK));
}

const hc_impl hc_acl_impls[] = {
    {"fastly_acl", "open", acl_open},
    {"fastly_acl", "lookup", acl_lookup},
    {NULL, NULL, NULL},
};
