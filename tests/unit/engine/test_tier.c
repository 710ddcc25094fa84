/* test_tier.c: the native tier (src/engine/tier.c, native_gen.c, native_rt.c) against the
 * interpreter: the same results on kernels (differential), the same trap kind, message and
 * backtrace, the deadline interrupting a native loop, hot functions switching tier while frames
 * of the module are live, a corrupted disk cache, concurrent cache writers and a missing C
 * compiler (the last two in child processes of this binary). */
#include "fwe.h"
#include "harness.h"

#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define WASM "build/wat/tier.wasm"
/* function indexes in tier.wat (import tick is 0) */
enum { F_FIB = 1, F_SIEVE = 4, F_SPIN = 11, F_DRIVE = 13, F_STEP = 14 };

static char cache_dir[64];

typedef struct run {
    fwe_engine *engine;
    fwe_module *module;
    fwe_linker *linker;
    fwe_instance *inst;
} run;

typedef struct tick_state {
    const fwe_module **module;
    uint32_t switch_at; /* when tick(i) sees i == switch_at: wait for the compiler */
    uint32_t wait_at;   /* and again at i == wait_at (drive, hot through its loop by then) */
    bool step_native, drive_frame_seen;
    uint32_t calls;
} tick_state;

static fwe_trap_kind host_tick(fwe_caller *caller, uint64_t *slots, void *data)
{
    tick_state *ts = data;
    uint32_t i = (uint32_t)slots[0];
    ts->calls++;
    if (ts->wait_at && i == ts->wait_at)
        fwe_tier_wait_idle();
    if (ts->switch_at && i == ts->switch_at) {
        fwe_tier_wait_idle();
        ts->step_native = fwe_module_func_is_native(*ts->module, F_STEP);
        fwe_frame_info fr[4];
        uint32_t n = fwe_caller_backtrace(caller, fr, 4);
        ts->drive_frame_seen = n >= 1 && fr[0].func_index == F_DRIVE;
    }
    slots[0] = i & 1;
    return FWE_TRAP_NONE;
}

/* Loads tier.wasm under `mode` and instantiates it. */
static bool start(run *r, fwe_tier_mode mode, tick_state *ts)
{
    memset(r, 0, sizeof *r);
    fwe_tier_set(mode);
    size_t len;
    uint8_t *bytes = harness_read_file(WASM, &len);
    CHECK(bytes != NULL);
    if (!bytes)
        return false;
    r->engine = fwe_engine_new();
    char err[256];
    fwe_status st = fwe_module_load(r->engine, bytes, len, &r->module, err, sizeof err);
    free(bytes);
    CHECK_EQ_INT(st, FWE_OK);
    if (st != FWE_OK)
        return false;
    if (ts)
        *ts->module = r->module;
    r->linker = fwe_linker_new(r->engine);
    static tick_state none;
    fwe_linker_define_host(r->linker, "env", "tick", "i:i", host_tick, ts ? ts : &none);
    fwe_trap trap;
    st = fwe_instantiate(r->linker, r->module, NULL, &r->inst, &trap);
    CHECK_EQ_INT(st, FWE_OK);
    return st == FWE_OK;
}

static void stop(run *r)
{
    fwe_instance_free(r->inst);
    fwe_linker_free(r->linker);
    fwe_module_free(r->module);
    fwe_engine_free(r->engine);
}

static fwe_val v32(uint32_t x)
{
    fwe_val v = {.type = FWE_I32};
    v.of.i32 = x;
    return v;
}

static fwe_status call1(run *r, const char *name, const fwe_val *args, size_t nargs, fwe_val *res,
                        fwe_trap *trap)
{
    fwe_extern ext;
    if (!fwe_instance_export(r->inst, name, strlen(name), &ext) || ext.kind != FWE_EXTERN_FUNC)
        return FWE_ERR_ARGS;
    fwe_functype_info ti;
    fwe_func_type(ext.of.func, &ti);
    return fwe_call(ext.of.func, args, nargs, res, ti.nresults, trap);
}

typedef struct results {
    uint64_t v[6];
} results;

