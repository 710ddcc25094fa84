/* prof_record.h: what the profiler keeps of one guest request: the request line and status, the
 * hostcall spans, backend requests with libcurl's phase times, guest output lines, native samples
 * of the guest's wasm stack, and the deep-mode counters. A record is reference counted (the ring,
 * the worker running the request, backend transfers still running) and locked, since backend
 * transfers end on the event-loop thread. Times are nanoseconds from the request's start. */
#ifndef PROF_RECORD_H
#define PROF_RECORD_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PROF_ARGS_MAX 8
#define PROF_STACK_MAX 48    /* wasm frames kept per sample (innermost ones) */
#define PROF_SPANS_MAX 20000 /* hostcall spans kept per request (more are counted) */
#define PROF_LOGS_MAX 500    /* guest output lines kept per request */
#define PROF_LINE_MAX 1024   /* bytes kept of one output line */
#define PROF_BODY_KEEP 1024  /* deep mode: response body bytes kept */
#define PROF_CACHE_MAX 1000  /* cache lookups kept per request (all are counted) */

/* The profiler's mode; the order is cfg_profile_mode's. */
typedef enum prof_mode {
    PROF_MODE_OFF = 0,
    PROF_MODE_TRACE,
    PROF_MODE_NATIVE,
    PROF_MODE_COMBINED,
    PROF_MODE_DEEP,
} prof_mode;

typedef struct prof_span {
    const char *module, *name; /* static strings (the ABI table) */
    uint64_t start_ns, dur_ns;
    uint64_t args[PROF_ARGS_MAX];
    uint8_t nargs;
    char sig[PROF_ARGS_MAX + 1]; /* argument types, 'i' i32 / 'I' i64 */
    int32_t status;              /* fastly_status, or -1 when the call trapped */
    uint64_t mem_bytes;          /* deep mode: linear memory size after the call, else 0 */
} prof_span;

typedef struct prof_backend {
    char *backend, *method, *url; /* owned */
    uint64_t start_ns;            /* when the transfer started */
    /* libcurl's phase ends from the transfer's start (CURLINFO_*_TIME_T), microseconds; -1 when
     * the phase did not happen */
    int64_t dns_us, connect_us, tls_us, first_byte_us, total_us;
    uint64_t bytes_in, bytes_out;
    uint16_t status; /* 0 without a response head */
    bool ok;
    char error[96]; /* why it failed, when !ok */
} prof_backend;

/* A readthrough cache lookup of the request (HIT, MISS, STALE, PASS, ...). */
typedef struct prof_cache_event {
    uint64_t t_ns;
    char result[8];
    char *url; /* owned */
} prof_cache_event;

/* Deep mode: accesses of one store by one hostcall. */
typedef struct prof_store_count {
    char *store;               /* owned */
    const char *module, *name; /* the hostcall (static strings) */
    uint64_t count;
} prof_store_count;

typedef struct prof_log {
    uint64_t t_ns;
    uint8_t stream; /* 1 stdout, 2 stderr */
    char *text;     /* owned, without the newline */
} prof_log;

/* One distinct guest stack seen by native sampling, outermost frame first. */
typedef struct prof_stack {
    uint32_t *funcs; /* function indexes */
    uint32_t nframes;
    uint32_t count; /* samples with this stack */
} prof_stack;

typedef struct prof_fname {
    uint32_t index;
    char *name; /* owned; "func[N]" without a name section */
} prof_fname;

typedef struct prof_header_summary {
    char *name;  /* owned, lowercase as received */
    char *value; /* owned; "[redacted]" for credentials; NULL beyond deep mode */
    size_t value_len;
} prof_header_summary;

typedef struct prof_mem_point {
    uint64_t t_ns, bytes;
} prof_mem_point;

