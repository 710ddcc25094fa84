/* test_fastly_toml.c: fastly.toml's [local_server] (src/config/cfg_fastly_toml.c) as Viceroy reads
 * it: every section lands in cfg_options / cfg_edge (inline data and JSON files, paths relative to
 * the toml, files of any size), every bad-file case with its exact one-line message, -C merged
 * under the flags (flags win), the embedding API's fastlike_config_load_fastly_toml and the command
 * line's hand-over of the whole cfg_edge, and the binary's exit status 2 with one stderr line. */
#include "harness.h"
#include "tmp_files.h"

#include "config/cfg_fastly_toml.h"
#include "server/srv_config.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static char fastlike_bin[1024] = "bin/fastlike";
static char proj[700]; /* tmpdir/proj: the project directory holding fastly.toml */
static char wasm_path[800];

#define PEM_CERT "-----BEGIN CERTIFICATE-----\nMIIBfake\n-----END CERTIFICATE-----\n"
#define PEM_KEY "-----BEGIN PRIVATE KEY-----\nMIIEfake\n-----END PRIVATE KEY-----\n"
/* The certificate as a TOML basic string's contents (newlines escaped). */
#define PEM_CERT_ESC "-----BEGIN CERTIFICATE-----\\nMIIBfake\\n-----END CERTIFICATE-----\\n"

/* Writes proj/name with text; returns the path (static ring of four). */
static const char *write_proj(const char *name, const char *text)
{
    static char path[4][800];
    static int next;
    char *p = path[next++ % 4];
    snprintf(p, sizeof path[0], "%s/%s", proj, name);
    FILE *f = fopen(p, "wb");
    if (f) {
        fputs(text, f);
        fclose(f);
    }
    return p;
}

/* Loads text as proj/fastly.toml into a fresh *o; returns the status, message in err. */
static cfg_status load(const char *text, cfg_options *o, char *err, size_t errlen)
{
    cfg_options_init(o);
    err[0] = '\0';
    return cfg_fastly_toml_load(write_proj("fastly.toml", text), o, err, errlen);
}

/* The toml must fail with status st and the message "PATH" + suffix. */
static void expect_err(const char *text, cfg_status st, const char *suffix, int line)
{
    char err[2048], want[2048];
    cfg_options o;
    cfg_status got = load(text, &o, err, sizeof err);
    snprintf(want, sizeof want, "%s/fastly.toml%s", proj, suffix);
    if (got != st || strcmp(err, want) != 0) {
        harness_fail_head(__FILE__, line);
        fprintf(stderr, "status %d (want %d)\n    got:  %s\n    want: %s\n", got, st, err, want);
    }
    cfg_options_deinit(&o);
}

#define EXPECT_ERR(text, st, suffix) expect_err(text, st, suffix, __LINE__)

static const cfg_backend *backend(const cfg_options *o, const char *name)
{
    for (size_t i = 0; i < o->nbackends; i++)
        if (o->backends[i].name && strcmp(o->backends[i].name, name) == 0)
            return &o->backends[i];
    return NULL;
}

static const char *value_of(const cfg_dictionary *d, const char *key)
{
    const cfg_string_entry *e = d ? cfg_string_map_get(&d->items, key, strlen(key)) : NULL;
    return e ? e->value : NULL;
}

TEST(package_fields_and_unknown_keys)
{
    char err[2048];
    cfg_options o;
    CHECK_EQ_INT(load("manifest_version = 3\nname = \"demo\"\nauthors = [\"a@b\"]\n"
                      "language = \"rust\"\n[scripts]\nbuild = \"cargo build\"\n[setup]\nx = 1\n"
                      "[local_server]\nsomething_new = { a = 1 }\n",
                      &o, err, sizeof err),
                 CFG_OK);
    CHECK_STR_EQ(err, "");
    CHECK_EQ_INT(o.nbackends, 0);
    CHECK_EQ_INT(o.edge.ndictionaries + o.edge.nkv_stores, 0);
    CHECK(o.edge.geo == NULL && o.edge.device == NULL);
    cfg_options_deinit(&o);
    CHECK_EQ_INT(load("", &o, err, sizeof err), CFG_OK); /* an empty file is a valid project */
    cfg_options_deinit(&o);

    EXPECT_ERR("manifest_version = 4\n", CFG_ERR_TOML,
               ":1:20: manifest_version: unsupported manifest version 4; max supported version "
               "is 3");
    EXPECT_ERR("name = 5\n", CFG_ERR_TOML, ":1:8: name: expected a string, found an integer");
    EXPECT_ERR("local_server = 1\n", CFG_ERR_TOML,
               ":1:16: local_server: expected a table, found an integer");
    EXPECT_ERR("[local_server]\nbackends = \"x\"\n", CFG_ERR_TOML,
               ":2:12: local_server.backends: expected a table, found a string");
    EXPECT_ERR("[local_server.backends\n", CFG_ERR_TOML,
               ":1:23: expected ']' to close the [table] header, found end of line");
}

