/* RFC 7807 problem documents with the ACME error types of RFC 8555 §6.7
 * (and extensions), including subproblems carrying an identifier (§6.7.1). */
#ifndef FLINT_PROBLEM_H
#define FLINT_PROBLEM_H

#include <jansson.h>
#include <stddef.h>

enum flint_problem_type {
	FLINT_PROB_ACCOUNT_DOES_NOT_EXIST,
	FLINT_PROB_ALREADY_REPLACED, /* RFC 9773 §5 */
	FLINT_PROB_ALREADY_REVOKED,
	FLINT_PROB_BAD_CSR,
	FLINT_PROB_BAD_NONCE,
	FLINT_PROB_BAD_PUBLIC_KEY,
	FLINT_PROB_BAD_REVOCATION_REASON,
	FLINT_PROB_BAD_SIGNATURE_ALGORITHM,
	FLINT_PROB_CAA,
	FLINT_PROB_COMPOUND,
	FLINT_PROB_CONNECTION,
	FLINT_PROB_DNS,
	FLINT_PROB_EXTERNAL_ACCOUNT_REQUIRED,
	FLINT_PROB_INCORRECT_RESPONSE,
	FLINT_PROB_INVALID_CONTACT,
	FLINT_PROB_INVALID_PROFILE, /* draft-ietf-acme-profiles */
	FLINT_PROB_MALFORMED,
	FLINT_PROB_ORDER_NOT_READY,
	FLINT_PROB_RATE_LIMITED,
	FLINT_PROB_REJECTED_IDENTIFIER,
	FLINT_PROB_SERVER_INTERNAL,
	FLINT_PROB_TLS,
	FLINT_PROB_UNAUTHORIZED,
	FLINT_PROB_UNSUPPORTED_CONTACT,
	FLINT_PROB_UNSUPPORTED_IDENTIFIER,
	FLINT_PROB_USER_ACTION_REQUIRED,
	FLINT_PROB_CONFLICT, /* not an ACME type: "malformed" with status 409 */
	FLINT_PROB__COUNT
};

struct flint_subproblem {
	enum flint_problem_type type;
	char *detail;
	char *ident_type;  /* may be NULL */
	char *ident_value; /* may be NULL */
};

struct flint_problem {
	enum flint_problem_type type;
	int status; /* HTTP status */
	char *detail;
	struct flint_subproblem *sub;
	size_t n_sub;
	json_t *extra; /* extra members merged into the document, e.g. "algorithms"; may be NULL */
};

/* New problem with the type's default HTTP status and a printf-style detail.
 * Returns NULL only when out of memory. */
struct flint_problem *flint_problem_new(enum flint_problem_type type, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Appends a subproblem about one identifier (ident_* may be NULL). */
int flint_problem_add_sub(struct flint_problem *p, enum flint_problem_type type,
			  const char *ident_type, const char *ident_value, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

/* "urn:ietf:params:acme:error:<name>" */
const char *flint_problem_type_urn(enum flint_problem_type type);
/* Default HTTP status for the type (400 for most, 401 unauthorized, 403 orderNotReady ...). */
int flint_problem_type_status(enum flint_problem_type type);
/* Reverse lookup of a URN; FLINT_ENOTFOUND when unknown. */
int flint_problem_type_from_urn(const char *urn, enum flint_problem_type *ret);

/* The JSON document (type, detail, status, subproblems[], extra members). New reference. */
json_t *flint_problem_to_json(const struct flint_problem *p);
/* Parses a problem document (client side); unknown types map to MALFORMED with the URN in detail. */
int flint_problem_from_json(const json_t *doc, struct flint_problem **ret);

void flint_problem_free(struct flint_problem *p);

#endif
