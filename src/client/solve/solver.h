/* Challenge solvers of the flint client: one file per way of answering a
 * challenge (RFC 8555 §8, RFC 8737), each a row of a table. The order driver
 * starts the solvers a run needs, presents every challenge it chose, responds,
 * and cleans up, whatever the outcome. Solvers never talk to the ACME server. */
#ifndef FLINT_SOLVER_H
#define FLINT_SOLVER_H

#include <stdbool.h>
#include <stddef.h>

/* One challenge to answer. Strings stay valid from present to cleanup. */
struct flint_challenge_task {
	const char *ident_type;        /* "dns" or "ip" */
	const char *ident_value;       /* without "*." */
	bool wildcard;
	const char *type;              /* "http-01", "dns-01", "dns-account-01", "tls-alpn-01" */
	const char *token;
	const char *key_authorization; /* token "." thumbprint */
	const char *dns_txt_value;     /* base64url(SHA-256(keyauth)): dns-01, dns-account-01 */
	const char *account_url;       /* the account URL (kid): names dns-account-01's record */
	unsigned char digest[32];      /* SHA-256(keyauth): tls-alpn-01 */
};

/* What a run configures; unused fields are zero/NULL. */
struct flint_solver_config {
	int http01_port;          /* standalone http-01 listener (IPv4 and IPv6) */
	const char *http01_bind;  /* optional address; default: all (v4 + v6) */
	const char *webroot;      /* http-01 by files in WEBROOT/.well-known/acme-challenge */
	int tlsalpn01_port;       /* standalone tls-alpn-01 listener (IPv4 and IPv6) */
	const char *tlsalpn01_bind;
	const char *dns_hook;     /* dns-01 hook program (see dnshook.c for its contract) */
	const char *dns_update_server; /* dns-01 by RFC 2136 UPDATE to this primary, "HOST[:PORT]" */
	const char *dns_update_zone;   /* its zone; NULL: the SOA owner found by a query */
	const char *tsig_key;          /* "NAME:ALG:SECRET" (also nsupdate -y's "ALG:NAME:SECRET") */
	const char *tsig_key_file;     /* a key file as for nsupdate -k or Knot (keymgr -t) */
	bool dns_account;              /* the DNS solvers answer dns-account-01, not dns-01 */
	int timeout_seconds;      /* bound on hooks and propagation waits; default 120 */
};

struct flint_solver; /* a running solver instance */

struct flint_solver_type {
	const char *name;           /* "standalone-http", "webroot", "standalone-tls-alpn", "dns-hook",
				     * "dns-update", "dns-account-hook", "dns-account-update" */
	const char *challenge_type; /* the challenge it answers */
	/* Whether this solver is configured in cfg (e.g. http01_port > 0). */
	bool (*configured)(const struct flint_solver_config *cfg);
	/* Whether it can prove this identifier (e.g. http-01 never for wildcards). */
	bool (*applies)(const char *ident_type, bool wildcard);
	/* Starts it (binds listeners...). On failure *ret_err is a one-line malloc'd
	 * message naming what failed (e.g. "cannot listen on [::]:80: Permission denied"). */
	int (*start)(const struct flint_solver_config *cfg, struct flint_solver **ret,
		     char **ret_err);
	/* Makes the challenge answerable; may block (a hook, DNS propagation). */
	int (*present)(struct flint_solver *s, const struct flint_challenge_task *t,
		       char **ret_err);
	/* Removes what present did; best effort, never fails the run. */
	void (*cleanup)(struct flint_solver *s, const struct flint_challenge_task *t);
	/* Stops listeners and frees everything; NULL is a no-op. */
	void (*stop)(struct flint_solver *s);
};

/* The table, NULL-terminated, in order of preference. */
extern const struct flint_solver_type *const flint_solver_types[];

/* Its rows, one file each. */
extern const struct flint_solver_type flint_solver_http01_standalone;   /* http01_standalone.c */
extern const struct flint_solver_type flint_solver_webroot;             /* webroot.c */
extern const struct flint_solver_type flint_solver_tlsalpn01_standalone; /* tlsalpn01_standalone.c */
extern const struct flint_solver_type flint_solver_dns_hook;            /* dnshook.c */
extern const struct flint_solver_type flint_solver_dns_update;          /* dnsupdate.c */
extern const struct flint_solver_type flint_solver_dns_account_hook;    /* dnshook.c */
extern const struct flint_solver_type flint_solver_dns_account_update;  /* dnsupdate.c */

#endif
