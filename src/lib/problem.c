/* Problem documents (RFC 7807) carrying the ACME error types of RFC 8555
 * §6.7, with identifier subproblems (§6.7.1): built once, serialised once. */
#include "problem.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"

#define URN_PREFIX "urn:ietf:params:acme:error:"

static const struct {
	const char *urn;
	int status;
} problem_types[FLINT_PROB__COUNT] = {
	[FLINT_PROB_ACCOUNT_DOES_NOT_EXIST] = {URN_PREFIX "accountDoesNotExist", 400},
	[FLINT_PROB_ALREADY_REPLACED] = {URN_PREFIX "alreadyReplaced", 409},
	[FLINT_PROB_ALREADY_REVOKED] = {URN_PREFIX "alreadyRevoked", 400},
	[FLINT_PROB_BAD_CSR] = {URN_PREFIX "badCSR", 400},
	[FLINT_PROB_BAD_NONCE] = {URN_PREFIX "badNonce", 400},
	[FLINT_PROB_BAD_PUBLIC_KEY] = {URN_PREFIX "badPublicKey", 400},
	[FLINT_PROB_BAD_REVOCATION_REASON] = {URN_PREFIX "badRevocationReason", 400},
	[FLINT_PROB_BAD_SIGNATURE_ALGORITHM] = {URN_PREFIX "badSignatureAlgorithm", 400},
	[FLINT_PROB_CAA] = {URN_PREFIX "caa", 400},
	[FLINT_PROB_COMPOUND] = {URN_PREFIX "compound", 400},
	[FLINT_PROB_CONNECTION] = {URN_PREFIX "connection", 400},
	[FLINT_PROB_DNS] = {URN_PREFIX "dns", 400},
	[FLINT_PROB_EXTERNAL_ACCOUNT_REQUIRED] = {URN_PREFIX "externalAccountRequired", 400},
	[FLINT_PROB_INCORRECT_RESPONSE] = {URN_PREFIX "incorrectResponse", 400},
	[FLINT_PROB_INVALID_CONTACT] = {URN_PREFIX "invalidContact", 400},
	[FLINT_PROB_INVALID_PROFILE] = {URN_PREFIX "invalidProfile", 400},
	[FLINT_PROB_MALFORMED] = {URN_PREFIX "malformed", 400},
	[FLINT_PROB_ORDER_NOT_READY] = {URN_PREFIX "orderNotReady", 403},
	[FLINT_PROB_RATE_LIMITED] = {URN_PREFIX "rateLimited", 429},
	[FLINT_PROB_REJECTED_IDENTIFIER] = {URN_PREFIX "rejectedIdentifier", 400},
	[FLINT_PROB_SERVER_INTERNAL] = {URN_PREFIX "serverInternal", 500},
	[FLINT_PROB_TLS] = {URN_PREFIX "tls", 400},
	[FLINT_PROB_UNAUTHORIZED] = {URN_PREFIX "unauthorized", 401},
	[FLINT_PROB_UNSUPPORTED_CONTACT] = {URN_PREFIX "unsupportedContact", 400},
	[FLINT_PROB_UNSUPPORTED_IDENTIFIER] = {URN_PREFIX "unsupportedIdentifier", 400},
	[FLINT_PROB_USER_ACTION_REQUIRED] = {URN_PREFIX "userActionRequired", 403},
	/* Not an ACME type: a state conflict reported as malformed with 409. */
	[FLINT_PROB_CONFLICT] = {URN_PREFIX "malformed", 409},
};

static bool type_ok(enum flint_problem_type type)
{
	return (unsigned)type < FLINT_PROB__COUNT;
}

const char *flint_problem_type_urn(enum flint_problem_type type)
{
	if (!type_ok(type))
		return URN_PREFIX "serverInternal";
	return problem_types[type].urn;
}

int flint_problem_type_status(enum flint_problem_type type)
{
	if (!type_ok(type))
		return 500;
	return problem_types[type].status;
}

int flint_problem_type_from_urn(const char *urn, enum flint_problem_type *ret)
{
	if (!urn || !ret)
		return FLINT_EINVAL;
	/* CONFLICT shares malformed's URN; the lower index (MALFORMED) wins. */
	for (int i = 0; i < FLINT_PROB__COUNT; i++) {
		if (strcmp(problem_types[i].urn, urn) == 0) {
			*ret = (enum flint_problem_type)i;
			return 0;
		}
	}
	return FLINT_ENOTFOUND;
}

