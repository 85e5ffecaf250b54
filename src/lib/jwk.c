/* JSON Web Keys (RFC 7517, RFC 7518 §6, OKP per RFC 8037 §2) for the key
 * types ACME accounts use, with RFC 7638 thumbprints and a key policy. */
#include "jwk.h"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/param_build.h>
#include <openssl/rsa.h>
#include <stdlib.h>
#include <string.h>

#include "b64.h"
#include "digest.h"
#include "error.h"

#define RSA_MIN_BITS 2048
#define RSA_MAX_BITS 8192

static const struct {
	enum flint_key_type type;
	const char *crv;       /* JWK crv, NULL for RSA */
	const char *group;     /* OpenSSL group name */
	size_t field_bytes;    /* EC/OKP coordinate size */
	const char *alg;
} key_types[] = {
	{FLINT_KEY_RSA, NULL, NULL, 0, "RS256"},
	{FLINT_KEY_P256, "P-256", "prime256v1", 32, "ES256"},
	{FLINT_KEY_P384, "P-384", "secp384r1", 48, "ES384"},
	{FLINT_KEY_P521, "P-521", "secp521r1", 66, "ES512"},
	{FLINT_KEY_ED25519, "Ed25519", NULL, 32, "EdDSA"},
};

#define N_KEY_TYPES (sizeof(key_types) / sizeof(key_types[0]))

static int key_index(enum flint_key_type type)
{
	for (size_t i = 0; i < N_KEY_TYPES; i++)
		if (key_types[i].type == type)
			return (int)i;
	return -1;
}

const char *flint_jwk_alg(const struct flint_jwk *jwk)
{
	int i = jwk ? key_index(jwk->type) : -1;

	return i < 0 ? NULL : key_types[i].alg;
}

const EVP_MD *flint_jwk_type_md(enum flint_key_type type)
{
	switch (type) {
	case FLINT_KEY_RSA:
	case FLINT_KEY_P256:
		return flint_md(FLINT_MD_SHA256);
	case FLINT_KEY_P384:
		return flint_md(FLINT_MD_SHA384);
	case FLINT_KEY_P521:
		return flint_md(FLINT_MD_SHA512);
	case FLINT_KEY_ED25519:
		break;
	}
	return NULL; /* EdDSA hashes internally */
}

/* A context set up for the key's JWS digest; NULL when that fails. */
static EVP_MD_CTX *md_ctx_new(const struct flint_jwk *jwk, bool sign)
{
	EVP_MD_CTX *c = EVP_MD_CTX_new();
	const EVP_MD *md = flint_jwk_type_md(jwk->type);

	if (c && (sign ? EVP_DigestSignInit(c, NULL, md, NULL, jwk->pkey)
		       : EVP_DigestVerifyInit(c, NULL, md, NULL, jwk->pkey)) == 1)
		return c;
	EVP_MD_CTX_free(c);
	return NULL;
}

/* A copy of tmpl; NULL without one or when the copy fails. */
static EVP_MD_CTX *md_ctx_copy(const EVP_MD_CTX *tmpl)
{
	EVP_MD_CTX *c = tmpl ? EVP_MD_CTX_new() : NULL;

	if (c && EVP_MD_CTX_copy_ex(c, tmpl) == 1)
		return c;
	EVP_MD_CTX_free(c);
	return NULL;
}

/* Whether an RSA or EC key holds its private part (setting up a signing
 * context does not ask: signing with a public key fails only then). */
static bool has_private(EVP_PKEY *k)
{
	BIGNUM *b = NULL;
	bool yes = EVP_PKEY_get_bn_param(k, EVP_PKEY_is_a(k, "RSA") ? OSSL_PKEY_PARAM_RSA_D
								    : OSSL_PKEY_PARAM_PRIV_KEY,
					 &b) == 1;

	BN_clear_free(b);
	return yes;
}

/* The templates: Ed25519's contexts cannot be copied (OpenSSL 3.0); a
 * public key has no signing one. Failing leaves them NULL. */
static void md_templates_init(struct flint_jwk *jwk)
{
	if (jwk->type != FLINT_KEY_ED25519) {
		jwk->verify_tmpl = md_ctx_new(jwk, false);
		if (has_private(jwk->pkey))
			jwk->sign_tmpl = md_ctx_new(jwk, true);
	}
	ERR_clear_error();
}

