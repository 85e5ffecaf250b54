/* Order resources (RFC 8555 §7.4): newOrder with authorization reuse, and
 * the order object whose status is derived from its authorizations (§7.1.6). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "b64.h"
#include "bodies.h"
#include "error.h"
#include "keyauth.h"
#include "log.h"
#include "policy.h"
#include "ratelimit.h"
#include "timefmt.h"
#include "validate/validator.h"

static json_t *time_json(int64_t t)
{
	char buf[FLINT_TIME_BUF];
	flint_time_format(t, buf);
	return json_string(buf);
}

void flint_order_authzs_free(struct flint_authz **authzs, size_t n)
{
	for (size_t i = 0; authzs && i < n; i++)
		flint_authz_free(authzs[i]);
	free(authzs);
}

int flint_order_authzs_load(struct flint_req *r, const struct flint_order *o,
			    struct flint_authz ***ret)
{
	struct flint_authz **authzs = calloc(o->n_authz ? o->n_authz : 1, sizeof(*authzs));
	int rc = authzs ? flint_store_authzs_of_order(r->store, o->id, o->authz_ids, o->n_authz,
						      authzs)
			: FLINT_ENOMEM;
	if (rc < 0) {
		flint_order_authzs_free(authzs, o->n_authz);
		return rc;
	}
	*ret = authzs;
	return 0;
}

int flint_order_status_load(struct flint_req *r, const struct flint_order *o, const char **ret,
			    struct flint_authz ***ret_authzs)
{
	int64_t now = flint_now();
	struct flint_authz **authzs = NULL;

	/* processing, valid, invalid or expired: no authorization is read */
	if (flint_policy_order_status_needs_authzs(o, now)) {
		int rc = flint_order_authzs_load(r, o, &authzs);
		if (rc < 0)
			return rc;
	}
	*ret = flint_policy_order_status(o, authzs, authzs ? o->n_authz : 0, now);
	*ret_authzs = authzs;
	return 0;
}

/* The order's status from its authorizations: known (o->n_authz of them,
 * in order) when the caller has them, else read when the status needs them. */
static int status_of(struct flint_req *r, const struct flint_order *o,
		     struct flint_authz *const *known, const char **ret)
{
	struct flint_authz **authzs = NULL;
	int rc;

	if (known) {
		*ret = flint_policy_order_status(o, known, o->n_authz, flint_now());
		return 0;
	}
	rc = flint_order_status_load(r, o, ret, &authzs);
	flint_order_authzs_free(authzs, authzs ? o->n_authz : 0);
	return rc;
}

int flint_order_status(struct flint_req *r, const struct flint_order *o, const char **ret)
{
	return status_of(r, o, NULL, ret);
}

static int render(struct flint_req *r, const struct flint_order *o,
		  struct flint_authz *const *known, json_t **ret, const char **ret_status)
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
	if ((rc = status_of(r, o, known, &status)) < 0)
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
	if (o->profile)
		json_object_set_new(doc, "profile", json_string(o->profile));
	if (o->replaces)
		json_object_set_new(doc, "replaces", json_string(o->replaces));
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
int flint_order_render(struct flint_req *r, const struct flint_order *o, json_t **ret,
		       const char **ret_status)
{
	return render(r, o, NULL, ret, ret_status);
}

static void reply_with(struct flint_req *r, int status, const struct flint_order *o,
		       struct flint_authz *const *known)
{
	json_t *doc = NULL;
	const char *st = NULL;
	int rc = render(r, o, known, &doc, &st);
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

void flint_order_reply(struct flint_req *r, int status, const struct flint_order *o)
{
	reply_with(r, status, o, NULL);
}

/* A new pending authorization with one challenge per applicable type
 * (newOrder here, newAuthz in authz.c). */
int flint_new_authz(struct flint_req *r, const struct flint_identifier *id, int64_t expires,
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
		/* the authorization's id and the position: an authorization's
		 * challenges sit together in the store's index of challenge ids
		 * (one page written for all, where random ids took one each) */
		if (asprintf(&c->id, "%s%zu", ret->id, ret->n_challenges - 1) < 0) {
			c->id = NULL;
			return FLINT_ENOMEM;
		}
		if ((rc = flint_token_new(&c->token)) < 0)
			return rc;
	}
	return ret->n_challenges ? 0 : FLINT_EUNSUPPORTED;
}

