/* hc_image_optimizer.c: fastly_image_optimizer.transform_image_optimizer_request. Checks the
 * guest's arguments, sends the origin request through the ordinary backend path (hc_send_start,
 * no readthrough cache: production's Image Optimizer caches on its own), then transforms the
 * origin image by the `sdk_claims_opts` parameters and answers it with production's headers
 * (Content-Type, Content-Length, Fastly-IO-Info, Fastly-Stats). A fatal Image Optimizer error
 * (origin status not 200, not an image, too large) delivers the origin response untouched with
 * Fastly-IO-Error, as production does; the error detail's tag tells the guest which case it got
 * (ok, warning, error). The detail's message fields are zeroed: the witx gives the host no guest
 * memory to put text in, so the message goes to the log (-v 1) and the Fastly-IO-* header. */
#include "hc_image_optimizer.h"

#include "hc_hostcall.h"
#include "hc_imgopt_params.h"
#include "hc_imgopt_vips.h"
#include "hc_pending.h"
#include "util/util_grow.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* image_optimizer_transform_config_options */
enum { OPT_RESERVED = 1u << 0, OPT_SDK_CLAIMS_OPTS = 1u << 1 };
/* image_optimizer_error_tag */
enum { TAG_UNINITIALIZED = 0, TAG_OK = 1, TAG_ERROR = 2, TAG_WARNING = 3 };
/* image_optimizer_error_detail: tag, message pointer, message length */
#define DETAIL_SIZE 12
/* production's largest origin image */
#define MAX_INPUT_BYTES (50u * 1024 * 1024)

static hc_status write_detail(fwe_caller *caller, uint32_t ptr, uint32_t tag)
{
    hc_status st = hc_mem_write_u32(caller, ptr, tag);
    if (st == HC_OK)
        st = hc_mem_write_u32(caller, ptr + 4, 0);
    if (st == HC_OK)
        st = hc_mem_write_u32(caller, ptr + 8, 0);
    return st;
}

/* Reads the whole body (up to MAX_INPUT_BYTES + 1 bytes) into *out (malloc'd). */
static hc_status read_all(hc_body *b, uint8_t **out, size_t *len)
{
    size_t cap = 0, n = 0;
    uint8_t *buf = NULL;
    for (;;) {
        if (n == cap) { /* 64 KiB first, then twice the room while within the limit */
            if (cap > MAX_INPUT_BYTES)
                break;
            if (!util_grow((void **)&buf, &cap, n + 1, 64 * 1024, 1)) {
                free(buf);
                return HC_ERROR;
            }
        }
        long r = hc_body_read(b, buf + n, cap - n);
        if (r < 0) {
            free(buf);
            return HC_ERROR;
        }
        if (r == 0)
            break;
        n += (size_t)r;
    }
    *out = buf;
    *len = n;
    return HC_OK;
}

static bool set_header(hc_response *r, const char *name, const char *value)
{
    return hc_headers_insert(&r->headers, name, strlen(name), value, strlen(value));
}

/* The origin response goes to the guest as it came, marked with Fastly-IO-Error. */
static hc_status pass_through(hc_ctx *ctx, hc_response *r, hc_body *b, const uint8_t *data,
                              size_t len, const char *why)
{
    if (len > 0 && !hc_body_push_front(b, data, len))
        return HC_ERROR;
    hc_log(ctx, 1, "image optimizer: %s; the origin response is passed through", why);
    return set_header(r, "Fastly-IO-Error", why) ? HC_OK : HC_ERROR;
}

