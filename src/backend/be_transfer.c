/* be_transfer.c: the transfer object and its caller's side: start (the easy handle set up by
 * be_transfer_request.c and handed to the loop), references (the last user going away cancels a
 * running transfer), writing the request body, waiting for the head, reading the response body
 * and head. The loop's side is in be_transfer_loop.c; libcurl's callbacks in be_transfer_head.c
 * and be_transfer_body.c. */
#include "backend/be_transfer_internal.h"
#include "backend/be_loop.h"
#include "profiler/prof_recorder.h"
#include "util/util_str.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

void be_transfer_notify(be_transfer *t)
{
    pthread_cond_broadcast(&t->cond);
    if (t->sig)
        be_signal_notify(t->sig);
}

static void destroy(be_transfer *t)
{
    if (t->on_done) /* it never ran to its end: the callback still hears of it */
        t->on_done(t->done_user, t, false, 0);
    if (t->easy)
        curl_easy_cleanup(t->easy);
    curl_slist_free_all(t->req_headers);
    curl_slist_free_all(t->connect_to);
    be_hdr_free(&t->headers);
    be_hdr_free(&t->trailers);
    be_hdr_free(&t->req_trailers);
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
    if (!be_transfer_setup(t, b, req)) {
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
        if (t->req.len >= BE_REQ_CAP) {
            pthread_cond_wait(&t->cond, &t->mu);
            continue;
        }
        size_t n = BE_REQ_CAP - t->req.len;
        if (n > len)
            n = len;
        if (!be_bytes_push(&t->req, data, n)) {
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
    int rc = (t->complete || t->req_closed || !t->has_body || !be_bytes_push(&t->req, data, len))
                 ? -1
                 : 0;
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
        ok = be_hdr_add(&t->req_trailers, h[i].name, h[i].name_len, h[i].value, h[i].value_len);
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
    bool w = t->complete || t->req.len < BE_REQ_CAP;
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
    const be_hdr *h = &t->headers.items[i];
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
            rc = (long)be_bytes_take(&t->resp, buf, len);
            if (t->recv_paused && !t->unpause_queued && t->resp.len < BE_RESP_CAP / 2) {
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
    const be_hdr *h = &t->trailers.items[i];
    return (be_header){h->name, h->name_len, h->value, h->value_len};
}
