/* leb.c: LEB128 readers for the binary format (declared in module.h), shared by the decoder and
 * the function validator. Each returns the bytes consumed, or 0 when the input is truncated, too
 * long for the type, or has unused high bits that are not a proper zero/sign extension. */
#include "module.h"

size_t fwe_read_u32(const uint8_t *p, const uint8_t *end, uint32_t *out)
{
    if (p < end && p[0] < 0x80) {
        *out = p[0];
        return 1;
    }
    uint32_t v = 0;
    for (size_t i = 0; i < 5; i++) {
        if (p + i >= end)
            return 0;
        uint8_t b = p[i];
        if (i == 4 && (b & 0x70))
            return 0; /* bits beyond 32 (or a continuation bit) */
        v |= (uint32_t)(b & 0x7f) << (7 * i);
        if (!(b & 0x80)) {
            *out = v;
            return i + 1;
        }
    }
    return 0;
}

/* Signed LEB of `bits` (<= 64) bits: the last possible byte may only hold the sign extension. */
static size_t read_signed(const uint8_t *p, const uint8_t *end, unsigned bits, int64_t *out)
{
    uint64_t v = 0;
    unsigned shift = 0;
    size_t maxlen = (bits + 6) / 7;
    for (size_t i = 0; i < maxlen; i++) {
        if (p + i >= end)
            return 0;
        uint8_t b = p[i];
        if (i == maxlen - 1) {
            /* remaining value bits n = bits - 7*i; bits above n-1 must equal the sign bit */
            unsigned n = bits - 7 * (unsigned)i;
            uint8_t mask = (uint8_t)((0xffu << (n - 1)) & 0x7f);
            if (b & 0x80)
                return 0;
            if ((b & mask) != 0 && (b & mask) != mask)
                return 0;
        }
        v |= (uint64_t)(b & 0x7f) << shift;
        shift += 7;
        if (!(b & 0x80)) {
            if (shift < 64 && (b & 0x40))
                v |= ~UINT64_C(0) << shift;
            *out = (int64_t)v;
            return i + 1;
        }
    }
    return 0;
}

size_t fwe_read_s32(const uint8_t *p, const uint8_t *end, int32_t *out)
{
    if (p < end && p[0] < 0x80) {
        *out = (int32_t)((p[0] & 0x40) ? (int32_t)p[0] - 0x80 : (int32_t)p[0]);
        return 1;
    }
    int64_t v;
    size_t n = read_signed(p, end, 32, &v);
    if (n)
        *out = (int32_t)v;
    return n;
}

size_t fwe_read_s33(const uint8_t *p, const uint8_t *end, int64_t *out)
{
    return read_signed(p, end, 33, out);
}

size_t fwe_read_s64(const uint8_t *p, const uint8_t *end, int64_t *out)
{
    return read_signed(p, end, 64, out);
}
