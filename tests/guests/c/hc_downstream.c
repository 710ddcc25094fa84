/* hc_downstream.c: test guest for fastly_http_downstream (all 40 functions). argv[1]:
 *   plain  the default fake request (see tests/unit/hostcalls/hc_guest_run.h): metadata, TLS and
 *          proxy getters answering none, next_request without a request source (the promise
 * resolves to none) bot    a request carrying x-fastly-bot-* headers (analyzed, detected, name,
 * category, verified) Run by tests/unit/hostcalls/test_hc_downstream.c. */
#include "hc_check.h"

static char buf[256];
static size_t nw;
static int64_t ending;
static uint32_t u;
static fastly_request_handle req, other;
static fastly_body_handle body;

static void metadata(void)
{
    /* covers: fastly_http_downstream.downstream_original_header_names */
    EXPECT_ST(fastly_http_downstream_downstream_original_header_names(req, buf, sizeof buf, 0,
                                                                      &ending, &nw),
              ST_OK);
    EXPECT_BYTES(buf, nw, "Host\0User-Agent\0X-Multi\0Fastly-Key\0");
    EXPECT_INT(ending, -1);
    EXPECT_ST(fastly_http_downstream_downstream_original_header_names(req, buf, 6, 0, &ending, &nw),
              ST_OK);
    EXPECT_BYTES(buf, nw, "Host\0");
    EXPECT_INT(ending, 1);
    EXPECT_ST(fastly_http_downstream_downstream_original_header_names(req, buf, 6, 1, &ending, &nw),
              ST_BUFLEN);
    EXPECT_INT(nw, 11);
    EXPECT_ST(fastly_http_downstream_downstream_original_header_names(BAD_HANDLE, buf, 6, 0,
                                                                      &ending, &nw),
              ST_BADF);
    EXPECT_ST(
        fastly_http_downstream_downstream_original_header_names(other, buf, 6, 0, &ending, &nw),
        ST_ERROR);
    /* covers: fastly_http_downstream.downstream_original_header_count */
    EXPECT_ST(fastly_http_downstream_downstream_original_header_count(req, &u), ST_OK);
    EXPECT_INT(u, 5);
    EXPECT_ST(fastly_http_downstream_downstream_original_header_count(BAD_HANDLE, &u), ST_BADF);
    EXPECT_ST(fastly_http_downstream_downstream_original_header_count(req, BAD_PTR), ST_INVAL);

    /* covers: fastly_http_downstream.downstream_client_ip_addr */
    EXPECT_ST(fastly_http_downstream_downstream_client_ip_addr(req, buf, &nw), ST_OK);
    EXPECT_BYTES(buf, nw, "\xc0\x00\x02\x01");
    EXPECT_ST(fastly_http_downstream_downstream_client_ip_addr(BAD_HANDLE, buf, &nw), ST_BADF);
    EXPECT_ST(fastly_http_downstream_downstream_client_ip_addr(other, buf, &nw), ST_ERROR);
    EXPECT_ST(fastly_http_downstream_downstream_client_ip_addr(req, BAD_PTR, &nw), ST_INVAL);
    /* covers: fastly_http_downstream.downstream_server_ip_addr */
    EXPECT_ST(fastly_http_downstream_downstream_server_ip_addr(req, buf, &nw), ST_OK);
    EXPECT_INT(nw, 16);
    EXPECT_ST(fastly_http_downstream_downstream_server_ip_addr(req, buf, MISALIGNED), ST_BADALIGN);
    /* covers: fastly_http_downstream.downstream_client_request_id */
    EXPECT_ST(fastly_http_downstream_downstream_client_request_id(req, buf, sizeof buf, &nw),
              ST_OK);
    EXPECT_BYTES(buf, nw, "0123456789abcdef0123456789abcdef");
    EXPECT_ST(fastly_http_downstream_downstream_client_request_id(req, buf, 31, &nw), ST_BUFLEN);
    EXPECT_INT(nw, 32);
    EXPECT_ST(fastly_http_downstream_downstream_client_request_id(BAD_HANDLE, buf, 31, &nw),
              ST_BADF);
    /* covers: fastly_http_downstream.downstream_compliance_region */
    EXPECT_ST(fastly_http_downstream_downstream_compliance_region(req, buf, sizeof buf, &nw),
              ST_OK);
    EXPECT_BYTES(buf, nw, "none");
    EXPECT_ST(fastly_http_downstream_downstream_compliance_region(BAD_HANDLE, buf, 9, &nw),
              ST_BADF);
    /* covers: fastly_http_downstream.downstream_client_ddos_detected */
    u = 7;
    EXPECT_ST(fastly_http_downstream_downstream_client_ddos_detected(req, &u), ST_OK);
    EXPECT_INT(u, 0);
    EXPECT_ST(fastly_http_downstream_downstream_client_ddos_detected(BAD_HANDLE, &u), ST_BADF);
    /* covers: fastly_http_downstream.fastly_key_is_valid */
    EXPECT_ST(fastly_http_downstream_fastly_key_is_valid(req, &u), ST_OK);
    EXPECT_INT(u, 1);
    EXPECT_ST(fastly_http_downstream_fastly_key_is_valid(other, &u), ST_OK);
    EXPECT_INT(u, 0);
    EXPECT_ST(fastly_http_downstream_fastly_key_is_valid(BAD_HANDLE, &u), ST_BADF);
    size_t hops = 0;
    /* covers: fastly_http_downstream.downstream_visits_this_service */
    EXPECT_ST(fastly_http_downstream_downstream_visits_this_service(&hops), ST_OK);
    EXPECT_INT(hops, 1);
    EXPECT_ST(fastly_http_downstream_downstream_visits_this_service(BAD_PTR), ST_INVAL);
    /* covers: fastly_http_downstream.downstream_visits_this_pop */
    EXPECT_ST(fastly_http_downstream_downstream_visits_this_pop(&hops), ST_OK);
    EXPECT_INT(hops, 1);
}

