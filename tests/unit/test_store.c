/* Unit tests of the store contract (store.h): every operation, its state rules
 * and error codes, reopening, and two threads. Against a SQLite temp file, or
 * against the database FLINT_TEST_DSN names (tests/unit/pg_cluster.sh). */
#include <dirent.h>
#include <libpq-fe.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "error.h"
#include "jwk.h"
#include "metrics.h"
#include "store/store.h"

static char tmpdir[64];
static char dbpath[128];
static struct flint_store *st;
/* The DSN under test (dbpath unless FLINT_TEST_DSN); an empty database for the
 * first-open test (FLINT_TEST_DSN_FRESH, or a new file). */
static const char *dsn;
static const char *fresh_dsn;

#define OPS (st->ops)

static void add_account(const char *id, const char *thumb)
{
	struct flint_account a = {
		.id = (char *)id,
		.jwk_json = "{\"kty\":\"EC\"}",
		.thumbprint = (char *)thumb,
		.contact_json = "[\"mailto:a@example.org\"]",
		.status = "valid",
		.tos_agreed = true,
		.created = 1000,
	};
	CHECK_INT(OPS->account_insert(st, &a), 0);
}

/* DSNs in log lines never show a password. */
static void test_dsn_redacted(void)
{
	char b[256];

	CHECK_STR(flint_store_dsn_redacted("postgresql://flint:s3cret@db:5432/flint", b, sizeof(b)),
		  "postgresql://flint:***@db:5432/flint");
	CHECK_STR(flint_store_dsn_redacted("postgres://flint@db/flint", b, sizeof(b)),
		  "postgres://flint@db/flint");
	CHECK_STR(flint_store_dsn_redacted("host=db password=s3cret dbname=flint", b, sizeof(b)),
		  "host=db password=*** dbname=flint");
	CHECK_STR(flint_store_dsn_redacted("host=db password='a b\\'c' dbname=x", b, sizeof(b)),
		  "host=db password=*** dbname=x");
	CHECK_STR(flint_store_dsn_redacted("sqlite:/var/lib/flint/flintd.db", b, sizeof(b)),
		  "sqlite:/var/lib/flint/flintd.db");
	CHECK_STR(flint_store_dsn_redacted(NULL, b, sizeof(b)), "");
}

static void test_open_dsn(void)
{
	const char *rest = NULL;
	char dsn2[160];
	struct flint_store *s2 = NULL;

	CHECK(flint_store_backend("sqlite:/x.db", &rest) != NULL);
	CHECK_STR(rest, "/x.db");
	CHECK(flint_store_backend("/var/lib/flint/x.db", &rest) != NULL);
	CHECK_STR(rest, "/var/lib/flint/x.db");
	CHECK(flint_store_backend("./x.db", &rest) != NULL);
	CHECK_STR(flint_store_backend("x.db", NULL)->name, "sqlite");
	CHECK_STR(flint_store_backend("postgres://u@h/db", &rest)->name, "postgres");
	CHECK_STR(rest, "postgres://u@h/db"); /* libpq takes the whole URI */
	CHECK_STR(flint_store_backend("postgresql://u@h/db", NULL)->name, "postgres");
	CHECK_STR(flint_store_backend("host=/tmp/x port=23001 dbname=flint", &rest)->name,
		  "postgres");
	CHECK_STR(rest, "host=/tmp/x port=23001 dbname=flint");
	CHECK_STR(flint_store_backend("dbname = flint", NULL)->name, "postgres");
	CHECK_STR(flint_store_backend("/var/lib/a=b.db", NULL)->name, "sqlite");
	CHECK_STR(flint_store_backend("sqlite:host=x.db", &rest)->name, "sqlite");
	CHECK_STR(rest, "host=x.db");
	CHECK(flint_store_backend("mysql://u@h/db", &rest) == NULL);
	CHECK(flint_store_backend(NULL, &rest) == NULL);
	CHECK_INT(flint_store_open("mysql://u@h/db", &s2), FLINT_EUNSUPPORTED);
	CHECK(s2 == NULL);
	/* a conninfo libpq cannot parse; nothing listening on the socket */
	CHECK_INT(flint_store_open("dbname='unterminated", &s2), FLINT_EINVAL);
	CHECK_INT(flint_store_open("postgresql://[::1/db", &s2), FLINT_EINVAL);
	CHECK(s2 == NULL);
	snprintf(dsn2, sizeof(dsn2), "host=%s port=1 dbname=flint connect_timeout=5", tmpdir);
	CHECK_INT(flint_store_open(dsn2, &s2), FLINT_EIO);
	CHECK(s2 == NULL);
	CHECK_INT(flint_store_open("sqlite:", &s2), FLINT_EINVAL);
	snprintf(dsn2, sizeof(dsn2), "sqlite:%s/nodir/x.db", tmpdir);
	CHECK_INT(flint_store_open(dsn2, &s2), FLINT_EIO);
	CHECK(s2 == NULL);

	if (dsn == dbpath) {
		snprintf(dsn2, sizeof(dsn2), "sqlite:%s", dbpath);
		CHECK_INT(flint_store_open(dsn2, &st), 0);
	} else {
		CHECK_INT(flint_store_open(dsn, &st), 0);
	}
	CHECK(st != NULL);
	if (st)
		CHECK_STR(st->ops->name, dsn == dbpath ? "sqlite" : "postgres");
}

static void test_nonces(void)
{
	unsigned char a[8] = "aaaaaaa", b[8] = "bbbbbbb", got[8];
	CHECK_INT(OPS->nonce_use(st, "n1", 100), 0);
	CHECK_INT(OPS->nonce_use(st, "n1", 100), FLINT_ECONFLICT); /* single use */
	CHECK_INT(OPS->nonce_use(st, "n2", 100), 0);
	CHECK_INT(OPS->nonce_use(st, "n3", 200), 0);
	CHECK_INT(OPS->nonce_use(st, NULL, 200), FLINT_EINVAL);
	CHECK_INT(OPS->nonce_purge(st, 150), 0);
	CHECK_INT(OPS->nonce_use(st, "n2", 100), 0);               /* forgotten once expired */
	CHECK_INT(OPS->nonce_use(st, "n3", 200), FLINT_ECONFLICT); /* survived the purge */

	/* Secrets: the first candidate stored wins for everyone after. */
	CHECK_INT(OPS->secret(st, "k", a, sizeof(a), got), 0);
	CHECK(memcmp(got, a, sizeof(a)) == 0);
	CHECK_INT(OPS->secret(st, "k", b, sizeof(b), got), 0);
	CHECK(memcmp(got, a, sizeof(a)) == 0);
	CHECK_INT(OPS->secret(st, "k", b, 4, got), FLINT_EINVAL); /* other length */
	CHECK_INT(OPS->secret(st, "other", b, sizeof(b), got), 0);
	CHECK(memcmp(got, b, sizeof(b)) == 0);
}

/* Rate-limit counts: orders per account, certificates per domain (written
 * with the certificate, in its transaction), accounts per address; each
 * with the oldest counted time. */
static void test_rate_counts(void)
{
	unsigned char der[] = {0x30, 0x03, 0x02, 0x01, 0x01};
	char *doms[] = {"rl.example", "192.0.2.9"};
	struct flint_cert c = {.id = "rlc1", .serial = "7a01", .account_id = "rlacct",
			       .der = der, .der_len = sizeof(der), .chain_pem = "x",
			       .not_before = 5000, .not_after = 9000, .names_json = "[]",
			       .rate_domains = doms, .n_rate_domains = 2};
	struct flint_account a = {.id = "rlacct", .jwk_json = "{}", .thumbprint = "rlthumb",
				  .contact_json = "[]", .status = "valid", .created = 4000,
				  .created_ip = "192.0.2.77"};
	size_t n = 99;
	int64_t oldest = -1;

	CHECK_INT(OPS->account_insert(st, &a), 0);
	a.id = "rlacct2";
	a.thumbprint = "rlthumb2";
	a.created = 4500;
	CHECK_INT(OPS->account_insert(st, &a), 0);
	CHECK_INT(OPS->count_accounts_from_since(st, "192.0.2.77", 3000, &n, &oldest), 0);
	CHECK_INT(n, 2);
	CHECK_INT(oldest, 4000);
	CHECK_INT(OPS->count_accounts_from_since(st, "192.0.2.77", 4000, &n, &oldest), 0);
	CHECK_INT(n, 1); /* strictly after since */
	CHECK_INT(OPS->count_accounts_from_since(st, "192.0.2.78", 0, &n, &oldest), 0);
	CHECK_INT(n, 0);
	CHECK_INT(oldest, 0);

	CHECK_INT(OPS->cert_insert(st, &c), 0);
	c.id = "rlc2";
	c.serial = "7a02";
	c.not_before = 6000;
	c.n_rate_domains = 1;
	CHECK_INT(OPS->cert_insert(st, &c), 0);
	/* a failing insert (same serial) leaves no domain row behind */
	c.id = "rlc3";
	c.not_before = 7000;
	CHECK_INT(OPS->cert_insert(st, &c), FLINT_ECONFLICT);
	CHECK_INT(OPS->count_certs_for_domain_since(st, "rl.example", 0, &n, &oldest), 0);
	CHECK_INT(n, 2);
	CHECK_INT(oldest, 5000);
	CHECK_INT(OPS->count_certs_for_domain_since(st, "192.0.2.9", 0, &n, &oldest), 0);
	CHECK_INT(n, 1);
	CHECK_INT(OPS->count_certs_for_domain_since(st, "rl.example", 5500, &n, &oldest), 0);
	CHECK_INT(n, 1);
	CHECK_INT(oldest, 6000);

	CHECK_INT(OPS->count_orders_since(st, "acct1", 0, &n, &oldest), 0);
	CHECK(n >= 1);
	CHECK_INT(OPS->count_orders_since(st, "no-such-account", 0, &n, &oldest), 0);
	CHECK_INT(n, 0);
	CHECK_INT(OPS->count_failed_validations_since(st, "acct1", "dns", "nothing.example", 0, &n,
						      &oldest), 0);
	CHECK_INT(n, 0);
}

static void test_accounts(void)
{
	struct flint_account *a = NULL, *b = NULL, up;

	add_account("acct1", "thumb1");
	add_account("acct2", "thumb2");
	{
		struct flint_account dup = {.id = "acct3", .jwk_json = "{}", .thumbprint = "thumb1",
					    .contact_json = "[]", .status = "valid"};
		CHECK_INT(OPS->account_insert(st, &dup), FLINT_ECONFLICT);
		dup.thumbprint = "thumb3";
		dup.id = "acct1";
		CHECK_INT(OPS->account_insert(st, &dup), FLINT_ECONFLICT);
		dup.id = "acct3";
		dup.contact_json = NULL; /* stored as "[]" */
		dup.status = NULL;
		CHECK_INT(OPS->account_insert(st, &dup), FLINT_EINVAL);
		dup.status = "valid";
		CHECK_INT(OPS->account_insert(st, &dup), 0);
		CHECK_INT(OPS->account_get(st, "acct3", &a), 0);
		if (a)
			CHECK_STR(a->contact_json, "[]");
		flint_account_free(a);
		a = NULL;
	}

	CHECK_INT(OPS->account_get(st, "acct1", &a), 0);
	if (a) {
		CHECK_STR(a->id, "acct1");
		CHECK_STR(a->jwk_json, "{\"kty\":\"EC\"}");
		CHECK_STR(a->thumbprint, "thumb1");
		CHECK_STR(a->contact_json, "[\"mailto:a@example.org\"]");
		CHECK_STR(a->status, "valid");
		CHECK(a->tos_agreed);
		CHECK_INT(a->created, 1000);
	}
	CHECK_INT(OPS->account_by_thumbprint(st, "thumb2", &b), 0);
	if (b)
		CHECK_STR(b->id, "acct2");
	flint_account_free(b);
	b = NULL;
	CHECK_INT(OPS->account_get(st, "missing", &b), FLINT_ENOTFOUND);
	CHECK(b == NULL);
	/* a nonce used and the account read in one call */
	CHECK_INT(OPS->nonce_use_account_get(st, "na1", 100, "acct2", &b), 0);
	CHECK(b && strcmp(b->id, "acct2") == 0 && strcmp(b->thumbprint, "thumb2") == 0 &&
	      strcmp(b->status, "valid") == 0);
	flint_account_free(b);
	b = (struct flint_account *)&b; /* must be overwritten */
	CHECK_INT(OPS->nonce_use_account_get(st, "na1", 100, "acct2", &b), FLINT_ECONFLICT);
	CHECK(b == (struct flint_account *)&b); /* nothing read */
	CHECK_INT(OPS->nonce_use_account_get(st, "na2", 100, "missing", &b), 0);
	CHECK(b == NULL);
	CHECK_INT(OPS->nonce_use(st, "na2", 100), FLINT_ECONFLICT); /* used all the same */
	CHECK_INT(OPS->nonce_use_account_get(st, NULL, 100, "acct2", &b), FLINT_EINVAL);
	CHECK(b == NULL);
	CHECK_INT(OPS->account_by_thumbprint(st, "missing", &b), FLINT_ENOTFOUND);
	CHECK(b == NULL);

	/* Key change onto a fresh thumbprint, then onto acct2's. */
	struct flint_account was = {.id = "acct1", .thumbprint = "thumb1", .status = "valid"};
	up = (struct flint_account){.id = "acct1", .jwk_json = "{\"kty\":\"OKP\"}",
				    .thumbprint = "thumb1b", .contact_json = "[]",
				    .status = "deactivated", .tos_agreed = false};
	CHECK_INT(OPS->account_update(st, &up, &was), 0);
	/* read before the update (SQLite keeps it in its account cache): now
	 * the update's */
	CHECK_INT(OPS->account_get(st, "acct1", &b), 0);
	CHECK(b && strcmp(b->status, "deactivated") == 0 && strcmp(b->thumbprint, "thumb1b") == 0);
	flint_account_free(b);
	b = NULL;
	/* a second writer that read the old row must not undo it */
	CHECK_INT(OPS->account_update(st, &up, &was), FLINT_ECONFLICT);
	was.thumbprint = "thumb1b";
	was.status = "deactivated";
	CHECK_INT(OPS->account_by_thumbprint(st, "thumb1", &b), FLINT_ENOTFOUND);
	CHECK_INT(OPS->account_by_thumbprint(st, "thumb1b", &b), 0);
	if (b) {
		CHECK_STR(b->id, "acct1");
		CHECK_STR(b->jwk_json, "{\"kty\":\"OKP\"}");
		CHECK_STR(b->contact_json, "[]");
		CHECK_STR(b->status, "deactivated");
		CHECK(!b->tos_agreed);
		CHECK_INT(b->created, 1000); /* not updated */
	}
	flint_account_free(b);
	b = NULL;
	up.thumbprint = "thumb2";
	CHECK_INT(OPS->account_update(st, &up, &was), FLINT_ECONFLICT);
	up.id = "missing";
	up.thumbprint = "thumb9";
	CHECK_INT(OPS->account_update(st, &up, &was), FLINT_ENOTFOUND);
	/* Restore acct1 for later tests. */
	up = (struct flint_account){.id = "acct1", .jwk_json = "{\"kty\":\"EC\"}",
				    .thumbprint = "thumb1", .contact_json = "[]",
				    .status = "valid", .tos_agreed = true};
	CHECK_INT(OPS->account_update(st, &up, &was), 0);

	flint_account_free(a);
	flint_account_free(NULL);
}