void flint_new_authz_clear(struct flint_authz *a)
{
	for (size_t i = 0; i < a->n_challenges; i++) {
		free(a->challenges[i].id);
		free(a->challenges[i].token);
	}
	free(a->challenges);
	free(a->id);
}

/* The order's profile: the one named (it must be offered and accept every
 * identifier type of the order), else the default. Replies on failure. */
static const struct flint_profile *choose_profile(struct flint_req *r, const char *name,
						  const struct flint_identifier *ids, size_t n_ids)
{
	const struct flintd_config *cfg = r->d->cfg;
	const struct flint_profile *p = cfg->default_profile_p;

	if (name && !(p = flint_profile_find(cfg->profiles, cfg->n_profiles, name))) {
		char offered[512] = "";
		size_t used = 0;

		for (size_t i = 0; i < cfg->n_profiles && used < sizeof(offered); i++) {
			int n = snprintf(offered + used, sizeof(offered) - used, "%s%s", i ? ", " : "",
					 cfg->profiles[i].name);
			used += n > 0 ? (size_t)n : 0;
		}
		flint_reply_error(r, FLINT_PROB_INVALID_PROFILE,
				  "this CA has no profile \"%.64s\" (it offers: %s)", name, offered);
		return NULL;
	}
	for (size_t i = 0; i < n_ids; i++) {
		if (!flint_profile_allows(p, ids[i].type)) {
			flint_reply_error(r, FLINT_PROB_INVALID_PROFILE,
					  "profile %s does not issue for %s identifiers (%s)", p->name,
					  ids[i].type, ids[i].value);
			return NULL;
		}
	}
	return p;
}

/* Whether the certificate's names (JSON identifiers) share one with ids. */
static bool shares_identifier(const char *names_json, const struct flint_identifier *ids,
			      size_t n_ids)
{
	json_t *names = json_loads(names_json ? names_json : "[]", 0, NULL), *v;
	bool found = false;
	size_t i;

	json_array_foreach(names, i, v) {
		const char *t = json_string_value(json_object_get(v, "type"));
		const char *val = json_string_value(json_object_get(v, "value"));

		for (size_t k = 0; !found && t && val && k < n_ids; k++)
			found = !strcmp(t, ids[k].type) && !strcmp(val, ids[k].value);
	}
	json_decref(names);
	return found;
}

/* RFC 9773 §5 "replaces": the certificate must be this CA's, this account's,
 * share an identifier with the order, and not be replaced already by an
 * order that is not invalid. *ret_cert is the certificate and *ret_expect
 * the order that claimed it before (invalid, or gone), or NULL, for the
 * compare-and-set at insertion. Replies on failure. */
static int check_replaces(struct flint_req *r, const char *cert_id,
			  const struct flint_identifier *ids, size_t n_ids,
			  struct flint_cert **ret_cert, char **ret_expect)
{
	struct flint_problem *prob = NULL;
	struct flint_cert *c = NULL;
	struct flint_order *prev = NULL;
	const char *st = NULL;
	int rc;

