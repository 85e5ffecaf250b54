/* `flint authorize`: pre-authorizes names with newAuthz (RFC 8555 §7.4.1)
 * and the issue solvers, so that a later order for them needs no challenge. */
#include <stdlib.h>
#include <string.h>

#include "account.h"
#include "acme.h"
#include "certstore.h"
#include "cmd.h"
#include "error.h"
#include "identifier.h"
#include "order.h"
#include "output.h"
#include "state.h"

int flint_cmd_authorize(const struct flint_opts *o)
{
	struct flint_solver_config cfg = flint_cmd_solver_of(o);
	struct flint_order_params op = {0};
	struct flint_order_failure failure = {0};
	struct flint_state *st = NULL;
	struct flint_acme *a = NULL;
	struct flint_account *acct = NULL;
	char **names = NULL, *err = NULL;
	size_t n = 0;
	int code = FLINT_EXIT_ERROR, r;

	if (o->n_args == 0) {
		flint_error("authorize: name at least one DNS name or IP address");
		return FLINT_EXIT_USAGE;
	}
	if ((o->eab_kid != NULL) != (o->eab_hmac_key != NULL) || (o->eab_alg && !o->eab_kid)) {
		flint_error("external account binding needs both --eab-kid and --eab-hmac-key");
		return FLINT_EXIT_USAGE;
	}
	if (!flint_cmd_any_solver(&cfg)) {
		flint_error("authorize: choose how to answer challenges: --http01-port, --webroot, "
			    "--tlsalpn01-port, --dns-hook or --dns-update");
		return FLINT_EXIT_USAGE;
	}
	if (flint_cmd_normalize_names(o->args, o->n_args, &names, &n) < 0)
		return FLINT_EXIT_USAGE;
	for (size_t i = 0; i < n; i++) {
		if (!strncmp(names[i], "*.", 2)) {
			flint_error("%s: a wildcard cannot be pre-authorized (RFC 8555 §7.4.1); "
				    "issue it directly",
				    names[i]);
			code = FLINT_EXIT_USAGE;
			goto out;
		}
	}
	if (flint_cmd_open_state(o, &st) < 0 || flint_cmd_open_acme(o, NULL, &a) < 0)
		goto out;
	/* before an account is made on the way: nothing to do without newAuthz */
	if (!flint_acme_dir(a)->new_authz) {
		flint_error("%s offers no pre-authorization (its directory has no newAuthz); "
			    "use issue, which authorizes within the order",
			    flint_acme_dir(a)->url);
		goto out;
	}
	if (flint_cmd_account_for(o, a, st, &acct) < 0)
		goto out;
	op.names = (const char *const *)names;
	op.n_names = n;
	op.solver_cfg = &cfg;
	op.timeout = o->timeout;
	op.failure = &failure;
	r = flint_order_authorize(a, &op, &err);
	if (r < 0) {
		if (!failure.identifier)
			failure.identifier = json_pack("{s:s, s:s}", "type",
						       flint_is_ip_address(names[0]) ? "ip" : "dns",
						       "value", names[0]);
		flint_error_ctx(failure.identifier, failure.problem, "%s",
				err ? err : flint_strerror(r));
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		flint_progress("%s: authorized", names[i]);
		if (flint_json())
			flint_json_emit(
			    json_pack("{s:s, s:s}", "name", names[i], "status", "valid"));
	}
	code = FLINT_EXIT_OK;
out:
	free(err);
	flint_account_free(acct);
	flint_acme_free(a);
	flint_state_free(st);
	flint_string_array_free(names, n);
	return code;
}
