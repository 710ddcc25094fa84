/* test_viceroy_args.c: tests for src/config/cfg_viceroy_args.c: every Viceroy option, both
 * positions of the wasm file, run's trailing arguments, warnings for unknown options, and that the
 * translated flags reach cfg_options through cfg_parse_flags. */
#include "config/cfg_flags.h"
#include "config/cfg_viceroy_args.h"
#include "harness.h"
#include "tmp_files.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

static char wasm[700], toml[700];

/* Parses the NULL-terminated words into *a (freshly initialised). */
static cfg_status parse(cfg_viceroy_args *a, char *err, size_t errlen, ...)
{
    char *words[64];
    int n = 0;
    va_list ap;
    va_start(ap, errlen);
    for (const char *w; (w = va_arg(ap, const char *)) != NULL && n < 63;)
        words[n++] = (char *)w;
    va_end(ap);
    words[n] = NULL;
    cfg_viceroy_args_init(a);
    err[0] = '\0';
    return cfg_viceroy_args_parse(a, n, words, err, errlen);
}

/* The translated flags joined by single spaces. */
static const char *joined(const cfg_viceroy_args *a)
{
    static char buf[2048];
    buf[0] = '\0';
    for (int i = 0; i < a->argc; i++) {
        strncat(buf, i ? " " : "", sizeof buf - strlen(buf) - 1);
        strncat(buf, a->argv[i], sizeof buf - strlen(buf) - 1);
    }
    return buf;
}

static const char *warnings(const cfg_viceroy_args *a)
{
    static char buf[4096];
    buf[0] = '\0';
    for (size_t i = 0; i < a->nwarnings; i++) {
        strncat(buf, a->warnings[i], sizeof buf - strlen(buf) - 1);
        strncat(buf, "\n", sizeof buf - strlen(buf) - 1);
    }
    return buf;
}

/* The translated flags through Fastlike's own parser. */
static cfg_status to_options(const cfg_viceroy_args *a, cfg_options *o, char *err, size_t errlen)
{
    cfg_options_init(o);
    return cfg_parse_flags(o, a->argc, a->argv, err, errlen);
}

TEST(invocation)
{
    CHECK(cfg_viceroy_invocation("viceroy", NULL));
    CHECK(cfg_viceroy_invocation("/usr/local/bin/viceroy", "-v"));
    CHECK(cfg_viceroy_invocation("fastlike", "serve"));
    CHECK(cfg_viceroy_invocation("bin/fastlike", "run"));
    CHECK(!cfg_viceroy_invocation("bin/fastlike", "-wasm"));
    CHECK(!cfg_viceroy_invocation("bin/fastlike", NULL));
    CHECK(!cfg_viceroy_invocation("/opt/viceroy/fastlike", "app.wasm"));
    CHECK(!cfg_viceroy_invocation("viceroy-old", "x.wasm"));
}

static bool lookalike(const char *a, const char *b, const char *c)
{
    char *argv[4] = {(char *)a, (char *)b, (char *)c, NULL};
    int n = c ? 3 : b ? 2 : a ? 1 : 0;
    return cfg_viceroy_lookalike(n, argv);
}

TEST(lookalike)
{
    CHECK(lookalike("-v", "-C", "fastly.toml")); /* the Fastly CLI's start */
    CHECK(lookalike("-v", "main.wasm", NULL));   /* -v without a level */
    CHECK(!lookalike("-v", NULL, NULL));         /* Fastlike's "-v needs a value" says more */
    CHECK(lookalike("-vv", "main.wasm", NULL));
    CHECK(lookalike("-wasm", "x.wasm", "--addr=127.0.0.1:1"));
    CHECK(lookalike("--addr", "127.0.0.1:7676", NULL));
    CHECK(!lookalike("-v", "1", "-wasm")); /* Fastlike's own -v N */
    CHECK(!lookalike("-wasm", "x.wasm", "-v"));
    CHECK(!lookalike("-v", "2", NULL));
    CHECK(!lookalike("-wasm", "x.wasm", NULL));
    CHECK(!lookalike("-v=1", "-wasm", "x.wasm"));
    CHECK(!lookalike("--", "--addr", NULL));
    CHECK(!lookalike("-verbose", NULL, NULL));
}

