/* libFuzzer driver for the json log conversion (log.c): log lines carry
 * values from clients (problem details, identifiers), so any line must give
 * one valid JSON object on one line. */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);
	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	json_t *o = flintd_log_text_to_json(s);
	char *out = o ? json_dumps(o, JSON_COMPACT) : NULL;
	/* only OOM may fail; the line must stay a line */
	if (o && (!out || strchr(out, '\n')))
		abort();
	json_t *back = out ? json_loads(out, 0, NULL) : NULL;
	if (out && !json_is_object(back))
		abort();
	json_decref(back);
	free(out);
	json_decref(o);
	free(s);
	return 0;
}
