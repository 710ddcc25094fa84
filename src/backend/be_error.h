/* be_error.h: why a backend request failed, as the ABI's send_error_detail_tag values
 * (typenames.witx), with names for logs and the mapping from libcurl results and socket errors that
 * production's categories (DNS, refused, timeout, TLS, protocol...) come from. */
#ifndef BE_ERROR_H
#define BE_ERROR_H

#include <stdbool.h>

typedef enum be_error {
    BE_ERR_UNINITIALIZED = 0,
    BE_OK = 1,
    BE_ERR_DNS_TIMEOUT = 2,
    BE_ERR_DNS_ERROR = 3,
    BE_ERR_DESTINATION_NOT_FOUND = 4,
    BE_ERR_DESTINATION_UNAVAILABLE = 5,
    BE_ERR_DESTINATION_IP_UNROUTABLE = 6,
    BE_ERR_CONNECTION_REFUSED = 7,
    BE_ERR_CONNECTION_TERMINATED = 8,
    BE_ERR_CONNECTION_TIMEOUT = 9,
    BE_ERR_CONNECTION_LIMIT_REACHED = 10,
    BE_ERR_TLS_CERTIFICATE_ERROR = 11,
    BE_ERR_TLS_CONFIGURATION_ERROR = 12,
    BE_ERR_HTTP_INCOMPLETE_RESPONSE = 13,
    BE_ERR_HTTP_RESPONSE_HEADER_SECTION_TOO_LARGE = 14,
    BE_ERR_HTTP_RESPONSE_BODY_TOO_LARGE = 15,
    BE_ERR_HTTP_RESPONSE_TIMEOUT = 16,
    BE_ERR_HTTP_RESPONSE_STATUS_INVALID = 17,
    BE_ERR_HTTP_UPGRADE_FAILED = 18,
    BE_ERR_HTTP_PROTOCOL_ERROR = 19,
    BE_ERR_HTTP_REQUEST_CACHE_KEY_INVALID = 20,
    BE_ERR_HTTP_REQUEST_URI_INVALID = 21,
    BE_ERR_INTERNAL_ERROR = 22,
    BE_ERR_TLS_ALERT_RECEIVED = 23,
    BE_ERR_TLS_PROTOCOL_ERROR = 24,
    BE_ERR_H2_ERROR = 25,
} be_error;

/* The witx name ("connection_refused", ...). */
const char *be_strerror(be_error e);

/* Classifies a failed libcurl transfer: `curl_code` is the CURLcode, `os_errno` the socket error
 * libcurl saw (CURLINFO_OS_ERRNO, 0 if none), `connected` whether a connection was established
 * and `head` whether the response head had arrived. */
be_error be_error_from_curl(int curl_code, long os_errno, bool connected, bool head);

/* The fastly_status a send hostcall returns for `e` (as Viceroy maps hyper's errors: a bad
 * response is httpinvalid, a cut one httpincomplete, the rest `error`). */
int be_error_status(be_error e);

#endif