/* Exactly what `fastly compute serve` runs (pkg/commands/compute/serve.go, local()). */
TEST(fastly_cli_command_line)
{
    cfg_viceroy_args a;
    char err[512];
    CHECK_EQ_INT(parse(&a, err, sizeof err, "-v", "-C", toml, "--addr", "127.0.0.1:7676", wasm,
                       (char *)NULL),
                 CFG_OK);
    CHECK_EQ_INT(a.command, CFG_VICEROY_SERVE);
    char want[2048];
    snprintf(want, sizeof want, "-v 1 -bind 127.0.0.1:7676 -config %s -wasm %s", toml, wasm);
    CHECK_STR_EQ(joined(&a), want);
    CHECK_EQ_INT(a.nwarnings, 0);
    cfg_options o;
    CHECK_EQ_INT(to_options(&a, &o, err, sizeof err), CFG_OK);
    CHECK_EQ_INT(o.verbosity, 1);
    CHECK_STR_EQ(cfg_options_bind(&o), "127.0.0.1:7676");
    CHECK_STR_EQ(o.config_file, toml);
    CHECK_STR_EQ(o.wasm, wasm);
    cfg_options_deinit(&o);
    cfg_viceroy_args_deinit(&a);

    /* with --profile-guest, pushpin and --viceroy-args words appended after the wasm */
    CHECK_EQ_INT(parse(&a, err, sizeof err, "-v", "-C", toml, "--addr", "127.0.0.1:7676", wasm,
                       "--profile=guest,guest-profiles", "--local-pushpin-proxy-port=7677",
                       "--some-new-flag", (char *)NULL),
                 CFG_OK);
    CHECK_STR_CONTAINS(joined(&a), "-profile-mode trace");
    CHECK_STR_CONTAINS(warnings(&a), "unknown option '--some-new-flag' ignored");
    /* the Fastly CLI's Pushpin: used as it is, never one of our own */
    CHECK_STR_CONTAINS(joined(&a), "-pushpin=false -pushpin-port 7677");
    CHECK_STR_CONTAINS(joined(&a), "-profile-guest-dir guest-profiles");
    cfg_viceroy_args_deinit(&a);
}

TEST(wasm_before_and_after_options)
{
    cfg_viceroy_args a;
    char err[512], want[2048];
    CHECK_EQ_INT(parse(&a, err, sizeof err, wasm, "-vv", "--addr=[::1]:7000",
                       "--config=/nonexistent.toml", (char *)NULL),
                 CFG_OK);
    snprintf(want, sizeof want, "-v 2 -bind [::1]:7000 -config /nonexistent.toml -wasm %s", wasm);
    CHECK_STR_EQ(joined(&a), want);
    cfg_options o;
    /* the config file is checked by Fastlike's own flag */
    CHECK_EQ_INT(to_options(&a, &o, err, sizeof err), CFG_ERR_FILE);
    CHECK_STR_CONTAINS(err, "/nonexistent.toml: cannot read");
    cfg_options_deinit(&o);
    cfg_viceroy_args_deinit(&a);

    CHECK_EQ_INT(parse(&a, err, sizeof err, "serve", "--addr", "127.0.0.1:0", wasm, (char *)NULL),
                 CFG_OK);
    snprintf(want, sizeof want, "-bind 127.0.0.1:0 -wasm %s", wasm);
    CHECK_STR_EQ(joined(&a), want);
    cfg_viceroy_args_deinit(&a);

    /* after `--` a word starting with '-' is still the file */
    CHECK_EQ_INT(parse(&a, err, sizeof err, "-v", "--", "-odd.wasm", (char *)NULL), CFG_OK);
    CHECK_STR_EQ(a.input, "-odd.wasm");
    cfg_viceroy_args_deinit(&a);
}

