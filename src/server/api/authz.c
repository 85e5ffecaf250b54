/* Authorization and challenge resources (RFC 8555 §7.5): pre-authorization
 * (newAuthz, §7.4.1), fetch, client deactivation (§7.5.2), and responding to
 * a challenge (§7.5.1), which hands validation to the worker pool and answers
 * at once. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "bodies.h"
#include "error.h"
#include "log.h"
#include "policy.h"
#include "timefmt.h"
#include "validate/worker.h"

json_t *flint_challenge_json(const struct flint_req *r, const struct flint_challenge *c)
{
	char *url = flint_url(r, "/acme/chall/%s", c->id);
	json_t *doc = url ? json_pack("{s:s, s:s, s:s, s:s}", "type", c->type, "url", url,
				      "status", c->status, "token", c->token)
			  : NULL;
	free(url);
	if (!doc)
		return NULL;
	if (c->validated) {
		char buf[FLINT_TIME_BUF];
		flint_time_format(c->validated, buf);
		json_object_set_new(doc, "validated", json_string(buf));
	}
	if (c->error_json)
		json_object_set_new(doc, "error", json_loads(c->error_json, 0, NULL));
	return doc;
}

json_t *flint_authz_json(const struct flint_req *r, const struct flint_authz *a)
{
	char buf[FLINT_TIME_BUF];
	const char *status = flint_policy_authz_status(a, flint_now());
	json_t *chals = json_array();
	flint_time_format(a->expires, buf);
	for (size_t i = 0; chals && i < a->n_challenges; i++) {
		/* §7.1.4: once valid, list only the challenge that succeeded */
		if (!strcmp(status, "valid") && strcmp(a->challenges[i].status, "valid") != 0)
			continue;
		json_array_append_new(chals, flint_challenge_json(r, &a->challenges[i]));
	}
	json_t *doc = chals ? json_pack("{s:s, s:{s:s, s:s}, s:s, s:o}", "status", status,
					"identifier", "type", a->ident_type, "value", a->ident_value,
					"expires", buf, "challenges", chals)
			    : NULL;
	if (doc && a->wildcard)
		json_object_set_new(doc, "wildcard", json_true());
	return doc;
}

void flint_api_authz(struct flint_req *r, const char *rest)
{
	struct flint_authz *a = NULL;
	struct flint_problem *prob = NULL;
	flint_store_read_ahead(r->store, FLINT_READ_AUTHZ, rest);
	if (flint_req_authenticate(r, FLINT_AUTH_KID) < 0)
		return;
	int rc = r->store->ops->authz_get(r->store, rest, &a);
	if (flint_reply_lookup_error(r, rc, "authorization"))
		goto out;
	if (strcmp(a->account_id, r->account->id) != 0) {
		flint_reply_forbidden(r,
				  "this authorization belongs to another account");
		goto out;
	}
	if (r->payload) {
		const char *cur = flint_policy_authz_status(a, flint_now());
		if (flint_body_authz_update_parse(r->payload, &prob) < 0) {
			flint_reply_problem(r, prob);
			goto out;
		}
		if (strcmp(cur, "pending") != 0 && strcmp(cur, "valid") != 0) {
			flint_reply_error(r, FLINT_PROB_MALFORMED, "cannot deactivate a %s authorization",
					  cur);
			goto out;
		}
		rc = r->store->ops->authz_set_status(r->store, a->id, a->status, "deactivated");
		if (rc < 0) {
			flint_reply_error(r, FLINT_PROB_MALFORMED,
					  "the authorization changed concurrently; fetch it again");
			goto out;
		}
		flintd_logf("state authz=%s status=deactivated", a->id);
		if (flint_field_set(&a->status, "deactivated") < 0) {
			flint_reply_error(r, FLINT_PROB_SERVER_INTERNAL, "out of memory");
			goto out;
		}
	}
	flint_reply_json(r, 200, flint_authz_json(r, a));
out:
	flint_authz_free(a);
}

/* newAuthz (§7.4.1): a pre-authorization for one identifier outside any
 * order, under newOrder's identifier policy and pending-authorization cap.
 * Once valid, newOrder reuses it like any valid authorization (§7.1.3). */
