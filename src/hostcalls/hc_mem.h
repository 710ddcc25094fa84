/* hc_mem.h: checked access to guest memory for hostcalls, with the ABI's error conventions: a
 * range outside linear memory is `inval` (as wiggle's PtrOutOfBounds), a misaligned scalar
 * out-pointer is `badalign`, a too-small caller buffer is `buflen` with the needed size written to
 * the call's nwritten out-pointer. Every guest pointer a hostcall touches goes through here. */
#ifndef HC_MEM_H
#define HC_MEM_H

#include "fwe.h"
#include "hc_status.h"

#include <stddef.h>
#include <stdint.h>

/* Host view of guest [ptr, ptr+len), or NULL when any byte lies outside memory (or the caller
 * has no memory). Valid until the guest's memory grows. */
uint8_t *hc_mem_slice(fwe_caller *caller, uint32_t ptr, uint32_t len);

/* Little-endian scalar stores/loads at a naturally aligned guest address. */
hc_status hc_mem_write_u16(fwe_caller *caller, uint32_t ptr, uint16_t v);
hc_status hc_mem_write_u32(fwe_caller *caller, uint32_t ptr, uint32_t v);
hc_status hc_mem_write_u64(fwe_caller *caller, uint32_t ptr, uint64_t v);
hc_status hc_mem_read_u32(fwe_caller *caller, uint32_t ptr, uint32_t *v);
hc_status hc_mem_read_u64(fwe_caller *caller, uint32_t ptr, uint64_t *v);

/* Copies data[0..len) to the guest buffer (buf, buf_len) and writes len to nwritten_ptr. When
 * len > buf_len writes len to nwritten_ptr and returns HC_BUFLEN (the guest retries with a
 * bigger buffer). */
hc_status hc_mem_copy_out(fwe_caller *caller, uint32_t buf, uint32_t buf_len, uint32_t nwritten_ptr,
                          const void *data, size_t len);

/* Copies data[0..len) to guest [buf, buf+len) (no length out-parameter). */
hc_status hc_mem_write_bytes(fwe_caller *caller, uint32_t buf, const void *data, size_t len);

/* A guest record (an options struct) of `size` bytes at ptr, viewed through *out: `inval` when it
 * lies outside memory, `badalign` when ptr is not a multiple of `align` (a power of two). */
hc_status hc_mem_record(fwe_caller *caller, uint32_t ptr, uint32_t size, uint32_t align,
                        uint8_t **out);
/* Little-endian fields at byte offset `off` of a record viewed through hc_mem_record. */
uint32_t hc_rec_u32(const uint8_t *rec, size_t off);
uint64_t hc_rec_u64(const uint8_t *rec, size_t off);
void hc_rec_set_u32(uint8_t *rec, size_t off, uint32_t v);
void hc_rec_set_u64(uint8_t *rec, size_t off, uint64_t v);

#endif
