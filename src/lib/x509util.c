/* subjectAltName entries, DER encoding and ASN1_TIME conversion shared by
 * csr_build.c, the CA and the client (x509util.h). */
#include "x509util.h"

#include <arpa/inet.h>
#include <openssl/asn1t.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "error.h"
#include "jwk.h"

int flint_general_name_ia5(int type, const char *value, GENERAL_NAME **ret)
{
	GENERAL_NAME *g = GENERAL_NAME_new();
	ASN1_IA5STRING *s = ASN1_IA5STRING_new();

	if (!g || !s || ASN1_STRING_set(s, value, -1) != 1) {
		GENERAL_NAME_free(g);
		ASN1_IA5STRING_free(s);
		return FLINT_ENOMEM;
	}
	GENERAL_NAME_set0_value(g, type, s);
	*ret = g;
	return 0;
}

/* SAN entries, one row per identifier type. */
static int san_dns(const char *value, GENERAL_NAME **ret)
{
	return flint_general_name_ia5(GEN_DNS, value, ret);
}

static int san_ip(const char *value, GENERAL_NAME **ret)
{
	unsigned char buf[16];
	int len;
	GENERAL_NAME *g;
	ASN1_OCTET_STRING *s;

	if (inet_pton(AF_INET, value, buf) == 1)
		len = 4;
	else if (inet_pton(AF_INET6, value, buf) == 1)
		len = 16;
	else
		return FLINT_EINVAL;
	g = GENERAL_NAME_new();
	s = ASN1_OCTET_STRING_new();
	if (!g || !s || ASN1_OCTET_STRING_set(s, buf, len) != 1) {
		GENERAL_NAME_free(g);
		ASN1_OCTET_STRING_free(s);
		return FLINT_ENOMEM;
	}
	GENERAL_NAME_set0_value(g, GEN_IPADD, s);
	*ret = g;
	return 0;
}

static const struct {
	const char *type;
	int (*make)(const char *value, GENERAL_NAME **ret);
} san_types[] = {
    {"dns", san_dns},
    {"ip", san_ip},
};

int flint_general_name_of(const char *type, const char *value, GENERAL_NAME **ret)
{
	if (!type || !value || !value[0])
		return FLINT_EINVAL;
	for (size_t t = 0; t < sizeof(san_types) / sizeof(san_types[0]); t++)
		if (strcmp(san_types[t].type, type) == 0)
			return san_types[t].make(value, ret);
	return FLINT_EUNSUPPORTED;
}

int flint_der_encode(const ASN1_VALUE *v, const ASN1_ITEM *it, unsigned char **ret, size_t *ret_len)
{
	int len = ASN1_item_i2d(v, NULL, it);
	unsigned char *buf, *p;

	if (len <= 0)
		return FLINT_ECRYPTO;
	buf = malloc((size_t)len);
	if (!buf)
		return FLINT_ENOMEM;
	p = buf;
	if (ASN1_item_i2d(v, &p, it) != len) {
		free(buf);
		return FLINT_ECRYPTO;
	}
	*ret = buf;
	*ret_len = (size_t)len;
	return 0;
}

int flint_asn1_time_unix(const ASN1_TIME *t, int64_t *ret)
{
	struct tm tm;

	if (!t)
		return FLINT_EINVAL;
	if (ASN1_TIME_to_tm(t, &tm) != 1)
		return FLINT_ECRYPTO;
	*ret = (int64_t)timegm(&tm);
	return 0;
}

/* RSAPublicKey (RFC 8017 §A.1.1), the bits of an rsaEncryption key. */
/* clang-format off */
typedef struct spki_rsa_key_st {
	ASN1_INTEGER *n;
	ASN1_INTEGER *e;
} SPKI_RSA_KEY;

ASN1_SEQUENCE(SPKI_RSA_KEY) = {
	ASN1_SIMPLE(SPKI_RSA_KEY, n, ASN1_INTEGER),
	ASN1_SIMPLE(SPKI_RSA_KEY, e, ASN1_INTEGER),
} static_ASN1_SEQUENCE_END(SPKI_RSA_KEY)
/* clang-format on */

