/* instance.c: loading modules (decode + validate every body) and instantiating them: import
 * matching, memories/tables/globals, element and data segments, the start function; export
 * lookup, calls from the host with typed values, and what host functions see of their caller. */
#include "linker.h"
#include "native.h"

#include <inttypes.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/mman.h>

#define DEFAULT_STACK_SLOTS (1u << 20)
#define DEFAULT_MAX_DEPTH 10000u
/* Host functions may call back into their instance (fwe_call), each level on the C stack. */
#define FWE_MAX_NESTED_CALLS 256u

/* ---------- modules ---------- */

/* Module identities for the linker's memo (fwe_linker_resolve_module): never reused. */
static _Atomic uint64_t next_module_uid = 1;

fwe_status fwe_module_load(fwe_engine *engine, const uint8_t *bytes, size_t len, fwe_module **out,
                           char *err, size_t errlen)
{
    *out = NULL;
    if (err && errlen)
        err[0] = 0;
    fwe_module *m = calloc(1, sizeof *m);
    if (!m)
        return FWE_ERR_NOMEM;
    m->engine = engine;
    m->uid = atomic_fetch_add(&next_module_uid, 1);
    m->bytes = malloc(len ? len : 1);
    if (!m->bytes) {
        free(m);
        return FWE_ERR_NOMEM;
    }
    memcpy(m->bytes, bytes, len);
    m->len = len;
    fwe_status st = fwe_decode(m, err, errlen);
    for (uint32_t i = 0; st == FWE_OK && i < m->nfuncs - m->nfunc_imports; i++)
        st = fwe_validate_function(m, i, err, errlen);
    if (st != FWE_OK) {
        fwe_module_free(m);
        return st;
    }
    fwe_tier_module_init(m);
    *out = m;
    return FWE_OK;
}

void fwe_module_free(fwe_module *m)
{
    if (!m)
        return;
    fwe_tier_module_free(m);
    if (m->funcs)
        for (uint32_t i = 0; i < m->nfuncs - m->nfunc_imports; i++)
            fwe_code_free(atomic_load(&m->funcs[i].code));
    fwe_templates_free(atomic_load(&m->templates), m);
    fwe_decode_free(m);
    free(m->bytes);
    free(m);
}

static void functype_info(const fwe_functype *t, fwe_functype_info *out)
{
    out->nparams = t->nparams;
    out->nresults = t->nresults;
    out->params = t->types;
    out->results = t->types + t->nparams;
}

uint32_t fwe_module_import_count(const fwe_module *m)
{
    return m->nimports;
}
void fwe_module_import(const fwe_module *m, uint32_t i, fwe_import_info *out)
{
    const fwe_import *imp = &m->imports[i];
    memset(out, 0, sizeof *out);
    out->module = imp->module;
    out->module_len = imp->module_len;
    out->name = imp->name;
    out->name_len = imp->name_len;
    out->kind = (fwe_extern_kind)imp->kind;
    if (imp->kind == FWE_EXTERN_FUNC)
        functype_info(&m->types[imp->desc.type_index], &out->func);
}
uint32_t fwe_module_export_count(const fwe_module *m)
{
    return m->nexports;
}
void fwe_module_export(const fwe_module *m, uint32_t i, fwe_export_info *out)
{
    out->name = m->exports[i].name;
    out->name_len = m->exports[i].name_len;
    out->kind = (fwe_extern_kind)m->exports[i].kind;
    out->index = m->exports[i].index;
}
uint32_t fwe_module_func_count(const fwe_module *m)
{
    return m->nfuncs;
}
uint32_t fwe_module_memory_min_pages(const fwe_module *m)
{
    return m->nmemories > m->nmemory_imports ? m->memories[m->nmemory_imports].min : 0;
}
uint32_t fwe_module_table_min_elements(const fwe_module *m)
{
    uint32_t most = 0;
    for (uint32_t i = m->ntable_imports; i < m->ntables; i++)
        if (m->tables[i].limits.min > most)
            most = m->tables[i].limits.min;
    return most;
}
const char *fwe_module_func_name(const fwe_module *m, uint32_t index, uint32_t *len)
{
    if (!m->func_names || index >= m->nfuncs || !m->func_names[index].str)
        return NULL;
    if (len)
        *len = m->func_names[index].len;
    return m->func_names[index].str;
}

