/* srv_pool.c: the worker pool: a mutex-protected singly linked job queue and N threads waiting on
 * a condition variable. Shutdown drains the queue first: queued jobs are requests whose clients
 * are waiting for an answer. */
#include "server/srv_pool.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <unistd.h>

typedef struct job {
    struct job *next;
    srv_job_fn fn;
    void *arg;
} job;

struct srv_pool {
    pthread_mutex_t lock;
    pthread_cond_t wake;
    job *head, *tail;
    bool stopping;
    size_t nthreads;
    pthread_t *threads;
};

static void *worker(void *arg)
{
    srv_pool *pool = arg;
    pthread_mutex_lock(&pool->lock);
    for (;;) {
        while (!pool->head && !pool->stopping)
            pthread_cond_wait(&pool->wake, &pool->lock);
        job *j = pool->head;
        if (!j)
            break; /* stopping and drained */
        pool->head = j->next;
        if (!pool->head)
            pool->tail = NULL;
        pthread_mutex_unlock(&pool->lock);
        j->fn(j->arg);
        free(j);
        pthread_mutex_lock(&pool->lock);
    }
    pthread_mutex_unlock(&pool->lock);
    return NULL;
}

srv_pool *srv_pool_new(size_t nthreads)
{
    if (nthreads == 0) {
        long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
        nthreads = ncpu > 0 ? (size_t)ncpu * 4 : 8;
        if (nthreads < 8)
            nthreads = 8;
    }
    srv_pool *pool = calloc(1, sizeof *pool);
    pthread_t *threads = calloc(nthreads, sizeof *threads);
    if (!pool || !threads) {
        free(pool);
        free(threads);
        return NULL;
    }
    pthread_mutex_init(&pool->lock, NULL);
    pthread_cond_init(&pool->wake, NULL);
    pool->threads = threads;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    /* guests keep their wasm stacks in the instance, but hostcalls (regex, TLS, ...) run here:
     * the usual 8 MiB, reserved lazily */
    pthread_attr_setstacksize(&attr, 8 * 1024 * 1024);
    for (size_t i = 0; i < nthreads; i++) {
        if (pthread_create(&pool->threads[i], &attr, worker, pool) != 0)
            break;
        pool->nthreads++;
    }
    pthread_attr_destroy(&attr);
    if (pool->nthreads < nthreads) {
        srv_pool_free(pool);
        return NULL;
    }
    return pool;
}

int srv_pool_submit(srv_pool *pool, srv_job_fn fn, void *arg)
{
    job *j = malloc(sizeof *j);
    if (!j)
        return -1;
    j->next = NULL;
    j->fn = fn;
    j->arg = arg;
    pthread_mutex_lock(&pool->lock);
    if (pool->stopping) {
        pthread_mutex_unlock(&pool->lock);
        free(j);
        return -1;
    }
    if (pool->tail)
        pool->tail->next = j;
    else
        pool->head = j;
    pool->tail = j;
    pthread_cond_signal(&pool->wake);
    pthread_mutex_unlock(&pool->lock);
    return 0;
}

void srv_pool_free(srv_pool *pool)
{
    if (!pool)
        return;
    pthread_mutex_lock(&pool->lock);
    pool->stopping = true;
    pthread_cond_broadcast(&pool->wake);
    pthread_mutex_unlock(&pool->lock);
    for (size_t i = 0; i < pool->nthreads; i++)
        pthread_join(pool->threads[i], NULL);
    pthread_cond_destroy(&pool->wake);
    pthread_mutex_destroy(&pool->lock);
    free(pool->threads);
    free(pool);
}

size_t srv_pool_size(const srv_pool *pool)
{
    return pool->nthreads;
}
