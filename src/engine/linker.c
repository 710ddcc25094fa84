/* linker.c: a name table (module, name) -> extern used to resolve imports at instantiation.
 * Host functions are defined from {module, name, signature, fn} entries; the linker owns their
 * function objects. Lookups are hashed because the server instantiates once per request. */
#include "linker.h"

#include "grow.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct entry {
    char *module, *name;
    size_t module_len, name_len;
    uint64_t hash;
    fwe_extern ext;
    fwe_func *owned; /* host function created by this linker */
} entry;

struct fwe_linker {
    fwe_engine *engine;
    entry *entries;
    uint32_t n, cap;
    uint32_t *buckets; /* index+1 into entries, 0 = empty */
    uint32_t nbuckets;
    bool allow_missing;
    pthread_mutex_t lock; /* guards stub creation during concurrent instantiation, and the memo */
    uint64_t memo_uid;    /* the module whose imports memo holds (0: none) */
    fwe_extern *memo;
    uint32_t memo_len;
};

static uint64_t name_hash(const char *mod, size_t ml, const char *name, size_t nl)
{
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < ml; i++)
        h = (h ^ (uint8_t)mod[i]) * 1099511628211ull;
    h = (h ^ 0xff) * 1099511628211ull;
    for (size_t i = 0; i < nl; i++)
        h = (h ^ (uint8_t)name[i]) * 1099511628211ull;
    return h;
}

fwe_linker *fwe_linker_new(fwe_engine *engine)
{
    fwe_linker *l = calloc(1, sizeof *l);
    if (!l)
        return NULL;
    l->engine = engine;
    pthread_mutex_init(&l->lock, NULL);
    return l;
}

void fwe_linker_free(fwe_linker *l)
{
    if (!l)
        return;
    for (uint32_t i = 0; i < l->n; i++) {
        free(l->entries[i].module);
        free(l->entries[i].name);
        if (l->entries[i].owned) {
            free(l->entries[i].owned->host_type.types);
            free((void *)l->entries[i].owned->import_name);
            free(l->entries[i].owned);
        }
    }
    free(l->entries);
    free(l->buckets);
    free(l->memo);
    pthread_mutex_destroy(&l->lock);
    free(l);
}

void fwe_linker_allow_missing_imports(fwe_linker *l, bool allow)
{
    l->allow_missing = allow;
}

static const entry *find(const fwe_linker *l, const char *mod, size_t ml, const char *name,
                         size_t nl)
{
    if (!l->nbuckets)
        return NULL;
    uint64_t h = name_hash(mod, ml, name, nl);
    for (uint32_t i = (uint32_t)h & (l->nbuckets - 1);; i = (i + 1) & (l->nbuckets - 1)) {
        uint32_t b = l->buckets[i];
        if (!b)
            return NULL;
        const entry *e = &l->entries[b - 1];
        if (e->hash == h && e->module_len == ml && e->name_len == nl &&
            memcmp(e->module, mod, ml) == 0 && memcmp(e->name, name, nl) == 0)
            return e;
    }
}

/* Names are byte strings that may contain NUL, so strndup would cut them short. */
static char *dup_bytes(const char *s, size_t n)
{
    char *d = malloc(n + 1);
    if (!d)
        return NULL;
    memcpy(d, s, n);
    d[n] = 0;
    return d;
}

static bool rehash(fwe_linker *l, uint32_t nb)
{
    uint32_t *b = calloc(nb, sizeof *b);
    if (!b)
        return false;
    for (uint32_t k = 0; k < l->n; k++) {
        uint32_t i = (uint32_t)l->entries[k].hash & (nb - 1);
        while (b[i])
            i = (i + 1) & (nb - 1);
        b[i] = k + 1;
    }
    free(l->buckets);
    l->buckets = b;
    l->nbuckets = nb;
    return true;
}

