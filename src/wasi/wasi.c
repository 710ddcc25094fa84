/* wasi.c: the wasi_snapshot_preview1 host functions and the wasi_ctx they share.
 * Guest-visible state is three stdio descriptors (no preopens, no sockets); every guest pointer
 * is resolved through fwe_memory_slice and a bad one yields errno `fault`, never a trap.
 * Layouts and signatures follow legacy/preview1/witx/wasi_snapshot_preview1.witx. */
#include "wasi/wasi.h"

#include <errno.h>
#include <poll.h>
#include <sched.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#define WASI_MODULE "wasi_snapshot_preview1"
#define WASI_NFDS 3

/* filetype, clockid, eventtype, subclockflags, fdflags, eventrwflags, whence, advice */
#define FILETYPE_CHARACTER_DEVICE 2
#define CLOCK_ID_REALTIME 0
#define CLOCK_ID_MONOTONIC 1
#define CLOCK_ID_MAX 3
#define EVENTTYPE_CLOCK 0
#define EVENTTYPE_FD_READ 1
#define EVENTTYPE_FD_WRITE 2
#define SUBCLOCK_ABSTIME 1
#define FDFLAG_APPEND 1
#define FDFLAG_NONBLOCK 4 /* dsync 2, rsync 8, sync 16 */
#define EVENTRW_HANGUP 1
#define WHENCE_MAX 2
#define ADVICE_MAX 5

/* rights bits */
#define RIGHT_FD_READ (UINT64_C(1) << 1)
#define RIGHT_FD_FDSTAT_SET_FLAGS (UINT64_C(1) << 3)
#define RIGHT_FD_WRITE (UINT64_C(1) << 6)
#define RIGHT_FD_FILESTAT_GET (UINT64_C(1) << 21)
#define RIGHT_POLL_FD_READWRITE (UINT64_C(1) << 27)

/* struct sizes in guest memory */
#define IOVEC_SIZE 8
#define FDSTAT_SIZE 24
#define FILESTAT_SIZE 64
#define SUBSCRIPTION_SIZE 48
#define EVENT_SIZE 32

/* A guest descriptor. Stdio is reported as a character device without seek/tell rights, so
 * wasi-libc's isatty() says yes and stdout is line-buffered, as on a terminal. */
typedef struct wasi_fd {
    bool open;
    int stream;  /* which stdio stream this is (0, 1, 2), kept across fd_renumber */
    int host_fd; /* -1: reads hit end of file, writes are discarded */
    uint16_t flags;
    uint64_t rights_base, rights_inheriting;
} wasi_fd;

struct wasi_ctx {
    size_t argc, envc;
    char *args; /* argc NUL-terminated strings back to back */
    size_t args_len;
    char *env;
    size_t env_len;
    wasi_fd fds[WASI_NFDS];
    int host_fds[WASI_NFDS]; /* as given to wasi_ctx_new, for wasi_ctx_reset */
    wasi_write_fn out_fn;
    void *out_user;
};

/* ---- context ---- */

static char *pack_strings(size_t n, const char *const *strs, size_t *len_out)
{
    size_t total = 0;
    for (size_t i = 0; i < n; i++)
        total += strlen(strs[i]) + 1;
    char *blob = malloc(total ? total : 1);
    if (!blob)
        return NULL;
    size_t pos = 0;
    for (size_t i = 0; i < n; i++) {
        size_t l = strlen(strs[i]) + 1;
        memcpy(blob + pos, strs[i], l);
        pos += l;
    }
    *len_out = total;
    return blob;
}

/* The stdio descriptors as wasi_ctx_new sets them up, keeping the host fds of `host`. */
static void init_fds(wasi_ctx *ctx, const int host[WASI_NFDS])
{
    const uint64_t common =
        RIGHT_FD_FDSTAT_SET_FLAGS | RIGHT_FD_FILESTAT_GET | RIGHT_POLL_FD_READWRITE;
    for (int i = 0; i < WASI_NFDS; i++) {
        ctx->fds[i] = (wasi_fd){0};
        ctx->fds[i].open = true;
        ctx->fds[i].stream = i;
        ctx->fds[i].host_fd = host[i];
        ctx->fds[i].rights_base = common | (i == 0 ? RIGHT_FD_READ : RIGHT_FD_WRITE);
        ctx->fds[i].rights_inheriting = 0;
    }
}

wasi_ctx *wasi_ctx_new(size_t argc, const char *const *argv, size_t envc, const char *const *env,
                       int stdin_fd, int stdout_fd, int stderr_fd)
{
    wasi_ctx *ctx = calloc(1, sizeof *ctx);
    if (!ctx)
        return NULL;
    ctx->argc = argc;
    ctx->envc = envc;
    ctx->args = pack_strings(argc, argv, &ctx->args_len);
    ctx->env = pack_strings(envc, env, &ctx->env_len);
    if (!ctx->args || !ctx->env) {
        wasi_ctx_free(ctx);
        return NULL;
    }
    const int host[WASI_NFDS] = {stdin_fd, stdout_fd, stderr_fd};
    for (int i = 0; i < WASI_NFDS; i++)
        ctx->host_fds[i] = host[i];
    init_fds(ctx, host);
    return ctx;
}

