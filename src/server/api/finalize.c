/* Order finalization (RFC 8555 §7.4): the CSR must name exactly the order's
 * identifiers (badCSR otherwise, the order stays ready), then the order goes
 * processing -> valid while the issuer signs; on a validation worker, after
 * a new CAA check, when an authorization's is older than caa-reuse. */
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "bodies.h"
#include "b64.h"
#include "csr.h"
#include "error.h"
#include "log.h"
#include "metrics.h"
#include "ratelimit.h"
#include "validate/caa.h"
#include "validate/worker.h"

static bool csr_has(const struct flint_csr *csr, const char *type, const char *value)
{
	for (size_t k = 0; k < csr->n_ids; k++)
		if (type && value && !strcmp(csr->ids[k].type, type) &&
		    !strcmp(csr->ids[k].value, value))
			return true;
	return false;
}

static bool order_has(const json_t *order_ids, const struct flint_identifier *id)
{
	size_t i;
	json_t *v;
	json_array_foreach(order_ids, i, v) {
		const char *t = json_string_value(json_object_get(v, "type"));
		const char *val = json_string_value(json_object_get(v, "value"));
		if (t && val && !strcmp(t, id->type) && !strcmp(val, id->value))
			return true;
	}
	return false;
}

/* Whether the CSR's identifiers equal the order's as sets (both normalised);
 * each difference becomes a subproblem naming the identifier. */
static bool same_identifiers(const struct flint_csr *csr, const json_t *order_ids,
			     struct flint_problem *prob)
{
	bool ok = true;
	size_t i;
	json_t *v;
	json_array_foreach(order_ids, i, v) {
		const char *t = json_string_value(json_object_get(v, "type"));
		const char *val = json_string_value(json_object_get(v, "value"));
		if (!csr_has(csr, t, val)) {
			ok = false;
			flint_problem_add_sub(prob, FLINT_PROB_BAD_CSR, t, val,
					      "the CSR does not request %s", val ? val : "?");
		}
	}
	for (size_t k = 0; k < csr->n_ids; k++) {
		if (!order_has(order_ids, &csr->ids[k])) {
			ok = false;
			flint_problem_add_sub(prob, FLINT_PROB_BAD_CSR, csr->ids[k].type,
					      csr->ids[k].value, "%s is not in the order",
					      csr->ids[k].value);
		}
	}
	return ok;
}

/* An order with "replaces" for exactly the replaced certificate's names. */
static bool renewal_exempt(struct flintd *d, struct flint_store *st, const struct flint_order *o)
{
	struct flint_cert *c = NULL;
	struct flint_problem *prob = NULL;
	bool same;

	if (!o->replaces || flint_ari_find_cert_in(d, st, o->replaces, &c, &prob) < 0) {
		flint_problem_free(prob);
		return false;
	}
	same = flint_same_identifiers(o->identifiers_json, c->names_json);
	flint_cert_free(c);
	return same;
}

/* The subject CN of profiles that want one: the first DNS name short
 * enough for it (RFC 5280 ub-common-name 64), or none. */
static const char *common_name(const struct flint_csr *csr)
{
	for (size_t i = 0; i < csr->n_ids; i++)
		if (!strcmp(csr->ids[i].type, "dns") && strlen(csr->ids[i].value) <= 64)
			return csr->ids[i].value;
	return NULL;
}

/* §7.1.6: an issuance error makes the order invalid. Records p (or, when
 * NULL, a problem for rc) on the processing order; returns the problem for
 * the reply (the caller owns it). */
static struct flint_problem *order_fail(struct flint_store *st, const char *order_id, int rc,
					struct flint_problem *p)
{
	json_t *pj;
	char *ps;

