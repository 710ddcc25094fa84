/* guest_util.h: small helpers shared by the C test guests (header-only, wasm32-wasi): the
 * downstream request's URL, its path and query parameters, writing a whole buffer to a body
 * handle, and answering with a status and a text body. */
#ifndef GUEST_UTIL_H
#define GUEST_UTIL_H

#include "fastly_hostcalls.h"

#include <stdlib.h>
#include <string.h>

/* The path of an absolute URL ("http://h/p?q" -> "/p?q"), or "/" when it has none. */
static inline const char *gu_path(const char *url)
{
    const char *p = strstr(url, "://");
    p = p ? strchr(p + 3, '/') : url;
    return p ? p : "/";
}

/* True when the URL's path is `want` (the query does not count). */
static inline int gu_path_is(const char *url, const char *want)
{
    const char *p = gu_path(url);
    size_t n = strlen(want);
    return strncmp(p, want, n) == 0 && (p[n] == '\0' || p[n] == '?');
}

/* The integer value of query parameter `name`, or `dflt`. */
static inline long long gu_query_num(const char *url, const char *name, long long dflt)
{
    const char *q = strchr(url, '?');
    size_t n = strlen(name);
    for (const char *p = q ? q + 1 : NULL; p && *p; p = strchr(p, '&') ? strchr(p, '&') + 1 : NULL)
        if (strncmp(p, name, n) == 0 && p[n] == '=')
            return strtoll(p + n + 1, NULL, 10);
    return dflt;
}

/* Writes all of data[0..len) to the back of body `b` (stops at the first failed write). */
static inline void gu_write_all(fastly_body_handle b, const void *data, size_t len)
{
    const uint8_t *p = data;
    while (len > 0) {
        size_t n = 0;
        if (fastly_http_body_write(b, p, len, FASTLY_BODY_WRITE_END_BACK, &n) != 0 || n == 0)
            return;
        p += n;
        len -= n;
    }
}

/* The URL of request `req`, NUL-terminated in url[0..cap) (cut at cap - 1 bytes; "" when the
 * call fails). */
static inline void gu_url(fastly_request_handle req, char *url, size_t cap)
{
    size_t n = 0;
    if (fastly_http_req_uri_get(req, url, cap - 1, &n) != 0 || n > cap - 1)
        n = 0;
    url[n] = '\0';
}

/* Sends a new response with `status` and the body `text` downstream (not streaming). */
static inline void gu_respond(uint16_t status, const char *text)
{
    fastly_response_handle r;
    fastly_body_handle b;
    fastly_http_resp_new(&r);
    fastly_http_resp_status_set(r, status);
    fastly_http_body_new(&b);
    gu_write_all(b, text, strlen(text));
    fastly_http_resp_send_downstream(r, b, 0);
}

#endif
