/* Unit tests for the /health decision (api/health.c) against a fake store
 * whose account lookup answers, finds nothing, or fails. */
#include <jansson.h>
#include <string.h>

#include "api/api.h"
#include "check.h"
#include "error.h"

static int fake_rc;
static int fake_calls;

static int fake_account_get(struct flint_store *st, const char *id, struct flint_account **ret)
{
	(void)st;
	fake_calls++;
	CHECK(id && *id);
	*ret = NULL;
	return fake_rc;
}

static const struct flint_store_ops fake_ops = {.account_get = fake_account_get};

static void expect(int rc, int want_status, const char *want_state, const char *want_store)
{
	struct flint_store st = {.ops = &fake_ops};
	json_t *doc = NULL;
	fake_rc = rc;
	fake_calls = 0;
	CHECK_INT(flint_health_check(&st, &doc), want_status);
	CHECK_INT(fake_calls, 1);
	CHECK_STR(json_string_value(json_object_get(doc, "status")), want_state);
	if (want_store)
		CHECK_STR(json_string_value(json_object_get(doc, "store")), want_store);
	else
		CHECK(json_object_get(doc, "store") == NULL);
	json_decref(doc);
}

static void test_health(void)
{
	expect(FLINT_ENOTFOUND, 200, "ok", NULL); /* the usual answer: no such account */
	expect(0, 200, "ok", NULL);
	expect(FLINT_EIO, 503, "unavailable", flint_strerror(FLINT_EIO));
	expect(FLINT_EPROTO, 503, "unavailable", flint_strerror(FLINT_EPROTO));
}

int main(void)
{
	RUN(test_health);
	return CHECK_DONE();
}
