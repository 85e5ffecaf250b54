/* Pure parsers of the ACME request bodies flintd reads (RFC 8555 §7.3-§7.6):
 * payload JSON in, validated fields or the problem the handler replies with out. */
#include "bodies.h"

#include <stdlib.h>
#include <string.h>

#include "b64.h"
#include "error.h"
#include "issuer.h"
#include "policy.h"
#include "timefmt.h"

/* Each parser builds its problem in prob and hands it over at out: only on
 * failure, as *ret only on success. FAIL makes the problem (FLINT_ENOMEM
 * when even that cannot be made) and leaves. */
#define FAIL(rc_, type_, ...)                                                                      \
	do {                                                                                       \
		prob = flint_problem_new(type_, __VA_ARGS__);                                      \
		rc = prob ? (rc_) : FLINT_ENOMEM;                                                  \
		goto out;                                                                          \
	} while (0)

static int oom(struct flint_problem **ret_problem)
{
	*ret_problem = flint_problem_new(FLINT_PROB_SERVER_INTERNAL, "out of memory");
	return FLINT_ENOMEM;
}

/* The problem to the caller on failure (freed on success: none is made). */
static int hand_over(int rc, struct flint_problem *prob, struct flint_problem **ret_problem)
{
	if (rc < 0)
		*ret_problem = prob;
	else
		flint_problem_free(prob);
	return rc;
}

static bool is_payload(const json_t *payload) { return json_is_object(payload); }

/* A string of at most FLINT_BODY_STRING_MAX bytes and no NUL inside. */
static bool bounded_string(const json_t *v)
{
	return json_is_string(v) && json_string_length(v) <= FLINT_BODY_STRING_MAX &&
	       strlen(json_string_value(v)) == json_string_length(v);
}

/* A contact array flint_policy_check_contacts accepts, as compact JSON into
 * *ret; else its problem (or out of memory) into *prob. */
static int contacts_json(const json_t *contact, char **ret, struct flint_problem **prob)
{
	int rc = flint_policy_check_contacts(contact, prob);

	if (rc < 0)
		return *prob ? rc : FLINT_ENOMEM;
	if (!(*ret = json_dumps(contact, JSON_COMPACT)))
		return oom(prob);
	return 0;
}

/* ---- newAccount (§7.3) ---- */

void flint_body_new_account_free(struct flint_body_new_account *b)
{
	if (!b)
		return;
	free(b->contact_json);
	json_decref(b->eab);
	free(b);
}

int flint_body_new_account_parse(const json_t *payload, struct flint_body_new_account **ret,
				 struct flint_problem **ret_problem)
{
	struct flint_problem *prob = NULL;
	struct flint_body_new_account *b = NULL;
	const json_t *only, *tos, *contact;
	int rc = FLINT_EINVAL;

	if (!is_payload(payload))
		FAIL(FLINT_EINVAL, FLINT_PROB_MALFORMED, "newAccount needs a JSON payload");
	if (!(b = calloc(1, sizeof(*b)))) {
		rc = oom(&prob);
		goto out;
	}
	only = json_object_get(payload, "onlyReturnExisting");
	if (only && !json_is_boolean(only))
		FAIL(FLINT_EINVAL, FLINT_PROB_MALFORMED, "onlyReturnExisting must be a boolean");
	if (json_is_true(only)) {
		/* §7.3.1: a lookup, never a creation; the rest is not read */
		b->only_return_existing = true;
		goto done;
	}
	tos = json_object_get(payload, "termsOfServiceAgreed");
	if (tos && !json_is_boolean(tos))
		FAIL(FLINT_EINVAL, FLINT_PROB_MALFORMED, "termsOfServiceAgreed must be a boolean");
	b->tos_agreed = json_is_true(tos);
	contact = json_object_get(payload, "contact");
	if (contact && !json_is_null(contact)) {
		if ((rc = contacts_json(contact, &b->contact_json, &prob)) < 0)
			goto out;
	} else if (!(b->contact_json = strdup("[]"))) {
		rc = oom(&prob);
		goto out;
	}
	b->eab = json_incref(json_object_get(payload, "externalAccountBinding"));
done:
	*ret = b;
	b = NULL;
	rc = 0;
out:
	flint_body_new_account_free(b);
	return hand_over(rc, prob, ret_problem);
}

/* ---- account update and deactivation (§7.3.2, §7.3.6) ---- */