int flint_spki_set(X509_PUBKEY *dst, const X509_ALGOR *alg, const unsigned char *bits, int n)
{
	const ASN1_OBJECT *obj = NULL;
	ASN1_OBJECT *aobj = NULL;
	const void *pval = NULL;
	void *pval_copy = NULL;
	unsigned char *bits_copy = NULL;
	int ptype = V_ASN1_UNDEF, r;

	if (!dst || !alg || !bits || n <= 0)
		return FLINT_EINVAL;
	X509_ALGOR_get0(&obj, &ptype, &pval, alg);
	r = FLINT_ENOMEM;
	if (!(aobj = OBJ_dup(obj)) || !(bits_copy = OPENSSL_memdup(bits, (size_t)n)))
		goto out;
	switch (ptype) {
	case V_ASN1_UNDEF: /* Ed25519: no parameters */
	case V_ASN1_NULL:  /* RSA */
		break;
	case V_ASN1_OBJECT: /* EC: the named curve */
		if (!(pval_copy = OBJ_dup(pval)))
			goto out;
		break;
	case V_ASN1_SEQUENCE: /* RSA-PSS, DSA, explicit curves */
		if (!(pval_copy = ASN1_STRING_dup(pval)))
			goto out;
		break;
	default: /* no key algorithm takes another kind of parameter */
		r = FLINT_EINVAL;
		goto out;
	}
	r = FLINT_ECRYPTO;
	if (X509_PUBKEY_set0_param(dst, aobj, ptype, pval_copy, bits_copy, n) != 1)
		goto out;
	aobj = NULL, pval_copy = NULL, bits_copy = NULL; /* dst owns them now */
	r = 0;
out:
	ASN1_OBJECT_free(aobj);
	if (ptype == V_ASN1_OBJECT)
		ASN1_OBJECT_free(pval_copy);
	else
		ASN1_STRING_free(pval_copy);
	OPENSSL_free(bits_copy);
	return r;
}

/* key's public part as a SubjectPublicKeyInfo carries it: *ret_alg
 * id-ecPublicKey (*ret_curve its named curve, the point in the encoded-key
 * parameter's form, uncompressed) or Ed25519 (*ret_curve NID_undef, its 32
 * bytes), the bits into out[0..*ret_len). FLINT_EUNSUPPORTED for any other
 * key and for explicit curve parameters. */
static int public_bits(EVP_PKEY *key, int *ret_alg, int *ret_curve, unsigned char *out,
		       size_t cap, size_t *ret_len)
{
	char group[32];
	size_t len = 0;

	*ret_curve = NID_undef;
	*ret_len = 0;
	if (EVP_PKEY_is_a(key, "EC")) {
		*ret_alg = NID_X9_62_id_ecPublicKey;
		if (EVP_PKEY_get_group_name(key, group, sizeof(group), &len) != 1 ||
		    (*ret_curve = OBJ_txt2nid(group)) == NID_undef)
			return FLINT_EUNSUPPORTED;
		if (EVP_PKEY_get_octet_string_param(key, OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, out, cap,
						    ret_len) != 1)
			return FLINT_ECRYPTO;
	} else if (EVP_PKEY_is_a(key, "ED25519")) {
		*ret_alg = NID_ED25519;
		*ret_len = cap;
		if (EVP_PKEY_get_raw_public_key(key, out, ret_len) != 1)
			return FLINT_ECRYPTO;
	} else {
		return FLINT_EUNSUPPORTED;
	}
	return *ret_len ? 0 : FLINT_ECRYPTO;
}

