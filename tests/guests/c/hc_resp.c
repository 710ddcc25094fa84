/* hc_resp.c: test guest for fastly_http_resp and fastly_http_body. argv[1] picks the scenario:
 *   handles   response/body handle calls and their error paths, no response sent
 *   buffered  201 with headers and "hello world" (front + back writes), then a second send fails
 *   streaming head + "first;", then "second;" and an appended "third;" streamed, then close
 *   abandon   streaming send, one write, then abandon (the response is cut short)
 *   leftopen  streaming send, one write, the guest returns with the body open
 *   echo      the downstream body sent back as a buffered response
 *   manual    manual framing (content-length from the guest) and keep-alive off
 *   early     a 1xx status: 100 is inval, 103 is accepted and not forwarded
 * Run by tests/unit/hostcalls/test_hc_resp.c, which checks what reached the sink. */
#include "hc_check.h"

#define SC(lit) (lit), (sizeof(lit) - 1)

static char buf[256];
static size_t nw;
static int64_t ending;

static fastly_body_handle new_body(const char *text)
{
    fastly_body_handle b = BAD_HANDLE;
    EXPECT_ST(fastly_http_body_new(&b), ST_OK);
    if (text && *text)
        EXPECT_ST(fastly_http_body_write(b, (const uint8_t *)text, strlen(text),
                                         FASTLY_BODY_WRITE_END_BACK, &nw),
                  ST_OK);
    return b;
}