/* ---------- functions ---------- */

fwe_func *fwe_instance_func(fwe_instance *inst, uint32_t idx)
{
    const fwe_module *m = inst->module;
    if (idx < m->nfunc_imports)
        return inst->funcs[idx];
    fwe_func *f = &inst->own_funcs[idx - m->nfunc_imports];
    if (!f->type) {
        f->type = &m->types[m->func_types[idx]];
        f->type_id = f->type->id;
        f->inst = inst;
        f->def_index = idx - m->nfunc_imports;
        f->func_index = idx;
    }
    return f;
}

void fwe_func_type(const fwe_func *f, fwe_functype_info *out)
{
    functype_info(f->type, out);
}

/* ---------- instantiation ---------- */

static void set_msg(fwe_trap *trap, fwe_trap_kind kind, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void set_msg(fwe_trap *trap, fwe_trap_kind kind, const char *fmt, ...)
{
    if (!trap)
        return;
    memset(trap, 0, sizeof *trap);
    trap->kind = kind;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(trap->message, sizeof trap->message, fmt, ap);
    va_end(ap);
}

static bool limits_match(uint64_t have_min, uint64_t have_max, uint64_t want_min, uint64_t want_max)
{
    if (have_min < want_min)
        return false;
    if (want_max >= FWE_NO_MAX)
        return true;
    return have_max < FWE_NO_MAX && have_max <= want_max;
}

static uint64_t eval_const(fwe_instance *inst, const fwe_constexpr *e, uint64_t *hi)
{
    *hi = 0;
    switch (e->op) {
    case FWE_CONST_I32:
        return (uint32_t)e->value.i64;
    case FWE_CONST_I64:
    case FWE_CONST_F64:
        return e->value.i64;
    case FWE_CONST_F32:
        return (uint32_t)e->value.i64;
    case FWE_CONST_V128: {
        uint64_t lo;
        memcpy(&lo, e->value.v128, 8);
        memcpy(hi, e->value.v128 + 8, 8);
        return lo;
    }
    case FWE_CONST_REF_NULL:
        return 0;
    case FWE_CONST_REF_FUNC:
        return (uint64_t)(uintptr_t)fwe_instance_func(inst, e->index);
    case FWE_CONST_GLOBAL_GET:
        *hi = inst->globals[e->index]->value[1];
        return inst->globals[e->index]->value[0];
    }
    return 0;
}

uint64_t fwe_elem_item(fwe_instance *inst, const fwe_constexpr *e)
{
    uint64_t hi;
    return eval_const(inst, e, &hi);
}

static void *map_lazy(size_t bytes)
{
    void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
                   -1, 0);
    return p == MAP_FAILED ? NULL : p;
}

/* The instance whose frame stack the calling thread is running (innermost fwe_call), for
 * fwe_thread_stack; read from signal handlers on the same thread. */
static _Thread_local fwe_instance *tls_running;

static fwe_trap_kind interp_call_tracked(fwe_instance *entry, fwe_func *f, uint64_t *slots,
                                         fwe_trap *trap)
{
    fwe_instance *prev = tls_running;
    bool sample = entry->module->tier_sample;
    if (sample)
        fwe_tier_sample_enter(entry);
    tls_running = entry;
    atomic_signal_fence(memory_order_seq_cst);
    fwe_trap_kind k = fwe_interp_call(entry, f, slots, trap);
    atomic_signal_fence(memory_order_seq_cst);
    tls_running = prev;
    if (sample)
        fwe_tier_sample_leave(entry);
    return k;
}

