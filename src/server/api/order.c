/* Order resources (RFC 8555 §7.4): newOrder with authorization reuse, and
 * the order object whose status is derived from its authorizations (§7.1.6). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "b64.h"
#include "error.h"
#include "keyauth.h"
#include "policy.h"
#include "timefmt.h"
#include "validate/validator.h"

static json_t *time_json(int64_t t)
{
	char buf[FLINT_TIME_BUF];
	flint_time_format(t, buf);
	return json_string(buf);
}

int flint_order_status(struct flint_req *r, const struct flint_order *o, const char **ret)
{
	struct flint_authz **authzs = calloc(o->n_authz ? o->n_authz : 1, sizeof(*authzs));
	size_t loaded = 0;
	int rc = authzs ? 0 : FLINT_ENOMEM;
	for (; rc == 0 && loaded < o->n_authz; loaded++)
		rc = r->store->ops->authz_get(r->store, o->authz_ids[loaded], &authzs[loaded]);
	if (rc == 0)
		*ret = flint_policy_order_status(o, authzs, o->n_authz, flint_now());
	for (size_t i = 0; i < loaded; i++)
		flint_authz_free(authzs[i]);
	free(authzs);
	return rc;
}

int flint_order_render(struct flint_req *r, const struct flint_order *o, json_t **ret,
		       const char **ret_status)
{
	const char *status = NULL;
	json_t *doc = NULL, *urls = json_array();
	json_t *ids = json_loads(o->identifiers_json, 0, NULL);
	char *fin = flint_url(r, "/acme/order/%s/finalize", o->id);
	int rc = FLINT_ENOMEM;
	if (!urls || !ids || !fin)
		goto out;
	for (size_t i = 0; i < o->n_authz; i++)
		json_array_append_new(urls, flint_url_json(r, "/acme/authz/%s", o->authz_ids[i]));
	if ((rc = flint_order_status(r, o, &status)) < 0)
		goto out;
	rc = FLINT_ENOMEM;
	doc = json_pack("{s:s, s:o, s:O, s:O, s:s}", "status", status, "expires",
			time_json(o->expires), "identifiers", ids, "authorizations", urls,
			"finalize", fin);
	if (!doc)
		goto out;
	if (o->not_before)
		json_object_set_new(doc, "notBefore", time_json(o->not_before));
	if (o->not_after)
		json_object_set_new(doc, "notAfter", time_json(o->not_after));
	if (o->error_json)
		json_object_set_new(doc, "error", json_loads(o->error_json, 0, NULL));
	if (o->cert_id && !strcmp(status, "valid"))
		json_object_set_new(doc, "certificate",
				    flint_url_json(r, "/acme/cert/%s", o->cert_id));
	*ret = doc;
	doc = NULL;
	if (ret_status)
		*ret_status = status;
	rc = 0;
out:
	json_decref(urls);
	json_decref(ids);
	json_decref(doc);
	free(fin);
	return rc;
}

/* Replies with the order, its Location and, while processing, Retry-After. */
void flint_order_reply(struct flint_req *r, int status, const struct flint_order *o)
{
	json_t *doc = NULL;
	const char *st = NULL;
	int rc = flint_order_render(r, o, &doc, &st);
	if (rc < 0) {
		flint_reply_error(r, FLINT_PROB_SERVER_INTERNAL, "cannot render order: %s",
				  flint_strerror(rc));
		return;
	}
	char *loc = flint_url(r, "/acme/order/%s", o->id);
	if (loc)
		flint_reply_add_header(r, "Location", loc);
	free(loc);
	if (!strcmp(st, "processing"))
		flint_reply_add_header(r, "Retry-After", "1");
	flint_reply_json(r, status, doc);
}

static int parse_time_field(struct flint_req *r, const char *name, int64_t *ret)
{
	json_t *v = json_object_get(r->payload, name);
	*ret = 0;
	if (!v)
		return 0;
	if (!json_is_string(v) || flint_time_parse(json_string_value(v), ret) < 0) {
		flint_reply_error(r, FLINT_PROB_MALFORMED, "%s must be an RFC 3339 timestamp", name);
		return FLINT_EINVAL;
	}
	return 0;
}

