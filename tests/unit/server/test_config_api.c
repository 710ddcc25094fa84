/* test_config_api.c: the embedding API's store, ACL, geo, logger, reload and profiler setters
 * (include/fastlike.h, src/server/srv_config.c): each accepts a valid file written at test time,
 * rejects a malformed one with the loader's message, rejects a repeated name, leaves the config
 * unchanged on error; the cfg_edge lookups find what was loaded; and a config carrying all of
 * it still makes a fastlike that serves requests (srv_app guest through fastlike_handle). */
#include "fastlike.h"
#include "harness.h"
#include "config/tmp_files.h"
#include "server/srv_config.h"

#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#define GUEST "build/guests/srv_app.wasm"

static void quiet(void *user, const char *line)
{
    (void)user;
    (void)line;
}

/* The setters of the three "JSON object of strings" kinds share one signature. */
typedef fastlike_status (*string_store_fn)(fastlike_config *c, const char *name, const char *path,
                                           char *err, size_t errlen);
typedef const cfg_dictionary *(*string_lookup_fn)(const cfg_edge *e, const char *name,
                                                  size_t name_len);

static void check_string_store(string_store_fn add, string_lookup_fn get, const char *kind,
                               const char *prefix)
{
    char name[64], err[1024];
    fastlike_config *c = fastlike_config_new();
    CHECK(c != NULL);
    if (!c)
        return;
    snprintf(name, sizeof name, "%s_ok.json", prefix);
    const char *good = write_file(name, "{\"api_key\": \"secret123\", \"version\": \"1.0.0\"}");
    err[0] = '\0';
    CHECK_EQ_INT(add(c, "cfg", good, err, sizeof err), FASTLIKE_OK);
    CHECK_STR_EQ(err, "");
    const cfg_dictionary *d = get(&c->edge, "cfg", 3);
    CHECK(d != NULL);
    if (d) {
        CHECK_STR_EQ(d->name, "cfg");
        CHECK_STR_EQ(d->path, good);
        CHECK_EQ_INT(d->items.count, 2);
        const cfg_string_entry *e = cfg_string_map_get(&d->items, "version", 7);
        CHECK(e != NULL);
        if (e)
            CHECK_STR_EQ(e->value, "1.0.0");
    }
    CHECK(get(&c->edge, "cf", 2) == NULL);
    CHECK(get(&c->edge, "other", 5) == NULL);
    /* a second store of the same kind under another name */
    CHECK_EQ_INT(add(c, "other", good, err, sizeof err), FASTLIKE_OK);
    CHECK(get(&c->edge, "other", 5) != NULL);

    /* a repeated name, whatever the file */
    err[0] = '\0';
    CHECK_EQ_INT(add(c, "cfg", good, err, sizeof err), FASTLIKE_ERR_ARGS);
    CHECK_STR_CONTAINS(err, "'cfg' is given twice");
    CHECK_STR_CONTAINS(err, kind);

    /* syntax error: the file, line and column */
    snprintf(name, sizeof name, "%s_syntax.json", prefix);
    const char *bad = write_file(name, "{\"a\": }");
    err[0] = '\0';
    CHECK_EQ_INT(add(c, "bad", bad, err, sizeof err), FASTLIKE_ERR_ARGS);
    CHECK_STR_CONTAINS(err, name);
    CHECK_STR_CONTAINS(err, ":1:7: invalid JSON");
    /* wrong value type: the file and the key */
    snprintf(name, sizeof name, "%s_type.json", prefix);
    bad = write_file(name, "{\"ok\": \"x\", \"count\": 3}");
    err[0] = '\0';
    CHECK_EQ_INT(add(c, "bad", bad, err, sizeof err), FASTLIKE_ERR_ARGS);
    CHECK_STR_CONTAINS(err, name);
    CHECK_STR_CONTAINS(err, "key \"count\": value must be a string, found a number");
    /* unreadable file */
    err[0] = '\0';
    CHECK_EQ_INT(add(c, "bad", tmp_path("missing.json"), err, sizeof err), FASTLIKE_ERR_IO);
    CHECK_STR_CONTAINS(err, "missing.json");
    /* none of the failures left a store behind, and the name is still free */
    CHECK(get(&c->edge, "bad", 3) == NULL);
    /* names the flag syntax could not spell, and no file */
    err[0] = '\0';
    CHECK_EQ_INT(add(c, "a b", good, err, sizeof err), FASTLIKE_ERR_ARGS);
    CHECK_STR_CONTAINS(err, "name 'a b' is invalid");
    CHECK_EQ_INT(add(c, "a=b", good, err, sizeof err), FASTLIKE_ERR_ARGS);
    CHECK_EQ_INT(add(c, "", good, err, sizeof err), FASTLIKE_ERR_ARGS);
    CHECK_EQ_INT(add(c, NULL, good, err, sizeof err), FASTLIKE_ERR_ARGS);
    err[0] = '\0';
    CHECK_EQ_INT(add(c, "nofile", NULL, err, sizeof err), FASTLIKE_ERR_ARGS);
    CHECK_STR_CONTAINS(err, "'nofile' needs a JSON file");
    /* no error buffer at all is allowed */
    CHECK_EQ_INT(add(c, "cfg", good, NULL, 0), FASTLIKE_ERR_ARGS);
    CHECK_EQ_INT(add(c, "bad", bad, NULL, 0), FASTLIKE_ERR_ARGS);
    CHECK(get(&c->edge, "bad", 3) == NULL);
    d = get(&c->edge, "cfg", 3); /* untouched by the failures */
    CHECK(d && d->items.count == 2 && strcmp(d->path, good) == 0);
    fastlike_config_free(c);
}

