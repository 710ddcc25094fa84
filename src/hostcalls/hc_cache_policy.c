/* hc_cache_policy.c: cacheability and freshness of backend responses (hc_cache_policy.h): reads
 * the Cache-Control / Surrogate-Control directive lists, Expires and Date (HTTP dates), Age, Vary,
 * Set-Cookie and Surrogate-Key, then applies the guest's override. */
#include "hc_cache_policy.h"
#include "util/util_str.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define NS 1000000000ull

/* The directives of one header (every value, comma-separated). */
typedef struct directives {
    bool private_, no_store, no_cache;
    int64_t max_age, s_maxage, swr, sie; /* -1 absent */
} directives;

/* A delta-seconds value (optionally quoted); -1 when malformed. */
static int64_t seconds(const char *p, size_t n)
{
    if (n >= 2 && p[0] == '"' && p[n - 1] == '"') {
        p++;
        n -= 2;
    }
    if (n == 0)
        return -1;
    int64_t v = 0;
    for (size_t i = 0; i < n; i++) {
        if (p[i] < '0' || p[i] > '9')
            return -1;
        if (v < (int64_t)1 << 40)
            v = v * 10 + (p[i] - '0');
    }
    return v;
}

static void parse_directives(const hc_headers *h, const char *name, directives *d)
{
    memset(d, 0, sizeof *d);
    d->max_age = d->s_maxage = d->swr = d->sie = -1;
    for (size_t k = 0; k < h->n; k++) {
        const hc_header *e = &h->items[k];
        if (!hc_header_name_eq(e->name, e->name_len, name, strlen(name)))
            continue;
        const char *s = e->value, *end = e->value + e->value_len;
        while (s < end) {
            const char *comma = memchr(s, ',', (size_t)(end - s));
            const char *te = comma ? comma : end;
            while (s < te && (*s == ' ' || *s == '\t'))
                s++;
            const char *t2 = te;
            while (t2 > s && (t2[-1] == ' ' || t2[-1] == '\t'))
                t2--;
            const char *eq = memchr(s, '=', (size_t)(t2 - s));
            size_t kl = (size_t)((eq ? eq : t2) - s);
            const char *v = eq ? eq + 1 : NULL;
            size_t vl = eq ? (size_t)(t2 - v) : 0;
            if (util_str_eq_ci(s, kl, "private"))
                d->private_ = true;
            else if (util_str_eq_ci(s, kl, "no-store"))
                d->no_store = true;
            else if (util_str_eq_ci(s, kl, "no-cache"))
                d->no_cache = true;
            else if (v && util_str_eq_ci(s, kl, "max-age"))
                d->max_age = seconds(v, vl);
            else if (v && util_str_eq_ci(s, kl, "s-maxage"))
                d->s_maxage = seconds(v, vl);
            else if (v && util_str_eq_ci(s, kl, "stale-while-revalidate"))
                d->swr = seconds(v, vl);
            else if (v && util_str_eq_ci(s, kl, "stale-if-error"))
                d->sie = seconds(v, vl);
            s = comma ? comma + 1 : end;
        }
    }
}

static const hc_header *get(const hc_headers *h, const char *name)
{
    return hc_headers_get(h, name, strlen(name));
}

/* An IMF-fixdate (the other HTTP date forms count as "already expired"). */
static bool http_date(const hc_header *h, int64_t *out)
{
    if (!h || h->value_len >= 64)
        return false;
    char buf[64];
    memcpy(buf, h->value, h->value_len);
    buf[h->value_len] = '\0';
    struct tm tm;
    memset(&tm, 0, sizeof tm);
    const char *end = strptime(buf, "%a, %d %b %Y %H:%M:%S GMT", &tm);
    if (!end || *end)
        return false;
    *out = (int64_t)timegm(&tm);
    return true;
}

static bool cacheable_status(uint16_t s)
{
    return s == 200 || s == 203 || s == 300 || s == 301 || s == 302 || s == 404 || s == 410;
}

/* Appends the keys of `v` (space separated) to p->surrogate_keys. */
static void add_keys(hc_cache_policy *p, const char *v, size_t n)
{
    if (n == 0)
        return;
    char *k = realloc(p->surrogate_keys, p->surrogate_keys_len + n + 2);
    if (!k)
        return;
    p->surrogate_keys = k;
    if (p->surrogate_keys_len)
        k[p->surrogate_keys_len++] = ' ';
    memcpy(k + p->surrogate_keys_len, v, n);
    p->surrogate_keys_len += n;
    k[p->surrogate_keys_len] = '\0';
}

