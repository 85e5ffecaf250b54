/* Certificate revocation (RFC 8555 §7.6) by the issuing account, by an
 * account authorized for every name, or by the certificate's own key; and
 * the CRL (RFC 5280 §5) that publishes the result. */
#include <openssl/x509.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "bodies.h"
#include "error.h"
#include "file.h"
#include "log.h"
#include "metrics.h"

/* The signed CRL is cached for CRL_TTL seconds (its Cache-Control max-age),
 * and dropped at once when this process revokes; other nodes sharing the
 * store catch up within the TTL. Unauthenticated GETs thus cost a copy. */
#define CRL_TTL 60
#define CRL_MAX_SHARDS 128
/* [0] the full CRL, [1 + K] shard K */
static struct crl_cached {
	unsigned char *der;
	size_t len;
	int64_t built;
} crl_cache[1 + CRL_MAX_SHARDS];
static pthread_mutex_t crl_lock = PTHREAD_MUTEX_INITIALIZER;

static void crl_cache_drop(void)
{
	pthread_mutex_lock(&crl_lock);
	for (size_t i = 0; i < sizeof(crl_cache) / sizeof(crl_cache[0]); i++) {
		free(crl_cache[i].der);
		crl_cache[i].der = NULL;
	}
	pthread_mutex_unlock(&crl_lock);
}

/* Whether the account holds valid authorizations for every name of the certificate. */
static bool account_covers(struct flint_req *r, const struct flint_cert *c)
{
	json_t *names = json_loads(c->names_json, 0, NULL);
	bool ok = json_array_size(names) > 0;
	size_t i;
	json_t *v;
	json_array_foreach(names, i, v) {
		const char *type = json_string_value(json_object_get(v, "type"));
		const char *value = json_string_value(json_object_get(v, "value"));
		bool wc = value && !strncmp(value, "*.", 2);
		struct flint_authz *a = NULL;
		if (!type || !value ||
		    r->store->ops->authz_find_valid(r->store, r->account->id, type,
						    wc ? value + 2 : value, wc, flint_now(), &a) < 0)
			ok = false;
		flint_authz_free(a);
	}
	json_decref(names);
	return ok;
}

void flint_api_revoke(struct flint_req *r, const char *rest)
{
	(void)rest;
	struct flint_body_revoke *body = NULL;
	struct flint_problem *prob = NULL;
	EVP_PKEY *cert_key = NULL;
	struct flint_cert *c = NULL;
	const unsigned char *der;
	size_t der_len;
	const char *serial;
	int reason;

	if (flint_req_authenticate(r, FLINT_AUTH_ANY) < 0)
		return;
	if (flint_body_revoke_parse(r->payload, &body, &prob) < 0) {
		flint_reply_problem(r, prob);
		goto out;
	}
	der = body->der;
	der_len = body->der_len;
	serial = body->serial;
	reason = body->reason;
	int rc = r->store->ops->cert_by_serial(r->store, serial, &c);
	if (rc == FLINT_ENOTFOUND || (rc == 0 && (c->der_len != der_len ||
						  memcmp(c->der, der, der_len) != 0))) {
		flint_reply_error_status(r, FLINT_PROB_MALFORMED, 404,
					 "this CA did not issue that certificate");
		goto out;
	} else if (rc < 0) {
		flint_reply_error(r, FLINT_PROB_SERVER_INTERNAL, "store: %s", flint_strerror(rc));
		goto out;
	}
	if (r->jws->jwk) {
		cert_key = X509_get_pubkey(body->cert);
		if (!cert_key || EVP_PKEY_eq(cert_key, r->jws->jwk->pkey) != 1) {
			flint_reply_forbidden(r,
					  "the JWS key is not the certificate's key");
			goto out;
		}
	} else if (strcmp(c->account_id, r->account->id) != 0 && !account_covers(r, c)) {
		flint_reply_forbidden(r,
				  "this account neither holds the certificate nor authorizations "
				  "for all its names");
		goto out;
	}
	if (c->revoked_at) {
		flint_reply_error(r, FLINT_PROB_ALREADY_REVOKED, "certificate already revoked");
		goto out;
	}
	rc = r->store->ops->cert_revoke(r->store, c->id, reason, flint_now());
	if (rc == FLINT_ECONFLICT) {
		flint_reply_error(r, FLINT_PROB_ALREADY_REVOKED, "certificate already revoked");
		goto out;
	} else if (rc < 0) {
		flint_reply_error(r, FLINT_PROB_SERVER_INTERNAL, "store: %s", flint_strerror(rc));
		goto out;
	}
	crl_cache_drop();
	flint_metrics_inc(flint_metrics_global(), FLINT_METRIC_REVOCATIONS);
	flintd_logf("state cert=%s serial=%s status=revoked reason=%d", c->id, serial, reason);
	flint_crl_publish(r->d, r->store); /* crl-dir: at once after a revocation */
	flint_reply_body(r, 200, NULL, NULL, 0);
out:
	flint_body_revoke_free(body);
	EVP_PKEY_free(cert_key);
	flint_cert_free(c);
}

