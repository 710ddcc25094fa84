/* cfg_viceroy_args.c: Viceroy's options (cli/src/opts.rs in fastly/Viceroy: clap syntax, `-v`
 * counted, `-C FILE`, long options as `--name VALUE` or `--name=VALUE`, `--` before trailing
 * arguments) turned into the equivalent Fastlike flags, plus the warnings and notes for what has
 * no Fastlike equivalent. */
#include "config/cfg_viceroy_args.h"
#include "util/util_str.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef enum opt_kind {
    OPT_FLAG,     /* no value; "=true|false" tolerated */
    OPT_VALUE,    /* a value, "=VALUE" or the next word */
    OPT_OPT_BOOL, /* "--name" or "--name=BOOL" */
} opt_kind;

typedef enum opt_id {
    O_ADDR,
    O_CONFIG,
    O_LOG_STDOUT,
    O_LOG_STDERR,
    O_PROFILE,
    O_PUSHPIN_PORT,
    O_EXPERIMENTAL,
    O_UNKNOWN_IMPORT,
    O_ADAPT,
    O_WASM_FEATURE,
    O_WEBSOCKET,
    O_DEBUG,
    O_VERSION,
    O_HELP,
    O_ENV,
} opt_id;

typedef struct long_opt {
    const char *name;
    opt_kind kind;
    opt_id id;
} long_opt;

static const long_opt long_opts[] = {
    {"addr", OPT_VALUE, O_ADDR},
    {"config", OPT_VALUE, O_CONFIG},
    {"log-stdout", OPT_FLAG, O_LOG_STDOUT},
    {"log-stderr", OPT_FLAG, O_LOG_STDERR},
    {"profile", OPT_VALUE, O_PROFILE},
    {"local-pushpin-proxy-port", OPT_VALUE, O_PUSHPIN_PORT},
    {"experimental_modules", OPT_VALUE, O_EXPERIMENTAL},
    {"unknown-import-behavior", OPT_VALUE, O_UNKNOWN_IMPORT},
    {"adapt", OPT_FLAG, O_ADAPT},
    {"wasm-exceptions", OPT_FLAG, O_WASM_FEATURE},
    {"wasm-gc", OPT_FLAG, O_WASM_FEATURE},
    {"wasm-cm-gc", OPT_FLAG, O_WASM_FEATURE},
    {"enable-local-websocket-passthrough", OPT_OPT_BOOL, O_WEBSOCKET},
    {"debug", OPT_FLAG, O_DEBUG},
    {"version", OPT_FLAG, O_VERSION},
    {"help", OPT_FLAG, O_HELP},
    {"env", OPT_VALUE, O_ENV}, /* Fastlike's own, for run */
};

/* What the options said, before it becomes Fastlike flags. */
typedef struct parsed {
    int verbosity;
    const char *addr, *config, *unknown_import;
    const char *pushpin_port; /* --local-pushpin-proxy-port, or NULL */
    bool websocket_off;       /* --enable-local-websocket-passthrough=false */
    bool profile_trace, profile_native;
    char profile_dir[1024]; /* --profile=guest[,DIR]: where the per-request profiles go, or "" */
} parsed;

static bool push_str(char ***arr, size_t *n, const char *s)
{
    char *copy = util_strdup(s);
    char **grown = copy ? realloc(*arr, (*n + 2) * sizeof **arr) : NULL;
    if (!grown) {
        free(copy);
        return false;
    }
    *arr = grown;
    grown[(*n)++] = copy;
    grown[*n] = NULL;
    return true;
}

static bool push_arg(cfg_viceroy_args *a, const char *s)
{
    size_t n = (size_t)a->argc;
    bool ok = push_str(&a->argv, &n, s);
    a->argc = (int)n;
    return ok;
}

