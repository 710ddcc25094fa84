/* hc_acl.h: the fastly_acl module: ACLs opened by name, and longest-prefix lookups of an IPv4 or
 * IPv6 address that answer with the matching entry as a JSON body, as Viceroy. */
#ifndef HC_ACL_H
#define HC_ACL_H

#include "config/cfg_acl.h"
#include "hostcalls/hc_registry.h"

#include <stddef.h>

extern const hc_impl hc_acl_impls[];

/* The JSON body of a match, byte for byte as Viceroy (serde_json's pretty printer):
 * "{\n  \"prefix\": \"192.168.0.0/16\",\n  \"action\": \"BLOCK\"\n}" with the prefix in Rust's
 * address notation (RFC 5952 for IPv6, ::ffff:a.b.c.d for v4-mapped). Returns the length written
 * to out (at most cap - 1, NUL-terminated); 128 bytes always suffice. */
size_t hc_acl_entry_json(const cfg_acl_entry *e, char *out, size_t cap);

#endif