TEST(backends)
{
    char err[2048];
    cfg_options o;
    write_proj("ca.pem", PEM_CERT);
    write_proj("client.key", PEM_KEY);
    cfg_status st = load("[local_server.backends.origin]\n"
                         "url = \"http://127.0.0.1:8080/base\"\n"
                         "override_host = \"example.com\"\n"
                         "[local_server.backends.\"api-v2\"]\n"
                         "url = \"https://api.example.com\"\n"
                         "cert_host = \"cert.example.com\"\n"
                         "use_sni = false\n"
                         "grpc = true\n"
                         "first_byte_timeout_ms = 2500\n"
                         "between_bytes_timeout_ms = 0\n"
                         "health = \"Unhealthy\"\n"
                         "ca_certificate = [\"" PEM_CERT_ESC "\", { file = \"ca.pem\" }]\n"
                         "[local_server.backends.\"api-v2\".client_certificate]\n"
                         "certificate = \"\"\"" PEM_CERT "\"\"\"\n"
                         "key_file = \"client.key\"\n",
                         &o, err, sizeof err);
    CHECK_EQ_INT(st, CFG_OK);
    CHECK_STR_EQ(err, "");
    CHECK_EQ_INT(o.nbackends, 2);
    const cfg_backend *b = backend(&o, "origin");
    CHECK(b != NULL);
    if (b) {
        CHECK_STR_EQ(b->url, "http://127.0.0.1:8080/base");
        CHECK_STR_EQ(b->override_host, "example.com");
        CHECK(!b->tls && !b->no_sni && !b->grpc && !b->has_first_byte_timeout);
        CHECK(b->client_cert_pem == NULL && b->ca_pem == NULL && b->cert_host == NULL);
        CHECK_EQ_INT(b->health, CFG_HEALTH_UNKNOWN);
    }
    b = backend(&o, "api-v2");
    CHECK(b != NULL);
    if (b) {
        CHECK(b->tls && b->port == 443);
        CHECK_STR_EQ(b->cert_host, "cert.example.com");
        CHECK(b->no_sni && b->grpc);
        CHECK(b->has_first_byte_timeout && b->first_byte_timeout_ms == 2500);
        CHECK(b->has_between_bytes_timeout && b->between_bytes_timeout_ms == 0);
        CHECK_EQ_INT(b->health, CFG_HEALTH_UNHEALTHY);
        CHECK_STR_EQ(b->client_cert_pem, PEM_CERT);
        CHECK_STR_EQ(b->client_key_pem, PEM_KEY);
        CHECK_STR_EQ(b->ca_pem, PEM_CERT "\n" PEM_CERT);
    }
    cfg_options_deinit(&o);
}

TEST(backend_errors)
{
    char suffix[1200];
    snprintf(suffix, sizeof suffix,
             ":3:35: local_server.backends.origin.client_certificate: Certificate/key read error: "
             "%s/nope.key: No such file or directory",
             proj);
    EXPECT_ERR("[local_server.backends]\norigin = 1\n", CFG_ERR_TOML,
               ":2:10: local_server.backends.origin: definition was not provided as a TOML table");
    EXPECT_ERR("[local_server.backends.origin]\nhost = \"x\"\n", CFG_ERR_TOML,
               ":1:1: local_server.backends.origin: missing 'url' field");
    EXPECT_ERR("[local_server.backends.origin]\nurl = 80\n", CFG_ERR_TOML,
               ":2:7: local_server.backends.origin.url: 'url' field was not a string");
    EXPECT_ERR("[local_server.backends.origin]\nurl = \"ftp://x\"\n", CFG_ERR_TOML,
               ":2:7: local_server.backends.origin.url: invalid url: 'ftp://x': only http:// and "
               "https:// backends are supported");
    EXPECT_ERR("[local_server.backends.origin]\nurl = \"http://a\"\nsni = true\n", CFG_ERR_TOML,
               ":3:7: local_server.backends.origin.sni: unrecognized key 'sni'");
    EXPECT_ERR("[local_server.backends.origin]\nurl = \"http://a\"\noverride_host = \"  \"\n",
               CFG_ERR_TOML,
               ":3:17: local_server.backends.origin.override_host: 'override_host' field is empty");
    EXPECT_ERR("[local_server.backends.origin]\nurl = \"http://a\"\nuse_sni = \"no\"\n",
               CFG_ERR_TOML,
               ":3:11: local_server.backends.origin.use_sni: 'use_sni' field was not a boolean");
    EXPECT_ERR("[local_server.backends.origin]\nurl = \"http://a\"\nfirst_byte_timeout_ms = -1\n",
               CFG_ERR_TOML,
               ":3:25: local_server.backends.origin.first_byte_timeout_ms: Illegal timeout value "
               "(must be an integer >= 0)");
    EXPECT_ERR("[local_server.backends.origin]\nurl = \"http://a\"\nhealth = \"sick\"\n",
               CFG_ERR_TOML,
               ":3:10: local_server.backends.origin.health: 'health' field has invalid value "
               "'sick' (expected 'unknown', 'healthy', or 'unhealthy')");
    EXPECT_ERR("[local_server.backends.origin]\nurl = \"http://a\"\nca_certificate = \"\"\n",
               CFG_ERR_TOML,
               ":3:18: local_server.backends.origin.ca_certificate: 'ca_certificate' field is "
               "empty");
    EXPECT_ERR("[local_server.backends.origin]\nurl = \"http://a\"\n"
               "client_certificate = { certificate = \"" PEM_CERT_ESC "\" }\n",
               CFG_ERR_TOML,
               ":3:22: local_server.backends.origin.client_certificate: No keys found for client "
               "certificate");
    EXPECT_ERR("[local_server.backends.origin]\nurl = \"http://a\"\n"
               "client_certificate = { key_file = \"nope.key\" }\n",
               CFG_ERR_FILE, suffix);
}

