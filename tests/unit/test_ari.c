/* Unit tests for the RFC 9773 certID (lib/ari.c): the self-checked vector of
 * the spec digest §0, real certificates built here, and refusals. */
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/x509v3.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ari.h"
#include "check.h"
#include "error.h"

static const uint8_t vec_kid[] = {0x69, 0x88, 0x5B, 0x6B, 0x87, 0x46, 0x40, 0x41, 0xE1, 0xB3,
				  0x7B, 0x84, 0x7B, 0xA0, 0xAE, 0x2C, 0xDE, 0x01, 0xC8, 0xD4};
static const char *vec_id = "aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE";

static void test_vector_raw(void)
{
	static const uint8_t serial[] = {0x00, 0x87, 0x65, 0x43, 0x21};
	char *id = NULL;

	CHECK_INT(flint_ari_cert_id_raw(vec_kid, sizeof(vec_kid), serial, sizeof(serial), &id), 0);
	CHECK_STR(id, vec_id);
	free(id);
	id = NULL;
	CHECK_INT(flint_ari_cert_id_raw(vec_kid, 0, serial, sizeof(serial), &id), FLINT_EINVAL);
	CHECK_INT(flint_ari_cert_id_raw(vec_kid, sizeof(vec_kid), serial, 0, &id), FLINT_EINVAL);
	CHECK(id == NULL);
}

/* A signed certificate with the given serial and, when kid is non-NULL, an
 * AKI carrying it. */
static X509 *make_cert(const char *serial_hex, const uint8_t *kid, size_t kid_len)
{
	EVP_PKEY *key = EVP_EC_gen("P-256");
	X509 *x = X509_new();
	BIGNUM *bn = NULL;
	ASN1_INTEGER *sn = NULL;

	if (!key || !x || !BN_hex2bn(&bn, serial_hex) || !(sn = BN_to_ASN1_INTEGER(bn, NULL)))
		goto fail;
	X509_set_version(x, 2);
	X509_set_serialNumber(x, sn);
	X509_gmtime_adj(X509_getm_notBefore(x), 0);
	X509_gmtime_adj(X509_getm_notAfter(x), 86400);
	X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_ASC,
				   (const unsigned char *)"ari.test", -1, -1, 0);
	X509_set_issuer_name(x, X509_get_subject_name(x));
	X509_set_pubkey(x, key);
	if (kid) {
		AUTHORITY_KEYID *akid = AUTHORITY_KEYID_new();

		akid->keyid = ASN1_OCTET_STRING_new();
		ASN1_OCTET_STRING_set(akid->keyid, kid, (int)kid_len);
		X509_add1_ext_i2d(x, NID_authority_key_identifier, akid, 0, X509V3_ADD_DEFAULT);
		AUTHORITY_KEYID_free(akid);
	}
	if (!X509_sign(x, key, EVP_sha256()))
		goto fail;
	/* round trip through DER: a certificate as a parser sees it */
	{
		unsigned char *der = NULL;
		const unsigned char *p;
		int n = i2d_X509(x, &der);
		X509 *y;

		p = der;
		y = n > 0 ? d2i_X509(NULL, &p, n) : NULL;
		OPENSSL_free(der);
		X509_free(x);
		x = y;
	}
	BN_free(bn);
	ASN1_INTEGER_free(sn);
	EVP_PKEY_free(key);
	return x;
fail:
	BN_free(bn);
	ASN1_INTEGER_free(sn);
	EVP_PKEY_free(key);
	X509_free(x);
	return NULL;
}

static void test_vector_cert(void)
{
	X509 *x = make_cert("87654321", vec_kid, sizeof(vec_kid));
	char *id = NULL;

	CHECK(x != NULL);
	/* 0x87654321 has its top bit set: DER prepends 0x00, which certID keeps */
	CHECK_INT(flint_ari_cert_id(x, &id), 0);
	CHECK_STR(id, vec_id);
	free(id);
	X509_free(x);
}

static void test_no_leading_zero(void)
{
	static const uint8_t kid[] = {0x01, 0x02, 0x03};
	X509 *x = make_cert("7F0102", kid, sizeof(kid));
	char *id = NULL;

	CHECK_INT(flint_ari_cert_id(x, &id), 0);
	CHECK_STR(id, "AQID.fwEC"); /* 010203 . 7f0102 */
	free(id);
	X509_free(x);
}

