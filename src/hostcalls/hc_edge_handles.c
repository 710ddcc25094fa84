/* hc_edge_handles.c: the per-request handle table of the edge-data modules (dictionaries, config
 * stores, secret stores, secrets, ACLs, log endpoints), made on the first handle, and the checked
 * reading of their witx `string` arguments (bounds and UTF-8, as wiggle). */
#include "hc_edge_handles.h"
#include "profiler/prof_recorder.h"

#include "hc_log.h"
#include "hc_mem.h"

#include <stdlib.h>
#include <string.h>

struct hc_edge_handles {
    hc_table t;
};

void hc_secret_free(hc_secret *s)
{
    if (!s)
        return;
    if (s->owned) {
        /* plaintext from the guest: do not leave it in freed heap memory */
        volatile uint8_t *p = s->owned;
        for (size_t i = 0; i < s->len; i++)
            p[i] = 0;
        free(s->owned);
    }
    free(s);
}

/* The name of a named edge object (dictionaries, config and secret stores, ACLs all begin with
 * `char *name`), for the profiler's store counts; NULL for the other kinds. */
static const char *named(hc_edge_kind kind, const void *obj)
{
    if (!obj || (kind != HC_EDGE_DICT && kind != HC_EDGE_SECRET_STORE && kind != HC_EDGE_ACL))
        return NULL;
    return *(char *const *)obj;
}

static void count_access(hc_edge_kind kind, const void *obj)
{
    const char *n = named(kind, obj);
    if (n)
        prof_store_access(n, strlen(n));
}

hc_status hc_edge_add(hc_ctx *ctx, hc_edge_kind kind, void *obj, uint32_t *handle)
{
    count_access(kind, obj);
    if (!ctx->edge) {
        ctx->edge = calloc(1, sizeof *ctx->edge);
        if (!ctx->edge)
            return HC_LIMITEXCEEDED;
        hc_table_init(&ctx->edge->t);
    }
    uint32_t h = hc_table_add(&ctx->edge->t, (uint8_t)kind, obj);
    if (h == HC_HANDLE_INVALID)
        return HC_LIMITEXCEEDED;
    *handle = h;
    return HC_OK;
}

void *hc_edge_get(hc_ctx *ctx, uint32_t handle, hc_edge_kind kind)
{
    void *obj = ctx->edge ? hc_table_get(&ctx->edge->t, handle, (uint8_t)kind) : NULL;
    count_access(kind, obj);
    return obj;
}

const hc_table *hc_edge_table(const hc_ctx *ctx)
{
    return ctx->edge ? &ctx->edge->t : NULL;
}

void hc_edge_handles_free(hc_edge_handles *h)
{
    if (!h)
        return;
    for (uint32_t i = 0; i < h->t.n; i++) {
        if (h->t.kinds[i] == HC_EDGE_SECRET)
            hc_secret_free(h->t.objs[i]);
        else if (h->t.kinds[i] == HC_EDGE_LOG)
            hc_log_ref_free(h->t.objs[i]);
    }
    hc_table_deinit(&h->t);
    free(h);
}

bool hc_utf8_valid(const char *str, size_t len)
{
    const unsigned char *s = (const unsigned char *)str;
    size_t i = 0;
    while (i < len) {
        unsigned c = s[i];
        size_t n;
        unsigned min;
        if (c < 0x80) {
            i++;
            continue;
        } else if ((c & 0xE0) == 0xC0) {
            n = 1, min = 0x80, c &= 0x1F;
        } else if ((c & 0xF0) == 0xE0) {
            n = 2, min = 0x800, c &= 0x0F;
        } else if ((c & 0xF8) == 0xF0) {
            n = 3, min = 0x10000, c &= 0x07;
        } else {
            return false;
        }
        if (len - i <= n)
            return false;
        for (size_t k = 1; k <= n; k++) {
            if ((s[i + k] & 0xC0) != 0x80)
                return false;
            c = (c << 6) | (s[i + k] & 0x3F);
        }
        /* overlong forms, surrogates and values past U+10FFFF are not UTF-8 */
        if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF))
            return false;
        i += n + 1;
    }
    return true;
}

const char *hc_edge_log_name(const void *s, size_t len, char out[72])
{
    const unsigned char *p = s;
    size_t n = len > 64 ? 64 : len, o = 0;
    for (size_t i = 0; i < n; i++)
        out[o++] = (p[i] >= 0x20 && p[i] < 0x7f) ? (char)p[i] : '?';
    if (len > n)
        for (int i = 0; i < 3; i++)
            out[o++] = '.';
    out[o] = '\0';
    return out;
}

hc_status hc_edge_guest_str(fwe_caller *caller, uint32_t ptr, uint32_t len, const char **s)
{
    const char *p = (const char *)hc_mem_slice(caller, ptr, len);
    if (!p || !hc_utf8_valid(p, len))
        return HC_INVAL;
    *s = p;
    return HC_OK;
}

hc_status hc_edge_open(fwe_caller *caller, hc_ctx *ctx, uint32_t name_ptr, uint32_t name_len,
                       uint32_t handle_out, hc_edge_kind kind, hc_edge_find_fn find, const char *fn,
                       const char *what, hc_status missing)
{
    const char *name;
    hc_status st = hc_edge_guest_str(caller, name_ptr, name_len, &name);
    if (st != HC_OK)
        return st;
    const struct cfg_edge *e = hc_ctx_settings(ctx)->edge;
    const void *obj = e ? find(e, name, name_len) : NULL;
    if (!obj) {
        char shown[72];
        hc_log(ctx, 2, "%s: no %s named '%s'", fn, what, hc_edge_log_name(name, name_len, shown));
        return missing;
    }
    uint32_t h;
    st = hc_edge_add(ctx, kind, (void *)obj, &h);
    if (st != HC_OK)
        return st;
    return hc_mem_write_u32(caller, handle_out, h);
}