TEST(dictionaries_and_config_stores)
{
    char err[2048];
    cfg_options o;
    mkdir(tmp_path("proj/data"), 0755);
    write_proj("data/dict.json", "{\"from\": \"json\"}");
    CHECK_EQ_INT(load("[local_server.dictionaries.inline]\nformat = \"inline-toml\"\n"
                      "[local_server.dictionaries.inline.contents]\n"
                      "greeting = \"hello\"\n\"a key\" = \"\"\n"
                      "[local_server.dictionaries.file]\nformat = \"json\"\n"
                      "file = \"data/dict.json\"\n",
                      &o, err, sizeof err),
                 CFG_OK);
    CHECK_STR_EQ(err, "");
    const cfg_dictionary *d = cfg_edge_dictionary(&o.edge, "inline", 6);
    CHECK(d && d->path == NULL && d->items.count == 2);
    CHECK_STR_EQ(value_of(d, "greeting"), "hello");
    CHECK_STR_EQ(value_of(d, "a key"), "");
    d = cfg_edge_dictionary(&o.edge, "file", 4);
    CHECK_STR_EQ(value_of(d, "from"), "json");
    char want[900];
    snprintf(want, sizeof want, "%s/data/dict.json", proj); /* relative to the toml */
    CHECK(d && d->path && strcmp(d->path, want) == 0);
    cfg_options_deinit(&o);

    /* config_stores is Viceroy's other name for the same section; here it fills config stores */
    CHECK_EQ_INT(load("[local_server.config_stores.cs]\nformat = \"inline-toml\"\n"
                      "contents = { k = \"v\" }\n",
                      &o, err, sizeof err),
                 CFG_OK);
    CHECK_EQ_INT(o.edge.ndictionaries, 0);
    CHECK_STR_EQ(value_of(cfg_edge_config_store(&o.edge, "cs", 2), "k"), "v");
    cfg_options_deinit(&o);

    EXPECT_ERR("[local_server.dictionaries.d]\ncontents = {}\n", CFG_ERR_TOML,
               ":1:1: local_server.dictionaries.d: missing 'format' field");
    EXPECT_ERR("[local_server.dictionaries.d]\nformat = \"yaml\"\n", CFG_ERR_TOML,
               ":2:10: local_server.dictionaries.d.format: 'yaml' is not a valid format for the "
               "dictionary. Supported format(s) are: 'inline-toml', 'json'.");
    EXPECT_ERR("[local_server.dictionaries.d]\nformat = \"\"\n", CFG_ERR_TOML,
               ":2:10: local_server.dictionaries.d.format: 'format' field is empty");
    EXPECT_ERR("[local_server.dictionaries.d]\nformat = \"inline-toml\"\n", CFG_ERR_TOML,
               ":1:1: local_server.dictionaries.d: missing 'contents' field");
    EXPECT_ERR("[local_server.dictionaries.d]\nformat = \"inline-toml\"\ncontents = { n = 1 }\n",
               CFG_ERR_TOML,
               ":3:18: local_server.dictionaries.d.contents.n: inline dictionary value was not a "
               "string");
    EXPECT_ERR("[local_server.dictionaries.d]\nformat = \"json\"\n", CFG_ERR_TOML,
               ":1:1: local_server.dictionaries.d: missing 'file' field");
    EXPECT_ERR("[local_server.dictionaries.d]\nformat = \"inline-toml\"\ncontents = {}\n"
               "file = \"x.json\"\n",
               CFG_ERR_TOML, ":4:8: local_server.dictionaries.d.file: unrecognized key 'file'");
    EXPECT_ERR("[local_server.dictionaries]\nd = 1\n", CFG_ERR_TOML,
               ":2:5: local_server.dictionaries.d: definition was not provided as a TOML table");
    EXPECT_ERR("[local_server.dictionaries.d]\nformat = \"inline-toml\"\ncontents = {}\n"
               "[local_server.config_stores.c]\nformat = \"inline-toml\"\ncontents = {}\n",
               CFG_ERR_TOML,
               ":4:1: local_server.config_stores: duplicate field `dictionaries`: `config_stores` "
               "is another name for `dictionaries`, given already");
    char big[9200];
    int n = snprintf(big, sizeof big,
                     "[local_server.dictionaries.d]\nformat = \"inline-toml\"\ncontents.k = \"");
    memset(big + n, 'x', 8001);
    snprintf(big + n + 8001, sizeof big - (size_t)n - 8001, "\"\n");
    EXPECT_ERR(big, CFG_ERR_TOML,
               ":3:14: local_server.dictionaries.d.contents.k: Item value named 'k' is too long, "
               "max size is "
               "8000");
    /* a missing JSON file and a bad one: the loader's message, behind the toml's position */
    char suffix[1200];
    snprintf(suffix, sizeof suffix,
             ":3:8: local_server.dictionaries.d.file: %s/missing.json: cannot read: No such file "
             "or directory",
             proj);
    EXPECT_ERR("[local_server.dictionaries.d]\nformat = \"json\"\nfile = \"missing.json\"\n",
               CFG_ERR_FILE, suffix);
    write_proj("arr.json", "[1]");
    snprintf(suffix, sizeof suffix,
             ":3:8: local_server.dictionaries.d.file: %s/arr.json: expected a JSON object of "
             "\"key\": value pairs, found an array",
             proj);
    EXPECT_ERR("[local_server.dictionaries.d]\nformat = \"json\"\nfile = \"arr.json\"\n",
               CFG_ERR_JSON, suffix);
}

