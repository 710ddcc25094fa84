/* cfg_viceroy_args.h: Viceroy's command line (`viceroy [serve] [OPTIONS] FILE.wasm`, `viceroy run
 * [OPTIONS] FILE.wasm [ARGS...]`, as the Fastly CLI and test runners call it) translated into
 * Fastlike's own flags, which cfg_parse_flags then checks as usual. Options Fastlike does not know
 * become warnings, options it accepts without acting on them become notes. */
#ifndef CFG_VICEROY_ARGS_H
#define CFG_VICEROY_ARGS_H

#include "config/cfg_status.h"

#include <stdbool.h>
#include <stddef.h>

/* The Viceroy release whose command line this follows; `viceroy --version` prints it. */
#define CFG_VICEROY_RELEASE "0.20.1"
/* Viceroy's default listening address (its `--addr`). */
#define CFG_VICEROY_DEFAULT_ADDR "127.0.0.1:7676"

typedef enum cfg_viceroy_command {
    CFG_VICEROY_SERVE, /* `viceroy [serve] ...`, the default */
    CFG_VICEROY_RUN,   /* `viceroy run ...`: run the module once */
    CFG_VICEROY_VERSION,
    CFG_VICEROY_HELP,
} cfg_viceroy_command;

typedef struct cfg_viceroy_args {
    cfg_viceroy_command command;
    /* Fastlike flags for cfg_parse_flags (-v N, -bind, -config, -unknown-import, -profile-*,
     * -wasm FILE), owned; argv[argc] is NULL. */
    char **argv;
    int argc;
    /* run: the module path (also in argv as -wasm) and the guest's arguments after it, owned. */
    char *input;
    char **guest_argv;
    int guest_argc;
    /* run: --env NAME[=VALUE] values as given (Fastlike's extension), owned. */
    char **env;
    size_t nenv;
    /* One line each, no prefix or newline: "unknown option '--x' ignored", notes on options
     * accepted without effect. */
    char **warnings;
    size_t nwarnings;
} cfg_viceroy_args;

void cfg_viceroy_args_init(cfg_viceroy_args *a);
void cfg_viceroy_args_deinit(cfg_viceroy_args *a); /* accepts NULL; leaves *a initialised */

/* True when the program should take Viceroy's command line: its name (argv0's basename) is
 * `viceroy`, or the first word is `serve` or `run`. first_word may be NULL. */
bool cfg_viceroy_invocation(const char *argv0, const char *first_word);

/* True when a command line given to Fastlike's own flags can only be Viceroy's: a `-v` not
 * followed by 0, 1 or 2 (nor last), a `-vv...` cluster, or `--addr`, all errors for Fastlike's
 * flags. So the
 * Fastly CLI's `-v -C fastly.toml --addr ...` works under any program name (its --viceroy-path). */
bool cfg_viceroy_lookalike(int argc, char *const *argv);

/* Parses argv[0..argc) (after the program name; a leading `serve` or `run` selects the command)
 * into *a, which must be freshly initialised. Errors (CFG_ERR_USAGE: a missing value, a bad
 * --profile, port or boolean, no FILE.wasm, `adapt`; CFG_ERR_NOMEM) come with one line in err
 * (no prefix, no newline); *a then still needs cfg_viceroy_args_deinit. */
cfg_status cfg_viceroy_args_parse(cfg_viceroy_args *a, int argc, char *const *argv, char *err,
                                  size_t errlen);

/* Usage text of the Viceroy-compatible command line (static, ends with a newline). */
const char *cfg_viceroy_usage_text(void);

#endif
