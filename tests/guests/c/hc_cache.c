/* hc_cache.c: test guest for fastly_cache (the core cache API) and fastly_purge: every function
 * with its error paths, transactions with busy handles, streaming a body while it is written,
 * ranges, vary, replace, purges. Run by tests/unit/hostcalls/test_hc_cache.c against a fresh
 * cache. */
#include "hc_check.h"

#include <stdlib.h>

#define SEC 1000000000ull
#define KEY(s) (const uint8_t *)(s), (sizeof(s) - 1)

static fastly_cache_lookup_options lk;
static fastly_cache_write_options wo;
static fastly_cache_get_body_options gb;
static uint64_t u64;
static uint32_t u32;

static void reset_write(uint64_t max_age)
{
    memset(&wo, 0, sizeof wo);
    wo.max_age_ns = max_age;
}

/* Writes `s` into a new cache insert of `key` with the current write options and mask. */
static void insert(const uint8_t *key, size_t key_len, uint32_t mask, const char *s)
{
    fastly_body_handle b = BAD_HANDLE;
    size_t n;
    EXPECT_ST(fastly_cache_insert(key, key_len, mask, &wo, &b), ST_OK);
    EXPECT_ST(fastly_http_body_write(b, (const uint8_t *)s, strlen(s), 0, &n), ST_OK);
    EXPECT_ST(fastly_http_body_close(b), ST_OK);
}

static char rbuf[4096];

/* Reads the whole body (closing it) into rbuf; returns its length. */
static size_t read_all(fastly_body_handle b)
{
    size_t total = 0, n;
    while (fastly_http_body_read(b, (uint8_t *)rbuf + total, sizeof rbuf - total, &n) == ST_OK &&
           n > 0)
        total += n;
    fastly_http_body_close(b);
    return total;
}

static uint32_t state_of(fastly_cache_handle h)
{
    uint32_t st = 0xdead;
    EXPECT_ST(fastly_cache_get_state(h, &st), ST_OK);
    return st;
}

#define FOUND FASTLY_CACHE_LOOKUP_STATE_FOUND
#define USABLE FASTLY_CACHE_LOOKUP_STATE_USABLE
#define STALE FASTLY_CACHE_LOOKUP_STATE_STALE
#define MUST FASTLY_CACHE_LOOKUP_STATE_MUST_INSERT_OR_UPDATE
#define W(x) FASTLY_CACHE_WRITE_OPTIONS_MASK_##x

static void test_miss_and_getters(void)
{
    fastly_cache_handle h;
    /* covers: fastly_cache.lookup, fastly_cache.get_state, fastly_cache.close */
    EXPECT_ST(fastly_cache_lookup(KEY("missing"), 0, &lk, &h), ST_OK);
    EXPECT_INT(state_of(h), 0);
    fastly_body_handle b;
    EXPECT_ST(fastly_cache_get_body(h, 0, &gb, &b), ST_NONE);
    EXPECT_ST(fastly_cache_get_length(h, &u64), ST_NONE);
    EXPECT_ST(fastly_cache_get_max_age_ns(h, &u64), ST_NONE);
    EXPECT_ST(fastly_cache_get_age_ns(h, &u64), ST_NONE);
    EXPECT_ST(fastly_cache_get_hits(h, &u64), ST_NONE);
    EXPECT_ST(fastly_cache_get_stale_while_revalidate_ns(h, &u64), ST_NONE);
    size_t n;
    EXPECT_ST(fastly_cache_get_user_metadata(h, (uint8_t *)rbuf, 10, &n), ST_NONE);
    EXPECT_ST(fastly_cache_close(h), ST_OK);
    EXPECT_ST(fastly_cache_close(h), ST_BADF);
    EXPECT_ST(fastly_cache_get_state(h, &u32), ST_BADF);
    EXPECT_ST(fastly_cache_get_state(BAD_HANDLE, &u32), ST_BADF);
    /* lookup errors */
    static uint8_t big[4097];
    EXPECT_ST(fastly_cache_lookup(big, sizeof big, 0, &lk, &h), ST_INVAL);
    EXPECT_ST(fastly_cache_lookup(big, 4096, 0, &lk, &h), ST_OK);
    fastly_cache_close(h);
    EXPECT_ST(fastly_cache_lookup(BAD_PTR, 4, 0, &lk, &h), ST_INVAL);
    EXPECT_ST(fastly_cache_lookup(KEY("k"), 0, BAD_PTR, &h), ST_INVAL);
    EXPECT_ST(fastly_cache_lookup(KEY("k"), 0, &lk, BAD_PTR), ST_INVAL);
    EXPECT_ST(fastly_cache_lookup(KEY("k"), 1u << 9, &lk, &h), ST_INVAL);
    EXPECT_ST(fastly_cache_lookup(KEY("k"), FASTLY_CACHE_LOOKUP_OPTIONS_MASK_RESERVED, &lk, &h),
              ST_UNSUPPORTED);
    EXPECT_ST(fastly_cache_lookup(KEY("k"), FASTLY_CACHE_LOOKUP_OPTIONS_MASK_SERVICE_ID, &lk, &h),
              ST_UNSUPPORTED);
    lk.request_headers = BAD_HANDLE;
    EXPECT_ST(
        fastly_cache_lookup(KEY("k"), FASTLY_CACHE_LOOKUP_OPTIONS_MASK_REQUEST_HEADERS, &lk, &h),
        ST_BADF);
}