static void response_handles(void)
{
    fastly_response_handle r;
    /* covers: fastly_http_resp.new */
    EXPECT_ST(fastly_http_resp_new(&r), ST_OK);
    EXPECT_ST(fastly_http_resp_new(BAD_PTR), ST_INVAL);

    uint16_t status = 0;
    /* covers: fastly_http_resp.status_get, fastly_http_resp.status_set */
    EXPECT_ST(fastly_http_resp_status_get(r, &status), ST_OK);
    EXPECT_INT(status, 200);
    EXPECT_ST(fastly_http_resp_status_set(r, 404), ST_OK);
    EXPECT_ST(fastly_http_resp_status_get(r, &status), ST_OK);
    EXPECT_INT(status, 404);
    EXPECT_ST(fastly_http_resp_status_set(r, 99), ST_INVAL);
    EXPECT_ST(fastly_http_resp_status_set(r, 1000), ST_INVAL);
    EXPECT_ST(fastly_http_resp_status_set(BAD_HANDLE, 200), ST_BADF);
    EXPECT_ST(fastly_http_resp_status_get(BAD_HANDLE, &status), ST_BADF);
    EXPECT_ST(fastly_http_resp_status_get(r, BAD_PTR), ST_INVAL);
    EXPECT_ST(fastly_http_resp_status_get(r, MISALIGNED), ST_BADALIGN);

    fastly_http_version v = 9;
    /* covers: fastly_http_resp.version_get, fastly_http_resp.version_set */
    EXPECT_ST(fastly_http_resp_version_get(r, &v), ST_OK);
    EXPECT_INT(v, FASTLY_HTTP_VERSION_HTTP_11);
    EXPECT_ST(fastly_http_resp_version_set(r, FASTLY_HTTP_VERSION_HTTP_10), ST_OK);
    EXPECT_ST(fastly_http_resp_version_get(r, &v), ST_OK);
    EXPECT_INT(v, FASTLY_HTTP_VERSION_HTTP_10);
    EXPECT_ST(fastly_http_resp_version_set(r, 7), ST_INVAL);
    EXPECT_ST(fastly_http_resp_version_set(BAD_HANDLE, 1), ST_BADF);
    EXPECT_ST(fastly_http_resp_version_get(BAD_HANDLE, &v), ST_BADF);

    /* covers: fastly_http_resp.header_insert, fastly_http_resp.header_append */
    EXPECT_ST(fastly_http_resp_header_insert(r, S("Content-Type"), S("text/plain")), ST_OK);
    EXPECT_ST(fastly_http_resp_header_append(r, S("Set-Cookie"), S("a=1")), ST_OK);
    EXPECT_ST(fastly_http_resp_header_append(r, S("set-cookie"), S("b=2")), ST_OK);
    EXPECT_ST(fastly_http_resp_header_insert(r, S("bad name"), S("x")), ST_ERROR);
    EXPECT_ST(fastly_http_resp_header_append(r, S("x-ok"), S("bad\x01value")), ST_ERROR);
    EXPECT_ST(fastly_http_resp_header_insert(r, BAD_PTR, 4, S("x")), ST_INVAL);
    EXPECT_ST(fastly_http_resp_header_append(BAD_HANDLE, S("x"), S("x")), ST_BADF);
    EXPECT_ST(fastly_http_resp_header_insert(BAD_HANDLE, S("x"), S("x")), ST_BADF);
    /* covers: fastly_http_resp.header_names_get */
    EXPECT_ST(fastly_http_resp_header_names_get(r, buf, sizeof buf, 0, &ending, &nw), ST_OK);
    EXPECT_BYTES(buf, nw, "content-type\0set-cookie\0");
    EXPECT_INT(ending, -1);
    EXPECT_ST(fastly_http_resp_header_names_get(r, buf, 15, 0, &ending, &nw), ST_OK);
    EXPECT_BYTES(buf, nw, "content-type\0");
    EXPECT_INT(ending, 1);
    EXPECT_ST(fastly_http_resp_header_names_get(r, buf, 4, 0, &ending, &nw), ST_BUFLEN);
    EXPECT_INT(nw, 13);
    EXPECT_ST(fastly_http_resp_header_names_get(BAD_HANDLE, buf, 4, 0, &ending, &nw), ST_BADF);
    EXPECT_ST(fastly_http_resp_header_names_get(r, BAD_PTR, 4, 0, &ending, &nw), ST_INVAL);
    /* covers: fastly_http_resp.header_value_get */
    EXPECT_ST(fastly_http_resp_header_value_get(r, S("set-cookie"), buf, sizeof buf, &nw), ST_OK);
    EXPECT_BYTES(buf, nw, "a=1");
    EXPECT_ST(fastly_http_resp_header_value_get(r, S("content-type"), buf, 4, &nw), ST_BUFLEN);
    EXPECT_INT(nw, 10);
    EXPECT_ST(fastly_http_resp_header_value_get(r, S("absent"), buf, sizeof buf, &nw), ST_INVAL);
    EXPECT_ST(fastly_http_resp_header_value_get(BAD_HANDLE, S("x"), buf, sizeof buf, &nw), ST_BADF);
    /* covers: fastly_http_resp.header_values_get */
    EXPECT_ST(
        fastly_http_resp_header_values_get(r, S("Set-Cookie"), buf, sizeof buf, 0, &ending, &nw),
        ST_OK);
    EXPECT_BYTES(buf, nw, "a=1\0b=2\0");
    EXPECT_ST(fastly_http_resp_header_values_get(r, S("set-cookie"), buf, 6, 0, &ending, &nw),
              ST_OK);
    EXPECT_BYTES(buf, nw, "a=1\0");
    EXPECT_INT(ending, 1);
    EXPECT_ST(fastly_http_resp_header_values_get(r, S("set-cookie"), buf, 2, 0, &ending, &nw),
              ST_BUFLEN);
    EXPECT_INT(nw, 4);
    EXPECT_ST(fastly_http_resp_header_values_get(BAD_HANDLE, S("x"), buf, 6, 0, &ending, &nw),
              ST_BADF);
    /* covers: fastly_http_resp.header_values_set */
    EXPECT_ST(fastly_http_resp_header_values_set(r, S("set-cookie"), SC("c=3\0")), ST_OK);
    EXPECT_ST(
        fastly_http_resp_header_values_get(r, S("set-cookie"), buf, sizeof buf, 0, &ending, &nw),
        ST_OK);
    EXPECT_BYTES(buf, nw, "c=3\0");
    EXPECT_ST(fastly_http_resp_header_values_set(r, S("x"), BAD_PTR, 4), ST_INVAL);
    EXPECT_ST(fastly_http_resp_header_values_set(BAD_HANDLE, S("x"), SC("v\0")), ST_BADF);
    /* covers: fastly_http_resp.header_remove */
    EXPECT_ST(fastly_http_resp_header_remove(r, S("SET-COOKIE")), ST_OK);
    EXPECT_ST(fastly_http_resp_header_remove(r, S("set-cookie")), ST_INVAL);
    EXPECT_ST(fastly_http_resp_header_remove(BAD_HANDLE, S("x")), ST_BADF);

    /* covers: fastly_http_resp.framing_headers_mode_set */
    EXPECT_ST(fastly_http_resp_framing_headers_mode_set(r, 1), ST_OK);
    EXPECT_ST(fastly_http_resp_framing_headers_mode_set(r, 2), ST_INVAL);
    EXPECT_ST(fastly_http_resp_framing_headers_mode_set(BAD_HANDLE, 0), ST_BADF);
    /* covers: fastly_http_resp.http_keepalive_mode_set */
    EXPECT_ST(fastly_http_resp_http_keepalive_mode_set(r, 1), ST_OK);
    EXPECT_ST(fastly_http_resp_http_keepalive_mode_set(r, 0), ST_OK);
    EXPECT_ST(fastly_http_resp_http_keepalive_mode_set(r, 2), ST_INVAL);
    EXPECT_ST(fastly_http_resp_http_keepalive_mode_set(BAD_HANDLE, 0), ST_BADF);
    /* covers: fastly_http_resp.get_addr_dest_ip, fastly_http_resp.get_addr_dest_port */
    uint16_t port;
    EXPECT_ST(fastly_http_resp_get_addr_dest_ip(r, buf, &nw), ST_NONE);
    EXPECT_ST(fastly_http_resp_get_addr_dest_port(r, &port), ST_NONE);
    EXPECT_ST(fastly_http_resp_get_addr_dest_ip(BAD_HANDLE, buf, &nw), ST_BADF);
    EXPECT_ST(fastly_http_resp_get_addr_dest_port(BAD_HANDLE, &port), ST_BADF);

    /* covers: fastly_http_resp.close */
    EXPECT_ST(fastly_http_resp_close(r), ST_OK);
    EXPECT_ST(fastly_http_resp_close(r), ST_BADF);
    EXPECT_ST(fastly_http_resp_status_get(r, &status), ST_BADF);

    /* covers: fastly_http_resp.send_downstream */
    EXPECT_ST(fastly_http_resp_new(&r), ST_OK);
    fastly_body_handle b = new_body("x");
    EXPECT_ST(fastly_http_resp_send_downstream(BAD_HANDLE, b, 0), ST_BADF);
    /* as Viceroy: the response is taken first, so a bad body handle still consumes it */
    EXPECT_ST(fastly_http_resp_send_downstream(r, BAD_HANDLE, 0), ST_BADF);
    EXPECT_ST(fastly_http_resp_close(r), ST_BADF);
    EXPECT_ST(fastly_http_resp_new(&r), ST_OK);
    EXPECT_ST(fastly_http_resp_send_downstream(r, BAD_HANDLE, 1), ST_BADF);
    EXPECT_ST(fastly_http_resp_status_get(r, &status), ST_BADF);
    EXPECT_ST(fastly_http_body_close(b), ST_OK); /* the body was left alone */
}