/* The transformed image replaces the (drained) origin body. */
static hc_status deliver(hc_ctx *ctx, hc_response *r, hc_body *b, const hc_io_result *res,
                         size_t in_len)
{
    static const char *const drop[] = {"content-length", "transfer-encoding", "content-type",
                                       "etag", "content-encoding"};
    for (size_t i = 0; i < sizeof drop / sizeof drop[0]; i++)
        hc_headers_remove(&r->headers, drop[i], strlen(drop[i]));
    char info[256], clen[32];
    snprintf(info, sizeof info, "ifsz=%zu idim=%dx%d ifmt=%s ofsz=%zu odim=%dx%d ofmt=%s", in_len,
             res->in_w, res->in_h, res->in_fmt, res->len, res->out_w, res->out_h, res->out_fmt);
    snprintf(clen, sizeof clen, "%zu", res->len);
    if (!hc_body_push_back(b, res->data, res->len) || !set_header(r, "Content-Type", res->mime) ||
        !set_header(r, "Content-Length", clen) || !set_header(r, "Fastly-IO-Info", info) ||
        !set_header(r, "Fastly-Stats", "io=1") ||
        (res->used_accept && !hc_headers_append(&r->headers, "Vary", 4, "Accept", 6)) ||
        (res->warning[0] && !set_header(r, "Fastly-IO-Warning", res->warning)))
        return HC_ERROR;
    hc_log(ctx, 1, "image optimizer: %s", info);
    return HC_OK;
}

/* After the send: the origin response in resp and body is transformed in place; *tag says how. */
static hc_status transform(hc_ctx *ctx, uint32_t resp, uint32_t body, const hc_io_params *params,
                           const char *accept, uint32_t *tag)
{
    hc_response *r = hc_ctx_response(ctx, resp);
    hc_body *b = hc_ctx_body(ctx, body);
    if (!r || !b)
        return HC_ERROR;
    *tag = TAG_ERROR;
    char why[320];
    if (r->status != 200) {
        snprintf(why, sizeof why, "Invalid status (the origin answered %u)", r->status);
        return pass_through(ctx, r, b, NULL, 0, why);
    }
    const hc_header *ce = hc_headers_get(&r->headers, "content-encoding", 16);
    if (ce && !(ce->value_len == 8 && memcmp(ce->value, "identity", 8) == 0))
        return pass_through(ctx, r, b, NULL, 0, "Unsupported Content-Encoding");
    uint8_t *data;
    size_t len;
    hc_status st = read_all(b, &data, &len);
    if (st != HC_OK)
        return st;
    if (len > MAX_INPUT_BYTES) {
        snprintf(why, sizeof why, "Image exceeds maximum file size (%u bytes)", MAX_INPUT_BYTES);
        st = pass_through(ctx, r, b, data, len, why);
        free(data);
        return st;
    }
    hc_io_result res;
    char err[256];
    hc_io_error e = hc_io_transform(data, len, params, accept, &res, err, sizeof err);
    if (e != HC_IO_OK) {
        st = pass_through(ctx, r, b, data, len, err);
        free(data);
        return st;
    }
    free(data);
    st = deliver(ctx, r, b, &res, len);
    *tag = res.warning[0] ? TAG_WARNING : TAG_OK;
    if (res.warning[0])
        hc_log(ctx, 1, "image optimizer: %s", res.warning);
    hc_io_result_free(&res);
    return st;
}

