/* Certificate download (RFC 8555 §7.4.2): the PEM chain by default, the DER
 * end-entity certificate for Accept: application/pkix-cert, and with an
 * alternate chain configured, ID/1 = the leaf with the cross-signed
 * intermediate, each chain linking the other with rel="alternate". */
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "error.h"

void flint_api_certificate(struct flint_req *r, const char *rest)
{
	struct flint_cert *c = NULL;
	char *id = NULL, *alt_pem = NULL, *link = NULL;
	const char *slash = strchr(rest, '/');
	bool alternate = false;
	int rc;

	if (!(id = strndup(rest, slash ? (size_t)(slash - rest) : strlen(rest)))) {
		flint_reply_error(r, FLINT_PROB_SERVER_INTERNAL, "out of memory");
		return;
	}
	flint_store_read_ahead(r->store, FLINT_READ_CERT, id);
	if (flint_req_authenticate(r, FLINT_AUTH_KID) < 0)
		goto out;
	if (slash && strcmp(slash, "/1") != 0) {
		flint_reply_error_status(r, FLINT_PROB_MALFORMED, 404, "no such certificate chain");
		goto out;
	}
	alternate = slash != NULL;
	rc = r->store->ops->cert_get(r->store, id, &c);
	if (flint_reply_lookup_error(r, rc, "certificate"))
		goto out;
	if (strcmp(c->account_id, r->account->id) != 0) {
		flint_reply_forbidden(r,
				  "this certificate belongs to another account");
		goto out;
	}
	/* after the owner check: another account learns nothing */
	if (r->payload) {
		flint_reply_error(r, FLINT_PROB_MALFORMED, "fetch a certificate with POST-as-GET");
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
	rc = flint_issuer_alternate_chain(r->d->issuer, c->der, c->der_len, &alt_pem);
	if (rc == FLINT_ENOTFOUND && alternate) {
		flint_reply_error_status(r, FLINT_PROB_MALFORMED, 404, "this CA has one chain only");
		goto out;
	} else if (rc < 0 && rc != FLINT_ENOTFOUND) {
		flint_reply_error(r, FLINT_PROB_SERVER_INTERNAL, "alternate chain: %s",
				  flint_strerror(rc));
		goto out;
	}
	if (alt_pem) {
		link = alternate ? flint_url(r, "/acme/cert/%s", id) : flint_url(r, "/acme/cert/%s/1", id);
		flint_reply_add_link(r, link, "alternate");
	}
	if (alternate)
		flint_reply_body(r, 200, "application/pem-certificate-chain", alt_pem, strlen(alt_pem));
	else
		flint_reply_body(r, 200, "application/pem-certificate-chain", c->chain_pem,
				 strlen(c->chain_pem));
out:
	free(id);
	free(alt_pem);
	free(link);
	flint_cert_free(c);
}
