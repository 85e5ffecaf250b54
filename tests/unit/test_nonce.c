/* Tests stateless replay nonces (RFC 8555 §6.5): MAC, expiry, single use
 * through the store, a key shared by every node of one store. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "error.h"
#include "nonce.h"

static char dir[] = "/tmp/flint-test-nonce-XXXXXX";

static void test_nonce(void)
{
	char db[128];
	struct flint_store *st = NULL, *st2 = NULL;
	struct flint_nonce_key k = {0}, k2 = {0}, other = {0};
	char n[FLINT_NONCE_LEN + 1], m[FLINT_NONCE_LEN + 1];
	int64_t exp = 0;

	CHECK(mkdtemp(dir) != NULL);
	snprintf(db, sizeof(db), "%s/n.db", dir);
	CHECK_INT(flint_store_open(db, &st), 0);
	CHECK_INT(flint_store_open(db, &st2), 0);
	if (!st || !st2)
		return;
	CHECK_INT(flint_nonce_key_load(st, &k), 0);
	CHECK_INT(flint_nonce_key_load(st2, &k2), 0);
	CHECK(memcmp(k.key, k2.key, sizeof(k.key)) == 0); /* one key per store */
	memset(other.key, 7, sizeof(other.key));

	CHECK_INT(flint_nonce_new(&k, 1000, n), 0);
	CHECK_INT(strlen(n), FLINT_NONCE_LEN);
	CHECK(strspn(n, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") ==
	      FLINT_NONCE_LEN);
	CHECK_INT(flint_nonce_new(&k, 1000, m), 0);
	CHECK(strcmp(n, m) != 0); /* unguessable: random part */

	CHECK_INT(flint_nonce_check(&k, n, 999, &exp), 0);
	CHECK_INT(exp, 1000);
	CHECK_INT(flint_nonce_check(&k, n, 1000, &exp), FLINT_ENOTFOUND); /* expired */
	CHECK_INT(flint_nonce_check(&other, n, 10, &exp), FLINT_EINVAL);  /* not ours */

	/* tampering with any character breaks the MAC (or the encoding) */
	for (size_t i = 0; i < FLINT_NONCE_LEN; i++) {
		char t[FLINT_NONCE_LEN + 1];
		memcpy(t, n, sizeof(t));
		t[i] = t[i] == 'A' ? 'B' : 'A';
		CHECK(flint_nonce_check(&k, t, 10, &exp) < 0);
	}
	static const char *const junk[] = {"", "abc", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
					   "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
					   "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"};
	for (size_t i = 0; i < sizeof(junk) / sizeof(junk[0]); i++)
		CHECK_INT(flint_nonce_check(&k, junk[i], 10, &exp), FLINT_EINVAL);
	CHECK_INT(flint_nonce_check(&k, NULL, 10, &exp), FLINT_EINVAL);

	/* redeemed once on any node, then refused everywhere */
	CHECK_INT(flint_nonce_redeem(&k, st, n, 10, NULL, NULL), 0);
	CHECK_INT(flint_nonce_redeem(&k2, st2, n, 10, NULL, NULL), FLINT_ECONFLICT);
	CHECK_INT(flint_nonce_redeem(&k, st, n, 10, NULL, NULL), FLINT_ECONFLICT);
	CHECK_INT(flint_nonce_redeem(&k, st, m, 1000, NULL, NULL), FLINT_ENOTFOUND);

	/* with the account read in the same call: an expired or used nonce
	 * reads nothing; a missing account still uses the nonce up */
	{
		struct flint_account *a = NULL;
		char n2[FLINT_NONCE_LEN + 1];

		CHECK_INT(flint_nonce_new(&k, 100, n2), 0);
		CHECK_INT(flint_nonce_redeem(&k, st, m, 1000, "nobody", &a), FLINT_ENOTFOUND);
		CHECK(a == NULL);
		CHECK_INT(flint_nonce_redeem(&k, st, n, 10, "nobody", &a), FLINT_ECONFLICT);
		CHECK(a == NULL);
		CHECK_INT(flint_nonce_redeem(&k, st, n2, 10, "nobody", &a), 0);
		CHECK(a == NULL);
		CHECK_INT(flint_nonce_redeem(&k2, st2, n2, 10, NULL, NULL), FLINT_ECONFLICT);
	}

	/* a key without its prepared pads tags the same: OpenSSL's own HMAC */
	{
		struct flint_nonce_key bare = k;
		char n3[FLINT_NONCE_LEN + 1];

		bare.mac_inner = bare.mac_outer = NULL;
		CHECK_INT(flint_nonce_new(&bare, 100, n3), 0);
		CHECK_INT(flint_nonce_check(&k, n3, 10, &exp), 0);
		CHECK_INT(flint_nonce_new(&k, 100, n3), 0);
		CHECK_INT(flint_nonce_check(&bare, n3, 10, &exp), 0);
	}
	flint_nonce_key_clear(&k);
	flint_nonce_key_clear(&k2);
	flint_store_close(st);
	flint_store_close(st2);
	char cmd[160];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	CHECK_INT(system(cmd), 0);
}

int main(void)
{
	RUN(test_nonce);
	return CHECK_DONE();
}
