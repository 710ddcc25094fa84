/* util_id.h: random identifiers (trace ids, request ids) as 32 lowercase hex digits. */
#ifndef UTIL_ID_H
#define UTIL_ID_H

/* Fills out[0..32) with 16 random bytes in hex and out[32] with NUL (getrandom; should it fail,
 * a clock-derived value, still unique enough to tell requests apart in a log). */
void util_random_hex_id(char out[33]);

/* The same format from a per-thread generator seeded once from getrandom: no system call per id,
 * for identifiers that only need to be unique (trace ids of requests). Not for secrets. */
void util_trace_hex_id(char out[33]);

#endif
