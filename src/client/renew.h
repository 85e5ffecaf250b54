/* When a certificate is due for renewal: inside the window the CA suggests
 * through ACME Renewal Information (RFC 9773 §4.2-4.3) when it has one, else
 * with a third of its lifetime left (half for lifetimes of 10 days or less). */
#ifndef FLINT_CLIENT_RENEW_H
#define FLINT_CLIENT_RENEW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define FLINT_RENEW_SHORT_LIFETIME (10 * 86400) /* seconds; at most this is "short" */

/* The unix time at which renewal is due: not_before + 2/3 of the lifetime,
 * or + 1/2 for lifetimes <= FLINT_RENEW_SHORT_LIFETIME. A lifetime <= 0
 * (nonsense dates) is due at not_before. */
int64_t flint_renew_time(int64_t not_before, int64_t not_after);

/* now >= flint_renew_time(): due. */
bool flint_renew_due(int64_t not_before, int64_t not_after, int64_t now);

/* --- ACME Renewal Information (RFC 9773) --- */

#define FLINT_ARI_RETRY_MIN 60            /* Retry-After clamped to 1 min ... */
#define FLINT_ARI_RETRY_MAX 86400         /* ... 1 day (RFC 9773 §4.3.3) */
#define FLINT_ARI_RETRY_ERROR (6 * 3600)  /* after a long-term error or no Retry-After */
#define FLINT_ARI_RETRY_TRANSIENT 3600    /* after a 5xx or a network failure */

/* What renewal.json remembers of the CA's renewalInfo for one certificate. */
struct flint_ari_state {
	char *cert_id;         /* the certificate it belongs to; NULL: nothing known */
	int64_t start, end;    /* suggestedWindow; end <= start: no window known */
	int64_t chosen;        /* the renewal time picked uniformly in [start, end), once */
	int64_t next_check;    /* no renewalInfo GET before this (Retry-After); 0: any time */
	char *explanation_url; /* may be NULL */
};

void flint_ari_state_clear(struct flint_ari_state *s);

/* Whether renewalInfo may be fetched now (Retry-After has passed). */
bool flint_ari_should_fetch(const struct flint_ari_state *s, int64_t now);

/* Applies one renewalInfo answer fetched at now: status 0 means no reply
 * (network failure). retry_after in seconds, -1 when absent; rnd a uniformly
 * random value picking the renewal time when the window is new (a window
 * seen before keeps its time, so repeated runs agree). next_check becomes
 * now + Retry-After clamped to [FLINT_ARI_RETRY_MIN, FLINT_ARI_RETRY_MAX].
 * A 200 that is not a valid RenewalInfo (bad JSON, times, end <= start)
 * forgets the window (the lifetime rule applies), sets next_check
 * FLINT_ARI_RETRY_ERROR ahead and returns FLINT_EINVAL; a 5xx or status 0
 * keeps the known window, retries after FLINT_ARI_RETRY_TRANSIENT (or
 * Retry-After) and returns FLINT_EPROTO; other statuses keep it, retry after
 * FLINT_ARI_RETRY_ERROR and return FLINT_EPROTO. *ret_err says why. */
int flint_ari_update(struct flint_ari_state *s, long status, const char *body, size_t len,
		     long retry_after, int64_t now, uint64_t rnd, char **ret_err);

struct flint_renew_decision {
	bool due;
	bool by_ari; /* the time comes from a suggestedWindow */
	int64_t when; /* the renewal time */
};

/* The decision for a certificate valid [not_before, not_after) at now: with
 * a window in s (may be NULL), due when now >= the chosen time (a window in
 * the past: due); without one, flint_renew_due(). Expired: always due. */
void flint_renew_decide(int64_t not_before, int64_t not_after, const struct flint_ari_state *s,
			int64_t now, struct flint_renew_decision *ret);

#endif
