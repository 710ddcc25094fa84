/* test_engine.c: engine behaviour through the public API (fwe.h): traps with backtraces, stack
 * exhaustion, interruption from another thread, memory limits, host functions and missing
 * imports, validation messages, deep block nesting, one module instantiated concurrently, and host
 * functions calling back into their instance. */
#include "fwe.h"
#include "harness.h"
#include "runtime.h" /* the templates' page map, for the reset test */
#include "wat_module.h"

#include <pthread.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static fwe_trap_kind host_add(fwe_caller *caller, uint64_t *slots, void *data)
{
    int *calls = data;
    (*calls)++;
    CHECK(fwe_caller_memory(caller) != NULL);
    fwe_frame_info frames[4];
    uint32_t n = fwe_caller_backtrace(caller, frames, 4);
    CHECK_EQ_INT(n, 1);
    if (n == 1)
        CHECK(frames[0].name && frames[0].name_len == 9 &&
              memcmp(frames[0].name, "call_host", 9) == 0);
    slots[0] = (uint32_t)((uint32_t)slots[0] + (uint32_t)slots[1]);
    return FWE_TRAP_NONE;
}

typedef struct fixture {
    fwe_engine *engine;
    fwe_module *module;
    fwe_linker *linker;
    fwe_instance *inst;
    int host_calls;
} fixture;

static bool setup(fixture *fx, bool allow_missing, fwe_instance_config *cfg)
{
    memset(fx, 0, sizeof *fx);
    fx->engine = fwe_engine_new();
    fx->module = load_wat_module(fx->engine, "build/wat/traps.wasm");
    if (!fx->module)
        return false;
    fx->linker = fwe_linker_new(fx->engine);
    CHECK_EQ_INT(
        fwe_linker_define_host(fx->linker, "env", "add", "ii:i", host_add, &fx->host_calls),
        FWE_OK);
    fwe_linker_allow_missing_imports(fx->linker, allow_missing);
    fwe_trap trap;
    return fwe_instantiate(fx->linker, fx->module, cfg, &fx->inst, &trap) == FWE_OK;
}

static void teardown(fixture *fx)
{
    fwe_instance_free(fx->inst);
    fwe_linker_free(fx->linker);
    fwe_module_free(fx->module);
    fwe_engine_free(fx->engine);
}

static fwe_func *export_func(fwe_instance *inst, const char *name)
{
    fwe_extern ext;
    if (!fwe_instance_export(inst, name, strlen(name), &ext) || ext.kind != FWE_EXTERN_FUNC)
        return NULL;
    return ext.of.func;
}

static fwe_val i32(uint32_t v)
{
    fwe_val x = {.type = FWE_I32};
    x.of.i32 = v;
    return x;
}

TEST(trap_has_message_and_named_backtrace)
{
    fixture fx;
    CHECK(setup(&fx, true, NULL));
    fwe_val r, a = i32(0);
    fwe_trap trap;
    CHECK_EQ_INT(fwe_call(export_func(fx.inst, "divide"), &a, 1, &r, 1, &trap), FWE_ERR_TRAP);
    CHECK_EQ_INT(trap.kind, FWE_TRAP_INT_DIV_ZERO);
    CHECK_STR_EQ(trap.message, "integer divide by zero");
    CHECK_EQ_INT(trap.nframes, 2);
    CHECK(trap.frames[0].name &&
          strncmp(trap.frames[0].name, "inner", trap.frames[0].name_len) == 0);
    CHECK(trap.frames[1].name &&
          strncmp(trap.frames[1].name, "outer", trap.frames[1].name_len) == 0);
    CHECK(trap.frames[0].code_offset > 0);
    char buf[512];
    fwe_trap_format(&trap, buf, sizeof buf);
    CHECK_STR_CONTAINS(buf, "inner");
    /* the instance keeps working after a trap */
    a = i32(2);
    CHECK_EQ_INT(fwe_call(export_func(fx.inst, "divide"), &a, 1, &r, 1, &trap), FWE_OK);
    CHECK_EQ_INT(r.of.i32, 0);
    CHECK_EQ_INT(fwe_call(export_func(fx.inst, "unreachable"), NULL, 0, NULL, 0, &trap),
                 FWE_ERR_TRAP);
    CHECK_EQ_INT(trap.kind, FWE_TRAP_UNREACHABLE);
    teardown(&fx);
}

