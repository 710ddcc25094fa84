/* hc_mem.c: checked guest-memory helpers (bounds through fwe_memory_slice, alignment, LE). */
#include "hc_mem.h"

#include <string.h>

uint8_t *hc_mem_slice(fwe_caller *caller, uint32_t ptr, uint32_t len)
{
    fwe_memory *mem = fwe_caller_memory(caller);
    if (!mem)
        return NULL;
    return fwe_memory_slice(mem, ptr, len);
}

static hc_status store(fwe_caller *caller, uint32_t ptr, uint64_t v, uint32_t size)
{
    uint8_t *p = hc_mem_slice(caller, ptr, size);
    if (!p)
        return HC_INVAL; /* bounds before alignment, as wiggle */
    if (ptr % size != 0)
        return HC_BADALIGN;
    for (uint32_t i = 0; i < size; i++)
        p[i] = (uint8_t)(v >> (8 * i));
    return HC_OK;
}

static hc_status load(fwe_caller *caller, uint32_t ptr, uint64_t *v, uint32_t size)
{
    const uint8_t *p = hc_mem_slice(caller, ptr, size);
    if (!p)
        return HC_INVAL; /* bounds before alignment, as wiggle */
    if (ptr % size != 0)
        return HC_BADALIGN;
    uint64_t r = 0;
    for (uint32_t i = 0; i < size; i++)
        r |= (uint64_t)p[i] << (8 * i);
    *v = r;
    return HC_OK;
}

hc_status hc_mem_write_u16(fwe_caller *caller, uint32_t ptr, uint16_t v)
{
    return store(caller, ptr, v, 2);
}

hc_status hc_mem_write_u32(fwe_caller *caller, uint32_t ptr, uint32_t v)
{
    return store(caller, ptr, v, 4);
}

hc_status hc_mem_write_u64(fwe_caller *caller, uint32_t ptr, uint64_t v)
{
    return store(caller, ptr, v, 8);
}

hc_status hc_mem_read_u32(fwe_caller *caller, uint32_t ptr, uint32_t *v)
{
    uint64_t r = 0;
    hc_status st = load(caller, ptr, &r, 4);
    *v = (uint32_t)r;
    return st;
}

hc_status hc_mem_read_u64(fwe_caller *caller, uint32_t ptr, uint64_t *v)
{
    return load(caller, ptr, v, 8);
}

hc_status hc_mem_write_bytes(fwe_caller *caller, uint32_t buf, const void *data, size_t len)
{
    if (len > UINT32_MAX)
        return HC_INVAL;
    uint8_t *p = hc_mem_slice(caller, buf, (uint32_t)len);
    if (!p)
        return HC_INVAL;
    if (len)
        memcpy(p, data, len);
    return HC_OK;
}

hc_status hc_mem_copy_out(fwe_caller *caller, uint32_t buf, uint32_t buf_len, uint32_t nwritten_ptr,
                          const void *data, size_t len)
{
    if (len > buf_len) {
        /* as Viceroy: the needed size, or 0 when it does not fit the out-parameter */
        hc_status st = hc_mem_write_u32(caller, nwritten_ptr, len > UINT32_MAX ? 0 : (uint32_t)len);
        return st != HC_OK ? st : HC_BUFLEN;
    }
    hc_status st = hc_mem_write_bytes(caller, buf, data, len);
    if (st != HC_OK)
        return st;
    return hc_mem_write_u32(caller, nwritten_ptr, (uint32_t)len);
}

hc_status hc_mem_record(fwe_caller *caller, uint32_t ptr, uint32_t size, uint32_t align,
                        uint8_t **out)
{
    *out = hc_mem_slice(caller, ptr, size);
    if (!*out)
        return HC_INVAL; /* bounds before alignment, as wiggle */
    return (ptr & (align - 1)) ? HC_BADALIGN : HC_OK;
}

static uint64_t rec_get(const uint8_t *p, unsigned size)
{
    uint64_t r = 0;
    for (unsigned i = 0; i < size; i++)
        r |= (uint64_t)p[i] << (8 * i);
    return r;
}

static void rec_put(uint8_t *p, uint64_t v, unsigned size)
{
    for (unsigned i = 0; i < size; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

uint32_t hc_rec_u32(const uint8_t *rec, size_t off)
{
    return (uint32_t)rec_get(rec + off, 4);
}

uint64_t hc_rec_u64(const uint8_t *rec, size_t off)
{
    return rec_get(rec + off, 8);
}

void hc_rec_set_u32(uint8_t *rec, size_t off, uint32_t v)
{
    rec_put(rec + off, v, 4);
}

void hc_rec_set_u64(uint8_t *rec, size_t off, uint64_t v)
{
    rec_put(rec + off, v, 8);
}
