/* hc_uap.h: the fastly_uap hostcall module (user-agent parsing with the uap-core database). */
#ifndef HC_UAP_H
#define HC_UAP_H

#include "hostcalls/hc_registry.h"

#include <stdbool.h>
#include <stddef.h>

extern const hc_impl hc_uap_impls[];

/* Parses a user agent into family, major, minor, patch (out[i][0..lens[i]), not NUL-terminated;
 * family "Other" when nothing matches, empty versions when absent). Loads the database on first
 * use; false when it is not available. Thread-safe. */
bool hc_uap_parse(const char *ua, size_t ua_len, char out[4][257], size_t lens[4]);

#endif