	if (!p)
		p = rc == FLINT_ECONFLICT
			    ? flint_problem_new(FLINT_PROB_UNAUTHORIZED,
						"an authorization of this order is no longer valid")
			    : flint_problem_new(FLINT_PROB_SERVER_INTERNAL, "issuance failed: %s",
						flint_strerror(rc < 0 ? rc : FLINT_ENOMEM));
	pj = p ? flint_problem_to_json(p) : NULL;
	ps = pj ? json_dumps(pj, JSON_COMPACT) : NULL;
	st->ops->order_set_status(st, order_id, "processing", "invalid", ps, NULL);
	flintd_logf("state order=%s status=invalid error=%s", order_id,
		    p ? flint_problem_type_urn(p->type) + 27 : flint_strerror(rc));
	free(ps);
	json_decref(pj);
	return p;
}

/* The issuance step of a processing order: the certificate for csr under
 * profile, stored (with what it counts against for rate limits) in one change
 * with the order's move processing -> valid; *ret_cert_id (unless NULL): the
 * certificate's id. */
static int issue_certificate(struct flintd *d, struct flint_store *st, const struct flint_order *o,
			     const struct flint_csr *csr, const struct flint_profile *profile,
			     char **ret_cert_id)
{
	struct flint_issued *issued = NULL;
	json_t *names = json_array();
	char *cert_id = NULL, *names_s = NULL, **rate_domains = NULL;
	size_t n_rate_domains = 0;
	int rc = FLINT_ENOMEM;

	if (!names || (rc = flint_random_b64url(12, &cert_id)) < 0)
		goto out;
	for (size_t i = 0; i < csr->n_ids; i++)
		json_array_append_new(names, flint_identifier_to_json(&csr->ids[i]));
	rc = FLINT_ENOMEM;
	if (!(names_s = json_dumps(names, JSON_COMPACT)))
		goto out;
	struct flint_leaf_params leaf = {
		.not_before = o->not_before, .not_after = o->not_after, .lifetime = profile->lifetime,
		.server_auth = profile->server_auth, .client_auth = profile->client_auth,
		.common_name = profile->common_name ? common_name(csr) : NULL,
		.subject_spki = csr->spki,
	};
	if ((rc = flint_issuer_issue(d->issuer, csr->pkey, csr->ids, csr->n_ids, &leaf, &issued)) < 0)
		goto out;
	/* what the certificate counts against (certificates per domain), unless
	 * it renews exactly the names of the certificate it replaces */
	if (!renewal_exempt(d, st, o) &&
	    (rc = flint_rate_domains(csr->ids, csr->n_ids, &rate_domains, &n_rate_domains)) < 0)
		goto out;
	struct flint_cert cert = {
		.id = cert_id, .serial = issued->serial, .account_id = o->account_id,
		.order_id = o->id, .der = issued->der, .der_len = issued->der_len,
		.chain_pem = issued->chain_pem, .not_before = issued->not_before,
		.not_after = issued->not_after, .names_json = names_s,
		.profile = profile->name,
		.rate_domains = rate_domains, .n_rate_domains = n_rate_domains,
	};
	/* the certificate with the order's move to valid, or neither */
	if ((rc = st->ops->cert_issue(st, &cert)) < 0)
		goto out;
	/* both paths (synchronous and finalize_job) end here */
	flint_metrics_inc(flint_metrics_global(), FLINT_METRIC_ISSUANCES);
	flintd_logf("state order=%s status=valid cert=%s serial=%s", o->id, cert_id,
		    issued->serial);
	if (ret_cert_id) {
		*ret_cert_id = cert_id;
		cert_id = NULL;
	}
out:
	flint_issued_free(issued);
	json_decref(names);
	free(cert_id);
	free(names_s);
	for (size_t i = 0; i < n_rate_domains; i++)
		free(rate_domains[i]);
	free(rate_domains);
	return rc;
}

/* The challenge type that made a (valid) authorization valid, and when. */
static const struct flint_challenge *valid_challenge(const struct flint_authz *a)
{
	for (size_t i = 0; i < a->n_challenges; i++)
		if (!strcmp(a->challenges[i].status, "valid"))
			return &a->challenges[i];
	return NULL;
}

