/* be_transfer_internal.h: a transfer's internals, shared by the files that implement it
 * (be_transfer.c the object and its caller's side, be_transfer_request.c the request,
 * be_transfer_tls.c the TLS options, be_transfer_head.c the response head, be_transfer_body.c
 * the body callbacks, be_transfer_gzip.c gzip decoding, be_transfer_buf.c header lists and byte
 * queues, be_transfer_loop.c the loop's side) and the entry points the event loop (be_loop.c)
 * calls. Nothing outside src/backend/ includes it. */
#ifndef BE_TRANSFER_INTERNAL_H
#define BE_TRANSFER_INTERNAL_H

#include "backend/be_transfer.h"

#include <curl/curl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <zlib.h>

#define BE_REQ_CAP (256u * 1024u)   /* request body bytes buffered before a writer blocks */
#define BE_RESP_CAP (1024u * 1024u) /* response body bytes buffered before the loop pauses */
/* Response header section limit: below libcurl's own (300 KiB in all, 100 KiB a line), which
 * would fail the transfer with an unrelated error, so that too large a head is reported as such. */
#define BE_HEAD_MAX (256u * 1024u)
#define BE_CURL_BUF (256L * 1024L) /* libcurl receive/upload buffer */
/* The URL host of a connection without SNI to a named host (CONNECT_TO maps it to the host). */
#define BE_NO_SNI_URL_HOST "0.0.0.0"

typedef struct be_hdr {
    char *name, *value;
    size_t name_len, value_len;
} be_hdr;

typedef struct be_hdr_list {
    be_hdr *items;
    size_t n, cap;
} be_hdr_list;

typedef struct be_bytes {
    uint8_t *buf;
    size_t start, len, cap;
} be_bytes;

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
    be_hdr_list req_trailers;
    be_bytes req;
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
    be_hdr_list headers, trailers;
    size_t head_bytes;
    int64_t body_length;
    be_bytes resp;
    uint64_t start_ns, head_ns, last_recv_ns, bytes_in;
    uint32_t fbt_ms, bbt_ms;
    bool discard;
    be_done_fn on_done; /* cleared once called */
    void *done_user;
    /* the profiler's record of the guest request that started this transfer, or NULL */
    struct prof_req *prof;
    char *prof_name, *prof_method, *prof_url;
};

/* Sets a libcurl option on t's easy handle; on failure logs it and jumps to the caller's `fail`. */
#define BE_SET(opt, val)                                                                           \
    do {                                                                                           \
        CURLcode set_rc_ = curl_easy_setopt(t->easy, opt, val);                                    \
        if (set_rc_ != CURLE_OK) {                                                                 \
            be_loop_log(t->loop, 1, "backend request: libcurl option %d: %s", (int)(opt),          \
                        curl_easy_strerror(set_rc_));                                              \
            goto fail;                                                                             \
        }                                                                                          \
    } while (0)

/* ---- be_transfer_buf.c ---- */
/* Appends copies of name and value (NUL-terminated); false when out of memory. */
bool be_hdr_add(be_hdr_list *l, const char *name, size_t nl, const char *value, size_t vl);
void be_hdr_clear(be_hdr_list *l); /* frees the entries, keeps the array */
void be_hdr_free(be_hdr_list *l);
/* Appends n bytes (growing the queue); false when out of memory. */
bool be_bytes_push(be_bytes *b, const uint8_t *data, size_t n);
/* Moves up to n bytes to out; returns how many. */
size_t be_bytes_take(be_bytes *b, uint8_t *out, size_t n);

/* ---- be_transfer.c ---- */
/* Wakes the threads waiting on t and its signal (called with t->mu held). */
void be_transfer_notify(be_transfer *t);

/* ---- be_transfer_request.c ---- */
/* Sets up t's easy handle for req to b: URL, headers, method and body, timeouts, TLS (through
 * be_transfer_tls.c), pooling. False on a bad URL, no memory or a refused option. */
bool be_transfer_setup(be_transfer *t, const be_backend *b, const be_request *req);
bool be_transfer_slist_add(struct curl_slist **l, const char *line);

/* ---- be_transfer_tls.c ---- */
/* The host the URL names (b->host, an SNI or certificate hostname, or a placeholder address when
 * SNI is off; possibly copied into url_host_buf), setting the certificate-name check when SNI is
 * off or names another host. NULL when out of memory or an option is refused. */
const char *be_transfer_tls_url_host(be_transfer *t, const be_backend *b, char *url_host_buf,
                                     size_t url_host_len);
/* Protocol versions, CA, client certificate and key, ciphers (b->tls only). */
bool be_transfer_tls_options(be_transfer *t, const be_backend *b);

/* ---- be_transfer_head.c (libcurl callbacks, loop thread) ---- */
size_t be_transfer_on_header(char *buf, size_t size, size_t nitems, void *p);
/* The head is complete (called with t->mu held): version, gzip decoding, body length. */
void be_transfer_head_complete(be_transfer *t);

/* ---- be_transfer_body.c (libcurl callbacks, loop thread) ---- */
size_t be_transfer_on_read(char *buf, size_t size, size_t nitems, void *p);
int be_transfer_on_trailers(struct curl_slist **list, void *p);
size_t be_transfer_on_write(char *buf, size_t size, size_t nmemb, void *p);

/* ---- be_transfer_gzip.c ---- */
/* Starts decoding when the response is gzip (dropping Content-Encoding and Content-Length);
 * false when out of memory. */
bool be_transfer_gunzip_start(be_transfer *t);
bool be_transfer_gunzip_push(be_transfer *t, const uint8_t *in, size_t n);

/* ---- the entry points the loop calls (be_transfer.c, be_transfer_loop.c) ---- */
/* The libcurl easy handle of a transfer (set up by be_transfer_start). */
CURL *be_transfer_easy(be_transfer *t);
/* Memory references (the loop holds one while the transfer is in the multi handle). */
void be_transfer_ref(be_transfer *t);
void be_transfer_unref(be_transfer *t);
/* Clears the pause flags before the loop calls curl_easy_pause(CONT). */
void be_transfer_unpaused(be_transfer *t);
/* The transfer left the multi handle: `code` is libcurl's result (or CURLE_ABORTED_BY_CALLBACK
 * for a cancel, CURLE_OPERATION_TIMEDOUT for our own timeouts). Logs at verbosity 2. */
void be_transfer_finish(be_transfer *t, CURLcode code);
/* Checks our timeouts at `now`: true when the transfer must be failed now; otherwise lowers
 * *next_ns to the transfer's next deadline (if any). */
bool be_transfer_expired(be_transfer *t, uint64_t now, uint64_t *next_ns);
/* True once no user holds the transfer (it is only worth cancelling). */
bool be_transfer_abandoned(be_transfer *t);

#endif
