/* Work that outlives a request, shared by the nodes of a cluster (several
 * flintd on one database): a node claims the validations and finalizations it
 * starts for job-lease seconds; when a node stops or dies, another (or the
 * same one, restarted) claims that work once the claim expires and finishes
 * it. Scheduled jobs (the used-nonce purge, CRL publication to crl-dir) run
 * under a lease, so once per period across all nodes. */
#include <stdio.h>

#include "api.h"
#include "error.h"
#include "log.h"
#include "validate/worker.h"

/* Rows taken over per kind and round: a backlog is worked off over rounds. */
#define CLAIM_BATCH 512

#define NONCE_PURGE_SECONDS 300

static int take_over_challenges(struct flintd *d, struct flint_store *st,
				const struct flint_claim *c)
{
	char **ids = NULL;
	size_t n = 0;
	int rc = st->ops->challenges_claim(st, c, &ids, &n);

	for (size_t i = 0; rc == 0 && i < n; i++) {
		flintd_logf("state challenge=%s claimed=%s", ids[i], c->node);
		int qrc = flint_validation_pool_submit(d->pool, ids[i], NULL, NULL, NULL);
		if (qrc < 0)
			flint_validation_fail(st, ids[i], FLINT_PROB_SERVER_INTERNAL,
					      qrc == FLINT_ETOOBIG
						  ? "the validation queue is full; try again"
						  : "the validation could not be queued; try again");
	}
	flint_string_list_free(ids, n);
	return rc;
}

static int take_over_orders(struct flintd *d, struct flint_store *st, const struct flint_claim *c)
{
	char **ids = NULL;
	size_t n = 0;
	int rc = st->ops->orders_claim(st, c, &ids, &n);

	/* one order that cannot be resumed (recorded invalid) does not stop the rest */
	for (size_t i = 0; rc == 0 && i < n; i++)
		flint_finalize_resume(d, st, ids[i]);
	flint_string_list_free(ids, n);
	return rc;
}

int flint_jobs_take_over(struct flintd *d, struct flint_store *st, bool own)
{
	int64_t now = flint_now();
	struct flint_claim c = {.node = d->cfg->node_id, .now = now,
				.claim_until = now + d->cfg->job_lease, .own = own,
				.limit = CLAIM_BATCH};
	int rc = take_over_challenges(d, st, &c);
	int rc2 = take_over_orders(d, st, &c);

	return rc < 0 ? rc : rc2;
}

/* Whether this node runs the job called name now: it holds the job's lease
 * for the next period seconds. */
static bool due(struct flintd *d, struct flint_store *st, const char *name, int period)
{
	int64_t now = flint_now();
	int rc = st->ops->lease_acquire(st, name, d->cfg->node_id, now, now + period);

	if (rc < 0 && rc != FLINT_ECONFLICT)
		fprintf(stderr, "flintd: job %s: lease: %s\n", name, flint_strerror(rc));
	return rc == 0;
}

void flint_jobs_run(struct flintd *d, struct flint_store *st)
{
	int rc = flint_jobs_take_over(d, st, false);

	if (rc < 0)
		fprintf(stderr, "flintd: taking over work: %s\n", flint_strerror(rc));
	if (due(d, st, "nonce-purge", NONCE_PURGE_SECONDS) &&
	    (rc = st->ops->nonce_purge(st, flint_now())) < 0)
		fprintf(stderr, "flintd: nonce purge failed: %s\n", flint_strerror(rc));
	if (d->cfg->crl_dir && due(d, st, "crl-publish", d->cfg->crl_interval) &&
	    (rc = flint_crl_publish(d, st)) < 0)
		fprintf(stderr, "flintd: CRL publication failed: %s\n", flint_strerror(rc));
}
