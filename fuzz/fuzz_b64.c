/* libFuzzer driver for the strict base64url decoder (RFC 4648 §5, RFC 8555
 * §6.1): anything decoded must re-encode to the very same text. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "b64.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *dec = NULL;
	size_t n = 0;
	char *enc = NULL;

	if (flint_b64url_decode((const char *)data, size, &dec, &n) == 0) {
		if (flint_b64url_encode(dec, n, &enc) != 0 || strlen(enc) != size ||
		    memcmp(enc, data, size) != 0)
			abort(); /* decoding must be canonical */
		free(enc);
		free(dec);
	}
	return 0;
}
