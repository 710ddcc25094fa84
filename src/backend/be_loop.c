/* be_loop.c: the event-loop thread: drains the command queue, drives curl_multi_perform, hands
 * finished transfers back, checks our own timeouts, fires due timers and sleeps in
 * curl_multi_poll until a socket, a libcurl timer, a deadline or curl_multi_wakeup (a new command
 * or timer) needs it. */
#include "backend/be_loop.h"
#include "backend/be_signal.h"
#include "backend/be_transfer_internal.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef enum { CMD_ADD, CMD_UNPAUSE, CMD_CANCEL } cmd_kind;

typedef struct cmd {
    struct cmd *next;
    cmd_kind kind;
    be_transfer *t;
} cmd;

/* A transfer in the multi handle (the loop's list, for deadlines and shutdown). */
typedef struct active {
    struct active *next;
    be_transfer *t;
} active;

struct be_timer {
    struct be_timer *next;
    uint64_t period_ns, due_ns;
    be_timer_fn fn;
    void *user;
    bool running; /* fn is being called (the loop thread, without mu) */
};

struct be_loop {
    CURLM *multi;
    pthread_t thread;
    bool started;
    pthread_mutex_t mu;        /* guards the queue, `stop` and the timers */
    pthread_cond_t timer_done; /* a timer's fn returned */
    cmd *head, *tail;
    be_timer *timers;
    bool stop;
    active *list; /* loop thread only */
    be_loop_config cfg;
};

void be_loop_log(be_loop *l, int level, const char *fmt, ...)
{
    if (!l->cfg.log || level > l->cfg.verbosity)
        return;
    char line[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    l->cfg.log(l->cfg.log_user, line);
}

static bool push(be_loop *l, cmd_kind kind, be_transfer *t)
{
    cmd *c = malloc(sizeof *c);
    if (!c)
        return false;
    c->next = NULL;
    c->kind = kind;
    c->t = t;
    pthread_mutex_lock(&l->mu);
    if (l->stop) {
        pthread_mutex_unlock(&l->mu);
        free(c);
        return false;
    }
    be_transfer_ref(t);
    if (l->tail)
        l->tail->next = c;
    else
        l->head = c;
    l->tail = c;
    pthread_mutex_unlock(&l->mu);
    curl_multi_wakeup(l->multi);
    return true;
}

bool be_loop_add(be_loop *l, be_transfer *t)
{
    return push(l, CMD_ADD, t);
}

bool be_loop_unpause(be_loop *l, be_transfer *t)
{
    return push(l, CMD_UNPAUSE, t);
}

bool be_loop_cancel(be_loop *l, be_transfer *t)
{
    return push(l, CMD_CANCEL, t);
}

be_timer *be_loop_timer_start(be_loop *l, uint64_t period_ns, be_timer_fn fn, void *user)
{
    be_timer *t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    t->period_ns = period_ns ? period_ns : 1;
    t->due_ns = be_now_ns() + t->period_ns;
    t->fn = fn;
    t->user = user;
    pthread_mutex_lock(&l->mu);
    if (l->stop) {
        pthread_mutex_unlock(&l->mu);
        free(t);
        return NULL;
    }
    t->next = l->timers;
    l->timers = t;
    pthread_mutex_unlock(&l->mu);
    curl_multi_wakeup(l->multi); /* the loop may sleep past the new deadline */
    return t;
}

void be_loop_timer_stop(be_loop *l, be_timer *t)
{
    if (!t)
        return;
    pthread_mutex_lock(&l->mu);
    while (t->running)
        pthread_cond_wait(&l->timer_done, &l->mu);
    for (be_timer **p = &l->timers; *p; p = &(*p)->next)
        if (*p == t) {
            *p = t->next;
            break;
        }
    pthread_mutex_unlock(&l->mu);
    free(t);
}

/* Runs the timers due at `now` (each at most once) and returns the next deadline (0: none). */
static uint64_t run_timers(be_loop *l, uint64_t now)
{
    pthread_mutex_lock(&l->mu);
    for (;;) {
        be_timer *due = NULL;
        for (be_timer *t = l->timers; t && !due; t = t->next)
            if (t->due_ns <= now)
                due = t;
        if (!due)
            break;
        /* the next run: a period on, or a period from now when the loop fell behind */
        due->due_ns += due->period_ns;
        if (due->due_ns <= now)
            due->due_ns = now + due->period_ns;
        due->running = true;
        pthread_mutex_unlock(&l->mu);
        due->fn(due->user);
        pthread_mutex_lock(&l->mu);
        due->running = false;
        pthread_cond_broadcast(&l->timer_done);
    }
    uint64_t next = 0;
    for (be_timer *t = l->timers; t; t = t->next)
        if (!next || t->due_ns < next)
            next = t->due_ns;
    pthread_mutex_unlock(&l->mu);
    return next;
}

static active *find(be_loop *l, be_transfer *t, active ***link)
{
    for (active **p = &l->list; *p; p = &(*p)->next) {
        if ((*p)->t == t) {
            if (link)
                *link = p;
            return *p;
        }
    }
    return NULL;
}

/* Takes `t` out of the multi handle and reports `code`; drops the loop's reference. */
static void retire(be_loop *l, be_transfer *t, CURLcode code)
{
    active **link = NULL;
    active *a = find(l, t, &link);
    if (!a)
        return;
    *link = a->next;
    free(a);
    curl_multi_remove_handle(l->multi, be_transfer_easy(t));
    be_transfer_finish(t, code);
    be_transfer_unref(t);
}

static void run_command(be_loop *l, cmd *c)
{
    be_transfer *t = c->t;
    switch (c->kind) {
    case CMD_ADD: {
        active *a = malloc(sizeof *a);
        if (!a) {
            be_transfer_finish(t, CURLE_OUT_OF_MEMORY);
            break;
        }
        if (be_transfer_abandoned(t) ||
            curl_multi_add_handle(l->multi, be_transfer_easy(t)) != CURLM_OK) {
            free(a);
            be_transfer_finish(t, CURLE_ABORTED_BY_CALLBACK);
            break;
        }
        a->t = t;
        a->next = l->list;
        l->list = a;
        be_transfer_ref(t); /* the loop's reference, dropped by retire */
        break;
    }
    case CMD_UNPAUSE:
        if (find(l, t, NULL)) {
            be_transfer_unpaused(t);
            curl_easy_pause(be_transfer_easy(t), CURLPAUSE_CONT);
        }
        break;
    case CMD_CANCEL:
        retire(l, t, CURLE_ABORTED_BY_CALLBACK);
        break;
    }
    be_transfer_unref(t);
    free(c);
}

static void *loop_main(void *p)
{
    be_loop *l = p;
    for (;;) {
        pthread_mutex_lock(&l->mu);
        cmd *c = l->head;
        l->head = l->tail = NULL;
        bool stop = l->stop;
        pthread_mutex_unlock(&l->mu);
        while (c) {
            cmd *next = c->next;
            run_command(l, c);
            c = next;
        }
        if (stop)
            break;
        int running = 0;
        curl_multi_perform(l->multi, &running);
        CURLMsg *m;
        int left;
        while ((m = curl_multi_info_read(l->multi, &left))) {
            if (m->msg != CURLMSG_DONE)
                continue;
            be_transfer *t = NULL;
            curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&t);
            CURLcode code = m->data.result;
            if (t)
                retire(l, t, code);
        }
        uint64_t now = be_now_ns(), next = run_timers(l, be_now_ns());
        for (active *a = l->list; a;) {
            active *following = a->next;
            if (be_transfer_expired(a->t, now, &next))
                retire(l, a->t, CURLE_OPERATION_TIMEDOUT);
            a = following;
        }
        long timeout = 1000;
        long curl_timeout = -1;
        curl_multi_timeout(l->multi, &curl_timeout);
        if (curl_timeout >= 0 && curl_timeout < timeout)
            timeout = curl_timeout;
        if (next) {
            long until = next > now ? (long)((next - now) / 1000000u) + 1 : 0;
            if (until < timeout)
                timeout = until;
        }
        curl_multi_poll(l->multi, NULL, 0, (int)timeout, NULL);
    }
    while (l->list)
        retire(l, l->list->t, CURLE_ABORTED_BY_CALLBACK);
    return NULL;
}

