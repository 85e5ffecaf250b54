/* Tests CA policy: derived authorization and order statuses (RFC 8555
 * §7.1.6), contact rules (§7.3), newOrder identifiers and revocation reasons. */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "policy.h"

static void test_authz_status(void)
{
	struct flint_authz a = {.status = "pending", .expires = 100};
	CHECK_STR(flint_policy_authz_status(&a, 99), "pending");
	CHECK_STR(flint_policy_authz_status(&a, 100), "expired");
	a.status = "valid";
	CHECK_STR(flint_policy_authz_status(&a, 50), "valid");
	CHECK_STR(flint_policy_authz_status(&a, 150), "expired");
	a.status = "invalid";
	CHECK_STR(flint_policy_authz_status(&a, 150), "invalid");
	a.status = "deactivated";
	CHECK_STR(flint_policy_authz_status(&a, 50), "deactivated");
}

static void test_order_status(void)
{
	struct flint_authz a1 = {.status = "valid", .expires = 1000};
	struct flint_authz a2 = {.status = "pending", .expires = 1000};
	struct flint_authz *list[] = {&a1, &a2};
	struct flint_order o = {.status = "pending", .expires = 500};
	CHECK_STR(flint_policy_order_status(&o, list, 2, 10), "pending");
	a2.status = "valid";
	CHECK_STR(flint_policy_order_status(&o, list, 2, 10), "ready");
	CHECK_STR(flint_policy_order_status(&o, list, 2, 500), "invalid"); /* order expired */
	a2.status = "invalid";
	CHECK_STR(flint_policy_order_status(&o, list, 2, 10), "invalid");
	a2.status = "deactivated";
	CHECK_STR(flint_policy_order_status(&o, list, 2, 10), "invalid");
	a2.status = "valid";
	a2.expires = 5;
	CHECK_STR(flint_policy_order_status(&o, list, 2, 10), "invalid"); /* authz expired */
	o.status = "processing";
	CHECK_STR(flint_policy_order_status(&o, list, 2, 10), "processing");
	o.status = "valid";
	CHECK_STR(flint_policy_order_status(&o, list, 2, 10000), "valid");

	/* which statuses need the authorizations read at all; those that do not
	 * come out the same without them */
	o.status = "pending";
	CHECK(flint_policy_order_status_needs_authzs(&o, 10));
	CHECK(!flint_policy_order_status_needs_authzs(&o, 500)); /* expired */
	CHECK_STR(flint_policy_order_status(&o, NULL, 0, 500), "invalid");
	o.status = "ready";
	CHECK(flint_policy_order_status_needs_authzs(&o, 10));
	char *settled[] = {"processing", "valid", "invalid"};
	for (size_t i = 0; i < 3; i++) {
		o.status = settled[i];
		CHECK(!flint_policy_order_status_needs_authzs(&o, 10));
		CHECK(!flint_policy_order_status_needs_authzs(&o, 10000));
		CHECK_STR(flint_policy_order_status(&o, NULL, 0, 10), settled[i]);
		CHECK_STR(flint_policy_order_status(&o, NULL, 0, 10), flint_policy_order_status(&o, list, 2, 10));
	}
}

static int contacts(const char *json, enum flint_problem_type *ret)
{
	json_t *doc = json_loads(json, 0, NULL);
	struct flint_problem *p = NULL;
	int rc = flint_policy_check_contacts(doc, &p);
	if (p)
		*ret = p->type;
	flint_problem_free(p);
	json_decref(doc);
	return rc;
}

