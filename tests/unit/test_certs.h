/* Throwaway X.509 certificates for the unit tests (not a real hierarchy:
 * names and keys as the test needs them). */
#ifndef FLINT_TEST_CERTS_H
#define FLINT_TEST_CERTS_H

#include <openssl/pem.h>
#include <openssl/x509.h>
#include <string.h>

/* A v3 certificate subject_cn issued by issuer_cn, valid for an hour, for
 * key's public half, signed by sign. */
static inline X509 *test_cert_make(const char *subject_cn, const char *issuer_cn, long serial,
				   EVP_PKEY *key, EVP_PKEY *sign)
{
	X509 *x = X509_new();
	X509_NAME *s = X509_NAME_new(), *i = X509_NAME_new();

	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), serial);
	X509_NAME_add_entry_by_txt(s, "CN", MBSTRING_ASC, (const unsigned char *)subject_cn, -1, -1,
				   0);
	X509_NAME_add_entry_by_txt(i, "CN", MBSTRING_ASC, (const unsigned char *)issuer_cn, -1, -1,
				   0);
	X509_set_subject_name(x, s);
	X509_set_issuer_name(x, i);
	X509_gmtime_adj(X509_getm_notBefore(x), 0);
	X509_gmtime_adj(X509_getm_notAfter(x), 3600);
	X509_set_pubkey(x, key);
	X509_sign(x, sign, EVP_sha256());
	X509_NAME_free(s);
	X509_NAME_free(i);
	return x;
}

/* x as PEM text (malloc'd). */
static inline char *test_cert_pem(X509 *x)
{
	BIO *b = BIO_new(BIO_s_mem());
	char *data, *out;
	long len;

	PEM_write_bio_X509(b, x);
	len = BIO_get_mem_data(b, &data);
	out = strndup(data, (size_t)len);
	BIO_free(b);
	return out;
}

#endif
