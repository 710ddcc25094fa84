/* fuzz_diff.c: differential libFuzzer target: the input drives a generator of valid modules
 * (wasm_gen.h, base variant: 1-16 functions without parameters returning i32 or i64, built from
 * random expression trees over the integer and float instructions, locals, two mutable globals,
 * loads and stores, memory.size/grow, select, if/else, bounded loops and one call (direct, or
 * call_indirect through a table that also has null slots) to an earlier function, with a data
 * segment and an element segment), which run in Fastlike's engine and in wabt's `wasm-interp
 * --run-all-exports`. Every exported function must give the same value, or trap for the same
 * reason, in both. Float results are only observed through comparisons and conversions to integers,
 * never through their bits (NaN signs and payloads may differ between correct engines), so copysign
 * and float stores are left out. */
#include "fuzz_util.h"
#include "fwe.h"
#include "gen_run.h"
#include "wasm_gen.h"

#include <errno.h>
#include <inttypes.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/wait.h>

extern char **environ;

/* ---- running ---- */
/* wabt's words for each trap, as --run-all-exports prints them after "error: ": the spec's
 * wording, as ours (fwe_trap_kind_message), but for four */
static const char *trap_words(fwe_trap_kind k)
{
    switch (k) {
    case FWE_TRAP_UNREACHABLE:
        return "unreachable executed";
    case FWE_TRAP_TABLE_OOB:
        return "undefined table index";
    case FWE_TRAP_UNINITIALIZED_ELEMENT:
        return "uninitialized table element";
    case FWE_TRAP_INDIRECT_TYPE_MISMATCH:
        return "indirect call signature mismatch";
    default:
        return fwe_trap_kind_message(k);
    }
}

/* Our engine's results in wasm-interp's format: "fN() => i32:V" or "fN() => error: WORDS". */
static bool run_ours(const uint8_t *wasm, size_t len, int n, char *out, size_t cap)
{
    static fwe_engine *engine;
    if (!engine)
        engine = fwe_engine_new();
    CHECK(engine != NULL);
    char err[256];
    gen_run r;
    if (!gen_run_start(&r, engine, wasm, len, 1000, err, sizeof err)) {
        snprintf(out, cap, "load error: %s\n", err);
        return false;
    }
    size_t used = 0;
    out[0] = '\0';
    if (!r.inst) {
        snprintf(out, cap, "instantiate error: %s\n", r.trap.message);
    } else {
        for (int i = 0; i < n && used < cap; i++) {
            char name[8];
            fwe_functype_info ft;
            fwe_func *fn = gen_run_func(&r, i, name, &ft);
            fwe_val res;
            fwe_trap trap;
            memset(&res, 0, sizeof res);
            memset(&trap, 0, sizeof trap);
            fwe_status st = fwe_call(fn, NULL, 0, &res, 1, &trap);
            int w;
            if (st == FWE_ERR_TRAP)
                w = snprintf(out + used, cap - used, "%s() => error: %s\n", name,
                             trap_words(trap.kind));
            else if (st != FWE_OK)
                w = snprintf(out + used, cap - used, "%s() => status %d\n", name, (int)st);
            else if (ft.results[0] == FWE_I32)
                w = snprintf(out + used, cap - used, "%s() => i32:%" PRIu32 "\n", name, res.of.i32);
            else
                w = snprintf(out + used, cap - used, "%s() => i64:%" PRIu64 "\n", name, res.of.i64);
            if (w > 0)
                used += (size_t)w;
        }
    }
    gen_run_end(&r);
    return true;
}

/* wasm-interp's output, each error shortened to its first words (the part before ": "). Returns
 * its exit status, or -1 when it could not run. */
static int run_wabt(const char *path, char *out, size_t cap)
{
    int fds[2];
    if (pipe(fds) != 0)
        return -1;
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, fds[1], 1);
    posix_spawn_file_actions_adddup2(&fa, fds[1], 2);
    posix_spawn_file_actions_addclose(&fa, fds[0]);
    char *argv[] = {"wasm-interp", "--run-all-exports", (char *)path, NULL};
    pid_t pid;
    int rc = posix_spawnp(&pid, "wasm-interp", &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    close(fds[1]);
    if (rc != 0) {
        close(fds[0]);
        return -1;
    }
    size_t used = 0;
    ssize_t r;
    char tmp[4096];
    while ((r = read(fds[0], tmp, sizeof tmp)) != 0) {
        if (r < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        size_t n = (size_t)r;
        if (n > cap - 1 - used)
            n = cap - 1 - used;
        memcpy(out + used, tmp, n);
        used += n;
    }
    out[used] = '\0';
    close(fds[0]);
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    /* "error: out of bounds memory access: access at ..." -> "error: out of bounds memory access"
     */
    char *line = out;
    while ((line = strstr(line, "error: ")) != NULL) {
        line += 7;
        char *eol = strchr(line, '\n');
        char *detail = strstr(line, ": ");
        if (detail && (!eol || detail < eol)) {
            size_t rest = strlen(eol ? eol : detail + strlen(detail));
            memmove(detail, eol ? eol : detail + strlen(detail), rest + 1);
        }
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static char ours[16384], theirs[16384];
    gen_module gm;
    generate(data, size, false, &gm);
    uint8_t *wasm = gm.wasm;
    size_t len = gm.len;
    int n = gm.nfuncs;
    const char *path = fuzz_write("diff.wasm", wasm, len);
    CHECK(path != NULL);
    int rc = run_wabt(path, theirs, sizeof theirs);
    if (rc < 0) {
        static bool warned;
        if (!warned)
            fprintf(stderr, "fuzz_diff: cannot run wasm-interp (Debian package wabt): nothing "
                            "to compare with\n");
        warned = true;
        free(wasm);
        return 0;
    }
    bool loaded = run_ours(wasm, len, n, ours, sizeof ours);
    if (rc != 0 && !loaded) { /* both refuse: a generator bug, not an engine one */
        fprintf(stderr, "fuzz_diff: the generator made an invalid module: %s", ours);
        abort();
    }
    if (getenv("FUZZ_DIFF_SHOW")) /* FUZZ_DIFF_SHOW=1: print both results of every input */
        fprintf(stderr, "--- fastlike\n%s--- wasm-interp\n%s", ours, theirs);
    if (strcmp(ours, theirs) != 0) {
        fprintf(stderr,
                "fuzz_diff: results differ (module kept as %s)\n--- fastlike\n%s--- "
                "wasm-interp\n%s",
                path, ours, theirs);
        abort();
    }
    free(wasm);
    return 0;
}