/* Length of the well-formed UTF-8 sequence at s (RFC 3629: no overlongs,
 * no surrogates, at most U+10FFFF), 0 when there is none. */
static size_t utf8_len(const unsigned char *s)
{
	unsigned char c = s[0];
	size_t n, i;
	unsigned char lo = 0x80, hi = 0xbf;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		n = 2;
	else if (c >= 0xe0 && c <= 0xef)
		n = 3, lo = c == 0xe0 ? 0xa0 : 0x80, hi = c == 0xed ? 0x9f : 0xbf;
	else if (c >= 0xf0 && c <= 0xf4)
		n = 4, lo = c == 0xf0 ? 0x90 : 0x80, hi = c == 0xf4 ? 0x8f : 0xbf;
	else
		return 0;
	for (i = 1; i < n; i++) {
		unsigned char min = i == 1 ? lo : 0x80, max = i == 1 ? hi : 0xbf;

		if (s[i] < min || s[i] > max)
			return 0; /* also the terminating NUL: a sequence cut short */
	}
	return n;
}

/* Details quote what clients sent, often cut to a length ("%.100s") that may
 * fall inside a character: every byte not part of well-formed UTF-8 becomes
 * '?', so the detail always encodes as a JSON string. */
static void utf8_repair(char *s)
{
	unsigned char *p = (unsigned char *)s;

	while (*p) {
		size_t n = utf8_len(p);

		if (n == 0)
			*p++ = '?';
		else
			p += n;
	}
}

static char *vformat(const char *fmt, va_list ap)
{
	char *s = NULL;

	if (!fmt)
		return strdup("");
	if (vasprintf(&s, fmt, ap) < 0)
		return NULL;
	utf8_repair(s);
	return s;
}

struct flint_problem *flint_problem_new(enum flint_problem_type type, const char *fmt, ...)
{
	struct flint_problem *p;
	va_list ap;

	if (!type_ok(type))
		type = FLINT_PROB_SERVER_INTERNAL;
	p = calloc(1, sizeof(*p));
	if (!p)
		return NULL;
	p->type = type;
	p->status = flint_problem_type_status(type);
	va_start(ap, fmt);
	p->detail = vformat(fmt, ap);
	va_end(ap);
	if (!p->detail) {
		free(p);
		return NULL;
	}
	return p;
}

static int add_sub(struct flint_problem *p, enum flint_problem_type type, const char *ident_type,
		   const char *ident_value, char *detail)
{
	struct flint_subproblem *sub, *grown;
	int r = FLINT_ENOMEM;

	if (!detail)
		return FLINT_ENOMEM;
	grown = realloc(p->sub, (p->n_sub + 1) * sizeof(*p->sub));
	if (!grown)
		goto out;
	p->sub = grown;
	sub = &p->sub[p->n_sub];
	memset(sub, 0, sizeof(*sub));
	sub->type = type_ok(type) ? type : FLINT_PROB_SERVER_INTERNAL;
	if (ident_type && !(sub->ident_type = strdup(ident_type)))
		goto out;
	if (ident_value && !(sub->ident_value = strdup(ident_value))) {
		free(sub->ident_type);
		goto out;
	}
	sub->detail = detail;
	detail = NULL;
	p->n_sub++;
	r = 0;
out:
	free(detail);
	return r;
}

int flint_problem_add_sub(struct flint_problem *p, enum flint_problem_type type,
			  const char *ident_type, const char *ident_value, const char *fmt, ...)
{
	va_list ap;
	char *detail;

	if (!p)
		return FLINT_EINVAL;
	va_start(ap, fmt);
	detail = vformat(fmt, ap);
	va_end(ap);
	return add_sub(p, type, ident_type, ident_value, detail);
}

