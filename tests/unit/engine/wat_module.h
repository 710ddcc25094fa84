/* wat_module.h: loads one of the test modules of tests/unit/engine/wat/ (the Makefile builds each
 * to build/wat/NAME.wasm) for the tests that drive the engine directly: test_engine, test_tier and
 * the server's test_srv_timer. Header-only; include it after harness.h. */
#ifndef FASTLIKE_TEST_WAT_MODULE_H
#define FASTLIKE_TEST_WAT_MODULE_H

#include "fwe.h"
#include "harness.h"

/* The module at `path` loaded into `e` (the caller frees it with fwe_module_free); NULL, with a
 * failed check naming the loader's message, when the file cannot be read or does not load. */
HARNESS_UNUSED static fwe_module *load_wat_module(fwe_engine *e, const char *path)
{
    size_t len;
    uint8_t *bytes = harness_read_file(path, &len);
    CHECK(bytes != NULL);
    if (!bytes) {
        fprintf(stderr, "  cannot read %s\n", path);
        return NULL;
    }
    fwe_module *m = NULL;
    char err[256] = "";
    fwe_status st = fwe_module_load(e, bytes, len, &m, err, sizeof err);
    free(bytes);
    CHECK_EQ_INT(st, FWE_OK);
    if (st != FWE_OK) {
        fprintf(stderr, "  %s: %s\n", path, err);
        return NULL;
    }
    return m;
}

#endif
