/* The table of challenge validators (RFC 8555 §8): adding a challenge type
 * adds a file and a row here; the order is the order challenges are offered. */
#include "validator.h"

#include <string.h>

const struct flint_validator *const flint_validators[] = {
	&flint_validator_http01,
	&flint_validator_dns01,
	&flint_validator_dnsaccount01,
	&flint_validator_tlsalpn01,
	NULL,
};

const struct flint_validator *flint_validator_find(const char *type)
{
	if (!type)
		return NULL;
	for (size_t i = 0; flint_validators[i]; i++)
		if (strcmp(flint_validators[i]->type, type) == 0)
			return flint_validators[i];
	return NULL;
}
