/* hc_kv_legacy.c: test guest for the legacy fastly_object_store module, over the same stores as
 * hc_kv.c ("store" seeded with "seed" = "seed-value", and "empty"). Run by
 * tests/unit/hostcalls/test_hc_kv.c. argv[1] "none": no stores are configured. */
#include "hc_check.h"

#define SC(lit) (lit), (sizeof(lit) - 1)
#define NOBODY 0xFFFFFFFFu

static char buf[256];

static fastly_body_handle body_of(const char *s, size_t n)
{
    fastly_body_handle b = NOBODY;
    size_t nw;
    EXPECT_ST(fastly_http_body_new(&b), ST_OK);
    EXPECT_ST(fastly_http_body_write(b, (const uint8_t *)s, n, FASTLY_BODY_WRITE_END_BACK, &nw),
              ST_OK);
    return b;
}

static size_t read_body(fastly_body_handle b)
{
    size_t len = 0, n;
    while (fastly_http_body_read(b, (uint8_t *)buf + len, sizeof buf - 1 - len, &n) == ST_OK &&
           n > 0)
        len += n;
    return len;
}

int main(int argc, char **argv)
{
    fastly_object_store_handle s = NOBODY, e = NOBODY;
    if (argc > 1 && strcmp(argv[1], "none") == 0) {
        EXPECT_ST(fastly_object_store_open(SC("store"), &s), ST_INVAL);
        EXPECT_ST(fastly_kv_store_open(SC("store"), &s), ST_INVAL);
        return hc_done();
    }
    /* covers: fastly_object_store.open */
    EXPECT_ST(fastly_object_store_open(SC("store"), &s), ST_OK);
    EXPECT_ST(fastly_object_store_open(SC("empty"), &e), ST_OK);
    fastly_object_store_handle h = NOBODY;
    EXPECT_ST(fastly_object_store_open(SC("nope"), &h), ST_INVAL);
    EXPECT_ST(fastly_object_store_open(BAD_PTR, 3, &h), ST_INVAL);
    EXPECT_ST(fastly_object_store_open(SC("store"), BAD_PTR), ST_INVAL);

    /* covers: fastly_object_store.lookup */
    fastly_body_handle b = NOBODY;
    EXPECT_ST(fastly_object_store_lookup(s, SC("seed"), &b), ST_OK);
    EXPECT_BYTES(buf, read_body(b), "seed-value");
    b = NOBODY;
    EXPECT_ST(fastly_object_store_lookup(s, SC("missing"), &b),
              ST_OK); /* absent: nothing written */
    EXPECT_INT(b, NOBODY);
    EXPECT_ST(fastly_object_store_lookup(e, SC("seed"), &b), ST_OK);
    EXPECT_INT(b, NOBODY);
    EXPECT_ST(fastly_object_store_lookup(s, SC("a#b"), &b), ST_ERROR); /* a bad key: error here */
    EXPECT_ST(fastly_object_store_lookup(s, SC(""), &b), ST_ERROR);
    EXPECT_ST(fastly_object_store_lookup(BAD_HANDLE, SC("seed"), &b), ST_BADF);
    EXPECT_ST(fastly_object_store_lookup(s, BAD_PTR, 4, &b), ST_INVAL);
    EXPECT_ST(fastly_object_store_lookup(s, SC("seed"), BAD_PTR), ST_INVAL);

    /* covers: fastly_object_store.insert */
    EXPECT_ST(fastly_object_store_insert(s, SC("o1"), body_of(SC("one"))), ST_OK);
    EXPECT_ST(fastly_object_store_lookup(s, SC("o1"), &b), ST_OK);
    EXPECT_BYTES(buf, read_body(b), "one");
    EXPECT_ST(fastly_object_store_insert(s, SC("o1"), body_of(SC("two"))), ST_OK); /* overwrite */
    EXPECT_ST(fastly_object_store_lookup(s, SC("o1"), &b), ST_OK);
    EXPECT_BYTES(buf, read_body(b), "two");
    EXPECT_ST(fastly_object_store_insert(s, SC("o1"), BAD_HANDLE), ST_BADF);
    EXPECT_ST(fastly_object_store_insert(s, SC("a|b"), body_of(SC("x"))), ST_ERROR);
    EXPECT_ST(fastly_object_store_insert(BAD_HANDLE, SC("o1"), body_of(SC("x"))), ST_BADF);
    /* what the legacy module wrote, fastly_kv_store reads (same stores, same handles) */
    fastly_kv_lookup_config lc = {0};
    fastly_kv_store_lookup_handle lh;
    EXPECT_ST(fastly_kv_store_lookup(s, SC("o1"), 0, &lc, &lh), ST_OK);
    b = NOBODY;
    /* covers: fastly_object_store.pending_lookup_wait */
    EXPECT_ST(fastly_object_store_pending_lookup_wait(lh, &b), ST_OK);
    EXPECT_BYTES(buf, read_body(b), "two");

    /* covers: fastly_object_store.lookup_async */
    fastly_pending_kv_lookup_handle p = NOBODY;
    EXPECT_ST(fastly_object_store_lookup_async(s, SC("seed"), &p), ST_OK);
    uint32_t done = 0;
    EXPECT_ST(fastly_async_io_is_ready(p, &done), ST_OK);
    EXPECT_INT(done, 1);
    EXPECT_ST(fastly_object_store_pending_lookup_wait(p, BAD_PTR), ST_INVAL); /* kept for a retry */
    EXPECT_ST(fastly_object_store_pending_lookup_wait(p, &b), ST_OK);
    EXPECT_BYTES(buf, read_body(b), "seed-value");
    EXPECT_ST(fastly_object_store_pending_lookup_wait(p, &b), ST_BADF);
    EXPECT_ST(fastly_object_store_lookup_async(s, SC("missing"), &p), ST_OK);
    b = NOBODY;
    EXPECT_ST(fastly_object_store_pending_lookup_wait(p, &b), ST_OK);
    EXPECT_INT(b, NOBODY);
    EXPECT_ST(fastly_object_store_lookup_async(s, SC("."), &p), ST_ERROR);
    EXPECT_ST(fastly_object_store_lookup_async(s, SC("seed"), BAD_PTR), ST_INVAL);
    EXPECT_ST(fastly_object_store_pending_lookup_wait(BAD_HANDLE, &b), ST_BADF);

    /* covers: fastly_object_store.insert_async, fastly_object_store.pending_insert_wait */
    fastly_pending_kv_insert_handle ip = NOBODY;
    EXPECT_ST(fastly_object_store_insert_async(s, SC("o2"), body_of(SC("async")), &ip), ST_OK);
    EXPECT_ST(fastly_async_io_is_ready(ip, &done), ST_OK);
    EXPECT_ST(fastly_object_store_pending_insert_wait(ip), ST_OK);
    EXPECT_ST(fastly_object_store_pending_insert_wait(ip), ST_BADF);
    EXPECT_ST(fastly_object_store_lookup(s, SC("o2"), &b), ST_OK);
    EXPECT_BYTES(buf, read_body(b), "async");
    EXPECT_ST(fastly_object_store_insert_async(s, SC("o2"), BAD_HANDLE, &ip), ST_BADF);
    EXPECT_ST(fastly_object_store_insert_async(s, SC("o2"), body_of(SC("x")), BAD_PTR), ST_INVAL);
    EXPECT_ST(fastly_object_store_insert_async(s, SC("?"), body_of(SC("x")), &ip), ST_ERROR);
    /* a kv_store insert handle is waited on by either module */
    fastly_kv_insert_config ic = {.mode = FASTLY_KV_INSERT_MODE_ADD};
    fastly_kv_store_insert_handle kh;
    EXPECT_ST(fastly_kv_store_insert(s, SC("o2"), body_of(SC("x")), 0, &ic, &kh), ST_OK);
    EXPECT_ST(fastly_object_store_pending_insert_wait(kh), ST_INVAL); /* add over a key failed */

    /* covers: fastly_object_store.delete_async, fastly_object_store.pending_delete_wait */
    fastly_pending_kv_delete_handle dp = NOBODY;
    EXPECT_ST(fastly_object_store_delete_async(s, SC("o2"), &dp), ST_OK);
    EXPECT_ST(fastly_async_io_is_ready(dp, &done), ST_OK);
    EXPECT_INT(done, 1);
    EXPECT_ST(fastly_object_store_pending_delete_wait(dp), ST_OK);
    EXPECT_ST(fastly_object_store_pending_delete_wait(dp), ST_BADF);
    b = NOBODY;
    EXPECT_ST(fastly_object_store_lookup(s, SC("o2"), &b), ST_OK);
    EXPECT_INT(b, NOBODY);
    EXPECT_ST(fastly_object_store_delete_async(s, SC("o2"), &dp), ST_OK);
    EXPECT_ST(fastly_object_store_pending_delete_wait(dp), ST_NONE); /* nothing to delete */
    EXPECT_ST(fastly_object_store_delete_async(s, SC("^"), &dp), ST_ERROR);
    EXPECT_ST(fastly_object_store_delete_async(BAD_HANDLE, SC("o1"), &dp), ST_BADF);
    EXPECT_ST(fastly_object_store_delete_async(s, SC("o1"), BAD_PTR), ST_INVAL);
    EXPECT_ST(fastly_object_store_pending_delete_wait(BAD_HANDLE), ST_BADF);
    EXPECT_ST(fastly_object_store_pending_delete_wait(s), ST_BADF); /* a store handle */
    return hc_done();
}
