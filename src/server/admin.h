/* Operator commands: "flintd [OPTIONS] admin COMMAND [ARGS]" runs one command
 * against the configured store and data directory, then exits. One file per
 * command family (admin_*.c), one row per command in admin.c's table. */
#ifndef FLINTD_ADMIN_H
#define FLINTD_ADMIN_H

#include "config.h"
#include "store/store.h"

struct flintd_admin_ctx {
	const struct flintd_config *cfg;
	struct flint_store *store; /* opened (and migrated) before the command runs */
};

struct flintd_admin_command {
	const char *name;
	const char *args; /* usage synopsis of the arguments */
	const char *help; /* one line */
	/* argv[0] is the command name. Returns the exit code: 0 done, 1 failed
	 * (a one-line message printed), 2 usage error. */
	int (*run)(struct flintd_admin_ctx *ctx, int argc, char **argv);
};

/* The commands, one family per file. */
int flintd_admin_ari_expedite(struct flintd_admin_ctx *ctx, int argc, char **argv); /* admin_ari.c */
/* admin_eab.c: external account binding keys */
int flintd_admin_eab_add(struct flintd_admin_ctx *ctx, int argc, char **argv);
int flintd_admin_eab_list(struct flintd_admin_ctx *ctx, int argc, char **argv);
int flintd_admin_eab_remove(struct flintd_admin_ctx *ctx, int argc, char **argv);

/* Runs cfg->admin_argv; returns the process exit code. */
int flintd_admin_run(const struct flintd_config *cfg);

#endif
