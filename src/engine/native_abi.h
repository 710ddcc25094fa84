/* native_abi.h: the interface between the engine and the native code of the second tier (C
 * emitted by native_gen.c, compiled by the system C compiler into a shared object). The structs
 * are written once, inside FWE_NABI_DEFS, which both expands here (for the engine) and is pasted
 * as text at the top of every generated file, so the two sides cannot disagree. */
#ifndef FWE_NATIVE_ABI_H
#define FWE_NATIVE_ABI_H

#include <stdint.h>

/* Bump when FWE_NABI_DEFS or the meaning of generated code changes (part of the cache key). */
#define FWE_NABI_VERSION 11

/* A native function: fp = its frame on the value stack (arguments in fp[0..]), ret_pc = the
 * caller's resume point (for backtraces), self = its own entry in the module's table, osr = 0 for
 * a call, or 1 + the word offset of a loop header to continue a frame the interpreter started
 * there (every slot is then read from fp). Returns 0, or the trap kind after the trap was reported.
 * bulk runs one table or segment instruction (table.*, elem.drop, memory.init, data.drop) whose
 * words are at pc, with its slot operands a, b, c in order; a result goes to *out. trap reports a
 * trap with pc a word past the start of the instruction it happens at (for a trap inside an
 * instruction its first word + 1, at a call the return address): the backtrace looks up the word
 * before pc. call, call_indirect and bulk take the instruction's first word as pc. */
#define FWE_NABI_DEFS                                                                              \
    typedef struct fwe_nframe {                                                                    \
        const uint32_t *ret_pc;                                                                    \
        uint64_t *fp;                                                                              \
        void *inst;                                                                                \
        const void *code;                                                                          \
        uint32_t func_index;                                                                       \
    } fwe_nframe;                                                                                  \
    typedef struct fwe_nmem {                                                                      \
        uint8_t *base;                                                                             \
        uint64_t size;                                                                             \
    } fwe_nmem;                                                                                    \
    struct fwe_nctx;                                                                               \
    struct fwe_ninst;                                                                              \
    struct fwe_ndef;                                                                               \
    typedef uint32_t (*fwe_nfn)(struct fwe_nctx * cx, struct fwe_ninst * ni, uint64_t * fp,        \
                                const uint32_t *ret_pc, const struct fwe_ndef *self,               \
                                uint32_t osr);                                                     \
    typedef struct fwe_ndef {                                                                      \
        fwe_nfn fn;                                                                                \
        const void *code;                                                                          \
        const uint32_t *words;                                                                     \
        uint32_t func_index;                                                                       \
        uint32_t frame_slots;                                                                      \
        uint32_t tier_ups; /* frames that left quick code for newer code at a loop (approx.) */    \
    } fwe_ndef;                                                                                    \
    typedef struct fwe_ntable {                                                                    \
        void *owner;                                                                               \
        uint8_t elem;                                                                              \
        uint32_t size;                                                                             \
        uint64_t max;                                                                              \
        uint32_t host_max;                                                                         \
        uint32_t cap;                                                                              \
        uint64_t *elems;                                                                           \
    } fwe_ntable;                                                                                  \
    typedef struct fwe_nfunc {                                                                     \
        uint32_t type_id;                                                                          \
        const void *type;                                                                          \
        void *inst;                                                                                \
        uint32_t def_index;                                                                        \
    } fwe_nfunc;                                                                                   \
    typedef struct fwe_ninst {                                                                     \
        fwe_nmem *mem0;                                                                            \
        uint64_t **globals;                                                                        \
        fwe_ndef *defs;                                                                            \
        void *inst;                                                                                \
        fwe_ntable **tables;                                                                       \
    } fwe_ninst;                                                                                   \
    typedef struct fwe_nctx {                                                                      \
        fwe_nframe *frames;                                                                        \
        uint32_t *depth;                                                                           \
        uint32_t max_frames;                                                                       \
        uint64_t *stack_end;                                                                       \
        const uint32_t *interrupt;                                                                 \
        const char *climit;                                                                        \
        void *entry;                                                                               \
        uint32_t (*trap)(struct fwe_nctx * cx, uint32_t kind, const uint32_t *pc);                 \
        uint32_t (*call)(struct fwe_nctx * cx, fwe_ninst *ni, uint32_t func_index, uint64_t *nfp,  \
                         const uint32_t *pc, const uint32_t *ret_pc);                              \
        uint32_t (*call_indirect)(struct fwe_nctx * cx, fwe_ninst *ni, uint32_t type_id,           \
                                  uint32_t table, uint32_t idx, uint64_t *nfp, const uint32_t *pc, \
                                  const uint32_t *ret_pc);                                         \
        int64_t (*memory_grow)(struct fwe_nctx * cx, fwe_ninst *ni, uint32_t delta);               \
        uint64_t (*ref_func)(fwe_ninst * ni, uint32_t func_index);                                 \
        uint32_t (*bulk)(struct fwe_nctx * cx, fwe_ninst *ni, const uint32_t *pc, uint64_t a,      \
                         uint64_t b, uint64_t c, uint64_t *out);                                   \
        /* the interrupt word is set: 1 = a real interruption, 0 = a sample was taken (where: 1    \
         * quick-compiler code, 2 the C compiler's) */                                             \
        uint32_t (*poll)(struct fwe_nctx * cx, const struct fwe_ndef *self, uint32_t where);       \
    } fwe_nctx;

FWE_NABI_DEFS

#define FWE_NABI_STR2(...) #__VA_ARGS__
#define FWE_NABI_STR(...) FWE_NABI_STR2(__VA_ARGS__)

#endif
