/* The verbs of the flint command line (account, issue, renew, revoke): each
 * takes the parsed options and returns the process exit code. */
#ifndef FLINT_CLIENT_CMD_H
#define FLINT_CLIENT_CMD_H

#include <stdbool.h>
#include <stddef.h>

#include "solve/solver.h"

enum {
	FLINT_EXIT_OK = 0,          /* done; for renew: at least one certificate renewed */
	FLINT_EXIT_ERROR = 1,       /* something failed (the message says what) */
	FLINT_EXIT_USAGE = 2,       /* bad command line */
	FLINT_EXIT_NOTHING_DUE = 3, /* renew: no certificate was due */
};

struct flint_opts {
	const char *server;    /* directory URL */
	const char *ca_bundle; /* roots for the server's TLS; NULL: system store */
	const char *state_dir;
	const char **emails;
	size_t n_emails;
	bool agree_tos;
	const char *key_type;         /* account key (account verbs) or certificate key (issue, renew) */
	const char *account_key_type; /* issue/renew: for an account created on the way */
	struct flint_solver_config solver;
	bool solver_set; /* any solver option was given */
	const char *deploy_hook;
	bool force;
	bool with_cert_key;
	int reason; /* -1: none given */
	int timeout; /* seconds, 0: default */
	const char *eab_kid;      /* external account binding (RFC 8555 §7.3.4) */
	const char *eab_hmac_key; /* base64url */
	const char *eab_alg;      /* HS256 (default), HS384, HS512 */
	const char *preferred_chain; /* issuer CN of the wanted chain (issue, renew) */
	const char *profile;         /* draft-ietf-acme-profiles name for newOrder */
	bool json;                   /* --json: machine-readable results on stdout */
	char **args; /* operands after the verb */
	size_t n_args;
};

int flint_cmd_account(const struct flint_opts *o, const char *sub);
int flint_cmd_issue(const struct flint_opts *o);
int flint_cmd_renew(const struct flint_opts *o);
int flint_cmd_revoke(const struct flint_opts *o);
int flint_cmd_authorize(const struct flint_opts *o);

/* Certificate key names: ec256, ec384, rsa2048, rsa3072, rsa4096. */
int flint_cert_key_type(const char *name, int *ret_type, int *ret_bits);

#endif

/* --- shared by the verbs --- */

struct flint_state;
struct flint_acme;

/* Opens (and locks) the state directory. Prints the error. */
int flint_cmd_open_state(const struct flint_opts *o, struct flint_state **ret);
/* A session with server (o->server when NULL). Prints the error. */
int flint_cmd_open_acme(const struct flint_opts *o, const char *server, struct flint_acme **ret);

/* in cmd_cert.c, shared with cmd_authorize.c */
struct flint_account;
/* Whether cfg configures any solver. */
bool flint_cmd_any_solver(const struct flint_solver_config *cfg);
/* o's solver settings with --timeout applied. */
struct flint_solver_config flint_cmd_solver_of(const struct flint_opts *o);
/* Normalised, de-duplicated command-line names; prints why one is refused. */
int flint_cmd_normalize_names(char *const *in, size_t n, char ***ret, size_t *ret_n);
/* The stored account, or one registered with o's --email, --agree-tos, --eab-*. Prints errors. */
int flint_cmd_account_for(const struct flint_opts *o, struct flint_acme *a, struct flint_state *st,
			  struct flint_account **ret);
