/* runtime.h: the engine's run-time objects (function instances, memories, tables, globals,
 * instances, the call frame stack) shared by instance.c, interp.c and the store objects. */
#ifndef FWE_RUNTIME_H
#define FWE_RUNTIME_H

#include "code.h"
#include "module.h"

#include <pthread.h>

#define FWE_POOL_MAX 32 /* pooled memories per module, pooled stacks per engine */

struct fwe_engine {
    pthread_mutex_t lock; /* guards the type table */
    uint32_t ntypes, cap;
    struct fwe_interned_type {
        uint32_t nparams, nresults;
        uint8_t *types;
        uint64_t hash;
    } * types;
    fwe_instance **zombies; /* instances whose initialisation trapped (see engine.c) */
    uint32_t nzombies, cap_zombies;
    /* value+frame stacks of freed instances: reused as they are (validated code never reads a
     * slot before writing it, so stale values are unobservable) */
    void *stacks[FWE_POOL_MAX];
    size_t stack_bytes[FWE_POOL_MAX];
    uint32_t nstacks;
};
void *fwe_engine_take_stack(fwe_engine *engine, size_t bytes);
bool fwe_engine_put_stack(fwe_engine *engine, void *stack, size_t bytes);
void fwe_engine_keep_instance(fwe_engine *engine, fwe_instance *inst);

struct fwe_func {
    uint32_t type_id;
    const fwe_functype *type; /* owned by the defining module, or by the func for host funcs */
    fwe_instance *inst;       /* wasm functions: owning instance; NULL for host functions */
    uint32_t def_index;       /* wasm functions: index into module->funcs */
    uint32_t func_index;      /* index in the owning module's function space (for names) */
    fwe_host_fn host;
    void *host_data;
    fwe_functype host_type;  /* host functions own their type */
    const char *import_name; /* missing-import stubs: "module.name" (owned) */
};

struct fwe_memory {
    uint8_t *base;      /* start of the reservation; never moves */
    uint64_t size;      /* current size in bytes */
    uint64_t max_pages; /* module maximum or FWE_NO_MAX, capped by the host */
    uint64_t reserved;  /* bytes reserved (PROT_NONE beyond size) */
    uint32_t resets;    /* times reset for reuse (template.c) */
};

struct fwe_table {
    fwe_instance *owner; /* resolves lazy entries (see fwe_table_entry); NULL for host tables */
    uint8_t elem;
    uint32_t size;
    uint64_t max;
    uint32_t host_max; /* the host's cap on the size (fwe_instance_config), 0 = none */
    uint32_t cap;
    uint64_t *elems; /* funcref: (uintptr_t)fwe_func*, or (func index << 1) | 1 for a function of
                        `owner` not yet materialised; externref: host word; 0 = null */
};

struct fwe_global {
    uint64_t value[2]; /* v128 uses both words */
    uint8_t type;
    bool mut;
};

typedef struct fwe_frame {
    const fwe_word *ret_pc; /* caller's resume point */
    uint64_t *fp;           /* this function's frame */
    fwe_instance *inst;     /* this function's instance */
    const fwe_code *code;   /* this function's code */
    uint32_t func_index;    /* this function (in its module's index space) */
} fwe_frame;

struct fwe_instance {
    const fwe_module *module;
    fwe_engine *engine;
    fwe_func **funcs;    /* every function index (imports point elsewhere) */
    fwe_func *own_funcs; /* defined functions, lazily initialised (see instance_func) */
    fwe_table **tables;
    fwe_memory **memories;
    fwe_global **globals;
    uint8_t *dropped_elems;     /* per element segment */
    uint8_t *dropped_datas;     /* per data segment */
    fwe_extern *import_externs; /* per import: what the linker resolved it to */
    /* objects this instance created (freed with it) */
    fwe_table **own_tables_list;
    uint32_t nown_tables;
    fwe_memory *own_memory;
    fwe_global *own_globals;

    /* execution state, used by one thread at a time */
    uint64_t *stack; /* value stack */
    uint64_t *stack_end;
    uint32_t stack_len;
    fwe_frame *frames; /* call frame stack */
    uint32_t max_frames;
    uint32_t depth;        /* frames in use during a call (for nested host→guest calls) */
    uint32_t nested_calls; /* fwe_call activations on this instance (host re-entry nests them) */
    bool start_pending; /* the start function has not run yet (fwe_instance_config.defer_start) */
    uint64_t max_memory_pages;
    bool pooled_ok; /* own memory came from the templates: it may return to the pool */
    _Atomic uint32_t interrupt;
    /* tier_sample.c: the list of instances the sampler marks (under its lock), and how many
     * fwe_call activations of this instance are running (only its thread touches it) */
    fwe_instance *sample_prev, *sample_next;
    uint32_t sample_refs;
    bool sample_linked;
    /* the current activation (outermost interpreter entry from the host): where traps are
     * reported and from which frame the backtrace starts, also for native code */
    fwe_trap *act_trap;
    uint32_t act_base;
    fwe_ninst nat; /* this instance as native code sees it (native.h, filled on first use) */
    void *host_data;
    void (*on_memory_grow)(void *host_data, uint64_t new_size); /* fwe_instance_config's */
};