TEST(deep_recursion_is_a_trap)
{
    fixture fx;
    fwe_instance_config cfg = {.max_call_depth = 5000};
    CHECK(setup(&fx, true, &cfg));
    fwe_val r, a = i32(0);
    fwe_trap trap;
    CHECK_EQ_INT(fwe_call(export_func(fx.inst, "recurse"), &a, 1, &r, 1, &trap), FWE_ERR_TRAP);
    CHECK_EQ_INT(trap.kind, FWE_TRAP_STACK_EXHAUSTED);
    CHECK_STR_EQ(trap.message, "call stack exhausted");
    CHECK(trap.nframes == FWE_BACKTRACE_MAX);
    a = i32(3);
    CHECK_EQ_INT(fwe_call(export_func(fx.inst, "sum"), &a, 1, &r, 1, &trap), FWE_OK);
    CHECK_EQ_INT(r.of.i32, 6);
    teardown(&fx);
}

static void *interrupt_later(void *arg)
{
    usleep(50 * 1000);
    fwe_instance_interrupt(arg);
    return NULL;
}

TEST(interrupt_stops_a_runaway_loop)
{
    fixture fx;
    CHECK(setup(&fx, true, NULL));
    pthread_t t;
    pthread_create(&t, NULL, interrupt_later, fx.inst);
    fwe_trap trap;
    CHECK_EQ_INT(fwe_call(export_func(fx.inst, "spin"), NULL, 0, NULL, 0, &trap), FWE_ERR_TRAP);
    pthread_join(t, NULL);
    CHECK_EQ_INT(trap.kind, FWE_TRAP_INTERRUPTED);
    fwe_instance_clear_interrupt(fx.inst);
    fwe_val r, a = i32(4);
    CHECK_EQ_INT(fwe_call(export_func(fx.inst, "sum"), &a, 1, &r, 1, &trap), FWE_OK);
    CHECK_EQ_INT(r.of.i32, 10);
    teardown(&fx);
}

TEST(memory_bounds_and_growth_limits)
{
    fixture fx;
    fwe_instance_config cfg = {.max_memory_pages = 3};
    CHECK(setup(&fx, true, &cfg));
    fwe_trap trap;
    fwe_val r, a = i32(65532);
    CHECK_EQ_INT(fwe_call(export_func(fx.inst, "load"), &a, 1, &r, 1, &trap), FWE_OK);
    a = i32(65533);
    CHECK_EQ_INT(fwe_call(export_func(fx.inst, "load"), &a, 1, &r, 1, &trap), FWE_ERR_TRAP);
    CHECK_EQ_INT(trap.kind, FWE_TRAP_MEMORY_OOB);
    fwe_memory *mem = fwe_instance_memory(fx.inst, 0);
    CHECK(fwe_memory_slice(mem, 65532, 4) != NULL);
    CHECK(fwe_memory_slice(mem, 65533, 4) == NULL);
    CHECK(fwe_memory_slice(mem, UINT32_MAX, 2) == NULL);
    a = i32(1);
    CHECK_EQ_INT(fwe_call(export_func(fx.inst, "grow"), &a, 1, &r, 1, &trap), FWE_OK);
    CHECK_EQ_INT(r.of.i32, 1);
    a = i32(2); /* 4 pages: within the module's max of 4, beyond the host cap of 3 */
    CHECK_EQ_INT(fwe_call(export_func(fx.inst, "grow"), &a, 1, &r, 1, &trap), FWE_OK);
    CHECK_EQ_INT((int32_t)r.of.i32, -1);
    a = i32(1);
    CHECK_EQ_INT(fwe_call(export_func(fx.inst, "grow"), &a, 1, &r, 1, &trap), FWE_OK);
    CHECK_EQ_INT(r.of.i32, 2);
    CHECK_EQ_U64(fwe_memory_size(mem), 3 * 65536);
    a = i32(3 * 65536 - 4);
    CHECK_EQ_INT(fwe_call(export_func(fx.inst, "load"), &a, 1, &r, 1, &trap), FWE_OK);
    teardown(&fx);
}

/* A host cap below the module's initial memory makes instantiation fail (the cap would be
 * meaningless otherwise: a module could declare the memory it wants); at or above it, the cap
 * bounds memory.grow, including a fresh instance from the module's pool. */
