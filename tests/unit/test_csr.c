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
		CHECK(csr && csr->key_type == FLINT_KEY_P256 && csr->pkey && csr->spki);
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

/* Parses der and expects err with a badCSR problem whose detail holds
 * detail (NULL: any). */
static void expect_refused(const unsigned char *der, size_t len, int err, const char *detail,
			   const char *what)
{
	struct flint_csr *csr = NULL;
	struct flint_problem *p = NULL;
	int r = flint_csr_parse_der(der, len, &csr, &p);

	CHECK_INT(r, err);
	CHECK(csr == NULL);
	CHECK(p && p->type == FLINT_PROB_BAD_CSR);
	if (detail)
		CHECK(p && p->detail && strstr(p->detail, detail));
	if (r != err || !p || (detail && (!p->detail || !strstr(p->detail, detail))))
		fprintf(stderr, "  case %s: %d %s\n", what, r, p && p->detail ? p->detail : "-");
	flint_csr_free(csr);
	flint_problem_free(p);
}

/* DER of a request for "key.example" signed by signer whose
 * subjectPublicKeyInfo is alg_nid with parameters (ptype, pval, taken) and
 * key bits (NULL: signer's own). */
static unsigned char *make_csr_spki(EVP_PKEY *signer, int alg_nid, int ptype, void *pval,
				    const unsigned char *bits, int n, size_t *ret_len)
{
	X509_REQ *req = X509_REQ_new();
	X509_PUBKEY *pk;
	const unsigned char *own = NULL;
	unsigned char *der = NULL, *copy;
	int len, own_len = 0;

	X509_NAME_add_entry_by_txt(X509_REQ_get_subject_name(req), "CN", MBSTRING_UTF8,
				   (const unsigned char *)"key.example", -1, -1, 0);
	X509_REQ_set_pubkey(req, signer);
	pk = X509_REQ_get_X509_PUBKEY(req);
	if (!bits) {
		X509_PUBKEY_get0_param(NULL, &own, &own_len, NULL, pk);
		bits = own;
		n = own_len;
	}
	copy = OPENSSL_memdup(bits, (size_t)n);
	X509_PUBKEY_set0_param(pk, OBJ_nid2obj(alg_nid), ptype, pval, copy, n);
	X509_REQ_sign(req, signer,
		      EVP_PKEY_get_base_id(signer) == EVP_PKEY_ED25519 ? NULL : EVP_sha256());
	len = i2d_X509_REQ(req, &der);
	*ret_len = len > 0 ? (size_t)len : 0;
	X509_REQ_free(req);
	return der;
}

/* der re-signed by key after an edit (the edit survives re-encoding). */
static unsigned char *resign(const unsigned char *der, size_t len, EVP_PKEY *key, size_t *ret_len)
{
	const unsigned char *p = der;
	X509_REQ *req = d2i_X509_REQ(NULL, &p, (long)len);
	unsigned char *out = NULL;
	int n = -1;

	if (req && X509_REQ_sign(req, key, EVP_sha256()) > 0)
		n = i2d_X509_REQ(req, &out);
	*ret_len = n > 0 ? (size_t)n : 0;
	X509_REQ_free(req);
	return out;
}

/* The subject key is parsed by hand now: malformed keys are unreadable,
 * never a crash, whatever the signature. */