TEST(verbosity)
{
    static const struct {
        const char *w1, *w2;
        const char *want;
    } cases[] = {
        {"-v", NULL, "-v 1 "},   {"-vv", NULL, "-v 2 "},     {"-v", "-v", "-v 2 "},
        {"-vvv", NULL, "-v 2 "}, {"--debug", NULL, "-bind"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        cfg_viceroy_args a;
        char err[512];
        cfg_status st =
            cases[i].w2 ? parse(&a, err, sizeof err, cases[i].w1, cases[i].w2, wasm, (char *)NULL)
                        : parse(&a, err, sizeof err, cases[i].w1, wasm, (char *)NULL);
        CHECK_EQ_INT(st, CFG_OK);
        CHECK(strncmp(joined(&a), cases[i].want, strlen(cases[i].want)) == 0);
        cfg_viceroy_args_deinit(&a);
    }
    /* no -v: Fastlike's default, and Viceroy's address default */
    cfg_viceroy_args a;
    char err[512], want[2048];
    CHECK_EQ_INT(parse(&a, err, sizeof err, wasm, (char *)NULL), CFG_OK);
    snprintf(want, sizeof want, "-bind " CFG_VICEROY_DEFAULT_ADDR " -wasm %s", wasm);
    CHECK_STR_EQ(joined(&a), want);
    cfg_viceroy_args_deinit(&a);
}

TEST(config_spellings)
{
    char joinedc[800], eqc[800], longeq[800];
    snprintf(joinedc, sizeof joinedc, "-C%s", toml);
    snprintf(eqc, sizeof eqc, "-C=%s", toml);
    snprintf(longeq, sizeof longeq, "--config=%s", toml);
    const char *singles[] = {joinedc, eqc, longeq};
    char want[1024];
    snprintf(want, sizeof want, "-config %s ", toml);
    for (size_t i = 0; i < 3; i++) {
        cfg_viceroy_args a;
        char err[512];
        CHECK_EQ_INT(parse(&a, err, sizeof err, singles[i], wasm, (char *)NULL), CFG_OK);
        CHECK_STR_CONTAINS(joined(&a), want);
        cfg_viceroy_args_deinit(&a);
    }
    cfg_viceroy_args a;
    char err[512];
    CHECK_EQ_INT(parse(&a, err, sizeof err, "--config", toml, wasm, (char *)NULL), CFG_OK);
    CHECK_STR_CONTAINS(joined(&a), want);
    cfg_viceroy_args_deinit(&a);
    /* a cluster: -vC FILE */
    CHECK_EQ_INT(parse(&a, err, sizeof err, "-vC", toml, wasm, (char *)NULL), CFG_OK);
    CHECK(strncmp(joined(&a), "-v 1 ", 5) == 0);
    CHECK_STR_CONTAINS(joined(&a), want);
    cfg_viceroy_args_deinit(&a);
    /* missing values */
    CHECK_EQ_INT(parse(&a, err, sizeof err, wasm, "-C", (char *)NULL), CFG_ERR_USAGE);
    CHECK_STR_CONTAINS(err, "-C needs a value");
    cfg_viceroy_args_deinit(&a);
    CHECK_EQ_INT(parse(&a, err, sizeof err, wasm, "--config", (char *)NULL), CFG_ERR_USAGE);
    CHECK_STR_CONTAINS(err, "--config needs a value");
    cfg_viceroy_args_deinit(&a);
    CHECK_EQ_INT(parse(&a, err, sizeof err, wasm, "--addr", (char *)NULL), CFG_ERR_USAGE);
    CHECK_STR_CONTAINS(err, "--addr needs a value");
    cfg_viceroy_args_deinit(&a);
}

TEST(bad_addr_is_checked_by_bind)
{
    cfg_viceroy_args a;
    char err[512];
    CHECK_EQ_INT(parse(&a, err, sizeof err, "--addr", "127.0.0.1", wasm, (char *)NULL), CFG_OK);
    cfg_options o;
    CHECK(to_options(&a, &o, err, sizeof err) != CFG_OK);
    CHECK_STR_CONTAINS(err, "-bind");
    cfg_options_deinit(&o);
    cfg_viceroy_args_deinit(&a);
}

TEST(profile)
{
    const char *guests[] = {"--profile=guest", "--profile=guest,/tmp/profiles",
                            "--profile=guest,dir,50us", "--profile=guest,dir,2ms",
                            "--profile=guest,dir,\xce\xbcs"};
    for (size_t i = 0; i < sizeof guests / sizeof *guests; i++) {
        cfg_viceroy_args a;
        char err[512];
        cfg_status st = parse(&a, err, sizeof err, guests[i], wasm, (char *)NULL);
        if (i < 4) {
            CHECK_EQ_INT(st, CFG_OK);
            CHECK_STR_CONTAINS(joined(&a), "-profile-mode trace");
            /* as Viceroy: profiles go to DIR, guest-profiles by default */
            const char *dir = i == 0 ? "guest-profiles" : i == 1 ? "/tmp/profiles" : "dir";
            cfg_options o;
            CHECK_EQ_INT(to_options(&a, &o, err, sizeof err), CFG_OK);
            CHECK_EQ_INT(o.profile_mode, CFG_PROFILE_TRACE);
            CHECK_STR_EQ(o.profile_guest_dir, dir);
            cfg_options_deinit(&o);
        } else {
            CHECK_EQ_INT(st, CFG_ERR_USAGE); /* a unit without a number */
        }
        cfg_viceroy_args_deinit(&a);
    }
    const char *natives[] = {"jitdump", "perfmap", "vtune"};
    for (size_t i = 0; i < 3; i++) {
        cfg_viceroy_args a;
        char err[512];
        CHECK_EQ_INT(parse(&a, err, sizeof err, "--profile", natives[i], wasm, (char *)NULL),
                     CFG_OK);
        CHECK_STR_CONTAINS(joined(&a), "-profile-native");
        cfg_options o;
        CHECK_EQ_INT(to_options(&a, &o, err, sizeof err), CFG_OK);
        CHECK(o.profile_native);
        cfg_options_deinit(&o);
        cfg_viceroy_args_deinit(&a);
    }
    const char *bad[] = {"--profile=bogus", "--profile=guest,a,b,c", "--profile=guest,a,5x",
                         "--profile=jitdump,x"};
    for (size_t i = 0; i < 4; i++) {
        cfg_viceroy_args a;
        char err[512];
        CHECK_EQ_INT(parse(&a, err, sizeof err, bad[i], wasm, (char *)NULL), CFG_ERR_USAGE);
        CHECK_STR_CONTAINS(err, "--profile: '");
        cfg_viceroy_args_deinit(&a);
    }
}

TEST(log_and_unknown_import_options)
{
    cfg_viceroy_args a;
    char err[512];
    CHECK_EQ_INT(parse(&a, err, sizeof err, "--log-stdout", "--log-stderr", wasm,
                       "--unknown-import-behavior", "trap", (char *)NULL),
                 CFG_OK);
    CHECK_EQ_INT(a.nwarnings, 0);
    CHECK_STR_CONTAINS(joined(&a), "-unknown-import trap");
    cfg_options o;
    CHECK_EQ_INT(to_options(&a, &o, err, sizeof err), CFG_OK);
    CHECK(!o.unknown_import_link_error);
    cfg_options_deinit(&o);
    cfg_viceroy_args_deinit(&a);

    CHECK_EQ_INT(
        parse(&a, err, sizeof err, "--unknown-import-behavior=link-error", wasm, (char *)NULL),
        CFG_OK);
    CHECK_EQ_INT(to_options(&a, &o, err, sizeof err), CFG_OK);
    CHECK(o.unknown_import_link_error);
    cfg_options_deinit(&o);
    cfg_viceroy_args_deinit(&a);

    CHECK_EQ_INT(parse(&a, err, sizeof err, "--unknown-import-behavior=zero", wasm, (char *)NULL),
                 CFG_ERR_USAGE);
    CHECK_STR_CONTAINS(err, "expected link-error or trap");
    cfg_viceroy_args_deinit(&a);

    /* --log-stdout=false is accepted, a non-boolean value is not */
    CHECK_EQ_INT(parse(&a, err, sizeof err, "--log-stdout=false", wasm, (char *)NULL), CFG_OK);
    cfg_viceroy_args_deinit(&a);
    CHECK_EQ_INT(parse(&a, err, sizeof err, "--log-stderr=loud", wasm, (char *)NULL),
                 CFG_ERR_USAGE);
    cfg_viceroy_args_deinit(&a);
}

TEST(accepted_without_effect)
{
    cfg_viceroy_args a;
    char err[512];
    CHECK_EQ_INT(parse(&a, err, sizeof err, wasm, "--local-pushpin-proxy-port", "7677",
                       "--enable-local-websocket-passthrough", "--debug", "--adapt", "--wasm-gc",
                       "--experimental_modules", "wasi-nn", (char *)NULL),
                 CFG_OK);
    const char *w = warnings(&a);
    CHECK(strstr(w, "--local-pushpin-proxy-port") == NULL); /* in effect (docs/fanout.md) */
    CHECK(strstr(w, "--enable-local-websocket-passthrough") == NULL);
    CHECK_STR_CONTAINS(w, "note: --debug");
    CHECK_STR_CONTAINS(w, "note: --adapt");
    CHECK_STR_CONTAINS(w, "note: --wasm-gc");
    CHECK_STR_CONTAINS(w, "note: --experimental_modules wasi-nn");
    CHECK_EQ_INT(a.nwarnings, 4);
    CHECK_STR_CONTAINS(joined(&a), "-pushpin=false -pushpin-port 7677");
    CHECK(strstr(joined(&a), "-websocket-passthrough") == NULL); /* on is the default */
    cfg_options o;
    CHECK_EQ_INT(to_options(&a, &o, err, sizeof err), CFG_OK);
    CHECK_EQ_INT(o.pushpin.proxy_port, 7677);
    CHECK_EQ_INT(o.pushpin.start, -1);
    cfg_options_deinit(&o);
    cfg_viceroy_args_deinit(&a);

    CHECK_EQ_INT(
        parse(&a, err, sizeof err, wasm, "--enable-local-websocket-passthrough=true", (char *)NULL),
        CFG_OK);
    CHECK_EQ_INT(a.nwarnings, 0);
    cfg_viceroy_args_deinit(&a);
    CHECK_EQ_INT(parse(&a, err, sizeof err, wasm, "--enable-local-websocket-passthrough=false",
                       (char *)NULL),
                 CFG_OK);
    CHECK_EQ_INT(a.nwarnings, 0);
    CHECK_STR_CONTAINS(joined(&a), "-websocket-passthrough=false");
    CHECK_EQ_INT(to_options(&a, &o, err, sizeof err), CFG_OK);
    CHECK_EQ_INT(o.pushpin.websocket_passthrough, -1);
    cfg_options_deinit(&o);
    cfg_viceroy_args_deinit(&a);
    CHECK_EQ_INT(parse(&a, err, sizeof err, wasm, "--enable-local-websocket-passthrough=maybe",
                       (char *)NULL),
                 CFG_ERR_USAGE);
    cfg_viceroy_args_deinit(&a);

    const char *ports[] = {"--local-pushpin-proxy-port=65536", "--local-pushpin-proxy-port=x1",
                           "--local-pushpin-proxy-port="};
    for (size_t i = 0; i < 3; i++) {
        CHECK_EQ_INT(parse(&a, err, sizeof err, wasm, ports[i], (char *)NULL), CFG_ERR_USAGE);
        CHECK_STR_CONTAINS(err, "is not a port number");
        cfg_viceroy_args_deinit(&a);
    }
}

TEST(unknown_options_warn)
{
    cfg_viceroy_args a;
    char err[512];
    CHECK_EQ_INT(parse(&a, err, sizeof err, "--frobnicate", wasm, "--level=3", "-x", "extra.wasm",
                       (char *)NULL),
                 CFG_OK);
    const char *w = warnings(&a);
    CHECK_STR_CONTAINS(w, "warning: unknown option '--frobnicate' ignored\n");
    CHECK_STR_CONTAINS(w, "warning: unknown option '--level' ignored\n");
    CHECK_STR_CONTAINS(w, "warning: unknown option '-x' ignored\n");
    CHECK_STR_CONTAINS(w, "warning: unexpected argument 'extra.wasm' ignored");
    CHECK_STR_EQ(a.input, wasm);
    cfg_viceroy_args_deinit(&a);
}

TEST(version_help_and_errors)
{
    const char *versions[] = {"--version", "-V"};
    for (size_t i = 0; i < 2; i++) {
        cfg_viceroy_args a;
        char err[512];
        /* wins over a missing file and bad options after it */
        CHECK_EQ_INT(parse(&a, err, sizeof err, versions[i], "--profile=bad", (char *)NULL),
                     CFG_OK);
        CHECK_EQ_INT(a.command, CFG_VICEROY_VERSION);
        cfg_viceroy_args_deinit(&a);
    }
    const char *helps[] = {"--help", "-h"};
    for (size_t i = 0; i < 2; i++) {
        cfg_viceroy_args a;
        char err[512];
        CHECK_EQ_INT(parse(&a, err, sizeof err, "run", helps[i], (char *)NULL), CFG_OK);
        CHECK_EQ_INT(a.command, CFG_VICEROY_HELP);
        cfg_viceroy_args_deinit(&a);
    }
    cfg_viceroy_args a;
    char err[512];
    CHECK_EQ_INT(parse(&a, err, sizeof err, "-v", (char *)NULL), CFG_ERR_USAGE);
    CHECK_STR_CONTAINS(err, "missing FILE.wasm");
    cfg_viceroy_args_deinit(&a);
    CHECK_EQ_INT(parse(&a, err, sizeof err, "adapt", wasm, (char *)NULL), CFG_ERR_USAGE);
    CHECK_STR_CONTAINS(err, "adapt");
    cfg_viceroy_args_deinit(&a);
    CHECK_EQ_INT(parse(&a, err, sizeof err, (char *)NULL), CFG_ERR_USAGE);
    cfg_viceroy_args_deinit(&a);
    CHECK(strstr(cfg_viceroy_usage_text(), "--addr IP:PORT") != NULL);
}

TEST(run_arguments)
{
    cfg_viceroy_args a;
    char err[512], want[2048];
    /* options before the file; from the first guest argument on everything is the guest's */
    CHECK_EQ_INT(
        parse(&a, err, sizeof err, "run", "-C", toml, wasm, "a", "-v", "--x", (char *)NULL),
        CFG_OK);
    CHECK_EQ_INT(a.command, CFG_VICEROY_RUN);
    snprintf(want, sizeof want, "-config %s -wasm %s", toml, wasm); /* no -bind for run */
    CHECK_STR_EQ(joined(&a), want);
    CHECK_EQ_INT(a.guest_argc, 3);
    if (a.guest_argc == 3) {
        CHECK_STR_EQ(a.guest_argv[0], "a");
        CHECK_STR_EQ(a.guest_argv[1], "-v");
        CHECK_STR_EQ(a.guest_argv[2], "--x");
    }
    cfg_viceroy_args_deinit(&a);
    /* options right after the file are still Viceroy's; `--` starts the guest's */
    CHECK_EQ_INT(
        parse(&a, err, sizeof err, "run", wasm, "-v", "--", "--trailing-arg", "-v", (char *)NULL),
        CFG_OK);
    CHECK(strncmp(joined(&a), "-v 1 ", 5) == 0);
    CHECK_EQ_INT(a.guest_argc, 2);
    if (a.guest_argc == 2) {
        CHECK_STR_EQ(a.guest_argv[0], "--trailing-arg");
        CHECK_STR_EQ(a.guest_argv[1], "-v");
    }
    cfg_viceroy_args_deinit(&a);
    /* cargo-nextest style: `run -- FILE ARGS` */
    CHECK_EQ_INT(parse(&a, err, sizeof err, "run", "--", wasm, "--exact", "t1", (char *)NULL),
                 CFG_OK);
    CHECK_STR_EQ(a.input, wasm);
    CHECK_EQ_INT(a.guest_argc, 2);
    cfg_viceroy_args_deinit(&a);
    /* --env (Fastlike's) and --addr (serve only) */
    CHECK_EQ_INT(parse(&a, err, sizeof err, "run", "--env", "A=1", "--env=B", "--addr", "1.2.3.4:5",
                       wasm, (char *)NULL),
                 CFG_OK);
    CHECK_EQ_INT(a.nenv, 2);
    if (a.nenv == 2) {
        CHECK_STR_EQ(a.env[0], "A=1");
        CHECK_STR_EQ(a.env[1], "B");
    }
    CHECK_STR_CONTAINS(warnings(&a), "--addr has no effect with run");
    CHECK(strstr(joined(&a), "-bind") == NULL);
    CHECK_EQ_INT(a.guest_argc, 0);
    cfg_viceroy_args_deinit(&a);
    CHECK_EQ_INT(parse(&a, err, sizeof err, "run", (char *)NULL), CFG_ERR_USAGE);
    CHECK_STR_CONTAINS(err, "missing FILE.wasm");
    cfg_viceroy_args_deinit(&a);
}

int main(int argc, char **argv)
{
    (void)argc;
    if (!tmp_dir_create("fastlike-viceroy-args"))
        return 1;
    snprintf(wasm, sizeof wasm, "%s", write_file("main.wasm", "\0asm"));
    snprintf(toml, sizeof toml, "%s", write_file("fastly.toml", "name = \"t\"\n"));
    RUN(invocation);
    RUN(lookalike);
    RUN(fastly_cli_command_line);
    RUN(wasm_before_and_after_options);
    RUN(verbosity);
    RUN(config_spellings);
    RUN(bad_addr_is_checked_by_bind);
    RUN(profile);
    RUN(log_and_unknown_import_options);
    RUN(accepted_without_effect);
    RUN(unknown_options_warn);
    RUN(version_help_and_errors);
    RUN(run_arguments);
    tmp_dir_remove();
    return harness_finish(argv[0]);
}
