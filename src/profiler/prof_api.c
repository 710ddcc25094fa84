/* prof_api.c: the viewer's JSON documents (see prof_api.h). Records are read under their own
 * lock, since late backend transfers may still add to a finished one. */
#include "profiler/prof_api.h"
#include "util/util_grow.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void prof_api_str(prof_buf *b, const prof_secrets *s, const char *text, size_t len)
{
    size_t n = 0;
    char *clean = prof_secrets_scrub(s, text, len, &n);
    if (!clean) {
        b->failed = true;
        return;
    }
    prof_json_str(b, clean, n);
    free(clean);
}

static void api_cstr(prof_buf *b, const prof_secrets *s, const char *text)
{
    prof_api_str(b, s, text ? text : "", text ? strlen(text) : 0);
}

/* The path part of an absolute or relative URL. */
static const char *url_path(const char *url)
{
    const char *p = strstr(url, "://");
    if (!p)
        return url;
    p = strchr(p + 3, '/');
    return p ? p : "/";
}

static void summary_locked(prof_buf *b, const prof_secrets *s, prof_req *r)
{
    bool first = true;
    prof_buf_puts(b, "{");
    prof_json_key(b, &first, "id");
    prof_buf_printf(b, "%" PRIu64, r->id);
    prof_json_key(b, &first, "trace");
    prof_json_cstr(b, r->trace);
    prof_json_key(b, &first, "method");
    api_cstr(b, s, r->method);
    prof_json_key(b, &first, "url");
    api_cstr(b, s, r->url);
    prof_json_key(b, &first, "path");
    api_cstr(b, s, url_path(r->url));
    prof_json_key(b, &first, "status");
    prof_buf_printf(b, "%u", r->status);
    prof_json_key(b, &first, "mode");
    static const char *const modes[] = {"off", "trace", "native", "combined", "deep"};
    prof_json_cstr(b, (unsigned)r->mode < 5 ? modes[r->mode] : "?");
    prof_json_key(b, &first, "start_ms");
    prof_buf_printf(b, "%" PRIu64 ".%03u", r->wall_start_us / 1000,
                    (unsigned)(r->wall_start_us % 1000));
    prof_json_key(b, &first, "total_us");
    prof_json_us(b, r->total_ns);
    prof_json_key(b, &first, "hostcall_us");
    prof_json_us(b, r->hostcall_ns);
    prof_json_key(b, &first, "guest_us");
    prof_json_us(b, r->total_ns > r->hostcall_ns ? r->total_ns - r->hostcall_ns : 0);
    prof_json_key(b, &first, "hostcalls");
    prof_buf_printf(b, "%zu", r->nspans + r->spans_dropped);
    prof_json_key(b, &first, "backends");
    prof_buf_printf(b, "%zu", r->nbackends);
    prof_json_key(b, &first, "samples");
    prof_buf_printf(b, "%" PRIu64, r->samples);
    prof_json_key(b, &first, "cache_hits");
    prof_buf_printf(b, "%" PRIu64, r->cache_hits);
    prof_json_key(b, &first, "cache_misses");
    prof_buf_printf(b, "%" PRIu64, r->cache_misses);
    prof_buf_puts(b, "}");
}

void prof_api_summary(prof_buf *b, const prof_secrets *s, prof_req *r)
{
    pthread_mutex_lock(&r->mu);
    summary_locked(b, s, r);
    pthread_mutex_unlock(&r->mu);
}

static bool status_matches(uint16_t st, const char *want)
{
    if (!want || !want[0])
        return true;
    char have[8];
    snprintf(have, sizeof have, "%u", st);
    if (strlen(want) != 3)
        return false;
    for (int i = 0; i < 3; i++)
        if (want[i] != 'x' && want[i] != 'X' && want[i] != have[i])
            return false;
    return true;
}

static int by_total_desc(const void *a, const void *b)
{
    const prof_req *x = *(prof_req *const *)a, *y = *(prof_req *const *)b;
    return x->total_ns < y->total_ns ? 1 : x->total_ns > y->total_ns ? -1 : 0;
}

