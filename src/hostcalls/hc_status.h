/* hc_status.h: the ABI's fastly_status codes as a C enum (values exactly as typenames.witx), the
 * one error type every hostcall returns to its guest. */
#ifndef HC_STATUS_H
#define HC_STATUS_H

typedef enum hc_status {
    HC_OK = 0,
    HC_ERROR = 1,
    HC_INVAL = 2,
    HC_BADF = 3,
    HC_BUFLEN = 4,
    HC_UNSUPPORTED = 5,
    HC_BADALIGN = 6,
    HC_HTTPINVALID = 7,
    HC_HTTPUSER = 8,
    HC_HTTPINCOMPLETE = 9,
    HC_NONE = 10,
    HC_HTTPHEADTOOLARGE = 11,
    HC_HTTPINVALIDSTATUS = 12,
    HC_LIMITEXCEEDED = 13,
    HC_AGAIN = 14,
} hc_status;

/* The witx name of a status ("ok", "badf", ...), "unknown" for others. */
const char *hc_status_name(int status);

#endif
