/* Unit tests for the ACME request body parsers (api/bodies.c, RFC 8555
 * §7.3-§7.6): the realistic bodies, and hostile ones with their exact problem. */
#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/bodies.h"
#include "b64.h"
#include "check.h"
#include "csr_build.h"
#include "error.h"
#include "jwk.h"

#define PROB_NONE (-1)

static json_t *load(const char *s)
{
	json_error_t err;
	json_t *doc = json_loads(s, JSON_REJECT_DUPLICATES, &err);
	if (!doc)
		fprintf(stderr, "test JSON does not parse: %s: %s\n", err.text, s);
	return doc;
}

/* A string of n copies of c (malloc'd). */
static char *repeat(char c, size_t n)
{
	char *s = malloc(n + 1);
	if (s) {
		memset(s, c, n);
		s[n] = '\0';
	}
	return s;
}

/* Checks the outcome of a parse: want is a problem type or PROB_NONE. */
static void outcome(const char *what, int rc, const void *ret, struct flint_problem *p, int want)
{
	check_count++;
	if (want == PROB_NONE ? rc != 0 || !ret || p
			      : rc >= 0 || ret || !p || (int)p->type != want) {
		check_failures++;
		fprintf(stderr, "%s: rc %d, result %s, problem %d (%s), expected %d\n", what, rc,
			ret ? "set" : "NULL", p ? (int)p->type : -1, p ? p->detail : "-", want);
	}
}

/* The same with the parse call itself: its outputs are read after it returns
 * (as arguments beside it they would be read in an unspecified order). */
#define OUTCOME(what, call, ret, p, want)                                                          \
	do {                                                                                       \
		int rc_ = (call);                                                                  \
		outcome(what, rc_, ret, p, want);                                                  \
	} while (0)

/* ---- newAccount ---- */

struct account_case {
	const char *body;
	int want;
	const char *contact_json; /* expected when parsed */
	bool tos, only;
};

static void test_new_account(void)
{
	static const struct account_case cases[] = {
	    {"{\"termsOfServiceAgreed\":true,\"contact\":[\"mailto:a@example.org\"]}", PROB_NONE,
	     "[\"mailto:a@example.org\"]", true, false},
	    {"{}", PROB_NONE, "[]", false, false},
	    {"{\"contact\":null}", PROB_NONE, "[]", false, false},
	    {"{\"contact\":[]}", PROB_NONE, "[]", false, false},
	    {"{\"termsOfServiceAgreed\":false}", PROB_NONE, "[]", false, false},
	    /* unknown members are ignored (§7.3) */
	    {"{\"unknown\":{\"x\":[1,2]},\"status\":\"deactivated\"}", PROB_NONE, "[]", false,
	     false},
	    /* onlyReturnExisting: nothing else is read */
	    {"{\"onlyReturnExisting\":true,\"contact\":\"not an array\"}", PROB_NONE, NULL, false,
	     true},
	    {"{\"onlyReturnExisting\":false,\"contact\":[\"mailto:b@example.org\"]}", PROB_NONE,
	     "[\"mailto:b@example.org\"]", false, false},
	    {"{\"onlyReturnExisting\":\"true\"}", FLINT_PROB_MALFORMED, NULL, false, false},
	    {"{\"onlyReturnExisting\":1}", FLINT_PROB_MALFORMED, NULL, false, false},
	    {"{\"onlyReturnExisting\":null}", FLINT_PROB_MALFORMED, NULL, false, false},
	    {"{\"termsOfServiceAgreed\":\"yes\"}", FLINT_PROB_MALFORMED, NULL, false, false},
	    {"{\"termsOfServiceAgreed\":1}", FLINT_PROB_MALFORMED, NULL, false, false},
	    {"{\"termsOfServiceAgreed\":null}", FLINT_PROB_MALFORMED, NULL, false, false},
	    {"{\"termsOfServiceAgreed\":{\"a\":true}}", FLINT_PROB_MALFORMED, NULL, false, false},
	    {"{\"contact\":\"mailto:a@example.org\"}", FLINT_PROB_MALFORMED, NULL, false, false},
	    {"{\"contact\":{\"mailto\":\"a@example.org\"}}", FLINT_PROB_MALFORMED, NULL, false,
	     false},
	    {"{\"contact\":[42]}", FLINT_PROB_MALFORMED, NULL, false, false},
	    {"{\"contact\":[null]}", FLINT_PROB_MALFORMED, NULL, false, false},
	    {"{\"contact\":[[\"mailto:a@example.org\"]]}", FLINT_PROB_MALFORMED, NULL, false,
	     false},
	    {"{\"contact\":[\"\"]}", FLINT_PROB_UNSUPPORTED_CONTACT, NULL, false, false},
	    {"{\"contact\":[\"tel:+1555\"]}", FLINT_PROB_UNSUPPORTED_CONTACT, NULL, false, false},
	    {"{\"contact\":[\"MAILTO:a@example.org\"]}", FLINT_PROB_UNSUPPORTED_CONTACT, NULL,
	     false, false},
	    {"{\"contact\":[\"mailto:\"]}", FLINT_PROB_INVALID_CONTACT, NULL, false, false},
	    {"{\"contact\":[\"mailto:a@example.org?subject=x\"]}", FLINT_PROB_INVALID_CONTACT, NULL,
	     false, false},
	    {"{\"contact\":[\"mailto:a@example.org,b@example.org\"]}", FLINT_PROB_INVALID_CONTACT,
	     NULL, false, false},
	    {"{\"contact\":[\"mailto:a@*.example.org\"]}", FLINT_PROB_INVALID_CONTACT, NULL, false,
	     false},
	    {"{\"contact\":[\"mailto:a@localhost\"]}", FLINT_PROB_INVALID_CONTACT, NULL, false,
	     false},
	    {"{\"contact\":[\"mailto:a..b@example.org\"]}", FLINT_PROB_INVALID_CONTACT, NULL, false,
	     false},
	    {"{\"contact\":[\"mailto:a@1.2.3.4\"]}", FLINT_PROB_INVALID_CONTACT, NULL, false,
	     false},
	    {"{\"contact\":[\"mailto:1@e.org\",\"mailto:2@e.org\",\"mailto:3@e.org\","
	     "\"mailto:4@e.org\",\"mailto:5@e.org\",\"mailto:6@e.org\",\"mailto:7@e.org\","
	     "\"mailto:8@e.org\",\"mailto:9@e.org\",\"mailto:10@e.org\",\"mailto:11@e.org\"]}",
	     FLINT_PROB_INVALID_CONTACT, NULL, false, false},
	    {"[\"termsOfServiceAgreed\"]", FLINT_PROB_MALFORMED, NULL, false, false},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct account_case *c = &cases[i];
		struct flint_body_new_account *b = NULL;
		struct flint_problem *p = NULL;
		json_t *doc = load(c->body);
		int rc = flint_body_new_account_parse(doc, &b, &p);
		outcome(c->body, rc, b, p, c->want);
		if (b && c->want == PROB_NONE) {
			CHECK_INT(b->only_return_existing, c->only);
			CHECK_INT(b->tos_agreed, c->tos);
			if (c->contact_json)
				CHECK_STR(b->contact_json, c->contact_json);
			else
				CHECK(b->contact_json == NULL);
			CHECK(b->eab == NULL);
		}
		flint_body_new_account_free(b);
		flint_problem_free(p);
		json_decref(doc);
	}
}

