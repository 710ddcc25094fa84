/* prof_sampler.c: SIGPROF-driven sampling of guest wasm stacks (see prof_sampler.h). Samples go
 * into a per-thread buffer allocated before sampling starts, so the handler neither allocates nor
 * locks; the buffer is folded into the record when the request ends. */
#include "profiler/prof_sampler.h"

#include "fwe.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/perf_event.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define SAMPLES_MAX 4096 /* per request; more are counted as dropped */

typedef struct thread_buf {
    volatile sig_atomic_t active;
    uint32_t n, dropped;
    const fwe_module *module;
    uint32_t depth[SAMPLES_MAX];
    uint32_t frames[SAMPLES_MAX][PROF_STACK_MAX];
    /* the thread's timer while active */
    int perf_fd;
    timer_t timer;
    bool timer_ok;
} thread_buf;

struct prof_sampler {
    unsigned hz;
    bool perf;
};

static _Thread_local thread_buf *tls_buf;
static pthread_key_t buf_key;
static pthread_once_t key_once = PTHREAD_ONCE_INIT;

static void buf_destroy(void *p)
{
    free(p);
}

static void on_sigprof(int sig, siginfo_t *si, void *uc);

/* The handler is installed once for the process and stays: a sampler freed while another server
 * of the same process still samples must not take it away (an unhandled SIGPROF ends the
 * process), and a handler with no active buffer ignores the signal. */
static int handler_errno;

static void make_key(void)
{
    pthread_key_create(&buf_key, buf_destroy);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_sigprof;
    sa.sa_flags = SA_SIGINFO | SA_RESTART;
    sigemptyset(&sa.sa_mask);
    if (sigaction(SIGPROF, &sa, NULL) != 0)
        handler_errno = errno ? errno : EINVAL;
}

static void on_sigprof(int sig, siginfo_t *si, void *uc)
{
    (void)sig, (void)si, (void)uc;
    int saved = errno;
    thread_buf *b = tls_buf;
    if (b && b->active) {
        if (b->n < SAMPLES_MAX) {
            uint32_t n = fwe_thread_stack(b->frames[b->n], PROF_STACK_MAX, &b->module);
            if (n)
                b->depth[b->n++] = n;
        } else {
            b->dropped++;
        }
    }
    errno = saved;
}

static long perf_open(struct perf_event_attr *a)
{
    return syscall(SYS_perf_event_open, a, 0 /* this thread */, -1, -1, 0);
}

static void perf_attr(struct perf_event_attr *a, unsigned hz)
{
    memset(a, 0, sizeof *a);
    a->size = sizeof *a;
    a->type = PERF_TYPE_SOFTWARE;
    a->config = PERF_COUNT_SW_TASK_CLOCK;
    a->sample_period = 1000000000ull / hz;
    a->wakeup_events = 1;
    a->exclude_kernel = 1;
    a->exclude_hv = 1;
}

static int read_paranoid(void)
{
    FILE *f = fopen("/proc/sys/kernel/perf_event_paranoid", "r");
    int v = -100;
    if (f) {
        if (fscanf(f, "%d", &v) != 1)
            v = -100;
        fclose(f);
    }
    return v;
}

prof_sampler *prof_sampler_new(unsigned hz, char *how, size_t howlen)
{
    pthread_once(&key_once, make_key);
    prof_sampler *s = calloc(1, sizeof *s);
    if (!s) {
        snprintf(how, howlen, "out of memory");
        return NULL;
    }
    s->hz = hz ? hz : PROF_SAMPLE_HZ;
    /* FASTLIKE_PROFILE_TIMER=sigprof skips perf_event_open (for systems where it misbehaves,
     * and to test the fallback) */
    const char *force = getenv("FASTLIKE_PROFILE_TIMER");
    bool no_perf = force && strcmp(force, "sigprof") == 0;
    struct perf_event_attr a;
    perf_attr(&a, s->hz);
    long fd = no_perf ? -1 : perf_open(&a);
    int paranoid = read_paranoid();
    if (no_perf) {
        snprintf(how, howlen,
                 "native sampling: SIGPROF per-thread CPU-time timer at %u Hz "
                 "(FASTLIKE_PROFILE_TIMER=sigprof)",
                 s->hz);
    } else if (fd >= 0) {
        close((int)fd);
        s->perf = true;
        snprintf(how, howlen,
                 "native sampling: perf_event_open task-clock at %u Hz per worker thread "
                 "(kernel.perf_event_paranoid=%d permits it)",
                 s->hz, paranoid);
    } else {
        int e = errno;
        snprintf(how, howlen,
                 "native sampling: SIGPROF per-thread CPU-time timer at %u Hz (perf_event_open "
                 "refused: %s; kernel.perf_event_paranoid=%d%s)",
                 s->hz, strerror(e), paranoid,
                 e == EACCES || e == EPERM
                     ? ", lower it with `sysctl kernel.perf_event_paranoid=1` or allow "
                       "perf_event_open in the container's seccomp profile"
                     : "");
    }
    if (handler_errno) {
        snprintf(how, howlen, "native sampling: cannot install a SIGPROF handler: %s",
                 strerror(handler_errno));
        free(s);
        return NULL;
    }
    return s;
}

