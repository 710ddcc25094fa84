/* be_transfer_loop.c: the transfer as the event loop (be_loop.c) drives it: its easy handle,
 * unpausing, our own first-byte and between-bytes timeouts, and the end of a transfer (failure
 * classification, the done callback, the profiler's waterfall entry, the log line). */
#include "backend/be_transfer_internal.h"
#include "backend/be_loop.h"
#include "profiler/prof_recorder.h"

#include <stdio.h>

CURL *be_transfer_easy(be_transfer *t)
{
    return t->easy;
}

bool be_transfer_abandoned(be_transfer *t)
{
    pthread_mutex_lock(&t->mu);
    bool a = t->users == 0;
    pthread_mutex_unlock(&t->mu);
    return a;
}

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
        be_transfer_head_complete(t);
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
    be_transfer_notify(t);
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
