/* test_util_str.c: the shared string and byte copies (src/util/util_str.c): exact lengths and
 * terminators, embedded NULs, the NULL and empty cases, and the case-insensitive comparison. */
#include "harness.h"

#include "util/util_str.h"

TEST(strndup_copies_n_bytes_and_terminates)
{
    char *s = util_strndup("hello world", 5);
    CHECK_STR_EQ(s, "hello");
    free(s);
    static const char nul[] = {'a', '\0', 'b'};
    s = util_strndup(nul, 3);
    CHECK(s && s[0] == 'a' && s[1] == '\0' && s[2] == 'b' && s[3] == '\0');
    free(s);
    s = util_strndup(NULL, 0); /* an empty guest slice may have no pointer */
    CHECK_STR_EQ(s, "");
    free(s);
}

TEST(strdup_and_null)
{
    char *s = util_strdup("abc");
    CHECK_STR_EQ(s, "abc");
    free(s);
    CHECK(util_strdup(NULL) == NULL);
}

TEST(memdup_copies_without_terminator)
{
    static const unsigned char b[] = {1, 2, 0, 3};
    unsigned char *d = util_memdup(b, sizeof b);
    CHECK(d != NULL && memcmp(d, b, sizeof b) == 0);
    free(d);
    d = util_memdup(NULL, 0); /* never NULL unless out of memory */
    CHECK(d != NULL);
    free(d);
}

TEST(eq_ci)
{
    CHECK(util_str_eq_ci("Content-Length", 14, "content-length"));
    CHECK(util_str_eq_ci("HOSTX", 4, "host"));
    CHECK(!util_str_eq_ci("hos", 3, "host"));
    CHECK(!util_str_eq_ci("hosts", 5, "host"));
    CHECK(util_str_eq_ci("", 0, ""));
}

int main(int argc, char **argv)
{
    (void)argc;
    RUN(strndup_copies_n_bytes_and_terminates);
    RUN(strdup_and_null);
    RUN(memdup_copies_without_terminator);
    RUN(eq_ci);
    return harness_finish(argv[0]);
}
