/* peek.c: answers a question about a binary module's imports from its bytes alone, reading only
 * the header, the section framing up to the import section and that section, without decoding or
 * validating the rest (fwe_module_imports_prefix in fwe.h). `fastlike run` uses it to choose
 * between a WASI command and a Compute program without loading a large module twice. */
#include "module.h"

#include <string.h>

/* Skips a limits entry (table or memory type); 0 when malformed. */
static size_t skip_limits(const uint8_t *p, const uint8_t *end)
{
    if (p >= end)
        return 0;
    uint8_t flags = p[0];
    if (flags > 0x07)
        return 0;
    const uint8_t *q = p + 1;
    int64_t v;
    /* memory64 limits (flag bit 2) may exceed 32 bits: read them as wide LEBs */
    for (int i = 0; i < ((flags & 1) ? 2 : 1); i++) {
        size_t n = fwe_read_s64(q, end, &v);
        if (n == 0)
            return 0;
        q += n;
    }
    return (size_t)(q - p);
}

fwe_status fwe_module_imports_prefix(const uint8_t *bytes, size_t len, const char *prefix,
                                     bool *found)
{
    *found = false;
    const uint8_t *p = bytes, *end = bytes + len;
    size_t plen = strlen(prefix);
    if (len < 8 || memcmp(p, "\0asm\1\0\0\0", 8) != 0)
        return FWE_ERR_MALFORMED;
    p += 8;
    while (p < end) {
        uint8_t id = *p++;
        uint32_t size;
        size_t n = fwe_read_u32(p, end, &size);
        if (n == 0 || size > (size_t)(end - p - n))
            return FWE_ERR_MALFORMED;
        p += n;
        const uint8_t *sec_end = p + size;
        if (id != 2) {
            /* the import section comes right after the type section; custom sections may sit
             * anywhere */
            if (id != 0 && id != 1)
                return FWE_OK;
            p = sec_end;
            continue;
        }
        uint32_t count;
        if ((n = fwe_read_u32(p, sec_end, &count)) == 0)
            return FWE_ERR_MALFORMED;
        p += n;
        for (uint32_t i = 0; i < count; i++) {
            uint32_t names[2];
            const uint8_t *name[2];
            for (int k = 0; k < 2; k++) {
                if ((n = fwe_read_u32(p, sec_end, &names[k])) == 0 ||
                    names[k] > (size_t)(sec_end - p - n))
                    return FWE_ERR_MALFORMED;
                name[k] = p + n;
                p += n + names[k];
            }
            if (names[0] >= plen && memcmp(name[0], prefix, plen) == 0) {
                *found = true;
                return FWE_OK;
            }
            if (p >= sec_end)
                return FWE_ERR_MALFORMED;
            uint8_t kind = *p++;
            uint32_t type_index;
            switch (kind) {
            case 0: /* function: type index */
                n = fwe_read_u32(p, sec_end, &type_index);
                break;
            case 1: /* table: reference type, limits */
                n = p < sec_end ? skip_limits(p + 1, sec_end) : 0;
                n += n ? 1 : 0;
                break;
            case 2: /* memory: limits */
                n = skip_limits(p, sec_end);
                break;
            case 3: /* global: value type, mutability */
                n = sec_end - p >= 2 ? 2 : 0;
                break;
            default:
                return FWE_ERR_MALFORMED;
            }
            if (n == 0)
                return FWE_ERR_MALFORMED;
            p += n;
        }
        return p == sec_end ? FWE_OK : FWE_ERR_MALFORMED;
    }
    return FWE_OK;
}
