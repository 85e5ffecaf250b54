/* Unit tests for jwk.c: RFC 7638 §3.1 and RFC 8037 A.3 thumbprints, import
 * rules (RFC 7518 §6, RFC 8037 §2) and the key policy, generation. */
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <stdlib.h>
#include <string.h>

#include "b64.h"
#include "check.h"
#include "error.h"
#include "jwk.h"

static const char rfc7638_n[] =
	"0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_"
	"BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_"
	"FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4v"
	"MQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw";
/* RFC 7515 A.3.1 P-256 key. */
static const char a3_x[] = "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU";
static const char a3_y[] = "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0";
/* RFC 8037 A.2 Ed25519 public key. */
static const char ed_x[] = "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo";

static int import_str(const char *text, struct flint_jwk **ret)
{
	json_t *j = json_loads(text, JSON_REJECT_DUPLICATES, NULL);
	int r = j ? flint_jwk_from_json(j, ret) : -100;
	json_decref(j);
	return r;
}

static void test_rfc7638_thumbprint(void)
{
	/* The RFC's example carries alg and kid, which must not change the digest. */
	json_t *j = json_pack("{s:s, s:s, s:s, s:s, s:s}", "kty", "RSA", "n", rfc7638_n, "e", "AQAB",
			      "alg", "RS256", "kid", "2011-04-29");
	struct flint_jwk *jwk = NULL;
	char *s = NULL;

	CHECK_INT(flint_jwk_from_json(j, &jwk), 0);
	CHECK(jwk && jwk->type == FLINT_KEY_RSA);
	CHECK_STR(jwk ? jwk->thumbprint : NULL, "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs");
	CHECK_STR(flint_jwk_alg(jwk), "RS256");
	CHECK_INT(flint_jwk_to_string(jwk, &s), 0);
	CHECK(s && strncmp(s, "{\"e\":\"AQAB\",\"kty\":\"RSA\",\"n\":\"0vx7", 33) == 0);
	CHECK(s && strchr(s, ' ') == NULL && strstr(s, "kid") == NULL);
	free(s);
	flint_jwk_free(jwk);
	json_decref(j);
}

static void test_rfc8037_thumbprint(void)
{
	struct flint_jwk *jwk = NULL;
	char text[256], *s = NULL;

	snprintf(text, sizeof(text), "{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"x\":\"%s\"}", ed_x);
	CHECK_INT(import_str(text, &jwk), 0);
	CHECK(jwk && jwk->type == FLINT_KEY_ED25519);
	CHECK_STR(jwk ? jwk->thumbprint : NULL, "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k");
	CHECK_STR(flint_jwk_alg(jwk), "EdDSA");
	CHECK_INT(flint_jwk_to_string(jwk, &s), 0);
	snprintf(text, sizeof(text), "{\"crv\":\"Ed25519\",\"kty\":\"OKP\",\"x\":\"%s\"}", ed_x);
	CHECK_STR(s, text);
	free(s);
	flint_jwk_free(jwk);
}

static void test_ec_import(void)
{
	struct flint_jwk *a = NULL, *b = NULL;
	char text[256], *s = NULL;

	snprintf(text, sizeof(text), "{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"%s\",\"y\":\"%s\",\"use\":\"sig\"}",
		 a3_x, a3_y);
	CHECK_INT(import_str(text, &a), 0);
	CHECK(a && a->type == FLINT_KEY_P256);
	CHECK_STR(flint_jwk_alg(a), "ES256");
	CHECK_INT(flint_jwk_to_string(a, &s), 0);
	snprintf(text, sizeof(text), "{\"crv\":\"P-256\",\"kty\":\"EC\",\"x\":\"%s\",\"y\":\"%s\"}", a3_x, a3_y);
	CHECK_STR(s, text);
	CHECK_INT(import_str(s, &b), 0);
	CHECK(flint_jwk_equal(a, b));
	CHECK_STR(b ? b->thumbprint : NULL, a ? a->thumbprint : NULL);
	free(s);
	flint_jwk_free(a);
	flint_jwk_free(b);
}

static char *b64_of_bn(const BIGNUM *bn, int pad_zero)
{
	int n = BN_num_bytes(bn);
	unsigned char *buf = calloc(1, (size_t)n + 1);
	char *s = NULL;
	BN_bn2bin(bn, buf + pad_zero);
	flint_b64url_encode(buf, (size_t)n + (size_t)pad_zero, &s);
	free(buf);
	return s;
}

