/* The dns-account-01 validator (draft-ietf-acme-dns-account-label-02 §3): a TXT
 * record at _<base32(SHA-256(account URL)[0:10])>._acme-challenge.<name> must
 * equal base64url(SHA-256(key authorization)), as for dns-01; wildcards included. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dnsaccount.h"
#include "error.h"
#include "validate/dnstxt.h"
#include "validator.h"

/* Shown in the detail: the name follows from this URL, so a client that derived
 * it from another string can tell at once. Longer URLs are cut. */
#define SHOWN_URL_CHARS 200

static bool dnsaccount01_applies(const char *ident_type, bool wildcard)
{
	(void)wildcard;
	return ident_type && strcmp(ident_type, "dns") == 0; /* never ip: RFC 8738 §7 */
}

static int dnsaccount01_validate(const struct flint_validator_ctx *ctx,
				 const struct flint_validation *v,
				 struct flint_problem **ret_problem)
{
	char *name = NULL, why[SHOWN_URL_CHARS + 64];
	int err;

	if (!ctx || !ctx->resolver || !v || !v->ident_value || !v->key_authorization ||
	    !v->account_url || !*v->account_url) {
		if (ret_problem)
			*ret_problem = flint_problem_new(FLINT_PROB_SERVER_INTERNAL,
							 "dns-account-01 validation misconfigured");
		return FLINT_EINVAL;
	}
	err = flint_dnsaccount_name(v->account_url, v->ident_value, &name);
	if (err == FLINT_ENOMEM)
		return err;
	if (err < 0) {
		/* e.g. a valid identifier whose account-label name exceeds 253 octets */
		if (ret_problem)
			*ret_problem = flint_problem_new(
			    FLINT_PROB_REJECTED_IDENTIFIER,
			    "no dns-account-01 validation name for %.80s%s: %s", v->ident_value,
			    strlen(v->ident_value) > 80 ? "..." : "",
			    err == FLINT_ETOOBIG ? "it would exceed 253 octets"
						 : "not a host name");
		return err;
	}
	snprintf(why, sizeof(why), "(the dns-account-01 name of account %.*s%s)", SHOWN_URL_CHARS,
		 v->account_url, strlen(v->account_url) > SHOWN_URL_CHARS ? "..." : "");
	err = flint_dns_txt_check(ctx, name, v->key_authorization, why, ret_problem);
	free(name);
	return err;
}

const struct flint_validator flint_validator_dnsaccount01 = {
    .type = "dns-account-01",
    .applies = dnsaccount01_applies,
    .validate = dnsaccount01_validate,
};
