/* hc_dictionary.h: the fastly_dictionary module (edge dictionaries: open by name, get by key).
 * fastly_config_store (hc_config_store.c) is the same thing under another name, as in Viceroy:
 * dictionaries and config stores share one namespace and one kind of handle. */
#ifndef HC_DICTIONARY_H
#define HC_DICTIONARY_H

#include "hc_ctx_internal.h"
#include "hostcalls/hc_registry.h"

extern const hc_impl hc_dictionary_impls[];

/* open: the name (a witx string at name/name_len) is looked up among the dictionaries and the
 * config stores, those of the kind named by prefer_config_store first. Writes the handle to
 * handle_out. inval for a bad name pointer or non-UTF-8 name, badf for an unknown name (as
 * Viceroy), limitexceeded when the request's handle table is full. */
hc_status hc_dictionary_open(fwe_caller *caller, hc_ctx *ctx, uint32_t name, uint32_t name_len,
                             uint32_t handle_out, bool prefer_config_store);
/* get: the value of key into (buf, buf_len) and its length into nwritten_out. badf for a bad
 * handle, inval for a bad key, none for a missing key, buflen (needed size in nwritten_out) for a
 * too-small buffer. */
hc_status hc_dictionary_get(fwe_caller *caller, hc_ctx *ctx, uint32_t handle, uint32_t key,
                            uint32_t key_len, uint32_t buf, uint32_t buf_len,
                            uint32_t nwritten_out);

#endif
