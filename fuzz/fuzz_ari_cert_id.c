/* libFuzzer driver for the RFC 9773 certID parser (renewalInfo paths and
 * newOrder "replaces" come from anyone): whatever parses must re-encode to
 * the same text, within the size limits, with a positive minimal serial. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ari.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1), *again = NULL, *hex = NULL;
	uint8_t *kid = NULL, *serial = NULL;
	size_t kid_len = 0, serial_len = 0;

	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	if (flint_ari_cert_id_parse(text, &kid, &kid_len, &serial, &serial_len) == 0) {
		if (kid_len == 0 || kid_len > FLINT_ARI_KEYID_MAX || serial_len == 0 ||
		    serial_len > FLINT_ARI_SERIAL_MAX || (serial[0] & 0x80))
			abort();
		if (flint_ari_cert_id_raw(kid, kid_len, serial, serial_len, &again) != 0 ||
		    strcmp(again, text) != 0)
			abort();
		if (flint_ari_serial_hex(serial, serial_len, &hex) != 0 || hex[0] == '\0')
			abort();
	}
	free(hex);
	free(again);
	free(kid);
	free(serial);
	free(text);
	return 0;
}
