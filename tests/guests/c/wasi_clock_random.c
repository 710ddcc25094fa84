/* wasi_clock_random.c: test guest checking clocks (realtime, monotonic, cputime, resolution),
 * sleeping through poll_oneoff and getting random bytes; prints "NAME ok" or "NAME FAIL ...". */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <wasi/api.h>

static int failures;

static void check(const char *name, int ok, const char *detail)
{
    printf("%s %s%s%s\n", name, ok ? "ok" : "FAIL", ok ? "" : " ", ok ? "" : detail);
    if (!ok)
        failures++;
}

static uint64_t now_ns(clockid_t clk)
{
    struct timespec ts;
    if (clock_gettime(clk, &ts) != 0)
        return 0;
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

int main(void)
{
    check("realtime", now_ns(CLOCK_REALTIME) > UINT64_C(1600000000) * 1000000000u, "before 2020");
    uint64_t m1 = now_ns(CLOCK_MONOTONIC);
    uint64_t m2 = now_ns(CLOCK_MONOTONIC);
    check("monotonic", m1 > 0 && m2 >= m1, "went backwards");
    struct timespec res;
    check("res", clock_getres(CLOCK_MONOTONIC, &res) == 0 && (res.tv_sec > 0 || res.tv_nsec > 0),
          "zero resolution");
    check("cputime", now_ns(CLOCK_PROCESS_CPUTIME_ID) > 0 && now_ns(CLOCK_THREAD_CPUTIME_ID) > 0,
          "zero");
    __wasi_timestamp_t t;
    check("badclock", __wasi_clock_time_get(99, 0, &t) == __WASI_ERRNO_INVAL, "not inval");

    uint64_t before = now_ns(CLOCK_MONOTONIC);
    struct timespec ts = {0, 20 * 1000 * 1000};
    nanosleep(&ts, NULL); /* poll_oneoff with one relative clock subscription */
    uint64_t slept = now_ns(CLOCK_MONOTONIC) - before;
    check("sleep", slept >= 20u * 1000 * 1000 && slept < 2000u * 1000 * 1000, "wrong duration");

    /* an absolute realtime deadline 10ms ahead */
    __wasi_subscription_t sub;
    memset(&sub, 0, sizeof sub);
    sub.userdata = 0x1234;
    sub.u.tag = __WASI_EVENTTYPE_CLOCK;
    sub.u.u.clock.id = __WASI_CLOCKID_REALTIME;
    sub.u.u.clock.timeout = now_ns(CLOCK_REALTIME) + 10u * 1000 * 1000;
    sub.u.u.clock.flags = __WASI_SUBCLOCKFLAGS_SUBSCRIPTION_CLOCK_ABSTIME;
    __wasi_event_t ev;
    __wasi_size_t nev = 0;
    before = now_ns(CLOCK_MONOTONIC);
    __wasi_errno_t e = __wasi_poll_oneoff(&sub, &ev, 1, &nev);
    slept = now_ns(CLOCK_MONOTONIC) - before;
    check("abstime",
          e == 0 && nev == 1 && ev.userdata == 0x1234 && ev.type == __WASI_EVENTTYPE_CLOCK &&
              slept >= 5u * 1000 * 1000,
          "bad event");

    unsigned char a[32], b[32], zero[32];
    memset(a, 0, sizeof a);
    memset(b, 0, sizeof b);
    memset(zero, 0, sizeof zero);
    check("random",
          getentropy(a, sizeof a) == 0 && getentropy(b, sizeof b) == 0 &&
              memcmp(a, b, sizeof a) != 0 && memcmp(a, zero, sizeof a) != 0,
          "not random");
    check("yield", __wasi_sched_yield() == 0, "failed");
    printf("failures=%d\n", failures);
    return failures ? 1 : 0;
}