static void test_new_account_eab_and_sizes(void)
{
	struct flint_body_new_account *b = NULL;
	struct flint_problem *p = NULL;
	/* the binding is kept as sent, whatever it is: flint_eab_verify judges it */
	json_t *doc = load("{\"externalAccountBinding\":{\"protected\":\"x\",\"payload\":\"y\","
			   "\"signature\":\"z\"}}");
	CHECK_INT(flint_body_new_account_parse(doc, &b, &p), 0);
	CHECK(b && b->eab == json_object_get(doc, "externalAccountBinding"));
	flint_body_new_account_free(b);
	json_decref(doc);
	b = NULL;
	doc = load("{\"externalAccountBinding\":null}");
	CHECK_INT(flint_body_new_account_parse(doc, &b, &p), 0);
	CHECK(b && b->eab && json_is_null(b->eab));
	flint_body_new_account_free(b);
	json_decref(doc);
	b = NULL;

	/* a 100 KB contact: invalidContact, its detail bounded */
	char *big = repeat('a', 100000), *s = NULL;
	CHECK(big && asprintf(&s, "{\"contact\":[\"mailto:%s@example.org\"]}", big) > 0);
	doc = load(s);
	CHECK(flint_body_new_account_parse(doc, &b, &p) == FLINT_EINVAL);
	CHECK(b == NULL && p && p->type == FLINT_PROB_INVALID_CONTACT && strlen(p->detail) < 300);
	flint_problem_free(p);
	p = NULL;
	json_decref(doc);
	free(s);
	free(big);

	/* NULL (POST-as-GET) is no newAccount */
	CHECK(flint_body_new_account_parse(NULL, &b, &p) == FLINT_EINVAL);
	CHECK(b == NULL && p && p->type == FLINT_PROB_MALFORMED);
	flint_problem_free(p);
}

/* ---- account update ---- */

static void test_account_update(void)
{
	static const struct {
		const char *body;
		int want;
		bool deactivate;
		const char *contact_json;
	} cases[] = {
	    {"{\"status\":\"deactivated\"}", PROB_NONE, true, NULL},
	    {"{\"status\":\"valid\"}", PROB_NONE, false, NULL},
	    {"{}", PROB_NONE, false, NULL},
	    {"{\"contact\":[\"mailto:new@example.org\"]}", PROB_NONE, false,
	     "[\"mailto:new@example.org\"]"},
	    {"{\"contact\":[]}", PROB_NONE, false, "[]"},
	    {"{\"status\":\"deactivated\",\"contact\":[]}", PROB_NONE, true, "[]"},
	    {"{\"termsOfServiceAgreed\":\"whatever\",\"orders\":7}", PROB_NONE, false, NULL},
	    {"{\"status\":\"revoked\"}", FLINT_PROB_MALFORMED, false, NULL},
	    {"{\"status\":\"pending\"}", FLINT_PROB_MALFORMED, false, NULL},
	    {"{\"status\":\"Deactivated\"}", FLINT_PROB_MALFORMED, false, NULL},
	    {"{\"status\":\"deactivated \"}", FLINT_PROB_MALFORMED, false, NULL},
	    {"{\"status\":\"\"}", FLINT_PROB_MALFORMED, false, NULL},
	    {"{\"status\":null}", FLINT_PROB_MALFORMED, false, NULL},
	    {"{\"status\":true}", FLINT_PROB_MALFORMED, false, NULL},
	    {"{\"status\":[\"deactivated\"]}", FLINT_PROB_MALFORMED, false, NULL},
	    {"{\"status\":{\"status\":\"deactivated\"}}", FLINT_PROB_MALFORMED, false, NULL},
	    /* status is judged before contact, as before */
	    {"{\"status\":\"x\",\"contact\":[\"tel:1\"]}", FLINT_PROB_MALFORMED, false, NULL},
	    {"{\"contact\":null}", FLINT_PROB_MALFORMED, false, NULL},
	    {"{\"contact\":\"mailto:a@example.org\"}", FLINT_PROB_MALFORMED, false, NULL},
	    {"{\"contact\":[\"http://example.org\"]}", FLINT_PROB_UNSUPPORTED_CONTACT, false, NULL},
	    {"{\"contact\":[\"mailto:nobody\"]}", FLINT_PROB_INVALID_CONTACT, false, NULL},
	    {"[]", FLINT_PROB_MALFORMED, false, NULL},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct flint_body_account_update *b = NULL;
		struct flint_problem *p = NULL;
		json_t *doc = load(cases[i].body);
		int rc = flint_body_account_update_parse(doc, &b, &p);
		outcome(cases[i].body, rc, b, p, cases[i].want);
		if (b && cases[i].want == PROB_NONE) {
			CHECK_INT(b->deactivate, cases[i].deactivate);
			if (cases[i].contact_json)
				CHECK_STR(b->contact_json, cases[i].contact_json);
			else
				CHECK(b->contact_json == NULL);
		}
		flint_body_account_update_free(b);
		flint_problem_free(p);
		json_decref(doc);
	}
	/* a string with a NUL inside (built, not decoded: jansson refuses \u0000) */
	json_t *doc = json_object();
	struct flint_body_account_update *b = NULL;
	struct flint_problem *p = NULL;
	json_object_set_new(doc, "status", json_stringn("deactivated\0x", 13));
	OUTCOME("status with a NUL", flint_body_account_update_parse(doc, &b, &p), b, p,
		FLINT_PROB_MALFORMED);
	flint_problem_free(p);
	json_decref(doc);
}

/* ---- authorization deactivation, challenge response ---- */

