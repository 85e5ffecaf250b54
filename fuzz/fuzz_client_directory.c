/* libFuzzer driver for the ACME directory (RFC 8555 §7.1.1) as the flint
 * client reads it: the body bytes into struct flint_acme_directory, then the
 * profile check (draft-ietf-acme-profiles) that consults it. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "acme.h"
#include "error.h"

#define DIR_URL "https://ca.example/dir"

static void check_url(const char *s, bool required)
{
	if (required ? !s || !*s : s && !*s)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct flint_acme_directory zero = {0};
	struct flint_acme_directory d;
	char *err = NULL;
	int r;

	memset(&d, 0, sizeof(d)); /* padding too: it is compared below */
	r = flint_acme_directory_parse(DIR_URL, (const char *)data, size, &d, &err);
	if (r != 0) {
		/* untouched on failure, and always a reason but for lack of memory */
		if (memcmp(&d, &zero, sizeof(d)) != 0 || (!err && r != FLINT_ENOMEM))
			abort();
		free(err);
		return 0;
	}
	if (err || !d.url || strcmp(d.url, DIR_URL) != 0)
		abort();
	check_url(d.new_nonce, true);
	check_url(d.new_account, true);
	check_url(d.new_order, true);
	check_url(d.revoke_cert, false);
	check_url(d.key_change, false);
	check_url(d.renewal_info, false);
	check_url(d.new_authz, false);
	check_url(d.terms_of_service, false);
	check_url(d.website, false);
	if (d.profiles && !json_is_object(d.profiles))
		abort();
	/* the profile check reads whatever the server put in meta.profiles */
	r = flint_acme_profile_check(d.profiles, d.url, "classic", &err);
	if (r != 0 && r != FLINT_EUNSUPPORTED && r != FLINT_ENOMEM)
		abort();
	free(err);
	flint_acme_directory_clear(&d);
	if (memcmp(&d, &zero, sizeof(d)) != 0)
		abort();
	flint_acme_directory_clear(&d); /* cleared twice: no double free */
	return 0;
}