static struct flint_challenge chal(const char *id, const char *type, const char *token)
{
	return (struct flint_challenge){
		.id = (char *)id, .type = (char *)type, .token = (char *)token, .status = "pending"};
}

static void test_orders(void)
{
	struct flint_challenge c1[] = {chal("c1a", "http-01", "tok1a"),
				       chal("c1b", "dns-01", "tok1b"),
				       chal("c1c", "tls-alpn-01", "tok1c")};
	struct flint_challenge c2[] = {chal("c2a", "dns-01", "tok2a")};
	struct flint_authz az[] = {
		{.id = "az1", .account_id = "acct1", .ident_type = "dns",
		 .ident_value = "example.org", .status = "pending", .expires = 5000,
		 .created = 1000, .challenges = c1, .n_challenges = 3},
		{.id = "az2", .account_id = "acct1", .ident_type = "dns",
		 .ident_value = "example.org", .wildcard = true, .status = "pending",
		 .expires = 5000, .created = 1000, .challenges = c2, .n_challenges = 1},
	};
	char *ids1[] = {"az1", "az2"};
	struct flint_order o1 = {.id = "ord1", .account_id = "acct1", .status = "pending",
				 .expires = 6000, .not_before = 10, .not_after = 20,
				 .created = 1000,
				 .identifiers_json = "[{\"type\":\"dns\",\"value\":\"example.org\"}]",
				 .authz_ids = ids1, .n_authz = 2};
	struct flint_order *o = NULL;
	struct flint_authz *a = NULL;

	CHECK_INT(OPS->order_insert(st, &o1, az, 2), 0);
	CHECK_INT(OPS->order_get(st, "ord1", &o), 0);
	if (o) {
		CHECK_STR(o->id, "ord1");
		CHECK_STR(o->account_id, "acct1");
		CHECK_STR(o->status, "pending");
		CHECK_INT(o->expires, 6000);
		CHECK_INT(o->not_before, 10);
		CHECK_INT(o->not_after, 20);
		CHECK_INT(o->created, 1000);
		CHECK_STR(o->identifiers_json, "[{\"type\":\"dns\",\"value\":\"example.org\"}]");
		CHECK(o->error_json == NULL);
		CHECK(o->cert_id == NULL);
		CHECK_INT(o->n_authz, 2);
		if (o->n_authz == 2) {
			CHECK_STR(o->authz_ids[0], "az1");
			CHECK_STR(o->authz_ids[1], "az2");
		}
	}
	flint_order_free(o);
	o = NULL;

	CHECK_INT(OPS->authz_get(st, "az1", &a), 0);
	if (a) {
		CHECK_STR(a->account_id, "acct1");
		CHECK_STR(a->ident_type, "dns");
		CHECK_STR(a->ident_value, "example.org");
		CHECK(!a->wildcard);
		CHECK_STR(a->status, "pending");
		CHECK_INT(a->expires, 5000);
		CHECK_INT(a->n_challenges, 3);
		if (a->n_challenges == 3) {
			CHECK_STR(a->challenges[0].id, "c1a");
			CHECK_STR(a->challenges[1].id, "c1b");
			CHECK_STR(a->challenges[2].id, "c1c");
			CHECK_STR(a->challenges[1].type, "dns-01");
			CHECK_STR(a->challenges[1].token, "tok1b");
			CHECK_STR(a->challenges[1].authz_id, "az1");
			CHECK_STR(a->challenges[1].status, "pending");
			CHECK_INT(a->challenges[1].validated, 0);
			CHECK(a->challenges[1].error_json == NULL);
		}
	}
	flint_authz_free(a);
	a = NULL;
	CHECK_INT(OPS->authz_get(st, "az2", &a), 0);
	if (a) {
		CHECK(a->wildcard);
		CHECK_INT(a->n_challenges, 1);
	}
	flint_authz_free(a);
	a = NULL;

	/* A second order reusing az1 plus a new authz. */
	{
		struct flint_challenge c3[] = {chal("c3a", "http-01", "tok3a")};
		struct flint_authz az3 = {.id = "az3", .account_id = "acct1", .ident_type = "dns",
					  .ident_value = "www.example.org", .status = "pending",
					  .expires = 5000, .created = 1001, .challenges = c3,
					  .n_challenges = 1};
		char *ids2[] = {"az3", "az1"};
		struct flint_order o2 = {.id = "ord2", .account_id = "acct1", .status = "pending",
					 .expires = 6000, .created = 1001,
					 .identifiers_json = "[]", .authz_ids = ids2, .n_authz = 2};
		CHECK_INT(OPS->order_insert(st, &o2, &az3, 1), 0);
		CHECK_INT(OPS->order_get(st, "ord2", &o), 0);
		if (o && o->n_authz == 2) {
			CHECK_STR(o->authz_ids[0], "az3");
			CHECK_STR(o->authz_ids[1], "az1");
		}
		flint_order_free(o);
		o = NULL;
	}

	/* A failing order insert leaves nothing behind: the new authz is rolled back. */
	{
		struct flint_challenge c4[] = {chal("c4a", "http-01", "tok4a")};
		struct flint_authz az4 = {.id = "az4", .account_id = "acct1", .ident_type = "dns",
					  .ident_value = "x.example.org", .status = "pending",
					  .expires = 5000, .created = 1002, .challenges = c4,
					  .n_challenges = 1};
		char *ids3[] = {"az4", "az-missing"};
		struct flint_order o3 = {.id = "ord3", .account_id = "acct1", .status = "pending",
					 .expires = 6000, .created = 1002,
					 .identifiers_json = "[]", .authz_ids = ids3, .n_authz = 2};
		CHECK_INT(OPS->order_insert(st, &o3, &az4, 1), FLINT_ENOTFOUND);
		CHECK_INT(OPS->authz_get(st, "az4", &a), FLINT_ENOTFOUND);
		CHECK(a == NULL);
		CHECK_INT(OPS->order_get(st, "ord3", &o), FLINT_ENOTFOUND);
		CHECK(o == NULL);
		/* Duplicate order id */
		o3.id = "ord1";
		o3.n_authz = 1;
		CHECK_INT(OPS->order_insert(st, &o3, &az4, 1), FLINT_ECONFLICT);
		CHECK_INT(OPS->authz_get(st, "az4", &a), FLINT_ENOTFOUND);
		/* Unknown account */
		o3.id = "ord3";
		o3.account_id = "nobody";
		CHECK_INT(OPS->order_insert(st, &o3, NULL, 0), FLINT_ENOTFOUND);
	}

	/* Compare-and-set on order status. */
	CHECK_INT(OPS->order_set_status(st, "ord1", "ready", "processing", NULL, NULL),
		  FLINT_ECONFLICT);
	CHECK_INT(OPS->order_set_status(st, "nope", "pending", "processing", NULL, NULL),
		  FLINT_ENOTFOUND);
	CHECK_INT(OPS->order_set_status(st, "ord1", "pending", "processing", NULL, NULL), 0);
	CHECK_INT(OPS->order_set_status(st, "ord1", "processing", "valid", NULL, "cert1"), 0);
	CHECK_INT(OPS->order_set_status(st, "ord2", "pending", "invalid", "{\"type\":\"x\"}", NULL),
		  0);
	CHECK_INT(OPS->order_get(st, "ord1", &o), 0);
	if (o) {
		CHECK_STR(o->status, "valid");
		CHECK_STR(o->cert_id, "cert1");
		CHECK(o->error_json == NULL);
	}
	flint_order_free(o);
	o = NULL;
	CHECK_INT(OPS->order_get(st, "ord2", &o), 0);
	if (o) {
		CHECK_STR(o->status, "invalid");
		CHECK_STR(o->error_json, "{\"type\":\"x\"}");
		CHECK(o->cert_id == NULL);
	}
	flint_order_free(o);
	o = NULL;
	/* error_json kept when NULL is passed */
	CHECK_INT(OPS->order_set_status(st, "ord2", "invalid", "invalid", NULL, NULL), 0);
	CHECK_INT(OPS->order_get(st, "ord2", &o), 0);
	if (o)
		CHECK_STR(o->error_json, "{\"type\":\"x\"}");
	flint_order_free(o);
	o = NULL;
	CHECK_INT(OPS->order_get(st, "nope", &o), FLINT_ENOTFOUND);
	CHECK(o == NULL);
	flint_order_free(NULL);
	flint_authz_free(NULL);
}

/* challenges_claim or orders_claim for node at now (until now + 1000):
 * how many rows it took; *first (when not NULL) the first id or "". */
static size_t claimed(bool orders, const char *node, int64_t now, bool own, size_t limit,
		      char *first, size_t first_cap)
{
	struct flint_claim c = {.node = node, .now = now, .claim_until = now + 1000, .own = own,
				.limit = limit};
	char **ids = NULL;
	size_t n = 999;
	int rc = orders ? OPS->orders_claim(st, &c, &ids, &n) : OPS->challenges_claim(st, &c, &ids, &n);

	CHECK_INT(rc, 0);
	if (rc < 0)
		return 999;
	CHECK((n == 0) == (ids == NULL));
	if (first)
		snprintf(first, first_cap, "%s", n ? ids[0] : "");
	flint_string_list_free(ids, n);
	return n;
}

static void test_challenges(void)
{
	struct flint_challenge *c = NULL;
	struct flint_authz *a = NULL;
	struct flint_claim bad = {.node = "n", .limit = 0};
	char **ids = NULL, first[64];
	size_t n = 99;

	CHECK_INT(claimed(false, "node-b", 1 << 30, true, 10, NULL, 0), 0);
	CHECK_INT(OPS->challenges_claim(st, &bad, &ids, &n), FLINT_EINVAL);
	bad = (struct flint_claim){.limit = 1};
	CHECK_INT(OPS->challenges_claim(st, &bad, &ids, &n), FLINT_EINVAL);

	CHECK_INT(OPS->challenge_finish(st, "c1a", true, 2000, NULL, 9000), FLINT_ECONFLICT);
	CHECK_INT(OPS->challenge_finish(st, "nope", true, 2000, NULL, 9000), FLINT_ENOTFOUND);
	CHECK_INT(OPS->challenge_start(st, "nope", "node-a", 3000), FLINT_ENOTFOUND);
	CHECK_INT(OPS->challenge_start(st, "c1a", NULL, 3000), FLINT_EINVAL);
	CHECK_INT(OPS->challenge_start(st, "c1a", "node-a", 3000), 0);
	CHECK_INT(OPS->challenge_start(st, "c1a", "node-a", 3000), FLINT_ECONFLICT);
	CHECK_INT(OPS->challenge_start(st, "c2a", "node-a", 3100), 0);

	/* node-a's claims are live until 3000 and 3100: nobody else takes them,
	 * node-a itself only with own (its restart) */
	CHECK_INT(claimed(false, "node-b", 2999, false, 10, NULL, 0), 0);
	CHECK_INT(claimed(false, "node-b", 2999, true, 10, NULL, 0), 0);
	CHECK_INT(claimed(false, "node-a", 2999, false, 10, NULL, 0), 0);
	CHECK_INT(claimed(false, "node-a", 2999, true, 10, NULL, 0), 2);
	/* now node-a holds both until 3999: node-b takes them only after that,
	 * oldest claim first, at most limit per call */
	CHECK_INT(claimed(false, "node-b", 3998, false, 10, NULL, 0), 0);
	CHECK_INT(claimed(false, "node-b", 3999, false, 1, first, sizeof(first)), 1);
	CHECK(!strcmp(first, "c1a") || !strcmp(first, "c2a"));
	CHECK_INT(claimed(false, "node-b", 3999, false, 10, NULL, 0), 1);
	CHECK_INT(claimed(false, "node-b", 3999, false, 10, NULL, 0), 0);
	CHECK_INT(claimed(false, "node-c", 4500, false, 10, NULL, 0), 0);

	CHECK_INT(OPS->challenge_get(st, "c1a", &c), 0);
	if (c) {
		CHECK_STR(c->status, "processing");
		CHECK_STR(c->authz_id, "az1");
		CHECK_STR(c->token, "tok1a");
	}
	flint_challenge_free(c);
	c = NULL;
	CHECK_INT(OPS->challenge_get(st, "nope", &c), FLINT_ENOTFOUND);
	CHECK(c == NULL);

	/* what a validation reads, at once: the challenge, its authorization
	 * (without challenges) and the owning account */
	{
		struct flint_account *acct = NULL;

		CHECK_INT(OPS->challenge_with_authz(st, "c2a", &c, &a, &acct), 0);
		if (c && a && acct) {
			CHECK_STR(c->id, "c2a");
			CHECK_STR(c->status, "processing");
			CHECK_STR(a->id, "az2");
			CHECK_STR(a->account_id, "acct1");
			CHECK_STR(a->ident_type, "dns");
			CHECK_STR(a->ident_value, "example.org");
			CHECK(a->wildcard);
			CHECK_STR(a->status, "pending");
			CHECK_INT(a->expires, 5000);
			CHECK_INT(a->n_challenges, 0);
			CHECK_STR(acct->id, "acct1");
			CHECK(acct->jwk_json && acct->thumbprint && acct->status);
		}
		flint_challenge_free(c);
		flint_authz_free(a);
		flint_account_free(acct);
		c = NULL;
		a = NULL;
		acct = NULL;
		CHECK_INT(OPS->challenge_with_authz(st, "nope", &c, &a, &acct), FLINT_ENOTFOUND);
		CHECK(c == NULL && a == NULL && acct == NULL);
		/* without the account */
		CHECK_INT(OPS->challenge_with_authz(st, "c1a", &c, &a, NULL), 0);
		if (c && a) {
			CHECK_STR(c->authz_id, "az1");
			CHECK_STR(a->id, "az1");
			CHECK(!a->wildcard);
			CHECK_INT(a->n_challenges, 0);
		}
		flint_challenge_free(c);
		flint_authz_free(a);
		c = NULL;
		a = NULL;
	}

	/* Success: challenge valid, authz valid with the new expiry. */
	CHECK_INT(OPS->challenge_finish(st, "c1a", true, 2000, NULL, 9000), 0);
	CHECK_INT(OPS->challenge_finish(st, "c1a", true, 2000, NULL, 9000), FLINT_ECONFLICT);
	CHECK_INT(OPS->authz_get(st, "az1", &a), 0);
	if (a) {
		CHECK_STR(a->status, "valid");
		CHECK_INT(a->expires, 9000);
		if (a->n_challenges == 3) {
			CHECK_STR(a->challenges[0].status, "valid");
			CHECK_INT(a->challenges[0].validated, 2000);
			CHECK_STR(a->challenges[1].status, "pending");
		}
	}
	flint_authz_free(a);
	a = NULL;
	/* Other challenges of a no-longer-pending authz cannot start. */
	CHECK_INT(OPS->challenge_start(st, "c1b", "node-a", 3000), FLINT_ECONFLICT);

	/* Failure: challenge invalid with its problem, authz invalid, expiry kept. */
	CHECK_INT(OPS->challenge_finish(st, "c2a", false, 2001, "{\"type\":\"bad\"}", 9999), 0);
	CHECK_INT(OPS->challenge_get(st, "c2a", &c), 0);
	if (c) {
		CHECK_STR(c->status, "invalid");
		CHECK_STR(c->error_json, "{\"type\":\"bad\"}");
	}
	flint_challenge_free(c);
	c = NULL;
	CHECK_INT(OPS->authz_get(st, "az2", &a), 0);
	if (a) {
		CHECK_STR(a->status, "invalid");
		CHECK_INT(a->expires, 5000);
	}
	flint_authz_free(a);
	a = NULL;

	/* finished work is never claimed */
	CHECK_INT(claimed(false, "node-c", 1 << 30, true, 10, NULL, 0), 0);

	/* authz_set_status: compare-and-set, or unconditional with NULL expect. */
	CHECK_INT(OPS->authz_set_status(st, "az3", "valid", "deactivated"), FLINT_ECONFLICT);
	CHECK_INT(OPS->authz_set_status(st, "nope", NULL, "deactivated"), FLINT_ENOTFOUND);
	CHECK_INT(OPS->challenge_start(st, "c3a", "node-a", 3000), 0);
	CHECK_INT(OPS->authz_set_status(st, "az3", "pending", "deactivated"), 0);
	/* The authz moved on: finishing records the challenge, keeps the authz. */
	CHECK_INT(OPS->challenge_finish(st, "c3a", true, 2002, NULL, 9000), 0);
	CHECK_INT(OPS->authz_get(st, "az3", &a), 0);
	if (a) {
		CHECK_STR(a->status, "deactivated");
		CHECK_INT(a->expires, 5000);
	}
	flint_authz_free(a);
	a = NULL;
	CHECK_INT(OPS->authz_set_status(st, "az3", NULL, "expired"), 0);
	flint_challenge_free(NULL);
	flint_challenge_clear(NULL);
}

