/* hc_http_cache.c: test guest for fastly_http_cache (the HTTP cache API): every function with its
 * error paths: suggested keys and options, transactions (insert, insert and stream back, update
 * from a 304, update and return fresh, choose stale, record not cacheable, abandon), found
 * responses and the getters. Run by tests/unit/hostcalls/test_hc_http_cache.c. */
#include "hc_check.h"

#define SEC 1000000000ull
#define FOUND FASTLY_CACHE_LOOKUP_STATE_FOUND
#define USABLE FASTLY_CACHE_LOOKUP_STATE_USABLE
#define STALE FASTLY_CACHE_LOOKUP_STATE_STALE
#define MUST FASTLY_CACHE_LOOKUP_STATE_MUST_INSERT_OR_UPDATE
#define IF_ERROR FASTLY_CACHE_LOOKUP_STATE_USABLE_IF_ERROR
#define HW(x) FASTLY_HTTP_CACHE_WRITE_OPTIONS_MASK_##x

static fastly_http_cache_lookup_options lo;
static fastly_http_cache_write_options wo;
static uint64_t u64;
static uint32_t u32;
static char buf[4096];

static fastly_request_handle request(const char *uri, const char *method)
{
    fastly_request_handle r;
    fastly_http_req_new(&r);
    fastly_http_req_uri_set(r, uri, strlen(uri));
    fastly_http_req_method_set(r, method, strlen(method));
    return r;
}

static fastly_response_handle response(uint16_t status, const char *cc)
{
    fastly_response_handle r;
    fastly_http_resp_new(&r);
    fastly_http_resp_status_set(r, status);
    if (cc)
        fastly_http_resp_header_insert(r, S("Cache-Control"), (const uint8_t *)cc, strlen(cc));
    return r;
}

static uint32_t state_of(fastly_http_cache_handle h)
{
    uint32_t st = 0xdead;
    EXPECT_ST(fastly_http_cache_get_state(h, &st), ST_OK);
    return st;
}

static size_t read_all(fastly_body_handle b)
{
    size_t total = 0, n;
    while (fastly_http_body_read(b, (uint8_t *)buf + total, sizeof buf - total, &n) == ST_OK &&
           n > 0)
        total += n;
    fastly_http_body_close(b);
    return total;
}

/* Looks up `key` (override) in a transaction. */
static fastly_http_cache_handle txn(fastly_request_handle req, const char *key)
{
    fastly_http_cache_handle h = BAD_HANDLE;
    lo.override_key_ptr = (char *)key;
    lo.override_key_len = key ? strlen(key) : 0;
    EXPECT_ST(fastly_http_cache_transaction_lookup(
                  req, key ? FASTLY_HTTP_CACHE_LOOKUP_OPTIONS_MASK_OVERRIDE_KEY : 0, &lo, &h),
              ST_OK);
    return h;
}

static void test_request_helpers(void)
{
    /* covers: fastly_http_cache.is_request_cacheable, fastly_http_cache.get_suggested_cache_key */
    fastly_request_handle get = request("http://example.com/page", "GET");
    fastly_request_handle post = request("http://example.com/page", "POST");
    fastly_request_handle head = request("http://example.com/page", "HEAD");
    EXPECT_ST(fastly_http_cache_is_request_cacheable(get, &u32), ST_OK);
    EXPECT_INT(u32, 1);
    EXPECT_ST(fastly_http_cache_is_request_cacheable(head, &u32), ST_OK);
    EXPECT_INT(u32, 1);
    EXPECT_ST(fastly_http_cache_is_request_cacheable(post, &u32), ST_OK);
    EXPECT_INT(u32, 0);
    EXPECT_ST(fastly_http_cache_is_request_cacheable(BAD_HANDLE, &u32), ST_BADF);
    EXPECT_ST(fastly_http_cache_is_request_cacheable(get, BAD_PTR), ST_INVAL);
    char k1[32], k2[32];
    size_t n = 0;
    EXPECT_ST(fastly_http_cache_get_suggested_cache_key(get, k1, 8, &n), ST_BUFLEN);
    EXPECT_INT(n, 32);
    EXPECT_ST(fastly_http_cache_get_suggested_cache_key(get, k1, sizeof k1, &n), ST_OK);
    EXPECT_INT(n, 32);
    EXPECT_ST(fastly_http_cache_get_suggested_cache_key(post, k2, sizeof k2, &n), ST_OK);
    EXPECT(memcmp(k1, k2, 32) == 0); /* the URL makes the key */
    fastly_request_handle other = request("http://example.com/other", "GET");
    EXPECT_ST(fastly_http_cache_get_suggested_cache_key(other, k2, sizeof k2, &n), ST_OK);
    EXPECT(memcmp(k1, k2, 32) != 0);
    EXPECT_ST(fastly_http_cache_get_suggested_cache_key(BAD_HANDLE, k2, sizeof k2, &n), ST_BADF);
}

