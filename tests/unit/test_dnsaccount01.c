/* Unit tests for the dns-account-01 validator (draft-ietf-acme-dns-account-label)
 * against pebble-challtestsrv as the DNS server (ports 20352-20353): the record at
 * the account's label passes (names and wildcards); the plain dns-01 name, another
 * account's label, a wrong value, SERVFAIL and an over-long name fail, naming the name. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "challtestsrv.h"
#include "check.h"
#include "error.h"
#include "keyauth.h"
#include "validate/resolver.h"
#include "validate/validator.h"

#define DNS_PORT 20352
#define MGMT_PORT 20353
#define TOKEN "LoqXcYV8q5ONbJQxbmR7SCTNo3tiAXDfowyjxAjEuX0"
#define KEYAUTH TOKEN ".9jg46WB3rR_AHD-EBXdN7cBkH1WOu0tA3M9fm21mqTI"
/* The labels below were computed independently (python3: "_" +
 * base64.b32encode(hashlib.sha256(url).digest()[:10]).lower()). */
#define ACCT "https://127.0.0.1:14000/acme/acct/1"
#define ACCT_LABEL "_yig3uqnfz3vz5kxh"
#define OTHER_ACCT "https://ca.test/acme/acct/other"
#define OTHER_LABEL "_jxekxjv2qw5cjlg5"

static struct flint_resolver *resolver;
static const struct flint_validation_config cfg = {
    .http01_port = 80, .tlsalpn01_port = 443, .allow_loopback = true, .timeout_seconds = 5};
static char *want; /* base64url(SHA-256(KEYAUTH)) */

static int run_as(const char *account_url, const char *ident, struct flint_problem **p)
{
	struct flint_validator_ctx ctx = {.cfg = &cfg, .resolver = resolver};
	struct flint_validation v = {.ident_type = "dns",
				     .ident_value = ident,
				     .token = TOKEN,
				     .key_authorization = KEYAUTH,
				     .account_url = account_url};

	*p = NULL;
	return flint_validator_dnsaccount01.validate(&ctx, &v, p);
}

static int run(const char *ident, struct flint_problem **p) { return run_as(ACCT, ident, p); }

static long set_txt(const char *host, const char *value)
{
	char json[512];

	snprintf(json, sizeof(json), "{\"host\":\"%s\",\"value\":\"%s\"}", host, value);
	return cts_post("/set-txt", json);
}

static void show(const struct flint_problem *p)
{
	if (p)
		fprintf(stderr, "  detail: %s\n", p->detail);
}

static void test_table(void)
{
	size_t i_dns01 = 0, i_acct = 0;

	CHECK(flint_validator_find("dns-account-01") == &flint_validator_dnsaccount01);
	CHECK_STR(flint_validator_dnsaccount01.type, "dns-account-01");
	for (size_t i = 0; flint_validators[i]; i++) {
		if (flint_validators[i] == &flint_validator_dns01)
			i_dns01 = i + 1;
		if (flint_validators[i] == &flint_validator_dnsaccount01)
			i_acct = i + 1;
	}
	/* offered, and after dns-01 */
	CHECK(i_dns01 > 0 && i_acct > i_dns01);
	CHECK(flint_validator_dnsaccount01.applies("dns", false));
	CHECK(flint_validator_dnsaccount01.applies("dns", true));
	CHECK(!flint_validator_dnsaccount01.applies("ip", false));
	CHECK(!flint_validator_dnsaccount01.applies(NULL, false));
}

static void test_match(void)
{
	struct flint_problem *p;

	CHECK_INT(set_txt(ACCT_LABEL "._acme-challenge.match.example.", "some-other-value"), 200);
	CHECK_INT(set_txt(ACCT_LABEL "._acme-challenge.match.example.", want), 200);
	CHECK_INT(run("match.example", &p), 0);
	CHECK(p == NULL);
	show(p);
	flint_problem_free(p);
	/* the same name under another account's URL fails: the label is per account */
	CHECK(run_as(OTHER_ACCT, "match.example", &p) < 0);
	CHECK(p && p->type == FLINT_PROB_UNAUTHORIZED);
	CHECK(p && strstr(p->detail, OTHER_LABEL "._acme-challenge.match.example"));
	flint_problem_free(p);
}

/* The wildcard's authorization carries the base name (no "*."): the label sits under it. */
static void test_wildcard(void)
{
	struct flint_problem *p;

	CHECK_INT(set_txt(ACCT_LABEL "._acme-challenge.wild.example.", want), 200);
	CHECK_INT(run("wild.example", &p), 0);
	CHECK(p == NULL);
	show(p);
	flint_problem_free(p);
}