void prof_sampler_free(prof_sampler *s)
{
    free(s); /* the handler stays (see make_key) */
}

bool prof_sampler_uses_perf(const prof_sampler *s)
{
    return s && s->perf;
}

static bool start_perf(prof_sampler *s, thread_buf *b)
{
    struct perf_event_attr a;
    perf_attr(&a, s->hz);
    a.disabled = 1;
    long fd = perf_open(&a);
    if (fd < 0)
        return false;
    struct f_owner_ex owner = {F_OWNER_TID, (pid_t)syscall(SYS_gettid)};
    if (fcntl((int)fd, F_SETFL, O_ASYNC) != 0 || fcntl((int)fd, F_SETSIG, SIGPROF) != 0 ||
        fcntl((int)fd, F_SETOWN_EX, &owner) != 0 || ioctl((int)fd, PERF_EVENT_IOC_ENABLE, 0) != 0) {
        close((int)fd);
        return false;
    }
    b->perf_fd = (int)fd;
    return true;
}

static bool start_timer(prof_sampler *s, thread_buf *b)
{
    struct sigevent ev;
    memset(&ev, 0, sizeof ev);
    ev.sigev_notify = SIGEV_THREAD_ID;
    ev.sigev_signo = SIGPROF;
    ev._sigev_un._tid = (pid_t)syscall(SYS_gettid);
    if (timer_create(CLOCK_THREAD_CPUTIME_ID, &ev, &b->timer) != 0)
        return false;
    long ns = 1000000000l / (long)s->hz;
    struct itimerspec its = {{ns / 1000000000l, ns % 1000000000l},
                             {ns / 1000000000l, ns % 1000000000l}};
    if (timer_settime(b->timer, 0, &its, NULL) != 0) {
        timer_delete(b->timer);
        return false;
    }
    b->timer_ok = true;
    return true;
}

void prof_sampler_begin(prof_sampler *s, prof_req *r)
{
    (void)r;
    if (!s)
        return;
    thread_buf *b = tls_buf;
    if (!b) {
        b = calloc(1, sizeof *b);
        if (!b)
            return;
        tls_buf = b;
        pthread_setspecific(buf_key, b);
    }
    b->n = b->dropped = 0;
    b->module = NULL;
    b->perf_fd = -1;
    b->timer_ok = false;
    atomic_signal_fence(memory_order_seq_cst);
    b->active = 1;
    if (!(s->perf && start_perf(s, b)))
        start_timer(s, b);
}

void prof_sampler_end(prof_sampler *s, prof_req *r)
{
    thread_buf *b = tls_buf;
    if (!s || !b || !b->active)
        return;
    if (b->perf_fd >= 0) {
        ioctl(b->perf_fd, PERF_EVENT_IOC_DISABLE, 0);
        close(b->perf_fd);
        b->perf_fd = -1;
    }
    if (b->timer_ok) {
        timer_delete(b->timer);
        b->timer_ok = false;
    }
    b->active = 0;
    atomic_signal_fence(memory_order_seq_cst);
    uint32_t outer[PROF_STACK_MAX];
    uint32_t seen[512];
    size_t nseen = 0;
    for (uint32_t i = 0; i < b->n; i++) {
        uint32_t n = b->depth[i];
        for (uint32_t k = 0; k < n; k++)
            outer[k] = b->frames[i][n - 1 - k];
        prof_req_stack(r, outer, n, 1);
        for (uint32_t k = 0; k < n; k++) {
            bool known = false;
            for (size_t j = 0; j < nseen && !known; j++)
                known = seen[j] == outer[k];
            if (known || nseen == sizeof seen / sizeof *seen)
                continue;
            seen[nseen++] = outer[k];
            uint32_t len = 0;
            const char *name = b->module ? fwe_module_func_name(b->module, outer[k], &len) : NULL;
            char fallback[32];
            if (!name) {
                snprintf(fallback, sizeof fallback, "func[%u]", outer[k]);
                name = fallback;
                len = (uint32_t)strlen(fallback);
            }
            prof_req_fname(r, outer[k], name, len);
        }
    }
    if (b->dropped) {
        pthread_mutex_lock(&r->mu);
        r->samples_dropped += b->dropped;
        pthread_mutex_unlock(&r->mu);
    }
    b->n = b->dropped = 0;
}
