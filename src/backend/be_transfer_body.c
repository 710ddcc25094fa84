/* be_transfer_body.c: the bodies streaming through libcurl's callbacks (loop thread): the request
 * body drained from its bounded buffer (pausing the upload while it is empty), the request
 * trailers, and the response body appended to its bounded buffer (pausing the download while it
 * is full, dropping it when nobody reads it). */
#include "backend/be_transfer_internal.h"
#include "backend/be_loop.h"

#include <stdio.h>
#include <stdlib.h>

size_t be_transfer_on_read(char *buf, size_t size, size_t nitems, void *p)
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
    n = be_bytes_take(&t->req, (uint8_t *)buf, want);
    t->bytes_out += n;
    t->last_send_ns = be_now_ns();
    be_transfer_notify(t);
    pthread_mutex_unlock(&t->mu);
    return n;
}

/* The request trailers, after the last chunk of a chunked upload. */
int be_transfer_on_trailers(struct curl_slist **list, void *p)
{
    be_transfer *t = p;
    int rc = CURL_TRAILERFUNC_OK;
    pthread_mutex_lock(&t->mu);
    for (size_t i = 0; i < t->req_trailers.n && rc == CURL_TRAILERFUNC_OK; i++) {
        const be_hdr *h = &t->req_trailers.items[i];
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

size_t be_transfer_on_write(char *buf, size_t size, size_t nmemb, void *p)
{
    be_transfer *t = p;
    size_t n = size * nmemb;
    pthread_mutex_lock(&t->mu);
    if (t->users == 0) { /* nobody reads any more: drain until the cancel arrives */
        pthread_mutex_unlock(&t->mu);
        return n;
    }
    if (!t->head_done)
        be_transfer_head_complete(t);
    if (t->discard) {
        t->bytes_in += n;
        t->last_recv_ns = be_now_ns();
        pthread_mutex_unlock(&t->mu);
        return n;
    }
    if (t->resp.len >= BE_RESP_CAP) {
        t->recv_paused = true;
        pthread_mutex_unlock(&t->mu);
        return CURL_WRITEFUNC_PAUSE;
    }
    if (t->local_error || !(t->gz ? be_transfer_gunzip_push(t, (const uint8_t *)buf, n)
                                  : be_bytes_push(&t->resp, (const uint8_t *)buf, n))) {
        if (!t->local_error)
            t->local_error = t->gz ? BE_ERR_HTTP_PROTOCOL_ERROR : BE_ERR_INTERNAL_ERROR;
        pthread_mutex_unlock(&t->mu);
        return 0;
    }
    t->bytes_in += n;
    t->last_recv_ns = be_now_ns();
    be_transfer_notify(t);
    pthread_mutex_unlock(&t->mu);
    return n;
}
