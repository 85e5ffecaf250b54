/* Unit tests for the client's certificate chain reader (cert.c, RFC 8555
 * §7.4.2 application/pem-certificate-chain): good chains and hostile downloads. */
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cert.h"
#include "check.h"
#include "test_certs.h"
#include "error.h"

static EVP_PKEY *key;
static char *leaf_pem, *int_pem, *root_pem, *key_pem;

static X509 *make_cert(const char *subject_cn, const char *issuer_cn, long serial)
{
	return test_cert_make(subject_cn, issuer_cn, serial, key, key);
}

static char *pem_of(X509 *x)
{
	return test_cert_pem(x);
}

static void setup(void)
{
	X509 *leaf, *in, *root;
	BIO *b = BIO_new(BIO_s_mem());
	char *data;
	long len;

	key = EVP_EC_gen("P-256");
	leaf = make_cert("leaf", "Int A", 1);
	in = make_cert("Int A", "Root X", 2);
	root = make_cert("Root X", "Root X", 3);
	leaf_pem = pem_of(leaf);
	int_pem = pem_of(in);
	root_pem = pem_of(root);
	PEM_write_bio_PrivateKey(b, key, NULL, NULL, 0, NULL, NULL);
	len = BIO_get_mem_data(b, &data);
	key_pem = strndup(data, (size_t)len);
	BIO_free(b);
	X509_free(leaf);
	X509_free(in);
	X509_free(root);
}

static void teardown(void)
{
	free(leaf_pem);
	free(int_pem);
	free(root_pem);
	free(key_pem);
	EVP_PKEY_free(key);
}

/* Parses s[0..len) and checks the result and, on success, the issuer count;
 * err_has: a part of the message a failure must carry (NULL: any). */
static void expect(const char *what, const char *s, size_t len, int want, int want_issuers,
		   const char *err_has)
{
	struct flint_chain *c = NULL;
	char *err = NULL;
	int r = flint_chain_parse(s, len, &c, &err);

	if (r != want)
		fprintf(stderr, "  %s: %d (%s), expected %d\n", what, r, err ? err : "-", want);
	CHECK_INT(r, want);
	if (r == 0 && c) {
		CHECK_INT(sk_X509_num(c->issuers), want_issuers);
		CHECK_STR(c->cert_pem, leaf_pem);
		CHECK(c->not_after > c->not_before);
	} else {
		CHECK(c == NULL);
		if (err_has) {
			CHECK(err && strstr(err, err_has));
			if (err && !strstr(err, err_has))
				fprintf(stderr, "  %s: \"%s\" lacks \"%s\"\n", what, err, err_has);
		}
	}
	flint_chain_free(c);
	free(err);
}

static char *cat(const char *a, const char *b, const char *c, const char *d)
{
	size_t n = strlen(a) + strlen(b) + strlen(c) + strlen(d) + 1;
	char *s = malloc(n);

	snprintf(s, n, "%s%s%s%s", a, b, c, d);
	return s;
}

static void test_good_chains(void)
{
	struct flint_chain *c = NULL;
	char *s = cat(leaf_pem, int_pem, "", "");

	CHECK_INT(flint_chain_parse(s, strlen(s), &c, NULL), 0);
	if (c) {
		CHECK_STR(c->chain_pem, int_pem);
		CHECK_STR(c->fullchain_pem, s);
	}
	flint_chain_free(c);
	free(s);
	expect("leaf alone", leaf_pem, strlen(leaf_pem), 0, 0, NULL);
	s = cat(leaf_pem, int_pem, root_pem, "");
	expect("with root", s, strlen(s), 0, 2, NULL);
	free(s);
	/* explanatory text around the blocks is ignored (RFC 7468 §2) */
	s = cat("Subject: leaf\nIssuer: Int A\n", leaf_pem, "\r\n\r\njunk\n-----not a boundary\n",
		int_pem);
	expect("junk between", s, strlen(s), 0, 1, NULL);
	free(s);
	/* a block of another kind (a private key!) is skipped, not taken for a certificate */
	s = cat(leaf_pem, key_pem, int_pem, "");
	expect("private key between", s, strlen(s), 0, 1, NULL);
	free(s);
	/* the length is what counts: text past it is not read */
	s = cat(leaf_pem, int_pem, "", "");
	expect("length cuts", s, strlen(leaf_pem), 0, 0, NULL);
	free(s);
}