static void test_authz_update_and_challenge(void)
{
	static const struct {
		const char *body;
		int authz, challenge;
	} cases[] = {
	    {"{\"status\":\"deactivated\"}", PROB_NONE, PROB_NONE},
	    {"{\"status\":\"deactivated\",\"extra\":[1]}", PROB_NONE, PROB_NONE},
	    {"{}", FLINT_PROB_MALFORMED, PROB_NONE},
	    {"{\"keyAuthorization\":\"tok.thumb\"}", FLINT_PROB_MALFORMED, PROB_NONE},
	    {"{\"status\":\"valid\"}", FLINT_PROB_MALFORMED, PROB_NONE},
	    {"{\"status\":\"invalid\"}", FLINT_PROB_MALFORMED, PROB_NONE},
	    {"{\"status\":\"revoked\"}", FLINT_PROB_MALFORMED, PROB_NONE},
	    {"{\"status\":\"\"}", FLINT_PROB_MALFORMED, PROB_NONE},
	    {"{\"status\":null}", FLINT_PROB_MALFORMED, PROB_NONE},
	    {"{\"status\":1}", FLINT_PROB_MALFORMED, PROB_NONE},
	    {"{\"status\":[\"deactivated\"]}", FLINT_PROB_MALFORMED, PROB_NONE},
	    {"{\"status\":{\"deactivated\":true}}", FLINT_PROB_MALFORMED, PROB_NONE},
	    {"[]", FLINT_PROB_MALFORMED, FLINT_PROB_MALFORMED},
	    {"[{}]", FLINT_PROB_MALFORMED, FLINT_PROB_MALFORMED},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct flint_problem *p = NULL;
		json_t *doc = load(cases[i].body);
		int rc = flint_body_authz_update_parse(doc, &p);
		outcome(cases[i].body, rc, rc == 0 ? doc : NULL, p, cases[i].authz);
		flint_problem_free(p);
		p = NULL;
		rc = flint_body_challenge_parse(doc, &p);
		outcome(cases[i].body, rc, rc == 0 ? doc : NULL, p, cases[i].challenge);
		flint_problem_free(p);
		json_decref(doc);
	}
	struct flint_problem *p = NULL;
	CHECK(flint_body_authz_update_parse(NULL, &p) == FLINT_EINVAL && p);
	flint_problem_free(p);
	CHECK(flint_body_challenge_parse(NULL, &p) == FLINT_EINVAL && p);
	flint_problem_free(p);
}

/* ---- newAuthz ---- */

static void test_new_authz(void)
{
	static const struct {
		const char *body;
		int want;
		const char *type, *value;
	} cases[] = {
	    {"{\"identifier\":{\"type\":\"dns\",\"value\":\"www.example.org\"}}", PROB_NONE, "dns",
	     "www.example.org"},
	    {"{\"identifier\":{\"type\":\"dns\",\"value\":\"WWW.Example.ORG\"}}", PROB_NONE, "dns",
	     "www.example.org"},
	    {"{\"identifier\":{\"type\":\"ip\",\"value\":\"192.0.2.1\"},\"x\":1}", PROB_NONE, "ip",
	     "192.0.2.1"},
	    {"{\"identifier\":{\"type\":\"dns\",\"value\":\"*.example.org\"}}",
	     FLINT_PROB_MALFORMED, NULL, NULL},
	    {"{}", FLINT_PROB_MALFORMED, NULL, NULL},
	    {"{\"identifier\":null}", FLINT_PROB_MALFORMED, NULL, NULL},
	    {"{\"identifier\":\"www.example.org\"}", FLINT_PROB_MALFORMED, NULL, NULL},
	    {"{\"identifier\":[{\"type\":\"dns\",\"value\":\"www.example.org\"}]}",
	     FLINT_PROB_MALFORMED, NULL, NULL},
	    {"{\"identifiers\":[{\"type\":\"dns\",\"value\":\"www.example.org\"}]}",
	     FLINT_PROB_MALFORMED, NULL, NULL},
	    {"{\"identifier\":{}}", FLINT_PROB_MALFORMED, NULL, NULL},
	    {"{\"identifier\":{\"type\":\"dns\"}}", FLINT_PROB_MALFORMED, NULL, NULL},
	    {"{\"identifier\":{\"type\":\"dns\",\"value\":42}}", FLINT_PROB_MALFORMED, NULL, NULL},
	    {"{\"identifier\":{\"type\":\"dns\",\"value\":{\"a\":1}}}", FLINT_PROB_MALFORMED, NULL,
	     NULL},
	    {"{\"identifier\":{\"type\":\"dns\",\"value\":\"\"}}", FLINT_PROB_REJECTED_IDENTIFIER,
	     NULL, NULL},
	    {"{\"identifier\":{\"type\":\"dns\",\"value\":\"a..example.org\"}}",
	     FLINT_PROB_REJECTED_IDENTIFIER, NULL, NULL},
	    {"{\"identifier\":{\"type\":\"dns\",\"value\":\"ex ample.org\"}}",
	     FLINT_PROB_REJECTED_IDENTIFIER, NULL, NULL},
	    {"{\"identifier\":{\"type\":\"email\",\"value\":\"a@example.org\"}}",
	     FLINT_PROB_UNSUPPORTED_IDENTIFIER, NULL, NULL},
	    /* leading zeros: refused, never read as octal */
	    {"{\"identifier\":{\"type\":\"ip\",\"value\":\"01.2.3.4\"}}", FLINT_PROB_MALFORMED,
	     NULL, NULL},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct flint_body_new_authz *b = NULL;
		struct flint_problem *p = NULL;
		json_t *doc = load(cases[i].body);
		int rc = flint_body_new_authz_parse(doc, &b, &p);
		outcome(cases[i].body, rc, b, p, cases[i].want);
		if (b && cases[i].want == PROB_NONE) {
			CHECK_STR(b->id.type, cases[i].type);
			CHECK_STR(b->id.value, cases[i].value);
		}
		flint_body_new_authz_free(b);
		flint_problem_free(p);
		json_decref(doc);
	}
	/* a 300-character name: rejected, not truncated */
	char *label = repeat('a', 300), *s = NULL;
	struct flint_body_new_authz *b = NULL;
	struct flint_problem *p = NULL;
	CHECK(asprintf(&s, "{\"identifier\":{\"type\":\"dns\",\"value\":\"%s.org\"}}", label) > 0);
	json_t *doc = load(s);
	OUTCOME("300-character name", flint_body_new_authz_parse(doc, &b, &p), b, p,
		FLINT_PROB_REJECTED_IDENTIFIER);
	flint_problem_free(p);
	json_decref(doc);
	free(s);
	free(label);
}

