/* be_ciphers.h: whether an OpenSSL cipher list (a dynamic backend's `ciphers` option, in Fastly's
 * OpenSSL syntax) selects any cipher this build of OpenSSL can use for TLS up to 1.2. */
#ifndef BE_CIPHERS_H
#define BE_CIPHERS_H

#include <stdbool.h>

/* True when `list` selects at least one usable cipher (SSL_CTX_set_cipher_list accepts it). */
bool be_ciphers_usable(const char *list);

#endif