	if ((rc = flint_ari_find_cert(r, cert_id, &c, &prob)) < 0) {
		if (prob && rc == FLINT_ENOTFOUND)
			prob->status = 400;
		if (prob)
			flint_reply_problem(r, prob);
		else
			flint_reply_error(r, FLINT_PROB_SERVER_INTERNAL, "out of memory");
		return rc;
	}
	rc = FLINT_EINVAL;
	if (strcmp(c->account_id, r->account->id) != 0) {
		flint_reply_forbidden(r, "certificate %s belongs to another account", cert_id);
		goto out;
	}
	if (!shares_identifier(c->names_json, ids, n_ids)) {
		flint_reply_error(r, FLINT_PROB_MALFORMED,
				  "the order shares no identifier with certificate %s it replaces",
				  cert_id);
		goto out;
	}
	if (c->replaced_by) {
		rc = r->store->ops->order_get(r->store, c->replaced_by, &prev);
		if (rc == 0 && (rc = flint_order_status(r, prev, &st)) == 0 &&
		    strcmp(st, "invalid") != 0) {
			flint_reply_error(r, FLINT_PROB_ALREADY_REPLACED,
					  "certificate %s is already replaced by order %s (%s)", cert_id,
					  prev->id, st);
			rc = FLINT_ECONFLICT;
			goto out;
		}
		if (rc < 0 && rc != FLINT_ENOTFOUND) {
			flint_reply_error(r, FLINT_PROB_SERVER_INTERNAL, "store: %s",
					  flint_strerror(rc));
			goto out;
		}
		if (!(*ret_expect = strdup(c->replaced_by))) {
			rc = FLINT_ENOMEM;
			flint_reply_error(r, FLINT_PROB_SERVER_INTERNAL, "out of memory");
			goto out;
		}
	}
	*ret_cert = c;
	c = NULL;
	rc = 0;
out:
	flint_order_free(prev);
	flint_cert_free(c);
	return rc;
}

/* Appends a read to calls (FLINT_STORE_AHEAD_MAX at most): of ident's
 * authorization name (a wildcard's without "*.") when ident is not NULL. */
static void add_read(struct flint_store_read_call *calls, size_t *n, enum flint_store_read what,
		     const char *id, const struct flint_identifier *ident, int64_t time)
{
	struct flint_store_read_call *c;

	if (*n == FLINT_STORE_AHEAD_MAX)
		return;
	c = &calls[*n];
	*c = (struct flint_store_read_call){.what = what, .id = id, .time = time};
	if (ident) {
		c->wildcard = flint_identifier_is_wildcard(ident);
		c->type = ident->type;
		c->value = flint_identifier_authz_value(ident);
	}
	(*n)++;
}

/* newOrder's reads, named from its payload for the nonce's redemption to
 * carry (flint_req_authenticate_ahead): the rate limits' counts (those that
 * are on), each identifier's reusable authorization, and the pending count,
 * with the arguments the checks in flint_api_new_order pass. A second that
 * turns in between only makes a read miss: it then reads for itself. */
static void new_order_reads(struct flint_req *r, const json_t *payload, const char *account_id)
{
	const struct flintd_config *cfg = r->d->cfg;
	struct flint_store_read_call calls[FLINT_STORE_AHEAD_MAX];
	struct flint_body_new_order *body = NULL;
	struct flint_problem *prob = NULL;
	char **domains = NULL;
	size_t n = 0, n_domains = 0;
	int64_t now = flint_now();

	if (flint_body_new_order_parse(payload, &body, &prob) < 0) {
		flint_problem_free(prob); /* the handler replies with it, once authentic */
		return;
	}
	/* what every newOrder asks first: past eight, the rest are not named */
	add_read(calls, &n, FLINT_READ_AUTHZ_COUNT_PENDING, account_id, NULL, now);
	if (cfg->rate_new_orders.limit)
		add_read(calls, &n, FLINT_READ_COUNT_ORDERS, account_id, NULL,
			 now - cfg->rate_new_orders.window);
	for (size_t i = 0; i < body->n_ids; i++)
		add_read(calls, &n, FLINT_READ_AUTHZ_FIND_VALID, account_id, &body->ids[i],
			 now + cfg->order_lifetime);
	if (cfg->rate_certs_per_domain.limit &&
	    flint_rate_domains(body->ids, body->n_ids, &domains, &n_domains) == 0)
		for (size_t i = 0; i < n_domains; i++)
			add_read(calls, &n, FLINT_READ_COUNT_CERT_DOMAIN, domains[i], NULL,
				 now - cfg->rate_certs_per_domain.window);
	/* asked only for names with no authorization to reuse */
	for (size_t i = 0; cfg->rate_failed_validations.limit && i < body->n_ids; i++)
		add_read(calls, &n, FLINT_READ_COUNT_FAILED, account_id, &body->ids[i],
			 now - cfg->rate_failed_validations.window);
	flint_store_read_ahead_calls(r->store, calls, n);
	for (size_t i = 0; i < n_domains; i++)
		free(domains[i]);
	free(domains);
	flint_body_new_order_free(body);
}

