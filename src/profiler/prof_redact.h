/* prof_redact.h: what the profiler never shows: the values of credential headers
 * (Authorization, Proxy-Authorization, Cookie, Set-Cookie, Fastly-Key) and any configured
 * secret-store value wherever it would appear in recorded text (guest output, URLs). */
#ifndef PROF_REDACT_H
#define PROF_REDACT_H

#include <stdbool.h>
#include <stddef.h>

#define PROF_REDACTED "[redacted]"

/* True when the value of header `name` (any case) must not be shown. */
bool prof_redact_header(const char *name, size_t len);

/* The secret values to scrub (copied); values shorter than 4 bytes are not scrubbed (they would
 * blank ordinary text). */
typedef struct prof_secrets prof_secrets;
prof_secrets *prof_secrets_new(void);
void prof_secrets_free(prof_secrets *s); /* accepts NULL */
bool prof_secrets_add(prof_secrets *s, const char *value, size_t len);
/* How many values are scrubbed (0 for NULL). */
size_t prof_secrets_count(const prof_secrets *s);
/* A copy of text[0..len) (NUL-terminated, *out_len set) with every secret replaced by
 * PROF_REDACTED; s may be NULL. NULL when out of memory. */
char *prof_secrets_scrub(const prof_secrets *s, const char *text, size_t len, size_t *out_len);

#endif
