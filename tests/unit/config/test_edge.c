/* test_edge.c: the edge data a server is configured with (src/config/cfg_edge.c): every kind's
 * adder loads its file and is found by (name, len); bad names, repeated names (per kind), missing
 * paths and bad files fail with a message that leaves the kind to the caller, and leave the
 * cfg_edge unchanged; geo replaces and clears; loggers create their file; deinit frees it all;
 * the in-memory adders take over sorted entries and cfg_edge_merge keeps what dst has. */
#include "harness.h"
#include "tmp_files.h"

#include "config/cfg_edge.h"

#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

/* The three "JSON object of strings" kinds share one signature. */
typedef cfg_status (*string_add_fn)(cfg_edge *e, const char *name, const char *path, char *err,
                                    size_t errlen);
typedef const cfg_dictionary *(*string_get_fn)(const cfg_edge *e, const char *name,
                                               size_t name_len);

/* The struct itself (arrays, counts, geo) is the same as in the snapshot. */
static bool same_edge(const cfg_edge *a, const cfg_edge *b)
{
    return memcmp(a, b, sizeof *a) == 0;
}

static void check_string_kind(string_add_fn add, string_get_fn get)
{
    char err[1024];
    cfg_edge e;
    cfg_edge_init(&e);
    const char *good = write_file("strings.json", "{\"k\": \"v\", \"k2\": \"v2\"}");
    err[0] = '\0';
    CHECK_EQ_INT(add(&e, "one", good, err, sizeof err), CFG_OK);
    CHECK_STR_EQ(err, "");
    CHECK_EQ_INT(add(&e, "two", good, err, sizeof err), CFG_OK);
    const cfg_dictionary *d = get(&e, "twox", 3); /* a slice, not a C string */
    CHECK(d != NULL);
    if (d) {
        CHECK_STR_EQ(d->name, "two");
        CHECK_STR_EQ(d->path, good);
        CHECK_EQ_INT(d->items.count, 2);
    }
    CHECK(get(&e, "on", 2) == NULL);
    CHECK(get(&e, "three", 5) == NULL);

    /* Failures: the message leaves the kind out, and nothing changes. */
    cfg_edge snap = e;
    CHECK_EQ_INT(add(&e, "one", good, err, sizeof err), CFG_ERR_VALUE);
    CHECK_STR_EQ(err, "'one' is given twice");
    CHECK_EQ_INT(add(&e, "a b", good, err, sizeof err), CFG_ERR_VALUE);
    CHECK_STR_EQ(err, "name 'a b' is invalid (non-empty printable ASCII, no spaces or '=')");
    CHECK_EQ_INT(add(&e, "a=b", good, err, sizeof err), CFG_ERR_VALUE);
    CHECK_EQ_INT(add(&e, "", good, err, sizeof err), CFG_ERR_VALUE);
    CHECK_EQ_INT(add(&e, NULL, good, err, sizeof err), CFG_ERR_VALUE);
    CHECK_STR_EQ(err, "name '' is invalid (non-empty printable ASCII, no spaces or '=')");
    CHECK_EQ_INT(add(&e, "nofile", NULL, err, sizeof err), CFG_ERR_VALUE);
    CHECK_STR_EQ(err, "'nofile' needs a JSON file");
    CHECK_EQ_INT(add(&e, "nofile", "", err, sizeof err), CFG_ERR_VALUE);
    CHECK_EQ_INT(add(&e, "bad", write_file("syntax.json", "{\"a\": }"), err, sizeof err),
                 CFG_ERR_JSON);
    CHECK_STR_CONTAINS(err, "syntax.json:1:7: invalid JSON");
    CHECK_EQ_INT(add(&e, "bad", write_file("type.json", "{\"n\": 1}"), err, sizeof err),
                 CFG_ERR_JSON);
    CHECK_STR_CONTAINS(err, "key \"n\": value must be a string, found a number");
    /* found by fuzz_json_edge: a newline quoted from the file (by jansson, or in a key) made the
     * error two lines */
    CHECK_EQ_INT(
        add(&e, "bad", write_file("nl.json", "{\"city\\\n00e9\": \"x\"}"), err, sizeof err),
        CFG_ERR_JSON);
    CHECK_STR_CONTAINS(err, "nl.json:2:0: invalid JSON: invalid escape"); /* + near '"city\?' */
    CHECK(strchr(err, '\n') == NULL);
    CHECK_EQ_INT(add(&e, "bad", write_file("nlkey.json", "{\"a\\nb\": 1}"), err, sizeof err),
                 CFG_ERR_JSON);
    CHECK_STR_CONTAINS(err, "key \"a?b\": value must be a string, found a number");
    CHECK(strchr(err, '\n') == NULL);
    CHECK_EQ_INT(add(&e, "bad", tmp_path("missing.json"), err, sizeof err), CFG_ERR_FILE);
    CHECK_STR_CONTAINS(err, "missing.json: cannot read");
    CHECK(same_edge(&e, &snap));
    CHECK(get(&e, "bad", 3) == NULL);
    cfg_edge_deinit(&e);
}

