/* Account resources (RFC 8555 §7.3): newAccount, account fetch, update and
 * deactivation (§7.3.2, §7.3.6), and the paged orders list (§7.1.2.1). */
#include <event2/keyvalq_struct.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "b64.h"
#include "bodies.h"
#include "eab.h"
#include "error.h"
#include "log.h"

json_t *flint_account_json(const struct flint_req *r, const struct flint_account *a)
{
	char *orders = flint_url(r, "/acme/acct/%s/orders", a->id);
	json_t *contact = json_loads(a->contact_json, 0, NULL);
	json_t *key = json_loads(a->jwk_json, 0, NULL);
	json_t *doc = NULL;
	if (orders && contact && key)
		doc = json_pack("{s:s, s:O, s:b, s:s, s:O}", "status", a->status, "contact",
				contact, "termsOfServiceAgreed", a->tos_agreed, "orders", orders,
				"key", key);
	/* §7.1.2: the binding approved by the external account, as sent */
	if (doc && a->eab_json)
		json_object_set_new(doc, "externalAccountBinding", json_loads(a->eab_json, 0, NULL));
	free(orders);
	json_decref(contact);
	json_decref(key);
	return doc;
}

static void reply_account(struct flint_req *r, int status, const struct flint_account *a)
{
	char *loc = flint_url(r, "/acme/acct/%s", a->id);
	if (loc)
		flint_reply_add_header(r, "Location", loc);
	free(loc);
	flint_reply_json(r, status, flint_account_json(r, a));
}

void flint_api_new_account(struct flint_req *r, const char *rest)
{
	(void)rest;
	struct flint_account *existing = NULL;
	struct flint_problem *prob = NULL;
	struct flint_body_new_account *body = NULL;
	struct flint_account a = {0};
	char *jwk_s = NULL, *eab_kid = NULL, *eab_s = NULL;
	int rc;

	if (flint_req_authenticate(r, FLINT_AUTH_JWK) < 0)
		return;
	if (!r->payload) {
		flint_reply_error(r, FLINT_PROB_MALFORMED, "newAccount needs a JSON payload");
		return;
	}
	rc = r->store->ops->account_by_thumbprint(r->store, r->jws->jwk->thumbprint, &existing);
	if (rc == 0) {
		/* §7.3.6: a deactivated account's key authorizes nothing more */
		if (strcmp(existing->status, "valid") != 0) {
			flint_reply_error(r, FLINT_PROB_UNAUTHORIZED, "the account of this key is %s",
					  existing->status);
			goto out;
		}
		/* §7.3.1: the key is known; return that account unchanged. */
		reply_account(r, 200, existing);
		goto out;
	} else if (rc != FLINT_ENOTFOUND) {
		flint_reply_error(r, FLINT_PROB_SERVER_INTERNAL, "store: %s", flint_strerror(rc));
		goto out;
	}
	/* read only now: a known key gets its account whatever the body says */
	if (flint_body_new_account_parse(r->payload, &body, &prob) < 0) {
		flint_reply_problem(r, prob);
		goto out;
	}
	if (body->only_return_existing) {
		flint_reply_error(r, FLINT_PROB_ACCOUNT_DOES_NOT_EXIST,
				  "no account exists with this key");
		goto out;
	}
	if (r->d->cfg->require_tos && !body->tos_agreed) {
		flint_reply_error(r, FLINT_PROB_MALFORMED,
				  "you must agree to the terms of service at %s",
				  r->d->cfg->terms_of_service);
		goto out;
	}
	/* §7.3.4: checked only for a new account, so an existing one (above)
	 * never consumes a key; verified whenever sent, required when configured */
	if (body->eab) {
		if (flint_eab_verify(r->store, body->eab, r->jws->url, r->jws->jwk, &eab_kid,
				     &prob) < 0) {
			flint_reply_problem(r, prob);
			goto out;
		}
		if (!(eab_s = json_dumps(body->eab, JSON_COMPACT))) {
			flint_reply_error(r, FLINT_PROB_SERVER_INTERNAL, "out of memory");
			goto out;
		}
	} else if (r->d->cfg->external_account_required) {
		flint_reply_error(r, FLINT_PROB_EXTERNAL_ACCOUNT_REQUIRED,
				  "this CA requires an externalAccountBinding (RFC 8555 §7.3.4) "
				  "made with a key ID and MAC key from its operator");
		goto out;
	}
	if ((rc = flint_random_b64url(12, &a.id)) < 0 ||
	    (rc = flint_jwk_to_string(r->jws->jwk, &jwk_s)) < 0) {
		flint_reply_error(r, FLINT_PROB_SERVER_INTERNAL, "out of memory");
		goto out;
	}
	a.jwk_json = jwk_s;
	a.thumbprint = r->jws->jwk->thumbprint;
	a.contact_json = body->contact_json;
	a.status = "valid";
	a.tos_agreed = body->tos_agreed;
	a.created = flint_now();
	a.eab_json = eab_s;
	a.created_ip = r->peer[0] ? r->peer : NULL;
	if (flint_limit_new_account(r) < 0)
		goto out;
	rc = eab_kid ? r->store->ops->account_insert_eab(r->store, &a, eab_kid)
		     : r->store->ops->account_insert(r->store, &a);
	if (rc == FLINT_ECONFLICT &&
	    r->store->ops->account_by_thumbprint(r->store, a.thumbprint, &existing) == 0) {
		reply_account(r, 200, existing); /* a concurrent request created it */
		goto out;
	} else if (eab_kid && (rc == FLINT_ECONFLICT || rc == FLINT_ENOTFOUND)) {
		/* another newAccount bound the key first, or the operator removed it */
		flint_reply_error(r, FLINT_PROB_UNAUTHORIZED,
				  "externalAccountBinding kid \"%s\" is %s", eab_kid,
				  rc == FLINT_ECONFLICT ? "already bound to an account" : "unknown");
		goto out;
	} else if (rc < 0) {
		flint_reply_error(r, FLINT_PROB_SERVER_INTERNAL, "store: %s", flint_strerror(rc));
		goto out;
	}
	flintd_logf("state account=%s status=valid%s%s", a.id, eab_kid ? " eab-kid=" : "",
		    eab_kid ? eab_kid : "");
	reply_account(r, 201, &a);
out:
	free(eab_kid);
	free(eab_s);
	free(a.id);
	free(jwk_s);
	flint_body_new_account_free(body);
	flint_account_free(existing);
}