TEST(dictionary)
{
    check_string_store(fastlike_config_add_dictionary, cfg_edge_dictionary, "dictionary", "dict");
}

TEST(config_store)
{
    check_string_store(fastlike_config_add_config_store, cfg_edge_config_store, "config store",
                       "cs");
}

TEST(secret_store)
{
    check_string_store(fastlike_config_add_secret_store, cfg_edge_secret_store, "secret store",
                       "ss");
}

TEST(kinds_have_separate_names)
{
    char err[1024];
    fastlike_config *c = fastlike_config_new();
    const char *file = write_file("kinds.json", "{\"k\": \"v\"}");
    CHECK_EQ_INT(fastlike_config_add_dictionary(c, "same", file, err, sizeof err), FASTLIKE_OK);
    CHECK_EQ_INT(fastlike_config_add_config_store(c, "same", file, err, sizeof err), FASTLIKE_OK);
    CHECK_EQ_INT(fastlike_config_add_secret_store(c, "same", file, err, sizeof err), FASTLIKE_OK);
    CHECK_EQ_INT(fastlike_config_add_kv_store(c, "same", file, err, sizeof err), FASTLIKE_OK);
    CHECK_EQ_INT(fastlike_config_add_acl(
                     c, "same", write_file("kinds_acl.json", "{\"entries\": []}"), err, sizeof err),
                 FASTLIKE_OK);
    CHECK_EQ_INT(fastlike_config_add_logger(c, "same", NULL, err, sizeof err), FASTLIKE_OK);
    CHECK_EQ_INT(c->edge.ndictionaries + c->edge.nconfig_stores + c->edge.nsecret_stores +
                     c->edge.nkv_stores + c->edge.nacls + c->edge.nloggers,
                 6);
    fastlike_config_free(c);
}

