/* Unit tests for the dns-01 validator (RFC 8555 §8.4) against pebble-challtestsrv
 * as the DNS server (ports 20050-20059): match, mismatch, missing, CNAME, SERVFAIL. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "challtestsrv.h"
#include "check.h"
#include "error.h"
#include "keyauth.h"
#include "validate/resolver.h"
#include "validate/validator.h"

#define DNS_PORT 20052
#define MGMT_PORT 20053
#define KEYAUTH "LoqXcYV8q5ONbJQxbmR7SCTNo3tiAXDfowyjxAjEuX0.9jg46WB3rR_AHD-EBXdN7cBkH1WOu0tA3M9fm21mqTI"

static struct flint_resolver *resolver;
static const struct flint_validation_config cfg = {
	.http01_port = 80, .tlsalpn01_port = 443, .allow_loopback = true, .timeout_seconds = 5};

static int run(const char *ident, struct flint_problem **p)
{
	struct flint_validator_ctx ctx = {.cfg = &cfg, .resolver = resolver};
	struct flint_validation v = {.ident_type = "dns",
				     .ident_value = ident,
				     .token = "LoqXcYV8q5ONbJQxbmR7SCTNo3tiAXDfowyjxAjEuX0",
				     .key_authorization = KEYAUTH,
				     .account_url = "https://ca.test/acct/1"};

	*p = NULL;
	return flint_validator_dns01.validate(&ctx, &v, p);
}

static long set_txt(const char *host, const char *value)
{
	char json[512];

	snprintf(json, sizeof(json), "{\"host\":\"%s\",\"value\":\"%s\"}", host, value);
	return cts_post("/set-txt", json);
}

static void test_table(void)
{
	CHECK(flint_validator_find("dns-01") == &flint_validator_dns01);
	CHECK(flint_validator_find("http-01") == &flint_validator_http01);
	CHECK(flint_validator_find("tls-alpn-01") == &flint_validator_tlsalpn01);
	CHECK(flint_validator_find("dns-account-01") == &flint_validator_dnsaccount01);
	CHECK(flint_validator_find("no-such-01") == NULL);
	CHECK(flint_validator_find(NULL) == NULL);
	CHECK(flint_validators[0] == &flint_validator_http01);
	CHECK(flint_validator_dns01.applies("dns", false));
	CHECK(flint_validator_dns01.applies("dns", true));
	CHECK(!flint_validator_dns01.applies("ip", false));
	CHECK(flint_validator_http01.applies("dns", false));
	CHECK(!flint_validator_http01.applies("dns", true));
}

static void test_match(void)
{
	struct flint_problem *p;
	char *want = NULL;

	CHECK_INT(flint_keyauth_digest_b64(KEYAUTH, &want), 0);
	CHECK_INT(set_txt("_acme-challenge.match.example.", "some-other-value"), 200);
	CHECK_INT(set_txt("_acme-challenge.match.example.", want), 200);
	CHECK_INT(run("match.example", &p), 0);
	CHECK(p == NULL);
	flint_problem_free(p);
	p = NULL;
	/* RFC 6761 .test names come from the test forwarder too */
	CHECK_INT(set_txt("_acme-challenge.match.example.test.", want), 200);
	CHECK_INT(run("match.example.test", &p), 0);
	CHECK(p == NULL);
	flint_problem_free(p);
	free(want);
}