/* ---- newOrder ---- */

static void test_new_order(void)
{
	static const struct {
		const char *body;
		int want;
		size_t n_ids;
		const char *profile, *replaces;
		int64_t nb, na;
	} cases[] = {
	    {"{\"identifiers\":[{\"type\":\"dns\",\"value\":\"example.org\"},"
	     "{\"type\":\"dns\",\"value\":\"*.example.org\"}]}",
	     PROB_NONE, 2, NULL, NULL, 0, 0},
	    /* duplicates, also after normalisation, are dropped */
	    {"{\"identifiers\":[{\"type\":\"dns\",\"value\":\"example.org\"},"
	     "{\"type\":\"dns\",\"value\":\"EXAMPLE.org\"},{\"type\":\"dns\",\"value\":\"example."
	     "org\"}]}",
	     PROB_NONE, 1, NULL, NULL, 0, 0},
	    {"{\"identifiers\":[{\"type\":\"ip\",\"value\":\"2001:db8::1\"}],\"profile\":"
	     "\"shortlived\","
	     "\"notBefore\":\"2026-01-01T00:00:00Z\",\"notAfter\":\"2026-01-02T00:00:00Z\","
	     "\"replaces\":\"aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE\"}",
	     PROB_NONE, 1, "shortlived", "aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE", 1767225600,
	     1767312000},
	    {"{\"identifiers\":[{\"type\":\"dns\",\"value\":\"example.org\"}],"
	     "\"notBefore\":\"2026-01-01T01:00:00+01:00\",\"unknown\":null}",
	     PROB_NONE, 1, NULL, NULL, 1767225600, 0},
	    {"{}", FLINT_PROB_MALFORMED, 0, NULL, NULL, 0, 0},
	    {"{\"identifiers\":[]}", FLINT_PROB_MALFORMED, 0, NULL, NULL, 0, 0},
	    {"{\"identifiers\":null}", FLINT_PROB_MALFORMED, 0, NULL, NULL, 0, 0},
	    {"{\"identifiers\":{\"type\":\"dns\",\"value\":\"example.org\"}}", FLINT_PROB_MALFORMED,
	     0, NULL, NULL, 0, 0},
	    {"{\"identifiers\":\"example.org\"}", FLINT_PROB_MALFORMED, 0, NULL, NULL, 0, 0},
	    {"{\"identifiers\":[\"example.org\"]}", FLINT_PROB_MALFORMED, 0, NULL, NULL, 0, 0},
	    {"{\"identifiers\":[null]}", FLINT_PROB_MALFORMED, 0, NULL, NULL, 0, 0},
	    {"{\"identifiers\":[{\"type\":\"dns\",\"value\":\"\"}]}",
	     FLINT_PROB_REJECTED_IDENTIFIER, 0, NULL, NULL, 0, 0},
	    {"{\"identifiers\":[{\"type\":\"dns\",\"value\":\"a.*.example.org\"}]}",
	     FLINT_PROB_REJECTED_IDENTIFIER, 0, NULL, NULL, 0, 0},
	    {"{\"identifiers\":[{\"type\":\"tnauthlist\",\"value\":\"x\"}]}",
	     FLINT_PROB_UNSUPPORTED_IDENTIFIER, 0, NULL, NULL, 0, 0},
	    /* two different refusals: compound */
	    {"{\"identifiers\":[{\"type\":\"dns\",\"value\":\"\"},{\"type\":\"x\",\"value\":\"y\"}]"
	     "}",
	     FLINT_PROB_COMPOUND, 0, NULL, NULL, 0, 0},
	    {"{\"identifiers\":[{\"type\":\"dns\",\"value\":\"example.org\"}],\"profile\":7}",
	     FLINT_PROB_MALFORMED, 0, NULL, NULL, 0, 0},
	    {"{\"identifiers\":[{\"type\":\"dns\",\"value\":\"example.org\"}],\"profile\":null}",
	     FLINT_PROB_MALFORMED, 0, NULL, NULL, 0, 0},
	    {"{\"identifiers\":[{\"type\":\"dns\",\"value\":\"example.org\"}],\"profile\":[\"a\"]}",
	     FLINT_PROB_MALFORMED, 0, NULL, NULL, 0, 0},
	    {"{\"identifiers\":[{\"type\":\"dns\",\"value\":\"example.org\"}],\"notBefore\":0}",
	     FLINT_PROB_MALFORMED, 0, NULL, NULL, 0, 0},
	    {"{\"identifiers\":[{\"type\":\"dns\",\"value\":\"example.org\"}],\"notBefore\":\"\"}",
	     FLINT_PROB_MALFORMED, 0, NULL, NULL, 0, 0},
	    {"{\"identifiers\":[{\"type\":\"dns\",\"value\":\"example.org\"}],"
	     "\"notAfter\":\"yesterday\"}",
	     FLINT_PROB_MALFORMED, 0, NULL, NULL, 0, 0},
	    {"{\"identifiers\":[{\"type\":\"dns\",\"value\":\"example.org\"}],"
	     "\"notAfter\":\"2026-13-01T00:00:00Z\"}",
	     FLINT_PROB_MALFORMED, 0, NULL, NULL, 0, 0},
	    {"{\"identifiers\":[{\"type\":\"dns\",\"value\":\"example.org\"}],"
	     "\"notAfter\":{\"t\":\"2026-01-01T00:00:00Z\"}}",
	     FLINT_PROB_MALFORMED, 0, NULL, NULL, 0, 0},
	    {"{\"identifiers\":[{\"type\":\"dns\",\"value\":\"example.org\"}],\"replaces\":1}",
	     FLINT_PROB_MALFORMED, 0, NULL, NULL, 0, 0},
	    {"{\"identifiers\":[{\"type\":\"dns\",\"value\":\"example.org\"}],\"replaces\":null}",
	     FLINT_PROB_MALFORMED, 0, NULL, NULL, 0, 0},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct flint_body_new_order *b = NULL;
		struct flint_problem *p = NULL;
		json_t *doc = load(cases[i].body);
		int rc = flint_body_new_order_parse(doc, &b, &p);
		outcome(cases[i].body, rc, b, p, cases[i].want);
		if (b && cases[i].want == PROB_NONE) {
			CHECK_INT(b->n_ids, cases[i].n_ids);
			if (cases[i].profile)
				CHECK_STR(b->profile, cases[i].profile);
			else
				CHECK(!b->profile);
			if (cases[i].replaces)
				CHECK_STR(b->replaces, cases[i].replaces);
			else
				CHECK(!b->replaces);
			CHECK_INT(b->not_before, cases[i].nb);
			CHECK_INT(b->not_after, cases[i].na);
		}
		flint_body_new_order_free(b);
		flint_problem_free(p);
		json_decref(doc);
	}
}

