/* be_error.c: names of the send error tags and their derivation from libcurl results. */
#include "backend/be_error.h"

#include <curl/curl.h>
#include <errno.h>

static const char *const names[] = {
    "uninitialized",
    "ok",
    "dns_timeout",
    "dns_error",
    "destination_not_found",
    "destination_unavailable",
    "destination_ip_unroutable",
    "connection_refused",
    "connection_terminated",
    "connection_timeout",
    "connection_limit_reached",
    "tls_certificate_error",
    "tls_configuration_error",
    "http_incomplete_response",
    "http_response_header_section_too_large",
    "http_response_body_too_large",
    "http_response_timeout",
    "http_response_status_invalid",
    "http_upgrade_failed",
    "http_protocol_error",
    "http_request_cache_key_invalid",
    "http_request_uri_invalid",
    "internal_error",
    "tls_alert_received",
    "tls_protocol_error",
    "h2_error",
};

const char *be_strerror(be_error e)
{
    if ((unsigned)e < sizeof names / sizeof names[0])
        return names[e];
    return "unknown";
}

be_error be_error_from_curl(int curl_code, long os_errno, bool connected, bool head)
{
    switch ((CURLcode)curl_code) {
    case CURLE_OK:
        return BE_OK;
    case CURLE_COULDNT_RESOLVE_HOST:
        return BE_ERR_DNS_ERROR;
    case CURLE_COULDNT_CONNECT:
        if (os_errno == ECONNREFUSED)
            return BE_ERR_CONNECTION_REFUSED;
        if (os_errno == EHOSTUNREACH || os_errno == ENETUNREACH || os_errno == EADDRNOTAVAIL)
            return BE_ERR_DESTINATION_IP_UNROUTABLE;
        if (os_errno == ETIMEDOUT)
            return BE_ERR_CONNECTION_TIMEOUT;
        return BE_ERR_CONNECTION_REFUSED;
    case CURLE_OPERATION_TIMEDOUT:
        if (!connected)
            return BE_ERR_CONNECTION_TIMEOUT;
        return BE_ERR_HTTP_RESPONSE_TIMEOUT;
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
    case CURLE_SSL_INVALIDCERTSTATUS:
        return BE_ERR_TLS_CERTIFICATE_ERROR;
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_ENGINE_NOTFOUND:
    case CURLE_SSL_ENGINE_SETFAILED:
    case CURLE_SSL_ENGINE_INITFAILED:
    case CURLE_SSL_CRL_BADFILE:
    case CURLE_NOT_BUILT_IN:
        return BE_ERR_TLS_CONFIGURATION_ERROR;
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_SSL_SHUTDOWN_FAILED:
        return BE_ERR_TLS_PROTOCOL_ERROR;
    case CURLE_GOT_NOTHING:
        return BE_ERR_CONNECTION_TERMINATED;
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
        return head ? BE_ERR_HTTP_INCOMPLETE_RESPONSE : BE_ERR_CONNECTION_TERMINATED;
    case CURLE_PARTIAL_FILE:
        return BE_ERR_HTTP_INCOMPLETE_RESPONSE;
    case CURLE_WEIRD_SERVER_REPLY:
        return head ? BE_ERR_HTTP_PROTOCOL_ERROR : BE_ERR_HTTP_RESPONSE_STATUS_INVALID;
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
        return BE_ERR_H2_ERROR;
    case CURLE_URL_MALFORMAT:
        return BE_ERR_HTTP_REQUEST_URI_INVALID;
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_BAD_CONTENT_ENCODING:
        return BE_ERR_HTTP_PROTOCOL_ERROR;
    case CURLE_FILESIZE_EXCEEDED:
        return BE_ERR_HTTP_RESPONSE_BODY_TOO_LARGE;
    default:
        return BE_ERR_INTERNAL_ERROR;
    }
}

int be_error_status(be_error e)
{
    switch (e) {
    case BE_OK:
        return 0;
    case BE_ERR_HTTP_RESPONSE_STATUS_INVALID:
    case BE_ERR_HTTP_PROTOCOL_ERROR:
    case BE_ERR_HTTP_RESPONSE_HEADER_SECTION_TOO_LARGE:
        return 7; /* httpinvalid */
    case BE_ERR_HTTP_INCOMPLETE_RESPONSE:
        return 9; /* httpincomplete */
    case BE_ERR_DESTINATION_NOT_FOUND:
        return 2; /* inval: Viceroy's UnknownBackend */
    default:
        return 1; /* error */
    }
}