TEST(kv_stores)
{
    char err[2048];
    cfg_options o;
    mkdir(tmp_path("proj/data"), 0755);
    write_proj("data/blob.bin", "bin\nary");
    write_proj("data/kv.json", "{\"s\": \"str\", \"o\": {\"data\": \"d\", \"metadata\": \"m\"},"
                               " \"f\": {\"file\": \"data/blob.bin\"}}");
    CHECK_EQ_INT(load("[local_server.kv_stores]\n"
                      "inline = [{ key = \"b\", data = \"first\" },\n"
                      "          { key = \"a\", file = \"data/blob.bin\", metadata = \"meta\" },\n"
                      "          { key = \"c\", path = \"data/blob.bin\" },\n"
                      "          { key = \"b\", data = \"second\" }]\n"
                      "empty = []\n"
                      "fromjson = { file = \"data/kv.json\", format = \"json\" }\n",
                      &o, err, sizeof err),
                 CFG_OK);
    CHECK_STR_EQ(err, "");
    CHECK_EQ_INT(o.edge.nkv_stores, 3);
    const cfg_kv_store *kv = cfg_edge_kv_store(&o.edge, "inline", 6);
    CHECK(kv && kv->count == 3 && kv->path == NULL);
    if (kv && kv->count == 3) {
        CHECK_STR_EQ(kv->entries[0].key, "a"); /* sorted by key */
        CHECK_STR_EQ(kv->entries[0].body, "bin\nary");
        CHECK_STR_EQ(kv->entries[0].metadata, "meta");
        const cfg_kv_entry *b = cfg_kv_store_get(kv, "b", 1);
        CHECK(b && strcmp(b->body, "second") == 0 && b->metadata == NULL); /* last one wins */
        CHECK(cfg_kv_store_get(kv, "c", 1) != NULL);
    }
    kv = cfg_edge_kv_store(&o.edge, "empty", 5);
    CHECK(kv && kv->count == 0);
    kv = cfg_edge_kv_store(&o.edge, "fromjson", 8);
    CHECK(kv && kv->count == 3);
    if (kv) {
        const cfg_kv_entry *e = cfg_kv_store_get(kv, "o", 1);
        CHECK(e && strcmp(e->body, "d") == 0 && strcmp(e->metadata, "m") == 0);
        e = cfg_kv_store_get(kv, "f", 1);
        CHECK(e && e->body_len == 7);
        CHECK_STR_EQ(cfg_kv_store_get(kv, "s", 1)->body, "str");
    }
    cfg_options_deinit(&o);
    /* object_stores and object_store are the same section */
    CHECK_EQ_INT(load("[local_server.object_stores]\nos = [{ key = \"k\", data = \"v\" }]\n", &o,
                      err, sizeof err),
                 CFG_OK);
    CHECK(cfg_edge_kv_store(&o.edge, "os", 2) != NULL);
    cfg_options_deinit(&o);

    EXPECT_ERR("[local_server.kv_stores]\ns = \"x\"\n", CFG_ERR_TOML,
               ":2:5: local_server.kv_stores.s: There is no array of objects for the given store.");
    EXPECT_ERR("[local_server.kv_stores]\ns = { file = \"x.json\" }\n", CFG_ERR_TOML,
               ":2:5: local_server.kv_stores.s: When using a top-level 'file' to load data, both "
               "'file' and 'format' must be set.");
    EXPECT_ERR("[local_server.kv_stores]\ns = { file = \"x.csv\", format = \"csv\" }\n",
               CFG_ERR_TOML,
               ":2:32: local_server.kv_stores.s.format: 'csv' is not a valid format for the config "
               "store. Supported format(s) are: 'json'.");
    EXPECT_ERR("[local_server.kv_stores]\ns = [1]\n", CFG_ERR_TOML,
               ":2:6: local_server.kv_stores.s[0]: There is an object in the given store that is "
               "not a table of keys.");
    EXPECT_ERR("[local_server.kv_stores]\ns = [{ data = \"x\" }]\n", CFG_ERR_TOML,
               ":2:6: local_server.kv_stores.s[0]: The `key` key for an object is not set. It "
               "must be used.");
    EXPECT_ERR("[local_server.kv_stores]\ns = [{ key = \"k\" }]\n", CFG_ERR_TOML,
               ":2:6: local_server.kv_stores.s[0]: The `file` or `data` key for the object `k` is "
               "not set. One must be used.");
    EXPECT_ERR("[local_server.kv_stores]\ns = [{ key = \"k\", data = \"x\", file = \"y\" }]\n",
               CFG_ERR_TOML,
               ":2:6: local_server.kv_stores.s[0]: The `file` and `data` keys for the object `k` "
               "are set. Only one can be used.");
    EXPECT_ERR("[local_server.kv_stores]\ns = [{ key = \"k\", data = 1 }]\n", CFG_ERR_TOML,
               ":2:26: local_server.kv_stores.s[0]: The `data` value for the object `k` is not a "
               "string.");
    EXPECT_ERR("[local_server.kv_stores]\ns = [{ key = \"a#b\", data = \"x\" }]\n", CFG_ERR_TOML,
               ":2:6: local_server.kv_stores.s[0]: Invalid `key` value used: Keys for objects "
               "cannot contain a `#`.");
    write_proj("badkv.json", "{\"k\": 5}");
    char suffix[1200];
    snprintf(suffix, sizeof suffix,
             ":2:14: local_server.kv_stores.s.file: %s/badkv.json: Item value under key named 'k' "
             "is of the wrong format. The value is expected to be a JSON String.",
             proj);
    EXPECT_ERR("[local_server.kv_stores]\ns = { file = \"badkv.json\", format = \"json\" }\n",
               CFG_ERR_JSON, suffix);
    EXPECT_ERR("[local_server.kv_stores]\ns = []\n[local_server.object_store]\nt = []\n",
               CFG_ERR_TOML,
               ":3:1: local_server.object_store: duplicate field `object_stores`: `object_store` "
               "is another name for `kv_stores`, given already");
}

/* Files read whole whatever their size: empty, just below, at and just past the 4 KiB first
 * buffer (which keeps a byte for the NUL), and several doublings past it. */
TEST(kv_files_at_buffer_edges)
{
    static const size_t sizes[] = {0, 4094, 4095, 4096, 40000};
    enum { NSIZES = sizeof sizes / sizeof sizes[0] };
    char *text = malloc(40001);
    char toml[1024] = "[local_server.kv_stores]\ns = [";
    for (size_t i = 0; text && i < NSIZES; i++) {
        for (size_t k = 0; k < sizes[i]; k++)
            text[k] = (char)('a' + (k + i) % 26);
        text[sizes[i]] = '\0';
        char name[32], row[96];
        snprintf(name, sizeof name, "size%zu.bin", i);
        write_proj(name, text);
        snprintf(row, sizeof row, "%s{ key = \"k%zu\", file = \"%s\" }", i ? ", " : "", i, name);
        strncat(toml, row, sizeof toml - strlen(toml) - 1);
    }
    strncat(toml, "]\n", sizeof toml - strlen(toml) - 1);
    char err[2048];
    cfg_options o;
    CHECK(text != NULL);
    CHECK_EQ_INT(load(toml, &o, err, sizeof err), CFG_OK);
    CHECK_STR_EQ(err, "");
    const cfg_kv_store *kv = cfg_edge_kv_store(&o.edge, "s", 1);
    CHECK(kv && kv->count == NSIZES);
    for (size_t i = 0; text && kv && i < NSIZES; i++) {
        char key[8];
        snprintf(key, sizeof key, "k%zu", i);
        const cfg_kv_entry *e = cfg_kv_store_get(kv, key, strlen(key));
        CHECK(e != NULL);
        if (!e)
            continue;
        CHECK_EQ_INT(e->body_len, sizes[i]);
        for (size_t k = 0; k < sizes[i]; k++)
            text[k] = (char)('a' + (k + i) % 26);
        CHECK(e->body_len == sizes[i] && memcmp(e->body, text, sizes[i]) == 0);
    }
    cfg_options_deinit(&o);
    free(text);
}