static void test_new_order_sizes(void)
{
	struct flint_body_new_order *b = NULL;
	struct flint_problem *p = NULL;
	json_t *ids = json_array(), *doc;

	/* FLINT_MAX_ORDER_IDENTIFIERS is accepted, one more is rejectedIdentifier */
	for (int i = 0; i < 101; i++) {
		char name[32];
		snprintf(name, sizeof(name), "n%d.example.org", i);
		json_array_append_new(ids, json_pack("{s:s, s:s}", "type", "dns", "value", name));
	}
	doc = json_pack("{s:O}", "identifiers", ids);
	OUTCOME("101 identifiers", flint_body_new_order_parse(doc, &b, &p), b, p,
		FLINT_PROB_REJECTED_IDENTIFIER);
	flint_problem_free(p);
	p = NULL;
	json_decref(doc);
	json_array_remove(ids, 100);
	doc = json_pack("{s:O}", "identifiers", ids);
	OUTCOME("100 identifiers", flint_body_new_order_parse(doc, &b, &p), b, p, PROB_NONE);
	CHECK(b && b->n_ids == 100);
	flint_body_new_order_free(b);
	b = NULL;
	flint_problem_free(p);
	p = NULL;

	/* 100 copies of one name: one identifier */
	json_t *same = json_array();
	for (int i = 0; i < 100; i++)
		json_array_append_new(same,
				      json_pack("{s:s, s:s}", "type", "dns", "value", "a.example"));
	json_object_set_new(doc, "identifiers", same);
	OUTCOME("100 duplicates", flint_body_new_order_parse(doc, &b, &p), b, p, PROB_NONE);
	CHECK(b && b->n_ids == 1);
	flint_body_new_order_free(b);
	b = NULL;

	/* strings over FLINT_BODY_STRING_MAX: malformed */
	char *huge = repeat('p', FLINT_BODY_STRING_MAX + 1);
	json_object_set_new(doc, "profile", json_string(huge));
	OUTCOME("huge profile", flint_body_new_order_parse(doc, &b, &p), b, p,
		FLINT_PROB_MALFORMED);
	flint_problem_free(p);
	p = NULL;
	json_object_del(doc, "profile");
	json_object_set_new(doc, "replaces", json_string(huge));
	OUTCOME("huge replaces", flint_body_new_order_parse(doc, &b, &p), b, p,
		FLINT_PROB_MALFORMED);
	flint_problem_free(p);
	p = NULL;
	json_object_del(doc, "replaces");
	json_object_set_new(doc, "notBefore", json_string(huge));
	OUTCOME("huge notBefore", flint_body_new_order_parse(doc, &b, &p), b, p,
		FLINT_PROB_MALFORMED);
	flint_problem_free(p);
	p = NULL;
	huge[FLINT_BODY_STRING_MAX] = '\0';
	json_object_del(doc, "notBefore");
	json_object_set_new(doc, "profile", json_string(huge));
	OUTCOME("profile at the bound", flint_body_new_order_parse(doc, &b, &p), b, p, PROB_NONE);
	CHECK(b && b->profile && strlen(b->profile) == FLINT_BODY_STRING_MAX);
	flint_body_new_order_free(b);
	flint_problem_free(p);
	free(huge);
	json_decref(doc);
	json_decref(ids);
}

/* ---- finalize ---- */

static char *b64(const unsigned char *der, size_t len)
{
	char *s = NULL;
	return flint_b64url_encode(der, len, &s) == 0 ? s : NULL;
}

static void finalize_case(const char *what, json_t *doc, int want)
{
	struct flint_body_finalize *b = NULL;
	struct flint_problem *p = NULL;
	OUTCOME(what, flint_body_finalize_parse(doc, &b, &p), b, p, want);
	flint_body_finalize_free(b);
	flint_problem_free(p);
}

static void test_finalize(void)
{
	EVP_PKEY *key = NULL;
	unsigned char *der = NULL;
	size_t der_len = 0;
	const char *names[] = {"www.example.org", "192.0.2.7"};
	struct flint_body_finalize *b = NULL;
	struct flint_problem *p = NULL;
	char *s = NULL, *padded = NULL;
	json_t *doc;

	CHECK_INT(flint_key_generate(FLINT_KEY_P256, 0, &key), 0);
	CHECK_INT(flint_csr_build(key, names, 2, &der, &der_len), 0);
	s = b64(der, der_len);
	CHECK(s != NULL);
	doc = json_pack("{s:s}", "csr", s);
	CHECK_INT(flint_body_finalize_parse(doc, &b, &p), 0);
	CHECK(b && !p && b->csr && b->der_len == der_len && !memcmp(b->der, der, der_len));
	CHECK(b && b->csr->n_ids == 2);
	flint_body_finalize_free(b);
	json_decref(doc);

	/* padding, standard-alphabet and whitespace variants are not base64url */
	CHECK(asprintf(&padded, "%s%s", s, (strlen(s) % 4) == 2 ? "==" : "=") > 0);
	doc = json_pack("{s:s}", "csr", padded);
	/* (the CSR's length varies with its ECDSA signature: "=" when it needs none) */
	finalize_case("padded csr", doc, FLINT_PROB_MALFORMED);
	json_decref(doc);
	free(padded);
	padded = strdup(s);
	for (char *c = padded; *c; c++)
		*c = *c == '-' ? '+' : *c == '_' ? '/' : *c;
	doc = json_pack("{s:s}", "csr", padded);
	finalize_case("standard alphabet", doc,
		      strcmp(padded, s) ? FLINT_PROB_MALFORMED : PROB_NONE);
	json_decref(doc);
	free(padded);
	CHECK(asprintf(&padded, " %s", s) > 0);
	doc = json_pack("{s:s}", "csr", padded);
	finalize_case("leading space", doc, FLINT_PROB_MALFORMED);
	json_decref(doc);
	free(padded);
	/* a truncated CSR decodes but does not parse */
	padded = strdup(s);
	padded[strlen(padded) / 2 & ~(size_t)3] = '\0';
	doc = json_pack("{s:s}", "csr", padded);
	finalize_case("truncated CSR", doc, FLINT_PROB_BAD_CSR);
	json_decref(doc);
	free(padded);

	static const struct {
		const char *body;
		int want;
	} cases[] = {
	    {"{}", FLINT_PROB_MALFORMED},
	    {"{\"csr\":null}", FLINT_PROB_MALFORMED},
	    {"{\"csr\":42}", FLINT_PROB_MALFORMED},
	    {"{\"csr\":[\"MIIB\"]}", FLINT_PROB_MALFORMED},
	    {"{\"csr\":{\"der\":\"MIIB\"}}", FLINT_PROB_MALFORMED},
	    {"{\"csr\":\"\"}", FLINT_PROB_BAD_CSR},
	    {"{\"csr\":\"A\"}", FLINT_PROB_MALFORMED},
	    {"{\"csr\":\"AB==\"}", FLINT_PROB_MALFORMED},
	    {"{\"csr\":\"AA\"}", FLINT_PROB_BAD_CSR},
	    {"{\"csr\":\"AB\"}", FLINT_PROB_MALFORMED}, /* non-zero trailing bits */
	    {"{\"csr\":\"MII*\"}", FLINT_PROB_MALFORMED},
	    {"[\"csr\"]", FLINT_PROB_MALFORMED},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		doc = load(cases[i].body);
		finalize_case(cases[i].body, doc, cases[i].want);
		json_decref(doc);
	}
	/* 200 KB of base64url: decoded, then refused by the CSR size cap */
	char *huge = repeat('A', 200000);
	doc = json_pack("{s:s}", "csr", huge);
	finalize_case("huge csr", doc, FLINT_PROB_BAD_CSR);
	json_decref(doc);
	free(huge);
	finalize_case("NULL payload", NULL, FLINT_PROB_MALFORMED);

	free(s);
	free(der);
	EVP_PKEY_free(key);
}