static void test_insert_and_read(void)
{
    /* covers: fastly_cache.insert, fastly_cache.get_user_metadata, fastly_cache.get_body */
    /* covers: fastly_cache.get_length, fastly_cache.get_max_age_ns, fastly_cache.get_age_ns */
    /* covers: fastly_cache.get_hits, fastly_cache.get_stale_while_revalidate_ns */
    reset_write(60 * SEC);
    wo.user_metadata_ptr = (uint8_t *)"meta";
    wo.user_metadata_len = 4;
    wo.surrogate_keys_ptr = "sk1 sk2";
    wo.surrogate_keys_len = 7;
    wo.length = 11;
    wo.initial_age_ns = 1 * SEC;
    wo.stale_while_revalidate_ns = 5 * SEC;
    insert(KEY("obj"),
           W(USER_METADATA) | W(SURROGATE_KEYS) | W(LENGTH) | W(INITIAL_AGE_NS) |
               W(STALE_WHILE_REVALIDATE_NS),
           "hello world");
    fastly_cache_handle h;
    EXPECT_ST(fastly_cache_lookup(KEY("obj"), 0, &lk, &h), ST_OK);
    EXPECT_INT(state_of(h), FOUND | USABLE);
    size_t n = 0;
    EXPECT_ST(fastly_cache_get_user_metadata(h, (uint8_t *)rbuf, 2, &n), ST_BUFLEN);
    EXPECT_INT(n, 4);
    EXPECT_ST(fastly_cache_get_user_metadata(h, (uint8_t *)rbuf, sizeof rbuf, &n), ST_OK);
    EXPECT_BYTES(rbuf, n, "meta");
    EXPECT_ST(fastly_cache_get_user_metadata(h, BAD_PTR, 100, &n), ST_INVAL);
    EXPECT_ST(fastly_cache_get_length(h, &u64), ST_OK);
    EXPECT_INT(u64, 11);
    EXPECT_ST(fastly_cache_get_max_age_ns(h, &u64), ST_OK);
    EXPECT_INT(u64, 60 * SEC);
    EXPECT_ST(fastly_cache_get_stale_while_revalidate_ns(h, &u64), ST_OK);
    EXPECT_INT(u64, 5 * SEC);
    EXPECT_ST(fastly_cache_get_age_ns(h, &u64), ST_OK);
    EXPECT(u64 >= 1 * SEC && u64 < 60 * SEC);
    EXPECT_ST(fastly_cache_get_hits(h, &u64), ST_OK);
    EXPECT_INT(u64, 1);
    EXPECT_ST(fastly_cache_get_age_ns(h, MISALIGNED), ST_BADALIGN);
    fastly_body_handle b, b2;
    EXPECT_ST(fastly_cache_get_body(h, 0, &gb, &b), ST_OK);
    /* only one body of a handle may be open */
    EXPECT_ST(fastly_cache_get_body(h, 0, &gb, &b2), ST_BADF);
    size_t len = read_all(b);
    EXPECT_BYTES(rbuf, len, "hello world");
    /* ranges: from; from+to (inclusive); to alone counts from the end; invalid: whole body */
    gb.from = 6;
    EXPECT_ST(fastly_cache_get_body(h, FASTLY_CACHE_GET_BODY_OPTIONS_MASK_FROM, &gb, &b), ST_OK);
    len = read_all(b);
    EXPECT_BYTES(rbuf, len, "world");
    gb.from = 0;
    gb.to = 4;
    EXPECT_ST(fastly_cache_get_body(h,
                                    FASTLY_CACHE_GET_BODY_OPTIONS_MASK_FROM |
                                        FASTLY_CACHE_GET_BODY_OPTIONS_MASK_TO,
                                    &gb, &b),
              ST_OK);
    len = read_all(b);
    EXPECT_BYTES(rbuf, len, "hello");
    gb.to = 5;
    EXPECT_ST(fastly_cache_get_body(h, FASTLY_CACHE_GET_BODY_OPTIONS_MASK_TO, &gb, &b), ST_OK);
    len = read_all(b);
    EXPECT_BYTES(rbuf, len, "world");
    gb.from = 100;
    EXPECT_ST(fastly_cache_get_body(h, FASTLY_CACHE_GET_BODY_OPTIONS_MASK_FROM, &gb, &b), ST_OK);
    len = read_all(b);
    EXPECT_BYTES(rbuf, len, "hello world");
    EXPECT_ST(fastly_cache_get_body(h, 1u << 5, &gb, &b), ST_INVAL);
    EXPECT_ST(fastly_cache_get_body(h, FASTLY_CACHE_GET_BODY_OPTIONS_MASK_RESERVED, &gb, &b),
              ST_UNSUPPORTED);
    EXPECT_ST(fastly_cache_get_body(h, 0, BAD_PTR, &b), ST_INVAL);
    EXPECT_ST(fastly_cache_close(h), ST_OK);
    /* a second lookup counts a second hit */
    EXPECT_ST(fastly_cache_lookup(KEY("obj"), 0, &lk, &h), ST_OK);
    EXPECT_ST(fastly_cache_get_hits(h, &u64), ST_OK);
    EXPECT_INT(u64, 2);
    fastly_cache_close(h);
}