uint32_t fwe_thread_stack(uint32_t *funcs, uint32_t max, const fwe_module **module)
{
    fwe_instance *e = tls_running;
    if (!e || !e->frames || max == 0)
        return 0;
    atomic_signal_fence(memory_order_seq_cst);
    uint32_t d = e->depth;
    if (d >= e->max_frames)
        d = e->max_frames - 1;
    uint32_t n = 0;
    for (uint32_t i = d; i >= 1 && n < max; i--)
        funcs[n++] = e->frames[i].func_index;
    if (module)
        *module = e->module;
    return n;
}

static size_t round16(size_t n)
{
    return (n + 15) & ~(size_t)15;
}

/* The instance and its per-module arrays (functions, tables, memories, globals, segment states)
 * live in one allocation, laid out the same way for every instance of a module. Sizes of the
 * arrays in order; returns the whole size. */
#define NPARTS 10
#define OWN_FUNCS_PART 1
static size_t instance_layout(const fwe_module *m, size_t sizes[NPARTS])
{
    sizes[0] = (m->nfunc_imports + 1) * sizeof(fwe_func *);
    sizes[OWN_FUNCS_PART] = (m->nfuncs - m->nfunc_imports + 1) * sizeof(fwe_func);
    sizes[2] = (m->ntables + 1) * sizeof(fwe_table *);
    sizes[3] = m->nmemories * sizeof(fwe_memory *);
    sizes[4] = (m->nglobals + 1) * sizeof(fwe_global *);
    sizes[5] = (m->ntables + 1) * sizeof(fwe_table *);
    sizes[6] = (m->nglobals - m->nglobal_imports + 1) * sizeof(fwe_global);
    sizes[7] = m->nelems + 1;
    sizes[8] = m->ndatas + 1;
    sizes[9] = (m->nimports + 1) * sizeof(fwe_extern); /* the imports' externs while linking */
    size_t total = round16(sizeof(fwe_instance));
    for (size_t i = 0; i < NPARTS; i++)
        total += round16(sizes[i]);
    return total;
}

/* A zeroed instance with its arrays: one allocation per instantiation instead of ten, taken from
 * the module's pool when a freed instance left one there. A pooled block keeps its defined
 * functions (own_funcs) as they were: they are materialised from the module and the instance's
 * address alone, both the same again, so the largest array need not be cleared (1.2 MB for a
 * JS SDK guest). Everything else is zeroed. */
static fwe_instance *instance_alloc(const fwe_module *m, const fwe_templates *tpl)
{
    size_t sizes[NPARTS];
    size_t total = instance_layout(m, sizes);
    uint8_t *p = tpl ? fwe_templates_take_block(tpl) : NULL;
    size_t off = round16(sizeof(fwe_instance));
    if (p) {
        size_t funcs_at = off + round16(sizes[0]);
        size_t funcs_end = funcs_at + round16(sizes[OWN_FUNCS_PART]);
        memset(p, 0, funcs_at);
        memset(p + funcs_end, 0, total - funcs_end);
    } else {
        p = calloc(1, total);
        if (!p)
            return NULL;
    }
    fwe_instance *inst = (fwe_instance *)(void *)p;
    void *parts[NPARTS];
    for (size_t i = 0; i < NPARTS; i++) {
        parts[i] = p + off;
        off += round16(sizes[i]);
    }
    inst->funcs = parts[0];
    inst->own_funcs = parts[OWN_FUNCS_PART];
    inst->tables = parts[2];
    inst->memories = m->nmemories ? parts[3] : NULL;
    inst->globals = parts[4];
    inst->own_tables_list = parts[5];
    inst->own_globals = parts[6];
    inst->dropped_elems = parts[7];
    inst->dropped_datas = parts[8];
    inst->import_externs = parts[9];
    return inst;
}

