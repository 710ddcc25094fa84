/* srv_watch.h: -watch: one thread watching a file with inotify and calling back once it has been
 * quiet for a debounce interval. The directory is watched, not the file, so a file written under
 * another name and renamed over the watched one (what editors and compilers do) is seen too. */
#ifndef SRV_WATCH_H
#define SRV_WATCH_H

#include <stddef.h>
#include <stdint.h>

typedef struct srv_watch srv_watch;
typedef void (*srv_watch_fn)(void *user);

/* Starts watching `path` (copied): fn(user) runs on the watch thread after each burst of changes
 * to that name, once debounce_ms passed without another one and the file exists. NULL with a
 * message in err when the directory cannot be watched or out of memory. */
srv_watch *srv_watch_start(const char *path, uint64_t debounce_ms, srv_watch_fn fn, void *user,
                           char *err, size_t errlen);
/* Stops and joins the thread (a callback in progress finishes first). Accepts NULL. */
void srv_watch_stop(srv_watch *w);

#endif