int flint_jwk_md_ctx(const struct flint_jwk *jwk, bool sign, EVP_MD_CTX **ret)
{
	EVP_MD_CTX *c;

	if (!jwk || !jwk->pkey || !ret)
		return FLINT_EINVAL;
	c = md_ctx_copy(sign ? jwk->sign_tmpl : jwk->verify_tmpl);
	if (!c)
		c = md_ctx_new(jwk, sign);
	if (!c)
		return FLINT_ECRYPTO;
	*ret = c;
	return 0;
}

/* The policy: RSA 2048..8192 with an odd exponent >= 65537, the three NIST
 * curves by name, Ed25519. Everything else is FLINT_EBADKEY. */
int flint_key_type_of(EVP_PKEY *pkey, enum flint_key_type *ret)
{
	BIGNUM *e = NULL;
	char group[64];
	size_t glen = 0;
	int r = FLINT_EBADKEY, bits;

	if (!pkey || !ret)
		return FLINT_EINVAL;
	switch (EVP_PKEY_get_base_id(pkey)) {
	case EVP_PKEY_RSA:
		bits = EVP_PKEY_get_bits(pkey);
		if (bits < RSA_MIN_BITS || bits > RSA_MAX_BITS)
			goto out;
		if (!EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_RSA_E, &e)) {
			r = FLINT_ECRYPTO;
			goto out;
		}
		if (!BN_is_odd(e) || BN_num_bits(e) < 17 || BN_num_bits(e) > 256)
			goto out;
		*ret = FLINT_KEY_RSA;
		r = 0;
		break;
	case EVP_PKEY_EC:
		if (!EVP_PKEY_get_utf8_string_param(pkey, OSSL_PKEY_PARAM_GROUP_NAME, group,
						    sizeof(group), &glen))
			goto out;
		for (size_t i = 0; i < N_KEY_TYPES; i++) {
			if (key_types[i].group && strcmp(key_types[i].group, group) == 0) {
				*ret = key_types[i].type;
				r = 0;
				break;
			}
		}
		break;
	case EVP_PKEY_ED25519:
		*ret = FLINT_KEY_ED25519;
		r = 0;
		break;
	default:
		break;
	}
out:
	BN_free(e);
	return r;
}

static int set_b64(json_t *obj, const char *key, const unsigned char *buf, size_t len)
{
	char *s = NULL;
	int r = flint_b64url_encode(buf, len, &s);

	if (r < 0)
		return r;
	r = json_object_set_new(obj, key, json_string(s)) == 0 ? 0 : FLINT_ENOMEM;
	free(s);
	return r;
}

/* BIGNUM as minimal big-endian octets (RFC 7518 §6.3.1: no leading zeros),
 * or left-padded to pad bytes when pad > 0 (EC coordinates, §6.2.1.2). */
static int set_bn(json_t *obj, const char *key, const BIGNUM *bn, size_t pad)
{
	size_t n = pad ? pad : (size_t)BN_num_bytes(bn);
	unsigned char *buf;
	int r;

	if (n == 0)
		n = 1;
	buf = malloc(n);
	if (!buf)
		return FLINT_ENOMEM;
	if (BN_bn2binpad(bn, buf, (int)n) < 0) {
		free(buf);
		return FLINT_ECRYPTO;
	}
	r = set_b64(obj, key, buf, n);
	free(buf);
	return r;
}

/* The canonical public JWK: required members only, built from the key. */
static int public_json_of(EVP_PKEY *pkey, enum flint_key_type type, json_t **ret)
{
	int idx = key_index(type);
	BIGNUM *a = NULL, *b = NULL;
	unsigned char raw[64];
	size_t rawlen = sizeof(raw);
	json_t *o;
	int r = FLINT_ECRYPTO;

	if (idx < 0)
		return FLINT_EINVAL;
	o = json_object();
	if (!o)
		return FLINT_ENOMEM;
	switch (type) {
	case FLINT_KEY_RSA:
		if (!EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_RSA_N, &a) ||
		    !EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_RSA_E, &b))
			goto out;
		if (json_object_set_new(o, "kty", json_string("RSA")) != 0) {
			r = FLINT_ENOMEM;
			goto out;
		}
		if ((r = set_bn(o, "n", a, 0)) < 0 || (r = set_bn(o, "e", b, 0)) < 0)
			goto out;
		break;
	case FLINT_KEY_P256:
	case FLINT_KEY_P384:
	case FLINT_KEY_P521:
		if (!EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_EC_PUB_X, &a) ||
		    !EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_EC_PUB_Y, &b))
			goto out;
		if (json_object_set_new(o, "kty", json_string("EC")) != 0 ||
		    json_object_set_new(o, "crv", json_string(key_types[idx].crv)) != 0) {
			r = FLINT_ENOMEM;
			goto out;
		}
		if ((r = set_bn(o, "x", a, key_types[idx].field_bytes)) < 0 ||
		    (r = set_bn(o, "y", b, key_types[idx].field_bytes)) < 0)
			goto out;
		break;
	case FLINT_KEY_ED25519:
		if (!EVP_PKEY_get_raw_public_key(pkey, raw, &rawlen) || rawlen != 32)
			goto out;
		if (json_object_set_new(o, "kty", json_string("OKP")) != 0 ||
		    json_object_set_new(o, "crv", json_string("Ed25519")) != 0) {
			r = FLINT_ENOMEM;
			goto out;
		}
		if ((r = set_b64(o, "x", raw, rawlen)) < 0)
			goto out;
		break;
	}
	*ret = o;
	o = NULL;
	r = 0;
