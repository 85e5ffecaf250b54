/* An ACME session (RFC 8555 §6, §7.1.1, §7.2): the directory fetched once,
 * a pool of Replay-Nonces, JWS-signed POSTs with badNonce and 503 retries. */
#ifndef FLINT_CLIENT_ACME_H
#define FLINT_CLIENT_ACME_H

#include <jansson.h>
#include <stdbool.h>

#include "http.h"
#include "jwk.h"
#include "problem.h"

#define FLINT_ACME_NONCE_POOL 16
#define FLINT_ACME_BADNONCE_RETRIES 10 /* fresh nonces tried after a badNonce */
#define FLINT_ACME_503_RETRIES 3
#define FLINT_ACME_503_MAX_WAIT 60 /* seconds of Retry-After we wait for; more is an error */

struct flint_acme_directory {
	char *url;
	char *new_nonce, *new_account, *new_order, *revoke_cert, *key_change; /* NULL when absent */
	char *renewal_info; /* RFC 9773 renewalInfo; NULL when absent */
	char *new_authz;    /* RFC 8555 §7.4.1 pre-authorization; NULL when absent */
	char *terms_of_service; /* meta.termsOfService, NULL when absent */
	char *website;
	bool eab_required; /* meta.externalAccountRequired */
	json_t *profiles;  /* meta.profiles (draft-ietf-acme-profiles): name -> description; may be NULL */
};

/* Reads a directory document (RFC 8555 §7.1.1) fetched from url, body[0..len)
 * as it came (not NUL-terminated): newNonce, newAccount and newOrder are
 * required; every other known member is optional, but when present (and not
 * null) must have its type: URLs strings ("" is absent), meta an object,
 * meta.externalAccountRequired a boolean, meta.profiles an object. Duplicate
 * member names are refused. FLINT_EPROTO with *ret_err on a bad document;
 * *ret is untouched on failure, and on success owns its members
 * (flint_acme_directory_clear). */
int flint_acme_directory_parse(const char *url, const char *body, size_t len,
			       struct flint_acme_directory *ret, char **ret_err);
/* Frees d's members and zeroes it, so it can be cleared again; NULL is a no-op. */
void flint_acme_directory_clear(struct flint_acme_directory *d);

struct flint_acme_reply {
	struct flint_http_response *http; /* status, body, headers */
	json_t *json;                     /* the body when it is JSON; may be NULL */
};

struct flint_acme;

/* Fetches the directory at dir_url. */
int flint_acme_new(const char *dir_url, const struct flint_http_opts *opts, struct flint_acme **ret,
		   char **ret_err);
void flint_acme_free(struct flint_acme *a);

const struct flint_acme_directory *flint_acme_dir(const struct flint_acme *a);

/* The account requests are signed for: key borrowed (must outlive its use),
 * kid copied (NULL: requests carry the jwk, as newAccount needs). */
int flint_acme_set_account(struct flint_acme *a, const struct flint_jwk *key, const char *kid);
const struct flint_jwk *flint_acme_key(const struct flint_acme *a);
const char *flint_acme_kid(const struct flint_acme *a);

/* A signed POST to url with the session's account (kid when set, else jwk).
 * payload NULL is POST-as-GET. accept may be NULL. Any 2xx is success; a
 * problem or other non-2xx reply is FLINT_EPROTO with *ret_err describing
 * it (type, detail, subproblems, Retry-After) and the problem kept for
 * flint_acme_problem(). badNonce is retried with fresh nonces, 503 with
 * Retry-After up to FLINT_ACME_503_MAX_WAIT. */
int flint_acme_post(struct flint_acme *a, const char *url, const char *payload, const char *accept,
		    struct flint_acme_reply **ret, char **ret_err);
/* The same, signed by key: with kid, or with the embedded jwk when kid is NULL. */
int flint_acme_post_with(struct flint_acme *a, const struct flint_jwk *key, const char *kid,
			 const char *url, const char *payload, const char *accept,
			 struct flint_acme_reply **ret, char **ret_err);

/* A plain, unsigned GET of url (RFC 9773 §4.3 allows it for renewalInfo).
 * Any HTTP status is a success here; transport failures are FLINT_EIO. */
int flint_acme_get(struct flint_acme *a, const char *url, struct flint_acme_reply **ret,
		   char **ret_err);

/* The problem of the last failed request (NULL when it had none). */
const struct flint_problem *flint_acme_problem(const struct flint_acme *a);

void flint_acme_reply_free(struct flint_acme_reply *r);

/* --- pure decisions, unit-tested --- */

/* After a failed reply (attempt = attempts made so far, from 1): the delay in
 * milliseconds before trying again, or -1 to give up. badNonce: at once, up
 * to FLINT_ACME_BADNONCE_RETRIES times; 503 (not rateLimited): Retry-After
 * when <= FLINT_ACME_503_MAX_WAIT, 1 s per attempt when absent; else -1. */
long flint_acme_retry_delay(long status, const struct flint_problem *p, long retry_after,
			    int attempt);

/* Wait before poll number attempt (from 0) of a pending object: Retry-After
 * when given (at least 50 ms, at most 60 s), else 75 ms doubling to 4 s. */
long flint_acme_poll_delay(int attempt, long retry_after);

/* Whether profile may go into newOrder (draft-ietf-acme-profiles §3): 0 when
 * profiles (meta.profiles, may be NULL) names it; else FLINT_EUNSUPPORTED and
 * *ret_err naming the server (dir_url) and the profiles it has, or saying it
 * has none. */
int flint_acme_profile_check(const json_t *profiles, const char *dir_url, const char *profile,
			     char **ret_err);

/* One line: "urn:...:type: detail (HTTP 400); subproblems: dns x: urn:...: detail; ...". */
char *flint_problem_describe(const struct flint_problem *p);

/* Nonce pool: newest first out. Invalid nonces (not base64url) are ignored. */
struct flint_nonce_pool {
	char *nonce[FLINT_ACME_NONCE_POOL];
	size_t n;
};
void flint_nonce_pool_push(struct flint_nonce_pool *pool, const char *nonce);
/* The newest nonce (caller frees), or NULL when empty. */
char *flint_nonce_pool_take(struct flint_nonce_pool *pool);
void flint_nonce_pool_clear(struct flint_nonce_pool *pool);

#endif
