/* cfg_ip_prefix.h: IPv4/IPv6 addresses and CIDR prefixes ("10.0.0.0/8", "::1") as used by the
 * ACL and geolocation files: parsing, host bits cleared, and matching an address. */
#ifndef CFG_IP_PREFIX_H
#define CFG_IP_PREFIX_H

#include <stdbool.h>
#include <stdint.h>

typedef struct cfg_ip_prefix {
    uint8_t addr[16]; /* network order; IPv4 uses the first 4 bytes; host bits are zero */
    uint8_t family;   /* 4 or 6 */
    uint8_t len;      /* prefix length: 1..32 or 1..128 (32/128 for a plain address) */
} cfg_ip_prefix;

/* Parses "ADDR/LEN" (or a plain "ADDR" when allow_plain). Returns false on anything else,
 * including a length of 0 or beyond the family's width. */
bool cfg_ip_prefix_parse(const char *s, bool allow_plain, cfg_ip_prefix *out);

/* True when the address addr (4 or 16 bytes, per family) lies inside p. */
bool cfg_ip_prefix_contains(const cfg_ip_prefix *p, uint8_t family, const uint8_t *addr);

#endif
