/* test_grow.c: the engine's growable-array step (src/engine/grow.c): no change when the array
 * holds enough, doubling from the first capacity, a jump straight past a large need, and the
 * refusals (size 0, more than 2^31 items, more bytes than memory can address) that leave the
 * array as it was. */
#include "grow.h"
#include "harness.h"

TEST(first_capacity_then_doubling)
{
    uint32_t *a = NULL, cap = 0;
    CHECK(fwe_grow((void **)&a, &cap, 1, 8, sizeof *a));
    CHECK(a != NULL);
    CHECK_EQ_INT(cap, 8);
    for (uint32_t i = 0; i < 8; i++)
        a[i] = i;
    CHECK(fwe_grow((void **)&a, &cap, 8, 8, sizeof *a)); /* holds 8 already */
    CHECK_EQ_INT(cap, 8);
    CHECK(fwe_grow((void **)&a, &cap, 9, 8, sizeof *a));
    CHECK_EQ_INT(cap, 16);
    for (uint32_t i = 0; i < 8; i++) /* the items survive the move */
        CHECK_EQ_INT(a[i], i);
    a[15] = 15; /* the whole capacity is usable (ASan sees an overflow otherwise) */
    CHECK(fwe_grow((void **)&a, &cap, 100, 8, sizeof *a)); /* doubles until it suffices */
    CHECK_EQ_INT(cap, 128);
    a[127] = 127;
    free(a);
}

TEST(a_first_capacity_below_the_need)
{
    uint64_t *a = NULL;
    uint32_t cap = 0;
    CHECK(fwe_grow((void **)&a, &cap, 20, 4, sizeof *a));
    CHECK_EQ_INT(cap, 32);
    a[19] = 1;
    free(a);
    char *b = NULL;
    cap = 0;
    CHECK(fwe_grow((void **)&b, &cap, 3, 0, 1)); /* first 0: starts from 1 */
    CHECK_EQ_INT(cap, 4);
    free(b);
}

TEST(refusals_leave_the_array_alone)
{
    uint32_t *a = NULL, cap = 0;
    CHECK(fwe_grow((void **)&a, &cap, 4, 4, sizeof *a));
    uint32_t *before = a;
    CHECK(!fwe_grow((void **)&a, &cap, 5, 4, 0));                               /* size 0 */
    CHECK(!fwe_grow((void **)&a, &cap, (UINT32_C(1) << 31) + 1, 4, sizeof *a)); /* too many */
    CHECK(!fwe_grow((void **)&a, &cap, UINT32_MAX, 4, sizeof *a));
    /* 2^31 items of SIZE_MAX / 2^30 bytes: more bytes than size_t counts (no allocation) */
    CHECK(!fwe_grow((void **)&a, &cap, UINT32_C(1) << 31, 4, SIZE_MAX >> 30));
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
