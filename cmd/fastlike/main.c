/* main.c: the fastlike command line. Parses flags and hands off to the library:
 * `fastlike run FILE.wasm [ARGS...]` runs a WASI command (src/wasi/wasi_run.c); the serving mode
 * (`fastlike -wasm FILE -backend ...`, flags in src/config/cfg_flags.c) builds a fastlike_config
 * and calls fastlike_new + fastlike_serve (include/fastlike.h) until SIGINT or SIGTERM. */
#include "config/cfg_flags.h"
#include "fastlike.h"
#include "fwe.h"
#include "wasi/wasi_run.h"

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef FASTLIKE_VERSION
#define FASTLIKE_VERSION "0.1.0-dev"
#endif

#define EXIT_USAGE 2
#define EXIT_TRAP 134 /* 128 + SIGABRT, as wasmtime reports a trapped guest */

static void usage(FILE *out)
{
    fputs("usage: fastlike run [--env NAME[=VALUE]]... FILE.wasm [ARGS...]\n"
          "       fastlike -wasm FILE.wasm [-backend [NAME=]ADDR[@N]]... [flags]   (serve)\n"
          "       fastlike -h | --help | --version\n"
          "\n"
          "commands:\n"
          "  run     run a WASI command module (calls _start) and exit with its exit code;\n"
          "          the guest sees FILE.wasm ARGS... as its arguments\n"
          "\n"
          "run options:\n"
          "  --env NAME=VALUE  give the guest an environment variable (repeatable)\n"
          "  --env NAME        pass NAME through from fastlike's own environment\n"
          "  --                end of options\n"
          "\n"
          "exit status: the guest's exit code; 2 for usage errors and unloadable modules;\n"
          "134 when the guest traps (the trap and backtrace go to stderr).\n"
          "\n",
          out);
    fputs(cfg_usage_text(), out);
    fputs("serving exits 0 after SIGINT or SIGTERM, 2 on a startup error (bad flag or file,\n"
          "unloadable wasm, address in use). Details: docs/cli.md\n",
          out);
}

static int usage_error(const char *fmt, const char *arg)
{
    fputs("fastlike: ", stderr);
    fprintf(stderr, fmt, arg);
    fputs("\nrun 'fastlike --help' for usage\n", stderr);
    return EXIT_USAGE;
}

/* ---- fastlike run ---- */

typedef struct run_opts {
    const char **env; /* "NAME=VALUE"; entries from `owned` are freed at the end */
    size_t envc;
    char **owned;
    size_t nowned;
} run_opts;

static void run_opts_free(run_opts *o)
{
    for (size_t i = 0; i < o->nowned; i++)
        free(o->owned[i]);
    free(o->owned);
    free(o->env);
}

/* Adds one --env value; NAME alone copies fastlike's own value. Returns 0 or an exit status. */
static int add_env(run_opts *o, const char *spec)
{
    if (spec[0] == '\0' || spec[0] == '=')
        return usage_error("--env needs NAME=VALUE or NAME, got '%s'", spec);
    const char *entry = spec;
    if (!strchr(spec, '=')) {
        const char *value = getenv(spec);
        if (!value)
            return usage_error("--env %s: not set in fastlike's environment", spec);
        size_t n = strlen(spec) + 1 + strlen(value) + 1;
        char *s = malloc(n);
        char **owned = realloc(o->owned, (o->nowned + 1) * sizeof *owned);
        if (!s || !owned) {
            free(s);
            if (owned)
                o->owned = owned;
            fputs("fastlike: out of memory\n", stderr);
            return 1;
        }
        snprintf(s, n, "%s=%s", spec, value);
        o->owned = owned;
        o->owned[o->nowned++] = s;
        entry = s;
    }
    const char **env = realloc(o->env, (o->envc + 1) * sizeof *env);
    if (!env) {
        fputs("fastlike: out of memory\n", stderr);
        return 1;
    }
    o->env = env;
    o->env[o->envc++] = entry;
    return 0;
}

static int report_result(const char *file, const wasi_run_result *r)
{
    switch (r->status) {
    case WASI_RUN_OK:
        /* WASI exit codes are u32; a process status holds 8 bits, so keep nonzero nonzero. */
        return (r->exit_code >= 0 && r->exit_code <= 255) ? r->exit_code : 1;
    case WASI_RUN_TRAP: {
        char buf[8192];
        fwe_trap_format(&r->trap, buf, sizeof buf);
        size_t n = strlen(buf);
        fprintf(stderr, "fastlike: %s: wasm trap: %s%s", file, buf,
                (n && buf[n - 1] == '\n') ? "" : "\n");
        return EXIT_TRAP;
    }
    case WASI_RUN_ERR_IO:
        fprintf(stderr, "fastlike: %s\n", r->message);
        return EXIT_USAGE;
    default:
        fprintf(stderr, "fastlike: %s: %s: %s\n", file, wasi_run_strerror(r->status), r->message);
        return EXIT_USAGE;
    }
}