typedef struct prof_req {
    pthread_mutex_t mu;
    atomic_int refs;
    uint64_t id; /* 1, 2, ... per recorder */
    prof_mode mode;
    char trace[33];
    char *method, *url;     /* in the record's own allocation */
    uint64_t wall_start_us; /* CLOCK_REALTIME at the start (for exports) */
    uint64_t start_mono_ns; /* CLOCK_MONOTONIC at the start */
    uint64_t total_ns;      /* to the end of the guest run; 0 while running */
    uint64_t hostcall_ns;   /* time inside hostcalls */
    uint16_t status;
    bool done;

    prof_span *spans;
    size_t nspans, spans_cap, spans_dropped;
    prof_backend *backends;
    size_t nbackends;
    prof_cache_event *cache; /* readthrough cache lookups, in order */
    size_t ncache;
    uint64_t cache_hits, cache_misses; /* HIT and STALE count as hits, MISS and PASS as misses */
    prof_store_count *stores;          /* store accesses by store and hostcall */
    size_t nstores;
    prof_log *logs;
    size_t nlogs, logs_dropped;
    char *pending[2]; /* stdout, stderr: the line being gathered (PROF_LINE_MAX bytes) */
    size_t npending[2];
    bool pending_cut[2]; /* the line ran past PROF_LINE_MAX: the rest is dropped */

    prof_stack *stacks;
    size_t nstacks;
    uint64_t samples, samples_dropped;
    prof_fname *fnames;
    size_t nfnames;

    /* deep mode */
    uint64_t req_body_bytes, resp_body_bytes;
    prof_header_summary *req_headers;
    size_t nreq_headers;
    uint8_t *resp_body; /* first PROF_BODY_KEEP bytes */
    size_t resp_body_len;
    prof_mem_point *mem;
    size_t nmem, mem_cap;

    size_t bytes; /* approximate memory held, for the recorder's cap */
} prof_req;

/* A fresh record (one reference) for METHOD URL; NULL when out of memory. */
prof_req *prof_req_new(uint64_t id, prof_mode mode, const char *method, const char *url,
                       const char *trace);
void prof_req_retain(prof_req *r);
void prof_req_release(prof_req *r); /* accepts NULL; frees at the last reference */

/* Appends a hostcall span (times are CLOCK_MONOTONIC ns; the record makes them relative). Only
 * from the thread running the request, before prof_req_finish (no lock is taken). */
void prof_req_hostcall(prof_req *r, const prof_span *span_abs);
/* Appends a finished backend transfer (copied; start_ns is CLOCK_MONOTONIC). */
void prof_req_backend(prof_req *r, const prof_backend *b);
/* Counts an access to store[0..len) by hostcall module.name (static strings). */
void prof_req_store_access(prof_req *r, const char *store, size_t len, const char *module,
                           const char *name);
/* Appends a readthrough cache lookup: its result ("HIT", "MISS", "STALE", "PASS") and URL. */
void prof_req_cache(prof_req *r, const char *result, const char *url, size_t url_len);
/* Appends guest output: bytes are gathered per stream until a newline (a line is cut at
 * PROF_LINE_MAX), then the line, with the values of `secrets` scrubbed (may be NULL), is kept. */
struct prof_secrets;
void prof_req_output(prof_req *r, int stream, const uint8_t *data, size_t len,
                     const struct prof_secrets *secrets);
/* Keeps a last line that has no newline (at the end of the request). */
void prof_req_output_flush(prof_req *r, const struct prof_secrets *secrets);
/* Deep mode: response body bytes as they go out (the first PROF_BODY_KEEP are kept). */
void prof_req_resp_body(prof_req *r, const uint8_t *data, size_t len);
/* Deep mode: a downstream request header (credentials' values are redacted here). */
void prof_req_header(prof_req *r, const char *name, size_t name_len, const char *value,
                     size_t value_len);
/* Deep mode: the guest's linear memory is now `bytes` (after memory.grow). Same thread rule as
 * prof_req_hostcall. */
void prof_req_memory(prof_req *r, uint64_t bytes);
/* Adds one native sample's stack (outermost first) to the record. */
void prof_req_stack(prof_req *r, const uint32_t *funcs, uint32_t n, uint32_t count);
/* Sets the name of function `index` (copied) for the flame graph. */
void prof_req_fname(prof_req *r, uint32_t index, const char *name, size_t len);
/* Ends the record: status and total time. */
void prof_req_finish(prof_req *r, uint16_t status, uint64_t end_mono_ns);

/* The name of function `index`, or NULL when not known. */
const char *prof_req_fname_of(const prof_req *r, uint32_t index);

#endif