be_loop *be_loop_new(const be_loop_config *cfg, char *err, size_t errlen)
{
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        snprintf(err, errlen, "libcurl initialisation failed");
        return NULL;
    }
    be_loop *l = calloc(1, sizeof *l);
    if (!l) {
        curl_global_cleanup();
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    l->cfg = *cfg;
    pthread_mutex_init(&l->mu, NULL);
    pthread_cond_init(&l->timer_done, NULL);
    l->multi = curl_multi_init();
    if (!l->multi) {
        snprintf(err, errlen, "libcurl: cannot create a multi handle");
        be_loop_free(l);
        return NULL;
    }
    curl_multi_setopt(l->multi, CURLMOPT_PIPELINING, (long)CURLPIPE_MULTIPLEX);
    curl_multi_setopt(l->multi, CURLMOPT_MAXCONNECTS, 256L);
    if (pthread_create(&l->thread, NULL, loop_main, l) != 0) {
        snprintf(err, errlen, "cannot start the backend event-loop thread");
        be_loop_free(l);
        return NULL;
    }
    l->started = true;
    return l;
}

void be_loop_free(be_loop *l)
{
    if (!l)
        return;
    if (l->started) {
        pthread_mutex_lock(&l->mu);
        l->stop = true;
        pthread_mutex_unlock(&l->mu);
        curl_multi_wakeup(l->multi);
        pthread_join(l->thread, NULL);
    }
    /* commands queued after the last drain (none can be added once stop is set) */
    for (cmd *c = l->head; c;) {
        cmd *next = c->next;
        be_transfer_unref(c->t);
        free(c);
        c = next;
    }
    /* timers their owners did not stop (they must not be stopped after this) */
    for (be_timer *t = l->timers; t;) {
        be_timer *next = t->next;
        free(t);
        t = next;
    }
    if (l->multi)
        curl_multi_cleanup(l->multi);
    pthread_cond_destroy(&l->timer_done);
    pthread_mutex_destroy(&l->mu);
    free(l);
    curl_global_cleanup();
}
