/* PKCS#10 requests (RFC 2986) as an ACME client sends them in finalize
 * (RFC 8555 §7.4): subjectAltName dNSNames, CN the first name when it fits. */
#include "csr_build.h"

#include <openssl/err.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <string.h>

#include "csr.h"
#include "error.h"
#include "identifier.h"
#include "jwk.h"
#include "x509util.h"

#define CN_MAX 64 /* ub-common-name (RFC 5280 Appendix A) */

static int add_san(X509_REQ *req, const char *const *names, size_t n)
{
	STACK_OF(X509_EXTENSION) *exts = NULL;
	GENERAL_NAMES *gens = NULL;
	X509_EXTENSION *ext = NULL;
	int r = FLINT_ENOMEM;

	gens = sk_GENERAL_NAME_new_null();
	if (!gens)
		goto out;
	for (size_t i = 0; i < n; i++) {
		GENERAL_NAME *g = NULL;

		int rr = flint_general_name_of(flint_is_ip_address(names[i]) ? "ip" : "dns",
					       names[i], &g);

		if (rr < 0) {
			r = rr;
			goto out;
		}
		if (!sk_GENERAL_NAME_push(gens, g)) {
			GENERAL_NAME_free(g);
			goto out;
		}
	}
	ext = X509V3_EXT_i2d(NID_subject_alt_name, 0, gens);
	exts = sk_X509_EXTENSION_new_null();
	if (!ext || !exts || !sk_X509_EXTENSION_push(exts, ext))
		goto out;
	ext = NULL;
	if (!X509_REQ_add_extensions(req, exts))
		goto out;
	r = 0;
out:
	X509_EXTENSION_free(ext);
	sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
	GENERAL_NAMES_free(gens);
	return r;
}

int flint_csr_build(EVP_PKEY *key, const char *const *names, size_t n, unsigned char **ret,
		    size_t *ret_len)
{
	enum flint_key_type type;
	X509_REQ *req = NULL;
	X509_NAME *subj = NULL;
	const EVP_MD *md;
	int r;

	if (!key || !names || n == 0 || n > FLINT_CSR_MAX_NAMES || !ret || !ret_len)
		return FLINT_EINVAL;
	for (size_t i = 0; i < n; i++)
		if (!names[i] || !*names[i])
			return FLINT_EINVAL;
	if ((r = flint_key_type_of(key, &type)) < 0)
		return r;
	md = type == FLINT_KEY_ED25519 ? NULL : EVP_sha256();
	r = FLINT_ENOMEM;
	req = X509_REQ_new();
	subj = X509_NAME_new();
	if (!req || !subj)
		goto out;
	r = FLINT_ECRYPTO;
	if (!X509_REQ_set_version(req, X509_REQ_VERSION_1))
		goto out;
	/* an address is no common name: CN only for a DNS name */
	if (strlen(names[0]) <= CN_MAX && !flint_is_ip_address(names[0]) &&
	    !X509_NAME_add_entry_by_txt(subj, "CN", MBSTRING_ASC,
					(const unsigned char *)names[0], -1, -1, 0))
		goto out;
	if (!X509_REQ_set_subject_name(req, subj))
		goto out;
	r = flint_spki_of_key(X509_REQ_get_X509_PUBKEY(req), key);
	if (r == FLINT_EUNSUPPORTED)
		r = X509_REQ_set_pubkey(req, key) ? 0 : FLINT_ECRYPTO;
	if (r < 0)
		goto out;
	if ((r = add_san(req, names, n)) < 0)
		goto out;
	r = FLINT_ECRYPTO;
	if (X509_REQ_sign(req, key, md) <= 0)
		goto out;
	r = flint_der_encode((const ASN1_VALUE *)req, ASN1_ITEM_rptr(X509_REQ), ret, ret_len);
out:
	ERR_clear_error();
	X509_NAME_free(subj);
	X509_REQ_free(req);
	return r;
}