TEST(string_kinds)
{
    check_string_kind(cfg_edge_add_dictionary, cfg_edge_dictionary);
    check_string_kind(cfg_edge_add_config_store, cfg_edge_config_store);
    check_string_kind(cfg_edge_add_secret_store, cfg_edge_secret_store);
}

/* Each kind has its own names; a store is found only under its kind. */
TEST(kinds_have_separate_names)
{
    char err[1024];
    cfg_edge e;
    cfg_edge_init(&e);
    const char *strings = write_file("kinds.json", "{\"k\": \"v\"}");
    CHECK_EQ_INT(cfg_edge_add_dictionary(&e, "same", strings, err, sizeof err), CFG_OK);
    CHECK_EQ_INT(cfg_edge_add_config_store(&e, "same", strings, err, sizeof err), CFG_OK);
    CHECK_EQ_INT(cfg_edge_add_secret_store(&e, "same", strings, err, sizeof err), CFG_OK);
    CHECK_EQ_INT(cfg_edge_add_kv_store(&e, "same", strings, err, sizeof err), CFG_OK);
    CHECK_EQ_INT(cfg_edge_add_acl(&e, "same", write_file("kinds_acl.json", "{\"entries\": []}"),
                                  err, sizeof err),
                 CFG_OK);
    CHECK_EQ_INT(cfg_edge_add_logger(&e, "same", NULL, err, sizeof err), CFG_OK);
    CHECK(cfg_edge_dictionary(&e, "same", 4) == e.dictionaries);
    CHECK(cfg_edge_config_store(&e, "same", 4) == e.config_stores);
    CHECK(cfg_edge_secret_store(&e, "same", 4) == e.secret_stores);
    CHECK(cfg_edge_kv_store(&e, "same", 4) == e.kv_stores);
    CHECK(cfg_edge_acl(&e, "same", 4) == e.acls);
    CHECK(cfg_edge_logger(&e, "same", 4) == e.loggers);
    CHECK(cfg_edge_dictionary(&e, "other", 5) == NULL && cfg_edge_acl(&e, "other", 5) == NULL);
    cfg_edge_deinit(&e);
    CHECK_EQ_INT(e.ndictionaries + e.nconfig_stores + e.nsecret_stores + e.nkv_stores + e.nacls +
                     e.nloggers,
                 0);
    CHECK(e.dictionaries == NULL && e.loggers == NULL && e.geo == NULL);
    cfg_edge_deinit(&e); /* twice is harmless */
    cfg_edge_deinit(NULL);
}