int wasi_ctx_reset(wasi_ctx *ctx, size_t envc, const char *const *env)
{
    size_t len = 0;
    char *blob = pack_strings(envc, env, &len);
    if (!blob)
        return WASI_ENOMEM;
    free(ctx->env);
    ctx->env = blob;
    ctx->env_len = len;
    ctx->envc = envc;
    /* fd_close/fd_renumber of the previous guest must not leak into the next one */
    int host[WASI_NFDS];
    for (int i = 0; i < WASI_NFDS; i++)
        host[i] = ctx->host_fds[i];
    init_fds(ctx, host);
    return WASI_ESUCCESS;
}

void wasi_ctx_free(wasi_ctx *ctx)
{
    if (!ctx)
        return;
    free(ctx->args);
    free(ctx->env);
    free(ctx);
}

void wasi_ctx_set_output(wasi_ctx *ctx, wasi_write_fn fn, void *user)
{
    ctx->out_fn = fn;
    ctx->out_user = user;
}

/* ---- helpers ---- */

static fwe_trap_kind ret(uint64_t *s, int err)
{
    s[0] = (uint32_t)err;
    return FWE_TRAP_NONE;
}

/* The one way this file touches guest memory. */
static uint8_t *guest(fwe_caller *c, uint64_t ptr, uint64_t len)
{
    fwe_memory *mem = fwe_caller_memory(c);
    return mem ? fwe_memory_slice(mem, ptr, len) : NULL;
}

static void put_u16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

static void put_u32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static void put_u64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static uint16_t get_u16(const uint8_t *p)
{
    return (uint16_t)(p[0] | (p[1] << 8));
}

static uint32_t get_u32(const uint8_t *p)
{
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}

static uint64_t get_u64(const uint8_t *p)
{
    return (uint64_t)get_u32(p) | ((uint64_t)get_u32(p + 4) << 32);
}

static wasi_fd *fd_get(wasi_ctx *ctx, uint64_t slot)
{
    uint32_t fd = (uint32_t)slot;
    if (fd >= WASI_NFDS || !ctx->fds[fd].open)
        return NULL;
    return &ctx->fds[fd];
}

static int errno_from_host(int e)
{
    switch (e) {
    case EAGAIN:
        return WASI_EAGAIN;
    case EBADF:
        return WASI_EBADF;
    case EINTR:
        return WASI_EINTR;
    case EINVAL:
        return WASI_EINVAL;
    case EISDIR:
        return WASI_EISDIR;
    case ENOMEM:
        return WASI_ENOMEM;
    case ENOSPC:
        return WASI_ENOSPC;
    case EPERM:
        return WASI_EPERM;
    case EACCES:
        return WASI_EACCES;
    case EPIPE:
        return WASI_EPIPE;
    case ESPIPE:
        return WASI_ESPIPE;
    default:
        return WASI_EIO;
    }
}

static bool clock_host(uint32_t id, clockid_t *out)
{
    static const clockid_t map[CLOCK_ID_MAX + 1] = {
        CLOCK_REALTIME, CLOCK_MONOTONIC, CLOCK_PROCESS_CPUTIME_ID, CLOCK_THREAD_CPUTIME_ID};
    if (id > CLOCK_ID_MAX)
        return false;
    *out = map[id];
    return true;
}

static uint64_t clock_now(clockid_t clk)
{
    struct timespec ts;
    if (clock_gettime(clk, &ts) != 0)
        return 0;
    return (uint64_t)ts.tv_sec * UINT64_C(1000000000) + (uint64_t)ts.tv_nsec;
}

/* ---- args and environment ---- */

/* Writes `n` pointers into the guest array at `vec` and the packed strings at `buf`. */
static int strings_get(fwe_caller *c, const char *blob, size_t len, size_t n, uint32_t vec,
                       uint32_t buf)
{
    uint8_t *v = guest(c, vec, (uint64_t)n * 4);
    uint8_t *b = guest(c, buf, len);
    if (!v || !b)
        return WASI_EFAULT;
    memcpy(b, blob, len);
    size_t pos = 0;
    for (size_t i = 0; i < n; i++) {
        put_u32(v + 4 * i, (uint32_t)(buf + pos));
        pos += strlen(blob + pos) + 1;
    }
    return WASI_ESUCCESS;
}

