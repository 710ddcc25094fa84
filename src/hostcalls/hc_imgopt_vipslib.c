/* hc_imgopt_vipslib.c: opens libvips with dlopen at the image optimizer's first use and resolves
 * the table of functions it calls (hc_imgopt_vipslib.h). Once per process; a failure is told on
 * stderr once and remembered, so every later transform gets the same answer without retrying. */
#ifndef FASTLIKE_NO_VIPS

#include "hc_imgopt_vipslib.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

static pthread_once_t load_once = PTHREAD_ONCE_INIT;
static hc_vipslib table;
static bool loaded;
static char reason[512]; /* written once inside load(), read-only afterwards */

const char *hc_vipslib_name(void)
{
    const char *env = getenv("FASTLIKE_LIBVIPS");
    return env && env[0] ? env : HC_VIPSLIB_SONAME;
}

static void load(void)
{
    const char *name = hc_vipslib_name();
    /* RTLD_NODELETE: glib and gobject cannot be unloaded once their types are registered */
    void *h = dlopen(name, RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE);
    if (!h) {
        const char *e = dlerror();
        snprintf(reason, sizeof reason, "cannot load %s: %s", name, e ? e : "unknown error");
        goto fail;
    }
    /* dlsym on the handle also searches the libraries it depends on (gobject, glib) */
#define HC_VIPSLIB_RESOLVE(f)                                                                      \
    table.f = (__typeof__(table.f))dlsym(h, #f);                                                   \
    if (!table.f) {                                                                                \
        const char *e = dlerror();                                                                 \
        snprintf(reason, sizeof reason, "cannot load %s: function %s missing: %s", name, #f,       \
                 e ? e : "unknown error");                                                         \
        goto fail;                                                                                 \
    }
    HC_VIPSLIB_FUNCS(HC_VIPSLIB_RESOLVE)
#undef HC_VIPSLIB_RESOLVE
    loaded = true;
    return;
fail:
    /* a library opened but incomplete stays mapped: its constructors have run (see above) */
    fprintf(stderr, "fastlike: image optimizer: %s; origin images pass through untransformed\n",
            reason);
}

const hc_vipslib *hc_vipslib_get(const char **why)
{
    pthread_once(&load_once, load);
    if (!loaded) {
        *why = reason;
        return NULL;
    }
    *why = NULL;
    return &table;
}

#endif
