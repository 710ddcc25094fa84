/* be_transfer.c: one backend request on a libcurl easy handle: the outgoing URL, Host and header
 * rewriting (Host as Viceroy, cdn-loop appended, hop-by-hop and framing headers left to libcurl),
 * TLS and timeout options from the backend, the bounded request/response body buffers with
 * pause/unpause through the loop, response head parsing, gzip decoding of responses when asked
 * (zlib; libcurl's own decoder would also undo deflate, br and zstd), and failure
 * classification. */
#include "backend/be_transfer_internal.h"
#include "backend/be_cdn_loop.h"
#include "backend/be_loop.h"
#include "profiler/prof_recorder.h"
#include "util/util_str.h"

#include <arpa/inet.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <zlib.h>

#define REQ_CAP (256u * 1024u)   /* request body bytes buffered before a writer blocks */
#define RESP_CAP (1024u * 1024u) /* response body bytes buffered before the loop pauses */
/* Response header section limit: below libcurl's own (300 KiB in all, 100 KiB a line), which
 * would fail the transfer with an unrelated error, so that too large a head is reported as such. */
#define HEAD_MAX (256u * 1024u)
#define CURL_BUF (256L * 1024L) /* libcurl receive/upload buffer */
/* The URL host of a connection without SNI to a named host (CONNECT_TO maps it to the host). */
#define NO_SNI_URL_HOST "0.0.0.0"

typedef struct hdr {
    char *name, *value;
    size_t name_len, value_len;
} hdr;

typedef struct hdr_list {
    hdr *items;
    size_t n, cap;
} hdr_list;

typedef struct bytes {
    uint8_t *buf;
    size_t start, len, cap;
} bytes;

struct be_transfer {
    bool verbose; /* be_request.verbose: this transfer's level-2 lines always go out */
    pthread_mutex_t mu;
    pthread_cond_t cond;
    atomic_int refs; /* memory: users, the loop, queued commands */
    int users;       /* under mu */
    be_loop *loop;
    be_signal *sig;
    CURL *easy;
    struct curl_slist *req_headers, *connect_to;
    char *label;     /* "backend 'name': METHOD url" */
    char *cert_name; /* with SNI off: the name the certificate must carry */
    char errbuf[CURL_ERROR_SIZE];

    /* request body */
    bool has_body, req_closed, req_aborted, send_paused;
    hdr_list req_trailers;
    bytes req;
    uint64_t last_send_ns;
    uint64_t bytes_out;

    /* response */
    bool head_done, complete, body_error, recv_paused, unpause_queued;
    bool is_head, decompress;
    z_stream *gz;         /* decoding a gzip response body, else NULL */
    bool gz_end;          /* the gzip stream ended */
    be_error error;       /* why it failed (before the head: the send error) */
    be_error local_error; /* set by our own checks before libcurl reports the failure */
    uint16_t status;
    uint32_t version;
    hdr_list headers, trailers;
    size_t head_bytes;
    int64_t body_length;
    bytes resp;
    uint64_t start_ns, head_ns, last_recv_ns, bytes_in;
    uint32_t fbt_ms, bbt_ms;
    bool discard;
    be_done_fn on_done; /* cleared once called */
    void *done_user;
    /* the profiler's record of the guest request that started this transfer, or NULL */
    struct prof_req *prof;
    char *prof_name, *prof_method, *prof_url;
};

/* ---- small helpers ---- */

static bool hdr_add(hdr_list *l, const char *name, size_t nl, const char *value, size_t vl)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 16;
        hdr *g = realloc(l->items, cap * sizeof *g);
        if (!g)
            return false;
        l->items = g;
        l->cap = cap;
    }
    hdr *h = &l->items[l->n];
    h->name = util_strndup(name, nl);
    h->value = util_strndup(value, vl);
    if (!h->name || !h->value) {
        free(h->name);
        free(h->value);
        return false;
    }
    h->name_len = nl;
    h->value_len = vl;
    l->n++;
    return true;
}

static void hdr_clear(hdr_list *l)
{
    for (size_t i = 0; i < l->n; i++) {
        free(l->items[i].name);
        free(l->items[i].value);
    }
    l->n = 0;
}

static void hdr_free(hdr_list *l)
{
    hdr_clear(l);
    free(l->items);
    l->items = NULL;
    l->cap = 0;
}

static bool bytes_push(bytes *b, const uint8_t *data, size_t n)
{
    if (b->cap - b->start - b->len < n) {
        if (b->start) {
            memmove(b->buf, b->buf + b->start, b->len);
            b->start = 0;
        }
        if (b->cap - b->len < n) {
            size_t cap = b->cap ? b->cap : 64 * 1024;
            while (cap - b->len < n)
                cap *= 2;
            uint8_t *g = realloc(b->buf, cap);
            if (!g)
                return false;
            b->buf = g;
            b->cap = cap;
        }
    }
    memcpy(b->buf + b->start + b->len, data, n);
    b->len += n;
    return true;
}

static size_t bytes_take(bytes *b, uint8_t *out, size_t n)
{
    if (n > b->len)
        n = b->len;
    memcpy(out, b->buf + b->start, n);
    b->start += n;
    b->len -= n;
    if (b->len == 0)
        b->start = 0;
    return n;
}

static void notify(be_transfer *t)
{
    pthread_cond_broadcast(&t->cond);
    if (t->sig)
        be_signal_notify(t->sig);
}

/* ---- references ---- */

