/* hc_dictionary.c: test guest for fastly_dictionary and fastly_config_store (one namespace, one
 * kind of handle, as Viceroy). Run by tests/unit/hostcalls/test_hc_dictionary.c, which configures
 * dictionary "dict" {greeting: hello, empty: "", utf: "grüße", long: 8000 x, <256 k>: "maxkey"},
 * config store "settings" {mode: fast}, and "shared" as both (dictionary value "from-dict",
 * config store value "from-store"). */
#include "hc_check.h"

#define SC(lit) (lit), (sizeof(lit) - 1)

static char buf[9000];

int main(int argc, char **argv)
{
    size_t nw = 0;
    if (argc > 1 && strcmp(argv[1], "unconfigured") == 0) {
        /* a server without edge data: every name is unknown */
        fastly_dictionary_handle h;
        EXPECT_ST(fastly_dictionary_open(SC("dict"), &h), ST_BADF);
        EXPECT_ST(fastly_config_store_open(SC("settings"), &h), ST_BADF);
        EXPECT_ST(fastly_dictionary_get(0, SC("greeting"), buf, sizeof buf, &nw), ST_BADF);
        return hc_done();
    }
    fastly_dictionary_handle d = BAD_HANDLE, shared = BAD_HANDLE;
    fastly_config_store_handle c = BAD_HANDLE;

    /* covers: fastly_dictionary.open */
    EXPECT_ST(fastly_dictionary_open(SC("dict"), &d), ST_OK);
    EXPECT_ST(fastly_dictionary_open(SC("nope"), &shared), ST_BADF); /* unknown: Viceroy's badf */
    EXPECT_ST(fastly_dictionary_open("", 0, &shared), ST_BADF);
    EXPECT_ST(fastly_dictionary_open(SC("Dict"), &shared), ST_BADF); /* names are exact */
    EXPECT_ST(fastly_dictionary_open(BAD_PTR, 4, &shared), ST_INVAL);
    EXPECT_ST(fastly_dictionary_open(SC("di\xff"), &shared), ST_INVAL); /* not UTF-8 */
    EXPECT_ST(fastly_dictionary_open(SC("dict"), BAD_PTR), ST_INVAL);
    EXPECT_ST(fastly_dictionary_open(SC("dict"), MISALIGNED), ST_BADALIGN);

    /* covers: fastly_dictionary.get */
    EXPECT_ST(fastly_dictionary_get(d, SC("greeting"), buf, sizeof buf, &nw), ST_OK);
    EXPECT_BYTES(buf, nw, "hello");
    nw = 0;
    EXPECT_ST(fastly_dictionary_get(d, SC("greeting"), buf, 5, &nw), ST_OK); /* exact fit */
    EXPECT_INT(nw, 5);
    nw = 0;
    EXPECT_ST(fastly_dictionary_get(d, SC("greeting"), buf, 4, &nw), ST_BUFLEN);
    EXPECT_INT(nw, 5); /* the size needed */
    EXPECT_ST(fastly_dictionary_get(d, SC("greeting"), buf, 0, &nw), ST_BUFLEN);
    nw = 7;
    EXPECT_ST(fastly_dictionary_get(d, SC("empty"), buf, 0, &nw), ST_OK);
    EXPECT_INT(nw, 0);
    EXPECT_ST(fastly_dictionary_get(d, SC("utf"), buf, sizeof buf, &nw), ST_OK);
    EXPECT_BYTES(buf, nw,
                 "gr\xc3\xbc\xc3\x9f"
                 "e");
    EXPECT_ST(fastly_dictionary_get(d, SC("nope"), buf, sizeof buf, &nw), ST_NONE);
    EXPECT_ST(fastly_dictionary_get(d, "", 0, buf, sizeof buf, &nw), ST_NONE);
    EXPECT_ST(fastly_dictionary_get(d, SC("Greeting"), buf, sizeof buf, &nw), ST_NONE);
    /* the longest value and key production allows */
    EXPECT_ST(fastly_dictionary_get(d, SC("long"), buf, sizeof buf, &nw), ST_OK);
    EXPECT_INT(nw, 8000);
    EXPECT(buf[0] == 'x' && buf[7999] == 'x');
    EXPECT_ST(fastly_dictionary_get(d, SC("long"), buf, 7999, &nw), ST_BUFLEN);
    EXPECT_INT(nw, 8000);
    char key[256];
    memset(key, 'k', sizeof key);
    EXPECT_ST(fastly_dictionary_get(d, key, sizeof key, buf, sizeof buf, &nw), ST_OK);
    EXPECT_BYTES(buf, nw, "maxkey");
    /* bad arguments */
    EXPECT_ST(fastly_dictionary_get(BAD_HANDLE, SC("greeting"), buf, sizeof buf, &nw), ST_BADF);
    EXPECT_ST(fastly_dictionary_get(d, BAD_PTR, 8, buf, sizeof buf, &nw), ST_INVAL);
    EXPECT_ST(fastly_dictionary_get(d, SC("gr\xc3"), buf, sizeof buf, &nw), ST_INVAL);
    EXPECT_ST(fastly_dictionary_get(d, SC("greeting"), BAD_PTR, 16, &nw), ST_INVAL);
    EXPECT_ST(fastly_dictionary_get(d, SC("greeting"), buf, sizeof buf, BAD_PTR), ST_INVAL);
    EXPECT_ST(fastly_dictionary_get(d, SC("greeting"), buf, sizeof buf, MISALIGNED), ST_BADALIGN);
    EXPECT_ST(fastly_dictionary_get(d, SC("greeting"), buf, 1, BAD_PTR), ST_INVAL);

    /* covers: fastly_config_store.open */
    EXPECT_ST(fastly_config_store_open(SC("settings"), &c), ST_OK);
    EXPECT_ST(fastly_config_store_open(SC("nope"), &shared), ST_BADF);
    EXPECT_ST(fastly_config_store_open(BAD_PTR, 3, &shared), ST_INVAL);
    EXPECT_ST(fastly_config_store_open(SC("settings"), BAD_PTR), ST_INVAL);
    /* covers: fastly_config_store.get */
    EXPECT_ST(fastly_config_store_get(c, SC("mode"), buf, sizeof buf, &nw), ST_OK);
    EXPECT_BYTES(buf, nw, "fast");
    EXPECT_ST(fastly_config_store_get(c, SC("mode"), buf, 3, &nw), ST_BUFLEN);
    EXPECT_INT(nw, 4);
    EXPECT_ST(fastly_config_store_get(c, SC("nope"), buf, sizeof buf, &nw), ST_NONE);
    EXPECT_ST(fastly_config_store_get(BAD_HANDLE, SC("mode"), buf, sizeof buf, &nw), ST_BADF);
    EXPECT_ST(fastly_config_store_get(c, BAD_PTR, 4, buf, sizeof buf, &nw), ST_INVAL);
    EXPECT_ST(fastly_config_store_get(c, SC("mode"), buf, sizeof buf, BAD_PTR), ST_INVAL);

    /* one namespace: each API finds the other's data, its own kind first */
    fastly_config_store_handle as_store = BAD_HANDLE;
    EXPECT_ST(fastly_config_store_open(SC("dict"), &as_store), ST_OK);
    EXPECT_ST(fastly_config_store_get(as_store, SC("greeting"), buf, sizeof buf, &nw), ST_OK);
    EXPECT_BYTES(buf, nw, "hello");
    EXPECT_ST(fastly_dictionary_open(SC("shared"), &shared), ST_OK);
    EXPECT_ST(fastly_dictionary_get(shared, SC("who"), buf, sizeof buf, &nw), ST_OK);
    EXPECT_BYTES(buf, nw, "from-dict");
    EXPECT_ST(fastly_config_store_open(SC("shared"), &shared), ST_OK);
    EXPECT_ST(fastly_config_store_get(shared, SC("who"), buf, sizeof buf, &nw), ST_OK);
    EXPECT_BYTES(buf, nw, "from-store");
    /* and the handles are interchangeable */
    EXPECT_ST(fastly_dictionary_get(c, SC("mode"), buf, sizeof buf, &nw), ST_OK);
    EXPECT_BYTES(buf, nw, "fast");
    EXPECT_ST(fastly_config_store_get(d, SC("greeting"), buf, sizeof buf, &nw), ST_OK);
    EXPECT_BYTES(buf, nw, "hello");
    /* every open is a new handle, each still valid */
    fastly_dictionary_handle d2 = BAD_HANDLE;
    EXPECT_ST(fastly_dictionary_open(SC("dict"), &d2), ST_OK);
    EXPECT(d2 != d);
    EXPECT_ST(fastly_dictionary_get(d, SC("greeting"), buf, sizeof buf, &nw), ST_OK);
    return hc_done();
}
