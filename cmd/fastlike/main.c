/* main.c: the fastlike command line. Parses flags and hands off to the library:
 * `fastlike run FILE.wasm [ARGS...]` runs a WASI command (src/wasi/wasi_run.c) or, for a module
 * that imports the Fastly ABI, a Compute program once (fastlike_run_main); the serving mode
 * (`fastlike -wasm FILE -backend ...`, flags in src/config/cfg_flags.c) builds a fastlike_config
 * and calls fastlike_new + fastlike_serve (include/fastlike.h) until SIGINT or SIGTERM. Called as
 * `viceroy` or with a first word `serve`/`run`, it takes Viceroy's command line instead
 * (src/config/cfg_viceroy_args.c), as the Fastly CLI and test runners use it. */
#include "config/cfg_flags.h"
#include "config/cfg_viceroy_args.h"
#include "fastlike.h"
#include "fwe.h"
#include "server/srv_config.h" /* srv_config_add_cfg_backend, srv_config_set_edge */
#include "wasi/wasi_run.h"

#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#ifndef FASTLIKE_VERSION
#define FASTLIKE_VERSION "0.1.0-dev"
#endif

#define EXIT_USAGE 2
#define EXIT_TRAP 134  /* 128 + SIGABRT, as wasmtime reports a trapped guest */
#define EXIT_STARTUP 1 /* viceroy mode: the server could not start, as Viceroy */

static void usage(FILE *out)
{
    fputs("usage: fastlike -wasm FILE.wasm [-backend [NAME=]ADDR[@N]]... [flags]   (serve)\n"
          "       fastlike FILE.wasm [flags]                                     (the same)\n"
          "       fastlike run [OPTIONS] FILE.wasm [ARGS...]\n"
          "       fastlike serve [OPTIONS] FILE.wasm    (Viceroy's options; also as `viceroy`)\n"
          "       fastlike -h | --help | --version\n"
          "\n"
          "commands:\n"
          "  run     run a module's _start once and exit with its exit code: a WASI command\n"
          "          (the guest sees FILE.wasm ARGS... as its arguments), or a Compute program\n"
          "          (as `viceroy run`: every hostcall, a GET http://example.com/ request)\n"
          "  serve   serve with Viceroy's options (-v, -C fastly.toml, --addr IP:PORT, ...)\n"
          "\n"
          "run options (and Viceroy's, see `fastlike serve --help`):\n"
          "  --env NAME=VALUE  give the guest an environment variable (repeatable)\n"
          "  --env NAME        pass NAME through from fastlike's own environment\n"
          "  --                end of options\n"
          "\n"
          "run exit status: the guest's exit code; 134 when the guest traps (the trap and\n"
          "backtrace go to stderr); 2 for usage errors and unloadable modules; 1 when a Compute\n"
          "program cannot be run.\n"
          "\n",
          out);
    fputs(cfg_usage_text(), out);
    fputs("serving exits 0 after SIGINT or SIGTERM (once the requests in flight are answered,\n"
          "see -shutdown-grace), 128+N when a second signal N ends it at once, 2 on a startup\n"
          "error (bad flag or file, unloadable wasm, address in use). Details: docs/cli.md\n",
          out);
}

/* Without arguments: one line, not the whole text. */
static void usage_line(bool as_viceroy)
{
    if (as_viceroy)
        fputs("usage: viceroy [serve|run] [OPTIONS] FILE.wasm (see viceroy --help)\n", stderr);
    else
        fputs("usage: fastlike [-wasm] FILE.wasm [-backend ADDR]... [flags] | fastlike run "
              "FILE.wasm [ARGS...] (see fastlike -h)\n",
              stderr);
}

static int usage_error(const char *fmt, const char *arg)
{
    fputs("fastlike: ", stderr);
    fprintf(stderr, fmt, arg);
    fputs("\nrun 'fastlike --help' for usage\n", stderr);
    return EXIT_USAGE;
}

