/* GET /metrics: the registry in the Prometheus text exposition format 0.0.4
 * (a plain GET like the CA files: no JWS, no nonce). */
#include <stdlib.h>

#include "api.h"
#include "error.h"
#include "metrics.h"

void flint_api_metrics(struct flint_req *r, const char *rest)
{
	(void)rest;
	char *text = NULL;
	size_t len = 0;
	int rc = flint_metrics_render(flint_metrics_global(), &text, &len);
	if (rc < 0) {
		flint_reply_error(r, FLINT_PROB_SERVER_INTERNAL, "metrics: %s", flint_strerror(rc));
		return;
	}
	flint_reply_add_header(r, "Cache-Control", "no-store");
	flint_reply_body(r, 200, "text/plain; version=0.0.4; charset=utf-8", text, len);
	free(text);
}