static void absent(void)
{
    /* covers: fastly_http_downstream.downstream_client_h2_fingerprint */
    EXPECT_ST(fastly_http_downstream_downstream_client_h2_fingerprint(req, buf, sizeof buf, &nw),
              ST_NONE);
    EXPECT_ST(
        fastly_http_downstream_downstream_client_h2_fingerprint(BAD_HANDLE, buf, sizeof buf, &nw),
        ST_BADF);
    EXPECT_ST(fastly_http_downstream_downstream_client_h2_fingerprint(other, buf, sizeof buf, &nw),
              ST_ERROR);
    /* covers: fastly_http_downstream.downstream_client_oh_fingerprint */
    EXPECT_ST(fastly_http_downstream_downstream_client_oh_fingerprint(req, buf, sizeof buf, &nw),
              ST_NONE);
    EXPECT_ST(
        fastly_http_downstream_downstream_client_oh_fingerprint(BAD_HANDLE, buf, sizeof buf, &nw),
        ST_BADF);
    EXPECT_ST(fastly_http_downstream_downstream_client_oh_fingerprint(other, buf, sizeof buf, &nw),
              ST_ERROR);
    /* covers: fastly_http_downstream.downstream_tls_cipher_openssl_name */
    EXPECT_ST(fastly_http_downstream_downstream_tls_cipher_openssl_name(req, buf, sizeof buf, &nw),
              ST_NONE);
    EXPECT_ST(
        fastly_http_downstream_downstream_tls_cipher_openssl_name(BAD_HANDLE, buf, sizeof buf, &nw),
        ST_BADF);
    EXPECT_ST(
        fastly_http_downstream_downstream_tls_cipher_openssl_name(other, buf, sizeof buf, &nw),
        ST_ERROR);
    /* covers: fastly_http_downstream.downstream_tls_protocol */
    EXPECT_ST(fastly_http_downstream_downstream_tls_protocol(req, buf, sizeof buf, &nw), ST_NONE);
    EXPECT_ST(fastly_http_downstream_downstream_tls_protocol(BAD_HANDLE, buf, sizeof buf, &nw),
              ST_BADF);
    EXPECT_ST(fastly_http_downstream_downstream_tls_protocol(other, buf, sizeof buf, &nw),
              ST_ERROR);
    /* covers: fastly_http_downstream.downstream_tls_client_hello */
    EXPECT_ST(fastly_http_downstream_downstream_tls_client_hello(req, buf, sizeof buf, &nw),
              ST_NONE);
    EXPECT_ST(fastly_http_downstream_downstream_tls_client_hello(BAD_HANDLE, buf, sizeof buf, &nw),
              ST_BADF);
    EXPECT_ST(fastly_http_downstream_downstream_tls_client_hello(other, buf, sizeof buf, &nw),
              ST_ERROR);
    /* covers: fastly_http_downstream.downstream_tls_raw_client_certificate */
    EXPECT_ST(
        fastly_http_downstream_downstream_tls_raw_client_certificate(req, buf, sizeof buf, &nw),
        ST_NONE);
    EXPECT_ST(fastly_http_downstream_downstream_tls_raw_client_certificate(BAD_HANDLE, buf,
                                                                           sizeof buf, &nw),
              ST_BADF);
    EXPECT_ST(
        fastly_http_downstream_downstream_tls_raw_client_certificate(other, buf, sizeof buf, &nw),
        ST_ERROR);
    /* covers: fastly_http_downstream.downstream_tls_client_servername */
    EXPECT_ST(fastly_http_downstream_downstream_tls_client_servername(req, buf, sizeof buf, &nw),
              ST_NONE);
    EXPECT_ST(
        fastly_http_downstream_downstream_tls_client_servername(BAD_HANDLE, buf, sizeof buf, &nw),
        ST_BADF);
    EXPECT_ST(fastly_http_downstream_downstream_tls_client_servername(other, buf, sizeof buf, &nw),
              ST_ERROR);
    /* covers: fastly_http_downstream.downstream_tls_ja4 */
    EXPECT_ST(fastly_http_downstream_downstream_tls_ja4(req, buf, sizeof buf, &nw), ST_NONE);
    EXPECT_ST(fastly_http_downstream_downstream_tls_ja4(BAD_HANDLE, buf, sizeof buf, &nw), ST_BADF);
    EXPECT_ST(fastly_http_downstream_downstream_tls_ja4(other, buf, sizeof buf, &nw), ST_ERROR);
    /* covers: fastly_http_downstream.downstream_resvpnproxy_vpn_service_name */
    EXPECT_ST(
        fastly_http_downstream_downstream_resvpnproxy_vpn_service_name(req, buf, sizeof buf, &nw),
        ST_NONE);
    EXPECT_ST(fastly_http_downstream_downstream_resvpnproxy_vpn_service_name(BAD_HANDLE, buf,
                                                                             sizeof buf, &nw),
              ST_BADF);
    EXPECT_ST(
        fastly_http_downstream_downstream_resvpnproxy_vpn_service_name(other, buf, sizeof buf, &nw),
        ST_ERROR);
    /* covers: fastly_http_downstream.downstream_tls_client_cert_verify_result */
    EXPECT_ST(fastly_http_downstream_downstream_tls_client_cert_verify_result(req, &u), ST_NONE);
    EXPECT_ST(fastly_http_downstream_downstream_tls_client_cert_verify_result(BAD_HANDLE, &u),
              ST_BADF);
    /* covers: fastly_http_downstream.downstream_resvpnproxy_is_anonymous */
    EXPECT_ST(fastly_http_downstream_downstream_resvpnproxy_is_anonymous(req, &u), ST_NONE);
    EXPECT_ST(fastly_http_downstream_downstream_resvpnproxy_is_anonymous(BAD_HANDLE, &u), ST_BADF);
    /* covers: fastly_http_downstream.downstream_resvpnproxy_is_anonymous_vpn */
    EXPECT_ST(fastly_http_downstream_downstream_resvpnproxy_is_anonymous_vpn(req, &u), ST_NONE);
    EXPECT_ST(fastly_http_downstream_downstream_resvpnproxy_is_anonymous_vpn(BAD_HANDLE, &u),
              ST_BADF);
    /* covers: fastly_http_downstream.downstream_resvpnproxy_is_hosting_provider */
    EXPECT_ST(fastly_http_downstream_downstream_resvpnproxy_is_hosting_provider(req, &u), ST_NONE);
    EXPECT_ST(fastly_http_downstream_downstream_resvpnproxy_is_hosting_provider(BAD_HANDLE, &u),
              ST_BADF);
    /* covers: fastly_http_downstream.downstream_resvpnproxy_is_proxy_over_vpn */
    EXPECT_ST(fastly_http_downstream_downstream_resvpnproxy_is_proxy_over_vpn(req, &u), ST_NONE);
    EXPECT_ST(fastly_http_downstream_downstream_resvpnproxy_is_proxy_over_vpn(BAD_HANDLE, &u),
              ST_BADF);
    /* covers: fastly_http_downstream.downstream_resvpnproxy_is_public_proxy */
    EXPECT_ST(fastly_http_downstream_downstream_resvpnproxy_is_public_proxy(req, &u), ST_NONE);
    EXPECT_ST(fastly_http_downstream_downstream_resvpnproxy_is_public_proxy(BAD_HANDLE, &u),
              ST_BADF);
    /* covers: fastly_http_downstream.downstream_resvpnproxy_is_relay_proxy */
    EXPECT_ST(fastly_http_downstream_downstream_resvpnproxy_is_relay_proxy(req, &u), ST_NONE);
    EXPECT_ST(fastly_http_downstream_downstream_resvpnproxy_is_relay_proxy(BAD_HANDLE, &u),
              ST_BADF);
    /* covers: fastly_http_downstream.downstream_resvpnproxy_is_residential_proxy */
    EXPECT_ST(fastly_http_downstream_downstream_resvpnproxy_is_residential_proxy(req, &u), ST_NONE);
    EXPECT_ST(fastly_http_downstream_downstream_resvpnproxy_is_residential_proxy(BAD_HANDLE, &u),
              ST_BADF);
    /* covers: fastly_http_downstream.downstream_resvpnproxy_is_smart_dns_proxy */
    EXPECT_ST(fastly_http_downstream_downstream_resvpnproxy_is_smart_dns_proxy(req, &u), ST_NONE);
    EXPECT_ST(fastly_http_downstream_downstream_resvpnproxy_is_smart_dns_proxy(BAD_HANDLE, &u),
              ST_BADF);
    /* covers: fastly_http_downstream.downstream_resvpnproxy_is_tor_exit_node */
    EXPECT_ST(fastly_http_downstream_downstream_resvpnproxy_is_tor_exit_node(req, &u), ST_NONE);
    EXPECT_ST(fastly_http_downstream_downstream_resvpnproxy_is_tor_exit_node(BAD_HANDLE, &u),
              ST_BADF);
    /* covers: fastly_http_downstream.downstream_resvpnproxy_is_vpn_datacenter */
    EXPECT_ST(fastly_http_downstream_downstream_resvpnproxy_is_vpn_datacenter(req, &u), ST_NONE);
    EXPECT_ST(fastly_http_downstream_downstream_resvpnproxy_is_vpn_datacenter(BAD_HANDLE, &u),
              ST_BADF);
    /* covers: fastly_http_downstream.downstream_tls_ja3_md5 */
    EXPECT_ST(fastly_http_downstream_downstream_tls_ja3_md5(req, buf, &nw), ST_NONE);
    EXPECT_ST(fastly_http_downstream_downstream_tls_ja3_md5(BAD_HANDLE, buf, &nw), ST_BADF);
}

