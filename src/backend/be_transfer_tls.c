/* be_transfer_tls.c: a transfer's TLS options from its backend: which host the URL names (SNI and
 * the name libcurl verifies), the certificate name OpenSSL checks itself when SNI is off or names
 * another host, protocol versions, CA, client certificate and key, and ciphers. */
#include "backend/be_transfer_internal.h"
#include "backend/be_loop.h"
#include "util/util_str.h"

#include <arpa/inet.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <string.h>
#include <strings.h>

static long tls_version_option(const be_backend *b)
{
    static const long min_v[] = {CURL_SSLVERSION_TLSv1_0, CURL_SSLVERSION_TLSv1_1,
                                 CURL_SSLVERSION_TLSv1_2, CURL_SSLVERSION_TLSv1_3};
    static const long max_v[] = {CURL_SSLVERSION_MAX_TLSv1_0, CURL_SSLVERSION_MAX_TLSv1_1,
                                 CURL_SSLVERSION_MAX_TLSv1_2, CURL_SSLVERSION_MAX_TLSv1_3};
    long v = CURL_SSLVERSION_DEFAULT;
    if (b->ssl_min >= 0 && b->ssl_min <= 3)
        v = min_v[b->ssl_min];
    if (b->ssl_max >= 0 && b->ssl_max <= 3) {
        if (v == CURL_SSLVERSION_DEFAULT)
            v = CURL_SSLVERSION_TLSv1_0;
        v |= max_v[b->ssl_max];
    }
    return v;
}

/* The host of a "host:port" name (the JS SDK passes its target as SNI/certificate name), copied
 * into buf; other names as they are. */
static const char *host_part(const char *name, char *buf, size_t n)
{
    const char *colon = strchr(name, ':');
    if (colon && !strchr(colon + 1, ':') && colon[1] &&
        strspn(colon + 1, "0123456789") == strlen(colon + 1) && (size_t)(colon - name) < n) {
        memcpy(buf, name, (size_t)(colon - name));
        buf[colon - name] = '\0';
        return buf;
    }
    return name;
}

static bool is_ip_literal(const char *host)
{
    unsigned char addr[sizeof(struct in6_addr)];
    return inet_pton(AF_INET, host, addr) == 1 || inet_pton(AF_INET6, host, addr) == 1;
}

/* libcurl's OpenSSL context for a connection without SNI: OpenSSL checks the certificate name
 * during the handshake (libcurl's own check would use the URL's placeholder address). */
static CURLcode on_ssl_ctx(CURL *e, void *ssl_ctx, void *p)
{
    (void)e;
    be_transfer *t = p;
    X509_VERIFY_PARAM *param = SSL_CTX_get0_param((SSL_CTX *)ssl_ctx);
    int ok = is_ip_literal(t->cert_name) ? X509_VERIFY_PARAM_set1_ip_asc(param, t->cert_name)
                                         : X509_VERIFY_PARAM_set1_host(param, t->cert_name, 0);
    return ok == 1 ? CURLE_OK : CURLE_SSL_CERTPROBLEM;
}

const char *be_transfer_tls_url_host(be_transfer *t, const be_backend *b, char *url_host_buf,
                                     size_t url_host_len)
{
    /* the URL names the host TLS verifies (and SNI carries); CONNECT_TO sends the connection to
     * the backend's address when that differs. With SNI off (an empty SNI hostname) the URL names
     * an IP address, for which OpenSSL sends no SNI; with SNI off, or an SNI hostname that is not
     * the certificate hostname, the certificate name is checked by OpenSSL itself (on_ssl_ctx)
     * instead of libcurl, which would check the URL's host. */
    bool no_sni = b->tls && b->sni_hostname && b->sni_hostname[0] == '\0';
    char cert_buf[300];
    const char *url_host = NULL;
    const char *cert =
        b->cert_hostname ? host_part(b->cert_hostname, cert_buf, sizeof cert_buf) : NULL;
    bool split = b->tls && !no_sni && b->sni_hostname && cert &&
                 strcasecmp(host_part(b->sni_hostname, url_host_buf, url_host_len), cert) != 0;
    if (no_sni || split) {
        url_host = no_sni ? (is_ip_literal(b->host) ? b->host : BE_NO_SNI_URL_HOST)
                          : host_part(b->sni_hostname, url_host_buf, url_host_len);
        if (!cert)
            cert = host_part(b->host, cert_buf, sizeof cert_buf);
        t->cert_name = util_strndup(cert, strlen(cert));
        if (!t->cert_name)
            goto fail;
        BE_SET(CURLOPT_SSL_VERIFYHOST, 0L);
        BE_SET(CURLOPT_SSL_CTX_FUNCTION, on_ssl_ctx);
        BE_SET(CURLOPT_SSL_CTX_DATA, t);
        /* the certificate name is not part of what libcurl compares when it reuses a connection */
        BE_SET(CURLOPT_FRESH_CONNECT, 1L);
        BE_SET(CURLOPT_FORBID_REUSE, 1L);
    } else {
        url_host = host_part(b->sni_hostname    ? b->sni_hostname
                             : b->cert_hostname ? b->cert_hostname
                                                : b->host,
                             url_host_buf, url_host_len);
    }
    return url_host;
fail:
    return NULL;
}

bool be_transfer_tls_options(be_transfer *t, const be_backend *b)
{
    BE_SET(CURLOPT_SSLVERSION, tls_version_option(b));
    if (b->ca_file)
        BE_SET(CURLOPT_CAINFO, b->ca_file);
    if (b->ca_pem) {
        struct curl_blob blob = {b->ca_pem, b->ca_pem_len, CURL_BLOB_COPY};
        BE_SET(CURLOPT_CAINFO_BLOB, &blob);
    }
    if (b->client_cert_file)
        BE_SET(CURLOPT_SSLCERT, b->client_cert_file);
    if (b->client_key_file)
        BE_SET(CURLOPT_SSLKEY, b->client_key_file);
    if (b->client_cert_pem) {
        struct curl_blob blob = {b->client_cert_pem, b->client_cert_pem_len, CURL_BLOB_COPY};
        BE_SET(CURLOPT_SSLCERT_BLOB, &blob);
        BE_SET(CURLOPT_SSLCERTTYPE, "PEM");
    }
    if (b->client_key_pem) {
        struct curl_blob blob = {b->client_key_pem, b->client_key_pem_len, CURL_BLOB_COPY};
        BE_SET(CURLOPT_SSLKEY_BLOB, &blob);
        BE_SET(CURLOPT_SSLKEYTYPE, "PEM");
    }
    if (b->ciphers)
        BE_SET(CURLOPT_SSL_CIPHER_LIST, b->ciphers);
    return true;
fail:
    return false;
}
