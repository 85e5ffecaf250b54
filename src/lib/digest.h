/* Message digests fetched from OpenSSL's default provider once per process:
 * OpenSSL 3 otherwise looks the implementation up again on every operation. */
#ifndef FLINT_DIGEST_H
#define FLINT_DIGEST_H

#include <openssl/evp.h>

enum flint_md { FLINT_MD_SHA256, FLINT_MD_SHA384, FLINT_MD_SHA512 };

/* Never NULL unless the default provider lacks SHA-2 (then OpenSSL is unusable). */
const EVP_MD *flint_md(enum flint_md which);

#endif
