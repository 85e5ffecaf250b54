/* Unit tests for the ARI window policy (api/renewal_info.c): windows follow
 * the lifetime (a third left, half for <= 10 days), a revoked certificate's
 * lies in the past, an operator-set one wins; Retry-After bounds. */
#include <string.h>

#include "api/api.h"
#include "check.h"

#define DAY 86400

static void test_windows(void)
{
	struct flint_cert c = {.not_before = 1000000, .not_after = 1000000 + 90 * DAY};
	int64_t s = 0, e = 0;

	flint_ari_window(&c, &s, &e);
	CHECK_INT(s, c.not_after - 30 * DAY);
	CHECK_INT(e, s + 10 * DAY);
	CHECK(c.not_before < s && s < e && e <= c.not_after);
	/* 160 hours: half left */
	c.not_after = c.not_before + 160 * 3600;
	flint_ari_window(&c, &s, &e);
	CHECK_INT(s, c.not_after - 80 * 3600);
	CHECK(s < e && e <= c.not_after);
	/* revoked: a window entirely in the past, before the revocation */
	c.revoked_at = c.not_before + 3600;
	flint_ari_window(&c, &s, &e);
	CHECK(e <= c.revoked_at && s < e);
	/* an operator-set window wins over both */
	c.ari_start = 500;
	c.ari_end = 600;
	flint_ari_window(&c, &s, &e);
	CHECK_INT(s, 500);
	CHECK_INT(e, 600);
	/* a degenerate certificate still gets end > start */
	memset(&c, 0, sizeof(c));
	flint_ari_window(&c, &s, &e);
	CHECK(e > s);
}

static void test_retry_after(void)
{
	struct flint_cert c = {.not_before = 0, .not_after = 90 * DAY};

	CHECK_INT(flint_ari_retry_after(&c), 6 * 3600); /* capped */
	c.not_after = 160 * 3600;
	CHECK_INT(flint_ari_retry_after(&c), 160 * 3600 / 48);
	c.not_after = 600;
	CHECK_INT(flint_ari_retry_after(&c), 60); /* at least a minute */
}

int main(void)
{
	RUN(test_windows);
	RUN(test_retry_after);
	return CHECK_DONE();
}