/* -tier: chosen before any module is loaded (the engine's default: FWE_TIER, else auto). */
static void apply_tier(const cfg_options *o)
{
    fwe_tier_mode mode;
    if (o->tier && fwe_tier_parse(o->tier, &mode))
        fwe_tier_set(mode);
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

/* ---- serving ---- */

/* SIGINT/SIGTERM (and SIGHUP with -reload) are blocked in every thread and taken by one waiter
 * thread with sigwait, so stopping needs no global state: the waiter holds the server. */
typedef struct signal_waiter {
    fastlike *server;
    sigset_t set;
    atomic_bool done;       /* set by main once fastlike_serve returned */
    atomic_int stop_signal; /* the signal that stopped the server, 0 while none */
    bool viceroy;           /* viceroy mode: die by that signal, as Viceroy does */
    int argc;               /* the serving flags, parsed again on SIGHUP when they name a */
    char *const *argv;      /* fastly.toml (its inline data has no file of its own to re-read) */
} signal_waiter;

static int build_config(const cfg_options *o, fastlike_config **out);

/* SIGHUP with -C fastly.toml: the flags and the toml read again, then reloaded from them. A
 * problem in any of them keeps everything as it is, with one line on stderr. */
static void reload_from_flags(signal_waiter *w)
{
    char err[2048] = "";
    cfg_options o;
    cfg_options_init(&o);
    fastlike_config *c = NULL;
    if (cfg_parse_flags(&o, w->argc, w->argv, err, sizeof err) != CFG_OK)
        fprintf(stderr, "fastlike: reload failed, still serving the previous module: %s\n", err);
    else if (build_config(&o, &c) == 0)
        fastlike_reload(w->server, c, err, sizeof err); /* logs its outcome */
    fastlike_config_free(c);
    cfg_options_deinit(&o);
}

/* Ends the process by `sig` with its default action (the Fastly CLI restarts a server that
 * exits 0), from any thread: the signal is blocked everywhere, so unblock it here and raise. */
static void die_by_signal(int sig)
{
    fflush(NULL);
    signal(sig, SIG_DFL);
    sigset_t one;
    sigemptyset(&one);
    sigaddset(&one, sig);
    pthread_sigmask(SIG_UNBLOCK, &one, NULL);
    raise(sig);
    _exit(128 + sig); /* not reached */
}

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
            /* the wasm and store files read again; the outcome is one line in the log */
            if (w->argc > 0) {
                reload_from_flags(w);
            } else {
                char err[1024];
                fastlike_reload(w->server, NULL, err, sizeof err);
            }
        } else if (!stopping) {
            stopping = true;
            atomic_store(&w->stop_signal, sig);
            fastlike_stop(w->server);
        } else {
            fputs("fastlike: second signal, exiting without waiting for requests\n", stderr);
            if (w->viceroy)
                die_by_signal(sig);
            _exit(128 + sig); /* the shell's status for a process a signal ended */
        }
    }
}

/* One note listing the flags that are parsed and checked but not in effect yet. */
static void note_pending_flags(const cfg_options *o)
{
    const char *names[16];
    size_t n = 0;
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

/* The stores, ACLs, geo table, loggers, device detection, -reload and profiler options:
 * cfg_parse_flags has loaded and checked them already (from flags and -C fastly.toml). */
static fastlike_status add_pending_options(fastlike_config *c, const cfg_options *o)
{
    char err[1024] = "";
    fastlike_status st;
    /* Everything -dictionary, ..., -logger and -C fastly.toml loaded (inline data included) goes
     * over as one copy: the files are not read again. */
    st = flag_failed(srv_config_set_edge(c, &o->edge, err, sizeof err), "edge data", err);
    if (o->kv_dir && st == FASTLIKE_OK)
        st = flag_failed(fastlike_config_set_kv_dir(c, o->kv_dir, err, sizeof err), "-kv-dir", err);
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
    if (o->profile_guest_dir && st == FASTLIKE_OK)
        st = flag_failed(
            fastlike_config_set_profile_guest_dir(c, o->profile_guest_dir, err, sizeof err),
            "-profile-guest-dir", err);
    fastlike_config_set_reload(c, o->reload);
    fastlike_config_set_watch(c, o->watch);
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
        st = srv_config_add_cfg_backend(c, &o->backends[i], err, sizeof err);
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
    if (o->shutdown_grace_set)
        fastlike_config_set_shutdown_grace_ms(c, o->shutdown_grace_ms);
    if (o->cache_size_set)
        fastlike_config_set_cache_size(c, o->cache_size);
    if (cfg_pushpin_fanout_on(&o->pushpin) &&
        (st = fastlike_config_set_pushpin(c, o->pushpin.start == 1, o->pushpin.proxy_port,
                                          o->pushpin.publish_port, o->pushpin.path)) != FASTLIKE_OK)
        goto fail;
    if (o->pushpin.websocket_passthrough)
        fastlike_config_set_websocket_passthrough(c, o->pushpin.websocket_passthrough > 0);
    st = add_pending_options(c, o);
    if (st != FASTLIKE_OK)
        goto fail;
    *out = c;
    return 0;
fail:
    fastlike_config_free(c);
    return st == FASTLIKE_ERR_NOMEM ? 1 : EXIT_USAGE;
}

/* Viceroy's line once the socket is bound, exactly as its tracing output has it (RFC 3339 UTC
 * time with microseconds, two spaces, the level padded to five): the Fastly CLI shows it, and
 * people and scripts wait for it. The address is the host part of the bind address with the
 * port actually bound. */
static void print_listening(const char *bind, uint16_t port)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    char when[32];
    strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%S", &tm);
    const char *colon = strrchr(bind, ':');
    int hostlen = colon ? (int)(colon - bind) : (int)strlen(bind);
    const char *host = hostlen ? bind : "0.0.0.0";
    printf("%s.%06ldZ  INFO Listening on http://%.*s:%u\n", when, ts.tv_nsec / 1000,
           hostlen ? hostlen : 7, host, (unsigned)port);
    fflush(stdout);
}

