/* libFuzzer driver for external account binding (RFC 8555 §7.3.4): the
 * FLINT_JWS_EAB parser mode, the MAC check, and flintd's whole binding check
 * against an in-memory store holding the key "k1" (the seeds' key). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "eab.h"
#include "jws.h"

#define URL "https://ca.test/acme/new-account"

static const unsigned char mac_key[32] = "flint-fuzz-eab-key-0123456789ab";
static struct flint_store *st;
static struct flint_jwk *acct;

static void setup(void)
{
	static const char jwk[] = "{\"crv\":\"P-256\",\"kty\":\"EC\","
				  "\"x\":\"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU\","
				  "\"y\":\"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0\"}";
	struct flint_eab_key k = {.kid = "k1",
				  .alg = "HS256",
				  .hmac_key = (unsigned char *)mac_key,
				  .hmac_key_len = sizeof(mac_key),
				  .created = 1};
	json_t *j = json_loads(jwk, 0, NULL);

	if (flint_store_open(":memory:", &st) < 0 || st->ops->eab_insert(st, &k) < 0 || !j ||
	    flint_jwk_from_json(j, &acct) < 0)
		abort();
	json_decref(j);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct flint_jws *jws = NULL;
	struct flint_problem *p = NULL;
	json_t *doc;
	char *kid = NULL;
	int r;

	if (!st)
		setup();
	r = flint_jws_parse((const char *)data, size, FLINT_JWS_EAB, &jws, &p);
	if (r == 0) {
		if (!jws || p || !jws->kid || !jws->url || jws->nonce || jws->jwk)
			abort();
		flint_jws_verify_hmac(jws, mac_key, sizeof(mac_key), &p);
	} else if (jws) {
		abort();
	}
	flint_problem_free(p);
	p = NULL;
	flint_jws_free(jws);

	doc = json_loadb((const char *)data, size, 0, NULL);
	if (doc) {
		r = flint_eab_verify(st, doc, URL, acct, &kid, &p);
		if ((r == 0) != (kid != NULL) || (r == 0) == (p != NULL))
			abort();
		flint_problem_free(p);
		free(kid);
		json_decref(doc);
	}
	return 0;
}