/* The full CRL (shard -1) or one partition: the revoked, unexpired
 * certificates whose serial falls in it. */
static int build_crl(struct flintd *d, struct flint_store *st, int shard, unsigned char **ret,
		     size_t *ret_len)
{
	struct flint_cert **certs = NULL;
	struct flint_revoked_entry *entries = NULL;
	size_t n = 0, k = 0;
	int rc = st->ops->certs_revoked(st, flint_now(), &certs, &n);
	if (rc < 0)
		return rc;
	entries = calloc(n ? n : 1, sizeof(*entries));
	rc = FLINT_ENOMEM;
	if (!entries)
		goto out;
	for (size_t i = 0; i < n; i++)
		if (shard < 0 || flint_issuer_crl_shard(d->issuer, certs[i]->serial) == shard)
			entries[k++] = (struct flint_revoked_entry){
				certs[i]->serial, certs[i]->revoked_at, certs[i]->reason};
	rc = flint_issuer_crl(d->issuer, entries, k, shard, ret, ret_len);
out:
	free(entries);
	flint_cert_list_free(certs, n);
	return rc;
}

int flint_crl_publish(struct flintd *d, struct flint_store *st)
{
	int shards = flint_issuer_crl_shards(d->issuer), rc = 0;

	if (!d->cfg->crl_dir)
		return 0;
	for (int shard = -1; rc == 0 && shard < shards; shard++) {
		unsigned char *der = NULL;
		size_t len = 0;
		char *path = NULL;

		rc = build_crl(d, st, shard, &der, &len);
		if (rc == 0 && (shard < 0 ? asprintf(&path, "%s/crl.der", d->cfg->crl_dir)
					  : asprintf(&path, "%s/crl-%d.der", d->cfg->crl_dir, shard)) < 0) {
			path = NULL;
			rc = FLINT_ENOMEM;
		}
		if (rc == 0)
			rc = flint_file_write_atomic(path, der, len, 0644, NULL);
		if (rc < 0)
			fprintf(stderr, "flintd: cannot publish the CRL %s: %s\n", path ? path : "",
				flint_strerror(rc));
		free(der);
		free(path);
	}
	return rc;
}

void flint_api_crl(struct flint_req *r, const char *which)
{
	int shards = flint_issuer_crl_shards(r->d->issuer), shard = -1, rc = 0;
	int64_t now = flint_now();
	struct crl_cached *c;

	/* "" the full CRL, "K" shard K (decimal, no sign or leading zero) */
	if (which[0]) {
		char *end;
		long v = strtol(which, &end, 10);

		if (*end || which[0] < '0' || which[0] > '9' || (which[0] == '0' && which[1]) ||
		    v >= shards || shards > CRL_MAX_SHARDS) {
			flint_reply_error_status(r, FLINT_PROB_MALFORMED, 404, "no such CRL");
			return;
		}
		shard = (int)v;
	}
	c = &crl_cache[shard + 1];
	pthread_mutex_lock(&crl_lock);
	if (!c->der || now - c->built >= CRL_TTL) {
		unsigned char *der = NULL;
		size_t len = 0;
		rc = build_crl(r->d, r->store, shard, &der, &len);
		if (rc == 0) {
			free(c->der);
			c->der = der;
			c->len = len;
			c->built = now;
		}
	}
	if (rc == 0) {
		char age[32];
		snprintf(age, sizeof(age), "max-age=%d", (int)(CRL_TTL - (now - c->built)));
		flint_reply_add_header(r, "Cache-Control", age);
		flint_reply_body(r, 200, "application/pkix-crl", c->der, c->len);
	}
	pthread_mutex_unlock(&crl_lock);
	if (rc < 0)
		flint_reply_error(r, FLINT_PROB_SERVER_INTERNAL, "CRL: %s", flint_strerror(rc));
}