static void bots_absent(void)
{
    /* covers: fastly_http_downstream.downstream_bot_analyzed */
    EXPECT_ST(fastly_http_downstream_downstream_bot_analyzed(req, &u), ST_OK);
    EXPECT_INT(u, 0);
    EXPECT_ST(fastly_http_downstream_downstream_bot_analyzed(BAD_HANDLE, &u), ST_BADF);
    /* covers: fastly_http_downstream.downstream_bot_detected */
    EXPECT_ST(fastly_http_downstream_downstream_bot_detected(req, &u), ST_OK);
    EXPECT_INT(u, 0);
    /* covers: fastly_http_downstream.downstream_bot_name */
    EXPECT_ST(fastly_http_downstream_downstream_bot_name(req, buf, sizeof buf, &nw), ST_NONE);
    /* covers: fastly_http_downstream.downstream_bot_category */
    EXPECT_ST(fastly_http_downstream_downstream_bot_category(req, buf, sizeof buf, &nw), ST_NONE);
    /* covers: fastly_http_downstream.downstream_bot_category_kind */
    EXPECT_ST(fastly_http_downstream_downstream_bot_category_kind(req, &u), ST_NONE);
    /* covers: fastly_http_downstream.downstream_bot_verified */
    EXPECT_ST(fastly_http_downstream_downstream_bot_verified(req, &u), ST_NONE);
    EXPECT_ST(fastly_http_downstream_downstream_bot_verified(other, &u), ST_ERROR);
}