static void test_mismatch(void)
{
	struct flint_problem *p;

	CHECK_INT(set_txt("_acme-challenge.mismatch.example.", "wrong-digest"), 200);
	CHECK(run("mismatch.example", &p) < 0);
	CHECK(p && p->type == FLINT_PROB_INCORRECT_RESPONSE);
	CHECK(p && strstr(p->detail, "\"wrong-digest\""));
	CHECK(p && strstr(p->detail, "_acme-challenge.mismatch.example"));
	flint_problem_free(p);

	/* Many records: at most three shown. */
	for (int i = 0; i < 5; i++) {
		char v[32];
		snprintf(v, sizeof(v), "value-%d", i);
		CHECK_INT(set_txt("_acme-challenge.many.example.", v), 200);
	}
	CHECK(run("many.example", &p) < 0);
	CHECK(p && p->type == FLINT_PROB_INCORRECT_RESPONSE);
	CHECK(p && strstr(p->detail, "(and 2 more)"));
	if (p)
		fprintf(stderr, "  detail: %s\n", p->detail);
	flint_problem_free(p);

	/* A long record is truncated in the detail. */
	{
		char big[201];
		memset(big, 'z', 200);
		big[200] = '\0';
		CHECK_INT(set_txt("_acme-challenge.long.example.", big), 200);
		CHECK(run("long.example", &p) < 0);
		CHECK(p && p->type == FLINT_PROB_INCORRECT_RESPONSE);
		CHECK(p && strlen(p->detail) < 160);
		CHECK(p && strstr(p->detail, "...\""));
		flint_problem_free(p);
	}
}

static void test_missing(void)
{
	struct flint_problem *p;

	CHECK(run("missing.example", &p) < 0);
	CHECK(p && p->type == FLINT_PROB_UNAUTHORIZED);
	CHECK_STR(p ? p->detail : NULL, "No TXT record found at _acme-challenge.missing.example");
	flint_problem_free(p);

	/* Cleared records are gone (no caching in the resolver). */
	CHECK_INT(set_txt("_acme-challenge.cleared.example.", "x"), 200);
	CHECK(run("cleared.example", &p) < 0);
	CHECK(p && p->type == FLINT_PROB_INCORRECT_RESPONSE);
	flint_problem_free(p);
	CHECK_INT(cts_post("/clear-txt", "{\"host\":\"_acme-challenge.cleared.example.\"}"), 200);
	CHECK(run("cleared.example", &p) < 0);
	CHECK(p && p->type == FLINT_PROB_UNAUTHORIZED);
	flint_problem_free(p);
}

static void test_cname(void)
{
	struct flint_problem *p;
	char *want = NULL;

	CHECK_INT(flint_keyauth_digest_b64(KEYAUTH, &want), 0);
	CHECK_INT(set_txt("_acme-challenge.target.example.", want), 200);
	CHECK_INT(cts_post("/set-cname", "{\"host\":\"_acme-challenge.alias.example.\","
					 "\"target\":\"_acme-challenge.target.example.\"}"),
		  200);
	CHECK_INT(run("alias.example", &p), 0);
	if (p)
		fprintf(stderr, "  detail: %s\n", p->detail);
	flint_problem_free(p);
	free(want);
}

static void test_servfail(void)
{
	struct flint_problem *p;

	CHECK_INT(cts_post("/set-servfail", "{\"host\":\"_acme-challenge.broken.example.\"}"), 200);
	CHECK_INT(run("broken.example", &p), FLINT_EIO);
	CHECK(p && p->type == FLINT_PROB_DNS);
	if (p)
		fprintf(stderr, "  detail: %s\n", p->detail);
	flint_problem_free(p);
}

int main(void)
{
	char fwd[32];

	curl_global_init(CURL_GLOBAL_DEFAULT);
	RUN(test_table);
	if (!cts_start(DNS_PORT, MGMT_PORT)) {
		/* a missing test peer is a failure, never a silent pass */
		fprintf(stderr, "FAIL: pebble-challtestsrv unavailable (install Debian's pebble)\n");
		curl_global_cleanup();
		return 1;
	}
	snprintf(fwd, sizeof(fwd), "127.0.0.1:%d", DNS_PORT);
	CHECK_INT(flint_resolver_new(fwd, &resolver), 0);
	if (resolver) {
		RUN(test_match);
		RUN(test_mismatch);
		RUN(test_missing);
		RUN(test_cname);
		RUN(test_servfail);
	}
	flint_resolver_free(resolver);
	cts_stop();
	curl_global_cleanup();
	return CHECK_DONE();
}
