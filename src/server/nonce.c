/* Stateless replay nonces (RFC 8555 §6.5): 8 bytes of expiry, 8 bytes of
 * serial (the ledger's) or random bytes (without a ledger) and a 16-byte
 * HMAC-SHA-256 tag, base64url. Issuing writes nothing to the store; redeeming
 * records the nonce as used until it expires, in the ledger or the store. */
#include "nonce.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "b64.h"
#include "error.h"
#include "metrics.h"
#include "random.h"

#define RAW_LEN 32
#define TAG_OFF 16
#define TAG_LEN 16
#define SHA256_BLOCK 64
/* RFC 2104: a key longer than the block would be hashed first */
_Static_assert(FLINT_NONCE_KEY_LEN <= SHA256_BLOCK, "the nonce key fits one SHA-256 block");

static void put_u64(unsigned char *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (unsigned char)(v >> (56 - 8 * i));
}

static uint64_t get_u64(const unsigned char *p)
{
	uint64_t v = 0;

	for (int i = 0; i < 8; i++)
		v = (v << 8) | p[i];
	return v;
}

/* SHA-256 having hashed k->key XOR pad (RFC 2104: 0x36 inner, 0x5c outer). */
static int pad_hashed(const struct flint_nonce_key *k, unsigned char pad, EVP_MD_CTX **ret)
{
	unsigned char block[SHA256_BLOCK];
	EVP_MD_CTX *c = EVP_MD_CTX_new();
	int rc = FLINT_ECRYPTO;

	memset(block, pad, sizeof(block));
	for (size_t i = 0; i < sizeof(k->key); i++)
		block[i] ^= k->key[i];
	if (c && EVP_DigestInit_ex(c, EVP_sha256(), NULL) == 1 &&
	    EVP_DigestUpdate(c, block, sizeof(block)) == 1) {
		*ret = c;
		c = NULL;
		rc = 0;
	}
	OPENSSL_cleanse(block, sizeof(block));
	EVP_MD_CTX_free(c);
	return rc;
}

int flint_nonce_key_load(struct flint_store *st, struct flint_nonce_key *ret)
{
	unsigned char candidate[FLINT_NONCE_KEY_LEN];
	if (RAND_bytes(candidate, sizeof(candidate)) != 1)
		return FLINT_ECRYPTO;
	ret->mac_inner = ret->mac_outer = NULL;
	ret->ledger = NULL;
	int rc = st->ops->secret(st, "nonce-hmac", candidate, sizeof(candidate), ret->key);
	OPENSSL_cleanse(candidate, sizeof(candidate));
	if (rc == 0 && (rc = pad_hashed(ret, 0x36, &ret->mac_inner)) == 0)
		rc = pad_hashed(ret, 0x5c, &ret->mac_outer);
	return rc;
}

void flint_nonce_key_clear(struct flint_nonce_key *k)
{
	if (!k)
		return;
	EVP_MD_CTX_free(k->mac_inner);
	EVP_MD_CTX_free(k->mac_outer);
	k->mac_inner = k->mac_outer = NULL;
	flint_nonce_ledger_free(k->ledger);
	k->ledger = NULL;
	OPENSSL_cleanse(k->key, sizeof(k->key));
}

/* The first TAG_LEN bytes of HMAC-SHA-256(key, msg[0..TAG_OFF)) into out. */
static int tag(const struct flint_nonce_key *k, const unsigned char *msg, unsigned char *out)
{
	unsigned char inner[SHA256_DIGEST_LENGTH], mac[EVP_MAX_MD_SIZE] = {0};
	unsigned int len = 0;
	size_t qlen = 0;
	EVP_MD_CTX *c = NULL;
	int rc = FLINT_ECRYPTO;

	if (!k->mac_inner || !k->mac_outer) {
		if (EVP_Q_mac(NULL, "HMAC", NULL, "SHA256", NULL, k->key, sizeof(k->key), msg,
			      TAG_OFF, mac, sizeof(mac), &qlen) != NULL &&
		    qlen >= TAG_LEN)
			rc = 0;
	} else if (!(c = EVP_MD_CTX_new())) {
		rc = FLINT_ENOMEM;
	} else if (EVP_MD_CTX_copy_ex(c, k->mac_inner) == 1 &&
		   EVP_DigestUpdate(c, msg, TAG_OFF) == 1 &&
		   EVP_DigestFinal_ex(c, inner, &len) == 1 && len == sizeof(inner) &&
		   EVP_MD_CTX_copy_ex(c, k->mac_outer) == 1 &&
		   EVP_DigestUpdate(c, inner, sizeof(inner)) == 1 &&
		   EVP_DigestFinal_ex(c, mac, &len) == 1 && len >= TAG_LEN) {
		rc = 0;
	}
	if (rc == 0)
		memcpy(out, mac, TAG_LEN);
	EVP_MD_CTX_free(c);
	return rc;
}

