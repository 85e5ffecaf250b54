/* Flattened JSON JWS (RFC 7515 §7.2.2) under the ACME request rules of
 * RFC 8555 §6.2 (§7.3.5 keyChange inner JWS, §7.3.4 account binding): parse, verify, sign. */
#include "jws.h"

#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/hmac.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "b64.h"
#include "digest.h"
#include "error.h"

static const struct {
	const char *alg;
	enum flint_key_type key;
	size_t ecdsa_half; /* bytes of r (and of s) in raw ECDSA; 0 when not ECDSA */
} jws_algs[] = {
	{"RS256", FLINT_KEY_RSA, 0},
	{"ES256", FLINT_KEY_P256, 32},
	{"ES384", FLINT_KEY_P384, 48},
	{"ES512", FLINT_KEY_P521, 66},
	{"EdDSA", FLINT_KEY_ED25519, 0},
};

#define N_ALGS (sizeof(jws_algs) / sizeof(jws_algs[0]))

static int alg_index(const char *alg)
{
	for (size_t i = 0; alg && i < N_ALGS; i++)
		if (strcmp(jws_algs[i].alg, alg) == 0)
			return (int)i;
	return -1;
}

static void problem(struct flint_problem **ret_problem, enum flint_problem_type type,
		    const char *detail)
{
	if (ret_problem && !*ret_problem)
		*ret_problem = flint_problem_new(type, "%s", detail);
}

/* badSignatureAlgorithm carries the list a client may retry with (§6.2). */
static void bad_alg_problem(struct flint_problem **ret_problem, const char *detail)
{
	struct flint_problem *p;
	json_t *algs;

	if (!ret_problem || *ret_problem)
		return;
	p = flint_problem_new(FLINT_PROB_BAD_SIGNATURE_ALGORITHM, "%s", detail);
	if (!p)
		return;
	algs = json_array();
	for (size_t i = 0; algs && i < N_ALGS; i++)
		json_array_append_new(algs, json_string(jws_algs[i].alg));
	p->extra = algs ? json_pack("{s:o}", "algorithms", algs) : NULL;
	*ret_problem = p;
}

void flint_jws_free(struct flint_jws *jws)
{
	if (!jws)
		return;
	free(jws->alg);
	free(jws->nonce);
	free(jws->url);
	free(jws->kid);
	flint_jwk_free(jws->jwk);
	free(jws->payload);
	free(jws->signing_input);
	free(jws->signature);
	free(jws);
}

static bool is_b64url(const char *s, size_t len)
{
	uint8_t *buf = NULL;
	size_t n;

	if (flint_b64url_decode(s, len, &buf, &n) < 0)
		return false;
	free(buf);
	return true;
}

/* The MAC algorithm of an externalAccountBinding (RFC 8555 §7.3.4); NULL otherwise. */
static const EVP_MD *hmac_md(const char *alg)
{
	if (!alg)
		return NULL;
	if (!strcmp(alg, "HS256"))
		return flint_md(FLINT_MD_SHA256);
	if (!strcmp(alg, "HS384"))
		return flint_md(FLINT_MD_SHA384);
	if (!strcmp(alg, "HS512"))
		return flint_md(FLINT_MD_SHA512);
	return NULL;
}

/* A string member that is non-empty and has no NUL inside. */
static bool is_plain_string(const json_t *v)
{
	return json_is_string(v) && json_string_length(v) > 0 &&
	       strlen(json_string_value(v)) == json_string_length(v);
}

/* §7.3.4: MAC alg, kid = the CA's key id, url = newAccount, no nonce, no jwk. */
/* RFC 7515 extensions flint does not implement: "crit", and "b64": false
 * (RFC 7797). Both kinds of JWS refuse them. */
static int refuse_extensions(const json_t *h, struct flint_problem **ret_problem)
{
	json_t *b64 = json_object_get(h, "b64");

	if (json_object_get(h, "crit")) {
		problem(ret_problem, FLINT_PROB_MALFORMED, "JWS \"crit\" header not supported");
		return FLINT_EINVAL;
	}
	if (b64 && !json_is_true(b64)) {
		problem(ret_problem, FLINT_PROB_MALFORMED, "unencoded JWS payload not allowed");
		return FLINT_EINVAL;
	}
	return 0;
}

static int parse_eab_header(const json_t *h, struct flint_jws *jws,
			    struct flint_problem **ret_problem)
{
	json_t *alg = json_object_get(h, "alg"), *url = json_object_get(h, "url");
	json_t *kid = json_object_get(h, "kid");

