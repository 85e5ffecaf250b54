/* The validation worker pool (RFC 8555 §7.5.1: validation is asynchronous):
 * a queue of challenge ids, threads that run the challenge's validator and
 * record the outcome in the store. Work left in processing by a stopped node
 * comes back through api/jobs.c. */
#include "validate/worker.h"

#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "error.h"
#include "keyauth.h"
#include "log.h"
#include "metrics.h"
#include "store/store.h"
#include "validate/caa.h"
#include "validate/resolver.h"

#define QUEUE_MAX 65536
/* Jobs that carry what their submitter read (flint_validation_pool_submit):
 * at most this many queued, so a long queue holds ids only and its jobs
 * read the store when their turn comes, not copies made long before. */
#define QUEUED_WITH_COPIES_MAX 64

/* A challenge to validate, or other slow work handed down by a layer above
 * (fn runs with the worker's store and resolver, then free_arg(arg)). */
struct job {
	char *challenge_id;
	/* optional: the challenge, its authorization and account as the
	 * submitter read them, so the worker need not read them again */
	struct flint_challenge *c;
	struct flint_authz *a;
	struct flint_account *acct;
	struct timespec queued_at; /* CLOCK_MONOTONIC */
	flint_pool_fn fn;
	void *arg;
	void (*free_arg)(void *arg);
	struct job *next;
};

/* Frees and forgets the copies j carries. */
static void job_copies_free(struct job *j)
{
	flint_challenge_free(j->c);
	flint_authz_free(j->a);
	flint_account_free(j->acct);
	j->c = NULL, j->a = NULL, j->acct = NULL;
}

static void job_free(struct job *j)
{
	if (j->free_arg)
		j->free_arg(j->arg);
	free(j->challenge_id);
	job_copies_free(j);
	free(j);
}

struct worker {
	struct flint_validation_pool *pool;
	pthread_t thread;
	bool started;
};

struct flint_validation_pool {
	const struct flintd_config *cfg;
	struct flint_validation_config vcfg;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct job *head, *tail;
	size_t queued;
	size_t with_copies; /* queued jobs that carry copies (QUEUED_WITH_COPIES_MAX) */
	bool stopping;
	struct worker *workers;
	int n_workers;
};

static char *problem_string(struct flint_problem *p)
{
	json_t *doc = p ? flint_problem_to_json(p) : NULL;
	char *s = doc ? json_dumps(doc, JSON_COMPACT) : NULL;
	json_decref(doc);
	return s;
}

int flint_validation_fail(struct flint_store *st, const char *challenge_id,
			  enum flint_problem_type type, const char *detail)
{
	struct flint_problem *p = flint_problem_new(type, "%s", detail);
	char *err = problem_string(p);
	int rc = err ? st->ops->challenge_finish(st, challenge_id, false, (int64_t)time(NULL), err, 0)
		     : FLINT_ENOMEM;
	flint_problem_free(p);
	free(err);
	return rc;
}

/* Validates one challenge and records the result; all failures become the
 * challenge's error so the client always sees a final state. */
