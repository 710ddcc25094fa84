/* test_util_grow.c: the shared growable-array step (src/util/util_grow.c): no change when the
 * array holds enough, doubling from the first capacity, a jump straight past a large need, and the
 * refusals (size 0, more bytes than a size_t counts) that leave the array as it was. */
#include "harness.h"

#include "util/util_grow.h"

#include <stdint.h>

TEST(first_capacity_then_doubling)
{
    int *a = NULL;
    size_t cap = 0;
    CHECK(util_grow((void **)&a, &cap, 1, 64, sizeof *a));
    CHECK(a != NULL);
    CHECK_EQ_INT(cap, 64);
    for (int i = 0; i < 64; i++)
        a[i] = i;
    CHECK(util_grow((void **)&a, &cap, 64, 64, sizeof *a)); /* holds 64 already */
    CHECK_EQ_INT(cap, 64);
    CHECK(util_grow((void **)&a, &cap, 65, 64, sizeof *a));
    CHECK_EQ_INT(cap, 128);
    for (int i = 0; i < 64; i++) /* the items survive the move */
        CHECK_EQ_INT(a[i], i);
    a[127] = 127; /* the whole capacity is usable (ASan sees an overflow otherwise) */
    CHECK(util_grow((void **)&a, &cap, 1000, 64, sizeof *a)); /* doubles until it suffices */
    CHECK_EQ_INT(cap, 1024);
    a[1023] = 1023;
    free(a);
}

TEST(a_first_capacity_below_the_need)
{
    double *a = NULL;
    size_t cap = 0;
    CHECK(util_grow((void **)&a, &cap, 20, 4, sizeof *a));
    CHECK_EQ_INT(cap, 32);
    a[31] = 1;
    free(a);
    char *b = NULL;
    cap = 0;
    CHECK(util_grow((void **)&b, &cap, 3, 0, 1)); /* first 0: starts from 1 */
    CHECK_EQ_INT(cap, 4);
    free(b);
}

TEST(refusals_leave_the_array_alone)
{
    int *a = NULL;
    size_t cap = 0;
    CHECK(util_grow((void **)&a, &cap, 4, 4, sizeof *a));
    int *before = a;
    CHECK(!util_grow((void **)&a, &cap, 5, 4, 0)); /* size 0 */
    /* more bytes than a size_t counts: refused before any allocation */
    CHECK(!util_grow((void **)&a, &cap, SIZE_MAX / sizeof *a + 1, 4, sizeof *a));
    CHECK(!util_grow((void **)&a, &cap, SIZE_MAX, 4, 2));
    CHECK(a == before);
    CHECK_EQ_INT(cap, 4);
    free(a);
}

int main(int argc, char **argv)
{
    (void)argc;
    RUN(first_capacity_then_doubling);
    RUN(a_first_capacity_below_the_need);
    RUN(refusals_leave_the_array_alone);
    return harness_finish(argv[0]);
}
