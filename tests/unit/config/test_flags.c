/* test_flags.c: the serving flags (src/config/cfg_flags.c) and the files they load: every flag's
 * happy path, every error message, and the fastlike binary's exit status 2 with one stderr line. */
#include "harness.h"
#include "tmp_files.h"

#include "config/cfg_flags.h"

#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static char wasm_path[600];
static char fastlike_bin[1024] = "bin/fastlike";

/* Parses the NULL-terminated argument list; -wasm is added first unless `with_wasm` is false. */
static cfg_status parse_v(cfg_options *o, char *err, size_t errlen, bool with_wasm, va_list ap)
{
    char *argv[64];
    int argc = 0;
    if (with_wasm) {
        argv[argc++] = "-wasm";
        argv[argc++] = wasm_path;
    }
    const char *a;
    while ((a = va_arg(ap, const char *)) != NULL && argc < 63)
        argv[argc++] = (char *)a;
    argv[argc] = NULL;
    cfg_options_init(o);
    err[0] = '\0';
    return cfg_parse_flags(o, argc, argv, err, errlen);
}

static cfg_status parse(cfg_options *o, char *err, size_t errlen, ...)
{
    va_list ap;
    va_start(ap, errlen);
    cfg_status st = parse_v(o, err, errlen, true, ap);
    va_end(ap);
    return st;
}

static cfg_status parse_raw(cfg_options *o, char *err, size_t errlen, ...)
{
    va_list ap;
    va_start(ap, errlen);
    cfg_status st = parse_v(o, err, errlen, false, ap);
    va_end(ap);
    return st;
}

/* Expects parsing to fail with `status` and an error line containing `needle` (and no newline). */
#define EXPECT_ERR(status, needle, ...)                                                            \
    do {                                                                                           \
        cfg_options o_;                                                                            \
        char e_[2048];                                                                             \
        CHECK_EQ_INT(parse(&o_, e_, sizeof e_, __VA_ARGS__, (const char *)NULL), status);          \
        CHECK_STR_CONTAINS(e_, needle);                                                            \
        CHECK(strchr(e_, '\n') == NULL);                                                           \
        cfg_options_deinit(&o_);                                                                   \
    } while (0)

TEST(defaults)
{
    cfg_options o;
    char err[512];
    CHECK_EQ_INT(parse(&o, err, sizeof err, (const char *)NULL), CFG_OK);
    CHECK_STR_EQ(o.wasm, wasm_path);
    CHECK_STR_EQ(cfg_options_bind(&o), "localhost:5000");
    CHECK_EQ_INT(o.verbosity, 0);
    CHECK_EQ_INT(o.nbackends, 0);
    CHECK(!o.reload && !o.help && !o.profile_native && !o.unknown_import_link_error);
    CHECK_EQ_INT(o.profile_mode, CFG_PROFILE_TRACE);
    CHECK(o.edge.geo == NULL && o.profile_ui == NULL && o.compliance_region == NULL);
    CHECK(!o.request_timeout_set);
    cfg_options_deinit(&o);
}

TEST(wasm_forms)
{
    cfg_options o;
    char err[512];
    CHECK_EQ_INT(parse_raw(&o, err, sizeof err, wasm_path, "-v", "1", (const char *)NULL), CFG_OK);
    CHECK_STR_EQ(o.wasm, wasm_path);
    CHECK_EQ_INT(o.verbosity, 1);
    cfg_options_deinit(&o);
    CHECK_EQ_INT(parse_raw(&o, err, sizeof err, "--wasm", wasm_path, (const char *)NULL), CFG_OK);
    CHECK_STR_EQ(o.wasm, wasm_path);
    cfg_options_deinit(&o);
    char eq[700];
    snprintf(eq, sizeof eq, "-wasm=%s", wasm_path);
    CHECK_EQ_INT(parse_raw(&o, err, sizeof err, eq, "--", wasm_path, (const char *)NULL), CFG_OK);
    CHECK_STR_EQ(o.wasm, wasm_path);
    cfg_options_deinit(&o);
}

TEST(wasm_errors)
{
    cfg_options o;
    char err[1024];
    CHECK_EQ_INT(parse_raw(&o, err, sizeof err, "-wasm", "missing.wasm", (const char *)NULL),
                 CFG_ERR_FILE);
    CHECK_STR_EQ(err, "-wasm: cannot read missing.wasm: No such file or directory");
    cfg_options_deinit(&o);
    CHECK_EQ_INT(parse_raw(&o, err, sizeof err, "-wasm", tmpdir, (const char *)NULL), CFG_ERR_FILE);
    CHECK_STR_CONTAINS(err, "is not a regular file");
    cfg_options_deinit(&o);
    CHECK_EQ_INT(parse_raw(&o, err, sizeof err, "-v", "1", (const char *)NULL), CFG_ERR_USAGE);
    CHECK_STR_EQ(err, "missing -wasm FILE.wasm (the Compute program to serve)");
    cfg_options_deinit(&o);
    const char *other = write_file("other.wasm", "");
    CHECK_EQ_INT(parse(&o, err, sizeof err, other, (const char *)NULL), CFG_ERR_USAGE);
    CHECK_STR_CONTAINS(err, "use one");
    cfg_options_deinit(&o);
    EXPECT_ERR(CFG_ERR_USAGE, "unexpected argument 'extra' (only one FILE.wasm)", wasm_path,
               "extra");
}

