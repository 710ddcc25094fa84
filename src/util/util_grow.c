/* util_grow.c: util_grow (util_grow.h), the doubling step of the growable arrays of the
 * hostcalls, server, config and profiler layers, with the overflow checks in one place. */
#include "util/util_grow.h"

#include <stdint.h>
#include <stdlib.h>

/* n doubled, or max when that would pass it */
static size_t twice(size_t n, size_t max)
{
    return n > max / 2 ? max : n * 2;
}

bool util_grow(void **p, size_t *cap, size_t need, size_t first, size_t size)
{
    if (need <= *cap)
        return true;
    if (!size || need > SIZE_MAX / size)
        return false;
    size_t max = SIZE_MAX / size; /* the most items whose bytes a size_t counts (>= need) */
    size_t ncap = *cap ? twice(*cap, max) : first ? first : 1;
    while (ncap < need)
        ncap = twice(ncap, max);
    if (ncap > max)
        ncap = max;
    void *n = realloc(*p, ncap * size);
    if (!n)
        return false;
    *p = n;
    *cap = ncap;
    return true;
}
