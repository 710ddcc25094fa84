/* util_id.c: random 128-bit identifiers in hex: from getrandom each time, or from a per-thread
 * xoshiro256** generator (seeded from getrandom) where a system call per id would cost more than
 * the request it names. */
#include "util/util_id.h"

#include "util/util_clock.h"

#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/random.h>
#include <sys/types.h>

static void to_hex(const uint8_t r[16], char out[33])
{
    static const char hex[] = "0123456789abcdef";
    for (unsigned i = 0; i < 16; i++) {
        out[2 * i] = hex[r[i] >> 4];
        out[2 * i + 1] = hex[r[i] & 15];
    }
    out[32] = '\0';
}

static void clock_bytes(uint8_t r[16], const void *salt)
{
    uint64_t t = util_now_ns() ^ (uint64_t)(uintptr_t)salt;
    for (unsigned i = 0; i < 16; i++)
        r[i] = (uint8_t)(t >> (8 * (i % 8))) ^ (uint8_t)(i * 131);
}

void util_random_hex_id(char out[33])
{
    uint8_t r[16];
    if (getrandom(r, sizeof r, 0) != (ssize_t)sizeof r)
        clock_bytes(r, out);
    to_hex(r, out);
}

static uint64_t rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

/* xoshiro256** (Blackman and Vigna), one state per thread */
static _Thread_local uint64_t trace_state[4];
static _Thread_local bool trace_seeded;

static uint64_t trace_next(void)
{
    uint64_t *s = trace_state;
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

void util_trace_hex_id(char out[33])
{
    if (!trace_seeded) {
        uint8_t seed[32];
        if (getrandom(seed, sizeof seed, 0) != (ssize_t)sizeof seed) {
            clock_bytes(seed, out);
            clock_bytes(seed + 16, &seed);
        }
        memcpy(trace_state, seed, sizeof seed);
        if (!(trace_state[0] | trace_state[1] | trace_state[2] | trace_state[3]))
            trace_state[0] = 1; /* the one state the generator cannot leave */
        trace_seeded = true;
    }
    uint64_t a = trace_next(), b = trace_next();
    uint8_t r[16];
    memcpy(r, &a, 8);
    memcpy(r + 8, &b, 8);
    to_hex(r, out);
}