void flint_body_account_update_free(struct flint_body_account_update *b)
{
	if (!b)
		return;
	free(b->contact_json);
	free(b);
}

int flint_body_account_update_parse(const json_t *payload, struct flint_body_account_update **ret,
				    struct flint_problem **ret_problem)
{
	struct flint_problem *prob = NULL;
	struct flint_body_account_update *b = NULL;
	const json_t *status, *contact;
	const char *want;
	int rc = FLINT_EINVAL;

	if (!is_payload(payload))
		FAIL(FLINT_EINVAL, FLINT_PROB_MALFORMED, "JWS payload is not a JSON object");
	if (!(b = calloc(1, sizeof(*b)))) {
		rc = oom(&prob);
		goto out;
	}
	status = json_object_get(payload, "status");
	want = json_string_value(status);
	/* "valid" names the status the signing account already has */
	if (status && (!want || json_string_length(status) != strlen(want) ||
		       (strcmp(want, "deactivated") != 0 && strcmp(want, "valid") != 0)))
		FAIL(FLINT_EINVAL, FLINT_PROB_MALFORMED,
		     "status may only be changed to \"deactivated\"");
	b->deactivate = want && !strcmp(want, "deactivated");
	contact = json_object_get(payload, "contact");
	if (contact && (rc = contacts_json(contact, &b->contact_json, &prob)) < 0)
		goto out;
	*ret = b;
	b = NULL;
	rc = 0;
out:
	flint_body_account_update_free(b);
	return hand_over(rc, prob, ret_problem);
}

/* ---- authorization deactivation (§7.5.2) ---- */

int flint_body_authz_update_parse(const json_t *payload, struct flint_problem **ret_problem)
{
	struct flint_problem *prob = NULL;
	const json_t *st = json_object_get(payload, "status");
	int rc = 0;

	if (!is_payload(payload) || !json_is_string(st) ||
	    strcmp(json_string_value(st), "deactivated") != 0 ||
	    json_string_length(st) != strlen("deactivated"))
		FAIL(FLINT_EINVAL, FLINT_PROB_MALFORMED,
		     "an authorization may only be changed to \"deactivated\"");
out:
	return hand_over(rc, prob, ret_problem);
}

/* ---- newAuthz (§7.4.1) ---- */

void flint_body_new_authz_free(struct flint_body_new_authz *b)
{
	if (!b)
		return;
	flint_identifier_clear(&b->id);
	free(b);
}

int flint_body_new_authz_parse(const json_t *payload, struct flint_body_new_authz **ret,
			       struct flint_problem **ret_problem)
{
	struct flint_problem *prob = NULL;
	struct flint_body_new_authz *b = NULL;
	struct flint_identifier *ids = NULL;
	size_t n_ids = 0;
	json_t *list = NULL;
	const json_t *ident = json_object_get(payload, "identifier");
	int rc = FLINT_EINVAL;

	if (!is_payload(payload) || !json_is_object(ident))
		FAIL(FLINT_EINVAL, FLINT_PROB_MALFORMED,
		     "newAuthz needs a payload {\"identifier\": {\"type\": ..., \"value\": ...}}");
	/* one identifier under exactly newOrder's rules */
	if (!(list = json_pack("[O]", ident)) || !(b = calloc(1, sizeof(*b)))) {
		rc = oom(&prob);
		goto out;
	}
	if ((rc = flint_policy_order_identifiers(list, &ids, &n_ids, &prob)) < 0) {
		if (!prob)
			rc = oom(&prob);
		goto out;
	}
	if (flint_identifier_is_wildcard(&ids[0]))
		FAIL(FLINT_EINVAL, FLINT_PROB_MALFORMED,
		     "%s: a wildcard cannot be pre-authorized (RFC 8555 §7.4.1); name it in a "
		     "newOrder",
		     ids[0].value);
	b->id = ids[0];
	memset(&ids[0], 0, sizeof(ids[0]));
	*ret = b;
	b = NULL;
	rc = 0;
out:
	for (size_t i = 0; i < n_ids; i++)
		flint_identifier_clear(&ids[i]);
	free(ids);
	json_decref(list);
	flint_body_new_authz_free(b);
	return hand_over(rc, prob, ret_problem);
}

/* ---- newOrder (§7.4) ---- */

void flint_body_new_order_free(struct flint_body_new_order *b)
{
	if (!b)
		return;
	for (size_t i = 0; i < b->n_ids; i++)
		flint_identifier_clear(&b->ids[i]);
	free(b->ids);
	free(b->profile);
	free(b->replaces);
	free(b);
}