static void orders_list(struct flint_req *r, const char *acct_id)
{
	char **ids = NULL;
	size_t n = 0;
	bool more = false;
	char *cursor = NULL;
	json_t *list = json_array();
	if (r->query) {
		struct evkeyvalq q;
		if (evhttp_parse_query_str(r->query + 1, &q) == 0) {
			const char *c = evhttp_find_header(&q, "cursor");
			if (c)
				cursor = strdup(c);
			evhttp_clear_headers(&q);
		}
	}
	int rc = r->store->ops->orders_by_account(r->store, acct_id, cursor,
						  (size_t)r->d->cfg->orders_per_page, &ids, &n, &more);
	if (rc == FLINT_ENOTFOUND) {
		flint_reply_error(r, FLINT_PROB_MALFORMED, "unknown cursor");
		goto out;
	}
	if (rc < 0 || !list) {
		flint_reply_error(r, FLINT_PROB_SERVER_INTERNAL, "store: %s", flint_strerror(rc));
		goto out;
	}
	for (size_t i = 0; i < n; i++)
		json_array_append_new(list, flint_url_json(r, "/acme/order/%s", ids[i]));
	if (more && n) {
		char *next = flint_url(r, "/acme/acct/%s/orders?cursor=%s", acct_id, ids[n - 1]);
		flint_reply_add_link(r, next, "next");
		free(next);
	}
	flint_reply_json(r, 200, json_pack("{s:O}", "orders", list));
out:
	json_decref(list);
	flint_string_list_free(ids, n);
	free(cursor);
}

void flint_api_account(struct flint_req *r, const char *rest)
{
	struct flint_problem *prob = NULL;
	struct flint_body_account_update *body = NULL;
	char *id = strndup(rest, strcspn(rest, "/"));
	const char *sub = rest + strcspn(rest, "/");
	if (!id)
		return;
	if (*sub && strcmp(sub, "/orders") != 0) {
		flint_reply_lookup_error(r, FLINT_ENOTFOUND, "resource");
		goto out;
	}
	if (flint_req_authenticate(r, FLINT_AUTH_KID) < 0)
		goto out;
	if (strcmp(r->account->id, id) != 0) {
		flint_reply_forbidden(r, "the kid is not this account");
		goto out;
	}
	if (*sub) {
		if (r->payload)
			flint_reply_error(r, FLINT_PROB_MALFORMED, "fetch the orders list with POST-as-GET");
		else
			orders_list(r, id);
		goto out;
	}
	if (r->payload) {
		struct flint_account upd = *r->account;
		if (flint_body_account_update_parse(r->payload, &body, &prob) < 0) {
			flint_reply_problem(r, prob);
			goto out;
		}
		if (body->deactivate)
			upd.status = "deactivated";
		if (body->contact_json)
			upd.contact_json = body->contact_json;
		int rc = r->store->ops->account_update(r->store, &upd, r->account);
		if (rc == FLINT_ECONFLICT) {
			flint_reply_error(r, FLINT_PROB_CONFLICT,
					  "the account changed concurrently; fetch it and retry");
			goto out;
		} else if (rc < 0) {
			flint_reply_error(r, FLINT_PROB_SERVER_INTERNAL, "store: %s", flint_strerror(rc));
			goto out;
		}
		if (upd.status != r->account->status) {
			flintd_logf("state account=%s status=deactivated", id);
			if (flint_field_set(&r->account->status, "deactivated") < 0) {
				flint_reply_error(r, FLINT_PROB_SERVER_INTERNAL, "out of memory");
				goto out;
			}
		}
		if (body->contact_json) {
			free(r->account->contact_json);
			r->account->contact_json = body->contact_json;
			body->contact_json = NULL;
		}
	}
	reply_account(r, 200, r->account);
out:
	flint_body_account_update_free(body);
	free(id);
}