/* Adds one warning or note line (printf-style). */
static bool warn(cfg_viceroy_args *a, const char *fmt, ...)
{
    char line[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    return push_str(&a->warnings, &a->nwarnings, line);
}

static cfg_status nomem(char *err, size_t errlen)
{
    snprintf(err, errlen, "out of memory");
    return CFG_ERR_NOMEM;
}

static void free_list(char **list, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(list[i]);
    free(list);
}

void cfg_viceroy_args_init(cfg_viceroy_args *a)
{
    memset(a, 0, sizeof *a);
}

void cfg_viceroy_args_deinit(cfg_viceroy_args *a)
{
    if (!a)
        return;
    free_list(a->argv, (size_t)a->argc);
    free(a->input);
    free_list(a->guest_argv, (size_t)a->guest_argc);
    free_list(a->env, a->nenv);
    free_list(a->warnings, a->nwarnings);
    cfg_viceroy_args_init(a);
}

bool cfg_viceroy_invocation(const char *argv0, const char *first_word)
{
    if (argv0) {
        const char *base = strrchr(argv0, '/');
        base = base ? base + 1 : argv0;
        if (strcmp(base, "viceroy") == 0)
            return true;
    }
    return first_word && (strcmp(first_word, "serve") == 0 || strcmp(first_word, "run") == 0);
}

bool cfg_viceroy_lookalike(int argc, char *const *argv)
{
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--") == 0)
            return false;
        if (strcmp(a, "--addr") == 0 || strncmp(a, "--addr=", 7) == 0)
            return true;
        if (a[0] == '-' && a[1] == 'v' && a[2] == 'v' && strspn(a + 1, "v") == strlen(a + 1))
            return true;
        if (strcmp(a, "-v") == 0 && i + 1 < argc) { /* a last -v: "needs a value" is clearer */
            /* Viceroy's bare -v is followed by another option or the wasm file (the Fastly CLI
             * runs `viceroy -v -C ...`); anything else is Fastlike's -v with its (maybe bad)
             * level, whose error is clearer than a warning about every other flag */
            const char *next = argv[i + 1];
            size_t n = strlen(next);
            if (next[0] == '-' || (n > 5 && strcmp(next + n - 5, ".wasm") == 0))
                return true;
            i++; /* Fastlike's -v N */
        }
    }
    return false;
}

/* clap's boolean spellings. Returns 1, 0, or -1. */
static int parse_bool(const char *v)
{
    if (strcmp(v, "true") == 0 || strcmp(v, "1") == 0 || strcmp(v, "yes") == 0 ||
        strcmp(v, "on") == 0)
        return 1;
    if (strcmp(v, "false") == 0 || strcmp(v, "0") == 0 || strcmp(v, "no") == 0 ||
        strcmp(v, "off") == 0)
        return 0;
    return -1;
}

