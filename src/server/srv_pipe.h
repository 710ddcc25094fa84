/* srv_pipe.h: a bounded byte pipe between two threads, used for request and response bodies.
 * The writer blocks while the pipe holds `cap` bytes, the reader while it is empty, so a body of
 * any size crosses in bounded memory. A pipe may be told to spill instead of blocking: excess
 * bytes then go to an unlinked temporary file (for full-duplex guests, see srv_http.c). */
#ifndef SRV_PIPE_H
#define SRV_PIPE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct srv_pipe srv_pipe;

/* A pipe holding at most `cap` bytes in memory. Returns NULL when out of memory. */
srv_pipe *srv_pipe_new(size_t cap);
void srv_pipe_free(srv_pipe *p); /* accepts NULL; both sides must be done with it */

/* Writer side. Appends all of data[0..len), blocking while the pipe is full. Returns 0, or -1 when
 * the reader has gone (srv_pipe_reader_gone) or the pipe was aborted or closed, or on a spill
 * file error. */
int srv_pipe_write(srv_pipe *p, const uint8_t *data, size_t len);
/* End of data: the reader sees 0 once the buffered bytes are consumed. */
void srv_pipe_close(srv_pipe *p);
/* Failure: the reader sees -1 (after nothing else); blocked writers return -1. */
void srv_pipe_abort(srv_pipe *p);
/* Lets writes go beyond `cap` into a temporary file instead of blocking (wakes blocked writers). */
void srv_pipe_set_spill(srv_pipe *p, bool spill);

/* Reader side. Blocks until data, end or abort: returns bytes read (> 0), 0 at the end, -1 after
 * an abort. */
long srv_pipe_read(srv_pipe *p, uint8_t *buf, size_t len);
/* The reader will not read again: pending and future writes are dropped and return -1. */
void srv_pipe_reader_gone(srv_pipe *p);
/* True once srv_pipe_close or srv_pipe_abort was called. */
bool srv_pipe_is_ended(srv_pipe *p);

#endif