TEST(bind)
{
    cfg_options o;
    char err[512];
    CHECK_EQ_INT(parse(&o, err, sizeof err, "-bind=127.0.0.1:8080", (const char *)NULL), CFG_OK);
    CHECK_STR_EQ(cfg_options_bind(&o), "127.0.0.1:8080");
    cfg_options_deinit(&o);
    CHECK_EQ_INT(parse(&o, err, sizeof err, "--bind", "[::1]:0", (const char *)NULL), CFG_OK);
    CHECK_STR_EQ(cfg_options_bind(&o), "[::1]:0");
    cfg_options_deinit(&o);
    CHECK_EQ_INT(parse(&o, err, sizeof err, "-bind", ":5001", (const char *)NULL), CFG_OK);
    cfg_options_deinit(&o);
    EXPECT_ERR(CFG_ERR_VALUE, "-bind: 'localhost': expected HOST:PORT", "-bind", "localhost");
    EXPECT_ERR(CFG_ERR_VALUE, "-bind: 'localhost:http': port must be a number 0..65535", "-bind",
               "localhost:http");
    EXPECT_ERR(CFG_ERR_VALUE, "-bind: 'h:65536': port must be", "-bind", "h:65536");
    EXPECT_ERR(CFG_ERR_USAGE, "-bind needs a value: -bind HOST:PORT", "-bind");
}

TEST(backends)
{
    cfg_options o;
    char err[512];
    CHECK_EQ_INT(parse(&o, err, sizeof err, "-backend", "localhost:8000", "-backend",
                       "api=localhost:8001@50", "-b", "tls=https://example.com",
                       "--backend=auth=http://user:pass@origin:8080/base", "-backend",
                       "down=127.0.0.1:9@0", "-backend", "up=[::1]:9000@100", (const char *)NULL),
                 CFG_OK);
    CHECK_EQ_INT(o.nbackends, 6);
    if (o.nbackends == 6) {
        cfg_backend *b = o.backends;
        CHECK(b[0].name == NULL);
        CHECK_STR_EQ(b[0].url, "http://localhost:8000");
        CHECK_STR_EQ(b[0].spec, "localhost:8000");
        CHECK_EQ_INT(b[0].uptime, CFG_UPTIME_NONE);
        CHECK_STR_EQ(b[1].name, "api");
        CHECK_STR_EQ(b[1].host, "localhost");
        CHECK_EQ_INT(b[1].port, 8001);
        CHECK_EQ_INT(b[1].uptime, 50);
        CHECK(b[2].tls);
        CHECK_EQ_INT(b[2].port, 443);
        CHECK_STR_EQ(b[2].url, "https://example.com:443");
        CHECK_STR_EQ(b[3].userinfo, "user:pass"); /* '@' in userinfo is not a share */
        CHECK_STR_EQ(b[3].host, "origin");
        CHECK_STR_EQ(b[3].path, "/base");
        CHECK_EQ_INT(b[3].uptime, CFG_UPTIME_NONE);
        CHECK_EQ_INT(b[4].uptime, 0);
        CHECK_STR_EQ(b[5].host, "::1");
        CHECK_STR_EQ(b[5].url, "http://[::1]:9000");
        CHECK_EQ_INT(b[5].uptime, 100);
    }
    cfg_options_deinit(&o);
    /* userinfo and a share together: only the trailing @digits is the share */
    CHECK_EQ_INT(parse(&o, err, sizeof err, "-backend", "x=http://u:p@h:81@25", (const char *)NULL),
                 CFG_OK);
    if (o.nbackends == 1) {
        CHECK_STR_EQ(o.backends[0].userinfo, "u:p");
        CHECK_EQ_INT(o.backends[0].uptime, 25);
    }
    cfg_options_deinit(&o);
}

TEST(backend_errors)
{
    EXPECT_ERR(CFG_ERR_VALUE, "-backend: reliability suffix '@101' out of range, must be @0..@100",
               "-backend", "api=localhost:8000@101");
    EXPECT_ERR(CFG_ERR_VALUE, "reliability suffix '@99999999999999999999' out of range", "-backend",
               "localhost:8000@99999999999999999999");
    EXPECT_ERR(CFG_ERR_USAGE, "-backend needs a value: -backend [NAME=]ADDR[@N]", "-backend");
    EXPECT_ERR(CFG_ERR_VALUE, "-backend: backend 'api' is given twice", "-backend", "api=h:1", "-b",
               "api=h:2");
    EXPECT_ERR(CFG_ERR_VALUE, "the catch-all backend (no name) is given twice", "-backend", "h:1",
               "-backend", "h:2");
    EXPECT_ERR(CFG_ERR_VALUE, "-backend: 'api=': missing address", "-backend", "api=");
    /* issue 15: these used to be accepted silently */
    EXPECT_ERR(CFG_ERR_VALUE, "-backend: '=127.0.0.1:1': the backend name before '=' is empty",
               "-backend", "=127.0.0.1:1");
    EXPECT_ERR(CFG_ERR_VALUE, "-backend: 'b=c': 'b=c' is not a valid host name", "-backend",
               "a=b=c");
    EXPECT_ERR(CFG_ERR_VALUE, "-backend: reliability suffix '@-1' out of range, must be @0..@100",
               "-backend", "x@-1");
    EXPECT_ERR(CFG_ERR_VALUE, "only http:// and https:// backends", "-backend", "ftp://h");
    EXPECT_ERR(CFG_ERR_VALUE, "port must be a number 1..65535", "-backend", "h:0");
    EXPECT_ERR(CFG_ERR_VALUE, "missing host", "-backend", "http://:80");
    EXPECT_ERR(CFG_ERR_VALUE, "put an IPv6 address in brackets", "-backend", "::1:80");
    /* found by fuzz_backend: the value was echoed with its newline, a two-line error */
    EXPECT_ERR(CFG_ERR_VALUE, "-backend: control character 0x0a at byte 6", "-backend",
               "apiap\ni=[:::?p0");
    EXPECT_ERR(CFG_ERR_VALUE, "-bind: control character 0x0d at byte 2", "-bind", "h\r:80");
}

