/* Account key rollover (RFC 8555 §7.3.5): an outer JWS by the old key
 * carrying an inner JWS by the new key that names the account and old key. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "bodies.h"
#include "error.h"
#include "log.h"

void flint_api_key_change(struct flint_req *r, const char *rest)
{
	(void)rest;
	struct flint_jws *inner = NULL;
	struct flint_problem *prob = NULL;
	struct flint_jwk *old_key = NULL;
	struct flint_body_key_change *body = NULL;
	struct flint_account *other = NULL;
	json_t *inner_payload = NULL;
	char *inner_s = NULL, *new_jwk_s = NULL;
	int rc;

	if (flint_req_authenticate(r, FLINT_AUTH_KID) < 0)
		return;
	if (!r->payload) {
		flint_reply_error(r, FLINT_PROB_MALFORMED, "keyChange needs an inner JWS payload");
		return;
	}
	inner_s = json_dumps(r->payload, JSON_COMPACT);
	if (!inner_s) {
		flint_reply_error(r, FLINT_PROB_SERVER_INTERNAL, "out of memory");
		goto out;
	}
	if (flint_jws_parse(inner_s, strlen(inner_s), FLINT_JWS_INNER_KEYCHANGE, &inner, &prob) < 0) {
		if (prob) {
			char *d = NULL;
			if (asprintf(&d, "inner JWS: %s", prob->detail) >= 0) {
				free(prob->detail);
				prob->detail = d;
			}
		}
		flint_reply_problem(r, prob ? prob : flint_problem_new(FLINT_PROB_MALFORMED, "inner JWS"));
		goto out;
	}
	if (flint_jws_verify(inner, inner->jwk, &prob) < 0) {
		flint_reply_problem(r, prob);
		goto out;
	}
	if (strcmp(inner->url, r->jws->url) != 0) {
		flint_reply_error(r, FLINT_PROB_MALFORMED, "inner JWS url differs from the outer url");
		goto out;
	}
	inner_payload = json_loadb(inner->payload, inner->payload_len, JSON_REJECT_DUPLICATES, NULL);
	if (flint_body_key_change_parse(inner_payload, &body, &prob) < 0) {
		flint_reply_problem(r, prob);
		goto out;
	}
	if (strcmp(body->account, r->jws->kid) != 0) {
		flint_reply_forbidden(r,
				  "inner \"account\" is not the signing account");
		goto out;
	}
	if (flint_account_jwk(r->account, &old_key) < 0) {
		flint_reply_error(r, FLINT_PROB_SERVER_INTERNAL, "stored account key unreadable");
		goto out;
	}
	if (!flint_jwk_equal(body->old_key, old_key)) {
		flint_reply_error(r, FLINT_PROB_MALFORMED, "oldKey is not the account's current key");
		goto out;
	}
	if (flint_jwk_equal(inner->jwk, old_key)) {
		flint_reply_error(r, FLINT_PROB_MALFORMED, "the new key must differ from the old key");
		goto out;
	}
	rc = r->store->ops->account_by_thumbprint(r->store, inner->jwk->thumbprint, &other);
	if (rc == 0) {
		char *loc = flint_url(r, "/acme/acct/%s", other->id);
		if (loc)
			flint_reply_add_header(r, "Location", loc);
		free(loc);
		struct flint_problem *p = flint_problem_new(FLINT_PROB_CONFLICT,
							    "the new key already belongs to an account");
		flint_reply_problem(r, p);
		goto out;
	} else if (rc != FLINT_ENOTFOUND) {
		flint_reply_error(r, FLINT_PROB_SERVER_INTERNAL, "store: %s", flint_strerror(rc));
		goto out;
	}
	if (flint_jwk_to_string(inner->jwk, &new_jwk_s) < 0) {
		flint_reply_error(r, FLINT_PROB_SERVER_INTERNAL, "out of memory");
		goto out;
	}
	struct flint_account upd = *r->account;
	upd.jwk_json = new_jwk_s;
	upd.thumbprint = inner->jwk->thumbprint;
	rc = r->store->ops->account_update(r->store, &upd, r->account);
	if (rc == FLINT_ECONFLICT) {
		/* another account took the key, or this one changed meanwhile */
		flint_reply_error(r, FLINT_PROB_CONFLICT,
				  "the new key belongs to an account, or the account changed "
				  "concurrently; fetch it and retry");
		goto out;
	} else if (rc < 0) {
		flint_reply_error(r, FLINT_PROB_SERVER_INTERNAL, "store: %s", flint_strerror(rc));
		goto out;
	}
	flintd_logf("state account=%s key=%s", r->account->id, upd.thumbprint);
	free(r->account->jwk_json);
	r->account->jwk_json = new_jwk_s;
	new_jwk_s = NULL;
	flint_reply_json(r, 200, flint_account_json(r, r->account));
out:
	flint_jws_free(inner);
	flint_jwk_free(old_key);
	flint_body_key_change_free(body);
	flint_account_free(other);
	json_decref(inner_payload);
	free(inner_s);
	free(new_jwk_s);
}
