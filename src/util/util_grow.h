/* util_grow.h: the one growable-array step every layer above the engine shares (util_grow.c):
 * double a malloc'd array's capacity until it holds what is needed, overflow checked. The engine,
 * which does not include src/util, has its own twin (fwe_grow in src/engine/grow.h). */
#ifndef UTIL_GROW_H
#define UTIL_GROW_H

#include <stdbool.h>
#include <stddef.h>

/* Makes *p (an array of *cap items of `size` bytes, or NULL with *cap 0) hold at least `need`
 * items: nothing when it does already; otherwise the capacity doubles (from `first` when it is 0)
 * until it suffices, and *p is reallocated. False, with *p and *cap unchanged, when out of memory,
 * when `size` is 0, or when the bytes needed would not fit a size_t. */
bool util_grow(void **p, size_t *cap, size_t need, size_t first, size_t size);

#endif
