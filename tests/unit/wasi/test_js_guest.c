/* test_js_guest.c: the most common real guest, a @fastly/js-compute build (examples/js-hello),
 * loads, instantiates with WASI and runs its SpiderMonkey start-up code in the engine until it
 * asks the host for the downstream request: the first Fastly hostcall, unimplemented here. */
#include "fwe.h"
#include "harness.h"
#include "wasi/wasi.h"
#include "wasi/wasi_run.h"

#include <stdlib.h>

TEST(js_guest_runs_until_its_first_fastly_hostcall)
{
    size_t len = 0;
    uint8_t *bytes = NULL;
    char ferr[256];
    CHECK_EQ_INT(wasi_read_file("build/guests/js-hello.wasm", &bytes, &len, ferr, sizeof ferr),
                 WASI_RUN_OK);
    if (!bytes)
        return;
    fwe_engine *e = fwe_engine_new();
    fwe_module *m = NULL;
    char err[256];
    CHECK_EQ_INT(fwe_module_load(e, bytes, len, &m, err, sizeof err), FWE_OK);
    free(bytes);
    if (!m) {
        fwe_engine_free(e);
        return;
    }
    CHECK(fwe_module_import_count(m) > 100);
    fwe_linker *l = fwe_linker_new(e);
    fwe_linker_allow_missing_imports(l, true);
    const char *args[] = {"js-hello"};
    wasi_ctx *w = wasi_ctx_new(1, args, 0, NULL, -1, -1, -1);
    CHECK_EQ_INT(wasi_define(l, w), FWE_OK);
    fwe_instance *inst = NULL;
    fwe_trap trap;
    CHECK_EQ_INT(fwe_instantiate(l, m, NULL, &inst, &trap), FWE_OK);
    fwe_extern start;
    CHECK(inst && fwe_instance_export(inst, "_start", 6, &start));
    if (inst) {
        CHECK_EQ_INT(fwe_call(start.of.func, NULL, 0, NULL, 0, &trap), FWE_ERR_TRAP);
        CHECK_EQ_INT(trap.kind, FWE_TRAP_MISSING_IMPORT);
        CHECK_STR_CONTAINS(trap.message, "fastly_http_req.body_downstream_get");
        CHECK(trap.nframes >= 1);
        /* a second instance of the same module behaves the same (fresh state each time) */
        fwe_instance *again = NULL;
        CHECK_EQ_INT(fwe_instantiate(l, m, NULL, &again, &trap), FWE_OK);
        if (again) {
            fwe_extern s2;
            CHECK(fwe_instance_export(again, "_start", 6, &s2));
            CHECK_EQ_INT(fwe_call(s2.of.func, NULL, 0, NULL, 0, &trap), FWE_ERR_TRAP);
            CHECK_STR_CONTAINS(trap.message, "fastly_http_req.body_downstream_get");
        }
        fwe_instance_free(again);
    }
    fwe_instance_free(inst);
    wasi_ctx_free(w);
    fwe_linker_free(l);
    fwe_module_free(m);
    fwe_engine_free(e);
}

HARNESS_MAIN(RUN(js_guest_runs_until_its_first_fastly_hostcall);)
