/* External account binding (RFC 8555 §7.3.4): checks newAccount's
 * externalAccountBinding against the operator's keys in the store. */
#ifndef FLINTD_EAB_H
#define FLINTD_EAB_H

#include <jansson.h>

#include "jwk.h"
#include "problem.h"
#include "store/store.h"

#define FLINT_EAB_KID_MAX 64 /* key ids: 1..64 of [A-Za-z0-9._-] */

/* Verifies binding (the member's JSON value) for a newAccount request whose
 * outer JWS has url and account_key: a flattened JWS with alg HS256/384/512
 * equal to the stored key's, kid naming an unused key in st, url equal to
 * the outer url, no nonce, payload the account's JWK (same key), MAC valid.
 * On success *ret_kid is the key id (caller frees): create the account with
 * account_insert_eab, which consumes the key for good. Otherwise a negative
 * code and *ret_problem: malformed for shape, unauthorized for an unknown or
 * used kid, another alg, a bad MAC, another url or another key;
 * serverInternal for store failures. */
int flint_eab_verify(struct flint_store *st, const json_t *binding, const char *url,
		     const struct flint_jwk *account_key, char **ret_kid,
		     struct flint_problem **ret_problem);

/* Whether kid is usable as an EAB key id (for operator input). */
bool flint_eab_kid_ok(const char *kid);

#endif
