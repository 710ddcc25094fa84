/* test_tier_sample.c: time-based hotness (src/engine/tier_sample.c): a function the interpreter
 * spends time in gets compiled although its counters stay far below the threshold, the loop then
 * takes samples in native code and still stops at a real interruption, samples never stop a
 * call, sampling off takes none, and FWE_TIER_SAMPLE_US's parsing; quick code's samples count per
 * function (a child process with tcc and a gated C compiler) and order the optimize jobs. */
#include "fwe.h"
#include "harness.h"
#include "tier_test.h"
#include "native.h"
#include "wat_module.h"

#include <fcntl.h>
#include <pthread.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

#define WASM "build/wat/tier_sample.wasm"
#define F_SPIN 1               /* function index of "spin" */
#define NEVER_HOT "1000000000" /* FWE_TIER_HOT: counters alone would need ~10^9 loop iterations */

static bool start(run *r, const char *sample_us)
{
    memset(r, 0, sizeof *r);
    setenv("FWE_TIER_HOT", NEVER_HOT, 1);
    setenv("FWE_TIER_SAMPLE_US", sample_us, 1);
    fwe_tier_set(FWE_TIER_AUTO);
    r->engine = fwe_engine_new();
    r->module = load_wat_module(r->engine, WASM);
    if (!r->module)
        return false;
    r->linker = fwe_linker_new(r->engine);
    fwe_trap trap;
    fwe_status st = fwe_instantiate(r->linker, r->module, NULL, &r->inst, &trap);
    CHECK_EQ_INT(st, FWE_OK);
    return st == FWE_OK;
}

static void stop(run *r)
{
    fwe_tier_wait_idle();
    fwe_instance_free(r->inst);
    fwe_linker_free(r->linker);
    fwe_module_free(r->module);
    fwe_engine_free(r->engine);
    unsetenv("FWE_TIER_HOT");
    unsetenv("FWE_TIER_SAMPLE_US");
}

static fwe_status call(run *r, const char *name, uint32_t arg, bool has_arg, fwe_val *res,
                       fwe_trap *trap)
{
    fwe_extern ext;
    if (!fwe_instance_export(r->inst, name, strlen(name), &ext) || ext.kind != FWE_EXTERN_FUNC)
        return FWE_ERR_ARGS;
    fwe_val a = {.type = FWE_I32};
    a.of.i32 = arg;
    return fwe_call(ext.of.func, has_arg ? &a : NULL, has_arg ? 1 : 0, res, res ? 1 : 0, trap);
}

static uint32_t work_expected(uint32_t n)
{
    uint32_t acc = 0, i = 0;
    do {
        acc = acc * 31 + i;
        i++;
    } while (i < n);
    return acc;
}

static uint64_t native_samples(void)
{
    fwe_tier_stats s;
    fwe_tier_stats_get(&s);
    return s.samples_quick + s.samples_cc;
}

/* Waits (at most a minute) until spin runs native code and takes samples there, then interrupts
 * it; *saw_native tells whether it got that far. */
typedef struct watcher {
    run *r;
    uint64_t native_before;
    bool saw_native;
} watcher;

static void *watch_spin(void *arg)
{
    watcher *w = arg;
    for (int i = 0; i < 6000; i++) {
        if (fwe_module_func_is_native(w->r->module, F_SPIN) &&
            native_samples() > w->native_before) {
            w->saw_native = true;
            break;
        }
        usleep(10000);
    }
    fwe_instance_interrupt(w->r->inst);
    return NULL;
}

