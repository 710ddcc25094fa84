/* linker.h: internal linker entry points used by instantiation (instance.c). */
#ifndef FWE_LINKER_H
#define FWE_LINKER_H

#include "runtime.h"

/* Finds the extern for an import; creates a trapping stub for a missing function import when the
 * linker allows it. `want` is the import's function type (for stubs). */
bool fwe_linker_resolve(fwe_linker *l, const fwe_import *imp, const fwe_functype *want,
                        fwe_extern *out);
bool fwe_linker_is_stub(const fwe_func *f);
fwe_func *fwe_host_func_new(fwe_engine *engine, const uint8_t *types, uint32_t np, uint32_t nr,
                            fwe_host_fn fn, void *data);

#endif