TEST(kv_store)
{
    char err[1024];
    fastlike_config *c = fastlike_config_new();
    const char *file = write_file(
        "kv_ok.json", "{\"simple_key\": \"simple value\",\n"
                      " \"key_with_metadata\": {\"body\": \"the value content\", \"metadata\": "
                      "\"optional metadata\"},\n"
                      " \"viceroy\": {\"data\": \"spelled data\"}}");
    err[0] = '\0';
    CHECK_EQ_INT(fastlike_config_add_kv_store(c, "store", file, err, sizeof err), FASTLIKE_OK);
    CHECK_STR_EQ(err, "");
    const cfg_kv_store *kv = cfg_edge_kv_store(&c->edge, "store", 5);
    CHECK(kv != NULL);
    if (kv) {
        CHECK_STR_EQ(kv->path, file);
        CHECK_EQ_INT(kv->count, 3);
        const cfg_kv_entry *e = cfg_kv_store_get(kv, "key_with_metadata", 17);
        CHECK(e != NULL);
        if (e) {
            CHECK_STR_EQ(e->body, "the value content");
            CHECK_STR_EQ(e->metadata, "optional metadata");
        }
        e = cfg_kv_store_get(kv, "viceroy", 7);
        CHECK(e && e->metadata == NULL && strcmp(e->body, "spelled data") == 0);
    }
    /* NULL path: an empty store, as -kv NAME */
    CHECK_EQ_INT(fastlike_config_add_kv_store(c, "empty", NULL, err, sizeof err), FASTLIKE_OK);
    const cfg_kv_store *empty = cfg_edge_kv_store(&c->edge, "empty", 5);
    CHECK(empty && empty->count == 0 && empty->path == NULL);

    err[0] = '\0';
    CHECK_EQ_INT(fastlike_config_add_kv_store(c, "empty", file, err, sizeof err),
                 FASTLIKE_ERR_ARGS);
    CHECK_STR_CONTAINS(err, "KV store 'empty' is given twice");
    err[0] = '\0';
    CHECK_EQ_INT(fastlike_config_add_kv_store(
                     c, "bad",
                     write_file("kv_meta.json", "{\"k\": {\"body\": \"b\", \"metadata\": 1}}"), err,
                     sizeof err),
                 FASTLIKE_ERR_ARGS);
    CHECK_STR_CONTAINS(err,
                       "kv_meta.json: key \"k\": \"metadata\" must be a string, found a number");
    err[0] = '\0';
    CHECK_EQ_INT(fastlike_config_add_kv_store(c, "bad", write_file("kv_syntax.json", "[1,"), err,
                                              sizeof err),
                 FASTLIKE_ERR_ARGS);
    CHECK_STR_CONTAINS(err, "kv_syntax.json:1:");
    CHECK_EQ_INT(fastlike_config_add_kv_store(c, "bad", tmp_path("nope.json"), err, sizeof err),
                 FASTLIKE_ERR_IO);
    CHECK(cfg_edge_kv_store(&c->edge, "bad", 3) == NULL);
    CHECK_EQ_INT(c->edge.nkv_stores, 2);
    fastlike_config_free(c);
}

TEST(acl)
{
    char err[1024];
    fastlike_config *c = fastlike_config_new();
    const char *file =
        write_file("acl_ok.json",
                   "{\"entries\": [{\"prefix\": \"192.168.0.0/16\", \"action\": \"ALLOW\"},\n"
                   "{\"op\": \"create\", \"prefix\": \"192.168.7.0/24\", \"action\": \"block\"}]}");
    err[0] = '\0';
    CHECK_EQ_INT(fastlike_config_add_acl(c, "blocklist", file, err, sizeof err), FASTLIKE_OK);
    CHECK_STR_EQ(err, "");
    const cfg_acl *acl = cfg_edge_acl(&c->edge, "blocklist", 9);
    CHECK(acl != NULL);
    if (acl) {
        CHECK_EQ_INT(acl->count, 2);
        const uint8_t in24[4] = {192, 168, 7, 200}, in16[4] = {192, 168, 1, 1};
        const cfg_acl_entry *e = cfg_acl_lookup(acl, 4, in24);
        CHECK(e && e->action == CFG_ACL_BLOCK);
        e = cfg_acl_lookup(acl, 4, in16);
        CHECK(e && e->action == CFG_ACL_ALLOW);
    }
    err[0] = '\0';
    CHECK_EQ_INT(fastlike_config_add_acl(c, "blocklist", file, err, sizeof err), FASTLIKE_ERR_ARGS);
    CHECK_STR_CONTAINS(err, "ACL 'blocklist' is given twice");
    err[0] = '\0';
    CHECK_EQ_INT(fastlike_config_add_acl(c, "bad",
                                         write_file("acl_bad.json",
                                                    "{\"entries\": [{\"prefix\": \"10.0.0.0/33\", "
                                                    "\"action\": \"ALLOW\"}]}"),
                                         err, sizeof err),
                 FASTLIKE_ERR_ARGS);
    CHECK_STR_CONTAINS(err, "acl_bad.json");
    CHECK_STR_CONTAINS(err, "entries[0]: invalid prefix \"10.0.0.0/33\"");
    err[0] = '\0';
    CHECK_EQ_INT(fastlike_config_add_acl(c, "bad", write_file("acl_shape.json", "{\"items\": []}"),
                                         err, sizeof err),
                 FASTLIKE_ERR_ARGS);
    CHECK_STR_CONTAINS(err, "acl_shape.json: expected {\"entries\": [");
    CHECK_EQ_INT(fastlike_config_add_acl(c, "bad", NULL, err, sizeof err), FASTLIKE_ERR_ARGS);
    CHECK(cfg_edge_acl(&c->edge, "bad", 3) == NULL);
    CHECK_EQ_INT(c->edge.nacls, 1);
    fastlike_config_free(c);
}

