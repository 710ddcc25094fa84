/* spike_orc.c: issue 13's code-generator spike. Measures, on the C the native tier generates
 * (batch files kept with FWE_TIER_KEEP_C=1), what each candidate costs per function and per
 * batch: clang-14's C front end, then LLVM in-process (parse IR, O1/O2 pipelines, ORC LLJIT
 * codegen forced by a lookup), against `cc -O2 -shared` and `clang-14 -O2 -shared` as processes. */
#include <errno.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <llvm-c/Core.h>
#include <llvm-c/Error.h>
#include <llvm-c/IRReader.h>
#include <llvm-c/LLJIT.h>
#include <llvm-c/Orc.h>
#include <llvm-c/OrcEE.h>
#include <llvm-c/Target.h>
#include <llvm-c/TargetMachine.h>
#include <llvm-c/Transforms/PassBuilder.h>
#include <llvm/Config/llvm-config.h>

extern char **environ;

/* Flags of the tier's compile (tier.c's CFLAGS_TEXT), shared by every C compile here. */
#define TIER_FLAGS                                                                                 \
    "-fPIC", "-w", "-fno-semantic-interposition", "-fno-math-errno", "-fsignaling-nans"

typedef struct cost {
    double cpu_ms;  /* CPU time (user + system) */
    double wall_ms; /* wall-clock time */
} cost;

typedef struct opts {
    const char *clang; /* clang-14 */
    const char *cc;    /* the system compiler (cc) */
    bool per_function; /* also each function on its own */
    bool batches;      /* each kept batch as one unit */
    bool verbose;      /* one line per unit */
    unsigned every;    /* per function: only every Nth function (a sample), 1 = all */
    bool fe_O0;        /* front end at -O0 (without optnone) instead of -O2 without passes */
} opts;

/* One row of figures for one unit (a function or a batch). */
enum { FE, PARSE1, PASS1, JIT1, PARSE2, PASS2, JIT2, GCC2, CLANG2, GCCSYN, GCC0, NCOL };
static const char *const col_name[NCOL] = {"clang-fe", "parse",     "O1-pass", "O1-jit",
                                           "parse",    "O2-pass",   "O2-jit",  "cc-O2",
                                           "clang-O2", "cc-syntax", "cc-O0"};

typedef struct totals {
    cost c[NCOL];
    unsigned units;
    size_t bytes;
    unsigned failures;
} totals;

