/* hc_secret_store.c: test guest for fastly_secret_store. Run by
 * tests/unit/hostcalls/test_hc_secret_store.c, which configures secret store "secrets"
 * {api_key: "s3cr3t-Value-42", empty: ""}; with the argument "unconfigured", no secret stores. */
#include "hc_check.h"

#define SC(lit) (lit), (sizeof(lit) - 1)

static char buf[256];

int main(int argc, char **argv)
{
    size_t nw = 0;
    fastly_secret_store_handle store = BAD_HANDLE, other = BAD_HANDLE;
    fastly_secret_handle sec = BAD_HANDLE, empty = BAD_HANDLE, made = BAD_HANDLE;
    if (argc > 1 && strcmp(argv[1], "unconfigured") == 0) {
        EXPECT_ST(fastly_secret_store_open(SC("secrets"), &store), ST_NONE);
        EXPECT_ST(fastly_secret_store_get(0, SC("api_key"), &sec), ST_BADF);
        /* from_bytes needs no store */
        EXPECT_ST(fastly_secret_store_from_bytes(SC("x"), &made), ST_OK);
        EXPECT_ST(fastly_secret_store_plaintext(made, buf, sizeof buf, &nw), ST_OK);
        EXPECT_BYTES(buf, nw, "x");
        return hc_done();
    }

    /* covers: fastly_secret_store.open */
    EXPECT_ST(fastly_secret_store_open(SC("secrets"), &store), ST_OK);
    EXPECT_ST(fastly_secret_store_open(SC("nope"), &other), ST_NONE); /* unknown: Viceroy's none */
    EXPECT_ST(fastly_secret_store_open("", 0, &other), ST_NONE);
    EXPECT_ST(fastly_secret_store_open(BAD_PTR, 7, &other), ST_INVAL);
    EXPECT_ST(fastly_secret_store_open(SC("secr\xe9ts"), &other), ST_INVAL); /* not UTF-8 */
    EXPECT_ST(fastly_secret_store_open(SC("secrets"), BAD_PTR), ST_INVAL);
    EXPECT_ST(fastly_secret_store_open(SC("secrets"), MISALIGNED), ST_BADALIGN);

    /* covers: fastly_secret_store.get */
    EXPECT_ST(fastly_secret_store_get(store, SC("api_key"), &sec), ST_OK);
    EXPECT_ST(fastly_secret_store_get(store, SC("empty"), &empty), ST_OK);
    EXPECT_ST(fastly_secret_store_get(store, SC("nope"), &other), ST_NONE);
    EXPECT_ST(fastly_secret_store_get(store, SC("API_KEY"), &other), ST_NONE);
    EXPECT_ST(fastly_secret_store_get(BAD_HANDLE, SC("api_key"), &other), ST_BADF);
    EXPECT_ST(fastly_secret_store_get(sec, SC("api_key"), &other), ST_BADF); /* not a store */
    EXPECT_ST(fastly_secret_store_get(store, BAD_PTR, 7, &other), ST_INVAL);
    EXPECT_ST(fastly_secret_store_get(store, SC("api_key"), BAD_PTR), ST_INVAL);

    /* covers: fastly_secret_store.plaintext */
    EXPECT_ST(fastly_secret_store_plaintext(sec, buf, sizeof buf, &nw), ST_OK);
    EXPECT_BYTES(buf, nw, "s3cr3t-Value-42");
    nw = 0;
    EXPECT_ST(fastly_secret_store_plaintext(sec, buf, 15, &nw), ST_OK); /* exact fit */
    EXPECT_INT(nw, 15);
    nw = 0;
    EXPECT_ST(fastly_secret_store_plaintext(sec, buf, 3, &nw), ST_BUFLEN);
    EXPECT_INT(nw, 15);
    nw = 9;
    EXPECT_ST(fastly_secret_store_plaintext(empty, buf, 0, &nw), ST_OK);
    EXPECT_INT(nw, 0);
    EXPECT_ST(fastly_secret_store_plaintext(BAD_HANDLE, buf, sizeof buf, &nw), ST_BADF);
    EXPECT_ST(fastly_secret_store_plaintext(store, buf, sizeof buf, &nw), ST_BADF);
    EXPECT_ST(fastly_secret_store_plaintext(sec, BAD_PTR, 64, &nw), ST_INVAL);
    EXPECT_ST(fastly_secret_store_plaintext(sec, buf, sizeof buf, BAD_PTR), ST_INVAL);
    EXPECT_ST(fastly_secret_store_plaintext(sec, buf, sizeof buf, MISALIGNED), ST_BADALIGN);

    /* covers: fastly_secret_store.from_bytes */
    char raw[] = {'m', 'a', 'd', 'e', 0, (char)0xff, 'x'};
    EXPECT_ST(fastly_secret_store_from_bytes(raw, sizeof raw, &made), ST_OK);
    raw[0] = 'M'; /* the secret is a copy */
    EXPECT_ST(fastly_secret_store_plaintext(made, buf, sizeof buf, &nw), ST_OK);
    EXPECT_INT(nw, 7);
    EXPECT(memcmp(buf, "made\0\xffx", 7) == 0);
    EXPECT_ST(fastly_secret_store_plaintext(made, buf, 6, &nw), ST_BUFLEN);
    EXPECT_INT(nw, 7);
    fastly_secret_handle none = BAD_HANDLE;
    EXPECT_ST(fastly_secret_store_from_bytes(buf, 0, &none), ST_OK); /* empty is a secret too */
    EXPECT_ST(fastly_secret_store_plaintext(none, buf, sizeof buf, &nw), ST_OK);
    EXPECT_INT(nw, 0);
    EXPECT_ST(fastly_secret_store_from_bytes(BAD_PTR, 32, &other), ST_INVAL);
    EXPECT_ST(fastly_secret_store_from_bytes(raw, sizeof raw, BAD_PTR), ST_INVAL);
    EXPECT(made != sec && none != made);
    /* a secret is not a store, a store not a secret */
    EXPECT_ST(fastly_secret_store_get(made, SC("api_key"), &other), ST_BADF);
    return hc_done();
}