/* Runs the module's start function once, if it has one and it has not run. */
static fwe_trap_kind run_start(fwe_instance *inst, fwe_trap *trap)
{
    if (!inst->start_pending)
        return FWE_TRAP_NONE;
    inst->start_pending = false;
    fwe_func *f = fwe_instance_func(inst, inst->module->start);
    uint64_t slots[2] = {0, 0};
    if (!f->host)
        return interp_call_tracked(inst, f, slots, trap);
    fwe_caller caller = {inst, f, trap, 0};
    fwe_trap_kind k = f->host(&caller, slots, f->host_data);
    if (k != FWE_TRAP_NONE)
        trap->kind = k;
    return k;
}

fwe_status fwe_instance_run_start(fwe_instance *inst, fwe_trap *trap)
{
    fwe_trap local_trap;
    if (!trap)
        trap = &local_trap;
    memset(trap, 0, sizeof *trap);
    return run_start(inst, trap) == FWE_TRAP_NONE ? FWE_OK : FWE_ERR_TRAP;
}

/* True when the module's functions could be referenced from outside its instance while it
 * initialises: it imports a table, a mutable funcref global, or a function with a funcref
 * parameter. */
static bool functions_may_escape(const fwe_module *m)
{
    for (uint32_t i = 0; i < m->nimports; i++) {
        const fwe_import *imp = &m->imports[i];
        if (imp->kind == FWE_EXTERN_TABLE)
            return true;
        if (imp->kind == FWE_EXTERN_GLOBAL && imp->desc.global.mut &&
            imp->desc.global.type == FWE_FUNCREF)
            return true;
        if (imp->kind == FWE_EXTERN_FUNC) {
            const fwe_functype *t = &m->types[imp->desc.type_index];
            for (uint32_t k = 0; k < t->nparams; k++)
                if (t->types[k] == FWE_FUNCREF)
                    return true;
        }
    }
    return false;
}

/* Instantiation phase 1: resolves and type-checks every import into the instance's index spaces;
 * counts[0..3] receive how many functions, tables, memories and globals were imported. */
static bool resolve_imports(fwe_linker *linker, const fwe_module *m, fwe_instance *inst,
                            uint32_t counts[4], fwe_trap *trap)
{
    uint32_t nf = 0, nt = 0, nm = 0, ng = 0;
    uint32_t resolved = fwe_linker_resolve_module(linker, m, inst->import_externs);
    if (resolved < m->nimports) {
        const fwe_import *imp = &m->imports[resolved];
        set_msg(trap, FWE_TRAP_HOST, "unknown import: %.*s.%.*s", (int)imp->module_len, imp->module,
                (int)imp->name_len, imp->name);
        return false;
    }
    for (uint32_t i = 0; i < m->nimports; i++) {
        const fwe_import *imp = &m->imports[i];
        const fwe_functype *want =
            imp->kind == FWE_EXTERN_FUNC ? &m->types[imp->desc.type_index] : NULL;
        fwe_extern ext = inst->import_externs[i];
        bool ok = ext.kind == imp->kind;
        if (ok)
            switch (imp->kind) {
            case FWE_EXTERN_FUNC:
                ok = ext.of.func->type_id == want->id;
                if (ok)
                    inst->funcs[nf++] = ext.of.func;
                break;
            case FWE_EXTERN_TABLE:
                ok = ext.of.table->elem == imp->desc.table.elem &&
                     limits_match(ext.of.table->size, ext.of.table->max, imp->desc.table.limits.min,
                                  imp->desc.table.limits.max);
                if (ok)
                    inst->tables[nt++] = ext.of.table;
                break;
            case FWE_EXTERN_MEMORY:
                ok = limits_match(ext.of.memory->size / FWE_PAGE_SIZE, ext.of.memory->max_pages,
                                  imp->desc.memory.min, imp->desc.memory.max);
                if (ok)
                    inst->memories[nm++] = ext.of.memory;
                break;
            case FWE_EXTERN_GLOBAL:
                ok = ext.of.global->type == imp->desc.global.type &&
                     ext.of.global->mut == imp->desc.global.mut;
                if (ok)
                    inst->globals[ng++] = ext.of.global;
                break;
            }
        if (!ok) {
            set_msg(trap, FWE_TRAP_HOST, "incompatible import type: %.*s.%.*s",
                    (int)imp->module_len, imp->module, (int)imp->name_len, imp->name);
            return false;
        }
    }
    counts[0] = nf;
    counts[1] = nt;
    counts[2] = nm;
    counts[3] = ng;
    return true;
}

