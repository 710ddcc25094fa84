/* hc_kv.c: test guest for fastly_kv_store (with fastly_async_io on its handles). Run by
 * tests/unit/hostcalls/test_hc_kv.c against the stores "store" (seeded: "seed" = "seed-value",
 * "meta" = "with-meta" with metadata "m1") and "empty". argv[1] picks the part: "" the whole
 * functional test; "conc:N" one of the concurrent writers (inserts c/N-0..c/N-24 and overwrites
 * c/shared, checking every value it reads back is whole); "persist-write" / "persist-read" the two
 * halves of the persistence test. */
#include "hc_check.h"

#include <stdlib.h>

#define SC(lit) (lit), (sizeof(lit) - 1)
#define NOBODY 0xFFFFFFFFu

static fastly_kv_store_handle store, empty;
static char big[70000];

static fastly_body_handle body_of(const char *s, size_t n)
{
    fastly_body_handle b = NOBODY;
    size_t nw;
    EXPECT_ST(fastly_http_body_new(&b), ST_OK);
    if (n)
        EXPECT_ST(fastly_http_body_write(b, (const uint8_t *)s, n, FASTLY_BODY_WRITE_END_BACK, &nw),
                  ST_OK);
    return b;
}

/* Reads a body whole into big; returns its length. */
static size_t read_body(fastly_body_handle b)
{
    size_t len = 0, n;
    for (;;) {
        if (fastly_http_body_read(b, (uint8_t *)big + len, sizeof big - 1 - len, &n) != ST_OK ||
            n == 0)
            break;
        len += n;
    }
    big[len] = '\0';
    return len;
}

typedef struct got {
    int status;
    fastly_kv_error err;
    fastly_body_handle body;
    char meta[64];
    size_t meta_len;
    uint64_t gen;
    size_t len; /* body length, in big */
} got;

static got lookup(fastly_kv_store_handle s, const char *key, size_t klen)
{
    got g = {.err = 99, .body = NOBODY};
    fastly_kv_lookup_config cfg = {0};
    fastly_kv_store_lookup_handle h = NOBODY;
    g.status = fastly_kv_store_lookup(s, key, klen, 0, &cfg, &h);
    if (g.status != ST_OK)
        return g;
    g.status = fastly_kv_store_lookup_wait_v2(h, &g.body, g.meta, sizeof g.meta, &g.meta_len,
                                              &g.gen, &g.err);
    if (g.status == ST_OK && g.err == FASTLY_KV_ERROR_OK)
        g.len = read_body(g.body);
    return g;
}

/* insert with a config; returns the kv_error (or 100 + status when the call itself failed). */
static int insert(fastly_kv_store_handle s, const char *key, size_t klen, const char *val,
                  size_t vlen, uint32_t mask, fastly_kv_insert_config *cfg)
{
    fastly_kv_insert_config zero = {0};
    fastly_kv_store_insert_handle h = NOBODY;
    int st = fastly_kv_store_insert(s, key, klen, body_of(val, vlen), mask, cfg ? cfg : &zero, &h);
    if (st != ST_OK)
        return 100 + st;
    fastly_kv_error err = 99;
    st = fastly_kv_store_insert_wait(h, &err);
    return st == ST_OK ? (int)err : 100 + st;
}

static int del(fastly_kv_store_handle s, const char *key, size_t klen)
{
    fastly_kv_delete_config cfg = {0};
    fastly_kv_store_delete_handle h = NOBODY;
    int st = fastly_kv_store_delete(s, key, klen, 0, &cfg, &h);
    if (st != ST_OK)
        return 100 + st;
    fastly_kv_error err = 99;
    st = fastly_kv_store_delete_wait(h, &err);
    return st == ST_OK ? (int)err : 100 + st;
}

/* list into big; returns the kv_error (or 100 + status). */
static int list(fastly_kv_store_handle s, uint32_t mask, fastly_kv_list_config *cfg)
{
    fastly_kv_store_list_handle h = NOBODY;
    int st = fastly_kv_store_list(s, mask, cfg, &h);
    if (st != ST_OK)
        return 100 + st;
    fastly_kv_error err = 99;
    fastly_body_handle b = NOBODY;
    st = fastly_kv_store_list_wait(h, &b, &err);
    if (st != ST_OK)
        return 100 + st;
    big[0] = '\0';
    if (err == FASTLY_KV_ERROR_OK)
        read_body(b);
    return (int)err;
}

#define EXPECT_STR(s, lit) EXPECT_BYTES((s), strlen(s), lit)

