/* hc_log.c: test guest for fastly_log. Run by tests/unit/hostcalls/test_hc_log.c, which declares
 * "access" (to a file) and "console" (to the default output); every other name goes to the
 * default output too, as Viceroy accepts any name. The test reads back what was written. */
#include "hc_check.h"

#define SC(lit) (const uint8_t *)(lit), (sizeof(lit) - 1)

int main(void)
{
    fastly_endpoint_handle access = BAD_HANDLE, again = BAD_HANDLE, console = BAD_HANDLE,
                           undeclared = BAD_HANDLE, bin = BAD_HANDLE, other = BAD_HANDLE;
    size_t nw = 0;

    /* covers: fastly_log.endpoint_get */
    EXPECT_ST(fastly_log_endpoint_get(SC("access"), &access), ST_OK);
    EXPECT_ST(fastly_log_endpoint_get(SC("access"), &again), ST_OK);
    EXPECT_INT(again, access); /* one handle per name, as Viceroy */
    EXPECT_ST(fastly_log_endpoint_get(SC("console"), &console), ST_OK);
    EXPECT_ST(fastly_log_endpoint_get(SC("undeclared"), &undeclared), ST_OK);
    EXPECT_ST(fastly_log_endpoint_get(SC("bin\xff"), &bin), ST_OK); /* bytes, not a string */
    EXPECT(access != console && console != undeclared && undeclared != bin);
    /* reserved names, in any case */
    EXPECT_ST(fastly_log_endpoint_get(SC("stdout"), &other), ST_INVAL);
    EXPECT_ST(fastly_log_endpoint_get(SC("STDERR"), &other), ST_INVAL);
    EXPECT_ST(fastly_log_endpoint_get(SC("fst_managed_x"), &other), ST_INVAL);
    EXPECT_ST(fastly_log_endpoint_get(SC("Fst_Managed_"), &other), ST_INVAL);
    EXPECT_ST(fastly_log_endpoint_get(SC("stdout2"), &other), ST_OK);
    EXPECT_ST(fastly_log_endpoint_get(SC("my_stderr"), &other), ST_OK);
    /* bad pointers */
    EXPECT_ST(fastly_log_endpoint_get(BAD_PTR, 6, &other), ST_INVAL);
    EXPECT_ST(fastly_log_endpoint_get(SC("access"), BAD_PTR), ST_INVAL);
    EXPECT_ST(fastly_log_endpoint_get(SC("access"), MISALIGNED), ST_BADALIGN);

    /* covers: fastly_log.write */
    EXPECT_ST(fastly_log_write(access, SC("hello\n"), &nw), ST_OK);
    EXPECT_INT(nw, 6); /* the whole message counts, newline included */
    EXPECT_ST(fastly_log_write(access, SC("two\nlines"), &nw), ST_OK);
    EXPECT_INT(nw, 9);
    nw = 5;
    EXPECT_ST(fastly_log_write(access, (const uint8_t *)"", 0, &nw), ST_OK); /* nothing written */
    EXPECT_INT(nw, 0);
    EXPECT_ST(fastly_log_write(access, SC("\n"), &nw), ST_OK); /* nothing written either */
    EXPECT_INT(nw, 1);
    EXPECT_ST(fastly_log_write(access, SC("ends\n\n"), &nw), ST_OK); /* only one newline dropped */
    EXPECT_ST(fastly_log_write(console, SC("to the default output"), &nw), ST_OK);
    EXPECT_ST(fastly_log_write(undeclared, SC("also there"), &nw), ST_OK);
    EXPECT_ST(fastly_log_write(bin, SC("raw \x01 bytes"), &nw), ST_OK);
    EXPECT_ST(fastly_log_write(BAD_HANDLE, SC("lost"), &nw), ST_BADF);
    EXPECT_ST(fastly_log_write(access, BAD_PTR, 4, &nw), ST_INVAL);
    /* as Viceroy: the entry is written before the count is stored */
    EXPECT_ST(fastly_log_write(access, SC("last"), BAD_PTR), ST_INVAL);
    return hc_done();
}
