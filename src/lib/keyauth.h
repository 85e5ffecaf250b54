/* Key authorizations (RFC 8555 §8.1) and the digests challenge types carry
 * (dns-01 §8.4; tls-alpn-01 RFC 8737 uses the raw digest). */
#ifndef FLINT_KEYAUTH_H
#define FLINT_KEYAUTH_H

#include <stdbool.h>
#include <stddef.h>
#include "jwk.h"

#define FLINT_TOKEN_BYTES 32

/* token "." thumbprint(jwk) */
int flint_keyauth(const char *token, const struct flint_jwk *jwk, char **ret);
/* base64url(SHA-256(keyauth)): the dns-01 TXT value */
int flint_keyauth_digest_b64(const char *keyauth, char **ret);
/* raw SHA-256(keyauth) into out[32] */
int flint_keyauth_digest(const char *keyauth, unsigned char out[32]);
/* A token: base64url alphabet only, at least 22 characters (128 bits), at most 128. */
bool flint_token_is_valid(const char *token);
/* A fresh token of FLINT_TOKEN_BYTES random bytes. */
int flint_token_new(char **ret);

#endif