void prof_api_list(prof_buf *b, prof_recorder *rec, const prof_filter *f)
{
    prof_req **list = NULL;
    size_t n = prof_recorder_list(rec, &list);
    const prof_secrets *s = prof_recorder_secrets(rec);
    size_t kept = 0;
    for (size_t i = 0; i < n; i++) {
        prof_req *r = list[i];
        bool keep = status_matches(r->status, f ? f->status : NULL) &&
                    (!f || !f->path || !f->path[0] || strstr(url_path(r->url), f->path));
        if (keep)
            list[kept++] = r;
        else
            prof_req_release(r);
    }
    if (f && f->slowest && kept)
        qsort(list, kept, sizeof *list, by_total_desc); /* total_ns is fixed once finished */
    size_t shown = f && f->limit && f->limit < kept ? f->limit : kept;
    size_t count = 0, bytes = 0;
    uint64_t evicted = 0;
    prof_recorder_stats(rec, &count, &bytes, &evicted);
    prof_buf_puts(b, "{\"requests\":[");
    for (size_t i = 0; i < shown; i++) {
        if (i)
            prof_buf_puts(b, ",");
        prof_api_summary(b, s, list[i]);
    }
    prof_buf_printf(b, "],\"count\":%zu,\"recorded\":%zu,\"bytes\":%zu,\"evicted\":%" PRIu64 "}",
                    kept, count, bytes, evicted);
    for (size_t i = 0; i < kept; i++)
        prof_req_release(list[i]);
    free(list);
}

static void us_or_null(prof_buf *b, int64_t us)
{
    if (us < 0)
        prof_buf_puts(b, "null");
    else
        prof_buf_printf(b, "%" PRId64, us);
}

/* Deep mode: the store and cache hostcalls of a record (under r->mu), counted by operation. */
static void store_ops(prof_buf *b, const prof_req *r)
{
    static const char *const modules[] = {
        "fastly_kv_store",     "fastly_object_store", "fastly_config_store", "fastly_dictionary",
        "fastly_secret_store", "fastly_cache",        "fastly_http_cache"};
    const prof_span *seen[64];
    size_t counts[64], errors[64], n = 0;
    for (size_t i = 0; i < r->nspans; i++) {
        const prof_span *sp = &r->spans[i];
        bool store = false;
        for (size_t m = 0; m < sizeof modules / sizeof *modules && !store; m++)
            store = strcmp(sp->module, modules[m]) == 0;
        if (!store)
            continue;
        size_t k = 0;
        while (k < n && !(seen[k]->module == sp->module && seen[k]->name == sp->name))
            k++;
        if (k == n) {
            if (n == 64)
                continue;
            seen[n] = sp;
            counts[n] = errors[n] = 0;
            n++;
        }
        counts[k]++;
        errors[k] += sp->status != 0;
    }
    for (size_t k = 0; k < n; k++)
        prof_buf_printf(b, "%s{\"op\":\"%s.%s\",\"count\":%zu,\"not_ok\":%zu}", k ? "," : "",
                        seen[k]->module, seen[k]->name, counts[k], errors[k]);
}

