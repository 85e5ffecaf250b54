/* Certificate download (RFC 8555 §7.4.2): the PEM chain by default, the DER
 * end-entity certificate for Accept: application/pkix-cert. */
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "error.h"

void flint_api_certificate(struct flint_req *r, const char *rest)
{
	struct flint_cert *c = NULL;
	if (flint_req_authenticate(r, FLINT_AUTH_KID) < 0)
		return;
	if (r->payload) {
		flint_reply_error(r, FLINT_PROB_MALFORMED, "fetch a certificate with POST-as-GET");
		return;
	}
	int rc = r->store->ops->cert_get(r->store, rest, &c);
	if (flint_reply_lookup_error(r, rc, "certificate"))
		goto out;
	if (strcmp(c->account_id, r->account->id) != 0) {
		flint_reply_forbidden(r,
				  "this certificate belongs to another account");
		goto out;
	}
	const char *accept = evhttp_find_header(evhttp_request_get_input_headers(r->ev), "Accept");
	if (accept && strstr(accept, "application/pkix-cert") &&
	    !strstr(accept, "application/pem-certificate-chain")) {
		char *up = flint_url(r, "/ca/intermediate.der");
		flint_reply_add_link(r, up, "up");
		free(up);
		flint_reply_body(r, 200, "application/pkix-cert", c->der, c->der_len);
		goto out;
	}
	flint_reply_body(r, 200, "application/pem-certificate-chain", c->chain_pem,
			 strlen(c->chain_pem));
out:
	flint_cert_free(c);
}