static fwe_status add(fwe_linker *l, const char *mod, size_t ml, const char *name, size_t nl,
                      fwe_extern ext, fwe_func *owned)
{
    if (find(l, mod, ml, name, nl))
        return FWE_ERR_EXISTS;
    if (!fwe_grow((void **)&l->entries, &l->cap, l->n + 1, 64, sizeof *l->entries))
        return FWE_ERR_NOMEM;
    if ((l->n + 1) * 2 > l->nbuckets && !rehash(l, l->nbuckets ? l->nbuckets * 2 : 128))
        return FWE_ERR_NOMEM;
    entry *e = &l->entries[l->n];
    e->module = dup_bytes(mod, ml);
    e->name = dup_bytes(name, nl);
    if (!e->module || !e->name) {
        free(e->module);
        free(e->name);
        return FWE_ERR_NOMEM;
    }
    e->module_len = ml;
    e->name_len = nl;
    e->hash = name_hash(mod, ml, name, nl);
    e->ext = ext;
    e->owned = owned;
    uint32_t i = (uint32_t)e->hash & (l->nbuckets - 1);
    while (l->buckets[i])
        i = (i + 1) & (l->nbuckets - 1);
    l->buckets[i] = ++l->n;
    return FWE_OK;
}

fwe_status fwe_linker_define(fwe_linker *l, const char *module, const char *name, fwe_extern ext)
{
    return add(l, module, strlen(module), name, strlen(name), ext, NULL);
}

static int sig_type(char c)
{
    switch (c) {
    case 'i':
        return FWE_I32;
    case 'I':
        return FWE_I64;
    case 'f':
        return FWE_F32;
    case 'F':
        return FWE_F64;
    case 'v':
        return FWE_V128;
    case 'r':
        return FWE_FUNCREF;
    case 'x':
        return FWE_EXTERNREF;
    }
    return -1;
}

fwe_func *fwe_host_func_new(fwe_engine *engine, const uint8_t *types, uint32_t np, uint32_t nr,
                            fwe_host_fn fn, void *data)
{
    fwe_func *f = calloc(1, sizeof *f);
    uint8_t *t = malloc(np + nr + 1);
    if (!f || !t) {
        free(f);
        free(t);
        return NULL;
    }
    if (np + nr)
        memcpy(t, types, np + nr);
    f->host_type.nparams = np;
    f->host_type.nresults = nr;
    f->host_type.types = t;
    for (uint32_t i = 0; i < np; i++)
        f->host_type.param_slots += fwe_valtype_slots(t[i]);
    for (uint32_t i = 0; i < nr; i++)
        f->host_type.result_slots += fwe_valtype_slots(t[np + i]);
    f->host_type.id = fwe_engine_intern_type(engine, t, np, nr);
    f->type = &f->host_type;
    f->type_id = f->host_type.id;
    f->host = fn;
    f->host_data = data;
    return f;
}

fwe_status fwe_linker_define_host(fwe_linker *l, const char *module, const char *name,
                                  const char *sig, fwe_host_fn fn, void *data)
{
    uint8_t types[64];
    uint32_t np = 0, nr = 0;
    bool results = false;
    for (const char *p = sig; *p; p++) {
        if (*p == ':') {
            if (results)
                return FWE_ERR_ARGS;
            results = true;
            continue;
        }
        int t = sig_type(*p);
        if (t < 0 || np + nr >= sizeof types)
            return FWE_ERR_ARGS;
        types[np + nr] = (uint8_t)t;
        if (results)
            nr++;
        else
            np++;
    }
    fwe_func *f = fwe_host_func_new(l->engine, types, np, nr, fn, data);
    if (!f)
        return FWE_ERR_NOMEM;
    fwe_extern ext = {.kind = FWE_EXTERN_FUNC, .of.func = f};
    fwe_status st = add(l, module, strlen(module), name, strlen(name), ext, f);
    if (st != FWE_OK) {
        free(f->host_type.types);
        free(f);
    }
    return st;
}

fwe_status fwe_linker_define_hosts(fwe_linker *l, const fwe_host_def *defs, void *data)
{
    for (; defs->module; defs++) {
        fwe_status st =
            fwe_linker_define_host(l, defs->module, defs->name, defs->signature, defs->fn, data);
        if (st != FWE_OK)
            return st;
    }
    return FWE_OK;
}

