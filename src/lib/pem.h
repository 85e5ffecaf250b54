/* PEM text both programs produce: the contents of a memory BIO as a C string,
 * private keys as unencrypted PKCS#8 ("BEGIN PRIVATE KEY"). */
#ifndef FLINT_PEM_H
#define FLINT_PEM_H

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <stddef.h>

/* What a memory BIO holds, copied into *ret (malloc'd, NUL-terminated);
 * *ret_len (when non-NULL) its length. */
int flint_bio_string(BIO *b, char **ret, size_t *ret_len);

/* key as PKCS#8 PEM in *ret (malloc'd, NUL-terminated). It is secret: the
 * caller cleanses it (OPENSSL_cleanse over *ret_len bytes) before free. */
int flint_key_to_pem(EVP_PKEY *key, char **ret, size_t *ret_len);

#endif