static results kernels(run *r)
{
    results out;
    memset(&out, 0, sizeof out);
    fwe_val a, res;
    fwe_trap trap;
    a = v32(22);
    CHECK_EQ_INT(call1(r, "fib", &a, 1, &res, &trap), FWE_OK);
    out.v[0] = res.of.i32;
    a = v32(60000);
    CHECK_EQ_INT(call1(r, "sieve", &a, 1, &res, &trap), FWE_OK);
    out.v[1] = res.of.i32;
    a = v32(3000);
    CHECK_EQ_INT(call1(r, "floats", &a, 1, &res, &trap), FWE_OK);
    out.v[2] = res.of.i64;
    a = v32(5000);
    CHECK_EQ_INT(call1(r, "dispatch", &a, 1, &res, &trap), FWE_OK);
    out.v[3] = res.of.i64;
    a = v32(700);
    CHECK_EQ_INT(call1(r, "drive", &a, 1, &res, &trap), FWE_OK);
    out.v[4] = res.of.i32;
    return out;
}

TEST(differential_kernels_interp_vs_native)
{
    CHECK(fwe_tier_compiler_available());
    run ri, rn;
    if (!start(&ri, FWE_TIER_INTERP, NULL))
        return;
    results a = kernels(&ri);
    CHECK_EQ_INT(fwe_module_native_count(ri.module), 0);
    stop(&ri);
    if (!start(&rn, FWE_TIER_NATIVE, NULL))
        return;
    results b = kernels(&rn);
    /* every defined function of tier.wat is within the generator's reach */
    CHECK_EQ_INT(fwe_module_native_count(rn.module), 14);
    CHECK(fwe_module_func_is_native(rn.module, F_FIB));
    CHECK(fwe_module_func_is_native(rn.module, F_SIEVE));
    stop(&rn);
    CHECK_EQ_U64(a.v[0], 17711); /* fib(22) */
    CHECK_EQ_U64(a.v[1], 6057);  /* primes below 60000 */
    for (int i = 0; i < 5; i++)
        CHECK_EQ_U64(a.v[i], b.v[i]);
}

/* Both tiers report one trap the same way. */
static void same_trap(run *ri, run *rn, const char *name, const fwe_val *args, size_t nargs,
                      fwe_trap_kind want, const char *msg)
{
    fwe_trap ti, tn;
    fwe_val res;
    memset(&ti, 0, sizeof ti);
    memset(&tn, 0, sizeof tn);
    CHECK_EQ_INT(call1(ri, name, args, nargs, &res, &ti), FWE_ERR_TRAP);
    CHECK_EQ_INT(call1(rn, name, args, nargs, &res, &tn), FWE_ERR_TRAP);
    CHECK_EQ_INT(ti.kind, want);
    CHECK_EQ_INT(tn.kind, want);
    CHECK_STR_EQ(ti.message, msg);
    CHECK_STR_EQ(tn.message, msg);
    CHECK_EQ_INT(ti.nframes, tn.nframes);
    for (uint32_t i = 0; i < ti.nframes && i < tn.nframes; i++) {
        CHECK_EQ_INT(ti.frames[i].func_index, tn.frames[i].func_index);
        if (want != FWE_TRAP_STACK_EXHAUSTED) /* where the limit hits may differ by a call */
            CHECK_EQ_INT(ti.frames[i].code_offset, tn.frames[i].code_offset);
    }
}

TEST(traps_match_between_tiers)
{
    run ri, rn;
    if (!start(&ri, FWE_TIER_INTERP, NULL))
        return;
    if (!start(&rn, FWE_TIER_NATIVE, NULL)) {
        stop(&ri);
        return;
    }
    fwe_val a = v32(0), two[2];
    same_trap(&ri, &rn, "divide", &a, 1, FWE_TRAP_INT_DIV_ZERO, "integer divide by zero");
    CHECK(fwe_module_func_is_native(rn.module, 7)); /* $inner */
    a = v32(2 * 65536 - 2);
    same_trap(&ri, &rn, "load", &a, 1, FWE_TRAP_MEMORY_OOB, "out of bounds memory access");
    two[0] = v32(9);
    two[1] = v32(1);
    same_trap(&ri, &rn, "indirect", two, 2, FWE_TRAP_TABLE_OOB, "undefined element");
    two[0] = v32(3);
    same_trap(&ri, &rn, "indirect", two, 2, FWE_TRAP_UNINITIALIZED_ELEMENT,
              "uninitialized element 3");
    a = v32(0);
    same_trap(&ri, &rn, "recurse", &a, 1, FWE_TRAP_STACK_EXHAUSTED, "call stack exhausted");
    /* both instances keep working */
    fwe_val res;
    fwe_trap trap;
    two[0] = v32(0);
    two[1] = v32(7);
    CHECK_EQ_INT(call1(&rn, "indirect", two, 2, &res, &trap), FWE_OK);
    CHECK_EQ_INT(res.of.i32, 49);
    stop(&ri);
    stop(&rn);
}

