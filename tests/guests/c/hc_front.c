/* hc_front.c: test guest for send_informational_response, the 103 of send_downstream, response
 * trailers, on_behalf_of and fastly_shielding: results and every error path (bad handles, bad
 * pointers, bad statuses, short buffers). Run by tests/unit/hostcalls/test_hc_front.c, whose
 * settings declare the shields "edge-local" (local) and "far-away" (http://127.0.0.1:9/). */
#include "hc_check.h"

#define SC(lit) (lit), (sizeof(lit) - 1)

static void informational(void)
{
    /* covers: fastly_http_resp.send_informational_response */
    fastly_response_handle r;
    EXPECT_ST(fastly_http_resp_new(&r), ST_OK);
    EXPECT_ST(fastly_http_resp_header_append(r, (const uint8_t *)"link", 4,
                                             (const uint8_t *)"</a.css>; rel=preload", 21),
              ST_OK);
    EXPECT_ST(fastly_http_resp_send_informational_response(r, 103), ST_OK);
    EXPECT_ST(fastly_http_resp_send_informational_response(r, 100), ST_OK);
    EXPECT_ST(fastly_http_resp_send_informational_response(r, 199), ST_OK);
    EXPECT_ST(fastly_http_resp_send_informational_response(r, 101), ST_INVAL);
    EXPECT_ST(fastly_http_resp_send_informational_response(r, 200), ST_INVAL);
    EXPECT_ST(fastly_http_resp_send_informational_response(r, 99), ST_INVAL);
    EXPECT_ST(fastly_http_resp_send_informational_response(r, 0x10067), ST_INVAL);
    EXPECT_ST(fastly_http_resp_send_informational_response(BAD_HANDLE, 103), ST_BADF);
    /* the handle stays the guest's */
    uint16_t status = 0;
    EXPECT_ST(fastly_http_resp_status_get(r, &status), ST_OK);
    EXPECT_ST(fastly_http_resp_close(r), ST_OK);
    /* the JS and Go SDKs' way: send_downstream of a 103 is an interim response too, and both
     * handles stay usable (the Go SDK sends its final response with them) */
    fastly_body_handle b;
    EXPECT_ST(fastly_http_resp_new(&r), ST_OK);
    EXPECT_ST(fastly_http_resp_status_set(r, 103), ST_OK);
    EXPECT_ST(fastly_http_body_new(&b), ST_OK);
    EXPECT_ST(fastly_http_resp_send_downstream(r, b, 0), ST_OK);
    EXPECT_ST(fastly_http_resp_send_downstream(r, b, 1), ST_OK); /* the streaming flag too */
    EXPECT_ST(fastly_http_resp_close(r), ST_OK);
    EXPECT_ST(fastly_http_body_close(b), ST_OK);
    /* a bad body handle: badf, and the response is gone (as for any send_downstream) */
    EXPECT_ST(fastly_http_resp_new(&r), ST_OK);
    EXPECT_ST(fastly_http_resp_status_set(r, 103), ST_OK);
    EXPECT_ST(fastly_http_resp_send_downstream(r, BAD_HANDLE, 0), ST_BADF);
    EXPECT_ST(fastly_http_resp_close(r), ST_BADF);
    /* other 1xx through send_downstream: inval (as Viceroy) */
    EXPECT_ST(fastly_http_resp_new(&r), ST_OK);
    EXPECT_ST(fastly_http_resp_status_set(r, 102), ST_OK);
    EXPECT_ST(fastly_http_body_new(&b), ST_OK);
    EXPECT_ST(fastly_http_resp_send_downstream(r, b, 0), ST_INVAL);
}

static void trailers_and_final(void)
{
    /* covers: fastly_http_body.trailer_append */
    fastly_response_handle r;
    fastly_body_handle b;
    EXPECT_ST(fastly_http_resp_new(&r), ST_OK);
    EXPECT_ST(fastly_http_body_new(&b), ST_OK);
    EXPECT_ST(fastly_http_resp_send_downstream(r, b, 1), ST_OK);
    size_t n = 0;
    EXPECT_ST(fastly_http_body_write(b, (const uint8_t *)"data", 4, 0, &n), ST_OK);
    EXPECT_ST(
        fastly_http_body_trailer_append(b, (const uint8_t *)"x-sum", 5, (const uint8_t *)"42", 2),
        ST_OK);
    EXPECT_ST(fastly_http_body_trailer_append(b, BAD_PTR, 5, (const uint8_t *)"42", 2), ST_INVAL);
    EXPECT_ST(fastly_http_body_trailer_append(b, (const uint8_t *)"x-sum", 5, BAD_PTR, 2),
              ST_INVAL);
    /* a streaming body's trailers cannot be read back */
    EXPECT_ST(fastly_http_body_trailer_names_get(b, (char *)hc_aligned_scratch, 16, 0,
                                                 (int64_t *)&hc_aligned_scratch[2], &n),
              ST_INVAL);
    EXPECT_ST(fastly_http_body_close(b), ST_OK);
    /* after the final response, an interim one is error */
    EXPECT_ST(fastly_http_resp_new(&r), ST_OK);
    EXPECT_ST(fastly_http_resp_send_informational_response(r, 103), ST_ERROR);
}

static void behalf(void)
{
    /* covers: fastly_http_req.on_behalf_of */
    fastly_request_handle q;
    EXPECT_ST(fastly_http_req_new(&q), ST_OK);
    EXPECT_ST(fastly_http_req_on_behalf_of(q, SC("NRF5TZWykaNWzn1WCb7hj2")), ST_UNSUPPORTED);
    EXPECT_ST(fastly_http_req_on_behalf_of(BAD_HANDLE, SC("svc")), ST_BADF);
    EXPECT_ST(fastly_http_req_on_behalf_of(q, BAD_PTR, 8), ST_INVAL);
    EXPECT_ST(fastly_http_req_on_behalf_of(q, SC("\xff\xfe")), ST_INVAL);
}

