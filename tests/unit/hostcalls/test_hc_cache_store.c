/* test_hc_cache_store.c: the shared cache store (hc_cache_store.c) with a fake clock: insert and
 * lookup, ages and freshness, stale-while-revalidate, vary, request collapsing across threads
 * (waiting on conditions), abandoned obligations, updates, streaming bodies, failed writes,
 * surrogate-key purges (hard and soft) and LRU eviction under the memory cap. */
#include "harness.h"
#include "hostcalls/hc_cache_store.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define SEC 1000000000ull
#define K(s) (const uint8_t *)(s), strlen(s)

static uint64_t fake_ns = 1000 * SEC;
static uint64_t fake_now(void *u)
{
    (void)u;
    return __atomic_load_n(&fake_ns, __ATOMIC_SEQ_CST);
}
static void advance(uint64_t ns)
{
    __atomic_add_fetch(&fake_ns, ns, __ATOMIC_SEQ_CST);
}

static hc_cache *new_cache(uint64_t cap)
{
    hc_cache *c = hc_cache_new(cap);
    hc_cache_set_clock(c, fake_now, NULL);
    return c;
}

static void put(hc_cache *c, const char *key, const hc_headers *req, hc_cache_write *w,
                const char *body)
{
    hc_cache_obj *o = hc_cache_insert(c, K(key), req, w);
    CHECK(o != NULL);
    if (!o)
        return;
    CHECK(hc_cache_body_write(o, (const uint8_t *)body, strlen(body)));
    hc_cache_body_finish(o, true);
    hc_cache_obj_release(o);
}

static bool body_is(hc_cache_obj *o, const char *want)
{
    char buf[256];
    size_t n = 0;
    for (;;) {
        long r = hc_cache_body_read(o, n, (uint8_t *)buf + n, sizeof buf - n);
        if (r <= 0)
            break;
        n += (size_t)r;
    }
    return n == strlen(want) && memcmp(buf, want, n) == 0;
}

TEST(insert_lookup_age)
{
    hc_cache *c = new_cache(0);
    CHECK(hc_cache_lookup(c, K("k"), NULL) == NULL);
    hc_cache_write w = {.max_age_ns = 10 * SEC,
                        .initial_age_ns = 2 * SEC,
                        .length = -1,
                        .user_metadata = (const uint8_t *)"meta",
                        .user_metadata_len = 4};
    put(c, "k", NULL, &w, "hello");
    hc_cache_obj *o = hc_cache_lookup(c, K("k"), NULL);
    CHECK(o != NULL);
    if (o) {
        CHECK(body_is(o, "hello"));
        hc_cache_info in;
        hc_cache_obj_info(o, &in);
        CHECK_EQ_U64(in.age_ns, 2 * SEC);
        CHECK(in.fresh && in.usable && in.complete);
        CHECK_EQ_U64(in.length, 5);
        CHECK_EQ_U64(in.hits, 1);
        size_t ml;
        const uint8_t *m = hc_cache_obj_user_metadata(o, &ml);
        CHECK(ml == 4 && memcmp(m, "meta", 4) == 0);
        advance(8 * SEC);
        hc_cache_obj_info(o, &in);
        CHECK_EQ_U64(in.age_ns, 10 * SEC);
        CHECK(!in.fresh && !in.usable);
        hc_cache_obj_release(o);
    }
    hc_cache_free(c);
}

