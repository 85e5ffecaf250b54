/* The storage interface of flintd: every ACME object and nonce lives behind
 * this table of functions; backends (sqlite, later postgres) are one file each.
 * Handlers never see SQL; the store never sees HTTP. */
#ifndef FLINT_STORE_H
#define FLINT_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Status strings are the RFC 8555 §7.1.6 names ("pending", "valid", ...). */

struct flint_account {
	char *id;
	char *jwk_json;     /* canonical public JWK */
	char *thumbprint;   /* RFC 7638; unique across accounts */
	char *contact_json; /* JSON array of strings, "[]" when none */
	char *status;       /* valid | deactivated | revoked */
	bool tos_agreed;
	int64_t created;
	char *eab_json;     /* the externalAccountBinding JWS it was created with, or NULL */
	const char *created_ip; /* insert only: the client address that created it, or NULL */
};

/* An external account binding key (RFC 8555 §7.3.4), made by the operator
 * (flintd admin eab-add) and consumed by the one newAccount that uses it. */
struct flint_eab_key {
	char *kid;
	char *alg;             /* HS256 | HS384 | HS512 */
	unsigned char *hmac_key;
	size_t hmac_key_len;
	int64_t created;
	char *account_id;      /* the account it is bound to; NULL while unused */
	int64_t used;          /* when it was bound; 0 while unused */
};

struct flint_challenge {
	char *id;
	char *authz_id;
	char *type;   /* "http-01", "dns-01", ... */
	char *token;
	char *status; /* pending | processing | valid | invalid */
	int64_t validated; /* 0 when not validated */
	char *error_json;  /* problem document or NULL */
};

struct flint_authz {
	char *id;
	char *account_id;
	char *ident_type;
	char *ident_value; /* without "*." for wildcards */
	bool wildcard;
	char *status;      /* pending | valid | invalid | deactivated | expired | revoked (stored) */
	int64_t expires;
	int64_t created;
	struct flint_challenge *challenges;
	size_t n_challenges;
};

struct flint_order {
	char *id;
	char *account_id;
	/* Stored status: "pending" until finalize; then processing | valid |
	 * invalid. pending/ready/invalid(by authz) are derived by policy. */
	char *status;
	int64_t expires;
	int64_t not_before; /* 0 when not requested */
	int64_t not_after;  /* 0 when not requested */
	int64_t created;
	char *identifiers_json; /* JSON array of {type,value} as requested, normalised */
	char *error_json;       /* problem or NULL */
	char *cert_id;          /* NULL until issued */
	char *profile;          /* the certificate profile the order issues under */
	char *replaces;         /* id of the certificate it replaces (RFC 9773), or NULL */
	char **authz_ids;       /* in identifier order */
	size_t n_authz;
};

struct flint_cert {
	char *id;
	char *serial;     /* lowercase hex, no leading zeros stripped: as issued */
	char *account_id;
	char *order_id;
	unsigned char *der; /* end-entity certificate */
	size_t der_len;
	char *chain_pem;  /* leaf then intermediates, as served */
	int64_t not_before;
	int64_t not_after;
	int64_t revoked_at; /* 0 when not revoked */
	int reason;         /* RFC 5280 CRLReason when revoked */
	char *names_json;   /* JSON array of identifiers {type,value} in the certificate */
	char *profile;      /* profile it was issued under */
	/* RFC 9773: the order that claimed to replace it (NULL: none); an
	 * operator-set renewal window (0/0: none) and its explanation URL */
	char *replaced_by;
	int64_t ari_start, ari_end;
	char *ari_explanation;
	/* insert only: the registered domains (or IP addresses) the certificate
	 * counts against for the certificates-per-domain rate limit */
	char **rate_domains;
	size_t n_rate_domains;
};

struct flint_store;

/* Taking over work in processing (challenges_claim, orders_claim). */
struct flint_claim {
	const char *node;    /* the claiming node */
	int64_t now;         /* claims that ended by now are taken */
	int64_t claim_until; /* the new claim's end */
	bool own;            /* also node's own unexpired claims (its previous run) */
	size_t limit;        /* at most this many rows (> 0) */
};

/* The reads a request makes first after authenticating, named before it
 * authenticates (flint_store_read_ahead, flint_store_read_ahead_calls). */
