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
	char *type;  /* "dns", "ip" */
	char *value; /* normalised: for dns lowercase, no trailing dot, "*." kept;
		      * for ip the RFC 5952 / dotted-decimal canonical text */
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
 * client must send A-labels). An IPv4/IPv6 address is rejected with a detail
 * pointing at the "ip" type. */
int flint_dns_name_normalize(const char *in, char **ret, struct flint_problem **ret_problem);

/* IP addresses (RFC 8738 §3): IPv4 dotted-decimal (no leading zeros) or
 * IPv6 in its RFC 5952 canonical text (lowercase, no leading zeros, the
 * longest run of two or more zero groups as "::", no embedded IPv4). IPv4-
 * mapped (::ffff:0:0/96) and IPv4-compatible IPv6 forms are refused (use the
 * IPv4 address). FLINT_EINVAL with a malformed/rejectedIdentifier problem
 * when in is not an address (IPv4 with leading zeros, "01.2.3.4", is not:
 * refused, never reinterpreted). The "ip" row of the identifier type table. */
int flint_ip_normalize(const char *in, char **ret, struct flint_problem **ret_problem);
/* true when s parses as an IPv4 or IPv6 address (the client's "ip" test). */
bool flint_is_ip_address(const char *s);

#define FLINT_IP_REVERSE_NAME_MAX 73 /* 32 nibbles and dots + "ip6.arpa" + NUL */
/* The reverse-DNS name of an address (RFC 8738 §6: the tls-alpn-01 SNI):
 * "d.c.b.a.in-addr.arpa" or the 32-nibble form under "ip6.arpa", lowercase,
 * into out (at least FLINT_IP_REVERSE_NAME_MAX bytes). FLINT_EINVAL when ip
 * is not an address. */
int flint_ip_reverse_name(const char *ip, char *out, size_t cap);

/* Parses {"type":..,"value":..} (extra members ignored), normalising the
 * value by its type. Unknown type -> unsupportedIdentifier problem. */
int flint_identifier_from_json(const json_t *obj, struct flint_identifier *ret,
			       struct flint_problem **ret_problem);
json_t *flint_identifier_to_json(const struct flint_identifier *id);

/* true when value starts with "*." */
bool flint_identifier_is_wildcard(const struct flint_identifier *id);
/* The value an authorization for id carries (RFC 8555 §7.1.4): a wildcard's
 * without its "*.", id->value otherwise. */
const char *flint_identifier_authz_value(const struct flint_identifier *id);

/* Frees the members (not the struct itself) and zeroes them. */
void flint_identifier_clear(struct flint_identifier *id);

#endif
