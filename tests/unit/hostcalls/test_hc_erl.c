/* test_hc_erl.c: the rate-limit state (hc_erl) on a fake clock: one-second buckets and the 1/10/60
 * s windows, counts over 10..60 s, bucket reuse after a minute, penalty-box TTLs in whole minutes,
 * check_rate, the sweep of idle items, concurrent increments; and the fastly_erl guest
 * (tests/guests/c/hc_erl.c) in-process. */
#include "harness.h"
#include "hc_guest_run.h"
#include "hostcalls/hc_erl.h"

#include <pthread.h>

static guest_result res;

typedef struct fake_clock {
    uint64_t ms;
} fake_clock;

static uint64_t fake_now(void *user)
{
    return ((fake_clock *)user)->ms;
}

#define SL(lit) (lit), (sizeof(lit) - 1)
#define RATE(erl, e, w) hc_erl_rate((erl), SL("rc"), SL(e), (w))
#define COUNT(erl, e, d) hc_erl_count((erl), SL("rc"), SL(e), (d))

TEST(windows)
{
    fake_clock clk = {100000}; /* t = 100.000 s */
    hc_erl *erl = hc_erl_new(fake_now, &clk);
    CHECK(erl != NULL);
    if (!erl)
        return;
    hc_erl_increment(erl, SL("rc"), SL("a"), 10);
    CHECK_EQ_INT(RATE(erl, "a", 1), 10);
    CHECK_EQ_INT(RATE(erl, "a", 10), 1);
    CHECK_EQ_INT(RATE(erl, "a", 60), 0); /* 10 / 60, rounded down */
    CHECK_EQ_INT(COUNT(erl, "a", 10), 10);
    clk.ms = 100999; /* the same second */
    hc_erl_increment(erl, SL("rc"), SL("a"), 5);
    CHECK_EQ_INT(RATE(erl, "a", 1), 15);
    CHECK_EQ_INT(COUNT(erl, "a", 60), 15);
    clk.ms = 101000; /* a new second: the 1 s window holds only it */
    CHECK_EQ_INT(RATE(erl, "a", 1), 0);
    CHECK_EQ_INT(RATE(erl, "a", 10), 1);
    CHECK_EQ_INT(COUNT(erl, "a", 10), 15);
    hc_erl_increment(erl, SL("rc"), SL("a"), 45);
    CHECK_EQ_INT(RATE(erl, "a", 10), 6);
    CHECK_EQ_INT(RATE(erl, "a", 60), 1);
    clk.ms = 109999; /* seconds 100..109: everything */
    CHECK_EQ_INT(COUNT(erl, "a", 10), 60);
    clk.ms = 110000; /* seconds 101..110: the first 15 left the 10 s window */
    CHECK_EQ_INT(COUNT(erl, "a", 10), 45);
    CHECK_EQ_INT(COUNT(erl, "a", 20), 60);
    clk.ms = 111500;
    CHECK_EQ_INT(COUNT(erl, "a", 10), 0);
    CHECK_EQ_INT(COUNT(erl, "a", 20), 60);
    clk.ms = 119999; /* seconds 100..119 */
    CHECK_EQ_INT(COUNT(erl, "a", 20), 60);
    clk.ms = 120000;
    CHECK_EQ_INT(COUNT(erl, "a", 20), 45);
    clk.ms = 159999; /* seconds 100..159 */
    CHECK_EQ_INT(COUNT(erl, "a", 60), 60);
    CHECK_EQ_INT(RATE(erl, "a", 60), 1);
    clk.ms = 160000;
    CHECK_EQ_INT(COUNT(erl, "a", 60), 45);
    /* second 160 reuses the bucket of second 100: the old count does not come back */
    hc_erl_increment(erl, SL("rc"), SL("a"), 7);
    CHECK_EQ_INT(RATE(erl, "a", 1), 7);
    CHECK_EQ_INT(COUNT(erl, "a", 60), 52);
    clk.ms = 161000;
    CHECK_EQ_INT(COUNT(erl, "a", 60), 7);
    /* entries, counters and name/entry splits are separate */
    CHECK_EQ_INT(COUNT(erl, "b", 60), 0);
    CHECK_EQ_INT(hc_erl_count(erl, SL("rc2"), SL("a"), 60), 0);
    hc_erl_increment(erl, SL("ab"), SL("c"), 3);
    CHECK_EQ_INT(hc_erl_count(erl, SL("a"), SL("bc"), 60), 0);
    CHECK_EQ_INT(hc_erl_count(erl, SL("ab"), SL("c"), 60), 3);
    /* counts saturate instead of wrapping */
    for (int i = 0; i < 3; i++)
        hc_erl_increment(erl, SL("rc"), SL("big"), UINT32_MAX);
    CHECK_EQ_U64(COUNT(erl, "big", 10), UINT32_MAX);
    CHECK_EQ_U64(RATE(erl, "big", 1), UINT32_MAX);
    hc_erl_free(erl);
}

