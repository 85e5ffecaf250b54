/* Unit tests for csr.c: PKCS#10 (RFC 2986) requests built in-test, checked
 * the way RFC 8555 §7.4 finalize needs (names, signature, key policy). */
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "csr.h"
#include "error.h"

/* DER of a CSR for key with CN entries cns (NULL-terminated, may be NULL)
 * and a subjectAltName in OpenSSL config syntax ("DNS:a,IP:1.2.3.4"; NULL: none). */
static unsigned char *make_csr(EVP_PKEY *key, const char *const *cns, const char *san, size_t *ret_len)
{
	X509_REQ *req = X509_REQ_new();
	X509_NAME *name = X509_NAME_new();
	unsigned char *der = NULL;
	int len;

	X509_REQ_set_version(req, 0);
	for (size_t i = 0; cns && cns[i]; i++)
		X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, (const unsigned char *)cns[i], -1, -1, 0);
	X509_REQ_set_subject_name(req, name);
	X509_REQ_set_pubkey(req, key);
	if (san) {
		STACK_OF(X509_EXTENSION) *exts = sk_X509_EXTENSION_new_null();
		X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, NULL, NID_subject_alt_name, san);
		sk_X509_EXTENSION_push(exts, ext);
		X509_REQ_add_extensions(req, exts);
		sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
	}
	X509_REQ_sign(req, key, EVP_PKEY_get_base_id(key) == EVP_PKEY_ED25519 ? NULL : EVP_sha256());
	len = i2d_X509_REQ(req, &der);
	*ret_len = len > 0 ? (size_t)len : 0;
	X509_NAME_free(name);
	X509_REQ_free(req);
	return der;
}

static EVP_PKEY *p256;

static bool has_id(const struct flint_csr *csr, const char *value)
{
	for (size_t i = 0; csr && i < csr->n_ids; i++)
		if (strcmp(csr->ids[i].type, "dns") == 0 && strcmp(csr->ids[i].value, value) == 0)
			return true;
	return false;
}

static void test_names(void)
{
	static const char *cn_upper[] = {"Example.COM", NULL};
	static const char *cn_only[] = {"cn-only.example.org", NULL};
	static const char *two_cns[] = {"a.example", "B.example", NULL};
	static const struct {
		const char *const *cns;
		const char *san;
		size_t n;
		const char *expect[4];
	} v[] = {
		{NULL, "DNS:example.com", 1, {"example.com"}},
		{cn_only, NULL, 1, {"cn-only.example.org"}},
		{cn_upper, "DNS:example.com,DNS:WWW.example.com,DNS:www.EXAMPLE.com", 2,
		 {"example.com", "www.example.com"}},
		{NULL, "DNS:*.Example.com,DNS:example.com", 2, {"*.example.com", "example.com"}},
		{two_cns, "DNS:c.example", 3, {"a.example", "b.example", "c.example"}},
		{cn_only, "DNS:other.example", 2, {"cn-only.example.org", "other.example"}},
	};
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		size_t len = 0;
		unsigned char *der = make_csr(p256, v[i].cns, v[i].san, &len);
		struct flint_csr *csr = NULL;
		struct flint_problem *p = NULL;

		CHECK_INT(flint_csr_parse_der(der, len, &csr, &p), 0);
		CHECK(p == NULL);
		CHECK_INT(csr ? csr->n_ids : 0, v[i].n);
		for (size_t j = 0; j < v[i].n; j++)
			CHECK(has_id(csr, v[i].expect[j]));
		CHECK(csr && csr->key_type == FLINT_KEY_P256 && csr->pkey && csr->req);
		if (!csr || csr->n_ids != v[i].n)
			fprintf(stderr, "  case %zu\n", i);
		flint_csr_free(csr);
		OPENSSL_free(der);
	}
}

