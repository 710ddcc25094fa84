/* test_grow.c: the engine's growable-array step (src/engine/grow.c), as a table of capacity,
 * need and first capacity against the capacity it leaves: no change when the array holds enough,
 * doubling from the first capacity, a jump straight past a large need, and the refusals (size 0,
 * more than 2^31 items, more bytes than a size_t counts) that leave the array as it was. */
#include "grow.h"
#include "harness.h"

typedef struct grow_case {
    uint32_t cap, need, first; /* the array's capacity before (allocated), the call's arguments */
    size_t size;
    bool ok;
    uint32_t want; /* the capacity after */
} grow_case;

static const grow_case cases[] = {
    {0, 1, 8, 4, true, 8},               /* the first capacity */
    {0, 20, 4, 8, true, 32},             /* doubled from it until it suffices */
    {0, 3, 0, 1, true, 4},               /* first 0: from 1 */
    {8, 8, 8, 4, true, 8},               /* holds enough: unchanged */
    {8, 9, 8, 4, true, 16},              /* one more: doubled */
    {16, 100, 8, 4, true, 128},          /* far more: doubled until it suffices */
    {64, 65, 1024, 8, true, 128},        /* the first capacity only counts from 0 */
    {4, 5, 4, 0, false, 4},              /* size 0 */
    {4, (1u << 31) + 1, 4, 4, false, 4}, /* beyond 2^31 items */
    {4, UINT32_MAX, 4, 4, false, 4},
    {4, 1u << 31, 4, SIZE_MAX >> 30, false, 4}, /* 2^31 items of 2^34 bytes: no size_t counts it */
};

TEST(capacities)
{
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const grow_case *c = &cases[i];
        /* the array as it was (items of 1 byte where size is 0 or too large to allocate: those
         * cases are refused before any item is touched) */
        size_t item = c->size && c->size <= 64 ? c->size : 1;
        uint8_t *a = c->cap ? malloc(c->cap * item) : NULL;
        for (uint32_t k = 0; a && k < c->cap; k++)
            a[k] = (uint8_t)k;
        uint8_t *before = a;
        uint32_t cap = c->cap;
        bool ok = fwe_grow((void **)&a, &cap, c->need, c->first, c->size);
        if (ok != c->ok || cap != c->want)
            fprintf(stderr, "  case %zu: %s, capacity %u\n", i, ok ? "grown" : "refused", cap);
        CHECK(ok == c->ok);
        CHECK_EQ_INT(cap, c->want);
        CHECK(ok || a == before);                  /* a refusal leaves the array where it was */
        for (uint32_t k = 0; a && k < c->cap; k++) /* the items survive a move */
            CHECK_EQ_INT(a[k], (uint8_t)k);
        if (ok && a)
            a[(size_t)cap * c->size - 1] = 1; /* the whole capacity is usable (ASan checks) */
        free(a);
    }
}

int main(int argc, char **argv)
{
    (void)argc;
    RUN(capacities);
    return harness_finish(argv[0]);
}
