/* bench_instantiate.c: how fast the engine loads and instantiates guests, through fwe.h only.
 * Each figure is printed beside a "naive full-copy" baseline measured in the same run: mmap fresh
 * anonymous memory the size of the guest's initial linear memory, memcpy its initial image into it,
 * munmap it (the naive "copy" case). That is what a
 * per-request instance costs if it copies memory wholesale; the engine should beat it.
 * usage: bench-instantiate JS.wasm [C.wasm] [-n ITERATIONS] */
#include "fwe.h"
#include "wasi/wasi.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#define PAGE 65536u

static double now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, size_t n)
{
    qsort(v, n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static uint8_t *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    uint8_t *buf = NULL;
    long size;
    if (!f)
        return NULL;
    if (fseek(f, 0, SEEK_END) != 0 || (size = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0)
        goto out;
    buf = malloc(size ? (size_t)size : 1);
    if (buf && fread(buf, 1, (size_t)size, f) != (size_t)size) {
        free(buf);
        buf = NULL;
    }
    *len = (size_t)size;
out:
    fclose(f);
    return buf;
}

/* The naive baseline: median over n of mmap(size) + memcpy(image) + munmap, in microseconds.
 * mmap rather than malloc so that every round pays for fresh pages, as a new instance would (glibc
 * would otherwise recycle the same warm heap pages). */
static double naive_copy_us(const uint8_t *image, size_t size, double *samples, size_t n)
{
    if (size == 0)
        size = 1;
    for (size_t i = 0; i < n; i++) {
        double t0 = now_us();
        uint8_t *copy =
            mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (copy == MAP_FAILED)
            return -1;
        memcpy(copy, image, size);
        /* keep the copy observable so the compiler cannot drop it */
        __asm__ volatile("" : : "r"(copy) : "memory");
        munmap(copy, size);
        samples[i] = now_us() - t0;
    }
    return median(samples, n);
}

typedef struct guest {
    const char *label;
    const char *path;
    uint8_t *bytes;
    size_t len;
    fwe_module *module;
    double load_us; /* median of the load runs */
} guest;

static int load_guest(fwe_engine *engine, guest *g, int runs)
{
    char err[512] = "";
    double samples[16];
    if (runs > 16)
        runs = 16;
    g->bytes = read_file(g->path, &g->len);
    if (!g->bytes) {
        fprintf(stderr, "bench-instantiate: cannot read %s\n", g->path);
        return -1;
    }
    for (int i = 0; i < runs; i++) {
        fwe_module *m = NULL;
        double t0 = now_us();
        fwe_status st = fwe_module_load(engine, g->bytes, g->len, &m, err, sizeof err);
        samples[i] = now_us() - t0;
        if (st != FWE_OK) {
            fprintf(stderr, "bench-instantiate: loading %s: %s: %s\n", g->path, fwe_strerror(st),
                    err);
            return -1;
        }
        if (i == runs - 1)
            g->module = m;
        else
            fwe_module_free(m);
    }
    g->load_us = median(samples, (size_t)runs);
    return 0;
}

/* Times n instantiate + free pairs of g and prints them beside the naive baseline. */
static int bench_instantiate(fwe_linker *linker, guest *g, const char *label, size_t n,
                             double *samples)
{
    fwe_trap trap;
    fwe_instance *inst = NULL;
    uint8_t *image = NULL;
    size_t mem_bytes = 0;
    int rc = -1;

    memset(&trap, 0, sizeof trap);
    fwe_status st = fwe_instantiate(linker, g->module, NULL, &inst, &trap);
    if (st != FWE_OK) {
        fprintf(stderr, "bench-instantiate: instantiating %s: %s: %s\n", g->path, fwe_strerror(st),
                trap.message);
        return -1;
    }
    /* The initial image is the first instance's memory 0, copied out before any call runs. */
    fwe_memory *mem = fwe_instance_memory(inst, 0);
    if (mem) {
        mem_bytes = (size_t)fwe_memory_size(mem);
        image = calloc(1, mem_bytes ? mem_bytes : 1);
        if (image && mem_bytes)
            memcpy(image, fwe_memory_data(mem), mem_bytes);
    } else {
        image = calloc(1, 1);
    }
    fwe_instance_free(inst);
    if (!image)
        goto out;

    for (size_t i = 0; i < n; i++) {
        double t0 = now_us();
        st = fwe_instantiate(linker, g->module, NULL, &inst, &trap);
        if (st != FWE_OK) {
            fprintf(stderr, "bench-instantiate: instantiating %s (run %zu): %s\n", g->path, i,
                    fwe_strerror(st));
            goto out;
        }
        fwe_instance_free(inst);
        samples[i] = now_us() - t0;
    }
    double inst_us = median(samples, n);
    double base_us = naive_copy_us(image, mem_bytes, samples, n);
    printf("%-14s %10.1f us   naive-copy %10.1f us (%zu pages)   ratio %.3f\n", label, inst_us,
           base_us, mem_bytes / PAGE, base_us > 0 ? inst_us / base_us : 0.0);
    rc = 0;
out:
    free(image);
    return rc;
}

int main(int argc, char **argv)
{
    guest js = {.label = "js"}, c = {.label = "c"};
    size_t n = 1000;
    int status = 1;
    fwe_engine *engine = NULL;
    fwe_linker *linker = NULL;
    wasi_ctx *wasi = NULL;
    double *samples = NULL;

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "-n") == 0 && i + 1 < argc) {
            n = strtoul(argv[++i], NULL, 10);
        } else if (!js.path) {
            js.path = argv[i];
        } else if (!c.path) {
            c.path = argv[i];
        } else {
            fprintf(stderr, "usage: %s JS.wasm [C.wasm] [-n ITERATIONS]\n", argv[0]);
            return 2;
        }
    }
    if (!js.path || n == 0) {
        fprintf(stderr, "usage: %s JS.wasm [C.wasm] [-n ITERATIONS]\n", argv[0]);
        return 2;
    }
    samples = malloc(n * sizeof *samples);
    engine = fwe_engine_new();
    linker = engine ? fwe_linker_new(engine) : NULL;
    const char *wargv[] = {"guest"};
    wasi = wasi_ctx_new(1, wargv, 0, NULL, -1, -1, -1);
    if (!samples || !linker || !wasi) {
        fprintf(stderr, "bench-instantiate: out of memory\n");
        goto out;
    }
    fwe_linker_allow_missing_imports(linker, true);
    if (wasi_define(linker, wasi) != FWE_OK)
        fprintf(stderr, "bench-instantiate: wasi_define failed; WASI imports become stubs\n");

    /* Each guest is measured independently: a failure is reported and the others still run. */
    int failed = 0;
    if (load_guest(engine, &js, 5) == 0) {
        /* Baseline for loading: one copy of the file bytes (the engine must at least read them). */
        double copy_us = naive_copy_us(js.bytes, js.len, samples, n < 100 ? n : 100);
        printf("%-14s %10.1f us   naive-copy %10.1f us (%zu bytes of wasm)   ratio %.1f\n",
               "load-js", js.load_us, copy_us, js.len, copy_us > 0 ? js.load_us / copy_us : 0.0);
        if (bench_instantiate(linker, &js, "instantiate", n, samples) != 0)
            failed = 1;
    } else {
        printf("%-14s FAILED (see above)\n", "load-js");
        failed = 1;
    }
    if (c.path) {
        if (load_guest(engine, &c, 5) != 0 ||
            bench_instantiate(linker, &c, "instantiate-c", n, samples) != 0) {
            printf("%-14s FAILED (see above)\n", "instantiate-c");
            failed = 1;
        }
    }
    if (failed)
        goto out;
    status = 0;
out:
    fwe_module_free(js.module);
    fwe_module_free(c.module);
    free(js.bytes);
    free(c.bytes);
    fwe_linker_free(linker);
    wasi_ctx_free(wasi);
    if (engine)
        fwe_engine_free(engine);
    free(samples);
    return status;
}
