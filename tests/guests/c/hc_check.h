/* hc_check.h: checks for the hostcall test guests (tests/guests/c/hc_*.c). A failed check prints
 * "FAIL file:line ..." to stdout and the guest ends with "checks=N fails=M"; the unit tests in
 * tests/unit/hostcalls/ run the guests in-process and require fails=0. */
#ifndef HC_CHECK_H
#define HC_CHECK_H

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "fastly_hostcalls.h"

static int hc_checks, hc_fails;

/* A pointer past the end of any guest memory, and a misaligned one for u32/u64 out-params. */
#define BAD_PTR ((void *)0xFFFFFFF0u)
static uint64_t hc_aligned_scratch[4];
#define MISALIGNED ((void *)((char *)hc_aligned_scratch + 1))
#define BAD_HANDLE 0x7FFFFFu

#define ST_OK FASTLY_FASTLY_STATUS_OK
#define ST_ERROR FASTLY_FASTLY_STATUS_ERROR
#define ST_INVAL FASTLY_FASTLY_STATUS_INVAL
#define ST_BADF FASTLY_FASTLY_STATUS_BADF
#define ST_BUFLEN FASTLY_FASTLY_STATUS_BUFLEN
#define ST_UNSUPPORTED FASTLY_FASTLY_STATUS_UNSUPPORTED
#define ST_BADALIGN FASTLY_FASTLY_STATUS_BADALIGN
#define ST_NONE FASTLY_FASTLY_STATUS_NONE
#define ST_LIMITEXCEEDED FASTLY_FASTLY_STATUS_LIMITEXCEEDED
#define ST_AGAIN FASTLY_FASTLY_STATUS_AGAIN

#define EXPECT_ST(call, want)                                                                      \
    do {                                                                                           \
        int hc_r_ = (call);                                                                        \
        hc_checks++;                                                                               \
        if (hc_r_ != (want)) {                                                                     \
            hc_fails++;                                                                            \
            printf("FAIL %s:%d: %s = %d, want %d\n", __FILE__, __LINE__, #call, hc_r_, (want));    \
        }                                                                                          \
    } while (0)

#define EXPECT(cond)                                                                               \
    do {                                                                                           \
        hc_checks++;                                                                               \
        if (!(cond)) {                                                                             \
            hc_fails++;                                                                            \
            printf("FAIL %s:%d: %s\n", __FILE__, __LINE__, #cond);                                 \
        }                                                                                          \
    } while (0)

#define EXPECT_INT(a, b)                                                                           \
    do {                                                                                           \
        long long hc_a_ = (long long)(a), hc_b_ = (long long)(b);                                  \
        hc_checks++;                                                                               \
        if (hc_a_ != hc_b_) {                                                                      \
            hc_fails++;                                                                            \
            printf("FAIL %s:%d: %s = %lld, want %lld\n", __FILE__, __LINE__, #a, hc_a_, hc_b_);    \
        }                                                                                          \
    } while (0)

/* buf[0..len) equals the C string (which may contain \0 when given with its size). */
#define EXPECT_BYTES(buf, len, lit)                                                                \
    do {                                                                                           \
        size_t hc_l_ = sizeof(lit) - 1;                                                            \
        hc_checks++;                                                                               \
        if ((size_t)(len) != hc_l_ || memcmp((buf), (lit), hc_l_) != 0) {                          \
            hc_fails++;                                                                            \
            printf("FAIL %s:%d: %s = \"%.*s\" (%zu bytes), want \"%s\"\n", __FILE__, __LINE__,     \
                   #buf, (int)(len), (const char *)(buf), (size_t)(len), (lit));                   \
        }                                                                                          \
    } while (0)

#define S(lit) (const uint8_t *)(lit), (sizeof(lit) - 1)

static int hc_done(void)
{
    printf("checks=%d fails=%d\n", hc_checks, hc_fails);
    return hc_fails ? 1 : 0;
}

#endif