/* Instantiation phase 3 (slow path, without templates): applies element segments, then data
 * segments, in order, as the spec describes; false with the trap set when one is out of bounds. */
static bool apply_segments(const fwe_module *m, fwe_instance *inst, fwe_trap *trap)
{
    for (uint32_t i = 0; i < m->nelems; i++) {
        const fwe_elem_segment *seg = &m->elems[i];
        if (seg->mode == FWE_SEG_ACTIVE) {
            uint64_t hi;
            uint64_t off = (uint32_t)eval_const(inst, &seg->offset, &hi);
            fwe_table *t = inst->tables[seg->table];
            if (off + seg->count > t->size) {
                set_msg(trap, FWE_TRAP_TABLE_OOB, "out of bounds table access");
                return false;
            }
            for (uint32_t k = 0; k < seg->count; k++)
                t->elems[off + k] = fwe_elem_item(inst, &seg->items[k]);
        }
        if (seg->mode != FWE_SEG_PASSIVE)
            inst->dropped_elems[i] = 1;
    }
    for (uint32_t i = 0; i < m->ndatas; i++) {
        const fwe_data_segment *seg = &m->datas[i];
        if (seg->mode != FWE_SEG_ACTIVE)
            continue;
        uint64_t hi;
        uint64_t off = (uint32_t)eval_const(inst, &seg->offset, &hi);
        fwe_memory *mem = inst->memories[seg->memory];
        if (off + seg->len > mem->size) {
            set_msg(trap, FWE_TRAP_MEMORY_OOB, "out of bounds memory access");
            return false;
        }
        if (seg->len)
            memcpy(mem->base + off, seg->bytes, seg->len);
        inst->dropped_datas[i] = 1;
    }
    return true;
}