out:
	BN_free(a);
	BN_free(b);
	json_decref(o);
	return r;
}

static int canonical_string(const json_t *o, char **ret)
{
	char *s = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);

	if (!s)
		return FLINT_ENOMEM;
	*ret = s;
	return 0;
}

/* RFC 7638 §3: SHA-256 over the sorted, whitespace-free required members. */
static int thumbprint_of(const json_t *pub, char **ret)
{
	unsigned char d[32];
	unsigned int dlen = 0;
	char *s = NULL;
	int r;

	r = canonical_string(pub, &s);
	if (r < 0)
		return r;
	if (EVP_Digest(s, strlen(s), d, &dlen, flint_md(FLINT_MD_SHA256), NULL) != 1 || dlen != 32) {
		free(s);
		return FLINT_ECRYPTO;
	}
	free(s);
	return flint_b64url_encode(d, dlen, ret);
}

static int jwk_new(EVP_PKEY *pkey, enum flint_key_type type, struct flint_jwk **ret)
{
	struct flint_jwk *jwk;
	int r;

	jwk = calloc(1, sizeof(*jwk));
	if (!jwk)
		return FLINT_ENOMEM;
	jwk->type = type;
	if (!EVP_PKEY_up_ref(pkey)) {
		free(jwk);
		return FLINT_ECRYPTO;
	}
	jwk->pkey = pkey;
	r = public_json_of(pkey, type, &jwk->public_json);
	if (r == 0)
		r = thumbprint_of(jwk->public_json, &jwk->thumbprint);
	if (r < 0) {
		flint_jwk_free(jwk);
		return r;
	}
	md_templates_init(jwk);
	*ret = jwk;
	return 0;
}

int flint_jwk_from_pkey(EVP_PKEY *pkey, struct flint_jwk **ret)
{
	enum flint_key_type type;
	int r;

	if (!pkey || !ret)
		return FLINT_EINVAL;
	r = flint_key_type_of(pkey, &type);
	if (r < 0)
		return r;
	return jwk_new(pkey, type, ret);
}

/* Fetches a base64url string member and decodes it. */
static int get_b64(const json_t *jwk, const char *key, unsigned char **ret, size_t *ret_len)
{
	json_t *v = json_object_get(jwk, key);
	const char *s = json_string_value(v);

	if (!s)
		return FLINT_EINVAL;
	return flint_b64url_decode(s, json_string_length(v), ret, ret_len);
}

/* A public key of type ("RSA", "EC") from params; FLINT_EINVAL when
 * OpenSSL refuses them. */
static int public_key_from(const char *type, const OSSL_PARAM *params, EVP_PKEY **ret)
{
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, type, NULL);
	EVP_PKEY *pkey = NULL;
	int r = FLINT_ECRYPTO;

	if (!params || !ctx || EVP_PKEY_fromdata_init(ctx) <= 0)
		goto out;
	r = FLINT_EINVAL;
	if (EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, (OSSL_PARAM *)params) <= 0)
		goto out;
	*ret = pkey;
	r = 0;
out:
	EVP_PKEY_CTX_free(ctx);
	return r;
}

int flint_rsa_public_key(const BIGNUM *n, const BIGNUM *e, EVP_PKEY **ret)
{
	OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
	OSSL_PARAM *params = NULL;
	int r = FLINT_ECRYPTO;

	if (bld && OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, n) &&
	    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, e))
		params = OSSL_PARAM_BLD_to_param(bld);
	if (params)
		r = public_key_from("RSA", params, ret);
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	return r;
}

