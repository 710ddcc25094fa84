/* test_tier.c: the native tier (src/engine/tier.c, native_gen.c, native_rt.c) against the
 * interpreter: the same results on kernels (differential), the same trap kind, message and
 * backtrace, the deadline interrupting a native loop, hot functions switching tier while frames
 * of the module are live, a corrupted disk cache, concurrent cache writers and a missing C
 * compiler (the last two in child processes of this binary); table and segment instructions,
 * backtraces through native calls, deep native recursion and the deadline in it; memory bounds
 * at the edge and memory.grow in native loops. */
#include "fwe.h"
#include "harness.h"
#include "tier_test.h"
#include "native.h"
#include "wat_module.h"

#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define WASM "build/wat/tier.wasm"
#define WASM_DUP "build/wat/tier_dup.wasm"
/* function indexes in tier.wat (import tick is 0) */
enum { F_FIB = 1, F_SIEVE = 4, F_SPIN = 11, F_DRIVE = 13, F_STEP = 14 };

static char cache_dir[64];

typedef struct tick_state {
    const fwe_module **module;
    uint32_t switch_at; /* when tick(i) sees i == switch_at: wait for the compiler */
    uint32_t wait_at;   /* and again at i == wait_at (drive, hot through its loop by then) */
    bool step_native, drive_frame_seen;
    uint32_t calls;
    uint32_t native_at;    /* when tick(i) sees i == native_at: wait until drive has native code */
    uint32_t gate_at;      /* and at i == gate_at: create gate_path, then wait for the compiler */
    const char *gate_path; /* the file the gated compiler (quick_tier_up test) waits for */
    bool drive_native;
} tick_state;

