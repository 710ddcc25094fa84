/* hc_hostcall.c: helpers shared by the hostcall modules: the guest-memory cursor writer and the
 * header-list hostcalls (requests, responses and body trailers all use these), and the seven
 * header hostcalls of requests and responses in one place. */
#include "hc_hostcall.h"

#include <stdlib.h>
#include <string.h>

hc_status hc_call_write_seq(fwe_caller *caller, hc_seq_fn fn, const void *seq, uint32_t buf,
                            uint32_t buf_len, uint32_t cursor, uint32_t ending_ptr,
                            uint32_t nwritten_ptr)
{
    int64_t ending = -1;
    hc_status st;
    uint8_t *out = hc_mem_slice(caller, buf, buf_len);
    if (!out) {
        st = HC_INVAL;
    } else {
        size_t nwritten = 0;
        st = hc_seq_write(fn, seq, cursor, 0, out, buf_len, &nwritten, &ending);
        uint32_t nw = nwritten > UINT32_MAX ? 0 : (uint32_t)nwritten;
        hc_status wst = hc_mem_write_u32(caller, nwritten_ptr, nw);
        if (wst != HC_OK)
            st = wst;
    }
    if (st != HC_OK)
        ending = -1;
    if (ending_ptr != 0) {
        hc_status est = hc_mem_write_u64(caller, ending_ptr, (uint64_t)ending);
        if (est != HC_OK)
            return est;
    }
    return st;
}

hc_status hc_call_header_name(fwe_caller *caller, uint32_t ptr, uint32_t len, const char **name)
{
    if (len > HC_HEADER_NAME_MAX)
        return HC_INVAL;
    const uint8_t *p = hc_mem_slice(caller, ptr, len);
    if (!p)
        return HC_INVAL;
    if (!hc_header_name_valid((const char *)p, len))
        return HC_ERROR;
    *name = (const char *)p;
    return HC_OK;
}

hc_status hc_call_header_names_get(fwe_caller *caller, const hc_headers *h, uint32_t buf,
                                   uint32_t buf_len, uint32_t cursor, uint32_t ending_ptr,
                                   uint32_t nwritten_ptr)
{
    return hc_call_write_seq(caller, hc_headers_seq_names, h, buf, buf_len, cursor, ending_ptr,
                             nwritten_ptr);
}

hc_status hc_call_header_value_get(fwe_caller *caller, const hc_headers *h, uint32_t name,
                                   uint32_t name_len, uint32_t buf, uint32_t buf_len,
                                   uint32_t nwritten_ptr)
{
    const char *n;
    hc_status st = hc_call_header_name(caller, name, name_len, &n);
    if (st != HC_OK)
        return st;
    const hc_header *e = hc_headers_get(h, n, name_len);
    if (!e)
        return HC_INVAL; /* Viceroy: a missing header is an invalid argument */
    return hc_mem_copy_out(caller, buf, buf_len, nwritten_ptr, e->value, e->value_len);
}

hc_status hc_call_header_values_get(fwe_caller *caller, const hc_headers *h, uint32_t name,
                                    uint32_t name_len, uint32_t buf, uint32_t buf_len,
                                    uint32_t cursor, uint32_t ending_ptr, uint32_t nwritten_ptr)
{
    const char *n;
    hc_status st = hc_call_header_name(caller, name, name_len, &n);
    if (st != HC_OK) {
        if (ending_ptr != 0) {
            hc_status est = hc_mem_write_u64(caller, ending_ptr, (uint64_t)(int64_t)-1);
            if (est != HC_OK)
                return est;
        }
        return st;
    }
    /* the name points into guest memory, which the writer does not touch before reading it */
    char *copy = malloc(name_len ? name_len : 1);
    if (!copy)
        return HC_ERROR;
    memcpy(copy, n, name_len);
    hc_headers_values_seq seq = {h, copy, name_len};
    st = hc_call_write_seq(caller, hc_headers_seq_values, &seq, buf, buf_len, cursor, ending_ptr,
                           nwritten_ptr);
    free(copy);
    return st;
}

