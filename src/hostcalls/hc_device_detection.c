/* hc_device_detection.c: fastly_device_detection.lookup: the JSON object configured for exactly
 * this user agent (hc_settings.edge->device: -device-detection FILE.json or fastly.toml's
 * device_detection), `none` for a user agent without data, as Viceroy. */
#include "hc_device_detection.h"

#include "config/cfg_edge.h"
#include "hc_hostcall.h"

#include <stdlib.h>
#include <string.h>

/* True when s[0..n) is well-formed UTF-8 (wiggle's `string` arguments must be). */
static bool utf8_valid(const uint8_t *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        uint8_t c = s[i];
        size_t len = c < 0x80             ? 1
                     : (c & 0xE0) == 0xC0 ? 2
                     : (c & 0xF0) == 0xE0 ? 3
                     : (c & 0xF8) == 0xF0 ? 4
                                          : 0;
        if (len == 0 || i + len > n || (len == 2 && c < 0xC2) || (len == 4 && c > 0xF4))
            return false;
        for (size_t k = 1; k < len; k++)
            if ((s[i + k] & 0xC0) != 0x80)
                return false;
        if (len == 3) {
            uint32_t cp = ((uint32_t)(c & 0x0F) << 12) | ((uint32_t)(s[i + 1] & 0x3F) << 6);
            if (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))
                return false;
        }
        if (len == 4) {
            uint32_t cp = ((uint32_t)(c & 0x07) << 18) | ((uint32_t)(s[i + 1] & 0x3F) << 12);
            if (cp < 0x10000 || cp > 0x10FFFF)
                return false;
        }
        i += len;
    }
    return true;
}

/* lookup(user_agent, user_agent_len, buf, buf_len, nwritten_out) */
static fwe_trap_kind device_lookup(fwe_caller *caller, uint64_t *slots, void *data)
{
    const uint8_t *ua = hc_mem_slice(caller, HC_ARG(0), HC_ARG(1));
    if (!ua)
        HC_RETURN(HC_INVAL);
    if (!utf8_valid(ua, HC_ARG(1)))
        HC_RETURN(HC_ERROR); /* Viceroy's Utf8Expected */
    hc_ctx *ctx = hc_caller_ctx(caller);
    const hc_settings *s = ctx ? hc_ctx_settings(ctx) : NULL;
    const cfg_device *dev = s && s->edge ? s->edge->device : NULL;
    const cfg_device_entry *e = cfg_device_lookup(dev, (const char *)ua, HC_ARG(1));
    if (!e)
        HC_RETURN(HC_NONE);
    HC_RETURN(hc_mem_copy_out(caller, HC_ARG(2), HC_ARG(3), HC_ARG(4), e->json, strlen(e->json)));
}

const hc_impl hc_device_detection_impls[] = {
    {"fastly_device_detection", "lookup", device_lookup},
    {NULL, NULL, NULL},
};