/* A new pending authorization with one challenge per applicable type. */
static int new_authz(struct flint_req *r, const struct flint_identifier *id, int64_t expires,
		     struct flint_authz *ret)
{
	bool wildcard = flint_identifier_is_wildcard(id);
	size_t n_types = 0;
	int rc;
	while (flint_validators[n_types])
		n_types++;
	memset(ret, 0, sizeof(*ret));
	ret->challenges = calloc(n_types, sizeof(*ret->challenges));
	if (!ret->challenges)
		return FLINT_ENOMEM;
	if ((rc = flint_random_b64url(12, &ret->id)) < 0)
		return rc;
	ret->account_id = r->account->id;
	ret->ident_type = id->type;
	ret->ident_value = wildcard ? id->value + 2 : id->value;
	ret->wildcard = wildcard;
	ret->status = "pending";
	ret->expires = expires;
	ret->created = flint_now();
	for (size_t i = 0; i < n_types; i++) {
		const struct flint_validator *v = flint_validators[i];
		if (!v->applies(id->type, wildcard))
			continue;
		struct flint_challenge *c = &ret->challenges[ret->n_challenges++];
		c->authz_id = ret->id;
		c->type = (char *)v->type;
		c->status = "pending";
		if ((rc = flint_random_b64url(12, &c->id)) < 0 || (rc = flint_token_new(&c->token)) < 0)
			return rc;
	}
	return ret->n_challenges ? 0 : FLINT_EUNSUPPORTED;
}

static void new_authz_clear(struct flint_authz *a)
{
	for (size_t i = 0; i < a->n_challenges; i++) {
		free(a->challenges[i].id);
		free(a->challenges[i].token);
	}
	free(a->challenges);
	free(a->id);
}