static void validate_one(struct flint_validation_pool *pool, struct flint_store *st,
			 struct flint_resolver *res, struct job *j)
{
	const char *id = j->challenge_id;
	struct flint_challenge *c = NULL;
	struct flint_authz *a = NULL;
	struct flint_account *acct = NULL;
	struct flint_jwk *key = NULL;
	struct flint_problem *prob = NULL;
	char *keyauth = NULL, *err = NULL;
	int rc;
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);

	/* Copies older than half a lease are read again: by a whole lease
	 * another node may have taken the challenge over and finished it
	 * (api/jobs.c), and this one must then not validate it again. */
	if (j->c && flint_metrics_since_us(&j->queued_at) / 1000000 >=
			(uint64_t)(pool->cfg->job_lease > 0 ? pool->cfg->job_lease / 2 : 0))
		job_copies_free(j);
	/* taken from the job: freed here */
	c = j->c, a = j->a, acct = j->acct;
	j->c = NULL, j->a = NULL, j->acct = NULL;
	if (!c && (rc = st->ops->challenge_with_authz(st, id, &c, &a, &acct)) < 0) {
		flintd_logf("validate challenge=%s error=%s", id, flint_strerror(rc));
		if (rc != FLINT_ENOTFOUND)
			flint_validation_fail(st, id, FLINT_PROB_SERVER_INTERNAL,
					      "the CA could not load this challenge");
		goto out;
	}
	if (strcmp(c->status, "processing") != 0)
		goto out;
	const struct flint_validator *v = flint_validator_find(c->type);
	if (!v) {
		prob = flint_problem_new(FLINT_PROB_SERVER_INTERNAL, "no validator for %s", c->type);
		rc = FLINT_EUNSUPPORTED;
	} else if ((rc = flint_account_jwk(acct, &key)) < 0 ||
		   (rc = flint_keyauth(c->token, key, &keyauth)) < 0) {
		prob = flint_problem_new(FLINT_PROB_SERVER_INTERNAL, "cannot compute key authorization");
		rc = rc < 0 ? rc : FLINT_EINVAL;
	} else {
		/* exactly the Location flintd sends for the account (api/account.c:
		 * flint_url, base_url + "/acme/acct/" + id): dns-account-01 hashes it */
		char *acct_url = NULL;
		if (asprintf(&acct_url, "%s/acme/acct/%s", pool->cfg->base_url, acct->id) < 0)
			acct_url = NULL;
		struct flint_validation val = {
			.ident_type = a->ident_type, .ident_value = a->ident_value,
			.token = c->token, .key_authorization = keyauth, .account_url = acct_url,
		};
		struct flint_validator_ctx ctx = {.cfg = &pool->vcfg, .resolver = res};
		/* CAA is checked after a successful validation (the usual
		 * outcome): its queries are answered meanwhile */
		if (!strcmp(a->ident_type, "dns"))
			flint_caa_prefetch(res, a->ident_value);
		rc = v->validate(&ctx, &val, &prob);
		/* RFC 8659 / RFC 8657: CAA at validation time, for DNS names */
		if (rc == 0 && !strcmp(a->ident_type, "dns"))
			rc = flint_caa_check_for(res, pool->cfg->caa_identities, a->ident_value,
						 a->wildcard, acct_url, c->type, &prob);
		free(acct_url);
	}
	if (rc < 0 && !prob)
		prob = flint_problem_new(FLINT_PROB_SERVER_INTERNAL, "validation failed: %s",
					 flint_strerror(rc));
	if (rc < 0 && prob) {
		/* §6.7.1: the error names the identifier it is about */
		flint_problem_add_sub(prob, prob->type, a->ident_type, a->ident_value, "%s",
				      prob->detail);
		err = problem_string(prob);
	}
	int64_t now = (int64_t)time(NULL);
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	int frc = st->ops->challenge_finish(st, c->id, rc == 0, now, err,
					    now + pool->cfg->authz_lifetime);
	flint_metrics_store(flint_metrics_global(), "challenge_finish", flint_metrics_since_us(&ts));
	/* the validator row's name: a static string, and a bounded label set */
	flint_metrics_validation(flint_metrics_global(), v ? v->type : "unknown", rc == 0);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	flintd_logf("state challenge=%s type=%s identifier=%s status=%s problem=%s us=%ld%s",
		    c->id, c->type, a->ident_value, rc == 0 ? "valid" : "invalid",
		    prob ? flint_problem_type_urn(prob->type) + 27 : "-",
		    (t1.tv_sec - t0.tv_sec) * 1000000L + (t1.tv_nsec - t0.tv_nsec) / 1000L,
		    frc < 0 ? " (not recorded: state changed)" : "");
	if (prob && prob->detail)
		flintd_logf("validate challenge=%s detail=\"%s\"", c->id, prob->detail);
out:
	flint_resolver_prefetch_drop(res);
	flint_challenge_free(c);
	flint_authz_free(a);
	flint_account_free(acct);
	flint_jwk_free(key);
	flint_problem_free(prob);
	free(keyauth);
	free(err);
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct flint_validation_pool *pool = w->pool;
	struct flint_store *st = NULL;
	struct flint_resolver *res = NULL;
	char name[16]; /* as top -H and /proc/PID/task/TID/comm show it */
	snprintf(name, sizeof(name), "flintd-valid%d", (int)(w - pool->workers) % 100);
	pthread_setname_np(pthread_self(), name);
	int rc = flint_store_open(pool->cfg->database, &st);
	if (rc == 0)
		rc = flint_resolver_new(pool->cfg->dns_server, &res);
	if (rc == 0)
		flint_resolver_set_timeout(res, pool->vcfg.timeout_seconds);
	if (rc < 0) {
		fprintf(stderr, "flintd: validation worker cannot start: %s\n", flint_strerror(rc));
		goto out;
	}
	for (;;) {
		pthread_mutex_lock(&pool->lock);
		while (!pool->head && !pool->stopping)
			pthread_cond_wait(&pool->cond, &pool->lock);
		if (pool->stopping) {
			pthread_mutex_unlock(&pool->lock);
			break;
		}
		struct job *j = pool->head;
		pool->head = j->next;
		if (!pool->head)
			pool->tail = NULL;
		pool->queued--;
		if (j->c)
			pool->with_copies--;
		flint_metrics_gauge_set(flint_metrics_global(), FLINT_METRIC_VALIDATION_QUEUE,
					(int64_t)pool->queued);
		pthread_mutex_unlock(&pool->lock);
		if (j->fn)
			j->fn(j->arg, st, res);
		else
			validate_one(pool, st, res, j);
		job_free(j);
	}
