/* hc_uap.c: fastly_uap.parse with the uap-core user-agent database (Debian package uap-core,
 * regexes.yaml; FASTLIKE_UAP_REGEXES names another copy). The user_agent_parsers section is read
 * once per process at first use (a small reader for the YAML subset that file uses) and compiled
 * with PCRE2; the first matching regex gives family/major/minor/patch as in the uap spec. */
#include "hc_uap.h"

#include "hc_hostcall.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define UAP_DEFAULT_PATH "/usr/share/uap-core/regexes.yaml" /* Debian's uap-core */
#define UAP_FIELD_MAX 256

typedef struct uap_parser {
    pcre2_code *re;
    char *repl[4]; /* family, v1, v2, v3 replacements (NULL: use the capture group) */
} uap_parser;

/* Read-only after the one-time load. */
static uap_parser *uap_parsers;
static size_t uap_count;
static pthread_once_t uap_once = PTHREAD_ONCE_INIT;

/* Unquotes a YAML scalar ('single' with '' escapes, "double" with \x escapes, or plain). */
static char *yaml_scalar(const char *s)
{
    size_t len = strlen(s);
    while (len > 0 && (s[len - 1] == '\n' || s[len - 1] == '\r' || s[len - 1] == ' '))
        len--;
    char *out = malloc(len + 1);
    if (!out)
        return NULL;
    size_t o = 0;
    if (len >= 2 && s[0] == '\'' && s[len - 1] == '\'') {
        for (size_t i = 1; i + 1 < len; i++) {
            out[o++] = s[i];
            if (s[i] == '\'' && s[i + 1] == '\'')
                i++;
        }
    } else if (len >= 2 && s[0] == '"' && s[len - 1] == '"') {
        for (size_t i = 1; i + 1 < len; i++) {
            if (s[i] == '\\' && i + 2 < len) {
                i++;
                out[o++] = s[i] == 'n' ? '\n' : s[i] == 't' ? '\t' : s[i];
            } else {
                out[o++] = s[i];
            }
        }
    } else {
        memcpy(out, s, len);
        o = len;
    }
    out[o] = '\0';
    return out;
}

static bool add_parser(const char *regex)
{
    uap_parser *p = realloc(uap_parsers, (uap_count + 1) * sizeof *p);
    if (!p)
        return false;
    uap_parsers = p;
    int err;
    PCRE2_SIZE off;
    pcre2_code *re = pcre2_compile((PCRE2_SPTR)regex, PCRE2_ZERO_TERMINATED, 0, &err, &off, NULL);
    if (!re)
        return false; /* skipped: a pattern PCRE2 does not take */
    pcre2_jit_compile(re, PCRE2_JIT_COMPLETE);
    memset(&uap_parsers[uap_count], 0, sizeof uap_parsers[0]);
    uap_parsers[uap_count++].re = re;
    return true;
}

static void uap_load(void)
{
    const char *path = getenv("FASTLIKE_UAP_REGEXES");
    FILE *f = fopen(path && *path ? path : UAP_DEFAULT_PATH, "r");
    if (!f)
        return;
    static const char *const keys[4] = {
        "family_replacement:", "v1_replacement:", "v2_replacement:", "v3_replacement:"};
    char line[4096];
    bool in_section = false, have_entry = false;
    while (fgets(line, sizeof line, f)) {
        if (line[0] != ' ' && line[0] != '#' && line[0] != '\n') {
            in_section = strncmp(line, "user_agent_parsers:", 19) == 0;
            continue;
        }
        if (!in_section)
            continue;
        const char *s = line;
        while (*s == ' ')
            s++;
        if (strncmp(s, "- regex:", 8) == 0) {
            char *re = yaml_scalar(s + 8 + strspn(s + 8, " "));
            have_entry = re && add_parser(re);
            free(re);
            continue;
        }
        for (int k = 0; k < 4 && have_entry; k++) {
            size_t kl = strlen(keys[k]);
            if (strncmp(s, keys[k], kl) == 0) {
                uap_parser *p = &uap_parsers[uap_count - 1];
                free(p->repl[k]);
                p->repl[k] = yaml_scalar(s + kl + strspn(s + kl, " "));
            }
        }
    }
    fclose(f);
}

