/* fwe.h: the public C API of the Fastlike WebAssembly engine (FWE).
 * A general Wasm 2.0 engine: load bytes into an immutable, thread-shared module; instantiate it
 * against a linker holding host functions and other instances' exports; call exports; inspect
 * traps. This header knows nothing about Fastly; the host layers above are clients of it. */
#ifndef FWE_H
#define FWE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- status codes (errors are values) ---- */
typedef enum fwe_status {
    FWE_OK = 0,
    FWE_ERR_MALFORMED,  /* the binary could not be decoded */
    FWE_ERR_INVALID,    /* the module failed validation */
    FWE_ERR_UNLINKABLE, /* an import is missing or has the wrong type */
    FWE_ERR_TRAP,       /* execution trapped (details in fwe_trap) */
    FWE_ERR_NOMEM,      /* out of memory or address space */
    FWE_ERR_ARGS,       /* bad argument to an API call (wrong count/type, unknown name) */
    FWE_ERR_EXISTS,     /* a linker definition with that name exists already */
} fwe_status;

const char *fwe_strerror(fwe_status status);

/* ---- value types (numeric codes are the binary format's) ---- */
typedef enum fwe_valtype {
    FWE_I32 = 0x7f,
    FWE_I64 = 0x7e,
    FWE_F32 = 0x7d,
    FWE_F64 = 0x7c,
    FWE_V128 = 0x7b,
    FWE_FUNCREF = 0x70,
    FWE_EXTERNREF = 0x6f,
} fwe_valtype;

/* A typed value. Floats are carried as raw bits so NaN payloads survive.
 * funcref: a fwe_func pointer (NULL = null). externref: an opaque host word (0 = null). */
typedef struct fwe_val {
    fwe_valtype type;
    union {
        uint32_t i32;
        uint64_t i64;
        uint32_t f32_bits;
        uint64_t f64_bits;
        struct fwe_func *funcref;
        uint64_t externref;
        uint8_t v128[16];
    } of;
} fwe_val;

typedef enum fwe_extern_kind {
    FWE_EXTERN_FUNC = 0,
    FWE_EXTERN_TABLE = 1,
    FWE_EXTERN_MEMORY = 2,
    FWE_EXTERN_GLOBAL = 3,
} fwe_extern_kind;

typedef struct fwe_engine fwe_engine;     /* type interning, process-wide settings */
typedef struct fwe_module fwe_module;     /* decoded + validated module; immutable, thread-shared */
typedef struct fwe_instance fwe_instance; /* one instantiation; used by one thread at a time */
typedef struct fwe_func fwe_func;         /* a function instance (wasm or host) */
typedef struct fwe_table fwe_table;
typedef struct fwe_memory fwe_memory;
typedef struct fwe_global fwe_global;
typedef struct fwe_linker fwe_linker;
typedef struct fwe_caller fwe_caller; /* what a host function sees of its caller */

typedef struct fwe_extern {
    fwe_extern_kind kind;
    union {
        fwe_func *func;
        fwe_table *table;
        fwe_memory *memory;
        fwe_global *global;
    } of;
} fwe_extern;

/* ---- engine ---- */
fwe_engine *fwe_engine_new(void);
void fwe_engine_free(fwe_engine *engine); /* after every module/instance made from it is freed */
/* How many instances whose initialisation trapped the engine keeps alive because their functions
 * may be referenced elsewhere (an imported table, ...); freed with the engine. For diagnostics. */
size_t fwe_engine_kept_instances(fwe_engine *engine);

/* ---- modules ---- */
/* Decodes and validates `bytes` (copied; the caller keeps ownership). On error returns
 * FWE_ERR_MALFORMED or FWE_ERR_INVALID and writes a message naming section, function index and
 * byte offset into err[0..errlen). */
fwe_status fwe_module_load(fwe_engine *engine, const uint8_t *bytes, size_t len, fwe_module **out,
                           char *err, size_t errlen);
void fwe_module_free(fwe_module *module);

