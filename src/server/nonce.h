/* Replay nonces (RFC 8555 §6.5) that cost nothing to issue: each carries its
 * expiry and a MAC under a key shared through the store, so any node can check
 * it; only use is recorded, so each is accepted once: in the store, or, for
 * the nodes of one SQLite database, in a shared-memory ledger (nonce_ledger.h). */
#ifndef FLINTD_NONCE_H
#define FLINTD_NONCE_H

#include <openssl/types.h>
#include <stdint.h>

#include "nonce_ledger.h"
#include "store/store.h"

#define FLINT_NONCE_KEY_LEN 32
#define FLINT_NONCE_LEN 43 /* base64url of 32 bytes */

struct flint_nonce_key {
	unsigned char key[FLINT_NONCE_KEY_LEN];
	/* HMAC-SHA-256 keyed with key (RFC 2104): SHA-256 with the inner and
	 * the outer pad already hashed, copied for each tag (an HMAC context's
	 * copy and the algorithm fetches cost more than the tag itself); NULL:
	 * OpenSSL's HMAC for each tag instead */
	EVP_MD_CTX *mac_inner, *mac_outer;
	/* owned; NULL: uses are recorded in the store. With a ledger the
	 * nonce's serial comes from it and its use is recorded there. */
	struct flint_nonce_ledger *ledger;
};

/* Loads the key shared by every node on this store (creating it once); no
 * ledger. */
int flint_nonce_key_load(struct flint_store *st, struct flint_nonce_key *ret);
/* Frees what flint_nonce_key_load set up, and the ledger. */
void flint_nonce_key_clear(struct flint_nonce_key *k);

/* A fresh nonce valid until expires, into ret (FLINT_NONCE_LEN + 1 bytes). */
int flint_nonce_new(const struct flint_nonce_key *k, int64_t expires, char *ret);

/* Checks form, MAC and expiry at now; sets *ret_expires. FLINT_EINVAL for a
 * nonce this CA did not issue, FLINT_ENOTFOUND for an expired one. */
int flint_nonce_check(const struct flint_nonce_key *k, const char *nonce, int64_t now,
		      int64_t *ret_expires);

/* check + record the use: 0 the first time, FLINT_ECONFLICT after
 * (FLINT_ENOTFOUND, FLINT_EINVAL: see flint_nonce_ledger_redeem). With
 * account_id (not NULL), the account is read too, in the same store call
 * as the use when the store records it (one round trip): *ret_account, NULL
 * when there is no such account. */
int flint_nonce_redeem(const struct flint_nonce_key *k, struct flint_store *st, const char *nonce,
		       int64_t now, const char *account_id, struct flint_account **ret_account);

#endif
