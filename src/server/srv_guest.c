/* srv_guest.c: loading the guest once (decode, validate, import checks) and the pool of linker
 * slots. A slot is built on first need (WASI + hc_define_all, about 300 definitions) and then
 * reused; the pool grows to the highest number of concurrent requests seen. */
#include "server/srv_guest.h"
#include "config/cfg_edge.h"
#include "hostcalls/hc_registry.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct srv_code {
    pthread_mutex_t lock;
    unsigned refs;
    fwe_engine *engine;
    fwe_module *module;
    uint64_t hash; /* bytes_hash of the wasm bytes */
    size_t len;
};

/* A 64-bit fingerprint of the wasm bytes (a reload with the same bytes keeps the loaded module).
 * Eight bytes per step in four independent lanes: an 11 MB JS guest takes about a millisecond;
 * byte-at-a-time FNV-1a took ~10% of `fastlike run` and of a server start with such a guest. */
static uint64_t bytes_hash(const uint8_t *p, size_t n)
{
    static const uint64_t k = 0x9e3779b97f4a7c15ull;
    uint64_t lane[4] = {0xcbf29ce484222325ull, 0x84222325cbf29ce4ull, 0x100000001b3ull, k};
    size_t i = 0;
    for (; i + 32 <= n; i += 32)
        for (int j = 0; j < 4; j++) {
            uint64_t w;
            memcpy(&w, p + i + 8 * (size_t)j, 8);
            lane[j] = (lane[j] ^ w) * k;
            lane[j] ^= lane[j] >> 29;
        }
    uint64_t h = 0xcbf29ce484222325ull ^ n;
    for (int j = 0; j < 4; j++)
        h = (h ^ lane[j]) * 0x100000001b3ull ^ (h >> 31);
    for (; i < n; i++) /* the last 0..31 bytes: FNV-1a */
        h = (h ^ p[i]) * 0x100000001b3ull;
    h ^= h >> 33;
    h *= k;
    return h ^ (h >> 29);
}

static void code_drop(srv_code *c)
{
    if (!c)
        return;
    pthread_mutex_lock(&c->lock);
    unsigned left = --c->refs;
    pthread_mutex_unlock(&c->lock);
    if (left > 0)
        return;
    fwe_module_free(c->module);
    fwe_engine_free(c->engine);
    pthread_mutex_destroy(&c->lock);
    free(c);
}

static void slot_free(srv_slot *s)
{
    if (!s)
        return;
    fwe_linker_free(s->linker);
    wasi_ctx_free(s->wasi);
    free(s);
}

static srv_slot *slot_new(srv_guest *g)
{
    srv_slot *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->linker = fwe_linker_new(g->engine);
    s->wasi = wasi_ctx_new(0, NULL, 0, NULL, -1, -1, -1);
    if (!s->linker || !s->wasi || wasi_define(s->linker, s->wasi) != FWE_OK ||
        hc_define_all(s->linker) != FWE_OK) {
        slot_free(s);
        return NULL;
    }
    /* imports Fastlike lacks link to stubs that trap naming the import when called */
    fwe_linker_allow_missing_imports(s->linker, true);
    return s;
}

static bool has_start(const fwe_module *m)
{
    uint32_t n = fwe_module_export_count(m);
    for (uint32_t i = 0; i < n; i++) {
        fwe_export_info e;
        fwe_module_export(m, i, &e);
        if (e.kind == FWE_EXTERN_FUNC && e.name_len == 6 && memcmp(e.name, "_start", 6) == 0)
            return true;
    }
    return false;
}

