/* test_edge_stores.c: the edge-data flags end to end through bin/fastlike: a JS SDK guest
 * (tests/guests/js/edge_stores.js) using ConfigStore, Dictionary, SecretStore, Logger and Acl,
 * served with -config-store, -dictionary, -secret-store, -logger and -acl at -v 2, its stdout and
 * stderr captured (log lines in Viceroy's form; no secret anywhere in the server's output); and
 * -compliance-region / -fake-fastly-key with the C guest srv_app (/edge). */
#include "config/tmp_files.h"
#include "harness.h"
#include "fastlike_proc.h"
#include "test_server.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>

#define SECRET "s3cr3t-Value-42"

static char fastlike_bin[1024] = "build/rel/fastlike";

typedef fl_proc proc;

/* Starts bin/fastlike with `wasm` on an ephemeral port and the extra flags (NULL-terminated),
 * its stdout and stderr in tmp files named after `tag`. */
static bool start(proc *p, const char *tag, const char *wasm, const char *const *flags)
{
    char out[700], err[700];
    snprintf(out, sizeof out, "%s.out", tmp_path(tag));
    snprintf(err, sizeof err, "%s.err", tmp_path(tag));
    const char *argv[64] = {fastlike_bin, "-wasm", wasm, "-bind", "127.0.0.1:0"};
    size_t n = 5;
    for (size_t i = 0; flags[i] && n < 63; i++)
        argv[n++] = flags[i];
    argv[n] = NULL;
    return fl_proc_start(p, argv, out, err);
}

/* GET target; the body (NUL-terminated) stays in r. */
static int get(const proc *p, const char *target, const char *headers, hc_resp *r)
{
    char req[2048];
    snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: edge.test\r\n%sConnection: close\r\n\r\n",
             target, headers ? headers : "");
    memset(r, 0, sizeof *r);
    return simple_on(p->port, req, r, false);
}

#define EXPECT_BODY(p, target, status, want)                                                       \
    do {                                                                                           \
        hc_resp r_;                                                                                \
        CHECK_EQ_INT(get(p, target, NULL, &r_), status);                                           \
        CHECK_STR_EQ(r_.body ? (const char *)r_.body : "", want);                                  \
        hc_resp_free(&r_);                                                                         \
    } while (0)

#define EXPECT_BODY_HAS(p, target, status, want)                                                   \
    do {                                                                                           \
        hc_resp r_;                                                                                \
        CHECK_EQ_INT(get(p, target, NULL, &r_), status);                                           \
        CHECK_STR_CONTAINS(r_.body ? (const char *)r_.body : "", want);                            \
        hc_resp_free(&r_);                                                                         \
    } while (0)

