/* Unit tests for the client's renewal timing (renew.c): 2/3 of the lifetime,
 * 1/2 for lifetimes of 10 days or less, the boundaries, and nonsense dates. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "error.h"
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

/* ---- RFC 9773 renewalInfo: window, random time, Retry-After, fallbacks */

#define NOW 1750000000LL
#define WIN(s, e) "{\"suggestedWindow\":{\"start\":\"" s "\",\"end\":\"" e "\"}}"
/* 2025-06-15T15:06:40Z is NOW */

static int update(struct flint_ari_state *s, long status, const char *body, long retry_after,
		  int64_t now, uint64_t rnd)
{
	char *err = NULL;
	int r = flint_ari_update(s, status, body, body ? strlen(body) : 0, retry_after, now, rnd,
				 &err);

	CHECK((r == 0) == (err == NULL));
	free(err);
	return r;
}

static void test_ari_future_window(void)
{
	struct flint_ari_state s = {0};
	struct flint_renew_decision d;
	int64_t start = NOW + DAY, end = NOW + 2 * DAY;

	CHECK(flint_ari_should_fetch(&s, NOW));
	CHECK_INT(update(&s, 200,
			 "{\"suggestedWindow\":{\"start\":\"2025-06-16T15:06:40Z\","
			 "\"end\":\"2025-06-17T15:06:40Z\"},\"explanationURL\":\"https://ca.test/x\"}",
			 3600, NOW, 12345),
		  0);
	CHECK_INT(s.start, start);
	CHECK_INT(s.end, end);
	CHECK_INT(s.chosen, start + 12345);
	CHECK_STR(s.explanation_url, "https://ca.test/x");
	CHECK_INT(s.next_check, NOW + 3600);
	/* a lifetime long over: the window decides, not the 2/3 rule */
	flint_renew_decide(NOW - 80 * DAY, NOW + 10 * DAY, &s, NOW, &d);
	CHECK(!d.due && d.by_ari);
	CHECK_INT(d.when, start + 12345);
	flint_renew_decide(NOW - 80 * DAY, NOW + 10 * DAY, &s, start + 12344, &d);
	CHECK(!d.due);
	flint_renew_decide(NOW - 80 * DAY, NOW + 10 * DAY, &s, start + 12345, &d);
	CHECK(d.due && d.by_ari);
	/* the random value lands inside [start, end) whatever it is */
	flint_ari_state_clear(&s);
	CHECK_INT(update(&s, 200, WIN("2025-06-16T15:06:40Z", "2025-06-17T15:06:40Z"), -1, NOW,
			 UINT64_MAX),
		  0);
	CHECK(s.chosen >= start && s.chosen < end);
	CHECK_INT(s.next_check, NOW + FLINT_ARI_RETRY_ERROR); /* no Retry-After */
	flint_ari_state_clear(&s);
}

static void test_ari_past_and_now(void)
{
	struct flint_ari_state s = {0};
	struct flint_renew_decision d;

	/* a window in the past (say, a mass revocation): due now, even young */
	CHECK_INT(update(&s, 200, WIN("2025-06-01T00:00:00Z", "2025-06-02T00:00:00Z"), 600, NOW, 7),
		  0);
	flint_renew_decide(NOW - DAY, NOW + 89 * DAY, &s, NOW, &d);
	CHECK(d.due && d.by_ari);
	/* a window containing now with a time chosen at its start: due */
	flint_ari_state_clear(&s);
	CHECK_INT(update(&s, 200, WIN("2025-06-15T15:06:40Z", "2025-06-15T15:06:41Z"), 600, NOW, 0),
		  0);
	CHECK_INT(s.chosen, NOW);
	flint_renew_decide(NOW - DAY, NOW + 89 * DAY, &s, NOW, &d);
	CHECK(d.due && d.by_ari);
	flint_ari_state_clear(&s);
}

static void test_ari_retry_after(void)
{
	struct flint_ari_state s = {0};

	CHECK_INT(update(&s, 200, WIN("2025-07-01T00:00:00Z", "2025-07-02T00:00:00Z"), 7200, NOW, 1),
		  0);
	CHECK(!flint_ari_should_fetch(&s, NOW));
	CHECK(!flint_ari_should_fetch(&s, NOW + 7199));
	CHECK(flint_ari_should_fetch(&s, NOW + 7200));
	/* clamped to 1 min ... 1 day */
	update(&s, 200, WIN("2025-07-01T00:00:00Z", "2025-07-02T00:00:00Z"), 1, NOW, 1);
	CHECK_INT(s.next_check, NOW + FLINT_ARI_RETRY_MIN);
	update(&s, 200, WIN("2025-07-01T00:00:00Z", "2025-07-02T00:00:00Z"), 90 * DAY, NOW, 1);
	CHECK_INT(s.next_check, NOW + FLINT_ARI_RETRY_MAX);
	/* transient failures keep the known window */
	CHECK_INT(update(&s, 503, "", -1, NOW, 1), FLINT_EPROTO);
	CHECK_INT(s.next_check, NOW + FLINT_ARI_RETRY_TRANSIENT);
	CHECK(s.end > s.start);
	CHECK_INT(update(&s, 0, NULL, -1, NOW, 1), FLINT_EPROTO); /* no reply */
	CHECK(s.end > s.start);
	CHECK_INT(update(&s, 404, "{}", 60, NOW, 1), FLINT_EPROTO);
	CHECK_INT(s.next_check, NOW + FLINT_ARI_RETRY_ERROR);
	CHECK(flint_ari_should_fetch(NULL, NOW));
	flint_ari_state_clear(&s);
}

