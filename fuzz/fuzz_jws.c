/* libFuzzer driver for flattened JWS parsing under RFC 8555 §6.2 rules, in
 * both request and keyChange-inner modes; verifies with any embedded key. */
#include <stdint.h>
#include <stdlib.h>

#include "jws.h"

static void one(const uint8_t *data, size_t size, enum flint_jws_mode mode)
{
	struct flint_jws *jws = NULL;
	struct flint_problem *p = NULL;
	int r = flint_jws_parse((const char *)data, size, mode, &jws, &p);

	if (r == 0) {
		if (!jws || p)
			abort();
		if (jws->jwk) {
			flint_jws_verify(jws, jws->jwk, &p);
			flint_problem_free(p);
		}
	} else {
		if (jws)
			abort();
		flint_problem_free(p);
	}
	flint_jws_free(jws);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	one(data, size, FLINT_JWS_REQUEST);
	one(data, size, FLINT_JWS_INNER_KEYCHANGE);
	return 0;
}