/* Loads the guest and serves until a signal stops the server. Returns the exit status; in
 * viceroy mode a startup failure is 1 and a stop by SIGINT/SIGTERM ends the process by it. */
static int serve(const cfg_options *o, bool viceroy, int argc, char *const *argv)
{
    const int startup_failed = viceroy ? EXIT_STARTUP : EXIT_USAGE;
    char err[2048] = "";
    fastlike_config *config = NULL;
    fastlike *server = NULL;
    signal_waiter w = {0};
    atomic_init(&w.done, false);
    atomic_init(&w.stop_signal, 0);
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
        return viceroy ? EXIT_STARTUP : status;
    /* Unimplemented imports are listed by the library itself at -v 1 (it holds the module). */
    fastlike_status st = fastlike_new(config, &server, err, sizeof err);
    fastlike_config_free(config);
    if (st != FASTLIKE_OK) {
        fprintf(stderr, "fastlike: %s\n", err[0] ? err : fastlike_strerror(st));
        return st == FASTLIKE_ERR_NOMEM ? 1 : startup_failed;
    }
    note_pending_flags(o);

    w.server = server;
    w.viceroy = viceroy;
    if (o->config_file) {
        w.argc = argc;
        w.argv = argv;
    }
    pthread_t waiter;
    if (pthread_create(&waiter, NULL, wait_signals, &w) != 0) {
        fputs("fastlike: cannot set up signal handling\n", stderr);
        fastlike_free(server);
        return 1;
    }
    /* bound first, so the listening line is only printed once connections are accepted */
    st = fastlike_start(server, err, sizeof err);
    if (st == FASTLIKE_OK) {
        if (viceroy)
            print_listening(cfg_options_bind(o), fastlike_port(server));
        st = fastlike_serve(server, err, sizeof err);
    }
    atomic_store(&w.done, true);
    pthread_kill(waiter, SIGTERM); /* wakes the waiter if no signal came; it sees `done` */
    pthread_join(waiter, NULL);
    fastlike_free(server);
    if (st != FASTLIKE_OK) {
        fprintf(stderr, "fastlike: %s\n", err[0] ? err : fastlike_strerror(st));
        return startup_failed;
    }
    int sig = atomic_load(&w.stop_signal);
    if (viceroy && sig != 0)
        die_by_signal(sig);
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
        apply_tier(&o);
        status = serve(&o, false, argc, argv);
    }
    cfg_options_deinit(&o);
    return status;
}

/* ---- run: a WASI command, or a Compute program once (as `viceroy run`) ---- */

/* True when the module imports anything from a `fastly_*` module, i.e. is a Compute program.
 * Only the import section is read, from the mapped file: loading the module here as well would
 * decode a large guest twice (~100 ms for a JS SDK guest). A file that cannot be read, or whose
 * import section is malformed, answers false: the WASI path reports it. */
