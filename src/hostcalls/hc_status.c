/* hc_status.c: names of the ABI's fastly_status codes (for logs and tests). */
#include "hc_status.h"

const char *hc_status_name(int status)
{
    static const char *const names[] = {
        "ok",
        "error",
        "inval",
        "badf",
        "buflen",
        "unsupported",
        "badalign",
        "httpinvalid",
        "httpuser",
        "httpincomplete",
        "none",
        "httpheadtoolarge",
        "httpinvalidstatus",
        "limitexceeded",
        "again",
    };
    if (status < 0 || status >= (int)(sizeof names / sizeof names[0]))
        return "unknown";
    return names[status];
}