static void test_refused_names(void)
{
	static const char *bad_cn[] = {"not a name", NULL};
	static const char *ip_cn[] = {"::ffff:192.0.2.1", NULL}; /* mapped: refused */
	static const struct {
		const char *const *cns;
		const char *san;
	} v[] = {
		{NULL, "DNS:example.com,IP:::ffff:192.0.2.1"},
		{NULL, "DNS:example.com,DNS:::1"},
		{NULL, "DNS:example.com,email:a@example.com"},
		{NULL, "DNS:example.com,URI:https://example.com/"},
		{NULL, "DNS:exa_mple.com"},
		{NULL, "DNS:127.0.0.1"},
		{NULL, "DNS:*.*.example.com"},
		{bad_cn, "DNS:example.com"},
		{ip_cn, NULL},
		{NULL, NULL}, /* no names at all */
	};
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		size_t len = 0;
		unsigned char *der = make_csr(p256, v[i].cns, v[i].san, &len);
		struct flint_csr *csr = NULL;
		struct flint_problem *p = NULL;

		CHECK_INT(flint_csr_parse_der(der, len, &csr, &p), FLINT_EINVAL);
		CHECK(csr == NULL);
		CHECK(p && p->type == FLINT_PROB_BAD_CSR);
		if (!p || p->type != FLINT_PROB_BAD_CSR)
			fprintf(stderr, "  case %zu\n", i);
		flint_problem_free(p);
		OPENSSL_free(der);
	}
}

static void test_too_many_names(void)
{
	char *san = malloc(40 * 120);
	size_t off = 0, len = 0;
	unsigned char *der;
	struct flint_csr *csr = NULL;
	struct flint_problem *p = NULL;

	for (int i = 0; i < FLINT_CSR_MAX_NAMES; i++)
		off += (size_t)sprintf(san + off, "%sDNS:n%d.example", i ? "," : "", i);
	der = make_csr(p256, NULL, san, &len);
	CHECK_INT(flint_csr_parse_der(der, len, &csr, &p), 0);
	CHECK_INT(csr ? csr->n_ids : 0, FLINT_CSR_MAX_NAMES);
	flint_csr_free(csr);
	csr = NULL;
	OPENSSL_free(der);

	sprintf(san + off, ",DNS:one-more.example");
	der = make_csr(p256, NULL, san, &len);
	CHECK_INT(flint_csr_parse_der(der, len, &csr, &p), FLINT_EINVAL);
	CHECK(p && p->type == FLINT_PROB_BAD_CSR);
	flint_problem_free(p);
	OPENSSL_free(der);
	free(san);
}

static void test_keys(void)
{
	static const struct {
		const char *alg;
		const char *param; /* curve, or NULL */
		size_t bits;
		int err;
		enum flint_key_type type;
	} v[] = {
		{"RSA", NULL, 2048, 0, FLINT_KEY_RSA},
		{"RSA", NULL, 1024, FLINT_EBADKEY, 0},
		{"EC", "P-256", 0, 0, FLINT_KEY_P256},
		{"EC", "P-384", 0, 0, FLINT_KEY_P384},
		{"EC", "P-521", 0, 0, FLINT_KEY_P521},
		{"EC", "secp256k1", 0, FLINT_EBADKEY, 0},
		{"EC", "prime192v1", 0, FLINT_EBADKEY, 0},
		{"ED25519", NULL, 0, 0, FLINT_KEY_ED25519},
		{"ED448", NULL, 0, FLINT_EBADKEY, 0},
	};
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		EVP_PKEY *k;
		size_t len = 0;
		unsigned char *der;
		struct flint_csr *csr = NULL;
		struct flint_problem *p = NULL;

		if (v[i].bits)
			k = EVP_PKEY_Q_keygen(NULL, NULL, v[i].alg, v[i].bits);
		else if (v[i].param)
			k = EVP_PKEY_Q_keygen(NULL, NULL, v[i].alg, v[i].param);
		else
			k = EVP_PKEY_Q_keygen(NULL, NULL, v[i].alg);
		CHECK(k != NULL);
		if (!k)
			continue;
		if (EVP_PKEY_get_base_id(k) == EVP_PKEY_ED448) {
			/* make_csr signs with no digest for Ed25519 only; do Ed448 here. */
			X509_REQ *req = X509_REQ_new();
			unsigned char *d = NULL;
			int l;
			X509_REQ_set_pubkey(req, k);
			X509_NAME_add_entry_by_txt(X509_REQ_get_subject_name(req), "CN", MBSTRING_UTF8,
						   (const unsigned char *)"ed448.example", -1, -1, 0);
			X509_REQ_sign(req, k, NULL);
			l = i2d_X509_REQ(req, &d);
			der = d;
			len = l > 0 ? (size_t)l : 0;
			X509_REQ_free(req);
		} else {
			der = make_csr(k, NULL, "DNS:key.example", &len);
		}
		CHECK_INT(flint_csr_parse_der(der, len, &csr, &p), v[i].err);
		if (v[i].err == 0) {
			CHECK(csr && csr->key_type == v[i].type);
		} else {
			CHECK(p && p->type == FLINT_PROB_BAD_CSR);
			CHECK(p && p->detail && strstr(p->detail, "weak or disallowed key"));
		}
		flint_csr_free(csr);
		flint_problem_free(p);
		OPENSSL_free(der);
		EVP_PKEY_free(k);
	}
}

