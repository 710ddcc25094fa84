/* hc_http_cache.h: the fastly_http_cache hostcall module (the HTTP cache API: lookups keyed by a
 * request, responses stored with their heads, suggested cache options from response headers),
 * and the suggested cache key the readthrough cache shares with it. */
#ifndef HC_HTTP_CACHE_H
#define HC_HTTP_CACHE_H

#include "hostcalls/hc_registry.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

extern const hc_impl hc_http_cache_impls[];

#define HC_HTTP_CACHE_KEY_LEN 32

/* The default cache key of a request: SHA-256 of its URL (which includes the host). */
void hc_http_cache_suggested_key(const char *url, uint8_t out[HC_HTTP_CACHE_KEY_LEN]);

/* Release and readiness of an HTTP cache handle (items of kind HC_ITEM_HTTP_CACHE). */
void hc_http_cache_handle_free(void *obj);
bool hc_http_cache_handle_ready(void *obj);

#endif