static void test_miss_insert_and_read(void)
{
    /* covers: fastly_http_cache.lookup, fastly_http_cache.transaction_lookup */
    /* covers: fastly_http_cache.get_suggested_backend_request */
    /* covers: fastly_http_cache.get_suggested_cache_options */
    /* covers: fastly_http_cache.prepare_response_for_storage */
    /* covers: fastly_http_cache.transaction_insert_and_stream_back */
    /* covers: fastly_http_cache.get_found_response, fastly_http_cache.get_state */
    /* covers: fastly_http_cache.close */
    fastly_request_handle req = request("http://example.com/page", "GET");
    fastly_http_req_header_insert(req, S("Range"), S("bytes=0-1"));
    fastly_http_cache_handle h;
    EXPECT_ST(fastly_http_cache_lookup(req, 0, &lo, &h), ST_OK);
    EXPECT_INT(state_of(h), 0);
    fastly_response_handle fr;
    fastly_body_handle fb;
    EXPECT_ST(fastly_http_cache_get_found_response(h, 1, &fr, &fb), ST_NONE);
    EXPECT_ST(fastly_http_cache_get_length(h, &u64), ST_NONE);
    EXPECT_ST(fastly_http_cache_close(h), ST_OK);
    EXPECT_ST(fastly_http_cache_close(h), ST_BADF);

    h = txn(req, NULL);
    EXPECT_INT(state_of(h), MUST);
    /* the backend request: the same, unranged */
    fastly_request_handle breq;
    EXPECT_ST(fastly_http_cache_get_suggested_backend_request(h, &breq), ST_OK);
    size_t n = 0;
    /* absent (a missing header is inval, as Viceroy) */
    EXPECT_ST(fastly_http_req_header_value_get(breq, S("range"), buf, sizeof buf, &n), ST_INVAL);
    EXPECT_ST(fastly_http_cache_get_suggested_backend_request(BAD_HANDLE, &breq), ST_BADF);

    fastly_response_handle resp = response(200, "max-age=100, stale-while-revalidate=5");
    fastly_http_resp_header_insert(resp, S("Surrogate-Key"), S("a b"));
    fastly_http_resp_header_insert(resp, S("Vary"), S("X-Lang"));
    fastly_http_resp_header_insert(resp, S("ETag"), S("\"v1\""));
    fastly_http_resp_header_insert(resp, S("Content-Length"), S("9"));
    /* suggested options, with buffers for the vary rule and the surrogate keys */
    char vary[64], keys[64];
    fastly_http_cache_write_options in, out;
    memset(&in, 0, sizeof in);
    memset(&out, 0, sizeof out);
    in.vary_rule_ptr = vary;
    in.vary_rule_len = sizeof vary;
    in.surrogate_keys_ptr = keys;
    in.surrogate_keys_len = sizeof keys;
    uint32_t mask = HW(VARY_RULE) | HW(SURROGATE_KEYS) | HW(STALE_WHILE_REVALIDATE_NS) |
                    HW(LENGTH) | HW(INITIAL_AGE_NS) | HW(STALE_IF_ERROR_NS);
    uint32_t mask_out = 0;
    EXPECT_ST(fastly_http_cache_get_suggested_cache_options(h, resp, mask, &in, &mask_out, &out),
              ST_OK);
    EXPECT_INT(out.max_age_ns, 100 * SEC);
    EXPECT_INT(out.stale_while_revalidate_ns, 5 * SEC);
    EXPECT_INT(out.length, 9);
    EXPECT(mask_out & HW(VARY_RULE));
    EXPECT(mask_out & HW(SURROGATE_KEYS));
    EXPECT(mask_out & HW(LENGTH));
    EXPECT(out.vary_rule_ptr == vary);
    EXPECT_BYTES(vary, out.vary_rule_len, "X-Lang");
    EXPECT_BYTES(keys, out.surrogate_keys_len, "a b");
    /* a vary buffer too small: buflen, with the needed length */
    in.vary_rule_len = 2;
    EXPECT_ST(
        fastly_http_cache_get_suggested_cache_options(h, resp, HW(VARY_RULE), &in, &mask_out, &out),
        ST_BUFLEN);
    EXPECT_INT(out.vary_rule_len, 6);
    EXPECT_ST(
        fastly_http_cache_get_suggested_cache_options(h, resp, 1u << 12, &in, &mask_out, &out),
        ST_INVAL);
    EXPECT_ST(fastly_http_cache_get_suggested_cache_options(h, BAD_HANDLE, 0, &in, &mask_out, &out),
              ST_BADF);
    EXPECT_ST(fastly_http_cache_get_suggested_cache_options(h, resp, 0, BAD_PTR, &mask_out, &out),
              ST_INVAL);

    fastly_response_handle ready;
    EXPECT_ST(fastly_http_cache_prepare_response_for_storage(h, resp, &u32, &ready), ST_OK);
    EXPECT_INT(u32, FASTLY_HTTP_STORAGE_ACTION_INSERT);
    EXPECT_ST(fastly_http_resp_status_get(resp, &(uint16_t){0}), ST_BADF); /* consumed */

    memset(&wo, 0, sizeof wo);
    wo.max_age_ns = 100 * SEC;
    wo.vary_rule_ptr = "X-Lang";
    wo.vary_rule_len = 6;
    wo.surrogate_keys_ptr = "a b";
    wo.surrogate_keys_len = 3;
    wo.stale_while_revalidate_ns = 5 * SEC;
    wo.length = 9;
    fastly_body_handle wb;
    fastly_http_cache_handle back;
    EXPECT_ST(fastly_http_cache_transaction_insert_and_stream_back(
                  h, ready,
                  HW(VARY_RULE) | HW(SURROGATE_KEYS) | HW(STALE_WHILE_REVALIDATE_NS) | HW(LENGTH),
                  &wo, &wb, &back),
              ST_OK);
    EXPECT_ST(fastly_http_body_write(wb, S("page body"), 0, &n), ST_OK);
    EXPECT_ST(fastly_http_body_close(wb), ST_OK);
    EXPECT_INT(state_of(back), FOUND | USABLE);
    EXPECT_INT(state_of(h), 0); /* the obligation is spent */
    EXPECT_ST(fastly_http_cache_transaction_abandon(h), ST_BADF);
    EXPECT_ST(fastly_http_cache_get_found_response(back, 1, &fr, &fb), ST_OK);
    uint16_t status = 0;
    EXPECT_ST(fastly_http_resp_status_get(fr, &status), ST_OK);
    EXPECT_INT(status, 200);
    EXPECT_ST(fastly_http_resp_header_value_get(fr, S("etag"), buf, sizeof buf, &n), ST_OK);
    EXPECT_BYTES(buf, n, "\"v1\"");
    EXPECT_ST(fastly_http_resp_header_value_get(fr, S("age"), buf, sizeof buf, &n), ST_OK);
    size_t len = read_all(fb);
    EXPECT_BYTES(buf, len, "page body");
    fastly_http_cache_close(back);
    fastly_http_cache_close(h);

    /* a later lookup of the same request finds it; the getters */
    /* covers: fastly_http_cache.get_length, fastly_http_cache.get_max_age_ns */
    /* covers: fastly_http_cache.get_stale_while_revalidate_ns */
    /* covers: fastly_http_cache.get_stale_if_error_ns, fastly_http_cache.get_age_ns */
    /* covers: fastly_http_cache.get_hits, fastly_http_cache.get_sensitive_data */
    /* covers: fastly_http_cache.get_surrogate_keys, fastly_http_cache.get_vary_rule */
    h = txn(req, NULL);
    EXPECT_INT(state_of(h), FOUND | USABLE);
    EXPECT_ST(fastly_http_cache_get_length(h, &u64), ST_OK);
    EXPECT_INT(u64, 9);
    EXPECT_ST(fastly_http_cache_get_max_age_ns(h, &u64), ST_OK);
    EXPECT_INT(u64, 100 * SEC);
    EXPECT_ST(fastly_http_cache_get_stale_while_revalidate_ns(h, &u64), ST_OK);
    EXPECT_INT(u64, 5 * SEC);
    EXPECT_ST(fastly_http_cache_get_stale_if_error_ns(h, &u64), ST_OK);
    EXPECT_INT(u64, 0);
    EXPECT_ST(fastly_http_cache_get_age_ns(h, &u64), ST_OK);
    EXPECT(u64 < 100 * SEC);
    EXPECT_ST(fastly_http_cache_get_hits(h, &u64), ST_OK);
    EXPECT_INT(u64, 1);
    EXPECT_ST(fastly_http_cache_get_sensitive_data(h, &u32), ST_OK);
    EXPECT_INT(u32, 0);
    EXPECT_ST(fastly_http_cache_get_surrogate_keys(h, (uint8_t *)buf, sizeof buf, &n), ST_OK);
    EXPECT_BYTES(buf, n, "a b");
    EXPECT_ST(fastly_http_cache_get_surrogate_keys(h, (uint8_t *)buf, 1, &n), ST_BUFLEN);
    EXPECT_INT(n, 3);
    EXPECT_ST(fastly_http_cache_get_vary_rule(h, (uint8_t *)buf, sizeof buf, &n), ST_OK);
    EXPECT_BYTES(buf, n, "x-lang");
    EXPECT_ST(fastly_http_cache_get_hits(BAD_HANDLE, &u64), ST_BADF);
    EXPECT_ST(fastly_http_cache_get_age_ns(h, MISALIGNED), ST_BADALIGN);
    fastly_http_cache_close(h);
    /* another X-Lang is another variant */
    fastly_http_req_header_insert(req, S("X-Lang"), S("fr"));
    EXPECT_ST(fastly_http_cache_lookup(req, 0, &lo, &h), ST_OK);
    EXPECT_INT(state_of(h), 0);
    fastly_http_cache_close(h);
}

