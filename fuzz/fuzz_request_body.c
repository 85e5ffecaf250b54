/* libFuzzer driver for every JWS payload flintd reads (RFC 8555 §7.3-§7.6):
 * the input, decoded as request.c decodes it, goes through each body parser. */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "api/bodies.h"
#include "error.h"
#include "policy.h"

/* Exactly one of a result and a problem; the problem a serializable value. */
static void check(int rc, const void *ret, const struct flint_problem *p)
{
	if (rc == 0 && (!ret || p))
		abort();
	if (rc < 0 && (ret || (!p && rc != FLINT_ENOMEM)))
		abort();
	if (rc > 0)
		abort();
	if (p) {
		json_t *doc = flint_problem_to_json(p);
		if ((int)p->type < 0 || p->type >= FLINT_PROB__COUNT || !p->detail || !doc)
			abort();
		json_decref(doc);
	}
}

static void check_contacts(const char *contact_json)
{
	json_t *c = json_loads(contact_json, 0, NULL);
	if (!json_is_array(c) || json_array_size(c) > FLINT_MAX_CONTACTS)
		abort();
	json_decref(c);
}

static void check_ids(const struct flint_identifier *ids, size_t n)
{
	if (n < 1 || n > FLINT_MAX_ORDER_IDENTIFIERS || !ids)
		abort();
	for (size_t i = 0; i < n; i++) {
		if (!ids[i].type || !ids[i].value)
			abort();
		for (size_t k = 0; k < i; k++)
			if (!strcmp(ids[i].type, ids[k].type) &&
			    !strcmp(ids[i].value, ids[k].value))
				abort(); /* duplicates are dropped */
	}
}

static void run(const json_t *doc)
{
	struct flint_problem *p = NULL;
	int rc;

	struct flint_body_new_account *na = NULL;
	rc = flint_body_new_account_parse(doc, &na, &p);
	check(rc, na, p);
	if (na && !na->only_return_existing)
		check_contacts(na->contact_json);
	if (na && na->eab && na->eab != json_object_get(doc, "externalAccountBinding"))
		abort();
	flint_body_new_account_free(na);
	flint_problem_free(p);
	p = NULL; /* outputs are untouched on success */

	struct flint_body_account_update *au = NULL;
	rc = flint_body_account_update_parse(doc, &au, &p);
	check(rc, au, p);
	if (au && au->contact_json)
		check_contacts(au->contact_json);
	if (au && !au->contact_json != !json_object_get(doc, "contact"))
		abort();
	flint_body_account_update_free(au);
	flint_problem_free(p);
	p = NULL; /* outputs are untouched on success */

	rc = flint_body_authz_update_parse(doc, &p);
	check(rc, rc == 0 ? doc : NULL, p);
	flint_problem_free(p);
	p = NULL; /* outputs are untouched on success */

	struct flint_body_new_authz *nz = NULL;
	rc = flint_body_new_authz_parse(doc, &nz, &p);
	check(rc, nz, p);
	if (nz) {
		check_ids(&nz->id, 1);
		if (flint_identifier_is_wildcard(&nz->id))
			abort();
	}
	flint_body_new_authz_free(nz);
	flint_problem_free(p);
	p = NULL; /* outputs are untouched on success */

	struct flint_body_new_order *no = NULL;
	rc = flint_body_new_order_parse(doc, &no, &p);
	check(rc, no, p);
	if (no) {
		check_ids(no->ids, no->n_ids);
		if ((no->profile && strlen(no->profile) > FLINT_BODY_STRING_MAX) ||
		    (no->replaces && strlen(no->replaces) > FLINT_BODY_STRING_MAX))
			abort();
	}
	flint_body_new_order_free(no);
	flint_problem_free(p);
	p = NULL; /* outputs are untouched on success */

	struct flint_body_finalize *fin = NULL;
	rc = flint_body_finalize_parse(doc, &fin, &p);
	check(rc, fin, p);
	if (fin && (!fin->csr || !fin->der || !fin->der_len || fin->der_len > FLINT_CSR_MAX_DER))
		abort();
	flint_body_finalize_free(fin);
	flint_problem_free(p);
	p = NULL; /* outputs are untouched on success */

	struct flint_body_revoke *rv = NULL;
	rc = flint_body_revoke_parse(doc, &rv, &p);
	check(rc, rv, p);
	if (rv && (!rv->cert || !rv->serial || !flint_policy_revocation_reason_ok(rv->reason) ||
		   rv->der_len > FLINT_BODY_CERT_MAX_DER))
		abort();
	flint_body_revoke_free(rv);
	flint_problem_free(p);
	p = NULL; /* outputs are untouched on success */

	struct flint_body_key_change *kc = NULL;
	rc = flint_body_key_change_parse(doc, &kc, &p);
	check(rc, kc, p);
	if (kc && (!kc->account || !kc->old_key))
		abort();
	flint_body_key_change_free(kc);
	flint_problem_free(p);
	p = NULL; /* outputs are untouched on success */

	rc = flint_body_challenge_parse(doc, &p);
	check(rc, rc == 0 ? doc : NULL, p);
	flint_problem_free(p);
	p = NULL; /* outputs are untouched on success */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* as request.c decodes a JWS payload */
	json_t *doc = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, NULL);
	/* NULL too: keyChange's inner payload when it is not JSON */
	run(doc);
	json_decref(doc);
	return 0;
}