out:
	flint_resolver_free(res);
	flint_store_close(st);
	return NULL;
}

static int enqueue(struct flint_validation_pool *p, struct job *j)
{
	struct job dropped = {0}; /* copies the queue will not carry */

	clock_gettime(CLOCK_MONOTONIC, &j->queued_at);
	pthread_mutex_lock(&p->lock);
	if (p->queued >= QUEUE_MAX) {
		pthread_mutex_unlock(&p->lock);
		return FLINT_ETOOBIG;
	}
	if (j->c && p->with_copies >= QUEUED_WITH_COPIES_MAX) {
		/* freed after the unlock: the worker reads the store instead */
		dropped.c = j->c, dropped.a = j->a, dropped.acct = j->acct;
		j->c = NULL, j->a = NULL, j->acct = NULL;
	}
	if (j->c)
		p->with_copies++;
	if (p->tail)
		p->tail->next = j;
	else
		p->head = j;
	p->tail = j;
	p->queued++;
	flint_metrics_gauge_set(flint_metrics_global(), FLINT_METRIC_VALIDATION_QUEUE,
				(int64_t)p->queued);
	pthread_cond_signal(&p->cond);
	pthread_mutex_unlock(&p->lock);
	job_copies_free(&dropped);
	return 0;
}

int flint_validation_pool_submit(struct flint_validation_pool *p, const char *challenge_id,
				 const struct flint_challenge *c, const struct flint_authz *a,
				 const struct flint_account *acct)
{
	struct job *j = calloc(1, sizeof(*j));
	int rc = FLINT_ENOMEM;

	if (!j || !(j->challenge_id = strdup(challenge_id)))
		goto out;
	if (c && a && acct &&
	    ((rc = flint_challenge_dup(c, &j->c)) < 0 || (rc = flint_authz_dup_bare(a, &j->a)) < 0 ||
	     (rc = flint_account_dup(acct, &j->acct)) < 0))
		goto out;
	rc = enqueue(p, j);
	if (rc == 0)
		j = NULL;
out:
	if (j)
		job_free(j);
	return rc;
}

int flint_validation_pool_run(struct flint_validation_pool *p, flint_pool_fn fn, void *arg,
			      void (*free_arg)(void *arg))
{
	struct job *j = calloc(1, sizeof(*j));
	int rc;

	if (!j)
		return FLINT_ENOMEM; /* arg stays the caller's */
	j->fn = fn;
	j->arg = arg;
	j->free_arg = free_arg;
	if ((rc = enqueue(p, j)) < 0) {
		j->free_arg = NULL; /* not taken: the caller keeps arg */
		job_free(j);
	}
	return rc;
}

int flint_validation_pool_new(const struct flintd_config *cfg, struct flint_validation_pool **ret)
{
	struct flint_validation_pool *p = calloc(1, sizeof(*p));
	int rc = FLINT_ENOMEM;
	if (!p)
		return FLINT_ENOMEM;
	p->cfg = cfg;
	p->vcfg = (struct flint_validation_config){
		.http01_port = (uint16_t)cfg->http01_port,
		.tlsalpn01_port = (uint16_t)cfg->tlsalpn01_port,
		.dns_server = cfg->dns_server,
		.allow_loopback = cfg->allow_loopback_targets,
		.timeout_seconds = 10,
	};
	pthread_mutex_init(&p->lock, NULL);
	pthread_cond_init(&p->cond, NULL);
	p->workers = calloc((size_t)cfg->validation_workers, sizeof(*p->workers));
	if (!p->workers)
		goto out;
	for (int i = 0; i < cfg->validation_workers; i++) {
		p->workers[i].pool = p;
		if (pthread_create(&p->workers[i].thread, NULL, worker_main, &p->workers[i]) != 0) {
			rc = FLINT_EIO;
			goto out;
		}
		p->workers[i].started = true;
		p->n_workers = i + 1;
	}
	*ret = p;
	p = NULL;
	rc = 0;
out:
	flint_validation_pool_free(p);
	return rc;
}

void flint_validation_pool_free(struct flint_validation_pool *p)
{
	if (!p)
		return;
	pthread_mutex_lock(&p->lock);
	p->stopping = true;
	pthread_cond_broadcast(&p->cond);
	pthread_mutex_unlock(&p->lock);
	for (int i = 0; i < p->n_workers; i++)
		if (p->workers[i].started)
			pthread_join(p->workers[i].thread, NULL);
	while (p->head) {
		struct job *j = p->head;
		p->head = j->next;
		job_free(j);
	}
	free(p->workers);
	pthread_mutex_destroy(&p->lock);
	pthread_cond_destroy(&p->cond);
	free(p);
}
