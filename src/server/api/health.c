/* GET /health: 200 {"status":"ok"} when this loop's store answers a lookup,
 * else 503 with the reason, for load balancers and orchestrators. */
#include <string.h>

#include "api.h"
#include "error.h"
#include "log.h"
#include "metrics.h"

int flint_health_check(struct flint_store *st, json_t **ret)
{
	struct flint_account *a = NULL;
	struct timespec t0;
	/* A primary-key read of an id no account can have (ids are base64url):
	 * "not found" proves the store answered, any other error that it did not.
	 * Every backend implements it, and it writes nothing. */
	clock_gettime(CLOCK_MONOTONIC, &t0);
	int rc = st->ops->account_get(st, "health!", &a);
	flint_metrics_store(flint_metrics_global(), "account_get", flint_metrics_since_us(&t0));
	flint_account_free(a);
	if (rc == 0 || rc == FLINT_ENOTFOUND) {
		*ret = json_pack("{s:s}", "status", "ok");
		return 200;
	}
	flintd_logf("health store=\"%s\"", flint_strerror(rc));
	*ret = json_pack("{s:s, s:s}", "status", "unavailable", "store", flint_strerror(rc));
	return 503;
}

void flint_api_health(struct flint_req *r, const char *rest)
{
	(void)rest;
	json_t *doc = NULL;
	int status = flint_health_check(r->store, &doc);
	flint_reply_add_header(r, "Cache-Control", "no-store");
	flint_reply_json(r, status, doc);
}