TEST(kv_store)
{
    char err[1024];
    cfg_edge e;
    cfg_edge_init(&e);
    const char *file = write_file("kv.json", "{\"plain\": \"v\", \"meta\": {\"body\": \"b\", "
                                             "\"metadata\": \"m\"}}");
    CHECK_EQ_INT(cfg_edge_add_kv_store(&e, "store", file, err, sizeof err), CFG_OK);
    CHECK_EQ_INT(cfg_edge_add_kv_store(&e, "empty", NULL, err, sizeof err), CFG_OK);
    const cfg_kv_store *kv = cfg_edge_kv_store(&e, "store", 5);
    CHECK(kv && kv->count == 2 && strcmp(kv->name, "store") == 0 && strcmp(kv->path, file) == 0);
    if (kv) {
        const cfg_kv_entry *m = cfg_kv_store_get(kv, "meta", 4);
        CHECK(m && strcmp(m->body, "b") == 0 && m->metadata && strcmp(m->metadata, "m") == 0);
    }
    kv = cfg_edge_kv_store(&e, "empty", 5);
    CHECK(kv && kv->count == 0 && kv->path == NULL);

    cfg_edge snap = e;
    CHECK_EQ_INT(cfg_edge_add_kv_store(&e, "empty", file, err, sizeof err), CFG_ERR_VALUE);
    CHECK_STR_EQ(err, "'empty' is given twice");
    CHECK_EQ_INT(
        cfg_edge_add_kv_store(&e, "bad", write_file("kvbad.json", "{\"k\": 1}"), err, sizeof err),
        CFG_ERR_JSON);
    CHECK_STR_CONTAINS(err, "kvbad.json: key \"k\"");
    CHECK_EQ_INT(cfg_edge_add_kv_store(&e, "bad", "", err, sizeof err), CFG_ERR_FILE);
    CHECK_EQ_INT(cfg_edge_add_kv_store(&e, "with space", NULL, err, sizeof err), CFG_ERR_VALUE);
    CHECK(same_edge(&e, &snap));
    cfg_edge_deinit(&e);
}

TEST(acl)
{
    char err[1024];
    cfg_edge e;
    cfg_edge_init(&e);
    const char *file = write_file(
        "acl.json", "{\"entries\": [{\"prefix\": \"10.0.0.0/8\", \"action\": \"BLOCK\"}]}");
    CHECK_EQ_INT(cfg_edge_add_acl(&e, "list", file, err, sizeof err), CFG_OK);
    const cfg_acl *acl = cfg_edge_acl(&e, "list", 4);
    CHECK(acl && acl->count == 1 && strcmp(acl->path, file) == 0);
    if (acl) {
        const uint8_t in[4] = {10, 1, 2, 3};
        const cfg_acl_entry *hit = cfg_acl_lookup(acl, 4, in);
        CHECK(hit && hit->action == CFG_ACL_BLOCK);
    }
    cfg_edge snap = e;
    CHECK_EQ_INT(cfg_edge_add_acl(&e, "list", file, err, sizeof err), CFG_ERR_VALUE);
    CHECK_STR_EQ(err, "'list' is given twice");
    CHECK_EQ_INT(cfg_edge_add_acl(&e, "bad", NULL, err, sizeof err), CFG_ERR_VALUE);
    CHECK_STR_EQ(err, "'bad' needs a JSON file");
    CHECK_EQ_INT(cfg_edge_add_acl(&e, "bad", write_file("acl_shape.json", "{\"items\": []}"), err,
                                  sizeof err),
                 CFG_ERR_JSON);
    CHECK_STR_CONTAINS(err, "acl_shape.json: expected {\"entries\": [");
    CHECK(same_edge(&e, &snap));
    cfg_edge_deinit(&e);
}

