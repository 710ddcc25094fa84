/* util_clock.h: the one monotonic clock the server, hostcalls and backends time things with. */
#ifndef UTIL_CLOCK_H
#define UTIL_CLOCK_H

#include <stdint.h>

/* CLOCK_MONOTONIC in nanoseconds. */
uint64_t util_now_ns(void);

#endif