static int sizes_get(fwe_caller *c, size_t n, size_t len, uint32_t count_ptr, uint32_t size_ptr)
{
    if (n > UINT32_MAX || len > UINT32_MAX)
        return WASI_EOVERFLOW;
    uint8_t *pc = guest(c, count_ptr, 4);
    uint8_t *ps = guest(c, size_ptr, 4);
    if (!pc || !ps)
        return WASI_EFAULT;
    put_u32(pc, (uint32_t)n);
    put_u32(ps, (uint32_t)len);
    return WASI_ESUCCESS;
}

static fwe_trap_kind h_args_get(fwe_caller *c, uint64_t *s, void *data)
{
    wasi_ctx *ctx = data;
    return ret(s,
               strings_get(c, ctx->args, ctx->args_len, ctx->argc, (uint32_t)s[0], (uint32_t)s[1]));
}

static fwe_trap_kind h_args_sizes_get(fwe_caller *c, uint64_t *s, void *data)
{
    wasi_ctx *ctx = data;
    return ret(s, sizes_get(c, ctx->argc, ctx->args_len, (uint32_t)s[0], (uint32_t)s[1]));
}

static fwe_trap_kind h_environ_get(fwe_caller *c, uint64_t *s, void *data)
{
    wasi_ctx *ctx = data;
    return ret(s,
               strings_get(c, ctx->env, ctx->env_len, ctx->envc, (uint32_t)s[0], (uint32_t)s[1]));
}

static fwe_trap_kind h_environ_sizes_get(fwe_caller *c, uint64_t *s, void *data)
{
    wasi_ctx *ctx = data;
    return ret(s, sizes_get(c, ctx->envc, ctx->env_len, (uint32_t)s[0], (uint32_t)s[1]));
}

/* ---- clocks and randomness ---- */

static fwe_trap_kind h_clock_res_get(fwe_caller *c, uint64_t *s, void *data)
{
    clockid_t clk;
    if (!clock_host((uint32_t)s[0], &clk))
        return ret(s, WASI_EINVAL);
    uint8_t *out = guest(c, (uint32_t)s[1], 8);
    if (!out)
        return ret(s, WASI_EFAULT);
    struct timespec ts;
    if (clock_getres(clk, &ts) != 0)
        return ret(s, WASI_EINVAL);
    uint64_t ns = (uint64_t)ts.tv_sec * UINT64_C(1000000000) + (uint64_t)ts.tv_nsec;
    put_u64(out, ns ? ns : 1);
    return ret(s, WASI_ESUCCESS);
}

static fwe_trap_kind h_clock_time_get(fwe_caller *c, uint64_t *s, void *data)
{
    clockid_t clk;
    if (!clock_host((uint32_t)s[0], &clk))
        return ret(s, WASI_EINVAL);
    uint8_t *out = guest(c, (uint32_t)s[2], 8);
    if (!out)
        return ret(s, WASI_EFAULT);
    struct timespec ts;
    if (clock_gettime(clk, &ts) != 0)
        return ret(s, WASI_EINVAL);
    put_u64(out, (uint64_t)ts.tv_sec * UINT64_C(1000000000) + (uint64_t)ts.tv_nsec);
    return ret(s, WASI_ESUCCESS);
}

static fwe_trap_kind h_random_get(fwe_caller *c, uint64_t *s, void *data)
{
    uint32_t len = (uint32_t)s[1];
    if (len == 0)
        return ret(s, WASI_ESUCCESS);
    uint8_t *buf = guest(c, (uint32_t)s[0], len);
    if (!buf)
        return ret(s, WASI_EFAULT);
    size_t done = 0;
    while (done < len) {
        ssize_t n = getrandom(buf + done, len - done, 0);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return ret(s, WASI_EIO);
        }
        done += (size_t)n;
    }
    return ret(s, WASI_ESUCCESS);
}

/* ---- stdio descriptors ---- */

/* Checks that every iovec entry lies in guest memory; returns the iovec array or NULL. */
static const uint8_t *iovs_check(fwe_caller *c, uint32_t iovs, uint32_t n)
{
    const uint8_t *v = guest(c, iovs, (uint64_t)n * IOVEC_SIZE);
    if (!v)
        return NULL;
    for (uint32_t i = 0; i < n; i++) {
        uint32_t len = get_u32(v + i * IOVEC_SIZE + 4);
        if (len && !guest(c, get_u32(v + i * IOVEC_SIZE), len))
            return NULL;
    }
    return v;
}

static int write_all(int host_fd, const uint8_t *p, size_t len, size_t *written)
{
    size_t done = 0;
    while (done < len) {
        ssize_t n = write(host_fd, p + done, len - done);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            *written = done;
            return errno_from_host(errno);
        }
        done += (size_t)n;
    }
    *written = done;
    return WASI_ESUCCESS;
}

