/* srv_pool.h: a fixed pool of worker threads running queued jobs in FIFO order. The server runs
 * one guest per job, so the pool size bounds how many guests execute at once. */
#ifndef SRV_POOL_H
#define SRV_POOL_H

#include <stddef.h>

typedef struct srv_pool srv_pool;
typedef void (*srv_job_fn)(void *arg);

/* Starts `nthreads` workers (0 = sized to the machine: 4 per online CPU, at least 8, because
 * guests also block on bodies and backends). Returns NULL when threads cannot be created. */
srv_pool *srv_pool_new(size_t nthreads);
/* Queues fn(arg). Returns 0, or -1 when out of memory or the pool is shutting down. */
int srv_pool_submit(srv_pool *pool, srv_job_fn fn, void *arg);
/* Runs every queued job, then joins the workers and frees the pool. Accepts NULL. */
void srv_pool_free(srv_pool *pool);
size_t srv_pool_size(const srv_pool *pool);

#endif
