/* Unit tests for problem.c: RFC 8555 §6.7 type URNs and statuses, the
 * document shape with subproblems (§6.7.1) and extra members, round trip. */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "error.h"
#include "problem.h"

static void test_types(void)
{
	static const struct {
		enum flint_problem_type t;
		const char *name;
		int status;
	} v[] = {
		{FLINT_PROB_ACCOUNT_DOES_NOT_EXIST, "accountDoesNotExist", 400},
		{FLINT_PROB_ALREADY_REPLACED, "alreadyReplaced", 409},
		{FLINT_PROB_ALREADY_REVOKED, "alreadyRevoked", 400},
		{FLINT_PROB_BAD_CSR, "badCSR", 400},
		{FLINT_PROB_BAD_NONCE, "badNonce", 400},
		{FLINT_PROB_BAD_PUBLIC_KEY, "badPublicKey", 400},
		{FLINT_PROB_BAD_REVOCATION_REASON, "badRevocationReason", 400},
		{FLINT_PROB_BAD_SIGNATURE_ALGORITHM, "badSignatureAlgorithm", 400},
		{FLINT_PROB_CAA, "caa", 400},
		{FLINT_PROB_COMPOUND, "compound", 400},
		{FLINT_PROB_CONNECTION, "connection", 400},
		{FLINT_PROB_DNS, "dns", 400},
		{FLINT_PROB_EXTERNAL_ACCOUNT_REQUIRED, "externalAccountRequired", 400},
		{FLINT_PROB_INCORRECT_RESPONSE, "incorrectResponse", 400},
		{FLINT_PROB_INVALID_CONTACT, "invalidContact", 400},
		{FLINT_PROB_INVALID_PROFILE, "invalidProfile", 400},
		{FLINT_PROB_MALFORMED, "malformed", 400},
		{FLINT_PROB_ORDER_NOT_READY, "orderNotReady", 403},
		{FLINT_PROB_RATE_LIMITED, "rateLimited", 429},
		{FLINT_PROB_REJECTED_IDENTIFIER, "rejectedIdentifier", 400},
		{FLINT_PROB_SERVER_INTERNAL, "serverInternal", 500},
		{FLINT_PROB_TLS, "tls", 400},
		{FLINT_PROB_UNAUTHORIZED, "unauthorized", 401},
		{FLINT_PROB_UNSUPPORTED_CONTACT, "unsupportedContact", 400},
		{FLINT_PROB_UNSUPPORTED_IDENTIFIER, "unsupportedIdentifier", 400},
		{FLINT_PROB_USER_ACTION_REQUIRED, "userActionRequired", 403},
		{FLINT_PROB_CONFLICT, "malformed", 409},
	};
	CHECK_INT(sizeof(v) / sizeof(v[0]), FLINT_PROB__COUNT);
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		char urn[128];
		enum flint_problem_type back = FLINT_PROB__COUNT;

		snprintf(urn, sizeof(urn), "urn:ietf:params:acme:error:%s", v[i].name);
		CHECK_STR(flint_problem_type_urn(v[i].t), urn);
		CHECK_INT(flint_problem_type_status(v[i].t), v[i].status);
		CHECK_INT(flint_problem_type_from_urn(urn, &back), 0);
		if (v[i].t != FLINT_PROB_CONFLICT)
			CHECK_INT(back, v[i].t);
	}
	{
		enum flint_problem_type back = FLINT_PROB_DNS;
		CHECK_INT(flint_problem_type_from_urn("urn:ietf:params:acme:error:nope", &back),
			  FLINT_ENOTFOUND);
		CHECK_INT(back, FLINT_PROB_DNS);
	}
}

static void test_to_json(void)
{
	struct flint_problem *p = flint_problem_new(FLINT_PROB_REJECTED_IDENTIFIER, "%d bad names", 2);
	json_t *doc, *sub;

	CHECK(p != NULL);
	if (!p)
		return;
	CHECK_INT(p->status, 400);
	CHECK_STR(p->detail, "2 bad names");
	CHECK_INT(flint_problem_add_sub(p, FLINT_PROB_REJECTED_IDENTIFIER, "dns", "a..b", "empty label"), 0);
	CHECK_INT(flint_problem_add_sub(p, FLINT_PROB_CAA, NULL, NULL, "no %s", "caa"), 0);
	p->extra = json_pack("{s:[s]}", "algorithms", "ES256");
	doc = flint_problem_to_json(p);
	CHECK_STR(json_string_value(json_object_get(doc, "type")),
		  "urn:ietf:params:acme:error:rejectedIdentifier");
	CHECK_STR(json_string_value(json_object_get(doc, "detail")), "2 bad names");
	CHECK_INT(json_integer_value(json_object_get(doc, "status")), 400);
	CHECK_STR(json_string_value(json_array_get(json_object_get(doc, "algorithms"), 0)), "ES256");
	CHECK_INT(json_array_size(json_object_get(doc, "subproblems")), 2);
	sub = json_array_get(json_object_get(doc, "subproblems"), 0);
	CHECK_STR(json_string_value(json_object_get(sub, "type")),
		  "urn:ietf:params:acme:error:rejectedIdentifier");
	CHECK_STR(json_string_value(json_object_get(json_object_get(sub, "identifier"), "value")), "a..b");
	CHECK_STR(json_string_value(json_object_get(json_object_get(sub, "identifier"), "type")), "dns");
	sub = json_array_get(json_object_get(doc, "subproblems"), 1);
	CHECK(json_object_get(sub, "identifier") == NULL);
	CHECK_STR(json_string_value(json_object_get(sub, "detail")), "no caa");

	/* Round trip. */
	{
		struct flint_problem *q = NULL;
		CHECK_INT(flint_problem_from_json(doc, &q), 0);
		CHECK(q && q->type == FLINT_PROB_REJECTED_IDENTIFIER && q->n_sub == 2);
		CHECK(q && q->extra && json_object_get(q->extra, "algorithms"));
		CHECK_STR(q ? q->sub[0].ident_value : NULL, "a..b");
		CHECK(q && q->sub[1].type == FLINT_PROB_CAA && q->sub[1].ident_type == NULL);
		flint_problem_free(q);
	}
	json_decref(doc);
	flint_problem_free(p);
}

