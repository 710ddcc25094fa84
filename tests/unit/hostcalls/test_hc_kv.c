/* test_hc_kv.c: fastly_kv_store and fastly_object_store: the guests tests/guests/c/hc_kv.c and
 * hc_kv_legacy.c against in-memory stores, 200 concurrent inserts from eight threads each running
 * its own instance (then a list shows every key, none torn), persistence of writes in a -kv-dir
 * database across two store objects, and the engine's pieces (keys, list paging, seeding). */
#include "config/cfg_edge.h"
#include "harness.h"
#include "hc_guest_run.h"
#include "hostcalls/hc_kv_stores.h"
#include "tmp_files.h"

#include <pthread.h>

static guest_result res;
static cfg_edge edge;

static bool make_edge(void)
{
    static bool made;
    if (made)
        return true;
    char err[512] = "";
    cfg_edge_init(&edge);
    const char *path =
        write_file("store.json", "{\"seed\": \"seed-value\", \"meta\": {\"body\": \"with-meta\", "
                                 "\"metadata\": \"m1\"}}");
    if (cfg_edge_add_kv_store(&edge, "store", path, err, sizeof err) != CFG_OK ||
        cfg_edge_add_kv_store(&edge, "empty", NULL, err, sizeof err) != CFG_OK) {
        fprintf(stderr, "edge: %s\n", err);
        return false;
    }
    made = true;
    return true;
}

static hc_kv_stores *new_stores(const char *dir)
{
    char err[512] = "";
    hc_kv_stores *s = make_edge() ? hc_kv_stores_new(&edge, dir, err, sizeof err) : NULL;
    if (!s)
        fprintf(stderr, "hc_kv_stores_new: %s\n", err);
    return s;
}

/* Runs a guest with `arg` against stores `kv`; true when it passed. */
static bool run_with(hc_kv_stores *kv, const char *guest, const char *arg, guest_result *r)
{
    hc_env *e = hc_env_new();
    if (!e)
        return false;
    e->settings.kv = kv;
    e->settings.verbosity = 0;
    bool ok = hc_env_ctx(e) && run_guest(guest, arg, e->ctx, r) && guest_exited(r, 0) &&
              r->fails == 0 && r->checks > 0;
    if (!ok)
        fprintf(stderr, "%s %s: checks=%d fails=%d\n%s", guest, arg, r->checks, r->fails, r->out);
    hc_env_free(e);
    return ok;
}

TEST(guest_kv_store)
{
    hc_kv_stores *kv = new_stores(NULL);
    CHECK(kv != NULL);
    CHECK(run_with(kv, "hc_kv", "", &res));
    printf("guest_kv_store: %d checks\n", res.checks);
    CHECK(res.checks > 200);
    hc_kv_stores_free(kv);
}

TEST(guest_object_store)
{
    hc_kv_stores *kv = new_stores(NULL);
    CHECK(kv != NULL);
    CHECK(run_with(kv, "hc_kv_legacy", "", &res));
    CHECK(res.checks > 40);
    hc_kv_stores_free(kv);
}

/* No stores configured (settings.kv NULL): every open is inval. */
TEST(no_stores)
{
    CHECK(run_with(NULL, "hc_kv_legacy", "none", &res));
}

typedef struct writer {
    hc_kv_stores *kv;
    int id;
    bool ok;
    guest_result r;
} writer;

static void *write_thread(void *p)
{
    writer *w = p;
    char arg[32];
    snprintf(arg, sizeof arg, "conc:%d", w->id);
    w->ok = run_with(w->kv, "hc_kv", arg, &w->r);
    return NULL;
}

static size_t count(const char *hay, const char *needle)
{
    size_t n = 0;
    for (const char *p = hay; (p = strstr(p, needle)); p += strlen(needle))
        n++;
    return n;
}

