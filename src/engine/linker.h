/* linker.h: internal linker entry points used by instantiation (instance.c). */
#ifndef FWE_LINKER_H
#define FWE_LINKER_H

#include "runtime.h"

/* Finds the extern for an import; creates a trapping stub for a missing function import when the
 * linker allows it. `want` is the import's function type (for stubs). */
bool fwe_linker_resolve(fwe_linker *l, const fwe_import *imp, const fwe_functype *want,
                        fwe_extern *out);
/* Resolves every import of `m` into out[0..m->nimports) (fwe_linker_resolve for each). Returns
 * m->nimports, or the index of the first import that cannot be resolved. A linker's entries never
 * change once added, so the last module's resolution is remembered and copied. */
uint32_t fwe_linker_resolve_module(fwe_linker *l, const fwe_module *m, fwe_extern *out);
fwe_func *fwe_host_func_new(fwe_engine *engine, const uint8_t *types, uint32_t np, uint32_t nr,
                            fwe_host_fn fn, void *data);

#endif
