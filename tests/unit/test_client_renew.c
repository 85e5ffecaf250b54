/* Unit tests for the client's renewal timing (renew.c): 2/3 of the lifetime,
 * 1/2 for lifetimes of 10 days or less, the boundaries, and nonsense dates. */
#include <stdint.h>

#include "check.h"
#include "renew.h"

#define DAY 86400LL

static const struct {
	const char *what;
	int64_t not_before, lifetime, due_offset;
} cases[] = {
	{"90 days: due at day 60", 1700000000, 90 * DAY, 60 * DAY},
	{"30 days: due at day 20", 1700000000, 30 * DAY, 20 * DAY},
	{"a year", 0, 365 * DAY, 365 * DAY / 3 * 2 + (365 * DAY % 3) * 2 / 3},
	{"10 days is short: half", 1700000000, 10 * DAY, 5 * DAY},
	{"10 days + 1 s is long: 2/3", 1700000000, 10 * DAY + 1, (10 * DAY + 1) * 2 / 3},
	{"7 days: 3.5 days", 1700000000, 7 * DAY, 7 * DAY / 2},
	{"6 hours: 3 hours", 1700000000, 6 * 3600, 3 * 3600},
	{"1 second: due at once (0)", 1700000000, 1, 0},
	{"3 seconds: 1 (half, rounded down)", 1700000000, 3, 1},
	{"zero lifetime: due at notBefore", 1700000000, 0, 0},
	{"negative lifetime: due at notBefore", 1700000000, -DAY, 0},
};

static void test_renew_time(void)
{
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int64_t nb = cases[i].not_before, na = nb + cases[i].lifetime;
		int64_t want = nb + cases[i].due_offset;

		if (flint_renew_time(nb, na) != want)
			fprintf(stderr, "case: %s\n", cases[i].what);
		CHECK_INT(flint_renew_time(nb, na), want);
	}
}

/* Due exactly at the renewal time, not one second before. */
static void test_due_boundaries(void)
{
	int64_t nb = 1700000000, na90 = nb + 90 * DAY, na6 = nb + 6 * DAY;

	CHECK(!flint_renew_due(nb, na90, nb));
	CHECK(!flint_renew_due(nb, na90, nb + 60 * DAY - 1));
	CHECK(flint_renew_due(nb, na90, nb + 60 * DAY));
	CHECK(flint_renew_due(nb, na90, na90));
	CHECK(flint_renew_due(nb, na90, na90 + DAY)); /* expired: certainly due */
	CHECK(!flint_renew_due(nb, na6, nb + 3 * DAY - 1));
	CHECK(flint_renew_due(nb, na6, nb + 3 * DAY));
	/* before notBefore (clock skew): not due */
	CHECK(!flint_renew_due(nb, na90, nb - DAY));
}

/* Far-future dates must not overflow. */
static void test_extremes(void)
{
	int64_t nb = 0, na = 253402300799LL; /* 9999-12-31T23:59:59Z */
	int64_t t = flint_renew_time(nb, na);

	CHECK(t > nb && t < na);
	CHECK_INT(t, na / 3 * 2 + (na % 3) * 2 / 3);
	CHECK_INT(flint_renew_time(INT64_MAX - 10, INT64_MAX), INT64_MAX - 5);
}

int main(void)
{
	RUN(test_renew_time);
	RUN(test_due_boundaries);
	RUN(test_extremes);
	return CHECK_DONE();
}
