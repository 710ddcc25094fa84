/* native_rt.c: what native code calls back into: trap reporting (the interpreter's messages and
 * backtraces), calls that are not native-to-native (host functions, interpreted callees, other
 * instances), call_indirect's checks, memory.grow and ref.func; and the per-activation context
 * (fwe_nctx) with the C stack limit that bounds native recursion. */
#include "native.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

_Static_assert(sizeof(fwe_nframe) == sizeof(fwe_frame), "frame layout");
_Static_assert(offsetof(fwe_nframe, fp) == offsetof(fwe_frame, fp), "frame layout");
_Static_assert(offsetof(fwe_nframe, inst) == offsetof(fwe_frame, inst), "frame layout");
_Static_assert(offsetof(fwe_nframe, code) == offsetof(fwe_frame, code), "frame layout");
_Static_assert(offsetof(fwe_nframe, func_index) == offsetof(fwe_frame, func_index), "frame layout");
_Static_assert(offsetof(fwe_nmem, base) == offsetof(fwe_memory, base), "memory layout");
_Static_assert(offsetof(fwe_nmem, size) == offsetof(fwe_memory, size), "memory layout");
_Static_assert(offsetof(fwe_global, value) == 0, "global layout");
_Static_assert(offsetof(fwe_ntable, size) == offsetof(fwe_table, size), "table layout");
_Static_assert(offsetof(fwe_ntable, elems) == offsetof(fwe_table, elems), "table layout");
_Static_assert(offsetof(fwe_nfunc, type_id) == offsetof(fwe_func, type_id), "func layout");
_Static_assert(offsetof(fwe_nfunc, inst) == offsetof(fwe_func, inst), "func layout");
_Static_assert(offsetof(fwe_nfunc, def_index) == offsetof(fwe_func, def_index), "func layout");

/* C stack below which native code traps "call stack exhausted" (native calls recurse in C):
 * the calling thread's stack bottom plus a margin for host functions and the interpreter. */
#define CSTACK_MARGIN (256u * 1024u)
static _Thread_local const char *tls_climit;

static const char *cstack_limit(void)
{
    if (tls_climit)
        return tls_climit;
    pthread_attr_t attr;
    void *lo = NULL;
    size_t size = 0;
    if (pthread_getattr_np(pthread_self(), &attr) == 0) {
        pthread_attr_getstack(&attr, &lo, &size);
        pthread_attr_destroy(&attr);
    }
    if (!lo || size <= 2 * CSTACK_MARGIN) {
        /* unknown: allow 1 MiB below here */
        uintptr_t here = (uintptr_t)__builtin_frame_address(0);
        tls_climit = (const char *)(here > (1u << 20) ? here - (1u << 20) : 0);
    } else {
        tls_climit = (const char *)lo + CSTACK_MARGIN;
    }
    return tls_climit;
}

static fwe_instance *entry_of(fwe_nctx *cx)
{
    return (fwe_instance *)cx->entry;
}

static void report(fwe_nctx *cx, fwe_trap_kind kind, const char *msg, const uint32_t *pc)
{
    fwe_instance *e = entry_of(cx);
    fwe_trap *trap = e->act_trap;
    if (!trap)
        return;
    if (msg)
        fwe_trap_set(trap, kind, msg);
    trap->kind = kind;
    uint32_t depth = e->depth;
    trap->nframes = fwe_backtrace_collect(e, e->frames + e->act_base + 1, depth - e->act_base, pc,
                                          trap->frames, FWE_BACKTRACE_MAX);
}

/* cx->trap: pc is a word past the start of the instruction the trap names (a return address, or
 * a trapping instruction's first word + 1), as fwe_backtrace_collect expects. */
static uint32_t rt_trap(fwe_nctx *cx, uint32_t kind, const uint32_t *pc)
{
    report(cx, (fwe_trap_kind)kind,
           kind == FWE_TRAP_HOST ? "native code entered at an unknown loop header"
                                 : fwe_trap_kind_message((fwe_trap_kind)kind),
           pc);
    return kind;
}

/* A trap inside the instruction whose first word is at pc. */
static uint32_t trap_in(fwe_nctx *cx, uint32_t kind, const uint32_t *pc)
{
    return rt_trap(cx, kind, pc + 1);
}

