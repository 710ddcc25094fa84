/* spike_gccjit.c: issue 13's libgccjit estimate. libgccjit has no C front end, so a generator
 * would build gcc's IR through its API. This builds two kernels by hand (fib: calls; sieve: a byte
 * loop), compiles them in-process at -O1/-O2 and times it, then compiles the same kernels written
 * as C with `cc -O2 -shared` (and -fsyntax-only) as processes, and runs both versions. */
#include <dlfcn.h>
#include <errno.h>
#include <libgccjit.h>
#include <spawn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

typedef unsigned (*fib_fn)(unsigned);
typedef unsigned (*sieve_fn)(unsigned char *, unsigned);

#define SIEVE_N 8000000u

/* The same two kernels as C (what the C path compiles). */
static const char kernels_c[] =
    "unsigned long long calls;\n"
    "unsigned fib(unsigned n){calls++;if(n<2)return n;return fib(n-1)+fib(n-2);}\n"
    "unsigned sieve(unsigned char*f,unsigned n){unsigned i,j,c=0;\n"
    " for(i=0;i<=n;i++)f[i]=1;f[0]=f[1]=0;\n"
    " for(i=2;i*i<=n;i++)if(f[i])for(j=i*i;j<=n;j+=i)f[j]=0;\n"
    " for(i=0;i<=n;i++)c+=f[i];return c;}\n";

