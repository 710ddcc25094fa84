/* hc_log.c: log endpoints: the writers the server makes from its -logger list (files opened for
 * appending once, at startup) and the fastly_log module (endpoint_get, write). A handle records
 * the endpoint name; the same name in one request gives the same handle, as Viceroy. */
#include "hc_log.h"

#include "config/cfg_edge.h"
#include "hc_edge_handles.h"
#include "hc_hostcall.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#define LOG_DELIM " :: "
#define LOG_SMALL 1024

typedef struct log_file {
    char *name;
    int fd; /* -1: the default output */
} log_file;

struct hc_log_endpoints {
    pthread_mutex_t lock; /* one write at a time, in order, whatever the destination */
    int out_fd;
    log_file *files;
    size_t n;
    bool failure_reported;
};

struct hc_log_ref {
    uint8_t *name;
    size_t len;
};

/* Writes for a NULL hc_log_endpoints (a guest run without a server) share this lock. */
static pthread_mutex_t default_lock = PTHREAD_MUTEX_INITIALIZER;
static bool default_failure_reported; /* guarded by default_lock */

hc_log_endpoints *hc_log_endpoints_new(const cfg_edge *edge, int out_fd, char *err, size_t errlen)
{
    hc_log_endpoints *l = calloc(1, sizeof *l);
    size_t n = edge ? edge->nloggers : 0;
    if (l)
        l->files = calloc(n ? n : 1, sizeof *l->files);
    if (!l || !l->files) {
        free(l);
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    pthread_mutex_init(&l->lock, NULL);
    l->out_fd = out_fd;
    for (size_t i = 0; i < n; i++) {
        const cfg_logger *g = &edge->loggers[i];
        log_file *f = &l->files[l->n];
        f->fd = -1;
        f->name = strdup(g->name);
        if (!f->name) {
            snprintf(err, errlen, "out of memory");
            hc_log_endpoints_free(l);
            return NULL;
        }
        l->n++;
        if (g->path) {
            f->fd = open(g->path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
            if (f->fd < 0) {
                snprintf(err, errlen, "logger %s: cannot open %s for appending: %s", g->name,
                         g->path, strerror(errno));
                hc_log_endpoints_free(l);
                return NULL;
            }
        }
    }
    return l;
}

void hc_log_endpoints_free(hc_log_endpoints *l)
{
    if (!l)
        return;
    for (size_t i = 0; i < l->n; i++) {
        if (l->files[i].fd >= 0)
            close(l->files[i].fd);
        free(l->files[i].name);
    }
    free(l->files);
    pthread_mutex_destroy(&l->lock);
    free(l);
}

static int write_all(int fd, const uint8_t *p, size_t len)
{
    while (len > 0) {
        ssize_t w = write(fd, p, len);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        p += w;
        len -= (size_t)w;
    }
    return 0;
}

static int dest_fd(const hc_log_endpoints *l, const uint8_t *name, size_t name_len)
{
    if (!l)
        return STDOUT_FILENO;
    for (size_t i = 0; i < l->n; i++)
        if (strlen(l->files[i].name) == name_len && memcmp(l->files[i].name, name, name_len) == 0)
            return l->files[i].fd >= 0 ? l->files[i].fd : l->out_fd;
    return l->out_fd;
}

int hc_log_endpoints_write(hc_log_endpoints *l, const uint8_t *name, size_t name_len,
                           const uint8_t *msg, size_t msg_len)
{
    if (msg_len > 0 && msg[msg_len - 1] == '\n')
        msg_len--;
    if (msg_len == 0)
        return 0;
    size_t newlines = 0;
    for (size_t i = 0; i < msg_len; i++)
        newlines += msg[i] == '\n';
    size_t total = name_len + sizeof LOG_DELIM - 1 + msg_len + newlines + 1;
    uint8_t small[LOG_SMALL];
    uint8_t *line = total <= sizeof small ? small : malloc(total);
    if (!line)
        return -1;
    size_t o = 0;
    memcpy(line, name, name_len);
    o += name_len;
    memcpy(line + o, LOG_DELIM, sizeof LOG_DELIM - 1);
    o += sizeof LOG_DELIM - 1;
    for (size_t i = 0; i < msg_len; i++) {
        if (msg[i] == '\n') {
            line[o++] = '\\';
            line[o++] = 'n';
        } else {
            line[o++] = msg[i];
        }
    }
    line[o++] = '\n';
    pthread_mutex_t *lock = l ? &l->lock : &default_lock;
    pthread_mutex_lock(lock);
    int rc = write_all(dest_fd(l, name, name_len), line, o);
    int saved = errno;
    pthread_mutex_unlock(lock);
    if (line != small)
        free(line);
    errno = saved; /* the caller reports the write's error */
    return rc;
}

bool hc_log_endpoints_first_failure(hc_log_endpoints *l)
{
    pthread_mutex_t *lock = l ? &l->lock : &default_lock;
    bool *flag = l ? &l->failure_reported : &default_failure_reported;
    pthread_mutex_lock(lock);
    bool first = !*flag;
    *flag = true;
    pthread_mutex_unlock(lock);
    return first;
}

bool hc_log_reserved_name(const uint8_t *name, size_t len)
{
    const char *n = (const char *)name;
    return (len == 6 && (strncasecmp(n, "stdout", 6) == 0 || strncasecmp(n, "stderr", 6) == 0)) ||
           (len >= 12 && strncasecmp(n, "fst_managed_", 12) == 0);
}

void hc_log_ref_free(hc_log_ref *r)
{
    if (!r)
        return;
    free(r->name);
    free(r);
}

/* The request's handle for this name, if it has one already. */
static bool find_ref(hc_ctx *ctx, const uint8_t *name, size_t len, uint32_t *handle)
{
    const hc_table *t = hc_edge_table(ctx);
    for (uint32_t i = 0; t && i < t->n; i++) {
        const hc_log_ref *r = t->kinds[i] == HC_EDGE_LOG ? t->objs[i] : NULL;
        if (r && r->len == len && (len == 0 || memcmp(r->name, name, len) == 0)) {
            *handle = i;
            return true;
        }
    }
    return false;
}

static fwe_trap_kind endpoint_get(fwe_caller *caller, uint64_t *slots, void *data)
{
    HC_CTX(ctx);
    uint32_t len = HC_ARG(1);
    const uint8_t *name = hc_mem_slice(caller, HC_ARG(0), len);
    if (!name)
        HC_RETURN(HC_INVAL);
    if (hc_log_reserved_name(name, len)) {
        char shown[72];
        hc_log(ctx, 1, "fastly_log.endpoint_get: '%s' is a reserved endpoint name",
               hc_edge_log_name(name, len, shown));
        HC_RETURN(HC_INVAL);
    }
    uint32_t h;
    if (!find_ref(ctx, name, len, &h)) {
        hc_log_ref *r = calloc(1, sizeof *r);
        if (r)
            r->name = malloc(len ? len : 1);
        if (!r || !r->name) {
            hc_log_ref_free(r);
            HC_RETURN(HC_ERROR);
        }
        if (len)
            memcpy(r->name, name, len);
        r->len = len;
        hc_status st = hc_edge_add(ctx, HC_EDGE_LOG, r, &h);
        if (st != HC_OK) {
            hc_log_ref_free(r);
            HC_RETURN(st);
        }
    }
    HC_RETURN(hc_mem_write_u32(caller, HC_ARG(2), h));
}

static fwe_trap_kind log_write(fwe_caller *caller, uint64_t *slots, void *data)
{
    HC_CTX(ctx);
    const hc_log_ref *r = hc_edge_get(ctx, HC_ARG(0), HC_EDGE_LOG);
    if (!r)
        HC_RETURN(HC_BADF);
    uint32_t len = HC_ARG(2);
    const uint8_t *msg = hc_mem_slice(caller, HC_ARG(1), len);
    if (!msg)
        HC_RETURN(HC_INVAL);
    /* as Viceroy, logging cannot fail for the guest: a failed write is only reported (once) */
    hc_log_endpoints *l = hc_ctx_settings(ctx)->log_endpoints;
    if (hc_log_endpoints_write(l, r->name, r->len, msg, len) != 0) {
        const char *why = strerror(errno);
        char shown[72];
        if (hc_log_endpoints_first_failure(l))
            hc_log(ctx, 0, "fastly_log.write: endpoint '%s': %s (further failures not reported)",
                   hc_edge_log_name(r->name, r->len, shown), why);
    }
    HC_RETURN(hc_mem_write_u32(caller, HC_ARG(3), len));
}

const hc_impl hc_log_impls[] = {
    {"fastly_log", "endpoint_get", endpoint_get},
    {"fastly_log", "write", log_write},
    {NULL, NULL, NULL},
};
