/* External account binding (RFC 8555 §7.3.4): newAccount's MAC-signed inner
 * JWS checked with libflint against the operator-made keys in the store. */
#include "eab.h"

#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "jws.h"

bool flint_eab_kid_ok(const char *kid)
{
	size_t n = kid ? strlen(kid) : 0;

	return n >= 1 && n <= FLINT_EAB_KID_MAX &&
	       strspn(kid, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-") ==
		   n;
}

/* The parser's problem with "externalAccountBinding: " in front when its
 * detail does not already name the member. */
static struct flint_problem *named(struct flint_problem *p)
{
	struct flint_problem *q;

	if (!p)
		return flint_problem_new(FLINT_PROB_MALFORMED, "invalid externalAccountBinding");
	if (p->detail && strncmp(p->detail, "externalAccountBinding", 22) == 0)
		return p;
	q = flint_problem_new(p->type, "externalAccountBinding: %s",
			      p->detail ? p->detail : "invalid");
	if (!q)
		return p;
	flint_problem_free(p);
	return q;
}

int flint_eab_verify(struct flint_store *st, const json_t *binding, const char *url,
		     const struct flint_jwk *account_key, char **ret_kid,
		     struct flint_problem **ret_problem)
{
	struct flint_problem *prob = NULL;
	struct flint_eab_key *key = NULL;
	struct flint_jws *jws = NULL;
	struct flint_jwk *bound = NULL;
	json_t *payload = NULL;
	char *body = NULL;
	int r;

	*ret_problem = NULL;
	if (!st || !url || !account_key || !ret_kid)
		return FLINT_EINVAL;
	if (!json_is_object(binding)) {
		*ret_problem = flint_problem_new(
		    FLINT_PROB_MALFORMED, "externalAccountBinding must be a flattened JWS object");
		return FLINT_EINVAL;
	}
	if (!(body = json_dumps(binding, JSON_COMPACT))) {
		r = FLINT_ENOMEM;
		goto out;
	}
	r = flint_jws_parse(body, strlen(body), FLINT_JWS_EAB, &jws, &prob);
	if (r < 0) {
		*ret_problem = named(prob);
		prob = NULL;
		goto out;
	}
	r = FLINT_EINVAL;
	if (strcmp(jws->url, url) != 0) {
		*ret_problem = flint_problem_new(
		    FLINT_PROB_UNAUTHORIZED,
		    "externalAccountBinding url \"%.200s\" is not this request's URL \"%s\"",
		    jws->url, url);
		goto out;
	}
	if (!flint_eab_kid_ok(jws->kid)) {
		*ret_problem = flint_problem_new(FLINT_PROB_UNAUTHORIZED,
						 "unknown externalAccountBinding kid");
		goto out;
	}
	r = st->ops->eab_get(st, jws->kid, &key);
	if (r == FLINT_ENOTFOUND) {
		*ret_problem = flint_problem_new(
		    FLINT_PROB_UNAUTHORIZED, "unknown externalAccountBinding kid \"%s\"", jws->kid);
		goto out;
	} else if (r < 0) {
		*ret_problem = flint_problem_new(FLINT_PROB_SERVER_INTERNAL, "EAB key store: %s",
						 flint_strerror(r));
		goto out;
	}
	r = FLINT_EINVAL;
	if (key->account_id) {
		*ret_problem = flint_problem_new(
		    FLINT_PROB_UNAUTHORIZED,
		    "externalAccountBinding kid \"%s\" is already bound to an account", jws->kid);
		goto out;
	}
	if (strcmp(key->alg, jws->alg) != 0) {
		*ret_problem = flint_problem_new(
		    FLINT_PROB_UNAUTHORIZED,
		    "externalAccountBinding kid \"%s\" is an %s key; the binding is signed with %s",
		    jws->kid, key->alg, jws->alg);
		goto out;
	}
	r = flint_jws_verify_hmac(jws, key->hmac_key, key->hmac_key_len, &prob);
	if (r < 0) {
		*ret_problem = named(prob);
		prob = NULL;
		goto out;
	}
	r = FLINT_EINVAL;
	payload = json_loadb(jws->payload, jws->payload_len, JSON_REJECT_DUPLICATES, NULL);
	if (!json_is_object(payload) || flint_jwk_from_json(payload, &bound) < 0) {
		*ret_problem = flint_problem_new(
		    FLINT_PROB_MALFORMED,
		    "externalAccountBinding payload must be the account's public JWK");
		goto out;
	}
	if (strcmp(bound->thumbprint, account_key->thumbprint) != 0) {
		*ret_problem = flint_problem_new(
		    FLINT_PROB_UNAUTHORIZED,
		    "externalAccountBinding binds another key than the one signing this request");
		goto out;
	}
	if (!(*ret_kid = strdup(jws->kid))) {
		r = FLINT_ENOMEM;
		goto out;
	}
	r = 0;
out:
	if (r == FLINT_ENOMEM && !*ret_problem)
		*ret_problem = flint_problem_new(FLINT_PROB_SERVER_INTERNAL, "out of memory");
	flint_problem_free(prob);
	flint_jwk_free(bound);
	json_decref(payload);
	flint_eab_key_free(key);
	flint_jws_free(jws);
	free(body);
	return r;
}
