/* PEM certificate chains for the flint client (RFC 8555 §7.4.2): parse,
 * re-encode leaf/chain/fullchain, check key and names, read the validity. */
#include "cert.h"

#include <arpa/inet.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "identifier.h"
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

/* Whether PEM_read_bio_X509 stopped because no block was left (not on a bad one). */
static bool at_end_of_pem(void)
{
	unsigned long e = ERR_peek_last_error();

	return ERR_GET_LIB(e) == ERR_LIB_PEM && ERR_GET_REASON(e) == PEM_R_NO_START_LINE;
}

/* How many certificate BEGIN lines pem[0..len) holds. */
static int begin_lines(const char *pem, size_t len)
{
	static const char begin[] = "-----BEGIN CERTIFICATE-----";
	const char *p = pem, *end = pem + len, *hit;
	int n = 0;

	while ((hit = memmem(p, (size_t)(end - p), begin, sizeof(begin) - 1)) != NULL) {
		n++;
		p = hit + sizeof(begin) - 1;
	}
	return n;
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
	ERR_clear_error(); /* the loop's end is told apart by the error it leaves */
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
	/* only running out of blocks ends a good chain: a truncated or corrupt
	 * block, or a BEGIN line the PEM reader took for text (a NUL byte in it),
	 * must not quietly shorten it to the certificates before it */
	if (!at_end_of_pem() || begin_lines(pem, len) != n) {
		flint_set_err(ret_err,
			      "certificate %d of the chain is not a readable PEM certificate",
			      n + 1);
		r = FLINT_EPROTO;
		goto out;
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

static X509 *top_of(const struct flint_chain *c)
{
	int n = c->issuers ? sk_X509_num(c->issuers) : 0;

	return n > 0 ? sk_X509_value(c->issuers, n - 1) : c->leaf;
}

/* The CN of name into a malloc'd string, NULL when it has none. */
static char *cn_of(const X509_NAME *name)
{
	int i = X509_NAME_get_index_by_NID(name, NID_commonName, -1);
	const ASN1_STRING *s;
	unsigned char *utf8 = NULL;
	char *out = NULL;
	int len;

	if (i < 0 || !(s = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, i))))
		return NULL;
	len = ASN1_STRING_to_UTF8(&utf8, s);
	if (len >= 0)
		out = strndup((const char *)utf8, (size_t)len);
	OPENSSL_free(utf8);
	return out;
}

char *flint_chain_top_issuer(const struct flint_chain *c)
{
	return c && c->leaf ? cn_of(X509_get_issuer_name(top_of(c))) : NULL;
}

bool flint_chain_top_named(const struct flint_chain *c, const char *name)
{
	X509 *top;
	char *issuer, *subject = NULL;
	bool match;

	if (!c || !c->leaf || !name)
		return false;
	top = top_of(c);
	issuer = cn_of(X509_get_issuer_name(top));
	/* a root included at the top names itself; an intermediate's subject does not count */
	if (top != c->leaf && X509_NAME_cmp(X509_get_subject_name(top), X509_get_issuer_name(top)) == 0)
		subject = cn_of(X509_get_subject_name(top));
	match = (issuer && !strcmp(issuer, name)) || (subject && !strcmp(subject, name));
	free(issuer);
	free(subject);
	return match;
}

static bool has_ip(const GENERAL_NAMES *gens, const char *name)
{
	unsigned char a[16];
	int len = 4;

	if (inet_pton(AF_INET, name, a) != 1) {
		if (inet_pton(AF_INET6, name, a) != 1)
			return false;
		len = 16;
	}
	for (int i = 0; i < sk_GENERAL_NAME_num(gens); i++) {
		const GENERAL_NAME *g = sk_GENERAL_NAME_value(gens, i);

		if (g->type == GEN_IPADD && ASN1_STRING_length(g->d.iPAddress) == len &&
		    memcmp(ASN1_STRING_get0_data(g->d.iPAddress), a, (size_t)len) == 0)
			return true;
	}
	return false;
}

static bool has_dns_name(const GENERAL_NAMES *gens, const char *name)
{
	if (flint_is_ip_address(name))
		return has_ip(gens, name);
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
