/* Stored certificates of the flint client: DIR/certs/NAME/{cert,chain,
 * fullchain,key}.pem, the previous set in previous/, renewal.json to redo it. */
#ifndef FLINT_CLIENT_CERTSTORE_H
#define FLINT_CLIENT_CERTSTORE_H

#include <openssl/evp.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cert.h"
#include "renew.h"
#include "solve/solver.h"

/* renewal.json: what renew needs to order the same certificate again, and
 * what it learnt of the CA's renewalInfo (RFC 9773) for the stored one. */
struct flint_renewal {
	char *server;   /* directory URL */
	char **names;
	size_t n_names;
	char *key_type; /* certificate key: ec256 ... */
	/* strings owned; tsig_key is never stored (a secret): only a key file's
	 * path is, and tsig_key_inline records that an inline key was used */
	struct flint_solver_config solver;
	bool tsig_key_inline;  /* issued with --tsig-key: renew needs it again */
	char *deploy_hook;     /* may be NULL */
	char *preferred_chain; /* may be NULL */
	char *profile;         /* may be NULL */
	int timeout;           /* seconds, 0: default */
	int64_t not_before, not_after;
	bool revoked;
	struct flint_ari_state ari; /* zero: nothing known */
};

/* Reads renewal.json. A file that is not JSON, lacks server or names, or
 * has a member of the wrong type is FLINT_EINVAL with *ret_err naming the
 * file and the member. */
int flint_renewal_load(const char *path, struct flint_renewal **ret, char **ret_err);
int flint_renewal_save(const char *path, const struct flint_renewal *rn, char **ret_err);
/* A copy of cfg whose strings the renewal owns, without cfg->tsig_key (sets
 * tsig_key_inline instead). */
int flint_renewal_set_solver(struct flint_renewal *rn, const struct flint_solver_config *cfg);
void flint_renewal_free(struct flint_renewal *rn);

/* Stores a new certificate in cert_dir: copies the current files (if any)
 * into cert_dir/previous/, then moves the key the certificate's key process
 * wrote (staged_key, a 0600 file in cert_dir) to key.pem and writes
 * cert.pem, chain.pem, fullchain.pem and renewal.json, each atomically. */
int flint_certstore_save(const char *cert_dir, const struct flint_chain *c, const char *staged_key,
			 const struct flint_renewal *rn, char **ret_err);

/* Names of the directories under certs_dir holding a renewal.json, sorted;
 * an empty list when certs_dir does not exist. */
int flint_certstore_list(const char *certs_dir, char ***ret, size_t *ret_n, char **ret_err);
void flint_string_array_free(char **a, size_t n);

#endif
