/* test_srv_timer.c: the CPU-deadline watchdog (srv_timer.c): a guest spinning past its budget is
 * interrupted, also when a much later deadline was armed first (arming wakes the watchdog only
 * when the new deadline may come before its next wake-up), and a disarmed entry never fires. */
#include "server/srv_timer.h"

#include "engine/wat_module.h"
#include "harness.h"

#include <pthread.h>
#include <stdatomic.h>
#include <time.h>

/* The spinning module (its start function never returns) and two instances, start deferred. */
typedef struct fixture {
    fwe_engine *engine;
    fwe_module *module;
    fwe_linker *linker;
    fwe_instance *spin, *idle;
} fixture;

static bool setup(fixture *fx)
{
    memset(fx, 0, sizeof *fx);
    fx->engine = fwe_engine_new();
    fx->module = load_wat_module(fx->engine, "build/wat/start_spin.wasm");
    if (!fx->module)
        return false;
    fx->linker = fwe_linker_new(fx->engine);
    fwe_instance_config cfg = {.defer_start = true};
    CHECK_EQ_INT(fwe_instantiate(fx->linker, fx->module, &cfg, &fx->spin, NULL), FWE_OK);
    CHECK_EQ_INT(fwe_instantiate(fx->linker, fx->module, &cfg, &fx->idle, NULL), FWE_OK);
    return fx->spin && fx->idle;
}

static void teardown(fixture *fx)
{
    fwe_instance_free(fx->spin);
    fwe_instance_free(fx->idle);
    fwe_linker_free(fx->linker);
    fwe_module_free(fx->module);
    fwe_engine_free(fx->engine);
}

/* A safety net so that a watchdog that failed to wake cannot hang the test: interrupts the
 * spinning instance after a minute and says so. */
typedef struct rescue {
    fwe_instance *inst;
    pthread_mutex_t lock;
    pthread_cond_t done_cv;
    bool done;
    atomic_bool rescued;
} rescue;

static void *rescuer(void *arg)
{
    rescue *r = arg;
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += 60;
    pthread_mutex_lock(&r->lock);
    int rc = 0;
    while (!r->done && rc == 0)
        rc = pthread_cond_timedwait(&r->done_cv, &r->lock, &until);
    if (!r->done) {
        atomic_store(&r->rescued, true);
        fwe_instance_interrupt(r->inst);
    }
    pthread_mutex_unlock(&r->lock);
    return NULL;
}

/* Runs the spinning start function under the rescuer; returns whether the rescuer had to stop it
 * (the trap kind goes to *kind). */
static bool spin_until_interrupted(fwe_instance *inst, fwe_trap_kind *kind)
{
    rescue r = {.inst = inst};
    pthread_mutex_init(&r.lock, NULL);
    pthread_cond_init(&r.done_cv, NULL);
    pthread_t t;
    pthread_create(&t, NULL, rescuer, &r);
    fwe_trap trap;
    memset(&trap, 0, sizeof trap);
    fwe_status st = fwe_instance_run_start(inst, &trap);
    *kind = st == FWE_ERR_TRAP ? trap.kind : FWE_TRAP_NONE;
    pthread_mutex_lock(&r.lock);
    r.done = true;
    pthread_cond_signal(&r.done_cv);
    pthread_mutex_unlock(&r.lock);
    pthread_join(t, NULL);
    pthread_cond_destroy(&r.done_cv);
    pthread_mutex_destroy(&r.lock);
    return atomic_load(&r.rescued);
}

TEST(a_guest_past_its_budget_is_interrupted)
{
    fixture fx;
    srv_timer *t = srv_timer_new();
    CHECK(t != NULL);
    if (setup(&fx) && t) {
        srv_timer_entry e;
        srv_timer_arm(t, &e, fx.spin, 50, 0);
        fwe_trap_kind kind;
        CHECK(!spin_until_interrupted(fx.spin, &kind));
        CHECK_EQ_INT(kind, FWE_TRAP_INTERRUPTED);
        CHECK(srv_timer_disarm(t, &e));
    }
    srv_timer_free(t);
    teardown(&fx);
}

TEST(a_short_deadline_armed_after_a_long_one_still_fires)
{
    fixture fx;
    srv_timer *t = srv_timer_new();
    CHECK(t != NULL);
    if (setup(&fx) && t) {
        /* the watchdog now sleeps until the long deadline could come (ten minutes) */
        srv_timer_entry long_e, short_e;
        srv_timer_arm(t, &long_e, fx.idle, 600000, 0);
        struct timespec pause = {0, 20 * 1000 * 1000};
        nanosleep(&pause, NULL); /* let it go to sleep (not needed for the check to hold) */
        srv_timer_arm(t, &short_e, fx.spin, 50, 0);
        fwe_trap_kind kind;
        CHECK(!spin_until_interrupted(fx.spin, &kind));
        CHECK_EQ_INT(kind, FWE_TRAP_INTERRUPTED);
        CHECK(srv_timer_disarm(t, &short_e));
        CHECK(!srv_timer_disarm(t, &long_e)); /* ten minutes of CPU are far off: not fired */
    }
    srv_timer_free(t);
    teardown(&fx);
}

HARNESS_MAIN(RUN(a_guest_past_its_budget_is_interrupted);
             RUN(a_short_deadline_armed_after_a_long_one_still_fires);)