void flint_api_new_order(struct flint_req *r, const char *rest)
{
	(void)rest;
	struct flint_identifier *ids = NULL;
	size_t n_ids = 0, n_new = 0;
	struct flint_problem *prob = NULL;
	struct flint_authz *fresh = NULL;
	struct flint_authz **reused = NULL;
	struct flint_order o = {0};
	json_t *ids_json = NULL;
	int rc;

	if (flint_req_authenticate(r, FLINT_AUTH_KID) < 0)
		return;
	if (!r->payload) {
		flint_reply_error(r, FLINT_PROB_MALFORMED, "newOrder needs a JSON payload");
		return;
	}
	if (flint_policy_order_identifiers(json_object_get(r->payload, "identifiers"), &ids,
					   &n_ids, &prob) < 0) {
		flint_reply_problem(r, prob ? prob : flint_problem_new(FLINT_PROB_SERVER_INTERNAL, "oom"));
		return;
	}
	int64_t now = flint_now();
	if (parse_time_field(r, "notBefore", &o.not_before) < 0 ||
	    parse_time_field(r, "notAfter", &o.not_after) < 0)
		goto out;
	int64_t nb = o.not_before ? o.not_before : now;
	if ((o.not_after && o.not_after <= nb) || (o.not_before && o.not_before > now + 30 * 86400) ||
	    (o.not_after && o.not_after - nb > (int64_t)r->d->cfg->cert_lifetime_days * 86400) ||
	    (o.not_after && o.not_after < now)) {
		flint_reply_error(r, FLINT_PROB_MALFORMED,
				  "notBefore/notAfter must describe a future window of at most %d days "
				  "starting within 30 days",
				  r->d->cfg->cert_lifetime_days);
		goto out;
	}

	o.expires = now + r->d->cfg->order_lifetime;
	o.authz_ids = calloc(n_ids, sizeof(*o.authz_ids));
	fresh = calloc(n_ids, sizeof(*fresh));
	reused = calloc(n_ids, sizeof(*reused));
	ids_json = json_array();
	if (!o.authz_ids || !fresh || !reused || !ids_json ||
	    (rc = flint_random_b64url(12, &o.id)) < 0) {
		flint_reply_error(r, FLINT_PROB_SERVER_INTERNAL, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < n_ids; i++) {
		bool wc = flint_identifier_is_wildcard(&ids[i]);
		json_array_append_new(ids_json, flint_identifier_to_json(&ids[i]));
		/* §7.1.3: reuse a valid authorization that outlives the order */
		rc = r->store->ops->authz_find_valid(r->store, r->account->id, ids[i].type,
						     wc ? ids[i].value + 2 : ids[i].value, wc,
						     o.expires, &reused[i]);
		if (rc == 0) {
			o.authz_ids[i] = reused[i]->id;
			continue;
		}
		if (rc != FLINT_ENOTFOUND) {
			flint_reply_error(r, FLINT_PROB_SERVER_INTERNAL, "store: %s", flint_strerror(rc));
			goto out;
		}
		rc = new_authz(r, &ids[i], o.expires, &fresh[n_new]);
		if (rc == FLINT_EUNSUPPORTED) {
			n_new++;
			flint_reply_error(r, FLINT_PROB_UNSUPPORTED_IDENTIFIER,
					  "no challenge type can validate %s", ids[i].value);
			goto out;
		} else if (rc < 0) {
			n_new++;
			flint_reply_error(r, FLINT_PROB_SERVER_INTERNAL, "%s", flint_strerror(rc));
			goto out;
		}
		o.authz_ids[i] = fresh[n_new++].id;
	}
	size_t pending = 0;
	rc = r->store->ops->authz_count_pending(r->store, r->account->id, now, &pending);
	if (rc < 0) {
		flint_reply_error(r, FLINT_PROB_SERVER_INTERNAL, "store: %s", flint_strerror(rc));
		goto out;
	}
	if (pending + n_new > (size_t)r->d->cfg->max_pending_authzs) {
		flint_reply_add_header(r, "Retry-After", "3600");
		flint_reply_error(r, FLINT_PROB_RATE_LIMITED,
				  "this account would hold more than %d pending authorizations; "
				  "complete or deactivate some first",
				  r->d->cfg->max_pending_authzs);
		goto out;
	}
	o.n_authz = n_ids;
	o.account_id = r->account->id;
	o.status = "pending";
	o.created = now;
	o.identifiers_json = json_dumps(ids_json, JSON_COMPACT);
	if (!o.identifiers_json) {
		flint_reply_error(r, FLINT_PROB_SERVER_INTERNAL, "out of memory");
		goto out;
	}
	rc = r->store->ops->order_insert(r->store, &o, fresh, n_new);
	if (rc < 0) {
		flint_reply_error(r, FLINT_PROB_SERVER_INTERNAL, "store: %s", flint_strerror(rc));
		goto out;
	}
	fprintf(stderr, "state order=%s account=%s status=pending identifiers=%s\n", o.id,
		r->account->id, o.identifiers_json);
	flint_order_reply(r, 201, &o);
out:
	for (size_t i = 0; i < n_new; i++)
		new_authz_clear(&fresh[i]);
	for (size_t i = 0; reused && i < n_ids; i++)
		flint_authz_free(reused[i]);
	for (size_t i = 0; i < n_ids; i++)
		flint_identifier_clear(&ids[i]);
	free(ids);
	free(fresh);
	free(reused);
	free(o.authz_ids);
	free(o.id);
	free(o.identifiers_json);
	json_decref(ids_json);
}

void flint_api_order(struct flint_req *r, const char *rest)
{
	struct flint_order *o = NULL;
	if (flint_req_authenticate(r, FLINT_AUTH_KID) < 0)
		return;
	if (r->payload) {
		flint_reply_error(r, FLINT_PROB_MALFORMED, "fetch an order with POST-as-GET");
		return;
	}
	int rc = r->store->ops->order_get(r->store, rest, &o);
	if (flint_reply_lookup_error(r, rc, "order"))
		goto out;
	if (strcmp(o->account_id, r->account->id) != 0) {
		flint_reply_forbidden(r, "this order belongs to another account");
		goto out;
	}
	flint_order_reply(r, 200, o);
out:
	flint_order_free(o);
}
