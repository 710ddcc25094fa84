/* cfg_backend.c: parsing of `-backend [name=]addr[@N]` specs and of host:port addresses.
 * The rules follow Fastlike (github.com/avidal/fastlike, cmd/fastlike): the reliability suffix is
 * the text after the last '@' when it is all digits; a bare host:port becomes an http:// URL. */
#include "config/cfg_backend.h"
#include "util/util_str.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Refuses a value holding a control byte (no address has one) without echoing it, so the error
 * stays one printable line. Returns 0, or -1 with a message in err. */
static int check_printable(const char *s, char *err, size_t errlen)
{
    for (size_t i = 0; s[i]; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 || c == 0x7f) {
            snprintf(err, errlen, "control character 0x%02x at byte %zu", c, i + 1);
            return -1;
        }
    }
    return 0;
}

void cfg_backend_deinit(cfg_backend *b)
{
    if (!b)
        return;
    free(b->spec);
    free(b->name);
    free(b->url);
    free(b->userinfo);
    free(b->host);
    free(b->path);
    free(b->override_host);
    free(b->cert_host);
    free(b->client_cert_pem);
    free(b->client_key_pem);
    free(b->ca_pem);
    memset(b, 0, sizeof *b);
    b->uptime = CFG_UPTIME_NONE;
}

/* Parses a decimal port in s[0..n) (1..65535 when !allow_zero). Returns -1 when invalid. */
static long parse_port(const char *s, size_t n, int allow_zero)
{
    if (n == 0 || n > 5)
        return -1;
    char buf[8];
    memcpy(buf, s, n);
    buf[n] = '\0';
    for (size_t i = 0; i < n; i++)
        if (buf[i] < '0' || buf[i] > '9')
            return -1;
    char *end = NULL;
    errno = 0;
    long v = strtol(buf, &end, 10);
    if (errno != 0 || end != buf + n || v > 65535 || (v == 0 && !allow_zero))
        return -1;
    return v;
}

/* Splits an authority "host[:port]" or "[v6][:port]" (no userinfo). Sets *host, *hostlen and
 * *port (-1 when absent). Returns 0, or -1 with a message in err. */
static int split_host_port(const char *s, size_t n, const char **host, size_t *hostlen, long *port,
                           int allow_zero_port, char *err, size_t errlen)
{
    const char *colon = NULL;
    *port = -1;
    if (n > 0 && s[0] == '[') {
        const char *close = memchr(s, ']', n);
        if (!close) {
            snprintf(err, errlen, "'%.*s': missing ']' after an IPv6 address", (int)n, s);
            return -1;
        }
        *host = s + 1;
        *hostlen = (size_t)(close - s - 1);
        size_t rest = n - (size_t)(close - s) - 1;
        if (rest > 0) {
            if (close[1] != ':') {
                snprintf(err, errlen, "'%.*s': unexpected text after ']'", (int)n, s);
                return -1;
            }
            colon = close + 1;
        }
        if (*hostlen == 0) {
            snprintf(err, errlen, "'%.*s': empty IPv6 address", (int)n, s);
            return -1;
        }
    } else {
        colon = memchr(s, ':', n);
        if (colon && memchr(colon + 1, ':', n - (size_t)(colon + 1 - s))) {
            snprintf(err, errlen, "'%.*s': put an IPv6 address in brackets, as [::1]:8000", (int)n,
                     s);
            return -1;
        }
        *host = s;
        *hostlen = colon ? (size_t)(colon - s) : n;
    }
    for (size_t i = 0; i < *hostlen; i++) {
        unsigned char c = (unsigned char)(*host)[i];
        if (c <= ' ' || c == '/' || c == '?' || c == '#' || c == '@' || c >= 0x7f) {
            snprintf(err, errlen, "'%.*s': invalid character in host name", (int)n, s);
            return -1;
        }
    }
    if (colon) {
        size_t plen = n - (size_t)(colon + 1 - s);
        *port = parse_port(colon + 1, plen, allow_zero_port);
        if (*port < 0) {
            snprintf(err, errlen, "'%.*s': port must be a number %s..65535", (int)n, s,
                     allow_zero_port ? "0" : "1");
            return -1;
        }
    }
    return 0;
}