static void *interrupt_soon(void *arg)
{
    usleep(30 * 1000);
    fwe_instance_interrupt(arg);
    return NULL;
}

TEST(deadline_interrupts_a_native_loop)
{
    run rn;
    if (!start(&rn, FWE_TIER_NATIVE, NULL))
        return;
    fwe_val a = v32(5), res;
    fwe_trap trap;
    CHECK_EQ_INT(call1(&rn, "fib", &a, 1, &res, &trap), FWE_OK); /* compiles the module */
    CHECK(fwe_module_func_is_native(rn.module, F_SPIN));
    pthread_t t;
    pthread_create(&t, NULL, interrupt_soon, rn.inst);
    CHECK_EQ_INT(call1(&rn, "spin", NULL, 0, NULL, &trap), FWE_ERR_TRAP);
    pthread_join(t, NULL);
    CHECK_EQ_INT(trap.kind, FWE_TRAP_INTERRUPTED);
    CHECK_STR_EQ(trap.message, "interrupted");
    CHECK_EQ_INT(trap.nframes, 1);
    CHECK_EQ_INT(trap.frames[0].func_index, F_SPIN);
    fwe_instance_clear_interrupt(rn.inst);
    CHECK_EQ_INT(call1(&rn, "fib", &a, 1, &res, &trap), FWE_OK);
    CHECK_EQ_INT(res.of.i32, 5);
    stop(&rn);
}

TEST(tier_switch_while_frames_are_live)
{
    /* auto mode with a low threshold: $step becomes hot during drive(), is compiled in the
     * background (the host waits for it at i == 40), and later iterations call native code
     * while drive's interpreted frame is live. drive itself is hot after 512 iterations (each
     * 256 count 16); the host waits for it at i == 600, and at i == 768 the interpreted frame
     * continues in native code at the loop header (its first instruction). Each i reaches the
     * host exactly once, so the frame neither restarted nor repeated iterations. */
    setenv("FWE_TIER_HOT", "20", 1);
    const fwe_module *mod = NULL;
    tick_state ts = {.module = &mod, .switch_at = 40, .wait_at = 600};
    run r;
    bool ok = start(&r, FWE_TIER_AUTO, &ts);
    unsetenv("FWE_TIER_HOT");
    if (!ok)
        return;
    uint32_t n = 3000, want = 0;
    for (uint32_t i = 0; i < n; i++)
        want += ((i ^ 0x55u) * 3u) + (i & 1);
    fwe_val a = v32(n), res;
    fwe_trap trap;
    CHECK_EQ_INT(call1(&r, "drive", &a, 1, &res, &trap), FWE_OK);
    CHECK_EQ_U64(res.of.i32, want);
    CHECK_EQ_INT(ts.calls, n);
    CHECK(ts.step_native);
    CHECK(ts.drive_frame_seen);
    fwe_tier_wait_idle();
    CHECK(fwe_module_func_is_native(r.module, F_DRIVE)); /* hot through its loop */
    /* a second call starts natively and gives the same answer */
    ts.switch_at = 0;
    ts.wait_at = 0;
    ts.calls = 0;
    CHECK_EQ_INT(call1(&r, "drive", &a, 1, &res, &trap), FWE_OK);
    CHECK_EQ_U64(res.of.i32, want);
    CHECK_EQ_INT(ts.calls, n);
    stop(&r);
}

/* Two functions with the same body generate the same C, hence the same symbol: one batch must
 * define it once (fuzz_tier found a batch that failed to compile and stayed interpreted). */
