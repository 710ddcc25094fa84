/* util_id.c: random 128-bit identifiers in hex. */
#include "util/util_id.h"

#include "util/util_clock.h"

#include <stdint.h>
#include <sys/random.h>
#include <sys/types.h>

void util_random_hex_id(char out[33])
{
    uint8_t r[16];
    if (getrandom(r, sizeof r, 0) != (ssize_t)sizeof r) {
        uint64_t t = util_now_ns() ^ (uint64_t)(uintptr_t)out;
        for (unsigned i = 0; i < sizeof r; i++)
            r[i] = (uint8_t)(t >> (8 * (i % 8))) ^ (uint8_t)(i * 131);
    }
    static const char hex[] = "0123456789abcdef";
    for (unsigned i = 0; i < sizeof r; i++) {
        out[2 * i] = hex[r[i] >> 4];
        out[2 * i + 1] = hex[r[i] & 15];
    }
    out[32] = '\0';
}