static int cmd_run(int argc, char **argv)
{
    run_opts o = {0};
    int status = 0;
    int i = 0;
    for (; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--") == 0) {
            i++;
            break;
        }
        if (strcmp(a, "--env") == 0 || strcmp(a, "-env") == 0) {
            if (i + 1 >= argc) {
                status = usage_error("%s needs NAME=VALUE", a);
                goto done;
            }
            status = add_env(&o, argv[++i]);
        } else if (strncmp(a, "--env=", 6) == 0) {
            status = add_env(&o, a + 6);
        } else if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            usage(stdout);
            goto done;
        } else if (a[0] == '-' && a[1] != '\0') {
            status = usage_error("run: unknown option '%s'", a);
        } else {
            break; /* the module; everything after it belongs to the guest */
        }
        if (status != 0)
            goto done;
    }
    if (i >= argc) {
        status = usage_error("%s", "run: missing FILE.wasm");
        goto done;
    }
    wasi_run_config cfg = {
        .argc = (size_t)(argc - i),
        .argv = (const char *const *)(argv + i),
        .envc = o.envc,
        .env = o.env,
        .stdin_fd = STDIN_FILENO,
        .stdout_fd = STDOUT_FILENO,
        .stderr_fd = STDERR_FILENO,
    };
    wasi_run_result *r = malloc(sizeof *r);
    if (!r) {
        fputs("fastlike: out of memory\n", stderr);
        status = 1;
        goto done;
    }
    /* stdout is the guest's too: flush ours first so nothing interleaves out of order. */
    fflush(stdout);
    wasi_run_file(argv[i], &cfg, r);
    status = report_result(argv[i], r);
    free(r);
done:
    run_opts_free(&o);
    return status;
}

/* ---- serving ---- */

/* SIGINT/SIGTERM (and SIGHUP with -reload) are blocked in every thread and taken by one waiter
 * thread with sigwait, so stopping needs no global state: the waiter holds the server. */
typedef struct signal_waiter {
    fastlike *server;
    sigset_t set;
    atomic_bool done; /* set by main once fastlike_serve returned */
} signal_waiter;

static void *wait_signals(void *arg)
{
    signal_waiter *w = arg;
    bool stopping = false;
    for (;;) {
        int sig = 0;
        if (sigwait(&w->set, &sig) != 0)
            continue;
        if (atomic_load(&w->done))
            return NULL;
        if (sig == SIGHUP) {
            fputs("fastlike: SIGHUP: -reload is accepted but hot reload is not implemented yet; "
                  "still serving the module loaded at startup\n",
                  stderr);
        } else if (!stopping) {
            stopping = true;
            fastlike_stop(w->server);
        } else {
            fputs("fastlike: second signal, exiting without waiting for requests\n", stderr);
            _exit(130);
        }
    }
}

/* One note listing the flags that are parsed and checked but not in effect yet. */
static void note_pending_flags(const cfg_options *o)
{
    const char *names[16];
    size_t n = 0;
    if (o->reload)
        names[n++] = "-reload";
    if (o->edge.ndictionaries)
        names[n++] = "-dictionary";
    if (o->edge.nconfig_stores)
        names[n++] = "-config-store";
    if (o->edge.nkv_stores)
        names[n++] = "-kv";
    if (o->edge.nsecret_stores)
        names[n++] = "-secret-store";
    if (o->edge.nacls)
        names[n++] = "-acl";
    if (o->edge.geo)
        names[n++] = "-geo";
    if (o->edge.nloggers)
        names[n++] = "-logger";
    if (n == 0)
        return;
    fputs("fastlike: note: accepted and checked, not in effect yet:", stderr);
    for (size_t i = 0; i < n; i++)
        fprintf(stderr, "%s %s", i ? "," : "", names[i]);
    fputs(" (see docs/cli.md)\n", stderr);
}

/* Prints a setter's failure as the flag's error line; returns st. */
static fastlike_status flag_failed(fastlike_status st, const char *flag, const char *err)
{
    if (st != FASTLIKE_OK)
        fprintf(stderr, "fastlike: %s: %s\n", flag, err[0] ? err : fastlike_strerror(st));
    return st;
}

/* The stores, ACLs, geo table, loggers, -reload and profiler options: cfg_parse_flags has checked
 * them already; the library setters load the same files again and keep them in the config (those
 * not in effect yet are listed by note_pending_flags; the profiler's are in effect). */
