/* be_backend.c: backend definitions (init/copy/free, health) and the registry of configured
 * backends with its event loop and the seeded xorshift generator behind `@N`. */
#include "backend/be_backend.h"
#include "backend/be_loop.h"
#include "util/util_str.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

void be_backend_init(be_backend *b)
{
    memset(b, 0, sizeof *b);
    b->connect_timeout_ms = BE_DEFAULT_CONNECT_TIMEOUT_MS;
    b->first_byte_timeout_ms = BE_DEFAULT_FIRST_BYTE_TIMEOUT_MS;
    b->between_bytes_timeout_ms = BE_DEFAULT_BETWEEN_BYTES_TIMEOUT_MS;
    b->ssl_min = BE_TLS_UNSET;
    b->ssl_max = BE_TLS_UNSET;
    b->uptime = BE_UPTIME_NONE;
}

/* The owned strings of a backend, for deinit and copy. */
/* clang-format off */
#define BE_STRINGS(X) \
    X(name) X(host) X(path_prefix) X(userinfo) X(override_host) X(cert_hostname) \
    X(sni_hostname) X(ca_file) X(client_cert_file) X(client_key_file) X(ciphers)
/* clang-format on */
#define BE_BLOBS(X) X(ca_pem) X(client_cert_pem) X(client_key_pem)

void be_backend_deinit(be_backend *b)
{
    if (!b)
        return;
    be_health_stop(b->health);
    be_health_config_deinit(&b->healthcheck);
#define FREE_FIELD(f) free(b->f);
    BE_STRINGS(FREE_FIELD)
    BE_BLOBS(FREE_FIELD)
#undef FREE_FIELD
    be_backend_init(b);
}

bool be_set_str(char **field, const char *s)
{
    char *copy = NULL;
    if (s) {
        size_t n = strlen(s) + 1;
        copy = malloc(n);
        if (!copy)
            return false;
        memcpy(copy, s, n);
    }
    free(*field);
    *field = copy;
    return true;
}

bool be_set_bytes(char **field, size_t *field_len, const char *s, size_t len)
{
    char *copy = NULL;
    if (s) {
        if (!(copy = util_strndup(s, len)))
            return false;
    }
    free(*field);
    *field = copy;
    *field_len = s ? len : 0;
    return true;
}

bool be_backend_copy(be_backend *dst, const be_backend *src)
{
    *dst = *src;
#define CLEAR_FIELD(f) dst->f = NULL;
    BE_STRINGS(CLEAR_FIELD)
    BE_BLOBS(CLEAR_FIELD)
#undef CLEAR_FIELD
    dst->health = NULL;
    bool ok = be_health_config_copy(&dst->healthcheck, &src->healthcheck);
#define COPY_STR(f) ok = ok && be_set_str(&dst->f, src->f);
    BE_STRINGS(COPY_STR)
#undef COPY_STR
    ok = ok && be_set_bytes(&dst->ca_pem, &dst->ca_pem_len, src->ca_pem, src->ca_pem_len);
    ok = ok && be_set_bytes(&dst->client_cert_pem, &dst->client_cert_pem_len, src->client_cert_pem,
                            src->client_cert_pem_len);
    ok = ok && be_set_bytes(&dst->client_key_pem, &dst->client_key_pem_len, src->client_key_pem,
                            src->client_key_pem_len);
    if (!ok)
        be_backend_deinit(dst);
    return ok;
}

uint32_t be_backend_health(const be_backend *b)
{
    if (b->health)
        return be_health_healthy(b->health) ? 1 : 2;
    if (b->uptime == BE_UPTIME_NONE)
        return 0;
    return b->uptime == 0 ? 2 : 1;
}

/* ---- registry ---- */

/* One list of configured backends. A reload publishes a new one; the ones it replaced stay
 * (linked through `older`) until the registry is freed, since requests that started before may
 * still hold pointers into them. */
typedef struct backend_list {
    be_backend *items;
    size_t n;
    const be_backend *catch_all;
    struct backend_list *older;
} backend_list;

struct be_backends {
    _Atomic(backend_list *) cur;
    pthread_mutex_t replace_lock; /* one replacement at a time */
    be_loop *loop;
    pthread_mutex_t rng_lock;
    uint64_t rng;
};

static void list_free(backend_list *set)
{
    if (!set)
        return;
    for (size_t i = 0; i < set->n; i++)
        be_backend_deinit(&set->items[i]);
    free(set->items);
    free(set);
}