TEST(samples_make_a_long_running_function_hot)
{
    run r;
    if (!start(&r, "100"))
        return;
    fwe_tier_stats before;
    fwe_tier_stats_get(&before);
    watcher w = {&r, native_samples(), false};
    pthread_t t;
    pthread_create(&t, NULL, watch_spin, &w);
    fwe_trap trap;
    CHECK_EQ_INT(call(&r, "spin", 0, false, NULL, &trap), FWE_ERR_TRAP);
    pthread_join(t, NULL);
    /* the loop counted 16 per 256 iterations, far from 10^9: only samples made it hot */
    CHECK(w.saw_native);
    CHECK_EQ_INT(trap.kind, FWE_TRAP_INTERRUPTED);
    CHECK_EQ_INT(trap.nframes, 1);
    CHECK_EQ_INT(trap.frames[0].func_index, F_SPIN);
    fwe_tier_stats after;
    fwe_tier_stats_get(&after);
    CHECK(after.samples_interp > before.samples_interp);
    CHECK(after.hot > before.hot);
    /* the instance serves on: no sample bit or interruption left over */
    fwe_instance_clear_interrupt(r.inst);
    fwe_val res;
    CHECK_EQ_INT(call(&r, "work", 1000, true, &res, &trap), FWE_OK);
    CHECK_EQ_INT(res.of.i32, work_expected(1000));
    stop(&r);
}

TEST(samples_never_stop_a_call)
{
    /* the shortest period: many samples land in the loop, in the interpreter and, once "work" is
     * hot, in its native code; every call still returns its result */
    run r;
    if (!start(&r, "50"))
        return;
    fwe_tier_stats before;
    fwe_tier_stats_get(&before);
    const uint32_t n = 3000000;
    for (int k = 0; k < 20; k++) {
        fwe_val res;
        fwe_trap trap;
        CHECK_EQ_INT(call(&r, "work", n + (uint32_t)k, true, &res, &trap), FWE_OK);
        CHECK_EQ_INT(res.of.i32, work_expected(n + (uint32_t)k));
    }
    fwe_tier_stats after;
    fwe_tier_stats_get(&after);
    CHECK(after.samples_interp + after.samples_quick + after.samples_cc >
          before.samples_interp + before.samples_quick + before.samples_cc);
    stop(&r);
}

TEST(sampling_off_takes_no_samples)
{
    run r;
    if (!start(&r, "0"))
        return;
    CHECK(!r.module->tier_sample);
    fwe_tier_stats before;
    fwe_tier_stats_get(&before);
    fwe_val res;
    fwe_trap trap;
    CHECK_EQ_INT(call(&r, "work", 20000000, true, &res, &trap), FWE_OK);
    CHECK_EQ_INT(res.of.i32, work_expected(20000000));
    fwe_tier_stats after;
    fwe_tier_stats_get(&after);
    CHECK_EQ_INT(after.samples_interp, before.samples_interp);
    CHECK_EQ_INT(after.hot, before.hot);
    CHECK(!fwe_module_func_is_native(r.module, 0));
    stop(&r);
}

TEST(sampling_is_auto_mode_only)
{
    run r;
    if (!start(&r, "100"))
        return;
    CHECK(r.module->tier_sample);
    stop(&r);
    setenv("FWE_TIER_SAMPLE_US", "100", 1);
    fwe_tier_set(FWE_TIER_INTERP);
    fwe_engine *e = fwe_engine_new();
    fwe_module *m = load_wat_module(e, WASM);
    if (m) {
        CHECK(!m->tier_sample);
        fwe_module_free(m);
    }
    fwe_engine_free(e);
    unsetenv("FWE_TIER_SAMPLE_US");
}

TEST(sample_period_from_the_environment)
{
    static const struct {
        const char *env;
        uint32_t us;
    } cases[] = {
        {NULL, 1000}, {"", 1000},           {"0", 0},      {"10", 50}, {"250", 250}, {"abc", 1000},
        {"-5", 1000}, {"5000000", 1000000}, {"7ms", 1000},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        if (cases[i].env)
            setenv("FWE_TIER_SAMPLE_US", cases[i].env, 1);
        else
            unsetenv("FWE_TIER_SAMPLE_US");
        CHECK_EQ_INT(fwe_tier_sample_interval_us(), cases[i].us);
    }
    unsetenv("FWE_TIER_SAMPLE_US");
}

static char *self_exe;

/* The quick child's watcher: waits (at most a minute) until spin's quick code took samples, then
 * opens the C compiler's gate and interrupts the call. */
