/* trap.c: trap messages (the spec's wording) and guest backtraces built from the frame stack,
 * with function names from the name section and wasm byte offsets from each function's pc map. */
#include "runtime.h"

#include <stdio.h>
#include <string.h>

const char *fwe_trap_kind_message(fwe_trap_kind kind)
{
    switch (kind) {
    case FWE_TRAP_NONE:
        return "no trap";
    case FWE_TRAP_UNREACHABLE:
        return "unreachable";
    case FWE_TRAP_INT_DIV_ZERO:
        return "integer divide by zero";
    case FWE_TRAP_INT_OVERFLOW:
        return "integer overflow";
    case FWE_TRAP_INVALID_CONVERSION:
        return "invalid conversion to integer";
    case FWE_TRAP_MEMORY_OOB:
        return "out of bounds memory access";
    case FWE_TRAP_TABLE_OOB:
        return "out of bounds table access";
    case FWE_TRAP_INDIRECT_TYPE_MISMATCH:
        return "indirect call type mismatch";
    case FWE_TRAP_UNINITIALIZED_ELEMENT:
        return "uninitialized element";
    case FWE_TRAP_NULL_REFERENCE:
        return "null reference";
    case FWE_TRAP_STACK_EXHAUSTED:
        return "call stack exhausted";
    case FWE_TRAP_INTERRUPTED:
        return "interrupted";
    case FWE_TRAP_HOST:
        return "host function error";
    case FWE_TRAP_EXIT:
        return "exit";
    case FWE_TRAP_MISSING_IMPORT:
        return "call to an unimplemented import";
    }
    return "unknown trap";
}

void fwe_trap_set(fwe_trap *trap, fwe_trap_kind kind, const char *message)
{
    if (!trap)
        return;
    trap->kind = kind;
    snprintf(trap->message, sizeof trap->message, "%s",
             message ? message : fwe_trap_kind_message(kind));
}

static uint32_t wasm_offset(const fwe_code *code, const fwe_word *pc)
{
    if (!code || !pc || !code->npcmap)
        return 0;
    if (pc < code->words || pc > code->words + code->nwords)
        return 0;
    uint32_t w = (uint32_t)(pc - code->words);
    /* last entry with word offset <= w */
    uint32_t lo = 0, hi = code->npcmap;
    while (hi - lo > 1) {
        uint32_t mid = (lo + hi) / 2;
        if (code->pcmap[2 * mid] <= w)
            lo = mid;
        else
            hi = mid;
    }
    return code->pcmap[2 * lo + 1];
}

uint32_t fwe_backtrace_collect(const fwe_instance *entry, const fwe_frame *frames, uint32_t nframes,
                               const fwe_word *pc, fwe_frame_info *out, uint32_t max)
{
    (void)entry;
    uint32_t n = 0;
    const fwe_word *cur = pc;
    for (uint32_t i = nframes; i > 0 && n < max; i--) {
        const fwe_frame *f = &frames[i - 1];
        fwe_frame_info *o = &out[n++];
        o->func_index = f->func_index;
        /* cur is a word past the start of the instruction this frame stands at (a return
         * address, or a trapping instruction's first word + 1): look up the word before it */
        o->code_offset = wasm_offset(f->code, cur && cur > f->code->words ? cur - 1 : cur);
        o->name = NULL;
        o->name_len = 0;
        const fwe_module *m = f->inst ? f->inst->module : NULL;
        if (m && m->func_names && f->func_index < m->nfuncs && m->func_names[f->func_index].str) {
            o->name = m->func_names[f->func_index].str;
            o->name_len = m->func_names[f->func_index].len;
        }
        cur = f->ret_pc;
    }
    return n;
}

size_t fwe_trap_format(const fwe_trap *trap, char *buf, size_t buflen)
{
    size_t used = 0;
#define APPEND(...)                                                                                \
    do {                                                                                           \
        int k = snprintf(buf ? buf + (used < buflen ? used : buflen) : NULL,                       \
                         used < buflen ? buflen - used : 0, __VA_ARGS__);                          \
        if (k > 0)                                                                                 \
            used += (size_t)k;                                                                     \
    } while (0)
    APPEND("%s", trap->message[0] ? trap->message : fwe_trap_kind_message(trap->kind));
    for (uint32_t i = 0; i < trap->nframes; i++) {
        const fwe_frame_info *f = &trap->frames[i];
        if (f->name)
            APPEND("\n  #%u %.*s (func %u) at 0x%x", i, (int)f->name_len, f->name, f->func_index,
                   f->code_offset);
        else
            APPEND("\n  #%u func %u at 0x%x", i, f->func_index, f->code_offset);
    }
#undef APPEND
    return used;
}
