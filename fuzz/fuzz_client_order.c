/* libFuzzer driver for the order (RFC 8555 §7.1.3) and authorization
 * (§7.1.4, challenges §7.1.5) objects as the flint client reads them from
 * server replies. Byte 0 picks the object (bit 0: authorization); the rest
 * is the reply body. */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "order.h"

static void need_text(const char *s)
{
	if (!s || !*s)
		abort();
}

static void order(const json_t *doc)
{
	struct flint_acme_order *o = NULL;
	char *err = NULL;
	int r = flint_acme_order_parse(doc, &o, &err);

	if (r != 0) {
		if (o || (!err && r != FLINT_ENOMEM))
			abort();
		free(err);
		return;
	}
	if (err || o->n_authorizations > FLINT_ACME_ORDER_MAX_AUTHZ ||
	    (o->n_authorizations && !o->authorizations) || (o->error && !json_is_object(o->error)))
		abort();
	need_text(o->status);
	need_text(o->finalize);
	if (o->certificate)
		need_text(o->certificate);
	for (size_t i = 0; i < o->n_authorizations; i++)
		need_text(o->authorizations[i]);
	if (strcmp(o->status, "pending") && strcmp(o->status, "ready") &&
	    strcmp(o->status, "processing") && strcmp(o->status, "valid") &&
	    strcmp(o->status, "invalid"))
		abort();
	flint_acme_order_free(o);
}

static void authz(const json_t *doc)
{
	static const char *const types[] = {"http-01", "dns-01", "tls-alpn-01", "dns-account-01"};
	struct flint_acme_authz *a = NULL;
	char *err = NULL;
	int r = flint_acme_authz_parse(doc, &a, &err);

	if (r != 0) {
		if (a || (!err && r != FLINT_ENOMEM))
			abort();
		free(err);
		return;
	}
	if (err || a->n_challenges > FLINT_ACME_AUTHZ_MAX_CHALLENGES ||
	    (a->error && !json_is_object(a->error)))
		abort();
	need_text(a->status);
	need_text(a->ident_type);
	need_text(a->ident_value);
	for (size_t i = 0; i < a->n_challenges; i++) {
		const struct flint_acme_challenge *c = &a->challenges[i];

		need_text(c->type);
		need_text(c->url);
		need_text(c->status);
		if (c->token)
			need_text(c->token);
		if (c->error && !json_is_object(c->error))
			abort();
	}
	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		const struct flint_acme_challenge *c = flint_acme_authz_challenge(a, types[i]);

		if (c && (strcmp(c->type, types[i]) || !c->token || c < a->challenges ||
			  c >= a->challenges + a->n_challenges))
			abort();
	}
	flint_acme_authz_free(a);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_t *doc;

	if (size < 1)
		return 0;
	/* as flint_acme_post loads a reply body */
	doc = json_loadb((const char *)data + 1, size - 1, 0, NULL);
	if (data[0] & 1)
		authz(doc);
	else
		order(doc);
	json_decref(doc);
	return 0;
}
