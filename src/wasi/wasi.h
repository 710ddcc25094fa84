/* wasi.h: WASI preview1 ("wasi_snapshot_preview1") as host functions on an fwe_linker.
 * A wasi_ctx owns a guest's arguments, environment and its three stdio descriptors; there are no
 * preopened directories, so every path function reports an error. Every preview1 function is
 * defined with its exact witx signature; unsupported ones return an errno, never trap. */
#ifndef WASI_H
#define WASI_H

#include "fwe.h"

#include <stddef.h>
#include <stdint.h>

/* WASI errno values used by the host (the full list is in the witx). */
enum {
    WASI_ESUCCESS = 0,
    WASI_E2BIG = 1,
    WASI_EACCES = 2,
    WASI_EAGAIN = 6,
    WASI_EBADF = 8,
    WASI_EFAULT = 21,
    WASI_EINTR = 27,
    WASI_EINVAL = 28,
    WASI_EIO = 29,
    WASI_EISDIR = 31,
    WASI_ENOENT = 44,
    WASI_ENOMEM = 48,
    WASI_ENOSPC = 51,
    WASI_ENOSYS = 52,
    WASI_ENOTDIR = 54,
    WASI_ENOTSOCK = 57,
    WASI_ENOTSUP = 58,
    WASI_EOVERFLOW = 61,
    WASI_EPERM = 63,
    WASI_EPIPE = 64,
    WASI_ESPIPE = 70,
    WASI_ENOTCAPABLE = 76,
};

typedef struct wasi_ctx wasi_ctx;

/* Output hook: receives the bytes a guest writes to fd 1 (stdout) or 2 (stderr) instead of the
 * host descriptor, e.g. to route them into a request log. Returns a WASI errno (0 = all written).
 */
typedef int (*wasi_write_fn)(void *user, int fd, const uint8_t *data, size_t len);

/* Creates a context. argv[0..argc) are the guest's arguments (argv[0] is the program name);
 * env[0..envc) are "NAME=VALUE" strings. All strings are copied. The stdio descriptors are host
 * fds the guest's fds 0, 1, 2 map to (not owned, never closed); -1 means "none": reads see end of
 * file, writes are discarded. Returns NULL when out of memory. */
wasi_ctx *wasi_ctx_new(size_t argc, const char *const *argv, size_t envc, const char *const *env,
                       int stdin_fd, int stdout_fd, int stderr_fd);
void wasi_ctx_free(wasi_ctx *ctx); /* accepts NULL */

/* Prepares a context for the next guest: replaces the environment with env[0..envc) (copied) and
 * reopens the three stdio descriptors as wasi_ctx_new set them up (undoing fd_close/fd_renumber).
 * Arguments and the output hook are kept. Lets a server reuse one ctx, and the linker it is
 * defined on, for a sequence of instances. Returns WASI_ESUCCESS or WASI_ENOMEM (ctx unchanged). */
int wasi_ctx_reset(wasi_ctx *ctx, size_t envc, const char *const *env);

/* Routes guest writes to fds 1 and 2 through `fn` (NULL restores the host descriptors). */
void wasi_ctx_set_output(wasi_ctx *ctx, wasi_write_fn fn, void *user);

/* Defines every wasi_snapshot_preview1 function in `linker`, with `ctx` as their data. The ctx
 * must outlive every instance created through the linker. Errors: FWE_ERR_EXISTS if already
 * defined, FWE_ERR_NOMEM. */
fwe_status wasi_define(fwe_linker *linker, wasi_ctx *ctx);

/* Name of a WASI errno ("badf", "nosys", ...), "unknown" for others. */
const char *wasi_errno_name(int err);

#endif