typedef struct qwatch {
    run *r;
    const char *gate;
    bool seen;
} qwatch;

static void *watch_quick(void *arg)
{
    qwatch *q = arg;
    const fwe_module *m = q->r->module;
    for (int i = 0; i < 6000 && !q->seen; i++) {
        q->seen = m->qsamples && __atomic_load_n(&m->qsamples[F_SPIN], __ATOMIC_RELAXED) > 0;
        if (!q->seen)
            usleep(10000);
    }
    int fd = open(q->gate, O_WRONLY | O_CREAT, 0644);
    if (fd >= 0)
        close(fd);
    fwe_instance_interrupt(q->r->inst);
    return NULL;
}

TEST(optimize_policy_takes_the_most_sampled_batch)
{
    static const struct {
        uint64_t score[4];
        uint32_t n, want;
    } cases[] = {
        {{0, 0, 0, 0}, 4, 0}, /* no samples: hot order */
        {{1, 5, 5, 0}, 4, 1}, /* the first of equals */
        {{3, 1, 2, 0}, 3, 0}, {{0, 0, 9, 0}, 3, 2}, {{7, 0, 0, 8}, 4, 3}, {{4, 0, 0, 0}, 1, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        CHECK_EQ_INT(fwe_tier_pick_optimize(cases[i].score, cases[i].n), cases[i].want);
}

/* Child: auto mode with tcc as the quick compiler and a C compiler that waits for `gate`; spin
 * gets hot by samples, runs tcc's code, and once its quick code has samples of its own the gate
 * opens. Exit 0: quick samples counted for spin; 1: none within a minute; 2: setup failed. */
static int quick_child(const char *gate, const char *cc)
{
    unsetenv("FWE_TIER_QUICK");
    setenv("FWE_CC", cc, 1);
    run r;
    if (!start(&r, "100"))
        return 2;
    qwatch q = {&r, gate, false};
    pthread_t t;
    pthread_create(&t, NULL, watch_quick, &q);
    fwe_trap trap;
    fwe_status st = call(&r, "spin", 0, false, NULL, &trap);
    pthread_join(t, NULL);
    int rc = st == FWE_ERR_TRAP && trap.kind == FWE_TRAP_INTERRUPTED && q.seen ? 0 : 1;
    stop(&r);
    return rc;
}

TEST(quick_code_samples_count_per_function)
{
    char dir[] = "/tmp/fwe-sample-test-XXXXXX";
    if (!mkdtemp(dir)) {
        CHECK(false);
        return;
    }
    char gate[64], cc[64];
    snprintf(gate, sizeof gate, "%s/gate", dir);
    snprintf(cc, sizeof cc, "%s/cc.sh", dir);
    if (!write_gated_cc(cc, gate))
        return;
    char *args[] = {self_exe, "--quick-child", gate, cc, NULL};
    pid_t pid;
    CHECK_EQ_INT(posix_spawn(&pid, self_exe, NULL, NULL, args, environ), 0);
    int status = 0;
    waitpid(pid, &status, 0);
    CHECK(WIFEXITED(status));
    CHECK_EQ_INT(WEXITSTATUS(status), 0);
    unlink(gate);
    unlink(cc);
    rmdir(dir);
}

int main(int argc, char **argv)
{
    self_exe = argv[0];
    if (argc == 4 && !strcmp(argv[1], "--quick-child"))
        return quick_child(argv[2], argv[3]);
    setenv("FWE_CODE_CACHE", "off", 1);
    setenv("FWE_TIER_QUICK", "off", 1); /* the C compiler's code only: samples_cc */
    RUN(sample_period_from_the_environment);
    RUN(sampling_is_auto_mode_only);
    RUN(sampling_off_takes_no_samples);
    RUN(samples_never_stop_a_call);
    RUN(samples_make_a_long_running_function_hot);
    RUN(optimize_policy_takes_the_most_sampled_batch);
    RUN(quick_code_samples_count_per_function);
    return harness_finish(argv[0]);
}