TEST(secret_stores)
{
    char err[2048];
    cfg_options o;
    write_proj("secret.txt", "from-file");
    write_proj("secrets.json", "{\"api_key\": \"j1\"}");
    setenv("FASTLIKE_TEST_SECRET", "from-env", 1);
    CHECK_EQ_INT(load("[local_server.secret_stores]\n"
                      "creds = [{ key = \"data\", data = \"inline\" },\n"
                      "         { key = \"file\", file = \"secret.txt\" },\n"
                      "         { key = \"env\", env = \"FASTLIKE_TEST_SECRET\" },\n"
                      "         { key = \"unset\", env = \"FASTLIKE_TEST_UNSET_VAR\" }]\n"
                      "json = { file = \"secrets.json\", format = \"json\" }\n",
                      &o, err, sizeof err),
                 CFG_OK);
    CHECK_STR_EQ(err, "");
    const cfg_secret_store *s = cfg_edge_secret_store(&o.edge, "creds", 5);
    CHECK(s && s->items.count == 4);
    CHECK_STR_EQ(value_of(s, "data"), "inline");
    CHECK_STR_EQ(value_of(s, "file"), "from-file");
    CHECK_STR_EQ(value_of(s, "env"), "from-env");
    CHECK_STR_EQ(value_of(s, "unset"), "");
    CHECK_STR_EQ(value_of(cfg_edge_secret_store(&o.edge, "json", 4), "api_key"), "j1");
    cfg_options_deinit(&o);

    EXPECT_ERR("[local_server.secret_stores]\n\"bad name\" = []\n", CFG_ERR_TOML,
               ":2:14: local_server.secret_stores.\"bad name\": Invalid secret store name: bad "
               "name");
    EXPECT_ERR("[local_server.secret_stores]\ns = [{ key = \"a/b\", data = \"x\" }]\n",
               CFG_ERR_TOML, ":2:14: local_server.secret_stores.s[0]: Invalid secret name: a/b");
    /* found by fuzz_fastly_toml: a quoted name holding "\n" made a two-line message */
    EXPECT_ERR("[local_server.secret_stores]\ns = [{ key = \"a\\nb\", data = \"x\" }]\n",
               CFG_ERR_TOML, ":2:14: local_server.secret_stores.s[0]: Invalid secret name: a?b");
    /* a secret's value never appears in a message, only the store and key names */
    char err2[2048];
    CHECK_EQ_INT(load("[local_server.secret_stores]\ns = [{ key = \"ok\", data = \"hunter2\" },"
                      " { key = \"b@d\", data = \"hunter3\" }]\n",
                      &o, err2, sizeof err2),
                 CFG_ERR_TOML);
    CHECK(strstr(err2, "hunter") == NULL);
    CHECK_STR_CONTAINS(err2, "Invalid secret name: b@d");
    cfg_options_deinit(&o);
    EXPECT_ERR("[local_server.secret_stores]\ns = [{ key = \"k\" }]\n", CFG_ERR_TOML,
               ":2:6: local_server.secret_stores.s[0]: None of `file`, `data`, or `env` keys for "
               "the object `k` is set. One must be used.");
    EXPECT_ERR("[local_server.secret_stores]\ns = [{ key = \"k\", data = \"x\", env = \"Y\" }]\n",
               CFG_ERR_TOML,
               ":2:6: local_server.secret_stores.s[0]: More than one of `file`, `data`, or `env` "
               "keys for the object `k` are set. Only one can be used.");
    EXPECT_ERR("[local_server.secret_stores]\ns = { file = \"x.txt\", format = \"text\" }\n",
               CFG_ERR_TOML,
               ":2:32: local_server.secret_stores.s.format: 'text' is not a valid format for the "
               "secret store. Supported format(s) are: 'json'.");
}

TEST(geolocation)
{
    char err[2048];
    cfg_options o;
    CHECK_EQ_INT(load("[local_server.geolocation]\nformat = \"inline-toml\"\n"
                      "[local_server.geolocation.addresses]\n"
                      "\"127.0.0.1\" = { as_name = \"Fastly Test\", as_number = 12345, "
                      "latitude = 37.5, is_eu = false }\n"
                      "\"2001:db8::1\" = { city = \"Somewhere\" }\n",
                      &o, err, sizeof err),
                 CFG_OK);
    CHECK_STR_EQ(err, "");
    const cfg_geo *g = o.edge.geo;
    CHECK(g && g->count == 2 && g->use_default_loopback && g->path == NULL);
    if (g && g->count == 2) {
        CHECK_STR_EQ(g->entries[0].json,
                     "{\"as_name\":\"Fastly Test\",\"as_number\":12345,\"latitude\":37.5,"
                     "\"is_eu\":false}");
        CHECK(g->entries[0].prefix.family == 4 && g->entries[0].prefix.len == 32);
        const uint8_t v6[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 1};
        const cfg_geo_entry *e = cfg_geo_lookup(g, 6, v6);
        CHECK(e && strcmp(e->json, "{\"city\":\"Somewhere\"}") == 0);
    }
    cfg_options_deinit(&o);

    write_proj("geo.json", "{\"10.0.0.1\": {\"city\": \"Ten\"}}");
    CHECK_EQ_INT(load("[local_server.geolocation]\nuse_default_loopback = false\n"
                      "format = \"json\"\nfile = \"geo.json\"\n",
                      &o, err, sizeof err),
                 CFG_OK);
    g = o.edge.geo;
    CHECK(g && g->count == 1 && !g->use_default_loopback && g->path != NULL);
    cfg_options_deinit(&o);
    /* a section with neither format nor data: no entries, the loopback default as Viceroy's */
    CHECK_EQ_INT(load("[local_server.geolocation]\n", &o, err, sizeof err), CFG_OK);
    CHECK(o.edge.geo && o.edge.geo->count == 0 && o.edge.geo->use_default_loopback);
    cfg_options_deinit(&o);

    EXPECT_ERR("[local_server.geolocation]\nformat = \"inline-toml\"\n"
               "addresses = { \"300.1.1.1\" = { city = \"x\" } }\n",
               CFG_ERR_TOML,
               ":3:29: local_server.geolocation.addresses.\"300.1.1.1\": IP address not valid: "
               "'invalid IP address syntax'");
    EXPECT_ERR("[local_server.geolocation]\nformat = \"inline-toml\"\n"
               "addresses = { \"1.2.3.4\" = { tags = [\"a\"] } }\n",
               CFG_ERR_TOML,
               ":3:27: local_server.geolocation.addresses.\"1.2.3.4\": inline geolocation value "
               "was not a string");
    EXPECT_ERR("[local_server.geolocation]\nformat = \"csv\"\n", CFG_ERR_TOML,
               ":2:10: local_server.geolocation.format: 'csv' is not a valid format for the "
               "geolocation mapping. Supported format(s) are: 'inline-toml', 'json'.");
    EXPECT_ERR("[local_server.geolocation]\nformat = \"inline-toml\"\n", CFG_ERR_TOML,
               ":1:1: local_server.geolocation: missing 'addresses' field");
}