static void test_der_hostile(void)
{
	size_t len = 0;
	unsigned char *der = make_csr(p256, NULL, "DNS:example.com", &len), *copy;
	struct flint_csr *csr = NULL;
	struct flint_problem *p = NULL;

	/* Bad signature: flip a bit in the last octet (inside the signature). */
	copy = malloc(len + 1);
	memcpy(copy, der, len);
	copy[len - 1] ^= 0x01;
	CHECK_INT(flint_csr_parse_der(copy, len, &csr, &p), FLINT_EBADSIG);
	CHECK(p && p->type == FLINT_PROB_BAD_CSR);
	flint_problem_free(p);
	p = NULL;

	/* Trailing garbage. */
	memcpy(copy, der, len);
	copy[len] = 0;
	CHECK_INT(flint_csr_parse_der(copy, len + 1, &csr, &p), FLINT_EINVAL);
	CHECK(p && p->type == FLINT_PROB_BAD_CSR);
	flint_problem_free(p);
	p = NULL;

	/* Truncated. */
	CHECK_INT(flint_csr_parse_der(copy, len - 1, &csr, &p), FLINT_EINVAL);
	flint_problem_free(p);
	p = NULL;

	/* Name tampered after signing: "example.com" -> "exbmple.com". */
	memcpy(copy, der, len);
	for (size_t i = 0; i + 11 <= len; i++) {
		if (memcmp(copy + i, "example.com", 11) == 0) {
			copy[i + 2] = 'b';
			break;
		}
	}
	CHECK_INT(flint_csr_parse_der(copy, len, &csr, &p), FLINT_EBADSIG);
	flint_problem_free(p);
	p = NULL;

	/* Nonsense, empty, NULL, oversized. */
	CHECK_INT(flint_csr_parse_der((const unsigned char *)"hello", 5, &csr, &p), FLINT_EINVAL);
	flint_problem_free(p);
	p = NULL;
	CHECK_INT(flint_csr_parse_der(der, 0, &csr, &p), FLINT_EINVAL);
	flint_problem_free(p);
	p = NULL;
	CHECK_INT(flint_csr_parse_der(NULL, 10, &csr, &p), FLINT_EINVAL);
	flint_problem_free(p);
	p = NULL;
	CHECK_INT(flint_csr_parse_der(der, FLINT_CSR_MAX_DER + 1, &csr, &p), FLINT_ETOOBIG);
	flint_problem_free(p);
	p = NULL;
	CHECK(csr == NULL);
	flint_csr_free(NULL);
	free(copy);
	OPENSSL_free(der);
}

static bool has_typed(const struct flint_csr *csr, const char *type, const char *value)
{
	for (size_t i = 0; csr && i < csr->n_ids; i++)
		if (strcmp(csr->ids[i].type, type) == 0 && strcmp(csr->ids[i].value, value) == 0)
			return true;
	return false;
}

/* RFC 8738 §3: iPAddress SANs become canonical "ip" identifiers; an address
 * in the CN (lego puts the first name there) is an ip identifier too. */
