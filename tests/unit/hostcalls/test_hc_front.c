/* test_hc_front.c: the guest in tests/guests/c/hc_front.c (send_informational_response, the 103 of
 * send_downstream, response trailers, on_behalf_of, fastly_shielding), with a sink that records
 * the interim responses and trailers it is given, and two shields configured: "edge-local"
 * (local) and "far-away" (at http://127.0.0.1:9/). Also the HEAD length rule. */
#include "config/cfg_edge.h"
#include "harness.h"
#include "hc_guest_run.h"
#include "hostcalls/hc_ctx_internal.h"
#include "hostcalls/hc_resp_extras.h"

static guest_result res;

typedef struct extras {
    int infos;
    uint16_t statuses[8];
    char info_headers[1024];
    char trailers[1024];
} extras;

static extras ex;

static void append(char *dst, size_t cap, const hc_header_view *h, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        size_t used = strlen(dst);
        snprintf(dst + used, cap - used, "%.*s: %.*s\n", (int)h[i].name_len, h[i].name,
                 (int)h[i].value_len, h[i].value);
    }
}

static int on_info(void *sink, uint16_t status, const hc_header_view *h, size_t n)
{
    (void)sink;
    if (ex.infos < 8)
        ex.statuses[ex.infos] = status;
    ex.infos++;
    append(ex.info_headers, sizeof ex.info_headers, h, n);
    return 0;
}

static int on_trailers(void *sink, const hc_header_view *h, size_t n)
{
    (void)sink;
    append(ex.trailers, sizeof ex.trailers, h, n);
    return 0;
}

TEST(guest)
{
    cfg_edge edge;
    cfg_edge_init(&edge);
    char err[256];
    CHECK_EQ_INT(cfg_shields_add_spec(&edge.shields, "edge-local=LOCAL", err, sizeof err), CFG_OK);
    CHECK_EQ_INT(cfg_shields_add_spec(&edge.shields, "far-away=127.0.0.1:9", err, sizeof err),
                 CFG_OK);
    hc_env *e = hc_env_new();
    if (!e)
        return;
    e->settings.edge = &edge;
    e->sink.send_info = on_info;
    e->sink.trailers = on_trailers;
    if (!hc_env_ctx(e))
        return;
    CHECK(run_guest("hc_front", "", e->ctx, &res));
    if (res.fails != 0)
        fprintf(stderr, "%s", res.out);
    CHECK(guest_exited(&res, 0));
    CHECK(res.checks > 60);
    CHECK_EQ_INT(res.fails, 0);
    /* 103, 100, 199 by send_informational_response, then 103 twice by send_downstream */
    CHECK_EQ_INT(ex.infos, 5);
    CHECK_EQ_INT(ex.statuses[0], 103);
    CHECK_EQ_INT(ex.statuses[1], 100);
    CHECK_EQ_INT(ex.statuses[2], 199);
    CHECK_EQ_INT(ex.statuses[3], 103);
    CHECK_EQ_INT(ex.statuses[4], 103);
    CHECK_STR_CONTAINS(ex.info_headers, "link: </a.css>; rel=preload\n");
    CHECK_STR_EQ(ex.trailers, "x-sum: 42\n");
    CHECK_EQ_INT(e->cap.heads, 1);
    CHECK_EQ_INT(e->cap.finishes, 1);
    CHECK_EQ_INT(e->cap.body_len, 4);
    hc_env_free(e);
    cfg_edge_deinit(&edge);
}

TEST(head_length_rule)
{
    hc_response *r = hc_response_new();
    CHECK_EQ_INT(hc_head_content_length(r, true, 0), -1); /* nothing declared, empty body */
    CHECK_EQ_INT(hc_head_content_length(r, false, 0), -1);
    CHECK_EQ_INT(hc_head_content_length(r, true, 17), 17);
    hc_headers_append(&r->headers, "Content-Length", 14, "1234", 4);
    CHECK_EQ_INT(hc_head_content_length(r, true, 0), 1234);
    hc_headers_remove(&r->headers, "content-length", 14);
    hc_headers_append(&r->headers, "content-length", 14, "12x", 3);
    CHECK_EQ_INT(hc_head_content_length(r, true, 0), -1); /* not a number: not declared */
    hc_response_free(r);
    CHECK(hc_interim_status_ok(103));
    CHECK(hc_interim_status_ok(100));
    CHECK(!hc_interim_status_ok(101));
    CHECK(!hc_interim_status_ok(200));
    CHECK(!hc_interim_status_ok(99));
}

HARNESS_MAIN(RUN(guest); RUN(head_length_rule);)
