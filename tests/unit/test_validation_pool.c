/* Unit tests for validate/worker.c: a job handed copies of what its submitter
 * read (flint_validation_pool_submit) validates from them; one that waited
 * half a job lease reads the store again first, so a challenge another node
 * finished meanwhile is not validated a second time. The challenge is an
 * "ip" identifier, 127.0.0.1, with loopback targets not allowed: its
 * validation fails at once, with no network. One worker, so the jobs run in
 * the order queued; the finished validations are read off /metrics. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "config.h"
#include "error.h"
#include "jwk.h"
#include "metrics.h"
#include "store/store.h"
#include "validate/worker.h"

static char tmpdir[64];
static char dbpath[128];

/* flintd_validations_total{type="http-01",outcome="invalid"} now */
static unsigned long long invalid_http01(void)
{
	char *text = NULL;
	size_t len = 0;
	unsigned long long v = 0;
	const char *key = "flintd_validations_total{type=\"http-01\",outcome=\"invalid\"} ";

	if (flint_metrics_render(flint_metrics_global(), &text, &len) == 0 && text) {
		const char *p = strstr(text, key);
		if (p)
			v = strtoull(p + strlen(key), NULL, 10);
	}
	free(text);
	return v;
}

static void nap(void *arg, struct flint_store *st, struct flint_resolver *res)
{
	(void)st, (void)res;
	struct timespec ts = {.tv_sec = *(int *)arg / 1000, .tv_nsec = *(int *)arg % 1000 * 1000000L};
	nanosleep(&ts, NULL);
}

static void mark(void *arg, struct flint_store *st, struct flint_resolver *res)
{
	(void)st, (void)res;
	atomic_store((atomic_int *)arg, 1);
}

/* Queues a marker behind everything queued and waits (bounded) for it. */
static void drain(struct flint_validation_pool *pool)
{
	static atomic_int done;

	atomic_store(&done, 0);
	CHECK_INT(flint_validation_pool_run(pool, mark, &done, NULL), 0);
	for (int i = 0; i < 3000 && !atomic_load(&done); i++)
		usleep(10000);
	CHECK(atomic_load(&done));
}

/* Challenge id of authz id, for account acct: an http-01 challenge of an
 * "ip" authorization, started (processing) by node-a. */
static void add_started_challenge(struct flint_store *st, const char *id, const char *authz)
{
	struct flint_challenge ch = {.id = (char *)id, .type = "http-01",
				     .token = "tok_aaaaaaaaaaaaaaaaaaaaaaaaa", .status = "pending"};
	struct flint_authz az = {.id = (char *)authz, .account_id = "acct1", .ident_type = "ip",
				 .ident_value = "127.0.0.1", .status = "pending",
				 .expires = time(NULL) + 3600, .created = time(NULL),
				 .challenges = &ch, .n_challenges = 1};

	CHECK_INT(st->ops->authz_insert(st, &az), 0);
	CHECK_INT(st->ops->challenge_start(st, id, "node-a", time(NULL) + 2), 0);
}

/* The submitter's copies, as the challenge POST reads them. */
static void read_copies(struct flint_store *st, const char *id, struct flint_challenge **c,
			struct flint_authz **a, struct flint_account **acct)
{
	CHECK_INT(st->ops->challenge_with_authz(st, id, c, a, acct), 0);
	CHECK(*c && !strcmp((*c)->status, "processing"));
}

static void test_copies_and_staleness(void)
{
	struct flintd_config cfg = {0};
	struct flint_validation_pool *pool = NULL;
	struct flint_store *st = NULL;
	struct flint_jwk *key = NULL;
	char *jwk_json = NULL;
	struct flint_challenge *c = NULL;
	struct flint_authz *a = NULL;
	struct flint_account *acct = NULL;
	int wait_ms = 1300;
	unsigned long long before;

	cfg.database = dbpath;
	cfg.validation_workers = 1;
	cfg.job_lease = 2; /* copies older than 1 s are read again */
	cfg.base_url = "https://ca.test";
	cfg.authz_lifetime = 3600;
	cfg.node_id = "node-a";
	cfg.dns_server = "127.0.0.1:9"; /* never asked: the identifier is an address */
	CHECK_INT(flint_store_open(dbpath, &st), 0);
	CHECK_INT(flint_jwk_generate(FLINT_KEY_P256, 0, &key), 0);
	CHECK_INT(key ? flint_jwk_to_string(key, &jwk_json) : FLINT_EINVAL, 0);
	if (!st || !jwk_json)
		goto out;
	struct flint_account acc = {.id = "acct1", .jwk_json = jwk_json, .thumbprint = key->thumbprint,
				    .contact_json = "[]", .status = "valid", .tos_agreed = true,
				    .created = time(NULL)};
	CHECK_INT(st->ops->account_insert(st, &acc), 0);
	CHECK_INT(flint_validation_pool_new(&cfg, &pool), 0);
	if (!pool)
		goto out;

	/* Fresh copies are what the worker goes by: the store already says
	 * valid (another node, say), the copy processing, and the job runs at
	 * once: validated (and failed: a loopback target), not read again. */
	add_started_challenge(st, "c-fresh", "az-fresh");
	read_copies(st, "c-fresh", &c, &a, &acct);
	CHECK_INT(st->ops->challenge_finish(st, "c-fresh", true, time(NULL), NULL,
					    time(NULL) + 3600),
		  0);
	before = invalid_http01();
	CHECK_INT(flint_validation_pool_submit(pool, "c-fresh", c, a, acct), 0);
	drain(pool);
	CHECK_INT(invalid_http01(), before + 1);
	flint_challenge_free(c);
	flint_authz_free(a);
	flint_account_free(acct);
	c = NULL, a = NULL, acct = NULL;

	/* Copies that waited half the lease are read again: another node
	 * finished the challenge meanwhile, so it is not validated again. */
	add_started_challenge(st, "c-stale", "az-stale");
	read_copies(st, "c-stale", &c, &a, &acct);
	CHECK_INT(flint_validation_pool_run(pool, nap, &wait_ms, NULL), 0); /* the worker busy */
	CHECK_INT(flint_validation_pool_submit(pool, "c-stale", c, a, acct), 0);
	CHECK_INT(st->ops->challenge_finish(st, "c-stale", true, time(NULL), NULL,
					    time(NULL) + 3600),
		  0);
	before = invalid_http01();
	drain(pool);
	CHECK_INT(invalid_http01(), before);

	/* Without copies the worker reads the store: a challenge still in
	 * processing is validated. */
	add_started_challenge(st, "c-read", "az-read");
	before = invalid_http01();
	CHECK_INT(flint_validation_pool_submit(pool, "c-read", NULL, NULL, NULL), 0);
	drain(pool);
	CHECK_INT(invalid_http01(), before + 1);
out:
	flint_validation_pool_free(pool);
	flint_challenge_free(c);
	flint_authz_free(a);
	flint_account_free(acct);
	flint_store_close(st);
	flint_jwk_free(key);
	free(jwk_json);
}

int main(void)
{
	char cmd[160];

	snprintf(tmpdir, sizeof(tmpdir), "/tmp/flint-pool-XXXXXX");
	if (!mkdtemp(tmpdir)) {
		perror("mkdtemp");
		return 1;
	}
	snprintf(dbpath, sizeof(dbpath), "%s/flint.db", tmpdir);
	RUN(test_copies_and_staleness);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", tmpdir);
	return CHECK_DONE();
}