/* Whether a DNS authorization of the order (authzs, as just read) was
 * CAA-checked (at its validation) longer than caa-reuse ago. */
static bool caa_stale(struct flint_req *r, const struct flint_order *o,
		      struct flint_authz *const *authzs)
{
	int64_t limit = flint_now() - r->d->cfg->caa_reuse;
	const struct flint_challenge *c;

	for (size_t i = 0; i < o->n_authz; i++)
		if (!strcmp(authzs[i]->ident_type, "dns") && (c = valid_challenge(authzs[i])) &&
		    c->validated <= limit)
			return true;
	return false;
}

struct finalize_job {
	struct flintd *d;
	char *order_id;
	struct flint_csr *csr;
	const struct flint_profile *profile; /* in the configuration: lives as long as flintd */
};

static void finalize_job_free(void *arg)
{
	struct finalize_job *j = arg;

	flint_csr_free(j->csr);
	free(j->order_id);
	free(j);
}

/* On a validation worker: CAA again for every DNS authorization checked
 * longer than caa-reuse ago, then the issuance; a refusal makes the order
 * invalid with the caa problem. */
static void finalize_job(void *arg, struct flint_store *st, struct flint_resolver *res)
{
	struct finalize_job *j = arg;
	const struct flintd_config *cfg = j->d->cfg;
	struct flint_order *o = NULL;
	struct flint_problem *prob = NULL;
	int64_t limit = flint_now() - cfg->caa_reuse;
	int rc;

	if (st->ops->order_get(st, j->order_id, &o) < 0 || strcmp(o->status, "processing") != 0)
		goto out;
	for (size_t i = 0; i < o->n_authz; i++) {
		struct flint_authz *a = NULL;
		const struct flint_challenge *c;
		char *acct_url = NULL;

		if ((rc = st->ops->authz_get(st, o->authz_ids[i], &a)) < 0) {
			flint_problem_free(order_fail(st, o->id, rc, NULL));
			goto out;
		}
		rc = 0;
		if (!strcmp(a->ident_type, "dns") && (c = valid_challenge(a)) && c->validated <= limit) {
			if (asprintf(&acct_url, "%s/acme/acct/%s", cfg->base_url, o->account_id) < 0)
				acct_url = NULL;
			rc = flint_caa_check_for(res, cfg->caa_identities, a->ident_value, a->wildcard,
						 acct_url, c->type, &prob);
			if (rc < 0 && prob)
				flint_problem_add_sub(prob, prob->type, a->ident_type, a->ident_value,
						      "%s", prob->detail);
			free(acct_url);
		}
		flint_authz_free(a);
		if (rc < 0) {
			flint_problem_free(order_fail(st, o->id, rc, prob));
			prob = NULL;
			goto out;
		}
	}
	if ((rc = issue_certificate(j->d, st, o, j->csr, j->profile, NULL)) < 0)
		flint_problem_free(order_fail(st, o->id, rc, NULL));
out:
	flint_order_free(o);
}

/* The profile the order issues under (draft-ietf-acme-profiles): NULL when
 * the CA has withdrawn it since newOrder. */
static const struct flint_profile *order_profile(const struct flintd_config *cfg,
						 const struct flint_order *o)
{
	return o->profile ? flint_profile_find(cfg->profiles, cfg->n_profiles, o->profile)
			  : cfg->default_profile_p;
}

/* Queues finalize_job for an order in processing; takes csr. */
static int queue_finalize(struct flintd *d, const char *order_id, struct flint_csr *csr,
			  const struct flint_profile *profile)
{
	struct finalize_job *j = calloc(1, sizeof(*j));
	int rc;

	if (!j || !(j->order_id = strdup(order_id))) {
		free(j);
		flint_csr_free(csr);
		return FLINT_ENOMEM;
	}
	j->d = d;
	j->csr = csr;
	j->profile = profile;
	if ((rc = flint_validation_pool_run(d->pool, finalize_job, j, finalize_job_free)) < 0)
		finalize_job_free(j);
	return rc;
}

