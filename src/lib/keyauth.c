/* Key authorizations (RFC 8555 §8.1) and their SHA-256 digests as dns-01
 * (RFC 8555 §8.4) and tls-alpn-01 (RFC 8737 §3) carry them. */
#include "keyauth.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "b64.h"
#include "digest.h"
#include "error.h"

int flint_keyauth(const char *token, const struct flint_jwk *jwk, char **ret)
{
	char *s = NULL;

	if (!token || !jwk || !jwk->thumbprint || !ret)
		return FLINT_EINVAL;
	if (asprintf(&s, "%s.%s", token, jwk->thumbprint) < 0)
		return FLINT_ENOMEM;
	*ret = s;
	return 0;
}

int flint_keyauth_digest(const char *keyauth, unsigned char out[32])
{
	unsigned int n = 0;

	if (!keyauth || !out)
		return FLINT_EINVAL;
	if (EVP_Digest(keyauth, strlen(keyauth), out, &n, flint_md(FLINT_MD_SHA256), NULL) != 1 || n != 32)
		return FLINT_ECRYPTO;
	return 0;
}

int flint_keyauth_digest_b64(const char *keyauth, char **ret)
{
	unsigned char d[32];
	int r;

	if (!ret)
		return FLINT_EINVAL;
	r = flint_keyauth_digest(keyauth, d);
	if (r < 0)
		return r;
	return flint_b64url_encode(d, sizeof(d), ret);
}

bool flint_token_is_valid(const char *token)
{
	size_t n;

	if (!token)
		return false;
	n = strspn(token, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_");
	return token[n] == '\0' && n >= 22 && n <= 128;
}

int flint_token_new(char **ret)
{
	return flint_random_b64url(FLINT_TOKEN_BYTES, ret);
}
