/* grow.c: fwe_grow (grow.h), the doubling step of the engine's growable arrays (the tier's
 * queues and lists), with the overflow checks in one place. */
#include "grow.h"

#include <stdlib.h>

#define GROW_MAX_ITEMS (UINT32_C(1) << 31)

bool fwe_grow(void **p, uint32_t *cap, uint32_t need, uint32_t first, size_t size)
{
    if (need <= *cap)
        return true;
    if (!size || need > GROW_MAX_ITEMS)
        return false;
    uint64_t ncap = *cap ? (uint64_t)*cap * 2 : (first ? first : 1);
    while (ncap < need)
        ncap *= 2;
    if (ncap > GROW_MAX_ITEMS)
        ncap = GROW_MAX_ITEMS;
    if (ncap > SIZE_MAX / size)
        return false;
    void *n = realloc(*p, (size_t)ncap * size);
    if (!n)
        return false;
    *p = n;
    *cap = (uint32_t)ncap;
    return true;
}
