/* libFuzzer driver for the http-01 response check (RFC 8555 §8.3): input is
 * KEYAUTH NUL BODY (no NUL: a fixed key authorization, the input the body). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "validate/http01.h"

#define DEFAULT_KEYAUTH                                                                            \
	"LoqXcYV8q5ONbJQxbmR7SCTNo3tiAXDfowyjxAjEuX0.9jg46WB3rR_AHD-EBXdN7cBkH1WOu0tA3M9fm21mqTI"

static int is_ws(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *nul = memchr(data, 0, size);
	size_t ka_len = nul ? (size_t)(nul - data) : strlen(DEFAULT_KEYAUTH);
	size_t off = nul ? ka_len + 1 : 0, len = size - off, s = 0, e;
	char *ka = malloc(ka_len + 1);
	/* an exact-size copy, so that any read past the body is caught */
	char *body = malloc(len ? len : 1);
	struct flint_problem *p = NULL;
	int rc;

	if (!ka || !body)
		goto out;
	memcpy(ka, nul ? (const char *)data : DEFAULT_KEYAUTH, ka_len);
	ka[ka_len] = '\0';
	memcpy(body, data + off, len);
	rc = flint_http01_check_body(len ? body : NULL, len, ka, &p);
	/* the same decision, computed naively */
	e = len;
	while (s < e && is_ws(body[s]))
		s++;
	while (e > s && is_ws(body[e - 1]))
		e--;
	int match = e - s == ka_len && memcmp(body + s, ka, ka_len) == 0;
	if (len > FLINT_HTTP01_BODY_MAX) {
		if (rc != FLINT_ETOOBIG && rc != FLINT_ENOMEM)
			abort();
	} else if (match ? rc != 0 || p : rc != FLINT_ENOTFOUND && rc != FLINT_ENOMEM) {
		abort();
	}
	if (rc == FLINT_ENOTFOUND && (!p || p->type != FLINT_PROB_INCORRECT_RESPONSE || !p->detail))
		abort();
out:
	flint_problem_free(p);
	free(ka);
	free(body);
	return 0;
}
