/* engine.c: the engine object: canonical function-type ids shared by every module loaded with
 * it (so call_indirect across modules compares one integer), and engine-wide status strings. */
#include "grow.h"
#include "runtime.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

fwe_engine *fwe_engine_new(void)
{
    fwe_engine *e = calloc(1, sizeof *e);
    if (!e)
        return NULL;
    pthread_mutex_init(&e->lock, NULL);
    return e;
}

void fwe_engine_free(fwe_engine *e)
{
    if (!e)
        return;
    for (uint32_t i = 0; i < e->ntypes; i++)
        free(e->types[i].types);
    free(e->types);
    for (uint32_t i = 0; i < e->nzombies; i++)
        fwe_instance_free(e->zombies[i]);
    for (uint32_t i = 0; i < e->nstacks; i++)
        munmap(e->stacks[i], e->stack_bytes[i]);
    free(e->zombies);
    pthread_mutex_destroy(&e->lock);
    free(e);
}

uint32_t fwe_engine_intern_type(fwe_engine *e, const uint8_t *types, uint32_t nparams,
                                uint32_t nresults)
{
    uint32_t n = nparams + nresults;
    uint64_t h = 1469598103934665603ull ^ nparams;
    for (uint32_t i = 0; i < n; i++)
        h = (h ^ types[i]) * 1099511628211ull;
    pthread_mutex_lock(&e->lock);
    uint32_t id = UINT32_MAX;
    for (uint32_t i = 0; i < e->ntypes; i++) {
        const struct fwe_interned_type *t = &e->types[i];
        if (t->hash == h && t->nparams == nparams && t->nresults == nresults &&
            (n == 0 || memcmp(t->types, types, n) == 0)) {
            id = i;
            break;
        }
    }
    if (id == UINT32_MAX) {
        if (!fwe_grow((void **)&e->types, &e->cap, e->ntypes + 1, 64, sizeof *e->types))
            goto out;
        uint8_t *copy = malloc(n ? n : 1);
        if (!copy)
            goto out;
        if (n)
            memcpy(copy, types, n);
        e->types[e->ntypes] = (struct fwe_interned_type){nparams, nresults, copy, h};
        id = e->ntypes++;
    }
out:
    pthread_mutex_unlock(&e->lock);
    return id;
}

/* Keeps an instance whose initialisation trapped alive until the engine goes: its functions may
 * already sit in tables of other instances (Wasm 2.0 applies segments one by one). */
void fwe_engine_keep_instance(fwe_engine *e, fwe_instance *inst)
{
    pthread_mutex_lock(&e->lock);
    if (!fwe_grow((void **)&e->zombies, &e->cap_zombies, e->nzombies + 1, 8, sizeof *e->zombies)) {
        pthread_mutex_unlock(&e->lock);
        return; /* leak rather than free something still referenced */
    }
    e->zombies[e->nzombies++] = inst;
    pthread_mutex_unlock(&e->lock);
}

size_t fwe_engine_kept_instances(fwe_engine *e)
{
    pthread_mutex_lock(&e->lock);
    size_t n = e->nzombies;
    pthread_mutex_unlock(&e->lock);
    return n;
}

void *fwe_engine_take_stack(fwe_engine *e, size_t bytes)
{
    void *p = NULL;
    pthread_mutex_lock(&e->lock);
    for (uint32_t i = e->nstacks; i > 0; i--) {
        if (e->stack_bytes[i - 1] != bytes)
            continue;
        p = e->stacks[i - 1];
        e->stacks[i - 1] = e->stacks[e->nstacks - 1];
        e->stack_bytes[i - 1] = e->stack_bytes[e->nstacks - 1];
        e->nstacks--;
        break;
    }
    pthread_mutex_unlock(&e->lock);
    return p;
}

bool fwe_engine_put_stack(fwe_engine *e, void *stack, size_t bytes)
{
    bool kept = false;
    pthread_mutex_lock(&e->lock);
    if (e->nstacks < FWE_POOL_MAX) {
        e->stacks[e->nstacks] = stack;
        e->stack_bytes[e->nstacks++] = bytes;
        kept = true;
    }
    pthread_mutex_unlock(&e->lock);
    return kept;
}

const char *fwe_strerror(fwe_status s)
{
    switch (s) {
    case FWE_OK:
        return "ok";
    case FWE_ERR_MALFORMED:
        return "malformed module";
    case FWE_ERR_INVALID:
        return "invalid module";
    case FWE_ERR_UNLINKABLE:
        return "unlinkable module";
    case FWE_ERR_TRAP:
        return "trap";
    case FWE_ERR_NOMEM:
        return "out of memory";
    case FWE_ERR_ARGS:
        return "bad arguments";
    case FWE_ERR_EXISTS:
        return "already defined";
    }
    return "unknown error";
}
