/* compile.c: validates a function body and translates it into internal code (code.h) in the same
 * single pass. At load, every body runs through the pass with emission off (validation only, which
 * also records the frame facts translation needs); on first call it runs again with emission on.
 * Operands are frame slots: the wasm stack height is static, so every stack value has a fixed
 * "canonical" slot; local.get and constants are folded into operands and materialised lazily. */
#include "grow.h"
#include "opcodes.h"
#include "runtime.h"
#include "simd.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TYPE_UNKNOWN 0 /* bottom type from a polymorphic stack */
#define CONST_AREA_MAX 64

typedef struct operand {
    uint8_t type;
    uint32_t slot;  /* where the value is now */
    uint32_t cslot; /* its canonical slot */
} operand;

typedef struct ctrl_frame {
    uint8_t op; /* 0 = function, 0x02 block, 0x03 loop, 0x04 if, 0x05 else */
    uint32_t nparams, nresults;
    const uint8_t *params, *results;
    uint8_t single[1];     /* storage for a single-valtype block type */
    bool single_result;    /* results points at single: re-point it when the array moves */
    uint32_t height;       /* operand count at entry (params excluded) */
    uint32_t slot_height;  /* slot height at entry (params excluded) */
    bool unreachable;      /* validation: the operand stack is polymorphic */
    bool dead, entry_dead; /* translation: code here can never run, emit nothing */
    uint32_t loop_pc;      /* loop: branch target */
    uint32_t else_patch;   /* if: word to patch with the else/end pc (0 = none) */
    uint32_t patch_head;   /* forward branches: index into the patch list */
} ctrl_frame;

typedef struct patch {
    uint32_t word; /* code word holding a target to fill */
    uint32_t next; /* next patch of the same frame, or UINT32_MAX */
} patch;

typedef struct compiler {
    const fwe_module *m;
    const fwe_func_def *def;
    uint32_t func_index;
    bool emit;
    /* error */
    char *err;
    size_t errlen;
    fwe_status status;
    const uint8_t *p, *start, *end;
    const uint8_t *instr_start;
    /* locals */
    uint32_t nlocals_total; /* params + declared */
    uint8_t *local_type;
    uint32_t *local_slot;
    uint32_t param_slots, local_slots;
    /* stacks */
    operand *ops;
    uint32_t nops, cap_ops;
    uint32_t slot_height, max_slot_height;
    ctrl_frame *ctrls;
    uint32_t nctrls, cap_ctrls;
    patch *patches;
    uint32_t npatches, cap_patches;
    /* constants */
    uint32_t const_base, const_area, nconsts_used, const_count; /* const_count: counted slots */
    uint64_t consts[CONST_AREA_MAX];
    uint32_t stack_base;
    /* code */
    fwe_word *code;
    uint32_t ncode, cap_code;
    uint32_t last_def_word; /* word index of the dst of the last producer, or UINT32_MAX */
    uint32_t last_def_op;   /* operand index it produced */
    uint32_t *pcmap;
    uint32_t npcmap, cap_pcmap;
} compiler;

/* ---------- errors ---------- */