/* Group `g` of the match (empty when it did not participate). */
static void group(const char *ua, PCRE2_SIZE *ov, int rc, int g, const char **s, size_t *len)
{
    *s = "";
    *len = 0;
    if (g < rc && ov[2 * g] != PCRE2_UNSET) {
        *s = ua + ov[2 * g];
        *len = ov[2 * g + 1] - ov[2 * g];
    }
}

/* Expands $1..$9 in `repl` into out (bounded), trimming surrounding spaces. */
static size_t expand(const char *repl, const char *ua, PCRE2_SIZE *ov, int rc, char *out)
{
    size_t o = 0;
    for (const char *p = repl; *p && o < UAP_FIELD_MAX; p++) {
        if (p[0] == '$' && p[1] >= '1' && p[1] <= '9') {
            const char *g;
            size_t gl;
            group(ua, ov, rc, p[1] - '0', &g, &gl);
            for (size_t i = 0; i < gl && o < UAP_FIELD_MAX; i++)
                out[o++] = g[i];
            p++;
        } else {
            out[o++] = *p;
        }
    }
    size_t start = 0;
    while (start < o && out[start] == ' ')
        start++;
    while (o > start && out[o - 1] == ' ')
        o--;
    memmove(out, out + start, o - start);
    return o - start;
}

bool hc_uap_parse(const char *ua, size_t ua_len, char out[4][UAP_FIELD_MAX + 1], size_t lens[4])
{
    pthread_once(&uap_once, uap_load);
    if (uap_count == 0)
        return false;
    for (int i = 0; i < 4; i++)
        lens[i] = 0;
    memcpy(out[0], "Other", 5);
    lens[0] = 5;
    pcre2_match_data *md = pcre2_match_data_create(10, NULL);
    if (!md)
        return false;
    for (size_t i = 0; i < uap_count; i++) {
        const uap_parser *p = &uap_parsers[i];
        int rc = pcre2_match(p->re, (PCRE2_SPTR)ua, ua_len, 0, 0, md, NULL);
        if (rc < 0)
            continue;
        if (rc == 0)
            rc = 10;
        PCRE2_SIZE *ov = pcre2_get_ovector_pointer(md);
        for (int k = 0; k < 4; k++) {
            if (p->repl[k]) {
                lens[k] = expand(p->repl[k], ua, ov, rc, out[k]);
            } else {
                const char *g;
                size_t gl;
                group(ua, ov, rc, k + 1, &g, &gl);
                lens[k] = gl < UAP_FIELD_MAX ? gl : UAP_FIELD_MAX;
                memcpy(out[k], g, lens[k]);
            }
        }
        if (lens[0] == 0) {
            memcpy(out[0], "Other", 5);
            lens[0] = 5;
        }
        break;
    }
    pcre2_match_data_free(md);
    return true;
}

static fwe_trap_kind uap_parse(fwe_caller *caller, uint64_t *slots, void *data)
{
    const char *ua = (const char *)hc_mem_slice(caller, HC_ARG(0), HC_ARG(1));
    if (!ua)
        HC_RETURN(HC_INVAL);
    /* copy: the outputs may overlap the input in guest memory */
    char *copy = malloc((size_t)HC_ARG(1) + 1);
    if (!copy)
        HC_RETURN(HC_ERROR);
    memcpy(copy, ua, HC_ARG(1));
    char out[4][UAP_FIELD_MAX + 1];
    size_t lens[4];
    bool ok = hc_uap_parse(copy, HC_ARG(1), out, lens);
    free(copy);
    if (!ok) {
        hc_log(hc_caller_ctx(caller), 1, "fastly_uap.parse: no uap-core regexes (%s)",
               UAP_DEFAULT_PATH);
        HC_RETURN(HC_UNSUPPORTED);
    }
    /* (buf, len, nwritten) for family, major, minor, patch in turn; a too-small buffer is
     * buflen with the needed size written for that field */
    for (int k = 0; k < 4; k++) {
        hc_status st = hc_mem_copy_out(caller, HC_ARG(2 + 3 * k), HC_ARG(3 + 3 * k),
                                       HC_ARG(4 + 3 * k), out[k], lens[k]);
        if (st != HC_OK)
            HC_RETURN(st);
    }
    HC_RETURN(HC_OK);
}

const hc_impl hc_uap_impls[] = {
    {"fastly_uap", "parse", uap_parse},
    {NULL, NULL, NULL},
};
