/* srv_http_parse.c: the strict request-head parser and the chunked decoder (see srv_http_parse.h
 * for the rules). */
#include "server/srv_http_parse.h"

#include <string.h>
#include <strings.h>

#define MAX_CHUNK_LINE 4096 /* a chunk-size line with extensions, or one trailer line */

/* RFC 9110 tchar */
static bool is_tchar(unsigned char c)
{
    if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))
        return true;
    return c && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

static bool ieq(const char *a, size_t alen, const char *lit)
{
    size_t n = strlen(lit);
    return alen == n && strncasecmp(a, lit, n) == 0;
}

/* Finds the end of the line starting at p: returns the index of its LF (or -1 when not there
 * yet) and the length of its content (without CR LF) in *content. A CR anywhere but before the
 * LF is an error (-2). */
static long line_end(const char *buf, size_t len, size_t p, size_t *content)
{
    for (size_t i = p; i < len; i++) {
        if (buf[i] == '\n') {
            size_t end = i;
            if (end > p && buf[end - 1] == '\r')
                end--;
            *content = end - p;
            return (long)i;
        }
        if (buf[i] == '\r' && i + 1 < len && buf[i + 1] != '\n')
            return -2;
    }
    return -1;
}

static long fail(int *status, const char **why, int code, const char *reason)
{
    *status = code;
    *why = reason;
    return -1;
}

/* Walks a comma-separated list of tokens, calling each with its (trimmed) text. */
typedef bool (*token_fn)(void *user, const char *tok, size_t len);

static bool each_token(const char *v, size_t len, token_fn fn, void *user)
{
    size_t i = 0;
    while (i <= len) {
        size_t start = i;
        while (i < len && v[i] != ',')
            i++;
        size_t a = start, b = i;
        while (a < b && (v[a] == ' ' || v[a] == '\t'))
            a++;
        while (b > a && (v[b - 1] == ' ' || v[b - 1] == '\t'))
            b--;
        if (b > a && !fn(user, v + a, b - a))
            return false;
        i++;
    }
    return true;
}

typedef struct te_state {
    int count; /* codings seen */
    bool last_chunked;
    bool chunked_twice;
    bool other; /* a coding other than chunked */
} te_state;

static bool te_token(void *user, const char *tok, size_t len)
{
    te_state *s = user;
    bool chunked = ieq(tok, len, "chunked");
    if (chunked && s->last_chunked)
        s->chunked_twice = true;
    if (chunked && s->count > 0 && !s->last_chunked)
        s->other = true; /* "gzip, chunked": a coding we do not decode */
    if (!chunked)
        s->other = true;
    s->last_chunked = chunked;
    s->count++;
    return true;
}

typedef struct conn_state {
    bool close, keep_alive;
} conn_state;

static bool conn_token(void *user, const char *tok, size_t len)
{
    conn_state *s = user;
    if (ieq(tok, len, "close"))
        s->close = true;
    else if (ieq(tok, len, "keep-alive"))
        s->keep_alive = true;
    return true;
}

/* Parses a Content-Length value: digits only, no sign, no list. */
static int parse_length(const char *v, size_t len, int64_t *out)
{
    if (len == 0)
        return 400;
    uint64_t n = 0;
    for (size_t i = 0; i < len; i++) {
        if (v[i] < '0' || v[i] > '9')
            return 400;
        if (n > ((uint64_t)INT64_MAX - (uint64_t)(v[i] - '0')) / 10)
            return 413;
        n = n * 10 + (uint64_t)(v[i] - '0');
    }
    *out = (int64_t)n;
    return 0;
}

static long parse_request_line(const char *buf, size_t p, size_t n, srv_http_head *h, int *status,
                               const char **why)
{
    const char *line = buf + p;
    size_t i = 0;
    while (i < n && is_tchar((unsigned char)line[i]))
        i++;
    if (i == 0 || i >= n || line[i] != ' ')
        return fail(status, why, 400, "malformed request line");
    h->method = line;
    h->method_len = i;
    size_t t = ++i;
    while (i < n && line[i] != ' ') {
        unsigned char c = (unsigned char)line[i];
        if (c <= 0x20 || c == 0x7f)
            return fail(status, why, 400, "control character in the request target");
        i++;
    }
    if (i == t || i >= n)
        return fail(status, why, 400, "malformed request line");
    h->target = line + t;
    h->target_len = i - t;
    const char *v = line + i + 1;
    size_t vlen = n - i - 1;
    if (vlen != 8 || memcmp(v, "HTTP/", 5) != 0 || v[6] != '.' || v[5] < '0' || v[5] > '9' ||
        v[7] < '0' || v[7] > '9')
        return fail(status, why, 400, "malformed HTTP version");
    if (v[5] != '1' || (v[7] != '0' && v[7] != '1'))
        return fail(status, why, 505, "HTTP version not supported");
    h->minor = v[7] - '0';
    return 0;
}