static void test_insert_errors(void)
{
    fastly_body_handle b;
    reset_write(SEC);
    static uint8_t big[4097];
    EXPECT_ST(fastly_cache_insert(big, sizeof big, 0, &wo, &b), ST_INVAL);
    EXPECT_ST(fastly_cache_insert(KEY("e"), 0, BAD_PTR, &b), ST_INVAL);
    EXPECT_ST(fastly_cache_insert(KEY("e"), 0, (fastly_cache_write_options *)MISALIGNED, &b),
              ST_BADALIGN);
    EXPECT_ST(fastly_cache_insert(KEY("e"), 1u << 20, &wo, &b), ST_INVAL);
    EXPECT_ST(fastly_cache_insert(KEY("e"), W(RESERVED), &wo, &b), ST_UNSUPPORTED);
    EXPECT_ST(fastly_cache_insert(KEY("e"), W(SERVICE_ID), &wo, &b), ST_UNSUPPORTED);
    wo.edge_max_age_ns = 2 * SEC;
    EXPECT_ST(fastly_cache_insert(KEY("e"), W(EDGE_MAX_AGE_NS), &wo, &b), ST_INVAL);
    wo.surrogate_keys_ptr = "ok bad\x01";
    wo.surrogate_keys_len = 7;
    EXPECT_ST(fastly_cache_insert(KEY("e"), W(SURROGATE_KEYS), &wo, &b), ST_INVAL);
    wo.vary_rule_ptr = "Accept bad:name";
    wo.vary_rule_len = 15;
    EXPECT_ST(fastly_cache_insert(KEY("e"), W(VARY_RULE), &wo, &b), ST_ERROR);
    wo.vary_rule_ptr = BAD_PTR;
    EXPECT_ST(fastly_cache_insert(KEY("e"), W(VARY_RULE), &wo, &b), ST_INVAL);
    wo.request_headers = BAD_HANDLE;
    EXPECT_ST(fastly_cache_insert(KEY("e"), W(REQUEST_HEADERS), &wo, &b), ST_BADF);
    EXPECT_ST(fastly_cache_insert(KEY("e"), 0, &wo, BAD_PTR), ST_INVAL);
    /* an abandoned insert body is not stored; a declared length not met neither */
    reset_write(60 * SEC);
    size_t n;
    EXPECT_ST(fastly_cache_insert(KEY("abandoned"), 0, &wo, &b), ST_OK);
    EXPECT_ST(fastly_http_body_write(b, S("partial"), 0, &n), ST_OK);
    /* front writes into the cache are not possible */
    EXPECT_ST(fastly_http_body_write(b, S("x"), 1, &n), ST_BADF);
    EXPECT_ST(fastly_http_body_abandon(b), ST_OK);
    fastly_cache_handle h;
    EXPECT_ST(fastly_cache_lookup(KEY("abandoned"), 0, &lk, &h), ST_OK);
    EXPECT_INT(state_of(h), 0);
    fastly_cache_close(h);
    wo.length = 100;
    insert(KEY("short"), W(LENGTH), "too short");
    EXPECT_ST(fastly_cache_lookup(KEY("short"), 0, &lk, &h), ST_OK);
    EXPECT_INT(state_of(h), 0);
    fastly_cache_close(h);
    /* append into an insert body */
    reset_write(60 * SEC);
    fastly_body_handle src;
    EXPECT_ST(fastly_cache_insert(KEY("appended"), 0, &wo, &b), ST_OK);
    fastly_http_body_new(&src);
    fastly_http_body_write(src, S("from another body"), 0, &n);
    EXPECT_ST(fastly_http_body_append(b, src), ST_OK);
    EXPECT_ST(fastly_http_body_close(b), ST_OK);
    EXPECT_ST(fastly_http_body_close(b), ST_BADF);
    EXPECT_ST(fastly_cache_lookup(KEY("appended"), 0, &lk, &h), ST_OK);
    fastly_body_handle rb;
    EXPECT_ST(fastly_cache_get_body(h, 0, &gb, &rb), ST_OK);
    size_t len = read_all(rb);
    EXPECT_BYTES(rbuf, len, "from another body");
    fastly_cache_close(h);
}