static bool imports_fastly_abi(const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return false;
    struct stat st;
    void *map = MAP_FAILED;
    if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0)
        map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    if (map == MAP_FAILED)
        return false;
    bool found = false;
    if (fwe_module_imports_prefix(map, (size_t)st.st_size, "fastly_", &found) != FWE_OK)
        found = false;
    munmap(map, (size_t)st.st_size);
    return found;
}

/* The program name Viceroy gives a Compute program: the file name without directory and
 * extension ("bin/main.wasm" -> "main"). */
static void program_stem(const char *path, char *out, size_t outlen)
{
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    const char *dot = strrchr(base, '.');
    size_t n = dot && dot != base ? (size_t)(dot - base) : strlen(base);
    snprintf(out, outlen, "%.*s", (int)n, base);
}

/* A Compute program through the library: every hostcall, the -C/-backend/... configuration. */
static int run_compute(const cfg_options *o, const cfg_viceroy_args *va, const run_opts *ro)
{
    fastlike_config *config = NULL;
    if (build_config(o, &config) != 0)
        return 1;
    char err[8192] = "";
    fastlike *f = NULL;
    fastlike_status st = fastlike_new(config, &f, err, sizeof err);
    fastlike_config_free(config);
    if (st != FASTLIKE_OK) {
        fprintf(stderr, "fastlike: %s\n", err[0] ? err : fastlike_strerror(st));
        return 1;
    }
    char stem[256];
    program_stem(va->input, stem, sizeof stem);
    const char **argv = calloc((size_t)va->guest_argc + 1, sizeof *argv);
    if (!argv) {
        fastlike_free(f);
        fputs("fastlike: out of memory\n", stderr);
        return 1;
    }
    argv[0] = stem;
    for (int i = 0; i < va->guest_argc; i++)
        argv[i + 1] = va->guest_argv[i];
    fastlike_run_config rc = {.argv = argv,
                              .argc = (size_t)va->guest_argc + 1,
                              .env = ro->env,
                              .nenv = ro->envc,
                              .stdin_fd = STDIN_FILENO,
                              .stdout_fd = STDOUT_FILENO,
                              .stderr_fd = STDERR_FILENO};
    fastlike_run_result r;
    fflush(stdout); /* the guest writes to the same stdout */
    st = fastlike_run_main(f, &rc, &r, err, sizeof err);
    int status;
    if (st != FASTLIKE_OK) {
        fprintf(stderr, "fastlike: %s: %s\n", va->input, err[0] ? err : fastlike_strerror(st));
        status = 1;
    } else if (r.trapped) {
        size_t n = strlen(err);
        fprintf(stderr, "fastlike: %s: wasm trap: %s%s", va->input, err,
                (n && err[n - 1] == '\n') ? "" : "\n");
        status = EXIT_TRAP;
    } else {
        /* WASI exit codes are u32; a process status holds 8 bits, so keep nonzero nonzero. */
        status = (r.exit_code >= 0 && r.exit_code <= 255) ? r.exit_code : 1;
    }
    free(argv);
    fastlike_free(f);
    return status;
}

/* A plain WASI command: the guest sees FILE.wasm ARGS... and only the --env variables. */
static int run_wasi(const cfg_viceroy_args *va, const run_opts *ro)
{
    const char **argv = calloc((size_t)va->guest_argc + 1, sizeof *argv);
    wasi_run_result *r = malloc(sizeof *r);
    if (!argv || !r) {
        free(argv);
        free(r);
        fputs("fastlike: out of memory\n", stderr);
        return 1;
    }
    argv[0] = va->input;
    for (int i = 0; i < va->guest_argc; i++)
        argv[i + 1] = va->guest_argv[i];
    wasi_run_config cfg = {
        .argc = (size_t)va->guest_argc + 1,
        .argv = argv,
        .envc = ro->envc,
        .env = ro->env,
        .stdin_fd = STDIN_FILENO,
        .stdout_fd = STDOUT_FILENO,
        .stderr_fd = STDERR_FILENO,
    };
    /* stdout is the guest's too: flush ours first so nothing interleaves out of order. */
    fflush(stdout);
    wasi_run_file(va->input, &cfg, r);
    int status = report_result(va->input, r);
    free(r);
    free(argv);
    return status;
}

