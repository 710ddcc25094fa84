/* prof_firefox.h: Viceroy's `--profile=guest[,DIR]` output: one Firefox Profiler JSON file per
 * request (Gecko profile format, which profiler.firefox.com opens) from the guest stack samples,
 * with hostcalls as markers. */
#ifndef PROF_FIREFOX_H
#define PROF_FIREFOX_H

#include "profiler/prof_json.h"
#include "profiler/prof_record.h"

#include <stdbool.h>
#include <stddef.h>

#define PROF_GUEST_DIR_DEFAULT "guest-profiles" /* Viceroy's default DIR */

/* The profile of finished record r. */
void prof_firefox_profile(prof_buf *b, prof_req *r);
/* Writes it to DIR/<start epoch ms>-<request id>.json (DIR is made when missing). False with a
 * one-line reason in err on failure. */
bool prof_firefox_write_file(const char *dir, prof_req *r, char *err, size_t errlen);

#endif
