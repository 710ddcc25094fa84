/* util_str.h: the small string and byte copies every layer needs (one copy of each instead of a
 * private strndup per file), and a case-insensitive comparison of a (ptr, len) slice with a
 * NUL-terminated literal (header names, tokens). */
#ifndef UTIL_STR_H
#define UTIL_STR_H

#include <stdbool.h>
#include <stddef.h>

/* A NUL-terminated malloc'd copy of the n bytes at s (which need not be terminated; s may be
 * NULL when n is 0). NULL only when out of memory. The caller frees it. */
char *util_strndup(const char *s, size_t n);
/* A malloc'd copy of the string s; NULL when out of memory or when s is NULL. */
char *util_strdup(const char *s);
/* A malloc'd copy of the n bytes at p, not terminated; never NULL for n == 0 unless out of
 * memory (a 1-byte block then), so NULL always means no memory. The caller frees it. */
void *util_memdup(const void *p, size_t n);
/* True when the len bytes at s equal the literal lit, ignoring ASCII case. */
bool util_str_eq_ci(const char *s, size_t len, const char *lit);

#endif