TEST(identical_functions_compile_in_one_batch)
{
    static const uint8_t wasm[] = {0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x05, 0x01,
                                   0x60, 0x00, 0x01, 0x7f, 0x03, 0x04, 0x03, 0x00, 0x00, 0x00, 0x07,
                                   0x0d, 0x03, 0x01, 0x61, 0x00, 0x00, 0x01, 0x62, 0x00, 0x01, 0x01,
                                   0x63, 0x00, 0x02, 0x0a, 0x10, 0x03, 0x04, 0x00, 0x41, 0x2a, 0x0b,
                                   0x04, 0x00, 0x41, 0x2a, 0x0b, 0x04, 0x00, 0x41, 0x07, 0x0b};
    fwe_tier_set(FWE_TIER_NATIVE);
    run r;
    memset(&r, 0, sizeof r);
    r.engine = fwe_engine_new();
    char err[256];
    CHECK_EQ_INT(fwe_module_load(r.engine, wasm, sizeof wasm, &r.module, err, sizeof err), FWE_OK);
    if (!r.module) {
        fwe_engine_free(r.engine);
        return;
    }
    r.linker = fwe_linker_new(r.engine);
    fwe_trap trap;
    CHECK_EQ_INT(fwe_instantiate(r.linker, r.module, NULL, &r.inst, &trap), FWE_OK);
    static const char *const names[] = {"a", "b", "c"};
    static const uint32_t want[] = {42, 42, 7};
    for (int i = 0; i < 3 && r.inst; i++) {
        fwe_val res;
        CHECK_EQ_INT(call1(&r, names[i], NULL, 0, &res, &trap), FWE_OK);
        CHECK_EQ_INT(res.of.i32, want[i]);
    }
    CHECK_EQ_INT(fwe_module_native_count(r.module), 3);
    if (r.inst)
        fwe_instance_free(r.inst);
    fwe_linker_free(r.linker);
    fwe_module_free(r.module);
    fwe_engine_free(r.engine);
}

static uint32_t for_each_file(const char *dir, const char *suffix,
                              void (*fn)(const char *path, void *arg), void *arg)
{
    DIR *d = opendir(dir);
    uint32_t n = 0;
    if (!d)
        return 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        size_t l = strlen(de->d_name), sl = strlen(suffix);
        if (l < sl || strcmp(de->d_name + l - sl, suffix) != 0)
            continue;
        char path[512];
        snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
        if (fn)
            fn(path, arg);
        n++;
    }
    closedir(d);
    return n;
}

static void scribble(const char *path, void *arg)
{
    (void)arg;
    int fd = open(path, O_WRONLY);
    if (fd >= 0) {
        char junk[64];
        memset(junk, 'x', sizeof junk);
        CHECK(pwrite(fd, junk, sizeof junk, 0) == (ssize_t)sizeof junk);
        close(fd);
    }
}

static void count_elf(const char *path, void *arg)
{
    size_t len;
    uint8_t *b = harness_read_file(path, &len);
    if (b && len > 4 &&
        memcmp(b,
               "\x7f"
               "ELF",
               4) == 0)
        (*(uint32_t *)arg)++;
    free(b);
}

TEST(corrupt_cache_entries_are_ignored)
{
    run r;
    if (!start(&r, FWE_TIER_NATIVE, NULL))
        return;
    results a = kernels(&r);
    stop(&r);
    CHECK(for_each_file(cache_dir, ".so", NULL, NULL) > 0);
    CHECK(for_each_file(cache_dir, ".ref", NULL, NULL) >= 14);
    /* overwrite the start of every object and every reference with junk */
    for_each_file(cache_dir, ".so", scribble, NULL);
    uint32_t elf = 0;
    for_each_file(cache_dir, ".so", count_elf, &elf);
    CHECK_EQ_INT(elf, 0);
    if (!start(&r, FWE_TIER_NATIVE, NULL))
        return;
    results b = kernels(&r);
    CHECK_EQ_INT(fwe_module_native_count(r.module), 14);
    stop(&r);
    for (int i = 0; i < 5; i++)
        CHECK_EQ_U64(a.v[i], b.v[i]);
    elf = 0;
    for_each_file(cache_dir, ".so", count_elf, &elf);
    CHECK(elf >= 1); /* recompiled and rewritten */
    /* junk references: ignored too */
    for_each_file(cache_dir, ".ref", scribble, NULL);
    if (!start(&r, FWE_TIER_NATIVE, NULL))
        return;
    b = kernels(&r);
    CHECK_EQ_INT(fwe_module_native_count(r.module), 14);
    stop(&r);
    CHECK_EQ_U64(a.v[1], b.v[1]);
}

/* ---- child processes ---- */

static const char *self_exe;

/* Child: runs fib(15) and sieve in native mode, prints "ok FIB NATIVE_COUNT". */
static int child_main(void)
{
    run r;
    if (!start(&r, FWE_TIER_NATIVE, NULL))
        return 3;
    fwe_val a = v32(15), res;
    fwe_trap trap;
    if (call1(&r, "fib", &a, 1, &res, &trap) != FWE_OK)
        return 4;
    printf("ok %u %u\n", res.of.i32, fwe_module_native_count(r.module));
    stop(&r);
    return 0;
}

