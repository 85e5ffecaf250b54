/* Pieces every flint verb shares: the locked state directory and the ACME
 * session, each failing with one printed line. */
#include <stdlib.h>

#include "acme.h"
#include "cmd.h"
#include "error.h"
#include "output.h"
#include "state.h"

int flint_cmd_open_state(const struct flint_opts *o, struct flint_state **ret)
{
	char *dir = o->state_dir ? NULL : flint_state_default_dir(), *err = NULL;
	int r;

	if (!o->state_dir && !dir) {
		flint_error("out of memory");
		return FLINT_ENOMEM;
	}
	r = flint_state_open(o->state_dir ? o->state_dir : dir, ret, &err);
	if (r < 0)
		flint_error("state directory: %s", err ? err : flint_strerror(r));
	free(err);
	free(dir);
	return r;
}

int flint_cmd_open_acme(const struct flint_opts *o, const char *server, struct flint_acme **ret)
{
	struct flint_http_opts hopts = {.ca_bundle = o->ca_bundle};
	char *err = NULL;
	int r;

	if (!server)
		server = o->server;
	if (!server) {
		flint_error("no ACME server: pass --server DIRECTORY-URL");
		return FLINT_EINVAL;
	}
	r = flint_acme_new(server, &hopts, ret, &err);
	if (r < 0)
		flint_error("%s", err ? err : flint_strerror(r));
	free(err);
	return r;
}