static void sleep_ms(uint32_t ms)
{
    uint32_t idx;
    fastly_async_io_select(NULL, 0, ms, &idx); /* nothing to wait for: returns after the timeout */
}

static void test_open(void)
{
    /* covers: fastly_kv_store.open, fastly_kv_store.open_v2 */
    EXPECT_ST(fastly_kv_store_open(SC("store"), &store), ST_OK);
    EXPECT_ST(fastly_kv_store_open(SC("empty"), &empty), ST_OK);
    fastly_kv_store_handle h = NOBODY;
    EXPECT_ST(fastly_kv_store_open(SC("nope"), &h), ST_INVAL); /* unknown store, as Viceroy */
    EXPECT_INT(h, NOBODY);
    EXPECT_ST(fastly_kv_store_open(SC(""), &h), ST_INVAL);
    EXPECT_ST(fastly_kv_store_open(BAD_PTR, 5, &h), ST_INVAL);
    EXPECT_ST(fastly_kv_store_open(SC("store"), BAD_PTR), ST_INVAL);
    EXPECT_ST(fastly_kv_store_open(SC("store"), MISALIGNED), ST_BADALIGN);
    fastly_kv_store_handle h2 = NOBODY;
    EXPECT_ST(fastly_kv_store_open_v2((uint32_t)(uintptr_t) "store", 5, (uint32_t)(uintptr_t)&h2),
              ST_OK);
    got g = lookup(h2, SC("seed"));
    EXPECT_INT(g.err, FASTLY_KV_ERROR_OK);
    EXPECT_BYTES(big, g.len, "seed-value");
    /* a store handle is not an async item */
    uint32_t done;
    EXPECT_ST(fastly_async_io_is_ready(store, &done), ST_BADF);
}

static void test_lookup(void)
{
    /* covers: fastly_kv_store.lookup, fastly_kv_store.lookup_wait_v2, fastly_kv_store.lookup_v2 */
    got g = lookup(store, SC("meta"));
    EXPECT_ST(g.status, ST_OK);
    EXPECT_INT(g.err, FASTLY_KV_ERROR_OK);
    EXPECT_BYTES(big, g.len, "with-meta");
    EXPECT_BYTES(g.meta, g.meta_len, "m1");
    EXPECT(g.gen != 0);
    g = lookup(store, SC("seed"));
    EXPECT_BYTES(big, g.len, "seed-value");
    EXPECT_INT(g.meta_len, 0);

    /* missing: ok with not_found, no body handle */
    g = lookup(store, SC("missing"));
    EXPECT_ST(g.status, ST_OK);
    EXPECT_INT(g.err, FASTLY_KV_ERROR_NOT_FOUND);
    EXPECT_INT(g.body, NOBODY);
    g = lookup(empty, SC("seed"));
    EXPECT_INT(g.err, FASTLY_KV_ERROR_NOT_FOUND);

    /* lookup_v2 is lookup */
    fastly_kv_lookup_config cfg = {0};
    fastly_kv_store_lookup_handle h = NOBODY;
    EXPECT_ST(fastly_kv_store_lookup_v2(store, (uint32_t)(uintptr_t) "seed", 4, 0,
                                        (uint32_t)(uintptr_t)&cfg, (uint32_t)(uintptr_t)&h),
              ST_OK);
    uint32_t done = 7;
    EXPECT_ST(fastly_async_io_is_ready(h, &done), ST_OK);
    EXPECT_INT(done, 1);

    /* covers: fastly_kv_store.lookup_wait */
    fastly_body_handle b = NOBODY;
    char meta[8];
    size_t nw = 99;
    uint32_t gen32 = 5;
    fastly_kv_error err = 99;
    EXPECT_ST(fastly_kv_store_lookup_wait(h, &b, meta, sizeof meta, &nw, &gen32, &err), ST_OK);
    EXPECT_INT(err, FASTLY_KV_ERROR_OK);
    EXPECT_INT(gen32, 0); /* deprecated: always 0 */
    EXPECT_INT(nw, 0);
    EXPECT_BYTES(big, read_body(b), "seed-value");
    /* the handle is used up */
    EXPECT_ST(fastly_kv_store_lookup_wait(h, &b, meta, sizeof meta, &nw, &gen32, &err), ST_BADF);
    EXPECT_ST(fastly_async_io_is_ready(h, &done), ST_BADF);

    /* metadata buffer too small: buflen with the size, and the lookup can be retried */
    EXPECT_ST(fastly_kv_store_lookup(store, SC("meta"), 0, &cfg, &h), ST_OK);
    uint64_t gen = 0;
    EXPECT_ST(fastly_kv_store_lookup_wait_v2(h, &b, meta, 1, &nw, &gen, &err), ST_BUFLEN);
    EXPECT_INT(nw, 2);
    EXPECT_ST(fastly_kv_store_lookup_wait_v2(h, &b, meta, sizeof meta, &nw, &gen, BAD_PTR),
              ST_INVAL);
    EXPECT_ST(fastly_kv_store_lookup_wait_v2(h, BAD_PTR, meta, sizeof meta, &nw, &gen, &err),
              ST_INVAL);
    EXPECT_ST(fastly_kv_store_lookup_wait_v2(h, &b, meta, sizeof meta, &nw, MISALIGNED, &err),
              ST_BADALIGN);
    EXPECT_ST(fastly_kv_store_lookup_wait_v2(h, &b, BAD_PTR, sizeof meta, &nw, &gen, &err),
              ST_INVAL);
    EXPECT_ST(fastly_kv_store_lookup_wait_v2(h, &b, meta, sizeof meta, &nw, &gen, &err), ST_OK);
    EXPECT_BYTES(meta, nw, "m1");
    EXPECT_INT(err, FASTLY_KV_ERROR_OK);

    /* bad handles */
    EXPECT_ST(fastly_kv_store_lookup(BAD_HANDLE, SC("seed"), 0, &cfg, &h), ST_BADF);
    EXPECT_ST(fastly_kv_store_lookup(b, SC("seed"), 0, &cfg, &h), ST_BADF); /* a body */
    EXPECT_ST(fastly_kv_store_lookup_wait_v2(BAD_HANDLE, &b, meta, 8, &nw, &gen, &err), ST_BADF);
    EXPECT_ST(fastly_kv_store_lookup_wait_v2(store, &b, meta, 8, &nw, &gen, &err), ST_BADF);
    /* bad pointers and flags */
    EXPECT_ST(fastly_kv_store_lookup(store, BAD_PTR, 4, 0, &cfg, &h), ST_INVAL);
    EXPECT_ST(fastly_kv_store_lookup(store, SC("seed"), 0, &cfg, BAD_PTR), ST_INVAL);
    EXPECT_ST(fastly_kv_store_lookup(store, SC("seed"), 0, &cfg, MISALIGNED), ST_BADALIGN);
    EXPECT_ST(fastly_kv_store_lookup(store, SC("seed"), 0x2, &cfg, &h), ST_INVAL);
    EXPECT_ST(fastly_kv_store_lookup(store, SC("seed"), FASTLY_KV_LOOKUP_CONFIG_OPTIONS_RESERVED,
                                     &cfg, &h),
              ST_OK);
}