int flint_spki_of_key(X509_PUBKEY *dst, EVP_PKEY *key)
{
	unsigned char bits[1 + 2 * 66], *bits_copy = NULL;
	char form[16];
	size_t len = 0;
	int alg_nid, curve_nid, r;

	if (!dst || !key)
		return FLINT_EINVAL;
	/* a point the encoder would compress: the encoder's */
	if (EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_EC_POINT_CONVERSION_FORMAT, form,
					   sizeof(form), &len) == 1 &&
	    strcmp(form, OSSL_PKEY_EC_POINT_CONVERSION_FORMAT_UNCOMPRESSED) != 0)
		return FLINT_EUNSUPPORTED;
	if ((r = public_bits(key, &alg_nid, &curve_nid, bits, sizeof(bits), &len)) < 0)
		return r;
	if (!(bits_copy = OPENSSL_memdup(bits, len)))
		return FLINT_ENOMEM;
	/* OBJ_nid2obj's objects are static: dst holds them without a copy */
	r = X509_PUBKEY_set0_param(dst, OBJ_nid2obj(alg_nid),
				   curve_nid == NID_undef ? V_ASN1_UNDEF : V_ASN1_OBJECT,
				   curve_nid == NID_undef ? NULL : OBJ_nid2obj(curve_nid), bits_copy,
				   (int)len) == 1
		    ? 0
		    : FLINT_ECRYPTO;
	if (r < 0)
		OPENSSL_free(bits_copy);
	return r;
}

/* A point (SEC 1 §2.3.3: compressed, uncompressed or hybrid, as OpenSSL's
 * decoder takes them) on the named curve group; the import refuses points
 * off the curve. */
static int ec_key(const char *group, size_t field_bytes, const unsigned char *bits, size_t n,
		  EVP_PKEY **ret)
{
	bool compressed = n == 1 + field_bytes && (bits[0] == 0x02 || bits[0] == 0x03);
	bool full =
	    n == 1 + 2 * field_bytes && (bits[0] == 0x04 || bits[0] == 0x06 || bits[0] == 0x07);

	if (!compressed && !full)
		return FLINT_EINVAL;
	return flint_ec_public_key(group, bits, n, ret);
}

/* rsaEncryption bits: exactly one RSAPublicKey with a positive n and e. */
static int rsa_key(const unsigned char *bits, size_t n, EVP_PKEY **ret)
{
	const unsigned char *p = bits;
	SPKI_RSA_KEY *rk = NULL;
	BIGNUM *bn_n = NULL, *bn_e = NULL;
	int r = FLINT_EINVAL;

	rk = (SPKI_RSA_KEY *)ASN1_item_d2i(NULL, &p, (long)n, ASN1_ITEM_rptr(SPKI_RSA_KEY));
	if (!rk || p != bits + n || ASN1_STRING_type(rk->n) != V_ASN1_INTEGER ||
	    ASN1_STRING_type(rk->e) != V_ASN1_INTEGER)
		goto out;
	r = FLINT_ENOMEM;
	bn_n = ASN1_INTEGER_to_BN(rk->n, NULL);
	bn_e = ASN1_INTEGER_to_BN(rk->e, NULL);
	if (!bn_n || !bn_e)
		goto out;
	r = FLINT_EINVAL;
	if (BN_is_zero(bn_n) || BN_is_negative(bn_n) || BN_is_zero(bn_e) || BN_is_negative(bn_e))
		goto out;
	r = flint_rsa_public_key(bn_n, bn_e, ret);
out:
	ASN1_item_free((ASN1_VALUE *)rk, ASN1_ITEM_rptr(SPKI_RSA_KEY));
	BN_free(bn_n);
	BN_free(bn_e);
	return r;
}

static int ed25519_key(const unsigned char *bits, size_t n, EVP_PKEY **ret)
{
	EVP_PKEY *pkey;

	if (n != 32)
		return FLINT_EINVAL;
	pkey = EVP_PKEY_new_raw_public_key_ex(NULL, "ED25519", NULL, bits, n);
	if (!pkey)
		return FLINT_EINVAL;
	*ret = pkey;
	return 0;
}

/* Any other algorithm or curve: through OpenSSL's decoder, as d2i_X509_REQ
 * did, so that the key policy refuses it as a weak key, not an unreadable one. */
