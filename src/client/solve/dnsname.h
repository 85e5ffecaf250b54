/* Internal to the DNS solvers: the owner name of the TXT record that answers a
 * dns-01 (RFC 8555 §8.4) or dns-account-01 (draft-ietf-acme-dns-account-label) task. */
#ifndef FLINT_SOLVE_DNSNAME_H
#define FLINT_SOLVE_DNSNAME_H

#include "solve/solver.h"

/* The absolute name, with its trailing dot, malloc'd into *ret:
 *   dns-01          "_acme-challenge." IDENT "."
 *   dns-account-01  "_" base32(SHA-256(account_url)[0:10]) "._acme-challenge." IDENT "."
 * IDENT is t->ident_value (a wildcard's base name). FLINT_EINVAL for a missing or
 * unusable identifier or account URL, FLINT_ETOOBIG past 253 octets (63 a label),
 * FLINT_EUNSUPPORTED for another challenge type. *ret is untouched on failure. */
int flint_solve_dns_name(const struct flint_challenge_task *t, char **ret);

#endif