TEST(geo)
{
    char err[1024];
    cfg_edge e;
    cfg_edge_init(&e);
    CHECK(e.geo == NULL);
    const char *first = write_file("geo1.json", "{\"10.0.0.1\": {\"city\": \"One\"}}");
    CHECK_EQ_INT(cfg_edge_set_geo(&e, first, err, sizeof err), CFG_OK);
    const cfg_geo *geo = e.geo;
    CHECK(geo && geo->count == 1 && strcmp(geo->path, first) == 0);
    /* a bad table leaves the loaded one in place */
    CHECK_EQ_INT(cfg_edge_set_geo(&e, write_file("geo_bad.json", "{\"x\": {}}"), err, sizeof err),
                 CFG_ERR_JSON);
    CHECK_STR_CONTAINS(err, "geo_bad.json");
    CHECK_EQ_INT(cfg_edge_set_geo(&e, tmp_path("geo_none.json"), err, sizeof err), CFG_ERR_FILE);
    CHECK(e.geo == geo);
    /* another replaces it; NULL goes back to the built-in default */
    const char *second =
        write_file("geo2.json", "{\"::1\": {\"city\": \"Two\"}, \"10.0.0.2\": {}}");
    CHECK_EQ_INT(cfg_edge_set_geo(&e, second, err, sizeof err), CFG_OK);
    CHECK(e.geo && e.geo->count == 2 && strcmp(e.geo->path, second) == 0);
    CHECK_EQ_INT(cfg_edge_set_geo(&e, NULL, err, sizeof err), CFG_OK);
    CHECK(e.geo == NULL);
    CHECK_EQ_INT(cfg_edge_set_geo(&e, first, err, sizeof err), CFG_OK);
    cfg_edge_deinit(&e); /* frees the table */
    CHECK(e.geo == NULL);
}

TEST(logger)
{
    char err[1024];
    cfg_edge e;
    cfg_edge_init(&e);
    const char *path = tmp_path("endpoint.log");
    unlink(path);
    CHECK_EQ_INT(cfg_edge_add_logger(&e, "file", path, err, sizeof err), CFG_OK);
    struct stat st;
    CHECK(stat(path, &st) == 0 && S_ISREG(st.st_mode)); /* created now */
    CHECK_EQ_INT(cfg_edge_add_logger(&e, "out", NULL, err, sizeof err), CFG_OK);
    const cfg_logger *l = cfg_edge_logger(&e, "file", 4);
    CHECK(l && l->path && strcmp(l->path, path) == 0);
    l = cfg_edge_logger(&e, "out", 3);
    CHECK(l && l->path == NULL);

    cfg_edge snap = e;
    CHECK_EQ_INT(cfg_edge_add_logger(&e, "out", path, err, sizeof err), CFG_ERR_VALUE);
    CHECK_STR_EQ(err, "'out' is given twice");
    const char *nodir = tmp_path("no/such/dir.log");
    CHECK_EQ_INT(cfg_edge_add_logger(&e, "bad", nodir, err, sizeof err), CFG_ERR_FILE);
    char want[800];
    snprintf(want, sizeof want, "cannot open %s for appending: No such file or directory", nodir);
    CHECK_STR_EQ(err, want);
    CHECK_EQ_INT(cfg_edge_add_logger(&e, "bad", "", err, sizeof err), CFG_ERR_FILE);
    CHECK_STR_EQ(err, "cannot open  for appending: empty path");
    CHECK(same_edge(&e, &snap));
    CHECK(cfg_edge_logger(&e, "bad", 3) == NULL);
    cfg_edge_deinit(&e);
}