TEST(override_host)
{
    cfg_options o;
    char err[512];
    CHECK_EQ_INT(parse(&o, err, sizeof err, "-override-host", "origin=www.example.com", "-backend",
                       "origin=localhost:8000", "-backend", "localhost:9000", "-override-host",
                       "example.org:8443", (const char *)NULL),
                 CFG_OK);
    CHECK_EQ_INT(o.noverride_hosts, 2);
    if (o.noverride_hosts == 2) {
        CHECK_STR_EQ(o.override_hosts[0].backend, "origin");
        CHECK_STR_EQ(o.override_hosts[0].host, "www.example.com");
        CHECK(o.override_hosts[1].backend == NULL);
        CHECK_STR_EQ(o.override_hosts[1].host, "example.org:8443");
    }
    cfg_options_deinit(&o);
    EXPECT_ERR(CFG_ERR_VALUE, "-override-host: names backend 'nope', which no -backend",
               "-override-host", "nope=example.com");
    EXPECT_ERR(CFG_ERR_VALUE, "targets the catch-all backend, but no catch-all", "-override-host",
               "example.com", "-backend", "a=h:1");
    EXPECT_ERR(CFG_ERR_VALUE, "'http://example.com/' is not a host[:port] authority",
               "-override-host", "http://example.com/");
}

TEST(verbosity)
{
    const char *levels[] = {"0", "1", "2"};
    for (int i = 0; i < 3; i++) {
        cfg_options o;
        char err[512];
        CHECK_EQ_INT(parse(&o, err, sizeof err, "-v", levels[i], (const char *)NULL), CFG_OK);
        CHECK_EQ_INT(o.verbosity, i);
        cfg_options_deinit(&o);
    }
    cfg_options o;
    char err[512];
    CHECK_EQ_INT(parse(&o, err, sizeof err, "-v=2", (const char *)NULL), CFG_OK);
    CHECK_EQ_INT(o.verbosity, 2);
    cfg_options_deinit(&o);
    EXPECT_ERR(CFG_ERR_VALUE, "-v: '3': verbosity must be 0, 1 or 2", "-v", "3");
    EXPECT_ERR(CFG_ERR_VALUE, "-v: 'x': verbosity must be 0, 1 or 2", "-v", "x");
    EXPECT_ERR(CFG_ERR_VALUE, "-v: '': verbosity must be", "-v", "");
    EXPECT_ERR(CFG_ERR_VALUE, "-v: '-1': verbosity must be", "-v", "-1");
    EXPECT_ERR(CFG_ERR_VALUE, "-v: ' 1': verbosity must be", "-v", " 1");
    EXPECT_ERR(CFG_ERR_VALUE, "-v: '\t2': verbosity must be", "-v", "\t2");
    EXPECT_ERR(CFG_ERR_VALUE, "-v: '1 ': verbosity must be", "-v", "1 ");
    EXPECT_ERR(CFG_ERR_USAGE, "-v needs a value: -v 0|1|2", "-v");
}

TEST(booleans)
{
    cfg_options o;
    char err[512];
    CHECK_EQ_INT(parse(&o, err, sizeof err, "-reload", "-profile-native", (const char *)NULL),
                 CFG_OK);
    CHECK(o.reload && o.profile_native);
    cfg_options_deinit(&o);
    CHECK_EQ_INT(parse(&o, err, sizeof err, "-reload", "--reload=false", "-profile-native=true",
                       (const char *)NULL),
                 CFG_OK);
    CHECK(!o.reload && o.profile_native);
    cfg_options_deinit(&o);
    EXPECT_ERR(CFG_ERR_VALUE, "-reload: 'maybe' is not a boolean", "-reload=maybe");
}

/* -dictionary, -config-store and -secret-store share one format. */
static void check_string_store(const char *flag)
{
    const char *ok = write_file("strings.json", "{\"api_key\": \"secret123\", \"version\": "
                                                "\"1.0.0\", \"empty\": \"\"}");
    char spec[800];
    snprintf(spec, sizeof spec, "cfg=%s", ok);
    cfg_options o;
    char err[1024];
    CHECK_EQ_INT(parse(&o, err, sizeof err, flag, spec, (const char *)NULL), CFG_OK);
    cfg_dictionary *d = NULL;
    size_t n = 0;
    if (strcmp(flag, "-config-store") == 0) {
        d = o.edge.config_stores;
        n = o.edge.nconfig_stores;
    } else if (strcmp(flag, "-secret-store") == 0) {
        d = o.edge.secret_stores;
        n = o.edge.nsecret_stores;
    } else {
        d = o.edge.dictionaries;
        n = o.edge.ndictionaries;
    }
    CHECK_EQ_INT(n, 1);
    if (n == 1) {
        CHECK_STR_EQ(d->name, "cfg");
        CHECK_STR_EQ(d->path, ok);
        CHECK_EQ_INT(d->items.count, 3);
        const cfg_string_entry *e = cfg_string_map_get(&d->items, "version", 7);
        CHECK(e != NULL);
        if (e)
            CHECK_STR_EQ(e->value, "1.0.0");
        e = cfg_string_map_get(&d->items, "empty", 5);
        CHECK(e != NULL && e->value_len == 0);
        CHECK(cfg_string_map_get(&d->items, "nope", 4) == NULL);
    }
    cfg_options_deinit(&o);

    char needle[256];
    snprintf(needle, sizeof needle, "%s: 'cfg': expected NAME=FILE.json", flag);
    EXPECT_ERR(CFG_ERR_VALUE, needle, flag, "cfg");
    snprintf(needle, sizeof needle, "%s: '=x.json': expected NAME=FILE.json", flag);
    EXPECT_ERR(CFG_ERR_VALUE, needle, flag, "=x.json");
    snprintf(needle, sizeof needle, "%s: 'cfg' is given twice", flag);
    EXPECT_ERR(CFG_ERR_VALUE, needle, flag, spec, flag, spec);
    snprintf(needle, sizeof needle, "%s: nofile.json: cannot read: No such file or directory",
             flag);
    EXPECT_ERR(CFG_ERR_FILE, needle, flag, "cfg=nofile.json");

    const char *bad = write_file("bad.json", "{\n  \"a\": \"x\",\n  \"b\": \"y\",,\n}\n");
    snprintf(spec, sizeof spec, "cfg=%s", bad);
    /* a secrets file's error does not quote the text near it (it may be a secret) */
    snprintf(needle, sizeof needle, "%s: %s:3:12: invalid JSON: string or '}' expected%s", flag,
             bad, strcmp(flag, "-secret-store") == 0 ? "" : " near ','");
    EXPECT_ERR(CFG_ERR_JSON, needle, flag, spec);

    const char *num = write_file("num.json", "{\"a\": \"x\", \"n\": 5}");
    snprintf(spec, sizeof spec, "cfg=%s", num);
    EXPECT_ERR(CFG_ERR_JSON, "key \"n\": value must be a string, found a number", flag, spec);

    const char *arr = write_file("arr.json", "[\"a\"]");
    snprintf(spec, sizeof spec, "cfg=%s", arr);
    EXPECT_ERR(CFG_ERR_JSON, "expected a JSON object of \"key\": value pairs, found an array", flag,
               spec);

    const char *dup = write_file("dup.json", "{\"a\": \"x\", \"a\": \"y\"}");
    snprintf(spec, sizeof spec, "cfg=%s", dup);
    EXPECT_ERR(CFG_ERR_JSON, "duplicate object key", flag, spec);

    snprintf(spec, sizeof spec, "cfg=%s", tmpdir);
    EXPECT_ERR(CFG_ERR_FILE, "cannot read: is a directory", flag, spec);
}

