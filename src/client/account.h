/* ACME accounts for the flint client (RFC 8555 §7.3): register, fetch,
 * update, deactivate and key rollover, kept per directory URL on disk. */
#ifndef FLINT_CLIENT_ACCOUNT_H
#define FLINT_CLIENT_ACCOUNT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "acme.h"
#include "jwk.h"
#include "keyproc.h"
#include "state.h"

struct flint_account {
	char *dir;       /* DIR/accounts/<host>/<path> */
	char *key_path;  /* dir/account.key (PKCS#8 PEM, 0600) */
	char *json_path; /* dir/account.json: url, directory, contact, created */
	struct flint_jwk *key;   /* the public key; signatures come from keyproc */
	struct flint_keyproc *keyproc; /* the process holding the private key (keyproc.h) */
	char *url;       /* the account URL: the kid of every request */
};

struct flint_account_params {
	const char *const *emails; /* contact addresses without "mailto:" */
	size_t n_emails;
	bool agree_tos;
	enum flint_key_type key_type;
	int rsa_bits;
	/* external account binding (§7.3.4); eab_kid NULL: none */
	const char *eab_kid;
	const char *eab_hmac_key; /* base64url (padding tolerated) */
	const char *eab_alg;      /* HS256 (NULL), HS384, HS512 */
};

/* The externalAccountBinding member for newAccount: an HMAC JWS over jwk
 * (the account's public JWK) for url (newAccount). FLINT_EINVAL with
 * *ret_err when the key does not decode or alg is not HS256/384/512. */
int flint_account_eab(const char *kid, const char *hmac_key_b64, const char *alg, const char *url,
		      const json_t *jwk, json_t **ret, char **ret_err);

/* Maps "es256", "es384", "rs256", "eddsa" (account keys); FLINT_EINVAL otherwise. */
int flint_account_key_type(const char *name, enum flint_key_type *ret_type, int *ret_bits);
const char *flint_account_key_type_name(enum flint_key_type type);

/* The stored account for a's directory: FLINT_ENOTFOUND when there is none. */
int flint_account_load(struct flint_acme *a, const struct flint_state *st,
		       struct flint_account **ret, char **ret_err);

/* newAccount (§7.3): refuses locally when the server has terms of service
 * and !agree_tos, or requires external account binding and p has none. Reuses a key left
 * by an interrupted registration. Stores key and URL; sets a's account. */
int flint_account_register(struct flint_acme *a, const struct flint_state *st,
			   const struct flint_account_params *p, struct flint_account **ret,
			   char **ret_err);

/* The stored account, or a new one registered with p (for issue). */
int flint_account_ensure(struct flint_acme *a, const struct flint_state *st,
			 const struct flint_account_params *p, struct flint_account **ret,
			 bool *ret_created, char **ret_err);

/* POST-as-GET of the account (§7.3.3 style fetch); *ret the account object. */
int flint_account_fetch(struct flint_acme *a, struct flint_account *acct, json_t **ret,
			char **ret_err);
/* Replaces the contact list (§7.3.2); n_emails may be 0 to remove all. */
int flint_account_update_contacts(struct flint_acme *a, struct flint_account *acct,
				  const char *const *emails, size_t n_emails, json_t **ret,
				  char **ret_err);
/* Deactivates (§7.3.6) and moves the local files to dir/deactivated-<time>/. */
int flint_account_deactivate(struct flint_acme *a, struct flint_account *acct, char **ret_err);
/* keyChange (§7.3.5) to a fresh key of type/bits; the new key replaces the
 * stored one only after the server accepted it. */
int flint_account_rollover(struct flint_acme *a, struct flint_account *acct,
			   enum flint_key_type type, int rsa_bits, char **ret_err);

void flint_account_free(struct flint_account *acct);

#endif