static int fd_write_iovs(fwe_caller *c, wasi_ctx *ctx, wasi_fd *f, const uint8_t *v, uint32_t n,
                         uint32_t *total)
{
    *total = 0;
    for (uint32_t i = 0; i < n; i++) {
        uint32_t len = get_u32(v + i * IOVEC_SIZE + 4);
        if (len == 0)
            continue;
        if (len > UINT32_MAX - *total)
            break; /* the count must fit the u32 result; report a short write */
        const uint8_t *p = guest(c, get_u32(v + i * IOVEC_SIZE), len);
        size_t written = len;
        int err = WASI_ESUCCESS;
        if (ctx->out_fn && f->stream != 0)
            err = ctx->out_fn(ctx->out_user, f->stream, p, len);
        else if (f->host_fd >= 0)
            err = write_all(f->host_fd, p, len, &written);
        *total += (uint32_t)written;
        if (err != WASI_ESUCCESS)
            return *total ? WASI_ESUCCESS : err; /* a partial write is a success, as in POSIX */
    }
    return WASI_ESUCCESS;
}

static fwe_trap_kind h_fd_write(fwe_caller *c, uint64_t *s, void *data)
{
    wasi_ctx *ctx = data;
    wasi_fd *f = fd_get(ctx, s[0]);
    if (!f || !(f->rights_base & RIGHT_FD_WRITE))
        return ret(s, WASI_EBADF);
    const uint8_t *v = iovs_check(c, (uint32_t)s[1], (uint32_t)s[2]);
    uint8_t *out = guest(c, (uint32_t)s[3], 4);
    if (!v || !out)
        return ret(s, WASI_EFAULT);
    uint32_t total;
    int err = fd_write_iovs(c, ctx, f, v, (uint32_t)s[2], &total);
    if (err == WASI_ESUCCESS)
        put_u32(out, total);
    return ret(s, err);
}

#define READ_IOV_MAX 64 /* a read may fill fewer buffers than asked for */

static fwe_trap_kind h_fd_read(fwe_caller *c, uint64_t *s, void *data)
{
    wasi_ctx *ctx = data;
    wasi_fd *f = fd_get(ctx, s[0]);
    if (!f || !(f->rights_base & RIGHT_FD_READ))
        return ret(s, WASI_EBADF);
    uint32_t n = (uint32_t)s[2];
    const uint8_t *v = iovs_check(c, (uint32_t)s[1], n);
    uint8_t *out = guest(c, (uint32_t)s[3], 4);
    if (!v || !out)
        return ret(s, WASI_EFAULT);
    struct iovec host[READ_IOV_MAX];
    int nh = 0;
    for (uint32_t i = 0; i < n && nh < READ_IOV_MAX; i++) {
        uint32_t len = get_u32(v + i * IOVEC_SIZE + 4);
        if (len == 0)
            continue;
        host[nh].iov_base = guest(c, get_u32(v + i * IOVEC_SIZE), len);
        host[nh].iov_len = len;
        nh++;
    }
    ssize_t got = 0;
    if (f->host_fd >= 0 && nh > 0) {
        do
            got = readv(f->host_fd, host, nh);
        while (got < 0 && errno == EINTR);
        if (got < 0)
            return ret(s, errno_from_host(errno));
    }
    put_u32(out, got > (ssize_t)UINT32_MAX ? UINT32_MAX : (uint32_t)got);
    return ret(s, WASI_ESUCCESS);
}

static fwe_trap_kind h_fd_fdstat_get(fwe_caller *c, uint64_t *s, void *data)
{
    wasi_fd *f = fd_get(data, s[0]);
    if (!f)
        return ret(s, WASI_EBADF);
    uint8_t *out = guest(c, (uint32_t)s[1], FDSTAT_SIZE);
    if (!out)
        return ret(s, WASI_EFAULT);
    memset(out, 0, FDSTAT_SIZE);
    out[0] = FILETYPE_CHARACTER_DEVICE;
    put_u16(out + 2, f->flags);
    put_u64(out + 8, f->rights_base);
    put_u64(out + 16, f->rights_inheriting);
    return ret(s, WASI_ESUCCESS);
}

static fwe_trap_kind h_fd_fdstat_set_flags(fwe_caller *c, uint64_t *s, void *data)
{
    wasi_fd *f = fd_get(data, s[0]);
    if (!f)
        return ret(s, WASI_EBADF);
    /* As wasmtime: bits outside the fdflags and the sync flags (never honoured here) are inval.
     * append and nonblock are recorded and reported back; stdio behaviour does not change. */
    uint32_t flags = (uint32_t)s[1];
    if (flags & ~(uint32_t)(FDFLAG_APPEND | FDFLAG_NONBLOCK))
        return ret(s, WASI_EINVAL);
    f->flags = (uint16_t)flags;
    return ret(s, WASI_ESUCCESS);
}