TEST(device_detection)
{
    char err[2048];
    cfg_options o;
    CHECK_EQ_INT(load("[local_server.device_detection]\nformat = \"inline-toml\"\n"
                      "[local_server.device_detection.user_agents.\"Mozilla/5.0 (X)\"]\n"
                      "device = { name = \"Phone\", is_mobile = true, year = 2020 }\n",
                      &o, err, sizeof err),
                 CFG_OK);
    CHECK_STR_EQ(err, "");
    const cfg_device_entry *e = cfg_device_lookup(o.edge.device, "Mozilla/5.0 (X)", 15);
    CHECK(e && strcmp(e->json, "{\"device\":{\"name\":\"Phone\",\"is_mobile\":true,"
                               "\"year\":2020}}") == 0);
    CHECK(o.edge.device && o.edge.device->path == NULL);
    cfg_options_deinit(&o);
    write_proj("devices.json", "{\"UA\": {\"device\": {\"name\": \"Desk\"}}}");
    CHECK_EQ_INT(
        load("[local_server.device_detection]\nformat = \"json\"\nfile = \"devices.json\"\n", &o,
             err, sizeof err),
        CFG_OK);
    e = cfg_device_lookup(o.edge.device, "UA", 2);
    CHECK(e && strcmp(e->json, "{\"device\":{\"name\":\"Desk\"}}") == 0);
    cfg_options_deinit(&o);

    EXPECT_ERR("[local_server.device_detection]\nformat = \"inline-toml\"\nuser_agents = 1\n",
               CFG_ERR_TOML,
               ":3:15: local_server.device_detection.user_agents: 'user_agents' was not provided "
               "as a TOML table");
    EXPECT_ERR("[local_server.device_detection]\nformat = \"inline-toml\"\n"
               "user_agents = { ua = \"x\" }\n",
               CFG_ERR_TOML,
               ":3:22: local_server.device_detection.user_agents.ua: inline device detection "
               "value was not a string");
}

TEST(acls)
{
    char err[2048];
    cfg_options o;
    write_proj("acl.json", "{\"entries\": [{\"prefix\": \"10.0.0.0/8\", \"action\": \"BLOCK\"}]}");
    CHECK_EQ_INT(load("[local_server.acls]\noffice = \"acl.json\"\nlab = { file = \"acl.json\" }\n",
                      &o, err, sizeof err),
                 CFG_OK);
    CHECK_STR_EQ(err, "");
    const cfg_acl *a = cfg_edge_acl(&o.edge, "office", 6);
    CHECK(a && a->count == 1);
    CHECK(cfg_edge_acl(&o.edge, "lab", 3) != NULL);
    cfg_options_deinit(&o);
    EXPECT_ERR("[local_server.acls]\nx = 1\n", CFG_ERR_TOML,
               ":2:5: local_server.acls.x: acl must be a TOML table or string");
    EXPECT_ERR("[local_server.acls]\nx = { path = \"a.json\" }\n", CFG_ERR_TOML,
               ":2:5: local_server.acls.x: missing 'file' field");
    CHECK_EQ_INT(load("[local_server.shielding_sites]\nhere = \"Local\"\n"
                      "pop = { encrypted = \"https://a\", unencrypted = \"http://a\" }\n",
                      &o, err, sizeof err),
                 CFG_OK);
    const cfg_shield *sh = cfg_shields_find(&o.edge.shields, "here", 4);
    CHECK(sh && sh->local);
    sh = cfg_shields_find(&o.edge.shields, "pop", 3);
    CHECK(sh && !sh->local && sh->encrypted && sh->unencrypted);
    if (sh && sh->encrypted && sh->unencrypted) {
        CHECK_STR_EQ(sh->encrypted, "https://a");
        CHECK_STR_EQ(sh->unencrypted, "http://a");
    }
    cfg_options_deinit(&o);
    EXPECT_ERR("[local_server.shielding_sites]\nx = { encrypted = \"a b\", unencrypted = "
               "\"http://a\" }\n",
               CFG_ERR_TOML,
               ":2:19: local_server.shielding_sites.x: Illegal URL ('a b'): expected an http:// or "
               "https:// URL");
    EXPECT_ERR(
        "[local_server.shielding_sites]\nx = 1\n", CFG_ERR_TOML,
        ":2:5: local_server.shielding_sites.x: Illegal TOML value for shielding site; must be "
        "either the string 'local' or a table containing an encrypted and unencrypted "
        "URL.");
    EXPECT_ERR("[local_server.shielding_sites]\nx = { encrypted = \"http://a\" }\n", CFG_ERR_TOML,
               ":2:5: local_server.shielding_sites.x: Illegal table for shielding site; must have "
               "exactly one key named 'encrypted', and one named 'unencrypted'");
    EXPECT_ERR("[local_server.shielding_sites]\nx = \"remote\"\n", CFG_ERR_TOML,
               ":2:5: local_server.shielding_sites.x: Illegal TOML string for shielding site; "
               "must be 'local'");
    EXPECT_ERR("[local_server]\nfake_valid_fastly_keys = [1]\n", CFG_ERR_TOML,
               ":2:27: local_server.fake_valid_fastly_keys: expected an array of strings, found "
               "an integer in it");
}

