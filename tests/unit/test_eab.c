/* Unit tests for eab.c: newAccount's externalAccountBinding (RFC 8555
 * §7.3.4) checked against keys in a real SQLite store, with hostile bindings. */
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "b64.h"
#include "check.h"
#include "eab.h"
#include "error.h"
#include "jws.h"

#define URL "https://ca.test/acme/new-account"

static char dbpath[] = "/tmp/flint-eab-XXXXXX";
static struct flint_store *st;
static struct flint_jwk *acct_key, *other_key;
static char *acct_jwk; /* the account key's public JWK text */
static unsigned char key256[32], key512[64], wrong[32];

static void add_key(const char *kid, const char *alg, unsigned char *mac, size_t len)
{
	struct flint_eab_key k = {.kid = (char *)kid,
				  .alg = (char *)alg,
				  .hmac_key = mac,
				  .hmac_key_len = len,
				  .created = 1};

	CHECK_INT(st->ops->eab_insert(st, &k), 0);
}

/* A binding with protected header hdr (JSON text), payload text, HMAC of md with key. */
static json_t *hand_made(const char *hdr, const char *payload, const EVP_MD *md,
			 const unsigned char *key, size_t key_len)
{
	char *h64 = NULL, *p64 = NULL, *s64 = NULL, *input = NULL;
	unsigned char mac[EVP_MAX_MD_SIZE];
	unsigned int mac_len = 0;
	json_t *doc = NULL;

	if (flint_b64url_encode((const uint8_t *)hdr, strlen(hdr), &h64) == 0 &&
	    flint_b64url_encode((const uint8_t *)payload, strlen(payload), &p64) == 0 &&
	    asprintf(&input, "%s.%s", h64, p64) > 0 &&
	    HMAC(md, key, (int)key_len, (unsigned char *)input, strlen(input), mac, &mac_len) &&
	    flint_b64url_encode(mac, mac_len, &s64) == 0)
		doc = json_pack("{s:s, s:s, s:s}", "protected", h64, "payload", p64, "signature",
				s64);
	free(h64);
	free(p64);
	free(s64);
	free(input);
	return doc;
}

static json_t *signed_by_lib(const char *alg, const char *kid, const char *url,
			     const unsigned char *key, size_t len, const char *payload)
{
	char *out = NULL;
	json_t *doc;

	CHECK_INT(flint_jws_sign_hmac(alg, kid, url, key, len, payload, &out), 0);
	doc = out ? json_loads(out, 0, NULL) : NULL;
	free(out);
	return doc;
}

/* Runs flint_eab_verify on doc (reference stolen); checks rc and problem type. */
static void expect(const char *what, json_t *doc, int rc, enum flint_problem_type type,
		   const char *detail_part)
{
	struct flint_problem *p = NULL;
	char *kid = NULL;
	int r = flint_eab_verify(st, doc, URL, acct_key, &kid, &p);

	if (r != rc || (rc < 0 && (!p || p->type != type)) ||
	    (detail_part && (!p || !strstr(p->detail, detail_part))))
		fprintf(stderr, "case '%s': rc %d, problem %s\n", what, r,
			p ? p->detail : "(none)");
	CHECK_INT(r, rc);
	if (rc < 0) {
		CHECK(p && p->type == type);
		CHECK(kid == NULL);
		if (detail_part)
			CHECK(p && strstr(p->detail, detail_part));
	} else {
		CHECK(p == NULL);
		CHECK(kid != NULL);
	}
	flint_problem_free(p);
	free(kid);
	json_decref(doc);
}

static void test_valid(void)
{
	struct flint_problem *p = NULL;
	char *kid = NULL;
	json_t *doc = signed_by_lib("HS256", "k256", URL, key256, sizeof(key256), acct_jwk);

	CHECK_INT(flint_eab_verify(st, doc, URL, acct_key, &kid, &p), 0);
	CHECK_STR(kid, "k256");
	CHECK(p == NULL);
	free(kid);
	json_decref(doc);
	expect("HS512 key, HS512 binding",
	       signed_by_lib("HS512", "k512", URL, key512, sizeof(key512), acct_jwk), 0, 0, NULL);
	/* the JWK's members in another order are the same key (thumbprints compared) */
	{
		json_t *j = json_loads(acct_jwk, 0, NULL), *rev = json_object(), *v;
		const char *k;
		char *rs;

		/* each member put in front of the ones before it: reversed order */
		json_object_foreach(j, k, v)
		{
			json_t *tmp = json_object();

			json_object_set(tmp, k, v);
			json_object_update(tmp, rev);
			json_decref(rev);
			rev = tmp;
		}
		rs = json_dumps(rev, JSON_COMPACT);
		CHECK(rs && strcmp(rs, acct_jwk) != 0);
		expect("reordered JWK members",
		       signed_by_lib("HS256", "k256", URL, key256, sizeof(key256), rs), 0, 0, NULL);
		free(rs);
		json_decref(rev);
		json_decref(j);
	}
}