/* A 20-octet serial (the CA/B maximum) with its top bit set: 21 content octets. */
static void test_long_serial(void)
{
	static const uint8_t kid[] = {0xff};
	X509 *x = make_cert("FF00000000000000000000000000000000000001", kid, sizeof(kid));
	char *id = NULL;

	CHECK_INT(flint_ari_cert_id(x, &id), 0);
	CHECK_STR(id, "_w.AP8AAAAAAAAAAAAAAAAAAAAAAAAB"); /* 00 ff 00*18 01 */
	free(id);
	X509_free(x);
}

static void test_refusals(void)
{
	X509 *x = make_cert("01", NULL, 0);
	char *id = (char *)"untouched";

	CHECK_INT(flint_ari_cert_id(x, &id), FLINT_EINVAL); /* no AKI */
	CHECK_STR(id, "untouched");
	CHECK_INT(flint_ari_cert_id(NULL, &id), FLINT_EINVAL);
	X509_free(x);
}

/* Parsing a received certID: the vector round-trips; hostile forms fail
 * and leave the outputs alone. */
static void test_parse(void)
{
	static const char *const bad[] = {
		"",
		".",
		"aYhba4dGQEHhs3uEe6CuLN4ByNQ",              /* no serial */
		"aYhba4dGQEHhs3uEe6CuLN4ByNQ.",             /* empty serial */
		".AIdlQyE",                                 /* empty key id */
		"aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE.AA",   /* two dots */
		"aYhba4dGQEHhs3uEe6CuLN4ByNQ=.AIdlQyE",     /* padding */
		"aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE=",     /* padding */
		"aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdl+yE",      /* base64, not base64url */
		"aYhba4dGQEHhs3uEe6CuLN4ByNR.AIdlQyE",      /* non-canonical trailing bits */
		"aYhba4dGQEHhs3uEe6CuLN4ByNQ.h2VDIQ",       /* negative serial (0x87 first) */
		"aYhba4dGQEHhs3uEe6CuLN4ByNQ.AAFlQyE",      /* 0x00 before a low octet: not minimal */
		"aYhba4dGQEHhs3uEe6CuLN4ByNQ.AA",           /* serial zero */
		"aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdl QyE",     /* space */
		"aYhba4dGQEHhs3uEe6CuLN4ByNQ.AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQ", /* 22-octet serial */
	};
	static uint8_t sentinel_k[1], sentinel_s[1];
	uint8_t *kid = sentinel_k, *serial = sentinel_s;
	size_t kid_len = 7, serial_len = 7;
	char *hex = NULL;

	CHECK_INT(flint_ari_cert_id_parse(vec_id, &kid, &kid_len, &serial, &serial_len), 0);
	CHECK_INT(kid_len, sizeof(vec_kid));
	CHECK(kid_len == sizeof(vec_kid) && memcmp(kid, vec_kid, kid_len) == 0);
	CHECK_INT(serial_len, 5);
	CHECK_INT(flint_ari_serial_hex(serial, serial_len, &hex), 0);
	CHECK_STR(hex, "87654321");
	free(hex);
	free(kid);
	free(serial);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		kid = sentinel_k;
		serial = sentinel_s;
		if (flint_ari_cert_id_parse(bad[i], &kid, &kid_len, &serial, &serial_len) !=
		    FLINT_EINVAL) {
			fprintf(stderr, "  accepted: \"%s\"\n", bad[i]);
			CHECK(false);
		}
		CHECK(kid == sentinel_k && serial == sentinel_s);
	}
	{
		char long_kid[200];

		memset(long_kid, 'A', 90); /* 67 octets */
		strcpy(long_kid + 88, ".AQ");
		CHECK_INT(flint_ari_cert_id_parse(long_kid, &kid, &kid_len, &serial, &serial_len),
			  FLINT_EINVAL);
	}
	CHECK_INT(flint_ari_cert_id_parse(NULL, &kid, &kid_len, &serial, &serial_len),
		  FLINT_EINVAL);
	/* serial hex: the stored form */
	{
		static const uint8_t one[] = {0x0a}, zero_lead[] = {0x00, 0x80, 0x01};

		CHECK_INT(flint_ari_serial_hex(one, 1, &hex), 0);
		CHECK_STR(hex, "0a");
		free(hex);
		CHECK_INT(flint_ari_serial_hex(zero_lead, 3, &hex), 0);
		CHECK_STR(hex, "8001");
		free(hex);
	}
}

int main(void)
{
	RUN(test_vector_raw);
	RUN(test_vector_cert);
	RUN(test_no_leading_zero);
	RUN(test_long_serial);
	RUN(test_refusals);
	RUN(test_parse);
	return CHECK_DONE();
}
