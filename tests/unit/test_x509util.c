/* Unit tests for x509util.c: subjectAltName entries for identifiers, DER
 * encoding into malloc'd memory, ASN1_TIME to Unix seconds. */
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "error.h"
#include "jwk.h"
#include "x509util.h"

static void check_ia5(const GENERAL_NAME *g, int type, const char *want)
{
	const ASN1_IA5STRING *s = g ? g->d.ia5 : NULL;

	CHECK(g != NULL);
	if (!g)
		return;
	CHECK_INT(g->type, type);
	CHECK_INT(ASN1_STRING_length(s), strlen(want));
	CHECK(memcmp(ASN1_STRING_get0_data(s), want, strlen(want)) == 0);
}

static void check_ip(const char *value, const unsigned char *want, int len)
{
	GENERAL_NAME *g = NULL;

	CHECK_INT(flint_general_name_of("ip", value, &g), 0);
	CHECK(g && g->type == GEN_IPADD);
	if (g && g->type == GEN_IPADD) {
		CHECK_INT(ASN1_STRING_length(g->d.iPAddress), len);
		CHECK(memcmp(ASN1_STRING_get0_data(g->d.iPAddress), want, (size_t)len) == 0);
	}
	GENERAL_NAME_free(g);
}

static void test_general_names(void)
{
	static const unsigned char v4[] = {192, 0, 2, 7};
	static const unsigned char v6[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 1};
	GENERAL_NAME *g = NULL, *untouched = (GENERAL_NAME *)&g;

	CHECK_INT(flint_general_name_of("dns", "a.example.com", &g), 0);
	check_ia5(g, GEN_DNS, "a.example.com");
	GENERAL_NAME_free(g);
	g = NULL;
	CHECK_INT(flint_general_name_ia5(GEN_URI, "http://ca.example/crl", &g), 0);
	check_ia5(g, GEN_URI, "http://ca.example/crl");
	GENERAL_NAME_free(g);
	check_ip("192.0.2.7", v4, 4);
	check_ip("2001:db8::1", v6, 16);

	g = untouched;
	CHECK_INT(flint_general_name_of("ip", "192.0.2.300", &g), FLINT_EINVAL);
	CHECK_INT(flint_general_name_of("ip", "a.example.com", &g), FLINT_EINVAL);
	CHECK_INT(flint_general_name_of("dns", "", &g), FLINT_EINVAL);
	CHECK_INT(flint_general_name_of("dns", NULL, &g), FLINT_EINVAL);
	CHECK_INT(flint_general_name_of(NULL, "a.example.com", &g), FLINT_EINVAL);
	CHECK_INT(flint_general_name_of("email", "a@example.com", &g), FLINT_EUNSUPPORTED);
	CHECK_INT(flint_general_name_of("DNS", "a.example.com", &g), FLINT_EUNSUPPORTED);
	CHECK(g == untouched);
}

static void test_der_and_time(void)
{
	X509 *x = X509_new(), *back = NULL;
	EVP_PKEY *key = NULL;
	unsigned char *der = NULL, *want = NULL;
	const unsigned char *p;
	size_t len = 0;
	int64_t t = 0;
	int want_len;

	CHECK(x != NULL);
	if (!x)
		return;
	CHECK(ASN1_TIME_set(X509_getm_notBefore(x), 86400) != NULL);
	CHECK(ASN1_TIME_set(X509_getm_notAfter(x), 4102444800) != NULL); /* 2100-01-01 */
	CHECK_INT(flint_asn1_time_unix(X509_get0_notBefore(x), &t), 0);
	CHECK_INT(t, 86400);
	CHECK_INT(flint_asn1_time_unix(X509_get0_notAfter(x), &t), 0);
	CHECK_INT(t, 4102444800);
	t = 7;
	CHECK_INT(flint_asn1_time_unix(NULL, &t), FLINT_EINVAL);
	CHECK_INT(t, 7);

	/* an unsigned certificate does not encode: outputs untouched */
	der = (unsigned char *)"untouched";
	len = 3;
	CHECK_INT(flint_der_encode((const ASN1_VALUE *)x, ASN1_ITEM_rptr(X509), &der, &len),
		  FLINT_ECRYPTO);
	CHECK(der && strcmp((const char *)der, "untouched") == 0 && len == 3);
	der = NULL;

	/* a signed certificate: the same bytes as i2d_X509, in memory the caller
	 * frees with free() */
	CHECK_INT(flint_key_generate(FLINT_KEY_P256, 0, &key), 0);
	CHECK(X509_set_pubkey(x, key) == 1 && X509_sign(x, key, EVP_sha256()) > 0);
	CHECK_INT(flint_der_encode((const ASN1_VALUE *)x, ASN1_ITEM_rptr(X509), &der, &len), 0);
	want_len = i2d_X509(x, &want);
	CHECK(want_len > 0 && (size_t)want_len == len);
	CHECK(der && want && want_len > 0 && memcmp(der, want, len) == 0);
	p = der;
	back = d2i_X509(NULL, &p, (long)len);
	CHECK(back != NULL && p == der + len);
	X509_free(back);
	OPENSSL_free(want);
	free(der);
	X509_free(x);
	EVP_PKEY_free(key);
}

static X509_PUBKEY *spki_of(EVP_PKEY *key)
{
	X509_PUBKEY *pk = NULL;

	return X509_PUBKEY_set(&pk, key) == 1 ? pk : NULL;
}

