/* libFuzzer driver for the DNS stub's response matching (RFC 5452 §9):
 * datagrams from the network against a query and an UPDATE of ours. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dnsmsg.h"
#include "dnsstub.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct flint_dns_builder q, u;
	static const struct flint_dns_update del = {FLINT_DNS_UPD_DELETE_RRSET, "_acme-challenge.a.example",
						    FLINT_DNS_T_TXT, 0, NULL, 0};

	if (!q.data && (flint_dns_build_query(0x5a5a, "_acme-challenge.A.example", FLINT_DNS_T_TXT,
					      true, &q) < 0 ||
			flint_dns_build_update(0x5a5a, "a.example", &del, 1, &u) < 0))
		abort();
	bool strict = flint_dns_response_matches(q.data, q.len, data, size, false);
	bool loose = flint_dns_response_matches(q.data, q.len, data, size, true);
	/* strict implies loose; a match is at least the header and our question */
	if (strict && (!loose || size < q.len || data[0] != 0x5a || data[1] != 0x5a))
		abort();
	if (flint_dns_response_matches(u.data, u.len, data, size, true) && (size < 12 || !(data[2] & 0x80)))
		abort();
	return 0;
}