static void test_transactions(void)
{
    /* covers: fastly_cache.transaction_lookup, fastly_cache.transaction_lookup_async */
    /* covers: fastly_cache.cache_busy_handle_wait, fastly_cache.close_busy */
    /* covers: fastly_cache.transaction_insert_and_stream_back, fastly_cache.transaction_insert */
    fastly_cache_handle h1, h3, back;
    fastly_cache_busy_handle busy;
    EXPECT_ST(fastly_cache_transaction_lookup(KEY("txn"), 0, &lk, &h1), ST_OK);
    EXPECT_INT(state_of(h1), MUST);
    EXPECT_ST(fastly_cache_transaction_lookup_async(KEY("txn"), 0, &lk, &busy), ST_OK);
    EXPECT_ST(fastly_async_io_is_ready(busy, &u32), ST_OK);
    EXPECT_INT(u32, 0); /* collapsed behind h1 */
    EXPECT_ST(fastly_async_io_select(&busy, 1, 1, &u32), ST_OK);
    EXPECT_INT(u32, 0xFFFFFFFFu); /* times out */
    reset_write(60 * SEC);
    wo.request_headers = 0;
    fastly_body_handle wb;
    EXPECT_ST(
        fastly_cache_transaction_insert_and_stream_back(h1, W(REQUEST_HEADERS), &wo, &wb, &back),
        ST_INVAL);
    EXPECT_ST(fastly_cache_transaction_insert_and_stream_back(h1, 0, &wo, &wb, &back), ST_OK);
    EXPECT_INT(state_of(back), FOUND | USABLE);
    EXPECT_INT(state_of(h1), 0); /* the obligation is spent */
    size_t n;
    EXPECT_ST(fastly_http_body_write(wb, S("abc"), 0, &n), ST_OK);
    EXPECT_ST(fastly_async_io_is_ready(busy, &u32), ST_OK);
    EXPECT_INT(u32, 1);
    EXPECT_ST(fastly_cache_cache_busy_handle_wait(busy, &h3), ST_OK);
    EXPECT_INT(state_of(h3), FOUND | USABLE);
    EXPECT_ST(fastly_cache_get_length(h3, &u64), ST_NONE); /* still being written, no length */
    /* the reader streams what is there while the writer is still writing */
    fastly_body_handle rb;
    EXPECT_ST(fastly_cache_get_body(h3, 0, &gb, &rb), ST_OK);
    EXPECT_ST(fastly_http_body_read(rb, (uint8_t *)rbuf, sizeof rbuf, &n), ST_OK);
    EXPECT_BYTES(rbuf, n, "abc");
    EXPECT_ST(fastly_http_body_write(wb, S("def"), 0, &n), ST_OK);
    EXPECT_ST(fastly_http_body_close(wb), ST_OK);
    EXPECT_ST(fastly_http_body_read(rb, (uint8_t *)rbuf, sizeof rbuf, &n), ST_OK);
    EXPECT_BYTES(rbuf, n, "def");
    EXPECT_ST(fastly_http_body_read(rb, (uint8_t *)rbuf, sizeof rbuf, &n), ST_OK);
    EXPECT_INT(n, 0);
    fastly_http_body_close(rb);
    EXPECT_ST(fastly_cache_get_length(h3, &u64), ST_OK);
    EXPECT_INT(u64, 6);
    /* the busy handle is an empty stub now */
    EXPECT_INT(state_of(busy), 0);
    EXPECT_ST(fastly_cache_close_busy(busy), ST_OK);
    EXPECT_ST(fastly_cache_close_busy(busy), ST_BADF);
    /* no obligation any more */
    EXPECT_ST(fastly_cache_transaction_insert(h1, 0, &wo, &wb), ST_BADF);
    EXPECT_ST(fastly_cache_transaction_update(h1, 0, &wo), ST_BADF);
    EXPECT_ST(fastly_cache_transaction_cancel(h1), ST_BADF);
    EXPECT_ST(fastly_cache_transaction_insert(BAD_HANDLE, 0, &wo, &wb), ST_BADF);
    fastly_cache_close(h1);
    fastly_cache_close(h3);
    fastly_cache_close(back);
    /* a fresh object: a transaction finds it with no obligation */
    EXPECT_ST(fastly_cache_transaction_lookup(KEY("txn"), 0, &lk, &h1), ST_OK);
    EXPECT_INT(state_of(h1), FOUND | USABLE);
    fastly_cache_close(h1);
    /* transaction_insert gives a body only */
    EXPECT_ST(fastly_cache_transaction_lookup(KEY("txn2"), 0, &lk, &h1), ST_OK);
    EXPECT_ST(fastly_cache_transaction_insert(h1, 0, &wo, &wb), ST_OK);
    fastly_http_body_write(wb, S("two"), 0, &n);
    fastly_http_body_close(wb);
    fastly_cache_close(h1);
    EXPECT_ST(fastly_cache_lookup(KEY("txn2"), 0, &lk, &h1), ST_OK);
    EXPECT_ST(fastly_cache_get_body(h1, 0, &gb, &rb), ST_OK);
    size_t len = read_all(rb);
    EXPECT_BYTES(rbuf, len, "two");
    fastly_cache_close(h1);
}

