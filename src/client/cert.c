/* PEM certificate chains for the flint client (RFC 8555 §7.4.2): parse,
 * re-encode leaf/chain/fullchain, check key and names, read the validity. */
#include "cert.h"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "output.h"
#include "pem.h"
#include "x509util.h"

void flint_chain_free(struct flint_chain *c)
{
	if (!c)
		return;
	X509_free(c->leaf);
	sk_X509_pop_free(c->issuers, X509_free);
	free(c->cert_pem);
	free(c->chain_pem);
	free(c->fullchain_pem);
	free(c);
}

int flint_cert_validity(X509 *x, int64_t *ret_not_before, int64_t *ret_not_after)
{
	int64_t nb, na;

	if (!x || flint_asn1_time_unix(X509_get0_notBefore(x), &nb) < 0 ||
	    flint_asn1_time_unix(X509_get0_notAfter(x), &na) < 0)
		return FLINT_EINVAL;
	*ret_not_before = nb;
	*ret_not_after = na;
	return 0;
}

char *flint_cert_serial_hex(X509 *x)
{
	BIGNUM *bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(x), NULL);
	char *hex = bn ? BN_bn2hex(bn) : NULL, *out = hex ? strdup(hex) : NULL;

	OPENSSL_free(hex);
	BN_free(bn);
	return out;
}

static int pem_of(X509 *x, BIO *b)
{
	return PEM_write_bio_X509(b, x) == 1 ? 0 : FLINT_ECRYPTO;
}

int flint_chain_parse(const char *pem, size_t len, struct flint_chain **ret, char **ret_err)
{
	struct flint_chain *c = NULL;
	BIO *in = NULL, *leaf_b = NULL, *chain_b = NULL;
	X509 *x = NULL;
	int r = FLINT_ENOMEM, n = 0;

	if (!pem || len > INT32_MAX)
		return FLINT_EINVAL;
	c = calloc(1, sizeof(*c));
	in = BIO_new_mem_buf(pem, (int)len);
	leaf_b = BIO_new(BIO_s_mem());
	chain_b = BIO_new(BIO_s_mem());
	if (!c || !in || !leaf_b || !chain_b || !(c->issuers = sk_X509_new_null()))
		goto out;
	while ((x = PEM_read_bio_X509(in, NULL, NULL, NULL)) != NULL) {
		if (++n > FLINT_CHAIN_MAX_CERTS) {
			flint_set_err(ret_err, "the certificate chain has more than %d certificates",
				      FLINT_CHAIN_MAX_CERTS);
			r = FLINT_ETOOBIG;
			goto out;
		}
		if (!c->leaf) {
			if ((r = pem_of(x, leaf_b)) < 0)
				goto out;
			c->leaf = x;
		} else {
			if ((r = pem_of(x, chain_b)) < 0)
				goto out;
			if (!sk_X509_push(c->issuers, x)) {
				r = FLINT_ENOMEM;
				goto out;
			}
		}
		x = NULL;
	}
	if (!c->leaf) {
		flint_set_err(ret_err, "the certificate download holds no PEM certificate");
		r = FLINT_EPROTO;
		goto out;
	}
	r = FLINT_ENOMEM;
	if (flint_bio_string(leaf_b, &c->cert_pem, NULL) < 0 ||
	    flint_bio_string(chain_b, &c->chain_pem, NULL) < 0 ||
	    !(c->fullchain_pem = flint_strdupf("%s%s", c->cert_pem, c->chain_pem)))
		goto out;
	if (flint_cert_validity(c->leaf, &c->not_before, &c->not_after) < 0) {
		flint_set_err(ret_err, "the certificate's validity dates are unreadable");
		r = FLINT_EPROTO;
		goto out;
	}
	*ret = c;
	c = NULL;
	r = 0;
out:
	ERR_clear_error();
	X509_free(x);
	BIO_free(in);
	BIO_free(leaf_b);
	BIO_free(chain_b);
	flint_chain_free(c);
	return r;
}

static bool has_dns_name(const GENERAL_NAMES *gens, const char *name)
{
	for (int i = 0; i < sk_GENERAL_NAME_num(gens); i++) {
		const GENERAL_NAME *g = sk_GENERAL_NAME_value(gens, i);
		const unsigned char *d;
		size_t len;

		if (g->type != GEN_DNS)
			continue;
		d = ASN1_STRING_get0_data(g->d.dNSName);
		len = (size_t)ASN1_STRING_length(g->d.dNSName);
		if (len == strlen(name) && strncasecmp((const char *)d, name, len) == 0)
			return true;
	}
	return false;
}

int flint_chain_check(const struct flint_chain *c, EVP_PKEY *key, const char *const *names,
		      size_t n, char **ret_err)
{
	GENERAL_NAMES *gens = NULL;
	EVP_PKEY *pub;
	int r = FLINT_EPROTO;

	pub = X509_get0_pubkey(c->leaf);
	if (!pub || EVP_PKEY_eq(pub, key) != 1) {
		flint_set_err(ret_err, "the certificate's public key is not the key flint generated");
		goto out;
	}
	gens = X509_get_ext_d2i(c->leaf, NID_subject_alt_name, NULL, NULL);
	for (size_t i = 0; i < n; i++) {
		if (!gens || !has_dns_name(gens, names[i])) {
			flint_set_err(ret_err, "%s: the certificate does not name it", names[i]);
			goto out;
		}
	}
	r = 0;
out:
	ERR_clear_error();
	GENERAL_NAMES_free(gens);
	return r;
}
