/* prof_record.c: one request's profile record: building it while the request runs (from the
 * worker thread and, for backend transfers, the event-loop thread) and freeing it (see
 * prof_record.h). */
#include "profiler/prof_record.h"

#include "profiler/prof_redact.h"
#include "util/util_clock.h"
#include "util/util_grow.h"
#include "util/util_str.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

prof_req *prof_req_new(uint64_t id, prof_mode mode, const char *method, const char *url,
                       const char *trace)
{
    if (!method)
        method = "";
    if (!url)
        url = "";
    size_t ml = strlen(method), ul = strlen(url);
    /* one block: the record, then its method and URL strings */
    prof_req *r = calloc(1, sizeof *r + ml + 1 + ul + 1);
    if (!r)
        return NULL;
    r->method = (char *)(r + 1);
    memcpy(r->method, method, ml + 1);
    r->url = r->method + ml + 1;
    memcpy(r->url, url, ul + 1);
    pthread_mutex_init(&r->mu, NULL);
    atomic_init(&r->refs, 1);
    r->id = id;
    r->mode = mode;
    size_t tl = trace ? strnlen(trace, sizeof r->trace - 1) : 0;
    if (tl)
        memcpy(r->trace, trace, tl); /* calloc'd: NUL-terminated */
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    r->wall_start_us = (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    r->start_mono_ns = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
    r->bytes = sizeof *r + ml + ul + 2;
    return r;
}

void prof_req_retain(prof_req *r)
{
    atomic_fetch_add(&r->refs, 1);
}

void prof_req_release(prof_req *r)
{
    if (!r || atomic_fetch_sub(&r->refs, 1) != 1)
        return;
    for (size_t i = 0; i < r->nbackends; i++) {
        free(r->backends[i].backend);
        free(r->backends[i].method);
        free(r->backends[i].url);
    }
    for (size_t i = 0; i < r->nlogs; i++)
        free(r->logs[i].text);
    for (size_t i = 0; i < r->ncache; i++)
        free(r->cache[i].url);
    free(r->cache);
    for (size_t i = 0; i < r->nstores; i++)
        free(r->stores[i].store);
    free(r->stores);
    free(r->pending[0]);
    free(r->pending[1]);
    for (size_t i = 0; i < r->nstacks; i++)
        free(r->stacks[i].funcs);
    for (size_t i = 0; i < r->nfnames; i++)
        free(r->fnames[i].name);
    for (size_t i = 0; i < r->nreq_headers; i++) {
        free(r->req_headers[i].name);
        free(r->req_headers[i].value);
    }
    free(r->spans);
    free(r->backends);
    free(r->logs);
    free(r->stacks);
    free(r->fnames);
    free(r->req_headers);
    free(r->resp_body);
    free(r->mem);
    pthread_mutex_destroy(&r->mu); /* method and url live in r's block */
    free(r);
}

static uint64_t rel(const prof_req *r, uint64_t mono_ns)
{
    return mono_ns > r->start_mono_ns ? mono_ns - r->start_mono_ns : 0;
}

/* Spans and memory points come only from the thread running the request, before
 * prof_req_finish, and nobody reads them before then (the ring holds finished records only), so
 * they are added without the lock; their bytes are counted at the finish. */
void prof_req_hostcall(prof_req *r, const prof_span *s)
{
    r->hostcall_ns += s->dur_ns;
    if (r->nspans >= PROF_SPANS_MAX ||
        !util_grow((void **)&r->spans, &r->spans_cap, r->nspans + 1, 16, sizeof *r->spans)) {
        r->spans_dropped++;
        return;
    }
    prof_span *d = &r->spans[r->nspans++];
    *d = *s;
    d->start_ns = rel(r, s->start_ns);
    if (r->mode == PROF_MODE_DEEP && s->mem_bytes &&
        (r->nmem == 0 || r->mem[r->nmem - 1].bytes != s->mem_bytes) &&
        util_grow((void **)&r->mem, &r->mem_cap, r->nmem + 1, 16, sizeof *r->mem))
        r->mem[r->nmem++] = (prof_mem_point){d->start_ns + d->dur_ns, s->mem_bytes};
}

void prof_req_backend(prof_req *r, const prof_backend *b)
{
    prof_backend c = *b;
    c.backend = util_strdup(b->backend ? b->backend : "");
    c.method = util_strdup(b->method ? b->method : "");
    c.url = util_strdup(b->url ? b->url : "");
    c.start_ns = rel(r, b->start_ns);
    pthread_mutex_lock(&r->mu);
    prof_backend *g = c.backend && c.method && c.url
                          ? realloc(r->backends, (r->nbackends + 1) * sizeof *g)
                          : NULL;
    if (g) {
        r->backends = g;
        r->backends[r->nbackends++] = c;
        r->bytes += sizeof c + strlen(c.url) + strlen(c.backend) + strlen(c.method);
    }
    pthread_mutex_unlock(&r->mu);
    if (!g) {
        free(c.backend);
        free(c.method);
        free(c.url);
    }
}

void prof_req_store_access(prof_req *r, const char *store, size_t len, const char *module,
                           const char *name)
{
    pthread_mutex_lock(&r->mu);
    for (size_t i = 0; i < r->nstores; i++) {
        prof_store_count *c = &r->stores[i];
        if (c->module == module && c->name == name && strlen(c->store) == len &&
            memcmp(c->store, store, len) == 0) {
            c->count++;
            pthread_mutex_unlock(&r->mu);
            return;
        }
    }
    char *copy = r->nstores < 256 ? malloc(len + 1) : NULL;
    prof_store_count *g = copy ? realloc(r->stores, (r->nstores + 1) * sizeof *g) : NULL;
    if (g) {
        memcpy(copy, store, len);
        copy[len] = '\0';
        r->stores = g;
        r->stores[r->nstores++] = (prof_store_count){copy, module, name, 1};
        r->bytes += sizeof *g + len;
    } else {
        free(copy);
    }
    pthread_mutex_unlock(&r->mu);
}

void prof_req_cache(prof_req *r, const char *result, const char *url, size_t url_len)
{
    prof_cache_event ev = {.t_ns = rel(r, util_now_ns())};
    snprintf(ev.result, sizeof ev.result, "%s", result);
    if (!(ev.url = util_strndup(url, url_len)))
        return;
    bool hit = strcmp(result, "HIT") == 0 || strcmp(result, "STALE") == 0;
    pthread_mutex_lock(&r->mu);
    if (hit)
        r->cache_hits++;
    else
        r->cache_misses++;
    prof_cache_event *g =
        r->ncache < PROF_CACHE_MAX ? realloc(r->cache, (r->ncache + 1) * sizeof *g) : NULL;
    if (g) {
        r->cache = g;
        r->cache[r->ncache++] = ev;
        r->bytes += sizeof ev + url_len;
    }
    pthread_mutex_unlock(&r->mu);
    if (!g)
        free(ev.url);
}

static void add_line(prof_req *r, int stream, uint64_t t, const char *s, size_t n)
{
    if (r->nlogs >= PROF_LOGS_MAX) {
        r->logs_dropped++;
        return;
    }
    if (n > PROF_LINE_MAX)
        n = PROF_LINE_MAX;
    char *text = util_strndup(s, n);
    prof_log *g = text ? realloc(r->logs, (r->nlogs + 1) * sizeof *g) : NULL;
    if (!g) {
        free(text);
        r->logs_dropped++;
        return;
    }
    r->logs = g;
    r->logs[r->nlogs++] = (prof_log){t, (uint8_t)stream, text};
    r->bytes += sizeof *g + n;
}

/* Keeps the gathered line of stream k (under r->mu). */
static void commit_line(prof_req *r, int k, const prof_secrets *secrets, uint64_t t)
{
    size_t n = 0;
    char *clean =
        prof_secrets_scrub(secrets, r->pending[k] ? r->pending[k] : "", r->npending[k], &n);
    if (clean)
        add_line(r, k + 1, t, clean, n);
    else
        r->logs_dropped++;
    free(clean);
    r->npending[k] = 0;
    r->pending_cut[k] = false;
}

void prof_req_output(prof_req *r, int stream, const uint8_t *data, size_t len,
                     const prof_secrets *secrets)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    uint64_t t = rel(r, (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec);
    int k = stream == 2 ? 1 : 0;
    pthread_mutex_lock(&r->mu);
    if (!r->pending[k] && !(r->pending[k] = malloc(PROF_LINE_MAX))) {
        r->logs_dropped++;
        pthread_mutex_unlock(&r->mu);
        return;
    }
    for (size_t i = 0; i < len; i++) {
        if (data[i] == '\n') {
            commit_line(r, k, secrets, t);
        } else if (r->npending[k] < PROF_LINE_MAX) {
            r->pending[k][r->npending[k]++] = (char)data[i];
        } else {
            r->pending_cut[k] = true;
        }
    }
    pthread_mutex_unlock(&r->mu);
}

void prof_req_output_flush(prof_req *r, const prof_secrets *secrets)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    uint64_t t = rel(r, (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec);
    pthread_mutex_lock(&r->mu);
    for (int k = 0; k < 2; k++) {
        if (r->npending[k])
            commit_line(r, k, secrets, t);
        free(r->pending[k]);
        r->pending[k] = NULL;
    }
    pthread_mutex_unlock(&r->mu);
}

void prof_req_resp_body(prof_req *r, const uint8_t *data, size_t len)
{
    pthread_mutex_lock(&r->mu);
    r->resp_body_bytes += len;
    if (r->resp_body_len < PROF_BODY_KEEP) {
        if (!r->resp_body)
            r->resp_body = malloc(PROF_BODY_KEEP);
        if (r->resp_body) {
            size_t n =
                PROF_BODY_KEEP - r->resp_body_len < len ? PROF_BODY_KEEP - r->resp_body_len : len;
            memcpy(r->resp_body + r->resp_body_len, data, n);
            r->resp_body_len += n;
            r->bytes += n;
        }
    }
    pthread_mutex_unlock(&r->mu);
}

void prof_req_header(prof_req *r, const char *name, size_t name_len, const char *value,
                     size_t value_len)
{
    bool redact = prof_redact_header(name, name_len);
    char *n = util_strndup(name, name_len);
    char *v = redact ? util_strdup(PROF_REDACTED) : util_strndup(value, value_len);
    pthread_mutex_lock(&r->mu);
    prof_header_summary *g =
        n && v ? realloc(r->req_headers, (r->nreq_headers + 1) * sizeof *g) : NULL;
    if (g) {
        r->req_headers = g;
        r->req_headers[r->nreq_headers++] = (prof_header_summary){n, v, value_len};
        r->bytes += sizeof *g + name_len + strlen(v);
    }
    pthread_mutex_unlock(&r->mu);
    if (!g) {
        free(n);
        free(v);
    }
}

void prof_req_memory(prof_req *r, uint64_t bytes)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    uint64_t t = rel(r, (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec);
    /* the request's thread only, like the spans (see prof_req_hostcall) */
    if ((r->nmem == 0 || r->mem[r->nmem - 1].bytes != bytes) &&
        util_grow((void **)&r->mem, &r->mem_cap, r->nmem + 1, 16, sizeof *r->mem))
        r->mem[r->nmem++] = (prof_mem_point){t, bytes};
}

void prof_req_stack(prof_req *r, const uint32_t *funcs, uint32_t n, uint32_t count)
{
    pthread_mutex_lock(&r->mu);
    r->samples += count;
    for (size_t i = 0; i < r->nstacks; i++) {
        prof_stack *s = &r->stacks[i];
        if (s->nframes == n && memcmp(s->funcs, funcs, n * sizeof *funcs) == 0) {
            s->count += count;
            pthread_mutex_unlock(&r->mu);
            return;
        }
    }
    uint32_t *copy = malloc((n ? n : 1) * sizeof *copy);
    prof_stack *g = copy ? realloc(r->stacks, (r->nstacks + 1) * sizeof *g) : NULL;
    if (g) {
        memcpy(copy, funcs, n * sizeof *funcs);
        r->stacks = g;
        r->stacks[r->nstacks++] = (prof_stack){copy, n, count};
        r->bytes += sizeof *g + n * sizeof *funcs;
    } else {
        free(copy);
        r->samples_dropped += count;
    }
    pthread_mutex_unlock(&r->mu);
}

void prof_req_fname(prof_req *r, uint32_t index, const char *name, size_t len)
{
    pthread_mutex_lock(&r->mu);
    for (size_t i = 0; i < r->nfnames; i++)
        if (r->fnames[i].index == index) {
            pthread_mutex_unlock(&r->mu);
            return;
        }
    char *n = util_strndup(name, len);
    prof_fname *g = n ? realloc(r->fnames, (r->nfnames + 1) * sizeof *g) : NULL;
    if (g) {
        r->fnames = g;
        r->fnames[r->nfnames++] = (prof_fname){index, n};
        r->bytes += sizeof *g + len;
    } else {
        free(n);
    }
    pthread_mutex_unlock(&r->mu);
}

const char *prof_req_fname_of(const prof_req *r, uint32_t index)
{
    for (size_t i = 0; i < r->nfnames; i++)
        if (r->fnames[i].index == index)
            return r->fnames[i].name;
    return NULL;
}

void prof_req_finish(prof_req *r, uint16_t status, uint64_t end_mono_ns)
{
    pthread_mutex_lock(&r->mu);
    r->bytes += r->nspans * sizeof *r->spans + r->nmem * sizeof *r->mem;
    r->status = status;
    r->total_ns = rel(r, end_mono_ns);
    if (r->total_ns == 0)
        r->total_ns = 1;
    r->done = true;
    pthread_mutex_unlock(&r->mu);
}
