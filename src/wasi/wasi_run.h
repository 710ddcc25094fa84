/* wasi_run.h: running a WASI command module to completion, the way `fastlike run` and tests do:
 * read the file, load it, link WASI preview1, instantiate, call `_start`, report how it ended
 * (normal return, proc_exit code, or trap). */
#ifndef WASI_RUN_H
#define WASI_RUN_H

#include "fwe.h"
#include "wasi/wasi.h"

#include <stddef.h>
#include <stdint.h>

typedef enum wasi_run_status {
    WASI_RUN_OK = 0,       /* the guest ran to its end: returned from _start or called proc_exit */
    WASI_RUN_ERR_IO,       /* the file could not be read */
    WASI_RUN_ERR_LOAD,     /* the module is malformed or invalid */
    WASI_RUN_ERR_LINK,     /* an import could not be satisfied */
    WASI_RUN_ERR_NO_START, /* no exported `_start` function of type [] -> [] */
    WASI_RUN_ERR_NOMEM,
    WASI_RUN_TRAP, /* the guest trapped (while instantiating or in _start) */
} wasi_run_status;

const char *wasi_run_strerror(wasi_run_status status);

typedef struct wasi_run_config {
    size_t argc; /* argv[0] is the program name the guest sees */
    const char *const *argv;
    size_t envc; /* "NAME=VALUE" strings */
    const char *const *env;
    int stdin_fd, stdout_fd, stderr_fd; /* host fds for guest fds 0..2; -1 = none */
    wasi_write_fn out_fn;               /* optional: receives stdout/stderr instead of the fds */
    void *out_user;
    fwe_instance_config instance; /* limits; zero = engine defaults */
} wasi_run_config;

#define WASI_RUN_MESSAGE_MAX 512

typedef struct wasi_run_result {
    wasi_run_status status;
    int exit_code;                      /* WASI_RUN_OK: proc_exit's code, or 0 after a return */
    fwe_trap trap;                      /* WASI_RUN_TRAP: kind, message, backtrace */
    char message[WASI_RUN_MESSAGE_MAX]; /* one line describing any error (empty on success) */
} wasi_run_result;

/* Reads a whole file into a malloc'd buffer (the caller frees *bytes). On failure returns
 * WASI_RUN_ERR_IO or WASI_RUN_ERR_NOMEM and writes "PATH: reason" into err. */
wasi_run_status wasi_read_file(const char *path, uint8_t **bytes, size_t *len, char *err,
                               size_t errlen);

/* Runs the command module in bytes[0..len) with a fresh engine-side module and instance.
 * Returns result->status (also filled on every path). */
wasi_run_status wasi_run_bytes(fwe_engine *engine, const uint8_t *bytes, size_t len,
                               const wasi_run_config *config, wasi_run_result *result);

/* wasi_read_file + wasi_run_bytes with a private engine. */
wasi_run_status wasi_run_file(const char *path, const wasi_run_config *config,
                              wasi_run_result *result);

#endif
