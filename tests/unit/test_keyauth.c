/* Unit tests for keyauth.c: key authorizations (RFC 8555 §8.1) with the
 * RFC 7638 §3.1 key, dns-01 digests (§8.4), token syntax (§8.3). */
#include <stdlib.h>
#include <string.h>

#include "b64.h"
#include "check.h"
#include "error.h"
#include "keyauth.h"

static const char rfc7638_n[] =
	"0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_"
	"BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_"
	"FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4v"
	"MQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw";

static void test_keyauth_rfc7638_key(void)
{
	json_t *j = json_pack("{s:s, s:s, s:s}", "kty", "RSA", "n", rfc7638_n, "e", "AQAB");
	struct flint_jwk *jwk = NULL;
	char *ka = NULL, *d64 = NULL;
	unsigned char d[32];

	CHECK_INT(flint_jwk_from_json(j, &jwk), 0);
	CHECK_INT(flint_keyauth("evaGxfADs6pSRb2LAv9IZf17Dt3juxGJ-PCt92wr-oA", jwk, &ka), 0);
	CHECK_STR(ka, "evaGxfADs6pSRb2LAv9IZf17Dt3juxGJ-PCt92wr-oA.NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs");
	CHECK_INT(flint_keyauth_digest_b64(ka, &d64), 0);
	CHECK(d64 && strlen(d64) == 43);
	CHECK_INT(flint_keyauth_digest(ka, d), 0);
	{
		char *again = NULL;
		CHECK_INT(flint_b64url_encode(d, 32, &again), 0);
		CHECK_STR(again, d64);
		free(again);
	}
	free(ka);
	free(d64);
	flint_jwk_free(jwk);
	json_decref(j);
}

static void test_digest_vector(void)
{
	char *d64 = NULL;
	/* SHA-256("abc") from FIPS 180-2, base64url. */
	CHECK_INT(flint_keyauth_digest_b64("abc", &d64), 0);
	CHECK_STR(d64, "ungWv48Bz-pBQUDeXa4iI7ADYaOWF3qctBD_YfIAFa0");
	free(d64);
}

static void test_tokens(void)
{
	char *t = NULL;
	char long_tok[200];

	CHECK_INT(flint_token_new(&t), 0);
	CHECK(t && strlen(t) == 43);
	CHECK(flint_token_is_valid(t));
	free(t);
	CHECK(flint_token_is_valid("evaGxfADs6pSRb2LAv9IZf17Dt3juxGJ-PCt92wr-oA"));
	CHECK(flint_token_is_valid("abcdefghijklmnopqrstuv"));   /* 22 */
	CHECK(!flint_token_is_valid("abcdefghijklmnopqrstu"));   /* 21 */
	CHECK(!flint_token_is_valid("abcdefghijklmnopqrstuv="));
	CHECK(!flint_token_is_valid("abcdefghijklmnopqrstuv/.."));
	CHECK(!flint_token_is_valid("../../../../etc/passwd/xx"));
	CHECK(!flint_token_is_valid(""));
	CHECK(!flint_token_is_valid(NULL));
	memset(long_tok, 'a', 129);
	long_tok[129] = '\0';
	CHECK(!flint_token_is_valid(long_tok));
	long_tok[128] = '\0';
	CHECK(flint_token_is_valid(long_tok));
}

int main(void)
{
	RUN(test_keyauth_rfc7638_key);
	RUN(test_digest_vector);
	RUN(test_tokens);
	return CHECK_DONE();
}
