/* libFuzzer driver for JWK import (RFC 7517/7518, RFC 8037): parse JSON,
 * import, and check the canonical form re-imports to the same thumbprint. */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "jwk.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_t *j = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, NULL);
	struct flint_jwk *jwk = NULL, *again = NULL;
	char *s = NULL;

	if (j && flint_jwk_from_json(j, &jwk) == 0) {
		json_t *canon;
		if (flint_jwk_to_string(jwk, &s) != 0)
			abort();
		canon = json_loads(s, 0, NULL);
		if (!canon || flint_jwk_from_json(canon, &again) != 0 ||
		    strcmp(again->thumbprint, jwk->thumbprint) != 0)
			abort();
		json_decref(canon);
	}
	free(s);
	flint_jwk_free(again);
	flint_jwk_free(jwk);
	json_decref(j);
	return 0;
}
