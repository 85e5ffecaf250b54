/* PKCS#10 requests (RFC 2986) as ACME finalize carries them (RFC 8555 §7.4):
 * strict DER, self-signature, key policy, and the dns names and IP addresses
 * (RFC 8738 §3) requested. */
#include "csr.h"

#include <arpa/inet.h>
#include <openssl/asn1t.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/x509v3.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "x509util.h"

/* The request as RFC 2986 §4 lays it out. OpenSSL's own X509_REQ decodes the
 * subject key with the provider decoder on every d2i (OSSL_DECODER_CTX_new_for_pkey
 * under global locks, several % of flintd's CPU per issuance), so these
 * templates keep the key as algorithm and bits; flint_spki_key decodes the usual
 * key types directly. The typedefs are what the template macros need. */
/* clang-format off */
typedef struct csr_spki_st {
	X509_ALGOR *algorithm;
	ASN1_BIT_STRING *key;
} CSR_SPKI;

ASN1_SEQUENCE(CSR_SPKI) = {
	ASN1_SIMPLE(CSR_SPKI, algorithm, X509_ALGOR),
	ASN1_SIMPLE(CSR_SPKI, key, ASN1_BIT_STRING),
} static_ASN1_SEQUENCE_END(CSR_SPKI)

typedef struct csr_info_st {
	ASN1_ENCODING enc; /* the bytes as received, which the signature covers */
	ASN1_INTEGER *version;
	X509_NAME *subject;
	CSR_SPKI *spki;
	STACK_OF(X509_ATTRIBUTE) *attributes;
} CSR_INFO;

/* attributes is OPTIONAL as in OpenSSL's X509_REQ_INFO (it tolerates
 * requests that leave the mandatory [0] out). */
ASN1_SEQUENCE_enc(CSR_INFO, enc, 0) = {
	ASN1_SIMPLE(CSR_INFO, version, ASN1_INTEGER),
	ASN1_SIMPLE(CSR_INFO, subject, X509_NAME),
	ASN1_SIMPLE(CSR_INFO, spki, CSR_SPKI),
	ASN1_IMP_SET_OF_OPT(CSR_INFO, attributes, X509_ATTRIBUTE, 0),
} static_ASN1_SEQUENCE_END_ref(CSR_INFO, CSR_INFO)

typedef struct csr_req_st {
	CSR_INFO *info;
	X509_ALGOR *sig_alg;
	ASN1_BIT_STRING *signature;
} CSR_REQ;

ASN1_SEQUENCE(CSR_REQ) = {
	ASN1_SIMPLE(CSR_REQ, info, CSR_INFO),
	ASN1_SIMPLE(CSR_REQ, sig_alg, X509_ALGOR),
	ASN1_SIMPLE(CSR_REQ, signature, ASN1_BIT_STRING),
} static_ASN1_SEQUENCE_END(CSR_REQ)

/* clang-format on */

static int csr_problem(struct flint_problem **ret_problem, int r, const char *detail,
		       const char *name)
{
	if (ret_problem && !*ret_problem) {
		if (r == FLINT_ENOMEM)
			*ret_problem = flint_problem_new(FLINT_PROB_SERVER_INTERNAL, "out of memory");
		else if (name)
			*ret_problem = flint_problem_new(FLINT_PROB_BAD_CSR, "%s: %s", detail, name);
		else
			*ret_problem = flint_problem_new(FLINT_PROB_BAD_CSR, "%s", detail ? detail : "invalid CSR");
	}
	return r;
}

/* Appends the normalised identifier (type, norm) unless already present;
 * takes norm. */
static int add_id(struct flint_csr *csr, const char *type, char *norm,
		  struct flint_problem **ret_problem)
{
	struct flint_identifier *grown;

	for (size_t i = 0; i < csr->n_ids; i++) {
		if (strcmp(csr->ids[i].type, type) == 0 && strcmp(csr->ids[i].value, norm) == 0) {
			free(norm);
			return 0;
		}
	}
	if (csr->n_ids >= FLINT_CSR_MAX_NAMES) {
		free(norm);
		return csr_problem(ret_problem, FLINT_EINVAL, "CSR has too many names", NULL);
	}
	grown = realloc(csr->ids, (csr->n_ids + 1) * sizeof(*csr->ids));
	if (!grown) {
		free(norm);
		return csr_problem(ret_problem, FLINT_ENOMEM, NULL, NULL);
	}
	csr->ids = grown;
	csr->ids[csr->n_ids].type = strdup(type);
	if (!csr->ids[csr->n_ids].type) {
		free(norm);
		return csr_problem(ret_problem, FLINT_ENOMEM, NULL, NULL);
	}
	csr->ids[csr->n_ids].value = norm;
	csr->n_ids++;
	return 0;
}

