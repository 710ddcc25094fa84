/* hc_image_optimizer.c: test guest for fastly_image_optimizer.transform_image_optimizer_request,
 * run by tests/unit/hostcalls/test_hc_image_optimizer.c against a test origin (backend "origin")
 * serving images made at test time. argv[1] is either "checks" (argument checks, error paths and
 * one transform, ending with "checks=N fails=M") or "PATH|QUERY|ACCEPT": one transform of
 * origin PATH by QUERY whose response goes downstream with x-io-status and x-io-tag headers
 * (status 599 and no body when the call failed), for the test to inspect. */
#include "hc_check.h"

#include <stdlib.h>

#define TAG_OK FASTLY_IMAGE_OPTIMIZER_ERROR_TAG_OK
#define TAG_ERROR FASTLY_IMAGE_OPTIMIZER_ERROR_TAG_ERROR
#define SDK_OPTS FASTLY_IMAGE_OPTIMIZER_TRANSFORM_CONFIG_OPTIONS_SDK_CLAIMS_OPTS
#define NO_HANDLE 0xFFFFFFFEu

static fastly_request_handle new_req(const char *path, const char *accept)
{
    fastly_request_handle r = 0;
    char uri[512];
    int n = snprintf(uri, sizeof uri, "http://origin.test%s", path);
    fastly_http_req_new(&r);
    fastly_http_req_uri_set(r, uri, (size_t)n);
    if (accept && *accept)
        fastly_http_req_header_insert(r, S("Accept"), (const uint8_t *)accept, strlen(accept));
    return r;
}

static int transform(fastly_request_handle req, fastly_body_handle body, const char *backend,
                     const char *query, fastly_image_optimizer_error_detail *d,
                     fastly_response_handle *resp, fastly_body_handle *rbody)
{
    fastly_image_optimizer_transform_config cfg = {(char *)query, (uint32_t)strlen(query)};
    memset(d, 0, sizeof *d);
    return fastly_image_optimizer_transform_image_optimizer_request(
        req, body, backend, strlen(backend), SDK_OPTS, &cfg, d, resp, rbody);
}

static size_t header(fastly_response_handle r, const char *name, char *out, size_t len)
{
    size_t n = 0;
    if (fastly_http_resp_header_value_get(r, (const uint8_t *)name, strlen(name), out, len - 1,
                                          &n) != ST_OK)
        n = 0;
    out[n] = '\0';
    return n;
}