json_t *flint_problem_to_json(const struct flint_problem *p)
{
	json_t *doc, *subs = NULL;

	if (!p)
		return NULL;
	doc = json_object();
	if (!doc)
		return NULL;
	/* Extra members first so the core members can never be overridden. */
	if (p->extra && json_is_object(p->extra) && json_object_update(doc, p->extra) != 0)
		goto fail;
	if (json_object_set_new(doc, "type", json_string(flint_problem_type_urn(p->type))) != 0 ||
	    json_object_set_new(doc, "detail", json_string(p->detail ? p->detail : "")) != 0 ||
	    json_object_set_new(doc, "status", json_integer(p->status)) != 0)
		goto fail;
	if (p->n_sub) {
		subs = json_array();
		if (!subs)
			goto fail;
		for (size_t i = 0; i < p->n_sub; i++) {
			const struct flint_subproblem *s = &p->sub[i];
			json_t *o = json_pack("{s:s, s:s}", "type", flint_problem_type_urn(s->type),
					      "detail", s->detail ? s->detail : "");
			if (!o)
				goto fail;
			if (s->ident_type || s->ident_value) {
				json_t *id = json_pack("{s:s, s:s}", "type",
						       s->ident_type ? s->ident_type : "", "value",
						       s->ident_value ? s->ident_value : "");
				if (!id || json_object_set_new(o, "identifier", id) != 0) {
					json_decref(o);
					goto fail;
				}
			}
			if (json_array_append_new(subs, o) != 0)
				goto fail;
		}
		if (json_object_set_new(doc, "subproblems", subs) != 0) {
			subs = NULL;
			goto fail;
		}
	}
	return doc;
fail:
	json_decref(subs);
	json_decref(doc);
	return NULL;
}

/* Maps a URN to a type; unknown URNs become malformed with the URN kept. */
static enum flint_problem_type type_or_malformed(const char *urn, bool *known)
{
	enum flint_problem_type t;

	*known = urn && flint_problem_type_from_urn(urn, &t) == 0;
	return *known ? t : FLINT_PROB_MALFORMED;
}

static char *detail_for(const char *urn, bool known, const char *detail)
{
	char *s = NULL;

	if (known || !urn)
		return strdup(detail ? detail : "");
	if (asprintf(&s, "%s: %s", urn, detail ? detail : "") < 0)
		return NULL;
	return s;
}

int flint_problem_from_json(const json_t *doc, struct flint_problem **ret)
{
	struct flint_problem *p = NULL;
	const char *urn, *detail, *key;
	json_t *status, *subs, *val;
	bool known;
	int r = FLINT_EINVAL;

	if (!doc || !ret || !json_is_object(doc))
		return FLINT_EINVAL;
	urn = json_string_value(json_object_get(doc, "type"));
	detail = json_string_value(json_object_get(doc, "detail"));
	p = calloc(1, sizeof(*p));
	if (!p)
		return FLINT_ENOMEM;
	p->type = type_or_malformed(urn, &known);
	p->detail = detail_for(urn, known, detail);
	if (!p->detail) {
		r = FLINT_ENOMEM;
		goto out;
	}
	status = json_object_get(doc, "status");
	if (json_is_integer(status) && json_integer_value(status) >= 100 &&
	    json_integer_value(status) <= 599)
		p->status = (int)json_integer_value(status);
	else
		p->status = flint_problem_type_status(p->type);
	if (p->type == FLINT_PROB_MALFORMED && p->status == 409)
		p->type = FLINT_PROB_CONFLICT;

	subs = json_object_get(doc, "subproblems");
	if (subs && !json_is_array(subs))
		goto out;
	for (size_t i = 0; i < json_array_size(subs); i++) {
		json_t *s = json_array_get(subs, i), *id;
		const char *surn;
		bool sknown;
		enum flint_problem_type st;
		char *sd;

		if (!json_is_object(s)) {
			r = FLINT_EINVAL;
			goto out;
		}
		surn = json_string_value(json_object_get(s, "type"));
		st = type_or_malformed(surn, &sknown);
		sd = detail_for(surn, sknown, json_string_value(json_object_get(s, "detail")));
		id = json_object_get(s, "identifier");
		r = add_sub(p, st, json_string_value(json_object_get(id, "type")),
			    json_string_value(json_object_get(id, "value")), sd);
		if (r < 0)
			goto out;
	}

	json_object_foreach((json_t *)doc, key, val) {
		if (!strcmp(key, "type") || !strcmp(key, "detail") || !strcmp(key, "status") ||
		    !strcmp(key, "subproblems"))
			continue;
		if (!p->extra && !(p->extra = json_object())) {
			r = FLINT_ENOMEM;
			goto out;
		}
		if (json_object_set(p->extra, key, val) != 0) {
			r = FLINT_ENOMEM;
			goto out;
		}
	}
	*ret = p;
	p = NULL;
	r = 0;
out:
	flint_problem_free(p);
	return r;
}

void flint_problem_free(struct flint_problem *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->n_sub; i++) {
		free(p->sub[i].detail);
		free(p->sub[i].ident_type);
		free(p->sub[i].ident_value);
	}
	free(p->sub);
	free(p->detail);
	json_decref(p->extra);
	free(p);
}