fwe_status fwe_instantiate(fwe_linker *linker, const fwe_module *m, const fwe_instance_config *cfg,
                           fwe_instance **out, fwe_trap *trap)
{
    fwe_trap local_trap;
    if (!trap)
        trap = &local_trap;
    memset(trap, 0, sizeof *trap);
    *out = NULL;
    fwe_instance *inst = instance_alloc(m, fwe_module_templates(m));
    if (!inst)
        return FWE_ERR_NOMEM;
    inst->module = m;
    inst->engine = m->engine;
    uint32_t stack_slots = cfg && cfg->stack_slots ? cfg->stack_slots : DEFAULT_STACK_SLOTS;
    inst->max_frames = (cfg && cfg->max_call_depth ? cfg->max_call_depth : DEFAULT_MAX_DEPTH) + 2;
    inst->max_memory_pages = cfg ? cfg->max_memory_pages : 0;
    inst->host_data = cfg ? cfg->host_data : NULL;
    inst->on_memory_grow = cfg ? cfg->on_memory_grow : NULL;
    /* value stack and frame stack share one lazily-backed mapping (one syscall each way); one
     * frame record more than the limit: native code stores the return pc of a call into the
     * callee's record before the callee checks the limit (native_gen.c) */
    size_t stack_bytes =
        (size_t)stack_slots * sizeof(uint64_t) + ((size_t)inst->max_frames + 1) * sizeof(fwe_frame);
    inst->stack = fwe_engine_take_stack(m->engine, stack_bytes);
    if (!inst->stack)
        inst->stack = map_lazy(stack_bytes);
    inst->stack_len = stack_slots;
    inst->stack_end = inst->stack ? inst->stack + stack_slots : NULL;
    inst->frames = inst->stack ? (fwe_frame *)(void *)inst->stack_end : NULL;
    fwe_status st = FWE_ERR_NOMEM;
    if (!inst->stack || !inst->frames) {
        set_msg(trap, FWE_TRAP_HOST, "out of memory");
        goto fail;
    }

    /* imports */
    uint32_t counts[4];
    if (!resolve_imports(linker, m, inst, counts, trap)) {
        st = FWE_ERR_UNLINKABLE;
        goto fail;
    }
    uint32_t nt = counts[1], nm = counts[2], ng = counts[3];

    /* own tables, memory, globals */
    uint32_t table_cap = cfg ? cfg->max_table_elements : 0;
    for (uint32_t i = nt; i < m->ntables; i++) {
        if (table_cap && m->tables[i].limits.min > table_cap) {
            set_msg(trap, FWE_TRAP_HOST,
                    "table %" PRIu32 "'s initial size of %" PRIu32
                    " elements exceeds the host's limit of %" PRIu32 " elements",
                    i, m->tables[i].limits.min, table_cap);
            st = FWE_ERR_NOMEM;
            goto fail;
        }
        fwe_table *t =
            fwe_table_create(m->tables[i].elem, m->tables[i].limits.min, m->tables[i].limits.max);
        if (!t)
            goto fail_nomem;
        t->host_max = table_cap;
        t->owner = inst;
        inst->tables[i] = t;
        inst->own_tables_list[inst->nown_tables++] = t;
    }
    const fwe_templates *tpl = fwe_module_templates(m);
    bool fast = tpl && tpl->segments_ok;
    bool memory_ready = false; /* a pooled memory already holds the initial image */
    if (m->nmemories > nm) {
        /* the host cap covers the declared size too, or a module could simply ask for more */
        if (inst->max_memory_pages && m->memories[nm].min > inst->max_memory_pages) {
            set_msg(trap, FWE_TRAP_HOST,
                    "the module's initial memory of %" PRIu32
                    " pages exceeds the host's limit of %" PRIu64 " pages",
                    m->memories[nm].min, inst->max_memory_pages);
            st = FWE_ERR_NOMEM;
            goto fail;
        }
        inst->own_memory = fast ? fwe_templates_take_memory(tpl) : NULL;
        memory_ready = inst->own_memory != NULL;
        if (!inst->own_memory)
            inst->own_memory = fwe_memory_create(m->memories[nm].min, m->memories[nm].max);
        if (!inst->own_memory)
            goto fail_nomem;
        inst->memories[nm] = inst->own_memory;
    }
    for (uint32_t i = ng; i < m->nglobals; i++) {
        const fwe_global_def *d = &m->globals[i - m->nglobal_imports];
        fwe_global *g = &inst->own_globals[i - m->nglobal_imports];
        g->type = d->type.type;
        g->mut = d->type.mut;
        g->value[0] = eval_const(inst, &d->init, &g->value[1]);
        inst->globals[i] = g;
    }

    /* fast path: start from the module's templates (CoW memory image, table contents) */
    if (fast &&
        (!inst->own_memory || memory_ready || fwe_memory_map_image(inst->own_memory, tpl))) {
        for (uint32_t i = m->ntable_imports; i < m->ntables; i++)
            memcpy(inst->tables[i]->elems, tpl->tables[i],
                   sizeof(uint64_t) * m->tables[i].limits.min);
        memcpy(inst->dropped_elems, tpl->dropped_elems, m->nelems);
        memcpy(inst->dropped_datas, tpl->dropped_datas, m->ndatas);
        inst->pooled_ok = true;
        goto start;
    }

    /* element segments, then data segments, in order; a failing one traps */
    if (!apply_segments(m, inst, trap)) {
        st = FWE_ERR_TRAP;
        goto fail_keep;
    }

start:
    inst->start_pending = m->has_start;
    if (!(cfg && cfg->defer_start) && run_start(inst, trap) != FWE_TRAP_NONE) {
        st = FWE_ERR_TRAP;
        goto fail_keep;
    }
    *out = inst;
    return FWE_OK;

fail_nomem:
    set_msg(trap, FWE_TRAP_HOST, "out of memory");
    st = FWE_ERR_NOMEM;
fail:
    fwe_instance_free(inst);
    return st;
fail_keep:
    /* Only through an imported table, an imported mutable funcref global or a host function taking
     * a funcref can the instance's functions have reached the outside before the trap. Otherwise
     * nothing refers to it any more: free it now. When something might, keep it alive; the engine
     * frees it last, possibly after its module, so it must not return memory to the module. */
    if (!functions_may_escape(m)) {
        fwe_instance_free(inst);
        return st;
    }
    inst->pooled_ok = false;
    fwe_engine_keep_instance(m->engine, inst);
    return st;
}