int flint_finalize_resume(struct flintd *d, struct flint_store *st, const char *order_id)
{
	struct flint_order *o = NULL;
	struct flint_csr *csr = NULL;
	struct flint_problem *prob = NULL;
	const struct flint_profile *profile;
	unsigned char *der = NULL;
	size_t der_len = 0;
	int rc;

	if ((rc = st->ops->order_get(st, order_id, &o)) < 0)
		goto out;
	if (strcmp(o->status, "processing") != 0)
		goto out; /* finished meanwhile */
	rc = st->ops->order_csr(st, order_id, &der, &der_len);
	if (rc < 0 && rc != FLINT_ENOTFOUND)
		goto out; /* a store error: the claim lapses, a later round tries again */
	if (rc == FLINT_ENOTFOUND)
		prob = flint_problem_new(FLINT_PROB_SERVER_INTERNAL,
					 "the issuance was interrupted and cannot be resumed; "
					 "create a new order");
	else if (rc == 0 && flint_csr_parse_der(der, der_len, &csr, &prob) < 0 && !prob)
		rc = FLINT_EINVAL;
	if (rc < 0 || prob) {
		flint_problem_free(order_fail(st, order_id, rc, prob));
		prob = NULL;
		rc = rc < 0 ? rc : FLINT_EINVAL;
		goto out;
	}
	if (!(profile = order_profile(d->cfg, o))) {
		flint_problem_free(order_fail(
			st, order_id, 0,
			flint_problem_new(FLINT_PROB_INVALID_PROFILE,
					  "this CA no longer issues under profile %s; create a new order",
					  o->profile)));
		rc = FLINT_EINVAL;
		goto out;
	}
	flintd_logf("state order=%s resume=%s", order_id, d->cfg->node_id);
	rc = queue_finalize(d, order_id, csr, profile);
	csr = NULL;
	/* a full queue: the claim lapses and the order is claimed again later */
out:
	flint_order_free(o);
	flint_csr_free(csr);
	flint_problem_free(prob);
	free(der);
	return rc;
}