static int decoded_key(const X509_PUBKEY *spki, EVP_PKEY **ret)
{
	unsigned char *der = NULL;
	const unsigned char *p;
	X509_PUBKEY *decoded = NULL;
	EVP_PKEY *pkey = NULL;
	int len, r = FLINT_ENOMEM;

	len = i2d_X509_PUBKEY(spki, &der);
	if (len <= 0)
		goto out;
	p = der;
	r = FLINT_EINVAL;
	if (!(decoded = d2i_X509_PUBKEY(NULL, &p, len)) || !(pkey = X509_PUBKEY_get(decoded)))
		goto out;
	*ret = pkey;
	r = 0;
out:
	X509_PUBKEY_free(decoded);
	OPENSSL_free(der);
	return r;
}

int flint_spki_key(const X509_PUBKEY *spki, EVP_PKEY **ret)
{
	ASN1_OBJECT *obj = NULL;
	const unsigned char *bits = NULL;
	X509_ALGOR *alg = NULL;
	const void *pval = NULL;
	int n = 0, ptype = V_ASN1_UNDEF;

	if (!spki || !ret || X509_PUBKEY_get0_param(&obj, &bits, &n, &alg, spki) != 1 || !bits ||
	    n <= 0)
		return FLINT_EINVAL;
	X509_ALGOR_get0(NULL, &ptype, &pval, alg);
	switch (OBJ_obj2nid(obj)) {
	case NID_X9_62_id_ecPublicKey:
		if (ptype != V_ASN1_OBJECT) /* explicit curve parameters */
			return FLINT_EINVAL;
		switch (OBJ_obj2nid(pval)) {
		case NID_X9_62_prime256v1:
			return ec_key("prime256v1", 32, bits, (size_t)n, ret);
		case NID_secp384r1:
			return ec_key("secp384r1", 48, bits, (size_t)n, ret);
		case NID_secp521r1:
			return ec_key("secp521r1", 66, bits, (size_t)n, ret);
		default:
			return decoded_key(spki, ret);
		}
	case NID_rsaEncryption:
		if (ptype != V_ASN1_UNDEF && ptype != V_ASN1_NULL)
			return FLINT_EINVAL;
		return rsa_key(bits, (size_t)n, ret);
	case NID_ED25519:
		if (ptype != V_ASN1_UNDEF)
			return FLINT_EINVAL;
		return ed25519_key(bits, (size_t)n, ret);
	default:
		return decoded_key(spki, ret);
	}
}

/* 1 when bits are key's own encoding of its public part under the
 * algorithm obj (params: its curve), 0 when that says nothing. */
static int same_bytes(EVP_PKEY *key, const ASN1_OBJECT *obj, const void *params,
		      const unsigned char *bits, int n)
{
	unsigned char own[1 + 2 * 66];
	size_t len = 0;
	int alg, curve, want = OBJ_obj2nid(obj);

	if (want == NID_X9_62_id_ecPublicKey && (!params || n < 1 || bits[0] != 0x04))
		return 0;
	if (public_bits(key, &alg, &curve, own, sizeof(own), &len) < 0 || alg != want ||
	    (alg == NID_X9_62_id_ecPublicKey && curve != OBJ_obj2nid(params)))
		return 0;
	return len == (size_t)n && memcmp(own, bits, len) == 0;
}

int flint_spki_holds(const X509_PUBKEY *spki, EVP_PKEY *key)
{
	ASN1_OBJECT *obj = NULL;
	const unsigned char *bits = NULL;
	X509_ALGOR *alg = NULL;
	const void *pval = NULL;
	EVP_PKEY *held = NULL;
	int n = 0, ptype = V_ASN1_UNDEF, r;

	if (!spki || !key || X509_PUBKEY_get0_param(&obj, &bits, &n, &alg, spki) != 1 || !bits ||
	    n <= 0)
		return FLINT_EINVAL;
	X509_ALGOR_get0(NULL, &ptype, &pval, alg);
	if (same_bytes(key, obj, ptype == V_ASN1_OBJECT ? pval : NULL, bits, n) == 1)
		return 1;
	r = flint_spki_key(spki, &held);
	if (r == 0)
		r = EVP_PKEY_eq(held, key) == 1;
	EVP_PKEY_free(held);
	return r;
}