static void test_key_hostile(void)
{
	unsigned char point[65], rsa_bad[][8] = {
		{0x30, 0x03, 0x02, 0x01, 0x01},                   /* n only */
		{0x30, 0x06, 0x02, 0x01, 0x81, 0x02, 0x01, 0x03}, /* negative n */
		{0x30, 0x06, 0x02, 0x01, 0x00, 0x02, 0x01, 0x03}, /* zero n */
		{0x04, 0x03, 0x02, 0x01, 0x01},                   /* not a SEQUENCE */
	};
	unsigned char *der, *edit;
	size_t len = 0, elen = 0;
	EVP_PKEY *rsa = EVP_RSA_gen(2048), *explicit = EVP_PKEY_dup(p256), *even = NULL;

	/* EC: a point off the curve, a point of the wrong length, a lone 0x04. */
	memset(point, 0x11, sizeof(point));
	point[0] = 0x04;
	der = make_csr_spki(p256, NID_X9_62_id_ecPublicKey, V_ASN1_OBJECT,
			    OBJ_nid2obj(NID_X9_62_prime256v1), point, 65, &len);
	expect_refused(der, len, FLINT_EINVAL, "public key unreadable", "EC off curve");
	OPENSSL_free(der);
	der = make_csr_spki(p256, NID_X9_62_id_ecPublicKey, V_ASN1_OBJECT,
			    OBJ_nid2obj(NID_secp384r1), NULL, 0, &len); /* P-256 point, P-384 curve */
	expect_refused(der, len, FLINT_EINVAL, "public key unreadable", "EC wrong curve length");
	OPENSSL_free(der);
	der = make_csr_spki(p256, NID_X9_62_id_ecPublicKey, V_ASN1_OBJECT,
			    OBJ_nid2obj(NID_X9_62_prime256v1), point, 1, &len);
	expect_refused(der, len, FLINT_EINVAL, "public key unreadable", "EC lone 0x04");
	OPENSSL_free(der);
	/* Parameters of a kind no key algorithm has (the fuzzer's leak: an
	 * OCTET STRING, here under an unknown algorithm). */
	{
		ASN1_OCTET_STRING *odd = ASN1_OCTET_STRING_new();

		ASN1_OCTET_STRING_set(odd, (const unsigned char *)"odd", 3);
		der = make_csr_spki(p256, NID_sha256, V_ASN1_OCTET_STRING, odd, point, 65, &len);
		expect_refused(der, len, FLINT_EINVAL, "public key unreadable",
			       "parameters of another kind");
		OPENSSL_free(der);
	}
	/* EC without parameters, and with NULL ones. */
	der = make_csr_spki(p256, NID_X9_62_id_ecPublicKey, V_ASN1_UNDEF, NULL, NULL, 0, &len);
	expect_refused(der, len, FLINT_EINVAL, "public key unreadable", "EC no curve");
	OPENSSL_free(der);
	der = make_csr_spki(p256, NID_X9_62_id_ecPublicKey, V_ASN1_NULL, NULL, NULL, 0, &len);
	expect_refused(der, len, FLINT_EINVAL, "public key unreadable", "EC NULL curve");
	OPENSSL_free(der);
	/* EC with explicit curve parameters (a real P-256 key, signed by it). */
	CHECK(explicit && EVP_PKEY_set_utf8_string_param(explicit, "encoding", "explicit") == 1);
	der = make_csr(explicit, NULL, "DNS:key.example", &len);
	CHECK(len > 0);
	expect_refused(der, len, FLINT_EINVAL, "public key unreadable", "EC explicit");
	OPENSSL_free(der);

	/* RSA bits that are not one RSAPublicKey with positive n. */
	for (size_t i = 0; i < sizeof(rsa_bad) / sizeof(rsa_bad[0]); i++) {
		int n = rsa_bad[i][1] + 2;

		der = make_csr_spki(p256, NID_rsaEncryption, V_ASN1_NULL, NULL, rsa_bad[i], n, &len);
		expect_refused(der, len, FLINT_EINVAL, "public key unreadable", "RSA bits");
		OPENSSL_free(der);
	}
	if (rsa) {
		/* a valid RSAPublicKey with a byte after it */
		const unsigned char *bits = NULL;
		X509_PUBKEY *pk = NULL;
		unsigned char *longer;
		int n = 0;

		X509_PUBKEY_set(&pk, rsa);
		X509_PUBKEY_get0_param(NULL, &bits, &n, NULL, pk);
		longer = calloc(1, (size_t)n + 1);
		memcpy(longer, bits, (size_t)n);
		der = make_csr_spki(rsa, NID_rsaEncryption, V_ASN1_NULL, NULL, longer, n + 1, &len);
		expect_refused(der, len, FLINT_EINVAL, "public key unreadable", "RSA trailing");
		OPENSSL_free(der);
		/* parameters absent instead of NULL: still rsaEncryption, accepted */
		der = make_csr_spki(rsa, NID_rsaEncryption, V_ASN1_UNDEF, NULL, NULL, 0, &len);
		{
			struct flint_csr *csr = NULL;
			struct flint_problem *p = NULL;

			CHECK_INT(flint_csr_parse_der(der, len, &csr, &p), 0);
			CHECK(csr && csr->key_type == FLINT_KEY_RSA);
			flint_csr_free(csr);
			flint_problem_free(p);
		}
		OPENSSL_free(der);
		/* other parameters are refused */
		der = make_csr_spki(rsa, NID_rsaEncryption, V_ASN1_OBJECT,
				    OBJ_nid2obj(NID_X9_62_prime256v1), NULL, 0, &len);
		expect_refused(der, len, FLINT_EINVAL, "public key unreadable", "RSA params");
		OPENSSL_free(der);
		free(longer);
		X509_PUBKEY_free(pk);
	}

	/* Ed25519: 31 octets; parameters present. */
	der = make_csr_spki(p256, NID_ED25519, V_ASN1_UNDEF, NULL, point, 31, &len);
	expect_refused(der, len, FLINT_EINVAL, "public key unreadable", "Ed25519 short");
	OPENSSL_free(der);
	der = make_csr_spki(p256, NID_ED25519, V_ASN1_NULL, NULL, point + 1, 32, &len);
	expect_refused(der, len, FLINT_EINVAL, "public key unreadable", "Ed25519 params");
	OPENSSL_free(der);

	/* An unknown algorithm is unreadable as before. */
	der = make_csr_spki(p256, NID_sha256, V_ASN1_UNDEF, NULL, point, 65, &len);
	expect_refused(der, len, FLINT_EINVAL, "public key unreadable", "unknown algorithm");
	OPENSSL_free(der);

	/* Unused bits in the key's BIT STRING (03 42 00 04 -> 03 42 01 04), re-signed;
	 * the key's last octet is even, so the point itself is unchanged and
	 * only the unused bit is wrong. */
	for (int tries = 0; even == NULL && tries < 200; tries++) {
		unsigned char enc[65];
		size_t enc_len = 0;
		EVP_PKEY *k = EVP_EC_gen("P-256");

		if (k && EVP_PKEY_get_octet_string_param(k, "encoded-pub-key", enc, sizeof(enc),
							 &enc_len) == 1 &&
		    enc_len == 65 && (enc[64] & 1) == 0)
			even = k;
		else
			EVP_PKEY_free(k);
	}
	CHECK(even != NULL);
	der = even ? make_csr(even, NULL, "DNS:key.example", &len) : NULL;
	for (size_t i = 0; der && i + 4 <= len; i++) {
		if (memcmp(der + i, "\x03\x42\x00\x04", 4) == 0) {
			der[i + 2] = 0x01;
			break;
		}
	}
	edit = der ? resign(der, len, even, &elen) : NULL;
	CHECK(elen > 0);
	expect_refused(edit, elen, FLINT_EINVAL, "public key unreadable", "unused bits");
	OPENSSL_free(edit);
	OPENSSL_free(der);
	EVP_PKEY_free(even);

	EVP_PKEY_free(explicit);
	EVP_PKEY_free(rsa);
}