static void not_cacheable(hc_cache_policy *p, const char *why, bool hfp)
{
    p->cacheable = false;
    p->hit_for_pass = hfp;
    p->reason = why;
}

void hc_cache_policy_decide(uint16_t status, const hc_headers *resp, const hc_cache_override *ov,
                            int64_t now_s, hc_cache_policy *p)
{
    memset(p, 0, sizeof *p);
    p->cacheable = true;
    bool have_ov = ov && ov->set;
    directives sc, cc;
    parse_directives(resp, "surrogate-control", &sc);
    parse_directives(resp, "cache-control", &cc);

    /* the freshness lifetime, in Fastly's order of precedence */
    int64_t ttl = -1;
    if (sc.max_age >= 0)
        ttl = sc.max_age;
    else if (cc.s_maxage >= 0)
        ttl = cc.s_maxage;
    else if (cc.max_age >= 0)
        ttl = cc.max_age;
    else if (get(resp, "expires")) {
        int64_t exp, date = now_s;
        ttl = 0; /* an unparsable Expires means "already expired" */
        if (http_date(get(resp, "expires"), &exp)) {
            http_date(get(resp, "date"), &date);
            ttl = exp > date ? exp - date : 0;
        }
    }
    bool explicit_ttl = ttl >= 0;
    if (ttl < 0)
        ttl = HC_CACHE_DEFAULT_TTL_S;
    int64_t swr = sc.swr >= 0 ? sc.swr : cc.swr;
    int64_t sie = sc.sie >= 0 ? sc.sie : cc.sie;
    const hc_header *age = get(resp, "age");
    int64_t initial_age = age ? seconds(age->value, age->value_len) : 0;
    if (have_ov && (ov->tag & 2u)) { /* ttl */
        ttl = ov->ttl;
        explicit_ttl = true;
        initial_age = 0; /* an override is the lifetime from now */
    }
    if (have_ov && (ov->tag & 4u)) /* stale_while_revalidate */
        swr = ov->stale_while_revalidate;
    p->ttl_ns = (uint64_t)ttl * NS;
    p->swr_ns = swr > 0 ? (uint64_t)swr * NS : 0;
    p->sie_ns = sie > 0 ? (uint64_t)sie * NS : 0;
    p->initial_age_ns = initial_age > 0 ? (uint64_t)initial_age * NS : 0;
    p->sensitive = have_ov && (ov->tag & 8u); /* pci */

    /* vary: header names (comma-separated in HTTP, spaces for the store) */
    const hc_headers *h = resp;
    for (size_t k = 0; k < h->n; k++) {
        const hc_header *e = &h->items[k];
        if (!hc_header_name_eq(e->name, e->name_len, "vary", 4))
            continue;
        for (size_t i = 0; i < e->value_len; i++) {
            char ch = e->value[i];
            if (ch == '*') {
                not_cacheable(p, "Vary: *", true);
                return;
            }
            if (p->vary_len + 1 >= sizeof p->vary)
                break;
            p->vary[p->vary_len++] = (ch == ',' || ch == '\t') ? ' ' : ch;
        }
        if (p->vary_len + 1 < sizeof p->vary)
            p->vary[p->vary_len++] = ' ';
    }
    p->vary[p->vary_len] = '\0';

    const hc_header *sk = get(resp, "surrogate-key");
    for (size_t k = 0; k < h->n; k++) {
        const hc_header *e = &h->items[k];
        if (hc_header_name_eq(e->name, e->name_len, "surrogate-key", 13))
            add_keys(p, e->value, e->value_len);
    }
    (void)sk;
    if (have_ov && ov->surrogate_key)
        add_keys(p, ov->surrogate_key, ov->surrogate_key_len);

    if (cc.private_ || cc.no_store || cc.no_cache) {
        not_cacheable(p,
                      cc.private_   ? "Cache-Control: private"
                      : cc.no_store ? "Cache-Control: no-store"
                                    : "Cache-Control: no-cache",
                      true);
        return;
    }
    if (get(resp, "set-cookie")) {
        not_cacheable(p, "Set-Cookie", true);
        return;
    }
    if (!cacheable_status(status) && !(have_ov && (ov->tag & 2u))) {
        not_cacheable(p, "status not cacheable by default", false);
        return;
    }
    (void)explicit_ttl;
    if (p->ttl_ns <= p->initial_age_ns && p->swr_ns == 0 && p->sie_ns == 0)
        not_cacheable(p, "no freshness lifetime", false);
}

void hc_cache_policy_deinit(hc_cache_policy *p)
{
    free(p->surrogate_keys);
    p->surrogate_keys = NULL;
}
