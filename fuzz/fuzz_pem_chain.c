/* libFuzzer driver for certificate chains as the flint client downloads them
 * (RFC 8555 §7.4.2, application/pem-certificate-chain): parse, re-encode,
 * parse the re-encoding, and run the checks the client makes before storing. */
#include <openssl/err.h>
#include <openssl/x509.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cert.h"
#include "error.h"

static void inspect(const struct flint_chain *c)
{
	static const char *const names[] = {"a.example.com", "*.example.com", "127.0.0.1", "::1"};
	struct flint_chain *again = NULL;
	EVP_PKEY *pub;
	char *issuer, *serial, *err = NULL;
	int64_t nb, na;
	int n_issuers;

	if (!c->leaf || !c->issuers || !c->cert_pem || !c->chain_pem || !c->fullchain_pem)
		abort();
	n_issuers = sk_X509_num(c->issuers);
	if (n_issuers < 0 || n_issuers > FLINT_CHAIN_MAX_CERTS - 1)
		abort();
	if (strlen(c->fullchain_pem) != strlen(c->cert_pem) + strlen(c->chain_pem))
		abort();
	/* what flint stores must read back as the same chain */
	if (flint_chain_parse(c->fullchain_pem, strlen(c->fullchain_pem), &again, NULL) != 0 ||
	    sk_X509_num(again->issuers) != n_issuers || X509_cmp(again->leaf, c->leaf) != 0 ||
	    strcmp(again->fullchain_pem, c->fullchain_pem) != 0)
		abort();
	flint_chain_free(again);
	if (flint_cert_validity(c->leaf, &nb, &na) != 0 || nb != c->not_before ||
	    na != c->not_after)
		abort();
	issuer = flint_chain_top_issuer(c);
	if (issuer && !flint_chain_top_named(c, issuer))
		abort();
	free(issuer);
	(void)flint_chain_top_named(c, "");
	serial = flint_cert_serial_hex(c->leaf);
	free(serial);
	pub = X509_get0_pubkey(c->leaf);
	ERR_clear_error();
	if (pub && EVP_PKEY_eq(pub, pub) == 1) {
		/* no names to check: the leaf's own key must pass */
		if (flint_chain_check(c, pub, names, 0, &err) != 0)
			abort();
		(void)flint_chain_check(c, pub, names, sizeof(names) / sizeof(names[0]), &err);
		free(err);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct flint_chain *c = NULL;
	char *err = NULL;
	int r = flint_chain_parse((const char *)data, size, &c, &err);

	if (r == 0)
		inspect(c);
	else if (c || (!err && r != FLINT_EINVAL && r != FLINT_ENOMEM))
		abort(); /* a failure leaves *ret alone and says why */
	flint_chain_free(c);
	free(err);
	return 0;
}