static fwe_trap_kind h_fd_fdstat_set_rights(fwe_caller *c, uint64_t *s, void *data)
{
    wasi_fd *f = fd_get(data, s[0]);
    if (!f)
        return ret(s, WASI_EBADF);
    if ((s[1] & ~f->rights_base) || (s[2] & ~f->rights_inheriting))
        return ret(s, WASI_ENOTCAPABLE); /* rights can only be dropped */
    f->rights_base = s[1];
    f->rights_inheriting = s[2];
    return ret(s, WASI_ESUCCESS);
}

static fwe_trap_kind h_fd_filestat_get(fwe_caller *c, uint64_t *s, void *data)
{
    if (!fd_get(data, s[0]))
        return ret(s, WASI_EBADF);
    uint8_t *out = guest(c, (uint32_t)s[1], FILESTAT_SIZE);
    if (!out)
        return ret(s, WASI_EFAULT);
    memset(out, 0, FILESTAT_SIZE);
    out[16] = FILETYPE_CHARACTER_DEVICE;
    return ret(s, WASI_ESUCCESS);
}

static fwe_trap_kind h_fd_prestat_get(fwe_caller *c, uint64_t *s, void *data)
{
    return ret(s, WASI_EBADF); /* no preopened directories */
}

static fwe_trap_kind h_fd_prestat_dir_name(fwe_caller *c, uint64_t *s, void *data)
{
    return ret(s, WASI_EBADF);
}

static fwe_trap_kind h_fd_close(fwe_caller *c, uint64_t *s, void *data)
{
    wasi_fd *f = fd_get(data, s[0]);
    if (!f)
        return ret(s, WASI_EBADF);
    f->open = false; /* the host descriptor belongs to the embedder and stays open */
    return ret(s, WASI_ESUCCESS);
}

static fwe_trap_kind h_fd_renumber(fwe_caller *c, uint64_t *s, void *data)
{
    wasi_ctx *ctx = data;
    wasi_fd *from = fd_get(ctx, s[0]), *to = fd_get(ctx, s[1]);
    if (!from || !to)
        return ret(s, WASI_EBADF);
    if (from != to) {
        *to = *from;
        from->open = false;
    }
    return ret(s, WASI_ESUCCESS);
}

static fwe_trap_kind h_fd_seek(fwe_caller *c, uint64_t *s, void *data)
{
    if (!fd_get(data, s[0]))
        return ret(s, WASI_EBADF);
    if ((uint32_t)s[2] > WHENCE_MAX)
        return ret(s, WASI_EINVAL);
    return ret(s, WASI_ESPIPE);
}

static fwe_trap_kind h_fd_tell(fwe_caller *c, uint64_t *s, void *data)
{
    return ret(s, fd_get(data, s[0]) ? WASI_ESPIPE : WASI_EBADF);
}

static fwe_trap_kind h_fd_advise(fwe_caller *c, uint64_t *s, void *data)
{
    if (!fd_get(data, s[0]))
        return ret(s, WASI_EBADF);
    if ((uint32_t)s[3] > ADVICE_MAX)
        return ret(s, WASI_EINVAL);
    return ret(s, WASI_ESPIPE);
}

/* fd_allocate, fd_pread, fd_pwrite: offsets make no sense on a character stream. */
static fwe_trap_kind h_fd_espipe(fwe_caller *c, uint64_t *s, void *data)
{
    return ret(s, fd_get(data, s[0]) ? WASI_ESPIPE : WASI_EBADF);
}

/* fd_sync, fd_datasync, fd_filestat_set_size: as fsync/ftruncate on a terminal. */
static fwe_trap_kind h_fd_einval(fwe_caller *c, uint64_t *s, void *data)
{
    return ret(s, fd_get(data, s[0]) ? WASI_EINVAL : WASI_EBADF);
}

static fwe_trap_kind h_fd_filestat_set_times(fwe_caller *c, uint64_t *s, void *data)
{
    return ret(s, fd_get(data, s[0]) ? WASI_ENOSYS : WASI_EBADF);
}

static fwe_trap_kind h_fd_readdir(fwe_caller *c, uint64_t *s, void *data)
{
    return ret(s, fd_get(data, s[0]) ? WASI_ENOTDIR : WASI_EBADF);
}

/* ---- paths: with no preopens every directory descriptor is invalid or not a directory ---- */

static int dir_fd_errno(wasi_ctx *ctx, uint64_t fd)
{
    return fd_get(ctx, fd) ? WASI_ENOTDIR : WASI_EBADF;
}

/* path_create_directory, path_filestat_get, path_filestat_set_times, path_open, path_readlink,
 * path_remove_directory, path_unlink_file, path_rename: the directory is the first argument. */
static fwe_trap_kind h_path_first_fd(fwe_caller *c, uint64_t *s, void *data)
{
    return ret(s, dir_fd_errno(data, s[0]));
}

static fwe_trap_kind h_path_link(fwe_caller *c, uint64_t *s, void *data)
{
    int err = dir_fd_errno(data, s[0]);
    return ret(s, err == WASI_EBADF ? err : dir_fd_errno(data, s[4]));
}

