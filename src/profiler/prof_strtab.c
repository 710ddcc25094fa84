/* prof_strtab.c: the exports' deduplicated string tables (prof_strtab.h). Lookups are linear: a
 * profile names a few hundred functions and hostcalls at most. */
#include "profiler/prof_strtab.h"

#include "util/util_grow.h"
#include "util/util_str.h"

#include <stdlib.h>
#include <string.h>

size_t prof_strtab_index(prof_strtab *t, const char *s)
{
    for (size_t i = 0; i < t->n; i++)
        if (strcmp(t->s[i], s) == 0)
            return i;
    if (!util_grow((void **)&t->s, &t->cap, t->n + 1, 64, sizeof *t->s))
        return 0;
    char *copy = util_strdup(s);
    if (!copy)
        return 0;
    t->s[t->n] = copy;
    return t->n++;
}

void prof_strtab_deinit(prof_strtab *t)
{
    for (size_t i = 0; i < t->n; i++)
        free(t->s[i]);
    free(t->s);
    memset(t, 0, sizeof *t);
}
