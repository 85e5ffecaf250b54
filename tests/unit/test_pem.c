/* Unit tests for pem.c: memory BIOs as strings, private keys as PKCS#8 PEM
 * that read back as the same key. */
#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/pem.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "error.h"
#include "jwk.h"
#include "pem.h"

static void test_bio_string(void)
{
	BIO *b = BIO_new(BIO_s_mem());
	char *s = NULL;
	size_t len = 99;

	CHECK(b != NULL);
	if (!b)
		return;
	CHECK_INT(flint_bio_string(b, &s, &len), 0);
	CHECK_STR(s, "");
	CHECK_INT(len, 0);
	free(s);
	s = NULL;
	CHECK_INT(BIO_write(b, "abc\0def", 7), 7);
	CHECK_INT(flint_bio_string(b, &s, &len), 0);
	CHECK_INT(len, 7);
	CHECK(s && memcmp(s, "abc\0def", 8) == 0); /* and NUL-terminated */
	free(s);
	s = NULL;
	CHECK_INT(flint_bio_string(b, &s, NULL), 0);
	CHECK_STR(s, "abc");
	free(s);
	BIO_free(b);
}

static void key_roundtrip(enum flint_key_type type, int bits)
{
	EVP_PKEY *key = NULL, *back = NULL;
	char *pem = NULL;
	size_t len = 0;
	BIO *b;

	CHECK_INT(flint_key_generate(type, bits, &key), 0);
	CHECK_INT(flint_key_to_pem(key, &pem, &len), 0);
	CHECK(pem && len == strlen(pem));
	CHECK(pem && strncmp(pem, "-----BEGIN PRIVATE KEY-----\n", 28) == 0);
	b = pem ? BIO_new_mem_buf(pem, (int)len) : NULL;
	back = b ? PEM_read_bio_PrivateKey(b, NULL, NULL, NULL) : NULL;
	CHECK(back && EVP_PKEY_eq(key, back) == 1);
	BIO_free(b);
	EVP_PKEY_free(back);
	if (pem)
		OPENSSL_cleanse(pem, len);
	free(pem);
	EVP_PKEY_free(key);
}

static void test_key_to_pem(void)
{
	key_roundtrip(FLINT_KEY_P256, 0);
	key_roundtrip(FLINT_KEY_P384, 0);
	key_roundtrip(FLINT_KEY_ED25519, 0);
	key_roundtrip(FLINT_KEY_RSA, 2048);
}

int main(void)
{
	RUN(test_bio_string);
	RUN(test_key_to_pem);
	return CHECK_DONE();
}