TEST(dictionary)
{
    check_string_store("-dictionary");
    cfg_options o;
    char err[1024];
    char spec[800];
    snprintf(spec, sizeof spec, "a=%s", write_file("d.json", "{\"k\": \"v\"}"));
    char spec2[800];
    snprintf(spec2, sizeof spec2, "b=%s", write_file("d2.json", "{}"));
    CHECK_EQ_INT(parse(&o, err, sizeof err, "-d", spec, "--dictionary", spec2, (const char *)NULL),
                 CFG_OK);
    CHECK_EQ_INT(o.edge.ndictionaries, 2);
    if (o.edge.ndictionaries == 2)
        CHECK_EQ_INT(o.edge.dictionaries[1].items.count, 0);
    cfg_options_deinit(&o);
}

TEST(config_store)
{
    check_string_store("-config-store");
}

TEST(secret_store)
{
    check_string_store("-secret-store");
}

TEST(kv)
{
    const char *file =
        write_file("kv.json", "{\"simple_key\": \"simple value\",\n"
                              " \"with_meta\": {\"body\": \"the value\", \"metadata\": \"m1\"},\n"
                              " \"viceroy\": {\"data\": \"d\"}}");
    char spec[800];
    snprintf(spec, sizeof spec, "store=%s", file);
    cfg_options o;
    char err[1024];
    CHECK_EQ_INT(parse(&o, err, sizeof err, "-kv", "empty", "-kv", spec, (const char *)NULL),
                 CFG_OK);
    CHECK_EQ_INT(o.edge.nkv_stores, 2);
    if (o.edge.nkv_stores == 2) {
        CHECK_STR_EQ(o.edge.kv_stores[0].name, "empty");
        CHECK(o.edge.kv_stores[0].path == NULL && o.edge.kv_stores[0].count == 0);
        const cfg_kv_store *kv = &o.edge.kv_stores[1];
        CHECK_EQ_INT(kv->count, 3);
        const cfg_kv_entry *e = cfg_kv_store_get(kv, "simple_key", 10);
        CHECK(e && e->metadata == NULL);
        if (e)
            CHECK_STR_EQ(e->body, "simple value");
        e = cfg_kv_store_get(kv, "with_meta", 9);
        CHECK(e != NULL);
        if (e) {
            CHECK_STR_EQ(e->body, "the value");
            CHECK_STR_EQ(e->metadata, "m1");
        }
        e = cfg_kv_store_get(kv, "viceroy", 7);
        CHECK(e != NULL);
        if (e)
            CHECK_STR_EQ(e->body, "d");
    }
    cfg_options_deinit(&o);

    EXPECT_ERR(CFG_ERR_VALUE, "-kv: '=x.json': expected NAME or NAME=FILE.json", "-kv", "=x.json");
    EXPECT_ERR(CFG_ERR_VALUE, "-kv: 'a=': expected NAME or NAME=FILE.json", "-kv", "a=");
    EXPECT_ERR(CFG_ERR_VALUE, "-kv: 'a' is given twice", "-kv", "a", "-kv", "a");
    EXPECT_ERR(CFG_ERR_FILE, "-kv: nofile.json: cannot read", "-kv", "a=nofile.json");
    snprintf(spec, sizeof spec, "a=%s", write_file("kvbad.json", "{\"k\": 1}"));
    EXPECT_ERR(CFG_ERR_JSON, "key \"k\": value must be a string or an object with body/metadata",
               "-kv", spec);
    snprintf(spec, sizeof spec, "a=%s",
             write_file("kvbad2.json", "{\"k\": {\"metadata\": \"m\"}}"));
    EXPECT_ERR(CFG_ERR_JSON, "key \"k\": object needs a \"body\" string", "-kv", spec);
    snprintf(spec, sizeof spec, "a=%s",
             write_file("kvbad3.json", "{\"k\": {\"body\": \"b\", "
                                       "\"metadata\": 3}}"));
    EXPECT_ERR(CFG_ERR_JSON, "\"metadata\" must be a string, found a number", "-kv", spec);
    snprintf(spec, sizeof spec, "a=%s",
             write_file("kvbad4.json", "{\"k\": {\"body\": \"b\", "
                                       "\"ttl\": 3}}"));
    EXPECT_ERR(CFG_ERR_JSON, "unknown field \"ttl\"", "-kv", spec);
    snprintf(spec, sizeof spec, "a=%s", write_file("kvbad5.json", "{\"k\": \"v\"\n\"x\""));
    EXPECT_ERR(CFG_ERR_JSON, "kvbad5.json:2:", "-kv", spec);
}