static void test_contacts(void)
{
	enum flint_problem_type t = FLINT_PROB__COUNT;
	CHECK_INT(contacts("[]", &t), 0);
	CHECK_INT(contacts("[\"mailto:admin@example.com\"]", &t), 0);
	CHECK_INT(contacts("[\"mailto:a.b+c@sub.example.org\", \"mailto:x@example.net\"]", &t), 0);
	static const struct {
		const char *json;
		enum flint_problem_type type;
	} bad[] = {
		{"\"mailto:a@example.com\"", FLINT_PROB_MALFORMED},
		{"[1]", FLINT_PROB_MALFORMED},
		{"[\"tel:+15551234\"]", FLINT_PROB_UNSUPPORTED_CONTACT},
		{"[\"https://example.com\"]", FLINT_PROB_UNSUPPORTED_CONTACT},
		{"[\"MAILTO:a@example.com\"]", FLINT_PROB_UNSUPPORTED_CONTACT},
		{"[\"mailto:not-an-email\"]", FLINT_PROB_INVALID_CONTACT},
		{"[\"mailto:@example.com\"]", FLINT_PROB_INVALID_CONTACT},
		{"[\"mailto:a@example.com?subject=hi\"]", FLINT_PROB_INVALID_CONTACT},
		{"[\"mailto:a@example.com,b@example.com\"]", FLINT_PROB_INVALID_CONTACT},
		{"[\"mailto:a..b@example.com\"]", FLINT_PROB_INVALID_CONTACT},
		{"[\"mailto:a@localhost\"]", FLINT_PROB_INVALID_CONTACT},
		{"[\"mailto:a@ex ample.com\"]", FLINT_PROB_INVALID_CONTACT},
		{"[\"mailto:a@*.example.com\"]", FLINT_PROB_INVALID_CONTACT},
		/* jansson refuses NUL in strings: such a payload never parses */
		{"[\"mailto:a\\u0000@example.com\"]", FLINT_PROB_MALFORMED},
		{"[\"mailto:a@1.a\",\"mailto:a@2.a\",\"mailto:a@3.a\",\"mailto:a@4.a\",\"mailto:a@5.a\","
		 "\"mailto:a@6.a\",\"mailto:a@7.a\",\"mailto:a@8.a\",\"mailto:a@9.a\",\"mailto:a@10.a\","
		 "\"mailto:a@11.a\"]",
		 FLINT_PROB_INVALID_CONTACT},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		t = FLINT_PROB__COUNT;
		int rc = contacts(bad[i].json, &t);
		if (rc == 0 || t != bad[i].type)
			fprintf(stderr, "contact case %zu (%s): rc %d type %d\n", i, bad[i].json, rc, t);
		CHECK(rc < 0);
		CHECK_INT(t, bad[i].type);
	}
}

static int order_ids(const char *json, size_t *ret_n, struct flint_problem **ret_p)
{
	json_t *doc = json_loads(json, 0, NULL);
	struct flint_identifier *ids = NULL;
	size_t n = 0;
	int rc = flint_policy_order_identifiers(doc, &ids, &n, ret_p);
	for (size_t i = 0; rc == 0 && i < n; i++)
		flint_identifier_clear(&ids[i]);
	free(ids);
	*ret_n = n;
	json_decref(doc);
	return rc;
}

static void test_order_identifiers(void)
{
	size_t n = 0;
	struct flint_problem *p = NULL;
	CHECK_INT(order_ids("[{\"type\":\"dns\",\"value\":\"Example.COM\"},"
			    "{\"type\":\"dns\",\"value\":\"example.com\"},"
			    "{\"type\":\"dns\",\"value\":\"*.example.com\"}]",
			    &n, &p),
		  0);
	CHECK_INT(n, 2); /* case-insensitive duplicate removed, wildcard kept */

	CHECK(order_ids("[]", &n, &p) < 0);
	CHECK(p && p->type == FLINT_PROB_MALFORMED);
	flint_problem_free(p);
	p = NULL;
	CHECK(order_ids("{}", &n, &p) < 0);
	flint_problem_free(p);
	p = NULL;

	CHECK(order_ids("[{\"type\":\"dns\",\"value\":\"bad_name!.com\"}]", &n, &p) < 0);
	CHECK(p && p->type == FLINT_PROB_REJECTED_IDENTIFIER);
	CHECK(p && p->n_sub == 1 && p->sub[0].ident_value &&
	      !strcmp(p->sub[0].ident_value, "bad_name!.com"));
	flint_problem_free(p);
	p = NULL;

	CHECK(order_ids("[{\"type\":\"dns\",\"value\":\"-x.com\"},{\"type\":\"carrier-pigeon\","
			"\"value\":\"coo\"}]",
			&n, &p) < 0);
	CHECK(p && p->type == FLINT_PROB_COMPOUND && p->n_sub == 2);
	flint_problem_free(p);
	p = NULL;

	char big[128 * 101 + 16];
	size_t off = (size_t)snprintf(big, sizeof(big), "[");
	for (int i = 0; i < 101; i++)
		off += (size_t)snprintf(big + off, sizeof(big) - off, "%s{\"type\":\"dns\",\"value\":\"h%d.example.com\"}",
					i ? "," : "", i);
	snprintf(big + off, sizeof(big) - off, "]");
	CHECK(order_ids(big, &n, &p) < 0);
	CHECK(p && p->type == FLINT_PROB_REJECTED_IDENTIFIER);
	flint_problem_free(p);
}

static void test_revocation_reasons(void)
{
	static const int ok[] = {0, 1, 2, 3, 4, 5, 9, 10};
	static const int bad[] = {-1, 6, 7, 8, 11, 255, 1 << 20};
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
		CHECK(flint_policy_revocation_reason_ok(ok[i]));
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CHECK(!flint_policy_revocation_reason_ok(bad[i]));
}

int main(void)
{
	RUN(test_authz_status);
	RUN(test_order_status);
	RUN(test_contacts);
	RUN(test_order_identifiers);
	RUN(test_revocation_reasons);
	return CHECK_DONE();
}