static void test_stale_update_choose(void)
{
    /* covers: fastly_http_cache.transaction_insert, fastly_http_cache.transaction_choose_stale */
    /* covers: fastly_http_cache.transaction_update_and_return_fresh */
    fastly_request_handle req = request("http://example.com/stale", "GET");
    fastly_http_cache_handle h = txn(req, "stale-key");
    EXPECT_INT(state_of(h), MUST);
    fastly_response_handle resp = response(200, NULL);
    fastly_http_resp_header_insert(resp, S("ETag"), S("\"e1\""));
    memset(&wo, 0, sizeof wo);
    wo.max_age_ns = 1 * SEC;
    wo.initial_age_ns = 10 * SEC;
    wo.stale_if_error_ns = 60 * SEC;
    fastly_body_handle wb;
    size_t n;
    /* choose_stale with nothing stale to choose */
    EXPECT_ST(fastly_http_cache_transaction_choose_stale(h), ST_BADF);
    EXPECT_ST(fastly_http_cache_transaction_update(h, resp, 0, &wo), ST_BADF); /* nothing stored */
    EXPECT_ST(fastly_http_cache_transaction_insert(h, BAD_HANDLE, 0, &wo, &wb), ST_BADF);
    EXPECT_ST(fastly_http_cache_transaction_insert(h, resp, 1u << 10, &wo, &wb), ST_INVAL);
    EXPECT_ST(fastly_http_cache_transaction_insert(h, resp, HW(RESERVED), &wo, &wb),
              ST_UNSUPPORTED);
    EXPECT_ST(fastly_http_cache_transaction_insert(h, resp, 0, BAD_PTR, &wb), ST_INVAL);
    wo.surrogate_keys_ptr = "bad\x01key";
    wo.surrogate_keys_len = 7;
    EXPECT_ST(fastly_http_cache_transaction_insert(h, resp, HW(SURROGATE_KEYS), &wo, &wb),
              ST_INVAL);
    EXPECT_ST(fastly_http_cache_transaction_insert(
                  h, resp, HW(INITIAL_AGE_NS) | HW(STALE_IF_ERROR_NS), &wo, &wb),
              ST_OK);
    fastly_http_body_write(wb, S("old"), 0, &n);
    fastly_http_body_close(wb);
    fastly_http_cache_close(h);

    /* stale beyond its lifetime, usable only if revalidation fails */
    h = txn(req, "stale-key");
    EXPECT_INT(state_of(h), STALE | IF_ERROR | MUST);
    fastly_request_handle breq;
    EXPECT_ST(fastly_http_cache_get_suggested_backend_request(h, &breq), ST_OK);
    EXPECT_ST(fastly_http_req_header_value_get(breq, S("if-none-match"), buf, sizeof buf, &n),
              ST_OK);
    EXPECT_BYTES(buf, n, "\"e1\"");
    EXPECT_ST(fastly_http_cache_get_stale_if_error_ns(h, &u64), ST_OK);
    EXPECT_INT(u64, 60 * SEC);
    EXPECT_ST(fastly_http_cache_transaction_choose_stale(h), ST_OK);
    EXPECT_ST(fastly_http_cache_transaction_choose_stale(h), ST_BADF);
    fastly_response_handle fr;
    fastly_body_handle fb;
    EXPECT_ST(fastly_http_cache_get_found_response(h, 0, &fr, &fb), ST_OK);
    size_t len = read_all(fb);
    EXPECT_BYTES(buf, len, "old");
    fastly_http_cache_close(h);

    /* choosing stale changed nothing: the next lookup must revalidate; a 304 updates */
    h = txn(req, "stale-key");
    EXPECT_INT(state_of(h), STALE | IF_ERROR | MUST);
    fastly_response_handle nm = response(304, "max-age=50");
    fastly_response_handle ready;
    EXPECT_ST(fastly_http_cache_prepare_response_for_storage(h, nm, &u32, &ready), ST_OK);
    EXPECT_INT(u32, FASTLY_HTTP_STORAGE_ACTION_UPDATE);
    uint16_t status = 0;
    fastly_http_resp_status_get(ready, &status);
    EXPECT_INT(status, 200);
    EXPECT_ST(fastly_http_resp_header_value_get(ready, S("etag"), buf, sizeof buf, &n), ST_OK);
    memset(&wo, 0, sizeof wo);
    wo.max_age_ns = 50 * SEC;
    fastly_http_cache_handle fresh;
    EXPECT_ST(fastly_http_cache_transaction_update_and_return_fresh(h, ready, 0, &wo, &fresh),
              ST_OK);
    EXPECT_INT(state_of(fresh), FOUND | USABLE);
    EXPECT_ST(fastly_http_cache_get_found_response(fresh, 0, &fr, &fb), ST_OK);
    len = read_all(fb);
    EXPECT_BYTES(buf, len, "old"); /* the body stays */
    EXPECT_ST(fastly_http_cache_get_max_age_ns(fresh, &u64), ST_OK);
    EXPECT_INT(u64, 50 * SEC);
    fastly_http_cache_close(fresh);
    fastly_http_cache_close(h);
}