static void destroy(be_transfer *t)
{
    if (t->on_done) /* it never ran to its end: the callback still hears of it */
        t->on_done(t->done_user, t, false, 0);
    if (t->easy)
        curl_easy_cleanup(t->easy);
    curl_slist_free_all(t->req_headers);
    curl_slist_free_all(t->connect_to);
    hdr_free(&t->headers);
    hdr_free(&t->trailers);
    hdr_free(&t->req_trailers);
    free(t->req.buf);
    free(t->resp.buf);
    free(t->label);
    free(t->cert_name);
    if (t->gz) {
        inflateEnd(t->gz);
        free(t->gz);
    }
    be_signal_release(t->sig);
    prof_req_release(t->prof);
    free(t->prof_name);
    free(t->prof_method);
    free(t->prof_url);
    pthread_cond_destroy(&t->cond);
    pthread_mutex_destroy(&t->mu);
    free(t);
}

void be_transfer_ref(be_transfer *t)
{
    atomic_fetch_add(&t->refs, 1);
}

void be_transfer_unref(be_transfer *t)
{
    if (atomic_fetch_sub(&t->refs, 1) == 1)
        destroy(t);
}

void be_transfer_retain(be_transfer *t)
{
    pthread_mutex_lock(&t->mu);
    t->users++;
    pthread_mutex_unlock(&t->mu);
    be_transfer_ref(t);
}

void be_transfer_release(be_transfer *t)
{
    if (!t)
        return;
    pthread_mutex_lock(&t->mu);
    bool cancel = --t->users == 0 && !t->complete;
    pthread_mutex_unlock(&t->mu);
    if (cancel)
        be_loop_cancel(t->loop, t);
    be_transfer_unref(t);
}

bool be_transfer_abandoned(be_transfer *t)
{
    pthread_mutex_lock(&t->mu);
    bool a = t->users == 0;
    pthread_mutex_unlock(&t->mu);
    return a;
}

CURL *be_transfer_easy(be_transfer *t)
{
    return t->easy;
}

/* ---- libcurl callbacks (loop thread) ---- */

static size_t on_read(char *buf, size_t size, size_t nitems, void *p)
{
    be_transfer *t = p;
    size_t want = size * nitems;
    pthread_mutex_lock(&t->mu);
    size_t n = 0;
    if (t->req.len == 0) {
        if (t->req_aborted || t->users == 0) {
            pthread_mutex_unlock(&t->mu);
            return CURL_READFUNC_ABORT;
        }
        if (t->req_closed) {
            pthread_mutex_unlock(&t->mu);
            return 0;
        }
        t->send_paused = true;
        pthread_mutex_unlock(&t->mu);
        return CURL_READFUNC_PAUSE;
    }
    n = bytes_take(&t->req, (uint8_t *)buf, want);
    t->bytes_out += n;
    t->last_send_ns = be_now_ns();
    notify(t);
    pthread_mutex_unlock(&t->mu);
    return n;
}

/* The request trailers, after the last chunk of a chunked upload. */
static int on_trailers(struct curl_slist **list, void *p)
{
    be_transfer *t = p;
    int rc = CURL_TRAILERFUNC_OK;
    pthread_mutex_lock(&t->mu);
    for (size_t i = 0; i < t->req_trailers.n && rc == CURL_TRAILERFUNC_OK; i++) {
        const hdr *h = &t->req_trailers.items[i];
        size_t need = h->name_len + h->value_len + 3;
        char *line = malloc(need);
        if (!line) {
            rc = CURL_TRAILERFUNC_ABORT;
            break;
        }
        snprintf(line, need, "%s: %s", h->name, h->value);
        struct curl_slist *n = curl_slist_append(*list, line);
        free(line);
        if (!n)
            rc = CURL_TRAILERFUNC_ABORT;
        else
            *list = n;
    }
    pthread_mutex_unlock(&t->mu);
    return rc;
}

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