static void test_hostile(void)
{
	char *other_jwk = NULL;
	char hdr[512];

	CHECK_INT(flint_jwk_to_string(other_key, &other_jwk), 0);
	expect("not an object", json_string("x"), FLINT_EINVAL, FLINT_PROB_MALFORMED,
	       "flattened JWS");
	expect("empty object", json_object(), FLINT_EINVAL, FLINT_PROB_MALFORMED,
	       "externalAccountBinding");
	expect("bad MAC (another key)",
	       signed_by_lib("HS256", "k256", URL, wrong, sizeof(wrong), acct_jwk), FLINT_EBADSIG,
	       FLINT_PROB_UNAUTHORIZED, "MAC");
	expect("unknown kid", signed_by_lib("HS256", "nope", URL, key256, sizeof(key256), acct_jwk),
	       FLINT_ENOTFOUND, FLINT_PROB_UNAUTHORIZED, "unknown");
	expect("kid not a key id",
	       signed_by_lib("HS256", "a b/../c", URL, key256, sizeof(key256), acct_jwk),
	       FLINT_EINVAL, FLINT_PROB_UNAUTHORIZED, "unknown");
	expect("alg other than the key's",
	       signed_by_lib("HS384", "k256", URL, key256, sizeof(key256), acct_jwk), FLINT_EINVAL,
	       FLINT_PROB_UNAUTHORIZED, "HS256 key");
	expect("wrong url",
	       signed_by_lib("HS256", "k256", "https://ca.test/acme/new-order", key256,
			     sizeof(key256), acct_jwk),
	       FLINT_EINVAL, FLINT_PROB_UNAUTHORIZED, "url");
	expect("payload: another account key",
	       signed_by_lib("HS256", "k256", URL, key256, sizeof(key256), other_jwk), FLINT_EINVAL,
	       FLINT_PROB_UNAUTHORIZED, "another key");
	expect("payload: not a JWK",
	       signed_by_lib("HS256", "k256", URL, key256, sizeof(key256), "{\"a\":1}"),
	       FLINT_EINVAL, FLINT_PROB_MALFORMED, "JWK");
	expect("payload: empty", signed_by_lib("HS256", "k256", URL, key256, sizeof(key256), ""),
	       FLINT_EINVAL, FLINT_PROB_MALFORMED, "JWK");
	snprintf(hdr, sizeof(hdr), "{\"alg\":\"none\",\"kid\":\"k256\",\"url\":\"%s\"}", URL);
	expect("alg none", hand_made(hdr, acct_jwk, EVP_sha256(), key256, sizeof(key256)),
	       FLINT_EUNSUPPORTED, FLINT_PROB_MALFORMED, "HS256");
	snprintf(hdr, sizeof(hdr), "{\"alg\":\"RS256\",\"kid\":\"k256\",\"url\":\"%s\"}", URL);
	expect("alg RS256", hand_made(hdr, acct_jwk, EVP_sha256(), key256, sizeof(key256)),
	       FLINT_EUNSUPPORTED, FLINT_PROB_MALFORMED, "RS256");
	snprintf(hdr, sizeof(hdr),
		 "{\"alg\":\"HS256\",\"kid\":\"k256\",\"url\":\"%s\",\"nonce\":\"abcd\"}", URL);
	expect("nonce present", hand_made(hdr, acct_jwk, EVP_sha256(), key256, sizeof(key256)),
	       FLINT_EINVAL, FLINT_PROB_MALFORMED, "nonce");
	snprintf(hdr, sizeof(hdr), "{\"alg\":\"HS256\",\"kid\":\"k256\",\"url\":\"%s\",\"jwk\":%s}",
		 URL, acct_jwk);
	expect("jwk in the header", hand_made(hdr, acct_jwk, EVP_sha256(), key256, sizeof(key256)),
	       FLINT_EINVAL, FLINT_PROB_MALFORMED, "jwk");
	/* the hand-made control: the same construction with a clean header passes */
	snprintf(hdr, sizeof(hdr), "{\"alg\":\"HS256\",\"kid\":\"k256\",\"url\":\"%s\"}", URL);
	expect("hand-made control", hand_made(hdr, acct_jwk, EVP_sha256(), key256, sizeof(key256)),
	       0, 0, NULL);
	/* the MAC over a header claiming HS512 but computed with SHA-256 */
	snprintf(hdr, sizeof(hdr), "{\"alg\":\"HS512\",\"kid\":\"k512\",\"url\":\"%s\"}", URL);
	expect("HS512 claimed, SHA-256 MAC",
	       hand_made(hdr, acct_jwk, EVP_sha256(), key512, sizeof(key512)), FLINT_EBADSIG,
	       FLINT_PROB_UNAUTHORIZED, "MAC");
	free(other_jwk);
}

