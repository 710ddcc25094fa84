/* cfg_shield.c: the list of known shield POPs: adding (from fastly.toml or the -shield flag),
 * copying, merging flags over the toml, lookup by name. */
#include "config/cfg_shield.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static void shield_deinit(cfg_shield *x)
{
    free(x->name);
    free(x->unencrypted);
    free(x->encrypted);
    memset(x, 0, sizeof *x);
}

void cfg_shields_deinit(cfg_shields *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->n; i++)
        shield_deinit(&s->items[i]);
    free(s->items);
    s->items = NULL;
    s->n = 0;
}

const cfg_shield *cfg_shields_find(const cfg_shields *s, const char *name, size_t len)
{
    for (size_t i = 0; s && i < s->n; i++)
        if (strlen(s->items[i].name) == len && memcmp(s->items[i].name, name, len) == 0)
            return &s->items[i];
    return NULL;
}

bool cfg_shield_url_ok(const char *url)
{
    size_t skip = strncasecmp(url, "http://", 7) == 0    ? 7
                  : strncasecmp(url, "https://", 8) == 0 ? 8
                                                         : 0;
    if (!skip || url[skip] == '\0' || url[skip] == '/' || url[skip] == ':')
        return false;
    for (const char *p = url; *p; p++)
        if ((unsigned char)*p <= ' ' || (unsigned char)*p >= 0x7f)
            return false;
    return true;
}

/* Appends a copy of the shield; false when out of memory. */
static bool push_copy(cfg_shields *s, const char *name, bool local, const char *u, const char *e)
{
    cfg_shield *grown = realloc(s->items, (s->n + 1) * sizeof *grown);
    if (!grown)
        return false;
    s->items = grown;
    cfg_shield x = {strdup(name), local, u ? strdup(u) : NULL, e ? strdup(e) : NULL};
    if (!x.name || (u && !x.unencrypted) || (e && !x.encrypted)) {
        shield_deinit(&x);
        return false;
    }
    s->items[s->n++] = x;
    return true;
}

cfg_status cfg_shields_add(cfg_shields *s, const char *name, bool local, const char *unencrypted,
                           const char *encrypted, char *err, size_t errlen)
{
    if (!name || !name[0]) {
        snprintf(err, errlen, "a shield needs a name");
        return CFG_ERR_VALUE;
    }
    if (cfg_shields_find(s, name, strlen(name))) {
        snprintf(err, errlen, "shield '%s' is given twice", name);
        return CFG_ERR_VALUE;
    }
    if (!local) {
        const char *bad = !unencrypted || !cfg_shield_url_ok(unencrypted) ? unencrypted
                          : !encrypted || !cfg_shield_url_ok(encrypted)   ? encrypted
                                                                          : NULL;
        if (bad || !unencrypted || !encrypted) {
            snprintf(err, errlen, "shield '%s': '%s' is not an http:// or https:// URL", name,
                     bad ? bad : "");
            return CFG_ERR_VALUE;
        }
    }
    if (!push_copy(s, name, local, local ? NULL : unencrypted, local ? NULL : encrypted)) {
        snprintf(err, errlen, "out of memory");
        return CFG_ERR_NOMEM;
    }
    return CFG_OK;
}

cfg_status cfg_shields_add_spec(cfg_shields *s, const char *spec, char *err, size_t errlen)
{
    const char *eq = strchr(spec, '=');
    if (!eq || eq == spec || eq[1] == '\0') {
        snprintf(err, errlen, "'%s': expected NAME=local or NAME=HOST:PORT (or NAME=URL)", spec);
        return CFG_ERR_VALUE;
    }
    char name[256];
    size_t nlen = (size_t)(eq - spec);
    if (nlen >= sizeof name) {
        snprintf(err, errlen, "'%.*s...': shield name too long", 32, spec);
        return CFG_ERR_VALUE;
    }
    memcpy(name, spec, nlen);
    name[nlen] = '\0';
    for (size_t i = 0; i < nlen; i++)
        if ((unsigned char)name[i] <= ' ' || (unsigned char)name[i] >= 0x7f) {
            snprintf(err, errlen, "'%s': a shield name is printable ASCII without spaces", name);
            return CFG_ERR_VALUE;
        }
    const char *addr = eq + 1;
    if (strcasecmp(addr, "local") == 0)
        return cfg_shields_add(s, name, true, NULL, NULL, err, errlen);
    bool has_scheme = strstr(addr, "://") != NULL;
    size_t need = strlen(addr) + 9;
    char *url = malloc(need);
    if (!url) {
        snprintf(err, errlen, "out of memory");
        return CFG_ERR_NOMEM;
    }
    /* HOST:PORT is reached over plain HTTP, a path-less URL gets its "/" as a parsed URL has */
    snprintf(url, need, "%s%s", has_scheme ? "" : "http://", addr);
    const char *host = strstr(url, "://") + 3;
    size_t ulen = strlen(url);
    if (!strchr(host, '/') && ulen + 1 < need) {
        url[ulen] = '/';
        url[ulen + 1] = '\0';
    }
    cfg_status st = cfg_shields_add(s, name, false, url, url, err, errlen);
    free(url);
    return st;
}

bool cfg_shields_clone(cfg_shields *dst, const cfg_shields *src)
{
    cfg_shields_deinit(dst);
    for (size_t i = 0; src && i < src->n; i++) {
        const cfg_shield *x = &src->items[i];
        if (!push_copy(dst, x->name, x->local, x->unencrypted, x->encrypted)) {
            cfg_shields_deinit(dst);
            return false;
        }
    }
    return true;
}

bool cfg_shields_merge(cfg_shields *dst, cfg_shields *src)
{
    bool ok = true;
    for (size_t i = 0; ok && src && i < src->n; i++) {
        const cfg_shield *x = &src->items[i];
        if (!cfg_shields_find(dst, x->name, strlen(x->name)))
            ok = push_copy(dst, x->name, x->local, x->unencrypted, x->encrypted);
    }
    cfg_shields_deinit(src);
    return ok;
}
