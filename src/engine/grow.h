/* grow.h: the engine's one growable-array step (grow.c): double a malloc'd array's capacity until
 * it holds what is needed. The engine does not include src/util, so this is its own twin of
 * util_grow (src/util/util_grow.h). Engine-internal. */
#ifndef FWE_GROW_H
#define FWE_GROW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Makes *p (an array of *cap items of `size` bytes, or NULL with *cap 0) hold at least `need`
 * items: nothing when it does already; otherwise the capacity doubles (from `first` when it is 0)
 * until it suffices, and *p is reallocated. False, with *p and *cap unchanged, when out of memory,
 * when `size` is 0, or when more than 2^31 items or SIZE_MAX bytes would be needed (so a count
 * below the capacity plus one never wraps). */
bool fwe_grow(void **p, uint32_t *cap, uint32_t need, uint32_t first, size_t size);

#endif
