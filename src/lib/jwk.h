/* JSON Web Keys (RFC 7517/7518, OKP per RFC 8037) for the key types ACME
 * uses, and RFC 7638 thumbprints. */
#ifndef FLINT_JWK_H
#define FLINT_JWK_H

#include <jansson.h>
#include <openssl/evp.h>
#include <stdbool.h>

enum flint_key_type {
	FLINT_KEY_RSA,   /* 2048..8192 bits */
	FLINT_KEY_P256,
	FLINT_KEY_P384,
	FLINT_KEY_P521,
	FLINT_KEY_ED25519,
};

/* Signs with a private key held elsewhere (flint's key processes): in is
 * the JWS signing input; *ret (malloc'd) gets what EVP_DigestSign with the
 * key's JWS digest gives (DER for ECDSA), as flint_jws_sign_input does. */
typedef int (*flint_jwk_sign_fn)(void *ctx, const unsigned char *in, size_t len,
				 unsigned char **ret, size_t *ret_len);

struct flint_jwk {
	enum flint_key_type type;
	EVP_PKEY *pkey;      /* owned; public (imported) or private (generated/loaded) */
	char *thumbprint;    /* RFC 7638, base64url SHA-256 */
	json_t *public_json; /* canonical public JWK: only the required members */
	/* NULL: pkey signs. Else pkey is public only and signatures come from
	 * sign(sign_ctx, ...); the owner of sign_ctx outlives this key. */
	flint_jwk_sign_fn sign;
	void *sign_ctx;
	/* EVP_DigestVerify and (pkey private) EVP_DigestSign contexts for the
	 * key's JWS algorithm, set up once and copied for each check or
	 * signature: setting one up fetches the algorithms, ~15 times what a
	 * copy costs. NULL (Ed25519, or the set-up failed): each use sets up
	 * its own. Owned. */
	EVP_MD_CTX *verify_tmpl, *sign_tmpl;
};

/* Imports a public JWK. Rejects missing/extra-type members, non-canonical
 * base64url, RSA outside 2048..8192 bits or even/small exponent, unknown
 * curves, points not on the curve: FLINT_EINVAL (malformed) or
 * FLINT_EBADKEY (well-formed but refused by policy). */
int flint_jwk_from_json(const json_t *jwk, struct flint_jwk **ret);

/* Wraps an existing key (public or private); takes a new reference on pkey. */
int flint_jwk_from_pkey(EVP_PKEY *pkey, struct flint_jwk **ret);

/* Generates a private key of the given type (bits only for RSA). */
int flint_jwk_generate(enum flint_key_type type, int rsa_bits, struct flint_jwk **ret);

/* The same key without the JWK around it, for keys that are never one (the CA's). */
int flint_key_generate(enum flint_key_type type, int rsa_bits, EVP_PKEY **ret);

/* Serialises the canonical public JWK with sorted keys and no whitespace. */
int flint_jwk_to_string(const struct flint_jwk *jwk, char **ret);

/* Constant meaning: the two keys are the same public key. */
bool flint_jwk_equal(const struct flint_jwk *a, const struct flint_jwk *b);

/* The JWS alg a key of this type signs with: RS256, ES256, ES384, ES512, EdDSA. */
const char *flint_jwk_alg(const struct flint_jwk *jwk);

/* The digest that alg hashes with for a key of this type: SHA-256 (RS256,
 * ES256), SHA-384 (ES384), SHA-512 (ES512); NULL for EdDSA, which hashes
 * internally. */
const EVP_MD *flint_jwk_type_md(enum flint_key_type type);

/* A new EVP_MD_CTX in *ret ready for EVP_DigestVerify (sign: EVP_DigestSign)
 * with jwk's key and digest: a copy of its template, or set up afresh. */
int flint_jwk_md_ctx(const struct flint_jwk *jwk, bool sign, EVP_MD_CTX **ret);

/* Public keys from their parts, as JWKs and CSRs carry them: RSA from n and
 * e; EC on group (OpenSSL's name, "prime256v1") from a SEC 1 point in any
 * form. FLINT_EINVAL when OpenSSL refuses them (a point off the curve). No
 * key policy: see flint_key_type_of. */
int flint_rsa_public_key(const BIGNUM *n, const BIGNUM *e, EVP_PKEY **ret);
int flint_ec_public_key(const char *group, const unsigned char *point, size_t len,
			EVP_PKEY **ret);

/* Classifies an OpenSSL key by the same policy as import (for CSR keys too). */
int flint_key_type_of(EVP_PKEY *pkey, enum flint_key_type *ret);

/* A second handle on the same key (a new reference on pkey, copies of the
 * rest), for a cache to hand out. */
int flint_jwk_dup(const struct flint_jwk *jwk, struct flint_jwk **ret);

void flint_jwk_free(struct flint_jwk *jwk);

#endif