static void body_handles(void)
{
    fastly_body_handle a, b;
    uint64_t len = 0;
    /* covers: fastly_http_body.new */
    EXPECT_ST(fastly_http_body_new(&a), ST_OK);
    EXPECT_ST(fastly_http_body_new(BAD_PTR), ST_INVAL);
    /* covers: fastly_http_body.known_length */
    EXPECT_ST(fastly_http_body_known_length(a, &len), ST_OK);
    EXPECT_INT(len, 0);
    EXPECT_ST(fastly_http_body_known_length(BAD_HANDLE, &len), ST_BADF);
    EXPECT_ST(fastly_http_body_known_length(a, MISALIGNED), ST_BADALIGN);
    /* covers: fastly_http_body.write */
    EXPECT_ST(fastly_http_body_write(a, S("world"), FASTLY_BODY_WRITE_END_BACK, &nw), ST_OK);
    EXPECT_INT(nw, 5);
    EXPECT_ST(fastly_http_body_write(a, S("hello "), FASTLY_BODY_WRITE_END_FRONT, &nw), ST_OK);
    EXPECT_ST(fastly_http_body_write(a, S("x"), 2, &nw), ST_INVAL);
    EXPECT_ST(fastly_http_body_write(a, BAD_PTR, 8, FASTLY_BODY_WRITE_END_BACK, &nw), ST_INVAL);
    EXPECT_ST(fastly_http_body_write(BAD_HANDLE, S("x"), FASTLY_BODY_WRITE_END_BACK, &nw), ST_BADF);
    EXPECT_ST(fastly_http_body_write(a, S("x"), FASTLY_BODY_WRITE_END_BACK, BAD_PTR), ST_INVAL);
    EXPECT_ST(fastly_http_body_known_length(a, &len), ST_OK);
    EXPECT_INT(len, 12);
    /* covers: fastly_http_body.append */
    EXPECT_ST(fastly_http_body_new(&b), ST_OK);
    EXPECT_ST(fastly_http_body_write(b, S("!!"), FASTLY_BODY_WRITE_END_BACK, &nw), ST_OK);
    EXPECT_ST(fastly_http_body_trailer_append(b, S("x-trailer"), S("t1")), ST_OK);
    EXPECT_ST(fastly_http_body_append(a, b), ST_OK);
    EXPECT_ST(fastly_http_body_append(a, b), ST_BADF); /* b was consumed */
    EXPECT_ST(fastly_http_body_append(BAD_HANDLE, a), ST_BADF);
    EXPECT_ST(fastly_http_body_known_length(a, &len), ST_BADF); /* a went with the bad append */

    EXPECT_ST(fastly_http_body_new(&a), ST_OK);
    EXPECT_ST(fastly_http_body_write(a, S("hello world"), FASTLY_BODY_WRITE_END_BACK, &nw), ST_OK);
    EXPECT_ST(fastly_http_body_new(&b), ST_OK);
    EXPECT_ST(fastly_http_body_write(b, S("!!"), FASTLY_BODY_WRITE_END_BACK, &nw), ST_OK);
    /* covers: fastly_http_body.trailer_append */
    EXPECT_ST(fastly_http_body_trailer_append(b, S("X-Trailer"), S("t1")), ST_OK);
    EXPECT_ST(fastly_http_body_trailer_append(a, S("x-trailer"), S("t0")), ST_OK);
    EXPECT_ST(fastly_http_body_trailer_append(a, S("bad name"), S("t0")), ST_ERROR);
    EXPECT_ST(fastly_http_body_trailer_append(BAD_HANDLE, S("x"), S("t0")), ST_BADF);
    EXPECT_ST(fastly_http_body_append(a, b), ST_OK);
    /* trailers are not ready before the body was read to its end */
    /* covers: fastly_http_body.trailer_names_get */
    EXPECT_ST(fastly_http_body_trailer_names_get(a, buf, sizeof buf, 0, &ending, &nw), ST_AGAIN);
    /* covers: fastly_http_body.read */
    char all[64];
    size_t total = 0, n = 1;
    EXPECT_ST(fastly_http_body_read(a, (uint8_t *)all, 4, &n), ST_OK);
    EXPECT_BYTES(all, n, "hell");
    total = n;
    while (n != 0 && total < sizeof all) {
        EXPECT_ST(fastly_http_body_read(a, (uint8_t *)all + total, sizeof all - total, &n), ST_OK);
        total += n;
    }
    EXPECT_BYTES(all, total, "hello world!!");
    EXPECT_ST(fastly_http_body_read(a, BAD_PTR, 16, &n), ST_INVAL);
    EXPECT_ST(fastly_http_body_read(BAD_HANDLE, (uint8_t *)all, 4, &n), ST_BADF);
    EXPECT_ST(fastly_http_body_read(a, (uint8_t *)all, 4, BAD_PTR), ST_INVAL);
    EXPECT_ST(fastly_http_body_trailer_names_get(a, buf, sizeof buf, 0, &ending, &nw), ST_OK);
    EXPECT_BYTES(buf, nw, "x-trailer\0");
    EXPECT_INT(ending, -1);
    EXPECT_ST(fastly_http_body_trailer_names_get(a, buf, 3, 0, &ending, &nw), ST_BUFLEN);
    EXPECT_INT(nw, 10);
    EXPECT_ST(fastly_http_body_trailer_names_get(BAD_HANDLE, buf, 3, 0, &ending, &nw), ST_BADF);
    /* covers: fastly_http_body.trailer_value_get */
    EXPECT_ST(fastly_http_body_trailer_value_get(a, S("X-TRAILER"), buf, sizeof buf, &nw), ST_OK);
    EXPECT_BYTES(buf, nw, "t0");
    EXPECT_ST(fastly_http_body_trailer_value_get(a, S("x-trailer"), buf, 1, &nw), ST_BUFLEN);
    EXPECT_INT(nw, 2);
    EXPECT_ST(fastly_http_body_trailer_value_get(a, S("absent"), buf, sizeof buf, &nw), ST_INVAL);
    EXPECT_ST(fastly_http_body_trailer_value_get(BAD_HANDLE, S("x"), buf, 1, &nw), ST_BADF);
    /* covers: fastly_http_body.trailer_values_get */
    EXPECT_ST(
        fastly_http_body_trailer_values_get(a, S("x-trailer"), buf, sizeof buf, 0, &ending, &nw),
        ST_OK);
    EXPECT_BYTES(buf, nw, "t0\0t1\0");
    EXPECT_ST(fastly_http_body_trailer_values_get(a, S("x-trailer"), buf, 4, 0, &ending, &nw),
              ST_OK);
    EXPECT_BYTES(buf, nw, "t0\0");
    EXPECT_INT(ending, 1);
    EXPECT_ST(fastly_http_body_trailer_values_get(BAD_HANDLE, S("x"), buf, 4, 0, &ending, &nw),
              ST_BADF);
    /* covers: fastly_http_body.close */
    EXPECT_ST(fastly_http_body_close(a), ST_OK);
    EXPECT_ST(fastly_http_body_close(a), ST_BADF);
    /* covers: fastly_http_body.abandon */
    EXPECT_ST(fastly_http_body_new(&b), ST_OK);
    EXPECT_ST(fastly_http_body_abandon(b), ST_OK);
    EXPECT_ST(fastly_http_body_abandon(b), ST_BADF);
    EXPECT_ST(fastly_http_body_close(BAD_HANDLE), ST_BADF);
}

