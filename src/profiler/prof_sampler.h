/* prof_sampler.h: native CPU sampling of the threads running guest requests. Each sample takes
 * the guest's wasm call stack (fwe_thread_stack) in a SIGPROF handler on the sampled thread; at
 * the end of the request the stacks are counted into the record with their function names. The
 * timer is a perf_event_open CPU-clock counter per thread where the kernel permits it, else a
 * per-thread CPU-time POSIX timer (SIGPROF). */
#ifndef PROF_SAMPLER_H
#define PROF_SAMPLER_H

#include "profiler/prof_record.h"

#include <stdbool.h>
#include <stddef.h>

#define PROF_SAMPLE_HZ 1000

typedef struct prof_sampler prof_sampler;

/* Installs the SIGPROF handler and picks the timer. `how` receives one line saying which timer
 * and why (e.g. perf_event_paranoid). NULL with the reason in `how` when neither works. */
prof_sampler *prof_sampler_new(unsigned hz, char *how, size_t howlen);
void prof_sampler_free(prof_sampler *s); /* accepts NULL; no request may be sampled */
/* True when the sampler uses perf_event_open. */
bool prof_sampler_uses_perf(const prof_sampler *s);

/* Starts sampling the calling thread for record r; prof_sampler_end stops it and adds the
 * samples (stacks and function names) to r. Both on the thread running the request. */
void prof_sampler_begin(prof_sampler *s, prof_req *r);
void prof_sampler_end(prof_sampler *s, prof_req *r);

#endif