/* flint_spki_holds: by bytes for EC points and Ed25519 keys, by decoding
 * otherwise; never "yes" for another key, type or curve. */
static void test_spki_holds(void)
{
	EVP_PKEY *keys[] = {EVP_EC_gen("P-256"), EVP_EC_gen("P-384"), EVP_RSA_gen(2048),
			    EVP_PKEY_Q_keygen(NULL, NULL, "ED25519"), EVP_EC_gen("P-256")};
	size_t n = sizeof(keys) / sizeof(keys[0]);
	EVP_PKEY *packed = keys[0] ? EVP_PKEY_dup(keys[0]) : NULL;

	for (size_t i = 0; i < n; i++) {
		X509_PUBKEY *spki = keys[i] ? spki_of(keys[i]) : NULL;

		CHECK(spki != NULL);
		for (size_t j = 0; spki && j < n; j++)
			CHECK_INT(flint_spki_holds(spki, keys[j]), i == j);
		X509_PUBKEY_free(spki);
	}
	/* a compressed point: decoded, then compared */
	CHECK(packed && EVP_PKEY_set_utf8_string_param(packed, "point-format", "compressed"));
	X509_PUBKEY *small = packed ? spki_of(packed) : NULL;
	CHECK_INT(flint_spki_holds(small, keys[0]), 1);
	CHECK_INT(flint_spki_holds(small, keys[4]), 0);
	X509_PUBKEY_free(small);

	/* a point off the curve, with the bytes of no key */
	X509_PUBKEY *bad = keys[0] ? spki_of(keys[0]) : NULL;
	const unsigned char *bits = NULL;
	X509_ALGOR *alg = NULL;
	int len = 0;
	if (bad && X509_PUBKEY_get0_param(NULL, &bits, &len, &alg, bad) == 1 && len == 65) {
		unsigned char off[65];
		X509_PUBKEY *spki = X509_PUBKEY_new();

		memcpy(off, bits, sizeof(off));
		off[64] ^= 1;
		CHECK(spki && flint_spki_set(spki, alg, off, (int)sizeof(off)) == 0);
		CHECK_INT(flint_spki_holds(spki, keys[0]), FLINT_EINVAL);
		X509_PUBKEY_free(spki);
	}
	X509_PUBKEY_free(bad);
	CHECK_INT(flint_spki_holds(NULL, keys[0]), FLINT_EINVAL);
	EVP_PKEY_free(packed);
	for (size_t i = 0; i < n; i++)
		EVP_PKEY_free(keys[i]);
}

/* flint_spki_of_key: the very DER OpenSSL's encoder writes, for every key
 * it takes; RSA is left to the encoder. */
static void test_spki_of_key(void)
{
	EVP_PKEY *keys[] = {EVP_EC_gen("P-256"), EVP_EC_gen("P-384"), EVP_EC_gen("P-521"),
			    EVP_PKEY_Q_keygen(NULL, NULL, "ED25519"), EVP_EC_gen("P-256")};
	size_t n = sizeof(keys) / sizeof(keys[0]);
	EVP_PKEY *rsa = EVP_RSA_gen(2048);

	/* the last one encodes its point compressed: left to the encoder */
	CHECK(keys[n - 1] &&
	      EVP_PKEY_set_utf8_string_param(keys[n - 1], "point-format", "compressed"));
	for (size_t i = 0; i < n; i++) {
		X509_PUBKEY *mine = X509_PUBKEY_new(), *theirs = keys[i] ? spki_of(keys[i]) : NULL;
		unsigned char *a = NULL, *b = NULL;
		int alen, blen;

		CHECK(mine && theirs);
		if (i == n - 1) {
			CHECK_INT(flint_spki_of_key(mine, keys[i]), FLINT_EUNSUPPORTED);
			X509_PUBKEY_free(mine);
			mine = spki_of(keys[i]);
		} else {
			CHECK_INT(flint_spki_of_key(mine, keys[i]), 0);
		}
		alen = mine ? i2d_X509_PUBKEY(mine, &a) : -1;
		blen = theirs ? i2d_X509_PUBKEY(theirs, &b) : -1;
		CHECK(alen > 0 && alen == blen && memcmp(a, b, (size_t)alen) == 0);
		CHECK_INT(flint_spki_holds(mine, keys[i]), 1);
		CHECK_INT(flint_spki_holds(mine, keys[(i + 1) % n]), 0);
		OPENSSL_free(a);
		OPENSSL_free(b);
		X509_PUBKEY_free(mine);
		X509_PUBKEY_free(theirs);
	}
	X509_PUBKEY *pk = X509_PUBKEY_new();
	CHECK(rsa && pk);
	CHECK_INT(flint_spki_of_key(pk, rsa), FLINT_EUNSUPPORTED);
	CHECK_INT(flint_spki_of_key(NULL, keys[0]), FLINT_EINVAL);
	CHECK_INT(flint_spki_of_key(pk, NULL), FLINT_EINVAL);
	X509_PUBKEY_free(pk);
	EVP_PKEY_free(rsa);
	for (size_t i = 0; i < n; i++)
		EVP_PKEY_free(keys[i]);
}

int main(void)
{
	RUN(test_general_names);
	RUN(test_der_and_time);
	RUN(test_spki_holds);
	RUN(test_spki_of_key);
	return CHECK_DONE();
}