TEST(js_sdk_stores_from_flags)
{
    /* covers: fastly_config_store.open, fastly_config_store.get, fastly_dictionary.open */
    /* covers: fastly_dictionary.get, fastly_secret_store.open, fastly_secret_store.get */
    /* covers: fastly_secret_store.plaintext, fastly_secret_store.from_bytes */
    /* covers: fastly_log.endpoint_get, fastly_log.write, fastly_acl.open, fastly_acl.lookup */
    char longv[8001];
    memset(longv, 'x', 8000);
    longv[8000] = '\0';
    char dict[8200];
    snprintf(dict, sizeof dict, "{\"greeting\": \"hello\", \"empty\": \"\", \"long\": \"%s\"}",
             longv);
    char d_arg[800], c_arg[800], s_arg[800], a_arg[800], l_arg[800], access[700];
    snprintf(d_arg, sizeof d_arg, "dict=%s", write_file("dict.json", dict));
    snprintf(c_arg, sizeof c_arg, "settings=%s",
             write_file("settings.json", "{\"mode\": \"fast\", \"url\": \"https://x.test/\"}"));
    snprintf(s_arg, sizeof s_arg, "secrets=%s",
             write_file("secrets.json", "{\"api_key\": \"" SECRET "\"}"));
    snprintf(a_arg, sizeof a_arg, "list=%s",
             write_file("acl.json", "{\"entries\": ["
                                    "{\"prefix\": \"192.168.0.0/16\", \"action\": \"BLOCK\"},"
                                    "{\"prefix\": \"192.168.1.0/24\", \"action\": \"ALLOW\"},"
                                    "{\"prefix\": \"2001:db8::/32\", \"action\": \"BLOCK\"}]}"));
    snprintf(access, sizeof access, "%s", tmp_path("access.log"));
    snprintf(l_arg, sizeof l_arg, "access=%s", access);
    const char *flags[] = {
        "-v",  "2",    "-dictionary", d_arg,     "-config-store", c_arg,     "-secret-store",
        s_arg, "-acl", a_arg,         "-logger", l_arg,           "-logger", "console",
        NULL};
    proc p;
    CHECK(start(&p, "js", "build/guests/js/edge_stores.wasm", flags));
    if (!p.port) {
        fl_proc_stop(&p);
        return;
    }
    /* config stores and dictionaries (one namespace) */
    EXPECT_BODY(&p, "/config-store?store=settings&key=mode", 200,
                "{\"ok\":true,\"result\":\"fast\"}\n");
    EXPECT_BODY(&p, "/config-store?store=settings&key=url", 200,
                "{\"ok\":true,\"result\":\"https://x.test/\"}\n");
    EXPECT_BODY(&p, "/config-store?store=settings&key=missing", 200,
                "{\"ok\":true,\"result\":null}\n");
    EXPECT_BODY_HAS(&p, "/config-store?store=nope&key=mode", 500, "{\"ok\":false,");
    EXPECT_BODY(&p, "/config-store?store=dict&key=greeting", 200,
                "{\"ok\":true,\"result\":\"hello\"}\n");
    EXPECT_BODY(&p, "/dictionary?dict=dict&key=greeting", 200,
                "{\"ok\":true,\"result\":\"hello\"}\n");
    EXPECT_BODY(&p, "/dictionary?dict=dict&key=empty", 200, "{\"ok\":true,\"result\":\"\"}\n");
    EXPECT_BODY(&p, "/dictionary?dict=dict&key=nope", 200, "{\"ok\":true,\"result\":null}\n");
    EXPECT_BODY(&p, "/dictionary?dict=settings&key=mode", 200,
                "{\"ok\":true,\"result\":\"fast\"}\n");
    EXPECT_BODY_HAS(&p, "/dictionary?dict=nope&key=x", 500, "{\"ok\":false,");
    {
        char want[8100];
        snprintf(want, sizeof want, "{\"ok\":true,\"result\":\"%s\"}\n", longv);
        EXPECT_BODY(&p, "/dictionary?dict=dict&key=long", 200, want); /* the largest value */
    }
    /* secrets */
    EXPECT_BODY(&p, "/secret?store=secrets&key=api_key", 200,
                "{\"ok\":true,\"result\":{\"plaintext\":\"" SECRET "\",\"bytes\":15}}\n");
    EXPECT_BODY(&p, "/secret?store=secrets&key=nope", 200, "{\"ok\":true,\"result\":null}\n");
    EXPECT_BODY_HAS(&p, "/secret?store=nope&key=api_key", 500, "{\"ok\":false,");
    EXPECT_BODY(&p, "/secret-from-bytes", 200, "{\"ok\":true,\"result\":\"gen-ERATED\"}\n");
    /* ACLs */
    EXPECT_BODY(&p, "/acl?name=list&ip=192.168.1.5", 200,
                "{\"ok\":true,\"result\":{\"prefix\":\"192.168.1.0/24\",\"action\":\"ALLOW\"}}\n");
    EXPECT_BODY(&p, "/acl?name=list&ip=192.168.9.9", 200,
                "{\"ok\":true,\"result\":{\"prefix\":\"192.168.0.0/16\",\"action\":\"BLOCK\"}}\n");
    EXPECT_BODY(&p, "/acl?name=list&ip=2001:db8::1", 200,
                "{\"ok\":true,\"result\":{\"prefix\":\"2001:db8::/32\",\"action\":\"BLOCK\"}}\n");
    EXPECT_BODY(&p, "/acl?name=list&ip=8.8.8.8", 200, "{\"ok\":true,\"result\":null}\n");
    EXPECT_BODY_HAS(&p, "/acl?name=nope&ip=8.8.8.8", 500, "{\"ok\":false,");
    /* loggers: a file, stdout, and a name nobody declared (stdout too) */
    EXPECT_BODY(&p, "/log?name=access&msg=first&msg=second%0Aline", 200,
                "{\"ok\":true,\"result\":\"logged\"}\n");
    EXPECT_BODY(&p, "/log?name=console&msg=to+stdout", 200,
                "{\"ok\":true,\"result\":\"logged\"}\n");
    EXPECT_BODY(&p, "/log?name=undeclared&msg=still+logged", 200,
                "{\"ok\":true,\"result\":\"logged\"}\n");
    EXPECT_BODY_HAS(&p, "/log?name=stdout&msg=reserved", 500, "{\"ok\":false,");
    CHECK_EQ_INT(fl_proc_stop(&p), 0);
    char *a = fl_slurp(access), *o = fl_slurp(p.out), *e = fl_slurp(p.err);
    CHECK_STR_EQ(a ? a : "", "access :: first\naccess :: second\\nline\n");
    CHECK_STR_EQ(o ? o : "", "console :: to stdout\nundeclared :: still logged\n");
    /* -v 2 logged the requests, but never the secret; the flags are all in effect */
    CHECK_STR_CONTAINS(e ? e : "", "GET http://edge.test/secret?store=secrets&key=api_key -> 200");
    CHECK(e && strstr(e, "s3cr3t") == NULL);
    CHECK(e && strstr(e, "gen-ERATED") == NULL);
    CHECK(o && strstr(o, "s3cr3t") == NULL);
    CHECK(e && strstr(e, "not in effect") == NULL);
    free(a);
    free(o);
    free(e);
}