static void test_cancel_and_close_hand_over(void)
{
    /* covers: fastly_cache.transaction_cancel */
    fastly_cache_handle h1, h2;
    fastly_cache_busy_handle busy;
    EXPECT_ST(fastly_cache_transaction_lookup(KEY("cancel"), 0, &lk, &h1), ST_OK);
    EXPECT_ST(fastly_cache_transaction_lookup_async(KEY("cancel"), 0, &lk, &busy), ST_OK);
    EXPECT_ST(fastly_async_io_is_ready(busy, &u32), ST_OK);
    EXPECT_INT(u32, 0);
    EXPECT_ST(fastly_cache_transaction_cancel(h1), ST_OK);
    EXPECT_ST(fastly_cache_transaction_cancel(h1), ST_BADF);
    /* the waiter gets the obligation */
    EXPECT_ST(fastly_async_io_select(&busy, 1, 0, &u32), ST_OK);
    EXPECT_INT(u32, 0);
    EXPECT_ST(fastly_cache_cache_busy_handle_wait(busy, &h2), ST_OK);
    EXPECT_INT(state_of(h2), MUST);
    /* closing with an obligation hands it on too */
    EXPECT_ST(fastly_cache_close(h2), ST_OK);
    EXPECT_ST(fastly_cache_transaction_lookup(KEY("cancel"), 0, &lk, &h2), ST_OK);
    EXPECT_INT(state_of(h2), MUST);
    fastly_cache_close(h2);
    fastly_cache_close(h1);
    fastly_cache_close_busy(busy);
}

