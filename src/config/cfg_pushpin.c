/* cfg_pushpin.c: the Fanout / WebSocket handoff settings: defaults, copies, the flags' values
 * (-pushpin, -pushpin-port, -pushpin-publish-port, -pushpin-path, -websocket-passthrough) and
 * fastly.toml's [local_server.pushpin] table (enable, pushpin_path, proxy_port, publish_port, as
 * the Fastly CLI reads them). */
#include "config/cfg_pushpin.h"

#include "config/cfg_fastly_toml_int.h"
#include "config/cfg_flags.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void cfg_pushpin_init(cfg_pushpin *p)
{
    *p = (cfg_pushpin){0};
}

void cfg_pushpin_deinit(cfg_pushpin *p)
{
    if (!p)
        return;
    free(p->path);
    cfg_pushpin_init(p);
}

bool cfg_pushpin_copy(cfg_pushpin *dst, const cfg_pushpin *src)
{
    cfg_pushpin_deinit(dst);
    *dst = *src;
    dst->path = NULL;
    if (src->path && !(dst->path = strdup(src->path)))
        return false;
    return true;
}

void cfg_pushpin_merge(cfg_pushpin *o, cfg_pushpin *from)
{
    if (!o->start)
        o->start = from->start;
    if (!o->proxy_port)
        o->proxy_port = from->proxy_port;
    if (!o->publish_port)
        o->publish_port = from->publish_port;
    if (!o->path) {
        o->path = from->path;
        from->path = NULL;
    }
    if (!o->websocket_passthrough)
        o->websocket_passthrough = from->websocket_passthrough;
}

bool cfg_pushpin_fanout_on(const cfg_pushpin *p)
{
    return p->start == 1 || p->proxy_port != 0;
}

uint16_t cfg_pushpin_proxy_port(const cfg_pushpin *p)
{
    if (p->proxy_port)
        return p->proxy_port;
    return p->start == 1 ? CFG_PUSHPIN_DEFAULT_PROXY_PORT : 0;
}

uint16_t cfg_pushpin_publish_port(const cfg_pushpin *p)
{
    return p->publish_port ? p->publish_port : CFG_PUSHPIN_DEFAULT_PUBLISH_PORT;
}

bool cfg_pushpin_parse_port(const char *v, uint16_t *port, char *err, size_t errlen)
{
    char *end = NULL;
    errno = 0;
    unsigned long n = strtoul(v, &end, 10);
    if (v[0] < '0' || v[0] > '9' || errno != 0 || *end != '\0' || n < 1 || n > 65535) {
        snprintf(err, errlen, "'%s' is not a port number (1-65535)", v);
        return false;
    }
    *port = (uint16_t)n;
    return true;
}

/* ---- flags (rows of cfg_flags.c's table) ---- */

cfg_status cfg_flag_pushpin(cfg_options *o, const char *v, char *err, size_t errlen)
{
    (void)err;
    (void)errlen;
    o->pushpin.start = v ? 1 : -1;
    return CFG_OK;
}

cfg_status cfg_flag_pushpin_port(cfg_options *o, const char *v, char *err, size_t errlen)
{
    return cfg_pushpin_parse_port(v, &o->pushpin.proxy_port, err, errlen) ? CFG_OK : CFG_ERR_VALUE;
}

cfg_status cfg_flag_pushpin_publish_port(cfg_options *o, const char *v, char *err, size_t errlen)
{
    return cfg_pushpin_parse_port(v, &o->pushpin.publish_port, err, errlen) ? CFG_OK
                                                                            : CFG_ERR_VALUE;
}

cfg_status cfg_flag_pushpin_path(cfg_options *o, const char *v, char *err, size_t errlen)
{
    if (!v[0]) {
        snprintf(err, errlen, "empty file name");
        return CFG_ERR_VALUE;
    }
    char *d = strdup(v);
    if (!d) {
        snprintf(err, errlen, "out of memory");
        return CFG_ERR_NOMEM;
    }
    free(o->pushpin.path);
    o->pushpin.path = d;
    return CFG_OK;
}

cfg_status cfg_flag_websocket_passthrough(cfg_options *o, const char *v, char *err, size_t errlen)
{
    (void)err;
    (void)errlen;
    o->pushpin.websocket_passthrough = v ? 1 : -1;
    return CFG_OK;
}

/* ---- fastly.toml [local_server.pushpin] ---- */

static cfg_status toml_port(cfg_ft *f, const cfg_toml_value *t, const char *key, uint16_t *port)
{
    const cfg_toml_value *v = cfg_toml_get(t, key);
    if (!v)
        return CFG_OK;
    char w[CFG_FT_WHERE_MAX];
    cfg_ft_sub(w, sizeof w, "local_server.pushpin", key);
    if (v->type != CFG_TOML_INTEGER)
        return cfg_ft_bad(f, CFG_ERR_TOML, v, w, "expected a port number, found %s",
                          cfg_ft_a_type(v));
    if (v->u.i < 0 || v->u.i > 65535)
        return cfg_ft_bad(f, CFG_ERR_VALUE, v, w, "%lld is not a port number (0-65535)",
                          (long long)v->u.i);
    *port = (uint16_t)v->u.i; /* 0: the default, as the Fastly CLI reads it */
    return CFG_OK;
}

cfg_status cfg_ft_pushpin(cfg_ft *f, const cfg_toml_value *t, const char *where)
{
    if (!t)
        return CFG_OK;
    if (t->type != CFG_TOML_TABLE)
        return cfg_ft_bad(f, CFG_ERR_TOML, t, where, "expected a table, found %s",
                          cfg_ft_a_type(t));
    cfg_pushpin *p = &f->o->pushpin;
    const cfg_toml_value *en = cfg_toml_get(t, "enable");
    if (en && en->type != CFG_TOML_BOOL)
        return cfg_ft_bad(f, CFG_ERR_TOML, en, "local_server.pushpin.enable",
                          "expected true or false, found %s", cfg_ft_a_type(en));
    if (en)
        p->start = en->u.b ? 1 : -1;
    cfg_status st;
    if ((st = toml_port(f, t, "proxy_port", &p->proxy_port)) != CFG_OK ||
        (st = toml_port(f, t, "publish_port", &p->publish_port)) != CFG_OK)
        return st;
    const cfg_toml_value *path = cfg_toml_get(t, "pushpin_path");
    if (path && path->type != CFG_TOML_STRING)
        return cfg_ft_bad(f, CFG_ERR_TOML, path, "local_server.pushpin.pushpin_path",
                          "expected a string, found %s", cfg_ft_a_type(path));
    if (path && path->u.s.len > 0) { /* as given, as the Fastly CLI takes it */
        free(p->path);
        if (!(p->path = strdup(path->u.s.ptr)))
            return cfg_ft_nomem(f);
    }
    return CFG_OK;
}
