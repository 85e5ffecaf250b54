/* Unit tests for csr_build.c: requests the client builds (RFC 8555 §7.4)
 * must parse back through csr.c with the same key and exactly the names. */
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "csr.h"
#include "csr_build.h"
#include "error.h"
#include "jwk.h"

static void roundtrip(enum flint_key_type type, int bits, const char *const *names, size_t n)
{
	struct flint_problem *prob = NULL;
	struct flint_csr *csr = NULL;
	unsigned char *der = NULL;
	EVP_PKEY *key = NULL;
	size_t len = 0;

	CHECK_INT(flint_key_generate(type, bits, &key), 0);
	CHECK_INT(flint_csr_build(key, names, n, &der, &len), 0);
	CHECK(len > 0);
	CHECK_INT(flint_csr_parse_der(der, len, &csr, &prob), 0);
	CHECK(prob == NULL);
	if (csr) {
		CHECK_INT(csr->key_type, type);
		CHECK(EVP_PKEY_eq(csr->pkey, key) == 1);
		CHECK_INT(csr->n_ids, n);
		for (size_t i = 0; i < n && i < csr->n_ids; i++) {
			CHECK_STR(csr->ids[i].type, "dns");
			CHECK_STR(csr->ids[i].value, names[i]);
		}
	}
	flint_problem_free(prob);
	flint_csr_free(csr);
	free(der);
	EVP_PKEY_free(key);
}

static void test_key_types(void)
{
	static const char *const one[] = {"a.example.com"};
	static const char *const three[] = {"a.example.com", "*.example.com", "b.example.org"};

	roundtrip(FLINT_KEY_P256, 0, one, 1);
	roundtrip(FLINT_KEY_P384, 0, three, 3);
	roundtrip(FLINT_KEY_P521, 0, one, 1);
	roundtrip(FLINT_KEY_ED25519, 0, three, 3);
	roundtrip(FLINT_KEY_RSA, 2048, three, 3);
}

/* A first name over 64 characters cannot be the CN; the SAN still carries it. */
static void test_long_first_name(void)
{
	char longname[80];
	const char *names[2] = {longname, "short.example.com"};
	unsigned char *der = NULL;
	const unsigned char *p;
	X509_REQ *req = NULL;
	EVP_PKEY *key = NULL;
	size_t len = 0;

	memset(longname, 'a', 60);
	strcpy(longname + 60, ".example.com"); /* 72 characters */
	roundtrip(FLINT_KEY_P256, 0, names, 2);
	CHECK_INT(flint_key_generate(FLINT_KEY_P256, 0, &key), 0);
	CHECK_INT(flint_csr_build(key, names, 2, &der, &len), 0);
	p = der;
	req = d2i_X509_REQ(NULL, &p, (long)len);
	CHECK(req != NULL);
	if (req)
		CHECK_INT(X509_NAME_entry_count(X509_REQ_get_subject_name(req)), 0);
	X509_REQ_free(req);
	free(der);
	EVP_PKEY_free(key);
}

static void test_bad_args(void)
{
	static const char *const one[] = {"a.example.com"};
	static const char *const empty[] = {""};
	unsigned char *der = (unsigned char *)"untouched";
	size_t len = 7;
	EVP_PKEY *key = NULL, *weak = NULL;
	EVP_PKEY_CTX *ctx = NULL;

	CHECK_INT(flint_key_generate(FLINT_KEY_P256, 0, &key), 0);
	CHECK_INT(flint_csr_build(NULL, one, 1, &der, &len), FLINT_EINVAL);
	CHECK_INT(flint_csr_build(key, one, 0, &der, &len), FLINT_EINVAL);
	CHECK_INT(flint_csr_build(key, empty, 1, &der, &len), FLINT_EINVAL);
	CHECK_INT(flint_csr_build(key, NULL, 1, &der, &len), FLINT_EINVAL);
	/* a key outside the policy (RSA 1024) is refused, outputs untouched */
	ctx = EVP_PKEY_CTX_new_id(EVP_PKEY_RSA, NULL);
	CHECK(ctx && EVP_PKEY_keygen_init(ctx) == 1 &&
	      EVP_PKEY_CTX_set_rsa_keygen_bits(ctx, 1024) == 1 && EVP_PKEY_keygen(ctx, &weak) == 1);
	CHECK_INT(flint_csr_build(weak, one, 1, &der, &len), FLINT_EBADKEY);
	CHECK_STR((const char *)der, "untouched");
	CHECK_INT(len, 7);
	EVP_PKEY_CTX_free(ctx);
	EVP_PKEY_free(weak);
	EVP_PKEY_free(key);
}

/* A key that encodes its point compressed goes out as the key says (the
 * encoder's path), and parses back to the same key. */
static void test_compressed_point(void)
{
	static const char *const one[] = {"a.example.com"};
	struct flint_problem *prob = NULL;
	struct flint_csr *csr = NULL;
	unsigned char *der = NULL;
	EVP_PKEY *key = NULL;
	size_t len = 0;

	CHECK_INT(flint_key_generate(FLINT_KEY_P256, 0, &key), 0);
	CHECK(key && EVP_PKEY_set_utf8_string_param(key, "point-format", "compressed") == 1);
	CHECK_INT(flint_csr_build(key, one, 1, &der, &len), 0);
	CHECK(len > 0);
	CHECK_INT(flint_csr_parse_der(der, len, &csr, &prob), 0);
	CHECK(csr && EVP_PKEY_eq(csr->pkey, key) == 1);
	flint_problem_free(prob);
	flint_csr_free(csr);
	free(der);
	EVP_PKEY_free(key);
}

int main(void)
{
	RUN(test_key_types);
	RUN(test_long_first_name);
	RUN(test_bad_args);
	RUN(test_compressed_point);
	return CHECK_DONE();
}
