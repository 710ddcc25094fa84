/* tier_test.h: what the native-tier tests (test_tier, test_tier_sample, test_trap) share: a loaded
 * and instantiated module, and a C compiler script that waits for a gate file (so a test decides
 * when the C compiler's code may replace the quick compiler's). Header-only; after harness.h. */
#ifndef FASTLIKE_TEST_TIER_TEST_H
#define FASTLIKE_TEST_TIER_TEST_H

#include "fwe.h"
#include "harness.h"

#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

typedef struct run {
    fwe_engine *engine;
    fwe_module *module;
    fwe_linker *linker;
    fwe_instance *inst;
} run;

/* Writes `script`, a cc that waits until `gate` exists (removed first), then runs cc. */
HARNESS_UNUSED static bool write_gated_cc(const char *script, const char *gate)
{
    unlink(gate);
    FILE *f = fopen(script, "w");
    CHECK(f != NULL);
    if (!f)
        return false;
    fprintf(f, "#!/bin/sh\nwhile [ ! -e '%s' ]; do sleep 0.02; done\nexec cc \"$@\"\n", gate);
    fclose(f);
    return chmod(script, 0755) == 0;
}

#endif
