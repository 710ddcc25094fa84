/* test_toml_suite.c: the toml-test conformance suite (third_party/toml-test, or $TOML_TEST_DIR) run
 * against cfg_toml: every TOML 1.0 valid file must decode to its expected tagged JSON (compared by
 * value with jansson) and every TOML 1.0 invalid file must be rejected. Files only in the 1.1 list
 * are skipped and counted. tests/unit/config/toml-known-failures.txt lists accepted failures; a
 * listed file that passes is an error too, so the list can only shrink. */
#include "config/cfg_toml.h"
#include "util/util_grow.h"

#include <dirent.h>
#include <jansson.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define KNOWN_FAILURES "tests/unit/config/toml-known-failures.txt"

typedef struct strlist {
    char **items;
    size_t count, cap;
} strlist;

static void strlist_add(strlist *l, const char *s, size_t n)
{
    if (!util_grow((void **)&l->items, &l->cap, l->count + 1, 64, sizeof *l->items)) {
        fprintf(stderr, "out of memory\n");
        exit(1);
    }
    char *c = malloc(n + 1);
    if (!c) {
        fprintf(stderr, "out of memory\n");
        exit(1);
    }
    memcpy(c, s, n);
    c[n] = '\0';
    l->items[l->count++] = c;
}

static bool strlist_has(const strlist *l, const char *s)
{
    for (size_t i = 0; i < l->count; i++)
        if (strcmp(l->items[i], s) == 0)
            return true;
    return false;
}

static void strlist_free(strlist *l)
{
    for (size_t i = 0; i < l->count; i++)
        free(l->items[i]);
    free(l->items);
}

/* Reads a file of one entry per line ('#' comments and blank lines skipped). */
static bool read_lines(const char *path, strlist *out)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return false;
    char line[1024];
    while (fgets(line, sizeof line, f)) {
        size_t n = strcspn(line, "\r\n");
        line[n] = '\0';
        if (n == 0 || line[0] == '#')
            continue;
        strlist_add(out, line, n);
    }
    fclose(f);
    return true;
}

static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 0, n = 0;
    char *buf = NULL;
    while (util_grow((void **)&buf, &cap, n + 1, 4096, 1)) {
        n += fread(buf + n, 1, cap - n, f);
        if (n < cap)
            break;
    }
    if (n == cap) { /* out of memory */
        free(buf);
        buf = NULL;
    }
    fclose(f);
    *len = n;
    return buf;
}

/* Every *.toml under dir/sub, as "sub/..." paths. */
static void walk(const char *root, const char *rel, strlist *out)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", root, rel);
    DIR *d = opendir(path);
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        char sub[1024];
        snprintf(sub, sizeof sub, "%s/%s", rel, e->d_name);
        char full[2048];
        snprintf(full, sizeof full, "%s/%s", root, sub);
        struct stat st;
        if (stat(full, &st) != 0)
            continue;
        if (S_ISDIR(st.st_mode)) {
            walk(root, sub, out);
        } else {
            size_t n = strlen(sub);
            if (n > 5 && strcmp(sub + n - 5, ".toml") == 0)
                strlist_add(out, sub, n);
        }
    }
    closedir(d);
}

/* Canonical form of a date-time text: 'T' and 'Z' upper case, a space separator as 'T', fraction
 * without trailing zeros, +00:00 / -00:00 as Z. */
static void norm_datetime(const char *in, char *out, size_t n)
{
    size_t j = 0;
    for (size_t i = 0; in[i] && j + 1 < n; i++) {
        char c = in[i];
        if (c == 't' || (c == ' ' && i == 10))
            c = 'T';
        if (c == 'z')
            c = 'Z';
        out[j++] = c;
    }
    out[j] = '\0';
    char *dot = strchr(out, '.');
    if (dot) {
        char *e = dot + 1;
        while (*e >= '0' && *e <= '9')
            e++;
        char *last = e;
        while (last > dot + 1 && last[-1] == '0')
            last--;
        if (last == dot + 1)
            last = dot;
        memmove(last, e, strlen(e) + 1);
    }
    size_t len = strlen(out);
    if (len >= 6 && (strcmp(out + len - 6, "+00:00") == 0 || strcmp(out + len - 6, "-00:00") == 0))
        memcpy(out + len - 6, "Z", 2);
}

static const char *tag_of(cfg_toml_type t)
{
    switch (t) {
    case CFG_TOML_STRING:
        return "string";
    case CFG_TOML_INTEGER:
        return "integer";
    case CFG_TOML_FLOAT:
        return "float";
    case CFG_TOML_BOOL:
        return "bool";
    case CFG_TOML_DATETIME:
        return "datetime";
    case CFG_TOML_DATETIME_LOCAL:
        return "datetime-local";
    case CFG_TOML_DATE_LOCAL:
        return "date-local";
    case CFG_TOML_TIME_LOCAL:
        return "time-local";
    default:
        return "?";
    }
}