static void insert_simple_authz(const char *id, const char *acct, const char *value, bool wc,
				const char *status, int64_t expires)
{
	struct flint_authz az = {.id = (char *)id, .account_id = (char *)acct,
				 .ident_type = "dns", .ident_value = (char *)value,
				 .wildcard = wc, .status = (char *)status, .expires = expires,
				 .created = 1000};
	char oid[64];
	struct flint_order o = {.id = oid, .account_id = (char *)acct, .status = "pending",
				.expires = expires, .created = 1000, .identifiers_json = "[]",
				.authz_ids = (char **)&az.id, .n_authz = 1};
	snprintf(oid, sizeof(oid), "o-%s", id);
	CHECK_INT(OPS->order_insert(st, &o, &az, 1), 0);
}

/* Redeems nonce for acct1 as a request's authentication does. */
static void redeem(const char *nonce)
{
	struct flint_account *acct = NULL;

	CHECK_INT(OPS->nonce_use_account_get(st, nonce, 100, "acct1", &acct), 0);
	CHECK(acct && !strcmp(acct->id, "acct1"));
	flint_account_free(acct);
}

/* Names what a request reads first, then redeems nonce. */
static void ahead_then_redeem(enum flint_store_read what, const char *id, const char *nonce)
{
	flint_store_read_ahead(st, what, id);
	redeem(nonce);
}

static void authzs_free(struct flint_authz **as, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		flint_authz_free(as[i]);
		as[i] = NULL;
	}
}

/* flint_store_read_ahead: a read named before the nonce's redemption (on
 * PostgreSQL it goes out in the same round trip) is what the next call
 * returns when that call is the read, and never stands in for another read
 * or for what a write in between changed. Runs after test_challenges (az1
 * valid, az2 invalid, c1b az1's). */
static void read_ahead_authz(const char *ahead, const char *nonce, const char *get,
			     const char *want_status)
{
	struct flint_authz *a = NULL;

	ahead_then_redeem(FLINT_READ_AUTHZ, ahead, nonce);
	CHECK_INT(OPS->authz_get(st, get, &a), 0);
	CHECK(a && !strcmp(a->id, get) && !strcmp(a->status, want_status) && a->n_challenges > 0);
	/* the redemption took effect */
	CHECK_INT(OPS->nonce_use(st, nonce, 100), FLINT_ECONFLICT);
	flint_authz_free(a);
}

static void test_read_ahead(void)
{
	struct flint_account *acct = NULL;
	struct flint_authz *a = NULL;
	struct flint_challenge *c = NULL;
	struct flint_order *o = NULL;
	struct flint_cert *cert = NULL;

	read_ahead_authz("az1", "ra1", "az1", "valid");
	read_ahead_authz("az1", "ra2", "az2", "invalid"); /* another id: its own */
	/* a write between the redemption and the read: the read sees it */
	ahead_then_redeem(FLINT_READ_AUTHZ, "az2", "ra3");
	CHECK_INT(OPS->authz_set_status(st, "az2", "invalid", "deactivated"), 0);
	CHECK_INT(OPS->authz_get(st, "az2", &a), 0);
	CHECK(a && !strcmp(a->status, "deactivated"));
	flint_authz_free(a);
	a = NULL;
	/* a used nonce: refused, and the read after it is still right */
	flint_store_read_ahead(st, FLINT_READ_AUTHZ, "az1");
	CHECK_INT(OPS->nonce_use_account_get(st, "ra1", 100, "acct1", &acct), FLINT_ECONFLICT);
	CHECK(acct == NULL);
	read_ahead_authz("az2", "ra4", "az2", "deactivated");
	/* missing rows */
	ahead_then_redeem(FLINT_READ_ORDER, "no-such-order", "ra5");
	CHECK_INT(OPS->order_get(st, "no-such-order", &o), FLINT_ENOTFOUND);
	ahead_then_redeem(FLINT_READ_CERT, "no-such-cert", "ra6");
	CHECK_INT(OPS->cert_get(st, "no-such-cert", &cert), FLINT_ENOTFOUND);
	/* a challenge with its authorization */
	ahead_then_redeem(FLINT_READ_CHALLENGE_WITH_AUTHZ, "c1b", "ra7");
	CHECK_INT(OPS->challenge_with_authz(st, "c1b", &c, &a, NULL), 0);
	CHECK(c && a && !strcmp(c->id, "c1b") && !strcmp(a->id, "az1") && a->n_challenges == 0);
	flint_challenge_free(c);
	flint_authz_free(a);
	a = NULL;
	/* another statement with the same id as its only parameter is not the
	 * read named: it reads for itself */
	ahead_then_redeem(FLINT_READ_CHALLENGE_WITH_AUTHZ, "c1b", "ra11");
	CHECK_INT(OPS->challenge_get(st, "c1b", &c), 0);
	CHECK(c && !strcmp(c->id, "c1b") && !strcmp(c->type, "dns-01") && !strcmp(c->token, "tok1b") &&
	      !strcmp(c->authz_id, "az1"));
	flint_challenge_free(c);
	c = NULL;
	/* an order and its authorizations (ord1: az1, az2), ahead together;
	 * the authorizations come in the order asked for, whatever the store's */
	{
		struct flint_authz *as[2] = {NULL, NULL};
		char *fwd[] = {"az1", "az2"}, *rev[] = {"az2", "az1"}, *gone[] = {"az1", "no-such"};

		ahead_then_redeem(FLINT_READ_ORDER_AND_AUTHZS, "ord1", "ra9");
		CHECK_INT(OPS->order_get(st, "ord1", &o), 0);
		CHECK(o && o->n_authz == 2);
		CHECK_INT(flint_store_authzs_of_order(st, "ord1", fwd, 2, as), 0);
		CHECK(as[0] && as[1] && !strcmp(as[0]->id, "az1") && !strcmp(as[1]->id, "az2"));
		CHECK(as[0] && as[0]->n_challenges == 3 && !strcmp(as[0]->challenges[0].id, "c1a") &&
		      !strcmp(as[0]->challenges[2].id, "c1c"));
		CHECK(as[1] && as[1]->n_challenges == 1 && !strcmp(as[1]->status, "deactivated"));
		authzs_free(as, 2);
		flint_order_free(o);
		o = NULL;
		CHECK_INT(flint_store_authzs_of_order(st, "ord1", rev, 2, as), 0);
		CHECK(as[0] && as[1] && !strcmp(as[0]->id, "az2") && !strcmp(as[1]->id, "az1"));
		authzs_free(as, 2);
		CHECK_INT(flint_store_authzs_of_order(st, "ord1", gone, 2, as), FLINT_ENOTFOUND);
		CHECK(as[0] == NULL && as[1] == NULL);
		/* the authorizations asked for first, not the order: read for
		 * themselves (the order's answer, read ahead under the same id, is
		 * not theirs) */
		ahead_then_redeem(FLINT_READ_ORDER_AND_AUTHZS, "ord1", "ra12");
		CHECK_INT(flint_store_authzs_of_order(st, "ord1", fwd, 2, as), 0);
		CHECK(as[0] && as[1] && !strcmp(as[0]->id, "az1") && !strcmp(as[1]->id, "az2"));
		authzs_free(as, 2);
		/* an order that lists one authorization twice (newOrder never
		 * makes one): each place gets its own copy */
		{
			char *dup[] = {"az1", "az1"};
			struct flint_order od = {.id = "ord-dup", .account_id = "acct2",
						 .status = "pending", .expires = 6000, .created = 1001,
						 .identifiers_json = "[]", .authz_ids = dup, .n_authz = 2};

			CHECK_INT(OPS->order_insert(st, &od, NULL, 0), 0);
			CHECK_INT(flint_store_authzs_of_order(st, "ord-dup", dup, 2, as), 0);
			CHECK(as[0] && as[1] && as[0] != as[1] && !strcmp(as[0]->id, "az1") &&
			      !strcmp(as[1]->id, "az1") && as[1]->n_challenges == 3);
			authzs_free(as, 2);
		}
		/* a write between the order and its authorizations: they see it */
		ahead_then_redeem(FLINT_READ_ORDER_AND_AUTHZS, "ord1", "ra10");
		CHECK_INT(OPS->order_get(st, "ord1", &o), 0);
		CHECK_INT(OPS->authz_set_status(st, "az2", "deactivated", "revoked"), 0);
		CHECK_INT(flint_store_authzs_of_order(st, "ord1", fwd, 2, as), 0);
		CHECK(as[1] && !strcmp(as[1]->status, "revoked"));
		CHECK_INT(OPS->authz_set_status(st, "az2", "revoked", "deactivated"), 0);
		authzs_free(as, 2);
		flint_order_free(o);
		o = NULL;
	}
	/* named, then forgotten (the request ended): the next read is fresh
	 * (and az2 is invalid again, as the tests after this one expect) */
	ahead_then_redeem(FLINT_READ_AUTHZ, "az2", "ra8");
	flint_store_read_ahead(st, FLINT_READ_NONE, NULL);
	CHECK_INT(OPS->authz_set_status(st, "az2", "deactivated", "invalid"), 0);
	CHECK_INT(OPS->authz_get(st, "az2", &a), 0);
	CHECK(a && !strcmp(a->status, "invalid"));
	flint_authz_free(a);
	flint_store_read_ahead(st, FLINT_READ_AUTHZ, NULL); /* no id: nothing */
	flint_store_read_ahead(NULL, FLINT_READ_AUTHZ, "az1");
}

