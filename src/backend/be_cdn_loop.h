/* be_cdn_loop.h: Fastlike's loop detection token in the cdn-loop header (RFC 8586). Every backend
 * request carries "Fastlike" once more than the downstream request it was made for, whether or not
 * the guest copied the downstream cdn-loop into it, so a request that comes back to Fastlike tells
 * how many times it passed through (the server refuses it past a bound, srv_request.h). */
#ifndef BE_CDN_LOOP_H
#define BE_CDN_LOOP_H

#include <stddef.h>

#define BE_CDN_LOOP_TOKEN "Fastlike"

/* How many cdn-ids of one cdn-loop header value are "Fastlike" (case-insensitive; parameters
 * after ';' are ignored). */
size_t be_cdn_loop_count(const char *value, size_t len);

#endif
