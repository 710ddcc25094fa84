/* srv_watch.c: the inotify watch of -watch: events on the file's directory are filtered by name;
 * each one moves the deadline debounce_ms ahead, and the callback runs when the deadline passes. A
 * pipe wakes the thread to stop. */
#include "server/srv_watch.h"

#include "util/util_clock.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

struct srv_watch {
    char *dir, *name;
    uint64_t debounce_ns;
    srv_watch_fn fn;
    void *user;
    int ifd, stop[2];
    pthread_t thread;
    bool started;
};

static void watch_free(srv_watch *w)
{
    if (w->ifd >= 0)
        close(w->ifd);
    if (w->stop[0] >= 0)
        close(w->stop[0]);
    if (w->stop[1] >= 0)
        close(w->stop[1]);
    free(w->dir);
    free(w->name);
    free(w);
}

/* True when one of the events in buf[0..n) names the watched file. */
static bool names_file(const srv_watch *w, const char *buf, ssize_t n)
{
    bool hit = false;
    for (ssize_t off = 0; off + (ssize_t)sizeof(struct inotify_event) <= n;) {
        const struct inotify_event *ev = (const struct inotify_event *)(buf + off);
        /* an overflowed queue may have lost the event we want: count it as a change */
        if ((ev->mask & IN_Q_OVERFLOW) || (ev->len > 0 && strcmp(ev->name, w->name) == 0))
            hit = true;
        off += (ssize_t)sizeof *ev + ev->len;
    }
    return hit;
}

static bool file_exists(const srv_watch *w)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", w->dir, w->name);
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

static void *watch_thread(void *arg)
{
    srv_watch *w = arg;
    bool pending = false;
    uint64_t deadline = 0;
    _Alignas(struct inotify_event) char buf[8192];
    for (;;) {
        int timeout = -1;
        if (pending) {
            uint64_t now = util_now_ns();
            timeout = now >= deadline ? 0 : (int)((deadline - now + 999999) / 1000000);
        }
        struct pollfd p[2] = {{.fd = w->ifd, .events = POLLIN},
                              {.fd = w->stop[0], .events = POLLIN}};
        int n = poll(p, 2, timeout);
        if (n < 0 && errno != EINTR)
            break;
        if (n > 0 && (p[1].revents & (POLLIN | POLLHUP)))
            break;
        if (n > 0 && (p[0].revents & POLLIN)) {
            ssize_t got;
            while ((got = read(w->ifd, buf, sizeof buf)) > 0) {
                if (names_file(w, buf, got)) {
                    pending = true;
                    deadline = util_now_ns() + w->debounce_ns;
                }
            }
            continue;
        }
        if (pending && util_now_ns() >= deadline) {
            pending = false;
            /* deleted and not back (yet): the event that brings it back restarts the wait */
            if (file_exists(w))
                w->fn(w->user);
        }
    }
    return NULL;
}

srv_watch *srv_watch_start(const char *path, uint64_t debounce_ms, srv_watch_fn fn, void *user,
                           char *err, size_t errlen)
{
    srv_watch *w = calloc(1, sizeof *w);
    if (!w) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    w->ifd = w->stop[0] = w->stop[1] = -1;
    w->debounce_ns = debounce_ms * 1000000ull;
    w->fn = fn;
    w->user = user;
    const char *slash = strrchr(path, '/');
    if (slash) {
        size_t dl = slash == path ? 1 : (size_t)(slash - path);
        w->dir = strndup(path, dl);
        w->name = strdup(slash + 1);
    } else {
        w->dir = strdup(".");
        w->name = strdup(path);
    }
    if (!w->dir || !w->name) {
        snprintf(err, errlen, "out of memory");
        watch_free(w);
        return NULL;
    }
    w->ifd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    if (w->ifd < 0 ||
        inotify_add_watch(w->ifd, w->dir,
                          IN_CLOSE_WRITE | IN_MODIFY | IN_MOVED_TO | IN_CREATE | IN_ATTRIB) < 0) {
        snprintf(err, errlen, "-watch: cannot watch directory %s: %s", w->dir, strerror(errno));
        watch_free(w);
        return NULL;
    }
    if (pipe2(w->stop, O_CLOEXEC | O_NONBLOCK) != 0 ||
        pthread_create(&w->thread, NULL, watch_thread, w) != 0) {
        snprintf(err, errlen, "-watch: cannot start the watch thread");
        watch_free(w);
        return NULL;
    }
    w->started = true;
    return w;
}

void srv_watch_stop(srv_watch *w)
{
    if (!w)
        return;
    if (w->started) {
        ssize_t n = write(w->stop[1], "x", 1);
        (void)n;
        pthread_join(w->thread, NULL);
    }
    watch_free(w);
}
