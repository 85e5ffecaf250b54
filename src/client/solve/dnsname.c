/* The TXT owner names of the DNS solvers: "_acme-challenge.NAME." for dns-01
 * (RFC 8555 §8.4), the account-labelled name for dns-account-01 (draft-ietf-acme-
 * dns-account-label-02 §3, computed by libflint). */
#include "solve/dnsname.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dnsaccount.h"
#include "error.h"

int flint_solve_dns_name(const struct flint_challenge_task *t, char **ret)
{
	char *name = NULL, *s = NULL;
	size_t n;
	int r;

	if (!t || !t->ident_value || !t->type || !ret)
		return FLINT_EINVAL;
	if (strcmp(t->type, "dns-account-01") == 0) {
		if (!t->account_url)
			return FLINT_EINVAL;
		if ((r = flint_dnsaccount_name(t->account_url, t->ident_value, &name)) < 0)
			return r;
		r = asprintf(&s, "%s.", name) < 0 ? FLINT_ENOMEM : 0;
		free(name);
		if (r < 0)
			return r;
		*ret = s;
		return 0;
	}
	if (strcmp(t->type, "dns-01") != 0)
		return FLINT_EUNSUPPORTED;
	n = strlen(t->ident_value);
	if (n > 0 && t->ident_value[n - 1] == '.')
		n--;
	if (n == 0 || n > FLINT_DNS_NAME_MAX)
		return FLINT_EINVAL;
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)t->ident_value[i];

		/* nothing a hook or a zone file could read as more than one name */
		if (ch <= 0x20 || ch >= 0x7f || ch == '/')
			return FLINT_EINVAL;
	}
	if (asprintf(&s, "_acme-challenge.%.*s.", (int)n, t->ident_value) < 0)
		return FLINT_ENOMEM;
	*ret = s;
	return 0;
}