/* A deep copy of `backends`; NULL when out of memory. */
static backend_list *list_new(const be_backend *backends, size_t n)
{
    backend_list *set = calloc(1, sizeof *set);
    if (!set)
        return NULL;
    set->items = calloc(n ? n : 1, sizeof *set->items);
    if (!set->items) {
        free(set);
        return NULL;
    }
    for (size_t i = 0; i < n; i++) {
        if (!be_backend_copy(&set->items[i], &backends[i])) {
            list_free(set);
            return NULL;
        }
        set->n++;
    }
    for (size_t i = 0; i < set->n; i++)
        if (!set->items[i].name)
            set->catch_all = &set->items[i];
    return set;
}

static const backend_list *current(const be_backends *r)
{
    return atomic_load_explicit(&((be_backends *)r)->cur, memory_order_acquire);
}

static uint64_t initial_seed(uint64_t configured)
{
    if (configured)
        return configured;
    const char *env = getenv("FASTLIKE_UNRELIABLE_SEED");
    if (env && env[0]) {
        char *end = NULL;
        unsigned long long v = strtoull(env, &end, 0);
        if (end && *end == '\0' && v)
            return v;
    }
    uint64_t r = 0;
    if (getrandom(&r, sizeof r, 0) != (ssize_t)sizeof r || r == 0) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        r = (uint64_t)ts.tv_nsec * 0x9E3779B97F4A7C15ull ^ (uint64_t)ts.tv_sec;
    }
    return r ? r : 1;
}

be_backends *be_backends_new(const be_backends_config *cfg, char *err, size_t errlen)
{
    be_backends *r = calloc(1, sizeof *r);
    if (!r) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    pthread_mutex_init(&r->rng_lock, NULL);
    pthread_mutex_init(&r->replace_lock, NULL);
    r->rng = initial_seed(cfg->seed);
    backend_list *set = list_new(cfg->backends, cfg->nbackends);
    if (!set) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    atomic_store_explicit(&r->cur, set, memory_order_release);
    be_loop_config lc = {cfg->verbosity, cfg->log, cfg->log_user};
    r->loop = be_loop_new(&lc, err, errlen);
    if (!r->loop)
        goto fail;
    return r;
fail:
    be_backends_free(r);
    return NULL;
}

bool be_backends_replace(be_backends *r, const be_backend *backends, size_t nbackends)
{
    backend_list *set = list_new(backends, nbackends);
    if (!set)
        return false;
    pthread_mutex_lock(&r->replace_lock);
    set->older = atomic_load_explicit(&r->cur, memory_order_relaxed);
    atomic_store_explicit(&r->cur, set, memory_order_release);
    pthread_mutex_unlock(&r->replace_lock);
    return true;
}

void be_backends_free(be_backends *r)
{
    if (!r)
        return;
    be_loop_free(r->loop);
    for (backend_list *set = atomic_load(&r->cur), *older; set; set = older) {
        older = set->older;
        list_free(set);
    }
    pthread_mutex_destroy(&r->replace_lock);
    pthread_mutex_destroy(&r->rng_lock);
    free(r);
}

const be_backend *be_backends_named(const be_backends *r, const char *name, size_t len)
{
    if (!r)
        return NULL;
    const backend_list *set = current(r);
    for (size_t i = 0; i < set->n; i++) {
        const char *n = set->items[i].name;
        if (n && strlen(n) == len && memcmp(n, name, len) == 0)
            return &set->items[i];
    }
    return NULL;
}

const be_backend *be_backends_catch_all(const be_backends *r)
{
    return r ? current(r)->catch_all : NULL;
}

const be_backend *be_backends_route(const be_backends *r, const char *name, size_t len)
{
    const be_backend *b = be_backends_named(r, name, len);
    return b ? b : be_backends_catch_all(r);
}

bool be_backends_draw(be_backends *r, const be_backend *b)
{
    if (b->uptime == BE_UPTIME_NONE || b->uptime >= 100)
        return true;
    if (b->uptime <= 0)
        return false;
    pthread_mutex_lock(&r->rng_lock);
    /* xorshift64* */
    uint64_t x = r->rng;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    r->rng = x;
    uint64_t v = x * 0x2545F4914F6CDD1Dull;
    pthread_mutex_unlock(&r->rng_lock);
    return (int)((v >> 33) % 100) < b->uptime;
}

be_loop *be_backends_loop(const be_backends *r)
{
    return r ? r->loop : NULL;
}