fwe_status fwe_linker_define_instance(fwe_linker *l, const char *module, fwe_instance *inst)
{
    const fwe_module *m = inst->module;
    for (uint32_t i = 0; i < m->nexports; i++) {
        fwe_extern ext;
        if (!fwe_instance_export(inst, m->exports[i].name, m->exports[i].name_len, &ext))
            return FWE_ERR_ARGS;
        fwe_status st =
            add(l, module, strlen(module), m->exports[i].name, m->exports[i].name_len, ext, NULL);
        if (st == FWE_ERR_EXISTS) {
            /* re-registering a module name replaces earlier definitions */
            entry *e = (entry *)find(l, module, strlen(module), m->exports[i].name,
                                     m->exports[i].name_len);
            e->ext = ext;
        } else if (st != FWE_OK) {
            return st;
        }
    }
    return FWE_OK;
}

static fwe_trap_kind missing_import(fwe_caller *caller, uint64_t *slots, void *data)
{
    (void)slots;
    const char *name = data;
    return fwe_caller_trap(caller, FWE_TRAP_MISSING_IMPORT, "call to unimplemented import %s",
                           name);
}

bool fwe_linker_resolve(fwe_linker *l, const fwe_import *imp, const fwe_functype *want,
                        fwe_extern *out)
{
    const entry *e = find(l, imp->module, imp->module_len, imp->name, imp->name_len);
    if (e) {
        *out = e->ext;
        return true;
    }
    if (!l->allow_missing || imp->kind != FWE_EXTERN_FUNC)
        return false;
    /* create (once) a stub with the import's type that traps when called */
    pthread_mutex_lock(&l->lock);
    e = find(l, imp->module, imp->module_len, imp->name, imp->name_len);
    bool ok = e != NULL;
    if (!ok) {
        size_t len = imp->module_len + imp->name_len + 2;
        char *full = malloc(len);
        fwe_func *f = full ? fwe_host_func_new(l->engine, want->types, want->nparams,
                                               want->nresults, missing_import, full)
                           : NULL;
        if (f) {
            snprintf(full, len, "%.*s.%.*s", (int)imp->module_len, imp->module, (int)imp->name_len,
                     imp->name);
            f->import_name = full;
            fwe_extern ext = {.kind = FWE_EXTERN_FUNC, .of.func = f};
            ok = add(l, imp->module, imp->module_len, imp->name, imp->name_len, ext, f) == FWE_OK;
            if (!ok) {
                free(f->host_type.types);
                free(f);
                free(full);
            }
        } else {
            free(full);
        }
        e = ok ? find(l, imp->module, imp->module_len, imp->name, imp->name_len) : NULL;
    }
    pthread_mutex_unlock(&l->lock);
    if (!e)
        return false;
    *out = e->ext;
    return true;
}

uint32_t fwe_linker_resolve_module(fwe_linker *l, const fwe_module *m, fwe_extern *out)
{
    pthread_mutex_lock(&l->lock);
    bool hit = l->memo_uid == m->uid && l->memo_len == m->nimports;
    if (hit && m->nimports)
        memcpy(out, l->memo, m->nimports * sizeof *out);
    pthread_mutex_unlock(&l->lock);
    if (hit)
        return m->nimports;
    for (uint32_t i = 0; i < m->nimports; i++) {
        const fwe_import *imp = &m->imports[i];
        const fwe_functype *want =
            imp->kind == FWE_EXTERN_FUNC ? &m->types[imp->desc.type_index] : NULL;
        if (!fwe_linker_resolve(l, imp, want, &out[i]))
            return i;
    }
    fwe_extern *copy = m->nimports ? malloc(m->nimports * sizeof *copy) : NULL;
    if (copy || !m->nimports) {
        if (copy)
            memcpy(copy, out, m->nimports * sizeof *copy);
        pthread_mutex_lock(&l->lock);
        free(l->memo);
        l->memo = copy;
        l->memo_len = m->nimports;
        l->memo_uid = m->uid;
        pthread_mutex_unlock(&l->lock);
    }
    return m->nimports;
}