TEST(memory_cap_covers_the_initial_size)
{
    fwe_engine *e = fwe_engine_new();
    fwe_module *m = load_wat_module(e, "build/wat/bigmem.wasm");
    if (!m) {
        fwe_engine_free(e);
        return;
    }
    fwe_linker *l = fwe_linker_new(e);
    for (int round = 0; round < 2; round++) { /* the second round starts from pooled memory */
        fwe_instance *inst = NULL;
        fwe_trap trap;
        fwe_instance_config cfg = {.max_memory_pages = 15};
        CHECK_EQ_INT(fwe_instantiate(l, m, &cfg, &inst, &trap), FWE_ERR_NOMEM);
        CHECK(inst == NULL);
        CHECK_STR_CONTAINS(trap.message, "16 pages");
        CHECK_STR_CONTAINS(trap.message, "limit of 15");
        cfg.max_memory_pages = 17;
        CHECK_EQ_INT(fwe_instantiate(l, m, &cfg, &inst, &trap), FWE_OK);
        if (!inst)
            continue;
        fwe_val r, a = i32(2);
        CHECK_EQ_INT(fwe_call(export_func(inst, "grow"), &a, 1, &r, 1, &trap), FWE_OK);
        CHECK_EQ_INT((int32_t)r.of.i32, -1);
        a = i32(1);
        CHECK_EQ_INT(fwe_call(export_func(inst, "grow"), &a, 1, &r, 1, &trap), FWE_OK);
        CHECK_EQ_INT(r.of.i32, 16);
        a = i32(0xFFFFFFFFu);
        CHECK_EQ_INT(fwe_call(export_func(inst, "grow"), &a, 1, &r, 1, &trap), FWE_OK);
        CHECK_EQ_INT((int32_t)r.of.i32, -1);
        CHECK_EQ_INT(fwe_call(export_func(inst, "size"), NULL, 0, &r, 1, &trap), FWE_OK);
        CHECK_EQ_INT(r.of.i32, 17);
        fwe_instance_free(inst);
    }
    fwe_linker_free(l);
    fwe_module_free(m);
    fwe_engine_free(e);
}

/* host.reenter(x): x > 0 calls the caller's export "outer"(x - 1), x == 0 calls "inner"(0),
 * x < 0 calls "trap"; the callee's trap (kind and message) becomes the host function's trap. */
static fwe_trap_kind host_reenter(fwe_caller *caller, uint64_t *slots, void *data)
{
    (void)data;
    fwe_instance *inst = fwe_caller_instance(caller);
    int32_t x = (int32_t)(uint32_t)slots[0];
    const char *name = x > 0 ? "outer" : x == 0 ? "inner" : "trap";
    fwe_extern ext;
    if (!fwe_instance_export(inst, name, strlen(name), &ext))
        return fwe_caller_trap(caller, FWE_TRAP_HOST, "no export %s", name);
    fwe_val a = {.type = FWE_I32, .of.i32 = (uint32_t)(x > 0 ? x - 1 : x)}, r;
    fwe_trap trap;
    fwe_status st = fwe_call(ext.of.func, &a, 1, &r, 1, &trap);
    if (st != FWE_OK) /* pass the nested trap on as ours */
        return fwe_caller_trap(caller, trap.kind, "%s", trap.message);
    slots[0] = r.of.i32;
    return FWE_TRAP_NONE;
}

