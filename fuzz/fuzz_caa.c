/* libFuzzer driver for CAA (RFC 8659/8657): rdata comes from whoever runs
 * the DNS zone. The input is split into records (a length octet, then the
 * rdata); each parsed record set is then evaluated for a plain and a
 * wildcard name. Nothing may crash or leak, and a decision is 0 or EPROTO. */
#include <stdint.h>
#include <stdlib.h>

#include "error.h"
#include "validate/caa.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const ids[] = {"flint.invalid"};
	struct flint_caa_record rrs[8];
	size_t n = 0;

	while (size > 0 && n < 8) {
		size_t len = data[0];

		data++;
		size--;
		if (len > size)
			len = size;
		if (flint_caa_rdata_parse(data, len, &rrs[n]) == 0)
			n++;
		data += len;
		size -= len;
	}
	for (int wild = 0; wild < 2; wild++) {
		struct flint_caa_request q = {.identities = ids, .n_identities = 1, .wildcard = wild,
					      .account_url = "https://ca.test/acme/acct/1",
					      .method = "http-01"};
		char *reason = NULL;
		int rc = flint_caa_evaluate(rrs, n, &q, &reason);

		if (rc != 0 && rc != FLINT_EPROTO)
			abort();
		if ((rc == FLINT_EPROTO) != (reason != NULL))
			abort();
		free(reason);
	}
	for (size_t i = 0; i < n; i++)
		flint_caa_record_clear(&rrs[i]);
	return 0;
}
