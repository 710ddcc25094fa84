/* be_ciphers.c: checking a cipher list against OpenSSL with a throwaway client context (libcurl
 * would otherwise fail every transfer of the backend with CURLE_SSL_CIPHER). */
#include "backend/be_ciphers.h"

#include <openssl/err.h>
#include <openssl/ssl.h>

bool be_ciphers_usable(const char *list)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    if (!ctx)
        return true; /* cannot tell: leave it to the transfer */
    bool ok = SSL_CTX_set_cipher_list(ctx, list) == 1;
    SSL_CTX_free(ctx);
    ERR_clear_error(); /* the failure's entry must not reach a later TLS call on this thread */
    return ok;
}