static fastly_response_handle new_resp(uint16_t status)
{
    fastly_response_handle r = BAD_HANDLE;
    EXPECT_ST(fastly_http_resp_new(&r), ST_OK);
    EXPECT_ST(fastly_http_resp_status_set(r, status), ST_OK);
    return r;
}

static void buffered(void)
{
    fastly_response_handle r = new_resp(201);
    EXPECT_ST(fastly_http_resp_header_insert(r, S("Content-Type"), S("text/plain")), ST_OK);
    EXPECT_ST(fastly_http_resp_header_append(r, S("X-Multi"), S("1")), ST_OK);
    EXPECT_ST(fastly_http_resp_header_append(r, S("X-Multi"), S("2")), ST_OK);
    /* automatic framing drops the guest's own framing headers */
    EXPECT_ST(fastly_http_resp_header_insert(r, S("Content-Length"), S("999")), ST_OK);
    fastly_body_handle b = new_body("world");
    EXPECT_ST(fastly_http_body_write(b, S("hello "), FASTLY_BODY_WRITE_END_FRONT, &nw), ST_OK);
    EXPECT_ST(fastly_http_resp_send_downstream(r, b, 0), ST_OK);
    /* both handles are consumed; a second response is an error */
    EXPECT_ST(fastly_http_resp_close(r), ST_BADF);
    EXPECT_ST(fastly_http_body_close(b), ST_BADF);
    fastly_response_handle r2 = new_resp(200);
    fastly_body_handle b2 = new_body("again");
    EXPECT_ST(fastly_http_resp_send_downstream(r2, b2, 0), ST_ERROR);
    EXPECT_ST(fastly_http_resp_close(r2), ST_BADF);
}

