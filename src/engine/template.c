/* template.c: what every instance of a module starts from, computed once per module on first
 * instantiation: the initial linear memory as a memfd image that instances map copy-on-write,
 * initial table contents (as lazy function references), and which segments start dropped.
 * Used only when every active segment has a constant offset and fits; otherwise instantiation
 * applies segments one by one as the spec describes (and traps where they do not fit). */
#include "runtime.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define IMAGE_PAGE 4096u
/* A pooled memory's first bytes are reset in place (image copied back, the rest zeroed) rather
 * than dropped with madvise: dropping them costs a TLB shootdown on every CPU running one of the
 * process's threads plus a page fault per page on the next request, which dominated the cost of
 * serving a small guest. Past this size the pages are dropped (and memory returned). */
#define KEEP_RESIDENT (1u << 20)

static bool const_offset(const fwe_constexpr *e, uint64_t *out)
{
    if (e->op != FWE_CONST_I32)
        return false;
    *out = (uint32_t)e->value.i64;
    return true;
}

static fwe_templates *build(const fwe_module *m)
{
    fwe_templates *t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    t->mem_fd = -1;
    pthread_mutex_init(&t->pool_lock, NULL);
    t->dropped_elems = calloc(m->nelems + 1, 1);
    t->dropped_datas = calloc(m->ndatas + 1, 1);
    t->tables = calloc(m->ntables + 1, sizeof *t->tables);
    if (!t->dropped_elems || !t->dropped_datas || !t->tables)
        goto fail;
    /* memory 0 must be defined here for an image; imported memories are written through */
    bool own_memory = m->nmemories > 0 && m->nmemory_imports == 0;
    uint64_t mem_size = own_memory ? (uint64_t)m->memories[0].min * FWE_PAGE_SIZE : 0;
    bool ok = true;
    uint64_t image_end = 0;
    for (uint32_t i = 0; i < m->ndatas && ok; i++) {
        const fwe_data_segment *d = &m->datas[i];
        if (d->mode != FWE_SEG_ACTIVE)
            continue;
        uint64_t off;
        ok = own_memory && const_offset(&d->offset, &off) && off + d->len <= mem_size;
        if (ok && d->len && off + d->len > image_end)
            image_end = off + d->len;
        t->dropped_datas[i] = 1;
    }
    for (uint32_t i = 0; i < m->nelems && ok; i++) {
        const fwe_elem_segment *e = &m->elems[i];
        if (e->mode != FWE_SEG_PASSIVE)
            t->dropped_elems[i] = 1;
        if (e->mode != FWE_SEG_ACTIVE)
            continue;
        uint64_t off;
        ok = e->table >= m->ntable_imports && const_offset(&e->offset, &off) &&
             off + e->count <= m->tables[e->table].limits.min;
        for (uint32_t k = 0; k < e->count && ok; k++)
            ok = e->items[k].op == FWE_CONST_REF_FUNC || e->items[k].op == FWE_CONST_REF_NULL;
    }
    t->segments_ok = ok;
    if (!ok)
        return t;
    /* tables: lazy entries (func index << 1) | 1 */
    for (uint32_t ti = m->ntable_imports; ti < m->ntables; ti++) {
        uint32_t n = m->tables[ti].limits.min;
        t->tables[ti] = calloc(n ? n : 1, sizeof(uint64_t));
        if (!t->tables[ti])
            goto fail;
    }
    for (uint32_t i = 0; i < m->nelems; i++) {
        const fwe_elem_segment *e = &m->elems[i];
        if (e->mode != FWE_SEG_ACTIVE)
            continue;
        uint64_t off = (uint32_t)e->offset.value.i64;
        for (uint32_t k = 0; k < e->count; k++)
            t->tables[e->table][off + k] =
                e->items[k].op == FWE_CONST_REF_FUNC ? ((uint64_t)e->items[k].index << 1) | 1 : 0;
    }
    /* memory image */
    if (image_end) {
        t->mem_image_len = (image_end + IMAGE_PAGE - 1) / IMAGE_PAGE * IMAGE_PAGE;
        if (t->mem_image_len > mem_size)
            t->mem_image_len = mem_size;
        t->mem_fd = memfd_create("fwe-memory-image", MFD_CLOEXEC);
        if (t->mem_fd < 0 || ftruncate(t->mem_fd, (off_t)t->mem_image_len) != 0)
            goto fail;
        for (uint32_t i = 0; i < m->ndatas; i++) {
            const fwe_data_segment *d = &m->datas[i];
            if (d->mode != FWE_SEG_ACTIVE || !d->len)
                continue;
            uint64_t off = (uint32_t)d->offset.value.i64;
            if (pwrite(t->mem_fd, d->bytes, d->len, (off_t)off) != (ssize_t)d->len)
                goto fail;
        }
        void *img = mmap(NULL, t->mem_image_len, PROT_READ, MAP_SHARED, t->mem_fd, 0);
        t->image = img == MAP_FAILED ? NULL : img;
    }
    return t;
fail:
    fwe_templates_free(t, m);
    return NULL;
}