TEST(geo)
{
    char err[1024];
    fastlike_config *c = fastlike_config_new();
    CHECK(c->edge.geo == NULL); /* the built-in default */
    const char *first =
        write_file("geo_ok.json", "{\"192.168.1.0/24\": {\"city\": \"San Francisco\", "
                                  "\"country_code\": \"US\", \"latitude\": 37.7749},\n"
                                  " \"10.0.0.1\": {\"city\": \"New York\"}}");
    err[0] = '\0';
    CHECK_EQ_INT(fastlike_config_set_geo(c, first, err, sizeof err), FASTLIKE_OK);
    CHECK_STR_EQ(err, "");
    const cfg_geo *geo = c->edge.geo;
    CHECK(geo != NULL);
    if (geo) {
        CHECK_EQ_INT(geo->count, 2);
        CHECK_STR_EQ(geo->path, first);
        const uint8_t a[4] = {192, 168, 1, 9};
        const cfg_geo_entry *e = cfg_geo_lookup(geo, 4, a);
        CHECK(e != NULL);
        if (e)
            CHECK_STR_CONTAINS(e->json, "\"San Francisco\"");
    }
    /* a malformed table leaves the loaded one in place */
    err[0] = '\0';
    CHECK_EQ_INT(fastlike_config_set_geo(
                     c, write_file("geo_bad.json", "{\"10.0.0.1\": {\"latitude\": \"37\"}}"), err,
                     sizeof err),
                 FASTLIKE_ERR_ARGS);
    CHECK_STR_CONTAINS(err, "geo_bad.json");
    CHECK_STR_CONTAINS(err, "\"10.0.0.1\": \"latitude\" must be a number, found a string");
    err[0] = '\0';
    CHECK_EQ_INT(fastlike_config_set_geo(c, write_file("geo_syntax.json", ""), err, sizeof err),
                 FASTLIKE_ERR_ARGS);
    CHECK_STR_CONTAINS(err, "geo_syntax.json:1:0: invalid JSON");
    CHECK_EQ_INT(fastlike_config_set_geo(c, tmp_path("geo_none.json"), err, sizeof err),
                 FASTLIKE_ERR_IO);
    CHECK(c->edge.geo == geo);
    /* a second table replaces the first; NULL goes back to the default */
    const char *second = write_file("geo_two.json", "{\"::1\": {\"city\": \"Loopback\"}}");
    CHECK_EQ_INT(fastlike_config_set_geo(c, second, err, sizeof err), FASTLIKE_OK);
    geo = c->edge.geo;
    CHECK(geo && geo->count == 1 && strcmp(geo->path, second) == 0);
    CHECK_EQ_INT(fastlike_config_set_geo(c, NULL, err, sizeof err), FASTLIKE_OK);
    CHECK(c->edge.geo == NULL);
    fastlike_config_free(c);
}

