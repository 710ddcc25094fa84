/* cfg_ip_prefix.c: parsing and matching of the IP prefixes in ACL and geolocation files. */
#include "config/cfg_ip_prefix.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

bool cfg_ip_prefix_parse(const char *s, bool allow_plain, cfg_ip_prefix *out)
{
    memset(out, 0, sizeof *out);
    const char *slash = strchr(s, '/');
    char addr[INET6_ADDRSTRLEN + 1];
    size_t alen = slash ? (size_t)(slash - s) : strlen(s);
    if (alen == 0 || alen >= sizeof addr || (!slash && !allow_plain))
        return false;
    memcpy(addr, s, alen);
    addr[alen] = '\0';
    if (inet_pton(AF_INET, addr, out->addr) == 1)
        out->family = 4;
    else if (inet_pton(AF_INET6, addr, out->addr) == 1)
        out->family = 6;
    else
        return false;
    unsigned width = out->family == 4 ? 32 : 128;
    out->len = (uint8_t)width;
    if (slash) {
        const char *digits = slash + 1;
        if (*digits < '0' || *digits > '9')
            return false;
        char *end = NULL;
        errno = 0;
        unsigned long len = strtoul(digits, &end, 10);
        if (errno != 0 || *end != '\0' || len == 0 || len > width)
            return false;
        out->len = (uint8_t)len;
    }
    for (unsigned bit = out->len; bit < width; bit++)
        out->addr[bit / 8] &= (uint8_t) ~(0x80u >> (bit % 8));
    return true;
}

bool cfg_ip_prefix_contains(const cfg_ip_prefix *p, uint8_t family, const uint8_t *addr)
{
    if (family != p->family)
        return false;
    unsigned full = p->len / 8, rest = p->len % 8;
    if (memcmp(p->addr, addr, full) != 0)
        return false;
    if (rest == 0)
        return true;
    uint8_t mask = (uint8_t)(0xffu << (8 - rest));
    return (addr[full] & mask) == p->addr[full];
}