TEST(swr_and_collapsing_obligation)
{
    hc_cache *c = new_cache(0);
    hc_cache_write w = {.max_age_ns = 1 * SEC, .swr_ns = 10 * SEC, .length = -1};
    put(c, "k", NULL, &w, "old");
    advance(2 * SEC);
    hc_cache_obj *f1, *f2;
    hc_cache_oblig *o1, *o2;
    CHECK(hc_cache_txn_lookup(c, K("k"), NULL, true, &f1, &o1));
    CHECK(f1 != NULL && o1 != NULL); /* stale: served, and this caller revalidates */
    CHECK(hc_cache_txn_lookup(c, K("k"), NULL, true, &f2, &o2));
    CHECK(f2 != NULL && o2 == NULL); /* the others get the stale object only */
    hc_cache_obj_release(f2);
    hc_cache_write w2 = {.max_age_ns = 100 * SEC, .length = -1};
    CHECK_EQ_INT(hc_cache_oblig_update(o1, &w2, NULL), HC_OK);
    hc_cache_obj_release(f1);
    CHECK(hc_cache_txn_lookup(c, K("k"), NULL, true, &f1, &o1));
    CHECK(f1 != NULL && o1 == NULL);
    if (f1) {
        hc_cache_info in;
        hc_cache_obj_info(f1, &in);
        CHECK(in.fresh);
        CHECK(body_is(f1, "old")); /* an update keeps the body */
    }
    hc_cache_obj_release(f1);
    /* update without a stale object is badf, and the obligation stays usable */
    CHECK(hc_cache_txn_lookup(c, K("new"), NULL, false, &f1, &o1));
    CHECK(f1 == NULL && o1 != NULL);
    CHECK_EQ_INT(hc_cache_oblig_update(o1, &w2, NULL), HC_BADF);
    /* a second non-waiting lookup is busy */
    CHECK(!hc_cache_txn_lookup(c, K("new"), NULL, false, &f2, &o2));
    hc_cache_obj *ins = hc_cache_oblig_insert(o1, &w2);
    CHECK(ins != NULL);
    hc_cache_body_finish(ins, true);
    hc_cache_obj_release(ins);
    CHECK(hc_cache_txn_lookup(c, K("new"), NULL, false, &f2, &o2));
    CHECK(f2 != NULL && o2 == NULL);
    hc_cache_obj_release(f2);
    hc_cache_free(c);
}

TEST(vary)
{
    hc_cache *c = new_cache(0);
    hc_headers a, b;
    hc_headers_init(&a);
    hc_headers_init(&b);
    hc_headers_append(&a, "Accept-Language", 15, "en", 2);
    hc_headers_append(&b, "accept-language", 15, "fr", 2);
    hc_cache_write w = {
        .max_age_ns = 10 * SEC, .length = -1, .vary = "Accept-Language", .vary_len = 15};
    CHECK_EQ_INT(hc_cache_check_write(&w), HC_OK);
    put(c, "k", &a, &w, "english");
    put(c, "k", &b, &w, "french");
    hc_cache_obj *o = hc_cache_lookup(c, K("k"), &a);
    CHECK(o && body_is(o, "english"));
    hc_cache_obj_release(o);
    o = hc_cache_lookup(c, K("k"), &b);
    CHECK(o && body_is(o, "french"));
    hc_cache_obj_release(o);
    CHECK(hc_cache_lookup(c, K("k"), NULL) == NULL);
    size_t n;
    o = hc_cache_lookup(c, K("k"), &a);
    CHECK(o && strcmp(hc_cache_obj_vary_rule(o, &n), "accept-language") == 0);
    hc_cache_obj_release(o);
    hc_cache_write bad = {.vary = "bad\x01name", .vary_len = 8};
    CHECK_EQ_INT(hc_cache_check_write(&bad), HC_INVAL);
    hc_cache_write badk = {.surrogate_keys = "a\x7f", .surrogate_keys_len = 2};
    CHECK_EQ_INT(hc_cache_check_write(&badk), HC_INVAL);
    hc_headers_deinit(&a);
    hc_headers_deinit(&b);
    hc_cache_free(c);
}

/* N threads collapse on one key: exactly one gets the obligation; the others wait (no sleeps:
 * the leader inserts only once every follower is counted as started, and the followers block
 * on the store's condition). */
#define NTHREADS 8
typedef struct collapse {
    hc_cache *c;
    int started, obliged, found_ok;
    pthread_mutex_t mu;
} collapse;