/* An optional RFC 3339 member; 0 when absent. */
static int time_member(const json_t *payload, const char *name, int64_t *ret,
		       struct flint_problem **ret_problem)
{
	const json_t *v = json_object_get(payload, name);
	struct flint_problem *prob = NULL;
	int64_t t = 0;
	int rc = 0;

	if (v && (!bounded_string(v) || flint_time_parse(json_string_value(v), &t) < 0))
		FAIL(FLINT_EINVAL, FLINT_PROB_MALFORMED, "%s must be an RFC 3339 timestamp", name);
	*ret = t;
out:
	return hand_over(rc, prob, ret_problem);
}

int flint_body_new_order_parse(const json_t *payload, struct flint_body_new_order **ret,
			       struct flint_problem **ret_problem)
{
	struct flint_problem *prob = NULL;
	struct flint_body_new_order *b = NULL;
	const json_t *profile, *replaces;
	int rc = FLINT_EINVAL;

	if (!is_payload(payload))
		FAIL(FLINT_EINVAL, FLINT_PROB_MALFORMED, "newOrder needs a JSON payload");
	if (!(b = calloc(1, sizeof(*b)))) {
		rc = oom(&prob);
		goto out;
	}
	if ((rc = flint_policy_order_identifiers(json_object_get(payload, "identifiers"), &b->ids,
						 &b->n_ids, &prob)) < 0) {
		if (!prob)
			rc = oom(&prob);
		goto out;
	}
	profile = json_object_get(payload, "profile");
	if (profile && !bounded_string(profile))
		FAIL(FLINT_EINVAL, FLINT_PROB_MALFORMED, "profile must be a string");
	if (profile && !(b->profile = strdup(json_string_value(profile)))) {
		rc = oom(&prob);
		goto out;
	}
	if ((rc = time_member(payload, "notBefore", &b->not_before, &prob)) < 0 ||
	    (rc = time_member(payload, "notAfter", &b->not_after, &prob)) < 0)
		goto out;
	replaces = json_object_get(payload, "replaces");
	if (replaces && !bounded_string(replaces))
		FAIL(FLINT_EINVAL, FLINT_PROB_MALFORMED,
		     "replaces must be a certificate ID string");
	if (replaces && !(b->replaces = strdup(json_string_value(replaces)))) {
		rc = oom(&prob);
		goto out;
	}
	*ret = b;
	b = NULL;
	rc = 0;
out:
	flint_body_new_order_free(b);
	return hand_over(rc, prob, ret_problem);
}

/* ---- finalize (§7.4) ---- */

void flint_body_finalize_free(struct flint_body_finalize *b)
{
	if (!b)
		return;
	free(b->der);
	flint_csr_free(b->csr);
	free(b);
}

int flint_body_finalize_parse(const json_t *payload, struct flint_body_finalize **ret,
			      struct flint_problem **ret_problem)
{
	struct flint_problem *prob = NULL;
	struct flint_body_finalize *b = NULL;
	const json_t *v = json_object_get(payload, "csr");
	const char *s = json_string_value(v);
	int rc = FLINT_EINVAL;

	if (!is_payload(payload) || !s)
		FAIL(FLINT_EINVAL, FLINT_PROB_MALFORMED, "finalize needs a \"csr\" string");
	if (!(b = calloc(1, sizeof(*b)))) {
		rc = oom(&prob);
		goto out;
	}
	/* the size bound is flint_csr_parse_der's FLINT_CSR_MAX_DER (badCSR) */
	if (json_string_length(v) != strlen(s) ||
	    flint_b64url_decode(s, strlen(s), &b->der, &b->der_len) < 0)
		FAIL(FLINT_EINVAL, FLINT_PROB_MALFORMED, "csr is not base64url without padding");
	if ((rc = flint_csr_parse_der(b->der, b->der_len, &b->csr, &prob)) < 0) {
		if (!prob)
			FAIL(rc, FLINT_PROB_BAD_CSR, "invalid CSR");
		goto out;
	}
	*ret = b;
	b = NULL;
	rc = 0;
out:
	flint_body_finalize_free(b);
	return hand_over(rc, prob, ret_problem);
}

/* ---- revokeCert (§7.6) ---- */

void flint_body_revoke_free(struct flint_body_revoke *b)
{
	if (!b)
		return;
	free(b->der);
	X509_free(b->cert);
	free(b->serial);
	free(b);
}

