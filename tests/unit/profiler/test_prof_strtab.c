/* test_prof_strtab.c: the exports' deduplicated string table (src/profiler/prof_strtab.c):
 * indexes in first-added order, a string added again keeps its index, the table owns copies, and
 * deinit leaves an empty table that can be used again. */
#include "harness.h"

#include "profiler/prof_strtab.h"

TEST(indexes_in_first_added_order)
{
    prof_strtab t = {0};
    CHECK_EQ_INT(prof_strtab_index(&t, "(request)"), 0);
    CHECK_EQ_INT(prof_strtab_index(&t, "fastly_http_req.send"), 1);
    CHECK_EQ_INT(prof_strtab_index(&t, "main"), 2);
    CHECK_EQ_INT(prof_strtab_index(&t, "fastly_http_req.send"), 1); /* again: the same index */
    CHECK_EQ_INT(prof_strtab_index(&t, ""), 3);
    CHECK_EQ_INT(t.n, 4);
    CHECK_STR_EQ(t.s[2], "main");
    prof_strtab_deinit(&t);
    CHECK(t.n == 0 && t.s == NULL);
}

TEST(owns_copies_and_grows)
{
    prof_strtab t = {0};
    char name[16];
    for (int i = 0; i < 200; i++) { /* past the first capacity */
        snprintf(name, sizeof name, "f%d", i);
        CHECK_EQ_INT(prof_strtab_index(&t, name), i);
    }
    snprintf(name, sizeof name, "changed"); /* the table kept its own copy */
    CHECK_STR_EQ(t.s[199], "f199");
    CHECK_EQ_INT(prof_strtab_index(&t, "f7"), 7);
    CHECK_EQ_INT(t.n, 200);
    prof_strtab_deinit(&t);
    CHECK_EQ_INT(prof_strtab_index(&t, "again"), 0); /* usable after deinit */
    prof_strtab_deinit(&t);
}

int main(int argc, char **argv)
{
    (void)argc;
    RUN(indexes_in_first_added_order);
    RUN(owns_copies_and_grows);
    return harness_finish(argv[0]);
}