/* Calls `callee` with arguments at nfp from native code of `inst`. */
static uint32_t invoke(fwe_nctx *cx, fwe_instance *inst, fwe_func *callee, uint64_t *nfp,
                       const uint32_t *ret_pc)
{
    fwe_instance *e = entry_of(cx);
    /* a sample bit is left for the callee's entry or the caller's next loop check */
    if (atomic_load_explicit(&e->interrupt, memory_order_relaxed) & ~FWE_INTERRUPT_SAMPLE)
        return rt_trap(cx, FWE_TRAP_INTERRUPTED, ret_pc);
    if (callee->host) {
        uint32_t depth = e->depth;
        fwe_caller caller = {inst, callee, e->act_trap, 0};
        e->frames[depth + 1 < e->max_frames ? depth + 1 : depth].ret_pc = ret_pc;
        fwe_trap_kind hk = callee->host(&caller, nfp, callee->host_data);
        if (hk != FWE_TRAP_NONE) {
            fwe_trap *trap = e->act_trap;
            if (trap) {
                trap->kind = hk;
                if (hk == FWE_TRAP_EXIT)
                    trap->exit_code = caller.exit_code;
            }
            report(cx, hk, NULL, ret_pc);
        }
        return hk;
    }
    fwe_instance *ci = callee->inst;
    fwe_nfn fn = fwe_native_fn(ci->module, callee->def_index);
    if (fn)
        return fn(cx, fwe_native_inst(ci), nfp, ret_pc, &ci->module->ndefs[callee->def_index], 0);
    return fwe_interp_inner(e, callee, nfp, ret_pc);
}

static uint32_t rt_call(fwe_nctx *cx, fwe_ninst *ni, uint32_t func_index, uint64_t *nfp,
                        const uint32_t *pc, const uint32_t *ret_pc)
{
    (void)pc;
    fwe_instance *inst = ni->inst;
    return invoke(cx, inst, fwe_instance_func(inst, func_index), nfp, ret_pc);
}

static uint32_t rt_call_indirect(fwe_nctx *cx, fwe_ninst *ni, uint32_t type_id, uint32_t table,
                                 uint32_t idx, uint64_t *nfp, const uint32_t *pc,
                                 const uint32_t *ret_pc)
{
    fwe_instance *inst = ni->inst;
    fwe_table *t = inst->tables[table];
    if (idx >= t->size) {
        report(cx, FWE_TRAP_TABLE_OOB, "undefined element", pc + 1);
        return FWE_TRAP_TABLE_OOB;
    }
    fwe_func *callee = (fwe_func *)(uintptr_t)fwe_table_entry(t, idx);
    if (!callee) {
        char msg[64];
        snprintf(msg, sizeof msg, "uninitialized element %u", idx);
        report(cx, FWE_TRAP_UNINITIALIZED_ELEMENT, msg, pc + 1);
        return FWE_TRAP_UNINITIALIZED_ELEMENT;
    }
    if (callee->type_id != type_id)
        return trap_in(cx, FWE_TRAP_INDIRECT_TYPE_MISMATCH, pc);
    return invoke(cx, inst, callee, nfp, ret_pc);
}

static int64_t rt_memory_grow(fwe_nctx *cx, fwe_ninst *ni, uint32_t delta)
{
    (void)cx;
    fwe_instance *inst = ni->inst;
    fwe_memory *mem0 = inst->memories[0];
    int64_t r = fwe_memory_grow_internal(mem0, delta, inst->max_memory_pages);
    if (r >= 0 && inst->on_memory_grow)
        inst->on_memory_grow(inst->host_data, mem0->size);
    return r;
}

static uint64_t rt_ref_func(fwe_ninst *ni, uint32_t func_index)
{
    return (uint64_t)(uintptr_t)fwe_instance_func(ni->inst, func_index);
}

/* Table and segment instructions (code.h's operand order; a, b, c are the slot operands in
 * order), with the interpreter's checks and traps reported at the instruction (pc). */