void flint_api_new_order(struct flint_req *r, const char *rest)
{
	(void)rest;
	struct flint_body_new_order *body = NULL;
	struct flint_identifier *ids = NULL;
	size_t n_ids = 0, n_new = 0;
	struct flint_problem *prob = NULL;
	struct flint_authz *fresh = NULL;
	struct flint_authz **known = NULL; /* the order's authorizations, in order */
	struct flint_authz **reused = NULL;
	struct flint_order o = {0};
	const struct flint_profile *profile;
	struct flint_cert *replaced = NULL;
	char *replaces_expect = NULL;
	json_t *ids_json = NULL;
	int rc;

	if (flint_req_authenticate_ahead(r, FLINT_AUTH_KID, new_order_reads) < 0)
		return;
	if (!r->payload) {
		flint_reply_error(r, FLINT_PROB_MALFORMED, "newOrder needs a JSON payload");
		return;
	}
	if (flint_body_new_order_parse(r->payload, &body, &prob) < 0) {
		flint_reply_problem(r, prob);
		return;
	}
	ids = body->ids;
	n_ids = body->n_ids;
	int64_t now = flint_now();
	if (!(profile = choose_profile(r, body->profile, ids, n_ids)))
		goto out;
	o.not_before = body->not_before;
	o.not_after = body->not_after;
	int64_t nb = o.not_before ? o.not_before : now;
	if ((o.not_after && o.not_after <= nb) || (o.not_before && o.not_before > now + 30 * 86400) ||
	    (o.not_after && o.not_after - nb > profile->lifetime) ||
	    (o.not_after && o.not_after < now)) {
		flint_reply_error(r, FLINT_PROB_MALFORMED,
				  "notBefore/notAfter must describe a future window of at most %lld "
				  "hours (profile %s) starting within 30 days",
				  (long long)(profile->lifetime / 3600), profile->name);
		goto out;
	}
	if (body->replaces &&
	    check_replaces(r, body->replaces, ids, n_ids, &replaced, &replaces_expect) < 0)
		goto out;
	if (flint_limit_new_orders(r) < 0)
		goto out;
	ids_json = json_array();
	for (size_t i = 0; ids_json && i < n_ids; i++)
		json_array_append_new(ids_json, flint_identifier_to_json(&ids[i]));
	if (!ids_json || !(o.identifiers_json = json_dumps(ids_json, JSON_COMPACT))) {
		flint_reply_error(r, FLINT_PROB_SERVER_INTERNAL, "out of memory");
		goto out;
	}
	/* a renewal with replaces for exactly the same names is exempt (and not
	 * counted at finalize) */
	if (!(replaced && flint_same_identifiers(o.identifiers_json, replaced->names_json)) &&
	    flint_limit_certs_per_domain(r, ids, n_ids) < 0)
		goto out;

	o.expires = now + r->d->cfg->order_lifetime;
	o.authz_ids = calloc(n_ids, sizeof(*o.authz_ids));
	fresh = calloc(n_ids, sizeof(*fresh));
	reused = calloc(n_ids, sizeof(*reused));
	known = calloc(n_ids, sizeof(*known));
	if (!o.authz_ids || !fresh || !reused || !known || (rc = flint_random_b64url(12, &o.id)) < 0) {
		flint_reply_error(r, FLINT_PROB_SERVER_INTERNAL, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < n_ids; i++) {
		/* §7.1.3: reuse a valid authorization that outlives the order */
		rc = r->store->ops->authz_find_valid(r->store, r->account->id, ids[i].type,
						     flint_identifier_authz_value(&ids[i]),
						     flint_identifier_is_wildcard(&ids[i]), o.expires,
						     &reused[i]);
		if (rc == 0) {
			o.authz_ids[i] = reused[i]->id;
			known[i] = reused[i];
			continue;
		}
		if (rc != FLINT_ENOTFOUND) {
			flint_reply_error(r, FLINT_PROB_SERVER_INTERNAL, "store: %s", flint_strerror(rc));
			goto out;
		}
		if (flint_limit_failed_validations(r, &ids[i]) < 0)
			goto out;
		rc = flint_new_authz(r, &ids[i], o.expires, &fresh[n_new]);
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
		known[i] = &fresh[n_new];
		o.authz_ids[i] = fresh[n_new++].id;
	}
	if (flint_limit_pending_authzs(r, n_new, now) < 0)
		goto out;
	o.n_authz = n_ids;
	o.account_id = r->account->id;
	o.status = "pending";
	o.created = now;
	o.profile = profile->name;
	if (replaced) {
		o.replaces = body->replaces;
		/* one live replacement per certificate, across concurrent requests */
		rc = r->store->ops->cert_claim_replacement(r->store, replaced->id, o.id,
							   replaces_expect);
		if (rc == FLINT_ECONFLICT) {
			flint_reply_error(r, FLINT_PROB_ALREADY_REPLACED,
					  "certificate %s is already being replaced", o.replaces);
			goto out;
		} else if (rc < 0) {
			flint_reply_error(r, FLINT_PROB_SERVER_INTERNAL, "store: %s",
					  flint_strerror(rc));
			goto out;
		}
	}
	rc = r->store->ops->order_insert(r->store, &o, fresh, n_new);
	if (rc < 0) {
		flint_reply_error(r, FLINT_PROB_SERVER_INTERNAL, "store: %s", flint_strerror(rc));
		goto out;
	}
	flintd_logf("state order=%s account=%s status=pending profile=%s identifiers=%s%s%s",
		    o.id, r->account->id, o.profile, o.identifiers_json,
		    o.replaces ? " replaces=" : "", o.replaces ? o.replaces : "");
	/* its status from the authorizations at hand: none is read back */
	reply_with(r, 201, &o, known);
out:
	for (size_t i = 0; i < n_new; i++)
		flint_new_authz_clear(&fresh[i]);
	for (size_t i = 0; reused && i < n_ids; i++)
		flint_authz_free(reused[i]);
	flint_body_new_order_free(body);
	free(fresh);
	free(reused);
	free(known);
	free(o.authz_ids);
	free(o.id);
	free(replaces_expect);
	flint_cert_free(replaced);
	free(o.identifiers_json);
	json_decref(ids_json);
}

void flint_api_order(struct flint_req *r, const char *rest)
{
	struct flint_order *o = NULL;
	flint_store_read_ahead(r->store, FLINT_READ_ORDER, rest);
	if (flint_req_authenticate(r, FLINT_AUTH_KID) < 0)
		return;
	/* whose order first: another account learns nothing, not even what
	 * else is wrong with its request */
	int rc = r->store->ops->order_get(r->store, rest, &o);
	if (flint_reply_lookup_error(r, rc, "order"))
		goto out;
	if (strcmp(o->account_id, r->account->id) != 0) {
		flint_reply_forbidden(r, "this order belongs to another account");
		goto out;
	}
	if (r->payload) {
		flint_reply_error(r, FLINT_PROB_MALFORMED, "fetch an order with POST-as-GET");
		goto out;
	}
	flint_order_reply(r, 200, o);
out:
	flint_order_free(o);
}