void flint_api_finalize(struct flint_req *r, const char *order_id)
{
	struct flint_order *o = NULL;
	struct flint_body_finalize *body = NULL;
	struct flint_csr *csr = NULL;
	struct flint_problem *prob = NULL;
	struct flint_jwk *acct_key = NULL;
	json_t *order_ids = NULL;
	const char *status = NULL;
	const struct flint_profile *profile;
	struct flint_authz **authzs = NULL;
	size_t n_authzs = 0;
	char *cert_id = NULL;
	int rc;

	flint_store_read_ahead(r->store, FLINT_READ_ORDER_AND_AUTHZS, order_id);
	if (flint_req_authenticate(r, FLINT_AUTH_KID) < 0)
		return;
	rc = r->store->ops->order_get(r->store, order_id, &o);
	if (flint_reply_lookup_error(r, rc, "order"))
		goto out;
	if (strcmp(o->account_id, r->account->id) != 0) {
		flint_reply_forbidden(r, "this order belongs to another account");
		goto out;
	}
	/* its authorizations, read once: for readiness here and the CAA age
	 * check below (the claim re-checks readiness in the store) */
	if ((rc = flint_order_status_load(r, o, &status, &authzs)) < 0) {
		flint_reply_error(r, FLINT_PROB_SERVER_INTERNAL, "%s", flint_strerror(rc));
		goto out;
	}
	n_authzs = authzs ? o->n_authz : 0;
	if (strcmp(status, "ready") != 0) {
		flint_reply_error(r, FLINT_PROB_ORDER_NOT_READY,
				  "the order is %s, not ready: finalize needs every authorization valid",
				  status);
		goto out;
	}
	if (flint_body_finalize_parse(r->payload, &body, &prob) < 0) {
		flint_reply_problem(r, prob);
		prob = NULL; /* the reply owns it */
		goto out;
	}
	csr = body->csr; /* queue_finalize may take it */
	body->csr = NULL;
	order_ids = json_loads(o->identifiers_json, 0, NULL);
	prob = flint_problem_new(FLINT_PROB_BAD_CSR,
				 "the CSR's identifiers must equal the order's exactly");
	if (!order_ids || !prob) {
		flint_reply_error(r, FLINT_PROB_SERVER_INTERNAL, "out of memory");
		goto out;
	}
	if (!same_identifiers(csr, order_ids, prob)) {
		flint_reply_problem(r, prob);
		prob = NULL;
		goto out;
	}
	/* draft-ietf-acme-profiles: a profile withdrawn since newOrder is refused */
	if (!(profile = order_profile(r->d->cfg, o))) {
		flint_reply_error(r, FLINT_PROB_INVALID_PROFILE,
				  "this CA no longer issues under profile %s; create a new order",
				  o->profile);
		goto out;
	}
	if (flint_account_jwk(r->account, &acct_key) < 0 || EVP_PKEY_eq(acct_key->pkey, csr->pkey) == 1) {
		flint_reply_error(r, FLINT_PROB_BAD_CSR,
				  "the certificate key must differ from the account key");
		goto out;
	}

	/* ready -> processing: only one finalize wins, and only while the order
	 * is still ready in the store (an authorization may have been
	 * deactivated or expired since the check above); the CSR is kept with
	 * the claim so another node (or this one, restarted) can finish the
	 * issuance */
	rc = r->store->ops->order_start_finalize(r->store, o->id, body->der, body->der_len,
						 r->d->cfg->node_id, flint_now(),
						 flint_now() + r->d->cfg->job_lease);
	if (rc == FLINT_ECONFLICT) {
		flint_reply_error(r, FLINT_PROB_ORDER_NOT_READY,
				  "the order is no longer ready: another request is finalizing it, "
				  "or an authorization changed");
		goto out;
	} else if (rc < 0) {
		flint_reply_error(r, FLINT_PROB_SERVER_INTERNAL, "store: %s", flint_strerror(rc));
		goto out;
	}
	flintd_logf("state order=%s status=processing", o->id);
	if ((rc = flint_field_set(&o->status, "processing")) < 0) /* as the store now has it */
		goto fail;

	/* CAA again when an authorization's check is older than caa-reuse: on a
	 * worker (DNS must not stall the event loop); the client polls */
	if (caa_stale(r, o, authzs)) {
		rc = queue_finalize(r->d, o->id, csr, profile);
		csr = NULL; /* the job's now (freed when not queued) */
		if (rc < 0)
			goto fail;
		flintd_logf("state order=%s caa=recheck", o->id);
		flint_order_reply(r, 200, o);
		goto out;
	}
	if ((rc = issue_certificate(r->d, r->store, o, csr, profile, &cert_id)) < 0)
		goto fail;
	/* the order as the store now holds it (what issue_certificate set) */
	if (flint_field_set(&o->status, "valid") < 0) {
		flint_reply_error(r, FLINT_PROB_SERVER_INTERNAL, "out of memory");
		goto out;
	}
	free(o->cert_id);
	o->cert_id = cert_id;
	cert_id = NULL;
	flint_order_reply(r, 200, o);
	goto out;
fail:
	flint_reply_problem(r, order_fail(r->store, o->id, rc, NULL));
out:
	free(cert_id);
	flint_order_authzs_free(authzs, n_authzs);
	flint_order_free(o);
	flint_csr_free(csr);
	flint_problem_free(prob);
	flint_jwk_free(acct_key);
	json_decref(order_ids);
	flint_body_finalize_free(body);
}