/* ---- revokeCert ---- */

/* A self-signed certificate with the given serial, base64url DER. */
static char *make_cert(long serial)
{
	EVP_PKEY *key = NULL;
	X509 *x = X509_new();
	unsigned char *der = NULL;
	int len;
	char *s = NULL;

	if (!x || flint_key_generate(FLINT_KEY_P256, 0, &key) < 0)
		goto out;
	ASN1_INTEGER_set(X509_get_serialNumber(x), serial);
	X509_gmtime_adj(X509_getm_notBefore(x), 0);
	X509_gmtime_adj(X509_getm_notAfter(x), 86400);
	X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_ASC,
				   (const unsigned char *)"revoke.example", -1, -1, 0);
	X509_set_issuer_name(x, X509_get_subject_name(x));
	X509_set_pubkey(x, key);
	if (!X509_sign(x, key, EVP_sha256()) || (len = i2d_X509(x, &der)) <= 0)
		goto out;
	s = b64(der, (size_t)len);
out:
	OPENSSL_free(der);
	X509_free(x);
	EVP_PKEY_free(key);
	return s;
}

static void revoke_case(const char *what, json_t *doc, int want, int reason)
{
	struct flint_body_revoke *b = NULL;
	struct flint_problem *p = NULL;
	OUTCOME(what, flint_body_revoke_parse(doc, &b, &p), b, p, want);
	if (b && want == PROB_NONE) {
		CHECK_INT(b->reason, reason);
		CHECK(b->cert && b->serial);
	}
	flint_body_revoke_free(b);
	flint_problem_free(p);
}

static void test_revoke(void)
{
	char *cert = make_cert(0x1234abcd);
	char *body = NULL;
	json_t *doc;

	CHECK(cert != NULL);
	doc = json_pack("{s:s}", "certificate", cert);
	{
		struct flint_body_revoke *b = NULL;
		struct flint_problem *p = NULL;
		CHECK_INT(flint_body_revoke_parse(doc, &b, &p), 0);
		CHECK(b && b->reason == 0 && b->serial);
		if (b && b->serial)
			CHECK(strstr(b->serial, "1234abcd") || strstr(b->serial, "1234ABCD"));
		flint_body_revoke_free(b);
	}
	json_decref(doc);

	/* reason: the RFC 5280 codes 0-5, 9, 10 and nothing else */
	static const struct {
		const char *reason;
		int want;
	} reasons[] = {
	    {"0", PROB_NONE},
	    {"1", PROB_NONE},
	    {"4", PROB_NONE},
	    {"5", PROB_NONE},
	    {"9", PROB_NONE},
	    {"10", PROB_NONE},
	    {"-1", FLINT_PROB_BAD_REVOCATION_REASON},
	    {"6", FLINT_PROB_BAD_REVOCATION_REASON},
	    {"7", FLINT_PROB_BAD_REVOCATION_REASON},
	    {"8", FLINT_PROB_BAD_REVOCATION_REASON},
	    {"11", FLINT_PROB_BAD_REVOCATION_REASON},
	    {"1099511627776", FLINT_PROB_BAD_REVOCATION_REASON},	/* 2^40 */
	    {"4294967297", FLINT_PROB_BAD_REVOCATION_REASON},		/* 2^32 + 1: (int) is 1 */
	    {"-4294967295", FLINT_PROB_BAD_REVOCATION_REASON},		/* (int) is 1 */
	    {"9223372036854775807", FLINT_PROB_BAD_REVOCATION_REASON},	/* INT64_MAX */
	    {"-9223372036854775808", FLINT_PROB_BAD_REVOCATION_REASON}, /* INT64_MIN */
	    {"1.0", FLINT_PROB_BAD_REVOCATION_REASON},
	    {"1.5", FLINT_PROB_BAD_REVOCATION_REASON},
	    {"1e0", FLINT_PROB_BAD_REVOCATION_REASON},
	    {"\"1\"", FLINT_PROB_BAD_REVOCATION_REASON},
	    {"true", FLINT_PROB_BAD_REVOCATION_REASON},
	    {"null", FLINT_PROB_BAD_REVOCATION_REASON},
	    {"[1]", FLINT_PROB_BAD_REVOCATION_REASON},
	    {"{\"code\":1}", FLINT_PROB_BAD_REVOCATION_REASON},
	};
	for (size_t i = 0; i < sizeof(reasons) / sizeof(reasons[0]); i++) {
		CHECK(asprintf(&body, "{\"certificate\":\"%s\",\"reason\":%s}", cert,
			       reasons[i].reason) > 0);
		doc = load(body);
		CHECK(doc != NULL);
		revoke_case(reasons[i].reason, doc, reasons[i].want, atoi(reasons[i].reason));
		json_decref(doc);
		free(body);
	}

	static const struct {
		const char *body;
		int want;
	} cases[] = {
	    {"{}", FLINT_PROB_MALFORMED},
	    {"{\"reason\":1}", FLINT_PROB_MALFORMED},
	    {"{\"certificate\":null}", FLINT_PROB_MALFORMED},
	    {"{\"certificate\":1}", FLINT_PROB_MALFORMED},
	    {"{\"certificate\":[\"MIIB\"]}", FLINT_PROB_MALFORMED},
	    {"{\"certificate\":{\"der\":\"MIIB\"}}", FLINT_PROB_MALFORMED},
	    {"{\"certificate\":\"\"}", FLINT_PROB_MALFORMED},
	    {"{\"certificate\":\"AAAA\"}", FLINT_PROB_MALFORMED},
	    {"{\"certificate\":\"AAA=\"}", FLINT_PROB_MALFORMED},
	    {"{\"certificate\":\"A\"}", FLINT_PROB_MALFORMED},
	    /* the certificate is judged before the reason, as before */
	    {"{\"certificate\":\"!!\",\"reason\":7}", FLINT_PROB_MALFORMED},
	    {"[]", FLINT_PROB_MALFORMED},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		doc = load(cases[i].body);
		revoke_case(cases[i].body, doc, cases[i].want, 0);
		json_decref(doc);
	}
	/* but a bad reason on a well-formed certificate is found before its DER is read */
	doc = json_pack("{s:s, s:i}", "certificate", "AAAA", "reason", 7);
	revoke_case("bad reason, bad DER", doc, FLINT_PROB_BAD_REVOCATION_REASON, 0);
	json_decref(doc);

	/* a certificate with trailing bytes, padded, or too large */
	unsigned char *der = NULL;
	size_t len = 0;
	CHECK_INT(flint_b64url_decode(cert, strlen(cert), &der, &len), 0);
	unsigned char *longer = calloc(1, len + 3);
	memcpy(longer, der, len);
	char *s = b64(longer, len + 3);
	doc = json_pack("{s:s}", "certificate", s);
	revoke_case("trailing bytes", doc, FLINT_PROB_MALFORMED, 0);
	json_decref(doc);
	free(s);
	CHECK(asprintf(&s, "%s=", cert) > 0);
	doc = json_pack("{s:s}", "certificate", s);
	revoke_case("padded", doc, FLINT_PROB_MALFORMED, 0);
	json_decref(doc);
	free(s);
	s = repeat('A', (FLINT_BODY_CERT_MAX_DER + 2) / 3 * 4 + 4);
	doc = json_pack("{s:s}", "certificate", s);
	revoke_case("huge", doc, FLINT_PROB_MALFORMED, 0);
	json_decref(doc);
	free(s);
	revoke_case("NULL payload", NULL, FLINT_PROB_MALFORMED, 0);
	free(longer);
	free(der);
	free(cert);
}