static void test_keys(void)
{
    fastly_kv_lookup_config cfg = {0};
    fastly_kv_store_lookup_handle h;
    static const char *const bad[] = {
        "",      ".",    "..",           "a/../b",
        "../a",  "a/..", "./a",          "a/.",
        "a\nb",  "a\rb", "a#b",          "a;b",
        "a?b",   "a^b",  "a|b",          ".well-known/acme-challenge/x",
        " ",     "\x01", "\xef\xbf\xbe", "\xff\xfe",
        "\xc3(",
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        int st = fastly_kv_store_lookup(store, bad[i], strlen(bad[i]), 0, &cfg, &h);
        EXPECT_ST(st, ST_INVAL);
        if (st != ST_INVAL)
            printf("  key %zu accepted\n", i);
    }
    static const char *const good[] = {
        "a", "a.b", "a/b/c", ".a", "a..b", "ü", "  ", "x y", ".well-known/other"};
    for (size_t i = 0; i < sizeof good / sizeof *good; i++)
        EXPECT_ST(fastly_kv_store_lookup(store, good[i], strlen(good[i]), 0, &cfg, &h), ST_OK);
    memset(big, 'k', 1025);
    EXPECT_ST(fastly_kv_store_lookup(store, big, 1025, 0, &cfg, &h), ST_INVAL);
    EXPECT_ST(fastly_kv_store_lookup(store, big, 1024, 0, &cfg, &h), ST_OK);
    /* a bad key is inval for insert and delete too, and leaves the body alone */
    fastly_kv_insert_config icfg = {0};
    fastly_kv_store_insert_handle ih;
    fastly_body_handle b = body_of(SC("x"));
    EXPECT_ST(fastly_kv_store_insert(store, SC("a#"), b, 0, &icfg, &ih), ST_INVAL);
    size_t nw;
    EXPECT_ST(fastly_http_body_write(b, (const uint8_t *)"y", 1, FASTLY_BODY_WRITE_END_BACK, &nw),
              ST_OK);
    fastly_kv_delete_config dcfg = {0};
    fastly_kv_store_delete_handle dh;
    EXPECT_ST(fastly_kv_store_delete(store, SC(".."), 0, &dcfg, &dh), ST_INVAL);
}

