/* Building PKCS#10 requests (RFC 2986) for ACME finalize (RFC 8555 §7.4):
 * the client's side of csr.h, kept here so both sides agree on the format. */
#ifndef FLINT_CSR_BUILD_H
#define FLINT_CSR_BUILD_H

#include <openssl/evp.h>
#include <stddef.h>

/* A DER CSR signed by key (a private key of a flint_key_type_of type) asking
 * for names[0..n-1] in a subjectAltName extension request: iPAddress for
 * the ones that parse as IPv4/IPv6 (RFC 8738 §3), else dNSName; the subject
 * CN is names[0] when it is a DNS name that fits the 64-character CN limit,
 * else empty.
 * Names are used as given (normalise them first). *ret is malloc'd. */
int flint_csr_build(EVP_PKEY *key, const char *const *names, size_t n, unsigned char **ret,
		    size_t *ret_len);

#endif