cfg_status cfg_host_port_check(const char *s, char *err, size_t errlen)
{
    const char *host;
    size_t hostlen;
    long port;
    if (check_printable(s, err, errlen) != 0 ||
        split_host_port(s, strlen(s), &host, &hostlen, &port, 1, err, errlen) != 0)
        return CFG_ERR_VALUE;
    if (port < 0) {
        snprintf(err, errlen, "'%s': expected HOST:PORT (e.g. localhost:5000)", s);
        return CFG_ERR_VALUE;
    }
    return CFG_OK;
}

/* A name is text before the first '=' that cannot be part of an address. */
static size_t name_length(const char *spec)
{
    const char *eq = strchr(spec, '=');
    if (!eq)
        return (size_t)-1;
    for (const char *p = spec; p < eq; p++)
        if (*p == ':' || *p == '/')
            return (size_t)-1;
    return (size_t)(eq - spec);
}

/* The trailing "@digits" share: sets *uptime and shortens *addrlen. Returns 0, or -1 with err. */
static int split_uptime(const char *addr, size_t *addrlen, int *uptime, char *err, size_t errlen)
{
    *uptime = CFG_UPTIME_NONE;
    const char *at = NULL;
    for (size_t i = *addrlen; i > 0; i--)
        if (addr[i - 1] == '@') {
            at = addr + i - 1;
            break;
        }
    if (!at)
        return 0;
    const char *digits = at + 1;
    size_t n = *addrlen - (size_t)(digits - addr);
    if (n == 0)
        return 0;
    if (n > 1 && (digits[0] == '-' || digits[0] == '+') &&
        strspn(digits + 1, "0123456789") == n - 1) {
        snprintf(err, errlen, "reliability suffix '@%.*s' out of range, must be @0..@100", (int)n,
                 digits);
        return -1;
    }
    for (size_t i = 0; i < n; i++)
        if (digits[i] < '0' || digits[i] > '9')
            return 0; /* not a share: userinfo or some other '@' in a URL */
    /* Leading zeros are fine ("@050"); anything longer than a few digits is out of range. */
    size_t skip = 0;
    while (skip + 1 < n && digits[skip] == '0')
        skip++;
    long v = 101;
    if (n - skip <= 3) {
        char buf[4];
        memcpy(buf, digits + skip, n - skip);
        buf[n - skip] = '\0';
        char *end = NULL;
        errno = 0;
        v = strtol(buf, &end, 10);
        if (errno != 0 || *end != '\0')
            v = 101;
    }
    if (v < 0 || v > 100) {
        snprintf(err, errlen, "reliability suffix '@%.*s' out of range, must be @0..@100", (int)n,
                 digits);
        return -1;
    }
    *uptime = (int)v;
    *addrlen = (size_t)(at - addr);
    return 0;
}

static size_t prefix_len(const char *s, size_t n, const char *prefix)
{
    size_t p = strlen(prefix);
    return (n >= p && strncasecmp(s, prefix, p) == 0) ? p : 0;
}