/* Eight instances on eight threads, 25 inserts each plus overwrites of one shared key. */
static void concurrent(hc_kv_stores *kv)
{
    enum { N = 8 };
    static writer w[N];
    pthread_t t[N];
    for (int i = 0; i < N; i++) {
        w[i] = (writer){.kv = kv, .id = i};
        pthread_create(&t[i], NULL, write_thread, &w[i]);
    }
    for (int i = 0; i < N; i++) {
        pthread_join(t[i], NULL);
        CHECK(w[i].ok);
    }
    char *json = NULL;
    size_t len = 0;
    int store = hc_kv_stores_find(kv, "store", 5);
    CHECK_EQ_INT(hc_kv_list(kv, store, NULL, 0, (const uint8_t *)"c/", 2, 0, &json, &len),
                 HC_KV_OK);
    CHECK(json != NULL);
    if (!json)
        return;
    CHECK_EQ_INT(count(json, "\"c/"), 200 + 1); /* the keys, and meta's "prefix":"c/" */
    CHECK(strstr(json, "\"c/0-0\"") && strstr(json, "\"c/7-24\""));
    free(json);
    /* every value whole: one writer's 8 KiB */
    for (int i = 0; i < N; i++)
        for (int k = 0; k < 25; k++) {
            char key[32];
            int n = snprintf(key, sizeof key, "c/%d-%d", i, k);
            hc_kv_value v;
            CHECK_EQ_INT(hc_kv_lookup(kv, store, (const uint8_t *)key, (size_t)n, &v), HC_KV_OK);
            bool whole = v.body_len == 8192;
            for (size_t b = 0; whole && b < v.body_len; b++)
                whole = v.body[b] == 'a' + i;
            CHECK(whole);
            hc_kv_value_deinit(&v);
        }
}

TEST(concurrent_inserts_memory)
{
    hc_kv_stores *kv = new_stores(NULL);
    CHECK(kv != NULL);
    if (kv)
        concurrent(kv);
    hc_kv_stores_free(kv);
}

TEST(concurrent_inserts_sqlite)
{
    hc_kv_stores *kv = new_stores(tmp_path("conc-db"));
    CHECK(kv != NULL);
    if (kv)
        concurrent(kv);
    hc_kv_stores_free(kv);
}

TEST(persistence)
{
    const char *dir = tmp_path("persist-db");
    char d[700];
    snprintf(d, sizeof d, "%s", dir);
    hc_kv_stores *kv = new_stores(d);
    CHECK(kv != NULL);
    if (!kv)
        return;
    CHECK(run_with(kv, "hc_kv", "persist-write", &res));
    hc_kv_stores_free(kv);
    kv = new_stores(d); /* the seed data does not overwrite what the database has */
    CHECK(kv != NULL);
    if (!kv)
        return;
    CHECK(run_with(kv, "hc_kv", "persist-read", &res));
    hc_kv_stores_free(kv);
    /* the full functional test on SQLite too */
    kv = new_stores(tmp_path("full-db"));
    CHECK(kv != NULL);
    CHECK(kv && run_with(kv, "hc_kv", "", &res));
    hc_kv_stores_free(kv);
}

TEST(bad_dir)
{
    char err[512] = "";
    CHECK(make_edge());
    const char *file = write_file("not-a-dir", "x");
    hc_kv_stores *kv = hc_kv_stores_new(&edge, file, err, sizeof err);
    CHECK(kv == NULL);
    CHECK_STR_CONTAINS(err, "not-a-dir");
    hc_kv_stores_free(kv);
    char sub[800];
    snprintf(sub, sizeof sub, "%s/sub", file);
    kv = hc_kv_stores_new(&edge, sub, err, sizeof err);
    CHECK(kv == NULL);
    CHECK_STR_CONTAINS(err, "cannot create directory");
}