static fwe_trap_kind host_tick(fwe_caller *caller, uint64_t *slots, void *data)
{
    tick_state *ts = data;
    uint32_t i = (uint32_t)slots[0];
    ts->calls++;
    if (ts->native_at && i == ts->native_at) {
        for (int k = 0; k < 6000 && !fwe_module_func_is_native(*ts->module, F_DRIVE); k++)
            usleep(10000);
        ts->drive_native = fwe_module_func_is_native(*ts->module, F_DRIVE);
    }
    if (ts->gate_at && i == ts->gate_at) {
        int fd = open(ts->gate_path, O_WRONLY | O_CREAT, 0644);
        if (fd >= 0)
            close(fd);
        fwe_tier_wait_idle();
    }
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

/* Loads `path` under `mode` and instantiates it. */
static bool start_wasm(run *r, const char *path, fwe_tier_mode mode, tick_state *ts)
{
    memset(r, 0, sizeof *r);
    fwe_tier_set(mode);
    r->engine = fwe_engine_new();
    r->module = load_wat_module(r->engine, path);
    if (!r->module)
        return false;
    if (ts)
        *ts->module = r->module;
    r->linker = fwe_linker_new(r->engine);
    static tick_state none;
    fwe_linker_define_host(r->linker, "env", "tick", "i:i", host_tick, ts ? ts : &none);
    fwe_trap trap;
    fwe_status st = fwe_instantiate(r->linker, r->module, NULL, &r->inst, &trap);
    CHECK_EQ_INT(st, FWE_OK);
    return st == FWE_OK;
}

/* Loads tier.wasm under `mode` and instantiates it. */
static bool start(run *r, fwe_tier_mode mode, tick_state *ts)
{
    return start_wasm(r, WASM, mode, ts);
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
    /* $recurse calls itself with an argument computed into the callee's frame, so no word of the
     * call comes before the call instruction: the innermost frame is at that call, as every other
     * frame (before, the interpreter named the i32.add before it, native code the call; found by
     * fuzz_tier, regression input tests/fuzz/regressions/tier/stack_exhausted_at_the_call) */
    a = v32(0);
    same_trap(&ri, &rn, "recurse", &a, 1, FWE_TRAP_STACK_EXHAUSTED, "call stack exhausted");
    fwe_trap tr;
    fwe_val r1;
    for (int tier = 0; tier < 2; tier++) {
        memset(&tr, 0, sizeof tr);
        CHECK_EQ_INT(call1(tier ? &rn : &ri, "recurse", &a, 1, &r1, &tr), FWE_ERR_TRAP);
        CHECK(tr.nframes > 2);
        for (uint32_t i = 1; i < tr.nframes; i++)
            CHECK_EQ_INT(tr.frames[i].code_offset, tr.frames[0].code_offset);
    }
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

static void remove_file(const char *path, void *arg)
{
    (void)arg;
    unlink(path);
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

/* The batch policy: functions in the order they became hot, the first always, then each that
 * still fits in the word budget, at most `max`. */
TEST(batch_policy_keeps_hot_order_within_the_budget)
{
    uint32_t out[8];
    uint32_t w1[] = {100, 200, 300, 400};
    CHECK_EQ_INT(fwe_tier_pick_batch(w1, 4, 10000, 64, out), 4);
    for (uint32_t i = 0; i < 4; i++)
        CHECK_EQ_INT(out[i], i);
    /* a function larger than the budget goes alone when it is first */
    uint32_t w2[] = {50000, 10, 20};
    CHECK_EQ_INT(fwe_tier_pick_batch(w2, 3, 4000, 64, out), 1);
    CHECK_EQ_INT(out[0], 0);
    /* and is left for a later batch when it is not: smaller ones behind it still fit */
    uint32_t w3[] = {1000, 50000, 2000, 1500, 500};
    CHECK_EQ_INT(fwe_tier_pick_batch(w3, 5, 4000, 64, out), 3);
    CHECK_EQ_INT(out[0], 0);
    CHECK_EQ_INT(out[1], 2);
    CHECK_EQ_INT(out[2], 4);
    /* at most `max` */
    uint32_t w4[] = {1, 1, 1, 1, 1};
    CHECK_EQ_INT(fwe_tier_pick_batch(w4, 5, 4000, 2, out), 2);
    CHECK_EQ_INT(out[1], 1);
    CHECK_EQ_INT(fwe_tier_pick_batch(w4, 0, 4000, 2, out), 0);
}

/* Two functions whose generated C is the same text (tier_dup.wat's twin_a and twin_b) in one
 * batch (native mode compiles the whole module as one): both run native code, called from the
 * host and from a native caller, and so does the rest of the batch. Before, a batch defined the
 * shared symbol twice and the compiler refused it whole, so every function of it stayed
 * interpreted (found on the JS hello guest's hot set, and by fuzz_tier). A second load finds
 * both in the disk cache. */
TEST(identical_functions_in_one_batch_both_run_native)
{
    fwe_tier_stats before, after;
    fwe_tier_stats_get(&before);
    run r;
    if (!start_wasm(&r, WASM_DUP, FWE_TIER_NATIVE, NULL))
        return;
    /* what the test needs: the code generator gives the two the same C */
    fwe_text ta = {0}, tb = {0};
    CHECK(fwe_native_gen(r.module, 0, fwe_module_code(r.module, 0), &ta));
    CHECK(fwe_native_gen(r.module, 1, fwe_module_code(r.module, 1), &tb));
    CHECK(ta.len > 0 && ta.len == tb.len && memcmp(ta.p, tb.p, ta.len) == 0);
    fwe_text_free(&ta);
    fwe_text_free(&tb);
    fwe_val a = v32(4), res;
    fwe_trap trap;
    CHECK_EQ_INT(call1(&r, "twin_a", &a, 1, &res, &trap), FWE_OK); /* compiles the module */
    CHECK_EQ_INT(res.of.i32, 31);
    a = v32(5);
    CHECK_EQ_INT(call1(&r, "twin_b", &a, 1, &res, &trap), FWE_OK);
    CHECK_EQ_INT(res.of.i32, 38);
    a = v32(1000);
    CHECK_EQ_INT(call1(&r, "run", &a, 1, &res, &trap), FWE_OK);
    CHECK_EQ_INT(res.of.i32, 67808);
    CHECK_EQ_INT(fwe_module_native_count(r.module), 3);
    CHECK(fwe_module_func_is_native(r.module, 0));
    CHECK(fwe_module_func_is_native(r.module, 1));
    fwe_tier_stats_get(&after);
    CHECK_EQ_U64(after.failed, before.failed);
    CHECK_EQ_U64(after.native - before.native, 3);
    stop(&r);
    /* a second load finds both in the disk cache */
    if (!start_wasm(&r, WASM_DUP, FWE_TIER_NATIVE, NULL))
        return;
    CHECK_EQ_INT(call1(&r, "run", &a, 1, &res, &trap), FWE_OK);
    CHECK_EQ_INT(res.of.i32, 67808);
    CHECK_EQ_INT(fwe_module_native_count(r.module), 3);
    fwe_tier_stats before2 = after;
    fwe_tier_stats_get(&after);
    CHECK_EQ_U64(after.from_cache - before2.from_cache, 3);
    CHECK_EQ_U64(after.compiled, before2.compiled);
    stop(&r);
}

/* The statistics account for every function queued in auto mode, and say when the compiler is
 * idle. */
TEST(stats_account_for_every_hot_function)
{
    fwe_tier_stats before, after;
    fwe_tier_wait_idle();
    fwe_tier_stats_get(&before);
    run r;
    if (!start(&r, FWE_TIER_AUTO, NULL))
        return;
    results a = kernels(&r); /* fib(22) makes fib hot, among others */
    fwe_tier_wait_idle();
    fwe_tier_stats_get(&after);
    CHECK_EQ_U64(a.v[0], 17711);
    CHECK(after.hot > before.hot);
    CHECK(fwe_module_func_is_native(r.module, F_FIB));
    CHECK_EQ_INT(after.queued, 0);
    CHECK(!after.busy);
    /* functions published from the hot profile were not queued by their counter */
    uint64_t left = (after.native - before.native) - (after.prewarmed - before.prewarmed) +
                    (after.too_large - before.too_large) + (after.refused - before.refused) +
                    (after.failed - before.failed);
    CHECK_EQ_U64(left, after.hot - before.hot);
    CHECK_EQ_U64(after.native - before.native, (after.from_cache - before.from_cache) +
                                                   (after.compiled - before.compiled) +
                                                   (after.quick - before.quick));
    /* quick code (tcc) is replaced by cc's once the compiler is idle */
    CHECK_EQ_U64(after.optimized - before.optimized, after.quick - before.quick);
    CHECK(after.batches > before.batches);
    stop(&r);
}

/* ---- child processes ---- */

static const char *self_exe;
static pid_t spawn_child_arg(const char *cc, const char *cache, const char *out, const char *err,
                             const char *mode, const char *arg);
static int wait_child(pid_t pid);
static char *slurp(const char *path);

/* Child for the hot profile, auto mode: "record" runs the kernels until the compiler is idle;
 * "replay" calls only fib (its first hot function starts the profile's lookup), waits, and
 * prints whether sieve, never called, runs native, and how many functions came from the profile.
 */
static int profile_child(const char *what)
{
    run r;
    if (!start(&r, FWE_TIER_AUTO, NULL))
        return 3;
    if (!strcmp(what, "record")) {
        kernels(&r);
        fwe_tier_wait_idle();
        printf("ok %d\n", fwe_module_func_is_native(r.module, F_SIEVE));
    } else {
        fwe_val a = v32(22), res;
        fwe_trap trap;
        if (call1(&r, "fib", &a, 1, &res, &trap) != FWE_OK)
            return 4;
        fwe_tier_wait_idle();
        fwe_tier_stats st;
        fwe_tier_stats_get(&st);
        printf("ok %d %d\n", fwe_module_func_is_native(r.module, F_SIEVE), st.prewarmed > 0);
    }
    stop(&r);
    return 0;
}

/* Child for the quick compiler, auto mode, FWE_TIER_QUICK set from `quick` ("default": unset):
 * runs the kernels until the compiler is idle, prints "ok FIB SIEVE DRIVE FIB_NATIVE QUICK>0
 * OPTIMIZED>0 COMPILED>0". */
static int quick_child(const char *quick)
{
    if (strcmp(quick, "default") != 0)
        setenv("FWE_TIER_QUICK", quick, 1);
    run r;
    if (!start(&r, FWE_TIER_AUTO, NULL))
        return 3;
    results a = kernels(&r);
    fwe_tier_wait_idle();
    results b = kernels(&r); /* again, on the code published last */
    if (memcmp(&a, &b, sizeof a) != 0)
        return 4;
    fwe_tier_stats st;
    fwe_tier_stats_get(&st);
    printf("ok %llu %llu %llu %d %d %d %d\n", (unsigned long long)a.v[0],
           (unsigned long long)a.v[1], (unsigned long long)a.v[4],
           fwe_module_func_is_native(r.module, F_FIB), st.quick > 0, st.optimized > 0,
           st.compiled > 0);
    stop(&r);
    return 0;
}

/* Child for a frame leaving quick code (auto mode, FWE_TIER_HOT=20, FWE_CC a script that waits
 * for the file `gate` before it compiles): drive(3000) gets hot after 512 iterations; at i == 600
 * the host waits until tcc's code for it is published, so at i == 768 the interpreted frame
 * continues in tcc's code; at i == 1600 the host opens the gate and waits for gcc's code; the
 * next backward branch in tcc's code hands the frame to it. Prints "ok RESULT CALLS DRIVE_NATIVE
 * TIER_UPS>0". */
static int tierup_child(const char *gate)
{
    setenv("FWE_TIER_HOT", "20", 1);
    const fwe_module *mod = NULL;
    tick_state ts = {.module = &mod, .native_at = 600, .gate_at = 1600, .gate_path = gate};
    run r;
    if (!start(&r, FWE_TIER_AUTO, &ts))
        return 3;
    fwe_val a = v32(3000), res;
    fwe_trap trap;
    if (call1(&r, "drive", &a, 1, &res, &trap) != FWE_OK)
        return 4;
    printf("ok %u %u %d %d\n", res.of.i32, ts.calls, ts.drive_native,
           fwe_module_tier_ups(r.module) > 0);
    stop(&r);
    return 0;
}

/* Child for a compiler that fails every batch: auto mode, every function hot on its first call,
 * FWE_TIER_QUICK `quick`; the kernels' module is loaded and run four times, each time until the
 * compiler threads are idle, so at least four batches are tried. Prints "ok FIB_NATIVE QUICK
 * COMPILED>0" (for the last module, and the process's counts). */
static int broken_child(const char *quick)
{
    setenv("FWE_TIER_QUICK", quick, 1);
    setenv("FWE_TIER_HOT", "1", 1);
    int fib_native = 0;
    for (int k = 0; k < 4; k++) {
        run r;
        if (!start(&r, FWE_TIER_AUTO, NULL))
            return 3;
        kernels(&r);
        fwe_tier_wait_idle();
        fib_native = fwe_module_func_is_native(r.module, F_FIB);
        stop(&r);
    }
    fwe_tier_stats st;
    fwe_tier_stats_get(&st);
    printf("ok %d %llu %d\n", fib_native, (unsigned long long)st.quick, st.compiled > 0);
    return 0;
}

/* Child for the wait at the end of a one-shot run, auto mode: "settle" runs the kernels and
 * calls fwe_tier_settle before freeing the module (as `fastlike run` does), "drop" does not;
 * "again" runs the kernels on the same cache, waits for the compiler and prints how many
 * functions it compiled (tcc or gcc) and whether some came from the cache. */
static int settle_child(const char *what)
{
    setenv("FWE_TIER_SETTLE_MS", "300000", 1); /* generous: a loaded machine */
    run r;
    if (!start(&r, FWE_TIER_AUTO, NULL))
        return 3;
    kernels(&r);
    if (!strcmp(what, "again")) {
        fwe_tier_wait_idle();
        fwe_tier_stats st;
        fwe_tier_stats_get(&st);
        printf("ok %llu %d\n", (unsigned long long)(st.compiled + st.quick), st.from_cache > 0);
    } else {
        printf("ok %d\n", !strcmp(what, "settle") ? fwe_tier_settle(r.module) : 0);
    }
    stop(&r);
    return 0;
}

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
static pid_t spawn_child_arg(const char *cc, const char *cache, const char *out, const char *err,
                             const char *mode, const char *arg)
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
        setenv("FWE_TIER", mode, 1);
        execl(self_exe, self_exe, "--tier-child", arg, (char *)NULL);
        _exit(6);
    }
    return pid;
}

static pid_t spawn_child(const char *cc, const char *cache, const char *out, const char *err)
{
    return spawn_child_arg(cc, cache, out, err, "native", "");
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

/* A code cache that is a file, or lies under one, cannot be written (as another user's cannot):
 * one line names it and why, and the functions still compile (in a temporary directory) and run
 * native. Before, every compile failed silently and the module stayed interpreted. */
TEST(unusable_cache_dir_compiles_without_caching)
{
    char file[128], under[160], out[128], err[128];
    snprintf(file, sizeof file, "%s-not-a-dir", cache_dir);
    snprintf(under, sizeof under, "%s/sub", file);
    snprintf(out, sizeof out, "%s-uout", cache_dir);
    snprintf(err, sizeof err, "%s-uerr", cache_dir);
    FILE *f = fopen(file, "w");
    CHECK(f != NULL);
    if (!f)
        return;
    fclose(f);
    const char *dirs[2] = {file, under};
    for (int i = 0; i < 2; i++) {
        pid_t pid = spawn_child(NULL, dirs[i], out, err);
        CHECK(pid > 0);
        CHECK_EQ_INT(wait_child(pid), 0);
        char *o = slurp(out), *e = slurp(err);
        CHECK_STR_EQ(o, "ok 610 14\n");
        char want[256];
        snprintf(want, sizeof want,
                 "fastlike: native tier: code cache %s: Not a directory; compiled code is not "
                 "cached (set FWE_CODE_CACHE to a writable directory)\n",
                 dirs[i]);
        CHECK_STR_EQ(e, want);
        free(o);
        free(e);
    }
    unlink(out);
    unlink(err);
    unlink(file);
}

/* Runs this binary's child `arg` in auto mode with FWE_CC `cc` (NULL: cc) on cache directory
 * `dir`, checks that it exited 0, and returns its stdout and (in *err) its stderr. */
static char *run_auto_child(const char *cc, const char *dir, const char *arg, char **err)
{
    char out[128], errp[128];
    snprintf(out, sizeof out, "%s-aout", cache_dir);
    snprintf(errp, sizeof errp, "%s-aerr", cache_dir);
    pid_t pid = spawn_child_arg(cc, dir, out, errp, "auto", arg);
    CHECK(pid > 0);
    CHECK_EQ_INT(wait_child(pid), 0);
    char *o = slurp(out);
    *err = slurp(errp);
    unlink(out);
    unlink(errp);
    return o;
}

/* Runs quick_child with FWE_CC `cc` and FWE_TIER_QUICK `quick` on a fresh cache; returns its
 * stdout and (in *err) its stderr. */
static char *run_quick_child(const char *cc, const char *quick, char **err)
{
    char dir[96], arg[128];
    snprintf(dir, sizeof dir, "%s/quick", cache_dir);
    mkdir(dir, 0755);
    for_each_file(dir, "", remove_file, NULL);
    snprintf(arg, sizeof arg, "quick=%s", quick);
    char *o = run_auto_child(cc, dir, arg, err);
    for_each_file(dir, "", remove_file, NULL);
    rmdir(dir);
    return o;
}

/* The kernels' results (fib(22), sieve(60000), drive(700)), as the interpreter computes them
 * (differential_kernels_interp_vs_native compares all kernels). */
#define KERNEL_RESULTS "17711 6057 746060"

/* Runs quick_child with FWE_CC `cc` and FWE_TIER_QUICK `quick`; checks its line ("ok", the
 * kernels' results, then `flags`) and its stderr: empty, or containing `err_has` (in exactly one
 * line when `one_line`). */
static void expect_quick(const char *cc, const char *quick, const char *flags, const char *err_has,
                         bool one_line)
{
    char *e, *o = run_quick_child(cc, quick, &e), want[96];
    snprintf(want, sizeof want, "ok %s %s\n", KERNEL_RESULTS, flags);
    CHECK_STR_EQ(o, want);
    if (!err_has) {
        CHECK_STR_EQ(e, "");
    } else {
        CHECK_STR_CONTAINS(e, err_has);
        uint32_t lines = 0;
        for (const char *p = e; *p; p++)
            lines += *p == '\n';
        if (one_line)
            CHECK_EQ_INT(lines, 1);
    }
    free(o);
    free(e);
}

/* With tcc installed (scripts/deps.sh), hot functions run tcc's code first and cc's after
 * (flags: fib native, some quick, some optimized, none compiled by cc alone). */
TEST(quick_compiler_code_is_replaced_by_cc_code)
{
    expect_quick(NULL, "default", "1 1 1 0", NULL, false);
}

/* When cc fails (a line names each failed compile), tcc's code stays published and gives the
 * same results. */
TEST(quick_code_stays_when_cc_fails)
{
    expect_quick("false", "default", "1 1 0 0", "compiling", false);
}

/* FWE_TIER_QUICK=off: cc compiles the hot functions directly; a quick compiler that is not
 * installed is one line, and cc compiles them. */
TEST(quick_compiler_off_or_missing)
{
    expect_quick(NULL, "off", "1 0 0 1", NULL, false);
    expect_quick(NULL, "/nonexistent/tcc", "1 0 0 1", "quick compiler '/nonexistent/tcc'", true);
}

/* A compiler that fails every batch (here `false`) is tried three times, with one line for the
 * first failure (its source and messages kept) and one saying it is not run again; no more lines
 * or files after that. cc: functions stay interpreted. The quick compiler: cc compiles instead
 * (no code cache, so every module's batches are tried anew). */
TEST(compiler_failing_every_batch_is_dropped_after_three)
{
    static const struct {
        const char *cc, *quick, *cache, *out, *last;
    } cases[] = {
        {"false", "off", "broken", "ok 0 0 0\n",
         "fastlike: native tier: false failed on 3 batches in a row and is not run again; "
         "functions not in the code cache stay interpreted\n"},
        {NULL, "false", "off", "ok 1 0 1\n",
         "fastlike: native tier: false failed on 3 batches in a row and is not run again; hot "
         "functions wait for the C compiler\n"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char dir[96], arg[64];
        snprintf(dir, sizeof dir, "%s/%s", cache_dir, cases[i].cache);
        bool own = strcmp(cases[i].cache, "off") != 0;
        if (own)
            mkdir(dir, 0755);
        snprintf(arg, sizeof arg, "broken=%s", cases[i].quick);
        char *e, *o = run_auto_child(cases[i].cc, own ? dir : "off", arg, &e);
        CHECK_STR_EQ(o, cases[i].out);
        /* two lines: the first failure, then the last */
        CHECK(!strncmp(e, "fastlike: native tier: compiling ", 33));
        char *nl = strchr(e, '\n');
        CHECK(nl != NULL);
        if (nl) {
            CHECK(memmem(e, (size_t)(nl - e), "(false exit 1)", 14) != NULL);
            CHECK_STR_EQ(nl + 1, cases[i].last);
            /* the kept source and messages: "... see SRC and LOG"; removed here (without a
             * code cache they are in a temporary directory of their own) */
            char *src = strstr(e, " see "), *msgs = src ? strstr(src, " and ") : NULL;
            CHECK(src && msgs && msgs < nl);
            if (src && msgs && msgs < nl) {
                *msgs = *nl = '\0';
                src += 5;
                msgs += 5;
                CHECK_EQ_INT(access(src, R_OK), 0);
                CHECK_EQ_INT(access(msgs, R_OK), 0);
                unlink(src);
                unlink(msgs);
                char *slash = strrchr(src, '/');
                if (!own && slash && !strncmp(src, "/tmp/fwe-code-", 14)) {
                    *slash = '\0';
                    CHECK_EQ_INT(rmdir(src), 0);
                }
            }
        }
        if (own) {
            CHECK_EQ_INT(for_each_file(dir, ".c", NULL, NULL), 0); /* none but the first's */
            for_each_file(dir, "", remove_file, NULL);
            rmdir(dir);
        }
        free(o);
        free(e);
    }
}

/* Writes `script`, a C compiler that waits until the file `gate` exists, then runs cc. */
/* A frame running tcc's code moves to gcc's code at a loop header once that is published, with
 * every iteration reaching the host once and the interpreter's result. */
TEST(quick_code_frame_moves_to_cc_code_at_a_loop)
{
    char dir[96], script[128], gate[128], arg[160];
    snprintf(dir, sizeof dir, "%s/tierup", cache_dir);
    mkdir(dir, 0755);
    snprintf(script, sizeof script, "%s-gated-cc", cache_dir);
    snprintf(gate, sizeof gate, "%s-gate", cache_dir);
    if (!write_gated_cc(script, gate))
        return;
    snprintf(arg, sizeof arg, "tierup=%s", gate);
    char *e, *o = run_auto_child(script, dir, arg, &e);
    uint32_t want = 0;
    for (uint32_t i = 0; i < 3000; i++)
        want += ((i ^ 0x55u) * 3u) + (i & 1);
    char expect[64];
    snprintf(expect, sizeof expect, "ok %u 3000 1 1\n", want);
    CHECK_STR_EQ(o, expect);
    CHECK_STR_EQ(e, "");
    free(o);
    free(e);
    unlink(script);
    unlink(gate);
    for_each_file(dir, "", remove_file, NULL);
    rmdir(dir);
}

/* Runs settle_child(what) on cache directory `dir` with FWE_CC `cc` (NULL: cc); returns its
 * stdout. */
static char *run_settle_child(const char *dir, const char *what, const char *cc)
{
    char arg[64], *e;
    snprintf(arg, sizeof arg, "settle=%s", what);
    char *o = run_auto_child(cc, dir, arg, &e);
    if (!cc)
        CHECK_STR_EQ(e, "");
    free(e);
    return o;
}

/* A one-shot run that waits for the C compiler at its end leaves gcc's code in the cache: the
 * next run compiles nothing. A run that ends while its compiles are still running (a compiler
 * script that waits for a file never created) leaves nothing, and the next run compiles. */
TEST(settle_at_the_end_of_a_run_fills_the_cache)
{
    char dir[96], script[128], never[128];
    snprintf(dir, sizeof dir, "%s/settle", cache_dir);
    snprintf(script, sizeof script, "%s-stuck-cc", cache_dir);
    snprintf(never, sizeof never, "%s-never", cache_dir);
    if (!write_gated_cc(script, never))
        return;
    const char *first[2] = {"settle", "drop"};
    for (int k = 0; k < 2; k++) {
        mkdir(dir, 0755);
        char *o = run_settle_child(dir, first[k], k == 0 ? NULL : script);
        CHECK_STR_EQ(o, k == 0 ? "ok 1\n" : "ok 0\n");
        free(o);
        o = run_settle_child(dir, "again", NULL);
        if (k == 0)
            CHECK_STR_EQ(o, "ok 0 1\n");
        else
            CHECK(strncmp(o, "ok 0 ", 5) != 0); /* it had to compile */
        free(o);
        for_each_file(dir, "", remove_file, NULL);
        rmdir(dir);
    }
    unlink(script);
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

/* Threads that each load the same module (auto mode, every function hot on its first call, the
 * code cache the tests above filled), run it and free it at once, while compiler threads open
 * the shared objects these modules share: every result is right, and under ThreadSanitizer
 * (test_tier is in TSAN_TESTS) one thread's dlopen and another's dlclose of the same object are
 * ordered (the loader's own lock is invisible to it; CI reported such a race in test_hc_kv). */
#define SHARE_THREADS 4
#define SHARE_ROUNDS 6
typedef struct share_run {
    uint32_t fib[SHARE_ROUNDS], sieve[SHARE_ROUNDS];
} share_run;

static void *share_thread(void *p)
{
    share_run *out = p;
    for (int k = 0; k < SHARE_ROUNDS; k++) {
        run r;
        if (!start(&r, FWE_TIER_AUTO, NULL))
            return NULL;
        fwe_val a = v32(15), res;
        fwe_trap trap;
        if (call1(&r, "fib", &a, 1, &res, &trap) == FWE_OK)
            out->fib[k] = res.of.i32;
        a = v32(2000);
        if (call1(&r, "sieve", &a, 1, &res, &trap) == FWE_OK)
            out->sieve[k] = res.of.i32;
        stop(&r); /* at once: its compiles may still run */
    }
    return NULL;
}

TEST(modules_sharing_cached_code_come_and_go_concurrently)
{
    setenv("FWE_TIER_HOT", "1", 1);
    share_run out[SHARE_THREADS];
    memset(out, 0, sizeof out);
    pthread_t t[SHARE_THREADS];
    for (int i = 0; i < SHARE_THREADS; i++)
        pthread_create(&t[i], NULL, share_thread, &out[i]);
    for (int i = 0; i < SHARE_THREADS; i++)
        pthread_join(t[i], NULL);
    fwe_tier_wait_idle();
    unsetenv("FWE_TIER_HOT");
    for (int i = 0; i < SHARE_THREADS; i++)
        for (int k = 0; k < SHARE_ROUNDS; k++) {
            CHECK_EQ_INT(out[i].fib[k], 610);
            CHECK_EQ_INT(out[i].sieve[k], 303); /* primes below 2000 */
        }
}

/* ---- table and segment instructions, native calls (tier_tables.wat, tier_calls.wat) ---- */

/* Loads a module without imports under `mode` with instance configuration `cfg` (may be NULL). */
static bool start_plain(run *r, const char *path, fwe_tier_mode mode,
                        const fwe_instance_config *cfg)
{
    memset(r, 0, sizeof *r);
    fwe_tier_set(mode);
    size_t len;
    uint8_t *bytes = harness_read_file(path, &len);
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
    r->linker = fwe_linker_new(r->engine);
    fwe_trap trap;
    st = fwe_instantiate(r->linker, r->module, cfg, &r->inst, &trap);
    CHECK_EQ_INT(st, FWE_OK);
    return st == FWE_OK;
}

/* Calls `name` on both runs and checks the same outcome: status, result, or trap kind, message
 * and backtrace (function indexes and wasm offsets). Returns the status. */
static fwe_status same_outcome(run *ri, run *rn, const char *name, const uint32_t *args,
                               size_t nargs)
{
    fwe_val a[4], res[2];
    for (size_t i = 0; i < nargs && i < 4; i++)
        a[i] = v32(args[i]);
    fwe_trap ti, tn;
    memset(&ti, 0, sizeof ti);
    memset(&tn, 0, sizeof tn);
    memset(res, 0, sizeof res);
    fwe_status si = call1(ri, name, a, nargs, &res[0], &ti);
    fwe_status sn = call1(rn, name, a, nargs, &res[1], &tn);
    CHECK_EQ_INT(si, sn);
    if (si != sn)
        fprintf(stderr, "  (calling %s)\n", name);
    if (si == FWE_OK && sn == FWE_OK) {
        CHECK_EQ_U64(res[0].of.i32, res[1].of.i32);
    } else if (si == FWE_ERR_TRAP && sn == FWE_ERR_TRAP) {
        CHECK_EQ_INT(ti.kind, tn.kind);
        CHECK_STR_EQ(ti.message, tn.message);
        CHECK_EQ_INT(ti.nframes, tn.nframes);
        for (uint32_t i = 0; i < ti.nframes && i < tn.nframes; i++) {
            CHECK_EQ_INT(ti.frames[i].func_index, tn.frames[i].func_index);
            CHECK_EQ_INT(ti.frames[i].code_offset, tn.frames[i].code_offset);
        }
    }
    return si;
}

/* One call of a differential script: an export, its i32 arguments and the expected outcome. */
typedef struct script_step {
    const char *name;
    uint32_t args[4];
    uint32_t nargs;
    fwe_status want;
    uint32_t result; /* the i32 result when want == FWE_OK (0 for none), or ANY_RESULT */
} script_step;
#define ANY_RESULT UINT32_C(0xa5a5a5a5) /* not checked (against the interpreter's only) */

/* Runs `script` on a native instance of `wasm` against its expected outcomes (independent of the
 * interpreter; a trap's message must be `trap_message` when given), then on fresh interpreted
 * and native instances step by step with same_outcome. Returns the traps of that second pass;
 * native[0..2] = native functions of the first native module, the second, the interpreted one. */
static uint32_t run_script(const char *wasm, const script_step *script, size_t n,
                           const char *trap_message, uint32_t native[3])
{
    memset(native, 0, 3 * sizeof *native);
    run ri, rn;
    if (!start_plain(&rn, wasm, FWE_TIER_NATIVE, NULL))
        return 0;
    for (size_t i = 0; i < n; i++) {
        const script_step *st = &script[i];
        fwe_val a[4], res;
        for (uint32_t k = 0; k < st->nargs; k++)
            a[k] = v32(st->args[k]);
        fwe_trap trap;
        memset(&res, 0, sizeof res);
        fwe_status sn = call1(&rn, st->name, a, st->nargs, &res, &trap);
        CHECK_EQ_INT(sn, st->want);
        if (sn == FWE_OK && st->want == FWE_OK && st->result != ANY_RESULT)
            CHECK_EQ_U64(res.of.i32, st->result);
        if (sn == FWE_ERR_TRAP && trap_message)
            CHECK_STR_EQ(trap.message, trap_message);
        if (sn != st->want)
            fprintf(stderr, "  (step %zu: %s)\n", i, st->name);
    }
    native[0] = fwe_module_native_count(rn.module);
    stop(&rn);
    if (!start_plain(&ri, wasm, FWE_TIER_INTERP, NULL))
        return 0;
    if (!start_plain(&rn, wasm, FWE_TIER_NATIVE, NULL)) {
        stop(&ri);
        return 0;
    }
    uint32_t traps = 0;
    for (size_t i = 0; i < n; i++)
        traps +=
            same_outcome(&ri, &rn, script[i].name, script[i].args, script[i].nargs) == FWE_ERR_TRAP;
    native[1] = fwe_module_native_count(rn.module);
    native[2] = fwe_module_native_count(ri.module);
    stop(&ri);
    stop(&rn);
    return traps;
}

TEST(table_and_segment_ops_interp_vs_native)
{
    /* one script: results, and traps with the same kind, message and offsets */
    static const script_step script[] = {
        {"size", {0}, 0, FWE_OK, 4},
        {"init_call", {0, 0, 3, 2}, 4, FWE_OK, 7},       /* $f3(10) */
        {"get_is_null", {3}, 1, FWE_OK, 1},              /* entry 3 still null */
        {"init_call", {2, 1, 2, 3}, 4, FWE_OK, 7},       /* [2]=$f2 [3]=$f3 */
        {"init_call", {0, 0, 0, 2}, 4, FWE_OK, 20},      /* $f2(10) */
        {"init_call", {3, 2, 2, 0}, 4, FWE_ERR_TRAP, 0}, /* segment bounds */
        {"init_call", {4, 0, 1, 0}, 4, FWE_ERR_TRAP, 0}, /* table bounds */
        {"get_is_null", {4}, 1, FWE_ERR_TRAP, 0},        /* table.get out of bounds */
        {"set_null", {1}, 1, FWE_OK, 0},                 /* table.set */
        {"set_null", {4}, 1, FWE_ERR_TRAP, 0},           /* table.set out of bounds */
        {"init_call", {0, 0, 0, 1}, 4, FWE_ERR_TRAP, 0}, /* uninitialized element 1 */
        {"set_f1", {1}, 1, FWE_OK, 0},                   /* table.set of a ref.func */
        {"init_call", {0, 0, 0, 1}, 4, FWE_OK, 11},      /* $f1(10) */
        {"set_wrong", {3}, 1, FWE_OK, 0},                /* an entry of another type */
        {"init_call", {0, 0, 0, 3}, 4, FWE_ERR_TRAP, 0}, /* indirect call type mismatch */
        {"init_call", {3, 2, 1, 3}, 4, FWE_OK, 7},       /* [3] = $f3 again */
        {"grow", {2}, 1, FWE_OK, 4},                     /* old size */
        {"size", {0}, 0, FWE_OK, 6},
        {"grow", {5}, 1, FWE_OK, 0xffffffffu},      /* past the maximum 8 */
        {"init_call", {0, 0, 0, 5}, 4, FWE_OK, 20}, /* grown entries are $f2 */
        {"fill", {4, 2}, 2, FWE_OK, 0},             /* [4], [5] = $f3 */
        {"init_call", {0, 0, 0, 5}, 4, FWE_OK, 7},
        {"fill", {5, 3}, 2, FWE_ERR_TRAP, 0}, /* table.fill out of bounds */
        {"copy", {0, 4, 2}, 3, FWE_OK, 0},    /* [0], [1] = $f3 */
        {"init_call", {0, 0, 0, 1}, 4, FWE_OK, 7},
        {"copy", {5, 0, 2}, 3, FWE_ERR_TRAP, 0}, /* table.copy out of bounds */
        {"drop_elem", {0}, 0, FWE_OK, 0},
        {"init_call", {0, 0, 1, 0}, 4, FWE_ERR_TRAP, 0}, /* dropped: length 0 */
        {"init_call", {0, 0, 0, 0}, 4, FWE_OK, 7},       /* an empty init still works */
        {"mem_init", {100, 7, 6}, 3, FWE_OK, 't'},       /* "tables" */
        {"mem_init", {65530, 0, 7}, 3, FWE_ERR_TRAP, 0}, /* memory bounds */
        {"mem_init", {0, 10, 5}, 3, FWE_ERR_TRAP, 0},    /* segment bounds */
        {"drop_data", {0}, 0, FWE_OK, 0},
        {"mem_init", {0, 0, 1}, 3, FWE_ERR_TRAP, 0}, /* dropped */
        {"mem_init", {100, 0, 0}, 3, FWE_OK, 't'},   /* empty: memory unchanged */
    };
    uint32_t native[3];
    CHECK_EQ_INT(run_script("build/wat/tier_tables.wasm", script, sizeof script / sizeof script[0],
                            NULL, native),
                 12);
    /* every function is native: no table or segment instruction keeps one interpreted */
    CHECK_EQ_INT(native[1], 16);
    CHECK_EQ_INT(native[2], 0);
}

/* f32/f64 min and max with a NaN operand give that NaN quietened, the first one when both are
 * NaNs, in both tiers: the helpers returned a + b, and the C compiler ordered the operands of
 * that commutative + differently in native code and in the interpreter, so the sign and payload
 * of the result differed (found by fuzz_tier on a multi-value function's f64 result; regression
 * input tests/fuzz/regressions/tier/nan_operand_of_f64_max). */
TEST(min_max_of_nans_agree_between_tiers)
{
    run r[2];
    if (!start_plain(&r[0], "build/wat/tier_nan.wasm", FWE_TIER_INTERP, NULL))
        return;
    if (!start_plain(&r[1], "build/wat/tier_nan.wasm", FWE_TIER_NATIVE, NULL)) {
        stop(&r[0]);
        return;
    }
    static const uint64_t nan64[] = {UINT64_C(0xfffffffffb0f5388), UINT64_C(0x7ff0000000000001),
                                     UINT64_C(0x7ff8000000000000), UINT64_C(0x3ff0000000000000)};
    static const uint32_t nan32[] = {0xffc01234u, 0x7f800001u, 0x7fc00000u, 0x3f800000u};
    static const char *const names[] = {"max64", "min64", "max32", "min32"};
    for (int f = 0; f < 4; f++) {
        bool wide = f < 2;
        for (int i = 0; i < 4; i++)
            for (int j = 0; j < 4; j++) {
                if (i == 3 && j == 3)
                    continue; /* no NaN */
                fwe_val a[2] = {{.type = wide ? FWE_I64 : FWE_I32},
                                {.type = wide ? FWE_I64 : FWE_I32}};
                if (wide) {
                    a[0].of.i64 = nan64[i];
                    a[1].of.i64 = nan64[j];
                } else {
                    a[0].of.i32 = nan32[i];
                    a[1].of.i32 = nan32[j];
                }
                /* the first NaN operand with its quiet bit set */
                uint64_t want = wide ? (i < 3 ? nan64[i] : nan64[j]) | UINT64_C(0x0008000000000000)
                                     : (i < 3 ? nan32[i] : nan32[j]) | 0x00400000u;
                for (int t = 0; t < 2; t++) {
                    fwe_val res;
                    fwe_trap trap;
                    memset(&res, 0, sizeof res);
                    CHECK_EQ_INT(call1(&r[t], names[f], a, 2, &res, &trap), FWE_OK);
                    uint64_t got = wide ? res.of.i64 : res.of.i32;
                    CHECK_EQ_U64(got, want);
                    if (got != want)
                        fprintf(stderr, "  %s(%d, %d) %s\n", names[f], i, j,
                                t ? "native" : "interpreted");
                }
            }
    }
    CHECK_EQ_INT(fwe_module_native_count(r[1].module), 4);
    stop(&r[0]);
    stop(&r[1]);
}

/* function indexes in tier_calls.wat */
enum {
    C_LEAF = 0,
    C_DOWN = 1,
    C_CHAIN = 2,
    C_PING = 3,
    C_PONG = 4,
    C_PINGPONG = 5,
    C_DEEP = 6,
    C_FIB = 7
};

TEST(backtrace_through_native_frames)
{
    run ri, rn;
    if (!start_plain(&ri, "build/wat/tier_calls.wasm", FWE_TIER_INTERP, NULL))
        return;
    if (!start_plain(&rn, "build/wat/tier_calls.wasm", FWE_TIER_NATIVE, NULL)) {
        stop(&ri);
        return;
    }
    /* leaf <- down x6 (self-recursion) <- chain */
    uint32_t n = 5;
    CHECK_EQ_INT(same_outcome(&ri, &rn, "chain", &n, 1), FWE_ERR_TRAP);
    CHECK(fwe_module_func_is_native(rn.module, C_DOWN));
    fwe_val a = v32(5), res;
    fwe_trap trap;
    CHECK_EQ_INT(call1(&rn, "chain", &a, 1, &res, &trap), FWE_ERR_TRAP);
    CHECK_EQ_INT(trap.kind, FWE_TRAP_UNREACHABLE);
    CHECK_EQ_INT(trap.nframes, 8);
    CHECK_EQ_INT(trap.frames[0].func_index, C_LEAF);
    for (uint32_t i = 1; i <= 6 && i < trap.nframes; i++)
        CHECK_EQ_INT(trap.frames[i].func_index, C_DOWN);
    if (trap.nframes == 8)
        CHECK_EQ_INT(trap.frames[7].func_index, C_CHAIN);
    /* every down frame but the innermost returns to the same call site */
    CHECK(trap.frames[2].code_offset == trap.frames[3].code_offset);
    CHECK(trap.frames[1].code_offset != trap.frames[2].code_offset);
    /* leaf <- (ping <- pong) x4 <- ping <- pingpong: calls between two native functions */
    n = 4;
    CHECK_EQ_INT(same_outcome(&ri, &rn, "pingpong", &n, 1), FWE_ERR_TRAP);
    a = v32(4);
    CHECK_EQ_INT(call1(&rn, "pingpong", &a, 1, &res, &trap), FWE_ERR_TRAP);
    CHECK_EQ_INT(trap.nframes, 11);
    if (trap.nframes == 11) {
        CHECK_EQ_INT(trap.frames[1].func_index, C_PING);
        CHECK_EQ_INT(trap.frames[2].func_index, C_PONG);
        CHECK_EQ_INT(trap.frames[10].func_index, C_PINGPONG);
    }
    /* the instances keep working after the traps */
    n = 20;
    CHECK_EQ_INT(same_outcome(&ri, &rn, "fib", &n, 1), FWE_OK);
    a = v32(20);
    CHECK_EQ_INT(call1(&rn, "fib", &a, 1, &res, &trap), FWE_OK);
    CHECK_EQ_INT(res.of.i32, 6765);
    stop(&ri);
    stop(&rn);
}

TEST(deep_native_recursion_traps_without_crashing)
{
    /* the frame limit: depth 10,000 by default, the same trap as the interpreter's */
    run rn;
    if (!start_plain(&rn, "build/wat/tier_calls.wasm", FWE_TIER_NATIVE, NULL))
        return;
    fwe_val a = v32(0), res;
    fwe_trap trap;
    CHECK_EQ_INT(call1(&rn, "deep", &a, 1, &res, &trap), FWE_ERR_TRAP);
    CHECK(fwe_module_func_is_native(rn.module, C_DEEP));
    CHECK_EQ_INT(trap.kind, FWE_TRAP_STACK_EXHAUSTED);
    CHECK_STR_EQ(trap.message, "call stack exhausted");
    CHECK(trap.nframes > 0);
    if (trap.nframes > 0)
        CHECK_EQ_INT(trap.frames[0].func_index, C_DEEP);
    stop(&rn);
    /* a frame limit beyond what the C stack holds: the C stack check traps first, the same way */
    fwe_instance_config cfg = {.max_call_depth = 4000000, .stack_slots = 32u << 20};
    if (!start_plain(&rn, "build/wat/tier_calls.wasm", FWE_TIER_NATIVE, &cfg))
        return;
    for (int round = 0; round < 2; round++) {
        memset(&trap, 0, sizeof trap);
        CHECK_EQ_INT(call1(&rn, "deep", &a, 1, &res, &trap), FWE_ERR_TRAP);
        CHECK_EQ_INT(trap.kind, FWE_TRAP_STACK_EXHAUSTED);
        CHECK_STR_EQ(trap.message, "call stack exhausted");
    }
    a = v32(15);
    CHECK_EQ_INT(call1(&rn, "fib", &a, 1, &res, &trap), FWE_OK);
    CHECK_EQ_INT(res.of.i32, 610);
    stop(&rn);
}

TEST(deadline_interrupts_native_recursion)
{
    run rn;
    if (!start_plain(&rn, "build/wat/tier_calls.wasm", FWE_TIER_NATIVE, NULL))
        return;
    fwe_val a = v32(10), res;
    fwe_trap trap;
    CHECK_EQ_INT(call1(&rn, "fib", &a, 1, &res, &trap), FWE_OK); /* compiles the module */
    CHECK(fwe_module_func_is_native(rn.module, C_FIB));
    /* fib(45) is billions of calls and no loop: only the check at function entry can stop it */
    pthread_t t;
    pthread_create(&t, NULL, interrupt_soon, rn.inst);
    a = v32(45);
    CHECK_EQ_INT(call1(&rn, "fib", &a, 1, &res, &trap), FWE_ERR_TRAP);
    pthread_join(t, NULL);
    CHECK_EQ_INT(trap.kind, FWE_TRAP_INTERRUPTED);
    CHECK_STR_EQ(trap.message, "interrupted");
    CHECK(trap.nframes >= 1);
    for (uint32_t i = 0; i < trap.nframes; i++)
        CHECK_EQ_INT(trap.frames[i].func_index, C_FIB);
    fwe_instance_clear_interrupt(rn.inst);
    a = v32(12);
    CHECK_EQ_INT(call1(&rn, "fib", &a, 1, &res, &trap), FWE_OK);
    CHECK_EQ_INT(res.of.i32, 144);
    stop(&rn);
}

/* Memory bounds with the check folded into one compare against the cached size minus the
 * access's offset and width (native_gen.c): accesses at the edge, huge static offsets, a trap
 * after a store, and memory.grow in a loop (directly and in a callee) refreshing the cached size;
 * constant addresses below the declared minimum (whose checks the C compiler may drop).
 * Every outcome as expected on native code, then the same as the interpreter's, trap offsets
 * included. */
TEST(memory_bounds_and_grow_interp_vs_native)
{
    static const script_step script[] = {
        {"ld8", {65528}, 1, FWE_OK, 0},
        {"ld8", {65529}, 1, FWE_ERR_TRAP, 0}, /* one byte past the end */
        {"ld8", {0xffffffffu}, 1, FWE_ERR_TRAP, 0},
        {"ld_off", {0}, 1, FWE_OK, 0},
        {"ld_off", {1}, 1, FWE_ERR_TRAP, 0},
        {"ld_big", {0}, 1, FWE_ERR_TRAP, 0}, /* offset 2^32-1 */
        {"edge_ok", {0}, 0, FWE_OK, 0},
        {"edge_trap", {0}, 0, FWE_ERR_TRAP, 0},
        {"st16", {65532, 0xbeef}, 2, FWE_OK, ANY_RESULT},
        {"st16", {65533, 1}, 2, FWE_ERR_TRAP, 0},
        {"peek", {65532}, 1, FWE_OK, 0xbeef0000u},
        {"st_then_trap", {65536}, 1, FWE_ERR_TRAP, 0},
        {"peek", {0}, 1, FWE_OK, 7}, /* the store before the trap happened */
        {"st_then_trap", {65532}, 1, FWE_OK, 0xbeef0000u},
        {"ld8", {65536}, 1, FWE_ERR_TRAP, 0},
        {"grow_loop", {3}, 1, FWE_OK, 4},
        {"ld8", {65536}, 1, FWE_OK, 0}, /* the caller's view grew too */
        {"peek", {4 * 65536 - 4}, 1, FWE_OK, 2},
        {"grow_call_loop", {3}, 1, FWE_OK, 9},
        {"size", {0}, 0, FWE_OK, 7},
        {"grow_loop", {3}, 1, FWE_ERR_TRAP, 0}, /* the second grow fails: its store traps */
        {"size", {0}, 0, FWE_OK, 8},
        {"peek", {8 * 65536 - 4}, 1, FWE_OK, 0},
        {"peek", {8 * 65536 - 3}, 1, FWE_ERR_TRAP, 0},
        {"edge_trap", {0}, 0, FWE_OK, 0xbeef00u}, /* memory grew: in bounds now */
    };
    uint32_t native[3];
    CHECK_EQ_INT(run_script("build/wat/tier_mem.wasm", script, sizeof script / sizeof script[0],
                            "out of bounds memory access", native),
                 10);
    CHECK_EQ_INT(native[0], 12);
}

/* The hot profile: a second process on the same cache publishes what was native in the first
 * as soon as one function of the module gets hot, without waiting for each counter; a corrupt
 * profile is ignored. */
TEST(hot_profile_publishes_the_previous_hot_set)
{
    char dir[96], out[128], err[128];
    snprintf(dir, sizeof dir, "%s/profile", cache_dir);
    mkdir(dir, 0755);
    snprintf(out, sizeof out, "%s-pout", cache_dir);
    snprintf(err, sizeof err, "%s-perr", cache_dir);
    const char *want[] = {"ok 1\n", "ok 1 1\n"};
    const char *what[] = {"record", "replay"};
    for (int i = 0; i < 2; i++) {
        pid_t pid = spawn_child_arg(NULL, dir, out, err, "auto", what[i]);
        CHECK(pid > 0);
        CHECK_EQ_INT(wait_child(pid), 0);
        char *o = slurp(out), *e = slurp(err);
        CHECK_STR_EQ(o, want[i]);
        CHECK_STR_EQ(e, "");
        free(o);
        free(e);
    }
    /* junk in the profile: no crash, sieve simply waits for its own counter again */
    char prof[160];
    snprintf(prof, sizeof prof, "%s/hot.list", dir);
    int fd = open(prof, O_WRONLY | O_TRUNC);
    CHECK(fd >= 0);
    if (fd >= 0) {
        CHECK(write(fd, "zz\n0123\nnot a hash at all\n", 26) == 26);
        close(fd);
    }
    pid_t pid = spawn_child_arg(NULL, dir, out, err, "auto", "replay");
    CHECK_EQ_INT(wait_child(pid), 0);
    char *o = slurp(out);
    CHECK_STR_EQ(o, "ok 0 0\n");
    free(o);
    unlink(out);
    unlink(err);
}

int main(int argc, char **argv)
{
    self_exe = argv[0];
    /* These tests count which functions get hot by calls. Time-based samples would add functions
     * that depend on the machine's speed (a slow run's next run found one more to compile);
     * test_tier_sample covers sampling. Children inherit this. */
    setenv("FWE_TIER_SAMPLE_US", "0", 1);
    if (argc > 2 && !strcmp(argv[1], "--tier-child") && !strncmp(argv[2], "settle=", 7))
        return settle_child(argv[2] + 7);
    if (argc > 2 && !strcmp(argv[1], "--tier-child") && !strncmp(argv[2], "tierup=", 7))
        return tierup_child(argv[2] + 7);
    if (argc > 2 && !strcmp(argv[1], "--tier-child") && !strncmp(argv[2], "broken=", 7))
        return broken_child(argv[2] + 7);
    if (argc > 2 && !strcmp(argv[1], "--tier-child") && !strncmp(argv[2], "quick=", 6))
        return quick_child(argv[2] + 6);
    if (argc > 2 && !strcmp(argv[1], "--tier-child") && argv[2][0])
        return profile_child(argv[2]);
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
    RUN(corrupt_cache_entries_are_ignored);
    RUN(missing_compiler_leaves_the_interpreter_serving);
    RUN(unusable_cache_dir_compiles_without_caching);
    RUN(compiler_failing_every_batch_is_dropped_after_three);
    RUN(concurrent_cache_writers);
    RUN(modules_sharing_cached_code_come_and_go_concurrently);
    RUN(quick_compiler_code_is_replaced_by_cc_code);
    RUN(quick_code_stays_when_cc_fails);
    RUN(quick_compiler_off_or_missing);
    RUN(quick_code_frame_moves_to_cc_code_at_a_loop);
    RUN(settle_at_the_end_of_a_run_fills_the_cache);
    RUN(table_and_segment_ops_interp_vs_native);
    RUN(min_max_of_nans_agree_between_tiers);
    RUN(backtrace_through_native_frames);
    RUN(deep_native_recursion_traps_without_crashing);
    RUN(deadline_interrupts_native_recursion);
    RUN(memory_bounds_and_grow_interp_vs_native);
    RUN(batch_policy_keeps_hot_order_within_the_budget);
    RUN(identical_functions_in_one_batch_both_run_native);
    RUN(stats_account_for_every_hot_function);
    RUN(hot_profile_publishes_the_previous_hot_set);
    const char *subdirs[] = {"shared", "profile"};
    for (int i = 0; i < 2; i++) {
        char sub[96];
        snprintf(sub, sizeof sub, "%s/%s", cache_dir, subdirs[i]);
        for_each_file(sub, "", remove_file, NULL);
        rmdir(sub);
    }
    for_each_file(cache_dir, "", remove_file, NULL);
    rmdir(cache_dir);
    return harness_finish(argv[0]);
}
