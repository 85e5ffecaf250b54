/* Challenge validation (RFC 8555 §8): one file per challenge type, each a
 * row in a table. Validators run on worker threads, never on the event loop. */
#ifndef FLINT_VALIDATOR_H
#define FLINT_VALIDATOR_H

#include <stdbool.h>
#include <stdint.h>
#include "problem.h"

struct flint_validation_config {
	uint16_t http01_port;     /* 80 unless a test port is configured */
	uint16_t tlsalpn01_port;  /* 443 unless a test port is configured */
	const char *dns_server;   /* "HOST:PORT" forwarder, or NULL for the system resolver */
	bool allow_loopback;      /* test only: permit 127.0.0.0/8 and ::1 as targets */
	int timeout_seconds;      /* per network operation; default 10 */
};

struct flint_validation {
	const char *ident_type;   /* "dns" or "ip" */
	const char *ident_value;  /* the authz identifier (no "*.") */
	const char *token;
	const char *key_authorization;
	const char *account_url;   /* the account's Location URL, as sent (dns-account-01) */
};

struct flint_resolver; /* see resolver.h */

struct flint_validator_ctx {
	const struct flint_validation_config *cfg;
	struct flint_resolver *resolver; /* per worker thread */
};

struct flint_validator {
	const char *type; /* "http-01" */
	/* Whether this challenge type may prove (ident_type, wildcard). */
	bool (*applies)(const char *ident_type, bool wildcard);
	/* 0 when validated; otherwise a negative code and *ret_problem (dns,
	 * connection, unauthorized, incorrectResponse, tls ...) for challenge.error. */
	int (*validate)(const struct flint_validator_ctx *ctx, const struct flint_validation *v,
			struct flint_problem **ret_problem);
};

/* NULL when unknown. */
const struct flint_validator *flint_validator_find(const char *type);
/* The table, NULL-terminated, in the order challenges are offered. */
extern const struct flint_validator *const flint_validators[];

/* One per challenge type, each in its own file. */
extern const struct flint_validator flint_validator_http01; /* http01.c, RFC 8555 §8.3 */
extern const struct flint_validator flint_validator_dns01;  /* dns01.c, RFC 8555 §8.4 */
extern const struct flint_validator flint_validator_tlsalpn01; /* tlsalpn01.c, RFC 8737, RFC 8738 §6 */
extern const struct flint_validator flint_validator_dnsaccount01; /* dnsaccount01.c, draft-ietf-acme-dns-account-label */

#endif