fastlike_status srv_guest_new(const srv_guest_config *cfg, srv_guest **out, char *err,
                              size_t errlen)
{
    *out = NULL;
    srv_guest *g = calloc(1, sizeof *g);
    if (!g) {
        snprintf(err, errlen, "out of memory");
        return FASTLIKE_ERR_NOMEM;
    }
    pthread_mutex_init(&g->lock, NULL);
    srv_reuse_init(&g->reuse);
    g->refs = 1;
    g->timeout_ms = cfg->timeout_ms;
    g->inflight = cfg->inflight;
    /* whole pages; 0 pages would mean "no cap" to the engine, so the least is one page */
    g->max_memory_pages = cfg->memory_limit / 65536;
    if (cfg->memory_limit && g->max_memory_pages == 0)
        g->max_memory_pages = 1;
    g->log = cfg->log;
    g->hc = cfg->hc;
    g->hc.stub_log = hc_stub_log_new();
    fastlike_status st = FASTLIKE_ERR_NOMEM;
    g->env = calloc(cfg->nenv + 1, sizeof *g->env);
    g->timer = srv_timer_new();
    if (!g->env || !g->timer) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    for (size_t i = 0; i < cfg->nenv; i++) {
        size_t n = strlen(cfg->env[i]) + 1;
        g->env[i] = malloc(n);
        if (!g->env[i]) {
            snprintf(err, errlen, "out of memory");
            goto fail;
        }
        memcpy(g->env[i], cfg->env[i], n);
        g->nenv++;
    }
    uint64_t hash = bytes_hash(cfg->wasm, cfg->wasm_len);
    const srv_code *prev = cfg->previous ? cfg->previous->code : NULL;
    if (prev && prev->len == cfg->wasm_len && prev->hash == hash) {
        /* the same module as before: share its compiled form (a store-file-only reload) */
        g->code = cfg->previous->code;
        pthread_mutex_lock(&g->code->lock);
        g->code->refs++;
        pthread_mutex_unlock(&g->code->lock);
        g->module_reused = true;
    } else {
        g->code = calloc(1, sizeof *g->code);
        if (!g->code) {
            snprintf(err, errlen, "out of memory");
            goto fail;
        }
        pthread_mutex_init(&g->code->lock, NULL);
        g->code->refs = 1;
        g->code->hash = hash;
        g->code->len = cfg->wasm_len;
        g->code->engine = fwe_engine_new();
        if (!g->code->engine) {
            snprintf(err, errlen, "out of memory");
            goto fail;
        }
        char msg[512] = "";
        fwe_status fst = fwe_module_load(g->code->engine, cfg->wasm, cfg->wasm_len,
                                         &g->code->module, msg, sizeof msg);
        if (fst != FWE_OK) {
            st = fst == FWE_ERR_NOMEM ? FASTLIKE_ERR_NOMEM : FASTLIKE_ERR_WASM;
            snprintf(err, errlen, "invalid wasm module: %s", msg[0] ? msg : fwe_strerror(fst));
            goto fail;
        }
    }
    g->engine = g->code->engine;
    g->module = g->code->module;
    if (!has_start(g->module)) {
        st = FASTLIKE_ERR_WASM;
        snprintf(err, errlen,
                 "the wasm module exports no `_start` function (not a Compute program)");
        goto fail;
    }
    /* a module that needs more memory than the cap could never serve a request: say so now */
    uint32_t min_pages = fwe_module_memory_min_pages(g->module);
    if (g->max_memory_pages && min_pages > g->max_memory_pages) {
        st = FASTLIKE_ERR_WASM;
        snprintf(err, errlen,
                 "the module's initial memory of %u pages (%llu MiB) exceeds the memory limit of "
                 "%llu pages (%llu MiB)",
                 min_pages, (unsigned long long)min_pages * 65536 >> 20,
                 (unsigned long long)g->max_memory_pages,
                 (unsigned long long)g->max_memory_pages * 65536 >> 20);
        goto fail;
    }
    /* the same for a table larger than the table cap */
    uint32_t min_elems = fwe_module_table_min_elements(g->module);
    if (min_elems > SRV_TABLE_ELEMENTS_MAX) {
        st = FASTLIKE_ERR_WASM;
        snprintf(err, errlen,
                 "the module's initial table of %u elements exceeds the table limit of %u elements",
                 min_elems, (unsigned)SRV_TABLE_ELEMENTS_MAX);
        goto fail;
    }
    char names[1024];
    size_t unknown = hc_registry_unknown_imports(g->module, names, sizeof names);
    if (unknown > 0 && cfg->unknown_import_error) {
        st = FASTLIKE_ERR_WASM;
        snprintf(err, errlen, "the guest imports %zu unknown function%s: %s", unknown,
                 unknown == 1 ? "" : "s", names);
        goto fail;
    }
    if (cfg->log.verbosity >= 1) {
        if (unknown > 0)
            srv_logf(&g->log, "guest imports %zu unknown function%s (they trap when called): %s",
                     unknown, unknown == 1 ? "" : "s", names);
        size_t unimpl =
            hc_registry_unimplemented_imports(g->module, hc_all_impls, names, sizeof names);
        if (unimpl > 0)
            srv_logf(&g->log, "guest imports %zu unimplemented hostcall%s (answer unsupported): %s",
                     unimpl, unimpl == 1 ? "" : "s", names);
    }
    /* one slot up front: a linker that cannot be built is a startup error, not a 500 */
    srv_slot *s = slot_new(g);
    if (!s) {
        snprintf(err, errlen, "cannot set up the hostcall linker");
        goto fail;
    }
    g->free_slots = s;
    if (cfg->edge) {
        g->edge = cfg->edge;
        g->hc.edge = g->edge;
    }
    *out = g;
    return FASTLIKE_OK;
fail:
    srv_guest_free(g);
    return st;
}

srv_guest *srv_guest_hold(srv_guest *g)
{
    pthread_mutex_lock(&g->lock);
    g->refs++;
    pthread_mutex_unlock(&g->lock);
    return g;
}

void srv_guest_free(srv_guest *g)
{
    srv_guest_drop(g);
}

void srv_guest_drop(srv_guest *g)
{
    if (!g)
        return;
    pthread_mutex_lock(&g->lock);
    unsigned left = --g->refs;
    pthread_mutex_unlock(&g->lock);
    if (left > 0)
        return;
    srv_slot *s = g->free_slots;
    while (s) {
        srv_slot *next = s->next;
        slot_free(s);
        s = next;
    }
    srv_timer_free(g->timer);
    code_drop(g->code); /* the module and engine, when no other guest shares them */
    for (size_t i = 0; i < g->nenv; i++)
        free(g->env[i]);
    free(g->env);
    pthread_mutex_destroy(&g->lock);
    srv_reuse_deinit(&g->reuse);
    hc_stub_log_free(g->hc.stub_log);
    if (g->edge) {
        cfg_edge_deinit(g->edge);
        free(g->edge);
    }
    free(g);
}

srv_slot *srv_guest_acquire(srv_guest *g)
{
    pthread_mutex_lock(&g->lock);
    srv_slot *s = g->free_slots;
    if (s)
        g->free_slots = s->next;
    pthread_mutex_unlock(&g->lock);
    if (!s)
        s = slot_new(g);
    if (s)
        s->next = NULL;
    return s;
}

void srv_guest_release(srv_guest *g, srv_slot *s)
{
    if (!s)
        return;
    pthread_mutex_lock(&g->lock);
    s->next = g->free_slots;
    g->free_slots = s;
    pthread_mutex_unlock(&g->lock);
}
