/* CA policy: the RFC 8555 §7.1.6 status machines as functions of stored
 * state and time, and the rules for contacts and identifiers. */
#ifndef FLINTD_POLICY_H
#define FLINTD_POLICY_H

#include <jansson.h>
#include <stdint.h>

#include "identifier.h"
#include "problem.h"
#include "store/store.h"

#define FLINT_MAX_CONTACTS 10
#define FLINT_MAX_ORDER_IDENTIFIERS 100

/* An authorization's status at now: stored pending/valid past expiry is "expired". */
const char *flint_policy_authz_status(const struct flint_authz *a, int64_t now);

/* Whether an order's status at now depends on its authorizations: only a
 * stored pending (or ready) order that has not expired; otherwise
 * flint_policy_order_status needs none (n may be 0). */
bool flint_policy_order_status_needs_authzs(const struct flint_order *o, int64_t now);

/* An order's status (§7.1.6): stored processing/valid/invalid win; an
 * expired order is invalid; otherwise derived from its authorizations:
 * any not pending/valid -> invalid, all valid -> ready, else pending. */
const char *flint_policy_order_status(const struct flint_order *o,
				      struct flint_authz *const *authzs, size_t n, int64_t now);

/* contact must be an array of at most FLINT_MAX_CONTACTS "mailto:" URLs with
 * one syntactically valid address each (no hfields): unsupportedContact for
 * other schemes, invalidContact for bad addresses, malformed for bad types. */
int flint_policy_check_contacts(const json_t *contact, struct flint_problem **ret_problem);

/* Parses and checks newOrder identifiers: 1..FLINT_MAX_ORDER_IDENTIFIERS,
 * normalised, duplicates removed; every failure becomes a subproblem of a
 * single problem (rejectedIdentifier or unsupportedIdentifier / compound). */
int flint_policy_order_identifiers(const json_t *identifiers, struct flint_identifier **ret,
				   size_t *ret_n, struct flint_problem **ret_problem);

/* RFC 5280 CRLReason codes a revocation request may use: 0-5, 9, 10 (not the
 * unassigned 7, not certificateHold 6 nor the delta-CRL-only removeFromCRL 8). */
bool flint_policy_revocation_reason_ok(int reason);

#endif
