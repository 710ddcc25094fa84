/* template.c: what every instance of a module starts from, computed once per module on first
 * instantiation: the initial linear memory as a memfd image that instances map copy-on-write,
 * initial table contents (as lazy function references), and which segments start dropped.
 * Used only when every active segment has a constant offset and fits; otherwise instantiation
 * applies segments one by one as the spec describes (and traps where they do not fit). */
#include "runtime.h"

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define IMAGE_PAGE 4096u
/* A pooled memory is reset in place (image copied back, the rest zeroed) rather than dropped with
 * madvise: dropping costs a TLB shootdown on every CPU running one of the process's threads plus a
 * page fault per page on the next request, which dominated the cost of serving a small guest.
 * Only the pages the instance may have written are reset: the kernel's page map tells which pages
 * are the process's own (a write made them so); pages never touched, or only read from the image,
 * still show the initial content. Up to RESTORE_MAX bytes are reset in place per reset; further
 * written pages are dropped (memory returned). A page, once written, stays the process's own, so
 * every DROP_EVERY resets a memory drops all its pages and starts counting afresh. Without a
 * readable page map, the first FALLBACK_KEEP bytes are reset in place and the rest dropped. */
#define RESTORE_MAX (8u << 20)
#define DROP_EVERY 1024u
#define FALLBACK_KEEP (1u << 20)
/* /proc/self/pagemap entry bits (Linux Documentation/admin-guide/mm/pagemap.rst) */
#define PM_PRESENT (1ull << 63)
#define PM_SWAPPED (1ull << 62)
#define PM_FILE (1ull << 61) /* a page of the file (the image), not a private copy */
#define PM_BATCH 2048u       /* entries read per pread (8 MiB of memory) */

/* Opens the page map if it reports what reset_written relies on: a page just written shows as
 * present and private. (Where it does not, e.g. an emulated /proc that answers zeros, trusting it
 * would leave written pages unreset.) Returns the descriptor or -1. */
static int open_page_map(void)
{
    int fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    uint8_t *page =
        mmap(NULL, IMAGE_PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    uint64_t e = 0;
    bool ok = page != MAP_FAILED;
    if (ok) {
        page[0] = 1;
        off_t at = (off_t)((uint64_t)(uintptr_t)page / IMAGE_PAGE * sizeof e);
        ok = pread(fd, &e, sizeof e, at) == (ssize_t)sizeof e && (e & PM_PRESENT) && !(e & PM_FILE);
        munmap(page, IMAGE_PAGE);
    }
    if (!ok) {
        close(fd);
        return -1;
    }
    return fd;
}

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
    t->pagemap_fd = open_page_map();
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
    for (uint32_t i = 0; i < t->nblocks; i++)
        free(t->blocks[i]);
    pthread_mutex_destroy(&t->pool_lock);
    if (t->mem_fd >= 0)
        close(t->mem_fd);
    if (t->pagemap_fd >= 0)
        close(t->pagemap_fd);
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

/* Puts bytes [from, to) of a memory back to their initial content in place: the image where
 * it covers them, zeros past it. */
static void restore(const fwe_templates *t, fwe_memory *mem, uint64_t from, uint64_t to)
{
    uint64_t img_end = t->mem_image_len < to ? t->mem_image_len : to;
    if (from < img_end) {
        memcpy(mem->base + from, t->image + from, img_end - from);
        from = img_end;
    }
    if (from < to)
        memset(mem->base + from, 0, to - from);
}

/* Restores the run [from, to) in place while the budget lasts, else drops it. */
static bool reset_run(const fwe_templates *t, fwe_memory *mem, uint64_t from, uint64_t to,
                      uint64_t *budget)
{
    if (to - from <= *budget) {
        restore(t, mem, from, to);
        *budget -= to - from;
        return true;
    }
    return madvise(mem->base + from, to - from, MADV_DONTNEED) == 0;
}

/* Resets the written pages of [0, mem->size) in place (within the budget), dropping the rest.
 * Returns false when the page map could not be read or a drop failed. */
static bool reset_written(const fwe_templates *t, fwe_memory *mem)
{
    uint64_t npages = mem->size / IMAGE_PAGE;
    uint64_t first = (uint64_t)(uintptr_t)mem->base / IMAGE_PAGE;
    uint64_t budget = RESTORE_MAX;
    uint64_t entries[PM_BATCH];
    bool in_run = false;
    uint64_t run = 0; /* first page of the current run of written pages */
    for (uint64_t p = 0; p < npages; p++) {
        uint64_t i = p % PM_BATCH;
        if (i == 0) {
            uint64_t n = npages - p < PM_BATCH ? npages - p : PM_BATCH;
            ssize_t want = (ssize_t)(n * sizeof entries[0]);
            if (pread(t->pagemap_fd, entries, (size_t)want,
                      (off_t)((first + p) * sizeof entries[0])) != want)
                return false;
        }
        uint64_t e = entries[i];
        bool written = (e & PM_SWAPPED) || ((e & PM_PRESENT) && !(e & PM_FILE));
        if (written && !in_run) {
            in_run = true;
            run = p;
        } else if (!written && in_run) {
            in_run = false;
            if (!reset_run(t, mem, run * IMAGE_PAGE, p * IMAGE_PAGE, &budget))
                return false;
        }
    }
    return !in_run || reset_run(t, mem, run * IMAGE_PAGE, npages * IMAGE_PAGE, &budget);
}

bool fwe_templates_put_memory(const fwe_templates *tc, fwe_memory *mem, uint64_t initial_bytes)
{
    fwe_templates *t = (fwe_templates *)tc;
    if (mem->size < initial_bytes)
        return false;
    bool image_ok = !t->mem_image_len || t->image;
    bool drop_all = !image_ok || ++mem->resets % DROP_EVERY == 0;
    if (drop_all || t->pagemap_fd < 0 || !reset_written(t, mem)) {
        /* the first FALLBACK_KEEP bytes in place (unless every page goes), the rest dropped:
         * anonymous pages read back as zero, pages of the image mapping from the image */
        uint64_t keep = drop_all                        ? 0
                        : initial_bytes < FALLBACK_KEEP ? initial_bytes
                                                        : FALLBACK_KEEP;
        restore(t, mem, 0, keep);
        if (mem->size > keep && madvise(mem->base + keep, mem->size - keep, MADV_DONTNEED) != 0)
            return false;
    }
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

void *fwe_templates_take_block(const fwe_templates *tc)
{
    fwe_templates *t = (fwe_templates *)tc; /* the pools are the mutable part, under the lock */
    void *block = NULL;
    pthread_mutex_lock(&t->pool_lock);
    if (t->nblocks)
        block = t->blocks[--t->nblocks];
    pthread_mutex_unlock(&t->pool_lock);
    return block;
}

bool fwe_templates_put_block(const fwe_templates *tc, void *block)
{
    fwe_templates *t = (fwe_templates *)tc;
    bool kept = false;
    pthread_mutex_lock(&t->pool_lock);
    if (t->nblocks < FWE_POOL_MAX) {
        t->blocks[t->nblocks++] = block;
        kept = true;
    }
    pthread_mutex_unlock(&t->pool_lock);
    return kept;
}