TEST(compliance_region_and_fake_keys_from_flags)
{
    /* covers: fastly_http_downstream.downstream_compliance_region */
    /* covers: fastly_http_downstream.fastly_key_is_valid */
    const char *flags[] = {
        "-compliance-region", "us", "-fake-fastly-key", "k1", "-fake-fastly-key", "k2", NULL};
    proc p;
    CHECK(start(&p, "keys", "build/guests/srv_app.wasm", flags));
    if (p.port) {
        hc_resp r;
        CHECK_EQ_INT(get(&p, "/edge", "Fastly-Key: k2\r\n", &r), 200);
        CHECK_STR_EQ((const char *)r.body, "region=us key_valid=1\n");
        hc_resp_free(&r);
        CHECK_EQ_INT(get(&p, "/edge", "Fastly-Key: k3\r\n", &r), 200);
        CHECK_STR_EQ((const char *)r.body, "region=us key_valid=0\n");
        hc_resp_free(&r);
        CHECK_EQ_INT(get(&p, "/edge", "Fastly-Key: K1\r\n", &r), 200); /* exact match */
        CHECK_STR_EQ((const char *)r.body, "region=us key_valid=0\n");
        hc_resp_free(&r);
        CHECK_EQ_INT(get(&p, "/edge", NULL, &r), 200);
        CHECK_STR_EQ((const char *)r.body, "region=us key_valid=0\n");
        hc_resp_free(&r);
    }
    CHECK_EQ_INT(fl_proc_stop(&p), 0);
    /* no keys configured: every key is invalid; the region defaults to none */
    const char *none[] = {NULL};
    CHECK(start(&p, "nokeys", "build/guests/srv_app.wasm", none));
    if (p.port) {
        hc_resp r;
        CHECK_EQ_INT(get(&p, "/edge", "Fastly-Key: k1\r\n", &r), 200);
        CHECK_STR_EQ((const char *)r.body, "region=none key_valid=0\n");
        hc_resp_free(&r);
        CHECK_EQ_INT(get(&p, "/edge", "Fastly-Key: \r\n", &r), 200);
        CHECK_STR_EQ((const char *)r.body, "region=none key_valid=0\n");
        hc_resp_free(&r);
    }
    CHECK_EQ_INT(fl_proc_stop(&p), 0);
}