TEST(penalty_box)
{
    fake_clock clk = {5000000};
    hc_erl *erl = hc_erl_new(fake_now, &clk);
    if (!erl)
        return;
    CHECK(!hc_erl_penalized(erl, SL("pb"), SL("x")));
    hc_erl_penalize(erl, SL("pb"), SL("x"), 90);      /* truncated to one minute */
    hc_erl_penalize(erl, SL("pb"), SL("zero"), 0);    /* at least one minute */
    hc_erl_penalize(erl, SL("pb"), SL("long"), 7200); /* at most an hour */
    hc_erl_penalize(erl, SL("pb"), SL("five"), 359);  /* five minutes */
    CHECK(hc_erl_penalized(erl, SL("pb"), SL("x")));
    CHECK(!hc_erl_penalized(erl, SL("pb2"), SL("x")));
    clk.ms += 59999;
    CHECK(hc_erl_penalized(erl, SL("pb"), SL("x")));
    CHECK(hc_erl_penalized(erl, SL("pb"), SL("zero")));
    clk.ms += 1;
    CHECK(!hc_erl_penalized(erl, SL("pb"), SL("x")));
    CHECK(!hc_erl_penalized(erl, SL("pb"), SL("zero")));
    CHECK(hc_erl_penalized(erl, SL("pb"), SL("five")));
    clk.ms = 5000000 + 300000 - 1;
    CHECK(hc_erl_penalized(erl, SL("pb"), SL("five")));
    clk.ms += 1;
    CHECK(!hc_erl_penalized(erl, SL("pb"), SL("five")));
    /* adding again restarts the TTL */
    hc_erl_penalize(erl, SL("pb"), SL("x"), 60);
    clk.ms += 30000;
    CHECK(hc_erl_penalized(erl, SL("pb"), SL("x")));
    clk.ms = 5000000 + 3600000 - 1;
    CHECK(hc_erl_penalized(erl, SL("pb"), SL("long")));
    clk.ms += 1;
    CHECK(!hc_erl_penalized(erl, SL("pb"), SL("long")));
    hc_erl_free(erl);
}

TEST(check_rate)
{
    fake_clock clk = {1000000};
    hc_erl *erl = hc_erl_new(fake_now, &clk);
    if (!erl)
        return;
    /* limit 100/s over 10 s: 1000 increments in the window are fine, the 1001st is not */
    for (int i = 0; i < 1000; i++) {
        bool blocked = hc_erl_check_rate(erl, SL("rc"), SL("ip"), 1, 10, 100, SL("pb"), 120);
        if (blocked) {
            CHECK(!"blocked below the limit");
            break;
        }
        if (i % 100 == 99)
            clk.ms += 900; /* spread over 9 s, all inside the window */
    }
    CHECK_EQ_INT(hc_erl_check_rate(erl, SL("rc"), SL("ip"), 10, 10, 100, SL("pb"), 120),
                 HC_ERL_EXCEEDED);
    CHECK(hc_erl_penalized(erl, SL("pb"), SL("ip")));
    CHECK_EQ_INT(RATE(erl, "ip", 60), 16); /* 1010 in the last 60 s */
    /* penalized: blocked even at a rate of 0, until the TTL (2 minutes) is over */
    clk.ms += 100000;
    CHECK_EQ_INT(RATE(erl, "ip", 60), 0);
    CHECK_EQ_INT(hc_erl_check_rate(erl, SL("rc"), SL("ip"), 0, 1, 100, SL("pb"), 120),
                 HC_ERL_PENALIZED);
    clk.ms += 30000; /* 130 s after the penalty */
    CHECK(!hc_erl_check_rate(erl, SL("rc"), SL("ip"), 1, 1, 100, SL("pb"), 120));
    /* the 1 s window: more than `limit` in the current second */
    CHECK(!hc_erl_check_rate(erl, SL("rc"), SL("ip2"), 10, 1, 10, SL("pb"), 60));
    CHECK(hc_erl_check_rate(erl, SL("rc"), SL("ip2"), 1, 1, 10, SL("pb"), 60));
    hc_erl_free(erl);
}

/* Idle counters (no increment for a minute) and expired penalties are swept away. */
TEST(sweep)
{
    fake_clock clk = {0};
    hc_erl *erl = hc_erl_new(fake_now, &clk);
    if (!erl)
        return;
    char e[16];
    for (int i = 0; i < 1000; i++) {
        snprintf(e, sizeof e, "e%d", i);
        hc_erl_increment(erl, SL("rc"), e, strlen(e), 1);
        hc_erl_penalize(erl, SL("pb"), e, strlen(e), 60);
    }
    CHECK_EQ_INT(hc_erl_size(erl), 2000);
    CHECK_EQ_INT(hc_erl_count(erl, SL("rc"), SL("e999"), 60), 1);
    clk.ms = 59999; /* still within the minute */
    hc_erl_increment(erl, SL("rc"), SL("keep"), 1);
    CHECK_EQ_INT(hc_erl_size(erl), 2001);
    clk.ms = 70000;
    CHECK(!hc_erl_penalized(erl, SL("pb"), SL("e5"))); /* runs the sweep */
    CHECK_EQ_INT(hc_erl_size(erl), 1);
    CHECK_EQ_INT(hc_erl_count(erl, SL("rc"), SL("keep"), 60), 1);
    hc_erl_free(erl);
}