static void test_hostile_chains(void)
{
	char *s, *t;
	size_t n;

	expect("NULL", NULL, 0, FLINT_EINVAL, 0, NULL);
	expect("empty", "", 0, FLINT_EPROTO, 0, "no PEM certificate");
	expect("junk", "<html>503</html>", 16, FLINT_EPROTO, 0, "no PEM certificate");
	expect("key only", key_pem, strlen(key_pem), FLINT_EPROTO, 0, "no PEM certificate");
	expect("empty block", "-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n", 54,
	       FLINT_EPROTO, 0, "certificate 1");
	expect("begin only", "-----BEGIN CERTIFICATE-----\n", 28, FLINT_EPROTO, 0, "certificate 1");
	/* a download cut short: the partial issuer must not leave a leaf-only chain */
	s = cat(leaf_pem, int_pem, "", "");
	expect("cut in issuer", s, strlen(leaf_pem) + strlen(int_pem) / 2, FLINT_EPROTO, 0,
	       "certificate 2");
	expect("cut before END", s, strlen(s) - 10, FLINT_EPROTO, 0, "certificate 2");
	expect("cut in leaf", s, strlen(leaf_pem) / 2, FLINT_EPROTO, 0, "certificate 1");
	free(s);
	/* a corrupt issuer in the middle: refused, not skipped */
	t = strdup(int_pem);
	t[40] = t[40] == 'A' ? 'B' : 'A'; /* a base64 digit of the DER */
	s = cat(leaf_pem, t, root_pem, "");
	expect("corrupt issuer", s, strlen(s), FLINT_EPROTO, 0, "certificate 2");
	free(s);
	t[40] = '*'; /* not base64 at all */
	s = cat(leaf_pem, t, "", "");
	expect("bad base64", s, strlen(s), FLINT_EPROTO, 0, "certificate 2");
	free(s);
	free(t);
	/* a NUL byte before a BEGIN line: the reader takes the line for text, so
	 * the issuer would silently vanish (it did once); refused instead */
	s = cat(leaf_pem, "X", int_pem, "");
	s[strlen(leaf_pem)] = '\0';
	n = strlen(leaf_pem) + 1 + strlen(int_pem);
	expect("NUL before BEGIN", s, n, FLINT_EPROTO, 0, "certificate 2");
	free(s);
	/* a NUL byte in the text between the blocks is harmless */
	s = cat(leaf_pem, "text X here\n", int_pem, "");
	s[strlen(leaf_pem) + 5] = '\0';
	n = strlen(leaf_pem) + 12 + strlen(int_pem);
	expect("NUL in text", s, n, 0, 1, NULL);
	free(s);
	/* trailing blanks on a BEGIN line are tolerated (RFC 7468 §2) */
	s = cat(leaf_pem, "-----BEGIN CERTIFICATE----- \t\n", strchr(int_pem, '\n') + 1, "");
	expect("BEGIN line with blanks", s, strlen(s), 0, 1, NULL);
	free(s);
	/* FLINT_CHAIN_MAX_CERTS is the cap: one more is refused */
	s = strdup("");
	for (int i = 0; i < FLINT_CHAIN_MAX_CERTS; i++) {
		t = cat(s, i ? int_pem : leaf_pem, "", "");
		free(s);
		s = t;
	}
	expect("at the cap", s, strlen(s), 0, FLINT_CHAIN_MAX_CERTS - 1, NULL);
	t = cat(s, int_pem, "", "");
	expect("over the cap", t, strlen(t), FLINT_ETOOBIG, 0, "more than 10");
	free(t);
	free(s);
}

int main(void)
{
	setup();
	RUN(test_good_chains);
	RUN(test_hostile_chains);
	teardown();
	return CHECK_DONE();
}
