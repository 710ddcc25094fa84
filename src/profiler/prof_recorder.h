/* prof_recorder.h: the profiler's recorder, owned by the server: it starts a record when a guest
 * request begins on a worker thread (that record is the thread's "current" one, which the
 * hostcall dispatch, the backends and the guest-output path add to), and keeps finished records
 * in a ring of the last N requests under a memory cap. Thread-safe. */
#ifndef PROF_RECORDER_H
#define PROF_RECORDER_H

#include "profiler/prof_record.h"
#include "profiler/prof_redact.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PROF_DEFAULT_MAX_REQUESTS 1000
#define PROF_DEFAULT_MAX_BYTES (256u * 1024u * 1024u)

typedef struct prof_config {
    prof_mode mode;        /* trace, native, combined or deep (off: no recorder) */
    bool native;           /* -profile-native: CPU samples too (also on in native/combined) */
    size_t max_requests;   /* ring size; 0 = PROF_DEFAULT_MAX_REQUESTS */
    size_t max_bytes;      /* memory cap of the ring; 0 = PROF_DEFAULT_MAX_BYTES */
    const char *guest_dir; /* Viceroy's --profile=guest,DIR: one Firefox Profiler JSON per
                              request there (NULL: none) */
    void (*log)(void *user, const char *line); /* startup notes (sampling method); may be NULL */
    void *log_user;
} prof_config;

typedef struct prof_recorder prof_recorder;

/* NULL with a message in err when out of memory or when native sampling cannot start. */
prof_recorder *prof_recorder_new(const prof_config *cfg, char *err, size_t errlen);
void prof_recorder_free(prof_recorder *rec); /* accepts NULL; no request may be running */

prof_mode prof_recorder_mode(const prof_recorder *rec);
bool prof_recorder_deep(const prof_recorder *rec);
/* The secret values scrubbed from recorded text (add to it before serving). */
prof_secrets *prof_recorder_secrets(prof_recorder *rec);

/* Starts the record of a request on the calling (worker) thread and makes it the thread's
 * current record. Returns it (borrowed until prof_recorder_end), or NULL when out of memory. */
prof_req *prof_recorder_begin(prof_recorder *rec, const char *method, const char *url,
                              const char *trace);
/* Ends it: stops sampling, finishes the record with `status`, puts it into the ring (dropping the
 * oldest beyond the limits) and clears the thread's current record. Accepts r == NULL. */
void prof_recorder_end(prof_recorder *rec, prof_req *r, uint16_t status);
/* The same with the request's end time given (CLOCK_MONOTONIC ns; 0 = now), e.g. when its
 * response ended before the guest went on to another request. */
void prof_recorder_end_at(prof_recorder *rec, prof_req *r, uint16_t status, uint64_t end_ns);

/* The calling thread's current record (borrowed), or NULL outside a recorded request. */
prof_req *prof_current(void);
/* The hostcall now running on this thread (static strings; NULL, NULL when none). */
void prof_set_current_call(const char *module, const char *name);
/* Counts an access to the named store (a KV store, dictionary, config or secret store, ACL) by
 * the current hostcall of the current profiled request; nothing when none is profiled. */
void prof_store_access(const char *store, size_t len);

/* Guest output through the current record, with secret values scrubbed. */
void prof_recorder_output(prof_recorder *rec, int stream, const uint8_t *data, size_t len);

/* Finished records, newest first, each retained (release each, then free the array). */
size_t prof_recorder_list(prof_recorder *rec, prof_req ***out);
/* The finished record with `id`, retained, or NULL. */
prof_req *prof_recorder_find(prof_recorder *rec, uint64_t id);
/* Records in the ring and the bytes they hold. */
void prof_recorder_stats(prof_recorder *rec, size_t *count, size_t *bytes, uint64_t *evicted);

#endif
