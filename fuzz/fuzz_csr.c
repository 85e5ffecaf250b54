/* libFuzzer driver for PKCS#10 parsing (RFC 2986) as RFC 8555 §7.4 finalize
 * uses it: DER, signature, key policy, dns names. */
#include <stdint.h>
#include <stdlib.h>

#include "csr.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct flint_csr *csr = NULL;
	struct flint_problem *p = NULL;

	if (flint_csr_parse_der(data, size, &csr, &p) == 0) {
		if (!csr || csr->n_ids == 0 || csr->n_ids > FLINT_CSR_MAX_NAMES)
			abort();
	}
	flint_problem_free(p);
	flint_csr_free(csr);
	return 0;
}
