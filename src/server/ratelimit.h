/* Rate limits (configurable, "COUNT/DURATION"): how many events of a kind
 * one key may cause in a sliding window, what a refusal's Retry-After is,
 * and the registered domain (public suffix list, libpsl) certificates count
 * against. The counting itself is the store's; the checks are the API's. */
#ifndef FLINTD_RATELIMIT_H
#define FLINTD_RATELIMIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct flint_rate {
	int limit;      /* events allowed per window; 0: no limit */
	int64_t window; /* seconds */
};

/* "300/3h", "50/7d", "5/1h", "10/30m", "20/90s"; "0" or "off" disable.
 * FLINT_EINVAL (with a malloc'd reason in *ret_err when not NULL) for
 * anything else, a count over 1000000 or a window over 366 days. */
int flint_rate_parse(const char *spec, struct flint_rate *ret, char **ret_err);

/* Whether n events already in the window leave no room for one more. */
static inline bool flint_rate_exceeded(const struct flint_rate *r, size_t n)
{
	return r->limit > 0 && n >= (size_t)r->limit;
}

/* Seconds until the oldest counted event leaves the window (at least 1). */
long flint_rate_retry_after(const struct flint_rate *r, int64_t oldest, int64_t now);

/* The registered domain of a DNS name (one label below its public
 * suffix: a.b.example.co.uk -> example.co.uk); a name that is itself a
 * public suffix or has no registrable part counts as itself. Lowercase
 * ASCII in, *ret malloc'd. */
int flint_registered_domain(const char *name, char **ret);

struct flint_identifier;
/* The distinct keys identifiers count against for certificates per
 * domain: a DNS name's registered domain (wildcards by their base), an IP
 * address itself. *ret is a malloc'd array of malloc'd strings. */
int flint_rate_domains(const struct flint_identifier *ids, size_t n, char ***ret, size_t *ret_n);

/* Whether two JSON arrays of identifiers {type, value} hold the same set
 * (a renewal "for exactly the same names"). */
bool flint_same_identifiers(const char *a_json, const char *b_json);

#endif
