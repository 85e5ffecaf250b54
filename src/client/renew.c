/* Renewal timing for the flint client: due at 2/3 of the lifetime (1/2 for
 * lifetimes of 10 days or less), the schedule Let's Encrypt recommends. */
#include "renew.h"

int64_t flint_renew_time(int64_t not_before, int64_t not_after)
{
	int64_t life;

	if (not_after <= not_before)
		return not_before;
	life = not_after - not_before;
	if (life <= FLINT_RENEW_SHORT_LIFETIME)
		return not_before + life / 2;
	/* 2/3 without overflowing for far-future notAfter dates */
	return not_before + life / 3 * 2 + (life % 3) * 2 / 3;
}

bool flint_renew_due(int64_t not_before, int64_t not_after, int64_t now)
{
	return now >= flint_renew_time(not_before, not_after);
}