static fwe_trap_kind h_path_symlink(fwe_caller *c, uint64_t *s, void *data)
{
    return ret(s, dir_fd_errno(data, s[2]));
}

/* ---- sockets: none exist ---- */

static fwe_trap_kind h_sock(fwe_caller *c, uint64_t *s, void *data)
{
    return ret(s, fd_get(data, s[0]) ? WASI_ENOTSOCK : WASI_EBADF);
}

/* ---- polling ---- */

/* Subscriptions are copied out first because `in` and `out` may overlap in guest memory. */
typedef struct poll_sub {
    uint64_t userdata;
    uint8_t tag;
    bool done;         /* an event is due without waiting */
    uint16_t error;    /* for a due event */
    clockid_t clk;     /* clock subscriptions */
    uint64_t deadline; /* on clk */
    int pfd;           /* index into the pollfd array, or -1 */
} poll_sub;

static void event_put(uint8_t *ev, uint64_t userdata, uint16_t error, uint8_t type, uint16_t flags)
{
    memset(ev, 0, EVENT_SIZE);
    put_u64(ev, userdata);
    put_u16(ev + 8, error);
    ev[10] = type;
    put_u16(ev + 24, flags);
}

/* Sorts each subscription into "due now", "clock deadline" or "wait on a host fd". */
static int poll_prepare(wasi_ctx *ctx, const uint8_t *in, uint32_t n, poll_sub *subs,
                        struct pollfd *pfds, nfds_t *npfds, bool *any_done)
{
    for (uint32_t i = 0; i < n; i++) {
        const uint8_t *sub = in + (size_t)i * SUBSCRIPTION_SIZE;
        poll_sub *p = &subs[i];
        p->userdata = get_u64(sub);
        p->tag = sub[8];
        p->pfd = -1;
        if (p->tag == EVENTTYPE_CLOCK) {
            uint32_t id = get_u32(sub + 16);
            uint64_t timeout = get_u64(sub + 24);
            bool abstime = get_u16(sub + 40) & SUBCLOCK_ABSTIME;
            /* Only wall-clock time can be waited for: a CPU-time clock barely advances while
             * this thread sleeps, so its deadline would take far longer than asked. As wasmtime,
             * such a clock (or an unknown id) makes the whole call `inval`. */
            if (id != CLOCK_ID_REALTIME && id != CLOCK_ID_MONOTONIC)
                return WASI_EINVAL;
            clock_host(id, &p->clk);
            uint64_t now = clock_now(p->clk);
            p->deadline =
                abstime ? timeout : (timeout > UINT64_MAX - now ? UINT64_MAX : now + timeout);
            p->done = now >= p->deadline;
        } else if (p->tag == EVENTTYPE_FD_READ || p->tag == EVENTTYPE_FD_WRITE) {
            wasi_fd *f = fd_get(ctx, get_u32(sub + 16));
            uint64_t need = p->tag == EVENTTYPE_FD_READ ? RIGHT_FD_READ : RIGHT_FD_WRITE;
            p->done = true;
            if (!f || !(f->rights_base & need)) {
                p->error = WASI_EBADF;
            } else if (f->host_fd >= 0 &&
                       !(p->tag == EVENTTYPE_FD_WRITE && ctx->out_fn && f->stream != 0)) {
                p->done = false;
                p->pfd = (int)*npfds;
                pfds[*npfds].fd = f->host_fd;
                pfds[*npfds].events = p->tag == EVENTTYPE_FD_READ ? POLLIN : POLLOUT;
                pfds[*npfds].revents = 0;
                (*npfds)++;
            }
        } else {
            return WASI_EINVAL;
        }
        if (p->done)
            *any_done = true;
    }
    return WASI_ESUCCESS;
}

/* Waits until a host fd is ready or the earliest clock deadline passes (EINTR ends the wait). */
static int poll_wait(poll_sub *subs, uint32_t n, struct pollfd *pfds, nfds_t npfds, bool any_done)
{
    bool have_clock = false;
    uint64_t wait_ns = UINT64_MAX;
    for (uint32_t i = 0; i < n; i++) {
        if (subs[i].tag != EVENTTYPE_CLOCK || subs[i].done)
            continue;
        uint64_t now = clock_now(subs[i].clk);
        uint64_t left = subs[i].deadline > now ? subs[i].deadline - now : 0;
        have_clock = true;
        if (left < wait_ns)
            wait_ns = left;
    }
    if (any_done) {
        wait_ns = 0;
        have_clock = true;
    }
    if (npfds > 0) {
        int ms = -1;
        if (have_clock) {
            uint64_t msl = wait_ns / 1000000 + (wait_ns % 1000000 ? 1 : 0);
            ms = msl > INT32_MAX ? INT32_MAX : (int)msl;
        }
        if (poll(pfds, npfds, ms) < 0 && errno != EINTR)
            return errno_from_host(errno);
    } else if (have_clock && wait_ns > 0) {
        struct timespec ts = {.tv_sec = (time_t)(wait_ns / 1000000000),
                              .tv_nsec = (long)(wait_ns % 1000000000)};
        clock_nanosleep(CLOCK_MONOTONIC, 0, &ts, NULL);
    }
    return WASI_ESUCCESS;
}

