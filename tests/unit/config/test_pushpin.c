/* test_pushpin.c: the Fanout / WebSocket handoff settings (src/config/cfg_pushpin.c): the flags,
 * fastly.toml's [local_server.pushpin] with the Fastly CLI's keys, flags winning over the toml,
 * the defaults, and the routes file written for Fastlike's own Pushpin (srv_fanout_routes). */
#include "harness.h"
#include "tmp_files.h"

#include "config/cfg_flags.h"
#include "server/srv_fanout.h"

#include <stdarg.h>

static char wasm_path[600];

static cfg_status parse(cfg_options *o, char *err, size_t errlen, ...)
{
    char *argv[32];
    int argc = 0;
    argv[argc++] = "-wasm";
    argv[argc++] = wasm_path;
    va_list ap;
    va_start(ap, errlen);
    const char *a;
    while ((a = va_arg(ap, const char *)) != NULL && argc < 31)
        argv[argc++] = (char *)a;
    va_end(ap);
    argv[argc] = NULL;
    cfg_options_init(o);
    err[0] = '\0';
    return cfg_parse_flags(o, argc, argv, err, errlen);
}

TEST(defaults)
{
    cfg_options o;
    char err[512];
    CHECK_EQ_INT(parse(&o, err, sizeof err, (char *)NULL), CFG_OK);
    CHECK(!cfg_pushpin_fanout_on(&o.pushpin));
    CHECK_EQ_INT(cfg_pushpin_proxy_port(&o.pushpin), 0);
    CHECK_EQ_INT(o.pushpin.websocket_passthrough, 0); /* not said: on */
    cfg_options_deinit(&o);
}

TEST(flags)
{
    cfg_options o;
    char err[512];
    CHECK_EQ_INT(parse(&o, err, sizeof err, "-pushpin", (char *)NULL), CFG_OK);
    CHECK(cfg_pushpin_fanout_on(&o.pushpin));
    CHECK_EQ_INT(cfg_pushpin_proxy_port(&o.pushpin), 7677); /* the Fastly CLI's defaults */
    CHECK_EQ_INT(cfg_pushpin_publish_port(&o.pushpin), 5561);
    cfg_options_deinit(&o);

    CHECK_EQ_INT(parse(&o, err, sizeof err, "-pushpin", "-pushpin-port", "9001",
                       "-pushpin-publish-port=9002", "-pushpin-path", "/opt/pp/pushpin",
                       "-websocket-passthrough=false", (char *)NULL),
                 CFG_OK);
    CHECK_EQ_INT(o.pushpin.start, 1);
    CHECK_EQ_INT(cfg_pushpin_proxy_port(&o.pushpin), 9001);
    CHECK_EQ_INT(cfg_pushpin_publish_port(&o.pushpin), 9002);
    CHECK_STR_EQ(o.pushpin.path, "/opt/pp/pushpin");
    CHECK_EQ_INT(o.pushpin.websocket_passthrough, -1);
    cfg_options_deinit(&o);

    /* only a port: a Pushpin already running there */
    CHECK_EQ_INT(parse(&o, err, sizeof err, "-pushpin-port", "7999", (char *)NULL), CFG_OK);
    CHECK(cfg_pushpin_fanout_on(&o.pushpin));
    CHECK_EQ_INT(o.pushpin.start, 0);
    cfg_options_deinit(&o);

    static const char *const bad[] = {"0", "65536", "x", "", "80x", "-1"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        CHECK_EQ_INT(parse(&o, err, sizeof err, "-pushpin-port", bad[i], (char *)NULL),
                     CFG_ERR_VALUE);
        CHECK_STR_CONTAINS(err, "-pushpin-port");
        CHECK_STR_CONTAINS(err, "is not a port number (1-65535)");
        cfg_options_deinit(&o);
    }
    CHECK_EQ_INT(parse(&o, err, sizeof err, "-pushpin-path", "", (char *)NULL), CFG_ERR_VALUE);
    CHECK_STR_CONTAINS(err, "-pushpin-path");
    cfg_options_deinit(&o);
    CHECK_EQ_INT(parse(&o, err, sizeof err, "-pushpin=maybe", (char *)NULL), CFG_ERR_VALUE);
    CHECK_STR_CONTAINS(err, "not a boolean");
    cfg_options_deinit(&o);
}

