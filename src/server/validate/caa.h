/* CAA (RFC 8659) with the ACME parameters of RFC 8657: parsing CAA rdata,
 * deciding whether a record set lets this CA issue, and finding the
 * relevant record set by climbing the DNS tree. */
#ifndef FLINT_CAA_H
#define FLINT_CAA_H

#include <stdbool.h>
#include <stddef.h>

#include "problem.h"

#define FLINT_CAA_CRITICAL 0x80 /* the issuer-critical flag */

struct flint_caa_record {
	unsigned char flags;
	char *tag;   /* lowercased; 1-15 ASCII letters and digits */
	char *value; /* as sent (may be empty) */
};

/* rdata: flags(1) tag-length(1) tag value. FLINT_EINVAL for a truncated
 * record, a tag of 0 or more than 15 octets or not alphanumeric, or a NUL in
 * the value. */
int flint_caa_rdata_parse(const unsigned char *d, size_t len, struct flint_caa_record *ret);
void flint_caa_record_clear(struct flint_caa_record *r);
void flint_caa_records_free(struct flint_caa_record *v, size_t n);

/* What is asked: may this CA (any of identities, its CAA issuer domain
 * names) issue for a name (wildcard or not) to account_url, validated by
 * method (e.g. "http-01")? */
struct flint_caa_request {
	const char *const *identities;
	size_t n_identities;
	bool wildcard;
	const char *account_url;
	const char *method;
};

/* Decides on the relevant record set rrs (RFC 8659 §4): 0 when issuance is
 * permitted (no issue/issuewild property applies, or one names this CA and
 * its accounturi / validationmethods parameters, if any, match), FLINT_EPROTO
 * when forbidden, with a one-line *ret_reason (malloc'd) naming the record. */
int flint_caa_evaluate(const struct flint_caa_record *rrs, size_t n,
		       const struct flint_caa_request *q, char **ret_reason);

struct flint_resolver;
/* CAA records at name (CNAMEs followed). None -> 0 with *ret_n = 0;
 * malformed records are skipped; lookup failures -> FLINT_EIO and a dns
 * problem. */
int flint_resolver_caa(struct flint_resolver *r, const char *name, struct flint_caa_record **ret,
		       size_t *ret_n, struct flint_problem **ret_problem);

/* Starts the CAA queries of every level of domain (what flint_caa_check
 * will read) on r, to be answered while other work goes on. */
void flint_caa_prefetch(struct flint_resolver *r, const char *domain);

/* The whole check for domain (without "*."): the relevant record set is the
 * first non-empty one from domain up to its top-level label (RFC 8659
 * §3); 0 when issuance is permitted; otherwise a caa problem naming the
 * domain and why (a lookup failure forbids too: the CA cannot tell). Every
 * level is queried at once; the queries still prefetched on r at the end
 * (levels above the deciding one) are dropped. */
int flint_caa_check(struct flint_resolver *r, const char *domain,
		    const struct flint_caa_request *q, struct flint_problem **ret_problem);

/* flint_caa_check with this CA's identities as a comma-separated list (the
 * caa-identities setting; at most 16). */
int flint_caa_check_for(struct flint_resolver *r, const char *identities, const char *domain,
			bool wildcard, const char *account_url, const char *method,
			struct flint_problem **ret_problem);

#endif