static void test_insert(void)
{
    /* covers: fastly_kv_store.insert, fastly_kv_store.insert_wait */
    EXPECT_INT(insert(store, SC("k1"), SC("v1"), 0, NULL), FASTLY_KV_ERROR_OK);
    got g = lookup(store, SC("k1"));
    EXPECT_BYTES(big, g.len, "v1");
    EXPECT_INT(g.meta_len, 0);
    uint64_t g1 = g.gen;
    EXPECT_INT(insert(store, SC("k1"), SC("v2"), 0, NULL), FASTLY_KV_ERROR_OK);
    g = lookup(store, SC("k1"));
    EXPECT_BYTES(big, g.len, "v2");
    EXPECT(g.gen != g1 && g.gen != 0);
    /* empty value */
    EXPECT_INT(insert(store, SC("nothing"), "", 0, 0, NULL), FASTLY_KV_ERROR_OK);
    g = lookup(store, SC("nothing"));
    EXPECT_INT(g.err, FASTLY_KV_ERROR_OK);
    EXPECT_INT(g.len, 0);

    /* modes */
    fastly_kv_insert_config cfg = {.mode = FASTLY_KV_INSERT_MODE_ADD};
    EXPECT_INT(insert(store, SC("k1"), SC("no"), 0, &cfg), FASTLY_KV_ERROR_PRECONDITION_FAILED);
    EXPECT_INT(insert(store, SC("k2"), SC("added"), 0, &cfg), FASTLY_KV_ERROR_OK);
    g = lookup(store, SC("k2"));
    EXPECT_BYTES(big, g.len, "added");
    cfg.mode = FASTLY_KV_INSERT_MODE_APPEND;
    EXPECT_INT(insert(store, SC("k1"), SC("-app"), 0, &cfg), FASTLY_KV_ERROR_OK);
    cfg.mode = FASTLY_KV_INSERT_MODE_PREPEND;
    EXPECT_INT(insert(store, SC("k1"), SC("pre-"), 0, &cfg), FASTLY_KV_ERROR_OK);
    g = lookup(store, SC("k1"));
    EXPECT_BYTES(big, g.len, "pre-v2-app");
    cfg.mode = FASTLY_KV_INSERT_MODE_APPEND;
    EXPECT_INT(insert(store, SC("k3"), SC("fresh"), 0, &cfg), FASTLY_KV_ERROR_OK);
    g = lookup(store, SC("k3"));
    EXPECT_BYTES(big, g.len, "fresh");
    cfg.mode = 4;
    EXPECT_INT(insert(store, SC("k1"), SC("x"), 0, &cfg), 100 + ST_INVAL);

    /* metadata */
    fastly_kv_insert_config m = {
        .mode = FASTLY_KV_INSERT_MODE_OVERWRITE, .metadata = "meta-data", .metadata_len = 9};
    EXPECT_INT(insert(store, SC("k4"), SC("v4"), FASTLY_KV_INSERT_CONFIG_OPTIONS_METADATA, &m),
               FASTLY_KV_ERROR_OK);
    g = lookup(store, SC("k4"));
    EXPECT_BYTES(g.meta, g.meta_len, "meta-data");
    EXPECT_BYTES(big, g.len, "v4");
    m.metadata_len = 0; /* the flag with no metadata */
    EXPECT_INT(insert(store, SC("k4"), SC("v"), FASTLY_KV_INSERT_CONFIG_OPTIONS_METADATA, &m),
               100 + ST_INVAL);
    m.metadata = BAD_PTR;
    m.metadata_len = 4;
    EXPECT_INT(insert(store, SC("k4"), SC("v"), FASTLY_KV_INSERT_CONFIG_OPTIONS_METADATA, &m),
               100 + ST_INVAL);
    memset(big + 2000, 'm', 1001);
    m.metadata = big + 2000;
    m.metadata_len = 1001;
    EXPECT_INT(insert(store, SC("k4"), SC("v"), FASTLY_KV_INSERT_CONFIG_OPTIONS_METADATA, &m),
               FASTLY_KV_ERROR_PAYLOAD_TOO_LARGE);
    m.metadata_len = 1000;
    EXPECT_INT(insert(store, SC("k5"), SC("v"), FASTLY_KV_INSERT_CONFIG_OPTIONS_METADATA, &m),
               FASTLY_KV_ERROR_OK);
    /* metadata is bytes, not text */
    m.metadata = "\xff\x00\x01";
    m.metadata_len = 3;
    EXPECT_INT(insert(store, SC("k8"), SC("bin"), FASTLY_KV_INSERT_CONFIG_OPTIONS_METADATA, &m),
               FASTLY_KV_ERROR_OK);
    g = lookup(store, SC("k8"));
    EXPECT_BYTES(g.meta, g.meta_len, "\xff\x00\x01");
    /* a write without metadata drops the old metadata */
    EXPECT_INT(insert(store, SC("k4"), SC("v4b"), 0, NULL), FASTLY_KV_ERROR_OK);
    g = lookup(store, SC("k4"));
    EXPECT_INT(g.meta_len, 0);

    /* if_generation_match */
    g = lookup(store, SC("k2"));
    fastly_kv_insert_config gm = {.if_generation_match = g.gen};
    EXPECT_INT(insert(store, SC("k2"), SC("gen-ok"),
                      FASTLY_KV_INSERT_CONFIG_OPTIONS_IF_GENERATION_MATCH, &gm),
               FASTLY_KV_ERROR_OK);
    EXPECT_INT(insert(store, SC("k2"), SC("gen-stale"),
                      FASTLY_KV_INSERT_CONFIG_OPTIONS_IF_GENERATION_MATCH, &gm),
               FASTLY_KV_ERROR_PRECONDITION_FAILED);
    g = lookup(store, SC("k2"));
    EXPECT_BYTES(big, g.len, "gen-ok");
    /* background_fetch and the reserved flags are accepted */
    EXPECT_INT(insert(store, SC("k6"), SC("bg"),
                      FASTLY_KV_INSERT_CONFIG_OPTIONS_BACKGROUND_FETCH |
                          FASTLY_KV_INSERT_CONFIG_OPTIONS_RESERVED,
                      NULL),
               FASTLY_KV_ERROR_OK);

    /* errors of the call itself */
    fastly_kv_insert_config zero = {0};
    fastly_kv_store_insert_handle h;
    EXPECT_INT(insert(store, SC("k1"), SC("x"), 0x40, NULL), 100 + ST_INVAL);
    EXPECT_ST(fastly_kv_store_insert(store, SC("k1"), body_of(SC("x")), 0, BAD_PTR, &h), ST_INVAL);
    EXPECT_ST(fastly_kv_store_insert(store, SC("k1"), body_of(SC("x")), 0,
                                     (fastly_kv_insert_config *)((char *)hc_aligned_scratch + 4),
                                     &h),
              ST_BADALIGN);
    EXPECT_ST(fastly_kv_store_insert(store, SC("k1"), BAD_HANDLE, 0, &zero, &h), ST_BADF);
    EXPECT_ST(fastly_kv_store_insert(BAD_HANDLE, SC("k1"), body_of(SC("x")), 0, &zero, &h),
              ST_BADF);
    EXPECT_ST(fastly_kv_store_insert(store, SC("k1"), body_of(SC("x")), 0, &zero, BAD_PTR),
              ST_INVAL);
    /* the body is consumed by a successful insert */
    fastly_body_handle b = body_of(SC("consumed"));
    EXPECT_ST(fastly_kv_store_insert(store, SC("k7"), b, 0, &zero, &h), ST_OK);
    size_t nw;
    EXPECT_ST(fastly_http_body_write(b, (const uint8_t *)"y", 1, FASTLY_BODY_WRITE_END_BACK, &nw),
              ST_BADF);
    uint32_t done = 0;
    EXPECT_ST(fastly_async_io_is_ready(h, &done), ST_OK);
    EXPECT_INT(done, 1);
    fastly_kv_error err;
    EXPECT_ST(fastly_kv_store_insert_wait(h, BAD_PTR), ST_INVAL);
    EXPECT_ST(fastly_kv_store_insert_wait(h, &err), ST_OK);
    EXPECT_INT(err, FASTLY_KV_ERROR_OK);
    EXPECT_ST(fastly_kv_store_insert_wait(h, &err), ST_BADF);
    EXPECT_ST(fastly_kv_store_insert_wait(store, &err), ST_BADF);
    /* a big value goes through whole */
    for (size_t i = 0; i < 60000; i++)
        big[i] = (char)('a' + i % 26);
    EXPECT_INT(insert(store, SC("bigval"), big, 60000, 0, NULL), FASTLY_KV_ERROR_OK);
    g = lookup(store, SC("bigval"));
    EXPECT_INT(g.len, 60000);
    int whole = 1;
    for (size_t i = 0; i < g.len; i++)
        whole &= big[i] == (char)('a' + i % 26);
    EXPECT(whole);
}

