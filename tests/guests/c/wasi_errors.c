/* wasi_errors.c: test guest calling preview1 functions directly with bad descriptors, bad
 * pointers and unsupported operations; prints "name=errno" lines the host test compares. The
 * host must answer each with an errno (never a trap). */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <wasi/api.h>

#define BAD ((void *)(uintptr_t)0xfffffff0u)

static void show(const char *name, int value)
{
    printf("%s=%d\n", name, value);
}

int main(void)
{
    char text[] = "x";
    __wasi_ciovec_t iov = {(const uint8_t *)text, 1};
    __wasi_ciovec_t bad_iov = {(const uint8_t *)BAD, 100};
    __wasi_size_t n;
    __wasi_prestat_t pre;
    __wasi_fdstat_t st;
    __wasi_filestat_t fst;
    __wasi_filesize_t off;
    __wasi_fd_t fd;
    __wasi_timestamp_t ts;

    show("prestat_get_3", __wasi_fd_prestat_get(3, &pre));
    show("write_badfd", __wasi_fd_write(7, &iov, 1, &n));
    show("write_stdin", __wasi_fd_write(0, &iov, 1, &n));
    show("write_bad_iovs", __wasi_fd_write(1, BAD, 1, &n));
    show("write_bad_buf", __wasi_fd_write(1, &bad_iov, 1, &n));
    show("write_bad_nwritten", __wasi_fd_write(1, &iov, 1, BAD));
    show("read_stdout", __wasi_fd_read(1, (const __wasi_iovec_t *)&iov, 1, &n));
    show("random_bad", __wasi_random_get(BAD, 100));
    show("clock_bad_ptr", __wasi_clock_time_get(__WASI_CLOCKID_MONOTONIC, 0, BAD));
    show("args_sizes_bad", __wasi_args_sizes_get(BAD, &n));
    show("seek_stdout", __wasi_fd_seek(1, 0, __WASI_WHENCE_SET, &off));
    show("tell_stdout", __wasi_fd_tell(1, &off));
    show("pread_stdin", __wasi_fd_pread(0, (const __wasi_iovec_t *)&iov, 1, 0, &n));
    show("fdstat_stdout", __wasi_fd_fdstat_get(1, &st));
    show("fdstat_filetype", st.fs_filetype);
    /* fdflags: append and nonblock are kept; sync flags and unknown bits are inval */
    show("setflags_sync", __wasi_fd_fdstat_set_flags(1, __WASI_FDFLAGS_SYNC));
    show("setflags_dsync", __wasi_fd_fdstat_set_flags(1, __WASI_FDFLAGS_DSYNC));
    show("setflags_unknown", __wasi_fd_fdstat_set_flags(1, 0x20));
    show("setflags_rejected_kept", __wasi_fd_fdstat_get(1, &st) ? -1 : st.fs_flags);
    show("setflags_append", __wasi_fd_fdstat_set_flags(1, __WASI_FDFLAGS_APPEND));
    show("setflags_append_kept", __wasi_fd_fdstat_get(1, &st) ? -1 : st.fs_flags);
    show("setflags_clear", __wasi_fd_fdstat_set_flags(1, 0));
    show("fdstat_bad_ptr", __wasi_fd_fdstat_get(1, BAD));
    show("isatty_stdout", isatty(1));
    show("filestat_stderr", __wasi_fd_filestat_get(2, &fst));
    show("filestat_filetype", fst.filetype);
    show("path_open_badfd", __wasi_path_open(3, 0, "x", 0, 0, 0, 0, &fd));
    show("path_open_stdio", __wasi_path_open(1, 0, "x", 0, 0, 0, 0, &fd));
    show("readdir_stdout", __wasi_fd_readdir(1, (uint8_t *)text, 1, 0, &n));
    show("sock_accept_stdout", __wasi_sock_accept(1, 0, &fd));
    show("sock_accept_badfd", __wasi_sock_accept(9, 0, &fd));
    show("renumber_badfd", __wasi_fd_renumber(9, 1));
    show("res_bad_clock", __wasi_clock_res_get(42, &ts));
    show("poll_zero", __wasi_poll_oneoff(NULL, NULL, 0, &n));
    show("fopen_fails", fopen("/etc/passwd", "r") == NULL);

    /* stdout is always writable: the clock (10 s) must not be waited for. */
    __wasi_subscription_t subs[2];
    __wasi_event_t evs[2];
    memset(subs, 0, sizeof subs);
    subs[0].userdata = 1;
    subs[0].u.tag = __WASI_EVENTTYPE_CLOCK;
    subs[0].u.u.clock.id = __WASI_CLOCKID_MONOTONIC;
    subs[0].u.u.clock.timeout = 10ull * 1000 * 1000 * 1000;
    subs[1].userdata = 2;
    subs[1].u.tag = __WASI_EVENTTYPE_FD_WRITE;
    subs[1].u.u.fd_write.file_descriptor = 1;
    n = 0;
    show("poll_stdout", __wasi_poll_oneoff(subs, evs, 2, &n));
    show("poll_nevents", (int)n);
    show("poll_userdata", (int)evs[0].userdata);
    show("poll_type", evs[0].type);

    /* stdin (a file, empty, or none) is readable at once */
    subs[1].userdata = 3;
    subs[1].u.tag = __WASI_EVENTTYPE_FD_READ;
    subs[1].u.u.fd_read.file_descriptor = 0;
    n = 0;
    show("poll_stdin", __wasi_poll_oneoff(subs, evs, 2, &n));
    show("poll_stdin_nevents", (int)n);
    show("poll_stdin_userdata", (int)evs[0].userdata);
    show("poll_stdin_type", evs[0].type);
    /* an fd subscription on a descriptor that does not exist reports badf in the event */
    subs[1].u.u.fd_read.file_descriptor = 42;
    n = 0;
    show("poll_badfd", __wasi_poll_oneoff(subs, evs, 2, &n));
    show("poll_badfd_error", evs[0].error);

    /* Only realtime and monotonic clocks can be waited on (as wasmtime): a CPU-time clock or an
     * unknown clock id makes the whole call inval, with no event. */
    subs[0].u.u.clock.id = __WASI_CLOCKID_PROCESS_CPUTIME_ID;
    subs[0].u.u.clock.timeout = 5ull * 1000 * 1000;
    n = 0;
    show("poll_cputime", __wasi_poll_oneoff(subs, evs, 1, &n));
    show("poll_cputime_nevents", (int)n);
    subs[0].u.u.clock.id = __WASI_CLOCKID_THREAD_CPUTIME_ID;
    show("poll_threadtime", __wasi_poll_oneoff(subs, evs, 1, &n));
    subs[0].u.u.clock.id = 42;
    show("poll_bad_clock", __wasi_poll_oneoff(subs, evs, 1, &n));

    fflush(stdout);
    show("close_stderr", __wasi_fd_close(2));
    show("write_closed", __wasi_fd_write(2, &iov, 1, &n));
    show("close_again", __wasi_fd_close(2));
    return 0;
}
