/* be_pattern.h: the byte pattern and hash shared by the backend test origin, the be_* guests and
 * the backend tests (header-only, plain C for both the host and wasm32-wasi). Byte i of a
 * generated body is byte (i % 8) of splitmix64(i / 8), so every offset is checked, not only a
 * short period; bodies are hashed with 64-bit FNV-1a. */
#ifndef BE_PATTERN_H
#define BE_PATTERN_H

#include <stddef.h>
#include <stdint.h>

static inline uint64_t be_mix64(uint64_t x)
{
    x += 0x9E3779B97F4A7C15ull;
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
    return x ^ (x >> 31);
}

/* Fills out[0..n) with the pattern bytes at offsets off..off+n. */
static inline void be_pattern_fill(uint64_t off, uint8_t *out, size_t n)
{
    size_t i = 0;
    while (i < n) {
        uint64_t pos = off + i;
        uint64_t w = be_mix64(pos >> 3);
        for (unsigned k = (unsigned)(pos & 7); k < 8 && i < n; k++, i++)
            out[i] = (uint8_t)(w >> (8 * k));
    }
}

/* Number of bytes in p[0..n) that differ from the pattern at offset off. */
static inline size_t be_pattern_mismatches(uint64_t off, const uint8_t *p, size_t n)
{
    uint8_t tmp[512];
    size_t bad = 0;
    while (n > 0) {
        size_t k = n < sizeof tmp ? n : sizeof tmp;
        be_pattern_fill(off, tmp, k);
        for (size_t i = 0; i < k; i++)
            bad += tmp[i] != p[i];
        off += k;
        p += k;
        n -= k;
    }
    return bad;
}

#define BE_FNV_INIT 0xCBF29CE484222325ull

static inline uint64_t be_fnv(uint64_t h, const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        h ^= p[i];
        h *= 0x100000001B3ull;
    }
    return h;
}

/* FNV-1a of the first n pattern bytes (what an origin reports for a generated upload). */
static inline uint64_t be_pattern_fnv(uint64_t n)
{
    uint8_t tmp[4096];
    uint64_t h = BE_FNV_INIT;
    for (uint64_t off = 0; off < n;) {
        size_t k = n - off < sizeof tmp ? (size_t)(n - off) : sizeof tmp;
        be_pattern_fill(off, tmp, k);
        h = be_fnv(h, tmp, k);
        off += k;
    }
    return h;
}

#endif