	if (!hmac_md(json_string_value(alg))) {
		if (ret_problem && !*ret_problem)
			*ret_problem = flint_problem_new(
			    FLINT_PROB_MALFORMED,
			    "externalAccountBinding alg must be HS256, HS384 or HS512, not \"%.32s\"",
			    json_is_string(alg) ? json_string_value(alg) : "(none)");
		return FLINT_EUNSUPPORTED;
	}
	if (refuse_extensions(h, ret_problem) < 0)
		return FLINT_EINVAL;
	if (json_object_get(h, "nonce")) {
		problem(ret_problem, FLINT_PROB_MALFORMED,
			"externalAccountBinding must not carry \"nonce\"");
		return FLINT_EINVAL;
	}
	if (json_object_get(h, "jwk")) {
		problem(ret_problem, FLINT_PROB_MALFORMED,
			"externalAccountBinding must carry \"kid\", not \"jwk\"");
		return FLINT_EINVAL;
	}
	if (!is_plain_string(kid)) {
		problem(ret_problem, FLINT_PROB_MALFORMED,
			"externalAccountBinding lacks a string \"kid\" (the key identifier)");
		return FLINT_EINVAL;
	}
	if (!is_plain_string(url)) {
		problem(ret_problem, FLINT_PROB_MALFORMED,
			"externalAccountBinding lacks a string \"url\"");
		return FLINT_EINVAL;
	}
	if (!(jws->alg = strdup(json_string_value(alg))) ||
	    !(jws->url = strdup(json_string_value(url))) ||
	    !(jws->kid = strdup(json_string_value(kid))))
		return FLINT_ENOMEM;
	return 0;
}

static int parse_header(const json_t *h, enum flint_jws_mode mode, struct flint_jws *jws,
			struct flint_problem **ret_problem)
{
	if (mode == FLINT_JWS_EAB)
		return parse_eab_header(h, jws, ret_problem);

	json_t *alg = json_object_get(h, "alg"), *nonce = json_object_get(h, "nonce");
	json_t *url = json_object_get(h, "url"), *kid = json_object_get(h, "kid");
	json_t *jwk = json_object_get(h, "jwk");
	int idx, r;

	if (!json_is_string(alg)) {
		problem(ret_problem, FLINT_PROB_MALFORMED, "JWS header lacks a string \"alg\"");
		return FLINT_EINVAL;
	}
	idx = alg_index(json_string_value(alg));
	if (idx < 0) {
		bad_alg_problem(ret_problem, "JWS algorithm not supported");
		return FLINT_EUNSUPPORTED;
	}
	if (refuse_extensions(h, ret_problem) < 0)
		return FLINT_EINVAL;
	if (jwk && kid) {
		problem(ret_problem, FLINT_PROB_MALFORMED, "JWS header has both \"jwk\" and \"kid\"");
		return FLINT_EINVAL;
	}
	if (mode == FLINT_JWS_INNER_KEYCHANGE) {
		if (!jwk || kid) {
			problem(ret_problem, FLINT_PROB_MALFORMED,
				"inner JWS must carry \"jwk\" and no \"kid\"");
			return FLINT_EINVAL;
		}
		if (nonce) {
			problem(ret_problem, FLINT_PROB_MALFORMED, "inner JWS must not carry \"nonce\"");
			return FLINT_EINVAL;
		}
	} else {
		if (!jwk && !kid) {
			problem(ret_problem, FLINT_PROB_MALFORMED,
				"JWS header needs one of \"jwk\" and \"kid\"");
			return FLINT_EINVAL;
		}
		/* RFC 8555 §6.5: an absent nonce is badNonce, a badly encoded one malformed. */
		if (!nonce) {
			problem(ret_problem, FLINT_PROB_BAD_NONCE, "JWS header lacks \"nonce\"");
			return FLINT_EINVAL;
		}
		if (!json_is_string(nonce) || json_string_length(nonce) == 0 ||
		    !is_b64url(json_string_value(nonce), json_string_length(nonce))) {
			problem(ret_problem, FLINT_PROB_MALFORMED,
				"JWS \"nonce\" is not a base64url string");
			return FLINT_EINVAL;
		}
	}
	if (!json_is_string(url) || json_string_length(url) == 0 ||
	    strlen(json_string_value(url)) != json_string_length(url)) {
		problem(ret_problem, FLINT_PROB_MALFORMED, "JWS header lacks a string \"url\"");
		return FLINT_EINVAL;
	}
	if (kid && (!json_is_string(kid) || json_string_length(kid) == 0 ||
		    strlen(json_string_value(kid)) != json_string_length(kid))) {
		problem(ret_problem, FLINT_PROB_MALFORMED, "JWS \"kid\" is not a string");
		return FLINT_EINVAL;
	}