static hc_status do_request(fwe_caller *caller, hc_ctx *ctx, uint64_t *slots)
{
    uint32_t req_h = HC_ARG(0), body_h = HC_ARG(1), name_len = HC_ARG(3), mask = HC_ARG(4);
    uint32_t detail = HC_ARG(6), resp_ptr = HC_ARG(7), body_ptr = HC_ARG(8);
    /* the detail is where every later error is told, so it is checked first */
    if (!hc_mem_slice(caller, detail, DETAIL_SIZE))
        return HC_INVAL;
    hc_status st = write_detail(caller, detail, TAG_UNINITIALIZED);
    if (st != HC_OK)
        return st;
    char msg[320] = "";
    const char *name = (const char *)hc_mem_slice(caller, HC_ARG(2), name_len);
    const char *shown = name ? name : ""; /* for messages */
    int shown_len = (int)(name && name_len < 64 ? name_len : name ? 64 : 0);
    const char *opts = "";
    uint32_t opts_len = 0;
    st = HC_INVAL;
    if (!hc_mem_slice(caller, resp_ptr, 4) || !hc_mem_slice(caller, body_ptr, 4) ||
        (!name && name_len > 0)) {
        snprintf(msg, sizeof msg, "an argument points outside guest memory");
        goto fail;
    }
    if (mask & ~(uint32_t)OPT_SDK_CLAIMS_OPTS) {
        snprintf(msg, sizeof msg, "reserved transform config option bits 0x%x", mask);
        goto fail;
    }
    if (mask & OPT_SDK_CLAIMS_OPTS) {
        uint32_t p;
        const uint8_t *cfg = hc_mem_slice(caller, HC_ARG(5), 8);
        if (cfg) {
            memcpy(&p, cfg, 4);
            memcpy(&opts_len, cfg + 4, 4);
            opts = (const char *)hc_mem_slice(caller, p, opts_len);
        }
        if (!cfg || !opts) {
            snprintf(msg, sizeof msg, "the transform configuration points outside guest memory");
            goto fail;
        }
    }
    hc_request *req = hc_ctx_request(ctx, req_h);
    if (!req || (body_h != HC_NO_HANDLE && !hc_ctx_body(ctx, body_h))) {
        snprintf(msg, sizeof msg, "bad %s handle", req ? "body" : "request");
        st = HC_BADF;
        goto fail;
    }
    bool dyn;
    if (!hc_backend_lookup(ctx, shown, name_len, &dyn)) {
        snprintf(msg, sizeof msg, "backend '%.*s' does not exist", shown_len, shown);
        goto fail;
    }
    hc_io_params params;
    if (!hc_io_params_parse(opts, opts_len, &params, msg, sizeof msg))
        goto fail;
    if (params.ignored[0])
        hc_log(ctx, 2, "image optimizer: ignoring parameters not done locally: %s", params.ignored);
    char accept[1024] = "";
    const hc_header *ah = hc_headers_get(&req->headers, "accept", 6);
    if (ah)
        snprintf(accept, sizeof accept, "%.*s", (int)ah->value_len, ah->value);
    if (body_h == HC_NO_HANDLE) {
        /* the SDKs send the origin request without a body */
        hc_body *nb = hc_body_new();
        if (!nb) {
            st = HC_ERROR;
            goto fail;
        }
        if ((st = hc_ctx_add_body(ctx, nb, &body_h)) != HC_OK) {
            hc_body_free(nb);
            goto fail;
        }
    }
    hc_pending *p;
    be_error be;
    st = hc_send_start(ctx, req_h, body_h, shown, name_len, false, &p, &be);
    uint32_t resp = HC_NO_HANDLE, body = HC_NO_HANDLE;
    if (st == HC_OK)
        st = hc_pending_finish(ctx, p, &resp, &body, &be);
    if (st != HC_OK) {
        snprintf(msg, sizeof msg, "origin request to backend '%.*s' failed: %s", shown_len, shown,
                 be_strerror(be));
        goto fail;
    }
    uint32_t tag = TAG_ERROR;
    st = transform(ctx, resp, body, &params, ah ? accept : NULL, &tag);
    if (st != HC_OK) {
        hc_ctx_close_response(ctx, resp);
        hc_ctx_close_body(ctx, body, false);
        snprintf(msg, sizeof msg, "the origin body could not be read (or memory ran out)");
        goto fail;
    }
    write_detail(caller, detail, tag);
    st = hc_mem_write_u32(caller, resp_ptr, resp);
    return st == HC_OK ? hc_mem_write_u32(caller, body_ptr, body) : st;
fail:
    hc_log(ctx, 1, "image optimizer: %s (%s)", msg, hc_status_name(st));
    write_detail(caller, detail, TAG_ERROR);
    return st;
}

static fwe_trap_kind transform_image_optimizer_request(fwe_caller *caller, uint64_t *slots,
                                                       void *data)
{
    HC_CTX(ctx);
    HC_RETURN(do_request(caller, ctx, slots));
}

const hc_impl hc_image_optimizer_impls[] = {
    {"fastly_image_optimizer", "transform_image_optimizer_request",
     transform_image_optimizer_request},
    {NULL, NULL, NULL},
};
