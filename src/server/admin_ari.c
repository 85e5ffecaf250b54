/* Operator commands for ACME Renewal Information (RFC 9773): moving the
 * suggested renewal window of chosen certificates into the past, so ARI
 * clients renew them at once (incident response before a mass revocation). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin.h"
#include "error.h"
#include "server.h"

/* flintd admin ari-expedite (--serial HEX... | --account ID | --all)
 *                           [--explanation URL] */
int flintd_admin_ari_expedite(struct flintd_admin_ctx *ctx, int argc, char **argv)
{
	const char *account = NULL, *explanation = NULL;
	const char **serials = calloc((size_t)argc + 1, sizeof(*serials));
	size_t n_serials = 0, total = 0;
	bool all = false;
	int64_t now = flint_now();
	int rc = 2;

	if (!serials) {
		fprintf(stderr, "flintd: out of memory\n");
		return 1;
	}
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (!strcmp(a, "--all")) {
			all = true;
			continue;
		}
		if (strcmp(a, "--serial") && strcmp(a, "--account") && strcmp(a, "--explanation")) {
			fprintf(stderr, "flintd: ari-expedite: unknown argument '%s'\n", a);
			goto out;
		}
		if (!v) {
			fprintf(stderr, "flintd: ari-expedite: %s needs a value\n", a);
			goto out;
		}
		i++;
		if (!strcmp(a, "--serial"))
			serials[n_serials++] = v;
		else if (!strcmp(a, "--account"))
			account = v;
		else
			explanation = v;
	}
	if ((n_serials > 0) + (account != NULL) + all != 1) {
		fprintf(stderr, "flintd: ari-expedite: choose the certificates with --serial HEX "
				"(repeatable), --account ID or --all\n");
		goto out;
	}
	if (explanation && strncmp(explanation, "https://", 8) && strncmp(explanation, "http://", 7)) {
		fprintf(stderr, "flintd: ari-expedite: --explanation must be an http(s) URL\n");
		goto out;
	}
	rc = 1;
	/* a window that closed an hour ago: every ARI client renews now */
	for (size_t i = 0; i < (n_serials ? n_serials : 1); i++) {
		size_t n = 0;
		int r = ctx->store->ops->certs_set_ari_window(ctx->store, n_serials ? serials[i] : NULL,
							     account, now, now - 7200, now - 3600,
							     explanation, &n);

		if (r < 0) {
			fprintf(stderr, "flintd: ari-expedite: %s\n", flint_strerror(r));
			goto out;
		}
		if (n_serials && n == 0)
			fprintf(stderr, "flintd: ari-expedite: no unexpired certificate has serial %s\n",
				serials[i]);
		total += n;
	}
	printf("%zu certificate%s: renewal window moved into the past (ARI clients renew now)\n",
	       total, total == 1 ? "" : "s");
	rc = n_serials && total < n_serials ? 1 : 0;
out:
	free(serials);
	return rc;
}