typedef struct fwe_functype_info {
    uint32_t nparams, nresults;
    const uint8_t *params;  /* fwe_valtype codes */
    const uint8_t *results; /* fwe_valtype codes */
} fwe_functype_info;

typedef struct fwe_import_info {
    const char *module; /* not NUL-terminated: use the lengths */
    uint32_t module_len;
    const char *name;
    uint32_t name_len;
    fwe_extern_kind kind;
    fwe_functype_info func; /* valid when kind == FWE_EXTERN_FUNC */
} fwe_import_info;

typedef struct fwe_export_info {
    const char *name;
    uint32_t name_len;
    fwe_extern_kind kind;
    uint32_t index;
} fwe_export_info;

uint32_t fwe_module_import_count(const fwe_module *module);
void fwe_module_import(const fwe_module *module, uint32_t i, fwe_import_info *out);
uint32_t fwe_module_export_count(const fwe_module *module);
void fwe_module_export(const fwe_module *module, uint32_t i, fwe_export_info *out);
uint32_t fwe_module_func_count(const fwe_module *module); /* imported + defined */
/* From the bytes alone (src/engine/peek.c): *found is whether some import's module name starts
 * with `prefix`. Only the header, the sections before the imports and the import section are read
 * (nothing is decoded or validated beyond them): FWE_ERR_MALFORMED when those are. */
fwe_status fwe_module_imports_prefix(const uint8_t *bytes, size_t len, const char *prefix,
                                     bool *found);
/* The initial size in pages of the module's own (not imported) memory 0, or 0 without one. */
uint32_t fwe_module_memory_min_pages(const fwe_module *module);
/* The largest initial size in elements among the module's own (not imported) tables, or 0. */
uint32_t fwe_module_table_min_elements(const fwe_module *module);
/* Name of function `index` from the name section, or NULL. */
const char *fwe_module_func_name(const fwe_module *module, uint32_t index, uint32_t *len);

/* ---- traps ---- */
typedef enum fwe_trap_kind {
    FWE_TRAP_NONE = 0,
    FWE_TRAP_UNREACHABLE,
    FWE_TRAP_INT_DIV_ZERO,
    FWE_TRAP_INT_OVERFLOW,
    FWE_TRAP_INVALID_CONVERSION,
    FWE_TRAP_MEMORY_OOB,
    FWE_TRAP_TABLE_OOB,
    FWE_TRAP_INDIRECT_TYPE_MISMATCH,
    FWE_TRAP_UNINITIALIZED_ELEMENT, /* call_indirect through a null entry */
    FWE_TRAP_NULL_REFERENCE,
    FWE_TRAP_STACK_EXHAUSTED,
    FWE_TRAP_INTERRUPTED,
    FWE_TRAP_HOST,           /* a host function reported an error (message set by the host) */
    FWE_TRAP_EXIT,           /* a host function asked to end the guest (e.g. WASI proc_exit) */
    FWE_TRAP_MISSING_IMPORT, /* a stub for an unresolved import was called */
} fwe_trap_kind;

#define FWE_TRAP_MESSAGE_MAX 256
#define FWE_BACKTRACE_MAX 32

typedef struct fwe_frame_info {
    uint32_t func_index;  /* in the defining module's function index space */
    uint32_t code_offset; /* byte offset of the instruction in the module binary (0 if unknown) */
    const char *name;     /* from the name section, or NULL; not NUL-terminated */
    uint32_t name_len;
} fwe_frame_info;

typedef struct fwe_trap {
    fwe_trap_kind kind;
    int exit_code; /* for FWE_TRAP_EXIT */
    char message[FWE_TRAP_MESSAGE_MAX];
    uint32_t nframes; /* innermost first */
    fwe_frame_info frames[FWE_BACKTRACE_MAX];
} fwe_trap;

const char *
fwe_trap_kind_message(fwe_trap_kind kind); /* the spec's wording, e.g. "integer divide by zero" */
/* Formats "message\n  at #0 name (func N) ...\n" into buf; returns bytes that would be written. */
size_t fwe_trap_format(const fwe_trap *trap, char *buf, size_t buflen);

