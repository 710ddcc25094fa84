/* prof_export.h: recorded requests as files other tools open: Chrome trace-event JSON (Perfetto,
 * chrome://tracing; one track per request plus one per backend transfer) and speedscope JSON (an
 * evented profile of each request's hostcalls, and a sampled profile of its guest stacks when
 * native sampling was on). */
#ifndef PROF_EXPORT_H
#define PROF_EXPORT_H

#include "profiler/prof_json.h"
#include "profiler/prof_recorder.h"

#include <stddef.h>

/* reqs[0..n): the records to export (finished). */
void prof_export_chrome(prof_buf *b, const prof_secrets *s, prof_req *const *reqs, size_t n);
void prof_export_speedscope(prof_buf *b, const prof_secrets *s, prof_req *const *reqs, size_t n);

#endif