static fastlike_status add_pending_options(fastlike_config *c, const cfg_options *o)
{
    char err[1024] = "";
    fastlike_status st = FASTLIKE_OK;
    const cfg_edge *e = &o->edge;
    for (size_t i = 0; i < e->ndictionaries && st == FASTLIKE_OK; i++)
        st = flag_failed(fastlike_config_add_dictionary(c, e->dictionaries[i].name,
                                                        e->dictionaries[i].path, err, sizeof err),
                         "-dictionary", err);
    for (size_t i = 0; i < e->nconfig_stores && st == FASTLIKE_OK; i++)
        st =
            flag_failed(fastlike_config_add_config_store(c, e->config_stores[i].name,
                                                         e->config_stores[i].path, err, sizeof err),
                        "-config-store", err);
    for (size_t i = 0; i < e->nsecret_stores && st == FASTLIKE_OK; i++)
        st =
            flag_failed(fastlike_config_add_secret_store(c, e->secret_stores[i].name,
                                                         e->secret_stores[i].path, err, sizeof err),
                        "-secret-store", err);
    for (size_t i = 0; i < e->nkv_stores && st == FASTLIKE_OK; i++)
        st = flag_failed(fastlike_config_add_kv_store(c, e->kv_stores[i].name, e->kv_stores[i].path,
                                                      err, sizeof err),
                         "-kv", err);
    for (size_t i = 0; i < e->nacls && st == FASTLIKE_OK; i++)
        st = flag_failed(
            fastlike_config_add_acl(c, e->acls[i].name, e->acls[i].path, err, sizeof err), "-acl",
            err);
    if (e->geo && st == FASTLIKE_OK)
        st = flag_failed(fastlike_config_set_geo(c, e->geo->path, err, sizeof err), "-geo", err);
    for (size_t i = 0; i < e->nloggers && st == FASTLIKE_OK; i++)
        st = flag_failed(
            fastlike_config_add_logger(c, e->loggers[i].name, e->loggers[i].path, err, sizeof err),
            "-logger", err);
    if (o->profile_ui && st == FASTLIKE_OK)
        st = flag_failed(fastlike_config_set_profile_ui(c, o->profile_ui, err, sizeof err),
                         "-profile-ui", err);
    if (st == FASTLIKE_OK)
        st = flag_failed(fastlike_config_set_profile_mode(c, cfg_profile_mode_name(o->profile_mode),
                                                          err, sizeof err),
                         "-profile-mode", err);
    fastlike_config_set_profile_native(c, o->profile_native);
    fastlike_config_set_profile_max_requests(c, o->profile_max_requests);
    fastlike_config_set_profile_allow_remote(c, o->profile_ui_allow_remote);
    if (o->profile_ui_token && st == FASTLIKE_OK)
        st = flag_failed(fastlike_config_set_profile_token(c, o->profile_ui_token, err, sizeof err),
                         "-profile-ui-token", err);
    fastlike_config_set_reload(c, o->reload);
    return st;
}

/* Builds the library configuration from parsed flags. Returns 0 or an exit status. */
static int build_config(const cfg_options *o, fastlike_config **out)
{
    char err[1024] = "";
    fastlike_config *c = fastlike_config_new();
    if (!c) {
        fputs("fastlike: out of memory\n", stderr);
        return 1;
    }
    fastlike_status st = fastlike_config_set_wasm_file(c, o->wasm);
    if (st != FASTLIKE_OK) {
        fprintf(stderr, "fastlike: -wasm %s: %s\n", o->wasm, fastlike_strerror(st));
        goto fail;
    }
    st = fastlike_config_set_bind(c, cfg_options_bind(o), err, sizeof err);
    if (st != FASTLIKE_OK) {
        fprintf(stderr, "fastlike: -bind %s: %s\n", cfg_options_bind(o), err);
        goto fail;
    }
    for (size_t i = 0; i < o->nbackends; i++) {
        st = fastlike_config_add_backend(c, o->backends[i].spec, err, sizeof err);
        if (st != FASTLIKE_OK) {
            fprintf(stderr, "fastlike: -backend %s: %s\n", o->backends[i].spec, err);
            goto fail;
        }
    }
    for (size_t i = 0; i < o->noverride_hosts; i++) {
        const cfg_override_host *oh = &o->override_hosts[i];
        st = fastlike_config_set_backend_override_host(c, oh->backend, oh->host);
        if (st != FASTLIKE_OK) {
            fprintf(stderr, "fastlike: -override-host: no -backend %s%s%s to apply it to\n",
                    oh->backend ? "named '" : "", oh->backend ? oh->backend : "catch-all",
                    oh->backend ? "'" : "");
            goto fail;
        }
    }
    if (o->compliance_region) {
        st = fastlike_config_set_compliance_region(c, o->compliance_region, err, sizeof err);
        if (st != FASTLIKE_OK) {
            fprintf(stderr, "fastlike: -compliance-region: %s\n", err);
            goto fail;
        }
    }
    for (size_t i = 0; i < o->nfake_fastly_keys; i++) {
        st = fastlike_config_add_fake_fastly_key(c, o->fake_fastly_keys[i]);
        if (st != FASTLIKE_OK) {
            fprintf(stderr, "fastlike: -fake-fastly-key: %s\n", fastlike_strerror(st));
            goto fail;
        }
    }
    fastlike_config_set_verbosity(c, o->verbosity);
    fastlike_config_set_unknown_import_error(c, o->unknown_import_link_error);
    if (o->request_timeout_set)
        fastlike_config_set_request_timeout_ms(c, o->request_timeout_ms);
    st = add_pending_options(c, o);
    if (st != FASTLIKE_OK)
        goto fail;
    *out = c;
    return 0;
fail:
    fastlike_config_free(c);
    return st == FASTLIKE_ERR_NOMEM ? 1 : EXIT_USAGE;
}