void fwe_instance_free(fwe_instance *inst)
{
    if (!inst)
        return;
    size_t stack_bytes = (size_t)inst->stack_len * sizeof(uint64_t) +
                         ((size_t)inst->max_frames + 1) * sizeof(fwe_frame);
    if (inst->stack && !fwe_engine_put_stack(inst->engine, inst->stack, stack_bytes))
        munmap(inst->stack, stack_bytes);
    for (uint32_t i = 0; i < inst->nown_tables; i++)
        fwe_table_free(inst->own_tables_list[i]);
    /* a memory that started from the templates goes back to the module's pool */
    const fwe_module *m = inst->module; /* read only for pooled instances: see fail_keep */
    const fwe_templates *tpl = inst->pooled_ok ? atomic_load(&((fwe_module *)m)->templates) : NULL;
    if (!(inst->own_memory && tpl && tpl->segments_ok &&
          fwe_templates_put_memory(tpl, inst->own_memory,
                                   (uint64_t)m->memories[m->nmemory_imports].min * FWE_PAGE_SIZE)))
        fwe_memory_free(inst->own_memory);
    /* the instance's block, with its arrays (instance_alloc), back to the module's pool */
    if (!(tpl && fwe_templates_put_block(tpl, inst)))
        free(inst);
}

const fwe_module *fwe_instance_module(const fwe_instance *inst)
{
    return inst->module;
}
void fwe_instance_set_host_data(fwe_instance *inst, void *data)
{
    inst->host_data = data;
}
void fwe_instance_interrupt(fwe_instance *inst)
{
    atomic_store(&inst->interrupt, 1);
}
void fwe_instance_clear_interrupt(fwe_instance *inst)
{
    atomic_store(&inst->interrupt, 0);
}

fwe_memory *fwe_instance_memory(fwe_instance *inst, uint32_t index)
{
    return index < inst->module->nmemories ? inst->memories[index] : NULL;
}

bool fwe_instance_export(fwe_instance *inst, const char *name, size_t len, fwe_extern *out)
{
    const fwe_module *m = inst->module;
    for (uint32_t i = 0; i < m->nexports; i++) {
        const fwe_export *e = &m->exports[i];
        if (e->name_len != len || memcmp(e->name, name, len) != 0)
            continue;
        out->kind = (fwe_extern_kind)e->kind;
        switch (e->kind) {
        case FWE_EXTERN_FUNC:
            out->of.func = fwe_instance_func(inst, e->index);
            break;
        case FWE_EXTERN_TABLE:
            out->of.table = inst->tables[e->index];
            break;
        case FWE_EXTERN_MEMORY:
            out->of.memory = inst->memories[e->index];
            break;
        case FWE_EXTERN_GLOBAL:
            out->of.global = inst->globals[e->index];
            break;
        }
        return true;
    }
    return false;
}

/* ---------- calls ---------- */