static int checks(void)
{
    fastly_image_optimizer_error_detail d;
    fastly_response_handle resp = 0;
    fastly_body_handle rbody = 0;
    fastly_image_optimizer_transform_config cfg = {"width=10", 8};
    fastly_request_handle req = new_req("/img.png", NULL);
    char buf[512];

    /* covers: fastly_image_optimizer.transform_image_optimizer_request */
    /* pointers outside memory, a misaligned detail, reserved option bits */
    EXPECT_ST(fastly_image_optimizer_transform_image_optimizer_request(
                  req, NO_HANDLE, "origin", 6, SDK_OPTS, &cfg, BAD_PTR, &resp, &rbody),
              ST_INVAL);
    EXPECT_ST(fastly_image_optimizer_transform_image_optimizer_request(
                  req, NO_HANDLE, "origin", 6, SDK_OPTS, &cfg,
                  (fastly_image_optimizer_error_detail *)MISALIGNED, &resp, &rbody),
              ST_BADALIGN);
    memset(&d, 0x55, sizeof d);
    EXPECT_ST(fastly_image_optimizer_transform_image_optimizer_request(
                  req, NO_HANDLE, "origin", 6, SDK_OPTS, &cfg, &d, BAD_PTR, &rbody),
              ST_INVAL);
    EXPECT_INT(d.tag, TAG_ERROR);
    EXPECT(d.message == NULL && d.message_len == 0);
    EXPECT_ST(fastly_image_optimizer_transform_image_optimizer_request(
                  req, NO_HANDLE, "origin", 6, SDK_OPTS, &cfg, &d, &resp, BAD_PTR),
              ST_INVAL);
    EXPECT_ST(fastly_image_optimizer_transform_image_optimizer_request(
                  req, NO_HANDLE, BAD_PTR, 6, SDK_OPTS, &cfg, &d, &resp, &rbody),
              ST_INVAL);
    EXPECT_ST(fastly_image_optimizer_transform_image_optimizer_request(
                  req, NO_HANDLE, "origin", 6, SDK_OPTS, BAD_PTR, &d, &resp, &rbody),
              ST_INVAL);
    fastly_image_optimizer_transform_config bad_cfg = {BAD_PTR, 8};
    EXPECT_ST(fastly_image_optimizer_transform_image_optimizer_request(
                  req, NO_HANDLE, "origin", 6, SDK_OPTS, &bad_cfg, &d, &resp, &rbody),
              ST_INVAL);
    EXPECT_ST(fastly_image_optimizer_transform_image_optimizer_request(
                  req, NO_HANDLE, "origin", 6, SDK_OPTS | 1, &cfg, &d, &resp, &rbody),
              ST_INVAL);
    EXPECT_INT(d.tag, TAG_ERROR);
    /* bad handles */
    EXPECT_ST(transform(BAD_HANDLE, NO_HANDLE, "origin", "width=10", &d, &resp, &rbody), ST_BADF);
    EXPECT_INT(d.tag, TAG_ERROR);
    EXPECT_ST(transform(req, BAD_HANDLE, "origin", "width=10", &d, &resp, &rbody), ST_BADF);
    /* an unknown backend, a bad parameter value: nothing is sent, the request stays usable */
    EXPECT_ST(transform(req, NO_HANDLE, "nope", "width=10", &d, &resp, &rbody), ST_INVAL);
    EXPECT_INT(d.tag, TAG_ERROR);
    EXPECT_ST(transform(req, NO_HANDLE, "origin", "width=abc", &d, &resp, &rbody), ST_INVAL);
    EXPECT_INT(d.tag, TAG_ERROR);
    EXPECT_ST(fastly_http_req_uri_set(req, "http://origin.test/img.png", 26), ST_OK);

    /* a transform with a request body handle of its own; the request is consumed */
    fastly_body_handle rb = 0;
    EXPECT_ST(fastly_http_body_new(&rb), ST_OK);
    EXPECT_ST(
        transform(req, rb, "origin", "region=us_east&width=20&format=webp", &d, &resp, &rbody),
        ST_OK);
    EXPECT_INT(d.tag, TAG_OK);
    uint16_t status = 0;
    EXPECT_ST(fastly_http_resp_status_get(resp, &status), ST_OK);
    EXPECT_INT(status, 200);
    size_t n = header(resp, "content-type", buf, sizeof buf);
    EXPECT_BYTES(buf, n, "image/webp");
    n = header(resp, "fastly-io-info", buf, sizeof buf);
    EXPECT(strstr(buf, "idim=80x60 ifmt=png") != NULL);
    EXPECT(strstr(buf, "odim=20x15 ofmt=webp") != NULL);
    size_t got = 0;
    EXPECT_ST(fastly_http_body_read(rbody, (uint8_t *)buf, sizeof buf, &got), ST_OK);
    EXPECT(got > 12 && memcmp(buf, "RIFF", 4) == 0 && memcmp(buf + 8, "WEBP", 4) == 0);
    EXPECT_ST(fastly_http_req_uri_set(req, "http://x/", 9), ST_BADF);

    /* not an image: the origin response comes back untouched, tagged error, Fastly-IO-Error */
    req = new_req("/text", NULL);
    EXPECT_ST(transform(req, NO_HANDLE, "origin", "width=10", &d, &resp, &rbody), ST_OK);
    EXPECT_INT(d.tag, TAG_ERROR);
    EXPECT_ST(fastly_http_resp_status_get(resp, &status), ST_OK);
    EXPECT_INT(status, 200);
    n = header(resp, "fastly-io-error", buf, sizeof buf);
    EXPECT_BYTES(buf, n, "Not a supported image format");
    got = 0;
    EXPECT_ST(fastly_http_body_read(rbody, (uint8_t *)buf, sizeof buf, &got), ST_OK);
    EXPECT_BYTES(buf, got, "just some text");

    /* an origin error status passes through */
    req = new_req("/missing", NULL);
    EXPECT_ST(transform(req, NO_HANDLE, "origin", "width=10", &d, &resp, &rbody), ST_OK);
    EXPECT_INT(d.tag, TAG_ERROR);
    EXPECT_ST(fastly_http_resp_status_get(resp, &status), ST_OK);
    EXPECT_INT(status, 404);
    n = header(resp, "fastly-io-error", buf, sizeof buf);
    EXPECT(strstr(buf, "Invalid status") == buf);

    /* a backend nobody answers on: the send's error status */
    req = new_req("/img.png", NULL);
    int st = transform(req, NO_HANDLE, "down", "width=10", &d, &resp, &rbody);
    EXPECT(st != ST_OK);
    EXPECT_INT(d.tag, TAG_ERROR);
    return hc_done();
}

/* "PATH|QUERY|ACCEPT": one transform, its outcome downstream. */
static int one(char *spec)
{
    char *query = strchr(spec, '|');
    char *accept = query ? strchr(query + 1, '|') : NULL;
    if (!query || !accept)
        return 2;
    *query++ = '\0';
    *accept++ = '\0';
    fastly_image_optimizer_error_detail d;
    fastly_response_handle resp = 0;
    fastly_body_handle body = 0;
    int st = transform(new_req(spec, accept), NO_HANDLE, "origin", query, &d, &resp, &body);
    if (st != ST_OK) {
        fastly_http_resp_new(&resp);
        fastly_http_body_new(&body);
        fastly_http_resp_status_set(resp, 599);
    }
    char v[16];
    int n = snprintf(v, sizeof v, "%d", st);
    fastly_http_resp_header_insert(resp, S("x-io-status"), (const uint8_t *)v, (size_t)n);
    n = snprintf(v, sizeof v, "%u", d.tag);
    fastly_http_resp_header_insert(resp, S("x-io-tag"), (const uint8_t *)v, (size_t)n);
    return fastly_http_resp_send_downstream(resp, body, 0) == ST_OK ? 0 : 1;
}

int main(int argc, char **argv)
{
    if (argc < 2)
        return 2;
    if (strcmp(argv[1], "checks") == 0)
        return checks();
    return one(argv[1]);
}