	if (!(jws->alg = strdup(json_string_value(alg))) ||
	    !(jws->url = strdup(json_string_value(url))) ||
	    (nonce && !(jws->nonce = strdup(json_string_value(nonce)))) ||
	    (kid && !(jws->kid = strdup(json_string_value(kid)))))
		return FLINT_ENOMEM;
	if (jwk) {
		if (!json_is_object(jwk)) {
			problem(ret_problem, FLINT_PROB_MALFORMED, "JWS \"jwk\" is not an object");
			return FLINT_EINVAL;
		}
		r = flint_jwk_from_json(jwk, &jws->jwk);
		if (r == FLINT_EBADKEY) {
			problem(ret_problem, FLINT_PROB_BAD_PUBLIC_KEY,
				"JWS key refused: RSA 2048..8192, P-256, P-384, P-521 or Ed25519 only");
			return r;
		}
		if (r == FLINT_EINVAL) {
			problem(ret_problem, FLINT_PROB_MALFORMED, "JWS \"jwk\" is not a valid key");
			return r;
		}
		if (r < 0)
			return r;
		if (jws->jwk->type != jws_algs[idx].key) {
			bad_alg_problem(ret_problem, "JWS algorithm does not match the key type");
			return FLINT_EUNSUPPORTED;
		}
	}
	return 0;
}

int flint_jws_parse(const char *body, size_t len, enum flint_jws_mode mode,
		    struct flint_jws **ret, struct flint_problem **ret_problem)
{
	struct flint_jws *jws = NULL;
	json_t *doc = NULL, *hdr = NULL, *prot, *payload, *sig;
	uint8_t *hbuf = NULL, *pbuf = NULL;
	size_t hlen = 0, plen = 0, slen;
	const char *key;
	json_t *val;
	int r = FLINT_EINVAL;

	if (ret_problem)
		*ret_problem = NULL;
	if (!ret || (!body && len)) {
		problem(ret_problem, FLINT_PROB_MALFORMED, "no request body");
		return FLINT_EINVAL;
	}
	if (len > FLINT_JWS_MAX_BODY) {
		problem(ret_problem, FLINT_PROB_MALFORMED, "request body too large");
		return FLINT_ETOOBIG;
	}
	doc = json_loadb(body, len, JSON_REJECT_DUPLICATES, NULL);
	if (!json_is_object(doc)) {
		problem(ret_problem, FLINT_PROB_MALFORMED, "request body is not a JSON object");
		goto out;
	}
	json_object_foreach(doc, key, val) {
		if (strcmp(key, "protected") && strcmp(key, "payload") && strcmp(key, "signature")) {
			problem(ret_problem, FLINT_PROB_MALFORMED,
				"JWS must be flattened JSON with only protected, payload, signature");
			goto out;
		}
	}
	prot = json_object_get(doc, "protected");
	payload = json_object_get(doc, "payload");
	sig = json_object_get(doc, "signature");
	if (!json_is_string(prot) || !json_is_string(payload) || !json_is_string(sig)) {
		problem(ret_problem, FLINT_PROB_MALFORMED,
			"JWS needs string \"protected\", \"payload\" and \"signature\"");
		goto out;
	}
	jws = calloc(1, sizeof(*jws));
	if (!jws) {
		r = FLINT_ENOMEM;
		goto out;
	}
	if (flint_b64url_decode(json_string_value(prot), json_string_length(prot), &hbuf, &hlen) < 0 ||
	    flint_b64url_decode(json_string_value(payload), json_string_length(payload), &pbuf,
				&plen) < 0 ||
	    flint_b64url_decode(json_string_value(sig), json_string_length(sig), &jws->signature,
				&slen) < 0) {
		problem(ret_problem, FLINT_PROB_MALFORMED, "JWS field is not base64url without padding");
		goto out;
	}
	jws->signature_len = slen;
	hdr = json_loadb((const char *)hbuf, hlen, JSON_REJECT_DUPLICATES, NULL);
	if (!json_is_object(hdr)) {
		problem(ret_problem, FLINT_PROB_MALFORMED, "JWS protected header is not a JSON object");
		goto out;
	}
	r = parse_header(hdr, mode, jws, ret_problem);
	if (r < 0)
		goto out;
	/* Checked after the header so alg "none" reports badSignatureAlgorithm. */
	if (slen == 0) {
		problem(ret_problem, FLINT_PROB_MALFORMED, "JWS signature is empty");
		r = FLINT_EINVAL;
		goto out;
	}
	jws->payload = (char *)pbuf;
	jws->payload_len = plen;
	pbuf = NULL;
	jws->post_as_get = json_string_length(payload) == 0;
	if (asprintf(&jws->signing_input, "%s.%s", json_string_value(prot),
		     json_string_value(payload)) < 0) {
		jws->signing_input = NULL;
		r = FLINT_ENOMEM;
		goto out;
	}
	*ret = jws;
	jws = NULL;
	r = 0;
out:
	if (r == FLINT_ENOMEM)
		problem(ret_problem, FLINT_PROB_SERVER_INTERNAL, "out of memory");
	flint_jws_free(jws);
	free(hbuf);
	free(pbuf);
	json_decref(hdr);
	json_decref(doc);
	return r;
}

