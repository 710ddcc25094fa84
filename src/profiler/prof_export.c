/* prof_export.c: Chrome trace-event and speedscope exports (see prof_export.h). */
#include "profiler/prof_export.h"

#include "profiler/prof_api.h"
#include "profiler/prof_strtab.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* An absolute trace timestamp in microseconds: the request's wall start plus ns. */
static void ts(prof_buf *b, const prof_req *r, uint64_t ns)
{
    prof_json_us(b, r->wall_start_us * 1000u + ns);
}

static void chrome_one(prof_buf *b, const prof_secrets *s, prof_req *r, bool *first)
{
    uint64_t tid = r->id * 1000u;
    if (!*first)
        prof_buf_puts(b, ",");
    *first = false;
    prof_buf_printf(b,
                    "{\"ph\":\"M\",\"name\":\"thread_name\",\"pid\":1,\"tid\":%" PRIu64
                    ",\"args\":{\"name\":",
                    tid);
    char label[64];
    snprintf(label, sizeof label, "request %" PRIu64 " ", r->id);
    size_t ll = strlen(label), ul = strlen(r->url), ml = strlen(r->method);
    char *full = malloc(ll + ml + 1 + ul + 1);
    if (full) {
        memcpy(full, label, ll);
        memcpy(full + ll, r->method, ml);
        full[ll + ml] = ' ';
        memcpy(full + ll + ml + 1, r->url, ul + 1);
        prof_api_str(b, s, full, strlen(full));
        free(full);
    } else {
        prof_json_cstr(b, label);
    }
    prof_buf_puts(b, "}}");
    /* the request itself */
    prof_buf_printf(
        b, ",{\"ph\":\"X\",\"cat\":\"request\",\"pid\":1,\"tid\":%" PRIu64 ",\"name\":", tid);
    prof_api_str(b, s, r->method, strlen(r->method));
    prof_buf_puts(b, ",\"ts\":");
    ts(b, r, 0);
    prof_buf_puts(b, ",\"dur\":");
    prof_json_us(b, r->total_ns);
    prof_buf_printf(b, ",\"args\":{\"status\":%u,\"url\":", r->status);
    prof_api_str(b, s, r->url, strlen(r->url));
    prof_buf_puts(b, ",\"hostcall_us\":");
    prof_json_us(b, r->hostcall_ns);
    prof_buf_puts(b, "}}");
    for (size_t i = 0; i < r->nspans; i++) {
        const prof_span *sp = &r->spans[i];
        prof_buf_printf(b,
                        ",{\"ph\":\"X\",\"cat\":\"hostcall\",\"pid\":1,\"tid\":%" PRIu64
                        ",\"name\":\"%s.%s\",\"ts\":",
                        tid, sp->module, sp->name);
        ts(b, r, sp->start_ns);
        prof_buf_puts(b, ",\"dur\":");
        prof_json_us(b, sp->dur_ns);
        prof_buf_printf(b, ",\"args\":{\"status\":%d,\"args\":\"", (int)sp->status);
        for (uint8_t k = 0; k < sp->nargs; k++)
            prof_buf_printf(b, "%s%" PRIu64, k ? " " : "", sp->args[k]);
        prof_buf_puts(b, "\"}}");
    }
    for (size_t i = 0; i < r->nbackends; i++) {
        const prof_backend *be = &r->backends[i];
        uint64_t btid = tid + 1 + i;
        prof_buf_printf(b,
                        ",{\"ph\":\"M\",\"name\":\"thread_name\",\"pid\":1,\"tid\":%" PRIu64
                        ",\"args\":{\"name\":",
                        btid);
        prof_api_str(b, s, be->backend, strlen(be->backend));
        prof_buf_puts(b, "}}");
        int64_t total = be->total_us >= 0 ? be->total_us : 0;
        prof_buf_printf(
            b, ",{\"ph\":\"X\",\"cat\":\"backend\",\"pid\":1,\"tid\":%" PRIu64 ",\"name\":", btid);
        prof_api_str(b, s, be->url, strlen(be->url));
        prof_buf_puts(b, ",\"ts\":");
        ts(b, r, be->start_ns);
        prof_buf_printf(b,
                        ",\"dur\":%" PRId64 ",\"args\":{\"status\":%u,\"bytes_in\":%" PRIu64
                        ",\"bytes_out\":%" PRIu64 "}}",
                        total, be->status, be->bytes_in, be->bytes_out);
        /* the phases, nested inside: each runs from the previous phase's end */
        const char *names[] = {"dns", "connect", "tls", "wait", "body"};
        int64_t ends[] = {be->dns_us, be->connect_us, be->tls_us, be->first_byte_us, total};
        int64_t from = 0;
        for (int k = 0; k < 5; k++) {
            if (ends[k] < 0 || ends[k] < from)
                continue;
            if (ends[k] > from) {
                prof_buf_printf(b,
                                ",{\"ph\":\"X\",\"cat\":\"backend\",\"pid\":1,\"tid\":%" PRIu64
                                ",\"name\":\"%s\",\"ts\":",
                                btid, names[k]);
                ts(b, r, be->start_ns + (uint64_t)from * 1000u);
                prof_buf_printf(b, ",\"dur\":%" PRId64 "}", ends[k] - from);
            }
            from = ends[k];
        }
    }
}

