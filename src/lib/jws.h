/* Flattened JSON JWS (RFC 7515 §7.2.2) with the ACME rules of RFC 8555 §6.2:
 * parse, verify and sign. */
#ifndef FLINT_JWS_H
#define FLINT_JWS_H

#include <stdbool.h>
#include <stddef.h>
#include "jwk.h"
#include "problem.h"

#define FLINT_JWS_MAX_BODY (256 * 1024)

enum flint_jws_mode {
	/* A request body: nonce and url required, exactly one of jwk/kid. */
	FLINT_JWS_REQUEST,
	/* keyChange inner JWS (§7.3.5): jwk required, kid and nonce forbidden, url required. */
	FLINT_JWS_INNER_KEYCHANGE,
	/* externalAccountBinding of newAccount (§7.3.4): alg HS256, HS384 or
	 * HS512 only, kid and url required, jwk and nonce forbidden. Verify it
	 * with flint_jws_verify_hmac, never flint_jws_verify. */
	FLINT_JWS_EAB,
};

struct flint_jws {
	char *alg;
	char *nonce; /* NULL when absent (inner JWS) */
	char *url;
	char *kid;            /* exactly one of kid and jwk is set */
	struct flint_jwk *jwk;
	char *payload;        /* decoded payload, NUL-terminated */
	size_t payload_len;
	bool post_as_get;     /* the payload field was the empty string */
	char *signing_input;  /* "<protected>.<payload>" as received */
	unsigned char *signature;
	size_t signature_len;
};

/* Parses a request body. Enforces: a JSON object with exactly "protected",
 * "payload", "signature" (no "header", no "signatures"); base64url without
 * padding; a protected header object with a string alg that is one of RS256,
 * ES256, ES384, ES512, EdDSA ("none" and HS* -> badSignatureAlgorithm with an
 * "algorithms" member), no "b64":false, no "crit"; nonce/url/kid/jwk rules
 * per mode; the jwk imports (badPublicKey otherwise) and matches alg.
 * FLINT_JWS_EAB takes HS256/HS384/HS512 instead (malformed otherwise).
 * On failure returns a negative code and, when ret_problem is non-NULL, a
 * problem (malformed, badSignatureAlgorithm, badPublicKey). */
int flint_jws_parse(const char *body, size_t len, enum flint_jws_mode mode,
		    struct flint_jws **ret, struct flint_problem **ret_problem);

/* Verifies the signature with key (the embedded jwk or the account's). The
 * alg must suit the key type (badSignatureAlgorithm otherwise); ECDSA
 * signatures must be raw r||s of exactly 2*field bytes. FLINT_EBADSIG and a
 * malformed problem when the signature does not verify. */
int flint_jws_verify(const struct flint_jws *jws, const struct flint_jwk *key,
		     struct flint_problem **ret_problem);

/* Signs payload (NULL or "" gives a POST-as-GET) into a flattened JWS JSON
 * string. kid NULL embeds key's public jwk. nonce may be NULL (inner JWS). */
int flint_jws_sign(const struct flint_jwk *key, const char *kid, const char *nonce,
		   const char *url, const char *payload, char **ret);

/* The signature of a JWS signing input with key's private half and the
 * digest of its JWS alg, as EVP_DigestSign makes it (DER for ECDSA; *ret
 * malloc'd). What a key process runs for a flint_jwk whose sign hook it is. */
int flint_jws_sign_input(const struct flint_jwk *key, const unsigned char *in, size_t len,
			 unsigned char **ret, size_t *ret_len);

/* The MAC-signed inner JWS of external account binding (RFC 8555 §7.3.4):
 * protected {"alg": alg, "kid": kid, "url": url} (no nonce), payload as given
 * (the account's public JWK), signature HMAC over the signing input with key.
 * alg is HS256, HS384 or HS512 (FLINT_EINVAL otherwise; key_len must be > 0).
 * This is the only MAC JWS libflint makes; flint_jws_parse/verify keep
 * refusing MAC algorithms for requests (§6.2). */
int flint_jws_sign_hmac(const char *alg, const char *kid, const char *url,
			const unsigned char *key, size_t key_len, const char *payload, char **ret);

/* Verifies the MAC of a FLINT_JWS_EAB JWS with key (key_len > 0 bytes) in
 * constant time. FLINT_EBADSIG and an unauthorized problem when it does not
 * verify; FLINT_EUNSUPPORTED (malformed) when jws->alg is not HS256/384/512. */
int flint_jws_verify_hmac(const struct flint_jws *jws, const unsigned char *key, size_t key_len,
			  struct flint_problem **ret_problem);

void flint_jws_free(struct flint_jws *jws);

#endif