/* `fastlike run` / `viceroy run`: a Compute program (always, when called as viceroy) runs with
 * every hostcall; a module importing no Fastly ABI runs as a plain WASI command. */
static int cmd_run(const cfg_viceroy_args *va, bool as_viceroy)
{
    run_opts ro = {0};
    int status = 0;
    for (size_t i = 0; i < va->nenv && status == 0; i++)
        status = add_env(&ro, va->env[i]);
    if (status != 0)
        goto done;
    if (!as_viceroy && !imports_fastly_abi(va->input)) {
        status = run_wasi(va, &ro);
        goto done;
    }
    char err[2048] = "";
    cfg_options o;
    cfg_options_init(&o);
    cfg_status st = cfg_parse_flags(&o, va->argc, va->argv, err, sizeof err);
    if (st != CFG_OK) {
        fprintf(stderr, "fastlike: %s\n", err);
        status = st == CFG_ERR_NOMEM ? 1 : EXIT_USAGE;
    } else {
        apply_tier(&o);
        status = run_compute(&o, va, &ro);
    }
    cfg_options_deinit(&o);
done:
    run_opts_free(&ro);
    return status;
}

/* ---- Viceroy's command line (viceroy [serve|run] ..., fastlike serve|run ...) ---- */

static int cmd_viceroy(int argc, char **argv, bool as_viceroy)
{
    char err[2048] = "";
    cfg_viceroy_args va;
    cfg_viceroy_args_init(&va);
    int status = 0;
    cfg_status st = cfg_viceroy_args_parse(&va, argc, argv, err, sizeof err);
    for (size_t i = 0; i < va.nwarnings; i++)
        fprintf(stderr, "fastlike: %s\n", va.warnings[i]);
    if (st != CFG_OK) {
        fprintf(stderr, "fastlike: %s (see %s --help)\n", err,
                as_viceroy ? "viceroy" : "fastlike serve");
        status = st == CFG_ERR_NOMEM ? 1 : EXIT_USAGE;
    } else if (va.command == CFG_VICEROY_VERSION) {
        /* the Fastly CLI reads the second word as Viceroy's version */
        if (as_viceroy)
            printf("viceroy %s\n", CFG_VICEROY_RELEASE);
        else
            printf("fastlike %s (viceroy %s command line)\n", FASTLIKE_VERSION,
                   CFG_VICEROY_RELEASE);
    } else if (va.command == CFG_VICEROY_HELP) {
        fputs(cfg_viceroy_usage_text(), stdout);
    } else if (va.command == CFG_VICEROY_RUN) {
        status = cmd_run(&va, as_viceroy);
    } else {
        cfg_options o;
        cfg_options_init(&o);
        st = cfg_parse_flags(&o, va.argc, va.argv, err, sizeof err);
        if (st != CFG_OK) {
            fprintf(stderr, "fastlike: %s\n", err);
            status = EXIT_STARTUP;
        } else {
            status = serve(&o, true, va.argc, va.argv);
        }
        cfg_options_deinit(&o);
    }
    cfg_viceroy_args_deinit(&va);
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
    bool as_viceroy = cfg_viceroy_invocation(argv[0], NULL);
    if (argc < 2) {
        usage_line(as_viceroy);
        return EXIT_USAGE;
    }
    const char *cmd = argv[1];
    if (cfg_viceroy_invocation(argv[0], cmd))
        return cmd_viceroy(argc - 1, argv + 1, as_viceroy);
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
    /* The Fastly CLI's command line under another name (`--viceroy-path .../fastlike`). */
    if (cmd[0] == '-' && cfg_viceroy_lookalike(argc - 1, argv + 1))
        return cmd_viceroy(argc - 1, argv + 1, true);
    /* Serving: flags first, or Fastlike's positional form `fastlike FILE.wasm -backend ...`. */
    struct stat st;
    if (cmd[0] == '-' || ends_with(cmd, ".wasm") || (stat(cmd, &st) == 0 && S_ISREG(st.st_mode)))
        return cmd_serve(argc - 1, argv + 1);
    fprintf(stderr,
            "fastlike: %s: no such .wasm file (nor a command: run, serve; see fastlike -h)\n", cmd);
    return EXIT_USAGE;
}
