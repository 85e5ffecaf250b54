/* Unit tests for CAA (validate/caa.c, RFC 8659 + RFC 8657): rdata parsing
 * with hostile records, the decision table, and the tree climb against
 * pebble-challtestsrv (records at the name, at a parent, none, SERVFAIL). */
#include <stdlib.h>
#include <string.h>

#include "challtestsrv.h"
#include "check.h"
#include "error.h"
#include "validate/caa.h"

#define DNS_PORT 20450
#define MGMT_PORT 20451
#define ACCT "https://ca.test/acme/acct/abc"

static const char *const ids[] = {"flint.invalid", "other-name.example"};

static struct flint_caa_request req(bool wildcard, const char *method)
{
	return (struct flint_caa_request){.identities = ids, .n_identities = 2, .wildcard = wildcard,
					  .account_url = ACCT, .method = method};
}

static void test_parse(void)
{
	static const unsigned char ok[] = {0x80, 5, 'i', 'S', 's', 'U', 'e', 'c', 'a', '.', 'o', 'r', 'g'};
	static const unsigned char empty_value[] = {0, 5, 'i', 's', 's', 'u', 'e'};
	static const unsigned char *bad[] = {
		(const unsigned char *)"\x00",                 /* no tag length */
		(const unsigned char *)"\x00\x00",             /* empty tag */
		(const unsigned char *)"\x00\x10issueissueissuei", /* 16-octet tag */
		(const unsigned char *)"\x00\x05iss",          /* truncated tag */
		(const unsigned char *)"\x00\x05is-ue",        /* not alphanumeric */
		(const unsigned char *)"\x00\x05issuea\x00b",  /* NUL in the value */
	};
	static const size_t bad_len[] = {1, 2, 18, 5, 7, 10};
	struct flint_caa_record r = {0};

	CHECK_INT(flint_caa_rdata_parse(ok, sizeof(ok), &r), 0);
	CHECK_INT(r.flags, 0x80);
	CHECK_STR(r.tag, "issue"); /* tags compare case-insensitively: stored lowercased */
	CHECK_STR(r.value, "ca.org");
	flint_caa_record_clear(&r);
	CHECK_INT(flint_caa_rdata_parse(empty_value, sizeof(empty_value), &r), 0);
	CHECK_STR(r.value, "");
	flint_caa_record_clear(&r);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (flint_caa_rdata_parse(bad[i], bad_len[i], &r) != FLINT_EINVAL) {
			fprintf(stderr, "  accepted bad record %zu\n", i);
			CHECK(false);
		}
		CHECK(r.tag == NULL);
	}
	CHECK_INT(flint_caa_rdata_parse(NULL, 3, &r), FLINT_EINVAL);
}

struct row {
	const char *what;
	struct flint_caa_record rrs[3];
	size_t n;
	bool wildcard;
	const char *method;
	bool allowed;
	const char *reason; /* a substring of the refusal */
};

#define REC(f, t, v) {(unsigned char)(f), (char *)(t), (char *)(v)}

