/* hc_acl.c: test guest for fastly_acl. Run by tests/unit/hostcalls/test_hc_acl.c, which
 * configures ACL "list": 192.168.0.0/16 BLOCK, 192.168.1.0/24 ALLOW, 10.0.0.0/8 ALLOW,
 * 10.0.0.0/8 BLOCK (the later of equal prefixes wins), 2001:db8::/32 BLOCK,
 * 2001:db8:0:1::/64 ALLOW, ::ffff:0:0/96 BLOCK; and ACL "empty" with no entries. */
#include "hc_check.h"

#define SC(lit) (lit), (sizeof(lit) - 1)

static char buf[512];

/* Looks ip up; returns the acl_error, the body text in buf (NUL-terminated) when there is one. */
static int lookup(fastly_acl_handle acl, const uint8_t *ip, size_t len, int *status)
{
    fastly_body_handle body = BAD_HANDLE;
    fastly_acl_error e = FASTLY_ACL_ERROR_UNINITIALIZED;
    buf[0] = '\0';
    *status = fastly_acl_lookup(acl, (const char *)ip, len, &body, &e);
    if (*status == ST_OK && e == FASTLY_ACL_ERROR_OK) {
        size_t n = 0, total = 0;
        while (fastly_http_body_read(body, (uint8_t *)buf + total, sizeof buf - 1 - total, &n) ==
                   ST_OK &&
               n > 0)
            total += n;
        buf[total] = '\0';
        fastly_http_body_close(body);
    } else if (body != BAD_HANDLE) {
        printf("FAIL: a body handle without a match\n");
        hc_fails++;
    }
    return (int)e;
}

#define EXPECT_MATCH(acl, ip, want)                                                                \
    do {                                                                                           \
        int st_;                                                                                   \
        EXPECT_INT(lookup(acl, ip, sizeof(ip), &st_), FASTLY_ACL_ERROR_OK);                        \
        EXPECT_INT(st_, ST_OK);                                                                    \
        EXPECT_BYTES(buf, strlen(buf), want);                                                      \
    } while (0)

#define EXPECT_NO_MATCH(acl, ip)                                                                   \
    do {                                                                                           \
        int st_;                                                                                   \
        EXPECT_INT(lookup(acl, ip, sizeof(ip), &st_), FASTLY_ACL_ERROR_NO_CONTENT);                \
        EXPECT_INT(st_, ST_OK);                                                                    \
    } while (0)

int main(int argc, char **argv)
{
    fastly_acl_handle acl = BAD_HANDLE, empty = BAD_HANDLE, other = BAD_HANDLE;
    if (argc > 1 && strcmp(argv[1], "unconfigured") == 0) {
        EXPECT_ST(fastly_acl_open(SC("list"), &acl), ST_NONE);
        return hc_done();
    }
    /* covers: fastly_acl.open */
    EXPECT_ST(fastly_acl_open(SC("list"), &acl), ST_OK);
    EXPECT_ST(fastly_acl_open(SC("empty"), &empty), ST_OK);
    EXPECT_ST(fastly_acl_open(SC("nope"), &other), ST_NONE); /* unknown: Viceroy's none */
    EXPECT_ST(fastly_acl_open("", 0, &other), ST_NONE);
    EXPECT_ST(fastly_acl_open(BAD_PTR, 4, &other), ST_INVAL);
    EXPECT_ST(fastly_acl_open(SC("l\x80st"), &other), ST_INVAL);
    EXPECT_ST(fastly_acl_open(SC("list"), BAD_PTR), ST_INVAL);
    EXPECT_ST(fastly_acl_open(SC("list"), MISALIGNED), ST_BADALIGN);

    /* covers: fastly_acl.lookup */
    static const uint8_t in16[4] = {192, 168, 7, 9}, in24[4] = {192, 168, 1, 77},
                         ten[4] = {10, 1, 2, 3}, outside[4] = {8, 8, 8, 8};
    EXPECT_MATCH(acl, in16, "{\n  \"prefix\": \"192.168.0.0/16\",\n  \"action\": \"BLOCK\"\n}");
    EXPECT_MATCH(acl, in24, "{\n  \"prefix\": \"192.168.1.0/24\",\n  \"action\": \"ALLOW\"\n}");
    EXPECT_MATCH(acl, ten, "{\n  \"prefix\": \"10.0.0.0/8\",\n  \"action\": \"BLOCK\"\n}");
    EXPECT_NO_MATCH(acl, outside);
    static const uint8_t v6_32[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 9, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1},
                         v6_64[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 5},
                         v6_out[16] = {0x20, 0x01, 0x0d, 0xb9, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1},
                         mapped[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 192, 168, 1, 1};
    EXPECT_MATCH(acl, v6_32, "{\n  \"prefix\": \"2001:db8::/32\",\n  \"action\": \"BLOCK\"\n}");
    EXPECT_MATCH(acl, v6_64, "{\n  \"prefix\": \"2001:db8:0:1::/64\",\n  \"action\": \"ALLOW\"\n}");
    EXPECT_NO_MATCH(acl, v6_out);
    /* a v4-mapped address is IPv6 here: it does not match 192.168.0.0/16 */
    EXPECT_MATCH(acl, mapped,
                 "{\n  \"prefix\": \"::ffff:0.0.0.0/96\",\n  \"action\": \"BLOCK\"\n}");
    EXPECT_NO_MATCH(empty, in16);
    /* errors */
    fastly_body_handle body = BAD_HANDLE;
    fastly_acl_error e = FASTLY_ACL_ERROR_UNINITIALIZED;
    EXPECT_ST(fastly_acl_lookup(BAD_HANDLE, (const char *)in16, 4, &body, &e), ST_BADF);
    EXPECT_ST(fastly_acl_lookup(acl, (const char *)in16, 5, &body, &e), ST_INVAL);
    EXPECT_ST(fastly_acl_lookup(acl, (const char *)in16, 0, &body, &e), ST_INVAL);
    EXPECT_ST(fastly_acl_lookup(acl, BAD_PTR, 4, &body, &e), ST_INVAL);
    EXPECT_ST(fastly_acl_lookup(acl, (const char *)in16, 4, BAD_PTR, &e), ST_INVAL);
    EXPECT_ST(fastly_acl_lookup(acl, (const char *)in16, 4, &body, BAD_PTR), ST_INVAL);
    EXPECT_ST(fastly_acl_lookup(acl, (const char *)outside, 4, &body, MISALIGNED), ST_BADALIGN);
    EXPECT_INT(e, FASTLY_ACL_ERROR_UNINITIALIZED); /* untouched by the failed calls */
    return hc_done();
}