/* Cut short at every length, or followed by anything: refused cleanly. */
static void test_truncated(void)
{
	static const char *cns[] = {"cut.example", NULL};
	size_t len = 0;
	unsigned char *der = make_csr(p256, cns, "DNS:cut.example,IP:192.0.2.1", &len), *twice;
	struct flint_csr *csr = NULL;
	struct flint_problem *p = NULL;
	size_t failures = 0;

	CHECK(len > 0);
	for (size_t cut = 1; cut < len; cut++) {
		int r = flint_csr_parse_der(der, cut, &csr, &p);

		if (r != FLINT_EINVAL || csr || !p || p->type != FLINT_PROB_BAD_CSR)
			failures++;
		flint_csr_free(csr);
		csr = NULL;
		flint_problem_free(p);
		p = NULL;
	}
	CHECK_INT(failures, 0);
	twice = malloc(2 * len);
	memcpy(twice, der, len);
	memcpy(twice + len, der, len);
	expect_refused(twice, 2 * len, FLINT_EINVAL, "single DER", "two requests");
	free(twice);
	CHECK_INT(flint_csr_parse_der(der, len, &csr, &p), 0);
	flint_csr_free(csr);
	OPENSSL_free(der);
}

/* The signature covers the subject too: one altered octet there is
 * FLINT_EBADSIG. */
static void test_subject_altered(void)
{
	static const char *cns[] = {"subject.example", NULL};
	size_t len = 0;
	unsigned char *der = make_csr(p256, cns, NULL, &len);
	bool found = false;

	for (size_t i = 0; i + 15 <= len; i++) {
		if (memcmp(der + i, "subject.example", 15) == 0) {
			der[i] = 'S';
			found = true;
			break;
		}
	}
	CHECK(found);
	expect_refused(der, len, FLINT_EBADSIG, "signature does not verify", "subject altered");
	OPENSSL_free(der);
}

