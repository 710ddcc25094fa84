/* hc_ctx.h: the per-request context of the Fastly hostcalls, as the server sees it. One hc_ctx
 * holds everything a guest instance may touch while it handles one downstream request: handle
 * tables (requests, responses, bodies, ...), the downstream request and its streaming body, and the
 * sink through which the response goes back to the client. The instance's host data is the ctx
 * (fwe_instance_config.host_data), so hostcalls reach it with fwe_caller_host_data(). */
#ifndef HC_CTX_H
#define HC_CTX_H

#include "fwe.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

/* A header as name/value byte strings (not NUL-terminated on the data path). */
typedef struct hc_header_view {
    const char *name;
    size_t name_len;
    const char *value;
    size_t value_len;
} hc_header_view;

/* Pulls the downstream request body. Blocks until data, end or error. Returns bytes read, 0 at
 * the end of the body, -1 on error (client went away). */
typedef long (*hc_read_fn)(void *src, uint8_t *buf, size_t len);

struct hc_handoff; /* hc_fanout.h */

typedef struct hc_downstream_request {
    const char *method;    /* NUL-terminated */
    const char *url;       /* absolute, as the edge gives it to guests: "http://host/path?q" */
    uint32_t http_version; /* fastly_http_version: 0 = 0.9, 1 = 1.0, 2 = 1.1, 3 = 2, 4 = 3 */
    const hc_header_view *headers;
    size_t nheaders;
    struct sockaddr_storage client_addr;
    struct sockaddr_storage server_addr;
    hc_read_fn body_read; /* NULL when there is no body */
    void *body_src;
    int64_t body_length; /* Content-Length, or -1 when unknown/chunked */
    /* Hands the connection over after the guest (Fanout / WebSocket, hc_fanout.h): takes `h`
     * (freed by the front end) and returns 0, or -1; NULL when the front end cannot. */
    int (*handoff)(void *src, struct hc_handoff *h);
    void *handoff_src;
} hc_downstream_request;

/* How the response reaches the client. send_head is called once; write/finish follow (write may be
 * called while the guest keeps running, for streaming responses). Each returns 0 or -1 when the
 * client is gone (the guest then sees errors on further writes). */
typedef struct hc_downstream_sink {
    int (*send_head)(void *sink, uint16_t status, const hc_header_view *headers, size_t nheaders,
                     int64_t content_length /* -1: unknown, stream it */);
    int (*write)(void *sink, const uint8_t *data, size_t len);
    int (*finish)(void *sink);
    void *sink;
    /* Optional (NULL: not supported by this sink, the call is then a no-op that succeeds).
     * send_info sends an interim 1xx response before the head (e.g. 103 Early Hints); trailers
     * hands over the trailer fields to send after the body, before finish. */
    int (*send_info)(void *sink, uint16_t status, const hc_header_view *headers, size_t nheaders);
    int (*trailers)(void *sink, const hc_header_view *fields, size_t nfields);
} hc_downstream_sink;

/* Read-only, server-wide settings the hostcalls need (owned by the server). */
typedef struct hc_settings {
    int verbosity; /* 0, 1, 2 */
    void (*log)(void *user, const char *line);
    void *log_user;
    const char *hostname; /* FASTLY_HOSTNAME and fastly_compute_runtime.get_hostname */
    const char *pop;      /* FASTLY_POP */
    const char *region;   /* FASTLY_REGION */
    const char *service_id;
    const char *service_version;
    /* Added with the hostcall implementations (zero/NULL = the local default): */
    const char *compliance_region;       /* downstream_compliance_region; NULL = "none" */
    const char *const *fake_fastly_keys; /* NULL-terminated; fastly_key_is_valid accepts these */
    /* Added with the backends (NULL: no backends, every send fails as for an unknown backend): */
    struct be_backends *backends; /* configured backends and the shared event loop */
    struct hc_stub_log *stub_log; /* unimplemented hostcalls already reported, or NULL
                                     (then every call is reported) */
    /* Edge data (stores, lookups, log endpoints, rate limiting, cache). Each is owned by the
     * server, shared by every instance and thread, and outlives the requests that use it; NULL
     * means none configured (lookups then fail as for an unknown name). */
    const struct cfg_edge *edge;            /* dictionaries, config/secret stores, the KV stores'
                                               initial data, ACLs, geolocation, device detection,
                                               loggers (config/cfg_edge.h; read-only) */
    struct hc_kv_stores *kv;                /* live KV stores (hc_kv_store.h) */
    struct hc_log_endpoints *log_endpoints; /* log endpoint writers (hc_log.h) */
    struct hc_erl *erl;                     /* rate counters and penalty boxes (hc_erl.h) */
    struct hc_cache *cache;                 /* the cache (hc_cache.h) */
    const struct hc_fanout *fanout;         /* Pushpin port, WebSocket passthrough (hc_fanout.h) */
    /* The profiler (profiler/prof_recorder.h), owned by the server; NULL when not profiling.
     * The hostcall dispatch records a span per call into the thread's current record. */
    struct prof_recorder *profiler;
} hc_settings;

