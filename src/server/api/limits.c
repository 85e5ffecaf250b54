/* Rate limits at the API (ratelimit.h has the settings): each check counts
 * in the store and, when a limit is reached, replies 429 rateLimited with
 * Retry-After and a detail naming the limit and what it counted. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "error.h"
#include "ratelimit.h"

/* 0 when n events leave room; otherwise replies and returns FLINT_ECONFLICT.
 * rc is the store's answer (an error replies serverInternal). */
static int enforce(struct flint_req *r, const struct flint_rate *rate, int rc, size_t n,
		   int64_t oldest, const char *what, const char *key)
{
	char retry[24];
	long after;

	if (rc < 0) {
		flint_reply_error(r, FLINT_PROB_SERVER_INTERNAL, "store: %s", flint_strerror(rc));
		return rc;
	}
	if (!flint_rate_exceeded(rate, n))
		return 0;
	after = flint_rate_retry_after(rate, oldest, flint_now());
	snprintf(retry, sizeof(retry), "%ld", after);
	flint_reply_add_header(r, "Retry-After", retry);
	flint_reply_error(r, FLINT_PROB_RATE_LIMITED,
			  "too many %s for %s: %d per %lld s; retry after %ld s", what, key,
			  rate->limit, (long long)rate->window, after);
	return FLINT_ECONFLICT;
}

int flint_limit_new_account(struct flint_req *r)
{
	const struct flint_rate *rate = &r->d->cfg->rate_new_accounts;
	size_t n = 0;
	int64_t oldest = 0;
	int rc;

	if (!rate->limit || !r->peer[0])
		return 0;
	rc = r->store->ops->count_accounts_from_since(r->store, r->peer, flint_now() - rate->window,
						      &n, &oldest);
	return enforce(r, rate, rc, n, oldest, "new accounts", r->peer);
}

int flint_limit_new_orders(struct flint_req *r)
{
	const struct flint_rate *rate = &r->d->cfg->rate_new_orders;
	size_t n = 0;
	int64_t oldest = 0;
	int rc;

	if (!rate->limit)
		return 0;
	rc = r->store->ops->count_orders_since(r->store, r->account->id,
					       flint_now() - rate->window, &n, &oldest);
	return enforce(r, rate, rc, n, oldest, "new orders", "this account");
}

int flint_limit_certs_per_domain(struct flint_req *r, const struct flint_identifier *ids,
				 size_t n_ids)
{
	const struct flint_rate *rate = &r->d->cfg->rate_certs_per_domain;
	char **domains = NULL;
	size_t n_domains = 0;
	int rc;

	if (!rate->limit)
		return 0;
	if ((rc = flint_rate_domains(ids, n_ids, &domains, &n_domains)) < 0) {
		flint_reply_error(r, FLINT_PROB_SERVER_INTERNAL, "%s", flint_strerror(rc));
		return rc;
	}
	for (size_t i = 0; rc == 0 && i < n_domains; i++) {
		size_t n = 0;
		int64_t oldest = 0;

		rc = r->store->ops->count_certs_for_domain_since(
			r->store, domains[i], flint_now() - rate->window, &n, &oldest);
		rc = enforce(r, rate, rc, n, oldest, "certificates", domains[i]);
	}
	for (size_t i = 0; i < n_domains; i++)
		free(domains[i]);
	free(domains);
	return rc;
}

int flint_limit_failed_validations(struct flint_req *r, const struct flint_identifier *id)
{
	const struct flint_rate *rate = &r->d->cfg->rate_failed_validations;
	size_t n = 0;
	int64_t oldest = 0;
	int rc;

	if (!rate->limit)
		return 0;
	rc = r->store->ops->count_failed_validations_since(r->store, r->account->id, id->type,
							   flint_identifier_authz_value(id),
							   flint_now() - rate->window, &n, &oldest);
	return enforce(r, rate, rc, n, oldest, "failed validations", id->value);
}

int flint_limit_pending_authzs(struct flint_req *r, size_t n_new, int64_t now)
{
	size_t pending = 0;
	int rc = r->store->ops->authz_count_pending(r->store, r->account->id, now, &pending);

	if (rc < 0) {
		flint_reply_error(r, FLINT_PROB_SERVER_INTERNAL, "store: %s", flint_strerror(rc));
		return rc;
	}
	if (pending + n_new > (size_t)r->d->cfg->max_pending_authzs) {
		flint_reply_add_header(r, "Retry-After", "3600");
		flint_reply_error(r, FLINT_PROB_RATE_LIMITED,
				  "this account would hold more than %d pending authorizations; "
				  "complete or deactivate some first",
				  r->d->cfg->max_pending_authzs);
		return FLINT_ECONFLICT;
	}
	return 0;
}
