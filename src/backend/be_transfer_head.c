/* be_transfer_head.c: the response head as libcurl hands it over line by line (loop thread): the
 * status line, header lines (with obsolete folding), interim 1xx heads skipped, the size limit,
 * the body length it announces, and the trailers after the body. */
#include "backend/be_transfer_internal.h"
#include "backend/be_loop.h"
#include "util/util_str.h"

#include <stdlib.h>
#include <string.h>

/* Parses "HTTP/1.1 200 OK" (also "HTTP/2 200"). */
static uint16_t parse_status(const char *line, size_t len)
{
    size_t i = 0;
    while (i < len && line[i] != ' ')
        i++;
    while (i < len && line[i] == ' ')
        i++;
    if (i + 3 > len)
        return 0;
    uint16_t v = 0;
    for (size_t k = 0; k < 3; k++) {
        char c = line[i + k];
        if (c < '0' || c > '9')
            return 0;
        v = (uint16_t)(v * 10 + (c - '0'));
    }
    return v;
}

static bool add_header_line(be_hdr_list *l, const char *line, size_t len)
{
    if (len > 0 && (line[0] == ' ' || line[0] == '\t') && l->n > 0) {
        /* obsolete line folding: continue the previous value */
        be_hdr *h = &l->items[l->n - 1];
        while (len > 0 && (line[0] == ' ' || line[0] == '\t')) {
            line++;
            len--;
        }
        char *v = realloc(h->value, h->value_len + 1 + len + 1);
        if (!v)
            return false;
        v[h->value_len] = ' ';
        memcpy(v + h->value_len + 1, line, len);
        h->value_len += 1 + len;
        v[h->value_len] = '\0';
        h->value = v;
        return true;
    }
    const char *colon = memchr(line, ':', len);
    if (!colon || colon == line)
        return true; /* not a header line: ignored */
    size_t nl = (size_t)(colon - line);
    const char *v = colon + 1;
    size_t vl = len - nl - 1;
    while (vl > 0 && (*v == ' ' || *v == '\t')) {
        v++;
        vl--;
    }
    while (vl > 0 && (v[vl - 1] == ' ' || v[vl - 1] == '\t'))
        vl--;
    return be_hdr_add(l, line, nl, v, vl);
}

static int64_t parse_length(const be_hdr_list *l)
{
    for (size_t i = 0; i < l->n; i++) {
        if (!util_str_eq_ci(l->items[i].name, l->items[i].name_len, "content-length"))
            continue;
        const be_hdr *h = &l->items[i];
        if (h->value_len == 0 || h->value_len > 18)
            return -1;
        int64_t v = 0;
        for (size_t k = 0; k < h->value_len; k++) {
            if (h->value[k] < '0' || h->value[k] > '9')
                return -1;
            v = v * 10 + (h->value[k] - '0');
        }
        return v;
    }
    return -1;
}

void be_transfer_head_complete(be_transfer *t)
{
    t->head_done = true;
    t->head_ns = t->last_recv_ns = be_now_ns();
    long v = 0;
    curl_easy_getinfo(t->easy, CURLINFO_HTTP_VERSION, &v);
    t->version = v == CURL_HTTP_VERSION_2_0 ? 3 : v == CURL_HTTP_VERSION_1_0 ? 1 : 2;
    if (t->decompress && !be_transfer_gunzip_start(t))
        t->local_error = BE_ERR_INTERNAL_ERROR;
    t->body_length = parse_length(&t->headers);
    if (t->is_head || t->status == 204 || t->status == 304)
        t->body_length = 0;
    be_transfer_notify(t);
}

size_t be_transfer_on_header(char *buf, size_t size, size_t nitems, void *p)
{
    be_transfer *t = p;
    size_t len = size * nitems, n = len;
    while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
        n--;
    pthread_mutex_lock(&t->mu);
    bool ok = true;
    if (t->head_done) {
        if (n > 0)
            ok = add_header_line(&t->trailers, buf, n);
    } else if (n >= 5 && memcmp(buf, "HTTP/", 5) == 0) {
        be_hdr_clear(&t->headers);
        t->status = parse_status(buf, n);
        if (t->status < 100 || t->status > 999) {
            t->local_error = BE_ERR_HTTP_RESPONSE_STATUS_INVALID;
            ok = false;
        }
    } else if (n == 0) {
        if (t->status >= 100 && t->status < 200 && t->status != 101)
            be_hdr_clear(&t->headers); /* an interim response: the real head follows */
        else
            be_transfer_head_complete(t);
    } else {
        t->head_bytes += len;
        if (t->head_bytes > BE_HEAD_MAX) {
            t->local_error = BE_ERR_HTTP_RESPONSE_HEADER_SECTION_TOO_LARGE;
            ok = false;
        } else {
            ok = add_header_line(&t->headers, buf, n);
        }
    }
    pthread_mutex_unlock(&t->mu);
    return ok ? len : 0;
}
