/* prof_recorder.c: the ring of finished request records, the thread's current record, and the
 * sampler's start and stop around each request (see prof_recorder.h). */
#include "profiler/prof_recorder.h"

#include "profiler/prof_firefox.h"
#include "profiler/prof_sampler.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct prof_recorder {
    prof_mode mode;
    size_t max_requests, max_bytes;
    char *guest_dir;
    prof_secrets *secrets;
    prof_sampler *sampler; /* NULL without native sampling */
    void (*log)(void *user, const char *line);
    void *log_user;

    pthread_mutex_t mu; /* guards everything below */
    prof_req **ring;    /* max_requests slots; oldest at head */
    size_t head, count, bytes;
    uint64_t next_id, evicted;
};

static _Thread_local prof_req *tls_current;

prof_req *prof_current(void)
{
    return tls_current;
}

/* The hostcall running on this thread in a profiled request (set by the dispatcher). */
static _Thread_local const char *tls_call_module, *tls_call_name;

void prof_set_current_call(const char *module, const char *name)
{
    tls_call_module = module;
    tls_call_name = name;
}

void prof_store_access(const char *store, size_t len)
{
    prof_req *r = tls_current;
    if (r && tls_call_module)
        prof_req_store_access(r, store, len, tls_call_module, tls_call_name);
}

prof_recorder *prof_recorder_new(const prof_config *cfg, char *err, size_t errlen)
{
    prof_recorder *rec = calloc(1, sizeof *rec);
    if (!rec) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    rec->mode = cfg->mode == PROF_MODE_OFF ? PROF_MODE_TRACE : cfg->mode;
    rec->max_requests = cfg->max_requests ? cfg->max_requests : PROF_DEFAULT_MAX_REQUESTS;
    rec->max_bytes = cfg->max_bytes ? cfg->max_bytes : PROF_DEFAULT_MAX_BYTES;
    rec->log = cfg->log;
    rec->log_user = cfg->log_user;
    pthread_mutex_init(&rec->mu, NULL);
    rec->next_id = 1;
    rec->ring = calloc(rec->max_requests, sizeof *rec->ring);
    rec->secrets = prof_secrets_new();
    if (cfg->guest_dir) {
        size_t n = strlen(cfg->guest_dir) + 1;
        if ((rec->guest_dir = malloc(n)))
            memcpy(rec->guest_dir, cfg->guest_dir, n);
    }
    if (!rec->ring || !rec->secrets || (cfg->guest_dir && !rec->guest_dir)) {
        snprintf(err, errlen, "out of memory");
        prof_recorder_free(rec);
        return NULL;
    }
    bool native = cfg->native || rec->mode == PROF_MODE_NATIVE || rec->mode == PROF_MODE_COMBINED ||
                  cfg->guest_dir;
    if (native) {
        char how[512] = "";
        rec->sampler = prof_sampler_new(PROF_SAMPLE_HZ, how, sizeof how);
        if (!rec->sampler) {
            snprintf(err, errlen, "%s", how);
            prof_recorder_free(rec);
            return NULL;
        }
        if (rec->log)
            rec->log(rec->log_user, how);
    }
    return rec;
}

void prof_recorder_free(prof_recorder *rec)
{
    if (!rec)
        return;
    prof_sampler_free(rec->sampler);
    for (size_t i = 0; rec->ring && i < rec->count; i++)
        prof_req_release(rec->ring[(rec->head + i) % rec->max_requests]);
    free(rec->ring);
    prof_secrets_free(rec->secrets);
    free(rec->guest_dir);
    pthread_mutex_destroy(&rec->mu);
    free(rec);
}

prof_mode prof_recorder_mode(const prof_recorder *rec)
{
    return rec->mode;
}

bool prof_recorder_deep(const prof_recorder *rec)
{
    return rec && rec->mode == PROF_MODE_DEEP;
}

prof_secrets *prof_recorder_secrets(prof_recorder *rec)
{
    return rec->secrets;
}