void flint_api_new_authz(struct flint_req *r, const char *rest)
{
	(void)rest;
	struct flint_body_new_authz *body = NULL;
	struct flint_problem *prob = NULL;
	struct flint_authz a = {0};
	int64_t now = flint_now();
	bool made = false;
	char *loc = NULL;
	int rc;

	if (flint_req_authenticate(r, FLINT_AUTH_KID) < 0)
		return;
	if (flint_body_new_authz_parse(r->payload, &body, &prob) < 0) {
		flint_reply_problem(r, prob);
		goto out;
	}
	if (flint_limit_failed_validations(r, &body->id) < 0)
		goto out;
	if (flint_limit_pending_authzs(r, 1, now) < 0)
		goto out;
	/* pending as long as an order would be; once valid, authz-lifetime */
	made = true;
	rc = flint_new_authz(r, &body->id, now + r->d->cfg->order_lifetime, &a);
	if (rc == FLINT_EUNSUPPORTED) {
		flint_reply_error(r, FLINT_PROB_UNSUPPORTED_IDENTIFIER,
				  "no challenge type can validate %s", body->id.value);
		goto out;
	}
	if (rc == 0)
		rc = r->store->ops->authz_insert(r->store, &a);
	if (rc < 0) {
		flint_reply_error(r, FLINT_PROB_SERVER_INTERNAL, "cannot create the authorization: %s",
				  flint_strerror(rc));
		goto out;
	}
	flintd_logf("state authz=%s account=%s status=pending identifier=%s:%s newAuthz",
		    a.id, r->account->id, a.ident_type, a.ident_value);
	if ((loc = flint_url(r, "/acme/authz/%s", a.id)))
		flint_reply_add_header(r, "Location", loc);
	flint_reply_json(r, 201, flint_authz_json(r, &a));
out:
	if (made)
		flint_new_authz_clear(&a);
	flint_body_new_authz_free(body);
	free(loc);
}

void flint_api_challenge(struct flint_req *r, const char *rest)
{
	struct flint_challenge *c = NULL;
	struct flint_authz *a = NULL;
	struct flint_problem *prob = NULL;
	flint_store_read_ahead(r->store, FLINT_READ_CHALLENGE_WITH_AUTHZ, rest);
	if (flint_req_authenticate(r, FLINT_AUTH_KID) < 0)
		return;
	/* with its authorization (status, owner; not its challenges) */
	int rc = r->store->ops->challenge_with_authz(r->store, rest, &c, &a, NULL);
	if (flint_reply_lookup_error(r, rc, "challenge"))
		goto out;
	if (strcmp(a->account_id, r->account->id) != 0) {
		flint_reply_forbidden(r,
				  "this challenge belongs to another account");
		goto out;
	}
	/* Any JSON object is a response (§7.5.1: unknown fields are ignored);
	 * POST-as-GET only fetches. */
	if (r->payload && flint_body_challenge_parse(r->payload, &prob) < 0) {
		flint_reply_problem(r, prob);
		goto out;
	}
	if (r->payload && !strcmp(c->status, "pending")) {
		const char *as = flint_policy_authz_status(a, flint_now());
		if (strcmp(as, "pending") != 0) {
			flint_reply_error(r, FLINT_PROB_MALFORMED,
					  "the authorization is %s; its challenges can no longer be answered",
					  as);
			goto out;
		}
		rc = r->store->ops->challenge_start(r->store, c->id, r->d->cfg->node_id,
						    flint_now() + r->d->cfg->job_lease);
		if (rc == 0) {
			/* what the store now holds, and what the worker starts
			 * from (it is handed what was read here, not reading it
			 * again); the worker may be further on already when this
			 * answer goes out: processing is still what it says */
			if (flint_field_set(&c->status, "processing") < 0)
				rc = FLINT_ENOMEM;
			else
				rc = flint_validation_pool_submit(r->d->pool, c->id, c, a,
								  r->account);
			if (rc < 0) {
				bool full = rc == FLINT_ETOOBIG;
				const char *why = full ? "the validation queue is full; try again later"
						       : "the validation could not be queued; try again later";
				enum flint_problem_type t =
				    full ? FLINT_PROB_RATE_LIMITED : FLINT_PROB_SERVER_INTERNAL;

				/* never leave a challenge processing with no job behind it */
				flint_validation_fail(r->store, c->id, t, why);
				flint_reply_error(r, t, "%s", why);
				goto out;
			}
			flintd_logf("state challenge=%s type=%s status=processing", c->id, c->type);
		} else if (rc != FLINT_ECONFLICT) {
			flint_reply_error(r, FLINT_PROB_SERVER_INTERNAL, "store: %s", flint_strerror(rc));
			goto out;
		}
		if (rc != 0) {
			/* another request started it: as it is now */
			flint_challenge_free(c);
			c = NULL;
			rc = r->store->ops->challenge_get(r->store, rest, &c);
			if (flint_reply_lookup_error(r, rc, "challenge"))
				goto out;
		}
	}
	if (!strcmp(c->status, "processing"))
		flint_reply_add_header(r, "Retry-After", "1");
	char *up = flint_url(r, "/acme/authz/%s", a->id);
	flint_reply_add_link(r, up, "up");
	free(up);
	flint_reply_json(r, 200, flint_challenge_json(r, c));
out:
	flint_challenge_free(c);
	flint_authz_free(a);
}