void prof_export_chrome(prof_buf *b, const prof_secrets *s, prof_req *const *reqs, size_t n)
{
    prof_buf_puts(b, "{\"displayTimeUnit\":\"ms\",\"otherData\":{\"exporter\":\"fastlike\"},"
                     "\"traceEvents\":[");
    bool first = true;
    for (size_t i = 0; i < n; i++) {
        pthread_mutex_lock(&reqs[i]->mu);
        chrome_one(b, s, reqs[i], &first);
        pthread_mutex_unlock(&reqs[i]->mu);
    }
    prof_buf_puts(b, "]}");
}

/* fr: speedscope's shared frame table (hostcall names and guest function names) */
static void speedscope_one(prof_buf *b, const prof_secrets *s, prof_strtab *fr, prof_req *r,
                           bool *first)
{
    char title[96];
    snprintf(title, sizeof title, "request %" PRIu64 " %s", r->id, r->method);
    char root_name[64];
    snprintf(root_name, sizeof root_name, "request %" PRIu64, r->id);
    size_t root = prof_strtab_index(fr, root_name);
    /* evented: the request, with its hostcalls inside */
    prof_buf_puts(b, *first ? "{" : ",{");
    *first = false;
    prof_buf_puts(b, "\"type\":\"evented\",\"name\":");
    size_t tl = strlen(title), ul = strlen(r->url);
    char *full = malloc(tl + 1 + ul + 1);
    if (full) {
        memcpy(full, title, tl);
        full[tl] = ' ';
        memcpy(full + tl + 1, r->url, ul + 1);
        prof_api_str(b, s, full, strlen(full));
        free(full);
    } else {
        prof_json_cstr(b, title);
    }
    prof_buf_puts(b, ",\"unit\":\"microseconds\",\"startValue\":0,\"endValue\":");
    prof_json_us(b, r->total_ns);
    prof_buf_printf(b, ",\"events\":[{\"type\":\"O\",\"frame\":%zu,\"at\":0}", root);
    uint64_t last = 0;
    for (size_t i = 0; i < r->nspans; i++) {
        const prof_span *sp = &r->spans[i];
        char name[160];
        snprintf(name, sizeof name, "%s.%s", sp->module, sp->name);
        size_t fi = prof_strtab_index(fr, name);
        uint64_t open = sp->start_ns < last ? last : sp->start_ns;
        uint64_t close = sp->start_ns + sp->dur_ns;
        if (close < open)
            close = open;
        if (close > r->total_ns)
            close = r->total_ns;
        if (open > close)
            open = close;
        prof_buf_printf(b, ",{\"type\":\"O\",\"frame\":%zu,\"at\":", fi);
        prof_json_us(b, open);
        prof_buf_printf(b, "},{\"type\":\"C\",\"frame\":%zu,\"at\":", fi);
        prof_json_us(b, close);
        prof_buf_puts(b, "}");
        last = close;
    }
    prof_buf_printf(b, ",{\"type\":\"C\",\"frame\":%zu,\"at\":", root);
    prof_json_us(b, r->total_ns > last ? r->total_ns : last);
    prof_buf_puts(b, "}]}");
    if (r->nstacks == 0)
        return;
    /* sampled: the guest's wasm stacks, weighted by sample count */
    prof_buf_puts(b, ",{\"type\":\"sampled\",\"name\":");
    char sname[128];
    snprintf(sname, sizeof sname, "%s: guest functions", title);
    prof_json_cstr(b, sname);
    prof_buf_printf(b, ",\"unit\":\"none\",\"startValue\":0,\"endValue\":%" PRIu64 ",\"samples\":[",
                    r->samples);
    for (size_t i = 0; i < r->nstacks; i++) {
        const prof_stack *st = &r->stacks[i];
        prof_buf_puts(b, i ? ",[" : "[");
        for (uint32_t k = 0; k < st->nframes; k++) {
            const char *name = prof_req_fname_of(r, st->funcs[k]);
            char fallback[32];
            if (!name) {
                snprintf(fallback, sizeof fallback, "func[%u]", st->funcs[k]);
                name = fallback;
            }
            prof_buf_printf(b, "%s%zu", k ? "," : "", prof_strtab_index(fr, name));
        }
        prof_buf_puts(b, "]");
    }
    prof_buf_puts(b, "],\"weights\":[");
    for (size_t i = 0; i < r->nstacks; i++)
        prof_buf_printf(b, "%s%u", i ? "," : "", r->stacks[i].count);
    prof_buf_puts(b, "]}");
}

void prof_export_speedscope(prof_buf *b, const prof_secrets *s, prof_req *const *reqs, size_t n)
{
    prof_strtab fr = {0};
    prof_buf profiles;
    prof_buf_init(&profiles);
    bool first = true;
    for (size_t i = 0; i < n; i++) {
        pthread_mutex_lock(&reqs[i]->mu);
        speedscope_one(&profiles, s, &fr, reqs[i], &first);
        pthread_mutex_unlock(&reqs[i]->mu);
    }
    prof_buf_puts(b, "{\"$schema\":\"https://www.speedscope.app/file-format-schema.json\","
                     "\"exporter\":\"fastlike\",\"name\":\"fastlike profile\","
                     "\"activeProfileIndex\":0,\"shared\":{\"frames\":[");
    for (size_t i = 0; i < fr.n; i++) {
        prof_buf_puts(b, i ? ",{\"name\":" : "{\"name\":");
        prof_json_cstr(b, fr.s[i]);
        prof_buf_puts(b, "}");
    }
    prof_buf_puts(b, "]},\"profiles\":[");
    if (profiles.failed)
        b->failed = true;
    else if (profiles.data)
        prof_buf_put(b, profiles.data, profiles.len);
    prof_buf_puts(b, "]}");
    prof_buf_deinit(&profiles);
    prof_strtab_deinit(&fr);
}