void prof_api_request(prof_buf *b, prof_recorder *rec, prof_req *r)
{
    const prof_secrets *s = prof_recorder_secrets(rec);
    pthread_mutex_lock(&r->mu);
    prof_buf_puts(b, "{\"request\":");
    summary_locked(b, s, r);
    prof_buf_printf(b, ",\"spans_dropped\":%zu,\"spans\":[", r->spans_dropped);
    for (size_t i = 0; i < r->nspans; i++) {
        const prof_span *sp = &r->spans[i];
        prof_buf_puts(b, i ? ",{" : "{");
        prof_buf_puts(b, "\"name\":");
        prof_buf_printf(b, "\"%s.%s\"", sp->module, sp->name); /* ABI names: no escaping */
        prof_buf_puts(b, ",\"start_us\":");
        prof_json_us(b, sp->start_ns);
        prof_buf_puts(b, ",\"dur_us\":");
        prof_json_us(b, sp->dur_ns);
        prof_buf_printf(b, ",\"status\":%d,\"sig\":\"%s\",\"args\":[", (int)sp->status, sp->sig);
        for (uint8_t k = 0; k < sp->nargs; k++)
            prof_buf_printf(b, "%s%" PRIu64, k ? "," : "", sp->args[k]);
        prof_buf_puts(b, "]");
        if (r->mode == PROF_MODE_DEEP)
            prof_buf_printf(b, ",\"mem_bytes\":%" PRIu64, sp->mem_bytes);
        prof_buf_puts(b, "}");
    }
    prof_buf_puts(b, "],\"backends\":[");
    for (size_t i = 0; i < r->nbackends; i++) {
        const prof_backend *be = &r->backends[i];
        prof_buf_puts(b, i ? ",{\"backend\":" : "{\"backend\":");
        api_cstr(b, s, be->backend);
        prof_buf_puts(b, ",\"method\":");
        api_cstr(b, s, be->method);
        prof_buf_puts(b, ",\"url\":");
        api_cstr(b, s, be->url);
        prof_buf_puts(b, ",\"start_us\":");
        prof_json_us(b, be->start_ns);
        prof_buf_puts(b, ",\"dns_us\":");
        us_or_null(b, be->dns_us);
        prof_buf_puts(b, ",\"connect_us\":");
        us_or_null(b, be->connect_us);
        prof_buf_puts(b, ",\"tls_us\":");
        us_or_null(b, be->tls_us);
        prof_buf_puts(b, ",\"first_byte_us\":");
        us_or_null(b, be->first_byte_us);
        prof_buf_puts(b, ",\"total_us\":");
        us_or_null(b, be->total_us);
        prof_buf_printf(b,
                        ",\"bytes_in\":%" PRIu64 ",\"bytes_out\":%" PRIu64
                        ",\"status\":%u,\"ok\":%s,\"error\":",
                        be->bytes_in, be->bytes_out, be->status, be->ok ? "true" : "false");
        prof_json_cstr(b, be->ok ? NULL : be->error);
        prof_buf_puts(b, "}");
    }
    prof_buf_puts(b, "],\"cache\":[");
    for (size_t i = 0; i < r->ncache; i++) {
        prof_buf_puts(b, i ? ",{\"t_us\":" : "{\"t_us\":");
        prof_json_us(b, r->cache[i].t_ns);
        prof_buf_puts(b, ",\"result\":");
        prof_json_cstr(b, r->cache[i].result);
        prof_buf_puts(b, ",\"url\":");
        api_cstr(b, s, r->cache[i].url);
        prof_buf_puts(b, "}");
    }
    prof_buf_printf(b, "],\"logs_dropped\":%zu,\"logs\":[", r->logs_dropped);
    for (size_t i = 0; i < r->nlogs; i++) {
        prof_buf_puts(b, i ? ",{\"t_us\":" : "{\"t_us\":");
        prof_json_us(b, r->logs[i].t_ns);
        prof_buf_printf(
            b, ",\"stream\":\"%s\",\"text\":", r->logs[i].stream == 2 ? "stderr" : "stdout");
        api_cstr(b, s, r->logs[i].text);
        prof_buf_puts(b, "}");
    }
    prof_buf_printf(b, "],\"samples_dropped\":%" PRIu64 ",\"stacks\":[", r->samples_dropped);
    for (size_t i = 0; i < r->nstacks; i++) {
        const prof_stack *st = &r->stacks[i];
        prof_buf_printf(b, "%s{\"count\":%u,\"frames\":[", i ? "," : "", st->count);
        for (uint32_t k = 0; k < st->nframes; k++) {
            if (k)
                prof_buf_puts(b, ",");
            const char *name = prof_req_fname_of(r, st->funcs[k]);
            if (name)
                prof_json_cstr(b, name);
            else
                prof_buf_printf(b, "\"func[%u]\"", st->funcs[k]);
        }
        prof_buf_puts(b, "]}");
    }
    prof_buf_puts(b, "]");
    if (r->mode == PROF_MODE_DEEP) {
        prof_buf_printf(b,
                        ",\"deep\":{\"req_body_bytes\":%" PRIu64 ",\"resp_body_bytes\":%" PRIu64
                        ",\"req_headers\":[",
                        r->req_body_bytes, r->resp_body_bytes);
        for (size_t i = 0; i < r->nreq_headers; i++) {
            const prof_header_summary *h = &r->req_headers[i];
            prof_buf_puts(b, i ? ",{\"name\":" : "{\"name\":");
            api_cstr(b, s, h->name);
            prof_buf_puts(b, ",\"value\":");
            api_cstr(b, s, h->value);
            prof_buf_printf(b, ",\"size\":%zu}", h->value_len);
        }
        prof_buf_puts(b, "],\"store_ops\":[");
        store_ops(b, r);
        prof_buf_puts(b, "],\"store_access\":[");
        for (size_t i = 0; i < r->nstores; i++) {
            const prof_store_count *c = &r->stores[i];
            prof_buf_puts(b, i ? ",{\"store\":" : "{\"store\":");
            api_cstr(b, s, c->store);
            prof_buf_printf(b, ",\"op\":\"%s.%s\",\"count\":%" PRIu64 "}", c->module, c->name,
                            c->count);
        }
        prof_buf_puts(b, "],\"resp_body\":");
        prof_api_str(b, s, r->resp_body ? (const char *)r->resp_body : "", r->resp_body_len);
        prof_buf_puts(b, ",\"memory\":[");
        for (size_t i = 0; i < r->nmem; i++) {
            prof_buf_puts(b, i ? ",{\"t_us\":" : "{\"t_us\":");
            prof_json_us(b, r->mem[i].t_ns);
            prof_buf_printf(b, ",\"bytes\":%" PRIu64 "}", r->mem[i].bytes);
        }
        prof_buf_puts(b, "]}");
    }
    prof_buf_puts(b, "}");
    pthread_mutex_unlock(&r->mu);
}