/* jansson cannot hold NUL in object keys, so an expected file with "\u0000" is loaded with the
 * noncharacter U+FDD0 in its place (nul_subst), and decoded text is compared with NUL read as
 * U+FDD0. */
static bool nul_subst;

static bool text_eq(const char *mine, size_t mlen, const char *want, size_t wlen)
{
    if (!nul_subst)
        return mlen == wlen && memcmp(mine, want, mlen) == 0;
    size_t j = 0;
    for (size_t i = 0; i < mlen; i++) {
        if (mine[i] == '\0') {
            if (j + 3 > wlen || memcmp(want + j, "\xEF\xB7\x90", 3) != 0)
                return false;
            j += 3;
        } else if (j >= wlen || want[j++] != mine[i]) {
            return false;
        }
    }
    return j == wlen;
}

static json_t *find_key(json_t *obj, const char *key, size_t len)
{
    const char *k;
    size_t klen;
    json_t *v;
    json_object_keylen_foreach(obj, k, klen, v)
    {
        if (text_eq(key, len, k, klen))
            return v;
    }
    return NULL;
}

/* Loads the expected JSON, with the NUL workaround when needed. */
static json_t *load_expected(const char *path, json_error_t *je)
{
    nul_subst = false;
    size_t len = 0;
    char *text = read_file(path, &len);
    if (!text) {
        snprintf(je->text, sizeof je->text, "cannot read the file");
        return NULL;
    }
    json_t *j = json_loadb(text, len, JSON_ALLOW_NUL, je);
    if (!j) {
        for (size_t i = 0; i + 6 <= len; i++) {
            size_t bs = 0; /* an escaped backslash before it makes it plain text */
            while (bs < i && text[i - 1 - bs] == '\\')
                bs++;
            if (bs % 2 == 0 && memcmp(text + i, "\\u0000", 6) == 0) {
                memcpy(text + i, "\\uFDD0", 6);
                nul_subst = true;
            }
        }
        if (nul_subst)
            j = json_loadb(text, len, JSON_ALLOW_NUL, je);
    }
    free(text);
    return j;
}

/* Compares a decoded value with the expected tagged JSON; on a difference writes why to why. */
static bool same(const cfg_toml_value *v, json_t *want, const char *where, char *why, size_t n)
{
    if (v->type == CFG_TOML_TABLE) {
        if (!json_is_object(want) || json_object_size(want) != v->u.table.count) {
            snprintf(why, n, "%s: table with %zu keys, expected %s", where, v->u.table.count,
                     json_is_object(want) ? "another key count" : "no table");
            return false;
        }
        for (size_t i = 0; i < v->u.table.count; i++) {
            const cfg_toml_pair *pr = &v->u.table.items[i];
            json_t *w = find_key(want, pr->key, pr->key_len);
            char sub[512];
            snprintf(sub, sizeof sub, "%s.%s", where, pr->key);
            if (!w) {
                snprintf(why, n, "%s: unexpected key", sub);
                return false;
            }
            if (!same(pr->value, w, sub, why, n))
                return false;
        }
        return true;
    }
    if (v->type == CFG_TOML_ARRAY) {
        if (!json_is_array(want) || json_array_size(want) != v->u.array.count) {
            snprintf(why, n, "%s: array of %zu, expected %s", where, v->u.array.count,
                     json_is_array(want) ? "another length" : "no array");
            return false;
        }
        for (size_t i = 0; i < v->u.array.count; i++) {
            char sub[512];
            snprintf(sub, sizeof sub, "%s[%zu]", where, i);
            if (!same(v->u.array.items[i], json_array_get(want, i), sub, why, n))
                return false;
        }
        return true;
    }
    json_t *type = json_object_get(want, "type");
    json_t *val = json_object_get(want, "value");
    if (!json_is_string(type) || !json_is_string(val)) {
        snprintf(why, n, "%s: got a %s, expected a table or array", where,
                 cfg_toml_type_name(v->type));
        return false;
    }
    const char *t = json_string_value(type);
    const char *s = json_string_value(val);
    if (strcmp(t, tag_of(v->type)) != 0) {
        snprintf(why, n, "%s: type %s, expected %s", where, tag_of(v->type), t);
        return false;
    }
    bool ok = true;
    char got[128] = "";
    switch (v->type) {
    case CFG_TOML_STRING:
        ok = text_eq(v->u.s.ptr, v->u.s.len, s, json_string_length(val));
        snprintf(got, sizeof got, "%.100s", v->u.s.ptr);
        break;
    case CFG_TOML_INTEGER:
        ok = strtoll(s, NULL, 10) == v->u.i;
        snprintf(got, sizeof got, "%lld", (long long)v->u.i);
        break;
    case CFG_TOML_FLOAT: {
        double want_f = strtod(s, NULL);
        ok = (isnan(want_f) && isnan(v->u.f)) || want_f == v->u.f;
        snprintf(got, sizeof got, "%.17g", v->u.f);
        break;
    }
    case CFG_TOML_BOOL:
        ok = strcmp(s, v->u.b ? "true" : "false") == 0;
        snprintf(got, sizeof got, "%s", v->u.b ? "true" : "false");
        break;
    default: {
        char a[64], b[64];
        cfg_toml_datetime_format(v, got, sizeof got);
        norm_datetime(got, a, sizeof a);
        norm_datetime(s, b, sizeof b);
        ok = strcmp(a, b) == 0;
        break;
    }
    }
    if (!ok)
        snprintf(why, n, "%s: got %s, expected %s", where, got, s);
    return ok;
}