/* ---- keyChange inner payload ---- */

static void key_change_case(const char *what, json_t *inner, int want)
{
	struct flint_body_key_change *b = NULL;
	struct flint_problem *p = NULL;
	OUTCOME(what, flint_body_key_change_parse(inner, &b, &p), b, p, want);
	flint_body_key_change_free(b);
	flint_problem_free(p);
}

static void test_key_change(void)
{
	struct flint_jwk *key = NULL;
	char *jwk_s = NULL;
	json_t *jwk, *doc;

	CHECK_INT(flint_jwk_generate(FLINT_KEY_P256, 0, &key), 0);
	CHECK_INT(flint_jwk_to_string(key, &jwk_s), 0);
	jwk = load(jwk_s);

	doc = json_pack("{s:s, s:O}", "account", "https://ca.example/acme/acct/abc", "oldKey", jwk);
	{
		struct flint_body_key_change *b = NULL;
		struct flint_problem *p = NULL;
		CHECK_INT(flint_body_key_change_parse(doc, &b, &p), 0);
		CHECK(b && !p);
		if (b) {
			CHECK_STR(b->account, "https://ca.example/acme/acct/abc");
			CHECK(flint_jwk_equal(b->old_key, key));
		}
		flint_body_key_change_free(b);
	}
	json_decref(doc);

	doc = json_pack("{s:O}", "oldKey", jwk);
	key_change_case("no account", doc, FLINT_PROB_MALFORMED);
	json_decref(doc);
	doc = json_pack("{s:i, s:O}", "account", 1, "oldKey", jwk);
	key_change_case("account a number", doc, FLINT_PROB_MALFORMED);
	json_decref(doc);
	doc =
	    json_pack("{s:[s], s:O}", "account", "https://ca.example/acme/acct/abc", "oldKey", jwk);
	key_change_case("account an array", doc, FLINT_PROB_MALFORMED);
	json_decref(doc);
	char *huge = repeat('u', FLINT_BODY_STRING_MAX + 1);
	doc = json_pack("{s:s, s:O}", "account", huge, "oldKey", jwk);
	key_change_case("huge account", doc, FLINT_PROB_MALFORMED);
	json_decref(doc);
	free(huge);
	doc = json_pack("{s:s}", "account", "https://ca.example/acme/acct/abc");
	key_change_case("no oldKey", doc, FLINT_PROB_MALFORMED);
	json_decref(doc);
	doc = json_pack("{s:s, s:n}", "account", "a", "oldKey");
	key_change_case("oldKey null", doc, FLINT_PROB_MALFORMED);
	json_decref(doc);
	doc = json_pack("{s:s, s:s}", "account", "a", "oldKey", jwk_s);
	key_change_case("oldKey a string", doc, FLINT_PROB_MALFORMED);
	json_decref(doc);
	doc = json_pack("{s:s, s:{s:s}}", "account", "a", "oldKey", "kty", "EC");
	key_change_case("oldKey incomplete", doc, FLINT_PROB_MALFORMED);
	json_decref(doc);
	doc = json_pack("{s:s, s:{s:s, s:s, s:s, s:s}}", "account", "a", "oldKey", "kty", "EC",
			"crv", "P-256", "x", "AAAA", "y", "AAAA");
	key_change_case("oldKey not on the curve", doc, FLINT_PROB_MALFORMED);
	json_decref(doc);
	key_change_case("NULL inner payload", NULL, FLINT_PROB_MALFORMED);
	doc = load("[\"account\",\"oldKey\"]");
	key_change_case("array inner payload", doc, FLINT_PROB_MALFORMED);
	json_decref(doc);

	json_decref(jwk);
	free(jwk_s);
	flint_jwk_free(key);
}