enum flint_store_read {
	FLINT_READ_NONE,
	FLINT_READ_AUTHZ,		  /* authz_get(id) */
	FLINT_READ_CHALLENGE_WITH_AUTHZ, /* challenge_with_authz(id, ...) */
	FLINT_READ_ORDER,		  /* order_get(id) */
	FLINT_READ_ORDER_AND_AUTHZS,	  /* order_get(id), then flint_store_authzs_of_order */
	FLINT_READ_CERT,		  /* cert_get(id) */
	/* newOrder's checks (flint_store_read_call holds their arguments) */
	FLINT_READ_AUTHZ_FIND_VALID,	  /* authz_find_valid(id, type, value, wildcard, time) */
	FLINT_READ_AUTHZ_COUNT_PENDING,  /* authz_count_pending(id, time) */
	FLINT_READ_COUNT_ORDERS,	  /* count_orders_since(id, time) */
	FLINT_READ_COUNT_CERT_DOMAIN,	  /* count_certs_for_domain_since(id, time) */
	FLINT_READ_COUNT_FAILED,	  /* count_failed_validations_since(id, type, value, time) */
};

/* One read named ahead: the call and the arguments its kind uses. */
struct flint_store_read_call {
	enum flint_store_read what;
	const char *id; /* the row's id; the account's; the domain */
	const char *type, *value;
	bool wildcard;
	int64_t time;
};

/* At most this many reads go ahead with one statement; more are not named. */
#define FLINT_STORE_AHEAD_MAX 8

struct flint_store_ops {
	const char *name;
	/* dsn: for sqlite a file path, for postgres a libpq conninfo. Applies
	 * schema migrations. */
	int (*open)(const char *dsn, struct flint_store **ret);
	void (*close)(struct flint_store *st);

	/* Nonces are issued without touching the store (they carry their own
	 * MAC, see nonce.h); the store only remembers which were used, so each
	 * is accepted once across all nodes. FLINT_ECONFLICT when already used.
	 * expires is the nonce's own (it is part of the nonce): the pair is the key. */
	int (*nonce_use)(struct flint_store *st, const char *nonce, int64_t expires);
	/* nonce_use, then the account account_id (what authenticating a request
	 * by kid reads first) in the same call: one round trip on PostgreSQL,
	 * one transaction on SQLite. FLINT_ECONFLICT when the nonce was used
	 * (nothing read); otherwise the nonce is used now and *ret is the
	 * account, or NULL when there is no such account. */
	int (*nonce_use_account_get)(struct flint_store *st, const char *nonce, int64_t expires,
				     const char *account_id, struct flint_account **ret);
	/* Optional (NULL where it would gain nothing). The reads calls[0..n)
	 * name (copied) may go out with the next statement (on PostgreSQL, in
	 * its round trip: a request's reads with its nonce's redemption);
	 * their answers are kept for the calls that make exactly those reads,
	 * in any order, each once. A read of another kind leaves them; any
	 * other call (a write, a transaction, a batch) forgets them, as does
	 * n == 0. What those calls return is the same either way, read a
	 * statement or a few earlier. */
	void (*read_ahead)(struct flint_store *st, const struct flint_store_read_call *calls,
			   size_t n);
	/* Optional (NULL: flint_store_authzs_of_order reads them one by one).
	 * The authorizations of order order_id, each with its challenges, in
	 * one statement: each into the still-empty ret[i] (ret zeroed by the
	 * caller) whose ids[i] names it. What stays empty (an id listed twice,
	 * a row gone) flint_store_authzs_of_order reads by authz_get; on
	 * failure it frees what ret holds. */
	int (*authzs_of_order)(struct flint_store *st, const char *order_id, char *const *ids,
			       size_t n, struct flint_authz **ret);
	/* Forgets used nonces that expired (they fail their own check anyway). */
	int (*nonce_purge)(struct flint_store *st, int64_t now);
	/* The shared secret called name: the stored one, or candidate (len bytes)
	 * stored now when there is none yet, so every node ends up with the same. */
	int (*secret)(struct flint_store *st, const char *name, const unsigned char *candidate,
		      size_t len, unsigned char *ret);