/* A record at the dns-01 name only, or under another account's label, does not count. */
static void test_wrong_name(void)
{
	struct flint_problem *p;

	CHECK_INT(set_txt("_acme-challenge.plain.example.", want), 200);
	CHECK(run("plain.example", &p) < 0);
	CHECK(p && p->type == FLINT_PROB_UNAUTHORIZED);
	CHECK_STR(p ? p->detail : NULL,
		  "No TXT record found at " ACCT_LABEL "._acme-challenge.plain.example (the "
		  "dns-account-01 name of account " ACCT ")");
	show(p);
	flint_problem_free(p);

	CHECK_INT(set_txt(OTHER_LABEL "._acme-challenge.other.example.", want), 200);
	CHECK(run("other.example", &p) < 0);
	CHECK(p && p->type == FLINT_PROB_UNAUTHORIZED);
	CHECK(p && strstr(p->detail, ACCT_LABEL "._acme-challenge.other.example"));
	CHECK(p && strstr(p->detail, ACCT));
	CHECK(p && !strstr(p->detail, OTHER_LABEL));
	show(p);
	flint_problem_free(p);
	/* ... while that account itself passes */
	CHECK_INT(run_as(OTHER_ACCT, "other.example", &p), 0);
	flint_problem_free(p);
}

static void test_mismatch(void)
{
	struct flint_problem *p;

	CHECK_INT(set_txt(ACCT_LABEL "._acme-challenge.mismatch.example.", "wrong-digest"), 200);
	CHECK(run("mismatch.example", &p) < 0);
	CHECK(p && p->type == FLINT_PROB_INCORRECT_RESPONSE);
	CHECK(p && strstr(p->detail, "\"wrong-digest\""));
	CHECK(p && strstr(p->detail, ACCT_LABEL "._acme-challenge.mismatch.example"));
	show(p);
	flint_problem_free(p);
}

static void test_servfail(void)
{
	struct flint_problem *p;

	CHECK_INT(cts_post("/set-servfail",
			   "{\"host\":\"" ACCT_LABEL "._acme-challenge.broken.example.\"}"),
		  200);
	CHECK_INT(run("broken.example", &p), FLINT_EIO);
	CHECK(p && p->type == FLINT_PROB_DNS);
	show(p);
	flint_problem_free(p);
}

static void test_hostile(void)
{
	struct flint_problem *p;
	char longname[240];

	/* no account URL: the worker failed to build it */
	CHECK_INT(run_as(NULL, "x.example", &p), FLINT_EINVAL);
	CHECK(p && p->type == FLINT_PROB_SERVER_INTERNAL);
	flint_problem_free(p);
	CHECK_INT(run_as("", "x.example", &p), FLINT_EINVAL);
	CHECK(p && p->type == FLINT_PROB_SERVER_INTERNAL);
	flint_problem_free(p);
	/* a valid 229-octet identifier: its validation name would be 263 octets */
	memset(longname, 'a', sizeof(longname));
	for (size_t i = 60; i < 229; i += 61)
		longname[i] = '.';
	memcpy(longname + 221, ".example", 9);
	CHECK_INT(strlen(longname), 229);
	CHECK_INT(run(longname, &p), FLINT_ETOOBIG);
	CHECK(p && p->type == FLINT_PROB_REJECTED_IDENTIFIER);
	CHECK(p && strstr(p->detail, "253"));
	show(p);
	flint_problem_free(p);
	{
		struct flint_validator_ctx ctx = {.cfg = &cfg, .resolver = NULL};
		struct flint_validation v = {.ident_type = "dns",
					     .ident_value = "x.example",
					     .key_authorization = KEYAUTH,
					     .account_url = ACCT};

		p = NULL;
		CHECK(flint_validator_dnsaccount01.validate(&ctx, &v, &p) < 0);
		CHECK(p && p->type == FLINT_PROB_SERVER_INTERNAL);
		flint_problem_free(p);
	}
}

int main(void)
{
	char fwd[32];

	curl_global_init(CURL_GLOBAL_DEFAULT);
	CHECK_INT(flint_keyauth_digest_b64(KEYAUTH, &want), 0);
	RUN(test_table);
	if (!cts_start(DNS_PORT, MGMT_PORT)) {
		/* a missing test peer is a failure, never a silent pass */
		fprintf(stderr,
			"FAIL: pebble-challtestsrv unavailable (install Debian's pebble)\n");
		free(want);
		curl_global_cleanup();
		return 1;
	}
	snprintf(fwd, sizeof(fwd), "127.0.0.1:%d", DNS_PORT);
	CHECK_INT(flint_resolver_new(fwd, &resolver), 0);
	if (resolver) {
		RUN(test_match);
		RUN(test_wildcard);
		RUN(test_wrong_name);
		RUN(test_mismatch);
		RUN(test_servfail);
		RUN(test_hostile);
	}
	flint_resolver_free(resolver);
	cts_stop();
	free(want);
	curl_global_cleanup();
	return CHECK_DONE();
}