/* Raw r||s (RFC 7518 §3.4) to the DER ECDSA-Sig-Value OpenSSL verifies. */
static int ecdsa_raw_to_der(const unsigned char *sig, size_t half, unsigned char **ret,
			    size_t *ret_len)
{
	ECDSA_SIG *es = ECDSA_SIG_new();
	BIGNUM *r = BN_bin2bn(sig, (int)half, NULL), *s = BN_bin2bn(sig + half, (int)half, NULL);
	unsigned char *der = NULL;
	int len, rc = FLINT_ECRYPTO;

	if (!es || !r || !s || !ECDSA_SIG_set0(es, r, s))
		goto out;
	r = s = NULL; /* owned by es now */
	len = i2d_ECDSA_SIG(es, &der);
	if (len <= 0)
		goto out;
	*ret = der;
	*ret_len = (size_t)len;
	rc = 0;
out:
	BN_free(r);
	BN_free(s);
	ECDSA_SIG_free(es);
	return rc;
}

int flint_jws_verify(const struct flint_jws *jws, const struct flint_jwk *key,
		     struct flint_problem **ret_problem)
{
	EVP_MD_CTX *md = NULL;
	unsigned char *der = NULL;
	const unsigned char *sig;
	size_t siglen;
	int idx, r = FLINT_EINVAL, ok;

	if (ret_problem)
		*ret_problem = NULL;
	if (!jws || !key || !key->pkey || !jws->signing_input || !jws->signature) {
		problem(ret_problem, FLINT_PROB_MALFORMED, "JWS or key missing");
		return FLINT_EINVAL;
	}
	idx = alg_index(jws->alg);
	if (idx < 0 || jws_algs[idx].key != key->type) {
		bad_alg_problem(ret_problem, "JWS algorithm does not match the key type");
		return FLINT_EUNSUPPORTED;
	}
	sig = jws->signature;
	siglen = jws->signature_len;
	if (jws_algs[idx].ecdsa_half) {
		if (siglen != 2 * jws_algs[idx].ecdsa_half) {
			problem(ret_problem, FLINT_PROB_MALFORMED,
				"JWS signature verification failed");
			return FLINT_EBADSIG;
		}
		r = ecdsa_raw_to_der(sig, jws_algs[idx].ecdsa_half, &der, &siglen);
		if (r < 0)
			goto out;
		sig = der;
	}
	r = FLINT_ECRYPTO;
	if (flint_jwk_md_ctx(key, false, &md) < 0)
		goto out;
	ok = EVP_DigestVerify(md, sig, siglen, (const unsigned char *)jws->signing_input,
			      strlen(jws->signing_input));
	if (ok != 1) {
		problem(ret_problem, FLINT_PROB_MALFORMED, "JWS signature verification failed");
		r = FLINT_EBADSIG;
		goto out;
	}
	r = 0;
out:
	if (r == FLINT_ECRYPTO)
		problem(ret_problem, FLINT_PROB_SERVER_INTERNAL, "signature check failed");
	ERR_clear_error();
	OPENSSL_free(der);
	EVP_MD_CTX_free(md);
	return r;
}

