/* libFuzzer driver for Replay-Nonce values as clients echo them in the JWS
 * header (RFC 8555 §6.5): any string must be refused unless issued here. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "nonce.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct flint_nonce_key k = {.key = "0123456789abcdef0123456789abcde"};
	char *s = malloc(size + 1);
	int64_t exp = 0;
	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	/* nothing but a nonce made with k can pass; the fuzzer cannot forge a MAC */
	if (flint_nonce_check(&k, s, 0, &exp) == 0)
		abort();
	free(s);
	return 0;
}
