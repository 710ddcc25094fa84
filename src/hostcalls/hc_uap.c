/* hc_uap.c: fastly_uap.parse with the uap-core user-agent database (Debian package uap-core,
 * regexes.yaml; FASTLIKE_UAP_REGEXES names another copy). The user_agent_parsers section is read
 * once per process at first use (libyaml) and compiled with PCRE2; the first matching regex gives
 * family/major/minor/patch as in the uap spec. */
#include "hc_uap.h"

#include "hc_hostcall.h"
#include "util/util_str.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

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

/* The scalar node `n` as a NUL-terminated string (libyaml keeps it so), or NULL. */
static const char *scalar(const yaml_node_t *n)
{
    return n && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

/* The value of `key` in mapping node `map`, or NULL. */
static yaml_node_t *map_get(yaml_document_t *doc, const yaml_node_t *map, const char *key)
{
    if (!map || map->type != YAML_MAPPING_NODE)
        return NULL;
    for (const yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top;
         p++) {
        const char *k = scalar(yaml_document_get_node(doc, p->key));
        if (k && strcmp(k, key) == 0)
            return yaml_document_get_node(doc, p->value);
    }
    return NULL;
}

/* One user_agent_parsers entry: its regex (skipped when PCRE2 refuses it) and replacements. */
static void add_entry(yaml_document_t *doc, const yaml_node_t *entry)
{
    static const char *const keys[4] = {"family_replacement", "v1_replacement", "v2_replacement",
                                        "v3_replacement"};
    const char *re = scalar(map_get(doc, entry, "regex"));
    if (!re || !add_parser(re))
        return;
    uap_parser *p = &uap_parsers[uap_count - 1];
    for (int k = 0; k < 4; k++) {
        const char *v = scalar(map_get(doc, entry, keys[k]));
        if (v)
            p->repl[k] = util_strdup(v);
    }
}

static void uap_load(void)
{
    const char *path = getenv("FASTLIKE_UAP_REGEXES");
    FILE *f = fopen(path && *path ? path : UAP_DEFAULT_PATH, "rb");
    if (!f)
        return;
    yaml_parser_t parser;
    yaml_document_t doc;
    if (!yaml_parser_initialize(&parser)) {
        fclose(f);
        return;
    }
    yaml_parser_set_input_file(&parser, f);
    if (yaml_parser_load(&parser, &doc)) {
        const yaml_node_t *list =
            map_get(&doc, yaml_document_get_root_node(&doc), "user_agent_parsers");
        if (list && list->type == YAML_SEQUENCE_NODE)
            for (const yaml_node_item_t *i = list->data.sequence.items.start;
                 i < list->data.sequence.items.top; i++)
                add_entry(&doc, yaml_document_get_node(&doc, *i));
        yaml_document_delete(&doc);
    }
    yaml_parser_delete(&parser);
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