static bool add_header_line(hdr_list *l, const char *line, size_t len)
{
    if (len > 0 && (line[0] == ' ' || line[0] == '\t') && l->n > 0) {
        /* obsolete line folding: continue the previous value */
        hdr *h = &l->items[l->n - 1];
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
    return hdr_add(l, line, nl, v, vl);
}

static int64_t parse_length(const hdr_list *l)
{
    for (size_t i = 0; i < l->n; i++) {
        if (!util_str_eq_ci(l->items[i].name, l->items[i].name_len, "content-length"))
            continue;
        const hdr *h = &l->items[i];
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

/* With gzip decoding on and a gzip (or x-gzip) Content-Encoding, as Viceroy: the guest sees the
 * decoded body, without the encoding and length headers. Any other encoding is left alone. */
static bool start_gunzip(be_transfer *t)
{
    bool gz = false;
    for (size_t i = 0; i < t->headers.n; i++) {
        hdr *h = &t->headers.items[i];
        if (util_str_eq_ci(h->name, h->name_len, "content-encoding") &&
            ((h->value_len == 4 && strncasecmp(h->value, "gzip", 4) == 0) ||
             (h->value_len == 6 && strncasecmp(h->value, "x-gzip", 6) == 0)))
            gz = true;
    }
    if (!gz)
        return true;
    t->gz = calloc(1, sizeof *t->gz);
    if (!t->gz)
        return false;
    if (inflateInit2(t->gz, 16 + MAX_WBITS) != Z_OK) { /* 16: gzip framing only */
        free(t->gz);
        t->gz = NULL;
        return false;
    }
    size_t o = 0;
    for (size_t i = 0; i < t->headers.n; i++) {
        hdr *h = &t->headers.items[i];
        if (util_str_eq_ci(h->name, h->name_len, "content-encoding") ||
            util_str_eq_ci(h->name, h->name_len, "content-length")) {
            free(h->name);
            free(h->value);
            continue;
        }
        t->headers.items[o++] = *h;
    }
    t->headers.n = o;
    return true;
}

/* Decodes n bytes of a gzip body into the response buffer. False on corrupt data, data after the
 * end of the stream (one gzip member, as Viceroy's decoder) or no memory. */
static bool gunzip_push(be_transfer *t, const uint8_t *in, size_t n)
{
    z_stream *z = t->gz;
    uint8_t out[16384];
    z->next_in = (Bytef *)(uintptr_t)in;
    z->avail_in = (uInt)n;
    while (z->avail_in > 0) {
        if (t->gz_end)
            return false;
        z->next_out = out;
        z->avail_out = sizeof out;
        int rc = inflate(z, Z_NO_FLUSH);
        size_t got = sizeof out - z->avail_out;
        if (got && !bytes_push(&t->resp, out, got))
            return false;
        if (rc == Z_STREAM_END)
            t->gz_end = true;
        else if (rc != Z_OK && !(rc == Z_BUF_ERROR && got > 0))
            return false;
    }
    /* output still held back by zlib once the input is used up */
    while (!t->gz_end) {
        z->next_out = out;
        z->avail_out = sizeof out;
        int rc = inflate(z, Z_NO_FLUSH);
        size_t got = sizeof out - z->avail_out;
        if (got && !bytes_push(&t->resp, out, got))
            return false;
        if (rc == Z_STREAM_END)
            t->gz_end = true;
        else if (rc != Z_OK || got < sizeof out)
            break;
    }
    return true;
}

static void head_complete(be_transfer *t)
{
    t->head_done = true;
    t->head_ns = t->last_recv_ns = be_now_ns();
    long v = 0;
    curl_easy_getinfo(t->easy, CURLINFO_HTTP_VERSION, &v);
    t->version = v == CURL_HTTP_VERSION_2_0 ? 3 : v == CURL_HTTP_VERSION_1_0 ? 1 : 2;
    if (t->decompress && !start_gunzip(t))
        t->local_error = BE_ERR_INTERNAL_ERROR;
    t->body_length = parse_length(&t->headers);
    if (t->is_head || t->status == 204 || t->status == 304)
        t->body_length = 0;
    notify(t);
}

static size_t on_header(char *buf, size_t size, size_t nitems, void *p)
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
        hdr_clear(&t->headers);
        t->status = parse_status(buf, n);
        if (t->status < 100 || t->status > 999) {
            t->local_error = BE_ERR_HTTP_RESPONSE_STATUS_INVALID;
            ok = false;
        }
    } else if (n == 0) {
        if (t->status >= 100 && t->status < 200 && t->status != 101)
            hdr_clear(&t->headers); /* an interim response: the real head follows */
        else
            head_complete(t);
    } else {
        t->head_bytes += len;
        if (t->head_bytes > HEAD_MAX) {
            t->local_error = BE_ERR_HTTP_RESPONSE_HEADER_SECTION_TOO_LARGE;
            ok = false;
        } else {
            ok = add_header_line(&t->headers, buf, n);
        }
    }
    pthread_mutex_unlock(&t->mu);
    return ok ? len : 0;
}

static size_t on_write(char *buf, size_t size, size_t nmemb, void *p)
{
    be_transfer *t = p;
    size_t n = size * nmemb;
    pthread_mutex_lock(&t->mu);
    if (t->users == 0) { /* nobody reads any more: drain until the cancel arrives */
        pthread_mutex_unlock(&t->mu);
        return n;
    }
    if (!t->head_done)
        head_complete(t);
    if (t->discard) {
        t->bytes_in += n;
        t->last_recv_ns = be_now_ns();
        pthread_mutex_unlock(&t->mu);
        return n;
    }
    if (t->resp.len >= RESP_CAP) {
        t->recv_paused = true;
        pthread_mutex_unlock(&t->mu);
        return CURL_WRITEFUNC_PAUSE;
    }
    if (t->local_error || !(t->gz ? gunzip_push(t, (const uint8_t *)buf, n)
                                  : bytes_push(&t->resp, (const uint8_t *)buf, n))) {
        if (!t->local_error)
            t->local_error = t->gz ? BE_ERR_HTTP_PROTOCOL_ERROR : BE_ERR_INTERNAL_ERROR;
        pthread_mutex_unlock(&t->mu);
        return 0;
    }
    t->bytes_in += n;
    t->last_recv_ns = be_now_ns();
    notify(t);
    pthread_mutex_unlock(&t->mu);
    return n;
}

/* ---- loop entry points ---- */

void be_transfer_unpaused(be_transfer *t)
{
    pthread_mutex_lock(&t->mu);
    t->unpause_queued = false;
    t->recv_paused = false;
    t->send_paused = false;
    if (t->head_done)
        t->last_recv_ns = be_now_ns();
    pthread_mutex_unlock(&t->mu);
}

/* The profiler's waterfall entry: libcurl's phase times (microseconds from the start). */
static void profile_finish(be_transfer *t, CURLcode code, uint16_t status, be_error err,
                           uint64_t in, uint64_t out)
{
    curl_off_t dns = -1, conn = -1, tls = -1, fb = -1, total = -1;
    curl_easy_getinfo(t->easy, CURLINFO_NAMELOOKUP_TIME_T, &dns);
    curl_easy_getinfo(t->easy, CURLINFO_CONNECT_TIME_T, &conn);
    curl_easy_getinfo(t->easy, CURLINFO_APPCONNECT_TIME_T, &tls);
    curl_easy_getinfo(t->easy, CURLINFO_STARTTRANSFER_TIME_T, &fb);
    curl_easy_getinfo(t->easy, CURLINFO_TOTAL_TIME_T, &total);
    prof_backend pb = {.backend = t->prof_name,
                       .method = t->prof_method,
                       .url = t->prof_url,
                       .start_ns = t->start_ns,
                       .dns_us = dns,
                       .connect_us = conn,
                       .tls_us = tls > 0 ? tls : -1, /* 0: no TLS handshake */
                       .first_byte_us = fb > 0 ? fb : -1,
                       .total_us = total,
                       .bytes_in = in,
                       .bytes_out = out,
                       .status = status,
                       .ok = code == CURLE_OK};
    if (code != CURLE_OK)
        snprintf(pb.error, sizeof pb.error, "%s", be_strerror(err));
    prof_req_backend(t->prof, &pb);
}

void be_transfer_finish(be_transfer *t, CURLcode code)
{
    long os_errno = 0, connect_us = 0;
    curl_easy_getinfo(t->easy, CURLINFO_OS_ERRNO, &os_errno);
    curl_off_t ct = 0;
    curl_easy_getinfo(t->easy, CURLINFO_CONNECT_TIME_T, &ct);
    connect_us = (long)ct;
    pthread_mutex_lock(&t->mu);
    if (t->complete) {
        pthread_mutex_unlock(&t->mu);
        return;
    }
    t->complete = true;
    if (code == CURLE_OK && !t->head_done)
        head_complete(t);
    if (code == CURLE_OK && t->gz && !t->gz_end && !t->discard && t->bytes_in > 0) {
        code = CURLE_BAD_CONTENT_ENCODING; /* the gzip stream was cut short */
        t->local_error = BE_ERR_HTTP_PROTOCOL_ERROR;
    }
    if (code == CURLE_OUT_OF_MEMORY && !t->head_done && t->status && !t->local_error)
        t->local_error = BE_ERR_HTTP_RESPONSE_HEADER_SECTION_TOO_LARGE; /* libcurl refused a line
                                                                          over 100 KiB */
    if (code != CURLE_OK) {
        be_error e = t->local_error
                         ? t->local_error
                         : be_error_from_curl(code, os_errno, connect_us > 0, t->head_done);
        t->error = e;
        if (t->head_done)
            t->body_error = true;
    }
    uint16_t status = t->status;
    bool head = t->head_done;
    be_error err = t->error;
    uint64_t in = t->bytes_in, out = t->bytes_out, start = t->start_ns;
    be_done_fn done = t->on_done;
    t->on_done = NULL;
    notify(t);
    pthread_mutex_unlock(&t->mu);
    if (done)
        done(t->done_user, t, code == CURLE_OK && head, status);
    if (t->prof)
        profile_finish(t, code, status, err, in, out);
    double ms = (double)(be_now_ns() - start) / 1e6;
    if (code == CURLE_OK)
        be_loop_log(t->loop, t->verbose ? 0 : 2,
                    "%s -> %u done (%.1f ms, %llu bytes in, %llu bytes out)", t->label, status, ms,
                    (unsigned long long)in, (unsigned long long)out);
    else if (code != CURLE_ABORTED_BY_CALLBACK || !be_transfer_abandoned(t))
        be_loop_log(t->loop, t->verbose ? 0 : 2, "%s failed %s: %s (%s; %.1f ms)", t->label,
                    head ? "during the body" : "before the response", be_strerror(err),
                    t->errbuf[0] ? t->errbuf : curl_easy_strerror(code), ms);
}

bool be_transfer_expired(be_transfer *t, uint64_t now, uint64_t *next_ns)
{
    pthread_mutex_lock(&t->mu);
    uint64_t deadline = 0;
    be_error why = BE_OK;
    if (!t->head_done && t->fbt_ms && !t->send_paused) {
        uint64_t from = t->last_send_ns > t->start_ns ? t->last_send_ns : t->start_ns;
        deadline = from + (uint64_t)t->fbt_ms * 1000000u;
        why = BE_ERR_HTTP_RESPONSE_TIMEOUT;
    } else if (t->head_done && !t->complete && t->bbt_ms && !t->recv_paused) {
        deadline = t->last_recv_ns + (uint64_t)t->bbt_ms * 1000000u;
        why = BE_ERR_HTTP_RESPONSE_TIMEOUT;
    }
    bool expired = deadline && now >= deadline;
    if (expired)
        t->local_error = why;
    else if (deadline && (!*next_ns || deadline < *next_ns))
        *next_ns = deadline;
    pthread_mutex_unlock(&t->mu);
    return expired;
}

/* ---- setup ---- */

/* Splits the guest URL into authority (may be empty) and path+query (at least "/"). */
static void split_url(const char *url, const char **auth, size_t *auth_len, const char **path)
{
    *auth = url;
    *auth_len = 0;
    *path = url;
    const char *sep = strstr(url, "://");
    const char *q = strpbrk(url, "/?");
    if (sep && (!q || q > sep)) {
        const char *a = sep + 3;
        size_t n = strcspn(a, "/?#");
        *auth = a;
        *auth_len = n;
        *path = a + n;
    }
}

static bool slist_add(struct curl_slist **l, const char *line)
{
    struct curl_slist *n = curl_slist_append(*l, line);
    if (!n)
        return false;
    *l = n;
    return true;
}

/* Adds "name: value" (or "name;" for an empty value, libcurl's syntax for that). */
static bool slist_header(struct curl_slist **l, const char *name, size_t nl, const char *value,
                         size_t vl)
{
    char small[512];
    size_t need = nl + vl + 3;
    char *line = need <= sizeof small ? small : malloc(need);
    if (!line)
        return false;
    memcpy(line, name, nl);
    if (vl == 0) {
        line[nl] = ';';
        line[nl + 1] = '\0';
    } else {
        line[nl] = ':';
        line[nl + 1] = ' ';
        memcpy(line + nl + 2, value, vl);
        line[nl + 2 + vl] = '\0';
    }
    bool ok = slist_add(l, line);
    if (line != small)
        free(line);
    return ok;
}

static bool is_hop_or_framing(const char *n, size_t len)
{
    static const char *const names[] = {
        "host",       "content-length",   "transfer-encoding", "connection",
        "keep-alive", "proxy-connection", "upgrade",           "te",
        "cdn-loop"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (util_str_eq_ci(n, len, names[i]))
            return true;
    return false;
}

static bool has_header(const be_request *req, const char *name)
{
    for (size_t i = 0; i < req->nheaders; i++)
        if (util_str_eq_ci(req->headers[i].name, req->headers[i].name_len, name))
            return true;
    return false;
}

/* Builds the header list: the guest's headers minus the ones we redo, Host, cdn-loop, and
 * blanks that stop libcurl adding its own defaults. */
static bool build_headers(be_transfer *t, const be_backend *b, const be_request *req,
                          const char *auth, size_t auth_len)
{
    struct curl_slist **l = &t->req_headers;
    /* Host: the override, else the guest's Host header, else the URL's authority, else the
     * backend's host (Viceroy's canonical_host_header) */
    const char *host = NULL;
    size_t host_len = 0;
    char host_buf[300];
    if (b->override_host) {
        host = b->override_host;
        host_len = strlen(host);
    } else {
        for (size_t i = 0; i < req->nheaders && !host; i++) {
            if (util_str_eq_ci(req->headers[i].name, req->headers[i].name_len, "host")) {
                host = req->headers[i].value;
                host_len = req->headers[i].value_len;
            }
        }
        if (!host && auth_len) {
            host = auth;
            host_len = auth_len;
        }
        if (!host) {
            bool v6 = strchr(b->host, ':') != NULL;
            bool default_port = b->port == (b->tls ? 443 : 80);
            int w = default_port ? snprintf(host_buf, sizeof host_buf, v6 ? "[%s]" : "%s", b->host)
                                 : snprintf(host_buf, sizeof host_buf, v6 ? "[%s]:%u" : "%s:%u",
                                            b->host, b->port);
            if (w < 0 || (size_t)w >= sizeof host_buf)
                return false;
            host = host_buf;
            host_len = (size_t)w;
        }
    }
    if (!slist_header(l, "Host", 4, host, host_len))
        return false;
    /* cdn-loop: the guest's values, then ours: once, or as often as needed to count every pass
     * of the downstream request plus this one when the guest did not copy its cdn-loop */
    size_t loop_len = 0, have = 0;
    for (size_t i = 0; i < req->nheaders; i++)
        if (util_str_eq_ci(req->headers[i].name, req->headers[i].name_len, "cdn-loop")) {
            loop_len += req->headers[i].value_len + 2;
            have += be_cdn_loop_count(req->headers[i].value, req->headers[i].value_len);
        }
    size_t ours = have < req->loop_passes + 1 ? req->loop_passes + 1 - have : 1;
    if (ours > 64)
        ours = 64; /* far past the server's bound; keeps the header small */
    char *loop_value = malloc(loop_len + ours * 10);
    if (!loop_value)
        return false;
    size_t o = 0;
    for (size_t i = 0; i < req->nheaders; i++) {
        const be_header *h = &req->headers[i];
        if (!util_str_eq_ci(h->name, h->name_len, "cdn-loop") || h->value_len == 0)
            continue;
        memcpy(loop_value + o, h->value, h->value_len);
        o += h->value_len;
        loop_value[o++] = ',';
        loop_value[o++] = ' ';
    }
    for (size_t k = 0; k < ours; k++) {
        if (k) {
            loop_value[o++] = ',';
            loop_value[o++] = ' ';
        }
        memcpy(loop_value + o, BE_CDN_LOOP_TOKEN, 8);
        o += 8;
    }
    bool ok = slist_header(l, "cdn-loop", 8, loop_value, o);
    free(loop_value);
    if (!ok)
        return false;
    for (size_t i = 0; i < req->nheaders; i++) {
        const be_header *h = &req->headers[i];
        if (is_hop_or_framing(h->name, h->name_len))
            continue;
        if (!slist_header(l, h->name, h->name_len, h->value, h->value_len))
            return false;
    }
    /* libcurl's own defaults that a guest request would not carry */
    if (!has_header(req, "accept") && !slist_add(l, "Accept:"))
        return false;
    if (!has_header(req, "expect") && !slist_add(l, "Expect:"))
        return false;
    return true;
}

static long tls_version_option(const be_backend *b)
{
    static const long min_v[] = {CURL_SSLVERSION_TLSv1_0, CURL_SSLVERSION_TLSv1_1,
                                 CURL_SSLVERSION_TLSv1_2, CURL_SSLVERSION_TLSv1_3};
    static const long max_v[] = {CURL_SSLVERSION_MAX_TLSv1_0, CURL_SSLVERSION_MAX_TLSv1_1,
                                 CURL_SSLVERSION_MAX_TLSv1_2, CURL_SSLVERSION_MAX_TLSv1_3};
    long v = CURL_SSLVERSION_DEFAULT;
    if (b->ssl_min >= 0 && b->ssl_min <= 3)
        v = min_v[b->ssl_min];
    if (b->ssl_max >= 0 && b->ssl_max <= 3) {
        if (v == CURL_SSLVERSION_DEFAULT)
            v = CURL_SSLVERSION_TLSv1_0;
        v |= max_v[b->ssl_max];
    }
    return v;
}

static bool no_payload_method(const char *m)
{
    return strcmp(m, "GET") == 0 || strcmp(m, "HEAD") == 0 || strcmp(m, "DELETE") == 0 ||
           strcmp(m, "CONNECT") == 0 || strcmp(m, "TRACE") == 0;
}

/* The host of a "host:port" name (the JS SDK passes its target as SNI/certificate name), copied
 * into buf; other names as they are. */
static const char *host_part(const char *name, char *buf, size_t n)
{
    const char *colon = strchr(name, ':');
    if (colon && !strchr(colon + 1, ':') && colon[1] &&
        strspn(colon + 1, "0123456789") == strlen(colon + 1) && (size_t)(colon - name) < n) {
        memcpy(buf, name, (size_t)(colon - name));
        buf[colon - name] = '\0';
        return buf;
    }
    return name;
}

static bool is_ip_literal(const char *host)
{
    unsigned char addr[sizeof(struct in6_addr)];
    return inet_pton(AF_INET, host, addr) == 1 || inet_pton(AF_INET6, host, addr) == 1;
}

/* libcurl's OpenSSL context for a connection without SNI: OpenSSL checks the certificate name
 * during the handshake (libcurl's own check would use the URL's placeholder address). */
static CURLcode on_ssl_ctx(CURL *e, void *ssl_ctx, void *p)
{
    (void)e;
    be_transfer *t = p;
    X509_VERIFY_PARAM *param = SSL_CTX_get0_param((SSL_CTX *)ssl_ctx);
    int ok = is_ip_literal(t->cert_name) ? X509_VERIFY_PARAM_set1_ip_asc(param, t->cert_name)
                                         : X509_VERIFY_PARAM_set1_host(param, t->cert_name, 0);
    return ok == 1 ? CURLE_OK : CURLE_SSL_CERTPROBLEM;
}

#define SET(opt, val)                                                                              \
    do {                                                                                           \
        CURLcode set_rc_ = curl_easy_setopt(e, opt, val);                                          \
        if (set_rc_ != CURLE_OK) {                                                                 \
            be_loop_log(t->loop, 1, "backend request: libcurl option %d: %s", (int)(opt),          \
                        curl_easy_strerror(set_rc_));                                              \
            goto fail;                                                                             \
        }                                                                                          \
    } while (0)

static bool setup(be_transfer *t, const be_backend *b, const be_request *req)
{
    CURL *e = t->easy;
    const char *auth, *path;
    size_t auth_len;
    split_url(req->url, &auth, &auth_len, &path);
    if (!build_headers(t, b, req, auth, auth_len))
        return false;
    /* the URL names the host TLS verifies (and SNI carries); CONNECT_TO sends the connection to
     * the backend's address when that differs. With SNI off (an empty SNI hostname) the URL names
     * an IP address, for which OpenSSL sends no SNI; with SNI off, or an SNI hostname that is not
     * the certificate hostname, the certificate name is checked by OpenSSL itself (on_ssl_ctx)
     * instead of libcurl, which would check the URL's host. */
    bool no_sni = b->tls && b->sni_hostname && b->sni_hostname[0] == '\0';
    char url_host_buf[300], cert_buf[300];
    const char *url_host;
    const char *cert =
        b->cert_hostname ? host_part(b->cert_hostname, cert_buf, sizeof cert_buf) : NULL;
    bool split =
        b->tls && !no_sni && b->sni_hostname && cert &&
        strcasecmp(host_part(b->sni_hostname, url_host_buf, sizeof url_host_buf), cert) != 0;
    if (no_sni || split) {
        url_host = no_sni ? (is_ip_literal(b->host) ? b->host : NO_SNI_URL_HOST)
                          : host_part(b->sni_hostname, url_host_buf, sizeof url_host_buf);
        if (!cert)
            cert = host_part(b->host, cert_buf, sizeof cert_buf);
        t->cert_name = util_strndup(cert, strlen(cert));
        if (!t->cert_name)
            return false;
        SET(CURLOPT_SSL_VERIFYHOST, 0L);
        SET(CURLOPT_SSL_CTX_FUNCTION, on_ssl_ctx);
        SET(CURLOPT_SSL_CTX_DATA, t);
        /* the certificate name is not part of what libcurl compares when it reuses a connection */
        SET(CURLOPT_FRESH_CONNECT, 1L);
        SET(CURLOPT_FORBID_REUSE, 1L);
    } else {
        url_host = host_part(b->sni_hostname    ? b->sni_hostname
                             : b->cert_hostname ? b->cert_hostname
                                                : b->host,
                             url_host_buf, sizeof url_host_buf);
    }
    bool v6 = strchr(url_host, ':') != NULL;
    const char *prefix = b->path_prefix ? b->path_prefix : "";
    size_t plen = strlen(prefix);
    while (plen > 0 && prefix[plen - 1] == '/')
        plen--;
    size_t need = strlen(url_host) + plen + strlen(path) + 32;
    char *url = malloc(need);
    if (!url)
        return false;
    snprintf(url, need, "%s://%s%s%s:%u%.*s%s%s", b->tls ? "https" : "http", v6 ? "[" : "",
             url_host, v6 ? "]" : "", b->port, (int)plen, prefix, path[0] == '/' ? "" : "/", path);
    be_loop_log(t->loop, t->verbose ? 0 : 2, "backend request URL %s", url);
    CURLcode rc = curl_easy_setopt(e, CURLOPT_URL, url);
    free(url);
    if (rc != CURLE_OK)
        return false;
    if (strcmp(url_host, b->host) != 0) {
        bool bv6 = strchr(b->host, ':') != NULL;
        char line[600];
        int w = snprintf(line, sizeof line, "%s%s%s:%u:%s%s%s:%u", v6 ? "[" : "", url_host,
                         v6 ? "]" : "", b->port, bv6 ? "[" : "", b->host, bv6 ? "]" : "", b->port);
        if (w < 0 || (size_t)w >= sizeof line || !slist_add(&t->connect_to, line))
            return false;
        SET(CURLOPT_CONNECT_TO, t->connect_to);
    }
    SET(CURLOPT_PRIVATE, t);
    SET(CURLOPT_ERRORBUFFER, t->errbuf);
    SET(CURLOPT_NOSIGNAL, 1L);
    SET(CURLOPT_PATH_AS_IS, 1L);
    SET(CURLOPT_HTTPHEADER, t->req_headers);
    SET(CURLOPT_HEADERFUNCTION, on_header);
    SET(CURLOPT_HEADERDATA, t);
    SET(CURLOPT_WRITEFUNCTION, on_write);
    SET(CURLOPT_WRITEDATA, t);
    SET(CURLOPT_BUFFERSIZE, CURL_BUF);
    SET(CURLOPT_UPLOAD_BUFFERSIZE, CURL_BUF);
    SET(CURLOPT_SUPPRESS_CONNECT_HEADERS, 1L);
    if (strcmp(req->method, "HEAD") == 0) {
        t->is_head = true;
        SET(CURLOPT_NOBODY, 1L);
    } else {
        SET(CURLOPT_CUSTOMREQUEST, req->method);
    }
    bool send_body = req->has_body && (req->body_length != 0 || !no_payload_method(req->method));
    if (send_body) {
        SET(CURLOPT_UPLOAD, 1L);
        SET(CURLOPT_READFUNCTION, on_read);
        SET(CURLOPT_READDATA, t);
        SET(CURLOPT_INFILESIZE_LARGE, (curl_off_t)req->body_length);
        if (req->body_length < 0) {
            SET(CURLOPT_TRAILERFUNCTION, on_trailers);
            SET(CURLOPT_TRAILERDATA, t);
        }
        if (strcmp(req->method, "HEAD") == 0)
            SET(CURLOPT_CUSTOMREQUEST, "HEAD");
    }
    t->has_body = send_body;
    if (b->connect_timeout_ms)
        SET(CURLOPT_CONNECTTIMEOUT_MS, (long)b->connect_timeout_ms);
    if (req->timeout_ms)
        SET(CURLOPT_TIMEOUT_MS, (long)req->timeout_ms);
    t->discard = req->discard_body;
    t->fbt_ms = b->first_byte_timeout_ms;
    t->bbt_ms = b->between_bytes_timeout_ms;
    if (b->grpc)
        SET(CURLOPT_HTTP_VERSION,
            b->tls ? (long)CURL_HTTP_VERSION_2_0 : (long)CURL_HTTP_VERSION_2_PRIOR_KNOWLEDGE);
    else
        SET(CURLOPT_HTTP_VERSION,
            b->tls ? (long)CURL_HTTP_VERSION_2TLS : (long)CURL_HTTP_VERSION_1_1);
    if (b->tls) {
        SET(CURLOPT_SSLVERSION, tls_version_option(b));
        if (b->ca_file)
            SET(CURLOPT_CAINFO, b->ca_file);
        if (b->ca_pem) {
            struct curl_blob blob = {b->ca_pem, b->ca_pem_len, CURL_BLOB_COPY};
            SET(CURLOPT_CAINFO_BLOB, &blob);
        }
        if (b->client_cert_file)
            SET(CURLOPT_SSLCERT, b->client_cert_file);
        if (b->client_key_file)
            SET(CURLOPT_SSLKEY, b->client_key_file);
        if (b->client_cert_pem) {
            struct curl_blob blob = {b->client_cert_pem, b->client_cert_pem_len, CURL_BLOB_COPY};
            SET(CURLOPT_SSLCERT_BLOB, &blob);
            SET(CURLOPT_SSLCERTTYPE, "PEM");
        }
        if (b->client_key_pem) {
            struct curl_blob blob = {b->client_key_pem, b->client_key_pem_len, CURL_BLOB_COPY};
            SET(CURLOPT_SSLKEY_BLOB, &blob);
            SET(CURLOPT_SSLKEYTYPE, "PEM");
        }
        if (b->ciphers)
            SET(CURLOPT_SSL_CIPHER_LIST, b->ciphers);
    }
    if (b->dont_pool) {
        SET(CURLOPT_FORBID_REUSE, 1L);
        SET(CURLOPT_FRESH_CONNECT, 1L);
    }
    if (b->http_keepalive_ms)
        SET(CURLOPT_MAXAGE_CONN, (long)((b->http_keepalive_ms + 999) / 1000));
    if (b->max_lifetime_ms)
        SET(CURLOPT_MAXLIFETIME_CONN, (long)((b->max_lifetime_ms + 999) / 1000));
    if (b->tcp_keepalive) {
        SET(CURLOPT_TCP_KEEPALIVE, 1L);
        if (b->tcp_keepalive_time_s)
            SET(CURLOPT_TCP_KEEPIDLE, (long)b->tcp_keepalive_time_s);
        if (b->tcp_keepalive_interval_s)
            SET(CURLOPT_TCP_KEEPINTVL, (long)b->tcp_keepalive_interval_s);
    }
    /* decoded here (on_write), not by libcurl: its decoder would undo every encoding it knows
     * and add an Accept-Encoding, where Viceroy decodes gzip only and adds nothing */
    t->decompress = req->decompress_gzip;
    return true;
fail:
    return false;
}

/* ---- public API ---- */

be_transfer *be_transfer_start(be_loop *loop, const be_backend *b, const char *name,
                               const be_request *req, be_signal *sig, be_error *err)
{
    *err = BE_ERR_INTERNAL_ERROR;
    be_transfer *t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&t->cond, &ca);
    pthread_condattr_destroy(&ca);
    pthread_mutex_init(&t->mu, NULL);
    atomic_init(&t->refs, 1);
    t->users = 1;
    t->loop = loop;
    t->verbose = req->verbose;
    t->body_length = -1;
    t->start_ns = be_now_ns();
    if (sig) {
        be_signal_retain(sig);
        t->sig = sig;
    }
    size_t ll = strlen(name ? name : "*") + strlen(req->method) + strlen(req->url) + 16;
    t->label = malloc(ll);
    t->easy = curl_easy_init();
    if (!t->label || !t->easy)
        goto fail;
    snprintf(t->label, ll, "backend '%s': %s %s", name ? name : "*", req->method, req->url);
    if ((t->prof = prof_current())) { /* a profiled guest request: its waterfall gets this */
        prof_req_retain(t->prof);
        t->prof_name = util_strndup(name ? name : "*", strlen(name ? name : "*"));
        t->prof_method = util_strndup(req->method, strlen(req->method));
        t->prof_url = util_strndup(req->url, strlen(req->url));
    }
    if (!setup(t, b, req)) {
        if (req->url[0] != '/' && !strstr(req->url, "://"))
            *err = BE_ERR_HTTP_REQUEST_URI_INVALID;
        goto fail;
    }
    if (!t->has_body)
        t->req_closed = true;
    t->on_done = req->on_done;
    t->done_user = req->done_user;
    if (!be_loop_add(loop, t)) {
        t->on_done = NULL; /* the caller hears of it from the NULL return */
        goto fail;
    }
    *err = BE_OK;
    return t;
fail:
    destroy(t);
    return NULL;
}

int be_transfer_write(be_transfer *t, const uint8_t *data, size_t len)
{
    pthread_mutex_lock(&t->mu);
    int rc = 0;
    while (len > 0) {
        if (t->complete || t->req_closed || !t->has_body) {
            rc = -1;
            break;
        }
        if (t->req.len >= REQ_CAP) {
            pthread_cond_wait(&t->cond, &t->mu);
            continue;
        }
        size_t n = REQ_CAP - t->req.len;
        if (n > len)
            n = len;
        if (!bytes_push(&t->req, data, n)) {
            rc = -1;
            break;
        }
        data += n;
        len -= n;
        if (t->send_paused && !t->unpause_queued) {
            t->unpause_queued = true;
            pthread_mutex_unlock(&t->mu);
            be_loop_unpause(t->loop, t);
            pthread_mutex_lock(&t->mu);
        }
    }
    pthread_mutex_unlock(&t->mu);
    return rc;
}

int be_transfer_give(be_transfer *t, const uint8_t *data, size_t len)
{
    pthread_mutex_lock(&t->mu);
    int rc =
        (t->complete || t->req_closed || !t->has_body || !bytes_push(&t->req, data, len)) ? -1 : 0;
    bool wake = rc == 0 && t->send_paused && !t->unpause_queued;
    if (wake)
        t->unpause_queued = true;
    pthread_mutex_unlock(&t->mu);
    if (wake)
        be_loop_unpause(t->loop, t);
    return rc;
}

bool be_transfer_set_trailers(be_transfer *t, const be_header *h, size_t n)
{
    pthread_mutex_lock(&t->mu);
    bool ok = true;
    for (size_t i = 0; i < n && ok; i++)
        ok = hdr_add(&t->req_trailers, h[i].name, h[i].name_len, h[i].value, h[i].value_len);
    pthread_mutex_unlock(&t->mu);
    return ok;
}

void be_transfer_close_body(be_transfer *t, bool abort)
{
    pthread_mutex_lock(&t->mu);
    bool wake = false;
    if (!t->req_closed) {
        t->req_closed = true;
        t->req_aborted = abort;
        wake = t->send_paused && !t->unpause_queued;
        if (wake)
            t->unpause_queued = true;
    }
    pthread_mutex_unlock(&t->mu);
    if (wake)
        be_loop_unpause(t->loop, t);
}

bool be_transfer_writable(be_transfer *t)
{
    pthread_mutex_lock(&t->mu);
    bool w = t->complete || t->req.len < REQ_CAP;
    pthread_mutex_unlock(&t->mu);
    return w;
}

be_error be_transfer_wait_head(be_transfer *t)
{
    pthread_mutex_lock(&t->mu);
    while (!t->head_done && !t->complete)
        pthread_cond_wait(&t->cond, &t->mu);
    be_error e = t->head_done ? BE_OK : t->error ? t->error : BE_ERR_INTERNAL_ERROR;
    pthread_mutex_unlock(&t->mu);
    return e;
}

bool be_transfer_head_ready(be_transfer *t)
{
    pthread_mutex_lock(&t->mu);
    bool r = t->head_done || t->complete;
    pthread_mutex_unlock(&t->mu);
    return r;
}

uint16_t be_transfer_status(const be_transfer *t)
{
    return t->status;
}

uint32_t be_transfer_version(const be_transfer *t)
{
    return t->version;
}

size_t be_transfer_nheaders(const be_transfer *t)
{
    return t->headers.n;
}

be_header be_transfer_header(const be_transfer *t, size_t i)
{
    const hdr *h = &t->headers.items[i];
    return (be_header){h->name, h->name_len, h->value, h->value_len};
}

int64_t be_transfer_body_length(const be_transfer *t)
{
    return t->body_length;
}

double be_transfer_head_ms(const be_transfer *t)
{
    return t->head_ns > t->start_ns ? (double)(t->head_ns - t->start_ns) / 1e6 : 0.0;
}

long be_transfer_read(void *p, uint8_t *buf, size_t len)
{
    be_transfer *t = p;
    if (len == 0)
        return 0;
    pthread_mutex_lock(&t->mu);
    long rc;
    for (;;) {
        if (t->resp.len > 0) {
            rc = (long)bytes_take(&t->resp, buf, len);
            if (t->recv_paused && !t->unpause_queued && t->resp.len < RESP_CAP / 2) {
                t->unpause_queued = true;
                pthread_mutex_unlock(&t->mu);
                be_loop_unpause(t->loop, t);
                return rc;
            }
            break;
        }
        if (t->complete) {
            rc = t->body_error ? -1 : 0;
            break;
        }
        pthread_cond_wait(&t->cond, &t->mu);
    }
    pthread_mutex_unlock(&t->mu);
    return rc;
}

bool be_transfer_readable(be_transfer *t)
{
    pthread_mutex_lock(&t->mu);
    bool r = t->resp.len > 0 || t->complete;
    pthread_mutex_unlock(&t->mu);
    return r;
}

size_t be_transfer_ntrailers(const be_transfer *t)
{
    return t->complete ? t->trailers.n : 0;
}

be_header be_transfer_trailer(const be_transfer *t, size_t i)
{
    const hdr *h = &t->trailers.items[i];
    return (be_header){h->name, h->name_len, h->value, h->value_len};
}
