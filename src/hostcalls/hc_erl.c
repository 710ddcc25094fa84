/* hc_erl.c: the shared rate-limiting state (hc_erl.h): one hash table of rate counters and
 * penalty-box entries under one mutex, swept of idle counters and expired entries every few
 * seconds; and the fastly_erl hostcalls (check_rate, ratecounter_*, penaltybox_*) over it. */
#include "hc_erl.h"

#include "hc_hostcall.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define ERL_SECONDS 60       /* one-second buckets kept per counter */
#define ERL_SWEEP_MS 10000   /* at most this long between sweeps of expired items */
#define ERL_TTL_MIN_S 60     /* penalty box TTLs: whole minutes from 1 ... */
#define ERL_TTL_MAX_S 3600   /* ... to 60 */
#define ERL_MAX_ITEMS 200000 /* counters and penalty-box entries held at most (by default) */

enum { ERL_COUNTER = 1, ERL_PENALTY = 2 };

typedef struct erl_item {
    struct erl_item *next;
    uint64_t hash;
    uint8_t *key; /* kind, u32 name length, name, entry */
    size_t key_len;
    /* ERL_COUNTER: counts[s % 60] holds second s when stamps[s % 60] == s + 1 (0: unused) */
    uint64_t stamps[ERL_SECONDS];
    uint64_t counts[ERL_SECONDS];
    uint64_t last_sec;
    /* ERL_PENALTY */
    uint64_t expires_ms;
} erl_item;

struct hc_erl {
    pthread_mutex_t lock;
    hc_erl_clock clock;
    void *clock_user;
    erl_item **buckets;
    size_t nbuckets; /* a power of two */
    size_t count;
    size_t max_items;
    uint64_t last_sweep_ms;
    uint64_t now_ms; /* the time of the operation under way (for a sweep on a full table) */
};