int flint_body_revoke_parse(const json_t *payload, struct flint_body_revoke **ret,
			    struct flint_problem **ret_problem)
{
	struct flint_problem *prob = NULL;
	struct flint_body_revoke *b = NULL;
	const json_t *v = json_object_get(payload, "certificate");
	const json_t *jr = json_object_get(payload, "reason");
	const char *s = json_string_value(v);
	const unsigned char *p;
	int rc = FLINT_EINVAL;

	if (!(b = calloc(1, sizeof(*b)))) {
		rc = oom(&prob);
		goto out;
	}
	if (!is_payload(payload) || !s || json_string_length(v) != strlen(s) ||
	    json_string_length(v) > (FLINT_BODY_CERT_MAX_DER + 2) / 3 * 4 ||
	    flint_b64url_decode(s, strlen(s), &b->der, &b->der_len) < 0)
		FAIL(FLINT_EINVAL, FLINT_PROB_MALFORMED,
		     "revokeCert needs \"certificate\": base64url DER");
	/* json_integer_value is a long long: range-check before narrowing */
	if (jr &&
	    (!json_is_integer(jr) || json_integer_value(jr) < 0 || json_integer_value(jr) > 10 ||
	     !flint_policy_revocation_reason_ok((int)json_integer_value(jr))))
		FAIL(FLINT_EINVAL, FLINT_PROB_BAD_REVOCATION_REASON,
		     "reason must be one of the RFC 5280 CRLReason codes 0, 1, 2, 3, 4, 5, 9, 10");
	b->reason = jr ? (int)json_integer_value(jr) : 0;
	p = b->der;
	b->cert = d2i_X509(NULL, &p, (long)b->der_len);
	if (!b->cert || p != b->der + b->der_len)
		FAIL(FLINT_EINVAL, FLINT_PROB_MALFORMED, "certificate is not DER X.509");
	if ((rc = flint_issuer_serial_hex(b->cert, &b->serial)) < 0) {
		if (rc == FLINT_ENOMEM) {
			rc = oom(&prob);
			goto out;
		}
		FAIL(FLINT_EINVAL, FLINT_PROB_MALFORMED, "certificate is not DER X.509");
	}
	*ret = b;
	b = NULL;
	rc = 0;
out:
	flint_body_revoke_free(b);
	return hand_over(rc, prob, ret_problem);
}

/* ---- keyChange inner payload (§7.3.5) ---- */

void flint_body_key_change_free(struct flint_body_key_change *b)
{
	if (!b)
		return;
	free(b->account);
	flint_jwk_free(b->old_key);
	free(b);
}

int flint_body_key_change_parse(const json_t *inner, struct flint_body_key_change **ret,
				struct flint_problem **ret_problem)
{
	struct flint_problem *prob = NULL;
	struct flint_body_key_change *b = NULL;
	const json_t *account = json_object_get(inner, "account");
	const json_t *old_key = json_object_get(inner, "oldKey");
	int rc = FLINT_EINVAL;

	if (!is_payload(inner) || !json_is_string(account) || !old_key)
		FAIL(FLINT_EINVAL, FLINT_PROB_MALFORMED,
		     "inner payload needs \"account\" and \"oldKey\"");
	if (!bounded_string(account))
		FAIL(FLINT_EINVAL, FLINT_PROB_MALFORMED, "inner \"account\" is not an account URL");
	if (!(b = calloc(1, sizeof(*b))) || !(b->account = strdup(json_string_value(account)))) {
		rc = oom(&prob);
		goto out;
	}
	if ((rc = flint_jwk_from_json(old_key, &b->old_key)) < 0) {
		if (rc == FLINT_ENOMEM) {
			rc = oom(&prob);
			goto out;
		}
		FAIL(FLINT_EINVAL, FLINT_PROB_MALFORMED, "oldKey is not the account's current key");
	}
	*ret = b;
	b = NULL;
	rc = 0;
out:
	flint_body_key_change_free(b);
	return hand_over(rc, prob, ret_problem);
}

/* ---- challenge response (§7.5.1) ---- */

int flint_body_challenge_parse(const json_t *payload, struct flint_problem **ret_problem)
{
	struct flint_problem *prob = NULL;
	int rc = 0;

	if (!is_payload(payload))
		FAIL(FLINT_EINVAL, FLINT_PROB_MALFORMED, "JWS payload is not a JSON object");
out:
	return hand_over(rc, prob, ret_problem);
}