/* The same window seen again keeps the time chosen the first time. */
static void test_ari_choice_kept(void)
{
	struct flint_ari_state s = {0};
	int64_t first;

	update(&s, 200, WIN("2025-07-01T00:00:00Z", "2025-07-11T00:00:00Z"), 60, NOW, 5000);
	first = s.chosen;
	update(&s, 200, WIN("2025-07-01T00:00:00Z", "2025-07-11T00:00:00Z"), 60, NOW + 60, 999999);
	CHECK_INT(s.chosen, first);
	/* a moved window: chosen afresh, inside the new one */
	update(&s, 200, WIN("2025-06-20T00:00:00Z", "2025-06-21T00:00:00Z"), 60, NOW + 120, 42);
	CHECK_INT(s.chosen, s.start + 42);
	/* a stored choice outside its window (a hand-edited file): chosen again */
	s.chosen = s.end + 5;
	update(&s, 200, WIN("2025-06-20T00:00:00Z", "2025-06-21T00:00:00Z"), 60, NOW + 180, 43);
	CHECK_INT(s.chosen, s.start + 43);
	flint_ari_state_clear(&s);
}

static const struct {
	const char *what, *body;
} bad_info[] = {
	{"not JSON", "{\"suggestedWindow\":"},
	{"empty", ""},
	{"no window", "{}"},
	{"window not an object", "{\"suggestedWindow\":5}"},
	{"start missing", "{\"suggestedWindow\":{\"end\":\"2025-07-02T00:00:00Z\"}}"},
	{"bad time", WIN("yesterday", "2025-07-02T00:00:00Z")},
	{"end before start", WIN("2025-07-02T00:00:00Z", "2025-07-01T00:00:00Z")},
	{"end equals start", WIN("2025-07-02T00:00:00Z", "2025-07-02T00:00:00Z")},
	{"explanationURL a number",
	 "{\"suggestedWindow\":{\"start\":\"2025-07-01T00:00:00Z\",\"end\":\"2025-07-02T00:00:00Z\"},"
	 "\"explanationURL\":1}"},
};

/* A 200 that is no RenewalInfo: the window is forgotten and the lifetime rule applies. */
static void test_ari_malformed(void)
{
	for (size_t i = 0; i < sizeof(bad_info) / sizeof(bad_info[0]); i++) {
		struct flint_ari_state s = {0};
		struct flint_renew_decision d;
		char *err = NULL;
		int r;

		update(&s, 200, WIN("2025-06-01T00:00:00Z", "2025-06-02T00:00:00Z"), 60, NOW, 1);
		r = flint_ari_update(&s, 200, bad_info[i].body, strlen(bad_info[i].body), 60, NOW, 1,
				     &err);
		if (r != FLINT_EINVAL)
			fprintf(stderr, "case: %s\n", bad_info[i].what);
		CHECK_INT(r, FLINT_EINVAL);
		CHECK(err && strstr(err, "renewalInfo")); /* the warning renew prints */
		CHECK(s.end <= s.start);
		CHECK_INT(s.next_check, NOW + FLINT_ARI_RETRY_ERROR);
		/* young 90-day certificate: not due by the lifetime rule */
		flint_renew_decide(NOW - DAY, NOW + 89 * DAY, &s, NOW, &d);
		CHECK(!d.due && !d.by_ari);
		CHECK_INT(d.when, flint_renew_time(NOW - DAY, NOW + 89 * DAY));
		free(err);
		flint_ari_state_clear(&s);
	}
}

/* Without renewalInfo (no state): today's lifetime rule; expired: due. */
static void test_decide_without_ari(void)
{
	struct flint_renew_decision d;
	struct flint_ari_state none = {0};

	flint_renew_decide(NOW, NOW + 90 * DAY, NULL, NOW + 60 * DAY - 1, &d);
	CHECK(!d.due && !d.by_ari);
	flint_renew_decide(NOW, NOW + 90 * DAY, &none, NOW + 60 * DAY, &d);
	CHECK(d.due && !d.by_ari);
	/* a window far in the future cannot keep an expired certificate */
	none.start = NOW + 200 * DAY;
	none.end = NOW + 201 * DAY;
	none.chosen = none.start;
	flint_renew_decide(NOW, NOW + 90 * DAY, &none, NOW + 90 * DAY, &d);
	CHECK(d.due && d.by_ari);
}

int main(void)
{
	RUN(test_renew_time);
	RUN(test_due_boundaries);
	RUN(test_extremes);
	RUN(test_ari_future_window);
	RUN(test_ari_past_and_now);
	RUN(test_ari_retry_after);
	RUN(test_ari_choice_kept);
	RUN(test_ari_malformed);
	RUN(test_decide_without_ari);
	return CHECK_DONE();
}