static void bots_present(void)
{
    EXPECT_ST(fastly_http_downstream_downstream_bot_analyzed(req, &u), ST_OK);
    EXPECT_INT(u, 1);
    EXPECT_ST(fastly_http_downstream_downstream_bot_detected(req, &u), ST_OK);
    EXPECT_INT(u, 1);
    EXPECT_ST(fastly_http_downstream_downstream_bot_name(req, buf, sizeof buf, &nw), ST_OK);
    EXPECT_BYTES(buf, nw, "Googlebot");
    EXPECT_ST(fastly_http_downstream_downstream_bot_name(req, buf, 3, &nw), ST_BUFLEN);
    EXPECT_INT(nw, 9);
    EXPECT_ST(fastly_http_downstream_downstream_bot_category(req, buf, sizeof buf, &nw), ST_OK);
    EXPECT_BYTES(buf, nw, "Search-Engine-Crawler");
    EXPECT_ST(fastly_http_downstream_downstream_bot_category_kind(req, &u), ST_OK);
    EXPECT_INT(u, 11);
    EXPECT_ST(fastly_http_downstream_downstream_bot_verified(req, &u), ST_OK);
    EXPECT_INT(u, 0);
}

static void next_request(void)
{
    fastly_next_request_options opts = {0};
    fastly_request_promise_handle p, p2;
    fastly_request_handle r2;
    fastly_body_handle b2;
    /* covers: fastly_http_downstream.next_request */
    EXPECT_ST(fastly_http_downstream_next_request(0x4, &opts, &p), ST_INVAL);
    EXPECT_ST(fastly_http_downstream_next_request(0x2, BAD_PTR, &p), ST_INVAL);
    EXPECT_ST(fastly_http_downstream_next_request(0x2, &opts, &p), ST_OK);
    EXPECT_ST(fastly_http_downstream_next_request(0, &opts, &p2), ST_LIMITEXCEEDED);
    /* covers: fastly_http_downstream.next_request_wait */
    EXPECT_ST(fastly_http_downstream_next_request_wait(p, &r2, &b2), ST_UNSUPPORTED);
    /* covers: fastly_http_downstream.next_request_abandon */
    EXPECT_ST(fastly_http_downstream_next_request_abandon(p), ST_OK);
    EXPECT_ST(fastly_http_downstream_next_request_abandon(p), ST_BADF);
    EXPECT_ST(fastly_http_downstream_next_request(0, &opts, &p), ST_OK);
    /* answer this request, then ask for the next: in-process here, no request source, so none */
    fastly_response_handle resp;
    fastly_body_handle rb;
    EXPECT_ST(fastly_http_resp_new(&resp), ST_OK);
    EXPECT_ST(fastly_http_body_new(&rb), ST_OK);
    EXPECT_ST(fastly_http_resp_send_downstream(resp, rb, 0), ST_OK);
    EXPECT_ST(fastly_http_downstream_next_request_wait(BAD_HANDLE, &r2, &b2), ST_BADF);
    EXPECT_ST(fastly_http_downstream_next_request_wait(p, &r2, &b2), ST_NONE);
    EXPECT_ST(fastly_http_downstream_next_request_wait(p, &r2, &b2), ST_BADF);
    EXPECT_ST(fastly_http_downstream_next_request_abandon(BAD_HANDLE), ST_BADF);
}

int main(int argc, char **argv)
{
    const char *mode = argc > 1 ? argv[1] : "plain";
    EXPECT_ST(fastly_http_req_body_downstream_get(&req, &body), ST_OK);
    EXPECT_ST(fastly_http_req_new(&other), ST_OK);
    if (strcmp(mode, "bot") == 0) {
        bots_present();
    } else {
        metadata();
        absent();
        bots_absent();
        /* metadata outlives closing the downstream request handle (as Viceroy) */
        EXPECT_ST(fastly_http_req_close(req), ST_OK);
        EXPECT_ST(fastly_http_downstream_downstream_client_ip_addr(req, buf, &nw), ST_OK);
        next_request();
    }
    return hc_done();
}