	/* FLINT_ECONFLICT when the thumbprint already belongs to an account. */
	int (*account_insert)(struct flint_store *st, const struct flint_account *acct);
	int (*account_get)(struct flint_store *st, const char *id, struct flint_account **ret);
	int (*account_by_thumbprint)(struct flint_store *st, const char *thumbprint,
				     struct flint_account **ret);
	/* Replaces jwk_json, thumbprint, contact_json, status, tos_agreed of
	 * acct->id, only while the stored thumbprint and status still equal
	 * expect's (the row the caller read), so concurrent changes (key
	 * rollover, deactivation) are never silently undone. FLINT_ECONFLICT
	 * when they differ or the new thumbprint belongs to another account. */
	int (*account_update)(struct flint_store *st, const struct flint_account *acct,
			      const struct flint_account *expect);
	/* account_insert that also consumes the EAB key eab_kid, in one
	 * transaction: the key is bound to acct->id (at acct->created) only
	 * while unused, so each key creates one account across concurrent
	 * requests and nodes. FLINT_ECONFLICT when the thumbprint belongs to
	 * an account or the key is used; FLINT_ENOTFOUND when there is no such
	 * key. Nothing is written on failure. */
	int (*account_insert_eab)(struct flint_store *st, const struct flint_account *acct,
				  const char *eab_kid);

	/* EAB keys. FLINT_ECONFLICT when the kid exists. */
	int (*eab_insert)(struct flint_store *st, const struct flint_eab_key *key);
	int (*eab_get)(struct flint_store *st, const char *kid, struct flint_eab_key **ret);
	/* Every key, oldest first; *ret NULL when none. */
	int (*eab_list)(struct flint_store *st, struct flint_eab_key ***ret, size_t *ret_n);
	/* FLINT_ENOTFOUND when there is no such key. An account already bound keeps its binding. */
	int (*eab_remove)(struct flint_store *st, const char *kid);

	/* In one transaction: inserts each authz in new_authzs (with its
	 * challenges), then the order with its authz_ids (which may name both
	 * new and reused authorizations). */
	int (*order_insert)(struct flint_store *st, const struct flint_order *order,
			    const struct flint_authz *new_authzs, size_t n_new);
	int (*order_get)(struct flint_store *st, const char *id, struct flint_order **ret);
	/* Compare-and-set: sets status (and error_json/cert_id when non-NULL) only
	 * when the stored status equals expect; FLINT_ECONFLICT otherwise. */
	int (*order_set_status)(struct flint_store *st, const char *id, const char *expect,
				const char *status, const char *error_json, const char *cert_id);
	/* Order ids of an account, oldest first, strictly after after_id (NULL for
	 * the start); at most limit; *ret_more says whether more exist. */
	int (*orders_by_account)(struct flint_store *st, const char *account_id,
				 const char *after_id, size_t limit, char ***ret_ids,
				 size_t *ret_n, bool *ret_more);

	/* A pre-authorization (newAuthz, §7.4.1): the authz and its challenges,
	 * in one transaction, belonging to no order. */
	int (*authz_insert)(struct flint_store *st, const struct flint_authz *authz);
	int (*authz_get)(struct flint_store *st, const char *id, struct flint_authz **ret);
	/* A valid authz of the account for (type, value, wildcard) expiring after
	 * min_expires, the latest-expiring one; FLINT_ENOTFOUND when none. */
	int (*authz_find_valid)(struct flint_store *st, const char *account_id,
				const char *ident_type, const char *ident_value, bool wildcard,
				int64_t min_expires, struct flint_authz **ret);
	/* How many unexpired pending authorizations the account holds. */
	int (*authz_count_pending)(struct flint_store *st, const char *account_id, int64_t now,
				   size_t *ret);
	/* Sets an authz status (deactivate, expire); compare-and-set on expect when non-NULL. */
	int (*authz_set_status)(struct flint_store *st, const char *id, const char *expect,
				const char *status);