static void test_update_not_cacheable_abandon(void)
{
    /* covers: fastly_http_cache.transaction_update, fastly_http_cache.transaction_abandon */
    /* covers: fastly_http_cache.transaction_record_not_cacheable */
    fastly_request_handle req = request("http://example.com/u", "GET");
    fastly_http_cache_handle h = txn(req, "upd");
    memset(&wo, 0, sizeof wo);
    wo.max_age_ns = 1 * SEC;
    wo.initial_age_ns = 5 * SEC;
    wo.stale_while_revalidate_ns = 60 * SEC;
    fastly_body_handle wb;
    size_t n;
    EXPECT_ST(
        fastly_http_cache_transaction_insert(
            h, response(200, NULL), HW(INITIAL_AGE_NS) | HW(STALE_WHILE_REVALIDATE_NS), &wo, &wb),
        ST_OK);
    fastly_http_body_write(wb, S("u"), 0, &n);
    fastly_http_body_close(wb);
    fastly_http_cache_close(h);
    h = txn(req, "upd");
    EXPECT_INT(state_of(h), FOUND | USABLE | STALE | MUST);
    fastly_http_cache_handle h2 = txn(req, "upd");
    EXPECT_INT(state_of(h2), FOUND | USABLE | STALE); /* one revalidation */
    fastly_http_cache_close(h2);
    memset(&wo, 0, sizeof wo);
    wo.max_age_ns = 30 * SEC;
    EXPECT_ST(fastly_http_cache_transaction_update(h, response(200, NULL), 0, &wo), ST_OK);
    EXPECT_ST(fastly_http_cache_transaction_update(h, response(200, NULL), 0, &wo), ST_BADF);
    fastly_http_cache_close(h);
    h = txn(req, "upd");
    EXPECT_INT(state_of(h), FOUND | USABLE);
    fastly_http_cache_close(h);

    /* hit-for-pass: later lookups neither find nor queue */
    h = txn(req, "hfp");
    EXPECT_INT(state_of(h), MUST);
    memset(&wo, 0, sizeof wo);
    wo.max_age_ns = 60 * SEC;
    EXPECT_ST(fastly_http_cache_transaction_record_not_cacheable(h, 0, &wo), ST_OK);
    EXPECT_ST(fastly_http_cache_transaction_record_not_cacheable(h, 0, &wo), ST_BADF);
    fastly_http_cache_close(h);
    h = txn(req, "hfp");
    EXPECT_INT(state_of(h), 0);
    fastly_response_handle fr;
    fastly_body_handle fb;
    EXPECT_ST(fastly_http_cache_get_found_response(h, 0, &fr, &fb), ST_NONE);
    fastly_http_cache_close(h);
    /* prepare: uncacheable responses */
    h = txn(req, "prep");
    fastly_response_handle ready;
    EXPECT_ST(
        fastly_http_cache_prepare_response_for_storage(h, response(200, "private"), &u32, &ready),
        ST_OK);
    EXPECT_INT(u32, FASTLY_HTTP_STORAGE_ACTION_RECORD_UNCACHEABLE);
    EXPECT_ST(fastly_http_cache_prepare_response_for_storage(h, response(500, NULL), &u32, &ready),
              ST_OK);
    EXPECT_INT(u32, FASTLY_HTTP_STORAGE_ACTION_DO_NOT_STORE);
    EXPECT_ST(fastly_http_cache_prepare_response_for_storage(h, BAD_HANDLE, &u32, &ready), ST_BADF);
    /* abandon hands the obligation on */
    EXPECT_ST(fastly_http_cache_transaction_abandon(h), ST_OK);
    EXPECT_ST(fastly_http_cache_transaction_abandon(h), ST_BADF);
    fastly_http_cache_close(h);
    h = txn(req, "prep");
    EXPECT_INT(state_of(h), MUST);
    fastly_http_cache_close(h);
}

