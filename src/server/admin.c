/* The operator command dispatcher (admin.h): opens the store, finds the
 * command's row and runs it. */
#include "admin.h"

#include <stdio.h>
#include <string.h>

#include "error.h"

static int cmd_help(struct flintd_admin_ctx *ctx, int argc, char **argv);

static const struct flintd_admin_command commands[] = {
	{"help", "", "list the operator commands", cmd_help},
	{"ari-expedite", "(--serial HEX... | --account ID | --all) [--explanation URL]",
	 "move the ARI renewal window of unexpired certificates into the past (renew now)",
	 flintd_admin_ari_expedite},
	{"eab-add", "[--kid ID] [--alg HS256|HS384|HS512]",
	 "create an external account binding key (RFC 8555 §7.3.4); prints kid= and hmac-key=",
	 flintd_admin_eab_add},
	{"eab-list", "", "list the EAB keys: kid, alg, created, the account using it (never the key)",
	 flintd_admin_eab_list},
	{"eab-remove", "ID", "delete an EAB key (an account it created stays)",
	 flintd_admin_eab_remove},
};
#define N_COMMANDS (sizeof(commands) / sizeof(commands[0]))

static void list_commands(FILE *out)
{
	fprintf(out, "usage: flintd [OPTION...] admin COMMAND [ARG...]\n\n"
		     "Operator commands act on the store and data directory the options name.\n\n");
	for (size_t i = 0; i < N_COMMANDS; i++) {
		char left[96];

		snprintf(left, sizeof(left), "%s%s%s", commands[i].name, commands[i].args[0] ? " " : "",
			 commands[i].args);
		fprintf(out, "  %s\n      %s\n", left, commands[i].help);
	}
}

static int cmd_help(struct flintd_admin_ctx *ctx, int argc, char **argv)
{
	(void)ctx;
	(void)argc;
	(void)argv;
	list_commands(stdout);
	return 0;
}

int flintd_admin_run(const struct flintd_config *cfg)
{
	struct flintd_admin_ctx ctx = {.cfg = cfg};
	const struct flintd_admin_command *cmd = NULL;
	int rc;

	if (cfg->admin_argc < 1) {
		list_commands(stderr);
		return 2;
	}
	for (size_t i = 0; i < N_COMMANDS; i++)
		if (strcmp(commands[i].name, cfg->admin_argv[0]) == 0)
			cmd = &commands[i];
	if (!cmd) {
		fprintf(stderr, "flintd: unknown operator command '%s' (see 'flintd admin help')\n",
			cfg->admin_argv[0]);
		return 2;
	}
	if (cmd->run == cmd_help)
		return cmd_help(&ctx, cfg->admin_argc, cfg->admin_argv);
	if ((rc = flint_store_open(cfg->database, &ctx.store)) < 0) {
		char shown[512];

		fprintf(stderr, "flintd: cannot open store %s: %s\n",
			flint_store_dsn_redacted(cfg->database, shown, sizeof(shown)),
			flint_strerror(rc));
		return 1;
	}
	rc = cmd->run(&ctx, cfg->admin_argc, cfg->admin_argv);
	flint_store_close(ctx.store);
	return rc;
}