/* The in-memory adders (fastly.toml's inline data) and cfg_edge_merge (flags over the toml). */
TEST(in_memory_and_merge)
{
    char err[512];
    cfg_edge e;
    cfg_edge_init(&e);
    cfg_string_map m = {calloc(2, sizeof(cfg_string_entry)), 2};
    m.entries[0] = (cfg_string_entry){strdup("z"), 1, strdup("last"), 4};
    m.entries[1] = (cfg_string_entry){strdup("a"), 1, strdup("first"), 5};
    CHECK_EQ_INT(cfg_edge_add_dictionary_map(&e, "bad name", NULL, &m, err, sizeof err),
                 CFG_ERR_VALUE);
    CHECK_EQ_INT(m.count, 2); /* still the caller's */
    CHECK_EQ_INT(cfg_edge_add_dictionary_map(&e, "d", NULL, &m, err, sizeof err), CFG_OK);
    CHECK(m.entries == NULL && m.count == 0);
    const cfg_dictionary *d = cfg_edge_dictionary(&e, "d", 1);
    CHECK(d && d->path == NULL && d->items.count == 2);
    if (d && d->items.count == 2) {
        CHECK_STR_EQ(d->items.entries[0].key, "a"); /* sorted for the lookups */
        CHECK_STR_EQ(cfg_string_map_get(&d->items, "z", 1)->value, "last");
    }
    cfg_kv_entry *kv = calloc(3, sizeof *kv);
    kv[0] = (cfg_kv_entry){strdup("k"), 1, strdup("one"), 3, NULL, 0};
    kv[1] = (cfg_kv_entry){strdup("j"), 1, strdup("j"), 1, strdup("m"), 1};
    kv[2] = (cfg_kv_entry){strdup("k"), 1, strdup("two"), 3, NULL, 0};
    CHECK_EQ_INT(cfg_edge_add_kv_store_entries(&e, "kv", "/x.json", kv, 3, err, sizeof err),
                 CFG_OK);
    const cfg_kv_store *s = cfg_edge_kv_store(&e, "kv", 2);
    CHECK(s && s->count == 2 && strcmp(s->path, "/x.json") == 0);
    if (s && s->count == 2) {
        CHECK_STR_EQ(cfg_kv_store_get(s, "k", 1)->body, "two"); /* the last one given */
        CHECK_STR_EQ(cfg_kv_store_get(s, "j", 1)->metadata, "m");
    }

    /* merge: what dst has wins; the rest moves over; src ends empty */
    cfg_edge src;
    cfg_edge_init(&src);
    cfg_string_map m2 = {calloc(1, sizeof(cfg_string_entry)), 1};
    m2.entries[0] = (cfg_string_entry){strdup("a"), 1, strdup("toml"), 4};
    CHECK_EQ_INT(cfg_edge_add_dictionary_map(&src, "d", NULL, &m2, err, sizeof err), CFG_OK);
    cfg_string_map m3 = {calloc(1, sizeof(cfg_string_entry)), 1};
    m3.entries[0] = (cfg_string_entry){strdup("s"), 1, strdup("secret"), 6};
    CHECK_EQ_INT(cfg_edge_add_secret_store_map(&src, "sec", NULL, &m3, err, sizeof err), CFG_OK);
    cfg_geo *g = calloc(1, sizeof *g);
    g->use_default_loopback = true;
    cfg_edge_put_geo(&src, g);
    cfg_device *dev = calloc(1, sizeof *dev);
    CHECK_EQ_INT(cfg_device_add(dev, "ua", "{\"device\":{}}", err, sizeof err), CFG_OK);
    cfg_edge_put_device(&src, dev);
    CHECK_EQ_INT(cfg_edge_merge(&e, &src, err, sizeof err), CFG_OK);
    CHECK_EQ_INT(src.ndictionaries + src.nsecret_stores, 0);
    CHECK(src.geo == NULL && src.device == NULL);
    CHECK_EQ_INT(e.ndictionaries, 1);
    CHECK_STR_EQ(cfg_string_map_get(&cfg_edge_dictionary(&e, "d", 1)->items, "a", 1)->value,
                 "first");
    CHECK(cfg_edge_secret_store(&e, "sec", 3) != NULL);
    CHECK(e.geo == g && e.device == dev);
    cfg_edge_deinit(&src);
    cfg_edge_deinit(&e);
}

int main(int argc, char **argv)
{
    (void)argc;
    if (!tmp_dir_create("fastlike-edge"))
        return 1;
    RUN(string_kinds);
    RUN(kinds_have_separate_names);
    RUN(kv_store);
    RUN(acl);
    RUN(geo);
    RUN(logger);
    RUN(in_memory_and_merge);
    tmp_dir_remove();
    return harness_finish(argv[0]);
}