static uint32_t poll_collect(uint8_t *out, uint32_t n, poll_sub *subs, struct pollfd *pfds)
{
    uint32_t nev = 0;
    for (uint32_t i = 0; i < n; i++) {
        poll_sub *p = &subs[i];
        uint64_t userdata = p->userdata;
        uint8_t *ev = out + (size_t)nev * EVENT_SIZE;
        if (p->tag == EVENTTYPE_CLOCK) {
            if (p->done || clock_now(p->clk) >= p->deadline) {
                event_put(ev, userdata, p->error, p->tag, 0);
                nev++;
            }
        } else if (p->pfd < 0) {
            event_put(ev, userdata, p->error, p->tag, 0);
            nev++;
        } else if (pfds[p->pfd].revents) {
            short r = pfds[p->pfd].revents;
            uint16_t error = (r & POLLNVAL) ? WASI_EBADF : WASI_ESUCCESS;
            event_put(ev, userdata, error, p->tag, (r & POLLHUP) ? EVENTRW_HANGUP : 0);
            nev++;
        }
    }
    return nev;
}

static fwe_trap_kind h_poll_oneoff(fwe_caller *c, uint64_t *s, void *data)
{
    wasi_ctx *ctx = data;
    uint32_t n = (uint32_t)s[2];
    if (n == 0)
        return ret(s, WASI_EINVAL);
    const uint8_t *in = guest(c, (uint32_t)s[0], (uint64_t)n * SUBSCRIPTION_SIZE);
    uint8_t *out = guest(c, (uint32_t)s[1], (uint64_t)n * EVENT_SIZE);
    uint8_t *nout = guest(c, (uint32_t)s[3], 4);
    if (!in || !out || !nout)
        return ret(s, WASI_EFAULT);
    poll_sub *subs = calloc(n, sizeof *subs);
    struct pollfd *pfds = calloc(n, sizeof *pfds);
    int err = WASI_ENOMEM;
    if (!subs || !pfds)
        goto done;
    nfds_t npfds = 0;
    bool any_done = false;
    err = poll_prepare(ctx, in, n, subs, pfds, &npfds, &any_done);
    if (err != WASI_ESUCCESS)
        goto done;
    uint32_t nev = 0;
    while (nev == 0) {
        err = poll_wait(subs, n, pfds, npfds, any_done);
        if (err != WASI_ESUCCESS)
            goto done;
        nev = poll_collect(out, n, subs, pfds);
    }
    put_u32(nout, nev);
    err = WASI_ESUCCESS;
done:
    free(subs);
    free(pfds);
    return ret(s, err);
}

/* ---- process ---- */

static fwe_trap_kind h_proc_exit(fwe_caller *c, uint64_t *s, void *data)
{
    return fwe_caller_exit(c, (int)(uint32_t)s[0]);
}

static fwe_trap_kind h_proc_raise(fwe_caller *c, uint64_t *s, void *data)
{
    return ret(s, WASI_ENOSYS);
}

static fwe_trap_kind h_sched_yield(fwe_caller *c, uint64_t *s, void *data)
{
    sched_yield();
    return ret(s, WASI_ESUCCESS);
}

/* ---- the table ---- */

/* Signatures are the witx functions lowered to core wasm: pointers, sizes, fds and flags are i32,
 * 64-bit values (filesize, timestamp, rights, dircookie) are i64, results go through pointers. */
