/* ACME Renewal Information (RFC 9773): the renewalInfo resource, an
 * unauthenticated GET by certID answering when to renew, and the certID
 * lookup that newOrder's "replaces" shares. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "ari.h"
#include "error.h"
#include "timefmt.h"

#define DAY 86400
#define ARI_RETRY_MIN 60
#define ARI_RETRY_MAX (6 * 3600)

void flint_ari_window(const struct flint_cert *c, int64_t *ret_start, int64_t *ret_end)
{
	int64_t lifetime = c->not_after - c->not_before, left;

	if (c->ari_end > c->ari_start) {
		/* an operator moved it (mass early renewal) */
		*ret_start = c->ari_start;
		*ret_end = c->ari_end;
		return;
	}
	if (c->revoked_at) {
		/* §4.2: a revoked certificate should be replaced now: a window
		 * entirely in the past */
		*ret_start = c->revoked_at - 3600;
		*ret_end = c->revoked_at;
		return;
	}
	if (lifetime <= 0)
		lifetime = 1;
	/* renew with a third of the lifetime left, half for short-lived ones
	 * (<= 10 days); the window spans a third of that remainder */
	left = lifetime <= 10 * DAY ? lifetime / 2 : lifetime / 3;
	*ret_start = c->not_after - left;
	*ret_end = *ret_start + (left / 3 > 0 ? left / 3 : 1);
}

long flint_ari_retry_after(const struct flint_cert *c)
{
	int64_t v = (c->not_after - c->not_before) / 48;

	return (long)(v < ARI_RETRY_MIN ? ARI_RETRY_MIN : v > ARI_RETRY_MAX ? ARI_RETRY_MAX : v);
}

int flint_ari_find_cert(struct flint_req *r, const char *cert_id, struct flint_cert **ret,
			struct flint_problem **ret_prob)
{
	return flint_ari_find_cert_in(r->d, r->store, cert_id, ret, ret_prob);
}

int flint_ari_find_cert_in(struct flintd *d, struct flint_store *st, const char *cert_id,
			   struct flint_cert **ret, struct flint_problem **ret_prob)
{
	uint8_t *keyid = NULL, *serial = NULL;
	size_t keyid_len = 0, serial_len = 0;
	char *hex = NULL;
	int rc;

	*ret_prob = NULL;
	if ((rc = flint_ari_cert_id_parse(cert_id, &keyid, &keyid_len, &serial, &serial_len)) < 0) {
		*ret_prob = flint_problem_new(FLINT_PROB_MALFORMED,
					      "\"%.80s\" is not a certificate ID (RFC 9773 §4.1: "
					      "base64url(AKI keyIdentifier) \".\" base64url(serial))",
					      cert_id ? cert_id : "");
		goto out;
	}
	if (!flint_issuer_is_keyid(d->issuer, keyid, keyid_len)) {
		rc = FLINT_ENOTFOUND;
		*ret_prob = flint_problem_new(FLINT_PROB_MALFORMED,
					      "certificate %.80s was not issued by this CA", cert_id);
		goto out;
	}
	if ((rc = flint_ari_serial_hex(serial, serial_len, &hex)) < 0)
		goto out;
	rc = st->ops->cert_by_serial(st, hex, ret);
	if (rc == FLINT_ENOTFOUND)
		*ret_prob = flint_problem_new(FLINT_PROB_MALFORMED, "no certificate %.80s", cert_id);
out:
	if (rc < 0 && !*ret_prob)
		*ret_prob = flint_problem_new(FLINT_PROB_SERVER_INTERNAL, "store: %s",
					      flint_strerror(rc));
	if (*ret_prob && rc == FLINT_ENOTFOUND)
		(*ret_prob)->status = 404;
	free(keyid);
	free(serial);
	free(hex);
	return rc;
}

void flint_api_renewal_info(struct flint_req *r, const char *rest)
{
	struct flint_cert *c = NULL;
	struct flint_problem *prob = NULL;
	char start[FLINT_TIME_BUF], end[FLINT_TIME_BUF], retry[24];
	int64_t ws, we;
	json_t *doc;

	if (flint_ari_find_cert(r, rest, &c, &prob) < 0) {
		if (prob)
			flint_reply_problem(r, prob);
		else
			flint_reply_error(r, FLINT_PROB_SERVER_INTERNAL, "out of memory");
		return;
	}
	flint_ari_window(c, &ws, &we);
	flint_time_format(ws, start);
	flint_time_format(we, end);
	doc = json_pack("{s:{s:s, s:s}}", "suggestedWindow", "start", start, "end", end);
	if (doc && c->ari_explanation && c->ari_end > c->ari_start)
		json_object_set_new(doc, "explanationURL", json_string(c->ari_explanation));
	snprintf(retry, sizeof(retry), "%ld", flint_ari_retry_after(c));
	flint_reply_add_header(r, "Retry-After", retry);
	flint_reply_json(r, 200, doc);
	flint_cert_free(c);
}