static void streaming(const char *mode)
{
    fastly_response_handle r = new_resp(200);
    fastly_body_handle b = new_body("first;");
    EXPECT_ST(fastly_http_resp_send_downstream(r, b, 1), ST_OK);
    EXPECT_ST(fastly_http_body_write(b, S("second;"), FASTLY_BODY_WRITE_END_BACK, &nw), ST_OK);
    EXPECT_INT(nw, 7);
    if (strcmp(mode, "abandon") == 0) {
        EXPECT_ST(fastly_http_body_abandon(b), ST_OK);
        EXPECT_ST(fastly_http_body_write(b, S("x"), FASTLY_BODY_WRITE_END_BACK, &nw), ST_BADF);
        return;
    }
    if (strcmp(mode, "leftopen") == 0)
        return;
    fastly_body_handle tail = new_body("third;");
    EXPECT_ST(fastly_http_body_append(b, tail), ST_OK);
    /* a streaming body is write-only at its back */
    size_t n;
    uint64_t len;
    EXPECT_ST(fastly_http_body_read(b, (uint8_t *)buf, sizeof buf, &n), ST_BADF);
    EXPECT_ST(fastly_http_body_write(b, S("x"), FASTLY_BODY_WRITE_END_FRONT, &nw), ST_BADF);
    EXPECT_ST(fastly_http_body_known_length(b, &len), ST_NONE);
    EXPECT_ST(fastly_http_body_trailer_append(b, S("x-t"), S("v")), ST_OK);
    EXPECT_ST(fastly_http_body_trailer_names_get(b, buf, sizeof buf, 0, &ending, &nw), ST_INVAL);
    EXPECT_ST(fastly_http_body_trailer_value_get(b, S("x-t"), buf, sizeof buf, &nw), ST_INVAL);
    EXPECT_ST(fastly_http_body_trailer_values_get(b, S("x-t"), buf, sizeof buf, 0, &ending, &nw),
              ST_INVAL);
    /* a streaming body cannot be appended elsewhere */
    fastly_body_handle other = new_body("");
    EXPECT_ST(fastly_http_body_append(other, b), ST_BADF);
    EXPECT_ST(fastly_http_body_close(b), ST_OK);
    EXPECT_ST(fastly_http_body_write(b, S("x"), FASTLY_BODY_WRITE_END_BACK, &nw), ST_BADF);
}