TEST(host_reentry)
{
    fwe_engine *e = fwe_engine_new();
    fwe_module *m = load_wat_module(e, "build/wat/reenter.wasm");
    if (!m) {
        fwe_engine_free(e);
        return;
    }
    fwe_linker *l = fwe_linker_new(e);
    CHECK_EQ_INT(fwe_linker_define_host(l, "host", "reenter", "i:i", host_reenter, NULL), FWE_OK);
    fwe_instance *inst = NULL;
    fwe_trap trap;
    CHECK_EQ_INT(fwe_instantiate(l, m, NULL, &inst, &trap), FWE_OK);
    if (inst) {
        /* outer(3) -> host -> outer(2) -> host -> outer(1) -> host -> outer(0) -> host -> inner(0):
         * 100, plus 1 per outer level */
        fwe_val a = {.type = FWE_I32, .of.i32 = 3}, r;
        CHECK_EQ_INT(fwe_call(export_func(inst, "outer"), &a, 1, &r, 1, &trap), FWE_OK);
        CHECK_EQ_INT(r.of.i32, 104);
        CHECK_EQ_INT(fwe_call(export_func(inst, "depth"), NULL, 0, &r, 1, &trap), FWE_OK);
        CHECK_EQ_INT(r.of.i32, 4);
        /* a trap in the nested call surfaces as the host function's trap; the instance still works
         */
        a.of.i32 = (uint32_t)-1;
        CHECK_EQ_INT(fwe_call(export_func(inst, "outer"), &a, 1, &r, 1, &trap), FWE_ERR_TRAP);
        CHECK_EQ_INT(trap.kind, FWE_TRAP_UNREACHABLE);
        a.of.i32 = 1;
        CHECK_EQ_INT(fwe_call(export_func(inst, "outer"), &a, 1, &r, 1, &trap), FWE_OK);
        CHECK_EQ_INT(r.of.i32, 102);
        /* deep re-entry hits the call-depth limit as a trap, not a crash */
        a.of.i32 = 1000000;
        CHECK_EQ_INT(fwe_call(export_func(inst, "outer"), &a, 1, &r, 1, &trap), FWE_ERR_TRAP);
        CHECK_EQ_INT(trap.kind, FWE_TRAP_STACK_EXHAUSTED);
        CHECK_STR_CONTAINS(trap.message, "nested calls into the instance");
        a.of.i32 = 0;
        CHECK_EQ_INT(fwe_call(export_func(inst, "outer"), &a, 1, &r, 1, &trap), FWE_OK);
        CHECK_EQ_INT(r.of.i32, 101);
    }
    fwe_instance_free(inst);
    fwe_linker_free(l);
    fwe_module_free(m);
    fwe_engine_free(e);
}

TEST(deferred_start)
{
    fwe_engine *e = fwe_engine_new();
    fwe_module *m = load_wat_module(e, "build/wat/start_count.wasm");
    fwe_module *spin = load_wat_module(e, "build/wat/start_spin.wasm");
    fwe_linker *l = fwe_linker_new(e);
    fwe_trap trap;
    fwe_val r;
    if (m) {
        /* without defer_start the start function runs in fwe_instantiate */
        fwe_instance *inst = NULL;
        CHECK_EQ_INT(fwe_instantiate(l, m, NULL, &inst, &trap), FWE_OK);
        CHECK_EQ_INT(fwe_call(export_func(inst, "runs"), NULL, 0, &r, 1, &trap), FWE_OK);
        CHECK_EQ_INT(r.of.i32, 1);
        fwe_instance_free(inst);
        /* with it, only when the host asks, and once */
        fwe_instance_config cfg = {.defer_start = true};
        CHECK_EQ_INT(fwe_instantiate(l, m, &cfg, &inst, &trap), FWE_OK);
        CHECK_EQ_INT(fwe_call(export_func(inst, "runs"), NULL, 0, &r, 1, &trap), FWE_OK);
        CHECK_EQ_INT(r.of.i32, 0);
        CHECK_EQ_INT(fwe_instance_run_start(inst, &trap), FWE_OK);
        CHECK_EQ_INT(fwe_instance_run_start(inst, &trap), FWE_OK);
        CHECK_EQ_INT(fwe_call(export_func(inst, "runs"), NULL, 0, &r, 1, &trap), FWE_OK);
        CHECK_EQ_INT(r.of.i32, 1);
        fwe_instance_free(inst);
    }
    if (spin) {
        /* a start function that never returns can be interrupted once it is deferred */
        fwe_instance_config cfg = {.defer_start = true};
        fwe_instance *inst = NULL;
        CHECK_EQ_INT(fwe_instantiate(l, spin, &cfg, &inst, &trap), FWE_OK);
        if (inst) {
            fwe_instance_interrupt(inst);
            CHECK_EQ_INT(fwe_instance_run_start(inst, &trap), FWE_ERR_TRAP);
            CHECK_EQ_INT(trap.kind, FWE_TRAP_INTERRUPTED);
            fwe_instance_free(inst);
        }
    }
    fwe_linker_free(l);
    fwe_module_free(spin);
    fwe_module_free(m);
    fwe_engine_free(e);
}