typedef struct agg {
    const char *module, *name;
    uint64_t count, total_ns, max_ns;
} agg;

typedef struct fagg {
    char *name; /* borrowed from a record held for the whole call */
    uint64_t self, total;
} fagg;

static int agg_cmp(const void *a, const void *b)
{
    const agg *x = a, *y = b;
    return x->total_ns < y->total_ns ? 1 : x->total_ns > y->total_ns ? -1 : 0;
}

static int fagg_cmp(const void *a, const void *b)
{
    const fagg *x = a, *y = b;
    return x->self < y->self ? 1 : x->self > y->self ? -1 : 0;
}

void prof_api_aggregate(prof_buf *b, prof_recorder *rec)
{
    prof_req **list = NULL;
    size_t n = prof_recorder_list(rec, &list);
    agg *a = NULL;
    size_t na = 0, capa = 0;
    fagg *fa = NULL;
    size_t nf = 0, capf = 0;
    for (size_t i = 0; i < n; i++) {
        prof_req *r = list[i];
        pthread_mutex_lock(&r->mu);
        for (size_t k = 0; k < r->nspans; k++) {
            const prof_span *sp = &r->spans[k];
            size_t j = 0;
            while (j < na && !(a[j].name == sp->name && a[j].module == sp->module))
                j++;
            if (j == na) {
                if (!util_grow((void **)&a, &capa, na + 1, 64, sizeof *a))
                    continue;
                a[na++] = (agg){sp->module, sp->name, 0, 0, 0};
            }
            a[j].count++;
            a[j].total_ns += sp->dur_ns;
            if (sp->dur_ns > a[j].max_ns)
                a[j].max_ns = sp->dur_ns;
        }
        for (size_t k = 0; k < r->nstacks; k++) {
            const prof_stack *st = &r->stacks[k];
            for (uint32_t d = 0; d < st->nframes; d++) {
                char *name = (char *)prof_req_fname_of(r, st->funcs[d]);
                if (!name)
                    continue;
                /* count a function once per stack for "total" */
                bool again = false;
                for (uint32_t e = 0; e < d && !again; e++)
                    again = st->funcs[e] == st->funcs[d];
                size_t j = 0;
                while (j < nf && strcmp(fa[j].name, name) != 0)
                    j++;
                if (j == nf) {
                    if (!util_grow((void **)&fa, &capf, nf + 1, 64, sizeof *fa))
                        continue;
                    fa[nf++] = (fagg){name, 0, 0};
                }
                if (!again)
                    fa[j].total += st->count;
                if (d + 1 == st->nframes)
                    fa[j].self += st->count;
            }
        }
        pthread_mutex_unlock(&r->mu);
    }
    if (na)
        qsort(a, na, sizeof *a, agg_cmp);
    if (nf)
        qsort(fa, nf, sizeof *fa, fagg_cmp);
    prof_buf_printf(b, "{\"requests\":%zu,\"hostcalls\":[", n);
    for (size_t j = 0; j < na; j++)
        prof_buf_printf(b,
                        "%s{\"name\":\"%s.%s\",\"count\":%" PRIu64 ",\"total_us\":%" PRIu64
                        ",\"max_us\":%" PRIu64 ",\"mean_us\":%" PRIu64 "}",
                        j ? "," : "", a[j].module, a[j].name, a[j].count, a[j].total_ns / 1000,
                        a[j].max_ns / 1000, a[j].total_ns / 1000 / (a[j].count ? a[j].count : 1));
    prof_buf_puts(b, "],\"functions\":[");
    for (size_t j = 0; j < nf && j < 200; j++) {
        prof_buf_puts(b, j ? ",{\"name\":" : "{\"name\":");
        prof_json_cstr(b, fa[j].name);
        prof_buf_printf(b, ",\"self\":%" PRIu64 ",\"total\":%" PRIu64 "}", fa[j].self, fa[j].total);
    }
    prof_buf_puts(b, "]}");
    free(a);
    free(fa);
    for (size_t i = 0; i < n; i++)
        prof_req_release(list[i]);
    free(list);
}