TEST(fastly_toml)
{
    cfg_options o;
    char err[512];
    const char *toml = write_file("pp.toml", "[local_server.pushpin]\n"
                                             "enable = true\n"
                                             "pushpin_path = \"/usr/bin/pushpin\"\n"
                                             "proxy_port = 7700\n"
                                             "publish_port = 7701\n");
    CHECK_EQ_INT(parse(&o, err, sizeof err, "-C", toml, (char *)NULL), CFG_OK);
    CHECK_EQ_INT(o.pushpin.start, 1);
    CHECK_EQ_INT(cfg_pushpin_proxy_port(&o.pushpin), 7700);
    CHECK_EQ_INT(cfg_pushpin_publish_port(&o.pushpin), 7701);
    CHECK_STR_EQ(o.pushpin.path, "/usr/bin/pushpin");
    cfg_options_deinit(&o);

    /* flags win over the toml; what they leave unsaid comes from it */
    CHECK_EQ_INT(parse(&o, err, sizeof err, "-pushpin=false", "-pushpin-port", "8000", "-C", toml,
                       (char *)NULL),
                 CFG_OK);
    CHECK_EQ_INT(o.pushpin.start, -1);
    CHECK_EQ_INT(cfg_pushpin_proxy_port(&o.pushpin), 8000);
    CHECK_EQ_INT(cfg_pushpin_publish_port(&o.pushpin), 7701);
    cfg_options_deinit(&o);

    /* enable = false, port 0: the defaults, as the Fastly CLI reads them */
    toml = write_file("pp_off.toml", "[local_server.pushpin]\nenable = false\nproxy_port = 0\n");
    CHECK_EQ_INT(parse(&o, err, sizeof err, "-C", toml, (char *)NULL), CFG_OK);
    CHECK(!cfg_pushpin_fanout_on(&o.pushpin));
    cfg_options_deinit(&o);

    static const struct {
        const char *text, *want;
    } bad[] = {
        {"[local_server]\npushpin = 1\n",
         "local_server.pushpin: expected a table, found an integer"},
        {"[local_server.pushpin]\nenable = \"yes\"\n",
         "local_server.pushpin.enable: expected true or false, found a string"},
        {"[local_server.pushpin]\nproxy_port = \"7677\"\n",
         "local_server.pushpin.proxy_port: expected a port number, found a string"},
        {"[local_server.pushpin]\npublish_port = 70000\n",
         "local_server.pushpin.publish_port: 70000 is not a port number (0-65535)"},
        {"[local_server.pushpin]\npushpin_path = 3\n",
         "local_server.pushpin.pushpin_path: expected a string, found an integer"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        toml = write_file("pp_bad.toml", bad[i].text);
        CHECK(parse(&o, err, sizeof err, "-C", toml, (char *)NULL) != CFG_OK);
        CHECK_STR_CONTAINS(err, bad[i].want);
        cfg_options_deinit(&o);
    }
}

TEST(routes)
{
    be_backend b[3];
    for (int i = 0; i < 3; i++)
        be_backend_init(&b[i]);
    be_set_str(&b[0].name, "api");
    be_set_str(&b[0].host, "127.0.0.1");
    b[0].port = 8080;
    be_set_str(&b[0].path_prefix, "/v1/");
    be_set_str(&b[1].name, "secure");
    be_set_str(&b[1].host, "example.com");
    b[1].port = 443;
    b[1].tls = true;
    be_set_str(&b[1].override_host, "www.example.com");
    be_set_str(&b[2].host, "::1"); /* the catch-all */
    b[2].port = 9000;
    char *routes = srv_fanout_routes(b, 3);
    CHECK(routes != NULL);
    if (routes) {
        CHECK_STR_CONTAINS(routes, "\nid=api,replace_beg=/v1 127.0.0.1:8080,over_http\n");
        CHECK_STR_CONTAINS(routes,
                           "\nid=secure example.com:443,over_http,ssl,host=www.example.com\n");
        /* the catch-all last: route names matching no backend go there */
        size_t n = strlen(routes);
        const char *last = "* [::1]:9000,over_http\n";
        CHECK(n > strlen(last) && strcmp(routes + n - strlen(last), last) == 0);
        free(routes);
    }
    for (int i = 0; i < 3; i++)
        be_backend_deinit(&b[i]);
}

int main(int argc, char **argv)
{
    (void)argc;
    if (!tmp_dir_create("fastlike-pushpin-cfg"))
        return 1;
    snprintf(wasm_path, sizeof wasm_path, "%s", write_file("guest.wasm", "\0asm"));
    RUN(defaults);
    RUN(flags);
    RUN(fastly_toml);
    RUN(routes);
    tmp_dir_remove();
    return harness_finish(argv[0]);
}