/* ---- host functions ----
 * A host function gets its arguments in `slots` (one uint64_t per i32/i64/f32/f64/ref value, in
 * order; i32 and f32 in the low 32 bits, floats as raw bits; a v128 takes two slots, low half
 * first) and writes its results into `slots` from index 0 (the array holds max(params, results)
 * slots). It returns FWE_TRAP_NONE, or a trap kind after setting a message with fwe_caller_trap().
 */
typedef fwe_trap_kind (*fwe_host_fn)(fwe_caller *caller, uint64_t *slots, void *data);

/* The calling instance's exported/default memory (memory 0), or NULL. */
fwe_memory *fwe_caller_memory(fwe_caller *caller);
fwe_instance *fwe_caller_instance(fwe_caller *caller);
void *fwe_caller_host_data(
    fwe_caller *caller); /* the instance's host data (fwe_instance_set_host_data) */
/* Sets the trap message and returns `kind` so a host can write `return fwe_caller_trap(...)`. */
fwe_trap_kind fwe_caller_trap(fwe_caller *caller, fwe_trap_kind kind, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* For FWE_TRAP_EXIT: records the exit code and returns FWE_TRAP_EXIT. */
fwe_trap_kind fwe_caller_exit(fwe_caller *caller, int code);
/* The wasm call stack the calling thread is executing right now (innermost first): function
 * indexes into funcs[0..max), the entry instance's module in *module (may be NULL). Returns the
 * frames written, 0 when the thread runs no guest code. Async-signal-safe (for sampling
 * profilers' SIGPROF handlers on the running thread); resolve names later with
 * fwe_module_func_name. */
uint32_t fwe_thread_stack(uint32_t *funcs, uint32_t max, const fwe_module **module);
/* The guest call stack at the point of the host call, innermost first; returns frames written. */
uint32_t fwe_caller_backtrace(fwe_caller *caller, fwe_frame_info *frames, uint32_t max);

/* ---- memories, tables, globals (standalone or exported) ---- */
/* The single checked accessor for guest pointers: returns a host pointer to [offset, offset+len)
 * of linear memory, or NULL when any byte lies outside it. The pointer stays valid until the next
 * memory.grow. */
uint8_t *fwe_memory_slice(fwe_memory *mem, uint64_t offset, uint64_t len);
uint8_t *fwe_memory_data(fwe_memory *mem);
uint64_t fwe_memory_size(const fwe_memory *mem); /* bytes */
/* Grows by delta pages; returns the old size in pages or -1 (like memory.grow). */
int64_t fwe_memory_grow(fwe_memory *mem, uint32_t delta_pages);

/* Standalone objects, e.g. for a test harness's "spectest" module. max = UINT32_MAX+1 means none.
 */
fwe_memory *fwe_memory_new(fwe_engine *engine, uint32_t min_pages, uint64_t max_pages);
fwe_table *fwe_table_new(fwe_engine *engine, fwe_valtype elem, uint32_t min, uint64_t max);
fwe_global *fwe_global_new(fwe_engine *engine, fwe_val init, bool mutable_);
/* Free standalone objects (not those owned by an instance). */
void fwe_memory_free(fwe_memory *mem);
void fwe_table_free(fwe_table *table);
void fwe_global_free(fwe_global *global);

fwe_val fwe_global_get(const fwe_global *global);
fwe_status fwe_global_set(fwe_global *global,
                          fwe_val value); /* FWE_ERR_ARGS if immutable/wrong type */
uint32_t fwe_table_size(const fwe_table *table);
bool fwe_table_get(const fwe_table *table, uint32_t index, fwe_val *out);

/* ---- linker: names → externs, used to resolve imports ---- */
fwe_linker *fwe_linker_new(fwe_engine *engine);
void fwe_linker_free(fwe_linker *linker);

/* Defines a host function. `signature` lists parameter then result types, separated by ':', one
 * letter per value: i=i32 I=i64 f=f32 F=f64 v=v128 r=funcref x=externref; e.g. "iiii:i". */
fwe_status fwe_linker_define_host(fwe_linker *linker, const char *module, const char *name,
                                  const char *signature, fwe_host_fn fn, void *data);
typedef struct fwe_host_def {
    const char *module, *name, *signature;
    fwe_host_fn fn;
} fwe_host_def;
/* Defines every entry of a table (terminated by an entry with module == NULL); same `data` for all.
 */
fwe_status fwe_linker_define_hosts(fwe_linker *linker, const fwe_host_def *defs, void *data);
fwe_status fwe_linker_define(fwe_linker *linker, const char *module, const char *name,
                             fwe_extern ext);
/* Makes every export of `instance` importable under `module`. */
fwe_status fwe_linker_define_instance(fwe_linker *linker, const char *module,
                                      fwe_instance *instance);
/* When true, an import the linker lacks links to a stub that traps with FWE_TRAP_MISSING_IMPORT
 * naming the import, instead of failing instantiation. */
void fwe_linker_allow_missing_imports(fwe_linker *linker, bool allow);

/* ---- instances ---- */
typedef struct fwe_instance_config {
    uint64_t max_memory_pages; /* host cap on memory size: memory.grow fails past it, and a larger
                                  initial memory fails instantiation (FWE_ERR_NOMEM); 0 = none */
    uint32_t stack_slots;      /* value stack size in 8-byte slots (0 = default 1M) */
    uint32_t max_call_depth;   /* (0 = default 10000) */
    void *host_data;           /* handed to host functions through fwe_caller_host_data */
    bool defer_start;          /* do not run the start function in fwe_instantiate: the host
                                  runs it with fwe_instance_run_start (e.g. once a deadline that
                                  can interrupt the instance is armed) */
    /* Called after each successful memory.grow of the instance's memory 0 with the host data and
     * the new size in bytes (e.g. for a profiler's memory curve); NULL = none. It must not call
     * back into the instance. */
    void (*on_memory_grow)(void *host_data, uint64_t new_size);
    /* Host cap on the size of each table the instance defines: table.grow fails (-1) past it, and
     * a larger initial size fails instantiation (FWE_ERR_NOMEM); 0 = the engine's own limit (64M
     * elements). Tables are not in linear memory, so max_memory_pages does not bound them. */
    uint32_t max_table_elements;
} fwe_instance_config;

/* Resolves imports through `linker`, builds memories/tables/globals, applies segments and runs the
 * start function. On FWE_ERR_UNLINKABLE the message is in trap->message; on FWE_ERR_TRAP (trap
 * while initialising or in start) `trap` holds details and no instance is returned. `trap` may be
 * NULL. */
fwe_status fwe_instantiate(fwe_linker *linker, const fwe_module *module,
                           const fwe_instance_config *config, fwe_instance **out, fwe_trap *trap);
void fwe_instance_free(fwe_instance *instance);
/* Runs the start function deferred by fwe_instance_config.defer_start (nothing when the module has
 * none, or when it already ran). FWE_ERR_TRAP with details in `trap` when it traps (also when
 * interrupted); after that the instance may only be freed. */
fwe_status fwe_instance_run_start(fwe_instance *instance, fwe_trap *trap);
const fwe_module *fwe_instance_module(const fwe_instance *instance);
void fwe_instance_set_host_data(fwe_instance *instance, void *data);

/* Looks up an export by name. */
bool fwe_instance_export(fwe_instance *instance, const char *name, size_t name_len,
                         fwe_extern *out);
fwe_memory *fwe_instance_memory(fwe_instance *instance, uint32_t index);

/* Calls `func` with typed arguments. Results are written to results[0..nresults). A host function
 * may call back into its own instance this way; such nesting shares the instance's call-depth
 * limit and is bounded (256 levels) so that it traps with FWE_TRAP_STACK_EXHAUSTED instead of
 * exhausting the C stack. */
fwe_status fwe_call(fwe_func *func, const fwe_val *args, size_t nargs, fwe_val *results,
                    size_t nresults, fwe_trap *trap);
void fwe_func_type(const fwe_func *func, fwe_functype_info *out);

/* Asks a running (or the next) call on this instance to stop with FWE_TRAP_INTERRUPTED at the next
 * loop back-edge or call. Safe from any thread and from signal handlers. */
void fwe_instance_interrupt(fwe_instance *instance);
/* Clears a pending interruption. */
void fwe_instance_clear_interrupt(fwe_instance *instance);

/* ---- native tier (tier.c) ----
 * Functions start in the interpreter; hot ones (calls, loop iterations) are compiled to native
 * code in the background with the system C compiler and cached on disk; running frames finish in
 * the tier they started in. FWE_TIER_NATIVE compiles every function a module runs on its first
 * call (functions the generator cannot handle stay interpreted). Process-wide; the default is
 * the environment's FWE_TIER (interp|auto|native), else auto. Set it before loading modules. */
typedef enum fwe_tier_mode {
    FWE_TIER_INTERP = 0,
    FWE_TIER_AUTO = 1,
    FWE_TIER_NATIVE = 2,
} fwe_tier_mode;
void fwe_tier_set(fwe_tier_mode mode);
fwe_tier_mode fwe_tier_get(void);
bool fwe_tier_parse(const char *name, fwe_tier_mode *out); /* "interp", "auto", "native" */
/* Whether the C compiler (FWE_CC, default cc) runs; the first call checks, and when it does not
 * run prints one line saying so (the interpreter then serves everything). */
bool fwe_tier_compiler_available(void);
/* Waits until the background compiler has nothing queued or running (tests, benchmarks). */
void fwe_tier_wait_idle(void);
/* For a one-shot run about to free `m` (`fastlike run`): waits, at most FWE_TIER_SETTLE_MS
 * (default 10000), until the tier has compiled what `m` queued, with the C compiler (whose code
 * the disk cache keeps for the next run); returns whether nothing is left. What is left then is
 * dropped with the module. */
bool fwe_tier_settle(const fwe_module *m);
/* Defined functions of `module` that run native code now. */
uint32_t fwe_module_native_count(const fwe_module *module);
/* How many frames left quick-compiler code for newer code of their function at a loop header
 * (approximate: counted without atomics; tests). */
uint32_t fwe_module_tier_ups(const fwe_module *module);
bool fwe_module_func_is_native(const fwe_module *module, uint32_t func_index);
/* With FWE_TIER_STRICT set (a list of instruction names allowed to keep a function interpreted,
 * or 1 for none), every function that stays interpreted is named on stderr; this returns how
 * many did for a reason not allowed, and copies the first such report into first. */
uint32_t fwe_tier_strict_violations(char *first, size_t n);
/* Process-wide counters of the background compiler (benchmarks, tests; FWE_TIER_LOG=1 also
 * prints a line per batch and when the queue drains). */
typedef struct fwe_tier_stats {
    uint64_t hot;        /* functions queued for compilation (they reached the threshold) */
    uint64_t native;     /* of them published as native code: found in the disk cache or compiled */
    uint64_t from_cache; /* published from the disk cache */
    uint64_t prewarmed;  /* of them, published from the hot profile before getting hot */
    uint64_t compiled;   /* published after compiling them in this process */
    uint64_t quick;      /* published from the quick compiler (tcc), before cc's code */
    uint64_t optimized;  /* quick code replaced by the C compiler's (optimize jobs) */
    uint64_t too_large;  /* left interpreted: more internal code words than FWE_TIER_MAX_WORDS */
    uint64_t refused;    /* left interpreted: an instruction the code generator does not handle */
    uint64_t failed;     /* left interpreted: the compiler or dlopen failed */
    uint64_t batches;    /* batches the compiler thread finished */
    uint64_t compile_ns; /* wall time spent waiting for the C compiler */
    /* time-based hotness (FWE_TIER_SAMPLE_US): samples of running guest code, by where they
     * landed: the interpreter, quick-compiler code, the C compiler's code */
    uint64_t samples_interp, samples_quick, samples_cc;
    uint32_t queued; /* functions waiting now */
    bool busy;       /* a batch is being compiled now */
} fwe_tier_stats;
void fwe_tier_stats_get(fwe_tier_stats *out);

#ifdef __cplusplus
}
#endif
#endif