static uint64_t monotonic_ms(void *user)
{
    (void)user;
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

hc_erl *hc_erl_new(hc_erl_clock clock, void *clock_user)
{
    hc_erl *erl = calloc(1, sizeof *erl);
    if (!erl)
        return NULL;
    erl->nbuckets = 64;
    erl->buckets = calloc(erl->nbuckets, sizeof *erl->buckets);
    if (!erl->buckets) {
        free(erl);
        return NULL;
    }
    pthread_mutex_init(&erl->lock, NULL);
    erl->clock = clock ? clock : monotonic_ms;
    erl->clock_user = clock_user;
    erl->max_items = ERL_MAX_ITEMS;
    erl->last_sweep_ms = erl->clock(erl->clock_user);
    return erl;
}

static void item_free(erl_item *it)
{
    if (it) {
        free(it->key);
        free(it);
    }
}

void hc_erl_free(hc_erl *erl)
{
    if (!erl)
        return;
    for (size_t i = 0; i < erl->nbuckets; i++) {
        erl_item *it = erl->buckets[i];
        while (it) {
            erl_item *next = it->next;
            item_free(it);
            it = next;
        }
    }
    free(erl->buckets);
    pthread_mutex_destroy(&erl->lock);
    free(erl);
}

/* ---- the table ---- */

typedef struct erl_key {
    uint8_t *bytes;
    size_t len;
    uint64_t hash;
} erl_key;

/* FNV-1a, 64-bit. */
static uint64_t hash_bytes(const uint8_t *p, size_t n)
{
    uint64_t h = 0xcbf29ce484222325u;
    for (size_t i = 0; i < n; i++) {
        h ^= p[i];
        h *= 0x100000001b3u;
    }
    return h;
}

/* Builds the key in buf when it fits (HC_ERL_ENTRY_MAX and a short name), else on the heap. */
static bool make_key(erl_key *k, uint8_t *buf, size_t cap, int kind, const char *name,
                     size_t name_len, const char *entry, size_t entry_len)
{
    k->len = 1 + 4 + name_len + entry_len;
    k->bytes = k->len <= cap ? buf : malloc(k->len);
    if (!k->bytes)
        return false;
    k->bytes[0] = (uint8_t)kind;
    uint32_t nl = (uint32_t)name_len;
    memcpy(k->bytes + 1, &nl, 4);
    if (name_len)
        memcpy(k->bytes + 5, name, name_len);
    if (entry_len)
        memcpy(k->bytes + 5 + name_len, entry, entry_len);
    k->hash = hash_bytes(k->bytes, k->len);
    return true;
}

static void drop_key(erl_key *k, const uint8_t *buf)
{
    if (k->bytes != buf)
        free(k->bytes);
}

static erl_item *find(hc_erl *erl, const erl_key *k)
{
    for (erl_item *it = erl->buckets[k->hash & (erl->nbuckets - 1)]; it; it = it->next)
        if (it->hash == k->hash && it->key_len == k->len && memcmp(it->key, k->bytes, k->len) == 0)
            return it;
    return NULL;
}

static void grow(hc_erl *erl)
{
    size_t n = erl->nbuckets * 2;
    erl_item **b = calloc(n, sizeof *b);
    if (!b)
        return; /* keep the longer chains */
    for (size_t i = 0; i < erl->nbuckets; i++) {
        erl_item *it = erl->buckets[i];
        while (it) {
            erl_item *next = it->next;
            it->next = b[it->hash & (n - 1)];
            b[it->hash & (n - 1)] = it;
            it = next;
        }
    }
    free(erl->buckets);
    erl->buckets = b;
    erl->nbuckets = n;
}

static void sweep(hc_erl *erl, uint64_t now_ms, bool force);

/* The item for k, created when missing (NULL when out of memory, or when the table is full even
 * after dropping expired items: then the operation is lost, as production evicts under load). */
static erl_item *get_or_add(hc_erl *erl, const erl_key *k)
{
    erl_item *it = find(erl, k);
    if (it)
        return it;
    if (erl->count >= erl->max_items) {
        sweep(erl, erl->now_ms, true);
        if (erl->count >= erl->max_items)
            return NULL;
    }
    it = calloc(1, sizeof *it);
    uint8_t *key = it ? malloc(k->len) : NULL;
    if (!key) {
        free(it);
        return NULL;
    }
    memcpy(key, k->bytes, k->len);
    it->key = key;
    it->key_len = k->len;
    it->hash = k->hash;
    if (erl->count >= erl->nbuckets)
        grow(erl);
    erl_item **head = &erl->buckets[k->hash & (erl->nbuckets - 1)];
    it->next = *head;
    *head = it;
    erl->count++;
    return it;
}

static bool expired(const erl_item *it, uint64_t now_ms)
{
    if (it->key[0] == ERL_PENALTY)
        return it->expires_ms <= now_ms;
    /* a counter whose every bucket lies outside the last minute */
    return it->last_sec + ERL_SECONDS <= now_ms / 1000;
}

static void sweep(hc_erl *erl, uint64_t now_ms, bool force)
{
    if (!force && now_ms - erl->last_sweep_ms < ERL_SWEEP_MS)
        return;
    erl->last_sweep_ms = now_ms;
    for (size_t i = 0; i < erl->nbuckets; i++) {
        erl_item **pp = &erl->buckets[i];
        while (*pp) {
            erl_item *it = *pp;
            if (expired(it, now_ms)) {
                *pp = it->next;
                item_free(it);
                erl->count--;
            } else {
                pp = &it->next;
            }
        }
    }
}

/* ---- counters and penalty boxes (called with the lock held) ---- */

static void increment_locked(hc_erl *erl, const erl_key *k, uint64_t now_ms, uint32_t delta)
{
    erl_item *it = get_or_add(erl, k);
    if (!it)
        return;
    uint64_t sec = now_ms / 1000;
    size_t slot = (size_t)(sec % ERL_SECONDS);
    if (it->stamps[slot] != sec + 1) {
        it->stamps[slot] = sec + 1;
        it->counts[slot] = 0;
    }
    it->counts[slot] += delta;
    it->last_sec = sec;
}

/* The increments of the last `seconds` whole seconds, the current one included. */
static uint64_t sum_locked(hc_erl *erl, const erl_key *k, uint64_t now_ms, uint32_t seconds)
{
    const erl_item *it = find(erl, k);
    if (!it)
        return 0;
    uint64_t sec = now_ms / 1000, total = 0;
    for (uint32_t i = 0; i < seconds && i <= sec; i++) {
        size_t slot = (size_t)((sec - i) % ERL_SECONDS);
        if (it->stamps[slot] == sec - i + 1)
            total += it->counts[slot];
    }
    return total;
}

static void penalize_locked(hc_erl *erl, const erl_key *k, uint64_t now_ms, uint32_t ttl_s)
{
    erl_item *it = get_or_add(erl, k);
    if (!it)
        return;
    uint32_t ttl = ttl_s - ttl_s % 60;
    if (ttl < ERL_TTL_MIN_S)
        ttl = ERL_TTL_MIN_S;
    if (ttl > ERL_TTL_MAX_S)
        ttl = ERL_TTL_MAX_S;
    it->expires_ms = now_ms + (uint64_t)ttl * 1000;
}

static bool penalized_locked(hc_erl *erl, const erl_key *k, uint64_t now_ms)
{
    const erl_item *it = find(erl, k);
    return it && it->expires_ms > now_ms;
}

static uint32_t clamp32(uint64_t v)
{
    return v > UINT32_MAX ? UINT32_MAX : (uint32_t)v;
}

/* Runs the statements (the variadic part) with the lock held, `k` the key of (kind, name, entry)
 * and `now` the time. */
#define WITH_KEY(erl, kind, name, name_len, entry, entry_len, ...)                                 \
    do {                                                                                           \
        uint8_t buf_[512];                                                                         \
        erl_key k;                                                                                 \
        if (!make_key(&k, buf_, sizeof buf_, (kind), (name), (name_len), (entry), (entry_len)))    \
            break;                                                                                 \
        pthread_mutex_lock(&(erl)->lock);                                                          \
        uint64_t now = (erl)->clock((erl)->clock_user);                                            \
        (erl)->now_ms = now;                                                                       \
        sweep((erl), now, false);                                                                  \
        __VA_ARGS__;                                                                               \
        pthread_mutex_unlock(&(erl)->lock);                                                        \
        drop_key(&k, buf_);                                                                        \
    } while (0)

void hc_erl_increment(hc_erl *erl, const char *rc, size_t rc_len, const char *entry,
                      size_t entry_len, uint32_t delta)
{
    WITH_KEY(erl, ERL_COUNTER, rc, rc_len, entry, entry_len, increment_locked(erl, &k, now, delta));
}

uint32_t hc_erl_rate(hc_erl *erl, const char *rc, size_t rc_len, const char *entry,
                     size_t entry_len, uint32_t window)
{
    uint64_t total = 0;
    if (window == 0 || window > ERL_SECONDS)
        return 0;
    WITH_KEY(erl, ERL_COUNTER, rc, rc_len, entry, entry_len,
             total = sum_locked(erl, &k, now, window));
    return clamp32(total / window);
}

uint32_t hc_erl_count(hc_erl *erl, const char *rc, size_t rc_len, const char *entry,
                      size_t entry_len, uint32_t duration)
{
    uint64_t total = 0;
    if (duration > ERL_SECONDS)
        duration = ERL_SECONDS;
    WITH_KEY(erl, ERL_COUNTER, rc, rc_len, entry, entry_len,
             total = sum_locked(erl, &k, now, duration));
    return clamp32(total);
}

void hc_erl_penalize(hc_erl *erl, const char *pb, size_t pb_len, const char *entry,
                     size_t entry_len, uint32_t ttl_s)
{
    WITH_KEY(erl, ERL_PENALTY, pb, pb_len, entry, entry_len, penalize_locked(erl, &k, now, ttl_s));
}

bool hc_erl_penalized(hc_erl *erl, const char *pb, size_t pb_len, const char *entry,
                      size_t entry_len)
{
    bool has = false;
    WITH_KEY(erl, ERL_PENALTY, pb, pb_len, entry, entry_len, has = penalized_locked(erl, &k, now));
    return has;
}

hc_erl_verdict hc_erl_check_rate(hc_erl *erl, const char *rc, size_t rc_len, const char *entry,
                                 size_t entry_len, uint32_t delta, uint32_t window, uint32_t limit,
                                 const char *pb, size_t pb_len, uint32_t ttl_s)
{
    if (window == 0 || window > ERL_SECONDS)
        return HC_ERL_ALLOWED;
    uint8_t pbuf[512];
    erl_key pk;
    if (!make_key(&pk, pbuf, sizeof pbuf, ERL_PENALTY, pb, pb_len, entry, entry_len))
        return HC_ERL_ALLOWED;
    hc_erl_verdict verdict = HC_ERL_ALLOWED;
    /* one critical section, so concurrent requests of one client see each other's increments */
    WITH_KEY(erl, ERL_COUNTER, rc, rc_len, entry, entry_len, {
        increment_locked(erl, &k, now, delta);
        uint64_t rate = sum_locked(erl, &k, now, window) / window;
        if (rate > limit) {
            penalize_locked(erl, &pk, now, ttl_s);
            verdict = HC_ERL_EXCEEDED;
        } else if (penalized_locked(erl, &pk, now)) {
            verdict = HC_ERL_PENALIZED;
        }
    });
    drop_key(&pk, pbuf);
    return verdict;
}

void hc_erl_set_max_items(hc_erl *erl, size_t max_items)
{
    pthread_mutex_lock(&erl->lock);
    erl->max_items = max_items;
    pthread_mutex_unlock(&erl->lock);
}

size_t hc_erl_size(hc_erl *erl)
{
    pthread_mutex_lock(&erl->lock);
    size_t n = erl->count;
    pthread_mutex_unlock(&erl->lock);
    return n;
}

/* ---- the fastly_erl hostcalls ---- */

/* The guest string (ptr, len) at argument i, or NULL (inval) when outside memory. */
static const char *arg_str(fwe_caller *caller, uint64_t *slots, int i)
{
    const char *s = (const char *)hc_mem_slice(caller, HC_ARG(i), HC_ARG(i + 1));
    /* an empty string may point anywhere */
    return s ? s : HC_ARG(i + 1) == 0 ? "" : NULL;
}

/* s[0..n) for a log line: printable ASCII kept, other bytes as '?', long ones cut with "...". */
static const char *printable(const char *s, size_t n, char *out, size_t cap)
{
    size_t o = 0;
    for (size_t i = 0; i < n && o + 4 < cap; i++)
        out[o++] = s[i] >= 0x20 && s[i] < 0x7f ? s[i] : '?';
    if (o < n) {
        memcpy(out + o, "...", 3);
        o += 3;
    }
    out[o] = '\0';
    return out;
}

static uint32_t ttl_minutes(uint32_t ttl_s)
{
    uint32_t m = ttl_s / 60;
    return m < 1 ? 1 : m > 60 ? 60 : m;
}

static bool window_ok(uint32_t w)
{
    return w == 1 || w == 10 || w == 60;
}

/* The server's state; a context without one (no server) gets `error`. */
#define HC_ERL(erl)                                                                                \
    hc_ctx *ctx_ = hc_caller_ctx(caller);                                                          \
    hc_erl *erl = ctx_ ? hc_ctx_settings(ctx_)->erl : NULL;                                        \
    if (!erl)                                                                                      \
    HC_RETURN(HC_ERROR)

/* check_rate(rc, rc_len, entry, entry_len, delta, window, limit, pb, pb_len, ttl, blocked_out) */
static fwe_trap_kind erl_check_rate(fwe_caller *caller, uint64_t *slots, void *data)
{
    HC_ERL(erl);
    const char *rc = arg_str(caller, slots, 0), *entry = arg_str(caller, slots, 2),
               *pb = arg_str(caller, slots, 7);
    if (!rc || !entry || !pb || HC_ARG(3) > HC_ERL_ENTRY_MAX || !window_ok(HC_ARG(5)))
        HC_RETURN(HC_INVAL);
    hc_erl_verdict v = hc_erl_check_rate(erl, rc, HC_ARG(1), entry, HC_ARG(3), HC_ARG(4), HC_ARG(5),
                                         HC_ARG(6), pb, HC_ARG(8), HC_ARG(9));
    if (v == HC_ERL_EXCEEDED) {
        char who[3][80];
        hc_log(ctx_, 1,
               "rate limit: '%s' is over %u per second in rate counter '%s' (window %u s): "
               "in penalty box '%s' for %u min",
               printable(entry, HC_ARG(3), who[0], sizeof who[0]), HC_ARG(6),
               printable(rc, HC_ARG(1), who[1], sizeof who[1]), HC_ARG(5),
               printable(pb, HC_ARG(8), who[2], sizeof who[2]), ttl_minutes(HC_ARG(9)));
    }
    HC_RETURN(hc_mem_write_u32(caller, HC_ARG(10), v != HC_ERL_ALLOWED ? 1 : 0));
}

/* ratecounter_increment(rc, rc_len, entry, entry_len, delta) */
static fwe_trap_kind erl_increment(fwe_caller *caller, uint64_t *slots, void *data)
{
    HC_ERL(erl);
    const char *rc = arg_str(caller, slots, 0), *entry = arg_str(caller, slots, 2);
    if (!rc || !entry || HC_ARG(3) > HC_ERL_ENTRY_MAX)
        HC_RETURN(HC_INVAL);
    hc_erl_increment(erl, rc, HC_ARG(1), entry, HC_ARG(3), HC_ARG(4));
    HC_RETURN(HC_OK);
}

/* ratecounter_lookup_rate(rc, rc_len, entry, entry_len, window, rate_out) */
static fwe_trap_kind erl_lookup_rate(fwe_caller *caller, uint64_t *slots, void *data)
{
    HC_ERL(erl);
    const char *rc = arg_str(caller, slots, 0), *entry = arg_str(caller, slots, 2);
    if (!rc || !entry || HC_ARG(3) > HC_ERL_ENTRY_MAX || !window_ok(HC_ARG(4)))
        HC_RETURN(HC_INVAL);
    uint32_t rate = hc_erl_rate(erl, rc, HC_ARG(1), entry, HC_ARG(3), HC_ARG(4));
    HC_RETURN(hc_mem_write_u32(caller, HC_ARG(5), rate));
}

/* ratecounter_lookup_count(rc, rc_len, entry, entry_len, duration, count_out): duration 10, 20,
 * 30, 40, 50 or 60 seconds. */
static fwe_trap_kind erl_lookup_count(fwe_caller *caller, uint64_t *slots, void *data)
{
    HC_ERL(erl);
    const char *rc = arg_str(caller, slots, 0), *entry = arg_str(caller, slots, 2);
    uint32_t d = HC_ARG(4);
    if (!rc || !entry || HC_ARG(3) > HC_ERL_ENTRY_MAX || d < 10 || d > 60 || d % 10 != 0)
        HC_RETURN(HC_INVAL);
    uint32_t count = hc_erl_count(erl, rc, HC_ARG(1), entry, HC_ARG(3), d);
    HC_RETURN(hc_mem_write_u32(caller, HC_ARG(5), count));
}

/* penaltybox_add(pb, pb_len, entry, entry_len, ttl) */
static fwe_trap_kind erl_penaltybox_add(fwe_caller *caller, uint64_t *slots, void *data)
{
    HC_ERL(erl);
    const char *pb = arg_str(caller, slots, 0), *entry = arg_str(caller, slots, 2);
    if (!pb || !entry || HC_ARG(3) > HC_ERL_ENTRY_MAX)
        HC_RETURN(HC_INVAL);
    hc_erl_penalize(erl, pb, HC_ARG(1), entry, HC_ARG(3), HC_ARG(4));
    HC_RETURN(HC_OK);
}

/* penaltybox_has(pb, pb_len, entry, entry_len, has_out) */
static fwe_trap_kind erl_penaltybox_has(fwe_caller *caller, uint64_t *slots, void *data)
{
    HC_ERL(erl);
    const char *pb = arg_str(caller, slots, 0), *entry = arg_str(caller, slots, 2);
    if (!pb || !entry || HC_ARG(3) > HC_ERL_ENTRY_MAX)
        HC_RETURN(HC_INVAL);
    bool has = hc_erl_penalized(erl, pb, HC_ARG(1), entry, HC_ARG(3));
    HC_RETURN(hc_mem_write_u32(caller, HC_ARG(4), has ? 1 : 0));
}

const hc_impl hc_erl_impls[] = {
    {"fastly_erl", "check_rate", erl_check_rate},
    {"fastly_erl", "ratecounter_increment", erl_increment},
    {"fastly_erl", "ratecounter_lookup_rate", erl_lookup_rate},
    {"fastly_erl", "ratecounter_lookup_count", erl_lookup_count},
    {"fastly_erl", "penaltybox_add", erl_penaltybox_add},
    {"fastly_erl", "penaltybox_has", erl_penaltybox_has},
    {NULL, NULL, NULL},
};