/* A full table drops expired items at once, and otherwise refuses new entries. */
TEST(full_table)
{
    fake_clock clk = {1000};
    hc_erl *erl = hc_erl_new(fake_now, &clk);
    if (!erl)
        return;
    hc_erl_set_max_items(erl, 3);
    hc_erl_increment(erl, SL("rc"), SL("a"), 1);
    hc_erl_increment(erl, SL("rc"), SL("b"), 1);
    hc_erl_penalize(erl, SL("pb"), SL("a"), 60);
    hc_erl_increment(erl, SL("rc"), SL("c"), 1); /* no room */
    CHECK_EQ_INT(COUNT(erl, "c", 60), 0);
    hc_erl_increment(erl, SL("rc"), SL("a"), 1); /* existing entries still count */
    CHECK_EQ_INT(COUNT(erl, "a", 60), 2);
    clk.ms += 5000; /* less than the sweep interval, but the counters are still live */
    hc_erl_penalize(erl, SL("pb"), SL("b"), 60);
    CHECK(!hc_erl_penalized(erl, SL("pb"), SL("b")));
    clk.ms += 61000; /* everything expired: room again without waiting for the sweep */
    hc_erl_penalize(erl, SL("pb"), SL("b"), 60);
    CHECK(hc_erl_penalized(erl, SL("pb"), SL("b")));
    CHECK_EQ_INT(hc_erl_size(erl), 1);
    hc_erl_free(erl);
}

typedef struct worker {
    hc_erl *erl;
    int n;
} worker;

static void *increments(void *p)
{
    worker *w = p;
    for (int i = 0; i < w->n; i++) {
        hc_erl_increment(w->erl, SL("rc"), SL("shared"), 1);
        char e[16];
        snprintf(e, sizeof e, "t%d", i % 50);
        hc_erl_check_rate(w->erl, SL("rc2"), e, strlen(e), 1, 60, 1000000, SL("pb"), 60);
    }
    return NULL;
}

/* Instances on several threads share one state: no increment is lost. */
TEST(threads)
{
    fake_clock clk = {42000};
    hc_erl *erl = hc_erl_new(fake_now, &clk);
    if (!erl)
        return;
    pthread_t t[4];
    worker w = {erl, 2000};
    for (int i = 0; i < 4; i++)
        pthread_create(&t[i], NULL, increments, &w);
    for (int i = 0; i < 4; i++)
        pthread_join(t[i], NULL);
    CHECK_EQ_INT(COUNT(erl, "shared", 60), 8000);
    CHECK_EQ_INT(hc_erl_count(erl, SL("rc2"), SL("t7"), 60), 160);
    hc_erl_free(erl);
}

/* The real clock: a fresh state counts what it was given. */
TEST(monotonic_clock)
{
    hc_erl *erl = hc_erl_new(NULL, NULL);
    if (!erl)
        return;
    hc_erl_increment(erl, SL("rc"), SL("x"), 3);
    CHECK_EQ_INT(COUNT(erl, "x", 60), 3);
    hc_erl_free(erl);
    hc_erl_free(NULL);
}

static void run_mode(const char *mode, hc_erl *erl)
{
    hc_env *e = hc_env_new();
    if (!e)
        return;
    e->settings.erl = erl;
    if (!hc_env_ctx(e)) {
        hc_env_free(e);
        return;
    }
    CHECK(run_guest("hc_erl", mode, e->ctx, &res));
    if (res.fails != 0)
        fprintf(stderr, "%s", res.out);
    CHECK(guest_exited(&res, 0));
    CHECK(res.checks >= 2);
    CHECK_EQ_INT(res.fails, 0);
    hc_env_free(e);
}

TEST(guest)
{
    fake_clock clk = {7000000};
    hc_erl *erl = hc_erl_new(fake_now, &clk);
    if (!erl)
        return;
    run_mode("state", erl);
    CHECK(res.checks > 60);
    /* what the guest left behind is in the shared state */
    CHECK_EQ_INT(hc_erl_count(erl, SL("rc"), SL("client-1"), 60), 30);
    CHECK(hc_erl_penalized(erl, SL("pb2"), SL("client-9")));
    hc_erl_free(erl);
    run_mode("nostate", NULL);
}

HARNESS_MAIN(RUN(windows); RUN(penalty_box); RUN(check_rate); RUN(sweep); RUN(full_table);
             RUN(threads); RUN(monotonic_clock); RUN(guest);)
