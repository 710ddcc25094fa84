/* hc_http_cache.c: the fastly_http_cache module (not implemented yet: every function answers
 * `unsupported` through the registry's stubs). */
#include "hc_http_cache.h"

#include <stddef.h>

void hc_http_cache_handle_free(void *obj)
{
    (void)obj;
}

bool hc_http_cache_handle_ready(void *obj)
{
    (void)obj;
    return true;
}

const hc_impl hc_http_cache_impls[] = {
    {NULL, NULL, NULL},
};
