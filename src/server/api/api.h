/* The ACME API: one handler per resource (RFC 8555 §7), the shared request
 * authentication (§6.2-6.5) and the JSON views handlers share. */
#ifndef FLINTD_API_H
#define FLINTD_API_H

#include "server.h"

enum flint_auth {
	FLINT_AUTH_KID, /* an existing, valid account signs (kid) */
	FLINT_AUTH_JWK, /* a key signs itself (newAccount) */
	FLINT_AUTH_ANY, /* either (revokeCert) */
};

/* Content-Type, JWS syntax, url, nonce, key lookup, signature, account
 * status, payload JSON. Returns 0 when the request is authentic; otherwise it
 * has already replied with the problem and returns a negative code. */
int flint_req_authenticate(struct flint_req *r, enum flint_auth kind);
/* Names (flint_store_read_ahead_calls) the reads a request's payload implies
 * for account_id, from the payload before its signature is checked. */
typedef void (*flint_req_reads_fn)(struct flint_req *r, const json_t *payload,
				   const char *account_id);
/* flint_req_authenticate; where the store reads ahead, name_reads first
 * names the reads of a kid-signed payload that is a JSON object, for the
 * nonce's redemption to carry. */
int flint_req_authenticate_ahead(struct flint_req *r, enum flint_auth kind,
				 flint_req_reads_fn name_reads);

/* Account id from a kid URL of this server; NULL when kid is not one. */
char *flint_account_id_from_url(const struct flint_req *r, const char *kid);

/* The router: picks the handler for r->path and method. */
void flint_api_dispatch(struct flint_req *r);

/* Resource handlers; rest is the path after the route prefix. */
void flint_api_directory(struct flint_req *r, const char *rest);
/* Serialises the directory once into d->directory_json (freed by the caller). */
int flint_api_directory_init(struct flintd *d);
void flint_api_new_nonce(struct flint_req *r, const char *rest);
void flint_api_new_account(struct flint_req *r, const char *rest);
void flint_api_account(struct flint_req *r, const char *rest);
void flint_api_key_change(struct flint_req *r, const char *rest);
void flint_api_new_order(struct flint_req *r, const char *rest);
void flint_api_order(struct flint_req *r, const char *rest);
void flint_api_finalize(struct flint_req *r, const char *order_id); /* .../order/ID/finalize */
void flint_api_new_authz(struct flint_req *r, const char *rest); /* pre-authorization, §7.4.1 */
void flint_api_authz(struct flint_req *r, const char *rest);
void flint_api_challenge(struct flint_req *r, const char *rest);
void flint_api_certificate(struct flint_req *r, const char *rest);
void flint_api_revoke(struct flint_req *r, const char *rest);
void flint_api_ca_file(struct flint_req *r, const char *rest);
void flint_api_terms(struct flint_req *r, const char *rest);
/* Observability (metrics.c, health.c): plain GETs, no JWS, no nonce. */
void flint_api_metrics(struct flint_req *r, const char *rest);
void flint_api_health(struct flint_req *r, const char *rest);
/* The health decision (health.c): 200 and {"status":"ok"} when st answers a
 * trivial lookup, else 503 and {"status":"unavailable","store":REASON};
 * *ret is a new reference (NULL on OOM). */
int flint_health_check(struct flint_store *st, json_t **ret);
/* The CRL of revoked, unexpired certificates (in revoke.c): which is ""
 * for the full CRL or a shard number (crl-shards). */
void flint_api_crl(struct flint_req *r, const char *which);
/* With crl-dir: writes the full CRL (crl.der) and each shard (crl-K.der)
 * there, atomically; called at start, every crl-interval and after each
 * revocation. 0 without crl-dir. */
int flint_crl_publish(struct flintd *d, struct flint_store *st);

/* Work shared by the nodes of a cluster (jobs.c). Claims the challenges and
 * orders in processing whose claim expired (and, with own, this node's own:
 * at its start, what its previous run left) and hands them to the
 * validation workers. */
int flint_jobs_take_over(struct flintd *d, struct flint_store *st, bool own);
/* One round, run every few seconds on every node: take_over, then each
 * scheduled job whose lease this node gets (nonce purge, CRL publication). */
void flint_jobs_run(struct flintd *d, struct flint_store *st);
/* Finishes an order this node claimed in processing (finalize.c): from its
 * stored CSR on a validation worker, or records it invalid when it cannot be. */
