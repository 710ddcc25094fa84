/* hc_secret_store.h: the fastly_secret_store module: secret stores opened by name, secrets by
 * name within a store or made from guest bytes (from_bytes), and their plaintext. Plaintext never
 * goes into a log line or error message. */
#ifndef HC_SECRET_STORE_H
#define HC_SECRET_STORE_H

#include "hostcalls/hc_registry.h"

extern const hc_impl hc_secret_store_impls[];

#endif
