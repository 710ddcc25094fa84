/* srv_http_parse.h: the strict HTTP/1.1 request parser of the front end (RFC 9112): the request
 * head (request line, header fields, and the message framing they imply) and the chunked
 * transfer-coding decoder. Anything ambiguous that could let two parsers disagree on where a
 * request ends (Content-Length with Transfer-Encoding, differing Content-Lengths, obs-fold, white
 * space before a colon, control bytes) is an error with the status to answer. No allocation:
 * the parsed head points into the caller's buffer. */
#ifndef SRV_HTTP_PARSE_H
#define SRV_HTTP_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SRV_HTTP_MAX_FIELDS 128

typedef struct srv_http_field {
    const char *name;
    size_t name_len;
    const char *value; /* leading and trailing white space removed */
    size_t value_len;
} srv_http_field;

typedef struct srv_http_head {
    const char *method;
    size_t method_len;
    const char *target;
    size_t target_len;
    int minor; /* HTTP/1.minor: 0 or 1 */
    srv_http_field fields[SRV_HTTP_MAX_FIELDS];
    size_t nfields;
    /* framing and connection handling, from the fields */
    bool chunked;           /* Transfer-Encoding: chunked */
    int64_t content_length; /* -1: none given */
    bool keep_alive;        /* the client allows another request on the connection */
    bool expect_continue;   /* Expect: 100-continue */
} srv_http_head;

/* Parses a request head at the start of buf[0..len). Returns the head's length in bytes (> 0) when
 * complete, 0 when more bytes are needed, or -1 on an error with the status to answer in *status
 * (400 malformed or ambiguous framing, 413 Content-Length too large, 417 unknown expectation,
 * 431 too many fields, 501 unsupported transfer coding, 505 HTTP version) and a short reason in
 * *why (static text). Empty lines before the request line are skipped (and counted in the
 * length). Lines end in CRLF or a bare LF. */
long srv_http_parse_head(const char *buf, size_t len, srv_http_head *h, int *status,
                         const char **why);

/* Incremental decoder of a chunked body. Zero-initialise before the first call. */
typedef struct srv_chunked {
    int state;
    uint64_t remaining; /* bytes left in the current chunk */
    size_t line_len;    /* length of the current size or trailer line, for limits */
} srv_chunked;

typedef enum srv_chunked_result {
    SRV_CHUNKED_MORE = 0, /* all input consumed (or output full): call again */
    SRV_CHUNKED_DONE = 1, /* the last chunk and trailer section were read */
    SRV_CHUNKED_ERROR = -1,
} srv_chunked_result;

/* Decodes in[0..inlen) into out[0..outcap): sets *consumed (input bytes used) and *produced
 * (data bytes written). Stops at the end of the body, so bytes after it (a pipelined request)
 * are not consumed. */
srv_chunked_result srv_chunked_decode(srv_chunked *c, const uint8_t *in, size_t inlen,
                                      size_t *consumed, uint8_t *out, size_t outcap,
                                      size_t *produced);

#endif