TEST(logger)
{
    char err[1024];
    fastlike_config *c = fastlike_config_new();
    const char *path = tmp_path("endpoint.log");
    unlink(path);
    err[0] = '\0';
    CHECK_EQ_INT(fastlike_config_add_logger(c, "file", path, err, sizeof err), FASTLIKE_OK);
    CHECK_STR_EQ(err, "");
    struct stat st;
    CHECK(stat(path, &st) == 0 && S_ISREG(st.st_mode)); /* created now, as the flag does */
    CHECK_EQ_INT(fastlike_config_add_logger(c, "out", NULL, err, sizeof err), FASTLIKE_OK);
    const cfg_logger *l = cfg_edge_logger(&c->edge, "file", 4);
    CHECK(l && l->path && strcmp(l->path, path) == 0);
    l = cfg_edge_logger(&c->edge, "out", 3);
    CHECK(l && l->path == NULL); /* stdout */
    CHECK(cfg_edge_logger(&c->edge, "nope", 4) == NULL);

    err[0] = '\0';
    CHECK_EQ_INT(fastlike_config_add_logger(c, "out", path, err, sizeof err), FASTLIKE_ERR_ARGS);
    CHECK_STR_CONTAINS(err, "logger 'out' is given twice");
    err[0] = '\0';
    CHECK_EQ_INT(fastlike_config_add_logger(c, "bad", tmp_path("no/such/dir.log"), err, sizeof err),
                 FASTLIKE_ERR_IO);
    CHECK_STR_CONTAINS(err, "cannot open ");
    CHECK_STR_CONTAINS(err, "no/such/dir.log for appending: No such file or directory");
    CHECK_EQ_INT(fastlike_config_add_logger(c, "bad", "", err, sizeof err), FASTLIKE_ERR_IO);
    CHECK_EQ_INT(fastlike_config_add_logger(c, "with space", NULL, err, sizeof err),
                 FASTLIKE_ERR_ARGS);
    CHECK(cfg_edge_logger(&c->edge, "bad", 3) == NULL);
    CHECK_EQ_INT(c->edge.nloggers, 2);
    fastlike_config_free(c);
}

TEST(reload_and_profiler)
{
    char err[1024];
    fastlike_config *c = fastlike_config_new();
    /* defaults, as the flags' */
    CHECK(!c->reload);
    CHECK(c->profile_ui == NULL);
    CHECK_EQ_INT(c->profile_mode, CFG_PROFILE_TRACE);
    CHECK(!c->profile_native);

    fastlike_config_set_reload(c, true);
    CHECK(c->reload);
    fastlike_config_set_reload(c, false);
    CHECK(!c->reload);
    fastlike_config_set_profile_native(c, true);
    CHECK(c->profile_native);

    CHECK_EQ_INT(fastlike_config_set_profile_ui(c, "127.0.0.1:7070", err, sizeof err), FASTLIKE_OK);
    CHECK_STR_EQ(c->profile_ui, "127.0.0.1:7070");
    CHECK_EQ_INT(fastlike_config_set_profile_ui(c, "[::1]:0", err, sizeof err), FASTLIKE_OK);
    CHECK_STR_EQ(c->profile_ui, "[::1]:0");
    err[0] = '\0';
    CHECK_EQ_INT(fastlike_config_set_profile_ui(c, "localhost", err, sizeof err),
                 FASTLIKE_ERR_ARGS);
    CHECK(err[0] != '\0');
    CHECK_STR_EQ(c->profile_ui, "[::1]:0"); /* unchanged */
    CHECK_EQ_INT(fastlike_config_set_profile_ui(c, NULL, err, sizeof err), FASTLIKE_OK);
    CHECK(c->profile_ui == NULL);

    static const struct {
        const char *name;
        cfg_profile_mode mode;
    } modes[] = {{"off", CFG_PROFILE_OFF},
                 {"trace", CFG_PROFILE_TRACE},
                 {"native", CFG_PROFILE_NATIVE},
                 {"combined", CFG_PROFILE_COMBINED},
                 {"deep", CFG_PROFILE_DEEP}};
    for (size_t i = 0; i < sizeof modes / sizeof *modes; i++) {
        CHECK_EQ_INT(fastlike_config_set_profile_mode(c, modes[i].name, err, sizeof err),
                     FASTLIKE_OK);
        CHECK_EQ_INT(c->profile_mode, modes[i].mode);
    }
    err[0] = '\0';
    CHECK_EQ_INT(fastlike_config_set_profile_mode(c, "fast", err, sizeof err), FASTLIKE_ERR_ARGS);
    CHECK_STR_CONTAINS(err, "'fast': must be off, trace, native, combined or deep");
    CHECK_EQ_INT(fastlike_config_set_profile_mode(c, NULL, err, sizeof err), FASTLIKE_ERR_ARGS);
    CHECK_EQ_INT(c->profile_mode, CFG_PROFILE_DEEP);
    fastlike_config_free(c);
}