int flint_nonce_new(const struct flint_nonce_key *k, int64_t expires, char *ret)
{
	unsigned char raw[RAW_LEN];
	char *s = NULL;
	uint64_t e = (uint64_t)expires;
	put_u64(raw, e);
	if (k->ledger)
		put_u64(raw + 8, flint_nonce_ledger_issue(k->ledger));
	else if (flint_random_fill(raw + 8, 8) < 0)
		return FLINT_ECRYPTO;
	if (tag(k, raw, raw + TAG_OFF) < 0)
		return FLINT_ECRYPTO;
	int rc = flint_b64url_encode(raw, sizeof(raw), &s);
	if (rc < 0)
		return rc;
	memcpy(ret, s, FLINT_NONCE_LEN + 1);
	free(s);
	flint_metrics_inc(flint_metrics_global(), FLINT_METRIC_NONCES_ISSUED);
	return 0;
}

/* flint_nonce_check, also returning the serial (bytes 8..15). */
static int check(const struct flint_nonce_key *k, const char *nonce, int64_t now,
		 int64_t *ret_expires, uint64_t *ret_serial)
{
	unsigned char *raw = NULL, want[TAG_LEN];
	size_t len = 0;
	int rc = FLINT_EINVAL;
	if (!nonce || strlen(nonce) != FLINT_NONCE_LEN ||
	    flint_b64url_decode(nonce, FLINT_NONCE_LEN, &raw, &len) < 0 || len != RAW_LEN)
		goto out;
	if (tag(k, raw, want) < 0) {
		rc = FLINT_ECRYPTO;
		goto out;
	}
	if (CRYPTO_memcmp(want, raw + TAG_OFF, TAG_LEN) != 0)
		goto out;
	uint64_t e = get_u64(raw);
	if ((int64_t)e <= now) {
		rc = FLINT_ENOTFOUND;
		goto out;
	}
	*ret_expires = (int64_t)e;
	*ret_serial = get_u64(raw + 8);
	rc = 0;
out:
	free(raw);
	return rc;
}

int flint_nonce_check(const struct flint_nonce_key *k, const char *nonce, int64_t now,
		      int64_t *ret_expires)
{
	uint64_t serial;

	return check(k, nonce, now, ret_expires, &serial);
}

int flint_nonce_redeem(const struct flint_nonce_key *k, struct flint_store *st, const char *nonce,
		       int64_t now, const char *account_id, struct flint_account **ret_account)
{
	int64_t expires = 0;
	uint64_t serial = 0;
	int rc = check(k, nonce, now, &expires, &serial);
	if (rc < 0)
		return rc;
	struct timespec t0;
	if (k->ledger) {
		if ((rc = flint_nonce_ledger_redeem(k->ledger, serial)) < 0)
			return rc;
		flint_metrics_inc(flint_metrics_global(), FLINT_METRIC_NONCES_REDEEMED);
		if (!account_id)
			return 0;
		clock_gettime(CLOCK_MONOTONIC, &t0);
		rc = st->ops->account_get(st, account_id, ret_account);
		flint_metrics_store(flint_metrics_global(), "account_get", flint_metrics_since_us(&t0));
		if (rc == FLINT_ENOTFOUND) {
			*ret_account = NULL;
			rc = 0;
		}
		return rc;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	rc = account_id ? st->ops->nonce_use_account_get(st, nonce, expires, account_id, ret_account)
			: st->ops->nonce_use(st, nonce, expires);
	flint_metrics_store(flint_metrics_global(), account_id ? "nonce_use_account_get" : "nonce_use",
			    flint_metrics_since_us(&t0));
	if (rc == 0)
		flint_metrics_inc(flint_metrics_global(), FLINT_METRIC_NONCES_REDEEMED);
	return rc;
}