/* Checks one header line and stores it; returns 0 or -1 with *status set. */
static long parse_field(const char *line, size_t n, srv_http_head *h, int *status, const char **why)
{
    if (n > 0 && (line[0] == ' ' || line[0] == '\t'))
        return fail(status, why, 400, "obsolete line folding in a header field");
    size_t i = 0;
    while (i < n && is_tchar((unsigned char)line[i]))
        i++;
    if (i == 0 || i >= n || line[i] != ':')
        return fail(status, why, 400, "malformed header field name");
    size_t a = i + 1, b = n;
    while (a < b && (line[a] == ' ' || line[a] == '\t'))
        a++;
    while (b > a && (line[b - 1] == ' ' || line[b - 1] == '\t'))
        b--;
    for (size_t k = a; k < b; k++) {
        unsigned char c = (unsigned char)line[k];
        if ((c < 0x20 && c != '\t') || c == 0x7f)
            return fail(status, why, 400, "control character in a header field value");
    }
    if (h->nfields == SRV_HTTP_MAX_FIELDS)
        return fail(status, why, 431, "too many header fields");
    h->fields[h->nfields++] = (srv_http_field){line, i, line + a, b - a};
    return 0;
}

/* Derives the framing from the fields; returns 0 or -1 with *status set. */
static long check_framing(srv_http_head *h, int *status, const char **why)
{
    te_state te = {0};
    conn_state cs = {0};
    int hosts = 0;
    bool has_te = false;
    h->content_length = -1;
    for (size_t i = 0; i < h->nfields; i++) {
        const srv_http_field *f = &h->fields[i];
        if (ieq(f->name, f->name_len, "content-length")) {
            int64_t v = 0;
            int st = parse_length(f->value, f->value_len, &v);
            if (st)
                return fail(status, why, st,
                            st == 413 ? "Content-Length too large" : "malformed Content-Length");
            if (h->content_length >= 0 && h->content_length != v)
                return fail(status, why, 400, "conflicting Content-Length fields");
            h->content_length = v;
        } else if (ieq(f->name, f->name_len, "transfer-encoding")) {
            has_te = true;
            each_token(f->value, f->value_len, te_token, &te);
        } else if (ieq(f->name, f->name_len, "host")) {
            hosts++;
        } else if (ieq(f->name, f->name_len, "connection")) {
            each_token(f->value, f->value_len, conn_token, &cs);
        } else if (ieq(f->name, f->name_len, "expect")) {
            if (!ieq(f->value, f->value_len, "100-continue"))
                return fail(status, why, 417, "unsupported expectation");
            h->expect_continue = h->minor >= 1;
        }
    }
    if (has_te) {
        if (h->content_length >= 0)
            return fail(status, why, 400, "both Content-Length and Transfer-Encoding");
        if (h->minor == 0)
            return fail(status, why, 400, "Transfer-Encoding in an HTTP/1.0 request");
        if (te.chunked_twice || te.count == 0)
            return fail(status, why, 400, "malformed Transfer-Encoding");
        if (te.other || !te.last_chunked)
            return fail(status, why, 501, "unsupported transfer coding");
        h->chunked = true;
    }
    if (hosts > 1 || (hosts == 0 && h->minor >= 1))
        return fail(status, why, 400, hosts ? "more than one Host field" : "missing Host field");
    h->keep_alive = h->minor >= 1 ? !cs.close : (cs.keep_alive && !cs.close);
    return 0;
}

long srv_http_parse_head(const char *buf, size_t len, srv_http_head *h, int *status,
                         const char **why)
{
    memset(h, 0, sizeof *h);
    size_t p = 0;
    /* RFC 9112 2.2: empty lines before the request line are ignored */
    while (p < len && (buf[p] == '\r' || buf[p] == '\n')) {
        if (buf[p] == '\r' && p + 1 < len && buf[p + 1] != '\n')
            return fail(status, why, 400, "malformed request line");
        p++;
    }
    size_t n;
    long lf = line_end(buf, len, p, &n);
    if (lf == -2)
        return fail(status, why, 400, "stray CR in the request line");
    if (lf < 0) {
        /* not HTTP (e.g. a TLS hello): say so now rather than wait for a line end */
        for (size_t i = p; i < len && buf[i] != ' '; i++)
            if (!is_tchar((unsigned char)buf[i]) && buf[i] != '\r')
                return fail(status, why, 400, "malformed request line");
        return 0;
    }
    if (parse_request_line(buf, p, n, h, status, why) < 0)
        return -1;
    p = (size_t)lf + 1;
    for (;;) {
        lf = line_end(buf, len, p, &n);
        if (lf == -2)
            return fail(status, why, 400, "stray CR in a header field");
        if (lf < 0)
            return 0;
        if (n == 0)
            break;
        if (parse_field(buf + p, n, h, status, why) < 0)
            return -1;
        p = (size_t)lf + 1;
    }
    if (check_framing(h, status, why) < 0)
        return -1;
    return lf + 1;
}