static uint32_t rt_bulk(fwe_nctx *cx, fwe_ninst *ni, const uint32_t *pc, uint64_t a, uint64_t b,
                        uint64_t c, uint64_t *out)
{
    fwe_instance *inst = ni->inst;
    switch (pc[0]) {
    case IOP_TABLE_GET: { /* dst table idx */
        fwe_table *t = inst->tables[pc[2]];
        uint32_t i = (uint32_t)a;
        if (i >= t->size)
            return trap_in(cx, FWE_TRAP_TABLE_OOB, pc);
        *out = fwe_table_entry(t, i);
        return 0;
    }
    case IOP_TABLE_SET: { /* table idx val */
        fwe_table *t = inst->tables[pc[1]];
        uint32_t i = (uint32_t)a;
        if (i >= t->size)
            return trap_in(cx, FWE_TRAP_TABLE_OOB, pc);
        t->elems[i] = b;
        return 0;
    }
    case IOP_TABLE_INIT: { /* table seg d s n */
        fwe_table *t = inst->tables[pc[1]];
        const fwe_elem_segment *seg = &inst->module->elems[pc[2]];
        uint64_t seglen = inst->dropped_elems[pc[2]] ? 0 : seg->count;
        uint64_t d = (uint32_t)a, s = (uint32_t)b, n = (uint32_t)c;
        if (s + n > seglen || d + n > t->size)
            return trap_in(cx, FWE_TRAP_TABLE_OOB, pc);
        for (uint64_t k = 0; k < n; k++)
            t->elems[d + k] = fwe_elem_item(inst, &seg->items[s + k]);
        return 0;
    }
    case IOP_ELEM_DROP: /* seg */
        inst->dropped_elems[pc[1]] = 1;
        return 0;
    case IOP_TABLE_COPY: { /* dst_table src_table d s n */
        fwe_table *td = inst->tables[pc[1]], *ts = inst->tables[pc[2]];
        uint64_t d = (uint32_t)a, s = (uint32_t)b, n = (uint32_t)c;
        if (s + n > ts->size || d + n > td->size)
            return trap_in(cx, FWE_TRAP_TABLE_OOB, pc);
        if (n && ts->owner != td->owner)
            for (uint64_t k = 0; k < n; k++)
                fwe_table_entry(ts, (uint32_t)(s + k)); /* lazy entries are per owner */
        if (n)
            memmove(td->elems + d, ts->elems + s, n * sizeof(uint64_t));
        return 0;
    }
    case IOP_TABLE_GROW: /* dst table init n */
        *out = (uint32_t)(int32_t)fwe_table_grow_internal(inst->tables[pc[2]], (uint32_t)b, a);
        return 0;
    case IOP_TABLE_SIZE: /* dst table */
        *out = inst->tables[pc[2]]->size;
        return 0;
    case IOP_TABLE_FILL: { /* table i val n */
        fwe_table *t = inst->tables[pc[1]];
        uint64_t i = (uint32_t)a, n = (uint32_t)c;
        if (i + n > t->size)
            return trap_in(cx, FWE_TRAP_TABLE_OOB, pc);
        for (uint64_t k = 0; k < n; k++)
            t->elems[i + k] = b;
        return 0;
    }
    case IOP_MEMORY_INIT: { /* seg d s n */
        const fwe_data_segment *seg = &inst->module->datas[pc[1]];
        fwe_memory *mem0 = inst->memories[0];
        uint64_t seglen = inst->dropped_datas[pc[1]] ? 0 : seg->len;
        uint64_t d = (uint32_t)a, s = (uint32_t)b, n = (uint32_t)c;
        if (s + n > seglen || d + n > mem0->size)
            return trap_in(cx, FWE_TRAP_MEMORY_OOB, pc);
        if (n)
            memcpy(mem0->base + d, seg->bytes + s, n);
        return 0;
    }
    case IOP_DATA_DROP: /* seg */
        inst->dropped_datas[pc[1]] = 1;
        return 0;
    }
    report(cx, FWE_TRAP_HOST, "illegal internal opcode", pc + 1);
    return FWE_TRAP_HOST;
}

static uint32_t rt_poll(fwe_nctx *cx, const fwe_ndef *self, uint32_t where)
{
    /* quick code's samples count per function (which batch gcc takes next): self is an entry of
     * the entry instance's module unless the code belongs to another module linked to it */
    fwe_instance *e = entry_of(cx);
    const fwe_module *m = e->module;
    bool mine = m->ndefs && self >= m->ndefs && self < m->ndefs + (m->nfuncs - m->nfunc_imports);
    return fwe_interrupt_poll(e, mine ? m : NULL, mine ? self->func_index : 0,
                              where == FWE_SAMPLE_QUICK ? FWE_SAMPLE_QUICK : FWE_SAMPLE_CC);
}

void fwe_native_ctx_init(fwe_nctx *cx, fwe_instance *entry)
{
    cx->frames = (fwe_nframe *)(void *)entry->frames;
    cx->depth = &entry->depth;
    cx->max_frames = entry->max_frames;
    cx->stack_end = entry->stack_end;
    cx->interrupt = (const uint32_t *)(const void *)&entry->interrupt;
    cx->climit = cstack_limit();
    cx->entry = entry;
    cx->trap = rt_trap;
    cx->call = rt_call;
    cx->call_indirect = rt_call_indirect;
    cx->memory_grow = rt_memory_grow;
    cx->poll = rt_poll;
    cx->ref_func = rt_ref_func;
    cx->bulk = rt_bulk;
}