static bool fail(compiler *c, fwe_status st, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static bool fail(compiler *c, fwe_status st, const char *fmt, ...)
{
    if (c->status != FWE_OK)
        return false;
    c->status = st;
    if (c->err && c->errlen) {
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(c->err, c->errlen, fmt, ap);
        va_end(ap);
        if (n < 0)
            n = 0;
        size_t used = (size_t)n < c->errlen ? (size_t)n : c->errlen - 1;
        size_t off = (size_t)((c->instr_start ? c->instr_start : c->p) - c->m->bytes);
        snprintf(c->err + used, c->errlen - used, " (code section, function %u, offset 0x%zx)",
                 c->func_index, off);
    }
    return false;
}
#define INVALID(c, ...) fail((c), FWE_ERR_INVALID, __VA_ARGS__)
#define MALFORMED(c, ...) fail((c), FWE_ERR_MALFORMED, __VA_ARGS__)

/* ---------- reading immediates ---------- */

/* Why a LEB128 of at most `maxbytes` bytes at c->p failed to decode, in the spec's words. */
static bool leb_fail(compiler *c, size_t maxbytes)
{
    for (size_t i = 0; i < maxbytes; i++) {
        if (c->p + i >= c->end)
            return MALFORMED(c, "unexpected end");
        if (!(c->p[i] & 0x80))
            return MALFORMED(c, "integer too large");
    }
    return MALFORMED(c, "integer representation too long");
}

static bool rd_u32(compiler *c, uint32_t *out)
{
    size_t n = fwe_read_u32(c->p, c->end, out);
    if (!n)
        return leb_fail(c, 5);
    c->p += n;
    return true;
}
static bool rd_byte(compiler *c, uint8_t *out)
{
    if (c->p >= c->end)
        return MALFORMED(c, "unexpected end");
    *out = *c->p++;
    return true;
}
static bool rd_bytes(compiler *c, void *out, size_t n)
{
    if ((size_t)(c->end - c->p) < n)
        return MALFORMED(c, "unexpected end");
    memcpy(out, c->p, n);
    c->p += n;
    return true;
}

/* ---------- growable arrays ---------- */

/* fwe_grow from a first capacity of 64, failing the compile with "out of memory"; the common
 * "already fits" case is checked here so emitting a word stays a compare */
static bool grow(compiler *c, void **arr, uint32_t *cap, uint32_t need, size_t elem)
{
    if (need <= *cap)
        return true;
    if (!fwe_grow(arr, cap, need, 64, elem))
        return fail(c, FWE_ERR_NOMEM, "out of memory");
    return true;
}

/* ---------- code emission ---------- */

static bool emitw(compiler *c, fwe_word w)
{
    if (!c->emit)
        return true;
    if (!grow(c, (void **)&c->code, &c->cap_code, c->ncode + 1, sizeof(fwe_word)))
        return false;
    c->code[c->ncode++] = w;
    return true;
}
static bool emit_op(compiler *c, uint32_t op)
{
    c->last_def_word = UINT32_MAX;
    return emitw(c, op);
}
static inline bool live(compiler *c)
{
    return c->emit && !c->ctrls[c->nctrls - 1].dead;
}

static void pcmap_note(compiler *c)
{
    if (!c->emit)
        return;
    uint32_t wasm_off = (uint32_t)(c->instr_start - c->m->bytes);
    if (c->npcmap && c->pcmap[2 * (c->npcmap - 1)] == c->ncode) {
        c->pcmap[2 * (c->npcmap - 1) + 1] = wasm_off;
        return;
    }
    uint32_t cap2 = c->cap_pcmap;
    if (!grow(c, (void **)&c->pcmap, &cap2, 2 * (c->npcmap + 1), sizeof(uint32_t)))
        return;
    c->cap_pcmap = cap2;
    c->pcmap[2 * c->npcmap] = c->ncode;
    c->pcmap[2 * c->npcmap + 1] = wasm_off;
    c->npcmap++;
}

/* ---------- operand stack ---------- */

static bool push(compiler *c, uint8_t type)
{
    if (!grow(c, (void **)&c->ops, &c->cap_ops, c->nops + 1, sizeof(operand)))
        return false;
    uint32_t cs = c->stack_base + c->slot_height;
    c->ops[c->nops++] = (operand){type, cs, cs};
    c->slot_height += type == FWE_V128 ? 2 : 1;
    if (c->slot_height > c->max_slot_height)
        c->max_slot_height = c->slot_height;
    return true;
}

/* pops one operand; expect = 0 accepts any type. Returns the popped operand in *out. */
static bool pop(compiler *c, uint8_t expect, operand *out)
{
    ctrl_frame *f = &c->ctrls[c->nctrls - 1];
    if (c->nops == f->height) {
        if (f->unreachable) {
            *out = (operand){TYPE_UNKNOWN, 0, 0};
            return true;
        }
        return INVALID(c, "type mismatch");
    }
    operand o = c->ops[--c->nops];
    c->slot_height -= o.type == FWE_V128 ? 2 : 1;
    if (expect != TYPE_UNKNOWN && o.type != TYPE_UNKNOWN && o.type != expect)
        return INVALID(c, "type mismatch");
    *out = o;
    return true;
}

static bool emit_mov(compiler *c, uint8_t type, uint32_t dst, uint32_t src)
{
    if (dst == src)
        return true;
    if (!emit_op(c, type == FWE_V128 ? IOP_MOV2 : IOP_MOV))
        return false;
    return emitw(c, dst) && emitw(c, src);
}

/* Moves operand i to its canonical slot. */
static bool materialize_one(compiler *c, uint32_t i)
{
    operand *o = &c->ops[i];
    if (o->slot == o->cslot)
        return true;
    if (live(c) && !emit_mov(c, o->type, o->cslot, o->slot))
        return false;
    o->slot = o->cslot;
    return true;
}
static bool materialize_from(compiler *c, uint32_t from)
{
    for (uint32_t i = from; i < c->nops; i++)
        if (!materialize_one(c, i))
            return false;
    return true;
}
static bool materialize_all(compiler *c)
{
    return materialize_from(c, 0);
}

/* Records that the last emitted word is the destination of a producer of the top operand. */
static void note_def(compiler *c)
{
    if (c->emit && c->ncode) {
        c->last_def_word = c->ncode - 1;
        c->last_def_op = c->nops - 1;
    }
}

/* Emits op with dst = canonical slot of a new operand of type `rt`, then the listed sources. */
static bool produce(compiler *c, uint32_t op, uint8_t rt, const uint32_t *srcs, uint32_t nsrcs)
{
    if (!push(c, rt))
        return false;
    if (!live(c))
        return true;
    if (!emit_op(c, op) || !emitw(c, c->ops[c->nops - 1].cslot))
        return false;
    uint32_t dstword = c->ncode - 1;
    for (uint32_t i = 0; i < nsrcs; i++)
        if (!emitw(c, srcs[i]))
            return false;
    c->last_def_word = dstword;
    c->last_def_op = c->nops - 1;
    return true;
}

/* ---------- constants ---------- */

static bool push_const(compiler *c, uint8_t type, uint64_t lo, uint64_t hi)
{
    uint32_t nslots = type == FWE_V128 ? 2 : 1;
    c->const_count += nslots;
    c->last_def_word = UINT32_MAX;
    if (!push(c, type))
        return false;
    if (!live(c))
        return true;
    operand *o = &c->ops[c->nops - 1];
    /* dedupe within the constant area */
    for (uint32_t i = 0; i + nslots <= c->nconsts_used; i++) {
        if (c->consts[i] == lo && (nslots == 1 || c->consts[i + 1] == hi)) {
            o->slot = c->const_base + i;
            return true;
        }
    }
    if (c->nconsts_used + nslots <= c->const_area) {
        c->consts[c->nconsts_used] = lo;
        if (nslots == 2)
            c->consts[c->nconsts_used + 1] = hi;
        o->slot = c->const_base + c->nconsts_used;
        c->nconsts_used += nslots;
        return true;
    }
    /* area full: materialise with an instruction */
    if (nslots == 1) {
        if (!emit_op(c, IOP_CONST) || !emitw(c, o->cslot))
            return false;
        note_def(c);
        return emitw(c, (fwe_word)lo) && emitw(c, (fwe_word)(lo >> 32));
    }
    if (!emit_op(c, IOP_CONST128) || !emitw(c, o->cslot))
        return false;
    note_def(c);
    return emitw(c, (fwe_word)lo) && emitw(c, (fwe_word)(lo >> 32)) && emitw(c, (fwe_word)hi) &&
           emitw(c, (fwe_word)(hi >> 32));
}

/* ---------- control frames ---------- */

static bool push_ctrl(compiler *c, uint8_t op, uint32_t np, const uint8_t *params, uint32_t nr,
                      const uint8_t *results)
{
    ctrl_frame *old = c->ctrls;
    if (!grow(c, (void **)&c->ctrls, &c->cap_ctrls, c->nctrls + 1, sizeof(ctrl_frame)))
        return false;
    if (old != c->ctrls)
        for (uint32_t i = 0; i < c->nctrls; i++)
            if (c->ctrls[i].single_result)
                c->ctrls[i].results = c->ctrls[i].single;
    ctrl_frame *f = &c->ctrls[c->nctrls++];
    memset(f, 0, sizeof *f);
    f->op = op;
    f->nparams = np;
    f->params = params;
    f->nresults = nr;
    f->results = results;
    f->height = c->nops;
    f->slot_height = c->slot_height;
    if (c->nctrls > 1) {
        const ctrl_frame *parent = &c->ctrls[c->nctrls - 2];
        f->dead = f->entry_dead = parent->dead || parent->unreachable;
    }
    f->patch_head = UINT32_MAX;
    /* params go to their canonical slots; the caller materialised them there */
    for (uint32_t i = 0; i < np; i++)
        if (!push(c, params[i]))
            return false;
    return true;
}

static void set_unreachable(compiler *c)
{
    ctrl_frame *f = &c->ctrls[c->nctrls - 1];
    c->nops = f->height;
    c->slot_height = f->slot_height;
    f->unreachable = true;
    f->dead = true;
    c->last_def_word = UINT32_MAX;
}

static uint32_t label_arity(const ctrl_frame *f, const uint8_t **types)
{
    if (f->op == OP_LOOP) {
        *types = f->params;
        return f->nparams;
    }
    *types = f->results;
    return f->nresults;
}

static bool add_patch(compiler *c, ctrl_frame *f, uint32_t word)
{
    if (!c->emit)
        return true;
    if (!grow(c, (void **)&c->patches, &c->cap_patches, c->npatches + 1, sizeof(patch)))
        return false;
    c->patches[c->npatches] = (patch){word, f->patch_head};
    f->patch_head = c->npatches++;
    return true;
}

/* Emits a branch target word for label frame f. */
static bool emit_target(compiler *c, ctrl_frame *f)
{
    if (!c->emit)
        return true;
    if (f->op == OP_LOOP)
        return emitw(c, f->loop_pc);
    if (!emitw(c, 0))
        return false;
    return add_patch(c, f, c->ncode - 1);
}

/* Checks the top `n` operands against `types` without popping. */
static bool check_top(compiler *c, const uint8_t *types, uint32_t n)
{
    ctrl_frame *f = &c->ctrls[c->nctrls - 1];
    for (uint32_t i = 0; i < n; i++) {
        uint8_t want = types[n - 1 - i];
        if (c->nops - i <= f->height || c->nops < i + 1) {
            if (f->unreachable)
                return true;
            return INVALID(c, "type mismatch");
        }
        uint8_t have = c->ops[c->nops - 1 - i].type;
        if (have != TYPE_UNKNOWN && have != want)
            return INVALID(c, "type mismatch");
    }
    return true;
}

/* Slot position where the branch values for frame f start at run time. */
static uint32_t label_slot(compiler *c, const ctrl_frame *f)
{
    return c->stack_base + f->slot_height;
}

/* Emits the moves that put the top `n` operands (already materialised) at frame f's label slots. */
static bool emit_branch_moves(compiler *c, const ctrl_frame *f, uint32_t n)
{
    uint32_t dst = label_slot(c, f);
    for (uint32_t i = c->nops - n; i < c->nops; i++) {
        operand *o = &c->ops[i];
        if (!emit_mov(c, o->type, dst, o->slot))
            return false;
        dst += o->type == FWE_V128 ? 2 : 1;
    }
    return true;
}

static bool branch_needs_moves(compiler *c, const ctrl_frame *f, uint32_t n)
{
    if (n == 0)
        return false;
    return c->ops[c->nops - n].slot != label_slot(c, f);
}

static bool label_of(compiler *c, uint32_t depth, ctrl_frame **out)
{
    if (depth >= c->nctrls)
        return INVALID(c, "unknown label");
    *out = &c->ctrls[c->nctrls - 1 - depth];
    return true;
}

/* Block type: 0x40, a value type, or a type index (s33). */
static bool read_blocktype(compiler *c, ctrl_frame *tmp, uint32_t *np, const uint8_t **params,
                           uint32_t *nr, const uint8_t **results)
{
    if (c->p >= c->end)
        return MALFORMED(c, "unexpected end");
    uint8_t b = *c->p;
    if (b == 0x40) {
        c->p++;
        *np = *nr = 0;
        *params = *results = NULL;
        return true;
    }
    if (fwe_is_valtype(b)) {
        c->p++;
        tmp->single[0] = b;
        *np = 0;
        *params = NULL;
        *nr = 1;
        *results = tmp->single;
        return true;
    }
    int64_t idx;
    size_t n = fwe_read_s33(c->p, c->end, &idx);
    if (!n)
        return leb_fail(c, 5);
    c->p += n;
    if (idx < 0)
        return MALFORMED(c, "malformed value type");
    if ((uint64_t)idx >= c->m->ntypes)
        return INVALID(c, "unknown type");
    const fwe_functype *t = &c->m->types[idx];
    *np = t->nparams;
    *params = t->types;
    *nr = t->nresults;
    *results = t->types + t->nparams;
    return true;
}

/* ---------- instruction groups ---------- */

static bool op_unary(compiler *c, uint32_t op, uint8_t in, uint8_t out)
{
    operand a;
    if (!pop(c, in, &a))
        return false;
    uint32_t s = a.slot;
    return produce(c, op, out, &s, 1);
}
static bool op_binary(compiler *c, uint32_t op, uint8_t in, uint8_t out)
{
    operand a, b;
    if (!pop(c, in, &b) || !pop(c, in, &a))
        return false;
    uint32_t s[2] = {a.slot, b.slot};
    return produce(c, op, out, s, 2);
}

static bool numeric(compiler *c, uint8_t op)
{
    const uint8_t I = FWE_I32, L = FWE_I64, F = FWE_F32, D = FWE_F64;
    if (op == OP_I32_EQZ)
        return op_unary(c, op, I, I);
    if (op <= OP_I32_GE_U)
        return op_binary(c, op, I, I);
    if (op == OP_I64_EQZ)
        return op_unary(c, op, L, I);
    if (op <= OP_I64_GE_U)
        return op_binary(c, op, L, I);
    if (op <= OP_F32_GE)
        return op_binary(c, op, F, I);
    if (op <= OP_F64_GE)
        return op_binary(c, op, D, I);
    if (op <= OP_I32_POPCNT)
        return op_unary(c, op, I, I);
    if (op <= OP_I32_ROTR)
        return op_binary(c, op, I, I);
    if (op <= OP_I64_POPCNT)
        return op_unary(c, op, L, L);
    if (op <= OP_I64_ROTR)
        return op_binary(c, op, L, L);
    if (op <= OP_F32_SQRT)
        return op_unary(c, op, F, F);
    if (op <= OP_F32_COPYSIGN)
        return op_binary(c, op, F, F);
    if (op <= OP_F64_SQRT)
        return op_unary(c, op, D, D);
    if (op <= OP_F64_COPYSIGN)
        return op_binary(c, op, D, D);
    static const uint8_t conv[][2] = {
        /* a7 */ {0x7e, 0x7f}, {0x7d, 0x7f}, {0x7d, 0x7f}, {0x7c, 0x7f}, {0x7c, 0x7f},
        /* ac */ {0x7f, 0x7e}, {0x7f, 0x7e}, {0x7d, 0x7e}, {0x7d, 0x7e}, {0x7c, 0x7e},
        {0x7c, 0x7e},
        /* b2 */ {0x7f, 0x7d}, {0x7f, 0x7d}, {0x7e, 0x7d}, {0x7e, 0x7d}, {0x7c, 0x7d},
        /* b7 */ {0x7f, 0x7c}, {0x7f, 0x7c}, {0x7e, 0x7c}, {0x7e, 0x7c}, {0x7d, 0x7c},
        /* bc */ {0x7d, 0x7f}, {0x7c, 0x7e}, {0x7f, 0x7d}, {0x7e, 0x7c},
        /* c0 */ {0x7f, 0x7f}, {0x7f, 0x7f}, {0x7e, 0x7e}, {0x7e, 0x7e}, {0x7e, 0x7e},
    };
    if (op <= OP_I64_EXTEND32_S)
        return op_unary(c, op, conv[op - OP_I32_WRAP_I64][0], conv[op - OP_I32_WRAP_I64][1]);
    return MALFORMED(c, "illegal opcode %02x", op);
}

static bool memarg(compiler *c, uint32_t max_align, uint32_t *offset)
{
    uint32_t align = 0;
    if (!rd_u32(c, &align) || !rd_u32(c, offset))
        return false;
    if (c->m->nmemories == 0)
        return INVALID(c, "unknown memory 0");
    if (align > max_align)
        return INVALID(c, "alignment must not be larger than natural");
    return true;
}

static bool load_store(compiler *c, uint8_t op)
{
    static const uint8_t sizes_log2[] = {2, 3, 2, 3, 0, 0, 1, 1, 0, 0, 1, 1,
                                         2, 2, 2, 3, 2, 3, 0, 1, 0, 1, 2};
    static const uint8_t types[] = {0x7f, 0x7e, 0x7d, 0x7c, 0x7f, 0x7f, 0x7f, 0x7f,
                                    0x7e, 0x7e, 0x7e, 0x7e, 0x7e, 0x7e, 0x7f, 0x7e,
                                    0x7d, 0x7c, 0x7f, 0x7f, 0x7e, 0x7e, 0x7e};
    uint32_t offset = 0;
    if (!memarg(c, sizes_log2[op - OP_I32_LOAD], &offset))
        return false;
    uint8_t t = types[op - OP_I32_LOAD];
    operand a, v;
    if (op <= OP_I64_LOAD32_U) {
        if (!pop(c, FWE_I32, &a))
            return false;
        /* address = the i32.add just emitted: fold the add into the load */
        if (c->last_def_word != UINT32_MAX && c->last_def_op == c->nops && a.slot == a.cslot &&
            c->code[c->last_def_word - 1] == OP_I32_ADD) {
            uint32_t at = c->last_def_word - 1;
            uint32_t s[3] = {c->code[at + 2], c->code[at + 3], offset};
            c->ncode = at;
            while (c->npcmap && c->pcmap[2 * (c->npcmap - 1)] > at)
                c->npcmap--;
            pcmap_note(c);
            return produce(c, IOP_LOADX_BASE + (op - OP_I32_LOAD), t, s, 3);
        }
        uint32_t s[2] = {a.slot, offset};
        return produce(c, op, t, s, 2);
    }
    if (!pop(c, t, &v) || !pop(c, FWE_I32, &a))
        return false;
    if (!live(c))
        return true;
    return emit_op(c, op) && emitw(c, v.slot) && emitw(c, a.slot) && emitw(c, offset);
}

static bool local_index(compiler *c, uint32_t *idx)
{
    if (!rd_u32(c, idx))
        return false;
    if (*idx >= c->nlocals_total)
        return INVALID(c, "unknown local %u", *idx);
    return true;
}

/* local.set / local.tee */
static bool local_set(compiler *c, bool tee)
{
    uint32_t idx = 0;
    if (!local_index(c, &idx))
        return false;
    uint8_t t = c->local_type[idx];
    uint32_t ls = c->local_slot[idx];
    operand v;
    if (c->nops == c->ctrls[c->nctrls - 1].height || !live(c)) {
        if (!pop(c, t, &v))
            return false;
        if (tee) {
            if (!push(c, t))
                return false;
        }
        return true;
    }
    uint32_t top = c->nops - 1;
    if (c->ops[top].type != t && c->ops[top].type != TYPE_UNKNOWN)
        return INVALID(c, "type mismatch");
    /* values that still read this local lazily must be copied out before it changes */
    bool pending = false;
    for (uint32_t i = 0; i < top; i++)
        if (c->ops[i].slot == ls || (t == FWE_V128 && c->ops[i].slot == ls + 1) ||
            (c->ops[i].type == FWE_V128 && c->ops[i].slot + 1 == ls)) {
            if (!materialize_one(c, i))
                return false;
            pending = true;
        }
    operand *o = &c->ops[top];
    if (o->slot != ls) {
        if (!pending && c->last_def_word != UINT32_MAX && c->last_def_op == top &&
            o->slot == o->cslot) {
            c->code[c->last_def_word] = ls; /* retarget the producer */
        } else {
            if (!emit_mov(c, t, ls, o->slot))
                return false;
        }
    }
    c->last_def_word = UINT32_MAX;
    if (tee) {
        o->slot = ls;
        return true;
    }
    return pop(c, t, &v);
}

static bool get_table(compiler *c, uint32_t *t)
{
    if (!rd_u32(c, t))
        return false;
    if (*t >= c->m->ntables)
        return INVALID(c, "unknown table %u", *t);
    return true;
}

/* call, call_indirect: args are materialised in canonical slots; results replace them there */
static bool call_common(compiler *c, const fwe_functype *ft, uint32_t op, uint32_t imm1,
                        uint32_t imm2, uint32_t idx_slot)
{
    uint32_t np = ft->nparams;
    if (!check_top(c, ft->types, np))
        return false;
    uint32_t first = c->nops >= np ? c->nops - np : 0;
    if (first < c->ctrls[c->nctrls - 1].height)
        first = c->ctrls[c->nctrls - 1].height;
    if (!materialize_from(c, first))
        return false;
    uint32_t arg_base = first < c->nops ? c->ops[first].cslot : c->stack_base + c->slot_height;
    operand tmp;
    for (uint32_t i = 0; i < np; i++)
        if (!pop(c, ft->types[np - 1 - i], &tmp))
            return false;
    if (live(c)) {
        if (!emit_op(c, op) || !emitw(c, imm1))
            return false;
        if (op == IOP_CALL_INDIRECT && (!emitw(c, imm2) || !emitw(c, idx_slot)))
            return false;
        if (!emitw(c, arg_base))
            return false;
    }
    for (uint32_t i = 0; i < ft->nresults; i++)
        if (!push(c, ft->types[np + i]))
            return false;
    return true;
}

/* Emits "branch if cond is true" (or false); the caller then emits or patches the target word.
 * When the compare that produced cond is the last instruction emitted, it is fused into the
 * branch: one dispatch instead of two, and no write of the condition slot. */
static bool emit_cond_branch(compiler *c, const operand *cond, bool when_true)
{
    if (c->last_def_word != UINT32_MAX && c->last_def_op == c->nops && cond->slot == cond->cslot) {
        uint32_t at = c->last_def_word - 1;
        uint32_t op = c->code[at];
        if (op >= OP_I32_EQZ && op <= OP_I64_GE_U) {
            bool unary = op == OP_I32_EQZ || op == OP_I64_EQZ;
            fwe_word a = c->code[at + 2], b = unary ? 0 : c->code[at + 3];
            c->ncode = at;
            while (c->npcmap && c->pcmap[2 * (c->npcmap - 1)] > at)
                c->npcmap--;
            pcmap_note(c); /* the fused branch is the br_if (or if): an interruption names it */
            if (!emit_op(c, (when_true ? IOP_BRT_BASE : IOP_BRF_BASE) + (op - OP_I32_EQZ)) ||
                !emitw(c, a))
                return false;
            return unary || emitw(c, b);
        }
    }
    return emit_op(c, when_true ? IOP_BR_IF : IOP_BR_UNLESS) && emitw(c, cond->slot);
}

static bool do_branch(compiler *c, ctrl_frame *f)
{
    const uint8_t *types;
    uint32_t n = label_arity(f, &types);
    if (!check_top(c, types, n))
        return false;
    if (!live(c))
        return true;
    if (c->nops < n)
        return INVALID(c, "type mismatch");
    if (!materialize_from(c, c->nops - n))
        return false;
    if (!emit_branch_moves(c, f, n))
        return false;
    return emit_op(c, IOP_BR) && emit_target(c, f);
}

static bool do_return(compiler *c)
{
    ctrl_frame *f = &c->ctrls[0];
    if (!check_top(c, f->results, f->nresults))
        return false;
    if (!live(c))
        return true;
    uint32_t n = f->nresults;
    if (!materialize_from(c, c->nops - n))
        return false;
    uint32_t dst = 0;
    for (uint32_t i = c->nops - n; i < c->nops; i++) {
        if (!emit_mov(c, c->ops[i].type, dst, c->ops[i].slot))
            return false;
        dst += c->ops[i].type == FWE_V128 ? 2 : 1;
    }
    return emit_op(c, IOP_RETURN);
}

static bool br_table(compiler *c)
{
    uint32_t n = 0;
    if (!rd_u32(c, &n))
        return false;
    if (n > (uint32_t)(c->end - c->p))
        return MALFORMED(c, "unexpected end");
    uint32_t *depths = malloc(((size_t)n + 1) * sizeof *depths);
    if (!depths)
        return fail(c, FWE_ERR_NOMEM, "out of memory");
    bool ok = true;
    for (uint32_t i = 0; i <= n && ok; i++)
        ok = rd_u32(c, &depths[i]);
    operand idx;
    if (ok)
        ok = pop(c, FWE_I32, &idx);
    /* every label must accept the operands; arities must agree */
    ctrl_frame *def = NULL;
    if (ok)
        ok = label_of(c, depths[n], &def);
    const uint8_t *dtypes = NULL;
    uint32_t arity = ok ? label_arity(def, &dtypes) : 0;
    for (uint32_t i = 0; i <= n && ok; i++) {
        ctrl_frame *f = NULL;
        if (!(ok = label_of(c, depths[i], &f)))
            break;
        const uint8_t *types;
        uint32_t a = label_arity(f, &types);
        if (a != arity) {
            ok = INVALID(c, "type mismatch");
            break;
        }
        ok = check_top(c, types, a);
    }
    if (ok && live(c)) {
        ok = materialize_from(c, c->nops >= arity ? c->nops - arity : 0) &&
             emit_op(c, IOP_BR_TABLE) && emitw(c, idx.slot) && emitw(c, n);
        uint32_t table_at = c->ncode;
        for (uint32_t i = 0; i <= n && ok; i++)
            ok = emitw(c, 0);
        for (uint32_t i = 0; i <= n && ok; i++) {
            ctrl_frame *f = &c->ctrls[c->nctrls - 1 - depths[i]];
            if (!branch_needs_moves(c, f, arity)) {
                if (f->op == OP_LOOP)
                    c->code[table_at + i] = f->loop_pc;
                else
                    ok = add_patch(c, f, table_at + i);
            } else {
                c->code[table_at + i] = c->ncode;
                ok = emit_branch_moves(c, f, arity) && emit_op(c, IOP_BR) && emit_target(c, f);
            }
        }
    }
    free(depths);
    if (ok)
        set_unreachable(c);
    return ok;
}

static bool simd(compiler *c)
{
    uint32_t sop = 0;
    if (!rd_u32(c, &sop))
        return false;
    fwe_simd_info info;
    if (!fwe_simd_lookup(sop, &info))
        return MALFORMED(c, "illegal opcode fd %u", sop);
    const uint8_t V = FWE_V128;
    operand a, b, d;
    uint32_t offset = 0;
    uint8_t lane = 0;
    uint32_t align_max = 0;
    for (uint32_t m = info.mem_bytes; m > 1; m >>= 1)
        align_max++;
    switch (info.kind) {
    case FWE_SIMD_LOAD: {
        if (!memarg(c, align_max, &offset) || !pop(c, FWE_I32, &a))
            return false;
        if (!push(c, V))
            return false;
        if (!live(c))
            return true;
        if (!emit_op(c, IOP_SIMD_LOAD) || !emitw(c, sop) || !emitw(c, c->ops[c->nops - 1].cslot))
            return false;
        return emitw(c, a.slot) && emitw(c, offset);
    }
    case FWE_SIMD_STORE:
        if (!memarg(c, align_max, &offset) || !pop(c, V, &b) || !pop(c, FWE_I32, &a))
            return false;
        if (!live(c))
            return true;
        return emit_op(c, IOP_SIMD_STORE) && emitw(c, a.slot) && emitw(c, b.slot) &&
               emitw(c, offset);
    case FWE_SIMD_LOAD_LANE:
    case FWE_SIMD_STORE_LANE:
        if (!memarg(c, align_max, &offset) || !rd_byte(c, &lane))
            return false;
        if (lane >= info.lanes)
            return INVALID(c, "invalid lane index");
        if (!pop(c, V, &b) || !pop(c, FWE_I32, &a))
            return false;
        if (info.kind == FWE_SIMD_STORE_LANE) {
            if (!live(c))
                return true;
            return emit_op(c, IOP_SIMD_STORE_LANE) && emitw(c, sop) && emitw(c, a.slot) &&
                   emitw(c, b.slot) && emitw(c, offset) && emitw(c, lane);
        }
        if (!push(c, V))
            return false;
        if (!live(c))
            return true;
        return emit_op(c, IOP_SIMD_LOAD_LANE) && emitw(c, sop) &&
               emitw(c, c->ops[c->nops - 1].cslot) && emitw(c, a.slot) && emitw(c, b.slot) &&
               emitw(c, offset) && emitw(c, lane);
    case FWE_SIMD_CONST: {
        uint64_t v[2];
        if (!rd_bytes(c, v, 16))
            return false;
        return push_const(c, V, v[0], v[1]);
    }
    case FWE_SIMD_SHUFFLE: {
        uint8_t lanes[16];
        if (!rd_bytes(c, lanes, 16))
            return false;
        for (int i = 0; i < 16; i++)
            if (lanes[i] >= 32)
                return INVALID(c, "invalid lane index");
        if (!pop(c, V, &b) || !pop(c, V, &a))
            return false;
        uint32_t w[6] = {a.slot, b.slot, 0, 0, 0, 0};
        memcpy(&w[2], lanes, 16);
        return produce(c, IOP_SIMD_SHUFFLE, V, w, 6);
    }
    case FWE_SIMD_EXTRACT_LANE: {
        if (!rd_byte(c, &lane))
            return false;
        if (lane >= info.lanes)
            return INVALID(c, "invalid lane index");
        if (!pop(c, V, &a))
            return false;
        if (!push(c, info.scalar))
            return false;
        if (!live(c))
            return true;
        return emit_op(c, IOP_SIMD_EXTRACT) && emitw(c, sop) &&
               emitw(c, c->ops[c->nops - 1].cslot) && emitw(c, a.slot) && emitw(c, lane);
    }
    case FWE_SIMD_REPLACE_LANE: {
        if (!rd_byte(c, &lane))
            return false;
        if (lane >= info.lanes)
            return INVALID(c, "invalid lane index");
        if (!pop(c, info.scalar, &b) || !pop(c, V, &a))
            return false;
        if (!push(c, V))
            return false;
        if (!live(c))
            return true;
        return emit_op(c, IOP_SIMD_REPLACE) && emitw(c, sop) &&
               emitw(c, c->ops[c->nops - 1].cslot) && emitw(c, a.slot) && emitw(c, b.slot) &&
               emitw(c, lane);
    }
    default:
        break;
    }
    /* the remaining kinds: op dst srcs... */
    uint32_t iop, nsrc, srcs[3];
    uint8_t rt = V;
    switch (info.kind) {
    case FWE_SIMD_SPLAT:
        if (!pop(c, info.scalar, &a))
            return false;
        iop = IOP_SIMD_SPLAT, nsrc = 1, srcs[0] = a.slot;
        break;
    case FWE_SIMD_UNARY:
        if (!pop(c, V, &a))
            return false;
        iop = IOP_SIMD_UNARY, nsrc = 1, srcs[0] = a.slot;
        break;
    case FWE_SIMD_TEST:
        if (!pop(c, V, &a))
            return false;
        iop = IOP_SIMD_TEST, nsrc = 1, srcs[0] = a.slot, rt = FWE_I32;
        break;
    case FWE_SIMD_BINARY:
        if (!pop(c, V, &b) || !pop(c, V, &a))
            return false;
        iop = IOP_SIMD_BINARY, nsrc = 2, srcs[0] = a.slot, srcs[1] = b.slot;
        break;
    case FWE_SIMD_SHIFT:
        if (!pop(c, FWE_I32, &b) || !pop(c, V, &a))
            return false;
        iop = IOP_SIMD_SHIFT, nsrc = 2, srcs[0] = a.slot, srcs[1] = b.slot;
        break;
    case FWE_SIMD_TERNARY:
        if (!pop(c, V, &d) || !pop(c, V, &b) || !pop(c, V, &a))
            return false;
        iop = IOP_SIMD_TERNARY, nsrc = 3, srcs[0] = a.slot, srcs[1] = b.slot, srcs[2] = d.slot;
        break;
    default:
        return MALFORMED(c, "illegal opcode fd %u", sop);
    }
    if (!push(c, rt))
        return false;
    if (!live(c))
        return true;
    if (!emit_op(c, iop) || !emitw(c, sop) || !emitw(c, c->ops[c->nops - 1].cslot))
        return false;
    for (uint32_t i = 0; i < nsrc; i++)
        if (!emitw(c, srcs[i]))
            return false;
    return true;
}

/* memory.init / data.drop need the data count section; without one, an index into a module with
 * no data segments at all is reported as the validation error it also is. */
static bool data_index_ok(compiler *c, uint32_t x)
{
    const fwe_module *m = c->m;
    if (!m->has_data_count) {
        if (m->ndatas == 0)
            return INVALID(c, "unknown data segment %u", x);
        return MALFORMED(c, "data count section required");
    }
    if (x >= m->data_count)
        return INVALID(c, "unknown data segment %u", x);
    return true;
}

static bool prefix_fc(compiler *c)
{
    uint32_t sub = 0;
    if (!rd_u32(c, &sub))
        return false;
    const fwe_module *m = c->m;
    operand a, b, d;
    uint32_t x = 0, y = 0;
    uint8_t zero = 0;
    if (sub <= 7) {
        static const uint8_t in[] = {0x7d, 0x7d, 0x7c, 0x7c, 0x7d, 0x7d, 0x7c, 0x7c};
        return op_unary(c, IOP_TRUNC_SAT_BASE + sub, in[sub], sub < 4 ? FWE_I32 : FWE_I64);
    }
    switch (sub) {
    case 8: /* memory.init */
        if (!rd_u32(c, &x) || !rd_byte(c, &zero))
            return false;
        if (zero != 0)
            return MALFORMED(c, "zero byte expected");
        if (m->nmemories == 0)
            return INVALID(c, "unknown memory 0");
        if (!data_index_ok(c, x))
            return false;
        if (!pop(c, FWE_I32, &d) || !pop(c, FWE_I32, &b) || !pop(c, FWE_I32, &a))
            return false;
        if (!live(c))
            return true;
        return emit_op(c, IOP_MEMORY_INIT) && emitw(c, x) && emitw(c, a.slot) && emitw(c, b.slot) &&
               emitw(c, d.slot);
    case 9: /* data.drop */
        if (!rd_u32(c, &x))
            return false;
        if (!data_index_ok(c, x))
            return false;
        if (!live(c))
            return true;
        return emit_op(c, IOP_DATA_DROP) && emitw(c, x);
    case 10: /* memory.copy */
    case 11: /* memory.fill */
        if (!rd_byte(c, &zero))
            return false;
        if (zero != 0)
            return MALFORMED(c, "zero byte expected");
        if (sub == 10) {
            if (!rd_byte(c, &zero))
                return false;
            if (zero != 0)
                return MALFORMED(c, "zero byte expected");
        }
        if (m->nmemories == 0)
            return INVALID(c, "unknown memory 0");
        if (!pop(c, FWE_I32, &d) || !pop(c, FWE_I32, &b) || !pop(c, FWE_I32, &a))
            return false;
        if (!live(c))
            return true;
        return emit_op(c, sub == 10 ? IOP_MEMORY_COPY : IOP_MEMORY_FILL) && emitw(c, a.slot) &&
               emitw(c, b.slot) && emitw(c, d.slot);
    case 12: /* table.init elem table */
        if (!rd_u32(c, &y) || !get_table(c, &x))
            return false;
        if (y >= m->nelems)
            return INVALID(c, "unknown elem segment %u", y);
        if (m->elems[y].elemtype != m->tables[x].elem)
            return INVALID(c, "type mismatch");
        if (!pop(c, FWE_I32, &d) || !pop(c, FWE_I32, &b) || !pop(c, FWE_I32, &a))
            return false;
        if (!live(c))
            return true;
        return emit_op(c, IOP_TABLE_INIT) && emitw(c, x) && emitw(c, y) && emitw(c, a.slot) &&
               emitw(c, b.slot) && emitw(c, d.slot);
    case 13: /* elem.drop */
        if (!rd_u32(c, &x))
            return false;
        if (x >= m->nelems)
            return INVALID(c, "unknown elem segment %u", x);
        if (!live(c))
            return true;
        return emit_op(c, IOP_ELEM_DROP) && emitw(c, x);
    case 14: /* table.copy dst src */
        if (!get_table(c, &x) || !get_table(c, &y))
            return false;
        if (m->tables[x].elem != m->tables[y].elem)
            return INVALID(c, "type mismatch");
        if (!pop(c, FWE_I32, &d) || !pop(c, FWE_I32, &b) || !pop(c, FWE_I32, &a))
            return false;
        if (!live(c))
            return true;
        return emit_op(c, IOP_TABLE_COPY) && emitw(c, x) && emitw(c, y) && emitw(c, a.slot) &&
               emitw(c, b.slot) && emitw(c, d.slot);
    case 15: { /* table.grow */
        if (!get_table(c, &x))
            return false;
        if (!pop(c, FWE_I32, &b) || !pop(c, m->tables[x].elem, &a))
            return false;
        uint32_t s[3] = {x, a.slot, b.slot};
        return produce(c, IOP_TABLE_GROW, FWE_I32, s, 3);
    }
    case 16: { /* table.size */
        if (!get_table(c, &x))
            return false;
        return produce(c, IOP_TABLE_SIZE, FWE_I32, &x, 1);
    }
    case 17: /* table.fill */
        if (!get_table(c, &x))
            return false;
        if (!pop(c, FWE_I32, &d) || !pop(c, m->tables[x].elem, &b) || !pop(c, FWE_I32, &a))
            return false;
        if (!live(c))
            return true;
        return emit_op(c, IOP_TABLE_FILL) && emitw(c, x) && emitw(c, a.slot) && emitw(c, b.slot) &&
               emitw(c, d.slot);
    default:
        return MALFORMED(c, "illegal opcode fc %u", sub);
    }
}

/* Handles `end` of the innermost frame. Returns true at the function's final end via *done. */
static bool op_end(compiler *c, bool *done)
{
    ctrl_frame *f = &c->ctrls[c->nctrls - 1];
    if (!check_top(c, f->results, f->nresults))
        return false;
    if (c->nops - f->height != f->nresults &&
        !(f->unreachable && c->nops - f->height <= f->nresults))
        return INVALID(c, "type mismatch");
    if (f->op == OP_IF && !(f->nparams == f->nresults &&
                            (f->nparams == 0 || memcmp(f->params, f->results, f->nparams) == 0)))
        return INVALID(c, "type mismatch");
    if (live(c) && !materialize_from(c, f->height))
        return false;
    /* land forward branches here */
    if (c->emit) {
        if (f->else_patch)
            c->code[f->else_patch] = c->ncode;
        for (uint32_t i = f->patch_head; i != UINT32_MAX; i = c->patches[i].next)
            c->code[c->patches[i].word] = c->ncode;
    }
    if (c->nctrls == 1) {
        /* results are in the canonical slots (fallthrough or branch moves): return them */
        if (c->emit) {
            uint32_t src = c->stack_base, dst = 0;
            for (uint32_t i = 0; i < f->nresults; i++) {
                if (!emit_mov(c, f->results[i], dst, src))
                    return false;
                src += fwe_valtype_slots(f->results[i]);
                dst += fwe_valtype_slots(f->results[i]);
            }
            if (!emit_op(c, IOP_RETURN))
                return false;
        }
        *done = true;
        return true;
    }
    uint32_t nres = f->nresults;
    const uint8_t *res = f->results;
    c->nops = f->height;
    c->slot_height = f->slot_height;
    c->nctrls--;
    c->last_def_word = UINT32_MAX;
    for (uint32_t i = 0; i < nres; i++)
        if (!push(c, res[i]))
            return false;
    return true;
}

static bool run(compiler *c)
{
    const fwe_module *m = c->m;
    const fwe_functype *ft = &m->types[m->func_types[c->func_index]];
    if (!push_ctrl(c, 0, 0, NULL, ft->nresults, ft->types + ft->nparams))
        return false;
    bool done = false;
    while (!done) {
        if (c->p >= c->end)
            return MALFORMED(c, "unexpected end of section or function");
        c->instr_start = c->p;
        uint8_t op = *c->p++;
        pcmap_note(c);
        ctrl_frame *top = &c->ctrls[c->nctrls - 1];
        operand a, b, cond;
        uint32_t idx = 0;
        switch (op) {
        case OP_UNREACHABLE:
            if (live(c) && !emit_op(c, IOP_UNREACHABLE))
                return false;
            set_unreachable(c);
            break;
        case OP_NOP:
            break;
        case OP_BLOCK:
        case OP_LOOP:
        case OP_IF: {
            ctrl_frame tmp;
            uint32_t np = 0, nr = 0;
            const uint8_t *params = NULL, *results = NULL;
            if (!read_blocktype(c, &tmp, &np, &params, &nr, &results))
                return false;
            if (op == OP_IF && !pop(c, FWE_I32, &cond))
                return false;
            if (!check_top(c, params, np))
                return false;
            uint32_t def_word = c->last_def_word,
                     def_op = c->last_def_op; /* for if: compare fusion */
            if (live(c) && !materialize_all(c))
                return false;
            if (c->last_def_word == UINT32_MAX)
                def_word = UINT32_MAX; /* moves were emitted */
            c->last_def_word = UINT32_MAX;
            /* pop params; push_ctrl pushes them back canonically */
            for (uint32_t i = 0; i < np; i++)
                if (!pop(c, params[np - 1 - i], &a))
                    return false;
            if (!push_ctrl(c, op, np, params, nr, results))
                return false;
            ctrl_frame *f = &c->ctrls[c->nctrls - 1];
            if (results == tmp.single) {
                f->single[0] = tmp.single[0];
                f->results = f->single;
                f->single_result = true;
            }
            if (op == OP_LOOP) {
                /* no header instruction: backward branches check for interruption */
                f->loop_pc = c->ncode;
            } else if (op == OP_IF && live(c)) {
                c->last_def_word = def_word;
                c->last_def_op = def_op;
                bool ok = emit_cond_branch(c, &cond, false);
                c->last_def_word = UINT32_MAX;
                if (!ok || !emitw(c, 0))
                    return false;
                f->else_patch = c->ncode - 1;
            }
            break;
        }
        case OP_ELSE: { /* else */
            if (top->op != OP_IF)
                return MALFORMED(c, "else without if");
            if (!check_top(c, top->results, top->nresults))
                return false;
            if (c->nops - top->height != top->nresults &&
                !(top->unreachable && c->nops - top->height <= top->nresults))
                return INVALID(c, "type mismatch");
            if (live(c)) {
                if (!materialize_from(c, top->height))
                    return false;
                if (!emit_op(c, IOP_BR) || !emitw(c, 0) || !add_patch(c, top, c->ncode - 1))
                    return false;
            }
            if (c->emit && top->else_patch)
                c->code[top->else_patch] = c->ncode;
            top->else_patch = 0;
            top->op = OP_ELSE;
            c->nops = top->height;
            c->slot_height = top->slot_height;
            top->unreachable = false;
            top->dead = top->entry_dead;
            /* the else arm starts with the if's params, still in their canonical slots */
            for (uint32_t i = 0; i < top->nparams; i++)
                if (!push(c, top->params[i]))
                    return false;
            c->last_def_word = UINT32_MAX;
            break;
        }
        case OP_END:
            if (!op_end(c, &done))
                return false;
            break;
        case OP_BR: {
            ctrl_frame *f = NULL;
            if (!rd_u32(c, &idx) || !label_of(c, idx, &f) || !do_branch(c, f))
                return false;
            set_unreachable(c);
            break;
        }
        case OP_BR_IF: {
            ctrl_frame *f = NULL;
            if (!rd_u32(c, &idx) || !label_of(c, idx, &f) || !pop(c, FWE_I32, &cond))
                return false;
            const uint8_t *types;
            uint32_t n = label_arity(f, &types);
            if (!check_top(c, types, n))
                return false;
            if (live(c)) {
                if (c->nops < n)
                    return INVALID(c, "type mismatch");
                if (!materialize_from(c, c->nops - n))
                    return false;
                if (!branch_needs_moves(c, f, n)) {
                    if (!emit_cond_branch(c, &cond, true) || !emit_target(c, f))
                        return false;
                } else {
                    if (!emit_cond_branch(c, &cond, false) || !emitw(c, 0))
                        return false;
                    uint32_t skip = c->ncode - 1;
                    if (!emit_branch_moves(c, f, n) || !emit_op(c, IOP_BR) || !emit_target(c, f))
                        return false;
                    c->code[skip] = c->ncode;
                }
            }
            if (c->ctrls[c->nctrls - 1].unreachable) {
                /* polymorphic stack: pop the label types and push them back, typed */
                for (uint32_t i = 0; i < n; i++)
                    if (!pop(c, types[n - 1 - i], &a))
                        return false;
                for (uint32_t i = 0; i < n; i++)
                    if (!push(c, types[i]))
                        return false;
            }
            c->last_def_word = UINT32_MAX;
            break;
        }
        case OP_BR_TABLE:
            if (!br_table(c))
                return false;
            break;
        case OP_RETURN:
            if (!do_return(c))
                return false;
            set_unreachable(c);
            break;
        case OP_CALL: {
            if (!rd_u32(c, &idx))
                return false;
            if (idx >= m->nfuncs)
                return INVALID(c, "unknown function %u", idx);
            const fwe_functype *t = &m->types[m->func_types[idx]];
            bool imported = idx < m->nfunc_imports;
            if (!call_common(c, t, imported ? IOP_CALL_IMPORT : IOP_CALL,
                             imported ? idx : idx - m->nfunc_imports, 0, 0))
                return false;
            break;
        }
        case OP_CALL_INDIRECT: {
            uint32_t tidx = 0, tab = 0;
            if (!rd_u32(c, &tidx) || !rd_u32(c, &tab))
                return false;
            if (tidx >= m->ntypes)
                return INVALID(c, "unknown type %u", tidx);
            if (tab >= m->ntables)
                return INVALID(c, "unknown table %u", tab);
            if (m->tables[tab].elem != FWE_FUNCREF)
                return INVALID(c, "type mismatch");
            if (!pop(c, FWE_I32, &a))
                return false;
            const fwe_functype *t = &m->types[tidx];
            if (!call_common(c, t, IOP_CALL_INDIRECT, t->id, tab, a.slot))
                return false;
            break;
        }
        case OP_DROP:
            if (!pop(c, TYPE_UNKNOWN, &a))
                return false;
            c->last_def_word = UINT32_MAX;
            break;
        case OP_SELECT:
        case OP_SELECT_T: {
            uint8_t t = TYPE_UNKNOWN;
            if (op == OP_SELECT_T) {
                uint32_t n = 0;
                if (!rd_u32(c, &n))
                    return false;
                if (n != 1)
                    return INVALID(c, "invalid result arity");
                if (!rd_byte(c, &t))
                    return false;
                if (!fwe_is_valtype(t))
                    return MALFORMED(c, "malformed value type");
            }
            if (!pop(c, FWE_I32, &cond))
                return false;
            if (!pop(c, t, &b) || !pop(c, t, &a))
                return false;
            if (op == OP_SELECT) {
                if (fwe_is_reftype(a.type) || fwe_is_reftype(b.type))
                    return INVALID(c, "type mismatch");
                if (a.type != TYPE_UNKNOWN && b.type != TYPE_UNKNOWN && a.type != b.type)
                    return INVALID(c, "type mismatch");
                t = a.type != TYPE_UNKNOWN ? a.type : b.type;
            }
            uint32_t s[3] = {a.slot, b.slot, cond.slot};
            if (!produce(c, t == FWE_V128 ? IOP_SELECT2 : IOP_SELECT, t, s, 3))
                return false;
            break;
        }
        case OP_LOCAL_GET: {
            if (!local_index(c, &idx))
                return false;
            if (!push(c, c->local_type[idx]))
                return false;
            c->ops[c->nops - 1].slot = c->local_slot[idx];
            c->last_def_word = UINT32_MAX;
            break;
        }
        case OP_LOCAL_SET:
        case OP_LOCAL_TEE:
            if (!local_set(c, op == OP_LOCAL_TEE))
                return false;
            break;
        case OP_GLOBAL_GET: {
            if (!rd_u32(c, &idx))
                return false;
            if (idx >= m->nglobals)
                return INVALID(c, "unknown global %u", idx);
            uint8_t t = m->global_types[idx].type;
            if (!produce(c, t == FWE_V128 ? IOP_GLOBAL_GET2 : IOP_GLOBAL_GET, t, &idx, 1))
                return false;
            break;
        }
        case OP_GLOBAL_SET: {
            if (!rd_u32(c, &idx))
                return false;
            if (idx >= m->nglobals)
                return INVALID(c, "unknown global %u", idx);
            if (!m->global_types[idx].mut)
                return INVALID(c, "global is immutable");
            uint8_t t = m->global_types[idx].type;
            if (!pop(c, t, &a))
                return false;
            if (live(c) && !(emit_op(c, t == FWE_V128 ? IOP_GLOBAL_SET2 : IOP_GLOBAL_SET) &&
                             emitw(c, idx) && emitw(c, a.slot)))
                return false;
            break;
        }
        case OP_TABLE_GET: {
            if (!get_table(c, &idx) || !pop(c, FWE_I32, &a))
                return false;
            uint32_t s[2] = {idx, a.slot};
            if (!produce(c, IOP_TABLE_GET, m->tables[idx].elem, s, 2))
                return false;
            break;
        }
        case OP_TABLE_SET:
            if (!get_table(c, &idx) || !pop(c, m->tables[idx].elem, &b) || !pop(c, FWE_I32, &a))
                return false;
            if (live(c) && !(emit_op(c, IOP_TABLE_SET) && emitw(c, idx) && emitw(c, a.slot) &&
                             emitw(c, b.slot)))
                return false;
            break;
        case OP_MEMORY_SIZE:
        case OP_MEMORY_GROW: {
            uint8_t zero = 0;
            if (!rd_byte(c, &zero))
                return false;
            if (zero != 0)
                return MALFORMED(c, "zero byte expected");
            if (m->nmemories == 0)
                return INVALID(c, "unknown memory 0");
            if (op == OP_MEMORY_SIZE) {
                if (!produce(c, IOP_MEMORY_SIZE, FWE_I32, NULL, 0))
                    return false;
            } else {
                if (!pop(c, FWE_I32, &a))
                    return false;
                if (!produce(c, IOP_MEMORY_GROW, FWE_I32, &a.slot, 1))
                    return false;
            }
            break;
        }
        case OP_I32_CONST: {
            int32_t v;
            size_t n = fwe_read_s32(c->p, c->end, &v);
            if (!n)
                return leb_fail(c, 5);
            c->p += n;
            if (!push_const(c, FWE_I32, (uint32_t)v, 0))
                return false;
            break;
        }
        case OP_I64_CONST: {
            int64_t v;
            size_t n = fwe_read_s64(c->p, c->end, &v);
            if (!n)
                return leb_fail(c, 10);
            c->p += n;
            if (!push_const(c, FWE_I64, (uint64_t)v, 0))
                return false;
            break;
        }
        case OP_F32_CONST: {
            uint32_t v = 0;
            if (!rd_bytes(c, &v, 4) || !push_const(c, FWE_F32, v, 0))
                return false;
            break;
        }
        case OP_F64_CONST: {
            uint64_t v = 0;
            if (!rd_bytes(c, &v, 8) || !push_const(c, FWE_F64, v, 0))
                return false;
            break;
        }
        case OP_REF_NULL: {
            uint8_t t = 0;
            if (!rd_byte(c, &t))
                return false;
            if (!fwe_is_reftype(t))
                return MALFORMED(c, "malformed reference type");
            if (!push_const(c, t, 0, 0))
                return false;
            break;
        }
        case OP_REF_IS_NULL:
            if (!pop(c, TYPE_UNKNOWN, &a))
                return false;
            if (a.type != TYPE_UNKNOWN && !fwe_is_reftype(a.type))
                return INVALID(c, "type mismatch");
            if (!produce(c, IOP_REF_IS_NULL, FWE_I32, &a.slot, 1))
                return false;
            break;
        case OP_REF_FUNC:
            if (!rd_u32(c, &idx))
                return false;
            if (idx >= m->nfuncs)
                return INVALID(c, "unknown function %u", idx);
            if (!m->func_declared || !m->func_declared[idx])
                return INVALID(c, "undeclared function reference");
            if (!produce(c, IOP_REF_FUNC, FWE_FUNCREF, &idx, 1))
                return false;
            break;
        case OP_PREFIX_FC:
            if (!prefix_fc(c))
                return false;
            break;
        case OP_PREFIX_SIMD:
            if (!simd(c))
                return false;
            break;
        default:
            if (op >= OP_I32_LOAD && op <= OP_I64_STORE32) {
                if (!load_store(c, op))
                    return false;
            } else if (op >= OP_I32_EQZ && op <= OP_I64_EXTEND32_S) {
                if (!numeric(c, op))
                    return false;
            } else {
                return MALFORMED(c, "illegal opcode %02x", op);
            }
        }
    }
    if (c->p != c->end)
        return MALFORMED(c, "section size mismatch");
    return true;
}

static void compiler_free(compiler *c)
{
    free(c->local_type);
    free(c->local_slot);
    free(c->ops);
    free(c->ctrls);
    free(c->patches);
    free(c->code);
    free(c->pcmap);
}

static bool compiler_init(compiler *c, const fwe_module *m, uint32_t def, bool emit, char *err,
                          size_t errlen)
{
    memset(c, 0, sizeof *c);
    c->m = m;
    c->def = &m->funcs[def];
    c->func_index = m->nfunc_imports + def;
    c->emit = emit;
    c->err = err;
    c->errlen = errlen;
    c->p = c->start = c->def->body;
    c->end = c->def->body + c->def->body_len;
    c->last_def_word = UINT32_MAX;
    const fwe_functype *ft = &m->types[c->def->type_index];
    c->nlocals_total = ft->nparams + c->def->nlocals;
    c->local_type = malloc((size_t)c->nlocals_total + 1);
    c->local_slot = malloc(((size_t)c->nlocals_total + 1) * sizeof(uint32_t));
    if (!c->local_type || !c->local_slot)
        return fail(c, FWE_ERR_NOMEM, "out of memory");
    uint32_t s = 0;
    for (uint32_t i = 0; i < c->nlocals_total; i++) {
        uint8_t t = i < ft->nparams ? ft->types[i] : c->def->local_types[i - ft->nparams];
        c->local_type[i] = t;
        c->local_slot[i] = s;
        s += t == FWE_V128 ? 2 : 1;
        if (i + 1 == ft->nparams)
            c->param_slots = s;
    }
    if (ft->nparams == 0)
        c->param_slots = 0;
    c->local_slots = s - c->param_slots;
    c->const_base = s;
    c->const_area = emit ? c->def->nconst_slots : 0;
    c->stack_base = c->const_base + c->const_area;
    return true;
}

/* ---------- syntax-only scan ----------
 * The spec decodes a whole body before validating it, so a body that is invalid early and
 * malformed later is "malformed". The one-pass validator stops at the first problem; when that
 * is a validation error, this scan reads the rest of the body for a decoding error. */

static bool skip_leb(compiler *c, size_t maxbytes)
{
    for (size_t i = 0; i < maxbytes; i++) {
        if (c->p >= c->end)
            return MALFORMED(c, "unexpected end");
        if (!(*c->p++ & 0x80))
            return true;
    }
    return MALFORMED(c, "integer representation too long");
}
static bool skip_bytes(compiler *c, size_t n)
{
    if ((size_t)(c->end - c->p) < n)
        return MALFORMED(c, "unexpected end");
    c->p += n;
    return true;
}

static bool scan_instruction(compiler *c, uint8_t op, uint32_t *depth)
{
    uint32_t n = 0;
    switch (op) {
    case OP_BLOCK:
    case OP_LOOP:
    case OP_IF:
        (*depth)++;
        if (c->p < c->end && (*c->p == 0x40 || fwe_is_valtype(*c->p)))
            return skip_bytes(c, 1);
        return skip_leb(c, 5);
    case OP_END:
        (*depth)--;
        return true;
    case OP_BR:
    case OP_BR_IF:
    case OP_CALL:
    case OP_LOCAL_GET:
    case OP_LOCAL_SET:
    case OP_LOCAL_TEE:
    case OP_GLOBAL_GET:
    case OP_GLOBAL_SET:
    case OP_TABLE_GET:
    case OP_TABLE_SET:
    case OP_REF_FUNC:
        return skip_leb(c, 5);
    case OP_BR_TABLE:
        if (!rd_u32(c, &n))
            return false;
        for (uint64_t i = 0; i <= n; i++)
            if (!skip_leb(c, 5))
                return false;
        return true;
    case OP_CALL_INDIRECT:
        return skip_leb(c, 5) && skip_leb(c, 5);
    case OP_SELECT_T:
        if (!rd_u32(c, &n))
            return false;
        return skip_bytes(c, n);
    case OP_MEMORY_SIZE:
    case OP_MEMORY_GROW:
    case OP_REF_NULL:
        return skip_bytes(c, 1);
    case OP_I32_CONST:
        return skip_leb(c, 5);
    case OP_I64_CONST:
        return skip_leb(c, 10);
    case OP_F32_CONST:
        return skip_bytes(c, 4);
    case OP_F64_CONST:
        return skip_bytes(c, 8);
    case OP_PREFIX_FC: {
        if (!rd_u32(c, &n))
            return false;
        if (n <= 7)
            return true;
        switch (n) {
        case 8:
            return skip_leb(c, 5) && skip_bytes(c, 1);
        case 9:
        case 13:
        case 15:
        case 16:
        case 17:
            return skip_leb(c, 5);
        case 10:
            return skip_bytes(c, 2);
        case 11:
            return skip_bytes(c, 1);
        case 12:
        case 14:
            return skip_leb(c, 5) && skip_leb(c, 5);
        }
        return MALFORMED(c, "illegal opcode fc %u", n);
    }
    case OP_PREFIX_SIMD: {
        fwe_simd_info info;
        if (!rd_u32(c, &n))
            return false;
        if (!fwe_simd_lookup(n, &info))
            return MALFORMED(c, "illegal opcode fd %u", n);
        switch (info.kind) {
        case FWE_SIMD_LOAD:
        case FWE_SIMD_STORE:
            return skip_leb(c, 5) && skip_leb(c, 5);
        case FWE_SIMD_LOAD_LANE:
        case FWE_SIMD_STORE_LANE:
            return skip_leb(c, 5) && skip_leb(c, 5) && skip_bytes(c, 1);
        case FWE_SIMD_CONST:
        case FWE_SIMD_SHUFFLE:
            return skip_bytes(c, 16);
        case FWE_SIMD_EXTRACT_LANE:
        case FWE_SIMD_REPLACE_LANE:
            return skip_bytes(c, 1);
        default:
            return true;
        }
    }
    default:
        if (op >= OP_I32_LOAD && op <= OP_I64_STORE32)
            return skip_leb(c, 5) && skip_leb(c, 5);
        if (op <= OP_NOP || op == OP_ELSE || op == OP_RETURN || op == OP_DROP || op == OP_SELECT ||
            op == OP_REF_IS_NULL || (op >= OP_I32_EQZ && op <= OP_I64_EXTEND32_S))
            return true;
        return MALFORMED(c, "illegal opcode %02x", op);
    }
}

/* Returns true and writes the message when the body of `def` is malformed. */
static bool body_malformed(const fwe_module *m, uint32_t def, char *err, size_t errlen)
{
    compiler c;
    memset(&c, 0, sizeof c);
    c.m = m;
    c.func_index = m->nfunc_imports + def;
    c.err = err;
    c.errlen = errlen;
    c.p = m->funcs[def].body;
    c.end = c.p + m->funcs[def].body_len;
    uint32_t depth = 1;
    while (depth > 0 && c.status == FWE_OK) {
        if (c.p >= c.end) {
            MALFORMED(&c, "unexpected end of section or function");
            break;
        }
        c.instr_start = c.p;
        uint8_t op = *c.p++;
        scan_instruction(&c, op, &depth);
    }
    if (c.status == FWE_OK && c.p != c.end)
        MALFORMED(&c, "section size mismatch");
    return c.status == FWE_ERR_MALFORMED;
}

fwe_status fwe_validate_function(const fwe_module *m, uint32_t def, char *err, size_t errlen)
{
    compiler c;
    if (compiler_init(&c, m, def, false, err, errlen))
        run(&c);
    fwe_status st = c.status;
    if (st == FWE_ERR_INVALID && body_malformed(m, def, err, errlen))
        st = FWE_ERR_MALFORMED;
    if (st == FWE_OK) {
        fwe_func_def *d = (fwe_func_def *)&m->funcs[def]; /* facts recorded at load */
        d->max_stack = c.max_slot_height;
        d->nconst_slots = c.const_count < CONST_AREA_MAX ? c.const_count : CONST_AREA_MAX;
    }
    compiler_free(&c);
    return st;
}

fwe_code *fwe_compile_function(const fwe_module *m, uint32_t def)
{
    compiler c;
    fwe_code *code = NULL;
    char err[256];
    if (!compiler_init(&c, m, def, true, err, sizeof err) || !run(&c))
        goto out;
    code = calloc(1, sizeof *code);
    if (!code)
        goto out;
    const fwe_functype *ft = &m->types[c.def->type_index];
    code->words = c.code;
    c.code = NULL;
    code->nwords = c.ncode;
    code->param_slots = c.param_slots;
    code->local_slots = c.local_slots;
    code->const_base = c.const_base;
    code->nconst_slots = c.nconsts_used;
    code->consts = malloc(sizeof(uint64_t) * (c.nconsts_used ? c.nconsts_used : 1));
    if (code->consts)
        memcpy(code->consts, c.consts, sizeof(uint64_t) * c.nconsts_used);
    code->frame_slots = c.stack_base + c.max_slot_height + 2;
    code->result_slots = ft->result_slots;
    code->pcmap = c.pcmap;
    c.pcmap = NULL;
    code->npcmap = c.npcmap;
    if (!code->consts) {
        fwe_code_free(code);
        code = NULL;
    }
out:
    compiler_free(&c);
    return code;
}

void fwe_code_free(fwe_code *code)
{
    if (!code)
        return;
    free(code->words);
    free(code->consts);
    free(code->pcmap);
    free(code);
}

const fwe_code *fwe_module_code(const fwe_module *m, uint32_t def)
{
    fwe_func_def *d = (fwe_func_def *)&m->funcs[def];
    fwe_code *code = atomic_load_explicit(&d->code, memory_order_acquire);
    if (code)
        return code;
    fwe_code *fresh = fwe_compile_function(m, def);
    if (!fresh)
        return NULL;
    fwe_code *expected = NULL;
    if (atomic_compare_exchange_strong_explicit(&d->code, &expected, fresh, memory_order_acq_rel,
                                                memory_order_acquire))
        return fresh;
    fwe_code_free(fresh);
    return expected;
}