/* DER ECDSA-Sig-Value back to fixed-width raw r||s. */
static int ecdsa_der_to_raw(const unsigned char *der, size_t len, size_t half,
			    unsigned char *out)
{
	const unsigned char *p = der;
	ECDSA_SIG *es = d2i_ECDSA_SIG(NULL, &p, (long)len);
	const BIGNUM *r, *s;
	int rc = FLINT_ECRYPTO;

	if (!es)
		return FLINT_ECRYPTO;
	ECDSA_SIG_get0(es, &r, &s);
	if (BN_bn2binpad(r, out, (int)half) < 0 || BN_bn2binpad(s, out + half, (int)half) < 0)
		goto out;
	rc = 0;
out:
	ECDSA_SIG_free(es);
	return rc;
}

/* A flattened JWS under construction: the encoded parts and the signing input. */
struct jws_parts {
	char *hb64, *pb64, *input;
};

static void jws_parts_clear(struct jws_parts *p)
{
	free(p->hb64);
	free(p->pb64);
	free(p->input);
}

/* Encodes the header (compact, sorted keys) and payload into p. */
static int jws_begin(const json_t *hdr, const char *payload, struct jws_parts *p)
{
	char *hstr = json_dumps(hdr, JSON_COMPACT | JSON_SORT_KEYS);
	int r = FLINT_ENOMEM;
	if (!hstr)
		return FLINT_ENOMEM;
	if ((r = flint_b64url_encode((const uint8_t *)hstr, strlen(hstr), &p->hb64)) < 0 ||
	    (r = flint_b64url_encode((const uint8_t *)payload, strlen(payload), &p->pb64)) < 0)
		goto out;
	r = FLINT_ENOMEM;
	if (asprintf(&p->input, "%s.%s", p->hb64, p->pb64) < 0) {
		p->input = NULL;
		goto out;
	}
	r = 0;
out:
	free(hstr);
	return r;
}

/* The flattened JSON serialization with signature sig. */
static int jws_finish(const struct jws_parts *p, const unsigned char *sig, size_t len, char **ret)
{
	char *sb64 = NULL, *out = NULL;
	json_t *doc = NULL;
	int r = flint_b64url_encode(sig, len, &sb64);
	if (r < 0)
		return r;
	r = FLINT_ENOMEM;
	doc = json_pack("{s:s, s:s, s:s}", "protected", p->hb64, "payload", p->pb64, "signature",
			sb64);
	if (doc && (out = json_dumps(doc, JSON_COMPACT))) {
		*ret = out;
		r = 0;
	}
	json_decref(doc);
	free(sb64);
	return r;
}

int flint_jws_sign_input(const struct flint_jwk *key, const unsigned char *in, size_t len,
			 unsigned char **ret, size_t *ret_len)
{
	EVP_MD_CTX *md = NULL;
	unsigned char *sig = NULL;
	size_t siglen = 0;
	int idx, r = FLINT_ECRYPTO;

	if (!key || !key->pkey || !in || !ret || !ret_len)
		return FLINT_EINVAL;
	idx = alg_index(flint_jwk_alg(key));
	if (idx < 0)
		return FLINT_EINVAL;
	if (flint_jwk_md_ctx(key, true, &md) < 0 || EVP_DigestSign(md, NULL, &siglen, in, len) != 1)
		goto out;
	if (!(sig = malloc(siglen))) {
		r = FLINT_ENOMEM;
		goto out;
	}
	if (EVP_DigestSign(md, sig, &siglen, in, len) != 1)
		goto out;
	*ret = sig;
	*ret_len = siglen;
	sig = NULL;
	r = 0;
out:
	ERR_clear_error();
	free(sig);
	EVP_MD_CTX_free(md);
	return r;
}

