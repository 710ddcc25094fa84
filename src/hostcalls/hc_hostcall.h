/* hc_hostcall.h: the calling convention shared by the hostcall modules: arguments come in
 * engine slots (i32 in the low 32 bits), the fastly_status goes back in slot 0, and a hostcall
 * never traps on guest input. Also the cursor writer with its out-parameters (Viceroy's
 * multi_value_result). */
#ifndef HC_HOSTCALL_H
#define HC_HOSTCALL_H

#include "fwe.h"
#include "hc_ctx_internal.h"
#include "hc_headers.h"
#include "hc_mem.h"
#include "hc_status.h"

#define HC_ARG(i) ((uint32_t)slots[(i)])
#define HC_ARG64(i) ((uint64_t)slots[(i)])

/* Stores the status as the call's i32 result and returns from the host function. */
#define HC_RETURN(st)                                                                              \
    do {                                                                                           \
        slots[0] = (uint32_t)(st);                                                                 \
        return FWE_TRAP_NONE;                                                                      \
    } while (0)

/* Declares `ctx` for the calling instance; a guest run without a request context gets `error`. */
#define HC_CTX(ctx)                                                                                \
    hc_ctx *ctx = hc_caller_ctx(caller);                                                           \
    if (!ctx)                                                                                      \
    HC_RETURN(HC_ERROR)

/* The cursor writer over guest memory: validates (buf, buf_len), writes the items from `cursor`,
 * nwritten and, when ending_ptr != 0, the ending cursor (-1 on errors), in Viceroy's order. */
hc_status hc_call_write_seq(fwe_caller *caller, hc_seq_fn fn, const void *seq, uint32_t buf,
                            uint32_t buf_len, uint32_t cursor, uint32_t ending_ptr,
                            uint32_t nwritten_ptr);

/* Reads a guest header name (ptr, len) and validates it: inval when longer than
 * HC_HEADER_NAME_MAX or outside memory, error when not a valid name (as Viceroy). */
hc_status hc_call_header_name(fwe_caller *caller, uint32_t ptr, uint32_t len, const char **name);

/* The header hostcalls on one header list (requests, responses, body trailers). */
hc_status hc_call_header_names_get(fwe_caller *caller, const hc_headers *h, uint32_t buf,
                                   uint32_t buf_len, uint32_t cursor, uint32_t ending_ptr,
                                   uint32_t nwritten_ptr);
hc_status hc_call_header_value_get(fwe_caller *caller, const hc_headers *h, uint32_t name,
                                   uint32_t name_len, uint32_t buf, uint32_t buf_len,
                                   uint32_t nwritten_ptr);
hc_status hc_call_header_values_get(fwe_caller *caller, const hc_headers *h, uint32_t name,
                                    uint32_t name_len, uint32_t buf, uint32_t buf_len,
                                    uint32_t cursor, uint32_t ending_ptr, uint32_t nwritten_ptr);
hc_status hc_call_header_values_set(fwe_caller *caller, hc_headers *h, uint32_t name,
                                    uint32_t name_len, uint32_t values, uint32_t values_len);
/* replace: insert (true) or append (false). */
hc_status hc_call_header_add(fwe_caller *caller, hc_headers *h, uint32_t name, uint32_t name_len,
                             uint32_t value, uint32_t value_len, bool replace);
hc_status hc_call_header_remove(fwe_caller *caller, hc_headers *h, uint32_t name,
                                uint32_t name_len);

/* The seven header hostcalls that fastly_http_req and fastly_http_resp both have, each over the
 * header list of the handle in argument 0; their other arguments follow it as in the witx. */
typedef enum hc_header_call {
    HC_HEADER_NAMES_GET,
    HC_HEADER_VALUE_GET,
    HC_HEADER_VALUES_GET,
    HC_HEADER_VALUES_SET,
    HC_HEADER_INSERT,
    HC_HEADER_APPEND,
    HC_HEADER_REMOVE,
} hc_header_call;

/* The header list of a request or response handle; NULL when the handle is not one (badf). */
typedef hc_headers *(*hc_headers_of_fn)(hc_ctx *ctx, uint32_t handle);

/* Runs header hostcall `which` on the list `of` finds for argument 0 (error without a request
 * context, badf for a bad handle) and stores its status in slot 0. */
fwe_trap_kind hc_header_hostcall(fwe_caller *caller, uint64_t *slots, hc_headers_of_fn of,
                                 hc_header_call which);

/* Defines the seven header hostcalls as static functions named as in the witx (header_names_get,
 * header_value_get, header_values_get, header_values_set, header_insert, header_append,
 * header_remove) over the lists `of` finds, for a module's implementation table. */
#define HC_HEADER_HOSTCALL(fn, of, which)                                                          \
    static fwe_trap_kind fn(fwe_caller *caller, uint64_t *slots, void *data)                       \
    {                                                                                              \
        (void)data;                                                                                \
        return hc_header_hostcall(caller, slots, of, which);                                       \
    }
#define HC_HEADER_HOSTCALLS(of)                                                                    \
    HC_HEADER_HOSTCALL(header_names_get, of, HC_HEADER_NAMES_GET)                                  \
    HC_HEADER_HOSTCALL(header_value_get, of, HC_HEADER_VALUE_GET)                                  \
    HC_HEADER_HOSTCALL(header_values_get, of, HC_HEADER_VALUES_GET)                                \
    HC_HEADER_HOSTCALL(header_values_set, of, HC_HEADER_VALUES_SET)                                \
    HC_HEADER_HOSTCALL(header_insert, of, HC_HEADER_INSERT)                                        \
    HC_HEADER_HOSTCALL(header_append, of, HC_HEADER_APPEND)                                        \
    HC_HEADER_HOSTCALL(header_remove, of, HC_HEADER_REMOVE)

/* The none-or-string getters: copies a NUL-free string with hc_mem_copy_out semantics. */
hc_status hc_call_copy_str(fwe_caller *caller, const char *s, uint32_t buf, uint32_t buf_len,
                           uint32_t nwritten_ptr);

#endif