static void test_table(void)
{
	static const struct row rows[] = {
		{"no records", {{0}}, 0, false, "http-01", true, NULL},
		{"issue for this CA", {REC(0, "issue", "flint.invalid")}, 1, false, "http-01", true, NULL},
		{"issue, other identity, case", {REC(0, "issue", "OTHER-name.example")}, 1, false, "dns-01", true, NULL},
		{"issue for another CA", {REC(0, "issue", "letsencrypt.org")}, 1, false, "http-01", false, "another CA"},
		{"one of two records", {REC(0, "issue", "letsencrypt.org"), REC(0, "issue", "flint.invalid")}, 2, false, "http-01", true, NULL},
		{"empty issuer forbids", {REC(0, "issue", ";")}, 1, false, "http-01", false, "any CA"},
		{"only iodef", {REC(0, "iodef", "mailto:x@example.com")}, 1, false, "http-01", true, NULL},
		{"unknown tag, not critical", {REC(0, "future", "x"), REC(0, "issue", "flint.invalid")}, 2, false, "http-01", true, NULL},
		{"unknown tag, critical", {REC(128, "future", "x"), REC(0, "issue", "flint.invalid")}, 2, false, "http-01", false, "critical"},
		{"known tag critical", {REC(128, "issue", "flint.invalid")}, 1, false, "http-01", true, NULL},
		{"issuewild only, plain name", {REC(0, "issuewild", "letsencrypt.org")}, 1, false, "http-01", true, NULL},
		{"issuewild only, wildcard, other CA", {REC(0, "issuewild", "letsencrypt.org")}, 1, true, "dns-01", false, "issuewild"},
		{"issuewild this CA beats issue", {REC(0, "issue", "letsencrypt.org"), REC(0, "issuewild", "flint.invalid")}, 2, true, "dns-01", true, NULL},
		{"issue applies to wildcard without issuewild", {REC(0, "issue", "letsencrypt.org")}, 1, true, "dns-01", false, "another CA"},
		{"issuewild ignored for plain names", {REC(0, "issue", "flint.invalid"), REC(0, "issuewild", ";")}, 2, false, "http-01", true, NULL},
		{"accounturi match", {REC(0, "issue", "flint.invalid; accounturi=" ACCT)}, 1, false, "http-01", true, NULL},
		{"accounturi mismatch", {REC(0, "issue", "flint.invalid; accounturi=https://ca.test/acme/acct/zzz")}, 1, false, "http-01", false, "accounturi"},
		{"accounturi twice", {REC(0, "issue", "flint.invalid; accounturi=" ACCT "; accounturi=" ACCT)}, 1, false, "http-01", false, "repeats"},
		{"validationmethods match", {REC(0, "issue", "flint.invalid; validationmethods=dns-01,http-01")}, 1, false, "http-01", true, NULL},
		{"validationmethods mismatch", {REC(0, "issue", "flint.invalid; validationmethods=dns-01")}, 1, false, "http-01", false, "validationmethods"},
		{"validationmethods prefix is no match", {REC(0, "issue", "flint.invalid; validationmethods=http-01x")}, 1, false, "http-01", false, "validationmethods"},
		{"both parameters, spaces", {REC(0, "issue", " flint.invalid ;accounturi=" ACCT " ; validationmethods=tls-alpn-01,http-01 ")}, 1, false, "http-01", true, NULL},
		{"unknown parameter ignored", {REC(0, "issue", "flint.invalid; policy=ev")}, 1, false, "http-01", true, NULL},
		{"malformed parameter", {REC(0, "issue", "flint.invalid; novalue")}, 1, false, "http-01", false, "malformed"},
		{"garbage after the domain", {REC(0, "issue", "flint.invalid garbage")}, 1, false, "http-01", false, "malformed"},
	};

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		const struct row *w = &rows[i];
		struct flint_caa_request q = req(w->wildcard, w->method);
		char *reason = NULL;
		int rc = flint_caa_evaluate(w->rrs, w->n, &q, &reason);

		if ((rc == 0) != w->allowed || (w->reason && (!reason || !strstr(reason, w->reason)))) {
			fprintf(stderr, "  %s: rc %d, reason %s\n", w->what, rc, reason ? reason : "-");
			CHECK(false);
		}
		free(reason);
	}
}

static struct flint_resolver *resolver;

static void test_tree(void)
{
	struct flint_caa_request q = req(false, "http-01");
	struct flint_problem *p = NULL;

	/* a restrictive parent applies when the leaf has no CAA */
	CHECK_INT(cts_post("/add-caa", "{\"host\":\"deny.example.\",\"policies\":[{\"tag\":\"issue\","
				       "\"value\":\"letsencrypt.org\"}]}"),
		  200);
	CHECK_INT(flint_caa_check(resolver, "www.sub.deny.example", &q, &p), FLINT_EPROTO);
	CHECK(p && p->type == FLINT_PROB_CAA && strstr(p->detail, "deny.example") &&
	      strstr(p->detail, "www.sub.deny.example"));
	flint_problem_free(p);
	p = NULL;
	/* the closest non-empty set wins: the leaf allows what the parent forbids */
	CHECK_INT(cts_post("/add-caa", "{\"host\":\"ok.deny.example.\",\"policies\":[{\"tag\":\"issue\","
				       "\"value\":\"flint.invalid\"}]}"),
		  200);
	CHECK_INT(flint_caa_check(resolver, "ok.deny.example", &q, &p), 0);
	CHECK(p == NULL);
	/* no CAA anywhere */
	CHECK_INT(flint_caa_check(resolver, "a.b.nothing.example", &q, &p), 0);
	/* a lookup failure forbids */
	CHECK_INT(cts_post("/set-servfail", "{\"host\":\"broken.example.\"}"), 200);
	CHECK(flint_caa_check(resolver, "broken.example", &q, &p) < 0);
	CHECK(p && p->type == FLINT_PROB_CAA && strstr(p->detail, "broken.example"));
	flint_problem_free(p);
}

