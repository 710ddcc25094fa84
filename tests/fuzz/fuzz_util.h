/* fuzz_util.h: what the libFuzzer targets share: CHECK (abort, so libFuzzer keeps the input, when
 * a property fails) and a scratch directory for the readers that only take file names (created once
 * per process under $TMPDIR or /tmp, removed at exit). Header-only. */
#ifndef FUZZ_UTIL_H
#define FUZZ_UTIL_H

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);               \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

static char fuzz_dir[512];

__attribute__((unused)) static void fuzz_dir_remove(void)
{
    DIR *d = opendir(fuzz_dir);
    if (!d)
        return;
    struct dirent *e;
    char p[1024];
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        snprintf(p, sizeof p, "%s/%s", fuzz_dir, e->d_name);
        unlink(p);
    }
    closedir(d);
    rmdir(fuzz_dir);
}

/* The scratch directory (made on first use; NULL when it cannot be made). */
__attribute__((unused)) static const char *fuzz_scratch(void)
{
    if (fuzz_dir[0])
        return fuzz_dir;
    const char *base = getenv("TMPDIR");
    snprintf(fuzz_dir, sizeof fuzz_dir, "%s/fastlike-fuzz-XXXXXX", base && *base ? base : "/tmp");
    if (!mkdtemp(fuzz_dir)) {
        fuzz_dir[0] = '\0';
        return NULL;
    }
    atexit(fuzz_dir_remove);
    return fuzz_dir;
}

/* Writes data[0..len) to scratch/name; returns the path (static, overwritten by the next call) or
 * NULL. */
__attribute__((unused)) static const char *fuzz_write(const char *name, const void *data,
                                                      size_t len)
{
    static char path[1024];
    const char *dir = fuzz_scratch();
    if (!dir)
        return NULL;
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (!f)
        return NULL;
    size_t w = len ? fwrite(data, 1, len, f) : 0;
    if (fclose(f) != 0 || w != len)
        return NULL;
    return path;
}

#endif