static void test_self_wait(void)
{
    /* a second blocking transaction on a key this request must insert would wait forever: it
     * ends empty instead (with a line in the log) */
    fastly_cache_handle h1, h2;
    EXPECT_ST(fastly_cache_transaction_lookup(KEY("self"), 0, &lk, &h1), ST_OK);
    EXPECT_INT(state_of(h1), MUST);
    EXPECT_ST(fastly_cache_transaction_lookup(KEY("self"), 0, &lk, &h2), ST_OK);
    EXPECT_INT(state_of(h2), 0);
    fastly_cache_close(h2);
    fastly_cache_close(h1);
}

static void test_stale_and_update(void)
{
    /* covers: fastly_cache.transaction_update */
    reset_write(1 * SEC);
    wo.initial_age_ns = 5 * SEC;
    wo.stale_while_revalidate_ns = 60 * SEC;
    insert(KEY("stale"), W(INITIAL_AGE_NS) | W(STALE_WHILE_REVALIDATE_NS), "old body");
    fastly_cache_handle h1, h2;
    EXPECT_ST(fastly_cache_transaction_lookup(KEY("stale"), 0, &lk, &h1), ST_OK);
    EXPECT_INT(state_of(h1), FOUND | USABLE | STALE | MUST);
    EXPECT_ST(fastly_cache_transaction_lookup(KEY("stale"), 0, &lk, &h2), ST_OK);
    EXPECT_INT(state_of(h2), FOUND | USABLE | STALE); /* one revalidation only */
    fastly_cache_close(h2);
    reset_write(100 * SEC);
    EXPECT_ST(fastly_cache_transaction_update(h1, W(REQUEST_HEADERS), &wo), ST_INVAL);
    EXPECT_ST(fastly_cache_transaction_update(h1, 0, &wo), ST_OK);
    EXPECT_ST(fastly_cache_transaction_update(h1, 0, &wo), ST_BADF);
    fastly_cache_close(h1);
    EXPECT_ST(fastly_cache_lookup(KEY("stale"), 0, &lk, &h1), ST_OK);
    EXPECT_INT(state_of(h1), FOUND | USABLE);
    EXPECT_ST(fastly_cache_get_max_age_ns(h1, &u64), ST_OK);
    EXPECT_INT(u64, 100 * SEC);
    fastly_body_handle rb;
    EXPECT_ST(fastly_cache_get_body(h1, 0, &gb, &rb), ST_OK);
    size_t len = read_all(rb);
    EXPECT_BYTES(rbuf, len, "old body");
    fastly_cache_close(h1);
    /* expired past its SWR window: a plain lookup still sees it, but not as found */
    reset_write(1 * SEC);
    wo.initial_age_ns = 5 * SEC;
    insert(KEY("expired"), W(INITIAL_AGE_NS), "x");
    EXPECT_ST(fastly_cache_lookup(KEY("expired"), 0, &lk, &h1), ST_OK);
    EXPECT_INT(state_of(h1), 0);
    fastly_cache_close(h1);
    /* update needs a stale object: not on a plain miss */
    EXPECT_ST(fastly_cache_transaction_lookup(KEY("expired"), 0, &lk, &h1), ST_OK);
    EXPECT_INT(state_of(h1), MUST);
    EXPECT_ST(fastly_cache_transaction_update(h1, 0, &wo), ST_BADF);
    EXPECT_INT(state_of(h1), MUST); /* the obligation stays */
    fastly_cache_close(h1);
}