typedef struct hc_ctx hc_ctx;

/* Where further downstream requests come from, for a guest that keeps its instance to serve
 * several (fastly_http_downstream.next_request / next_request_wait). Implemented by the server;
 * without one, every next_request promise resolves to "no request". */
typedef struct hc_next_source {
    /* Registers the instance for one more request until the CLOCK_MONOTONIC time deadline_ns;
     * wake(wake_arg) is called, from another thread, when one is handed over. Returns the waiter,
     * or NULL when no request will come. */
    void *(*wait_begin)(void *user, uint64_t deadline_ns, void (*wake)(void *), void *wake_arg);
    /* True once a request was handed to the waiter, or once none can come any more. */
    bool (*arrived)(void *user, void *waiter);
    /* Ends the wait and frees the waiter. With accept, a request handed over becomes the
     * instance's current downstream request: *req and *sink are set and the result is true (both
     * stay valid until the context is freed). Without accept, a request handed over is given back
     * to be served by a fresh instance, and the result is false. */
    bool (*wait_end)(void *user, void *waiter, bool accept, const hc_downstream_request **req,
                     const hc_downstream_sink **sink);
    void *user;
} hc_next_source;

/* Creates the context for one downstream request. `req` and everything it points to must stay
 * valid until hc_ctx_free. `trace_id` is the request's FASTLY_TRACE_ID. */
hc_ctx *hc_ctx_new(const hc_settings *settings, const hc_downstream_request *req,
                   const hc_downstream_sink *sink, const char *trace_id);
void hc_ctx_free(hc_ctx *ctx);
/* The creating thread's CPU time (CLOCK_THREAD_CPUTIME_ID) when the context was made, in ns. */
uint64_t hc_ctx_cpu_start_ns(const hc_ctx *ctx);

/* Writes one log line (printf-style, no trailing newline needed), prefixed "[trace] " with the
 * first 8 characters of the request's trace id, through settings->log when `level` <=
 * settings->verbosity; level 0 always goes out. With ctx NULL (no request, e.g.
 * `fastlike run`), level-0 lines go to stderr. */
void hc_log(hc_ctx *ctx, int level, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* The log level for one downstream request: settings->verbosity, raised to 2 when the request
 * carries a `fastlike-verbose` header whose value is not empty or "0" (Fastlike's per-request
 * verbose mode). */
#define HC_VERBOSE_HEADER "fastlike-verbose"
int hc_request_verbosity(const hc_settings *settings, const hc_downstream_request *req);

/* The settings the context was made with. */
const hc_settings *hc_ctx_settings(const hc_ctx *ctx);

/* Lets the guest take further downstream requests from `src` (must outlive the context). */
void hc_ctx_set_next_source(hc_ctx *ctx, const hc_next_source *src);

/* True once the guest called send_downstream (the head went to the sink). */
bool hc_ctx_response_started(const hc_ctx *ctx);
/* True once the response body is complete (buffered send, or a streaming body was closed). */
bool hc_ctx_response_finished(const hc_ctx *ctx);
/* After the guest returned or trapped: finishes a streaming body that the guest left open.
 * A streaming body the guest abandoned (fastly_http_body.abandon) is not finished: then
 * started && !finished after this call, and the server should cut the response short. */
void hc_ctx_finish(hc_ctx *ctx);

/* Defines every Fastly hostcall module on `linker` (implemented functions, and `unsupported`
 * answers for the rest of the witx surface, plus legacy `env.xqd_*` names). Host data comes from
 * the instance, so one linker serves every request. */
fwe_status hc_define_all(fwe_linker *linker);

#endif
