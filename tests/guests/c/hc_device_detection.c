/* hc_device_detection.c: test guest for fastly_device_detection.lookup. Run by
 * tests/unit/hostcalls/test_hc_device_detection.c with argv[1] "data" (the test's JSON file is
 * configured) or "none" (no device-detection data). */
#include "hc_check.h"

#include <stdbool.h>

#define UA_PHONE "Mozilla/5.0 (Linux; Android 14; Pixel 8) Mobile"
#define PHONE_JSON                                                                                 \
    "{\"device\":{\"name\":\"Pixel 8\",\"brand\":\"Google\",\"is_mobile\":true,\"is_tablet\":"     \
    "false,\"hwtype\":\"Mobile Phone\"}}"

static char buf[1024];
static size_t nw;

int main(int argc, char **argv)
{
    const char *mode = argc > 1 ? argv[1] : "";
    bool data = strcmp(mode, "data") == 0;
    /* covers: fastly_device_detection.lookup */
    nw = 0;
    EXPECT_ST(fastly_device_detection_lookup(UA_PHONE, sizeof UA_PHONE - 1, buf, sizeof buf, &nw),
              data ? ST_OK : ST_NONE);
    if (data) {
        EXPECT_BYTES(buf, nw, PHONE_JSON);
        /* a UTF-8 user agent matches byte for byte */
        EXPECT_ST(fastly_device_detection_lookup("caf\xc3\xa9/1.0", 9, buf, sizeof buf, &nw),
                  ST_OK);
        EXPECT_BYTES(buf, nw, "{\"device\":{\"name\":\"Caf\xc3\xa9\"}}");
        /* a too-small buffer: buflen and the size needed, the buffer untouched */
        memset(buf, 'z', sizeof buf);
        nw = 0;
        EXPECT_ST(fastly_device_detection_lookup(UA_PHONE, sizeof UA_PHONE - 1, buf, 5, &nw),
                  ST_BUFLEN);
        EXPECT_INT(nw, sizeof PHONE_JSON - 1);
        EXPECT(buf[0] == 'z');
        EXPECT_ST(fastly_device_detection_lookup(UA_PHONE, sizeof UA_PHONE - 1, buf, nw, &nw),
                  ST_OK);
        /* out-parameters outside memory or misaligned */
        EXPECT_ST(fastly_device_detection_lookup(UA_PHONE, sizeof UA_PHONE - 1, BAD_PTR, 200, &nw),
                  ST_INVAL);
        EXPECT_ST(
            fastly_device_detection_lookup(UA_PHONE, sizeof UA_PHONE - 1, buf, sizeof buf, BAD_PTR),
            ST_INVAL);
        EXPECT_ST(fastly_device_detection_lookup(UA_PHONE, sizeof UA_PHONE - 1, buf, sizeof buf,
                                                 MISALIGNED),
                  ST_BADALIGN);
    }
    /* unknown user agents, a prefix of a known one, the empty one: none, nwritten untouched */
    nw = 77;
    EXPECT_ST(fastly_device_detection_lookup("curl/8.4.0", 10, buf, sizeof buf, &nw), ST_NONE);
    EXPECT_ST(fastly_device_detection_lookup(UA_PHONE, 10, buf, sizeof buf, &nw), ST_NONE);
    EXPECT_ST(fastly_device_detection_lookup("", 0, buf, sizeof buf, &nw), ST_NONE);
    EXPECT_INT(nw, 77);
    /* a user agent outside memory is inval; one that is not UTF-8 is error (as Viceroy) */
    EXPECT_ST(fastly_device_detection_lookup(BAD_PTR, 20, buf, sizeof buf, &nw), ST_INVAL);
    EXPECT_ST(fastly_device_detection_lookup("bad\xff", 4, buf, sizeof buf, &nw), ST_ERROR);
    EXPECT_ST(fastly_device_detection_lookup("\xed\xa0\x80", 3, buf, sizeof buf, &nw), ST_ERROR);
    return hc_done();
}