/* RSA JWK text for a freshly generated key of the given size. */
static char *rsa_jwk_text(int bits, int pad_zero, const char *e_override)
{
	EVP_PKEY *pk = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)bits);
	BIGNUM *n = NULL, *e = NULL;
	char *ns, *es, *out = NULL;

	EVP_PKEY_get_bn_param(pk, OSSL_PKEY_PARAM_RSA_N, &n);
	EVP_PKEY_get_bn_param(pk, OSSL_PKEY_PARAM_RSA_E, &e);
	ns = b64_of_bn(n, pad_zero);
	es = b64_of_bn(e, 0);
	if (asprintf(&out, "{\"kty\":\"RSA\",\"n\":\"%s\",\"e\":\"%s\"}", ns,
		     e_override ? e_override : es) < 0)
		out = NULL;
	free(ns);
	free(es);
	BN_free(n);
	BN_free(e);
	EVP_PKEY_free(pk);
	return out;
}

static void test_rsa_policy(void)
{
	struct flint_jwk *jwk = NULL, *canon = NULL;
	char *t, *s = NULL;

	t = rsa_jwk_text(1024, 0, NULL);
	CHECK_INT(import_str(t, &jwk), FLINT_EBADKEY);
	CHECK(jwk == NULL);
	free(t);

	t = rsa_jwk_text(2048, 0, "Aw"); /* e = 3 */
	CHECK_INT(import_str(t, &jwk), FLINT_EBADKEY);
	free(t);
	t = rsa_jwk_text(2048, 0, "AQAA"); /* e = 65536, even */
	CHECK_INT(import_str(t, &jwk), FLINT_EBADKEY);
	free(t);

	/* A leading zero octet on n is accepted and canonicalised on export. */
	t = rsa_jwk_text(2048, 1, NULL);
	CHECK_INT(import_str(t, &jwk), 0);
	CHECK_INT(flint_jwk_to_string(jwk, &s), 0);
	CHECK(s && strlen(s) < strlen(t));
	CHECK_INT(import_str(s, &canon), 0);
	CHECK(flint_jwk_equal(jwk, canon));
	free(s);
	free(t);
	flint_jwk_free(jwk);
	flint_jwk_free(canon);
}

static void test_rejects(void)
{
	static const struct {
		const char *text;
		int err;
	} v[] = {
		{"{}", FLINT_EINVAL},
		{"{\"kty\":5}", FLINT_EINVAL},
		{"{\"kty\":\"oct\",\"k\":\"AAAA\"}", FLINT_EBADKEY},
		{"{\"kty\":\"RSA\",\"e\":\"AQAB\"}", FLINT_EINVAL},
		{"{\"kty\":\"RSA\",\"n\":\"AQAB\",\"e\":\"AQAB\"}", FLINT_EBADKEY},
		{"{\"kty\":\"EC\",\"crv\":\"P-192\",\"x\":\"AA\",\"y\":\"AA\"}", FLINT_EBADKEY},
		{"{\"kty\":\"EC\",\"crv\":\"secp256k1\",\"x\":\"AA\",\"y\":\"AA\"}", FLINT_EBADKEY},
		{"{\"kty\":\"EC\",\"x\":\"AA\",\"y\":\"AA\"}", FLINT_EINVAL},
		{"{\"kty\":\"OKP\",\"crv\":\"X25519\",\"x\":\"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo\"}", FLINT_EBADKEY},
		{"{\"kty\":\"OKP\",\"crv\":\"P-256\",\"x\":\"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo\"}", FLINT_EBADKEY},
		{"{\"kty\":\"EC\",\"crv\":\"Ed25519\",\"x\":\"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo\"}", FLINT_EBADKEY},
		{"{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"x\":\"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHUR\"}", FLINT_EINVAL},
		{"{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"x\":\"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo=\"}", FLINT_EINVAL},
		{"{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"x\":\"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo\",\"d\":\"nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A\"}", FLINT_EINVAL},
		/* EC coordinate one byte short (31 bytes). */
		{"{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU\",\"y\":\"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0\"}", FLINT_EINVAL},
		/* Point not on the curve: y's last byte changed. */
		{"{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU\",\"y\":\"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a4\"}", FLINT_EINVAL},
		/* All-zero point. */
		{"{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\",\"y\":\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\"}", FLINT_EINVAL},
		/* Coordinate >= p (all ones). */
		{"{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"__________________________________________8\",\"y\":\"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0\"}", FLINT_EINVAL},
		/* Standard-alphabet base64 in x. */
		{"{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU+\",\"y\":\"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0\"}", FLINT_EINVAL},
	};
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		struct flint_jwk *jwk = NULL;
		int r = import_str(v[i].text, &jwk);
		CHECK_INT(r, v[i].err);
		if (r != v[i].err)
			fprintf(stderr, "  case %zu: %s\n", i, v[i].text);
		CHECK(jwk == NULL);
		flint_jwk_free(jwk);
	}
	{
		struct flint_jwk *jwk = NULL;
		json_t *arr = json_array();
		CHECK_INT(flint_jwk_from_json(arr, &jwk), FLINT_EINVAL);
		CHECK_INT(flint_jwk_from_json(NULL, &jwk), FLINT_EINVAL);
		json_decref(arr);
	}
}