/* Normalises one textual name of type "dns" or "ip" and appends it; a
 * refusal is a badCSR problem with a rejectedIdentifier subproblem. */
static int add_text(struct flint_csr *csr, const char *type, const char *text,
		    struct flint_problem **ret_problem)
{
	struct flint_problem *why = NULL;
	char *norm = NULL;
	int r;

	r = strcmp(type, "ip") == 0 ? flint_ip_normalize(text, &norm, &why)
				    : flint_dns_name_normalize(text, &norm, &why);
	if (r < 0) {
		if (ret_problem && !*ret_problem && r != FLINT_ENOMEM) {
			*ret_problem = flint_problem_new(FLINT_PROB_BAD_CSR, "CSR %s \"%.255s\": %s",
							 strcmp(type, "ip") == 0 ? "IP address" : "name",
							 text, why ? why->detail : "invalid");
			if (*ret_problem)
				flint_problem_add_sub(*ret_problem, FLINT_PROB_REJECTED_IDENTIFIER,
						      type, text, "%s", why ? why->detail : "invalid");
		}
		flint_problem_free(why);
		return csr_problem(ret_problem, r, NULL, NULL);
	}
	return add_id(csr, type, norm, ret_problem);
}

/* A raw CN or dNSName: an IPv4/IPv6 literal in the CN is an ip identifier
 * (clients such as lego put the first name there, address or not); in a
 * dNSName it is refused by the dns normaliser. */
static int add_name(struct flint_csr *csr, const unsigned char *raw, int rawlen, bool is_cn,
		    struct flint_problem **ret_problem)
{
	char *copy;
	int r;

	if (rawlen < 0)
		return csr_problem(ret_problem, FLINT_EINVAL, "CSR name unreadable", NULL);
	copy = malloc((size_t)rawlen + 1);
	if (!copy)
		return csr_problem(ret_problem, FLINT_ENOMEM, NULL, NULL);
	memcpy(copy, raw, (size_t)rawlen);
	copy[rawlen] = '\0';
	if (strlen(copy) != (size_t)rawlen) {
		free(copy);
		return csr_problem(ret_problem, FLINT_EINVAL, "CSR name contains NUL", NULL);
	}
	r = add_text(csr, is_cn && flint_is_ip_address(copy) ? "ip" : "dns", copy, ret_problem);
	free(copy);
	return r;
}

/* An iPAddress SAN (RFC 5280 §4.2.1.6): 4 or 16 octets; the 8/32-octet
 * name-constraint forms and anything else are refused. */
static int add_ip(struct flint_csr *csr, const ASN1_OCTET_STRING *ip,
		  struct flint_problem **ret_problem)
{
	char text[INET6_ADDRSTRLEN];
	int len = ASN1_STRING_length(ip);
	int af = len == 4 ? AF_INET : len == 16 ? AF_INET6 : 0;

	if (!af || !inet_ntop(af, ASN1_STRING_get0_data(ip), text, sizeof(text)))
		return csr_problem(ret_problem, FLINT_EINVAL,
				   "CSR iPAddress SAN is neither 4 nor 16 octets", NULL);
	return add_text(csr, "ip", text, ret_problem);
}

static int collect_cn(struct flint_csr *csr, const X509_NAME *subj,
		      struct flint_problem **ret_problem)
{
	int pos = -1, r;

	if (!subj)
		return 0;
	while ((pos = X509_NAME_get_index_by_NID(subj, NID_commonName, pos)) >= 0) {
		X509_NAME_ENTRY *e = X509_NAME_get_entry(subj, pos);
		unsigned char *utf8 = NULL;
		int len = ASN1_STRING_to_UTF8(&utf8, X509_NAME_ENTRY_get_data(e));

		if (len < 0)
			return csr_problem(ret_problem, FLINT_EINVAL, "CSR common name unreadable",
					   NULL);
		r = add_name(csr, utf8, len, true, ret_problem);
		OPENSSL_free(utf8);
		if (r < 0)
			return r;
	}
	return 0;
}