int flint_finalize_resume(struct flintd *d, struct flint_store *st, const char *order_id);

/* Rate limits (limits.c): 0 when there is room; otherwise they have replied
 * 429 rateLimited with Retry-After (or 500 on a store error) and return < 0. */
int flint_limit_new_account(struct flint_req *r);
int flint_limit_new_orders(struct flint_req *r);
int flint_limit_certs_per_domain(struct flint_req *r, const struct flint_identifier *ids,
				 size_t n_ids);
int flint_limit_failed_validations(struct flint_req *r, const struct flint_identifier *id);
/* max-pending-authzs: the account's unexpired pending authorizations plus
 * n_new must stay within the cap (newOrder, newAuthz). */
int flint_limit_pending_authzs(struct flint_req *r, size_t n_new, int64_t now);

/* OCSP responder (RFC 6960, ocsp.c): POST /ocsp, GET /ocsp/<base64>. */
void flint_api_ocsp(struct flint_req *r, const char *rest);
/* ARI (RFC 9773, renewal_info.c): GET renewalInfo/<certID>. */
void flint_api_renewal_info(struct flint_req *r, const char *rest);
/* The suggested renewal window of c: an operator-set one, a past one when
 * revoked, else from the lifetime (a third left, half for <= 10 days). */
void flint_ari_window(const struct flint_cert *c, int64_t *ret_start, int64_t *ret_end);
/* Seconds until a client should ask again: lifetime/48 within 1 min..6 h. */
long flint_ari_retry_after(const struct flint_cert *c);
/* The certificate a certID names: malformed (400) when it is not one, 404
 * when this CA did not issue it; *ret_prob set on every failure. */
int flint_ari_find_cert(struct flint_req *r, const char *cert_id, struct flint_cert **ret,
			struct flint_problem **ret_prob);
/* The same outside a request (a worker's store handle). */
int flint_ari_find_cert_in(struct flintd *d, struct flint_store *st, const char *cert_id,
			   struct flint_cert **ret, struct flint_problem **ret_prob);

/* Views shared between handlers. New references; NULL on OOM. */
json_t *flint_account_json(const struct flint_req *r, const struct flint_account *a);
/* Loads the order's authorizations and derives its status (§7.1.6). */
int flint_order_status(struct flint_req *r, const struct flint_order *o, const char **ret);
/* flint_order_status, keeping the authorizations it read: *ret_authzs
 * (o->n_authz of them, for flint_order_authzs_free), NULL when the status
 * needed none (processing, valid, invalid, expired). */
int flint_order_status_load(struct flint_req *r, const struct flint_order *o, const char **ret,
			    struct flint_authz ***ret_authzs);
/* The order's authorizations from the store, o->n_authz of them in order;
 * free them with flint_order_authzs_free(*ret, o->n_authz). */
int flint_order_authzs_load(struct flint_req *r, const struct flint_order *o,
			    struct flint_authz ***ret);
/* *field := a copy of value, the old one freed: what a handler holds after
 * the store changed it. FLINT_ENOMEM leaves *field as it was. */
int flint_field_set(char **field, const char *value);
void flint_order_authzs_free(struct flint_authz **authzs, size_t n);
/* Renders the order with its derived status. */
int flint_order_render(struct flint_req *r, const struct flint_order *o, json_t **ret,
		       const char **ret_status);
/* Replies with the order, its Location and, while processing, Retry-After. */
void flint_order_reply(struct flint_req *r, int status, const struct flint_order *o);
json_t *flint_authz_json(const struct flint_req *r, const struct flint_authz *a);
struct flint_identifier;
/* A new pending authorization of r's account for id (order.c), expiring at
 * expires, with one challenge per applicable validator; the strings stay
 * borrowed from r and id except what flint_new_authz_clear frees.
 * FLINT_EUNSUPPORTED when no challenge type can validate id. */
int flint_new_authz(struct flint_req *r, const struct flint_identifier *id, int64_t expires,
		    struct flint_authz *ret);
void flint_new_authz_clear(struct flint_authz *a);
json_t *flint_challenge_json(const struct flint_req *r, const struct flint_challenge *c);

/* Replies 404 (malformed) for unknown objects and 403 unauthorized for
 * objects of other accounts; returns true when it replied. */
bool flint_reply_lookup_error(struct flint_req *r, int rc, const char *what);

#endif