int flint_jws_sign(const struct flint_jwk *key, const char *kid, const char *nonce,
		   const char *url, const char *payload, char **ret)
{
	struct jws_parts parts = {0};
	json_t *hdr = NULL;
	unsigned char *sig = NULL, raw[132];
	size_t siglen = 0;
	const char *alg;
	int idx, r = FLINT_ENOMEM;

	if (!key || !key->pkey || !url || !ret)
		return FLINT_EINVAL;
	alg = flint_jwk_alg(key);
	idx = alg_index(alg);
	if (idx < 0)
		return FLINT_EINVAL;
	hdr = json_pack("{s:s, s:s}", "alg", alg, "url", url);
	if (!hdr)
		goto out;
	if (nonce && json_object_set_new(hdr, "nonce", json_string(nonce)) != 0)
		goto out;
	if (kid) {
		if (json_object_set_new(hdr, "kid", json_string(kid)) != 0)
			goto out;
	} else if (json_object_set(hdr, "jwk", key->public_json) != 0) {
		goto out;
	}
	if ((r = jws_begin(hdr, payload ? payload : "", &parts)) < 0)
		goto out;
	r = key->sign ? key->sign(key->sign_ctx, (const unsigned char *)parts.input,
				  strlen(parts.input), &sig, &siglen)
		      : flint_jws_sign_input(key, (const unsigned char *)parts.input,
					     strlen(parts.input), &sig, &siglen);
	if (r < 0)
		goto out;
	if (jws_algs[idx].ecdsa_half) {
		/* JWS carries raw r||s, not DER (RFC 7518 §3.4) */
		if ((r = ecdsa_der_to_raw(sig, siglen, jws_algs[idx].ecdsa_half, raw)) < 0)
			goto out;
		r = jws_finish(&parts, raw, 2 * jws_algs[idx].ecdsa_half, ret);
	} else {
		r = jws_finish(&parts, sig, siglen, ret);
	}
out:
	ERR_clear_error();
	json_decref(hdr);
	jws_parts_clear(&parts);
	free(sig);
	return r;
}

int flint_jws_sign_hmac(const char *alg, const char *kid, const char *url,
			const unsigned char *key, size_t key_len, const char *payload, char **ret)
{
	struct jws_parts parts = {0};
	json_t *hdr = NULL;
	unsigned char mac[EVP_MAX_MD_SIZE];
	unsigned int mac_len = 0;
	const EVP_MD *md;
	int r = FLINT_ENOMEM;

	if (!alg || !kid || !url || !key || key_len == 0 || key_len > INT32_MAX || !payload || !ret)
		return FLINT_EINVAL;
	if (!(md = hmac_md(alg)))
		return FLINT_EINVAL;
	hdr = json_pack("{s:s, s:s, s:s}", "alg", alg, "kid", kid, "url", url);
	if (!hdr || (r = jws_begin(hdr, payload, &parts)) < 0)
		goto out;
	r = FLINT_ECRYPTO;
	if (!HMAC(md, key, (int)key_len, (const unsigned char *)parts.input, strlen(parts.input),
		  mac, &mac_len))
		goto out;
	r = jws_finish(&parts, mac, mac_len, ret);
out:
	ERR_clear_error();
	OPENSSL_cleanse(mac, sizeof(mac));
	json_decref(hdr);
	jws_parts_clear(&parts);
	return r;
}

int flint_jws_verify_hmac(const struct flint_jws *jws, const unsigned char *key, size_t key_len,
			  struct flint_problem **ret_problem)
{
	unsigned char mac[EVP_MAX_MD_SIZE];
	unsigned int mac_len = 0;
	const EVP_MD *md;
	int r;

	if (ret_problem)
		*ret_problem = NULL;
	if (!jws || !jws->signing_input || !jws->signature || !key || key_len == 0 ||
	    key_len > INT32_MAX) {
		problem(ret_problem, FLINT_PROB_MALFORMED, "JWS or key missing");
		return FLINT_EINVAL;
	}
	md = hmac_md(jws->alg);
	if (!md) {
		problem(ret_problem, FLINT_PROB_MALFORMED, "JWS algorithm is not HS256, HS384 or HS512");
		return FLINT_EUNSUPPORTED;
	}
	if (!HMAC(md, key, (int)key_len, (const unsigned char *)jws->signing_input,
		  strlen(jws->signing_input), mac, &mac_len)) {
		ERR_clear_error();
		problem(ret_problem, FLINT_PROB_SERVER_INTERNAL, "MAC computation failed");
		return FLINT_ECRYPTO;
	}
	/* the length is public (it follows from alg); the bytes are compared in constant time */
	r = jws->signature_len == mac_len && CRYPTO_memcmp(mac, jws->signature, mac_len) == 0
		? 0
		: FLINT_EBADSIG;
	OPENSSL_cleanse(mac, sizeof(mac));
	if (r < 0)
		problem(ret_problem, FLINT_PROB_UNAUTHORIZED,
			"externalAccountBinding MAC does not verify with the key of this kid");
	return r;
}