prof_req *prof_recorder_begin(prof_recorder *rec, const char *method, const char *url,
                              const char *trace)
{
    pthread_mutex_lock(&rec->mu);
    uint64_t id = rec->next_id++;
    pthread_mutex_unlock(&rec->mu);
    size_t ulen = 0;
    char *clean = url && prof_secrets_count(rec->secrets)
                      ? prof_secrets_scrub(rec->secrets, url, strlen(url), &ulen)
                      : NULL;
    prof_req *r = prof_req_new(id, rec->mode, method, clean ? clean : url, trace);
    free(clean);
    if (!r)
        return NULL;
    tls_current = r;
    prof_sampler_begin(rec->sampler, r);
    return r;
}

/* Drops the oldest records beyond the limits (under rec->mu); the newest always stays. */
static void evict(prof_recorder *rec)
{
    while (rec->count > 1 && (rec->count > rec->max_requests || rec->bytes > rec->max_bytes)) {
        prof_req *old = rec->ring[rec->head];
        rec->ring[rec->head] = NULL;
        rec->head = (rec->head + 1) % rec->max_requests;
        rec->count--;
        rec->bytes -= old->bytes < rec->bytes ? old->bytes : rec->bytes;
        rec->evicted++;
        prof_req_release(old);
    }
}

void prof_recorder_end(prof_recorder *rec, prof_req *r, uint16_t status)
{
    prof_recorder_end_at(rec, r, status, 0);
}

void prof_recorder_end_at(prof_recorder *rec, prof_req *r, uint16_t status, uint64_t end_ns)
{
    if (!r)
        return;
    prof_sampler_end(rec->sampler, r);
    if (tls_current == r)
        tls_current = NULL;
    prof_req_output_flush(r, rec->secrets);
    if (!end_ns) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        end_ns = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
    }
    prof_req_finish(r, status, end_ns);
    if (rec->guest_dir) {
        char err[256] = "";
        if (!prof_firefox_write_file(rec->guest_dir, r, err, sizeof err) && rec->log) {
            char line[512];
            snprintf(line, sizeof line, "profiler: %s", err);
            rec->log(rec->log_user, line);
        }
    }
    pthread_mutex_lock(&rec->mu);
    if (rec->count == rec->max_requests) {
        /* full: the oldest makes room (evict() keeps the newest, so drop it here) */
        prof_req *old = rec->ring[rec->head];
        rec->head = (rec->head + 1) % rec->max_requests;
        rec->count--;
        rec->bytes -= old->bytes < rec->bytes ? old->bytes : rec->bytes;
        rec->evicted++;
        prof_req_release(old);
    }
    rec->ring[(rec->head + rec->count) % rec->max_requests] = r; /* the worker's reference */
    rec->count++;
    rec->bytes += r->bytes;
    evict(rec);
    pthread_mutex_unlock(&rec->mu);
}

void prof_recorder_output(prof_recorder *rec, int stream, const uint8_t *data, size_t len)
{
    prof_req *r = tls_current;
    if (r)
        prof_req_output(r, stream, data, len, rec->secrets);
}

size_t prof_recorder_list(prof_recorder *rec, prof_req ***out)
{
    pthread_mutex_lock(&rec->mu);
    size_t n = rec->count;
    prof_req **list = malloc((n ? n : 1) * sizeof *list);
    if (!list) {
        pthread_mutex_unlock(&rec->mu);
        *out = NULL;
        return 0;
    }
    for (size_t i = 0; i < n; i++) {
        prof_req *r = rec->ring[(rec->head + n - 1 - i) % rec->max_requests];
        prof_req_retain(r);
        list[i] = r;
    }
    pthread_mutex_unlock(&rec->mu);
    *out = list;
    return n;
}

prof_req *prof_recorder_find(prof_recorder *rec, uint64_t id)
{
    prof_req *found = NULL;
    pthread_mutex_lock(&rec->mu);
    for (size_t i = 0; i < rec->count && !found; i++) {
        prof_req *r = rec->ring[(rec->head + i) % rec->max_requests];
        if (r->id == id) {
            prof_req_retain(r);
            found = r;
        }
    }
    pthread_mutex_unlock(&rec->mu);
    return found;
}

void prof_recorder_stats(prof_recorder *rec, size_t *count, size_t *bytes, uint64_t *evicted)
{
    pthread_mutex_lock(&rec->mu);
    if (count)
        *count = rec->count;
    if (bytes)
        *bytes = rec->bytes;
    if (evicted)
        *evicted = rec->evicted;
    pthread_mutex_unlock(&rec->mu);
}
