/* hc_erl.c: test guest for fastly_erl. Run by tests/unit/hostcalls/test_hc_erl.c with argv[1]
 * "state" (a fresh rate-limit state whose clock stands still while the guest runs) or "nostate"
 * (a context without one: every call is error). */
#include "hc_check.h"

#define STR(lit) (lit), (sizeof(lit) - 1)

static char long_entry[300];

int main(int argc, char **argv)
{
    const char *mode = argc > 1 ? argv[1] : "";
    uint32_t v = 99;
    if (strcmp(mode, "nostate") == 0) {
        EXPECT_ST(fastly_erl_ratecounter_increment(STR("rc"), STR("e"), 1), ST_ERROR);
        EXPECT_ST(fastly_erl_penaltybox_has(STR("pb"), STR("e"), &v), ST_ERROR);
        return hc_done();
    }
    /* covers: fastly_erl.ratecounter_increment */
    EXPECT_ST(fastly_erl_ratecounter_increment(STR("rc"), STR("client-1"), 30), ST_OK);
    /* covers: fastly_erl.ratecounter_lookup_rate */
    EXPECT_ST(fastly_erl_ratecounter_lookup_rate(STR("rc"), STR("client-1"), 1, &v), ST_OK);
    EXPECT_INT(v, 30);
    EXPECT_ST(fastly_erl_ratecounter_lookup_rate(STR("rc"), STR("client-1"), 10, &v), ST_OK);
    EXPECT_INT(v, 3);
    EXPECT_ST(fastly_erl_ratecounter_lookup_rate(STR("rc"), STR("client-1"), 60, &v), ST_OK);
    EXPECT_INT(v, 0);
    /* covers: fastly_erl.ratecounter_lookup_count */
    for (uint32_t d = 10; d <= 60; d += 10) {
        v = 0;
        EXPECT_ST(fastly_erl_ratecounter_lookup_count(STR("rc"), STR("client-1"), d, &v), ST_OK);
        EXPECT_INT(v, 30);
    }
    /* other entries and counters are separate; unknown ones are 0 */
    EXPECT_ST(fastly_erl_ratecounter_lookup_count(STR("rc"), STR("client-2"), 60, &v), ST_OK);
    EXPECT_INT(v, 0);
    EXPECT_ST(fastly_erl_ratecounter_lookup_count(STR("other"), STR("client-1"), 60, &v), ST_OK);
    EXPECT_INT(v, 0);
    EXPECT_ST(fastly_erl_ratecounter_increment(STR("rc"), STR("client-1"), 0), ST_OK);
    EXPECT_ST(fastly_erl_ratecounter_lookup_count(STR("rc"), STR("client-1"), 10, &v), ST_OK);
    EXPECT_INT(v, 30);
    /* windows other than 1, 10, 60 and durations other than 10..60 by tens are inval */
    static const uint32_t bad_windows[] = {0, 2, 5, 30, 61, 3600};
    for (size_t i = 0; i < sizeof bad_windows / sizeof *bad_windows; i++)
        EXPECT_ST(
            fastly_erl_ratecounter_lookup_rate(STR("rc"), STR("client-1"), bad_windows[i], &v),
            ST_INVAL);
    static const uint32_t bad_durations[] = {0, 1, 5, 15, 61, 70};
    for (size_t i = 0; i < sizeof bad_durations / sizeof *bad_durations; i++)
        EXPECT_ST(
            fastly_erl_ratecounter_lookup_count(STR("rc"), STR("client-1"), bad_durations[i], &v),
            ST_INVAL);

    /* covers: fastly_erl.penaltybox_has */
    v = 99;
    EXPECT_ST(fastly_erl_penaltybox_has(STR("pb"), STR("client-1"), &v), ST_OK);
    EXPECT_INT(v, 0);
    /* covers: fastly_erl.penaltybox_add */
    EXPECT_ST(fastly_erl_penaltybox_add(STR("pb"), STR("client-1"), 60), ST_OK);
    EXPECT_ST(fastly_erl_penaltybox_has(STR("pb"), STR("client-1"), &v), ST_OK);
    EXPECT_INT(v, 1);
    EXPECT_ST(fastly_erl_penaltybox_has(STR("pb"), STR("client-2"), &v), ST_OK);
    EXPECT_INT(v, 0);
    EXPECT_ST(fastly_erl_penaltybox_has(STR("pb-other"), STR("client-1"), &v), ST_OK);
    EXPECT_INT(v, 0);
    /* a TTL below a minute still penalizes (rounded up to the 1-minute minimum) */
    EXPECT_ST(fastly_erl_penaltybox_add(STR("pb"), STR("client-3"), 0), ST_OK);
    EXPECT_ST(fastly_erl_penaltybox_has(STR("pb"), STR("client-3"), &v), ST_OK);
    EXPECT_INT(v, 1);

    /* covers: fastly_erl.check_rate */
    /* delta 10 in a 10 s window: the rate is 1, 2, ... per call; above 5 from the 6th call on */
    for (int i = 1; i <= 8; i++) {
        v = 99;
        EXPECT_ST(
            fastly_erl_check_rate(STR("rc2"), STR("client-9"), 10, 10, 5, STR("pb2"), 120, &v),
            ST_OK);
        EXPECT_INT(v, i >= 6 ? 1 : 0);
    }
    EXPECT_ST(fastly_erl_penaltybox_has(STR("pb2"), STR("client-9"), &v), ST_OK);
    EXPECT_INT(v, 1);
    EXPECT_ST(fastly_erl_ratecounter_lookup_count(STR("rc2"), STR("client-9"), 10, &v), ST_OK);
    EXPECT_INT(v, 80);
    /* an entry already in the penalty box is blocked whatever its rate */
    EXPECT_ST(fastly_erl_penaltybox_add(STR("pb3"), STR("client-8"), 300), ST_OK);
    EXPECT_ST(fastly_erl_check_rate(STR("rc3"), STR("client-8"), 1, 60, 1000, STR("pb3"), 60, &v),
              ST_OK);
    EXPECT_INT(v, 1);
    EXPECT_ST(fastly_erl_check_rate(STR("rc3"), STR("client-7"), 1, 60, 1000, STR("pb3"), 60, &v),
              ST_OK);
    EXPECT_INT(v, 0);
    EXPECT_ST(fastly_erl_check_rate(STR("rc3"), STR("client-7"), 1, 2, 1000, STR("pb3"), 60, &v),
              ST_INVAL);

    /* entries: up to 256 bytes; empty names and entries are fine */
    memset(long_entry, 'x', sizeof long_entry);
    EXPECT_ST(fastly_erl_ratecounter_increment(STR("rc"), long_entry, 256, 1), ST_OK);
    EXPECT_ST(fastly_erl_ratecounter_increment(STR("rc"), long_entry, 257, 1), ST_INVAL);
    EXPECT_ST(fastly_erl_penaltybox_add(STR("pb"), long_entry, 257, 60), ST_INVAL);
    EXPECT_ST(fastly_erl_penaltybox_has(STR("pb"), long_entry, 257, &v), ST_INVAL);
    EXPECT_ST(fastly_erl_ratecounter_lookup_rate(STR("rc"), long_entry, 257, 1, &v), ST_INVAL);
    EXPECT_ST(fastly_erl_ratecounter_lookup_count(STR("rc"), long_entry, 257, 10, &v), ST_INVAL);
    EXPECT_ST(fastly_erl_check_rate(STR("rc"), long_entry, 257, 1, 1, 10, STR("pb"), 60, &v),
              ST_INVAL);
    EXPECT_ST(fastly_erl_ratecounter_increment("", 0, "", 0, 4), ST_OK);
    EXPECT_ST(fastly_erl_ratecounter_lookup_count("", 0, "", 0, 10, &v), ST_OK);
    EXPECT_INT(v, 4);

    /* bad pointers: strings outside memory are inval, out-pointers inval or badalign */
    EXPECT_ST(fastly_erl_ratecounter_increment(BAD_PTR, 32, STR("e"), 1), ST_INVAL);
    EXPECT_ST(fastly_erl_ratecounter_increment(STR("rc"), BAD_PTR, 32, 1), ST_INVAL);
    EXPECT_ST(fastly_erl_ratecounter_lookup_rate(STR("rc"), STR("e"), 1, BAD_PTR), ST_INVAL);
    EXPECT_ST(fastly_erl_ratecounter_lookup_rate(STR("rc"), STR("e"), 1, MISALIGNED), ST_BADALIGN);
    EXPECT_ST(fastly_erl_ratecounter_lookup_count(STR("rc"), STR("e"), 10, BAD_PTR), ST_INVAL);
    EXPECT_ST(fastly_erl_penaltybox_add(BAD_PTR, 8, STR("e"), 60), ST_INVAL);
    EXPECT_ST(fastly_erl_penaltybox_has(STR("pb"), STR("e"), BAD_PTR), ST_INVAL);
    EXPECT_ST(fastly_erl_penaltybox_has(STR("pb"), STR("e"), MISALIGNED), ST_BADALIGN);
    EXPECT_ST(fastly_erl_check_rate(STR("rc"), STR("e"), 1, 10, 100, BAD_PTR, 8, 60, &v), ST_INVAL);
    EXPECT_ST(fastly_erl_check_rate(STR("rc"), STR("e"), 1, 10, 100, STR("pb"), 60, BAD_PTR),
              ST_INVAL);
    return hc_done();
}
