/* PKCS#10 certificate signing requests (RFC 2986) as ACME finalize carries
 * them (RFC 8555 §7.4): signature, key policy, requested identifiers. */
#ifndef FLINT_CSR_H
#define FLINT_CSR_H

#include <openssl/x509.h>
#include <stddef.h>
#include "identifier.h"
#include "jwk.h"
#include "problem.h"

#define FLINT_CSR_MAX_DER (64 * 1024)
#define FLINT_CSR_MAX_NAMES 100

struct flint_csr {
	/* the subject public key as the request carries it: algorithm,
	 * parameters and key bits, copied without decoding (flint_spki_set), so
	 * it caches no EVP_PKEY (X509_PUBKEY_get0 on it fails). What
	 * flint_leaf_params.subject_spki takes. Owned. */
	X509_PUBKEY *spki;
	/* the same key decoded, for the signature and the key policy (owned) */
	EVP_PKEY *pkey;
	enum flint_key_type key_type;
	struct flint_identifier *ids; /* deduplicated, normalised; CN, SAN dNSNames and iPAddresses */
	size_t n_ids;
};

/* Parses DER, checks the self-signature, applies the key policy of
 * flint_key_type_of (RSA 2048..8192, P-256/384/521, Ed25519), and collects
 * identifiers from the subject CN and the subjectAltName extension request:
 * dNSName -> "dns" (flint_dns_name_normalize), iPAddress of 4 or 16 octets ->
 * "ip" (flint_ip_normalize, RFC 8738 §3), a CN that is an IP literal -> "ip";
 * any other SAN type is refused. The key is read without OpenSSL's provider
 * decoder for rsaEncryption, id-ecPublicKey on a named P-256/384/521 and
 * Ed25519; for those a malformed key (unused bits, wrong length, explicit
 * curve parameters, RSA parameters other than NULL) is "CSR public key
 * unreadable". An extension request that cannot be read is refused rather
 * than taken as none. On failure a badCSR problem (or
 * badPublicKey for refused keys is NOT used: weak keys are badCSR too). */
int flint_csr_parse_der(const unsigned char *der, size_t len, struct flint_csr **ret,
			struct flint_problem **ret_problem);

void flint_csr_free(struct flint_csr *csr);

#endif