static uint16_t get(fastlike *f, const char *url, char **body)
{
    char err[256] = "";
    fastlike_response r;
    fastlike_request req = {.method = "GET", .url = url};
    *body = NULL;
    if (fastlike_handle(f, &req, &r, err, sizeof err) != FASTLIKE_OK) {
        fprintf(stderr, "fastlike_handle: %s\n", err);
        return 0;
    }
    *body = malloc(r.body_len + 1);
    if (*body) {
        memcpy(*body, r.body ? (const char *)r.body : "", r.body_len);
        (*body)[r.body_len] = '\0';
    }
    uint16_t status = r.status;
    fastlike_response_free(&r);
    return status;
}

/* Every new option set at once; the guest is still served, also after the config is freed. */
TEST(serves_with_everything_set)
{
    char err[1024] = "";
    fastlike_config *c = fastlike_config_new();
    CHECK_EQ_INT(fastlike_config_set_wasm_file(c, GUEST), FASTLIKE_OK);
    fastlike_config_set_log(c, quiet, NULL);
    const char *strings = write_file("all_strings.json", "{\"greeting\": \"hello\"}");
    CHECK_EQ_INT(fastlike_config_add_dictionary(c, "dict", strings, err, sizeof err), FASTLIKE_OK);
    CHECK_EQ_INT(fastlike_config_add_config_store(c, "cs", strings, err, sizeof err), FASTLIKE_OK);
    CHECK_EQ_INT(fastlike_config_add_secret_store(c, "ss", strings, err, sizeof err), FASTLIKE_OK);
    CHECK_EQ_INT(fastlike_config_add_kv_store(c, "kv", strings, err, sizeof err), FASTLIKE_OK);
    CHECK_EQ_INT(fastlike_config_add_kv_store(c, "kv-empty", NULL, err, sizeof err), FASTLIKE_OK);
    CHECK_EQ_INT(
        fastlike_config_add_acl(
            c, "acl",
            write_file("all_acl.json",
                       "{\"entries\": [{\"prefix\": \"10.0.0.0/8\", \"action\": \"BLOCK\"}]}"),
            err, sizeof err),
        FASTLIKE_OK);
    CHECK_EQ_INT(fastlike_config_set_geo(
                     c, write_file("all_geo.json", "{\"127.0.0.1\": {\"city\": \"Here\"}}"), err,
                     sizeof err),
                 FASTLIKE_OK);
    CHECK_EQ_INT(fastlike_config_add_logger(c, "file", tmp_path("all.log"), err, sizeof err),
                 FASTLIKE_OK);
    CHECK_EQ_INT(fastlike_config_add_logger(c, "stdout", NULL, err, sizeof err), FASTLIKE_OK);
    fastlike_config_set_reload(c, true);
    CHECK_EQ_INT(fastlike_config_set_profile_ui(c, "127.0.0.1:0", err, sizeof err), FASTLIKE_OK);
    CHECK_EQ_INT(fastlike_config_set_profile_mode(c, "combined", err, sizeof err), FASTLIKE_OK);
    fastlike_config_set_profile_native(c, true);

    fastlike *f = NULL;
    err[0] = '\0';
    CHECK_EQ_INT(fastlike_new(c, &f, err, sizeof err), FASTLIKE_OK);
    CHECK_STR_EQ(err, "");
    fastlike_config_free(c); /* as the command line does right after fastlike_new */
    if (!f)
        return;
    char *body = NULL;
    CHECK_EQ_INT(get(f, "http://example.test/info?x=1", &body), 200);
    CHECK_STR_CONTAINS(body, "url: http://example.test/info?x=1\n");
    free(body);
    CHECK_EQ_INT(get(f, "/status?code=418", &body), 418);
    free(body);
    fastlike_free(f);
}

int main(int argc, char **argv)
{
    (void)argc;
    if (!tmp_dir_create("fastlike-config-api"))
        return 1;
    RUN(dictionary);
    RUN(config_store);
    RUN(secret_store);
    RUN(kinds_have_separate_names);
    RUN(kv_store);
    RUN(acl);
    RUN(geo);
    RUN(logger);
    RUN(reload_and_profiler);
    RUN(serves_with_everything_set);
    tmp_dir_remove();
    return harness_finish(argv[0]);
}
