/* harness.h: a tiny header-only unit-test harness (one test binary per source file).
 * TEST(name) defines a test; CHECK* record a failure with file:line and keep going;
 * HARNESS_MAIN(RUN(a); RUN(b);) defines main(), which ends with
 * "<program>: N passed, N failed" and exits non-zero if any test failed. */
#ifndef FASTLIKE_TEST_HARNESS_H
#define FASTLIKE_TEST_HARNESS_H

#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if defined(__GNUC__)
#define HARNESS_UNUSED __attribute__((unused))
#else
#define HARNESS_UNUSED
#endif

/* Per-binary counters: each test binary includes this header once (static is fine). */
static int harness_passed HARNESS_UNUSED;
static int harness_failed HARNESS_UNUSED;
static int harness_cur_failed HARNESS_UNUSED; /* failures inside the running test */
static const char *harness_cur_name HARNESS_UNUSED;

HARNESS_UNUSED static void harness_fail_head(const char *file, int line)
{
    if (harness_cur_failed == 0)
        fprintf(stderr, "FAIL %s\n", harness_cur_name ? harness_cur_name : "?");
    harness_cur_failed++;
    fprintf(stderr, "  %s:%d: ", file, line);
}

/* The whole file at `path` in a fresh allocation (at least one byte, so an empty file is not
 * NULL), its length in *len; NULL when it cannot be read. */
HARNESS_UNUSED static uint8_t *harness_read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *b = n >= 0 ? malloc(n > 0 ? (size_t)n : 1) : NULL;
    if (b && fread(b, 1, (size_t)n, f) != (size_t)n) {
        free(b);
        b = NULL;
    }
    fclose(f);
    *len = n > 0 ? (size_t)n : 0;
    return b;
}

#define TEST(name) static void test_##name(void)

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            harness_fail_head(__FILE__, __LINE__);                                                 \
            fprintf(stderr, "CHECK(%s)\n", #cond);                                                 \
        }                                                                                          \
    } while (0)

#define CHECK_EQ_INT(a, b)                                                                         \
    do {                                                                                           \
        long long harness_a_ = (long long)(a), harness_b_ = (long long)(b);                        \
        if (harness_a_ != harness_b_) {                                                            \
            harness_fail_head(__FILE__, __LINE__);                                                 \
            fprintf(stderr, "CHECK_EQ_INT(%s, %s): %lld != %lld\n", #a, #b, harness_a_,            \
                    harness_b_);                                                                   \
        }                                                                                          \
    } while (0)

#define CHECK_EQ_U64(a, b)                                                                         \
    do {                                                                                           \
        uint64_t harness_a_ = (uint64_t)(a), harness_b_ = (uint64_t)(b);                           \
        if (harness_a_ != harness_b_) {                                                            \
            harness_fail_head(__FILE__, __LINE__);                                                 \
            fprintf(stderr,                                                                        \
                    "CHECK_EQ_U64(%s, %s): %" PRIu64 " (0x%" PRIx64 ") != %" PRIu64 " (0x%" PRIx64 \
                    ")\n",                                                                         \
                    #a, #b, harness_a_, harness_a_, harness_b_, harness_b_);                       \
        }                                                                                          \
    } while (0)

#define CHECK_STR_EQ(a, b)                                                                         \
    do {                                                                                           \
        const char *harness_a_ = (a), *harness_b_ = (b);                                           \
        if (!harness_a_ || !harness_b_ || strcmp(harness_a_, harness_b_) != 0) {                   \
            harness_fail_head(__FILE__, __LINE__);                                                 \
            fprintf(stderr, "CHECK_STR_EQ(%s, %s): \"%s\" != \"%s\"\n", #a, #b,                    \
                    harness_a_ ? harness_a_ : "(null)", harness_b_ ? harness_b_ : "(null)");       \
        }                                                                                          \
    } while (0)

#define CHECK_STR_CONTAINS(hay, needle)                                                            \
    do {                                                                                           \
        const char *harness_h_ = (hay), *harness_n_ = (needle);                                    \
        if (!harness_h_ || !harness_n_ || strstr(harness_h_, harness_n_) == NULL) {                \
            harness_fail_head(__FILE__, __LINE__);                                                 \
            fprintf(stderr, "CHECK_STR_CONTAINS(%s, %s): \"%s\" does not contain \"%s\"\n", #hay,  \
                    #needle, harness_h_ ? harness_h_ : "(null)",                                   \
                    harness_n_ ? harness_n_ : "(null)");                                           \
        }                                                                                          \
    } while (0)

/* Run one test; a test passes when it recorded no failure. */
#define RUN(name)                                                                                  \
    do {                                                                                           \
        const char *harness_only_ = getenv("HARNESS_ONLY"); /* run just the test of that name */   \
        if (harness_only_ && harness_only_[0] && strcmp(harness_only_, #name) != 0)                \
            break;                                                                                 \
        harness_cur_name = #name;                                                                  \
        harness_cur_failed = 0;                                                                    \
        test_##name();                                                                             \
        if (harness_cur_failed)                                                                    \
            harness_failed++;                                                                      \
        else                                                                                       \
            harness_passed++;                                                                      \
        harness_cur_name = NULL;                                                                   \
    } while (0)

/* Print the summary line; returns the exit status for main(). */
HARNESS_UNUSED static int harness_finish(const char *argv0)
{
    const char *suite = argv0 ? argv0 : "unit";
    const char *slash = strrchr(suite, '/');
    if (slash)
        suite = slash + 1;
    fflush(stderr);
    printf("%s: %d passed, %d failed\n", suite, harness_passed, harness_failed);
    fflush(stdout);
    return harness_failed ? 1 : 0;
}

/* HARNESS_MAIN(RUN(a); RUN(b);) defines main(). Or write main() yourself: call RUN(...)
 * and `return harness_finish(argv[0]);`. */
#define HARNESS_MAIN(...)                                                                          \
    int main(int argc, char **argv)                                                                \
    {                                                                                              \
        (void)argc;                                                                                \
        __VA_ARGS__;                                                                               \
        return harness_finish(argv[0]);                                                            \
    }

#endif