	int (*challenge_get)(struct flint_store *st, const char *id, struct flint_challenge **ret);
	/* In one read: the challenge id, its authorization (without its
	 * challenges: n_challenges 0) and, unless ret_account is NULL, the
	 * account that owns that (what a validation needs). FLINT_ENOTFOUND
	 * when any is missing. */
	int (*challenge_with_authz)(struct flint_store *st, const char *id,
					struct flint_challenge **ret_challenge,
					struct flint_authz **ret_authz,
					struct flint_account **ret_account);
	/* pending -> processing, only when the challenge is pending and its authz
	 * pending; FLINT_ECONFLICT otherwise. The challenge is claimed by node
	 * (which validates it) until claim_until. */
	int (*challenge_start)(struct flint_store *st, const char *id, const char *node,
			       int64_t claim_until);
	/* Records a validation outcome in one transaction: challenge processing
	 * -> valid/invalid (validated, error_json), and its authz pending ->
	 * valid (with authz_expires) or invalid. FLINT_ECONFLICT when the
	 * challenge was not processing. */
	int (*challenge_finish)(struct flint_store *st, const char *id, bool valid,
				int64_t validated, const char *error_json, int64_t authz_expires);
	/* Work in processing whose claim expired (its node stopped or died), or
	 * that c->node left (c->own, at its start), claimed for c->node: the
	 * ids of the rows taken, at most c->limit, each by one caller only
	 * across nodes. *ret_ids NULL when none. */
	int (*challenges_claim)(struct flint_store *st, const struct flint_claim *c,
				char ***ret_ids, size_t *ret_n);
	int (*orders_claim)(struct flint_store *st, const struct flint_claim *c, char ***ret_ids,
			    size_t *ret_n);
	/* Finalization begins (RFC 8555 §7.4): the order's stored status pending
	 * -> processing, only while it is ready at now (not expired, every
	 * authorization valid and unexpired; FLINT_ECONFLICT otherwise, and when
	 * not pending), its CSR kept and the order claimed by node until
	 * claim_until, so that any node can finish the issuance. */
	int (*order_start_finalize)(struct flint_store *st, const char *id, const unsigned char *csr,
				    size_t csr_len, const char *node, int64_t now,
				    int64_t claim_until);
	/* The CSR stored by order_start_finalize (caller frees); FLINT_ENOTFOUND
	 * when the order has none. */
	int (*order_csr)(struct flint_store *st, const char *id, unsigned char **ret,
			 size_t *ret_len);
	/* A scheduled job's lease: taken for holder until `until` when there is
	 * none or it expired at now; FLINT_ECONFLICT while one is live (also the
	 * holder's own), so a job runs once per lease across the nodes. */
	int (*lease_acquire)(struct flint_store *st, const char *name, const char *holder,
			     int64_t now, int64_t until);

	int (*cert_insert)(struct flint_store *st, const struct flint_cert *cert);
	/* The certificate of an order being finalized: cert_insert, and the order
	 * cert->order_id from processing to valid with cert_id cert->id, as one
	 * change (a node that stops between them, or loses the order meanwhile,
	 * leaves no certificate without its order). FLINT_ECONFLICT, nothing
	 * written, when the order is not processing; FLINT_ENOTFOUND without it. */
	int (*cert_issue)(struct flint_store *st, const struct flint_cert *cert);
	int (*cert_get)(struct flint_store *st, const char *id, struct flint_cert **ret);
	int (*cert_by_serial)(struct flint_store *st, const char *serial, struct flint_cert **ret);
	/* FLINT_ECONFLICT when already revoked. */
	int (*cert_revoke)(struct flint_store *st, const char *id, int reason, int64_t when);
	/* RFC 9773 replacement: compare-and-set of the certificate's replaced_by
	 * from expect (NULL: unclaimed) to order_id, so one certificate is
	 * replaced by one live order only. FLINT_ECONFLICT when replaced_by is
	 * not expect; FLINT_ENOTFOUND when there is no such certificate. */
	int (*cert_claim_replacement)(struct flint_store *st, const char *cert_id,
				      const char *order_id, const char *expect);
	/* Operator-set ARI windows: every certificate unexpired at now, with
	 * this serial (when not NULL) and of this account (when not NULL), gets
	 * the window [start, end) and explanation (may be NULL). *ret_n: how many. */
	int (*certs_set_ari_window)(struct flint_store *st, const char *serial,
				    const char *account_id, int64_t now, int64_t start, int64_t end,
				    const char *explanation, size_t *ret_n);
	/* Rate limits: how many events happened after since, and when the
	 * oldest of them did (0 when none): new orders of an account,
	 * certificates counted against a registered domain, invalid challenges
	 * of an account for one identifier, accounts created from an address. */
	int (*count_orders_since)(struct flint_store *st, const char *account_id, int64_t since,
				  size_t *ret_n, int64_t *ret_oldest);
	int (*count_certs_for_domain_since)(struct flint_store *st, const char *domain,
					    int64_t since, size_t *ret_n, int64_t *ret_oldest);
	int (*count_failed_validations_since)(struct flint_store *st, const char *account_id,
					      const char *ident_type, const char *ident_value,
					      int64_t since, size_t *ret_n, int64_t *ret_oldest);
	int (*count_accounts_from_since)(struct flint_store *st, const char *ip, int64_t since,
					 size_t *ret_n, int64_t *ret_oldest);
	/* All revoked certificates not yet expired at now (for CRLs). */
	int (*certs_revoked)(struct flint_store *st, int64_t now, struct flint_cert ***ret,
			     size_t *ret_n);
};

