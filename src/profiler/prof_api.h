/* prof_api.h: the viewer's JSON API documents, built from the recorder's ring: the request list
 * (filtered by path and status, newest or slowest first), one request's timeline (hostcall
 * spans, backend waterfall, guest output, flame graph stacks, deep-mode data) and the aggregate
 * view (slowest hostcalls, hottest guest functions). Secret values are scrubbed from every
 * string; credential header values never appear. */
#ifndef PROF_API_H
#define PROF_API_H

#include "profiler/prof_json.h"
#include "profiler/prof_recorder.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct prof_filter {
    const char *path;   /* substring of the URL (NULL: any) */
    const char *status; /* "404", "4xx" or NULL */
    bool slowest;       /* sort by total time, longest first (else newest first) */
    size_t limit;       /* 0: all */
} prof_filter;

/* {"requests":[summary...],"count":N,"recorded":N,"evicted":N} */
void prof_api_list(prof_buf *b, prof_recorder *rec, const prof_filter *f);
/* One record in full; the record must be finished. */
void prof_api_request(prof_buf *b, prof_recorder *rec, prof_req *r);
/* {"hostcalls":[{name,count,total_us,max_us,mean_us}...],"functions":[{name,self,total}...]} */
void prof_api_aggregate(prof_buf *b, prof_recorder *rec);

/* A record's one-object summary (shared with the exports). */
void prof_api_summary(prof_buf *b, const prof_secrets *s, prof_req *r);
/* A string with secret values scrubbed. */
void prof_api_str(prof_buf *b, const prof_secrets *s, const char *text, size_t len);

#endif
