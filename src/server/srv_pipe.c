/* srv_pipe.c: the bounded body pipe: a list of heap chunks holding at most `cap` bytes, a mutex
 * and two condition variables, plus an optional spill file (opened on first need, unlinked).
 * Ordering: while the spill file holds unread bytes every write goes there, and the reader drains
 * memory before the file, so bytes come out in the order they went in. */
#include "server/srv_pipe.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct chunk {
    struct chunk *next;
    size_t len, off;
    uint8_t data[];
} chunk;

struct srv_pipe {
    pthread_mutex_t lock;
    pthread_cond_t can_read, can_write;
    chunk *head, *tail;
    size_t used, cap;
    bool closed, aborted, reader_gone, spill;
    int spill_fd;              /* -1 until the first spilled write */
    uint64_t spill_r, spill_w; /* read and write offsets in the spill file */
};

srv_pipe *srv_pipe_new(size_t cap)
{
    srv_pipe *p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    pthread_mutex_init(&p->lock, NULL);
    pthread_cond_init(&p->can_read, NULL);
    pthread_cond_init(&p->can_write, NULL);
    p->cap = cap ? cap : 1;
    p->spill_fd = -1;
    return p;
}

static void drop_chunks(srv_pipe *p)
{
    chunk *c = p->head;
    while (c) {
        chunk *next = c->next;
        free(c);
        c = next;
    }
    p->head = p->tail = NULL;
    p->used = 0;
}

void srv_pipe_free(srv_pipe *p)
{
    if (!p)
        return;
    drop_chunks(p);
    if (p->spill_fd >= 0)
        close(p->spill_fd);
    pthread_cond_destroy(&p->can_read);
    pthread_cond_destroy(&p->can_write);
    pthread_mutex_destroy(&p->lock);
    free(p);
}

static int open_spill_file(void)
{
    const char *dir = getenv("TMPDIR");
    if (!dir || !dir[0])
        dir = "/tmp";
    int fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
    if (fd >= 0)
        return fd;
    char path[4096];
    snprintf(path, sizeof path, "%s/fastlike-body-XXXXXX", dir);
    fd = mkstemp(path);
    if (fd >= 0)
        unlink(path);
    return fd;
}

/* Appends to the spill file; called with the lock held (page-cache writes are short). */
static int spill_write(srv_pipe *p, const uint8_t *data, size_t len)
{
    if (p->spill_fd < 0) {
        p->spill_fd = open_spill_file();
        if (p->spill_fd < 0)
            return -1;
    }
    while (len > 0) {
        ssize_t n = pwrite(p->spill_fd, data, len, (off_t)p->spill_w);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        p->spill_w += (uint64_t)n;
        data += n;
        len -= (size_t)n;
    }
    return 0;
}

int srv_pipe_write(srv_pipe *p, const uint8_t *data, size_t len)
{
    int rc = 0;
    pthread_mutex_lock(&p->lock);
    while (len > 0) {
        if (p->reader_gone || p->aborted || p->closed) {
            rc = -1;
            break;
        }
        bool file_pending = p->spill_w > p->spill_r;
        if (file_pending || (p->spill && p->used >= p->cap)) {
            rc = spill_write(p, data, len);
            pthread_cond_signal(&p->can_read);
            break;
        }
        if (p->used >= p->cap) {
            pthread_cond_wait(&p->can_write, &p->lock);
            continue;
        }
        size_t n = p->cap - p->used < len ? p->cap - p->used : len;
        chunk *c = malloc(sizeof *c + n);
        if (!c) {
            rc = -1;
            break;
        }
        c->next = NULL;
        c->len = n;
        c->off = 0;
        memcpy(c->data, data, n);
        if (p->tail)
            p->tail->next = c;
        else
            p->head = c;
        p->tail = c;
        p->used += n;
        data += n;
        len -= n;
        pthread_cond_signal(&p->can_read);
    }
    pthread_mutex_unlock(&p->lock);
    return rc;
}

void srv_pipe_close(srv_pipe *p)
{
    pthread_mutex_lock(&p->lock);
    p->closed = true;
    pthread_cond_broadcast(&p->can_read);
    pthread_cond_broadcast(&p->can_write);
    pthread_mutex_unlock(&p->lock);
}

void srv_pipe_abort(srv_pipe *p)
{
    pthread_mutex_lock(&p->lock);
    if (!p->closed)
        p->aborted = true;
    p->closed = true;
    pthread_cond_broadcast(&p->can_read);
    pthread_cond_broadcast(&p->can_write);
    pthread_mutex_unlock(&p->lock);
}

void srv_pipe_set_spill(srv_pipe *p, bool spill)
{
    pthread_mutex_lock(&p->lock);
    p->spill = spill;
    pthread_cond_broadcast(&p->can_write);
    pthread_mutex_unlock(&p->lock);
}

long srv_pipe_read(srv_pipe *p, uint8_t *buf, size_t len)
{
    if (len == 0)
        return 0;
    long got = 0;
    pthread_mutex_lock(&p->lock);
    for (;;) {
        if (p->aborted) {
            got = -1;
            break;
        }
        if (p->head) {
            chunk *c = p->head;
            size_t n = c->len - c->off < len ? c->len - c->off : len;
            memcpy(buf, c->data + c->off, n);
            c->off += n;
            p->used -= n;
            if (c->off == c->len) {
                p->head = c->next;
                if (!p->head)
                    p->tail = NULL;
                free(c);
            }
            got = (long)n;
            pthread_cond_signal(&p->can_write);
            break;
        }
        if (p->spill_w > p->spill_r) {
            uint64_t avail = p->spill_w - p->spill_r;
            size_t n = avail < len ? (size_t)avail : len;
            ssize_t r = pread(p->spill_fd, buf, n, (off_t)p->spill_r);
            if (r < 0 && errno == EINTR)
                continue;
            if (r <= 0) {
                got = -1;
                break;
            }
            p->spill_r += (uint64_t)r;
            if (p->spill_r == p->spill_w) {
                /* drained: start over at the beginning of the file and free its blocks */
                p->spill_r = p->spill_w = 0;
                if (ftruncate(p->spill_fd, 0) != 0) {
                    /* harmless: the file only keeps its size */
                }
                pthread_cond_broadcast(&p->can_write);
            }
            got = (long)r;
            break;
        }
        if (p->closed) {
            got = 0;
            break;
        }
        pthread_cond_wait(&p->can_read, &p->lock);
    }
    pthread_mutex_unlock(&p->lock);
    return got;
}

void srv_pipe_reader_gone(srv_pipe *p)
{
    pthread_mutex_lock(&p->lock);
    p->reader_gone = true;
    drop_chunks(p);
    p->spill_r = p->spill_w = 0;
    pthread_cond_broadcast(&p->can_write);
    pthread_mutex_unlock(&p->lock);
}

bool srv_pipe_is_ended(srv_pipe *p)
{
    pthread_mutex_lock(&p->lock);
    bool ended = p->closed;
    pthread_mutex_unlock(&p->lock);
    return ended;
}
