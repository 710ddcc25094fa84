/* main.c: the fastlike command line. Parses flags and hands off to the library:
 * `fastlike run FILE.wasm [ARGS...]` runs a WASI command (src/wasi/wasi_run.c); the serving mode
 * (`fastlike -wasm FILE -backend ...`) is reserved for cmd_serve below. */
#include "fwe.h"
#include "wasi/wasi_run.h"

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
          "       fastlike -wasm FILE.wasm -backend [NAME=]ADDR [flags]   (serve; not yet)\n"
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
          "134 when the guest traps (the trap and backtrace go to stderr).\n",
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

/* ---- serving (a later issue adds -wasm, -bind, -backend, -v, -reload, -dictionary, ...) ---- */

static int cmd_serve(int argc, char **argv)
{
    fputs("fastlike: serving is not implemented yet; use 'fastlike run FILE.wasm' to run a WASI "
          "command\n",
          stderr);
    return EXIT_USAGE;
}

int main(int argc, char **argv)
{
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
    if (cmd[0] == '-')
        return cmd_serve(argc - 1, argv + 1);
    return usage_error("unknown command '%s'", cmd);
}