static void test_used(void)
{
	struct flint_account a = {.id = "acct-1",
				  .jwk_json = acct_jwk,
				  .thumbprint = acct_key->thumbprint,
				  .contact_json = "[]",
				  .status = "valid",
				  .created = 5};

	/* verified, then consumed by the account insert; after that it is refused */
	expect("before use", signed_by_lib("HS256", "k256", URL, key256, sizeof(key256), acct_jwk),
	       0, 0, NULL);
	CHECK_INT(st->ops->account_insert_eab(st, &a, "k256"), 0);
	expect("used kid", signed_by_lib("HS256", "k256", URL, key256, sizeof(key256), acct_jwk),
	       FLINT_EINVAL, FLINT_PROB_UNAUTHORIZED, "already bound");
	/* a removed key is unknown */
	CHECK_INT(st->ops->eab_remove(st, "k512"), 0);
	expect("removed kid", signed_by_lib("HS512", "k512", URL, key512, sizeof(key512), acct_jwk),
	       FLINT_ENOTFOUND, FLINT_PROB_UNAUTHORIZED, "unknown");
}

static void test_kid_syntax(void)
{
	CHECK(flint_eab_kid_ok("abc-DEF_1.2"));
	CHECK(!flint_eab_kid_ok(""));
	CHECK(!flint_eab_kid_ok(NULL));
	CHECK(!flint_eab_kid_ok("a b"));
	CHECK(!flint_eab_kid_ok("a/b"));
	CHECK(flint_eab_kid_ok("0123456789012345678901234567890123456789012345678901234567890123"));
	CHECK(
	    !flint_eab_kid_ok("01234567890123456789012345678901234567890123456789012345678901234"));
}

int main(void)
{
	int fd = mkstemp(dbpath);

	if (fd < 0) {
		perror("mkstemp");
		return 1;
	}
	close(fd);
	for (size_t i = 0; i < sizeof(key512); i++)
		key512[i] = (unsigned char)(0xa0 ^ i);
	for (size_t i = 0; i < sizeof(key256); i++) {
		key256[i] = (unsigned char)(3 * i + 11);
		wrong[i] = key256[i];
	}
	wrong[31] ^= 0x80; /* one bit from the right key */
	CHECK_INT(flint_store_open(dbpath, &st), 0);
	CHECK_INT(flint_jwk_generate(FLINT_KEY_P256, 0, &acct_key), 0);
	CHECK_INT(flint_jwk_generate(FLINT_KEY_P256, 0, &other_key), 0);
	CHECK_INT(flint_jwk_to_string(acct_key, &acct_jwk), 0);
	if (st && acct_key && other_key && acct_jwk) {
		add_key("k256", "HS256", key256, sizeof(key256));
		add_key("k512", "HS512", key512, sizeof(key512));
		RUN(test_kid_syntax);
		RUN(test_valid);
		RUN(test_hostile);
		RUN(test_used);
	}
	flint_store_close(st);
	flint_jwk_free(acct_key);
	flint_jwk_free(other_key);
	free(acct_jwk);
	unlink(dbpath);
	{
		char p[64];
		snprintf(p, sizeof(p), "%s-wal", dbpath);
		unlink(p);
		snprintf(p, sizeof(p), "%s-shm", dbpath);
		unlink(p);
	}
	return CHECK_DONE();
}