/* Loads the guest and serves until a signal stops the server. Returns the exit status. */
static int serve(const cfg_options *o)
{
    char err[2048] = "";
    fastlike_config *config = NULL;
    fastlike *server = NULL;
    signal_waiter w = {0};
    atomic_init(&w.done, false);
    sigemptyset(&w.set);
    sigaddset(&w.set, SIGINT);
    sigaddset(&w.set, SIGTERM);
    if (o->reload)
        sigaddset(&w.set, SIGHUP);
    /* Blocked before the library starts any thread, so every thread inherits the mask and only
     * the waiter takes these signals (a signal arriving before it exists stays pending). */
    if (pthread_sigmask(SIG_BLOCK, &w.set, NULL) != 0) {
        fputs("fastlike: cannot set up signal handling\n", stderr);
        return 1;
    }
    int status = build_config(o, &config);
    if (status != 0)
        return status;
    /* Unimplemented imports are listed by the library itself at -v 1 (it holds the module). */
    fastlike_status st = fastlike_new(config, &server, err, sizeof err);
    fastlike_config_free(config);
    if (st != FASTLIKE_OK) {
        fprintf(stderr, "fastlike: %s\n", err[0] ? err : fastlike_strerror(st));
        return st == FASTLIKE_ERR_NOMEM ? 1 : EXIT_USAGE;
    }
    note_pending_flags(o);

    w.server = server;
    pthread_t waiter;
    if (pthread_create(&waiter, NULL, wait_signals, &w) != 0) {
        fputs("fastlike: cannot set up signal handling\n", stderr);
        fastlike_free(server);
        return 1;
    }
    st = fastlike_serve(server, err, sizeof err);
    atomic_store(&w.done, true);
    pthread_kill(waiter, SIGTERM); /* wakes the waiter if no signal came; it sees `done` */
    pthread_join(waiter, NULL);
    fastlike_free(server);
    if (st != FASTLIKE_OK) {
        fprintf(stderr, "fastlike: %s\n", err[0] ? err : fastlike_strerror(st));
        return EXIT_USAGE;
    }
    return 0;
}

static int cmd_serve(int argc, char **argv)
{
    char err[2048] = "";
    cfg_options o;
    cfg_options_init(&o);
    int status = 0;
    cfg_status st = cfg_parse_flags(&o, argc, argv, err, sizeof err);
    if (st != CFG_OK) {
        fprintf(stderr, "fastlike: %s\n", err);
        status = st == CFG_ERR_NOMEM ? 1 : EXIT_USAGE;
    } else if (o.help) {
        usage(stdout);
    } else {
        status = serve(&o);
    }
    cfg_options_deinit(&o);
    return status;
}

static bool ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

int main(int argc, char **argv)
{
    /* A write to a pipe whose reader left must come back as EPIPE (errno `pipe` for a guest, a
     * failed write for the server) rather than kill the process, as in wasmtime and Viceroy. */
    signal(SIGPIPE, SIG_IGN);
    if (argc < 2) {
        usage(stderr);
        return EXIT_USAGE;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "-h") == 0 || strcmp(cmd, "--help") == 0 || strcmp(cmd, "-help") == 0 ||
        strcmp(cmd, "help") == 0) {
        usage(stdout);
        return 0;
    }
    if (strcmp(cmd, "--version") == 0 || strcmp(cmd, "-version") == 0 ||
        strcmp(cmd, "version") == 0) {
        printf("fastlike %s\n", FASTLIKE_VERSION);
        return 0;
    }
    if (strcmp(cmd, "run") == 0)
        return cmd_run(argc - 2, argv + 2);
    /* Serving: flags first, or Fastlike's positional form `fastlike FILE.wasm -backend ...`. */
    if (cmd[0] == '-' || ends_with(cmd, ".wasm"))
        return cmd_serve(argc - 1, argv + 1);
    return usage_error("unknown command '%s'", cmd);
}
