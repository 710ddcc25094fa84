/* prof_firefox.c: one request as a Firefox Profiler (Gecko format) profile: a thread whose
 * samples are the guest's wasm stacks (one sample per recorded SIGPROF tick, spread over the
 * request's time since the ticks were counted, not timed) and whose markers are the hostcalls. */
#include "profiler/prof_firefox.h"
#include "profiler/prof_strtab.h"
#include "util/util_grow.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

void prof_firefox_profile(prof_buf *b, prof_req *r)
{
    pthread_mutex_lock(&r->mu);
    prof_strtab st = {0};                /* the profile's string table */
    prof_strtab_index(&st, "(request)"); /* index 0: the root frame */
    double start_ms = (double)r->wall_start_us / 1000.0;
    prof_buf_printf(b,
                    "{\"meta\":{\"version\":27,\"startTime\":%.3f,\"shutdownTime\":null,"
                    "\"interval\":1,\"stackwalk\":0,\"debug\":0,\"gcpoison\":0,\"asyncstack\":0,"
                    "\"processType\":0,\"product\":\"fastlike guest\",\"presymbolicated\":true,"
                    "\"categories\":[{\"name\":\"Wasm\",\"color\":\"blue\",\"subcategories\":["
                    "\"Other\"]},{\"name\":\"Hostcall\",\"color\":\"orange\",\"subcategories\":["
                    "\"Other\"]}]},\"libs\":[],\"pausedRanges\":[],\"processes\":[],\"threads\":[{"
                    "\"name\":\"request %" PRIu64 "\",\"processType\":\"default\","
                    "\"registerTime\":0,\"unregisterTime\":null,\"tid\":%" PRIu64 ",\"pid\":1,",
                    start_ms, r->id, r->id);
    /* frames: one per distinct function; stacks: a prefix tree over the sample stacks */
    prof_buf frames_json, stacks_json, samples_json;
    prof_buf_init(&frames_json);
    prof_buf_init(&stacks_json);
    prof_buf_init(&samples_json);
    size_t nframes = 0, nstacks = 0;
    uint32_t *frame_func = NULL; /* frame index -> function index */
    size_t frame_cap = 0;
    size_t *stk_prefix = NULL, *stk_frame = NULL;
    size_t stk_prefix_cap = 0, stk_frame_cap = 0;
    bool first_sample = true;
    double total_ms = (double)r->total_ns / 1e6;
    uint64_t tick = 0;
    for (size_t i = 0; i < r->nstacks; i++) {
        const prof_stack *s = &r->stacks[i];
        size_t prefix = SIZE_MAX;
        for (uint32_t k = 0; k < s->nframes; k++) {
            size_t f = 0;
            while (f < nframes && frame_func[f] != s->funcs[k])
                f++;
            if (f == nframes) {
                if (!util_grow((void **)&frame_func, &frame_cap, nframes + 1, 64,
                               sizeof *frame_func))
                    break;
                frame_func[nframes++] = s->funcs[k];
                const char *name = prof_req_fname_of(r, s->funcs[k]);
                size_t si = prof_strtab_index(&st, name ? name : "(unnamed)");
                prof_buf_printf(&frames_json, "%s[%zu,false,0,null,null,null,0,0]", f ? "," : "",
                                si);
            }
            size_t j = 0;
            while (j < nstacks && !(stk_prefix[j] == prefix && stk_frame[j] == f))
                j++;
            if (j == nstacks) {
                if (!util_grow((void **)&stk_prefix, &stk_prefix_cap, nstacks + 1, 64,
                               sizeof *stk_prefix) ||
                    !util_grow((void **)&stk_frame, &stk_frame_cap, nstacks + 1, 64,
                               sizeof *stk_frame))
                    break;
                stk_prefix[nstacks] = prefix;
                stk_frame[nstacks] = f;
                if (prefix == SIZE_MAX)
                    prof_buf_printf(&stacks_json, "%s[null,%zu]", nstacks ? "," : "", f);
                else
                    prof_buf_printf(&stacks_json, "%s[%zu,%zu]", nstacks ? "," : "", prefix, f);
                nstacks++;
            }
            prefix = j;
        }
        if (prefix == SIZE_MAX)
            continue;
        for (uint32_t c = 0; c < s->count; c++, tick++) {
            double t = r->samples ? total_ms * (double)tick / (double)r->samples : 0;
            prof_buf_printf(&samples_json, "%s[%zu,%.3f,0]", first_sample ? "" : ",", prefix, t);
            first_sample = false;
        }
    }
    prof_buf_puts(b,
                  "\"samples\":{\"schema\":{\"stack\":0,\"time\":1,\"eventDelay\":2},\"data\":[");
    if (samples_json.data)
        prof_buf_put(b, samples_json.data, samples_json.len);
    prof_buf_puts(b, "]},\"stackTable\":{\"schema\":{\"prefix\":0,\"frame\":1},\"data\":[");
    if (stacks_json.data)
        prof_buf_put(b, stacks_json.data, stacks_json.len);
    prof_buf_puts(b, "]},\"frameTable\":{\"schema\":{\"location\":0,\"relevantForJS\":1,"
                     "\"innerWindowID\":2,\"implementation\":3,\"line\":4,\"column\":5,"
                     "\"category\":6,\"subcategory\":7},\"data\":[");
    if (frames_json.data)
        prof_buf_put(b, frames_json.data, frames_json.len);
    prof_buf_puts(b, "]},\"markers\":{\"schema\":{\"name\":0,\"startTime\":1,\"endTime\":2,"
                     "\"phase\":3,\"category\":4,\"data\":5},\"data\":[");
    for (size_t i = 0; i < r->nspans; i++) {
        const prof_span *sp = &r->spans[i];
        char label[160];
        snprintf(label, sizeof label, "%s.%s", sp->module, sp->name);
        size_t si = prof_strtab_index(&st, label);
        prof_buf_printf(b, "%s[%zu,%.3f,%.3f,1,1,{\"type\":\"Hostcall\",\"status\":%d}]",
                        i ? "," : "", si, (double)sp->start_ns / 1e6,
                        (double)(sp->start_ns + sp->dur_ns) / 1e6, (int)sp->status);
    }
    prof_buf_puts(b, "]},\"stringTable\":[");
    for (size_t i = 0; i < st.n; i++) {
        if (i)
            prof_buf_puts(b, ",");
        prof_json_cstr(b, st.s[i]);
    }
    prof_buf_puts(b, "]}]}");
    prof_strtab_deinit(&st);
    free(frame_func);
    free(stk_prefix);
    free(stk_frame);
    prof_buf_deinit(&frames_json);
    prof_buf_deinit(&stacks_json);
    prof_buf_deinit(&samples_json);
    pthread_mutex_unlock(&r->mu);
}

bool prof_firefox_write_file(const char *dir, prof_req *r, char *err, size_t errlen)
{
    if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
        snprintf(err, errlen, "guest profile directory %s: %s", dir, strerror(errno));
        return false;
    }
    char path[4096];
    snprintf(path, sizeof path, "%s/%" PRIu64 "-%" PRIu64 ".json", dir, r->wall_start_us / 1000,
             r->id);
    prof_buf b;
    prof_buf_init(&b);
    prof_firefox_profile(&b, r);
    size_t len = 0;
    char *text = prof_buf_take(&b, &len);
    if (!text) {
        snprintf(err, errlen, "guest profile %s: out of memory", path);
        return false;
    }
    FILE *f = fopen(path, "w");
    bool ok = f && fwrite(text, 1, len, f) == len;
    if (f && fclose(f) != 0)
        ok = false;
    if (!ok)
        snprintf(err, errlen, "guest profile %s: %s", path, strerror(errno));
    free(text);
    return ok;
}
