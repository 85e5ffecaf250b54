/* ACME identifiers (RFC 8555 §7.1.4): parsing and normalisation. Identifier
 * types are a table so ip, email, TNAuthList ... are additions, not rewrites. */
#ifndef FLINT_IDENTIFIER_H
#define FLINT_IDENTIFIER_H

#include <jansson.h>
#include <stdbool.h>
#include "problem.h"

#define FLINT_DNS_NAME_MAX 253
#define FLINT_DNS_LABEL_MAX 63

struct flint_identifier {
	char *type;  /* "dns" ... */
	char *value; /* normalised: for dns lowercase, no trailing dot, "*." kept */
};

struct flint_identifier_type {
	const char *name;
	/* Normalises value into *ret (malloc'd); on bad input returns FLINT_EINVAL
	 * and sets *ret_problem (rejectedIdentifier or malformed) when non-NULL. */
	int (*normalize)(const char *value, char **ret, struct flint_problem **ret_problem);
};

/* NULL when the type is unknown. */
const struct flint_identifier_type *flint_identifier_type_find(const char *name);

/* DNS names: lowercases, requires LDH labels of 1..63 octets, total <= 253,
 * at least two labels, no trailing dot, no leading/trailing hyphen, labels
 * starting "xn--" must be valid punycode (IDNA A-labels); "*." allowed only
 * as the whole leftmost label; no other '*'. Non-ASCII input is rejected (the
 * client must send A-labels). */
int flint_dns_name_normalize(const char *in, char **ret, struct flint_problem **ret_problem);

/* Parses {"type":..,"value":..} (extra members ignored), normalising the
 * value by its type. Unknown type -> unsupportedIdentifier problem. */
int flint_identifier_from_json(const json_t *obj, struct flint_identifier *ret,
			       struct flint_problem **ret_problem);
json_t *flint_identifier_to_json(const struct flint_identifier *id);

/* true when value starts with "*." */
bool flint_identifier_is_wildcard(const struct flint_identifier *id);

/* Frees the members (not the struct itself) and zeroes them. */
void flint_identifier_clear(struct flint_identifier *id);

#endif