TEST(host_functions_and_missing_imports)
{
    fixture fx;
    CHECK(setup(&fx, true, NULL));
    fwe_trap trap;
    fwe_val r, a[2] = {i32(40), i32(2)};
    CHECK_EQ_INT(fwe_call(export_func(fx.inst, "call_host"), a, 2, &r, 1, &trap), FWE_OK);
    CHECK_EQ_INT(r.of.i32, 42);
    CHECK_EQ_INT(fx.host_calls, 1);
    CHECK_EQ_INT(fwe_call(export_func(fx.inst, "call_missing"), NULL, 0, NULL, 0, &trap),
                 FWE_ERR_TRAP);
    CHECK_EQ_INT(trap.kind, FWE_TRAP_MISSING_IMPORT);
    CHECK_STR_CONTAINS(trap.message, "env.missing");
    /* wrong argument count or types are API errors, not traps */
    CHECK_EQ_INT(fwe_call(export_func(fx.inst, "call_host"), a, 1, &r, 1, &trap), FWE_ERR_ARGS);
    teardown(&fx);

    /* without the stub policy, instantiation fails and names the import */
    fixture fx2;
    CHECK(!setup(&fx2, false, NULL));
    fwe_trap t2;
    fwe_instance *inst = NULL;
    CHECK_EQ_INT(fwe_instantiate(fx2.linker, fx2.module, NULL, &inst, &t2), FWE_ERR_UNLINKABLE);
    CHECK_STR_CONTAINS(t2.message, "env.missing");
    teardown(&fx2);
}

/* A module with one function [] -> [i32] whose body (after the locals vector) is given. */
static size_t make_module(uint8_t *out, const uint8_t *body, size_t body_len)
{
    static const uint8_t head[] = {0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
                                   0x01, 0x05, 0x01, 0x60, 0x00, 0x01, 0x7f, /* type: [] -> [i32] */
                                   0x03, 0x02, 0x01, 0x00,                   /* func 0: type 0 */
                                   0x07, 0x05, 0x01, 0x01, 'f',  0x00, 0x00}; /* export "f" */
    size_t n = 0;
    memcpy(out, head, sizeof head);
    n = sizeof head;
    size_t fsize = 1 + body_len;  /* locals count 0 + body */
    size_t ssize = 1 + 2 + fsize; /* count + u32 size (2-byte LEB) + function */
    out[n++] = 0x0a;
    out[n++] = (uint8_t)(0x80 | (ssize & 0x7f));
    out[n++] = (uint8_t)(ssize >> 7);
    out[n++] = 0x01;
    out[n++] = (uint8_t)(0x80 | (fsize & 0x7f));
    out[n++] = (uint8_t)(fsize >> 7);
    out[n++] = 0x00;
    memcpy(out + n, body, body_len);
    return n + body_len;
}

TEST(deeply_nested_blocks_with_results)
{
    /* 200 nested (block (result i32) ...): grows the translator's control stack several times */
    uint8_t body[1024], mod[1200];
    size_t k = 0;
    for (int i = 0; i < 200; i++) {
        body[k++] = 0x02;
        body[k++] = 0x7f;
    }
    body[k++] = 0x41;
    body[k++] = 0x07; /* i32.const 7 */
    for (int i = 0; i < 200; i++)
        body[k++] = 0x0b;
    body[k++] = 0x0b;
    size_t len = make_module(mod, body, k);
    fwe_engine *e = fwe_engine_new();
    fwe_module *m = NULL;
    char err[256];
    CHECK_EQ_INT(fwe_module_load(e, mod, len, &m, err, sizeof err), FWE_OK);
    fwe_linker *l = fwe_linker_new(e);
    fwe_instance *inst = NULL;
    if (m)
        CHECK_EQ_INT(fwe_instantiate(l, m, NULL, &inst, NULL), FWE_OK);
    if (inst) {
        fwe_val r;
        CHECK_EQ_INT(fwe_call(export_func(inst, "f"), NULL, 0, &r, 1, NULL), FWE_OK);
        CHECK_EQ_INT(r.of.i32, 7);
    }
    fwe_instance_free(inst);
    fwe_linker_free(l);
    fwe_module_free(m);
    fwe_engine_free(e);
}

