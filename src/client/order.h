/* The order driver of the flint client (RFC 8555 §7.4-7.5): newOrder, one
 * solver per authorization, respond, poll, finalize with a CSR, download. */
#ifndef FLINT_CLIENT_ORDER_H
#define FLINT_CLIENT_ORDER_H

#include <jansson.h>
#include <openssl/evp.h>
#include <stdbool.h>
#include <stddef.h>

#include "acme.h"
#include "cert.h"
#include "solve/solver.h"

#define FLINT_ORDER_TIMEOUT 300 /* seconds for validation, and again for issuance */
#define FLINT_ACME_ORDER_MAX_AUTHZ 1000	   /* authorizations read from one order */
#define FLINT_ACME_AUTHZ_MAX_CHALLENGES 32 /* challenges read from one authorization */

/* An order object as the client reads it from the server (RFC 8555 §7.1.3). */
struct flint_acme_order {
	char *status;		 /* pending, ready, processing, valid or invalid */
	char **authorizations;	 /* URLs */
	size_t n_authorizations; /* <= FLINT_ACME_ORDER_MAX_AUTHZ */
	char *finalize;		 /* URL */
	char *certificate;	 /* URL; NULL when absent */
	json_t *error;		 /* the problem document (an object); NULL when absent */
};

/* One challenge of an authorization (RFC 8555 §7.1.5, §8). */
struct flint_acme_challenge {
	char *type; /* "http-01", ...: whatever the server offers */
	char *url;
	char *status;  /* pending, processing, valid or invalid */
	char *token;   /* NULL when absent (a type that has none) */
	json_t *error; /* NULL when absent */
};

/* An authorization object (RFC 8555 §7.1.4). */
struct flint_acme_authz {
	char *status; /* pending, valid, invalid, deactivated, expired or revoked */
	char *ident_type, *ident_value;
	bool wildcard;
	struct flint_acme_challenge *challenges; /* may be none (a valid authorization) */
	size_t n_challenges;			 /* <= FLINT_ACME_AUTHZ_MAX_CHALLENGES */
	json_t *error; /* not in RFC 8555, but some servers say why here; NULL when absent */
};

/* Read one order / authorization object from a server reply. Required members
 * must be there, every member read must have its type (URLs non-empty
 * strings, status one of the RFC's words; null counts as absent for optional
 * members), and arrays are bounded: FLINT_EPROTO or FLINT_ETOOBIG with
 * *ret_err saying what is wrong, *ret untouched. Unknown members are ignored. */
int flint_acme_order_parse(const json_t *obj, struct flint_acme_order **ret, char **ret_err);
void flint_acme_order_free(struct flint_acme_order *o);
int flint_acme_authz_parse(const json_t *obj, struct flint_acme_authz **ret, char **ret_err);
void flint_acme_authz_free(struct flint_acme_authz *a);
/* The challenge of type in a (with a token, as every type flint answers has one), or NULL. */
const struct flint_acme_challenge *flint_acme_authz_challenge(const struct flint_acme_authz *a,
							      const char *type);

/* What a failed run can tell about the failure (for --json). */
struct flint_order_failure {
	json_t *identifier; /* {type, value} of the authorization that failed; may be NULL */
	json_t *problem;    /* the server's problem (challenge error or request problem); may be NULL */
};

struct flint_order_params {
	const char *const *names; /* normalised dns names, "*." for wildcards */
	size_t n_names;
	const struct flint_solver_config *solver_cfg;
	EVP_PKEY *cert_key; /* the key to certify (its public half when csr_der is set) */
	const unsigned char *csr_der; /* the CSR to send (a key process made it); NULL: built
					 here from cert_key, which must then be private */
	size_t csr_len;
	int timeout;        /* seconds; 0: FLINT_ORDER_TIMEOUT */
	const char *preferred_chain; /* issuer CN of the wanted chain; NULL: the default */
	const char *profile;         /* newOrder "profile"; NULL: none; checked against meta.profiles */
	const char *replaces;        /* newOrder "replaces" (RFC 9773 §5): the predecessor's certID */
	struct flint_order_failure *failure; /* filled on failure when non-NULL (caller decrefs) */
};

/* Orders a certificate for names with a's account, answers each pending
 * authorization with the first configured solver of flint_solver_types[]
 * whose challenge the server offers, and returns the checked chain. Every
 * presented challenge is cleaned up whatever happens. Errors name the
 * identifier, the challenge type and the server's problem. */
int flint_order_issue(struct flint_acme *a, const struct flint_order_params *p,
		      struct flint_chain **ret, char **ret_err);

/* Pre-authorization (RFC 8555 §7.4.1): newAuthz for each of p's names (no
 * wildcards), then the same solving as flint_order_issue: each pending
 * authorization answered by the first configured solver, polled until valid
 * within p->timeout, challenges cleaned up, unfinished ones deactivated on
 * failure. p->cert_key and the order fields are unused. FLINT_EUNSUPPORTED
 * when the directory has no newAuthz. A later order for the names reuses the
 * valid authorizations, so it needs no challenge. */
int flint_order_authorize(struct flint_acme *a, const struct flint_order_params *p,
			  char **ret_err);

#endif