static bool all_digits(const char *s, size_t n)
{
    if (n == 0)
        return false;
    for (size_t i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return false;
    return true;
}

/* A sample period as Viceroy takes it: digits with an optional s, ms, us, μs or ns unit. */
static bool valid_period(const char *s)
{
    static const char *const units[] = {"ms", "us", "\xce\xbcs", "ns", "s", ""};
    size_t n = strlen(s);
    for (size_t i = 0; i < sizeof units / sizeof *units; i++) {
        size_t u = strlen(units[i]);
        if (n > u && strcmp(s + n - u, units[i]) == 0 && all_digits(s, n - u))
            return true;
    }
    return false;
}

/* --profile=jitdump|perfmap|vtune|guest[,PATH[,PERIOD]] */
static cfg_status take_profile(cfg_viceroy_args *a, parsed *p, const char *v, char *err,
                               size_t errlen)
{
    const char *c1 = strchr(v, ',');
    const char *c2 = c1 ? strchr(c1 + 1, ',') : NULL;
    size_t head = c1 ? (size_t)(c1 - v) : strlen(v);
    bool ok;
    if (head == 5 && strncmp(v, "guest", 5) == 0) {
        ok = !c2 || (!strchr(c2 + 1, ',') && valid_period(c2 + 1));
        if (ok) {
            /* as Viceroy: one Firefox Profiler JSON per request, into DIR (default
             * guest-profiles); Fastlike's viewer shows the same records with -profile-ui */
            p->profile_trace = true;
            const char *dir = c1 ? c1 + 1 : "guest-profiles";
            size_t dlen = c1 ? (c2 ? (size_t)(c2 - dir) : strlen(dir)) : strlen(dir);
            if (dlen == 0) {
                dir = "guest-profiles";
                dlen = strlen(dir);
            }
            if (dlen >= sizeof p->profile_dir) {
                snprintf(err, errlen, "--profile: directory name too long");
                return CFG_ERR_USAGE;
            }
            memcpy(p->profile_dir, dir, dlen);
            p->profile_dir[dlen] = '\0';
        }
    } else {
        ok = !c1 &&
             (strcmp(v, "jitdump") == 0 || strcmp(v, "perfmap") == 0 || strcmp(v, "vtune") == 0);
        if (ok) {
            p->profile_native = true;
            if (!warn(a,
                      "note: --profile=%s: recording native CPU samples in Fastlike's profiler "
                      "instead",
                      v))
                return nomem(err, errlen);
        }
    }
    if (!ok) {
        snprintf(err, errlen,
                 "--profile: '%s': expected jitdump, perfmap, vtune or guest[,PATH[,PERIOD]]", v);
        return CFG_ERR_USAGE;
    }
    return CFG_OK;
}

/* Acts on one known long option with its value (NULL for flags without one). */
static cfg_status take_long(cfg_viceroy_args *a, parsed *p, const long_opt *o, const char *v,
                            char *err, size_t errlen)
{
    bool ok = true;
    switch (o->id) {
    case O_ADDR:
        if (a->command == CFG_VICEROY_RUN)
            ok = warn(a, "warning: --addr has no effect with run; ignored");
        else
            p->addr = v;
        break;
    case O_CONFIG:
        p->config = v;
        break;
    case O_LOG_STDOUT:
    case O_LOG_STDERR:
        break; /* guest stdout and stderr reach the server's log already */
    case O_PROFILE:
        return take_profile(a, p, v, err, errlen);
    case O_PUSHPIN_PORT: {
        size_t n = strlen(v);
        if (!all_digits(v, n) || n > 5 || strtol(v, NULL, 10) > 65535) {
            snprintf(err, errlen, "--local-pushpin-proxy-port: '%s' is not a port number", v);
            return CFG_ERR_USAGE;
        }
        p->pushpin_port = strtol(v, NULL, 10) > 0 ? v : NULL; /* 0: no Pushpin to reach */
        break;
    }
    case O_EXPERIMENTAL:
        ok = warn(a, "note: --experimental_modules %s: not available in Fastlike; ignored", v);
        break;
    case O_UNKNOWN_IMPORT:
        if (strcmp(v, "link-error") != 0 && strcmp(v, "trap") != 0) {
            snprintf(err, errlen, "--unknown-import-behavior: '%s': expected link-error or trap",
                     v);
            return CFG_ERR_USAGE;
        }
        p->unknown_import = v;
        break;
    case O_ADAPT:
        ok = warn(a, "note: --adapt: Fastlike runs core wasm modules as they are; ignored");
        break;
    case O_WASM_FEATURE:
        ok = warn(a, "note: --%s: not available in Fastlike's engine; ignored", o->name);
        break;
    case O_WEBSOCKET:
        if (v && parse_bool(v) < 0) {
            snprintf(err, errlen, "--%s: '%s' is not a boolean (true or false)", o->name, v);
            return CFG_ERR_USAGE;
        }
        p->websocket_off = v && parse_bool(v) == 0;
        break;
    case O_DEBUG:
        ok = warn(a, "note: --debug: Debug Adapter mode is not available in Fastlike; ignored");
        break;
    case O_VERSION:
        a->command = CFG_VICEROY_VERSION;
        break;
    case O_HELP:
        a->command = CFG_VICEROY_HELP;
        break;
    case O_ENV:
        ok = push_str(&a->env, &a->nenv, v);
        break;
    }
    return ok ? CFG_OK : nomem(err, errlen);
}

static const long_opt *find_long(const char *name, size_t n)
{
    for (size_t i = 0; i < sizeof long_opts / sizeof *long_opts; i++)
        if (strlen(long_opts[i].name) == n && memcmp(long_opts[i].name, name, n) == 0)
            return &long_opts[i];
    return NULL;
}

/* Builds the Fastlike flags from what was parsed. */
static cfg_status emit(cfg_viceroy_args *a, const parsed *p, char *err, size_t errlen)
{
    bool ok = true;
    if (p->verbosity > 0)
        ok = push_arg(a, "-v") && push_arg(a, p->verbosity >= 2 ? "2" : "1");
    if (ok && a->command == CFG_VICEROY_SERVE)
        ok = push_arg(a, "-bind") && push_arg(a, p->addr ? p->addr : CFG_VICEROY_DEFAULT_ADDR);
    if (ok && p->config)
        ok = push_arg(a, "-config") && push_arg(a, p->config);
    if (ok && p->unknown_import)
        ok = push_arg(a, "-unknown-import") && push_arg(a, p->unknown_import);
    if (ok && p->profile_trace)
        ok = push_arg(a, "-profile-mode") && push_arg(a, "trace");
    if (ok && p->profile_native)
        ok = push_arg(a, "-profile-native");
    if (ok && p->profile_dir[0])
        ok = push_arg(a, "-profile-guest-dir") && push_arg(a, p->profile_dir);
    /* a Pushpin already running there (the Fastly CLI starts it): never one of our own */
    if (ok && p->pushpin_port)
        ok = push_arg(a, "-pushpin=false") && push_arg(a, "-pushpin-port") &&
             push_arg(a, p->pushpin_port);
    if (ok && p->websocket_off)
        ok = push_arg(a, "-websocket-passthrough=false");
    if (ok)
        ok = push_arg(a, "-wasm") && push_arg(a, a->input);
    return ok ? CFG_OK : nomem(err, errlen);
}

/* Takes argv[from..argc) as the guest's arguments (run). */
static bool take_guest_args(cfg_viceroy_args *a, int from, int argc, char *const *argv)
{
    size_t n = 0;
    for (int i = from; i < argc; i++)
        if (!push_str(&a->guest_argv, &n, argv[i]))
            return false;
    a->guest_argc = (int)n;
    return true;
}

cfg_status cfg_viceroy_args_parse(cfg_viceroy_args *a, int argc, char *const *argv, char *err,
                                  size_t errlen)
{
    parsed p = {0};
    const char *input = NULL;
    bool options_done = false;
    int i = 0;
    a->command = CFG_VICEROY_SERVE;
    if (argc > 0 && strcmp(argv[0], "serve") == 0) {
        i = 1;
    } else if (argc > 0 && strcmp(argv[0], "run") == 0) {
        a->command = CFG_VICEROY_RUN;
        i = 1;
    } else if (argc > 0 && strcmp(argv[0], "adapt") == 0) {
        snprintf(err, errlen,
                 "adapt: Fastlike runs core wasm modules directly; there is nothing "
                 "to adapt");
        return CFG_ERR_USAGE;
    }
    cfg_status st = CFG_OK;
    for (; i < argc; i++) {
        const char *arg = argv[i];
        if (!options_done && strcmp(arg, "--") == 0) {
            options_done = true;
            if (a->command == CFG_VICEROY_RUN && input) {
                if (!take_guest_args(a, i + 1, argc, argv))
                    return nomem(err, errlen);
                break;
            }
            continue;
        }
        if (options_done || arg[0] != '-' || arg[1] == '\0') {
            if (!input) {
                input = arg;
            } else if (a->command == CFG_VICEROY_RUN) {
                /* as clap's trailing_var_arg: from the first guest argument on, all are its */
                if (!take_guest_args(a, i, argc, argv))
                    return nomem(err, errlen);
                break;
            } else if (!warn(a, "warning: unexpected argument '%s' ignored (one FILE.wasm)", arg)) {
                return nomem(err, errlen);
            }
            continue;
        }
        if (arg[1] == '-') {
            const char *name = arg + 2;
            const char *eq = strchr(name, '=');
            size_t n = eq ? (size_t)(eq - name) : strlen(name);
            const long_opt *o = find_long(name, n);
            if (!o) {
                if (!warn(a, "warning: unknown option '--%.*s' ignored", (int)n, name))
                    return nomem(err, errlen);
                continue;
            }
            const char *v = eq ? eq + 1 : NULL;
            if (o->kind == OPT_VALUE && !v) {
                if (i + 1 >= argc) {
                    snprintf(err, errlen, "--%s needs a value", o->name);
                    return CFG_ERR_USAGE;
                }
                v = argv[++i];
            } else if (o->kind == OPT_FLAG && v && parse_bool(v) < 0) {
                snprintf(err, errlen, "--%s takes no value (got '%s')", o->name, v);
                return CFG_ERR_USAGE;
            } else if (o->kind == OPT_FLAG && v && parse_bool(v) == 0) {
                continue; /* --flag=false: as if not given */
            }
            st = take_long(a, &p, o, v, err, errlen);
        } else {
            /* a cluster of short options: -v, -vv, -V, -h, -C FILE, -CFILE, -C=FILE, -vC FILE */
            for (const char *c = arg + 1; *c && st == CFG_OK; c++) {
                if (*c == 'v') {
                    p.verbosity++;
                } else if (*c == 'V') {
                    a->command = CFG_VICEROY_VERSION;
                } else if (*c == 'h') {
                    a->command = CFG_VICEROY_HELP;
                } else if (*c == 'C') {
                    const char *v = c[1] == '=' ? c + 2 : c[1] ? c + 1 : NULL;
                    if (!v) {
                        if (i + 1 >= argc) {
                            snprintf(err, errlen, "-C needs a value (the fastly.toml file)");
                            return CFG_ERR_USAGE;
                        }
                        v = argv[++i];
                    }
                    p.config = v;
                    break;
                } else {
                    if (!warn(a, "warning: unknown option '%s' ignored", arg))
                        return nomem(err, errlen);
                    break;
                }
            }
        }
        if (st != CFG_OK)
            return st;
        if (a->command == CFG_VICEROY_VERSION || a->command == CFG_VICEROY_HELP)
            return CFG_OK; /* as clap: --version and --help win over everything else */
    }
    if (!input) {
        snprintf(err, errlen, "missing FILE.wasm (the Compute program%s)",
                 a->command == CFG_VICEROY_RUN ? " to run" : " to serve");
        return CFG_ERR_USAGE;
    }
    a->input = util_strdup(input);
    if (!a->input)
        return nomem(err, errlen);
    return emit(a, &p, err, errlen);
}

const char *cfg_viceroy_usage_text(void)
{
    return "usage: viceroy [serve] [OPTIONS] FILE.wasm       serve a Compute program\n"
           "       viceroy run [OPTIONS] FILE.wasm [ARGS...]  run it once (GET "
           "http://example.com/)\n"
           "       viceroy --version | --help\n"
           "(also `fastlike serve ...` and `fastlike run ...`)\n"
           "\n"
           "options (Viceroy's):\n"
           "  -v, -vv                  more logging (Fastlike's -v 1, -v 2)\n"
           "  -C, --config FILE        fastly.toml with [local_server] settings\n"
           "  --addr IP:PORT           address to listen on (default " CFG_VICEROY_DEFAULT_ADDR
           ")\n"
           "  --unknown-import-behavior link-error|trap\n"
           "  --profile guest[,DIR[,PERIOD]]|jitdump|perfmap|vtune\n"
           "                           turn on Fastlike's profiler; guest: one profile per request "
           "in DIR\n"
           "  --log-stdout, --log-stderr, --local-pushpin-proxy-port PORT,\n"
           "  --enable-local-websocket-passthrough[=BOOL], --debug, --adapt, --wasm-gc, ...\n"
           "                           accepted; a note says when they have no effect\n"
           "  --env NAME[=VALUE]       (run, Fastlike's) an environment variable for the guest\n"
           "  --                       end of options; with run, what follows goes to the guest\n"
           "Unknown options are a warning, not an error.\n"
           "\n"
           "exit status: serve dies by the SIGINT/SIGTERM that stopped it, 1 when it cannot\n"
           "start; run gives the guest's exit code, 134 after a trap, 1 on other errors; 2 for\n"
           "usage errors.\n";
}
