/* srv_run.h: running a Compute program once to completion, as `viceroy run` does for test
 * runners: WASI arguments and the process's stdio, the FASTLY_* environment, every Fastly
 * hostcall, and a synthetic downstream request (GET http://example.com/) whose response nobody
 * reads. The outcome is the guest's exit code, a trap, or an error. */
#ifndef SRV_RUN_H
#define SRV_RUN_H

#include "server/srv_guest.h"

#include <stddef.h>

typedef enum srv_run_status {
    SRV_RUN_EXITED,  /* _start returned (exit code 0) or the guest called proc_exit */
    SRV_RUN_TRAPPED, /* message: the trap and its backtrace (several lines) */
    SRV_RUN_ERROR,   /* message: one line (out of memory, instantiation failure, no _start) */
} srv_run_status;

typedef struct srv_run_config {
    const char *const *argv; /* argv[0] is the program name the guest sees */
    size_t argc;
    const char *const *env; /* "NAME=VALUE", given before FASTLY_* (a same name overrides) */
    size_t nenv;
    int stdin_fd, stdout_fd, stderr_fd; /* host fds for guest fds 0..2; -1 = none */
} srv_run_config;

/* Runs g's module once on the calling thread (no deadline). *exit_code is set for
 * SRV_RUN_EXITED; message (caller-owned) describes a trap or an error. */
srv_run_status srv_run_main(srv_guest *g, const srv_run_config *cfg, int *exit_code, char *message,
                            size_t msglen);

#endif
