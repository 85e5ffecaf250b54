/* Unit tests for the rate-limit settings and keys (ratelimit.c): the
 * COUNT/DURATION syntax with hostile values, Retry-After, registered domains
 * from the public suffix list, the keys of an order, identifier-set equality. */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "error.h"
#include "identifier.h"
#include "ratelimit.h"

static void test_parse(void)
{
	static const struct {
		const char *spec;
		int limit;
		int64_t window;
	} ok[] = {
		{"300/3h", 300, 10800}, {"50/7d", 50, 604800}, {"5/1h", 5, 3600},
		{"10/30m", 10, 1800},   {"1/90s", 1, 90},      {"off", 0, 0},
		{"0", 0, 0},            {"1000000/366d", 1000000, 366 * 86400},
	};
	static const char *const bad[] = {
		"", "/", "3h", "300", "300/", "300/h", "300/3", "300/3x", "-1/3h", "0/3h", "300/0h",
		"300/-3h", "300/3hh", " 300/3h", "300 /3h", "1000001/1h", "1/367d", "1/9999999999999d",
		"99999999999999999999/1h", "off ", "OFF",
	};
	struct flint_rate r;
	char *err = NULL;

	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		r = (struct flint_rate){-1, -1};
		CHECK_INT(flint_rate_parse(ok[i].spec, &r, &err), 0);
		CHECK_INT(r.limit, ok[i].limit);
		CHECK_INT(r.window, ok[i].window);
		CHECK(err == NULL);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (flint_rate_parse(bad[i], &r, &err) != FLINT_EINVAL) {
			fprintf(stderr, "  accepted \"%s\"\n", bad[i]);
			CHECK(false);
		}
		CHECK(err && strstr(err, "COUNT/DURATION"));
		free(err);
		err = NULL;
	}
	CHECK_INT(flint_rate_parse(NULL, &r, NULL), FLINT_EINVAL);
}

static void test_exceeded_retry(void)
{
	struct flint_rate r = {3, 3600}, off = {0, 0};

	CHECK(!flint_rate_exceeded(&r, 2));
	CHECK(flint_rate_exceeded(&r, 3));
	CHECK(flint_rate_exceeded(&r, 4));
	CHECK(!flint_rate_exceeded(&off, 1000000));
	/* the oldest counted event leaves the window */
	CHECK_INT(flint_rate_retry_after(&r, 1000, 1000 + 600), 3000);
	CHECK_INT(flint_rate_retry_after(&r, 1000, 1000 + 3600), 1); /* at least 1 */
	CHECK_INT(flint_rate_retry_after(&r, 0, 5000), 1);
	CHECK_INT(flint_rate_retry_after(&r, 9000, 1000), 3600); /* never beyond the window */
}

static void test_registered_domain(void)
{
	static const char *const cases[][2] = {
		{"www.example.com", "example.com"},
		{"a.b.example.com", "example.com"},
		{"example.com", "example.com"},
		{"a.b.example.co.uk", "example.co.uk"},
		{"com", "com"},           /* a public suffix counts as itself */
		{"co.uk", "co.uk"},
		{"a.rl.example", "rl.example"}, /* unknown TLD: the "*" rule */
	};
	char *d = NULL;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		CHECK_INT(flint_registered_domain(cases[i][0], &d), 0);
		if (!d || strcmp(d, cases[i][1]) != 0)
			fprintf(stderr, "  %s -> %s, want %s\n", cases[i][0], d ? d : "-", cases[i][1]);
		CHECK(d && !strcmp(d, cases[i][1]));
		free(d);
		d = NULL;
	}
	CHECK_INT(flint_registered_domain("", &d), FLINT_EINVAL);
	CHECK_INT(flint_registered_domain(NULL, &d), FLINT_EINVAL);
}

static void test_domains_of_order(void)
{
	struct flint_identifier ids[] = {
		{"dns", "a.example.com"}, {"dns", "*.example.com"}, {"dns", "b.example.org"},
		{"ip", "192.0.2.1"},       {"dns", "x.example.org"},
	};
	char **v = NULL;
	size_t n = 0;

	CHECK_INT(flint_rate_domains(ids, 5, &v, &n), 0);
	CHECK_INT(n, 3);
	if (v && n == 3) {
		CHECK_STR(v[0], "example.com");
		CHECK_STR(v[1], "example.org");
		CHECK_STR(v[2], "192.0.2.1");
	}
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

static void test_same_identifiers(void)
{
	const char *a = "[{\"type\":\"dns\",\"value\":\"a.test\"},{\"type\":\"ip\",\"value\":\"::1\"}]";
	const char *b = "[{\"type\":\"ip\",\"value\":\"::1\"},{\"type\":\"dns\",\"value\":\"a.test\"}]";
	const char *c = "[{\"type\":\"dns\",\"value\":\"a.test\"}]";
	const char *d = "[{\"type\":\"dns\",\"value\":\"::1\"},{\"type\":\"dns\",\"value\":\"a.test\"}]";

	CHECK(flint_same_identifiers(a, b));
	CHECK(!flint_same_identifiers(a, c)); /* a subset is not the same set */
	CHECK(!flint_same_identifiers(c, a));
	CHECK(!flint_same_identifiers(a, d)); /* types count */
	CHECK(!flint_same_identifiers("[]", "[]"));
	CHECK(!flint_same_identifiers("not json", a));
	CHECK(!flint_same_identifiers(NULL, a));
}

int main(void)
{
	RUN(test_parse);
	RUN(test_exceeded_retry);
	RUN(test_registered_domain);
	RUN(test_domains_of_order);
	RUN(test_same_identifiers);
	return CHECK_DONE();
}