static void test_authz_find_valid(void)
{
	struct flint_authz *a = NULL;

	insert_simple_authz("f1", "acct2", "find.example", false, "valid", 7000);
	insert_simple_authz("f2", "acct2", "find.example", false, "valid", 8000);
	insert_simple_authz("f3", "acct2", "find.example", false, "pending", 9500);
	insert_simple_authz("f4", "acct2", "find.example", false, "invalid", 9600);
	insert_simple_authz("f5", "acct2", "find.example", true, "valid", 9700);
	insert_simple_authz("f6", "acct3", "find.example", false, "valid", 9800);
	insert_simple_authz("f7", "acct2", "other.example", false, "valid", 9900);

	CHECK_INT(OPS->authz_find_valid(st, "acct2", "dns", "find.example", false, 6000, &a), 0);
	if (a) {
		CHECK_STR(a->id, "f2"); /* the latest-expiring valid one */
		CHECK_INT(a->n_challenges, 0);
	}
	flint_authz_free(a);
	a = NULL;
	CHECK_INT(OPS->authz_find_valid(st, "acct2", "dns", "find.example", false, 7500, &a), 0);
	if (a)
		CHECK_STR(a->id, "f2");
	flint_authz_free(a);
	a = NULL;
	CHECK_INT(OPS->authz_find_valid(st, "acct2", "dns", "find.example", false, 8000, &a),
		  FLINT_ENOTFOUND);
	CHECK(a == NULL);
	CHECK_INT(OPS->authz_find_valid(st, "acct2", "dns", "find.example", true, 6000, &a), 0);
	if (a) {
		CHECK_STR(a->id, "f5");
		CHECK(a->wildcard);
	}
	flint_authz_free(a);
	a = NULL;
	CHECK_INT(OPS->authz_find_valid(st, "acct3", "dns", "find.example", false, 6000, &a), 0);
	if (a)
		CHECK_STR(a->id, "f6");
	flint_authz_free(a);
	a = NULL;
	CHECK_INT(OPS->authz_find_valid(st, "acct1", "dns", "find.example", false, 0, &a),
		  FLINT_ENOTFOUND);
	CHECK_INT(OPS->authz_find_valid(st, "acct2", "ip", "find.example", false, 0, &a),
		  FLINT_ENOTFOUND);
	/* Pending count: only unexpired pending ones of that account (f3). */
	size_t pending = 99;
	CHECK_INT(OPS->authz_count_pending(st, "acct2", 6000, &pending), 0);
	CHECK_INT(pending, 1);
	CHECK_INT(OPS->authz_count_pending(st, "acct2", 9500, &pending), 0);
	CHECK_INT(pending, 0);
	CHECK_INT(OPS->authz_count_pending(st, "nobody", 0, &pending), 0);
	CHECK_INT(pending, 0);
	/* The valid az1 of the challenge test, with its challenges. */
	CHECK_INT(OPS->authz_find_valid(st, "acct1", "dns", "example.org", false, 8999, &a), 0);
	if (a) {
		CHECK_STR(a->id, "az1");
		CHECK_INT(a->n_challenges, 3);
	}
	flint_authz_free(a);
}

static void test_orders_by_account(void)
{
	char **ids = NULL;
	size_t n = 0;
	bool more = false;
	char *seen[32];
	size_t total = 0;
	const char *after = NULL;

	/* acct1 owns ord1, ord2; add ten more. */
	for (int i = 0; i < 10; i++) {
		char id[32];
		char *none[] = {NULL};
		struct flint_order o = {.id = id, .account_id = "acct1", .status = "pending",
					.expires = 6000, .created = 2000 + i,
					.identifiers_json = "[]", .authz_ids = none, .n_authz = 0};
		/* Ids that do not sort in creation order. */
		snprintf(id, sizeof(id), "p%02d", 50 - i);
		CHECK_INT(OPS->order_insert(st, &o, NULL, 0), 0);
	}
	for (int page = 0; page < 10; page++) {
		CHECK_INT(OPS->orders_by_account(st, "acct1", after, 5, &ids, &n, &more), 0);
		for (size_t i = 0; i < n && total < 32; i++)
			seen[total++] = ids[i];
		free(ids);
		ids = NULL;
		if (!more)
			break;
		after = seen[total - 1];
	}
	CHECK_INT(total, 12);
	if (total == 12) {
		CHECK_STR(seen[0], "ord1");
		CHECK_STR(seen[1], "ord2");
		CHECK_STR(seen[2], "p50");
		CHECK_STR(seen[11], "p41");
	}
	for (size_t i = 0; i < total; i++)
		free(seen[i]);

	CHECK_INT(OPS->orders_by_account(st, "acct1", NULL, 12, &ids, &n, &more), 0);
	CHECK_INT(n, 12);
	CHECK(!more);
	flint_string_list_free(ids, n);
	ids = NULL;
	CHECK_INT(OPS->orders_by_account(st, "acct1", NULL, 0, &ids, &n, &more), 0);
	CHECK_INT(n, 0);
	CHECK(more);
	flint_string_list_free(ids, n);
	ids = NULL;
	CHECK_INT(OPS->orders_by_account(st, "acct1", "p41", 5, &ids, &n, &more), 0);
	CHECK_INT(n, 0);
	CHECK(!more);
	flint_string_list_free(ids, n);
	ids = NULL;
	CHECK_INT(OPS->orders_by_account(st, "nobody", NULL, 5, &ids, &n, &more), 0);
	CHECK_INT(n, 0);
	CHECK(!more);
	flint_string_list_free(ids, n);
	ids = NULL;
	/* A cursor that is not an order of this account. */
	n = 77;
	CHECK_INT(OPS->orders_by_account(st, "acct2", "ord1", 5, &ids, &n, &more),
		  FLINT_ENOTFOUND);
	CHECK_INT(n, 77);
	flint_string_list_free(NULL, 0);
}

static void test_certs(void)
{
	unsigned char der[] = {0x30, 0x82, 0x00, 0x00, 0x01, 0x00, 0xff};
	struct flint_cert c = {.id = "cert1", .serial = "00ab12", .account_id = "acct1",
			       .order_id = "ord1", .der = der, .der_len = sizeof(der),
			       .chain_pem = "-----BEGIN CERTIFICATE-----\n",
			       .not_before = 1000, .not_after = 3000,
			       .names_json = "[{\"type\":\"dns\",\"value\":\"example.org\"}]"};
	struct flint_cert *g = NULL, **list = NULL;
	size_t n = 0;

	CHECK_INT(OPS->cert_insert(st, &c), 0);
	CHECK_INT(OPS->cert_insert(st, &c), FLINT_ECONFLICT);
	c.id = "cert2";
	CHECK_INT(OPS->cert_insert(st, &c), FLINT_ECONFLICT); /* same serial */
	c.serial = "00ab13";
	c.not_after = 5000;
	CHECK_INT(OPS->cert_insert(st, &c), 0);
	c.id = "cert3";
	c.serial = "00ab14";
	c.not_after = 2000;
	CHECK_INT(OPS->cert_insert(st, &c), 0);

	CHECK_INT(OPS->cert_get(st, "cert1", &g), 0);
	if (g) {
		CHECK_STR(g->serial, "00ab12");
		CHECK_STR(g->account_id, "acct1");
		CHECK_STR(g->order_id, "ord1");
		CHECK_INT(g->der_len, sizeof(der));
		CHECK(g->der && memcmp(g->der, der, sizeof(der)) == 0);
		CHECK_STR(g->chain_pem, "-----BEGIN CERTIFICATE-----\n");
		CHECK_INT(g->not_before, 1000);
		CHECK_INT(g->not_after, 3000);
		CHECK_INT(g->revoked_at, 0);
		CHECK_STR(g->names_json, "[{\"type\":\"dns\",\"value\":\"example.org\"}]");
	}
	flint_cert_free(g);
	g = NULL;
	CHECK_INT(OPS->cert_by_serial(st, "00ab13", &g), 0);
	if (g)
		CHECK_STR(g->id, "cert2");
	flint_cert_free(g);
	g = NULL;
	CHECK_INT(OPS->cert_by_serial(st, "ffff", &g), FLINT_ENOTFOUND);
	CHECK_INT(OPS->cert_get(st, "nope", &g), FLINT_ENOTFOUND);
	CHECK(g == NULL);

	CHECK_INT(OPS->certs_revoked(st, 0, &list, &n), 0);
	CHECK_INT(n, 0);
	flint_cert_list_free(list, n);
	list = NULL;

	CHECK_INT(OPS->cert_revoke(st, "cert1", 1, 1500), 0);
	CHECK_INT(OPS->cert_revoke(st, "cert1", 4, 1600), FLINT_ECONFLICT);
	CHECK_INT(OPS->cert_revoke(st, "nope", 1, 1500), FLINT_ENOTFOUND);
	CHECK_INT(OPS->cert_revoke(st, "cert2", 0, 1700), 0);
	CHECK_INT(OPS->cert_revoke(st, "cert3", 4, 1800), 0);
	CHECK_INT(OPS->cert_get(st, "cert1", &g), 0);
	if (g) {
		CHECK_INT(g->revoked_at, 1500);
		CHECK_INT(g->reason, 1);
	}
	flint_cert_free(g);

	/* At 2500 cert3 has expired and leaves the CRL. */
	CHECK_INT(OPS->certs_revoked(st, 2500, &list, &n), 0);
	CHECK_INT(n, 2);
	if (n == 2) {
		CHECK_STR(list[0]->id, "cert1");
		CHECK_STR(list[1]->id, "cert2");
		CHECK_INT(list[1]->reason, 0);
	}
	flint_cert_list_free(list, n);
	list = NULL;
	CHECK_INT(OPS->certs_revoked(st, 4000, &list, &n), 0);
	CHECK_INT(n, 1);
	flint_cert_list_free(list, n);
	flint_cert_free(NULL);
	flint_cert_list_free(NULL, 0);
}

static void test_reopen(void)
{
	struct flint_account *a = NULL;
	struct flint_authz *az = NULL;
	struct flint_store *s2 = NULL;

	/* A second handle on the same store while the first is open. */
	CHECK_INT(flint_store_open(dsn, &s2), 0);
	if (s2) {
		CHECK_INT(s2->ops->account_get(s2, "acct2", &a), 0);
		flint_account_free(a);
		a = NULL;
	}
	flint_store_close(s2);
	flint_store_close(st);
	st = NULL;
	flint_store_close(NULL);

	CHECK_INT(flint_store_open(dsn, &st), 0);
	if (!st)
		return;
	CHECK_INT(OPS->account_by_thumbprint(st, "thumb1", &a), 0);
	if (a)
		CHECK_STR(a->id, "acct1");
	flint_account_free(a);
	CHECK_INT(OPS->authz_get(st, "az1", &az), 0);
	if (az) {
		CHECK_STR(az->status, "valid");
		CHECK_INT(az->n_challenges, 3);
	}
	flint_authz_free(az);
}

#define NONCES 300

struct worker {
	int id;
	int puts_ok, takes_ok, errors;
};

static void *nonce_worker(void *arg)
{
	struct worker *w = arg;
	struct flint_store *s = NULL;
	char nonce[64];
	int err;

	if (flint_store_open(dsn, &s) < 0) {
		w->errors++;
		return NULL;
	}
	for (int i = 0; i < NONCES; i++) {
		/* Each thread uses its own nonces and races the other for the shared ones. */
		snprintf(nonce, sizeof(nonce), "t%d-%d", w->id, i);
		err = s->ops->nonce_use(s, nonce, 10000);
		if (err == 0)
			w->puts_ok++;
		else
			w->errors++;
		snprintf(nonce, sizeof(nonce), "shared-%d", i);
		err = s->ops->nonce_use(s, nonce, 10000);
		if (err == 0)
			w->takes_ok++;
		else if (err != FLINT_ECONFLICT)
			w->errors++;
	}
	flint_store_close(s);
	return NULL;
}

