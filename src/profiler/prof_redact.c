/* prof_redact.c: credential headers and secret-store values kept out of everything the profiler
 * records (see prof_redact.h). */
#include "profiler/prof_redact.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

bool prof_redact_header(const char *name, size_t len)
{
    static const char *const names[] = {"authorization", "proxy-authorization", "cookie",
                                        "set-cookie", "fastly-key"};
    for (size_t i = 0; i < sizeof names / sizeof *names; i++)
        if (strlen(names[i]) == len && strncasecmp(names[i], name, len) == 0)
            return true;
    return false;
}

struct prof_secrets {
    char **values;
    size_t *lens;
    size_t n;
};

prof_secrets *prof_secrets_new(void)
{
    return calloc(1, sizeof(prof_secrets));
}

void prof_secrets_free(prof_secrets *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->n; i++)
        free(s->values[i]);
    free(s->values);
    free(s->lens);
    free(s);
}

bool prof_secrets_add(prof_secrets *s, const char *value, size_t len)
{
    if (len < 4)
        return true;
    char **v = realloc(s->values, (s->n + 1) * sizeof *v);
    if (!v)
        return false;
    s->values = v;
    size_t *l = realloc(s->lens, (s->n + 1) * sizeof *l);
    if (!l)
        return false;
    s->lens = l;
    char *copy = malloc(len);
    if (!copy)
        return false;
    memcpy(copy, value, len);
    s->values[s->n] = copy;
    s->lens[s->n] = len;
    s->n++;
    return true;
}

size_t prof_secrets_count(const prof_secrets *s)
{
    return s ? s->n : 0;
}

/* The length of the secret starting at text[i], or 0 (the longest match wins). */
static size_t match_at(const prof_secrets *s, const char *text, size_t len, size_t i)
{
    size_t best = 0;
    for (size_t k = 0; s && k < s->n; k++)
        if (s->lens[k] > best && s->lens[k] <= len - i &&
            memcmp(text + i, s->values[k], s->lens[k]) == 0)
            best = s->lens[k];
    return best;
}

char *prof_secrets_scrub(const prof_secrets *s, const char *text, size_t len, size_t *out_len)
{
    /* two passes: measure, then write */
    size_t need = 0;
    for (size_t i = 0; i < len;) {
        size_t m = match_at(s, text, len, i);
        need += m ? sizeof PROF_REDACTED - 1 : 1;
        i += m ? m : 1;
    }
    char *out = malloc(need + 1);
    if (!out)
        return NULL;
    size_t o = 0;
    for (size_t i = 0; i < len;) {
        size_t m = match_at(s, text, len, i);
        if (m) {
            memcpy(out + o, PROF_REDACTED, sizeof PROF_REDACTED - 1);
            o += sizeof PROF_REDACTED - 1;
            i += m;
        } else {
            out[o++] = text[i++];
        }
    }
    out[o] = '\0';
    if (out_len)
        *out_len = o;
    return out;
}