/* Queries started ahead (every level of a check at once, more than the
 * resolver keeps): each lookup still gets its own name's answer, once. */
static void test_prefetch(void)
{
	struct flint_caa_request q = req(false, "http-01");
	struct flint_problem *p = NULL;
	char name[64];

	/* a failing level above the deciding one is never consulted */
	CHECK_INT(cts_post("/set-servfail", "{\"host\":\"broken2.example.\"}"), 200);
	CHECK_INT(cts_post("/add-caa", "{\"host\":\"leaf.broken2.example.\",\"policies\":[{\"tag\":"
				       "\"issue\",\"value\":\"flint.invalid\"}]}"),
		  200);
	CHECK_INT(flint_caa_check(resolver, "leaf.broken2.example", &q, &p), 0);
	CHECK(p == NULL);
	/* ... but one below it is */
	CHECK(flint_caa_check(resolver, "x.leaf2.broken2.example", &q, &p) < 0);
	CHECK(p && strstr(p->detail, "broken2.example"));
	flint_problem_free(p);
	p = NULL;

	/* 20 names prefetched (the resolver keeps 16): every other one has CAA */
	for (int i = 0; i < 20; i++) {
		char body[256];

		if (i % 2)
			continue;
		snprintf(body, sizeof(body),
			 "{\"host\":\"n%d.pre.example.\",\"policies\":[{\"tag\":\"issue\","
			 "\"value\":\"ca%d.invalid\"}]}",
			 i, i);
		CHECK_INT(cts_post("/add-caa", body), 200);
	}
	CHECK_INT(flint_resolver_prefetched(resolver), 0); /* the checks dropped theirs */
	for (int i = 0; i < 20; i++) {
		snprintf(name, sizeof(name), "n%d.pre.example", i);
		flint_resolver_prefetch(resolver, name, 257);
		flint_resolver_prefetch(resolver, name, 257); /* once only */
	}
	flint_resolver_prefetch(resolver, "n0.pre.example", 16); /* another type: full */
	CHECK_INT(flint_resolver_prefetched(resolver), 16);
	for (int round = 0; round < 2; round++) /* the second: fresh queries */
		for (int i = 19; i >= 0; i--) {
			struct flint_caa_record *rrs = NULL;
			size_t n = 0;
			char want[32];

			snprintf(name, sizeof(name), "n%d.pre.example", i);
			snprintf(want, sizeof(want), "ca%d.invalid", i);
			CHECK_INT(flint_resolver_caa(resolver, name, &rrs, &n, &p), 0);
			CHECK_INT(n, i % 2 ? 0 : 1);
			CHECK(n == 0 || (rrs[0].value && !strcmp(rrs[0].value, want)));
			flint_caa_records_free(rrs, n);
			CHECK_INT(flint_resolver_prefetched(resolver), round ? 0 : i > 15 ? 16 : i);
		}
	/* dropped before their answers came: nothing calls back into freed
	 * memory (ASan), and the resolver goes on */
	for (int i = 0; i < 20; i++) {
		snprintf(name, sizeof(name), "n%d.pre.example", i);
		flint_resolver_prefetch(resolver, name, 257);
	}
	CHECK_INT(flint_resolver_prefetched(resolver), 16);
	flint_resolver_prefetch_drop(resolver);
	CHECK_INT(flint_resolver_prefetched(resolver), 0);
	flint_resolver_prefetch_drop(resolver);
	CHECK_INT(flint_caa_check(resolver, "n2.pre.example", &q, &p), FLINT_EPROTO);
	flint_problem_free(p);
}

int main(void)
{
	char fwd[32];

	curl_global_init(CURL_GLOBAL_DEFAULT);
	RUN(test_parse);
	RUN(test_table);
	if (!cts_start(DNS_PORT, MGMT_PORT)) {
		fprintf(stderr, "FAIL: pebble-challtestsrv unavailable (install Debian's pebble)\n");
		curl_global_cleanup();
		return 1;
	}
	snprintf(fwd, sizeof(fwd), "127.0.0.1:%d", DNS_PORT);
	CHECK_INT(flint_resolver_new(fwd, &resolver), 0);
	if (resolver) {
		RUN(test_tree);
		RUN(test_prefetch);
	}
	flint_resolver_free(resolver);
	cts_stop();
	curl_global_cleanup();
	return CHECK_DONE();
}