/* The extensions of the extensionRequest attribute (RFC 2985 §5.4.2), or of
 * Microsoft's older OID for it, found as X509_REQ_get_extensions finds them
 * (the first extensionRequest, else the first msExtReq); *ret is NULL when
 * there is none. X509_REQ_get_extensions answers NULL, which looks like "no
 * extensions", for an attribute it cannot read; here that is refused, so a
 * request is never taken with fewer names than it asks for. */
static int ext_request(const STACK_OF(X509_ATTRIBUTE) *attrs, STACK_OF(X509_EXTENSION) **ret,
		       struct flint_problem **ret_problem)
{
	static const int nids[] = {NID_ext_req, NID_ms_ext_req};
	X509_ATTRIBUTE *attr = NULL;
	STACK_OF(X509_EXTENSION) *exts = NULL;
	const ASN1_TYPE *value;
	const unsigned char *p, *end;

	*ret = NULL;
	for (size_t i = 0; !attr && i < sizeof(nids) / sizeof(nids[0]); i++) {
		for (int j = 0; !attr && j < sk_X509_ATTRIBUTE_num(attrs); j++) {
			X509_ATTRIBUTE *a = sk_X509_ATTRIBUTE_value(attrs, j);

			if (OBJ_obj2nid(X509_ATTRIBUTE_get0_object(a)) == nids[i])
				attr = a;
		}
	}
	/* An empty SET of values carries no extensions, as before. */
	if (!attr || X509_ATTRIBUTE_count(attr) == 0)
		return 0;
	value = X509_ATTRIBUTE_get0_type(attr, 0);
	if (X509_ATTRIBUTE_count(attr) != 1 || !value || value->type != V_ASN1_SEQUENCE)
		return csr_problem(ret_problem, FLINT_EINVAL, "CSR subjectAltName unreadable",
				   NULL);
	p = value->value.sequence->data;
	end = p + value->value.sequence->length;
	exts = d2i_X509_EXTENSIONS(NULL, &p, value->value.sequence->length);
	if (!exts || p != end) {
		sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
		return csr_problem(ret_problem, FLINT_EINVAL, "CSR subjectAltName unreadable",
				   NULL);
	}
	*ret = exts;
	return 0;
}

static int collect_san(struct flint_csr *csr, const STACK_OF(X509_ATTRIBUTE) *attrs,
		       struct flint_problem **ret_problem)
{
	STACK_OF(X509_EXTENSION) *exts = NULL;
	GENERAL_NAMES *gens = NULL;
	int r, pos, crit = -1;

	r = ext_request(attrs, &exts, ret_problem);
	if (r < 0 || !exts)
		return r;
	pos = X509v3_get_ext_by_NID(exts, NID_subject_alt_name, -1);
	if (pos < 0)
		goto out;
	if (X509v3_get_ext_by_NID(exts, NID_subject_alt_name, pos) >= 0) {
		r = csr_problem(ret_problem, FLINT_EINVAL, "CSR has two subjectAltName extensions",
				NULL);
		goto out;
	}
	gens = X509V3_get_d2i(exts, NID_subject_alt_name, &crit, NULL);
	if (!gens) {
		r = csr_problem(ret_problem, FLINT_EINVAL, "CSR subjectAltName unreadable", NULL);
		goto out;
	}
	for (int i = 0; i < sk_GENERAL_NAME_num(gens); i++) {
		GENERAL_NAME *g = sk_GENERAL_NAME_value(gens, i);

		if (g->type == GEN_IPADD) {
			r = add_ip(csr, g->d.iPAddress, ret_problem);
		} else if (g->type == GEN_DNS) {
			r = add_name(csr, ASN1_STRING_get0_data(g->d.dNSName),
				     ASN1_STRING_length(g->d.dNSName), false, ret_problem);
		} else {
			r = csr_problem(ret_problem, FLINT_EINVAL,
					"CSR subjectAltName has a name type other than dNSName "
					"and iPAddress",
					NULL);
			goto out;
		}
		if (r < 0)
			goto out;
	}
out:
	GENERAL_NAMES_free(gens);
	sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
	return r;
}