int flint_ec_public_key(const char *group, const unsigned char *point, size_t len,
			EVP_PKEY **ret)
{
	/* the import fails for coordinates >= p or points off the curve */
	const OSSL_PARAM params[] = {
		OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, (char *)group, 0),
		OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, (void *)point, len),
		OSSL_PARAM_construct_end(),
	};

	return public_key_from("EC", params, ret);
}

static int import_rsa(const json_t *jwk, EVP_PKEY **ret)
{
	unsigned char *n = NULL, *e = NULL;
	size_t nlen = 0, elen = 0;
	BIGNUM *bn_n = NULL, *bn_e = NULL;
	int r;

	if ((r = get_b64(jwk, "n", &n, &nlen)) < 0 || (r = get_b64(jwk, "e", &e, &elen)) < 0)
		goto out;
	r = FLINT_EINVAL;
	if (nlen == 0 || elen == 0 || nlen > RSA_MAX_BITS / 8 + 1 || elen > 32)
		goto out;
	r = FLINT_ECRYPTO;
	bn_n = BN_bin2bn(n, (int)nlen, NULL);
	bn_e = BN_bin2bn(e, (int)elen, NULL);
	if (!bn_n || !bn_e)
		goto out;
	r = FLINT_EBADKEY;
	if (BN_num_bits(bn_n) < RSA_MIN_BITS || BN_num_bits(bn_n) > RSA_MAX_BITS ||
	    !BN_is_odd(bn_n) || !BN_is_odd(bn_e) || BN_num_bits(bn_e) < 17 ||
	    BN_cmp(bn_e, bn_n) >= 0)
		goto out;
	r = flint_rsa_public_key(bn_n, bn_e, ret);
out:
	free(n);
	free(e);
	BN_free(bn_n);
	BN_free(bn_e);
	return r;
}

static int import_ec(const json_t *jwk, int idx, EVP_PKEY **ret)
{
	size_t fb = key_types[idx].field_bytes, xlen = 0, ylen = 0;
	unsigned char *x = NULL, *y = NULL, *point = NULL;
	EVP_PKEY_CTX *chk = NULL;
	EVP_PKEY *pkey = NULL;
	int r;

	if ((r = get_b64(jwk, "x", &x, &xlen)) < 0 || (r = get_b64(jwk, "y", &y, &ylen)) < 0)
		goto out;
	r = FLINT_EINVAL;
	if (xlen != fb || ylen != fb)
		goto out;
	r = FLINT_ENOMEM;
	point = malloc(1 + 2 * fb);
	if (!point)
		goto out;
	point[0] = 0x04; /* SEC 1 uncompressed point */
	memcpy(point + 1, x, fb);
	memcpy(point + 1 + fb, y, fb);
	r = flint_ec_public_key(key_types[idx].group, point, 1 + 2 * fb, &pkey);
	if (r < 0)
		goto out;
	r = FLINT_EINVAL;
	chk = EVP_PKEY_CTX_new_from_pkey(NULL, pkey, NULL);
	/* on-curve and range checks; the order check of the full public_check is a
	 * scalar multiplication, redundant on these cofactor-1 curves */
	if (!chk || EVP_PKEY_public_check_quick(chk) != 1)
		goto out;
	*ret = pkey;
	pkey = NULL;
	r = 0;
out:
	free(x);
	free(y);
	free(point);
	EVP_PKEY_CTX_free(chk);
	EVP_PKEY_free(pkey);
	return r;
}

static int import_okp(const json_t *jwk, EVP_PKEY **ret)
{
	unsigned char *x = NULL;
	size_t xlen = 0;
	EVP_PKEY *pkey;
	int r;

	if ((r = get_b64(jwk, "x", &x, &xlen)) < 0)
		return r;
	r = FLINT_EINVAL;
	if (xlen != 32)
		goto out;
	pkey = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, x, xlen);
	if (!pkey)
		goto out;
	*ret = pkey;
	r = 0;
out:
	free(x);
	return r;
}

