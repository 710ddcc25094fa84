/* prof_strtab.h: a table of distinct strings, each a copy the table owns, numbered in the order
 * they were first added: the shared frame table of the speedscope export and the string table of
 * the Firefox profile (prof_strtab.c). */
#ifndef PROF_STRTAB_H
#define PROF_STRTAB_H

#include <stddef.h>

typedef struct prof_strtab {
    char **s; /* s[0..n): the strings */
    size_t n, cap;
} prof_strtab;

/* The index of s in t, adding a copy of s when it is new. 0 (the first entry's index) when out of
 * memory. A zeroed prof_strtab is an empty table. */
size_t prof_strtab_index(prof_strtab *t, const char *s);
/* Frees the strings and the table's array (not t itself); t is empty afterwards. */
void prof_strtab_deinit(prof_strtab *t);

#endif
