/* soak_load.c: the load generator of `make bench-soak` (bench/soak.sh): sends exactly N GET
 * requests to 127.0.0.1:PORT over CONNS keep-alive connections (one thread each, a shared counter
 * hands out the requests) and prints "sent non2xx errors" (errors: connections that failed or
 * broke, each reopened). wrk runs for a duration, not a count. Usage: soak_load PORT N CONNS */
#include "server/http_client.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>

typedef struct load {
    uint16_t port;
    long total;
    atomic_long next, non2xx, errors;
} load;

static void *client(void *arg)
{
    load *l = arg;
    hc_conn c;
    bool open = false;
    hc_resp r = {0};
    static const char req[] = "GET / HTTP/1.1\r\nHost: soak.test\r\n\r\n";
    while (atomic_fetch_add(&l->next, 1) < l->total) {
        if (!open && hc_connect(&c, l->port) != 0) {
            atomic_fetch_add(&l->errors, 1);
            continue;
        }
        open = true;
        if (hc_sends(&c, req) != 0 || hc_read(&c, &r, false, false, false) != 0) {
            atomic_fetch_add(&l->errors, 1);
            hc_close(&c);
            open = false;
            continue;
        }
        if (r.status < 200 || r.status > 299)
            atomic_fetch_add(&l->non2xx, 1);
        if (hc_header(&r, "connection") && strcasecmp(hc_header(&r, "connection"), "close") == 0) {
            hc_close(&c);
            open = false;
        }
    }
    if (open)
        hc_close(&c);
    hc_resp_free(&r);
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: soak_load PORT N CONNS\n");
        return 2;
    }
    load l = {.port = (uint16_t)strtoul(argv[1], NULL, 10), .total = strtol(argv[2], NULL, 10)};
    long conns = strtol(argv[3], NULL, 10);
    if (l.port == 0 || l.total < 0 || conns < 1 || conns > 1024) {
        fprintf(stderr, "soak_load: bad PORT, N or CONNS\n");
        return 2;
    }
    atomic_init(&l.next, 0);
    atomic_init(&l.non2xx, 0);
    atomic_init(&l.errors, 0);
    pthread_t *t = calloc((size_t)conns, sizeof *t);
    if (!t)
        return 1;
    long started = 0;
    for (; started < conns; started++)
        if (pthread_create(&t[started], NULL, client, &l) != 0)
            break;
    for (long i = 0; i < started; i++)
        pthread_join(t[i], NULL);
    free(t);
    long errors = atomic_load(&l.errors);
    printf("%ld %ld %ld\n", l.total - errors, atomic_load(&l.non2xx), errors);
    return started > 0 ? 0 : 1;
}