static const fwe_host_def wasi_defs[] = {
    {WASI_MODULE, "args_get", "ii:i", h_args_get},
    {WASI_MODULE, "args_sizes_get", "ii:i", h_args_sizes_get},
    {WASI_MODULE, "environ_get", "ii:i", h_environ_get},
    {WASI_MODULE, "environ_sizes_get", "ii:i", h_environ_sizes_get},
    {WASI_MODULE, "clock_res_get", "ii:i", h_clock_res_get},
    {WASI_MODULE, "clock_time_get", "iIi:i", h_clock_time_get},
    {WASI_MODULE, "fd_advise", "iIIi:i", h_fd_advise},
    {WASI_MODULE, "fd_allocate", "iII:i", h_fd_espipe},
    {WASI_MODULE, "fd_close", "i:i", h_fd_close},
    {WASI_MODULE, "fd_datasync", "i:i", h_fd_einval},
    {WASI_MODULE, "fd_fdstat_get", "ii:i", h_fd_fdstat_get},
    {WASI_MODULE, "fd_fdstat_set_flags", "ii:i", h_fd_fdstat_set_flags},
    {WASI_MODULE, "fd_fdstat_set_rights", "iII:i", h_fd_fdstat_set_rights},
    {WASI_MODULE, "fd_filestat_get", "ii:i", h_fd_filestat_get},
    {WASI_MODULE, "fd_filestat_set_size", "iI:i", h_fd_einval},
    {WASI_MODULE, "fd_filestat_set_times", "iIIi:i", h_fd_filestat_set_times},
    {WASI_MODULE, "fd_pread", "iiiIi:i", h_fd_espipe},
    {WASI_MODULE, "fd_prestat_get", "ii:i", h_fd_prestat_get},
    {WASI_MODULE, "fd_prestat_dir_name", "iii:i", h_fd_prestat_dir_name},
    {WASI_MODULE, "fd_pwrite", "iiiIi:i", h_fd_espipe},
    {WASI_MODULE, "fd_read", "iiii:i", h_fd_read},
    {WASI_MODULE, "fd_readdir", "iiiIi:i", h_fd_readdir},
    {WASI_MODULE, "fd_renumber", "ii:i", h_fd_renumber},
    {WASI_MODULE, "fd_seek", "iIii:i", h_fd_seek},
    {WASI_MODULE, "fd_sync", "i:i", h_fd_einval},
    {WASI_MODULE, "fd_tell", "ii:i", h_fd_tell},
    {WASI_MODULE, "fd_write", "iiii:i", h_fd_write},
    {WASI_MODULE, "path_create_directory", "iii:i", h_path_first_fd},
    {WASI_MODULE, "path_filestat_get", "iiiii:i", h_path_first_fd},
    {WASI_MODULE, "path_filestat_set_times", "iiiiIIi:i", h_path_first_fd},
    {WASI_MODULE, "path_link", "iiiiiii:i", h_path_link},
    {WASI_MODULE, "path_open", "iiiiiIIii:i", h_path_first_fd},
    {WASI_MODULE, "path_readlink", "iiiiii:i", h_path_first_fd},
    {WASI_MODULE, "path_remove_directory", "iii:i", h_path_first_fd},
    {WASI_MODULE, "path_rename", "iiiiii:i", h_path_first_fd},
    {WASI_MODULE, "path_symlink", "iiiii:i", h_path_symlink},
    {WASI_MODULE, "path_unlink_file", "iii:i", h_path_first_fd},
    {WASI_MODULE, "poll_oneoff", "iiii:i", h_poll_oneoff},
    {WASI_MODULE, "proc_exit", "i:", h_proc_exit},
    {WASI_MODULE, "proc_raise", "i:i", h_proc_raise},
    {WASI_MODULE, "sched_yield", ":i", h_sched_yield},
    {WASI_MODULE, "random_get", "ii:i", h_random_get},
    {WASI_MODULE, "sock_accept", "iii:i", h_sock},
    {WASI_MODULE, "sock_recv", "iiiiii:i", h_sock},
    {WASI_MODULE, "sock_send", "iiiii:i", h_sock},
    {WASI_MODULE, "sock_shutdown", "ii:i", h_sock},
    {NULL, NULL, NULL, NULL},
};

fwe_status wasi_define(fwe_linker *linker, wasi_ctx *ctx)
{
    return fwe_linker_define_hosts(linker, wasi_defs, ctx);
}

const char *wasi_errno_name(int err)
{
    static const char *const names[] = {
        "success",     "2big",           "acces",       "addrinuse",   "addrnotavail",
        "afnosupport", "again",          "already",     "badf",        "badmsg",
        "busy",        "canceled",       "child",       "connaborted", "connrefused",
        "connreset",   "deadlk",         "destaddrreq", "dom",         "dquot",
        "exist",       "fault",          "fbig",        "hostunreach", "idrm",
        "ilseq",       "inprogress",     "intr",        "inval",       "io",
        "isconn",      "isdir",          "loop",        "mfile",       "mlink",
        "msgsize",     "multihop",       "nametoolong", "netdown",     "netreset",
        "netunreach",  "nfile",          "nobufs",      "nodev",       "noent",
        "noexec",      "nolck",          "nolink",      "nomem",       "nomsg",
        "noprotoopt",  "nospc",          "nosys",       "notconn",     "notdir",
        "notempty",    "notrecoverable", "notsock",     "notsup",      "notty",
        "nxio",        "overflow",       "ownerdead",   "perm",        "pipe",
        "proto",       "protonosupport", "prototype",   "range",       "rofs",
        "spipe",       "srch",           "stale",       "timedout",    "txtbsy",
        "xdev",        "notcapable",
    };
    if (err < 0 || (size_t)err >= sizeof names / sizeof names[0])
        return "unknown";
    return names[err];
}