static void test_ttl(void)
{
    fastly_kv_insert_config t = {.time_to_live_sec = 1};
    EXPECT_INT(
        insert(store, SC("ttl"), SC("short"), FASTLY_KV_INSERT_CONFIG_OPTIONS_TIME_TO_LIVE_SEC, &t),
        FASTLY_KV_ERROR_OK);
    t.time_to_live_sec = 3600;
    EXPECT_INT(insert(store, SC("ttl-long"), SC("long"),
                      FASTLY_KV_INSERT_CONFIG_OPTIONS_TIME_TO_LIVE_SEC, &t),
               FASTLY_KV_ERROR_OK);
    got g = lookup(store, SC("ttl"));
    /* present right after the write, unless this machine took a whole second to get here */
    EXPECT(g.err == FASTLY_KV_ERROR_OK || g.err == FASTLY_KV_ERROR_NOT_FOUND);
    int polls = 0;
    while (g.err == FASTLY_KV_ERROR_OK && polls++ < 600) { /* up to 60 s */
        sleep_ms(100);
        g = lookup(store, SC("ttl"));
    }
    EXPECT_INT(g.err, FASTLY_KV_ERROR_NOT_FOUND);
    g = lookup(store, SC("ttl-long"));
    EXPECT_BYTES(big, g.len, "long");
    /* gone for list and add too */
    fastly_kv_list_config l = {.prefix = "ttl", .prefix_len = 3};
    EXPECT_INT(list(store, FASTLY_KV_LIST_CONFIG_OPTIONS_PREFIX, &l), FASTLY_KV_ERROR_OK);
    EXPECT_STR(big, "{\"data\":[\"ttl-long\"],\"meta\":{\"limit\":1000,\"prefix\":\"ttl\"}}");
    fastly_kv_insert_config add = {.mode = FASTLY_KV_INSERT_MODE_ADD};
    EXPECT_INT(insert(store, SC("ttl"), SC("again"), 0, &add), FASTLY_KV_ERROR_OK);
}

