/* hc_compute_runtime.c: fastly_compute_runtime: get_vcpu_ms (CPU time of the thread running the
 * guest since its request context was made), get_heap_mib (guest linear memory, rounded up to
 * whole MiB as Viceroy), and beyond the witx get_hostname, get_sandbox_id, get_service_version,
 * get_trace_id (buffer, length, nwritten). */
#include "hc_compute_runtime.h"

#include "hc_hostcall.h"

#include <time.h>

static fwe_trap_kind get_vcpu_ms(fwe_caller *caller, uint64_t *slots, void *data)
{
    HC_CTX(ctx);
    struct timespec now;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now);
    int64_t ns = (int64_t)(now.tv_sec - ctx->cpu_start.tv_sec) * 1000000000 +
                 (now.tv_nsec - ctx->cpu_start.tv_nsec);
    HC_RETURN(hc_mem_write_u64(caller, HC_ARG(0), ns > 0 ? (uint64_t)ns / 1000000 : 0));
}

static fwe_trap_kind get_heap_mib(fwe_caller *caller, uint64_t *slots, void *data)
{
    const uint64_t mib = 1024 * 1024;
    fwe_memory *mem = fwe_caller_memory(caller);
    uint64_t bytes = mem ? fwe_memory_size(mem) : 0;
    uint64_t n = (bytes + mib - 1) / mib;
    HC_RETURN(hc_mem_write_u32(caller, HC_ARG(0), n > UINT32_MAX ? UINT32_MAX : (uint32_t)n));
}

static fwe_trap_kind copy_setting(fwe_caller *caller, uint64_t *slots, const char *value)
{
    HC_RETURN(hc_call_copy_str(caller, value, HC_ARG(0), HC_ARG(1), HC_ARG(2)));
}

static fwe_trap_kind get_hostname(fwe_caller *caller, uint64_t *slots, void *data)
{
    HC_CTX(ctx);
    const char *v =
        ctx->settings && ctx->settings->hostname ? ctx->settings->hostname : "localhost";
    return copy_setting(caller, slots, v);
}

static fwe_trap_kind get_service_version(fwe_caller *caller, uint64_t *slots, void *data)
{
    HC_CTX(ctx);
    const char *v =
        ctx->settings && ctx->settings->service_version ? ctx->settings->service_version : "0";
    return copy_setting(caller, slots, v);
}

/* The sandbox of one request is identified by the request's trace id. */
static fwe_trap_kind get_trace_id(fwe_caller *caller, uint64_t *slots, void *data)
{
    HC_CTX(ctx);
    return copy_setting(caller, slots, ctx->trace_id);
}

#define M "fastly_compute_runtime"
const hc_impl hc_compute_runtime_impls[] = {
    {M, "get_vcpu_ms", get_vcpu_ms},
    {M, "get_heap_mib", get_heap_mib},
    {M, "get_hostname", get_hostname},
    {M, "get_sandbox_id", get_trace_id},
    {M, "get_service_version", get_service_version},
    {M, "get_trace_id", get_trace_id},
    {NULL, NULL, NULL},
};
#undef M
