/* libFuzzer driver for RFC 7807 problem documents as an ACME client reads
 * them from a server: parse, serialise again, parse the result. */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>

#include "problem.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_t *doc = json_loadb((const char *)data, size, 0, NULL);
	struct flint_problem *p = NULL, *again = NULL;
	if (!doc)
		return 0;
	if (flint_problem_from_json(doc, &p) == 0) {
		json_t *out = flint_problem_to_json(p);
		if (!out || flint_problem_from_json(out, &again) != 0 || again->type != p->type)
			abort();
		json_decref(out);
	}
	flint_problem_free(again);
	flint_problem_free(p);
	json_decref(doc);
	return 0;
}