static void test_lookup_errors(void)
{
    fastly_http_cache_handle h;
    fastly_request_handle req = request("http://example.com/e", "GET");
    EXPECT_ST(fastly_http_cache_lookup(BAD_HANDLE, 0, &lo, &h), ST_BADF);
    EXPECT_ST(fastly_http_cache_transaction_lookup(req, 0, BAD_PTR, &h), ST_INVAL);
    EXPECT_ST(fastly_http_cache_transaction_lookup(
                  req, 0, (fastly_http_cache_lookup_options *)MISALIGNED, &h),
              ST_BADALIGN);
    EXPECT_ST(fastly_http_cache_transaction_lookup(req, 1u << 8, &lo, &h), ST_INVAL);
    EXPECT_ST(fastly_http_cache_transaction_lookup(
                  req, FASTLY_HTTP_CACHE_LOOKUP_OPTIONS_MASK_RESERVED, &lo, &h),
              ST_UNSUPPORTED);
    lo.override_key_ptr = BAD_PTR;
    lo.override_key_len = 4;
    EXPECT_ST(fastly_http_cache_transaction_lookup(
                  req, FASTLY_HTTP_CACHE_LOOKUP_OPTIONS_MASK_OVERRIDE_KEY, &lo, &h),
              ST_INVAL);
    lo.backend_name_ptr = "origin";
    lo.backend_name_len = 6;
    EXPECT_ST(
        fastly_http_cache_lookup(req, FASTLY_HTTP_CACHE_LOOKUP_OPTIONS_MASK_BACKEND_NAME, &lo, &h),
        ST_OK);
    fastly_http_cache_close(h);
    EXPECT_ST(fastly_http_cache_lookup(req, 0, &lo, BAD_PTR), ST_INVAL);
    EXPECT_ST(fastly_http_cache_get_state(BAD_HANDLE, &u32), ST_BADF);
    EXPECT_ST(fastly_http_cache_close(BAD_HANDLE), ST_BADF);
}

/* Found by fuzz_hostcalls: a second transaction on a key whose obligation the same request
 * holds waited forever. It now ends at once with neither a hit nor an obligation. */
static void test_second_transaction_in_the_same_request(void)
{
    fastly_request_handle req = request("http://example.com/self", "GET");
    fastly_http_cache_handle first = txn(req, "self-wait");
    EXPECT_INT(state_of(first), MUST);
    fastly_http_cache_handle second = txn(req, "self-wait");
    EXPECT_INT(state_of(second), 0);
    EXPECT_ST(fastly_http_cache_close(second), ST_OK);
    EXPECT_ST(fastly_http_cache_transaction_abandon(first), ST_OK);
    /* once abandoned, the key is free again for this request */
    fastly_http_cache_handle third = txn(req, "self-wait");
    EXPECT_INT(state_of(third), MUST);
    EXPECT_ST(fastly_http_cache_transaction_abandon(third), ST_OK);
}

int main(void)
{
    test_request_helpers();
    test_miss_insert_and_read();
    test_stale_update_choose();
    test_update_not_cacheable_abandon();
    test_lookup_errors();
    test_second_transaction_in_the_same_request();
    return hc_done();
}