int flint_jwk_from_json(const json_t *jwk, struct flint_jwk **ret)
{
	const char *kty, *crv;
	EVP_PKEY *pkey = NULL;
	json_t *d;
	int idx = -1, r;

	if (!ret || !json_is_object(jwk))
		return FLINT_EINVAL;
	kty = json_string_value(json_object_get(jwk, "kty"));
	if (!kty)
		return FLINT_EINVAL;
	/* A private member in a public JWK is a client bug worth refusing loudly. */
	d = json_object_get(jwk, "d");
	if (d)
		return FLINT_EINVAL;
	if (strcmp(kty, "RSA") == 0) {
		idx = key_index(FLINT_KEY_RSA);
		r = import_rsa(jwk, &pkey);
	} else if (strcmp(kty, "EC") == 0 || strcmp(kty, "OKP") == 0) {
		crv = json_string_value(json_object_get(jwk, "crv"));
		if (!crv)
			return FLINT_EINVAL;
		for (size_t i = 0; i < N_KEY_TYPES; i++) {
			bool okp = key_types[i].type == FLINT_KEY_ED25519;
			if (key_types[i].crv && strcmp(key_types[i].crv, crv) == 0 &&
			    okp == (kty[0] == 'O'))
				idx = (int)i;
		}
		if (idx < 0)
			return FLINT_EBADKEY; /* well-formed, but a curve we refuse */
		if (key_types[idx].type == FLINT_KEY_ED25519)
			r = import_okp(jwk, &pkey);
		else
			r = import_ec(jwk, idx, &pkey);
	} else {
		return FLINT_EBADKEY;
	}
	if (r < 0)
		return r;
	r = jwk_new(pkey, key_types[idx].type, ret);
	EVP_PKEY_free(pkey);
	return r;
}

int flint_key_generate(enum flint_key_type type, int rsa_bits, EVP_PKEY **ret)
{
	EVP_PKEY *pkey = NULL;
	int idx = key_index(type);

	if (!ret || idx < 0)
		return FLINT_EINVAL;
	switch (type) {
	case FLINT_KEY_RSA:
		if (rsa_bits < RSA_MIN_BITS || rsa_bits > RSA_MAX_BITS)
			return FLINT_EBADKEY;
		pkey = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)rsa_bits);
		break;
	case FLINT_KEY_P256:
	case FLINT_KEY_P384:
	case FLINT_KEY_P521:
		pkey = EVP_PKEY_Q_keygen(NULL, NULL, "EC", key_types[idx].group);
		break;
	case FLINT_KEY_ED25519:
		pkey = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
		break;
	}
	if (!pkey)
		return FLINT_ECRYPTO;
	*ret = pkey;
	return 0;
}

int flint_jwk_generate(enum flint_key_type type, int rsa_bits, struct flint_jwk **ret)
{
	EVP_PKEY *pkey = NULL;
	int r;

	if (!ret)
		return FLINT_EINVAL;
	r = flint_key_generate(type, rsa_bits, &pkey);
	if (r < 0)
		return r;
	r = jwk_new(pkey, type, ret);
	EVP_PKEY_free(pkey);
	return r;
}

int flint_jwk_to_string(const struct flint_jwk *jwk, char **ret)
{
	if (!jwk || !jwk->public_json || !ret)
		return FLINT_EINVAL;
	return canonical_string(jwk->public_json, ret);
}

bool flint_jwk_equal(const struct flint_jwk *a, const struct flint_jwk *b)
{
	if (!a || !b || !a->thumbprint || !b->thumbprint)
		return false;
	return a->type == b->type && strcmp(a->thumbprint, b->thumbprint) == 0;
}

int flint_jwk_dup(const struct flint_jwk *jwk, struct flint_jwk **ret)
{
	struct flint_jwk *d = calloc(1, sizeof(*d));

	if (!d)
		return FLINT_ENOMEM;
	d->type = jwk->type;
	if (EVP_PKEY_up_ref(jwk->pkey) != 1) {
		free(d);
		return FLINT_ENOMEM;
	}
	d->pkey = jwk->pkey;
	d->sign = jwk->sign;
	d->sign_ctx = jwk->sign_ctx;
	d->thumbprint = jwk->thumbprint ? strdup(jwk->thumbprint) : NULL;
	d->public_json = jwk->public_json ? json_deep_copy(jwk->public_json) : NULL;
	/* copies, or none: each use then sets up its own */
	d->verify_tmpl = md_ctx_copy(jwk->verify_tmpl);
	d->sign_tmpl = md_ctx_copy(jwk->sign_tmpl);
	ERR_clear_error();
	if ((jwk->thumbprint && !d->thumbprint) || (jwk->public_json && !d->public_json)) {
		flint_jwk_free(d);
		return FLINT_ENOMEM;
	}
	*ret = d;
	return 0;
}

void flint_jwk_free(struct flint_jwk *jwk)
{
	if (!jwk)
		return;
	EVP_PKEY_free(jwk->pkey);
	free(jwk->thumbprint);
	json_decref(jwk->public_json);
	EVP_MD_CTX_free(jwk->verify_tmpl);
	EVP_MD_CTX_free(jwk->sign_tmpl);
	free(jwk);
}