TEST(acl)
{
    const char *file = write_file(
        "acl.json", "{\"entries\": [{\"prefix\": \"192.168.0.0/16\", \"action\": \"ALLOW\"},\n"
                    "{\"op\": \"create\", \"prefix\": \"192.168.7.9/24\", \"action\": \"block\"},\n"
                    "{\"prefix\": \"2001:db8::/32\", \"action\": \"BLOCK\"}]}");
    char spec[800];
    snprintf(spec, sizeof spec, "blocklist=%s", file);
    cfg_options o;
    char err[1024];
    CHECK_EQ_INT(parse(&o, err, sizeof err, "-acl", spec, (const char *)NULL), CFG_OK);
    CHECK_EQ_INT(o.edge.nacls, 1);
    if (o.edge.nacls == 1) {
        const cfg_acl *acl = &o.edge.acls[0];
        CHECK_STR_EQ(acl->name, "blocklist");
        CHECK_EQ_INT(acl->count, 3);
        const uint8_t in16[4] = {192, 168, 1, 1}, in24[4] = {192, 168, 7, 200};
        const uint8_t out4[4] = {10, 0, 0, 1};
        const cfg_acl_entry *e = cfg_acl_lookup(acl, 4, in16);
        CHECK(e && e->action == CFG_ACL_ALLOW && e->prefix.len == 16);
        e = cfg_acl_lookup(acl, 4, in24); /* longest prefix wins; host bits were cleared */
        CHECK(e && e->action == CFG_ACL_BLOCK && e->prefix.len == 24);
        CHECK(cfg_acl_lookup(acl, 4, out4) == NULL);
        const uint8_t v6[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
        e = cfg_acl_lookup(acl, 6, v6);
        CHECK(e && e->action == CFG_ACL_BLOCK);
    }
    cfg_options_deinit(&o);
    EXPECT_ERR(CFG_ERR_VALUE, "-acl: 'x': expected NAME=FILE.json", "-acl", "x");
    snprintf(spec, sizeof spec, "a=%s", write_file("acl1.json", "{\"items\": []}"));
    EXPECT_ERR(CFG_ERR_JSON, "expected {\"entries\": [", "-acl", spec);
    snprintf(spec, sizeof spec, "a=%s",
             write_file("acl2.json", "{\"entries\": [{\"prefix\": \"10.0.0.0/33\", \"action\": "
                                     "\"ALLOW\"}]}"));
    EXPECT_ERR(CFG_ERR_JSON, "entries[0]: invalid prefix \"10.0.0.0/33\"", "-acl", spec);
    snprintf(spec, sizeof spec, "a=%s",
             write_file("acl3.json", "{\"entries\": [{\"prefix\": \"10.0.0.1\", \"action\": "
                                     "\"ALLOW\"}]}"));
    EXPECT_ERR(CFG_ERR_JSON, "entries[0]: invalid prefix \"10.0.0.1\"", "-acl", spec);
    snprintf(spec, sizeof spec, "a=%s",
             write_file("acl4.json", "{\"entries\": [{\"prefix\": \"10.0.0.0/8\", \"action\": "
                                     "\"ALLOW\"}, {\"prefix\": \"10.0.0.0/8\", \"action\": "
                                     "\"DENY\"}]}"));
    EXPECT_ERR(CFG_ERR_JSON, "entries[1]: \"action\" must be \"ALLOW\" or \"BLOCK\"", "-acl", spec);
}

TEST(geo)
{
    const char *file = write_file(
        "geo.json", "{\"192.168.1.0/24\": {\"city\": \"San Francisco\", \"country_code\": \"US\", "
                    "\"latitude\": 37.7749, \"longitude\": -122.4194},\n"
                    "\"192.168.1.7\": {\"city\": \"New York\", \"as_number\": 64500},\n"
                    "\"::1\": {\"city\": \"Loopback\", \"extra\": [1]}}");
    cfg_options o;
    char err[1024];
    CHECK_EQ_INT(parse(&o, err, sizeof err, "-geo", file, (const char *)NULL), CFG_OK);
    CHECK(o.edge.geo != NULL);
    if (o.edge.geo) {
        CHECK_EQ_INT(o.edge.geo->count, 3);
        const uint8_t a[4] = {192, 168, 1, 7}, b[4] = {192, 168, 1, 8}, c[4] = {8, 8, 8, 8};
        const cfg_geo_entry *e = cfg_geo_lookup(o.edge.geo, 4, a);
        CHECK(e != NULL);
        if (e)
            CHECK_STR_EQ(e->json, "{\"city\":\"New York\",\"as_number\":64500}");
        e = cfg_geo_lookup(o.edge.geo, 4, b);
        CHECK(e != NULL);
        if (e)
            CHECK_STR_CONTAINS(e->json, "\"San Francisco\"");
        CHECK(cfg_geo_lookup(o.edge.geo, 4, c) == NULL);
        const uint8_t lo[16] = {[15] = 1};
        e = cfg_geo_lookup(o.edge.geo, 6, lo);
        CHECK(e != NULL);
        if (e)
            CHECK_STR_CONTAINS(e->json, "\"extra\":[1]");
    }
    cfg_options_deinit(&o);
    EXPECT_ERR(CFG_ERR_FILE, "-geo: nofile.json: cannot read", "-geo", "nofile.json");
    EXPECT_ERR(CFG_ERR_JSON, "\"10.0.0.300\" is not an IP address or CIDR prefix", "-geo",
               write_file("g1.json", "{\"10.0.0.300\": {}}"));
    EXPECT_ERR(CFG_ERR_JSON, "\"10.0.0.1\": \"latitude\" must be a number, found a string", "-geo",
               write_file("g2.json", "{\"10.0.0.1\": {\"latitude\": \"37\"}}"));
    EXPECT_ERR(CFG_ERR_JSON, "\"10.0.0.1\": \"city\" must be a string, found a number", "-geo",
               write_file("g3.json", "{\"10.0.0.1\": {\"city\": 1}}"));
    EXPECT_ERR(CFG_ERR_JSON, "\"10.0.0.1\": expected a location object, found a string", "-geo",
               write_file("g4.json", "{\"10.0.0.1\": \"Austin\"}"));
    EXPECT_ERR(CFG_ERR_JSON, "g5.json:1:0: invalid JSON: '[' or '{' expected near end of file",
               "-geo", write_file("g5.json", ""));
    /* a .mmdb name is a MaxMind database */
    EXPECT_ERR(CFG_ERR_JSON, "-geo: ", "-geo", write_file("g6.mmdb", "{}"));
    EXPECT_ERR(CFG_ERR_JSON, "g6.mmdb: not a valid MaxMind database (.mmdb)", "-geo",
               write_file("g6.mmdb", "{}"));
    EXPECT_ERR(CFG_ERR_FILE, "nofile.mmdb: cannot read the file", "-geo", "nofile.mmdb");
}

TEST(device_detection)
{
    const char *file = write_file("devices.json", "{\"UA/1\": {\"device\": {\"name\": \"X\"}}}");
    cfg_options o;
    char err[1024];
    CHECK_EQ_INT(parse(&o, err, sizeof err, "-device-detection", file, (const char *)NULL), CFG_OK);
    CHECK(o.edge.device != NULL);
    const cfg_device_entry *e = cfg_device_lookup(o.edge.device, "UA/1", 4);
    CHECK(e != NULL);
    if (e)
        CHECK_STR_EQ(e->json, "{\"device\":{\"name\":\"X\"}}");
    cfg_options_deinit(&o);
    EXPECT_ERR(CFG_ERR_FILE, "-device-detection: ", "-device-detection", "nofile.json");
    EXPECT_ERR(CFG_ERR_JSON, "dd1.json: user agent 'UA': expected an object", "-device-detection",
               write_file("dd1.json", "{\"UA\": 1}"));
}

TEST(logger)
{
    char path[700];
    snprintf(path, sizeof path, "%s/access.log", tmpdir);
    char spec[800];
    snprintf(spec, sizeof spec, "access=%s", path);
    unlink(path);
    cfg_options o;
    char err[1024];
    CHECK_EQ_INT(
        parse(&o, err, sizeof err, "-logger", "stdout_log", "-logger", spec, (const char *)NULL),
        CFG_OK);
    CHECK_EQ_INT(o.edge.nloggers, 2);
    if (o.edge.nloggers == 2) {
        CHECK_STR_EQ(o.edge.loggers[0].name, "stdout_log");
        CHECK(o.edge.loggers[0].path == NULL);
        CHECK_STR_EQ(o.edge.loggers[1].path, path);
    }
    CHECK(access(path, F_OK) == 0); /* created at startup, as Fastlike does */
    cfg_options_deinit(&o);
    snprintf(spec, sizeof spec, "x=%s/no/such/dir/log", tmpdir);
    EXPECT_ERR(CFG_ERR_FILE, "for appending: No such file or directory", "-logger", spec);
    EXPECT_ERR(CFG_ERR_VALUE, "-logger: 'a' is given twice", "-logger", "a", "-logger", "a");
    EXPECT_ERR(CFG_ERR_VALUE, "-logger: '=f': expected NAME or NAME=FILE", "-logger", "=f");
}

TEST(compliance_region)
{
    const char *regions[] = {"none", "us-eu", "us"};
    for (int i = 0; i < 3; i++) {
        cfg_options o;
        char err[512];
        CHECK_EQ_INT(
            parse(&o, err, sizeof err, "-compliance-region", regions[i], (const char *)NULL),
            CFG_OK);
        CHECK_STR_EQ(o.compliance_region, regions[i]);
        cfg_options_deinit(&o);
    }
    EXPECT_ERR(CFG_ERR_VALUE, "-compliance-region: 'eu': must be none, us-eu or us",
               "-compliance-region", "eu");
}

TEST(shield)
{
    cfg_options o;
    char err[512];
    CHECK_EQ_INT(parse(&o, err, sizeof err, "-shield", "pdx-or-us=local", "-shield",
                       "paris-fr=127.0.0.1:7676", "-shield", "sea=https://shield.test:8443/x",
                       (const char *)NULL),
                 CFG_OK);
    CHECK_EQ_INT(o.edge.shields.n, 3);
    const cfg_shield *s = cfg_shields_find(&o.edge.shields, "pdx-or-us", 9);
    CHECK(s && s->local && !s->unencrypted && !s->encrypted);
    s = cfg_shields_find(&o.edge.shields, "paris-fr", 8);
    CHECK(s && !s->local);
    if (s) {
        CHECK_STR_EQ(s->unencrypted, "http://127.0.0.1:7676/");
        CHECK_STR_EQ(s->encrypted, "http://127.0.0.1:7676/");
    }
    s = cfg_shields_find(&o.edge.shields, "sea", 3);
    CHECK(s && s->unencrypted && strcmp(s->unencrypted, "https://shield.test:8443/x") == 0);
    CHECK(!cfg_shields_find(&o.edge.shields, "PDX-OR-US", 9)); /* names are exact */
    cfg_options_deinit(&o);
    EXPECT_ERR(CFG_ERR_VALUE, "-shield: 'pdx': expected NAME=local or NAME=HOST:PORT", "-shield",
               "pdx");
    EXPECT_ERR(CFG_ERR_VALUE, "-shield: '=local': expected NAME=local", "-shield", "=local");
    EXPECT_ERR(CFG_ERR_VALUE, "-shield: 'x=': expected NAME=local", "-shield", "x=");
    EXPECT_ERR(CFG_ERR_VALUE, "-shield: shield 'a' is given twice", "-shield", "a=local", "-shield",
               "a=127.0.0.1:1");
    EXPECT_ERR(CFG_ERR_VALUE, "-shield: shield 'a': 'ftp://h/' is not an http:// or https:// URL",
               "-shield", "a=ftp://h");
    EXPECT_ERR(CFG_ERR_VALUE, "is not an http:// or https:// URL", "-shield", "a=http://");
    EXPECT_ERR(CFG_ERR_USAGE, "-shield needs a value", "-shield");
}

TEST(kv_dir)
{
    cfg_options o;
    char err[512];
    CHECK_EQ_INT(parse(&o, err, sizeof err, "-kv", "a", "-kv-dir", "data/kv", (const char *)NULL),
                 CFG_OK);
    CHECK_STR_EQ(o.kv_dir, "data/kv");
    cfg_options_deinit(&o);
    CHECK_EQ_INT(parse(&o, err, sizeof err, "-kv", "a", (const char *)NULL), CFG_OK);
    CHECK(o.kv_dir == NULL);
    cfg_options_deinit(&o);
    EXPECT_ERR(CFG_ERR_VALUE, "-kv-dir: expected a directory for the KV database", "-kv-dir", "");
}

TEST(fake_fastly_key)
{
    cfg_options o;
    char err[512];
    CHECK_EQ_INT(parse(&o, err, sizeof err, "-fake-fastly-key", "test-key", "-fake-fastly-key", "",
                       "-fake-fastly-key=another-key", (const char *)NULL),
                 CFG_OK);
    CHECK_EQ_INT(o.nfake_fastly_keys, 2);
    if (o.nfake_fastly_keys == 2) {
        CHECK_STR_EQ(o.fake_fastly_keys[0], "test-key");
        CHECK_STR_EQ(o.fake_fastly_keys[1], "another-key");
    }
    cfg_options_deinit(&o);
    EXPECT_ERR(CFG_ERR_USAGE, "-fake-fastly-key needs a value", "-fake-fastly-key");
}

TEST(profile)
{
    cfg_options o;
    char err[512];
    CHECK_EQ_INT(parse(&o, err, sizeof err, "-profile-ui", "localhost:6060", "-profile-mode",
                       "deep", (const char *)NULL),
                 CFG_OK);
    CHECK_STR_EQ(o.profile_ui, "localhost:6060");
    CHECK_EQ_INT(o.profile_mode, CFG_PROFILE_DEEP);
    CHECK_STR_EQ(cfg_profile_mode_name(o.profile_mode), "deep");
    cfg_options_deinit(&o);
    CHECK_EQ_INT(parse(&o, err, sizeof err, "-profile", "off", (const char *)NULL), CFG_OK);
    CHECK_EQ_INT(o.profile_mode, CFG_PROFILE_OFF);
    cfg_options_deinit(&o);
    EXPECT_ERR(CFG_ERR_VALUE, "-profile-mode: 'full': must be off, trace, native, combined or deep",
               "-profile-mode", "full");
    EXPECT_ERR(CFG_ERR_VALUE, "-profile-ui: '6060': expected HOST:PORT", "-profile-ui", "6060");
}

TEST(unknown_import)
{
    cfg_options o;
    char err[512];
    CHECK_EQ_INT(parse(&o, err, sizeof err, "-unknown-import", "link-error", (const char *)NULL),
                 CFG_OK);
    CHECK(o.unknown_import_link_error);
    cfg_options_deinit(&o);
    CHECK_EQ_INT(parse(&o, err, sizeof err, "-unknown-import=trap", (const char *)NULL), CFG_OK);
    CHECK(!o.unknown_import_link_error);
    cfg_options_deinit(&o);
    EXPECT_ERR(CFG_ERR_VALUE, "-unknown-import: 'ignore': must be trap or link-error",
               "-unknown-import", "ignore");
}

TEST(tier)
{
    cfg_options o;
    char err[512];
    CHECK_EQ_INT(parse(&o, err, sizeof err, (const char *)NULL), CFG_OK);
    CHECK(o.tier == NULL); /* not given: the engine's default (FWE_TIER, else auto) */
    cfg_options_deinit(&o);
    CHECK_EQ_INT(parse(&o, err, sizeof err, "-tier", "native", (const char *)NULL), CFG_OK);
    CHECK_STR_EQ(o.tier, "native");
    cfg_options_deinit(&o);
    CHECK_EQ_INT(parse(&o, err, sizeof err, "-tier=interp", (const char *)NULL), CFG_OK);
    CHECK_STR_EQ(o.tier, "interp");
    cfg_options_deinit(&o);
    EXPECT_ERR(CFG_ERR_VALUE, "-tier: 'jit': must be interp, auto or native", "-tier", "jit");
}

TEST(request_timeout)
{
    cfg_options o;
    char err[512];
    CHECK_EQ_INT(parse(&o, err, sizeof err, "-request-timeout", "30000", (const char *)NULL),
                 CFG_OK);
    CHECK(o.request_timeout_set);
    CHECK_EQ_U64(o.request_timeout_ms, 30000);
    cfg_options_deinit(&o);
    EXPECT_ERR(CFG_ERR_VALUE, "-request-timeout: '-5': expected milliseconds", "-request-timeout",
               "-5");
    EXPECT_ERR(CFG_ERR_VALUE, "-request-timeout: '10s': expected milliseconds", "-request-timeout",
               "10s");
}

TEST(syntax_errors_and_help)
{
    EXPECT_ERR(CFG_ERR_USAGE, "unknown flag '-nope' (see fastlike -h)", "-nope");
    EXPECT_ERR(CFG_ERR_USAGE, "unknown flag '-backends'", "--backends=x");
    EXPECT_ERR(CFG_ERR_USAGE, "bad flag syntax: '---v'", "---v");
    EXPECT_ERR(CFG_ERR_USAGE, "bad flag syntax: '-=1'", "-=1");
    const char *helps[] = {"-h", "--help", "-help"};
    for (int i = 0; i < 3; i++) {
        cfg_options o;
        char err[512];
        /* help wins even over later bad flags and a missing -wasm */
        CHECK_EQ_INT(parse_raw(&o, err, sizeof err, helps[i], "-nope", (const char *)NULL), CFG_OK);
        CHECK(o.help);
        cfg_options_deinit(&o);
    }
}

TEST(usage_lists_every_flag)
{
    const char *u = cfg_usage_text();
    const char *flags[] = {"-wasm ",
                           "-bind ",
                           "-backend, -b ",
                           "-override-host ",
                           "-v 0|1|2",
                           "-reload",
                           "-dictionary, -d",
                           "-config-store ",
                           "-kv ",
                           "-kv-dir ",
                           "-secret-store ",
                           "-acl ",
                           "-geo ",
                           "-device-detection ",
                           "-logger ",
                           "-shield ",
                           "-compliance-region ",
                           "-fake-fastly-key ",
                           "-profile-ui ",
                           "-profile-mode, -profile",
                           "-profile-native",
                           "-unknown-import ",
                           "-request-timeout ",
                           "-h, -help",
                           "localhost:5000"};
    for (size_t i = 0; i < sizeof flags / sizeof *flags; i++)
        CHECK_STR_CONTAINS(u, flags[i]);
}

/* Runs the fastlike binary with argv (NULL-terminated, argv[0] included); returns its exit
 * status (or -1) and its stderr in err. */
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

static int count_lines(const char *s)
{
    int n = 0;
    for (; *s; s++)
        n += *s == '\n';
    return n;
}

TEST(binary_startup_errors)
{
    char err[4096];
    char *missing[] = {fastlike_bin, "-wasm", "missing.wasm", NULL};
    CHECK_EQ_INT(run_bin(missing, err, sizeof err), 2);
    CHECK_STR_EQ(err, "fastlike: -wasm: cannot read missing.wasm: No such file or directory\n");

    char *nope[] = {fastlike_bin, "-nope", NULL};
    CHECK_EQ_INT(run_bin(nope, err, sizeof err), 2);
    CHECK_STR_EQ(err, "fastlike: unknown flag '-nope' (see fastlike -h)\n");

    char *badv[] = {fastlike_bin, "-wasm", wasm_path, "-v", "7", NULL};
    CHECK_EQ_INT(run_bin(badv, err, sizeof err), 2);
    CHECK_STR_EQ(err, "fastlike: -v: '7': verbosity must be 0, 1 or 2\n");

    char *badn[] = {fastlike_bin, "-wasm", wasm_path, "-backend", "a=h:1@101", NULL};
    CHECK_EQ_INT(run_bin(badn, err, sizeof err), 2);
    CHECK_EQ_INT(count_lines(err), 1);
    CHECK_STR_CONTAINS(err, "fastlike: -backend: reliability suffix '@101' out of range");

    char spec[800];
    snprintf(spec, sizeof spec, "d=%s", write_file("binbad.json", "{\"a\": }"));
    char *badj[] = {fastlike_bin, "-wasm", wasm_path, "-dictionary", spec, NULL};
    CHECK_EQ_INT(run_bin(badj, err, sizeof err), 2);
    CHECK_EQ_INT(count_lines(err), 1);
    CHECK_STR_CONTAINS(err, "binbad.json:1:7: invalid JSON:");

    char kvdir[800];
    snprintf(kvdir, sizeof kvdir, "%s/sub", write_file("kvfile", "x"));
    char *badkv[] = {fastlike_bin, "-wasm", wasm_path, "-kv", "s", "-kv-dir", kvdir, NULL};
    CHECK_EQ_INT(run_bin(badkv, err, sizeof err), 2);
    CHECK_EQ_INT(count_lines(err), 1);
    CHECK_STR_CONTAINS(err, "fastlike: -kv-dir: cannot create directory");

    char *help[] = {fastlike_bin, "-h", NULL};
    CHECK_EQ_INT(run_bin(help, err, sizeof err), 0);
    CHECK_STR_EQ(err, "");

    /* `run` mode is untouched by the serving flags */
    char *run_missing[] = {fastlike_bin, "run", "missing.wasm", NULL};
    CHECK_EQ_INT(run_bin(run_missing, err, sizeof err), 2);
    CHECK_EQ_INT(count_lines(err), 1);
}

/* build/<variant>/tests/config/test_flags -> build/<variant>/fastlike */
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
    if (!tmp_dir_create("fastlike-config"))
        return 1;
    snprintf(wasm_path, sizeof wasm_path, "%s", write_file("guest.wasm", "\0asm"));
    RUN(defaults);
    RUN(wasm_forms);
    RUN(wasm_errors);
    RUN(bind);
    RUN(backends);
    RUN(backend_errors);
    RUN(override_host);
    RUN(verbosity);
    RUN(booleans);
    RUN(dictionary);
    RUN(config_store);
    RUN(secret_store);
    RUN(kv);
    RUN(acl);
    RUN(geo);
    RUN(device_detection);
    RUN(logger);
    RUN(compliance_region);
    RUN(kv_dir);
    RUN(fake_fastly_key);
    RUN(profile);
    RUN(unknown_import);
    RUN(tier);
    RUN(request_timeout);
    RUN(syntax_errors_and_help);
    RUN(usage_lists_every_flag);
    RUN(shield);
    RUN(binary_startup_errors);
    tmp_dir_remove();
    return harness_finish(argv[0]);
}