/* -C merged under the flags: flags win by name, whatever their order; the rest comes in. */
TEST(flags_override_toml)
{
    const char *toml =
        write_proj("fastly.toml", "[local_server]\nfake_valid_fastly_keys = [\"tk\"]\n"
                                  "[local_server.backends.origin]\nurl = \"http://toml:1\"\n"
                                  "[local_server.backends.other]\nurl = \"http://toml:2\"\n"
                                  "[local_server.dictionaries.d]\nformat = \"inline-toml\"\n"
                                  "contents = { from = \"toml\" }\n"
                                  "[local_server.dictionaries.only_toml]\n"
                                  "format = \"inline-toml\"\ncontents = { k = \"v\" }\n"
                                  "[local_server.geolocation]\nformat = \"inline-toml\"\n"
                                  "addresses = { \"1.1.1.1\" = { city = \"toml\" } }\n");
    const char *flag_dict = write_proj("flagdict.json", "{\"from\": \"flag\"}");
    const char *flag_geo = write_proj("flaggeo.json", "{\"2.2.2.2\": {\"city\": \"flag\"}}");
    char dspec[900], gspec[900];
    snprintf(dspec, sizeof dspec, "d=%s", flag_dict);
    snprintf(gspec, sizeof gspec, "%s", flag_geo);
    for (int order = 0; order < 2; order++) {
        char *argv_first[] = {
            "-C",    (char *)toml, "-backend", "origin=http://flag:9", "-dictionary",
            dspec,   "-geo",       gspec,      "-fake-fastly-key",     "fk",
            "-wasm", wasm_path};
        char *argv_last[] = {"-backend",
                             "origin=http://flag:9",
                             "-dictionary",
                             dspec,
                             "-geo",
                             gspec,
                             "-fake-fastly-key",
                             "fk",
                             "-wasm",
                             wasm_path,
                             "--config",
                             (char *)toml};
        cfg_options o;
        cfg_options_init(&o);
        char err[2048] = "";
        CHECK_EQ_INT(cfg_parse_flags(&o, 12, order ? argv_last : argv_first, err, sizeof err),
                     CFG_OK);
        CHECK_STR_EQ(err, "");
        CHECK_EQ_INT(o.nbackends, 2);
        const cfg_backend *b = backend(&o, "origin");
        CHECK(b && strcmp(b->host, "flag") == 0);
        b = backend(&o, "other");
        CHECK(b && strcmp(b->host, "toml") == 0);
        CHECK_STR_EQ(value_of(cfg_edge_dictionary(&o.edge, "d", 1), "from"), "flag");
        CHECK_STR_EQ(value_of(cfg_edge_dictionary(&o.edge, "only_toml", 9), "k"), "v");
        CHECK(o.edge.geo && o.edge.geo->count == 1 && o.edge.geo->path &&
              strcmp(o.edge.geo->path, flag_geo) == 0);
        CHECK_EQ_INT(o.nfake_fastly_keys, 2);
        cfg_options_deinit(&o);
    }
    /* -override-host may name a backend that only the toml defines */
    char *oh[] = {"-C", (char *)toml, "-override-host", "other=h.example", "-wasm", wasm_path};
    cfg_options o;
    cfg_options_init(&o);
    char err[2048] = "";
    CHECK_EQ_INT(cfg_parse_flags(&o, 6, oh, err, sizeof err), CFG_OK);
    cfg_options_deinit(&o);
    char *twice[] = {"-C", (char *)toml, "-C", (char *)toml, "-wasm", wasm_path};
    cfg_options_init(&o);
    CHECK_EQ_INT(cfg_parse_flags(&o, 6, twice, err, sizeof err), CFG_ERR_USAGE);
    CHECK_STR_CONTAINS(err, "-config: given twice");
    cfg_options_deinit(&o);
}

/* The embedding API and the command line's hand-over of the whole edge data to the config. */
/* -shield over [local_server.shielding_sites]: the flag wins for its name, the rest comes in. */
TEST(shields_flags_over_toml)
{
    const char *toml = write_proj("fastly.toml", "[local_server.shielding_sites]\n"
                                                 "pdx = \"local\"\n"
                                                 "sea = { encrypted = \"https://s\", "
                                                 "unencrypted = \"http://s\" }\n");
    char *argv[] = {"-shield", "pdx=127.0.0.1:9", "-C", (char *)toml, "-wasm", wasm_path};
    cfg_options o;
    cfg_options_init(&o);
    char err[2048] = "";
    CHECK_EQ_INT(cfg_parse_flags(&o, 6, argv, err, sizeof err), CFG_OK);
    CHECK_STR_EQ(err, "");
    CHECK_EQ_INT(o.edge.shields.n, 2);
    const cfg_shield *s = cfg_shields_find(&o.edge.shields, "pdx", 3);
    CHECK(s && !s->local && s->unencrypted && strcmp(s->unencrypted, "http://127.0.0.1:9/") == 0);
    s = cfg_shields_find(&o.edge.shields, "sea", 3);
    CHECK(s && !s->local && s->encrypted && strcmp(s->encrypted, "https://s") == 0);
    /* and a copy of the edge data keeps them */
    cfg_edge copy;
    CHECK_EQ_INT(cfg_edge_clone(&copy, &o.edge, err, sizeof err), CFG_OK);
    CHECK_EQ_INT(copy.shields.n, 2);
    cfg_edge_deinit(&copy);
    cfg_options_deinit(&o);
}

