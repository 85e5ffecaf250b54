/* Unit tests for the client's optional features: profile selection against
 * canned directories (draft-ietf-acme-profiles), Link rel="alternate" parsing
 * and chain choice (RFC 8555 §7.4.2), the EAB member (§7.3.4), IP names in
 * CSRs (RFC 8738). */
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "account.h"
#include "acme.h"
#include "b64.h"
#include "cert.h"
#include "check.h"
#include "test_certs.h"
#include "csr_build.h"
#include "error.h"
#include "http.h"
#include "identifier.h"

static void test_profile_check(void)
{
	static const char dir_with[] =
	    "{\"newNonce\":\"https://ca/n\",\"meta\":{\"profiles\":{\"classic\":\"the usual\","
	    "\"shortlived\":\"https://ca/docs#short\"}}}";
	static const char dir_without[] = "{\"newNonce\":\"https://ca/n\",\"meta\":{}}";
	json_t *d1 = json_loads(dir_with, 0, NULL), *d2 = json_loads(dir_without, 0, NULL);
	const json_t *p1 = json_object_get(json_object_get(d1, "meta"), "profiles");
	const json_t *p2 = json_object_get(json_object_get(d2, "meta"), "profiles");
	char *err = NULL;

	CHECK_INT(flint_acme_profile_check(p1, "https://ca/dir", "shortlived", &err), 0);
	CHECK(err == NULL);
	CHECK_INT(flint_acme_profile_check(p1, "https://ca/dir", NULL, &err), 0);
	CHECK_INT(flint_acme_profile_check(p2, "https://ca/dir", NULL, &err), 0);
	CHECK_INT(flint_acme_profile_check(p1, "https://ca/dir", "tlsserver", &err),
		  FLINT_EUNSUPPORTED);
	CHECK(err && strstr(err, "tlsserver") && strstr(err, "classic (the usual)") &&
	      strstr(err, "shortlived"));
	free(err);
	err = NULL;
	CHECK_INT(flint_acme_profile_check(p2, "https://ca/dir", "classic", &err),
		  FLINT_EUNSUPPORTED);
	CHECK(err && strstr(err, "no certificate profiles"));
	free(err);
	err = NULL;
	CHECK_INT(flint_acme_profile_check(NULL, "https://ca/dir", "classic", &err),
		  FLINT_EUNSUPPORTED);
	free(err);
	json_decref(d1);
	json_decref(d2);
}

static void test_links(void)
{
	char *urls[4] = {0};
	size_t n = 0;

	CHECK_INT(flint_http_parse_links("<https://ca/cert/1/alt/1>;rel=\"alternate\"", "alternate",
					 urls, 4, &n),
		  0);
	CHECK_INT((int)n, 1);
	CHECK_STR(urls[0], "https://ca/cert/1/alt/1");
	CHECK_INT(flint_http_parse_links("<https://ca/dir>;rel=\"index\", <https://ca/a2>; "
					 "rel=\"up alternate\", <https://ca/a,3>;rel=alternate",
					 "alternate", urls, 4, &n),
		  0);
	CHECK_INT((int)n, 3);
	CHECK_STR(urls[1], "https://ca/a2");
	CHECK_STR(urls[2], "https://ca/a,3");
	CHECK_INT(flint_http_parse_links("<https://ca/x>;rel=\"alternates\"", "alternate", urls, 4,
					 &n),
		  0);
	CHECK_INT((int)n, 3);
	CHECK_INT(flint_http_parse_links("<https://ca/y>;rel=alternate, <https://ca/z>;rel=alternate",
					 "alternate", urls, 4, &n),
		  0);
	CHECK_INT((int)n, 4); /* the cap: z dropped */
	CHECK_INT(flint_http_parse_links("garbage <unterminated", "alternate", urls, 4, &n), 0);
	for (size_t i = 0; i < n; i++)
		free(urls[i]);
}

/* A CA-signed chain: leaf <- intermediate (issuer CN root_cn). */
static X509 *make_cert(const char *subject_cn, const char *issuer_cn, EVP_PKEY *key, EVP_PKEY *sign)
{
	return test_cert_make(subject_cn, issuer_cn, 7, key, sign);
}

static char *pem_of(X509 *x)
{
	return test_cert_pem(x);
}