static void test_vary(void)
{
    fastly_request_handle en, fr;
    fastly_http_req_new(&en);
    fastly_http_req_new(&fr);
    fastly_http_req_header_insert(en, S("X-Lang"), S("en"));
    fastly_http_req_header_insert(fr, S("x-lang"), S("fr"));
    reset_write(60 * SEC);
    wo.request_headers = en;
    wo.vary_rule_ptr = "X-Lang";
    wo.vary_rule_len = 6;
    insert(KEY("vary"), W(REQUEST_HEADERS) | W(VARY_RULE), "english");
    fastly_cache_handle h;
    lk.request_headers = en;
    EXPECT_ST(
        fastly_cache_lookup(KEY("vary"), FASTLY_CACHE_LOOKUP_OPTIONS_MASK_REQUEST_HEADERS, &lk, &h),
        ST_OK);
    EXPECT_INT(state_of(h), FOUND | USABLE);
    fastly_cache_close(h);
    lk.request_headers = fr;
    EXPECT_ST(
        fastly_cache_lookup(KEY("vary"), FASTLY_CACHE_LOOKUP_OPTIONS_MASK_REQUEST_HEADERS, &lk, &h),
        ST_OK);
    EXPECT_INT(state_of(h), 0);
    fastly_cache_close(h);
    EXPECT_ST(fastly_cache_lookup(KEY("vary"), 0, &lk, &h), ST_OK);
    EXPECT_INT(state_of(h), 0);
    fastly_cache_close(h);
    /* a transaction for the other variant must insert it, not wait */
    EXPECT_ST(fastly_cache_transaction_lookup(
                  KEY("vary"), FASTLY_CACHE_LOOKUP_OPTIONS_MASK_REQUEST_HEADERS, &lk, &h),
              ST_OK);
    EXPECT_INT(state_of(h), MUST);
    fastly_cache_close(h);
}

static void test_replace(void)
{
    /* covers: fastly_cache.replace, fastly_cache.replace_insert, fastly_cache.replace_get_state */
    /* covers: fastly_cache.replace_get_body, fastly_cache.replace_get_user_metadata */
    /* covers: fastly_cache.replace_get_length, fastly_cache.replace_get_age_ns */
    /* covers: fastly_cache.replace_get_hits, fastly_cache.replace_get_max_age_ns */
    /* covers: fastly_cache.replace_get_stale_while_revalidate_ns */
    fastly_cache_replace_options ro;
    memset(&ro, 0, sizeof ro);
    fastly_cache_replace_handle r;
    EXPECT_ST(fastly_cache_replace(KEY("obj"), 0, &ro, &r), ST_OK);
    EXPECT_ST(fastly_cache_replace_get_state(r, &u32), ST_OK);
    EXPECT_INT(u32, FOUND | USABLE);
    size_t n;
    EXPECT_ST(fastly_cache_replace_get_user_metadata(r, (uint8_t *)rbuf, sizeof rbuf, &n), ST_OK);
    EXPECT_BYTES(rbuf, n, "meta");
    EXPECT_ST(fastly_cache_replace_get_length(r, &u64), ST_OK);
    EXPECT_INT(u64, 11);
    EXPECT_ST(fastly_cache_replace_get_max_age_ns(r, &u64), ST_OK);
    EXPECT_INT(u64, 60 * SEC);
    EXPECT_ST(fastly_cache_replace_get_stale_while_revalidate_ns(r, &u64), ST_OK);
    EXPECT_INT(u64, 5 * SEC);
    EXPECT_ST(fastly_cache_replace_get_age_ns(r, &u64), ST_OK);
    EXPECT(u64 >= SEC);
    EXPECT_ST(fastly_cache_replace_get_hits(r, &u64), ST_OK);
    EXPECT(u64 >= 1);
    fastly_body_handle b;
    EXPECT_ST(fastly_cache_replace_get_body(r, 0, &gb, &b), ST_OK);
    size_t len = read_all(b);
    EXPECT_BYTES(rbuf, len, "hello world");
    /* a replace handle is not a cache handle and back */
    EXPECT_ST(fastly_cache_get_state(r, &u32), ST_BADF);
    EXPECT_ST(fastly_cache_close(r), ST_BADF);
    reset_write(60 * SEC);
    EXPECT_ST(fastly_cache_replace_insert(r, 0, &wo, &b), ST_OK);
    fastly_http_body_write(b, S("replaced"), 0, &n);
    EXPECT_ST(fastly_http_body_close(b), ST_OK);
    fastly_cache_handle h;
    EXPECT_ST(fastly_cache_lookup(KEY("obj"), 0, &lk, &h), ST_OK);
    EXPECT_ST(fastly_cache_get_body(h, 0, &gb, &b), ST_OK);
    len = read_all(b);
    EXPECT_BYTES(rbuf, len, "replaced");
    fastly_cache_close(h);
    /* nothing stored: none from every getter */
    EXPECT_ST(fastly_cache_replace(KEY("nothing"), 0, &ro, &r), ST_OK);
    EXPECT_ST(fastly_cache_replace_get_state(r, &u32), ST_OK);
    EXPECT_INT(u32, 0);
    EXPECT_ST(fastly_cache_replace_get_age_ns(r, &u64), ST_NONE);
    EXPECT_ST(fastly_cache_replace_get_body(r, 0, &gb, &b), ST_NONE);
    EXPECT_ST(fastly_cache_replace_get_user_metadata(r, (uint8_t *)rbuf, 4, &n), ST_NONE);
    ro.replace_strategy = 9;
    EXPECT_ST(
        fastly_cache_replace(KEY("x"), FASTLY_CACHE_REPLACE_OPTIONS_MASK_REPLACE_STRATEGY, &ro, &r),
        ST_INVAL);
    EXPECT_ST(fastly_cache_replace(KEY("x"), FASTLY_CACHE_REPLACE_OPTIONS_MASK_SERVICE_ID, &ro, &r),
              ST_UNSUPPORTED);
    EXPECT_ST(fastly_cache_replace_insert(BAD_HANDLE, 0, &wo, &b), ST_BADF);
}