static void echo(void)
{
    fastly_request_handle req;
    fastly_body_handle body;
    EXPECT_ST(fastly_http_req_body_downstream_get(&req, &body), ST_OK);
    fastly_response_handle r = new_resp(200);
    EXPECT_ST(fastly_http_body_write(body, S(">"), FASTLY_BODY_WRITE_END_FRONT, &nw), ST_OK);
    EXPECT_ST(fastly_http_body_write(body, S("<"), FASTLY_BODY_WRITE_END_BACK, &nw), ST_OK);
    EXPECT_ST(fastly_http_resp_send_downstream(r, body, 0), ST_OK);
}

static void manual(void)
{
    fastly_response_handle r = new_resp(200);
    EXPECT_ST(fastly_http_resp_framing_headers_mode_set(r, 1), ST_OK);
    EXPECT_ST(fastly_http_resp_http_keepalive_mode_set(r, 1), ST_OK);
    EXPECT_ST(fastly_http_resp_header_insert(r, S("content-length"), S("5")), ST_OK);
    fastly_body_handle b = new_body("12345");
    EXPECT_ST(fastly_http_resp_send_downstream(r, b, 0), ST_OK);
}

static void early(void)
{
    fastly_response_handle r = new_resp(100);
    EXPECT_ST(fastly_http_resp_send_downstream(r, new_body(""), 0), ST_INVAL);
    r = new_resp(103);
    EXPECT_ST(fastly_http_resp_send_downstream(r, new_body(""), 0), ST_OK);
    r = new_resp(204);
    EXPECT_ST(fastly_http_resp_send_downstream(r, new_body(""), 0), ST_OK);
}

int main(int argc, char **argv)
{
    const char *mode = argc > 1 ? argv[1] : "handles";
    if (strcmp(mode, "handles") == 0) {
        response_handles();
        body_handles();
    } else if (strcmp(mode, "buffered") == 0) {
        buffered();
    } else if (strcmp(mode, "streaming") == 0 || strcmp(mode, "abandon") == 0 ||
               strcmp(mode, "leftopen") == 0) {
        streaming(mode);
    } else if (strcmp(mode, "echo") == 0) {
        echo();
    } else if (strcmp(mode, "manual") == 0) {
        manual();
    } else if (strcmp(mode, "early") == 0) {
        early();
    } else {
        printf("unknown mode %s\n", mode);
        hc_fails++;
    }
    return hc_done();
}
