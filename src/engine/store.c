/* store.c: linear memories, tables and globals: creation, growth, typed access, and the single
 * checked accessor for guest pointers (fwe_memory_slice). A memory reserves its whole address
 * range up front (PROT_NONE beyond the current size), so its base never moves when it grows. */
#include "grow.h"
#include "runtime.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#define RESERVE_NO_MAX (UINT64_C(4) << 30) /* 4 GiB: every 32-bit address */

fwe_memory *fwe_memory_create(uint32_t min_pages, uint64_t max_pages)
{
    fwe_memory *m = calloc(1, sizeof *m);
    if (!m)
        return NULL;
    uint64_t reserve = max_pages >= FWE_NO_MAX || max_pages > FWE_MAX_PAGES
                           ? RESERVE_NO_MAX
                           : max_pages * FWE_PAGE_SIZE;
    if (reserve < (uint64_t)min_pages * FWE_PAGE_SIZE)
        reserve = (uint64_t)min_pages * FWE_PAGE_SIZE;
    if (reserve == 0)
        reserve = FWE_PAGE_SIZE; /* keep a valid, inaccessible mapping */
    void *base = mmap(NULL, reserve, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (base == MAP_FAILED) {
        free(m);
        return NULL;
    }
    uint64_t size = (uint64_t)min_pages * FWE_PAGE_SIZE;
    if (size && mprotect(base, size, PROT_READ | PROT_WRITE) != 0) {
        munmap(base, reserve);
        free(m);
        return NULL;
    }
    m->base = base;
    m->size = size;
    m->reserved = reserve;
    m->max_pages = max_pages;
    return m;
}

static void memory_destroy(fwe_memory *m)
{
    if (!m)
        return;
    munmap(m->base, m->reserved);
    free(m);
}

int64_t fwe_memory_grow_internal(fwe_memory *m, uint64_t delta, uint64_t cap_pages)
{
    uint64_t old = m->size / FWE_PAGE_SIZE;
    uint64_t limit = m->max_pages < FWE_MAX_PAGES ? m->max_pages : FWE_MAX_PAGES;
    if (cap_pages && cap_pages < limit)
        limit = cap_pages;
    if (delta > limit || old + delta > limit)
        return -1;
    if (delta == 0)
        return (int64_t)old;
    uint64_t nsize = (old + delta) * FWE_PAGE_SIZE;
    if (nsize > m->reserved)
        return -1;
    if (mprotect(m->base + m->size, nsize - m->size, PROT_READ | PROT_WRITE) != 0)
        return -1;
    m->size = nsize;
    return (int64_t)old;
}

uint8_t *fwe_memory_slice(fwe_memory *m, uint64_t offset, uint64_t len)
{
    if (!m || offset > m->size || len > m->size - offset)
        return NULL;
    return m->base + offset;
}
uint8_t *fwe_memory_data(fwe_memory *m)
{
    return m ? m->base : NULL;
}
uint64_t fwe_memory_size(const fwe_memory *m)
{
    return m ? m->size : 0;
}
int64_t fwe_memory_grow(fwe_memory *m, uint32_t delta)
{
    return fwe_memory_grow_internal(m, delta, 0);
}

fwe_memory *fwe_memory_new(fwe_engine *engine, uint32_t min_pages, uint64_t max_pages)
{
    (void)engine;
    return fwe_memory_create(min_pages, max_pages);
}
void fwe_memory_free(fwe_memory *m)
{
    memory_destroy(m);
}

fwe_table *fwe_table_create(uint8_t elem, uint32_t min, uint64_t max)
{
    fwe_table *t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    t->elem = elem;
    t->size = min;
    t->max = max;
    t->cap = min;
    t->elems = calloc(min ? min : 1, sizeof(uint64_t));
    if (!t->elems) {
        free(t);
        return NULL;
    }
    return t;
}

int64_t fwe_table_grow_internal(fwe_table *t, uint32_t delta, uint64_t init)
{
    uint64_t old = t->size;
    uint64_t nsize = old + delta;
    uint64_t limit = t->max < UINT32_MAX ? t->max : UINT32_MAX;
    if (nsize > limit)
        return -1;
    if (nsize > (1u << 26) || (t->host_max && nsize > t->host_max))
        return -1; /* host limits: 64M entries, or the instance's cap */
    if (!fwe_grow((void **)&t->elems, &t->cap, (uint32_t)nsize, 8, sizeof *t->elems))
        return -1;
    for (uint64_t i = old; i < nsize; i++)
        t->elems[i] = init;
    t->size = (uint32_t)nsize;
    return (int64_t)old;
}

fwe_table *fwe_table_new(fwe_engine *engine, fwe_valtype elem, uint32_t min, uint64_t max)
{
    (void)engine;
    return fwe_table_create((uint8_t)elem, min, max);
}
void fwe_table_free(fwe_table *t)
{
    if (!t)
        return;
    free(t->elems);
    free(t);
}
uint32_t fwe_table_size(const fwe_table *t)
{
    return t->size;
}

static fwe_val val_from_slots(uint8_t type, const uint64_t *slots)
{
    fwe_val v;
    memset(&v, 0, sizeof v);
    v.type = (fwe_valtype)type;
    switch (type) {
    case FWE_I32:
    case FWE_F32:
        v.of.i32 = (uint32_t)slots[0];
        break;
    case FWE_V128:
        memcpy(v.of.v128, slots, 16);
        break;
    case FWE_FUNCREF:
        v.of.funcref = (fwe_func *)(uintptr_t)slots[0];
        break;
    default:
        v.of.i64 = slots[0];
        break;
    }
    return v;
}

bool fwe_table_get(const fwe_table *t, uint32_t i, fwe_val *out)
{
    if (i >= t->size)
        return false;
    uint64_t e[2] = {fwe_table_entry((fwe_table *)t, i), 0};
    *out = val_from_slots(t->elem, e);
    return true;
}

fwe_global *fwe_global_new(fwe_engine *engine, fwe_val init, bool mut)
{
    (void)engine;
    fwe_global *g = calloc(1, sizeof *g);
    if (!g)
        return NULL;
    g->type = (uint8_t)init.type;
    g->mut = mut;
    fwe_global_set_raw(g, init);
    return g;
}
void fwe_global_free(fwe_global *g)
{
    free(g);
}

void fwe_global_set_raw(fwe_global *g, fwe_val v)
{
    switch (g->type) {
    case FWE_I32:
    case FWE_F32:
        g->value[0] = v.of.i32;
        break;
    case FWE_V128:
        memcpy(g->value, v.of.v128, 16);
        break;
    case FWE_FUNCREF:
        g->value[0] = (uint64_t)(uintptr_t)v.of.funcref;
        break;
    default:
        g->value[0] = v.of.i64;
        break;
    }
}

fwe_val fwe_global_get(const fwe_global *g)
{
    return val_from_slots(g->type, g->value);
}

fwe_status fwe_global_set(fwe_global *g, fwe_val v)
{
    if (!g->mut || (uint8_t)v.type != g->type)
        return FWE_ERR_ARGS;
    fwe_global_set_raw(g, v);
    return FWE_OK;
}

/* slots <-> fwe_val for fwe_call */
fwe_val fwe_val_from_slots(uint8_t type, const uint64_t *slots)
{
    return val_from_slots(type, slots);
}
void fwe_val_to_slots(fwe_val v, uint64_t *slots)
{
    switch (v.type) {
    case FWE_I32:
    case FWE_F32:
        slots[0] = v.of.i32;
        break;
    case FWE_V128:
        memcpy(slots, v.of.v128, 16);
        break;
    case FWE_FUNCREF:
        slots[0] = (uint64_t)(uintptr_t)v.of.funcref;
        break;
    default:
        slots[0] = v.of.i64;
        break;
    }
}
