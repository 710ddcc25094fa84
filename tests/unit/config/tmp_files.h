/* tmp_files.h: the scratch directory of the tests that load configuration files (config/test_flags,
 * config/test_edge, server/test_config_api): created under $TMPDIR (or /tmp) for one run, files
 * written into it at test time, removed at the end. Header-only; include it once per test binary.
 * (The test binaries' make rule does not track this header: touch the tests after changing it.) */
#ifndef FASTLIKE_TEST_TMP_FILES_H
#define FASTLIKE_TEST_TMP_FILES_H

#include "harness.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char tmpdir[512];

/* Creates tmpdir as $TMPDIR/<prefix>-XXXXXX; false (with a message on stderr) on failure. */
HARNESS_UNUSED static bool tmp_dir_create(const char *prefix)
{
    const char *base = getenv("TMPDIR");
    snprintf(tmpdir, sizeof tmpdir, "%s/%s-XXXXXX", base && *base ? base : "/tmp", prefix);
    if (!mkdtemp(tmpdir)) {
        fprintf(stderr, "mkdtemp: %s\n", strerror(errno));
        return false;
    }
    return true;
}

/* The path tmpdir/name (a ring of static buffers: copy it to keep it past four more calls). */
HARNESS_UNUSED static const char *tmp_path(const char *name)
{
    static char path[4][700];
    static int next;
    char *p = path[next++ % 4];
    snprintf(p, sizeof path[0], "%s/%s", tmpdir, name);
    return p;
}

/* Writes `text` to tmpdir/name and returns the path (a ring of eight static buffers). */
HARNESS_UNUSED static const char *write_file(const char *name, const char *text)
{
    static char path[8][700];
    static int next;
    char *p = path[next++ % 8];
    snprintf(p, sizeof path[0], "%s/%s", tmpdir, name);
    FILE *f = fopen(p, "wb");
    if (f) {
        fputs(text, f);
        fclose(f);
    }
    return p;
}

/* Removes tmpdir and everything in it. */
HARNESS_UNUSED static void tmp_dir_remove(void)
{
    char cmd[700];
    if (tmpdir[0] && strchr(tmpdir, '\'') == NULL) {
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
        if (system(cmd) != 0)
            fprintf(stderr, "could not remove %s\n", tmpdir);
    }
}

#endif