static double now_ms(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* Runs argv with its output discarded; returns its cost, or a negative cpu_ms on failure. */
static cost run_proc(char *const argv[])
{
    cost r = {-1, -1};
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", 1, 0);
    posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", 1, 0);
    double w0 = now_ms(CLOCK_MONOTONIC);
    pid_t pid;
    int rc = posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    if (rc != 0) {
        fprintf(stderr, "spike-orc: cannot run %s: %s\n", argv[0], strerror(rc));
        return r;
    }
    int status = 0;
    struct rusage ru;
    while (wait4(pid, &status, 0, &ru) < 0)
        if (errno != EINTR)
            return r;
    double w1 = now_ms(CLOCK_MONOTONIC);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        return r;
    r.wall_ms = w1 - w0;
    r.cpu_ms = (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e3 +
               (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e3;
    return r;
}

static bool read_all(const char *path, char **out, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return false;
    size_t cap = 1 << 16, n = 0;
    char *p = malloc(cap + 1);
    while (p) {
        size_t k = fread(p + n, 1, cap - n, f);
        n += k;
        if (n < cap)
            break;
        char *q = realloc(p, cap * 2 + 1);
        if (!q) {
            free(p);
            p = NULL;
            break;
        }
        p = q;
        cap *= 2;
    }
    fclose(f);
    if (!p)
        return false;
    p[n] = 0;
    *out = p;
    *len = n;
    return true;
}

static bool write_all(const char *path, const char *a, size_t alen, const char *b, size_t blen)
{
    FILE *f = fopen(path, "wb");
    if (!f)
        return false;
    bool ok = fwrite(a, 1, alen, f) == alen && fwrite(b, 1, blen, f) == blen;
    return fclose(f) == 0 && ok;
}

static bool check(LLVMErrorRef e, const char *what)
{
    if (!e)
        return true;
    char *m = LLVMGetErrorMessage(e);
    fprintf(stderr, "spike-orc: %s: %s\n", what, m);
    LLVMDisposeErrorMessage(m);
    return false;
}

static LLVMTargetMachineRef target_machine(LLVMCodeGenOptLevel level)
{
    char *triple = LLVMGetDefaultTargetTriple();
    LLVMTargetRef t;
    char *err = NULL;
    if (LLVMGetTargetFromTriple(triple, &t, &err)) {
        fprintf(stderr, "spike-orc: target %s: %s\n", triple, err);
        LLVMDisposeMessage(err);
        LLVMDisposeMessage(triple);
        return NULL;
    }
    char *cpu = LLVMGetHostCPUName(), *feat = LLVMGetHostCPUFeatures();
    /* the host CPU, as ORC's JITTargetMachineBuilder::detectHost would pick */
    LLVMTargetMachineRef tm =
        LLVMCreateTargetMachine(t, triple, cpu, feat, level, LLVMRelocPIC, LLVMCodeModelJITDefault);
    LLVMDisposeMessage(cpu);
    LLVMDisposeMessage(feat);
    LLVMDisposeMessage(triple);
    return tm;
}

/* One LLJIT per optimisation level, with the process's symbols (libm) visible. */
typedef struct jit {
    LLVMOrcLLJITRef j;
    LLVMTargetMachineRef pass_tm; /* target information for the pass pipeline */
    const char *pipeline;
} jit;

static bool jit_new(jit *x, LLVMCodeGenOptLevel level, const char *pipeline, double *ms)
{
    double t0 = now_ms(CLOCK_THREAD_CPUTIME_ID);
    memset(x, 0, sizeof *x);
    x->pipeline = pipeline;
    x->pass_tm = target_machine(level);
    LLVMTargetMachineRef tm = target_machine(level);
    if (!x->pass_tm || !tm)
        return false;
    LLVMOrcLLJITBuilderRef b = LLVMOrcCreateLLJITBuilder();
    LLVMOrcLLJITBuilderSetJITTargetMachineBuilder(
        b, LLVMOrcJITTargetMachineBuilderCreateFromTargetMachine(tm));
    if (!check(LLVMOrcCreateLLJIT(&x->j, b), "creating the LLJIT"))
        return false;
    LLVMOrcDefinitionGeneratorRef g;
    if (!check(LLVMOrcCreateDynamicLibrarySearchGeneratorForProcess(
                   &g, LLVMOrcLLJITGetGlobalPrefix(x->j), NULL, NULL),
               "process symbols"))
        return false;
    LLVMOrcJITDylibAddGenerator(LLVMOrcLLJITGetMainJITDylib(x->j), g);
    *ms = now_ms(CLOCK_THREAD_CPUTIME_ID) - t0;
    return true;
}

static void jit_free(jit *x)
{
    if (x->j)
        LLVMOrcDisposeLLJIT(x->j);
    if (x->pass_tm)
        LLVMDisposeTargetMachine(x->pass_tm);
    memset(x, 0, sizeof *x);
}

/* Parses `bc`, runs the pipeline, adds the module to the JIT and looks up every symbol in `syms`
 * (which makes ORC generate the machine code); fills three costs (in-process, one thread). */
static bool jit_unit(jit *x, const char *bc, char *const *syms, unsigned nsyms, cost out[3])
{
    double c0 = now_ms(CLOCK_THREAD_CPUTIME_ID), w0 = now_ms(CLOCK_MONOTONIC);
    LLVMOrcThreadSafeContextRef tsc = LLVMOrcCreateNewThreadSafeContext();
    LLVMContextRef ctx = LLVMOrcThreadSafeContextGetContext(tsc);
    LLVMMemoryBufferRef buf = NULL;
    char *msg = NULL;
    LLVMModuleRef mod = NULL;
    bool ok = false;
    if (LLVMCreateMemoryBufferWithContentsOfFile(bc, &buf, &msg)) {
        fprintf(stderr, "spike-orc: %s: %s\n", bc, msg);
        LLVMDisposeMessage(msg);
        goto done;
    }
    if (LLVMParseIRInContext(ctx, buf, &mod, &msg)) { /* takes the buffer */
        fprintf(stderr, "spike-orc: parsing %s: %s\n", bc, msg);
        LLVMDisposeMessage(msg);
        goto done;
    }
    double c1 = now_ms(CLOCK_THREAD_CPUTIME_ID), w1 = now_ms(CLOCK_MONOTONIC);
    LLVMPassBuilderOptionsRef po = LLVMCreatePassBuilderOptions();
    bool passed = check(LLVMRunPasses(mod, x->pipeline, x->pass_tm, po), "LLVMRunPasses");
    LLVMDisposePassBuilderOptions(po);
    if (!passed) {
        LLVMDisposeModule(mod);
        goto done;
    }
    double c2 = now_ms(CLOCK_THREAD_CPUTIME_ID), w2 = now_ms(CLOCK_MONOTONIC);
    LLVMOrcThreadSafeModuleRef tsm = LLVMOrcCreateNewThreadSafeModule(mod, tsc);
    /* the JIT owns the module from here on, even when adding it fails */
    if (!check(LLVMOrcLLJITAddLLVMIRModule(x->j, LLVMOrcLLJITGetMainJITDylib(x->j), tsm),
               "adding the module"))
        goto done;
    ok = true;
    for (unsigned i = 0; i < nsyms && ok; i++) {
        LLVMOrcExecutorAddress addr = 0;
        ok = check(LLVMOrcLLJITLookup(x->j, &addr, syms[i]), syms[i]) && addr != 0;
    }
    double c3 = now_ms(CLOCK_THREAD_CPUTIME_ID), w3 = now_ms(CLOCK_MONOTONIC);
    out[0] = (cost){c1 - c0, w1 - w0};
    out[1] = (cost){c2 - c1, w2 - w1};
    out[2] = (cost){c3 - c2, w3 - w2};
done:
    LLVMOrcDisposeThreadSafeContext(tsc); /* the module keeps its own reference */
    return ok;
}

/* Symbols of the functions defined in a batch: the names after "#define FWE_NF ". */
static unsigned find_syms(const char *src, char ***out)
{
    unsigned n = 0, cap = 0;
    char **v = NULL;
    for (const char *p = strstr(src, "#define FWE_NF "); p; p = strstr(p + 1, "#define FWE_NF ")) {
        p += strlen("#define FWE_NF ");
        size_t len = strcspn(p, "\n");
        if (n == cap) {
            cap = cap ? cap * 2 : 16;
            char **nv = realloc(v, cap * sizeof *nv);
            if (!nv)
                break;
            v = nv;
        }
        v[n] = strndup(p, len);
        if (v[n])
            n++;
    }
    *out = v;
    return n;
}

static void add(cost *t, cost c)
{
    t->cpu_ms += c.cpu_ms;
    t->wall_ms += c.wall_ms;
}

/* Measures every candidate on one C file `c` (prelude + functions); adds into `t`. */
static void measure(const opts *o, const char *dir, const char *c, size_t bytes, char *const *syms,
                    unsigned nsyms, jit *j1, jit *j2, totals *t, const char *label)
{
    char bc[1200], so[1200];
    snprintf(bc, sizeof bc, "%s/u.bc", dir);
    snprintf(so, sizeof so, "%s/u.so", dir);
    cost r[NCOL];
    memset(r, 0, sizeof r);
    bool ok = true;
    /* -O2 with LLVM's passes off: IR as clang -O2 hands it to the optimiser (TBAA, lifetime
     * markers); -fe-O0 asks for -O0 IR (no optnone, so the passes still run) instead */
    char *fe[] = {(char *)o->clang,
                  o->fe_O0 ? "-O0" : "-O2",
                  "-Xclang",
                  o->fe_O0 ? "-disable-O0-optnone" : "-disable-llvm-passes",
                  "-emit-llvm",
                  "-c",
                  TIER_FLAGS,
                  "-o",
                  bc,
                  (char *)c,
                  NULL};
    r[FE] = run_proc(fe);
    ok = r[FE].cpu_ms >= 0;
    ok = ok && jit_unit(j1, bc, syms, nsyms, &r[PARSE1]);
    ok = ok && jit_unit(j2, bc, syms, nsyms, &r[PARSE2]);
    char *gcc2[] = {(char *)o->cc, "-O2", "-shared", TIER_FLAGS, "-o", so, (char *)c, "-lm", NULL};
    char *clang2[] = {(char *)o->clang, "-O2", "-shared", TIER_FLAGS, "-o", so,
                      (char *)c,        "-lm", NULL};
    char *gccsyn[] = {(char *)o->cc, "-fsyntax-only", TIER_FLAGS, (char *)c, NULL};
    char *gcc0[] = {(char *)o->cc, "-O0", "-shared", TIER_FLAGS, "-o", so, (char *)c, "-lm", NULL};
    r[GCC2] = run_proc(gcc2);
    r[CLANG2] = run_proc(clang2);
    r[GCCSYN] = run_proc(gccsyn);
    r[GCC0] = run_proc(gcc0);
    for (int i = GCC2; i < NCOL; i++)
        ok = ok && r[i].cpu_ms >= 0;
    unlink(bc);
    unlink(so);
    if (!ok) {
        fprintf(stderr, "spike-orc: %s failed in some stage; left out\n", label);
        t->failures++;
        return;
    }
    for (int i = 0; i < NCOL; i++)
        add(&t->c[i], r[i]);
    t->units++;
    t->bytes += bytes;
    if (o->verbose) {
        printf("%-44s %8zu", label, bytes);
        for (int i = 0; i < NCOL; i++)
            printf(" %9.1f", r[i].cpu_ms);
        printf("\n");
    }
}

static void print_header(void)
{
    printf("%-44s %8s", "unit (CPU ms per stage)", "C bytes");
    for (int i = 0; i < NCOL; i++)
        printf(" %9s", col_name[i]);
    printf("\n");
}

static void print_totals(const char *what, const totals *t)
{
    if (!t->units)
        return;
    printf("%-44s %8zu", what, t->bytes);
    for (int i = 0; i < NCOL; i++)
        printf(" %9.1f", t->c[i].cpu_ms);
    printf("\n%-44s %8s", "  wall ms", "");
    for (int i = 0; i < NCOL; i++)
        printf(" %9.1f", t->c[i].wall_ms);
    double fe = t->c[FE].cpu_ms;
    double orc1 = fe + t->c[PARSE1].cpu_ms + t->c[PASS1].cpu_ms + t->c[JIT1].cpu_ms;
    double orc2 = fe + t->c[PARSE2].cpu_ms + t->c[PASS2].cpu_ms + t->c[JIT2].cpu_ms;
    printf("\n  %u units%s; CPU ms per unit: ORC O1 (front end + in-process) %.1f, ORC O2 %.1f, "
           "in-process only O1 %.1f / O2 %.1f, cc -O2 %.1f, clang -O2 %.1f, cc -fsyntax-only "
           "%.1f, cc -O0 %.1f\n",
           t->units, t->failures ? " (some failed, see above)" : "", orc1 / t->units,
           orc2 / t->units, (orc1 - fe) / t->units, (orc2 - fe) / t->units,
           t->c[GCC2].cpu_ms / t->units, t->c[CLANG2].cpu_ms / t->units,
           t->c[GCCSYN].cpu_ms / t->units, t->c[GCC0].cpu_ms / t->units);
}

static void usage(void)
{
    fprintf(stderr,
            "usage: spike-orc [-f] [-b] [-v] [-every N] [-clang PATH] [-cc PATH] BATCH.c...\n"
            "  -f  each function on its own   -b  each batch as one unit (default: both)\n"
            "  -v  one line per unit          -every N  per function: every Nth only\n"
            "  -fe-O0  clang's IR at -O0 (default: -O2 -Xclang -disable-llvm-passes)\n");
}

int main(int argc, char **argv)
{
    opts o = {.clang = "clang-14", .cc = "cc", .every = 1};
    unsigned nth = 0; /* functions seen, for -every */
    enum { MAX_SEEN = 100000 };
    static char *seen_syms[MAX_SEEN];
    unsigned nseen = 0;
    int i = 1;
    for (; i < argc && argv[i][0] == '-'; i++) {
        if (!strcmp(argv[i], "-f"))
            o.per_function = true;
        else if (!strcmp(argv[i], "-b"))
            o.batches = true;
        else if (!strcmp(argv[i], "-v"))
            o.verbose = true;
        else if (!strcmp(argv[i], "-fe-O0"))
            o.fe_O0 = true;
        else if (!strcmp(argv[i], "-clang") && i + 1 < argc)
            o.clang = argv[++i];
        else if (!strcmp(argv[i], "-cc") && i + 1 < argc)
            o.cc = argv[++i];
        else if (!strcmp(argv[i], "-every") && i + 1 < argc) {
            char *end;
            unsigned long v = strtoul(argv[++i], &end, 10);
            if (*end || v == 0 || v > 100000) {
                fprintf(stderr, "spike-orc: -every wants a count from 1 to 100000, not %s\n",
                        argv[i]);
                return 2;
            }
            o.every = (unsigned)v;
        } else {
            fprintf(stderr, "spike-orc: unknown option %s\n", argv[i]);
            usage();
            return 2;
        }
    }
    if (i == argc) {
        usage();
        return 2;
    }
    setvbuf(stdout, NULL, _IOLBF, 0); /* progress shows while a long run goes on */
    if (!o.per_function && !o.batches)
        o.per_function = o.batches = true;

    LLVMInitializeNativeTarget();
    LLVMInitializeNativeAsmPrinter();
    jit jf1, jf2, jb1, jb2;
    double ms[4];
    if (!jit_new(&jf1, LLVMCodeGenLevelLess, "default<O1>", &ms[0]) ||
        !jit_new(&jf2, LLVMCodeGenLevelDefault, "default<O2>", &ms[1]) ||
        !jit_new(&jb1, LLVMCodeGenLevelLess, "default<O1>", &ms[2]) ||
        !jit_new(&jb2, LLVMCodeGenLevelDefault, "default<O2>", &ms[3]))
        return 1;
    printf("spike-orc: LLVM %s, clang %s, cc %s; creating one LLJIT: %.1f ms CPU\n",
           LLVM_VERSION_STRING, o.clang, o.cc, ms[0]);
    printf("columns: clang-14 %s -emit-llvm (process) | O1: parse, default<O1>, LLJIT add+lookup "
           "(codegen -O1) | O2: the same at O2 | processes: cc -O2 -shared, clang-14 -O2 -shared, "
           "cc -fsyntax-only, cc -O0 -shared\n",
           o.fe_O0 ? "-O0 -Xclang -disable-O0-optnone" : "-O2 -Xclang -disable-llvm-passes");
    char dir[] = "/tmp/spike-orc-XXXXXX";
    if (!mkdtemp(dir)) {
        fprintf(stderr, "spike-orc: mkdtemp: %s\n", strerror(errno));
        return 1;
    }
    totals tf = {0}, tb = {0}, tp = {0};
    print_header();
    for (; i < argc; i++) {
        char *src;
        size_t len;
        if (!read_all(argv[i], &src, &len)) {
            fprintf(stderr, "spike-orc: cannot read %s: %s\n", argv[i], strerror(errno));
            continue;
        }
        char **syms;
        unsigned nsyms = find_syms(src, &syms);
        const char *first = strstr(src, "#define FWE_NF ");
        if (!nsyms || !first) {
            fprintf(stderr, "spike-orc: %s: no generated functions (#define FWE_NF)\n", argv[i]);
            free(src);
            continue;
        }
        if (!tp.units && !tp.failures) {
            /* fixed cost: the prelude alone (process start, headers, the ABI structs) */
            char ppath[1200];
            snprintf(ppath, sizeof ppath, "%s/p.c", dir);
            if (write_all(ppath, src, (size_t)(first - src), "", 0))
                measure(&o, dir, ppath, 0, NULL, 0, &jb1, &jb2, &tp, "prelude only (fixed cost)");
            unlink(ppath);
        }
        const char *base = strrchr(argv[i], '/');
        base = base ? base + 1 : argv[i];
        if (o.per_function) {
            size_t plen = (size_t)(first - src);
            char fpath[1200];
            snprintf(fpath, sizeof fpath, "%s/f.c", dir);
            const char *p = first;
            for (unsigned k = 0; k < nsyms; k++) {
                const char *end = strstr(p, "#undef FWE_NF\n");
                if (!end)
                    break;
                end += strlen("#undef FWE_NF\n");
                char label[200];
                snprintf(label, sizeof label, "  %.12s %.20s", base, syms[k]);
                /* a function in two batches (same generated C) is measured once */
                bool seen = false;
                for (unsigned q = 0; q < nseen && !seen; q++)
                    seen = !strcmp(seen_syms[q], syms[k]);
                if (!seen && nseen < MAX_SEEN)
                    seen_syms[nseen++] = strdup(syms[k]);
                if (!seen && nth++ % o.every == 0 &&
                    write_all(fpath, src, plen, p, (size_t)(end - p)))
                    measure(&o, dir, fpath, (size_t)(end - p), &syms[k], 1, &jf1, &jf2, &tf, label);
                p = end;
            }
            unlink(fpath);
        }
        if (o.batches) {
            /* a fresh JIT per batch: batches may share functions (identical generated C) */
            jit_free(&jb1);
            jit_free(&jb2);
            if (!jit_new(&jb1, LLVMCodeGenLevelLess, "default<O1>", &ms[2]) ||
                !jit_new(&jb2, LLVMCodeGenLevelDefault, "default<O2>", &ms[3]))
                return 1;
            char label[200];
            snprintf(label, sizeof label, "%.30s (%u fns)", base, nsyms);
            measure(&o, dir, argv[i], len, syms, nsyms, &jb1, &jb2, &tb, label);
        }
        for (unsigned k = 0; k < nsyms; k++)
            free(syms[k]);
        free(syms);
        free(src);
    }
    rmdir(dir);
    printf("\n");
    print_header();
    print_totals("prelude only (fixed cost)", &tp);
    print_totals("per function, total", &tf);
    print_totals("per batch, total", &tb);
    jit_free(&jf1);
    jit_free(&jf2);
    jit_free(&jb1);
    jit_free(&jb2);
    return 0;
}
