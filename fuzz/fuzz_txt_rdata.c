/* libFuzzer driver for DNS TXT rdata (RFC 1035 §3.3.14) as dns-01
 * validation receives it from the resolver: untrusted bytes from any zone. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "validate/resolver.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = NULL;
	int r = flint_dns_txt_rdata_parse(data, size, &s);
	if (r == 0) {
		if (!s || strlen(s) > size)
			abort();
		free(s);
	} else if (s) {
		abort();
	}
	return 0;
}
