/* be_transfer_internal.h: the transfer as the event loop sees it (be_loop.c and be_transfer.c
 * only): the libcurl easy handle, list links, and the entry points the loop calls. */
#ifndef BE_TRANSFER_INTERNAL_H
#define BE_TRANSFER_INTERNAL_H

#include "backend/be_transfer.h"

#include <curl/curl.h>
#include <stdint.h>

/* The libcurl easy handle of a transfer (set up by be_transfer_start). */
CURL *be_transfer_easy(be_transfer *t);
/* Memory references (the loop holds one while the transfer is in the multi handle). */
void be_transfer_ref(be_transfer *t);
void be_transfer_unref(be_transfer *t);
/* Clears the pause flags before the loop calls curl_easy_pause(CONT). */
void be_transfer_unpaused(be_transfer *t);
/* The transfer left the multi handle: `code` is libcurl's result (or CURLE_ABORTED_BY_CALLBACK
 * for a cancel, CURLE_OPERATION_TIMEDOUT for our own timeouts). Logs at verbosity 2. */
void be_transfer_finish(be_transfer *t, CURLcode code);
/* Checks our timeouts at `now`: true when the transfer must be failed now; otherwise lowers
 * *next_ns to the transfer's next deadline (if any). */
bool be_transfer_expired(be_transfer *t, uint64_t now, uint64_t *next_ns);
/* True once no user holds the transfer (it is only worth cancelling). */
bool be_transfer_abandoned(be_transfer *t);

#endif