static void test_generate_roundtrip(void)
{
	static const struct {
		enum flint_key_type t;
		const char *alg;
	} v[] = {
		{FLINT_KEY_RSA, "RS256"}, {FLINT_KEY_P256, "ES256"}, {FLINT_KEY_P384, "ES384"},
		{FLINT_KEY_P521, "ES512"}, {FLINT_KEY_ED25519, "EdDSA"},
	};
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		struct flint_jwk *priv = NULL, *pub = NULL, *wrapped = NULL, *other = NULL;
		char *s = NULL;

		CHECK_INT(flint_jwk_generate(v[i].t, 2048, &priv), 0);
		if (!priv)
			continue;
		CHECK_STR(flint_jwk_alg(priv), v[i].alg);
		CHECK_INT(flint_jwk_to_string(priv, &s), 0);
		CHECK(s && strstr(s, "\"d\"") == NULL);
		CHECK_INT(import_str(s, &pub), 0);
		CHECK(flint_jwk_equal(priv, pub));
		CHECK_INT(flint_jwk_from_pkey(priv->pkey, &wrapped), 0);
		CHECK(flint_jwk_equal(priv, wrapped));
		{
			/* a duplicate outlives the original and is the same key */
			struct flint_jwk *dup = NULL;
			char *ds = NULL;

			CHECK_INT(flint_jwk_dup(pub, &dup), 0);
			flint_jwk_free(pub);
			pub = NULL;
			if (dup) {
				CHECK(flint_jwk_equal(priv, dup));
				CHECK_STR(dup->thumbprint, priv->thumbprint);
				CHECK_STR(flint_jwk_alg(dup), v[i].alg);
				CHECK_INT(flint_jwk_to_string(dup, &ds), 0);
				CHECK(ds && s && !strcmp(ds, s));
			}
			free(ds);
			pub = dup;
		}
		CHECK_INT(flint_jwk_generate(v[i].t, 2048, &other), 0);
		CHECK(!flint_jwk_equal(priv, other));
		free(s);
		flint_jwk_free(priv);
		flint_jwk_free(pub);
		flint_jwk_free(wrapped);
		flint_jwk_free(other);
	}
	{
		struct flint_jwk *jwk = NULL;
		CHECK_INT(flint_jwk_generate(FLINT_KEY_RSA, 1024, &jwk), FLINT_EBADKEY);
		CHECK(jwk == NULL);
	}
	CHECK(!flint_jwk_equal(NULL, NULL));
	flint_jwk_free(NULL);
}

static void test_key_type_of(void)
{
	EVP_PKEY *k;
	enum flint_key_type t = FLINT_KEY_P384;

	k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "secp256k1");
	CHECK_INT(flint_key_type_of(k, &t), FLINT_EBADKEY);
	CHECK_INT(t, FLINT_KEY_P384);
	EVP_PKEY_free(k);
	k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "brainpoolP256r1");
	CHECK_INT(flint_key_type_of(k, &t), FLINT_EBADKEY);
	EVP_PKEY_free(k);
	k = EVP_PKEY_Q_keygen(NULL, NULL, "ED448");
	CHECK_INT(flint_key_type_of(k, &t), FLINT_EBADKEY);
	EVP_PKEY_free(k);
	k = EVP_PKEY_Q_keygen(NULL, NULL, "X25519");
	CHECK_INT(flint_key_type_of(k, &t), FLINT_EBADKEY);
	EVP_PKEY_free(k);
	k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384");
	CHECK_INT(flint_key_type_of(k, &t), 0);
	CHECK_INT(t, FLINT_KEY_P384);
	EVP_PKEY_free(k);
	k = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)1024);
	CHECK_INT(flint_key_type_of(k, &t), FLINT_EBADKEY);
	EVP_PKEY_free(k);
}

int main(void)
{
	RUN(test_rfc7638_thumbprint);
	RUN(test_rfc8037_thumbprint);
	RUN(test_ec_import);
	RUN(test_rsa_policy);
	RUN(test_rejects);
	RUN(test_generate_roundtrip);
	RUN(test_key_type_of);
	return CHECK_DONE();
}