static void test_delete(void)
{
    /* covers: fastly_kv_store.delete, fastly_kv_store.delete_wait */
    EXPECT_INT(insert(store, SC("gone"), SC("x"), 0, NULL), FASTLY_KV_ERROR_OK);
    EXPECT_INT(del(store, SC("gone")), FASTLY_KV_ERROR_OK);
    got g = lookup(store, SC("gone"));
    EXPECT_INT(g.err, FASTLY_KV_ERROR_NOT_FOUND);
    EXPECT_INT(del(store, SC("gone")), FASTLY_KV_ERROR_OK); /* missing: ok, as Viceroy */
    fastly_kv_delete_config cfg = {0};
    fastly_kv_store_delete_handle h;
    EXPECT_ST(fastly_kv_store_delete(store, SC("x"), 0x2, &cfg, &h), ST_INVAL);
    EXPECT_ST(fastly_kv_store_delete(BAD_HANDLE, SC("x"), 0, &cfg, &h), ST_BADF);
    EXPECT_ST(fastly_kv_store_delete(store, BAD_PTR, 3, 0, &cfg, &h), ST_INVAL);
    EXPECT_ST(fastly_kv_store_delete(store, SC("x"), 0, &cfg, BAD_PTR), ST_INVAL);
    fastly_kv_error err;
    EXPECT_ST(fastly_kv_store_delete_wait(BAD_HANDLE, &err), ST_BADF);
    EXPECT_ST(fastly_kv_store_delete(store, SC("seed2"), 0, &cfg, &h), ST_OK);
    EXPECT_ST(fastly_kv_store_delete_wait(h, MISALIGNED), ST_BADALIGN);
    EXPECT_ST(fastly_kv_store_delete_wait(h, &err), ST_OK);
    EXPECT_INT(err, FASTLY_KV_ERROR_OK);
}