/* Starts this binary as a child with extra environment; its stdout and stderr go to files. */
static pid_t spawn_child(const char *cc, const char *cache, const char *out, const char *err)
{
    pid_t pid = fork();
    if (pid == 0) {
        int o = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        int e = open(err, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (o < 0 || e < 0)
            _exit(5);
        dup2(o, 1);
        dup2(e, 2);
        if (cc)
            setenv("FWE_CC", cc, 1);
        setenv("FWE_CODE_CACHE", cache, 1);
        setenv("FWE_TIER", "native", 1);
        execl(self_exe, self_exe, "--tier-child", (char *)NULL);
        _exit(6);
    }
    return pid;
}

static int wait_child(pid_t pid)
{
    int status = 0;
    while (waitpid(pid, &status, 0) < 0) {
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : 100;
}

static char *slurp(const char *path)
{
    size_t len;
    uint8_t *b = harness_read_file(path, &len);
    if (!b)
        return calloc(1, 1);
    char *s = realloc(b, len + 1);
    s[len] = 0;
    return s;
}

TEST(missing_compiler_leaves_the_interpreter_serving)
{
    char out[128], err[128];
    snprintf(out, sizeof out, "%s-out", cache_dir);
    snprintf(err, sizeof err, "%s-err", cache_dir);
    pid_t pid = spawn_child("/nonexistent/cc", cache_dir, out, err);
    CHECK(pid > 0);
    CHECK_EQ_INT(wait_child(pid), 0);
    char *o = slurp(out), *e = slurp(err);
    CHECK_STR_EQ(o, "ok 610 0\n");
    CHECK_STR_CONTAINS(e, "native tier off");
    CHECK_STR_CONTAINS(e, "/nonexistent/cc");
    uint32_t lines = 0;
    for (const char *p = e; *p; p++)
        lines += *p == '\n';
    CHECK_EQ_INT(lines, 1);
    free(o);
    free(e);
    unlink(out);
    unlink(err);
}

TEST(concurrent_cache_writers)
{
    char dir[96];
    snprintf(dir, sizeof dir, "%s/shared", cache_dir);
    mkdir(dir, 0755);
    char out[2][128], err[2][128];
    pid_t pid[2];
    for (int i = 0; i < 2; i++) {
        snprintf(out[i], sizeof out[i], "%s-out%d", cache_dir, i);
        snprintf(err[i], sizeof err[i], "%s-err%d", cache_dir, i);
        pid[i] = spawn_child(NULL, dir, out[i], err[i]);
    }
    for (int i = 0; i < 2; i++) {
        CHECK_EQ_INT(wait_child(pid[i]), 0);
        char *o = slurp(out[i]), *e = slurp(err[i]);
        CHECK_STR_EQ(o, "ok 610 14\n");
        CHECK_STR_EQ(e, "");
        free(o);
        free(e);
        unlink(out[i]);
        unlink(err[i]);
    }
    CHECK(for_each_file(dir, ".ref", NULL, NULL) >= 14);
    CHECK_EQ_INT(for_each_file(dir, ".c", NULL, NULL), 0); /* no temporaries left */
}

static void remove_file(const char *path, void *arg)
{
    (void)arg;
    unlink(path);
}

int main(int argc, char **argv)
{
    self_exe = argv[0];
    if (argc > 1 && !strcmp(argv[1], "--tier-child"))
        return child_main();
    snprintf(cache_dir, sizeof cache_dir, "/tmp/fwe-tier-test-XXXXXX");
    if (!mkdtemp(cache_dir)) {
        perror("mkdtemp");
        return 1;
    }
    setenv("FWE_CODE_CACHE", cache_dir, 1);
    RUN(differential_kernels_interp_vs_native);
    RUN(traps_match_between_tiers);
    RUN(deadline_interrupts_a_native_loop);
    RUN(tier_switch_while_frames_are_live);
    RUN(identical_functions_compile_in_one_batch);
    RUN(corrupt_cache_entries_are_ignored);
    RUN(missing_compiler_leaves_the_interpreter_serving);
    RUN(concurrent_cache_writers);
    char shared[96];
    snprintf(shared, sizeof shared, "%s/shared", cache_dir);
    for_each_file(shared, "", remove_file, NULL);
    rmdir(shared);
    for_each_file(cache_dir, "", remove_file, NULL);
    rmdir(cache_dir);
    return harness_finish(argv[0]);
}