static void *collapse_thread(void *arg)
{
    collapse *s = arg;
    pthread_mutex_lock(&s->mu);
    s->started++;
    pthread_mutex_unlock(&s->mu);
    hc_cache_obj *f;
    hc_cache_oblig *o;
    hc_cache_txn_lookup(s->c, K("herd"), NULL, true, &f, &o);
    if (o) {
        pthread_mutex_lock(&s->mu);
        s->obliged++;
        pthread_mutex_unlock(&s->mu);
        hc_cache_write w = {.max_age_ns = 60 * SEC, .length = -1};
        hc_cache_obj *ins = hc_cache_oblig_insert(o, &w);
        hc_cache_body_write(ins, (const uint8_t *)"one", 3);
        hc_cache_body_finish(ins, true);
        hc_cache_obj_release(ins);
    }
    if (f) {
        bool ok = body_is(f, "one");
        pthread_mutex_lock(&s->mu);
        s->found_ok += ok;
        pthread_mutex_unlock(&s->mu);
        hc_cache_obj_release(f);
    }
    return NULL;
}

TEST(collapsing_threads)
{
    collapse s = {.c = new_cache(0)};
    pthread_mutex_init(&s.mu, NULL);
    /* the main thread holds the obligation until every thread has started */
    hc_cache_obj *f;
    hc_cache_oblig *lead;
    CHECK(hc_cache_txn_lookup(s.c, K("herd"), NULL, true, &f, &lead));
    CHECK(f == NULL && lead != NULL);
    pthread_t t[NTHREADS];
    for (int i = 0; i < NTHREADS; i++)
        pthread_create(&t[i], NULL, collapse_thread, &s);
    for (;;) {
        pthread_mutex_lock(&s.mu);
        int n = s.started;
        pthread_mutex_unlock(&s.mu);
        if (n == NTHREADS)
            break;
        sched_yield();
    }
    /* abandoning hands the obligation to exactly one waiter */
    hc_cache_oblig_abandon(lead);
    for (int i = 0; i < NTHREADS; i++)
        pthread_join(t[i], NULL);
    CHECK_EQ_INT(s.obliged, 1);
    CHECK_EQ_INT(s.found_ok, NTHREADS - 1);
    pthread_mutex_destroy(&s.mu);
    hc_cache_free(s.c);
}

typedef struct reader_arg {
    hc_cache_obj *o;
    char got[64];
    long n;
} reader_arg;

static void *reader(void *p)
{
    reader_arg *r = p;
    r->n = 0;
    for (;;) {
        long k = hc_cache_body_read(r->o, (uint64_t)r->n, (uint8_t *)r->got + r->n,
                                    sizeof r->got - (size_t)r->n);
        if (k <= 0)
            break;
        r->n += k;
    }
    return NULL;
}

TEST(streaming_body_and_failure)
{
    hc_cache *c = new_cache(0);
    hc_cache_write w = {.max_age_ns = 60 * SEC, .length = -1};
    hc_cache_obj *wr = hc_cache_insert(c, K("s"), NULL, &w);
    hc_cache_obj *rd = hc_cache_lookup(c, K("s"), NULL);
    CHECK(wr && rd);
    CHECK(hc_cache_body_write(wr, (const uint8_t *)"abc", 3));
    CHECK(hc_cache_body_ready(rd, 0));
    CHECK(!hc_cache_body_ready(rd, 3)); /* more may come */
    reader_arg ra = {.o = rd};
    pthread_t t;
    pthread_create(&t, NULL, reader, &ra);
    CHECK(hc_cache_body_write(wr, (const uint8_t *)"def", 3));
    hc_cache_body_finish(wr, true);
    pthread_join(t, NULL);
    CHECK(ra.n == 6 && memcmp(ra.got, "abcdef", 6) == 0);
    hc_cache_obj_release(rd);
    hc_cache_obj_release(wr);
    /* a failed write is dropped from the cache, readers see an error */
    wr = hc_cache_insert(c, K("f"), NULL, &w);
    rd = hc_cache_lookup(c, K("f"), NULL);
    hc_cache_body_write(wr, (const uint8_t *)"x", 1);
    hc_cache_body_finish(wr, false);
    uint8_t b[4];
    CHECK_EQ_INT(hc_cache_body_read(rd, 0, b, 4), 1);
    CHECK_EQ_INT(hc_cache_body_read(rd, 1, b, 4), -1);
    CHECK(hc_cache_lookup(c, K("f"), NULL) == NULL);
    hc_cache_obj_release(rd);
    hc_cache_obj_release(wr);
    /* a declared length that the body does not meet fails the write */
    hc_cache_write wl = {.max_age_ns = 60 * SEC, .length = 5};
    wr = hc_cache_insert(c, K("l"), NULL, &wl);
    hc_cache_body_write(wr, (const uint8_t *)"abc", 3);
    hc_cache_body_finish(wr, true);
    CHECK(hc_cache_lookup(c, K("l"), NULL) == NULL);
    hc_cache_obj_release(wr);
    hc_cache_free(c);
}