/* The number of unused bits in the last octet of a BIT STRING. */
static int unused_bits(const ASN1_BIT_STRING *bs)
{
	return (bs->flags & ASN1_STRING_FLAG_BITS_LEFT) ? (int)(bs->flags & 0x07) : 0;
}

/* The subject key of the request: as received (algorithm, parameters and
 * bits copied, not decoded) and decoded (flint_spki_key). A key bit string
 * with unused bits is FLINT_EINVAL. */
static int make_key(const CSR_SPKI *in, X509_PUBKEY **ret_spki, EVP_PKEY **ret_pkey)
{
	X509_PUBKEY *spki = NULL;
	EVP_PKEY *pkey = NULL;
	int r = FLINT_EINVAL;

	if (unused_bits(in->key) != 0)
		goto out;
	r = FLINT_ENOMEM;
	if (!(spki = X509_PUBKEY_new()))
		goto out;
	r = flint_spki_set(spki, in->algorithm, ASN1_STRING_get0_data(in->key),
			   ASN1_STRING_length(in->key));
	if (r < 0 || (r = flint_spki_key(spki, &pkey)) < 0)
		goto out;
	*ret_spki = spki;
	*ret_pkey = pkey;
	spki = NULL;
	r = 0;
out:
	X509_PUBKEY_free(spki);
	return r;
}

int flint_csr_parse_der(const unsigned char *der, size_t len, struct flint_csr **ret,
			struct flint_problem **ret_problem)
{
	struct flint_csr *csr = NULL;
	CSR_REQ *req = NULL;
	const unsigned char *p = der;
	int r = FLINT_EINVAL;

	if (ret_problem)
		*ret_problem = NULL;
	if (!ret || !der || len == 0)
		return csr_problem(ret_problem, FLINT_EINVAL, "CSR missing", NULL);
	if (len > FLINT_CSR_MAX_DER)
		return csr_problem(ret_problem, FLINT_ETOOBIG, "CSR too large", NULL);
	csr = calloc(1, sizeof(*csr));
	if (!csr)
		return csr_problem(ret_problem, FLINT_ENOMEM, NULL, NULL);
	req = (CSR_REQ *)ASN1_item_d2i(NULL, &p, (long)len, ASN1_ITEM_rptr(CSR_REQ));
	if (!req || p != der + len) {
		r = csr_problem(ret_problem, FLINT_EINVAL, "CSR is not a single DER PKCS#10 request",
				NULL);
		goto out;
	}
	r = make_key(req->info->spki, &csr->spki, &csr->pkey);
	if (r < 0) {
		r = csr_problem(ret_problem, r == FLINT_ENOMEM ? FLINT_ENOMEM : FLINT_EINVAL,
				"CSR public key unreadable", NULL);
		goto out;
	}
	/* the signature covers info as received (CSR_INFO keeps its encoding) */
	if (ASN1_item_verify_ex(ASN1_ITEM_rptr(CSR_INFO), req->sig_alg, req->signature, req->info,
				NULL, csr->pkey, NULL, NULL) != 1) {
		r = csr_problem(ret_problem, FLINT_EBADSIG, "CSR signature does not verify", NULL);
		goto out;
	}
	r = flint_key_type_of(csr->pkey, &csr->key_type);
	if (r < 0) {
		r = csr_problem(ret_problem, r == FLINT_EBADKEY ? FLINT_EBADKEY : FLINT_EINVAL,
				"CSR uses a weak or disallowed key", NULL);
		goto out;
	}
	if ((r = collect_cn(csr, req->info->subject, ret_problem)) < 0 ||
	    (r = collect_san(csr, req->info->attributes, ret_problem)) < 0)
		goto out;
	if (csr->n_ids == 0) {
		r = csr_problem(ret_problem, FLINT_EINVAL, "CSR requests no names", NULL);
		goto out;
	}
	*ret = csr;
	csr = NULL;
	r = 0;
out:
	ERR_clear_error();
	ASN1_item_free((ASN1_VALUE *)req, ASN1_ITEM_rptr(CSR_REQ));
	flint_csr_free(csr);
	return r;
}

void flint_csr_free(struct flint_csr *csr)
{
	if (!csr)
		return;
	X509_PUBKEY_free(csr->spki);
	EVP_PKEY_free(csr->pkey);
	for (size_t i = 0; i < csr->n_ids; i++)
		flint_identifier_clear(&csr->ids[i]);
	free(csr->ids);
	free(csr);
}