/* ---- chunked decoding ---- */

enum {
    CK_SIZE = 0, /* hex digits of a chunk size */
    CK_EXT,      /* chunk extensions up to the end of the line */
    CK_DATA,     /* chunk data */
    CK_DATA_CR,  /* the CRLF after chunk data */
    CK_DATA_LF,
    CK_TRAILER, /* at the start of a trailer line (or the final empty line) */
    CK_TRAILER_LINE,
    CK_DONE,
    /* a CR was read (maybe at the end of one read): only LF may follow */
    CK_EXT_LF,
    CK_TRAILER_LF,
    CK_TRAILER_LINE_LF,
};

static int hex_value(uint8_t c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

srv_chunked_result srv_chunked_decode(srv_chunked *c, const uint8_t *in, size_t inlen,
                                      size_t *consumed, uint8_t *out, size_t outcap,
                                      size_t *produced)
{
    size_t i = 0, o = 0;
    srv_chunked_result res = SRV_CHUNKED_MORE;
    while (i < inlen && c->state != CK_DONE) {
        uint8_t b = in[i];
        switch (c->state) {
        case CK_SIZE: {
            int v = hex_value(b);
            if (v >= 0) {
                if (c->remaining > (UINT64_MAX >> 4) || ++c->line_len > 16)
                    goto error; /* a chunk size no body can have */
                c->remaining = c->remaining * 16 + (uint64_t)v;
                if (c->remaining > (uint64_t)INT64_MAX)
                    goto error;
                i++;
                break;
            }
            if (c->line_len == 0)
                goto error; /* no digits */
            if (b == ';' || b == ' ' || b == '\t') {
                c->state = CK_EXT;
                i++;
                break;
            }
            if (b == '\r') {
                c->state = CK_EXT;
                break; /* CK_EXT takes the line end */
            }
            if (b != '\n')
                goto error;
            c->state = CK_EXT;
            break;
        }
        case CK_EXT_LF:
            if (b != '\n')
                goto error;
            /* fall through */
        case CK_EXT:
            if (b == '\n') {
                i++;
                c->line_len = 0;
                c->state = c->remaining ? CK_DATA : CK_TRAILER;
                break;
            }
            if (b == '\r') {
                i++;
                c->state = CK_EXT_LF;
                break;
            }
            if (b != '\t' && (b < 0x20 || b == 0x7f))
                goto error;
            if (++c->line_len > MAX_CHUNK_LINE)
                goto error;
            i++;
            break;
        case CK_DATA: {
            if (o == outcap)
                goto out; /* output full */
            size_t n = inlen - i;
            if (n > c->remaining)
                n = (size_t)c->remaining;
            if (n > outcap - o)
                n = outcap - o;
            memcpy(out + o, in + i, n);
            o += n;
            i += n;
            c->remaining -= n;
            if (c->remaining == 0)
                c->state = CK_DATA_CR;
            break;
        }
        case CK_DATA_CR:
            if (b == '\r') {
                c->state = CK_DATA_LF;
                i++;
                break;
            }
            if (b != '\n')
                goto error;
            /* fall through: a bare LF */
            c->state = CK_DATA_LF;
            break;
        case CK_DATA_LF:
            if (b != '\n')
                goto error;
            i++;
            c->state = CK_SIZE;
            c->line_len = 0;
            break;
        case CK_TRAILER_LF:
            if (b != '\n')
                goto error;
            /* fall through */
        case CK_TRAILER:
            if (b == '\r') {
                i++;
                c->state = CK_TRAILER_LF;
                break;
            }
            if (b == '\n') {
                i++;
                c->state = CK_DONE;
                break;
            }
            c->state = CK_TRAILER_LINE;
            c->line_len = 0;
            break;
        case CK_TRAILER_LINE_LF:
            if (b != '\n')
                goto error;
            /* fall through */
        case CK_TRAILER_LINE:
            if (b == '\n') {
                c->state = CK_TRAILER;
            } else if (b == '\r') {
                c->state = CK_TRAILER_LINE_LF;
            } else if (++c->line_len > MAX_CHUNK_LINE || (b < 0x20 && b != '\t') || b == 0x7f) {
                goto error;
            }
            i++;
            break;
        }
    }
out:
    if (c->state == CK_DONE)
        res = SRV_CHUNKED_DONE;
    *consumed = i;
    *produced = o;
    return res;
error:
    *consumed = i;
    *produced = o;
    return SRV_CHUNKED_ERROR;
}