TEST(purge)
{
    hc_cache *c = new_cache(0);
    hc_cache_write w = {.max_age_ns = 60 * SEC,
                        .length = -1,
                        .surrogate_keys = "one two  two",
                        .surrogate_keys_len = 12};
    put(c, "a", NULL, &w, "A");
    hc_cache_write w2 = {.max_age_ns = 60 * SEC,
                         .length = -1,
                         .surrogate_keys = "three",
                         .surrogate_keys_len = 5,
                         .swr_ns = 60 * SEC};
    put(c, "b", NULL, &w2, "B");
    hc_cache_obj *o = hc_cache_lookup(c, K("a"), NULL);
    size_t n;
    CHECK(o && strcmp(hc_cache_obj_surrogate_keys(o, &n), "one two") == 0);
    CHECK_EQ_INT(hc_cache_purge(c, "two", 3, false), 1);
    CHECK(hc_cache_lookup(c, K("a"), NULL) == NULL);
    CHECK(body_is(o, "A")); /* a holder keeps reading */
    hc_cache_obj_release(o);
    CHECK_EQ_INT(hc_cache_purge(c, "nope", 4, false), 0);
    /* soft: still there, stale but usable; one revalidation */
    CHECK_EQ_INT(hc_cache_purge(c, "three", 5, true), 1);
    hc_cache_obj *f;
    hc_cache_oblig *ob;
    hc_cache_txn_lookup(c, K("b"), NULL, true, &f, &ob);
    CHECK(f != NULL && ob != NULL);
    if (f) {
        hc_cache_info in;
        hc_cache_obj_info(f, &in);
        CHECK(!in.fresh && in.usable);
    }
    hc_cache_obj_release(f);
    hc_cache_oblig_abandon(ob);
    hc_cache_free(c);
}

TEST(lru_eviction)
{
    hc_cache *c = new_cache(64 * 1024);
    char big[20000];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    hc_cache_write w = {.max_age_ns = 60 * SEC, .length = -1};
    put(c, "1", NULL, &w, big);
    put(c, "2", NULL, &w, big);
    put(c, "3", NULL, &w, big);
    hc_cache_obj_release(hc_cache_lookup(c, K("1"), NULL)); /* 1 is now the newest */
    put(c, "4", NULL, &w, big);
    uint64_t bytes;
    size_t objs;
    hc_cache_usage(c, &bytes, &objs);
    CHECK(bytes <= 64 * 1024);
    CHECK_EQ_INT(objs, 3);
    hc_cache_obj *o = hc_cache_lookup(c, K("2"), NULL);
    CHECK(o == NULL); /* the least recently used went */
    hc_cache_obj_release(o);
    o = hc_cache_lookup(c, K("1"), NULL);
    CHECK(o != NULL);
    /* an object bigger than the cap is not kept, but its holder reads it whole */
    char huge[70000];
    memset(huge, 'y', sizeof huge - 1);
    huge[sizeof huge - 1] = '\0';
    hc_cache_obj *h = hc_cache_insert(c, K("huge"), NULL, &w);
    hc_cache_body_write(h, (const uint8_t *)huge, strlen(huge));
    hc_cache_body_finish(h, true);
    CHECK(hc_cache_lookup(c, K("huge"), NULL) == NULL);
    uint8_t tmp[100];
    CHECK_EQ_INT(hc_cache_body_read(h, 69900, tmp, 100), 99);
    hc_cache_obj_release(h);
    CHECK_EQ_INT(hc_cache_body_read(o, 19990, tmp, 100), 9);
    hc_cache_obj_release(o);
    hc_cache_free(c);
}

HARNESS_MAIN(RUN(insert_lookup_age); RUN(swr_and_collapsing_obligation); RUN(vary);
             RUN(collapsing_threads); RUN(streaming_body_and_failure); RUN(purge);
             RUN(lru_eviction);)