TEST(validation_errors_name_function_and_offset)
{
    /* i64.const 1 returned where i32 is expected */
    const uint8_t body[] = {0x42, 0x01, 0x0b};
    uint8_t mod[64];
    size_t len = make_module(mod, body, sizeof body);
    fwe_engine *e = fwe_engine_new();
    fwe_module *m = NULL;
    char err[256];
    CHECK_EQ_INT(fwe_module_load(e, mod, len, &m, err, sizeof err), FWE_ERR_INVALID);
    CHECK_STR_CONTAINS(err, "type mismatch");
    CHECK_STR_CONTAINS(err, "function 0");
    CHECK_STR_CONTAINS(err, "offset 0x");
    /* an opcode that does not exist is malformed */
    const uint8_t bad[] = {0xff, 0x0b};
    len = make_module(mod, bad, sizeof bad);
    CHECK_EQ_INT(fwe_module_load(e, mod, len, &m, err, sizeof err), FWE_ERR_MALFORMED);
    CHECK_STR_CONTAINS(err, "illegal opcode");
    /* truncated body */
    const uint8_t cut[] = {0x41};
    len = make_module(mod, cut, sizeof cut);
    CHECK(fwe_module_load(e, mod, len, &m, err, sizeof err) == FWE_ERR_MALFORMED);
    fwe_engine_free(e);
}

typedef struct worker {
    fwe_linker *linker;
    const fwe_module *module;
    int failures;
} worker;

static void *instantiate_many(void *arg)
{
    worker *w = arg;
    for (uint32_t i = 0; i < 100; i++) {
        fwe_instance *inst = NULL;
        if (fwe_instantiate(w->linker, w->module, NULL, &inst, NULL) != FWE_OK) {
            w->failures++;
            continue;
        }
        fwe_val r, a = i32(i % 50 + 1);
        uint32_t n = i % 50 + 1;
        if (fwe_call(export_func(inst, "sum"), &a, 1, &r, 1, NULL) != FWE_OK ||
            r.of.i32 != n * (n + 1) / 2)
            w->failures++;
        fwe_instance_free(inst);
    }
    return NULL;
}

TEST(concurrent_instantiation_of_one_module)
{
    fixture fx;
    CHECK(setup(&fx, true, NULL));
    worker w[4];
    pthread_t t[4];
    for (int i = 0; i < 4; i++) {
        w[i] = (worker){fx.linker, fx.module, 0};
        pthread_create(&t[i], NULL, instantiate_many, &w[i]);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(t[i], NULL);
        CHECK_EQ_INT(w[i].failures, 0);
    }
    teardown(&fx);
}

static uint32_t call_i32(fwe_instance *inst, const char *name, uint32_t a, uint32_t b, int nargs)
{
    fwe_val args[2] = {i32(a), i32(b)}, r;
    memset(&r, 0, sizeof r);
    fwe_func *f = export_func(inst, name);
    fwe_functype_info ft;
    fwe_func_type(f, &ft);
    CHECK_EQ_INT(fwe_call(f, args, (size_t)nargs, &r, ft.nresults, NULL), FWE_OK);
    return r.of.i32;
}

TEST(reused_memory_starts_from_the_initial_image)
{
    fwe_engine *e = fwe_engine_new();
    fwe_module *m = load_wat_module(e, "build/wat/pool.wasm");
    if (!m) {
        fwe_engine_free(e);
        return;
    }
    fwe_linker *l = fwe_linker_new(e);
    for (int round = 0; round < 3; round++) {
        fwe_instance *inst = NULL;
        CHECK_EQ_INT(fwe_instantiate(l, m, NULL, &inst, NULL), FWE_OK);
        if (!inst)
            break;
        /* what the previous round changed is gone */
        CHECK_EQ_INT(call_i32(inst, "read", 16, 0, 1), 'h');
        CHECK_EQ_INT(call_i32(inst, "read", 100, 0, 1), 0);
        CHECK_EQ_INT(call_i32(inst, "size", 0, 0, 0), 1);
        call_i32(inst, "write", 16, 'X', 2);
        call_i32(inst, "write", 100, 7, 2);
        CHECK_EQ_INT(call_i32(inst, "grow", 1, 0, 1), 1);
        CHECK_EQ_INT(call_i32(inst, "read", 65536 + 4, 0, 1), 0);
        call_i32(inst, "write", 65536 + 4, 9, 2);
        CHECK_EQ_INT(call_i32(inst, "read", 16, 0, 1), 'X');
        fwe_instance_free(inst);
    }
    fwe_linker_free(l);
    fwe_module_free(m);
    fwe_engine_free(e);
}