static double now_ms(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* Runs argv; returns its CPU ms (user + system), or -1 on failure. */
static double run_proc(char *const argv[])
{
    pid_t pid;
    int rc = posix_spawnp(&pid, argv[0], NULL, NULL, argv, environ);
    if (rc != 0) {
        fprintf(stderr, "spike-gccjit: cannot run %s: %s\n", argv[0], strerror(rc));
        return -1;
    }
    int status = 0;
    struct rusage ru;
    while (wait4(pid, &status, 0, &ru) < 0)
        if (errno != EINTR)
            return -1;
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        return -1;
    return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e3 +
           (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e3;
}

/* fib(n) { calls++; if (n < 2) return n; return fib(n-1) + fib(n-2); } */
static void build_fib(gcc_jit_context *c)
{
    gcc_jit_type *u32 = gcc_jit_context_get_type(c, GCC_JIT_TYPE_UNSIGNED_INT);
    gcc_jit_type *u64 = gcc_jit_context_get_type(c, GCC_JIT_TYPE_UNSIGNED_LONG_LONG);
    gcc_jit_lvalue *calls =
        gcc_jit_context_new_global(c, NULL, GCC_JIT_GLOBAL_EXPORTED, u64, "calls");
    gcc_jit_param *n = gcc_jit_context_new_param(c, NULL, u32, "n");
    gcc_jit_function *fib =
        gcc_jit_context_new_function(c, NULL, GCC_JIT_FUNCTION_EXPORTED, u32, "fib", 1, &n, 0);
    gcc_jit_block *entry = gcc_jit_function_new_block(fib, "entry");
    gcc_jit_block *small = gcc_jit_function_new_block(fib, "small");
    gcc_jit_block *rec = gcc_jit_function_new_block(fib, "rec");
    gcc_jit_rvalue *nv = gcc_jit_param_as_rvalue(n);
    gcc_jit_block_add_assignment_op(entry, NULL, calls, GCC_JIT_BINARY_OP_PLUS,
                                    gcc_jit_context_one(c, u64));
    gcc_jit_rvalue *two = gcc_jit_context_new_rvalue_from_int(c, u32, 2);
    gcc_jit_block_end_with_conditional(
        entry, NULL, gcc_jit_context_new_comparison(c, NULL, GCC_JIT_COMPARISON_LT, nv, two), small,
        rec);
    gcc_jit_block_end_with_return(small, NULL, nv);
    gcc_jit_rvalue *a1 = gcc_jit_context_new_binary_op(c, NULL, GCC_JIT_BINARY_OP_MINUS, u32, nv,
                                                       gcc_jit_context_one(c, u32));
    gcc_jit_rvalue *a2 =
        gcc_jit_context_new_binary_op(c, NULL, GCC_JIT_BINARY_OP_MINUS, u32, nv, two);
    gcc_jit_rvalue *r1 = gcc_jit_context_new_call(c, NULL, fib, 1, &a1);
    gcc_jit_rvalue *r2 = gcc_jit_context_new_call(c, NULL, fib, 1, &a2);
    gcc_jit_block_end_with_return(
        rec, NULL, gcc_jit_context_new_binary_op(c, NULL, GCC_JIT_BINARY_OP_PLUS, u32, r1, r2));
}

/* A counted loop `for (v = from; v <= limit; v += step) body` appended at *cur, which moves on to
 * the block after the loop; `body` gets the block to fill and returns the block it ended in. */
typedef gcc_jit_block *(*body_fn)(gcc_jit_context *c, gcc_jit_function *fn, gcc_jit_block *b,
                                  void *arg);
static void counted_loop(gcc_jit_context *c, gcc_jit_function *fn, gcc_jit_block **cur,
                         gcc_jit_lvalue *v, gcc_jit_rvalue *from, gcc_jit_rvalue *limit,
                         gcc_jit_rvalue *step, body_fn body, void *arg, const char *name)
{
    char nm[64];
    snprintf(nm, sizeof nm, "%s_head", name);
    gcc_jit_block *head = gcc_jit_function_new_block(fn, nm);
    snprintf(nm, sizeof nm, "%s_body", name);
    gcc_jit_block *bb = gcc_jit_function_new_block(fn, nm);
    snprintf(nm, sizeof nm, "%s_after", name);
    gcc_jit_block *after = gcc_jit_function_new_block(fn, nm);
    gcc_jit_block_add_assignment(*cur, NULL, v, from);
    gcc_jit_block_end_with_jump(*cur, NULL, head);
    gcc_jit_block_end_with_conditional(
        head, NULL,
        gcc_jit_context_new_comparison(c, NULL, GCC_JIT_COMPARISON_LE, gcc_jit_lvalue_as_rvalue(v),
                                       limit),
        bb, after);
    gcc_jit_block *end = body(c, fn, bb, arg);
    gcc_jit_block_add_assignment_op(end, NULL, v, GCC_JIT_BINARY_OP_PLUS, step);
    gcc_jit_block_end_with_jump(end, NULL, head);
    *cur = after;
}

typedef struct sieve_vars {
    gcc_jit_rvalue *f;
    gcc_jit_lvalue *i, *j, *cnt;
    gcc_jit_rvalue *n;
} sieve_vars;

static gcc_jit_lvalue *elem(gcc_jit_context *c, sieve_vars *s, gcc_jit_lvalue *idx)
{
    return gcc_jit_context_new_array_access(c, NULL, s->f, gcc_jit_lvalue_as_rvalue(idx));
}

static gcc_jit_block *set_one(gcc_jit_context *c, gcc_jit_function *fn, gcc_jit_block *b, void *a)
{
    sieve_vars *s = a;
    gcc_jit_type *u8 = gcc_jit_context_get_type(c, GCC_JIT_TYPE_UNSIGNED_CHAR);
    gcc_jit_block_add_assignment(b, NULL, elem(c, s, s->i), gcc_jit_context_one(c, u8));
    return b;
}

static gcc_jit_block *clear_j(gcc_jit_context *c, gcc_jit_function *fn, gcc_jit_block *b, void *a)
{
    sieve_vars *s = a;
    gcc_jit_type *u8 = gcc_jit_context_get_type(c, GCC_JIT_TYPE_UNSIGNED_CHAR);
    gcc_jit_block_add_assignment(b, NULL, elem(c, s, s->j), gcc_jit_context_zero(c, u8));
    return b;
}

static gcc_jit_block *strike(gcc_jit_context *c, gcc_jit_function *fn, gcc_jit_block *b, void *a)
{
    sieve_vars *s = a;
    gcc_jit_type *u32 = gcc_jit_context_get_type(c, GCC_JIT_TYPE_UNSIGNED_INT);
    gcc_jit_type *u8 = gcc_jit_context_get_type(c, GCC_JIT_TYPE_UNSIGNED_CHAR);
    gcc_jit_block *inner = gcc_jit_function_new_block(fn, "strike_set");
    gcc_jit_block *next = gcc_jit_function_new_block(fn, "strike_next");
    gcc_jit_rvalue *fi = gcc_jit_lvalue_as_rvalue(elem(c, s, s->i));
    gcc_jit_block_end_with_conditional(b, NULL,
                                       gcc_jit_context_new_comparison(c, NULL,
                                                                      GCC_JIT_COMPARISON_NE, fi,
                                                                      gcc_jit_context_zero(c, u8)),
                                       inner, next);
    gcc_jit_rvalue *iv = gcc_jit_lvalue_as_rvalue(s->i);
    gcc_jit_rvalue *sq =
        gcc_jit_context_new_binary_op(c, NULL, GCC_JIT_BINARY_OP_MULT, u32, iv, iv);
    counted_loop(c, fn, &inner, s->j, sq, s->n, iv, clear_j, s, "j");
    gcc_jit_block_end_with_jump(inner, NULL, next);
    return next;
}

static gcc_jit_block *count(gcc_jit_context *c, gcc_jit_function *fn, gcc_jit_block *b, void *a)
{
    sieve_vars *s = a;
    gcc_jit_type *u32 = gcc_jit_context_get_type(c, GCC_JIT_TYPE_UNSIGNED_INT);
    gcc_jit_block_add_assignment_op(
        b, NULL, s->cnt, GCC_JIT_BINARY_OP_PLUS,
        gcc_jit_context_new_cast(c, NULL, gcc_jit_lvalue_as_rvalue(elem(c, s, s->i)), u32));
    return b;
}

/* sieve(f, n): f[0..n] = 1; f[0] = f[1] = 0; strike multiples; return the count of ones. The
 * strike loop runs while i*i <= n: the loop limit is tested as i <= n / i, the same condition. */
static void build_sieve(gcc_jit_context *c)
{
    gcc_jit_type *u32 = gcc_jit_context_get_type(c, GCC_JIT_TYPE_UNSIGNED_INT);
    gcc_jit_type *u8 = gcc_jit_context_get_type(c, GCC_JIT_TYPE_UNSIGNED_CHAR);
    gcc_jit_param *p[2] = {gcc_jit_context_new_param(c, NULL, gcc_jit_type_get_pointer(u8), "f"),
                           gcc_jit_context_new_param(c, NULL, u32, "n")};
    gcc_jit_function *fn =
        gcc_jit_context_new_function(c, NULL, GCC_JIT_FUNCTION_EXPORTED, u32, "sieve", 2, p, 0);
    sieve_vars s = {.f = gcc_jit_param_as_rvalue(p[0]),
                    .n = gcc_jit_param_as_rvalue(p[1]),
                    .i = gcc_jit_function_new_local(fn, NULL, u32, "i"),
                    .j = gcc_jit_function_new_local(fn, NULL, u32, "j"),
                    .cnt = gcc_jit_function_new_local(fn, NULL, u32, "c")};
    gcc_jit_block *b = gcc_jit_function_new_block(fn, "entry");
    gcc_jit_rvalue *zero = gcc_jit_context_zero(c, u32), *one = gcc_jit_context_one(c, u32);
    counted_loop(c, fn, &b, s.i, zero, s.n, one, set_one, &s, "fill");
    gcc_jit_block_add_assignment(b, NULL, gcc_jit_context_new_array_access(c, NULL, s.f, zero),
                                 gcc_jit_context_zero(c, u8));
    gcc_jit_block_add_assignment(b, NULL, gcc_jit_context_new_array_access(c, NULL, s.f, one),
                                 gcc_jit_context_zero(c, u8));
    /* i*i <= n as the loop bound: limit = n / i is not loop-invariant, so test i*i directly */
    gcc_jit_block *head = gcc_jit_function_new_block(fn, "i_head");
    gcc_jit_block *body = gcc_jit_function_new_block(fn, "i_body");
    gcc_jit_block *after = gcc_jit_function_new_block(fn, "i_after");
    gcc_jit_block_add_assignment(b, NULL, s.i, gcc_jit_context_new_rvalue_from_int(c, u32, 2));
    gcc_jit_block_end_with_jump(b, NULL, head);
    gcc_jit_rvalue *iv = gcc_jit_lvalue_as_rvalue(s.i);
    gcc_jit_block_end_with_conditional(
        head, NULL,
        gcc_jit_context_new_comparison(
            c, NULL, GCC_JIT_COMPARISON_LE,
            gcc_jit_context_new_binary_op(c, NULL, GCC_JIT_BINARY_OP_MULT, u32, iv, iv), s.n),
        body, after);
    gcc_jit_block *end = strike(c, fn, body, &s);
    gcc_jit_block_add_assignment_op(end, NULL, s.i, GCC_JIT_BINARY_OP_PLUS, one);
    gcc_jit_block_end_with_jump(end, NULL, head);
    b = after;
    gcc_jit_block_add_assignment(b, NULL, s.cnt, zero);
    counted_loop(c, fn, &b, s.i, zero, s.n, one, count, &s, "count");
    gcc_jit_block_end_with_return(b, NULL, gcc_jit_lvalue_as_rvalue(s.cnt));
}

/* Runs fib(32), fib(33), fib(32) and 14 sieves; returns wall ms and writes the checksums. */
static double run_kernels(fib_fn fib, sieve_fn sieve, unsigned char *flags, unsigned *fsum,
                          unsigned *ssum)
{
    double t0 = now_ms(CLOCK_MONOTONIC);
    unsigned r = 0, total = 0;
    for (int i = 0; i < 3; i++)
        r = r * 31u + fib(32u + (unsigned)(i & 1));
    for (int rep = 0; rep < 14; rep++)
        total += sieve(flags, SIEVE_N);
    *fsum = r;
    *ssum = total;
    return now_ms(CLOCK_MONOTONIC) - t0;
}

int main(int argc, char **argv)
{
    const char *cc = argc > 1 ? argv[1] : "cc";
    unsigned char *flags = malloc(SIEVE_N + 1);
    if (!flags)
        return 1;
    printf("spike-gccjit: fib + sieve built with libgccjit's API vs the same C through %s\n", cc);
    gcc_jit_result *keep = NULL;
    fib_fn jfib = NULL;
    sieve_fn jsieve = NULL;
    for (int level = 1; level <= 2; level++) {
        double c0 = now_ms(CLOCK_PROCESS_CPUTIME_ID), w0 = now_ms(CLOCK_MONOTONIC);
        gcc_jit_context *c = gcc_jit_context_acquire();
        gcc_jit_context_set_int_option(c, GCC_JIT_INT_OPTION_OPTIMIZATION_LEVEL, level);
        build_fib(c);
        build_sieve(c);
        double c1 = now_ms(CLOCK_PROCESS_CPUTIME_ID);
        gcc_jit_result *res = gcc_jit_context_compile(c);
        double c2 = now_ms(CLOCK_PROCESS_CPUTIME_ID), w2 = now_ms(CLOCK_MONOTONIC);
        if (!res) {
            fprintf(stderr, "spike-gccjit: compile failed: %s\n",
                    gcc_jit_context_get_first_error(c));
            return 1;
        }
        gcc_jit_context_release(c);
        /* libgccjit runs the gcc driver to assemble and link a .so: that part is a child */
        printf("libgccjit -O%d: building the IR %.2f ms CPU, compile %.1f ms CPU in-process (%.1f "
               "ms wall incl. assembler/linker children)\n",
               level, c1 - c0, c2 - c1, w2 - w0);
        if (level == 2) {
            keep = res;
            jfib = (fib_fn)(uintptr_t)gcc_jit_result_get_code(res, "fib");
            jsieve = (sieve_fn)(uintptr_t)gcc_jit_result_get_code(res, "sieve");
        } else {
            gcc_jit_result_release(res);
        }
    }
    struct rusage ru;
    getrusage(RUSAGE_CHILDREN, &ru);
    printf("  children of libgccjit so far (as, ld): %.1f ms CPU\n",
           (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e3 +
               (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e3);

    char dir[] = "/tmp/spike-gccjit-XXXXXX";
    if (!mkdtemp(dir))
        return 1;
    char cpath[256], so[256];
    snprintf(cpath, sizeof cpath, "%s/k.c", dir);
    snprintf(so, sizeof so, "%s/k.so", dir);
    FILE *f = fopen(cpath, "w");
    if (!f || fputs(kernels_c, f) < 0 || fclose(f) != 0)
        return 1;
    char obj[256];
    snprintf(obj, sizeof obj, "%s/k.o", dir);
    char *syn[] = {(char *)cc, "-fsyntax-only", cpath, NULL};
    char *o2c[] = {(char *)cc, "-O2", "-fPIC", "-c", "-o", obj, cpath, NULL};
    char *o1[] = {(char *)cc, "-O1", "-fPIC", "-shared", "-o", so, cpath, NULL};
    char *o2[] = {(char *)cc, "-O2", "-fPIC", "-shared", "-o", so, cpath, NULL};
    double t_syn = run_proc(syn), t_o2c = run_proc(o2c), t_o1 = run_proc(o1), t_o2 = run_proc(o2);
    printf("%s as processes (CPU ms): -fsyntax-only %.1f, -O2 -c %.1f, -O1 -shared %.1f, "
           "-O2 -shared %.1f\n",
           cc, t_syn, t_o2c, t_o1, t_o2);
    unlink(obj);
    void *h = dlopen(so, RTLD_NOW | RTLD_LOCAL);
    unlink(so);
    unlink(cpath);
    rmdir(dir);
    if (!h || !jfib || !jsieve) {
        fprintf(stderr, "spike-gccjit: no code to run\n");
        return 1;
    }
    fib_fn cfib = (fib_fn)(uintptr_t)dlsym(h, "fib");
    sieve_fn csieve = (sieve_fn)(uintptr_t)dlsym(h, "sieve");
    if (!cfib || !csieve)
        return 1;
    unsigned jf, js, cf, cs;
    for (int round = 0; round < 2; round++) {
        double tj = run_kernels(jfib, jsieve, flags, &jf, &js);
        double tc = run_kernels(cfib, csieve, flags, &cf, &cs);
        printf("run %d: libgccjit -O2 code %.0f ms, %s -O2 code %.0f ms (fib checksum %u/%u, "
               "primes %u/%u)\n",
               round + 1, tj, cc, tc, jf, cf, js, cs);
        if (jf != cf || js != cs) {
            fprintf(stderr, "spike-gccjit: the two versions disagree\n");
            return 1;
        }
    }
    gcc_jit_result_release(keep);
    dlclose(h);
    free(flags);
    return 0;
}
