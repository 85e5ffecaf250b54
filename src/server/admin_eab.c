/* Operator commands for external account binding (RFC 8555 §7.3.4): the CA
 * hands each customer a key ID and MAC key out of band; each key creates
 * exactly one ACME account (see eab.c and the store's account_insert_eab). */
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin.h"
#include "b64.h"
#include "eab.h"
#include "error.h"
#include "server.h"
#include "timefmt.h"

/* MAC key bytes per algorithm: the hash's output size (RFC 7518 §3.2 wants at least that). */
static size_t key_bytes(const char *alg)
{
	if (!strcmp(alg, "HS256"))
		return 32;
	if (!strcmp(alg, "HS384"))
		return 48;
	if (!strcmp(alg, "HS512"))
		return 64;
	return 0;
}

/* flintd admin eab-add [--kid ID] [--alg HS256|HS384|HS512] */
int flintd_admin_eab_add(struct flintd_admin_ctx *ctx, int argc, char **argv)
{
	struct flint_eab_key k = {.alg = "HS256"};
	unsigned char mac_key[64];
	char *kid = NULL, *key_b64 = NULL;
	size_t n;
	int r, rc = 2;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (strcmp(a, "--kid") && strcmp(a, "--alg")) {
			fprintf(stderr, "flintd: eab-add: unknown argument '%s'\n", a);
			goto out;
		}
		if (!v) {
			fprintf(stderr, "flintd: eab-add: %s needs a value\n", a);
			goto out;
		}
		i++;
		if (!strcmp(a, "--kid"))
			k.kid = (char *)v;
		else
			k.alg = (char *)v;
	}
	if (!(n = key_bytes(k.alg))) {
		fprintf(stderr, "flintd: eab-add: --alg must be HS256, HS384 or HS512\n");
		goto out;
	}
	if (k.kid && !flint_eab_kid_ok(k.kid)) {
		fprintf(stderr, "flintd: eab-add: --kid must be 1 to %d of A-Z a-z 0-9 . _ -\n",
			FLINT_EAB_KID_MAX);
		goto out;
	}
	rc = 1;
	if (!k.kid) {
		unsigned char raw[12];

		if (RAND_bytes(raw, sizeof(raw)) != 1 || !(kid = malloc(2 * sizeof(raw) + 1))) {
			fprintf(stderr, "flintd: eab-add: cannot make a key ID\n");
			goto out;
		}
		for (size_t i = 0; i < sizeof(raw); i++)
			snprintf(kid + 2 * i, 3, "%02x", raw[i]);
		k.kid = kid;
	}
	/* A key printed as "-..." would read as an option to clients' command
	 * lines (certbot's argparse): draw again, at a cost of < 0.03 bits. */
	do {
		if (key_b64) {
			OPENSSL_cleanse(key_b64, strlen(key_b64));
			free(key_b64);
			key_b64 = NULL;
		}
		if (RAND_bytes(mac_key, (int)n) != 1) {
			fprintf(stderr, "flintd: eab-add: no random bytes\n");
			goto out;
		}
		if ((r = flint_b64url_encode(mac_key, n, &key_b64)) < 0) {
			fprintf(stderr, "flintd: eab-add: %s\n", flint_strerror(r));
			goto out;
		}
	} while (key_b64[0] == '-');
	k.hmac_key = mac_key;
	k.hmac_key_len = n;
	k.created = flint_now();
	r = ctx->store->ops->eab_insert(ctx->store, &k);
	if (r == FLINT_ECONFLICT) {
		fprintf(stderr, "flintd: eab-add: an EAB key with kid %s exists already\n", k.kid);
		goto out;
	} else if (r < 0) {
		fprintf(stderr, "flintd: eab-add: %s\n", flint_strerror(r));
		goto out;
	}
	printf("kid=%s\nhmac-key=%s\nalg=%s\n", k.kid, key_b64, k.alg);
	rc = 0;
out:
	OPENSSL_cleanse(mac_key, sizeof(mac_key));
	if (key_b64) {
		OPENSSL_cleanse(key_b64, strlen(key_b64));
		free(key_b64);
	}
	free(kid);
	return rc;
}

/* flintd admin eab-list: one line per key, never the MAC key itself. */
int flintd_admin_eab_list(struct flintd_admin_ctx *ctx, int argc, char **argv)
{
	struct flint_eab_key **keys = NULL;
	size_t n = 0;
	int r;

	(void)argv;
	if (argc > 1) {
		fprintf(stderr, "flintd: eab-list takes no arguments\n");
		return 2;
	}
	if ((r = ctx->store->ops->eab_list(ctx->store, &keys, &n)) < 0) {
		fprintf(stderr, "flintd: eab-list: %s\n", flint_strerror(r));
		return 1;
	}
	for (size_t i = 0; i < n; i++) {
		char created[FLINT_TIME_BUF], used[FLINT_TIME_BUF];

		flint_time_format(keys[i]->created, created);
		if (keys[i]->account_id) {
			flint_time_format(keys[i]->used, used);
			printf("kid=%s alg=%s created=%s account=%s used=%s\n", keys[i]->kid,
			       keys[i]->alg, created, keys[i]->account_id, used);
		} else {
			printf("kid=%s alg=%s created=%s account=unused\n", keys[i]->kid,
			       keys[i]->alg, created);
		}
	}
	flint_eab_key_list_free(keys, n);
	return 0;
}

/* flintd admin eab-remove ID */
int flintd_admin_eab_remove(struct flintd_admin_ctx *ctx, int argc, char **argv)
{
	int r;

	if (argc != 2) {
		fprintf(stderr, "flintd: eab-remove needs exactly one key ID\n");
		return 2;
	}
	r = ctx->store->ops->eab_remove(ctx->store, argv[1]);
	if (r == FLINT_ENOTFOUND) {
		fprintf(stderr, "flintd: eab-remove: no EAB key with kid %s\n", argv[1]);
		return 1;
	} else if (r < 0) {
		fprintf(stderr, "flintd: eab-remove: %s\n", flint_strerror(r));
		return 1;
	}
	printf("removed kid=%s\n", argv[1]);
	return 0;
}