hc_status hc_call_header_values_set(fwe_caller *caller, hc_headers *h, uint32_t name,
                                    uint32_t name_len, uint32_t values, uint32_t values_len)
{
    const char *n;
    hc_status st = hc_call_header_name(caller, name, name_len, &n);
    if (st != HC_OK)
        return st;
    const char *v = (const char *)hc_mem_slice(caller, values, values_len);
    if (!v)
        return HC_INVAL;
    /* split on NUL and drop the last piece, as Viceroy (so "a\0b\0" is two values) */
    size_t start = 0;
    for (size_t i = 0; i < values_len; i++) {
        if (v[i] == '\0') {
            if (!hc_header_value_valid(v + start, i - start))
                return HC_ERROR;
            start = i + 1;
        }
    }
    hc_headers fresh;
    hc_headers_init(&fresh);
    start = 0;
    for (size_t i = 0; i < values_len; i++) {
        if (v[i] == '\0') {
            if (!hc_headers_append(&fresh, n, name_len, v + start, i - start)) {
                hc_headers_deinit(&fresh);
                return HC_ERROR;
            }
            start = i + 1;
        }
    }
    hc_headers_remove(h, n, name_len);
    for (size_t i = 0; i < fresh.n; i++) {
        const hc_header *e = &fresh.items[i];
        if (!hc_headers_append(h, e->name, e->name_len, e->value, e->value_len)) {
            hc_headers_deinit(&fresh);
            return HC_ERROR;
        }
    }
    hc_headers_deinit(&fresh);
    return HC_OK;
}

hc_status hc_call_header_add(fwe_caller *caller, hc_headers *h, uint32_t name, uint32_t name_len,
                             uint32_t value, uint32_t value_len, bool replace)
{
    const char *n;
    hc_status st = hc_call_header_name(caller, name, name_len, &n);
    if (st != HC_OK)
        return st;
    const char *v = (const char *)hc_mem_slice(caller, value, value_len);
    if (!v)
        return HC_INVAL;
    if (!hc_header_value_valid(v, value_len))
        return HC_ERROR;
    bool ok = replace ? hc_headers_insert(h, n, name_len, v, value_len)
                      : hc_headers_append(h, n, name_len, v, value_len);
    return ok ? HC_OK : HC_ERROR;
}

hc_status hc_call_header_remove(fwe_caller *caller, hc_headers *h, uint32_t name, uint32_t name_len)
{
    const char *n;
    hc_status st = hc_call_header_name(caller, name, name_len, &n);
    if (st != HC_OK)
        return st;
    return hc_headers_remove(h, n, name_len) > 0 ? HC_OK : HC_INVAL;
}

static hc_status header_call(fwe_caller *caller, uint64_t *slots, hc_headers *h,
                             hc_header_call which)
{
    switch (which) {
    case HC_HEADER_NAMES_GET:
        return hc_call_header_names_get(caller, h, HC_ARG(1), HC_ARG(2), HC_ARG(3), HC_ARG(4),
                                        HC_ARG(5));
    case HC_HEADER_VALUE_GET:
        return hc_call_header_value_get(caller, h, HC_ARG(1), HC_ARG(2), HC_ARG(3), HC_ARG(4),
                                        HC_ARG(5));
    case HC_HEADER_VALUES_GET:
        return hc_call_header_values_get(caller, h, HC_ARG(1), HC_ARG(2), HC_ARG(3), HC_ARG(4),
                                         HC_ARG(5), HC_ARG(6), HC_ARG(7));
    case HC_HEADER_VALUES_SET:
        return hc_call_header_values_set(caller, h, HC_ARG(1), HC_ARG(2), HC_ARG(3), HC_ARG(4));
    case HC_HEADER_INSERT:
    case HC_HEADER_APPEND:
        return hc_call_header_add(caller, h, HC_ARG(1), HC_ARG(2), HC_ARG(3), HC_ARG(4),
                                  which == HC_HEADER_INSERT);
    case HC_HEADER_REMOVE:
        return hc_call_header_remove(caller, h, HC_ARG(1), HC_ARG(2));
    }
    return HC_ERROR; /* not reached: every hc_header_call is handled above */
}

fwe_trap_kind hc_header_hostcall(fwe_caller *caller, uint64_t *slots, hc_headers_of_fn of,
                                 hc_header_call which)
{
    HC_CTX(ctx);
    hc_headers *h = of(ctx, HC_ARG(0));
    if (!h)
        HC_RETURN(HC_BADF);
    HC_RETURN(header_call(caller, slots, h, which));
}

hc_status hc_call_copy_str(fwe_caller *caller, const char *s, uint32_t buf, uint32_t buf_len,
                           uint32_t nwritten_ptr)
{
    return hc_mem_copy_out(caller, buf, buf_len, nwritten_ptr, s, strlen(s));
}
