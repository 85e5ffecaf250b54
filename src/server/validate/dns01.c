/* The dns-01 validator (RFC 8555 §8.4): a TXT record at _acme-challenge.<name>
 * must equal base64url(SHA-256(key authorization)); wildcards included. Its TXT
 * check is shared with dns-account-01 (dnstxt.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "keyauth.h"
#include "resolver.h"
#include "validate/dnstxt.h"
#include "validator.h"

#define SHOWN_RECORDS 3
#define SHOWN_CHARS 64

static bool dns01_applies(const char *ident_type, bool wildcard)
{
	(void)wildcard;
	return ident_type && strcmp(ident_type, "dns") == 0;
}

/* Appends "\"<up to SHOWN_CHARS printable chars>\"" to buf (size cap). */
static void append_quoted(char *buf, size_t cap, const char *s)
{
	size_t o = strlen(buf), i;

	if (o + 2 >= cap)
		return;
	buf[o++] = '"';
	for (i = 0; i < SHOWN_CHARS && s[i] && o + 2 < cap; i++)
		buf[o++] = (s[i] >= 0x20 && s[i] < 0x7f && s[i] != '"' && s[i] != '\\') ? s[i] : '?';
	if (i == SHOWN_CHARS && s[i] && o + 5 < cap) {
		memcpy(buf + o, "...", 3);
		o += 3;
	}
	buf[o++] = '"';
	buf[o] = '\0';
}

int flint_dns_txt_check(const struct flint_validator_ctx *ctx, const char *name,
			const char *key_authorization, const char *why,
			struct flint_problem **ret_problem)
{
	struct flint_problem *p = NULL;
	char *want = NULL, **txt = NULL;
	char found[SHOWN_RECORDS * (SHOWN_CHARS + 8) + 32];
	size_t n = 0;
	int err = FLINT_EINVAL;
	const char *sep = why ? " " : "", *note = why ? why : "";

	if (!ctx || !ctx->resolver || !name || !key_authorization) {
		p = flint_problem_new(FLINT_PROB_SERVER_INTERNAL, "DNS validation misconfigured");
		goto out;
	}
	err = flint_keyauth_digest_b64(key_authorization, &want);
	if (err < 0) {
		p = flint_problem_new(FLINT_PROB_SERVER_INTERNAL, "cannot digest key authorization");
		goto out;
	}
	err = flint_resolver_txt(ctx->resolver, name, &txt, &n, &p);
	if (err < 0)
		goto out;
	for (size_t i = 0; i < n; i++) {
		if (strcmp(txt[i], want) == 0) {
			err = 0;
			goto out;
		}
	}
	err = FLINT_ENOTFOUND;
	if (n == 0) {
		p = flint_problem_new(FLINT_PROB_UNAUTHORIZED, "No TXT record found at %s%s%s",
				      name, sep, note);
		goto out;
	}
	found[0] = '\0';
	for (size_t i = 0; i < n && i < SHOWN_RECORDS; i++) {
		if (i)
			snprintf(found + strlen(found), sizeof(found) - strlen(found), ", ");
		append_quoted(found, sizeof(found), txt[i]);
	}
	if (n > SHOWN_RECORDS)
		snprintf(found + strlen(found), sizeof(found) - strlen(found), " (and %zu more)",
			 n - SHOWN_RECORDS);
	p = flint_problem_new(FLINT_PROB_INCORRECT_RESPONSE,
			      "Incorrect TXT record %s found at %s%s%s", found, name, sep, note);
out:
	if (err < 0 && ret_problem) {
		*ret_problem = p;
		p = NULL;
	}
	flint_problem_free(p);
	for (size_t i = 0; i < n; i++)
		free(txt[i]);
	free(txt);
	free(want);
	return err;
}

static int dns01_validate(const struct flint_validator_ctx *ctx, const struct flint_validation *v,
			  struct flint_problem **ret_problem)
{
	char *name = NULL;
	int err;

	if (!ctx || !ctx->resolver || !v || !v->ident_value || !v->key_authorization) {
		if (ret_problem)
			*ret_problem = flint_problem_new(FLINT_PROB_SERVER_INTERNAL,
							 "dns-01 validation misconfigured");
		return FLINT_EINVAL;
	}
	if (asprintf(&name, "_acme-challenge.%s", v->ident_value) < 0)
		return FLINT_ENOMEM;
	err = flint_dns_txt_check(ctx, name, v->key_authorization, NULL, ret_problem);
	free(name);
	return err;
}

const struct flint_validator flint_validator_dns01 = {
	.type = "dns-01",
	.applies = dns01_applies,
	.validate = dns01_validate,
};