/* Every allowed key type is still taken, with its key as received. */
static void test_key_types(void)
{
	static const struct {
		const char *alg;
		const char *curve;
		enum flint_key_type type;
	} v[] = {
		{"EC", "P-384", FLINT_KEY_P384},
		{"EC", "P-521", FLINT_KEY_P521},
		{"RSA", NULL, FLINT_KEY_RSA},
		{"ED25519", NULL, FLINT_KEY_ED25519},
		{"EC", "P-256", FLINT_KEY_P256},
	};
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		EVP_PKEY *k = strcmp(v[i].alg, "RSA") == 0 ? EVP_RSA_gen(2048)
			      : v[i].curve		   ? EVP_EC_gen(v[i].curve)
							   : EVP_PKEY_Q_keygen(NULL, NULL, v[i].alg);
		unsigned char *der, *want = NULL, *got = NULL;
		size_t len = 0;
		int want_len, got_len = -1;
		struct flint_csr *csr = NULL;
		struct flint_problem *p = NULL;

		CHECK(k != NULL);
		if (!k)
			continue;
		der = make_csr(k, NULL, "DNS:key.example", &len);
		CHECK_INT(flint_csr_parse_der(der, len, &csr, &p), 0);
		CHECK(csr && csr->key_type == v[i].type && csr->spki &&
		      EVP_PKEY_eq(csr->pkey, k) == 1);
		want_len = i2d_PUBKEY(k, &want);
		if (csr)
			got_len = i2d_X509_PUBKEY(csr->spki, &got);
		CHECK(want_len > 0 && got_len == want_len && memcmp(want, got, (size_t)want_len) == 0);
		if (!csr)
			fprintf(stderr, "  case %zu: %s\n", i, p && p->detail ? p->detail : "-");
		OPENSSL_free(want);
		OPENSSL_free(got);
		flint_csr_free(csr);
		flint_problem_free(p);
		OPENSSL_free(der);
		EVP_PKEY_free(k);
	}
}

/* DER of a request for key with CN cn whose attributes are those of
 * X509_REQ_add1_attr_by_NID(nid, type, bytes, len), or, with exts_nid, the
 * subjectAltName san in an extension request under that attribute. */
static unsigned char *make_csr_attr(const char *cn, int nid, int type, const void *bytes, int blen,
				    const char *san, size_t *ret_len)
{
	X509_REQ *req = X509_REQ_new();
	unsigned char *der = NULL;
	int len;

	X509_NAME_add_entry_by_txt(X509_REQ_get_subject_name(req), "CN", MBSTRING_UTF8,
				   (const unsigned char *)cn, -1, -1, 0);
	X509_REQ_set_pubkey(req, p256);
	if (san) {
		STACK_OF(X509_EXTENSION) *exts = sk_X509_EXTENSION_new_null();

		sk_X509_EXTENSION_push(exts, X509V3_EXT_conf_nid(NULL, NULL, NID_subject_alt_name, san));
		X509_REQ_add_extensions_nid(req, exts, nid);
		sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
	} else {
		X509_REQ_add1_attr_by_NID(req, nid, type, bytes, blen);
	}
	X509_REQ_sign(req, p256, EVP_sha256());
	len = i2d_X509_REQ(req, &der);
	*ret_len = len > 0 ? (size_t)len : 0;
	X509_REQ_free(req);
	return der;
}

/* The extension request under Microsoft's OID is read too; one that cannot
 * be read is refused rather than taken as "no subjectAltName" (the request
 * would otherwise get fewer names than it asked for). */
static void test_ext_request(void)
{
	static const unsigned char not_exts[] = {0x30, 0x03, 0x02, 0x01, 0x01};
	size_t len = 0;
	unsigned char *der;
	struct flint_csr *csr = NULL;
	struct flint_problem *p = NULL;

	der = make_csr_attr("a.example", NID_ms_ext_req, 0, NULL, 0, "DNS:b.example,IP:192.0.2.7",
			    &len);
	CHECK_INT(flint_csr_parse_der(der, len, &csr, &p), 0);
	CHECK_INT(csr ? csr->n_ids : 0, 3);
	CHECK(has_typed(csr, "dns", "a.example") && has_typed(csr, "dns", "b.example") &&
	      has_typed(csr, "ip", "192.0.2.7"));
	flint_csr_free(csr);
	csr = NULL;
	flint_problem_free(p);
	p = NULL;
	OPENSSL_free(der);

	der = make_csr_attr("a.example", NID_ext_req, V_ASN1_UTF8STRING, "x", 1, NULL, &len);
	expect_refused(der, len, FLINT_EINVAL, "subjectAltName unreadable", "ext req not SEQUENCE");
	OPENSSL_free(der);
	der = make_csr_attr("a.example", NID_ext_req, V_ASN1_SEQUENCE, not_exts, sizeof(not_exts),
			    NULL, &len);
	expect_refused(der, len, FLINT_EINVAL, "subjectAltName unreadable", "ext req garbage");
	OPENSSL_free(der);
	/* an unrelated attribute (challengePassword) changes nothing */
	der = make_csr_attr("a.example", NID_pkcs9_challengePassword, MBSTRING_UTF8, "pw", 2, NULL,
			    &len);
	CHECK_INT(flint_csr_parse_der(der, len, &csr, &p), 0);
	CHECK_INT(csr ? csr->n_ids : 0, 1);
	flint_csr_free(csr);
	flint_problem_free(p);
	OPENSSL_free(der);
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
	RUN(test_key_hostile);
	RUN(test_truncated);
	RUN(test_subject_altered);
	RUN(test_key_types);
	RUN(test_ext_request);
	EVP_PKEY_free(p256);
	return CHECK_DONE();
}