static void test_list(void)
{
    /* covers: fastly_kv_store.list, fastly_kv_store.list_wait */
    static const char *const keys[] = {"list/e", "list/b", "list/a", "list/d",
                                       "list/c", "lisu",   "lis"};
    for (size_t i = 0; i < sizeof keys / sizeof *keys; i++)
        EXPECT_INT(insert(store, keys[i], strlen(keys[i]), SC("v"), 0, NULL), FASTLY_KV_ERROR_OK);
    uint32_t pl = FASTLY_KV_LIST_CONFIG_OPTIONS_PREFIX | FASTLY_KV_LIST_CONFIG_OPTIONS_LIMIT;
    fastly_kv_list_config c = {.prefix = "list/", .prefix_len = 5, .limit = 2};
    EXPECT_INT(list(store, pl, &c), FASTLY_KV_ERROR_OK);
    EXPECT_STR(big, "{\"data\":[\"list/a\",\"list/b\"],\"meta\":{\"limit\":2,\"prefix\":\"list/\","
                    "\"next_cursor\":\"bGlzdC9i\"}}");
    c.cursor = "bGlzdC9i";
    c.cursor_len = 8;
    EXPECT_INT(list(store, pl | FASTLY_KV_LIST_CONFIG_OPTIONS_CURSOR, &c), FASTLY_KV_ERROR_OK);
    EXPECT_STR(big, "{\"data\":[\"list/c\",\"list/d\"],\"meta\":{\"limit\":2,\"prefix\":\"list/\","
                    "\"next_cursor\":\"bGlzdC9k\"}}");
    c.cursor = "bGlzdC9k";
    EXPECT_INT(list(store, pl | FASTLY_KV_LIST_CONFIG_OPTIONS_CURSOR, &c), FASTLY_KV_ERROR_OK);
    EXPECT_STR(big, "{\"data\":[\"list/e\"],\"meta\":{\"limit\":2,\"prefix\":\"list/\"}}");
    /* exactly `limit` keys left: no cursor */
    c.limit = 5;
    EXPECT_INT(list(store, pl, &c), FASTLY_KV_ERROR_OK);
    EXPECT_STR(big, "{\"data\":[\"list/a\",\"list/b\",\"list/c\",\"list/d\",\"list/e\"],\"meta\":{"
                    "\"limit\":5,\"prefix\":\"list/\"}}");
    /* the eventual mode answers the same */
    c.mode = FASTLY_KV_LIST_MODE_EVENTUAL;
    c.limit = 1;
    c.prefix = "lis";
    c.prefix_len = 3;
    EXPECT_INT(list(store, pl, &c), FASTLY_KV_ERROR_OK);
    EXPECT_STR(big, "{\"data\":[\"lis\"],\"meta\":{\"limit\":1,\"prefix\":\"lis\",\"next_cursor\":"
                    "\"bGlz\"}}");
    /* an empty store, no options: the default limit */
    fastly_kv_list_config none = {0};
    EXPECT_INT(list(empty, 0, &none), FASTLY_KV_ERROR_OK);
    EXPECT_STR(big, "{\"data\":[],\"meta\":{\"limit\":1000}}");
    EXPECT_INT(insert(empty, SC("q\"uote"), SC("v"), 0, NULL), FASTLY_KV_ERROR_OK);
    EXPECT_INT(list(empty, 0, &none), FASTLY_KV_ERROR_OK);
    EXPECT_STR(big, "{\"data\":[\"q\\\"uote\"],\"meta\":{\"limit\":1000}}");
    /* a cursor that is not base64: bad_request from list_wait */
    fastly_kv_list_config bad = {.cursor = "!!!!", .cursor_len = 4};
    EXPECT_INT(list(store, FASTLY_KV_LIST_CONFIG_OPTIONS_CURSOR, &bad),
               FASTLY_KV_ERROR_BAD_REQUEST);
    bad.cursor_len = 0;
    EXPECT_INT(list(store, FASTLY_KV_LIST_CONFIG_OPTIONS_CURSOR, &bad), 100 + ST_INVAL);
    fastly_kv_list_config badp = {.prefix = BAD_PTR, .prefix_len = 4};
    EXPECT_INT(list(store, FASTLY_KV_LIST_CONFIG_OPTIONS_PREFIX, &badp), 100 + ST_INVAL);
    fastly_kv_list_config badmode = {.mode = 2};
    EXPECT_INT(list(store, 0, &badmode), 100 + ST_INVAL);
    EXPECT_INT(list(store, 0x10, &none), 100 + ST_INVAL);
    EXPECT_INT(list(store, 0, BAD_PTR), 100 + ST_INVAL);
    EXPECT_INT(list(store, 0, MISALIGNED), 100 + ST_BADALIGN);
    EXPECT_INT(list(BAD_HANDLE, 0, &none), 100 + ST_BADF);
    fastly_kv_store_list_handle h;
    fastly_body_handle b;
    fastly_kv_error err;
    EXPECT_ST(fastly_kv_store_list(store, 0, &none, BAD_PTR), ST_INVAL);
    EXPECT_ST(fastly_kv_store_list_wait(BAD_HANDLE, &b, &err), ST_BADF);
    EXPECT_ST(fastly_kv_store_list(store, 0, &none, &h), ST_OK);
    EXPECT_ST(fastly_kv_store_list_wait(h, BAD_PTR, &err), ST_INVAL);
    EXPECT_ST(fastly_kv_store_list_wait(h, &b, &err), ST_OK);
    EXPECT_INT(err, FASTLY_KV_ERROR_OK);
    EXPECT_ST(fastly_kv_store_list_wait(h, &b, &err), ST_BADF);
}