struct fwe_caller {
    fwe_instance *inst;
    fwe_func *func;
    fwe_trap *trap; /* where a host writes its message */
    int exit_code;
};

/* Returns the function instance for function index `idx` of `inst` (initialising it lazily). */
fwe_func *fwe_instance_func(fwe_instance *inst, uint32_t idx);

/* Evaluates an element-segment item (ref.null, ref.func or global.get of a reference) for
 * `inst`: instantiation, and table.init in both tiers. */
uint64_t fwe_elem_item(fwe_instance *inst, const fwe_constexpr *e);

/* Reads funcref/externref table entry i, materialising a lazy funcref entry. */
static inline uint64_t fwe_table_entry(fwe_table *t, uint32_t i)
{
    uint64_t e = t->elems[i];
    if ((e & 1) && t->elem == FWE_FUNCREF) {
        e = (uint64_t)(uintptr_t)fwe_instance_func(t->owner, (uint32_t)(e >> 1));
        t->elems[i] = e;
    }
    return e;
}

/* template.c: per-module instantiation templates (CoW memory image, table and segment-state
 * templates), built once on first use; NULL if they cannot be built. */
typedef struct fwe_templates {
    int mem_fd;             /* memfd holding the initial memory image, or -1 */
    int pagemap_fd;         /* /proc/self/pagemap (which pages a reset must restore), or -1 */
    uint64_t mem_image_len; /* bytes of the image (page multiple, <= initial memory size) */
    const uint8_t *image;   /* the image, mapped read-only (NULL when there is none) */
    bool segments_ok;       /* every active segment is constant and in bounds: use the templates */
    uint8_t *dropped_elems, *dropped_datas;
    uint64_t **tables; /* per defined table: initial entries (lazy funcref encoding) */
    /* memories of freed instances, reset to the initial image, ready for the next instance */
    pthread_mutex_t pool_lock;
    fwe_memory *pool[FWE_POOL_MAX];
    uint32_t npool;
    /* allocations of freed instances (the instance and its arrays, instance.c), same lock */
    void *blocks[FWE_POOL_MAX];
    uint32_t nblocks;
} fwe_templates;
/* Takes a memory in the module's initial state (image mapped, initial size) from the pool. */
fwe_memory *fwe_templates_take_memory(const fwe_templates *t);
/* Resets `mem` to the initial state and pools it; false when it was not kept (caller frees). */
bool fwe_templates_put_memory(const fwe_templates *t, fwe_memory *mem, uint64_t initial_bytes);
/* Takes a freed instance's allocation (see instance.c) from the pool, or NULL. */
void *fwe_templates_take_block(const fwe_templates *t);
/* Pools an instance's allocation; false when the pool is full (caller frees). */
bool fwe_templates_put_block(const fwe_templates *t, void *block);
const fwe_templates *fwe_module_templates(const fwe_module *m);
void fwe_templates_free(fwe_templates *t, const fwe_module *m);
/* Maps the image over the start of `mem` copy-on-write; false if that failed. */
bool fwe_memory_map_image(fwe_memory *mem, const fwe_templates *t);

/* Interprets: calls `func` with arguments in args (slots) and writes results there.
 * Returns FWE_TRAP_NONE or a trap kind with `trap` filled (message + backtrace). */
fwe_trap_kind fwe_interp_call(fwe_instance *caller_inst, fwe_func *func, uint64_t *args,
                              fwe_trap *trap);

/* compile.c: validates the body of defined function `def` (no code produced). */
fwe_status fwe_validate_function(const fwe_module *m, uint32_t def, char *err, size_t errlen);
/* compile.c: translates defined function `def` (already validated) to internal code. */
fwe_code *fwe_compile_function(const fwe_module *m, uint32_t def);
void fwe_code_free(fwe_code *code);
/* Returns the translated code for `def`, translating and publishing it on first use. */
const fwe_code *fwe_module_code(const fwe_module *m, uint32_t def);

/* store.c: memories */
fwe_memory *fwe_memory_create(uint32_t min_pages, uint64_t max_pages);
int64_t fwe_memory_grow_internal(fwe_memory *mem, uint64_t delta_pages, uint64_t cap_pages);
/* store.c: tables */
fwe_table *fwe_table_create(uint8_t elem, uint32_t min, uint64_t max);
int64_t fwe_table_grow_internal(fwe_table *t, uint32_t delta, uint64_t init);

void fwe_global_set_raw(fwe_global *g, fwe_val v);
fwe_val fwe_val_from_slots(uint8_t type, const uint64_t *slots);
void fwe_val_to_slots(fwe_val v, uint64_t *slots);
/* trap.c */
void fwe_trap_set(fwe_trap *trap, fwe_trap_kind kind, const char *message);
/* Fills out[] innermost first from frames[nframes - 1] down to frames[0]. pc is the innermost
 * frame's position and each frame's ret_pc its caller's: a word past the start of the instruction
 * the frame stands at (a return address past a call, or a trapping instruction's first word + 1),
 * so that the word before it names that instruction's wasm offset. */
uint32_t fwe_backtrace_collect(const fwe_instance *inst, const fwe_frame *frames, uint32_t nframes,
                               const fwe_word *pc, fwe_frame_info *out, uint32_t max);

#endif
