/* Authenticates an ACME POST once for every handler (RFC 8555 §6.2-§6.5):
 * Content-Type, JWS rules, url equality, single-use nonce, kid/jwk, signature. */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api.h"
#include "error.h"

static bool content_type_ok(struct flint_req *r)
{
	const char *ct = evhttp_find_header(evhttp_request_get_input_headers(r->ev), "Content-Type");
	if (!ct)
		return false;
	size_t n = strcspn(ct, ";");
	while (n && (ct[n - 1] == ' ' || ct[n - 1] == '\t'))
		n--;
	return n == strlen("application/jose+json") &&
	       strncasecmp(ct, "application/jose+json", n) == 0;
}

int flint_field_set(char **field, const char *value)
{
	char *copy = strdup(value);

	if (!copy)
		return FLINT_ENOMEM;
	free(*field);
	*field = copy;
	return 0;
}

char *flint_account_id_from_url(const struct flint_req *r, const char *kid)
{
	char *prefix = flint_url(r, "/acme/acct/");
	char *id = NULL;
	if (prefix && strncmp(kid, prefix, strlen(prefix)) == 0) {
		const char *rest = kid + strlen(prefix);
		if (*rest && strlen(rest) < 64 && !strchr(rest, '/'))
			id = strdup(rest);
	}
	free(prefix);
	return id;
}

static int fail(struct flint_req *r, struct flint_problem *p)
{
	flint_reply_problem(r, p);
	return FLINT_EINVAL;
}

int flint_req_authenticate(struct flint_req *r, enum flint_auth kind)
{
	return flint_req_authenticate_ahead(r, kind, NULL);
}

int flint_req_authenticate_ahead(struct flint_req *r, enum flint_auth kind,
				 flint_req_reads_fn name_reads)
{
	struct flint_problem *prob = NULL;
	struct flint_jwk *key = NULL;
	char *url = NULL, *acct_id = NULL;
	json_t *early = NULL; /* the payload, parsed before its signature is checked */
	int rc;

	if (!content_type_ok(r)) {
		flint_reply_error_status(r, FLINT_PROB_MALFORMED, 415,
					 "Content-Type must be application/jose+json");
		return FLINT_EINVAL;
	}
	rc = flint_jws_parse(r->body, r->body_len, FLINT_JWS_REQUEST, &r->jws, &prob);
	if (rc < 0)
		return fail(r, prob ? prob : flint_problem_new(FLINT_PROB_MALFORMED, "invalid JWS"));

	url = flint_url(r, "%s", r->uri);
	if (!url) {
		rc = fail(r, flint_problem_new(FLINT_PROB_SERVER_INTERNAL, "out of memory"));
		goto out;
	}
	if (strcmp(url, r->jws->url) != 0) {
		rc = fail(r, flint_problem_new(FLINT_PROB_UNAUTHORIZED,
					       "JWS url \"%.200s\" does not match the request URL \"%s\"",
					       r->jws->url, url));
		goto out;
	}
	/* a kid names the account, read with the nonce's redemption */
	if (!r->jws->jwk && kind != FLINT_AUTH_JWK)
		acct_id = flint_account_id_from_url(r, r->jws->kid);
	/* the reads the payload implies go with the redemption too; what they
	 * read is used only once the signature holds */
	if (name_reads && acct_id && !r->jws->post_as_get && flint_store_reads_ahead(r->store) &&
	    (early = json_loadb(r->jws->payload, r->jws->payload_len, JSON_REJECT_DUPLICATES,
				NULL)) &&
	    json_is_object(early))
		name_reads(r, early, acct_id);
	rc = flint_nonce_redeem(&r->d->nonce_key, r->store, r->jws->nonce, flint_now(), acct_id,
				&r->account);
	if (rc == FLINT_EINVAL || rc == FLINT_ENOTFOUND || rc == FLINT_ECONFLICT) {
		rc = fail(r, flint_problem_new(FLINT_PROB_BAD_NONCE, "JWS has an invalid anti-replay nonce"));
		goto out;
	} else if (rc < 0) {
		rc = fail(r, flint_problem_new(FLINT_PROB_SERVER_INTERNAL, "store: %s",
					       flint_strerror(rc)));
		goto out;
	}

	if (r->jws->jwk) {
		if (kind == FLINT_AUTH_KID) {
			rc = fail(r, flint_problem_new(FLINT_PROB_MALFORMED,
						       "this resource requires a kid, not a jwk"));
			goto out;
		}
		rc = flint_jws_verify(r->jws, r->jws->jwk, &prob);
		if (rc < 0) {
			rc = fail(r, prob);
			goto out;
		}
	} else {
		if (kind == FLINT_AUTH_JWK) {
			rc = fail(r, flint_problem_new(FLINT_PROB_MALFORMED,
						       "this resource requires a jwk, not a kid"));
			goto out;
		}
		if (!r->account) {
			rc = fail(r, flint_problem_new(FLINT_PROB_ACCOUNT_DOES_NOT_EXIST,
						       "no account with kid \"%.200s\"", r->jws->kid));
			goto out;
		}
		if (flint_account_jwk(r->account, &key) < 0) {
			rc = fail(r, flint_problem_new(FLINT_PROB_SERVER_INTERNAL,
						       "stored account key unreadable"));
			goto out;
		}
		rc = flint_jws_verify(r->jws, key, &prob);
		if (rc < 0) {
			rc = fail(r, prob);
			goto out;
		}
		if (strcmp(r->account->status, "valid") != 0) {
			rc = fail(r, flint_problem_new(FLINT_PROB_UNAUTHORIZED, "account is %s",
						       r->account->status));
			goto out;
		}
	}

	if (!r->jws->post_as_get) {
		r->payload = early ? early
				   : json_loadb(r->jws->payload, r->jws->payload_len,
						JSON_REJECT_DUPLICATES, NULL);
		early = NULL;
		if (!r->payload || !json_is_object(r->payload)) {
			rc = fail(r, flint_problem_new(FLINT_PROB_MALFORMED,
						       "JWS payload is not a JSON object"));
			goto out;
		}
	}
	rc = 0;
out:
	free(url);
	free(acct_id);
	flint_jwk_free(key);
	json_decref(early);
	return rc;
}

bool flint_reply_lookup_error(struct flint_req *r, int rc, const char *what)
{
	if (rc == FLINT_ENOTFOUND) {
		flint_reply_error_status(r, FLINT_PROB_MALFORMED, 404, "no such %s", what);
		return true;
	}
	if (rc < 0) {
		flint_reply_error(r, FLINT_PROB_SERVER_INTERNAL, "store: %s", flint_strerror(rc));
		return true;
	}
	return false;
}
