/* flintd configuration: one table of options that the file parser, the
 * command-line parser, --help and docs/flintd.conf.5.md all come from. */
#ifndef FLINTD_CONFIG_H
#define FLINTD_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "profile.h"
#include "ratelimit.h"

/* A repeatable option's values, in the order given. */
struct flintd_strlist {
	char **v;
	size_t n;
};

struct flintd_config {
	char *listen;            /* "HOST:PORT" */
	char *data_dir;
	char *database;          /* store DSN; default DATA_DIR/flintd.db */
	char *base_url;          /* default https://LISTEN */
	char *intermediate_key;  /* ecdsa | rsa */
	bool alternate_chain;    /* cross-signed intermediate under a second root */
	bool ocsp;               /* OCSP responder at BASE/ocsp, named in AIA */
	int crl_shards;          /* 1: one CRL */
	char *crl_dir;           /* CRL files written here, or NULL */
	int crl_interval;        /* seconds between CRL publications to crl_dir */
	char *public_http_listen; /* "HOST:PORT" of the plain-HTTP listener for CRLs/OCSP, or NULL */
	char *public_http_url;   /* its external URL (default http://public_http_listen) */
	char *terms_of_service;
	char *website;
	char *caa_identities;    /* comma-separated */
	int caa_reuse;           /* seconds a validation-time CAA check counts at finalize */
	bool require_tos;
	bool external_account_required; /* newAccount needs externalAccountBinding (§7.3.4) */
	int http_threads;
	int validation_workers;
	int max_connections;
	int max_connections_per_ip;
	int max_handshakes;      /* per event loop, before accepting pauses */
	int request_deadline;    /* seconds to receive a whole request */
	char *node_id;           /* holder of this node's claims and leases */
	int job_lease;           /* seconds a claim or lease lasts */
	char *user;              /* run as this user after binding the ports (NULL: as started) */
	char *intermediate_key_uri; /* PKCS#11 URI of the intermediate's key, or NULL */
	char *pkcs11_module;     /* NULL: the engine's default */
	char *pkcs11_pin_file;
	char *log_format;        /* text | json */
	int orders_per_page;
	int max_pending_authzs;  /* per account */
	char *rate_new_orders_spec; /* rate limits, "COUNT/DURATION" or off */
	char *rate_certs_per_domain_spec;
	char *rate_failed_validations_spec;
	char *rate_new_accounts_spec;
	int nonce_lifetime;      /* seconds */
	int order_lifetime;      /* seconds */
	int authz_lifetime;      /* seconds a valid authorization is reusable */
	struct flintd_strlist profile_specs; /* "profile" lines; none: the shipped set */
	char *default_profile;   /* NULL: the first profile */
	/* test-only settings: off by default */
	int http01_port;
	int tlsalpn01_port;
	char *dns_server;
	bool allow_loopback_targets;

	/* "flintd [OPTIONS] admin COMMAND ARGS...": argv after "admin" (borrowed) */
	bool admin;
	int admin_argc;
	char **admin_argv;

	/* derived by flintd_config_finish */
	struct flint_rate rate_new_orders, rate_certs_per_domain, rate_failed_validations,
		rate_new_accounts;
	struct flint_profile *profiles; /* parsed profile_specs or the shipped set */
	size_t n_profiles;
	const struct flint_profile *default_profile_p;
	char *listen_host;
	int listen_port;
};

/* Defaults, then the file named by --config (if any), then the flags.
 * Returns 0, 1 when the caller should exit 0 (--help/--version), or a
 * negative code after printing a one-line message to stderr. */
int flintd_config_load(int argc, char **argv, struct flintd_config *ret);
void flintd_config_clear(struct flintd_config *cfg);

/* The i-th option name (NULL past the end), for the documentation check. */
const char *flintd_config_key(size_t i);

#endif
