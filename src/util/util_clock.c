/* util_clock.c: CLOCK_MONOTONIC as nanoseconds. */
#include "util/util_clock.h"

#include <time.h>

uint64_t util_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}