static void test_chain_choice(void)
{
	EVP_PKEY *k = EVP_EC_gen("P-256");
	X509 *leaf = make_cert("leaf", "Int A", k, k), *ia = make_cert("Int A", "Root X", k, k),
	     *root = make_cert("Root X", "Root X", k, k);
	char *p1 = pem_of(leaf), *p2 = pem_of(ia), *p3 = pem_of(root), *two = NULL, *three = NULL;
	struct flint_chain *c = NULL;
	char *issuer;

	CHECK(asprintf(&two, "%s%s", p1, p2) > 0);
	CHECK(asprintf(&three, "%s%s%s", p1, p2, p3) > 0);
	CHECK_INT(flint_chain_parse(two, strlen(two), &c, NULL), 0);
	CHECK(flint_chain_top_named(c, "Root X"));
	CHECK(!flint_chain_top_named(c, "Int A"));
	CHECK(!flint_chain_top_named(c, "Root"));
	issuer = flint_chain_top_issuer(c);
	CHECK_STR(issuer, "Root X");
	free(issuer);
	flint_chain_free(c);
	c = NULL;
	/* with the root included: its own subject names it */
	CHECK_INT(flint_chain_parse(three, strlen(three), &c, NULL), 0);
	CHECK(flint_chain_top_named(c, "Root X"));
	flint_chain_free(c);
	c = NULL;
	CHECK_INT(flint_chain_parse(p1, strlen(p1), &c, NULL), 0); /* leaf alone */
	CHECK(flint_chain_top_named(c, "Int A"));
	CHECK(!flint_chain_top_named(c, "leaf"));
	flint_chain_free(c);
	free(p1);
	free(p2);
	free(p3);
	free(two);
	free(three);
	X509_free(leaf);
	X509_free(ia);
	X509_free(root);
	EVP_PKEY_free(k);
}

static void test_eab_member(void)
{
	static const char key_b64[] = "zWNDZM6eQGHWpSRTPal5eIUYFTu7EajVIoguysqZ9wG44nMEtx3MUAsUDkMTQ12W";
	json_t *jwk = json_pack("{s:s, s:s, s:s, s:s}", "kty", "EC", "crv", "P-256", "x", "AAA", "y",
				"BBB");
	json_t *eab = NULL;
	char *err = NULL;

	CHECK_INT(flint_account_eab("kid-1", key_b64, NULL, "https://ca.test/acme/new-account", jwk,
				    &eab, &err),
		  0);
	/* the fixed HS256 vector of test_jws.c: same header, same payload, same key */
	CHECK_STR(json_string_value(json_object_get(eab, "signature")),
		  "nojYnqqqjQH3IE57gXBVCtye0uOYZhMmgWb8c8XIWfA");
	json_decref(eab);
	eab = NULL;
	/* padded keys are accepted */
	CHECK_INT(flint_account_eab("kid-1", "AAECAw==", "HS512", "https://u", jwk, &eab, &err), 0);
	json_decref(eab);
	eab = NULL;
	CHECK_INT(flint_account_eab("kid-1", "not base64!", NULL, "https://u", jwk, &eab, &err),
		  FLINT_EINVAL);
	CHECK(err && strstr(err, "base64url"));
	free(err);
	err = NULL;
	CHECK_INT(flint_account_eab("kid-1", key_b64, "HS1", "https://u", jwk, &eab, &err),
		  FLINT_EINVAL);
	CHECK(err && strstr(err, "HS256"));
	free(err);
	err = NULL;
	CHECK_INT(flint_account_eab("kid-1", "", NULL, "https://u", jwk, &eab, &err), FLINT_EINVAL);
	free(err);
	CHECK(eab == NULL);
	json_decref(jwk);
}

static void test_csr_ip(void)
{
	static const char *const names[] = {"127.0.0.1", "::1", "a.example.com"};
	EVP_PKEY *k = EVP_EC_gen("P-256");
	unsigned char *der = NULL;
	const unsigned char *p;
	size_t len = 0;
	X509_REQ *req;
	STACK_OF(X509_EXTENSION) *exts;
	GENERAL_NAMES *gens = NULL;
	int ips = 0, dns = 0;

	CHECK_INT(flint_csr_build(k, names, 3, &der, &len), 0);
	p = der;
	req = d2i_X509_REQ(NULL, &p, (long)len);
	CHECK(req != NULL);
	exts = req ? X509_REQ_get_extensions(req) : NULL;
	for (int i = 0; exts && i < sk_X509_EXTENSION_num(exts); i++)
		if (OBJ_obj2nid(X509_EXTENSION_get_object(sk_X509_EXTENSION_value(exts, i))) ==
		    NID_subject_alt_name)
			gens = X509V3_EXT_d2i(sk_X509_EXTENSION_value(exts, i));
	for (int i = 0; gens && i < sk_GENERAL_NAME_num(gens); i++) {
		const GENERAL_NAME *g = sk_GENERAL_NAME_value(gens, i);

		if (g->type == GEN_IPADD)
			ips++;
		if (g->type == GEN_DNS)
			dns++;
	}
	CHECK_INT(ips, 2);
	CHECK_INT(dns, 1);
	/* no CN for an address */
	CHECK_INT(X509_NAME_entry_count(X509_REQ_get_subject_name(req)), 0);
	GENERAL_NAMES_free(gens);
	sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
	X509_REQ_free(req);
	free(der);
	EVP_PKEY_free(k);
}

int main(void)
{
	RUN(test_profile_check);
	RUN(test_links);
	RUN(test_chain_choice);
	RUN(test_eab_member);
	RUN(test_csr_ip);
	return CHECK_DONE();
}