cfg_status cfg_backend_parse(const char *spec, cfg_backend *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    out->uptime = CFG_UPTIME_NONE;
    cfg_status st = CFG_ERR_VALUE;

    const char *addr = spec;
    if (check_printable(spec, err, errlen) != 0)
        goto fail;
    size_t nlen = name_length(spec);
    if (nlen != (size_t)-1) {
        for (size_t i = 0; i < nlen; i++) {
            unsigned char c = (unsigned char)spec[i];
            if (c <= ' ' || c >= 0x7f || c == '@') {
                snprintf(err, errlen, "backend name '%.*s' has an invalid character", (int)nlen,
                         spec);
                goto fail;
            }
        }
        if (nlen == 0) {
            snprintf(err, errlen, "'%s': the backend name before '=' is empty", spec);
            goto fail;
        }
        if (!(out->name = util_strndup(spec, nlen)))
            goto nomem;
        addr = spec + nlen + 1;
    }
    size_t alen = strlen(addr);
    if (split_uptime(addr, &alen, &out->uptime, err, errlen) != 0)
        goto fail;
    if (alen == 0) {
        snprintf(err, errlen, "'%s': missing address (expected [NAME=]HOST:PORT or a URL)", spec);
        goto fail;
    }

    size_t skip = prefix_len(addr, alen, "https://");
    out->tls = skip > 0;
    if (!skip)
        skip = prefix_len(addr, alen, "http://");
    if (!skip && memmem(addr, alen, "://", 3)) {
        snprintf(err, errlen, "'%.*s': only http:// and https:// backends are supported", (int)alen,
                 addr);
        goto fail;
    }
    const char *auth = addr + skip;
    size_t rest = alen - skip;
    size_t authlen = strcspn(auth, "/?#");
    if (authlen > rest)
        authlen = rest;
    const char *tail = auth + authlen; /* path and query: a prefix for every request */
    size_t taillen = rest - authlen;
    if (memchr(tail, '#', taillen)) {
        snprintf(err, errlen, "'%.*s': a backend URL cannot have a #fragment", (int)alen, addr);
        goto fail;
    }
    const char *at = NULL;
    for (size_t i = authlen; i > 0; i--)
        if (auth[i - 1] == '@') {
            at = auth + i - 1;
            break;
        }
    if (at) {
        if (!(out->userinfo = util_strndup(auth, (size_t)(at - auth))))
            goto nomem;
        authlen -= (size_t)(at + 1 - auth);
        auth = at + 1;
    }
    const char *host;
    size_t hostlen;
    long port;
    char sub[256];
    if (split_host_port(auth, authlen, &host, &hostlen, &port, 0, sub, sizeof sub) != 0) {
        snprintf(err, errlen, "%s", sub);
        goto fail;
    }
    if (hostlen == 0) {
        snprintf(err, errlen, "'%.*s': missing host", (int)alen, addr);
        goto fail;
    }
    if (!memchr(host, ':', hostlen)) { /* a name or IPv4 address (IPv6 came in brackets) */
        for (size_t i = 0; i < hostlen; i++) {
            unsigned char c = (unsigned char)host[i];
            if (!(c == '.' || c == '-' || c == '_' || (c >= '0' && c <= '9') ||
                  ((c | 0x20) >= 'a' && (c | 0x20) <= 'z'))) {
                snprintf(err, errlen, "'%.*s': '%.*s' is not a valid host name", (int)alen, addr,
                         (int)hostlen, host);
                goto fail;
            }
        }
    }
    if (port < 0)
        port = out->tls ? 443 : 80;
    out->port = (uint16_t)port;
    if (!(out->host = util_strndup(host, hostlen)) || !(out->path = util_strndup(tail, taillen)) ||
        !(out->spec = util_strndup(spec, strlen(spec))))
        goto nomem;

    int v6 = memchr(host, ':', hostlen) != NULL;
    const char *scheme = out->tls ? "https" : "http";
    const char *user = out->userinfo ? out->userinfo : "";
    const char *user_at = out->userinfo ? "@" : "";
    const char *lb = v6 ? "[" : "", *rb = v6 ? "]" : "";
    int need = snprintf(NULL, 0, "%s://%s%s%s%s%s:%u%s", scheme, user, user_at, lb, out->host, rb,
                        (unsigned)out->port, out->path);
    if (need < 0 || !(out->url = malloc((size_t)need + 1)))
        goto nomem;
    snprintf(out->url, (size_t)need + 1, "%s://%s%s%s%s%s:%u%s", scheme, user, user_at, lb,
             out->host, rb, (unsigned)out->port, out->path);
    return CFG_OK;

nomem:
    snprintf(err, errlen, "out of memory");
    st = CFG_ERR_NOMEM;
fail:
    cfg_backend_deinit(out);
    return st;
}
