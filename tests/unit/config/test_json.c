/* test_json.c: the JSON-loader skeleton (src/config/cfg_json.c): one-line errors with
 * FILE:LINE:COLUMN for syntax, the wrong top level named with its type, entries walked in file
 * order with their lengths, a callback's error stopping the walk, and missing files. */
#include "harness.h"
#include "tmp_files.h"

#include "config/cfg_json.h"

typedef struct seen {
    size_t begin_n, calls;
    char keys[8][16];
    size_t key_lens[8];
    const char *fail_at; /* the entry whose callback fails */
} seen;

static cfg_status on_begin(void *user, size_t n, const char *path, char *err, size_t errlen)
{
    ((seen *)user)->begin_n = n;
    return CFG_OK;
}

static cfg_status on_entry(void *user, size_t i, const char *key, size_t key_len, json_t *value,
                           const char *path, char *err, size_t errlen)
{
    seen *s = user;
    if (s->fail_at && strcmp(key, s->fail_at) == 0) {
        snprintf(err, errlen, "%s: key \"%s\": no", path, key);
        return CFG_ERR_VALUE;
    }
    if (i < 8 && i == s->calls) {
        snprintf(s->keys[i], sizeof s->keys[i], "%s", key);
        s->key_lens[i] = key_len;
    }
    s->calls++;
    return CFG_OK;
}

static cfg_status walk(const char *path, seen *s, char *err, size_t errlen)
{
    cfg_json_walk w = {"an object of things", on_begin, on_entry, s};
    return cfg_json_load_object(path, &w, err, errlen);
}

TEST(walks_entries_in_file_order)
{
    seen s = {0};
    char err[256] = "";
    const char *p = write_file("ok.json", "{\"b\": 1, \"a\": \"x\", \"\\u00fcber\": {}}");
    CHECK_EQ_INT(walk(p, &s, err, sizeof err), CFG_OK);
    CHECK_EQ_U64(s.begin_n, 3);
    CHECK_EQ_U64(s.calls, 3);
    CHECK_STR_EQ(s.keys[0], "b");
    CHECK_STR_EQ(s.keys[1], "a");
    CHECK_EQ_U64(s.key_lens[2], 5); /* bytes, not characters */
}

TEST(errors_are_one_line_with_position)
{
    seen s = {0};
    char err[256] = "";
    const char *p = write_file("syntax.json", "{\"a\": 1,\n  \"b\": }");
    CHECK_EQ_INT(walk(p, &s, err, sizeof err), CFG_ERR_JSON);
    CHECK_STR_CONTAINS(err, "syntax.json:2:");
    CHECK_STR_CONTAINS(err, "invalid JSON");
    CHECK(strchr(err, '\n') == NULL);
    CHECK_EQ_U64(s.calls, 0);

    p = write_file("array.json", "[1]");
    CHECK_EQ_INT(walk(p, &s, err, sizeof err), CFG_ERR_JSON);
    CHECK_STR_CONTAINS(err, "array.json: expected an object of things, found an array");

    p = write_file("dup.json", "{\"a\": 1, \"a\": 2}");
    CHECK_EQ_INT(walk(p, &s, err, sizeof err), CFG_ERR_JSON);
    CHECK_STR_CONTAINS(err, "dup.json:1:");

    CHECK_EQ_INT(walk(tmp_path("missing.json"), &s, err, sizeof err), CFG_ERR_FILE);
    CHECK_STR_CONTAINS(err, "missing.json: cannot read");
}

TEST(callback_error_stops_the_walk)
{
    seen s = {.fail_at = "b"};
    char err[256] = "";
    const char *p = write_file("stop.json", "{\"a\": 1, \"b\": 2, \"c\": 3}");
    CHECK_EQ_INT(walk(p, &s, err, sizeof err), CFG_ERR_VALUE);
    CHECK_EQ_U64(s.calls, 1);
    CHECK_STR_CONTAINS(err, "stop.json: key \"b\": no");
}

int main(int argc, char **argv)
{
    (void)argc;
    if (!tmp_dir_create("fastlike-json"))
        return 1;
    RUN(walks_entries_in_file_order);
    RUN(errors_are_one_line_with_position);
    RUN(callback_error_stops_the_walk);
    tmp_dir_remove();
    return harness_finish(argv[0]);
}