void fwe_templates_free(fwe_templates *t, const fwe_module *m)
{
    if (!t)
        return;
    for (uint32_t i = 0; i < t->npool; i++)
        fwe_memory_free(t->pool[i]);
    pthread_mutex_destroy(&t->pool_lock);
    if (t->mem_fd >= 0)
        close(t->mem_fd);
    if (t->image)
        munmap((void *)t->image, t->mem_image_len);
    if (t->tables)
        for (uint32_t i = 0; i < m->ntables; i++)
            free(t->tables[i]);
    free(t->tables);
    free(t->dropped_elems);
    free(t->dropped_datas);
    free(t);
}

const fwe_templates *fwe_module_templates(const fwe_module *m)
{
    fwe_module *mm = (fwe_module *)m; /* a lazily published cache, like translated code */
    fwe_templates *t = atomic_load_explicit(&mm->templates, memory_order_acquire);
    if (t)
        return t;
    fwe_templates *fresh = build(m);
    if (!fresh)
        return NULL;
    fwe_templates *expected = NULL;
    if (atomic_compare_exchange_strong(&mm->templates, &expected, fresh))
        return fresh;
    fwe_templates_free(fresh, m);
    return expected;
}

fwe_memory *fwe_templates_take_memory(const fwe_templates *tc)
{
    fwe_templates *t = (fwe_templates *)tc; /* the pool is the one mutable part, under its lock */
    fwe_memory *mem = NULL;
    pthread_mutex_lock(&t->pool_lock);
    if (t->npool)
        mem = t->pool[--t->npool];
    pthread_mutex_unlock(&t->pool_lock);
    return mem;
}

bool fwe_templates_put_memory(const fwe_templates *tc, fwe_memory *mem, uint64_t initial_bytes)
{
    fwe_templates *t = (fwe_templates *)tc;
    if (mem->size < initial_bytes)
        return false;
    /* the first KEEP_RESIDENT bytes: copied back from the image and zeroed in place */
    uint64_t keep = initial_bytes < KEEP_RESIDENT ? initial_bytes : KEEP_RESIDENT;
    if (t->mem_image_len && !t->image)
        keep = 0;
    uint64_t img = t->mem_image_len < keep ? t->mem_image_len : keep;
    if (img)
        memcpy(mem->base, t->image, img);
    if (keep > img)
        memset(mem->base + img, 0, keep - img);
    /* beyond: drop every page the instance touched: anonymous pages read back as zero, pages of
     * the image mapping read back from the image */
    if (mem->size > keep && madvise(mem->base + keep, mem->size - keep, MADV_DONTNEED) != 0)
        return false;
    if (mem->size > initial_bytes &&
        mprotect(mem->base + initial_bytes, mem->size - initial_bytes, PROT_NONE) != 0)
        return false;
    mem->size = initial_bytes;
    bool kept = false;
    pthread_mutex_lock(&t->pool_lock);
    if (t->npool < FWE_POOL_MAX) {
        t->pool[t->npool++] = mem;
        kept = true;
    }
    pthread_mutex_unlock(&t->pool_lock);
    return kept;
}

bool fwe_memory_map_image(fwe_memory *mem, const fwe_templates *t)
{
    if (t->mem_fd < 0 || !t->mem_image_len)
        return true;
    if (t->mem_image_len > mem->size)
        return false;
    void *p = mmap(mem->base, t->mem_image_len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_FIXED,
                   t->mem_fd, 0);
    return p != MAP_FAILED;
}