static void test_purge(void)
{
    /* covers: fastly_purge.purge_surrogate_key */
    reset_write(60 * SEC);
    wo.surrogate_keys_ptr = "hard-key";
    wo.surrogate_keys_len = 8;
    insert(KEY("p1"), W(SURROGATE_KEYS), "p1");
    wo.surrogate_keys_ptr = "soft-key";
    wo.stale_while_revalidate_ns = 60 * SEC;
    insert(KEY("p2"), W(SURROGATE_KEYS) | W(STALE_WHILE_REVALIDATE_NS), "p2");
    fastly_purge_options po;
    memset(&po, 0, sizeof po);
    EXPECT_ST(fastly_purge_purge_surrogate_key("hard-key", 8, 0, &po), ST_OK);
    fastly_cache_handle h;
    EXPECT_ST(fastly_cache_lookup(KEY("p1"), 0, &lk, &h), ST_OK);
    EXPECT_INT(state_of(h), 0);
    fastly_cache_close(h);
    EXPECT_ST(
        fastly_purge_purge_surrogate_key("soft-key", 8, FASTLY_PURGE_OPTIONS_MASK_SOFT_PURGE, &po),
        ST_OK);
    EXPECT_ST(fastly_cache_lookup(KEY("p2"), 0, &lk, &h), ST_OK);
    EXPECT_INT(state_of(h), FOUND | USABLE | STALE);
    fastly_cache_close(h);
    /* the JSON answer */
    char out[128];
    size_t n = 0;
    po.ret_buf_ptr = (uint8_t *)out;
    po.ret_buf_len = sizeof out;
    po.ret_buf_nwritten_out = &n;
    EXPECT_ST(fastly_purge_purge_surrogate_key("any", 3, FASTLY_PURGE_OPTIONS_MASK_RET_BUF, &po),
              ST_OK);
    EXPECT(n > 20 && memcmp(out, "{\"status\":\"ok\",\"id\":\"", 21) == 0);
    po.ret_buf_len = 4;
    EXPECT_ST(fastly_purge_purge_surrogate_key("any", 3, FASTLY_PURGE_OPTIONS_MASK_RET_BUF, &po),
              ST_BUFLEN);
    EXPECT(n > 20);
    EXPECT_ST(fastly_purge_purge_surrogate_key("", 0, 0, &po), ST_INVAL);
    EXPECT_ST(fastly_purge_purge_surrogate_key("a b", 3, 0, &po), ST_INVAL);
    EXPECT_ST(fastly_purge_purge_surrogate_key(BAD_PTR, 3, 0, &po), ST_INVAL);
    EXPECT_ST(fastly_purge_purge_surrogate_key("k", 1, 1u << 7, &po), ST_INVAL);
}

int main(void)
{
    test_miss_and_getters();
    test_insert_and_read();
    test_insert_errors();
    test_transactions();
    test_cancel_and_close_hand_over();
    test_self_wait();
    test_stale_and_update();
    test_vary();
    test_replace();
    test_purge();
    return hc_done();
}