fwe_status fwe_call(fwe_func *f, const fwe_val *args, size_t nargs, fwe_val *results,
                    size_t nresults, fwe_trap *trap)
{
    fwe_trap local_trap;
    if (!trap)
        trap = &local_trap;
    memset(trap, 0, sizeof *trap);
    const fwe_functype *t = f->type;
    if (nargs != t->nparams || nresults != t->nresults)
        return FWE_ERR_ARGS;
    uint32_t nslots = t->param_slots > t->result_slots ? t->param_slots : t->result_slots;
    uint64_t small[16];
    uint64_t *slots = nslots <= 16 ? small : calloc(nslots, sizeof(uint64_t));
    if (!slots)
        return FWE_ERR_NOMEM;
    uint32_t s = 0;
    for (uint32_t i = 0; i < t->nparams; i++) {
        if ((uint8_t)args[i].type != t->types[i]) {
            if (slots != small)
                free(slots);
            return FWE_ERR_ARGS;
        }
        fwe_val_to_slots(args[i], slots + s);
        s += fwe_valtype_slots(t->types[i]);
    }
    fwe_trap_kind k;
    if (f->host) {
        fwe_caller caller = {NULL, f, trap, 0};
        k = f->host(&caller, slots, f->host_data);
        if (k != FWE_TRAP_NONE) {
            trap->kind = k;
            if (k == FWE_TRAP_EXIT)
                trap->exit_code = caller.exit_code;
        }
    } else if (f->inst->nested_calls >= FWE_MAX_NESTED_CALLS) {
        /* each host re-entry also takes C stack: bound it so it traps instead of overflowing */
        set_msg(trap, FWE_TRAP_STACK_EXHAUSTED,
                "call stack exhausted: more than %u nested calls into the instance from host "
                "functions",
                FWE_MAX_NESTED_CALLS);
        k = FWE_TRAP_STACK_EXHAUSTED;
    } else {
        f->inst->nested_calls++;
        k = interp_call_tracked(f->inst, f, slots, trap);
        f->inst->nested_calls--;
    }
    if (k == FWE_TRAP_NONE) {
        s = 0;
        for (uint32_t i = 0; i < t->nresults; i++) {
            uint8_t rt = t->types[t->nparams + i];
            results[i] = fwe_val_from_slots(rt, slots + s);
            s += fwe_valtype_slots(rt);
        }
    }
    if (slots != small)
        free(slots);
    return k == FWE_TRAP_NONE ? FWE_OK : FWE_ERR_TRAP;
}

/* ---------- the caller view for host functions ---------- */

fwe_memory *fwe_caller_memory(fwe_caller *c)
{
    return c->inst && c->inst->module->nmemories ? c->inst->memories[0] : NULL;
}
fwe_instance *fwe_caller_instance(fwe_caller *c)
{
    return c->inst;
}
void *fwe_caller_host_data(fwe_caller *c)
{
    return c->inst ? c->inst->host_data : NULL;
}

fwe_trap_kind fwe_caller_trap(fwe_caller *c, fwe_trap_kind kind, const char *fmt, ...)
{
    if (c->trap) {
        c->trap->kind = kind;
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(c->trap->message, sizeof c->trap->message, fmt, ap);
        va_end(ap);
    }
    return kind;
}

fwe_trap_kind fwe_caller_exit(fwe_caller *c, int code)
{
    c->exit_code = code;
    if (c->trap) {
        c->trap->exit_code = code;
        snprintf(c->trap->message, sizeof c->trap->message, "exit with code %d", code);
    }
    return FWE_TRAP_EXIT;
}

uint32_t fwe_caller_backtrace(fwe_caller *c, fwe_frame_info *frames, uint32_t max)
{
    fwe_instance *e = c->inst;
    if (!e || !e->depth)
        return 0;
    const fwe_word *pc = e->depth + 1 < e->max_frames ? e->frames[e->depth + 1].ret_pc : NULL;
    return fwe_backtrace_collect(e, e->frames + 1, e->depth, pc, frames, max);
}