TEST(js_sdk_stores_from_fastly_toml)
{
    /* the same guest, configured only by a project's fastly.toml (-C): inline data, a relative
     * file path, and a log endpoint nobody declared */
    write_file("toml-acl.json",
               "{\"entries\": [{\"prefix\": \"10.0.0.0/8\", \"action\": \"BLOCK\"}]}");
    const char *toml = "manifest_version = 3\n"
                       "name = \"edge-test\"\n"
                       "language = \"javascript\"\n"
                       "[local_server]\n"
                       "[local_server.config_stores.settings]\n"
                       "format = \"inline-toml\"\n"
                       "[local_server.config_stores.settings.contents]\n"
                       "mode = \"from-toml\"\n"
                       "[local_server.secret_stores]\n"
                       "secrets = [{key = \"api_key\", data = \"" SECRET "\"}]\n"
                       "[local_server.acls]\n"
                       "list = \"toml-acl.json\"\n";
    const char *toml_path = write_file("fastly.toml", toml);
    const char *flags[] = {"-C", toml_path, "-reload", NULL};
    proc p;
    CHECK(start(&p, "toml", "build/guests/js/edge_stores.wasm", flags));
    if (!p.port) {
        fl_proc_stop(&p);
        return;
    }
    EXPECT_BODY(&p, "/config-store?store=settings&key=mode", 200,
                "{\"ok\":true,\"result\":\"from-toml\"}\n");
    EXPECT_BODY(&p, "/secret?store=secrets&key=api_key", 200,
                "{\"ok\":true,\"result\":{\"plaintext\":\"" SECRET "\",\"bytes\":15}}\n");
    EXPECT_BODY(&p, "/acl?name=list&ip=10.1.2.3", 200,
                "{\"ok\":true,\"result\":{\"prefix\":\"10.0.0.0/8\",\"action\":\"BLOCK\"}}\n");
    EXPECT_BODY(&p, "/log?name=app&msg=hello", 200, "{\"ok\":true,\"result\":\"logged\"}\n");
    /* -reload: SIGHUP reads the toml again, inline data included */
    char *edited = strdup(toml);
    char *at = edited ? strstr(edited, "from-toml") : NULL;
    if (at)
        memcpy(at, "reloaded!", 9);
    write_file("fastly.toml", edited ? edited : toml);
    free(edited);
    kill(p.pid, SIGHUP);
    bool reloaded = false;
    for (int i = 0; i < 3000 && !reloaded; i++) { /* up to 60 s on a loaded machine */
        hc_resp r;
        reloaded = get(&p, "/config-store?store=settings&key=mode", NULL, &r) == 200 && r.body &&
                   strstr((const char *)r.body, "reloaded!") != NULL;
        hc_resp_free(&r);
        if (!reloaded)
            usleep(20000);
    }
    CHECK(reloaded);
    CHECK_EQ_INT(fl_proc_stop(&p), 0);
    char *o = fl_slurp(p.out);
    CHECK_STR_EQ(o ? o : "", "app :: hello\n");
    free(o);
}

/* build/<variant>/tests/server/test_edge_stores -> build/<variant>/fastlike */
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
    if (!tmp_dir_create("fastlike-edge-stores"))
        return 1;
    RUN(js_sdk_stores_from_flags);
    RUN(compliance_region_and_fake_keys_from_flags);
    RUN(js_sdk_stores_from_fastly_toml);
    tmp_dir_remove();
    return harness_finish(argv[0]);
}
