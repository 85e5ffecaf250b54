/* libFuzzer driver for the response headers the flint client reads from an ACME
 * server: Link (RFC 8288, RFC 8555 §7.4.2 alternates) and Retry-After (RFC 9110 §10.2.3).
 *
 * Input: byte 0 picks the parser (bit 0), the rel looked for (bits 1-2) and the
 * URL cap (bits 3-5); byte 1 shifts "now"; the rest is the header value. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"

#define MAX_URLS 8
#define YEAR (86400L * 365)

static void links(const char *value, uint8_t sel)
{
	static const char *const rels[] = {"alternate", "index", "up", "up alternate"};
	char *urls[MAX_URLS] = {0};
	size_t max = (size_t)((sel >> 3) & 7) + 1, n = 0, before;
	int r;

	/* twice into the same array: appending must respect what is already there */
	r = flint_http_parse_links(value, rels[(sel >> 1) & 3], urls, max, &n);
	if (r != 0 || n > max)
		abort();
	before = n;
	r = flint_http_parse_links(value, "alternate", urls, max, &n);
	if (r != 0 || n > max || n < before)
		abort();
	for (size_t i = 0; i < n; i++)
		if (!urls[i] || strlen(urls[i]) > strlen(value))
			abort();
	for (size_t i = n; i < MAX_URLS; i++)
		if (urls[i])
			abort();
	for (size_t i = 0; i < n; i++)
		free(urls[i]);
}

static void retry_after(const char *value, uint8_t shift)
{
	/* a now around 2023, and one at the epoch, so dates fall on both sides */
	long long nows[] = {1700000000LL + (long long)shift * 86400 * 30, 0};

	for (size_t i = 0; i < sizeof(nows) / sizeof(nows[0]); i++) {
		long v = flint_http_parse_retry_after(value, nows[i]);

		if (v < -1 || v > YEAR)
			abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *value;

	if (size < 2)
		return 0;
	value = malloc(size - 1);
	if (!value)
		return 0;
	memcpy(value, data + 2, size - 2);
	value[size - 2] = '\0';
	if (data[0] & 1)
		retry_after(value, data[1]);
	else
		links(value, data[0]);
	free(value);
	return 0;
}
