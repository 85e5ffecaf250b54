/* libFuzzer driver for identifier normalisation: dns names (RFC 8555
 * §7.1.4, RFC 3492 A-labels) and ip addresses (RFC 8738, RFC 5952): each
 * output must be a fixed point of its normaliser; an ip's reverse name
 * must fit its buffer. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "identifier.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *in = malloc(size + 1), *out = NULL, *again = NULL;
	struct flint_problem *p = NULL;

	if (!in)
		return 0;
	memcpy(in, data, size);
	in[size] = '\0';
	if (flint_dns_name_normalize(in, &out, &p) == 0) {
		if (p || flint_dns_name_normalize(out, &again, NULL) != 0 || strcmp(out, again) != 0)
			abort();
	}
	free(again);
	free(out);
	flint_problem_free(p);
	out = again = NULL;
	p = NULL;
	if (flint_ip_normalize(in, &out, &p) == 0) {
		char rev[128];

		if (p || flint_ip_normalize(out, &again, NULL) != 0 || strcmp(out, again) != 0 ||
		    flint_ip_reverse_name(out, rev, sizeof(rev)) < 0)
			abort();
	}
	free(again);
	free(out);
	flint_problem_free(p);
	free(in);
	return 0;
}