TEST(config_api)
{
    write_proj("fastly.toml",
               "[local_server.backends.tls]\nurl = \"https://secure:8443\"\n"
               "use_sni = false\ngrpc = true\nca_certificate = \"" PEM_CERT_ESC "\"\n"
               "first_byte_timeout_ms = 1234\nhealth = \"healthy\"\n"
               "[local_server.kv_stores]\nkv = [{ key = \"k\", data = \"v\" }]\n"
               "[local_server.device_detection]\nformat = \"inline-toml\"\n"
               "user_agents = { ua = { device = { name = \"x\" } } }\n");
    char path[900], err[2048] = "";
    snprintf(path, sizeof path, "%s/fastly.toml", proj);
    fastlike_config *c = fastlike_config_new();
    CHECK(c != NULL);
    if (!c)
        return;
    /* the configuration's own entries win over the toml's */
    CHECK_EQ_INT(fastlike_config_add_kv_store(c, "kv", NULL, err, sizeof err), FASTLIKE_OK);
    CHECK_EQ_INT(fastlike_config_load_fastly_toml(c, path, err, sizeof err), FASTLIKE_OK);
    CHECK_STR_EQ(err, "");
    const cfg_kv_store *kv = cfg_edge_kv_store(&c->edge, "kv", 2);
    CHECK(kv && kv->count == 0);
    CHECK(cfg_device_lookup(c->edge.device, "ua", 2) != NULL);
    CHECK_EQ_INT(c->nbackends, 1);
    if (c->nbackends == 1) {
        const be_backend *b = &c->be[0];
        CHECK(b->tls && b->port == 8443 && b->grpc);
        CHECK(b->sni_hostname && b->sni_hostname[0] == '\0');
        CHECK(b->ca_pem && b->ca_pem_len == strlen(PEM_CERT));
        CHECK_EQ_INT(b->first_byte_timeout_ms, 1234);
        CHECK_EQ_INT(b->uptime, 100);
    }
    CHECK_EQ_INT(fastlike_config_load_fastly_toml(c, tmp_path("none.toml"), err, sizeof err),
                 FASTLIKE_ERR_IO);
    CHECK_STR_CONTAINS(err, "none.toml: cannot read: No such file or directory");
    write_proj("broken.toml", "[local_server\n");
    snprintf(path, sizeof path, "%s/broken.toml", proj);
    CHECK_EQ_INT(fastlike_config_load_fastly_toml(c, path, err, sizeof err), FASTLIKE_ERR_ARGS);
    CHECK_STR_CONTAINS(err, "broken.toml:1:14: expected ']'");

    /* srv_config_set_edge copies inline data (no file behind it) */
    cfg_options o;
    cfg_options_init(&o);
    write_proj("fastly.toml",
               "[local_server.secret_stores]\ns = [{ key = \"k\", data = \"v\" }]\n");
    snprintf(path, sizeof path, "%s/fastly.toml", proj);
    CHECK_EQ_INT(cfg_fastly_toml_load(path, &o, err, sizeof err), CFG_OK);
    CHECK_EQ_INT(srv_config_set_edge(c, &o.edge, err, sizeof err), FASTLIKE_OK);
    cfg_options_deinit(&o);
    CHECK_STR_EQ(value_of(cfg_edge_secret_store(&c->edge, "s", 1), "k"), "v");
    CHECK(cfg_edge_kv_store(&c->edge, "kv", 2) == NULL); /* replaced as a whole */
    fastlike_config_free(c);
}

/* Runs the binary; returns its exit status and its stderr in err. */
static int run_bin(char *const *argv, char *err, size_t errlen)
{
    int fds[2];
    if (pipe(fds) != 0)
        return -1;
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        int devnull = open("/dev/null", O_RDWR);
        dup2(devnull, STDIN_FILENO);
        dup2(devnull, STDOUT_FILENO);
        dup2(fds[1], STDERR_FILENO);
        close(fds[0]);
        execv(fastlike_bin, argv);
        _exit(127);
    }
    close(fds[1]);
    size_t used = 0;
    ssize_t n;
    while (used + 1 < errlen && (n = read(fds[0], err + used, errlen - 1 - used)) > 0)
        used += (size_t)n;
    err[used] = '\0';
    close(fds[0]);
    int st;
    if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st))
        return -1;
    return WEXITSTATUS(st);
}

TEST(binary_bad_files)
{
    static const struct {
        const char *name, *text, *msg;
    } cases[] = {
        {"syntax.toml", "[local_server]\nbackends = {\n",
         ":2:13: expected a key, found end of "
         "line (an inline table must be on one "
         "line)"},
        {"format.toml", "[local_server.dictionaries.d]\nformat = \"xml\"\n",
         ":2:10: local_server.dictionaries.d.format: 'xml' is not a valid format for the "
         "dictionary. Supported format(s) are: 'inline-toml', 'json'."},
        {"type.toml", "[local_server.backends.b]\nurl = \"http://x\"\ngrpc = 1\n",
         ":3:8: local_server.backends.b.grpc: 'grpc' field was not a boolean"},
        {"missing.toml", "[local_server.acls]\na = \"no-such.json\"\n", NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        const char *p = write_proj(cases[i].name, cases[i].text);
        char path[900], err[4096], want[2048];
        snprintf(path, sizeof path, "%s", p);
        char *argv[] = {fastlike_bin, "-C", path, wasm_path, NULL};
        CHECK_EQ_INT(run_bin(argv, err, sizeof err), 2);
        if (cases[i].msg) {
            snprintf(want, sizeof want, "fastlike: %s%s\n", path, cases[i].msg);
            CHECK_STR_EQ(err, want);
        } else {
            snprintf(want, sizeof want,
                     "fastlike: %s:2:5: local_server.acls.a: %s/no-such.json: ", path, proj);
            CHECK_STR_CONTAINS(err, want);
            CHECK_STR_CONTAINS(err, "No such file or directory\n");
            CHECK(strchr(err, '\n') == err + strlen(err) - 1); /* one line */
        }
    }
    char *none[] = {fastlike_bin, "--config", "/nonexistent/fastly.toml", wasm_path, NULL};
    char err[1024];
    CHECK_EQ_INT(run_bin(none, err, sizeof err), 2);
    CHECK_STR_EQ(err,
                 "fastlike: /nonexistent/fastly.toml: cannot read: No such file or directory\n");
}

static void find_fastlike(const char *argv0)
{
    const char *t = argv0 ? strstr(argv0, "/tests/") : NULL;
    if (t)
        snprintf(fastlike_bin, sizeof fastlike_bin, "%.*s/fastlike", (int)(t - argv0), argv0);
}

int main(int argc, char **argv)
{
    (void)argc;
    find_fastlike(argv[0]);
    if (!tmp_dir_create("fastlike-fastly-toml"))
        return 1;
    snprintf(proj, sizeof proj, "%s", tmp_path("proj"));
    mkdir(proj, 0755);
    snprintf(wasm_path, sizeof wasm_path, "%s", write_file("guest.wasm", "\0asm"));
    RUN(package_fields_and_unknown_keys);
    RUN(backends);
    RUN(backend_errors);
    RUN(dictionaries_and_config_stores);
    RUN(kv_stores);
    RUN(kv_files_at_buffer_edges);
    RUN(secret_stores);
    RUN(geolocation);
    RUN(device_detection);
    RUN(acls);
    RUN(flags_override_toml);
    RUN(shields_flags_over_toml);
    RUN(config_api);
    RUN(binary_bad_files);
    tmp_dir_remove();
    return harness_finish(argv[0]);
}
