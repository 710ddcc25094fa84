/* hc_erl.h: edge rate limiting: the rate counters and penalty boxes every instance of a server
 * shares (struct hc_erl, hc_settings.erl), and the fastly_erl hostcall module over them.
 * Rate counters count increments per (counter, entry) in one-second buckets kept for 60 s; penalty
 * boxes hold entries until their TTL, in whole minutes, runs out. Thread-safe. */
#ifndef HC_ERL_H
#define HC_ERL_H

#include "hostcalls/hc_registry.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

extern const hc_impl hc_erl_impls[];

/* Milliseconds on a monotonic clock; hc_erl_new(NULL, NULL) uses CLOCK_MONOTONIC. Tests pass
 * their own to step time. */
typedef uint64_t (*hc_erl_clock)(void *user);

typedef struct hc_erl hc_erl;

/* NULL when out of memory. */
hc_erl *hc_erl_new(hc_erl_clock clock, void *clock_user);
void hc_erl_free(hc_erl *erl); /* accepts NULL */

/* Names and entries are byte strings (rc/pb: a counter's or box's name; entry: what is counted,
 * typically a client address). The longest entry accepted by the hostcalls: */
#define HC_ERL_ENTRY_MAX 256

/* Adds delta to the entry's count in the current second. */
void hc_erl_increment(hc_erl *erl, const char *rc, size_t rc_len, const char *entry,
                      size_t entry_len, uint32_t delta);
/* The entry's estimated rate, in increments per second, over the last `window` seconds (1, 10 or
 * 60): the increments of the whole seconds in the window (the current, partial one included, so
 * the window holds between window-1 and window seconds, as Fastly's ratecounter) divided by the
 * window, rounded down. */
uint32_t hc_erl_rate(hc_erl *erl, const char *rc, size_t rc_len, const char *entry,
                     size_t entry_len, uint32_t window);
/* The entry's increments in the last `duration` seconds (10..60), counted as for hc_erl_rate. */
uint32_t hc_erl_count(hc_erl *erl, const char *rc, size_t rc_len, const char *entry,
                      size_t entry_len, uint32_t duration);
/* Puts the entry in the penalty box for ttl_s seconds truncated to whole minutes and clamped to
 * 1..60 minutes (Fastly's rule); adding again restarts the TTL. */
void hc_erl_penalize(hc_erl *erl, const char *pb, size_t pb_len, const char *entry,
                     size_t entry_len, uint32_t ttl_s);
/* True while the entry is in the penalty box. */
bool hc_erl_penalized(hc_erl *erl, const char *pb, size_t pb_len, const char *entry,
                      size_t entry_len);
/* What check_rate decided (true when blocked). */
typedef enum hc_erl_verdict {
    HC_ERL_ALLOWED = 0,
    HC_ERL_PENALIZED = 1, /* blocked: in the penalty box already */
    HC_ERL_EXCEEDED = 2,  /* blocked: over the limit now, and put into the penalty box */
} hc_erl_verdict;

/* check_rate: increments the entry by delta, then blocks it when its rate over `window` is above
 * `limit` (it then goes into the penalty box for ttl_s, as hc_erl_penalize) or when it is in the
 * penalty box already. */
hc_erl_verdict hc_erl_check_rate(hc_erl *erl, const char *rc, size_t rc_len, const char *entry,
                                 size_t entry_len, uint32_t delta, uint32_t window, uint32_t limit,
                                 const char *pb, size_t pb_len, uint32_t ttl_s);
/* How many counters and penalty-box entries are held (expired ones go at the periodic sweep). */
size_t hc_erl_size(hc_erl *erl);
/* The most counters and penalty-box entries held at once (default 200,000, Fastly's size of one
 * penalty box). When full, expired items are dropped at once; if none are, a new entry is not
 * counted or penalized until room frees up. */
void hc_erl_set_max_items(hc_erl *erl, size_t max_items);

#endif