/* Checks that a (reused) instance of reset.wasm sees the initial memory at every probe. */
static void check_initial_reset_memory(fwe_instance *inst)
{
    CHECK_EQ_INT(call_i32(inst, "size", 0, 0, 0), 160);
    CHECK_EQ_INT(call_i32(inst, "read", 100, 0, 1), 'h');
    CHECK_EQ_INT(call_i32(inst, "read", 101, 0, 1), 'e');
    CHECK_EQ_INT(call_i32(inst, "read", 1048676, 0, 1), 'm');
    CHECK_EQ_INT(call_i32(inst, "read", 1048677, 0, 1), 'i');
    CHECK_EQ_INT(call_i32(inst, "read", 70000, 0, 1), 0);
    CHECK_EQ_INT(call_i32(inst, "read", 9 * 1048576 + 1234, 0, 1), 0);
}

/* A pooled memory is reset by restoring the pages its instance wrote (found through the page
 * map), within a budget, and by dropping the rest: whichever way a page went, the next instance
 * sees the initial image and zeros, including pages only read, pages past the first MiB, a grown
 * part, a memory with every page written (past the budget), and the periodic full drop. */
static void reset_rounds(bool without_page_map)
{
    fwe_engine *e = fwe_engine_new();
    fwe_module *m = load_wat_module(e, "build/wat/reset.wasm");
    if (!m) {
        fwe_engine_free(e);
        return;
    }
    fwe_linker *l = fwe_linker_new(e);
    fwe_instance *inst = NULL;
    fwe_templates *tpl = (fwe_templates *)fwe_module_templates(m);
    CHECK(tpl != NULL);
    if (tpl && without_page_map && tpl->pagemap_fd >= 0) { /* as where /proc is not readable */
        close(tpl->pagemap_fd);
        tpl->pagemap_fd = -1;
    }
    /* round 1: scattered writes, a read of every page, a grown page written */
    CHECK_EQ_INT(fwe_instantiate(l, m, NULL, &inst, NULL), FWE_OK);
    if (!inst)
        goto out;
    check_initial_reset_memory(inst);
    call_i32(inst, "write", 100, 'X', 2);
    call_i32(inst, "write", 1048677, 'Y', 2);
    call_i32(inst, "write", 70000, 1, 2);
    call_i32(inst, "write", 9 * 1048576 + 1234, 2, 2);
    CHECK_EQ_INT(call_i32(inst, "sum_pages", 0, 0, 0), 0);
    CHECK_EQ_INT(call_i32(inst, "grow", 1, 0, 1), 160);
    call_i32(inst, "write", 160 * 65536 + 5, 3, 2);
    fwe_instance_free(inst);
    /* round 2: all of it is gone; then every page written (more than is restored in place) */
    inst = NULL;
    CHECK_EQ_INT(fwe_instantiate(l, m, NULL, &inst, NULL), FWE_OK);
    if (!inst)
        goto out;
    check_initial_reset_memory(inst);
    CHECK_EQ_INT(call_i32(inst, "grow", 1, 0, 1), 160);
    CHECK_EQ_INT(call_i32(inst, "read", 160 * 65536 + 5, 0, 1), 0);
    call_i32(inst, "fill_pages", 0x55, 0, 1);
    CHECK_EQ_INT(call_i32(inst, "read", 7, 0, 1), 0x55);
    CHECK_EQ_INT(call_i32(inst, "read", 160 * 65536 + 7, 0, 1), 0x55);
    fwe_instance_free(inst);
    /* round 3: no page kept a 0x55 */
    inst = NULL;
    CHECK_EQ_INT(fwe_instantiate(l, m, NULL, &inst, NULL), FWE_OK);
    if (!inst)
        goto out;
    check_initial_reset_memory(inst);
    uint32_t stale = 0;
    for (uint32_t a = 7; a < 160 * 65536; a += 4096)
        stale += call_i32(inst, "read", a, 0, 1) != 0;
    CHECK_EQ_INT(stale, 0);
    fwe_instance_free(inst);
    /* many rounds (past the periodic full drop): each sees none of the previous one's writes */
    for (uint32_t round = 0; round < 1100; round++) {
        inst = NULL;
        CHECK_EQ_INT(fwe_instantiate(l, m, NULL, &inst, NULL), FWE_OK);
        if (!inst)
            goto out;
        uint32_t page = round % 2560, prev = (round + 2559) % 2560;
        if (call_i32(inst, "read", prev * 4096 + 9, 0, 1) != 0 ||
            call_i32(inst, "read", 1048676, 0, 1) != 'm') {
            CHECK(!"a write of the previous round survived the reset");
            fwe_instance_free(inst);
            goto out;
        }
        call_i32(inst, "write", page * 4096 + 9, 0xAA, 2);
        call_i32(inst, "write", 1048676, 'Z', 2);
        fwe_instance_free(inst);
    }
out:
    fwe_linker_free(l);
    fwe_module_free(m);
    fwe_engine_free(e);
}

