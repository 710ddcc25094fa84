/* test_util_id.c: identifiers in hex (util_id.c): the format, and that trace ids from the
 * per-thread generator do not repeat, within a thread or across threads. */
#include "util/util_id.h"

#include "harness.h"

#include <pthread.h>
#include <stdbool.h>

#define NIDS 20000

static bool well_formed(const char id[33])
{
    for (int i = 0; i < 32; i++)
        if (!((id[i] >= '0' && id[i] <= '9') || (id[i] >= 'a' && id[i] <= 'f')))
            return false;
    return id[32] == '\0';
}

static int cmp_id(const void *a, const void *b)
{
    return memcmp(a, b, 33);
}

/* How many ids of `ids` (n of them, sorted here) equal their neighbour. */
static size_t repeats(char (*ids)[33], size_t n)
{
    qsort(ids, n, 33, cmp_id);
    size_t same = 0;
    for (size_t i = 1; i < n; i++)
        same += memcmp(ids[i - 1], ids[i], 33) == 0;
    return same;
}

TEST(random_ids_are_32_hex_digits)
{
    char id[33], other[33];
    util_random_hex_id(id);
    util_random_hex_id(other);
    CHECK(well_formed(id));
    CHECK(well_formed(other));
    CHECK(memcmp(id, other, 33) != 0);
}

static void *make_ids(void *arg)
{
    char(*ids)[33] = arg;
    for (size_t i = 0; i < NIDS; i++)
        util_trace_hex_id(ids[i]);
    return NULL;
}

TEST(trace_ids_are_well_formed_and_do_not_repeat)
{
    char(*ids)[33] = malloc(3 * NIDS * 33);
    CHECK(ids != NULL);
    if (!ids)
        return;
    make_ids(ids);
    pthread_t t[2];
    for (int i = 0; i < 2; i++)
        pthread_create(&t[i], NULL, make_ids, ids + (size_t)(i + 1) * NIDS);
    for (int i = 0; i < 2; i++)
        pthread_join(t[i], NULL);
    size_t bad = 0;
    for (size_t i = 0; i < 3 * NIDS; i++)
        bad += !well_formed(ids[i]);
    CHECK_EQ_INT(bad, 0);
    CHECK_EQ_INT(repeats(ids, 3 * NIDS), 0);
    free(ids);
}

HARNESS_MAIN(RUN(random_ids_are_32_hex_digits); RUN(trace_ids_are_well_formed_and_do_not_repeat);)