static void test_threads(void)
{
	struct worker w[2] = {{.id = 0}, {.id = 1}};
	pthread_t t[2];

	if (!st)
		return;
	for (int i = 0; i < 2; i++)
		CHECK_INT(pthread_create(&t[i], NULL, nonce_worker, &w[i]), 0);
	for (int i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
	CHECK_INT(w[0].errors, 0);
	CHECK_INT(w[1].errors, 0);
	CHECK_INT(w[0].puts_ok, NONCES);
	CHECK_INT(w[1].puts_ok, NONCES);
	/* Each shared nonce was accepted exactly once. */
	CHECK_INT(w[0].takes_ok + w[1].takes_ok, NONCES);
	CHECK_INT(OPS->nonce_use(st, "shared-0", 10000), FLINT_ECONFLICT);
}

static char fresh_path[160];

static void *open_worker(void *arg)
{
	struct flint_store *s = NULL;
	int *err = arg;

	*err = flint_store_open(fresh_dsn, &s);
	if (*err == 0) {
		*err = s->ops->nonce_use(s, "x", 1);
		if (*err == FLINT_ECONFLICT) /* another worker was first */
			*err = 0;
	}
	flint_store_close(s);
	return NULL;
}

/* Several handles migrating a new store at once: one migrates, the others wait. */
static void test_concurrent_first_open(void)
{
	pthread_t t[4];
	int err[4];
	int puts = 0;
	struct flint_store *s = NULL;

	for (int i = 0; i < 4; i++)
		CHECK_INT(pthread_create(&t[i], NULL, open_worker, &err[i]), 0);
	for (int i = 0; i < 4; i++) {
		pthread_join(t[i], NULL);
		CHECK_INT(err[i], 0);
	}
	CHECK_INT(flint_store_open(fresh_dsn, &s), 0);
	if (s) {
		puts = s->ops->nonce_use(s, "x", 1);
		CHECK_INT(puts, FLINT_ECONFLICT); /* put exactly once by the workers */
	}
	flint_store_close(s);
}

/* External account binding keys: insert, get, list, remove, and the one-use
 * compare-and-set that creates an account in the same transaction. */
static void test_eab_keys(void)
{
	unsigned char mac[32];
	struct flint_eab_key k = {.kid = "kid-a", .alg = "HS256", .hmac_key = mac,
				  .hmac_key_len = sizeof(mac), .created = 500};
	struct flint_eab_key *got = NULL, **list = NULL;
	struct flint_account a = {.id = "eab-acct", .jwk_json = "{\"kty\":\"EC\"}",
				  .thumbprint = "eab-thumb", .contact_json = "[]", .status = "valid",
				  .created = 900, .eab_json = "{\"protected\":\"x\"}"};
	struct flint_account *acct = NULL;
	size_t n = 99;

	for (size_t i = 0; i < sizeof(mac); i++)
		mac[i] = (unsigned char)(i * 7 + 1);
	CHECK_INT(OPS->eab_list(st, &list, &n), 0);
	CHECK(list == NULL);
	CHECK_INT(n, 0);
	CHECK_INT(OPS->eab_insert(st, &k), 0);
	CHECK_INT(OPS->eab_insert(st, &k), FLINT_ECONFLICT);
	k.kid = "kid-b";
	k.alg = "HS512";
	k.created = 600;
	CHECK_INT(OPS->eab_insert(st, &k), 0);
	k.hmac_key_len = 0;
	k.kid = "kid-c";
	CHECK_INT(OPS->eab_insert(st, &k), FLINT_EINVAL);
	CHECK_INT(OPS->eab_get(st, "kid-c", &got), FLINT_ENOTFOUND);
	CHECK_INT(OPS->eab_get(st, "kid-a", &got), 0);
	if (got) {
		CHECK_STR(got->alg, "HS256");
		CHECK_INT(got->hmac_key_len, sizeof(mac));
		CHECK(got->hmac_key && memcmp(got->hmac_key, mac, sizeof(mac)) == 0);
		CHECK_INT(got->created, 500);
		CHECK(got->account_id == NULL);
		CHECK_INT(got->used, 0);
	}
	flint_eab_key_free(got);
	got = NULL;
	CHECK_INT(OPS->eab_list(st, &list, &n), 0);
	CHECK_INT(n, 2);
	if (n == 2) {
		CHECK_STR(list[0]->kid, "kid-a"); /* oldest first */
		CHECK_STR(list[1]->kid, "kid-b");
		CHECK_STR(list[1]->alg, "HS512");
	}
	flint_eab_key_list_free(list, n);

	/* an unknown kid creates nothing */
	CHECK_INT(OPS->account_insert_eab(st, &a, "kid-zz"), FLINT_ENOTFOUND);
	CHECK_INT(OPS->account_get(st, "eab-acct", &acct), FLINT_ENOTFOUND);
	/* the first use binds the key and stores the binding with the account */
	CHECK_INT(OPS->account_insert_eab(st, &a, "kid-a"), 0);
	CHECK_INT(OPS->account_get(st, "eab-acct", &acct), 0);
	CHECK(acct && acct->eab_json && !strcmp(acct->eab_json, "{\"protected\":\"x\"}"));
	flint_account_free(acct);
	acct = NULL;
	CHECK_INT(OPS->eab_get(st, "kid-a", &got), 0);
	CHECK(got && got->account_id && !strcmp(got->account_id, "eab-acct"));
	CHECK(got && got->used == 900);
	flint_eab_key_free(got);
	got = NULL;
	/* a second account with the used key: ECONFLICT and rolled back */
	a.id = "eab-acct2";
	a.thumbprint = "eab-thumb2";
	CHECK_INT(OPS->account_insert_eab(st, &a, "kid-a"), FLINT_ECONFLICT);
	CHECK_INT(OPS->account_get(st, "eab-acct2", &acct), FLINT_ENOTFOUND);
	CHECK_INT(OPS->account_by_thumbprint(st, "eab-thumb2", &acct), FLINT_ENOTFOUND);
	/* an existing thumbprint: ECONFLICT, and the unused key stays unused */
	a.thumbprint = "eab-thumb";
	CHECK_INT(OPS->account_insert_eab(st, &a, "kid-b"), FLINT_ECONFLICT);
	CHECK_INT(OPS->eab_get(st, "kid-b", &got), 0);
	CHECK(got && got->account_id == NULL);
	flint_eab_key_free(got);
	got = NULL;
	/* accounts without a binding have none */
	add_account("plain-acct", "plain-thumb");
	CHECK_INT(OPS->account_get(st, "plain-acct", &acct), 0);
	CHECK(acct && acct->eab_json == NULL);
	flint_account_free(acct);
	acct = NULL;

	/* removing: a used key goes, its account and binding stay */
	CHECK_INT(OPS->eab_remove(st, "kid-a"), 0);
	CHECK_INT(OPS->eab_remove(st, "kid-a"), FLINT_ENOTFOUND);
	CHECK_INT(OPS->eab_get(st, "kid-a", &got), FLINT_ENOTFOUND);
	CHECK_INT(OPS->account_get(st, "eab-acct", &acct), 0);
	CHECK(acct && acct->eab_json != NULL);
	flint_account_free(acct);
	acct = NULL;
	/* a removed key binds nothing */
	a.id = "eab-acct3";
	a.thumbprint = "eab-thumb3";
	CHECK_INT(OPS->eab_remove(st, "kid-b"), 0);
	CHECK_INT(OPS->account_insert_eab(st, &a, "kid-b"), FLINT_ENOTFOUND);
	CHECK_INT(OPS->account_get(st, "eab-acct3", &acct), FLINT_ENOTFOUND);
	CHECK_INT(OPS->account_insert_eab(st, &a, NULL), FLINT_EINVAL);
	flint_eab_key_free(NULL);
	flint_eab_key_list_free(NULL, 0);
}

#define EAB_RACE_KEYS 30

struct eab_worker {
	int id;
	int won, lost, errors;
};

/* Two handles (as two nodes would) race for the same keys with different accounts. */
static void *eab_worker(void *arg)
{
	struct eab_worker *w = arg;
	struct flint_store *s = NULL;
	char id[64], thumb[64], kid[64];

	if (flint_store_open(dsn, &s) < 0) {
		w->errors++;
		return NULL;
	}
	for (int i = 0; i < EAB_RACE_KEYS; i++) {
		struct flint_account a = {.id = id, .jwk_json = "{}", .thumbprint = thumb,
					  .contact_json = "[]", .status = "valid", .created = 1};
		int err;

		snprintf(id, sizeof(id), "race-%d-%d", w->id, i);
		snprintf(thumb, sizeof(thumb), "race-thumb-%d-%d", w->id, i);
		snprintf(kid, sizeof(kid), "race-%d", i);
		err = s->ops->account_insert_eab(s, &a, kid);
		if (err == 0)
			w->won++;
		else if (err == FLINT_ECONFLICT)
			w->lost++;
		else
			w->errors++;
	}
	flint_store_close(s);
	return NULL;
}

static void test_eab_race(void)
{
	struct eab_worker w[2] = {{.id = 0}, {.id = 1}};
	unsigned char mac[32] = {1};
	pthread_t t[2];
	char kid[64];

	for (int i = 0; i < EAB_RACE_KEYS; i++) {
		struct flint_eab_key k = {.kid = kid, .alg = "HS256", .hmac_key = mac,
					  .hmac_key_len = sizeof(mac), .created = 1};

		snprintf(kid, sizeof(kid), "race-%d", i);
		CHECK_INT(OPS->eab_insert(st, &k), 0);
	}
	for (int i = 0; i < 2; i++)
		CHECK_INT(pthread_create(&t[i], NULL, eab_worker, &w[i]), 0);
	for (int i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
	CHECK_INT(w[0].errors + w[1].errors, 0);
	CHECK_INT(w[0].won + w[1].won, EAB_RACE_KEYS); /* one account per key */
	CHECK_INT(w[0].lost + w[1].lost, EAB_RACE_KEYS);
	for (int i = 0; i < EAB_RACE_KEYS; i++) {
		struct flint_eab_key *k = NULL;
		struct flint_account *a = NULL;
		char loser[64];
		int winner;

		snprintf(kid, sizeof(kid), "race-%d", i);
		CHECK_INT(OPS->eab_get(st, kid, &k), 0);
		CHECK(k && k->account_id);
		if (!k || !k->account_id) {
			flint_eab_key_free(k);
			continue;
		}
		/* the bound account exists; the other one was rolled back */
		CHECK_INT(OPS->account_get(st, k->account_id, &a), 0);
		flint_account_free(a);
		a = NULL;
		winner = k->account_id[5] - '0';
		snprintf(loser, sizeof(loser), "race-%d-%d", 1 - winner, i);
		CHECK_INT(OPS->account_get(st, loser, &a), FLINT_ENOTFOUND);
		flint_eab_key_free(k);
	}
}

/* newAuthz: a lone authorization with its challenges, belonging to no order */
static void test_authz_insert(void)
{
	struct flint_challenge ch[2] = {
		{.id = "pre-c1", .type = "http-01", .token = "tok1", .status = "pending"},
		{.id = "pre-c2", .type = "dns-01", .token = "tok2", .status = "pending"},
	};
	struct flint_authz az = {.id = "pre-az", .account_id = "acct2", .ident_type = "dns",
				 .ident_value = "pre.example", .status = "pending", .expires = 9000,
				 .created = 1000, .challenges = ch, .n_challenges = 2};
	struct flint_authz *got = NULL;
	size_t before = 0, after = 0;

	CHECK_INT(OPS->authz_count_pending(st, "acct2", 1000, &before), 0);
	CHECK_INT(OPS->authz_insert(st, &az), 0);
	CHECK_INT(OPS->authz_insert(st, &az), FLINT_ECONFLICT);
	CHECK_INT(OPS->authz_count_pending(st, "acct2", 1000, &after), 0);
	CHECK_INT(after, before + 1);
	CHECK_INT(OPS->authz_get(st, "pre-az", &got), 0);
	if (got) {
		CHECK_STR(got->ident_value, "pre.example");
		CHECK_INT(got->n_challenges, 2);
		if (got->n_challenges == 2) {
			CHECK_STR(got->challenges[0].authz_id, "pre-az");
			CHECK_STR(got->challenges[1].type, "dns-01");
		}
	}
	flint_authz_free(got);
	got = NULL;
	/* once valid it is found for reuse by a later order */
	CHECK_INT(OPS->challenge_start(st, "pre-c1", "node-a", 3000), 0);
	CHECK_INT(OPS->challenge_finish(st, "pre-c1", true, 2000, NULL, 50000), 0);
	CHECK_INT(OPS->authz_find_valid(st, "acct2", "dns", "pre.example", false, 40000, &got), 0);
	CHECK(got && !strcmp(got->id, "pre-az"));
	flint_authz_free(got);
	/* an authorization of an unknown account: nothing is stored */
	az.id = "pre-az2";
	az.account_id = "no-such-account";
	CHECK(OPS->authz_insert(st, &az) < 0);
	CHECK_INT(OPS->authz_get(st, "pre-az2", &got), FLINT_ENOTFOUND);
	CHECK_INT(OPS->authz_insert(st, NULL), FLINT_EINVAL);
}

/* Challenge fields with the characters an array literal must escape or that
 * end its elements (PostgreSQL sends an authorization's challenges as
 * arrays), an error document and a validation time: stored as given, in
 * order. */
static void test_challenge_fields_roundtrip(void)
{
	struct flint_challenge ch[3] = {
		{.id = "odd-c1", .type = "http-01", .token = "q\"uo,te{}", .status = "pending"},
		{.id = "odd-c2", .type = "dns-01", .token = "back\\slash NULL", .status = "invalid",
		 .validated = 1234, .error_json = "{\"type\":\"urn:x\",\"detail\":\"a \\\"b\\\"\"}"},
		{.id = "odd-c3", .type = "tls-alpn-01", .token = "", .status = "pending"},
	};
	struct flint_authz az = {.id = "odd-az", .account_id = "acct2", .ident_type = "dns",
				 .ident_value = "odd.example", .status = "pending", .expires = 9000,
				 .created = 1000, .challenges = ch, .n_challenges = 3};
	struct flint_authz *got = NULL;

	CHECK_INT(OPS->authz_insert(st, &az), 0);
	CHECK_INT(OPS->authz_get(st, "odd-az", &got), 0);
	CHECK(got && got->n_challenges == 3);
	for (size_t i = 0; got && i < got->n_challenges && i < 3; i++) {
		CHECK_STR(got->challenges[i].id, ch[i].id);
		CHECK_STR(got->challenges[i].type, ch[i].type);
		CHECK_STR(got->challenges[i].token, ch[i].token);
		CHECK_STR(got->challenges[i].status, ch[i].status);
		CHECK_INT(got->challenges[i].validated, ch[i].validated);
		CHECK(!ch[i].error_json ? !got->challenges[i].error_json
					: got->challenges[i].error_json &&
						  !strcmp(got->challenges[i].error_json, ch[i].error_json));
		/* a copy (what the validation worker is handed) is the same */
		struct flint_challenge *copy = NULL;
		CHECK_INT(flint_challenge_dup(&got->challenges[i], &copy), 0);
		CHECK(copy && copy != &got->challenges[i]);
		if (copy) {
			CHECK_STR(copy->id, ch[i].id);
			CHECK_STR(copy->authz_id, "odd-az");
			CHECK_STR(copy->token, ch[i].token);
			CHECK_STR(copy->status, ch[i].status);
			CHECK_INT(copy->validated, ch[i].validated);
			CHECK(!ch[i].error_json ? !copy->error_json
						: copy->error_json && copy->error_json != ch[i].error_json &&
							  !strcmp(copy->error_json, ch[i].error_json));
		}
		flint_challenge_free(copy);
	}
	struct flint_authz *bare = NULL;
	CHECK_INT(got ? flint_authz_dup_bare(got, &bare) : FLINT_EINVAL, 0);
	if (bare) {
		CHECK_STR(bare->id, "odd-az");
		CHECK_STR(bare->account_id, "acct2");
		CHECK_STR(bare->ident_value, "odd.example");
		CHECK_STR(bare->status, "pending");
		CHECK_INT(bare->expires, 9000);
		CHECK_INT(bare->created, 1000);
		CHECK(!bare->wildcard && bare->n_challenges == 0 && !bare->challenges);
	}
	flint_authz_free(bare);
	flint_authz_free(got);
}

/* Order NAME-ord (expires 6000) for acct1 with one authorization NAME-az,
 * made valid until authz_expires by its challenge NAME-c1. */
static void valid_order(const char *name, int64_t authz_expires)
{
	char oid[32], aid[32], cid[32];
	struct flint_challenge ch = chal(cid, "http-01", "tok");
	struct flint_authz az = {.id = aid, .account_id = "acct1", .ident_type = "dns",
				 .ident_value = "fin.example", .status = "pending", .expires = 5000,
				 .created = 1000, .challenges = &ch, .n_challenges = 1};
	char *aids[] = {aid};
	struct flint_order o = {.id = oid, .account_id = "acct1", .status = "pending",
				.expires = 6000, .created = 1000,
				.identifiers_json = "[{\"type\":\"dns\",\"value\":\"fin.example\"}]",
				.authz_ids = aids, .n_authz = 1};

	snprintf(oid, sizeof(oid), "%s-ord", name);
	snprintf(aid, sizeof(aid), "%s-az", name);
	snprintf(cid, sizeof(cid), "%s-c1", name);
	CHECK_INT(OPS->order_insert(st, &o, &az, 1), 0);
	CHECK_INT(OPS->challenge_start(st, cid, "node-a", 2100), 0);
	CHECK_INT(OPS->challenge_finish(st, cid, true, 2000, NULL, authz_expires), 0);
}

/* What newOrder's checks read (test_authz_find_valid's and test_rate_counts'
 * rows), each asked for itself: the answers the reads named ahead must give. */
struct order_reads {
	size_t pending, orders, certs, failed;
	char *valid, *valid_wc; /* the reusable authorizations' ids */
};

static void order_reads_get(struct order_reads *r)
{
	struct flint_authz *a = NULL;
	int64_t oldest;

	CHECK_INT(OPS->count_failed_validations_since(st, "acct1", "dns", "example.org", 0,
						      &r->failed, &oldest), 0);
	CHECK_INT(OPS->authz_find_valid(st, "acct2", "dns", "find.example", true, 6000, &a), 0);
	r->valid_wc = a ? strdup(a->id) : NULL;
	flint_authz_free(a);
	a = NULL;
	CHECK_INT(OPS->count_certs_for_domain_since(st, "rl.example", 0, &r->certs, &oldest), 0);
	CHECK_INT(OPS->authz_count_pending(st, "acct2", 6000, &r->pending), 0);
	CHECK_INT(OPS->authz_find_valid(st, "acct2", "dns", "find.example", false, 6000, &a), 0);
	r->valid = a ? strdup(a->id) : NULL;
	flint_authz_free(a);
	CHECK_INT(OPS->count_orders_since(st, "acct1", 0, &r->orders, &oldest), 0);
}

static void order_reads_clear(struct order_reads *r)
{
	free(r->valid);
	free(r->valid_wc);
	memset(r, 0, sizeof(*r));
}

static bool order_reads_same(const struct order_reads *a, const struct order_reads *b)
{
	return a->pending == b->pending && a->orders == b->orders && a->certs == b->certs &&
	       a->failed == b->failed && a->valid && b->valid && !strcmp(a->valid, b->valid) &&
	       a->valid_wc && b->valid_wc && !strcmp(a->valid_wc, b->valid_wc);
}

/* An order of acct with one authorization for value, inserted through s:
 * with a challenge that failed at 5000 when status is "invalid". */
static void insert_authz_through(struct flint_store *s, const char *id, const char *acct,
				 const char *value, const char *status, int64_t expires)
{
	char cid[64], oid[64];
	struct flint_challenge ch = {.id = cid, .type = "http-01", .token = "tok-through",
				     .status = strcmp(status, "invalid") ? "pending" : "invalid",
				     .validated = strcmp(status, "invalid") ? 0 : 5000};
	struct flint_authz az = {.id = (char *)id, .account_id = (char *)acct,
				 .ident_type = "dns", .ident_value = (char *)value,
				 .status = (char *)status, .expires = expires, .created = 1000,
				 .challenges = &ch, .n_challenges = 1};
	struct flint_order o = {.id = oid, .account_id = (char *)acct, .status = "pending",
				.expires = expires, .created = 1000, .identifiers_json = "[]",
				.authz_ids = (char **)&az.id, .n_authz = 1};

	snprintf(cid, sizeof(cid), "%s-0", id);
	snprintf(oid, sizeof(oid), "o-%s", id);
	CHECK_INT(s->ops->order_insert(s, &o, &az, 1), 0);
}

/* Through s, a row that changes the answer of every read order_reads_get
 * makes: an order of acct1 (orders), a certificate under rl.example
 * (certs), a failed validation of example.org by acct1 (failed), a pending
 * authorization of acct2 (pending), a valid one of acct2 for find.example
 * that outlives f2 (valid). */
static void change_order_reads_through(struct flint_store *s, const char *tag)
{
	unsigned char der[] = {0x30, 0x03, 0x02, 0x01, 0x01};
	char *doms[] = {"rl.example"};
	char id[64], serial[64];
	struct flint_cert c = {.id = id, .serial = serial, .account_id = "acct1", .der = der,
			       .der_len = sizeof(der), .chain_pem = "x", .not_before = 7000,
			       .not_after = 9000, .names_json = "[]", .rate_domains = doms,
			       .n_rate_domains = 1};

	snprintf(id, sizeof(id), "%s-failed", tag);
	insert_authz_through(s, id, "acct1", "example.org", "invalid", 9990);
	snprintf(id, sizeof(id), "%s-pending", tag);
	insert_authz_through(s, id, "acct2", "pend.example", "pending", 9990);
	snprintf(id, sizeof(id), "%s-valid", tag);
	insert_authz_through(s, id, "acct2", "find.example", "valid", 9991);
	snprintf(id, sizeof(id), "%s-cert", tag);
	snprintf(serial, sizeof(serial), "7b%02x", (unsigned)strlen(tag) * 7u);
	CHECK_INT(s->ops->cert_insert(s, &c), 0);
}

/* flint_store_read_ahead_calls: newOrder's reads named together before the
 * nonce's redemption are what its calls return, in any order, with a read
 * of another kind between them; a write between them is seen; a call whose
 * arguments differ reads for itself. On PostgreSQL they went out with the
 * redemption, which rows another connection inserts right after it show:
 * every one of those reads (a statement earlier) misses them, a later read
 * sees them. Runs after test_authz_find_valid and test_rate_counts. */
static void test_read_ahead_calls(void)
{
	const struct flint_store_read_call calls[] = {
		{.what = FLINT_READ_COUNT_ORDERS, .id = "acct1", .time = 0},
		{.what = FLINT_READ_COUNT_CERT_DOMAIN, .id = "rl.example", .time = 0},
		{.what = FLINT_READ_AUTHZ_FIND_VALID, .id = "acct2", .type = "dns",
		 .value = "find.example", .time = 6000},
		{.what = FLINT_READ_AUTHZ_FIND_VALID, .id = "acct2", .type = "dns",
		 .value = "find.example", .wildcard = true, .time = 6000},
		{.what = FLINT_READ_COUNT_FAILED, .id = "acct1", .type = "dns",
		 .value = "example.org", .time = 0},
		{.what = FLINT_READ_AUTHZ_COUNT_PENDING, .id = "acct2", .time = 6000},
	};
	const size_t n_calls = sizeof(calls) / sizeof(calls[0]);
	bool pg = !strcmp(OPS->name, "postgres");
	struct order_reads want = {0}, got = {0};
	struct flint_store *other = NULL;
	struct flint_authz *a = NULL;
	size_t pending = 0;

	order_reads_get(&want);
	CHECK(want.valid && want.valid_wc && want.certs == 2);
	/* all named, asked for in another order */
	flint_store_read_ahead_calls(st, calls, n_calls);
	redeem("rac1");
	order_reads_get(&got);
	CHECK(order_reads_same(&got, &want));
	order_reads_clear(&got);
	/* a read of another kind in between */
	flint_store_read_ahead_calls(st, calls, n_calls);
	redeem("rac2");
	CHECK_INT(OPS->authz_get(st, "f1", &a), 0);
	flint_authz_free(a);
	a = NULL;
	order_reads_get(&got);
	CHECK(order_reads_same(&got, &want));
	order_reads_clear(&got);
	/* a write in between: the count sees it */
	flint_store_read_ahead_calls(st, calls, n_calls);
	redeem("rac3");
	insert_simple_authz("rac-p1", "acct2", "pend.example", false, "pending", 9990);
	CHECK_INT(OPS->authz_count_pending(st, "acct2", 6000, &pending), 0);
	CHECK_INT(pending, want.pending + 1);
	/* other arguments: read for themselves (f2 expires at 8000) */
	flint_store_read_ahead_calls(st, calls, n_calls);
	redeem("rac4");
	CHECK_INT(OPS->authz_find_valid(st, "acct2", "dns", "find.example", false, 8000, &a),
		  FLINT_ENOTFOUND);
	CHECK_INT(OPS->authz_count_pending(st, "acct2", 9995, &pending), 0);
	CHECK_INT(pending, 0);
	flint_store_read_ahead(st, FLINT_READ_NONE, NULL);
	/* another connection changes every answer just after the redemption:
	 * on PostgreSQL the reads went out with it and do not see that (a read
	 * of another kind between them leaves them); SQLite reads now */
	CHECK_INT(flint_store_open(dsn, &other), 0);
	if (other) {
		struct order_reads now = {0};

		flint_store_read_ahead_calls(st, calls, n_calls);
		redeem("rac5");
		change_order_reads_through(other, "rac5");
		CHECK_INT(OPS->authz_get(st, "f1", &a), 0); /* a read between */
		flint_authz_free(a);
		a = NULL;
		order_reads_get(&got);
		flint_store_read_ahead(st, FLINT_READ_NONE, NULL);
		order_reads_get(&now); /* every answer changed */
		CHECK(now.pending == want.pending + 2 && now.orders == want.orders + 1 &&
		      now.certs == want.certs + 1 && now.failed == want.failed + 1 &&
		      now.valid && !strcmp(now.valid, "rac5-valid") && now.valid_wc &&
		      !strcmp(now.valid_wc, want.valid_wc));
		if (pg) {
			want.pending++; /* rac-p1, inserted through st before */
			CHECK(order_reads_same(&got, &want));
		} else {
			CHECK(got.pending == now.pending && got.orders == now.orders &&
			      got.certs == now.certs && got.failed == now.failed && got.valid &&
			      now.valid && !strcmp(got.valid, now.valid));
		}
		/* handed out once: asked again, they read anew */
		flint_store_read_ahead_calls(st, calls, n_calls);
		redeem("rac7");
		CHECK_INT(OPS->authz_count_pending(st, "acct2", 6000, &pending), 0);
		CHECK_INT(pending, now.pending);
		CHECK_INT(OPS->authz_count_pending(st, "acct2", 6000, &pending), 0);
		CHECK_INT(pending, now.pending);
		flint_store_read_ahead(st, FLINT_READ_NONE, NULL);
		order_reads_clear(&got);
		order_reads_clear(&want);
		want = now;
		flint_store_close(other);
	}
	/* more than FLINT_STORE_AHEAD_MAX: the rest are not named, and all
	 * still answer right */
	{
		struct flint_store_read_call many[FLINT_STORE_AHEAD_MAX + 4];

		for (size_t i = 0; i < sizeof(many) / sizeof(many[0]); i++)
			many[i] = calls[i % n_calls];
		flint_store_read_ahead_calls(st, many, sizeof(many) / sizeof(many[0]));
		redeem("rac6");
		order_reads_get(&got);
		CHECK(order_reads_same(&got, &want));
		order_reads_clear(&got);
		flint_store_read_ahead(st, FLINT_READ_NONE, NULL);
	}
	order_reads_clear(&want);
}

/* Finalization keeps the CSR and a claim, so another node can finish it. */
static void test_finalize_claims(void)
{
	struct flint_challenge ch = chal("fin-c1", "http-01", "fin-tok");
	struct flint_authz az = {.id = "fin-az", .account_id = "acct1", .ident_type = "dns",
				 .ident_value = "fin.example", .status = "pending", .expires = 5000,
				 .created = 1000, .challenges = &ch, .n_challenges = 1};
	char *aids[] = {"fin-az"};
	struct flint_order o = {.id = "fin-ord", .account_id = "acct1", .status = "pending",
				.expires = 6000, .created = 1000,
				.identifiers_json = "[{\"type\":\"dns\",\"value\":\"fin.example\"}]",
				.authz_ids = aids, .n_authz = 1};
	const unsigned char csr[] = {0x30, 0x82, 0x00, 0x00, 0x00, 0xff, 0x01};
	unsigned char *got = NULL;
	size_t got_len = 0;
	struct flint_order *og = NULL;
	char first[64];

	CHECK_INT(OPS->order_insert(st, &o, &az, 1), 0);
	CHECK_INT(OPS->order_csr(st, "fin-ord", &got, &got_len), FLINT_ENOTFOUND);
	CHECK_INT(OPS->order_csr(st, "nope", &got, &got_len), FLINT_ENOTFOUND);
	CHECK_INT(OPS->order_start_finalize(st, "fin-ord", NULL, 0, "node-a", 2500, 3000),
		  FLINT_EINVAL);
	CHECK_INT(OPS->order_start_finalize(st, "nope", csr, sizeof(csr), "node-a", 2500, 3000),
		  FLINT_ENOTFOUND);
	/* not ready while its authorization is pending */
	CHECK_INT(OPS->order_start_finalize(st, "fin-ord", csr, sizeof(csr), "node-a", 2500, 3000),
		  FLINT_ECONFLICT);
	CHECK_INT(OPS->challenge_start(st, "fin-c1", "node-a", 3000), 0);
	CHECK_INT(OPS->challenge_finish(st, "fin-c1", true, 2000, NULL, 9000), 0);
	/* nor once the order expired (6000), its authorization still valid */
	CHECK_INT(OPS->order_start_finalize(st, "fin-ord", csr, sizeof(csr), "node-a", 6000, 7000),
		  FLINT_ECONFLICT);
	CHECK_INT(OPS->order_get(st, "fin-ord", &og), 0);
	CHECK(og && !strcmp(og->status, "pending"));
	flint_order_free(og);
	og = NULL;
	CHECK_INT(OPS->order_start_finalize(st, "fin-ord", csr, sizeof(csr), "node-a", 2500, 3000), 0);
	/* one finalize wins */
	CHECK_INT(OPS->order_start_finalize(st, "fin-ord", csr, sizeof(csr), "node-b", 2500, 3000),
		  FLINT_ECONFLICT);
	CHECK_INT(OPS->order_get(st, "fin-ord", &og), 0);
	CHECK(og && !strcmp(og->status, "processing"));
	flint_order_free(og);
	og = NULL;
	CHECK_INT(OPS->order_csr(st, "fin-ord", &got, &got_len), 0);
	CHECK(got && got_len == sizeof(csr) && !memcmp(got, csr, sizeof(csr)));
	free(got);

	/* the claim: node-a's until 3000; then anyone's, once */
	CHECK_INT(claimed(true, "node-b", 2999, false, 10, NULL, 0), 0);
	CHECK_INT(claimed(true, "node-a", 2999, true, 10, first, sizeof(first)), 1);
	CHECK_STR(first, "fin-ord");
	CHECK_INT(claimed(true, "node-b", 3999, false, 10, first, sizeof(first)), 1);
	CHECK_STR(first, "fin-ord");
	CHECK_INT(claimed(true, "node-c", 3999, false, 10, NULL, 0), 0);
	CHECK_INT(OPS->order_set_status(st, "fin-ord", "processing", "valid", NULL, "fin-cert"), 0);
	CHECK_INT(claimed(true, "node-c", 1 << 30, true, 10, NULL, 0), 0);

	/* an authorization that expired (3000) before the order (6000) */
	valid_order("fin2", 3000);
	CHECK_INT(OPS->order_start_finalize(st, "fin2-ord", csr, sizeof(csr), "node-a", 3000, 4000),
		  FLINT_ECONFLICT);
	CHECK_INT(OPS->order_start_finalize(st, "fin2-ord", csr, sizeof(csr), "node-a", 2999, 4000),
		  0);
	/* one deactivated meanwhile */
	valid_order("fin3", 9000);
	CHECK_INT(OPS->authz_set_status(st, "fin3-az", "valid", "deactivated"), 0);
	CHECK_INT(OPS->order_start_finalize(st, "fin3-ord", csr, sizeof(csr), "node-a", 2500, 4000),
		  FLINT_ECONFLICT);
}

/* A finalized order's certificate is written with the order's move to
 * valid, or not at all. */
static void test_cert_issue(void)
{
	unsigned char der[] = {0x30, 0x03, 0x02, 0x01, 0x07};
	const unsigned char csr[] = {0x30, 0x00};
	/* the second needs quoting in a PostgreSQL array literal */
	char *doms[] = {"issue.example", "quo\"te\\,{x}.example"};
	struct flint_cert c = {.id = "iss-taken", .serial = "7b00", .account_id = "acct1",
			       .order_id = "fin-ord", .der = der, .der_len = sizeof(der),
			       .chain_pem = "x", .not_before = 5000, .not_after = 9000,
			       .names_json = "[]", .rate_domains = doms, .n_rate_domains = 2};
	struct flint_order *og = NULL;
	struct flint_cert *g = NULL;
	size_t n = 99;
	int64_t oldest = -1;

	CHECK_INT(OPS->cert_insert(st, &c), 0); /* takes serial 7b00 */
	c.id = "iss-cert";
	c.order_id = "iss-ord";
	valid_order("iss", 9000);
	/* ready, not processing: nothing written */
	CHECK_INT(OPS->cert_issue(st, &c), FLINT_ECONFLICT);
	CHECK_INT(OPS->cert_get(st, "iss-cert", &g), FLINT_ENOTFOUND);
	CHECK_INT(OPS->order_start_finalize(st, "iss-ord", csr, sizeof(csr), "node-a", 2500, 4000),
		  0);
	/* a certificate that cannot be written (its serial taken) leaves the
	 * order processing */
	CHECK_INT(OPS->cert_issue(st, &c), FLINT_ECONFLICT);
	CHECK_INT(OPS->cert_get(st, "iss-cert", &g), FLINT_ENOTFOUND);
	CHECK_INT(OPS->order_get(st, "iss-ord", &og), 0);
	CHECK(og && !strcmp(og->status, "processing") && og->cert_id == NULL);
	flint_order_free(og);
	og = NULL;
	for (int i = 0; i < 2; i++) {
		CHECK_INT(OPS->count_certs_for_domain_since(st, doms[i], 0, &n, &oldest), 0);
		CHECK_INT(n, 1); /* iss-taken's only */
	}

	c.serial = "7b01";
	CHECK_INT(OPS->cert_issue(st, &c), 0);
	CHECK_INT(OPS->order_get(st, "iss-ord", &og), 0);
	CHECK(og && !strcmp(og->status, "valid") && og->cert_id && !strcmp(og->cert_id, "iss-cert"));
	flint_order_free(og);
	og = NULL;
	CHECK_INT(OPS->cert_get(st, "iss-cert", &g), 0);
	CHECK(g && !strcmp(g->order_id, "iss-ord") && !strcmp(g->serial, "7b01") &&
	      g->der_len == sizeof(der));
	flint_cert_free(g);
	g = NULL;
	for (int i = 0; i < 2; i++) {
		CHECK_INT(OPS->count_certs_for_domain_since(st, doms[i], 0, &n, &oldest), 0);
		CHECK_INT(n, 2);
	}
	/* once: the order is valid now */
	c.id = "iss-cert2";
	c.serial = "7b02";
	CHECK_INT(OPS->cert_issue(st, &c), FLINT_ECONFLICT);
	CHECK_INT(OPS->cert_get(st, "iss-cert2", &g), FLINT_ENOTFOUND);
	CHECK_INT(OPS->count_certs_for_domain_since(st, doms[0], 0, &n, &oldest), 0);
	CHECK_INT(n, 2);
	/* no rate domains (a renewal that is exempt), no such order, no order */
	c.n_rate_domains = 0;
	c.rate_domains = NULL;
	c.order_id = "no-such-order";
	CHECK_INT(OPS->cert_issue(st, &c), FLINT_ENOTFOUND);
	c.order_id = NULL;
	CHECK_INT(OPS->cert_issue(st, &c), FLINT_EINVAL);
	valid_order("iss2", 9000);
	CHECK_INT(OPS->order_start_finalize(st, "iss2-ord", csr, sizeof(csr), "node-a", 2500, 4000),
		  0);
	c.order_id = "iss2-ord";
	CHECK_INT(OPS->cert_issue(st, &c), 0);
	CHECK_INT(OPS->cert_get(st, "iss-cert2", &g), 0);
	flint_cert_free(g);
}

/* A scheduled job's lease: one holder at a time, until it expires. */
static void test_leases(void)
{
	CHECK_INT(OPS->lease_acquire(st, "job", "node-a", 100, 200), 0);
	CHECK_INT(OPS->lease_acquire(st, "job", "node-b", 150, 250), FLINT_ECONFLICT);
	/* live: not even its holder takes it again (the job ran this period) */
	CHECK_INT(OPS->lease_acquire(st, "job", "node-a", 199, 300), FLINT_ECONFLICT);
	CHECK_INT(OPS->lease_acquire(st, "other-job", "node-b", 150, 250), 0);
	CHECK_INT(OPS->lease_acquire(st, "job", "node-b", 200, 300), 0);
	CHECK_INT(OPS->lease_acquire(st, "job", "node-a", 250, 350), FLINT_ECONFLICT);
	CHECK_INT(OPS->lease_acquire(st, "job", "node-a", 300, 400), 0);
	CHECK_INT(OPS->lease_acquire(st, NULL, "node-a", 300, 400), FLINT_EINVAL);
	CHECK_INT(OPS->lease_acquire(st, "job", NULL, 300, 400), FLINT_EINVAL);
}

#define CLAIM_RACE_ROWS 60

struct claim_worker {
	const char *node;
	int taken[CLAIM_RACE_ROWS];
	int errors;
};

/* Takes over expired claims in small batches until three rounds find none. */
static void *claim_worker(void *arg)
{
	struct claim_worker *w = arg;
	struct flint_store *s = NULL;
	struct flint_claim c = {.node = w->node, .now = 5000, .claim_until = 9000, .limit = 7};

	if (flint_store_open(dsn, &s) < 0) {
		w->errors++;
		return NULL;
	}
	for (int empty = 0, rounds = 0; empty < 3 && rounds < 200; rounds++) {
		char **ids = NULL;
		size_t n = 0;
		int k;

		if (s->ops->challenges_claim(s, &c, &ids, &n) < 0) {
			w->errors++;
			break;
		}
		empty = n ? 0 : empty + 1;
		for (size_t i = 0; i < n; i++)
			if (sscanf(ids[i], "race-c%d", &k) == 1 && k >= 0 && k < CLAIM_RACE_ROWS)
				w->taken[k]++;
			else
				w->errors++;
		flint_string_list_free(ids, n);
	}
	flint_store_close(s);
	return NULL;
}

/* Two handles (two nodes) take over a dead node's validations at once:
 * each row goes to exactly one of them. */
static void test_claim_race(void)
{
	struct flint_challenge ch[CLAIM_RACE_ROWS];
	char ids[CLAIM_RACE_ROWS][32];
	struct flint_authz az = {.id = "race-az", .account_id = "acct1", .ident_type = "dns",
				 .ident_value = "race.example", .status = "pending",
				 .expires = 1 << 30, .created = 1000, .challenges = ch,
				 .n_challenges = CLAIM_RACE_ROWS};
	struct claim_worker w[2] = {{.node = "node-x"}, {.node = "node-y"}};
	pthread_t t[2];

	for (int i = 0; i < CLAIM_RACE_ROWS; i++) {
		snprintf(ids[i], sizeof(ids[i]), "race-c%d", i);
		ch[i] = chal(ids[i], "http-01", ids[i]);
	}
	CHECK_INT(OPS->authz_insert(st, &az), 0);
	for (int i = 0; i < CLAIM_RACE_ROWS; i++)
		CHECK_INT(OPS->challenge_start(st, ids[i], "dead-node", 4000), 0);
	for (int i = 0; i < 2; i++)
		CHECK_INT(pthread_create(&t[i], NULL, claim_worker, &w[i]), 0);
	for (int i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
	CHECK_INT(w[0].errors + w[1].errors, 0);
	for (int i = 0; i < CLAIM_RACE_ROWS; i++)
		CHECK_INT(w[0].taken[i] + w[1].taken[i], 1);
}

/* flint_account_jwk: the stored key, imported once and then handed out from
 * the cache as separate handles; another text is another key; a bad text is
 * an error every time. */
static void test_account_jwk_cache(void)
{
	struct flint_jwk *ka = NULL, *kb = NULL, *got1 = NULL, *got2 = NULL, *got3 = NULL;
	char *ta = NULL, *tb = NULL;
	struct flint_account a = {0}, b = {0}, bad = {.jwk_json = "{\"kty\":\"EC\"}"};

	CHECK_INT(flint_jwk_generate(FLINT_KEY_P256, 0, &ka), 0);
	CHECK_INT(flint_jwk_generate(FLINT_KEY_P256, 0, &kb), 0);
	if (!ka || !kb || flint_jwk_to_string(ka, &ta) < 0 || flint_jwk_to_string(kb, &tb) < 0) {
		CHECK(false);
		goto out;
	}
	a.jwk_json = ta;
	b.jwk_json = tb;
	CHECK_INT(flint_account_jwk(&a, &got1), 0);
	CHECK_INT(flint_account_jwk(&a, &got2), 0);
	CHECK_INT(flint_account_jwk(&b, &got3), 0);
	CHECK(got1 && got2 && got3 && got1 != got2);
	if (got1 && got2 && got3) {
		CHECK(flint_jwk_equal(got1, ka) && flint_jwk_equal(got2, ka));
		CHECK(flint_jwk_equal(got3, kb) && !flint_jwk_equal(got3, ka));
		CHECK_STR(got2->thumbprint, ka->thumbprint);
	}
	flint_jwk_free(got1);
	got1 = NULL;
	CHECK(flint_account_jwk(&bad, &got1) < 0);
	CHECK(flint_account_jwk(&bad, &got1) < 0);
	flint_account_jwk_cache_clear();
	flint_jwk_free(got2);
	got2 = NULL;
	CHECK_INT(flint_account_jwk(&a, &got2), 0);
	CHECK(got2 && flint_jwk_equal(got2, ka));
	/* many keys, asked for in another order than stored: each its own */
	enum { MANY = 64 };
	struct flint_jwk *keys[MANY] = {0};
	char *texts[MANY] = {0};
	for (int i = 0; i < MANY; i++)
		if (flint_jwk_generate(FLINT_KEY_P256, 0, &keys[i]) < 0 ||
		    flint_jwk_to_string(keys[i], &texts[i]) < 0)
			CHECK(false);
	for (int round = 0; round < 2; round++)
		for (int j = 0; j < MANY; j++) {
			int i = round ? MANY - 1 - j : j;
			struct flint_account x = {.jwk_json = texts[i]};
			struct flint_jwk *k = NULL;
			if (!texts[i])
				continue;
			CHECK_INT(flint_account_jwk(&x, &k), 0);
			CHECK(k && flint_jwk_equal(k, keys[i]));
			flint_jwk_free(k);
		}
	for (int i = 0; i < MANY; i++) {
		flint_jwk_free(keys[i]);
		free(texts[i]);
	}
out:
	flint_jwk_free(ka);
	flint_jwk_free(kb);
	flint_jwk_free(got1);
	flint_jwk_free(got2);
	flint_jwk_free(got3);
	free(ta);
	free(tb);
}

/* The count of one store operation in the process's metrics. */
static long store_op_count(const char *op)
{
	char *text = NULL, key[128];
	size_t len = 0;
	long n = -1;
	if (flint_metrics_render(flint_metrics_global(), &text, &len) < 0)
		return -1;
	snprintf(key, sizeof(key), "flintd_store_operation_duration_seconds_count{op=\"%s\"} ", op);
	const char *at = strstr(text, key);
	n = at ? strtol(at + strlen(key), NULL, 10) : 0;
	free(text);
	return n;
}

/* SQLite only: committed pages reach the database file (a checkpoint) without
 * anyone asking, from the background checkpointer (automatic checkpoints in
 * the committing connection are off). The checkpointer starts the WAL over
 * (a RESTART after a complete round) and is woken at most every 128 pages
 * beyond its threshold, not after every commit: 24 000 commits of one or
 * two pages each take at most 48 000 / 128 rounds. */
static void test_sqlite_checkpointer(void)
{
	struct stat sb;
	off_t before;
	char nonce[300];
	int i, ok = 0;

	CHECK_INT(stat(dbpath, &sb), 0);
	before = sb.st_size;
	memset(nonce, 'n', sizeof(nonce) - 1);
	nonce[sizeof(nonce) - 1] = '\0';
	/* ~8 MB of rows: well over 1000 WAL pages */
	for (i = 0; i < 24000; i++) {
		snprintf(nonce, 24, "ckpt-%08d-", i);
		nonce[14] = 'n';
		if (OPS->nonce_use(st, nonce, 1) < 0)
			break;
	}
	CHECK_INT(i, 24000);
	for (int t = 0; t < 200 && !ok; t++) {
		if (stat(dbpath, &sb) == 0 && sb.st_size > before + 4 * 1024 * 1024)
			ok = 1;
		else
			usleep(50000);
	}
	CHECK(ok);
	long rounds = store_op_count("wal_checkpoint"), restarts = store_op_count("wal_restart");
	CHECK(rounds >= 1 && rounds <= 48000 / 128 + 10);
	CHECK(restarts >= 1);
	if (rounds < 1 || rounds > 48000 / 128 + 10 || restarts < 1)
		fprintf(stderr, "checkpoint rounds %ld, WAL restarts %ld\n", rounds, restarts);
	CHECK_INT(OPS->nonce_purge(st, 2), 0);
}

/* SQLite only: the handles of one process share a connection (a second
 * handle's close leaves the first working), and writes by another connection
 * to the file, as another process makes them, are seen and respected at once
 * (the shared page cache is not trusted across them). */
static void test_sqlite_other_connection(void)
{
	struct flint_store *second = NULL;
	sqlite3 *other = NULL;
	int64_t changed = -1;

	CHECK_INT(flint_store_open(dsn, &second), 0);
	if (second) {
		CHECK_INT(second->ops->nonce_use(second, "shared-handle", 10000), 0);
		flint_store_close(second);
	}
	CHECK_INT(OPS->nonce_use(st, "shared-handle", 10000), FLINT_ECONFLICT);

	CHECK_INT(sqlite3_open_v2(dbpath, &other, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
	CHECK_INT(sqlite3_busy_timeout(other, 5000), SQLITE_OK);
	CHECK_INT(sqlite3_exec(other, "INSERT INTO used_nonces (value, expires) VALUES ('from-other', 10000)",
			       NULL, NULL, NULL),
		  SQLITE_OK);
	CHECK_INT(OPS->nonce_use(st, "from-other", 10000), FLINT_ECONFLICT);
	CHECK_INT(OPS->nonce_use(st, "to-other", 10000), 0);
	CHECK_INT(sqlite3_exec(other, "DELETE FROM used_nonces WHERE value = 'to-other'", NULL, NULL,
			       NULL),
		  SQLITE_OK);
	changed = sqlite3_changes64(other);
	CHECK_INT(changed, 1);
	CHECK_INT(OPS->nonce_use(st, "to-other", 10000), 0);
	sqlite3_close(other);
}

/* Another process on the same SQLite file changes an account this process
 * has read (and cached): the next read here has the change, as after a
 * change made here. */
static void test_sqlite_account_other_process(void)
{
	struct flint_account *a = NULL;

	add_account("cached-acct", "cached-thumb");
	for (int round = 0; round < 2; round++) {
		const char *from = round ? "deactivated" : "valid";
		const char *to = round ? "valid" : "deactivated";
		CHECK_INT(OPS->account_get(st, "cached-acct", &a), 0);
		CHECK(a && strcmp(a->status, from) == 0);
		flint_account_free(a);
		a = NULL;
		pid_t pid = fork();
		if (pid == 0) {
			struct flint_store *other = NULL;
			struct flint_account was = {.id = "cached-acct", .thumbprint = "cached-thumb",
						    .status = (char *)from};
			struct flint_account up = {.id = "cached-acct", .jwk_json = "{\"kty\":\"EC\"}",
						   .thumbprint = "cached-thumb", .contact_json = "[]",
						   .status = (char *)to, .tos_agreed = true};
			_exit(flint_store_open(dsn, &other) == 0 &&
					      other->ops->account_update(other, &up, &was) == 0
				      ? 0
				      : 1);
		}
		int status = 0;
		CHECK(pid > 0 && waitpid(pid, &status, 0) == pid && WIFEXITED(status) &&
		      WEXITSTATUS(status) == 0);
		CHECK_INT(OPS->account_get(st, "cached-acct", &a), 0);
		CHECK(a && strcmp(a->status, to) == 0);
		flint_account_free(a);
		a = NULL;
	}
}

/* PostgreSQL only: the server ends the handle's connection (restart,
 * failover); the call that notices fails with FLINT_EIO, the next reconnects
 * and prepares its statements again. */
/* An order of FLINT-sized extremes: 100 new authorizations of 4 challenges
 * each, written in one transaction (on PostgreSQL one pipelined batch of
 * 501 statements), all read back; the same again with a duplicate id in the
 * last challenge leaves nothing behind. */
static void test_large_order(void)
{
	enum { N = 100, C = 4 };
	static char ids[N][16], cids[N][C][16], toks[N][C][16];
	static struct flint_challenge ch[N][C];
	static struct flint_authz az[N];
	char *authz_ids[N];
	struct flint_order o = {.id = "big1", .account_id = "acct1", .status = "pending",
				.expires = 6000, .created = 1003, .identifiers_json = "[]",
				.authz_ids = authz_ids, .n_authz = N};
	struct flint_order *got = NULL;
	struct flint_authz *a = NULL;

	for (int run = 0; run < 2; run++) {
		for (int i = 0; i < N; i++) {
			snprintf(ids[i], sizeof(ids[i]), "big%d-%d", run, i);
			for (int j = 0; j < C; j++) {
				snprintf(cids[i][j], sizeof(cids[i][j]), "bigc%d-%d-%d", run, i, j);
				snprintf(toks[i][j], sizeof(toks[i][j]), "bigt%d-%d", i, j);
				ch[i][j] = chal(cids[i][j], "http-01", toks[i][j]);
			}
			az[i] = (struct flint_authz){.id = ids[i], .account_id = "acct1",
						     .ident_type = "dns", .ident_value = ids[i],
						     .status = "pending", .expires = 5000,
						     .created = 1003, .challenges = ch[i],
						     .n_challenges = C};
			authz_ids[i] = ids[i];
		}
		if (run == 1) { /* the last challenge id repeats the first: a conflict at the end */
			o.id = "big2";
			ch[N - 1][C - 1].id = cids[0][0];
		}
		CHECK_INT(OPS->order_insert(st, &o, az, N), run == 0 ? 0 : FLINT_ECONFLICT);
	}
	CHECK_INT(OPS->order_get(st, "big1", &got), 0);
	CHECK(got && got->n_authz == N && !strcmp(got->authz_ids[N - 1], "big0-99"));
	flint_order_free(got);
	got = NULL;
	CHECK_INT(OPS->authz_get(st, "big0-99", &a), 0);
	CHECK(a && a->n_challenges == C && !strcmp(a->challenges[C - 1].id, "bigc0-99-3"));
	flint_authz_free(a);
	a = NULL;
	CHECK_INT(OPS->order_get(st, "big2", &got), FLINT_ENOTFOUND);
	CHECK_INT(OPS->authz_get(st, "big1-0", &a), FLINT_ENOTFOUND);
	CHECK(got == NULL && a == NULL);
}

static void test_pg_reconnect(void)
{
	PGconn *admin = PQconnectdb(dsn);
	PGresult *res = NULL;
	struct flint_account *a = NULL;

	CHECK(PQstatus(admin) == CONNECTION_OK);
	if (PQstatus(admin) == CONNECTION_OK)
		res = PQexec(admin, "SELECT pg_terminate_backend(pid, 10000) FROM pg_stat_activity"
				    " WHERE datname = current_database() AND pid <> pg_backend_pid()");
	CHECK(res && PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1);
	PQclear(res);
	PQfinish(admin);
	CHECK_INT(OPS->account_get(st, "acct1", &a), FLINT_EIO);
	CHECK(a == NULL);
	CHECK_INT(OPS->account_get(st, "acct1", &a), 0);
	CHECK(a && !strcmp(a->thumbprint, "thumb1"));
	flint_account_free(a);
	CHECK_INT(OPS->nonce_use(st, "after-reconnect", 10000), 0);
	CHECK_INT(OPS->nonce_use(st, "after-reconnect", 10000), FLINT_ECONFLICT);

	/* a batched write on a dead connection fails, writes nothing, and the
	 * next one runs on a new connection */
	admin = PQconnectdb(dsn);
	res = PQstatus(admin) == CONNECTION_OK
		      ? PQexec(admin, "SELECT pg_terminate_backend(pid, 10000) FROM pg_stat_activity"
				      " WHERE datname = current_database() AND pid <> pg_backend_pid()")
		      : NULL;
	CHECK(res && PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1);
	PQclear(res);
	PQfinish(admin);
	{
		struct flint_challenge c[] = {chal("rc-c1", "http-01", "rc-t1")};
		struct flint_authz az = {.id = "rc-az", .account_id = "acct1", .ident_type = "dns",
					 .ident_value = "rc.example.org", .status = "pending",
					 .expires = 5000, .created = 1004, .challenges = c,
					 .n_challenges = 1};
		struct flint_authz *got = NULL;

		CHECK_INT(OPS->authz_insert(st, &az), FLINT_EIO);
		CHECK_INT(OPS->authz_get(st, "rc-az", &got), FLINT_ENOTFOUND);
		CHECK_INT(OPS->authz_insert(st, &az), 0);
		CHECK_INT(OPS->authz_get(st, "rc-az", &got), 0);
		CHECK(got && got->n_challenges == 1);
		flint_authz_free(got);
	}
}

/* Runs sql on its own connection; whether it succeeded. */
static bool pg_admin(const char *sql)
{
	PGconn *admin = PQconnectdb(dsn);
	PGresult *res = PQstatus(admin) == CONNECTION_OK ? PQexec(admin, sql) : NULL;
	bool ok = res && PQresultStatus(res) == PGRES_COMMAND_OK;

	PQclear(res);
	PQfinish(admin);
	return ok;
}

/* A commit that fails (a deferred trigger here; a serialization failure at
 * COMMIT in SERIALIZABLE databases) in a pipeline: the nonce's redemption
 * with a read ahead, and a batched write. The call fails, nothing is
 * written, and the connection still serves the next statements (libpq
 * left in pipeline mode would refuse them all). */
static void test_pg_commit_fails(void)
{
	struct flint_account *acct = NULL;
	struct flint_authz *a = NULL;

	CHECK(pg_admin("CREATE FUNCTION flint_test_refuse() RETURNS trigger LANGUAGE plpgsql"
		       " AS $$ BEGIN RAISE EXCEPTION 'commit refused'; END $$;"
		       "CREATE CONSTRAINT TRIGGER flint_test_nonce AFTER INSERT ON used_nonces"
		       " DEFERRABLE INITIALLY DEFERRED FOR EACH ROW"
		       " WHEN (NEW.value = 'commit-fails') EXECUTE FUNCTION flint_test_refuse();"
		       "CREATE CONSTRAINT TRIGGER flint_test_authz AFTER INSERT ON authzs"
		       " DEFERRABLE INITIALLY DEFERRED FOR EACH ROW"
		       " WHEN (NEW.id = 'cf-az') EXECUTE FUNCTION flint_test_refuse();"));
	flint_store_read_ahead(st, FLINT_READ_AUTHZ, "az1");
	CHECK(OPS->nonce_use_account_get(st, "commit-fails", 100, "acct1", &acct) < 0);
	CHECK(acct == NULL);
	CHECK_INT(OPS->authz_get(st, "az1", &a), 0);
	CHECK(a && !strcmp(a->id, "az1"));
	flint_authz_free(a);
	a = NULL;
	CHECK_INT(OPS->nonce_use(st, "after-commit-fails", 100), 0);
	{
		struct flint_challenge c[] = {chal("cf-c1", "http-01", "cf-t1")};
		struct flint_authz az = {.id = "cf-az", .account_id = "acct1", .ident_type = "dns",
					 .ident_value = "cf.example.org", .status = "pending",
					 .expires = 5000, .created = 1005, .challenges = c,
					 .n_challenges = 1};

		CHECK(OPS->authz_insert(st, &az) < 0);
		CHECK_INT(OPS->authz_get(st, "cf-az", &a), FLINT_ENOTFOUND);
		CHECK_INT(OPS->authz_get(st, "az1", &a), 0);
		flint_authz_free(a);
	}
	CHECK(pg_admin("DROP TRIGGER flint_test_nonce ON used_nonces;"
		       "DROP TRIGGER flint_test_authz ON authzs;"
		       "DROP FUNCTION flint_test_refuse();"));
}

static void rm_tmpdir(void)
{
	DIR *d = opendir(tmpdir);
	struct dirent *e;
	char p[512];

	if (!d)
		return;
	while ((e = readdir(d))) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		snprintf(p, sizeof(p), "%s/%s", tmpdir, e->d_name);
		unlink(p);
	}
	closedir(d);
	rmdir(tmpdir);
}

int main(void)
{
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/flint-store-XXXXXX");
	if (!mkdtemp(tmpdir)) {
		perror("mkdtemp");
		return 1;
	}
	snprintf(dbpath, sizeof(dbpath), "%s/flint.db", tmpdir);
	snprintf(fresh_path, sizeof(fresh_path), "%s/fresh.db", tmpdir);
	dsn = dbpath;
	fresh_dsn = fresh_path;
	if (getenv("FLINT_TEST_DSN") && *getenv("FLINT_TEST_DSN")) {
		dsn = getenv("FLINT_TEST_DSN");
		fresh_dsn = getenv("FLINT_TEST_DSN_FRESH");
		if (!fresh_dsn || !*fresh_dsn) {
			fprintf(stderr, "FLINT_TEST_DSN_FRESH: an empty database is needed too\n");
			rm_tmpdir();
			return 1;
		}
	}

	RUN(test_dsn_redacted);
	RUN(test_open_dsn);
	if (st) {
		RUN(test_nonces);
		RUN(test_accounts);
		RUN(test_orders);
		RUN(test_challenges);
		RUN(test_read_ahead);
		RUN(test_authz_find_valid);
		RUN(test_orders_by_account);
		RUN(test_certs);
		RUN(test_reopen);
		RUN(test_threads);
		RUN(test_concurrent_first_open);
		RUN(test_eab_keys);
		RUN(test_eab_race);
		RUN(test_authz_insert);
		RUN(test_large_order);
		RUN(test_challenge_fields_roundtrip);
		RUN(test_rate_counts);
		RUN(test_read_ahead_calls);
		RUN(test_finalize_claims);
		RUN(test_cert_issue);
		RUN(test_leases);
		RUN(test_claim_race);
		RUN(test_account_jwk_cache);
		if (dsn != dbpath) {
			RUN(test_pg_reconnect);
			RUN(test_pg_commit_fails);
		} else {
			RUN(test_sqlite_other_connection);
			RUN(test_sqlite_account_other_process);
			RUN(test_sqlite_checkpointer);
		}
	}
	flint_store_close(st);
	rm_tmpdir();
	return CHECK_DONE();
}