/* The backend for a DSN: "sqlite:PATH" or a bare path -> sqlite;
 * "postgresql://...", "postgres://..." or a libpq "key=value ..." string ->
 * postgres (*ret_rest: the whole DSN). NULL when unknown. */
const struct flint_store_ops *flint_store_backend(const char *dsn, const char **ret_rest);

/* Every store handle begins with its ops, so callers can dispatch. */
struct flint_store {
	const struct flint_store_ops *ops;
};

/* dsn fit for a log line: a password in a URL (user:PASSWORD@) or a
 * conninfo (password=...) replaced by "***", into buf. Returns buf. */
const char *flint_store_dsn_redacted(const char *dsn, char *buf, size_t cap);

/* Convenience: opens dsn with the right backend. */
int flint_store_open(const char *dsn, struct flint_store **ret);
/* Whether st reads ahead (ops->read_ahead): naming reads costs nothing
 * where it does not. */
bool flint_store_reads_ahead(const struct flint_store *st);
/* ops->read_ahead of calls[0..n) (the first FLINT_STORE_AHEAD_MAX) when the
 * backend has one. */
void flint_store_read_ahead_calls(struct flint_store *st, const struct flint_store_read_call *calls,
				  size_t n);
/* The same for one read keyed by id alone (FLINT_READ_NONE, or a NULL id:
 * forgets what was named). */
void flint_store_read_ahead(struct flint_store *st, enum flint_store_read what, const char *id);
/* The authorizations ids[0..n) of order order_id into ret[0..n), in that
 * order: ops->authzs_of_order, then authz_get for each it did not give (all
 * without it). FLINT_ENOTFOUND when any is missing (ret then all NULL). */
int flint_store_authzs_of_order(struct flint_store *st, const char *order_id, char *const *ids,
				size_t n, struct flint_authz **ret);
static inline void flint_store_close(struct flint_store *st)
{
	if (st)
		st->ops->close(st);
}

struct flint_jwk;
/* Imports the account's stored public key (from a process-wide cache of
 * imported keys when it was imported before). */
int flint_account_jwk(const struct flint_account *a, struct flint_jwk **ret);
/* Empties that cache (at exit). */
void flint_account_jwk_cache_clear(void);

/* What every backend's cert_insert and cert_issue require of cert: its DER,
 * and its rate domains when it names any. */
bool flint_cert_storable(const struct flint_cert *cert);

void flint_account_free(struct flint_account *a);
/* A deep copy of a into *ret (created_ip, an insert-only input, is not
 * copied): 0 or FLINT_ENOMEM. */
int flint_account_dup(const struct flint_account *a, struct flint_account **ret);
void flint_eab_key_free(struct flint_eab_key *k);
void flint_eab_key_list_free(struct flint_eab_key **keys, size_t n);
void flint_challenge_clear(struct flint_challenge *c);
void flint_challenge_free(struct flint_challenge *c);
/* Deep copies into *ret: 0 or FLINT_ENOMEM. An authorization's copy has
 * no challenges (as challenge_with_authz reads it). */
int flint_challenge_dup(const struct flint_challenge *c, struct flint_challenge **ret);
int flint_authz_dup_bare(const struct flint_authz *a, struct flint_authz **ret);
void flint_authz_free(struct flint_authz *a);
void flint_order_free(struct flint_order *o);
void flint_cert_free(struct flint_cert *c);
void flint_cert_list_free(struct flint_cert **certs, size_t n);
void flint_string_list_free(char **list, size_t n);

#endif