/* ---- the realistic fuzz seeds each parse with their own parser ---- */

static json_t *seed(const char *name)
{
	char path[512];
	json_error_t err;
	snprintf(path, sizeof(path), "%s/fuzz/corpus/request_body/%s", FLINT_SOURCE_DIR, name);
	json_t *doc = json_load_file(path, JSON_REJECT_DUPLICATES, &err);
	if (!doc)
		fprintf(stderr, "%s: %s\n", path, err.text);
	return doc;
}

static void test_seeds(void)
{
	struct flint_problem *p = NULL;
	json_t *doc;
#define SEED(file, type, parse, want)                                                              \
	do {                                                                                       \
		struct type *b_ = NULL;                                                            \
		doc = seed(file);                                                                  \
		CHECK(doc != NULL);                                                                \
		OUTCOME(file, parse(doc, &b_, &p), b_, p, want);                                   \
		type##_free(b_);                                                                   \
		flint_problem_free(p);                                                             \
		p = NULL;                                                                          \
		json_decref(doc);                                                                  \
	} while (0)
	SEED("new_account", flint_body_new_account, flint_body_new_account_parse, PROB_NONE);
	SEED("new_account_eab", flint_body_new_account, flint_body_new_account_parse, PROB_NONE);
	SEED("new_account_only_existing", flint_body_new_account, flint_body_new_account_parse,
	     PROB_NONE);
	SEED("account_update", flint_body_account_update, flint_body_account_update_parse,
	     PROB_NONE);
	SEED("account_deactivate", flint_body_account_update, flint_body_account_update_parse,
	     PROB_NONE);
	SEED("new_authz", flint_body_new_authz, flint_body_new_authz_parse, PROB_NONE);
	SEED("new_authz_ip", flint_body_new_authz, flint_body_new_authz_parse, PROB_NONE);
	SEED("new_order", flint_body_new_order, flint_body_new_order_parse, PROB_NONE);
	SEED("finalize", flint_body_finalize, flint_body_finalize_parse, PROB_NONE);
	SEED("revoke", flint_body_revoke, flint_body_revoke_parse, PROB_NONE);
	SEED("key_change", flint_body_key_change, flint_body_key_change_parse, PROB_NONE);
	SEED("hostile_reason_7", flint_body_revoke, flint_body_revoke_parse,
	     FLINT_PROB_BAD_REVOCATION_REASON);
	SEED("hostile_reason_big", flint_body_revoke, flint_body_revoke_parse,
	     FLINT_PROB_BAD_REVOCATION_REASON);
	SEED("hostile_reason_float", flint_body_revoke, flint_body_revoke_parse,
	     FLINT_PROB_BAD_REVOCATION_REASON);
	SEED("hostile_csr_padded", flint_body_finalize, flint_body_finalize_parse,
	     FLINT_PROB_MALFORMED);
	SEED("hostile_types", flint_body_new_account, flint_body_new_account_parse,
	     FLINT_PROB_MALFORMED);
	SEED("hostile_dup_ids", flint_body_new_order, flint_body_new_order_parse,
	     FLINT_PROB_COMPOUND);
	SEED("hostile_status", flint_body_account_update, flint_body_account_update_parse,
	     FLINT_PROB_MALFORMED);
#undef SEED
	doc = seed("account_deactivate");
	CHECK_INT(flint_body_authz_update_parse(doc, &p), 0);
	json_decref(doc);
	doc = seed("challenge");
	CHECK_INT(flint_body_challenge_parse(doc, &p), 0);
	json_decref(doc);
}

/* Regression (fuzz_request_body, input "{}"): a caller's output is left as it
 * was when the parser does not set it, so a caller reusing one problem
 * pointer across parsers must reset it (the fuzz driver did not). */
static void test_outputs_untouched(void)
{
	struct flint_problem *sentinel_p = (struct flint_problem *)&check_count, *p = sentinel_p;
	struct flint_body_new_order *sentinel_b = (struct flint_body_new_order *)&check_failures;
	struct flint_body_new_order *b = sentinel_b;
	json_t *doc = load("{}");

	CHECK_INT(flint_body_challenge_parse(doc, &p), 0);
	CHECK(p == sentinel_p);
	CHECK(flint_body_new_order_parse(doc, &b, &p) == FLINT_EINVAL);
	CHECK(b == sentinel_b && p != sentinel_p && p && p->type == FLINT_PROB_MALFORMED);
	if (p != sentinel_p)
		flint_problem_free(p);
	json_decref(doc);
}

/* fuzz_request_body found it (now also in its corpus): a contact address
 * over 100 octets whose 100th falls inside a character gave a problem detail
 * that was not UTF-8, so the problem document could not be encoded. */
static void test_detail_cut_mid_character(void)
{
	static const char body[] =
	    "{\"termsOfServiceAgreed\":true,\"contact\":[\"mailto:adiin@exUub3JnMAoGCCqGSM>9BAMAA"
	    "\xd8\x98" "AMEUCIE4gy7ZyDauANTcaPPe.ePamplu.obGUub3JnMAoGCCqGSM>9BAMAA"
	    "\xd8\x98" "AMEUCIE4gy7ZyDauANTcaPPPPPPPPPPPPPPPPPPPPPPPYLrg\"]}";
	json_t *doc = json_loads(body, JSON_REJECT_DUPLICATES, NULL);
	struct flint_body_new_account *b = NULL;
	struct flint_problem *p = NULL;
	json_t *out = NULL;

	CHECK(doc != NULL);
	CHECK(flint_body_new_account_parse(doc, &b, &p) < 0);
	CHECK(b == NULL);
	CHECK(p && p->type == FLINT_PROB_INVALID_CONTACT);
	CHECK(p && (out = flint_problem_to_json(p)) != NULL);
	json_decref(out);
	flint_problem_free(p);
	json_decref(doc);
}

int main(void)
{
	RUN(test_new_account);
	RUN(test_new_account_eab_and_sizes);
	RUN(test_account_update);
	RUN(test_authz_update_and_challenge);
	RUN(test_new_authz);
	RUN(test_new_order);
	RUN(test_new_order_sizes);
	RUN(test_finalize);
	RUN(test_revoke);
	RUN(test_key_change);
	RUN(test_seeds);
	RUN(test_outputs_untouched);
	RUN(test_detail_cut_mid_character);
	return CHECK_DONE();
}
