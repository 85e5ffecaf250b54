/* libFuzzer driver for the JSON request payloads flintd's policy reads:
 * newAccount contacts (RFC 8555 §7.3) and newOrder identifiers (§7.4). */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>

#include "policy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_t *doc = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, NULL);
	if (!doc)
		return 0;
	struct flint_problem *p = NULL;
	if (flint_policy_check_contacts(json_object_get(doc, "contact"), &p) < 0 && !p)
		abort();
	flint_problem_free(p);
	p = NULL;

	struct flint_identifier *ids = NULL;
	size_t n = 0;
	int r = flint_policy_order_identifiers(json_object_get(doc, "identifiers"), &ids, &n, &p);
	if (r == 0) {
		if (p || (n && !ids))
			abort();
		for (size_t i = 0; i < n; i++)
			flint_identifier_clear(&ids[i]);
		free(ids);
	}
	flint_problem_free(p);
	json_decref(doc);
	return 0;
}