static void shields(void)
{
    /* covers: fastly_shielding.shield_info */
    char info[256];
    size_t n = 0;
    EXPECT_ST(fastly_shielding_shield_info(SC("edge-local"), info, sizeof info, &n), ST_OK);
    EXPECT_INT(n, 3);
    EXPECT(memcmp(info, "\1\0\0", 3) == 0);
    EXPECT_ST(fastly_shielding_shield_info(SC("far-away"), info, sizeof info, &n), ST_OK);
    static const char want[] = "\0http://127.0.0.1:9/\0http://127.0.0.1:9/"; /* + final NUL */
    EXPECT_INT(n, sizeof want);
    EXPECT(memcmp(info, want, sizeof want) == 0);
    /* too small: buflen with the size needed */
    n = 0;
    EXPECT_ST(fastly_shielding_shield_info(SC("far-away"), info, 10, &n), ST_BUFLEN);
    EXPECT_INT(n, sizeof want);
    EXPECT_ST(fastly_shielding_shield_info(SC("nowhere"), info, sizeof info, &n), ST_INVAL);
    EXPECT_ST(fastly_shielding_shield_info(SC("Edge-Local"), info, sizeof info, &n), ST_INVAL);
    EXPECT_ST(fastly_shielding_shield_info(BAD_PTR, 10, info, sizeof info, &n), ST_INVAL);
    EXPECT_ST(fastly_shielding_shield_info(SC("far-away"), BAD_PTR, 200, &n), ST_INVAL);
    EXPECT_ST(fastly_shielding_shield_info(SC("far-away"), info, sizeof info, BAD_PTR), ST_INVAL);

    /* covers: fastly_shielding.backend_for_shield */
    fastly_shield_backend_config cfg = {0};
    cfg.first_byte_timeout_ms = 1234;
    char name[128];
    const char *url = info + 1; /* the unencrypted URL from the last good shield_info */
    EXPECT_ST(fastly_shielding_backend_for_shield(url, strlen(url), 4, &cfg, name, 10, &n),
              ST_BUFLEN);
    EXPECT_INT(n, strlen("******http://127.0.0.1:9/*****"));
    EXPECT_ST(fastly_shielding_backend_for_shield(url, strlen(url), 4, &cfg, name, sizeof name, &n),
              ST_OK);
    EXPECT_BYTES(name, n, "******http://127.0.0.1:9/*****");
    uint32_t yes = 0, ms = 0;
    uint16_t port = 0;
    EXPECT_ST(fastly_backend_exists(name, n, &yes), ST_OK);
    EXPECT_INT(yes, 1);
    EXPECT_ST(fastly_backend_is_dynamic(name, n, &yes), ST_OK);
    EXPECT_INT(yes, 1);
    EXPECT_ST(fastly_backend_get_port(name, n, &port), ST_OK);
    EXPECT_INT(port, 9);
    EXPECT_ST(fastly_backend_get_first_byte_timeout_ms(name, n, &ms), ST_OK);
    EXPECT_INT(ms, 1234);
    /* asking again gives the same backend */
    size_t n2 = 0;
    char name2[128];
    EXPECT_ST(
        fastly_shielding_backend_for_shield(url, strlen(url), 0, &cfg, name2, sizeof name2, &n2),
        ST_OK);
    EXPECT_BYTES(name2, n2, "******http://127.0.0.1:9/*****");
    /* bad arguments */
    EXPECT_ST(fastly_shielding_backend_for_shield(url, strlen(url), 1, &cfg, name, sizeof name, &n),
              ST_INVAL); /* reserved */
    EXPECT_ST(
        fastly_shielding_backend_for_shield(url, strlen(url), 0x10, &cfg, name, sizeof name, &n),
        ST_INVAL); /* unknown option */
    EXPECT_ST(
        fastly_shielding_backend_for_shield(url, strlen(url), 0, BAD_PTR, name, sizeof name, &n),
        ST_INVAL);
    EXPECT_ST(fastly_shielding_backend_for_shield(BAD_PTR, 12, 0, &cfg, name, sizeof name, &n),
              ST_INVAL);
    EXPECT_ST(fastly_shielding_backend_for_shield(SC(""), 0, &cfg, name, sizeof name, &n),
              ST_INVAL); /* a local shield's empty URL */
    EXPECT_ST(fastly_shielding_backend_for_shield(SC("not a url"), 0, &cfg, name, sizeof name, &n),
              ST_INVAL);
    cfg.cache_key = BAD_PTR;
    cfg.cache_key_len = 4;
    EXPECT_ST(fastly_shielding_backend_for_shield(url, strlen(url), 2, &cfg, name, sizeof name, &n),
              ST_INVAL);
    cfg.cache_key = "key";
    cfg.cache_key_len = 3;
    EXPECT_ST(fastly_shielding_backend_for_shield(SC("http://127.0.0.1:10/"), 2 | 8, &cfg, name,
                                                  sizeof name, &n),
              ST_OK);
    EXPECT_ST(fastly_shielding_backend_for_shield(url, strlen(url), 0, &cfg, BAD_PTR, 64, &n),
              ST_INVAL);
}

int main(void)
{
    informational();
    behalf();
    shields();
    trailers_and_final();
    return hc_done();
}
