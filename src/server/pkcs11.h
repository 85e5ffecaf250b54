/* CA keys in a PKCS#11 token (an HSM, a smart card, SoftHSM2), reached
 * through OpenSSL's pkcs11 engine (libp11; Debian: libengine-pkcs11-openssl).
 * The private key never leaves the token: flintd holds a handle that signs
 * there. Keys are named by RFC 7512 URIs ("pkcs11:token=ca;object=issuing");
 * the PIN comes from a file, never from the command line or the URI. */
#ifndef FLINTD_PKCS11_H
#define FLINTD_PKCS11_H

#include <openssl/evp.h>
#include <stddef.h>

struct flint_pkcs11;

/* Loads the engine with module (the token's PKCS#11 library; NULL: libp11's
 * default, p11-kit's proxy) and the PIN read from pin_file (its first line;
 * the file must not be readable by group or others; NULL: no login). On
 * failure err says why in one line. */
int flint_pkcs11_open(const char *module, const char *pin_file, struct flint_pkcs11 **ret,
		      char *err, size_t err_len);
/* The private key uri names, as a key that signs in the token. */
int flint_pkcs11_private_key(struct flint_pkcs11 *p, const char *uri, EVP_PKEY **ret, char *err,
			     size_t err_len);
/* Releases the engine (keys loaded from it stay usable until freed). NULL: nothing. */
void flint_pkcs11_free(struct flint_pkcs11 *p);

#endif