TEST(pooled_memory_reset_restores_every_written_page)
{
    reset_rounds(false);
    reset_rounds(true);
}

TEST(failed_instantiation_outlives_its_module)
{
    /* an instance whose initialisation trapped after writing into an imported table is kept (its
     * functions sit in that table), and freed after the module with the engine */
    fwe_engine *e = fwe_engine_new();
    fwe_module *m = load_wat_module(e, "build/wat/oob_data_table.wasm");
    if (!m) {
        fwe_engine_free(e);
        return;
    }
    fwe_table *table = fwe_table_new(e, FWE_FUNCREF, 1, 1);
    fwe_linker *l = fwe_linker_new(e);
    fwe_extern ext = {.kind = FWE_EXTERN_TABLE, .of.table = table};
    CHECK_EQ_INT(fwe_linker_define(l, "env", "table", ext), FWE_OK);
    fwe_instance *inst = NULL;
    fwe_trap trap;
    CHECK_EQ_INT(fwe_instantiate(l, m, NULL, &inst, &trap), FWE_ERR_TRAP);
    CHECK_EQ_INT(trap.kind, FWE_TRAP_MEMORY_OOB);
    CHECK(inst == NULL);
    CHECK_EQ_INT(fwe_engine_kept_instances(e), 1);
    fwe_linker_free(l);
    fwe_module_free(m);
    fwe_table_free(table);
    fwe_engine_free(e);
}

TEST(failed_instantiation_without_escape_is_freed_at_once)
{
    /* issue 15: nothing outside can refer to a module that imports no table, funcref global or
     * funcref-taking function, so a trapping instantiation is not kept (it used to leak its memory
     * mapping on every request) */
    fwe_engine *e = fwe_engine_new();
    fwe_module *m = load_wat_module(e, "build/wat/oob_data.wasm");
    if (!m) {
        fwe_engine_free(e);
        return;
    }
    fwe_linker *l = fwe_linker_new(e);
    for (int i = 0; i < 100; i++) {
        fwe_instance *inst = NULL;
        fwe_trap trap;
        CHECK_EQ_INT(fwe_instantiate(l, m, NULL, &inst, &trap), FWE_ERR_TRAP);
        CHECK_EQ_INT(trap.kind, FWE_TRAP_MEMORY_OOB);
        CHECK(inst == NULL);
    }
    CHECK_EQ_INT(fwe_engine_kept_instances(e), 0);
    fwe_linker_free(l);
    fwe_module_free(m);
    fwe_engine_free(e);
}

HARNESS_MAIN(RUN(failed_instantiation_outlives_its_module);
             RUN(failed_instantiation_without_escape_is_freed_at_once);
             RUN(reused_memory_starts_from_the_initial_image);
             RUN(pooled_memory_reset_restores_every_written_page);
             RUN(trap_has_message_and_named_backtrace); RUN(deep_recursion_is_a_trap);
             RUN(interrupt_stops_a_runaway_loop); RUN(memory_bounds_and_growth_limits);
             RUN(memory_cap_covers_the_initial_size); RUN(host_functions_and_missing_imports);
             RUN(deeply_nested_blocks_with_results);
             RUN(validation_errors_name_function_and_offset);
             RUN(concurrent_instantiation_of_one_module); RUN(host_reentry); RUN(deferred_start);)
