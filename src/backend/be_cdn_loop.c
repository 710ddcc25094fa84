/* be_cdn_loop.c: counting Fastlike's token in a cdn-loop value:
 * cdn-loop = #( cdn-id *( OWS ";" OWS parameter ) ). */
#include "backend/be_cdn_loop.h"

#include <strings.h>

static int is_space(char c)
{
    return c == ' ' || c == '\t';
}

size_t be_cdn_loop_count(const char *value, size_t len)
{
    size_t n = 0;
    const char *p = value, *end = value + len;
    const size_t tl = sizeof BE_CDN_LOOP_TOKEN - 1;
    while (p < end) {
        while (p < end && (is_space(*p) || *p == ','))
            p++;
        const char *tok = p;
        while (p < end && *p != ',' && *p != ';' && !is_space(*p))
            p++;
        if ((size_t)(p - tok) == tl && strncasecmp(tok, BE_CDN_LOOP_TOKEN, tl) == 0)
            n++;
        while (p < end && *p != ',')
            p++;
    }
    return n;
}