TEST(engine_list_paging)
{
    hc_kv_stores *kv = new_stores(NULL);
    CHECK(kv != NULL);
    if (!kv)
        return;
    int s = hc_kv_stores_find(kv, "empty", 5);
    CHECK(s >= 0);
    CHECK_EQ_INT(hc_kv_stores_find(kv, "nope", 4), -1);
    hc_kv_write w = {.mode = HC_KV_OVERWRITE};
    char key[16];
    for (int i = 0; i < 25; i++) {
        int n = snprintf(key, sizeof key, "k%02d", i);
        CHECK_EQ_INT(
            hc_kv_insert(kv, s, (const uint8_t *)key, (size_t)n, (const uint8_t *)"v", 1, &w),
            HC_KV_OK);
    }
    /* walk with limit 7: 4 pages, every key once */
    char *json = NULL;
    size_t len;
    char cursor[64] = "";
    int pages = 0, keys = 0;
    for (;;) {
        CHECK_EQ_INT(hc_kv_list(kv, s, cursor[0] ? (const uint8_t *)cursor : NULL, strlen(cursor),
                                NULL, 0, 7, &json, &len),
                     HC_KV_OK);
        if (!json)
            break;
        pages++;
        keys += (int)count(json, "\"k");
        const char *c = strstr(json, "\"next_cursor\":\"");
        cursor[0] = '\0';
        if (c) {
            c += 15;
            size_t n = strcspn(c, "\"");
            snprintf(cursor, sizeof cursor, "%.*s", (int)n, c);
        }
        free(json);
        if (!cursor[0] || pages > 10)
            break;
    }
    CHECK_EQ_INT(pages, 4);
    CHECK_EQ_INT(keys, 25);
    /* a cursor that decodes to invalid UTF-8, or is not canonical base64 */
    CHECK_EQ_INT(hc_kv_list(kv, s, (const uint8_t *)"/w==", 4, NULL, 0, 0, &json, &len),
                 HC_KV_BAD_REQUEST);
    CHECK_EQ_INT(hc_kv_list(kv, s, (const uint8_t *)"az==", 4, NULL, 0, 0, &json, &len),
                 HC_KV_BAD_REQUEST);
    CHECK_EQ_INT(hc_kv_list(kv, s, (const uint8_t *)"abc", 3, NULL, 0, 0, &json, &len),
                 HC_KV_BAD_REQUEST);
    hc_kv_stores_free(kv);
}

/* Values with a TTL of 0 are gone at once; hundreds of them are swept out as writes go on, while
 * live values stay. */
TEST(engine_expired_sweep)
{
    hc_kv_stores *kv = new_stores(NULL);
    CHECK(kv != NULL);
    if (!kv)
        return;
    int s = hc_kv_stores_find(kv, "empty", 5);
    hc_kv_write dead = {.mode = HC_KV_OVERWRITE, .has_ttl = true, .ttl_sec = 0};
    hc_kv_write keep = {.mode = HC_KV_OVERWRITE};
    CHECK_EQ_INT(hc_kv_insert(kv, s, (const uint8_t *)"live", 4, (const uint8_t *)"v", 1, &keep),
                 HC_KV_OK);
    char key[16];
    for (int i = 0; i < 600; i++) {
        int n = snprintf(key, sizeof key, "d%03d", i);
        CHECK_EQ_INT(
            hc_kv_insert(kv, s, (const uint8_t *)key, (size_t)n, (const uint8_t *)"v", 1, &dead),
            HC_KV_OK);
    }
    hc_kv_value v;
    CHECK_EQ_INT(hc_kv_lookup(kv, s, (const uint8_t *)"d599", 4, &v), HC_KV_NOT_FOUND);
    CHECK_EQ_INT(hc_kv_lookup(kv, s, (const uint8_t *)"live", 4, &v), HC_KV_OK);
    hc_kv_value_deinit(&v);
    char *json = NULL;
    size_t len;
    CHECK_EQ_INT(hc_kv_list(kv, s, NULL, 0, NULL, 0, 0, &json, &len), HC_KV_OK);
    CHECK_STR_EQ(json ? json : "", "{\"data\":[\"live\"],\"meta\":{\"limit\":1000}}");
    free(json);
    /* deleting an expired value reports it absent */
    CHECK_EQ_INT(hc_kv_delete(kv, s, (const uint8_t *)"d599", 4), HC_KV_NOT_FOUND);
    hc_kv_stores_free(kv);
}

HARNESS_MAIN(if (!tmp_dir_create("fastlike-kv")) return 1; RUN(guest_kv_store);
             RUN(guest_object_store); RUN(no_stores); RUN(concurrent_inserts_memory);
             RUN(concurrent_inserts_sqlite); RUN(persistence); RUN(bad_dir);
             RUN(engine_list_paging); RUN(engine_expired_sweep); cfg_edge_deinit(&edge);
             tmp_dir_remove();)