int main(void)
{
    const char *dir = getenv("TOML_TEST_DIR");
    if (!dir || !*dir)
        dir = "third_party/toml-test/tests";
    char path[2048];
    strlist list = {0}, all = {0}, known = {0};
    snprintf(path, sizeof path, "%s/files-toml-1.0.0", dir);
    if (!read_lines(path, &list)) {
        fprintf(stderr, "toml-test: cannot read %s (set TOML_TEST_DIR)\n", path);
        printf("test_toml_suite: 0 passed, 1 failed\n");
        return 1;
    }
    read_lines(KNOWN_FAILURES, &known);
    walk(dir, "valid", &all);
    walk(dir, "invalid", &all);
    int valid_ok = 0, invalid_ok = 0, failed = 0, known_failed = 0, skipped = 0;
    for (size_t i = 0; i < all.count; i++)
        if (!strlist_has(&list, all.items[i]))
            skipped++;
    for (size_t i = 0; i < list.count; i++) {
        const char *rel = list.items[i];
        size_t rl = strlen(rel);
        if (rl < 5 || strcmp(rel + rl - 5, ".toml") != 0)
            continue;
        bool valid = strncmp(rel, "valid/", 6) == 0;
        snprintf(path, sizeof path, "%s/%s", dir, rel);
        size_t len = 0;
        char *buf = read_file(path, &len);
        char why[1024] = "";
        bool pass = false;
        if (!buf) {
            snprintf(why, sizeof why, "cannot read the file");
        } else {
            cfg_toml_error te;
            cfg_toml_value *root = cfg_toml_parse(buf, len, &te);
            if (valid) {
                if (!root) {
                    snprintf(why, sizeof why, "rejected: %u:%u: %s", te.line, te.column, te.msg);
                } else {
                    char jpath[2048];
                    snprintf(jpath, sizeof jpath, "%s/%.*s.json", dir, (int)(rl - 5), rel);
                    json_error_t je;
                    json_t *want = load_expected(jpath, &je);
                    if (!want)
                        snprintf(why, sizeof why, "expected JSON: %s", je.text);
                    else
                        pass = same(root, want, "", why, sizeof why);
                    json_decref(want);
                }
            } else {
                pass = root == NULL;
                if (!pass)
                    snprintf(why, sizeof why, "accepted, but it is invalid TOML 1.0");
            }
            cfg_toml_free(root);
        }
        free(buf);
        bool listed = strlist_has(&known, rel);
        if (pass && listed) {
            printf("toml-test: %s passes now: remove it from %s\n", rel, KNOWN_FAILURES);
            failed++;
        } else if (pass) {
            if (valid)
                valid_ok++;
            else
                invalid_ok++;
        } else if (listed) {
            known_failed++;
        } else {
            printf("toml-test: FAIL %s: %s\n", rel, why);
            failed++;
        }
    }
    printf("toml-test: %d valid passed, %d invalid rejected, %d failed", valid_ok, invalid_ok,
           failed);
    if (known_failed)
        printf(" (%d known failures in %s)", known_failed, KNOWN_FAILURES);
    printf("; %d TOML 1.1-only files skipped\n", skipped);
    printf("test_toml_suite: %d passed, %d failed\n", valid_ok + invalid_ok, failed);
    strlist_free(&list);
    strlist_free(&all);
    strlist_free(&known);
    return failed ? 1 : 0;
}
