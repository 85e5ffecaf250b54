/* The order driver of the flint client (RFC 8555 §7.4-7.5): newOrder, one
 * solver per authorization, respond, poll, finalize with a CSR, download. */
#ifndef FLINT_CLIENT_ORDER_H
#define FLINT_CLIENT_ORDER_H

#include <openssl/evp.h>
#include <stddef.h>

#include "acme.h"
#include "cert.h"
#include "solve/solver.h"

#define FLINT_ORDER_TIMEOUT 300 /* seconds for validation, and again for issuance */

struct flint_order_params {
	const char *const *names; /* normalised dns names, "*." for wildcards */
	size_t n_names;
	const struct flint_solver_config *solver_cfg;
	EVP_PKEY *cert_key; /* the key to certify */
	int timeout;        /* seconds; 0: FLINT_ORDER_TIMEOUT */
};

/* Orders a certificate for names with a's account, answers each pending
 * authorization with the first configured solver of flint_solver_types[]
 * whose challenge the server offers, and returns the checked chain. Every
 * presented challenge is cleaned up whatever happens. Errors name the
 * identifier, the challenge type and the server's problem. */
int flint_order_issue(struct flint_acme *a, const struct flint_order_params *p,
		      struct flint_chain **ret, char **ret_err);

#endif