static void test_conflict_and_unauthorized(void)
{
	struct flint_problem *p = flint_problem_new(FLINT_PROB_CONFLICT, "key in use"), *q = NULL;
	json_t *doc = flint_problem_to_json(p);

	CHECK_STR(json_string_value(json_object_get(doc, "type")), "urn:ietf:params:acme:error:malformed");
	CHECK_INT(json_integer_value(json_object_get(doc, "status")), 409);
	CHECK_INT(flint_problem_from_json(doc, &q), 0);
	CHECK(q && q->type == FLINT_PROB_CONFLICT && q->status == 409);
	flint_problem_free(q);
	json_decref(doc);
	flint_problem_free(p);

	p = flint_problem_new(FLINT_PROB_UNAUTHORIZED, "url mismatch");
	CHECK(p && p->status == 401);
	flint_problem_free(p);
}

static void test_from_json_hostile(void)
{
	struct flint_problem *p = NULL;
	json_t *doc;

	doc = json_pack("{s:s, s:s, s:i}", "type", "urn:example:custom", "detail", "x", "status", 418);
	CHECK_INT(flint_problem_from_json(doc, &p), 0);
	CHECK(p && p->type == FLINT_PROB_MALFORMED && p->status == 418);
	CHECK(p && p->detail && strstr(p->detail, "urn:example:custom") != NULL);
	flint_problem_free(p);
	json_decref(doc);

	p = NULL;
	doc = json_pack("{s:s, s:s}", "type", "urn:ietf:params:acme:error:dns", "subproblems", "no");
	CHECK_INT(flint_problem_from_json(doc, &p), FLINT_EINVAL);
	CHECK(p == NULL);
	json_decref(doc);

	doc = json_pack("{s:s, s:[i]}", "type", "urn:ietf:params:acme:error:dns", "subproblems", 1);
	CHECK_INT(flint_problem_from_json(doc, &p), FLINT_EINVAL);
	json_decref(doc);

	doc = json_string("x");
	CHECK_INT(flint_problem_from_json(doc, &p), FLINT_EINVAL);
	json_decref(doc);
	CHECK(p == NULL);
	flint_problem_free(NULL);
}

/* A detail that quotes client input cut inside a character, or bytes that
 * are not UTF-8 at all, still becomes a JSON problem document (found by
 * fuzz_request_body: a contact address cut at 100 bytes mid-character made
 * flint_problem_to_json fail). */
static void test_detail_utf8(void)
{
	static const struct {
		const char *in, *want;
	} cases[] = {
		{"a\xc3\xa9", "a\xc3\xa9"},                  /* whole: kept */
		{"\xf0\x9f\x94\x92 ok", "\xf0\x9f\x94\x92 ok"},  /* 4 octets: kept */
		{"\xff\xfe", "??"},                        /* never UTF-8 */
		{"\xc0\xaf", "??"},                        /* overlong */
		{"\xed\xa0\x80", "???"},                   /* a surrogate */
		{"\xf4\x90\x80\x80", "????"},              /* beyond U+10FFFF */
		{"x\xe2\x82", "x??"},                      /* cut short */
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct flint_problem *p = flint_problem_new(FLINT_PROB_MALFORMED, "%s", cases[i].in);
		json_t *doc = p ? flint_problem_to_json(p) : NULL;

		CHECK(p != NULL);
		if (p)
			CHECK_STR(p->detail, cases[i].want);
		CHECK(doc != NULL);
		json_decref(doc);
		flint_problem_free(p);
	}
	/* cut mid-character by a precision, as the policy's details do */
	struct flint_problem *p = flint_problem_new(FLINT_PROB_INVALID_CONTACT, "\"%.2s\"", "a\xc3\xa9");
	json_t *doc = p ? flint_problem_to_json(p) : NULL;

	CHECK(p && !strcmp(p->detail, "\"a?\""));
	CHECK(doc != NULL);
	json_decref(doc);
	flint_problem_free(p);
}

int main(void)
{
	RUN(test_types);
	RUN(test_to_json);
	RUN(test_conflict_and_unauthorized);
	RUN(test_from_json_hostile);
	RUN(test_detail_utf8);
	return CHECK_DONE();
}
