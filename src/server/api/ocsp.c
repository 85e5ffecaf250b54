/* The OCSP responder (RFC 6960), an option: POST BASE/ocsp with a DER
 * OCSPRequest, or GET BASE/ocsp/<base64 of it> (RFC 6960 A.1). Answers from
 * the store; the issuer signs. Off unless the configuration enables it. */
#include <openssl/evp.h>
#include <openssl/ocsp.h>
#include <event2/http.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "error.h"

#define OCSP_MAX_REQUEST 4096

static int lookup(void *ctx, const char *serial_hex, struct flint_ocsp_status *ret)
{
	struct flint_store *st = ctx;
	struct flint_cert *c = NULL;
	int rc = st->ops->cert_by_serial(st, serial_hex, &c);

	if (rc == FLINT_ENOTFOUND) {
		ret->status = V_OCSP_CERTSTATUS_UNKNOWN;
		return 0;
	}
	if (rc < 0)
		return rc;
	ret->status = c->revoked_at ? V_OCSP_CERTSTATUS_REVOKED : V_OCSP_CERTSTATUS_GOOD;
	ret->revoked_at = c->revoked_at;
	ret->reason = c->reason;
	flint_cert_free(c);
	return 0;
}

/* The percent-encoded standard base64 (with padding) of a GET request
 * path (routes see paths undecoded); a space stands for a '+' a client did
 * not percent-encode. */
static int decode_b64(const char *in, unsigned char **ret, size_t *ret_len)
{
	size_t n = 0, pad = 0;
	char *copy = NULL;
	unsigned char *out = NULL;
	int len, r = FLINT_EINVAL;

	if (strlen(in) > 3 * (OCSP_MAX_REQUEST * 4 / 3 + 4))
		return FLINT_EINVAL;
	if (!(copy = evhttp_uridecode(in, 0, &n)))
		return FLINT_ENOMEM;
	if (n == 0 || n % 4 || n != strlen(copy) || n > OCSP_MAX_REQUEST * 4 / 3 + 4)
		goto out;
	if (!(out = malloc(n / 4 * 3 + 1))) {
		r = FLINT_ENOMEM;
		goto out;
	}
	for (char *p = copy; *p; p++)
		if (*p == ' ')
			*p = '+';
	pad = (copy[n - 1] == '=') + (copy[n - 2] == '=');
	if ((len = EVP_DecodeBlock(out, (const unsigned char *)copy, (int)n)) < 0 ||
	    (size_t)len < pad)
		goto out;
	*ret = out;
	*ret_len = (size_t)len - pad;
	out = NULL;
	r = 0;
out:
	free(copy);
	free(out);
	return r;
}

void flint_api_ocsp(struct flint_req *r, const char *rest)
{
	unsigned char *req = NULL, *resp = NULL;
	size_t req_len = 0, resp_len = 0;
	int rc;

	if (!r->d->cfg->ocsp) {
		flint_reply_error_status(r, FLINT_PROB_MALFORMED, 404,
					 "this CA runs no OCSP responder (see its CRL)");
		return;
	}
	if (r->method == EVHTTP_REQ_POST) {
		const char *ct = evhttp_find_header(evhttp_request_get_input_headers(r->ev),
						    "Content-Type");

		if (rest[0] || !ct || strcmp(ct, "application/ocsp-request") != 0) {
			flint_reply_error_status(r, FLINT_PROB_MALFORMED, 415,
						 "POST an application/ocsp-request to /ocsp");
			return;
		}
		if (r->body_len > OCSP_MAX_REQUEST) {
			flint_reply_error_status(r, FLINT_PROB_MALFORMED, 413, "OCSP request too large");
			return;
		}
		rc = flint_issuer_ocsp(r->d->issuer, (const unsigned char *)r->body, r->body_len,
				       lookup, r->store, &resp, &resp_len);
	} else {
		/* a GET whose path does not decode is a malformed request, answered
		 * as OCSP answers it */
		if (decode_b64(rest, &req, &req_len) < 0)
			req_len = 0;
		rc = flint_issuer_ocsp(r->d->issuer, req, req_len, lookup, r->store, &resp,
				       &resp_len);
		if (rc == 0)
			flint_reply_add_header(r, "Cache-Control", "max-age=600, public");
	}
	if (rc < 0) {
		flint_reply_error(r, FLINT_PROB_SERVER_INTERNAL, "OCSP: %s", flint_strerror(rc));
		goto out;
	}
	flint_reply_body(r, 200, "application/ocsp-response", resp, resp_len);
out:
	free(req);
	free(resp);
}
