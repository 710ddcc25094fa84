/* hc_resp_extras.c: interim 1xx responses, response trailers (and the Trailer field announcing
 * them) and the HEAD response's declared length, between the hostcalls' response records and the
 * server's sink. */
#include "hc_resp_extras.h"

#include <stdlib.h>
#include <string.h>

bool hc_interim_status_ok(uint32_t status)
{
    return status >= 100 && status <= 199 && status != 101;
}

/* Fields a 1xx head or a trailer section must not carry: the framing is the server's. */
static bool is_framing(const char *name, size_t len)
{
    static const char *const names[] = {
        "content-length", "transfer-encoding", "connection", "keep-alive", "te",
        "trailer",        "upgrade",           "host"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (hc_header_name_eq(name, len, names[i], strlen(names[i])))
            return true;
    return false;
}

/* Views of the fields of `h` that may go out (is_framing ones left out); NULL when out of
 * memory. */
static hc_header_view *views_of(const hc_headers *h, size_t *n)
{
    hc_header_view *v = calloc(h->n ? h->n : 1, sizeof *v);
    *n = 0;
    if (!v)
        return NULL;
    for (size_t i = 0; i < h->n; i++) {
        const hc_header *x = &h->items[i];
        if (!is_framing(x->name, x->name_len))
            v[(*n)++] = (hc_header_view){x->name, x->name_len, x->value, x->value_len};
    }
    return v;
}

hc_status hc_send_interim(hc_ctx *ctx, const hc_response *r, uint16_t status)
{
    if (ctx->resp_state != HC_RESP_UNSENT || !ctx->sink)
        return HC_ERROR; /* the final response went out (Viceroy: DownstreamRespSending) */
    if (!ctx->sink->send_info) {
        hc_log(ctx, 1, "interim response %u not forwarded (no interim responses here)", status);
        return HC_OK;
    }
    size_t n;
    hc_header_view *v = views_of(&r->headers, &n);
    if (!v)
        return HC_ERROR;
    int rc = ctx->sink->send_info(ctx->sink->sink, status, v, n);
    free(v);
    return rc == 0 ? HC_OK : HC_ERROR;
}

hc_status hc_send_trailers(hc_ctx *ctx, const hc_headers *trailers)
{
    if (!trailers || trailers->n == 0 || !ctx->sink || !ctx->sink->trailers)
        return HC_OK;
    size_t n;
    hc_header_view *v = views_of(trailers, &n);
    if (!v)
        return HC_ERROR;
    int rc = n ? ctx->sink->trailers(ctx->sink->sink, v, n) : 0;
    free(v);
    return rc == 0 ? HC_OK : HC_ERROR;
}

char *hc_trailer_names(const hc_headers *trailers)
{
    size_t cap = 1;
    for (size_t i = 0; i < trailers->n; i++)
        cap += trailers->items[i].name_len + 2;
    char *out = malloc(cap);
    if (!out)
        return NULL;
    size_t len = 0;
    for (size_t i = 0; i < trailers->n; i++) {
        const hc_header *t = &trailers->items[i];
        bool seen = false;
        for (size_t j = 0; j < i && !seen; j++)
            seen = hc_header_name_eq(t->name, t->name_len, trailers->items[j].name,
                                     trailers->items[j].name_len);
        if (seen || is_framing(t->name, t->name_len))
            continue;
        if (len > 0) {
            memcpy(out + len, ", ", 2);
            len += 2;
        }
        memcpy(out + len, t->name, t->name_len);
        len += t->name_len;
    }
    out[len] = '\0';
    if (len == 0) {
        free(out);
        return NULL;
    }
    return out;
}

bool hc_downstream_is_head(const hc_ctx *ctx)
{
    if (!ctx || ctx->n_ds_meta == 0)
        return false;
    const hc_downstream_request *req = ctx->ds_meta[ctx->n_ds_meta - 1].req;
    return req && req->method && strcmp(req->method, "HEAD") == 0;
}

int64_t hc_head_content_length(const hc_response *r, bool have_len, uint64_t known)
{
    const hc_header *h = hc_headers_get(&r->headers, "content-length", 14);
    if (h && h->value_len > 0 && h->value_len <= 18 &&
        !hc_headers_get(&r->headers, "transfer-encoding", 17)) {
        int64_t v = 0;
        size_t i = 0;
        for (; i < h->value_len && h->value[i] >= '0' && h->value[i] <= '9'; i++)
            v = v * 10 + (h->value[i] - '0');
        if (i == h->value_len)
            return v;
    }
    return have_len && known > 0 ? (int64_t)known : -1;
}