static void test_ip_names(void)
{
	static const char *cn_ip[] = {"127.0.0.1", NULL};
	static const char *cn_v6[] = {"0:0::1", NULL};
	static const struct {
		const char *const *cns;
		const char *san;
		size_t n;
		const char *expect[4][2];
	} v[] = {
		{NULL, "IP:192.0.2.1", 1, {{"ip", "192.0.2.1"}}},
		{NULL, "IP:2001:DB8:0:0:0:0:0:1", 1, {{"ip", "2001:db8::1"}}},
		{NULL, "IP:::1,IP:0::0:1", 1, {{"ip", "::1"}}},
		{NULL, "DNS:example.com,IP:192.0.2.1,IP:2001:db8::2", 3,
		 {{"dns", "example.com"}, {"ip", "192.0.2.1"}, {"ip", "2001:db8::2"}}},
		{cn_ip, "IP:127.0.0.1", 1, {{"ip", "127.0.0.1"}}},
		{cn_v6, "IP:::1", 1, {{"ip", "::1"}}},
		{cn_ip, "DNS:a.example", 2, {{"ip", "127.0.0.1"}, {"dns", "a.example"}}},
	};
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		size_t len = 0;
		unsigned char *der = make_csr(p256, v[i].cns, v[i].san, &len);
		struct flint_csr *csr = NULL;
		struct flint_problem *p = NULL;

		CHECK_INT(flint_csr_parse_der(der, len, &csr, &p), 0);
		CHECK(p == NULL);
		CHECK_INT(csr ? csr->n_ids : 0, v[i].n);
		for (size_t j = 0; j < v[i].n; j++)
			CHECK(has_typed(csr, v[i].expect[j][0], v[i].expect[j][1]));
		if (!csr || csr->n_ids != v[i].n)
			fprintf(stderr, "  case %zu\n", i);
		flint_problem_free(p);
		flint_csr_free(csr);
		OPENSSL_free(der);
	}
}

/* An iPAddress of neither 4 nor 16 octets (the name-constraint 8/32 forms)
 * is refused with badCSR. */
static void test_ip_bad_length(void)
{
	static const unsigned char five[5] = {192, 0, 2, 1, 0};
	X509_REQ *req = X509_REQ_new();
	STACK_OF(X509_EXTENSION) *exts = sk_X509_EXTENSION_new_null();
	GENERAL_NAMES *gens = sk_GENERAL_NAME_new_null();
	GENERAL_NAME *g = GENERAL_NAME_new();
	ASN1_OCTET_STRING *os = ASN1_OCTET_STRING_new();
	unsigned char *der = NULL;
	struct flint_csr *csr = NULL;
	struct flint_problem *p = NULL;
	int len;

	ASN1_OCTET_STRING_set(os, five, sizeof(five));
	GENERAL_NAME_set0_value(g, GEN_IPADD, os);
	sk_GENERAL_NAME_push(gens, g);
	sk_X509_EXTENSION_push(exts, X509V3_EXT_i2d(NID_subject_alt_name, 0, gens));
	X509_REQ_set_version(req, 0);
	X509_REQ_set_pubkey(req, p256);
	X509_REQ_add_extensions(req, exts);
	X509_REQ_sign(req, p256, EVP_sha256());
	len = i2d_X509_REQ(req, &der);
	CHECK(len > 0);
	CHECK_INT(flint_csr_parse_der(der, len > 0 ? (size_t)len : 0, &csr, &p), FLINT_EINVAL);
	CHECK(csr == NULL);
	CHECK(p && p->type == FLINT_PROB_BAD_CSR && strstr(p->detail, "iPAddress"));
	flint_problem_free(p);
	OPENSSL_free(der);
	sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
	GENERAL_NAMES_free(gens);
	X509_REQ_free(req);
}

int main(void)
{
	p256 = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	RUN(test_names);
	RUN(test_refused_names);
	RUN(test_too_many_names);
	RUN(test_keys);
	RUN(test_der_hostile);
	RUN(test_ip_names);
	RUN(test_ip_bad_length);
	EVP_PKEY_free(p256);
	return CHECK_DONE();
}