static void test_select(void)
{
    fastly_kv_lookup_config lc = {0};
    fastly_kv_list_config none = {0};
    fastly_async_item_handle hs[2];
    EXPECT_ST(fastly_kv_store_lookup(store, SC("seed"), 0, &lc, &hs[0]), ST_OK);
    EXPECT_ST(fastly_kv_store_list(store, 0, &none, &hs[1]), ST_OK);
    uint32_t idx = 99;
    EXPECT_ST(fastly_async_io_select(hs, 2, 0, &idx), ST_OK);
    EXPECT_INT(idx, 0);
    EXPECT_ST(fastly_async_io_select(&hs[1], 1, 1000, &idx), ST_OK);
    EXPECT_INT(idx, 0);
    /* waiting through the other handle after select works as usual */
    fastly_body_handle b;
    fastly_kv_error err;
    EXPECT_ST(fastly_kv_store_list_wait(hs[1], &b, &err), ST_OK);
    EXPECT_INT(err, FASTLY_KV_ERROR_OK);
}

/* One of the concurrent writers: its own keys, plus overwrites of one shared key whose readers
 * must always see one writer's whole value. */
static void conc(int id)
{
    EXPECT_ST(fastly_kv_store_open(SC("store"), &store), ST_OK);
    static char val[8192], key[32];
    memset(val, 'a' + id % 26, sizeof val);
    for (int i = 0; i < 25; i++) {
        int n = snprintf(key, sizeof key, "c/%d-%d", id, i);
        EXPECT_INT(insert(store, key, (size_t)n, val, sizeof val, 0, NULL), FASTLY_KV_ERROR_OK);
        EXPECT_INT(insert(store, SC("c-shared"), val, sizeof val, 0, NULL), FASTLY_KV_ERROR_OK);
        got g = lookup(store, SC("c-shared"));
        EXPECT_INT(g.len, sizeof val);
        int whole = 1;
        for (size_t k = 1; k < g.len; k++)
            whole &= big[k] == big[0];
        EXPECT(whole);
        fastly_kv_list_config c = {.prefix = "c/", .prefix_len = 2};
        EXPECT_INT(list(store, FASTLY_KV_LIST_CONFIG_OPTIONS_PREFIX, &c), FASTLY_KV_ERROR_OK);
        EXPECT(strncmp(big, "{\"data\":[\"c/", 12) == 0);
    }
}

int main(int argc, char **argv)
{
    const char *mode = argc > 1 ? argv[1] : "";
    if (strncmp(mode, "conc:", 5) == 0) {
        conc((int)strtol(mode + 5, NULL, 10));
        return hc_done();
    }
    if (strcmp(mode, "persist-write") == 0) {
        EXPECT_ST(fastly_kv_store_open(SC("store"), &store), ST_OK);
        EXPECT_INT(insert(store, SC("seed"), SC("changed"), 0, NULL), FASTLY_KV_ERROR_OK);
        fastly_kv_insert_config m = {.metadata = "pm", .metadata_len = 2};
        EXPECT_INT(
            insert(store, SC("p/1"), SC("kept"), FASTLY_KV_INSERT_CONFIG_OPTIONS_METADATA, &m),
            FASTLY_KV_ERROR_OK);
        EXPECT_INT(del(store, SC("meta")), FASTLY_KV_ERROR_OK);
        return hc_done();
    }
    if (strcmp(mode, "persist-read") == 0) {
        EXPECT_ST(fastly_kv_store_open(SC("store"), &store), ST_OK);
        got g = lookup(store, SC("seed"));
        EXPECT_BYTES(big, g.len, "changed"); /* the database wins over the seed data */
        g = lookup(store, SC("p/1"));
        EXPECT_BYTES(big, g.len, "kept");
        EXPECT_BYTES(g.meta, g.meta_len, "pm");
        g = lookup(store, SC("meta"));
        EXPECT_INT(g.err, FASTLY_KV_ERROR_NOT_FOUND); /* a deleted seed entry stays deleted */
        return hc_done();
    }
    test_open();
    test_lookup();
    test_keys();
    test_insert();
    test_delete();
    test_list();
    test_select();
    test_ttl();
    return hc_done();
}
